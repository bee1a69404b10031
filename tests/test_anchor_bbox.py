"""Anchors and box conversions: hand-computed values of PySOT's formulas."""

import numpy as np
import pytest

from pysot.utils.anchor import Anchors, generate_anchor_grid
from pysot.utils.bbox import (
    Center,
    Corner,
    IoU,
    center2corner,
    corner2center,
    cxy_wh_2_rect,
    get_axis_aligned_bbox,
    get_min_max_bbox,
    rect_2_cxy_wh,
)

RATIOS = [0.33, 0.5, 1, 2, 3]


def test_anchor_shapes_truncate_like_pysot():
    # size = 8*8 = 64; r=0.33: ws = int(sqrt(64/0.33)) = int(13.93) = 13, hs = int(13*0.33) = 4,
    # times scale 8 -> (104, 32). r=0.5: ws = int(11.31) = 11, hs = int(5.5) = 5 -> (88, 40).
    # r=2: ws = int(5.66) = 5, hs = 10 -> (40, 80); r=3: ws = int(4.62) = 4, hs = 12 -> (32, 96).
    a = Anchors(8, RATIOS, [8])
    assert a.anchor_num == 5
    assert a.anchors.dtype == np.float32
    wh = np.stack([a.anchors[:, 2] - a.anchors[:, 0], a.anchors[:, 3] - a.anchors[:, 1]], 1)
    np.testing.assert_array_equal(wh, [[104, 32], [88, 40], [64, 64], [40, 80], [32, 96]])
    np.testing.assert_array_equal(a.anchors[2], [-32, -32, 32, 32])


def test_anchor_order_ratio_major_then_scale():
    # ratios are the outer loop: (r=1, s=4), (r=1, s=8), (r=2, s=4), (r=2, s=8); r=2 -> ws=5, hs=10
    a = Anchors(8, [1, 2], [4, 8])
    wh = np.stack([a.anchors[:, 2] - a.anchors[:, 0], a.anchors[:, 3] - a.anchors[:, 1]], 1)
    np.testing.assert_array_equal(wh, [[32, 32], [64, 64], [20, 40], [40, 80]])


def test_generate_all_anchors_grid_and_cache():
    a = Anchors(8, RATIOS, [8])
    assert a.generate_all_anchors(im_c=127, size=25) is True
    corners, centers = a.all_anchors
    assert corners.shape == centers.shape == (4, 5, 25, 25)
    # first grid cell centre: 127 - 25 // 2 * 8 = 31; last: 31 + 24 * 8 = 223; middle: the image centre
    assert centers[0, 0, 0, 0] == 31 and centers[1, 0, 0, 0] == 31
    assert centers[0, 0, 0, 24] == 223 and centers[1, 0, 24, 0] == 223
    assert centers[0, 3, 12, 12] == 127
    # anchor 0 is 104 x 32, so its corners are the centre -/+ (52, 16)
    np.testing.assert_array_equal(corners[:, 0, 0, 0], [31 - 52, 31 - 16, 31 + 52, 31 + 16])
    assert a.generate_all_anchors(im_c=127, size=25) is False  # cached
    assert a.generate_all_anchors(im_c=127, size=17) is True


def test_tracking_grid_order_matches_training_grid():
    # Row a*S*S + i*S + j of the tracking grid is the same anchor as all_anchors[:, a, i, j] laid
    # around centre 0: both are PySOT's conventions for the same RPN output order.
    s = 25
    grid = generate_anchor_grid(8, RATIOS, [8], s)
    assert grid.shape == (5 * s * s, 4) and grid.dtype == np.float32
    a = Anchors(8, RATIOS, [8])
    a.generate_all_anchors(im_c=0, size=s)
    np.testing.assert_array_equal(grid, a.all_anchors[1].reshape(4, -1).T)
    # explicit: row 1 is anchor 0 at (i=0, j=1): cx = (1 - 12) * 8 = -88, cy = -96
    np.testing.assert_array_equal(grid[1], [-88, -96, 104, 32])


def test_corner_center_roundtrip_namedtuples_and_arrays():
    c = corner2center(Corner(1, 2, 5, 10))
    assert isinstance(c, Center) and c == Center(3.0, 6.0, 4, 8)
    assert center2corner(c) == Corner(1.0, 2.0, 5.0, 10.0)
    arr = np.array([[0.0, 2.0], [0.0, 2.0], [4.0, 6.0], [2.0, 8.0]])
    cx, cy, w, h = corner2center(arr)
    np.testing.assert_array_equal(cx, [2, 4])
    np.testing.assert_array_equal(h, [2, 6])
    np.testing.assert_array_equal(np.array(center2corner(np.array([cx, cy, w, h]))), arr)


def test_iou_hand_values():
    # two 2x2 boxes overlapping in a 1x2 strip: 2 / (4 + 4 - 2) = 1/3
    assert IoU([0, 0, 2, 2], [1, 0, 3, 2]) == pytest.approx(1 / 3)
    assert IoU([0, 0, 2, 2], [5, 5, 6, 6]) == 0
    assert IoU([0, 0, 2, 2], [0, 0, 2, 2]) == 1


def test_rect_conversions():
    np.testing.assert_array_equal(cxy_wh_2_rect([10, 20], [4, 6]), [8, 17, 4, 6])
    pos, sz = rect_2_cxy_wh([8, 17, 4, 6])
    np.testing.assert_array_equal(pos, [10, 20])
    np.testing.assert_array_equal(sz, [4, 6])


def test_axis_aligned_bbox_polygon_like_pysot():
    # diamond (0,5) (5,0) (10,5) (5,10): centre (5, 5); min-max box 10x10 (A2 = 100), polygon
    # A1 = |p1-p2| * |p2-p3| = sqrt(50) * sqrt(50) = 50 -> s = sqrt(0.5); w = h = 10 * s + 1
    cx, cy, w, h = get_axis_aligned_bbox([0, 5, 5, 0, 10, 5, 5, 10])
    assert (cx, cy) == (5.0, 5.0)
    assert w == pytest.approx(10 * np.sqrt(0.5) + 1) and h == w
    # an axis-aligned polygon gets +1 on both sides: rectangle x 2..12, y 3..7 -> 11 x 5, centre (7, 5)
    assert get_axis_aligned_bbox([2, 3, 12, 3, 12, 7, 2, 7]) == (7.0, 5.0, 11.0, 5.0)
    # a rect (x, y, w, h) keeps its size and has centre x + w/2
    assert get_axis_aligned_bbox([2, 3, 10, 4]) == (7.0, 5.0, 10.0, 4.0)
    with pytest.raises(ValueError, match="4 or 8"):
        get_axis_aligned_bbox([1, 2, 3])


def test_min_max_bbox():
    # centre is the corner mean, (0+4+4+0)/4 = 2 and (1+0+3+4)/4 = 2; size = max - min
    assert get_min_max_bbox([0, 1, 4, 0, 4, 3, 0, 4]) == (2.0, 2.0, 4.0, 4.0)
    assert get_min_max_bbox([1, 1, 4, 2]) == (3.0, 2.0, 4.0, 2.0)
