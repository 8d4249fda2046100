"""Contract tests of every registered stage (parametrized over STAGES)."""

import inspect

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfraw.inference.chain import Chain, Pipeline, StageEntry
from tfraw.inference.tiling import TilingConfig
from tfraw.stages import STAGES

NAMES = sorted(STAGES)


def _inputs(spec, batch=1, height=20, width=24, seed=0):
    return {k: tf.constant(v) for k, v in spec.example_inputs(batch, height, width, seed).items()}


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    spec = STAGES[name]
    config = spec.make_config()
    assert spec.config_class.from_json(config.to_json()) == config
    assert spec.config_class.from_yaml(config.to_yaml()) == config
    assert spec.config_class.from_dict(config.to_dict()) == config
    assert config.receptive_field >= 0


@pytest.mark.parametrize("name", NAMES)
def test_unknown_config_key_is_named(name):
    with pytest.raises(ValueError, match="no_such_field"):
        STAGES[name].config_class.from_dict({"no_such_field": 1})


@pytest.mark.parametrize("name", NAMES)
def test_every_init_argument_in_get_config(name):
    model = STAGES[name].build()
    params = inspect.signature(type(model).__init__).parameters
    args = [p for p in params if p not in ("self", "kwargs")]
    config = model.get_config()
    assert set(args) <= set(config), f"missing from get_config: {set(args) - set(config)}"
    rebuilt = type(model).from_config(config)
    assert rebuilt.get_config() == config
    assert model.stage_config() == STAGES[name].make_config()


@pytest.mark.parametrize("name", NAMES)
def test_dynamic_shapes_and_kinds(name):
    spec = STAGES[name]
    model = spec.build()
    for height, width in ((12, 18), (30, 20)):
        out = model(_inputs(spec, 2, height, width))
        assert out.shape == (2, height, width, 3 if spec.output_kind != "mosaic" else 1)
        assert np.all(np.isfinite(out.numpy()))
    # The spec names what the chain passes; a model reads those or a subset (a blind denoiser
    # ignores ``ratio``).
    assert set(model.input) <= set(spec.input_names)
    assert spec.image_key in model.input


@pytest.mark.parametrize("name", NAMES)
def test_keras_save_load_equality(name, tmp_path):
    spec = STAGES[name]
    model = spec.build()
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = _inputs(spec, 1, 16, 20)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded.get_config() == model.get_config()


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
@pytest.mark.parametrize("name", NAMES)
def test_one_training_step(name):
    spec = STAGES[name]
    model = spec.build()
    model.compile(optimizer="adam", loss=spec.loss)
    x = spec.example_inputs(2, 16, 16)
    y = np.zeros((2, 16, 16, 3), np.float32)
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    # Weightless stages still pass finite gradients to their image input.
    inputs = _inputs(spec, 1, 16, 16)
    with tf.GradientTape() as tape:
        tape.watch(inputs[spec.image_key])
        value = tf.reduce_mean(model(inputs))
    grad = tape.gradient(value, inputs[spec.image_key])
    assert grad is not None and np.all(np.isfinite(grad.numpy()))


def _single_stage_chain(name: str, tile: int, overlap: int) -> Chain:
    """The stage alone in a chain, preceded by what its input kind needs."""
    spec = STAGES[name]
    before = {
        "mosaic": [],
        "linear_camera_rgb": ["demosaic_bilinear"],
        "linear_srgb": ["demosaic_bilinear", "color_matrix"],
    }[spec.input_kind]
    stages = tuple(StageEntry(s) for s in (*before, name))
    return Chain(Pipeline(name=f"test_{name}", stages=stages, tiling=TilingConfig(tile, overlap)))


@pytest.mark.parametrize("name", NAMES)
def test_tiled_equals_untiled(name):
    chain = _single_stage_chain(name, tile=16, overlap=4)
    assert chain.tiling.margin >= STAGES[name].receptive_field()
    cfa = "XTRANS" if STAGES[name].cfa in ("any", "xtrans") else "GRBG"
    x = chain.example_inputs(1, 45, 38, cfa=cfa)
    tiled = chain.tiled(x)["output"].numpy()
    untiled = chain.untiled(x)["output"].numpy()
    np.testing.assert_allclose(tiled, untiled, atol=1e-4, rtol=0)
