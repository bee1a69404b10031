"""Long-term SiamRPN++ (PySOT's ``SiamRPNLTTracker``): a larger search region once the target is lost.

When the best score falls below ``CONFIDENCE_LOW`` the tracker keeps its previous box and searches
the next frames in a ``LOST_INSTANCE_SIZE`` crop with an almost flat window (influence 0.001); a
score above ``CONFIDENCE_HIGH`` returns it to the normal ``INSTANCE_SIZE`` search. As in PySOT the
stored state is the unclipped box; only the returned box is clipped. Unlike PySOT, :meth:`init`
leaves the long-term state (PySOT carries it over from the previous video).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from yacs.config import CfgNode

from pysot.tracker.siamrpn_tracker import SiamRPNTracker
from toolkit.boxes import cxy_wh_2_rect

# PySOT's window influence while searching the enlarged region.
LOST_WINDOW_INFLUENCE = 0.001


class SiamRPNLTTracker(SiamRPNTracker):
    """SiamRPN++ long-term tracker.

    Args:
        lost_instance_size: search crop size while lost (PySOT ``TRACK.LOST_INSTANCE_SIZE``, 831).
        confidence_low: below it the target counts as lost (``TRACK.CONFIDENCE_LOW``).
        confidence_high: above it the target counts as found again (``TRACK.CONFIDENCE_HIGH``).
        **kwargs: as :class:`SiamRPNTracker`.
    """

    def __init__(
        self,
        model,
        *,
        lost_instance_size: int = 831,
        confidence_low: float = 0.85,
        confidence_high: float = 0.998,
        **kwargs,
    ) -> None:
        super().__init__(model, **kwargs)
        self.lost_instance_size = lost_instance_size
        self.confidence_low = confidence_low
        self.confidence_high = confidence_high
        self.lost_score_size, self.lost_window, self.lost_anchors = self._grid(lost_instance_size)
        self.longterm_state = False

    @staticmethod
    def _extra_config(cfg: CfgNode) -> dict:
        return dict(
            lost_instance_size=cfg.TRACK.LOST_INSTANCE_SIZE,
            confidence_low=cfg.TRACK.CONFIDENCE_LOW,
            confidence_high=cfg.TRACK.CONFIDENCE_HIGH,
        )

    def init(self, img: np.ndarray, bbox: Sequence[float]) -> None:
        """As :meth:`SiamRPNTracker.init`, and start in the normal (short-term) search state."""
        super().init(img, bbox)
        self.longterm_state = False

    def track(self, img: np.ndarray) -> dict:
        """Track one frame; returns ``bbox`` [x, y, w, h] and ``best_score`` as the short-term tracker."""
        if self.longterm_state:
            instance_size, window, anchors = self.lost_instance_size, self.lost_window, self.lost_anchors
            influence = LOST_WINDOW_INFLUENCE
        else:
            instance_size, window, anchors = self.instance_size, self.window, self.anchors
            influence = self.window_influence
        score, pred_bbox, penalty, scale_z = self._score_boxes(img, instance_size, anchors)
        pscore = penalty * score
        pscore = pscore * (1 - influence) + window * influence
        best_idx = np.argmax(pscore)

        bbox = pred_bbox[:, best_idx] / scale_z
        lr = penalty[best_idx] * score[best_idx] * self.lr
        best_score = score[best_idx]
        if best_score >= self.confidence_low:
            cx = bbox[0] + self.center_pos[0]
            cy = bbox[1] + self.center_pos[1]
            width = self.size[0] * (1 - lr) + bbox[2] * lr
            height = self.size[1] * (1 - lr) + bbox[3] * lr
        else:
            cx, cy = self.center_pos[0], self.center_pos[1]
            width, height = self.size[0], self.size[1]

        self.center_pos = np.array([cx, cy])
        self.size = np.array([width, height])
        cx, cy, width, height = self._bbox_clip(cx, cy, width, height, img.shape[:2])

        if best_score < self.confidence_low:
            self.longterm_state = True
        elif best_score > self.confidence_high:
            self.longterm_state = False
        return {
            "bbox": [float(v) for v in cxy_wh_2_rect((cx, cy), (width, height))],
            "best_score": float(best_score),
        }
