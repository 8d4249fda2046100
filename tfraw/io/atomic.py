"""Atomic file writes: a reader never sees a half-written output file.

Every writer in ``tfraw.io`` writes to a temporary file in the target's directory and renames it
over the target only when writing succeeded (``os.replace`` is atomic on POSIX and Windows when
both paths are on the same file system, which the same directory guarantees).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path next to ``path``; renames it onto ``path`` on success.

    The temporary name keeps the target's suffix (``.png``, ``.tif`` ...), so writers that pick
    the format from the file name work unchanged. On any exception the temporary file is removed
    and the target is left untouched (an existing file keeps its old content).

    Args:
        path: the final file path. Its directory must exist.

    Yields:
        The temporary path to write to.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_write(target) as tmp:
        ...     _ = tmp.write_text("hello")
        >>> target.read_text()
        'hello'
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=directory
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give the output ordinary permissions.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
