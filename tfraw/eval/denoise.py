"""``tfraw eval denoise``: the low-light raw denoising benchmark on any folder of 8-bit images.

Protocol ``raw-psnr-clip01`` (per image, per ratio):

1. the 8-bit sRGB image (Kodak24 by default data) is unprocessed to linear camera RGB
   (Brooks et al. 2019; parameters seeded by the image index) and mosaicked RGGB: the clean
   normalized raw ``x`` (optionally a centre crop of ``--crop`` pixels);
2. noise of a calibrated profile (SonyA7S2 by default) at exposure ratio ``r``:
   :func:`tfraw.isp.noise.synthesize_noisy_raw` with ``white - black = 15871`` (14-bit, black
   512), ``log K`` drawn per image from the profile's range (seeded), so every method sees the
   same noisy input ``y`` (already multiplied by ``r``);
3. each method denoises ``y``; PSNR and SSIM in raw space on ``clip(., 0, 1)`` (SSIM on the
   packed 4-channel Bayer planes), and after rendering both the estimate and ``x`` the same way
   (Malvar demosaic -> the image's own white balance and colour matrix -> sRGB curve and tone
   curve, :func:`tfraw.isp.unprocess.process`), PSNR/SSIM in display sRGB; means over images.

Classical methods are given the true noise level: they run on the generalized Anscombe
transform of each packed Bayer plane (Makitalo & Foi, "Optimal inversion of the generalized
Anscombe transformation for Poisson-Gaussian noise", IEEE TIP 2013), which makes the noise
approximately unit-variance Gaussian using the true ``K`` and read sigma, and are inverted with
the closed-form approximation of the exact unbiased inverse. Rows: ``noisy`` (identity),
``wavelet`` (scikit-image BayesShrink, sigma = 1), ``nlm`` (scikit-image non-local means, fast
mode, h = 0.8 sigma, sigma = 1), ``bm3d`` (the ``bm3d`` package, sigma = 1; optional: skipped
with a note when it is not installed). tfraw models (``--model``) are named
``tfraw:<file or folder>``; ``--customize PROFILE`` adds the customization experiment: the
first model is customized on ``--custom-pairs`` synthetic pairs of that (unseen) profile, made
from photos of ``--custom-data`` (never the benchmark images), and both models are evaluated on
that profile's noise.

``--black-level-correction [profile|dark-frame]`` (a protocol variant, recorded as
``black_level_correction`` in the JSON): a black-level error is subtracted from the noisy input
of *every* method and from the customization pairs. ``profile`` (the default of the flag): the
profile's calibrated error at the image's true ``K`` (:func:`tfraw.isp.noise.black_level_offset`),
as a calibrated camera pipeline would once it knows ``K`` (the same oracle the classical methods
get for the noise level). ``dark-frame``: what ``tfraw denoise --dark-frame`` does with a real
one: the mean per CFA position of a synthesized dark frame (same ``K``, read and row noise, its
own noise draw, x ratio). Without the flag the offset (ELD's colour bias, up to ~4 DN x ratio
for the Sony A7S2) stays in the input, and no method is told of it.

Besides PSNR/SSIM, ``raw_psnr_dc`` is the raw PSNR after removing the estimate's own mean error
per image (what an exact black-level estimate would leave), and ``raw_mean_error`` the mean
signed error: together they show how much of a method's error is one number per image. Each
row's ``black_level_pass_through`` is the slope of its per-image mean error on the noisy input's
(whose mean error is its black-level error): 1 passes the offset through, 0 removes it.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tfraw.errors import InputError

__all__ = [
    "CLASSICAL_METHODS",
    "PROTOCOL",
    "add_denoise_parser",
    "evaluate_denoise",
    "format_table",
    "run_denoise",
]

PROTOCOL = "raw-psnr-clip01"
DEFAULT_RATIOS = (1.0, 10.0, 100.0, 200.0)
WHITE_MINUS_BLACK = 16383.0 - 512.0
CLASSICAL_METHODS = ("noisy", "wavelet", "nlm", "bm3d")
#: ``--black-level-correction`` variants (module doc).
BLACK_LEVEL_CORRECTIONS = ("profile", "dark-frame")
_NLM_H = 0.8  # scikit-image's recommended h / sigma in fast mode (denoise_nl_means docs)


# ----------------------------------------------------------------------------------------------
# Generalized Anscombe transform
# ----------------------------------------------------------------------------------------------


def gat_forward(dn: np.ndarray, k: float, sigma: float) -> np.ndarray:
    """Generalized Anscombe transform of DN values with gain ``k`` and Gaussian ``sigma`` (DN):
    in electrons ``z = dn / k``, ``s = sigma / k``: ``2 sqrt(max(z + 3/8 + s^2, 0))``."""
    z = dn / k
    s2 = (sigma / k) ** 2
    return 2.0 * np.sqrt(np.maximum(z + 0.375 + s2, 0.0))


def gat_inverse(d: np.ndarray, k: float, sigma: float) -> np.ndarray:
    """Closed-form approximation of the exact unbiased inverse (Makitalo & Foi 2013, Eq. 9)."""
    s2 = (sigma / k) ** 2
    d = np.maximum(d, 0.8)  # the approximation is only valid above ~0.8 (as in their code)
    root = math.sqrt(1.5)
    z = 0.25 * d**2 + 0.25 * root / d - 1.375 / d**2 + 0.625 * root / d**3 - 0.125 - s2
    return np.maximum(z, 0.0) * k


# ----------------------------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------------------------


def _packed(mosaic: np.ndarray) -> np.ndarray:
    h, w = mosaic.shape
    return mosaic.reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3).reshape(h // 2, w // 2, 4)


def _unpacked(packed: np.ndarray) -> np.ndarray:
    h, w, _ = packed.shape
    return packed.reshape(h, w, 2, 2).transpose(0, 2, 1, 3).reshape(2 * h, 2 * w)


def _classical(plane_fn: Callable[[np.ndarray], np.ndarray]):
    """A denoiser on GAT-stabilized packed planes: ``(noisy x ratio, context) -> estimate``."""

    def run(noisy: np.ndarray, context: dict) -> np.ndarray:
        ratio, k, sigma = context["ratio"], context["k"], context["sigma"]
        dn = noisy * WHITE_MINUS_BLACK / ratio  # back to the DN of the short exposure
        packed = _packed(dn.astype(np.float64))
        out = np.empty_like(packed)
        for channel in range(4):
            stabilized = gat_forward(packed[..., channel], k, sigma)
            out[..., channel] = gat_inverse(plane_fn(stabilized), k, sigma)
        return (_unpacked(out) * ratio / WHITE_MINUS_BLACK).astype(np.float32)

    return run


def _wavelet(plane: np.ndarray) -> np.ndarray:
    from skimage.restoration import denoise_wavelet

    return denoise_wavelet(plane, sigma=1.0, mode="soft", method="BayesShrink", rescale_sigma=False)


def _nlm(plane: np.ndarray) -> np.ndarray:
    from skimage.restoration import denoise_nl_means

    return denoise_nl_means(
        plane, h=_NLM_H, sigma=1.0, patch_size=5, patch_distance=6, fast_mode=True
    )


def _bm3d(plane: np.ndarray) -> np.ndarray:
    import bm3d

    return np.asarray(bm3d.bm3d(plane, sigma_psd=1.0), np.float64)


def available_methods() -> dict[str, Callable]:
    methods: dict[str, Callable] = {"noisy": lambda noisy, context: noisy}
    methods["wavelet"] = _classical(_wavelet)
    methods["nlm"] = _classical(_nlm)
    try:
        import bm3d  # noqa: F401

        methods["bm3d"] = _classical(_bm3d)
    except ImportError:
        pass
    return methods


def _model_method(model, self_ensemble: int = 1) -> Callable:
    from tfraw.stages.denoise.model import apply_denoiser

    def run(noisy: np.ndarray, context: dict) -> np.ndarray:
        # ``noisy`` already holds the gain; the ratio is the model's noise level (ratio_input).
        return apply_denoiser(
            model,
            noisy,
            "RGGB",
            context["ratio"],
            tile=1024,
            self_ensemble=self_ensemble,
            premultiplied=True,
        )

    return run


# ----------------------------------------------------------------------------------------------
# Benchmark
# ----------------------------------------------------------------------------------------------


def _list_images(folder: Path, limit: int | None) -> list[Path]:
    from tfraw.eval.demosaic import list_images

    files = list_images(folder)
    return files[:limit] if limit else files


def _clean_raw(path: Path, index: int, crop: int | None):
    """(clean normalized RGGB mosaic (H, W), unprocess params) of one photo."""
    import tensorflow as tf

    from tfraw.io import read_image
    from tfraw.isp.cfa import mosaic
    from tfraw.isp.unprocess import sample_unprocess_params, unprocess

    srgb = np.asarray(read_image(path), np.float32)
    if crop:
        h, w = srgb.shape[:2]
        size = min(int(crop), h, w)
        top, left = (h - size) // 2, (w - size) // 2
        srgb = srgb[top : top + size, left : left + size]
    h, w = (srgb.shape[0] // 2) * 2, (srgb.shape[1] // 2) * 2
    srgb = srgb[:h, :w]
    params = sample_unprocess_params(tf.constant([index, 2024]))
    linear = unprocess(srgb, params)
    return mosaic(linear, "RGGB").numpy()[..., 0], params


def _correction(correct) -> str | None:
    """``None``, ``"profile"`` or ``"dark-frame"`` from the flag's value (``True`` = profile)."""
    if correct is None or correct is False:
        return None
    mode = "profile" if correct is True else str(correct)
    if mode not in BLACK_LEVEL_CORRECTIONS:
        raise InputError(
            f"black-level correction must be one of {BLACK_LEVEL_CORRECTIONS}, got {correct!r}"
        )
    return mode


