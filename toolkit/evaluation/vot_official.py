"""The official VOT toolkit convention for supervised (baseline, reset-based) experiments.

Reproduces the numbers of vot-toolkit 0.7.4 (``vot.analysis.supervised``): ``supervised_average_ar``
(accuracy, robustness and the AR-plot point) and ``supervised_eao_curve`` / ``supervised_eao_score``
(expected average overlap), with the region overlap of ``vot.region.raster``. This is what
``tools/eval.py --protocol vot`` reports; PySOT's own convention (the default) lives in ``ar.py`` and
``eao.py``. ``docs/vot_conventions.md`` lists every difference between the two.

Inputs are what PySOT result files hold once parsed:

- a *region* is a sequence of floats: one value (or a bare number) is a VOT code (1 =
  initialisation, 2 = failure, 0 = skipped frame); four values are an ``x, y, w, h`` rectangle
  (0-based top-left corner, size in pixels); six or more (an even number) are polygon corners
  ``x1, y1, x2, y2, ...``. Any NaN makes the region empty, as the toolkit's parser does (and so,
  here, does an inf).
- a *trajectory* is one region per frame of a sequence; a sequence has one trajectory per
  repetition (PySOT's ``<video>_001.txt``, ``_002.txt``, ...).
- ground truth is one region per frame (rectangles or polygons), image sizes are ``(width, height)``.

Rasterisation (vot.region.raster): coordinates are cast to float32 and rounded half-to-even; a
rectangle covers pixels ``x .. x+w-1`` by ``y .. y+h-1`` (w x h pixels); a polygon is filled by a
scan-line over pixel rows with both end nodes included; both masks are clipped to the image.
"""

from __future__ import annotations

import math
from typing import Dict, List, Mapping, Sequence, Tuple

import numba
import numpy as np

from toolkit import rules

__all__ = [
    "CODE_FAILURE",
    "CODE_INIT",
    "CODE_UNKNOWN",
    "OFFICIAL_EAO_INTERVALS",
    "evaluate_supervised",
    "official_eao_interval",
    "region_overlap",
    "sequence_accuracy",
    "supervised_average_ar",
    "supervised_eao_curve",
    "supervised_eao_score",
    "trajectory_overlaps",
]

# the trajectory codes of toolkit.rules (the toolkit's "unknown" is PySOT's skipped frame)
CODE_UNKNOWN = rules.CODE_SKIP
CODE_INIT = rules.CODE_INIT
CODE_FAILURE = rules.CODE_FAILURE

# (low, high) of supervised_eao_score in the toolkit's stacks; the score averages curve[low..high]
# (the ``official_eao_interval`` of each edition in toolkit.rules.RULES).
OFFICIAL_EAO_INTERVALS: Dict[str, Tuple[int, int]] = rules.official_eao_intervals()
_BURNIN, _SENSITIVITY = rules.VOT_RULES.burnin, rules.VOT_RULES.sensitivity
_VOT2018_INTERVAL = rules.RULES["VOT2018"].official_eao_interval

_EMPTY = 0
_RECTANGLE = 1
_POLYGON = 2

Region = Sequence[float]
Trajectory = Sequence[Region]


def official_eao_interval(dataset_name: str) -> Tuple[int, int]:
    """The ``(low, high)`` EAO interval of the official stack for ``dataset_name`` (e.g. ``VOT2018``)."""
    try:
        return rules.official_eao_intervals()[dataset_name]
    except KeyError:
        known = ", ".join(sorted(rules.official_eao_intervals()))
        raise KeyError(f"no official EAO interval for dataset {dataset_name!r}; known: {known}") from None


