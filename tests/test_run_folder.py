"""tools/test.py's results folder cannot lie about its config (issue 12): the saved config and
snapshot hash are a resume contract, nothing is written before the first result, one writer per
folder, unreadable checkpoints give one line and exit 2 (also with workers), files respect the
umask, SIGINT with workers stops promptly."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from toolkit.datasets import synthetic
from tools import test as test_tool

REPO = Path(__file__).resolve().parents[1]
FRAMES = 6


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, make_tiny_experiment) -> Path:
    folder = tmp_path_factory.mktemp("experiments") / "tiny_exp"
    make_tiny_experiment(folder, ta_enable=True, zero_heads=True)
    return folder


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("work") / "testing_dataset"
    synthetic.generate_into("SYNTH", root / "SYNTH", num_videos=2, max_frames=FRAMES)
    return root


def run(experiment: Path, root: Path, results: Path, *extra: str) -> int:
    args = ["--config", str(experiment / "config.yaml"), "--dataset", "SYNTH"]
    args += ["--dataset-root", str(root / "SYNTH"), "--results-dir", str(results), *extra]
    return test_tool.main(args)


def errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_run_with_another_config_or_snapshot_refuses_and_names_the_keys(
    experiment, dataset_root, tmp_path, caplog
):
    results = tmp_path / "results"
    out = results / "SYNTH" / "tiny_exp"
    assert run(experiment, dataset_root, results, "TA.ENABLE", "False") == 0
    saved = (out / "config.yaml").read_bytes()
    assert saved.startswith(b"# snapshot: model.pth sha256: ")
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    # the same run again: nothing rewritten, config.yaml included (byte-identical resume)
    assert run(experiment, dataset_root, results, "TA.ENABLE", "False") == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes
    caplog.clear()
    assert run(experiment, dataset_root, results, "TA.ENABLE", "True", "TRACK.PENALTY_K", "0.9") == 2
    (message,) = errors(caplog)
    assert str(out) in message and "TA.ENABLE (saved False, now True)" in message
    assert "TRACK.PENALTY_K (saved 0.05, now 0.9)" in message and "--overwrite" in message
    caplog.clear()
    assert run(experiment, dataset_root, results, "TA.ENABLE", "False", "TA.METHOD", "bogus") == 2
    assert "TA.METHOD (saved 'dual', now 'bogus')" in errors(caplog)[0]
    # another snapshot (same name, other bytes)
    other = tmp_path / "other" / "model.pth"
    other.parent.mkdir()
    state = torch.load(experiment / "model.pth", weights_only=True)
    state["epoch"] = 1
    torch.save(state, other)
    caplog.clear()
    args = ("--snapshot", str(other), "--tracker-name", "tiny_exp", "TA.ENABLE", "False")
    assert run(experiment, dataset_root, results, *args) == 2
    assert "snapshot sha256 (saved " in errors(caplog)[0]
    assert (out / "config.yaml").read_bytes() == saved  # nothing claimed the folder
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes
    # --overwrite starts over with the new config
    assert (
        run(experiment, dataset_root, results, "--overwrite", "TA.ENABLE", "False", "TRACK.PENALTY_K", "0.9")
        == 0
    )
    assert b"PENALTY_K: 0.9" in (out / "config.yaml").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "synth001.txt", "synth002.txt"]


def test_results_without_a_saved_config_are_not_claimed(experiment, dataset_root, tmp_path, caplog):
    results = tmp_path / "results"
    foreign = results / "SYNTH" / "tiny_exp" / "synth001.txt"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("1,2,3,4\n")
    assert run(experiment, dataset_root, results, "TA.ENABLE", "False") == 2
    assert "holds results (synth001.txt) but no config.yaml" in errors(caplog)[0]
    assert sorted(p.name for p in foreign.parent.iterdir()) == ["synth001.txt"]


def test_a_second_process_on_the_same_folder_refuses(experiment, dataset_root, tmp_path, caplog):
    from toolkit.run_folder import RunFolder

    results = tmp_path / "results"
    holder = RunFolder(results / "SYNTH" / "tiny_exp", "", "model.pth", "0")
    with holder.lock():
        assert run(experiment, dataset_root, results, "TA.ENABLE", "False") == 2
    assert f"another run (pid {os.getpid()}) is writing this folder" in errors(caplog)[0]
    assert not results.exists()  # the lock file and the folders made for it are gone


@pytest.mark.parametrize(
    "extra, code",
    [
        (("--video", "nope"), 2),
        (("TA.CHANNELS", "[5000, 5000, 5000]"), 1),  # fails in every video: no result, no folder
    ],
)
def test_a_failed_run_writes_nothing(experiment, dataset_root, tmp_path, extra, code):
    results = tmp_path / "results"
    assert run(experiment, dataset_root, results, "TA.ENABLE", "True", *extra) == code
    assert not results.exists() or not any(results.rglob("*"))


def _bad_checkpoints(folder: Path, good: Path) -> dict[str, tuple[Path, str]]:
    folder.mkdir()
    text = folder / "text.pth"
    text.write_text("this is a text file\n")
    empty = folder / "empty.pth"
    empty.write_bytes(b"")
    truncated = folder / "truncated.pth"
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    evil = folder / "evil.pth"

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo never run",))

    torch.save({"state_dict": {}, "x": Evil()}, evil)
    return {
        "text": (text, "not a PyTorch checkpoint"),
        "empty": (empty, "the file is empty"),
        "truncated": (truncated, "truncated or corrupt zip archive"),
        "malicious": (evil, "refused"),
    }


@pytest.mark.parametrize("workers", ["1", "2"])
def test_unreadable_checkpoints_give_one_line_and_exit_2(experiment, dataset_root, tmp_path, caplog, workers):
    bad = _bad_checkpoints(tmp_path / "ckpt", experiment / "model.pth")
    for kind, (path, what) in bad.items():
        caplog.clear()
        results = tmp_path / f"results_{kind}"
        args = ("--snapshot", str(path), "--num-workers", workers, "TA.ENABLE", "False")
        assert run(experiment, dataset_root, results, *args) == 2, kind
        (message,) = errors(caplog)
        assert message.startswith(f"{path}: ") and what in message and "\n" not in message, message
        assert not results.exists() or not any(results.rglob("*"))


def test_result_and_config_files_respect_the_umask(experiment, dataset_root, tmp_path):
    results = tmp_path / "results"
    saved = os.umask(0o002)
    try:
        assert run(experiment, dataset_root, results, "TA.ENABLE", "False") == 0
    finally:
        os.umask(saved)
    files = sorted((results / "SYNTH" / "tiny_exp").iterdir())
    assert [p.name for p in files] == ["config.yaml", "synth001.txt", "synth002.txt"]
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {oct(0o664)}


def test_sigint_with_workers_stops_promptly_leaving_complete_files(experiment, tmp_path):
    from toolkit.results import read_boxes

    root = tmp_path / "testing_dataset"
    videos, frames = 4, 20
    synthetic.generate_into("SYNTH", root / "SYNTH", num_videos=videos, max_frames=frames)
    results = tmp_path / "results"
    out = results / "SYNTH" / "tiny_exp"
    cmd = [sys.executable, str(REPO / "tools" / "test.py"), "--config", str(experiment / "config.yaml")]
    cmd += ["--dataset", "SYNTH", "--dataset-root", str(root / "SYNTH"), "--results-dir", str(results)]
    cmd += ["--num-workers", "2", "TA.ENABLE", "False"]
    # a shell's background job inherits SIGINT ignored, and Python then keeps ignoring it: give the
    # tool the default disposition, as an interactive terminal does
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("synth*.txt")):
            assert proc.poll() is None and time.monotonic() < deadline, "no first result"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        tic = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        stop_s = time.monotonic() - tic
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr.decode()[-2000:]
    done = sorted(out.glob("synth*.txt"))
    assert len(done) < videos, f"all {videos} videos ran after SIGINT ({stop_s:.1f} s)"
    for path in done:
        assert read_boxes(path, frames).shape == (frames, 4)  # complete files only
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file left
