"""Geometric self-ensemble: transforms, their CFA patterns, and the averaging wrappers."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.inference.ensemble import (
    admissible,
    forward,
    inverse,
    self_ensemble,
    transformed_pattern,
)
from tfraw.isp.cfa import as_pattern, cfa_masks, mosaic


def _colour_map(pattern, height, width):
    p = as_pattern(pattern)
    period = p.shape[0]
    return np.tile(p, (height // period + 1, width // period + 1))[:height, :width]


@pytest.mark.parametrize("k", range(8))
def test_inverse_undoes_forward_numpy_and_tf(k):
    array = np.arange(2 * 5 * 7 * 3, dtype=np.float32).reshape(2, 5, 7, 3)
    np.testing.assert_array_equal(inverse(forward(array, k), k), array)
    tensor = tf.constant(array)
    np.testing.assert_array_equal(inverse(forward(tensor, k), k).numpy(), array)
    plane = array[0, ..., 0]
    np.testing.assert_array_equal(inverse(forward(plane, k, (0, 1)), k, (0, 1)), plane)
    assert forward(array, k).shape[1:3] == ((7, 5) if k & 4 else (5, 7))


@pytest.mark.parametrize("pattern", ["RGGB", "GBRG", "XTRANS"])
@pytest.mark.parametrize("size", [(13, 20), (18, 25)])
def test_transformed_pattern_is_the_origin_of_the_transformed_colour_map(pattern, size):
    colours = _colour_map(pattern, *size)
    period = as_pattern(pattern).shape[0]
    for k in range(8):
        expected = forward(colours, k, (0, 1))[:period, :period]
        np.testing.assert_array_equal(transformed_pattern(pattern, *size, k), expected)


def test_admissible_transforms():
    assert sorted(admissible("RGGB")) == list(range(8))
    assert admissible("GRBG")[0] == 0
    # X-Trans is chiral: only the identity and the vertical flip keep it an X-Trans phase,
    # whatever the image size (checked on odd and even sizes).
    assert admissible("XTRANS") == [0, 2]
    for size in ((24, 30), (25, 31)):
        kept = [
            k for k in range(8)
            if any(
                np.array_equal(transformed_pattern("XTRANS", *size, k),
                               np.roll(as_pattern("XTRANS"), (-dy, -dx), axis=(0, 1)))
                for dy in range(6) for dx in range(6)
            )
        ]  # fmt: skip
        assert kept == [0, 2]


def test_self_ensemble_keeps_pixels_and_colours_in_place():
    """A "model" that returns each sample in the channel of its CFA colour: averaged over all
    transforms it must give back exactly the untransformed answer (wrong patterns or a wrong
    inverse would move or recolour samples)."""

    def colour_planes(m, pattern):
        masks = cfa_masks(pattern, m.shape[1], m.shape[2])[None].numpy()
        return m * masks

    for pattern in ("BGGR", "XTRANS"):
        rgb = np.random.default_rng(1).uniform(0, 1, (1, 19, 26, 3)).astype(np.float32)
        m = mosaic(rgb, pattern).numpy()
        expected = colour_planes(m, as_pattern(pattern))
        for size in (2, 8):
            out = self_ensemble(colour_planes, m, pattern, size)
            np.testing.assert_allclose(out, expected, atol=1e-7)
    with pytest.raises(InputError, match="self_ensemble"):
        self_ensemble(colour_planes, m, "XTRANS", 3)


def test_denoiser_and_demosaic_wrappers():
    from tfraw.stages.demosaic import DemosaicConfig, DemosaicModel, demosaic_image
    from tfraw.stages.denoise.config import DenoiseConfig
    from tfraw.stages.denoise.model import DenoiseModel, apply_denoiser

    # A residual denoiser with a zero head is the identity: so is its self-ensemble.
    model = DenoiseModel.from_stage_config(
        DenoiseConfig(base_channels=4, depth=1, num_cameras=2)
    ).deploy()
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    noisy = np.random.default_rng(2).uniform(0, 1, (22, 30)).astype(np.float32)
    out = apply_denoiser(model, noisy, "GRBG", 2.0, tile=16, self_ensemble=8)
    np.testing.assert_allclose(out, noisy * 2.0, atol=1e-6)
    # Demosaic: the average of 8 runs of a (random) model is the mean of the single runs on
    # the transformed inputs, with the same shape and no NaN.
    demosaic = DemosaicModel.from_stage_config(DemosaicConfig(width=4, depth=1, convs_per_level=1))
    rgb = np.random.default_rng(3).uniform(0, 1, (1, 20, 26, 3)).astype(np.float32)
    linear = mosaic(rgb, "RGGB")
    single = demosaic_image(demosaic, linear, "RGGB", margin=24).numpy()
    ens = demosaic_image(demosaic, linear, "RGGB", margin=24, self_ensemble=8).numpy()
    assert ens.shape == single.shape and np.isfinite(ens).all()
    manual = np.mean(
        [
            inverse(
                demosaic_image(
                    demosaic, forward(linear.numpy(), k), transformed_pattern("RGGB", 20, 26, k),
                    margin=24,
                ).numpy(),
                k,
            )
            for k in range(8)
        ],
        axis=0,
    )  # fmt: skip
    np.testing.assert_allclose(ens, manual, atol=1e-6)
