"""The ``Sequence`` value object and the ``Dataset`` base class shared by every benchmark.

Box conventions: ground truth is ``(N, 4)`` axis-aligned ``[x, y, w, h]`` (0-based top-left corner,
PySOT's convention) or ``(N, 8)`` polygons ``[x1, y1, ..., x4, y4]`` (VOT). A frame without
ground truth (long-term gap, unannotated test frame) is a row of NaN.

Images are read lazily with OpenCV (BGR, ``uint8``, 3 channels); nothing is loaded when a dataset
is built except, on first access of ``width``/``height``, the first image of that sequence.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Sequence as SequenceABC
from pathlib import Path

import numpy as np

from toolkit.boxes import bounding_rect

from .imagesize import header_size

logger = logging.getLogger(__name__)

#: Per-frame VOT tags in PySOT's annotation files, in PySOT's order.
VOT_TAGS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")


def _is_truncated_jpeg(data: np.ndarray) -> bool:
    """A JPEG file (FF D8 start) without its end-of-image marker FF D9 near the end (a few bytes of
    padding after it are tolerated)."""
    if data.size < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return False
    tail = data[-64:].tobytes()
    return b"\xff\xd9" not in tail


class DatasetFormatError(ValueError):
    """An annotation file or folder does not have the expected content (names file/line/video)."""


class Sequence:
    """One video of a benchmark.

    Attributes:
        name: video name (the key in the annotation file).
        img_names: absolute image paths, one per frame.
        gt_traj: ``(N, 4)`` xywh boxes or ``(N, 8)`` polygons, float64; NaN rows where the
            target has no annotation.
        init_rect: ``[x, y, w, h]`` of frame 0 as given by the annotation (float64, shape (4,)).
        attr: OTB-style video attributes (e.g. ``['IV', 'SV']``); empty when the benchmark has none.
        tags: VOT per-frame tags, name -> ``(N,)`` int array of 0/1, including ``'all'`` (all ones)
            and ``'empty'`` (1 where no other tag is set); empty dict for non-VOT benchmarks.
        absent: LaSOT's per-frame flags as stored in its annotation (``(N,)`` int8), else ``None``.
        video_dir: folder of the video relative to the dataset root.
        gt_int: the annotation stores integer coordinates (OTB, LaSOT, ...). Only used to write
            the recorded init box as PySOT does (``str(30)`` is ``'30'``, ``str(30.0)`` ``'30.0'``).
    """

    def __init__(
        self,
        name: str,
        img_names: SequenceABC[str],
        gt_traj: np.ndarray,
        init_rect: SequenceABC[float] | np.ndarray | None = None,
        attr: Iterable[str] = (),
        tags: Mapping[str, SequenceABC[int] | np.ndarray] | None = None,
        absent: SequenceABC[int] | np.ndarray | None = None,
        video_dir: str = "",
        size: tuple[int, int] | None = None,
        gt_int: bool = False,
    ):
        gt = np.asarray(gt_traj, dtype=np.float64)
        if gt.ndim != 2 or gt.shape[1] not in (4, 8):
            raise DatasetFormatError(f"video {name}: ground truth must be (N, 4) or (N, 8), got {gt.shape}")
        if len(img_names) != len(gt):
            raise DatasetFormatError(f"video {name}: {len(img_names)} images but {len(gt)} ground-truth rows")
        if len(gt) == 0:
            raise DatasetFormatError(f"video {name}: no frames")
        self.name = name
        self.img_names = [str(p) for p in img_names]
        self.gt_traj = gt
        self.init_rect = bounding_rect(gt[0]) if init_rect is None else np.asarray(init_rect, np.float64)
        self.attr = list(attr)
        self.tags = _full_tags(name, len(gt), tags) if tags is not None else {}
        self.absent = None if absent is None else np.asarray(absent, dtype=np.int8)
        if self.absent is not None and len(self.absent) != len(gt):
            raise DatasetFormatError(f"video {name}: {len(self.absent)} absent flags but {len(gt)} frames")
        self.video_dir = video_dir
        self._size = size
        self._frame_size: tuple[int, int] | None = None  # of the first image loaded
        self.gt_int = gt_int

    # ------------------------------------------------------------------ size
    @property
    def width(self) -> int:
        """Image width in pixels, read from the first image on first use."""
        return self._image_size()[0]

    @property
    def height(self) -> int:
        """Image height in pixels, read from the first image on first use."""
        return self._image_size()[1]

    def _image_size(self) -> tuple[int, int]:
        if self._size is None:
            # from the first image's header when that is certain (JPEG, PNG: no decoding, no
            # OpenCV import), else by decoding it (which also names the file if it is bad)
            self._size = header_size(self.img_names[0]) if self.img_names else None
            if self._size is None:
                img = self.load_image(0)
                self._size = (int(img.shape[1]), int(img.shape[0]))
        return self._size

    # ------------------------------------------------------------------ frames
    def load_image(self, idx: int) -> np.ndarray:
        """Frame ``idx`` as a BGR ``uint8`` array ``(H, W, 3)``; errors name the video, frame and file."""
        path = self.img_names[idx]
        try:
            data = np.fromfile(path, dtype=np.uint8)
        except OSError:
            data = None
        if data is not None and _is_truncated_jpeg(data):
            # libjpeg decodes what is there, fills the rest grey and only warns on stderr
            raise DatasetFormatError(
                f"video {self.name}: frame {idx}: truncated JPEG (no end-of-image marker FF D9): {path}"
            )
        import cv2  # here, not at import: evaluation never reads images past the first (start-up)

        img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
        if img is None:
            what = "image not found" if not os.path.exists(path) else "unreadable image"
            raise FileNotFoundError(f"video {self.name}: frame {idx}: {what}: {path}")
        size = (int(img.shape[1]), int(img.shape[0]))
        if self._frame_size is None:
            self._frame_size = size
        elif size != self._frame_size:
            raise DatasetFormatError(
                f"video {self.name}: frame {idx}: image is {size[0]}x{size[1]} but the video's first loaded "
                f"frame is {self._frame_size[0]}x{self._frame_size[1]}: {path}"
            )
        if self._size is None:
            self._size = size
        return img

    def __len__(self) -> int:
        return len(self.img_names)

    def __getitem__(self, idx: int) -> tuple[np.ndarray, np.ndarray]:
        """``(image, gt_row)`` of frame ``idx``."""
        if not -len(self) <= idx < len(self):
            raise IndexError(f"video {self.name}: frame {idx} out of range ({len(self)} frames)")
        idx %= len(self)
        return self.load_image(idx), self.gt_traj[idx]

    def frames(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Iterate ``(image, gt_row)`` over all frames, loading one image at a time."""
        for idx in range(len(self)):
            yield self.load_image(idx), self.gt_traj[idx]

    __iter__ = frames

    def __repr__(self) -> str:
        return f"Sequence(name={self.name!r}, frames={len(self)}, gt={self.gt_traj.shape[1]} values)"


