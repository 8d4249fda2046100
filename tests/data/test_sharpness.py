import json

import imageio.v3 as iio
import numpy as np
import pytest

from tfraw.data.sharpness import (
    load_image_unit,
    load_ranking,
    rank_folder,
    save_ranking,
    select_top,
    sharpness,
)
from tfraw.errors import InputError


def _texture(size: int, blur: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    image = rng.random((size, size, 3))
    for _ in range(blur):  # box blur by repeated neighbour averaging
        image = (
            image + np.roll(image, 1, 0) + np.roll(image, 1, 1) + np.roll(image, (1, 1), (0, 1))
        ) / 4
    return image


@pytest.fixture
def folder(tmp_path):
    for name, blur in (("soft.png", 6), ("sharp.png", 0), ("medium.png", 2)):
        iio.imwrite(tmp_path / name, np.round(_texture(64, blur) * 255).astype(np.uint8))
    return tmp_path


def test_rank_folder_orders_sharpest_first(folder):
    ranking = rank_folder(folder, progress=False)
    assert [r["path"].split("/")[-1] for r in ranking] == ["sharp.png", "medium.png", "soft.png"]
    assert all(isinstance(r["sharpness"], float) for r in ranking)


def test_flat_is_zero_and_size_invariant_scale():
    assert sharpness(np.full((20, 30, 3), 0.5)) == 0.0
    small = sharpness(_texture(64, 0), working_size=64)
    assert small > 0.0


def test_sixteen_bit_png_keeps_depth(tmp_path):
    import tensorflow as tf

    ramp = (np.arange(64 * 64 * 3).reshape(64, 64, 3) * 7 % 65536).astype(np.uint16)
    (tmp_path / "a16.png").write_bytes(tf.io.encode_png(ramp).numpy())
    loaded = load_image_unit(tmp_path / "a16.png")
    np.testing.assert_allclose(loaded * 65535.0, ramp, atol=0.01)


def test_save_load_select(folder, tmp_path):
    ranking = rank_folder(folder, progress=False)
    out = tmp_path / "ranking.json"
    save_ranking(ranking, out)
    assert json.loads(out.read_text())["ranking"][0]["path"].endswith("sharp.png")
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]  # atomic: no leftovers
    assert load_ranking(out) == ranking
    assert [r["path"] for r in select_top(ranking, count=2)] == [r["path"] for r in ranking[:2]]
    assert len(select_top(ranking, fraction=0.5)) == 2
    assert len(select_top(ranking, fraction=1.0)) == 3
    with pytest.raises(ValueError, match="exactly one"):
        select_top(ranking)
    with pytest.raises(ValueError, match="fraction"):
        select_top(ranking, fraction=0.0)


def test_errors(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(InputError, match="broken.png"):
        rank_folder(tmp_path, progress=False)
    with pytest.warns(UserWarning, match="skipping"):
        assert rank_folder(tmp_path, progress=False, on_error="skip") == []
    with pytest.raises(InputError, match="not a folder"):
        rank_folder(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="bad.json"):
        load_ranking(tmp_path / "bad.json")
