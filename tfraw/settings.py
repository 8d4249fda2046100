"""Process-wide settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the shared data folder (see ``../shared/data/README.md``).
DATA_ENV = "TFRAW_DATA"


def data_dir() -> Path | None:
    """Returns the shared data folder, or None when it is not available.

    ``$TFRAW_DATA`` wins; otherwise ``../shared/data`` relative to the repository root is used
    when that folder exists.
    """
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        return path if path.is_dir() else None
    repo_root = Path(__file__).resolve().parent.parent
    candidate = repo_root.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None
