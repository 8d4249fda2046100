"""``DenoiseModel``: the U-Net of reparameterizable blocks, its routed twin and ``deploy()``."""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from tfraw.layers.blocks import CropToMatch, DepthToSpace, PadToMultiple, SpaceToDepth
from tfraw.layers.reparam import RepConv2D
from tfraw.stages.base import l1_loss
from tfraw.stages.denoise.config import DenoiseConfig

__all__ = [
    "DenoiseModel",
    "export_model",
    "l2_loss",
    "log_l1_loss",
    "loss",
    "macs_and_params",
    "make_loss",
    "prepare_training_model",
]

#: LED trains with an L1 loss on the raw (the clean long exposure is the target).
loss = l1_loss
#: Floor of :func:`log_l1_loss` (normalized units): far below the error of any input the model
#: sees (x1 noise of a 14-bit sensor is ~2e-3), so it only guards log(0).
_LOG_L1_FLOOR = 1e-6


def log_l1_loss(y_true, y_pred):
    """Per-example ``log(L1 + 1e-6)``: each sample's gradient is its L1 gradient divided by its
    own error, so a nearly clean x1 crop weighs as much as a x300 one. Plain L1 over ratios
    drawn log-uniformly is dominated by the amplified samples (on Kodak24 with the Sony A7S2
    profile the noisy input's RMSE is ~15x larger at x100 than at x1) and the model
    over-smooths the clean ones; the mean log error is close to what mean PSNR over ratios
    measures (PSNR = -20 log10 RMSE)."""
    return keras.ops.log(l1_loss(y_true, y_pred) + _LOG_L1_FLOOR)


def l2_loss(y_true, y_pred):
    """Per-example mean squared error. Its minimizer is the conditional *mean* of the clean raw
    (L1's is the median), which is what PSNR scores; where the input cannot tell a quantity
    apart (the black-level error of an unknown camera, one number per image) the two differ.
    Like L1 over log-uniform ratios it is dominated by the amplified samples, more so."""
    return keras.ops.mean(keras.ops.square(y_pred - y_true), axis=(1, 2, 3))


_LOSSES = {"l1": l1_loss, "log_l1": log_l1_loss, "l2": l2_loss}


def make_loss(config: DenoiseConfig):
    """The per-example training loss ``DenoiseConfig.loss`` names (``tfraw-train`` calls it)."""
    return _LOSSES[config.loss]


# SID/LED U-Nets use LeakyReLU with slope 0.2.
_LEAKY_SLOPE = 0.2
#: The ratio channel (``DenoiseConfig.ratio_input``) is ``log(ratio) / log(256)``: 0 at x1, 1 at
#: x256, so it has the scale of the normalized mosaic over the usual ratio range.
_RATIO_SCALE = 1.0 / math.log(256.0)


def _act(x):
    return keras.ops.leaky_relu(x, negative_slope=_LEAKY_SLOPE)


def _build_layers(config: DenoiseConfig) -> dict[str, keras.layers.Layer]:
    """All layers of the U-Net, by name (names fix the weight paths and the fold mapping)."""
    # Packing, padding and cropping are pinned to float32: under a mixed policy
    # (``train.precision``) only the convolutions follow it, and the residual ``x + mosaic``
    # adds a float32 correction to the float32 input.
    f32 = {"dtype": "float32"}
    layers: dict[str, keras.layers.Layer] = {
        "pad": PadToMultiple(config.tile_multiple, name="pad", **f32),
        "crop": CropToMatch(name="crop", **f32),
    }
    if config.fold > 1:
        layers["s2d"] = SpaceToDepth(config.fold, name="s2d", **f32)
        layers["d2s"] = DepthToSpace(config.fold, name="d2s", **f32)

    def rep(name: str, filters: int) -> None:
        layers[name] = RepConv2D(
            filters, 3, num_cameras=config.num_cameras, reparam=config.reparam, name=name
        )

    for level in range(config.depth):
        channels = config.base_channels * 2**level
        rep(f"enc{level}_a", channels)
        rep(f"enc{level}_b", channels)
        layers[f"pool{level}"] = keras.layers.MaxPooling2D(2, name=f"pool{level}")
    bottom = config.base_channels * 2**config.depth
    rep("mid_a", bottom)
    rep("mid_b", bottom)
    for level in reversed(range(config.depth)):
        channels = config.base_channels * 2**level
        layers[f"up{level}"] = keras.layers.Conv2DTranspose(
            channels, 2, strides=2, name=f"up{level}"
        )
        rep(f"dec{level}_a", channels)
        rep(f"dec{level}_b", channels)
    layers["head"] = keras.layers.Conv2D(config.fold**2, 1, name="head")
    return layers


