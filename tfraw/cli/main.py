"""``tfraw``: the command-line entry point.

Each sub-command lives in its own module exposing ``add_parser(subparsers)`` and ``run(args) -> int``;
``COMMANDS`` lists them explicitly (no import-time scanning). Modules are imported only when their
command runs, so ``tfraw --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

# (command name, module, one-line help). Keep sorted by typical use.
COMMANDS: list[tuple[str, str, str]] = [
    (
        "render",
        "tfraw.cli.render",
        "render raw files (or a --demo raw) to 16-bit TIFF, PNG or JPEG",
    ),
    (
        "export",
        "tfraw.cli.export",
        "export stages and pipelines as SavedModels (TF Serving layout)",
    ),
    (
        "serve-config",
        "tfraw.cli.serve_config",
        "write TF Serving's models.config for exported models",
    ),
    ("denoise", "tfraw.cli.denoise", "denoise raw files with a trained denoiser (render or DNG)"),
    (
        "calibrate",
        "tfraw.calibrate",
        "noise profile (K, read and row noise per ISO) from flat/dark frames or noisy/clean pairs",
    ),
    ("eval", "tfraw.cli.eval", "benchmark a stage against classical methods on a folder of images"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tfraw", description="Neural camera pipelines in TensorFlow."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in COMMANDS:
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(_module=module_name)
        importlib.import_module(module_name).add_parser(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings reach CLI users as one line each, without source locations."""
    print(f"tfraw: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.showwarning = _show_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from tfraw import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 2
    from tfraw.errors import TfrawError

    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except TfrawError as err:
        print(f"tfraw {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
