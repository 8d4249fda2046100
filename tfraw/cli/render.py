"""``tfraw render``: raw files (or a self-made ``--demo`` raw) to 16-bit TIFF, PNG, JPEG, or HDR
(10-bit HLG AVIF)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

FORMATS = ("tiff16", "png16", "png", "jpeg", "avif-hlg")
#: HDR: scene white (1.0 after white balance) at HLG's 75 % reference level (ITU-R BT.2408), so
#: highlights up to ~3.8x white are kept: peak = 1 / hlg_to_linear(0.75).
HLG_PEAK = 3.7797
#: The pipeline ``--format avif-hlg`` uses unless one is named: linear sRGB out, nothing clipped.
HDR_PIPELINE = "hdr"


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="raw files (DNG, NEF, RAF, ...)")
    parser.add_argument("-o", "--output-dir", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--format", choices=FORMATS, default="tiff16",
        help="output encoding; avif-hlg: HDR, 10-bit AVIF, BT.2100 HLG, BT.2020 (CICP 9/18/9), "
        "rendered by the 'hdr' pipeline unless --pipeline names one with linear sRGB output",
    )  # fmt: skip
    parser.add_argument(
        "--demosaic",
        choices=("auto", "bilinear", "malvar", "xtrans"),
        default=None,
        help="render with the foundation's classical function and this demosaic instead of a "
        "pipeline (auto: Malvar for Bayer, normalized convolution for X-Trans)",
    )
    parser.add_argument(
        "--keep-orientation",
        action="store_true",
        help="write pixels as stored on the sensor instead of applying the EXIF orientation",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="make a raw from a bundled photo (unprocess + mosaic → DNG), render it, print the PSNR",
    )
    parser.add_argument(
        "--cfa",
        choices=("bayer", "xtrans"),
        nargs="+",
        default=["bayer"],
        help="CFA(s) of the --demo raw: bayer (RGGB), xtrans (6x6), or both",
    )
    parser.add_argument(
        "--pipeline",
        default="default",
        metavar="NAME",
        help="render through the tiled chain of pipelines/render/NAME.yaml (or a YAML path); "
        "default: 'default', whose trained stages fall back to classical ones (with a warning) "
        "when a model is missing; 'classical' is the baseline",
    )


_CHAINS: dict = {}


def _pipeline_chain(name: str, pattern):
    from tfraw.inference.chain import Chain, cfa_family, load_pipeline

    pipeline = load_pipeline(name)
    family = cfa_family(pattern) if pipeline.cfa_specific else None
    if (name, family) not in _CHAINS:
        _CHAINS[name, family] = Chain(pipeline, cfa=family)
    return _CHAINS[name, family]


def _render_one(path: Path, out_dir: Path, args) -> Path:
    from tfraw.io import read_raw, write_image
    from tfraw.render import OUTPUT_FORMATS, encode_display, render_classical

    raw = read_raw(path)
    if args.format == "avif-hlg":
        return _render_hdr(raw, path, out_dir, args)
    if args.demosaic:
        display = encode_display(render_classical(raw, method=args.demosaic))
    else:
        chain = _pipeline_chain(args.pipeline, raw.cfa_pattern)
        image = chain.render_raw(raw)
        display = image if chain.output_kind == "display_srgb" else encode_display(image)
    suffix, bits = OUTPUT_FORMATS[args.format]
    out_path = out_dir / (path.stem + suffix)
    orientation = None if args.keep_orientation else raw.orientation
    write_image(out_path, display, bits=bits, orientation=orientation)
    return out_path


def _render_hdr(raw, path: Path, out_dir: Path, args) -> Path:
    from tfraw.errors import InputError
    from tfraw.io.avif import write_hlg_avif
    from tfraw.io.image import apply_orientation
    from tfraw.isp.colorspace import linear_srgb_to_bt2020

    if args.demosaic:
        raise InputError("--format avif-hlg renders through a pipeline; drop --demosaic")
    name = HDR_PIPELINE if args.pipeline == "default" else args.pipeline
    chain = _pipeline_chain(name, raw.cfa_pattern)
    if chain.output_kind != "linear_srgb":
        raise InputError(
            f"--format avif-hlg needs a pipeline with linear sRGB output; {name!r} ends in "
            f"{chain.output_kind} (use --pipeline hdr)"
        )
    linear = chain.render_raw(raw)
    bt2020 = linear_srgb_to_bt2020(linear.reshape(-1, 3)).numpy().reshape(linear.shape)
    if not args.keep_orientation:
        bt2020 = apply_orientation(bt2020, raw.orientation)
    out_path = out_dir / (path.stem + ".avif")
    return write_hlg_avif(out_path, bt2020, peak=HLG_PEAK)


def _demo(args, cfa: str) -> tuple[Path, object]:
    from tfraw.demo import make_demo_raw

    dng = args.output_dir / f"demo_{cfa}.dng"
    reference = make_demo_raw(dng, cfa=cfa)
    print(f"wrote demo raw {dng} ({cfa}, {reference.shape[1]}x{reference.shape[0]})")
    return dng, reference


def run(args) -> int:
    from tqdm import tqdm

    from tfraw.errors import TfrawError

    if not args.inputs and not args.demo:
        raise SystemExit("tfraw render: give INPUT files or --demo")
    args.output_dir.mkdir(parents=True, exist_ok=True)
    inputs = [Path(p) for p in args.inputs]
    references = {}
    if args.demo:
        for cfa in dict.fromkeys(args.cfa):
            demo_path, reference = _demo(args, cfa)
            inputs.append(demo_path)
            references[demo_path] = (cfa, reference)
    failures = 0
    for path in tqdm(inputs, desc="render", unit="file", disable=len(inputs) < 2):
        try:
            out = _render_one(path, args.output_dir, args)
        except TfrawError as err:
            failures += 1
            print(f"tfraw render: error: {err}", file=sys.stderr)
            continue
        print(f"{path} -> {out}")
        if path in references and args.format != "avif-hlg":
            _report_demo(out, *references[path], args)
    return 1 if failures else 0


def _report_demo(out: Path, cfa: str, reference, args) -> None:
    from tfraw.io import read_image
    from tfraw.metrics import psnr

    rendered = read_image(out)
    value = float(psnr(rendered, reference))
    print(f"demo round trip ({cfa}, {args.format}): PSNR {value:.2f} dB against the original photo")
