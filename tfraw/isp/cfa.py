"""Colour filter arrays: patterns, colour masks, mosaicking, phase alignment and Bayer packing.

A CFA pattern is a small integer array, 2x2 (Bayer) or 6x6 (X-Trans), holding 0 = R, 1 = G,
2 = B; the pattern is tiled over the sensor from its top-left pixel. Networks in tfraw see the
mosaic plus three colour masks, so one code path serves Bayer and X-Trans.

Phase alignment: a model is trained on one phase (the *reference* pattern). A raw file with
another phase of the same CFA is cropped by ``(dy, dx)`` rows/columns at the top-left
(:func:`align_mosaic`) so that the model sees the reference phase, and the model output is padded
back to the original size with :func:`restore_alignment`. Cropping is the default because it never
invents sensor data; :func:`pad_for_phase` is the alternative that keeps every pixel (it prepends
rows/columns copied from the nearest rows/columns of the same CFA colour) and is undone by
:func:`crop_phase_padding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError, UnsupportedCFAError

__all__ = [
    "BAYER_PATTERNS",
    "XTRANS_PATTERN",
    "align_mosaic",
    "as_pattern",
    "cfa_masks",
    "cfa_reflect_index",
    "crop_phase_padding",
    "mosaic",
    "pack_bayer",
    "pad_for_phase",
    "pattern_name",
    "phase_offset",
    "restore_alignment",
    "shift_pattern",
    "unpack_bayer",
]

R, G, B = 0, 1, 2

#: The four phases of the Bayer CFA, named by their top-left 2x2 block read row by row.
BAYER_PATTERNS: dict[str, np.ndarray] = {
    "RGGB": np.array([[R, G], [G, B]], np.int32),
    "BGGR": np.array([[B, G], [G, R]], np.int32),
    "GRBG": np.array([[G, R], [B, G]], np.int32),
    "GBRG": np.array([[G, B], [R, G]], np.int32),
}

#: Fujifilm X-Trans 6x6 pattern as LibRaw reports it for X-Trans sensors (``raw_pattern`` of
#: rawpy on X-T/X-Pro bodies): 20 G, 8 R and 8 B sites; every row and column holds R, G and B.
XTRANS_PATTERN: np.ndarray = np.array(
    [
        [G, G, R, G, G, B],
        [G, G, B, G, G, R],
        [B, B, G, R, R, G],
        [G, G, B, G, G, R],
        [G, G, R, G, G, B],
        [R, R, G, B, B, G],
    ],
    np.int32,
)

PatternLike = str | np.ndarray | Sequence[Sequence[int]] | tf.Tensor

_XTRANS_NAMES = {"XTRANS", "X-TRANS", "X_TRANS"}


def as_pattern(pattern: PatternLike) -> np.ndarray:
    """Returns a validated CFA pattern array.

    Args:
        pattern: a name (``"RGGB"``, ``"BGGR"``, ``"GRBG"``, ``"GBRG"``, ``"xtrans"``; case
            insensitive) or an integer array-like of shape ``(2, 2)`` or ``(6, 6)`` holding
            0 = R, 1 = G, 2 = B.

    Returns:
        ``np.ndarray`` int32 of shape ``(2, 2)`` or ``(6, 6)`` (a fresh copy).

    Raises:
        UnsupportedCFAError: unknown name, wrong shape, values outside 0..2, a colour missing.

    Example:
        >>> as_pattern("rggb").tolist()
        [[0, 1], [1, 2]]
    """
    if isinstance(pattern, str):
        key = pattern.strip().upper()
        if key in BAYER_PATTERNS:
            return BAYER_PATTERNS[key].copy()
        if key in _XTRANS_NAMES:
            return XTRANS_PATTERN.copy()
        raise UnsupportedCFAError(
            f"unknown CFA pattern name {pattern!r}; known: {sorted(BAYER_PATTERNS)} and 'XTRANS'"
        )
    if isinstance(pattern, tf.Tensor):
        pattern = pattern.numpy()
    try:
        array = np.asarray(pattern)
    except (TypeError, ValueError) as err:
        raise UnsupportedCFAError(f"CFA pattern is not an array: {pattern!r}") from err
    if array.shape not in ((2, 2), (6, 6)):
        raise UnsupportedCFAError(
            f"CFA pattern must be 2x2 (Bayer) or 6x6 (X-Trans), got shape {array.shape}"
        )
    if array.dtype.kind not in "iu" and not (
        array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array))
    ):
        raise UnsupportedCFAError(f"CFA pattern must hold integers 0..2, got {array.tolist()}")
    array = array.astype(np.int32)
    if array.min() < 0 or array.max() > 2:
        raise UnsupportedCFAError(
            f"CFA pattern values must be 0 (R), 1 (G) or 2 (B), got {array.tolist()}"
        )
    missing = {0, 1, 2} - set(np.unique(array).tolist())
    if missing:
        raise UnsupportedCFAError(
            f"CFA pattern lacks colour(s) {sorted(missing)} (0=R, 1=G, 2=B): {array.tolist()}"
        )
    return array


def pattern_name(pattern: PatternLike) -> str:
    """Names a CFA pattern.

    Args:
        pattern: anything :func:`as_pattern` accepts.

    Returns:
        ``"RGGB"``, ``"BGGR"``, ``"GRBG"``, ``"GBRG"``, ``"XTRANS"`` (the LibRaw phase only) or
        ``"CUSTOM"`` (any other valid pattern, e.g. a shifted X-Trans).

    Example:
        >>> pattern_name([[1, 0], [2, 1]])
        'GRBG'
    """
    array = as_pattern(pattern)
    for name, known in BAYER_PATTERNS.items():
        if np.array_equal(array, known):
            return name
    if np.array_equal(array, XTRANS_PATTERN):
        return "XTRANS"
    return "CUSTOM"


def cfa_masks(pattern: PatternLike, height: int | tf.Tensor, width: int | tf.Tensor) -> tf.Tensor:
    """One-hot colour masks of a CFA tiled over an image.

    Args:
        pattern: anything :func:`as_pattern` accepts.
        height: image height ``H`` (Python int or scalar int tensor; dynamic is fine).
        width: image width ``W``.

    Returns:
        float32 tensor ``(H, W, 3)`` with values in {0, 1}; channel c is 1 where the pixel sees
        colour c (0 = R, 1 = G, 2 = B); exactly one channel is 1 per pixel.

    Example:
        >>> cfa_masks("RGGB", 2, 2)[..., 0].numpy().tolist()
        [[1.0, 0.0], [0.0, 0.0]]
    """
    array = as_pattern(pattern)
    period = array.shape[0]
    one_hot = tf.constant(np.eye(3, dtype=np.float32)[array])  # (p, p, 3)
    height = tf.cast(height, tf.int32)
    width = tf.cast(width, tf.int32)
    reps_y = (height + period - 1) // period
    reps_x = (width + period - 1) // period
    tiled = tf.tile(one_hot, tf.stack([reps_y, reps_x, 1]))
    return tiled[:height, :width, :]


def _check_image(image: tf.Tensor, name: str, channels: int | None) -> tf.Tensor:
    """Converts to float32 and checks rank 3/4 and the channel count; raises InputError."""
    try:
        tensor = tf.convert_to_tensor(image)
    except (TypeError, ValueError) as err:
        raise InputError(f"{name}: cannot convert {type(image).__name__} to a tensor") from err
    if not tensor.dtype.is_floating and not tensor.dtype.is_integer:
        raise InputError(f"{name}: expected a numeric tensor, got dtype {tensor.dtype.name}")
    tensor = tf.cast(tensor, tf.float32)
    rank = tensor.shape.rank
    if rank not in (3, 4):
        raise InputError(f"{name}: expected shape (B, H, W, C) or (H, W, C), got {tensor.shape}")
    if channels is not None and tensor.shape[-1] is not None and tensor.shape[-1] != channels:
        raise InputError(
            f"{name}: expected {channels} channel(s) in the last axis, got shape {tensor.shape}"
        )
    return tensor


def mosaic(rgb: tf.Tensor | np.ndarray, pattern: PatternLike) -> tf.Tensor:
    """Samples an RGB image through a CFA (keeps one colour per pixel).

    Args:
        rgb: float tensor ``(B, H, W, 3)`` or ``(H, W, 3)``, any range (linear values are
            never clipped).
        pattern: anything :func:`as_pattern` accepts; tiled from the top-left pixel.

    Returns:
        float32 tensor ``(B, H, W, 1)`` or ``(H, W, 1)`` (same rank as ``rgb``).

    Raises:
        InputError: wrong rank or channel count.

    Example:
        >>> x = tf.reshape(tf.range(12, dtype=tf.float32), (2, 2, 3))
        >>> mosaic(x, "RGGB")[..., 0].numpy().tolist()
        [[0.0, 4.0], [7.0, 11.0]]
    """
    rgb = _check_image(rgb, "mosaic", 3)
    shape = tf.shape(rgb)
    masks = cfa_masks(pattern, shape[-3], shape[-2])
    return tf.reduce_sum(rgb * masks, axis=-1, keepdims=True)


def shift_pattern(pattern: PatternLike, dy: int, dx: int) -> np.ndarray:
    """The CFA pattern seen by the image cropped by ``dy`` rows and ``dx`` columns at the origin.

    Args:
        pattern: anything :func:`as_pattern` accepts.
        dy: rows removed at the top (any integer; taken modulo the period).
        dx: columns removed at the left.

    Returns:
        int32 array of the same shape as the pattern.

    Example:
        >>> pattern_name(shift_pattern("RGGB", 0, 1))
        'GRBG'
    """
    array = as_pattern(pattern)
    return np.roll(array, shift=(-int(dy), -int(dx)), axis=(0, 1)).astype(np.int32)


def phase_offset(pattern: PatternLike, reference: PatternLike) -> tuple[int, int]:
    """Smallest crop that turns ``pattern`` into ``reference``.

    Args:
        pattern: the CFA of the image.
        reference: the CFA phase wanted (e.g. the one a model was trained on).

    Returns:
        ``(dy, dx)``, both in ``[0, period)``, with ``shift_pattern(pattern, dy, dx) ==
        reference``; among several solutions the one with the smallest ``dy + dx`` (then ``dy``).

    Raises:
        UnsupportedCFAError: no shift maps one onto the other (e.g. Bayer vs X-Trans).

    Example:
        >>> phase_offset("GBRG", "RGGB")
        (1, 0)
    """
    array = as_pattern(pattern)
    ref = as_pattern(reference)
    if array.shape != ref.shape:
        raise UnsupportedCFAError(
            f"CFA {array.shape} pattern {array.tolist()} cannot be aligned to {ref.shape} "
            f"reference {ref.tolist()}"
        )
    period = array.shape[0]
    candidates = [
        (dy + dx, dy, dx)
        for dy in range(period)
        for dx in range(period)
        if np.array_equal(shift_pattern(array, dy, dx), ref)
    ]
    if not candidates:
        raise UnsupportedCFAError(
            f"no shift of CFA pattern {array.tolist()} equals reference {ref.tolist()}"
        )
    _, dy, dx = min(candidates)
    return dy, dx


def align_mosaic(
    mosaic_image: tf.Tensor | np.ndarray, pattern: PatternLike, reference: PatternLike
) -> tuple[tf.Tensor, tuple[int, int]]:
    """Crops a mosaic at the top-left so that its CFA phase equals ``reference``.

    A model trained on ``reference`` then sees the phase it was trained on. Undo with
    :func:`restore_alignment` on the model output.

    Args:
        mosaic_image: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``.
        pattern: CFA of ``mosaic_image``.
        reference: the wanted phase (same CFA family).

    Returns:
        ``(aligned, (dy, dx))``: ``aligned`` is ``mosaic_image[..., dy:, dx:, :]`` (float32,
        same rank) and ``(dy, dx)`` is from :func:`phase_offset`.

    Raises:
        InputError: bad shape. UnsupportedCFAError: no alignment exists.

    Example:
        >>> aligned, offset = align_mosaic(tf.zeros((4, 4, 1)), "GRBG", "RGGB")
        >>> aligned.shape, offset
        (TensorShape([4, 3, 1]), (0, 1))
    """
    tensor = _check_image(mosaic_image, "align_mosaic", 1)
    dy, dx = phase_offset(pattern, reference)
    return tensor[..., dy:, dx:, :], (dy, dx)


def _pad_indices(
    size: tf.Tensor, before: int | tf.Tensor, after: int | tf.Tensor, mode: str
) -> tf.Tensor:
    """Source indices for padding an axis of length ``size`` (reflect or edge, any amount)."""
    idx = tf.range(-tf.cast(before, tf.int32), size + tf.cast(after, tf.int32))
    if mode == "edge":
        return tf.clip_by_value(idx, 0, size - 1)
    # Reflect without repeating the edge pixel, folded so that any pad amount is valid.
    period = tf.maximum(2 * (size - 1), 1)
    folded = tf.math.floormod(idx, period)
    return tf.where(folded < size, folded, period - folded)


def restore_alignment(
    image: tf.Tensor | np.ndarray,
    offset: tuple[int, int],
    height: int | tf.Tensor,
    width: int | tf.Tensor,
    mode: Literal["reflect", "edge"] = "reflect",
) -> tf.Tensor:
    """Pads an output computed on an aligned mosaic back to the original image size.

    ``offset`` rows/columns are added at the top/left and whatever is missing to reach
    ``(height, width)`` at the bottom/right, by reflection (default) or edge replication.
    The padded border holds guessed values: the model saw the reference phase only.

    Args:
        image: float tensor ``(B, h, w, C)`` or ``(h, w, C)``, ``h <= height - dy``.
        offset: ``(dy, dx)`` returned by :func:`align_mosaic`.
        height: original height ``H``.
        width: original width ``W``.
        mode: ``"reflect"`` or ``"edge"``.

    Returns:
        float32 tensor ``(B, H, W, C)`` or ``(H, W, C)``.

    Example:
        >>> restore_alignment(tf.ones((4, 3, 3)), (0, 1), 4, 4).shape
        TensorShape([4, 4, 3])
    """
    if mode not in ("reflect", "edge"):
        raise InputError(f"restore_alignment: mode must be 'reflect' or 'edge', got {mode!r}")
    tensor = _check_image(image, "restore_alignment", None)
    dy, dx = (int(v) for v in offset)
    if dy < 0 or dx < 0:
        raise InputError(f"restore_alignment: offset must be non-negative, got {offset}")
    shape = tf.shape(tensor)
    h, w = shape[-3], shape[-2]
    rows = _pad_indices(h, dy, tf.cast(height, tf.int32) - h - dy, mode)
    cols = _pad_indices(w, dx, tf.cast(width, tf.int32) - w - dx, mode)
    axis = tensor.shape.rank - 3
    return tf.gather(tf.gather(tensor, rows, axis=axis), cols, axis=axis + 1)


def cfa_reflect_index(index, size, period) -> tf.Tensor:
    """Mirror mapping of any integer index into ``[0, size)`` that keeps the CFA phase.

    The source of an index outside the image is its mirror image about the edge pixel (REFLECT,
    edge not repeated), moved by less than ``period`` to the nearest pixel of the same CFA phase
    (``source = index mod period``), so a mosaic extended this way is still a mosaic of the same
    pattern: for a Bayer period (2) this is exactly REFLECT; for X-Trans (6) it differs by a
    few pixels. Indices inside the image map to themselves.

    Args:
        index: int tensor of any shape.
        size: image length along the axis (``>= period``).
        period: CFA period along the axis (2 or 6; a tensor is fine).

    Returns:
        int32 tensor like ``index``.

    Example:
        >>> cfa_reflect_index(tf.range(-3, 1), 8, 6).numpy().tolist()
        [3, 4, 5, 0]
    """
    index = tf.convert_to_tensor(index, tf.int32)
    size = tf.cast(size, tf.int32)
    period = tf.cast(period, tf.int32)
    double = tf.maximum(2 * (size - 1), 1)
    folded = tf.math.floormod(index, double)
    mirror = tf.where(folded < size, folded, double - folded)
    source = mirror + tf.math.floormod(index - mirror, period)
    return tf.where(source >= size, source - period, source)


def pad_for_phase(
    mosaic_image: tf.Tensor | np.ndarray, pattern: PatternLike, reference: PatternLike
) -> tuple[tf.Tensor, tuple[int, int]]:
    """Prepends rows/columns so that the CFA phase equals ``reference`` (the padding alternative).

    Unlike :func:`align_mosaic` no pixel is dropped: ``(ty, tx) = (-dy mod p, -dx mod p)`` rows
    and columns are prepended, each a copy of the closest row/column of the *same CFA phase*
    (distance ``p``), so the padded mosaic is a valid mosaic of ``reference``. The model output
    is cut back with :func:`crop_phase_padding`.

    Args:
        mosaic_image: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``, ``H, W >= period``.
        pattern: CFA of ``mosaic_image``.
        reference: wanted phase.

    Returns:
        ``(padded, (ty, tx))``: float32 ``(..., H + ty, W + tx, 1)`` and the amounts prepended.

    Example:
        >>> padded, pad = pad_for_phase(tf.zeros((4, 4, 1)), "GRBG", "RGGB")
        >>> padded.shape, pad
        (TensorShape([4, 5, 1]), (0, 1))
    """
    tensor = _check_image(mosaic_image, "pad_for_phase", 1)
    array = as_pattern(pattern)
    period = array.shape[0]
    dy, dx = phase_offset(array, reference)
    ty, tx = (-dy) % period, (-dx) % period
    shape = tf.shape(tensor)
    # Padded index j < t copies source row j - t + period (same phase, nearest such row).
    rows = tf.concat([tf.range(ty) - ty + period, tf.range(shape[-3])], axis=0)
    cols = tf.concat([tf.range(tx) - tx + period, tf.range(shape[-2])], axis=0)
    axis = tensor.shape.rank - 3
    return tf.gather(tf.gather(tensor, rows, axis=axis), cols, axis=axis + 1), (ty, tx)


def crop_phase_padding(image: tf.Tensor | np.ndarray, padding: tuple[int, int]) -> tf.Tensor:
    """Removes the rows/columns prepended by :func:`pad_for_phase`.

    Args:
        image: float tensor ``(B, H + ty, W + tx, C)`` or ``(H + ty, W + tx, C)``.
        padding: ``(ty, tx)`` returned by :func:`pad_for_phase`.

    Returns:
        float32 tensor ``(..., H, W, C)``.

    Example:
        >>> crop_phase_padding(tf.zeros((4, 5, 3)), (0, 1)).shape
        TensorShape([4, 4, 3])
    """
    tensor = _check_image(image, "crop_phase_padding", None)
    ty, tx = (int(v) for v in padding)
    return tensor[..., ty:, tx:, :]


def _check_even(tensor: tf.Tensor, name: str) -> None:
    height, width = tensor.shape[-3], tensor.shape[-2]
    if (height is not None and height % 2) or (width is not None and width % 2):
        raise InputError(f"{name}: height and width must be even, got shape {tensor.shape}")


def pack_bayer(mosaic_image: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Packs each 2x2 Bayer block into 4 channels (half resolution).

    Channel order is block position, not colour: (0,0), (0,1), (1,0), (1,1); for an RGGB mosaic
    that is R, G, G, B.

    Args:
        mosaic_image: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)`` with even ``H`` and ``W``
            (checked eagerly when static; in a graph with dynamic shapes an odd size fails in
            ``tf.nn.space_to_depth``).

    Returns:
        float32 tensor ``(B, H/2, W/2, 4)`` or ``(H/2, W/2, 4)``.

    Raises:
        InputError: bad rank, channel count, or odd height/width.

    Example:
        >>> pack_bayer(tf.reshape(tf.range(4.0), (2, 2, 1))).numpy().tolist()
        [[[0.0, 1.0, 2.0, 3.0]]]
    """
    tensor = _check_image(mosaic_image, "pack_bayer", 1)
    _check_even(tensor, "pack_bayer")
    batched = tensor if tensor.shape.rank == 4 else tensor[tf.newaxis]
    packed = tf.nn.space_to_depth(batched, 2)
    return packed if tensor.shape.rank == 4 else packed[0]


def unpack_bayer(packed: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Inverse of :func:`pack_bayer`.

    Args:
        packed: float tensor ``(B, h, w, 4)`` or ``(h, w, 4)``.

    Returns:
        float32 tensor ``(B, 2h, 2w, 1)`` or ``(2h, 2w, 1)``.

    Example:
        >>> unpack_bayer(tf.constant([[[0.0, 1.0, 2.0, 3.0]]]))[..., 0].numpy().tolist()
        [[0.0, 1.0], [2.0, 3.0]]
    """
    tensor = _check_image(packed, "unpack_bayer", 4)
    batched = tensor if tensor.shape.rank == 4 else tensor[tf.newaxis]
    mosaic_image = tf.nn.depth_to_space(batched, 2)
    return mosaic_image if tensor.shape.rank == 4 else mosaic_image[0]
