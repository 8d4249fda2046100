"""Classical demosaicking: bilinear, Malvar-He-Cutler (Bayer) and normalized convolution (any CFA).

These are the baselines of every demosaic benchmark and the fallback when no trained model is
available. All functions take a mosaic ``(B, H, W, 1)`` or ``(H, W, 1)`` and return linear RGB of
the same rank; values are never clipped. Each method comes in two forms:

- ``demosaic_*_masks(mosaic, masks)`` take the CFA as one-hot colour masks ``(B, H, W, 3)`` (see
  :func:`tfraw.isp.cfa.cfa_masks`), data rather than a static pattern, so one traced graph serves
  every CFA phase (a tile of the inference chain starts at any phase). Pixels whose masks are all
  zero (outside the image in a padded tile) are no sample: the normalized convolutions ignore
  them (and extrapolate there), Malvar's linear filters still read their mosaic values (and
  output 0 there).
- ``demosaic_*(mosaic, pattern)`` take a CFA pattern (see :mod:`tfraw.isp.cfa`); they build the
  masks of the pattern and call the masks form, so both forms agree exactly.

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

from collections.abc import Callable
from typing import Literal

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError, UnsupportedCFAError
from tfraw.isp.cfa import PatternLike, _check_image, as_pattern, cfa_masks

__all__ = [
    "METHODS",
    "RECEPTIVE_FIELD",
    "demosaic",
    "demosaic_bilinear",
    "demosaic_bilinear_masks",
    "demosaic_malvar",
    "demosaic_malvar_masks",
    "demosaic_masks",
    "demosaic_xtrans",
    "demosaic_xtrans_masks",
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
# The four filters as one (5, 5, 1, 4) conv2d kernel, with the paper's common 1/8.
_MALVAR_KERNELS = np.stack(
    [_MALVAR_G_AT_RB, _MALVAR_AT_G_ROW, _MALVAR_AT_G_COL, _MALVAR_RB_AT_BR], axis=-1
)[:, :, None, :] / np.float32(8.0)
# Left + right neighbours: at a G site of a Bayer CFA they tell which colour shares the row.
_HORIZONTAL = np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0]], np.float32)

#: Receptive-field radius in pixels of each method (see module docstring); ``bilinear`` is 1 on
#: Bayer and 2 on 6x6 CFAs, listed as the larger. ``xtrans`` chains
#: four 5x5 normalized convolutions (green, colour differences, green refinement, colour
#: differences again), hence 4 * 2.
RECEPTIVE_FIELD: dict[str, int] = {"bilinear": 2, "malvar": 2, "xtrans": 8}
#: The ``method`` names of :func:`demosaic` and :func:`demosaic_masks`.
METHODS: tuple[str, ...] = ("auto", "bilinear", "malvar", "xtrans")

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


def _prepare_masks(
    mosaic: tf.Tensor, masks: tf.Tensor, name: str
) -> tuple[tf.Tensor, tf.Tensor, bool]:
    """Checks a mosaic and its masks; returns both batched (float32) and whether they were."""
    x, batched = _prepare(mosaic, name)
    m = _check_image(masks, f"{name} (masks)", 3)
    if m.shape.rank != (4 if batched else 3):
        raise InputError(
            f"{name}: masks must have the mosaic's rank, got mosaic "
            f"{x.shape if batched else x.shape[1:]} and masks {m.shape}"
        )
    if not batched:
        m = m[tf.newaxis]
    for axis, what in ((1, "height"), (2, "width")):
        if None not in (x.shape[axis], m.shape[axis]) and x.shape[axis] != m.shape[axis]:
            raise InputError(
                f"{name}: masks {what} differs from the mosaic's, got mosaic {x.shape} "
                f"and masks {m.shape}"
            )
    if None not in (x.shape[0], m.shape[0]) and m.shape[0] not in (1, x.shape[0]):
        raise InputError(
            f"{name}: masks batch must be 1 or the mosaic's, got mosaic {x.shape} "
            f"and masks {m.shape}"
        )
    return x, m, batched


def _masks_like(mosaic: tf.Tensor, pattern: np.ndarray) -> tf.Tensor:
    """``(1, H, W, 3)`` masks of ``pattern`` for a batched mosaic (broadcast over the batch)."""
    shape = tf.shape(mosaic)
    return cfa_masks(pattern, shape[1], shape[2])[tf.newaxis]


def _is_bayer(masks: tf.Tensor) -> tf.Tensor:
    """``(N,)`` bool: the masks repeat with period 2 along both axes (a Bayer CFA).

    Pixels without a sample (all-zero masks) are ignored, so border tiles decide correctly.
    """

    def periodic(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        same = tf.reduce_sum(a * b, axis=(1, 2, 3))
        both = tf.reduce_sum(tf.reduce_sum(a, axis=-1) * tf.reduce_sum(b, axis=-1), axis=(1, 2))
        return tf.equal(same, both)

    return periodic(masks[:, 2:], masks[:, :-2]) & periodic(masks[:, :, 2:], masks[:, :, :-2])


def _by_cfa(
    masks: tf.Tensor, bayer_fn: Callable[[], tf.Tensor], other_fn: Callable[[], tf.Tensor]
) -> tf.Tensor:
    """``bayer_fn()`` where the masks are Bayer, ``other_fn()`` elsewhere (per batch element);
    only the branch(es) the batch needs are computed."""
    bayer = _is_bayer(masks)

    def mixed() -> tf.Tensor:
        select = tf.cast(bayer, tf.float32)[:, tf.newaxis, tf.newaxis, tf.newaxis]
        return select * bayer_fn() + (1.0 - select) * other_fn()

    return tf.cond(
        tf.reduce_all(bayer),
        bayer_fn,
        lambda: tf.cond(tf.reduce_any(bayer), mixed, other_fn),
    )


def _tent(x: tf.Tensor, masks: tf.Tensor, kernel: np.ndarray) -> tf.Tensor:
    interpolated = _normalized_conv(tf.tile(x, [1, 1, 1, 3]), masks, kernel)
    # Keep measured samples bit-exact (the division above may round).
    return masks * x + (1.0 - masks) * interpolated


def demosaic_bilinear_masks(
    mosaic: tf.Tensor | np.ndarray, masks: tf.Tensor | np.ndarray, period: int | None = None
) -> tf.Tensor:
    """Bilinear demosaicking (normalized convolution with a tent kernel) of a CFA given as masks.

    Each missing colour is the tent-weighted mean of the samples of that colour nearby: a 3x3
    tent for Bayer (the classical bilinear interpolation), a 5x5 tent for 6x6 CFAs (X-Trans).
    Measured sites are kept exactly. Border: zero padding of mosaic and masks (pixels outside
    the image, and pixels with all-zero masks, do not vote).

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``, linear values, any range.
        masks: one-hot colour masks ``(B, H, W, 3)`` or ``(H, W, 3)`` (same rank as ``mosaic``;
            a batch of 1 is broadcast), values in {0, 1}, all zero where there is no sample.
        period: the CFA period when known statically, 2 (3x3 tent) or 6 (5x5 tent); ``None``
            decides per image from the masks (2-periodic masks are Bayer).

    Returns:
        float32 RGB of the mosaic's shape with 3 channels; measured samples are kept exactly.

    Raises:
        InputError: bad shapes or period.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> demosaic_bilinear_masks(tf.ones((4, 4, 1)), cfa_masks("RGGB", 4, 4)).shape
        TensorShape([4, 4, 3])
    """
    x, m, batched = _prepare_masks(mosaic, masks, "demosaic_bilinear_masks")
    tents = {2: _TENT3, 6: _TENT5}
    if period is None:
        rgb = _by_cfa(m, lambda: _tent(x, m, _TENT3), lambda: _tent(x, m, _TENT5))
    elif period in tents:
        rgb = _tent(x, m, tents[period])
    else:
        raise InputError(f"demosaic_bilinear_masks: period must be 2, 6 or None, got {period!r}")
    return _finish(rgb, batched)


def demosaic_bilinear(mosaic: tf.Tensor | np.ndarray, pattern: PatternLike) -> tf.Tensor:
    """Bilinear demosaicking (normalized convolution with a tent kernel).

    For a Bayer CFA (3x3 tent) this is the classical bilinear interpolation; for a 6x6 CFA
    (X-Trans) it is its natural generalisation with a 5x5 tent: each missing colour is the
    tent-weighted mean of the samples of that colour nearby. Measured sites are kept exactly.
    The masks of ``pattern`` through :func:`demosaic_bilinear_masks`.

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
    rgb = demosaic_bilinear_masks(x, _masks_like(x, array), period=array.shape[0])
    return _finish(rgb, batched)


