"""``tfraw eval denoise``: the benchmark harness on tiny self-made images."""

import argparse
import json

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.eval import denoise as ev
from tfraw.isp.noise import load_profile
from tfraw.stages.denoise import DenoiseModel


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kodak_like")
    yy, xx = np.mgrid[0:48, 0:64]
    for i in range(2):
        img = np.stack([xx / 64, yy / 48, 0.5 + 0.3 * np.sin(xx / (5 + i))], -1)
        (folder / f"im{i}.png").write_bytes(tf.io.encode_png((img * 255).astype(np.uint8)).numpy())
    return folder


def test_gat_is_unbiased_for_poisson_gaussian():
    rng = np.random.default_rng(0)
    k, sigma = 2.0, 3.0
    for electrons in (2.0, 20.0, 200.0):
        dn = k * rng.poisson(electrons, 200_000) + rng.normal(0, sigma, 200_000)
        d = ev.gat_forward(dn, k, sigma)
        assert abs(d.std() - 1.0) < 0.1
        # the mean of the transformed values inverts to the true mean (exact unbiased inverse)
        assert abs(ev.gat_inverse(np.array([d.mean()]), k, sigma)[0] / k - electrons) < (
            0.05 * electrons + 0.3
        )


def test_benchmark_rows_json_and_customization(images, tmp_path):
    model_path = tmp_path / "m.keras"
    DenoiseModel(base_channels=4, depth=1, num_cameras=2).save(model_path)
    parser = argparse.ArgumentParser()
    ev.add_denoise_parser(parser.add_subparsers())
    out = tmp_path / "rows.json"
    args = parser.parse_args(["denoise", "--data", str(images), "--ratios", "100",
                              "--limit", "1", "--methods", "noisy,wavelet", "--model", str(model_path),
                              "--json", str(out), "--crop", "32", "--customize", "CanonEOS700D",
                              "--custom-data", str(images), "--custom-pairs", "2",
                              "--self-ensemble", "2"])  # fmt: skip
    args.custom_steps = (1, 1)
    assert args._eval_run(args) == 0
    result = json.loads(out.read_text())
    assert result["stage"] == "denoise" and result["protocol"] == ev.PROTOCOL
    rows = {(r["method"], r["profile"], r["ratio"]): r["metrics"] for r in result["rows"]}
    assert ("wavelet", "SonyA7S2", 100.0) in rows
    assert (f"tfraw:{model_path}", "SonyA7S2", 100.0) in rows
    assert (f"tfraw:{model_path}", "CanonEOS700D", 100.0) in rows
    assert (f"tfraw:{model_path}+custom2", "CanonEOS700D", 100.0) in rows
    assert (f"tfraw:{model_path}+x2", "SonyA7S2", 100.0) in rows
    # the tuned classical denoiser improves on the noisy input at x100
    assert (
        rows[("wavelet", "SonyA7S2", 100.0)]["raw_psnr"]
        > rows[("noisy", "SonyA7S2", 100.0)]["raw_psnr"]
    )
    assert set(rows[("noisy", "SonyA7S2", 100.0)]) >= {
        "raw_psnr",
        "raw_ssim",
        "srgb_psnr",
        "srgb_ssim",
    }
    assert "wavelet" in ev.format_table(result)


def test_errors(images):
    with pytest.raises(InputError, match="ratios"):
        ev.evaluate_denoise(images, ratios=[0.0])
    with pytest.raises(InputError, match="unknown method"):
        ev.evaluate_denoise(images, methods=["median"], ratios=[1.0])
    parser = argparse.ArgumentParser()
    ev.add_denoise_parser(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["denoise", "--data", str(images), "--ratios", "-1"])


