"""Unprocessing of sRGB images into synthetic linear camera RGB, and the matching processing.

Brooks, Mildenhall, Xue, Chen, Sharlet, Barron, "Unprocessing Images for Learned Raw Denoising",
CVPR 2019 (arXiv:1811.11127), Section 3. Random camera parameters are *sampled* apart from
*applying* them: :func:`sample_unprocess_params` draws a dict of tensors from a stateless seed, and
each ``apply_*`` step is deterministic and has its inverse named as a pair:

==========================  ==========================
unprocess (sRGB -> raw)     process (raw -> sRGB)
==========================  ==========================
apply_inverse_smoothstep    apply_smoothstep
srgb_to_linear              linear_to_srgb
apply_inverse_ccm           apply_ccm
apply_inverse_gains         apply_gains
==========================  ==========================

:func:`unprocess` returns linear camera RGB (not mosaicked, not clipped; the caller mosaics with
:func:`tfraw.isp.cfa.mosaic`) and :func:`process` maps (demosaicked) camera RGB back to display
sRGB, so that ``process(unprocess(x), p) ~= x``. The paper approximates the sRGB curve with a
2.2 power; tfraw uses the exact IEC 61966-2-1 curve from :mod:`tfraw.isp.transfer` both ways.

Parameters may be unbatched (scalars, ``(3, 3)`` matrices; they apply to any image rank) or
batched (``(B,)``, ``(B, 3, 3)``; the image must then be ``(B, H, W, 3)``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import color
from tfraw.isp.transfer import linear_to_srgb, srgb_to_linear

__all__ = [
    "XYZ_TO_CAM_MATRICES",
    "apply_ccm",
    "apply_gains",
    "apply_inverse_ccm",
    "apply_inverse_gains",
    "apply_inverse_smoothstep",
    "apply_smoothstep",
    "process",
    "sample_unprocess_params",
    "unprocess",
]

#: XYZ -> camera matrices of four cameras, as released with Brooks et al. 2019
#: (google-research/unprocessing, ``random_ccm``); the paper samples random convex combinations.
XYZ_TO_CAM_MATRICES: np.ndarray = np.array(
    [
        [[1.0234, -0.2969, -0.2266], [-0.5625, 1.6328, -0.0469], [-0.0703, 0.2188, 0.6406]],
        [[0.4913, -0.0541, -0.0202], [-0.613, 1.3513, 0.2906], [-0.1564, 0.2151, 0.7183]],
        [[0.838, -0.263, -0.0639], [-0.2887, 1.0725, 0.2496], [-0.0627, 0.1427, 0.5438]],
        [[0.6596, -0.2079, -0.0562], [-0.4782, 1.3016, 0.1933], [-0.097, 0.1581, 0.5181]],
    ],
    np.float32,
)

# Brooks et al. 2019, Sec. 3.2 ("White balance and digital gain"): red gain U[1.9, 2.4], blue
# gain U[1.5, 1.9] (fit to the Darmstadt Noise Dataset), digital gain 1 / N(mu=0.8, sigma=0.1).
RED_GAIN_RANGE = (1.9, 2.4)
BLUE_GAIN_RANGE = (1.5, 1.9)
RGB_GAIN_INVERSE_MEAN = 0.8
RGB_GAIN_INVERSE_STD = 0.1
# Sec. 3.2: the safe inverse of the gains leaves intensities above this unchanged-ish, blending
# smoothly (quadratically) to a gain of 1 at white, so saturated highlights are not darkened
# into fake mid-tones.
_HIGHLIGHT_INFLECTION = 0.9


def _seed(seed: tf.Tensor | np.ndarray | tuple[int, int]) -> tf.Tensor:
    tensor = tf.convert_to_tensor(seed)
    if tensor.shape.rank != 1 or tensor.shape[0] != 2 or not tensor.dtype.is_integer:
        raise InputError(f"seed must be an integer tensor of shape [2], got {tensor.shape}")
    return tf.cast(tensor, tf.int64)


def sample_unprocess_params(
    seed: tf.Tensor | np.ndarray | tuple[int, int], batch_size: int | None = None
) -> dict[str, tf.Tensor]:
    """Samples random camera parameters (stateless: the same seed gives the same parameters).

    Ranges (Brooks et al. 2019, Sec. 3):

    - ``rgb_to_cam``: ``XYZ->cam`` = a random convex combination of :data:`XYZ_TO_CAM_MATRICES`
      (weights ``U(1e-8, 1)`` normalized to sum 1), times ``sRGB->XYZ`` (IEC 61966-2-1,
      :data:`tfraw.isp.color.SRGB_TO_XYZ_D65`), each
      row normalized to sum 1 so that white maps to white before white balance.
    - ``cam_to_rgb``: the inverse of ``rgb_to_cam``.
    - ``red_gain``: ``U(1.9, 2.4)``; ``blue_gain``: ``U(1.5, 1.9)`` (Sec. 3.2).
    - ``rgb_gain``: ``1 / N(0.8, 0.1)`` (Sec. 3.2, digital/brightness gain); the normal draw is
      kept above 0.1 so the gain stays finite (a > 7-sigma event otherwise).

    Args:
        seed: int tensor of shape ``[2]`` (as for ``tf.random.stateless_*``).
        batch_size: ``None`` for one set (scalars and ``(3, 3)`` matrices) or ``B`` for a
            batch (``(B,)`` and ``(B, 3, 3)``).

    Returns:
        dict of float32 tensors ``rgb_to_cam``, ``cam_to_rgb``, ``red_gain``, ``blue_gain``,
        ``rgb_gain``.

    Example:
        >>> p = sample_unprocess_params(tf.constant([1, 2]), batch_size=4)
        >>> p["rgb_to_cam"].shape, p["red_gain"].shape
        (TensorShape([4, 3, 3]), TensorShape([4]))
    """
    seeds = tf.random.experimental.stateless_split(_seed(seed), num=4)
    shape = [] if batch_size is None else [int(batch_size)]
    count = len(XYZ_TO_CAM_MATRICES)
    weights = tf.random.stateless_uniform(shape + [count], seeds[0], minval=1e-8, maxval=1.0)
    weights = weights / tf.reduce_sum(weights, axis=-1, keepdims=True)
    xyz_to_cam = tf.einsum("...k,kij->...ij", weights, tf.constant(XYZ_TO_CAM_MATRICES))
    rgb_to_cam = tf.linalg.matmul(xyz_to_cam, tf.constant(color.SRGB_TO_XYZ_D65, tf.float32))
    rgb_to_cam = rgb_to_cam / tf.reduce_sum(rgb_to_cam, axis=-1, keepdims=True)
    cam_to_rgb = tf.linalg.inv(rgb_to_cam)
    red_gain = tf.random.stateless_uniform(shape, seeds[1], *RED_GAIN_RANGE)
    blue_gain = tf.random.stateless_uniform(shape, seeds[2], *BLUE_GAIN_RANGE)
    inverse_gain = tf.random.stateless_normal(
        shape, seeds[3], mean=RGB_GAIN_INVERSE_MEAN, stddev=RGB_GAIN_INVERSE_STD
    )
    rgb_gain = 1.0 / tf.maximum(inverse_gain, 0.1)
    return {
        "rgb_to_cam": rgb_to_cam,
        "cam_to_rgb": cam_to_rgb,
        "red_gain": red_gain,
        "blue_gain": blue_gain,
        "rgb_gain": rgb_gain,
    }


def _check_rgb(image: tf.Tensor | np.ndarray, name: str) -> tf.Tensor:
    try:
        tensor = tf.cast(tf.convert_to_tensor(image), tf.float32)
    except (TypeError, ValueError) as err:
        raise InputError(f"{name}: cannot convert {type(image).__name__} to a tensor") from err
    if tensor.shape.rank is None or tensor.shape.rank < 1 or tensor.shape[-1] != 3:
        raise InputError(f"{name}: expected (..., 3) RGB, got shape {tensor.shape}")
    return tensor


def _param(params: dict[str, tf.Tensor], key: str, name: str) -> tf.Tensor:
    if key not in params:
        raise InputError(f"{name}: params lacks {key!r}; has {sorted(params)}")
    return tf.cast(tf.convert_to_tensor(params[key]), tf.float32)


def _per_image(value: tf.Tensor, image: tf.Tensor, trailing: int) -> tf.Tensor:
    """Reshapes a batched ``(B, ...)`` parameter to broadcast against ``(B, H, W, 3)``."""
    extra = value.shape.rank - trailing
    if extra == 0:
        return value
    if extra != 1 or image.shape.rank != 4:
        raise InputError(
            f"batched parameter of shape {value.shape} needs a (B, H, W, 3) image, "
            f"got {image.shape}"
        )
    return tf.reshape(value, tf.concat([tf.shape(value)[:1], [1, 1], tf.shape(value)[1:]], 0))


def apply_smoothstep(image: tf.Tensor | np.ndarray) -> tf.Tensor:
    """The global tone curve of Brooks et al. (Sec. 3.4): ``3x^2 - 2x^3``.

    Args:
        image: float tensor, any shape, meant for ``[0, 1]``.

    Returns:
        float32 tensor of the same shape, ``[0, 1]`` for inputs in ``[0, 1]``.

    Example:
        >>> float(apply_smoothstep(0.5))
        0.5
    """
    x = tf.cast(tf.convert_to_tensor(image), tf.float32)
    return 3.0 * x**2 - 2.0 * x**3


def apply_inverse_smoothstep(image: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Inverse of :func:`apply_smoothstep`: ``0.5 - sin(asin(1 - 2y) / 3)``.

    Args:
        image: float tensor, any shape; values are clamped to ``[0, 1]`` (the curve has no
            inverse outside, and display-referred sRGB lives there).

    Returns:
        float32 tensor of the same shape in ``[0, 1]``.

    Example:
        >>> round(float(apply_inverse_smoothstep(apply_smoothstep(0.2))), 6)
        0.2
    """
    y = tf.clip_by_value(tf.cast(tf.convert_to_tensor(image), tf.float32), 0.0, 1.0)
    # Keep asin's argument off +-1 where its derivative is infinite.
    arg = tf.clip_by_value(1.0 - 2.0 * y, -1.0 + 1e-6, 1.0 - 1e-6)
    return 0.5 - tf.sin(tf.asin(arg) / 3.0)


