"""Colour correction: white balance, colour matrices, camera->sRGB, CCT and DNG matrix interpolation.

Pixel-level functions (:func:`apply_white_balance`, :func:`apply_ccm`) are float32 and
differentiable. Metadata-level functions (matrices, chromaticities, CCT) accept numpy or tf input,
compute in float64 with TF ops (so they also run inside ``tf.function``) and return float32
tensors.

References:
    - IEC 61966-2-1:1999 (sRGB), section 5.2 (primaries and D65 white, RGB<->XYZ matrices).
    - Adobe Digital Negative (DNG) Specification 1.6.0.0 (2021), chapter 6 "Mapping Camera Color
      Space to CIE XYZ Space" (ColorMatrix interpolation, AsShotNeutral -> white point).
    - CIPA DC-008-2019 (Exif 2.32), tag LightSource (0x9208).
    - A. R. Robertson, "Computation of Correlated Color Temperature and Distribution Temperature",
      J. Opt. Soc. Am. 58(11), 1528-1535 (1968); table as reprinted in Wyszecki & Stiles,
      "Color Science", 2nd ed. (1982), Table 1(3.11).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp._checks import to_float_tensor as _to_float

__all__ = [
    "D50_WHITE_XYZ",
    "D65_WHITE_XYZ",
    "ILLUMINANT_CCT",
    "SRGB_TO_XYZ_D65",
    "XYZ_D65_TO_SRGB",
    "apply_ccm",
    "apply_white_balance",
    "camera_to_srgb_matrix",
    "cct_to_xy",
    "estimate_cct_from_neutral",
    "illuminant_to_cct",
    "interpolate_color_matrix",
    "white_balance_gains_from_neutral",
    "xy_to_cct",
    "xy_to_xyz",
    "xyz_to_camera_for_neutral",
    "xyz_to_xy",
]

# IEC 61966-2-1:1999 eq. (5.2)/(5.3): linear sRGB -> CIE XYZ (D65), 4-decimal values of the standard.
SRGB_TO_XYZ_D65: np.ndarray = np.array(
    [
        [0.4124, 0.3576, 0.1805],
        [0.2126, 0.7152, 0.0722],
        [0.0193, 0.1192, 0.9505],
    ],
    dtype=np.float64,
)
# The standard prints the inverse rounded to 4 decimals (3.2406, -1.5372, -0.4986, ...); the exact
# inverse is used (it agrees to <1e-4) so that sRGB -> XYZ -> sRGB round trips to float precision.
XYZ_D65_TO_SRGB: np.ndarray = np.linalg.inv(SRGB_TO_XYZ_D65)

# D65 white as the sRGB standard defines it: SRGB_TO_XYZ_D65 @ (1, 1, 1) = (0.9505, 1.0, 1.0890)
# (IEC 61966-2-1, x = 0.3127, y = 0.3290), so sRGB white maps to Lab (100, 0, 0) exactly.
D65_WHITE_XYZ: np.ndarray = SRGB_TO_XYZ_D65.sum(axis=1)
# D50 as the ICC profile connection space illuminant (ICC.1:2010, section 7.2.16).
D50_WHITE_XYZ: np.ndarray = np.array([0.9642, 1.0, 0.8249], dtype=np.float64)

# Exif LightSource (tag 0x9208, CIPA DC-008 / DNG CalibrationIlluminant1/2) -> CCT in kelvin.
# CIE standard illuminants use their nominal CCTs (CIE 15:2018: A 2856 K, B 4874 K, C 6774 K,
# D50/D55/D65/D75 5003/5503/6504/7504 K); fluorescent classes use the midpoint of the range the Exif
# spec names for them (D 5700-7100, N 4600-5400, W 3900-4500, WW 3200-3700, L 2600-3250 K); the
# weather/flash codes follow the Adobe DNG SDK convention (daylight/flash/fine 5500 K, cloudy
# 6500 K, shade 7500 K). 0 (unknown) and 255 (other) have no temperature.
ILLUMINANT_CCT: dict[int, float] = {
    1: 5500.0,  # Daylight
    2: 4200.0,  # Fluorescent (taken as cool white, W)
    3: 2856.0,  # Tungsten (incandescent), taken as CIE illuminant A
    4: 5500.0,  # Flash
    9: 5500.0,  # Fine weather
    10: 6500.0,  # Cloudy weather
    11: 7500.0,  # Shade
    12: 6400.0,  # Daylight fluorescent (D 5700-7100 K)
    13: 5000.0,  # Day white fluorescent (N 4600-5400 K)
    14: 4200.0,  # Cool white fluorescent (W 3900-4500 K)
    15: 3450.0,  # White fluorescent (WW 3200-3700 K)
    16: 2925.0,  # Warm white fluorescent (L 2600-3250 K)
    17: 2856.0,  # Standard light A
    18: 4874.0,  # Standard light B
    19: 6774.0,  # Standard light C
    20: 5503.0,  # D55
    21: 6504.0,  # D65
    22: 7504.0,  # D75
    23: 5003.0,  # D50
    24: 3200.0,  # ISO studio tungsten
}

# Robertson (1968) isotemperature lines: (reciprocal temperature in mired, u, v, slope t) in the
# CIE 1960 UCS. Row 325 mired has u = 0.24792 as in Robertson's paper (the DNG SDK's table carries a
# 0.24702 misprint there).
_ROBERTSON_TABLE = np.array(
    [
        [0.0, 0.18006, 0.26352, -0.24341],
        [10.0, 0.18066, 0.26589, -0.25479],
        [20.0, 0.18133, 0.26846, -0.26876],
        [30.0, 0.18208, 0.27119, -0.28539],
        [40.0, 0.18293, 0.27407, -0.30470],
        [50.0, 0.18388, 0.27709, -0.32675],
        [60.0, 0.18494, 0.28021, -0.35156],
        [70.0, 0.18611, 0.28342, -0.37915],
        [80.0, 0.18740, 0.28668, -0.40955],
        [90.0, 0.18880, 0.28997, -0.44278],
        [100.0, 0.19032, 0.29326, -0.47888],
        [125.0, 0.19462, 0.30141, -0.58204],
        [150.0, 0.19962, 0.30921, -0.70471],
        [175.0, 0.20525, 0.31647, -0.84901],
        [200.0, 0.21142, 0.32312, -1.0182],
        [225.0, 0.21807, 0.32909, -1.2168],
        [250.0, 0.22511, 0.33439, -1.4512],
        [275.0, 0.23247, 0.33904, -1.7298],
        [300.0, 0.24010, 0.34308, -2.0637],
        [325.0, 0.24792, 0.34655, -2.4681],
        [350.0, 0.25591, 0.34951, -2.9641],
        [375.0, 0.26400, 0.35200, -3.5814],
        [400.0, 0.27218, 0.35407, -4.3633],
        [425.0, 0.28039, 0.35577, -5.3762],
        [450.0, 0.28863, 0.35714, -6.7262],
        [475.0, 0.29685, 0.35823, -8.5955],
        [500.0, 0.30505, 0.35907, -11.324],
        [525.0, 0.31320, 0.35968, -15.628],
        [550.0, 0.32129, 0.36011, -23.325],
        [575.0, 0.32931, 0.36038, -40.770],
        [600.0, 0.33724, 0.36051, -116.45],
    ],
    dtype=np.float64,
)
# Valid CCT range of the table: 600 mired (1667 K) up to a floor of 1 mired (1,000,000 K).
_MIN_MIRED = 1.0
_MAX_MIRED = 600.0


def _to_f64(x, name: str) -> tf.Tensor:
    return _to_float(x, name, tf.float64)


def _check_last(x: tf.Tensor, dims: tuple[int, ...], name: str) -> None:
    """Raises InputError unless the trailing static dims of ``x`` equal ``dims``."""
    shape = x.shape
    n = len(dims)
    if shape.rank is None:
        return
    if shape.rank < n or any(
        s is not None and s != d for s, d in zip(shape[-n:], dims, strict=True)
    ):
        want = "(..., " + ", ".join(str(d) for d in dims) + ")"
        raise InputError(f"{name} must have shape {want}, got shape {tuple(shape)}")


def _check_positive(x: tf.Tensor, name: str) -> None:
    """Value check, eager only (graph tensors have no values to inspect at trace time)."""
    if tf.executing_eagerly() and not bool(tf.reduce_all(x > 0.0)):
        raise InputError(f"{name} must be finite and > 0, got {x.numpy().tolist()}")


# ----------------------------------------------------------------------------------------------
# Pixel operations
# ----------------------------------------------------------------------------------------------


def apply_white_balance(rgb: tf.Tensor | np.ndarray, gains: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Multiplies each channel by its white-balance gain (no clipping).

    Args:
        rgb: float image, shape ``(..., 3)`` (e.g. ``(H, W, 3)`` or ``(B, H, W, 3)``), linear
            camera RGB, any real value range.
        gains: ``(3,)`` gains for every pixel, or ``(B, 3)`` per-image gains when ``rgb`` is
            ``(B, H, W, 3)``. Typically in [1, 8] with green = 1.

    Returns:
        tf.float32 tensor, same shape as ``rgb``.

    Raises:
        InputError: on a trailing dimension other than 3 or a batch of gains that does not match.

    Example:
        >>> apply_white_balance(tf.ones((2, 2, 3)), [2.0, 1.0, 1.5]).numpy()[0, 0].tolist()
        [2.0, 1.0, 1.5]
    """
    rgb = _to_float(rgb, "rgb")
    gains = _to_float(gains, "gains")
    _check_last(rgb, (3,), "rgb")
    _check_last(gains, (3,), "gains")
    if gains.shape.rank == 1:
        return rgb * gains
    if gains.shape.rank == 2 and rgb.shape.rank == 4:
        if None not in (gains.shape[0], rgb.shape[0]) and gains.shape[0] != rgb.shape[0]:
            raise InputError(
                f"gains batch {tuple(gains.shape)} does not match rgb batch {tuple(rgb.shape)}"
            )
        return rgb * gains[:, tf.newaxis, tf.newaxis, :]
    raise InputError(
        f"gains must be (3,) or (B, 3) with rgb (B, H, W, 3); got gains shape "
        f"{tuple(gains.shape)} and rgb shape {tuple(rgb.shape)}"
    )


