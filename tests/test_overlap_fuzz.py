"""Overlaps never NaN (except the documented cases) and never unbounded work: the PySOT port
(region.py), the official toolkit's (vot_official.py) and OPE's continuous IoU (ope.py), on named
degenerate cases and a seeded fuzz of a few thousand regions (degenerate polygons, huge and
non-finite coordinates)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.evaluation import ar
from toolkit.evaluation.ope import overlap_ratio, success_curve
from toolkit.evaluation.region import empty_overlap_mask, vot_overlap, vot_overlap_traj
from toolkit.evaluation.vot_official import region_overlap


def square(x: float, y: float, a: float) -> list[float]:
    return [x, y, x + a, y, x + a, y + a, x, y + a]


# ------------------------------------------------------------------------------- named cases
@pytest.mark.parametrize(
    "a, b, bounds",
    [
        ([10, 10, 5, 0], [10, 10, 5, 0], (100, 100)),  # zero height, identical
        ([5, 5, 0, 0], [5, 5, 0, 0], None),  # zero size, unbounded
        ([116, -14, 85, 59], [-4, 36, -1, -2], (100, 100)),  # outside the image / negative size
        ([80, 11, 0, 2], [80, 42, 0, 1], (100, 100)),  # zero widths
        ([3, 3, 3, 3, 3, 3], [3, 3, 3, 3, 3, 3], None),  # polygons collapsed to one point
    ],
)
def test_two_empty_regions_overlap_0_or_nan_in_the_pysot_convention(a, b, bounds):
    assert vot_overlap(a, b, bounds) == 0.0
    # the VOT C library (and PySOT's accuracy, which then drops the frame) gives 0 / 0 = NaN
    assert math.isnan(vot_overlap(a, b, bounds, empty=math.nan))
    assert empty_overlap_mask([a], [b], bounds).tolist() == [True]


def test_pysot_accuracy_keeps_dropping_empty_frames_and_the_mask_counts_them():
    gt = [[10, 10, 20, 20], [10, 10, 5, 0], [10, 10, 20, 20]]
    pred = [[10, 10, 20, 20], [10, 10, 5, 0], [10, 10, 10, 20]]
    acc, overlaps = ar.calculate_accuracy(pred, gt, bound=(100, 100))
    # frame 1 (both empty) is NaN and not averaged: (1 + 11*21/(21*21)) / 2 in C floats
    assert math.isnan(overlaps[1])
    assert acc == pytest.approx((1 + float(np.float32(11 * 21) / np.float32(21 * 21))) / 2, abs=1e-7)
    assert empty_overlap_mask(pred, gt, (100, 100)).tolist() == [False, True, False]


def test_the_report_counts_the_frames_pysot_drops_as_empty():
    gt = [[10, 10, 20, 20], [10, 10, 5, 0], [10, 10, 20, 20], [50, 50, 5, 0], [10, 10, 20, 20]]
    pred = [[1], [10, 10, 5, 0], [10, 10, 10, 20], [50, 50, 0, 5], [0]]  # init, 2 empty frames, a code
    pred_p, gt_p = ar.pack_regions(pred), ar.pack_regions(gt)
    _, overlaps = ar.calculate_accuracy(pred_p, gt_p, bound=(100, 100))
    assert np.isnan(overlaps).tolist() == [True, True, False, True, True]
    assert ar.empty_frame_count(overlaps, pred_p, gt_p, (100, 100)) == 2


def test_ope_iou_of_a_negative_width_is_0_not_nan():
    rect1 = np.array([[0, 0, -5, 2], [0, 0, np.inf, 2], [0, 0, np.nan, 2], [0, 0, 5, 2]], float)
    rect2 = np.array([[0, 0, 5, 2], [0, 0, 5, 2], [0, 0, 5, 2], [0, 0, 5, 2]], float)
    assert overlap_ratio(rect1, rect2).tolist() == [0.0, 0.0, 0.0, 1.0]
    # the success curve is PySOT's either way (NaN and 0 are above no threshold)
    curve = success_curve(rect2, rect1)
    assert curve[0] == 0.25 and curve[-1] == 0.0


def test_inf_coordinates_overlap_0():
    assert vot_overlap([0, 0, math.inf, 5], [0, 0, 4, 5]) == 0.0
    assert vot_overlap([0, 0, 4, 5], [-math.inf, 0, 4, 5], (100, 100)) == 0.0
    assert region_overlap([0, 0, math.inf, 5], [0, 0, 4, 5]) == 0.0


# ------------------------------------------------------------------------------- bounded work
def test_below_the_raster_limit_the_pysot_overlap_is_exact():
    # region.c: a polygon square of side 3000 covers 3001 x 3001 pixels; shifted by 1500 they
    # share 1501 columns of 4501, the ratio of two C floats
    expected = np.float32(1501 * 3001) / np.float32(4501 * 3001)
    assert vot_overlap(square(0, 0, 3000), square(1500, 0, 3000)) == float(expected)


@pytest.mark.parametrize("side", [3e4, 1e6, 1e9])
def test_huge_unbounded_regions_take_bounded_work_and_approximate_the_exact_ratio(side):
    # half-shifted squares: 1/3 (continuous); a rectangle and its upper half: 1/2
    assert vot_overlap(square(0, 0, side), square(side / 2, 0, side)) == pytest.approx(1 / 3, abs=1e-3)
    assert region_overlap(square(0, 0, side), square(side / 2, 0, side)) == pytest.approx(1 / 3, abs=1e-3)
    assert vot_overlap([0, 0, side, side], [0, 0, side, side / 2]) == pytest.approx(0.5, abs=1e-3)
    assert region_overlap([0, 0, side, side], [0, 0, side, side / 2]) == pytest.approx(0.5, abs=1e-3)


# ------------------------------------------------------------------------------- fuzz
def _random_region(rng: np.random.Generator) -> list[float]:
    kind = rng.integers(6)
    scale = ([1e2] * 9 + [1e6, 1e9, 1e12])[rng.integers(12)]
    if kind <= 1:  # rectangle, often degenerate or negative
        x, y = rng.uniform(-0.2, 1.2, 2) * scale
        w, h = rng.choice([0.0, -1.0, rng.uniform(-0.1, 1) * scale], 2)
        region = [x, y, w, h]
    elif kind == 2:  # collinear or repeated points
        p = rng.uniform(-0.2, 1.2, 2) * scale
        d = rng.uniform(-1, 1, 2) * scale * rng.choice([0.0, 0.1, 1.0])
        region = [*p, *(p + d), *(p + 2 * d), *(p + d)]
    else:  # random polygon of 3 to 6 points (self-intersecting ones included)
        region = list(rng.uniform(-0.2, 1.2, 2 * rng.integers(3, 7)) * scale)
    if rng.random() < 0.05:
        region[rng.integers(len(region))] = rng.choice([math.inf, -math.inf, math.nan])
    return [float(v) for v in region]


def test_fuzz_every_overlap_is_in_0_1_or_a_documented_nan():
    rng = np.random.default_rng(12)
    cases = []
    for _ in range(3000):
        a, b = _random_region(rng), _random_region(rng)
        bounds = None if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(1, 2000, 2))
        cases.append((a, b, bounds))
    bad = []
    for a, b, bounds in cases:
        has_nan = any(math.isnan(v) for v in a + b)
        for value, name in (
            (vot_overlap(a, b, bounds), "vot_overlap"),
            (region_overlap(a, b, bounds), "region_overlap"),
        ):
            if math.isnan(value):
                # documented: a NaN coordinate makes a region a code (PySOT port) -> NaN
                if not (has_nan and name == "vot_overlap"):
                    bad.append((name, a, b, bounds, value))
            elif not 0.0 <= value <= 1.0:
                bad.append((name, a, b, bounds, value))
        if not has_nan:
            pysot = vot_overlap(a, b, bounds, empty=math.nan)
            assert math.isnan(pysot) == bool(empty_overlap_mask([a], [b], bounds)[0]), (a, b, bounds)
            self_overlap = vot_overlap(a, a, bounds)
            if self_overlap not in (0.0, 1.0):
                bad.append(("self", a, a, bounds, self_overlap))
    assert not bad, f"{len(bad)} bad overlaps, e.g. {bad[:3]}"


def test_fuzz_trajectory_overlaps_match_single_calls():
    rng = np.random.default_rng(5)
    a = [[float(v) for v in rng.uniform(-50, 150, 4)] for _ in range(500)]
    b = [[float(v) for v in rng.uniform(-50, 150, 4)] for _ in range(500)]
    traj = vot_overlap_traj(a, b, (100, 100))
    assert np.all((traj >= 0) & (traj <= 1))
    assert traj.tolist() == [vot_overlap(x, y, (100, 100)) for x, y in zip(a, b)]


def test_fuzz_ope_iou_is_always_in_0_1():
    rng = np.random.default_rng(7)
    boxes = rng.uniform(-1e3, 1e3, (4000, 4)) * rng.choice([1e-3, 1, 1e9], (4000, 1))
    boxes[rng.random((4000, 4)) < 0.02] = np.inf
    boxes[rng.random((4000, 4)) < 0.02] = np.nan
    iou = overlap_ratio(boxes[:2000], boxes[2000:])
    assert np.all((iou >= 0) & (iou <= 1))
