"""Torture patterns for demosaicking: synthetic images that expose aliasing, zippering and false colour.

Natural photographs rarely contain periodic detail close to the sampling limit, so a demosaicking
network trained only on them fails on fabrics, fences, screens and text. Mixing a *small* share of
synthetic torture patterns into the training stream fixes that (Gharbi et al., "Deep Joint
Demosaicking and Denoising", SIGGRAPH Asia 2016, mined hard patches for the same reason); a large
share does the opposite and hurts natural-image quality, which is why :func:`mix_with_torture`
caps the ratio.

Frequencies are given in cycles per pixel. The pixel Nyquist limit is 0.5 cycles/px; on a Bayer
CFA the red and blue planes are sampled every second pixel, so their Nyquist limit is
0.25 cycles/px along each axis, and green (quincunx) reaches 0.5 cycles/px along the axes only.
The periodic kinds therefore sample frequencies from 0.05 up to 0.5 cycles/px, with half of the
draws between the R/B limit and the pixel limit.

Colours are drawn in pairs (or palettes) with **guaranteed contrast**: every pair of colours that
meet at an edge is at least :data:`MIN_OKLAB_DISTANCE` apart in Oklab (Euclidean distance; black
to white is 1.0). The Oklab conversion is implemented here in numpy from the matrices published
by B. Ottosson, "A perceptual color space for image processing" (2020,
https://bottosson.github.io/posts/oklab/). The guarantee always holds for pairs because for any
colour either black or white is at least 0.5 away in lightness, and both are always candidates.

Patterns are encoded sRGB values in ``[0, 1]`` (like the 8-bit photographs they are mixed with);
the training recipe unprocesses them like any other image.

Example:
    >>> image = make_torture_pattern("zone_plate", 64, seed=0)
    >>> image.shape, image.dtype.name
    ((64, 64, 3), 'float32')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from tfraw.isp import colorspace, transfer

__all__ = [
    "MIN_OKLAB_DISTANCE",
    "TORTURE_KINDS",
    "make_torture_pattern",
    "mix_with_torture",
    "oklab_distance",
    "sample_contrasting_colors",
    "srgb_to_oklab",
    "torture_dataset",
]

#: Smallest Oklab distance between two colours that meet in a torture pattern.
MIN_OKLAB_DISTANCE = 0.2

#: Highest mixing ratio accepted by :func:`mix_with_torture` without ``allow_high_ratio``.
MAX_DEFAULT_RATIO = 0.10

#: Pixel Nyquist limit in cycles per pixel.
NYQUIST = 0.5
#: Nyquist limit of the red and blue planes of a Bayer CFA, in cycles per pixel.
BAYER_RB_NYQUIST = 0.25

# The eight corners of the RGB cube: always offered as candidates, so a contrasting colour exists.
_CUBE_CORNERS = np.array(
    [[r, g, b] for r in (0.0, 1.0) for g in (0.0, 1.0) for b in (0.0, 1.0)], np.float64
)


def srgb_to_oklab(srgb: np.ndarray) -> np.ndarray:
    """Converts encoded sRGB to Oklab.

    Args:
        srgb: float array ``(..., 3)``, encoded sRGB in ``[0, 1]`` (IEC 61966-2-1 transfer).

    Returns:
        float64 array ``(..., 3)``: ``L`` in ``[0, 1]``, ``a`` and ``b`` roughly in
        ``[-0.25, 0.3]`` for sRGB colours.

    Example:
        >>> np.round(srgb_to_oklab(np.array([1.0, 1.0, 1.0])), 4).tolist()
        [1.0, 0.0, 0.0]
    """
    c = np.clip(np.asarray(srgb, np.float32), 0.0, 1.0)
    lab = colorspace.linear_srgb_to_oklab(transfer.srgb_to_linear(c))
    return lab.numpy().astype(np.float64)


def oklab_distance(srgb_a: np.ndarray, srgb_b: np.ndarray) -> np.ndarray:
    """Euclidean Oklab distance between encoded sRGB colours (broadcasting over ``...``).

    Example:
        >>> round(float(oklab_distance(np.zeros(3), np.ones(3))), 4)
        1.0
    """
    return np.linalg.norm(srgb_to_oklab(srgb_a) - srgb_to_oklab(srgb_b), axis=-1)


def _random_colors(rng: np.random.Generator, count: int) -> np.ndarray:
    """Random sRGB colours from a mix of uniform, saturated and grey draws."""
    colors = rng.random((count, 3))
    kind = rng.integers(0, 3, count)
    saturated = kind == 1
    # Saturated: push one channel to 0 and another to 1.
    low = rng.integers(0, 3, count)
    high = (low + rng.integers(1, 3, count)) % 3
    rows = np.nonzero(saturated)[0]
    colors[rows, low[rows]] = 0.0
    colors[rows, high[rows]] = 1.0
    grey = kind == 2
    colors[grey] = colors[grey, :1]
    return colors


def sample_contrasting_colors(
    rng: np.random.Generator,
    count: int,
    min_distance: float = MIN_OKLAB_DISTANCE,
    avoid: Sequence[np.ndarray] | np.ndarray = (),
    candidates: int = 48,
) -> np.ndarray:
    """Draws colours that are pairwise at least ``min_distance`` apart in Oklab.

    Each colour is drawn at random among candidates far enough from the colours already chosen
    (and from ``avoid``); when no random candidate qualifies, the candidate farthest from them
    is taken (the RGB cube corners are always candidates). For two colours (``count=2``, or
    ``count=1`` with one colour in ``avoid``) the distance is guaranteed for
    ``min_distance <= 0.5``; for larger palettes it is best effort (it holds for the settings
    used in this module, see the tests).

    Args:
        rng: numpy generator.
        count: number of colours to draw.
        min_distance: minimum Oklab distance, at most 0.5.
        avoid: sRGB colours ``(k, 3)`` the new colours must also stay away from.
        candidates: random candidates per draw.

    Returns:
        float32 array ``(count, 3)`` of encoded sRGB colours in ``[0, 1]``.

    Raises:
        ValueError: ``count < 1`` or ``min_distance`` outside ``[0, 0.5]``.
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if not 0.0 <= min_distance <= 0.5:
        raise ValueError(f"min_distance must be in [0, 0.5], got {min_distance}")
    chosen = [np.asarray(c, np.float64) for c in np.reshape(np.asarray(avoid, float), (-1, 3))]
    n_avoid = len(chosen)
    for _ in range(count):
        pool = np.concatenate([_random_colors(rng, candidates), _CUBE_CORNERS])
        if not chosen:
            chosen.append(pool[0])
            continue
        distances = oklab_distance(pool[:, None, :], np.stack(chosen)[None, :, :]).min(axis=1)
        eligible = np.nonzero(distances >= min_distance)[0]
        # Prefer the random candidates; the corners are the fallback that guarantees contrast.
        random_eligible = eligible[eligible < candidates]
        if random_eligible.size:
            pick = random_eligible[rng.integers(random_eligible.size)]
        elif eligible.size:
            pick = eligible[rng.integers(eligible.size)]
        else:
            pick = int(np.argmax(distances))
        chosen.append(pool[pick])
    return np.stack(chosen[n_avoid:]).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# Pattern helpers. Every pattern builds a scalar field t in [0, 1] (or a label map) and maps it