def _synthesize(seed, clean: np.ndarray, params, ratio: float, correct) -> np.ndarray:
    """The noisy (H, W) mosaic x ratio of ``clean`` with ``params``, black-level corrected as
    ``correct`` says (:func:`_correction`; the protocol variant of the module doc)."""
    import tensorflow as tf

    from tfraw.isp.noise import black_level_offset, synthesize_noisy_raw

    def draw(seed_pair, image):
        return synthesize_noisy_raw(
            tf.constant(seed_pair), image[..., None], params, WHITE_MINUS_BLACK, ratio
        ).numpy()[..., 0]

    noisy = draw(seed, clean)
    mode = _correction(correct)
    if mode == "profile":
        noisy = noisy - black_level_offset(params, WHITE_MINUS_BLACK, ratio)
    elif mode == "dark-frame":
        # A lens-capped frame of the same sensor state (its own noise draw), averaged per CFA
        # position, as ``tfraw denoise --dark-frame`` does.
        from tfraw.io.raw import period_means, tile_period

        dark = draw((seed[0], seed[1] + 50_000), np.zeros_like(clean))
        period = period_means(dark, (2, 2)).astype(np.float32)
        noisy = noisy - tile_period(period, noisy.shape)
    return noisy


def _noisy(clean: np.ndarray, profile, ratio: float, seed: tuple[int, int], correct=None):
    """(noisy x ratio, K, Gaussian-equivalent read sigma) for one image and ratio; ``correct``:
    the black-level correction (:func:`_correction`)."""
    import tensorflow as tf

    from tfraw.isp.noise import sample_noise_params

    params = sample_noise_params(tf.constant(seed), profile)
    noisy = _synthesize((seed[0], seed[1] + 7), clean, params, ratio, correct)
    sigma = float(params["sigma_read"])
    if "tukey_lambda" in params:
        # Standard deviation of a Tukey-lambda variable of scale sigma (numerical, scipy).
        from scipy import stats

        sigma *= float(stats.tukeylambda.std(float(params["tukey_lambda"])))
    row = float(params["sigma_row"])
    # The GAT's Gaussian part: read, row and rounding variances together.
    sigma_total = math.sqrt(sigma**2 + row**2 + 1.0 / 12.0)
    return noisy, float(params["K"]), sigma_total


