"""The neural demosaic stage: config, model contract, phases, data recipe, loss, HLG output."""

import inspect

import imageio.v3 as iio
import keras
import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import transfer
from tfraw.isp.cfa import BAYER_PATTERNS, cfa_masks, mosaic, shift_pattern
from tfraw.stages import STAGES
from tfraw.stages.classical import demosaic_from_masks
from tfraw.stages.demosaic import (
    BAYER_SPEC,
    XTRANS_SPEC,
    DemosaicConfig,
    DemosaicModel,
    demosaic_image,
    demosaic_loss,
    macs_and_params,
    make_dataset,
)

TINY = {"width": 4, "depth": 1, "convs_per_level": 1}


def _tiny(cfa="bayer", **kw):
    return DemosaicModel.from_stage_config(DemosaicConfig(cfa=cfa, **TINY, **kw))


def _inputs(pattern, height=20, width=28, seed=0, batch=1):
    rgb = np.random.default_rng(seed).uniform(0, 1.5, (batch, height, width, 3)).astype(np.float32)
    masks = tf.broadcast_to(cfa_masks(pattern, height, width), (batch, height, width, 3))
    return {"mosaic": mosaic(rgb, pattern), "cfa_masks": masks}


def test_registered_and_config_round_trip():
    assert STAGES["demosaic_nn_bayer"] is BAYER_SPEC and STAGES["demosaic_nn_xtrans"] is XTRANS_SPEC
    config = XTRANS_SPEC.make_config({"width": 24, "exposure_log2": [-2, 1]})
    assert config.cfa == "xtrans" and config.reference_pattern == "XTRANS"
    for text, reader in (
        (config.to_json(), config.from_json),
        (config.to_yaml(), config.from_yaml),
    ):
        assert reader(text) == config
    assert config.receptive_field % config.tile_multiple == 0 and config.tile_multiple == 24


@pytest.mark.parametrize(
    "bad, match",
    [({"cfa": "quad"}, "cfa"), ({"patch_size": 100}, "patch_size"), ({"torture_ratio": 0.5}, "torture"),
     ({"width": 0}, "width"), ({"cfa": "xtrans", "base": "malvar"}, "malvar"),
     ({"pack": 4}, "pack"), ({"cfa": "xtrans", "pack": 6, "depth": 1, "patch_size": 90}, "patch_size")],
)  # fmt: skip
def test_config_errors_name_the_value(bad, match):
    with pytest.raises(InputError, match=match):
        DemosaicConfig(**bad)


def test_get_config_holds_every_init_argument_and_keras_round_trip(tmp_path):
    model = _tiny("xtrans", l1_weight=2.0)
    params = [
        p
        for p in inspect.signature(DemosaicModel.__init__).parameters
        if p not in ("self", "kwargs")
    ]
    config = model.get_config()
    assert set(params) <= set(config)
    assert DemosaicModel.from_config(config).stage_config() == model.stage_config()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = _inputs("XTRANS")
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert loaded.stage_config().l1_weight == 2.0


def test_default_size_budget():
    sizes = macs_and_params(BAYER_SPEC.build())
    assert sizes["params"] <= 1_000_000
    assert 10_000 < sizes["macs_per_pixel"] < 60_000


def test_zero_residual_is_the_classical_base_for_every_phase():
    """One code path: Bayer phases and X-Trans only differ in the masks; with the residual
    zeroed, the output is the mask-based classical demosaic taken in sRGB-encoded space (for
    phases other than the training phase, away from the top-left rows/columns that the phase
    alignment prepends: there the base interpolation sees copied rows instead of its border
    rule)."""
    model = _tiny()
    layer = model.get_layer("to_residual")
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    for pattern in [*BAYER_PATTERNS, "XTRANS"]:
        x = _inputs(pattern, 18, 30)  # not multiples of the stride: padded and cropped
        out = model(x).numpy()
        encoded = transfer.linear_to_srgb(x["mosaic"])
        expected = transfer.srgb_to_linear(demosaic_from_masks(encoded, x["cfa_masks"], "auto"))
        assert out.shape == (1, 18, 30, 3)
        skip = 0 if pattern in ("RGGB", "XTRANS") else 3
        np.testing.assert_allclose(
            out[:, skip:, skip:], expected.numpy()[:, skip:, skip:], atol=1e-5
        )


