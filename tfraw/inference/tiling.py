"""Tiling with margins and a vectorized overlap-add with linear ramps.

Scheme (per axis, image length ``L``, tile core ``C``, overlap ``o``, stride ``S = C - o``):

- ``n = ceil((L - o) / S)`` tiles start at ``i * S``; the covered canvas ``(n - 1) S + C >= L``;
  an image no longer than ``C`` is one tile of its own size (no padding work).
- Each tile is cut with a ``margin`` on every side (>= the summed receptive fields of the local
  stages), so its core equals the untiled result. Pixels outside the image are taken by REFLECT
  index mapping (Malvar's border rule); their CFA masks are zero, so normalized-convolution
  stages see them as missing, exactly as the untiled stages do.
- The cores are weighted by separable linear ramps over the ``o`` overlapping pixels (the ramps of
  two neighbours sum to 1; the image's outer sides get no ramp) and summed into place by a
  reshape: the first ``S`` columns of every tile tile the row exactly, and the last ``o`` columns
  are the same reshape shifted by ``S``. No scatter and no per-tile padding loop.
- Rows of tiles are processed one at a time (a ``tf.while_loop`` writing output rows into a
  ``TensorArray``; or a Python loop in :func:`stream_bands`), and inside a row the tiles go
  through all local stages in groups of ``tiles_per_batch`` (``tf.map_fn``, sequential), so the
  working memory is bounded by the group, not by the image. Only the output canvas is
  image-sized (and :func:`stream_bands` does not even keep that).

The CFA pattern is a ``(B, 6, 6)`` int32 tensor (a 2x2 Bayer pattern tiled 3x3): the masks of a
tile are gathered from it at the tile's absolute coordinates, so tiles may start at any phase.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError

__all__ = [
    "TilingConfig",
    "band_apply",
    "cfa_period",
    "grid",
    "masks_at",
    "pattern_6x6",
    "reflect_index",
    "stream_bands",
    "tiled_apply",
    "untiled_apply",
]

#: ``local_fn(tiles (N, h, w, 1), masks (N, h, w, 3), valid (N, h, w, 1), per_image) -> (N, h, w, C)``
LocalFn = Callable[[tf.Tensor, tf.Tensor, tf.Tensor, dict], tf.Tensor]


@dataclasses.dataclass(frozen=True)
class TilingConfig:
    """Tile geometry. ``margin`` is raised to the chain's summed receptive field when smaller.

    Attributes:
        tile_size: core size ``C`` of a tile in pixels (output pixels per tile and axis).
        overlap: pixels shared by neighbouring cores, blended with linear ramps (``<= C / 2``).
        margin: extra context on every side (``>=`` summed receptive field of local stages).
        tiles_per_batch: tiles that go through the local stages at once (memory bound).
    """

    tile_size: int = 512
    overlap: int = 16
    margin: int = 0
    tiles_per_batch: int = 8

    def __post_init__(self) -> None:
        if self.tile_size < 8:
            raise InputError(f"tile_size must be >= 8, got {self.tile_size}")
        if not 0 <= self.overlap <= self.tile_size // 2:
            raise InputError(
                f"overlap must be in [0, tile_size/2 = {self.tile_size // 2}], got {self.overlap}"
            )
        if self.margin < 0:
            raise InputError(f"margin must be >= 0, got {self.margin}")
        if self.tiles_per_batch < 1:
            raise InputError(f"tiles_per_batch must be >= 1, got {self.tiles_per_batch}")

    def with_margin(self, receptive_field: int) -> TilingConfig:
        return dataclasses.replace(self, margin=max(self.margin, int(receptive_field)))

    def aligned(self, multiple: int) -> TilingConfig:
        """Tile size, overlap and margin rounded up to multiples of ``multiple``.

        Stages that are translation-equivariant only on a grid (a 2x2-packed or strided network:
        ``config.tile_multiple``) see every tile at the same grid phase as the whole image.
        """
        multiple = max(1, int(multiple))
        if multiple == 1:
            return self

        def up(v: int) -> int:
            return -(-int(v) // multiple) * multiple

        overlap = up(self.overlap)
        tile = max(up(self.tile_size), 2 * overlap)
        return dataclasses.replace(self, tile_size=tile, overlap=overlap, margin=up(self.margin))


def pattern_6x6(pattern) -> np.ndarray:
    """A 2x2 or 6x6 CFA pattern as the chain's ``(6, 6)`` int32 form (Bayer tiled 3x3)."""
    from tfraw.isp.cfa import as_pattern

    array = as_pattern(pattern)
    return np.tile(array, (3, 3)) if array.shape == (2, 2) else array


