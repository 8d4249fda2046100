"""Neural demosaicing for Bayer and X-Trans: a residual U-Net over a weightless interpolation.

Model (:class:`DemosaicModel`), ``{"mosaic" (B, H, W, 1), "cfa_masks" (B, H, W, 3)} -> linear
camera RGB (B, H, W, 3)``, never clipped:

1. the linear mosaic is encoded with the (sign-symmetric, unclipped) sRGB curve, so the network
   works on roughly perceptual values whatever the exposure;
2. a weightless classical demosaic is computed *from the masks* (``base``: Malvar-He-Cutler 2004
   on Bayer masks, green-guided normalized convolution on any other CFA; the arithmetic of
   :mod:`tfraw.stages.classical`), so one code path serves every Bayer phase and X-Trans;
3. a small U-Net sees ``[mosaic x masks, masks, base]`` (9 channels, all functions of the 4 input
   channels), packed ``pack x pack`` (space-to-depth; 2x2 as in DemosaicNet: Gharbi et al., "Deep
   joint demosaicking and denoising", SIGGRAPH Asia 2016; 6x6 for X-Trans puts one fixed colour
   in each packed channel, then a 1x1 projection), ``depth`` stride-2 levels, additive skips,
   3x3 convolutions with leaky ReLU, and predicts a residual (last convolution zero-initialized,
   so training starts exactly at the base) that is unpacked to full resolution and added to it;
4. the sum is decoded back to linear light (no clamp).

The stride of the network is ``pack * 2 ** depth``; inputs of any size are zero-padded (with zero
masks: "pixels that do not exist") to a multiple of it and cropped back. The model is trained
on one CFA phase (:attr:`DemosaicConfig.reference_pattern`, ``RGGB`` or LibRaw's X-Trans phase)
and other phases are aligned to it inside the graph (:class:`tfraw.layers.blocks.AlignCFAPhase`:
the phase is read from the masks and rows/columns of the same phase are prepended), so exported
models accept any phase of their CFA family. Whole images: :func:`demosaic_image` (the chain's
CFA-keeping mirror at the borders).

Loss (:func:`demosaic_loss`): L1 + gradient-L1 + chroma-L1 (+ optional 1 - SSIM), taken after
encoding prediction and target with the sRGB curve (the space the user sees).

Data (:func:`make_dataset`): the training photos are decoded once, area-downsampled (JPEG 2x,
very large JPEG 4x, so targets have full chroma resolution), cut into overlapping patches and
cached as uint8 (``.npz`` under ``cache_dir``), with pre-rendered torture patterns
(:mod:`tfraw.data.torture`) beside them. Each element ``e`` is then a pure function of
``(seed, e)`` (stateless random ops): pick a patch (torture with probability
``torture_ratio``), random crop, flip / rot90 of the RGB *before* mosaicking, sRGB -> linear,
exposure and white-balance jitter (some values pushed past 1.0), mosaic at the reference
phase, optional heteroscedastic noise. Because elements are indexed, training resumes at the
exact batch it stopped at (``start``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import transfer
from tfraw.isp.cfa import as_pattern, cfa_masks
from tfraw.isp.cfa import mosaic as cfa_mosaic
from tfraw.layers.blocks import (
    AlignCFAPhase,
    CropCFAPhase,
    CropToMatch,
    DepthToSpace,
    PadToMultiple,
    SpaceToDepth,
    SrgbToLinear,
)
from tfraw.stages.base import StageConfig, StageSpec
from tfraw.stages.classical import MaskDemosaic, TransferEncode

__all__ = [
    "BAYER_SPEC",
    "DemosaicConfig",
    "DemosaicModel",
    "SPEC",
    "XTRANS_SPEC",
    "count_macs_per_pixel",
    "macs_and_params",
    "demosaic_image",
    "demosaic_loss",
    "loss",
    "make_dataset",
    "make_loss",
    "training_patches",
]

_REFERENCE_PATTERNS = {"bayer": "RGGB", "xtrans": "XTRANS"}
_BASES = ("auto", "bilinear", "malvar", "xtrans")
#: Config fields that are constructor arguments of :class:`DemosaicModel` (the architecture).
_ARCH_FIELDS = ("cfa", "base", "width", "depth", "convs_per_level", "pack")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_JPEG_SUFFIXES = (".jpg", ".jpeg")


# ----------------------------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DemosaicConfig(StageConfig):
    """Hyperparameters of the demosaic stage: network, loss weights and data recipe.

    Network: ``cfa`` (``"bayer"``/``"xtrans"``: the training phase, see
    :attr:`reference_pattern`), ``base`` (weightless interpolation the U-Net refines),
    ``width`` (channels at the first level), ``depth`` (stride-2 levels below it),
    ``convs_per_level``, ``pack`` (space-to-depth factor of the input: 2, DemosaicNet's, or
    the CFA period, 6 for X-Trans, so every packed channel holds one fixed colour).

    Loss: ``l1_weight``, ``gradient_weight``, ``chroma_weight``, ``ssim_weight``.

    Data: ``data_dir`` (photo folder, searched recursively; empty: ``<shared data>/train``),
    ``cache_dir``, ``patch_size`` (training crop, a multiple of 6 and of the network stride),
    ``cache_patch`` and ``cache_stride`` (stored patches), ``batch_size``, ``jpeg_downsample``,
    ``large_jpeg_downsample`` (JPEGs whose long side is at least ``large_jpeg_side``),
    ``png_downsample_folders`` (PNG folders decoded from JPEG, downsampled like JPEGs),
    ``exposure_log2`` (min, max stops), ``wb_range`` (min, max per-channel gain),
    ``noise_std`` (max read-noise std; 0 = clean), ``torture_ratio``, ``torture_count``,
    ``sharpness_fraction`` (keep the sharpest fraction of images, by Laplacian variance),
    ``val_every`` (every n-th image is held out for validation), ``max_images`` (0 = all),
    ``teacher_raw_dir`` (real raw files: LibRaw DHT target, see :func:`load_teacher_images`).
    """

    cfa: str = "bayer"
    base: str = "auto"
    width: int = 32
    depth: int = 2
    convs_per_level: int = 2
    pack: int = 2
    l1_weight: float = 1.0
    gradient_weight: float = 0.5
    chroma_weight: float = 0.5
    ssim_weight: float = 0.0
    data_dir: str = ""
    cache_dir: str = "runs/cache"
    patch_size: int = 96
    cache_patch: int = 128
    cache_stride: int = 64
    batch_size: int = 16
    jpeg_downsample: int = 2
    large_jpeg_downsample: int = 4
    large_jpeg_side: int = 2500
    png_downsample_folders: tuple[str, ...] = ("bsds500_cbsd68",)
    exposure_log2: tuple[float, float] = (-1.0, 0.5)
    wb_range: tuple[float, float] = (0.8, 1.25)
    noise_std: float = 0.0
    torture_ratio: float = 0.05
    torture_count: int = 256
    sharpness_fraction: float = 1.0
    val_every: int = 20
    max_images: int = 0
    teacher_raw_dir: str = ""

    def validate(self) -> None:
        if self.cfa not in _REFERENCE_PATTERNS:
            raise InputError(f"DemosaicConfig.cfa must be 'bayer' or 'xtrans', got {self.cfa!r}")
        if self.base not in _BASES:
            raise InputError(f"DemosaicConfig.base must be one of {_BASES}, got {self.base!r}")
        if self.cfa == "xtrans" and self.base == "malvar":
            raise InputError("DemosaicConfig.base='malvar' needs cfa='bayer'")
        for name in (
            "width",
            "depth",
            "convs_per_level",
            "batch_size",
            "cache_patch",
            "cache_stride",
            "jpeg_downsample",
            "large_jpeg_downsample",
            "val_every",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise InputError(f"DemosaicConfig.{name} must be an integer >= 1, got {value!r}")
        if self.pack not in (2, 3, 6):
            raise InputError(f"DemosaicConfig.pack must be 2, 3 or 6, got {self.pack!r}")
        if self.depth > 4:
            raise InputError(f"DemosaicConfig.depth must be <= 4, got {self.depth}")
        multiple = math.lcm(6, self.stride)
        if self.patch_size % multiple or self.patch_size < multiple:
            raise InputError(
                f"DemosaicConfig.patch_size must be a positive multiple of {multiple} "
                f"(CFA period 6 and network stride {self.stride}), got {self.patch_size}"
            )
        if self.cache_patch < self.patch_size:
            raise InputError(
                f"DemosaicConfig.cache_patch ({self.cache_patch}) must be >= patch_size "
                f"({self.patch_size})"
            )
        for name in ("l1_weight", "gradient_weight", "chroma_weight", "ssim_weight", "noise_std"):
            if float(getattr(self, name)) < 0:
                raise InputError(f"DemosaicConfig.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= float(self.torture_ratio) <= 0.1:
            raise InputError(
                f"DemosaicConfig.torture_ratio must be in [0, 0.1] (torture patterns are a small "
                f"admixture, never the main data), got {self.torture_ratio}"
            )
        if not 0.0 < float(self.sharpness_fraction) <= 1.0:
            raise InputError(
                f"DemosaicConfig.sharpness_fraction must be in (0, 1], got {self.sharpness_fraction}"
            )
        for name in ("exposure_log2", "wb_range"):
            low, high = (float(v) for v in getattr(self, name))
            if low > high:
                raise InputError(
                    f"DemosaicConfig.{name} must be (min, max), got {getattr(self, name)}"
                )
        if float(self.wb_range[0]) <= 0:
            raise InputError(f"DemosaicConfig.wb_range must be positive, got {self.wb_range}")

    @property
    def stride(self) -> int:
        """Total downsampling of the network: ``pack`` packing, then ``depth`` stride-2 levels."""
        return self.pack * 2**self.depth

    @property
    def reference_pattern(self) -> str:
        """The CFA phase the model is trained on (``"RGGB"`` or ``"XTRANS"``)."""
        return _REFERENCE_PATTERNS[self.cfa]

    @property
    def receptive_field(self) -> int:
        # Base interpolation radius + each 3x3 conv at level l adds pack * 2**l full-res pixels
        # (encoder and decoder), plus the packing/unpacking block.
        base = 8 if self.base in ("auto", "xtrans") else 2
        convs = 0
        for level in range(self.depth + 1):
            scale = self.pack * 2**level
            count = self.convs_per_level * (2 if level < self.depth else 1) + (level > 0)
            convs += count * scale
        radius = base + convs + 2 * self.pack  # + output conv (scale pack) + the pack block
        # Rounded up to a multiple of lcm(6, stride): a tile margin of this size keeps both the
        # X-Trans phase and the network's stride grid of the tile equal to the image's.
        return -(-radius // self.tile_multiple) * self.tile_multiple

    @property
    def tile_multiple(self) -> int:
        """Tile origins, sizes and margins should be multiples of this: lcm(6, stride)."""
        return math.lcm(6, self.stride)


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------


_F32 = {"dtype": "float32"}


def _conv(filters: int, name: str, strides: int = 1, activation: str | None = "leaky_relu",
          kernel_initializer: str = "glorot_uniform"):  # fmt: skip
    # Leaky ReLU: with plain ReLU the whole last decoder level died within a few hundred steps
    # of a residual-over-Malvar run (the network learned "residual = 0" and stayed there).
    return keras.layers.Conv2D(
        filters, 3, strides=strides, padding="same", activation=activation, name=name,
        kernel_initializer=kernel_initializer,
    )  # fmt: skip


@keras.saving.register_keras_serializable(package="tfraw")
class DemosaicModel(keras.Model):
    """Residual U-Net demosaicker: ``{"mosaic", "cfa_masks"} -> linear camera RGB (B, H, W, 3)``.

    Every constructor argument is a :class:`DemosaicConfig` field and is returned by
    :meth:`get_config`; the data and loss fields are carried so that ``model.stage_config()``
    reproduces the training config.

    Example:
        >>> model = DemosaicModel(width=8, depth=1)
        >>> masks = cfa_masks("RGGB", 12, 20)[tf.newaxis]
        >>> model({"mosaic": tf.ones((1, 12, 20, 1)), "cfa_masks": masks}).shape
        TensorShape([1, 12, 20, 3])
    """

    def __init__(self, cfa: str = "bayer", base: str = "auto", width: int = 32, depth: int = 2,
                 convs_per_level: int = 2, pack: int = 2, stage_fields: dict | None = None,
                 **kwargs):  # fmt: skip
        config = DemosaicConfig.from_dict(
            {**(stage_fields or {}), "cfa": cfa, "base": base, "width": width, "depth": depth,
             "convs_per_level": convs_per_level, "pack": pack}
        )  # fmt: skip
        # Under a mixed policy (``train.precision``) only the U-Net's convolutions follow it; the
        # phase alignment, transfer curves, classical base, packing and the residual addition
        # are pinned to float32 (a bfloat16 mosaic or base would cap the PSNR near 48 dB).
        mosaic = keras.Input((None, None, 1), name="mosaic", dtype="float32")
        masks = keras.Input((None, None, 3), name="cfa_masks", dtype="float32")
        # Any phase of the CFA family: aligned to the training phase inside the graph.
        reference = config.reference_pattern
        aligned, aligned_masks = AlignCFAPhase(reference, name="align", **_F32)(mosaic, masks)
        encoded = TransferEncode("srgb", clip=False, name="encode", **_F32)(aligned)
        base_rgb = MaskDemosaic(base, name="base", **_F32)(encoded, aligned_masks)
        features = keras.layers.Concatenate(name="features", **_F32)(
            [keras.layers.Multiply(name="per_colour", **_F32)([encoded, aligned_masks]), aligned_masks,
             base_rgb]
        )  # fmt: skip
        x = PadToMultiple(config.stride, name="pad", **_F32)(features)
        x = SpaceToDepth(pack, name="pack", **_F32)(x)
        if pack > 2:
            # 9 * pack**2 packed channels (324 for 6x6): a 1x1 projection keeps the first 3x3
            # convolution's parameters at width**2 * 9 instead of 9 * pack**2 * width * 9.
            x = keras.layers.Conv2D(width, 1, activation="leaky_relu", name="entry")(x)
        skips = []
        for level in range(depth + 1):
            filters = width * 2**level
            if level > 0:
                x = _conv(filters, f"down{level}", strides=2)(x)
            for i in range(convs_per_level):
                x = _conv(filters, f"enc{level}_{i}")(x)
            skips.append(x)
        for level in range(depth - 1, -1, -1):
            filters = width * 2**level
            x = keras.layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level}")(x)
            x = keras.layers.Add(name=f"skip{level}")([x, skips[level]])
            for i in range(convs_per_level):
                x = _conv(filters, f"dec{level}_{i}")(x)
        # Zero-initialized: training starts exactly at the classical base.
        x = _conv(3 * pack**2, "to_residual", activation=None, kernel_initializer="zeros")(x)
        residual = CropToMatch(name="crop", **_F32)(
            DepthToSpace(pack, name="unpack", **_F32)(x), aligned
        )
        refined = keras.layers.Add(name="refine", **_F32)([base_rgb, residual])
        output = SrgbToLinear(name="decode", **_F32)(
            CropCFAPhase(reference, name="unalign", **_F32)(refined, masks)
        )
        super().__init__(inputs={"mosaic": mosaic, "cfa_masks": masks}, outputs=output, **kwargs)
        self.cfa = cfa
        self.base = base
        self.width = width
        self.depth = depth
        self.convs_per_level = convs_per_level
        self.pack = pack
        self._stage_config = config

    @classmethod
    def from_stage_config(cls, config: DemosaicConfig, **kwargs) -> DemosaicModel:
        values = config.to_dict()
        arch = {k: values.pop(k) for k in _ARCH_FIELDS}
        return cls(**arch, stage_fields=values, **kwargs)

    def stage_config(self) -> DemosaicConfig:
        return self._stage_config

    def get_config(self) -> dict[str, Any]:
        fields = self._stage_config.to_dict()
        arch = _ARCH_FIELDS
        return {
            "name": self.name,
            "trainable": self.trainable,
            **{k: getattr(self, k) for k in arch},
            "stage_fields": {k: v for k, v in fields.items() if k not in arch},
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def count_macs_per_pixel(model: keras.Model, size: int = 96) -> float:
    """Multiply-accumulates of the convolutions per output pixel (weightless ops not counted).

    Counted on a ``size x size`` input: ``Conv2D`` costs ``k_h k_w C_in C_out`` per output
    position, ``Conv2DTranspose`` ``k_h k_w C_in C_out`` per *input* position.
    """
    masks = cfa_masks("RGGB", size, size)[tf.newaxis]
    probe = keras.Model(
        model.inputs,
        [layer.output for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        + [
            layer.input for layer in model.layers if isinstance(layer, keras.layers.Conv2DTranspose)
        ],
    )
    outputs = probe({"mosaic": tf.zeros((1, size, size, 1)), "cfa_masks": masks})
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    transposed = [
        layer for layer in model.layers if isinstance(layer, keras.layers.Conv2DTranspose)
    ]
    total = 0.0
    for layer, out in zip(convs + transposed, outputs, strict=True):
        kernel = layer.kernel.shape  # (kh, kw, in, out) for Conv2D; (kh, kw, out, in) transposed
        positions = out.shape[1] * out.shape[2]
        total += positions * kernel[0] * kernel[1] * kernel[2] * kernel[3]
    return total / (size * size)


def demosaic_image(model, linear_mosaic, pattern, margin: int | None = None,
                   border: str | None = None, self_ensemble: int = 1):  # fmt: skip
    """Demosaics a whole image with a demosaic model, with the chain's border rule.

    The mosaic is extended by ``margin`` pixels on every side, demosaicked with its own masks
    (the model aligns any phase of its CFA family to its training phase itself) and cropped
    back: the same numbers as the tiled chain. Beyond the image, ``border`` (the stage's
    ``StageSpec.mosaic_border``) decides what the network sees: ``"cfa_reflect"``, the
    CFA-keeping mirror (:func:`tfraw.isp.cfa.cfa_reflect_index`; the network was trained on
    crops from inside photos and never saw an edge), or ``"missing"``, masks of zero (no
    samples there).

    Args:
        model: a :class:`DemosaicModel` or any callable on ``{"mosaic", "cfa_masks"}``.
        linear_mosaic: float32 ``(B, H, W, 1)``, linear, any range; ``H, W >= 6``.
        pattern: the CFA of ``linear_mosaic``.
        margin: extension in pixels (a multiple of 6); default: the model's receptive field.
        border: ``"cfa_reflect"`` or ``"missing"``; default: the registered stage of the model's
            CFA family (``demosaic_nn_bayer`` / ``demosaic_nn_xtrans``), else ``"cfa_reflect"``.
        self_ensemble: average over up to 1, 2, 4 or 8 symmetries of the square that keep the
            CFA family (:mod:`tfraw.inference.ensemble`; Bayer admits 8, X-Trans 2).

    Returns:
        float32 linear RGB ``(B, H, W, 3)``, unclipped.
    """
    from tfraw.inference.tiling import pattern_6x6, untiled_apply
    from tfraw.stages.base import MOSAIC_BORDERS

    if margin is None:
        margin = model.stage_config().receptive_field
    margin = int(margin)
    if margin % 6:
        raise InputError(f"demosaic_image: margin must be a multiple of 6, got {margin}")
    if border is None:
        border = "cfa_reflect"
        if hasattr(model, "stage_config"):
            border = (
                XTRANS_SPEC if model.stage_config().cfa == "xtrans" else BAYER_SPEC
            ).mosaic_border
    if border not in MOSAIC_BORDERS:
        raise InputError(f"demosaic_image: border must be one of {MOSAIC_BORDERS}, got {border!r}")
    if self_ensemble != 1:
        from tfraw.inference.ensemble import self_ensemble as ensemble

        def single(mosaic_k, pattern_k):
            return demosaic_image(model, mosaic_k, pattern_k, margin, border).numpy()

        array = np.asarray(tf.convert_to_tensor(linear_mosaic, tf.float32))
        return tf.constant(ensemble(single, array, pattern, self_ensemble))
    mosaic = tf.convert_to_tensor(linear_mosaic, tf.float32)
    pattern6 = tf.tile(
        tf.constant(pattern_6x6(pattern), tf.int32)[None], tf.stack([tf.shape(mosaic)[0], 1, 1])
    )
    # The chain's own untiled reference: one canvas, the same border rule and masks.
    return untiled_apply(
        lambda canvas, masks, valid, per_image: model({"mosaic": canvas, "cfa_masks": masks}),
        mosaic, pattern6, {}, margin, cfa_reflect=border == "cfa_reflect",
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Loss
# ----------------------------------------------------------------------------------------------


def _chroma(x: tf.Tensor) -> tf.Tensor:
    return tf.concat([x[..., 0:1] - x[..., 1:2], x[..., 2:3] - x[..., 1:2]], axis=-1)


def demosaic_loss(y_true, y_pred, l1_weight: float = 1.0, gradient_weight: float = 0.5,
                  chroma_weight: float = 0.5, ssim_weight: float = 0.0) -> tf.Tensor:  # fmt: skip
    """Per-image loss ``(B,)`` in sRGB-encoded space (sign-symmetric curve, nothing clipped).

    ``l1 |p - t| + gradient (|dx(p - t)| + |dy(p - t)|) + chroma |C(p) - C(t)|
    + ssim (1 - SSIM)``, with ``p, t`` the sRGB encodings of prediction and target and
    ``C = (R - G, B - G)`` (chroma errors are demosaicking's false colour).
    """
    p = transfer.linear_to_srgb(tf.cast(y_pred, tf.float32))
    t = transfer.linear_to_srgb(tf.cast(y_true, tf.float32))
    error = p - t
    total = l1_weight * tf.reduce_mean(tf.abs(error), axis=(1, 2, 3))
    if gradient_weight:
        dx = tf.reduce_mean(tf.abs(error[:, :, 1:] - error[:, :, :-1]), axis=(1, 2, 3))
        dy = tf.reduce_mean(tf.abs(error[:, 1:] - error[:, :-1]), axis=(1, 2, 3))
        total += gradient_weight * (dx + dy)
    if chroma_weight:
        total += chroma_weight * tf.reduce_mean(tf.abs(_chroma(p) - _chroma(t)), axis=(1, 2, 3))
    if ssim_weight:
        ssim = tf.image.ssim(tf.clip_by_value(p, 0, 1), tf.clip_by_value(t, 0, 1), max_val=1.0)
        total += ssim_weight * (1.0 - ssim)
    return total


def make_loss(config: DemosaicConfig):
    """``(y_true, y_pred) -> (B,)`` with the config's weights."""

    def demosaic_config_loss(y_true, y_pred):
        return demosaic_loss(
            y_true, y_pred, config.l1_weight, config.gradient_weight, config.chroma_weight,
            config.ssim_weight,
        )  # fmt: skip

    return demosaic_config_loss


@keras.saving.register_keras_serializable(package="tfraw")
def loss(y_true, y_pred):
    """:func:`demosaic_loss` with the default weights (the ``StageSpec.loss``)."""
    return demosaic_loss(y_true, y_pred)


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


def _area_downsample(image: np.ndarray, factor: int) -> np.ndarray:
    if factor == 1:
        return image
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:h, :w].reshape(h // factor, factor, w // factor, factor, image.shape[2])
    return blocks.mean(axis=(1, 3))


def _downsample_factor(path: Path, shape: tuple[int, ...], config: DemosaicConfig) -> int:
    if path.suffix.lower() in _JPEG_SUFFIXES:
        if max(shape[:2]) >= config.large_jpeg_side:
            return config.large_jpeg_downsample
        return config.jpeg_downsample
    if path.parent.name in config.png_downsample_folders:
        return config.jpeg_downsample
    return 1


def _resolve_data_dir(config: DemosaicConfig) -> Path:
    if config.data_dir:
        folder = Path(config.data_dir).expanduser()
    else:
        from tfraw.settings import data_dir

        shared = data_dir()
        if shared is None:
            raise InputError("DemosaicConfig.data_dir is empty and no shared data folder found")
        folder = shared / "train"
    if not folder.is_dir():
        raise InputError(f"DemosaicConfig.data_dir {folder}: not a folder")
    return folder


def list_training_images(config: DemosaicConfig, split: str) -> list[Path]:
    """The photos of ``split`` (``"train"`` or ``"val"``): every ``val_every``-th is held out.

    With ``sharpness_fraction < 1`` only the sharpest images (variance of the Laplacian,
    :mod:`tfraw.data.sharpness`, ranking saved as JSON in ``cache_dir``) are kept.
    """
    if split not in ("train", "val"):
        raise InputError(f"split must be 'train' or 'val', got {split!r}")
    folder = _resolve_data_dir(config)
    paths = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES
    )
    if config.sharpness_fraction < 1.0:
        paths = _sharpest(paths, folder, config)
    if config.max_images:
        paths = paths[: config.max_images]
    if config.val_every > 1 and len(paths) >= config.val_every:
        held = {i for i in range(len(paths)) if i % config.val_every == config.val_every - 1}
        paths = [p for i, p in enumerate(paths) if (i in held) == (split == "val")]
    if not paths:
        raise InputError(
            f"no {'/'.join(_IMAGE_SUFFIXES)} images for split {split!r} under {folder}"
        )
    return paths


