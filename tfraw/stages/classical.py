"""Classical (weightless) stages: demosaic, white balance + colour matrix, display encoding.

They are Keras models with the same contract as the neural stages (see :mod:`tfraw.stages.base`),
so a pipeline mixes classical and neural stages freely and every classical stage exports as a
SavedModel that serves any camera.

Metadata are *inputs*, not config: the CFA enters as one-hot colour masks ``cfa_masks (B, H, W,
3)``, white balance as ``wb_gains (B, 3)`` and the colour matrix as ``cam_to_srgb (B, 3, 3)``.
A demosaic model therefore works for every Bayer phase (and X-Trans for the normalized-convolution
methods) without retracing, and inside the tiled chain, whose tiles start at arbitrary CFA
phases. The arithmetic is the foundation's (:mod:`tfraw.isp.demosaic`, :mod:`tfraw.isp.color`,
:mod:`tfraw.isp.transfer`), expressed on masks instead of a static pattern; the tests check that
the results equal the foundation's functions for all four Bayer phases and X-Trans.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
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

# The foundation's kernels (tfraw.isp.demosaic): reused, not copied, so both paths stay equal.
_TENT3 = isp_demosaic._TENT3
_TENT5 = isp_demosaic._TENT5
_BINOMIAL5 = isp_demosaic._BINOMIAL5
_normalized_conv = isp_demosaic._normalized_conv
_MALVAR_KERNELS = np.stack(
    [
        isp_demosaic._MALVAR_G_AT_RB,
        isp_demosaic._MALVAR_AT_G_ROW,
        isp_demosaic._MALVAR_AT_G_COL,
        isp_demosaic._MALVAR_RB_AT_BR,
    ],
    axis=-1,
)[:, :, None, :] / np.float32(8.0)
# Left + right neighbours: at a G site of a Bayer CFA they tell which colour shares the row.
_HORIZONTAL = np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0]], np.float32)


# ----------------------------------------------------------------------------------------------
# Demosaic on masks
# ----------------------------------------------------------------------------------------------


def _tent_from_masks(x: tf.Tensor, masks: tf.Tensor, kernel: np.ndarray) -> tf.Tensor:
    interpolated = _normalized_conv(tf.tile(x, [1, 1, 1, 3]), masks, kernel)
    return masks * x + (1.0 - masks) * interpolated


def _bilinear_from_masks(x: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    # 3x3 tent for Bayer, 5x5 tent for other CFAs (tfraw.isp.demosaic.demosaic_bilinear).
    return _by_cfa(
        x,
        masks,
        lambda: _tent_from_masks(x, masks, _TENT3),
        lambda: _tent_from_masks(x, masks, _TENT5),
    )


def _malvar_from_masks(x: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    # REFLECT keeps the 2-periodic Bayer phase in the padded margin (demosaic_malvar's default).
    padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    features = tf.nn.conv2d(padded, tf.constant(_MALVAR_KERNELS), strides=1, padding="VALID")
    g_at_rb, at_g_row, at_g_col, rb_at_br = tf.unstack(features[..., tf.newaxis], axis=3)
    m_r, m_g, m_b = masks[..., 0:1], masks[..., 1:2], masks[..., 2:3]
    red_neighbours = isp_demosaic._depthwise(m_r, _HORIZONTAL)
    red_row = m_g * tf.minimum(red_neighbours, 1.0)  # G sites whose row holds R
    blue_row = m_g - red_row
    red = m_r * x + red_row * at_g_row + blue_row * at_g_col + m_b * rb_at_br
    green = m_g * x + (m_r + m_b) * g_at_rb
    blue = m_b * x + blue_row * at_g_row + red_row * at_g_col + m_r * rb_at_br
    return tf.concat([red, green, blue], axis=-1)


def _xtrans_from_masks(x: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    # The four normalized-convolution steps of tfraw.isp.demosaic.demosaic_xtrans, on masks.
    m_r, m_g, m_b = masks[..., 0:1], masks[..., 1:2], masks[..., 2:3]
    m_rb = tf.concat([m_r, m_b], axis=-1)

    def colour_from_green(green: tf.Tensor) -> tf.Tensor:
        diff = _normalized_conv(tf.tile(x - green, [1, 1, 1, 2]), m_rb, _BINOMIAL5)
        return m_rb * x + (1.0 - m_rb) * (green + diff)

    green = _normalized_conv(x, m_g, _BINOMIAL5)
    green = m_g * x + (1.0 - m_g) * green
    red_blue = colour_from_green(green)
    g_minus_r = _normalized_conv(x - red_blue[..., 0:1], m_g, _BINOMIAL5)
    g_minus_b = _normalized_conv(x - red_blue[..., 1:2], m_g, _BINOMIAL5)
    green = m_g * x + m_r * (x + g_minus_r) + m_b * (x + g_minus_b)
    red_blue = colour_from_green(green)
    return tf.concat([red_blue[..., 0:1], green, red_blue[..., 1:2]], axis=-1)


def _is_bayer(masks: tf.Tensor) -> tf.Tensor:
    """``(N,)`` bool: the masks repeat with period 2 along both axes (a Bayer CFA).

    Pixels outside the image (all-zero masks) are ignored, so border tiles decide correctly.
    """

    def periodic(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        same = tf.reduce_sum(a * b, axis=(1, 2, 3))
        both = tf.reduce_sum(tf.reduce_sum(a, axis=-1) * tf.reduce_sum(b, axis=-1), axis=(1, 2))
        return tf.equal(same, both)

    return periodic(masks[:, 2:], masks[:, :-2]) & periodic(masks[:, :, 2:], masks[:, :, :-2])


def _by_cfa(x: tf.Tensor, masks: tf.Tensor, bayer_fn, other_fn) -> tf.Tensor:
    """``bayer_fn()`` where the masks are Bayer, ``other_fn()`` elsewhere (per batch element);
    only the branch(es) needed by the batch are computed."""
    bayer = _is_bayer(masks)

    def mixed() -> tf.Tensor:
        select = tf.cast(bayer, tf.float32)[:, tf.newaxis, tf.newaxis, tf.newaxis]
        return select * bayer_fn() + (1.0 - select) * other_fn()

    return tf.cond(
        tf.reduce_all(bayer),
        bayer_fn,
        lambda: tf.cond(tf.reduce_any(bayer), mixed, other_fn),
    )


def _auto_from_masks(x: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    # Malvar for Bayer, green-guided normalized convolution otherwise (tfraw.isp.demosaic "auto").
    return _by_cfa(
        x, masks, lambda: _malvar_from_masks(x, masks), lambda: _xtrans_from_masks(x, masks)
    )


_DEMOSAIC_FUNCTIONS = {
    "auto": _auto_from_masks,
    "bilinear": _bilinear_from_masks,
    "malvar": _malvar_from_masks,
    "xtrans": _xtrans_from_masks,
}


def demosaic_from_masks(mosaic: tf.Tensor, cfa_masks: tf.Tensor, method: str) -> tf.Tensor:
    """Classical demosaic of a batch given one-hot CFA masks instead of a pattern.

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
    if method not in _DEMOSAIC_FUNCTIONS:
        raise InputError(
            f"unknown demosaic method {method!r}; known: {', '.join(_DEMOSAIC_FUNCTIONS)}"
        )
    return _DEMOSAIC_FUNCTIONS[method](tf.cast(mosaic, tf.float32), tf.cast(cfa_masks, tf.float32))


