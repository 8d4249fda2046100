"""Stages: every step of a pipeline is a Keras model with one contract (:mod:`tfraw.stages.base`).

``STAGES`` is the explicit registry (no import-time scanning): name -> :class:`StageSpec`.
Importing this package imports TensorFlow and Keras.
"""

from __future__ import annotations

from tfraw.stages.base import StageConfig, StageSpec
from tfraw.stages.classical import (
    AUTO_EXPOSURE_SPEC,
    COLOR_MATRIX_SPEC,
    DEMOSAIC_AUTO_SPEC,
    DEMOSAIC_BILINEAR_SPEC,
    DEMOSAIC_MALVAR_SPEC,
    DEMOSAIC_XTRANS_SPEC,
    HLG_ENCODE_SPEC,
    SRGB_ENCODE_SPEC,
)
from tfraw.stages.demosaic import BAYER_SPEC as DEMOSAIC_NN_BAYER_SPEC
from tfraw.stages.demosaic import XTRANS_SPEC as DEMOSAIC_NN_XTRANS_SPEC
from tfraw.stages.denoise import DENOISE_SPEC

__all__ = ["STAGES", "StageConfig", "StageSpec", "get_stage"]

STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        DEMOSAIC_AUTO_SPEC,
        DEMOSAIC_BILINEAR_SPEC,
        DEMOSAIC_MALVAR_SPEC,
        DEMOSAIC_XTRANS_SPEC,
        COLOR_MATRIX_SPEC,
        AUTO_EXPOSURE_SPEC,
        SRGB_ENCODE_SPEC,
        HLG_ENCODE_SPEC,
        DEMOSAIC_NN_BAYER_SPEC,
        DEMOSAIC_NN_XTRANS_SPEC,
        DENOISE_SPEC,
    )
}


def get_stage(name: str) -> StageSpec:
    """The registered stage ``name``; raises InputError listing the known names."""
    from tfraw.errors import InputError

    try:
        return STAGES[name]
    except KeyError:
        raise InputError(f"unknown stage {name!r}; known: {', '.join(sorted(STAGES))}") from None