def _sharpest(paths: list[Path], folder: Path, config: DemosaicConfig) -> list[Path]:
    from tfraw.data.sharpness import load_ranking, rank_folder, save_ranking, select_top

    ranking_path = Path(config.cache_dir) / f"sharpness_{_digest([str(folder)])}.json"
    if ranking_path.exists():
        ranking = load_ranking(ranking_path)
    else:
        ranking = []
        for sub in sorted({p.parent for p in paths}):
            for suffix in {p.suffix for p in paths if p.parent == sub}:
                ranking += rank_folder(sub, f"*{suffix}", progress=False, on_error="skip")
        ranking.sort(key=lambda r: -r["sharpness"])
        ranking_path.parent.mkdir(parents=True, exist_ok=True)
        save_ranking(ranking, ranking_path)
    keep = {Path(r["path"]).name + "|" + Path(r["path"]).parent.name
            for r in select_top(ranking, fraction=config.sharpness_fraction)}  # fmt: skip
    return [p for p in paths if p.name + "|" + p.parent.name in keep]


def _digest(items: list[str]) -> str:
    return hashlib.sha1("\n".join(items).encode()).hexdigest()[:12]


def _cut_patches(image: np.ndarray, size: int, stride: int) -> list[np.ndarray]:
    h, w = image.shape[:2]
    if h < size or w < size:
        return []
    ys = list(range(0, h - size + 1, stride))
    xs = list(range(0, w - size + 1, stride))
    return [image[y : y + size, x : x + size] for y in ys for x in xs]


