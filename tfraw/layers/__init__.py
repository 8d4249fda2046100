"""Reusable Keras layers (channels-last, dynamic ``H, W``), shared by the neural stages."""

from tfraw.layers.blocks import (
    CropToMatch,
    DepthToSpace,
    PadToMultiple,
    SpaceToDepth,
    SrgbToLinear,
)

__all__ = ["CropToMatch", "DepthToSpace", "PadToMultiple", "SpaceToDepth", "SrgbToLinear"]