# onto colours; coordinates are pixel centres, x to the right and y down.


def _grid(size: int, supersample: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(y, x)`` of a ``size``² image, optionally supersampled."""
    step = 1.0 / supersample
    axis = (np.arange(size * supersample) + 0.5) * step - 0.5
    return np.meshgrid(axis, axis, indexing="ij")


def _box_downsample(field: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return field
    h, w = field.shape[:2]
    return field.reshape(h // factor, factor, w // factor, factor, *field.shape[2:]).mean(
        axis=(1, 3)
    )


def _blend(t: np.ndarray, color0: np.ndarray, color1: np.ndarray) -> np.ndarray:
    t = t[..., None]
    return color0 * (1.0 - t) + color1 * t


def _pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    colors = sample_contrasting_colors(rng, 2)
    return colors[0].astype(np.float64), colors[1].astype(np.float64)


def _frequency(rng: np.random.Generator) -> float:
    """Cycles/px in [0.05, 0.5]; half of the draws above the Bayer R/B Nyquist limit."""
    if rng.random() < 0.5:
        return float(rng.uniform(BAYER_RB_NYQUIST, NYQUIST))
    return float(rng.uniform(0.05, BAYER_RB_NYQUIST))


def _profile(rng: np.random.Generator, phase: np.ndarray) -> np.ndarray:
    """Sine or square wave of a phase given in cycles, values in [0, 1]."""
    if rng.random() < 0.5:
        return 0.5 + 0.5 * np.cos(2.0 * np.pi * phase)
    return (np.mod(phase, 1.0) < 0.5).astype(np.float64)


def _supersample_factor(rng: np.random.Generator) -> int:
    """1 (aliased, hard pixel steps) or 4 (area coverage, like a real lens and pixel)."""
    return 1 if rng.random() < 0.5 else 4


def _stripes(size: int, rng: np.random.Generator) -> np.ndarray:
    """Pixel-exact square-wave stripes with integer periods 2..6 px, at 0, 45, 90 or 135 deg."""
    y, x = np.mgrid[0:size, 0:size]
    period = int(rng.integers(2, 7))
    orientation = int(rng.integers(4))
    coordinate = (x, y, x + y, x - y + size)[orientation]
    duty = max(1, int(round(period * rng.uniform(0.3, 0.7))))
    if period == 2:
        duty = 1
    t = (np.mod(coordinate + int(rng.integers(period)), period) < duty).astype(np.float64)
    return _blend(t, *_pair(rng))


def _grating(size: int, rng: np.random.Generator) -> np.ndarray:
    """Sine or square grating at a random angle and a frequency up to the pixel Nyquist limit."""
    y, x = _grid(size)
    angle = rng.uniform(0.0, np.pi)
    phase = _frequency(rng) * (x * np.cos(angle) + y * np.sin(angle)) + rng.random()
    return _blend(_profile(rng, phase), *_pair(rng))


def _checkers(size: int, rng: np.random.Generator) -> np.ndarray:
    """Checkerboards with 1, 2 or 3 px cells (sometimes rectangular)."""
    y, x = np.mgrid[0:size, 0:size]
    cell_y = int(rng.integers(1, 4))
    cell_x = cell_y if rng.random() < 0.7 else int(rng.integers(1, 4))
    t = np.mod((y + int(rng.integers(3))) // cell_y + (x + int(rng.integers(3))) // cell_x, 2)
    return _blend(t.astype(np.float64), *_pair(rng))


def _circles(size: int, rng: np.random.Generator) -> np.ndarray:
    """Concentric rings with a ring period of 2..8 px around a random centre."""
    factor = _supersample_factor(rng)
    y, x = _grid(size, factor)
    cy, cx = rng.uniform(-0.25, 1.25, 2) * size
    radius = np.hypot(y - cy, x - cx)
    t = _profile(rng, radius / rng.uniform(2.0, 8.0))
    return _blend(_box_downsample(t, factor), *_pair(rng))


def _edges(size: int, rng: np.random.Generator) -> np.ndarray:
    """1..6 straight edges at random angles; the regions alternate between two colours."""
    factor = _supersample_factor(rng)
    y, x = _grid(size, factor)
    parity = np.zeros_like(x, dtype=np.int64)
    for _ in range(int(rng.integers(1, 7))):
        angle = rng.uniform(0.0, 2.0 * np.pi)
        py, px = rng.uniform(0.1, 0.9, 2) * size
        parity += ((x - px) * np.cos(angle) + (y - py) * np.sin(angle)) > 0
    t = np.mod(parity, 2).astype(np.float64)
    return _blend(_box_downsample(t, factor), *_pair(rng))


def _zone_plate(size: int, rng: np.random.Generator) -> np.ndarray:
    """Circular chirp cos(pi k r^2) whose local frequency k r grows to 0.25..0.5 cycles/px."""
    y, x = _grid(size)
    cy, cx = rng.uniform(0.3, 0.7, 2) * size
    r2 = (y - cy) ** 2 + (x - cx) ** 2
    r_max = math.sqrt(float(r2.max()))
    f_max = rng.uniform(BAYER_RB_NYQUIST, NYQUIST)
    # Phase in cycles: k r^2 / 2 has the derivative k r = f_max r / r_max.
    phase = 0.5 * (f_max / r_max) * r2 + rng.random()
    return _blend(_profile(rng, phase), *_pair(rng))


# Well-known connected Julia sets; a small jitter varies the filaments.
_JULIA_CONSTANTS = (
    complex(-0.8, 0.156),
    complex(0.285, 0.01),
    complex(-0.4, 0.6),
    complex(-0.70176, -0.3842),
    complex(0.355, 0.355),
    complex(-0.835, -0.2321),
    complex(-0.7269, 0.1889),
)


def _julia(size: int, rng: np.random.Generator) -> np.ndarray:
    """Julia-set fractal, smooth escape count folded into fine bands of three colours."""
    y, x = _grid(size)
    constant = _JULIA_CONSTANTS[rng.integers(len(_JULIA_CONSTANTS))]
    constant += complex(*rng.normal(0.0, 0.005, 2))
    scale = rng.uniform(1.2, 3.2) / size
    centre = complex(*rng.uniform(-0.3, 0.3, 2))
    z = (x - size / 2) * scale + 1j * (y - size / 2) * scale + centre
    escape = np.full(z.shape, np.nan)
    max_iter = 96
    for i in range(max_iter):
        active = np.isnan(escape)
        if not active.any():
            break
        z[active] = z[active] ** 2 + constant
        escaped = active & (np.abs(z) > 4.0)
        # Smooth (continuous) iteration count: i + 1 - log2(log|z|).
        escape[escaped] = i + 1 - np.log2(np.log(np.abs(z[escaped])))
    inside = np.isnan(escape)
    bands = rng.uniform(0.3, 1.5)
    t = 0.5 + 0.5 * np.cos(2.0 * np.pi * bands * np.nan_to_num(escape))
    colors = sample_contrasting_colors(rng, 3).astype(np.float64)
    image = _blend(t, colors[0], colors[1])
    image[inside] = colors[2]
    return image


def _fbm_field(size: int, beta: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a 1/f^beta power spectrum, stretched to [0, 1]."""
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.hypot(fy, fx)
    f[0, 0] = 1.0
    amplitude = f ** (-beta / 2.0)
    amplitude[0, 0] = 0.0
    spectrum = amplitude * (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape))
    field = np.fft.irfft2(spectrum, s=(size, size))
    low, high = np.percentile(field, [1.0, 99.0])
    return np.clip((field - low) / max(high - low, 1e-12), 0.0, 1.0)