def load_teacher_images(folder: str | os.PathLike, downsample: int = 4) -> list[np.ndarray]:
    """Teacher targets from real raw files: LibRaw DHT demosaic, 4x area-downsampled.

    Each raw is demosaicked by LibRaw (rawpy) with DHT (AHD when DHT refuses the CFA, e.g.
    X-Trans), raw camera colour, linear gamma, unit white balance, no auto-brightness, 16 bits;
    the result is normalized by the white level and area-downsampled ``downsample`` x (which
    averages away the teacher's own demosaicking errors) and returned sRGB-encoded in
    ``[0, 1]`` (unclipped values above 1 are kept), to be re-mosaicked like a photo.
    """
    import rawpy

    images = []
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file():
            continue
        try:
            raw = rawpy.imread(str(path))
        except Exception:  # not a raw file LibRaw understands
            continue
        with raw:
            for algorithm in ("DHT", "AHD"):
                try:
                    rgb = raw.postprocess(
                        demosaic_algorithm=getattr(rawpy.DemosaicAlgorithm, algorithm),
                        output_color=rawpy.ColorSpace.raw, gamma=(1, 1), no_auto_bright=True,
                        output_bps=16, use_camera_wb=False, user_wb=[1.0, 1.0, 1.0, 1.0],
                        user_flip=0, adjust_maximum_thr=0.0,
                    )  # fmt: skip
                    break
                except Exception:
                    rgb = None
        if rgb is None:
            continue
        linear = _area_downsample(rgb.astype(np.float32) / 65535.0, downsample)
        images.append(np.asarray(transfer.linear_to_srgb(linear)))
    return images