def _render(mosaic_image: np.ndarray, params) -> np.ndarray:
    """Malvar demosaic, then the inverse of the unprocessing (gains, CCM, sRGB, tone curve)."""
    from tfraw.isp.demosaic import demosaic
    from tfraw.isp.unprocess import process

    rgb = demosaic(np.asarray(mosaic_image, np.float32)[None, :, :, None], "RGGB", method="malvar")
    return process(rgb, params)[0].numpy()


def _scores(estimate: np.ndarray, clean: np.ndarray, params, clean_render) -> dict[str, float]:
    from tfraw.metrics import psnr, ssim

    est = np.clip(estimate, 0.0, 1.0)
    ref = np.clip(clean, 0.0, 1.0)
    rendered = _render(est, params)
    mean_error = float(np.mean(estimate - clean))
    return {
        "raw_psnr": float(psnr(est, ref)),
        "raw_psnr_dc": float(psnr(np.clip(estimate - mean_error, 0.0, 1.0), ref)),
        "raw_mean_error": mean_error,
        "raw_ssim": float(ssim(_packed(est), _packed(ref))),
        "srgb_psnr": float(psnr(rendered, clean_render)),
        "srgb_ssim": float(ssim(rendered, clean_render)),
    }


def _synthetic_pairs(
    folder: Path,
    profile,
    count: int,
    ratios: Sequence[float],
    crop: int,
    seed: int,
    correct=None,
):
    """``count`` pairs of the profile from photos of ``folder`` (cycling over ``ratios``), with
    half of them at the low and half at the high end of the gain range (two ISO groups);
    ``correct`` subtracts the calibrated black-level error as :func:`_noisy` does."""
    import tensorflow as tf

    from tfraw.isp.noise import sample_noise_params
    from tfraw.stages.denoise.data import NoisyCleanPair, list_photos

    photos = list_photos(folder)
    lo, hi = profile.log_k_range
    pairs = []
    for index in range(int(count)):
        clean, _ = _clean_raw(Path(photos[(seed + index) % len(photos)]), 10_000 + index, crop)
        ratio = float(ratios[index % len(ratios)])
        log_k = lo + (0.15 if index % 2 == 0 else 0.85) * (hi - lo)
        params = sample_noise_params(tf.constant([seed, index]), profile, log_k=log_k)
        noisy = _synthesize((seed, 100 + index), clean, params, ratio, correct)
        iso = 100.0 if index % 2 == 0 else 6400.0
        pattern = np.array([[0, 1], [1, 2]], np.int32)
        pairs.append(
            NoisyCleanPair("synthetic", "synthetic", ratio, iso, noisy / ratio, clean, pattern)
        )
    return pairs


