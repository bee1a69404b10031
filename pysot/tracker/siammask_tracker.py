"""SiamMask tracker (Wang et al., CVPR 2019): PySOT's ``SiamMaskTracker`` arithmetic, exactly.

Per frame: the RPN step of :class:`~pysot.tracker.siamrpn_tracker.SiamRPNTracker` (same crop,
penalties, window, smoothed and clipped box), then the refined mask at the best anchor's score-map
position ``(row, col)`` (``model.mask_refine``): a 127 x 127 sigmoid map covering the
exemplar-sized window ``EXEMPLAR_SIZE * s`` (``s = round(s_x) / INSTANCE_SIZE``) whose top-left
corner is the search crop's corner ``centre - round(s_x) / 2`` plus ``(col - BASE_SIZE / 2) *
STRIDE * s`` (rows alike). It is mapped back onto the image with one affine ``cv2.warpAffine``
(bilinear, 0 outside), thresholded at ``TRACK.MASK_THERSHOLD`` (PySOT's spelling of the key), and
the largest external contour, when its area exceeds 100 px, is turned into the 4 corners of its
minimum-area rectangle (``cv2.minAreaRect`` -> ``cv2.boxPoints``); otherwise the polygon is the
tracked box's corners.

Differences from PySOT that do not change any number: ``findContours``'s return form is taken from
the length of its result (PySOT tests ``cv2.__version__[-5] == '4'``, which picks the wrong form on
OpenCV 4.10+ and 5.x and then crashes); the anchor count comes from the configuration (PySOT
hard-codes 5); target-aware selection, when enabled, masks only the backbone layers that the neck
reads (the last one for SiamMask; the others feed the refinement module unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import nn
from yacs.config import CfgNode

from pysot.tracker.siamrpn_tracker import SiamRPNTracker
from toolkit.boxes import cxy_wh_2_rect

# PySOT keeps a contour only when its area exceeds this many pixels.
MIN_CONTOUR_AREA = 100


def find_external_contours(binary: np.ndarray) -> list[np.ndarray]:
    """External contours of a uint8 mask (``RETR_EXTERNAL``, ``CHAIN_APPROX_NONE``), any OpenCV version.

    OpenCV 3 returns ``(image, contours, hierarchy)``, OpenCV 2, 4 and 5 ``(contours, hierarchy)``;
    the contours are the second-to-last item in both forms.
    """
    found = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return list(found[-2])


def crop_back(
    image: np.ndarray, bbox: Sequence[float], out_sz: Sequence[int], padding: float = 0
) -> np.ndarray:
    """PySOT's ``_crop_back``: warp ``image`` so that ``bbox`` [x, y, w, h] spans the output.

    Input pixel ``(u, v)`` lands on output ``(a u + c, b v + d)`` with ``a = (W_out - 1) / w``,
    ``b = (H_out - 1) / h``, ``c = -a x``, ``d = -b y`` (so ``(x, y)`` maps to the output's origin);
    bilinear, ``padding`` outside. ``out_sz`` is (width, height); returns (height, width) in the
    dtype of ``image``.
    """
    a = (out_sz[0] - 1) / bbox[2]
    b = (out_sz[1] - 1) / bbox[3]
    c = -a * bbox[0]
    d = -b * bbox[1]
    mapping = np.array([[a, 0, c], [0, b, d]], dtype=np.float64)
    return cv2.warpAffine(
        image,
        mapping,
        (int(out_sz[0]), int(out_sz[1])),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=padding,
    )


def mask_polygon(
    mask: np.ndarray, threshold: float, center: Sequence[float], size: Sequence[float]
) -> np.ndarray:
    """PySOT's ``_mask_post_processing``: 4 corners (4, 2) of the target region in ``mask``.

    ``mask`` (H, W) float is thresholded (``> threshold``); the largest external contour (by
    ``cv2.contourArea``; the first of equal largest), if its area exceeds 100, gives the corners of
    its minimum-area rectangle (``cv2.boxPoints``, float32). Otherwise the corners of the box of
    centre ``center`` and size ``size`` (``cxy_wh_2_rect``), clockwise from the top-left (float64).
    """
    contours = find_external_contours((mask > threshold).astype(np.uint8))
    areas = [cv2.contourArea(cnt) for cnt in contours]
    if contours and np.max(areas) > MIN_CONTOUR_AREA:
        contour = contours[int(np.argmax(areas))]
        return cv2.boxPoints(cv2.minAreaRect(contour.reshape(-1, 2)))
    x, y, w, h = cxy_wh_2_rect(center, size)
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


class SiamMaskTracker(SiamRPNTracker):
    """PySOT's ``SiamMaskTracker``: the SiamRPN++ box plus a segmentation mask and its rotated box.

    Args:
        model: as :class:`SiamRPNTracker`, built from a SiamMask config (``MASK.MASK`` and
            ``REFINE.REFINE``): it also has ``mask_refine((row, col)) -> (1, 127*127)`` logits for the
            last :meth:`track` call, and ``head_layers`` (the backbone outputs the neck reads).
        mask_threshold: PySOT's ``TRACK.MASK_THERSHOLD``: mask probabilities above it are the target.
        mask_output_size: PySOT's ``TRACK.MASK_OUTPUT_SIZE``: the side of the refined mask (127).
        **kwargs: as :class:`SiamRPNTracker` (``TA.*`` lists have one entry per layer the neck reads).
    """

    def __init__(
        self, model: nn.Module, *, mask_threshold: float = 0.30, mask_output_size: int = 127, **kwargs
    ) -> None:
        for name in ("mask_refine", "head_layers"):
            if not hasattr(model, name):
                raise TypeError(
                    f"SiamMaskTracker needs a SiamMask model (with {name}); got {type(model).__name__}"
                )
        if not getattr(model, "refine_enabled", True):
            raise ValueError("SiamMaskTracker needs a config with MASK.MASK: True and REFINE.REFINE: True")
        super().__init__(model, **kwargs)
        layers = len(model.head_layers)
        if self.target_aware is not None and len(self.target_aware.lr) != layers:
            raise ValueError(
                f"TA.CHANNELS, TA.LR and TA.MOMENTUM need one entry per backbone layer the neck reads: "
                f"{layers} for this SiamMask model, got {len(self.target_aware.lr)} "
                "(experiments/siammask_r50_l3/config.yaml sets them for layer3)"
            )
        self.mask_threshold = mask_threshold
        self.mask_output_size = mask_output_size

    @staticmethod
    def _extra_config(cfg: CfgNode) -> dict:
        return dict(mask_threshold=cfg.TRACK.MASK_THERSHOLD, mask_output_size=cfg.TRACK.MASK_OUTPUT_SIZE)

    def init(self, img: np.ndarray, bbox: Sequence[float]) -> None:
        """As :meth:`SiamRPNTracker.init`; target-aware masks apply only to ``model.head_layers``."""
        if self.target_aware is None:
            super().init(img, bbox)
            return
        z_crop, x_crop = self.init_crops(img, bbox, search=True)
        with torch.inference_mode():
            self.model.set_channel_masks(None)
            # as SiamRPNTracker: the fit sees float32 features whatever the tracking precision
            fit_features = getattr(self.model, "fit_features", self.model.backbone_features)
            zf32, xf32 = fit_features(z_crop), fit_features(x_crop)
            layers = list(self.model.head_layers)
            selected = self.target_aware.select([zf32[i] for i in layers], [xf32[i] for i in layers])
            masks: list[torch.Tensor | None] = [None] * len(zf32)
            for i, mask in zip(layers, selected):
                masks[i] = mask
            self.model.set_channel_masks(masks)
            fp32 = getattr(self, "precision", "fp32") == "fp32"
            self.model.template_from_features(zf32 if fp32 else self.model.backbone_features(z_crop))

    def track(self, img: np.ndarray) -> dict:
        """Track one frame (H, W, 3) uint8 BGR.

        Returns ``bbox`` [x, y, w, h] (0-based, float), ``best_score`` (float), ``polygon`` (8 floats,
        4 corners x, y) and ``mask`` (H, W) float32 probabilities in the image.
        """
        s_x = round(self._context_size() * (self.instance_size / self.exemplar_size))
        crop_box = [self.center_pos[0] - s_x / 2, self.center_pos[1] - s_x / 2, s_x, s_x]
        best_idx, result = self._step(img)

        _, row, col = np.unravel_index(best_idx, (self.anchor_num, self.score_size, self.score_size))
        mask_in_img = self._mask_in_image(int(row), int(col), crop_box, img.shape[:2])
        polygon = mask_polygon(mask_in_img, self.mask_threshold, self.center_pos, self.size)
        result["polygon"] = [float(v) for v in polygon.flatten()]
        result["mask"] = mask_in_img
        return result

    def _mask_in_image(
        self, row: int, col: int, crop_box: Sequence[float], image_hw: Sequence[int]
    ) -> np.ndarray:
        """The refined mask at score-map ``(row, col)`` warped onto the (H, W) image, float32."""
        out_size = self.mask_output_size
        with torch.inference_mode():
            logits = self.model.mask_refine((row, col))
            mask = logits.sigmoid().squeeze().view(out_size, out_size).float().cpu().numpy()
        s = crop_box[2] / self.instance_size
        sub_box = [
            crop_box[0] + (col - self.base_size / 2) * self.anchor_stride * s,
            crop_box[1] + (row - self.base_size / 2) * self.anchor_stride * s,
            s * self.exemplar_size,
            s * self.exemplar_size,
        ]
        s = out_size / sub_box[2]
        im_h, im_w = image_hw
        back_box = [-sub_box[0] * s, -sub_box[1] * s, im_w * s, im_h * s]
        return crop_back(mask, back_box, (im_w, im_h))
