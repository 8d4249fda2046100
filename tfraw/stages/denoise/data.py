"""Training data of the denoiser: virtual cameras, the LED synthesis recipe, few-shot pairs.

Synthesis (``make_dataset``), per element, all stateless and keyed by ``(seed, element index)``
so that a dataset is reproducible element for element:

1. photo (8-bit sRGB, ``<TFRAW_DATA>/train``) -> random crop -> random flip/transpose of the RGB
   (never of a mosaic: DESIGN.md);
2. ``unprocess`` (Brooks et al. 2019) -> linear camera RGB -> ``mosaic`` with the CFA at a
   random phase (crop offset inside the CFA period) -> clean normalized raw;
3. a virtual camera ``c`` (uniform among ``num_cameras``), its noise parameters with ``log K``
   uniform over its range (:func:`tfraw.isp.noise.sample_noise_params`), a ratio drawn
   log-uniformly -> :func:`tfraw.isp.noise.synthesize_noisy_raw`: clean x (white - black) /
   ratio DN -> shot (Poisson, gain K) + read (Tukey-lambda, ``log sigma = a log K + b + eps``)
   + row noise + black-level error + quantization -> / (white - black) x ratio.

Virtual cameras (LED Sec. 3.2 samples camera noise parameters over the calibrated ranges): here
camera ``i`` is a random convex combination (Dirichlet(1) weights, drawn from ``camera_seed``) of
the calibrated profiles in ``config.profiles`` -- slopes, intercepts and residual sigmas of the
read and row laws, the ends of the ``log K`` range and the Tukey shape -- so every virtual
camera lies inside the span of real calibrations, and the held-out profile (CanonEOS700D by
default) stays unseen. With ``DenoiseConfig.black_level_error`` a camera also mixes the profiles'
colour-bias tables (ELD's black-level error per K bin) with the same weights; LED leaves that
out-of-model offset to customization, and so does the default.

Few-shot pairs (:func:`read_pair_list`): ``"noisy clean"`` file names per line; the ratio of a
pair is ``(ISO x exposure of clean) / (ISO x exposure of noisy)`` from the EXIF of both files.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import noise as isp_noise
from tfraw.isp.cfa import as_pattern, cfa_masks, mosaic
from tfraw.isp.unprocess import sample_unprocess_params, unprocess
from tfraw.stages.denoise.config import DenoiseConfig

__all__ = [
    "ISO_HIGH",
    "ISO_LOW",
    "NoisyCleanPair",
    "check_iso_groups",
    "list_photos",
    "make_dataset",
    "make_pair_dataset",
    "make_virtual_cameras",
    "read_pair_list",
    "sample_virtual_camera_params",
    "synthesize_element",
]

#: The two ISO groups the few-shot pairs must cover (the issue's spec: <= 500 and >= 3200).
ISO_LOW = 500.0
ISO_HIGH = 3200.0
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")
# Extra border cropped for the CFA phase: the least common multiple of the 2 and 6 periods.
_PHASE_BORDER = 6


# ----------------------------------------------------------------------------------------------
# Virtual cameras
# ----------------------------------------------------------------------------------------------


def _mix_laws(laws: Sequence[isp_noise.LogLinearLaw], weights: np.ndarray):
    return isp_noise.LogLinearLaw(
        slope=float(np.dot(weights, [law.slope for law in laws])),
        intercept=float(np.dot(weights, [law.intercept for law in laws])),
        sigma=float(np.dot(weights, [law.sigma for law in laws])),
    )


#: Rows of a virtual camera's colour-bias table (equal-width bins of its K range).
VIRTUAL_BIAS_BINS = 16


def _resampled_bias(table, bins: int) -> np.ndarray:
    """A colour-bias table (rows = equal-width K bins) read at the centres of ``bins`` bins."""
    table = np.asarray(table, np.float64)
    centres = (np.arange(bins) + 0.5) / bins
    return table[np.minimum((centres * len(table)).astype(int), len(table) - 1)]


def make_virtual_cameras(
    profiles: Sequence[str | isp_noise.NoiseProfile],
    count: int,
    seed: int = 0,
    color_bias: bool = False,
) -> list[isp_noise.NoiseProfile]:
    """``count`` virtual cameras: random convex combinations of calibrated profiles.

    Args:
        profiles: bundled profile names, JSON paths or :class:`NoiseProfile` objects (all with
            the same read model).
        count: number of virtual cameras (>= 1).
        seed: seed of the Dirichlet weights (numpy ``default_rng``).
        color_bias: also give each camera a black-level error table: the profiles' colour-bias
            tables, each read at the same relative K positions (:data:`VIRTUAL_BIAS_BINS` bins
            over its own K range), mixed with the camera's weights. Every profile needs a
            table. The weights (and every other parameter) are the same either way.

    Returns:
        list of :class:`tfraw.isp.noise.NoiseProfile` named ``virtual{i}``.

    Example:
        >>> cams = make_virtual_cameras(["SonyA7S2", "NikonD850"], 2)
        >>> [c.name for c in cams]
        ['virtual0', 'virtual1']
    """
    loaded = [
        p if isinstance(p, isp_noise.NoiseProfile) else isp_noise.load_profile(p) for p in profiles
    ]
    if not loaded:
        raise InputError("make_virtual_cameras: no profiles given")
    models = {p.read_model for p in loaded}
    if len(models) != 1:
        raise InputError(f"make_virtual_cameras: profiles mix read models {sorted(models)}")
    if int(count) < 1:
        raise InputError(f"make_virtual_cameras: count must be >= 1, got {count!r}")
    rng = np.random.default_rng(int(seed))
    with_rows = all(p.row_law is not None for p in loaded)
    if color_bias:
        lacking = [p.name for p in loaded if not p.color_bias]
        if lacking:
            raise InputError(f"make_virtual_cameras: color_bias needs a table in {lacking}")
        tables = np.stack([_resampled_bias(p.color_bias, VIRTUAL_BIAS_BINS) for p in loaded])
    cameras = []
    for index in range(int(count)):
        weights = rng.dirichlet(np.ones(len(loaded)))
        lo = float(np.dot(weights, [p.log_k_range[0] for p in loaded]))
        hi = float(np.dot(weights, [p.log_k_range[1] for p in loaded]))
        lambdas = ()
        if loaded[0].read_model == "tukey_lambda":
            # One shape per camera: the weighted mean of each profile's calibrated values.
            lambdas = (float(np.dot(weights, [np.mean(p.tukey_lambda) for p in loaded])),)
        cameras.append(
            isp_noise.NoiseProfile(
                name=f"virtual{index}",
                log_k_range=(lo, hi),
                read_model=loaded[0].read_model,
                read_law=_mix_laws([p.read_law for p in loaded], weights),
                tukey_lambda=lambdas,
                row_law=_mix_laws([p.row_law for p in loaded], weights) if with_rows else None,
                color_bias=(
                    tuple(tuple(float(v) for v in row) for row in np.tensordot(weights, tables, 1))
                    if color_bias
                    else None
                ),
                source="convex combination of " + ", ".join(p.name for p in loaded),
            )
        )
    return cameras


def sample_virtual_camera_params(
    seed: tf.Tensor, cameras: Sequence[isp_noise.NoiseProfile], camera_index: tf.Tensor
) -> dict[str, tf.Tensor]:
    """Noise parameters of camera ``camera_index`` (scalar int tensor), stateless.

    Every camera's parameters are drawn (cheap scalars) and the indexed one is gathered, so
    the draw is graph-friendly and reuses :func:`tfraw.isp.noise.sample_noise_params`.
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=len(cameras))
    drawn = [isp_noise.sample_noise_params(seeds[i], cam) for i, cam in enumerate(cameras)]
    return {key: tf.gather(tf.stack([d[key] for d in drawn]), camera_index) for key in drawn[0]}