def apply_inverse_ccm(image: tf.Tensor | np.ndarray, params: dict[str, tf.Tensor]) -> tf.Tensor:
    """Linear sRGB to linear camera RGB with ``params["rgb_to_cam"]``.

    Args:
        image: float tensor ``(..., 3)`` (``(B, H, W, 3)`` for batched params), linear.
        params: dict from :func:`sample_unprocess_params`.

    Returns:
        float32 tensor of the same shape, not clipped.

    Example:
        >>> p = sample_unprocess_params(tf.constant([0, 1]))
        >>> round(float(tf.reduce_max(apply_inverse_ccm(tf.ones((2, 2, 3)), p))), 4)
        1.0
    """
    image = _check_rgb(image, "apply_inverse_ccm")
    return color.apply_ccm(image, _param(params, "rgb_to_cam", "apply_inverse_ccm"))


def apply_ccm(image: tf.Tensor | np.ndarray, params: dict[str, tf.Tensor]) -> tf.Tensor:
    """Linear camera RGB to linear sRGB with ``params["cam_to_rgb"]`` (inverse of the above).

    Args:
        image: float tensor ``(..., 3)`` (``(B, H, W, 3)`` for batched params), linear.
        params: dict from :func:`sample_unprocess_params`.

    Returns:
        float32 tensor of the same shape, not clipped.

    Example:
        >>> p = sample_unprocess_params(tf.constant([0, 1]))
        >>> x = tf.random.uniform((4, 4, 3))
        >>> bool(tf.reduce_max(tf.abs(apply_ccm(apply_inverse_ccm(x, p), p) - x)) < 1e-5)
        True
    """
    image = _check_rgb(image, "apply_ccm")
    return color.apply_ccm(image, _param(params, "cam_to_rgb", "apply_ccm"))


