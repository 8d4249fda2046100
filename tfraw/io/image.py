"""RGB image reading and writing: 8/16-bit PNG, 8/16-bit TIFF, JPEG.

imageio/Pillow silently reduce 16-bit RGB PNGs to 8 bits, so PNG goes through
``tf.io.decode_png``/``tf.io.encode_png`` with the file's own bit depth and TIFF through tifffile.
Values are clipped to [0, 1] only here, at encode time; everything upstream stays unclipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from tfraw.errors import InputError
from tfraw.io.atomic import atomic_write

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Output formats chosen from the extension when ``format`` is not given.
_FORMAT_BY_SUFFIX = {
    ".tif": "tiff",
    ".tiff": "tiff",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
}


def apply_orientation(img: Any, orientation: int | None) -> np.ndarray:
    """Applies an EXIF Orientation (TIFF tag 274) so the image displays upright.

    EXIF 2.3 Orientation values: 1 as stored; 2 mirror left-right; 3 rotate 180; 4 mirror
    top-bottom; 5 transpose (mirror across the main diagonal); 6 rotate 90 clockwise;
    7 transverse (mirror across the anti-diagonal); 8 rotate 90 counter-clockwise.

    Args:
        img: ``(H, W)`` or ``(H, W, C)`` array.
        orientation: 1..8, or None (same as 1).

    Returns:
        The re-oriented array (a view where possible).
    """
    arr = np.asarray(img)
    if orientation is None or int(orientation) == 1:
        return arr
    orientation = int(orientation)
    if arr.ndim not in (2, 3):
        raise InputError(f"apply_orientation needs (H, W) or (H, W, C), got shape {arr.shape}")
    if orientation == 2:
        return arr[:, ::-1]
    if orientation == 3:
        return arr[::-1, ::-1]
    if orientation == 4:
        return arr[::-1, :]
    if orientation == 5:
        return arr.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(arr, k=-1)
    if orientation == 7:
        return arr[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(arr, k=1)
    raise InputError(f"orientation must be an EXIF value 1..8, got {orientation}")


def _to_rgb(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise InputError(f"{path}: expected an image of shape (H, W[, C]), got {arr.shape}")
    channels = arr.shape[2]
    if channels in (1, 2):  # grey (+ alpha)
        return np.repeat(arr[:, :, :1], 3, axis=2)
    if channels in (3, 4):  # RGB (+ alpha)
        return arr[:, :, :3]
    raise InputError(f"{path}: unsupported number of channels {channels}")


def _scale(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    if np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float32)
    raise InputError(f"{path}: unsupported sample type {arr.dtype}")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Reads an RGB image as float32 ``(H, W, 3)`` in [0, 1] (float TIFFs as stored).

    8- and 16-bit PNG keep their depth (``tf.io.decode_png`` with the file's dtype), TIFF is read
    with tifffile, JPEG with ``tf.io.decode_jpeg``. Grey images are repeated to 3 channels and
    alpha is dropped.

    Raises:
        InputError: missing, empty or undecodable file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = path.read_bytes()
    if not data:
        raise InputError(f"{path}: file is empty")
    try:
        if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
            import tifffile

            arr = np.asarray(tifffile.imread(path))
        else:
            import tensorflow as tf

            if data.startswith(_PNG_SIGNATURE):
                bit_depth = data[24] if len(data) > 24 else 8  # IHDR bit depth, PNG spec 11.2.2
                dtype = tf.uint16 if bit_depth == 16 else tf.uint8
                arr = tf.io.decode_png(data, channels=0, dtype=dtype).numpy()
            else:
                arr = tf.io.decode_image(data, channels=0, expand_animations=False).numpy()
    except InputError:
        raise
    except Exception as err:  # noqa: BLE001 - decoders raise many different types
        raise InputError(f"{path}: cannot decode image ({type(err).__name__}: {err})") from err
    return np.ascontiguousarray(_scale(_to_rgb(arr, path), path))


def write_image(
    path: str | os.PathLike,
    rgb: Any,
    *,
    format: str | None = None,  # noqa: A002 - the public name the callers use
    bits: int | None = None,
    quality: int = 95,
    orientation: int | None = None,
) -> Path:
    """Writes a float RGB image, clipped to [0, 1] and quantized, atomically.

    Args:
        path: output file.
        rgb: ``(H, W, 3)`` (or ``(H, W)`` grey) float image, nominally in [0, 1].
        format: "tiff", "png" or "jpeg"; None picks it from the extension (.tif/.tiff, .png,
            .jpg/.jpeg).
        bits: 8 or 16. Default: 16 for TIFF, 8 for PNG and JPEG (JPEG supports only 8).
        quality: JPEG quality 1..100.
        orientation: EXIF Orientation 1..8 applied (rotate/flip) before writing, or None.

    Returns:
        The written path.

    Raises:
        InputError: NaN/Inf values, bad shape, unknown format or bit depth.
    """
    path = Path(path)
    fmt = (format or _FORMAT_BY_SUFFIX.get(path.suffix.lower(), "")).lower()
    fmt = {"tif": "tiff", "jpg": "jpeg"}.get(fmt, fmt)
    if fmt not in ("tiff", "png", "jpeg"):
        raise InputError(f"{path}: unknown image format {format or path.suffix!r}")
    bits = bits if bits is not None else (16 if fmt == "tiff" else 8)
    if bits not in (8, 16) or (fmt == "jpeg" and bits != 8):
        raise InputError(f"{path}: {fmt} cannot be written with {bits} bits")
    arr = np.asarray(rgb, dtype=np.float32)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise InputError(f"{path}: expected an (H, W, 3) or (H, W) image, got {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{path}: the image is empty ({arr.shape})")
    if not np.all(np.isfinite(arr)):
        count = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{path}: the image holds {count} NaN/Inf values")
    arr = apply_orientation(arr, orientation)
    peak = 65535.0 if bits == 16 else 255.0
    dtype = np.uint16 if bits == 16 else np.uint8
    quantized = np.round(np.clip(arr, 0.0, 1.0) * peak).astype(dtype)
    quantized = np.ascontiguousarray(quantized)
    with atomic_write(path) as tmp:
        if fmt == "tiff":
            import tifffile

            photometric = "rgb" if quantized.ndim == 3 else "minisblack"
            tifffile.imwrite(tmp, quantized, photometric=photometric, metadata=None)
        else:
            import tensorflow as tf

            image = quantized if quantized.ndim == 3 else quantized[:, :, None]
            if fmt == "png":
                encoded = tf.io.encode_png(tf.constant(image))
            else:
                encoded = tf.io.encode_jpeg(tf.constant(image), quality=int(quality))
            tmp.write_bytes(encoded.numpy())
    return path
