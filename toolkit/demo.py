"""Track one target through a video file, an image folder or a camera; draw and write the result.

Model-free: the tracker is any object with ``init(img_bgr, xywh)`` and ``track(img_bgr) -> dict``
(``bbox``, ``best_score``; SiamMask's ``polygon`` and ``mask`` are drawn when present).
``tools/demo.py`` is the command line (it builds the tracker from an experiment's files).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
# Output container -> FourCC code of a codec that OpenCV's FFmpeg backend writes without extra libs.
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
WINDOW = "Ta-SiamRPN++ demo"


@dataclass
class DemoResult:
    """What a demo run produced.

    boxes: (N, 4) float64 [x, y, w, h] per frame (0-based top-left corner; frame 0 = the init box);
    scores: (N,) tracker confidence (``best_score``; 1.0 on frame 0);
    fps: frames per second of the tracker alone (init + track calls, no decoding or drawing);
    output: the annotated video written, or None.
    """

    boxes: np.ndarray
    scores: np.ndarray
    fps: float
    output: Path | None


def parse_box(text: str) -> list[float]:
    """``"x,y,w,h"`` -> [x, y, w, h] floats; w and h must be positive."""
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    try:
        box = [float(p) for p in parts]
    except ValueError:
        box = []
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"--init must be 'x,y,w,h' with w, h > 0, got {text!r}")
    return box


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def open_source(source: str | int | Path) -> tuple[Iterator[np.ndarray], float | None]:
    """A camera index (``0`` or ``"0"``), an image folder or a video file -> (BGR frames, its FPS or None).

    Image folders are read in natural name order (``img2`` before ``img10``).
    """
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        return _capture_frames(cv2.VideoCapture(int(source)), f"camera {source}")
    path = Path(source)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        if not files:
            raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
        return _image_frames(files), None
    if not path.is_file():
        raise FileNotFoundError(
            f"video source not found: {path} (expected a video file, a folder or a camera index)"
        )
    return _capture_frames(cv2.VideoCapture(str(path)), str(path))


def _image_frames(files: Sequence[Path]) -> Iterator[np.ndarray]:
    for file in files:
        frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if frame is None:
            raise OSError(f"cannot read image {file}")
        yield frame


def _capture_frames(capture: cv2.VideoCapture, name: str) -> tuple[Iterator[np.ndarray], float | None]:
    if not capture.isOpened():
        raise OSError(f"cannot open {name}")
    fps = capture.get(cv2.CAP_PROP_FPS)

    def frames() -> Iterator[np.ndarray]:
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield frame
        finally:
            capture.release()

    return frames(), (fps if fps and fps > 0 else None)


def has_display() -> bool:
    """Whether an OpenCV window can be shown (on Linux: an X11 or Wayland display is set)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def select_box(frame: np.ndarray) -> list[float]:
    """Let the user drag the initial box on ``frame`` (cv2.selectROI); [x, y, w, h]."""
    x, y, w, h = cv2.selectROI(WINDOW, frame, showCrosshair=False, fromCenter=False)
    if w <= 0 or h <= 0:
        raise RuntimeError("no box selected (selection cancelled)")
    return [float(x), float(y), float(w), float(h)]


