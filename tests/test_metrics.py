import numpy as np
import pytest
import tensorflow as tf

from tfraw import metrics
from tfraw.errors import InputError


def test_psnr_golden():
    x = np.zeros((4, 4, 3), np.float32)
    y = np.full((4, 4, 3), 0.1, np.float32)
    assert float(metrics.psnr(x, y)) == pytest.approx(20.0, abs=1e-4)
    assert float(metrics.psnr(x, y * 255, peak=255.0)) == pytest.approx(20.0, abs=1e-4)


def test_cpsnr_uint8_rounds_and_crops_border():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 256, (32, 32, 3)).astype(np.float32) / 255
    # Errors below half an 8-bit step vanish in the uint8 round trip.
    assert float(metrics.cpsnr_uint8(truth + 0.4 / 255, truth)) > 200
    noisy = truth.copy()
    noisy[:5] = 1 - noisy[:5]
    assert float(metrics.cpsnr_uint8(noisy, truth, border=10)) > 200
    assert float(metrics.cpsnr_uint8(noisy, truth, border=0)) < 20


def test_ssim_identity_and_degradation():
    x = tf.random.stateless_uniform((1, 32, 32, 3), seed=(1, 2))
    assert float(metrics.ssim(x, x)) == pytest.approx(1.0, abs=1e-6)
    assert float(metrics.ssim(x, x * 0.5)) < 0.95


def test_delta_e_white_vs_black():
    white = np.ones((2, 2, 3), np.float32)
    black = np.zeros((2, 2, 3), np.float32)
    assert float(metrics.delta_e(white, black)) == pytest.approx(100.0, abs=1e-2)
    assert float(metrics.delta_e(white, white, formula="2000")) == pytest.approx(0.0, abs=1e-4)


def test_errors_name_the_shapes():
    with pytest.raises(InputError, match=r"\(4, 4, 3\)"):
        metrics.psnr(np.zeros((4, 4, 3)), np.zeros((4, 5, 3)))
    with pytest.raises(InputError, match="NaN"):
        metrics.check_finite(np.array([np.nan, 1.0]))
