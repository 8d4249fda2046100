"""Colour spaces and colour differences: XYZ, CIELAB, Oklab, Delta E 1976 and CIEDE2000.

All functions are pixelwise on ``(..., 3)`` channels-last tensors (numpy or tf in, ``tf.float32``
out), work eagerly and inside ``tf.function``, and have finite gradients (cube roots, square roots
and hue angles are evaluated on guarded arguments).

References:
    - IEC 61966-2-1:1999 (sRGB) for the RGB <-> XYZ matrices (see :mod:`tfraw.isp.color`).
    - CIE 15:2004 "Colorimetry", section 8.2.1 (CIE 1976 L*a*b*).
    - B. Ottosson, "A perceptual color space for image processing" (2020),
      https://bottosson.github.io/posts/oklab/ (Oklab matrices M1, M2).
    - G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula: implementation
      notes, supplementary test data, and mathematical observations", Color Res. Appl. 30(1),
      21-30 (2005), equations (1)-(22).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp._checks import to_float_tensor as _to_float
from tfraw.isp.color import D65_WHITE_XYZ, SRGB_TO_XYZ_D65, XYZ_D65_TO_SRGB, apply_ccm
from tfraw.isp.transfer import linear_to_srgb, srgb_to_linear

__all__ = [
    "delta_e2000",
    "delta_e76",
    "lab_to_srgb",
    "lab_to_xyz",
    "linear_srgb_to_bt2020",
    "linear_srgb_to_oklab",
    "linear_srgb_to_xyz",
    "oklab_to_linear_srgb",
    "srgb_to_lab",
    "xyz_to_lab",
    "xyz_to_linear_srgb",
]

# ITU-R BT.2087-0 (10/2015), eq. (4): linear BT.709/sRGB primaries -> linear BT.2020 (D65 both).
_BT709_TO_BT2020 = np.array(
    [
        [0.6274039, 0.3292830, 0.0433131],
        [0.0690973, 0.9195404, 0.0113623],
        [0.0163914, 0.0880133, 0.8955953],
    ]
)

# CIE 15:2004 eq. (8.3)-(8.6): f(t) = t^(1/3) above (6/29)^3, else t / (3 (6/29)^2) + 4/29.
_LAB_DELTA = 6.0 / 29.0

# Ottosson (2020): linear sRGB -> LMS (M1) and non-linear LMS -> Oklab (M2), and their inverses as
# published alongside them.
_OKLAB_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_OKLAB_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_OKLAB_M2_INV = np.array(
    [
        [1.0, 0.3963377774, 0.2158037573],
        [1.0, -0.1055613458, -0.0638541728],
        [1.0, -0.0894841775, -1.2914855480],
    ]
)
_OKLAB_M1_INV = np.array(
    [
        [4.0767416621, -3.3077115913, 0.2309699292],
        [-1.2684380046, 2.6097574011, -0.3413193965],
        [-0.0041960863, -0.7034186147, 1.7076147010],
    ]
)


def _pixels(x, name: str) -> tf.Tensor:
    x = _to_float(x, name)
    if x.shape.rank is not None and (x.shape.rank == 0 or x.shape[-1] not in (None, 3)):
        raise InputError(f"{name} must have shape (..., 3), got shape {tuple(x.shape)}")
    return x


def _safe_sqrt(x: tf.Tensor) -> tf.Tensor:
    """sqrt with gradient 0 (not inf/NaN) at 0."""
    positive = x > 0.0
    return tf.where(positive, tf.sqrt(tf.where(positive, x, tf.ones_like(x))), tf.zeros_like(x))


def _signed_cbrt(x: tf.Tensor) -> tf.Tensor:
    """Real cube root for any sign, with gradient 0 (not inf) at 0."""
    a = tf.abs(x)
    nonzero = a > 0.0
    root = tf.pow(tf.where(nonzero, a, tf.ones_like(a)), 1.0 / 3.0)
    return tf.sign(x) * tf.where(nonzero, root, tf.zeros_like(a))


def _white(white) -> tf.Tensor:
    w = _to_float(white, "white")
    if tuple(w.shape) != (3,):
        raise InputError(f"white must be an XYZ triple of shape (3,), got shape {tuple(w.shape)}")
    return w


def linear_srgb_to_bt2020(rgb: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Linear sRGB (BT.709 primaries) -> linear BT.2020 RGB (ITU-R BT.2087), unclipped.

    Example:
        >>> [round(v, 4) for v in linear_srgb_to_bt2020([[1.0, 1.0, 1.0]]).numpy()[0].tolist()]
        [1.0, 1.0, 1.0]
    """
    x = _pixels(rgb, "linear_srgb_to_bt2020")
    return tf.linalg.matvec(tf.constant(_BT709_TO_BT2020, x.dtype), x)


