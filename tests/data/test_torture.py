import numpy as np
import pytest

from tfraw.data.torture import (
    MIN_OKLAB_DISTANCE,
    TORTURE_KINDS,
    make_torture_pattern,
    mix_with_torture,
    oklab_distance,
    sample_contrasting_colors,
    srgb_to_oklab,
    torture_dataset,
)


def test_at_least_ten_kinds():
    assert len(TORTURE_KINDS) >= 10
    assert len(set(TORTURE_KINDS)) == len(TORTURE_KINDS)


@pytest.mark.parametrize("kind", TORTURE_KINDS)
def test_pattern_shape_range_determinism(kind):
    a = make_torture_pattern(kind, 40, seed=7)
    assert a.shape == (40, 40, 3) and a.dtype == np.float32
    assert np.all(np.isfinite(a)) and a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, make_torture_pattern(kind, 40, seed=7))
    assert not np.array_equal(a, make_torture_pattern(kind, 40, seed=8))
    # Guaranteed contrast: the pattern is never flat.
    assert float(np.ptp(srgb_to_oklab(a)[..., 0])) + float(np.ptp(a)) > 0.1


def test_oklab_golden_values():
    # Ottosson (2020): white is L=1, a=b=0; sRGB red is about (0.628, 0.225, 0.126).
    np.testing.assert_allclose(srgb_to_oklab(np.ones(3)), [1.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(srgb_to_oklab([1.0, 0.0, 0.0]), [0.628, 0.2249, 0.1258], atol=1e-3)
    assert oklab_distance(np.zeros(3), np.ones(3)) == pytest.approx(1.0, abs=1e-4)


def test_contrasting_colors_guarantee():
    rng = np.random.default_rng(0)
    for _ in range(300):
        pair = sample_contrasting_colors(rng, 2)
        assert oklab_distance(pair[0], pair[1]) >= MIN_OKLAB_DISTANCE
        third = sample_contrasting_colors(rng, 1, avoid=pair)[0]
        assert oklab_distance(third, pair).min() >= MIN_OKLAB_DISTANCE
    with pytest.raises(ValueError, match="min_distance"):
        sample_contrasting_colors(rng, 2, min_distance=0.7)


def test_stripes_reach_nyquist():
    # Period-2 stripes (0.5 cycles/px) occur among the seeds.
    found = False
    for seed in range(40):
        image = make_torture_pattern("stripes", 16, seed)
        if np.all(image[:, 0] == image[:, 2]) and not np.all(image[:, 0] == image[:, 1]):
            found = True
            break
    assert found


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown torture pattern kind 'nope'"):
        make_torture_pattern("nope", 8, 0)
    with pytest.raises(ValueError, match="size"):
        make_torture_pattern("checkers", 0, 0)
    with pytest.raises(ValueError, match="kinds"):
        torture_dataset(8, 0, kinds=("nope",))


def test_dataset_deterministic_and_mix():
    import tensorflow as tf

    ds = torture_dataset(16, seed=3, kinds=("checkers", "zone_plate"))
    assert ds.element_spec.shape == (16, 16, 3)
    first = [x.numpy() for x in ds.take(3)]
    again = [
        x.numpy() for x in torture_dataset(16, seed=3, kinds=("checkers", "zone_plate")).take(3)
    ]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)

    natural = tf.data.Dataset.from_tensors(tf.fill((16, 16, 3), -1.0)).repeat(200)
    mixed = list(mix_with_torture(natural, ds, ratio=0.1, seed=1).as_numpy_iterator())
    n_torture = sum(float(x.min()) >= 0.0 for x in mixed)
    n_natural = len(mixed) - n_torture
    assert n_natural == 200  # ends with the natural data
    assert 3 <= n_torture <= 45
    assert mix_with_torture(natural, ds, ratio=0.0) is natural


def test_mix_ratio_validation():
    import tensorflow as tf

    natural = tf.data.Dataset.from_tensors(tf.zeros((16, 16, 3)))
    ds = torture_dataset(16, seed=0)
    with pytest.raises(ValueError, match="pure synthetic fine-tuning destroys natural-image"):
        mix_with_torture(natural, ds, ratio=1.0, allow_high_ratio=True)
    with pytest.raises(ValueError, match="allow_high_ratio"):
        mix_with_torture(natural, ds, ratio=0.2)
    mix_with_torture(natural, ds, ratio=0.2, allow_high_ratio=True)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="ratio"):
            mix_with_torture(natural, ds, ratio=bad, allow_high_ratio=True)
    other = tf.data.Dataset.from_tensors(tf.zeros((16, 16), tf.int32))
    with pytest.raises(ValueError, match="element spec"):
        mix_with_torture(other, ds, ratio=0.05)
