"""atomic_write: the target appears whole or not at all."""

import pytest

from tfraw.io import atomic_write, write_image


def test_success_renames(tmp_path):
    target = tmp_path / "out.png"
    with atomic_write(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp != target
        tmp.write_bytes(b"data")
    assert target.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.tif"
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("writer crashed")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_old_content(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(ValueError), atomic_write(target) as tmp:
        tmp.write_text("new")
        raise ValueError
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_failing_writer_leaves_nothing(tmp_path, monkeypatch):
    import numpy as np
    import tifffile

    def crash(path, *args, **kwargs):
        open(path, "wb").write(b"half a tiff")
        raise OSError("disk full")

    monkeypatch.setattr(tifffile, "imwrite", crash)
    with pytest.raises(OSError, match="disk full"):
        write_image(tmp_path / "x.tif", np.zeros((4, 4, 3), np.float32))
    assert list(tmp_path.iterdir()) == []