# ----------------------------------------------------------------------------------------------
# Configs
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ClassicalDemosaicConfig(StageConfig):
    """Classical demosaic: ``method`` is ``"auto"``, ``"bilinear"``, ``"malvar"`` or ``"xtrans"``."""

    method: str = "malvar"

    def validate(self) -> None:
        if self.method not in _DEMOSAIC_FUNCTIONS:
            raise InputError(
                f"ClassicalDemosaicConfig.method must be one of {sorted(_DEMOSAIC_FUNCTIONS)}, "
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

_DEMOSAIC_COMMON = dict(
    config_class=ClassicalDemosaicConfig,
    model_class=ClassicalDemosaicModel,
    input_kind="mosaic",
    output_kind="linear_camera_rgb",
    metadata_inputs=("cfa_masks",),
    loss=loss,
    make_dataset=make_dataset,
)
DEMOSAIC_AUTO_SPEC = StageSpec(
    name="demosaic_auto",
    cfa="any",
    default_config={"method": "auto"},
    description="Malvar for Bayer, green-guided normalized convolution for X-Trans (per image)",
    **_DEMOSAIC_COMMON,
)
DEMOSAIC_BILINEAR_SPEC = StageSpec(
    name="demosaic_bilinear",
    cfa="any",
    default_config={"method": "bilinear"},
    description="bilinear demosaic (normalized convolution, 3x3 tent), any CFA",
    **_DEMOSAIC_COMMON,
)
DEMOSAIC_MALVAR_SPEC = StageSpec(
    name="demosaic_malvar",
    cfa="bayer",
    default_config={"method": "malvar"},
    description="Malvar-He-Cutler 2004 gradient-corrected linear demosaic, Bayer",
    **_DEMOSAIC_COMMON,
)
DEMOSAIC_XTRANS_SPEC = StageSpec(
    name="demosaic_xtrans",
    cfa="any",
    default_config={"method": "xtrans"},
    description="green-guided normalized-convolution demosaic, any CFA (X-Trans)",
    **_DEMOSAIC_COMMON,
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
SRGB_ENCODE_SPEC = StageSpec(
    name="srgb_encode",
    config_class=DisplayEncodeConfig,
    model_class=DisplayEncodeModel,
    input_kind="linear_srgb",
    output_kind="display_srgb",
    loss=loss,
    default_config={"transfer": "srgb"},
    description="sRGB transfer function (IEC 61966-2-1), clipped to [0, 1]",
)
HLG_ENCODE_SPEC = StageSpec(
    name="hlg_encode",
    config_class=DisplayEncodeConfig,
    model_class=DisplayEncodeModel,
    input_kind="linear_srgb",
    output_kind="display_srgb",
    loss=loss,
    default_config={"transfer": "hlg"},
    description="BT.2100 HLG OETF, clipped to [0, 1]",
)
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
