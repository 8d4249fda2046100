"""``tfraw eval demosaic``: the demosaicking benchmark on any folder of 8-bit sRGB images.

Protocol (``../shared/data/README.md``, "cpsnr-uint8-border0"): the 8-bit sRGB image is the
ground truth; it is scaled to float ``[0, 1]`` (still sRGB-encoded, like the published tables),
mosaicked with the CFA (RGGB for ``bayer``, the LibRaw X-Trans phase for ``xtrans``),
demosaicked, clipped to ``[0, 1]`` and rounded to uint8, and compared by CPSNR (the PSNR of the
MSE over all three channels, peak 255) per image; the table shows the mean over images, with no
border crop and with a 10-pixel border crop.

Methods (rows):

- tfraw's classical operators (:mod:`tfraw.isp.demosaic`): ``bilinear`` (any CFA), ``malvar``
  (Malvar-He-Cutler 2004, Bayer), ``xtrans`` (normalized convolution, X-Trans);
- ``menon2007`` (Menon, Andriani, Calvagno, "Demosaicing with directional filtering and a
  posteriori decision", IEEE TIP 2007) from ``colour-demosaicing``, Bayer only; omitted with a
  note when the package is missing;
- LibRaw through a DNG of the same mosaic (``libraw:<ALGORITHM>``): the mosaic is written as a
  16-bit DNG (black 0, white 65535, AsShotNeutral 1, identity ColorMatrix1, so the 8-bit values
  ×257 are stored exactly) and demosaicked by rawpy with raw output colour, linear gamma, no
  auto-brightness, unit white balance and ``adjust_maximum_thr=0`` (LibRaw's default 0.75
  rescales an image whose brightest sample is below full scale, e.g. 244 → 255). Bayer: LINEAR, VNG, PPG, AHD, DHT, AAHD; X-Trans:
  LINEAR and VNG (LibRaw's other algorithms refuse a 6×6 CFA);
- extra models (``extra_models``), e.g. trained tfraw stages, named ``tfraw:<model>/<version>``;
  :func:`model_runner` turns an exported demosaic model (``saved_models/demosaic_bayer/1``) into
  such a row and :func:`shipped_models` lists the exports of a CFA (``tfraw eval demosaic``
  adds them automatically). A model row linearizes the sRGB mosaic (mosaicking is pointwise, so
  ``srgb_to_linear(mosaic(srgb)) == mosaic(srgb_to_linear(srgb))``), aligns it to the model's
  training phase, runs the linear-space model and re-encodes the output with ``linear_to_srgb``
  before the uint8 round trip.

Speed (``mp_per_s``): megapixels per second of the demosaic call alone, single process, after
one untimed warm-up call on a small crop (TF builds its kernels on first use); for LibRaw the
timed part is ``rawpy.imread`` + ``postprocess`` of the DNG (the DNG writing is not timed), so
it includes LibRaw's file parsing. Numbers depend on the machine and its load; compare rows
measured together.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tfraw.errors import InputError

__all__ = [
    "BORDERS",
    "IMAGE_SUFFIXES",
    "LIBRAW_ALGORITHMS",
    "PROTOCOL",
    "available_methods",
    "evaluate_demosaic",
    "format_table",
    "list_images",
    "model_runner",
    "self_ensemble_runner",
    "shipped_models",
]

PROTOCOL = "cpsnr-uint8-border0"
#: Border crops reported: ``cpsnr`` (0) and ``cpsnr_border10`` (10).
BORDERS = (0, 10)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: LibRaw demosaic algorithms run per CFA (the others refuse X-Trans).
LIBRAW_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "bayer": ("LINEAR", "VNG", "PPG", "AHD", "DHT", "AAHD"),
    "xtrans": ("LINEAR", "VNG"),
}

_TFRAW_CLASSICAL = {"bayer": ("bilinear", "malvar"), "xtrans": ("bilinear", "xtrans")}
_WARMUP_SIZE = 48  # a multiple of 2 and 6, so a crop at the origin keeps the CFA phase

# A demosaicker of the benchmark: (mosaic (1, H, W, 1) float32 in [0, 1], pattern, per-image
# context) -> RGB (H, W, 3) or (1, H, W, 3) float in [0, 1] (clipped afterwards).
_Runner = Callable[[np.ndarray, np.ndarray, dict], np.ndarray]


@dataclasses.dataclass
class _Method:
    name: str
    kind: str
    source: str
    run: _Runner
    params: int | None = None
    warm_up: bool = True
    seconds: float = 0.0
    pixels: int = 0
    scores: dict[int, list[float]] = dataclasses.field(default_factory=dict)


def _cfa_key(cfa: str) -> str:
    key = str(cfa).strip().lower().replace("-", "").replace("_", "")
    if key not in ("bayer", "xtrans"):
        raise InputError(f"cfa must be 'bayer' or 'xtrans', got {cfa!r}")
    return key


def _pattern(cfa: str) -> np.ndarray:
    from tfraw.isp.cfa import as_pattern

    return as_pattern("RGGB" if cfa == "bayer" else "xtrans")


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def available_methods(cfa: str) -> tuple[list[str], list[str]]:
    """The classical rows for a CFA and notes on rows left out.

    Args:
        cfa: ``"bayer"`` or ``"xtrans"``.

    Returns:
        ``(names, notes)``: method names in table order, and one note per optional method that
        cannot run here (missing package).
    """
    cfa = _cfa_key(cfa)
    names = list(_TFRAW_CLASSICAL[cfa])
    notes = []
    if cfa == "bayer":
        if _have("colour_demosaicing"):
            names.append("menon2007")
        else:
            notes.append("menon2007 omitted: colour-demosaicing is not installed")
    if _have("rawpy"):
        names += [f"libraw:{a}" for a in LIBRAW_ALGORITHMS[cfa]]
    else:
        notes.append("LibRaw rows omitted: rawpy is not installed")
    return names, notes


def _tfraw_runner(name: str) -> _Runner:
    from tfraw.isp import demosaic as isp_demosaic

    function = getattr(isp_demosaic, f"demosaic_{name}")

    def run(mosaic: np.ndarray, pattern: np.ndarray, context: dict) -> np.ndarray:
        return function(mosaic, pattern).numpy()

    return run


def _menon_runner() -> _Runner:
    import warnings

    with warnings.catch_warnings():
        # colour-science warns at import that matplotlib (plotting only) is missing.
        warnings.simplefilter("ignore")
        import colour_demosaicing

    from tfraw.isp.cfa import pattern_name

    def run(mosaic: np.ndarray, pattern: np.ndarray, context: dict) -> np.ndarray:
        return colour_demosaicing.demosaicing_CFA_Bayer_Menon2007(
            mosaic[0, :, :, 0].astype(np.float64), pattern=pattern_name(pattern)
        )

    return run


def _dng_for(mosaic: np.ndarray, pattern: np.ndarray, context: dict) -> Path:
    """Writes (once per image) the mosaic as a 16-bit DNG in the context's temp folder."""
    if context.get("dng") is None:
        from tfraw.io import write_dng

        data = np.round(np.clip(mosaic[0, :, :, 0], 0.0, 1.0) * 65535.0).astype(np.uint16)
        path = Path(context["tmpdir"]) / "mosaic.dng"
        write_dng(
            path,
            data,
            pattern,
            black_level=0,
            white_level=65535,
            as_shot_neutral=[1.0, 1.0, 1.0],
            color_matrix1=np.eye(3),
        )
        context["dng"] = path
    return context["dng"]


