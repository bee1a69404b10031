"""toolkit.boxes: every box / region convention, with values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolkit import boxes


def test_corner_center_round_trip():
    # (x1, y1, x2, y2) = (2, 4, 10, 8): centre (6, 6), size 8 x 4
    assert boxes.corner2center(boxes.Corner(2, 4, 10, 8)) == boxes.Center(6.0, 6.0, 8, 4)
    assert boxes.center2corner(boxes.Center(6, 6, 8, 4)) == boxes.Corner(2.0, 4.0, 10.0, 8.0)
    # plain sequences give plain tuples; arrays are converted component-wise
    assert boxes.corner2center([2, 4, 10, 8]) == (6.0, 6.0, 8, 4)
    cx, cy, w, h = boxes.corner2center(np.array([[0, 2], [0, 2], [4, 4], [2, 6]]))
    np.testing.assert_array_equal(cx, [2, 3])
    np.testing.assert_array_equal(h, [2, 4])


def test_cxy_wh_rect_round_trip():
    # centre (10, 20), size 4 x 6 -> top-left (8, 17)
    np.testing.assert_array_equal(boxes.cxy_wh_2_rect([10, 20], [4, 6]), [8, 17, 4, 6])
    pos, sz = boxes.rect_2_cxy_wh([8, 17, 4, 6])
    np.testing.assert_array_equal(pos, [10, 20])
    np.testing.assert_array_equal(sz, [4, 6])


def test_pixel_center_is_half_a_pixel_before_the_box_centre():
    # pixels 10..13 (w = 4): centre 11.5 = 10 + (4 - 1) / 2; rows 20..25: 22.5
    np.testing.assert_array_equal(boxes.pixel_center([10, 20, 4, 6]), [11.5, 22.5])
    # (N, 4) rects give (N, 2) centres
    centres = boxes.pixel_center(np.array([[0, 0, 1, 1], [2, 4, 5, 3]]))
    np.testing.assert_array_equal(centres, [[0, 0], [4, 5]])


def test_axis_aligned_bbox_of_a_rect_and_polygons():
    # rect: centre x + w/2, size unchanged
    assert boxes.get_axis_aligned_bbox([2, 3, 10, 4]) == (7.0, 5.0, 10.0, 4.0)
    # axis-aligned 10 x 4 polygon (corners 2..12, 3..7): A1 = A2 = 40, s = 1, then +1 pixel
    assert boxes.get_axis_aligned_bbox([2, 3, 12, 3, 12, 7, 2, 7]) == (7.0, 5.0, 11.0, 5.0)
    # a diamond of side 5*sqrt(2) (area 50) in a 10 x 10 min-max box (area 100): s = sqrt(1/2),
    # w = h = 10 / sqrt(2) + 1
    cx, cy, w, h = boxes.get_axis_aligned_bbox([0, 5, 5, 0, 10, 5, 5, 10])
    assert (cx, cy) == (5.0, 5.0)
    assert w == pytest.approx(10 / math.sqrt(2) + 1, abs=1e-12) and h == pytest.approx(w, abs=1e-12)
    with pytest.raises(ValueError, match="4 or 8 values, got 3"):
        boxes.get_axis_aligned_bbox([1, 2, 3])


def test_min_max_bbox_centre_is_the_corner_mean():
    # corners (0,1) (4,0) (4,3) (0,4): mean (2, 2), min-max 4 x 4
    assert boxes.get_min_max_bbox([0, 1, 4, 0, 4, 3, 0, 4]) == (2.0, 2.0, 4.0, 4.0)
    assert boxes.get_min_max_bbox([1, 1, 4, 2]) == (3.0, 2.0, 4.0, 2.0)


def test_init_box_adds_half_a_pixel_to_a_rect():
    # rect (1, 2, 5, 4): centre (3.5, 4), init box [3.5 - 2, 4 - 1.5, 5, 4] = [1.5, 2.5, 5, 4]
    assert boxes.init_box([1.0, 2.0, 5.0, 4.0]) == [1.5, 2.5, 5.0, 4.0]
    # integer annotations keep int sizes, so the result line reads "1.5,2.5,5,4" as PySOT's
    box = boxes.init_box(np.array([1.0, 2.0, 5.0, 4.0]), integer=True)
    assert box == [1.5, 2.5, 5, 4] and isinstance(box[2], int)
    # the tracker's centre of the init box is the rect's centre again
    np.testing.assert_array_equal(boxes.pixel_center(box), [3.5, 4.0])
    # polygon: the axis-aligned 10 x 4 polygon above -> centre (7, 5), size 11 x 5 -> [2, 3, 11, 5]
    assert boxes.init_box([2, 3, 12, 3, 12, 7, 2, 7]) == [2.0, 3.0, 11.0, 5.0]


def test_rect_polygons_exclusive_and_inclusive_corners():
    # the VOT toolkit's corners: (x, y) (x+w, y) (x+w, y+h) (x, y+h)
    np.testing.assert_array_equal(boxes.rect_to_polygon([1, 2, 3, 4]), [1, 2, 4, 2, 4, 6, 1, 6])
    # PySOT's VOT loop: inclusive pixel corners (x, y) (x, y+h-1) (x+w-1, y+h-1) (x+w-1, y)
    np.testing.assert_array_equal(boxes.inclusive_polygon(np.array([1, 2, 3, 4])), [1, 2, 1, 5, 3, 5, 3, 2])
    poly = np.array([0.0, 0, 0, 10, 10, 10, 10, 0])
    assert boxes.inclusive_polygon(poly) is poly  # polygons pass through


def test_vot_init_box():
    # rect (10, 20, 30, 40) -> inclusive polygon 10..39 x 20..59 -> centre (24.5, 39.5), size 30 x 40
    # (29 + 1, 39 + 1) -> [24.5 - 14.5, 39.5 - 19.5, 30, 40]: the rect itself
    assert boxes.vot_init_box([10, 20, 30, 40]) == [10.0, 20.0, 30.0, 40.0]
    # square polygon 0..10: centre (5, 5), size 11 x 11 -> [0, 0, 11, 11]
    assert boxes.vot_init_box([0, 0, 0, 10, 10, 10, 10, 0]) == [0.0, 0.0, 11.0, 11.0]


def test_bounding_rect():
    np.testing.assert_array_equal(boxes.bounding_rect([0, 1, 4, 0, 4, 3, 0, 4]), [0, 0, 4, 4])
    rect = np.array([1.0, 2, 3, 4])
    out = boxes.bounding_rect(rect)
    np.testing.assert_array_equal(out, rect)
    assert out is not rect


def test_vot_float2str_rounds_to_a_c_float_first():
    # 1.00005 is 1.0000499... as a float32, so '%.4f' gives 1.0000 (Python's float would give 1.0001)
    assert f"{1.00005:.4f}" == "1.0001"
    assert boxes.vot_float2str("%.4f", 1.00005) == "1.0000"
    assert boxes.vot_float2str("%.4f", 204.75823) == "204.7582"
    assert boxes.vot_float2str("%.2f", -0.125) == "-0.12"  # exact in float32, rounds half to even