# ----------------------------------------------------------------------------------------------
# Synthesis
# ----------------------------------------------------------------------------------------------


def _augment(seed: tf.Tensor, rgb: tf.Tensor) -> tf.Tensor:
    """Random flips and transpose of the RGB patch (the 8 symmetries of the square)."""
    bits = tf.random.stateless_uniform([3], seed, 0, 2, dtype=tf.int32)
    rgb = tf.cond(bits[0] > 0, lambda: tf.reverse(rgb, [0]), lambda: rgb)
    rgb = tf.cond(bits[1] > 0, lambda: tf.reverse(rgb, [1]), lambda: rgb)
    return tf.cond(bits[2] > 0, lambda: tf.transpose(rgb, [1, 0, 2]), lambda: rgb)


def _mosaic_at_phase(seed, linear_rgb, size: int, cfa: str):
    """Mosaic + masks of a ``size`` crop at a random phase of a random CFA of kind ``cfa``."""

    def with_pattern(name: str, period: int):
        def make():
            offset = tf.random.stateless_uniform([2], seed, 0, period, dtype=tf.int32)
            full = tf.shape(linear_rgb)
            masks = cfa_masks(name, full[0], full[1])
            mos = mosaic(linear_rgb, name)
            crop = lambda t: t[offset[0] : offset[0] + size, offset[1] : offset[1] + size]  # noqa: E731
            return crop(mos), crop(masks)

        return make

    bayer, xtrans = with_pattern("RGGB", 2), with_pattern("XTRANS", 6)
    if cfa == "bayer":
        return bayer()
    if cfa == "xtrans":
        return xtrans()
    coin = tf.random.stateless_uniform([], seed + 1, 0, 2, dtype=tf.int32)
    return tf.cond(coin > 0, xtrans, bayer)


