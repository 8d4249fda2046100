"""Geometric self-ensemble of a mosaic model (test-time augmentation over the square's symmetries).

A network that sees a mosaic flipped or transposed sees another phase of the same CFA: all 8
symmetries map a Bayer pattern to a Bayer phase, while the X-Trans 6x6 pattern is chiral (only
the vertical flip, and the identity, map it to one of its own shifts). Our mosaic models align
any phase of their CFA family themselves (demosaic) or were trained on random phases (denoise),
so each admissible symmetry gives a second opinion: transform the mosaic, run the model, undo
the transform, average. As in EDSR's "self-ensemble" (Lim et al., 2017) the cost is one model
call per transform.

Measured (BENCHMARKS.md, "Self-ensemble"): Bayer demosaic and the raw denoiser gain most; X-Trans,
with two admissible transforms, gains little.

Transform ``k`` (0..7) applies, in order, a transpose (bit 4), a horizontal flip (bit 1) and a
vertical flip (bit 2) to the image axes; :func:`inverse` undoes it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp.cfa import as_pattern

__all__ = [
    "ENSEMBLE_SIZES",
    "admissible",
    "forward",
    "inverse",
    "self_ensemble",
    "transformed_pattern",
]

#: Accepted ``self_ensemble`` values (1 = off).
ENSEMBLE_SIZES = (1, 2, 4, 8)
# Order in which transforms are tried: the vertical flip first (the one X-Trans admits), then the
# other flips, then the transposed ones.
_ORDER = (0, 2, 1, 3, 4, 6, 5, 7)


def forward(array, k: int, axes: tuple[int, int] = (1, 2)):
    """Transform ``k`` of ``array`` (numpy or TF) over its two image ``axes``."""
    is_tf = isinstance(array, tf.Tensor)
    ya, xa = axes
    if k & 4:
        perm = list(range(len(array.shape)))
        perm[ya], perm[xa] = perm[xa], perm[ya]
        array = tf.transpose(array, perm) if is_tf else np.transpose(array, perm)
    if k & 1:
        array = tf.reverse(array, [xa]) if is_tf else np.flip(array, xa)
    if k & 2:
        array = tf.reverse(array, [ya]) if is_tf else np.flip(array, ya)
    return array


def inverse(array, k: int, axes: tuple[int, int] = (1, 2)):
    """Undoes :func:`forward` with the same ``k``."""
    is_tf = isinstance(array, tf.Tensor)
    ya, xa = axes
    if k & 2:
        array = tf.reverse(array, [ya]) if is_tf else np.flip(array, ya)
    if k & 1:
        array = tf.reverse(array, [xa]) if is_tf else np.flip(array, xa)
    if k & 4:
        perm = list(range(len(array.shape)))
        perm[ya], perm[xa] = perm[xa], perm[ya]
        array = tf.transpose(array, perm) if is_tf else np.transpose(array, perm)
    return array


def transformed_pattern(pattern, height: int, width: int, k: int) -> np.ndarray:
    """The CFA pattern at the origin of ``forward(image, k)`` for an ``height x width`` image
    whose pattern at the origin is ``pattern``."""
    base = as_pattern(pattern)
    period = base.shape[0]
    # Size of the image after the transpose (the flips keep it).
    h, w = (width, height) if k & 4 else (height, width)
    rows, cols = np.meshgrid(np.arange(period), np.arange(period), indexing="ij")
    if k & 2:
        rows = h - 1 - rows
    if k & 1:
        cols = w - 1 - cols
    if k & 4:
        rows, cols = cols, rows
    return base[rows % period, cols % period].astype(np.int32)


def _is_shift_of(candidate: np.ndarray, pattern: np.ndarray) -> bool:
    period = pattern.shape[0]
    return any(
        np.array_equal(np.roll(pattern, (-dy, -dx), axis=(0, 1)), candidate)
        for dy in range(period)
        for dx in range(period)
    )


def admissible(pattern) -> list[int]:
    """Transforms (in trial order) that map ``pattern`` to one of its own shifts (the answer does
    not depend on the image size: a flip of another size is the same flip shifted)."""
    base = as_pattern(pattern)
    period = base.shape[0]
    return [k for k in _ORDER if _is_shift_of(transformed_pattern(base, period, period, k), base)]


def self_ensemble(
    run: Callable[[np.ndarray, np.ndarray], np.ndarray],
    mosaic: np.ndarray,
    pattern,
    size: int,
    axes: tuple[int, int] = (1, 2),
) -> np.ndarray:
    """Average of ``inverse(run(forward(mosaic, k), pattern_k), k)`` over up to ``size``
    admissible transforms (the identity first).

    Args:
        run: ``(mosaic, pattern) -> output`` with the image axes of ``mosaic`` at ``axes``.
        mosaic: numpy array, image axes at ``axes``.
        pattern: the CFA at ``mosaic``'s origin.
        size: 1, 2, 4 or 8; fewer are used when the pattern admits fewer (X-Trans: 2).

    Raises:
        InputError: ``size`` is not one of :data:`ENSEMBLE_SIZES`.
    """
    if size not in ENSEMBLE_SIZES:
        raise InputError(f"self_ensemble must be one of {ENSEMBLE_SIZES}, got {size!r}")
    array = np.asarray(mosaic)
    height, width = array.shape[axes[0]], array.shape[axes[1]]
    transforms = admissible(pattern)[:size]
    total = None
    for k in transforms:
        out = run(
            np.ascontiguousarray(forward(array, k, axes)),
            transformed_pattern(pattern, height, width, k),
        )
        out = np.asarray(inverse(np.asarray(out, np.float32), k, axes))
        total = out.copy() if total is None else total + out
    return total / np.float32(len(transforms))
