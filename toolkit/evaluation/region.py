"""VOT region overlap: a numba port of the VOT C library's rasterised polygon overlap.

PySOT computes every VOT overlap (accuracy, robustness runs, EAO, long-term F1) with
``toolkit/utils/region.pyx``, a Cython wrapper of ``compute_polygon_overlap`` from the VOT/TraX
``region.c`` (default flags, i.e. the non-legacy rasterisation). This module reproduces it bit for
bit without a compiled extension:

* A 4-value region ``[x, y, w, h]`` (0-based top-left corner) becomes the polygon
  ``(x, y), (x+w, y), (x+w, y+h), (x, y+h)`` (PySOT's wrapper, computed in double, stored as C
  ``float``), so it covers ``(w+1) x (h+1)`` pixels once rasterised; any other region of ``2k``
  values is the polygon ``(x1, y1), ..., (xk, yk)``; a 1-value region (a VOT code) has overlap NaN.
* Each polygon's bounding box is rounded outwards and intersected with the optional image bounds;
  both polygons are shifted to the union box, their vertices rounded half away from zero, and
  rows ``0 .. height-1`` are scan-filled with inclusive spans clipped to ``0 .. width-1``.
* overlap = |A and B| / |A or B| in pixels, as a C ``float``.

All coordinate arithmetic follows the C types (``float`` vertices and bounds, ``double``
interpolation, truncating ``int`` casts), e.g. ``[0, 0, 10, 10]`` vs ``[5, 5, 10, 10]`` gives
36 / (121 + 121 - 36) = 0.174757 (the continuous IoU would be 25 / 175 = 0.142857).

When the result is NaN (and when it is not):

* A 1-value region (a code) has no overlap: NaN. A region with a NaN value is treated the same
  way (a deviation: the C code would rasterise undefined coordinates; PySOT's long-term loader
  turns NaN ground truth into ``[0]``, so the results match). A region with an infinite value
  has overlap 0 with anything (the C code's result is undefined).
* Two regions that both cover no pixel (zero width or height, or entirely outside the bounds):
  the C library divides 0 by 0 and returns NaN, and PySOT's accuracy (a NaN-mean) then drops the
  frame. Here the value is the ``empty`` argument: 0 by default (an empty region overlaps nothing),
  ``NaN`` in the PySOT convention (:mod:`.ar`, :mod:`.eao` pass it so that PySOT's numbers are
  kept; :func:`empty_overlap_mask` finds those frames so that reports can count them).
* Every other overlap lies in [0, 1].

Bounded work: the C library allocates and scans one row per pixel row of the two regions' union
box, so without image bounds a coordinate near 1e9 exhausts memory. A union box taller than
:data:`MAX_RASTER_ROWS` rows is rasterised after scaling both regions (and the bounds) about its
top-left corner by ``MAX_RASTER_ROWS / height``: the overlap of the scaled regions (exact below
that height, a close approximation above it, where the C code would need gigabytes). Coordinates
beyond the C ``int`` range give 0 as on x86.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numba
import numpy as np

_FLT_MAX = np.float32(np.finfo(np.float32).max)
_INT_MIN = -2147483648
#: Union boxes taller than this many pixel rows are rasterised at a reduced scale (bounded memory
#: and time; 16384 rows is far beyond any image of a tracking benchmark).
MAX_RASTER_ROWS = 16384


@numba.njit(cache=True)
def _c_int(v: float) -> int:
    """C's ``(int)`` cast of a double (truncation); out-of-range and NaN give INT_MIN as on x86."""
    if v != v or v >= 2147483648.0 or v <= -2147483649.0:
        return _INT_MIN
    return int(v)


@numba.njit(cache=True)
def _c_round(v: np.float32) -> np.float32:
    """C's ``round()`` (half away from zero) of a float, stored back as float."""
    d = np.float64(v)
    if d >= 0.0:
        return np.float32(np.floor(d + 0.5))
    return np.float32(-np.floor(-d + 0.5))