def _fbm(size: int, rng: np.random.Generator) -> np.ndarray:
    """Fractional Brownian motion (1/f^beta noise, beta in [1, 3]) with independent chroma."""
    beta = rng.uniform(1.0, 3.0)
    luminance = _fbm_field(size, beta, rng)
    image = _blend(luminance, *_pair(rng))
    chroma = rng.uniform(0.0, 0.5)
    for channel in range(3):
        image[..., channel] += chroma * (_fbm_field(size, beta, rng) - 0.5)
    return image


def _siemens_star(size: int, rng: np.random.Generator) -> np.ndarray:
    """Siemens star: 8..72 radial spokes around a random centre; spokes alias near the middle."""
    factor = _supersample_factor(rng)
    y, x = _grid(size, factor)
    cy, cx = rng.uniform(0.25, 0.75, 2) * size
    spokes = int(rng.integers(4, 37)) * 2
    angle = np.arctan2(y - cy, x - cx) + rng.uniform(0.0, np.pi)
    t = _profile(rng, angle * spokes / (4.0 * np.pi))
    return _blend(_box_downsample(t, factor), *_pair(rng))


def _thin_lines(size: int, rng: np.random.Generator) -> np.ndarray:
    """1-px lines: an axis-aligned comb (spacing 2..8 px) and/or random-angle hairlines."""
    background, ink = _pair(rng)
    coverage = np.zeros((size, size))
    if rng.random() < 0.6:
        spacing = int(rng.integers(2, 9))
        y, x = np.mgrid[0:size, 0:size]
        along = x if rng.random() < 0.5 else y
        coverage = np.maximum(coverage, np.mod(along + int(rng.integers(spacing)), spacing) == 0)
    factor = 4
    y, x = _grid(size, factor)
    fine = np.zeros_like(x)
    for _ in range(int(rng.integers(3, 16))):
        angle = rng.uniform(0.0, np.pi)
        py, px = rng.uniform(0.0, 1.0, 2) * size
        width = rng.uniform(0.5, 1.5)
        distance = np.abs((x - px) * np.sin(angle) - (y - py) * np.cos(angle))
        fine = np.maximum(fine, distance < width / 2.0)
    coverage = np.maximum(coverage, _box_downsample(fine, factor))
    return _blend(coverage, background, ink)


