"""Benchmark of the chain: untiled eager, untiled tf.function, tiled, streamed; and LibRaw.

Every case runs in its own subprocess, so the peak RSS is per case. Synthetic raws are a
procedural RGGB mosaic (smooth gradients + texture) computed from pixel coordinates, so the
streamed case never holds the whole input either. Writes the "## Chain (issue 3)" section of
BENCHMARKS.md (other sections are kept).

    python benchmarks/chain.py                      # all cases, updates BENCHMARKS.md
    python benchmarks/chain.py --case tiled --mp 24 # one case, prints a JSON line
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
SIZES_MP = {6: (2000, 3000), 24: (4000, 6000), 96: (8000, 12000)}
DNG = "Blackmagic_PocketCinema4K_12bit.dng"
MODES = ("eager", "graph", "tiled", "stream")
MEMORY_LIMIT_GB = 10.0
SECTION = "## Chain (issue 3)"


def synthetic_rows(rows, width: int):
    """Procedural normalized RGGB mosaic rows ``(1, len(rows), W, 1)`` float32."""
    import numpy as np

    y = np.asarray(rows, np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    base = 0.3 + 0.2 * np.sin(x / 173.0) * np.cos(y / 211.0) + 0.1 * np.sin((x + 2 * y) / 7.0)
    gains = np.array([[0.5, 0.8], [0.8, 0.4]], np.float32)
    scale = gains[(np.asarray(rows) % 2)[:, None], (np.arange(width) % 2)[None, :]]
    return (base * scale).astype(np.float32)[None, :, :, None]


def synthetic_file(mp: int) -> Path:
    """The synthetic raw of ``mp`` megapixels as a headerless little-endian uint16 file (cached;
    written in bands, 14-bit codes), so that reading rows costs what reading a raw costs."""
    import numpy as np

    height, width = SIZES_MP[mp]
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tfraw_bench_{mp}mp_{width}x{height}.u16"
    if not path.is_file() or path.stat().st_size != height * width * 2:
        partial = path.with_suffix(".part")
        with open(partial, "wb") as sink:
            for y0 in range(0, height, 256):
                rows = synthetic_rows(np.arange(y0, min(height, y0 + 256)), width)[0, :, :, 0]
                sink.write((np.clip(rows, 0, 1) * 16383 + 0.5).astype("<u2").tobytes())
        partial.replace(path)
    return path


def file_rows(path: Path, width: int):
    """``read_rows(indices)`` reading only the span of rows it needs from the uint16 file."""
    import numpy as np

    def read_rows(indices):
        lo, hi = int(indices.min()), int(indices.max()) + 1
        with open(path, "rb") as source:
            source.seek(lo * width * 2)
            span = np.fromfile(source, "<u2", (hi - lo) * width).reshape(hi - lo, width)
        return (span[indices - lo].astype(np.float32) / 16383.0)[None, :, :, None]

    return read_rows


def _metadata():
    import numpy as np

    from tfraw.inference.tiling import pattern_6x6

    return {
        "cfa_pattern": pattern_6x6("RGGB")[None].astype(np.int32),
        "wb_gains": np.array([[2.0, 1.0, 1.6]], np.float32),
        "cam_to_srgb": np.array(
            [[[1.7, -0.5, -0.2], [-0.2, 1.5, -0.3], [0.0, -0.5, 1.5]]], np.float32
        ),
    }


def run_case(mode: str, source: str, pipeline: str) -> dict:
    """One measurement (runs inside the subprocess)."""
    import resource

    import numpy as np
    import tensorflow as tf

    from tfraw.inference.chain import Chain, inputs_from_raw

    chain = Chain(pipeline)
    if source == "dng":
        from tfraw.settings import data_dir

        path = data_dir() / "raw" / DNG
        if mode == "libraw":
            import rawpy

            start = time.perf_counter()
            with rawpy.imread(str(path)) as raw:
                rgb = raw.postprocess(output_bps=16)
            seconds = time.perf_counter() - start
            height, width = rgb.shape[:2]
            return _result(seconds, height, width)
        from tfraw.io import read_raw

        inputs = inputs_from_raw(read_raw(path))
        height, width = inputs["mosaic"].shape[1:3]
    else:
        height, width = SIZES_MP[int(source)]
        raw_file = synthetic_file(int(source))
        inputs = None
    # Warm-up on a small image: traces the tf.function once (dynamic shapes: no retrace later).
    small = chain.example_inputs(1, 64, 64)
    if mode == "graph":
        chain.untiled(small)
    elif mode == "tiled":
        chain.tiled(small)
    elif mode == "stream":
        for _ in chain.stream(lambda idx: small["mosaic"][:, idx], 64, 64, small):
            pass
    if mode == "stream":
        metadata = inputs if inputs is not None else _metadata()
        if inputs is not None:
            mosaic = inputs["mosaic"]
            read_rows = lambda idx: mosaic[:, idx]  # noqa: E731
        else:
            read_rows = file_rows(raw_file, width)
        out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tfraw_bench_{os.getpid()}.rgb16"
        start = time.perf_counter()
        with open(out_path, "wb") as sink:
            for _, rows in chain.stream(read_rows, height, width, metadata):
                sink.write((np.clip(rows[0], 0, 1) * 65535 + 0.5).astype(np.uint16).tobytes())
        seconds = time.perf_counter() - start
        out_path.unlink()
        return _result(seconds, height, width)
    if inputs is None:
        inputs = {"mosaic": file_rows(raw_file, width)(np.arange(height)), **_metadata()}
    tensors = {k: tf.constant(v) for k, v in inputs.items()}
    del inputs
    fn = {"eager": chain.render_untiled, "graph": chain.untiled, "tiled": chain.tiled}[mode]
    start = time.perf_counter()
    out = fn(tensors)["output"].numpy()
    seconds = time.perf_counter() - start
    assert out.shape == (1, height, width, 3)
    return _result(seconds, height, width, resource)


def _result(seconds: float, height: int, width: int, resource=None) -> dict:
    import resource as res

    peak_kb = res.getrusage(res.RUSAGE_SELF).ru_maxrss
    mp = height * width / 1e6
    return {
        "seconds": round(seconds, 2),
        "peak_rss_gb": round(peak_kb / 2**20, 2),
        "mp": round(mp, 1),
        "mp_per_s": round(mp / seconds, 2),
    }


def _subprocess(mode: str, source: str, pipeline: str) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__)),
        "--case",
        mode,
        "--source",
        source,
        "--pipeline",
        pipeline,
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode:
        return {
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr
            else f"rc {proc.returncode}"
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", choices=(*MODES, "libraw"))
    parser.add_argument("--source", default="6", help="6, 24, 96 (synthetic MP) or dng")
    parser.add_argument("--pipeline", default="classical")
    parser.add_argument("--sizes", nargs="*", default=["6", "24", "96", "dng"])
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, args.source, args.pipeline)))
        return 0
    rows = []
    per_mp_gb: dict[str, float] = {}
    for source in args.sizes:
        if source != "dng":
            synthetic_file(int(source))
        modes = (*MODES, "libraw") if source == "dng" else MODES
        for mode in modes:
            cmd = f"python benchmarks/chain.py --case {mode} --source {source} --pipeline {args.pipeline}"
            if source != "dng" and mode in ("eager", "graph") and mode in per_mp_gb:
                estimate = (
                    per_mp_gb[mode] * SIZES_MP[int(source)][0] * SIZES_MP[int(source)][1] / 1e6
                )
                if estimate > MEMORY_LIMIT_GB:
                    rows.append((source, mode, {"skipped": f"estimated {estimate:.1f} GB"}, cmd))
                    print(rows[-1], flush=True)
                    continue
            result = _subprocess(mode, source, args.pipeline)
            if source != "dng" and "peak_rss_gb" in result and mode in ("eager", "graph"):
                per_mp_gb[mode] = max(
                    per_mp_gb.get(mode, 0.0), result["peak_rss_gb"] / result["mp"]
                )
            rows.append((source, mode, result, cmd))
            print(rows[-1], flush=True)
    table = _table(rows, args.pipeline)
    print(table)
    if not args.no_write:
        _write_section(ROOT / "BENCHMARKS.md", table)
    return 0


LABELS = {
    "eager": "(a) untiled, eager",
    "graph": "(b) untiled, tf.function",
    "tiled": "(c) tiled, tf.function (in memory)",
    "stream": "(c') tiled, streamed band by band",
    "libraw": "LibRaw postprocess (rawpy, AHD, 16-bit)",
}


def _table(rows, pipeline: str) -> str:
    import platform

    import tensorflow as tf

    lines = [
        SECTION,
        "",
        f"Pipeline `{pipeline}` (demosaic_auto → color_matrix → srgb_encode), tile 512, overlap 16, "
        f"8 tiles per batch; {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, "
        f"{platform.machine()}, no GPU. Time excludes reading the raw and TF start-up (one warm-up "
        "trace on 64×64 first); peak RSS is the whole process (each case its own process). "
        "Synthetic raws: a procedural 14-bit RGGB mosaic in a headerless uint16 file "
        "(6 MP = 3000×2000, 24 MP = 6000×4000, 96 MP = 12000×8000); the streamed case reads it "
        "band by band and writes 16-bit RGB rows to a file, the others read it whole; "
        f"`dng` = `{DNG}` (4128×2176). Regenerate: `python benchmarks/chain.py`.",
        "",
        "| image | method | wall s | MP/s | peak RSS GB | command |",
        "|---|---|---:|---:|---:|---|",
    ]
    for source, mode, result, cmd in rows:
        image = f"{source} MP synthetic" if source != "dng" else "Blackmagic DNG (9.0 MP)"
        if "skipped" in result:
            lines.append(
                f"| {image} | {LABELS[mode]} | skipped: {result['skipped']} | | | `{cmd}` |"
            )
        elif "error" in result:
            lines.append(f"| {image} | {LABELS[mode]} | error: {result['error']} | | | `{cmd}` |")
        else:
            lines.append(
                f"| {image} | {LABELS[mode]} | {result['seconds']} | {result['mp_per_s']} | "
                f"{result['peak_rss_gb']} | `{cmd}` |"
            )
    return "\n".join(lines) + "\n"


def _write_section(path: Path, table: str) -> None:
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + table
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + table + (text[end + 1 :] if end >= 0 else "")
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