def test_black_level_correction_removes_the_profile_offset(images, tmp_path):
    # SonyA7S2 carries ELD's colour-bias table (about +1.5 or -1.0 DN at low K): at x100 it
    # shifts the noisy input by ~0.01, which the correction takes out for every method.
    kwargs = dict(ratios=[100.0], methods=["noisy"], limit=2, crop=32)
    plain = ev.evaluate_denoise(images, **kwargs)
    corrected = ev.evaluate_denoise(images, black_level_correction=True, **kwargs)
    assert not plain["black_level_correction"] and corrected["black_level_correction"]
    assert "black-level correction" in ev.format_table(corrected)
    before, after = (r["rows"][0]["metrics"]["raw_psnr"] for r in (plain, corrected))
    assert after > before + 0.2
    # the same profile without its colour-bias table: nothing to correct, identical inputs
    data = json.loads(load_profile("SonyA7S2").to_json())
    data.pop("color_bias")
    no_bias = tmp_path / "no_bias.json"
    no_bias.write_text(json.dumps(data))
    scores = [
        ev.evaluate_denoise(images, profile=str(no_bias), black_level_correction=flag, **kwargs)[
            "rows"
        ][0]["metrics"]["raw_psnr"]
        for flag in (False, True)
    ]
    assert scores[0] == scores[1]


def test_dark_frame_correction_measures_the_offset_and_dc_metrics(images):
    """The dark-frame variant estimates the offset from a synthesized lens-capped frame: close
    to the calibrated (oracle) correction; ``raw_mean_error`` of the uncorrected noisy input is
    the offset itself and ``raw_psnr_dc`` removes it."""
    from tfraw.isp.noise import black_level_offset, sample_noise_params

    kwargs = dict(ratios=[100.0], methods=["noisy"], limit=2, crop=32)
    results = {
        mode: ev.evaluate_denoise(images, black_level_correction=mode, **kwargs)["rows"][0]
        for mode in (None, "profile", "dark-frame")
    }
    metrics = {mode: row["metrics"] for mode, row in results.items()}
    assert metrics["dark-frame"]["raw_psnr"] > metrics[None]["raw_psnr"] + 0.2
    assert abs(metrics["dark-frame"]["raw_psnr"] - metrics["profile"]["raw_psnr"]) < 0.3
    offsets = [
        float(black_level_offset(sample_noise_params(tf.constant([i, 100_000]), "SonyA7S2"),
                                 ev.WHITE_MINUS_BLACK, 100.0))
        for i in range(2)
    ]  # fmt: skip
    assert metrics[None]["raw_mean_error"] == pytest.approx(np.mean(offsets), abs=2e-3)
    assert abs(metrics["profile"]["raw_mean_error"]) < 2e-3
    assert metrics[None]["raw_psnr_dc"] > metrics[None]["raw_psnr"] + 0.2
    parser = argparse.ArgumentParser()
    ev.add_denoise_parser(parser.add_subparsers())
    base = ["denoise", "--data", str(images)]
    assert parser.parse_args(base + ["--black-level-correction"]).black_level_correction == (
        "profile"
    )
    assert parser.parse_args(base).black_level_correction is None
    args = parser.parse_args(base + ["--black-level-correction", "dark-frame"])
    assert args.black_level_correction == "dark-frame"
    with pytest.raises(InputError, match="black-level correction"):
        ev.evaluate_denoise(images, black_level_correction="guess", **kwargs)


def test_black_level_pass_through_is_the_slope_of_mean_errors():
    inputs = [0.01, -0.005, 0.02, 0.0]
    assert ev._pass_through(inputs, inputs) == pytest.approx(1.0)  # the noisy row
    assert ev._pass_through(inputs, [0.002] * 4) == pytest.approx(0.0, abs=1e-9)  # removed
    assert ev._pass_through(inputs, [0.3 * v - 0.001 for v in inputs]) == pytest.approx(0.3)
    assert ev._pass_through(inputs[:2], inputs[:2]) is None  # too few images
    assert ev._pass_through([0.0] * 4, [0.1, 0.2, 0.3, 0.4]) is None  # no offset to follow
