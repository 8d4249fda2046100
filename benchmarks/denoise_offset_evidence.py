"""How much does a noisy raw reveal of its own black-level error?

The denoising benchmark's Sony A7S2 profile adds ELD's per-K black-level error ("colour bias")
to every image: one number per image (the four channels agree to ~0.1 DN), times the ratio. This
script asks whether the noisy image carries it: for synthetic x``ratio`` raws of photos from
``--data`` (``train/``, never the benchmark), it computes global statistics of the packed image
(quantiles of 8x8 block means and variances, and the variance in bins of the darkest block
means: the photon-transfer curve, whose intercept moves with the offset) and fits a ridge
regression from them to the true offset on the training virtual cameras. The held-out RMSE is
printed beside the RMSE of the best constant (the training mean) and of zero. A predictor no
better than the constant means the statistics do not reveal the offset, and a denoiser cannot
do much better than a prior over cameras.

    python benchmarks/denoise_offset_evidence.py --data ../shared/data/train

Prints one JSON line per ridge strength.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

BLOCK = 8


def statistics(noisy: np.ndarray) -> np.ndarray:
    """Global statistics of one noisy RGGB mosaic (x ratio): block-mean and block-variance
    quantiles and the photon-transfer curve over the darkest half of the blocks."""
    packed = (noisy[0::2, 0::2] + noisy[0::2, 1::2] + noisy[1::2, 0::2] + noisy[1::2, 1::2]) / 4
    h, w = (packed.shape[0] // BLOCK) * BLOCK, (packed.shape[1] // BLOCK) * BLOCK
    blocks = packed[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).swapaxes(1, 2)
    blocks = blocks.reshape(-1, BLOCK * BLOCK)
    mean, var = blocks.mean(1), blocks.var(1)
    values = list(np.quantile(mean, [0.001, 0.01, 0.05, 0.1, 0.25, 0.5]))
    values += list(np.quantile(var, [0.01, 0.05, 0.1, 0.25, 0.5]))
    edges = np.quantile(mean, np.linspace(0.0, 0.5, 6))
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        chosen = (mean >= lo) & (mean <= hi)
        values += [float(np.median(var[chosen])), float(np.median(mean[chosen]))]
    return np.asarray(values, np.float64)


def main(argv: list[str] | None = None) -> int:
    import tensorflow as tf

    from tfraw.eval import denoise as ev
    from tfraw.isp.noise import black_level_offset, load_profile, sample_noise_params
    from tfraw.stages.denoise.config import DEFAULT_PROFILES
    from tfraw.stages.denoise.data import list_photos, make_virtual_cameras

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="photos (not the benchmark)")
    parser.add_argument("--ratio", type=float, default=100.0)
    parser.add_argument("--train", type=int, default=240, help="virtual-camera samples to fit")
    parser.add_argument("--test", type=int, default=60, help="held-out samples of each kind")
    parser.add_argument("--crop", type=int, default=384)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    cameras = make_virtual_cameras(DEFAULT_PROFILES, 8, 0, color_bias=True)
    sony = load_profile("SonyA7S2")
    photos = list_photos(args.data)
    rng = np.random.default_rng(args.seed)
    total = args.train + 2 * args.test
    features, offsets = [], []
    for n in range(total):
        clean, _ = ev._clean_raw(Path(photos[rng.integers(len(photos))]), 7000 + n, args.crop)
        camera = cameras[n % len(cameras)] if n < args.train + args.test else sony
        params = sample_noise_params(tf.constant([n, 3]), camera)
        offsets.append(float(black_level_offset(params, ev.WHITE_MINUS_BLACK, args.ratio)))
        noisy = ev._synthesize((n, 9), clean, params, args.ratio, None)
        features.append(statistics(noisy))
    x, y = np.asarray(features), np.asarray(offsets)
    fit = np.arange(args.train)
    mu, sd = x[fit].mean(0), x[fit].std(0) + 1e-12
    design = np.c_[(x - mu) / sd, np.ones(len(x))]
    held_out = {
        "virtual cameras": np.arange(args.train, args.train + args.test),
        "SonyA7S2": np.arange(args.train + args.test, total),
    }
    for strength in (0.1, 1.0, 10.0):
        a = design[fit]
        weights = np.linalg.solve(a.T @ a + strength * np.eye(a.shape[1]), a.T @ y[fit])
        row = {"ridge": strength, "ratio": args.ratio, "train": args.train}
        for name, index in held_out.items():
            predicted = design[index] @ weights
            row[name] = {
                "rmse_predicted": round(float(np.sqrt(np.mean((predicted - y[index]) ** 2))), 5),
                "rmse_constant": round(float(np.sqrt(np.mean((y[fit].mean() - y[index]) ** 2))), 5),
                "rmse_zero": round(float(np.sqrt(np.mean(y[index] ** 2))), 5),
            }
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