# Colour-bar palette: saturated primaries, secondaries, white and black (SMPTE-like bars).
_BAR_COLORS = np.array(
    [[1, 1, 1], [1, 1, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 0, 0]],
    np.float64,
)


def _cuts(size: int, rng: np.random.Generator, low: int, high: int) -> np.ndarray:
    """Boundaries 0 = c0 < c1 < ... = size with random widths in [low, high]."""
    cuts = [0]
    while cuts[-1] < size:
        cuts.append(min(size, cuts[-1] + int(rng.integers(low, high + 1))))
    return np.asarray(cuts)


def _color_bars(size: int, rng: np.random.Generator) -> np.ndarray:
    """Bars 1..16 px wide; neighbours always contrast (saturated bar colours or random ones)."""
    cuts = _cuts(size, rng, 1, 16)
    colors: list[np.ndarray] = []
    for _ in range(len(cuts) - 1):
        if colors and rng.random() < 0.5:
            far = oklab_distance(_BAR_COLORS, colors[-1]) >= MIN_OKLAB_DISTANCE
            colors.append(_BAR_COLORS[rng.choice(np.nonzero(far)[0])])
        elif not colors and rng.random() < 0.5:
            colors.append(_BAR_COLORS[rng.integers(len(_BAR_COLORS))])
        else:
            avoid = colors[-1:] if colors else ()
            colors.append(sample_contrasting_colors(rng, 1, avoid=avoid)[0].astype(np.float64))
    row = np.empty((size, 3))
    for i, color in enumerate(colors):
        row[cuts[i] : cuts[i + 1]] = color
    image = np.broadcast_to(row[None], (size, size, 3))
    return image if rng.random() < 0.5 else image.transpose(1, 0, 2)


