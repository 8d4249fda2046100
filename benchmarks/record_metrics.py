"""Writes benchmark figures into a shipped model's ``assets/metadata.json``.

Shipped models record the benchmark figures they reached (DESIGN.md); this copies them from the
JSON that ``tfraw eval demosaic|denoise --json OUT`` wrote, so metadata and BENCHMARKS.md come
from the same run::

    python benchmarks/record_metrics.py --eval runs/eval_kodak24_bayer.json \\
        --model saved_models/demosaic_bayer/1 \\
        --command "tfraw eval demosaic --data ../shared/data/kodak24 --cfa bayer --json OUT"

Demosaic results: the model's row (``tfraw:<name>/<version>``) gives ``cpsnr``,
``cpsnr_border10``, ``mp_per_s``; the other rows go to ``baselines_cpsnr``. Denoise results:
every row of the model (by ``--row``, default ``tfraw:<model path>``) and of the best classical
method per ratio. The file is replaced atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def demosaic_metrics(result: dict, name: str) -> dict:
    rows = {row["method"]: row for row in result["rows"]}
    if name not in rows:
        raise SystemExit(f"no row {name!r} in the eval JSON; rows: {sorted(rows)}")
    mine = rows[name]["metrics"]
    return {
        "dataset": result.get("dataset"),
        "protocol": result.get("protocol"),
        "pattern": result.get("pattern"),
        "cpsnr": round(float(mine["cpsnr"]), 4),
        "cpsnr_border10": round(float(mine["cpsnr_border10"]), 4),
        "mp_per_s": round(float(mine["mp_per_s"]), 4),
        "baselines_cpsnr": {
            method: round(float(row["metrics"]["cpsnr"]), 2)
            for method, row in rows.items()
            if method != name and not method.startswith("tfraw:")
        },
    }


def denoise_metrics(result: dict, name: str) -> dict:
    rows = [row for row in result["rows"] if row["method"] == name]
    if not rows:
        raise SystemExit(f"no row {name!r} in the eval JSON")
    classical = [row for row in result["rows"] if row.get("kind") == "classical"]
    out = {"dataset": result.get("dataset"), "protocol": result.get("protocol"), "rows": []}
    for row in rows:
        same = [
            c for c in classical if c["ratio"] == row["ratio"] and c["profile"] == row["profile"]
        ]
        best = max(same, key=lambda c: c["metrics"]["raw_psnr"], default=None)
        out["rows"].append({
            "profile": row["profile"], "ratio": row["ratio"], **row["metrics"],
            "best_classical": None if best is None else {"method": best["method"], **best["metrics"]},
        })  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval", required=True, type=Path, help="JSON from tfraw eval --json")
    parser.add_argument("--model", required=True, type=Path, help="<models>/<name>/<version>/")
    parser.add_argument("--command", required=True, help="the eval command line (recorded)")
    parser.add_argument("--row", help="the model's row name in the eval JSON")
    parser.add_argument("--key", default="metrics", help="metadata key to write (default metrics)")
    args = parser.parse_args(argv)

    from tfraw.io.atomic import atomic_write

    result = json.loads(args.eval.read_text())
    meta_path = args.model / "assets" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    if result.get("stage") == "demosaic":
        name = args.row or f"tfraw:{meta['name']}/{meta['version']}"
        metrics = demosaic_metrics(result, name)
    else:
        metrics = denoise_metrics(result, args.row or f"tfraw:{args.model}")
    meta[args.key] = {**metrics, "command": args.command}
    with atomic_write(meta_path) as tmp:
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"recorded {args.key} in {meta_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
