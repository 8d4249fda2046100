"""Training speed of a stage in float32 and in mixed_bfloat16, side by side in one run.

Each precision trains the same config in its own process (TensorFlow's thread pools are fixed
per process) from the same initial weights: ``--warmup`` steps first (graph tracing, pipeline
start-up), then ``--steps`` timed steps (the input pipeline's start-up subtracted). Prints steps/s, the ratio, and the last losses::

    python benchmarks/train_precision.py pipelines/train/demosaic_xtrans_continue3.yaml --threads 2
    python benchmarks/train_precision.py pipelines/train/denoise_pretrain_cpu_wide.yaml \
        --set config.base_channels=16 --set train.init_from=

bfloat16 pays off only where the hardware multiplies bfloat16 natively (Intel AMX / AVX512-BF16,
recent GPUs) and where the convolutions dominate the step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def worker(
    config: str, precision: str, threads: int, warmup: int, steps: int, sets: list[str]
) -> dict:
    from tfraw.cli.train import load_run_config, make_trainer

    overrides = [f"train.precision={precision}", f"train.steps={warmup + 1 + steps}",
                 f"train.intra_op_threads={threads}", f"train.inter_op_threads={threads}",
                 "train.progress=false", f"train.checkpoint_every_steps={warmup + 1 + steps}",
                 "train.checkpoint_every_seconds=1e9", "train.val_every=0", *sets]  # fmt: skip
    resolved = load_run_config(config, overrides)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer, _ = make_trainer(resolved, run_dir)
        trainer.fit(until=warmup)
        # Every fit() builds its input pipeline again (patch cache, torture patterns): time a
        # one-step fit and a (1 + steps)-step fit and keep the difference, pure training steps.
        began = time.perf_counter()
        trainer.fit(until=warmup + 1)
        one = time.perf_counter() - began
        began = time.perf_counter()
        record = trainer.fit(until=warmup + 1 + steps)
        elapsed = time.perf_counter() - began - one
    return {"precision": precision, "steps": steps, "seconds": elapsed,
            "steps_per_second": (steps - 1) / elapsed, "last_loss": record["last_loss"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="training YAML (pipelines/train/...)")
    parser.add_argument("--threads", type=int, default=2, help="intra/inter-op threads")
    parser.add_argument("--warmup", type=int, default=30, help="untimed steps first")
    parser.add_argument("--steps", type=int, default=300, help="timed steps")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, as tfraw-train's (repeatable), e.g. "
                        "config.base_channels=32 or train.init_from= (from scratch)")  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.config, args.worker, args.threads, args.warmup, args.steps, args.set)
        print(json.dumps(result))
        return 0
    rows = []
    for precision in ("float32", "mixed_bfloat16"):
        command = [sys.executable, __file__, args.config, "--worker", precision,
                   "--threads", str(args.threads), "--warmup", str(args.warmup),
                   "--steps", str(args.steps), *[f"--set={kv}" for kv in args.set]]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stderr[-3000:])
            return done.returncode
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{'precision':16s} {'steps/s':>8s} {'last loss':>10s}")
    for row in rows:
        print(f"{row['precision']:16s} {row['steps_per_second']:8.2f} {row['last_loss']:10.5f}")
    ratio = rows[1]["steps_per_second"] / rows[0]["steps_per_second"]
    print(f"mixed_bfloat16 / float32: {ratio:.2f}x ({args.threads} threads, {args.steps} steps)")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "ratio": ratio}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
