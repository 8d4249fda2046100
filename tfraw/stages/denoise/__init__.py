"""Raw denoising stage, LED-style (Jin et al., "Lighting Every Darkness in Two Pairs", ICCV 2023).

A U-Net of reparameterizable 3x3 blocks (:class:`tfraw.layers.reparam.RepConv2D`) is pre-trained
on synthetic noise of *virtual cameras* (each block routes every sample through its camera's
channel-wise alignment), customized to a real camera from a few noisy/clean pairs (a new
alignment, then a zero-initialized parallel branch), and folded into a plain convolutional
network for deployment (:meth:`DenoiseModel.deploy`).

Stage contract: ``{"mosaic" (B, H, W, 1), "cfa_masks" (B, H, W, 3)} -> mosaic (B, H, W, 1)``;
the input is the normalized raw multiplied by the exposure ratio (digital gain), any Bayer phase
or X-Trans (the masks carry the CFA).

Input representation: ``concat(mosaic, masks)`` folded 2x2 by space-to-depth (16 channels at
half resolution) -- for a Bayer CFA this is packed 4-channel Bayer plus the phase, for X-Trans it
is the 2x2 fold with the masks telling the colours -- rather than the same input at full
resolution: 4x fewer MACs at equal width and depth, one more octave of context; see the module
``tfraw.stages.denoise`` README numbers in the issue note.

Modules: :mod:`.config` (``DenoiseConfig``), :mod:`.model` (``DenoiseModel``, ``loss``),
:mod:`.data` (``make_dataset``, virtual cameras, few-shot pairs), :mod:`.train` (``pretrain``,
``finetune``, ``finetune_main``, ``pretrain_main``).
"""

from __future__ import annotations

from tfraw.stages.base import StageSpec
from tfraw.stages.denoise.config import DenoiseConfig
from tfraw.stages.denoise.data import make_dataset, make_virtual_cameras, read_pair_list
from tfraw.stages.denoise.model import DenoiseModel, loss
from tfraw.stages.denoise.train import (
    FinetuneSettings,
    finetune,
    finetune_main,
    load_denoiser,
    pretrain,
    pretrain_main,
)

__all__ = [
    "DENOISE_SPEC",
    "DenoiseConfig",
    "DenoiseModel",
    "FinetuneSettings",
    "finetune",
    "finetune_main",
    "load_denoiser",
    "loss",
    "make_dataset",
    "make_virtual_cameras",
    "pretrain",
    "pretrain_main",
    "read_pair_list",
]

DENOISE_SPEC = StageSpec(
    name="denoise_led",
    config_class=DenoiseConfig,
    model_class=DenoiseModel,
    input_kind="mosaic",
    output_kind="mosaic",
    metadata_inputs=("cfa_masks",),
    cfa="any",
    trainable=True,
    loss=loss,
    make_dataset=make_dataset,
    description="LED-style raw denoiser: U-Net of reparameterizable blocks, any CFA (masks)",
)
