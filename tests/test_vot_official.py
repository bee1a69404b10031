"""The official VOT convention (toolkit/evaluation/vot_official.py) against vot-toolkit 0.7.4 itself.

The cross-checks call ``vot.region`` and ``vot.analysis.supervised`` directly (extra ``votcheck``:
``pip install -e .[votcheck]``) and skip when the toolkit is not installed; the hand-computed cases
and the measured PySOT-vs-official differences on the golden VOT2018 set run without it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from toolkit.evaluation.vot_official import (
    OFFICIAL_EAO_INTERVALS,
    evaluate_supervised,
    official_eao_interval,
    region_overlap,
    supervised_average_ar,
    supervised_eao_curve,
    supervised_eao_score,
    trajectory_overlaps,
)
from toolkit.results import read_vot_trajectory

DATA = Path(__file__).resolve().parent / "data"


def _golden_root() -> Path:
    """The golden evaluation set (PySOT's own numbers in expected.json)."""
    root = DATA / "eval_golden"
    assert (root / "results" / "VOT2018").is_dir(), f"golden VOT2018 results missing under {root}"
    return root


def _load_golden_vot2018():
    """``({tracker: {video: [trajectory]}}, {video: gt polygons}, {video: (w, h)}, PySOT's numbers)``."""
    root = _golden_root()
    meta = json.loads((root / "testing_dataset" / "VOT2018" / "VOT2018.json").read_text())
    groundtruth, sizes = {}, {}
    for video in sorted(meta):
        groundtruth[video] = [list(map(float, r)) for r in meta[video]["gt_rect"]]
        image = cv2.imread(str(root / "testing_dataset" / "VOT2018" / meta[video]["img_names"][0]))
        sizes[video] = (image.shape[1], image.shape[0])
    trackers = {}
    for tracker_dir in sorted((root / "results" / "VOT2018").iterdir()):
        trackers[tracker_dir.name] = {
            video: [read_vot_trajectory(p, len(groundtruth[video]))
                    for p in sorted((tracker_dir / "baseline" / video).glob(f"{video}_[0-9][0-9][0-9].txt"))]
            for video in groundtruth
        }
    expected = json.loads((root / "expected.json").read_text())["VOT2018"]
    return trackers, groundtruth, sizes, expected


# --------------------------------------------------------------------------------------------------
# hand-computable cases


def test_rectangle_is_w_by_h_pixels():
    # 10 x 10 pixels each, 5 x 5 shared: 25 / (100 + 100 - 25); PySOT's C library gives 36/206 = 0.174757
    assert region_overlap([0, 0, 10, 10], [5, 5, 10, 10]) == pytest.approx(25 / 175, abs=1e-15)


def test_polygon_fills_both_end_pixels():
    # the polygon square (0,0)-(10,10) covers pixels 0..10 in both axes (121), the rectangle 0..9 (100)
    square = [0, 0, 10, 0, 10, 10, 0, 10]
    assert region_overlap(square, [0, 0, 10, 10]) == pytest.approx(100 / 121, abs=1e-15)
    assert region_overlap(square, square) == 1.0


def test_coordinates_round_half_to_even_and_clip_to_image():
    # 0.5 -> 0 and 10.5 -> 10 (half to even): the same 10 x 10 pixels as [0, 0, 10, 10]
    assert region_overlap([0.5, 0.5, 10.5, 10.5], [0, 0, 10, 10]) == 1.0
    # image 5 x 5: both rectangles are cut to their 5 x 5 pixels inside it -> identical
    assert region_overlap([0, 0, 10, 10], [0, 0, 6, 6], (5, 5)) == 1.0
    # a special code is an empty region: 0 against any non-empty ground truth
    assert region_overlap([1], [0, 0, 10, 10], (20, 20)) == 0.0


def test_overlaps_name_the_trajectory_on_length_mismatch():
    with pytest.raises(ValueError, match="vidX repetition 2: 2 frames but the ground truth has 3"):
        trajectory_overlaps([[1], [0, 0, 1, 1]], [[0, 0, 1, 1]] * 3, (10, 10), where="vidX repetition 2")
    with pytest.raises(ValueError, match="frame 2: a region has 1, 4 or an even number"):
        trajectory_overlaps([[1], [0, 0, 1]], [[0, 0, 1, 1]] * 2, (10, 10))


def _hand_sequences():
    """Two sequences on a 100 x 100 image; gt is [10, 10, 10, 10] everywhere.

    Region r = [10, 10, 10, 5] overlaps it by 50 / 100 = 0.5; [10, 10, 10, 10] by 1.
    seqA (6 frames, 1 repetition): init, 1, 1, 1, 1, 1 -> one successful run [0, 1, 1, 1, 1, 1].
    seqB (8 frames, 1 repetition): init, 0.5, fail, skip, skip, skip, skip(5 frames after the
    failure would be frame 7) ... here: init, r, fail, 0, 0, 0, 0, init -> runs [0, 0.5] (failed)
    and [0] (successful, one frame).
    """
    full, half = [10, 10, 10, 10], [10, 10, 10, 5]
    gt = {"seqA": [full] * 6, "seqB": [full] * 8}
    traj = {"seqA": [[[1]] + [full] * 5], "seqB": [[[1], half, [2], [0], [0], [0], [0], [1]]]}
    sizes = {"seqA": (100, 100), "seqB": (100, 100)}
    return traj, gt, sizes


def test_hand_built_average_ar():
    traj, gt, sizes = _hand_sequences()
    ar = supervised_average_ar(traj, gt, sizes, burnin=1)
    # burn-in 1 drops only the initialisation frames; seqA: mean(1,1,1,1,1) = 1; seqB: only frame 1
    # counts (frame 2 failed, 3..6 skipped, 7 initialisation) -> 0.5. Weighted by length: (6*1 + 8*0.5)/14
    assert ar["per_video"]["seqA"]["accuracy"] == 1.0
    assert ar["per_video"]["seqB"]["accuracy"] == 0.5
    assert ar["accuracy"] == pytest.approx(10 / 14, abs=1e-15)
    # failures 0 and 1, weighted by length: 8 / 14; AR-plot robustness exp(-30 * (8/14) / 7)
    assert ar["robustness"] == pytest.approx(8 / 14, abs=1e-15)
    assert ar["length"] == 7.0
    assert ar["ar_robustness"] == pytest.approx(math.exp(-30 * (8 / 14) / 7), abs=1e-15)
    # the default burn-in of 10 hides every frame of seqA and seqB -> accuracy 0 by definition
    assert supervised_average_ar(traj, gt, sizes)["accuracy"] == 0.0


def test_hand_built_eao_curve():
    traj, gt, sizes = _hand_sequences()
    curve = supervised_eao_curve(traj, gt, sizes)
    # runs: seqA [0,1,1,1,1,1] ok (length 6), seqB [0, 0.5] failed (zero-padded to 6), [0] ok (length 1).
    # curve[j] = mean over runs valid at j of mean(run[1..j]); column 0 is the raw first overlap (0).
    # j=1: seqA 1, failed run 0.5 -> 0.75 (the one-frame run is valid only at j=0)
    # j=2: seqA 1, failed run (0.5+0)/2 = 0.25 -> 0.625; j=3: 1 and 0.5/3; j=4: 1, 0.125; j=5: 1, 0.1
    expected = [0.0, 0.75, 0.625, (1 + 0.5 / 3) / 2, 0.5625, 0.55]
    np.testing.assert_allclose(curve, expected, rtol=0, atol=1e-7)
    score = supervised_eao_score(traj, gt, sizes, interval=(2, 4))
    assert score["eao"] == pytest.approx((0.625 + (1 + 0.5 / 3) / 2 + 0.5625) / 3, abs=1e-7)
    # the window starts past the longest run: no value to average
    assert math.isnan(supervised_eao_score(traj, gt, sizes, interval=(100, 356))["eao"])


def test_official_intervals():
    assert official_eao_interval("VOT2018") == (100, 356)
    assert official_eao_interval("VOT2019") == (46, 291)
    assert set(OFFICIAL_EAO_INTERVALS) == {"VOT2015", "VOT2016", "VOT2017", "VOT2018", "VOT2019"}
    with pytest.raises(KeyError, match="known: VOT2015, VOT2016"):
        official_eao_interval("OTB100")


# --------------------------------------------------------------------------------------------------
# the measured difference between the two conventions on the golden VOT2018 set


def test_golden_official_numbers_and_difference_to_pysot():
    trackers, groundtruth, sizes, expected = _load_golden_vot2018()
    # official numbers, cross-checked against vot-toolkit 0.7.4 in test_golden_matches_toolkit
    official = {name: evaluate_supervised(traj, groundtruth, sizes, interval=(100, 356))
                for name, traj in trackers.items()}
    pinned = {"trkA": (0.7573542017158225, 2150 / 1210, 0.5044903940507468),
              "trkB": (0.7106601304313775, 3270 / 1210, 0.4236484280386356)}
    for name, (accuracy, robustness, eao) in pinned.items():
        assert official[name]["accuracy"] == pytest.approx(accuracy, abs=1e-9)
        # failures per sequence weighted by length: trkA (2*400 + 0*360 + 3*450) / 1210
        assert official[name]["robustness"] == pytest.approx(robustness, abs=1e-12)
        assert official[name]["eao"] == pytest.approx(eao, abs=1e-6)
    # the measured ranges: accuracy +0.007..+0.014, |EAO| difference up to 0.07
    for name in trackers:
        d_acc = official[name]["accuracy"] - expected[name]["accuracy"]
        d_eao = official[name]["eao"] - expected[name]["eao"]
        assert 0.007 <= d_acc <= 0.014, (name, d_acc)
        assert abs(d_eao) <= 0.07, (name, d_eao)


# --------------------------------------------------------------------------------------------------
# cross-checks against vot-toolkit 0.7.4


class _Run:
    def __init__(self, regions):
        self._regions = regions

    def regions(self):
        return self._regions


class _Experiment:
    def __init__(self, runs):
        self._runs = runs

    def gather(self, tracker, sequence):
        return [_Run(r) for r in self._runs[sequence.name]]


class _Sequence:
    def __init__(self, name, groundtruth, size):
        self.name, self._gt, self.size = name, groundtruth, size

    def groundtruth(self):
        return self._gt

    def __len__(self):
        return len(self._gt)


def _toolkit_numbers(trajectories, groundtruth, sizes, interval):
    """AR and EAO of one tracker computed by vot-toolkit's own analysis classes."""
    region_io = pytest.importorskip("vot.region.io")
    supervised = pytest.importorskip("vot.analysis.supervised")
    from vot.utilities.data import Grid

    def parse(region):
        return region_io.parse_region(",".join(repr(float(v)) for v in region))

    sequences = [_Sequence(v, [parse(r) for r in groundtruth[v]], sizes[v]) for v in trajectories]
    experiment = _Experiment({v: [[parse(r) for r in t] for t in runs] for v, runs in trajectories.items()})
    ar = supervised.AccuracyRobustness()
    per_sequence = [ar.subcompute(experiment, None, s, []) for s in sequences]
    accuracy, failures, ar_point, length = supervised.AverageAccuracyRobustness().aggregate(
        None, sequences, per_sequence)
    curve = supervised.EAOCurve().subcompute(experiment, None, sequences, [])[0]
    grid = Grid(1, 1)
    grid[0, 0] = (curve,)
    score = supervised.EAOScore(low=interval[0], high=interval[1]).compute(None, [None], sequences, [grid])
    return {"accuracy": accuracy, "robustness": failures, "ar_robustness": ar_point[0], "length": length,
            "per_sequence": per_sequence, "curve": np.asarray(curve), "eao": score[0, 0][0]}


def _assert_same(mine, ref):
    assert mine["accuracy"] == pytest.approx(ref["accuracy"], abs=1e-12)
    assert mine["robustness"] == pytest.approx(ref["robustness"], abs=1e-12)
    assert mine["ar_robustness"] == pytest.approx(ref["ar_robustness"], abs=1e-12)
    assert mine["length"] == pytest.approx(ref["length"], abs=1e-12)
    for per, (acc, fail, _, length) in zip(mine["per_video"].values(), ref["per_sequence"]):
        assert per["accuracy"] == pytest.approx(acc, abs=1e-12)
        assert (per["failures"], per["length"]) == (fail, length)
    # the toolkit accumulates the curve in float32
    np.testing.assert_allclose(mine["eao_curve"], ref["curve"], rtol=0, atol=2e-6)
    assert mine["eao"] == pytest.approx(ref["eao"], abs=1e-6)


def test_region_overlap_matches_toolkit():
    # the pairs the supervised analyses meet: a tracker region (rectangle or special code) against a
    # rectangle or polygon ground truth, bounded by the image (every region type and the unbounded case
    # agree too, checked once on 20000 pairs; each extra type pair costs the toolkit a numba compile)
    raster = pytest.importorskip("vot.region.raster")
    shapes = pytest.importorskip("vot.region.shapes")
    from vot.region import Special

    rng = np.random.default_rng(1)

    def random_region(kinds):
        kind = rng.choice(kinds)
        if kind == 0:
            return [int(rng.integers(0, 3))]
        scale = rng.choice([1.0, 6.0, 40.0])
        if kind == 1:
            values = [rng.uniform(-20, 110), rng.uniform(-20, 110),
                      rng.uniform(-2, 2 * scale), rng.uniform(-2, 2 * scale)]
        else:
            centre = rng.uniform(-10, 100, 2)
            values = []
            n = int(rng.integers(3, 7))
            for i in range(n):
                angle, radius = 2 * np.pi * i / n + rng.uniform(0, 0.5), rng.uniform(0.5, scale)
                values += [centre[0] + radius * np.cos(angle), centre[1] + radius * np.sin(angle)]
        if rng.random() < 0.3:  # exact halves exercise the half-to-even rounding
            values = [float(np.round(v * 2) / 2) for v in values]
        return [float(v) for v in values]

    def to_vot(region):
        if len(region) == 1:
            return Special(region[0])
        if len(region) == 4:
            return shapes.Rectangle(*region)
        return shapes.Polygon(list(zip(region[::2], region[1::2])))

    for _ in range(1500):
        a, b = random_region([0, 1]), random_region([1, 2])
        size = (int(rng.integers(20, 120)), int(rng.integers(20, 120)))
        expected = raster.calculate_overlap(to_vot(a), to_vot(b), size)
        assert region_overlap(a, b, size) == expected, (a, b, size)


def test_golden_matches_toolkit():
    trackers, groundtruth, sizes, _ = _load_golden_vot2018()
    for trajectories in trackers.values():
        mine = evaluate_supervised(trajectories, groundtruth, sizes, interval=(100, 356))
        _assert_same(mine, _toolkit_numbers(trajectories, groundtruth, sizes, (100, 356)))


def _generated_set(seed: int):
    """Sequences of 30..420 frames (rectangle or rotated-polygon gt, 3 repetitions) run through the
    reset protocol with random failures, including failures in the last 5 frames and at the last frame."""
    rng = np.random.default_rng(seed)
    trajectories, groundtruth, sizes = {}, {}, {}
    for s, length in enumerate([30, 120, 380, 420]):
        width, height = 160 + 40 * s, 120 + 30 * s
        centre = np.cumsum(rng.normal(0, 1.5, (length, 2)), axis=0) + [width / 2, height / 2]
        w, h = rng.uniform(15, 40), rng.uniform(15, 40)
        if s % 2:
            c, si = math.cos(0.3), math.sin(0.3)
            corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2 @ np.array([[c, si], [-si, c]])
            gt = [list((corners + p).ravel()) for p in centre]
        else:
            gt = [[p[0] - w / 2, p[1] - h / 2, w, h] for p in centre]
        runs = []
        for rep in range(3):
            forced = {length - 1 - rep, length - 3} if rep < 2 else set()
            traj, frame = [], 0
            while frame < length:
                traj.append([1])
                frame += 1
                while frame < length:
                    if frame in forced or rng.random() < 0.01:
                        traj.append([2])
                        skip = min(4, length - frame - 1)
                        traj += [[0]] * skip
                        frame += 5
                        break
                    noise = rng.normal(0, 3, 4)
                    traj.append([centre[frame][0] - w / 2 + noise[0], centre[frame][1] - h / 2 + noise[1],
                                 w + noise[2], h + noise[3]])
                    frame += 1
            runs.append(traj[:length])
        name = f"gen{s}"
        trajectories[name], groundtruth[name], sizes[name] = runs, gt, (width, height)
    return trajectories, groundtruth, sizes


def test_generated_trajectories_match_toolkit():
    trajectories, groundtruth, sizes = _generated_set(seed=3)
    mine = evaluate_supervised(trajectories, groundtruth, sizes, interval=(100, 356))
    ref = _toolkit_numbers(trajectories, groundtruth, sizes, (100, 356))
    # the generator does produce failures, including in the last 5 frames of a sequence
    assert ref["robustness"] > 1
    _assert_same(mine, ref)


# --------------------------------------------------------------------------------------------------
# the generated benchmark result sets (toolkit/bench.py) through the report API


def test_official_protocol_on_generated_result_files(tmp_path):
    from toolkit.bench import eval_throughput, generate_result_sets
    from toolkit.evaluation import report as rep

    vot, ope, trackers = generate_result_sets(tmp_path, num_trackers=2, num_videos=2, num_frames=60, seed=1)
    assert (len(vot), len(ope), trackers) == (2, 2, ["tracker000", "tracker001"])
    report = rep.evaluate(vot, tmp_path / "results" / "VOT2018", trackers, convention="vot")
    for tracker in trackers:
        # the files as written (regions as '%.4f') evaluated directly must give the report's numbers
        folder = tmp_path / "results" / "VOT2018" / tracker / "baseline"
        runs = {v.name: [read_vot_trajectory(folder / v.name / f"{v.name}_001.txt", len(v))] for v in vot}
        direct = evaluate_supervised(runs, {v.name: v.gt_traj for v in vot},
                                     {v.name: (v.width, v.height) for v in vot}, interval=(100, 356))
        got = report["trackers"][tracker]
        assert (got["accuracy"], got["robustness"]) == (direct["accuracy"], direct["robustness"])
        # 60-frame runs never reach the 100..356 window
        assert math.isnan(direct["eao"]) and len(direct["eao_curve"]) <= 60
    timings = eval_throughput(num_trackers=2, num_videos=2, num_frames=40, nums=(1,), seed=0)
    assert timings["config"]["num_trackers"] == 2
    for key in ("vot_pysot", "vot_official", "ope"):
        assert set(timings[key]["1"]) == {"wall_s", "cpu_s", "frames_per_s", "frames_per_cpu_s", "speedup"}
        assert timings[key]["1"]["speedup"] == 1.0
