"""``tfraw denoise``: denoise every raw file of a folder with a trained denoiser.

``tfraw denoise -p MODEL --data-path DIR --save-path DIR [--ratio R | --dgain R |
--target-exposure E] [--bps 8|16] [--output tiff|png|dng] [--self-ensemble N]``

Each raw is normalized, multiplied by the ratio (the digital gain of a short exposure),
denoised tile by tile and either rendered with the classical pipeline to an 8/16-bit TIFF/PNG
or written as a DNG of the denoised raw that keeps the source metadata (levels, CFA, white
balance, colour matrices, EXIF), to continue in Lightroom or darktable. Files that cannot be
read or processed are reported and skipped; the exit status is 1 when any failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def denoise_file(path: Path, model, args) -> Path:
    import dataclasses

    from tfraw.io import read_raw, write_image
    from tfraw.io.dng import write_raw_image_dng
    from tfraw.render import encode_display, render_classical
    from tfraw.stages.denoise.model import apply_denoiser

    raw = read_raw(path)
    ratio = file_ratio(raw, args)
    denoised = apply_denoiser(
        model, raw.mosaic, raw.cfa_pattern, ratio, tile=args.tile,
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
    model = load_denoiser(args.model)
    args.save_path.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[Path, str]] = []
    for path in tqdm(files, desc="denoise", unit="file", file=sys.stderr):
        try:
            out = denoise_file(path, model, args)
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
