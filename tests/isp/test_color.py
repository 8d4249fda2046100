"""Tests for tfraw.isp.color: white balance, CCMs, camera->sRGB, CCT and DNG interpolation."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import color

# A plausible camera: XYZ -> camera matrix (a Canon-like DNG ColorMatrix2 for D65, scaled).
CM_D65 = np.array(
    [[0.6461, -0.0907, -0.0882], [-0.4300, 1.2184, 0.2378], [-0.0819, 0.1944, 0.5931]]
)
CM_A = np.array([[0.6939, -0.1015, -0.0590], [-0.5042, 1.2620, 0.2573], [-0.1138, 0.2208, 0.6544]])
IDENTITY_CAMERA = np.linalg.inv(color.SRGB_TO_XYZ_D65)  # a camera that sees linear sRGB


# --- constants -----------------------------------------------------------------------------------


def test_srgb_matrices_are_inverse_and_match_standard():
    np.testing.assert_allclose(color.SRGB_TO_XYZ_D65 @ color.XYZ_D65_TO_SRGB, np.eye(3), atol=1e-12)
    printed = [[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]]
    np.testing.assert_allclose(color.XYZ_D65_TO_SRGB, printed, atol=1e-3)


def test_white_points():
    np.testing.assert_allclose(color.D65_WHITE_XYZ, [0.9505, 1.0, 1.089], atol=1e-4)
    np.testing.assert_allclose(color.D50_WHITE_XYZ, [0.9642, 1.0, 0.8249], atol=1e-4)


# --- apply_white_balance / apply_ccm ----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (4, 5, 3), (2, 4, 5, 3)])
def test_white_balance_shapes(shape):
    out = color.apply_white_balance(np.ones(shape), [2.0, 1.0, 1.5])
    assert out.dtype == tf.float32 and tuple(out.shape) == shape
    np.testing.assert_allclose(out.numpy()[..., 0], 2.0)


def test_white_balance_per_batch():
    out = color.apply_white_balance(np.ones((2, 3, 3, 3)), [[2.0, 1.0, 1.0], [1.0, 1.0, 3.0]])
    np.testing.assert_allclose(out.numpy()[0, ..., 0], 2.0)
    np.testing.assert_allclose(out.numpy()[1, ..., 2], 3.0)


def test_white_balance_keeps_values_above_one():
    assert float(color.apply_white_balance([[[0.9, 0.9, 0.9]]], [2.0, 1.0, 1.0])[0, 0, 0]) > 1.0


@pytest.mark.parametrize(
    "rgb_shape,gains_shape",
    [((4, 4, 2), (3,)), ((4, 4, 3), (4,)), ((2, 4, 4, 3), (3, 3)), ((4, 4, 3), (2, 3))],
)
def test_white_balance_errors(rgb_shape, gains_shape):
    with pytest.raises(InputError, match=r"shape|batch"):
        color.apply_white_balance(np.ones(rgb_shape), np.ones(gains_shape))


def test_white_balance_error_names_shape():
    with pytest.raises(InputError, match=r"\(4, 4, 2\)"):
        color.apply_white_balance(np.ones((4, 4, 2)), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("shape", [(3,), (4, 5, 3), (2, 4, 5, 3)])
def test_ccm_matches_numpy(shape):
    rng = np.random.default_rng(0)
    rgb, ccm = rng.normal(size=shape), rng.normal(size=(3, 3))
    out = color.apply_ccm(rgb, ccm)
    np.testing.assert_allclose(out.numpy(), rgb @ ccm.T, rtol=1e-5, atol=1e-5)


def test_ccm_per_batch():
    rng = np.random.default_rng(1)
    rgb, ccm = rng.normal(size=(2, 3, 4, 3)), rng.normal(size=(2, 3, 3))
    out = color.apply_ccm(rgb, ccm).numpy()
    for b in range(2):
        np.testing.assert_allclose(out[b], rgb[b] @ ccm[b].T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rgb_shape,ccm_shape", [((4, 4, 3), (3, 4)), ((4, 3, 3), (2, 3, 3))])
def test_ccm_errors(rgb_shape, ccm_shape):
    with pytest.raises(InputError, match="shape"):
        color.apply_ccm(np.ones(rgb_shape), np.ones(ccm_shape))


def test_pixel_ops_gradients_and_graph():
    rgb = tf.random.stateless_uniform((2, 4, 4, 3), seed=(1, 2))
    gains = tf.constant([[2.0, 1.0, 1.5], [1.8, 1.0, 1.2]])
    ccm = tf.constant(np.stack([CM_D65, CM_A]), tf.float32)

    def f(x, g, m):
        return color.apply_ccm(color.apply_white_balance(x, g), m)

    with tf.GradientTape() as tape:
        tape.watch([rgb, gains, ccm])
        loss = tf.reduce_sum(f(rgb, gains, ccm))
    for grad in tape.gradient(loss, [rgb, gains, ccm]):
        assert np.all(np.isfinite(grad.numpy()))
    graph = tf.function(
        f,
        input_signature=[
            tf.TensorSpec([None, None, None, 3]),
            tf.TensorSpec([None, 3]),
            tf.TensorSpec([None, 3, 3]),
        ],
    )
    np.testing.assert_allclose(graph(rgb, gains, ccm), f(rgb, gains, ccm), rtol=1e-6)


# --- camera_to_srgb_matrix / white balance gains ---------------------------------------------------


def test_camera_to_srgb_identity_camera():
    np.testing.assert_allclose(color.camera_to_srgb_matrix(IDENTITY_CAMERA), np.eye(3), atol=1e-6)


def test_camera_to_srgb_maps_balanced_white_to_white():
    m = color.camera_to_srgb_matrix(CM_D65).numpy()
    np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-5)
    batched = color.camera_to_srgb_matrix(np.stack([CM_D65, CM_A]))
    assert tuple(batched.shape) == (2, 3, 3)
    np.testing.assert_allclose(batched[0], m, atol=1e-6)


def test_camera_to_srgb_error():
    with pytest.raises(InputError, match=r"\(3, 4\)"):
        color.camera_to_srgb_matrix(np.ones((3, 4)))


def test_gains_from_neutral():
    gains = color.white_balance_gains_from_neutral([0.5, 1.0, 0.25]).numpy()
    np.testing.assert_allclose(gains, [2.0, 1.0, 4.0])
    batched = color.white_balance_gains_from_neutral([[0.5, 0.8, 0.4], [1.0, 1.0, 1.0]]).numpy()
    np.testing.assert_allclose(batched[:, 1], 1.0)


@pytest.mark.parametrize("neutral", [[0.5, 0.0, 0.3], [0.5, -1.0, 0.3], [0.5, 1.0]])
def test_gains_from_neutral_errors(neutral):
    with pytest.raises(InputError):
        color.white_balance_gains_from_neutral(neutral)


# --- illuminants, chromaticity, CCT ---------------------------------------------------------------


@pytest.mark.parametrize("code,cct", [(17, 2856.0), (21, 6504.0), (23, 5003.0), (24, 3200.0)])
def test_illuminant_to_cct(code, cct):
    assert color.illuminant_to_cct(code) == cct


@pytest.mark.parametrize("code", [0, 5, 255, "x"])
def test_illuminant_unknown(code):
    with pytest.raises(InputError, match="LightSource"):
        color.illuminant_to_cct(code)


def test_xyz_xy_round_trip():
    xyz = np.array([[0.2, 0.3, 0.4], [0.9505, 1.0, 1.089]])
    xy = color.xyz_to_xy(xyz)
    back = color.xy_to_xyz(xy).numpy() * xyz[:, 1:2]
    np.testing.assert_allclose(back, xyz, rtol=1e-5)
    np.testing.assert_allclose(color.xyz_to_xy([0.0, 0.0, 0.0]), [0.3127, 0.3290], atol=1e-4)


@pytest.mark.parametrize(
    "xy,cct,tol",
    [
        ((0.3127, 0.3290), 6504.0, 3.0),  # D65
        ((0.4476, 0.4074), 2856.0, 3.0),  # illuminant A
        ((0.3457, 0.3585), 5003.0, 3.0),  # D50
    ],
)
def test_xy_to_cct_golden(xy, cct, tol):
    assert float(color.xy_to_cct(xy)) == pytest.approx(cct, abs=tol)


def test_cct_xy_round_trip():
    cct = np.linspace(2000.0, 12000.0, 201)
    back = color.xy_to_cct(color.cct_to_xy(cct)).numpy()
    np.testing.assert_array_less(np.abs(back - cct), 1.0)


@pytest.mark.parametrize("bad", [[0.3, 0.3, 0.3], [[0.3]]])
def test_xy_shape_errors(bad):
    with pytest.raises(InputError, match="shape"):
        color.xy_to_cct(bad)


def test_cct_to_xy_rejects_non_positive():
    with pytest.raises(InputError):
        color.cct_to_xy([5000.0, 0.0])


def test_cct_functions_in_graph():
    xy = tf.constant([[0.3127, 0.3290], [0.4476, 0.4074]])
    graph = tf.function(color.xy_to_cct, input_signature=[tf.TensorSpec([None, 2])])
    np.testing.assert_allclose(graph(xy), color.xy_to_cct(xy), rtol=1e-6)
    graph_inv = tf.function(color.cct_to_xy, input_signature=[tf.TensorSpec([None])])
    cct = tf.constant([3000.0, 6500.0])
    np.testing.assert_allclose(graph_inv(cct), color.cct_to_xy(cct), rtol=1e-6)


# --- DNG matrix interpolation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "cct,weight",
    [(2000.0, 1.0), (2856.0, 1.0), (6504.0, 0.0), (9000.0, 0.0), (4000.0, 0.490092)],
)
def test_interpolate_color_matrix(cct, weight):
    m = color.interpolate_color_matrix(CM_A, CM_D65, 2856.0, 6504.0, cct).numpy()
    np.testing.assert_allclose(m, weight * CM_A + (1 - weight) * CM_D65, atol=1e-5)


def test_interpolate_equal_illuminants_gives_m1():
    m = color.interpolate_color_matrix(CM_A, CM_D65, 5000.0, 5000.0, 6000.0)
    np.testing.assert_allclose(m, CM_A, atol=1e-6)


def test_interpolate_shape_error():
    with pytest.raises(InputError, match=r"\(2, 3\)"):
        color.interpolate_color_matrix(np.ones((2, 3)), CM_D65, 2856.0, 6504.0, 5000.0)


def _neutral_for(cct: float) -> np.ndarray:
    """AsShotNeutral a camera with (CM_A, CM_D65) records for a Planckian white at ``cct``."""
    cm = color.interpolate_color_matrix(CM_A, CM_D65, 2856.0, 6504.0, cct).numpy()
    xyz = color.xy_to_xyz(color.cct_to_xy(cct)).numpy()
    neutral = cm.astype(np.float64) @ xyz
    return neutral / neutral.max()


@pytest.mark.parametrize("cct", [2500.0, 3500.0, 5000.0, 6504.0, 8000.0])
def test_estimate_cct_recovers_scene(cct):
    est = color.estimate_cct_from_neutral(_neutral_for(cct), CM_A, CM_D65, 2856.0, 6504.0)
    assert est.shape == () and est.dtype == tf.float32
    assert float(est) == pytest.approx(cct, rel=2e-3)


def test_estimate_cct_identity_camera_is_d65():
    est = color.estimate_cct_from_neutral(
        [1.0, 1.0, 1.0], IDENTITY_CAMERA, IDENTITY_CAMERA, 2856, 6504
    )
    assert float(est) == pytest.approx(6504.0, abs=3.0)


def test_estimate_cct_errors():
    with pytest.raises(InputError, match="iterations"):
        color.estimate_cct_from_neutral([1.0, 1.0, 1.0], CM_A, CM_D65, 2856.0, 6504.0, 0)
    with pytest.raises(InputError, match=r"\(4,\)"):
        color.estimate_cct_from_neutral([1.0, 1.0, 1.0, 1.0], CM_A, CM_D65, 2856.0, 6504.0)


def test_xyz_to_camera_for_neutral():
    neutral = _neutral_for(4000.0)
    m = color.xyz_to_camera_for_neutral(neutral, CM_A, CM_D65, 2856.0, 6504.0).numpy()
    expected = color.interpolate_color_matrix(CM_A, CM_D65, 2856.0, 6504.0, 4000.0).numpy()
    np.testing.assert_allclose(m, expected, atol=1e-3)
    graph = tf.function(color.xyz_to_camera_for_neutral)
    np.testing.assert_allclose(
        graph(tf.constant(neutral), CM_A, CM_D65, 2856.0, 6504.0), m, atol=1e-6
    )
