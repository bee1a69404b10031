"""Reading result folders and computing every metric per tracker and video: the evaluation report.

``evaluate`` reads the result files of every tracker (:mod:`toolkit.results`, strict: a wrong line
count or a bad line names the file and line; a tracker missing videos raises
:class:`MissingResultsError` naming the tracker and the videos), computes the metrics with the pure
functions of this package (trackers in parallel over a worker pool with ``num > 1``) and returns a
report dict:

``{"version", "dataset", "kind", "protocol", "videos", "attributes"/"tags", "trackers": {name: {...}}}``

(``"protocol"`` holds the scoring convention; the key keeps the name of the JSON layout's version 1.)
:mod:`.tables` prints it as PySOT does, :mod:`.json_report` writes it as JSON.

Dataset kinds (``Dataset.protocol``, how the results were run): ``ope`` and ``got10k`` -> success /
precision / normalised precision (+ per attribute); ``vot`` -> accuracy, robustness, EAO (+ per tag)
in PySOT's scoring convention (``convention='pysot'``) or the official VOT toolkit's
(``convention='vot'``, :mod:`.vot_official`); ``longterm`` -> precision / recall / F1.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from toolkit import results as rio
from toolkit import rules

from . import eao, f1, ope

if TYPE_CHECKING:
    from toolkit.datasets import Dataset

#: Version of the JSON report layout.
REPORT_VERSION = 1
#: VOT baseline: PySOT uses all repetitions only when there are exactly this many, else the first
#: (:attr:`toolkit.rules.VOTRules.repetitions` of each edition).
VOT_REPETITIONS = rules.VOT_RULES.repetitions
#: The scoring conventions: PySOT's toolkit and the official VOT toolkit (0.7.4).
CONVENTIONS = rules.CONVENTIONS


class MissingResultsError(FileNotFoundError):
    """Some trackers lack result files for some videos (the message names them)."""


# ------------------------------------------------------------------------------------- reading
def _has_results(root: Path, tracker: str, video: str, kind: str) -> bool:
    if kind == "vot":  # rio.vot_repetition_paths with plain strings (3000 folders for VOT2018 x 50)
        return bool(_vot_run_files(root, tracker, video, VOT_REPETITIONS))
    if kind == "ope":
        return _find_ope_file(root, tracker, video) is not None
    files = [rio.result_path(root, tracker, video, kind)]
    if kind == "longterm":
        files.append(rio.result_path(root, tracker, video, kind, "confidence"))
    return all(p.is_file() for p in files)


def _vot_runs(root: Path, tracker: str, video: str, repetitions: int = VOT_REPETITIONS) -> list[Path]:
    runs = rio.vot_repetition_paths(root, tracker, video)
    return runs if len(runs) == repetitions else runs[:1]


def check_complete(dataset: Dataset, root: str | Path, trackers: Iterable[str]) -> None:
    """Raise :class:`MissingResultsError` if any tracker lacks a result file of any video."""
    incomplete = incomplete_trackers(dataset, root, trackers)
    if incomplete:
        problems = [f"tracker {tracker!r} {what}" for tracker, what in incomplete.items()]
        raise MissingResultsError(f"{dataset.name} results in {Path(root)}: " + "; ".join(problems))


def incomplete_trackers(dataset: Dataset, root: str | Path, trackers: Iterable[str]) -> dict[str, str]:
    """Tracker -> what it lacks, for the trackers without a result file for every video (so that
    ``tools/eval.py`` can score the complete ones and name these)."""
    root = Path(root)
    out = {}
    for tracker in trackers:
        missing = [v for v in dataset.names if not _has_results(root, tracker, v, dataset.protocol)]
        if missing:
            shown = ", ".join(missing[:10]) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
            out[tracker] = f"has no results for {len(missing)} of {len(dataset)} videos: {shown}"
    return out


def _annotated(gt: np.ndarray) -> np.ndarray:
    return ~np.isnan(gt).any(axis=1)


def _curve_dict(curves: Mapping[str, np.ndarray | list[float]]) -> dict[str, list[float]]:
    """Curves as lists of floats (those given as lists of floats already are kept)."""
    return {k: v if type(v) is list else np.asarray(v, np.float64).tolist() for k, v in curves.items()}


# ------------------------------------------------------------------------------------- metrics
def _ope_path(dataset: Dataset, root: str | Path, tracker: str, video: str) -> Path | None:
    if dataset.protocol == "ope":
        return rio.find_ope_result(root, tracker, video)
    return rio.result_path(root, tracker, video, dataset.protocol)


def _ope_path_checked(dataset: Dataset, root: str | Path, tracker: str, video: str) -> str | Path:
    """:func:`_ope_path` (:func:`_find_ope_file` for OPE datasets), an error naming the expected
    file when there is none."""
    if dataset.protocol == "ope":
        path = _find_ope_file(root, tracker, video)
        if path is None:  # named as fastread names it
            raise FileNotFoundError(f"{os.path.join(root, tracker, video + '.txt')}: no such result file")
        return path
    return _ope_path(dataset, root, tracker, video)


def _find_ope_file(root: str | Path, tracker: str, video: str) -> str | Path | None:
    """:func:`toolkit.results.find_ope_result`, the usual ``<tracker>/<video>.txt`` found by one
    ``stat`` on a plain string (no Path objects: 3000 files per 50-tracker OTB evaluation)."""
    path = os.path.join(root, tracker, video + ".txt")
    return path if os.path.isfile(path) else rio.find_ope_result(root, tracker, video)


def _prepared(dataset: Dataset, what: str, build):
    """Per-dataset preparation shared by every tracker (ground truth packed / concatenated once)."""
    key = (id(dataset), what)
    hit = _PREPARED.get(key)
    if hit is None or hit[0] is not dataset:
        if len(_PREPARED) > 8:
            _PREPARED.clear()
        hit = _PREPARED[key] = (dataset, build())
    return hit[1]


_PREPARED: dict[tuple[int, str], tuple[Any, Any]] = {}


def evaluate_ope_tracker(
    dataset: Dataset, root: str | Path, tracker: str, fast: bool = True, compiled: bool = True
) -> dict[str, Any]:
    """OPE metrics of one tracker: per-video curves, dataset scores and per-attribute scores.

    ``fast`` (default): every video in one array pass (:mod:`.opebatch`); with ``compiled``, files
    read by :mod:`.fastread` and frames scored by :mod:`.fastpath` (numba), else the strict reader
    and numpy (no numba import: small evaluations, :data:`COMPILED_MIN_FRAMES`). ``fast=False``:
    the per-video reference code. All give the same numbers."""
    success, precision, norm_precision = {}, {}, {}
    if fast:
        from . import opebatch

        prep = _prepared(dataset, "ope", lambda: opebatch.OpePrep(list(dataset)))
        names = dataset.names
        if not compiled:
            files = [_ope_path_checked(dataset, root, tracker, name) for name in names]
            pred = [rio.read_boxes(path, n) for path, n in zip(files, prep.n_frames)]
        else:
            from . import fastread

            if dataset.protocol == "ope":  # <tracker>/<video>.txt as plain strings: 3000 files for OTB x 50
                folder = os.path.join(root, tracker, "")
                paths = [folder + name + ".txt" for name in names]
            else:
                paths = [rio.result_path(root, tracker, name, dataset.protocol) for name in names]
            pred = fastread.read_boxes_concat(
                paths, prep.n_frames, locate=lambda i: _ope_path(dataset, root, tracker, names[i])
            )
        s_all, p_all, q_all = opebatch.ope_curves(prep, pred, compiled=compiled)
        # the curves as lists, one tolist per (V, T) array (row i of a.tolist() is a[i].tolist())
        success = dict(zip(names, s_all.tolist()))
        precision = dict(zip(names, p_all.tolist()))
        norm_precision = dict(zip(names, q_all.tolist()))
        # row means of the contiguous (V, T) curves: np.mean of each curve, the same pairwise sums
        video_auc = dict(zip(dataset.names, s_all.mean(axis=1).tolist()))
        video_precision = dict(zip(dataset.names, p_all.mean(axis=1).tolist()))
    else:
        for video in dataset:
            pred = rio.read_boxes(_ope_path_checked(dataset, root, tracker, video.name), len(video))
            gt = video.gt_traj
            success[video.name] = ope.success_curve(gt, pred, video.absent)
            precision[video.name] = ope.precision_curve(gt, pred, video.absent)
            norm_precision[video.name] = ope.norm_precision_curve(gt, pred, video.absent)
        video_auc = {k: float(np.mean(v)) for k, v in success.items()}
        video_precision = {k: float(np.mean(v)) for k, v in precision.items()}

    if fast:
        # the stacked (V, T) curves indexed by name: np.mean of a list of curves stacks them into
        # exactly these rows, so the means are the same bits without re-stacking per attribute
        row_of = {name: i for i, name in enumerate(dataset.names)}

        def stacked(names: list[str]) -> tuple[Any, Any, Any]:
            if not names:
                return [], [], []
            if list(names) == list(dataset.names):
                return s_all, p_all, q_all
            idx = [row_of[n] for n in names]
            return s_all[idx], p_all[idx], q_all[idx]

    else:

        def stacked(names: list[str]) -> tuple[Any, Any, Any]:
            return tuple([c[n] for n in names] for c in (success, precision, norm_precision))

    def scores(names: list[str]) -> dict[str, Any]:
        s, p, q = stacked(names)
        return {
            "success_auc": ope.success_auc(s),
            "precision_at_20px": ope.precision_score(p),
            "norm_precision_at_0.20": ope.precision_score(q),
            "success_curve": np.mean(s, axis=0).tolist(),
            "precision_curve": np.mean(p, axis=0).tolist(),
            "norm_precision_curve": np.mean(q, axis=0).tolist(),
        }

    out = scores(dataset.names)
    out["per_video_success_curve"] = _curve_dict(success)
    out["per_video_precision_curve"] = _curve_dict(precision)
    out["per_video_norm_precision_curve"] = _curve_dict(norm_precision)
    out["per_video_success_auc"] = video_auc
    out["per_video_mean_precision"] = video_precision
    out["per_attribute"] = {
        attr: {**scores(names), "videos": list(names)}
        for attr, names in sorted(dataset.attr.items())
        if attr != "ALL"
    }
    return out


def _read_vot_runs(dataset: Dataset, root: Path, tracker: str) -> dict[str, list[list[list[float]]]]:
    runs = {}
    repetitions = rules.rules_for(dataset.name).repetitions
    for video in dataset:
        runs[video.name] = [
            rio.read_vot_trajectory(p, len(video)) for p in _vot_runs(root, tracker, video.name, repetitions)
        ]
    counts = {v: len(r) for v, r in runs.items()}
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{v}: {n}" for v, n in counts.items())
        raise ValueError(f"tracker {tracker!r}: videos have different numbers of repetitions ({detail})")
    return runs


def _read_vot_runs_packed(dataset: Dataset, root: Path, tracker: str) -> dict[str, list[Any]]:
    from . import fastread

    repetitions = rules.rules_for(dataset.name).repetitions
    paths = {v.name: _vot_run_files(root, tracker, v.name, repetitions) for v in dataset}
    flat = [(p, len(v)) for v in dataset for p in paths[v.name]]
    packed = iter(fastread.read_vot_packed_many([p for p, _ in flat], [n for _, n in flat]))
    runs = {v.name: [next(packed) for _ in paths[v.name]] for v in dataset}
    counts = {v: len(r) for v, r in runs.items()}
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{v}: {n}" for v, n in counts.items())
        raise ValueError(f"tracker {tracker!r}: videos have different numbers of repetitions ({detail})")
    return runs


def _vot_run_files(root: str | Path, tracker: str, video: str, repetitions: int) -> list[str]:
    """:func:`_vot_runs` with plain strings (``rio.vot_repetition_paths``: the ``<video>_NNN.txt``
    files, sorted; all of them when there are ``repetitions``, else the first)."""
    folder = os.path.join(root, tracker, "baseline", video)
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    pattern = re.compile(re.escape(video) + r"_(\d{3})\.txt")
    runs = sorted(os.path.join(folder, n) for n in names if pattern.fullmatch(n))
    return runs if len(runs) == repetitions else runs[:1]


def _evaluate_vot_tracker_fast(
    dataset: Dataset, root: str | Path, tracker: str, interval: tuple[int, int]
) -> dict[str, Any]:
    from . import ar, fastpath

    edition = rules.rules_for(dataset.name)
    gts = _prepared(dataset, "vot_gt", lambda: fastpath.prepare_vot_gt(dataset))
    runs = _read_vot_runs_packed(dataset, Path(root), tracker)
    empty = 0
    overlaps, failures, frame_overlaps = {}, {}, {}
    eao_overlaps, eao_failures, videos_of_run = [], [], []
    for video in dataset:
        per_rep, fails = [], []
        for pred in runs[video.name]:
            acc, eo, n_empty, fail_idx = fastpath.vot_run_overlaps(pred, gts[video.name], edition.burnin)
            empty += n_empty
            per_rep.append(acc)
            fails.append(len(fail_idx))
            eao_overlaps.append(eo)
            eao_failures.append(fail_idx)
            videos_of_run.append(video.name)
        frame_overlaps[video.name] = ar.mean_over_repetitions(per_rep)
        overlaps[video.name] = frame_overlaps[video.name]
        failures[video.name] = fails
    repetitions = len(next(iter(runs.values())))
    tag_csums = _prepared(dataset, "vot_tags", lambda: fastpath.tag_cumsums(dataset))
    per_tag_eao = fastpath.eao_per_tag(
        eao_overlaps, eao_failures, videos_of_run, tag_csums, repetitions, interval, edition.skip
    )
    return _vot_report(overlaps, failures, frame_overlaps, per_tag_eao, repetitions, interval, empty)


def _vot_report(
    overlaps, failures, frame_overlaps, per_tag_eao, repetitions, interval, empty_frames=0
) -> dict[str, Any]:
    from . import ar

    out: dict[str, Any] = dict(ar.accuracy_robustness(overlaps, failures))
    # frames where region and ground truth both cover no pixel: NaN, not averaged (PySOT convention)
    out["empty_overlap_frames"] = int(empty_frames)
    per_tag = {}
    for tag, (score, curve, shape) in per_tag_eao.items():
        per_tag[tag] = score
        if tag == "all":
            out["eao"] = score
            out["expected_overlap_curve"] = curve.astype(np.float64).tolist()
            out["eao_fragments_matrix_shape"] = [int(shape[0]), int(shape[1])]
    out["eao_per_tag"] = per_tag
    out["eao_interval_low_high"] = [int(interval[0]), int(interval[1])]
    out["repetitions"] = repetitions
    out["per_video_accuracy"] = {v: ar.nanmean(o) for v, o in overlaps.items()}
    out["per_video_failures"] = {v: [int(x) for x in f] for v, f in failures.items()}
    out["per_video_lost_number"] = {v: float(np.mean(f)) for v, f in failures.items()}
    out["per_video_frame_overlaps_burnin10"] = _curve_dict(frame_overlaps)
    return out


def evaluate_vot_tracker(
    dataset: Dataset, root: str | Path, tracker: str, interval: tuple[int, int], fast: bool = True
) -> dict[str, Any]:
    """PySOT's VOT metrics of one tracker: AR (burn-in 10, bounds (w, h)), EAO and its curve
    (bounds (w-1, h-1)), and EAO per tag; burn-in and skip are the edition's
    (:func:`toolkit.rules.rules_for`).

    ``fast`` (default): both overlap series of a run in one compiled pass, EAO fragments cut once
    per tracker (:mod:`.fastpath`, files read by :mod:`.fastread`); ``False``: the reference code.
    Both give the same numbers."""
    from . import ar
    from .region import pack_regions

    if fast:
        return _evaluate_vot_tracker_fast(dataset, root, tracker, interval)
    runs = _read_vot_runs(dataset, Path(root), tracker)
    edition = rules.rules_for(dataset.name)
    empty = 0
    overlaps, failures, frame_overlaps = {}, {}, {}
    eao_overlaps, eao_failures, videos_of_run = [], [], []
    for video in dataset:
        bound = (video.width, video.height)
        eao_bound = (video.width - 1, video.height - 1)
        gt = pack_regions(video.gt_traj)
        per_rep, fails = [], []
        for traj in runs[video.name]:
            pred = pack_regions(traj)
            per_rep.append(ar.calculate_accuracy(pred, gt, burnin=edition.burnin, bound=bound)[1])
            empty += ar.empty_frame_count(per_rep[-1], pred, gt, bound)
            n_fail, fail_idx = ar.calculate_failures(traj)
            fails.append(n_fail)
            eao_overlaps.append(ar.calculate_accuracy(pred, gt, bound=eao_bound)[1])
            eao_failures.append(fail_idx)
            videos_of_run.append(video.name)
        frame_overlaps[video.name] = ar.mean_over_repetitions(per_rep)
        overlaps[video.name] = frame_overlaps[video.name]
        failures[video.name] = fails
    repetitions = len(next(iter(runs.values())))
    per_tag_eao = {}
    for tag in dataset.tags or ["all"]:
        tag_values = [_tag_values(dataset[v], tag) for v in videos_of_run]
        per_tag_eao[tag] = eao.expected_average_overlap(
            eao_overlaps, eao_failures, tag_values, repetitions, interval, skipping=edition.skip
        )
    return _vot_report(overlaps, failures, frame_overlaps, per_tag_eao, repetitions, interval, empty)


def _tag_values(video, tag: str) -> np.ndarray:
    """Per-frame 0/1 values of a VOT tag; a video without tags has ``all`` everywhere, nothing else."""
    if tag in video.tags:
        return video.tags[tag]
    return np.full(len(video), 1 if tag == "all" else 0, np.int32)


def evaluate_vot_official_tracker(
    dataset: Dataset, root: str | Path, tracker: str, interval: tuple[int, int]
) -> dict[str, Any]:
    """The official VOT toolkit's AR and EAO of one tracker (:mod:`.vot_official`)."""
    from . import vot_official

    runs = _read_vot_runs(dataset, Path(root), tracker)
    groundtruth = {v.name: [list(row) for row in v.gt_traj] for v in dataset}
    sizes = {v.name: (v.width, v.height) for v in dataset}
    edition = rules.rules_for(dataset.name)
    res = vot_official.evaluate_supervised(
        runs, groundtruth, sizes, interval=interval, burnin=edition.burnin, sensitivity=edition.sensitivity
    )
    res["lost_number"] = float(sum(float(np.mean(r)) for r in _failure_counts(runs).values()))
    return res