def _full_tags(name: str, n: int, tags: Mapping[str, SequenceABC[int] | np.ndarray]) -> dict[str, np.ndarray]:
    """Tags padded to ``n`` frames (missing or short tag lists count as 0), plus 'all' and 'empty'."""
    out: dict[str, np.ndarray] = {"all": np.ones(n, dtype=np.int32)}
    for key, values in tags.items():
        arr = np.asarray(values, dtype=np.int32).reshape(-1)
        if len(arr) > n:
            raise DatasetFormatError(f"video {name}: tag {key} has {len(arr)} values for {n} frames")
        out[key] = np.concatenate([arr, np.zeros(n - len(arr), dtype=np.int32)])
    others = [v for k, v in out.items() if k != "all"]
    empty = np.all(np.stack(others) == 0, axis=0) if others else np.ones(n, dtype=bool)
    out["empty"] = empty.astype(np.int32)
    return out


class Dataset:
    """A named collection of sequences, iterated in sorted video-name order.

    Attributes:
        name: benchmark name (``'OTB100'``, ``'VOT2018'``, ...).
        root: absolute dataset root.
        protocol: how trackers are run and results laid out: ``'ope'``, ``'vot'`` (reset-based),
            ``'longterm'`` (VOT-LT with confidences) or ``'got10k'`` (OPE, GOT-10k result layout).
        videos: video name -> ``Sequence``, sorted by name.
        attr: attribute -> sorted video names, with ``'ALL'`` for every video.
        tags: VOT per-frame tag names (``'all'``, the five VOT tags, ``'empty'``); empty otherwise.
    """

    def __init__(self, name: str, root: str | Path, sequences: Iterable[Sequence], protocol: str = "ope"):
        if protocol not in ("ope", "vot", "longterm", "got10k"):
            raise ValueError(f"unknown protocol {protocol!r}")
        self.name = name
        self.root = Path(os.path.abspath(root))
        self.protocol = protocol
        seqs = sorted(sequences, key=lambda s: s.name)
        self.videos: dict[str, Sequence] = {}
        for seq in seqs:
            if seq.name in self.videos:
                raise DatasetFormatError(f"{name}: duplicate video name {seq.name}")
            self.videos[seq.name] = seq
        attr: dict[str, list[str]] = {"ALL": list(self.videos)}
        for seq in seqs:
            for a in seq.attr:
                attr.setdefault(a, []).append(seq.name)
        self.attr = attr
        tag_names: list[str] = []
        for seq in seqs:
            tag_names += [t for t in seq.tags if t not in tag_names]
        if tag_names:
            # PySOT's order: 'all', the VOT tags, 'empty'; other tags keep their first-seen order.
            tag_names = [t for t in tag_names if t not in ("all", "empty")]
            tag_names = ["all", *tag_names, "empty"]
        self.tags = tag_names

    @property
    def names(self) -> list[str]:
        """Video names in iteration (sorted) order."""
        return list(self.videos)

    def __len__(self) -> int:
        return len(self.videos)

    def __iter__(self) -> Iterator[Sequence]:
        return iter(self.videos.values())

    def __contains__(self, name: object) -> bool:
        return name in self.videos

    def __getitem__(self, key: str | int) -> Sequence:
        """A video by name, or by position in sorted order."""
        if isinstance(key, (int, np.integer)):
            return list(self.videos.values())[key]
        try:
            return self.videos[key]
        except KeyError:
            raise KeyError(f"{self.name}: no video named {key!r}") from None

    def select(self, names: Iterable[str]) -> Dataset:
        """A dataset with only the given videos (same name, root and protocol); unknown names raise."""
        names = list(names)
        missing = [n for n in names if n not in self.videos]
        if missing:
            raise KeyError(f"{self.name}: no video named {', '.join(map(repr, missing))}")
        return Dataset(self.name, self.root, [self.videos[n] for n in names], protocol=self.protocol)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, videos={len(self)}, protocol={self.protocol!r}, "
            f"root={str(self.root)!r})"
        )
