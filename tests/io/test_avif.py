import struct

import numpy as np
import pytest

from tfraw.errors import InputError
from tfraw.io.avif import (
    hlg_to_linear,
    linear_to_hlg,
    read_avif,
    read_avif_cicp,
    read_hlg_avif,
    write_hlg_avif,
)


def test_hlg_constants_and_golden_values():
    # ITU-R BT.2100-2 Table 5 constants, written out independently of the code under test.
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    e = np.array([0.0, 1 / 48, 1 / 12, 0.5, 1.0])
    expected = [0.0, 0.25, 0.5, a * np.log(6.0 - b) + c, 1.0]
    np.testing.assert_allclose(linear_to_hlg(e), expected, atol=1e-6)
    assert float(linear_to_hlg(np.array(0.5))) == pytest.approx(0.87164, abs=1e-5)
    # BT.2408 reference white: 75 % HLG signal is 26.5 % of the nominal peak scene light.
    assert float(hlg_to_linear(np.array(0.75))) == pytest.approx(0.2650, abs=1e-4)
    x = np.linspace(0.0, 1.0, 1001)
    np.testing.assert_allclose(hlg_to_linear(linear_to_hlg(x)), x, atol=1e-6)
    assert np.all(np.diff(linear_to_hlg(x)) > 0)


def test_write_reads_back_cicp_and_codes(tmp_path):
    rng = np.random.default_rng(0)
    linear = rng.random((24, 40, 3)) * 3.0  # unclipped HDR values
    out = write_hlg_avif(tmp_path / "hdr.avif", linear, peak=3.0)
    assert read_avif_cicp(out) == (9, 18, 9)
    codes = read_avif(out)
    assert codes.dtype == np.uint16 and codes.shape == (24, 40, 3)
    expected = np.round(linear_to_hlg(linear / 3.0) * 1023)
    assert np.abs(codes.astype(np.int64) - expected).max() <= 1
    back = read_hlg_avif(out, peak=3.0)
    assert back.dtype == np.float32 and np.abs(back - linear).max() < 0.05
    assert [p.name for p in tmp_path.iterdir()] == ["hdr.avif"]  # atomic: no temp left


def test_values_above_peak_clip_only_at_encode(tmp_path):
    linear = np.full((8, 8, 3), 5.0)
    codes = read_avif(write_hlg_avif(tmp_path / "a.avif", linear, peak=1.0))
    assert codes.max() == 1023


def test_bad_input(tmp_path):
    image = np.zeros((8, 8, 3))
    image[2, 3, 1] = np.nan
    with pytest.raises(InputError, match="NaN/Inf"):
        write_hlg_avif(tmp_path / "a.avif", image)
    with pytest.raises(InputError, match="NaN/Inf"):
        write_hlg_avif(tmp_path / "a.avif", np.full((8, 8, 3), np.inf))
    with pytest.raises(InputError, match=r"\(8, 8\)"):
        write_hlg_avif(tmp_path / "a.avif", np.zeros((8, 8)))
    with pytest.raises(ValueError, match="peak"):
        write_hlg_avif(tmp_path / "a.avif", np.zeros((8, 8, 3)), peak=0.0)
    assert not list(tmp_path.iterdir())


def test_cicp_parser_rejects_non_avif_and_missing_nclx(tmp_path):
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(40))
    with pytest.raises(InputError, match="x.png"):
        read_avif_cicp(png)

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(body), kind) + body

    ipco = box(b"ipco", box(b"colr", b"prof" + bytes(4)))
    meta = box(b"meta", bytes(4) + box(b"iprp", ipco))
    no_nclx = tmp_path / "icc.avif"
    no_nclx.write_bytes(box(b"ftyp", b"avif" + bytes(4) + b"mif1") + meta)
    with pytest.raises(InputError, match="nclx"):
        read_avif_cicp(no_nclx)
    # The same structure with an nclx box parses without any decoder.
    nclx = box(b"colr", b"nclx" + struct.pack(">HHHB", 9, 16, 9, 0x80))
    meta = box(b"meta", bytes(4) + box(b"iprp", box(b"ipco", nclx)))
    handmade = tmp_path / "pq.avif"
    handmade.write_bytes(box(b"ftyp", b"avif" + bytes(4) + b"mif1") + meta)
    assert read_avif_cicp(handmade) == (9, 16, 9)
