"""VOT rasterised region overlap (toolkit.evaluation.region): hand-computed pixel counts.

Rules used in the comments (VOT region.c, non-legacy, as PySOT calls it): a rectangle [x, y, w, h]
is the polygon with corners x..x+w, y..y+h; vertices are rounded half away from zero; every row
fills the pixels between the left and right edge *inclusive*, so an integer w x h box covers
(w+1) x (h+1) pixels; the overlap is a C float.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit.boxes import vot_float2str
from toolkit.evaluation.region import pack_regions, vot_overlap, vot_overlap_traj


def f32(x: float) -> float:
    return float(np.float32(x))


def test_issue_example_half_shifted_squares():
    # 11 x 11 = 121 pixels each, the shared block x, y in 5..10 is 6 x 6 = 36:
    # 36 / (121 + 121 - 36) = 36 / 206 = 0.174757 (the continuous IoU would be 25 / 175 = 0.142857)
    assert vot_overlap([0, 0, 10, 10], [5, 5, 10, 10]) == f32(36 / 206)
    assert round(vot_overlap([0, 0, 10, 10], [5, 5, 10, 10]), 6) == 0.174757


def test_identical_and_disjoint():
    assert vot_overlap([3, 4, 20, 10], [3, 4, 20, 10]) == 1.0
    assert vot_overlap([0, 0, 10, 10], [30, 30, 10, 10]) == 0.0
    # touching boxes would share the pixel column x = 10, but region.c first checks the overlap of
    # the (continuous) bounding boxes, which is 0 here, and returns 0 without rasterising
    assert vot_overlap([0, 0, 10, 10], [10, 0, 10, 10]) == 0.0
    # one pixel further in, the boxes overlap: 2 x 11 common pixels, 22 / (121 + 121 - 22)
    assert vot_overlap([0, 0, 10, 10], [9, 0, 10, 10]) == f32(22 / 220)


def test_right_triangle_inside_square():
    # triangle (0,0), (10,0), (0,10): row y fills x = 0 .. 10-y (11-y pixels) for y = 0..9; at y = 10
    # both edges meet at x = 0, two equal nodes that the C code skips, so the row is empty:
    # 11 + 10 + ... + 2 = 65 pixels, all inside the 121-pixel square.
    assert vot_overlap([0, 0, 10, 10], [0, 0, 10, 0, 0, 10]) == f32(65 / 121)


def test_vertices_round_half_away_from_zero():
    # 0.4 -> 0 and 10.4 -> 10: the same 11 x 11 pixels as [0, 0, 10, 10]
    assert vot_overlap([0, 0, 10, 10], [0.4, 0.4, 10, 10]) == 1.0
    # 0.5 -> 1 and 10.5 -> 11 (C round, not numpy's half-to-even): 10 x 10 common pixels,
    # 100 / (121 + 121 - 100) = 100 / 142
    assert vot_overlap([0, 0, 10, 10], [0.5, 0.5, 10, 10]) == f32(100 / 142)


def test_image_bounds_clip_the_masks():
    # bounds (12, 12): columns and rows 0..12 are kept (13 each). The second box 5..15 keeps 5..12,
    # 8 x 8 = 64 pixels; the first keeps all 121; common 36: 36 / (121 + 64 - 36) = 36 / 149
    assert vot_overlap([0, 0, 10, 10], [5, 5, 10, 10], bounds=(12, 12)) == f32(36 / 149)
    # the same bounds as (top, bottom, left, right)
    assert vot_overlap([0, 0, 10, 10], [5, 5, 10, 10], bounds=(0, 12, 0, 12)) == f32(36 / 149)
    # a box entirely outside the image has zero area after clipping -> 0
    assert vot_overlap([0, 0, 10, 10], [50, 50, 10, 10], bounds=(20, 20)) == 0.0
    # with the EAO bounds (w - 1, h - 1) = (9, 9) both boxes are clipped to x, y in 0..9:
    # the first has 100 pixels, the second 5..9 = 25 = the common part: 25 / 100
    assert vot_overlap([0, 0, 10, 10], [5, 5, 10, 10], bounds=(9, 9)) == f32(25 / 100)


def test_degenerate_regions():
    # two identical zero-size boxes: both bounding boxes have zero area, nothing is rasterised and
    # region.c returns 0 / 0 pixels = NaN (kept with empty=NaN, the PySOT convention); else 0
    assert vot_overlap([5, 5, 0, 0], [5, 5, 0, 0]) == 0.0
    assert math.isnan(vot_overlap([5, 5, 0, 0], [5, 5, 0, 0], empty=math.nan))
    # a zero-size box against a real one: the area ratio test (< 1e-10) returns 0
    assert vot_overlap([5, 5, 0, 0], [0, 0, 10, 10]) == 0.0


def test_codes_give_nan():
    assert math.isnan(vot_overlap([1], [0, 0, 10, 10]))
    assert math.isnan(vot_overlap([0, 0, 10, 10], [2]))
    # a NaN region (long-term frame without ground truth) is treated like a code
    assert math.isnan(vot_overlap([0, 0, 10, 10], [np.nan] * 4))


def test_rectangle_equals_its_polygon():
    # cross-check of the two input paths on random boxes, with and without bounds
    rng = np.random.default_rng(0)
    rects = np.column_stack([rng.uniform(-20, 200, (300, 2)), rng.uniform(1, 80, (300, 2))])
    others = rects + rng.uniform(-15, 15, rects.shape)
    polys = [[x, y, x + w, y, x + w, y + h, x, y + h] for x, y, w, h in others]
    reversed_polys = [[p[6], p[7], p[4], p[5], p[2], p[3], p[0], p[1]] for p in polys]  # other winding
    for bounds in (None, (160, 120)):
        a = vot_overlap_traj(rects, others, bounds)
        b = vot_overlap_traj(rects, polys, bounds)
        c = vot_overlap_traj(rects, reversed_polys, bounds)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        assert (a > 0).sum() > 50  # the cases are not all trivial zeros


def test_integer_rectangles_match_the_pixel_count_formula():
    # for integer boxes the rasterisation is exact: [x, y, w, h] covers x..x+w by y..y+h inclusive;
    # boxes whose continuous intersection is empty (only touching) give 0 (region.c's early exit)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 50, (200, 4)).astype(float) + [0, 0, 1, 1]
    b = a + rng.integers(-10, 10, (200, 4)) * [1, 1, 0, 0]

    def pixels(r):
        return (r[2] + 1) * (r[3] + 1)

    expected = []
    for r1, r2 in zip(a, b):
        iw = max(0.0, min(r1[0] + r1[2], r2[0] + r2[2]) - max(r1[0], r2[0]) + 1)
        ih = max(0.0, min(r1[1] + r1[3], r2[1] + r2[3]) - max(r1[1], r2[1]) + 1)
        inter = iw * ih if iw > 1 and ih > 1 else 0.0
        expected.append(np.float32(inter) / np.float32(pixels(r1) + pixels(r2) - inter))
    np.testing.assert_array_equal(vot_overlap_traj(a, b), np.array(expected, np.float64))


def test_trajectory_mixes_codes_rectangles_and_polygons():
    traj = [[1], [0, 0, 10, 10], [0, 0, 10, 0, 0, 10], [2], [0]]
    gt = [[0, 0, 10, 10]] * 5
    out = vot_overlap_traj(traj, gt)
    assert out.dtype == np.float64 and out.shape == (5,)
    assert np.isnan(out[[0, 3, 4]]).all()
    assert out[1] == 1.0 and out[2] == f32(65 / 121)
    vals, counts = pack_regions(traj)
    assert vals.shape == (5, 6) and counts.tolist() == [1, 4, 6, 1, 1]
    with pytest.raises(ValueError, match="differ in length"):
        vot_overlap_traj(traj, gt[:4])
    with pytest.raises(ValueError, match="bounds"):
        vot_overlap([0, 0, 1, 1], [0, 0, 1, 1], bounds=(1, 2, 3))


def test_float2str_formats_a_c_float():
    assert vot_float2str("%.4f", 204.75823) == "204.7582"
    # 1.00005 is 1.0000499... as a C float, so it rounds down (as a double it would give 1.0001)
    assert vot_float2str("%.4f", 1.00005) == "1.0000"
    assert f"{1.00005:.4f}" == "1.0001"
