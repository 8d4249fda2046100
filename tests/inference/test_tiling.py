"""Tiling: grid, ramps (partition of unity), tiled == untiled, streaming == in-graph."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.inference import tiling
from tfraw.inference.chain import Chain, Pipeline, StageEntry


@pytest.mark.parametrize(
    ("length", "tile", "overlap"),
    [(10, 16, 4), (16, 16, 4), (17, 16, 4), (100, 16, 8), (33, 16, 0)],
)
def test_grid_covers(length, tile, overlap):
    n, core, stride = tiling.grid(length, tile, overlap)
    assert (n - 1) * stride + core >= length
    assert n == 1 or (n - 2) * stride + core < length
    tn, tc, ts = (int(v) for v in tiling.grid(tf.constant(length), tile, overlap))
    assert (tn, tc, ts) == (n, core, stride)


def test_identity_local_fn_reassembles_image():
    """Ramps sum to one: an identity 'stage' gives the input back through the overlap-add."""
    rng = np.random.default_rng(0)
    mosaic = tf.constant(rng.uniform(0, 1, (2, 53, 41, 1)).astype(np.float32))
    pattern = tf.constant(np.stack([tiling.pattern_6x6("RGGB")] * 2))
    config = tiling.TilingConfig(tile_size=12, overlap=5, margin=3, tiles_per_batch=4)
    out = tiling.tiled_apply(lambda t, m, v, md: t, mosaic, pattern, {}, config)
    np.testing.assert_allclose(out.numpy(), mosaic.numpy(), atol=1e-6)


def test_masks_follow_absolute_coordinates():
    pattern = tf.constant(tiling.pattern_6x6("XTRANS")[None])
    rows, cols = tf.range(7, 19), tf.range(3, 20)
    masks = tiling.masks_at(pattern, rows, cols)[0].numpy()
    from tfraw.isp.cfa import cfa_masks

    np.testing.assert_array_equal(masks, cfa_masks("XTRANS", 19, 20).numpy()[7:19, 3:20])


def test_bad_config_names_value():
    with pytest.raises(InputError, match="overlap"):
        tiling.TilingConfig(tile_size=16, overlap=9)


@pytest.mark.parametrize("cfa", ["GBRG", "XTRANS"])
def test_stream_equals_tiled(cfa):
    pipeline = Pipeline(
        name="t",
        stages=(StageEntry("demosaic_auto"), StageEntry("color_matrix"), StageEntry("srgb_encode")),
        tiling=tiling.TilingConfig(tile_size=16, overlap=4, tiles_per_batch=2),
    )
    chain = Chain(pipeline)
    x = chain.example_inputs(1, 50, 37, cfa=cfa)
    want = chain.tiled(x)["output"].numpy()
    parts = list(chain.stream(lambda idx: x["mosaic"][:, idx], 50, 37, x))
    got = np.concatenate([rows for _, rows in parts], axis=1)
    assert [y0 for y0, _ in parts] == sorted(y0 for y0, _ in parts)
    np.testing.assert_allclose(got, want, atol=1e-5)
