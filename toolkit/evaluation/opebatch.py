"""OPE metrics of every video of a tracker at once: success, precision and normalised precision
curves from per-video histograms of threshold bins, the same integer counts (so the same curves,
bit for bit) as :mod:`.ope`'s per-video functions comparing every frame with every threshold.

The ground truth of a dataset is prepared once (:class:`OpePrep`) and shared by every tracker. The
per-frame values and their bins come from one of two implementations:

* compiled (:mod:`.fastpath`, numba): ~0.8 ms per 30 000 frames, but importing numba and loading
  its first kernel costs ~0.4 s per process;
* numpy (:func:`numpy_histograms`: :func:`.ope.frame_overlaps` / :func:`.ope.center_errors` on all
  frames, ``np.searchsorted`` and one ``np.bincount``): no numba at all, for evaluations too small
  to pay that fixed cost (:data:`.aggregate.COMPILED_MIN_FRAMES`).
"""

from __future__ import annotations

import numpy as np

from . import ope


class OpePrep:
    """Ground truth of an OPE dataset prepared once for every tracker: the scored frames of all
    videos concatenated, their gt boxes, centres and normalised centres, and validity masks."""

    def __init__(self, videos):
        self.names = [v.name for v in videos]
        self.n_frames = [len(v) for v in videos]
        keeps, gts = [], []
        for v in videos:
            gt = np.asarray(v.gt_traj, np.float64)
            keep = np.ones(len(gt), bool) if v.absent is None else np.asarray(v.absent) == 1
            keeps.append(keep)
            gts.append(gt[keep])
        self.keeps = keeps
        self.all_kept = all(bool(k.all()) for k in keeps)  # no absent frames: whole files
        self.counts = np.array([len(g) for g in gts], np.int64)
        self.video_of = np.repeat(np.arange(len(gts)), self.counts)
        self.gt = np.concatenate(gts) if gts else np.zeros((0, 4))
        with np.errstate(invalid="ignore"):
            self.iou_mask = np.sum(self.gt[:, 2:] > 0, axis=1) == 2
        self.gt_center = ope.box_center(self.gt)
        self.gt_norm_center = ope.box_norm_center(self.gt, self.gt[:, 2:4])
        with np.errstate(invalid="ignore"):
            self.center_mask = np.sum(self.gt_center > 0, axis=1) == 2
            self.norm_center_mask = np.sum(self.gt_norm_center > 0, axis=1) == 2


def _bins(values: np.ndarray, thresholds: np.ndarray, above: bool) -> np.ndarray:
    """Per value, the number of (ascending) thresholds strictly below it; NaN: 0 (``above``: never
    above a threshold) or past the end (never within one)."""
    bins = np.searchsorted(thresholds, values, side="left")
    nan = np.isnan(values)
    if nan.any():
        bins[nan] = 0 if above else len(thresholds)
    return bins


def _per_video(prep: OpePrep, bins: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.bincount(prep.video_of * n_bins + bins, minlength=len(prep.names) * n_bins)
    return counts.reshape(len(prep.names), n_bins)


def numpy_histograms(prep: OpePrep, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per video (rows), the histograms of the success, precision and normalised precision bins of
    the scored frames' ``(N, 4)`` predictions ``pred`` (what :func:`.fastpath._ope_histograms`
    computes, with :mod:`.ope`'s functions on all frames at once)."""
    succ_thr = np.asarray(ope.SUCCESS_THRESHOLDS, np.float64)
    prec_thr = np.asarray(ope.PRECISION_THRESHOLDS, np.float64)
    norm_thr = np.asarray(ope.NORM_PRECISION_THRESHOLDS, np.float64)
    with np.errstate(all="ignore"):  # as quiet as the compiled kernel on huge or non-finite boxes
        ious = ope.frame_overlaps(prep.gt, pred)
        dists = ope.center_errors(prep.gt_center, ope.box_center(pred))
        norm_dists = ope.center_errors(prep.gt_norm_center, ope.box_norm_center(pred, prep.gt[:, 2:4]))
    return (
        _per_video(prep, _bins(ious, succ_thr, True), len(succ_thr) + 1),
        _per_video(prep, _bins(dists, prec_thr, False), len(prec_thr) + 1),
        _per_video(prep, _bins(norm_dists, norm_thr, False), len(norm_thr) + 1),
    )


def ope_curves(
    prep: OpePrep, preds: list[np.ndarray] | np.ndarray, compiled: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Success (V, 21), precision (V, 51) and normalised precision (V, 51) curves of every video,
    equal to :func:`.ope.success_curve`, :func:`.ope.precision_curve` and
    :func:`.ope.norm_precision_curve` per video. ``preds``: each video's ``(N, 4)`` boxes, or all of
    them concatenated in the videos' order; ``compiled``: the numba kernel (else numpy)."""
    if isinstance(preds, np.ndarray):
        pred = preds if prep.all_kept else preds[np.concatenate(prep.keeps)]
    elif not preds:
        pred = np.zeros((0, 4))
    elif prep.all_kept:
        pred = np.concatenate(preds)
    else:
        pred = np.concatenate([p[k] for p, k in zip(preds, prep.keeps)])
    pred = np.ascontiguousarray(pred, np.float64)
    if compiled:
        from .fastpath import ope_histograms

        hs, hp, hn = ope_histograms(prep, pred)
    else:
        hs, hp, hn = numpy_histograms(prep, pred)
    denom = np.array(prep.n_frames, np.float64)[:, None]
    success = np.cumsum(hs[:, ::-1], axis=1)[:, ::-1][:, 1:] / denom  # iou > thr[i] <=> bin > i
    precision = np.cumsum(hp, axis=1)[:, : len(ope.PRECISION_THRESHOLDS)] / denom  # bin <= i
    norm = np.cumsum(hn, axis=1)[:, : len(ope.NORM_PRECISION_THRESHOLDS)] / denom
    return success, precision, norm
