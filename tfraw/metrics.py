"""Image quality metrics with the benchmark protocols of ``../shared/data/README.md``.

All functions take float images ``(..., H, W, C)`` (numpy or tf) and return tf scalars (or one
value per leading batch element where stated).

Protocols:

- ``cpsnr_uint8``: the demosaicing protocol — clip to [0, 1], round to uint8, PSNR of the MSE over
  all three channels (colour PSNR), optional border crop (0 and 10 are reported).
- ``psnr``: plain PSNR over all elements for a given peak value (raw-space denoising uses peak 1).
- ``ssim``: ``tf.image.ssim`` (Wang et al. 2004, 11x11 Gaussian window, sigma 1.5, k1 0.01, k2 0.03),
  averaged over channels.
- ``delta_e``: mean CIE ΔE76 (or ΔE2000) after display-sRGB → CIELAB (D65), the FiveK protocol.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError


def _pair(x, y) -> tuple[tf.Tensor, tf.Tensor]:
    x = tf.convert_to_tensor(x, tf.float32)
    y = tf.convert_to_tensor(y, tf.float32)
    if x.shape.rank is not None and x.shape.rank < 2:
        raise InputError(f"metrics expect images of rank >= 2, got shape {x.shape}")
    if x.shape.is_fully_defined() and y.shape.is_fully_defined() and x.shape != y.shape:
        raise InputError(f"image shapes differ: {x.shape} vs {y.shape}")
    return x, y


def crop_border(x: tf.Tensor, border: int) -> tf.Tensor:
    """Removes ``border`` pixels from each side of the H and W axes of ``(..., H, W, C)``."""
    if border < 0:
        raise InputError(f"border must be >= 0, got {border}")
    if border == 0:
        return x
    return x[..., border:-border, border:-border, :]


def mse(x, y) -> tf.Tensor:
    """Mean squared error over all elements."""
    x, y = _pair(x, y)
    return tf.reduce_mean(tf.square(x - y))


def psnr(x, y, peak: float = 1.0, border: int = 0) -> tf.Tensor:
    """PSNR in dB of the MSE over all elements (all channels together: CPSNR for RGB).

    Example:
        >>> float(psnr(np.zeros((4, 4, 3)), np.full((4, 4, 3), 0.1)))  # doctest: +ELLIPSIS
        20.0...
    """
    x, y = _pair(x, y)
    err = mse(crop_border(x, border), crop_border(y, border))
    return 10.0 * tf.math.log(peak**2 / tf.maximum(err, 1e-20)) / tf.math.log(10.0)


def cpsnr(x, y, peak: float = 1.0, border: int = 0) -> tf.Tensor:
    """Colour PSNR: PSNR of the MSE over all three channels (alias of :func:`psnr` on RGB)."""
    return psnr(x, y, peak=peak, border=border)


def to_uint8(x) -> tf.Tensor:
    """Clips to [0, 1] and rounds to the 8-bit grid (returns float32 values 0..255)."""
    x = tf.convert_to_tensor(x, tf.float32)
    return tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0)


def cpsnr_uint8(estimate, truth, border: int = 0) -> tf.Tensor:
    """The demosaicing benchmark protocol: uint8 round trip of the estimate, then CPSNR (peak 255).

    ``truth`` is the original 8-bit image as float in [0, 1] (or already on the 8-bit grid).
    """
    return psnr(to_uint8(estimate), to_uint8(truth), peak=255.0, border=border)


def ssim(x, y, max_val: float = 1.0, border: int = 0) -> tf.Tensor:
    """Mean SSIM over channels (and over batch elements when batched)."""
    x, y = _pair(x, y)
    x, y = crop_border(x, border), crop_border(y, border)
    return tf.reduce_mean(tf.image.ssim(x, y, max_val=max_val))


def delta_e(srgb_x, srgb_y, formula: str = "76") -> tf.Tensor:
    """Mean ΔE between two display-sRGB images in [0, 1], converted to CIELAB (D65).

    Args:
        formula: "76" (CIE 1976, Euclidean Lab) or "2000" (CIEDE2000).
    """
    from tfraw.isp import colorspace

    x, y = _pair(srgb_x, srgb_y)
    lab_x = colorspace.srgb_to_lab(tf.clip_by_value(x, 0.0, 1.0))
    lab_y = colorspace.srgb_to_lab(tf.clip_by_value(y, 0.0, 1.0))
    if formula == "76":
        return tf.reduce_mean(colorspace.delta_e76(lab_x, lab_y))
    if formula == "2000":
        return tf.reduce_mean(colorspace.delta_e2000(lab_x, lab_y))
    raise InputError(f"unknown Delta E formula {formula!r}; expected '76' or '2000'")


def check_finite(x, name: str = "image") -> np.ndarray:
    """Returns ``x`` as a numpy array, raising InputError when it holds NaN or Inf."""
    arr = np.asarray(x)
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{name} holds {bad} NaN/Inf values")
    return arr
