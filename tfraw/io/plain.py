"""Plain Bayer dumps: headerless uint16 files or 16-bit grey PNGs, with a JSON sidecar.

The sidecar is the file's path with ``.json`` in place of its suffix (``a.raw`` -> ``a.json``).

tfraw's sidecar schema (what :func:`write_plain_bayer` writes; all keys but the size optional)::

    {
      "width": 768, "height": 512,          # pixels (not needed for PNG)
      "dtype": "<u2",                       # headerless files: little-endian uint16 only
      "bit_depth": 14,                      # significant bits of the stored values
      "cfa_pattern": "RGGB",                # 4 (Bayer) or 36 (X-Trans) letters of R/G/B in
                                            # raster order, or a 2x2 / 6x6 list of 0=R 1=G 2=B
      "black_level": 600,                   # scalar, or one value per CFA position (raster order)
      "white_level": 15520,
      "wb_gains": [1.95, 1.0, 1.34],        # as-shot gains R, G, B (or "as_shot_neutral")
      "xyz_to_camera": [[...], [...], [...]],  # 3x3 XYZ -> camera (alias "color_matrix")
      "orientation": 1, "iso": 100, "exposure_time": 0.01, "f_number": 2.8,
      "make": "...", "model": "...", "noise_profile": [[scale, offset]]
    }

Sidecars written by others are read too, through these aliases:

- size from ``width``/``height``, from ``height=H, width=W`` inside a ``format`` string, or from
  the file name (``W256xH344`` or ``_768x512_`` = width x height);
- ``cfa_pattern`` strings may carry a comment after the letters ("GRBG (pixel (0,0) is G ...)");
- gains from ``as_shot_wb_gains_<ORDER>`` (one value per listed colour, e.g. RGGB; greens are
  averaged) or ``awb_gains_x1024`` ({"r", "gr", "gb", "b"} in units of 1/1024);
- ``color_matrix2_xyz_to_cam`` is a DNG-style ColorMatrix2 (XYZ -> camera, D65 by Adobe's
  convention, EXIF illuminant 21);
- ``color_matrix_<T>K...`` matrices (camera RGB -> sRGB with an offset column, as in Halide's
  N900 sample) are not XYZ -> camera; they are kept in ``RawImage.extra["camera_to_srgb_by_cct"]``
  keyed by the colour temperature in kelvin.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from tfraw.errors import InputError, UnsupportedCFAError
from tfraw.io.atomic import atomic_write
from tfraw.io.raw import (
    RawImage,
    gains_to_neutral,
    neutral_to_gains,
    normalize_mosaic,
    per_position_levels,
    validate_cfa_pattern,
)


def sidecar_path(path: str | os.PathLike) -> Path:
    """The JSON sidecar of a plain Bayer file: same name, ``.json`` suffix."""
    return Path(path).with_suffix(".json")


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Loads the JSON sidecar of ``path`` (the data file) as a dict.

    Raises:
        InputError: missing or invalid JSON sidecar.
    """
    side = sidecar_path(path)
    if not side.is_file():
        raise InputError(f"{path}: missing JSON sidecar {side.name} (needs size, CFA and levels)")
    try:
        data = json.loads(side.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{side}: invalid JSON sidecar ({err})") from err
    if not isinstance(data, dict):
        raise InputError(f"{side}: the sidecar must be a JSON object, got {type(data).__name__}")
    return data


def _size(meta: dict[str, Any], path: Path) -> tuple[int | None, int | None]:
    height, width = meta.get("height"), meta.get("width")
    if height is None or width is None:
        text = str(meta.get("format", ""))
        h_match = re.search(r"height\s*[=:]\s*(\d+)", text)
        w_match = re.search(r"width\s*[=:]\s*(\d+)", text)
        if h_match and w_match:
            height, width = int(h_match.group(1)), int(w_match.group(1))
    if height is None or width is None:
        match = re.search(r"W(\d+)xH(\d+)", path.name) or re.search(
            r"(?:^|_)(\d+)x(\d+)(?:_|\.)", path.name
        )
        if match:
            width, height = int(match.group(1)), int(match.group(2))
    return (None if height is None else int(height)), (None if width is None else int(width))


def parse_cfa_pattern(value: Any, path: str | os.PathLike | None = None) -> np.ndarray:
    """A sidecar CFA pattern (letters, possibly followed by a comment, or a list) -> int32."""
    if isinstance(value, str):
        match = re.match(r"\s*([A-Za-z]+)", value)
        letters = match.group(1).upper() if match else ""
        if len(letters) not in (4, 36) or any(c not in "RGB" for c in letters):
            raise UnsupportedCFAError(f"{path}: unsupported CFA pattern {value!r}")
        side = 2 if len(letters) == 4 else 6
        return validate_cfa_pattern(
            np.array(["RGB".index(c) for c in letters], np.int32).reshape(side, side), path
        )
    arr = np.asarray(value)
    if arr.dtype.kind in "US":
        return parse_cfa_pattern("".join(str(c) for c in arr.ravel()), path)
    return validate_cfa_pattern(arr.astype(np.int64), path)


def _gains(meta: dict[str, Any], side: Path) -> np.ndarray | None:
    if "wb_gains" in meta:
        gains = np.asarray(meta["wb_gains"], np.float64).ravel()
        if gains.size == 3 and np.all(gains > 0):
            return (gains / gains[1]).astype(np.float32)
        raise InputError(f"{side}: wb_gains must be 3 positive values R, G, B, got {gains}")
    if "as_shot_neutral" in meta:
        return neutral_to_gains(meta["as_shot_neutral"])
    for key, value in meta.items():
        match = re.fullmatch(r"as_shot_wb_gains_([RGBrgb]+)", key)
        if match:
            order = match.group(1).upper()
            values = np.asarray(value, np.float64).ravel()
            if values.size != len(order):
                raise InputError(f"{side}: {key} has {values.size} values for order {order}")
            per_colour = [values[[i for i, c in enumerate(order) if c == x]].mean() for x in "RGB"]
            gains = np.asarray(per_colour)
            return (gains / gains[1]).astype(np.float32)
    if isinstance(meta.get("awb_gains_x1024"), dict):
        g = {k.lower(): float(v) / 1024.0 for k, v in meta["awb_gains_x1024"].items()}
        green = np.mean([g[k] for k in ("gr", "gb", "g") if k in g])
        return np.array([g["r"] / green, 1.0, g["b"] / green], np.float32)
    return None


def _matrix3(value: Any, side: Path, key: str) -> np.ndarray:
    arr = np.asarray(value, np.float64)
    if arr.shape != (3, 3) or not np.all(np.isfinite(arr)):
        raise InputError(f"{side}: {key} must be a finite 3x3 matrix, got shape {arr.shape}")
    return arr.astype(np.float32)


def raw_image_from_sidecar(data: np.ndarray, meta: dict[str, Any], path: Path) -> RawImage:
    """Builds a :class:`RawImage` from integer mosaic data and its sidecar dict."""
    side = sidecar_path(path)
    if "cfa_pattern" not in meta:
        raise InputError(f"{side}: the sidecar lacks 'cfa_pattern'")
    pattern = parse_cfa_pattern(meta["cfa_pattern"], side)
    black = per_position_levels(meta.get("black_level", 0), pattern, side, "black_level")
    bit_depth = meta.get("bit_depth")
    if "white_level" in meta:
        white = float(meta["white_level"])
    elif bit_depth is not None:
        white = float(2 ** int(bit_depth) - 1)
    else:
        raise InputError(f"{side}: the sidecar lacks 'white_level' (or 'bit_depth')")
    if not white > float(black.max()):
        raise InputError(f"{side}: white level {white} is not above black level {black.max()}")
    gains = _gains(meta, side)
    wb_source = "as_shot" if gains is not None else "unity"
    gains = np.ones(3, np.float32) if gains is None else gains

    xyz_to_camera = color_matrix2 = None
    illuminant2 = None
    for key in ("xyz_to_camera", "color_matrix"):
        if key in meta:
            xyz_to_camera = _matrix3(meta[key], side, key)
            break
    if "color_matrix2_xyz_to_cam" in meta:
        color_matrix2 = _matrix3(meta["color_matrix2_xyz_to_cam"], side, "color_matrix2_xyz_to_cam")
        illuminant2 = 21
        if xyz_to_camera is None:
            xyz_to_camera = color_matrix2
    extra: dict[str, Any] = {}
    if isinstance(meta.get("camera"), str):
        extra["camera"] = meta["camera"]
    for key, value in meta.items():
        match = re.fullmatch(r"color_matrix_(\d+)K.*", key)
        if match:
            extra.setdefault("camera_to_srgb_by_cct", {})[match.group(1)] = np.asarray(
                value, np.float64
            ).tolist()

    def number(key: str) -> float | None:
        value = meta.get(key)
        return float(value) if isinstance(value, int | float) and value > 0 else None

    noise = meta.get("noise_profile")
    orientation = int(meta.get("orientation", 1))
    if not 1 <= orientation <= 8:
        raise InputError(f"{side}: orientation must be 1..8, got {orientation}")
    return RawImage(
        mosaic=normalize_mosaic(data, black, white),
        cfa_pattern=pattern,
        black_level=black,
        white_level=white,
        wb_gains=gains,
        as_shot_neutral=gains_to_neutral(gains),
        xyz_to_camera=xyz_to_camera,
        color_matrix2=color_matrix2,
        calibration_illuminant2=illuminant2,
        iso=number("iso"),
        exposure_time=number("exposure_time"),
        f_number=number("f_number"),
        make=str(meta.get("make", "")),
        model=str(meta.get("model", "")),
        orientation=orientation,
        noise_profile=None if noise is None else [tuple(map(float, p)) for p in noise],
        bits_per_sample=int(bit_depth) if bit_depth is not None else int(white).bit_length(),
        path=str(path),
        wb_source=wb_source,
        extra=extra,
    )


def read_plain_bayer(path: str | os.PathLike) -> RawImage:
    """Reads a headerless little-endian uint16 Bayer/X-Trans dump with its JSON sidecar.

    Raises:
        InputError: missing file or sidecar, unknown size, size that does not match the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    meta = read_sidecar(path)
    dtype = str(meta.get("dtype", "<u2"))
    if dtype not in ("<u2", "uint16", "u2", "uint16le", "<uint16"):
        raise InputError(f"{path}: unsupported sample type {dtype!r} (only little-endian uint16)")
    height, width = _size(meta, path)
    if height is None or width is None:
        raise InputError(f"{path}: the sidecar gives no width/height")
    expected = height * width * 2
    actual = path.stat().st_size
    if actual != expected:
        raise InputError(
            f"{path}: file has {actual} bytes but the sidecar says {width}x{height} uint16 "
            f"({expected} bytes)"
        )
    data = np.fromfile(path, dtype="<u2").reshape(height, width)
    return raw_image_from_sidecar(data, meta, path)


def read_png_bayer(path: str | os.PathLike) -> RawImage:
    """Reads a 16-bit (or 8-bit) single-channel PNG mosaic with its JSON sidecar.

    Raises:
        InputError: missing file or sidecar, undecodable or non-grey PNG, size mismatch.
    """
    import imagecodecs

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    meta = read_sidecar(path)
    try:
        data = np.asarray(imagecodecs.png_decode(path.read_bytes()))
    except Exception as err:  # noqa: BLE001 - imagecodecs raises its own error types
        raise InputError(f"{path}: cannot decode PNG ({err})") from err
    if data.ndim == 3 and data.shape[2] == 1:
        data = data[:, :, 0]
    if data.ndim != 2:
        raise InputError(f"{path}: a Bayer PNG must have one channel, got shape {data.shape}")
    height, width = _size(meta, path)
    if (height, width) != (None, None) and (height, width) != data.shape:
        raise InputError(
            f"{path}: the PNG is {data.shape[1]}x{data.shape[0]} but the sidecar says "
            f"{width}x{height}"
        )
    return raw_image_from_sidecar(data, meta, path)


def write_plain_bayer(
    path: str | os.PathLike, data_uint16: np.ndarray, sidecar_dict: dict[str, Any]
) -> Path:
    """Writes a mosaic as a headerless ``<u2`` file (or a 16-bit PNG for ``.png``) + sidecar.

    ``width``, ``height`` and ``dtype`` of the sidecar are set from the data. Both files are
    written atomically (the sidecar last).

    Args:
        path: ``.raw`` (or ``.png``) output path.
        data_uint16: ``(H, W)`` uint16 mosaic.
        sidecar_dict: the rest of the sidecar (see the module docstring); must be JSON-safe.

    Returns:
        The data path.
    """
    path = Path(path)
    data = np.asarray(data_uint16)
    if data.ndim != 2 or data.dtype != np.uint16:
        raise InputError(
            f"{path}: plain Bayer data must be 2-D uint16, got {data.dtype} {data.shape}"
        )
    meta = dict(sidecar_dict)
    meta.update(height=int(data.shape[0]), width=int(data.shape[1]))
    if "cfa_pattern" in meta and not isinstance(meta["cfa_pattern"], str):
        meta["cfa_pattern"] = np.asarray(meta["cfa_pattern"]).tolist()
    with atomic_write(path) as tmp:
        if path.suffix.lower() == ".png":
            import imagecodecs

            tmp.write_bytes(imagecodecs.png_encode(data))
        else:
            meta["dtype"] = "<u2"
            data.astype("<u2").tofile(tmp)
    with atomic_write(sidecar_path(path)) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, default=_json_default))
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
