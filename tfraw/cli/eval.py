"""``tfraw eval <stage>``: benchmark a stage on a folder of images (``tfraw eval demosaic ...``).

Each stage is a sub-sub-command; the work lives in ``tfraw.eval.<stage>``, imported only when
the command runs, so building the parser stays free of TensorFlow.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def add_parser(parser: argparse.ArgumentParser) -> None:
    stages = parser.add_subparsers(dest="eval_stage", metavar="STAGE")
    demosaic = stages.add_parser(
        "demosaic",
        help="CPSNR of classical, LibRaw and trained demosaickers on a folder of 8-bit images",
        description=(
            "Mosaic every 8-bit sRGB image of --data with the CFA, demosaic it with each method, "
            "round to uint8 and report the mean CPSNR (border 0 and 10) and megapixels/s."
        ),
    )
    demosaic.add_argument(
        "--data", required=True, type=Path, help="folder of 8-bit sRGB PNG/JPEG images"
    )
    demosaic.add_argument("--cfa", choices=("bayer", "xtrans"), default="bayer", help="CFA")
    demosaic.add_argument("--json", type=Path, metavar="OUT", help="also write the rows as JSON")
    demosaic.add_argument(
        "--limit", type=_positive_int, metavar="N", help="evaluate the first N images only"
    )
    demosaic.add_argument(
        "--methods",
        metavar="M[,M...]",
        help="comma-separated subset of methods (default: all available for the CFA)",
    )
    demosaic.add_argument(
        "--model",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="an exported demosaic model version folder (repeatable); the shipped "
        "saved_models/demosaic_* of the CFA are added automatically",
    )
    demosaic.add_argument(
        "--models-dir", type=Path, default=Path("saved_models"),
        help="where shipped models are looked up (default: saved_models)",
    )  # fmt: skip
    demosaic.add_argument(
        "--no-shipped", action="store_true", help="do not add the shipped models automatically"
    )
    demosaic.add_argument(
        "--self-ensemble", type=int, choices=(1, 2, 4, 8), default=1, metavar="N",
        help="also run each model averaged over N flips/transposes that keep the CFA family "
        "(Bayer admits 8, X-Trans 2): an extra row per model (default 1: off)",
    )  # fmt: skip
    demosaic.set_defaults(_eval_run=_run_demosaic)
    from tfraw.eval.denoise import add_denoise_parser

    add_denoise_parser(stages)
    parser.set_defaults(_eval_parser=parser)


def _write_json(document: dict, path: Path) -> None:
    from tfraw.io.atomic import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def _run_demosaic(args) -> int:
    from tfraw.eval.demosaic import (
        evaluate_demosaic,
        format_table,
        model_runner,
        self_ensemble_runner,
        shipped_models,
    )

    methods = None
    if args.methods:
        methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    model_dirs = list(args.model)
    if not args.no_shipped:
        explicit = {p.resolve() for p in model_dirs}
        model_dirs += [
            p for p in shipped_models(args.cfa, args.models_dir) if p.resolve() not in explicit
        ]
    extra = [model_runner(p) for p in model_dirs]
    names = [name for name, _, _ in extra]
    # Two exports with the same name/version (a candidate beside the shipped one): name by path.
    extra = [
        (f"tfraw:{p}" if names.count(name) > 1 else name, fn, params)
        for p, (name, fn, params) in zip(model_dirs, extra, strict=True)
    ]
    if args.self_ensemble > 1:
        extra += [self_ensemble_runner(entry, args.cfa, args.self_ensemble) for entry in extra]
    result = evaluate_demosaic(
        args.data, cfa=args.cfa, methods=methods, limit=args.limit, extra_models=extra
    )
    print(format_table(result))
    if args.json:
        _write_json(result, args.json)
        print(f"wrote {args.json}")
    return 0


def run(args) -> int:
    stage_run = getattr(args, "_eval_run", None)
    if stage_run is None:
        parser = getattr(args, "_eval_parser", None)
        if parser is not None:
            parser.print_help()
        return 2
    return int(stage_run(args) or 0)
