"""Anchors of the region proposal network, as PySOT's ``pysot/utils/anchor.py`` generates them.

Order and rounding follow PySOT exactly: for each ratio ``r`` (outer loop) and scale ``s`` (inner
loop), ``ws = int(sqrt(stride**2 / r))``, ``hs = int(ws * r)`` (truncation, not rounding), and the
anchor is ``(ws * s, hs * s)`` centred at 0. With stride 8, ratios (0.33, 0.5, 1, 2, 3) and scale 8
the sizes (w, h) are (104, 32), (88, 40), (64, 64), (40, 80), (32, 96).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pysot.utils.bbox import center2corner, corner2center


class Anchors:
    """Anchor shapes for one stride, plus the dense grids used for training targets.

    Args:
        stride: feature stride in pixels (8 for SiamRPN++).
        ratios: aspect ratios h / w, in the order the RPN's output channels use.
        scales: anchor scales (multiples of the base size).
        image_center: centre of the search image the grid of :meth:`generate_all_anchors` is laid on.
        size: side of that grid (score-map size).
    """

    def __init__(
        self,
        stride: int,
        ratios: Sequence[float],
        scales: Sequence[float],
        image_center: float = 0,
        size: int = 0,
    ) -> None:
        self.stride = stride
        self.ratios = list(ratios)
        self.scales = list(scales)
        # Centre and size of the last grid laid by generate_all_anchors (its cache key).
        self.image_center = image_center
        self.size = size
        self.anchors = self.generate_anchors()
        self.all_anchors: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def anchor_num(self) -> int:
        """Number of anchors per position: len(ratios) * len(scales)."""
        return len(self.ratios) * len(self.scales)

    def generate_anchors(self) -> np.ndarray:
        """Anchors centred at 0 as corners, shape (anchor_num, 4) float32: (-w/2, -h/2, w/2, h/2)."""
        anchors = np.zeros((self.anchor_num, 4), dtype=np.float32)
        size = self.stride * self.stride
        count = 0
        for r in self.ratios:
            ws = int(math.sqrt(size * 1.0 / r))
            hs = int(ws * r)
            for s in self.scales:
                w = ws * s
                h = hs * s
                anchors[count][:] = [-w * 0.5, -h * 0.5, w * 0.5, h * 0.5]
                count += 1
        return anchors

    def generate_all_anchors(self, im_c: float, size: int) -> bool:
        """Lay the anchors on a ``size x size`` grid centred on image centre ``im_c`` (training).

        Sets ``self.all_anchors = (corners, centers)``, each float32 of shape (4, anchor_num, size,
        size): (x1, y1, x2, y2) and (cx, cy, w, h). Grid position (i, j) has its centre at
        ``im_c - size // 2 * stride + (j, i) * stride``. Returns False (and keeps the grid) when it
        was already built for the same ``im_c`` and ``size``, True otherwise.
        """
        if self.all_anchors is not None and self.image_center == im_c and self.size == size:
            return False
        self.image_center = im_c
        self.size = size

        a0x = im_c - size // 2 * self.stride
        ori = np.array([a0x] * 4, dtype=np.float32)
        zero_anchors = self.anchors + ori
        x1, y1, x2, y2 = (zero_anchors[:, k].reshape(self.anchor_num, 1, 1) for k in range(4))
        cx, cy, w, h = corner2center([x1, y1, x2, y2])

        disp_x = np.arange(0, size).reshape(1, 1, -1) * self.stride
        disp_y = np.arange(0, size).reshape(1, -1, 1) * self.stride
        cx = cx + disp_x
        cy = cy + disp_y

        zero = np.zeros((self.anchor_num, size, size), dtype=np.float32)
        cx, cy, w, h = (v + zero for v in (cx, cy, w, h))
        x1, y1, x2, y2 = center2corner([cx, cy, w, h])
        self.all_anchors = (
            np.stack([x1, y1, x2, y2]).astype(np.float32),
            np.stack([cx, cy, w, h]).astype(np.float32),
        )
        return True


def generate_anchor_grid(
    stride: int, ratios: Sequence[float], scales: Sequence[float], score_size: int
) -> np.ndarray:
    """Tracking anchors as PySOT's ``SiamRPNTracker.generate_anchor``: shape (A * S * S, 4), float32.

    Rows are (cx, cy, w, h) in pixels relative to the search-crop centre, ordered anchor-major:
    row ``a * S * S + i * S + j`` is anchor shape ``a`` at grid row ``i`` (y) and column ``j`` (x),
    with ``cx = (j - S // 2) * stride`` and ``cy = (i - S // 2) * stride``. This is the order of
    ``cls``/``loc`` maps of shape (1, k * A, S, S) flattened by ``permute(1, 2, 3, 0)``.
    """
    corners = Anchors(stride, ratios, scales).anchors
    x1, y1, x2, y2 = corners[:, 0], corners[:, 1], corners[:, 2], corners[:, 3]
    shapes = np.stack([(x1 + x2) * 0.5, (y1 + y2) * 0.5, x2 - x1, y2 - y1], 1)
    anchor_num = shapes.shape[0]
    anchor = np.tile(shapes, score_size * score_size).reshape((-1, 4))
    ori = -(score_size // 2) * stride
    offsets = [ori + stride * d for d in range(score_size)]
    xx, yy = np.meshgrid(offsets, offsets)
    anchor[:, 0] = np.tile(xx.flatten(), (anchor_num, 1)).flatten().astype(np.float32)
    anchor[:, 1] = np.tile(yy.flatten(), (anchor_num, 1)).flatten().astype(np.float32)
    return anchor