def _input_specs(config: DenoiseConfig, routed: bool = False) -> dict:
    """The functional inputs: ``mosaic``, ``cfa_masks`` (+ ``ratio`` (B,) with
    ``ratio_input``, + ``camera_index`` (B,) int32 for the routed pre-training graph)."""
    inputs = {
        "mosaic": keras.Input((None, None, 1), name="mosaic", dtype="float32"),
        "cfa_masks": keras.Input((None, None, 3), name="cfa_masks", dtype="float32"),
    }
    if config.ratio_input:
        inputs["ratio"] = keras.Input((), name="ratio", dtype="float32")
    if routed:
        inputs["camera_index"] = keras.Input((), name="camera_index", dtype="int32")
    return inputs


def _forward(config: DenoiseConfig, layers, inputs: dict, camera_index=None):
    """The U-Net graph on ``mosaic (B, H, W, 1)``, ``cfa_masks (B, H, W, 3)`` and, with
    ``ratio_input``, ``ratio (B,)``."""

    def rep(name, x):
        layer = layers[name]
        return _act(layer(x) if camera_index is None else layer(x, camera_index))

    mosaic = inputs["mosaic"]
    x = layers["pad"](keras.ops.concatenate([mosaic, inputs["cfa_masks"]], axis=-1))
    if config.fold > 1:
        x = layers["s2d"](x)
    if config.ratio_input:
        # One constant channel appended after the fold (the folded channels keep their order,
        # so a model without it grows into this one: DenoiseModel.load_warm_start).
        level = keras.ops.log(keras.ops.maximum(inputs["ratio"], 1e-6)) * _RATIO_SCALE
        plane = keras.ops.ones_like(x[..., :1]) * keras.ops.reshape(level, (-1, 1, 1, 1))
        x = keras.ops.concatenate([x, plane], axis=-1)
    skips = []
    for level in range(config.depth):
        x = rep(f"enc{level}_b", rep(f"enc{level}_a", x))
        skips.append(x)
        x = layers[f"pool{level}"](x)
    x = rep("mid_b", rep("mid_a", x))
    for level in reversed(range(config.depth)):
        x = layers[f"up{level}"](x)
        x = keras.ops.concatenate([x, skips[level]], axis=-1)
        x = rep(f"dec{level}_b", rep(f"dec{level}_a", x))
    x = layers["head"](x)
    if config.fold > 1:
        x = layers["d2s"](x)
    x = layers["crop"](x, mosaic)
    return x + mosaic if config.residual else x


def _config_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(DenoiseConfig)]


