"""DNG tag reading and DNG writing with tifffile.

Tag numbers and types follow the Adobe DNG Specification 1.6 (chapter 4, "Tags") and
TIFF/EP / EXIF 2.3 for ISO (34855), ExposureTime (33434) and FNumber (33437).

``write_dng`` writes one uncompressed 16-bit CFA image in IFD0 (PhotometricInterpretation 32803
"CFA"), which LibRaw/rawpy reads back exactly: raw values, CFA pattern (2x2 Bayer in any phase and
6x6 X-Trans), per-position black levels, white level, AsShotNeutral and the colour matrices.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from tfraw.errors import InputError
from tfraw.io.atomic import atomic_write
from tfraw.io.raw import RawImage, per_position_levels, validate_cfa_pattern

# TIFF / TIFF-EP / EXIF tags.
TAG_NEW_SUBFILE_TYPE = 254
TAG_BITS_PER_SAMPLE = 258
TAG_PHOTOMETRIC = 262
TAG_MAKE = 271
TAG_MODEL = 272
TAG_ORIENTATION = 274
TAG_EXPOSURE_TIME = 33434
TAG_F_NUMBER = 33437
TAG_EXIF_IFD = 34665
TAG_ISO = 34855
TAG_CFA_REPEAT_PATTERN_DIM = 33421
TAG_CFA_PATTERN = 33422
# DNG 1.6 tags.
TAG_DNG_VERSION = 50706
TAG_DNG_BACKWARD_VERSION = 50707
TAG_UNIQUE_CAMERA_MODEL = 50708
TAG_CFA_PLANE_COLOR = 50710
TAG_CFA_LAYOUT = 50711
TAG_BLACK_LEVEL_REPEAT_DIM = 50713
TAG_BLACK_LEVEL = 50714
TAG_WHITE_LEVEL = 50717
TAG_COLOR_MATRIX1 = 50721
TAG_COLOR_MATRIX2 = 50722
TAG_CAMERA_CALIBRATION1 = 50723
TAG_CAMERA_CALIBRATION2 = 50724
TAG_ANALOG_BALANCE = 50727
TAG_AS_SHOT_NEUTRAL = 50728
TAG_CALIBRATION_ILLUMINANT1 = 50778
TAG_CALIBRATION_ILLUMINANT2 = 50779
TAG_FORWARD_MATRIX1 = 50964
TAG_FORWARD_MATRIX2 = 50965
TAG_NOISE_PROFILE = 51041

#: PhotometricInterpretation of a CFA image (TIFF/EP, DNG spec "PhotometricInterpretation").
PHOTOMETRIC_CFA = 32803

# TIFF field types (TIFF 6.0 section 2).
_RATIONAL, _SRATIONAL = 5, 10

# The EXIF IFD as decoded by tifffile is keyed by tag name.
_EXIF_NAMES = {
    TAG_ISO: ("ISOSpeedRatings", "PhotographicSensitivity"),
    TAG_EXPOSURE_TIME: ("ExposureTime",),
    TAG_F_NUMBER: ("FNumber",),
}


@contextlib.contextmanager
def _quiet_tifffile() -> Iterator[None]:
    """tifffile logs (rather than raises) tags it cannot load; truncation is reported by us."""
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _numbers(dtype: int, value: Any) -> np.ndarray:
    """A tag value as float64: rationals (flat num, den pairs in tifffile) are divided out."""
    if isinstance(value, bytes | bytearray):
        return np.frombuffer(bytes(value), np.uint8).astype(np.float64)
    arr = np.asarray(value, np.float64).ravel()
    if int(dtype) in (_RATIONAL, _SRATIONAL):
        pairs = arr.reshape(-1, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pairs[:, 1] != 0, pairs[:, 0] / pairs[:, 1], 0.0)
    return arr


def _exif_number(value: Any) -> float | None:
    if isinstance(value, tuple | list):
        if len(value) == 2:
            return value[0] / value[1] if value[1] else 0.0
        return float(value[0]) if value else None
    return None if value is None else float(value)


def read_dng_tags(path: str | os.PathLike) -> dict[str, Any] | None:
    """Reads the DNG/EXIF tags needed for colour and metadata from a TIFF-based raw file.

    Tags are looked up in the raw IFD (the CFA image: IFD0 or a SubIFD), then IFD0, then the EXIF
    IFD, so DNGs, TIFF/EP files and most maker formats (NEF, CR2, ARW, PEF ...) work.

    Args:
        path: the file.

    Returns:
        None when the file is not TIFF-based (CR3, RAF ...); otherwise a dict with the keys that
        were found among: ``color_matrix1/2``, ``camera_calibration1/2``, ``forward_matrix1/2``
        (``(3, 3)`` float32), ``analog_balance``, ``as_shot_neutral`` (``(3,)`` float32),
        ``calibration_illuminant1/2`` (int), ``black_level`` (float32 array shaped by
        BlackLevelRepeatDim), ``white_level``, ``bits_per_sample``, ``cfa_repeat_dim``,
        ``cfa_pattern`` (raw bytes as int array), ``orientation``, ``make``, ``model``, ``iso``,
        ``exposure_time``, ``f_number`` (float, 0 when the file says 0), ``noise_profile``
        (list of ``(scale, offset)``), ``dng_version`` (tuple).

    Raises:
        InputError: a TIFF whose image data runs past the end of the file (truncated).
    """
    import tifffile

    path = Path(path)
    size = path.stat().st_size
    with _quiet_tifffile():
        try:
            tif = tifffile.TiffFile(str(path))
        except Exception:  # noqa: BLE001 - any parse failure means "not a TIFF we can read"
            return None
        with tif:
            try:
                ifd0 = tif.pages.first
            except Exception as err:  # noqa: BLE001 - tifffile raises many types
                raise InputError(f"{path}: corrupt TIFF structure ({err})") from err
            pages = [ifd0]
            try:  # every IFD and SubIFD (NEF keeps the raw in a SubIFD, CR2 in IFD3)
                for page in tif.pages:
                    if page is not ifd0:
                        pages.append(page)
                    pages.extend(getattr(page, "pages", None) or [])
            except Exception:  # noqa: BLE001 - odd maker IFDs: LibRaw has the last word
                pass
            for page in pages:
                offsets = getattr(page, "dataoffsets", ()) or ()
                counts = getattr(page, "databytecounts", ()) or ()
                for offset, count in zip(offsets, counts, strict=False):
                    if count and offset + count > size:
                        raise InputError(
                            f"{path}: truncated file: image data ends at byte {offset + count} "
                            f"but the file has {size} bytes"
                        )
            raw_ifd = next(
                (
                    p
                    for p in pages
                    if int(getattr(p, "photometric", 0) or 0) == PHOTOMETRIC_CFA
                    and int(getattr(p, "subfiletype", 0) or 0) == 0
                ),
                ifd0,
            )

            def find(code: int) -> Any:
                for page in (raw_ifd, ifd0):
                    tag = page.tags.get(code)
                    if tag is not None:
                        return tag
                return None

            out: dict[str, Any] = {}
            for key, code in (
                ("color_matrix1", TAG_COLOR_MATRIX1),
                ("color_matrix2", TAG_COLOR_MATRIX2),
                ("camera_calibration1", TAG_CAMERA_CALIBRATION1),
                ("camera_calibration2", TAG_CAMERA_CALIBRATION2),
                ("forward_matrix1", TAG_FORWARD_MATRIX1),
                ("forward_matrix2", TAG_FORWARD_MATRIX2),
            ):
                tag = find(code)
                if tag is not None:
                    values = _numbers(tag.dtype, tag.value)
                    if values.size >= 9:  # 3-colour cameras only; 4-colour CFAs are rejected
                        out[key] = values[:9].reshape(3, 3).astype(np.float32)
            for key, code in (
                ("as_shot_neutral", TAG_AS_SHOT_NEUTRAL),
                ("analog_balance", TAG_ANALOG_BALANCE),
            ):
                tag = find(code)
                if tag is not None and len(_numbers(tag.dtype, tag.value)) >= 3:
                    out[key] = _numbers(tag.dtype, tag.value)[:3].astype(np.float32)
            for key, code in (
                ("calibration_illuminant1", TAG_CALIBRATION_ILLUMINANT1),
                ("calibration_illuminant2", TAG_CALIBRATION_ILLUMINANT2),
                ("orientation", TAG_ORIENTATION),
            ):
                tag = find(code)
                if tag is not None:
                    out[key] = int(np.asarray(tag.value).ravel()[0])
            tag = find(TAG_BLACK_LEVEL)
            if tag is not None:
                black = _numbers(tag.dtype, tag.value)
                dim_tag = find(TAG_BLACK_LEVEL_REPEAT_DIM)
                dim = (1, 1) if dim_tag is None else tuple(int(v) for v in dim_tag.value)
                if black.size == dim[0] * dim[1]:
                    black = black.reshape(dim)
                out["black_level"] = black.astype(np.float32)
            tag = find(TAG_WHITE_LEVEL)
            if tag is not None:
                out["white_level"] = float(_numbers(tag.dtype, tag.value)[0])
            tag = raw_ifd.tags.get(TAG_BITS_PER_SAMPLE)
            if tag is not None and int(getattr(raw_ifd, "photometric", 0) or 0) == PHOTOMETRIC_CFA:
                out["bits_per_sample"] = int(np.asarray(tag.value).ravel()[0])
            tag = find(TAG_CFA_REPEAT_PATTERN_DIM)
            if tag is not None:
                out["cfa_repeat_dim"] = tuple(int(v) for v in tag.value)
            tag = find(TAG_CFA_PATTERN)
            if tag is not None:
                out["cfa_pattern"] = _numbers(1, tag.value).astype(np.int32)
            tag = find(TAG_DNG_VERSION)
            if tag is not None:
                out["dng_version"] = tuple(int(v) for v in _numbers(1, tag.value))
            tag = find(TAG_NOISE_PROFILE)
            if tag is not None:
                values = _numbers(tag.dtype, tag.value)
                out["noise_profile"] = [
                    (float(values[i]), float(values[i + 1])) for i in range(0, values.size - 1, 2)
                ]
            for key, code in (("make", TAG_MAKE), ("model", TAG_MODEL)):
                tag = ifd0.tags.get(code)
                if tag is not None and str(tag.value).strip():
                    out[key] = str(tag.value).strip()
            if "model" not in out:
                tag = ifd0.tags.get(TAG_UNIQUE_CAMERA_MODEL)
                if tag is not None and str(tag.value).strip():
                    out["model"] = str(tag.value).strip()
            exif_tag = ifd0.tags.get(TAG_EXIF_IFD)
            exif = (
                exif_tag.value if exif_tag is not None and isinstance(exif_tag.value, dict) else {}
            )
            for key, code in (
                ("iso", TAG_ISO),
                ("exposure_time", TAG_EXPOSURE_TIME),
                ("f_number", TAG_F_NUMBER),
            ):
                tag = find(code)
                if tag is not None:
                    out[key] = float(_numbers(tag.dtype, tag.value)[0])
                    continue
                for name in _EXIF_NAMES[code]:
                    if name in exif:
                        number = _exif_number(exif[name])
                        if number is not None:
                            out[key] = number
                        break
    return out


# --------------------------------------------------------------------------------------------
# Writing.


def _rationals(values: Any, signed: bool) -> list[int]:
    """Floats -> flat (numerator, denominator) list, exact for short decimals."""
    limit = 2**31 - 1 if signed else 2**32 - 1
    out: list[int] = []
    for value in np.asarray(values, np.float64).ravel():
        if not math.isfinite(value):
            raise InputError(f"cannot store non-finite value {value} as a TIFF rational")
        if not signed and value < 0:
            raise InputError(f"cannot store negative value {value} as an unsigned TIFF rational")
        denominator_limit = 1_000_000
        while True:
            frac = Fraction(float(value)).limit_denominator(denominator_limit)
            if abs(frac.numerator) <= limit or denominator_limit == 1:
                break
            denominator_limit //= 10
        out += [frac.numerator, frac.denominator]
    return out


def _matrix(name: str, matrix: Any) -> np.ndarray:
    arr = np.asarray(matrix, np.float64)
    if arr.shape != (3, 3) or not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be a finite 3x3 matrix, got shape {arr.shape}: {arr}")
    return arr


def write_dng(
    path: str | os.PathLike,
    data: np.ndarray,
    cfa_pattern: Any,
    *,
    black_level: Any = 0,
    white_level: float = 65535,
    as_shot_neutral: Any = None,
    color_matrix1: Any = None,
    calibration_illuminant1: int | None = 21,
    color_matrix2: Any = None,
    calibration_illuminant2: int | None = None,
    forward_matrix1: Any = None,
    forward_matrix2: Any = None,
    make: str = "tfraw",
    model: str = "synthetic",
    iso: float | None = None,
    exposure_time: float | None = None,
    f_number: float | None = None,
    orientation: int = 1,
    noise_profile: Any = None,
) -> Path:
    """Writes a uint16 CFA mosaic as an uncompressed DNG (atomically).

    Args:
        path: output file (``.dng``).
        data: ``(H, W)`` uint16 raw values.
        cfa_pattern: ``(2, 2)`` Bayer or ``(6, 6)`` X-Trans pattern, 0 = R, 1 = G, 2 = B
            (a name such as "RGGB" is accepted too).
        black_level: scalar, or one value per CFA position (pattern shape or a tile of it);
            written as BlackLevel (50714) with BlackLevelRepeatDim (50713).
        white_level: WhiteLevel (50717).
        as_shot_neutral: ``(3,)`` camera response to the scene white (AsShotNeutral, 50728).
        color_matrix1, color_matrix2: ``(3, 3)`` XYZ -> camera (ColorMatrix1/2, 50721/50722).
        calibration_illuminant1, calibration_illuminant2: EXIF LightSource codes (50778/50779);
            21 = D65, 17 = Standard light A.
        forward_matrix1, forward_matrix2: ``(3, 3)`` white-balanced camera -> XYZ D50
            (ForwardMatrix1/2, 50964/50965).
        make, model: Make (271), Model (272) and UniqueCameraModel (50708).
        iso, exposure_time, f_number: TIFF/EP tags 34855, 33434, 33437 in IFD0.
        orientation: EXIF Orientation 1..8 (274).
        noise_profile: ``[(scale, offset), ...]`` (NoiseProfile, 51041).

    Returns:
        The written path.

    Raises:
        InputError: bad data, levels or matrices. UnsupportedCFAError: bad pattern.
    """
    path = Path(path)
    data = np.asarray(data)
    if data.ndim != 2 or data.dtype != np.uint16:
        raise InputError(
            f"{path}: DNG data must be a 2-D uint16 mosaic, got {data.dtype} {data.shape}"
        )
    if isinstance(cfa_pattern, str):
        cfa_pattern = _pattern_from_name(cfa_pattern, path)
    pattern = validate_cfa_pattern(cfa_pattern, path)
    rows, cols = pattern.shape
    if data.shape[0] < rows or data.shape[1] < cols:
        raise InputError(f"{path}: mosaic {data.shape} is smaller than the CFA {pattern.shape}")
    black = per_position_levels(black_level, pattern, path, "black_level").astype(np.float64)
    if not float(white_level) > black.max():
        raise InputError(f"{path}: white level {white_level} is not above black level {black}")
    if not 1 <= int(orientation) <= 8:
        raise InputError(f"{path}: orientation must be an EXIF value 1..8, got {orientation}")

    tags: list[tuple[int, str, int, Any, bool]] = [
        (TAG_DNG_VERSION, "B", 4, (1, 4, 0, 0), True),
        (TAG_DNG_BACKWARD_VERSION, "B", 4, (1, 1, 0, 0), True),
        (TAG_MAKE, "s", 0, make or "unknown", True),
        (TAG_MODEL, "s", 0, model or "unknown", True),
        (TAG_UNIQUE_CAMERA_MODEL, "s", 0, f"{make} {model}".strip() or "unknown", True),
        (TAG_ORIENTATION, "H", 1, (int(orientation),), True),
        (TAG_CFA_REPEAT_PATTERN_DIM, "H", 2, (rows, cols), True),
        (TAG_CFA_PATTERN, "B", rows * cols, tuple(int(v) for v in pattern.ravel()), True),
        (TAG_CFA_PLANE_COLOR, "B", 3, (0, 1, 2), True),
        (TAG_CFA_LAYOUT, "H", 1, (1,), True),  # 1 = rectangular
    ]
    # One black value per CFA position when they differ, else a single value.
    black_tile = black[:1, :1] if np.all(black == black.flat[0]) else black
    if np.all(black_tile == np.round(black_tile)) and black_tile.max() < 2**32:
        black_entry = ("I", black_tile.size, tuple(int(v) for v in black_tile.ravel()))
    else:
        black_entry = ("2I", black_tile.size, tuple(_rationals(black_tile, signed=False)))
    tags.append((TAG_BLACK_LEVEL_REPEAT_DIM, "H", 2, black_tile.shape, True))
    tags.append((TAG_BLACK_LEVEL, black_entry[0], black_entry[1], black_entry[2], True))
    tags.append((TAG_WHITE_LEVEL, "I", 1, (int(round(float(white_level))),), True))
    if as_shot_neutral is not None:
        neutral = np.asarray(as_shot_neutral, np.float64).ravel()
        if neutral.shape != (3,) or not np.all(neutral > 0):
            raise InputError(f"{path}: as_shot_neutral must be 3 positive values, got {neutral}")
        tags.append((TAG_AS_SHOT_NEUTRAL, "2I", 3, tuple(_rationals(neutral, False)), True))
    for code, ill_code, name, matrix, illuminant in (
        (
            TAG_COLOR_MATRIX1,
            TAG_CALIBRATION_ILLUMINANT1,
            "color_matrix1",
            color_matrix1,
            calibration_illuminant1,
        ),
        (
            TAG_COLOR_MATRIX2,
            TAG_CALIBRATION_ILLUMINANT2,
            "color_matrix2",
            color_matrix2,
            calibration_illuminant2,
        ),
    ):
        if matrix is not None:
            values = _rationals(_matrix(name, matrix), signed=True)
            tags.append((code, "2i", 9, tuple(values), True))
            if illuminant is not None:
                tags.append((ill_code, "H", 1, (int(illuminant),), True))
    for code, name, matrix in (
        (TAG_FORWARD_MATRIX1, "forward_matrix1", forward_matrix1),
        (TAG_FORWARD_MATRIX2, "forward_matrix2", forward_matrix2),
    ):
        if matrix is not None:
            tags.append((code, "2i", 9, tuple(_rationals(_matrix(name, matrix), True)), True))
    if iso is not None:
        tags.append((TAG_ISO, "H", 1, (min(int(round(iso)), 65535),), True))
    if exposure_time is not None:
        tags.append((TAG_EXPOSURE_TIME, "2I", 1, tuple(_rationals([exposure_time], False)), True))
    if f_number is not None:
        tags.append((TAG_F_NUMBER, "2I", 1, tuple(_rationals([f_number], False)), True))
    if noise_profile is not None:
        noise = np.asarray(noise_profile, np.float64).ravel()
        if noise.size == 0 or noise.size % 2 or not np.all(np.isfinite(noise)):
            raise InputError(f"{path}: noise_profile must be (scale, offset) pairs, got {noise}")
        tags.append((TAG_NOISE_PROFILE, "d", noise.size, tuple(float(v) for v in noise), True))

    import tifffile

    with atomic_write(path) as tmp:
        tifffile.imwrite(
            tmp,
            data,
            photometric=PHOTOMETRIC_CFA,
            subfiletype=0,
            software="tfraw",
            metadata=None,
            extratags=tags,
        )
    return path


def _pattern_from_name(name: str, path: Path) -> np.ndarray:
    letters = name.strip().upper()
    if len(letters) not in (4, 36) or any(c not in "RGB" for c in letters):
        from tfraw.errors import UnsupportedCFAError

        raise UnsupportedCFAError(f"{path}: unknown CFA pattern name {name!r}")
    side = 2 if len(letters) == 4 else 6
    return np.array(["RGB".index(c) for c in letters], np.int32).reshape(side, side)


def write_raw_image_dng(path: str | os.PathLike, raw: RawImage) -> Path:
    """Writes a (possibly processed, e.g. denoised) :class:`RawImage` as a DNG, keeping metadata.

    The normalized mosaic is re-quantized with the image's own black and white levels:
    ``round(mosaic * (white - black) + black)``, limited to the uint16 range (values above white
    survive up to 65535; values below ``-black / (white - black)`` cannot be stored). When the
    levels span fewer than 1024 codes (e.g. synthetic data with white 1), black 0 / white 16383
    are used instead, which leaves two stops of headroom above 1.

    Args:
        path: output ``.dng`` file.
        raw: the image.

    Returns:
        The written path.
    """
    black = np.asarray(raw.black_level, np.float64)
    white = float(raw.white_level)
    if white - black.max() < 1024:
        black = np.zeros_like(black)
        white = 16383.0
    rows, cols = raw.cfa_pattern.shape
    height, width = raw.mosaic.shape
    tile = np.tile(black, (-(-height // rows), -(-width // cols)))[:height, :width]
    mosaic = np.asarray(raw.mosaic, np.float64)
    if not np.all(np.isfinite(mosaic)):
        raise InputError(f"{path}: the mosaic of {raw.path} holds NaN or Inf values")
    data = np.clip(np.round(mosaic * (white - tile) + tile), 0, 65535).astype(np.uint16)
    color_matrix1 = raw.color_matrix1
    illuminant1 = raw.calibration_illuminant1
    if color_matrix1 is None and raw.xyz_to_camera is not None:
        color_matrix1, illuminant1 = raw.xyz_to_camera, 21  # LibRaw's matrices are for D65
    return write_dng(
        path,
        data,
        raw.cfa_pattern,
        black_level=black,
        white_level=white,
        as_shot_neutral=raw.as_shot_neutral if raw.wb_source == "as_shot" else None,
        color_matrix1=color_matrix1,
        calibration_illuminant1=illuminant1,
        color_matrix2=raw.color_matrix2,
        calibration_illuminant2=raw.calibration_illuminant2,
        forward_matrix1=raw.forward_matrix1,
        forward_matrix2=raw.forward_matrix2,
        make=raw.make or "tfraw",
        model=raw.model or "synthetic",
        iso=raw.iso,
        exposure_time=raw.exposure_time,
        f_number=raw.f_number,
        orientation=raw.orientation,
        noise_profile=raw.noise_profile,
    )