def test_demosaic_image_extends_the_mosaic_keeping_the_cfa():
    seen = {}

    def spy(inputs):
        seen["mosaic"], seen["masks"] = inputs["mosaic"].numpy(), inputs["cfa_masks"].numpy()
        return tf.tile(inputs["mosaic"], [1, 1, 1, 3])

    for pattern in ("GBRG", "BGGR", "XTRANS"):
        x = _inputs(pattern, 18, 24)
        out = demosaic_image(spy, x["mosaic"], pattern, margin=12)
        assert out.shape == (1, 18, 24, 3)
        canvas, masks = seen["mosaic"][0, ..., 0], seen["masks"][0]
        assert canvas.shape == (42, 48)
        np.testing.assert_array_equal(masks, cfa_masks(pattern, 42, 48).numpy())
        # every canvas pixel is an image pixel of the same CFA colour
        colour = np.argmax(cfa_masks(pattern, 18, 24).numpy(), -1)
        image = x["mosaic"].numpy()[0, ..., 0]
        for y, xx in [(0, 0), (3, 40), (41, 5), (20, 47), (11, 11)]:
            where = np.argwhere(image == canvas[y, xx])
            assert any(colour[r, c] == np.argmax(masks[y, xx]) for r, c in where)
        # the crop returns the original pixels at their places
        np.testing.assert_array_equal(out[..., :1].numpy(), x["mosaic"].numpy())
    with pytest.raises(InputError, match="multiple of 6"):
        demosaic_image(spy, x["mosaic"], "XTRANS", margin=8)
    # "missing": no sample beyond the image (masks of zero there), the image's own inside.
    x = _inputs("XTRANS", 18, 24)
    demosaic_image(spy, x["mosaic"], "XTRANS", margin=6, border="missing")
    masks = seen["masks"][0]
    assert masks.shape == (30, 36, 3)
    assert masks[:6].sum() == 0 and masks[:, -6:].sum() == 0
    np.testing.assert_array_equal(masks[6:24, 6:30], cfa_masks("XTRANS", 18, 24).numpy())
    with pytest.raises(InputError, match="border"):
        demosaic_image(spy, x["mosaic"], "XTRANS", margin=6, border="zeros")


def test_one_training_step_and_loss_terms():
    model = _tiny()
    config = model.stage_config()
    model.compile(optimizer="adam", loss=lambda y, p: demosaic_loss(y, p, 1.0, 0.5, 0.5, 0.1))
    x = _inputs("RGGB", 24, 24, batch=2)
    y = np.full((2, 24, 24, 3), 0.3, np.float32)
    assert np.isfinite(model.train_on_batch(x, y))
    assert config.l1_weight == 1.0
    t = tf.fill((1, 8, 8, 3), 0.25)
    assert float(demosaic_loss(t, t)[0]) == 0.0
    shifted = t + tf.constant([0.1, 0.0, 0.0])  # a pure chroma error
    plain = float(demosaic_loss(t, shifted, 1, 0, 0)[0])
    assert float(demosaic_loss(t, shifted, 1, 0, 1)[0]) > plain > 0
    # Values past 1.0 are fine (sign-symmetric, unclipped transfer).
    assert np.isfinite(demosaic_loss(t * 8, -t)).all()