def _failure_counts(runs: Mapping[str, list[list[list[float]]]]) -> dict[str, list[int]]:
    from . import ar

    return {v: [ar.calculate_failures(t)[0] for t in reps] for v, reps in runs.items()}


def evaluate_longterm_tracker(dataset: Dataset, root: str | Path, tracker: str) -> dict[str, Any]:
    """PySOT's long-term precision / recall / F1 of one tracker."""
    from . import ar

    data = []
    for video in dataset:
        traj = rio.read_vot_trajectory(rio.result_path(root, tracker, video.name, "longterm"), len(video))
        score = rio.read_confidence(
            rio.result_path(root, tracker, video.name, "longterm", "confidence"), len(video)
        )
        score[0] = np.nan  # PySOT ignores the first line (the initial frame)
        data.append((video, traj, score))
    thresholds = f1.determine_thresholds(np.concatenate([d[2] for d in data]))[::-1]
    p_curves, r_curves, f_curves = {}, {}, {}
    for video, traj, score in data:
        overlaps = ar.calculate_accuracy(traj, video.gt_traj, bound=(video.width, video.height))[1]
        n_annotated = int(np.sum(_annotated(video.gt_traj)))
        f_curves[video.name], p_curves[video.name], r_curves[video.name] = f1.calculate_f1(
            overlaps, score, thresholds, n_annotated
        )
    res = f1.longterm_scores(list(p_curves.values()), list(r_curves.values()))
    best = {v: int(np.argmax(c)) for v, c in f_curves.items()}
    return {
        "precision": res["precision"],
        "recall": res["recall"],
        "f1": res["f1"],
        "best_threshold_index": res["best_threshold_index"],
        "num_thresholds": len(thresholds),
        "confidence_thresholds": thresholds[1:-1].tolist(),
        "mean_precision_curve": res["precision_curve"].tolist(),
        "mean_recall_curve": res["recall_curve"].tolist(),
        "mean_f1_curve": res["f1_curve"].tolist(),
        "per_video_max_f1": {v: float(f_curves[v][i]) for v, i in best.items()},
        "per_video_precision": {v: float(p_curves[v][i]) for v, i in best.items()},
        "per_video_recall": {v: float(r_curves[v][i]) for v, i in best.items()},
        "per_video_precision_curve": _curve_dict(p_curves),
        "per_video_recall_curve": _curve_dict(r_curves),
        "per_video_f1_curve": _curve_dict(f_curves),
    }


