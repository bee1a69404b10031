"""Box and region conventions of PySOT and the VOT toolkit: the one home of every conversion.

PySOT's published numbers depend on these exact formulas (half-pixel offsets, inclusive corners,
float32 formatting), so every module that converts a box calls this one: the dataset loaders, the
protocols (init boxes, VOT polygons), the result writers, the metrics, the TraX entry and the
tracker (``pysot.utils.bbox`` re-exports the PySOT-named ones).

Names used throughout:

* **rect** ``[x, y, w, h]``: ``(x, y)`` is the 0-based top-left corner, ``w``/``h`` the size.
* **corner** ``(x1, y1, x2, y2)`` and **center** ``(cx, cy, w, h)`` with ``cx = (x1 + x2) / 2`` and
  ``w = x2 - x1`` (continuous coordinates; anchors and training targets).
* **cxy_wh** a centre ``(cx, cy)`` and a size ``(w, h)`` with ``cx = x + w / 2``.
* **polygon** ``[x1, y1, ..., xk, yk]`` (VOT ground truth: 4 corners, 8 values).
* **region** a ground-truth row: a rect (4 values) or a polygon (8 values).

The VOT overlap kernel (:mod:`toolkit.evaluation.region`) turns a rect into the polygon of
:func:`rect_to_polygon` itself, in float32, inside numba.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import numpy as np

Corner = namedtuple("Corner", "x1 y1 x2 y2")
Center = namedtuple("Center", "x y w h")


# ------------------------------------------------------------------------- corner / center / cxy_wh
def corner2center(corner):
    """(x1, y1, x2, y2) -> (cx, cy, w, h) with ``cx = (x1 + x2) / 2``, ``w = x2 - x1`` (PySOT).

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
    """(cx, cy, w, h) -> (x1, y1, x2, y2) = (cx - w/2, cy - h/2, cx + w/2, cy + h/2) (PySOT);
    ``Center`` gives ``Corner``, otherwise a 4-tuple."""
    if isinstance(center, Center):
        x, y, w, h = center
        return Corner(x - w * 0.5, y - h * 0.5, x + w * 0.5, y + h * 0.5)
    x, y, w, h = center[0], center[1], center[2], center[3]
    return x - w * 0.5, y - h * 0.5, x + w * 0.5, y + h * 0.5


def cxy_wh_2_rect(pos: Sequence[float], sz: Sequence[float]) -> np.ndarray:
    """Centre ``pos`` (cx, cy) and size ``sz`` (w, h) -> rect ``[cx - w/2, cy - h/2, w, h]``.

    This is how the tracker reports its state (a box whose centre is exactly ``pos``)."""
    return np.array([pos[0] - sz[0] / 2, pos[1] - sz[1] / 2, sz[0], sz[1]])


