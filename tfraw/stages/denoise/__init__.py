"""Raw denoising stage, LED-style (Jin et al., "Lighting Every Darkness in Two Pairs", ICCV 2023).

A U-Net of reparameterizable 3x3 blocks (:class:`tfraw.layers.reparam.RepConv2D`) is pre-trained
on synthetic noise of *virtual cameras* (each block routes every sample through its camera's
channel-wise alignment), customized to a real camera from a few noisy/clean pairs (a new
alignment, then a zero-initialized parallel branch), and folded into a plain convolutional
network for deployment (:meth:`DenoiseModel.deploy`).

Stage contract: ``{"mosaic" (B, H, W, 1), "cfa_masks" (B, H, W, 3), "ratio" (B,)} -> mosaic
(B, H, W, 1)``; the input is the normalized raw multiplied by the exposure ratio (digital gain,
``ratio``: read as the noise level by models with ``DenoiseConfig.ratio_input``, ignored by
blind ones), any Bayer phase or X-Trans (the masks carry the CFA).

Input representation (``DenoiseConfig.input_mode``), measured on a CPU probe (U-Net depth 2,
300/1000 steps of batch 8, 96-pixel crops, ratios 20-200, 24 held-out crops; noisy input
25.19 dB raw PSNR): ``space_to_depth`` folds ``concat(mosaic, masks)`` 2x2 into 16 channels at
half resolution (packed Bayer generalized to any CFA: the masks carry the phase and X-Trans);
``full`` runs the same input at full resolution. At equal width (base 16) the fold costs 3.7x
fewer FLOPs (122 vs 456 MFLOPs per 96x96 crop) but trails (26.05 vs 27.55 dB at 300 steps); at
equal FLOPs (fold base 32, 466 MFLOPs, 0.47 M parameters vs full base 16, 456 MFLOPs, 0.12 M)
the gap is 27.12 vs 27.55 dB at 300 steps and 28.00 vs 28.22 dB at 1000 steps, closing. The
default is the fold: 4x the parameters for the same compute (capacity for many virtual
cameras), LED/ELD/SID's packed design, and 36 k instead of 141 k MACs per pixel at base 32;
``full`` stays available for a longer A/B on a GPU before the final pre-training.

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
    metadata_inputs=("cfa_masks", "ratio"),
    cfa="any",
    trainable=True,
    loss=loss,
    make_dataset=make_dataset,
    mosaic_border="cfa_reflect",
    description="LED-style raw denoiser: U-Net of reparameterizable blocks, any CFA (masks)",
)