def _photo_folder(root, count=3, size=(80, 96)):
    folder = root / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        y, x = np.mgrid[0 : size[0], 0 : size[1]]
        base = 0.5 + 0.4 * np.sin(x / (3 + i) + y / 5)[..., None] * rng.uniform(0.5, 1, 3)
        iio.imwrite(folder / f"p{i}.png", np.round(np.clip(base, 0, 1) * 255).astype(np.uint8))
    return folder


def test_make_dataset_is_indexed_and_resumable(tmp_path):
    config = DemosaicConfig(
        **TINY, data_dir=str(_photo_folder(tmp_path)), cache_dir=str(tmp_path / "cache"),
        patch_size=24, cache_patch=32, cache_stride=16, batch_size=3, torture_count=4,
        torture_ratio=0.1, exposure_log2=(1.0, 1.0), val_every=100,
    )  # fmt: skip
    batches = list(make_dataset(config, "train", seed=1).take(2))
    (inputs, target) = batches[0]
    assert inputs["mosaic"].shape == (3, 24, 24, 1) and target.shape == (3, 24, 24, 3)
    np.testing.assert_array_equal(inputs["cfa_masks"][0], cfa_masks("RGGB", 24, 24))
    # The mosaic is the target sampled through the reference CFA (geometry came before).
    np.testing.assert_allclose(inputs["mosaic"], mosaic(target, "RGGB"), atol=1e-6)
    assert float(tf.reduce_max(target)) > 1.0  # exposure pushes past 1.0, never clipped
    resumed = next(iter(make_dataset(config, "train", seed=1, start=1)))
    np.testing.assert_array_equal(resumed[1], batches[1][1])
    other = next(iter(make_dataset(config, "train", seed=2)))
    assert not np.array_equal(other[1], batches[0][1])


def test_hlg_avif_output_via_the_model(tmp_path):
    from tfraw.io.avif import read_avif_cicp, write_hlg_avif

    model = _tiny()
    rgb = model(_inputs("RGGB", 32, 40))
    path = write_hlg_avif(tmp_path / "out.avif", rgb, peak=2.0)
    assert read_avif_cicp(path) == (9, 18, 9)  # BT.2100 HLG: BT.2020 primaries, HLG, BT.2020 NCL


@pytest.mark.parametrize("pattern, dy, dx", [("GRBG", 0, 1), ("GBRG", 1, 0), ("BGGR", 1, 1)])
def test_any_bayer_phase_is_aligned_to_the_training_phase(pattern, dy, dx):
    """A Bayer mosaic of phase ``pattern`` is the RGGB mosaic of the image shifted by (dy, dx):
    the model (trained weights perturbed, so the residual matters) must give the same colours
    for the same pixels, away from the borders."""
    model = _tiny()
    rng = np.random.default_rng(4)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights(
                [w + 0.05 * rng.standard_normal(w.shape) for w in layer.get_weights()]
            )
    rgb = tf.constant(rng.uniform(0.05, 0.9, (1, 40, 48, 3)).astype(np.float32))
    reference = model({"mosaic": mosaic(rgb, "RGGB"), "cfa_masks": cfa_masks("RGGB", 40, 48)[None]})
    shifted = rgb[:, dy:, dx:]
    h, w = shifted.shape[1], shifted.shape[2]
    out = model({"mosaic": mosaic(shifted, pattern), "cfa_masks": cfa_masks(pattern, h, w)[None]})
    m = 16  # beyond the borders' reach on both sides
    np.testing.assert_allclose(
        out.numpy()[:, m:-m, m:-m],
        reference.numpy()[:, dy + m : dy + h - m, dx + m : dx + w - m],
        atol=1e-4,
    )


