"""DNG writer -> rawpy round trips, DNG tag reading and the shared real DNGs."""

import numpy as np
import pytest
import rawpy

from tfraw.errors import InputError, UnsupportedCFAError
from tfraw.io import read_dng_tags, read_raw, write_dng, write_raw_image_dng

BAYER = {
    "RGGB": [[0, 1], [1, 2]],
    "BGGR": [[2, 1], [1, 0]],
    "GRBG": [[1, 0], [2, 1]],
    "GBRG": [[1, 2], [0, 1]],
}
XTRANS = [
    [1, 1, 0, 1, 1, 2],
    [1, 1, 2, 1, 1, 0],
    [2, 2, 1, 0, 0, 1],
    [1, 1, 2, 1, 1, 0],
    [1, 1, 0, 1, 1, 2],
    [0, 0, 1, 2, 2, 1],
]
# Adobe-style D65 ColorMatrix (4 decimals, so the rationals are exact).
CM = np.array([[0.9020, -0.2890, -0.0715], [-0.4535, 1.2436, 0.2348], [-0.0934, 0.1919, 0.7086]])
CANON = "raw/Canon_EOS_KissX4_MagicLantern_colorchart.dng"
BLACKMAGIC = "raw/Blackmagic_PocketCinema4K_12bit.dng"


def _data(shape=(24, 36), low=600, high=4000, seed=0):
    return np.random.default_rng(seed).integers(low, high, shape).astype(np.uint16)


