"""Classification and regression targets of the RPN for one training pair (PySOT's ``AnchorTarget``).

Anchors are laid on the ``output_size x output_size`` score grid centred on the search crop's centre
(``search_size // 2``). For a positive pair, anchors with IoU > ``thr_high`` with the target are
positives (at most ``pos_num`` kept at random), anchors with IoU < ``thr_low`` negatives (at most
``total_num - pos_num``), the rest ignored. For a negative pair (template and search show different
objects) only anchors within 3 cells of the search box's cell are labelled negative (at most
``neg_num``), everything else ignored, and nothing is regressed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from yacs.config import CfgNode

from pysot.utils.anchor import Anchors
from pysot.utils.bbox import IoU, corner2center

IGNORE, NEGATIVE, POSITIVE = -1, 0, 1


def _keep_random(
    position: tuple[np.ndarray, ...], keep_num: int, rng: np.random.Generator
) -> tuple[tuple[np.ndarray, ...], int]:
    """Keep at most ``keep_num`` of the index tuple ``position`` (as from ``np.where``), at random."""
    num = position[0].shape[0]
    if num <= keep_num:
        return position, num
    keep = rng.permutation(num)[:keep_num]
    return tuple(p[keep] for p in position), keep_num


class AnchorTarget:
    """Builds ``(cls, delta, delta_weight, overlap)`` for one search crop.

    Args:
        stride, ratios, scales: the anchors (``ANCHOR`` node).
        search_size: side of the search crop in pixels (``TRAIN.SEARCH_SIZE``).
        output_size: side of the score map (``TRAIN.OUTPUT_SIZE``).
        thr_high, thr_low: IoU thresholds for positives / negatives.
        pos_num: maximum positives; ``total_num - pos_num`` is the maximum of negatives.
        neg_num: maximum negatives of a negative pair.
    """

    def __init__(
        self,
        stride: int = 8,
        ratios: Sequence[float] = (0.33, 0.5, 1, 2, 3),
        scales: Sequence[float] = (8,),
        search_size: int = 255,
        output_size: int = 25,
        thr_high: float = 0.6,
        thr_low: float = 0.3,
        pos_num: int = 16,
        neg_num: int = 16,
        total_num: int = 64,
    ) -> None:
        self.stride = stride
        self.search_size = search_size
        self.output_size = output_size
        self.thr_high = thr_high
        self.thr_low = thr_low
        self.pos_num = pos_num
        self.neg_num = neg_num
        self.total_num = total_num
        self.anchors = Anchors(stride, ratios, scales)
        self.anchors.generate_all_anchors(im_c=search_size // 2, size=output_size)
        self.anchor_num = self.anchors.anchor_num

    @classmethod
    def from_config(cls, cfg: CfgNode) -> AnchorTarget:
        """Build from ``cfg.ANCHOR`` and ``cfg.TRAIN``."""
        return cls(
            stride=cfg.ANCHOR.STRIDE,
            ratios=cfg.ANCHOR.RATIOS,
            scales=cfg.ANCHOR.SCALES,
            search_size=cfg.TRAIN.SEARCH_SIZE,
            output_size=cfg.TRAIN.OUTPUT_SIZE,
            thr_high=cfg.TRAIN.THR_HIGH,
            thr_low=cfg.TRAIN.THR_LOW,
            pos_num=cfg.TRAIN.POS_NUM,
            neg_num=cfg.TRAIN.NEG_NUM,
            total_num=cfg.TRAIN.TOTAL_NUM,
        )

    def __call__(
        self, target: Sequence[float], rng: np.random.Generator, neg: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Targets for the corner box ``target`` (x1, y1, x2, y2) in search-crop pixels.

        Returns:
            cls: int64 (A, S, S), 1 positive / 0 negative / -1 ignored.
            delta: float32 (4, A, S, S), (dx, dy, dw, dh) = ((tx - ax) / aw, (ty - ay) / ah,
                log(tw / aw), log(th / ah)); zeros for a negative pair.
            delta_weight: float32 (A, S, S), 1 / (number of positives) at positives, else 0.
            overlap: float32 (A, S, S), IoU of every anchor with the target (zeros if ``neg``).
        """
        size = self.output_size
        shape = (self.anchor_num, size, size)
        cls = np.full(shape, IGNORE, dtype=np.int64)
        delta = np.zeros((4,) + shape, dtype=np.float32)
        delta_weight = np.zeros(shape, dtype=np.float32)
        tcx, tcy, tw, th = corner2center(target)

        if neg:
            half = self.search_size // 2
            cx = size // 2 + int(np.ceil((tcx - half) / self.stride + 0.5))
            cy = size // 2 + int(np.ceil((tcy - half) / self.stride + 0.5))
            near = np.zeros(shape, dtype=bool)
            near[:, max(0, cy - 3) : min(size, cy + 4), max(0, cx - 3) : min(size, cx + 4)] = True
            chosen, _ = _keep_random(np.where(near), self.neg_num, rng)
            cls[chosen] = NEGATIVE
            return cls, delta, delta_weight, np.zeros(shape, dtype=np.float32)

        corners, centers = self.anchors.all_anchors
        acx, acy, aw, ah = centers
        delta[0] = (tcx - acx) / aw
        delta[1] = (tcy - acy) / ah
        delta[2] = np.log(tw / aw)
        delta[3] = np.log(th / ah)
        overlap = IoU(corners, target).astype(np.float32)

        pos, pos_num = _keep_random(np.where(overlap > self.thr_high), self.pos_num, rng)
        negs, _ = _keep_random(np.where(overlap < self.thr_low), self.total_num - self.pos_num, rng)
        cls[pos] = POSITIVE
        delta_weight[pos] = 1.0 / (pos_num + 1e-6)
        cls[negs] = NEGATIVE
        return cls, delta, delta_weight, overlap
