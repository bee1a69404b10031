"""VOT accuracy and robustness of reset-based (baseline) runs, as PySOT's
``AccuracyRobustnessBenchmark`` and ``calculate_accuracy`` / ``calculate_failures`` compute them.

A trajectory is a list of regions as read from a VOT result file: ``[1]`` initialisation,
``[2]`` failure, ``[0]`` skipped frame, ``[x, y, w, h]`` (0-based top-left corner) or a polygon
``[x1, y1, ..., xk, yk]``. Overlaps are the VOT rasterised overlap (:mod:`.region`).

PySOT's convention (the default of ``tools/eval.py``):

* burn-in: the initialisation frame and the next ``burnin - 1`` frames (10 in total) are not
  scored; overlaps are taken with the image bounds ``(width, height)``;
* accuracy: the NaN-mean of the per-frame overlaps pooled over all frames of all videos (each
  video's overlaps are first averaged over repetitions);
* lost number: failures summed over videos, averaged over repetitions;
* robustness: ``mean_over_repetitions(failures / total frames) * 100`` (failures per 100 frames).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from toolkit.rules import VOT_RULES

from .region import PackedRegions, empty_overlap_mask, pack_regions, vot_overlap_traj

#: Frames not scored after each (re-)initialisation, the initialisation frame included
#: (:attr:`toolkit.rules.VOTRules.burnin`; the report takes each edition's).
BURNIN = VOT_RULES.burnin


def calculate_failures(trajectory: Sequence[Sequence[float]]) -> tuple[int, list[int]]:
    """Number of failures (``[2]`` codes) and their 0-based frame indices."""
    failures = [i for i, x in enumerate(trajectory) if len(x) == 1 and x[0] == 2]
    return len(failures), failures


def calculate_accuracy(
    pred_trajectory: Sequence[Sequence[float]] | PackedRegions,
    gt_trajectory: Sequence[Sequence[float]] | np.ndarray | PackedRegions,
    burnin: int = 0,
    bound: Sequence[float] | None = None,
) -> tuple[float, np.ndarray]:
    """Mean overlap (NaN-mean, 0 for an empty trajectory) and ``(N,)`` per-frame overlaps (NaN for
    codes and burn-in frames, and, as the VOT C library and PySOT, where both regions cover no
    pixel: :func:`.region.empty_overlap_mask` finds those) over the first ``min(len(pred), len(gt))``
    frames.

    Args:
        pred_trajectory, gt_trajectory: region lists, or packed (:func:`.region.pack_regions`).
        burnin: from each ``[1]`` code on, this many frames (the code's included) are not scored,
            as if they were ``[0]`` (PySOT's burn-in).
        bound: ``(width, height)`` of the image (PySOT passes ``(w, h)`` for accuracy and F1,
            ``(w - 1, h - 1)`` for EAO), or ``None``.
    """
    pred = pack_regions(pred_trajectory)
    gt = pack_regions(gt_trajectory)
    n = min(len(pred.counts), len(gt.counts))
    counts = pred.counts[:n].copy()
    if burnin > 0:
        init = (counts == 1) & (pred.values[:n, 0] == 1) & ~np.isnan(pred.values[:n]).any(axis=1)
        for i in np.flatnonzero(init):
            counts[i : i + burnin] = 1  # PySOT replaces these frames by [0]: overlap NaN
    overlaps = vot_overlap_traj(
        PackedRegions(pred.values[:n], counts),
        PackedRegions(gt.values[:n], gt.counts[:n]),
        bound,
        empty=np.nan,  # PySOT convention: a frame where both regions are empty is NaN (dropped)
    )
    acc = 0.0
    if len(overlaps) > 0:
        acc = nanmean(overlaps)
    return acc, overlaps


def empty_frame_count(
    overlaps: np.ndarray,
    pred: PackedRegions,
    gt: PackedRegions,
    bound: Sequence[float] | None = None,
) -> int:
    """Frames of one run whose accuracy overlap is NaN because the predicted region and the ground
    truth both cover no pixel (the C library's 0 / 0; PySOT drops them from the accuracy), burn-in
    frames included. ``overlaps`` are :func:`calculate_accuracy`'s; only its NaN frames with a region
    on both sides are rasterised again."""
    n = len(overlaps)
    rows = np.flatnonzero(np.isnan(overlaps) & (pred.counts[:n] != 1) & (gt.counts[:n] != 1))
    if not rows.size:
        return 0
    a = PackedRegions(pred.values[rows], pred.counts[rows])
    b = PackedRegions(gt.values[rows], gt.counts[rows])
    return int(empty_overlap_mask(a, b, bound).sum())


def mean_over_repetitions(overlaps: Sequence[np.ndarray]) -> np.ndarray:
    """Frame-wise NaN-mean of the overlaps of several repetitions of one video."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return np.nanmean(np.asarray(overlaps, np.float64), axis=0)


def nanmean(values: np.ndarray | Sequence[float]) -> float:
    """``np.nanmean`` without the all-NaN warning (NaN then)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return float(np.nanmean(values))


def accuracy_robustness(
    overlaps: Mapping[str, np.ndarray], failures: Mapping[str, Sequence[int]]
) -> dict[str, float]:
    """PySOT's dataset-level AR of one tracker.

    Args:
        overlaps: video -> ``(N,)`` per-frame overlaps (burn-in applied, averaged over repetitions).
        failures: video -> number of failures of each repetition (same repetition count everywhere).

    Returns:
        ``accuracy``, ``robustness`` (failures per 100 frames), ``lost_number`` and ``total_frames``.
    """
    videos = list(overlaps)
    pooled = np.concatenate([np.asarray(overlaps[v], np.float64) for v in videos]) if videos else np.zeros(0)
    length = int(len(pooled))
    per_rep = np.sum(np.array([list(failures[v]) for v in videos], np.float64), axis=0)
    return {
        "accuracy": nanmean(pooled),
        "robustness": float(np.mean(per_rep / length) * 100),
        "lost_number": float(np.mean(per_rep)),
        "total_frames": length,
    }