def training_patches(config: DemosaicConfig, split: str) -> np.ndarray:
    """uint8 sRGB patches ``(N, cache_patch, cache_patch, 3)`` of the split's photos.

    The photos are area-downsampled (JPEG ``jpeg_downsample`` x, large JPEGs and the PNG folders
    more), which averages away their own noise, demosaicking and compression artefacts, and cut
    with ``cache_stride``; the array is cached as ``.npz`` in ``cache_dir`` keyed by the file
    list and settings, so every stage that trains on photos (demosaic, denoise) shares one cache.
    """
    return _build_cache(config, split)


def _build_cache(config: DemosaicConfig, split: str) -> np.ndarray:
    """uint8 sRGB patches ``(N, P, P, 3)`` of the split's photos (cached as ``.npz``)."""
    from PIL import Image

    paths = list_training_images(config, split) if not config.teacher_raw_dir else []
    keys = [f"{p}:{p.stat().st_size}" for p in paths] + [
        config.teacher_raw_dir, str(config.cache_patch), str(config.cache_stride),
        str(config.jpeg_downsample), str(config.large_jpeg_downsample),
        str(config.large_jpeg_side), ",".join(config.png_downsample_folders), "v1",
    ]  # fmt: skip
    cache = Path(config.cache_dir) / f"demosaic_{split}_{_digest(keys)}.npz"
    if cache.exists():
        return np.load(cache)["patches"]
    patches: list[np.ndarray] = []
    if config.teacher_raw_dir:
        for image in load_teacher_images(config.teacher_raw_dir):
            quantized = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
            patches += _cut_patches(quantized, config.cache_patch, config.cache_stride)
    for path in paths:
        with Image.open(path) as handle:
            rgb = np.asarray(handle.convert("RGB"), dtype=np.float32)
        rgb = _area_downsample(rgb, _downsample_factor(path, rgb.shape, config))
        image = np.clip(np.round(rgb), 0, 255).astype(np.uint8)
        patches += _cut_patches(image, config.cache_patch, config.cache_stride)
    if not patches:
        raise InputError(
            f"no training patch: every image is smaller than cache_patch={config.cache_patch} "
            f"after downsampling ({len(paths)} images)"
        )
    array = np.stack(patches)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, patches=array)
    os.replace(tmp, cache)
    return array


