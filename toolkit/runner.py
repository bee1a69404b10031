"""Run a tracker over a benchmark: resume, sharding across ranks, worker processes, result files.

``run_dataset`` is model-free: it takes a ``tracker_factory`` (a picklable zero-argument callable
returning a fresh tracker, see :mod:`toolkit.protocols`). ``tools/test.py`` passes one that builds
a pysot model and tracker from a config and checkpoint.

Behaviour: a video whose result files are complete is skipped (resume); each result
file is written atomically; a video that raises is logged by name with its traceback, the other
videos still run, and the summary lists it (the tool then exits non-zero).
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from toolkit import results
from toolkit.datasets.base import Dataset
from toolkit.protocols import FrameHook, RunResult, Tracker, run_sequence, write_result
from toolkit.rules import VOTRules, rules_for

logger = logging.getLogger(__name__)

TrackerFactory = Callable[[], Tracker]


@dataclass
class VideoReport:
    """Outcome of one video: its time, speed and failures (VOT), or the error it raised."""

    video: str
    frames: int = 0
    seconds: float = 0.0
    fps: float = 0.0
    lost: int = 0
    error: str | None = None


@dataclass
class RunSummary:
    """What ``run_dataset`` did.

    Attributes:
        results_dir: ``<results root>/<DATASET>/<tracker>`` (where the config is saved too).
        done: reports of the videos run now (including failed ones, whose ``error`` is set).
        skipped: videos whose results were already complete.
        other_ranks: videos left to the other ranks (sharding).
    """

    results_dir: Path
    done: list[VideoReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    other_ranks: list[str] = field(default_factory=list)

    @property
    def failed(self) -> dict[str, str]:
        """Video name -> error message of every video that raised."""
        return {r.video: r.error for r in self.done if r.error is not None}

    @property
    def total_lost(self) -> int:
        """Failures summed over the videos run now (VOT protocol)."""
        return sum(r.lost for r in self.done)


def shard(names: list[str], rank: int, world_size: int) -> list[str]:
    """The videos of ``rank`` out of ``world_size``: every ``world_size``-th name from ``rank``."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"invalid rank {rank} for world size {world_size}")
    return names[rank::world_size]


def _report(result: RunResult) -> VideoReport:
    return VideoReport(result.video, len(result.boxes), result.total_time, result.fps, result.failures)


class RunInterrupted(Exception):
    """Raised inside a video when the run is asked to stop (SIGINT in the main process)."""


def _stoppable(on_frame: FrameHook | None, stop: Any) -> FrameHook | None:
    """``on_frame`` that first raises :class:`RunInterrupted` once ``stop`` (an Event) is set."""
    if stop is None:
        return on_frame

    def hook(idx, img, row, gt):
        if stop.is_set():
            raise RunInterrupted(f"stopped at frame {idx}")
        if on_frame is not None:
            on_frame(idx, img, row, gt)

    return hook


def run_video(
    tracker: Tracker,
    dataset: Dataset,
    video: str,
    results_root: Path,
    tracker_name: str,
    on_frame: FrameHook | None = None,
    before_write: Callable[[], None] | None = None,
    stop: Any = None,
    rules: VOTRules | None = None,
) -> VideoReport:
    """Run one video and write its result files; an exception becomes the report's ``error``.

    ``before_write`` is called before the first file is written (the run folder saves its config
    there); once ``stop`` (an Event) is set the video stops at its next frame, writing nothing.
    ``rules``: the reset-based protocol's rules (default: the edition's, :func:`rules_for`)."""
    try:
        if rules is None:
            rules = rules_for(dataset.name)  # the VOT edition's skip, failure overlap and codes
        hook = _stoppable(on_frame, stop)
        result = run_sequence(tracker, dataset[video], dataset.protocol, on_frame=hook, rules=rules)
        if before_write is not None:
            before_write()
        write_result(result, results_root, tracker_name)
    except RunInterrupted as err:
        return VideoReport(video, error=f"interrupted ({err})")
    except Exception as err:  # reported by name; the run goes on and fails at the end
        logger.error("video %s failed:\n%s", video, traceback.format_exc())
        return VideoReport(video, error=f"{type(err).__name__}: {err}")
    return _report(result)


# --------------------------------------------------------------------------- worker processes
_WORKER: dict = {}


def _worker_init(
    factory: TrackerFactory,
    dataset: Dataset,
    results_root: Path,
    tracker_name: str,
    before_write: Callable[[], None] | None = None,
    stop: Any = None,
    rules: VOTRules | None = None,
) -> None:
    # Ctrl-C reaches the whole process group: the main process alone decides (it sets ``stop``)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.update(
        factory=factory, tracker=None, dataset=dataset, root=results_root, name=tracker_name,
        before_write=before_write, stop=stop, rules=rules,
    )  # fmt: skip


def _worker_run(video: str) -> VideoReport:
    if _WORKER["tracker"] is None:
        try:
            _WORKER["tracker"] = _WORKER["factory"]()
        except Exception as err:
            logger.error("building the tracker for video %s failed:\n%s", video, traceback.format_exc())
            return VideoReport(video, error=f"building the tracker failed: {type(err).__name__}: {err}")
    if _WORKER["stop"] is not None and _WORKER["stop"].is_set():
        return VideoReport(video, error="interrupted (not started)")
    return run_video(
        _WORKER["tracker"], _WORKER["dataset"], video, _WORKER["root"], _WORKER["name"],
        before_write=_WORKER["before_write"], stop=_WORKER["stop"], rules=_WORKER["rules"],
    )  # fmt: skip