def _check_padding(padding: str, name: str) -> None:
    if padding not in ("reflect", "symmetric"):
        raise InputError(f"{name}: padding must be 'reflect' or 'symmetric', got {padding!r}")


def demosaic_malvar_masks(
    mosaic: tf.Tensor | np.ndarray,
    masks: tf.Tensor | np.ndarray,
    padding: Literal["reflect", "symmetric"] = "reflect",
) -> tf.Tensor:
    """Malvar-He-Cutler (2004) demosaicking of a Bayer CFA given as masks, any phase.

    Each missing colour is bilinear interpolation corrected by the Laplacian of the colour
    measured at the pixel, with the paper's 5x5 filters (Fig. 2), chosen per pixel from the
    masks (at a G site, the colour of its left/right neighbours tells the row's colour).

    Border: the filters read the mosaic padded by ``padding`` (see :func:`demosaic_malvar`); they
    read mosaic values also where the masks are all zero (the inference chain fills a tile's
    margin outside the image by reflection); the output there is 0.

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``, ``H, W >= 3``; linear, any range.
        masks: one-hot masks of a 2x2 Bayer CFA, ``(B, H, W, 3)`` or ``(H, W, 3)`` (same rank as
            ``mosaic``; a batch of 1 is broadcast), values in {0, 1}. Not checked to be Bayer:
            other CFAs give meaningless colours.
        padding: ``"reflect"`` (default, keeps the Bayer phase) or ``"symmetric"``.

    Returns:
        float32 RGB of the mosaic's shape with 3 channels (not clipped: overshoot is possible).

    Raises:
        InputError: bad shapes or padding.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> masks = cfa_masks("GRBG", 6, 6)[tf.newaxis]
        >>> demosaic_malvar_masks(tf.ones((1, 6, 6, 1)), masks).shape
        TensorShape([1, 6, 6, 3])
    """
    _check_padding(padding, "demosaic_malvar_masks")
    x, m, batched = _prepare_masks(mosaic, masks, "demosaic_malvar_masks")
    padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode=padding.upper())
    features = tf.nn.conv2d(padded, tf.constant(_MALVAR_KERNELS), strides=1, padding="VALID")
    g_at_rb, at_g_row, at_g_col, rb_at_br = tf.unstack(features[..., tf.newaxis], axis=3)
    m_r, m_g, m_b = m[..., 0:1], m[..., 1:2], m[..., 2:3]
    red_row = m_g * tf.minimum(_depthwise(m_r, _HORIZONTAL), 1.0)  # G sites whose row holds R
    blue_row = m_g - red_row
    red = m_r * x + red_row * at_g_row + blue_row * at_g_col + m_b * rb_at_br
    green = m_g * x + (m_r + m_b) * g_at_rb
    blue = m_b * x + blue_row * at_g_row + red_row * at_g_col + m_r * rb_at_br
    return _finish(tf.concat([red, green, blue], axis=-1), batched)


