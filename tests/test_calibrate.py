"""Noise calibration recovers a known profile from synthesized flats/darks and pairs."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfraw import calibrate
from tfraw.errors import InputError
from tfraw.isp.noise import LogLinearLaw, NoiseProfile, apply_noise, load_profile

# The known camera: Gaussian read noise, row noise, laws of ELD's form (Eq. 9) without scatter.
READ = LogLinearLaw(0.8, 0.5, 0.0)
ROW = LogLinearLaw(0.7, -1.0, 0.0)
GAINS = (0.5, 1.5, 4.0, 10.0)  # K of four ISOs
SIZE = (256, 512)


def _params(k):
    return {
        "K": tf.constant(k),
        "sigma_read": tf.constant(math.exp(READ.slope * math.log(k) + READ.intercept)),
        "sigma_row": tf.constant(math.exp(ROW.slope * math.log(k) + ROW.intercept)),
    }


def _scene():
    """A low-light scene in DN of the short exposure (0..400, mostly dark, like a x100 shot)."""
    yy, xx = np.mgrid[0 : SIZE[0], 0 : SIZE[1]]
    return (400 * (0.5 + 0.5 * np.sin(xx / 17.0) * np.sin(yy / 23.0)) ** 3).astype(np.float32)


def _noisy(seed, clean, k):
    return apply_noise(seed, clean[..., None], _params(k)).numpy()[..., 0]


@pytest.fixture(scope="module")
def pair_estimates():
    clean = _scene()
    ratio = 50.0
    return [
        calibrate.estimate_from_pair(100 * (i + 1), _noisy([i, 1], clean, k), clean * ratio, ratio)
        for i, k in enumerate(GAINS)
    ]


def _close(value, truth, rel):
    assert abs(value - truth) <= rel * abs(truth), (value, truth, rel)


def test_pairs_recover_the_profile(pair_estimates):
    for estimate, k in zip(pair_estimates, GAINS, strict=True):
        truth = _params(k)
        _close(estimate.k, k, 0.03)
        _close(estimate.sigma_read, float(truth["sigma_read"]), 0.10)
        _close(estimate.sigma_row, float(truth["sigma_row"]), 0.15)
    profile = calibrate.fit_profile(pair_estimates, "recovered")
    assert abs(profile.read_law.slope - READ.slope) < 0.05
    assert abs(profile.read_law.intercept - READ.intercept) < 0.1
    assert abs(profile.row_law.slope - ROW.slope) < 0.1
    np.testing.assert_allclose(profile.log_k_range, (math.log(0.5), math.log(10.0)), atol=0.03)


def test_flat_dark_recover_the_profile():
    estimates = []
    for i, k in enumerate(GAINS):
        flats = []
        for j, level in enumerate((200.0, 800.0, 2000.0)):
            frame = np.full(SIZE, level, np.float32)
            flats.append((_noisy([i, 10 + j], frame, k), _noisy([i, 20 + j], frame, k)))
        darks = [_noisy([i, 30 + j], np.zeros(SIZE, np.float32), k) for j in range(2)]
        estimates.append(
            calibrate.estimate_from_flat_dark(100 * (i + 1), flats, darks, pattern="RGGB")
        )
        truth = _params(k)
        _close(estimates[-1].k, k, 0.03)
        _close(estimates[-1].sigma_read, float(truth["sigma_read"]), 0.03)
        _close(estimates[-1].sigma_row, float(truth["sigma_row"]), 0.12)
    profile = calibrate.fit_profile(estimates, "flat")
    assert abs(profile.read_law.slope - READ.slope) < 0.02
    assert abs(profile.read_law.intercept - READ.intercept) < 0.03
    assert profile.color_bias is not None and len(profile.color_bias) == len(GAINS)


def test_profile_json_loads_in_the_synthesizer(pair_estimates, tmp_path):
    profile = calibrate.fit_profile(pair_estimates, "mycam")
    path = calibrate.write_profile(profile, tmp_path / "mycam.json")
    loaded = load_profile(path)
    assert loaded == NoiseProfile.from_json(profile.to_json())
    from tfraw.isp.noise import sample_noise_params

    params = sample_noise_params(tf.constant([0, 1]), loaded, batch_size=3)
    assert params["K"].shape == (3,)
    with pytest.raises(InputError):
        calibrate.write_profile(profile, tmp_path / "mycam.txt")


def test_tukey_ppcc_recovers_the_shape():
    from scipy import stats

    rng = np.random.default_rng(0)
    samples = stats.tukeylambda.rvs(-0.1, scale=3.0, size=40_000, random_state=rng)
    lam, scale = calibrate.tukey_ppcc(samples)
    assert abs(lam + 0.1) <= 0.03
    assert abs(scale - 3.0) <= 0.3


def test_errors():
    with pytest.raises(InputError, match="ratio"):
        calibrate.estimate_from_pair(100, np.zeros((16, 16)), np.ones((16, 16)), 0.0)
    with pytest.raises(InputError, match="differ"):
        calibrate.estimate_from_pair(100, np.zeros((16, 16)), np.ones((16, 8)), 1.0)
    with pytest.raises(InputError):
        calibrate.fit_profile([], "x")


def test_calibrate_from_a_pair_list_of_dngs(tmp_path):
    from tfraw.io.dng import write_dng
    from tfraw.isp.cfa import as_pattern

    clean = _scene()[:, :256] * 20.0  # the long exposure, ratio 20
    lines = []
    for i, (iso, k) in enumerate(((100.0, 0.5), (6400.0, 4.0))):
        noisy = _noisy([i, 5], clean / 20.0, k)
        for name, data, exposure in (("n", noisy, 0.05), ("c", clean, 1.0)):
            dn = np.clip(np.round(data + 512), 0, 16383).astype(np.uint16)
            write_dng(tmp_path / f"{name}{i}.dng", dn, as_pattern("RGGB"), black_level=512,
                      white_level=16383, iso=iso, exposure_time=exposure)  # fmt: skip
        lines.append(f"n{i}.dng c{i}.dng")
    (tmp_path / "pairs.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "cam.json"
    code = calibrate.main(["--dataroot", str(tmp_path), "--data-pair-list",
                           str(tmp_path / "pairs.txt"), "-o", str(out), "--name", "cam"])  # fmt: skip
    assert code == 0
    profile = load_profile(out)
    np.testing.assert_allclose(np.exp(profile.log_k_range), (0.5, 4.0), rtol=0.05)


def test_tfraw_calibrate_from_flat_and_dark_dngs(tmp_path, capsys):
    """The CLI path: DNG flats (two per exposure) and darks of two ISOs -> profile JSON whose
    K range and read law match the truth."""
    from tfraw.cli.main import main
    from tfraw.io.dng import write_dng
    from tfraw.isp.cfa import as_pattern

    size = (128, 192)
    flats, darks = [], []
    for i, (iso, k) in enumerate(((100.0, 0.5), (6400.0, 4.0))):
        for j, (level, exposure) in enumerate(((300.0, 0.01), (1500.0, 0.05), (4000.0, 0.13))):
            for copy in range(2):
                frame = _noisy([i, 40 + 2 * j + copy], np.full(size, level, np.float32), k)
                path = tmp_path / f"flat_{i}_{j}_{copy}.dng"
                dn = np.clip(np.round(frame + 512), 0, 16383).astype(np.uint16)
                write_dng(path, dn, as_pattern("RGGB"), black_level=512, white_level=16383,
                          iso=iso, exposure_time=exposure)  # fmt: skip
                flats.append(str(path))
        frame = _noisy([i, 60], np.zeros(size, np.float32), k)
        path = tmp_path / f"dark_{i}.dng"
        write_dng(path, np.clip(np.round(frame + 512), 0, 16383).astype(np.uint16),
                  as_pattern("RGGB"), black_level=512, white_level=16383, iso=iso,
                  exposure_time=0.01)  # fmt: skip
        darks.append(str(path))
    out = tmp_path / "cam.json"
    assert main(["calibrate", "--flats", *flats, "--darks", *darks, "-o", str(out)]) == 0
    profile = load_profile(out)
    np.testing.assert_allclose(np.exp(profile.log_k_range), (0.5, 4.0), rtol=0.05)
    assert abs(profile.read_law.slope - READ.slope) < 0.05
    # one ISO without a dark frame: a clear error naming it, no profile written
    bad = tmp_path / "bad.json"
    assert main(["calibrate", "--flats", *flats, "--darks", darks[0], "-o", str(bad)]) == 2
    assert "ISO 6400" in capsys.readouterr().err and not bad.exists()
