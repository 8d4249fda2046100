"""Tests of tfraw.isp.unprocess."""

import numpy as np
import pytest
import tensorflow as tf

from tfraw.errors import InputError
from tfraw.isp import unprocess as up


def test_sample_params_shapes_and_ranges():
    p = up.sample_unprocess_params(tf.constant([1, 2]), batch_size=256)
    assert p["rgb_to_cam"].shape == (256, 3, 3)
    np.testing.assert_allclose(tf.reduce_sum(p["rgb_to_cam"], -1), 1.0, atol=1e-5)
    eye = tf.linalg.matmul(p["cam_to_rgb"], p["rgb_to_cam"])
    np.testing.assert_allclose(eye, np.broadcast_to(np.eye(3), (256, 3, 3)), atol=1e-4)
    assert np.all((p["red_gain"] >= 1.9) & (p["red_gain"] <= 2.4))
    assert np.all((p["blue_gain"] >= 1.5) & (p["blue_gain"] <= 1.9))
    assert abs(float(tf.reduce_mean(1.0 / p["rgb_gain"])) - 0.8) < 0.03
    single = up.sample_unprocess_params(tf.constant([1, 2]))
    assert single["rgb_to_cam"].shape == (3, 3) and single["red_gain"].shape == ()


def test_sampling_is_reproducible():
    a = up.sample_unprocess_params(tf.constant([5, 6]), batch_size=3)
    b = up.sample_unprocess_params(np.array([5, 6]), batch_size=3)
    c = up.sample_unprocess_params(tf.constant([5, 7]), batch_size=3)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        assert not np.allclose(a[key], c[key])


def test_seed_error():
    with pytest.raises(InputError, match=r"\(3,\)"):
        up.sample_unprocess_params(tf.constant([1, 2, 3]))


def test_smoothstep_pair():
    x = tf.linspace(0.0, 1.0, 101)
    np.testing.assert_allclose(up.apply_smoothstep(up.apply_inverse_smoothstep(x)), x, atol=1e-5)
    np.testing.assert_allclose(up.apply_inverse_smoothstep(up.apply_smoothstep(x)), x, atol=1e-3)


def test_gain_pair_exact_below_inflection():
    p = up.sample_unprocess_params(tf.constant([0, 0]))
    x = tf.random.stateless_uniform((8, 8, 3), [1, 1], maxval=0.85)
    np.testing.assert_allclose(up.apply_gains(up.apply_inverse_gains(x, p), p), x, atol=1e-6)
    white = tf.ones((1, 1, 3))
    # Highlights are preserved: white stays white.
    np.testing.assert_allclose(up.apply_inverse_gains(white, p), white, atol=1e-6)


@pytest.mark.parametrize("batch", [None, 3])
def test_process_inverts_unprocess(batch):
    p = up.sample_unprocess_params(tf.constant([9, 9]), batch_size=batch)
    shape = (16, 16, 3) if batch is None else (batch, 16, 16, 3)
    srgb = tf.random.stateless_uniform(shape, [2, 3])
    raw = up.unprocess(srgb, p)
    assert raw.shape == shape and raw.dtype == tf.float32
    back = up.process(raw, p).numpy()
    err = np.abs(back - srgb.numpy())
    # Exact where the safe inverse gain equals the plain one (mean linear cam RGB <= 0.9);
    # bright, saturated pixels are clipped by the display transform.
    linear = up.srgb_to_linear(up.apply_inverse_smoothstep(srgb))
    regular = (tf.reduce_mean(up.apply_inverse_ccm(linear, p), -1) < 0.9).numpy()
    in_gamut = np.all(
        (up.apply_ccm(up.apply_gains(raw, p), p).numpy() <= 1.0)
        & (up.apply_ccm(up.apply_gains(raw, p), p).numpy() >= 0.0),
        axis=-1,
    )
    assert np.max(err[regular & in_gamut]) < 2e-3
    assert np.mean(err) < 0.02


def test_process_round_trip_in_tf_function():
    p = up.sample_unprocess_params(tf.constant([4, 4]), batch_size=2)
    fn = tf.function(
        lambda x: up.process(up.unprocess(x, p), p),
        input_signature=[tf.TensorSpec([None, None, None, 3])],
    )
    x = tf.fill((2, 5, 7, 3), 0.4)
    np.testing.assert_allclose(fn(x), up.process(up.unprocess(x, p), p), atol=1e-6)
    np.testing.assert_allclose(fn(x), x, atol=2e-3)


def test_gradients_finite():
    p = up.sample_unprocess_params(tf.constant([4, 5]))
    x = tf.Variable(tf.random.stateless_uniform((6, 6, 3), [7, 7]))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(up.process(up.unprocess(x, p), p))
    assert np.all(np.isfinite(tape.gradient(loss, x).numpy()))


def test_errors():
    p = up.sample_unprocess_params(tf.constant([1, 1]), batch_size=2)
    with pytest.raises(InputError, match=r"\(4, 4, 4\)"):
        up.unprocess(tf.zeros((4, 4, 4)), p)
    with pytest.raises(InputError):
        up.apply_gains(tf.zeros((4, 4, 3)), p)  # batched params need (B, H, W, 3)
    with pytest.raises(InputError, match="red_gain"):
        up.apply_gains(tf.zeros((4, 4, 3)), {"blue_gain": 1.0, "rgb_gain": 1.0})
