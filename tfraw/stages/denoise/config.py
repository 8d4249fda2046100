"""``DenoiseConfig``: hyperparameters, data recipe and I/O contract of the raw denoiser."""

from __future__ import annotations

import dataclasses

from tfraw.errors import InputError
from tfraw.stages.base import StageConfig

__all__ = [
    "DEFAULT_PROFILES",
    "INPUT_MODES",
    "LOSSES",
    "TRAIN_CFAS",
    "TRAIN_PATHS",
    "DenoiseConfig",
]

#: Input representations (measured choice in the package docstring):
#: ``space_to_depth``: ``concat(mosaic, masks)`` folded 2x2 -> 16 channels at half resolution,
#: the CFA-agnostic generalization of packed 4-channel Bayer; ``full``: the same at full size.
INPUT_MODES = ("space_to_depth", "full")
#: Training losses (:func:`tfraw.stages.denoise.model.make_loss`).
LOSSES = ("l1", "log_l1", "l2")
TRAIN_CFAS = ("bayer", "xtrans", "any")
#: What ``tfraw-train`` trains (``DenoiseConfig.train_path``).
TRAIN_PATHS = ("routed", "generic", "mixed")
#: Calibrated ELD profiles the virtual cameras interpolate; CanonEOS700D is held out as the
#: "unseen camera" of the customization benchmark.
DEFAULT_PROFILES = ("SonyA7S2", "NikonD850", "CanonEOS70D")


