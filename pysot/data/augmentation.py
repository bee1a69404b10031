"""Template/search augmentation of PySOT's training pipeline: shift, scale, colour, blur, flip, gray.

Images are HxWx3 BGR arrays (uint8 or float); boxes are ``Corner`` (x1, y1, x2, y2) in pixels of the
image they refer to. All randomness comes from the ``numpy.random.Generator`` passed in, so a sample
is a pure function of its generator's seed.
"""

from __future__ import annotations

import cv2
import numpy as np

from pysot.utils.bbox import Center, Corner, center2corner, corner2center

# PCA colour offsets of PySOT (rows: eigenvectors scaled by eigenvalues, RGB order).
RGB_VAR = np.array(
    [
        [-0.55919361, 0.98062831, -0.41940627],
        [1.72091413, 0.19879334, -1.82968581],
        [4.64467907, 4.73710203, 4.88324118],
    ],
    dtype=np.float32,
)


def crop_roi(image: np.ndarray, box: Corner, out_size: int, padding: tuple = (0, 0, 0)) -> np.ndarray:
    """Resample the corner box ``box`` of ``image`` onto an ``out_size`` square (affine warp, constant
    ``padding`` outside the image). Box corner (x1, y1) maps to pixel 0, (x2, y2) to ``out_size - 1``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    a = (out_size - 1) / (x2 - x1)
    b = (out_size - 1) / (y2 - y1)
    mapping = np.array([[a, 0.0, -a * x1], [0.0, b, -b * y1]], dtype=np.float64)
    return cv2.warpAffine(
        image, mapping, (out_size, out_size), borderMode=cv2.BORDER_CONSTANT, borderValue=padding
    )


class Augmentation:
    """PySOT's ``Augmentation`` for one branch (template or search).

    Args:
        shift: maximum shift of the crop window in pixels (uniform in [-shift, shift] per axis).
        scale: maximum relative scale change of the crop window per axis (uniform in [-scale, scale]).
        blur: probability of a random motion-blur kernel.
        flip: probability of a horizontal flip.
        color: probability of a PCA colour offset.
    """

    def __init__(self, shift: float, scale: float, blur: float, flip: float, color: float) -> None:
        self.shift = shift
        self.scale = scale
        self.blur = blur
        self.flip = flip
        self.color = color

    @staticmethod
    def _uniform(rng: np.random.Generator) -> float:
        return float(rng.random() * 2.0 - 1.0)

    @staticmethod
    def _blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        size = int(rng.choice(np.arange(5, 46, 2)))
        kernel = np.zeros((size, size))
        c = size // 2
        wx = rng.random()
        kernel[:, c] += 1.0 / size * wx
        kernel[c, :] += 1.0 / size * (1 - wx)
        return cv2.filter2D(image, -1, kernel)

    @staticmethod
    def _color(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        offset = (RGB_VAR @ rng.standard_normal((3, 1))).reshape(3)[::-1]  # RGB -> BGR
        return image - offset

    @staticmethod
    def _gray(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)

    def _shift_scale(
        self, image: np.ndarray, box: Corner, crop_box: Corner, size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, Corner]:
        im_h, im_w = image.shape[:2]
        crop = corner2center(crop_box)
        scale_x = scale_y = 1.0
        if self.scale:
            scale_x = min(1.0 + self._uniform(rng) * self.scale, float(im_w) / crop.w)
            scale_y = min(1.0 + self._uniform(rng) * self.scale, float(im_h) / crop.h)
            crop = Center(crop.x, crop.y, crop.w * scale_x, crop.h * scale_y)
        crop_box = center2corner(crop)
        if self.shift:
            sx = self._uniform(rng) * self.shift
            sy = self._uniform(rng) * self.shift
            x1, y1, x2, y2 = crop_box
            sx = max(-x1, min(im_w - 1 - x2, sx))
            sy = max(-y1, min(im_h - 1 - y2, sy))
            crop_box = Corner(x1 + sx, y1 + sy, x2 + sx, y2 + sy)
        x1, y1 = crop_box.x1, crop_box.y1
        box = Corner(
            (box.x1 - x1) / scale_x, (box.y1 - y1) / scale_y, (box.x2 - x1) / scale_x, (box.y2 - y1) / scale_y
        )
        return crop_roi(image, crop_box, size), box

    @staticmethod
    def _flip(image: np.ndarray, box: Corner) -> tuple[np.ndarray, Corner]:
        image = cv2.flip(image, 1)
        width = image.shape[1]
        return image, Corner(width - 1 - box.x2, box.y1, width - 1 - box.x1, box.y2)

    def __call__(
        self, image: np.ndarray, box: Corner, size: int, rng: np.random.Generator, gray: bool = False
    ) -> tuple[np.ndarray, Corner]:
        """Crop a ``size`` square around the image centre with random shift/scale, then colour,
        blur and flip.

        Returns the crop (float when colour was applied) and ``box`` in crop coordinates.
        """
        h, w = image.shape[:2]
        # PySOT centres the window at (rows // 2, cols // 2) in (x, y): identical for square images.
        crop_box = center2corner(Center(h // 2, w // 2, size - 1, size - 1))
        if gray:
            image = self._gray(image)
        image, box = self._shift_scale(image, box, crop_box, size, rng)
        if self.color > rng.random():
            image = self._color(image, rng)
        if self.blur > rng.random():
            image = self._blur(image, rng)
        if self.flip and self.flip > rng.random():
            image, box = self._flip(image, box)
        return image, box
