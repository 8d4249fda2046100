"""Tests for tfraw.isp.colorspace: XYZ, CIELAB, Oklab, Delta E 76 and CIEDE2000."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import colorspace as cs

# Sharma, Wu & Dalal (2005), Table 1: the 34 CIEDE2000 test pairs (Lab1, Lab2, Delta E 00).
SHARMA_PAIRS = [
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]

PIXEL_FNS = [
    cs.linear_srgb_to_xyz,
    cs.xyz_to_linear_srgb,
    cs.xyz_to_lab,
    cs.lab_to_xyz,
    cs.srgb_to_lab,
    cs.lab_to_srgb,
    cs.linear_srgb_to_oklab,
    cs.oklab_to_linear_srgb,
]
PIXEL_IDS = [f.__name__ for f in PIXEL_FNS]
ROUND_TRIPS = [
    (cs.linear_srgb_to_xyz, cs.xyz_to_linear_srgb),
    (cs.xyz_to_lab, cs.lab_to_xyz),
    (cs.srgb_to_lab, cs.lab_to_srgb),
    (cs.linear_srgb_to_oklab, cs.oklab_to_linear_srgb),
]


def _colors(shape=(4, 5, 3), low=0.0, high=1.0):
    return np.random.default_rng(0).uniform(low, high, size=shape).astype(np.float32)


@pytest.mark.parametrize("fn", PIXEL_FNS, ids=PIXEL_IDS)
@pytest.mark.parametrize("shape", [(3,), (7, 3), (2, 4, 5, 3)])
def test_shapes(fn, shape):
    out = fn(_colors(shape))
    assert out.dtype == tf.float32 and tuple(out.shape) == shape


@pytest.mark.parametrize("fn", PIXEL_FNS, ids=PIXEL_IDS)
def test_bad_shape_names_shape(fn):
    with pytest.raises(InputError, match=r"\(4, 4, 2\)"):
        fn(np.ones((4, 4, 2)))


@pytest.mark.parametrize("forward,inverse", ROUND_TRIPS, ids=["xyz", "lab", "srgb_lab", "oklab"])
def test_round_trip(forward, inverse):
    x = _colors((64, 3), -0.2, 1.5)  # out-of-gamut and HDR values survive too
    np.testing.assert_allclose(inverse(forward(x)).numpy(), x, atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "fn,x,expected,tol",
    [
        (cs.srgb_to_lab, (1.0, 1.0, 1.0), (100.0, 0.0, 0.0), 1e-3),
        (cs.srgb_to_lab, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 1e-4),
        # sRGB primaries in CIELAB D65 (published reference values, e.g. Lindbloom's calculator).
        (cs.srgb_to_lab, (1.0, 0.0, 0.0), (53.24, 80.09, 67.20), 0.05),
        (cs.srgb_to_lab, (0.0, 1.0, 0.0), (87.73, -86.18, 83.18), 0.05),
        (cs.srgb_to_lab, (0.0, 0.0, 1.0), (32.30, 79.19, -107.86), 0.05),
        # Y = 0.18: L* = 116 * 0.18^(1/3) - 16; X = Z = 0 sit on the linear segment, f = 4/29.
        (cs.xyz_to_lab, (0.0, 0.18, 0.0), (49.496, -213.345, 85.338), 2e-3),
        (cs.linear_srgb_to_oklab, (1.0, 1.0, 1.0), (1.0, 0.0, 0.0), 1e-4),
        # Ottosson's post: linear sRGB red -> Oklab (0.6279554, 0.2248631, 0.1258463).
        (cs.linear_srgb_to_oklab, (1.0, 0.0, 0.0), (0.627955, 0.224863, 0.125846), 1e-4),
    ],
)
def test_golden_values(fn, x, expected, tol):
    np.testing.assert_allclose(fn(x).numpy(), expected, atol=tol)


def test_lab_custom_white():
    d50 = np.array([0.9642, 1.0, 0.8249])
    np.testing.assert_allclose(cs.xyz_to_lab(d50, white=d50).numpy(), [100, 0, 0], atol=1e-3)
    with pytest.raises(InputError, match="white"):
        cs.xyz_to_lab(d50, white=[1.0, 1.0])


@pytest.mark.parametrize("index", range(len(SHARMA_PAIRS)))
def test_delta_e2000_sharma(index):
    lab1, lab2, expected = SHARMA_PAIRS[index]
    assert float(cs.delta_e2000(lab1, lab2)) == pytest.approx(expected, abs=1e-4)
    assert float(cs.delta_e2000(lab2, lab1)) == pytest.approx(expected, abs=1e-4)  # symmetric


def test_delta_e2000_batched():
    lab1 = np.array([p[0] for p in SHARMA_PAIRS]).reshape(2, 17, 3)
    lab2 = np.array([p[1] for p in SHARMA_PAIRS]).reshape(2, 17, 3)
    expected = np.array([p[2] for p in SHARMA_PAIRS]).reshape(2, 17)
    out = cs.delta_e2000(lab1, lab2)
    assert out.dtype == tf.float32 and tuple(out.shape) == (2, 17)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-4)


def test_delta_e76():
    assert float(cs.delta_e76([50.0, 0.0, 0.0], [50.0, 3.0, 4.0])) == pytest.approx(5.0)
    out = cs.delta_e76(np.zeros((2, 3, 3)), np.ones((2, 3, 3)))
    np.testing.assert_allclose(out.numpy(), np.sqrt(3.0), rtol=1e-6)


@pytest.mark.parametrize("fn", [cs.delta_e76, cs.delta_e2000])
def test_delta_e_identical_is_zero_and_shape_error(fn):
    lab = cs.srgb_to_lab(_colors((8, 3)))
    np.testing.assert_allclose(fn(lab, lab).numpy(), 0.0, atol=1e-6)
    with pytest.raises(InputError, match=r"\(2, 3\).*\(5, 3\)"):
        fn(np.ones((2, 3)), np.ones((5, 3)))


@pytest.mark.parametrize("fn", PIXEL_FNS, ids=PIXEL_IDS)
def test_pixel_gradients_finite(fn):
    x = tf.constant(np.concatenate([_colors((8, 3)), np.zeros((1, 3), np.float32)]))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(fn(x))
    assert np.all(np.isfinite(tape.gradient(y, x).numpy()))


@pytest.mark.parametrize("fn", [cs.delta_e76, cs.delta_e2000])
def test_delta_e_gradients_finite(fn):
    a = cs.srgb_to_lab(_colors((8, 3)))
    b = tf.concat([a[:4], cs.srgb_to_lab(_colors((4, 3), 0.2, 0.9))], axis=0)
    b = tf.concat([b, tf.zeros((1, 3))], axis=0)  # includes identical and achromatic pairs
    a = tf.concat([a, tf.zeros((1, 3))], axis=0)
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        loss = tf.reduce_sum(fn(a, b))
    for grad in tape.gradient(loss, [a, b]):
        assert np.all(np.isfinite(grad.numpy()))


@pytest.mark.parametrize("fn", PIXEL_FNS, ids=PIXEL_IDS)
def test_pixel_eager_equals_graph(fn):
    x = tf.constant(_colors((2, 3, 4, 3)))
    graph = tf.function(fn, input_signature=[tf.TensorSpec([None, None, None, 3])])
    np.testing.assert_allclose(graph(x).numpy(), fn(x).numpy(), rtol=1e-5, atol=1e-5)


def test_delta_e2000_eager_equals_graph():
    a, b = cs.srgb_to_lab(_colors((6, 3))), cs.srgb_to_lab(_colors((6, 3), 0.1, 0.8))
    graph = tf.function(cs.delta_e2000, input_signature=[tf.TensorSpec([None, 3])] * 2)
    np.testing.assert_allclose(graph(a, b).numpy(), cs.delta_e2000(a, b).numpy(), rtol=1e-6)
