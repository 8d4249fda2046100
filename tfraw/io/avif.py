"""HDR output: linear scene light → BT.2100 HLG → 10-bit AVIF, and reading AVIF back.

Encoder finding (measured on this environment, imagecodecs 2026.3.6 with libavif 1.4.0, the
AOM codec only; ``codec="rav1e"``/``"svt"`` answer "No codec available"):

- ``imagecodecs.avif_encode(rgb_uint16, bitspersample=10, primaries=9, transfer=18, matrix=9)``
  writes a 10-bit AVIF whose ``colr`` box is ``nclx`` 9/18/9 with the full-range flag set
  (BT.2020 primaries, HLG transfer, BT.2020 non-constant-luminance matrix), and
  ``imagecodecs.avif_decode`` returns the 10-bit codes as uint16. At ``level=100`` (and with no
  level) the round trip is within 1 code (the RGB → YCbCr conversion rounds); at ``level=90``
  random noise comes back up to 85 codes off, smooth images far less.
- Pillow 13 reads and writes AVIF natively (libavif 1.4.2), but only 8-bit modes
  (``L``/``RGB``/``RGBA``; a uint16 RGB array has no Pillow mode) and it decodes our 10-bit file
  to 8-bit RGB; ``pillow-avif-plugin`` is not installed and has the same 8-bit limit. Neither can
  write HDR, so this module uses imagecodecs only.

Transfer function: ITU-R BT.2100-2 (07/2018), Table 5, HLG OETF, for normalized scene linear
light ``E`` in ``[0, 1]``::

    E' = sqrt(3 E)                  0 <= E <= 1/12
    E' = a ln(12 E - b) + c         1/12 < E <= 1
    a = 0.17883277, b = 1 - 4a = 0.28466892, c = 0.5 - a ln(4a) = 0.55991073

``E = linear / peak``: ``peak`` is the scene value that becomes HLG's nominal peak (signal 1.0).
With ``peak=1`` a scene white of 1.0 lands at the top of the range; to place it at the 75 %
HLG reference white of ITU-R BT.2408 instead, use ``peak = 1 / hlg_to_linear(0.75) ≈ 3.78``.
The signal is quantized to full-range 10-bit codes, ``round(1023 E')`` (the AVIF ``nclx`` box
says full range). Linear input is never clipped before this step; values above ``peak`` and below
0 are clipped only by the encode itself.

The colour primaries are only *labelled* BT.2020 (CICP 9); convert linear sRGB/Rec.709 to
BT.2020 primaries first (a 3x3 matrix, e.g. from ``tfraw.isp``) for correct colours.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path

import numpy as np

from tfraw.errors import InputError
from tfraw.isp import transfer

__all__ = [
    "hlg_to_linear",
    "linear_to_hlg",
    "read_avif",
    "read_avif_cicp",
    "read_hlg_avif",
    "write_hlg_avif",
]

# ITU-T H.273 code points written to the nclx box.
CICP_PRIMARIES_BT2020 = 9
CICP_TRANSFER_HLG = 18
CICP_MATRIX_BT2020_NCL = 9

_BITS = 10
_MAX_CODE = (1 << _BITS) - 1


def linear_to_hlg(linear: np.ndarray) -> np.ndarray:
    """BT.2100 HLG OETF on ``[0, 1]`` (``tfraw.isp.transfer.linear_to_hlg`` after clipping), float64."""
    e = np.clip(np.asarray(linear, np.float64), 0.0, 1.0)
    return transfer.linear_to_hlg(e.astype(np.float32)).numpy().astype(np.float64)


def hlg_to_linear(signal: np.ndarray) -> np.ndarray:
    """Inverse of :func:`linear_to_hlg` on ``[0, 1]``, float64."""
    s = np.clip(np.asarray(signal, np.float64), 0.0, 1.0)
    return transfer.hlg_to_linear(s.astype(np.float32)).numpy().astype(np.float64)


def _as_rgb(linear_rgb, name: str) -> np.ndarray:
    try:
        array = np.asarray(linear_rgb, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputError(f"{name}: cannot convert {type(linear_rgb).__name__} to numbers") from err
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3 or array.shape[-1] != 3 or min(array.shape[:2]) < 1:
        raise InputError(
            f"{name}: expected linear RGB (H, W, 3) or (1, H, W, 3), got {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise InputError(f"{name}: {bad} NaN/Inf value(s) in the linear image")
    return array


def write_hlg_avif(
    path: str | os.PathLike,
    linear_rgb,
    *,
    peak: float = 1.0,
    quality: int = 100,
    speed: int | None = None,
) -> Path:
    """Writes linear scene light as a 10-bit HLG AVIF (CICP 9/18/9, full range), atomically.

    Args:
        path: output file (``.avif``); its folder must exist.
        linear_rgb: float ``(H, W, 3)`` or ``(1, H, W, 3)`` (numpy or tensor), linear light with
            BT.2020 primaries, unclipped; ``peak`` maps to signal 1.0.
        peak: the linear value encoded as HLG's nominal peak (> 0).
        quality: AV1 quality 0..100 (imagecodecs ``level``); 100 keeps every code within 1.
        speed: libavif encoder speed 0 (slowest) .. 10, or None for the library default.

    Returns:
        The written path.

    Raises:
        InputError: bad shape or NaN/Inf. ValueError: bad ``peak``/``quality``.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.avif"
        >>> _ = write_hlg_avif(out, np.full((8, 8, 3), 1 / 12))
        >>> read_avif_cicp(out)
        (9, 18, 9)
    """
    import imagecodecs

    from tfraw.io.atomic import atomic_write

    path = Path(path)
    array = _as_rgb(linear_rgb, f"write_hlg_avif({path})")
    if not (isinstance(peak, int | float) and math.isfinite(peak) and peak > 0):
        raise ValueError(f"peak must be a finite number > 0, got {peak!r}")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 0 <= quality <= 100:
        raise ValueError(f"quality must be an integer in [0, 100], got {quality!r}")
    codes = np.round(linear_to_hlg(array / peak) * _MAX_CODE).astype(np.uint16)
    encoded = imagecodecs.avif_encode(
        np.ascontiguousarray(codes),
        level=quality,
        speed=speed,
        bitspersample=_BITS,
        primaries=CICP_PRIMARIES_BT2020,
        transfer=CICP_TRANSFER_HLG,
        matrix=CICP_MATRIX_BT2020_NCL,
    )
    with atomic_write(path) as tmp:
        tmp.write_bytes(encoded)
    return path


def _boxes(data: bytes, start: int, end: int, where: str):
    """Yields ``(type, body_start, box_end)`` for the ISOBMFF boxes in ``data[start:end]``."""
    offset = start
    while offset + 8 <= end:
        size, box_type = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:  # 64-bit largesize follows the type (ISO/IEC 14496-12, 4.2)
            if offset + 16 > end:
                raise InputError(f"{where}: truncated box header at byte {offset}")
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:  # the box extends to the end of its container
            size = end - offset
        if size < header or offset + size > end:
            raise InputError(f"{where}: corrupt box {box_type!r} of size {size} at byte {offset}")
        yield box_type, offset + header, offset + size
        offset += size


def _find_box(data: bytes, start: int, end: int, box_type: bytes, where: str) -> tuple[int, int]:
    for found, body, box_end in _boxes(data, start, end, where):
        if found == box_type:
            return body, box_end
    raise InputError(f"{where}: no {box_type.decode()!r} box found")


def _read_properties(path: Path) -> dict:
    """Item properties of an AVIF: ``nclx`` (4-tuple or None) and ``bits`` (int or None)."""
    where = str(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err})") from err
    ftyp_body, ftyp_end = _find_box(data, 0, min(len(data), 4096), b"ftyp", where)
    brands = {data[ftyp_body : ftyp_body + 4]} | {
        data[i : i + 4] for i in range(ftyp_body + 8, ftyp_end - 3, 4)
    }
    if not brands & {b"avif", b"avis"}:
        raise InputError(f"{path}: not an AVIF file (ftyp brands {sorted(brands)})")
    meta_body, meta_end = _find_box(data, 0, len(data), b"meta", where)
    # meta is a FullBox: 1 byte version + 3 bytes flags precede its children.
    iprp_body, iprp_end = _find_box(data, meta_body + 4, meta_end, b"iprp", where)
    ipco_body, ipco_end = _find_box(data, iprp_body, iprp_end, b"ipco", where)
    found: dict = {"nclx": None, "bits": None}
    for box_type, body, box_end in _boxes(data, ipco_body, ipco_end, where):
        # ISO/IEC 14496-12 12.1.5 ColourInformationBox: colour_type, then for 'nclx'
        # colour_primaries u16, transfer_characteristics u16, matrix_coefficients u16,
        # full_range_flag (1 bit) + 7 reserved bits.
        if box_type == b"colr" and data[body : body + 4] == b"nclx" and box_end - body >= 11:
            if found["nclx"] is None:
                primaries, transfer, matrix = struct.unpack(">HHH", data[body + 4 : body + 10])
                found["nclx"] = (primaries, transfer, matrix, bool(data[body + 10] & 0x80))
        # ISO/IEC 23008-12 6.5.6 PixelInformationProperty: FullBox header, num_channels u8,
        # then bits_per_channel u8 per channel.
        elif box_type == b"pixi" and box_end - body >= 6 and found["bits"] is None:
            found["bits"] = data[body + 5]
    return found


def _read_nclx(path: Path) -> tuple[int, int, int, bool]:
    """``(primaries, transfer, matrix, full_range)`` from the first ``colr``/``nclx`` box."""
    nclx = _read_properties(path)["nclx"]
    if nclx is None:
        raise InputError(f"{path}: no 'colr' box of type 'nclx' (no CICP colour description)")
    return nclx


def read_avif_cicp(path: str | os.PathLike) -> tuple[int, int, int]:
    """Reads the CICP code points of an AVIF from its ``colr``/``nclx`` box.

    The ISOBMFF boxes are walked directly (``ftyp`` → ``meta`` → ``iprp`` → ``ipco`` →
    ``colr``); nothing is decoded.

    Args:
        path: an AVIF file.

    Returns:
        ``(colour_primaries, transfer_characteristics, matrix_coefficients)`` as ITU-T H.273
        code points, e.g. ``(9, 18, 9)`` for BT.2100 HLG.

    Raises:
        InputError: not an AVIF, corrupt boxes, or no ``nclx`` colour box.
    """
    return _read_nclx(Path(path))[:3]


def read_avif(path: str | os.PathLike) -> np.ndarray:
    """Decodes an AVIF with ``imagecodecs.avif_decode``.

    Args:
        path: an AVIF file.

    Returns:
        The stored codes: uint8 for 8-bit files, uint16 (e.g. 0..1023 for 10-bit) otherwise;
        ``(H, W, 3)`` or ``(H, W, 4)``, or ``(H, W)`` for monochrome.

    Raises:
        InputError: missing or undecodable file.
    """
    import imagecodecs

    path = Path(path)
    try:
        return np.asarray(imagecodecs.avif_decode(path.read_bytes()))
    except (OSError, imagecodecs.AvifError) as err:
        raise InputError(f"{path}: cannot decode AVIF ({err})") from err


def read_hlg_avif(path: str | os.PathLike, *, peak: float = 1.0) -> np.ndarray:
    """Reads an HLG AVIF written by :func:`write_hlg_avif` back to linear light.

    Args:
        path: a 10-bit (or 12-bit) AVIF labelled with the HLG transfer (CICP transfer 18).
        peak: the ``peak`` used when writing.

    Returns:
        float32 ``(H, W, 3)`` linear light in ``[0, peak]``.

    Raises:
        InputError: not HLG, not full range, or not 3-channel high bit depth.
    """
    path = Path(path)
    properties = _read_properties(path)
    if properties["nclx"] is None:
        raise InputError(f"{path}: no 'colr' box of type 'nclx' (no CICP colour description)")
    primaries, transfer, matrix, full_range = properties["nclx"]
    if transfer != CICP_TRANSFER_HLG or not full_range:
        raise InputError(
            f"{path}: expected full-range HLG (transfer 18), got CICP "
            f"{primaries}/{transfer}/{matrix}, full_range={full_range}"
        )
    codes = read_avif(path)
    if codes.dtype != np.uint16 or codes.ndim != 3 or codes.shape[-1] < 3:
        raise InputError(f"{path}: expected high-bit-depth RGB, got {codes.dtype} {codes.shape}")
    bits = properties["bits"] or _BITS
    max_code = (1 << bits) - 1
    return (hlg_to_linear(codes[..., :3] / max_code) * peak).astype(np.float32)
