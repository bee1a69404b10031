"""One-pass evaluation (OTB / LaSOT / UAV / NFS / GOT-10k style): success, precision and
normalised precision, exactly as PySOT's ``OPEBenchmark`` and ``toolkit/utils/statistics.py``.

Boxes are ``(N, 4)`` float arrays ``[x, y, w, h]``, (x, y) the 0-based top-left corner.

Conventions (PySOT's, kept so that published numbers stay comparable):

* IoU is continuous (no ``+1`` pixel term, unlike the centre below):
  ``inter = max(0, min(x1+w1, x2+w2) - max(x1, x2)) * max(0, ...)``, clipped to [0, 1].
* Success: fraction of frames with IoU strictly greater than each of the 21 thresholds
  ``np.arange(0, 1.05, 0.05)``; the AUC is the mean of the curve (averaged over videos).
* The centre of a box is ``(x + (w-1)/2, y + (h-1)/2)``. Precision: fraction of frames whose
  centre distance is ``<=`` each of 0..50 pixels, reported at 20 px. Normalised precision divides
  both centres by the ground-truth size (``+1e-16``) and uses thresholds 0..0.50, reported at 0.20.
* Invalid ground truth: frames whose gt width or height is not > 0 (or NaN) have IoU -1, never a
  success; frames whose gt centre has a coordinate <= 0 (or NaN) get the distance -1, which PySOT
  counts as precise at every threshold. The denominator is always the video's full frame count.
* LaSOT: only frames whose ``absent`` flag is 1 are scored; the denominator stays the full count.
"""

from __future__ import annotations

import numpy as np

from toolkit.boxes import pixel_center

#: Success thresholds on IoU (strict ``>``), 21 values.
SUCCESS_THRESHOLDS = np.arange(0, 1.05, 0.05)
#: Precision thresholds in pixels (``<=``), 51 values; the score is the value at index 20.
PRECISION_THRESHOLDS = np.arange(0, 51, 1)
#: Normalised precision thresholds (``<=``), 51 values; the score is the value at index 20 (0.20).
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, 1) / 100
#: Index of the reported point on the precision and normalised precision curves.
PRECISION_INDEX = 20


