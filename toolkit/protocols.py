"""Run a tracker over one sequence: the frame loops, timing, failure detection and restarts.

A tracker is anything with ``init(image, bbox)`` and ``track(image) -> dict`` where ``image`` is a
BGR ``uint8`` array ``(H, W, 3)``, ``bbox`` is ``[x, y, w, h]`` (0-based top-left corner) and the
returned dict holds ``'bbox'`` (``[x, y, w, h]``), ``'best_score'`` (float) and optionally
``'polygon'`` (8 values; used instead of the box by the VOT protocol when present, as PySOT does
for SiamMask).

Protocols (PySOT's ``tools/test.py``):

* ``ope`` / ``got10k``: initialise on frame 0 with the ground truth, track every later frame. The
  recorded box of frame 0 is PySOT's init box ``[cx - (w-1)/2, cy - (h-1)/2, w, h]`` with
  ``(cx, cy, w, h) = get_axis_aligned_bbox(gt[0])`` (``[x + 0.5, y + 0.5, w, h]`` for a rectangle;
  :func:`toolkit.boxes.init_box`, like every box convention used here).
* ``longterm`` (VOT-LT): as OPE, but frame 0 is recorded as ``[1]`` and every later frame's
  ``best_score`` is kept as its confidence (none for frame 0).
* ``vot`` (reset-based, Kristan et al., VOT challenges): on a failure (region overlap with the
  image-bounded ground truth ``<= 0``) write ``2``, write ``0`` for the skipped frames and
  re-initialise ``VOTRules.skip`` frames after the failure (writing ``1``). The rules of each VOT
  edition (skip, failure overlap, codes) are the records of :mod:`toolkit.rules`; their
  ``convention`` picks the overlap of the failure rule (:func:`failure_overlap`): PySOT's
  ``tools/test.py`` (``'pysot'``, the default) or the official vot-toolkit 0.7.4's supervised
  experiment (``'vot'``). Neither runs a burn-in (that is a scoring rule); both re-initialise
  ``skip`` frames after the failure frame.

Per-frame times cover the ``init``/``track`` call (image loading excluded), as in PySOT.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Union

import numpy as np

from toolkit import results
from toolkit.boxes import inclusive_polygon, init_box, vot_init_box
from toolkit.datasets.base import Sequence
from toolkit.evaluation.region import vot_overlap
from toolkit.evaluation.vot_official import region_overlap
from toolkit.rules import CODE_INIT, VOT_RULES, VOTRules

logger = logging.getLogger(__name__)

#: A trajectory row as written: a box / polygon, ``[1]`` (long-term init) or a VOT code.
Row = Union[int, list]
#: Called after every frame with (frame index, image, recorded row, ground-truth row).
FrameHook = Callable[[int, np.ndarray, Row, np.ndarray], None]


class Tracker(Protocol):
    """The tracker protocol: ``init(image, [x, y, w, h])`` then ``track(image) -> dict``."""

    def init(self, img: np.ndarray, bbox: list[float]) -> Any: ...

    def track(self, img: np.ndarray) -> dict: ...


@dataclass
class RunResult:
    """One tracker run over one sequence.

    Attributes:
        video: sequence name.
        protocol: ``'ope'``, ``'vot'``, ``'longterm'`` or ``'got10k'``.
        boxes: one row per frame as written to the result file (see :data:`Row`).
        scores: per-frame ``best_score`` (``None`` on (re-)initialisation and skipped frames).
        times: per-frame seconds of the ``init``/``track`` call (0 for skipped frames).
        failures: number of failures (VOT protocol; 0 otherwise).
    """

    video: str
    protocol: str
    boxes: list[Row] = field(default_factory=list)
    scores: list[float | None] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    failures: int = 0

    @property
    def total_time(self) -> float:
        """Seconds spent in the tracker over the whole sequence."""
        return float(sum(self.times))

    @property
    def fps(self) -> float:
        """Frames per second of tracker time (frames that ran the tracker / their time)."""
        ran = sum(1 for t in self.times if t > 0)
        return ran / self.total_time if self.total_time > 0 else float("inf")


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    tic = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - tic


def _output_box(outputs: dict, video: str, idx: int) -> list:
    if not isinstance(outputs, dict) or "bbox" not in outputs:
        raise TypeError(
            f"video {video}: frame {idx}: track() must return a dict with 'bbox', got {outputs!r}"
        )
    return list(outputs["bbox"])


def _valid_init_box(box: list[float], seq: Sequence, idx: int) -> list[float]:
    """``box`` if its values are finite and its width and height > 0, else a ``ValueError``
    naming the video, the frame and its ground truth (a tracker initialised on such a box tracks
    garbage silently or crashes inside OpenCV)."""
    x, y, w, h = (float(v) for v in box)
    row = np.asarray(seq.gt_traj[idx], np.float64)
    rect_ok = row.size != 4 or (row[2] > 0 and row[3] > 0)  # PySOT's VOT box of [x, y, 0, 0] is 2 x 2
    if not (np.isfinite([x, y, w, h]).all() and w > 0 and h > 0 and rect_ok):
        gt = ", ".join(f"{v:g}" for v in row)
        raise ValueError(
            f"video {seq.name}: frame {idx}: ground truth [{gt}] gives the init box "
            f"[{x:g}, {y:g}, {w:g}, {h:g}]; its width and height must be finite and > 0"
        )
    return box


def run_ope(
    tracker: Tracker, seq: Sequence, protocol: str = "ope", on_frame: FrameHook | None = None
) -> RunResult:
    """One-pass evaluation: init on frame 0 with the ground truth, then track to the end.

    ``protocol`` is ``'ope'``, ``'got10k'`` (same rows) or ``'longterm'`` (frame 0 recorded as
    ``[1]``; scores kept as confidences).
    """
    if protocol not in ("ope", "got10k", "longterm"):
        raise ValueError(f"run_ope: protocol must be 'ope', 'got10k' or 'longterm', got {protocol!r}")
    result = RunResult(seq.name, protocol)
    for idx, (img, gt) in enumerate(seq.frames()):
        if idx == 0:
            if np.isnan(gt).any():
                raise ValueError(f"video {seq.name}: frame 0 has no ground truth to initialise from")
            box = _valid_init_box(init_box(gt, seq.gt_int), seq, idx)
            _, dt = _timed(lambda box=box, img=img: tracker.init(img, box))
            row: Row = [CODE_INIT] if protocol == "longterm" else box
            score = None
        else:
            outputs, dt = _timed(lambda img=img: tracker.track(img))
            row = _output_box(outputs, seq.name, idx)
            score = outputs.get("best_score")
        result.boxes.append(row)
        result.scores.append(score)
        result.times.append(dt)
        if on_frame is not None:
            on_frame(idx, img, row, gt)
    return result


def failure_overlap(
    region: list[float], gt: np.ndarray, image_size: tuple[int, int], convention: str = "pysot"
) -> float:
    """The overlap that the reset-based protocol's failure rule compares with ``failure_overlap``.

    Args:
        region: the tracker's output, ``[x, y, w, h]`` or a polygon ``[x1, y1, ..., x4, y4]``.
        gt: the ground-truth row as the dataset gives it (4 or 8 values).
        image_size: ``(width, height)`` of the frame.
        convention: ``'pysot'``: PySOT's ``tools/test.py``, the VOT C library's overlap
            (:func:`toolkit.evaluation.region.vot_overlap`) with a rectangle ground truth turned into
            its inclusive-corner polygon, bounds ``(width, height)``. ``'vot'``: the official
            toolkit's ``calculate_overlap(region, groundtruth, sequence.size)``
            (:func:`toolkit.evaluation.vot_official.region_overlap`) on the region as the toolkit
            receives it through TraX and as the result file records it: each value cast to float32
            and written with 4 decimals (``toolkit.results.format_vot_line``), the ground truth as
            given. The two differ on borderline frames (e.g. a box whose official overlap is 0 while
            PySOT's is above 0), so the failure frames can differ.
    """
    if convention == "vot":
        recorded = [float(v) for v in results.format_vot_line(region).split(",")]
        return region_overlap(recorded, np.asarray(gt, dtype=np.float64), image_size)
    if convention != "pysot":
        raise ValueError(f"unknown failure-rule convention {convention!r}; known: pysot, vot")
    return vot_overlap(region, inclusive_polygon(gt), image_size)


def run_vot(
    tracker: Tracker, seq: Sequence, rules: VOTRules = VOT_RULES, on_frame: FrameHook | None = None
) -> RunResult:
    """The VOT reset-based protocol (one run).

    Rows: ``1`` on (re-)initialisation, the tracker's region while tracking, ``2`` on failure,
    ``0`` on skipped frames. A frame without ground truth (NaN) cannot fail, and a
    re-initialisation due on such a frame waits for the next annotated one (``0`` meanwhile).
    Images are skipped, not loaded, on ``0`` frames. ``rules`` (:class:`toolkit.rules.VOTRules`)
    gives the skip, the failure overlap, the codes and the overlap ``convention`` of the failure
    rule (:func:`failure_overlap`). The (re-)initialisation box is PySOT's in both conventions (the
    TraX entry computes the same box from the region the toolkit sends).
    """
    result = RunResult(seq.name, "vot")
    bounds = None
    next_init = 0  # frame of the next (re-)initialisation
    for idx in range(len(seq)):
        gt_row = seq.gt_traj[idx]
        gt = inclusive_polygon(gt_row)
        annotated = not np.isnan(gt).any()
        if idx < next_init or (idx == next_init and not annotated):
            if idx == next_init:
                next_init += 1
            result.boxes.append(rules.code_skip)
            result.scores.append(None)
            result.times.append(0.0)
            continue
        img = seq.load_image(idx)
        if bounds is None:
            bounds = (img.shape[1], img.shape[0])
        if idx == next_init:
            box = _valid_init_box(vot_init_box(gt), seq, idx)
            _, dt = _timed(lambda box=box, img=img: tracker.init(img, box))
            row: Row = rules.code_init
            score = None
        else:
            outputs, dt = _timed(lambda img=img: tracker.track(img))
            region = list(outputs["polygon"]) if "polygon" in outputs else _output_box(outputs, seq.name, idx)
            score = outputs.get("best_score")
            if (
                annotated
                and not failure_overlap(region, gt_row, bounds, rules.convention) > rules.failure_overlap
            ):
                row = rules.code_failure
                result.failures += 1
                next_init = idx + rules.skip
            else:
                row = region
        result.boxes.append(row)
        result.scores.append(score)
        result.times.append(dt)
        if on_frame is not None:
            on_frame(idx, img, row, gt)
    return result


def run_sequence(
    tracker: Tracker,
    seq: Sequence,
    protocol: str,
    on_frame: FrameHook | None = None,
    rules: VOTRules = VOT_RULES,
) -> RunResult:
    """Run ``protocol`` (a ``Dataset.protocol``) on ``seq``; ``rules`` are the VOT edition's
    (:func:`toolkit.rules.rules_for`; only the ``vot`` protocol has any)."""
    if protocol == "vot":
        return run_vot(tracker, seq, rules, on_frame=on_frame)
    return run_ope(tracker, seq, protocol, on_frame=on_frame)


def write_result(result: RunResult, results_root: str | Path, tracker_name: str) -> list[Path]:
    """Write ``result`` in PySOT's layout under ``results_root`` (``results/<DATASET>``), atomically.

    Returns the written paths: the trajectory, and for long-term the confidences and times, for
    GOT-10k the times. The trajectory is written last, so an interrupted write leaves the run
    incomplete (and redone on resume).
    """
    protocol = result.protocol

    def path(kind: str) -> Path:
        return results.result_path(results_root, tracker_name, result.video, protocol, kind)

    written = []
    if protocol == "longterm":
        results.write_confidence(path("confidence"), result.scores)
        written.append(path("confidence"))
    if protocol in ("longterm", "got10k"):
        results.write_times(path("time"), result.times)
        written.append(path("time"))
    if protocol == "vot":
        results.write_vot_trajectory(path("boxes"), result.boxes)
    else:
        results.write_boxes(path("boxes"), result.boxes)
    written.append(path("boxes"))
    return written
