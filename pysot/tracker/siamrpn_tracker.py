"""SiamRPN / SiamRPN++ tracker (Li et al., CVPR 2018 / 2019): PySOT's tracking arithmetic, exactly.

Per frame: crop ``round(s_x)`` pixels around the previous centre (``s_z = sqrt(w_z * h_z)`` with
``w_z = w + CONTEXT_AMOUNT * (w + h)``, ``s_x = s_z * INSTANCE_SIZE / EXEMPLAR_SIZE``), run the
model, decode the anchors, multiply the foreground probability by the scale/ratio penalty
``exp(-(r_c * s_c - 1) * PENALTY_K)``, blend with a Hanning window (``WINDOW_INFLUENCE``), take the
arg-max, move the centre there and smooth the size with ``lr = penalty * score * LR``, then clip.
With target-aware selection the model's backbone channels are masked (see
:mod:`pysot.models.target_aware`); the masks are refitted at every :meth:`SiamRPNTracker.init`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from yacs.config import CfgNode

from pysot.models.inference import prepare_inference
from pysot.models.target_aware import TargetAwareSelector
from pysot.tracker.base_tracker import SiameseTracker, model_device
from pysot.utils.anchor import generate_anchor_grid
from toolkit.boxes import cxy_wh_2_rect, pixel_center

logger = logging.getLogger(__name__)


def score_map_size(instance_size: int, exemplar_size: int, stride: int, base_size: int) -> int:
    """Side of the RPN score map: ``(instance - exemplar) // stride + 1 + base_size`` (25 for 255/127/8/8)."""
    return (instance_size - exemplar_size) // stride + 1 + base_size


def cosine_window(score_size: int, anchor_num: int) -> np.ndarray:
    """Hanning window ``outer(hanning(S), hanning(S))`` flattened and tiled per anchor: (A * S * S,)."""
    hanning = np.hanning(score_size)
    return np.tile(np.outer(hanning, hanning).flatten(), anchor_num)


