"""Evaluation edge cases against values computed by PySOT's own toolkit (compiled ``region.pyx``).

``tests/data/eval_edges/pysot_golden.json`` (made as ``tests/data/eval_edges/README.md`` says) holds
the inputs and PySOT's outputs:

* VOT2018 rules on a 64 x 48 image, three videos: ``left`` (ground truth and boxes run out of the
  left border, failures at frames 14 and 35 = 40 - 5, i.e. exactly at the skip boundary: the
  restart point 35 + 5 = 40 = length still counts and opens an empty last EAO fragment), ``corner``
  (polygon ground truth leaving by the bottom-right corner, boxes past x = 64, failures at 18 and 37,
  inside the last 5 frames: 37 + 5 > 40 opens no fragment), ``short`` (24 frames, above the top
  border, no failure). Both tags (``all``, ``occlusion``) weight the fragments; EAO over lengths
  5..38. Values: per-frame accuracy overlaps after the 10-frame burn-in with bounds (w, h), failures,
  EAO per tag and the expected-overlap curve (bounds (w - 1, h - 1)).
* OPE: two videos whose predictions are off by the same pixel offsets from a tall (10 x 40) and a
  wide (80 x 12) ground truth crossing the left border: equal precision curves, different
  normalised precision curves (the centre error is divided by the ground truth's size).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from toolkit import results
from toolkit.datasets import Dataset, Sequence
from toolkit.evaluation import aggregate

GOLDEN = json.loads(
    (Path(__file__).resolve().parent / "data" / "eval_edges" / "pysot_golden.json").read_text()
)
VOT, OPE = GOLDEN["vot"], GOLDEN["ope"]


def _nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], np.float64)


@pytest.fixture(scope="module")
def vot_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("vot")
    seqs = []
    for name, v in VOT["videos"].items():
        n = len(v["gt"])
        seqs.append(
            Sequence(
                name,
                [f"{i:08d}.jpg" for i in range(n)],
                np.array(v["gt"]),
                tags=v["tags"],
                size=(VOT["width"], VOT["height"]),
            )
        )
        results.write_vot_trajectory(results.result_path(root, "trk", name, "vot"), v["traj"])
    return Dataset("VOT2018", root, seqs, protocol="vot"), root


@pytest.mark.parametrize("fast", [True, False])
def test_vot_borders_and_late_failures_match_pysot(vot_set, fast):
    dataset, root = vot_set
    ours = aggregate.evaluate_vot_tracker(dataset, root, "trk", tuple(VOT["eao_interval"]), fast=fast)
    want = VOT["expected"]
    for name, overlaps in want["frame_overlaps_burnin10"].items():
        got = np.asarray(ours["per_video_frame_overlaps_burnin10"][name], np.float64)
        np.testing.assert_allclose(got, _nan(overlaps), rtol=0, atol=1e-7, err_msg=name)
    assert ours["per_video_failures"] == want["failures"]
    np.testing.assert_allclose(ours["expected_overlap_curve"], want["curve_all"], rtol=0, atol=1e-6)
    for tag, value in want["eao"].items():
        assert ours["eao_per_tag"][tag] == pytest.approx(value, abs=1e-6), tag
    # accuracy pools every scored frame; robustness = failures per 100 frames: 4 / 104 * 100
    pooled = np.concatenate([_nan(o) for o in want["frame_overlaps_burnin10"].values()])
    assert ours["accuracy"] == pytest.approx(np.nanmean(pooled), abs=1e-9)
    assert ours["lost_number"] == 4
    assert ours["robustness"] == pytest.approx(4 / 104 * 100, abs=1e-9)


def test_vot_golden_exercises_the_edges():
    """The fixture is what it claims: boxes outside the image, a failure at the skip boundary and one
    inside the last 5 frames, and frames where the bounded overlap is 0 or dropped (NaN)."""
    w, h = VOT["width"], VOT["height"]
    boxes = [r for v in VOT["videos"].values() for r in v["traj"] if len(r) == 4]
    assert min(b[0] for b in boxes) < 0 and max(b[0] + b[2] for b in boxes) > w
    assert min(b[1] for b in boxes) < 0 and max(b[1] + b[3] for b in boxes) > h
    fails = {n: [i for i, r in enumerate(v["traj"]) if r == [2]] for n, v in VOT["videos"].items()}
    assert fails["left"][-1] + 5 == len(VOT["videos"]["left"]["gt"])
    assert fails["corner"][-1] + 5 > len(VOT["videos"]["corner"]["gt"])
    left = _nan(VOT["expected"]["frame_overlaps_burnin10"]["left"])
    assert (left == 0).sum() >= 3


def test_ope_norm_precision_depends_on_ground_truth_size(tmp_path):
    seqs = []
    for name, v in OPE["videos"].items():
        n = len(v["gt"])
        seqs.append(Sequence(name, [f"{i:08d}.jpg" for i in range(n)], np.array(v["gt"]), size=(100, 80)))
        results.write_boxes(results.result_path(tmp_path, "trk", name, "ope"), v["pred"])
    dataset = Dataset("LaSOT", tmp_path, seqs)
    want = OPE["expected"]
    for fast in (True, False):
        ours = aggregate.evaluate_ope_tracker(dataset, tmp_path, "trk", fast=fast)
        for key in ("success", "precision", "norm_precision"):
            for name, curve in want[key].items():
                got = ours[f"per_video_{key}_curve"][name]
                np.testing.assert_allclose(got, curve, rtol=0, atol=1e-9, err_msg=f"{key} {name} fast={fast}")
    # same pixel errors, different sizes: equal precision, different normalised precision
    assert want["precision"]["tall"] == want["precision"]["wide"]
    # by hand: centres x + (w - 1) / 2, y + (h - 1) / 2 (PySOT's convention); the error is divided
    # by the ground truth's (w, h) per axis, then counted against thresholds 0, 0.01 .. 0.5
    for name, v in OPE["videos"].items():
        gt, pred = np.array(v["gt"]), np.array(v["pred"])
        d = (pred[:, :2] + (pred[:, 2:] - 1) / 2) - (gt[:, :2] + (gt[:, 2:] - 1) / 2)
        err = np.hypot(d[:, 0] / gt[:, 2], d[:, 1] / gt[:, 3])
        hand = [float(np.mean(err <= t)) for t in np.arange(51) / 100]
        np.testing.assert_allclose(want["norm_precision"][name], hand, rtol=0, atol=1e-12, err_msg=name)
    assert sum(want["norm_precision"]["wide"]) > 2 * sum(want["norm_precision"]["tall"])


def _run_script(script: str, args: list[str]) -> str:
    """stdout of ``python -c script *args`` run from the repository root (a fresh process: what it
    imports is its own); fails the test on a non-zero exit."""
    import subprocess
    import sys
    import textwrap

    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_eval_tool_scores_without_importing_scipy_and_prints_the_same(tmp_path):
    """tools/eval.py hides scipy from numba's BLAS probe while it evaluates (start-up); the tables
    are the same bytes as in a process that imported scipy first, and scipy imports afterwards."""
    from toolkit import bench

    vot, ope, _ = bench.generate_result_sets(tmp_path, 2, 3, 120, seed=1)
    for ds in (vot, ope):
        bench.write_dataset_files(ds, tmp_path / "data" / ds.name)
    script = """
        import sys
        if sys.argv[1] == "scipy-first":
            import scipy.linalg  # noqa: F401
        from tools import eval as tool
        code = tool.main(["--tracker_path", sys.argv[2], "--dataset", sys.argv[3],
                          "--dataset-root", sys.argv[4]])
        hidden = "scipy" not in sys.modules
        import scipy.linalg  # importable again
        print("RC", code, "HIDDEN", hidden)
    """
    for name in ("VOT2018", "OTB100"):
        outs = {}
        for mode in ("plain", "scipy-first"):
            args = [mode, str(tmp_path / "results"), name, str(tmp_path / "data" / name)]
            outs[mode] = _run_script(script, args)
        assert outs["plain"].endswith("RC 0 HIDDEN True\n"), outs["plain"]
        assert outs["scipy-first"].endswith("RC 0 HIDDEN False\n")
        table = outs["plain"].rsplit("RC", 1)[0]
        assert "tracker000" in table and table == outs["scipy-first"].rsplit("RC", 1)[0]


def test_eval_tool_pauses_the_cyclic_gc_while_it_evaluates_and_restores_it(tmp_path, monkeypatch):
    """Off while evaluating (start-up), on while plotting (figures are reference cycles), and the
    caller's setting afterwards."""
    import gc

    import toolkit.visualization
    from toolkit import bench
    from toolkit.evaluation import report
    from tools import eval as tool

    _, ope, _ = bench.generate_result_sets(tmp_path, 2, 2, 30, seed=2)
    bench.write_dataset_files(ope, tmp_path / "data" / ope.name)
    seen, plotting = [], []
    evaluate = report.evaluate
    monkeypatch.setattr(report, "evaluate", lambda *a, **k: seen.append(gc.isenabled()) or evaluate(*a, **k))
    monkeypatch.setattr(
        toolkit.visualization, "draw_report", lambda *a, **k: plotting.append(gc.isenabled()) or []
    )
    argv = ["--tracker_path", str(tmp_path / "results"), "--dataset", "OTB100",
            "--dataset-root", str(tmp_path / "data" / "OTB100"),
            "--plot-dir", str(tmp_path / "plots")]  # fmt: skip
    assert gc.isenabled()
    assert tool.main(argv) == 0 and gc.isenabled()
    gc.disable()
    try:
        assert tool.main(argv) == 0 and not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
    assert seen == [False, False] and plotting == [True, True]


