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
) -> Path:
    """Exports one stage to ``<out_dir>/<stage name>/<version>/``.

    Args:
        spec: a :class:`StageSpec` or a registry name.
        out_dir: the models folder.
        version: positive integer version.
        model: a built (e.g. trained) model; default: the spec's default build.
        training: ``{"data": ..., "steps": ..., "metrics": {...}}`` for metadata.json.
        warmup: write TF Serving warm-up requests.

    Returns:
        The version folder.
    """
    spec = get_stage(spec) if isinstance(spec, str) else spec
    model = model if model is not None else spec.build()
    path = _version_dir(Path(out_dir), spec.name, version)
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
        {**spec.metadata(config), **training, "name": spec.name, "version": int(version),
         "signatures": {"serving_default": {"inputs": list(spec.input_names), "outputs": ["output"]}}},
    )  # fmt: skip
    model.save(path / "assets" / "model.keras")
    if warmup:
        write_warmup_requests(path, spec.name, spec.example_inputs(1, 32, 32))
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
