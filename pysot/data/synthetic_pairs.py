"""Synthetic training pairs, rendered on the fly from the ``'train'`` texture bank.

Each pair imitates two frames of a synthetic tracking video as PySOT's ``crop511`` pre-processing
stores them: a square canvas centred on the target, scaled so that the target with context
(``s_z = sqrt((w + p)(h + p))``, ``p = (w + h) / 2``) spans ``exemplar_size`` pixels. Between the
two frames the target moves against its background (the background shifts), changes scale (the
background zooms, since the crop renormalises the target), rotates, changes brightness, and can be
partly occluded; distractors (other texture patches, some cut from the target's own texture) are
scattered around. Textures come from ``toolkit.datasets.synth_textures.texture_bank('train')``,
whose pixels never appear in the SYNTH benchmarks, and a ``video`` is a seed: ``(seed, index)``
fixes its textures and target, the per-sample generator the frame gap and the motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from toolkit.datasets.synth_textures import Texture, texture_bank

# (image HxWx3 BGR uint8, annotation [w, h]: the target's size, any unit; the crop is centred on it)
Sample = tuple[np.ndarray, list]


@dataclass(frozen=True)
class _Video:
    """What a synthetic video keeps fixed: background and target appearance."""

    bg: int  # texture index of the background
    bg_center: tuple[float, float]  # texture point under the target in the first frame
    bg_zoom: float  # texture pixels per canvas pixel in the first frame
    tg: int  # texture index of the target
    tg_center: tuple[float, float]  # centre of the target's patch in its texture
    tg_zoom: float  # texture pixels per canvas pixel of the target's patch
    aspect: float  # target h / w
    ellipse: bool  # target silhouette: ellipse or rectangle
    angle: float  # target rotation in the first frame, degrees
    n_distractors: int


def target_size(aspect: float, exemplar_size: int, context_amount: float = 0.5) -> tuple[float, float]:
    """(w, h) of a target with ``h / w = aspect`` whose context box ``s_z`` spans ``exemplar_size``."""
    # s_z^2 = (w + c(w + h)) (h + c(w + h)) with h = a w  ->  w = exemplar / sqrt(k)
    c = context_amount
    k = (1 + c * (1 + aspect)) * (aspect + c * (1 + aspect))
    w = exemplar_size / math.sqrt(k)
    return w, w * aspect


def _context_size(w: float, h: float, context_amount: float = 0.5) -> float:
    """PySOT's ``s_z = sqrt((w + p)(h + p))`` with ``p = context_amount * (w + h)``."""
    p = context_amount * (w + h)
    return math.sqrt((w + p) * (h + p))


def axis_aligned_size(w: float, h: float, angle: float, ellipse: bool) -> tuple[float, float]:
    """(W, H) of the axis-aligned box around a ``w x h`` rectangle or ellipse rotated by ``angle``
    degrees (the ground truth a benchmark stores for it)."""
    a = math.radians(angle)
    c, s = abs(math.cos(a)), abs(math.sin(a))
    if ellipse:
        return math.hypot(w * c, h * s), math.hypot(w * s, h * c)
    return w * c + h * s, w * s + h * c


def _warp(texture: np.ndarray, tex_center, zoom: float, angle: float, size: int, out_center) -> np.ndarray:
    """Canvas of ``size`` where canvas point ``out_center + v`` shows texture point
    ``tex_center + zoom * R(angle) v`` (reflected at the texture's borders)."""
    a = math.radians(angle)
    ca, sa = math.cos(a) * zoom, math.sin(a) * zoom
    ox, oy = out_center
    tx, ty = tex_center
    m = np.array([[ca, -sa, tx - ca * ox + sa * oy], [sa, ca, ty - sa * ox - ca * oy]], dtype=np.float64)
    return cv2.warpAffine(
        texture, m, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT
    )


def _mask(size: int, center, wh, angle: float, ellipse: bool) -> np.ndarray:
    """Soft float32 (size, size, 1) silhouette of a rotated rectangle or ellipse."""
    mask = np.zeros((size, size), np.float32)
    (cx, cy), (w, h) = center, wh
    if ellipse:
        cv2.ellipse(mask, ((cx, cy), (w, h), angle), 1.0, -1, cv2.LINE_AA)
    else:
        pts = cv2.boxPoints(((cx, cy), (w, h), angle))
        cv2.fillConvexPoly(mask, np.round(pts * 16).astype(np.int32), 1.0, cv2.LINE_AA, 4)
    return mask[:, :, None]