@pytest.mark.parametrize("name", [*BAYER, "XTRANS"])
def test_round_trip_through_rawpy(tmp_path, name):
    pattern = np.array(XTRANS if name == "XTRANS" else BAYER[name])
    data = _data()
    black = 500 + 10 * pattern  # one black level per CFA position
    path = write_dng(
        tmp_path / f"{name}.dng",
        data,
        pattern,
        black_level=black,
        white_level=4095,
        as_shot_neutral=[0.5, 1.0, 0.7],
        color_matrix1=CM,
        iso=800,
        exposure_time=1 / 250,
        f_number=2.8,
        orientation=6,
        noise_profile=[(1e-4, 2e-6)],
    )
    with rawpy.imread(str(path)) as rp:
        np.testing.assert_array_equal(rp.raw_image_visible, data)
        assert rp.white_level == 4095
        assert rp.raw_pattern.shape == pattern.shape
        wb = np.array(rp.camera_whitebalance[:3]) / rp.camera_whitebalance[1]
        np.testing.assert_allclose(wb, [2.0, 1.0, 1 / 0.7], rtol=1e-6)

    raw = read_raw(path)
    np.testing.assert_array_equal(raw.cfa_pattern, pattern)
    np.testing.assert_array_equal(raw.black_level, black)
    assert raw.white_level == 4095
    expected = (data - np.tile(black, (24 // pattern.shape[0], 36 // pattern.shape[1]))) / (
        4095.0 - np.tile(black, (24 // pattern.shape[0], 36 // pattern.shape[1]))
    )
    np.testing.assert_allclose(raw.mosaic, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(raw.wb_gains, [2.0, 1.0, 1 / 0.7], rtol=1e-6)
    np.testing.assert_allclose(raw.as_shot_neutral, [0.5, 1.0, 0.7], rtol=1e-6)
    np.testing.assert_allclose(raw.color_matrix1, CM, atol=1e-7)
    np.testing.assert_allclose(raw.xyz_to_camera, CM, atol=1e-7)
    assert raw.calibration_illuminant1 == 21
    assert raw.iso == 800
    assert raw.exposure_time == pytest.approx(1 / 250)
    assert raw.f_number == pytest.approx(2.8)
    assert raw.orientation == 6
    assert raw.noise_profile == [(1e-4, 2e-6)]
    assert raw.make == "tfraw" and raw.model == "synthetic"
    assert raw.is_xtrans == (name == "XTRANS")


def test_write_raw_image_dng_keeps_data_and_metadata(tmp_path):
    data = _data(seed=1)
    first = read_raw(
        write_dng(
            tmp_path / "a.dng",
            data,
            "GRBG",
            black_level=600,
            white_level=4095,
            as_shot_neutral=[0.6, 1.0, 0.8],
            color_matrix1=CM,
            iso=200,
            orientation=3,
        )
    )
    second = read_raw(write_raw_image_dng(tmp_path / "b.dng", first))
    np.testing.assert_allclose(second.mosaic, first.mosaic, atol=1e-7)
    np.testing.assert_array_equal(second.cfa_pattern, first.cfa_pattern)
    for key in ("wb_gains", "as_shot_neutral", "xyz_to_camera", "black_level"):
        np.testing.assert_allclose(getattr(second, key), getattr(first, key), rtol=1e-6)
    assert (second.iso, second.orientation, second.white_level) == (200, 3, 4095)


def test_highlights_and_negatives_survive(tmp_path):
    # LibRaw refuses images smaller than 22 pixels on a side, hence 32x32.
    data = np.tile(np.array([[100, 5000], [4095, 65535]], np.uint16), (16, 16))
    raw = read_raw(write_dng(tmp_path / "h.dng", data, "RGGB", black_level=200, white_level=4095))
    assert raw.mosaic.min() < 0 and raw.mosaic.max() > 1


def test_two_matrix_interpolation_matches_dng_spec(tmp_path):
    from tfraw.isp import color

    cm_a = CM * np.array([[1.2], [1.0], [0.7]])  # a different matrix for illuminant A
    neutral = np.array([0.55, 1.0, 0.65])
    raw = read_raw(
        write_dng(
            tmp_path / "two.dng",
            _data(),
            "RGGB",
            as_shot_neutral=neutral,
            color_matrix1=cm_a,
            calibration_illuminant1=17,
            color_matrix2=CM,
            calibration_illuminant2=21,
        )
    )
    cct = color.estimate_cct_from_neutral(neutral, cm_a, CM, 2856.0, 6504.0)
    expected = color.interpolate_color_matrix(cm_a, CM, 2856.0, 6504.0, cct).numpy()
    np.testing.assert_allclose(raw.xyz_to_camera, expected, atol=1e-5)
    assert raw.calibration_illuminant1 == 17 and raw.calibration_illuminant2 == 21


def test_write_dng_rejects_bad_input(tmp_path):
    with pytest.raises(InputError, match="uint16"):
        write_dng(tmp_path / "a.dng", np.zeros((4, 4), np.float32), "RGGB")
    with pytest.raises(UnsupportedCFAError):
        write_dng(tmp_path / "a.dng", _data(), [[0, 1, 2], [1, 2, 0], [2, 0, 1]])
    with pytest.raises(InputError, match="white level"):
        write_dng(tmp_path / "a.dng", _data(), "RGGB", black_level=5000, white_level=4095)
    assert list(tmp_path.iterdir()) == []


def test_truncated_and_corrupt_dngs(tmp_path):
    full = write_dng(tmp_path / "full.dng", _data((64, 64)), "RGGB", white_level=4095)
    blob = full.read_bytes()
    cases = {
        "half.dng": blob[: len(blob) // 2],
        "head.dng": blob[:1024],
        "text.dng": b"this is not a raw file\n" * 20,
        "empty.dng": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError, match=name):
            read_raw(tmp_path / name)
    with pytest.raises(InputError, match="no such file"):
        read_raw(tmp_path / "missing.dng")


def test_unsupported_cfa(tmp_path):
    import tifffile

    data = _data()
    for cfa, dim, planes in (
        ([0, 1, 2, 3], (2, 2), (3, 4, 5, 1)),
        (list(range(3)) * 3, (3, 3), (0, 1, 2)),
    ):
        path = tmp_path / f"cfa{dim[0]}.dng"
        tags = [
            (50706, "B", 4, (1, 4, 0, 0), True),
            (33421, "H", 2, dim, True),
            (33422, "B", len(cfa), cfa, True),
            (50710, "B", len(planes), planes, True),
            (50717, "I", 1, (4095,), True),
        ]
        tifffile.imwrite(path, data, photometric=32803, extratags=tags)
        with pytest.raises(UnsupportedCFAError, match=path.name):
            read_raw(path)


def test_read_dng_tags_not_tiff(tmp_path):
    (tmp_path / "x.raf").write_bytes(b"FUJIFILMCCD-RAW " + bytes(100))
    assert read_dng_tags(tmp_path / "x.raf") is None


def test_canon_dng(shared_data):
    raw = read_raw(shared_data / CANON)
    assert raw.mosaic.shape == (1156, 1734) and raw.mosaic.dtype == np.float32
    np.testing.assert_array_equal(raw.cfa_pattern, BAYER["RGGB"])
    assert np.all(raw.black_level == 2056) and raw.white_level == 15000
    assert raw.mosaic.min() < 0  # noise below black survives
    # rawpy's camera_whitebalance [1, 0.4037, 0.684] is 1/AsShotNeutral (1, 2.477, 1.462).
    np.testing.assert_allclose(raw.wb_gains, [2.477, 1.0, 2.477 / 1.462], rtol=1e-4)
    tags = read_dng_tags(shared_data / CANON)
    assert np.any(raw.xyz_to_camera != 0)
    # Only ColorMatrix1 is present, so the interpolated matrix is ColorMatrix1 itself.
    assert "color_matrix2" not in tags
    np.testing.assert_allclose(raw.xyz_to_camera, tags["color_matrix1"], atol=1e-7)
    np.testing.assert_allclose(raw.xyz_to_camera[0], [0.6461, -0.1164, -0.0857], atol=1e-7)
    assert raw.make == "Canon" and raw.model == "Canon EOS Kiss X4"
    assert raw.exposure_time is None and raw.iso is None  # Magic Lantern writes 0 = unknown
    srgb = raw.camera_to_srgb
    np.testing.assert_allclose(srgb.sum(axis=1), 1.0, atol=1e-4)


def test_blackmagic_dng(shared_data):
    from tfraw.isp import color

    raw = read_raw(shared_data / BLACKMAGIC)
    assert raw.mosaic.shape == (2176, 4128)
    np.testing.assert_array_equal(raw.cfa_pattern, BAYER["RGGB"])
    assert np.all(raw.black_level == 512)
    assert (raw.calibration_illuminant1, raw.calibration_illuminant2) == (17, 21)
    np.testing.assert_allclose(raw.as_shot_neutral, [0.4533, 1.0, 0.53], rtol=1e-5)
    expected = color.xyz_to_camera_for_neutral(
        raw.as_shot_neutral, raw.color_matrix1, raw.color_matrix2, 2856.0, 6504.0
    ).numpy()
    np.testing.assert_allclose(raw.xyz_to_camera, expected, atol=1e-5)
    assert raw.forward_matrix1 is not None and raw.bits_per_sample == 12
