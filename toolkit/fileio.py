"""Atomic file writing: the one writer every result, config, checkpoint, report and figure goes through.

A file is written to a temporary file in the destination's folder and renamed over the destination
(``os.replace``), so a reader never sees a partial file and an interrupted run leaves either the old
file or the new one, never a truncated one. The temporary file is created the way ``open(path,
'w')`` creates a file, with mode ``0o666 & ~umask`` (and the folder's default ACL, if any): the
rename keeps that mode, so the result is a normal file for its owner's group and others, not the
``0o600`` of ``tempfile.mkstemp``.

This module imports nothing from ``pysot`` (the model package imports it, not the reverse).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["atomic_output", "atomic_write_bytes", "atomic_write_text"]


def _create_temporary(path: Path) -> Path:
    """An empty, new file beside ``path`` (``.<name>.<random>.tmp``), mode ``0o666 & ~umask``."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"{path}: could not create a temporary file beside it")


@contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on normal exit rename it to ``path``.

    For writers that take a file name (``torch.save``, ``torch.onnx.export``, ``Figure.savefig``).
    The parent folder is created. On an exception the temporary file is removed and ``path`` is
    left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temporary(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line endings on every platform) to ``path`` atomically."""
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return Path(path)


def atomic_write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
    return Path(path)
