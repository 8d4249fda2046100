"""``tfraw-train``: train a stage from a YAML config (``tfraw-train STAGE --config FILE``)."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(prog="tfraw-train", description=__doc__)
    parser.add_argument("stage", help="the stage to train")
    parser.add_argument("--config", help="training YAML under pipelines/train/")
    args = parser.parse_args(argv)
    from tfraw.stages import STAGES

    trainable = sorted(name for name, spec in STAGES.items() if getattr(spec, "trainable", False))
    if args.stage not in trainable:
        known = ", ".join(trainable) or "none yet"
        print(
            f"tfraw-train: error: stage {args.stage!r} has no trainer; trainable stages: {known}",
            file=sys.stderr,
        )
        return 2
    raise NotImplementedError(f"training of {args.stage!r} is registered but has no trainer")


if __name__ == "__main__":
    sys.exit(main())