class SyntheticPairs:
    """Sub-dataset of synthetic videos with PySOT's sub-dataset interface.

    Args:
        seed: seed of the video parameters (the name space of this sub-dataset).
        num_use: videos per pass (and the number of distinct videos).
        frame_range: maximum frame gap; motion, zoom, rotation and lighting changes grow with it.
        exemplar_size: ``TRAIN.EXEMPLAR_SIZE``, the size of the target's context box on the canvas.
        canvas: side of the rendered (square) images, odd; must cover the search crop plus its
            shift/scale augmentation.
        max_distractors: at most this many distractor patches per frame.
        occlusion: probability that a distractor is placed over the target in the search frame.
        camouflage: probability that the background is cut from the target's own texture.
        split: texture split; ``'train'`` keeps the SYNTH benchmark textures unseen.
    """

    def __init__(
        self,
        seed: int = 0,
        num_use: int = 100000,
        frame_range: int = 50,
        exemplar_size: int = 127,
        canvas: int = 383,
        max_distractors: int = 4,
        occlusion: float = 0.2,
        camouflage: float = 0.15,
        split: str = "train",
    ) -> None:
        self.name = "SYNTH_PATCHES"
        self.seed = int(seed)
        self.num = self.num_use = int(num_use)
        self.frame_range = int(frame_range)
        self.exemplar_size = int(exemplar_size)
        self.canvas = int(canvas) | 1
        # the template crop needs little room around it (its augmentation shifts by a few pixels)
        self.template_canvas = min(self.canvas, (self.exemplar_size + 32) | 1)
        self.max_distractors = int(max_distractors)
        self.occlusion = float(occlusion)
        self.camouflage = float(camouflage)
        self.textures: tuple[Texture, ...] = texture_bank(split)

    def __len__(self) -> int:
        return self.num

    def _video(self, index: int) -> _Video:
        rng = np.random.default_rng([self.seed, index])
        n = len(self.textures)
        tg = int(rng.integers(n))
        # camouflage: the background cut from the target's own texture
        bg = tg if rng.random() < self.camouflage else int(rng.integers(n))
        bh, bw = self.textures[bg].image.shape[:2]
        th, tw = self.textures[tg].image.shape[:2]
        return _Video(
            bg=bg,
            bg_center=(rng.uniform(0, bw), rng.uniform(0, bh)),
            bg_zoom=math.exp(rng.uniform(math.log(0.4), math.log(2.5))),
            tg=tg,
            tg_center=(rng.uniform(0.2, 0.8) * tw, rng.uniform(0.2, 0.8) * th),
            tg_zoom=math.exp(rng.uniform(math.log(0.3), math.log(2.0))),
            aspect=math.exp(rng.uniform(math.log(1 / 3), math.log(3))),
            ellipse=bool(rng.random() < 0.1),
            angle=float(rng.uniform(-45, 45) if rng.random() < 0.5 else rng.normal(0, 5)),
            n_distractors=int(rng.integers(self.max_distractors + 1)),
        )

    def _render(self, video: _Video, rng: np.random.Generator, gap: int, size: int) -> Sample:
        """One ``size``-square frame ``gap`` frames after the video's first (gap 0: the first)."""
        c = size // 2
        t = gap / max(self.frame_range, 1)
        aspect = video.aspect * math.exp(rng.normal(0, 0.25 * t))
        angle = video.angle + rng.normal(0, 30 * t)
        # the ground truth is the axis-aligned box of the rotated silhouette; that box gets the
        # standard context size, the silhouette inside it is rendered at the same scale
        w, h = target_size(aspect, self.exemplar_size)
        big_w, big_h = axis_aligned_size(w, h, angle, video.ellipse)
        f = self.exemplar_size / _context_size(big_w, big_h)
        w, h, big_w, big_h = w * f, h * f, big_w * f, big_h * f
        # the crop renormalises the target, so its scale change shows as the background zooming
        zoom = math.exp(rng.normal(0, 0.3 * t))
        shift = rng.normal(0, 40 * t, size=2)
        bg_tex = self.textures[video.bg].image
        bg_center = (
            video.bg_center[0] + shift[0] * video.bg_zoom,
            video.bg_center[1] + shift[1] * video.bg_zoom,
        )
        image = _warp(bg_tex, bg_center, video.bg_zoom * zoom, 0.0, size, (c, c)).astype(np.float32)

        layers = []  # (texture, centre in texture, zoom, angle, canvas centre, (w, h), ellipse)
        for _ in range(video.n_distractors if gap == 0 else int(rng.integers(video.n_distractors + 1))):
            same = rng.random() < 0.35  # a patch of the target's own texture: a look-alike
            k = video.tg if same else int(rng.integers(len(self.textures)))
            th, tw = self.textures[k].image.shape[:2]
            r = rng.uniform(0.4, 1.2) * self.exemplar_size  # within the search region
            phi = rng.uniform(0, 2 * math.pi)
            dw, dh = target_size(math.exp(rng.uniform(math.log(1 / 3), math.log(3))), self.exemplar_size)
            s = math.exp(rng.uniform(math.log(0.6), math.log(1.5)))
            layers.append(
                (k, (rng.uniform(0, tw), rng.uniform(0, th)), video.tg_zoom * rng.uniform(0.7, 1.4),
                 rng.normal(0, 15), (c + r * math.cos(phi), c + r * math.sin(phi)), (dw * s, dh * s),
                 bool(rng.random() < 0.3))
            )
        layers.insert(
            0, (video.tg, video.tg_center, video.tg_zoom, angle, (c, c), (w, h), video.ellipse)
        )
        if gap > 0 and rng.random() < self.occlusion:
            k = int(rng.integers(len(self.textures)))
            th, tw = self.textures[k].image.shape[:2]
            ow, oh = w * rng.uniform(0.4, 0.9), h * rng.uniform(0.4, 0.9)
            side = rng.choice([-1.0, 1.0], size=2)
            layers.append(
                (k, (rng.uniform(0, tw), rng.uniform(0, th)), rng.uniform(0.5, 2.0), 0.0,
                 (c + side[0] * w * rng.uniform(0.2, 0.6), c + side[1] * h * rng.uniform(0.2, 0.6)),
                 (ow, oh), False)
            )
        for k, tex_center, tex_zoom, ang, center, wh, ellipse in layers:
            # render each patch only inside its bounding square (clipped to the canvas)
            half = 0.5 * math.hypot(*wh) + 2
            x0, y0 = max(0, int(center[0] - half)), max(0, int(center[1] - half))
            x1, y1 = min(size, int(center[0] + half) + 2), min(size, int(center[1] + half) + 2)
            if x1 <= x0 or y1 <= y0:
                continue
            side = max(x1 - x0, y1 - y0)
            local = (center[0] - x0, center[1] - y0)
            patch = _warp(self.textures[k].image, tex_center, tex_zoom, ang, side, local)
            patch = patch[: y1 - y0, : x1 - x0]
            mask = _mask(side, local, wh, ang, ellipse)[: y1 - y0, : x1 - x0]
            roi = image[y0:y1, x0:x1]
            image[y0:y1, x0:x1] = roi * (1.0 - mask) + patch.astype(np.float32) * mask
        gain = math.exp(rng.normal(0, 0.15 * t + 0.03))
        bias = rng.normal(0, 10 * t + 2)
        image = image * gain + bias
        return np.clip(image, 0, 255).astype(np.uint8), [big_w, big_h]

    def get_positive_pair(self, index: int, rng: np.random.Generator) -> tuple[Sample, Sample]:
        """First frame of video ``index`` and a frame up to ``frame_range`` frames later."""
        video = self._video(index)
        gap = int(rng.integers(self.frame_range + 1))
        return self._render(video, rng, 0, self.template_canvas), self._render(video, rng, gap, self.canvas)

    def get_random_target(self, index: int, rng: np.random.Generator) -> Sample:
        """Some frame of video ``index`` (-1: a random video)."""
        if index < 0:
            index = int(rng.integers(self.num))
        return self._render(self._video(index), rng, int(rng.integers(self.frame_range + 1)), self.canvas)