def synthesize_element(
    seed: tf.Tensor,
    srgb_patch: tf.Tensor,
    config: DenoiseConfig,
    cameras: Sequence[isp_noise.NoiseProfile],
    augment: bool = True,
) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
    """One training pair from an sRGB patch of ``patch_size + 6`` pixels (see module doc).

    Returns:
        ``({"mosaic": noisy x ratio (P, P, 1), "cfa_masks": (P, P, 3), "camera_index": ()
        int32, "ratio": ()}, clean (P, P, 1))``, float32 normalized raw (not clipped).
    """
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=6)
    rgb = _augment(seeds[0], srgb_patch) if augment else srgb_patch
    linear = unprocess(rgb, sample_unprocess_params(seeds[1]))
    clean, masks = _mosaic_at_phase(seeds[2], linear, config.patch_size, config.cfa)
    camera = tf.random.stateless_uniform([], seeds[3], 0, len(cameras), dtype=tf.int32)
    params = sample_virtual_camera_params(seeds[4], cameras, camera)
    lo, hi = (math.log(float(r)) for r in config.ratio_range)
    ratio_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seeds[5], 2))
    ratio = tf.exp(tf.random.stateless_uniform([], ratio_seed, lo, hi))
    noisy = isp_noise.synthesize_noisy_raw(
        noise_seed, clean, params, float(config.white_minus_black), ratio
    )
    size = config.patch_size
    noisy = tf.ensure_shape(noisy, (size, size, 1))
    clean = tf.ensure_shape(clean, (size, size, 1))
    masks = tf.ensure_shape(masks, (size, size, 3))
    inputs = {"mosaic": noisy, "cfa_masks": masks, "camera_index": camera, "ratio": ratio}
    return inputs, clean


