"""The LED-style denoise stage: reparameterization, routing, data recipe, few-shot pairs."""

import dataclasses
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.io.dng import write_dng
from tfraw.isp.cfa import as_pattern, cfa_masks
from tfraw.isp.noise import load_profile
from tfraw.stages.denoise import (
    DENOISE_SPEC,
    DenoiseConfig,
    DenoiseModel,
    finetune_main,
    make_dataset,
    make_virtual_cameras,
    pretrain,
    read_pair_list,
)
from tfraw.stages.denoise.data import check_iso_groups, sample_virtual_camera_params
from tfraw.stages.denoise.model import (
    apply_denoiser,
    graph_flops,
    parameter_count,
    prepare_training_model,
)

TINY = dict(base_channels=4, depth=1, num_cameras=3)


def _inputs(pattern="RGGB", batch=2, height=20, width=26, seed=0):
    rng = np.random.default_rng(seed)
    masks = cfa_masks(pattern, height, width)[tf.newaxis]
    return {
        "mosaic": tf.constant(rng.uniform(0, 1, (batch, height, width, 1)).astype(np.float32)),
        "cfa_masks": tf.tile(masks, [batch, 1, 1, 1]),
    }


def _perturb(model, seed=1):
    """Random alignments and branch, so folding is tested on non-trivial values."""
    rng = np.random.default_rng(seed)
    for layer in model.rep_layers():
        for v in layer.camera_variables + layer.alignment_variables + layer.branch_variables:
            v.assign(v.numpy() + rng.normal(0, 0.2, v.shape).astype(np.float32))
    return model


def test_config_validation_and_round_trip():
    config = DenoiseConfig(**TINY)
    assert DenoiseConfig.from_yaml(config.to_yaml()) == config
    assert config.tile_multiple == 4 and config.receptive_field > 0
    for bad in ({"input_mode": "packed"}, {"patch_size": 50}, {"ratio_range": (0, 10)},
                {"cfa": "quad"}, {"depth": -1}, {"loss": "mse"}):  # fmt: skip
        with pytest.raises(InputError):
            DenoiseConfig(**bad)


def test_log_l1_loss_weighs_every_sample_by_its_own_error():
    from tfraw.cli.train import _stage_loss
    from tfraw.stages.base import l1_loss
    from tfraw.stages.denoise.model import make_loss

    assert make_loss(DenoiseConfig()) is l1_loss
    log_l1 = make_loss(DenoiseConfig(loss="log_l1"))
    assert _stage_loss(DENOISE_SPEC, DenoiseConfig(loss="log_l1")) is log_l1  # tfraw-train's pick
    target = tf.zeros((2, 6, 6, 1))
    # sample 0 is off by 1e-3 everywhere (a x1 crop), sample 1 by 1e-1 (a x100 crop)
    prediction = tf.Variable(np.concatenate([np.full((1, 6, 6, 1), 1e-3),
                                             np.full((1, 6, 6, 1), 1e-1)]).astype(np.float32))  # fmt: skip
    per_example = log_l1(target, prediction).numpy()
    np.testing.assert_allclose(per_example, np.log([1e-3 + 1e-6, 1e-1 + 1e-6]), rtol=1e-5)
    with tf.GradientTape(persistent=True) as tape:
        weighted = tf.reduce_mean(log_l1(target, prediction))
        plain = tf.reduce_mean(l1_loss(target, prediction))
    g_log, g_l1 = (
        tape.gradient(weighted, prediction).numpy(),
        tape.gradient(plain, prediction).numpy(),
    )
    # L1 pushes both samples equally; log L1 pushes the nearly clean one ~100x harder
    np.testing.assert_allclose(g_l1[0], g_l1[1])
    np.testing.assert_allclose(g_log[0] / g_log[1], 1e-1 / 1e-3, rtol=1e-2)
    # the loss is part of the model's config (customization reads it back)
    model = DenoiseModel(**TINY, loss="log_l1")
    assert DenoiseModel.from_config(model.get_config()).stage_config().loss == "log_l1"


