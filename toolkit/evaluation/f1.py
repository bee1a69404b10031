"""Long-term tracking precision, recall and F1 (VOT-LT, Lukezic et al. 2018), as PySOT's
``F1Benchmark``, ``determine_thresholds`` and ``calculate_f1`` compute them.

Inputs per video: per-frame overlaps of the predicted boxes with the ground truth (VOT rasterised
overlap with the image bounds ``(width, height)``; NaN where the prediction is a code or the
target is absent, counted as 0), per-frame confidences (the first frame's is NaN, counted as 0),
and ``N``, the number of frames where the target is annotated.

* thresholds: 100 values, ``inf``, 98 confidence quantiles of all videos' confidences (sorted,
  NaN dropped, picked at ``floor(linspace(d - 1, n - d, 98) + 0.5)`` with ``d = floor(n / 98)``),
  ``-inf``: PySOT orders them from high to low;
* at threshold ``t`` the frames with confidence ``>= t`` (``> 0`` for ``-inf``) are "reported":
  precision is their mean overlap (1 if none), recall is their overlap sum divided by ``N``;
* the dataset's curves are the per-video precision and recall curves averaged over videos;
  F1 = 2PR / (P + R); the reported point is the first maximum of F1 (``np.argmax``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Number of confidence thresholds.
RESOLUTION = 100


def determine_thresholds(scores: np.ndarray, resolution: int = RESOLUTION) -> np.ndarray:
    """``(resolution,)`` thresholds from low to high: ``-inf``, confidence quantiles, ``inf``."""
    scores = np.sort(scores[np.logical_not(np.isnan(scores))])
    delta = np.floor(len(scores) / (resolution - 2))
    idxs = np.floor(np.linspace(delta - 1, len(scores) - delta, resolution - 2) + 0.5).astype(np.int32)
    thresholds = np.zeros(resolution)
    thresholds[0] = -np.inf
    thresholds[-1] = np.inf
    thresholds[1:-1] = scores[idxs]
    return thresholds


def calculate_f1(
    overlaps: np.ndarray, score: np.ndarray, thresholds: np.ndarray, n_annotated: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """F1, precision and recall curves ``(len(thresholds),)`` of one video.

    Args:
        overlaps: ``(N,)`` per-frame overlaps (NaN counts 0).
        score: ``(N,)`` per-frame confidences (NaN counts 0).
        thresholds: confidence thresholds (``-inf`` selects the frames with confidence > 0).
        n_annotated: frames with ground truth (the recall denominator).
    """
    overlaps = np.array(overlaps, np.float64)
    overlaps[np.isnan(overlaps)] = 0
    score = np.array(score, np.float64)
    score[np.isnan(score)] = 0
    precision = np.zeros(len(thresholds))
    recall = np.zeros(len(thresholds))
    for i, th in enumerate(thresholds):
        idx = score > 0 if th == -np.inf else score >= th
        if np.sum(idx) == 0:
            precision[i] = 1
            recall[i] = 0
        else:
            precision[i] = np.mean(overlaps[idx])
            recall[i] = np.sum(overlaps[idx]) / n_annotated
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * precision * recall / (precision + recall)
    return f1, precision, recall


def longterm_scores(
    precision_curves: Sequence[np.ndarray], recall_curves: Sequence[np.ndarray]
) -> dict[str, object]:
    """Dataset-level precision, recall and F1 at the F1-maximising threshold.

    Returns ``precision``, ``recall``, ``f1`` (floats), ``best_threshold_index`` and the averaged
    ``precision_curve``, ``recall_curve``, ``f1_curve`` arrays.
    """
    precision = np.mean(np.asarray(precision_curves), axis=0)
    recall = np.mean(np.asarray(recall_curves), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * precision * recall / (precision + recall)
    best = int(np.argmax(f1))
    return {
        "precision": float(precision[best]),
        "recall": float(recall[best]),
        "f1": float(f1[best]),
        "best_threshold_index": best,
        "precision_curve": precision,
        "recall_curve": recall,
        "f1_curve": f1,
    }
