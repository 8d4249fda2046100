"""Classical stages equal the foundation's functions (tfraw.isp) for every CFA phase."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import color, demosaic
from tfraw.isp.cfa import cfa_masks
from tfraw.stages import STAGES
from tfraw.stages.classical import ClassicalDemosaicConfig, demosaic_from_masks

CASES = [(p, m) for p in ("RGGB", "BGGR", "GRBG", "GBRG") for m in ("bilinear", "malvar", "xtrans")]
CASES += [("XTRANS", "bilinear"), ("XTRANS", "xtrans")]


@pytest.mark.parametrize(("pattern", "method"), CASES)
def test_demosaic_stage_equals_isp(pattern, method):
    rng = np.random.default_rng(1)
    mosaic = tf.constant(rng.uniform(0, 1, (1, 18, 22, 1)).astype(np.float32))
    masks = cfa_masks(pattern, 18, 22)[tf.newaxis]
    model = STAGES[f"demosaic_{method}"].build()
    got = model({"mosaic": mosaic, "cfa_masks": masks}).numpy()
    want = demosaic.demosaic(mosaic, pattern, method=method).numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("pattern", ["RGGB", "GBRG", "XTRANS"])
def test_auto_matches_isp_auto(pattern):
    rng = np.random.default_rng(2)
    mosaic = tf.constant(rng.uniform(0, 1, (1, 24, 24, 1)).astype(np.float32))
    masks = cfa_masks(pattern, 24, 24)[tf.newaxis]
    got = demosaic_from_masks(mosaic, masks, "auto").numpy()
    np.testing.assert_array_equal(got, demosaic.demosaic(mosaic, pattern).numpy())


def test_color_stage_equals_isp():
    spec = STAGES["color_matrix"]
    x = spec.example_inputs(2, 8, 8)
    got = spec.build()({k: tf.constant(v) for k, v in x.items()}).numpy()
    balanced = tf.clip_by_value(color.apply_white_balance(x["rgb"], x["wb_gains"]), 0.0, 1.0)
    want = color.apply_ccm(balanced, x["cam_to_srgb"]).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_bad_method_names_value():
    with pytest.raises(InputError, match="'nope'"):
        ClassicalDemosaicConfig(method="nope")