def vot_interval(dataset_name: str, convention: str = "pysot") -> tuple[int, int]:
    """The EAO interval of a VOT dataset in a convention: the official toolkit's stack interval for
    ``'vot'`` when it has one, else PySOT's (:func:`toolkit.rules.eao_interval`); unknown names raise."""
    return rules.eao_interval(dataset_name, convention)


def evaluate_tracker(
    dataset: Dataset,
    root: str | Path,
    tracker: str,
    convention: str = "pysot",
    eao_interval: tuple[int, int] | None = None,
    compiled: bool = True,
) -> dict[str, Any]:
    """Metrics of one tracker on one dataset (see the module docstring for the kinds);
    ``eao_interval`` overrides the dataset's (VOT only); ``compiled`` False: OPE frames scored
    without numba (:func:`evaluate_ope_tracker`)."""
    kind = dataset.protocol
    if kind in ("ope", "got10k"):
        return evaluate_ope_tracker(dataset, root, tracker, compiled=compiled)
    if kind == "longterm":
        return evaluate_longterm_tracker(dataset, root, tracker)
    interval = tuple(eao_interval) if eao_interval is not None else vot_interval(dataset.name, convention)
    if convention == "vot":
        return evaluate_vot_official_tracker(dataset, root, tracker, interval)
    return evaluate_vot_tracker(dataset, root, tracker, interval)


