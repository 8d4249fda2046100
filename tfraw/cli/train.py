"""``tfraw-train``: train a stage from a YAML config.

Usage::

    tfraw-train demosaic --config pipelines/train/demosaic_bayer.yaml \\
        [--set key=value ...] [--run-dir DIR] [--resume] [--export DIR]

The YAML file describes the run entirely (BasicSR style)::

    stage: demosaic_bayer      # registry entry in tfraw.stages.STAGES
    config: {width: 32, ...}   # the stage's <Name>Config fields
    train: {steps: 4000, ...}  # tfraw.train.TrainConfig fields
    export: {name: demosaic_bayer, version: 1}   # optional, used by --export

``--set`` overrides one value (parsed as YAML): ``train.steps=2``, ``config.width=48``, or a
bare field name looked up in ``train`` then ``config`` (``steps=2``). The resolved config is
copied into the run folder (default ``runs/<yaml stem>``). ``--resume`` continues the run
folder's latest checkpoint; training can be stopped at any time (SIGTERM/SIGINT save a
checkpoint first).
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["apply_overrides", "export_trained", "load_run_config", "main", "train_stage"]

_SECTIONS = ("config", "train", "export")


def _error(message: str) -> int:
    print(f"tfraw-train: error: {message}", file=sys.stderr)
    return 2


def apply_overrides(document: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Applies ``key=value`` overrides (values parsed as YAML) to a run document (a copy)."""
    import yaml

    from tfraw.errors import InputError
    from tfraw.train import TrainConfig

    document = copy.deepcopy(document)
    for item in overrides:
        if "=" not in item:
            raise InputError(f"--set expects key=value, got {item!r}")
        key, text = item.split("=", 1)
        key = key.strip()
        value = yaml.safe_load(text)
        if "." in key:
            section, field = key.split(".", 1)
            if section not in _SECTIONS:
                raise InputError(f"--set {key}: unknown section {section!r}; known: {_SECTIONS}")
        else:
            field = key
            train_fields = {f for f in TrainConfig.__dataclass_fields__}
            if field in train_fields:
                section = "train"
            elif field == "stage":
                document["stage"] = value
                continue
            else:
                section = "config"
        document.setdefault(section, {})
        document[section] = dict(document[section] or {})
        document[section][field] = value
    return document


def load_run_config(path: str | os.PathLike, overrides: list[str] | None = None) -> dict[str, Any]:
    """Reads a training YAML and applies ``--set`` overrides; validates both configs.

    Returns:
        ``{"stage", "config", "train", "export"}`` with the stage config and train config
        fully resolved (every field, defaults included).
    """
    import yaml

    from tfraw.errors import InputError
    from tfraw.stages import get_stage
    from tfraw.train import TrainConfig

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--config {path}: no such file")
    document = yaml.safe_load(path.read_text()) or {}
    unknown = sorted(set(document) - {"stage", *_SECTIONS})
    if unknown:
        raise InputError(f"{path}: unknown top-level key(s) {unknown}; known: stage, {_SECTIONS}")
    document = apply_overrides(document, overrides or [])
    if "stage" not in document:
        raise InputError(f"{path}: missing 'stage:' (a name from tfraw.stages.STAGES)")
    spec = get_stage(document["stage"])
    if not spec.trainable:
        raise InputError(f"stage {spec.name!r} is not trainable")
    config = spec.make_config(document.get("config") or {})
    train = TrainConfig.from_dict(document.get("train") or {})
    export = {"name": spec.name, "version": 1, **(document.get("export") or {})}
    return {
        "stage": spec.name,
        "config": config.to_dict(),
        "train": train.to_dict(),
        "export": export,
    }


def _stage_loss(spec, config):
    module = sys.modules[spec.model_class.__module__]
    make_loss = getattr(module, "make_loss", None)
    return make_loss(config) if make_loss is not None else spec.loss


def make_trainer(resolved: dict[str, Any], run_dir: str | os.PathLike, resume: bool = False):
    """The :class:`~tfraw.train.Trainer` of a resolved run document, and its model builder
    (``() -> keras.Model`` under the current dtype policy)."""
    from tfraw.stages import get_stage
    from tfraw.train import TrainConfig, Trainer

    spec = get_stage(resolved["stage"])
    config = spec.config_class.from_dict(resolved["config"])
    train = TrainConfig.from_dict(resolved["train"])

    def dataset_fn(start: int):
        return spec.make_dataset(config, "train", train.seed, start=start)

    def val_dataset_fn(start: int):
        return spec.make_dataset(config, "val", train.seed, start=start)

    module = sys.modules[spec.model_class.__module__]
    prepare = getattr(module, "prepare_training_model", lambda model: model)

    def build_model():
        return prepare(spec.build(config))

    trainer = Trainer(
        build_model=build_model,
        loss_fn=_stage_loss(spec, config),
        dataset_fn=dataset_fn,
        config=train,
        run_dir=run_dir,
        resume=resume,
        resolved_config=resolved,
        val_dataset_fn=val_dataset_fn if train.val_every else None,
    )
    return trainer, build_model


