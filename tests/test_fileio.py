"""toolkit/fileio.py: atomic writes that leave no partial file and respect the umask."""

from __future__ import annotations

import os
import stat

import pytest

from toolkit.fileio import atomic_output, atomic_write_bytes, atomic_write_text


@pytest.fixture
def umask():
    """Set the process umask for one test; restored afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda value: os.umask(value)
    os.umask(saved)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o000, 0o666)])
def test_written_files_get_the_mode_open_would_give(tmp_path, umask, mask, mode):
    umask(mask)
    text = atomic_write_text(tmp_path / "a" / "result.txt", "1,2,3,4\n")
    data = atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # what a plain open() gives under this umask
    assert stat.S_IMODE(plain.stat().st_mode) == mode
    assert stat.S_IMODE(text.stat().st_mode) == mode
    assert stat.S_IMODE(data.stat().st_mode) == mode


def test_text_is_utf8_with_unix_newlines_and_replaces_the_old_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("old\n")
    atomic_write_text(path, "TA:\n  ENABLE: true\n  NOTE: é\n")
    assert path.read_bytes() == b"TA:\n  ENABLE: true\n  NOTE: \xc3\xa9\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # no temporary file left


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "model.pth"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_output(path) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".model.pth.") and tmp.is_file()
            tmp.write_bytes(b"partial")
            raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pth"]


def test_atomic_output_for_writers_that_take_a_file_name(tmp_path):
    path = tmp_path / "sub" / "export.onnx"
    with atomic_output(path) as tmp:
        assert not path.exists()  # nothing visible until the writer is done
        with open(tmp, "wb") as f:  # as torch.save / torch.onnx.export would
            f.write(b"graph")
    assert path.read_bytes() == b"graph"
    assert sorted(p.name for p in path.parent.iterdir()) == ["export.onnx"]