def apply_ccm(rgb: tf.Tensor | np.ndarray, ccm: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Applies a 3x3 colour matrix to every pixel: ``out_pixel = ccm @ in_pixel``.

    Args:
        rgb: float image, shape ``(..., 3)``, linear, any real value range.
        ccm: ``(3, 3)`` matrix for every pixel, or ``(B, 3, 3)`` per-image matrices when ``rgb``
            is ``(B, H, W, 3)``.

    Returns:
        tf.float32 tensor, same shape as ``rgb``; values are not clipped.

    Raises:
        InputError: on wrong trailing dimensions or mismatched batches.

    Example:
        >>> swap = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
        >>> apply_ccm([[1.0, 2.0, 3.0]], swap).numpy().tolist()
        [[2.0, 1.0, 3.0]]
    """
    rgb = _to_float(rgb, "rgb")
    ccm = _to_float(ccm, "ccm")
    _check_last(rgb, (3,), "rgb")
    _check_last(ccm, (3, 3), "ccm")
    if ccm.shape.rank == 2:
        return tf.einsum("...j,ij->...i", rgb, ccm)
    if ccm.shape.rank == 3 and rgb.shape.rank == 4:
        if None not in (ccm.shape[0], rgb.shape[0]) and ccm.shape[0] != rgb.shape[0]:
            raise InputError(
                f"ccm batch {tuple(ccm.shape)} does not match rgb batch {tuple(rgb.shape)}"
            )
        return tf.einsum("bhwj,bij->bhwi", rgb, ccm)
    raise InputError(
        f"ccm must be (3, 3) or (B, 3, 3) with rgb (B, H, W, 3); got ccm shape "
        f"{tuple(ccm.shape)} and rgb shape {tuple(rgb.shape)}"
    )


# ----------------------------------------------------------------------------------------------
# Metadata: matrices and white balance
# ----------------------------------------------------------------------------------------------


def camera_to_srgb_matrix(xyz_to_camera: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Builds the white-balanced camera RGB -> linear sRGB matrix from a DNG-style ColorMatrix.

    The dcraw / LibRaw construction: ``rgb_to_cam = xyz_to_camera @ SRGB_TO_XYZ_D65``, each row
    normalized to sum 1 (so the camera's white, after white balance, maps to sRGB white
    (1, 1, 1)), then inverted.

    Args:
        xyz_to_camera: ``(3, 3)`` or ``(B, 3, 3)`` XYZ(D65) -> camera matrix (DNG ColorMatrix, or
            LibRaw's ``rgb_xyz_matrix[:3]``), any scale.

    Returns:
        tf.float32 ``(3, 3)`` or ``(B, 3, 3)`` camera -> sRGB matrix whose rows sum to 1.

    Raises:
        InputError: on a shape other than ``(..., 3, 3)``.

    Example:
        >>> m = camera_to_srgb_matrix(np.linalg.inv(SRGB_TO_XYZ_D65))
        >>> np.allclose(m.numpy(), np.eye(3), atol=1e-6)
        True
    """
    m = _to_f64(xyz_to_camera, "xyz_to_camera")
    _check_last(m, (3, 3), "xyz_to_camera")
    if m.shape.rank not in (2, 3):
        raise InputError(f"xyz_to_camera must be (3, 3) or (B, 3, 3), got shape {tuple(m.shape)}")
    rgb_to_cam = tf.matmul(m, tf.constant(SRGB_TO_XYZ_D65))
    rgb_to_cam = rgb_to_cam / tf.reduce_sum(rgb_to_cam, axis=-1, keepdims=True)
    return tf.cast(tf.linalg.inv(rgb_to_cam), tf.float32)


def white_balance_gains_from_neutral(as_shot_neutral: tf.Tensor | np.ndarray) -> tf.Tensor:
    """White-balance gains from a DNG AsShotNeutral: ``1 / neutral``, normalized so green = 1.

    Args:
        as_shot_neutral: ``(..., 3)`` camera RGB of a neutral object (DNG tag AsShotNeutral,
            values in (0, 1]), all entries > 0.

    Returns:
        tf.float32 ``(..., 3)`` gains, green entry 1.

    Raises:
        InputError: on a trailing dimension other than 3 or (eagerly) a non-positive entry.

    Example:
        >>> white_balance_gains_from_neutral([0.5, 1.0, 0.25]).numpy().tolist()
        [2.0, 1.0, 4.0]
    """
    n = _to_f64(as_shot_neutral, "as_shot_neutral")
    _check_last(n, (3,), "as_shot_neutral")
    _check_positive(n, "as_shot_neutral")
    gains = 1.0 / n
    return tf.cast(gains / gains[..., 1:2], tf.float32)


# ----------------------------------------------------------------------------------------------
# Chromaticity and correlated colour temperature
# ----------------------------------------------------------------------------------------------


def illuminant_to_cct(code: int) -> float:
    """Correlated colour temperature of an Exif/DNG LightSource code (see :data:`ILLUMINANT_CCT`).

    Args:
        code: Exif LightSource / DNG CalibrationIlluminant value, e.g. 17 (A) or 21 (D65).

    Returns:
        The CCT in kelvin, as a python float (metadata, not a tensor).

    Raises:
        InputError: on a code with no defined temperature (0 unknown, 255 other, 5-8, ...).

    Example:
        >>> illuminant_to_cct(21)
        6504.0
    """
    try:
        return ILLUMINANT_CCT[int(code)]
    except (KeyError, TypeError, ValueError):
        raise InputError(
            f"LightSource code {code!r} has no colour temperature; known codes: "
            f"{sorted(ILLUMINANT_CCT)}"
        ) from None


def xyz_to_xy(xyz: tf.Tensor | np.ndarray) -> tf.Tensor:
    """CIE XYZ to xy chromaticity: ``x = X / (X + Y + Z)``, ``y = Y / (X + Y + Z)``.

    Args:
        xyz: ``(..., 3)`` tristimulus values.

    Returns:
        tf.float32 ``(..., 2)``. Where X + Y + Z == 0 the D65 chromaticity is returned.

    Example:
        >>> print(np.round(xyz_to_xy(D65_WHITE_XYZ).numpy(), 4))
        [0.3127 0.329 ]
    """
    xyz = _to_f64(xyz, "xyz")
    _check_last(xyz, (3,), "xyz")
    return tf.cast(_xyz_to_xy64(xyz), tf.float32)


def _xyz_to_xy64(xyz: tf.Tensor) -> tf.Tensor:
    total = tf.reduce_sum(xyz, axis=-1, keepdims=True)
    white = tf.constant(D65_WHITE_XYZ[:2] / D65_WHITE_XYZ.sum(), tf.float64)
    zero = tf.equal(total, 0.0)
    safe = tf.where(zero, tf.ones_like(total), total)
    return tf.where(zero, white + tf.zeros_like(xyz[..., :2]), xyz[..., :2] / safe)


def xy_to_xyz(xy: tf.Tensor | np.ndarray, luminance: float = 1.0) -> tf.Tensor:
    """xy chromaticity to CIE XYZ with luminance ``Y``.

    Args:
        xy: ``(..., 2)`` chromaticity with y > 0.
        luminance: the Y of the result.

    Returns:
        tf.float32 ``(..., 3)``: ``(x Y / y, Y, (1 - x - y) Y / y)``.

    Example:
        >>> print(np.round(xy_to_xyz([0.3127, 0.3290]).numpy(), 4))
        [0.9505 1.     1.0891]
    """
    xy = _to_f64(xy, "xy")
    _check_last(xy, (2,), "xy")
    return tf.cast(_xy_to_xyz64(xy, luminance), tf.float32)


def _xy_to_xyz64(xy: tf.Tensor, luminance: float = 1.0) -> tf.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    scale = luminance / y
    return tf.stack([x * scale, tf.ones_like(x) * luminance, (1.0 - x - y) * scale], axis=-1)


def _xy_to_uv(xy: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    # CIE 1960 UCS: u = 4x / (-2x + 12y + 3), v = 6y / (-2x + 12y + 3).
    x, y = xy[..., 0], xy[..., 1]
    d = -2.0 * x + 12.0 * y + 3.0
    return 4.0 * x / d, 6.0 * y / d


def _xy_to_mired(xy: tf.Tensor) -> tf.Tensor:
    """Robertson (1968): signed distances to the isotemperature lines, interpolated in mired."""
    u, v = _xy_to_uv(xy)
    table = tf.constant(_ROBERTSON_TABLE)
    mired, tu, tv, slope = table[:, 0], table[:, 1], table[:, 2], table[:, 3]
    norm = tf.sqrt(1.0 + tf.square(slope))
    # Signed distance from (u, v) to each line through (tu, tv) with direction (1, t) / |(1, t)|;
    # for a point on the locus it is positive for lines of lower mired and falls as mired grows.
    du = u[..., tf.newaxis] - tu
    dv = v[..., tf.newaxis] - tv
    dist = (dv - slope * du) / norm
    # Index i (1..30) of the first line with dist <= 0: the point lies between lines i-1 and i.
    crossed = tf.cast(dist[..., 1:] <= 0.0, tf.int32)
    has_cross = tf.reduce_any(crossed > 0, axis=-1)
    first = tf.argmax(crossed, axis=-1, output_type=tf.int32) + 1
    # No crossing: beyond 600 mired; extrapolate from the last pair.
    i = tf.where(has_cross, first, tf.fill(tf.shape(first), 30))
    d_lo = tf.gather(dist, i - 1, batch_dims=len(dist.shape) - 1)
    d_hi = tf.gather(dist, i, batch_dims=len(dist.shape) - 1)
    m_lo = tf.gather(mired, i - 1)
    m_hi = tf.gather(mired, i)
    w = d_lo / (d_lo - d_hi)
    return m_lo + w * (m_hi - m_lo)


def xy_to_cct(xy: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Correlated colour temperature of an xy chromaticity by Robertson's (1968) method.

    The method the DNG SDK uses: the point's signed distances to Robertson's 31 isotemperature
    lines in the CIE 1960 UCS are interpolated between the two lines that bracket it. Valid for
    roughly 1667 K (600 mired) upward; results are clamped to [1667 K, 1e6 K].

    Args:
        xy: ``(..., 2)`` chromaticity near the Planckian locus.

    Returns:
        tf.float32 ``(...)`` CCT in kelvin.

    Example:
        >>> round(float(xy_to_cct([0.3127, 0.3290])))  # D65
        6504
    """
    xy = _to_f64(xy, "xy")
    _check_last(xy, (2,), "xy")
    return tf.cast(_mired_to_cct(_xy_to_mired(xy)), tf.float32)


def _mired_to_cct(mired: tf.Tensor) -> tf.Tensor:
    return 1e6 / tf.clip_by_value(mired, _MIN_MIRED, _MAX_MIRED)


def _cct_to_xy64(cct: tf.Tensor) -> tf.Tensor:
    """Point on Robertson's locus: (u, v) linearly interpolated in mired between table rows."""
    table = tf.constant(_ROBERTSON_TABLE)
    mired = tf.clip_by_value(1e6 / cct, 0.0, _MAX_MIRED)
    i = tf.clip_by_value(tf.searchsorted(table[:, 0], tf.reshape(mired, [-1]), side="right"), 1, 30)
    i = tf.reshape(i, tf.shape(mired))
    lo, hi = tf.gather(table, i - 1), tf.gather(table, i)
    f = (mired - lo[..., 0]) / (hi[..., 0] - lo[..., 0])
    u = lo[..., 1] + f * (hi[..., 1] - lo[..., 1])
    v = lo[..., 2] + f * (hi[..., 2] - lo[..., 2])
    # Inverse of the CIE 1960 UCS: x = 3u / (2u - 8v + 4), y = 2v / (2u - 8v + 4).
    d = 2.0 * u - 8.0 * v + 4.0
    return tf.stack([3.0 * u / d, 2.0 * v / d], axis=-1)


def cct_to_xy(cct: tf.Tensor | np.ndarray | float) -> tf.Tensor:
    """xy chromaticity of the Planckian locus at a CCT (Robertson's table, zero tint).

    The DNG SDK's inverse of :func:`xy_to_cct`: ``(u, v)`` interpolated linearly in mired between
    the bracketing table rows, then converted from the CIE 1960 UCS to xy.

    Args:
        cct: ``(...)`` temperatures in kelvin, > 0; values below 1667 K are clamped to it.

    Returns:
        tf.float32 ``(..., 2)`` chromaticity.

    Raises:
        InputError: (eagerly) on a non-positive temperature.

    Example:
        >>> print(np.round(cct_to_xy(6504.0).numpy(), 3))
        [0.313 0.323]
    """
    cct = _to_f64(cct, "cct")
    _check_positive(cct, "cct")
    return tf.cast(_cct_to_xy64(cct), tf.float32)


def interpolate_color_matrix(
    m1: tf.Tensor | np.ndarray,
    m2: tf.Tensor | np.ndarray,
    cct1: tf.Tensor | np.ndarray | float,
    cct2: tf.Tensor | np.ndarray | float,
    cct: tf.Tensor | np.ndarray | float,
) -> tf.Tensor:
    """Interpolates two calibration matrices for a CCT, linearly in inverse temperature.

    DNG spec chapter 6: ``w = (1/cct - 1/cct2) / (1/cct1 - 1/cct2)`` clamped to [0, 1],
    ``m = w m1 + (1 - w) m2``; outside the calibrated range the nearer matrix is used. When
    ``cct1 == cct2`` the result is ``m1``.

    Args:
        m1: ``(..., 3, 3)`` ColorMatrix1 (or any matrix pair, e.g. ForwardMatrix1/2).
        m2: ``(..., 3, 3)`` ColorMatrix2.
        cct1: temperature of CalibrationIlluminant1 in kelvin (scalar or ``(...)``).
        cct2: temperature of CalibrationIlluminant2 in kelvin.
        cct: the temperature to interpolate at, kelvin.

    Returns:
        tf.float32 ``(..., 3, 3)``.

    Example:
        >>> m = interpolate_color_matrix(np.eye(3), 2 * np.eye(3), 2856.0, 6504.0, 4000.0)
        >>> round(float(m[0, 0]), 4)
        1.5099
    """
    m1 = _to_f64(m1, "m1")
    m2 = _to_f64(m2, "m2")
    _check_last(m1, (3, 3), "m1")
    _check_last(m2, (3, 3), "m2")
    c1, c2, c = (_to_f64(v, n) for v, n in ((cct1, "cct1"), (cct2, "cct2"), (cct, "cct")))
    for v, n in ((c1, "cct1"), (c2, "cct2"), (c, "cct")):
        _check_positive(v, n)
    return tf.cast(_interpolate64(m1, m2, c1, c2, c), tf.float32)


def _interpolate64(m1, m2, c1, c2, c) -> tf.Tensor:
    span = 1.0 / c1 - 1.0 / c2
    same = tf.equal(span, 0.0)
    w = (1.0 / c - 1.0 / c2) / tf.where(same, tf.ones_like(span), span)
    w = tf.where(same, tf.ones_like(w), tf.clip_by_value(w, 0.0, 1.0))
    w = w[..., tf.newaxis, tf.newaxis]
    return w * m1 + (1.0 - w) * m2


def _neutral_inputs(as_shot_neutral, color_matrix1, color_matrix2, cct1, cct2, iterations):
    if not isinstance(iterations, int) or iterations < 1:
        raise InputError(f"iterations must be a positive int, got {iterations!r}")
    n = _to_f64(as_shot_neutral, "as_shot_neutral")
    _check_last(n, (3,), "as_shot_neutral")
    _check_positive(n, "as_shot_neutral")
    m1 = _to_f64(color_matrix1, "color_matrix1")
    m2 = _to_f64(color_matrix2, "color_matrix2")
    _check_last(m1, (3, 3), "color_matrix1")
    _check_last(m2, (3, 3), "color_matrix2")
    c1 = _to_f64(cct1, "cct1")
    c2 = _to_f64(cct2, "cct2")
    _check_positive(c1, "cct1")
    _check_positive(c2, "cct2")
    return n, m1, m2, c1, c2


def _estimate_cct64(n, m1, m2, c1, c2, iterations: int) -> tf.Tensor:
    # Start halfway between the calibration illuminants in mired, as the DNG SDK does.
    cct = 2.0 / (1.0 / c1 + 1.0 / c2) + tf.zeros_like(n[..., 0])
    for _ in range(iterations):
        cm = _interpolate64(m1, m2, c1, c2, cct)
        xyz = tf.linalg.matvec(tf.linalg.inv(cm), n)
        cct = _mired_to_cct(_xy_to_mired(_xyz_to_xy64(xyz)))
    return cct


def estimate_cct_from_neutral(
    as_shot_neutral: tf.Tensor | np.ndarray,
    color_matrix1: tf.Tensor | np.ndarray,
    color_matrix2: tf.Tensor | np.ndarray,
    cct1: tf.Tensor | np.ndarray | float,
    cct2: tf.Tensor | np.ndarray | float,
    iterations: int = 20,
) -> tf.Tensor:
    """CCT of the scene white from AsShotNeutral and two ColorMatrix tags (DNG spec, chapter 6).

    Fixed-point iteration: guess a CCT, interpolate the XYZ -> camera ColorMatrix for it, map the
    neutral to XYZ with the matrix inverse, take its xy chromaticity and Robertson CCT, repeat.

    Args:
        as_shot_neutral: ``(..., 3)`` DNG AsShotNeutral (camera RGB of white), entries > 0.
        color_matrix1: ``(..., 3, 3)`` XYZ -> camera matrix for CalibrationIlluminant1.
        color_matrix2: ``(..., 3, 3)`` XYZ -> camera matrix for CalibrationIlluminant2.
        cct1: temperature of CalibrationIlluminant1 in kelvin (see :func:`illuminant_to_cct`).
        cct2: temperature of CalibrationIlluminant2 in kelvin.
        iterations: number of fixed-point steps (a python int; convergence is typically < 10).

    Returns:
        tf.float32 CCT in kelvin, shape ``(...)`` (a scalar for a single neutral).

    Example:
        >>> cm = np.linalg.inv(SRGB_TO_XYZ_D65)  # a "camera" that sees linear sRGB
        >>> round(float(estimate_cct_from_neutral([1.0, 1.0, 1.0], cm, cm, 2856.0, 6504.0)))
        6503
    """
    args = _neutral_inputs(as_shot_neutral, color_matrix1, color_matrix2, cct1, cct2, iterations)
    return tf.cast(_estimate_cct64(*args, iterations), tf.float32)


def xyz_to_camera_for_neutral(
    as_shot_neutral: tf.Tensor | np.ndarray,
    color_matrix1: tf.Tensor | np.ndarray,
    color_matrix2: tf.Tensor | np.ndarray,
    cct1: tf.Tensor | np.ndarray | float,
    cct2: tf.Tensor | np.ndarray | float,
    iterations: int = 20,
) -> tf.Tensor:
    """The XYZ -> camera ColorMatrix interpolated for the white of an AsShotNeutral.

    Combines :func:`estimate_cct_from_neutral` and :func:`interpolate_color_matrix`; feed the
    result to :func:`camera_to_srgb_matrix` when a raw reader gives no usable matrix.

    Args:
        as_shot_neutral: ``(..., 3)`` DNG AsShotNeutral, entries > 0.
        color_matrix1: ``(..., 3, 3)`` ColorMatrix1.
        color_matrix2: ``(..., 3, 3)`` ColorMatrix2.
        cct1: temperature of CalibrationIlluminant1 in kelvin.
        cct2: temperature of CalibrationIlluminant2 in kelvin.
        iterations: fixed-point steps of the CCT estimate.

    Returns:
        tf.float32 ``(..., 3, 3)`` XYZ -> camera matrix.

    Example:
        >>> m = xyz_to_camera_for_neutral([0.5, 1, 0.7], np.eye(3), 2 * np.eye(3), 2856.0, 6504.0)
        >>> m.shape
        TensorShape([3, 3])
    """
    n, m1, m2, c1, c2 = _neutral_inputs(
        as_shot_neutral, color_matrix1, color_matrix2, cct1, cct2, iterations
    )
    cct = _estimate_cct64(n, m1, m2, c1, c2, iterations)
    return tf.cast(_interpolate64(m1, m2, c1, c2, cct), tf.float32)
