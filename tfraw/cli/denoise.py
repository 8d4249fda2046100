"""``tfraw denoise``: denoise every raw file of a folder with a trained denoiser.

``tfraw denoise -p MODEL --data-path DIR --save-path DIR [--ratio R | --dgain R |
--target-exposure E] [--bps 8|16] [--output tiff|png|dng] [--self-ensemble N]
[--dark-frame RAW]``

Each raw is normalized, multiplied by the ratio (the digital gain of a short exposure),
denoised tile by tile and either rendered with the classical pipeline to an 8/16-bit TIFF/PNG
or written as a DNG of the denoised raw that keeps the source metadata (levels, CFA, white
balance, colour matrices, EXIF), to continue in Lightroom or darktable. Files that cannot be
read or processed are reported and skipped; the exit status is 1 when any failed.

``--dark-frame``: a raw shot with the lens capped at the same ISO and exposure time. Its mean
per CFA position, above the black level the file states, is the sensor's black-level error
(ELD's "colour bias"), and it is subtracted from every raw before the gain. The error is one
number per channel that the noisy image itself does not reveal (BENCHMARKS.md, "Black-level
error"), and the gain multiplies it: 1.5 DN of a 14-bit sensor is +0.009 at x100, about half the
default model's whole error on the Sony A7S2 benchmark profile.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

#: Raw suffixes picked from --data-path (``.raw``/``.png`` need their JSON sidecar).
RAW_SUFFIXES = (
    ".dng", ".nef", ".nrw", ".cr2", ".cr3", ".crw", ".arw", ".srf", ".sr2", ".raf", ".rw2",
    ".orf", ".pef", ".srw", ".3fr", ".iiq", ".erf", ".kdc", ".mos", ".mrw", ".x3f", ".raw",
)  # fmt: skip
OUTPUTS = ("tiff", "png", "dng")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p", "--model", required=True, type=Path, metavar="MODEL",
        help="denoiser: a .keras file or an exported folder (saved_models/<name>/<version>)",
    )  # fmt: skip
    parser.add_argument("--data-path", required=True, type=Path, help="folder of raw files")
    parser.add_argument("--save-path", required=True, type=Path, help="output folder")
    gain = parser.add_mutually_exclusive_group()
    gain.add_argument(
        "--ratio", type=_positive_float, help="exposure ratio: the raw is multiplied by R"
    )
    gain.add_argument("--dgain", type=_positive_float, help="digital gain (same as --ratio)")
    gain.add_argument(
        "--target-exposure", type=_positive_float, metavar="E",
        help="ratio per file = E / (ISO x exposure time in s) from its EXIF",
    )  # fmt: skip
    parser.add_argument("--bps", type=int, choices=(8, 16), default=16, help="bits per sample")
    parser.add_argument("--output", choices=OUTPUTS, default="tiff", help="output kind")
    parser.add_argument(
        "--tile", type=int, default=512, help="tile size (memory bound; result is tile-free)"
    )
    parser.add_argument(
        "--self-ensemble", type=int, choices=(1, 2, 4, 8), default=1, metavar="N",
        help="average N flipped/transposed passes (Bayer up to 8, X-Trans 2): about +0.3 dB "
        "raw PSNR at x100 for N times the time (BENCHMARKS.md); default 1",
    )  # fmt: skip
    parser.add_argument(
        "--dark-frame", type=Path, metavar="RAW",
        help="a lens-capped raw at the same ISO and exposure: its mean per CFA position (the "
        "black-level error) is subtracted from every raw before the gain",
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class DarkFrame:
    """The black-level error a dark frame measures.

    Attributes:
        path: the dark raw file.
        offset_dn: mean raw value minus the stated black level, in DN, one per position of the
            CFA period (shape of ``cfa_pattern``).
        cfa_pattern: the dark frame's CFA pattern (a raw must match it).
        shape: ``(H, W)`` of its mosaic (a raw must match it).
    """

    path: Path
    offset_dn: np.ndarray
    cfa_pattern: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def read(cls, path: Path) -> DarkFrame:
        """Reads a dark raw; clear errors for a missing/unreadable file or non-finite data."""
        from tfraw.errors import InputError
        from tfraw.io import read_raw
        from tfraw.io.raw import period_means

        raw = read_raw(path)
        rows, cols = raw.cfa_pattern.shape
        mosaic = np.asarray(raw.mosaic, np.float64)
        if mosaic.shape[0] < 2 * rows or mosaic.shape[1] < 2 * cols:
            raise InputError(f"--dark-frame {path}: {mosaic.shape} is too small to average")
        if not np.isfinite(mosaic).all():
            raise InputError(f"--dark-frame {path}: mosaic holds NaN or Inf")
        scale = float(raw.white_level) - np.asarray(raw.black_level, np.float64)
        means = period_means(mosaic, (rows, cols))
        return cls(Path(path), (means * scale).astype(np.float32), raw.cfa_pattern, mosaic.shape)

    def offset_for(self, raw) -> np.ndarray:
        """The error in ``raw``'s normalized units, ``(H, W)``; InputError when ``raw`` is not
        from the same sensor layout (size or CFA pattern)."""
        from tfraw.errors import InputError

        if tuple(raw.mosaic.shape) != tuple(self.shape) or not np.array_equal(
            raw.cfa_pattern, self.cfa_pattern
        ):
            raise InputError(
                f"{raw.path}: the dark frame {self.path} has another size or CFA "
                f"({self.shape}, {self.cfa_pattern.tolist()}) than this raw "
                f"({tuple(raw.mosaic.shape)}, {raw.cfa_pattern.tolist()})"
            )
        from tfraw.io.raw import tile_period

        scale = float(raw.white_level) - np.asarray(raw.black_level, np.float64)
        return tile_period((self.offset_dn / scale).astype(np.float32), raw.mosaic.shape)


def list_raw_files(folder: Path) -> list[Path]:
    from tfraw.errors import InputError

    if not folder.is_dir():
        raise InputError(f"--data-path {folder} is not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in RAW_SUFFIXES)
    if not files:
        raise InputError(f"no raw files ({', '.join(RAW_SUFFIXES)}) in {folder}")
    return files


def file_ratio(raw, args) -> float:
    """The digital gain for one file from --ratio/--dgain/--target-exposure (default 1)."""
    from tfraw.errors import InputError

    if args.target_exposure is not None:
        if not raw.iso or not raw.exposure_time:
            raise InputError(
                f"{raw.path}: --target-exposure needs EXIF ISO and ExposureTime "
                f"(ISO={raw.iso!r}, ExposureTime={raw.exposure_time!r})"
            )
        return float(args.target_exposure) / (float(raw.iso) * float(raw.exposure_time))
    return float(args.ratio or args.dgain or 1.0)


def denoise_file(path: Path, model, args, dark: DarkFrame | None = None) -> Path:
    from tfraw.io import read_raw, write_image
    from tfraw.io.dng import write_raw_image_dng
    from tfraw.render import encode_display, render_classical
    from tfraw.stages.denoise.model import apply_denoiser

    raw = read_raw(path)
    ratio = file_ratio(raw, args)
    mosaic = raw.mosaic if dark is None else raw.mosaic - dark.offset_for(raw)
    denoised = apply_denoiser(
        model, mosaic, raw.cfa_pattern, ratio, tile=args.tile,
        self_ensemble=getattr(args, "self_ensemble", 1),
    )  # fmt: skip
    result = dataclasses.replace(raw, mosaic=denoised)
    if args.output == "dng":
        return write_raw_image_dng(args.save_path / f"{path.stem}.dng", result)
    display = encode_display(render_classical(result))
    suffix = ".tiff" if args.output == "tiff" else ".png"
    return write_image(
        args.save_path / f"{path.stem}{suffix}",
        display,
        format=args.output,
        bits=args.bps,
        orientation=raw.orientation,
    )


def run(args) -> int:
    from tqdm import tqdm

    from tfraw.errors import TfrawError
    from tfraw.stages.denoise.train import load_denoiser

    files = list_raw_files(args.data_path)
    dark = getattr(args, "dark_frame", None)
    dark = DarkFrame.read(dark) if dark is not None else None
    if dark is not None:
        offsets = ", ".join(f"{v:+.2f}" for v in dark.offset_dn.ravel()[:4])
        print(f"dark frame {dark.path}: black-level error {offsets} DN", file=sys.stderr)
        files = [f for f in files if f.resolve() != dark.path.resolve()]
    model = load_denoiser(args.model)
    args.save_path.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[Path, str]] = []
    for path in tqdm(files, desc="denoise", unit="file", file=sys.stderr):
        try:
            out = denoise_file(path, model, args, dark)
        except (TfrawError, OSError, ValueError) as err:
            failures.append((path, str(err)))
            tqdm.write(f"tfraw denoise: skipped {path}: {err}", file=sys.stderr)
            continue
        tqdm.write(f"{path} -> {out}")
    done = len(files) - len(failures)
    print(f"denoised {done}/{len(files)} file(s) into {args.save_path}")
    if failures:
        print(f"{len(failures)} file(s) skipped:", file=sys.stderr)
        for path, message in failures:
            print(f"  {path}: {message}", file=sys.stderr)
        return 1
    return 0
