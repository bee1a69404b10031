"""tools/test.py end to end: a tiny randomly initialised model (an experiment folder with
config.yaml + model.pth, as the embedded default ships) on small SYNTH / SYNTH-VOT subsets, then
the results load in tools/eval.py; resume, sharding, worker processes, failing videos, bad input."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from pysot.config import load_cfg
from pysot.integrations.loading import TrackerFactory
from toolkit.datasets import build_dataset, synthetic
from toolkit.evaluation import report
from tools import eval as eval_tool
from tools import test as test_tool

FRAMES = 14  # > the 10-frame burn-in of VOT accuracy


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, make_tiny_experiment) -> Path:
    """experiments/tiny_exp/{config.yaml, model.pth}: the shared tiny model, TA on in the file (so
    that the command-line override "TA.ENABLE False" is visible in the saved config), with the last
    conv of every cls/loc head zeroed: equal scores and zero box deltas make the tracker stay on the
    target's last position at an anchor's size (random heads jump anywhere and the VOT accuracy
    would have no tracked frame after the burn-in to average)."""
    folder = tmp_path_factory.mktemp("experiments") / "tiny_exp"
    make_tiny_experiment(folder, ta_enable=True, zero_heads=True)
    return folder


@pytest.fixture(scope="module")
def testing_dataset(tmp_path_factory) -> Path:
    """testing_dataset/{SYNTH, SYNTH-VOT}: the first 2 videos of each, cut to FRAMES frames."""
    root = tmp_path_factory.mktemp("work") / "testing_dataset"
    for name in ("SYNTH", "SYNTH-VOT"):
        synthetic.generate_into(name, root / name, num_videos=2, max_frames=FRAMES)
    return root


def run(experiment: Path, dataset: str, root: Path, results: Path, *extra: str) -> int:
    args = ["--config", str(experiment / "config.yaml"), "--dataset", dataset]
    args += ["--dataset-root", str(root / dataset), "--results-dir", str(results), *extra]
    return test_tool.main(args)


def test_synth_ope_end_to_end_then_eval_and_resume(experiment, testing_dataset, tmp_path):
    results = tmp_path / "results"
    assert run(experiment, "SYNTH", testing_dataset, results, "TA.ENABLE", "False") == 0
    # default snapshot model.pth beside the config -> tracker named after the experiment folder
    out = results / "SYNTH" / "tiny_exp"
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "synth001.txt", "synth002.txt"]
    lines = (out / "synth001.txt").read_text().splitlines()
    assert len(lines) == FRAMES
    seq = build_dataset("SYNTH", testing_dataset / "SYNTH")["synth001"]
    x, y, w, h = seq.gt_traj[0]
    # PySOT records [x + w/2 - (w-1)/2, ..., w, h] = [x + 0.5, y + 0.5, w, h] for frame 0
    assert [float(v) for v in lines[0].split(",")] == pytest.approx([x + 0.5, y + 0.5, w, h], abs=1e-9)
    assert load_cfg(out / "config.yaml").TA.ENABLE is False  # the override, saved with the results
    report = eval_tool.run_eval(results, "SYNTH", dataset_root=testing_dataset / "SYNTH", out=io.StringIO())
    assert list(report["trackers"]) == ["tiny_exp"] and report["videos"] == ["synth001", "synth002"]
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    # second run: everything complete, nothing recomputed
    assert run(experiment, "SYNTH", testing_dataset, results, "TA.ENABLE", "False") == 0
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != "config.yaml"}
    assert after == {k: v for k, v in before.items() if k != "config.yaml"}


def test_synth_vot_with_explicit_snapshot_name_and_eval(experiment, testing_dataset, tmp_path):
    snapshot = tmp_path / "snap.e20.pth"
    snapshot.write_bytes((experiment / "model.pth").read_bytes())
    results = tmp_path / "results"
    code = run(
        experiment, "SYNTH-VOT", testing_dataset, results, "--snapshot", str(snapshot), "TA.ENABLE", "False"
    )
    assert code == 0
    # PySOT's rule: the snapshot's file name up to the first '.'
    for video in ("synthvot001", "synthvot002"):
        lines = (results / f"SYNTH-VOT/snap/baseline/{video}/{video}_001.txt").read_text().splitlines()
        assert len(lines) == FRAMES and lines[0] == "1"
    # the evaluation reads them (EAO over lengths 1..FRAMES: the videos are cut to FRAMES frames)
    ds = build_dataset("SYNTH-VOT", testing_dataset / "SYNTH-VOT")
    res = report.evaluate_vot_tracker(ds, results / "SYNTH-VOT", "snap", (1, FRAMES))
    assert set(res["per_video_failures"]) == {"synthvot001", "synthvot002"}
    assert 0 <= res["accuracy"] <= 1 and 0 <= res["eao"] <= 1


def test_official_failure_rule_is_saved_and_eval_warns_under_the_other(
    experiment, testing_dataset, tmp_path, caplog
):
    results = tmp_path / "results"
    assert run(experiment, "SYNTH-VOT", testing_dataset, results, "--convention", "vot") == 0
    folder = results / "SYNTH-VOT" / "tiny_exp"
    assert load_cfg(folder / "config.yaml").TEST.VOT_CONVENTION == "vot"
    root = testing_dataset / "SYNTH-VOT"
    with caplog.at_level("WARNING", logger="tools.eval"):
        eval_tool.run_eval(
            results, "SYNTH-VOT", dataset_root=root, out=io.StringIO(), eao_interval=(1, FRAMES)
        )
    assert (
        "run under the 'vot' failure rule" in caplog.text and "scored under --convention pysot" in caplog.text
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="tools.eval"):
        eval_tool.run_eval(
            results,
            "SYNTH-VOT",
            dataset_root=root,
            out=io.StringIO(),
            convention="vot",
            eao_interval=(1, FRAMES),
        )
    assert "failure rule" not in caplog.text
    # resuming the folder under PySOT's rule is refused by the resume contract (the config differs)
    assert run(experiment, "SYNTH-VOT", testing_dataset, results) == 2


def test_failing_video_is_named_and_the_run_exits_nonzero_after_the_others(
    experiment, testing_dataset, tmp_path, caplog
):
    root = tmp_path / "testing_dataset"
    synthetic.generate_into("SYNTH", root / "SYNTH", num_videos=2, max_frames=FRAMES)
    missing = root / "SYNTH" / "synth001" / "img" / "0005.jpg"
    missing.unlink()
    results = tmp_path / "results"
    assert run(experiment, "SYNTH", root, results, "TA.ENABLE", "False") == 1
    assert (results / "SYNTH/tiny_exp/synth002.txt").is_file()
    assert not (results / "SYNTH/tiny_exp/synth001.txt").exists()
    assert "video synth001 failed" in caplog.text and str(missing) in caplog.text


def test_synthetic_benchmark_generated_on_first_use(experiment, tmp_path, monkeypatch):
    real = synthetic.generate_into
    calls = []

    def small_generate_into(name, folder, **kwargs):
        calls.append((name, Path(folder)))
        return real(name, folder, num_videos=1, max_frames=FRAMES, **kwargs)

    monkeypatch.setattr(synthetic, "generate_into", small_generate_into)
    root = tmp_path / "testing_dataset"  # no SYNTH folder yet
    assert run(experiment, "SYNTH", root, tmp_path / "results", "TA.ENABLE", "False") == 0
    assert calls == [("SYNTH", root / "SYNTH")]
    assert (tmp_path / "results/SYNTH/tiny_exp/synth001.txt").is_file()


def test_torchrun_ranks_shard_the_videos(experiment, testing_dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    results = tmp_path / "results"
    assert run(experiment, "SYNTH", testing_dataset, results, "TA.ENABLE", "False") == 0
    # rank 1 of 2 runs every second video from the second one; each rank saves the (same) config
    # just before its first result
    assert sorted(p.name for p in (results / "SYNTH/tiny_exp").iterdir()) == ["config.yaml", "synth002.txt"]


def test_tracker_factory_survives_pickling_for_worker_processes(experiment):
    # --num-workers sends the factory to spawned processes: it must pickle with its frozen config
    # (the process pool itself is exercised with a scripted tracker in test_protocols.py)
    cfg = load_cfg(experiment / "config.yaml", ["TA.ENABLE", "False"])
    factory = TrackerFactory(cfg, experiment / "model.pth", "cpu", threads=1)
    clone = pickle.loads(pickle.dumps(factory))
    assert clone.cfg == cfg and clone.cfg.is_frozen()
    tracker = clone()
    tracker.init(np.zeros((64, 80, 3), np.uint8), [20.0, 20.0, 16.0, 12.0])
    assert len(tracker.track(np.zeros((64, 80, 3), np.uint8))["bbox"]) == 4


def test_bad_inputs_fail_with_named_errors(experiment, testing_dataset, tmp_path, caplog):
    results = tmp_path / "results"
    assert run(experiment, "NOPE", testing_dataset, results) == 2
    assert "unknown dataset 'NOPE'; known datasets: OTB100" in caplog.text
    assert run(experiment, "SYNTH", testing_dataset, results, "--snapshot", str(tmp_path / "x.pth")) == 2
    assert f"snapshot not found: {tmp_path / 'x.pth'}" in caplog.text
    assert run(experiment, "SYNTH", testing_dataset, results, "--video", "synth999") == 2
    assert "no video named 'synth999'" in caplog.text
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.yaml").write_text((experiment / "config.yaml").read_text())
    assert run(bare, "SYNTH", testing_dataset, results) == 2
    assert f"no --snapshot given and no model.pth beside {bare / 'config.yaml'}" in caplog.text


def test_default_tracker_name(tmp_path):
    exp = tmp_path / "experiments" / "ta_tiny"
    assert test_tool.default_tracker_name(exp / "config.yaml", exp / "model.pth") == "ta_tiny"
    assert test_tool.default_tracker_name(exp / "config.yaml", tmp_path / "model.pth") == "model"
    assert (
        test_tool.default_tracker_name(exp / "config.yaml", tmp_path / "siamrpn_r50.e19.pth") == "siamrpn_r50"
    )
