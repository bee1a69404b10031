"""Evaluation throughput benchmark: a large generated result set, evaluated end to end.

It writes files, so it lives beside :mod:`toolkit.evaluation` (pure metrics and the report), not in it.

``eval_throughput`` writes a VOT-style (reset-based, VOT2018 polygons) and an OPE-style (OTB-style
boxes, with attributes) result set for ``num_trackers`` trackers in PySOT's layout
(:mod:`toolkit.results` writers) into a temporary folder, then times what ``tools/eval.py`` does
after loading the dataset - reading every result file, the metrics, the printed tables and the JSON
report (:func:`toolkit.evaluation.report.evaluate`, ``format_tables``, ``report_json``) - for each
worker count in ``nums`` (``--num``) and each convention (PySOT's, and the official VOT toolkit's for
the VOT set). Numba compilation is done by a warm-up on one video first and reported separately.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from toolkit import results as rio
from toolkit.datasets.base import Dataset
from toolkit.datasets.base import Sequence as Video
from toolkit.evaluation import report as rep

logger = logging.getLogger(__name__)

#: Distinct generated trajectories per video; tracker ``t`` gets variant ``t % POOL`` (formatting
#: 1.5M result lines in Python would dominate the set-up time; evaluation reads every file anyway).
POOL = 5
VOT_TAGS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")
OPE_ATTRIBUTES = ("IV", "SV", "OCC", "DEF", "MB", "FM")
IMAGE_SIZE = (640, 480)


def _motion(rng: np.random.Generator, num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """Target centres ``(N, 2)`` (a random walk kept inside the image) and sizes ``(N, 2)``."""
    w, h = IMAGE_SIZE
    steps = rng.normal(0, 2.0, (num_frames, 2))
    centre = np.cumsum(steps, axis=0) + [w / 2, h / 2]
    centre = np.clip(centre, [80, 80], [w - 80, h - 80])
    size = rng.uniform(30, 90, 2) * np.exp(np.cumsum(rng.normal(0, 0.005, (num_frames, 2)), axis=0))
    return centre, size


def _polygon(centre: np.ndarray, size: np.ndarray, angle: float) -> np.ndarray:
    """Rotated-rectangle polygons ``(N, 8)`` (VOT2018 ground truth)."""
    c, s = math.cos(angle), math.sin(angle)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    pts = corners[None] * size[:, None, :]
    rot = np.stack([pts[..., 0] * c - pts[..., 1] * s, pts[..., 0] * s + pts[..., 1] * c], axis=-1)
    return (rot + centre[:, None, :]).reshape(len(centre), 8)


def _vot_trajectory(rng: np.random.Generator, centre: np.ndarray, size: np.ndarray,
                    failure_rate: float) -> List[Any]:
    """A reset-protocol trajectory: 1 at (re)initialisation, 2 at a failure, 0 for the 4 skipped
    frames after it, else a noisy x,y,w,h box."""
    n = len(centre)
    out: List[Any] = []
    frame = 0
    while frame < n:
        out.append(1)
        frame += 1
        while frame < n:
            if rng.random() < failure_rate:
                out.append(2)
                out += [0] * min(4, n - frame - 1)
                frame += 5
                break
            wh = size[frame] * rng.uniform(0.85, 1.15, 2)
            xy = centre[frame] + rng.normal(0, 0.08, 2) * size[frame] - wh / 2
            out.append([float(xy[0]), float(xy[1]), float(wh[0]), float(wh[1])])
            frame += 1
    return out[:n]


def _ope_boxes(rng: np.random.Generator, centre: np.ndarray, size: np.ndarray) -> np.ndarray:
    """OPE predictions ``(N, 4)``: a drifting noisy box, rounded to 2 decimals like tracker output."""
    drift = np.cumsum(rng.normal(0, 0.01, (len(centre), 2)), axis=0) * size
    wh = size * rng.uniform(0.8, 1.2, size.shape)
    xy = centre + drift + rng.normal(0, 0.1, centre.shape) * size - wh / 2
    return np.round(np.concatenate([xy, wh], axis=1), 2)


def generate_result_sets(root: Path, num_trackers: int, num_videos: int, num_frames: int,
                         seed: int = 0) -> Tuple[Dataset, Dataset, List[str]]:
    """Write both result sets under ``root`` (``results/VOT2018``, ``results/OTB100``).

    Returns ``(vot_dataset, ope_dataset, tracker_names)``; the datasets live in memory (image sizes
    given, no image is read).
    """
    rng = np.random.default_rng(seed)
    trackers = [f"tracker{t:03d}" for t in range(num_trackers)]
    vot_videos, ope_videos = [], []
    vot_root, ope_root = root / "results" / "VOT2018", root / "results" / "OTB100"
    for v in range(num_videos):
        name = f"video{v:03d}"
        centre, size = _motion(rng, num_frames)
        gt_poly = _polygon(centre, size, float(rng.uniform(-0.4, 0.4)))
        tags = {t: (rng.random(num_frames) < 0.3).astype(np.int32) for t in VOT_TAGS}
        images = [str(root / name / f"{i + 1:08d}.jpg") for i in range(num_frames)]
        vot_videos.append(Video(name, images, gt_poly, tags=tags, size=IMAGE_SIZE))
        gt_box = np.concatenate([centre - size / 2, size], axis=1)
        attrs = [a for a in OPE_ATTRIBUTES if rng.random() < 0.4]
        ope_videos.append(Video(name, images, gt_box, attr=attrs, size=IMAGE_SIZE))
        pool = min(POOL, num_trackers)
        vot_text = ["".join(rio.format_vot_line(r) + "\n" for r in
                            _vot_trajectory(rng, centre, size, failure_rate=0.004 * (k + 1)))
                    for k in range(pool)]
        ope_text = ["".join(rio.format_box_line(b) + "\n" for b in _ope_boxes(rng, centre, size).tolist())
                    for _ in range(pool)]
        for t, tracker in enumerate(trackers):
            rio.atomic_write_text(rio.result_path(vot_root, tracker, name, "vot"), vot_text[t % pool])
            rio.atomic_write_text(rio.result_path(ope_root, tracker, name, "ope"), ope_text[t % pool])
    vot = Dataset("VOT2018", root / "VOT2018", vot_videos, protocol="vot")
    ope = Dataset("OTB100", root / "OTB100", ope_videos, protocol="ope")
    return vot, ope, trackers


def write_dataset_files(dataset: Dataset, folder: Path) -> Path:
    """Write ``dataset`` as a PySOT dataset folder that ``tools/eval.py`` (``--dataset-root``) and
    PySOT's own toolkit (``testing_dataset/<NAME>``) both load: ``<NAME>.json`` in PySOT's layout and
    each video's first image (a black ``IMAGE_SIZE`` JPEG, the only image either toolkit reads, for
    the image size; hard links of one file). Returns the JSON path."""
    import json

    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    w, h = IMAGE_SIZE
    blank = folder / "blank.jpg"
    cv2.imwrite(str(blank), np.zeros((h, w, 3), np.uint8))
    meta: Dict[str, Any] = {}
    for video in dataset:
        names = [f"{video.name}/{i + 1:08d}.jpg" for i in range(len(video))]
        (folder / video.name).mkdir(exist_ok=True)
        first = folder / names[0]
        if not first.exists():
            os.link(blank, first)
        gt = video.gt_traj.tolist()
        entry: Dict[str, Any] = {"video_dir": video.name, "init_rect": video.init_rect.tolist(),
                                 "img_names": names, "gt_rect": gt}
        if dataset.protocol == "vot":
            entry.update({t: video.tags[t].tolist() for t in VOT_TAGS})
        else:
            entry["attr"] = list(video.attr)
        meta[video.name] = entry
    path = folder / f"{dataset.name}.json"
    rio.atomic_write_text(path, json.dumps(meta))
    return path


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the evaluation workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _full_eval(dataset: Dataset, results_root: Path, trackers: Sequence[str], convention: str,
               num: int) -> Tuple[float, float]:
    """``(wall seconds, CPU seconds)`` of evaluate + tables + JSON, as ``tools/eval.py`` runs them."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    report = rep.evaluate(dataset, results_root, trackers, convention=convention, num=num)
    rep.format_tables(report)
    rep.report_json(report)
    return time.perf_counter() - start, _cpu_seconds() - cpu