def test_l2_loss_is_the_per_example_mse_and_its_minimizer_is_the_mean():
    from tfraw.cli.train import _stage_loss
    from tfraw.stages.denoise.model import l2_loss, make_loss

    assert make_loss(DenoiseConfig(loss="l2")) is l2_loss
    assert _stage_loss(DENOISE_SPEC, DenoiseConfig(loss="l2")) is l2_loss
    target = tf.constant(np.arange(2 * 3 * 3).reshape(2, 3, 3, 1) / 10.0, tf.float32)
    prediction = target + tf.constant([0.1, -0.3])[:, None, None, None]
    np.testing.assert_allclose(l2_loss(target, prediction).numpy(), [0.01, 0.09], rtol=1e-5)
    # one unknown offset per image, drawn from a skewed prior (mostly 0, sometimes 4): the
    # constant that minimizes L2 is the prior's mean (1.0), L1's its median (0.0)
    offsets = tf.constant([0.0, 0.0, 0.0, 4.0])[:, None, None, None]
    clean = tf.zeros((4, 2, 2, 1))
    for fn, expected in ((l2_loss, 1.0), (make_loss(DenoiseConfig()), 0.0)):
        guesses = np.linspace(-1.0, 5.0, 61)
        costs = [float(tf.reduce_mean(fn(clean + offsets, clean + g))) for g in guesses]
        assert abs(guesses[int(np.argmin(costs))] - expected) < 0.051
    model = DenoiseModel(**TINY, loss="l2")
    assert DenoiseModel.from_config(model.get_config()).stage_config().loss == "l2"


@pytest.mark.parametrize("mode", ["space_to_depth", "full"])
@pytest.mark.parametrize("pattern", ["GBRG", "XTRANS"])
def test_folded_equals_unfolded(mode, pattern):
    model = _perturb(DenoiseModel(input_mode=mode, **TINY))
    deployed = model.deploy()
    x = _inputs(pattern, height=21, width=30)
    diff = np.abs(deployed(x).numpy() - model(x).numpy()).max()
    assert diff < 1e-5, diff
    assert not deployed.stage_config().reparam
    assert all(not layer.reparam for layer in deployed.rep_layers())


def test_deployed_has_the_flops_and_parameters_of_the_plain_unet():
    model = _perturb(DenoiseModel(**TINY))
    plain = DenoiseModel(**{**TINY, "reparam": False})
    deployed = model.deploy()
    assert graph_flops(deployed, 32, 32) == graph_flops(plain, 32, 32)
    assert graph_flops(model, 32, 32) > graph_flops(plain, 32, 32)
    assert parameter_count(deployed) == parameter_count(plain)
    assert deployed.conv_macs(32, 32) == plain.conv_macs(32, 32)


def test_camera_routing_and_branch():
    model = _perturb(DenoiseModel(**TINY))
    routed = model.routed_model()
    x = _inputs(batch=2)
    same = routed({**x, "camera_index": tf.constant([1, 1])}).numpy()
    mixed = routed({**x, "camera_index": tf.constant([1, 2])}).numpy()
    np.testing.assert_allclose(same[0], mixed[0], atol=1e-6)  # per-sample routing
    assert np.abs(same[1] - mixed[1]).max() > 1e-4
    # a batch with camera_index is routed by the model itself (the generic trainer's path)
    np.testing.assert_allclose(
        model({**x, "camera_index": tf.constant([1, 2]), "ratio": tf.ones(2)}).numpy(), mixed
    )
    # deployed alignment = camera mean + offset; reset -> the mean (a pre-trained model)
    model.reset_alignment()
    layer = model.rep_layers()[0]
    scale, _ = layer.deployed_alignment()
    np.testing.assert_allclose(scale.numpy(), layer.camera_scale.numpy().mean(0), rtol=1e-6)
    layer.reset_branch()
    assert not np.any(layer.branch_kernel.numpy())


def test_receptive_field_is_conservative():
    model = _perturb(DenoiseModel(**TINY))
    config = model.stage_config()
    size, centre = 64, 32
    x = _inputs("RGGB", batch=1, height=size, width=size)
    base = model(x).numpy()[0, :, :, 0]
    bumped = x["mosaic"].numpy().copy()
    bumped[0, centre, centre, 0] += 5.0
    changed = model({**x, "mosaic": tf.constant(bumped)}).numpy()[0, :, :, 0] != base
    ys, xs = np.nonzero(changed)
    reach = max(np.abs(ys - centre).max(), np.abs(xs - centre).max())
    assert 0 < reach <= config.receptive_field