def evaluate_denoise(
    data: Path,
    profile: str = "SonyA7S2",
    ratios: Sequence[float] = DEFAULT_RATIOS,
    methods: Sequence[str] | None = None,
    models: Sequence[str] = (),
    limit: int | None = None,
    crop: int | None = None,
    customize: str | None = None,
    custom_data: Path | None = None,
    custom_pairs: int = 6,
    custom_steps: tuple[int, int] = (300, 600),
    custom_start: str | None = None,
    log: Callable[[str], None] = lambda message: None,
    self_ensemble: int = 1,
    black_level_correction: bool | str | None = None,
) -> dict:
    """Runs the benchmark; returns ``{"stage", "dataset", "protocol", ..., "rows": [...]}``.

    Each row: ``{"method", "kind", "profile", "ratio", "black_level_pass_through", "metrics":
    {raw_psnr, raw_psnr_dc, raw_mean_error, raw_ssim, srgb_psnr, srgb_ssim, s_per_image}}``.
    With ``self_ensemble`` N > 1 each model also gets a row ``<name>+xN``: N flipped/transposed
    passes averaged (:mod:`tfraw.inference.ensemble`).
    ``black_level_correction``: the protocol variant of the module doc (every method's input):
    ``"profile"`` (or ``True``), ``"dark-frame"``, or ``None``/``False``.
    """
    from tfraw.isp.noise import load_profile

    black_level_correction = _correction(black_level_correction)

    if any(not r > 0 for r in ratios):
        raise InputError(f"ratios must be > 0, got {list(ratios)}")
    images = _list_images(Path(data), limit)
    known = available_methods()
    selected = (
        list(methods) if methods is not None else [m for m in CLASSICAL_METHODS if m in known]
    )
    missing = [m for m in selected if m not in known]
    notes = []
    if "bm3d" in missing:
        notes.append("bm3d skipped: the optional 'bm3d' package is not installed")
        selected.remove("bm3d")
        missing.remove("bm3d")
    if missing:
        raise InputError(f"unknown method(s) {missing}; known: {sorted(known)}")
    runners: list[tuple[str, str, str, Callable, dict]] = [
        (name, "classical", profile, known[name], {}) for name in selected
    ]
    loaded = []
    if models:
        from tfraw.stages.denoise.model import parameter_count
        from tfraw.stages.denoise.train import load_denoiser

        for path in models:
            model = load_denoiser(path)
            deployed = model.deploy() if model.stage_config().reparam else model
            loaded.append((path, model))
            extra = {"params": parameter_count(deployed)}
            runners.append((f"tfraw:{path}", "tfraw", profile, _model_method(deployed), extra))
            if self_ensemble > 1:
                # Bayer (the benchmark's RGGB) admits all 8 symmetries: up to N passes.
                runners.append((
                    f"tfraw:{path}+x{self_ensemble}", "tfraw", profile,
                    _model_method(deployed, self_ensemble), extra,
                ))  # fmt: skip
    if customize:
        if not loaded:
            raise InputError("--customize needs a pre-trained --model (unfolded .keras)")
        from tfraw.stages.denoise.train import FinetuneSettings, finetune, load_denoiser

        unseen = load_profile(customize)
        if custom_data is None:
            raise InputError("--customize needs --custom-data (photos other than the benchmark)")
        pairs = _synthetic_pairs(
            Path(custom_data), unseen, custom_pairs, ratios, crop or 512, 7,
            correct=black_level_correction,
        )  # fmt: skip
        base_path = loaded[0][0]
        pretrained = load_denoiser(base_path)
        runners.append(
            (f"tfraw:{base_path}", "tfraw", unseen.name, _model_method(pretrained.deploy()), {})
        )
        tuned = load_denoiser(base_path)
        settings = FinetuneSettings(
            align_steps=custom_steps[0],
            branch_steps=custom_steps[1],
            patch_size=min(crop or 256, 256),
            start=custom_start or FinetuneSettings.start,
        )
        finetune(tuned, pairs, settings, log=log)
        runners.append(
            (f"tfraw:{base_path}+custom{custom_pairs}", "tfraw-custom", unseen.name,
             _model_method(tuned.deploy()), {})
        )  # fmt: skip
        for name in selected:
            if name != "noisy":
                continue
            runners.append((name, "classical", unseen.name, known[name], {}))
    profiles = {p: load_profile(p) for p in {r[2] for r in runners}}
    sums: dict[tuple, dict[str, list[float]]] = {}
    for index, path in enumerate(images):
        clean, params = _clean_raw(path, index, crop)
        clean_render = _render(clean, params)
        for ratio in ratios:
            inputs = {}
            for p_name, p in profiles.items():
                inputs[p_name] = _noisy(
                    clean, p, float(ratio), (index, int(ratio * 1000)), black_level_correction
                )
            for name, kind, p_name, run, _ in runners:
                noisy, k, sigma = inputs[p_name]
                context = {"ratio": float(ratio), "k": k, "sigma": sigma}
                began = time.perf_counter()
                estimate = run(noisy, context)
                elapsed = time.perf_counter() - began
                scores = _scores(estimate, clean, params, clean_render)
                scores["s_per_image"] = elapsed
                # the input's own mean error: its black-level error (the noise is zero-mean)
                scores["input_mean_error"] = float(np.mean(noisy - clean))
                bucket = sums.setdefault((name, kind, p_name, float(ratio)), {})
                for key, value in scores.items():
                    bucket.setdefault(key, []).append(value)
        log(f"{index + 1}/{len(images)} {path.name}")
    rows = []
    extras = {r[0]: r[4] for r in runners}
    for (name, kind, p_name, ratio), values in sums.items():
        row = {"method": name, "kind": kind, "profile": p_name, "ratio": ratio}
        row.update(extras.get(name, {}))
        inputs_error = values.pop("input_mean_error")
        row["metrics"] = {key: float(np.mean(v)) for key, v in values.items()}
        row["black_level_pass_through"] = _pass_through(inputs_error, values["raw_mean_error"])
        rows.append(row)
    return {
        "stage": "denoise",
        "dataset": Path(data).name,
        "protocol": PROTOCOL,
        "profile": profile,
        "ratios": [float(r) for r in ratios],
        "images": len(images),
        "crop": crop,
        "white_minus_black": WHITE_MINUS_BLACK,
        "black_level_correction": black_level_correction or False,
        "notes": notes,
        "rows": rows,
    }


