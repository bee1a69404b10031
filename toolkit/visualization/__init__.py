"""Plots of evaluation results as PNG files (matplotlib on the headless Agg canvas).

Each ``draw_*`` function takes plain numbers / dicts and an output folder and returns the path(s)
written; :func:`draw_report` draws everything ``tools/eval.py --plot-dir`` shows for one report of
``toolkit.evaluation.report.evaluate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Mapping

from .draw_ar import AR_AXES, draw_ar
from .draw_eao import draw_eao_per_tag, draw_eao_ranking, draw_expected_overlap_curves
from .draw_f1 import draw_f1
from .draw_success_precision import draw_ope_report, draw_success_precision
from .draw_utils import PathLike

__all__ = [
    "draw_ar",
    "draw_eao_per_tag",
    "draw_eao_ranking",
    "draw_expected_overlap_curves",
    "draw_f1",
    "draw_ope_report",
    "draw_report",
    "draw_success_precision",
    "draw_vot_report",
]


def draw_vot_report(report: Mapping, out_dir: PathLike, bold_name: str | None = None) -> List[Path]:
    """AR plot, EAO ranking, expected-overlap curves and (PySOT convention with tags) the per-tag EAO
    radar of a VOT report, in either scoring convention (the report's ``"protocol"`` key: ``"pysot"``
    or ``"vot"``)."""
    trackers = report["trackers"]
    name = report["dataset"]
    convention = report.get("protocol", "pysot")
    key, label, lower_better = AR_AXES[convention]
    eao = {t: r["eao"] for t, r in trackers.items()}
    written = [
        draw_ar({t: r["accuracy"] for t, r in trackers.items()}, {t: r[key] for t, r in trackers.items()},
                name, out_dir, robustness_label=label, lower_is_better=lower_better, bold_name=bold_name),
        draw_eao_ranking(eao, name, out_dir, bold_name=bold_name),
    ]
    curve_key, interval_key = ("eao_curve", "eao_interval") if convention == "vot" else (
        "expected_overlap_curve", "eao_interval_low_high")
    first = next(iter(trackers.values()))
    written.append(draw_expected_overlap_curves({t: r[curve_key] for t, r in trackers.items()}, name, out_dir,
                                                interval=tuple(first[interval_key]), eao=eao,
                                                bold_name=bold_name))
    per_tag = {t: r["eao_per_tag"] for t, r in trackers.items() if "eao_per_tag" in r}
    if len(per_tag) == len(trackers) and len(first.get("eao_per_tag", {})) > 1:
        written.append(draw_eao_per_tag(per_tag, name, out_dir, bold_name=bold_name))
    return written


def draw_report(report: Mapping, out_dir: PathLike, bold_name: str | None = None) -> List[Path]:
    """Every plot of one evaluation report, by its ``kind``: OPE / GOT-10k -> success, precision and
    normalised precision for the dataset and each attribute; VOT -> :func:`draw_vot_report`;
    long-term -> precision-recall. Returns the paths written (under ``out_dir``)."""
    kind = report["kind"]
    if kind in ("ope", "got10k"):
        return draw_ope_report(report, out_dir, bold_name=bold_name)
    if kind == "vot":
        return draw_vot_report(report, out_dir, bold_name=bold_name)
    if kind == "longterm":
        trackers = report["trackers"]
        return [draw_f1({t: r["mean_precision_curve"] for t, r in trackers.items()},
                        {t: r["mean_recall_curve"] for t, r in trackers.items()},
                        {t: r["f1"] for t, r in trackers.items()}, report["dataset"], out_dir,
                        bold_name=bold_name)]
    raise ValueError(f"no plots for report kind {kind!r}; known: ope, got10k, vot, longterm")
