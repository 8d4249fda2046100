"""``tfraw-train demosaic --config ... --set steps=2`` on a tiny synthetic photo folder."""

import json

import imageio.v3 as iio
import numpy as np
import pytest
import yaml

from tfraw.cli.main import main as tfraw_main
from tfraw.cli.train import apply_overrides, main


@pytest.fixture
def run_yaml(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        iio.imwrite(photos / f"p{i}.png", rng.integers(0, 256, (72, 84, 3), dtype=np.uint8))
    document = {
        "stage": "demosaic_nn_bayer",
        "config": {"width": 4, "depth": 1, "convs_per_level": 1, "data_dir": str(photos),
                   "cache_dir": str(tmp_path / "cache"), "patch_size": 24, "cache_patch": 32,
                   "cache_stride": 16, "batch_size": 2, "torture_count": 2},
        "train": {"steps": 50, "progress": False, "log_every": 1},
        "export": {"name": "demosaic_tiny", "version": 3},
    }  # fmt: skip
    path = tmp_path / "demosaic_tiny.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_train_resume_export_and_eval(run_yaml, tmp_path, capsys):
    run_dir = tmp_path / "run"
    args = ["demosaic", "--config", str(run_yaml), "--run-dir", str(run_dir)]
    assert main([*args, "--set", "steps=2"]) == 0
    assert (run_dir / "checkpoints" / "ckpt-2.index").exists()
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert resolved["train"]["steps"] == 2 and resolved["config"]["width"] == 4
    assert main([*args, "--set", "steps=2"]) == 2  # refuses to overwrite without --resume
    models = tmp_path / "models"
    assert main([*args, "--set", "train.steps=3", "--resume", "--export", str(models)]) == 0
    assert json.loads((run_dir / "run.json").read_text())["steps"] == 3
    export = models / "demosaic_tiny" / "3"
    meta = json.loads((export / "assets" / "metadata.json").read_text())
    assert meta["steps"] == 3 and meta["params"] > 0 and meta["macs_per_pixel"] > 0
    assert meta["hardware"].endswith("no GPU") or "GPU" in meta["hardware"]

    import tensorflow as tf

    serving = tf.saved_model.load(str(export)).signatures["serving_default"]
    for h, w in ((24, 36), (30, 18)):  # dynamic H, W
        out = serving(mosaic=tf.zeros((1, h, w, 1)), cfa_masks=tf.zeros((1, h, w, 3)))["output"]
        assert out.shape == (1, h, w, 3)

    capsys.readouterr()
    data = tmp_path / "photos"
    assert tfraw_main(["eval", "demosaic", "--data", str(data), "--methods", "bilinear",
                       "--model", str(export), "--no-shipped"]) == 0  # fmt: skip
    assert "| tfraw:demosaic_tiny/3 |" in capsys.readouterr().out


def test_wrong_stage_and_bad_override(run_yaml, capsys):
    assert main(["denoise", "--config", str(run_yaml)]) == 2
    assert main(["demosaic", "--config", str(run_yaml), "--set", "nope.x=1"]) == 2
    assert apply_overrides({"config": {}}, ["width=8", "steps=5"]) == {
        "config": {"width": 8},
        "train": {"steps": 5},
    }
