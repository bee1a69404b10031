"""OPE success / precision / normalised precision (toolkit.evaluation.ope) on hand-computed boxes."""

from __future__ import annotations

import numpy as np

from toolkit.evaluation import ope

GT = np.array([[0.0, 0.0, 10.0, 10.0]])


def test_thresholds_are_pysots():
    assert len(ope.SUCCESS_THRESHOLDS) == 21 and ope.SUCCESS_THRESHOLDS[-1] == 1.0
    assert ope.PRECISION_THRESHOLDS.tolist() == list(range(51))
    assert ope.NORM_PRECISION_THRESHOLDS[20] == 0.2


def test_success_is_strictly_greater():
    # shifted by half the width: intersection 5 x 10 = 50, union 150, IoU = 1/3 (continuous, no +1)
    pred = np.array([[5.0, 0.0, 10.0, 10.0]])
    assert ope.overlap_ratio(GT, pred).tolist() == [1 / 3]
    curve = ope.success_curve(GT, pred)
    # 1/3 > 0, 0.05, ..., 0.30 (7 thresholds), not > 0.35
    assert curve.tolist() == [1.0] * 7 + [0.0] * 14
    # a perfect box is not a success at threshold 1.0 (strict >)
    assert ope.success_curve(GT, GT).tolist() == [1.0] * 20 + [0.0]


def test_precision_uses_pysot_centres():
    pred = np.array([[5.0, 0.0, 10.0, 10.0]])
    # centres x + (w-1)/2: 4.5 and 9.5, distance 5 px; counted from threshold 5 on (<=)
    assert ope.box_center(pred).tolist() == [[9.5, 4.5]]
    assert ope.precision_curve(GT, pred).tolist() == [0.0] * 5 + [1.0] * 46
    # normalised by the gt size 10: distance 0.5, precise only at the last threshold 0.50
    assert ope.norm_precision_curve(GT, pred).tolist() == [0.0] * 50 + [1.0]


def test_invalid_ground_truth_counts_as_failure():
    gt = np.array([[0, 0, 10, 10], [0, 0, 0, 10], [-20, -20, 10, 10], [np.nan] * 4], float)
    pred = np.tile([0.0, 0.0, 10.0, 10.0], (4, 1))
    # frame 1: zero width -> IoU -1; frame 3: NaN -> never; frame 2 valid but disjoint (IoU 0)
    assert ope.success_curve(gt, pred)[0] == 0.25
    # PySOT's quirk: frames whose gt centre has a coordinate <= 0 or NaN get distance -1, which is
    # <= every threshold, so they count as precise. Frame 1's centre is (-0.5, 4.5), frame 2's
    # (-15.5, -15.5), frame 3's NaN; frame 0 is exact: all 4 frames precise even at 0 px
    assert ope.precision_curve(gt, pred)[0] == 1.0
    assert ope.precision_curve(gt[2:3], pred[2:3]).tolist() == [1.0] * 51


def test_lasot_absent_frames_are_skipped_but_counted():
    gt = np.tile([0.0, 0.0, 10.0, 10.0], (4, 1))
    pred = gt.copy()
    pred[1] = [50, 50, 10, 10]
    absent = np.array([1, 0, 1, 0])
    # frames 1 and 3 are not scored; the denominator is still 4 frames: 2 / 4 at every threshold < 1
    assert ope.success_curve(gt, pred, absent)[:20].tolist() == [0.5] * 20
    assert ope.precision_curve(gt, pred, absent)[0] == 0.5


def test_dataset_scores_average_videos():
    a = ope.success_curve(GT, GT)
    b = ope.success_curve(GT, np.array([[5.0, 0.0, 10.0, 10.0]]))
    # AUC: mean of all curve points of all videos: (20 + 7) ones in 42 points
    assert ope.success_auc([a, b]) == 27 / 42
    pa = ope.precision_curve(GT, GT)
    pb = ope.precision_curve(GT, np.array([[30.0, 0.0, 10.0, 10.0]]))  # 30 px away
    assert ope.precision_score([pa, pb]) == 0.5


def test_report_on_got10k_layout_and_attributes(tmp_path):
    # two videos in the GOT-10k result layout; attribute "X" holds only the second one
    from toolkit import results as rio
    from toolkit.datasets import Dataset, Sequence
    from toolkit.evaluation import report

    gt = np.tile([10.0, 10.0, 20.0, 20.0], (3, 1))
    seqs = [
        Sequence("a", ["a.jpg"] * 3, gt, size=(100, 100)),
        Sequence("b", ["b.jpg"] * 3, gt, attr=["X"], size=(100, 100)),
    ]
    ds = Dataset("GOT-10k", tmp_path, seqs, protocol="got10k")
    root = tmp_path / "results" / "GOT-10k"
    rio.write_boxes(rio.result_path(root, "t", "a", "got10k"), gt)  # perfect
    rio.write_boxes(rio.result_path(root, "t", "b", "got10k"), gt + [40, 0, 0, 0])  # disjoint
    rep = report.evaluate(ds, root, ["t"])
    res = rep["trackers"]["t"]
    # a: success 1 at the 20 thresholds below 1.0, b: 0 everywhere -> AUC (20/21) / 2
    assert res["success_auc"] == 20 / 42
    assert res["per_attribute"]["X"]["success_auc"] == 0.0 and res["per_attribute"]["X"]["videos"] == ["b"]
    assert rep["attributes"] == {"X": ["b"]} and rep["kind"] == "got10k"
    row = report.format_tables(rep).splitlines()[3]
    assert row == "|     t      |  0.476  |     0.000      |   0.500   |"  # b is 40 px off: precision 1/2


def test_synth_table_prints_its_norm_precision(tmp_path):
    # PySOT prints 0 in the Norm Precision column except for LaSOT; the synthetic benchmark, which has
    # no PySOT table to match, prints the value its JSON holds
    from toolkit import results as rio
    from toolkit.datasets import Dataset, Sequence
    from toolkit.evaluation import report

    gt = np.tile([10.0, 10.0, 20.0, 20.0], (3, 1))
    for name, norm in (("SYNTH", "1.000"), ("OTB100", "0.000")):
        ds = Dataset(name, tmp_path, [Sequence("a", ["a.jpg"] * 3, gt, size=(100, 100))])
        root = tmp_path / "results" / name
        rio.write_boxes(rio.result_path(root, "t", "a", "ope"), gt)  # perfect: every curve at 1
        rep = report.evaluate(ds, root, ["t"])
        assert rep["trackers"]["t"]["norm_precision_at_0.20"] == 1.0
        # success AUC of a perfect track: 1 at the 20 thresholds below 1.0 of 21 -> 0.952
        assert (
            report.format_tables(rep).splitlines()[3]
            == f"|     t      |  0.952  |     {norm}      |   1.000   |"
        )