@numba.njit(cache=True)
def _as_polygon(vals: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (float32 x, float32 y) of a region of ``n`` values (4 = rectangle)."""
    if n == 4:
        x, y, w, h = vals[0], vals[1], vals[2], vals[3]
        px = np.empty(4, np.float32)
        py = np.empty(4, np.float32)
        px[0], py[0] = np.float32(x), np.float32(y)
        px[1], py[1] = np.float32(x + w), np.float32(y)
        px[2], py[2] = np.float32(x + w), np.float32(y + h)
        px[3], py[3] = np.float32(x), np.float32(y + h)
        return px, py
    count = n // 2
    px = np.empty(count, np.float32)
    py = np.empty(count, np.float32)
    for i in range(count):
        px[i] = np.float32(vals[2 * i])
        py[i] = np.float32(vals[2 * i + 1])
    return px, py


@numba.njit(cache=True)
def _rounded_bounds(px: np.ndarray, py: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``bounds_intersection(bounds_round(compute_bounds(p)), bounds)`` as [top, bottom, left, right]."""
    top, bottom, left, right = _FLT_MAX, -_FLT_MAX, _FLT_MAX, -_FLT_MAX
    for i in range(px.shape[0]):  # the MIN/MAX macros, including their NaN behaviour
        top = top if top < py[i] else py[i]
        bottom = bottom if bottom > py[i] else py[i]
        left = left if left < px[i] else px[i]
        right = right if right > px[i] else px[i]
    top = np.float32(np.floor(np.float64(top)))
    bottom = np.float32(np.ceil(np.float64(bottom)))
    left = np.float32(np.floor(np.float64(left)))
    right = np.float32(np.ceil(np.float64(right)))
    out = np.empty(4, np.float32)
    out[0] = top if top > bounds[0] else bounds[0]
    out[1] = bottom if bottom < bounds[1] else bounds[1]
    out[2] = left if left > bounds[2] else bounds[2]
    out[3] = right if right < bounds[3] else bounds[3]
    return out


@numba.njit(cache=True)
def _edge_nodes(px, py, height, nodes, n_nodes):
    """The scan-line nodes of ``rasterize_polygon`` for rows ``0 .. height-1``, edge by edge.

    Row ``y`` gets a node from edge (i, j = i - 1) when the truncated vertex rows satisfy region.c's
    test (``y`` within ``[min(yi, yj), max(yi, yj)]``, or ``yi == yj == y``) and the edge is not
    horizontal; the node is ``(int)(x_i + (y - y_i) / (y_j - y_i) * (x_j - x_i))``. Writes
    ``nodes[y, :n_nodes[y]]`` (unsorted)."""
    count = px.shape[0]
    j = count - 1
    for i in range(count):
        yi = _c_int(np.float64(py[i]))
        yj = _c_int(np.float64(py[j]))
        r = np.float64(py[j] - py[i])
        k = np.float64(px[j] - px[i])
        if r != 0:
            lo = yi if yi < yj else yj
            hi = yj if yi < yj else yi
            if lo < 0:
                lo = 0
            if hi > height - 1:
                hi = height - 1
            xi = np.float64(px[i])
            for pixel_y in range(lo, hi + 1):
                dy = np.float64(np.float32(pixel_y) - py[i])
                nodes[pixel_y, n_nodes[pixel_y]] = _c_int(xi + dy / r * k)
                n_nodes[pixel_y] += 1
        j = i


@numba.njit(cache=True)
def _row_spans(nodes, n_nodes, width, starts, ends):
    """Inclusive pixel spans of one row from its nodes (sorted, then region.c's fill loop), merged
    so that they are sorted and disjoint; returns their number (written to ``starts``/``ends``)."""
    for a in range(1, n_nodes):  # insertion sort: the order of the C bubble sort
        v = nodes[a]
        b = a - 1
        while b >= 0 and nodes[b] > v:
            nodes[b + 1] = nodes[b]
            b -= 1
        nodes[b + 1] = v
    n_spans = 0
    i = 0
    while i < n_nodes - 1:
        if nodes[i] == nodes[i + 1]:
            i += 1
            continue
        if nodes[i] >= width:
            break
        if nodes[i + 1] >= 0:
            if nodes[i] < 0:
                nodes[i] = 0
            if nodes[i + 1] >= width:
                nodes[i + 1] = width - 1
            s, e = nodes[i], nodes[i + 1]
            if n_spans > 0 and s <= ends[n_spans - 1] + 1:
                if e > ends[n_spans - 1]:
                    ends[n_spans - 1] = e
                if s < starts[n_spans - 1]:
                    starts[n_spans - 1] = s
            else:
                starts[n_spans] = s
                ends[n_spans] = e
                n_spans += 1
        i += 2
    return n_spans


@numba.njit(cache=True)
def _span_stats(s1, e1, n1, s2, e2, n2):
    """(|A|, |B|, |A and B|) of two sorted disjoint inclusive span lists."""
    len1 = 0
    for a in range(n1):
        len1 += e1[a] - s1[a] + 1
    len2 = 0
    for b in range(n2):
        len2 += e2[b] - s2[b] + 1
    inter = 0
    a = 0
    b = 0
    while a < n1 and b < n2:
        lo = s1[a] if s1[a] > s2[b] else s2[b]
        hi = e1[a] if e1[a] < e2[b] else e2[b]
        if hi >= lo:
            inter += hi - lo + 1
        if e1[a] < e2[b]:
            a += 1
        else:
            b += 1
    return len1, len2, inter


@numba.njit(cache=True, error_model="numpy")
def _union_box(px1, py1, px2, py2, bounds):
    """(x, y, width, height) of the union of both regions' rounded, bounded boxes (region.c)."""
    b1 = _rounded_bounds(px1, py1, bounds)
    b2 = _rounded_bounds(px2, py2, bounds)
    x = b1[2] if b1[2] < b2[2] else b2[2]
    y = b1[0] if b1[0] < b2[0] else b2[0]
    right = b1[3] if b1[3] > b2[3] else b2[3]
    bottom = b1[1] if b1[1] > b2[1] else b2[1]
    return x, y, _c_int(np.float64(right - x)) + 1, _c_int(np.float64(bottom - y)) + 1


@numba.njit(cache=True, error_model="numpy")
def _polygon_overlap(px1, py1, px2, py2, bounds, empty) -> np.float32:
    """``compute_polygon_overlap`` of region.c (non-legacy rasterisation); ``empty`` when neither
    region covers a pixel (C: 0 / 0). A union box of more than ``MAX_RASTER_ROWS`` rows is scaled
    down about its top-left corner first (bounded work)."""
    x, y, width, height = _union_box(px1, py1, px2, py2, bounds)
    if height > MAX_RASTER_ROWS:
        scale = np.float64(MAX_RASTER_ROWS) / np.float64(height)
        px1 = ((px1.astype(np.float64) - x) * scale).astype(np.float32)
        py1 = ((py1.astype(np.float64) - y) * scale).astype(np.float32)
        px2 = ((px2.astype(np.float64) - x) * scale).astype(np.float32)
        py2 = ((py2.astype(np.float64) - y) * scale).astype(np.float32)
        scaled = np.empty(4, np.float32)
        scaled[0] = np.float32((np.float64(bounds[0]) - y) * scale)
        scaled[1] = np.float32((np.float64(bounds[1]) - y) * scale)
        scaled[2] = np.float32((np.float64(bounds[2]) - x) * scale)
        scaled[3] = np.float32((np.float64(bounds[3]) - x) * scale)
        return _raster_overlap(px1, py1, px2, py2, scaled, empty)
    return _raster_overlap(px1, py1, px2, py2, bounds, empty)


@numba.njit(cache=True, error_model="numpy")
def _raster_overlap(px1, py1, px2, py2, bounds, empty) -> np.float32:
    """The body of ``compute_polygon_overlap`` (see :func:`_polygon_overlap`)."""
    b1 = _rounded_bounds(px1, py1, bounds)
    b2 = _rounded_bounds(px2, py2, bounds)
    x, y, width, height = _union_box(px1, py1, px2, py2, bounds)
    a1 = np.float64((b1[3] - b1[2]) * (b1[1] - b1[0]))
    a2 = np.float64((b2[3] - b2[2]) * (b2[1] - b2[0]))
    if a1 / a2 < 1e-10 or a2 / a1 < 1e-10 or width < 1 or height < 1:
        return np.float32(0.0)
    # bounds_overlap(b1, b2) == 0
    itop = b1[0] if b1[0] > b2[0] else b2[0]
    ibottom = b1[1] if b1[1] < b2[1] else b2[1]
    ileft = b1[2] if b1[2] > b2[2] else b2[2]
    iright = b1[3] if b1[3] < b2[3] else b2[3]
    inter_box = (iright - ileft) * (ibottom - itop)
    denom = ((b1[3] - b1[2]) * (b1[1] - b1[0])) + ((b2[3] - b2[2]) * (b2[1] - b2[0])) - inter_box
    q = inter_box / denom
    if q < 0 or q == 0:
        return np.float32(0.0)
    # offset_polygon(p, -x, -y) then round_polygon
    nx, ny = -x, -y
    ox1 = np.empty(px1.shape[0], np.float32)
    oy1 = np.empty(px1.shape[0], np.float32)
    for i in range(px1.shape[0]):
        ox1[i] = _c_round(px1[i] + nx)
        oy1[i] = _c_round(py1[i] + ny)
    ox2 = np.empty(px2.shape[0], np.float32)
    oy2 = np.empty(px2.shape[0], np.float32)
    for i in range(px2.shape[0]):
        ox2[i] = _c_round(px2[i] + nx)
        oy2[i] = _c_round(py2[i] + ny)
    nodes1 = np.empty((height, ox1.shape[0]), np.int64)
    nodes2 = np.empty((height, ox2.shape[0]), np.int64)
    count1 = np.zeros(height, np.int64)
    count2 = np.zeros(height, np.int64)
    _edge_nodes(ox1, oy1, height, nodes1, count1)
    _edge_nodes(ox2, oy2, height, nodes2, count2)
    s1 = np.empty(ox1.shape[0] + 1, np.int64)
    e1 = np.empty(ox1.shape[0] + 1, np.int64)
    s2 = np.empty(ox2.shape[0] + 1, np.int64)
    e2 = np.empty(ox2.shape[0] + 1, np.int64)
    only1 = 0
    only2 = 0
    both = 0
    for pixel_y in range(height):
        if count1[pixel_y] < 2 and count2[pixel_y] < 2:
            continue
        n1 = _row_spans(nodes1[pixel_y], count1[pixel_y], width, s1, e1)
        n2 = _row_spans(nodes2[pixel_y], count2[pixel_y], width, s2, e2)
        len1, len2, inter = _span_stats(s1, e1, n1, s2, e2, n2)
        both += inter
        only1 += len1 - inter
        only2 += len2 - inter
    if only1 + only2 + both == 0:
        return np.float32(empty)
    return np.float32(both) / np.float32(only1 + only2 + both)


@numba.njit(cache=True)
def _finite(vals: np.ndarray, n: int) -> bool:
    for k in range(n):
        if not np.isfinite(vals[k]):
            return False
    return True


@numba.njit(cache=True, error_model="numpy")
def _overlap_rows(vals1, counts1, vals2, counts2, bounds, empty) -> np.ndarray:
    """Overlap of row i of ``vals1`` (``counts1[i]`` values) with row i of ``vals2``; NaN for codes,
    ``empty`` where neither region covers a pixel."""
    n = vals1.shape[0]
    out = np.empty(n, np.float64)
    for i in range(n):
        if counts1[i] == 1 or counts2[i] == 1:
            out[i] = np.nan
            continue
        if not (_finite(vals1[i], counts1[i]) and _finite(vals2[i], counts2[i])):
            out[i] = 0.0  # an infinite coordinate: no pixel can be rasterised
            continue
        px1, py1 = _as_polygon(vals1[i], counts1[i])
        px2, py2 = _as_polygon(vals2[i], counts2[i])
        out[i] = np.float64(_polygon_overlap(px1, py1, px2, py2, bounds, empty))
    return out


def _bounds_array(bounds: Sequence[float] | None) -> np.ndarray:
    """PySOT's bounds: ``(width, height)`` -> top 0, bottom h, left 0, right w; 4 values are
    ``(top, bottom, left, right)`` as its ``RegionBounds``; ``None`` is unbounded."""
    if bounds is None:
        return np.array([-np.inf, np.inf, -np.inf, np.inf], np.float32)
    if len(bounds) == 2:
        return np.array([0.0, bounds[1], 0.0, bounds[0]], np.float32)
    if len(bounds) == 4:
        return np.array(bounds, np.float32)
    raise ValueError(f"bounds must be (width, height) or (top, bottom, left, right), got {bounds!r}")


class PackedRegions(NamedTuple):
    """Regions of varying length for the numba kernels: ``values`` ``(N, K)`` float64 (zero-padded)
    and ``counts`` ``(N,)`` int64, the number of values of each region (1 = a code)."""

    values: np.ndarray
    counts: np.ndarray


def pack_regions(regions: Sequence[Sequence[float]] | np.ndarray | PackedRegions) -> PackedRegions:
    """Pack regions (a list of value lists, or an ``(N, K)`` array); packed input is returned as is.

    A row with a NaN value counts as a 1-value code (overlap NaN).
    """
    if isinstance(regions, PackedRegions):
        return regions
    if isinstance(regions, np.ndarray) and regions.ndim == 2:
        vals = np.array(regions, np.float64)
        counts = np.full(len(vals), vals.shape[1], np.int64)
    else:
        n = len(regions)
        counts = np.fromiter(map(len, regions), np.int64, n)
        vals = np.zeros((n, max(int(counts.max(initial=1)), 1)), np.float64)
        for length in np.unique(counts):
            rows = np.flatnonzero(counts == length)
            if length > 0:
                vals[rows, :length] = np.array([regions[i] for i in rows], np.float64)
    counts[np.isnan(vals).any(axis=1)] = 1
    return PackedRegions(vals, counts)


def vot_overlap(
    polygon1: Sequence[float],
    polygon2: Sequence[float],
    bounds: Sequence[float] | None = None,
    empty: float = 0.0,
) -> float:
    """Rasterised overlap of two regions (see the module docstring), as PySOT's ``vot_overlap``.

    Args:
        polygon1, polygon2: ``[x, y, w, h]`` (0-based top-left), a polygon ``[x1, y1, ..., xk, yk]``,
            or a 1-value code (-> NaN; so is a region with a NaN value; an inf value gives 0).
        bounds: ``(width, height)`` of the image, ``(top, bottom, left, right)``, or ``None``.
        empty: the value when neither region covers a pixel (0; the C library and PySOT: NaN).

    Returns:
        A value in [0, 1], or NaN for a code (or ``empty`` if that is NaN).
    """
    a = pack_regions([list(polygon1)])
    b = pack_regions([list(polygon2)])
    return float(_overlap_rows(a.values, a.counts, b.values, b.counts, _bounds_array(bounds), empty)[0])


def vot_overlap_traj(
    polygons1: Sequence[Sequence[float]] | np.ndarray | PackedRegions,
    polygons2: Sequence[Sequence[float]] | np.ndarray | PackedRegions,
    bounds: Sequence[float] | None = None,
    empty: float = 0.0,
) -> np.ndarray:
    """Frame-wise ``vot_overlap`` of two trajectories of equal length, as ``(N,)`` float64
    (values are C floats; NaN where either region is a 1-value code, ``empty`` where neither
    region covers a pixel). Either trajectory may be given packed (:func:`pack_regions`) to
    evaluate it several times."""
    a = pack_regions(polygons1)
    b = pack_regions(polygons2)
    if len(a.counts) != len(b.counts):
        raise ValueError(f"trajectories differ in length: {len(a.counts)} vs {len(b.counts)}")
    return _overlap_rows(a.values, a.counts, b.values, b.counts, _bounds_array(bounds), empty)


def empty_overlap_mask(
    polygons1: Sequence[Sequence[float]] | np.ndarray | PackedRegions,
    polygons2: Sequence[Sequence[float]] | np.ndarray | PackedRegions,
    bounds: Sequence[float] | None = None,
) -> np.ndarray:
    """``(N,)`` bool: frames where two regions (no code) both cover no pixel, the frames whose
    overlap is NaN in the PySOT convention (``empty=nan``; PySOT's accuracy drops them)."""
    a = pack_regions(polygons1)
    b = pack_regions(polygons2)
    probe = _overlap_rows(a.values, a.counts, b.values, b.counts, _bounds_array(bounds), -1.0)
    return probe == -1.0

