"""Input checks shared by the ``tfraw.isp`` modules."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError


def to_float_tensor(
    x: tf.Tensor | np.ndarray | float, name: str = "x", dtype: tf.DType = tf.float32
) -> tf.Tensor:
    """Converts numpy/python/tf numeric input to a float tensor, rejecting non-numeric input.

    Shared by the ``tfraw.isp`` modules so every op validates its input the same way.
    """
    if isinstance(x, tf.Tensor | tf.Variable):
        if not (x.dtype.is_floating or x.dtype.is_integer or x.dtype.is_bool):
            raise InputError(f"{name} must be numeric, got dtype {x.dtype.name}")
        return tf.cast(x, dtype)
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"{name} must be numeric, got dtype {arr.dtype} (shape {arr.shape})")
    return tf.convert_to_tensor(arr.astype(dtype.as_numpy_dtype, copy=False))