def _pass_through(input_errors: Sequence[float], output_errors: Sequence[float]) -> float | None:
    """Least-squares slope of the per-image mean error of a method's output on that of its
    input: 1 when the black-level error goes through untouched, 0 when it is removed. None with
    fewer than 3 images or inputs whose mean errors hardly differ (no offset to follow)."""
    x, y = np.asarray(input_errors, np.float64), np.asarray(output_errors, np.float64)
    if x.size < 3 or np.std(x) < 1e-6:
        return None
    return float(np.polyfit(x, y, 1)[0])


def format_table(result: dict) -> str:
    width = max([34] + [len(row["method"]) for row in result["rows"]])
    lines = [
        f"denoise on {result['dataset']} ({result['images']} images"
        + (f", centre crop {result['crop']}" if result.get("crop") else "")
        + f"), protocol {result['protocol']}"
        + (
            f", black-level correction: {result['black_level_correction']}"
            if result.get("black_level_correction")
            else ""
        ),
        f"{'method':<{width}} {'profile':<12} {'ratio':>6} {'raw PSNR':>9} {'raw SSIM':>9} "
        f"{'sRGB PSNR':>10} {'sRGB SSIM':>10} {'s/img':>7} {'PSNR-DC':>8} {'BL pass':>8}",
    ]
    for row in result["rows"]:
        m = row["metrics"]
        passed = row.get("black_level_pass_through")
        lines.append(
            f"{row['method']:<{width}} {row['profile']:<12} {row['ratio']:>6g} {m['raw_psnr']:>9.2f} "
            f"{m['raw_ssim']:>9.4f} {m['srgb_psnr']:>10.2f} {m['srgb_ssim']:>10.4f} "
            f"{m['s_per_image']:>7.2f} {m.get('raw_psnr_dc', float('nan')):>8.2f} "
            + (f"{passed:>8.2f}" if passed is not None else f"{'-':>8}")
        )
    lines.extend(f"note: {note}" for note in result.get("notes", []))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# CLI (``tfraw eval denoise``; wired by tfraw.cli.eval)