def _gains(image: tf.Tensor, params: dict[str, tf.Tensor], name: str) -> tf.Tensor:
    """Per-channel gains ``rgb_gain * [red_gain, 1, blue_gain]``, broadcastable to ``image``."""
    red = _param(params, "red_gain", name)
    blue = _param(params, "blue_gain", name)
    rgb_gain = _param(params, "rgb_gain", name)
    gains = tf.stack([red, tf.ones_like(red), blue], axis=-1) * rgb_gain[..., tf.newaxis]
    return _per_image(gains, image, 1)


def apply_gains(image: tf.Tensor | np.ndarray, params: dict[str, tf.Tensor]) -> tf.Tensor:
    """White balance and digital gain: ``image * rgb_gain * [red_gain, 1, blue_gain]``.

    Args:
        image: float tensor ``(..., 3)`` linear camera RGB (``(B, H, W, 3)`` if batched).
        params: dict from :func:`sample_unprocess_params`.

    Returns:
        float32 tensor of the same shape, not clipped.

    Example:
        >>> p = {"red_gain": 2.0, "blue_gain": 1.5, "rgb_gain": 1.0}
        >>> apply_gains(tf.ones((1, 1, 3)), p).numpy().ravel().tolist()
        [2.0, 1.0, 1.5]
    """
    image = _check_rgb(image, "apply_gains")
    return image * _gains(image, params, "apply_gains")


