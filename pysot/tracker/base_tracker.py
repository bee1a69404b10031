"""Tracker base classes and PySOT's crop (``get_subwindow``) without the per-frame padded image copy.

Crop convention (PySOT ``SiameseTracker.get_subwindow``): a square window of ``sz = original_sz``
pixels around ``pos`` (cx, cy), first pixel ``floor(pos - (sz + 1) / 2 + 0.5)``, last pixel
first + sz - 1; pixels outside the image take the per-channel image mean ``avg_chans`` cast to uint8
(truncation); the window is resized to ``model_sz`` with ``cv2.resize`` (bilinear) unless the sizes
are equal. PySOT pads a copy of the whole image whenever the window leaves it;
:func:`crop_window` copies only the window, and :func:`crop_window_padded_copy` keeps PySOT's path
as the reference that tests and ``tools/benchmark.py`` compare against (the two are equal byte for
byte).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import nn


def _window(pos: Sequence[float], original_sz: int) -> tuple[int, int]:
    """First column and row of PySOT's crop window (``np.floor(p - c + 0.5)``, ``c = (sz + 1) / 2``)."""
    c = (original_sz + 1) / 2
    return int(math.floor(pos[0] - c + 0.5)), int(math.floor(pos[1] - c + 0.5))


def crop_window(im: np.ndarray, pos: Sequence[float], original_sz: int, avg_chans: np.ndarray) -> np.ndarray:
    """PySOT's crop window of ``im`` (H, W, 3) uint8, shape (sz, sz, 3) uint8, ``sz = original_sz``.

    Only the window is allocated: the part inside the image is copied (or returned as a view when
    the window lies inside the image, as PySOT does), the rest is filled with ``avg_chans``.
    """
    sz = int(original_sz)
    x0, y0 = _window(pos, sz)
    h, w = im.shape[:2]
    if x0 >= 0 and y0 >= 0 and x0 + sz <= w and y0 + sz <= h:
        return im[y0 : y0 + sz, x0 : x0 + sz, :]
    patch = np.empty((sz, sz, im.shape[2]), dtype=np.uint8)
    patch[...] = avg_chans  # same float -> uint8 cast as PySOT's padded copy
    ix0, iy0 = max(x0, 0), max(y0, 0)
    ix1, iy1 = min(x0 + sz, w), min(y0 + sz, h)
    if ix0 < ix1 and iy0 < iy1:
        patch[iy0 - y0 : iy1 - y0, ix0 - x0 : ix1 - x0, :] = im[iy0:iy1, ix0:ix1, :]
    return patch


def crop_window_padded_copy(
    im: np.ndarray, pos: Sequence[float], original_sz: int, avg_chans: np.ndarray
) -> np.ndarray:
    """Reference: PySOT's crop window, computed as PySOT does (padded copy of the whole image)."""
    sz = original_sz
    im_sz = im.shape
    c = (original_sz + 1) / 2
    context_xmin = np.floor(pos[0] - c + 0.5)
    context_xmax = context_xmin + sz - 1
    context_ymin = np.floor(pos[1] - c + 0.5)
    context_ymax = context_ymin + sz - 1
    left_pad = int(max(0.0, -context_xmin))
    top_pad = int(max(0.0, -context_ymin))
    right_pad = int(max(0.0, context_xmax - im_sz[1] + 1))
    bottom_pad = int(max(0.0, context_ymax - im_sz[0] + 1))
    context_xmin += left_pad
    context_xmax += left_pad
    context_ymin += top_pad
    context_ymax += top_pad
    r, c, k = im.shape
    if any([top_pad, bottom_pad, left_pad, right_pad]):
        te_im = np.zeros((r + top_pad + bottom_pad, c + left_pad + right_pad, k), np.uint8)
        te_im[top_pad : top_pad + r, left_pad : left_pad + c, :] = im
        if top_pad:
            te_im[0:top_pad, left_pad : left_pad + c, :] = avg_chans
        if bottom_pad:
            te_im[r + top_pad :, left_pad : left_pad + c, :] = avg_chans
        if left_pad:
            te_im[:, 0:left_pad, :] = avg_chans
        if right_pad:
            te_im[:, c + left_pad :, :] = avg_chans
        return te_im[int(context_ymin) : int(context_ymax + 1), int(context_xmin) : int(context_xmax + 1), :]
    return im[int(context_ymin) : int(context_ymax + 1), int(context_xmin) : int(context_xmax + 1), :]


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


class BaseTracker:
    """A single-object tracker: ``init(img, bbox)`` then ``track(img) -> dict`` per frame.

    Images are (H, W, 3) uint8 BGR arrays; boxes are [x, y, w, h] with a 0-based top-left corner.
    """

    def init(self, img: np.ndarray, bbox: Sequence[float]) -> None:
        """Start tracking the target ``bbox`` ([x, y, w, h], 0-based) in ``img``."""
        raise NotImplementedError

    def track(self, img: np.ndarray) -> dict:
        """Locate the target in ``img``; returns at least ``bbox`` ([x, y, w, h]) and ``best_score``."""
        raise NotImplementedError


class SiameseTracker(BaseTracker):
    """Siamese trackers' crop: :meth:`get_subwindow` feeds the model on its own device.

    Args:
        reference_crop: crop through PySOT's padded copy of the whole image
            (:func:`crop_window_padded_copy`) instead of :func:`crop_window`; equal results, slower.
    """

    def __init__(self, reference_crop: bool = False) -> None:
        self.crop = crop_window_padded_copy if reference_crop else crop_window

    def get_subwindow(
        self,
        im: np.ndarray,
        pos: Sequence[float],
        model_sz: int,
        original_sz: int,
        avg_chans: np.ndarray,
        device: torch.device | str = "cpu",
    ) -> torch.Tensor:
        """Crop ``original_sz`` pixels around ``pos`` (cx, cy), resize to ``model_sz``.

        Returns a float32 tensor (1, 3, model_sz, model_sz) in BGR channel order, values 0-255, on
        ``device``.
        """
        patch = self.crop(im, pos, original_sz, avg_chans)
        if model_sz != original_sz:
            patch = cv2.resize(patch, (model_sz, model_sz))
        tensor = torch.from_numpy(np.ascontiguousarray(patch.transpose(2, 0, 1))[np.newaxis])
        return tensor.to(device=device, dtype=torch.float32)
