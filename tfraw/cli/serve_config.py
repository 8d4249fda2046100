"""``tfraw serve-config``: write TF Serving's ``models.config`` for a folder of exports."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "models_dir", nargs="?", type=Path, default=Path("saved_models"),
        help="folder of <name>/<version>/ exports (default: saved_models)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", type=Path, default=None,
        help="file to write (default: <models_dir>/models.config); '-' prints it",
    )  # fmt: skip
    parser.add_argument(
        "--base-path", default=None,
        help="the models folder as the server sees it, e.g. /models in the Docker image "
        "(default: the absolute path of models_dir)",
    )  # fmt: skip
    parser.add_argument(
        "--all-versions", action="store_true", help="serve every version, not the latest"
    )


def run(args) -> int:
    from tfraw.serving.config import models_config

    text = models_config(args.models_dir, base_path=args.base_path, all_versions=args.all_versions)
    if str(args.output) == "-":
        print(text, end="")
        return 0
    output = args.output or args.models_dir / "models.config"
    output.write_text(text)
    print(f"wrote {output}")
    return 0