def train_stage(resolved: dict[str, Any], run_dir: str | os.PathLike, resume: bool = False,
                until: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Trains the stage of a resolved run document; returns the trainer's ``run.json`` record."""
    from tfraw.train import float32_model

    trainer, build_model = make_trainer(resolved, run_dir, resume=resume)
    record = trainer.fit(until=until)
    record["model"] = float32_model(trainer.model, build_model)  # exports are float32
    return record


def export_trained(resolved: dict[str, Any], run_dir: str | os.PathLike, out_dir: str | os.PathLike,
                   model=None, metrics: dict | None = None, warmup: bool = False) -> Path:  # fmt: skip
    """Exports the run's latest checkpoint to ``<out_dir>/<export name>/<version>/``.

    ``assets/metadata.json`` gets the stage contract plus ``data``, ``steps``, ``schedule``,
    ``wall_seconds``, ``hardware``, ``params``, ``macs_per_pixel`` (when the stage module
    provides ``macs_and_params``) and ``metrics``.
    """
    import json

    from tfraw.inference.export import export_stage
    from tfraw.stages import get_stage
    from tfraw.train import restore_run_checkpoint

    spec = get_stage(resolved["stage"])
    config = spec.config_class.from_dict(resolved["config"])
    if model is None:
        model = spec.build(config)
        restore_run_checkpoint(model, run_dir)
    run_path = Path(run_dir) / "run.json"
    run = json.loads(run_path.read_text()) if run_path.exists() else {}
    init_path = Path(run_dir) / "init_from.json"
    init = json.loads(init_path.read_text()) if init_path.exists() else None
    module = sys.modules[spec.model_class.__module__]
    trained = model
    if hasattr(module, "export_model"):  # e.g. the denoiser folds its reparameterized blocks
        model = module.export_model(model)
    sizes = module.macs_and_params(model) if hasattr(module, "macs_and_params") else {}
    export = resolved.get("export") or {}

    training = {
        "data": {k: v for k, v in resolved["config"].items() if k in (
            "data_dir", "patch_size", "batch_size", "exposure_log2", "wb_range", "noise_std",
            "torture_ratio", "sharpness_fraction", "jpeg_downsample", "large_jpeg_downsample",
            "teacher_raw_dir", "val_every")},
        "steps": run.get("steps"),
        "schedule": resolved["train"],
        "wall_seconds": run.get("wall_seconds"),
        # A warm-started run: where its weights began, and the totals over both runs.
        **({"init_from": init,
            "total_steps": (init.get("total_steps") or init.get("steps") or 0)
            + (run.get("steps") or 0),
            "total_wall_seconds": (init.get("total_wall_seconds") or init.get("wall_seconds")
                                   or 0.0) + (run.get("wall_seconds") or 0.0)}
           if init else {}),
        "hardware": (run.get("hardware") or {}).get("description"),
        "hardware_detail": run.get("hardware"),
        "final_train_loss": run.get("last_loss"),
        **sizes,
        "metrics": metrics,
    }  # fmt: skip
    path = export_stage(spec, out_dir, int(export.get("version", 1)), model=model,
                        training=training, warmup=warmup, name=export.get("name", spec.name))  # fmt: skip
    if trained is not model:
        # The unfolded model too: customization (LED's few-shot phase) starts from it.
        trained.save(path / "assets" / "unfolded.keras")
    return path


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["denoise"] and "--finetune" in argv:
        # Few-shot camera customization has its own arguments (pairs list, pretrained model).
        from tfraw.stages.denoise import finetune_main

        return finetune_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="tfraw-train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("stage", help="the stage family to train (e.g. demosaic)")
    parser.add_argument("--config", required=True, help="training YAML (pipelines/train/...)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value (repeatable)")  # fmt: skip
    parser.add_argument("--run-dir", help="run folder (default runs/<config stem>)")
    parser.add_argument("--resume", action="store_true", help="continue the latest checkpoint")
    parser.add_argument(
        "--export", metavar="DIR", help="after training, export to DIR/<name>/<version>/"
    )
    args = parser.parse_args(argv)

    from tfraw.errors import InputError

    try:
        resolved = load_run_config(args.config, args.overrides)
    except InputError as err:
        return _error(str(err))
    family = resolved["stage"]
    if not (family == args.stage or family.startswith(args.stage + "_")):
        return _error(f"--config {args.config} trains stage {family!r}, not {args.stage!r}")
    run_dir = Path(args.run_dir or Path("runs") / Path(args.config).stem)
    try:
        record = train_stage(resolved, run_dir, resume=args.resume)
    except InputError as err:
        return _error(str(err))
    model = record.pop("model")
    print(f"trained {family}: {record['steps']} steps, {record['wall_seconds']:.0f} s, "
          f"last loss {record['last_loss']:.5f}; run folder {run_dir}")  # fmt: skip
    if args.export:
        path = export_trained(resolved, run_dir, args.export, model=model)
        print(f"exported {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