def _evaluate_job(job: tuple[Any, str, str, str, Any, bool]) -> tuple[str, dict[str, Any]]:
    dataset, root, tracker, convention, interval, compiled = job
    return tracker, evaluate_tracker(dataset, root, tracker, convention, interval, compiled)


def evaluate(
    dataset: Dataset,
    root: str | Path,
    trackers: Iterable[str],
    convention: str = "pysot",
    num: int = 1,
    progress: bool = False,
    eao_interval: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Evaluate the trackers' result folders under ``root`` (``results/<DATASET>``) on ``dataset``.

    Args:
        dataset: a ``toolkit.datasets.Dataset``.
        trackers: tracker folder names (evaluated and reported in sorted order).
        convention: the scoring convention, ``'pysot'`` (PySOT's toolkit, default) or ``'vot'``
            (the official VOT toolkit; VOT reset-based datasets only). Not to be confused with
            ``dataset.protocol`` (``ope`` / ``vot`` / ``longterm`` / ``got10k``: how the results were run).
        num: worker processes (trackers are evaluated in parallel).
        progress: show a tqdm progress bar (on stderr).
        eao_interval: ``(low, high)`` EAO interval for VOT datasets, overriding the known one (needed
            for VOT-style datasets without one in :data:`toolkit.rules.RULES`).

    Returns:
        The report dict (see the module docstring).
    """
    _check_arguments(dataset, convention, eao_interval)
    trackers = sorted(set(trackers))
    if not trackers:
        raise ValueError(f"no trackers to evaluate in {root}")
    root = Path(root)
    check_complete(dataset, root, trackers)
    if dataset.protocol in ("vot", "longterm"):
        _ = [(v.width, v.height) for v in dataset]  # read image sizes once, before forking workers
    frames = sum(len(v) for v in dataset)  # tracker-frames per tracker (per repetition)
    if dataset.protocol == "vot":
        frames *= max(1, len(rio.vot_repetition_paths(root, trackers[0], dataset.names[0])))
    compiled = frames * len(trackers) >= COMPILED_MIN_FRAMES.get(dataset.protocol, 0)
    jobs = [(dataset, str(root), t, convention, eao_interval, compiled) for t in trackers]
    min_frames = min_frames_per_worker(dataset.protocol, convention)
    results = _run_jobs(jobs, num, f"eval {dataset.name}" if progress else None, frames, min_frames)
    return _report(dataset, convention, results)


def _check_arguments(dataset: Dataset, convention: str, eao_interval: tuple[int, int] | None) -> None:
    """Fail before reading any result: unknown convention, official convention on a non-VOT
    dataset, VOT dataset without a known or given EAO interval."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown scoring convention {convention!r}; known: pysot, vot")
    if convention == "vot" and dataset.protocol != "vot":
        raise ValueError(
            "the official VOT convention (--convention vot) applies to VOT reset-based datasets, "
            f"not {dataset.name} ({dataset.protocol})"
        )
    if dataset.protocol == "vot" and eao_interval is None:
        vot_interval(dataset.name, convention)


#: Tracker-frames from which an evaluation of a kind of results scores them with numba's kernels
#: (below, with numpy and the strict reader, without importing numba): importing numba and loading
#: its first kernel costs ~0.43 s per process, the numpy path ~43 ms more per 30 000 tracker-frames
#: (docs/evaluation.md, "Small evaluations"). VOT overlaps always need the compiled rasteriser.
COMPILED_MIN_FRAMES = {"ope": 250_000, "got10k": 250_000}

#: Tracker-frames each worker process must get before ``--num`` starts it, per kind of work
#: (``"<protocol>/<convention>"``, or the protocol alone): where a worker's start and the transfer of
#: its results cost less than the work it takes over. Measured on a quiet 2-core AMD EPYC
#: (docs/evaluation.md, "Break-even of --num"): PySOT's VOT convention gains from ~120 000
#: tracker-frames (1.10x wall at 2 workers, 0.76x at 60 000); OPE results are large next to their
#: cost, so 2 workers only pay from ~1.5 M (0.86x at 480 000, 1.05x at 1.5 M); the official VOT
#: convention costs ~2.3x PySOT's per frame (1.86x at 1.5 M), so half PySOT's figure.
MIN_FRAMES_PER_WORKER = {"vot/pysot": 120_000, "vot/vot": 60_000, "ope": 1_500_000}
#: Kinds of work not measured (long-term, GOT-10k).
DEFAULT_MIN_FRAMES_PER_WORKER = 300_000


def min_frames_per_worker(protocol: str, convention: str) -> int:
    """:data:`MIN_FRAMES_PER_WORKER` of one kind of work."""
    table = MIN_FRAMES_PER_WORKER
    return table.get(f"{protocol}/{convention}", table.get(protocol, DEFAULT_MIN_FRAMES_PER_WORKER))


_JOBS: list[tuple[Any, ...]] = []


def _set_jobs(jobs: list[tuple[Any, ...]]) -> None:
    global _JOBS
    _JOBS = jobs


def _evaluate_job_index(i: int) -> tuple[str, dict[str, Any]]:
    return _evaluate_job(_JOBS[i])


def worker_count(
    num: int, jobs: int, frames_per_job: int | None = None, min_frames: int = DEFAULT_MIN_FRAMES_PER_WORKER
) -> int:
    """Processes :func:`evaluate` uses for ``num`` requested: at most one per job and per available
    CPU, and only as many as get ``min_frames`` tracker-frames each (:func:`min_frames_per_worker`;
    the first job runs in this process in any case, warming the kernels and the shared preparation)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    workers = max(1, min(num, jobs, cpus))
    if frames_per_job is not None and workers > 1:
        workers = max(1, min(workers, (frames_per_job * (jobs - 1)) // min_frames))
    return workers


def _run_jobs(
    jobs: list[tuple[Any, ...]],
    num: int,
    progress: str | None,
    frames_per_job: int | None = None,
    min_frames: int = DEFAULT_MIN_FRAMES_PER_WORKER,
) -> dict[str, dict[str, Any]]:
    """``{tracker: metrics}`` of :func:`_evaluate_job` over ``jobs``, in up to ``num`` worker
    processes (:func:`worker_count`; the first job in this process, before the others start, so
    that they inherit its compiled kernels and prepared ground truth), with a tqdm bar titled
    ``progress`` (on stderr) unless ``None``. Workers get job indices, not the dataset."""
    workers = worker_count(num, len(jobs), frames_per_job, min_frames)
    results: dict[str, dict[str, Any]] = {}
    bar = None
    if progress is not None:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=progress, ncols=100)
    pool = None
    try:
        if workers == 1:
            it: Iterable[tuple[str, dict[str, Any]]] = map(_evaluate_job, jobs)
        else:
            name, res = _evaluate_job(jobs[0])
            results[name] = res
            if bar is not None:
                bar.update()
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
            pool = ctx.Pool(processes=workers, initializer=_set_jobs, initargs=(jobs,))
            chunk = max(1, (len(jobs) - 1) // (workers * 4))
            it = pool.imap(_evaluate_job_index, range(1, len(jobs)), chunksize=chunk)
        for name, res in it:
            results[name] = res
            if bar is not None:
                bar.update()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if bar is not None:
            bar.close()
    return results


def _report(dataset: Dataset, convention: str, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The report dict around the per-tracker metrics (see the module docstring)."""
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "dataset": dataset.name,
        "kind": dataset.protocol,
        "protocol": convention,  # the scoring convention, under the key of the JSON layout version 1
        "videos": list(dataset.names),
        "trackers": results,
    }
    if dataset.protocol in ("ope", "got10k"):
        report["attributes"] = {a: list(v) for a, v in sorted(dataset.attr.items()) if a != "ALL"}
        report["success_thresholds"] = ope.SUCCESS_THRESHOLDS.tolist()
        report["precision_thresholds"] = ope.PRECISION_THRESHOLDS.tolist()
        report["norm_precision_thresholds"] = ope.NORM_PRECISION_THRESHOLDS.tolist()
    if dataset.protocol == "vot":
        report["tags"] = list(dataset.tags)
    return report
