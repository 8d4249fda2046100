"""Pre-training over virtual cameras and few-shot customization (LED's two phases).

- :func:`pretrain`: the generic trainer (:class:`tfraw.train.Trainer`: checkpoints, resume,
  strategies) on :func:`~tfraw.stages.denoise.data.make_dataset`, whose batches carry a
  ``camera_index``, so :class:`DenoiseModel` routes every sample through its virtual camera's
  alignments; at the end the unfolded model is saved for customization and the folded one for
  deployment (the deployed alignment of a pre-trained model is the camera average).
- :func:`finetune`: LED Sec. 3.3 -- phase 1 trains only the (new) deployed alignment of every
  block, phase 2 adds the zero-initialized parallel 3x3 branch (alignment still trainable); all
  other weights stay frozen. The result is folded (:meth:`DenoiseModel.deploy`).
- :func:`finetune_main` / :func:`pretrain_main`: the argv entry points behind
  ``tfraw-train denoise --finetune ...`` and ``tfraw-train denoise --config ...``.

Customization runs a small ``tf.GradientTape`` loop of its own: each phase trains a different
subset of variables, which the generic trainer does not do.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.stages.denoise.config import DenoiseConfig
from tfraw.stages.denoise.model import DenoiseModel, make_loss, prepare_training_model

__all__ = [
    "FinetuneSettings",
    "finetune",
    "finetune_main",
    "load_denoiser",
    "load_train_yaml",
    "pretrain",
    "pretrain_main",
]


#: Where customization's alignment starts (:attr:`FinetuneSettings.start`).
FINETUNE_STARTS = ("average", "deployed")


@dataclasses.dataclass(frozen=True)
class FinetuneSettings:
    """Few-shot schedule: ``align_steps`` of alignment only, then ``branch_steps`` with the
    branch added (LED Sec. 3.3). Defaults sized for minutes on a GPU."""

    align_steps: int = 500
    branch_steps: int = 1000
    align_learning_rate: float = 1e-3
    branch_learning_rate: float = 1e-4
    patch_size: int = 252
    batch_size: int = 4
    seed: int = 0
    #: Where the new alignment starts: the ``deployed`` one (the path the pre-trained model
    #: ships with, which ``train_path`` ``generic``/``mixed`` fitted to the camera mixture; the
    #: same as the average for a model pre-trained on the routed path only), or the
    #: ``average`` of the camera alignments (LED's). Deployed is the default: on the unseen
    #: Canon 700D it customized the shipped model to 31.62 dB against 31.56 from the average,
    #: and a second mixed cycle to 31.52 against 31.27 (BENCHMARKS.md).
    start: str = "deployed"

    def __post_init__(self) -> None:
        if self.start not in FINETUNE_STARTS:
            raise InputError(
                f"finetune: start must be one of {FINETUNE_STARTS}, got {self.start!r}"
            )
        if int(self.align_steps) < 0 or int(self.branch_steps) < 0:
            raise InputError("finetune: align_steps and branch_steps must be >= 0")
        if int(self.align_steps) + int(self.branch_steps) < 1:
            raise InputError("finetune: align_steps + branch_steps must be >= 1")


def load_train_yaml(path: str | Path):
    """Reads a training YAML in ``tfraw-train``'s format: ``stage`` (``denoise_led``),
    ``config`` (:class:`DenoiseConfig`), ``train`` (:class:`tfraw.train.TrainConfig`) and
    ``export`` (name, version). Returns ``(config, train_config, document)``."""
    import yaml

    from tfraw.train import TrainConfig

    path = Path(path)
    if not path.is_file():
        raise InputError(f"training config {path} does not exist")
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = sorted(set(document) - {"stage", "config", "train", "export"})
    if unknown:
        raise InputError(
            f"{path}: unknown top-level keys {unknown}; known: stage, config, train, export"
        )
    stage = str(document.get("stage", "denoise_led"))
    if not stage.startswith("denoise"):
        raise InputError(f"{path}: stage must be a denoise stage, got {stage!r}")
    config = DenoiseConfig.from_dict(document.get("config") or {})
    train = TrainConfig.from_dict(document.get("train") or {})
    return config, train, document


def load_denoiser(path: str | Path) -> DenoiseModel:
    """Loads a ``.keras`` denoiser, or an export folder: its ``assets/unfolded.keras`` (the
    reparameterized pre-trained model, which customization needs and which deploys to the
    same network) when present, else ``assets/model.keras`` (folded)."""
    from tfraw.train import find_keras_model

    try:
        candidate = find_keras_model(path)
    except InputError:
        raise InputError(
            f"no denoise model at {path} (expected a .keras file or an export folder)"
        ) from None
    model = keras.saving.load_model(candidate, compile=False)
    if not isinstance(model, DenoiseModel):
        raise InputError(f"{candidate} holds a {type(model).__name__}, not a DenoiseModel")
    return model


def _make_step(model_fn: Callable, variables: Sequence, optimizer, loss: Callable) -> Callable:
    optimizer.build(list(variables))

    @tf.function(reduce_retracing=True)
    def step(inputs, target):
        with tf.GradientTape() as tape:
            prediction = model_fn(inputs, training=True)
            value = tf.reduce_mean(loss(target, prediction))
        grads = tape.gradient(value, variables)
        optimizer.apply_gradients(zip(grads, variables, strict=True))
        return value

    return step


def pretrain(
    config: str | Path,
    run_dir: str | Path,
    resume: bool = False,
    until: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> DenoiseModel:
    """Pre-trains over virtual cameras with :class:`tfraw.train.Trainer`.

    Args:
        config: training YAML (``pipelines/train/denoise_pretrain.yaml``).
        run_dir: run folder (checkpoints, TensorBoard, ``config.yaml``, ``run.json``) that also
            receives ``unfolded.keras`` (for customization) and ``deployed.keras`` (folded).
        resume: continue the run folder's latest checkpoint.
        until: stop at this step (default: ``train.steps``).
        overrides: ``{"config": {...}, "train": {...}}`` values replacing the YAML's.

    Returns:
        the trained unfolded model.
    """
    from tfraw.stages.denoise.data import make_dataset
    from tfraw.train import TrainConfig, Trainer, float32_model

    stage_config, train, document = load_train_yaml(config)
    overrides = overrides or {}
    if overrides.get("config"):
        stage_config = DenoiseConfig.from_dict({**stage_config.to_dict(), **overrides["config"]})
    if overrides.get("train"):
        train = TrainConfig.from_dict({**train.to_dict(), **overrides["train"]})
    if not stage_config.reparam:
        raise InputError("pretrain needs reparam=True (camera-routed blocks)")
    resolved = {**document, "config": stage_config.to_dict(), "train": train.to_dict()}

    def build_model() -> DenoiseModel:
        return prepare_training_model(DenoiseModel.from_stage_config(stage_config))

    trainer = Trainer(
        build_model=build_model,
        loss_fn=make_loss(stage_config),
        dataset_fn=lambda start: make_dataset(stage_config, "train", train.seed, start=start),
        config=train,
        run_dir=run_dir,
        resume=resume,
        resolved_config=resolved,
        val_dataset_fn=(lambda start: make_dataset(stage_config, "val", train.seed))
        if train.val_every and stage_config.val_images
        else None,
    )
    trainer.fit(until=until)
    model = float32_model(trainer.model, build_model)  # a mixed_bfloat16 run saves float32
    run_dir = Path(run_dir)
    model.save(run_dir / "unfolded.keras")
    model.deploy().save(run_dir / "deployed.keras")
    return model


def finetune(
    model: DenoiseModel,
    pairs: Sequence,
    settings: FinetuneSettings | None = None,
    log: Callable[[str], None] = print,
) -> tuple[DenoiseModel, dict[str, list[float]]]:
    """LED customization of a pre-trained (unfolded) model on few-shot pairs, in place.

    Phase 1 starts the alignment at the pre-trained deployed one (``settings.start:
    average``: the camera average, LED's initialization of the new alignment) and trains it
    alone; phase 2 resets the branch to zero and trains branch +
    alignment. All other weights stay frozen. Returns the model and the loss history per
    phase; fold with ``model.deploy()``.
    """
    from tfraw.stages.denoise.data import make_pair_dataset

    settings = settings or FinetuneSettings()
    if not model.stage_config().reparam:
        raise InputError("finetune needs an unfolded model (reparam=True), got a folded one")
    if settings.start == "average":
        model.reset_alignment()
    for layer in model.rep_layers():
        layer.reset_branch()
    groups = model.variable_groups()
    for variable in groups["alignment"] + groups["branch"]:
        variable.trainable = True
    data = iter(make_pair_dataset(pairs, settings.patch_size, settings.batch_size, settings.seed))
    history: dict[str, list[float]] = {"alignment": [], "branch": []}
    phases = (
        ("alignment", settings.align_steps, groups["alignment"], settings.align_learning_rate),
        ("branch", settings.branch_steps, groups["alignment"] + groups["branch"],
         settings.branch_learning_rate),
    )  # fmt: skip
    for name, steps, variables, rate in phases:
        if steps <= 0:
            continue
        step_fn = _make_step(
            model,
            variables,
            keras.optimizers.Adam(learning_rate=rate),
            make_loss(model.stage_config()),
        )
        for index in range(int(steps)):
            inputs, target = next(data)
            history[name].append(float(step_fn(inputs, target)))
            if (index + 1) % max(1, steps // 5) == 0:
                log(f"{name} {index + 1}/{steps}: loss {np.mean(history[name][-20:]):.5f}")
    return model, history


def _set_threads(threads: int | None) -> None:
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))


def pretrain_main(argv: list[str] | None = None) -> int:
    """``tfraw-train denoise --config FILE [--run-dir DIR] [--resume] [--steps N] [--threads N]``
    (the standalone form; registered in ``STAGES`` the generic ``tfraw-train`` runs the same)."""
    parser = argparse.ArgumentParser(prog="tfraw-train denoise", description=pretrain.__doc__)
    parser.add_argument("--config", required=True, help="pipelines/train/denoise_*.yaml")
    parser.add_argument("--run-dir", default="runs/denoise_pretrain", help="run folder")
    parser.add_argument("--resume", action="store_true", help="continue the latest checkpoint")
    parser.add_argument("--steps", type=int, help="override train.steps")
    parser.add_argument("--threads", type=int, help="TF intra/inter-op threads (CPU sharing)")
    args = parser.parse_args(argv)
    train = {}
    if args.steps:
        train["steps"] = args.steps
    if args.threads:
        train.update(intra_op_threads=args.threads, inter_op_threads=args.threads)
    from tfraw.errors import TfrawError

    try:
        pretrain(args.config, args.run_dir, resume=args.resume, overrides={"train": train})
    except TfrawError as err:
        print(f"tfraw-train denoise: error: {err}", file=sys.stderr)
        return 2
    return 0


def finetune_main(argv: list[str] | None = None) -> int:
    """``tfraw-train denoise --finetune --pretrained PATH --dataroot DIR --data-pair-list FILE``.

    Writes ``<out>/customized.keras`` (folded), ``<out>/unfolded.keras`` and
    ``<out>/finetune.json`` (pairs, ratios, ISOs, loss history).
    """
    parser = argparse.ArgumentParser(
        prog="tfraw-train denoise --finetune", description=finetune_main.__doc__
    )
    parser.add_argument("--finetune", action="store_true", help="(the mode flag itself)")
    parser.add_argument("--pretrained", required=True, help="unfolded pre-trained .keras model")
    parser.add_argument("--dataroot", required=True, help="folder of the raw pairs")
    parser.add_argument("--data-pair-list", required=True, help="text file, 'noisy clean' per line")
    parser.add_argument("--out", default="runs/denoise_custom", help="output folder")
    parser.add_argument("--align-steps", type=int, default=FinetuneSettings.align_steps)
    parser.add_argument("--branch-steps", type=int, default=FinetuneSettings.branch_steps)
    parser.add_argument("--patch-size", type=int, default=FinetuneSettings.patch_size)
    parser.add_argument("--batch-size", type=int, default=FinetuneSettings.batch_size)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start",
        choices=FINETUNE_STARTS,
        default=FinetuneSettings.start,
        help="where the new alignment starts: the deployed one (default) or the camera average "
        "(LED's)",
    )
    parser.add_argument("--threads", type=int, help="TF intra/inter-op threads (CPU sharing)")
    args = parser.parse_args(argv)
    from tfraw.errors import TfrawError
    from tfraw.stages.denoise.data import read_pair_list

    _set_threads(args.threads)
    try:
        pairs = read_pair_list(args.dataroot, args.data_pair_list)
        model = load_denoiser(args.pretrained)
        settings = FinetuneSettings(
            align_steps=args.align_steps,
            branch_steps=args.branch_steps,
            patch_size=args.patch_size,
            batch_size=args.batch_size,
            seed=args.seed,
            start=args.start,
        )
        model, history = finetune(model, pairs, settings)
    except TfrawError as err:
        print(f"tfraw-train denoise: error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "unfolded.keras")
    model.deploy().save(out / "customized.keras")
    summary = {
        "pretrained": str(args.pretrained),
        "pairs": [
            {"noisy": p.noisy_path, "clean": p.clean_path, "ratio": p.ratio, "iso": p.iso}
            for p in pairs
        ],
        "settings": dataclasses.asdict(settings),
        "loss": history,
    }
    (out / "finetune.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"wrote {out / 'customized.keras'} (folded) and {out / 'unfolded.keras'}")
    return 0