def linear_srgb_to_xyz(rgb: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Linear sRGB to CIE XYZ (D65) with the IEC 61966-2-1 matrix.

    Args:
        rgb: ``(..., 3)`` linear sRGB, any real value range.

    Returns:
        tf.float32 ``(..., 3)`` XYZ, Y = 1 for white.

    Example:
        >>> print(np.round(linear_srgb_to_xyz([1.0, 1.0, 1.0]).numpy(), 4))
        [0.9505 1.     1.089 ]
    """
    return apply_ccm(_pixels(rgb, "rgb"), SRGB_TO_XYZ_D65)


def xyz_to_linear_srgb(xyz: tf.Tensor | np.ndarray) -> tf.Tensor:
    """CIE XYZ (D65) to linear sRGB, the exact inverse of :func:`linear_srgb_to_xyz`.

    Args:
        xyz: ``(..., 3)`` XYZ with Y = 1 for white. Out-of-gamut colours give values outside
            [0, 1]; nothing is clipped.

    Returns:
        tf.float32 ``(..., 3)`` linear sRGB.

    Example:
        >>> print(np.round(xyz_to_linear_srgb([0.9505, 1.0, 1.089]).numpy(), 4))
        [1. 1. 1.]
    """
    return apply_ccm(_pixels(xyz, "xyz"), XYZ_D65_TO_SRGB)


def xyz_to_lab(xyz: tf.Tensor | np.ndarray, white: np.ndarray = D65_WHITE_XYZ) -> tf.Tensor:
    """CIE XYZ to CIE 1976 L*a*b* (CIE 15:2004, section 8.2.1).

    Args:
        xyz: ``(..., 3)`` XYZ, Y = 1 for the reference white; negatives and values above the
            white are accepted (the linear segment and the cube root extend to them).
        white: ``(3,)`` XYZ of the reference white (default D65 as in sRGB).

    Returns:
        tf.float32 ``(..., 3)`` (L* in [0, 100] for Y in [0, 1], a*, b* roughly in [-128, 128]).

    Example:
        >>> print(np.round(xyz_to_lab(D65_WHITE_XYZ).numpy(), 3))
        [100.   0.   0.]
    """
    xyz = _pixels(xyz, "xyz")
    t = xyz / _white(white)
    cube = _LAB_DELTA**3
    root = tf.pow(tf.maximum(t, cube), 1.0 / 3.0)
    f = tf.where(t > cube, root, t / (3.0 * _LAB_DELTA**2) + 4.0 / 29.0)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_xyz(lab: tf.Tensor | np.ndarray, white: np.ndarray = D65_WHITE_XYZ) -> tf.Tensor:
    """CIE 1976 L*a*b* to CIE XYZ, the inverse of :func:`xyz_to_lab`.

    Args:
        lab: ``(..., 3)`` L*, a*, b*.
        white: ``(3,)`` XYZ of the reference white (default D65).

    Returns:
        tf.float32 ``(..., 3)`` XYZ with Y = 1 for the white.

    Example:
        >>> print(np.round(lab_to_xyz([100.0, 0.0, 0.0]).numpy(), 4))
        [0.9505 1.     1.089 ]
    """
    lab = _pixels(lab, "lab")
    fy = (lab[..., 0] + 16.0) / 116.0
    f = tf.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], axis=-1)
    t = tf.where(f > _LAB_DELTA, f**3, 3.0 * _LAB_DELTA**2 * (f - 4.0 / 29.0))
    return t * _white(white)


def srgb_to_lab(srgb: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Display-encoded sRGB to CIELAB (D65): decode, XYZ, Lab. The FiveK Delta E protocol.

    Args:
        srgb: ``(..., 3)`` sRGB-encoded values, nominal range [0, 1] (not clipped here).

    Returns:
        tf.float32 ``(..., 3)`` L*a*b*; white (1, 1, 1) maps to (100, 0, 0).

    Example:
        >>> print(np.round(srgb_to_lab([1.0, 1.0, 1.0]).numpy(), 3))
        [100.   0.   0.]
    """
    return xyz_to_lab(linear_srgb_to_xyz(srgb_to_linear(_pixels(srgb, "srgb"))))


def lab_to_srgb(lab: tf.Tensor | np.ndarray) -> tf.Tensor:
    """CIELAB (D65) to display-encoded sRGB, the inverse of :func:`srgb_to_lab` (no clipping).

    Args:
        lab: ``(..., 3)`` L*a*b*.

    Returns:
        tf.float32 ``(..., 3)`` sRGB-encoded values; out-of-gamut colours fall outside [0, 1].

    Example:
        >>> print(np.round(lab_to_srgb([100.0, 0.0, 0.0]).numpy(), 4))
        [1. 1. 1.]
    """
    return linear_to_srgb(xyz_to_linear_srgb(lab_to_xyz(lab)))


def linear_srgb_to_oklab(rgb: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Linear sRGB to Oklab (Ottosson 2020): LMS = M1 rgb, cube root, Lab = M2 lms'.

    Args:
        rgb: ``(..., 3)`` linear sRGB, any real value (negative LMS use the real cube root).

    Returns:
        tf.float32 ``(..., 3)`` (L, a, b); white maps to (1, 0, 0).

    Example:
        >>> print(np.round(linear_srgb_to_oklab([1.0, 1.0, 1.0]).numpy(), 4))
        [1. 0. 0.]
    """
    lms = apply_ccm(_pixels(rgb, "rgb"), _OKLAB_M1)
    return apply_ccm(_signed_cbrt(lms), _OKLAB_M2)


def oklab_to_linear_srgb(lab: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Oklab to linear sRGB, the inverse of :func:`linear_srgb_to_oklab` (Ottosson 2020).

    Args:
        lab: ``(..., 3)`` Oklab (L, a, b).

    Returns:
        tf.float32 ``(..., 3)`` linear sRGB (not clipped).

    Example:
        >>> print(np.round(oklab_to_linear_srgb([1.0, 0.0, 0.0]).numpy(), 4))
        [1. 1. 1.]
    """
    lms_root = apply_ccm(_pixels(lab, "lab"), _OKLAB_M2_INV)
    return apply_ccm(lms_root**3, _OKLAB_M1_INV)


def _lab_pair(lab1, lab2) -> tuple[tf.Tensor, tf.Tensor]:
    lab1 = _pixels(lab1, "lab1")
    lab2 = _pixels(lab2, "lab2")
    try:
        tf.broadcast_static_shape(lab1.shape, lab2.shape)
    except ValueError:
        raise InputError(
            f"lab1 and lab2 shapes do not broadcast: {tuple(lab1.shape)} vs {tuple(lab2.shape)}"
        ) from None
    return lab1, lab2


def delta_e76(lab1: tf.Tensor | np.ndarray, lab2: tf.Tensor | np.ndarray) -> tf.Tensor:
    """CIE 1976 colour difference: Euclidean distance in L*a*b*.

    Args:
        lab1: ``(..., 3)`` L*a*b*.
        lab2: ``(..., 3)`` L*a*b*, broadcastable against ``lab1``.

    Returns:
        tf.float32 ``(...)`` non-negative differences (gradient 0 where they are 0).

    Example:
        >>> float(delta_e76([50.0, 0.0, 0.0], [50.0, 3.0, 4.0]))
        5.0
    """
    lab1, lab2 = _lab_pair(lab1, lab2)
    return _safe_sqrt(tf.reduce_sum(tf.square(lab1 - lab2), axis=-1))


def delta_e2000(
    lab1: tf.Tensor | np.ndarray,
    lab2: tf.Tensor | np.ndarray,
    k_l: float = 1.0,
    k_c: float = 1.0,
    k_h: float = 1.0,
) -> tf.Tensor:
    """CIEDE2000 colour difference, as formulated by Sharma, Wu & Dalal (2005), eqs. (1)-(22).

    Computed in float64 internally (the hue terms are sensitive near a* = 0), returned as float32.

    Args:
        lab1: ``(..., 3)`` L*a*b* (the reference).
        lab2: ``(..., 3)`` L*a*b* (the sample), broadcastable against ``lab1``.
        k_l: parametric weighting factor of lightness (1 for reference conditions).
        k_c: parametric weighting factor of chroma.
        k_h: parametric weighting factor of hue.

    Returns:
        tf.float32 ``(...)`` non-negative differences.

    Example:
        >>> round(float(delta_e2000([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485])), 4)
        2.0425
    """
    lab1, lab2 = _lab_pair(lab1, lab2)
    lab1 = tf.cast(lab1, tf.float64)
    lab2 = tf.cast(lab2, tf.float64)
    l1, a1, b1 = tf.unstack(lab1, axis=-1)
    l2, a2, b2 = tf.unstack(lab2, axis=-1)
    pow25_7 = 25.0**7

    # (2)-(6): a' rescaling and C', h'.
    c_mean = 0.5 * (_safe_sqrt(a1 * a1 + b1 * b1) + _safe_sqrt(a2 * a2 + b2 * b2))
    c7 = c_mean**7
    g = 0.5 * (1.0 - _safe_sqrt(c7 / (c7 + pow25_7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p = _safe_sqrt(a1p * a1p + b1 * b1)
    c2p = _safe_sqrt(a2p * a2p + b2 * b2)
    h1p = _hue_degrees(b1, a1p)
    h2p = _hue_degrees(b2, a2p)

    # (8)-(11): differences.
    dlp = l2 - l1
    dcp = c2p - c1p
    chroma_product = c1p * c2p
    zero_chroma = tf.equal(chroma_product, 0.0)
    dh = h2p - h1p
    dhp = tf.where(dh > 180.0, dh - 360.0, tf.where(dh < -180.0, dh + 360.0, dh))
    dhp = tf.where(zero_chroma, tf.zeros_like(dhp), dhp)
    d_big_hp = 2.0 * _safe_sqrt(chroma_product) * tf.sin(_radians(dhp) / 2.0)

    # (12)-(22): weighting functions.
    lp_mean = 0.5 * (l1 + l2)
    cp_mean = 0.5 * (c1p + c2p)
    hsum = h1p + h2p
    hp_mean = tf.where(
        tf.abs(h1p - h2p) <= 180.0,
        0.5 * hsum,
        tf.where(hsum < 360.0, 0.5 * (hsum + 360.0), 0.5 * (hsum - 360.0)),
    )
    hp_mean = tf.where(zero_chroma, hsum, hp_mean)
    t = (
        1.0
        - 0.17 * tf.cos(_radians(hp_mean - 30.0))
        + 0.24 * tf.cos(_radians(2.0 * hp_mean))
        + 0.32 * tf.cos(_radians(3.0 * hp_mean + 6.0))
        - 0.20 * tf.cos(_radians(4.0 * hp_mean - 63.0))
    )
    d_theta = 30.0 * tf.exp(-tf.square((hp_mean - 275.0) / 25.0))
    cp7 = cp_mean**7
    r_c = 2.0 * _safe_sqrt(cp7 / (cp7 + pow25_7))
    l50 = tf.square(lp_mean - 50.0)
    s_l = 1.0 + 0.015 * l50 / tf.sqrt(20.0 + l50)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    r_t = -tf.sin(_radians(2.0 * d_theta)) * r_c

    term_l = dlp / (k_l * s_l)
    term_c = dcp / (k_c * s_c)
    term_h = d_big_hp / (k_h * s_h)
    squared = tf.square(term_l) + tf.square(term_c) + tf.square(term_h) + r_t * term_c * term_h
    return tf.cast(_safe_sqrt(squared), tf.float32)


def _radians(degrees: tf.Tensor) -> tf.Tensor:
    return degrees * (math.pi / 180.0)


def _hue_degrees(b: tf.Tensor, a: tf.Tensor) -> tf.Tensor:
    """Hue angle atan2(b, a) in [0, 360) degrees; 0 (and gradient 0) where a = b = 0."""
    zero = tf.logical_and(tf.equal(a, 0.0), tf.equal(b, 0.0))
    h = tf.math.atan2(b, tf.where(zero, tf.ones_like(a), a)) * (180.0 / math.pi)
    h = tf.where(h < 0.0, h + 360.0, h)
    return tf.where(zero, tf.zeros_like(h), h)