def overlap_ratio(rect1: np.ndarray, rect2: np.ndarray) -> np.ndarray:
    """Continuous IoU of two ``(N, 4)`` xywh arrays, clipped to [0, 1]; never NaN.

    Where PySOT's formula gives NaN (a non-finite value, or a zero union, e.g. a negative width
    equal to the other box's area) the IoU is 0: an empty or undefined box overlaps nothing. PySOT's
    success counts ``iou > threshold`` and NaN is never above a threshold, so its numbers are the
    same."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        left = np.maximum(rect1[:, 0], rect2[:, 0])
        right = np.minimum(rect1[:, 0] + rect1[:, 2], rect2[:, 0] + rect2[:, 2])
        top = np.maximum(rect1[:, 1], rect2[:, 1])
        bottom = np.minimum(rect1[:, 1] + rect1[:, 3], rect2[:, 1] + rect2[:, 3])
        intersect = np.maximum(0, right - left) * np.maximum(0, bottom - top)
        union = rect1[:, 2] * rect1[:, 3] + rect2[:, 2] * rect2[:, 3] - intersect
        iou = intersect / union
    iou = np.maximum(np.minimum(1, iou), 0)
    return np.where(np.isfinite(iou), iou, 0.0)


def frame_overlaps(gt_bb: np.ndarray, result_bb: np.ndarray) -> np.ndarray:
    """Per-frame IoU of ``(N, 4)`` gt and result boxes (:func:`overlap_ratio`), -1 where the gt has
    w <= 0 or h <= 0 (such a frame never succeeds)."""
    iou = np.full(len(gt_bb), -1.0)
    with np.errstate(invalid="ignore"):
        mask = np.sum(gt_bb[:, 2:] > 0, axis=1) == 2
    iou[mask] = overlap_ratio(gt_bb[mask], result_bb[mask])
    return iou


def center_errors(gt_center: np.ndarray, result_center: np.ndarray) -> np.ndarray:
    """Per-frame distance of ``(N, 2)`` centres, -1 where the gt centre has a coordinate <= 0 (or
    NaN): such a frame is precise at every threshold, as in PySOT."""
    dist = np.full(len(gt_center), -1.0)
    with np.errstate(invalid="ignore"):
        mask = np.sum(gt_center > 0, axis=1) == 2
    dist[mask] = np.sqrt(np.sum(np.power(gt_center[mask] - result_center[mask], 2), axis=1))
    return dist


def success_overlap(gt_bb: np.ndarray, result_bb: np.ndarray, n_frame: int) -> np.ndarray:
    """Success curve (21,): fraction of ``n_frame`` frames with IoU > each threshold; frames whose
    gt has w <= 0 or h <= 0 never succeed."""
    iou = frame_overlaps(gt_bb, result_bb)
    success = np.zeros(len(SUCCESS_THRESHOLDS))
    for i, thr in enumerate(SUCCESS_THRESHOLDS):
        success[i] = np.sum(iou > thr) / float(n_frame)
    return success


def success_error(
    gt_center: np.ndarray, result_center: np.ndarray, thresholds: np.ndarray, n_frame: int
) -> np.ndarray:
    """Precision curve: fraction of ``n_frame`` frames whose centre distance is <= each threshold;
    frames whose gt centre has a coordinate <= 0 have distance -1 (always counted, as in PySOT).
    Centres are ``(N, 2)``."""
    dist = center_errors(gt_center, result_center)
    success = np.zeros(len(thresholds))
    for i, thr in enumerate(thresholds):
        success[i] = np.sum(dist <= thr) / float(n_frame)
    return success


def box_center(boxes: np.ndarray) -> np.ndarray:
    """``(N, 2)`` centres ``(x + (w-1)/2, y + (h-1)/2)`` of ``(N, 4)`` xywh boxes (PySOT;
    :func:`toolkit.boxes.pixel_center`)."""
    return pixel_center(boxes)


def box_norm_center(boxes: np.ndarray, gt_wh: np.ndarray) -> np.ndarray:
    """Centres divided by the ground-truth ``(N, 2)`` sizes ``+1e-16`` (normalised precision)."""
    return box_center(boxes) / (gt_wh + 1e-16)


def _scored_frames(
    gt: np.ndarray, pred: np.ndarray, absent: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    gt = np.asarray(gt, np.float64)
    pred = np.asarray(pred, np.float64)
    if gt.shape != pred.shape or gt.ndim != 2 or gt.shape[1] != 4:
        raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} must both be (N, 4)")
    if absent is not None:
        keep = np.asarray(absent) == 1
        gt, pred = gt[keep], pred[keep]
    return gt, pred


def success_curve(gt: np.ndarray, pred: np.ndarray, absent: np.ndarray | None = None) -> np.ndarray:
    """Success curve (21,) of one video: ``(N, 4)`` xywh gt and prediction; ``absent`` LaSOT flags."""
    n_frame = len(gt)
    gt, pred = _scored_frames(gt, pred, absent)
    return success_overlap(gt, pred, n_frame)


def precision_curve(gt: np.ndarray, pred: np.ndarray, absent: np.ndarray | None = None) -> np.ndarray:
    """Precision curve (51,) over 0..50 px of one video (see :func:`success_curve`)."""
    n_frame = len(gt)
    gt, pred = _scored_frames(gt, pred, absent)
    return success_error(box_center(gt), box_center(pred), PRECISION_THRESHOLDS, n_frame)


def norm_precision_curve(gt: np.ndarray, pred: np.ndarray, absent: np.ndarray | None = None) -> np.ndarray:
    """Normalised precision curve (51,) over 0..0.50 of one video (see :func:`success_curve`)."""
    n_frame = len(gt)
    gt, pred = _scored_frames(gt, pred, absent)
    return success_error(
        box_norm_center(gt, gt[:, 2:4]), box_norm_center(pred, gt[:, 2:4]), NORM_PRECISION_THRESHOLDS, n_frame
    )


def success_auc(curves: list[np.ndarray] | np.ndarray) -> float:
    """AUC over videos: the mean of all videos' success curves (PySOT's ``np.mean`` of the list)."""
    return float(np.mean(curves)) if len(curves) else float("nan")


def precision_score(curves: list[np.ndarray] | np.ndarray) -> float:
    """Mean over videos of the (normalised) precision curves, at index 20 (20 px / 0.20)."""
    return float(np.mean(curves, axis=0)[PRECISION_INDEX]) if len(curves) else float("nan")