# ----------------------------------------------------------------------------------------------


def _ratios(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"ratios must be > 0, got {text!r}")
    return values


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def add_denoise_parser(subparsers) -> argparse.ArgumentParser:
    """Adds ``denoise`` to the ``tfraw eval`` stage sub-parsers; returns the new parser."""
    parser = subparsers.add_parser(
        "denoise",
        help="raw PSNR/SSIM of classical and trained denoisers on synthetic low-light raws",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("--data", required=True, type=Path, help="folder of 8-bit sRGB images")
    parser.add_argument("--profile", default="SonyA7S2", help="noise profile (name or .json)")
    parser.add_argument(
        "--ratios", type=_ratios, default=list(DEFAULT_RATIOS), help="comma-separated ratios"
    )
    parser.add_argument("--methods", help="comma-separated classical methods (default: all)")
    parser.add_argument(
        "--model", action="append", default=[], help="a tfraw denoiser (.keras); repeatable"
    )
    parser.add_argument("--limit", type=_positive_int, metavar="N", help="first N images only")
    parser.add_argument("--crop", type=_positive_int, help="centre crop size in pixels")
    parser.add_argument("--customize", metavar="PROFILE", help="unseen profile to customize to")
    parser.add_argument("--custom-data", type=Path, help="photos for the synthetic pairs")
    parser.add_argument("--custom-pairs", type=_positive_int, default=6)
    parser.add_argument(
        "--custom-start", choices=("average", "deployed"), default=None,  # FINETUNE_STARTS
        help="where the customized alignment starts (default: tfraw-train's, "
        "FinetuneSettings.start)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the rows as JSON")
    parser.add_argument(
        "--self-ensemble", type=int, choices=(1, 2, 4, 8), default=1, metavar="N",
        help="also run each model averaged over N flips/transposes (an extra row per model)",
    )  # fmt: skip
    parser.add_argument(
        "--black-level-correction", nargs="?", const="profile", default=None,
        choices=BLACK_LEVEL_CORRECTIONS,
        help="subtract a black-level error from every method's input (a protocol variant; "
        "see the module doc): 'profile' (default), the calibrated error at the true K, or "
        "'dark-frame', the per-channel mean of a synthesized dark frame",
    )  # fmt: skip
    parser.set_defaults(_eval_run=run_denoise)
    return parser


def run_denoise(args) -> int:
    methods = None
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    result = evaluate_denoise(
        args.data,
        profile=args.profile,
        ratios=args.ratios,
        methods=methods,
        models=args.model,
        limit=args.limit,
        crop=args.crop,
        customize=args.customize,
        custom_data=args.custom_data,
        custom_pairs=args.custom_pairs,
        custom_steps=getattr(args, "custom_steps", (300, 600)),
        custom_start=getattr(args, "custom_start", None),
        log=print,
        self_ensemble=getattr(args, "self_ensemble", 1),
        black_level_correction=getattr(args, "black_level_correction", None),
    )
    print(format_table(result))
    if args.json:
        from tfraw.io.atomic import atomic_write

        args.json.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(args.json) as tmp:
            tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0
