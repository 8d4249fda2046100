"""Transfer functions (OETFs/EOTFs): sRGB, BT.2100 HLG and BT.2100 PQ.

Every curve is defined on the whole real line so that linear values are never clipped:

- values above the nominal range follow the analytic continuation of the standard's formula
  (HDR highlights above 1.0 survive the round trip);
- negative values use the sign-symmetric extension ``f(x) = sign(x) * f(|x|)`` (the convention of
  scRGB / extended sRGB), so ``decode(encode(x)) == x`` for every finite ``x``.

All functions take ``(...)``-shaped numeric input (numpy or tf), return ``tf.float32`` of the same
shape, work eagerly and inside ``tf.function``, and have finite gradients everywhere (power-law
branches are evaluated on a guarded argument so that the unused branch never produces ``inf``).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfraw.isp._checks import to_float_tensor as _to_float

__all__ = [
    "hlg_to_linear",
    "linear_to_hlg",
    "linear_to_pq",
    "linear_to_srgb",
    "pq_to_linear",
    "srgb_to_linear",
]

# --- IEC 61966-2-1:1999 (sRGB), section 5.2 / 5.3 -------------------------------------------------
# Linear segment below 0.0031308 (encoded 0.04045), slope 12.92; power 1/2.4 with offset 0.055 above.
SRGB_LINEAR_THRESHOLD = 0.0031308
SRGB_ENCODED_THRESHOLD = 0.04045
SRGB_SLOPE = 12.92
SRGB_GAMMA = 2.4
SRGB_OFFSET = 0.055

# --- ITU-R BT.2100-2 (07/2018), Table 5: HLG OETF ------------------------------------------------
HLG_A = 0.17883277
HLG_B = 1.0 - 4.0 * HLG_A  # 0.28466892
HLG_C = 0.5 - HLG_A * math.log(4.0 * HLG_A)  # 0.55991073

# --- ITU-R BT.2100-2, Table 4 / SMPTE ST 2084:2014: PQ EOTF -------------------------------------
PQ_M1 = 2610.0 / 16384.0  # 0.1593017578125
PQ_M2 = 2523.0 / 4096.0 * 128.0  # 78.84375
PQ_C1 = 3424.0 / 4096.0  # 0.8359375 = c3 - c2 + 1
PQ_C2 = 2413.0 / 4096.0 * 32.0  # 18.8515625
PQ_C3 = 2392.0 / 4096.0 * 32.0  # 18.6875
# As Y -> inf the PQ curve tends to (c2 / c3) ** m2 ~= 1.9907; the inverse is undefined at and
# above that value, so the encoded input of pq_to_linear is held just below it.
_PQ_MAX_RATIO = PQ_C2 / PQ_C3


def _odd(fn, x: tf.Tensor) -> tf.Tensor:
    """Sign-symmetric extension ``sign(x) * fn(|x|)``."""
    return tf.sign(x) * fn(tf.abs(x))


def linear_to_srgb(x: tf.Tensor | np.ndarray | float) -> tf.Tensor:
    """Encodes linear light with the sRGB transfer function (IEC 61966-2-1:1999, eq. 5.2).

    ``v = 12.92 x`` for ``x <= 0.0031308``, else ``1.055 x^(1/2.4) - 0.055``; extended to
    ``x > 1`` by the same power law and to negative ``x`` by sign symmetry.

    Args:
        x: linear values, any shape, float. Nominal range [0, 1]; any real value is accepted.

    Returns:
        tf.float32 tensor of the same shape, display-encoded (1.0 maps to 1.0).

    Example:
        >>> float(linear_to_srgb(0.0031308))  # doctest: +ELLIPSIS
        0.0404...
    """
    x = _to_float(x)

    def encode(a: tf.Tensor) -> tf.Tensor:
        safe = tf.maximum(a, SRGB_LINEAR_THRESHOLD)
        power = (1.0 + SRGB_OFFSET) * tf.pow(safe, 1.0 / SRGB_GAMMA) - SRGB_OFFSET
        return tf.where(a <= SRGB_LINEAR_THRESHOLD, SRGB_SLOPE * a, power)

    return _odd(encode, x)


def srgb_to_linear(x: tf.Tensor | np.ndarray | float) -> tf.Tensor:
    """Decodes sRGB-encoded values to linear light (IEC 61966-2-1:1999, eq. 5.3).

    ``x = v / 12.92`` for ``v <= 0.04045``, else ``((v + 0.055) / 1.055)^2.4``; extended above 1
    and sign-symmetric below 0, so it is the exact inverse of :func:`linear_to_srgb`.

    Args:
        x: encoded values, any shape, float. Nominal range [0, 1]; any real value is accepted.

    Returns:
        tf.float32 tensor of the same shape, linear light.

    Example:
        >>> round(float(srgb_to_linear(0.5)), 4)
        0.214
    """
    x = _to_float(x)

    def decode(a: tf.Tensor) -> tf.Tensor:
        safe = tf.maximum(a, SRGB_ENCODED_THRESHOLD)
        power = tf.pow((safe + SRGB_OFFSET) / (1.0 + SRGB_OFFSET), SRGB_GAMMA)
        return tf.where(a <= SRGB_ENCODED_THRESHOLD, a / SRGB_SLOPE, power)

    return _odd(decode, x)


def linear_to_hlg(x: tf.Tensor | np.ndarray | float) -> tf.Tensor:
    """BT.2100 Hybrid Log-Gamma OETF on normalized scene light (ITU-R BT.2100-2, Table 5).

    ``E' = sqrt(3 E)`` for ``0 <= E <= 1/12``, else ``a ln(12 E - b) + c`` with
    ``a = 0.17883277``, ``b = 1 - 4a``, ``c = 0.5 - a ln(4a)``. The log segment continues above
    ``E = 1`` (``E' > 1``) and negatives are sign-symmetric.

    Args:
        x: normalized scene-linear light E, any shape, nominal range [0, 1].

    Returns:
        tf.float32 tensor of the same shape, the non-linear HLG signal E' (1.0 at E = 1).

    Example:
        >>> round(float(linear_to_hlg(1.0 / 12.0)), 6)
        0.5
    """
    x = _to_float(x)

    def encode(a: tf.Tensor) -> tf.Tensor:
        knee = 1.0 / 12.0
        # Guard both branches so the unused one cannot yield inf/NaN gradients (sqrt at 0, log <0).
        sqrt_arg = tf.where(a > 0.0, 3.0 * a, tf.ones_like(a))
        root = tf.where(a > 0.0, tf.sqrt(sqrt_arg), tf.zeros_like(a))
        log = HLG_A * tf.math.log(12.0 * tf.maximum(a, knee) - HLG_B) + HLG_C
        return tf.where(a <= knee, root, log)

    return _odd(encode, x)


def hlg_to_linear(x: tf.Tensor | np.ndarray | float) -> tf.Tensor:
    """BT.2100 HLG inverse OETF: non-linear signal E' to normalized scene light E.

    ``E = E'^2 / 3`` for ``0 <= E' <= 1/2``, else ``(exp((E' - c) / a) + b) / 12`` (ITU-R
    BT.2100-2, Table 5), extended above 1 and sign-symmetric below 0.

    Args:
        x: HLG signal E', any shape, nominal range [0, 1].

    Returns:
        tf.float32 tensor of the same shape, scene-linear light E (1.0 at E' = 1).

    Example:
        >>> round(float(hlg_to_linear(0.5)), 6)
        0.083333
    """
    x = _to_float(x)

    def decode(a: tf.Tensor) -> tf.Tensor:
        exp = (tf.exp((tf.maximum(a, 0.5) - HLG_C) / HLG_A) + HLG_B) / 12.0
        return tf.where(a <= 0.5, tf.square(a) / 3.0, exp)

    return _odd(decode, x)


def linear_to_pq(x: tf.Tensor | np.ndarray | float) -> tf.Tensor:
    """BT.2100 PQ inverse EOTF (SMPTE ST 2084): display light to the non-linear PQ signal.

    ``E' = ((c1 + c2 Y^m1) / (1 + c3 Y^m1))^m2`` with ``Y = F_D / 10000 cd/m^2`` and the constants of
    ITU-R BT.2100-2 Table 4. Above ``Y = 1`` the formula continues (approaching ~1.9907 as
    ``Y -> inf``); negatives are sign-symmetric. Note PQ(0) = c1^m2 ~= 7.3e-7 per the standard, so
    the odd extension has a step of that size at 0 and ``linear_to_pq(0) == 0`` exactly.

    Args:
        x: display light normalized so 1.0 = 10000 cd/m^2, any shape, nominal range [0, 1].

    Returns:
        tf.float32 tensor of the same shape, the PQ signal E' (1.0 at Y = 1).

    Example:
        >>> round(float(linear_to_pq(1.0)), 6)
        1.0
    """
    x = _to_float(x)

    def encode(a: tf.Tensor) -> tf.Tensor:
        positive = a > 0.0
        safe = tf.where(positive, a, tf.ones_like(a))  # Y^m1 has an infinite slope at 0.
        ym1 = tf.where(positive, tf.pow(safe, PQ_M1), tf.zeros_like(a))
        return tf.pow((PQ_C1 + PQ_C2 * ym1) / (1.0 + PQ_C3 * ym1), PQ_M2)

    return _odd(encode, x)


def pq_to_linear(x: tf.Tensor | np.ndarray | float) -> tf.Tensor:
    """BT.2100 PQ EOTF (SMPTE ST 2084): the PQ signal E' to normalized display light Y.

    ``Y = (max(E'^(1/m2) - c1, 0) / (c2 - c3 E'^(1/m2)))^(1/m1)`` (ITU-R BT.2100-2, Table 4).
    Signals at or above the curve's asymptote ``(c2/c3)^m2 ~= 1.9907`` are held just below it,
    so the output stays finite; negatives are sign-symmetric.

    Args:
        x: PQ signal E', any shape, nominal range [0, 1].

    Returns:
        tf.float32 tensor of the same shape, display light with 1.0 = 10000 cd/m^2.

    Example:
        >>> round(float(pq_to_linear(1.0)), 6)
        1.0
    """
    x = _to_float(x)

    def decode(a: tf.Tensor) -> tf.Tensor:
        positive = a > 0.0
        safe = tf.where(positive, a, tf.ones_like(a))
        p = tf.where(positive, tf.pow(safe, 1.0 / PQ_M2), tf.zeros_like(a))
        p = tf.minimum(p, _PQ_MAX_RATIO * (1.0 - 1e-6))
        num = tf.maximum(p - PQ_C1, 0.0)
        return tf.pow(num / (PQ_C2 - PQ_C3 * p), 1.0 / PQ_M1)

    return _odd(decode, x)