def _libraw_runner(algorithm: str) -> _Runner:
    import rawpy

    demosaic_algorithm = getattr(rawpy.DemosaicAlgorithm, algorithm)

    def run(mosaic: np.ndarray, pattern: np.ndarray, context: dict) -> np.ndarray:
        path = _dng_for(mosaic, pattern, context)
        start = time.perf_counter()
        with rawpy.imread(str(path)) as raw:
            rgb = raw.postprocess(
                demosaic_algorithm=demosaic_algorithm,
                output_color=rawpy.ColorSpace.raw,
                gamma=(1, 1),
                no_auto_bright=True,
                output_bps=16,
                use_camera_wb=False,
                user_wb=[1.0, 1.0, 1.0, 1.0],
                user_flip=0,
                # LibRaw's default (0.75) replaces the white level by the data maximum when
                # that exceeds 75 % of it, brightening any image without a full-scale sample.
                adjust_maximum_thr=0.0,
            )
        # The DNG writing above is setup, not LibRaw's work: report only the decode time.
        context["timed_seconds"] = time.perf_counter() - start
        if rgb.shape[:2] != mosaic.shape[1:3]:
            raise InputError(
                f"LibRaw {algorithm} returned {rgb.shape[:2]} for a {mosaic.shape[1:3]} mosaic"
            )
        return rgb.astype(np.float32) / 65535.0

    return run


