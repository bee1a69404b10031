"""Run OpenCV's KCF / CSRT / MIL trackers over a benchmark and score them like any other tracker.

The trackers go through the same machinery as ``tools/test.py`` (``toolkit.runner``: the
dataset's protocol, OPE or VOT reset-based, resume, atomic PySOT-layout result files under
``<results-dir>/<DATASET>/<tracker>/``) and are scored by ``toolkit.evaluation.report`` (success
AUC and precision at 20 px for OPE; accuracy, robustness and EAO for VOT). Needs the contrib
build of OpenCV (``pip install -e .[contrib]``, the same version as opencv-python).

Examples:
    python tools/opencv_baselines.py --dataset SYNTH
    python tools/opencv_baselines.py --dataset SYNTH-VOT --trackers KCF CSRT --num-workers 2
    python tools/opencv_baselines.py --dataset OTB100 --dataset-root /data/OTB100 --json otb.json
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from toolkit.cli import setup_logging, tool_parser
from toolkit.datasets import build_dataset, default_dataset_root
from toolkit.evaluation.report import evaluate_tracker
from toolkit.results import atomic_write_text
from toolkit.runner import run_dataset

logger = logging.getLogger(__name__)

TRACKERS = ("KCF", "CSRT", "MIL")


def create_tracker(name: str) -> cv2.Tracker:
    """A fresh OpenCV tracker: 'KCF', 'CSRT' or 'MIL' (main API, else the legacy module)."""
    if name not in TRACKERS:
        raise ValueError(f"unknown OpenCV tracker {name!r}; known: {', '.join(TRACKERS)}")
    factory = getattr(cv2, f"Tracker{name}_create", None)
    if factory is None and hasattr(cv2, "legacy"):
        factory = getattr(cv2.legacy, f"Tracker{name}_create", None)
    if factory is None:
        raise RuntimeError(
            f"cv2 {cv2.__version__} has no Tracker{name}; install opencv-contrib-python=={cv2.__version__}"
        )
    return factory()


def clip_box(bbox: list[float], width: int, height: int) -> tuple[int, int, int, int]:
    """``[x, y, w, h]`` rounded to integer pixels and clipped to a ``width x height`` image, at least
    1 x 1 (OpenCV's trackers need integer boxes, and MIL rejects boxes reaching outside the image)."""
    x, y, w, h = (round(v) for v in bbox)
    x0, y0 = min(max(x, 0), width - 1), min(max(y, 0), height - 1)
    x1, y1 = min(max(x + w, x0 + 1), width), min(max(y + h, y0 + 1), height)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


class OpenCVTracker:
    """Adapter from an OpenCV tracker to the toolkit's protocol (``init`` / ``track -> dict``).

    ``init`` builds a fresh OpenCV tracker (so VOT re-initialisations start clean) from the
    ``[x, y, w, h]`` box rounded and clipped to the image (``clip_box``). ``track`` returns
    ``{'bbox': [x, y, w, h], 'best_score': 1.0}``, or the previous box with ``best_score`` 0.0 when
    OpenCV reports the target lost.
    """

    def __init__(self, name: str):
        self.name = name
        self._tracker: cv2.Tracker | None = None
        self._box: list[float] = []

    def init(self, img: np.ndarray, bbox: list[float]) -> None:
        self._tracker = create_tracker(self.name)
        box = clip_box(bbox, img.shape[1], img.shape[0])
        self._tracker.init(img, box)
        self._box = [float(v) for v in box]

    def track(self, img: np.ndarray) -> dict:
        if self._tracker is None:
            raise RuntimeError(f"{self.name}: track() called before init()")
        ok, found = self._tracker.update(img)
        if ok:
            self._box = [float(v) for v in found]
        return {"bbox": list(self._box), "best_score": 1.0 if ok else 0.0}


def run_baselines(
    dataset_name: str,
    dataset_root: str | Path,
    results_dir: str | Path,
    trackers: Iterable[str] = TRACKERS,
    videos: Iterable[str] | None = None,
    num_workers: int = 1,
) -> dict:
    """Run the trackers over the dataset (SYNTH / SYNTH-VOT are generated when missing) and score them.

    Returns ``{tracker: metrics}`` with ``toolkit.evaluation.report.evaluate_tracker``'s metrics
    (only the selected ``videos`` are scored). Raises ``RuntimeError`` naming the videos that failed.
    """
    dataset = build_dataset(dataset_name, dataset_root, generate=True)
    if videos is not None:
        dataset = dataset.select(videos)
    report = {}
    for name in trackers:
        summary = run_dataset(
            dataset, functools.partial(OpenCVTracker, name), results_dir, name, num_workers=num_workers
        )
        if summary.failed:
            raise RuntimeError(f"{name}: videos failed: {summary.failed}")
        report[name] = evaluate_tracker(dataset, Path(results_dir) / dataset.name, name)
    return report


def summary_rows(report: dict) -> dict[str, dict[str, float]]:
    """The headline numbers per tracker: success/precision (OPE) or accuracy/robustness/EAO (VOT)."""
    keys = ("success_auc", "precision_at_20px", "norm_precision_at_0.20", "accuracy", "robustness",
            "lost_number", "eao")
    return {name: {k: round(float(m[k]), 4) for k in keys if k in m} for name, m in report.items()}


def format_table(dataset_name: str, report: dict) -> str:
    """A small text table of :func:`summary_rows`."""
    rows = summary_rows(report)
    keys = list(next(iter(rows.values()))) if rows else []
    lines = [f"{dataset_name:<12}" + "".join(f"{k:>24}" for k in keys)]
    lines += [f"{name:<12}" + "".join(f"{row[k]:>24.4f}" for k in keys) for name, row in rows.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument("--dataset", default="SYNTH", help="benchmark name (default SYNTH)")
    parser.add_argument("--dataset-root", help="dataset folder (default testing_dataset/<NAME>)")
    parser.add_argument("--results-dir", default="results", help="results root (default results)")
    parser.add_argument("--trackers", nargs="+", default=list(TRACKERS), choices=TRACKERS)
    parser.add_argument("--videos", nargs="+", help="only these videos")
    parser.add_argument("--num-workers", type=int, default=1, help="worker processes per tracker")
    parser.add_argument("--json", help="also write the headline scores to this JSON file")
    args = parser.parse_args(argv)
    setup_logging()
    logger.info("arguments: %s; cv2 %s", vars(args), cv2.__version__)
    cv2.setNumThreads(1)
    repo_root = Path(__file__).resolve().parents[1]
    root = args.dataset_root or default_dataset_root(args.dataset, [Path.cwd(), repo_root])
    report = run_baselines(args.dataset, root, args.results_dir, args.trackers, args.videos, args.num_workers)
    print(format_table(args.dataset, report))
    if args.json:
        atomic_write_text(args.json, json.dumps(summary_rows(report), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