def _color_patches(size: int, rng: np.random.Generator) -> np.ndarray:
    """A grid of 2..32 px patches; each contrasts with its left and upper neighbours."""
    rows = _cuts(size, rng, 2, 32)
    cols = _cuts(size, rng, 2, 32)
    grid = np.empty((len(rows) - 1, len(cols) - 1, 3))
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            avoid = []
            if i:
                avoid.append(grid[i - 1, j])
            if j:
                avoid.append(grid[i, j - 1])
            grid[i, j] = sample_contrasting_colors(rng, 1, avoid=avoid)[0]
    row_index = np.searchsorted(rows, np.arange(size), side="right") - 1
    col_index = np.searchsorted(cols, np.arange(size), side="right") - 1
    return grid[row_index[:, None], col_index[None, :]]


_GENERATORS: dict[str, Callable[[int, np.random.Generator], np.ndarray]] = {
    "stripes": _stripes,
    "grating": _grating,
    "checkers": _checkers,
    "circles": _circles,
    "edges": _edges,
    "zone_plate": _zone_plate,
    "julia": _julia,
    "fbm": _fbm,
    "siemens_star": _siemens_star,
    "thin_lines": _thin_lines,
    "color_bars": _color_bars,
    "color_patches": _color_patches,
}

#: Names of the pattern kinds, in a fixed order.
TORTURE_KINDS: tuple[str, ...] = tuple(_GENERATORS)

# Supersampled kinds render at 4x; the size limit keeps one pattern well under a second.
_MAX_SIZE = 4096


def make_torture_pattern(kind: str, size: int, seed: int) -> np.ndarray:
    """Renders one torture pattern.

    Args:
        kind: one of :data:`TORTURE_KINDS`.
        size: side length in pixels (1..4096); the pattern is square.
        seed: any non-negative integer; the same ``(kind, size, seed)`` gives the same image.

    Returns:
        float32 array ``(size, size, 3)``, encoded sRGB in ``[0, 1]``.

    Raises:
        ValueError: unknown kind, bad size or negative seed.

    Example:
        >>> a = make_torture_pattern("checkers", 8, seed=3)
        >>> bool(np.array_equal(a, make_torture_pattern("checkers", 8, seed=3)))
        True
    """
    if kind not in _GENERATORS:
        raise ValueError(f"unknown torture pattern kind {kind!r}; known: {list(TORTURE_KINDS)}")
    if (
        isinstance(size, bool)
        or not isinstance(size, int | np.integer)
        or not 0 < size <= _MAX_SIZE
    ):
        raise ValueError(f"size must be an integer in [1, {_MAX_SIZE}], got {size!r}")
    if int(seed) < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    rng = np.random.default_rng(int(seed))
    image = _GENERATORS[kind](int(size), rng)
    return np.ascontiguousarray(np.clip(image, 0.0, 1.0), dtype=np.float32)


def _check_kinds(kinds: Sequence[str]) -> tuple[str, ...]:
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in _GENERATORS]
    if not kinds or unknown:
        raise ValueError(
            f"kinds must be a non-empty subset of {list(TORTURE_KINDS)}, got {list(kinds)}"
        )
    return kinds


