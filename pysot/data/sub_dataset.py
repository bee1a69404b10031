"""One training source in PySOT's ``crop511`` layout (VID, COCO, DET, YOUTUBEBB, GOT-10k, LaSOT).

Layout (made by PySOT's ``training_dataset/*/par_crop.py`` + ``gen_json.py``)::

    ROOT/<video>/<frame:06d>.<track:02d>.x.jpg      511x511 crops centred on the target
    ANNO = {"<video>": {"<track>": {"<frame:06d>": [x1, y1, x2, y2], ...}, ...}, ...}

Box values are corners in the ORIGINAL frame (only their width and height are used: the crop is
centred on the target) or a 2-list ``[w, h]``. Frames with a non-positive width or height, tracks
without frames and videos without tracks are dropped, as in PySOT.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# (image HxWx3 BGR uint8, annotation [x1, y1, x2, y2] or [w, h])
Sample = tuple[np.ndarray, list]


def filter_annotations(meta: dict) -> dict:
    """Drop frames with w <= 0 or h <= 0, then empty tracks and videos; add sorted ``frames``
    (ints) to every track. Returns a new dict."""
    out: dict = {}
    for video, tracks in meta.items():
        new_tracks = {}
        for track, frames in tracks.items():
            kept = {}
            for frame, box in frames.items():
                if not frame.isdigit():
                    continue
                w, h = (box[2] - box[0], box[3] - box[1]) if len(box) == 4 else box
                if w > 0 and h > 0:
                    kept[frame] = box
            if kept:
                kept["frames"] = sorted(int(f) for f in kept)
                new_tracks[track] = kept
            else:
                logger.warning("%s/%s has no valid frames; dropped", video, track)
        if new_tracks:
            out[video] = new_tracks
        else:
            logger.warning("%s has no tracks; dropped", video)
    return out


class Crop511SubDataset:
    """Positive pairs within ``frame_range`` frames of one track; random targets for negatives.

    Args:
        name: the dataset's name in ``DATASET.NAMES`` (for messages).
        root: folder of the crops.
        anno: the JSON annotation file.
        frame_range: maximum frame distance between template and search.
        num_use: videos drawn per pass (-1: every video once).
    """

    def __init__(self, name: str, root: str | Path, anno: str | Path, frame_range: int, num_use: int) -> None:
        self.name = name
        self.root = Path(root)
        self.anno = Path(anno)
        self.frame_range = int(frame_range)
        if not self.anno.is_file():
            raise FileNotFoundError(f"DATASET.{name}.ANNO: annotation file not found: {self.anno}")
        with open(self.anno) as f:
            self.labels = filter_annotations(json.load(f))
        self.videos = list(self.labels)
        self.num = len(self.videos)
        if self.num == 0:
            raise ValueError(f"DATASET.{name}: no usable video in {self.anno}")
        self.num_use = self.num if num_use == -1 else int(num_use)
        logger.info("%s: %d videos from %s, %d used per pass", name, self.num, self.anno, self.num_use)

    def __len__(self) -> int:
        return self.num

    def _load(self, video: str, track: str, frame: int) -> Sample:
        key = f"{frame:06d}"
        path = self.root / video / f"{key}.{track}.x.jpg"
        image = cv2.imread(str(path))
        if image is None:
            raise FileNotFoundError(f"DATASET.{self.name}: cannot read {path} (video {video}, track {track})")
        return image, self.labels[video][track][key]

    def get_positive_pair(self, index: int, rng: np.random.Generator) -> tuple[Sample, Sample]:
        """Template and search from one track of video ``index``, at most ``frame_range`` apart."""
        video = self.videos[index]
        tracks = self.labels[video]
        track = list(tracks)[rng.integers(len(tracks))]
        frames = tracks[track]["frames"]
        t = int(rng.integers(len(frames)))
        left = max(t - self.frame_range, 0)
        right = min(t + self.frame_range, len(frames) - 1) + 1
        s = int(rng.integers(left, right))
        return self._load(video, track, frames[t]), self._load(video, track, frames[s])

    def get_random_target(self, index: int, rng: np.random.Generator) -> Sample:
        """Any frame of any track of video ``index`` (-1: a random video)."""
        if index < 0:
            index = int(rng.integers(self.num))
        video = self.videos[index]
        tracks = self.labels[video]
        track = list(tracks)[rng.integers(len(tracks))]
        frames = tracks[track]["frames"]
        return self._load(video, track, frames[rng.integers(len(frames))])
