"""Box conversions under PySOT's names (``pysot/utils/bbox.py``); they live in :mod:`toolkit.boxes`.

Conventions (see :mod:`toolkit.boxes` for each function's): ``Corner`` is (x1, y1, x2, y2);
``Center`` is (cx, cy, w, h) with ``cx = (x1 + x2) / 2`` and ``w = x2 - x1``. A "rect" is
(x, y, w, h) with a 0-based top-left corner. Arrays are converted component-wise, so
``corner2center`` also accepts a stack ``(4, ...)`` of coordinate arrays. ``IoU`` (anchor
matching in training) is defined here.
"""

from __future__ import annotations

import numpy as np

from toolkit.boxes import (
    Center,
    Corner,
    center2corner,
    corner2center,
    cxy_wh_2_rect,
    get_axis_aligned_bbox,
    get_min_max_bbox,
    rect_2_cxy_wh,
)

# PySOT's alias for Corner.
BBox = Corner

__all__ = [
    "BBox",
    "Center",
    "Corner",
    "IoU",
    "center2corner",
    "corner2center",
    "cxy_wh_2_rect",
    "get_axis_aligned_bbox",
    "get_min_max_bbox",
    "rect_2_cxy_wh",
]


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