def _log_video(i: int, report: VideoReport) -> None:
    if report.error is None:
        logger.info(
            "(%3d) Video: %-12s Time: %5.1fs Speed: %5.1ffps Lost: %d",
            i,
            report.video,
            report.seconds,
            report.fps,
            report.lost,
        )
    else:
        logger.error("(%3d) Video: %-12s FAILED: %s", i, report.video, report.error)


def run_dataset(
    dataset: Dataset,
    tracker_factory: TrackerFactory,
    results_root: str | Path,
    tracker_name: str,
    videos: Iterable[str] | None = None,
    num_workers: int = 1,
    rank: int = 0,
    world_size: int = 1,
    on_frame: FrameHook | None = None,
    progress: bool = True,
    before_write: Callable[[], None] | None = None,
    rules: VOTRules | None = None,
) -> RunSummary:
    """Run a tracker over ``dataset`` and write PySOT-layout results under ``results_root/<DATASET>``.

    Args:
        dataset: the benchmark; ``dataset.protocol`` picks the protocol and result layout.
        tracker_factory: zero-argument callable returning a fresh tracker; called once per worker
            process (once in total when ``num_workers <= 1``). Must be picklable for workers.
        results_root: results folder holding one folder per dataset (PySOT: ``results``).
        tracker_name: the tracker's folder name under ``results_root/<DATASET>``.
        videos: only these videos (unknown names raise ``KeyError``); default all.
        num_workers: worker processes (``spawn``), each with its own tracker; ``<= 1`` runs here.
        rank, world_size: this process's shard (torchrun: ``RANK`` / ``WORLD_SIZE``).
        on_frame: per-frame hook (visualisation); only used when ``num_workers <= 1``.
        progress: show a tqdm bar.
        before_write: picklable callable run before each video's result files are written, in
            the process writing them (:meth:`toolkit.run_folder.RunFolder.ensure_saved`).
        rules: the reset-based protocol's rules, e.g. with the official failure rule
            (``replace(rules_for(name), convention='vot')``); default :func:`rules_for` of the dataset.

    With workers, the factory is first called once here, so that a bad checkpoint or config fails
    once, before any process starts. ``KeyboardInterrupt`` (SIGINT to this process) cancels the
    queued videos, stops the running ones at their next frame (nothing partial is written: each
    file is atomic and a video's trajectory is written last) and is re-raised.
    """
    names = dataset.names if videos is None else list(videos)
    unknown = [n for n in names if n not in dataset]
    if unknown:
        raise KeyError(f"{dataset.name}: no video named {', '.join(map(repr, unknown))}")
    root = Path(results_root) / dataset.name
    summary = RunSummary(root / tracker_name)
    mine = shard(names, rank, world_size)
    summary.other_ranks = [n for n in names if n not in set(mine)]
    todo = []
    for name in mine:
        if results.result_complete(root, tracker_name, name, dataset.protocol, len(dataset[name])):
            summary.skipped.append(name)
        else:
            todo.append(name)
    if summary.skipped:
        logger.info("%s: %d videos already complete, skipped (resume)", dataset.name, len(summary.skipped))
    bar = tqdm(total=len(todo), desc=f"{dataset.name} {tracker_name}", disable=not progress or not todo)
    if num_workers <= 1 or len(todo) <= 1:
        tracker = tracker_factory() if todo else None
        for name in todo:
            report = run_video(
                tracker, dataset, name, root, tracker_name, on_frame, before_write, rules=rules
            )
            summary.done.append(report)
            _log_video(len(summary.done), report)
            bar.update()
    else:
        tracker_factory()  # validate the checkpoint and config once, here (then dropped)
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        with ProcessPoolExecutor(
            max_workers=min(num_workers, len(todo)),
            mp_context=context,
            initializer=_worker_init,
            initargs=(tracker_factory, dataset, root, tracker_name, before_write, stop, rules),
        ) as pool:
            futures = {pool.submit(_worker_run, name): name for name in todo}
            try:
                for future in as_completed(futures):
                    try:
                        report = future.result()
                    except Exception as err:  # a worker died (e.g. killed): report the video
                        report = VideoReport(
                            futures[future], error=f"worker failed: {type(err).__name__}: {err}"
                        )
                    summary.done.append(report)
                    _log_video(len(summary.done), report)
                    bar.update()
            except KeyboardInterrupt:
                logger.warning("interrupted: queued videos cancelled, running ones stop at their next frame")
                stop.set()
                pool.shutdown(wait=False, cancel_futures=True)
                bar.close()
                raise
        summary.done.sort(key=lambda r: names.index(r.video))
    bar.close()
    if dataset.protocol == "vot":
        logger.info("%s total lost: %d", tracker_name, summary.total_lost)
    for video, error in summary.failed.items():
        logger.error("video %s failed: %s", video, error)
    return summary