def reflect_index(index: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """REFLECT (edge not repeated) mapping of any integer index into ``[0, size)``."""
    period = tf.maximum(2 * (size - 1), 1)
    folded = tf.math.floormod(index, period)
    return tf.where(folded < size, folded, period - folded)


def cfa_period(pattern6: tf.Tensor) -> tf.Tensor:
    """2 when the ``(B, 6, 6)`` pattern is a tiled 2x2 Bayer (of the first image), else 6."""
    pattern6 = tf.convert_to_tensor(pattern6, tf.int32)
    bayer = tf.reduce_all(tf.equal(pattern6[0], tf.tile(pattern6[0, :2, :2], [3, 3])))
    return tf.where(bayer, 2, 6)


def source_index(index: tf.Tensor, size, period, cfa_reflect: bool) -> tf.Tensor:
    """Source pixel of every canvas index: CFA-keeping mirror (``cfa_reflect``) or REFLECT."""
    from tfraw.isp.cfa import cfa_reflect_index

    return cfa_reflect_index(index, size, period) if cfa_reflect else reflect_index(index, size)


def grid(length, tile: int, overlap: int):
    """``(n, core, stride)`` of one axis (tensors or ints, matching ``length``)."""
    if isinstance(length, int | np.integer):
        if length <= tile:
            return 1, int(length), int(length)
        stride = tile - overlap
        return -(-(int(length) - overlap) // stride), tile, stride
    length = tf.cast(length, tf.int32)
    small = length <= tile
    stride = tile - overlap
    n = tf.where(small, 1, (length - overlap + stride - 1) // stride)
    return n, tf.where(small, length, tile), tf.where(small, length, stride)


def _ramp(core, stride, ramp_start, ramp_end):
    """Weights ``(core,)``: ramp up over the first ``core - stride`` pixels when ``ramp_start``,
    down over the last ones when ``ramp_end`` (booleans, broadcastable)."""
    overlap = core - stride
    k = tf.cast(tf.range(core), tf.float32)
    o = tf.cast(tf.maximum(overlap, 1), tf.float32)
    up = tf.minimum((k + 0.5) / o, 1.0)
    down = tf.minimum((tf.cast(core, tf.float32) - k - 0.5) / o, 1.0)
    ramp_start = tf.cast(ramp_start, tf.float32)[..., tf.newaxis]
    ramp_end = tf.cast(ramp_end, tf.float32)[..., tf.newaxis]
    return (ramp_start * up + (1.0 - ramp_start)) * (ramp_end * down + (1.0 - ramp_end))


def masks_at(pattern6: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor) -> tf.Tensor:
    """One-hot CFA masks at absolute source coordinates.

    Args:
        pattern6: int32 ``(B, 6, 6)``.
        rows: int32 ``(h,)`` source rows (already inside the image).
        cols: int32 ``(..., w)`` source columns.

    Returns:
        float32 ``(B, h, ..., w, 3)``.
    """
    pattern_rows = tf.gather(pattern6, tf.math.floormod(rows, 6), axis=1)  # (B, h, 6)
    colours = tf.gather(pattern_rows, tf.math.floormod(cols, 6), axis=2)  # (B, h, ..., w)
    return tf.one_hot(colours, 3, dtype=tf.float32)


def _overlap_add_x(tiles: tf.Tensor, n, core, stride) -> tf.Tensor:
    """``(B, n, h, core, C)`` weighted cores -> ``(B, h, (n - 1) stride + core, C)``."""
    overlap = core - stride
    tiles = tf.transpose(tiles, [0, 2, 1, 3, 4])  # (B, h, n, core, C)
    shape = tf.shape(tiles)
    b, h, c = shape[0], shape[1], shape[4]
    head = tf.reshape(tiles[:, :, :, :stride], tf.stack([b, h, n * stride, c]))
    tail = tf.pad(tiles[:, :, :, stride:], [[0, 0], [0, 0], [0, 0], [0, stride - overlap], [0, 0]])
    tail = tf.reshape(tail, tf.stack([b, h, n * stride, c]))
    width = n * stride + overlap
    head = tf.pad(head, [[0, 0], [0, 0], [0, overlap], [0, 0]])
    tail = tf.pad(tail, [[0, 0], [0, 0], [stride, 0], [0, 0]])[:, :, :width]
    return head + tail


def _repeat_per_image(per_image: dict, n) -> dict:
    return {k: tf.repeat(v, n, axis=0) for k, v in per_image.items()}


def band_apply(
    local_fn: LocalFn,
    band: tf.Tensor,
    src_rows: tf.Tensor,
    valid_rows: tf.Tensor,
    pattern6: tf.Tensor,
    per_image: dict,
    width,
    config: TilingConfig,
    ramp_top,
    ramp_bottom,
    stride_y,
    x_tile0=0,
    x_tiles=None,
    cfa_reflect: bool = False,
) -> tf.Tensor:
    """Runs the local stages on one row of tiles and joins them horizontally.

    Args:
        local_fn: the local stages (see ``LocalFn``).
        band: float32 ``(B, core_y + 2 margin, W, 1)`` mosaic rows (already REFLECT-mapped).
        src_rows: int32 ``(core_y + 2 margin,)`` source row of every band row (for the masks).
        valid_rows: bool ``(core_y + 2 margin,)``: the row lies inside the image.
        pattern6: int32 ``(B, 6, 6)``.
        per_image: ``{name: (B, ...)}`` non-spatial metadata and global tensors.
        width: image width ``W``.
        config: tile geometry (``margin`` already set).
        ramp_top, ramp_bottom: bool, whether this row of tiles has a neighbour above / below.
        stride_y: vertical stride (``core_y - stride_y`` rows are shared with the next band).
        x_tile0, x_tiles: process only tiles ``x_tile0 ..`` (at most ``x_tiles``; default all) of
            the row, for chunking in fixed-width pieces; the result then starts at column
            ``x_tile0 * stride_x``.
        cfa_reflect: the border rule (``StageSpec.mosaic_border``): beyond the image the mosaic
            is mirrored keeping the CFA phase and the masks stay set; else REFLECT with zero
            masks ("missing" pixels).

    Returns:
        float32 ``(B, core_y, (n_x - 1) S + core_x, C)``: the band's cores, ramp-weighted and
        overlap-added along x, *not* cropped to ``W``.
    """
    m = config.margin
    n_total, core_x, stride_x = grid(width, config.tile_size, config.overlap)
    tile_w = core_x + 2 * m
    n_x = n_total - x_tile0 if x_tiles is None else tf.minimum(x_tiles, n_total - x_tile0)
    j = x_tile0 + tf.range(n_x)
    x = (j * stride_x - m)[:, tf.newaxis] + tf.range(tile_w)[tf.newaxis]
    src_cols = source_index(x, width, cfa_period(pattern6), cfa_reflect)
    valid_cols = (x >= 0) & (x < width)
    tiles = tf.gather(band, src_cols, axis=2)  # (B, h, n_x, w, 1)
    masks = masks_at(pattern6, src_rows, src_cols)  # (B, h, n_x, w, 3)
    valid = tf.cast(valid_rows[:, tf.newaxis, tf.newaxis] & valid_cols[tf.newaxis], tf.float32)
    if not cfa_reflect:
        masks = masks * valid[tf.newaxis, ..., tf.newaxis]
    batch = tf.shape(band)[0]
    height = tf.shape(band)[1]

    def fold(t):  # (B, h, n_x, w, C) -> (B * n_x, h, w, C)
        t = tf.transpose(t, [0, 2, 1, 3, 4])
        return tf.reshape(t, tf.concat([[-1, height, tile_w], tf.shape(t)[4:]], axis=0))

    tiles, masks = fold(tiles), fold(masks)
    valid = tf.tile(tf.transpose(valid, [1, 0, 2])[..., tf.newaxis], tf.stack([batch, 1, 1, 1]))
    metadata = _repeat_per_image(per_image, n_x)
    core_y = height - 2 * m
    out = _grouped(
        local_fn, tiles, masks, valid, metadata, config.tiles_per_batch, m, core_y, core_x
    )
    out = tf.reshape(out, tf.concat([[batch, n_x, core_y, core_x], tf.shape(out)[3:]], axis=0))
    wx = _ramp(core_x, stride_x, j > 0, j < n_total - 1)  # (n_x, core_x)
    wy = _ramp(core_y, stride_y, ramp_top, ramp_bottom)
    out = out * wy[tf.newaxis, tf.newaxis, :, tf.newaxis, tf.newaxis]
    out = out * wx[tf.newaxis, :, tf.newaxis, :, tf.newaxis]
    return _overlap_add_x(out, n_x, core_x, stride_x)


def _grouped(local_fn, tiles, masks, valid, metadata, group, m, core_y, core_x):
    """Applies ``local_fn`` to groups of ``group`` tiles (sequential ``tf.map_fn``), crops margins."""
    n = tf.shape(tiles)[0]
    # Balanced groups of at most ``group`` tiles: 13 tiles -> 2 x 7 (1 padded), not 2 x 8.
    n_groups = (n + group - 1) // group
    group = (n + n_groups - 1) // n_groups
    pad = n_groups * group - n

    def split(t):
        t = tf.pad(t, tf.concat([[[0, pad]], tf.zeros([tf.rank(t) - 1, 2], tf.int32)], axis=0))
        return tf.reshape(t, tf.concat([[n_groups, group], tf.shape(t)[1:]], axis=0))

    elems = (split(tiles), split(masks), split(valid), {k: split(v) for k, v in metadata.items()})
    # Reshapes with dynamic sizes lose static dims; channels must stay known for the stages.
    static = {k: v.shape[1:] for k, v in metadata.items()}

    def run(args):
        t, mk, v, md = args
        t = tf.ensure_shape(t, [None, None, None, 1])
        mk = tf.ensure_shape(mk, [None, None, None, 3])
        v = tf.ensure_shape(v, [None, None, None, 1])
        md = {k: tf.ensure_shape(x, [None, *static[k]]) for k, x in md.items()}
        out = local_fn(t, mk, v, md)
        return out[:, m : m + core_y, m : m + core_x]

    out = tf.map_fn(
        run,
        elems,
        parallel_iterations=1,
        fn_output_signature=tf.TensorSpec(None, tf.float32),
    )
    out = tf.reshape(out, tf.concat([[n_groups * group], tf.shape(out)[2:]], axis=0))
    return out[:n]


def tiled_apply(
    local_fn: LocalFn,
    mosaic: tf.Tensor,
    pattern6: tf.Tensor,
    per_image: dict,
    config: TilingConfig,
    cfa_reflect: bool = False,
) -> tf.Tensor:
    """The local stages over a whole mosaic, tile row by tile row (one ``tf.while_loop``).

    Args:
        local_fn: the local stages.
        mosaic: float32 ``(B, H, W, 1)``.
        pattern6: int32 ``(B, 6, 6)``.
        per_image: ``{name: (B, ...)}``.
        config: tile geometry with the margin set.
        cfa_reflect: the border rule (see :func:`band_apply`).

    Returns:
        float32 ``(B, H, W, C)``.
    """
    shape = tf.shape(mosaic)
    period = cfa_period(pattern6)
    batch, height, width = shape[0], shape[1], shape[2]
    m = config.margin
    n_y, core_y, stride_y = grid(height, config.tile_size, config.overlap)
    overlap_y = core_y - stride_y
    n_x, core_x, stride_x = grid(width, config.tile_size, config.overlap)
    canvas_w = (n_x - 1) * stride_x + core_x

    def band_out(i):
        y = i * stride_y - m + tf.range(core_y + 2 * m)
        src_rows = source_index(y, height, period, cfa_reflect)
        band = tf.gather(mosaic, src_rows, axis=1)
        return band_apply(
            local_fn, band, src_rows, (y >= 0) & (y < height), pattern6, per_image, width,
            config, i > 0, i < n_y - 1, stride_y, cfa_reflect=cfa_reflect,
        )  # fmt: skip

    first = band_out(0)
    channels = tf.shape(first)[3]

    def to_rows(t):  # (B, h, Wc, C) -> (h, Wc, B * C): TensorArray.concat joins axis 0
        return tf.reshape(tf.transpose(t, [1, 2, 0, 3]), tf.stack([-1, canvas_w, batch * channels]))

    rows = tf.TensorArray(tf.float32, size=n_y, infer_shape=False)
    rows = rows.write(0, to_rows(first[:, :stride_y]))
    pending = first[:, stride_y:]

    def body(i, pending, rows):
        out = band_out(i)
        out = out + tf.pad(pending, [[0, 0], [0, core_y - overlap_y], [0, 0], [0, 0]])
        return i + 1, out[:, stride_y:], rows.write(i, to_rows(out[:, :stride_y]))

    _, pending, rows = tf.while_loop(
        lambda i, *_: i < n_y,
        body,
        (tf.constant(1), pending, rows),
        shape_invariants=(
            tf.TensorShape([]),
            tf.TensorShape([None, None, None, None]),
            tf.TensorShape(None),
        ),
        parallel_iterations=1,
    )
    canvas = tf.concat([rows.concat(), to_rows(pending)], axis=0)  # (Hc, Wc, B * C)
    canvas = canvas[:height, :width]
    # One image (the usual case): a reshape, no transpose copy of the image-sized output.
    return tf.cond(
        tf.equal(batch, 1),
        lambda: canvas[tf.newaxis],
        lambda: tf.transpose(
            tf.reshape(canvas, tf.stack([height, width, batch, channels])), [2, 0, 1, 3]
        ),
    )


def untiled_apply(
    local_fn: LocalFn, mosaic: tf.Tensor, pattern6: tf.Tensor, per_image: dict, margin: int,
    cfa_reflect: bool = False,
) -> tf.Tensor:  # fmt: skip
    """The reference: the same canvas (margin by the border rule, see :func:`band_apply`) as
    one tile."""
    shape = tf.shape(mosaic)
    height, width = shape[1], shape[2]
    period = cfa_period(pattern6)
    y = tf.range(-margin, height + margin)
    x = tf.range(-margin, width + margin)
    src_rows = source_index(y, height, period, cfa_reflect)
    src_cols = source_index(x, width, period, cfa_reflect)
    canvas = tf.gather(tf.gather(mosaic, src_rows, axis=1), src_cols, axis=2)
    valid = tf.cast(
        ((y >= 0) & (y < height))[:, tf.newaxis] & ((x >= 0) & (x < width))[tf.newaxis],
        tf.float32,
    )[tf.newaxis, ..., tf.newaxis]
    masks = masks_at(pattern6, src_rows, src_cols)
    if not cfa_reflect:
        masks = masks * valid
    valid = tf.tile(valid, tf.stack([shape[0], 1, 1, 1]))
    out = local_fn(canvas, masks, valid, per_image)
    return out[:, margin : margin + height, margin : margin + width]


def stream_bands(
    band_fn: Callable[..., tf.Tensor],
    read_rows: Callable[[np.ndarray], np.ndarray],
    height: int,
    width: int,
    config: TilingConfig,
    period: int = 2,
    cfa_reflect: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """Python-level driver: yields ``(y0, rows)`` of the output, one row of tiles at a time.

    The input is read band by band through ``read_rows(source_row_indices) -> (B, h, W, 1)`` and
    the output leaves band by band, so neither is ever held whole: memory is bounded by one row
    of tiles.

    Args:
        band_fn: ``(band, src_rows, valid_rows, ramp_top, ramp_bottom, stride_y, x_tile0,
            x_tiles) -> (B, core_y, w, C)``,
            usually a ``tf.function`` around :func:`band_apply` with the other arguments bound.
        read_rows: returns the mosaic rows at the given source indices.
        height, width: image size.
        config: tile geometry with the margin set.
        period: CFA period (2 Bayer, 6 X-Trans) for ``cfa_reflect``.
        cfa_reflect: the border rule (see :func:`band_apply`; ``band_fn`` must use the same).

    Yields:
        ``(y0, rows)`` with ``rows`` float32 ``(B, h, W, C)``, covering ``[0, height)`` in order.
    """
    m = config.margin
    n_y, core_y, stride_y = grid(int(height), config.tile_size, config.overlap)
    n_x, core_x, stride_x = grid(int(width), config.tile_size, config.overlap)
    chunk = config.tiles_per_batch
    pending = None
    for i in range(n_y):
        y = i * stride_y - m + np.arange(core_y + 2 * m)
        src = np.asarray(source_index(tf.constant(y, tf.int32), height, period, cfa_reflect))
        args = (
            tf.constant(read_rows(src), tf.float32),
            tf.constant(src, tf.int32),
            tf.constant((y >= 0) & (y < height)),
            tf.constant(i > 0),
            tf.constant(i < n_y - 1),
            tf.constant(stride_y, tf.int32),
        )
        # Fixed-width pieces of at most ``tiles_per_batch`` tiles: memory does not grow with W.
        out = None
        for j0 in range(0, n_x, chunk):
            part = band_fn(*args, tf.constant(j0, tf.int32), tf.constant(chunk, tf.int32)).numpy()
            if out is None:
                canvas_w = (n_x - 1) * stride_x + core_x
                out = np.zeros((part.shape[0], part.shape[1], canvas_w, part.shape[3]), np.float32)
            out[:, :, j0 * stride_x : j0 * stride_x + part.shape[2]] += part
        if pending is not None:
            out[:, : pending.shape[1]] += pending
        done = out[:, :stride_y] if i < n_y - 1 else out
        y0 = i * stride_y
        rows = done[:, : max(0, min(done.shape[1], height - y0)), :width]
        pending = out[:, stride_y:]
        yield y0, rows
