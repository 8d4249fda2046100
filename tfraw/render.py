"""The classical render: the baseline every neural stage must beat, and the fallback stage set.

normalize (done by :func:`tfraw.io.read_raw`) → demosaic (Malvar-He-Cutler for Bayer, normalized
convolution for X-Trans) → white balance → camera→sRGB matrix → display transform.

For SDR output the display transform clips highlights *after* white balance (as LibRaw's default
highlight mode does), so a clipped channel cannot turn white highlights magenta; with
``highlights="keep"`` linear values above 1 survive (HDR output).
"""

from __future__ import annotations

import warnings

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError

OUTPUT_FORMATS = {
    "tiff16": (".tiff", 16),
    "png16": (".png", 16),
    "png": (".png", 8),
    "jpeg": (".jpg", 8),
}


def render_classical(raw, method: str = "auto", highlights: str = "clip") -> np.ndarray:
    """Renders a :class:`tfraw.io.RawImage` to linear sRGB.

    Args:
        raw: the raw image (normalized mosaic, CFA pattern, WB gains, colour matrix).
        method: demosaic method, "auto" (Malvar for Bayer, normalized convolution for X-Trans),
            "bilinear", "malvar" or "xtrans".
        highlights: "clip" clips white-balanced camera RGB to [0, 1] before the colour matrix
            (SDR output); "keep" leaves values above 1 (HDR output).

    Returns:
        float32 array (H, W, 3), linear sRGB (D65); not yet gamma-encoded, not clipped after the
        colour matrix.
    """
    from tfraw.isp import color, demosaic

    if highlights not in ("clip", "keep"):
        raise InputError(f"highlights must be 'clip' or 'keep', got {highlights!r}")
    mosaic = np.asarray(raw.mosaic, np.float32)
    if not np.all(np.isfinite(mosaic)):
        raise InputError(f"{raw.path or 'raw image'}: mosaic holds NaN/Inf values")
    camera_rgb = demosaic.demosaic(mosaic[None, :, :, None], raw.cfa_pattern, method=method)
    balanced = color.apply_white_balance(camera_rgb, np.asarray(raw.wb_gains, np.float32))
    if highlights == "clip":
        balanced = tf.clip_by_value(balanced, 0.0, 1.0)
    srgb_linear = color.apply_ccm(balanced, camera_to_srgb_or_identity(raw))
    return srgb_linear[0].numpy()


def camera_to_srgb_or_identity(raw) -> np.ndarray:
    """The raw's camera→sRGB matrix (3, 3) float32; identity, with a warning, when it has none."""
    matrix = raw.camera_to_srgb
    if matrix is None:
        warnings.warn(
            f"{raw.path or 'raw image'}: no XYZ->camera colour matrix in the metadata; camera RGB "
            "is shown as sRGB (colours will be off)",
            stacklevel=3,
        )
        matrix = np.eye(3)
    return np.asarray(matrix, np.float32)


def encode_display(linear_srgb: np.ndarray) -> np.ndarray:
    """Linear sRGB → display sRGB in [0, 1] (sRGB transfer curve, then clip)."""
    from tfraw.isp import transfer

    return np.clip(transfer.linear_to_srgb(linear_srgb).numpy(), 0.0, 1.0)
