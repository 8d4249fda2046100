"""Tests of tfraw.isp.noise."""

import dataclasses
import math

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import noise

PROFILES = ["SonyA7S2", "NikonD850", "CanonEOS70D", "CanonEOS700D"]


def _flat_params(k, sigma_read, **extra):
    params = {"K": tf.constant(k), "sigma_read": tf.constant(sigma_read)}
    params.update({key: tf.constant(value) for key, value in extra.items()})
    return params


def test_bundled_profiles_load_and_round_trip():
    assert set(PROFILES) <= set(noise.list_profiles())
    for name in noise.list_profiles():
        profile = noise.load_profile(name)
        assert profile.name == name and "ELD" in profile.source
        assert noise.NoiseProfile.from_json(profile.to_json()) == profile
        assert profile.as_gaussian().read_model == "gaussian"
    sony = noise.load_profile("sonya7s2")
    assert math.exp(sony.log_k_range[0]) == pytest.approx(0.09391607086816033)
    assert math.exp(sony.log_k_range[1]) == pytest.approx(6.010628535562261)


def test_load_profile_from_path(tmp_path):
    profile = dataclasses.replace(noise.load_profile("NikonD850"), name="mine")
    path = tmp_path / "mine.json"
    path.write_text(profile.to_json())
    assert noise.load_profile(path) == profile


def test_unknown_profile_lists_known():
    with pytest.raises(InputError, match="SonyA7S2"):
        noise.load_profile("NoSuchCamera")


def test_profile_validation():
    with pytest.raises(InputError):
        noise.NoiseProfile.from_json('{"name": "x"}')
    with pytest.raises(InputError, match="unknown keys"):
        noise.NoiseProfile.from_json('{"name": "x", "bogus": 1}')
    with pytest.raises(InputError):
        noise.NoiseProfile(
            name="x",
            log_k_range=(0.0, 1.0),
            read_model="tukey_lambda",
            read_law=noise.LogLinearLaw(0.5, 0.0, 0.1),
        )


@pytest.mark.parametrize("name", PROFILES)
def test_sample_noise_params(name):
    profile = noise.load_profile(name)
    p = noise.sample_noise_params(tf.constant([1, 2]), profile, batch_size=64)
    lo, hi = profile.log_k_range
    assert np.all((p["log_K"] >= lo) & (p["log_K"] <= hi))
    np.testing.assert_allclose(p["K"], np.exp(p["log_K"]), rtol=1e-5)
    assert p["black_level_error"].shape == (64, 4)
    assert np.all(np.isin(np.float32(p["tukey_lambda"]), np.float32(profile.tukey_lambda)))
    # Median of log sigma_read follows the calibrated law.
    residual = np.log(p["sigma_read"]) - (
        profile.read_law.slope * p["log_K"] + profile.read_law.intercept
    )
    assert abs(np.median(residual)) < 0.15
    fixed = noise.sample_noise_params([1, 2], name, log_k=0.5)
    assert float(fixed["log_K"]) == pytest.approx(0.5)


def test_sampling_is_stateless():
    a = noise.sample_noise_params(tf.constant([3, 4]), "SonyA7S2", batch_size=4)
    b = noise.sample_noise_params(tf.constant([3, 4]), "SonyA7S2", batch_size=4)
    c = noise.sample_noise_params(tf.constant([3, 5]), "SonyA7S2", batch_size=4)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.allclose(a["K"], c["K"])
    clean = tf.fill((4, 8, 8, 1), 50.0)
    np.testing.assert_array_equal(
        noise.apply_noise([7, 7], clean, a), noise.apply_noise([7, 7], clean, a)
    )
    assert not np.array_equal(
        noise.apply_noise([7, 7], clean, a), noise.apply_noise([7, 8], clean, a)
    )


def test_shot_plus_read_variance_matches_model():
    k, sigma_read, level = 2.0, 3.0, 100.0
    clean = tf.fill((512, 512, 1), level)
    noisy = noise.apply_noise([0, 1], clean, _flat_params(k, sigma_read), quantize=False).numpy()
    expected = k * level + sigma_read**2
    assert noisy.mean() == pytest.approx(level, abs=0.1)
    assert noisy.var() == pytest.approx(expected, rel=0.03)


def test_row_noise_is_constant_along_rows():
    params = _flat_params(1e-3, 0.0, sigma_row=5.0)
    noisy = noise.apply_noise([0, 2], tf.zeros((64, 32, 1)), params, quantize=False).numpy()
    np.testing.assert_allclose(noisy.std(axis=1), 0.0, atol=1e-4)
    assert noisy[:, 0, 0].std() == pytest.approx(5.0, rel=0.3)


