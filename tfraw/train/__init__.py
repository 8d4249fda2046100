"""Strategy-aware training: configs, checkpoints/resume, TensorBoard, progress.

Importing this package imports TensorFlow and Keras.
"""

from tfraw.train.trainer import (
    TrainConfig,
    Trainer,
    WarmupCosine,
    describe_hardware,
    dtype_policy,
    find_keras_model,
    float32_model,
    make_strategy,
    restore_model_weights,
    restore_run_checkpoint,
)

__all__ = [
    "TrainConfig",
    "Trainer",
    "WarmupCosine",
    "describe_hardware",
    "dtype_policy",
    "find_keras_model",
    "float32_model",
    "make_strategy",
    "restore_model_weights",
    "restore_run_checkpoint",
]
