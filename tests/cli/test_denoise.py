"""``tfraw denoise``: DNG output keeps metadata, rendered outputs, bad files skipped, errors."""

import argparse

import numpy as np
import pytest

from tfraw.cli import denoise as cli
from tfraw.io import read_image, read_raw
from tfraw.io.dng import write_dng
from tfraw.isp.cfa import as_pattern
from tfraw.stages.denoise import DenoiseModel


def _parse(argv):
    parser = argparse.ArgumentParser()
    cli.add_parser(parser)
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("denoise_cli")
    data = root / "raws"
    data.mkdir()
    rng = np.random.default_rng(0)
    for name, pattern, iso in (("a", "RGGB", 3200.0), ("b", "XTRANS", None)):
        mosaic = (512 + rng.uniform(0, 3000, (36, 42))).astype(np.uint16)
        write_dng(data / f"{name}.dng", mosaic, as_pattern(pattern), black_level=512, white_level=16383,
                  iso=iso, exposure_time=0.01 if iso else None,
                  as_shot_neutral=(0.5, 1.0, 0.7))  # fmt: skip
    (data / "broken.dng").write_bytes(b"II*\x00not a dng at all")
    model_path = root / "model.keras"
    DenoiseModel(base_channels=4, depth=1, num_cameras=2).save(model_path)
    return data, model_path, root


def test_dng_output_keeps_metadata_and_skips_bad_files(setup, capsys):
    data, model_path, root = setup
    out = root / "dng"
    args = _parse(["-p", str(model_path), "--data-path", str(data), "--save-path", str(out),
                   "--ratio", "2", "--output", "dng"])  # fmt: skip
    assert cli.run(args) == 1  # broken.dng failed
    err = capsys.readouterr().err
    assert "broken.dng" in err and "skipped" in err
    source, result = read_raw(data / "a.dng"), read_raw(out / "a.dng")
    assert result.iso == source.iso and result.exposure_time == source.exposure_time
    np.testing.assert_array_equal(result.cfa_pattern, source.cfa_pattern)
    np.testing.assert_allclose(result.wb_gains, source.wb_gains, rtol=1e-3)
    assert result.mosaic.shape == source.mosaic.shape
    assert (out / "b.dng").is_file() and read_raw(out / "b.dng").cfa_pattern.shape == (6, 6)


@pytest.mark.parametrize(
    ("output", "bps", "dtype"), [("tiff", 16, np.uint16), ("png", 8, np.uint8)]
)
def test_rendered_outputs(setup, output, bps, dtype):
    data, model_path, root = setup
    out = root / output
    # --self-ensemble: 8 passes on the Bayer file, the 2 X-Trans admits on the other.
    args = _parse(["-p", str(model_path), "--data-path", str(data), "--save-path", str(out),
                   "--output", output, "--bps", str(bps), "--self-ensemble", "8"])  # fmt: skip
    cli.run(args)
    assert (out / f"b{'.tiff' if output == 'tiff' else '.png'}").is_file()
    suffix = ".tiff" if output == "tiff" else ".png"
    path = out / f"a{suffix}"
    if output == "tiff":
        import tifffile

        assert tifffile.imread(path).dtype == dtype
    assert read_image(path).shape == (36, 42, 3)


def test_target_exposure_needs_exif(setup, capsys):
    data, model_path, root = setup
    args = _parse(["-p", str(model_path), "--data-path", str(data), "--save-path",
                   str(root / "te"), "--target-exposure", "64", "--output", "dng"])  # fmt: skip
    assert cli.run(args) == 1
    err = capsys.readouterr().err
    assert "b.dng" in err and "ExposureTime" in err
    assert (root / "te" / "a.dng").is_file()  # ratio 64 / (3200 x 0.01) = 2
    assert cli.file_ratio(read_raw(data / "a.dng"), args) == pytest.approx(2.0)


@pytest.mark.parametrize("flag", ["--ratio", "--dgain", "--target-exposure"])
@pytest.mark.parametrize("value", ["0", "-3", "abc"])
def test_non_positive_ratio_is_rejected(flag, value, capsys):
    with pytest.raises(SystemExit):
        _parse(["-p", "m", "--data-path", "d", "--save-path", "s", flag, value])
    assert "> 0" in capsys.readouterr().err


def test_missing_folder_and_model(tmp_path, setup):
    from tfraw.errors import InputError

    data, model_path, _ = setup
    with pytest.raises(InputError, match="not a folder"):
        cli.run(_parse(["-p", str(model_path), "--data-path", str(tmp_path / "x"),
                        "--save-path", str(tmp_path)]))  # fmt: skip
    with pytest.raises(InputError, match="no denoise model"):
        cli.run(_parse(["-p", str(tmp_path / "none.keras"), "--data-path", str(data),
                        "--save-path", str(tmp_path)]))  # fmt: skip


def test_dark_frame_error_is_subtracted_before_the_gain(setup, tmp_path, monkeypatch, capsys):
    """A lens-capped frame 3 DN above the stated black: every denoised raw (identity model
    here, so the check is exact) comes out 3 DN lower x ratio; other layouts are refused."""
    from tfraw.errors import InputError
    from tfraw.stages.denoise import model as denoise_model

    data, model_path, _ = setup
    seen = []

    def identity(model, mosaic, pattern, ratio, **kwargs):
        seen.append(float(ratio))
        return np.asarray(mosaic, np.float32) * np.float32(ratio)

    monkeypatch.setattr(denoise_model, "apply_denoiser", identity)
    dark_path = tmp_path / "dark.dng"
    write_dng(dark_path, np.full((36, 42), 515, np.uint16), as_pattern("RGGB"),
              black_level=512, white_level=16383)  # fmt: skip
    dark = cli.DarkFrame.read(dark_path)
    np.testing.assert_allclose(dark.offset_dn, np.full((2, 2), 3.0), atol=1e-3)
    outputs = {}
    for name, extra in (("plain", []), ("dark", ["--dark-frame", str(dark_path)])):
        out = tmp_path / name
        args = _parse(["-p", str(model_path), "--data-path", str(data), "--save-path", str(out),
                       "--ratio", "2", "--output", "dng", *extra])  # fmt: skip
        assert cli.run(args) == 1  # broken.dng, and with the dark frame the X-Trans b.dng too
        outputs[name] = read_raw(out / "a.dng")
    err = capsys.readouterr().err
    assert "b.dng" in err and "dark frame" in err and "+3.00" in err
    assert not (tmp_path / "dark" / "b.dng").exists() and (tmp_path / "plain" / "b.dng").exists()
    assert set(seen) == {2.0}
    scale = 16383 - 512
    difference = (outputs["plain"].mosaic - outputs["dark"].mosaic) * scale
    np.testing.assert_allclose(difference, 6.0, atol=0.51)  # 3 DN x ratio 2, 16-bit rounding
    # wrong size, missing file, non-finite dark frame
    small = tmp_path / "small.dng"
    write_dng(small, np.full((36, 36), 515, np.uint16), as_pattern("RGGB"), black_level=512,
              white_level=16383)  # fmt: skip
    with pytest.raises(InputError, match="another size or CFA"):
        cli.DarkFrame.read(small).offset_for(read_raw(data / "a.dng"))
    with pytest.raises(InputError, match="no such file"):
        cli.DarkFrame.read(tmp_path / "none.dng")
