"""Agreement of tfraw's classical render with LibRaw's own rendering of the same raw file.

LibRaw (rawpy ``postprocess``) is run with the camera's white balance, sRGB output primaries, the sRGB
transfer curve (gamma 2.4 / slope 12.92), no auto-brightening, 16 bits; tfraw renders the same file
with ``render_classical``. Both are compared as display sRGB in [0, 1] (PSNR, peak 1, over the full
frame). Demosaicing differs (LibRaw AHD vs tfraw Malvar), so agreement is bounded by that; levels,
white balance, matrices or transfer-curve errors would show as a large gap (< 25 dB).

    python benchmarks/libraw_agreement.py [--json OUT] [FILE ...]

With no FILE, the two DNGs of the shared data folder are used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import rawpy  # noqa: E402

from tfraw.io import read_raw  # noqa: E402
from tfraw.metrics import psnr  # noqa: E402
from tfraw.render import encode_display, render_classical  # noqa: E402
from tfraw.settings import data_dir  # noqa: E402

SHARED_DNGS = (
    "raw/Canon_EOS_KissX4_MagicLantern_colorchart.dng",
    "raw/Blackmagic_PocketCinema4K_12bit.dng",
)


def libraw_render(path: Path, adjust_maximum_thr: float = 0.0) -> np.ndarray:
    """LibRaw's own sRGB rendering: camera WB, sRGB primaries and curve, no auto-bright, AHD.

    ``adjust_maximum_thr=0`` keeps the file's declared white level. LibRaw's default (0.75) replaces
    it by the largest value found in the data when that exceeds 75 % of it — an automatic
    brightening that moves the Canon DNG (declared white 15000, data maximum 12128) by 1.8 dB of
    exposure; both are reported.
    """
    with rawpy.imread(str(path)) as raw:
        rgb = raw.postprocess(
            use_camera_wb=True,
            output_color=rawpy.ColorSpace.sRGB,
            gamma=(2.4, 12.92),
            no_auto_bright=True,
            output_bps=16,
            user_flip=0,
            demosaic_algorithm=rawpy.DemosaicAlgorithm.AHD,
            adjust_maximum_thr=adjust_maximum_thr,
        )
    return rgb.astype(np.float32) / 65535.0


def compare(path: Path, adjust_maximum_thr: float) -> dict:
    start = time.perf_counter()
    ours = encode_display(render_classical(read_raw(path)))
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = libraw_render(path, adjust_maximum_thr)
    theirs_s = time.perf_counter() - start
    if ours.shape != theirs.shape:
        h, w = min(ours.shape[0], theirs.shape[0]), min(ours.shape[1], theirs.shape[1])
        ours, theirs = ours[:h, :w], theirs[:h, :w]
    return {
        "file": path.name,
        "libraw_adjust_maximum_thr": adjust_maximum_thr,
        "size": f"{ours.shape[1]}x{ours.shape[0]}",
        "psnr_db": round(float(psnr(ours, theirs)), 2),
        "psnr_border10_db": round(float(psnr(ours, theirs, border=10)), 2),
        "mean_abs_diff": round(float(np.mean(np.abs(ours - theirs))), 5),
        "tfraw_s": round(ours_s, 2),
        "libraw_s": round(theirs_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    files = args.files
    if not files:
        root = data_dir()
        if root is None:
            print("no files given and no shared data folder (set TFRAW_DATA)", file=sys.stderr)
            return 2
        files = [root / name for name in SHARED_DNGS]
    rows = [compare(path, thr) for path in files for thr in (0.0, 0.75)]
    print(
        "| file | size | LibRaw adjust_maximum_thr | PSNR vs LibRaw (dB) | PSNR, 10-px border (dB) "
        "| mean abs diff | tfraw s | LibRaw s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['file']} | {r['size']} | {r['libraw_adjust_maximum_thr']} | {r['psnr_db']} | "
            f"{r['psnr_border10_db']} | "
            f"{r['mean_abs_diff']} | {r['tfraw_s']} | {r['libraw_s']} |"
        )
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "libraw_agreement", "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