def _to_host(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """The tensors as float32 on the CPU, in one device-to-host copy (a no-op for CPU float32 tensors)."""
    if all(t.device.type == "cpu" for t in tensors):
        return [t.float() for t in tensors]
    flat = torch.cat([t.float().reshape(-1) for t in tensors]).cpu()
    return [part.reshape(t.shape) for part, t in zip(flat.split([t.numel() for t in tensors]), tensors)]


class SiamRPNTracker(SiameseTracker):
    """PySOT's ``SiamRPNTracker`` with an optional target-aware channel selection at init.

    Args:
        model: a ``ModelBuilder``-like module: ``template(z)``, ``track(x) -> dict(cls, loc)``,
            ``set_channel_masks(masks | None)``; with ``target_aware`` also ``backbone_features(x)``
            and ``template_from_features(feats)``; with ``reference=True`` ``track_reference(x)``.
            ``cls`` is (1, 2A, S, S) (background logits of all anchors, then foreground), ``loc``
            (1, 4A, S, S) (dx, dy, dw, dh blocks); it runs on the device of its parameters.
        target_aware: the channel selector, or None for plain SiamRPN++.
        reference: the straightforward computation (``model.track_reference`` and PySOT's padded
            whole-image copy in the crop, float32, BatchNorm not folded), kept to prove the fast
            path gives the same boxes.
        precision: ``TRACK.PRECISION`` of backbone, neck and heads (fp32, bf16, fp16, auto; see
            :mod:`pysot.models.inference`); ignored by the reference path. Decoding, penalties and
            box arithmetic stay float32/float64 numpy, and the target-aware fit always runs on
            float32 features.
        fuse_bn: track with a copy of ``model`` whose BatchNorms are folded into the convolutions
            (``TRACK.FUSE_BN``); ``model`` itself is not modified. Ignored by the reference path.
        The remaining arguments are PySOT's ``TRACK.*`` and ``ANCHOR.*`` values.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        exemplar_size: int = 127,
        instance_size: int = 255,
        base_size: int = 8,
        context_amount: float = 0.5,
        penalty_k: float = 0.04,
        window_influence: float = 0.44,
        lr: float = 0.4,
        anchor_stride: int = 8,
        anchor_ratios: Sequence[float] = (0.33, 0.5, 1, 2, 3),
        anchor_scales: Sequence[float] = (8,),
        target_aware: TargetAwareSelector | None = None,
        reference: bool = False,
        precision: str = "fp32",
        fuse_bn: bool = False,
    ) -> None:
        super().__init__(reference_crop=reference)
        model.eval()
        self.source_model = model
        self.model = model if reference else prepare_inference(model, precision, fuse_bn)
        self.precision = getattr(self.model, "precision", "fp32")
        self.exemplar_size = exemplar_size
        self.instance_size = instance_size
        self.base_size = base_size
        self.context_amount = context_amount
        self.penalty_k = penalty_k
        self.window_influence = window_influence
        self.lr = lr
        self.anchor_stride = anchor_stride
        self.anchor_ratios = list(anchor_ratios)
        self.anchor_scales = list(anchor_scales)
        self.anchor_num = len(self.anchor_ratios) * len(self.anchor_scales)
        self.target_aware = target_aware
        self.reference = reference
        self.score_size, self.window, self.anchors = self._grid(instance_size)
        self.center_pos = np.zeros(2)
        self.size = np.zeros(2)
        self.channel_average = np.zeros(3)

    @classmethod
    def from_config(cls, cfg: CfgNode, model: nn.Module, **kwargs) -> SiamRPNTracker:
        """Build from ``cfg.TRACK``, ``cfg.ANCHOR`` and ``cfg.TA``; ``kwargs`` override (e.g. reference)."""
        args = dict(
            exemplar_size=cfg.TRACK.EXEMPLAR_SIZE,
            instance_size=cfg.TRACK.INSTANCE_SIZE,
            base_size=cfg.TRACK.BASE_SIZE,
            context_amount=cfg.TRACK.CONTEXT_AMOUNT,
            penalty_k=cfg.TRACK.PENALTY_K,
            window_influence=cfg.TRACK.WINDOW_INFLUENCE,
            lr=cfg.TRACK.LR,
            anchor_stride=cfg.ANCHOR.STRIDE,
            anchor_ratios=cfg.ANCHOR.RATIOS,
            anchor_scales=cfg.ANCHOR.SCALES,
            target_aware=TargetAwareSelector.from_config(cfg.TA) if cfg.TA.ENABLE else None,
            precision=cfg.TRACK.PRECISION,
            fuse_bn=cfg.TRACK.FUSE_BN,
        )
        args.update(cls._extra_config(cfg))
        args.update(kwargs)
        return cls(model, **args)

    @staticmethod
    def _extra_config(cfg: CfgNode) -> dict:
        """Constructor arguments a subclass reads from ``cfg`` beyond the common ones."""
        return {}

    def _grid(self, instance_size: int) -> tuple[int, np.ndarray, np.ndarray]:
        """Score size, cosine window (A*S*S,) and anchors (A*S*S, 4) for one search size."""
        score_size = score_map_size(instance_size, self.exemplar_size, self.anchor_stride, self.base_size)
        window = cosine_window(score_size, self.anchor_num)
        anchors = generate_anchor_grid(self.anchor_stride, self.anchor_ratios, self.anchor_scales, score_size)
        return score_size, window, anchors

    @staticmethod
    def _convert_bbox(delta: torch.Tensor, anchor: np.ndarray) -> np.ndarray:
        """Decode ``loc`` (1, 4A, S, S) with ``anchor`` (A*S*S, 4) -> (4, A*S*S) cx, cy, w, h (crop px)."""
        delta = delta.permute(1, 2, 3, 0).contiguous().view(4, -1).cpu().numpy()
        delta[0, :] = delta[0, :] * anchor[:, 2] + anchor[:, 0]
        delta[1, :] = delta[1, :] * anchor[:, 3] + anchor[:, 1]
        delta[2, :] = np.exp(delta[2, :]) * anchor[:, 2]
        delta[3, :] = np.exp(delta[3, :]) * anchor[:, 3]
        return delta

    @staticmethod
    def _convert_score(score: torch.Tensor) -> np.ndarray:
        """Foreground probability per anchor from ``cls`` (1, 2A, S, S) -> (A*S*S,)."""
        score = score.permute(1, 2, 3, 0).contiguous().view(2, -1).permute(1, 0)
        return F.softmax(score, dim=1)[:, 1].cpu().numpy()

    @staticmethod
    def _bbox_clip(cx: float, cy: float, width: float, height: float, boundary: Sequence[int]):
        """Clip the centre into the image and the size to [10, image side]; ``boundary`` is (H, W)."""
        cx = max(0, min(cx, boundary[1]))
        cy = max(0, min(cy, boundary[0]))
        width = max(10, min(width, boundary[1]))
        height = max(10, min(height, boundary[0]))
        return cx, cy, width, height

    def _context_size(self) -> float:
        """``sqrt(w_z * h_z)``: the template's side in image pixels before rounding."""
        w_z = self.size[0] + self.context_amount * np.sum(self.size)
        h_z = self.size[1] + self.context_amount * np.sum(self.size)
        return np.sqrt(w_z * h_z)

    def init_crops(
        self, img: np.ndarray, bbox: Sequence[float], search: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Set the state from ``bbox`` [x, y, w, h] (0-based) on ``img`` and crop around the target.

        The centre is ``(x + (w - 1) / 2, y + (h - 1) / 2)`` (PySOT's convention). Returns the
        template crop (1, 3, EXEMPLAR, EXEMPLAR) from ``s_z = round(sqrt(w_z * h_z))`` pixels and the
        search crop (1, 3, INSTANCE, INSTANCE) from ``round(s_z * INSTANCE / EXEMPLAR)`` pixels that
        the target-aware fit uses (None unless ``search``), both on the model's device.
        """
        self.center_pos = pixel_center(bbox)  # (x + (w-1)/2, y + (h-1)/2): toolkit.boxes
        self.size = np.array([bbox[2], bbox[3]])
        s_z = round(self._context_size())
        s_x = s_z * (self.instance_size / self.exemplar_size)
        self.channel_average = np.mean(img, axis=(0, 1))
        device = model_device(self.model)
        with torch.inference_mode():
            z_crop = self.get_subwindow(
                img, self.center_pos, self.exemplar_size, s_z, self.channel_average, device
            )
            if not search:
                return z_crop, None
            x_crop = self.get_subwindow(
                img, self.center_pos, self.instance_size, round(s_x), self.channel_average, device
            )
        return z_crop, x_crop

    def init(self, img: np.ndarray, bbox: Sequence[float]) -> None:
        """Initialise on ``img`` (H, W, 3) uint8 BGR with ``bbox`` [x, y, w, h] (0-based).

        Without target-aware selection only the template crop is used (as PySOT); with it, the
        channel masks are fitted on both crops (:meth:`init_crops`) before the template is cached.
        """
        z_crop, x_crop = self.init_crops(img, bbox, search=self.target_aware is not None)
        with torch.inference_mode():
            self.model.set_channel_masks(None)
            if self.target_aware is None:
                self.model.template(z_crop)
                return
            # the fit always sees float32 features, so the channels do not depend on the precision
            fit_features = getattr(self.model, "fit_features", self.model.backbone_features)
            zf32 = fit_features(z_crop)
            masks = self.target_aware.select(zf32, fit_features(x_crop))
            self.model.set_channel_masks(masks)
            zf = zf32 if self.precision == "fp32" else self.model.backbone_features(z_crop)
            self.model.template_from_features(zf)

    def _score_boxes(self, img: np.ndarray, instance_size: int, anchors: np.ndarray):
        """Crop, run the model, decode: (score (N,), boxes (4, N) in crop pixels, penalty (N,), scale_z)."""
        s_z = self._context_size()
        scale_z = self.exemplar_size / s_z
        s_x = s_z * (instance_size / self.exemplar_size)
        with torch.inference_mode():
            x_crop = self.get_subwindow(
                img,
                self.center_pos,
                instance_size,
                round(s_x),
                self.channel_average,
                model_device(self.model),
            )
            outputs = self.model.track_reference(x_crop) if self.reference else self.model.track(x_crop)
            cls, loc = _to_host(outputs["cls"], outputs["loc"])
            score = self._convert_score(cls)
            pred_bbox = self._convert_bbox(loc, anchors)

        def change(r):
            return np.maximum(r, 1.0 / r)

        def sz(w, h):
            pad = (w + h) * 0.5
            return np.sqrt((w + pad) * (h + pad))

        s_c = change(
            sz(pred_bbox[2, :], pred_bbox[3, :]) / (sz(self.size[0] * scale_z, self.size[1] * scale_z))
        )
        r_c = change((self.size[0] / self.size[1]) / (pred_bbox[2, :] / pred_bbox[3, :]))
        penalty = np.exp(-(r_c * s_c - 1) * self.penalty_k)
        return score, pred_bbox, penalty, scale_z

    def track(self, img: np.ndarray) -> dict:
        """Track one frame; returns ``bbox`` [x, y, w, h] (0-based, float) and ``best_score`` (float)."""
        _, result = self._step(img)
        return result

    def _step(self, img: np.ndarray) -> tuple[int, dict]:
        """Score, pick the best anchor, smooth and clip the box, update the state: (best anchor index,
        the ``track`` result)."""
        score, pred_bbox, penalty, scale_z = self._score_boxes(img, self.instance_size, self.anchors)
        pscore = penalty * score
        pscore = pscore * (1 - self.window_influence) + self.window * self.window_influence
        best_idx = np.argmax(pscore)

        bbox = pred_bbox[:, best_idx] / scale_z
        lr = penalty[best_idx] * score[best_idx] * self.lr
        cx = bbox[0] + self.center_pos[0]
        cy = bbox[1] + self.center_pos[1]
        width = self.size[0] * (1 - lr) + bbox[2] * lr
        height = self.size[1] * (1 - lr) + bbox[3] * lr
        cx, cy, width, height = self._bbox_clip(cx, cy, width, height, img.shape[:2])

        self.center_pos = np.array([cx, cy])
        self.size = np.array([width, height])
        return int(best_idx), {
            "bbox": [float(v) for v in cxy_wh_2_rect((cx, cy), (width, height))],
            "best_score": float(score[best_idx]),
        }
