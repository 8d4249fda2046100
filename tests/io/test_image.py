"""read_image / write_image / apply_orientation."""

import numpy as np
import pytest

from tfraw.errors import InputError
from tfraw.io import apply_orientation, read_image, write_image


def _rgb(h=6, w=10, seed=0):
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


@pytest.mark.parametrize(
    ("name", "kwargs", "step"),
    [
        ("a.tif", {}, 1 / 65535),
        ("a.png", {"bits": 16}, 1 / 65535),
        ("a.png", {}, 1 / 255),
        ("a.tiff", {"bits": 8}, 1 / 255),
    ],
)
def test_lossless_round_trip(tmp_path, name, kwargs, step):
    rgb = _rgb()
    back = read_image(write_image(tmp_path / name, rgb, **kwargs))
    assert back.shape == rgb.shape and back.dtype == np.float32
    assert np.abs(back - rgb).max() <= step / 2 + 1e-6


def test_sixteen_bit_png_keeps_depth(tmp_path):
    rgb = np.full((4, 4, 3), 1000 / 65535, np.float32)
    back = read_image(write_image(tmp_path / "x.png", rgb, bits=16))
    assert round(float(back[0, 0, 0]) * 65535) == 1000  # 8 bits would give 1028


def test_jpeg(tmp_path):
    rgb = np.full((16, 16, 3), 0.5, np.float32)
    back = read_image(write_image(tmp_path / "a.jpg", rgb, quality=90))
    assert np.abs(back - 0.5).max() < 0.02


def test_clip_only_at_encode(tmp_path):
    rgb = _rgb()
    rgb[0, 0] = [2.0, -1.0, 0.5]
    back = read_image(write_image(tmp_path / "c.tif", rgb))
    np.testing.assert_allclose(back[0, 0], [1.0, 0.0, 0.5], atol=1e-4)


def test_nan_rejected(tmp_path):
    rgb = _rgb()
    rgb[1, 1, 1] = np.nan
    with pytest.raises(InputError, match="NaN"):
        write_image(tmp_path / "n.png", rgb)
    assert list(tmp_path.iterdir()) == []


def test_bad_format_and_missing(tmp_path):
    with pytest.raises(InputError, match="format"):
        write_image(tmp_path / "a.bmp", _rgb())
    with pytest.raises(InputError, match="jpeg"):
        write_image(tmp_path / "a.jpg", _rgb(), bits=16)
    with pytest.raises(InputError, match="no such file"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nrubbish")
    with pytest.raises(InputError, match="bad.png"):
        read_image(tmp_path / "bad.png")


# Where the stored top-left pixel lands for display (row, col as fractions of the last index).
CORNER = {1: (0, 0), 2: (0, 1), 3: (1, 1), 4: (1, 0), 5: (0, 0), 6: (0, 1), 7: (1, 1), 8: (1, 0)}
# And where the stored top-right pixel lands.
TOP_RIGHT = {1: (0, 1), 2: (0, 0), 3: (1, 0), 4: (1, 1), 5: (1, 0), 6: (1, 1), 7: (0, 1), 8: (0, 0)}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_apply_orientation(orientation):
    img = np.zeros((3, 5), np.int32)
    img[0, 0], img[0, -1] = 1, 2
    out = apply_orientation(img, orientation)
    assert out.shape == ((5, 3) if orientation >= 5 else (3, 5))
    last = np.array(out.shape) - 1
    assert out[tuple(np.array(CORNER[orientation]) * last)] == 1
    assert out[tuple(np.array(TOP_RIGHT[orientation]) * last)] == 2


def test_write_with_orientation(tmp_path):
    rgb = _rgb(4, 6)
    back = read_image(write_image(tmp_path / "o.tif", rgb, orientation=6))
    np.testing.assert_allclose(back, np.rot90(rgb, -1), atol=1e-4)


def test_grey_read_as_rgb(tmp_path):
    import tifffile

    tifffile.imwrite(tmp_path / "g.tif", np.full((3, 3), 65535, np.uint16))
    assert read_image(tmp_path / "g.tif").shape == (3, 3, 3)
