"""Tests of tfraw.isp.cfa."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError, UnsupportedCFAError
from tfraw.isp import cfa

ALL_PATTERNS = [*cfa.BAYER_PATTERNS, "XTRANS"]


def test_xtrans_pattern_counts():
    pattern = cfa.XTRANS_PATTERN
    assert pattern.shape == (6, 6)
    assert [(pattern == c).sum() for c in range(3)] == [8, 20, 8]
    for line in list(pattern) + list(pattern.T):
        assert set(line.tolist()) == {0, 1, 2}


@pytest.mark.parametrize("name", ALL_PATTERNS)
def test_as_pattern_and_name_round_trip(name):
    array = cfa.as_pattern(name.lower())
    assert array.dtype == np.int32
    assert cfa.pattern_name(array) == name
    assert cfa.pattern_name(array.tolist()) == name


def test_pattern_name_custom():
    assert cfa.pattern_name(cfa.shift_pattern("xtrans", 1, 0)) == "CUSTOM"


@pytest.mark.parametrize(
    "bad",
    ["QUAD", np.zeros((3, 3), int), [[0, 1], [1, 3]], [[0, 1], [1, 1]], np.zeros((4, 4), int)],
)
def test_as_pattern_errors(bad):
    with pytest.raises(UnsupportedCFAError):
        cfa.as_pattern(bad)


def test_cfa_masks_golden_and_one_hot():
    masks = cfa.cfa_masks("GRBG", 3, 5).numpy()
    assert masks.shape == (3, 5, 3)
    np.testing.assert_array_equal(masks.sum(-1), 1.0)
    np.testing.assert_array_equal(
        masks[..., 0], [[0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [0, 1, 0, 1, 0]]
    )
    xt = cfa.cfa_masks("xtrans", 7, 8).numpy()
    np.testing.assert_array_equal(xt.argmax(-1)[:6, :6], cfa.XTRANS_PATTERN)
    np.testing.assert_array_equal(xt.argmax(-1)[6, :6], cfa.XTRANS_PATTERN[0])


def test_cfa_masks_dynamic_in_tf_function():
    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 1])])
    def fn(x):
        shape = tf.shape(x)
        return cfa.cfa_masks("xtrans", shape[1], shape[2])

    assert fn(tf.zeros((1, 9, 13, 1))).shape == (9, 13, 3)


def test_mosaic_golden_and_ranks():
    rgb = tf.reshape(tf.range(2 * 2 * 3, dtype=tf.float32), (2, 2, 3))
    np.testing.assert_array_equal(cfa.mosaic(rgb, "BGGR")[..., 0], [[2, 4], [7, 9]])
    assert cfa.mosaic(tf.zeros((2, 6, 6, 3)), "xtrans").shape == (2, 6, 6, 1)
    with pytest.raises(InputError, match=r"\(4, 4, 4\)"):
        cfa.mosaic(np.zeros((4, 4, 4), np.float32), "RGGB")
    with pytest.raises(InputError):
        cfa.mosaic(np.zeros((4, 3), np.float32), "RGGB")


@pytest.mark.parametrize("name", ALL_PATTERNS)
def test_shift_pattern_matches_cropped_mosaic(name):
    rgb = tf.random.stateless_uniform((12, 12, 3), seed=[1, 2])
    for dy, dx in [(0, 1), (1, 0), (1, 1), (3, 5)]:
        cropped = cfa.mosaic(rgb, name)[dy:, dx:]
        np.testing.assert_array_equal(
            cropped, cfa.mosaic(rgb[dy:, dx:], cfa.shift_pattern(name, dy, dx))
        )


def test_phase_offset():
    assert cfa.phase_offset("RGGB", "RGGB") == (0, 0)
    assert cfa.phase_offset("GRBG", "RGGB") == (0, 1)
    assert cfa.phase_offset("BGGR", "RGGB") == (1, 1)
    shifted = cfa.shift_pattern("xtrans", 2, 4)
    dy, dx = cfa.phase_offset("xtrans", shifted)
    np.testing.assert_array_equal(cfa.shift_pattern("xtrans", dy, dx), shifted)
    with pytest.raises(UnsupportedCFAError):
        cfa.phase_offset("RGGB", "xtrans")


@pytest.mark.parametrize("name", ALL_PATTERNS)
def test_align_and_restore(name):
    reference = "RGGB" if name != "XTRANS" else cfa.shift_pattern("xtrans", 1, 2)
    rgb = tf.random.stateless_uniform((1, 14, 15, 3), seed=[3, 4])
    mosaic = cfa.mosaic(rgb, name)
    aligned, (dy, dx) = cfa.align_mosaic(mosaic, name, reference)
    np.testing.assert_array_equal(aligned, cfa.mosaic(rgb[:, dy:, dx:], reference))
    for mode in ("reflect", "edge"):
        restored = cfa.restore_alignment(aligned, (dy, dx), 14, 15, mode=mode)
        assert restored.shape == (1, 14, 15, 1)
        np.testing.assert_array_equal(restored[:, dy:, dx:], aligned)
    with pytest.raises(InputError):
        cfa.restore_alignment(aligned, (dy, dx), 14, 15, mode="wrap")


@pytest.mark.parametrize("name", ALL_PATTERNS)
def test_pad_for_phase_is_valid_mosaic(name):
    reference = "RGGB" if name != "XTRANS" else cfa.shift_pattern("xtrans", 3, 1)
    rgb = tf.random.stateless_uniform((13, 14, 3), seed=[5, 6])
    mosaic = cfa.mosaic(rgb, name)
    padded, (ty, tx) = cfa.pad_for_phase(mosaic, name, reference)
    masks = cfa.cfa_masks(reference, *padded.shape[:2])
    # Every padded pixel is a sample of the colour the reference CFA puts there.
    padded_rgb = tf.pad(rgb, [[ty, 0], [tx, 0], [0, 0]])
    copies = np.asarray(padded)[..., 0]
    assert np.all(np.isin(copies[:ty].ravel(), np.asarray(mosaic).ravel()))
    np.testing.assert_array_equal(cfa.crop_phase_padding(padded, (ty, tx)), mosaic)
    inner = cfa.mosaic(padded_rgb, reference)[ty:, tx:]
    np.testing.assert_array_equal(inner, mosaic)
    assert masks.shape[:2] == padded.shape[:2]


def test_pack_unpack_round_trip_and_errors():
    mosaic = tf.random.stateless_uniform((2, 6, 8, 1), seed=[7, 8])
    packed = cfa.pack_bayer(mosaic)
    assert packed.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(packed[0, 0, 0], mosaic[0, :2, :2, 0].numpy().ravel())
    np.testing.assert_array_equal(cfa.unpack_bayer(packed), mosaic)
    assert cfa.pack_bayer(mosaic[0]).shape == (3, 4, 4)
    with pytest.raises(InputError, match=r"\(5, 8, 1\)"):
        cfa.pack_bayer(tf.zeros((5, 8, 1)))
    with pytest.raises(InputError):
        cfa.unpack_bayer(tf.zeros((3, 4, 3)))


@pytest.mark.parametrize("period", [2, 6])
def test_cfa_reflect_index_keeps_the_phase_and_stays_inside(period):
    from tfraw.isp.cfa import cfa_reflect_index

    size = 13
    index = np.arange(-40, size + 40)
    source = cfa_reflect_index(index, size, period).numpy()
    assert source.min() >= 0 and source.max() < size
    np.testing.assert_array_equal(source % period, index % period)
    np.testing.assert_array_equal(source[40 : 40 + size], np.arange(size))
    # near the edge the source is the mirror image, moved by less than a period
    mirror = np.abs(index[34:40])
    assert np.all(np.abs(source[34:40] - mirror) < period)
    if period == 2:  # Bayer: exactly REFLECT
        np.testing.assert_array_equal(source[38:40], [2, 1])
