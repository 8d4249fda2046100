"""Integer quantization of [0, 1] images: grid snapping, integer conversion and bin bounds.

Conventions (shared by every function here, so that encoding and bin bounds agree):

- the grid has ``levels = 2**bits - 1`` steps; code ``q`` stands for the value ``q / levels``;
- ``mode="round"`` rounds half up: ``q = floor(x * levels + 0.5)`` (not TF's round-half-to-even,
  which would make the bin of a code depend on its parity); ``mode="floor"`` truncates, with 1.0
  mapping to the top code;
- inputs are clipped to [0, 1] before quantizing.

The bin of code ``q`` is the half-open interval of inputs that encode to it, e.g. for ``"round"``
``[(q - 0.5) / levels, (q + 0.5) / levels)`` intersected with [0, 1]; the dequantize stage keeps its
16-bit estimate inside it.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp._checks import to_float_tensor as _to_float

__all__ = ["bin_bounds", "from_integer", "quantize", "to_integer"]

_MODES = ("round", "floor")


def _levels(bits: int) -> float:
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 1 <= bits <= 16:
        raise InputError(f"bits must be an int in [1, 16], got {bits!r}")
    return float(2 ** int(bits) - 1)


def _check_mode(mode: str) -> None:
    if mode not in _MODES:
        raise InputError(f"mode must be one of {_MODES}, got {mode!r}")


def _codes(x: tf.Tensor, levels: float, mode: str) -> tf.Tensor:
    """Float-valued integer codes of ``x`` (already clipped to [0, 1])."""
    scaled = x * levels
    if mode == "round":
        return tf.floor(scaled + 0.5)
    return tf.minimum(tf.floor(scaled), levels)


def quantize(
    x: tf.Tensor | np.ndarray,
    bits: int,
    mode: str = "round",
    straight_through: bool = False,
) -> tf.Tensor:
    """Snaps values to the ``2**bits - 1`` grid in [0, 1], returning floats.

    Args:
        x: float values, any shape; clipped to [0, 1].
        bits: bit depth in [1, 16] (8 for JPEG/PNG, 10 for HDR, 16 for TIFF).
        mode: ``"round"`` (half up) or ``"floor"``.
        straight_through: when True the gradient is the straight-through estimator (1 inside
            [0, 1], 0 outside, the gradient of the clip); when False it is 0 everywhere (the true
            derivative of a step function), never ``None``.

    Returns:
        tf.float32 tensor of the shape of ``x``, values in ``{0, 1/levels, ..., 1}``.

    Raises:
        InputError: on bits outside [1, 16] or an unknown mode.

    Example:
        >>> float(quantize(0.5, 1))
        1.0
        >>> round(float(quantize(0.3, 8)) * 255)
        77
    """
    levels = _levels(bits)
    _check_mode(mode)
    x = _to_float(x, "x")
    clipped = tf.clip_by_value(x, 0.0, 1.0)
    q = tf.stop_gradient(_codes(clipped, levels, mode) / levels)
    if straight_through:
        return clipped + tf.stop_gradient(q - clipped)
    return q + 0.0 * clipped


def to_integer(x: tf.Tensor | np.ndarray, bits: int, mode: str = "round") -> tf.Tensor:
    """Encodes [0, 1] floats as integer codes (clip, then round half up or floor).

    Args:
        x: float values, any shape; clipped to [0, 1].
        bits: bit depth in [1, 16].
        mode: ``"round"`` (half up) or ``"floor"``.

    Returns:
        tf.uint8 for ``bits <= 8``, else tf.uint16, same shape as ``x``, values in
        ``[0, 2**bits - 1]``.

    Example:
        >>> to_integer([0.0, 0.5, 1.0, 1.7], 8).numpy().tolist()
        [0, 128, 255, 255]
    """
    levels = _levels(bits)
    _check_mode(mode)
    x = tf.clip_by_value(_to_float(x, "x"), 0.0, 1.0)
    dtype = tf.uint8 if bits <= 8 else tf.uint16
    return tf.cast(_codes(x, levels, mode), dtype)


def from_integer(q: tf.Tensor | np.ndarray, bits: int) -> tf.Tensor:
    """Decodes integer codes to floats: ``q / (2**bits - 1)``.

    Args:
        q: integer codes (any integer or float dtype), any shape, nominally in
            ``[0, 2**bits - 1]`` (not clipped).
        bits: bit depth in [1, 16].

    Returns:
        tf.float32 tensor of the same shape, in [0, 1] for in-range codes.

    Example:
        >>> from_integer(np.array([0, 255], np.uint8), 8).numpy().tolist()
        [0.0, 1.0]
    """
    levels = _levels(bits)
    return _to_float(q, "q") / levels


def bin_bounds(
    q: tf.Tensor | np.ndarray, bits: int, mode: str = "round"
) -> tuple[tf.Tensor, tf.Tensor]:
    """Bounds of the quantization bin of integer code ``q``: every x in ``[low, high)`` encodes to q.

    Args:
        q: integer codes, any shape, in ``[0, 2**bits - 1]``.
        bits: bit depth in [1, 16].
        mode: the encoding's mode, ``"round"`` or ``"floor"``.

    Returns:
        ``(low, high)``: tf.float32 tensors of the shape of ``q``, clipped to [0, 1]. For
        ``"round"``: ``((q - 0.5) / levels, (q + 0.5) / levels)``; for ``"floor"``:
        ``(q / levels, (q + 1) / levels)``. (The top bin is closed at 1.0.)

    Example:
        >>> low, high = bin_bounds(128, 8)
        >>> round(float(low) * 255, 3), round(float(high) * 255, 3)
        (127.5, 128.5)
    """
    levels = _levels(bits)
    _check_mode(mode)
    q = _to_float(q, "q")
    if mode == "round":
        low, high = (q - 0.5) / levels, (q + 0.5) / levels
    else:
        low, high = q / levels, (q + 1.0) / levels
    return tf.clip_by_value(low, 0.0, 1.0), tf.clip_by_value(high, 0.0, 1.0)
