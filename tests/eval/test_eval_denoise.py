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
