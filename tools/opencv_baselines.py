"""Run OpenCV's KCF / CSRT / MIL trackers over a benchmark (one-pass evaluation) and score them.

Needs the contrib build of OpenCV for CSRT/KCF (``pip install -e .[contrib]``, the same version as
opencv-python). Results go to ``<results-dir>/<DATASET>/<tracker>/<video>.txt`` in PySOT's OPE
format (first line = the initial box), then success AUC and precision (20 px) are printed and,
with ``--json``, written to a file.

Examples:
    python tools/opencv_baselines.py --dataset SYNTH
    python tools/opencv_baselines.py --dataset SYNTH --trackers KCF --videos synth001 synth002
    python tools/opencv_baselines.py --dataset OTB100 --dataset-root /data/OTB100 --json otb.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from toolkit.datasets import build_dataset, default_dataset_root
from toolkit.datasets.base import Sequence, rect_of_region
from toolkit.evaluation.ope import precision_curve, precision_score, success_auc, success_curve
from toolkit.results import atomic_write_text, read_boxes, result_path, write_boxes

logger = logging.getLogger(__name__)

TRACKERS = ("KCF", "CSRT", "MIL")


def create_tracker(name: str) -> cv2.Tracker:
    """A fresh OpenCV tracker: 'KCF', 'CSRT' or 'MIL' (new API, else the legacy module)."""
    if name not in TRACKERS:
        raise ValueError(f"unknown OpenCV tracker {name!r}; known: {', '.join(TRACKERS)}")
    factory: Callable | None = getattr(cv2, f"Tracker{name}_create", None)
    if factory is None and hasattr(cv2, "legacy"):
        factory = getattr(cv2.legacy, f"Tracker{name}_create", None)
    if factory is None:
        raise RuntimeError(
            f"cv2 {cv2.__version__} has no Tracker{name}; install opencv-contrib-python=={cv2.__version__}"
        )
    return factory()


def track_video(tracker_name: str, video: Sequence) -> tuple[np.ndarray, float]:
    """One-pass run: ``(N, 4)`` xywh boxes (row 0 = the initial box) and frames per second.

    The tracker is initialised with the initial box rounded to integer pixels (OpenCV's API);
    when it reports a loss, the previous box is kept.
    """
    init = np.asarray(video.init_rect, np.float64)
    box = tuple(int(round(v)) for v in init)
    boxes = [init]
    tracker = create_tracker(tracker_name)
    tracker.init(video.load_image(0), box)
    elapsed = 0.0
    for idx in range(1, len(video)):
        image = video.load_image(idx)
        start = time.perf_counter()
        ok, found = tracker.update(image)
        elapsed += time.perf_counter() - start
        if ok:
            box = tuple(found)
        boxes.append(np.asarray(box, np.float64))
    fps = (len(video) - 1) / elapsed if elapsed > 0 else float("nan")
    return np.stack(boxes), fps


def axis_aligned_gt(video: Sequence) -> np.ndarray:
    """``(N, 4)`` xywh ground truth; polygons become their axis-aligned bounding boxes."""
    gt = video.gt_traj
    return gt if gt.shape[1] == 4 else np.stack([rect_of_region(row) for row in gt])


def run_baselines(
    dataset_name: str,
    dataset_root: str | Path,
    results_dir: str | Path,
    trackers: Iterable[str] = TRACKERS,
    videos: Iterable[str] | None = None,
) -> dict:
    """Run the trackers over the dataset (generating SYNTH/SYNTH-VOT if missing) and score them.

    Existing complete result files are reused (resume). Returns
    ``{tracker: {"success_auc", "precision", "fps", "videos": {video: {"success_auc", "precision"}}}}``.
    """
    dataset = build_dataset(dataset_name, dataset_root, generate=True)
    selected = [dataset[v] for v in videos] if videos else list(dataset)
    out_root = Path(results_dir) / dataset_name
    report = {}
    for name in trackers:
        successes, precisions, per_video, fps_list = [], [], {}, []
        for video in tqdm(selected, desc=name, unit="video"):
            path = result_path(out_root, name, video.name, "ope")
            if path.is_file() and len(path.read_text().splitlines()) == len(video):
                boxes = read_boxes(path, len(video))
            else:
                boxes, fps = track_video(name, video)
                write_boxes(path, [list(map(float, b)) for b in boxes])
                fps_list.append(fps)
                logger.info("%s %s: %.1f fps", name, video.name, fps)
            gt = axis_aligned_gt(video)
            succ, prec = success_curve(gt, boxes), precision_curve(gt, boxes)
            successes.append(succ)
            precisions.append(prec)
            per_video[video.name] = {
                "success_auc": round(float(np.mean(succ)), 4),
                "precision": round(float(prec[20]), 4),
            }
        report[name] = {
            "success_auc": round(success_auc(successes), 4),
            "precision": round(precision_score(precisions), 4),
            "fps": round(float(np.mean(fps_list)), 1) if fps_list else None,
            "videos": per_video,
        }
    return report


def format_table(dataset_name: str, report: dict) -> str:
    """A small text table: tracker, success AUC, precision at 20 px, mean FPS."""
    lines = [f"{dataset_name:<12}{'Success':>10}{'Precision':>11}{'FPS':>8}"]
    for name, row in report.items():
        fps = "-" if row["fps"] is None else f"{row['fps']:.1f}"
        lines.append(f"{name:<12}{row['success_auc']:>10.3f}{row['precision']:>11.3f}{fps:>8}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="SYNTH", help="benchmark name (default SYNTH)")
    parser.add_argument("--dataset-root", help="dataset folder (default testing_dataset/<NAME>)")
    parser.add_argument("--results-dir", default="results", help="results root (default results)")
    parser.add_argument("--trackers", nargs="+", default=list(TRACKERS), choices=TRACKERS)
    parser.add_argument("--videos", nargs="+", help="only these videos")
    parser.add_argument("--json", help="also write the scores to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logger.info("arguments: %s; cv2 %s", vars(args), cv2.__version__)
    cv2.setNumThreads(1)
    repo_root = Path(__file__).resolve().parents[1]
    root = args.dataset_root or default_dataset_root(args.dataset, [Path.cwd(), repo_root])
    report = run_baselines(args.dataset, root, args.results_dir, args.trackers, args.videos)
    print(format_table(args.dataset, report))
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