def test_small_ope_evaluations_run_without_numba_and_print_the_same(tmp_path):
    """Below aggregate.COMPILED_MIN_FRAMES tracker-frames an OPE evaluation scores with numpy and
    the strict reader: numba is never imported (its import and first kernel load, ~0.4 s, would be
    most of the run), and the tables and JSON are the bytes of the compiled path."""
    from toolkit import bench

    _, ope, _ = bench.generate_result_sets(tmp_path, 3, 4, 80, seed=4)
    bench.write_dataset_files(ope, tmp_path / "data" / ope.name)
    script = """
        import sys
        from toolkit.evaluation import aggregate
        from tools import eval as tool
        if sys.argv[1] == "compiled":
            aggregate.COMPILED_MIN_FRAMES["ope"] = 0
        code = tool.main(["--tracker_path", sys.argv[2], "--dataset", "OTB100",
                          "--dataset-root", sys.argv[3], "--json", sys.argv[4]])
        print("RC", code, "NUMBA", "numba" in sys.modules)
    """
    outs = {}
    for mode in ("small", "compiled"):
        data = tmp_path / "data" / "OTB100"
        args = [mode, str(tmp_path / "results"), str(data), str(tmp_path / f"{mode}.json")]
        outs[mode] = _run_script(script, args)
    assert outs["small"].endswith("RC 0 NUMBA False\n"), outs["small"]
    assert outs["compiled"].endswith("RC 0 NUMBA True\n")
    assert outs["small"].rsplit("RC", 1)[0] == outs["compiled"].rsplit("RC", 1)[0]
    assert "tracker000" in outs["small"]
    assert (tmp_path / "small.json").read_bytes() == (tmp_path / "compiled.json").read_bytes()