def test_tukey_lambda_zero_is_logistic():
    u = tf.constant([0.1, 0.25, 0.5, 0.9])
    logistic = np.log(u.numpy() / (1 - u.numpy()))
    np.testing.assert_allclose(noise.tukey_lambda_quantile(u, 0.0), logistic, atol=1e-6)
    # Continuity: Q_lambda - logit = lambda/2 (log^2 u - log^2 (1-u)) + O(lambda^2).
    np.testing.assert_allclose(noise.tukey_lambda_quantile(u, 1e-3), logistic, atol=3e-3)
    # Sampled read noise with lambda = 0: logistic with scale s has variance s^2 pi^2 / 3.
    params = _flat_params(1e-3, 2.0, tukey_lambda=0.0)
    noisy = noise.apply_noise([1, 1], tf.zeros((512, 512, 1)), params, quantize=False).numpy()
    assert noisy.var() == pytest.approx(4.0 * math.pi**2 / 3.0, rel=0.03)


def test_quantization_and_black_level():
    params = _flat_params(1e-3, 0.5, black_level_error=[1.0, 2.0, 3.0, 4.0])
    packed = noise.apply_noise([2, 2], tf.fill((16, 16, 4), 10.0), params)
    np.testing.assert_array_equal(packed, np.round(packed))
    np.testing.assert_allclose(packed.numpy().mean(axis=(0, 1)), [11, 12, 13, 14], atol=0.2)
    mosaic = noise.apply_noise([2, 2], tf.fill((16, 16, 1), 10.0), params, quantize=False)
    assert float(tf.reduce_mean(mosaic)) == pytest.approx(12.5, abs=0.2)


def test_black_level_offset_undoes_the_synthesized_bias():
    params = _flat_params(1e-3, 0.5, black_level_error=[1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(
        noise.black_level_offset(params, 100.0, 10.0, 4), [0.1, 0.2, 0.3, 0.4]
    )
    assert float(noise.black_level_offset(params, 100.0, 10.0)) == pytest.approx(0.25)
    # a synthesized raw minus the offset keeps the clean mean (no read or shot noise here)
    clean = tf.fill((32, 32, 1), 0.4)
    noisy = noise.synthesize_noisy_raw([3, 3], clean, params, 1000.0, 10.0).numpy()
    corrected = noisy - noise.black_level_offset(params, 1000.0, 10.0)
    assert abs(float(noisy.mean()) - 0.4) > 0.02
    assert float(corrected.mean()) == pytest.approx(0.4, abs=0.005)
    with pytest.raises(InputError, match="ratio must be > 0"):
        noise.black_level_offset(params, 100.0, 0.0)
    batched = noise.sample_noise_params([0, 0], "SonyA7S2", batch_size=2)
    with pytest.raises(InputError, match="one image"):
        noise.black_level_offset(batched, 100.0, 10.0)


def test_synthesize_noisy_raw():
    params = noise.sample_noise_params([0, 0], "SonyA7S2", batch_size=2)
    clean = tf.fill((2, 64, 64, 1), 0.3)
    noisy = noise.synthesize_noisy_raw([1, 2], clean, params, 16383.0 - 512.0, [100.0, 200.0])
    assert noisy.shape == clean.shape and noisy.dtype == tf.float32
    assert float(tf.reduce_mean(noisy)) == pytest.approx(0.3, abs=0.05)
    with pytest.raises(InputError, match="ratio"):
        noise.synthesize_noisy_raw([1, 2], clean, params, 15871.0, 0.0)
    with pytest.raises(InputError, match="white_minus_black"):
        noise.synthesize_noisy_raw([1, 2], clean, params, -1.0, 10.0)


def test_apply_noise_in_tf_function_dynamic():
    params = noise.sample_noise_params([0, 3], "NikonD850", batch_size=2)
    fn = tf.function(
        lambda x: noise.apply_noise([4, 4], x, params),
        input_signature=[tf.TensorSpec([None, None, None, 1])],
    )
    x = tf.fill((2, 9, 7, 1), 20.0)
    np.testing.assert_array_equal(fn(x), noise.apply_noise([4, 4], x, params))


def test_errors():
    params = noise.sample_noise_params([0, 0], "SonyA7S2", batch_size=2)
    with pytest.raises(InputError):
        noise.apply_noise([0, 0], tf.zeros((4, 4, 1)), params)  # batched params, unbatched image
    with pytest.raises(InputError, match="K"):
        noise.apply_noise([0, 0], tf.zeros((4, 4, 1)), {"sigma_read": 1.0})
    with pytest.raises(InputError, match="seed"):
        noise.apply_noise([0, 0, 0], tf.zeros((4, 4, 1)), params)
