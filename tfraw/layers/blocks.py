"""Small weightless layers the U-Net stages are built from.

All take and return channels-last float32 tensors ``(B, H, W, C)`` with dynamic ``H, W`` and are
registered serializable (package ``tfraw``), so models using them save to ``.keras`` and export.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import transfer

__all__ = [
    "AlignCFAPhase",
    "CropCFAPhase",
    "CropToMatch",
    "DepthToSpace",
    "PadToMultiple",
    "SpaceToDepth",
    "SrgbToLinear",
]


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


def _phase_shift(masks: tf.Tensor, reference) -> tuple[tf.Tensor, tf.Tensor]:
    """``(ty, tx)``: rows/columns to prepend so the CFA of ``masks`` starts at ``reference``.

    The phase is read from a per-phase colour histogram of all pixels (robust to zero masks
    where pixels do not exist): the shift ``(sy, sx)`` whose shifted reference
    (``shift_pattern(reference, sy, sx)``) agrees with the most mask mass wins. The masks'
    row 0 is then reference row ``sy``; prepending ``ty = sy`` rows (copies of rows ``p - sy``
    ... ``p - 1``, reference rows ``0 .. sy - 1``) puts reference row 0 first. (For Bayer
    ``sy == -sy mod 2``; for X-Trans only ``sy = sy mod 6`` is right: an earlier ``-sy mod p``
    misaligned X-Trans offsets other than 0 and 3.)
    """
    period = reference.shape[0]
    shape = tf.shape(masks)
    h, w = (shape[1] // period) * period, (shape[2] // period) * period
    blocks = tf.reshape(masks[:, :h, :w], [-1, h // period, period, w // period, period, 3])
    histogram = tf.reduce_sum(blocks, axis=[0, 1, 3])  # (p, p, 3)
    shifted = np.stack([
        np.eye(3, dtype=np.float32)[np.roll(reference, (-sy, -sx), axis=(0, 1))]
        for sy in range(period) for sx in range(period)
    ])  # fmt: skip
    score = tf.tensordot(tf.constant(shifted), histogram, axes=[[1, 2, 3], [0, 1, 2]])
    best = tf.cast(tf.argmax(score), tf.int32)
    return best // period, best % period


@keras.saving.register_keras_serializable(package="tfraw")
class AlignCFAPhase(keras.layers.Layer):
    """``(mosaic, masks) -> (mosaic, masks)`` starting at the CFA phase ``reference``.

    A model trained on one phase (``RGGB``, or LibRaw's X-Trans phase) then runs on any phase of
    its CFA family: the phase is detected from the masks (in the graph, so exported models do it
    too) and ``ty, tx < period`` rows/columns are prepended, each a copy of the nearest row/column
    of the same phase. :class:`CropCFAPhase` (given the original masks) removes them again.

    Example:
        >>> from tfraw.isp.cfa import cfa_masks
        >>> m = cfa_masks("GRBG", 6, 8)[tf.newaxis]
        >>> _, aligned = AlignCFAPhase("RGGB")(tf.zeros((1, 6, 8, 1)), m)
        >>> aligned.shape, aligned[0, 0, 0].numpy().tolist()
        (TensorShape([1, 6, 9, 3]), [1.0, 0.0, 0.0])
    """

    def __init__(self, reference: str = "RGGB", **kwargs):
        super().__init__(**kwargs)
        from tfraw.isp.cfa import as_pattern, pattern_name

        self.reference = pattern_name(reference)
        self._pattern = as_pattern(reference)

    def call(self, mosaic, masks):
        period = self._pattern.shape[0]
        ty, tx = _phase_shift(masks, self._pattern)
        shape = tf.shape(mosaic)
        rows = tf.concat([tf.range(ty) - ty + period, tf.range(shape[1])], axis=0)
        cols = tf.concat([tf.range(tx) - tx + period, tf.range(shape[2])], axis=0)

        def gather(t):
            return tf.gather(tf.gather(t, rows, axis=1), cols, axis=2)

        return gather(mosaic), gather(masks)

    def compute_output_shape(self, mosaic_shape, masks_shape):
        return (
            (mosaic_shape[0], None, None, mosaic_shape[3]),
            (masks_shape[0], None, None, masks_shape[3]),
        )

    def get_config(self):
        return {**super().get_config(), "reference": self.reference}


@keras.saving.register_keras_serializable(package="tfraw")
class CropCFAPhase(keras.layers.Layer):
    """``(x, original_masks) -> x`` without the rows/columns :class:`AlignCFAPhase` prepended."""

    def __init__(self, reference: str = "RGGB", **kwargs):
        super().__init__(**kwargs)
        from tfraw.isp.cfa import as_pattern, pattern_name

        self.reference = pattern_name(reference)
        self._pattern = as_pattern(reference)

    def call(self, x, masks):
        ty, tx = _phase_shift(masks, self._pattern)
        shape = tf.shape(masks)
        return x[:, ty : ty + shape[1], tx : tx + shape[2]]

    def compute_output_shape(self, x_shape, masks_shape):
        return (x_shape[0], masks_shape[1], masks_shape[2], x_shape[3])

    def get_config(self):
        return {**super().get_config(), "reference": self.reference}
