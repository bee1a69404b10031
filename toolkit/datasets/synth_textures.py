"""Photographic texture banks for the synthetic benchmark, split into disjoint train/test parts.

The textures are scikit-image's bundled sample images (no download needed). Each image is cut
into two column bands: the left ``TEST_FRACTION`` of its columns belongs to the ``'test'`` split
(the SYNTH benchmarks) and the rest to the ``'train'`` split (synthetic training pairs), so no
pixel of a test texture is ever seen in training. When fewer than ``MIN_TEXTURES`` images can be
loaded, procedural textures (noise, gradients, stripes, checkers) seeded per split fill the bank.
All images are BGR ``uint8`` arrays of shape (H, W, 3), as OpenCV reads and writes them.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

SPLITS = ("train", "test")
# scikit-image sample images that ship inside the wheel (checked offline for 0.21-0.26);
# 'cat' is the same photograph as 'chelsea' and is therefore left out.
SKIMAGE_SOURCES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "coins",
    "camera",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "moon",
    "clock",
    "brick",
    "grass",
    "gravel",
    "colorwheel",
    "cell",
    "page",
    "text",
)
TEST_FRACTION = 0.4  # left 40 % of every source image's columns -> 'test', the rest -> 'train'
MAX_SIDE = 512  # sources are downscaled so that their longer side is at most this
MIN_TEXTURES = 6  # fewer loadable images than this -> procedural textures are added
PROCEDURAL_SEEDS = {"train": 1_000_003, "test": 2_000_003}  # disjoint seed spaces per split
PROCEDURAL_COUNT = 12
PROCEDURAL_SIZE = (256, 256)  # (height, width) of a procedural texture


@dataclass(frozen=True)
class Texture:
    """One texture of a bank.

    Attributes:
        name: source name, e.g. ``'astronaut'`` or ``'procedural-test-03'``.
        image: (H, W, 3) uint8 BGR, read-only.
        columns: ``(start, stop)`` column range of the band in the (downscaled) source image;
            ``(0, W)`` for procedural textures.
    """

    name: str
    image: np.ndarray
    columns: tuple[int, int]


def _to_bgr_uint8(image: np.ndarray) -> np.ndarray:
    """Convert a scikit-image sample (bool/float/uint8, gray/RGB/RGBA) to (H, W, 3) uint8 BGR."""
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        lo, hi = float(image.min()), float(image.max())
        image = ((image - lo) / max(hi - lo, 1e-12) * 255.0).round().astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, 2::-1])  # RGB(A) -> BGR, alpha dropped


@functools.cache
def _load_skimage(name: str) -> np.ndarray | None:
    """The named scikit-image sample as (H, W, 3) BGR uint8 downscaled to MAX_SIDE, or None
    (read-only, cached: both splits cut their bands from the same decoded image)."""
    try:
        import skimage.data

        image = getattr(skimage.data, name)()
    except Exception as exc:  # missing optional data files raise various errors
        logger.debug("scikit-image sample %r unavailable: %s", name, exc)
        return None
    image = _to_bgr_uint8(np.asarray(image))
    scale = MAX_SIDE / max(image.shape[:2])
    if scale < 1.0:
        size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    image.setflags(write=False)
    return image


def procedural_textures(split: str, count: int = PROCEDURAL_COUNT) -> tuple[Texture, ...]:
    """Procedural textures (smoothed noise, gradients, stripes, checkers) for one split.

    Deterministic: drawn from ``np.random.default_rng(PROCEDURAL_SEEDS[split])``, so the two
    splits use disjoint seed spaces.
    """
    _check_split(split)
    rng = np.random.default_rng(PROCEDURAL_SEEDS[split])
    h, w = PROCEDURAL_SIZE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    textures = []
    for i in range(count):
        kind = i % 4
        colors = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
        if kind == 0:  # multi-scale smoothed noise
            base = np.zeros((h, w), np.float32)
            for cell in (4, 16, 64):
                small = rng.standard_normal((h // cell + 2, w // cell + 2)).astype(np.float32)
                base += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) * (cell / 64.0)
            t = (base - base.min()) / max(float(np.ptp(base)), 1e-6)
        elif kind == 1:  # oriented gradient
            angle = rng.uniform(0, np.pi)
            t = np.cos(angle) * xx / w + np.sin(angle) * yy / h
            t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
        elif kind == 2:  # stripes
            angle, period = rng.uniform(0, np.pi), rng.uniform(6, 30)
            t = 0.5 + 0.5 * np.sin(2 * np.pi * (np.cos(angle) * xx + np.sin(angle) * yy) / period)
        else:  # checkers
            cell = int(rng.integers(8, 33))
            t = ((xx // cell + yy // cell) % 2).astype(np.float32)
        image = colors[0] * (1 - t[:, :, None]) + colors[1] * t[:, :, None]
        image += rng.normal(0, 6, size=image.shape).astype(np.float32)
        image = np.clip(image, 0, 255).astype(np.uint8)
        image.setflags(write=False)
        textures.append(Texture(f"procedural-{split}-{i:02d}", image, (0, w)))
    return tuple(textures)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown texture split {split!r}; known splits: {', '.join(SPLITS)}")


@functools.lru_cache(maxsize=len(SPLITS))
def texture_bank(split: str) -> tuple[Texture, ...]:
    """The textures of one split: ``'test'`` (benchmarks) or ``'train'`` (training pairs).

    Every scikit-image source contributes one column band per split; the bands of the two
    splits never overlap (see the module docstring). Read-only arrays, cached per process.
    """
    _check_split(split)
    textures = []
    for name in SKIMAGE_SOURCES:
        image = _load_skimage(name)
        if image is None:
            continue
        cut = round(image.shape[1] * TEST_FRACTION)
        columns = (0, cut) if split == "test" else (cut, image.shape[1])
        band = np.ascontiguousarray(image[:, columns[0] : columns[1]])
        band.setflags(write=False)
        textures.append(Texture(name, band, columns))
    if len(textures) < MIN_TEXTURES:
        logger.warning("only %d scikit-image textures available; adding procedural textures", len(textures))
        textures.extend(procedural_textures(split))
    return tuple(textures)