def test_evaluate_compiles_only_past_the_measured_size(tmp_path, monkeypatch):
    from toolkit import bench

    _, ope, _ = bench.generate_result_sets(tmp_path, 3, 2, 50, seed=5)
    seen = []
    real = aggregate.evaluate_ope_tracker
    monkeypatch.setattr(
        aggregate, "evaluate_ope_tracker", lambda *a, **k: seen.append(k["compiled"]) or real(*a, **k)
    )
    root = tmp_path / "results" / "OTB100"
    small = aggregate.evaluate(ope, root, ["tracker000", "tracker001", "tracker002"])
    monkeypatch.setitem(aggregate.COMPILED_MIN_FRAMES, "ope", 3 * 2 * 50)  # 3 trackers x 100 frames
    big = aggregate.evaluate(ope, root, ["tracker000", "tracker001", "tracker002"])
    assert seen == [False] * 3 + [True] * 3
    assert small == big


def test_num_starts_workers_only_where_the_measured_break_even_is_passed(monkeypatch):
    """--num N: workers per kind of work from the measured break-even (docs/evaluation.md)."""
    from toolkit.evaluation import aggregate

    monkeypatch.setattr(aggregate.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3}, raising=False)
    per = aggregate.min_frames_per_worker
    assert per("ope", "pysot") == aggregate.MIN_FRAMES_PER_WORKER["ope"]
    assert per("vot", "vot") < per("vot", "pysot") < per("ope", "pysot")
    assert per("longterm", "pysot") == aggregate.DEFAULT_MIN_FRAMES_PER_WORKER
    # 32 trackers x 15 000 tracker-frames: 465 000 frames beyond the first job
    frames, jobs = 15_000, 32
    assert aggregate.worker_count(2, jobs, frames, per("ope", "pysot")) == 1  # measured 0.86x with 2
    assert aggregate.worker_count(2, jobs, frames, per("vot", "pysot")) == 2  # measured 1.18x
    assert aggregate.worker_count(4, jobs, frames, per("vot", "vot")) == 4
    assert aggregate.worker_count(8, 3, frames, 1) == 3  # never more than the jobs
    assert aggregate.worker_count(1, jobs, 10**9, 1) == 1


def test_break_even_bench_forces_two_workers_and_restores_the_limits():
    from toolkit import bench
    from toolkit.evaluation import aggregate

    before = dict(aggregate.MIN_FRAMES_PER_WORKER), aggregate.DEFAULT_MIN_FRAMES_PER_WORKER
    seen = []
    real = aggregate.worker_count

    def spy(num, jobs, frames_per_job=None, min_frames=aggregate.DEFAULT_MIN_FRAMES_PER_WORKER):
        seen.append((num, min_frames))
        return real(num, jobs, frames_per_job, min_frames)

    aggregate.worker_count = spy
    try:
        out = bench.break_even(tracker_counts=(2,), num_videos=2, num_frames=30, repeats=1)
    finally:
        aggregate.worker_count = real
    assert [(r["set"], r["trackers"], r["tracker_frames"]) for r in out["rows"]] == [
        ("VOT2018", 2, 120), ("OTB100", 2, 120)]
    assert all(r["speedup"] > 0 for r in out["rows"])
    assert (2, 1) in seen and any(n == 1 and m > 10**12 for n, m in seen)
    assert (dict(aggregate.MIN_FRAMES_PER_WORKER), aggregate.DEFAULT_MIN_FRAMES_PER_WORKER) == before