def _encode_regions(regions: Sequence[Region],
                    where: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pack regions for the numba kernels.

    Returns ``(kinds, counts, coords, codes)``: region type per frame, number of points (polygons),
    float32 coordinates rounded half-to-even as ``(N, max(8, values))``, and the special code
    (-1 for shapes).
    """
    n = len(regions)
    if isinstance(regions, np.ndarray) and regions.ndim == 2:
        lengths = np.full(n, regions.shape[1], dtype=np.int64)
    else:
        lengths = np.fromiter((len(r) if hasattr(r, "__len__") else 1 for r in regions), dtype=np.int64,
                              count=n)
    width = max(8, int(lengths.max(initial=0)))
    kinds = np.zeros(n, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    codes = np.full(n, -1, dtype=np.int64)
    coords = np.zeros((n, width), dtype=np.float32)
    for size in np.unique(lengths).tolist():
        idx = np.flatnonzero(lengths == size)
        if size != 1 and (size < 4 or size == 5 or size % 2):
            raise ValueError(f"{where}, frame {idx[0] + 1}: a region has 1, 4 or an even number >= 6 of "
                             f"values, got {size}")
        if size == 1:  # a code, given as [c] or as a bare number
            codes[idx] = [int(r[0]) if hasattr(r, "__len__") else int(r) for r in (regions[i] for i in idx)]
            continue
        values = np.array([regions[i] for i in idx], dtype=np.float64).reshape(len(idx), size)
        # a region with a NaN is empty, as the toolkit parses it; so is one with an inf (the
        # toolkit's raster of an infinite coordinate is undefined)
        ok = np.isfinite(values).all(axis=1)
        idx, values = idx[ok], values[ok]
        coords[idx, :size] = np.round(values.astype(np.float32))
        kinds[idx] = _RECTANGLE if size == 4 else _POLYGON
        counts[idx] = 0 if size == 4 else size // 2
    return kinds, counts, coords, codes


@numba.njit(cache=True)
def _region_bounds(kind: int, count: int, c: np.ndarray) -> Tuple[int, int, int, int]:
    """Inclusive pixel bounds ``(left, top, right, bottom)``; an empty region is ``(0, 0, 0, 0)``."""
    if kind == _RECTANGLE:
        return (int(round(c[0])), int(round(c[1])), int(round(c[0] + c[2] - 1)), int(round(c[1] + c[3] - 1)))
    if kind == _POLYGON:
        left = c[0]
        right = c[0]
        top = c[1]
        bottom = c[1]
        for p in range(1, count):
            left = min(left, c[2 * p])
            right = max(right, c[2 * p])
            top = min(top, c[2 * p + 1])
            bottom = max(bottom, c[2 * p + 1])
        return (int(round(left)), int(round(top)), int(round(right)), int(round(bottom)))
    return (0, 0, 0, 0)


@numba.njit(cache=True)
def _rect_range(c: np.ndarray, x0: int, y0: int, width: int, height: int) -> Tuple[int, int, int, int]:
    """Window-relative inclusive ``(first row, last row, first col, last col)`` of a rectangle's pixels
    in the window of ``width x height`` pixels starting at ``(x0, y0)``; empty when first > last."""
    x = int(c[0])
    y = int(c[1])
    right = int(c[0] + c[2]) - 1
    bottom = int(c[1] + c[3]) - 1
    if x > x0 + width - 1 or right < x0 or y > y0 + height - 1 or bottom < y0:
        return (1, 0, 1, 0)
    # the toolkit clips the window-relative far edge at the absolute window edge; this only
    # matters for an unbounded overlap whose window starts at a negative coordinate
    return (max(0, y - y0), min(height - 1, y0 + height - 1, bottom - y0),
            max(0, x - x0), min(width - 1, x0 + width - 1, right - x0))


@numba.njit(cache=True)
def _scan_polygon(count: int, c: np.ndarray, x0: int, y0: int, width: int, height: int, mask: np.ndarray,
                  write: bool, r0: int, r1: int, c0: int, c1: int) -> Tuple[int, int]:
    """Scan-fill a polygon over the window (``vot.region.raster.rasterize_polygon``).

    Returns ``(pixels, pixels inside rows r0..r1 x cols c0..c1)`` (window-relative, inclusive) and,
    when ``write``, sets the pixels in ``mask`` ``(height, width)``.
    """
    xs = np.empty(count, dtype=np.float64)
    ys = np.empty(count, dtype=np.float64)
    for p in range(count):
        xs[p] = c[2 * p] - x0
        ys[p] = c[2 * p + 1] - y0
    nodes_x = np.zeros(count, dtype=np.int64)
    pixels = 0
    inside = 0
    for row in range(height):
        # crossings of the scan line with every edge (j -> i), end points included
        nodes = 0
        j = count - 1
        for i in range(count):
            yi = ys[i]
            yj = ys[j]
            crosses = ((yi <= row and yj > row) or (yj <= row and yi > row) or (yi < row and yj >= row)
                       or (yj < row and yi >= row) or (yi == yj and yi == row))
            if crosses:
                dy = yj - yi
                if dy != 0:
                    nodes_x[nodes] = int(xs[i] + (row - yi) / dy * (xs[j] - xs[i]))
                else:
                    nodes_x[nodes] = int(xs[i])
                nodes += 1
            j = i
        # insertion sort in place (a handful of nodes; no allocation per row)
        for k in range(1, nodes):
            value = nodes_x[k]
            m = k - 1
            while m >= 0 and nodes_x[m] > value:
                nodes_x[m + 1] = nodes_x[m]
                m -= 1
            nodes_x[m + 1] = value
        row_nodes = nodes_x
        in_rows = r0 <= row <= r1
        last = -1  # spans come in increasing order; count each pixel once
        i = 0
        while i < nodes - 1:
            if row_nodes[i] >= width:
                break
            # a vertex on the scan line gives two equal nodes: skip the first unless it is the last pair
            if row_nodes[i] == row_nodes[i + 1] and i < nodes - 2:
                i += 1
                continue
            if row_nodes[i + 1] >= 0:
                if row_nodes[i] < 0:
                    row_nodes[i] = 0
                if row_nodes[i + 1] >= width:
                    row_nodes[i + 1] = width - 1
                start = max(row_nodes[i], last + 1)
                end = row_nodes[i + 1]
                if start <= end:
                    pixels += end - start + 1
                    if in_rows:
                        inside += max(0, min(end, c1) - max(start, c0) + 1)
                    if write:
                        for col in range(start, end + 1):
                            mask[row, col] = 1
                    last = end
            i += 2
    return pixels, inside


@numba.njit(cache=True)
def _rasterize(kind: int, count: int, c: np.ndarray, x0: int, y0: int, width: int, height: int) -> np.ndarray:
    """Binary mask ``(height, width)`` of a region over the window starting at pixel ``(x0, y0)``."""
    mask = np.zeros((height, width), dtype=np.uint8)
    if kind == _RECTANGLE:
        r0, r1, c0, c1 = _rect_range(c, x0, y0, width, height)
        for row in range(r0, r1 + 1):
            for col in range(c0, c1 + 1):
                mask[row, col] = 1
    elif kind == _POLYGON:
        _scan_polygon(count, c, x0, y0, width, height, mask, True, 1, 0, 1, 0)
    return mask


@numba.njit(cache=True)
def _box_counts(ka: int, ca: np.ndarray, kb: int, nb: int, cb: np.ndarray, x0: int, y0: int, width: int,
                height: int) -> Tuple[int, int, int]:
    """``(pixels of a, pixels of b, shared pixels)`` when ``a`` is a rectangle or empty: counted per row
    from the rectangle's pixel ranges and ``b``'s scan-line spans, without masks."""
    r0, r1, c0, c1 = (1, 0, 1, 0)
    if ka == _RECTANGLE:
        r0, r1, c0, c1 = _rect_range(ca, x0, y0, width, height)
    pa = max(0, r1 - r0 + 1) * max(0, c1 - c0 + 1)
    if kb == _RECTANGLE:
        s0, s1, t0, t1 = _rect_range(cb, x0, y0, width, height)
        pb = max(0, s1 - s0 + 1) * max(0, t1 - t0 + 1)
        shared = max(0, min(r1, s1) - max(r0, s0) + 1) * max(0, min(c1, t1) - max(c0, t0) + 1)
        return pa, pb, shared
    if kb == _POLYGON:
        pb, shared = _scan_polygon(nb, cb, x0, y0, width, height, np.zeros((0, 0), dtype=np.uint8), False,
                                   r0, r1, c0, c1)
        return pa, pb, shared
    return pa, 0, 0


#: Without image bounds, a union window wider or taller than this many pixels is rasterised after
#: scaling both regions about its top-left corner to fit (bounded memory and time; the toolkit
#: itself would allocate the full window, e.g. 6.7 s and ~2 GB of masks for a 3e4-pixel square).
MAX_UNBOUNDED_SIDE = 2048


@numba.njit(cache=True)
def _scaled(kind: int, count: int, c: np.ndarray, x0: float, y0: float, scale: float) -> np.ndarray:
    """Encoded coordinates moved by ``(-x0, -y0)``, scaled, then rounded half-to-even again."""
    out = c.copy()
    if kind == _RECTANGLE:
        out[0] = np.float32(np.round(np.float32((c[0] - x0) * scale)))
        out[1] = np.float32(np.round(np.float32((c[1] - y0) * scale)))
        out[2] = np.float32(np.round(np.float32(c[2] * scale)))
        out[3] = np.float32(np.round(np.float32(c[3] * scale)))
    elif kind == _POLYGON:
        for p in range(count):
            out[2 * p] = np.float32(np.round(np.float32((c[2 * p] - x0) * scale)))
            out[2 * p + 1] = np.float32(np.round(np.float32((c[2 * p + 1] - y0) * scale)))
    return out


@numba.njit(cache=True)
def _overlap(ka: int, na: int, ca: np.ndarray, kb: int, nb: int, cb: np.ndarray,
             image_w: int, image_h: int) -> float:
    """Rasterised IoU of two encoded regions; ``image_w <= 0`` means unbounded (a window larger than
    ``MAX_UNBOUNDED_SIDE`` is then scaled down to fit, see there)."""
    if image_w <= 0:
        a = _region_bounds(ka, na, ca)
        b = _region_bounds(kb, nb, cb)
        side = max(max(a[2], b[2]) - min(a[0], b[0]), max(a[3], b[3]) - min(a[1], b[1])) + 1
        if side > MAX_UNBOUNDED_SIDE:
            scale = MAX_UNBOUNDED_SIDE / side
            x0 = float(min(a[0], b[0]))
            y0 = float(min(a[1], b[1]))
            return _window_overlap(ka, na, _scaled(ka, na, ca, x0, y0, scale),
                                   kb, nb, _scaled(kb, nb, cb, x0, y0, scale), image_w, image_h)
    return _window_overlap(ka, na, ca, kb, nb, cb, image_w, image_h)


@numba.njit(cache=True)
def _window_overlap(ka: int, na: int, ca: np.ndarray, kb: int, nb: int, cb: np.ndarray,
                    image_w: int, image_h: int) -> float:
    """The body of :func:`_overlap`."""
    a = _region_bounds(ka, na, ca)
    b = _region_bounds(kb, nb, cb)
    left = min(a[0], b[0])
    top = min(a[1], b[1])
    right = max(a[2], b[2])
    bottom = max(a[3], b[3])
    if left >= right or top >= bottom:
        # the toolkit treats a degenerate union as two identical empty regions
        return 1.0
    if image_w > 0:
        left = max(0, left)
        top = max(0, top)
        right = min(image_w - 1, right)
        bottom = min(image_h - 1, bottom)
        if left >= right or top >= bottom:
            return 0.0
    width = right - left + 1
    height = bottom - top + 1
    if ka != _POLYGON or kb != _POLYGON:
        # at most one polygon: count from pixel ranges and spans (same pixels as the masks)
        if ka == _POLYGON:
            pb, pa, inter = _box_counts(kb, cb, ka, na, ca, left, top, width, height)
        else:
            pa, pb, inter = _box_counts(ka, ca, kb, nb, cb, left, top, width, height)
        union = pa + pb - inter
        return inter / union if union > 0 else 0.0
    ma = _rasterize(ka, na, ca, left, top, width, height)
    mb = _rasterize(kb, nb, cb, left, top, width, height)
    inter = 0
    union = 0
    for row in range(height):
        for col in range(width):
            pa_ = ma[row, col] != 0
            pb_ = mb[row, col] != 0
            if pa_ or pb_:
                union += 1
                if pa_ and pb_:
                    inter += 1
    if union == 0:
        return 0.0
    return inter / union


@numba.njit(cache=True)
def _overlaps(ka: np.ndarray, na: np.ndarray, ca: np.ndarray, kb: np.ndarray, nb: np.ndarray, cb: np.ndarray,
              image_w: int, image_h: int) -> np.ndarray:
    out = np.empty(ka.shape[0], dtype=np.float64)
    for i in range(ka.shape[0]):
        out[i] = _overlap(ka[i], na[i], ca[i], kb[i], nb[i], cb[i], image_w, image_h)
    return out


def _image_bounds(image_size: Tuple[int, int] | None) -> Tuple[int, int]:
    if image_size is None:
        return 0, 0
    return int(image_size[0]), int(image_size[1])


def region_overlap(a: Region, b: Region, image_size: Tuple[int, int] | None = None) -> float:
    """Overlap of two regions as ``vot.region.calculate_overlap`` computes it.

    ``a``, ``b``: rectangle ``x, y, w, h``, polygon ``x1, y1, ...`` or a one-value special code (empty).
    ``image_size``: ``(width, height)``; pixels outside the image are ignored. E.g. ``[0, 0, 10, 10]``
    vs ``[5, 5, 10, 10]`` gives 25 / 175 = 0.142857 (10 x 10 pixels each, 5 x 5 shared).
    """
    ka, na, ca, _ = _encode_regions([a], "region a")
    kb, nb, cb, _ = _encode_regions([b], "region b")
    w, h = _image_bounds(image_size)
    return float(_overlap(ka[0], na[0], ca[0], kb[0], nb[0], cb[0], w, h))


def _encoded_overlaps(trajectory: Trajectory, gt: Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                      image_size: Tuple[int, int] | None, where: str) -> Tuple[np.ndarray, np.ndarray]:
    """``(overlaps (N,), codes (N,))`` of a trajectory against already encoded ground truth."""
    if len(trajectory) != len(gt[0]):
        raise ValueError(f"{where}: {len(trajectory)} frames but the ground truth has {len(gt[0])}")
    ka, na, ca, codes = _encode_regions(trajectory, where)
    kb, nb, cb, _ = gt
    width = max(ca.shape[1], cb.shape[1])
    ca = np.pad(ca, ((0, 0), (0, width - ca.shape[1])))
    cb = np.pad(cb, ((0, 0), (0, width - cb.shape[1])))
    w, h = _image_bounds(image_size)
    return _overlaps(ka, na, ca, kb, nb, cb, w, h), codes


def trajectory_overlaps(trajectory: Trajectory, groundtruth: Sequence[Region],
                        image_size: Tuple[int, int] | None, where: str = "trajectory") -> np.ndarray:
    """Per-frame overlaps ``(N,)`` of a trajectory with the ground truth (``vot.region.calculate_overlaps``).

    Special frames (codes) are empty regions and score 0 against a non-empty ground truth.
    ``where`` names the trajectory in errors (e.g. ``"trkA/vidA repetition 1"``).
    """
    gt = _encode_regions(groundtruth, f"{where} ground truth")
    return _encoded_overlaps(trajectory, gt, image_size, where)[0]


def sequence_accuracy(overlaps: np.ndarray, codes: np.ndarray, burnin: int = _BURNIN,
                      ignore_unknown: bool = True) -> Tuple[float, int]:
    """``vot.analysis.supervised.compute_accuracy``: mean overlap of the frames that count, and their count.

    ``overlaps`` ``(N,)`` from :func:`trajectory_overlaps`; ``codes`` ``(N,)`` special code per frame
    (-1 for a region). Excluded: skipped frames (code 0, when ``ignore_unknown``), failure frames
    (code 2) and ``burnin`` frames starting at each initialisation (code 1, the initialisation frame
    included). Returns ``(0.0, 0)`` when no frame counts.
    """
    codes = np.asarray(codes)
    mask = codes != CODE_FAILURE
    if ignore_unknown:
        mask &= codes != CODE_UNKNOWN
    for i in np.flatnonzero(codes == CODE_INIT):
        mask[i:i + burnin] = False
    if not mask.any():
        return 0.0, 0
    return float(np.mean(overlaps[mask])), int(mask.sum())


_Prepared = List[Tuple[str, int, List[Tuple[np.ndarray, np.ndarray]]]]


def _prepare(trajectories: Mapping[str, Sequence[Trajectory]], groundtruth: Mapping[str, Sequence[Region]],
             image_sizes: Mapping[str, Tuple[int, int]]) -> _Prepared:
    """Overlaps and codes of every repetition: ``[(video, length, [(overlaps, codes), ...]), ...]``."""
    prepared = []
    for video, runs in trajectories.items():
        if video not in groundtruth or video not in image_sizes:
            raise KeyError(f"video {video!r} has results but no ground truth or image size")
        if len(runs) == 0:
            raise ValueError(f"video {video!r}: no trajectory (the toolkit raises MissingResultsException)")
        gt = _encode_regions(groundtruth[video], f"{video} ground truth")
        per_run = [_encoded_overlaps(trajectory, gt, image_sizes[video], f"{video} repetition {rep}")
                   for rep, trajectory in enumerate(runs, start=1)]
        prepared.append((video, len(gt[0]), per_run))
    return prepared


def _average_ar(prepared, burnin: int, sensitivity: float) -> dict:
    per_video = {}
    weighted_accuracy = 0.0
    weighted_failures = 0.0
    total_length = 0
    for video, length, runs in prepared:
        accuracy = 0.0
        failures = 0.0
        for overlaps, codes in runs:
            failures += int(np.sum(codes == CODE_FAILURE))
            accuracy += sequence_accuracy(overlaps, codes, burnin)[0]
        accuracy /= len(runs)
        failures /= len(runs)
        per_video[video] = {"accuracy": accuracy, "failures": failures, "length": length,
                            "ar_robustness": math.exp(-(failures / length) * sensitivity)}
        weighted_accuracy += accuracy * length
        weighted_failures += failures * length
        total_length += length
    accuracy = weighted_accuracy / total_length
    failures = weighted_failures / total_length
    mean_length = total_length / len(prepared)
    return {
        "accuracy": accuracy,
        "robustness": failures,
        "ar_robustness": math.exp(-(failures / mean_length) * sensitivity),
        "length": mean_length,
        "per_video": per_video,
    }


def _fragments(prepared) -> Tuple[List[np.ndarray], List[bool]]:
    """Runs between an initialisation and the next failure (``vot.analysis.supervised.EAOCurve``)."""
    fragments = []
    success = []
    for video, _length, runs in prepared:
        for overlaps, codes in runs:
            fails = np.flatnonzero(codes == CODE_FAILURE)
            inits = np.flatnonzero(codes == CODE_INIT)
            if len(fails) == 0:
                fragments.append(overlaps)
                success.append(True)
                continue
            if len(inits) < len(fails):
                raise ValueError(f"video {video!r}: {len(fails)} failures but only {len(inits)} "
                                 "initialisations")
            for init, fail in zip(inits, fails):
                fragments.append(overlaps[init:fail])
                success.append(False)
            if len(inits) > len(fails):
                fragments.append(overlaps[inits[-1]:])
                success.append(True)
    return fragments, success


def _eao_curve(fragments: List[np.ndarray], success: List[bool]) -> np.ndarray:
    """``compute_eao_curve`` with unit weights: curve[j] = weighted mean over runs of mean(overlaps[1..j]).

    A failed run counts with zeros after its failure at every length; a successful run only up to its
    own length. curve[0] is the mean overlap of the first frame (the initialisation frame, 0).
    """
    max_length = max(len(f) for f in fragments)
    runs = len(fragments)
    padded = np.zeros((runs, max_length), dtype=np.float64)
    valid = np.zeros((runs, max_length), dtype=np.float64)
    for i, (fragment, ok) in enumerate(zip(fragments, success)):
        padded[i, :len(fragment)] = fragment
        if ok:
            valid[i, :len(fragment)] = 1.0
        else:
            valid[i, :] = 1.0
    padded = padded.astype(np.float32).astype(np.float64)
    averaged = padded.copy()
    if max_length > 1:
        cumulative = np.cumsum(padded[:, 1:], axis=1)
        averaged[:, 1:] = cumulative / np.arange(1, max_length)
    return np.sum(averaged * valid, axis=0) / np.sum(valid, axis=0)


def _eao_score(curve: np.ndarray, interval: Tuple[int, int]) -> float:
    low, high = interval
    if not 1 <= low <= high:
        raise ValueError(f"EAO interval [{low}, {high}]: need 1 <= low <= high")
    window = curve[low:high + 1]
    # a window beyond the curve (all sequences shorter): NaN, as the toolkit reports it
    return float(np.mean(window)) if window.size else float("nan")


def supervised_average_ar(trajectories: Mapping[str, Sequence[Trajectory]],
                          groundtruth: Mapping[str, Sequence[Region]],
                          image_sizes: Mapping[str, Tuple[int, int]],
                          burnin: int = _BURNIN, sensitivity: float = _SENSITIVITY) -> dict:
    """Accuracy and robustness as vot-toolkit 0.7.4 ``supervised_average_ar`` reports them.

    Args:
        trajectories: ``{video: [trajectory per repetition]}``.
        groundtruth: ``{video: regions (N)}``; the sequence length is ``N``.
        image_sizes: ``{video: (width, height)}``.
        burnin: frames ignored from each initialisation on (10 in every VOT stack).
        sensitivity: AR-plot robustness scale (30 in the VOT stacks).

    Returns:
        ``accuracy``: length-weighted mean over sequences of the per-sequence accuracy (itself the
        mean over repetitions of :func:`sequence_accuracy`); ``robustness``: length-weighted mean over
        sequences of the failures per sequence (mean over repetitions) - the toolkit's "R";
        ``ar_robustness``: ``exp(-sensitivity * robustness / mean length)``, the AR plot's x value;
        ``length``: mean sequence length; ``per_video``: ``{video: {accuracy, failures, length,
        ar_robustness}}``.
    """
    return _average_ar(_prepare(trajectories, groundtruth, image_sizes), burnin, sensitivity)


def supervised_eao_curve(trajectories: Mapping[str, Sequence[Trajectory]],
                         groundtruth: Mapping[str, Sequence[Region]],
                         image_sizes: Mapping[str, Tuple[int, int]]) -> np.ndarray:
    """Expected-overlap curve ``(L,)`` of vot-toolkit 0.7.4 ``supervised_eao_curve`` (L = longest run).

    Every repetition of every sequence is cut into runs from an initialisation up to (excluding) the
    next failure frame; each run weighs 1 whatever its sequence (no per-sequence normalisation).
    """
    return _eao_curve(*_fragments(_prepare(trajectories, groundtruth, image_sizes)))


def supervised_eao_score(trajectories: Mapping[str, Sequence[Trajectory]],
                         groundtruth: Mapping[str, Sequence[Region]],
                         image_sizes: Mapping[str, Tuple[int, int]],
                         interval: Tuple[int, int] = _VOT2018_INTERVAL) -> dict:
    """EAO of vot-toolkit 0.7.4 ``supervised_eao_score``: the mean of ``curve[low..high]`` (inclusive).

    ``interval``: ``(low, high)`` (see :data:`OFFICIAL_EAO_INTERVALS`; VOT2018 is 100..356). Returns
    ``{"eao": float, "curve": ndarray (L,), "interval": (low, high)}``; the score is NaN when the
    longest run is shorter than ``low + 1`` frames.
    """
    curve = supervised_eao_curve(trajectories, groundtruth, image_sizes)
    return {"eao": _eao_score(curve, interval), "curve": curve, "interval": tuple(interval)}


def evaluate_supervised(trajectories: Mapping[str, Sequence[Trajectory]],
                        groundtruth: Mapping[str, Sequence[Region]],
                        image_sizes: Mapping[str, Tuple[int, int]],
                        interval: Tuple[int, int] = _VOT2018_INTERVAL,
                        burnin: int = _BURNIN, sensitivity: float = _SENSITIVITY) -> dict:
    """AR and EAO of one tracker in the official convention, computing each overlap once.

    Same arguments as :func:`supervised_average_ar` and :func:`supervised_eao_score`. Returns the AR
    dict with ``eao``, ``eao_curve`` (list) and ``eao_interval`` added.
    """
    prepared = _prepare(trajectories, groundtruth, image_sizes)
    result = _average_ar(prepared, burnin, sensitivity)
    curve = _eao_curve(*_fragments(prepared))
    result["eao"] = _eao_score(curve, interval)
    result["eao_curve"] = curve.tolist()
    result["eao_interval"] = [int(interval[0]), int(interval[1])]
    return result