def list_photos(folder: str | Path) -> list[str]:
    """Sorted paths of the PNG/JPEG photos under ``folder``, recursively (InputError if none)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"training photo folder {folder} does not exist")
    files = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    if not files:
        raise InputError(f"no PNG/JPEG photos in {folder}")
    return files


def _photo_folder(config: DenoiseConfig) -> Path:
    if config.data_root:
        return Path(config.data_root)
    from tfraw.settings import data_dir

    root = data_dir()
    if root is None:
        raise InputError("no data_root in the config and no shared data folder (set TFRAW_DATA)")
    return root / "train"


def _decode_crop(path: tf.Tensor, seed: tf.Tensor, size: int, center: bool) -> tf.Tensor:
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    image = tf.image.convert_image_dtype(image, tf.float32)
    shape = tf.shape(image)
    short = tf.minimum(shape[0], shape[1])
    # Photos smaller than a patch are enlarged (rare; keeps every photo usable).
    scale = tf.maximum(tf.cast(size, tf.float32) / tf.cast(short, tf.float32), 1.0)
    new_size = tf.cast(tf.math.ceil(tf.cast(shape[:2], tf.float32) * scale), tf.int32)
    image = tf.cond(scale > 1.0, lambda: tf.image.resize(image, new_size, "bicubic"), lambda: image)
    image = tf.clip_by_value(image, 0.0, 1.0)
    if center:
        shape = tf.shape(image)
        top, left = (shape[0] - size) // 2, (shape[1] - size) // 2
        return image[top : top + size, left : left + size]
    return tf.image.stateless_random_crop(image, (size, size, 3), seed)


def _drop_camera(inputs: dict, clean):
    return {k: v for k, v in inputs.items() if k != "camera_index"}, clean


def _drop_odd_cameras(inputs: dict, clean):
    index = inputs["camera_index"]
    odd = tf.math.floormod(tf.range(tf.shape(index)[0]), 2) == 1
    return {**inputs, "camera_index": tf.where(odd, -tf.ones_like(index), index)}, clean


def make_dataset(
    config: DenoiseConfig, split: str = "train", seed: int = 0, start: int = 0
) -> tf.data.Dataset:
    """The LED synthesis recipe as a ``tf.data.Dataset`` of ``(inputs, clean)`` batches.

    ``train`` is infinite (a fresh permutation of the photos per epoch, all keyed by
    ``(seed, element index)``); ``val`` is the ``val_images`` held-out photos once, centre
    crops, fixed noise. Element ``i`` is the same on every run (reproducible).

    Args:
        config: the stage config (``patch_size``, ``batch_size``, ``cfa``, ratios, cameras...).
        split: ``"train"`` or ``"val"``.
        seed: dataset seed.
        start: index of the first *batch* of ``train`` (resume: the trainer's step counter);
            ignored for ``val``.

    Returns:
        batches ``({"mosaic" (B, P, P, 1), "cfa_masks" (B, P, P, 3), "camera_index" (B,),
        "ratio" (B,)}, clean (B, P, P, 1))``; without ``camera_index`` when
        ``config.train_path`` is ``generic``; with ``-1`` (deployed path) at the odd
        positions of a batch when it is ``mixed``.
    """
    if split not in ("train", "val"):
        raise InputError(f"make_dataset: split must be 'train' or 'val', got {split!r}")
    if config.train_path != "routed":
        # The routed samples, seen another way: the model's camera index dropped (generic: the
        # deployed path) or -1 at the odd positions of each batch (mixed: half take it).
        routed = dataclasses.replace(config, train_path="routed")
        view = _drop_camera if config.train_path == "generic" else _drop_odd_cameras
        return make_dataset(routed, split, seed, start).map(
            view, num_parallel_calls=tf.data.AUTOTUNE
        )
    if config.patch_cache:
        return _make_cached_dataset(config, split, seed, start)
    files = list_photos(_photo_folder(config))
    held = min(config.val_images, len(files) - 1)
    train_files, val_files = files[: len(files) - held], files[len(files) - held :]
    cameras = make_virtual_cameras(
        config.profiles, config.num_cameras, config.camera_seed, config.black_level_error
    )
    size = config.patch_size + _PHASE_BORDER
    base = tf.constant([int(seed), 0x5EED], tf.int64)

    if split == "train":
        paths = tf.constant(train_files)
        count = len(train_files)

        def element(index):
            epoch, position = index // count, index % count
            order = tf.random.experimental.stateless_shuffle(
                tf.range(count, dtype=tf.int64), tf.stack([base[0], epoch])
            )
            key = tf.stack([base[0], index + 1])
            crop_seed, synth_seed = tf.unstack(tf.random.experimental.stateless_split(key, 2))
            patch = _decode_crop(tf.gather(paths, order[position]), crop_seed, size, False)
            return synthesize_element(synth_seed, patch, config, cameras)

        first = int(start) * config.batch_size
        dataset = tf.data.Dataset.range(first, 2**62)
    else:
        if not val_files:
            raise InputError("make_dataset: val split needs val_images >= 1 and >= 2 photos")
        paths = tf.constant(val_files)

        def element(index):
            key = tf.stack([base[0] + 1, index + 1])
            patch = _decode_crop(tf.gather(paths, index), key, size, True)
            return synthesize_element(key, patch, config, cameras, augment=False)

        dataset = tf.data.Dataset.range(len(val_files))
    dataset = dataset.map(element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(config.batch_size, drop_remainder=split == "train").prefetch(
        tf.data.AUTOTUNE
    )


def _make_cached_dataset(config: DenoiseConfig, split: str, seed: int, start: int):
    """``make_dataset`` over the shared uint8 patch cache (``config.patch_cache``)."""
    from tfraw.stages.demosaic import DemosaicConfig, training_patches

    source = DemosaicConfig(cache_dir=config.patch_cache, data_dir=config.data_root)
    pool = training_patches(source, split)
    if split == "val":  # a fixed, evenly spread subset of the held-out patches
        pool = pool[np.linspace(0, len(pool) - 1, min(len(pool), 64)).astype(int)]
    pool = tf.constant(pool)
    count, stored = int(pool.shape[0]), int(pool.shape[1])
    cameras = make_virtual_cameras(
        config.profiles, config.num_cameras, config.camera_seed, config.black_level_error
    )
    size = config.patch_size + _PHASE_BORDER
    salt = 0 if split == "train" else 7919

    def element(index):
        key = tf.stack([tf.cast(seed + salt, tf.int64), index + 1])
        pick_seed, crop_seed, synth_seed = tf.unstack(
            tf.random.experimental.stateless_split(key, 3)
        )
        if split == "train":
            pick = tf.random.stateless_uniform([], pick_seed, 0, count, dtype=tf.int32)
            patch = tf.image.stateless_random_crop(pool[pick], (size, size, 3), crop_seed)
        else:
            corner = (stored - size) // 2
            patch = pool[tf.cast(index, tf.int32)][corner : corner + size, corner : corner + size]
        rgb = tf.cast(patch, tf.float32) / 255.0
        return synthesize_element(synth_seed, rgb, config, cameras, augment=split == "train")

    if split == "train":
        dataset = tf.data.Dataset.range(int(start) * config.batch_size, 2**62)
    else:
        dataset = tf.data.Dataset.range(count)
    dataset = dataset.map(element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(config.batch_size, drop_remainder=split == "train").prefetch(
        tf.data.AUTOTUNE
    )


# ----------------------------------------------------------------------------------------------
# Few-shot noisy/clean pairs
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class NoisyCleanPair:
    """One few-shot pair, read and checked: normalized mosaics of the same size and CFA phase."""

    noisy_path: str
    clean_path: str
    ratio: float
    iso: float
    noisy: np.ndarray
    clean: np.ndarray
    cfa_pattern: np.ndarray


def _exposure_product(raw, path: Path) -> tuple[float, float]:
    missing = [
        name
        for name, value in (("ISO", raw.iso), ("ExposureTime", raw.exposure_time))
        if value is None or not math.isfinite(float(value)) or float(value) <= 0
    ]
    if missing:
        raise InputError(
            f"{path}: missing or non-positive EXIF {' and '.join(missing)} "
            f"(ISO={raw.iso!r}, ExposureTime={raw.exposure_time!r}); the ratio of a pair is "
            "(ISO x exposure of clean) / (ISO x exposure of noisy)"
        )
    return float(raw.iso), float(raw.exposure_time)


def read_pair(noisy_path: str | Path, clean_path: str | Path) -> NoisyCleanPair:
    """Reads one pair and checks EXIF, ratio > 0, equal size and equal CFA phase."""
    from tfraw.io import read_raw

    noisy_path, clean_path = Path(noisy_path), Path(clean_path)
    noisy, clean = read_raw(noisy_path), read_raw(clean_path)
    iso_n, exp_n = _exposure_product(noisy, noisy_path)
    iso_c, exp_c = _exposure_product(clean, clean_path)
    ratio = (iso_c * exp_c) / (iso_n * exp_n)
    if not ratio > 0 or not math.isfinite(ratio):
        raise InputError(f"{noisy_path} / {clean_path}: ratio must be > 0, got {ratio}")
    if noisy.mosaic.shape != clean.mosaic.shape:
        raise InputError(
            f"{noisy_path} is {noisy.width}x{noisy.height} but {clean_path} is "
            f"{clean.width}x{clean.height}: a pair must have the same size"
        )
    if noisy.cfa_pattern.shape != clean.cfa_pattern.shape or not np.array_equal(
        noisy.cfa_pattern, clean.cfa_pattern
    ):
        raise InputError(
            f"{noisy_path} has CFA {noisy.cfa_pattern.tolist()} but {clean_path} has "
            f"{clean.cfa_pattern.tolist()}: a pair must share the CFA and its phase"
        )
    return NoisyCleanPair(
        str(noisy_path),
        str(clean_path),
        float(ratio),
        iso_n,
        np.asarray(noisy.mosaic, np.float32),
        np.asarray(clean.mosaic, np.float32),
        np.asarray(noisy.cfa_pattern, np.int32),
    )


def check_iso_groups(isos: Sequence[float]) -> list[str]:
    """Warnings (also emitted with :func:`warnings.warn`) when the noisy frames do not cover a
    low (<= 500) and a high (>= 3200) ISO group; ``[]`` when they do."""
    problems = []
    if not any(iso <= ISO_LOW for iso in isos):
        problems.append(f"no pair with the noisy frame at ISO <= {ISO_LOW:g}")
    if not any(iso >= ISO_HIGH for iso in isos):
        problems.append(f"no pair with the noisy frame at ISO >= {ISO_HIGH:g}")
    messages = [
        f"few-shot pairs do not cover both ISO groups: {p} (ISOs: "
        f"{sorted({float(i) for i in isos})}); LED customization expects pairs at low and "
        "high ISO, the customized model may be poor at the missing gains"
        for p in problems
    ]
    for message in messages:
        warnings.warn(message, stacklevel=2)
    return messages


def read_pair_list(dataroot: str | Path, pair_list: str | Path) -> list[NoisyCleanPair]:
    """Parses ``pair_list`` (lines ``"noisy clean"``, names relative to ``dataroot``; blank
    lines and ``#`` comments skipped), reads and checks every pair, warns on ISO coverage.

    Raises:
        InputError: missing list or file, a line without exactly two names, missing EXIF,
            ratio <= 0, pairs of different sizes or CFA phases, an empty list.
    """
    dataroot, pair_list = Path(dataroot), Path(pair_list)
    if not pair_list.is_file():
        raise InputError(f"pair list {pair_list} does not exist")
    pairs = []
    for number, line in enumerate(pair_list.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        names = text.split()
        if len(names) != 2:
            raise InputError(
                f"{pair_list}:{number}: expected 'noisy clean' (two file names), got {line!r}"
            )
        paths = [dataroot / name for name in names]
        for path in paths:
            if not path.is_file():
                raise InputError(f"{pair_list}:{number}: {path} does not exist")
        pairs.append(read_pair(*paths))
    if not pairs:
        raise InputError(f"{pair_list}: no pairs listed")
    check_iso_groups([p.iso for p in pairs])
    return pairs


def make_pair_dataset(
    pairs: Sequence[NoisyCleanPair], patch_size: int, batch_size: int, seed: int = 0
) -> tf.data.Dataset:
    """Infinite random crops of the pairs: ``({"mosaic": noisy x ratio, "cfa_masks", "ratio"},
    clean)``.

    Crops start anywhere (the masks carry the phase); reproducible from ``seed``.
    """
    if not pairs:
        raise InputError("make_pair_dataset: no pairs")
    smallest = min(min(p.noisy.shape) for p in pairs)
    size = min(int(patch_size), smallest - smallest % 2)
    data = [
        (
            (p.noisy * p.ratio)[..., None].astype(np.float32),
            p.clean[..., None].astype(np.float32),
            cfa_masks(as_pattern(p.cfa_pattern), *p.noisy.shape).numpy(),
            np.float32(p.ratio),
        )
        for p in pairs
    ]

    def generator():
        rng = np.random.default_rng(int(seed))
        while True:
            noisy, clean, masks, ratio = data[int(rng.integers(len(data)))]
            top = int(rng.integers(noisy.shape[0] - size + 1))
            left = int(rng.integers(noisy.shape[1] - size + 1))
            window = np.s_[top : top + size, left : left + size]
            yield (
                {"mosaic": noisy[window], "cfa_masks": masks[window], "ratio": ratio},
                clean[window],
            )

    signature = (
        {
            "mosaic": tf.TensorSpec((size, size, 1), tf.float32),
            "cfa_masks": tf.TensorSpec((size, size, 3), tf.float32),
            "ratio": tf.TensorSpec((), tf.float32),
        },
        tf.TensorSpec((size, size, 1), tf.float32),
    )
    dataset = tf.data.Dataset.from_generator(generator, output_signature=signature)
    return dataset.batch(batch_size).prefetch(2)
