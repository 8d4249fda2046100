"""SavedModel export: layout, metadata, signatures, and equality in a process without tfraw."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tfraw.inference.chain import Chain, load_pipeline
from tfraw.inference.export import export_pipeline, export_stage, read_metadata
from tfraw.stages import STAGES

SIZES = ((20, 28), (33, 17))

# Runs in a fresh interpreter that never imports tfraw (checked), loads each SavedModel and writes
# its serving_default outputs for the inputs in the .npz ("<model>|<size>|<input name>" keys).
_LOADER = """
import json, sys, numpy as np, tensorflow as tf
paths = json.loads(sys.argv[1])
data = np.load(sys.argv[2])
outs = {}
for model, path in paths.items():
    fn = tf.saved_model.load(path).signatures["serving_default"]
    sizes = sorted({k.split("|")[1] for k in data.files if k.startswith(model + "|")})
    for size in sizes:
        prefix = model + "|" + size + "|"
        feed = {k[len(prefix):]: tf.constant(data[k]) for k in data.files if k.startswith(prefix)}
        outs[model + "|" + size] = fn(**feed)["output"].numpy()
assert not any(m == "tfraw" or m.startswith("tfraw.") for m in sys.modules), "tfraw imported"
np.savez(sys.argv[3], **outs)
"""


def _run_without_tfraw(tmp_path, export_dirs, inputs):
    """``inputs[model][size] = {name: array}`` -> ``{(model, size): output}``, one subprocess."""
    inputs_path = tmp_path / "inputs.npz"
    flat = {
        f"{model}|{size}|{k}": v
        for model, by_size in inputs.items()
        for size, x in by_size.items()
        for k, v in x.items()
    }
    np.savez(inputs_path, **flat)
    out_path = tmp_path / "outputs.npz"
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "PATH": "/usr/bin:/bin"}
    paths = json.dumps({k: str(v) for k, v in export_dirs.items()})
    subprocess.run(
        [sys.executable, "-c", _LOADER, paths, str(inputs_path), str(out_path)],
        check=True, cwd=tmp_path, env=env, timeout=600,
    )  # fmt: skip
    return {tuple(k.split("|")): v for k, v in np.load(out_path).items()}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("saved_models")
    models = {name: STAGES[name].build() for name in STAGES}
    stages = {name: export_stage(name, root, 1, model=models[name]) for name in STAGES}
    pipelines = {"classical": export_pipeline("classical", root)}
    return root, stages, pipelines, models


def test_layout_and_metadata(exported):
    root, stages, pipelines, _ = exported
    for name, path in {**stages, **{f"render_{k}": v for k, v in pipelines.items()}}.items():
        assert path == root / name / "1"
        assert (path / "saved_model.pb").is_file()
        assert (path / "assets.extra" / "tf_serving_warmup_requests").is_file()
        meta = read_metadata(path)
        for key in ("input_kind", "output_kind", "data", "steps", "metrics", "signatures"):
            assert key in meta
    assert read_metadata(stages["demosaic_malvar"])["cfa"] == "bayer"
    assert read_metadata(stages["demosaic_malvar"])["receptive_field"] == 2
    assert (stages["demosaic_malvar"] / "assets" / "model.keras").is_file()


def test_exports_equal_keras_without_tfraw(exported, tmp_path):
    """Every stage and the classical pipeline, at two sizes, in one process without tfraw."""
    _, stages, pipelines, models = exported
    chain = Chain(load_pipeline("classical"))
    inputs = {
        name: {f"{h}x{w}": STAGES[name].example_inputs(1, h, w, seed=h) for h, w in SIZES}
        for name in stages
    }
    inputs["render_classical"] = {
        f"{h}x{w}": chain.example_inputs(1, h, w, seed=h, cfa="GBRG") for h, w in SIZES
    }
    got = _run_without_tfraw(
        tmp_path, {**stages, "render_classical": pipelines["classical"]}, inputs
    )
    for name, by_size in inputs.items():
        for size, x in by_size.items():
            if name == "render_classical":
                want = chain.tiled(x)["output"].numpy()
            else:  # the exported instance (neural stages have random weights)
                want = models[name]({k: tf.constant(v) for k, v in x.items()}).numpy()
            np.testing.assert_allclose(got[(name, size)], want, atol=1e-5, err_msg=name)


def test_saved_model_cli_lists_signatures(exported):
    _, _, pipelines, _ = exported
    cli = subprocess.run(
        [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "show", "--all",
         "--dir", str(pipelines["classical"])],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert "signature_def['serving_default']" in cli.stdout
    assert "signature_def['untiled']" in cli.stdout
    assert "inputs['cfa_pattern']" in cli.stdout and "DT_INT32" in cli.stdout
    assert "(-1, -1, -1, 1)" in cli.stdout


def test_global_stage_exports_compute_global(exported):
    _, stages, _, _ = exported
    loaded = tf.saved_model.load(str(stages["auto_exposure"]))
    assert "compute_global" in loaded.signatures
    meta = json.loads((stages["auto_exposure"] / "assets" / "metadata.json").read_text())
    assert meta["has_global"] is True


def test_cfa_specific_pipeline_exports_one_model_per_family(tmp_path):
    from tfraw.inference.chain import Pipeline
    from tfraw.inference.export import export_pipelines

    pipeline = Pipeline.from_dict({
        "name": "fam",
        "stages": [{"stage": "demosaic_malvar", "cfa": "bayer"},
                   {"stage": "demosaic_xtrans", "cfa": "xtrans"}, {"stage": "color_matrix"}],
    })  # fmt: skip
    paths = export_pipelines(pipeline, tmp_path, warmup=False)
    assert [p.parent.name for p in paths] == ["render_fam_bayer", "render_fam_xtrans"]
    for path, family in zip(paths, ("bayer", "xtrans"), strict=True):
        meta = read_metadata(path)
        assert [s["stage"] for s in meta["stages"]][0] == {
            "bayer": "demosaic_malvar", "xtrans": "demosaic_xtrans"}[family]  # fmt: skip
