"""Pipelines (``pipelines/render/*.yaml``) and the chain: one graph-compiled, tiled function.

A pipeline YAML names its stages in order, each a registered stage (``STAGES``) with optional
``config`` overrides, or a trained model (``model: NAME``, ``version: N``) with the classical
``fallback`` stage used, with a warning, when ``saved_models/NAME/N`` is missing::

    name: classical
    stages:
      - stage: demosaic_auto
      - stage: color_matrix
      - stage: srgb_encode
    tiling: {tile_size: 512, overlap: 16, tiles_per_batch: 8}
    output: {format: tiff16}

The chain's inputs are a dict of tensors (DESIGN.md: metadata travels with the image):

================ ===================== ==============================================
``mosaic``       float32 (B, H, W, 1)  normalized mosaic (unclipped)
``cfa_pattern``  int32 (B, 6, 6)       0 = R, 1 = G, 2 = B; a 2x2 Bayer tiled 3x3
``wb_gains``     float32 (B, 3)        white-balance gains
``cam_to_srgb``  float32 (B, 3, 3)     white-balanced camera RGB -> linear sRGB
================ ===================== ==============================================

and its output is ``{"output": (B, H, W, 3)}`` of the last stage's kind. One exported chain
therefore serves any camera. The global pass (stages with ``has_global``) runs first on a
thumbnail (per-colour block means of the mosaic, then the pipeline's non-mosaic stages); the local
stages then run tile by tile (:mod:`tfraw.inference.tiling`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError, MissingModelError
from tfraw.inference.tiling import (
    TilingConfig,
    band_apply,
    cfa_period,
    pattern_6x6,
    stream_bands,
    tiled_apply,
    untiled_apply,
)
from tfraw.stages import STAGES, get_stage
from tfraw.stages.base import METADATA, StageSpec

__all__ = [
    "CFA_FAMILIES",
    "CHAIN_INPUTS",
    "Chain",
    "Pipeline",
    "StageEntry",
    "cfa_family",
    "chain_input_signature",
    "inputs_from_raw",
    "list_pipelines",
    "load_pipeline",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINES_DIR = REPO_ROOT / "pipelines" / "render"
MODELS_DIR = REPO_ROOT / "saved_models"
DEFAULT_PIPELINE = "default"

#: Chain inputs: name -> (shape after the batch axis, dtype).
CHAIN_INPUTS: dict[str, tuple[tuple[int | None, ...], tf.DType]] = {
    "mosaic": ((None, None, 1), tf.float32),
    "cfa_pattern": ((6, 6), tf.int32),
    "wb_gains": ((3,), tf.float32),
    "cam_to_srgb": ((3, 3), tf.float32),
}


#: The CFA families a pipeline entry can be restricted to (``cfa:``).
CFA_FAMILIES = ("bayer", "xtrans")


def chain_input_signature() -> dict[str, tf.TensorSpec]:
    """The chain's dynamic-shape input signature (batch, height and width unknown)."""
    return {
        k: tf.TensorSpec((None, *shape), dtype, k) for k, (shape, dtype) in CHAIN_INPUTS.items()
    }


# ----------------------------------------------------------------------------------------------
# Pipelines
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class StageEntry:
    """One step of a pipeline: a registered ``stage`` (+ ``config``), or a trained ``model``."""

    stage: str
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    model: str | None = None
    version: int | None = None
    fallback: str | None = None
    #: ``bayer`` or ``xtrans``: the entry applies only to raws of that CFA family (a pipeline
    #: lists one demosaic model per family); ``None``: to every raw.
    cfa: str | None = None

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> StageEntry:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown or "stage" not in values:
            raise InputError(
                f"pipeline stage entry {dict(values)!r}: needs 'stage', allows {sorted(known)}"
            )
        entry = cls(**{**values, "config": dict(values.get("config") or {})})
        if entry.cfa not in (None, *CFA_FAMILIES):
            raise InputError(
                f"pipeline stage entry {dict(values)!r}: cfa must be one of {CFA_FAMILIES}"
            )
        get_stage(entry.stage)
        if entry.fallback is not None:
            get_stage(entry.fallback)
        return entry


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """An ordered list of stages, the tile geometry and the output encoding."""

    name: str
    stages: tuple[StageEntry, ...]
    tiling: TilingConfig = TilingConfig()
    output: Mapping[str, Any] = dataclasses.field(default_factory=lambda: {"format": "tiff16"})
    description: str = ""
    version: int = 1

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], name: str | None = None) -> Pipeline:
        values = dict(values)
        if not values.get("stages"):
            raise InputError(f"pipeline {name or values.get('name')!r} lists no stages")
        return cls(
            name=str(values.get("name") or name),
            stages=tuple(StageEntry.from_dict(s) for s in values["stages"]),
            tiling=TilingConfig(**(values.get("tiling") or {})),
            output=dict(values.get("output") or {"format": "tiff16"}),
            description=str(values.get("description", "")),
            version=int(values.get("version", 1)),
        )

    @property
    def cfa_specific(self) -> bool:
        """Whether some entries apply to one CFA family only (see :meth:`for_cfa`)."""
        return any(s.cfa is not None for s in self.stages)

    def for_cfa(self, family: str) -> Pipeline:
        """The pipeline for raws of one CFA family (``bayer`` or ``xtrans``): the entries with
        no ``cfa`` or with ``cfa == family``, in order."""
        if family not in CFA_FAMILIES:
            raise InputError(f"CFA family must be one of {CFA_FAMILIES}, got {family!r}")
        stages = tuple(s for s in self.stages if s.cfa in (None, family))
        return dataclasses.replace(self, stages=stages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "stages": [
                {k: v for k, v in dataclasses.asdict(s).items() if v not in (None, {})}
                for s in self.stages
            ],
            "tiling": dataclasses.asdict(self.tiling),
            "output": dict(self.output),
        }