def cpu_info() -> Dict[str, Any]:
    """The CPU model and the SIMD flags that matter for these timings (``/proc/cpuinfo``)."""
    model, flags = None, []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if model is None and line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif not flags and line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
    return {"model": model, "flags": [f for f in wanted if f in flags], "cpu_count": os.cpu_count()}


def eval_throughput(num_trackers: int = 50, num_videos: int = 60, num_frames: int = 500,
                    nums: Sequence[int] = (1, 2), seed: int = 0, pysot_root: str | Path | None = None,
                    repeats: int = 1) -> Dict[str, Any]:
    """Generate the result sets and time their full evaluation at each ``--num``.

    Returns a JSON-ready dict: ``config``, ``cpu`` (:func:`cpu_info`), ``generate_s``, ``warmup_s``
    (numba compilation or cache loading), and per set (``vot_pysot``, ``vot_official``, ``ope``)
    ``{str(num): {"wall_s", "cpu_s", "frames_per_s", "frames_per_cpu_s", "speedup"}}`` where
    ``cpu_s`` is the CPU time of this process and its workers (a measure that depends less on other
    load), frames counts tracker-frames (trackers x videos x frames), ``frames_per_cpu_s`` is the
    throughput per core (frames per CPU second) and speedup is the wall-time ratio to the first
    ``num``; plus ``load_average`` (1, 5, 15 min) at the start and the end, since wall times on a
    shared machine depend on it.

    With ``pysot_root`` (a PySOT checkout whose ``toolkit/utils/region`` extension is built), also
    ``cli``: ``tools/eval.py`` and PySOT's ``tools/eval.py`` run as commands at ``--num 1`` on the
    same files (VOT2018 and OTB100 layouts), alternately, ``repeats`` times each (see
    :func:`compare_cli`).
    """
    nums = [int(n) for n in nums]
    out: Dict[str, Any] = {
        "config": {"num_trackers": num_trackers, "num_videos": num_videos, "num_frames": num_frames,
                   "nums": nums, "seed": seed, "image_size": list(IMAGE_SIZE), "distinct_per_video": POOL},
        "cpu": cpu_info(),
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    tracker_frames = num_trackers * num_videos * num_frames
    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        vot, ope, trackers = generate_result_sets(root, num_trackers, num_videos, num_frames, seed)
        out["generate_s"] = time.perf_counter() - start
        logger.info("generated %d trackers x %d videos x %d frames in %.1f s", num_trackers, num_videos,
                    num_frames, out["generate_s"])
        sets = [("vot_pysot", vot, "VOT2018", "pysot"), ("vot_official", vot, "VOT2018", "vot"),
                ("ope", ope, "OTB100", "pysot")]
        start = time.perf_counter()
        for _, dataset, folder, convention in sets:
            one_video = dataset.select(dataset.names[:1])
            _full_eval(one_video, root / "results" / folder, trackers[:1], convention, 1)
        out["warmup_s"] = time.perf_counter() - start
        for key, dataset, folder, convention in sets:
            timings: Dict[str, Any] = {}
            for num in nums:
                wall, cpu = _full_eval(dataset, root / "results" / folder, trackers, convention, num)
                timings[str(num)] = {"wall_s": wall, "cpu_s": cpu, "frames_per_s": tracker_frames / wall,
                                     "frames_per_cpu_s": tracker_frames / cpu if cpu > 0 else None}
                logger.info("%s --num %d: %.2f s, %.2f s CPU (%.0f tracker-frames/s)", key, num, wall, cpu,
                            tracker_frames / wall)
            first = timings[str(nums[0])]["wall_s"]
            for t in timings.values():
                t["speedup"] = first / t["wall_s"]
            out[key] = timings
        if pysot_root is not None:
            for dataset in (vot, ope):
                write_dataset_files(dataset, root / "testing_dataset" / dataset.name)
            out["cli"] = compare_cli(root, Path(pysot_root), ("VOT2018", "OTB100"), tracker_frames, repeats)
    out["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return out


def break_even(tracker_counts: Sequence[int] = (2, 4, 8, 16, 32), num_videos: int = 30, num_frames: int = 500,
               seed: int = 0, repeats: int = 3) -> Dict[str, Any]:
    """Where ``--num 2`` starts to pay: in-process ``evaluate`` with 2 worker processes forced (the
    per-kind minimum of :data:`.evaluation.aggregate.MIN_FRAMES_PER_WORKER` set aside) against one,
    for each tracker count, in PySOT's VOT convention and OPE; medians of ``repeats`` alternating
    runs. Returns ``{"cpu", "rows": [{"set", "trackers", "tracker_frames", "wall_num1",
    "wall_num2_forced", "speedup"}], "load_average", "load_average_end"}``."""
    from .evaluation import aggregate

    out: Dict[str, Any] = {"cpu": cpu_info(), "rows": [],
                           "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    saved = dict(aggregate.MIN_FRAMES_PER_WORKER), aggregate.DEFAULT_MIN_FRAMES_PER_WORKER
    try:
        with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
            root = Path(tmp)
            vot, ope, trackers = generate_result_sets(root, max(tracker_counts), num_videos, num_frames, seed)
            for dataset in (vot, ope):
                results = root / "results" / dataset.name

                def run(names: Sequence[str], num: int, dataset: Dataset = dataset,
                        results: Path = results) -> float:
                    limit = 1 if num > 1 else 10**15
                    aggregate.MIN_FRAMES_PER_WORKER = {k: limit for k in saved[0]}
                    aggregate.DEFAULT_MIN_FRAMES_PER_WORKER = limit
                    start = time.perf_counter()
                    rep.evaluate(dataset, results, names, convention="pysot", num=num)
                    return time.perf_counter() - start

                run(trackers[:2], 1)  # kernels and the shared ground truth prepared
                for count in tracker_counts:
                    walls: Dict[int, List[float]] = {1: [], 2: []}
                    for _ in range(repeats):
                        for num in (1, 2):
                            walls[num].append(run(trackers[:count], num))
                    w1, w2 = (sorted(walls[n])[len(walls[n]) // 2] for n in (1, 2))
                    frames = count * num_videos * num_frames
                    row = {"set": dataset.name, "trackers": count, "tracker_frames": frames,
                           "wall_num1": w1, "wall_num2_forced": w2, "speedup": w1 / w2}
                    logger.info("break-even %s", row)
                    out["rows"].append(row)
    finally:
        aggregate.MIN_FRAMES_PER_WORKER, aggregate.DEFAULT_MIN_FRAMES_PER_WORKER = saved
    out["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    return out


def _run_timed(cmd: List[str], cwd: Path, env: Dict[str, str]) -> Tuple[float, float, bytes]:
    """``(wall s, CPU s of the child, stdout)`` of a command; a failure raises naming the command."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {' / '.join(tail)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def compare_cli(root: Path, pysot_root: Path, datasets: Sequence[str], tracker_frames: int,
                repeats: int = 1) -> Dict[str, Any]:
    """Run ``tools/eval.py`` and PySOT's ``tools/eval.py`` (``--num 1``) on ``root/results/<NAME>``
    with the dataset in ``root/testing_dataset/<NAME>``, alternately, ``repeats`` times each.

    PySOT's script resolves the dataset as ``<script>/../testing_dataset`` and its image paths from
    the working directory, so an unmodified copy of it is placed in ``root/pysot_tools/tools`` next
    to a link to ``root/testing_dataset`` and run from the dataset folder, with ``pysot_root`` on
    ``PYTHONPATH`` (its compiled ``toolkit``). Returns per dataset the runs (wall and child CPU
    seconds), their medians, ``ratio_cpu`` / ``ratio_wall`` (PySOT's median over ours) and whether
    the printed table rows are the same (as sorted lines: PySOT orders tied trackers by which
    worker finished first)."""
    import shutil
    import statistics
    import sys

    script = pysot_root / "tools" / "eval.py"
    if not script.is_file() or not list((pysot_root / "toolkit" / "utils").glob("region*.so")):
        raise FileNotFoundError(
            f"{pysot_root}: needs tools/eval.py and the built toolkit/utils/region extension "
            "(python setup.py build_ext --inplace, with cython<3)"
        )
    runner = root / "pysot_tools"
    (runner / "tools").mkdir(parents=True, exist_ok=True)
    shutil.copy(script, runner / "tools" / "eval.py")
    link = runner / "testing_dataset"
    if not link.exists():
        link.symlink_to(root / "testing_dataset", target_is_directory=True)
    ours_script = Path(__file__).resolve().parents[1] / "tools" / "eval.py"
    env_ours = dict(os.environ)
    # PySOT's toolkit first; an existing PYTHONPATH (e.g. where Pillow is, which PySOT's VOT loader
    # imports) stays after it
    env_pysot = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(pysot_root),
                                                                         os.environ.get("PYTHONPATH")])))
    results = str(root / "results")
    out: Dict[str, Any] = {"pysot_root": str(pysot_root), "repeats": repeats}
    for name in datasets:
        folder = root / "testing_dataset" / name
        runs: Dict[str, List[Dict[str, float]]] = {"ours": [], "pysot": []}
        stdout: Dict[str, bytes] = {}
        for _ in range(repeats):
            wall, cpu, text = _run_timed([sys.executable, str(ours_script), "--tracker_path", results,
                                          "--dataset", name, "--dataset-root", str(folder), "--num", "1"],
                                         folder, env_ours)
            runs["ours"].append({"wall_s": wall, "cpu_s": cpu})
            stdout["ours"] = text
            wall, cpu, text = _run_timed([sys.executable, str(runner / "tools" / "eval.py"), "--tracker_path",
                                          results, "--dataset", name, "--num", "1"], folder, env_pysot)
            runs["pysot"].append({"wall_s": wall, "cpu_s": cpu})
            stdout["pysot"] = text
            ours = runs["ours"][-1]
            logger.info("%s: ours %.2f s (%.2f CPU), PySOT %.2f s (%.2f CPU)", name, ours["wall_s"],
                        ours["cpu_s"], wall, cpu)
        entry: Dict[str, Any] = {"runs": runs}
        for who in ("ours", "pysot"):
            entry[who] = {k: statistics.median(r[k] for r in runs[who]) for k in ("wall_s", "cpu_s")}
            entry[who]["frames_per_cpu_s"] = tracker_frames / entry[who]["cpu_s"]
        entry["ratio_cpu"] = entry["pysot"]["cpu_s"] / entry["ours"]["cpu_s"]
        entry["ratio_wall"] = entry["pysot"]["wall_s"] / entry["ours"]["wall_s"]
        entry["same_rows"] = sorted(stdout["ours"].splitlines()) == sorted(stdout["pysot"].splitlines())
        out[name] = entry
    return out
