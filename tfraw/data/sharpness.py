"""Sharpness ranking of a folder of photographs, to train on the sharpest part of a corpus.

Measure: the **variance of the Laplacian** (Pech-Pacheco et al., "Diatom autofocusing in
brightfield microscopy: a comparative study", ICPR 2000), a focus measure that is high for
crisp detail and low for blur, defocus and heavy compression:

1. decode the image (8-bit files with ``imageio.v3``; 16-bit PNGs with
   ``tf.io.decode_png(dtype=uint16)``, because imageio reduces those to 8 bits) and scale it to
   ``[0, 1]``, so 8- and 16-bit files compare on the same scale;
2. take the grey luma of the encoded values, ``Y' = 0.2126 R' + 0.7152 G' + 0.0722 B'``
   (ITU-R BT.709 coefficients, which sRGB shares); alpha is dropped, grey files are used as is;
3. resize (anti-aliased, :func:`skimage.transform.resize`) so that the **long side is
   ``working_size`` pixels** (default :data:`WORKING_SIZE` = 512), keeping the aspect ratio.
   The Laplacian responds to detail per pixel, so without a common scale a large sharp photo
   and a downscaled soft one would not compare; small images are upscaled, which fairly ranks
   them as less detailed;
4. apply the 4-neighbour Laplacian (:func:`skimage.filters.laplace`, 3x3 kernel, reflected
   borders) and take the variance of the response over the image, excluding a 1-pixel frame.

Example:
    >>> import tempfile, pathlib, imageio.v3 as iio
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> iio.imwrite(folder / "flat.png", np.full((8, 8, 3), 128, np.uint8))
    >>> [r["sharpness"] for r in rank_folder(folder, progress=False)]
    [0.0]
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from tfraw.errors import InputError

__all__ = [
    "WORKING_SIZE",
    "load_image_unit",
    "load_ranking",
    "rank_folder",
    "save_ranking",
    "select_top",
    "sharpness",
]

#: Long side, in pixels, of the grey image the Laplacian is measured on.
WORKING_SIZE = 512

# ITU-R BT.709 luma coefficients (also sRGB's).
_LUMA = np.array([0.2126, 0.7152, 0.0722])

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_RANKING_FORMAT = "tfraw.sharpness_ranking/1"


def _png_bit_depth(path: Path) -> int | None:
    """The IHDR bit depth of a PNG file, or None when the file is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(33)
    if len(head) < 25 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return head[24]


def load_image_unit(path: str | os.PathLike) -> np.ndarray:
    """Reads an image at its full bit depth, scaled to ``[0, 1]``.

    Args:
        path: PNG (8 or 16 bit), JPEG or anything else ``imageio.v3`` reads.

    Returns:
        float32 array ``(H, W, C)`` with ``C`` in 1..4, values in ``[0, 1]``.

    Raises:
        InputError: unreadable or undecodable file, unsupported dtype.
    """
    path = Path(path)
    try:
        if _png_bit_depth(path) == 16:
            import tensorflow as tf

            data = tf.io.decode_png(tf.io.read_file(str(path)), dtype=tf.uint16).numpy()
        else:
            import imageio.v3 as iio

            data = np.asarray(iio.imread(path))
    except Exception as err:  # decoders raise many unrelated types
        raise InputError(f"{path}: cannot read image ({type(err).__name__}: {err})") from err
    if data.ndim == 2:
        data = data[..., None]
    if data.ndim != 3 or data.shape[-1] not in (1, 2, 3, 4) or min(data.shape[:2]) < 1:
        raise InputError(f"{path}: expected a 2-D grey or colour image, got shape {data.shape}")
    if data.dtype == np.uint8:
        return data.astype(np.float32) / 255.0
    if data.dtype == np.uint16:
        return data.astype(np.float32) / 65535.0
    if data.dtype.kind == "f":
        return np.clip(data.astype(np.float32), 0.0, 1.0)
    raise InputError(f"{path}: unsupported pixel dtype {data.dtype}")


def sharpness(image: np.ndarray, working_size: int = WORKING_SIZE) -> float:
    """Variance of the Laplacian of the grey luma at a fixed working size (see module doc).

    Args:
        image: float array ``(H, W)`` or ``(H, W, C)`` in ``[0, 1]`` (C = 1..4; alpha ignored).
        working_size: long side of the measured image, in pixels (>= 8).

    Returns:
        The sharpness score (>= 0; 0 for a flat image). Scale: luma in ``[0, 1]``.

    Example:
        >>> sharpness(np.zeros((16, 16, 3)))
        0.0
    """
    from skimage.filters import laplace
    from skimage.transform import resize

    if working_size < 8:
        raise ValueError(f"working_size must be >= 8, got {working_size}")
    image = np.asarray(image, np.float64)
    if image.ndim == 3:
        channels = image.shape[-1]
        grey = image[..., :3] @ _LUMA if channels >= 3 else image[..., 0]
    elif image.ndim == 2:
        grey = image
    else:
        raise InputError(f"sharpness: expected (H, W) or (H, W, C), got shape {image.shape}")
    h, w = grey.shape
    scale = working_size / max(h, w)
    shape = (max(3, round(h * scale)), max(3, round(w * scale)))
    if shape != grey.shape:
        grey = resize(grey, shape, order=1, anti_aliasing=scale < 1.0, preserve_range=True)
    response = laplace(grey, ksize=3)[1:-1, 1:-1]
    return float(response.var())


