"""``SYNTH_TRAIN``: training pairs from the synthetic benchmark's own scene simulator.

Pairs come from ``toolkit.datasets.synthetic.sample_pair`` on the ``'train'`` texture split (its
pixels never appear in the SYNTH / SYNTH-VOT benchmarks): two frames, at most ``FRAME_RANGE`` apart,
of a short simulated video with 1-3 random challenges (scale, rotation, fast motion, blur,
illumination, occlusion, look-alike distractors, ...). Each frame is cut as PySOT's ``crop511``
pre-processing does: a square around the target whose side is ``s_z * canvas / exemplar_size``
(``s_z = sqrt((w + p)(h + p))``, ``p = (w + h) / 2``), resampled to ``canvas`` pixels, mean-colour
padding outside the frame; the annotation is the target's ``[w, h]`` in the frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from toolkit.datasets.synthetic import sample_pair

# (image HxWx3 BGR uint8, annotation [w, h]); the crop is centred on the target
Sample = tuple[np.ndarray, list]

# frame sizes (width, height) of the SYNTH benchmarks
FRAME_SIZES = ((320, 240), (360, 270), (400, 300))


def crop_around(
    frame: np.ndarray, box_xywh, exemplar_size: int, canvas: int, context_amount: float = 0.5
) -> Sample:
    """PySOT's crop511 cut of ``frame`` centred on the 0-based ``[x, y, w, h]`` box.

    The target's context box ``s_z`` maps to ``exemplar_size`` pixels of a ``canvas`` square.
    """
    x, y, w, h = (float(v) for v in box_xywh)
    cx, cy = x + w / 2, y + h / 2
    p = context_amount * (w + h)
    s_z = math.sqrt((w + p) * (h + p))
    scale = exemplar_size / s_z  # canvas pixels per frame pixel
    c = (canvas - 1) / 2
    mapping = np.array([[scale, 0.0, c - scale * cx], [0.0, scale, c - scale * cy]], dtype=np.float64)
    pad = tuple(float(v) for v in frame.reshape(-1, 3).mean(0))
    crop = cv2.warpAffine(
        frame, mapping, (canvas, canvas), borderMode=cv2.BORDER_CONSTANT, borderValue=pad
    )
    return crop, [w, h]


class SyntheticScenes:
    """Sub-dataset of simulated synthetic videos with PySOT's sub-dataset interface.

    Args:
        seed: mixed into every pair's generator (the name space of this sub-dataset).
        num_use: pairs per pass (the scenes are endless; this only sets the mixing weight).
        frame_range: maximum frame gap between template and search.
        exemplar_size: ``TRAIN.EXEMPLAR_SIZE``.
        canvas: side of the crops; must cover the search crop plus its shift/scale augmentation.
        split: texture split; ``'train'`` keeps the SYNTH benchmark textures unseen.
    """

    def __init__(
        self,
        seed: int = 0,
        num_use: int = 100000,
        frame_range: int = 50,
        exemplar_size: int = 127,
        canvas: int = 383,
        split: str = "train",
    ) -> None:
        self.name = "SYNTH_TRAIN"
        self.seed = int(seed)
        self.num = self.num_use = int(num_use)
        self.frame_range = int(frame_range)
        self.exemplar_size = int(exemplar_size)
        self.canvas = int(canvas) | 1
        self.split = split

    def __len__(self) -> int:
        return self.num

    def _pair(self, index: int, rng: np.random.Generator):
        scene_rng = np.random.default_rng([self.seed, index, int(rng.integers(2**32))])
        size = FRAME_SIZES[int(scene_rng.integers(len(FRAME_SIZES)))]
        return sample_pair(scene_rng, self.split, size=size, max_gap=self.frame_range)

    def get_positive_pair(self, index: int, rng: np.random.Generator) -> tuple[Sample, Sample]:
        """Two frames of one simulated video, at most ``frame_range`` frames apart."""
        pair = self._pair(index, rng)
        return (
            crop_around(pair.template_frame, pair.box_a, self.exemplar_size, self.canvas),
            crop_around(pair.search_frame, pair.box_b, self.exemplar_size, self.canvas),
        )

    def get_random_target(self, index: int, rng: np.random.Generator) -> Sample:
        """One frame of a simulated video (``index`` -1: any)."""
        if index < 0:
            index = int(rng.integers(self.num))
        pair = self._pair(index, rng)
        return crop_around(pair.template_frame, pair.box_a, self.exemplar_size, self.canvas)
