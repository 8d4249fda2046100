"""Tests for tfraw.isp.transfer: sRGB, BT.2100 HLG and PQ."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import transfer

PAIRS = [
    (transfer.linear_to_srgb, transfer.srgb_to_linear),
    (transfer.linear_to_hlg, transfer.hlg_to_linear),
    (transfer.linear_to_pq, transfer.pq_to_linear),
]
ALL = [f for pair in PAIRS for f in pair]
IDS = [f.__name__ for f in ALL]


@pytest.mark.parametrize("fn", ALL, ids=IDS)
@pytest.mark.parametrize("shape", [(), (5,), (2, 4, 3), (1, 2, 3, 3)])
def test_shape_and_dtype(fn, shape):
    out = fn(np.full(shape, 0.3, np.float64))
    assert isinstance(out, tf.Tensor)
    assert out.dtype == tf.float32
    assert tuple(out.shape) == shape


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_rejects_non_numeric(fn):
    with pytest.raises(InputError, match="numeric"):
        fn(np.array(["a", "b"]))


@pytest.mark.parametrize("encode,decode", PAIRS, ids=["srgb", "hlg", "pq"])
def test_round_trip_including_hdr_and_negatives(encode, decode):
    x = np.concatenate([-np.geomspace(1e-4, 4, 50), [0.0], np.geomspace(1e-4, 4, 50)])
    back = decode(encode(x)).numpy()
    np.testing.assert_allclose(back, x, rtol=2e-3, atol=1e-6)


@pytest.mark.parametrize("encode,decode", PAIRS, ids=["srgb", "hlg", "pq"])
def test_sign_symmetric(encode, decode):
    x = np.linspace(0.01, 2.0, 17)
    np.testing.assert_allclose(encode(-x).numpy(), -encode(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(decode(-x).numpy(), -decode(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn", [p[0] for p in PAIRS], ids=["srgb", "hlg", "pq"])
def test_monotone_above_one(fn):
    y = fn(np.linspace(0.0, 8.0, 200)).numpy()
    assert np.all(np.diff(y) > 0)
    assert y[-1] > 1.0


@pytest.mark.parametrize(
    "fn,x,expected",
    [
        (transfer.linear_to_srgb, 0.0031308, 0.04045),  # the IEC 61966-2-1 breakpoint
        (transfer.linear_to_srgb, 1.0, 1.0),
        (transfer.linear_to_srgb, 0.18, 0.461356),  # middle grey
        (transfer.srgb_to_linear, 0.04045, 0.0031308),
        (transfer.srgb_to_linear, 0.5, 0.214041),
        (transfer.linear_to_hlg, 1.0 / 12.0, 0.5),  # BT.2100: E = 1/12 -> E' = 0.5
        (transfer.linear_to_hlg, 1.0, 1.0),
        (transfer.hlg_to_linear, 1.0, 1.0),
        (transfer.linear_to_pq, 1.0, 1.0),  # 10000 cd/m^2 -> 1.0
        (transfer.linear_to_pq, 0.01, 0.508078),  # 100 cd/m^2 (SDR white) ~ 0.508
        (transfer.pq_to_linear, 1.0, 1.0),
        (transfer.linear_to_pq, 0.0, 0.0),
    ],
)
def test_golden_values(fn, x, expected):
    assert float(fn(x)) == pytest.approx(expected, abs=2e-5)


def test_hlg_constants_match_bt2100():
    assert transfer.HLG_B == pytest.approx(0.28466892, abs=1e-8)
    assert transfer.HLG_C == pytest.approx(0.55991073, abs=1e-8)


def test_pq_saturates_at_asymptote():
    y = transfer.pq_to_linear([1.9, 2.0, 5.0]).numpy()
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_finite_gradients(fn):
    x = tf.constant([-2.0, -0.5, -1e-3, 0.0, 1e-6, 1e-3, 0.04, 0.5, 1.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    grad = tape.gradient(y, x).numpy()
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("fn", ALL, ids=IDS)
def test_eager_equals_graph(fn):
    x = tf.constant(np.linspace(-1.5, 1.5, 31), tf.float32)
    graph = tf.function(fn, input_signature=[tf.TensorSpec([None], tf.float32)])
    np.testing.assert_allclose(graph(x).numpy(), fn(x).numpy(), rtol=1e-6, atol=1e-7)