def draw(
    frame: np.ndarray,
    box: Sequence[float],
    score: float,
    index: int,
    polygon: Sequence[float] | None = None,
    mask: np.ndarray | None = None,
    mask_threshold: float = 0.5,
) -> np.ndarray:
    """Draw the box (or SiamMask's ``polygon``), its score and the frame index on a copy of ``frame``.

    With a ``mask`` (H, W) of probabilities, as PySOT's demo: the pixels above ``mask_threshold``
    are tinted green (``0.77 * frame + 0.23 * (0, 255, 0) - 1``) and the polygon is drawn instead of
    the box.
    """
    out = frame.copy()
    if mask is not None:
        on = (np.asarray(mask) > mask_threshold).astype(np.uint8) * 255
        tint = np.stack([np.zeros_like(on), on, np.zeros_like(on)], axis=-1)
        out = cv2.addWeighted(out, 0.77, tint, 0.23, -1)
    if polygon is not None:
        points = np.asarray(polygon, dtype=np.float64).reshape(-1, 1, 2).round().astype(np.int32)
        cv2.polylines(out, [points], True, (0, 255, 0), 2)
    else:
        x, y, w, h = (int(round(v)) for v in box)
        cv2.rectangle(out, (x, y), (x + w, y + h), (0, 255, 0), 2)
    cv2.putText(out, f"#{index} {score:.3f}", (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 2)
    return out


def _open_writer(output: Path, size: tuple[int, int], fps: float) -> cv2.VideoWriter:
    fourcc = FOURCC.get(output.suffix.lower())
    if fourcc is None:
        raise ValueError(f"--output must end in one of {sorted(FOURCC)}, got {output}")
    output.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(output), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {output} with codec {fourcc}")
    return writer


class _Sink:
    """Where annotated frames go: a video file (opened at the first frame) and/or a window."""

    def __init__(self, output: Path | None, show: bool, fps: float) -> None:
        self.output, self.show, self.fps = output, show, fps
        self.writer: cv2.VideoWriter | None = None
        self.active = output is not None or show

    def emit(self, annotated: np.ndarray) -> bool:
        """Write and/or show ``annotated``; False when the user asked to stop (q or Esc)."""
        if self.output is not None:
            if self.writer is None:
                size = (annotated.shape[1], annotated.shape[0])
                self.writer = _open_writer(self.output, size, self.fps)
            self.writer.write(annotated)
        if self.show:
            cv2.imshow(WINDOW, annotated)
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                return False
        return True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
        if self.show:
            cv2.destroyAllWindows()


def run_demo(
    tracker,
    source: str | int | Path,
    init_box: Sequence[float] | None = None,
    output: str | Path | None = None,
    show: bool = False,
    max_frames: int | None = None,
    output_fps: float | None = None,
) -> DemoResult:
    """Track through ``source`` from ``init_box`` (or a mouse selection); annotate and/or show frames.

    Args:
        tracker: anything with ``init(img_bgr, xywh)`` and ``track(img_bgr) -> dict(bbox, best_score)``;
            a ``polygon`` (and ``mask``) in that dict, as SiamMask returns, is drawn instead of the box
            (the mask thresholded at the tracker's ``mask_threshold``).
        source: video file, image folder, or camera index.
        init_box: [x, y, w, h] on the first frame; ``None`` asks for a selection, which needs a display.
        output: annotated video (``.mp4`` mp4v, ``.avi``/``.mkv`` MJPG); written without a display.
        show: show the frames in a window (``q`` or Esc stops).
        max_frames: stop after this many frames (cameras never end).
        output_fps: frame rate of the written video (default: the source's, else 30).
    """
    if init_box is None and not has_display():
        raise RuntimeError("no display for selecting the target: pass --init x,y,w,h")
    if show and not has_display():
        raise RuntimeError("--show needs a display (none found); use --output to write a video instead")
    frames, source_fps = open_source(source)
    mask_threshold = getattr(tracker, "mask_threshold", 0.5)
    sink = _Sink(Path(output) if output is not None else None, show, output_fps or source_fps or 30.0)
    boxes: list[list[float]] = []
    scores: list[float] = []
    tracker_time = 0.0
    try:
        for index, frame in enumerate(frames):
            if max_frames is not None and index >= max_frames:
                break
            extra = {}
            if index == 0:
                box = [float(v) for v in (init_box if init_box is not None else select_box(frame))]
                start = time.perf_counter()
                tracker.init(frame, box)
                tracker_time += time.perf_counter() - start
                score = 1.0
            else:
                start = time.perf_counter()
                out = tracker.track(frame)
                tracker_time += time.perf_counter() - start
                box, score = [float(v) for v in out["bbox"]], float(out["best_score"])
                if "polygon" in out:  # SiamMask: rotated box and mask, as PySOT's demo
                    extra = dict(polygon=out["polygon"], mask=out.get("mask"), mask_threshold=mask_threshold)
            boxes.append(box)
            scores.append(score)
            if sink.active and not sink.emit(draw(frame, box, score, index, **extra)):
                break
    finally:
        sink.close()
    if not boxes:
        raise RuntimeError(f"no frames could be read from {source}")
    fps = len(boxes) / tracker_time if tracker_time > 0 else float("inf")
    return DemoResult(np.array(boxes), np.array(scores), fps, sink.output)
