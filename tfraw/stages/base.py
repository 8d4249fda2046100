"""The stage contract: :class:`StageConfig`, :class:`StageSpec` and the tensor kinds a stage maps.

Every stage, classical or neural, is a ``keras.Model`` called on a dict of tensors and returning
one image tensor ``(B, H, W, C)``. The dict holds the image under :func:`image_key` of the
stage's input kind plus the per-image metadata the stage names in ``StageSpec.metadata_inputs``
(DESIGN.md: "Metadata travels with the image as a dict of tensors"):

============== =================== ======================================================
name           shape               meaning
============== =================== ======================================================
``mosaic``     ``(B, H, W, 1)``    normalized raw mosaic, ``(raw - black) / (white - black)``
``rgb``        ``(B, H, W, 3)``    an RGB image of the stage's input kind
``cfa_masks``  ``(B, H, W, 3)``    one-hot colour of every pixel (0 = R, 1 = G, 2 = B); zero
                                   outside the image (pixels that do not exist do not vote)
``wb_gains``   ``(B, 3)``          white-balance gains (camera RGB)
``cam_to_srgb`` ``(B, 3, 3)``      white-balanced camera RGB -> linear sRGB matrix
``ratio``      ``(B,)``            digital gain (exposure ratio) already applied to the
                                   mosaic; 1 when the chain is not given one
============== =================== ======================================================

The CFA enters stages as colour *masks*, not as a pattern: one code path serves every Bayer
phase and X-Trans, the chain computes the masks per tile from a ``(B, 6, 6)`` pattern tensor
(:mod:`tfraw.inference.tiling`), and a stage never needs to know where its tile sits.

Stages with a global part (``StageSpec.has_global``) implement ``compute_global(inputs) ->
dict`` on a thumbnail; the returned small tensors are passed to ``call`` under the names in
``StageSpec.global_outputs``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import keras
import numpy as np

from tfraw.errors import InputError

__all__ = [
    "KINDS",
    "KIND_CHANNELS",
    "KIND_RANGE",
    "METADATA",
    "StageConfig",
    "StageSpec",
    "image_key",
    "l1_loss",
]

#: The image kinds a stage consumes or produces, in pipeline order.
KINDS: tuple[str, ...] = ("mosaic", "linear_camera_rgb", "linear_srgb", "display_srgb")
KIND_CHANNELS: dict[str, int] = {
    "mosaic": 1,
    "linear_camera_rgb": 3,
    "linear_srgb": 3,
    "display_srgb": 3,
}
#: Nominal value range of each kind; linear kinds are never clipped (above 1 = highlights).
KIND_RANGE: dict[str, tuple[float, float | None]] = {
    "mosaic": (0.0, None),
    "linear_camera_rgb": (0.0, None),
    "linear_srgb": (0.0, None),
    "display_srgb": (0.0, 1.0),
}
#: Per-image metadata tensors: name -> (shape after the batch axis, spatial?). Spatial entries
#: have the image's ``(H, W)`` and are cut into tiles with it; the others are repeated per tile.
METADATA: dict[str, tuple[tuple[int | None, ...], bool]] = {
    "cfa_masks": ((None, None, 3), True),
    "wb_gains": ((3,), False),
    "cam_to_srgb": ((3, 3), False),
    "ratio": ((), False),
}


def image_key(kind: str) -> str:
    """The input-dict key of the image of ``kind``: ``"mosaic"`` for mosaics, else ``"rgb"``."""
    if kind not in KINDS:
        raise InputError(f"unknown image kind {kind!r}; known: {', '.join(KINDS)}")
    return "mosaic" if kind == "mosaic" else "rgb"


@keras.saving.register_keras_serializable(package="tfraw")
def l1_loss(y_true, y_pred):
    """Element-wise absolute error, averaged over everything but the batch (Keras loss shape)."""
    return keras.ops.mean(keras.ops.abs(y_pred - y_true), axis=(1, 2, 3))


@dataclasses.dataclass(frozen=True)
class StageConfig:
    """Base of every ``<Name>Config``: a frozen, validated dataclass that round-trips to JSON/YAML.

    Subclasses add hyperparameter fields and override :meth:`validate` and
    :attr:`receptive_field`. The I/O contract (kinds, range, CFA) lives on the :class:`StageSpec`
    and is written into every export's ``metadata.json``.
    """

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raises :class:`~tfraw.errors.InputError` naming the bad value; default: no checks."""

    @property
    def receptive_field(self) -> int:
        """Radius in pixels: an output pixel depends on inputs at most this far along each axis."""
        return 0

    @property
    def tile_multiple(self) -> int:
        """Tiles must start on multiples of this (a network's total down-sampling, or a CFA
        period for packed inputs) so every tile sees the same grid phase as the whole image;
        the chain rounds tile size, overlap and margin up to the lcm over its stages."""
        return 1

    def to_dict(self) -> dict[str, Any]:
        """Plain ``{field: value}`` dict (JSON/YAML-safe)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> StageConfig:
        """Builds a config from a dict, rejecting unknown keys (with the known ones listed)."""
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"{cls.__name__}: unknown field(s) {unknown}; known: {sorted(known)}")
        for f in dataclasses.fields(cls):
            if f.name in values and isinstance(values[f.name], list):
                values[f.name] = tuple(values[f.name])
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StageConfig:
        return cls.from_dict(json.loads(text))

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=True)

    @classmethod
    def from_yaml(cls, text: str) -> StageConfig:
        import yaml

        return cls.from_dict(yaml.safe_load(text))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


#: What a mosaic stage sees beyond the image borders (:attr:`StageSpec.mosaic_border`).
MOSAIC_BORDERS = ("missing", "cfa_reflect")


@dataclasses.dataclass(frozen=True)
class StageSpec:
    """Everything the CLI, the chain, export and the contract tests need to know about a stage.

    Attributes:
        name: registry key in :data:`tfraw.stages.STAGES` (``"demosaic_malvar"``).
        config_class: the stage's :class:`StageConfig` subclass.
        model_class: the ``keras.Model`` subclass; ``model_class.from_stage_config(config)``
            builds it.
        input_kind, output_kind: one of :data:`KINDS`.
        metadata_inputs: names from :data:`METADATA` the model reads besides the image.
        has_global: the stage computes small tensors on a thumbnail first.
        global_outputs: ``{name: shape after batch}`` of ``compute_global``'s results.
        cfa: ``"any"``, ``"bayer"`` or ``"xtrans"`` (for mosaic inputs), else ``"none"``.
        trainable: the model has weights meant to be trained.
        loss: element-wise loss ``(y_true, y_pred) -> (B,)``.
        make_dataset: ``(config, split, seed) -> tf.data.Dataset`` or None (classical stages).
        default_config: overrides of the config defaults for this registry entry.
        description: one line for ``tfraw export --list`` and the docs.
        mosaic_border: what a mosaic stage sees beyond the image borders in the chain:
            ``"missing"`` (zero CFA masks: normalized-convolution stages ignore those pixels) or
            ``"cfa_reflect"`` (the mosaic mirrored about the edge keeping the CFA phase,
            :func:`tfraw.isp.cfa.cfa_reflect_index`, with its true masks: what networks trained
            on crops from inside photos expect). Set by the chain's first stage.
    """

    name: str
    config_class: type[StageConfig]
    model_class: type
    input_kind: str
    output_kind: str
    metadata_inputs: tuple[str, ...] = ()
    has_global: bool = False
    global_outputs: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    cfa: str = "none"
    trainable: bool = False
    loss: Callable | None = l1_loss
    make_dataset: Callable | None = None
    default_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    description: str = ""
    mosaic_border: str = "missing"

    REQUIRED_MODEL_METHODS: ClassVar[tuple[str, ...]] = ("from_stage_config", "get_config")

    def __post_init__(self) -> None:
        for kind in (self.input_kind, self.output_kind):
            if kind not in KINDS:
                raise InputError(f"stage {self.name!r}: unknown kind {kind!r}; known: {KINDS}")
        if self.mosaic_border not in MOSAIC_BORDERS:
            raise InputError(
                f"stage {self.name!r}: mosaic_border must be one of {MOSAIC_BORDERS}, "
                f"got {self.mosaic_border!r}"
            )
        unknown = [m for m in self.metadata_inputs if m not in METADATA]
        if unknown:
            raise InputError(
                f"stage {self.name!r}: unknown metadata input(s) {unknown}; known: {sorted(METADATA)}"
            )
        if self.cfa not in ("any", "bayer", "xtrans", "none"):
            raise InputError(
                f"stage {self.name!r}: cfa must be any/bayer/xtrans/none, got {self.cfa!r}"
            )

    # -- construction -------------------------------------------------------------------------
    def make_config(self, overrides: Mapping[str, Any] | None = None) -> StageConfig:
        """The registry entry's default config with ``overrides`` applied."""
        values = dict(self.default_config)
        values.update(overrides or {})
        return self.config_class.from_dict(values)

    def build(self, config: StageConfig | Mapping[str, Any] | None = None):
        """Builds the Keras model from a config (or overrides of the default config)."""
        if not isinstance(config, StageConfig):
            config = self.make_config(config)
        return self.model_class.from_stage_config(config)

    def receptive_field(self, config: StageConfig | None = None) -> int:
        return (config or self.make_config()).receptive_field

    # -- I/O contract -------------------------------------------------------------------------
    @property
    def image_key(self) -> str:
        return image_key(self.input_kind)

    @property
    def input_names(self) -> tuple[str, ...]:
        """Keys of the model's input dict, image first, then metadata, then global tensors."""
        return (self.image_key, *self.metadata_inputs, *self.global_outputs)

    def input_signature(self) -> dict[str, Any]:
        """``{name: tf.TensorSpec}`` with dynamic batch, height and width (the serving signature)."""
        import tensorflow as tf

        specs = {
            self.image_key: tf.TensorSpec(
                (None, None, None, KIND_CHANNELS[self.input_kind]), tf.float32, self.image_key
            )
        }
        for name in self.metadata_inputs:
            shape, _ = METADATA[name]
            specs[name] = tf.TensorSpec((None, *shape), tf.float32, name)
        for name, shape in self.global_outputs.items():
            specs[name] = tf.TensorSpec((None, *shape), tf.float32, name)
        return specs

    def example_inputs(
        self, batch: int = 1, height: int = 16, width: int = 16, seed: int = 0, cfa: str = ""
    ) -> dict[str, np.ndarray]:
        """Deterministic dummy inputs of the right shapes (tests, warm-up requests, benchmarks)."""
        from tfraw.isp.cfa import as_pattern

        rng = np.random.default_rng(seed)
        inputs: dict[str, np.ndarray] = {
            self.image_key: rng.uniform(
                0.0, 1.0, (batch, height, width, KIND_CHANNELS[self.input_kind])
            ).astype(np.float32)
        }
        pattern_name = cfa or ("XTRANS" if self.cfa == "xtrans" else "RGGB")
        pattern = as_pattern(pattern_name)
        for name in self.metadata_inputs:
            if name == "cfa_masks":
                period = pattern.shape[0]
                rows = np.arange(height) % period
                cols = np.arange(width) % period
                masks = np.eye(3, dtype=np.float32)[pattern[rows][:, cols]]
                inputs[name] = np.broadcast_to(masks, (batch, height, width, 3)).copy()
            elif name == "wb_gains":
                inputs[name] = np.tile(np.array([[2.0, 1.0, 1.5]], np.float32), (batch, 1))
            elif name == "cam_to_srgb":
                ccm = np.array([[1.6, -0.4, -0.2], [-0.2, 1.5, -0.3], [0.0, -0.5, 1.5]], np.float32)
                inputs[name] = np.tile(ccm[None], (batch, 1, 1))
            elif name == "ratio":
                inputs[name] = np.ones((batch,), np.float32)
        for name, shape in self.global_outputs.items():
            inputs[name] = np.ones((batch, *shape), np.float32)
        return inputs

    def metadata(self, config: StageConfig | None = None) -> dict[str, Any]:
        """The stage's part of ``assets/metadata.json`` (export)."""
        config = config or self.make_config()
        return {
            "stage": self.name,
            "description": self.description,
            "input_kind": self.input_kind,
            "output_kind": self.output_kind,
            "input_range": list(KIND_RANGE[self.input_kind]),
            "output_range": list(KIND_RANGE[self.output_kind]),
            "inputs": list(self.input_names),
            "cfa": self.cfa,
            "receptive_field": config.receptive_field,
            "has_global": self.has_global,
            "trainable": self.trainable,
            "config": config.to_dict(),
        }
