"""Tests for tfraw.isp.quantize: grid snapping, integer codes and bin bounds."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import quantize as qz


@pytest.mark.parametrize("shape", [(), (5,), (2, 4, 4, 3)])
@pytest.mark.parametrize("bits", [1, 8, 10, 16])
def test_quantize_shape_and_grid(shape, bits):
    x = np.random.default_rng(0).uniform(-0.2, 1.2, size=shape)
    out = qz.quantize(x, bits).numpy()
    assert out.dtype == np.float32 and out.shape == shape
    levels = 2**bits - 1
    codes = out.astype(np.float64) * levels
    np.testing.assert_allclose(codes, np.round(codes), atol=1e-3)
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize(
    "x,bits,mode,expected_code",
    [
        (0.5, 1, "round", 1),  # half up, not half to even
        (0.5 / 255, 8, "round", 1),
        (1.5 / 255, 8, "round", 2),
        (2.5 / 255, 8, "round", 3),
        (0.3, 8, "round", 77),  # 76.5 -> 77
        (0.3, 8, "floor", 76),
        (1.0, 8, "floor", 255),
        (1.7, 8, "round", 255),
        (-0.1, 8, "round", 0),
        (0.5, 10, "round", 512),
    ],
)
def test_golden_codes(x, bits, mode, expected_code):
    assert int(qz.to_integer(x, bits, mode)) == expected_code
    assert float(qz.quantize(x, bits, mode)) == pytest.approx(expected_code / (2**bits - 1))


@pytest.mark.parametrize(
    "bits,dtype", [(1, tf.uint8), (8, tf.uint8), (10, tf.uint16), (16, tf.uint16)]
)
def test_to_integer_dtype(bits, dtype):
    assert qz.to_integer(np.ones((2, 3)), bits).dtype == dtype


@pytest.mark.parametrize("bits", [8, 10, 16])
def test_integer_round_trip(bits):
    q = np.arange(0, 2**bits, max(1, 2**bits // 512))
    x = qz.from_integer(q, bits)
    assert x.dtype == tf.float32
    np.testing.assert_array_equal(qz.to_integer(x, bits).numpy(), q)
    np.testing.assert_allclose(qz.quantize(x, bits).numpy(), x.numpy(), atol=1e-7)


@pytest.mark.parametrize("mode", ["round", "floor"])
@pytest.mark.parametrize("bits", [4, 8])
def test_bin_bounds_contain_exactly_their_code(mode, bits):
    levels = 2**bits - 1
    q = np.arange(levels + 1)
    low, high = (b.numpy().astype(np.float64) for b in qz.bin_bounds(q, bits, mode))
    assert low[0] == 0.0 and high[-1] == 1.0
    np.testing.assert_allclose(low[1:], high[:-1], atol=1e-7)  # bins tile [0, 1]
    inside = low + 0.5 * (high - low)
    np.testing.assert_array_equal(qz.to_integer(inside, bits, mode).numpy(), q)


def test_bin_bounds_golden():
    low, high = qz.bin_bounds(np.array([0, 128, 255], np.uint8), 8)
    np.testing.assert_allclose(low.numpy() * 255, [0.0, 127.5, 254.5], atol=1e-4)
    np.testing.assert_allclose(high.numpy() * 255, [0.5, 128.5, 255.0], atol=1e-4)


@pytest.mark.parametrize("bits", [0, 17, 8.0, True, "8"])
def test_bad_bits(bits):
    with pytest.raises(InputError, match="bits"):
        qz.quantize([0.5], bits)
    with pytest.raises(InputError, match="bits"):
        qz.to_integer([0.5], bits)


def test_bad_mode_and_dtype():
    with pytest.raises(InputError, match="mode"):
        qz.quantize([0.5], 8, mode="nearest")
    with pytest.raises(InputError, match="mode"):
        qz.bin_bounds([3], 8, mode="ceil")
    with pytest.raises(InputError, match="numeric"):
        qz.from_integer(np.array(["a"]), 8)


@pytest.mark.parametrize("straight_through,expected", [(False, 0.0), (True, 1.0)])
def test_gradients(straight_through, expected):
    x = tf.constant([0.1, 0.5, 0.9, 1.5, -0.3])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(qz.quantize(x, 8, straight_through=straight_through))
    grad = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(grad[:3], expected)
    np.testing.assert_allclose(grad[3:], 0.0)  # outside [0, 1] the clip has no gradient


@pytest.mark.parametrize("mode", ["round", "floor"])
def test_eager_equals_graph(mode):
    x = tf.random.stateless_uniform((2, 8, 8, 3), seed=(3, 4), minval=-0.1, maxval=1.1)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3])])
    def graph(v):
        low, high = qz.bin_bounds(qz.to_integer(v, 8, mode), 8, mode)
        return qz.quantize(v, 8, mode), qz.from_integer(qz.to_integer(v, 10, mode), 10), low, high

    eager_low, eager_high = qz.bin_bounds(qz.to_integer(x, 8, mode), 8, mode)
    expected = (
        qz.quantize(x, 8, mode),
        qz.from_integer(qz.to_integer(x, 10, mode), 10),
        eager_low,
        eager_high,
    )
    for got, want in zip(graph(x), expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-7)  # grappler: x*(1/n)