def test_tiled_apply_equals_untiled():
    model = _perturb(DenoiseModel(**TINY))
    rng = np.random.default_rng(3)
    mosaic = rng.uniform(0, 0.5, (45, 70)).astype(np.float32)
    # the reference: one call on the mosaic extended by the CFA-keeping mirror (the border rule)
    from tfraw.isp.cfa import cfa_reflect_index

    config = model.stage_config()
    m = -(-config.receptive_field // config.tile_multiple) * config.tile_multiple
    rows = cfa_reflect_index(tf.range(-m, 45 + m), 45, 2).numpy()
    cols = cfa_reflect_index(tf.range(-m, 70 + m), 70, 2).numpy()
    canvas = mosaic[np.ix_(rows, cols)]
    whole = model(
        {
            "mosaic": tf.constant(canvas[None, :, :, None] * 2.0),
            "cfa_masks": cfa_masks("GRBG", *canvas.shape)[None],  # m is even: same phase
        }
    ).numpy()[0, m : m + 45, m : m + 70, 0]
    tiled = apply_denoiser(model, mosaic, "GRBG", ratio=2.0, tile=16)
    np.testing.assert_allclose(tiled, whole, atol=1e-5)
    xtrans = rng.uniform(0, 0.5, (40, 52)).astype(np.float32)
    np.testing.assert_allclose(
        apply_denoiser(model, xtrans, "XTRANS", tile=16),
        apply_denoiser(model, xtrans, "XTRANS", tile=1024),
        atol=1e-5,
    )
    with pytest.raises(InputError, match="ratio"):
        apply_denoiser(model, mosaic, "GRBG", ratio=0.0)


def test_save_load_and_contract(tmp_path):
    spec = dataclasses.replace(DENOISE_SPEC, default_config=TINY)
    model = _perturb(spec.build())
    assert set(model.get_config()) >= {"base_channels", "reparam", "profiles"}
    assert model.stage_config() == spec.make_config()
    for m in (model, model.deploy()):
        path = tmp_path / f"{m.name}.keras"
        m.save(path)
        loaded = keras.saving.load_model(path)
        x = _inputs()
        np.testing.assert_array_equal(loaded(x).numpy(), m(x).numpy())
    # A blind model ignores the ratio the contract passes; a ratio_input model reads it all.
    assert set(model.input) == set(spec.input_names) - {"ratio"}
    np.testing.assert_array_equal(model({**x, "ratio": tf.fill([2], 50.0)}), model(x))
    conditioned = DenoiseModel(**TINY, ratio_input=True)
    assert set(conditioned.input) == set(spec.input_names)


@pytest.mark.parametrize("mode", ["space_to_depth", "full"])
def test_ratio_input_grows_from_a_blind_model(tmp_path, mode):
    blind = _perturb(DenoiseModel(**TINY, input_mode=mode))
    blind.save(tmp_path / "blind.keras")
    model = DenoiseModel(**TINY, input_mode=mode, ratio_input=True)
    model.load_warm_start(tmp_path / "blind.keras")
    x = _inputs()
    # Grown: the ratio channel has a zero kernel, so every ratio gives the blind output.
    for ratio in (1.0, 100.0):
        np.testing.assert_array_equal(model({**x, "ratio": tf.fill([2], ratio)}), blind(x))
    routed = {**x, "ratio": tf.constant([1.0, 100.0]), "camera_index": tf.constant([0, 2])}
    np.testing.assert_array_equal(model(routed), blind(routed))
    # Once trained, the ratio matters, folding keeps it, and tiles still equal one call.
    first = model.get_layer("enc0_a")
    kernel = first.kernel.numpy()
    kernel[:, :, -1, :] = np.random.default_rng(3).normal(0, 0.5, kernel[:, :, -1, :].shape)
    first.kernel.assign(kernel)
    low, high = (model({**x, "ratio": tf.fill([2], r)}).numpy() for r in (1.0, 100.0))
    assert np.abs(low - high).max() > 1e-3
    deployed = model.deploy()
    np.testing.assert_allclose(deployed({**x, "ratio": tf.fill([2], 100.0)}), high, atol=1e-5)
    mosaic = np.random.default_rng(4).uniform(0, 0.02, (40, 52)).astype(np.float32)
    np.testing.assert_allclose(
        apply_denoiser(deployed, mosaic, "GBRG", ratio=30.0, tile=16),
        apply_denoiser(deployed, mosaic, "GBRG", ratio=30.0, tile=1024),
        atol=1e-5,
    )
    # premultiplied: the same result from an input that already holds the gain.
    np.testing.assert_allclose(
        apply_denoiser(deployed, mosaic * 30.0, "GBRG", ratio=30.0, premultiplied=True),
        apply_denoiser(deployed, mosaic, "GBRG", ratio=30.0),
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="ratio"):
        model({key: x[key] for key in ("mosaic", "cfa_masks")})
    # Another architecture is still refused: a wider source, a deeper one.
    DenoiseModel(**{**TINY, "base_channels": 8}).save(tmp_path / "wide.keras")
    with pytest.raises(ValueError, match="base_channels"):
        model.load_warm_start(tmp_path / "wide.keras")
    DenoiseModel(**{**TINY, "depth": 2}).save(tmp_path / "deep.keras")
    with pytest.raises(ValueError, match="depth"):
        model.load_warm_start(tmp_path / "deep.keras")


def _grown(tmp_path, source: dict, target: dict, ratio_input: bool):
    """A randomized source model (non-trivial biases, shared kernels, alignments) and the
    ``target`` model grown from it by ``load_warm_start``."""
    small = _perturb(DenoiseModel(**{**TINY, **source}))
    rng = np.random.default_rng(5)
    for weight in small.weights:
        weight.assign(weight.numpy() + rng.normal(0, 0.1, weight.shape).astype(np.float32))
    small.save(tmp_path / "small.keras")
    big = DenoiseModel(**{**TINY, **target}, ratio_input=ratio_input)
    big.load_warm_start(tmp_path / "small.keras")
    return small, big


@pytest.mark.parametrize("ratio_input", [False, True])
def test_a_narrow_model_grows_wider_computing_the_same(tmp_path, ratio_input):
    narrow, wide = _grown(tmp_path, {"depth": 2}, {"depth": 2, "base_channels": 7}, ratio_input)
    x = {**_inputs(height=36, width=44), "ratio": tf.constant([1.0, 80.0])}
    expected = narrow(x).numpy()
    np.testing.assert_allclose(wide(x).numpy(), expected, atol=1e-5)
    routed = {**x, "camera_index": tf.constant([2, 0])}
    np.testing.assert_allclose(wide(routed).numpy(), narrow(routed).numpy(), atol=1e-5)
    # Folded, both agree as well (outputs reach ~10 here: float32 folding error ~5e-5).
    np.testing.assert_allclose(wide.deploy()(x), narrow.deploy()(x), rtol=1e-5, atol=1e-4)
    # The new channels are live (random weights in), only their way out starts at zero:
    # one step of training moves the output.
    assert wide.count_params() > narrow.count_params()
    mid = wide.get_layer("mid_a").kernel.numpy()
    assert np.abs(mid[..., narrow.get_layer("mid_a").kernel.shape[-1] :]).max() > 0
    head = wide.get_layer("head").kernel.numpy()
    np.testing.assert_array_equal(head[:, :, 4:, :], 0.0)


@pytest.mark.parametrize("ratio_input", [False, True])
def test_a_shallow_model_grows_deeper_and_wider_computing_the_same(tmp_path, ratio_input):
    # depth 1, base 4 -> depth 3, base 5
    shallow, deep = _grown(tmp_path, {}, {"depth": 3, "base_channels": 5}, ratio_input)
    # A size both tile multiples divide (4 and 16): a deeper U-Net pads to a larger multiple,
    # so elsewhere the zero padding at the bottom/right differs, not the network.
    x = {**_inputs(height=32, width=48), "ratio": tf.constant([1.0, 80.0])}
    expected = shallow(x).numpy()
    # Two new levels (each an exact pass-through of the old bottom) and more channels.
    np.testing.assert_allclose(deep(x).numpy(), expected, rtol=1e-5, atol=1e-4)
    routed = {**x, "camera_index": tf.constant([1, 2])}
    np.testing.assert_allclose(deep(routed).numpy(), shallow(routed).numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(deep.deploy()(x), shallow.deploy()(x), rtol=1e-5, atol=1e-4)
    assert np.abs(expected - x["mosaic"].numpy()).max() > 1e-2  # not a trivial identity
    # The new levels are random and their way up starts closed, yet the first one's gets a
    # gradient: training opens it (and then the next one's).
    assert np.abs(deep.get_layer("mid_a").kernel.numpy()).max() > 0
    dec = deep.get_layer("dec1_a")
    width, old = 5 * 2, 4 * 2  # level 1 now, and in the deepened base-4 model
    np.testing.assert_array_equal(dec.kernel.numpy()[:, :, :width, :old], 0.0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.abs(deep(x) - x["mosaic"] * 0.5))
    grad = tape.gradient(loss, dec.kernel).numpy()
    assert np.abs(grad[:, :, :width, :old]).max() > 0


def _photos(folder, count=4, size=80):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        img = (rng.uniform(0, 1, (size, size + 8 * i, 3)) * 255).astype(np.uint8)
        (folder / f"p{i}.png").write_bytes(tf.io.encode_png(img).numpy())
    return folder


def test_make_dataset_is_reproducible(tmp_path):
    root = _photos(tmp_path / "photos")
    config = DenoiseConfig(**TINY, patch_size=24, batch_size=3, cfa="any", data_root=str(root),
                           val_images=1)  # fmt: skip
    stream = iter(make_dataset(config, "train", seed=5))
    first, second = next(stream), next(stream)
    again = next(iter(make_dataset(config, "train", seed=5, start=1)))  # resume at batch 1
    inputs, clean = first
    assert inputs["mosaic"].shape == (3, 24, 24, 1) and clean.shape == (3, 24, 24, 1)
    assert inputs["cfa_masks"].shape == (3, 24, 24, 3)
    np.testing.assert_array_equal(inputs["cfa_masks"].numpy().sum(-1), 1.0)
    assert np.all((inputs["camera_index"].numpy() >= 0) & (inputs["camera_index"].numpy() < 3))
    ratio = inputs["ratio"].numpy()
    assert np.all((ratio >= 1.0) & (ratio <= 300.0))
    np.testing.assert_array_equal(second[0]["mosaic"].numpy(), again[0]["mosaic"].numpy())
    np.testing.assert_array_equal(second[1].numpy(), again[1].numpy())
    assert not np.array_equal(inputs["mosaic"].numpy(), second[0]["mosaic"].numpy())
    val = list(make_dataset(config, "val", seed=0))
    assert len(val) == 1 and val[0][1].shape[0] == 1


def _path_batches(tmp_path, train_path, batch_size):
    """(config, routed batch, ``train_path`` batch): the first training batch of seed 5 both ways."""
    root = _photos(tmp_path / "photos")
    common = dict(**TINY, patch_size=24, batch_size=batch_size, cfa="any", data_root=str(root),
                  val_images=1)  # fmt: skip
    config = DenoiseConfig(**common, train_path=train_path)
    routed = next(iter(make_dataset(DenoiseConfig(**common), "train", seed=5)))
    other = next(iter(make_dataset(config, "train", seed=5)))
    np.testing.assert_array_equal(routed[0]["mosaic"].numpy(), other[0]["mosaic"].numpy())
    return config, routed, other


def _roles_moved_by_one_step(model, config, batch) -> set:
    """The variable roles (``variable_groups``) one Adam step on ``batch`` changes."""
    from tfraw.stages.denoise.model import make_loss
    from tfraw.stages.denoise.train import _make_step

    groups = model.variable_groups()
    before = {role: [v.numpy().copy() for v in vs] for role, vs in groups.items()}
    step = _make_step(model, model.trainable_variables, keras.optimizers.Adam(1e-2),
                      make_loss(config))  # fmt: skip
    step(*batch)
    return {
        role
        for role, values in before.items()
        if any(not np.array_equal(a, v.numpy()) for a, v in zip(values, groups[role], strict=True))
    }


def test_generic_path_trains_only_the_deployed_alignment(tmp_path):
    """train_path: generic: the same samples without their camera index, and one optimizer step
    moves the deployed alignment offsets only (the fold carries them into the plain network)."""
    with pytest.raises(InputError, match="train_path"):
        DenoiseConfig(train_path="camera")
    with pytest.raises(InputError, match="reparam"):
        DenoiseConfig(train_path="generic", reparam=False)
    generic_cfg, routed, generic = _path_batches(tmp_path, "generic", batch_size=3)
    assert "camera_index" in routed[0] and "camera_index" not in generic[0]
    model = prepare_training_model(DenoiseModel.from_stage_config(generic_cfg))
    groups = model.variable_groups()
    assert {id(v) for v in model.trainable_variables} == {id(v) for v in groups["alignment"]}
    x = _inputs()
    deployed_before = model.deploy()(x).numpy()
    assert _roles_moved_by_one_step(model, generic_cfg, generic) == {"alignment"}
    deployed = model.deploy()
    assert deployed.stage_config().train_path == "routed" and not deployed.stage_config().reparam
    assert not np.allclose(deployed(x).numpy(), deployed_before)
    np.testing.assert_allclose(deployed(x).numpy(), model(x).numpy(), atol=1e-5)


def test_mixed_path_routes_half_of_a_batch_through_the_deployed_alignment(tmp_path):
    """train_path: mixed: the odd samples of a batch lose their camera (index -1), which takes
    the deployed alignment (== the call without an index while the branch is zero), and one
    step moves everything but the customization branch."""
    with pytest.raises(InputError, match="reparam"):
        DenoiseConfig(train_path="mixed", reparam=False)
    mixed_cfg, routed, mixed = _path_batches(tmp_path, "mixed", batch_size=4)
    index = mixed[0]["camera_index"].numpy()
    np.testing.assert_array_equal(index[1::2], -1)
    np.testing.assert_array_equal(index[0::2], routed[0]["camera_index"].numpy()[0::2])
    model = prepare_training_model(DenoiseModel.from_stage_config(mixed_cfg))
    groups = model.variable_groups()
    # distinct camera alignments and deployed offsets, so the paths differ
    rng = np.random.default_rng(0)
    for v in groups["camera"] + groups["alignment"]:
        v.assign(v.numpy() + rng.normal(0.0, 0.2, v.shape).astype(np.float32))
    x = _inputs()
    batch = int(x["mosaic"].shape[0])
    deployed_out = model(x).numpy()
    routed_in = {**x, "camera_index": tf.fill([batch], -1)}
    np.testing.assert_allclose(model(routed_in).numpy(), deployed_out, atol=1e-5)
    camera0 = model({**x, "camera_index": tf.zeros([batch], tf.int32)}).numpy()
    assert not np.allclose(camera0, deployed_out, atol=1e-4)
    trained = {id(v) for v in model.trainable_variables}
    assert trained == {id(v) for r in ("camera", "shared", "alignment") for v in groups[r]}
    moved = _roles_moved_by_one_step(model, mixed_cfg, mixed)
    assert moved == {"camera", "shared", "alignment"}
    np.testing.assert_allclose(model.deploy()(x).numpy(), model(x).numpy(), atol=1e-5)


def test_virtual_cameras_interpolate_the_profiles():
    names = ("SonyA7S2", "NikonD850", "CanonEOS70D")
    profiles = [load_profile(n) for n in names]
    cameras = make_virtual_cameras(names, 5, seed=1)
    slopes = [p.read_law.slope for p in profiles]
    for camera in cameras:
        assert min(slopes) - 1e-9 <= camera.read_law.slope <= max(slopes) + 1e-9
        assert camera.log_k_range[0] < camera.log_k_range[1]
    assert make_virtual_cameras(names, 5, seed=1) == cameras


def test_virtual_cameras_can_carry_a_mixed_black_level_error():
    names = ("SonyA7S2", "NikonD850", "CanonEOS70D")
    plain = make_virtual_cameras(names, 4, seed=1)
    biased = make_virtual_cameras(names, 4, seed=1, color_bias=True)
    tables = np.concatenate([np.asarray(load_profile(n).color_bias) for n in names])
    for without, camera in zip(plain, biased, strict=True):
        assert without.color_bias is None
        # the same camera otherwise: same weights, laws and K range
        assert dataclasses.replace(camera, color_bias=None) == without
        table = np.asarray(camera.color_bias)
        assert table.shape == (16, 4)
        assert tables.min() - 1e-9 <= table.min() and table.max() <= tables.max() + 1e-9
    assert len({camera.color_bias for camera in biased}) == 4
    # a sampled camera's params carry its (non-zero) offset, which apply_noise adds
    params = sample_virtual_camera_params(tf.constant([0, 0]), biased, tf.constant(2))
    assert params["black_level_error"].shape == (4,)
    assert float(tf.reduce_max(tf.abs(params["black_level_error"]))) > 0
    no_table = dataclasses.replace(load_profile("SonyA7S2"), color_bias=None)
    with pytest.raises(InputError, match="color_bias needs a table"):
        make_virtual_cameras([no_table, "NikonD850"], 2, color_bias=True)


def _write_raw(path, mosaic_dn, iso=100.0, exposure=0.01, pattern="RGGB"):
    write_dng(path, mosaic_dn.astype(np.uint16), as_pattern(pattern), black_level=512, white_level=16383,
              iso=iso, exposure_time=exposure)  # fmt: skip
    return path.name


def _pairs(folder, isos=(100.0, 6400.0), size=(40, 48)):
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    lines = []
    for i, iso in enumerate(isos):
        clean = (512 + rng.uniform(0, 4000, size)).astype(np.uint16)
        noisy = (512 + (clean - 512) / 10 + rng.normal(0, 5, size)).clip(0).astype(np.uint16)
        n = _write_raw(folder / f"n{i}.dng", noisy, iso=iso, exposure=0.01)
        c = _write_raw(folder / f"c{i}.dng", clean, iso=iso, exposure=0.1)
        lines.append(f"{n} {c}")
    (folder / "pairs.txt").write_text("# noisy clean\n" + "\n".join(lines) + "\n")
    return folder / "pairs.txt"


def test_pair_list_ratio_and_errors(tmp_path):
    listing = _pairs(tmp_path / "d")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pairs = read_pair_list(tmp_path / "d", listing)
    assert [round(p.ratio, 6) for p in pairs] == [10.0, 10.0]
    with pytest.warns(UserWarning, match="ISO >= 3200"):
        check_iso_groups([100.0, 200.0])
    d = tmp_path / "d"
    bad = tmp_path / "bad.txt"
    cases = {
        "expected 'noisy clean'": "n0.dng\n",
        "does not exist": "n0.dng missing.dng\n",
    }
    _write_raw(d / "small.dng", np.full((40, 40), 600), iso=100)
    _write_raw(d / "phase.dng", np.full((40, 48), 600), iso=100, pattern="GRBG")
    _write_raw(d / "noexif.dng", np.full((40, 48), 600), iso=None, exposure=None)
    cases["same size"] = "n0.dng small.dng\n"
    cases["CFA"] = "n0.dng phase.dng\n"
    cases["EXIF"] = "noexif.dng c0.dng\n"
    for match, text in cases.items():
        bad.write_text(text)
        with pytest.raises(InputError, match=match):
            read_pair_list(d, bad)


def test_finetune_main_trains_alignment_then_branch(tmp_path):
    import json

    listing = _pairs(tmp_path / "d")
    pretrained = tmp_path / "pre.keras"
    model = DenoiseModel(**TINY)
    model.save(pretrained)
    out = tmp_path / "out"
    code = finetune_main(["--finetune", "--pretrained", str(pretrained), "--dataroot",
                          str(tmp_path / "d"), "--data-pair-list", str(listing), "--out", str(out),
                          "--align-steps", "2", "--branch-steps", "2", "--patch-size", "16",
                          "--batch-size", "2"])  # fmt: skip
    assert code == 0
    history = json.loads((out / "finetune.json").read_text())["loss"]
    assert len(history["alignment"]) == 2 and np.all(np.isfinite(history["branch"]))
    tuned = keras.saving.load_model(out / "unfolded.keras")
    before, after = model.variable_groups(), tuned.variable_groups()
    for old, new in zip(before["shared"] + before["camera"], after["shared"] + after["camera"],
                        strict=True):  # fmt: skip
        np.testing.assert_array_equal(old.numpy(), new.numpy())  # frozen
    assert any(np.any(v.numpy()) for v in after["branch"])
    assert any(np.any(v.numpy()) for v in after["alignment"])
    custom = keras.saving.load_model(out / "customized.keras")
    assert not custom.stage_config().reparam
    x = _inputs()
    np.testing.assert_allclose(custom(x).numpy(), tuned(x).numpy(), atol=1e-5)


def test_finetune_starts_at_the_average_or_the_deployed_alignment(tmp_path):
    """FinetuneSettings.start: ``average`` (LED's) zeroes the deployed offsets before phase 1,
    ``deployed`` keeps those the pre-training fitted (a zero learning rate isolates the start)."""
    from tfraw.stages.denoise.train import FINETUNE_STARTS, FinetuneSettings, finetune

    with pytest.raises(InputError, match="start"):
        FinetuneSettings(start="camera")
    pairs = read_pair_list(tmp_path / "d", _pairs(tmp_path / "d"))
    for start in FINETUNE_STARTS:
        model = _perturb(DenoiseModel(**TINY))
        for layer in model.rep_layers():
            layer.reset_branch()
        offsets = [v.numpy().copy() for v in model.variable_groups()["alignment"]]
        settings = FinetuneSettings(align_steps=1, branch_steps=0, align_learning_rate=0.0,
                                    patch_size=16, batch_size=2, start=start)  # fmt: skip
        finetune(model, pairs, settings, log=lambda message: None)
        after = [v.numpy() for v in model.variable_groups()["alignment"]]
        for old, new in zip(offsets, after, strict=True):
            np.testing.assert_array_equal(new, old if start == "deployed" else 0.0 * old)


def test_pretrain_smoke(tmp_path):
    import yaml

    root = _photos(tmp_path / "photos", count=3)
    document = {
        "stage": "denoise_led",
        "config": {**TINY, "patch_size": 24, "batch_size": 2, "data_root": str(root),
                   "val_images": 1},
        "train": {"steps": 2, "log_every": 1, "warmup_steps": 0, "progress": False},
    }  # fmt: skip
    config_path = tmp_path / "pretrain.yaml"
    config_path.write_text(yaml.safe_dump(document))
    model = pretrain(config_path, tmp_path / "run")
    assert (tmp_path / "run" / "deployed.keras").is_file()
    deployed = keras.saving.load_model(tmp_path / "run" / "deployed.keras")
    x = _inputs()
    np.testing.assert_allclose(deployed(x).numpy(), model(x).numpy(), atol=1e-5)
    # the routed pre-training moved the per-camera alignments
    assert any(not np.allclose(layer.camera_scale.numpy(), 1.0) for layer in model.rep_layers())


def test_patch_cache_source_is_reproducible_and_validated(tmp_path):
    # 40 photos of 140 px: with the cache's "every 20th photo held out" split, 2 are validation.
    root = tmp_path / "photos"
    root.mkdir()
    rng = np.random.default_rng(3)
    for i in range(40):
        img = (rng.uniform(0, 1, (140, 150, 3)) * 255).astype(np.uint8)
        (root / f"p{i:02d}.png").write_bytes(tf.io.encode_png(img).numpy())
    config = DenoiseConfig(**TINY, patch_size=24, batch_size=2, cfa="bayer", data_root=str(root),
                           patch_cache=str(tmp_path / "cache"))  # fmt: skip
    first = next(iter(make_dataset(config, "train", seed=2, start=3)))
    again = next(iter(make_dataset(config, "train", seed=2, start=3)))  # reads the cache back
    assert len(list((tmp_path / "cache").glob("demosaic_train_*.npz"))) == 1
    np.testing.assert_array_equal(first[0]["mosaic"].numpy(), again[0]["mosaic"].numpy())
    assert first[1].shape == (2, 24, 24, 1) and first[0]["cfa_masks"].shape == (2, 24, 24, 3)
    # the clean target is a mosaic of the (unprocessed) photo: within [0, 1], not constant
    assert 0.0 <= float(tf.reduce_min(first[1])) < float(tf.reduce_max(first[1])) <= 1.0
    val = [b[1].shape[0] for b in make_dataset(config, "val", seed=0)]
    assert sum(val) >= 2
    with pytest.raises(InputError, match="patch_size <= 120"):
        DenoiseConfig(patch_size=132, patch_cache="runs/cache")


def test_mixed_bfloat16_pins_packing_and_the_residual_to_float32():
    from tfraw.train import dtype_policy, float32_model

    config = DenoiseConfig(base_channels=4, depth=1, num_cameras=2)
    with dtype_policy("mixed_bfloat16"):
        mixed = prepare_training_model(DenoiseModel.from_stage_config(config))
    dtypes = {layer.name: layer.compute_dtype for layer in mixed.layers}
    assert dtypes["enc0_a"] == dtypes["head"] == "bfloat16"
    assert dtypes["pad"] == dtypes["s2d"] == dtypes["d2s"] == dtypes["crop"] == "float32"
    masks = cfa_masks("RGGB", 12, 16)[tf.newaxis]
    mosaic = tf.random.stateless_uniform((1, 12, 16, 1), seed=(1, 2))
    routed = mixed({"mosaic": mosaic, "cfa_masks": masks, "camera_index": tf.constant([1])})
    assert routed.dtype == tf.float32
    plain = float32_model(mixed, lambda: DenoiseModel.from_stage_config(config))
    out_mixed = mixed({"mosaic": mosaic, "cfa_masks": masks}).numpy()
    out_plain = plain({"mosaic": mosaic, "cfa_masks": masks}).numpy()
    # Same weights; only the convolutions' bfloat16 rounding differs.
    np.testing.assert_allclose(out_mixed, out_plain, atol=0.05)
    assert not np.array_equal(out_mixed, out_plain)
