"""``tfraw export``: write stages and pipelines as SavedModels in the TF Serving layout."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output-dir", type=Path, default=Path("saved_models"),
        help="models folder; exports go to <dir>/<name>/<version>/ (default: saved_models)",
    )  # fmt: skip
    parser.add_argument(
        "--stages", nargs="*", metavar="STAGE",
        help="stages to export (default: all registered); give none to skip stages",
    )  # fmt: skip
    parser.add_argument(
        "--pipelines", nargs="*", metavar="PIPELINE",
        help="pipelines of pipelines/render to export as render_<name> (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--version", type=int, default=None, help="version number (default: 1 / pipeline's)"
    )
    parser.add_argument("--no-warmup", action="store_true", help="do not write warm-up requests")
    parser.add_argument("--list", action="store_true", help="list stages and pipelines and exit")


def run(args) -> int:
    from tfraw.inference.chain import list_pipelines
    from tfraw.inference.export import export_pipelines, export_stage
    from tfraw.stages import STAGES, get_stage

    if args.list:
        for name, spec in STAGES.items():
            print(
                f"stage     {name:20s} {spec.input_kind} -> {spec.output_kind}: {spec.description}"
            )
        for name in list_pipelines():
            print(f"pipeline  {name}")
        return 0
    stages = list(STAGES) if args.stages is None else args.stages
    pipelines = list_pipelines() if args.pipelines is None else args.pipelines
    for name in stages:
        path = export_stage(
            get_stage(name), args.output_dir, args.version or 1, warmup=not args.no_warmup
        )
        print(f"stage {name} -> {path}")
    for name in pipelines:
        for path in export_pipelines(
            name, args.output_dir, args.version, warmup=not args.no_warmup
        ):
            print(f"pipeline {name} -> {path}")
    return 0