@keras.saving.register_keras_serializable(package="tfraw")
class DenoiseModel(keras.Model):
    """``{"mosaic" (B, H, W, 1), "cfa_masks" (B, H, W, 3), "ratio" (B,)} -> denoised mosaic
    (B, H, W, 1)``.

    The input mosaic is the normalized raw already multiplied by the exposure ratio (the digital
    gain, as in SID/ELD/LED); the output has the same scale. Any ``H, W`` and any CFA phase work
    (bottom/right zero padding to :attr:`DenoiseConfig.tile_multiple`, masks zero there).
    ``ratio`` (that gain) is read only with :attr:`DenoiseConfig.ratio_input` (then it is
    required); other models ignore it, so one input dict serves both.

    Without a camera index the model uses each block's *deployed* alignment (the average of
    the virtual cameras after pre-training, the customized one after fine-tuning) and the
    customization branch. :meth:`routed_model` is the pre-training graph with per-sample
    camera routing; :meth:`deploy` returns the folded plain network.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> model = DenoiseModel(base_channels=4, depth=1, num_cameras=2)
        >>> masks = cfa_masks("RGGB", 10, 14)[tf.newaxis]
        >>> model({"mosaic": tf.zeros((1, 10, 14, 1)), "cfa_masks": masks}).shape
        TensorShape([1, 10, 14, 1])
    """

    config_class = DenoiseConfig

    def __init__(
        self,
        base_channels: int = 32,
        depth: int = 3,
        input_mode: str = "space_to_depth",
        num_cameras: int = 8,
        reparam: bool = True,
        residual: bool = True,
        ratio_input: bool = False,
        loss: str = "l1",
        train_path: str = "routed",
        cfa: str = "bayer",
        patch_size: int = 288,
        batch_size: int = 8,
        ratio_range: tuple[float, float] = (1.0, 300.0),
        profiles: tuple[str, ...] = DenoiseConfig.profiles,
        black_level_error: bool = False,
        white_minus_black: float = 15871.0,
        camera_seed: int = 0,
        data_root: str = "",
        val_images: int = 24,
        patch_cache: str = "",
        **kwargs,
    ):
        values = dict(locals())
        values = {name: values[name] for name in _config_fields()}
        config = DenoiseConfig.from_dict(values)
        inputs = _input_specs(config)
        layers = _build_layers(config)
        outputs = _forward(config, layers, inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self._denoise_config = config
        routed = _routed_graph(config, layers, self.name) if config.reparam else None
        object.__setattr__(self, "_routed", routed)  # not tracked: it shares these weights

    def call(self, inputs, training=None, mask=None):
        """With ``camera_index`` in the input dict (pre-training batches of
        :func:`~tfraw.stages.denoise.data.make_dataset`), every sample is routed through its
        virtual camera's alignments; keys the model does not read (``ratio`` without
        ``ratio_input``) are ignored."""
        if isinstance(inputs, dict):
            names = ["mosaic", "cfa_masks"]
            if self._denoise_config.ratio_input:
                names.append("ratio")  # Keras names it when missing
            if "camera_index" in inputs and self._routed is not None:
                routed = {key: inputs[key] for key in (*names, "camera_index")}
                return self._routed(routed, training=training)
            inputs = {key: inputs[key] for key in names}
        return super().call(inputs, training=training, mask=mask)

    # -- config ---------------------------------------------------------------------------------
    @classmethod
    def from_stage_config(cls, config: DenoiseConfig, **kwargs) -> DenoiseModel:
        return cls(**config.to_dict(), **kwargs)

    def stage_config(self) -> DenoiseConfig:
        return self._denoise_config

    def get_config(self):
        values = {name: getattr(self._denoise_config, name) for name in _config_fields()}
        return {"name": self.name, "trainable": self.trainable, **values}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def load_warm_start(self, path) -> None:
        """Loads the weights of a ``.keras`` model of this config (``TrainConfig.init_from``).

        A smaller model of the same family is *grown* into this one (function-preserving, as in
        Net2Net): without the ratio input (``ratio_input=False``), with fewer ``base_channels``
        and/or a smaller ``depth`` (everything else equal). Every source weight keeps its place;
        the weights *from* a new channel (the ratio plane, a new feature map) *into* an old one
        are zero, the new channels' own weights keep this model's random initialization; a new
        U-Net level goes below the old bottom, which becomes that level's encoder, and its
        decoder starts as an exact pass-through of the skip (:func:`_deepened`). So the grown
        model computes exactly what the source did (every ratio, every camera route), and
        training starts from it with room for more features and more context. Anything else (a
        shallower or narrower network, another input mode) raises ``ValueError``.
        """
        try:
            self.load_weights(path)
            return
        except ValueError:
            pass
        source = keras.saving.load_model(path, compile=False)
        if not isinstance(source, DenoiseModel):
            raise ValueError(f"{path} is not a DenoiseModel")
        mine, theirs = self._denoise_config, source.stage_config()
        grown = ("base_channels", "ratio_input", "depth")
        differ = [
            f
            for f in _ARCHITECTURE_FIELDS
            if f not in grown and getattr(mine, f) != getattr(theirs, f)
        ]
        if (
            differ
            or theirs.base_channels > mine.base_channels
            or theirs.depth > mine.depth
            or (theirs.ratio_input and not mine.ratio_input)
        ):
            shape = lambda c: {f: getattr(c, f) for f in _ARCHITECTURE_FIELDS}  # noqa: E731
            raise ValueError(
                f"cannot grow a DenoiseModel {shape(theirs)} into {shape(mine)}: only more "
                "base_channels, more depth and an added ratio input are supported"
            )
        while source.stage_config().depth < mine.depth:
            source = _deepened(source)
        src_layout, dst_layout = _channel_layout(source.stage_config()), _channel_layout(mine)
        for layer in source.layers:
            if not layer.weights:
                continue
            target = self.get_layer(layer.name)
            src_in, src_out = src_layout[layer.name]
            dst_in, dst_out = dst_layout[layer.name]
            transposed = isinstance(layer, keras.layers.Conv2DTranspose)
            for src, dst in zip(layer.weights, target.weights, strict=True):
                role = src.path.rsplit("/", 1)[-1]
                axes = _CHANNEL_AXES[role]
                if transposed and role == "kernel":
                    axes = {"in": 3, "out": 2}
                dst.assign(
                    _grow_weight(
                        np.asarray(src.numpy()),
                        np.asarray(dst.numpy()),
                        axes,
                        (src_in, dst_in),
                        (src_out, dst_out),
                    )
                )

    # -- reparameterization -------------------------------------------------------------------
    def rep_layers(self) -> list[RepConv2D]:
        return [layer for layer in self.layers if isinstance(layer, RepConv2D)]

    def routed_model(self) -> keras.Model:
        """The pre-training graph: inputs ``mosaic``, ``cfa_masks`` and ``camera_index`` (B,)
        int32; every block applies the alignment of the sample's virtual camera (no branch).
        Shares all weights with this model (``model(inputs)`` uses it when ``inputs`` has a
        ``camera_index``)."""
        if self._routed is None:
            raise ValueError("routed_model() needs a reparameterizable model (reparam=True)")
        return self._routed

    def reset_alignment(self) -> None:
        """Deployed alignments := the mean of the virtual cameras' (undo a customization)."""
        for layer in self.rep_layers():
            layer.reset_alignment()

    def variable_groups(self) -> dict[str, list]:
        """Variables by role: ``camera`` (routed alignments), ``alignment`` (deployed),
        ``branch`` (customization) and ``shared`` (everything else)."""
        groups: dict[str, list] = {"camera": [], "alignment": [], "branch": [], "shared": []}
        special = set()
        for layer in self.rep_layers():
            for key, variables in (
                ("camera", layer.camera_variables),
                ("alignment", layer.alignment_variables),
                ("branch", layer.branch_variables),
            ):
                groups[key].extend(variables)
                special.update(id(v) for v in variables)
        groups["shared"] = [v for v in self.weights if id(v) not in special]
        return groups

    def deploy(self) -> DenoiseModel:
        """The folded plain network: every block's alignment and branch merged into one conv.

        Returns a new ``DenoiseModel`` with ``reparam=False`` (the architecture, parameter count
        and FLOPs of the plain U-Net) that computes what this model computes without a camera
        index.
        """
        config = dataclasses.replace(self._denoise_config, reparam=False, train_path="routed")
        plain = DenoiseModel.from_stage_config(config, name=f"{self.name}_deployed")
        for layer in self.layers:
            if not layer.weights:
                continue
            target = plain.get_layer(layer.name)
            if isinstance(layer, RepConv2D):
                kernel, bias = layer.folded_weights()
                target.kernel.assign(kernel)
                target.bias.assign(bias)
            else:
                target.set_weights(layer.get_weights())
        return plain

    def conv_macs(self, height: int, width: int) -> int:
        """Analytic multiply-accumulates of all convolutions for one ``height x width`` image."""
        config = self._denoise_config
        m = config.tile_multiple
        h0, w0 = -(-height // m) * m // config.fold, -(-width // m) * m // config.fold
        total = 0
        for layer in self.layers:
            if isinstance(layer, RepConv2D):
                level = _level_of(layer.name, config.depth)
                total += layer.macs(h0 >> level, w0 >> level)
            elif isinstance(layer, keras.layers.Conv2DTranspose):
                level = int(layer.name[2:])
                kh, kw, cout, cin = layer.kernel.shape
                total += int(kh * kw * cin * cout) * (h0 >> (level + 1)) * (w0 >> (level + 1))
            elif isinstance(layer, keras.layers.Conv2D):
                kh, kw, cin, cout = layer.kernel.shape
                total += int(kh * kw * cin * cout) * h0 * w0
        return int(total)


def _routed_graph(config: DenoiseConfig, layers, name: str) -> keras.Model:
    inputs = _input_specs(config, routed=True)
    outputs = _forward(config, layers, inputs, inputs["camera_index"])
    return keras.Model(inputs=inputs, outputs=outputs, name=f"{name}_routed")


#: Fields that shape the network's weights.
_ARCHITECTURE_FIELDS = (
    "base_channels", "depth", "input_mode", "num_cameras", "reparam", "residual", "ratio_input"
)  # fmt: skip
#: Channel axes of each weight, by its name (Conv2DTranspose kernels swap in and out).
_CHANNEL_AXES = {
    "kernel": {"in": 2, "out": 3},
    "branch_kernel": {"in": 2, "out": 3},
    "bias": {"out": 0},
    "camera_scale": {"in": 1},
    "camera_shift": {"in": 1},
    "align_scale": {"in": 0},
    "align_shift": {"in": 0},
}


def _channel_layout(config: DenoiseConfig) -> dict[str, tuple[list[int], list[int]]]:
    """Per layer with weights: the channel counts of the segments of its input and output.

    Segments are the parts a concatenation stacks (the folded mosaic + masks and the ratio
    plane; the up-sampled features and the skip), so that a grown model can place every old
    channel of every segment (:meth:`DenoiseModel.load_warm_start`)."""
    width = [config.base_channels * 2**level for level in range(config.depth + 1)]
    layout: dict[str, tuple[list[int], list[int]]] = {}
    previous = [4 * config.fold**2, int(config.ratio_input)]
    for level in range(config.depth):
        layout[f"enc{level}_a"] = (previous, [width[level]])
        layout[f"enc{level}_b"] = ([width[level]], [width[level]])
        previous = [width[level]]
    layout["mid_a"] = (previous, [width[config.depth]])
    layout["mid_b"] = ([width[config.depth]], [width[config.depth]])
    for level in reversed(range(config.depth)):
        layout[f"up{level}"] = ([width[level + 1]], [width[level]])
        layout[f"dec{level}_a"] = ([width[level], width[level]], [width[level]])
        layout[f"dec{level}_b"] = ([width[level]], [width[level]])
    layout["head"] = ([width[0]], [config.fold**2])
    return layout


def _deepened(source: DenoiseModel) -> DenoiseModel:
    """``source`` with one more U-Net level below its bottom, computing exactly the same.

    The old bottom block (``mid_a``, ``mid_b``) becomes the new level's encoder
    (``enc{D}_a``, ``enc{D}_b``); the new bottom and its up-sampling keep their random
    initialization. The new level's decoder (``dec{D}_a``, ``dec{D}_b``) starts as ``-I`` on
    the centre tap of the skip channels (zero elsewhere, so the new bottom's path is closed
    until training opens it): with the leaky ReLU of slope ``s``, ``act(-act(-m)) = s * m`` for
    every ``m``, so the linear layer that consumed the old bottom (``up{D-1}``, or ``head`` at
    depth 0) takes ``1 / s`` and sees what it saw before. The camera alignments of the new
    blocks are the identity (their initialization)."""
    config = source.stage_config()
    depth = config.depth
    deeper = DenoiseModel.from_stage_config(dataclasses.replace(config, depth=depth + 1))
    renamed = {"mid_a": f"enc{depth}_a", "mid_b": f"enc{depth}_b"}
    for layer in source.layers:
        if layer.weights:
            deeper.get_layer(renamed.get(layer.name, layer.name)).set_weights(layer.get_weights())
    width = config.base_channels * 2**depth
    for name, skip_start in ((f"dec{depth}_a", width), (f"dec{depth}_b", 0)):
        layer = deeper.get_layer(name)
        kernel = np.zeros(layer.kernel.shape, np.float32)
        centre = kernel.shape[0] // 2
        kernel[centre, centre, skip_start : skip_start + width, :] = -np.eye(width)
        layer.kernel.assign(kernel)
        layer.bias.assign(np.zeros(layer.bias.shape, np.float32))
    consumer = deeper.get_layer(f"up{depth - 1}" if depth else "head")
    consumer.kernel.assign(consumer.kernel.numpy() / _LEAKY_SLOPE)
    return deeper


def _segment_index(old: list[int], new: list[int]) -> np.ndarray:
    """Where each old channel lands: segment by segment, at the start of its new segment."""
    starts = np.concatenate([[0], np.cumsum(new)[:-1]]).astype(int)
    return np.concatenate(
        [start + np.arange(size) for start, size in zip(starts, old, strict=True)]
    ).astype(int)


def _grow_weight(value, fresh, axes: dict, inputs, outputs) -> np.ndarray:
    """``value`` placed into a copy of ``fresh`` (the grown layer's initialization): old
    channels at their mapped places, and the weights from new input channels into old output
    channels zeroed, so the old outputs are unchanged."""
    index = [np.arange(n) for n in value.shape]
    new_in = None
    if "in" in axes:
        index[axes["in"]] = _segment_index(*inputs)
        new_in = np.setdiff1d(np.arange(fresh.shape[axes["in"]]), index[axes["in"]])
    if "out" in axes:
        index[axes["out"]] = _segment_index(*outputs)
    grown = np.array(fresh, copy=True)
    grown[np.ix_(*index)] = value
    if new_in is not None and new_in.size and "out" in axes:
        rows = [np.arange(n) for n in fresh.shape]
        rows[axes["in"]], rows[axes["out"]] = new_in, index[axes["out"]]
        grown[np.ix_(*rows)] = 0.0
    return grown


def prepare_training_model(model: DenoiseModel) -> DenoiseModel:
    """Pre-training (``train_path: routed``) trains the camera-routed path only: the
    customization variables (deployed alignment, parallel branch) are frozen at their initial
    values. ``train_path: generic`` trains the deployed alignment offsets alone; ``mixed``
    trains all but the branch (hook for ``tfraw-train``)."""
    config = model.stage_config()
    if config.reparam:
        trained = {
            "routed": {"camera", "shared"},
            "generic": {"alignment"},
            "mixed": {"camera", "shared", "alignment"},
        }[config.train_path]
        for role, variables in model.variable_groups().items():
            for variable in variables:
                variable.trainable = role in trained
    return model


def export_model(model: DenoiseModel) -> DenoiseModel:
    """The model to export: the folded plain network (hook for ``tfraw-train --export``)."""
    return model.deploy() if model.stage_config().reparam else model


def macs_and_params(model: DenoiseModel) -> dict[str, int]:
    """``{"macs_per_pixel", "params"}`` of the deployed (folded) network (export metadata)."""
    deployed = export_model(model)
    size = 16 * deployed.stage_config().tile_multiple
    return {
        "macs_per_pixel": int(round(deployed.conv_macs(size, size) / size**2)),
        "params": parameter_count(deployed),
    }


def _level_of(name: str, depth: int) -> int:
    if name.startswith("mid"):
        return depth
    return int(name[3 : name.index("_")])


def graph_flops(model: keras.Model, height: int, width: int) -> int:
    """FLOPs of ``model`` on one ``height x width`` input, counted by TensorFlow's profiler on
    the traced graph (``tf.compat.v1.profiler``, ``float_ops``)."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    specs = {
        "mosaic": tf.TensorSpec((1, height, width, 1), tf.float32),
        "cfa_masks": tf.TensorSpec((1, height, width, 3), tf.float32),
        "ratio": tf.TensorSpec((1,), tf.float32),
    }
    concrete = tf.function(lambda inputs: model(inputs)).get_concrete_function(specs)
    frozen = convert_variables_to_constants_v2(concrete)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    info = tf.compat.v1.profiler.profile(graph=frozen.graph, options=options)
    return int(info.total_float_ops)


def parameter_count(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.weights))


def apply_denoiser(
    model: keras.Model,
    mosaic: np.ndarray,
    pattern,
    ratio: float = 1.0,
    tile: int = 512,
    self_ensemble: int = 1,
    premultiplied: bool = False,
) -> np.ndarray:
    """Denoises a whole normalized mosaic tile by tile; equal to one untiled call.

    The mosaic is first extended by the margin with the CFA-keeping mirror (the chain's border
    rule for this stage); tiles start at multiples of the network's down-sampling factor and
    carry a margin of at least the receptive field (rounded up to that factor), so max-pooling
    grids line up with the untiled call and every kept pixel sees the same context.

    Args:
        model: a :class:`DenoiseModel` (folded or not).
        mosaic: ``(H, W)`` float normalized raw ``(raw - black) / (white - black)``.
        pattern: the CFA pattern at ``mosaic[0, 0]`` (Bayer 2x2 or X-Trans 6x6).
        ratio: digital gain applied before denoising (> 0); the output keeps it. A model
            with ``ratio_input`` also reads it as its noise level.
        tile: core tile size (rounded up to the down-sampling factor).
        self_ensemble: average over up to 1, 2, 4 or 8 symmetries of the square that keep the
            CFA family (:mod:`tfraw.inference.ensemble`; Bayer admits 8, X-Trans 2); the cost
            is one pass per symmetry.
        premultiplied: ``mosaic`` already holds the gain (``raw x ratio``, as the benchmark's
            synthetic noisy inputs do): it is not multiplied again; ``ratio`` is only the
            model's noise level.

    Returns:
        ``(H, W)`` float32 denoised mosaic, multiplied by ``ratio``.
    """
    from tfraw.errors import InputError
    from tfraw.isp.cfa import as_pattern, cfa_masks, cfa_reflect_index, shift_pattern

    if not ratio > 0:
        raise InputError(f"ratio must be > 0, got {ratio}")
    array = np.asarray(mosaic, np.float32)
    if array.ndim != 2:
        raise InputError(f"apply_denoiser: expected an (H, W) mosaic, got shape {array.shape}")
    if self_ensemble != 1:
        from tfraw.inference.ensemble import self_ensemble as ensemble

        def single(mosaic_k, pattern_k):
            return apply_denoiser(model, mosaic_k, pattern_k, ratio, tile, 1, premultiplied)

        return ensemble(single, array, pattern, self_ensemble, axes=(0, 1))
    config = model.stage_config()
    factor = config.tile_multiple
    margin = -(-config.receptive_field // factor) * factor
    core = max(factor, -(-int(tile) // factor) * factor)
    height, width = array.shape
    period = as_pattern(pattern).shape[0]
    if min(height, width) < period:
        raise InputError(f"apply_denoiser: mosaic {array.shape} is smaller than its CFA period")
    # The chain's border rule (mosaic_border = "cfa_reflect"): a CFA-keeping mirror beyond the
    # image, so border pixels see natural context as in training, and tiles == one call.
    rows = cfa_reflect_index(tf.range(-margin, height + margin), height, period).numpy()
    cols = cfa_reflect_index(tf.range(-margin, width + margin), width, period).numpy()
    canvas = array[np.ix_(rows, cols)]
    if not premultiplied:
        canvas = canvas * np.float32(ratio)
    ratio_tensor = tf.constant([float(ratio)], tf.float32)
    canvas_pattern = shift_pattern(pattern, (-margin) % period, (-margin) % period)
    out = np.empty((height, width), np.float32)
    for y0 in range(0, height, core):
        for x0 in range(0, width, core):
            window = canvas[y0 : y0 + core + 2 * margin, x0 : x0 + core + 2 * margin]
            masks = cfa_masks(shift_pattern(canvas_pattern, y0, x0), *window.shape)
            result = model(
                {
                    "mosaic": tf.constant(window[None, :, :, None]),
                    "cfa_masks": masks[tf.newaxis],
                    "ratio": ratio_tensor,
                }
            )
            result = np.asarray(result)[0, :, :, 0]
            cy, cx = min(core, height - y0), min(core, width - x0)
            out[y0 : y0 + cy, x0 : x0 + cx] = result[margin : margin + cy, margin : margin + cx]
    return out
