"""Classical demosaicking: bilinear, Malvar-He-Cutler (Bayer) and normalized convolution (any CFA).

These are the baselines of every demosaic benchmark and the fallback when no trained model is
available. All functions take a mosaic ``(B, H, W, 1)`` or ``(H, W, 1)`` and a CFA pattern (see
:mod:`tfraw.isp.cfa`) and return linear RGB of the same rank; values are never clipped.

Borders:
- ``bilinear`` and ``xtrans`` use normalized convolution, ``conv(mosaic * mask) / conv(mask)``,
  with zero padding of *both* the mosaic and the masks: pixels outside the image simply do not
  vote, so the CFA phase can never be confused at a border, for any pattern.
- ``malvar`` uses fixed 5x5 linear filters and REFLECT padding of the mosaic; reflection about a
  pixel maps row ``-k`` to row ``k``, which has the same parity, so the 2-periodic Bayer phase is
  preserved in the padded margin (``padding="symmetric"`` reproduces SciPy/colour-demosaicing and
  the published Kodak figure; see :func:`demosaic_malvar`).

``RECEPTIVE_FIELD`` gives each method's radius in pixels (output pixel depends on input pixels
at most this far away along each axis), for tiling margins.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError, UnsupportedCFAError
from tfraw.isp.cfa import PatternLike, _check_image, as_pattern, cfa_masks

__all__ = [
    "RECEPTIVE_FIELD",
    "demosaic",
    "demosaic_bilinear",
    "demosaic_malvar",
    "demosaic_xtrans",
]

# Bilinear = normalized convolution with the 3x3 tent kernel: for a Bayer CFA it reproduces the
# classical bilinear interpolation exactly (4-neighbour mean for G, 2- or 4-neighbour mean for R/B).
_TENT3 = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]).astype(np.float32)
# A 3x3 window misses some colours on X-Trans (same-colour gaps reach 2 pixels), so 6x6 CFAs use
# the 5x5 tent: still a linear interpolation between the nearest samples along each axis.
_TENT5 = np.outer([1.0, 2.0, 3.0, 2.0, 1.0], [1.0, 2.0, 3.0, 2.0, 1.0]).astype(np.float32)

# Smooth kernel for the X-Trans path: 5x5 binomial ([1 4 6 4 1] outer product). Wide enough that
# every X-Trans site has several R and B samples in reach (the farthest same-colour gap is 2).
_BINOMIAL5 = np.outer([1.0, 4.0, 6.0, 4.0, 1.0], [1.0, 4.0, 6.0, 4.0, 1.0]).astype(np.float32)

# Malvar, He, Cutler, "High-quality linear interpolation for demosaicing of Bayer-patterned color
# images", ICASSP 2004, Fig. 2 (coefficients before the common 1/8 scaling).
_MALVAR_G_AT_RB = np.array(
    [
        [0, 0, -1, 0, 0],
        [0, 0, 2, 0, 0],
        [-1, 2, 4, 2, -1],
        [0, 0, 2, 0, 0],
        [0, 0, -1, 0, 0],
    ],
    np.float32,
)
# Missing colour X at a G site whose row holds X (X neighbours are left/right).
_MALVAR_AT_G_ROW = np.array(
    [
        [0, 0, 0.5, 0, 0],
        [0, -1, 0, -1, 0],
        [-1, 4, 5, 4, -1],
        [0, -1, 0, -1, 0],
        [0, 0, 0.5, 0, 0],
    ],
    np.float32,
)
# Missing colour X at a G site whose column holds X (X neighbours are above/below).
_MALVAR_AT_G_COL = _MALVAR_AT_G_ROW.T.copy()
# R at a B site, and B at an R site (diagonal neighbours).
_MALVAR_RB_AT_BR = np.array(
    [
        [0, 0, -1.5, 0, 0],
        [0, 2, 0, 2, 0],
        [-1.5, 0, 6, 0, -1.5],
        [0, 2, 0, 2, 0],
        [0, 0, -1.5, 0, 0],
    ],
    np.float32,
)

#: Receptive-field radius in pixels of each method (see module docstring); ``bilinear`` is 1 on
#: Bayer and 2 on 6x6 CFAs, listed as the larger. ``xtrans`` chains
#: four 5x5 normalized convolutions (green, colour differences, green refinement, colour
#: differences again), hence 4 * 2.
RECEPTIVE_FIELD: dict[str, int] = {"bilinear": 2, "malvar": 2, "xtrans": 8}

_EPS = 1e-6


def _prepare(mosaic: tf.Tensor, name: str) -> tuple[tf.Tensor, bool]:
    tensor = _check_image(mosaic, name, 1)
    if tensor.shape.rank == 3:
        return tensor[tf.newaxis], False
    return tensor, True


def _finish(rgb: tf.Tensor, batched: bool) -> tf.Tensor:
    return rgb if batched else rgb[0]


def _depthwise(x: tf.Tensor, kernel: np.ndarray) -> tf.Tensor:
    """Same-size depthwise 'correlation' of every channel of ``x`` with one 2D kernel, zero padded."""
    channels = x.shape[-1]
    filt = tf.constant(np.tile(kernel[:, :, None, None], (1, 1, channels, 1)))
    return tf.nn.depthwise_conv2d(x, filt, strides=[1, 1, 1, 1], padding="SAME")


def _normalized_conv(values: tf.Tensor, masks: tf.Tensor, kernel: np.ndarray) -> tf.Tensor:
    """Per channel ``conv(values * masks) / conv(masks)`` with zero padding (both terms)."""
    masks = tf.broadcast_to(masks, tf.shape(values))
    both = _depthwise(tf.concat([values * masks, masks], axis=-1), kernel)
    channels = masks.shape[-1]
    return both[..., :channels] / tf.maximum(both[..., channels:], _EPS)


def _masks_like(mosaic: tf.Tensor, pattern: np.ndarray) -> tf.Tensor:
    shape = tf.shape(mosaic)
    return cfa_masks(pattern, shape[1], shape[2])[tf.newaxis]


def demosaic_bilinear(mosaic: tf.Tensor | np.ndarray, pattern: PatternLike) -> tf.Tensor:
    """Bilinear demosaicking (normalized convolution with a tent kernel).

    For a Bayer CFA (3x3 tent) this is the classical bilinear interpolation; for a 6x6 CFA
    (X-Trans) it is its natural generalisation with a 5x5 tent: each missing colour is the
    tent-weighted mean of the samples of that colour nearby. Measured sites are kept exactly.

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``, linear values, any range.
        pattern: CFA pattern (name or array, see :func:`tfraw.isp.cfa.as_pattern`).

    Returns:
        float32 RGB ``(B, H, W, 3)`` or ``(H, W, 3)``.

    Raises:
        InputError: bad shape. UnsupportedCFAError: bad pattern.

    Example:
        >>> demosaic_bilinear(tf.ones((4, 4, 1)), "RGGB").shape
        TensorShape([4, 4, 3])
    """
    array = as_pattern(pattern)
    x, batched = _prepare(mosaic, "demosaic_bilinear")
    masks = _masks_like(x, array)
    kernel = _TENT3 if array.shape == (2, 2) else _TENT5
    interpolated = _normalized_conv(tf.tile(x, [1, 1, 1, 3]), masks, kernel)
    # Keep measured samples bit-exact (the division above may round).
    rgb = masks * x + (1.0 - masks) * interpolated
    return _finish(rgb, batched)


def _malvar_selection(pattern: np.ndarray) -> np.ndarray:
    """``(2, 2, 3, 5)`` one-hot table: output colour c at phase (i, j) takes feature k.

    Features: 0 the sample itself, 1 G-at-R/B, 2 X-at-G (row), 3 X-at-G (column),
    4 R-at-B / B-at-R.
    """
    table = np.zeros((2, 2, 3, 5), np.float32)
    for i in range(2):
        for j in range(2):
            here = pattern[i, j]
            row_other = pattern[i, 1 - j]  # the colour sharing this row
            for c in range(3):
                if c == here:
                    k = 0
                elif c == 1:
                    k = 1
                elif here == 1:
                    k = 2 if row_other == c else 3
                else:
                    k = 4
                table[i, j, c, k] = 1.0
    return table


def demosaic_malvar(
    mosaic: tf.Tensor | np.ndarray,
    pattern: PatternLike,
    padding: Literal["reflect", "symmetric"] = "reflect",
) -> tf.Tensor:
    """Malvar-He-Cutler (2004) gradient-corrected linear demosaicking, any Bayer phase.

    Each missing colour is bilinear interpolation corrected by the Laplacian of the colour
    measured at the pixel, with the paper's 5x5 filters (Fig. 2).

    Borders: ``"reflect"`` (default) mirrors about the edge pixel, which keeps the Bayer phase
    in the margin. ``"symmetric"`` repeats the edge pixel (SciPy's default, used by
    colour-demosaicing and behind the published Kodak figure of 35.34 dB); it mixes colours in
    the margin but happens to score higher on Kodak, whose images carry a dark 1-pixel frame at
    the bottom/right edges (measured on all 24: 34.68 dB reflect vs 35.34 dB symmetric,
    identical beyond 2 pixels from the border).

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``, ``H, W >= 3``; linear, any range.
        pattern: a 2x2 Bayer pattern.
        padding: ``"reflect"`` or ``"symmetric"`` (see above).

    Returns:
        float32 RGB ``(B, H, W, 3)`` or ``(H, W, 3)`` (not clipped: overshoot is possible).

    Raises:
        UnsupportedCFAError: a 6x6 (X-Trans) pattern. InputError: bad shape or padding.

    Example:
        >>> demosaic_malvar(tf.ones((1, 6, 6, 1)), "BGGR").shape
        TensorShape([1, 6, 6, 3])
    """
    array = as_pattern(pattern)
    if array.shape != (2, 2):
        raise UnsupportedCFAError(
            f"demosaic_malvar needs a 2x2 Bayer pattern, got {array.shape}: {array.tolist()}; "
            "use demosaic_xtrans for 6x6 CFAs"
        )
    if padding not in ("reflect", "symmetric"):
        raise InputError(
            f"demosaic_malvar: padding must be 'reflect' or 'symmetric', got {padding!r}"
        )
    x, batched = _prepare(mosaic, "demosaic_malvar")
    padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode=padding.upper())
    kernels = np.stack(
        [_MALVAR_G_AT_RB, _MALVAR_AT_G_ROW, _MALVAR_AT_G_COL, _MALVAR_RB_AT_BR], axis=-1
    )[:, :, None, :] / np.float32(8.0)
    filtered = tf.nn.conv2d(padded, tf.constant(kernels), strides=1, padding="VALID")
    features = tf.concat([x, filtered], axis=-1)  # (B, H, W, 5)
    shape = tf.shape(x)
    reps = tf.stack([(shape[1] + 1) // 2, (shape[2] + 1) // 2, 1, 1])
    selection = tf.tile(tf.constant(_malvar_selection(array)), reps)[: shape[1], : shape[2]]
    rgb = tf.einsum("bhwk,hwck->bhwc", features, selection)
    return _finish(rgb, batched)


def demosaic_xtrans(mosaic: tf.Tensor | np.ndarray, pattern: PatternLike) -> tf.Tensor:
    """Normalized-convolution demosaicking with green-guided colour differences, any CFA.

    Steps (each a 5x5 binomial normalized convolution, zero padding of mosaic and masks):

    1. green everywhere from the green samples;
    2. R and B as green plus the interpolated colour differences ``R - G``, ``B - G`` (colour
       differences are smooth, so this follows green's edges);
    3. green refined at R/B sites as the sample plus the interpolated ``G - R`` (``G - B``);
    4. step 2 again with the refined green.

    Designed for X-Trans (no 2x2 structure to exploit) and valid for Bayer too.

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``; linear, any range.
        pattern: any valid CFA pattern (2x2 or 6x6).

    Returns:
        float32 RGB ``(B, H, W, 3)`` or ``(H, W, 3)``; measured samples are kept exactly.

    Example:
        >>> demosaic_xtrans(tf.ones((12, 12, 1)), "xtrans").shape
        TensorShape([12, 12, 3])
    """
    array = as_pattern(pattern)
    x, batched = _prepare(mosaic, "demosaic_xtrans")
    masks = _masks_like(x, array)
    m_r, m_g, m_b = masks[..., 0:1], masks[..., 1:2], masks[..., 2:3]
    m_rb = tf.concat([m_r, m_b], axis=-1)
    kernel = _BINOMIAL5

    def colour_from_green(green: tf.Tensor) -> tf.Tensor:
        diff = _normalized_conv(tf.tile(x - green, [1, 1, 1, 2]), m_rb, kernel)
        estimate = green + diff
        return m_rb * x + (1.0 - m_rb) * estimate

    green = _normalized_conv(x, m_g, kernel)
    green = m_g * x + (1.0 - m_g) * green
    red_blue = colour_from_green(green)
    # Green minus the colour measured at R/B sites, interpolated from the green sites.
    g_minus_r = _normalized_conv(x - red_blue[..., 0:1], m_g, kernel)
    g_minus_b = _normalized_conv(x - red_blue[..., 1:2], m_g, kernel)
    green = m_g * x + m_r * (x + g_minus_r) + m_b * (x + g_minus_b)
    red_blue = colour_from_green(green)
    rgb = tf.concat([red_blue[..., 0:1], green, red_blue[..., 1:2]], axis=-1)
    return _finish(rgb, batched)


def demosaic(
    mosaic: tf.Tensor | np.ndarray,
    pattern: PatternLike,
    method: Literal["auto", "bilinear", "malvar", "xtrans"] = "auto",
) -> tf.Tensor:
    """Demosaics with a classical method.

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``.
        pattern: CFA pattern.
        method: ``"auto"`` (Malvar for 2x2 Bayer, normalized convolution for 6x6),
            ``"bilinear"``, ``"malvar"`` (Bayer only) or ``"xtrans"``.

    Returns:
        float32 RGB of the same rank as ``mosaic``.

    Raises:
        InputError: unknown method or bad shape. UnsupportedCFAError: bad pattern.

    Example:
        >>> demosaic(tf.ones((6, 6, 1)), "xtrans").shape
        TensorShape([6, 6, 3])
    """
    array = as_pattern(pattern)
    if method == "auto":
        method = "malvar" if array.shape == (2, 2) else "xtrans"
    functions = {
        "bilinear": demosaic_bilinear,
        "malvar": demosaic_malvar,
        "xtrans": demosaic_xtrans,
    }
    if method not in functions:
        raise InputError(
            f"unknown demosaic method {method!r}; known: 'auto', {', '.join(map(repr, functions))}"
        )
    return functions[method](mosaic, array)
