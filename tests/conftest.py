import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pytest  # noqa: E402

from tfraw.settings import data_dir  # noqa: E402


@pytest.fixture(scope="session")
def shared_data():
    """The shared real-data folder; tests using it skip when it is absent."""
    path = data_dir()
    if path is None:
        pytest.skip("shared data folder not found (set TFRAW_DATA or place ../shared/data)")
    return path
