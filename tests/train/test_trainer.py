"""The custom training loop: resume continues exactly, bookkeeping files, strategies."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml

from tfraw.errors import InputError
from tfraw.train import TrainConfig, Trainer


def _build():
    inputs = keras.Input((8, 8, 2))
    return keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", name="conv")(inputs))


def _dataset(start):
    # Batch i is a pure function of i, as the tfraw data recipes are.
    def batch(i):
        x = tf.random.stateless_uniform((4, 8, 8, 2), seed=tf.stack([i, 0]))
        return x, tf.concat([x, x[..., :1]], axis=-1) * 0.5

    return tf.data.Dataset.range(start, 10**9).map(batch)


def _loss(y, p):
    return tf.reduce_mean(tf.abs(y - p), axis=(1, 2, 3))


def _trainer(run_dir, steps=4, resume=False, **kw):
    config = TrainConfig(
        steps=steps, learning_rate=0.01, warmup_steps=1, progress=False, log_every=1, **kw
    )
    return Trainer(
        _build, _loss, _dataset, config, run_dir, resume=resume, resolved_config={"stage": "toy"}
    )


def test_resume_continues_like_an_uninterrupted_run(tmp_path):
    straight = _trainer(tmp_path / "straight")
    straight.fit()
    first = _trainer(tmp_path / "split")
    record = first.fit(until=2)
    assert record["steps"] == 2
    with pytest.raises(InputError, match="resume"):
        _trainer(tmp_path / "split")
    second = _trainer(tmp_path / "split", resume=True)
    assert int(second.step.numpy()) == 2 and second.resumed_from.endswith("ckpt-2")
    record = second.fit()
    assert record["steps"] == 4 and len(record["sittings"]) == 2
    for a, b in zip(straight.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    run = json.loads((tmp_path / "split" / "run.json").read_text())
    assert run["wall_seconds"] > 0 and "CPU" in run["hardware"]["description"]
    assert yaml.safe_load((tmp_path / "split" / "config.yaml").read_text())["train"]["steps"] == 4
    assert list((tmp_path / "split" / "tb").iterdir())  # TensorBoard events


def test_mirrored_strategy_step(tmp_path):
    trainer = _trainer(tmp_path / "mirrored", steps=2, strategy="mirrored")
    assert isinstance(trainer.strategy, tf.distribute.MirroredStrategy)
    assert trainer.fit()["steps"] == 2


def test_config_validation():
    with pytest.raises(InputError, match="strategy"):
        TrainConfig(strategy="tpu")
    with pytest.raises(InputError, match="unknown"):
        TrainConfig.from_dict({"stepz": 3})
    assert TrainConfig.from_dict({"learning_rate": 1}).learning_rate == 1.0


def test_init_from_warm_starts_and_records_the_source(tmp_path):
    source = _trainer(tmp_path / "first")
    source.fit()
    export = tmp_path / "export" / "toy" / "1"
    (export / "assets").mkdir(parents=True)
    source.model.save(export / "assets" / "model.keras")
    (export / "assets" / "metadata.json").write_text(json.dumps({"steps": 4, "wall_seconds": 2.5}))

    warm = _trainer(tmp_path / "second", init_from=str(export))
    for a, b in zip(source.model.get_weights(), warm.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    record = json.loads((tmp_path / "second" / "init_from.json").read_text())
    assert record["steps"] == 4 and record["keras_file"].endswith("model.keras")
    cold = _trainer(tmp_path / "third")
    assert not np.array_equal(cold.model.get_weights()[0], source.model.get_weights()[0])
    with pytest.raises(InputError, match="no model"):
        _trainer(tmp_path / "fourth", init_from=str(tmp_path / "missing"))
    assert not (tmp_path / "fourth").exists()  # a refused warm start leaves no run folder
    other = tmp_path / "other.keras"
    inputs = keras.Input((8, 8, 2))
    keras.Model(inputs, keras.layers.Conv2D(5, 1)(inputs)).save(other)
    with pytest.raises(InputError, match="does not fit"):
        _trainer(tmp_path / "fifth", init_from=str(other))
    assert not (tmp_path / "fifth").exists()


def test_mixed_bfloat16_precision_trains_with_float32_variables(tmp_path):
    with pytest.raises(InputError, match="precision"):
        TrainConfig(precision="float16")
    trainer = _trainer(tmp_path / "bf16", steps=3, precision="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"  # only the model was built under it
    conv = trainer.model.get_layer("conv")
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"
    before = [w.copy() for w in trainer.model.get_weights()]
    record = trainer.fit()
    assert record["steps"] == 3 and np.isfinite(record["last_loss"])
    after = trainer.model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    # Resuming may switch the precision: the checkpoint holds float32 variables either way.
    resumed = _trainer(tmp_path / "bf16", steps=4, resume=True)
    assert resumed.model.get_layer("conv").compute_dtype == "float32"
    for a, b in zip(after, resumed.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
