"""A tracker's results folder and its resume contract: the folder never claims a config that did
not produce its results.

``results/<DATASET>/<tracker>/config.yaml`` holds the merged config of the run that wrote the
results, after a one-line comment naming the snapshot and its sha256::

    # snapshot: model.pth sha256: 3f2a...
    ANCHOR:
      ...

(a YAML comment, so the file still loads as a config). The contract:

* **Checked before anything is written** (:meth:`RunFolder.check`): a run into a folder whose
  saved config or snapshot hash differs from its own raises :class:`RunFolderError` naming the
  differing keys; so does a folder holding results without a ``config.yaml`` (written by another
  tool: nothing says which config produced them). ``overwrite=True`` (``tools/test.py
  --overwrite``) empties the folder and starts over; a new tracker name starts a new folder.
* **Written just before the first result** (:meth:`RunFolder.ensure_saved`, called by the runner
  before every result file, in whichever process writes it): a run that fails before its first
  result (bad snapshot, unknown video, a config that does not build) leaves no folder behind.
* **One writer at a time** (:meth:`RunFolder.lock`): an exclusive ``flock`` on
  ``results/<DATASET>/.<tracker>.lock`` (one per rank under torchrun, whose ranks share the folder
  by sharding); a second process on the same folder refuses with an error naming the first one's
  pid. The lock file and any folder created for it are removed when the run ends.
* A resumed run does not rewrite ``config.yaml`` (identical bytes, identical mtime).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from toolkit.fileio import atomic_write_text

logger = logging.getLogger(__name__)

__all__ = ["CONFIG_NAME", "RunFolder", "RunFolderError", "config_differences", "sha256_file"]

#: The saved config's file name inside the tracker's results folder.
CONFIG_NAME = "config.yaml"
_HEADER = "# snapshot: {name} sha256: {sha256}\n"
_MAX_LISTED = 12


class RunFolderError(ValueError):
    """A results folder cannot take this run (other config or snapshot, foreign results, in use)."""


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (the snapshot identity)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: node}


def config_differences(saved_text: str, current_text: str) -> list[str]:
    """``KEY (saved X, now Y)`` for every leaf key whose value differs between two config dumps
    (a key missing on one side reads as ``<absent>``), sorted by key."""
    saved = _flatten(yaml.safe_load(saved_text) or {})
    current = _flatten(yaml.safe_load(current_text) or {})
    absent = "<absent>"
    return [
        f"{key} (saved {saved.get(key, absent)!r}, now {current.get(key, absent)!r})"
        for key in sorted(set(saved) | set(current))
        if saved.get(key, absent) != current.get(key, absent)
    ]


def _parse_header(text: str) -> str | None:
    first = text.split("\n", 1)[0]
    if first.startswith("# snapshot:") and " sha256: " in first:
        return first.rsplit(" sha256: ", 1)[1].strip()
    return None


@dataclass(frozen=True)
class RunFolder:
    """The results folder of one tracker on one dataset and the identity of the run writing it.

    Picklable (worker processes call :meth:`ensure_saved` before writing a result).

    Attributes:
        path: ``results/<DATASET>/<tracker>``.
        config_text: the merged config's dump (``cfg.dump()``).
        snapshot_name: the snapshot's file name (informative only).
        snapshot_sha256: the snapshot's sha256 (part of the contract).
    """

    path: Path
    config_text: str
    snapshot_name: str
    snapshot_sha256: str

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_NAME

    def text(self) -> str:
        """What ``config.yaml`` holds: the snapshot header line, then the config."""
        return _HEADER.format(name=self.snapshot_name, sha256=self.snapshot_sha256) + self.config_text

    def _results(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(
            p.name for p in self.path.iterdir() if p.name != CONFIG_NAME and not p.name.startswith(".")
        )

    def check(self, overwrite: bool = False) -> None:
        """Raise :class:`RunFolderError` unless this run may write into :attr:`path` (see the module
        docstring). With ``overwrite`` an existing folder is removed instead (call under :meth:`lock`)."""
        exists = self.config_path.is_file() or bool(self._results())
        if exists and overwrite:
            logger.warning("--overwrite: removing %s", self.path)
            shutil.rmtree(self.path)
            return
        hint = "rerun with --overwrite to start over, or give another --tracker-name"
        if not self.config_path.is_file():
            results = self._results()
            if results:
                shown = ", ".join(results[:_MAX_LISTED]) + (" ..." if len(results) > _MAX_LISTED else "")
                raise RunFolderError(
                    f"{self.path}: holds results ({shown}) but no {CONFIG_NAME}, so nothing says which "
                    f"config produced them; {hint}"
                )
            return
        try:
            saved = self.config_path.read_text(encoding="utf-8")
            problems = config_differences(saved, self.config_text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise RunFolderError(
                f"{self.config_path}: cannot read the saved config ({err}); {hint}"
            ) from None
        saved_sha = _parse_header(saved)
        if saved_sha is None:
            logger.warning(
                "%s: no snapshot hash saved (an older run); checking the config only", self.config_path
            )
        elif saved_sha != self.snapshot_sha256:
            problems.insert(
                0, f"snapshot sha256 (saved {saved_sha[:12]}..., now {self.snapshot_sha256[:12]}...)"
            )
        if problems:
            shown = "; ".join(problems[:_MAX_LISTED]) + (
                f"; ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
            )
            raise RunFolderError(f"{self.path}: was produced by another run; differences: {shown}; {hint}")

    def ensure_saved(self) -> None:
        """Write ``config.yaml`` unless it exists (called before each result file is written)."""
        if not self.config_path.is_file():
            atomic_write_text(self.config_path, self.text())

    @contextlib.contextmanager
    def lock(self, rank: int = 0, world_size: int = 1) -> Iterator[None]:
        """Hold an exclusive lock on this folder (per rank under torchrun) or raise
        :class:`RunFolderError` if another process holds it. Removes the lock file, and the folders
        created for it if they are still empty, on exit."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        suffix = "" if world_size <= 1 else f".rank{rank}of{world_size}"
        lock_path = self.path.parent / f".{self.path.name}{suffix}.lock"
        created = [p for p in (lock_path.parent, *lock_path.parent.parents) if not p.exists()]
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
                os.close(fd)
                raise RunFolderError(
                    f"{self.path}: another run (pid {holder}) is writing this folder (lock {lock_path}); "
                    "wait for it to finish, or give another --tracker-name"
                ) from None
            try:
                same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not unlinked by a previous holder between our open and flock
                break
            os.close(fd)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(lock_path)
            os.close(fd)
            for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only if still empty