def rank_folder(
    folder: str | os.PathLike,
    pattern: str = "*.png",
    *,
    working_size: int = WORKING_SIZE,
    on_error: Literal["raise", "skip"] = "raise",
    progress: bool = True,
) -> list[dict]:
    """Ranks the images of a folder by sharpness, sharpest first.

    Args:
        folder: the folder to scan (not recursive).
        pattern: glob pattern of the files to rank.
        working_size: see :func:`sharpness`.
        on_error: ``"raise"`` an :class:`InputError` on an unreadable file, or ``"skip"`` it with
            a warning.
        progress: show a tqdm progress bar.

    Returns:
        ``[{"path": str, "sharpness": float}, ...]`` sorted by decreasing sharpness (ties by
        path).

    Raises:
        InputError: the folder does not exist, or an unreadable file with ``on_error="raise"``.
    """
    from tqdm import tqdm

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"rank_folder: {folder} is not a folder")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    paths = sorted(p for p in folder.glob(pattern) if p.is_file())
    ranking = []
    for path in tqdm(paths, desc="sharpness", unit="img", disable=not progress):
        try:
            score = sharpness(load_image_unit(path), working_size)
        except InputError as err:
            if on_error == "raise":
                raise
            warnings.warn(f"skipping {path}: {err}", stacklevel=2)
            continue
        ranking.append({"path": str(path), "sharpness": score})
    ranking.sort(key=lambda r: (-r["sharpness"], r["path"]))
    return ranking


def save_ranking(ranking: list[dict], path: str | os.PathLike) -> None:
    """Writes a ranking as JSON, atomically (temp file in the same folder, then ``os.replace``).

    Args:
        ranking: as returned by :func:`rank_folder`.
        path: the JSON file to write; its folder must exist.
    """
    from tfraw.io.atomic import atomic_write

    document = {
        "format": _RANKING_FORMAT,
        "measure": "variance of the Laplacian of BT.709 luma",
        "ranking": [{"path": str(r["path"]), "sharpness": float(r["sharpness"])} for r in ranking],
    }
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def load_ranking(path: str | os.PathLike) -> list[dict]:
    """Reads a ranking written by :func:`save_ranking` (a bare JSON list is accepted too).

    Returns:
        ``[{"path": str, "sharpness": float}, ...]``, sharpest first.

    Raises:
        InputError: missing file, invalid JSON or entries without ``path``/``sharpness``.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read ranking ({err})") from err
    entries = document.get("ranking") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected a ranking list, got {type(entries).__name__}")
    try:
        ranking = [{"path": str(e["path"]), "sharpness": float(e["sharpness"])} for e in entries]
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: ranking entries need 'path' and 'sharpness' ({err})") from err
    ranking.sort(key=lambda r: (-r["sharpness"], r["path"]))
    return ranking


def select_top(
    ranking: list[dict], fraction: float | None = None, count: int | None = None
) -> list[dict]:
    """The sharpest entries of a ranking.

    Args:
        ranking: as returned by :func:`rank_folder` or :func:`load_ranking`.
        fraction: keep ``ceil(fraction * len(ranking))`` entries, ``0 < fraction <= 1``.
        count: keep this many entries (``>= 0``; more than available keeps all).
            Give exactly one of ``fraction`` and ``count``.

    Returns:
        The selected entries, sharpest first.

    Raises:
        ValueError: neither or both given, or a value out of range.

    Example:
        >>> ranking = [{"path": "a", "sharpness": 1.0}, {"path": "b", "sharpness": 3.0}]
        >>> [r["path"] for r in select_top(ranking, count=1)]
        ['b']
    """
    if (fraction is None) == (count is None):
        raise ValueError(f"give exactly one of fraction and count, got {fraction=}, {count=}")
    ordered = sorted(ranking, key=lambda r: (-r["sharpness"], r["path"]))
    if fraction is not None:
        if not 0.0 < float(fraction) <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        keep = math.ceil(float(fraction) * len(ordered) - 1e-9)
    else:
        if isinstance(count, bool) or int(count) != count or count < 0:
            raise ValueError(f"count must be an integer >= 0, got {count!r}")
        keep = int(count)
    return ordered[:keep]