def cfa_family(pattern) -> str:
    """``"xtrans"`` for a 6x6 CFA pattern, ``"bayer"`` for a 2x2 one."""
    return "xtrans" if np.asarray(pattern).shape == (6, 6) else "bayer"


def list_pipelines(directory: Path | None = None) -> list[str]:
    """Names of the pipelines in ``pipelines/render/``."""
    return sorted(p.stem for p in (directory or PIPELINES_DIR).glob("*.yaml"))


def load_pipeline(name_or_path: str | Path | None = None) -> Pipeline:
    """Loads ``pipelines/render/<name>.yaml`` (default: ``default``) or a YAML file path."""
    import yaml

    name_or_path = name_or_path or DEFAULT_PIPELINE
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = PIPELINES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise InputError(
            f"pipeline {str(name_or_path)!r} not found (looked for {path}); "
            f"known: {', '.join(list_pipelines()) or 'none'}"
        )
    return Pipeline.from_dict(yaml.safe_load(path.read_text()), name=path.stem)


# ----------------------------------------------------------------------------------------------
# The chain
# ----------------------------------------------------------------------------------------------


def _resolve_model(entry: StageEntry, models_dir: Path) -> tuple[StageSpec, Any, str]:
    """``(spec, keras model, source)`` of a pipeline entry, falling back when a model is missing."""
    if entry.model is None:
        spec = get_stage(entry.stage)
        return spec, spec.build(entry.config), f"classical:{spec.name}"
    base = models_dir / entry.model
    versions = (
        sorted(int(p.name) for p in base.glob("*") if p.name.isdigit()) if base.is_dir() else []
    )
    version = entry.version if entry.version is not None else (versions[-1] if versions else None)
    keras_file = base / str(version) / "assets" / "model.keras"
    if version is not None and keras_file.is_file():
        import keras

        return (
            get_stage(entry.stage),
            keras.saving.load_model(keras_file),
            f"tfraw:{entry.model}/{version}",
        )
    if entry.fallback is None:
        raise MissingModelError(
            f"model {entry.model!r} version {entry.version} not found under {base} and the "
            "pipeline names no fallback"
        )
    warnings.warn(
        f"model {entry.model}/{entry.version or 'latest'} not found under {models_dir}; "
        f"falling back to the classical stage {entry.fallback!r}",
        stacklevel=3,
    )
    spec = get_stage(entry.fallback)
    return spec, spec.build(), f"classical:{spec.name} (fallback)"


