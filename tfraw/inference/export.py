"""SavedModel export of stages and pipelines in the TF Serving layout ``<dir>/<name>/<version>/``.

Each export holds:

- the SavedModel, written by ``keras.export.ExportArchive``, with a ``serving_default`` signature
  on dynamic batch, height and width (inputs named as in the model's input dict, output
  ``"output"``) and named extra signatures: ``untiled`` for pipelines, ``compute_global`` for
  stages with a global part;
- ``assets/metadata.json``: stage(s), input/output kind and range, CFA, receptive field, config,
  training data, steps and metrics (``null`` for classical stages);
- ``assets/model.keras`` for stages (what a pipeline's ``model:`` entry loads);
- ``assets.extra/tf_serving_warmup_requests``: a TFRecord of ``PredictionLog`` warm-up requests
  (TF Serving replays them at load time), when tensorflow-serving-api is installed.

Pipelines are exported as ``render_<pipeline name>``; stages under their registry name.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfraw.inference.chain import CFA_FAMILIES, Chain, chain_input_signature, load_pipeline
from tfraw.stages import get_stage
from tfraw.stages.base import StageSpec

__all__ = [
    "PIPELINE_PREFIX",
    "export_pipeline",
    "export_pipelines",
    "export_stage",
    "read_metadata",
    "reexport_stage",
    "write_warmup_requests",
]

PIPELINE_PREFIX = "render_"
WARMUP_FILE = "tf_serving_warmup_requests"


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def read_metadata(export_dir: str | Path) -> dict[str, Any]:
    """``assets/metadata.json`` of an export."""
    return json.loads((Path(export_dir) / "assets" / "metadata.json").read_text())


def write_warmup_requests(
    export_dir: Path, model_name: str, inputs: dict[str, np.ndarray], count: int = 1
) -> Path | None:
    """Writes ``assets.extra/tf_serving_warmup_requests`` (needs tensorflow-serving-api)."""
    try:
        from tensorflow_serving.apis import prediction_log_pb2
    except ImportError:
        warnings.warn(
            "tensorflow-serving-api is not installed: no warm-up requests written "
            "(pip install 'tfraw[serving]')",
            stacklevel=2,
        )
        return None
    from tfraw.serving.client import predict_request

    path = export_dir / "assets.extra" / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for _ in range(count):
            request = predict_request(inputs, model_name)
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


def _version_dir(out_dir: Path, name: str, version: int) -> Path:
    if int(version) < 1:
        raise ValueError(f"export version must be a positive integer, got {version}")
    return Path(out_dir) / name / str(int(version))


def export_stage(
    spec: StageSpec | str,
    out_dir: str | Path = "saved_models",
    version: int = 1,
    model: keras.Model | None = None,
    training: dict[str, Any] | None = None,
    warmup: bool = True,
    name: str | None = None,
) -> Path:
    """Exports one stage to ``<out_dir>/<name>/<version>/`` (``name``: default the stage's).

    Args:
        spec: a :class:`StageSpec` or a registry name.
        out_dir: the models folder.
        version: positive integer version.
        model: a built (e.g. trained) model; default: the spec's default build.
        training: ``{"data": ..., "steps": ..., "metrics": {...}}`` for metadata.json.
        warmup: write TF Serving warm-up requests.
        name: the export's name (e.g. ``demosaic_bayer`` for a trained ``demosaic_nn_bayer``);
            metadata keeps the registry name under ``stage``.

    Returns:
        The version folder.
    """
    spec = get_stage(spec) if isinstance(spec, str) else spec
    name = name or spec.name
    model = model if model is not None else spec.build()
    path = _version_dir(Path(out_dir), name, version)
    archive = keras.export.ExportArchive()
    archive.track(model)
    signature = [spec.input_signature()]
    archive.add_endpoint(
        "serving_default", lambda inputs: {"output": model(inputs)}, input_signature=signature
    )
    if spec.has_global:
        image_only = {spec.image_key: signature[0][spec.image_key]}
        image_only.update({n: signature[0][n] for n in spec.metadata_inputs})
        archive.add_endpoint("compute_global", model.compute_global, input_signature=[image_only])
    archive.write_out(str(path), verbose=False)
    config = model.stage_config() if hasattr(model, "stage_config") else None
    training = training or {"data": None, "steps": None, "metrics": None}
    _write_json(
        path / "assets" / "metadata.json",
        {**spec.metadata(config), **training, "name": name, "version": int(version),
         "signatures": {"serving_default": {"inputs": list(spec.input_names), "outputs": ["output"]}}},
    )  # fmt: skip
    model.save(path / "assets" / "model.keras")
    if warmup:
        write_warmup_requests(path, name, spec.example_inputs(1, 32, 32))
    return path


def export_pipeline(
    pipeline,
    out_dir: str | Path = "saved_models",
    version: int | None = None,
    warmup: bool = True,
    chain: Chain | None = None,
    cfa: str | None = None,
) -> Path:
    """Exports a pipeline's chain to ``<out_dir>/render_<name>/<version>/``
    (``render_<name>_<cfa>`` for the chain of one CFA family, see :func:`export_pipelines`).

    The ``serving_default`` signature is the tiled chain (global pass + tiled local pass);
    ``untiled`` renders the image as one tile.
    """
    if chain is None:
        loaded = pipeline if not isinstance(pipeline, str) else load_pipeline(pipeline)
        chain = Chain(loaded, cfa=cfa)
    name = PIPELINE_PREFIX + chain.pipeline.name + (f"_{chain.cfa}" if chain.cfa else "")
    path = _version_dir(Path(out_dir), name, version or chain.pipeline.version)
    archive = keras.export.ExportArchive()
    for model in chain.models:
        archive.track(model)
    signature = [chain_input_signature()]
    archive.add_endpoint("serving_default", chain.render_tiled, input_signature=signature)
    archive.add_endpoint("untiled", chain.render_untiled, input_signature=signature)
    archive.write_out(str(path), verbose=False)
    _write_json(
        path / "assets" / "metadata.json",
        {**chain.metadata(), "name": name, "version": int(path.name),
         "data": None, "steps": None, "metrics": None,
         "signatures": {"serving_default": {"inputs": sorted(signature[0]), "outputs": ["output"]},
                        "untiled": {"inputs": sorted(signature[0]), "outputs": ["output"]}}},
    )  # fmt: skip
    if warmup:
        write_warmup_requests(path, name, chain.example_inputs(1, 32, 32))
    return path


def export_pipelines(pipeline, out_dir: str | Path = "saved_models", version: int | None = None,
                     warmup: bool = True) -> list[Path]:  # fmt: skip
    """Exports a pipeline: one SavedModel, or one per CFA family (``render_<name>_bayer``,
    ``render_<name>_xtrans``) when some of its stages are CFA-specific (e.g. a trained
    demosaicer per family)."""
    loaded = pipeline if not isinstance(pipeline, str) else load_pipeline(pipeline)
    families = CFA_FAMILIES if loaded.cfa_specific else (None,)
    return [export_pipeline(loaded, out_dir, version, warmup, cfa=family) for family in families]


def reexport_stage(export_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Writes an exported stage again with the current code, keeping its weights and metadata.

    For when weightless parts of a model change (e.g. the demosaicer's in-graph CFA phase
    alignment): ``assets/model.keras`` is loaded (layers rebuilt by the current classes, the
    trained weights restored), the SavedModel, ``model.keras`` and warm-up requests are written
    to a temporary folder beside it, and the folder is swapped in whole.

    Args:
        export_dir: ``<models>/<name>/<version>/`` written by :func:`export_stage`.
        out_dir: models folder to write to (default: the one ``export_dir`` is in, replaced).

    Returns:
        The version folder written.
    """
    import shutil
    import tempfile

    export_dir = Path(export_dir)
    meta = read_metadata(export_dir)
    model = keras.saving.load_model(export_dir / "assets" / "model.keras")
    from tfraw.stages import STAGES

    spec = STAGES.get(meta["stage"])
    if spec is None or not isinstance(model, spec.model_class):
        # Exports made before "stage" kept the registry name hold the export name there.
        spec = next(
            s for s in STAGES.values()
            if isinstance(model, s.model_class) and s.cfa == meta.get("cfa")
        )  # fmt: skip
    contract = set(spec.metadata(model.stage_config()))
    training = {
        k: v for k, v in meta.items() if k not in contract | {"name", "version", "signatures"}
    }
    version = int(meta["version"])
    target_root = Path(out_dir) if out_dir is not None else export_dir.parent.parent
    with tempfile.TemporaryDirectory(dir=target_root) as scratch:
        written = export_stage(spec, scratch, version, model=model, training=training,
                               warmup=(export_dir / "assets.extra").is_dir(), name=meta["name"])  # fmt: skip
        final = target_root / meta["name"] / str(version)
        final.parent.mkdir(parents=True, exist_ok=True)
        old = final.with_name(final.name + ".old")
        if final.exists():
            os.replace(final, old)
        os.replace(written, final)
        shutil.rmtree(old, ignore_errors=True)
    return final
