import argparse
import json

import imageio.v3 as iio
import numpy as np
import pytest

from tfraw.errors import InputError
from tfraw.eval.demosaic import evaluate_demosaic, format_table


def _smooth_image(seed: int, height: int = 40, width: int = 48) -> np.ndarray:
    """Natural-like: smooth luminance detail shared by the channels, plus a slow colour cast."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    luminance = np.zeros((height, width))
    for _ in range(6):
        fy, fx = rng.uniform(-0.12, 0.12, 2)
        luminance += rng.uniform(0.03, 0.08) * np.cos(2 * np.pi * (fy * y + fx * x) + rng.random())
    cast = np.stack([0.5 + 0.1 * np.sin(x / 30 + c) for c in range(3)], axis=-1)
    image = cast + luminance[..., None] * rng.uniform(0.8, 1.2, 3)
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


@pytest.fixture
def folder(tmp_path):
    data = tmp_path / "tiny_set"
    data.mkdir()
    for i in range(2):
        iio.imwrite(data / f"img{i}.png", _smooth_image(i))
    return data


def test_rows_and_ranking(folder):
    pytest.importorskip("rawpy")
    methods = ["bilinear", "malvar", "libraw:LINEAR", "libraw:AHD"]
    result = evaluate_demosaic(folder, "bayer", methods=methods, progress=False)
    rows = {row["method"]: row for row in result["rows"]}
    assert list(rows) == methods
    assert result["images"] == 2 and result["dataset"] == "tiny_set"
    assert rows["bilinear"]["metrics"]["cpsnr"] < rows["malvar"]["metrics"]["cpsnr"]
    # LibRaw's LINEAR is the same bilinear interpolation away from the borders.
    assert rows["libraw:LINEAR"]["metrics"]["cpsnr_border10"] == pytest.approx(
        rows["bilinear"]["metrics"]["cpsnr_border10"], abs=0.3
    )
    table = format_table(result)
    for name in methods:
        assert f"| {name} |" in table


def test_extra_model_and_xtrans(folder):
    def perfect_cheat(mosaic, pattern):  # returns a constant grey: a very bad "model"
        return np.full(mosaic.shape[:3] + (3,), 0.5, np.float32)

    result = evaluate_demosaic(
        folder,
        "xtrans",
        methods=["xtrans"],
        limit=1,
        extra_models=[("tfraw:grey/1", perfect_cheat, 12)],
        progress=False,
    )
    model_row = result["rows"][-1]
    assert model_row["kind"] == "tfraw" and model_row["params"] == 12
    assert model_row["metrics"]["cpsnr"] < result["rows"][0]["metrics"]["cpsnr"]
    assert result["images"] == 1 and result["pattern"] == "XTRANS"


def test_cli_json_shape(folder, tmp_path, capsys):
    from tfraw.cli import eval as eval_cli

    parser = argparse.ArgumentParser(prog="tfraw eval")
    eval_cli.add_parser(parser)
    out = tmp_path / "out" / "demosaic.json"
    args = parser.parse_args(
        ["demosaic", "--data", str(folder), "--methods", "bilinear,malvar", "--json", str(out)]
    )
    assert eval_cli.run(args) == 0
    assert "| malvar | classical |" in capsys.readouterr().out
    document = json.loads(out.read_text())
    assert document["stage"] == "demosaic"
    assert document["dataset"] == "tiny_set"
    assert document["protocol"] == "cpsnr-uint8-border0"
    for row in document["rows"]:
        assert set(row) >= {"method", "kind", "metrics"}
        assert set(row["metrics"]) == {"cpsnr", "cpsnr_border10", "mp_per_s"}
    assert eval_cli.run(parser.parse_args([])) == 2


def test_errors(folder, tmp_path):
    with pytest.raises(InputError, match="unknown demosaic method"):
        evaluate_demosaic(folder, "bayer", methods=["nope"], progress=False)
    with pytest.raises(InputError, match="malvar"):
        evaluate_demosaic(folder, "xtrans", methods=["malvar"], progress=False)
    with pytest.raises(InputError, match="cfa"):
        evaluate_demosaic(folder, "quad", progress=False)
    with pytest.raises(InputError, match="no .* images"):
        evaluate_demosaic(tmp_path, "bayer")


@pytest.mark.parametrize("cfa, suffix", [("bayer", "+x8"), ("xtrans", "+x2")])
def test_cli_self_ensemble_rows_for_the_shipped_models(folder, cfa, suffix, capsys):
    """``--self-ensemble 8`` adds a row per model; X-Trans admits only 2 of the 8 symmetries."""
    from pathlib import Path

    from tfraw.cli import eval as eval_cli

    shipped = Path(__file__).resolve().parents[2] / "saved_models" / f"demosaic_{cfa}" / "1"
    parser = argparse.ArgumentParser(prog="tfraw eval")
    eval_cli.add_parser(parser)
    args = parser.parse_args(
        ["demosaic", "--data", str(folder), "--cfa", cfa, "--methods", "bilinear", "--limit", "1",
         "--no-shipped", "--model", str(shipped), "--self-ensemble", "8"]
    )  # fmt: skip
    assert eval_cli.run(args) == 0
    table = capsys.readouterr().out
    assert f"| tfraw:demosaic_{cfa}/1 |" in table
    assert f"| tfraw:demosaic_{cfa}/1{suffix} |" in table