def thumbnail_rgb(mosaic: tf.Tensor, pattern6: tf.Tensor, factor: int) -> tf.Tensor:
    """Per-colour means over ``factor x factor`` blocks (``factor`` a multiple of 6).

    A strided convolution with the block's colour masks as kernel: no image-sized temporaries.

    Returns:
        float32 ``(B, H // factor, W // factor, 3)`` linear camera RGB.
    """

    def one(args):
        image, pattern = args
        colours = tf.one_hot(tf.tile(pattern, [factor // 6, factor // 6]), 3, dtype=tf.float32)
        kernel = colours / tf.reduce_sum(colours, axis=(0, 1))
        return tf.nn.conv2d(image[tf.newaxis], kernel[:, :, tf.newaxis, :], factor, "VALID")[0]

    return tf.map_fn(one, (mosaic, pattern6), fn_output_signature=tf.TensorSpec([None, None, 3]))


class Chain(tf.Module):
    """A pipeline as one function: global pass on a thumbnail, then the tiled local pass.

    Args:
        pipeline: a :class:`Pipeline` or the name of one in ``pipelines/render``.
        models_dir: where ``model:`` entries are looked up (default ``saved_models/``).
        jit_compile: compile the ``tf.function`` with XLA.
        thumbnail_size: long side of the global pass's thumbnail (about).
        cfa: ``bayer`` or ``xtrans``: keep the pipeline's entries for that CFA family
            (required when the pipeline has ``cfa:`` entries; the chain then serves only raws
            of that family).

    Example:
        >>> chain = Chain("classical")
        >>> out = chain.tiled(chain.example_inputs(1, 40, 60))["output"]
        >>> out.shape
        TensorShape([1, 40, 60, 3])
    """

    def __init__(
        self,
        pipeline: Pipeline | str | Path | None = None,
        models_dir: Path | None = None,
        jit_compile: bool = False,
        thumbnail_size: int = 256,
        cfa: str | None = None,
    ):
        super().__init__(name="chain")
        if not isinstance(pipeline, Pipeline):
            pipeline = load_pipeline(pipeline)
        if cfa is not None:
            pipeline = pipeline.for_cfa(cfa)
        elif pipeline.cfa_specific:
            raise InputError(
                f"pipeline {pipeline.name!r} has CFA-specific stages: build its chain with "
                f"cfa='bayer' or cfa='xtrans'"
            )
        self.cfa = cfa
        self.pipeline = pipeline
        resolved = [_resolve_model(e, Path(models_dir or MODELS_DIR)) for e in pipeline.stages]
        self.specs = [r[0] for r in resolved]
        self.models = [r[1] for r in resolved]
        self.sources = [r[2] for r in resolved]
        self._check_kinds()
        #: Border rule of the mosaic stages (``StageSpec.mosaic_border`` of the first stage).
        self.cfa_reflect = bool(self.specs) and self.specs[0].mosaic_border == "cfa_reflect"
        self.receptive_field = sum(
            m.stage_config().receptive_field if hasattr(m, "stage_config") else s.receptive_field()
            for s, m in zip(self.specs, self.models, strict=True)
        )
        configs = [m.stage_config() for m in self.models if hasattr(m, "stage_config")]
        self.tile_multiple = math.lcm(1, *(int(c.tile_multiple) for c in configs))
        self.tiling = pipeline.tiling.with_margin(self.receptive_field).aligned(self.tile_multiple)
        self.thumbnail_size = int(thumbnail_size)
        self.has_global = any(s.has_global for s in self.specs)
        signature = [chain_input_signature()]
        self.tiled = tf.function(
            self.render_tiled, input_signature=signature, jit_compile=jit_compile
        )
        self.untiled = tf.function(
            self.render_untiled, input_signature=signature, jit_compile=jit_compile
        )

    # -- structure -------------------------------------------------------------------------------
    def _check_kinds(self) -> None:
        kind = "mosaic"
        for spec in self.specs:
            if spec.input_kind != kind:
                raise InputError(
                    f"pipeline {self.pipeline.name!r}: stage {spec.name!r} takes {spec.input_kind} "
                    f"but receives {kind}"
                )
            kind = spec.output_kind
        self.output_kind = kind

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.specs]

    def metadata(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline.to_dict(),
            "stages": [
                {
                    **s.metadata(m.stage_config() if hasattr(m, "stage_config") else None),
                    "source": src,
                }
                for s, m, src in zip(self.specs, self.models, self.sources, strict=True)
            ],
            "input_kind": "mosaic",
            "output_kind": self.output_kind,
            "receptive_field": self.receptive_field,
            "margin": self.tiling.margin,
            "inputs": {k: [None, *v[0]] for k, v in CHAIN_INPUTS.items()},
        }

    # -- the computation -------------------------------------------------------------------------
    def _apply_stages(self, image, masks, valid, per_image, skip_mosaic: bool = False):
        """Runs the stages on tiles (or a thumbnail when ``skip_mosaic``)."""
        radii = [s.receptive_field() for s in self.specs]
        for index, (spec, model) in enumerate(zip(self.specs, self.models, strict=True)):
            if skip_mosaic and spec.input_kind == "mosaic":
                continue
            inputs = {spec.image_key: image}
            for name in spec.metadata_inputs:
                inputs[name] = masks if name == "cfa_masks" else per_image[name]
            for name in spec.global_outputs:
                inputs[name] = per_image[name]
            image = model(inputs)
            # Later stages that look at neighbours see zeros outside the image, as they would
            # untiled (SAME padding): keeps chain == stage-by-stage at the borders.
            if valid is not None and any(radii[index + 1 :]):
                image = image * valid
        return image

    def _global_pass(self, inputs: dict) -> dict:
        """Global tensors of the stages with a global part, computed on a thumbnail."""
        if not self.has_global:
            return {}
        shape = tf.shape(inputs["mosaic"])
        longest = tf.maximum(shape[1], shape[2])
        shortest = tf.minimum(shape[1], shape[2])
        factor = 6 * tf.maximum(1, longest // (6 * self.thumbnail_size))
        factor = tf.maximum(6, tf.minimum(factor, 6 * (shortest // 6)))
        # conv2d needs a static stride: pick among a few factors with a switch.
        factors = [6 * k for k in (1, 2, 4, 8, 16, 32, 64)]
        branch = tf.reduce_sum(tf.cast(tf.constant(factors) <= factor, tf.int32)) - 1
        thumb = tf.switch_case(
            branch,
            [
                (lambda f=f: thumbnail_rgb(inputs["mosaic"], inputs["cfa_pattern"], f))
                for f in factors
            ],
        )
        per_image = {k: inputs[k] for k in ("wb_gains", "cam_to_srgb")}
        image = tf.ensure_shape(thumb, [None, None, None, 3])
        results: dict = {}
        for spec, model in zip(self.specs, self.models, strict=True):
            if spec.input_kind == "mosaic":
                continue
            if spec.has_global:
                stage_inputs = {spec.image_key: image}
                stage_inputs.update({n: per_image[n] for n in spec.metadata_inputs})
                results.update(model.compute_global(stage_inputs))
                per_image = {**per_image, **results}
            stage_inputs = {spec.image_key: image}
            stage_inputs.update(
                {n: per_image[n] for n in (*spec.metadata_inputs, *spec.global_outputs)}
            )
            image = model(stage_inputs)
        return results

    def _per_image(self, inputs: dict) -> tuple[dict, tf.Tensor, tf.Tensor]:
        mosaic = tf.convert_to_tensor(inputs["mosaic"], tf.float32)
        pattern6 = tf.convert_to_tensor(inputs["cfa_pattern"], tf.int32)
        per_image = {
            k: tf.convert_to_tensor(inputs[k], tf.float32)
            for k in METADATA
            if k in inputs and k != "cfa_masks"
        }
        per_image.setdefault("ratio", _unit_ratio(mosaic))
        per_image.update(self._global_pass({**inputs, "mosaic": mosaic, "cfa_pattern": pattern6}))
        return per_image, mosaic, pattern6

    def _local_fn(self, tiles, masks, valid, per_image):
        return self._apply_stages(tiles, masks, valid, per_image)

    def render_tiled(self, inputs: dict) -> dict:
        """Tiled render (eager, or graph via :attr:`tiled`). Returns ``{"output": (B, H, W, C)}``."""
        per_image, mosaic, pattern6 = self._per_image(inputs)
        out = tiled_apply(
            self._local_fn, mosaic, pattern6, per_image, self.tiling, self.cfa_reflect
        )
        return {"output": out}

    def render_untiled(self, inputs: dict) -> dict:
        """The whole image as one tile (the reference of the tiled == untiled tests)."""
        per_image, mosaic, pattern6 = self._per_image(inputs)
        out = untiled_apply(
            self._local_fn, mosaic, pattern6, per_image, self.tiling.margin, self.cfa_reflect
        )
        return {"output": out}

    # -- streaming -------------------------------------------------------------------------------
    def _band(
        self, band, src_rows, valid_rows, ramp_top, ramp_bottom, stride_y, x_tile0, x_tiles,
        width, metadata,
    ):  # fmt: skip
        per_image = {k: metadata[k] for k in ("wb_gains", "cam_to_srgb")}
        per_image["ratio"] = _unit_ratio(band)
        return band_apply(
            self._local_fn, band, src_rows, valid_rows, metadata["cfa_pattern"], per_image, width,
            self.tiling, ramp_top, ramp_bottom, stride_y, x_tile0, x_tiles,
            cfa_reflect=self.cfa_reflect,
        )  # fmt: skip

    @property
    def band_function(self):
        """One ``tf.function`` rendering a row of tiles, traced once for every image size."""
        if getattr(self, "_band_fn", None) is None:
            meta = chain_input_signature()
            self._band_fn = tf.function(
                self._band,
                input_signature=[
                    tf.TensorSpec([None, None, None, 1], tf.float32),
                    tf.TensorSpec([None], tf.int32),
                    tf.TensorSpec([None], tf.bool),
                    tf.TensorSpec([], tf.bool),
                    tf.TensorSpec([], tf.bool),
                    tf.TensorSpec([], tf.int32),
                    tf.TensorSpec([], tf.int32),
                    tf.TensorSpec([], tf.int32),
                    tf.TensorSpec([], tf.int32),
                    {k: meta[k] for k in ("cfa_pattern", "wb_gains", "cam_to_srgb")},
                ],
            )
        return self._band_fn

    def stream(self, read_rows, height: int, width: int, metadata: dict):
        """Renders band by band: yields ``(y0, rows (B, h, W, C))``; memory is one tile row.

        ``read_rows(indices) -> (B, len(indices), W, 1)`` reads mosaic rows; ``metadata`` holds
        ``cfa_pattern``, ``wb_gains``, ``cam_to_srgb`` (with the batch axis). Pipelines with a
        global stage need the thumbnail first: not supported when streaming yet.
        """
        if self.has_global:
            raise InputError(
                f"pipeline {self.pipeline.name!r} has a global stage; streaming needs a "
                "thumbnail pass first, which is not implemented: use Chain.tiled"
            )
        meta = {
            "cfa_pattern": tf.constant(metadata["cfa_pattern"], tf.int32),
            "wb_gains": tf.constant(metadata["wb_gains"], tf.float32),
            "cam_to_srgb": tf.constant(metadata["cam_to_srgb"], tf.float32),
        }
        fn = self.band_function
        width_t = tf.constant(int(width), tf.int32)

        def band_fn(*args):
            return fn(*args, width_t, meta)

        period = int(cfa_period(meta["cfa_pattern"]))
        yield from stream_bands(
            band_fn, read_rows, height, width, self.tiling, period, self.cfa_reflect
        )

    # -- convenience -----------------------------------------------------------------------------
    def example_inputs(
        self, batch: int = 1, height: int = 32, width: int = 32, seed: int = 0, cfa="RGGB"
    ):
        """Deterministic dummy chain inputs (tests, warm-up requests)."""
        rng = np.random.default_rng(seed)
        return {
            "mosaic": rng.uniform(0.0, 1.0, (batch, height, width, 1)).astype(np.float32),
            "cfa_pattern": np.tile(pattern_6x6(cfa)[None], (batch, 1, 1)).astype(np.int32),
            "wb_gains": np.tile(np.array([[2.0, 1.0, 1.5]], np.float32), (batch, 1)),
            "cam_to_srgb": np.tile(
                np.array([[1.6, -0.4, -0.2], [-0.2, 1.5, -0.3], [0.0, -0.5, 1.5]], np.float32)[
                    None
                ],
                (batch, 1, 1),
            ),
        }

    def render_raw(self, raw, tiled: bool = True) -> np.ndarray:
        """Renders a :class:`tfraw.io.RawImage`; returns float32 ``(H, W, C)``."""
        inputs = {k: tf.constant(v) for k, v in inputs_from_raw(raw).items()}
        fn = self.tiled if tiled else self.untiled
        return fn(inputs)["output"][0].numpy()


def _unit_ratio(mosaic: tf.Tensor) -> tf.Tensor:
    """``ratio`` (B,) = 1: the chain renders the raw as recorded (no digital gain); a denoiser
    with a noise-level input (``DenoiseConfig.ratio_input``) reads it."""
    return tf.ones(tf.shape(mosaic)[:1], tf.float32)


def inputs_from_raw(raw) -> dict[str, np.ndarray]:
    """The chain's input dict (batch of one) from a :class:`tfraw.io.RawImage`."""
    from tfraw.render import camera_to_srgb_or_identity

    mosaic = np.asarray(raw.mosaic, np.float32)
    if mosaic.ndim != 2:
        raise InputError(f"raw mosaic must be (H, W), got shape {mosaic.shape}")
    if not np.all(np.isfinite(mosaic)):
        raise InputError(
            f"{getattr(raw, 'path', None) or 'raw image'}: mosaic holds NaN/Inf values"
        )
    return {
        "mosaic": mosaic[None, :, :, None],
        "cfa_pattern": pattern_6x6(raw.cfa_pattern)[None].astype(np.int32),
        "wb_gains": np.asarray(raw.wb_gains, np.float32).reshape(1, 3),
        "cam_to_srgb": camera_to_srgb_or_identity(raw).reshape(1, 3, 3),
    }


def registered_stage_names() -> list[str]:
    return sorted(STAGES)