def _torture_patches(config: DemosaicConfig, seed: int) -> np.ndarray:
    """uint8 ``(torture_count, P, P, 3)`` torture patterns (rendered once, cached)."""
    if config.torture_ratio == 0 or config.torture_count == 0:
        return np.zeros((0, config.cache_patch, config.cache_patch, 3), np.uint8)
    from tfraw.data.torture import torture_dataset

    cache = (
        Path(config.cache_dir) / f"torture_{config.cache_patch}_{config.torture_count}_{seed}.npz"
    )
    if cache.exists():
        return np.load(cache)["patches"]
    patterns = [
        p.numpy() for p in torture_dataset(config.cache_patch, seed).take(config.torture_count)
    ]
    array = np.round(np.clip(np.stack(patterns), 0, 1) * 255).astype(np.uint8)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, patches=array)
    return array


def make_dataset(config: DemosaicConfig, split: str = "train", seed: int = 0, start: int = 0):
    """``tf.data.Dataset`` of ``({"mosaic", "cfa_masks"}, linear_rgb_target)`` batches.

    Args:
        config: the stage config (data recipe fields).
        split: ``"train"`` (infinite) or ``"val"`` (the held-out photos, one fixed batch per
            step index, infinite as well; take what you need).
        seed: data seed; element ``e`` depends only on ``(seed, e)``.
        start: index of the first *batch* (resume: the trainer passes its step counter).

    Returns:
        Batches ``({"mosaic": (B, p, p, 1), "cfa_masks": (B, p, p, 3)}, (B, p, p, 3))``, float32,
        linear, with ``p = patch_size`` and ``B = batch_size``.
    """
    natural = _build_cache(config, split)
    torture = _torture_patches(config, seed) if split == "train" else natural[:0]
    pool = tf.constant(np.concatenate([natural, torture]))
    n_natural, n_torture = len(natural), len(torture)
    ratio = float(config.torture_ratio) if n_torture else 0.0
    size, stored = config.patch_size, config.cache_patch
    pattern = as_pattern(config.reference_pattern)
    masks = cfa_masks(pattern, size, size)
    exposure_lo, exposure_hi = (float(v) for v in config.exposure_log2)
    wb_lo, wb_hi = (math.log(float(v)) for v in config.wb_range)
    split_salt = 0 if split == "train" else 7919

    def element(index):
        key = tf.stack([tf.cast(seed + split_salt, tf.int64), index])
        u = tf.random.stateless_uniform([10], seed=key)
        torture_pick = u[0] < ratio
        natural_index = tf.cast(u[1] * n_natural, tf.int32)
        torture_index = n_natural + tf.cast(u[1] * max(n_torture, 1), tf.int32)
        chosen = tf.minimum(
            tf.where(torture_pick, torture_index, natural_index), n_natural + n_torture - 1
        )
        patch = pool[chosen]
        oy = tf.cast(u[2] * (stored - size + 1), tf.int32)
        ox = tf.cast(u[3] * (stored - size + 1), tf.int32)
        srgb = tf.cast(patch[oy : oy + size, ox : ox + size], tf.float32) / 255.0
        # Geometry on the RGB image, before mosaicking (DESIGN.md): the CFA phase stays fixed.
        srgb = tf.cond(u[4] < 0.5, lambda: tf.reverse(srgb, [1]), lambda: srgb)
        srgb = tf.image.rot90(srgb, tf.cast(u[5] * 4, tf.int32) % 4)
        linear = transfer.srgb_to_linear(srgb)
        exposure = tf.pow(2.0, exposure_lo + u[6] * (exposure_hi - exposure_lo))
        gains = tf.exp(wb_lo + u[7:10] * (wb_hi - wb_lo))
        target = linear * exposure * gains
        raw = cfa_mosaic(target, pattern)
        if config.noise_std > 0:
            noise_key = tf.stack([key[0] + 1, index])
            level = tf.random.stateless_uniform([], seed=noise_key) * config.noise_std
            std = tf.sqrt(level**2 + level * tf.maximum(raw, 0.0))
            raw = raw + std * tf.random.stateless_normal(tf.shape(raw), seed=noise_key + 1)
        return {
            "mosaic": tf.ensure_shape(raw, (size, size, 1)),
            "cfa_masks": masks,
        }, tf.ensure_shape(target, (size, size, 3))

    batch = config.batch_size
    return (
        tf.data.Dataset.range(int(start) * batch, 2**62)
        .map(element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


# ----------------------------------------------------------------------------------------------
# Registry entries
# ----------------------------------------------------------------------------------------------


def _spec(cfa: str, mosaic_border: str) -> StageSpec:
    return StageSpec(
        name=f"demosaic_nn_{cfa}",
        config_class=DemosaicConfig,
        model_class=DemosaicModel,
        input_kind="mosaic",
        output_kind="linear_camera_rgb",
        metadata_inputs=("cfa_masks",),
        cfa=cfa,
        trainable=True,
        loss=loss,
        make_dataset=make_dataset,
        default_config={"cfa": cfa},
        mosaic_border=mosaic_border,
        description=f"neural demosaic ({'Bayer' if cfa == 'bayer' else 'X-Trans'}): residual "
        "U-Net over a mask-based classical interpolation, linear in, linear out",
    )


# Border rules measured on Kodak24 (tfraw eval demosaic, 2026-12-02): the CFA-keeping mirror
# is exact REFLECT for Bayer (+0.76 dB over "missing" for the shipped model); for X-Trans it
# must move the mirror image by up to 5 pixels to keep the colour, and "missing" scores higher.
BAYER_SPEC = _spec("bayer", "cfa_reflect")
XTRANS_SPEC = _spec("xtrans", "missing")
#: The module's default entry (Bayer); both are registered in :data:`tfraw.stages.STAGES` as
#: ``demosaic_nn_bayer`` / ``demosaic_nn_xtrans`` (``demosaic_xtrans`` is the classical one); the
#: shipped exports are ``saved_models/demosaic_bayer`` and ``saved_models/demosaic_xtrans``.
SPEC = BAYER_SPEC


def macs_and_params(model: keras.Model) -> dict[str, float]:
    """``{"params": int, "macs_per_pixel": float}`` of a model (metadata and reports)."""
    return {"params": int(model.count_params()), "macs_per_pixel": count_macs_per_pixel(model)}


if __name__ == "__main__":  # pragma: no cover - quick size report
    for cfa_name in ("bayer", "xtrans"):
        m = DemosaicModel.from_stage_config(DemosaicConfig(cfa=cfa_name))
        print(cfa_name, json.dumps(macs_and_params(m)))