def apply_inverse_gains(image: tf.Tensor | np.ndarray, params: dict[str, tf.Tensor]) -> tf.Tensor:
    """Highlight-preserving inverse of :func:`apply_gains` (Brooks et al. 2019, Sec. 3.2).

    Dividing by the gains would turn saturated white into a grey that the camera could never
    have recorded. Instead the inverse gain ``g`` is blended towards 1 as the pixel's mean
    intensity ``m`` goes from 0.9 to 1: ``a = (max(m - 0.9, 0) / 0.1)^2``,
    ``safe = max(a + (1 - a) * g, g)``. Where ``m <= 0.9`` this is the exact inverse.

    Args:
        image: float tensor ``(..., 3)`` linear camera RGB (``(B, H, W, 3)`` if batched).
        params: dict from :func:`sample_unprocess_params`.

    Returns:
        float32 tensor of the same shape, not clipped.

    Example:
        >>> p = {"red_gain": 2.0, "blue_gain": 1.5, "rgb_gain": 1.0}
        >>> [round(float(v), 4) for v in apply_inverse_gains(tf.fill((1, 1, 3), 0.5), p)[0, 0]]
        [0.25, 0.5, 0.3333]
    """
    image = _check_rgb(image, "apply_inverse_gains")
    inverse = 1.0 / _gains(image, params, "apply_inverse_gains")
    gray = tf.reduce_mean(image, axis=-1, keepdims=True)
    blend = (tf.maximum(gray - _HIGHLIGHT_INFLECTION, 0.0) / (1.0 - _HIGHLIGHT_INFLECTION)) ** 2
    safe = tf.maximum(blend + (1.0 - blend) * inverse, inverse)
    return image * safe


def unprocess(srgb: tf.Tensor | np.ndarray, params: dict[str, tf.Tensor]) -> tf.Tensor:
    """Display sRGB to synthetic linear camera RGB (Brooks et al. 2019, Fig. 2).

    inverse tone curve -> sRGB decoding -> inverse colour matrix -> safe inverse gains.

    Args:
        srgb: float tensor ``(..., 3)`` in ``[0, 1]`` (``(B, H, W, 3)`` for batched params).
        params: dict from :func:`sample_unprocess_params`.

    Returns:
        float32 linear camera RGB of the same shape, not clipped and not mosaicked (mosaic
        with :func:`tfraw.isp.cfa.mosaic`; add noise with :mod:`tfraw.isp.noise`).

    Example:
        >>> p = sample_unprocess_params(tf.constant([3, 4]))
        >>> unprocess(tf.fill((8, 8, 3), 0.5), p).shape
        TensorShape([8, 8, 3])
    """
    srgb = _check_rgb(srgb, "unprocess")
    image = apply_inverse_smoothstep(srgb)
    image = srgb_to_linear(image)
    image = apply_inverse_ccm(image, params)
    return apply_inverse_gains(image, params)


def process(raw_rgb: tf.Tensor | np.ndarray, params: dict[str, tf.Tensor]) -> tf.Tensor:
    """Linear camera RGB to display sRGB; the inverse of :func:`unprocess`.

    gains -> colour matrix -> clip to ``[0, 1]`` (the display transform) -> sRGB encoding ->
    tone curve.

    Args:
        raw_rgb: float tensor ``(..., 3)`` linear camera RGB, e.g. demosaicked
            (``(B, H, W, 3)`` for batched params).
        params: dict from :func:`sample_unprocess_params`.

    Returns:
        float32 sRGB of the same shape in ``[0, 1]``.

    Example:
        >>> p = sample_unprocess_params(tf.constant([3, 4]))
        >>> x = tf.fill((2, 2, 3), 0.5)
        >>> bool(tf.reduce_max(tf.abs(process(unprocess(x, p), p) - x)) < 1e-4)
        True
    """
    image = apply_gains(_check_rgb(raw_rgb, "process"), params)
    image = apply_ccm(image, params)
    image = tf.clip_by_value(image, 0.0, 1.0)
    image = linear_to_srgb(image)
    return apply_smoothstep(image)
