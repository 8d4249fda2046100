"""Small weightless layers the U-Net stages are built from.

All take and return channels-last float32 tensors ``(B, H, W, C)`` with dynamic ``H, W`` and are
registered serializable (package ``tfraw``), so models using them save to ``.keras`` and export.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import transfer

__all__ = ["CropToMatch", "DepthToSpace", "PadToMultiple", "SpaceToDepth", "SrgbToLinear"]


def _positive(name: str, value: int) -> int:
    if int(value) != value or int(value) < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@keras.saving.register_keras_serializable(package="tfraw")
class PadToMultiple(keras.layers.Layer):
    """Zero-pads the bottom and right so ``H`` and ``W`` become multiples of ``multiple``.

    Padding at the bottom/right keeps the CFA phase of the top-left pixel; zero CFA masks in
    the padding mark pixels that do not exist. Undo with :class:`CropToMatch`.

    Example:
        >>> PadToMultiple(8)(tf.zeros((1, 10, 17, 2))).shape
        TensorShape([1, 16, 24, 2])
    """

    def __init__(self, multiple: int = 8, **kwargs):
        super().__init__(**kwargs)
        self.multiple = _positive("multiple", multiple)

    def call(self, x):
        shape = tf.shape(x)
        pad_h = (-shape[1]) % self.multiple
        pad_w = (-shape[2]) % self.multiple
        return tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]])

    def compute_output_shape(self, input_shape):
        def up(n):
            return None if n is None else -(-n // self.multiple) * self.multiple

        return (input_shape[0], up(input_shape[1]), up(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="tfraw")
class CropToMatch(keras.layers.Layer):
    """``(x, reference) -> x[:, :H_ref, :W_ref, :]`` (undoes :class:`PadToMultiple`)."""

    def call(self, x, reference):
        shape = tf.shape(reference)
        return x[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, x_shape, reference_shape=None):
        if reference_shape is None:
            return x_shape
        return (x_shape[0], reference_shape[1], reference_shape[2], x_shape[3])


@keras.saving.register_keras_serializable(package="tfraw")
class SpaceToDepth(keras.layers.Layer):
    """``(B, H, W, C) -> (B, H/b, W/b, C b^2)`` (``H, W`` multiples of ``block``)."""

    def __init__(self, block: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block = _positive("block", block)

    def call(self, x):
        return tf.nn.space_to_depth(x, self.block)

    def compute_output_shape(self, input_shape):
        b = self.block
        h, w = input_shape[1], input_shape[2]
        return (
            input_shape[0],
            None if h is None else h // b,
            None if w is None else w // b,
            input_shape[3] * b * b,
        )

    def get_config(self):
        return {**super().get_config(), "block": self.block}


@keras.saving.register_keras_serializable(package="tfraw")
class DepthToSpace(keras.layers.Layer):
    """``(B, H, W, C b^2) -> (B, H b, W b, C)``, the inverse of :class:`SpaceToDepth`."""

    def __init__(self, block: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.block = _positive("block", block)

    def call(self, x):
        return tf.nn.depth_to_space(x, self.block)

    def compute_output_shape(self, input_shape):
        b = self.block
        h, w = input_shape[1], input_shape[2]
        return (
            input_shape[0],
            None if h is None else h * b,
            None if w is None else w * b,
            input_shape[3] // (b * b),
        )

    def get_config(self):
        return {**super().get_config(), "block": self.block}


@keras.saving.register_keras_serializable(package="tfraw")
class SrgbToLinear(keras.layers.Layer):
    """sRGB-encoded values -> linear (:func:`tfraw.isp.transfer.srgb_to_linear`), unclipped."""

    def call(self, x):
        return transfer.srgb_to_linear(x)