def rect_2_cxy_wh(rect: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Rect ``[x, y, w, h]`` -> (centre ``[x + w/2, y + h/2]``, size ``[w, h]``); inverse of
    :func:`cxy_wh_2_rect`."""
    return np.array([rect[0] + rect[2] / 2, rect[1] + rect[3] / 2]), np.array([rect[2], rect[3]])


def pixel_center(rect: Sequence[float] | np.ndarray) -> np.ndarray:
    """PySOT's centre of a rect: ``[x + (w - 1)/2, y + (h - 1)/2]`` (the tracker's init centre, and
    the centres of OPE's precision); ``(N, 4)`` rects give ``(N, 2)`` centres.

    Pixel convention: a box of ``w`` pixels starting at pixel ``x`` has its last pixel at
    ``x + w - 1``, so its centre is ``x + (w - 1)/2`` (not :func:`rect_2_cxy_wh`'s ``x + w/2``).
    With :func:`init_box` this gives back the region's centre: the "+0.5" of the init box and the
    "-1/2" here cancel.
    """
    rect = np.asarray(rect)
    return np.stack([rect[..., 0] + (rect[..., 2] - 1) / 2, rect[..., 1] + (rect[..., 3] - 1) / 2], axis=-1)


# ------------------------------------------------------------------------- regions
def get_axis_aligned_bbox(region: Sequence[float] | np.ndarray) -> tuple[float, float, float, float]:
    """Ground-truth region -> (cx, cy, w, h), exactly as PySOT derives the init box.

    ``region`` is an 8-value polygon (x1, y1, ..., x4, y4) or a 4-value rect (x, y, w, h).
    Polygon (area preserving): the centre is the mean of the corners; the min-max box is scaled by
    ``s = sqrt(A1 / A2)`` where ``A1 = |p1 - p2| * |p2 - p3|`` (the polygon's area for a rectangle)
    and ``A2`` the min-max box area, then 1 is added to w and h (PySOT's pixel convention).
    Rect: centre ``x + w/2``, size unchanged. PySOT's tools then start tracking from
    :func:`init_box`.
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


def init_box(region: Sequence[float] | np.ndarray, integer: bool = False) -> list[float]:
    """PySOT's init box ``[cx - (w-1)/2, cy - (h-1)/2, w, h]`` of a ground-truth region, with
    ``(cx, cy, w, h) = get_axis_aligned_bbox(region)``.

    For a rect this is ``[x + 0.5, y + 0.5, w, h]`` (PySOT's half-pixel shift: the tracker's
    :func:`pixel_center` of it is the rect's centre ``x + w/2``). With ``integer`` (integer
    annotations) and a 4-value region, ``w`` and ``h`` are Python ints, so the written line matches
    PySOT's byte for byte (``5`` not ``5.0``).
    """
    cx, cy, w, h = get_axis_aligned_bbox(region)
    if integer and np.asarray(region).size == 4:
        w, h = int(w), int(h)
    return [cx - (w - 1) / 2, cy - (h - 1) / 2, w, h]


def rect_to_polygon(rect: Sequence[float] | np.ndarray) -> np.ndarray:
    """Rect -> 8-value polygon of its corners (x, y), (x+w, y), (x+w, y+h), (x, y+h), float64
    (the VOT toolkit's conversion; also how PySOT's region overlap reads a 4-value region)."""
    x, y, w, h = rect
    return np.array([x, y, x + w, y, x + w, y + h, x, y + h], dtype=np.float64)


def inclusive_polygon(region: Sequence[float] | np.ndarray) -> np.ndarray:
    """PySOT's VOT loop: a 4-value rect becomes the polygon of its inclusive pixel corners
    (x, y), (x, y+h-1), (x+w-1, y+h-1), (x+w-1, y); any other region is returned unchanged."""
    region = np.asarray(region)
    if region.size != 4:
        return region
    x, y, w, h = region
    return np.array([x, y, x, y + h - 1, x + w - 1, y + h - 1, x + w - 1, y])


def vot_init_box(region: Sequence[float] | np.ndarray) -> list[float]:
    """The init box of PySOT's VOT loop (and of the TraX entry): :func:`init_box` of
    :func:`inclusive_polygon` (for a rect that is the rect itself up to rounding)."""
    return init_box(inclusive_polygon(np.asarray(region, dtype=np.float64).reshape(-1)))


def bounding_rect(region: Sequence[float] | np.ndarray) -> np.ndarray:
    """Min-max rect ``[x_min, y_min, x_max - x_min, y_max - y_min]`` of a region, float64 (a 4-value
    rect is returned as a copy)."""
    region = np.asarray(region, dtype=np.float64)
    if region.size == 4:
        return region.copy()
    xs, ys = region[0::2], region[1::2]
    return np.array([xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()])


# ------------------------------------------------------------------------- formatting
def vot_float2str(template: str, value: float) -> str:
    """``sprintf(template, (float) value)``: the value rounded to a C ``float`` first, as PySOT and
    the VOT toolkit format regions (``'%.4f'`` in result files): 1.00005 -> ``'1.0000'``."""
    return template % float(np.float32(value))
