"""Plain Bayer readers (headerless uint16 / 16-bit PNG + JSON sidecar) and the shared dumps."""

import json

import numpy as np
import pytest

from tfraw.errors import InputError, UnsupportedCFAError
from tfraw.io import read_plain_bayer, read_png_bayer, read_raw, write_plain_bayer


def _data(shape=(6, 8), seed=0):
    return np.random.default_rng(seed).integers(0, 1024, shape).astype(np.uint16)


def test_round_trip_tfraw_schema(tmp_path):
    data = _data()
    sidecar = {
        "cfa_pattern": "GBRG",
        "black_level": [64, 65, 66, 67],
        "white_level": 1023,
        "bit_depth": 10,
        "wb_gains": [2.0, 1.0, 1.5],
        "xyz_to_camera": np.eye(3).tolist(),
        "orientation": 8,
        "iso": 400,
    }
    path = write_plain_bayer(tmp_path / "a.raw", data, sidecar)
    meta = json.loads((tmp_path / "a.json").read_text())
    assert (meta["width"], meta["height"], meta["dtype"]) == (8, 6, "<u2")
    raw = read_raw(path)
    np.testing.assert_array_equal(raw.cfa_pattern, [[1, 2], [0, 1]])
    black = np.tile(np.array([[64, 65], [66, 67]]), (3, 4))
    np.testing.assert_allclose(raw.mosaic, (data - black) / (1023.0 - black), rtol=1e-6)
    np.testing.assert_allclose(raw.wb_gains, [2.0, 1.0, 1.5])
    np.testing.assert_allclose(raw.as_shot_neutral, [0.5, 1.0, 1 / 1.5], rtol=1e-6)
    assert raw.orientation == 8 and raw.iso == 400 and raw.bits_per_sample == 10
    json.dumps(raw.metadata_dict())


def test_png_round_trip(tmp_path):
    data = _data((6, 8), seed=3) * 16
    path = write_plain_bayer(
        tmp_path / "b.png", data, {"cfa_pattern": [[2, 1], [1, 0]], "white_level": 16383}
    )
    raw = read_png_bayer(path)
    np.testing.assert_allclose(raw.mosaic, data / 16383.0, rtol=1e-6)
    np.testing.assert_array_equal(raw.cfa_pattern, [[2, 1], [1, 0]])
    assert raw.wb_source == "unity"


def test_xtrans_plain(tmp_path):
    letters = "GGRGGBGGBGGRBBGRRGGGBGGRGGRGGBRRGBBG"
    raw = read_raw(
        write_plain_bayer(
            tmp_path / "x.raw", _data((12, 12)), {"cfa_pattern": letters, "white_level": 1023}
        )
    )
    assert raw.is_xtrans and raw.cfa_pattern[0].tolist() == [1, 1, 0, 1, 1, 2]


def test_errors(tmp_path):
    data = _data()
    (tmp_path / "nosidecar.raw").write_bytes(data.tobytes())
    with pytest.raises(InputError, match="nosidecar.raw.*sidecar"):
        read_raw(tmp_path / "nosidecar.raw")
    path = write_plain_bayer(tmp_path / "a.raw", data, {"cfa_pattern": "RGGB", "white_level": 1023})
    meta = json.loads((tmp_path / "a.json").read_text())
    (tmp_path / "a.json").write_text(json.dumps({**meta, "width": 10}))
    with pytest.raises(InputError, match="96 bytes.*10x6"):
        read_plain_bayer(path)
    (tmp_path / "a.json").write_text(json.dumps({**meta, "cfa_pattern": "CYGM"}))
    with pytest.raises(UnsupportedCFAError):
        read_plain_bayer(path)
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(InputError, match="invalid JSON"):
        read_plain_bayer(path)
    with pytest.raises(InputError, match="uint16"):
        write_plain_bayer(tmp_path / "c.raw", data.astype(np.int32), {})


def test_shared_nikon(shared_data):
    raw = read_raw(shared_data / "raw/DSC_1339_768x512_RGGB_14bit_u16le.raw")
    assert raw.mosaic.shape == (512, 768)
    np.testing.assert_array_equal(raw.cfa_pattern, [[0, 1], [1, 2]])
    assert np.all(raw.black_level == 600) and raw.white_level == 15520
    assert raw.mosaic.max() > 1  # pixels above white survive
    np.testing.assert_allclose(raw.wb_gains, [1.94921875, 1.0, 1.34375])
    np.testing.assert_allclose(raw.xyz_to_camera[0], [0.9020, -0.2890, -0.0715], rtol=1e-6)
    assert raw.calibration_illuminant2 == 21


def test_shared_openisp(shared_data):
    raw = read_raw(shared_data / "raw/openISP_test_1920x1080_10bit_RGGB_u16le.raw")
    assert raw.mosaic.shape == (1080, 1920)
    np.testing.assert_array_equal(raw.cfa_pattern, [[0, 1], [1, 2]])
    assert raw.white_level == 1023 and np.all(raw.black_level == 0)
    np.testing.assert_allclose(raw.wb_gains, [1860 / 1024, 1.0, 1280 / 1024])


def test_shared_n900(shared_data):
    raw = read_raw(shared_data / "raw/halide_N900_bayer_small_W256xH344_GRBG_u16.png")
    assert raw.mosaic.shape == (344, 256)
    np.testing.assert_array_equal(raw.cfa_pattern, [[1, 0], [2, 1]])  # GRBG
    assert np.all(raw.black_level == 25) and raw.white_level == 1023
    matrices = raw.extra["camera_to_srgb_by_cct"]
    assert sorted(matrices) == ["3200", "7000"]
    assert np.asarray(matrices["3200"]).shape == (3, 4)