def test_xtrans_alignment_puts_the_training_phase_first_for_every_offset():
    """For each of the 36 X-Trans offsets, AlignCFAPhase's masks are the training phase's masks
    (the pattern also repeats under a (3, 3) shift, so either of two prepends is right) and every
    original pixel keeps its value; CropCFAPhase gives the input back."""
    from tfraw.layers.blocks import AlignCFAPhase, CropCFAPhase

    align, crop = AlignCFAPhase("XTRANS"), CropCFAPhase("XTRANS")
    rng = np.random.default_rng(6)
    for dy in range(6):
        for dx in range(6):
            pattern = shift_pattern("XTRANS", dy, dx)
            masks = cfa_masks(pattern, 25, 31)[None]
            values = tf.constant(rng.uniform(0, 1, (1, 25, 31, 1)).astype(np.float32))
            aligned, aligned_masks = align(values, masks)
            h, w = aligned.shape[1], aligned.shape[2]
            assert h - 25 < 6 and w - 31 < 6
            np.testing.assert_array_equal(
                aligned_masks.numpy(), cfa_masks("XTRANS", h, w)[None].numpy()
            )
            np.testing.assert_array_equal(aligned.numpy()[:, h - 25 :, w - 31 :], values.numpy())
            np.testing.assert_array_equal(crop(aligned, masks).numpy(), values.numpy())


def test_pack_by_the_cfa_period():
    """pack=6 (X-Trans period): stride 6 * 2**depth, a 1x1 entry projection, 3 * 36 residual
    channels; zero residual is still the classical base; sizes that are not multiples work."""
    config = DemosaicConfig(cfa="xtrans", pack=6, width=80, depth=1)
    assert config.stride == 12 and config.tile_multiple == 12
    assert config.receptive_field % 12 == 0 and config.receptive_field >= 72
    default = DemosaicConfig(cfa="xtrans")
    assert default.pack == 2 and default.stride == 8 and default.receptive_field == 72
    sizes = macs_and_params(DemosaicModel.from_stage_config(config))
    assert sizes["params"] <= 1_000_000
    assert sizes["macs_per_pixel"] < macs_and_params(XTRANS_SPEC.build())["macs_per_pixel"]
    model = _tiny("xtrans", pack=6)
    assert model.get_layer("entry").kernel.shape[:3] == (1, 1, 9 * 36)
    assert model.get_layer("to_residual").kernel.shape[-1] == 3 * 36
    x = _inputs("XTRANS", 26, 34)
    out = model(x).numpy()
    assert out.shape == (1, 26, 34, 3)
    encoded = transfer.linear_to_srgb(x["mosaic"])
    expected = transfer.srgb_to_linear(demosaic_from_masks(encoded, x["cfa_masks"], "auto"))
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-5)
    config_dict = model.get_config()
    assert config_dict["pack"] == 6
    assert DemosaicModel.from_config(config_dict).stage_config() == model.stage_config()


def test_mixed_bfloat16_keeps_the_base_and_output_in_float32():
    """Under ``mixed_bfloat16`` (``train.precision``) only the U-Net convolutions compute in
    bfloat16: with the residual zeroed the output equals the float32 model's to float32
    precision (a bfloat16 base or transfer curve would be off by ~1e-3)."""
    from tfraw.train import dtype_policy, float32_model

    config = DemosaicConfig(cfa="xtrans", **TINY)
    with dtype_policy("mixed_bfloat16"):
        mixed = DemosaicModel.from_stage_config(config)
    assert keras.config.dtype_policy().name == "float32"  # restored
    dtypes = {layer.name: layer.compute_dtype for layer in mixed.layers}
    assert dtypes["enc0_0"] == dtypes["to_residual"] == "bfloat16"
    for name in ("align", "encode", "base", "refine", "unalign", "decode"):
        assert dtypes[name] == "float32", name
    layer = mixed.get_layer("to_residual")
    layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    plain = float32_model(mixed, lambda: DemosaicModel.from_stage_config(config))
    assert plain is not mixed
    assert all(layer.compute_dtype == "float32" for layer in plain.layers)
    x = _inputs("XTRANS", 18, 30)
    out = mixed(x)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), plain(x).numpy(), atol=1e-6)
    assert float32_model(plain, lambda: None) is plain
