"""Physics-based raw noise model with calibrated camera profiles.

The model is ELD's (Wei, Fu, Yang, Huang, "A Physics-based Noise Formation Model for Extreme
Low-light Raw Denoising", CVPR 2020, Sec. 3; TPAMI 2021), as used by LED (Jin et al., "Lighting
Every Darkness in Two Pairs", ICCV 2023). For a clean signal ``x`` in digital numbers (DN) above
the black level:

``noisy = K * Poisson(x / K) + read + row + black_level_error``, then rounded (ADC).

- ``K`` is the overall system gain (DN per electron); ``log K`` is drawn uniformly over a
  camera's range.
- read noise is Gaussian or Tukey-lambda with scale ``sigma_read``, and
  ``log sigma_read = a * log K + b + eps``, ``eps ~ N(0, sigma_eps)`` (ELD Eq. 9);
- row noise is one Gaussian value per sensor row with ``sigma_row`` from a law of the same form;
- ``black_level_error`` is ELD's per-channel colour bias (a black-level offset, in DN, that
  depends on the gain), in the packed Bayer channel order R, G, B, G of ELD's code.

Sampling (:func:`sample_noise_params`) is kept apart from applying (:func:`apply_noise`); both are
stateless. Calibrated profiles ship as JSON in ``tfraw/isp/profiles/`` (:func:`list_profiles`,
:func:`load_profile`); reading them is the only file access in ``tfraw.isp``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError

__all__ = [
    "LogLinearLaw",
    "NoiseProfile",
    "apply_noise",
    "black_level_offset",
    "list_profiles",
    "load_profile",
    "sample_noise_params",
    "synthesize_noisy_raw",
    "tukey_lambda_quantile",
]

_PROFILE_PACKAGE = "tfraw.isp"
_PROFILE_DIR = "profiles"
# Tukey-lambda quantiles switch to the logistic limit below this |lambda|.
_LAMBDA_EPS = 1e-4
# Uniform draws are kept this far from 0 and 1 so that quantiles stay finite.
_U_EPS = 1e-6


@dataclasses.dataclass(frozen=True)
class LogLinearLaw:
    """``log sigma = slope * log K + intercept + eps``, ``eps ~ N(0, sigma)`` (ELD Eq. 9)."""

    slope: float
    intercept: float
    sigma: float

    def __post_init__(self) -> None:
        for field in ("slope", "intercept", "sigma"):
            value = getattr(self, field)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise InputError(f"LogLinearLaw.{field} must be a finite number, got {value!r}")
        if self.sigma < 0:
            raise InputError(f"LogLinearLaw.sigma must be >= 0, got {self.sigma}")


@dataclasses.dataclass(frozen=True)
class NoiseProfile:
    """Calibrated noise parameters of one camera (all in DN of its raw data above black).

    Attributes:
        name: camera name, e.g. ``"SonyA7S2"``.
        log_k_range: ``(min, max)`` of ``log K`` (natural log of the system gain, DN/e-).
        read_model: ``"gaussian"`` or ``"tukey_lambda"``.
        read_law: law of the read-noise scale for ``read_model``.
        tukey_lambda: calibrated Tukey shape values (one is drawn per image); required for
            ``"tukey_lambda"``, ignored for ``"gaussian"``.
        row_law: law of the row-noise standard deviation, or None for no row noise.
        color_bias: optional black-level error table ``((R, G, B, G), ...)`` in DN, one row per
            equal-width bin of ``K`` over its range (ELD's colour bias).
        gaussian_read_law: optional Gaussian read law of the same camera, used by
            :meth:`as_gaussian`.
        source: where the numbers come from.
    """

    name: str
    log_k_range: tuple[float, float]
    read_model: Literal["gaussian", "tukey_lambda"]
    read_law: LogLinearLaw
    tukey_lambda: tuple[float, ...] = ()
    row_law: LogLinearLaw | None = None
    color_bias: tuple[tuple[float, float, float, float], ...] | None = None
    gaussian_read_law: LogLinearLaw | None = None
    source: str = ""

    def __post_init__(self) -> None:
        lo, hi = self.log_k_range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise InputError(f"{self.name}: log_k_range must be finite (min, max), got {(lo, hi)}")
        if self.read_model not in ("gaussian", "tukey_lambda"):
            raise InputError(
                f"{self.name}: read_model must be 'gaussian' or 'tukey_lambda', "
                f"got {self.read_model!r}"
            )
        if self.read_model == "tukey_lambda" and not self.tukey_lambda:
            raise InputError(f"{self.name}: read_model 'tukey_lambda' needs tukey_lambda values")
        if self.color_bias is not None and any(len(row) != 4 for row in self.color_bias):
            raise InputError(f"{self.name}: every color_bias row needs 4 values (R, G, B, G)")

    def as_gaussian(self) -> NoiseProfile:
        """This camera with its Gaussian read-noise law (ELD's simpler variant).

        Raises:
            InputError: the profile has no ``gaussian_read_law``.
        """
        if self.read_model == "gaussian":
            return self
        if self.gaussian_read_law is None:
            raise InputError(f"{self.name}: no gaussian_read_law in this profile")
        return dataclasses.replace(
            self, read_model="gaussian", read_law=self.gaussian_read_law, tukey_lambda=()
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict (tuples become lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text that :meth:`from_json` reads back to an equal profile."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, data: str | Mapping[str, Any]) -> NoiseProfile:
        """Builds a profile from JSON text or an already-parsed dict.

        Raises:
            InputError: malformed JSON, unknown or missing keys, bad values.
        """
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as err:
                raise InputError(f"noise profile is not valid JSON: {err}") from err
        if not isinstance(data, Mapping):
            raise InputError(f"noise profile must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(
                f"noise profile has unknown keys {sorted(unknown)}; known {sorted(known)}"
            )
        try:
            kwargs = dict(data)
            kwargs["log_k_range"] = tuple(float(v) for v in kwargs["log_k_range"])
            kwargs["read_law"] = LogLinearLaw(**kwargs["read_law"])
            kwargs["tukey_lambda"] = tuple(float(v) for v in kwargs.get("tukey_lambda", ()))
            for key in ("row_law", "gaussian_read_law"):
                if kwargs.get(key) is not None:
                    kwargs[key] = LogLinearLaw(**kwargs[key])
            if kwargs.get("color_bias") is not None:
                kwargs["color_bias"] = tuple(
                    tuple(float(v) for v in row) for row in kwargs["color_bias"]
                )
            return cls(**kwargs)
        except (KeyError, TypeError, ValueError) as err:
            if isinstance(err, InputError):
                raise
            raise InputError(f"malformed noise profile: {err!r}") from err


def _profile_files() -> dict[str, Any]:
    folder = resources.files(_PROFILE_PACKAGE) / _PROFILE_DIR
    return {
        entry.name[: -len(".json")]: entry
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


def list_profiles() -> list[str]:
    """Names of the bundled camera profiles, sorted.

    Example:
        >>> "SonyA7S2" in list_profiles()
        True
    """
    return sorted(_profile_files())


def load_profile(name_or_path: str | Path) -> NoiseProfile:
    """Loads a bundled profile by name (case-insensitive) or a profile JSON file by path.

    Args:
        name_or_path: a name from :func:`list_profiles` or a path to a ``.json`` file.

    Returns:
        the :class:`NoiseProfile`.

    Raises:
        InputError: unknown name (the message lists the known ones) or malformed file.

    Example:
        >>> load_profile("sonya7s2").read_model
        'tukey_lambda'
    """
    files = _profile_files()
    by_lower = {name.lower(): name for name in files}
    key = str(name_or_path)
    if key.lower() in by_lower:
        text = files[by_lower[key.lower()]].read_text(encoding="utf-8")
        return NoiseProfile.from_json(text)
    path = Path(key).expanduser()
    if path.suffix == ".json" and path.is_file():
        return NoiseProfile.from_json(path.read_text(encoding="utf-8"))
    raise InputError(
        f"unknown noise profile {key!r}: not a bundled name ({', '.join(sorted(files))}) "
        "nor an existing .json file"
    )


def _seed(seed: tf.Tensor | np.ndarray | Sequence[int]) -> tf.Tensor:
    tensor = tf.convert_to_tensor(seed)
    if tensor.shape.rank != 1 or tensor.shape[0] != 2 or not tensor.dtype.is_integer:
        raise InputError(f"seed must be an integer tensor of shape [2], got {tensor.shape}")
    return tf.cast(tensor, tf.int64)


def _as_profile(profile: NoiseProfile | str | Path) -> NoiseProfile:
    return profile if isinstance(profile, NoiseProfile) else load_profile(profile)


def _sample_law(
    law: LogLinearLaw, log_k: tf.Tensor, seed: tf.Tensor, shape: list[int]
) -> tf.Tensor:
    eps = tf.random.stateless_normal(shape, seed, stddev=law.sigma)
    return tf.exp(law.slope * log_k + law.intercept + eps)


def sample_noise_params(
    seed: tf.Tensor | np.ndarray | Sequence[int],
    profile: NoiseProfile | str | Path,
    batch_size: int | None = None,
    log_k: tf.Tensor | np.ndarray | float | None = None,
) -> dict[str, tf.Tensor]:
    """Samples noise parameters of one camera (stateless).

    Args:
        seed: int tensor of shape ``[2]``.
        profile: a :class:`NoiseProfile`, a bundled name or a JSON path.
        batch_size: ``None`` for one set (scalars) or ``B`` for ``(B,)``-shaped values.
        log_k: optional fixed ``log K`` (scalar, or ``(B,)``); default uniform over
            ``profile.log_k_range``.

    Returns:
        dict of float32 tensors, each of shape ``()`` or ``(B,)`` unless noted:
        ``K`` (system gain, DN/e-), ``log_K``, ``sigma_read`` (Gaussian std or Tukey scale, DN),
        ``sigma_row`` (DN; 0 without row noise), ``black_level_error`` (``(4,)`` or ``(B, 4)``,
        DN, packed order R, G, B, G; 0 without a colour-bias table), and ``tukey_lambda``
        (only for Tukey-lambda profiles).

    Example:
        >>> p = sample_noise_params(tf.constant([0, 1]), "SonyA7S2", batch_size=2)
        >>> sorted(p)
        ['K', 'black_level_error', 'log_K', 'sigma_read', 'sigma_row', 'tukey_lambda']
    """
    profile = _as_profile(profile)
    seeds = tf.random.experimental.stateless_split(_seed(seed), num=4)
    shape = [] if batch_size is None else [int(batch_size)]
    lo, hi = profile.log_k_range
    if log_k is None:
        log_k_t = tf.random.stateless_uniform(shape, seeds[0], minval=lo, maxval=hi)
    else:
        log_k_t = tf.broadcast_to(tf.cast(log_k, tf.float32), shape)
    k = tf.exp(log_k_t)
    params = {
        "K": k,
        "log_K": log_k_t,
        "sigma_read": _sample_law(profile.read_law, log_k_t, seeds[1], shape),
    }
    if profile.row_law is not None:
        params["sigma_row"] = _sample_law(profile.row_law, log_k_t, seeds[2], shape)
    else:
        params["sigma_row"] = tf.zeros(shape)
    if profile.color_bias:
        table = tf.constant(profile.color_bias, tf.float32)
        count = len(profile.color_bias)
        # LED's binning: equal-width bins of K (not log K) over [Kmin, Kmax].
        k_min, k_max = math.exp(lo), math.exp(hi)
        width = max((k_max - k_min) / count, 1e-12)
        index = tf.clip_by_value(tf.cast(tf.floor((k - k_min) / width), tf.int32), 0, count - 1)
        params["black_level_error"] = tf.gather(table, index)
    else:
        params["black_level_error"] = tf.zeros(shape + [4])
    if profile.read_model == "tukey_lambda":
        choices = tf.constant(profile.tukey_lambda, tf.float32)
        index = tf.random.stateless_uniform(
            shape, seeds[3], minval=0, maxval=len(profile.tukey_lambda), dtype=tf.int32
        )
        params["tukey_lambda"] = tf.gather(choices, index)
    return params


def tukey_lambda_quantile(u: tf.Tensor, lam: tf.Tensor) -> tf.Tensor:
    """Quantile function of the standard Tukey-lambda distribution.

    ``Q(u) = (u^lam - (1 - u)^lam) / lam``; at ``lam = 0`` the logistic ``log(u / (1 - u))``.

    Args:
        u: float tensor of probabilities in ``(0, 1)``.
        lam: shape parameter, broadcastable to ``u``.

    Returns:
        float32 tensor of quantiles, shape of ``u * lam``.

    Example:
        >>> round(float(tukey_lambda_quantile(0.75, 0.0)), 4)
        1.0986
    """
    u = tf.cast(u, tf.float32)
    lam = tf.cast(lam, tf.float32)
    small = tf.abs(lam) < _LAMBDA_EPS
    safe_lam = tf.where(small, tf.ones_like(lam), lam)
    power = (tf.pow(u, safe_lam) - tf.pow(1.0 - u, safe_lam)) / safe_lam
    logistic = tf.math.log(u) - tf.math.log1p(-u)
    return tf.where(small, logistic, power)


def _per_image(value: tf.Tensor, image: tf.Tensor) -> tf.Tensor:
    """Reshapes a ``()`` or ``(B,)`` parameter (or ``(..., 4)``) to broadcast on ``image``."""
    if value.shape.rank == 0:
        return value
    if image.shape.rank != 4:
        raise InputError(
            f"batched noise parameters of shape {value.shape} need a (B, H, W, C) image, "
            f"got {image.shape}"
        )
    return tf.reshape(value, [-1, 1, 1, 1])


def _check_dn(image: tf.Tensor | np.ndarray, name: str) -> tf.Tensor:
    try:
        tensor = tf.cast(tf.convert_to_tensor(image), tf.float32)
    except (TypeError, ValueError) as err:
        raise InputError(f"{name}: cannot convert {type(image).__name__} to a tensor") from err
    if tensor.shape.rank not in (3, 4):
        raise InputError(f"{name}: expected (B, H, W, C) or (H, W, C), got shape {tensor.shape}")
    return tensor


def apply_noise(
    seed: tf.Tensor | np.ndarray | Sequence[int],
    clean_dn: tf.Tensor | np.ndarray,
    params: Mapping[str, tf.Tensor],
    quantize: bool = True,
) -> tf.Tensor:
    """Adds shot, read, row and black-level noise to a clean signal in DN, then quantizes.

    - shot: ``K * Poisson(x / K)`` (photon counting; the rate uses ``max(x, 0)`` and any
      negative part of ``x`` is passed through unchanged, so linear values are not clipped);
    - read: ``sigma_read * N(0, 1)``, or ``sigma_read * Q_lambda(U)`` (Tukey-lambda by
      inverse-CDF sampling) when ``params`` has ``tukey_lambda``;
    - row: one ``N(0, sigma_row)`` value per row (axis -3), shared by all columns and channels;
    - black-level error: for 4-channel packed Bayer input added per channel (R, G, B, G order of
      ``params``), otherwise its mean is added to every pixel;
    - quantization: round to integer DN (the ADC) when ``quantize``.

    Args:
        seed: int tensor of shape ``[2]``.
        clean_dn: float tensor ``(B, H, W, C)`` or ``(H, W, C)``, signal above black in DN.
        params: dict from :func:`sample_noise_params` (batched params need ``(B, H, W, C)``).
        quantize: round the result.

    Returns:
        float32 noisy signal in DN, same shape (not clipped: may be negative or exceed white).

    Example:
        >>> p = sample_noise_params(tf.constant([0, 1]), "SonyA7S2")
        >>> apply_noise(tf.constant([2, 3]), tf.fill((4, 4, 1), 100.0), p).shape
        TensorShape([4, 4, 1])
    """
    x = _check_dn(clean_dn, "apply_noise")
    for key in ("K", "sigma_read"):
        if key not in params:
            raise InputError(f"apply_noise: params lacks {key!r}; has {sorted(params)}")
    seeds = tf.random.experimental.stateless_split(_seed(seed), num=3)
    shape = tf.shape(x)
    k = _per_image(tf.cast(params["K"], tf.float32), x)
    photons = tf.random.stateless_poisson(shape, seeds[0], tf.maximum(x, 0.0) / k, tf.float32)
    noisy = k * photons + tf.minimum(x, 0.0)

    sigma_read = _per_image(tf.cast(params["sigma_read"], tf.float32), x)
    if "tukey_lambda" in params:
        u = tf.random.stateless_uniform(shape, seeds[1], minval=_U_EPS, maxval=1.0 - _U_EPS)
        lam = _per_image(tf.cast(params["tukey_lambda"], tf.float32), x)
        noisy += sigma_read * tukey_lambda_quantile(u, lam)
    else:
        noisy += sigma_read * tf.random.stateless_normal(shape, seeds[1])

    if "sigma_row" in params:
        sigma_row = _per_image(tf.cast(params["sigma_row"], tf.float32), x)
        row_shape = tf.concat([shape[:-2], [1, 1]], axis=0)
        noisy += sigma_row * tf.random.stateless_normal(row_shape, seeds[2])

    if "black_level_error" in params:
        bias = tf.cast(params["black_level_error"], tf.float32)  # (4,) or (B, 4)
        if x.shape[-1] != 4:
            bias = tf.reduce_mean(bias, axis=-1)
            noisy += _per_image(bias, x)
        elif bias.shape.rank == 1:
            noisy += bias
        else:
            noisy += tf.reshape(bias, [-1, 1, 1, 4])

    if quantize:
        noisy = tf.round(noisy)
    return noisy


def black_level_offset(
    params: Mapping[str, tf.Tensor],
    white_minus_black: float,
    ratio: float,
    channels: int = 1,
) -> np.ndarray:
    """The black-level error :func:`synthesize_noisy_raw` adds, in its normalized units.

    The calibrated colour bias of ``params`` (DN at the drawn ``K``, packed R, G, B, G) times
    ``ratio / white_minus_black``: subtracting it from a synthesized noisy raw is the black-level
    correction a camera profile allows once ``K`` is known. One image's params (unbatched).

    Args:
        params: dict from :func:`sample_noise_params` (one image).
        white_minus_black: white level minus black level in DN (> 0).
        ratio: exposure ratio (> 0).
        channels: 4 for packed Bayer (per-channel offsets), else 1 (the mean, as
            :func:`apply_noise` adds it to a mosaic).

    Returns:
        float32 array ``(4,)`` for ``channels == 4``, else a scalar array; zeros when the
        profile has no colour-bias table.

    Example:
        >>> p = sample_noise_params(tf.constant([0, 1]), "SonyA7S2", log_k=-2.0)
        >>> round(float(black_level_offset(p, 15871.0, 100.0)) * 15871.0 / 100.0, 2)
        1.48
    """
    if not white_minus_black > 0 or not ratio > 0:
        raise InputError(
            f"black_level_offset: white_minus_black and ratio must be > 0, got "
            f"{white_minus_black} and {ratio}"
        )
    bias = np.asarray(params.get("black_level_error", np.zeros(4)), np.float32)
    if bias.shape != (4,):
        raise InputError(f"black_level_offset: expects one image's (4,) bias, got {bias.shape}")
    if channels != 4:
        bias = np.float32(bias.mean())
    return np.asarray(bias * np.float32(ratio / white_minus_black), np.float32)


def synthesize_noisy_raw(
    seed: tf.Tensor | np.ndarray | Sequence[int],
    clean: tf.Tensor | np.ndarray,
    params: Mapping[str, tf.Tensor],
    white_minus_black: float | tf.Tensor,
    ratio: float | tf.Tensor,
) -> tf.Tensor:
    """Makes a noisy short-exposure raw from a clean normalized raw (the ELD/LED recipe).

    ``clean * (white - black) / ratio`` gives the DN a ``ratio``-times shorter exposure would
    record; :func:`apply_noise` adds the noise; dividing by ``(white - black)`` and multiplying by
    ``ratio`` brings it back to the brightness of ``clean`` (the digital gain a user applies).

    Args:
        seed: int tensor of shape ``[2]``.
        clean: float tensor ``(B, H, W, C)`` or ``(H, W, C)``, normalized raw
            ``(raw - black) / (white - black)``, nominally ``[0, 1]`` (not clipped).
        params: dict from :func:`sample_noise_params`.
        white_minus_black: white level minus black level in DN (> 0), e.g. 16383 - 512.
        ratio: exposure ratio (> 0), scalar or ``(B,)``.

    Returns:
        float32 noisy normalized raw of the same shape (not clipped).

    Raises:
        InputError: ``ratio <= 0`` or ``white_minus_black <= 0`` (checked when known eagerly).

    Example:
        >>> p = sample_noise_params(tf.constant([0, 1]), "SonyA7S2")
        >>> synthesize_noisy_raw(tf.constant([1, 1]), tf.fill((4, 4, 1), 0.5), p, 15871.0, 100.0).shape
        TensorShape([4, 4, 1])
    """
    x = _check_dn(clean, "synthesize_noisy_raw")
    scale = tf.cast(white_minus_black, tf.float32)
    ratio_t = tf.cast(ratio, tf.float32)
    for name, value in (("white_minus_black", scale), ("ratio", ratio_t)):
        static = tf.get_static_value(value)
        if static is not None and np.any(np.asarray(static) <= 0):
            raise InputError(f"synthesize_noisy_raw: {name} must be > 0, got {static}")
    ratio_b = _per_image(ratio_t, x)
    dn = x * scale / ratio_b
    noisy = apply_noise(seed, dn, params)
    return noisy / scale * ratio_b