def _build_methods(
    cfa: str, methods: Sequence[str] | None, extra_models: Sequence
) -> tuple[list[_Method], list[str]]:
    names, notes = available_methods(cfa)
    known = set(_TFRAW_CLASSICAL[cfa]) | {f"libraw:{a}" for a in LIBRAW_ALGORITHMS[cfa]}
    if cfa == "bayer":
        known.add("menon2007")
    if methods is not None:
        requested = list(dict.fromkeys(methods))
        unknown = [m for m in requested if m not in known]
        if unknown:
            raise InputError(
                f"unknown demosaic method(s) {unknown} for cfa={cfa!r}; known: {sorted(known)}"
            )
        missing = [m for m in requested if m not in names]
        names = [m for m in requested if m in names]
        package = {"menon2007": "colour-demosaicing"}
        notes = [f"{m} omitted: {package.get(m, 'rawpy')} is not installed" for m in missing]
    built = []
    for name in names:
        if name.startswith("libraw:"):
            runner, source = _libraw_runner(name.split(":", 1)[1]), "libraw"
        elif name == "menon2007":
            runner, source = _menon_runner(), "colour-demosaicing"
        else:
            runner, source = _tfraw_runner(name), "tfraw"
        # LibRaw's warm-up would only re-read a file; TF and numpy benefit from one.
        built.append(
            _Method(name, "classical", source, runner, warm_up=not name.startswith("libraw:"))
        )
    for entry in extra_models:
        try:
            name, function, params = entry
        except (TypeError, ValueError) as err:
            raise InputError(
                f"extra_models entries must be (name, callable, params), got {entry!r}"
            ) from err
        if not callable(function):
            raise InputError(f"extra model {name!r}: {function!r} is not callable")

        def run(mosaic, pattern, context, _function=function):
            output = _function(mosaic, pattern)
            return output.numpy() if hasattr(output, "numpy") else np.asarray(output)

        kind = "tfraw" if str(name).startswith("tfraw:") else "model"
        built.append(
            _Method(str(name), kind, "model", run, params=None if params is None else int(params))
        )
    if not built:
        raise InputError(f"no demosaic method to run for cfa={cfa!r} (requested {methods})")
    return built, notes


