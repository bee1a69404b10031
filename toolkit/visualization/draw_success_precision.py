"""Success, precision and normalised-precision plots of OPE, per dataset and per attribute (PySOT look).

One line per tracker, the mean over the selected videos of the per-video curves; the legend gives
``[score] tracker``, best first: success AUC (mean of the success curve, as PySOT computes it),
precision at 20 px and normalised precision at 0.20 (index 20 of their curves).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Sequence

import numpy as np

from .draw_utils import PathLike, new_figure, safe_name, save_png, style

#: PySOT's thresholds: overlap 0..1 step 0.05 (21), location error 0..50 px (51), normalised 0..0.5 (51).
SUCCESS_THRESHOLDS = np.arange(0, 1.05, 0.05)
PRECISION_THRESHOLDS = np.arange(0, 51, 1)
NORM_PRECISION_THRESHOLDS = np.arange(0, 51, 1) / 100
#: Index of the reported precision value (20 px, 0.20).
REPORT_INDEX = 20

_PLOTS = {
    # kind: (title word, x label, y label, legend place, x tick step, thresholds)
    "success": ("Success", "Overlap threshold", "Success rate", "lower left", 0.1, SUCCESS_THRESHOLDS),
    "precision": ("Precision", "Location error threshold", "Precision", "lower right", 5,
                  PRECISION_THRESHOLDS),
    "norm_precision": ("Normalized Precision", "Location error threshold", "Precision", "lower right", 0.05,
                       NORM_PRECISION_THRESHOLDS),
}


def _mean_curves(per_video: Mapping[str, Mapping[str, Sequence[float]]],
                 videos: Sequence[str]) -> Dict[str, np.ndarray]:
    """``{tracker: mean curve over videos}``; a tracker without one of the videos raises naming both."""
    out = {}
    for tracker, curves in per_video.items():
        missing = [v for v in videos if v not in curves]
        if missing:
            raise KeyError(f"tracker {tracker!r} has no curve for videos {missing[:5]}")
        out[tracker] = np.mean([np.asarray(curves[v], dtype=np.float64) for v in videos], axis=0)
    return out


def _draw_one(kind: str, curves: Mapping[str, np.ndarray], dataset: str, attr: str, path: Path,
              bold_name: str | None) -> Path:
    word, xlabel, ylabel, legend_loc, xstep, thresholds = _PLOTS[kind]
    if kind == "success":
        scores = {t: float(np.mean(c)) for t, c in curves.items()}
    else:
        scores = {t: float(c[REPORT_INDEX]) for t, c in curves.items()}
    fig = new_figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.grid(True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if attr == "ALL":
        ax.set_title(f"{word} plots of OPE on {dataset}", fontweight="bold")
    else:
        ax.set_title(f"{word} plots of OPE - {attr}", fontweight="bold")
    # best first; ties keep the tracker-name order
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    for idx, (tracker, score) in enumerate(ranked):
        colour, line, _ = style(idx)
        ax.plot(thresholds[:len(curves[tracker])], curves[tracker], color=colour, linestyle=line,
                label=f"[{score:.3f}] {tracker}", linewidth=2)
    legend = ax.legend(loc=legend_loc, labelspacing=0.2)
    if bold_name is not None:
        for text in legend.get_texts():
            if text.get_text().endswith(f"] {bold_name}"):
                text.set_fontweight("bold")
    xmin, xmax = float(thresholds[0]), float(thresholds[-1])
    ymax = min(1.0, max(float(np.max(c)) for c in curves.values())) + 0.03
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(0, ymax)
    ax.set_xticks(np.arange(xmin, xmax + 1e-9, xstep))
    ax.set_yticks(np.arange(0, ymax, 0.1))
    ax.set_aspect((xmax - xmin) / ymax)
    return save_png(fig, path)


def draw_success_precision(success: Mapping[str, Mapping[str, Sequence[float]]], name: str,
                           videos: Sequence[str], attr: str, out_dir: PathLike,
                           precision: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
                           norm_precision: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
                           bold_name: str | None = None) -> List[Path]:
    """Draw the OPE plots of one video subset, PySOT's ``draw_success_precision`` as PNG files.

    Args:
        success: ``{tracker: {video: success curve (21,)}}`` (thresholds 0, 0.05, ..., 1).
        name: dataset name (in titles and file names).
        videos: the videos to average over (all videos, or those of one attribute).
        attr: ``"ALL"`` for the whole dataset, else the attribute name.
        out_dir: folder for the PNGs (created).
        precision: ``{tracker: {video: precision curve (51,)}}`` (0..50 px), or None to skip the plot.
        norm_precision: ``{tracker: {video: normalised precision curve (51,)}}`` (0..0.5), or None.
        bold_name: a tracker whose legend entry is bold (e.g. the proposed method).

    Returns:
        Paths written: ``<name>_<attr>_success.png`` then ``_precision.png`` and ``_norm_precision.png``
        when those curves are given.
    """
    if not success:
        raise ValueError(f"{name} {attr}: no tracker to plot")
    if not videos:
        raise ValueError(f"{name} {attr}: no video selected")
    out_dir = Path(out_dir)
    stem = f"{safe_name(name)}_{safe_name(attr)}"
    written = [_draw_one("success", _mean_curves(success, videos), name, attr,
                         out_dir / f"{stem}_success.png", bold_name)]
    if precision:
        written.append(_draw_one("precision", _mean_curves(precision, videos), name, attr,
                                 out_dir / f"{stem}_precision.png", bold_name))
    if norm_precision:
        written.append(_draw_one("norm_precision", _mean_curves(norm_precision, videos), name, attr,
                                 out_dir / f"{stem}_norm_precision.png", bold_name))
    return written


def draw_ope_report(report: Mapping, out_dir: PathLike, bold_name: str | None = None) -> List[Path]:
    """All OPE plots of a ``toolkit.evaluation.report.evaluate`` report: the whole dataset (``ALL``)
    and every attribute in ``report["attributes"]`` (``{attribute: [videos]}``).

    Uses each tracker's ``per_video_success_curve``, ``per_video_precision_curve`` and
    ``per_video_norm_precision_curve``. Returns the paths written.
    """
    trackers = report["trackers"]
    curves = {key: {t: res[f"per_video_{key}_curve"] for t, res in trackers.items()}
              for key in ("success", "precision", "norm_precision")}
    subsets = [("ALL", list(report["videos"]))]
    attributes = sorted(report.get("attributes", {}).items())
    # PySOT's OTB attribute lists include "ALL" itself
    subsets += [(attr, list(videos)) for attr, videos in attributes if videos and attr != "ALL"]
    written: List[Path] = []
    for attr, videos in subsets:
        written += draw_success_precision(curves["success"], report["dataset"], videos, attr, out_dir,
                                          precision=curves["precision"],
                                          norm_precision=curves["norm_precision"], bold_name=bold_name)
    return written
