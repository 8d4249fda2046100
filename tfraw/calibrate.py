"""Noise calibration: camera noise profiles from flat/dark frames or from noisy/clean pairs.

The model is ELD's (Wei et al., CVPR 2020, Sec. 3-4; see :mod:`tfraw.isp.noise`): in DN above
black, ``noisy = K Poisson(x / K) + read + row + black_level_error``, then rounded. Per ISO this
module estimates

- ``K`` (DN per electron): the slope of the variance-mean line (the photon transfer curve,
  ``Var = K * mean + sigma_0^2``). From flats, each tile's variance is half the variance of the
  difference of two flats at the same level (fixed-pattern non-uniformity and vignetting
  cancel); from pairs, the residual ``noisy - clean / ratio`` is binned by the clean signal.
- ``sigma_row``: from the row means of a dark frame (or of the pair residual), whose variance is
  ``sigma_row^2 + sigma_pixel^2 / W``.
- ``sigma_read``: the standard deviation of the dark frame (or of the lowest-signal residual)
  after removing the row means, with the rounding variance 1/12 removed (Sheppard's correction);
  optionally the Tukey-lambda shape by the probability-plot correlation coefficient (PPCC,
  Filliben 1975; ELD Sec. 4.2) and its scale from the probability plot's slope.
- the black-level error per packed Bayer channel (R, G, B, G as ELD): dark-frame channel means.

Across ISOs the laws ``log sigma = a log K + b + eps`` (ELD Eq. 9) are fitted by least squares
(``eps`` = residual standard deviation), and :func:`fit_profile` returns a
:class:`tfraw.isp.noise.NoiseProfile` that :func:`tfraw.isp.noise.load_profile` reads back from
the JSON :func:`write_profile` writes.

Arrays are ``(H, W)`` float DN above black (a :class:`tfraw.io.RawImage` mosaic times
``white - black``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tfraw.errors import InputError
from tfraw.isp.noise import LogLinearLaw, NoiseProfile

__all__ = [
    "IsoEstimate",
    "calibrate_frames",
    "calibrate_pairs",
    "estimate_from_flat_dark",
    "estimate_from_pair",
    "fit_log_linear",
    "fit_profile",
    "main",
    "write_profile",
]

#: Variance of rounding to integer DN (uniform error on [-1/2, 1/2]).
QUANTIZATION_VARIANCE = 1.0 / 12.0
_TUKEY_GRID = np.round(np.arange(-0.40, 0.401, 0.01), 2)
_MAX_PPCC_SAMPLES = 200_000


@dataclasses.dataclass(frozen=True)
class IsoEstimate:
    """Noise parameters measured at one ISO (all in DN above black).

    Attributes:
        iso: the ISO (or any gain label).
        k: system gain (DN per electron).
        sigma_read: Gaussian read-noise standard deviation (rounding removed).
        sigma_row: row-noise standard deviation.
        tukey_lambda, tukey_scale: PPCC-fitted Tukey shape and scale, or None.
        black_level_error: ``(R, G, B, G)`` mean offsets of a dark frame, or None.
        samples: pixels used.
    """

    iso: float
    k: float
    sigma_read: float
    sigma_row: float
    tukey_lambda: float | None = None
    tukey_scale: float | None = None
    black_level_error: tuple[float, float, float, float] | None = None
    samples: int = 0


def _as_frame(frame, name: str) -> np.ndarray:
    array = np.asarray(frame, np.float64)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2 or min(array.shape) < 8:
        raise InputError(f"{name}: expected an (H, W) frame of at least 8x8, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{name}: frame holds NaN/Inf values")
    return array


def _row_split(residual: np.ndarray) -> tuple[float, np.ndarray]:
    """``(sigma_row, residual without row means)`` of a zero-mean-ish residual."""
    row_means = residual.mean(axis=1, keepdims=True)
    without_rows = residual - row_means
    pixel_var = float(without_rows.var())
    width = residual.shape[1]
    row_var = float(row_means.var()) - pixel_var / width
    return math.sqrt(max(row_var, 0.0)), without_rows


def _read_sigma(variance: float) -> float:
    return math.sqrt(max(variance - QUANTIZATION_VARIANCE, 1e-12))


def tukey_ppcc(samples: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """``(lambda, scale)`` of the Tukey-lambda distribution that best straightens the
    probability plot of ``samples`` (max PPCC over lambda in [-0.4, 0.4], step 0.01)."""
    from scipy import stats

    data = np.asarray(samples, np.float64).ravel()
    if data.size > _MAX_PPCC_SAMPLES:
        data = np.random.default_rng(seed).choice(data, _MAX_PPCC_SAMPLES, replace=False)
    data = np.sort(data - np.median(data))
    # Filliben's order-statistic medians, shared by every lambda.
    n = data.size
    u = (np.arange(1, n + 1) - 0.3175) / (n + 0.365)
    u[0], u[-1] = 1 - 0.5 ** (1 / n), 0.5 ** (1 / n)
    best = (-2.0, 0.0, 1.0)
    for lam in _TUKEY_GRID:
        q = stats.tukeylambda.ppf(u, lam)
        r = np.corrcoef(q, data)[0, 1]
        if r > best[0]:
            slope = np.polyfit(q, data, 1)[0]
            best = (float(r), float(lam), float(slope))
    return best[1], best[2]


def _black_level_error(dark: np.ndarray, pattern) -> tuple[float, float, float, float] | None:
    if pattern is None:
        return None
    from tfraw.isp.cfa import as_pattern

    array = as_pattern(pattern)
    if array.shape != (2, 2):
        return None
    by_colour: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for dy in range(2):
        for dx in range(2):
            by_colour[int(array[dy, dx])].append(float(dark[dy::2, dx::2].mean()))
    greens = by_colour[1] + by_colour[1][:1]
    return (by_colour[0][0], greens[0], by_colour[2][0], greens[1])


def _blocks(plane: np.ndarray, tile: int) -> np.ndarray:
    """``(H/t, t, W/t, t)`` view of the plane cut to whole tiles."""
    h, w = (plane.shape[0] // tile) * tile, (plane.shape[1] // tile) * tile
    return plane[:h, :w].reshape(h // tile, tile, w // tile, tile)


def _fit_line(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None):
    """Weighted least squares ``y = slope x + intercept``."""
    w = np.ones_like(x) if weights is None else weights
    design = np.stack([x, np.ones_like(x)], axis=1) * np.sqrt(w)[:, None]
    solution, *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
    return float(solution[0]), float(solution[1])


def estimate_from_flat_dark(
    iso: float,
    flat_pairs: Sequence[tuple[np.ndarray, np.ndarray]],
    darks: Sequence[np.ndarray],
    pattern=None,
    tile: int = 32,
    saturation: float | None = None,
    tukey: bool = False,
) -> IsoEstimate:
    """Per-ISO parameters from flat-field pairs and dark (bias) frames.

    Args:
        iso: the ISO of all frames.
        flat_pairs: pairs of flats at the same exposure (several levels), DN above black.
        darks: dark frames (no light), DN above black.
        pattern: CFA pattern (for the per-channel black-level error), or None.
        tile: side of the tiles whose mean/variance give the photon transfer points; tiles
            are taken per CFA position (a 2x2 sub-sampled plane), so colours do not mix.
        saturation: DN above which tiles are discarded (default: 90 % of the brightest flat).
        tukey: also fit the Tukey-lambda shape of the dark frames.

    Returns:
        :class:`IsoEstimate`.
    """
    if not flat_pairs or not darks:
        raise InputError("estimate_from_flat_dark needs at least one flat pair and one dark")
    means, variances = [], []
    peak = max(float(np.max(_as_frame(a, "flat"))) for a, _ in flat_pairs)
    limit = 0.9 * peak if saturation is None else float(saturation)
    for index, (first, second) in enumerate(flat_pairs):
        a, b = _as_frame(first, f"flat {index}a"), _as_frame(second, f"flat {index}b")
        if a.shape != b.shape:
            raise InputError(f"flat pair {index}: shapes differ {a.shape} vs {b.shape}")
        for dy in range(2):
            for dx in range(2):
                pa, pb = a[dy::2, dx::2], b[dy::2, dx::2]
                mean = 0.5 * (
                    _blocks(pa, tile).mean(axis=(1, 3)) + _blocks(pb, tile).mean(axis=(1, 3))
                )
                diff = _blocks(pa - pb, tile)
                var = diff.var(axis=(1, 3), ddof=1) / 2.0
                keep = mean < limit
                means.append(mean[keep].ravel())
                variances.append(var[keep].ravel())
    mean, var = np.concatenate(means), np.concatenate(variances)
    if mean.size < 2 or np.ptp(mean) <= 0:
        raise InputError("flats: need tiles at two or more signal levels below saturation")
    # Var(var_hat) ~ 2 Var^2 / n: weight each point by 1 / Var^2.
    k, _ = _fit_line(mean, var, 1.0 / np.maximum(var, 1e-6) ** 2)
    residual = np.concatenate([_as_frame(d, "dark").ravel() for d in darks])
    dark_frames = [_as_frame(d, "dark") for d in darks]
    rows, pixels, biases = [], [], []
    for frame in dark_frames:
        biases.append(_black_level_error(frame, pattern))
        sigma_row, without_rows = _row_split(frame - frame.mean())
        rows.append(sigma_row)
        pixels.append(without_rows.ravel())
    pixel = np.concatenate(pixels)
    lam = scale = None
    if tukey:
        lam, scale = tukey_ppcc(pixel)
    bias = None
    if biases[0] is not None:
        bias = tuple(float(v) for v in np.mean(np.array(biases), axis=0))
    return IsoEstimate(
        iso=float(iso),
        k=float(k),
        sigma_read=_read_sigma(float(pixel.var())),
        sigma_row=float(np.sqrt(np.mean(np.square(rows)))),
        tukey_lambda=lam,
        tukey_scale=scale,
        black_level_error=bias,
        samples=int(residual.size + mean.size * tile * tile),
    )


def estimate_from_pair(
    iso: float,
    noisy: np.ndarray,
    clean: np.ndarray,
    ratio: float,
    bins: int = 24,
    dark_fraction: float = 0.1,
    tukey: bool = False,
) -> IsoEstimate:
    """Per-ISO parameters from one (or a stack of) noisy/clean pair(s).

    Args:
        iso: ISO of the noisy frame.
        noisy: noisy frame, DN above black.
        clean: the long exposure of the same scene, DN above black (its own brightness).
        ratio: exposure ratio clean / noisy (> 0); ``clean / ratio`` is the expected noisy DN.
        bins: signal bins of the variance-mean fit (equal counts).
        dark_fraction: fraction of the darkest pixels used for the read-noise shape.
        tukey: also fit the Tukey-lambda shape of the darkest residuals.

    Returns:
        :class:`IsoEstimate` (no black-level error: it is absorbed by the pair residual's mean).
    """
    if not ratio > 0:
        raise InputError(f"estimate_from_pair: ratio must be > 0, got {ratio}")
    noisy_f, clean_f = _as_frame(noisy, "noisy"), _as_frame(clean, "clean")
    if noisy_f.shape != clean_f.shape:
        raise InputError(f"pair shapes differ: {noisy_f.shape} vs {clean_f.shape}")
    signal = clean_f / float(ratio)
    residual = noisy_f - signal
    residual -= residual.mean()
    without_rows = residual - residual.mean(axis=1, keepdims=True)
    flat_signal = signal.ravel()
    order = np.argsort(flat_signal, kind="stable")
    chunks = np.array_split(order, bins)
    level = np.array([flat_signal[c].mean() for c in chunks])
    var = np.array([without_rows.ravel()[c].var(ddof=1) for c in chunks])
    counts = np.array([c.size for c in chunks], np.float64)
    if np.ptp(level) <= 0:
        raise InputError("pair: the clean frame is flat; need a range of signal levels")
    k, _ = _fit_line(level, var, counts / np.maximum(var, 1e-6) ** 2)
    # Read variance from the darkest pixels once K is known: Var = K * level + sigma^2 (+ 1/12);
    # more stable than the line's intercept, which extrapolates from brighter bins.
    darkest = order[: max(int(dark_fraction * order.size), 100)]
    dark_residual = without_rows.ravel()[darkest]
    read_var = float(dark_residual.var(ddof=1)) - k * float(flat_signal[darkest].mean())
    sigma_read = _read_sigma(read_var)
    # Row noise: inverse-variance weighted row means (bright pixels carry little information).
    weights = 1.0 / (k * np.maximum(signal, 0.0) + sigma_read**2 + QUANTIZATION_VARIANCE)
    row_means = (residual * weights).sum(axis=1) / weights.sum(axis=1)
    row_var = float(row_means.var(ddof=1)) - float(np.mean(1.0 / weights.sum(axis=1)))
    sigma_row = math.sqrt(max(row_var, 0.0))
    lam = scale = None
    if tukey:
        lam, scale = tukey_ppcc(dark_residual)
    return IsoEstimate(
        iso=float(iso),
        k=float(k),
        sigma_read=sigma_read,
        sigma_row=sigma_row,
        tukey_lambda=lam,
        tukey_scale=scale,
        samples=int(residual.size),
    )


def fit_log_linear(log_k: Sequence[float], sigma: Sequence[float]) -> LogLinearLaw:
    """``log sigma = slope log K + intercept + eps`` by least squares; ``eps`` sigma is the
    residual standard deviation (0 with fewer than three ISOs). One ISO: slope 0."""
    x = np.asarray(log_k, np.float64)
    y = np.log(np.maximum(np.asarray(sigma, np.float64), 1e-12))
    if x.size == 0:
        raise InputError("fit_log_linear: no points")
    if x.size == 1 or np.ptp(x) == 0:
        return LogLinearLaw(0.0, float(y.mean()), float(y.std()))
    slope, intercept = _fit_line(x, y)
    residual = y - (slope * x + intercept)
    eps = float(np.sqrt(np.sum(residual**2) / (x.size - 2))) if x.size > 2 else 0.0
    return LogLinearLaw(slope, intercept, eps)


def fit_profile(
    estimates: Sequence[IsoEstimate], name: str, read_model: str = "gaussian", source: str = ""
) -> NoiseProfile:
    """The camera profile from per-ISO estimates (at least one; two for a slope).

    ``read_model="tukey_lambda"`` needs Tukey fits in the estimates; the Gaussian law is then
    kept as ``gaussian_read_law``. The ``color_bias`` table has one row per estimate, ordered by
    ``K`` (the synthesizer bins ``K`` into equal-width bins over the range).
    """
    if not estimates:
        raise InputError("fit_profile: no estimates")
    if read_model not in ("gaussian", "tukey_lambda"):
        raise InputError(
            f"fit_profile: read_model must be gaussian or tukey_lambda, got {read_model!r}"
        )
    ordered = sorted(estimates, key=lambda e: e.k)
    bad = [e.iso for e in ordered if not (e.k > 0 and math.isfinite(e.k))]
    if bad:
        raise InputError(f"fit_profile: non-positive K estimated at ISO {bad}")
    log_k = [math.log(e.k) for e in ordered]
    gaussian = fit_log_linear(log_k, [e.sigma_read for e in ordered])
    rows = [e.sigma_row for e in ordered]
    row_law = fit_log_linear(log_k, rows) if all(r > 0 for r in rows) else None
    bias = None
    if all(e.black_level_error is not None for e in ordered):
        bias = tuple(tuple(float(v) for v in e.black_level_error) for e in ordered)
    kwargs = dict(read_model="gaussian", read_law=gaussian)
    if read_model == "tukey_lambda":
        if any(e.tukey_scale is None for e in ordered):
            raise InputError("fit_profile: tukey_lambda needs Tukey fits (tukey=True)")
        kwargs = dict(
            read_model="tukey_lambda",
            read_law=fit_log_linear(log_k, [e.tukey_scale for e in ordered]),
            tukey_lambda=tuple(float(e.tukey_lambda) for e in ordered),
            gaussian_read_law=gaussian,
        )
    return NoiseProfile(
        name=name,
        log_k_range=(min(log_k), max(log_k)),
        row_law=row_law,
        color_bias=bias,
        source=source or f"tfraw.calibrate at ISO {[e.iso for e in ordered]}",
        **kwargs,
    )


def write_profile(profile: NoiseProfile, path: str | Path) -> Path:
    """Writes the profile JSON atomically (readable by :func:`tfraw.isp.noise.load_profile`)."""
    from tfraw.io.atomic import atomic_write

    path = Path(path)
    if path.suffix != ".json":
        raise InputError(f"{path}: a noise profile file must end in .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        tmp.write_text(profile.to_json() + "\n", encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------


def calibrate_pairs(dataroot, pair_list, name: str, tukey: bool = False) -> NoiseProfile:
    """Profile from a pair list (the few-shot format of ``tfraw-train denoise --finetune``):
    pairs are grouped by the noisy frame's ISO, each group's residuals stacked."""
    from tfraw.stages.denoise.data import read_pair_list

    pairs = read_pair_list(dataroot, pair_list)
    from tfraw.io import read_raw

    groups: dict[float, list] = {}
    for pair in pairs:
        groups.setdefault(pair.iso, []).append(pair)
    estimates = []
    for iso, members in sorted(groups.items()):
        scale_raw = read_raw(members[0].noisy_path)
        scale = float(scale_raw.white_level) - float(np.max(scale_raw.black_level))
        noisy = np.concatenate([m.noisy * scale for m in members], axis=0)
        clean = np.concatenate([m.clean * scale / m.ratio for m in members], axis=0)
        estimates.append(estimate_from_pair(iso, noisy, clean, 1.0, tukey=tukey))
    return fit_profile(estimates, name, "tukey_lambda" if tukey else "gaussian")


def _dn_frame(path: Path):
    """``(RawImage, frame in DN above black)`` of a raw file."""
    from tfraw.io import read_raw

    raw = read_raw(path)
    scale = float(raw.white_level) - float(np.max(raw.black_level))
    return raw, np.asarray(raw.mosaic, np.float64) * scale


def calibrate_frames(
    flats: Sequence[str | Path], darks: Sequence[str | Path], name: str, tukey: bool = False,
    log=print,
) -> NoiseProfile:  # fmt: skip
    """Profile from flat-field and dark raw files of several ISOs (read through LibRaw).

    Frames are grouped by the ISO in their metadata; within an ISO the flats are grouped by
    exposure time and paired two by two (two flats of the same exposure make one photon-transfer
    pair; an odd one out is ignored with a note); every ISO needs at least one flat pair and one
    dark frame.

    Raises:
        InputError: a frame without ISO, an ISO without a flat pair or a dark, mixed sizes.
    """
    by_iso: dict[float, dict[str, list]] = {}
    for kind, paths in (("flat", flats), ("dark", darks)):
        for path in paths:
            raw, frame = _dn_frame(Path(path))
            if not raw.iso:
                raise InputError(f"{path}: no ISO in the metadata (needed to group frames)")
            entry = by_iso.setdefault(float(raw.iso), {"flat": [], "dark": [], "pattern": None})
            entry[kind].append((float(raw.exposure_time or 0.0), frame, Path(path)))
            entry["pattern"] = raw.cfa_pattern
    if not by_iso:
        raise InputError("calibrate: no flat or dark frames given")
    estimates = []
    for iso, entry in sorted(by_iso.items()):
        exposures: dict[float, list] = {}
        for exposure, frame, path in entry["flat"]:
            exposures.setdefault(exposure, []).append((frame, path))
        pairs = []
        for exposure, frames in sorted(exposures.items()):
            for a, b in zip(frames[0::2], frames[1::2], strict=False):
                pairs.append((a[0], b[0]))
            if len(frames) % 2:
                log(f"ISO {iso:g}: flat {frames[-1][1].name} ({exposure:g} s) has no partner")
        darks = [frame for _, frame, _ in entry["dark"]]
        if not pairs or not darks:
            raise InputError(
                f"ISO {iso:g}: needs two flats of the same exposure and a dark frame "
                f"(got {len(entry['flat'])} flat(s), {len(darks)} dark(s))"
            )
        estimate = estimate_from_flat_dark(iso, pairs, darks, entry["pattern"], tukey=tukey)
        log(f"ISO {iso:g}: K {estimate.k:.4g} DN/e-, read sigma {estimate.sigma_read:.4g}, "
            f"row sigma {estimate.sigma_row:.4g} DN ({len(pairs)} flat pair(s), {len(darks)} dark(s))")  # fmt: skip
        estimates.append(estimate)
    return fit_profile(estimates, name, "tukey_lambda" if tukey else "gaussian")


def add_parser(parser: argparse.ArgumentParser) -> None:
    """``tfraw calibrate``: from a pair list, or from flat and dark frames."""
    parser.add_argument("--dataroot", type=Path, help="folder of noisy/clean pairs")
    parser.add_argument("--data-pair-list", type=Path, help="'noisy clean' file names per line")
    parser.add_argument("--flats", nargs="+", type=Path, default=[], help="flat-field raw files")
    parser.add_argument("--darks", nargs="+", type=Path, default=[], help="dark (bias) raw files")
    parser.add_argument("--name", default="custom", help="profile name")
    parser.add_argument("--tukey", action="store_true", help="fit Tukey-lambda read noise (PPCC)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="profile .json")


def run(args) -> int:
    pairs = args.dataroot is not None or args.data_pair_list is not None
    frames = bool(args.flats or args.darks)
    if pairs == frames:
        raise InputError(
            "calibrate: give either --dataroot and --data-pair-list (pairs) or --flats and "
            "--darks (frames)"
        )
    if pairs:
        if args.dataroot is None or args.data_pair_list is None:
            raise InputError("calibrate: pairs need both --dataroot and --data-pair-list")
        profile = calibrate_pairs(args.dataroot, args.data_pair_list, args.name, args.tukey)
    else:
        profile = calibrate_frames(args.flats, args.darks, args.name, args.tukey)
    write_profile(profile, args.output)
    print(profile.to_json())
    print(f"wrote {args.output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m tfraw.calibrate ...`` (the same as ``tfraw calibrate ...``)."""
    parser = argparse.ArgumentParser(
        prog="python -m tfraw.calibrate", description=__doc__.split("\n")[0]
    )
    add_parser(parser)
    args = parser.parse_args(argv)
    from tfraw.errors import TfrawError

    try:
        return run(args)
    except TfrawError as err:
        print(f"tfraw calibrate: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