def shipped_models(cfa: str, models_dir: str | os.PathLike = "saved_models") -> list[Path]:
    """Exported demosaic models of ``models_dir`` that serve ``cfa`` (latest version of each).

    A model qualifies when ``<models_dir>/demosaic_*/<int>/assets/metadata.json`` names the
    ``linear_camera_rgb`` output of a mosaic input and its ``cfa`` is ``cfa`` or ``"any"``.
    """
    import json

    cfa = _cfa_key(cfa)
    found = []
    root = Path(models_dir)
    if not root.is_dir():
        return found
    for model_dir in sorted(root.glob("demosaic_*")):
        versions = sorted(
            (p for p in model_dir.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
        )
        for version in reversed(versions):
            meta_path = version / "assets" / "metadata.json"
            if not meta_path.is_file():
                continue
            meta = json.loads(meta_path.read_text())
            if meta.get("input_kind") == "mosaic" and meta.get("cfa") in (cfa, "any"):
                found.append(version)
            break
    return found


def model_runner(export_dir: str | os.PathLike) -> tuple[str, Callable, int | None]:
    """``(name, fn, params)`` for ``extra_models`` from an exported demosaic model.

    Args:
        export_dir: a version folder ``<models>/<name>/<version>/`` written by
            :func:`tfraw.inference.export.export_stage` (``assets/model.keras`` is loaded; without
            it the SavedModel's ``serving_default`` is called).

    Returns:
        ``("tfraw:<name>/<version>", fn, params)``; ``fn(mosaic, pattern, self_ensemble=1)``
        takes the benchmark's sRGB-encoded mosaic ``(1, H, W, 1)`` and returns sRGB-encoded RGB
        ``(1, H, W, 3)``; see :func:`self_ensemble_runner`.
    """
    import json

    import tensorflow as tf

    from tfraw.isp import transfer
    from tfraw.stages.demosaic import demosaic_image

    path = Path(export_dir)
    meta_path = path / "assets" / "metadata.json"
    if not meta_path.is_file():
        raise InputError(f"--model {path}: no assets/metadata.json (not a tfraw export)")
    meta = json.loads(meta_path.read_text())
    keras_file = path / "assets" / "model.keras"
    if keras_file.is_file():
        import keras

        import tfraw.stages  # noqa: F401  (registers the stage classes for deserialization)

        model = keras.saving.load_model(keras_file)

        def call(mosaic, masks):
            return model({"mosaic": mosaic, "cfa_masks": masks})
    else:
        serving = tf.saved_model.load(str(path)).signatures["serving_default"]

        def call(mosaic, masks):
            return serving(mosaic=mosaic, cfa_masks=masks)["output"]

    compiled = tf.function(call, reduce_retracing=True)

    margin = int(meta.get("receptive_field") or 72)
    margin = -(-margin // 6) * 6
    from tfraw.stages import STAGES

    spec = STAGES.get(meta.get("stage", ""))
    # The border rule of the stage the export belongs to (the chain uses the same).
    border = getattr(spec, "mosaic_border", "cfa_reflect")

    def run(mosaic: np.ndarray, pattern: np.ndarray, self_ensemble: int = 1):
        # The chain's border rule and the model's own phase alignment (demosaic_image).
        linear = transfer.srgb_to_linear(tf.constant(mosaic, tf.float32))
        rgb = demosaic_image(
            lambda x: compiled(x["mosaic"], x["cfa_masks"]), linear, pattern, margin, border,
            self_ensemble=self_ensemble,
        )  # fmt: skip
        return transfer.linear_to_srgb(rgb).numpy()

    name = f"tfraw:{meta.get('name', path.parent.name)}/{meta.get('version', path.name)}"
    params = meta.get("params")
    return name, run, None if params is None else int(params)


def self_ensemble_runner(runner: tuple[str, Callable, int | None], cfa: str, size: int):
    """The row ``<name>+xK`` of a :func:`model_runner` entry averaged over ``size`` symmetries
    (:mod:`tfraw.inference.ensemble`; K = the number the CFA admits: Bayer 8, X-Trans 2).
    The loaded model is shared with the single-pass row."""
    import functools

    from tfraw.inference.ensemble import admissible

    name, run, params = runner
    count = len(admissible(_pattern(_cfa_key(cfa)))[:size])
    return f"{name}+x{count}", functools.partial(run, self_ensemble=size), params


def list_images(data_dir: str | os.PathLike, limit: int | None = None) -> list[Path]:
    """PNG/JPEG files of a folder (not recursive), sorted by name, at most ``limit``.

    Raises:
        InputError: the folder does not exist or holds no image.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise InputError(f"--data {folder}: not a folder")
    paths = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if limit is not None:
        if limit < 1:
            raise InputError(f"limit must be >= 1, got {limit}")
        paths = paths[:limit]
    if not paths:
        raise InputError(f"--data {folder}: no {'/'.join(IMAGE_SUFFIXES)} images found")
    return paths


def _read_srgb8(path: Path) -> np.ndarray | None:
    """The uint8 RGB ground truth, or None for a grey image (no colour to demosaic)."""
    import imageio.v3 as iio

    try:
        image = np.asarray(iio.imread(path))
    except Exception as err:  # decoders raise many unrelated types
        raise InputError(f"{path}: cannot read image ({type(err).__name__}: {err})") from err
    if image.dtype != np.uint8:
        raise InputError(f"{path}: expected an 8-bit image, got dtype {image.dtype}")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[-1] < 3):
        return None
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise InputError(f"{path}: expected (H, W, 3) RGB, got shape {image.shape}")
    return np.ascontiguousarray(image[..., :3])


def _to_rgb(output, shape: tuple[int, int], name: str) -> np.ndarray:
    rgb = np.asarray(output, dtype=np.float32)
    if rgb.ndim == 4 and rgb.shape[0] == 1:
        rgb = rgb[0]
    if rgb.shape != (*shape, 3):
        raise InputError(f"method {name}: expected output {(*shape, 3)}, got {rgb.shape}")
    return rgb


def evaluate_demosaic(
    data_dir: str | os.PathLike,
    cfa: str = "bayer",
    methods: Sequence[str] | None = None,
    limit: int | None = None,
    extra_models: Sequence[tuple[str, Callable, int | None]] = (),
    progress: bool = True,
) -> dict:
    """Runs the demosaicking benchmark on a folder of 8-bit sRGB images.

    Args:
        data_dir: folder of PNG/JPEG images (grey images are skipped with a note).
        cfa: ``"bayer"`` (RGGB) or ``"xtrans"``.
        methods: classical method names (see :func:`available_methods`); None runs them all.
        limit: evaluate only the first ``limit`` images (sorted by name).
        extra_models: ``(name, fn, params)`` triples; ``fn(mosaic, pattern)`` takes a float32
            mosaic ``(1, H, W, 1)`` in ``[0, 1]`` and the int pattern array and returns RGB
            ``(1, H, W, 3)`` or ``(H, W, 3)``; ``params`` is the parameter count (or None).
        progress: show a tqdm progress bar over images.

    Returns:
        The "Evaluation output" document of DESIGN.md: ``{"stage": "demosaic", "dataset",
        "protocol", "cfa", "pattern", "images", "rows": [{"method", "kind", "source",
        "metrics": {"cpsnr", "cpsnr_border10", "mp_per_s"}, "per_image_cpsnr", ["params"]}],
        "notes"}``.

    Raises:
        InputError: bad folder, cfa, method name or image.
    """
    import tensorflow as tf
    from tqdm import tqdm

    from tfraw.isp.cfa import mosaic as cfa_mosaic
    from tfraw.isp.cfa import pattern_name
    from tfraw.metrics import cpsnr_uint8

    cfa = _cfa_key(cfa)
    pattern = _pattern(cfa)
    paths = list_images(data_dir, limit)
    built, notes = _build_methods(cfa, methods, extra_models)
    for border in BORDERS:
        for method in built:
            method.scores[border] = []
    evaluated = []
    skipped = []
    with tempfile.TemporaryDirectory(prefix="tfraw_eval_demosaic_") as tmpdir:
        for path in tqdm(paths, desc="demosaic eval", unit="img", disable=not progress):
            truth = _read_srgb8(path)
            if truth is None:
                skipped.append(path.name)
                continue
            if min(truth.shape[:2]) <= 2 * max(BORDERS):
                raise InputError(
                    f"{path}: image {truth.shape[:2]} too small for a {max(BORDERS)}-px border"
                )
            evaluated.append(path.name)
            truth_unit = truth.astype(np.float32) / 255.0
            mosaic = cfa_mosaic(truth_unit[None], pattern).numpy()
            truth_tensor = tf.constant(truth_unit)
            context: dict = {"tmpdir": tmpdir}
            for method in built:
                if method.warm_up:
                    crop = mosaic[:, :_WARMUP_SIZE, :_WARMUP_SIZE, :]
                    method.run(crop, pattern, {"tmpdir": tmpdir})
                    method.warm_up = False
                context.pop("timed_seconds", None)
                start = time.perf_counter()
                output = method.run(mosaic, pattern, context)
                elapsed = time.perf_counter() - start
                method.seconds += context.pop("timed_seconds", elapsed)
                method.pixels += truth.shape[0] * truth.shape[1]
                rgb = _to_rgb(output, truth.shape[:2], method.name)
                for border in BORDERS:
                    score = float(cpsnr_uint8(rgb, truth_tensor, border=border))
                    method.scores[border].append(score)
    if skipped:
        notes.append(f"skipped {len(skipped)} grey image(s): {skipped}")
    if not evaluated:
        raise InputError(f"--data {data_dir}: no colour images to evaluate")
    rows = []
    for method in built:
        row = {
            "method": method.name,
            "kind": method.kind,
            "source": method.source,
            "metrics": {
                "cpsnr": float(np.mean(method.scores[0])),
                "cpsnr_border10": float(np.mean(method.scores[10])),
                "mp_per_s": method.pixels / max(method.seconds, 1e-9) / 1e6,
            },
            "per_image_cpsnr": dict(zip(evaluated, method.scores[0], strict=True)),
        }
        if method.params is not None:
            row["params"] = method.params
        rows.append(row)
    return {
        "stage": "demosaic",
        "dataset": Path(data_dir).resolve().name,
        "protocol": PROTOCOL,
        "cfa": cfa,
        "pattern": pattern_name(pattern),
        "images": len(evaluated),
        "rows": rows,
        "notes": notes,
    }


def format_table(result: dict) -> str:
    """A markdown table of an :func:`evaluate_demosaic` result (plus its notes)."""
    lines = [
        f"Demosaicking, {result['dataset']} ({result['images']} images), "
        f"CFA {result['cfa']} ({result['pattern']}), protocol {result['protocol']}",
        "",
        "| method | kind | params | CPSNR (dB) | CPSNR border 10 (dB) | MP/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        metrics = row["metrics"]
        params = row.get("params")
        lines.append(
            f"| {row['method']} | {row['kind']} | {'' if params is None else f'{params:,}'} "
            f"| {metrics['cpsnr']:.2f} | {metrics['cpsnr_border10']:.2f} "
            f"| {metrics['mp_per_s']:.2f} |"
        )
    lines += [f"\nNote: {note}" for note in result.get("notes", [])]
    return "\n".join(lines)