@dataclasses.dataclass(frozen=True)
class DenoiseConfig(StageConfig):
    """LED-style raw denoiser (a U-Net of reparameterizable 3x3 convolutions).

    Model:
        base_channels: channels of the first level (doubled per level, SID/LED U-Net).
        depth: number of 2x down-samplings inside the U-Net (after the space-to-depth fold).
        input_mode: one of :data:`INPUT_MODES`.
        num_cameras: virtual cameras of the pre-training = routed alignments per conv.
        reparam: reparameterizable blocks (False: the plain, folded network).
        residual: predict ``clean - noisy`` (the output adds the input mosaic).
        ratio_input: noise-level conditioning: the model also reads the exposure ratio (the
            digital gain already applied to its input mosaic) and sees ``log(ratio) / log(256)``
            as one more constant channel after the space-to-depth fold. A blind model must guess
            the amplification from the noise itself and over-smooths nearly clean inputs (x1);
            with the ratio it can adapt its strength. Off: the ratio is ignored (the contract
            stays the same either way).

    Loss:
        loss: ``l1`` (LED's), ``log_l1`` (the mean over samples of ``log(L1)``: every ratio
            weighs the same, see :func:`~tfraw.stages.denoise.model.log_l1_loss`) or ``l2``
            (mean squared error, PSNR's own; :func:`~tfraw.stages.denoise.model.l2_loss`). Used by
            pre-training and by customization of a model trained with it.

    What is trained:
        train_path: ``routed`` (pre-training, LED's): every sample goes through its virtual
            camera's alignments, and the shared convolutions and the camera alignments learn.
            ``generic``: the samples carry no camera index, so they go through the *deployed*
            alignment (the camera average plus its offsets), and only those offsets learn: the
            path a camera nobody calibrated takes is fitted to the whole mixture of virtual
            cameras instead of being the plain average of their alignments (a warm start from
            a routed model; ``deploy()`` folds the result; customization starts from it by
            default, ``FinetuneSettings.start``).
            ``mixed``: every other sample of a batch drops its camera (index -1, the deployed
            alignment) and the rest stay routed; the shared convolutions, the camera alignments
            and the deployed offsets all learn, so the shared weights fit the path the folded
            model ships with while the routed paths (and their average, LED's customization
            start) stay consistent with them (a warm start from a routed or generic model).

    Data (:func:`tfraw.stages.denoise.make_dataset`):
        cfa: CFA of the synthetic training mosaics (``bayer``, ``xtrans`` or ``any``), every
            phase drawn at random.
        patch_size: training crop size in pixels (a multiple of 12).
        batch_size: crops per batch.
        ratio_range: ``(min, max)`` exposure ratio, drawn log-uniformly.
        profiles: calibrated noise profiles whose convex combinations are the virtual cameras.
        black_level_error: the virtual cameras also add a black-level error (their mix of the
            profiles' colour-bias tables, ELD's per-K offsets), which the model then learns to
            remove from the image itself. Off (LED's recipe): the offset is out of the model
            and left to customization.
        white_minus_black: DN range of the virtual sensor (14-bit with black 512: 15871).
        camera_seed: seed of the virtual-camera draw.
        data_root: folder of 8-bit training photos; "" = ``<TFRAW_DATA>/train``.
        val_images: photos held out (the last ones in sorted order) for the ``val`` split.
        patch_cache: "" decodes and crops the photos on the fly; a folder (e.g. ``runs/cache``)
            takes the crops from the demosaic stage's cache of area-downsampled uint8 patches
            (:func:`tfraw.stages.demosaic.training_patches`, built on first use): cleaner
            targets (downsampling averages away the photos' own noise and JPEG artefacts) and
            no JPEG decoding per sample, which matters on a CPU. Its split (every 20th photo
            held out) replaces ``val_images``; ``patch_size + 6`` must fit in its 128-pixel
            patches.
    """

    base_channels: int = 32
    depth: int = 3
    input_mode: str = "space_to_depth"
    num_cameras: int = 8
    reparam: bool = True
    residual: bool = True
    ratio_input: bool = False
    loss: str = "l1"
    train_path: str = "routed"
    cfa: str = "bayer"
    patch_size: int = 288
    batch_size: int = 8
    ratio_range: tuple[float, float] = (1.0, 300.0)
    profiles: tuple[str, ...] = DEFAULT_PROFILES
    black_level_error: bool = False
    white_minus_black: float = 15871.0
    camera_seed: int = 0
    data_root: str = ""
    val_images: int = 24
    patch_cache: str = ""

    def validate(self) -> None:
        for name in ("base_channels", "num_cameras", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InputError(f"DenoiseConfig.{name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.depth, int) or not 0 <= self.depth <= 6:
            raise InputError(
                f"DenoiseConfig.depth must be an integer in [0, 6], got {self.depth!r}"
            )
        if self.input_mode not in INPUT_MODES:
            raise InputError(
                f"DenoiseConfig.input_mode must be one of {INPUT_MODES}, got {self.input_mode!r}"
            )
        if self.loss not in LOSSES:
            raise InputError(f"DenoiseConfig.loss must be one of {LOSSES}, got {self.loss!r}")
        if self.train_path not in TRAIN_PATHS:
            raise InputError(
                f"DenoiseConfig.train_path must be one of {TRAIN_PATHS}, got {self.train_path!r}"
            )
        if self.train_path in ("generic", "mixed") and not self.reparam:
            raise InputError(f"DenoiseConfig.train_path {self.train_path!r} needs reparam=True")
        if self.cfa not in TRAIN_CFAS:
            raise InputError(f"DenoiseConfig.cfa must be one of {TRAIN_CFAS}, got {self.cfa!r}")
        if not isinstance(self.patch_size, int) or self.patch_size < 12 or self.patch_size % 12:
            raise InputError(
                f"DenoiseConfig.patch_size must be a multiple of 12 (2x2 and 6x6 CFA periods, "
                f"down-sampling), got {self.patch_size!r}"
            )
        if len(self.ratio_range) != 2 or not 0 < self.ratio_range[0] <= self.ratio_range[1]:
            raise InputError(
                f"DenoiseConfig.ratio_range must be (min, max) with 0 < min <= max, "
                f"got {self.ratio_range!r}"
            )
        if not self.profiles:
            raise InputError("DenoiseConfig.profiles must name at least one noise profile")
        if not float(self.white_minus_black) > 0:
            raise InputError(
                f"DenoiseConfig.white_minus_black must be > 0, got {self.white_minus_black!r}"
            )
        if not isinstance(self.val_images, int) or self.val_images < 0:
            raise InputError(f"DenoiseConfig.val_images must be >= 0, got {self.val_images!r}")
        if self.patch_cache and self.patch_size + 6 > 128:
            raise InputError(
                f"DenoiseConfig.patch_size {self.patch_size} + 6 (CFA phase border) does not fit "
                f"in the 128-pixel patches of patch_cache; use patch_size <= 120"
            )
        for flag in ("reparam", "residual", "ratio_input", "black_level_error"):
            if not isinstance(getattr(self, flag), bool):
                raise InputError(
                    f"DenoiseConfig.{flag} must be a bool, got {getattr(self, flag)!r}"
                )

    @property
    def fold(self) -> int:
        """Space-to-depth block (2) or 1."""
        return 2 if self.input_mode == "space_to_depth" else 1

    @property
    def tile_multiple(self) -> int:
        """Down-sampling factor of the whole network: tiles must start at multiples of it for the
        tiled output to equal the untiled one (max-pooling grids must line up)."""
        return self.fold * 2**self.depth

    @property
    def receptive_field(self) -> int:
        """Conservative radius in input pixels (each op adds its full extent at its scale)."""
        scale = self.fold
        radius = self.fold - 1  # space-to-depth block
        for _ in range(self.depth):
            radius += 2 * scale  # two 3x3 convs
            radius += scale  # 2x2 max-pool
            scale *= 2
        radius += 2 * scale  # bottleneck convs
        for _ in range(self.depth):
            radius += scale // 2  # 2x2 stride-2 transposed conv
            scale //= 2
            radius += 2 * scale
        radius += self.fold - 1  # depth-to-space
        return int(radius)