def torture_dataset(size: int, seed: int, kinds: Sequence[str] = TORTURE_KINDS):
    """An infinite ``tf.data.Dataset`` of torture patterns.

    Element ``i`` is fully determined by ``(seed, i)``: ``tf.data.Dataset.random(seed)`` yields a
    reproducible stream of integers, each of which seeds a numpy generator that picks the kind
    (uniformly among ``kinds``) and the pattern seed. Rendering runs in ``tf.numpy_function``
    under a parallel, order-preserving ``map`` (``num_parallel_calls=AUTOTUNE``).

    Args:
        size: side length in pixels.
        seed: dataset seed.
        kinds: the pattern kinds to draw from (default: all of :data:`TORTURE_KINDS`).

    Returns:
        ``tf.data.Dataset`` of float32 ``(size, size, 3)`` tensors in ``[0, 1]``, infinite.

    Raises:
        ValueError: unknown kind or bad size.
    """
    import tensorflow as tf

    kinds = _check_kinds(kinds)
    make_torture_pattern(kinds[0], size, 0)  # validates size early, with a clear message

    def render(value: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng([int(seed), int(value) & 0xFFFFFFFFFFFFFFFF])
        kind = kinds[int(rng.integers(len(kinds)))]
        return make_torture_pattern(kind, size, int(rng.integers(2**62)))

    def render_tensor(value):
        image = tf.numpy_function(render, [value], tf.float32, stateful=False)
        return tf.ensure_shape(image, (size, size, 3))

    return tf.data.Dataset.random(seed=seed).map(
        render_tensor, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )


def mix_with_torture(
    natural_ds,
    torture_ds,
    ratio: float = 0.05,
    *,
    allow_high_ratio: bool = False,
    seed: int | None = None,
):
    """Mixes torture patterns into a natural-image dataset at a small, validated ratio.

    Each output element comes from ``torture_ds`` with probability ``ratio`` and from
    ``natural_ds`` otherwise (``tf.data.Dataset.sample_from_datasets``). The mix ends when
    ``natural_ds`` ends (``stop_on_empty_dataset=True``), so an epoch over natural images stays
    an epoch and never turns into pure synthetic data once the photos run out.

    Args:
        natural_ds: dataset of natural images; its element spec must match ``torture_ds``'s
            (map one of them first if they differ).
        torture_ds: e.g. :func:`torture_dataset`, usually infinite.
        ratio: share of torture patterns, in ``[0, 0.1]`` unless ``allow_high_ratio``.
        allow_high_ratio: accept ``0.1 < ratio < 1``.
        seed: sampling seed (deterministic order when given).

    Returns:
        The mixed ``tf.data.Dataset`` (``natural_ds`` itself when ``ratio == 0``).

    Raises:
        ValueError: ratio out of range, ratio == 1, or mismatched element specs.
    """
    import tensorflow as tf

    ratio_value = float(ratio)
    if not math.isfinite(ratio_value) or not 0.0 <= ratio_value <= 1.0:
        raise ValueError(f"ratio must be a number in [0, {MAX_DEFAULT_RATIO}], got {ratio!r}")
    if ratio_value == 1.0:
        raise ValueError(
            "ratio=1.0 refused: pure synthetic fine-tuning destroys natural-image quality; "
            f"use a ratio <= {MAX_DEFAULT_RATIO} (a few percent)"
        )
    if ratio_value > MAX_DEFAULT_RATIO and not allow_high_ratio:
        raise ValueError(
            f"ratio={ratio_value} exceeds {MAX_DEFAULT_RATIO}: too much synthetic data hurts "
            "natural-image quality; pass allow_high_ratio=True if you really mean it"
        )
    if natural_ds.element_spec != torture_ds.element_spec:
        try:
            tf.nest.assert_same_structure(natural_ds.element_spec, torture_ds.element_spec)
            compatible = all(
                a.dtype == b.dtype and a.shape.is_compatible_with(b.shape)
                for a, b in zip(
                    tf.nest.flatten(natural_ds.element_spec),
                    tf.nest.flatten(torture_ds.element_spec),
                    strict=True,
                )
            )
        except (TypeError, ValueError):
            compatible = False
        if not compatible:
            raise ValueError(
                f"natural_ds element spec {natural_ds.element_spec} does not match torture_ds "
                f"element spec {torture_ds.element_spec}; map one of them first"
            )
    if ratio_value == 0.0:
        return natural_ds
    return tf.data.Dataset.sample_from_datasets(
        [natural_ds, torture_ds],
        weights=[1.0 - ratio_value, ratio_value],
        seed=seed,
        stop_on_empty_dataset=True,
    )
