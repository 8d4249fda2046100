"""Held-out validation CPSNR of demosaic models: choose between runs without touching Kodak24.

Kodak24 is the benchmark; decisions between architectures, checkpoints or recipes are taken on
the photos of ``../shared/data/train`` that the demosaic recipe holds out (every ``val_every``-th,
:func:`tfraw.stages.demosaic.list_training_images`), downsampled exactly as for training, centre
crops of ``--crop`` pixels, mosaicked at the model's CFA, with Kodak's protocol (uint8 round trip,
CPSNR, no border crop) and the stage's border rule::

    python benchmarks/val_demosaic.py --cfa xtrans saved_models/demosaic_xtrans/1 runs/xtrans_pack6
    python benchmarks/val_demosaic.py --cfa xtrans runs/xtrans_pack6@2250

A model is an export folder (``assets/model.keras``) or a training run folder (its
``config.yaml`` builds the model, ``checkpoints/`` gives the weights: the latest, or the one of
step N with ``RUN@N``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_model(spec: str):
    """``(label, model)`` from an export folder or ``RUN_DIR[@STEP]``."""
    import keras
    import yaml

    import tfraw.stages  # noqa: F401  (registers the classes)
    from tfraw.stages import get_stage
    from tfraw.train import find_keras_model, restore_run_checkpoint

    path, _, step = spec.partition("@")
    folder = Path(path)
    if (folder / "config.yaml").is_file() and (folder / "checkpoints").is_dir():
        document = yaml.safe_load((folder / "config.yaml").read_text())
        stage = get_stage(document["stage"])
        model = stage.build(stage.config_class.from_dict(document["config"]))
        checkpoint = restore_run_checkpoint(model, folder, step or None)
        return f"{folder.name}@{checkpoint.rsplit('-', 1)[-1]}", model
    return str(folder), keras.saving.load_model(find_keras_model(folder))


def validation_images(cfa: str, crop: int):
    """uint8 centre crops of the held-out photos, downsampled as for training."""
    import numpy as np
    from PIL import Image

    from tfraw.stages.demosaic import (
        DemosaicConfig,
        _area_downsample,
        _downsample_factor,
        list_training_images,
    )

    config = DemosaicConfig(cfa=cfa)
    images = []
    for path in list_training_images(config, "val"):
        with Image.open(path) as handle:
            rgb = np.asarray(handle.convert("RGB"), dtype=np.float32)
        rgb = _area_downsample(rgb, _downsample_factor(path, rgb.shape, config))
        h, w = rgb.shape[:2]
        size_y, size_x = min(crop, h) // 6 * 6, min(crop, w) // 6 * 6
        top, left = (h - size_y) // 2, (w - size_x) // 2
        image = rgb[top : top + size_y, left : left + size_x]
        images.append((path.name, np.clip(np.round(image), 0, 255).astype(np.uint8)))
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="export folders or RUN_DIR[@STEP]")
    parser.add_argument("--cfa", choices=("bayer", "xtrans"), default="xtrans")
    parser.add_argument("--crop", type=int, default=384, help="centre crop size (pixels)")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    from tfraw.isp import transfer
    from tfraw.isp.cfa import mosaic
    from tfraw.metrics import cpsnr_uint8
    from tfraw.stages.demosaic import demosaic_image

    pattern = "RGGB" if args.cfa == "bayer" else "XTRANS"
    images = validation_images(args.cfa, args.crop)
    print(f"{len(images)} held-out photos, centre crops <= {args.crop} px, CFA {pattern}")
    from tfraw.errors import TfrawError

    for spec in args.models:
        try:
            label, model = load_model(spec)
        except TfrawError as err:
            raise SystemExit(f"val_demosaic: {err}") from None
        config = model.stage_config()
        if config.cfa != args.cfa:
            raise SystemExit(f"{spec}: a {config.cfa} model, not {args.cfa}")
        margin = -(-config.receptive_field // 6) * 6
        scores = []
        for _, image in images:
            truth = image.astype(np.float32) / 255.0
            linear = transfer.srgb_to_linear(mosaic(truth[None], pattern))
            rgb = transfer.linear_to_srgb(demosaic_image(model, linear, pattern, margin))
            scores.append(float(cpsnr_uint8(rgb[0], tf.constant(truth), border=0)))
        print(f"{label}: {np.mean(scores):.3f} dB (median {np.median(scores):.2f})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
