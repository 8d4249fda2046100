"""``tfraw render``: the demo round trip, real DNGs, and bad input handling."""

import re

import numpy as np
import pytest
import tifffile

from tfraw.cli.main import main


@pytest.mark.parametrize("cfa", ["bayer", "xtrans"])
def test_demo_writes_16bit_tiff_and_prints_psnr(tmp_path, capsys, cfa):
    assert main(["render", "--demo", "--cfa", cfa, "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    tiff = tmp_path / f"demo_{cfa}.tiff"
    image = tifffile.imread(tiff)
    assert image.dtype == np.uint16 and image.ndim == 3 and image.shape[2] == 3
    value = float(re.search(r"PSNR ([0-9.]+) dB", out).group(1))
    # Demosaicing (in linear camera space, before the colour matrix and the sRGB curve amplify its
    # errors) and 14-bit quantization are all the round trip loses: measured with the shipped
    # neural demosaicers (the default pipeline) 33.9 dB (Bayer) and 32.4 dB (X-Trans); classical
    # (--demosaic auto) 28.3 dB (Malvar) and 25.4 dB (X-Trans). A levels, WB, matrix or curve
    # bug costs far more (< 20 dB).
    assert value > {"bayer": 32.5, "xtrans": 31.0}[cfa], out
    classical = tmp_path / "classical"
    assert main(["render", "--demo", "--cfa", cfa, "-o", str(classical), "--demosaic", "auto"]) == 0
    out = capsys.readouterr().out
    value = float(re.search(r"PSNR ([0-9.]+) dB", out).group(1))
    assert value > {"bayer": 27.0, "xtrans": 24.0}[cfa], out


def test_demo_both_cfas_in_one_call(tmp_path):
    assert main(["render", "--demo", "--cfa", "bayer", "xtrans", "-o", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.tiff")) == [
        "demo_bayer.tiff",
        "demo_xtrans.tiff",
    ]


@pytest.mark.parametrize(
    "fmt,suffix,dtype", [("png16", ".png", np.uint16), ("jpeg", ".jpg", np.uint8)]
)
def test_output_formats(tmp_path, fmt, suffix, dtype):
    from tfraw.demo import make_demo_raw
    from tfraw.io import read_image

    dng = tmp_path / "in.dng"
    make_demo_raw(dng)
    out_dir = tmp_path / "out"
    assert main(["render", str(dng), "-o", str(out_dir), "--format", fmt]) == 0
    written = out_dir / ("in" + suffix)
    assert written.exists()
    assert read_image(written).shape[2] == 3


def test_hdr_avif_hlg_output(tmp_path):
    """10-bit HLG AVIF (CICP 9/18/9) whose decoded light matches the SDR render below white."""
    import imagecodecs

    from tfraw.demo import make_demo_raw
    from tfraw.io import read_image
    from tfraw.io.avif import hlg_to_linear, read_avif_cicp
    from tfraw.isp.colorspace import linear_srgb_to_bt2020
    from tfraw.isp.transfer import srgb_to_linear

    dng = tmp_path / "in.dng"
    make_demo_raw(dng)
    assert main(["render", str(dng), "-o", str(tmp_path / "hdr"), "--format", "avif-hlg"]) == 0
    assert main(["render", str(dng), "-o", str(tmp_path / "sdr")]) == 0
    avif = tmp_path / "hdr" / "in.avif"
    assert read_avif_cicp(avif) == (9, 18, 9)
    codes = imagecodecs.avif_decode(avif.read_bytes())
    assert codes.dtype == np.uint16 and codes.max() <= 1023 and codes.shape[2] == 3
    light = hlg_to_linear(codes / 1023.0) * 3.7797  # the CLI's peak: white at HLG 75 %
    sdr = np.asarray(srgb_to_linear(read_image(tmp_path / "sdr" / "in.tiff").astype(np.float32)))
    expected = np.asarray(linear_srgb_to_bt2020(sdr.reshape(-1, 3))).reshape(sdr.shape)
    below_white = np.all(sdr < 0.9, axis=-1)
    error = np.abs(light - expected)[below_white]
    assert below_white.mean() > 0.5 and np.mean(error) < 0.01, np.mean(error)
    # a pipeline that ends in display sRGB cannot be HDR: a clear error, no file
    assert main(["render", str(dng), "-o", str(tmp_path / "x"), "--format", "avif-hlg",
                 "--pipeline", "classical"]) == 1  # fmt: skip
    assert not list((tmp_path / "x").glob("*.avif"))


def _bad_inputs(tmp_path, shared_dng=None):
    empty = tmp_path / "empty.dng"
    empty.write_bytes(b"")
    text = tmp_path / "notes.dng"
    text.write_text("this is not a raw file\n" * 20)
    from tfraw.demo import make_demo_raw

    good = tmp_path / "good.dng"
    make_demo_raw(good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.dng"
    truncated.write_bytes(data[: len(data) // 3])
    no_sidecar = tmp_path / "dump.raw"
    no_sidecar.write_bytes(np.zeros((8, 8), "<u2").tobytes())
    return [empty, text, truncated, no_sidecar]


def test_bad_inputs_clear_error_no_output(tmp_path, capsys):
    bad = _bad_inputs(tmp_path)
    out_dir = tmp_path / "out"
    for path in bad:
        code = main(["render", str(path), "-o", str(out_dir)])
        err = capsys.readouterr().err
        assert code != 0, path
        assert path.name in err, err
        assert "Traceback" not in err
    assert list(out_dir.iterdir()) == []


def test_bad_file_skipped_others_rendered(tmp_path, capsys):
    bad = _bad_inputs(tmp_path)
    good = tmp_path / "good.dng"
    out_dir = tmp_path / "out"
    code = main(["render", str(bad[1]), str(good), "-o", str(out_dir)])
    assert code == 1
    assert [p.name for p in out_dir.iterdir()] == ["good.tiff"]


def test_shared_canon_dng_renders(tmp_path, shared_data):
    dng = shared_data / "raw" / "Canon_EOS_KissX4_MagicLantern_colorchart.dng"
    assert main(["render", str(dng), "-o", str(tmp_path), "--format", "png16"]) == 0
    from tfraw.io import read_image

    image = read_image(tmp_path / (dng.stem + ".png"))
    assert image.shape == (1156, 1734, 3)
    assert 0.05 < float(image.mean()) < 0.95
