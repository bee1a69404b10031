"""Box conversions, as in PySOT's ``pysot/utils/bbox.py`` (same formulas, same conventions).

Conventions: ``Corner`` is (x1, y1, x2, y2); ``Center`` is (cx, cy, w, h) with ``cx = (x1 + x2) / 2``
and ``w = x2 - x1``. A "rect" is (x, y, w, h) with a 0-based top-left corner unless the name ends
in ``1`` (1-based). Arrays are converted component-wise, so ``corner2center`` also accepts a stack
``(4, ...)`` of coordinate arrays.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import numpy as np

Corner = namedtuple("Corner", "x1 y1 x2 y2")
# PySOT's alias for Corner.
BBox = Corner
Center = namedtuple("Center", "x y w h")


def corner2center(corner):
    """(x1, y1, x2, y2) -> (cx, cy, w, h).

    Args:
        corner: a ``Corner`` (gives a ``Center``) or anything indexable by 0..3 whose items are
            scalars or arrays (gives a tuple of four items of the same kind).
    """
    if isinstance(corner, Corner):
        x1, y1, x2, y2 = corner
        return Center((x1 + x2) * 0.5, (y1 + y2) * 0.5, (x2 - x1), (y2 - y1))
    x1, y1, x2, y2 = corner[0], corner[1], corner[2], corner[3]
    return (x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1


def center2corner(center):
    """(cx, cy, w, h) -> (x1, y1, x2, y2); ``Center`` gives ``Corner``, otherwise a 4-tuple."""
    if isinstance(center, Center):
        x, y, w, h = center
        return Corner(x - w * 0.5, y - h * 0.5, x + w * 0.5, y + h * 0.5)
    x, y, w, h = center[0], center[1], center[2], center[3]
    return x - w * 0.5, y - h * 0.5, x + w * 0.5, y + h * 0.5


def IoU(rect1, rect2):  # noqa: N802 - PySOT's name
    """Intersection over union of corner boxes (x1, y1, x2, y2); items may be arrays (broadcast).

    Continuous coordinates: a box's area is ``(x2 - x1) * (y2 - y1)`` (no +1).
    """
    x1, y1, x2, y2 = rect1[0], rect1[1], rect1[2], rect1[3]
    tx1, ty1, tx2, ty2 = rect2[0], rect2[1], rect2[2], rect2[3]
    ww = np.maximum(0, np.minimum(tx2, x2) - np.maximum(tx1, x1))
    hh = np.maximum(0, np.minimum(ty2, y2) - np.maximum(ty1, y1))
    area = (x2 - x1) * (y2 - y1)
    target_a = (tx2 - tx1) * (ty2 - ty1)
    inter = ww * hh
    return inter / (area + target_a - inter)


def cxy_wh_2_rect(pos: Sequence[float], sz: Sequence[float]) -> np.ndarray:
    """Centre ``pos`` (cx, cy) and size ``sz`` (w, h) -> 0-based rect [x, y, w, h] = [cx - w/2, ...]."""
    return np.array([pos[0] - sz[0] / 2, pos[1] - sz[1] / 2, sz[0], sz[1]])


def rect_2_cxy_wh(rect: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """0-based rect [x, y, w, h] -> (centre [x + w/2, y + h/2], size [w, h])."""
    return np.array([rect[0] + rect[2] / 2, rect[1] + rect[3] / 2]), np.array([rect[2], rect[3]])


def cxy_wh_2_rect1(pos: Sequence[float], sz: Sequence[float]) -> np.ndarray:
    """Centre and size -> 1-based rect [cx - w/2 + 1, cy - h/2 + 1, w, h]."""
    return np.array([pos[0] - sz[0] / 2 + 1, pos[1] - sz[1] / 2 + 1, sz[0], sz[1]])


def rect1_2_cxy_wh(rect: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """1-based rect -> (centre [x + w/2 - 1, y + h/2 - 1], size [w, h])."""
    return np.array([rect[0] + rect[2] / 2 - 1, rect[1] + rect[3] / 2 - 1]), np.array([rect[2], rect[3]])


def get_axis_aligned_bbox(region: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """Ground-truth region -> (cx, cy, w, h), exactly as PySOT derives the init box.

    ``region`` is an 8-value polygon (x1, y1, ..., x4, y4) or a 4-value rect (x, y, w, h).
    Polygon: the centre is the mean of the corners; the min-max box is scaled by
    ``s = sqrt(A1 / A2)`` where ``A1 = |p1 - p2| * |p2 - p3|`` (the polygon's area for a rectangle)
    and ``A2`` the min-max box area, then 1 is added to w and h (PySOT's pixel convention).
    Rect: centre ``x + w/2``, size unchanged. PySOT's tools then start tracking from
    ``[cx - (w - 1)/2, cy - (h - 1)/2, w, h]``.
    """
    region = np.asarray(region, dtype=np.float64).reshape(-1)
    if region.size == 8:
        xs, ys = region[0::2], region[1::2]
        cx, cy = np.mean(xs), np.mean(ys)
        x1, x2, y1, y2 = xs.min(), xs.max(), ys.min(), ys.max()
        a1 = np.linalg.norm(region[0:2] - region[2:4]) * np.linalg.norm(region[2:4] - region[4:6])
        a2 = (x2 - x1) * (y2 - y1)
        s = np.sqrt(a1 / a2)
        w = s * (x2 - x1) + 1
        h = s * (y2 - y1) + 1
        return float(cx), float(cy), float(w), float(h)
    if region.size != 4:
        raise ValueError(f"region must have 4 or 8 values, got {region.size}")
    x, y, w, h = region
    return float(x + w / 2), float(y + h / 2), float(w), float(h)


def get_min_max_bbox(region: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """Ground-truth region -> (cx, cy, w, h) of its min-max box (PySOT).

    Polygon (8 values): centre = mean of the corners (not the box centre), w/h = max - min.
    Rect (4 values): centre ``x + w/2``.
    """
    region = np.asarray(region, dtype=np.float64).reshape(-1)
    if region.size == 8:
        xs, ys = region[0::2], region[1::2]
        return float(np.mean(xs)), float(np.mean(ys)), float(xs.max() - xs.min()), float(ys.max() - ys.min())
    if region.size != 4:
        raise ValueError(f"region must have 4 or 8 values, got {region.size}")
    x, y, w, h = region
    return float(x + w / 2), float(y + h / 2), float(w), float(h)
