"""Pipelines and the chain."""

import warnings

import numpy as np
import pytest

from tfraw.errors import InputError, MissingModelError
from tfraw.inference.chain import Chain, Pipeline, StageEntry, list_pipelines, load_pipeline
from tfraw.inference.tiling import TilingConfig

SHIPPED = list_pipelines()


def test_shipped_pipelines_exist():
    assert {"classical", "default"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_pipeline_round_trip(name):
    pipeline = load_pipeline(name)
    assert Pipeline.from_dict(pipeline.to_dict()) == pipeline


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("cfa", ["RGGB", "XTRANS"])
def test_shipped_pipeline_tiled_equals_untiled(name, cfa):
    pipeline = load_pipeline(name)
    small = Pipeline.from_dict({**pipeline.to_dict(), "tiling": {"tile_size": 24, "overlap": 8}})
    family = ("xtrans" if cfa == "XTRANS" else "bayer") if pipeline.cfa_specific else None
    chain = Chain(small, cfa=family)
    x = chain.example_inputs(1, 61, 50, cfa=cfa)
    tiled = chain.tiled(x)["output"].numpy()
    untiled = chain.untiled(x)["output"].numpy()
    assert tiled.shape == (1, 61, 50, 3)
    np.testing.assert_allclose(tiled, untiled, atol=1e-4, rtol=0)


def _two_family_pipeline() -> Pipeline:
    return Pipeline.from_dict({
        "name": "families",
        "stages": [
            {"stage": "demosaic_bilinear", "cfa": "bayer"},
            {"stage": "demosaic_auto", "cfa": "xtrans"},
            {"stage": "color_matrix"},
        ],
    })  # fmt: skip


def test_cfa_specific_entries_are_selected_per_family():
    pipeline = _two_family_pipeline()
    assert pipeline.cfa_specific
    assert [s.stage for s in pipeline.for_cfa("bayer").stages] == [
        "demosaic_bilinear",
        "color_matrix",
    ]
    assert [s.stage for s in pipeline.for_cfa("xtrans").stages] == ["demosaic_auto", "color_matrix"]
    assert Pipeline.from_dict(pipeline.to_dict()) == pipeline
    with pytest.raises(InputError, match="cfa must be one of"):
        StageEntry.from_dict({"stage": "demosaic_auto", "cfa": "quad"})
    with pytest.raises(InputError, match="CFA-specific"):
        Chain(pipeline)
    with pytest.raises(InputError, match="CFA family"):
        pipeline.for_cfa("foveon")
    chain = Chain(pipeline, cfa="bayer")
    assert chain.stage_names == ["demosaic_bilinear", "color_matrix"]
    assert chain.tiled(chain.example_inputs(1, 20, 22))["output"].shape == (1, 20, 22, 3)


def test_default_pipeline_falls_back_per_family_when_models_are_missing(tmp_path):
    for family, model in (("bayer", "demosaic_bayer"), ("xtrans", "demosaic_xtrans")):
        with pytest.warns(UserWarning, match=f"{model}/1 not found"):
            chain = Chain("default", models_dir=tmp_path, cfa=family)
        assert chain.stage_names[0] == "demosaic_auto"
        assert chain.sources[0] == "classical:demosaic_auto (fallback)"


def test_classical_chain_equals_render_classical():
    from tfraw.isp.transfer import linear_to_srgb
    from tfraw.render import render_classical

    class Raw:
        path = None

    chain = Chain(
        Pipeline.from_dict({**load_pipeline("classical").to_dict(), "tiling": {"tile_size": 32}})
    )
    x = chain.example_inputs(1, 70, 66, cfa="GRBG")
    raw = Raw()
    raw.mosaic = x["mosaic"][0, :, :, 0]
    raw.cfa_pattern = np.array([[1, 0], [2, 1]], np.int32)
    raw.wb_gains = x["wb_gains"][0]
    raw.camera_to_srgb = x["cam_to_srgb"][0]
    want = np.clip(linear_to_srgb(render_classical(raw)).numpy(), 0, 1)
    np.testing.assert_allclose(chain.render_raw(raw), want, atol=1e-5)


def test_global_stage_runs_on_thumbnail():
    stages = tuple(
        StageEntry(s) for s in ("demosaic_malvar", "color_matrix", "auto_exposure", "srgb_encode")
    )
    chain = Chain(Pipeline(name="g", stages=stages, tiling=TilingConfig(tile_size=32, overlap=8)))
    assert chain.has_global
    x = chain.example_inputs(2, 80, 70)
    np.testing.assert_allclose(
        chain.tiled(x)["output"].numpy(), chain.untiled(x)["output"].numpy(), atol=1e-4
    )


def test_missing_model_falls_back_with_warning(tmp_path):
    entry = StageEntry(
        "demosaic_malvar", model="demosaic_bayer_small", version=1, fallback="demosaic_auto"
    )
    pipeline = Pipeline(name="fb", stages=(entry, StageEntry("color_matrix")))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chain = Chain(pipeline, models_dir=tmp_path)
    assert chain.stage_names[0] == "demosaic_auto"
    assert any("falling back" in str(w.message) for w in caught)
    with pytest.raises(MissingModelError, match="demosaic_bayer_small"):
        Chain(
            Pipeline(
                name="nf", stages=(StageEntry("demosaic_malvar", model="demosaic_bayer_small"),)
            ),
            models_dir=tmp_path,
        )


def test_kind_mismatch_is_named():
    with pytest.raises(InputError, match="color_matrix"):
        Chain(Pipeline(name="bad", stages=(StageEntry("color_matrix"),)))


def test_unknown_pipeline_lists_known():
    with pytest.raises(InputError, match="classical"):
        load_pipeline("no_such_pipeline")


@pytest.mark.parametrize("cfa", ["GBRG", "XTRANS"])
def test_neural_demosaic_chain_equals_demosaic_image(cfa):
    """The chain's border rule (CFA-keeping mirror for Bayer, missing samples for X-Trans) and
    the standalone whole-image helper agree, for a non-training Bayer phase too (the model
    aligns the phase in its graph)."""
    from tfraw.stages.demosaic import DemosaicConfig, DemosaicModel, demosaic_image

    family = "xtrans" if cfa == "XTRANS" else "bayer"
    model = DemosaicModel.from_stage_config(DemosaicConfig(cfa=family, width=4, depth=1))
    rng = np.random.default_rng(0)
    for layer in model.layers:  # non-zero residual
        if layer.get_weights():
            layer.set_weights(
                [w + 0.05 * rng.standard_normal(w.shape) for w in layer.get_weights()]
            )
    pipeline = Pipeline.from_dict({
        "name": "nn", "stages": [{"stage": f"demosaic_nn_{family}", "config": {"width": 4, "depth": 1}}],
        "tiling": {"tile_size": 24, "overlap": 8},
    })  # fmt: skip
    chain = Chain(pipeline)
    chain.models[0].set_weights(model.get_weights())
    assert chain.cfa_reflect == (family == "bayer")
    x = chain.example_inputs(1, 50, 62, cfa=cfa)
    tiled = chain.tiled(x)["output"].numpy()
    alone = demosaic_image(model, x["mosaic"], cfa, margin=chain.tiling.margin).numpy()
    np.testing.assert_allclose(tiled, alone, atol=1e-4)
