"""Camera raw files -> :class:`RawImage` (normalized mosaic + metadata).

``read_raw`` dispatches on the file:

- ``*.raw``: headerless little-endian uint16 + JSON sidecar (:mod:`tfraw.io.plain`),
- ``*.png`` with a JSON sidecar: 16-bit grey PNG Bayer dump (:mod:`tfraw.io.plain`),
- anything else: LibRaw through rawpy (DNG, NEF, CR2/CR3, ARW, RAF incl. X-Trans, RW2, ORF ...).
  For TIFF-based files (DNG and most maker formats) the DNG/EXIF tags are also read with
  tifffile (:func:`tfraw.io.dng.read_dng_tags`), because LibRaw leaves ``rgb_xyz_matrix`` at zero
  for DNGs of cameras it does not know and does not expose ColorMatrix/ForwardMatrix/NoiseProfile.

Facts about rawpy/LibRaw this module relies on (checked on rawpy 0.28):

- ``camera_whitebalance`` holds white-balance *multipliers* (LibRaw ``cam_mul``), not a neutral,
  in the colour-index order of ``color_desc`` (R, G, B, G2) and not normalized; a 0 for G2 means
  "same as G". For a DNG it is ``1 / AsShotNeutral``: the Magic Lantern Canon DNG has
  AsShotNeutral (1, 2.477, 1.462) and rawpy gives [1.0, 0.4037, 0.684, 0].
- ``black_level_per_channel`` is indexed by colour index (R, G, B, G2), not by CFA position, and
  LibRaw keeps only one value per colour, so per-position DNG black levels (BlackLevelRepeatDim)
  are taken from the tags when present.
- ``sizes.flip`` uses LibRaw's own code (bit 0 = mirror left-right, bit 1 = mirror top-bottom,
  bit 2 = transpose first); :data:`LIBRAW_FLIP_TO_EXIF` maps it to EXIF Orientation 1..8.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from tfraw.errors import InputError, UnsupportedCFAError

#: LibRaw ``sizes.flip`` -> EXIF Orientation (TIFF tag 274). LibRaw converts the tag with the
#: table "50132467"[orientation & 7], whose inverse is this map.
LIBRAW_FLIP_TO_EXIF: dict[int, int] = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}

_COLOR_LETTER_TO_INDEX = {"R": 0, "G": 1, "B": 2}


@dataclasses.dataclass
class RawImage:
    """A camera raw image: the normalized CFA mosaic and what is needed to render it.

    Attributes:
        mosaic: ``(H, W)`` float32, ``(raw - black) / (white - black)`` with the black level of
            each CFA position; never clipped (highlights above 1 and noise below 0 survive).
        cfa_pattern: ``(2, 2)`` Bayer or ``(6, 6)`` X-Trans int32 pattern, 0 = R, 1 = G, 2 = B,
            aligned to ``mosaic[0, 0]``.
        black_level: float32 array of the same shape as ``cfa_pattern``, in raw DN.
        white_level: saturation level in raw DN.
        wb_gains: ``(3,)`` float32 white-balance gains (multiply camera RGB), G = 1. As shot when
            the file has them (see ``wb_source``).
        as_shot_neutral: ``(3,)`` float32 camera response to the scene white, G = 1
            (``1 / wb_gains``).
        xyz_to_camera: ``(3, 3)`` float32 XYZ -> camera RGB matrix to use for colour, or None
            when the file carries no colour calibration.
        color_matrix1, color_matrix2: DNG ColorMatrix1/2 (tags 50721/50722) as read, or None.
        forward_matrix1, forward_matrix2: DNG ForwardMatrix1/2 (tags 50964/50965), or None.
        calibration_illuminant1, calibration_illuminant2: EXIF LightSource codes of the two
            calibrations (DNG tags 50778/50779), or None.
        iso, exposure_time, f_number: EXIF ISO (34855), ExposureTime in s (33434), FNumber
            (33437); None when unknown.
        make, model: camera maker and model ("" when unknown).
        orientation: EXIF Orientation 1..8 to apply to the rendered RGB image.
        noise_profile: DNG NoiseProfile (51041) as ``[(scale, offset), ...]`` per plane, or None.
        bits_per_sample: bit depth of the stored samples, or None.
        path: the file this image was read from.
        wb_source: "as_shot", "daylight" or "unity": where ``wb_gains`` came from.
        extra: JSON-safe format-specific metadata (e.g. sidecar colour matrices that are not
            XYZ -> camera).
    """

    mosaic: np.ndarray
    cfa_pattern: np.ndarray
    black_level: np.ndarray
    white_level: float
    wb_gains: np.ndarray = dataclasses.field(default_factory=lambda: np.ones(3, np.float32))
    as_shot_neutral: np.ndarray = dataclasses.field(default_factory=lambda: np.ones(3, np.float32))
    xyz_to_camera: np.ndarray | None = None
    color_matrix1: np.ndarray | None = None
    color_matrix2: np.ndarray | None = None
    forward_matrix1: np.ndarray | None = None
    forward_matrix2: np.ndarray | None = None
    calibration_illuminant1: int | None = None
    calibration_illuminant2: int | None = None
    iso: float | None = None
    exposure_time: float | None = None
    f_number: float | None = None
    make: str = ""
    model: str = ""
    orientation: int = 1
    noise_profile: list[tuple[float, float]] | None = None
    bits_per_sample: int | None = None
    path: str | None = None
    wb_source: str = "unity"
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.mosaic.shape[0])

    @property
    def width(self) -> int:
        return int(self.mosaic.shape[1])

    @property
    def is_xtrans(self) -> bool:
        return self.cfa_pattern.shape == (6, 6)

    @property
    def camera_to_srgb(self) -> np.ndarray | None:
        """``(3, 3)`` float32 white-balanced camera RGB -> linear sRGB, or None without a matrix."""
        if self.xyz_to_camera is None:
            return None
        from tfraw.isp import color  # lazy: pulls in TensorFlow

        matrix = color.camera_to_srgb_matrix(np.asarray(self.xyz_to_camera, np.float32))
        return np.asarray(matrix.numpy() if hasattr(matrix, "numpy") else matrix, np.float32)

    def metadata_dict(self) -> dict[str, Any]:
        """Everything but the mosaic, as a JSON-safe dict (lists, floats, ints, str, None)."""
        out: dict[str, Any] = {"height": self.height, "width": self.width}
        for field in dataclasses.fields(self):
            if field.name == "mosaic":
                continue
            out[field.name] = _json_safe(getattr(self, field.name))
        return out


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return str(value)


# --------------------------------------------------------------------------------------------
# Helpers shared by the readers (raw, plain, dng).


def validate_cfa_pattern(pattern: Any, path: str | os.PathLike | None = None) -> np.ndarray:
    """Checks a CFA pattern and returns it as int32.

    A pattern must be 2x2 with one R, two G and one B (Bayer), or 6x6 with all three colours
    (X-Trans-like), with values 0 = R, 1 = G, 2 = B.

    Raises:
        UnsupportedCFAError: any other shape or content (3x3, 4x4, CMYG, ...).
    """
    where = f"{path}: " if path is not None else ""
    arr = np.asarray(pattern)
    if arr.shape not in ((2, 2), (6, 6)) or not np.issubdtype(arr.dtype, np.integer):
        raise UnsupportedCFAError(
            f"{where}unsupported CFA pattern of shape {arr.shape} (dtype {arr.dtype}); "
            "only 2x2 Bayer and 6x6 X-Trans RGB patterns are supported"
        )
    if arr.min() < 0 or arr.max() > 2:
        raise UnsupportedCFAError(
            f"{where}CFA pattern {arr.tolist()} has colour indices outside 0 (R), 1 (G), 2 (B)"
        )
    counts = np.bincount(arr.ravel(), minlength=3)
    if arr.shape == (2, 2) and counts.tolist() != [1, 2, 1]:
        raise UnsupportedCFAError(
            f"{where}2x2 CFA pattern {arr.tolist()} is not a Bayer pattern (needs 1 R, 2 G, 1 B)"
        )
    if arr.shape == (6, 6) and counts.min() == 0:
        raise UnsupportedCFAError(f"{where}6x6 CFA pattern {arr.tolist()} lacks a colour")
    return arr.astype(np.int32)


def per_position_levels(
    levels: Any, pattern: np.ndarray, path: str | os.PathLike | None = None, name: str = "level"
) -> np.ndarray:
    """Expands a scalar, a repeat tile or a per-position list to the shape of ``pattern``.

    Accepted: a scalar; an array whose shape tiles the pattern (1x1, 1x2, 2x2 ... dividing it);
    a flat list of ``pattern.size`` values in raster order.
    """
    arr = np.asarray(levels, dtype=np.float64)
    rows, cols = pattern.shape
    if arr.ndim == 0:
        return np.full(pattern.shape, float(arr), np.float32)
    if arr.ndim == 1 and arr.size == pattern.size:
        return arr.reshape(pattern.shape).astype(np.float32)
    if arr.ndim == 1 and arr.size == 1:
        return np.full(pattern.shape, float(arr[0]), np.float32)
    if arr.ndim == 2 and rows % arr.shape[0] == 0 and cols % arr.shape[1] == 0:
        return np.tile(arr, (rows // arr.shape[0], cols // arr.shape[1])).astype(np.float32)
    raise InputError(
        f"{path}: {name} {arr.tolist()} (shape {arr.shape}) does not fit the "
        f"{rows}x{cols} CFA pattern"
    )


def tile_period(period: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``period`` (one value per position of the CFA period) repeated over an ``(H, W)`` mosaic
    aligned to its ``[0, 0]``."""
    rows, cols = np.shape(period)
    height, width = shape
    return np.tile(period, (-(-height // rows), -(-width // cols)))[:height, :width]


def period_means(mosaic: np.ndarray, period: tuple[int, int]) -> np.ndarray:
    """The mean of ``mosaic`` at each position of a ``(rows, cols)`` CFA period aligned to its
    ``[0, 0]`` (float64, shape ``period``): e.g. a dark frame's black level per channel."""
    rows, cols = period
    data = np.asarray(mosaic, np.float64)
    return np.array([[data[dy::rows, dx::cols].mean() for dx in range(cols)] for dy in range(rows)])


def normalize_mosaic(raw: np.ndarray, black: np.ndarray, white: float) -> np.ndarray:
    """``(raw - black) / (white - black)`` with the per-position black tiled; never clipped."""
    tile = tile_period(black, raw.shape)
    scale = np.float32(white) - tile
    return ((raw.astype(np.float32) - tile) / scale).astype(np.float32)


def gains_to_neutral(gains: np.ndarray) -> np.ndarray:
    """White-balance gains -> as-shot neutral, both normalized so that G = 1."""
    neutral = 1.0 / np.asarray(gains, np.float64)
    return (neutral / neutral[1]).astype(np.float32)


def neutral_to_gains(neutral: Any) -> np.ndarray:
    """As-shot neutral (camera response to white) -> gains with G = 1 (DNG spec: gains = 1/n)."""
    gains = 1.0 / np.asarray(neutral, np.float64)
    return (gains / gains[1]).astype(np.float32)


def xyz_to_camera_from_dng(tags: dict[str, Any], as_shot_neutral: np.ndarray) -> np.ndarray | None:
    """The XYZ -> camera matrix of a DNG for the as-shot white, per DNG spec 1.6 chapter 6.

    ``XYZtoCamera = AB * CC * CM``, with CM (ColorMatrix) and CC (CameraCalibration) interpolated
    between the two calibration illuminants in inverse colour temperature at the CCT of the
    as-shot neutral. With one matrix it is used as is.
    """
    cm1, cm2 = tags.get("color_matrix1"), tags.get("color_matrix2")
    if cm1 is None:
        return None
    ab = np.diag(tags["analog_balance"]) if tags.get("analog_balance") is not None else np.eye(3)
    cc1 = tags.get("camera_calibration1")
    cc2 = tags.get("camera_calibration2")
    cc1 = np.eye(3) if cc1 is None else cc1
    cc2 = cc1 if cc2 is None else cc2
    ill1, ill2 = tags.get("calibration_illuminant1"), tags.get("calibration_illuminant2")
    if cm2 is None or ill1 is None or ill2 is None:
        return (ab @ cc1 @ cm1).astype(np.float32)

    from tfraw.isp import color  # lazy: pulls in TensorFlow

    def as_np(x: Any) -> np.ndarray:
        return np.asarray(x.numpy() if hasattr(x, "numpy") else x, np.float64)

    try:
        cct1 = float(as_np(color.illuminant_to_cct(int(ill1))))
        cct2 = float(as_np(color.illuminant_to_cct(int(ill2))))
    except InputError:  # an illuminant without a temperature (0 unknown, 255 other ...)
        return (ab @ cc1 @ cm1).astype(np.float32)
    m1 = (ab @ cc1 @ cm1).astype(np.float32)
    m2 = (ab @ cc2 @ cm2).astype(np.float32)
    cct = float(
        as_np(
            color.estimate_cct_from_neutral(
                np.asarray(as_shot_neutral, np.float32), m1, m2, cct1, cct2
            )
        )
    )
    cm = as_np(
        color.interpolate_color_matrix(
            np.asarray(cm1, np.float32), np.asarray(cm2, np.float32), cct1, cct2, cct
        )
    )
    cc = as_np(
        color.interpolate_color_matrix(
            np.asarray(cc1, np.float32), np.asarray(cc2, np.float32), cct1, cct2, cct
        )
    )
    return (ab @ cc @ cm).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Reading.


def read_raw(path: str | os.PathLike) -> RawImage:
    """Reads a camera raw file into a :class:`RawImage`.

    Args:
        path: a LibRaw-readable raw file (DNG, NEF, CR2, CR3, ARW, RAF, RW2, ORF, PEF ...), a
            headerless ``.raw`` uint16 dump with a JSON sidecar, or a 16-bit grey ``.png`` Bayer
            dump with a JSON sidecar (see :mod:`tfraw.io.plain`).

    Returns:
        The normalized mosaic with its metadata.

    Raises:
        InputError: missing, empty, truncated or unreadable file; bad or missing sidecar.
        UnsupportedCFAError: a CFA that is neither 2x2 Bayer nor 6x6 X-Trans RGB.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    suffix = path.suffix.lower()
    if suffix == ".raw":
        from tfraw.io import plain

        return plain.read_plain_bayer(path)
    if suffix == ".png":
        from tfraw.io import plain

        return plain.read_png_bayer(path)
    return _read_with_rawpy(path)


def _positive(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) and value > 0 else None


def _read_with_rawpy(path: Path) -> RawImage:
    import rawpy

    from tfraw.io import dng

    # Checks the TIFF structure first: LibRaw returns an all-zero image, without an error, for
    # some truncated DNGs (e.g. a tiled, compressed DNG cut to 1 KB).
    tags = dng.read_dng_tags(path)
    if tags is not None and tags.get("cfa_repeat_dim") is not None:
        dim = tuple(int(v) for v in tags["cfa_repeat_dim"])
        if dim not in ((2, 2), (6, 6)):
            raise UnsupportedCFAError(
                f"{path}: CFARepeatPatternDim {dim} is not supported (only 2x2 and 6x6)"
            )
    tags = tags or {}
    try:
        with rawpy.imread(str(path)) as rp:
            visible = np.array(rp.raw_image_visible, copy=True)
            raw_pattern = np.asarray(rp.raw_pattern)
            colors = np.asarray(rp.raw_colors_visible)
            color_desc = rp.color_desc.decode("ascii", "replace")
            num_colors = int(rp.num_colors)
            black_per_channel = list(rp.black_level_per_channel)
            white = float(rp.white_level)
            camera_white = rp.camera_white_level_per_channel
            camera_wb = list(rp.camera_whitebalance)
            daylight_wb = list(rp.daylight_whitebalance)
            rgb_xyz = np.asarray(rp.rgb_xyz_matrix, np.float64)[:3]
            flip = int(rp.sizes.flip)
            other = rp.other
    except (rawpy.LibRawError, rawpy.NotSupportedError, OSError, ValueError) as err:
        raise InputError(
            f"{path}: cannot read as a camera raw file ({type(err).__name__}: {err})"
        ) from err

    if visible.ndim != 2:
        raise UnsupportedCFAError(
            f"{path}: not a single-plane CFA mosaic (raw image of shape {visible.shape}); "
            "linear DNGs, Foveon and multi-shot files are not supported"
        )
    if visible.size == 0 or not visible.any():
        raise InputError(f"{path}: the raw image is empty or all zero (truncated or corrupt file?)")

    # CFA: LibRaw colour indices -> 0/1/2 through color_desc (index 3 is the second green).
    if raw_pattern.ndim != 2 or raw_pattern.shape not in ((2, 2), (6, 6)):
        raise UnsupportedCFAError(
            f"{path}: unsupported CFA with a {raw_pattern.shape} repeat "
            f"(colours {color_desc!r}); only 2x2 Bayer and 6x6 X-Trans RGB are supported"
        )
    letters = [color_desc[i] if i < len(color_desc) else "?" for i in range(4)]
    used = sorted({int(i) for i in np.unique(colors[:12, :12])})
    if num_colors != 3 or any(letters[i] not in _COLOR_LETTER_TO_INDEX for i in used):
        raise UnsupportedCFAError(
            f"{path}: unsupported colour filter array with colours {color_desc!r} "
            f"({num_colors} colours); only RGB Bayer and X-Trans are supported"
        )
    lut = np.array([_COLOR_LETTER_TO_INDEX.get(c, -1) for c in letters], np.int32)
    rows, cols = raw_pattern.shape
    base = colors[:rows, :cols]
    probe = colors[: 4 * rows, : 4 * cols]
    tiled = np.tile(base, (4, 4))[: probe.shape[0], : probe.shape[1]]
    if not np.array_equal(probe, tiled):
        raise UnsupportedCFAError(f"{path}: the CFA does not repeat with a {rows}x{cols} period")
    pattern = validate_cfa_pattern(lut[base], path)

    # Levels: per CFA position, from the DNG tags when they give one value per position.
    black = np.array([[black_per_channel[int(i)] for i in row] for row in base], np.float32)
    if tags.get("black_level") is not None:
        try:
            black = per_position_levels(tags["black_level"], pattern, path, "BlackLevel")
        except InputError:
            pass  # a repeat that does not tile the CFA: keep LibRaw's per-colour values
    if camera_white is not None and all(v > 0 for v in camera_white):
        white = float(min(camera_white))
    if not white > float(black.max()):
        raise InputError(f"{path}: white level {white} is not above black level {black.max()}")

    # White balance: DNG AsShotNeutral (exact rationals) wins, then LibRaw's multipliers.
    wb_source = "unity"
    gains = np.ones(3, np.float32)
    if tags.get("as_shot_neutral") is not None and np.all(tags["as_shot_neutral"] > 0):
        gains, wb_source = neutral_to_gains(tags["as_shot_neutral"]), "as_shot"
    elif all(v > 0 for v in camera_wb[:3]):
        gains = (np.asarray(camera_wb[:3], np.float64) / camera_wb[1]).astype(np.float32)
        wb_source = "as_shot"
    elif all(v > 0 for v in daylight_wb[:3]):
        gains = (np.asarray(daylight_wb[:3], np.float64) / daylight_wb[1]).astype(np.float32)
        wb_source = "daylight"
    neutral = gains_to_neutral(gains)

    # Colour: LibRaw's matrix (Adobe's D65 ColorMatrix for cameras it knows), else DNG tags.
    if np.any(rgb_xyz != 0):
        xyz_to_camera = rgb_xyz.astype(np.float32)
    else:
        xyz_to_camera = xyz_to_camera_from_dng(tags, neutral)

    def tag_or_rawpy(name: str, fallback: Any) -> float | None:
        if name in tags:  # present in the file: 0 means unknown, do not guess
            return _positive(tags[name])
        return _positive(fallback)

    mosaic = normalize_mosaic(visible, black, white)
    bits = tags.get("bits_per_sample")
    if bits is None:
        bits = max(1, math.ceil(math.log2(white + 1)))
    return RawImage(
        mosaic=mosaic,
        cfa_pattern=pattern,
        black_level=black,
        white_level=white,
        wb_gains=gains,
        as_shot_neutral=neutral,
        xyz_to_camera=xyz_to_camera,
        color_matrix1=tags.get("color_matrix1"),
        color_matrix2=tags.get("color_matrix2"),
        forward_matrix1=tags.get("forward_matrix1"),
        forward_matrix2=tags.get("forward_matrix2"),
        calibration_illuminant1=tags.get("calibration_illuminant1"),
        calibration_illuminant2=tags.get("calibration_illuminant2"),
        iso=tag_or_rawpy("iso", other.iso_speed),
        exposure_time=tag_or_rawpy("exposure_time", other.shutter_speed),
        f_number=tag_or_rawpy("f_number", other.aperture),
        make=tags.get("make", ""),
        model=tags.get("model", ""),
        orientation=LIBRAW_FLIP_TO_EXIF.get(flip, 1),
        noise_profile=tags.get("noise_profile"),
        bits_per_sample=int(bits),
        path=str(path),
        wb_source=wb_source,
    )