def demosaic_malvar(
    mosaic: tf.Tensor | np.ndarray,
    pattern: PatternLike,
    padding: Literal["reflect", "symmetric"] = "reflect",
) -> tf.Tensor:
    """Malvar-He-Cutler (2004) gradient-corrected linear demosaicking, any Bayer phase.

    Each missing colour is bilinear interpolation corrected by the Laplacian of the colour
    measured at the pixel, with the paper's 5x5 filters (Fig. 2). The masks of ``pattern``
    through :func:`demosaic_malvar_masks`.

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
    _check_padding(padding, "demosaic_malvar")
    x, batched = _prepare(mosaic, "demosaic_malvar")
    return _finish(demosaic_malvar_masks(x, _masks_like(x, array), padding), batched)


def demosaic_xtrans_masks(
    mosaic: tf.Tensor | np.ndarray, masks: tf.Tensor | np.ndarray
) -> tf.Tensor:
    """Normalized-convolution demosaicking with green-guided colour differences, CFA as masks.

    Steps (each a 5x5 binomial normalized convolution, zero padding of mosaic and masks, so
    pixels outside the image and pixels with all-zero masks do not vote):

    1. green everywhere from the green samples;
    2. R and B as green plus the interpolated colour differences ``R - G``, ``B - G`` (colour
       differences are smooth, so this follows green's edges);
    3. green refined at R/B sites as the sample plus the interpolated ``G - R`` (``G - B``);
    4. step 2 again with the refined green.

    Designed for X-Trans (no 2x2 structure to exploit) and valid for Bayer too.

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``; linear, any range.
        masks: one-hot colour masks of any CFA, ``(B, H, W, 3)`` or ``(H, W, 3)`` (same rank as
            ``mosaic``; a batch of 1 is broadcast), values in {0, 1}, all zero for no sample.

    Returns:
        float32 RGB of the mosaic's shape with 3 channels; measured samples are kept exactly.

    Raises:
        InputError: bad shapes.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> demosaic_xtrans_masks(tf.ones((12, 12, 1)), cfa_masks("xtrans", 12, 12)).shape
        TensorShape([12, 12, 3])
    """
    x, m, batched = _prepare_masks(mosaic, masks, "demosaic_xtrans_masks")
    m_r, m_g, m_b = m[..., 0:1], m[..., 1:2], m[..., 2:3]
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


def demosaic_xtrans(mosaic: tf.Tensor | np.ndarray, pattern: PatternLike) -> tf.Tensor:
    """Normalized-convolution demosaicking with green-guided colour differences, any CFA.

    The masks of ``pattern`` through :func:`demosaic_xtrans_masks` (see there for the steps).
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
    return _finish(demosaic_xtrans_masks(x, _masks_like(x, array)), batched)


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise InputError(
            f"unknown demosaic method {method!r}; known: {', '.join(map(repr, METHODS))}"
        )


def demosaic_masks(
    mosaic: tf.Tensor | np.ndarray,
    masks: tf.Tensor | np.ndarray,
    method: Literal["auto", "bilinear", "malvar", "xtrans"] = "auto",
) -> tf.Tensor:
    """Demosaics a CFA given as masks with a classical method.

    Args:
        mosaic: float tensor ``(B, H, W, 1)`` or ``(H, W, 1)``; linear, any range.
        masks: one-hot colour masks ``(B, H, W, 3)`` or ``(H, W, 3)`` (same rank as ``mosaic``;
            a batch of 1 is broadcast), values in {0, 1}, all zero for no sample.
        method: ``"auto"`` (Malvar where the masks are Bayer, i.e. 2-periodic, else
            ``"xtrans"``; decided per image), ``"bilinear"`` (3x3 or 5x5 tent, decided the same
            way), ``"malvar"`` (Bayer masks only) or ``"xtrans"``.

    Returns:
        float32 RGB of the mosaic's shape with 3 channels; for masks made from a pattern by
        :func:`tfraw.isp.cfa.cfa_masks`, equal to :func:`demosaic` with that pattern.

    Raises:
        InputError: unknown method or bad shapes.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> masks = cfa_masks("xtrans", 6, 6)
        >>> demosaic_masks(tf.ones((6, 6, 1)), masks).shape
        TensorShape([6, 6, 3])
    """
    _check_method(method)
    if method != "auto":
        functions = {
            "bilinear": demosaic_bilinear_masks,
            "malvar": demosaic_malvar_masks,
            "xtrans": demosaic_xtrans_masks,
        }
        return functions[method](mosaic, masks)
    x, m, batched = _prepare_masks(mosaic, masks, "demosaic_masks")
    rgb = _by_cfa(m, lambda: demosaic_malvar_masks(x, m), lambda: demosaic_xtrans_masks(x, m))
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
    _check_method(method)
    if method == "auto":
        method = "malvar" if array.shape == (2, 2) else "xtrans"
    functions = {
        "bilinear": demosaic_bilinear,
        "malvar": demosaic_malvar,
        "xtrans": demosaic_xtrans,
    }
    return functions[method](mosaic, array)
