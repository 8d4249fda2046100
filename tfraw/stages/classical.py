"""Classical (weightless) stages: demosaic, white balance + colour matrix, display encoding.

They are Keras models with the same contract as the neural stages (see :mod:`tfraw.stages.base`),
so a pipeline mixes classical and neural stages freely and every classical stage exports as a
SavedModel that serves any camera.

Metadata are *inputs*, not config: the CFA enters as one-hot colour masks ``cfa_masks (B, H, W,
3)``, white balance as ``wb_gains (B, 3)`` and the colour matrix as ``cam_to_srgb (B, 3, 3)``.
A demosaic model therefore works for every Bayer phase (and X-Trans for the normalized-convolution
methods) without retracing, and inside the tiled chain, whose tiles start at arbitrary CFA
phases. The arithmetic is the foundation's (the masks forms of :mod:`tfraw.isp.demosaic`,
:mod:`tfraw.isp.color`, :mod:`tfraw.isp.transfer`); the tests check that the results equal the
pattern-based functions for all four Bayer phases and X-Trans.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import color, transfer
from tfraw.isp import demosaic as isp_demosaic
from tfraw.stages.base import StageConfig, StageSpec, l1_loss

__all__ = [
    "AUTO_EXPOSURE_SPEC",
    "AutoExposureConfig",
    "AutoExposureModel",
    "ColorMatrixConfig",
    "ColorMatrixModel",
    "DEMOSAIC_AUTO_SPEC",
    "DEMOSAIC_BILINEAR_SPEC",
    "DEMOSAIC_MALVAR_SPEC",
    "DEMOSAIC_XTRANS_SPEC",
    "DisplayEncodeConfig",
    "DisplayEncodeModel",
    "HLG_ENCODE_SPEC",
    "COLOR_MATRIX_SPEC",
    "ClassicalDemosaicConfig",
    "ClassicalDemosaicModel",
    "SRGB_ENCODE_SPEC",
    "demosaic_from_masks",
    "loss",
    "make_dataset",
]

loss = l1_loss
#: Classical stages are not trained: no dataset.
make_dataset = None

# ----------------------------------------------------------------------------------------------
# Demosaic on masks
# ----------------------------------------------------------------------------------------------


def demosaic_from_masks(mosaic: tf.Tensor, cfa_masks: tf.Tensor, method: str) -> tf.Tensor:
    """Classical demosaic of a batch given one-hot CFA masks instead of a pattern.

    The stage's arithmetic is :func:`tfraw.isp.demosaic.demosaic_masks`'s.

    Args:
        mosaic: float32 ``(B, H, W, 1)``, linear, any range.
        cfa_masks: float32 ``(B, H, W, 3)`` one-hot colours; zero where no pixel exists.
        method: ``"auto"`` (Malvar where the masks are Bayer, else ``"xtrans"``; decided per
            image), ``"bilinear"``, ``"malvar"`` (Bayer masks only) or ``"xtrans"`` (any CFA).

    Returns:
        float32 linear camera RGB ``(B, H, W, 3)``, equal to :func:`tfraw.isp.demosaic.demosaic`
        with the pattern the masks were made from.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> masks = cfa_masks("GRBG", 8, 8)[tf.newaxis]
        >>> demosaic_from_masks(tf.ones((1, 8, 8, 1)), masks, "malvar").shape
        TensorShape([1, 8, 8, 3])
    """
    return isp_demosaic.demosaic_masks(mosaic, cfa_masks, method)


# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ClassicalDemosaicConfig(StageConfig):
    """Classical demosaic: ``method`` is ``"auto"``, ``"bilinear"``, ``"malvar"`` or ``"xtrans"``."""

    method: str = "malvar"

    def validate(self) -> None:
        if self.method not in isp_demosaic.METHODS:
            raise InputError(
                f"ClassicalDemosaicConfig.method must be one of {list(isp_demosaic.METHODS)}, "
                f"got {self.method!r}"
            )

    @property
    def receptive_field(self) -> int:
        if self.method == "auto":
            return max(
                isp_demosaic.RECEPTIVE_FIELD["malvar"], isp_demosaic.RECEPTIVE_FIELD["xtrans"]
            )
        return isp_demosaic.RECEPTIVE_FIELD[self.method]


@dataclasses.dataclass(frozen=True)
class ColorMatrixConfig(StageConfig):
    """White balance then camera -> linear sRGB matrix.

    ``highlights="clip"`` clips white-balanced camera RGB to [0, 1] before the matrix (SDR, as
    :func:`tfraw.render.render_classical`); ``"keep"`` keeps values above 1 (HDR).
    """

    highlights: str = "clip"

    def validate(self) -> None:
        if self.highlights not in ("clip", "keep"):
            raise InputError(
                f"ColorMatrixConfig.highlights must be 'clip' or 'keep', got {self.highlights!r}"
            )


_TRANSFERS = {
    "srgb": transfer.linear_to_srgb,
    "hlg": transfer.linear_to_hlg,
    "pq": transfer.linear_to_pq,
}


@dataclasses.dataclass(frozen=True)
class DisplayEncodeConfig(StageConfig):
    """Linear sRGB -> display code values with ``transfer`` (srgb, hlg, pq), clipped to [0, 1]."""

    transfer: str = "srgb"
    clip: bool = True

    def validate(self) -> None:
        if self.transfer not in _TRANSFERS:
            raise InputError(
                f"DisplayEncodeConfig.transfer must be one of {sorted(_TRANSFERS)}, "
                f"got {self.transfer!r}"
            )
        if not isinstance(self.clip, bool):
            raise InputError(f"DisplayEncodeConfig.clip must be a bool, got {self.clip!r}")


@dataclasses.dataclass(frozen=True)
class AutoExposureConfig(StageConfig):
    """Global exposure: a gain that brings the thumbnail's mean luminance to ``target``.

    The gain is clipped to ``[1 / max_gain, max_gain]``. It is the smallest stage with a global
    part and shows how global parameters travel through the chain.
    """

    target: float = 0.18
    max_gain: float = 8.0

    def validate(self) -> None:
        if not (0.0 < float(self.target) <= 1.0):
            raise InputError(f"AutoExposureConfig.target must be in (0, 1], got {self.target!r}")
        if not float(self.max_gain) >= 1.0:
            raise InputError(f"AutoExposureConfig.max_gain must be >= 1, got {self.max_gain!r}")


# ----------------------------------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="tfraw")
class MaskDemosaic(keras.layers.Layer):
    """Layer form of :func:`demosaic_from_masks`: ``(mosaic, cfa_masks) -> camera RGB``."""

    def __init__(self, method: str = "malvar", **kwargs):
        super().__init__(**kwargs)
        ClassicalDemosaicConfig(method)
        self.method = method

    def call(self, mosaic, cfa_masks):
        return demosaic_from_masks(mosaic, cfa_masks, self.method)

    def compute_output_shape(self, mosaic_shape, cfa_masks_shape=None):
        return (*mosaic_shape[:-1], 3)

    def get_config(self):
        return {**super().get_config(), "method": self.method}


@keras.saving.register_keras_serializable(package="tfraw")
class WhiteBalanceMatrix(keras.layers.Layer):
    """``(rgb, wb_gains (B, 3), cam_to_srgb (B, 3, 3)) -> linear sRGB``."""

    def __init__(self, highlights: str = "clip", **kwargs):
        super().__init__(**kwargs)
        ColorMatrixConfig(highlights)
        self.highlights = highlights

    def call(self, rgb, wb_gains, cam_to_srgb):
        balanced = color.apply_white_balance(rgb, wb_gains)
        if self.highlights == "clip":
            balanced = tf.clip_by_value(balanced, 0.0, 1.0)
        return color.apply_ccm(balanced, cam_to_srgb)

    def compute_output_shape(self, rgb_shape, *args):
        return rgb_shape

    def get_config(self):
        return {**super().get_config(), "highlights": self.highlights}


@keras.saving.register_keras_serializable(package="tfraw")
class TransferEncode(keras.layers.Layer):
    """Linear -> display code values (``transfer``), optionally clipped to [0, 1]."""

    def __init__(self, transfer: str = "srgb", clip: bool = True, **kwargs):
        super().__init__(**kwargs)
        DisplayEncodeConfig(transfer, clip)
        self.transfer = transfer
        self.clip = clip

    def call(self, rgb):
        encoded = _TRANSFERS[self.transfer](rgb)
        return tf.clip_by_value(encoded, 0.0, 1.0) if self.clip else encoded

    def get_config(self):
        return {**super().get_config(), "transfer": self.transfer, "clip": self.clip}


@keras.saving.register_keras_serializable(package="tfraw")
class ApplyGain(keras.layers.Layer):
    """``(rgb, gain (B, 1)) -> rgb * gain`` (the local part of auto exposure)."""

    def call(self, rgb, gain):
        return rgb * gain[:, tf.newaxis, tf.newaxis, :]

    def compute_output_shape(self, rgb_shape, gain_shape=None):
        return rgb_shape


# ----------------------------------------------------------------------------------------------
# Models: a functional graph wrapped in a subclass; get_config holds every constructor argument.
# ----------------------------------------------------------------------------------------------


def _input(name: str, channels: int | None = None, shape: tuple | None = None):
    if shape is None:
        shape = (None, None, channels)
    return keras.Input(shape=shape, name=name, dtype="float32")


class _StageModel(keras.Model):
    """Shared config plumbing of the classical stage models."""

    config_class: type[StageConfig] = StageConfig

    @classmethod
    def from_stage_config(cls, config: StageConfig, **kwargs):
        return cls(**config.to_dict(), **kwargs)

    def stage_config(self) -> StageConfig:
        fields = {f.name for f in dataclasses.fields(self.config_class)}
        return self.config_class.from_dict(
            {k: v for k, v in self.get_config().items() if k in fields}
        )

    def _base_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="tfraw")
class ClassicalDemosaicModel(_StageModel):
    """``{"mosaic", "cfa_masks"} -> linear camera RGB (B, H, W, 3)``.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> model = ClassicalDemosaicModel(method="bilinear")
        >>> masks = cfa_masks("RGGB", 4, 4)[tf.newaxis]
        >>> model({"mosaic": tf.ones((1, 4, 4, 1)), "cfa_masks": masks}).shape
        TensorShape([1, 4, 4, 3])
    """

    config_class = ClassicalDemosaicConfig

    def __init__(self, method: str = "malvar", **kwargs):
        inputs = {"mosaic": _input("mosaic", 1), "cfa_masks": _input("cfa_masks", 3)}
        outputs = MaskDemosaic(method, name="demosaic")(inputs["mosaic"], inputs["cfa_masks"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.method = method

    def get_config(self):
        return {**self._base_config(), "method": self.method}


@keras.saving.register_keras_serializable(package="tfraw")
class ColorMatrixModel(_StageModel):
    """``{"rgb", "wb_gains", "cam_to_srgb"} -> linear sRGB (B, H, W, 3)``."""

    config_class = ColorMatrixConfig

    def __init__(self, highlights: str = "clip", **kwargs):
        inputs = {
            "rgb": _input("rgb", 3),
            "wb_gains": _input("wb_gains", shape=(3,)),
            "cam_to_srgb": _input("cam_to_srgb", shape=(3, 3)),
        }
        outputs = WhiteBalanceMatrix(highlights, name="wb_ccm")(
            inputs["rgb"], inputs["wb_gains"], inputs["cam_to_srgb"]
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.highlights = highlights

    def get_config(self):
        return {**self._base_config(), "highlights": self.highlights}


@keras.saving.register_keras_serializable(package="tfraw")
class DisplayEncodeModel(_StageModel):
    """``{"rgb"} -> display-encoded RGB in [0, 1] (B, H, W, 3)``."""

    config_class = DisplayEncodeConfig

    def __init__(self, transfer: str = "srgb", clip: bool = True, **kwargs):
        inputs = {"rgb": _input("rgb", 3)}
        outputs = TransferEncode(transfer, clip, name="encode")(inputs["rgb"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.transfer = transfer
        self.clip = clip

    def get_config(self):
        return {**self._base_config(), "transfer": self.transfer, "clip": self.clip}


@keras.saving.register_keras_serializable(package="tfraw")
class AutoExposureModel(_StageModel):
    """``{"rgb", "exposure_gain" (B, 1)} -> rgb * gain``; ``compute_global`` makes the gain."""

    config_class = AutoExposureConfig

    def __init__(self, target: float = 0.18, max_gain: float = 8.0, **kwargs):
        inputs = {"rgb": _input("rgb", 3), "exposure_gain": _input("exposure_gain", shape=(1,))}
        outputs = ApplyGain(name="gain")(inputs["rgb"], inputs["exposure_gain"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.target = float(target)
        self.max_gain = float(max_gain)

    def compute_global(self, inputs: dict) -> dict:
        """``{"rgb": thumbnail (B, h, w, 3)} -> {"exposure_gain": (B, 1)}``."""
        rgb = tf.convert_to_tensor(inputs["rgb"], tf.float32)
        luminance = tf.einsum("bhwc,c->bhw", rgb, tf.constant([0.2126, 0.7152, 0.0722]))
        mean = tf.maximum(tf.reduce_mean(luminance, axis=(1, 2)), 1e-6)
        gain = tf.clip_by_value(self.target / mean, 1.0 / self.max_gain, self.max_gain)
        return {"exposure_gain": gain[:, tf.newaxis]}

    def get_config(self):
        return {**self._base_config(), "target": self.target, "max_gain": self.max_gain}


# ----------------------------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------------------------


def _demosaic_spec(method: str, cfa: str, description: str) -> StageSpec:
    return StageSpec(
        name=f"demosaic_{method}",
        config_class=ClassicalDemosaicConfig,
        model_class=ClassicalDemosaicModel,
        input_kind="mosaic",
        output_kind="linear_camera_rgb",
        metadata_inputs=("cfa_masks",),
        loss=loss,
        make_dataset=make_dataset,
        cfa=cfa,
        default_config={"method": method},
        description=description,
    )


def _encode_spec(transfer_name: str, description: str) -> StageSpec:
    return StageSpec(
        name=f"{transfer_name}_encode",
        config_class=DisplayEncodeConfig,
        model_class=DisplayEncodeModel,
        input_kind="linear_srgb",
        output_kind="display_srgb",
        loss=loss,
        default_config={"transfer": transfer_name},
        description=description,
    )


DEMOSAIC_AUTO_SPEC = _demosaic_spec(
    "auto", "any", "Malvar for Bayer, green-guided normalized convolution for X-Trans (per image)"
)
DEMOSAIC_BILINEAR_SPEC = _demosaic_spec(
    "bilinear", "any", "bilinear demosaic (normalized convolution, 3x3 tent), any CFA"
)
DEMOSAIC_MALVAR_SPEC = _demosaic_spec(
    "malvar", "bayer", "Malvar-He-Cutler 2004 gradient-corrected linear demosaic, Bayer"
)
DEMOSAIC_XTRANS_SPEC = _demosaic_spec(
    "xtrans", "any", "green-guided normalized-convolution demosaic, any CFA (X-Trans)"
)
COLOR_MATRIX_SPEC = StageSpec(
    name="color_matrix",
    config_class=ColorMatrixConfig,
    model_class=ColorMatrixModel,
    input_kind="linear_camera_rgb",
    output_kind="linear_srgb",
    metadata_inputs=("wb_gains", "cam_to_srgb"),
    loss=loss,
    description="white balance gains, then the camera -> linear sRGB matrix",
)
SRGB_ENCODE_SPEC = _encode_spec("srgb", "sRGB transfer function (IEC 61966-2-1), clipped to [0, 1]")
HLG_ENCODE_SPEC = _encode_spec("hlg", "BT.2100 HLG OETF, clipped to [0, 1]")
AUTO_EXPOSURE_SPEC = StageSpec(
    name="auto_exposure",
    config_class=AutoExposureConfig,
    model_class=AutoExposureModel,
    input_kind="linear_srgb",
    output_kind="linear_srgb",
    has_global=True,
    global_outputs={"exposure_gain": (1,)},
    loss=loss,
    description="global exposure gain from the thumbnail's mean luminance",
)
