"""VOT expected average overlap plots: the EAO ranking, the expected-overlap curves and, when the
dataset has tags, PySOT's per-tag radar of EAO.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Mapping, Sequence, Tuple

import numpy as np
from matplotlib.ticker import MaxNLocator

from .draw_utils import PathLike, new_figure, safe_name, save_png, style


def _ranked(scores: Mapping[str, float]) -> List[Tuple[str, float]]:
    """Best first; NaN scores last; ties keep the tracker-name order."""
    def key(kv):
        value = kv[1]
        return (np.isnan(value), -value if not np.isnan(value) else 0.0, kv[0])
    return sorted(((t, float(v)) for t, v in scores.items()), key=key)


def draw_eao_ranking(eao: Mapping[str, float], name: str, out_dir: PathLike,
                     bold_name: str | None = None) -> Path:
    """VOT-style EAO ranking: EAO (y) against rank (x, rank 1 = best at the right).

    Args:
        eao: ``{tracker: EAO}``.
        name: dataset name (title and file ``<name>_eao_ranking.png``).
        out_dir: folder for the PNG.
        bold_name: a tracker whose legend entry is bold.
    """
    if not eao:
        raise ValueError(f"{name}: no tracker to plot")
    ranked = _ranked(eao)
    fig = new_figure((8.0, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    ax.grid(True, axis="y")
    for idx, (tracker, score) in enumerate(ranked):
        colour, _, marker = style(idx)
        ax.plot([idx + 1], [score], marker=marker, color=colour, markersize=9, linestyle="none",
                label=f"[{score:.3f}] {tracker}")
    ax.set_xlim(len(ranked) + 0.5, 0.5)  # VOT's layout: rank 1 (best) at the right
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Rank")
    ax.set_ylabel("EAO")
    finite = [s for _, s in ranked if np.isfinite(s)]
    ax.set_ylim(0, max(finite + [0.0]) * 1.15 + 0.02)
    ax.set_title(f"Expected average overlap on {name}", fontweight="bold")
    legend = ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), labelspacing=0.2,
                       fontsize="small" if len(ranked) > 15 else "medium")
    _bold(legend, bold_name)
    return save_png(fig, Path(out_dir) / f"{safe_name(name)}_eao_ranking.png")


def draw_expected_overlap_curves(curves: Mapping[str, Sequence[float]], name: str, out_dir: PathLike,
                                 interval: Tuple[int, int] | None = None,
                                 eao: Mapping[str, float] | None = None,
                                 bold_name: str | None = None) -> Path:
    """Expected-overlap curves: expected average overlap against sequence length (frames).

    Args:
        curves: ``{tracker: curve (L,)}`` where ``curve[n]`` is the expected average overlap over
            ``n``-frame sequences (PySOT's ``expected_overlap_curve`` or the official ``eao_curve``).
        name: dataset name (title and file ``<name>_expected_overlap.png``).
        interval: the ``(low, high)`` EAO window, shaded when given.
        eao: ``{tracker: EAO}`` for the legend and the order (best first); else the curve's mean over
            ``interval`` (or over the whole curve).
        bold_name: a tracker whose legend entry is bold.
    """
    if not curves:
        raise ValueError(f"{name}: no tracker to plot")
    arrays = {t: np.asarray(c, dtype=np.float64) for t, c in curves.items()}
    if eao is None:
        lo, hi = interval if interval is not None else (0, max(len(c) for c in arrays.values()) - 1)
        eao = {t: float(np.nanmean(c[lo:hi + 1])) if c[lo:hi + 1].size else float("nan")
               for t, c in arrays.items()}
    fig = new_figure((8.0, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    ax.grid(True)
    if interval is not None:
        ax.axvspan(interval[0], interval[1], color=(0.85, 0.85, 0.85), zorder=0,
                   label=f"EAO interval {interval[0]}..{interval[1]}")
    for idx, (tracker, score) in enumerate(_ranked({t: eao[t] for t in arrays})):
        colour, line, _ = style(idx)
        ax.plot(np.arange(len(arrays[tracker])), arrays[tracker], color=colour, linestyle=line, linewidth=1.5,
                label=f"[{score:.3f}] {tracker}")
    ax.set_xlabel("Sequence length (frames)")
    ax.set_ylabel("Expected average overlap")
    ax.set_ylim(0, 1)
    ax.set_xlim(0, max(len(c) for c in arrays.values()) - 1)
    ax.set_title(f"Expected overlap curves on {name}", fontweight="bold")
    legend = ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), labelspacing=0.2,
                       fontsize="small" if len(arrays) > 15 else "medium")
    _bold(legend, bold_name)
    return save_png(fig, Path(out_dir) / f"{safe_name(name)}_expected_overlap.png")


def draw_eao_per_tag(eao_per_tag: Mapping[str, Mapping[str, float]], name: str, out_dir: PathLike,
                     bold_name: str | None = None) -> Path:
    """PySOT's radar of EAO per tag: one axis per tag (``all`` first), one polygon per tracker.

    Args:
        eao_per_tag: ``{tracker: {tag: EAO}}`` (every tracker with the same tags).
        name: dataset name (title and file ``<name>_eao_tags.png``).
    """
    if not eao_per_tag:
        raise ValueError(f"{name}: no tracker to plot")
    tags = sorted(next(iter(eao_per_tag.values())), key=lambda t: (t != "all", t))
    for tracker, values in eao_per_tag.items():
        if sorted(values) != sorted(tags):
            raise KeyError(f"tracker {tracker!r} has tags {sorted(values)}, expected {sorted(tags)}")
    angles = np.linspace(0, 2 * np.pi, len(tags), endpoint=False)
    fig = new_figure((7.0, 7.0))
    ax = fig.add_subplot(1, 1, 1, projection="polar")
    ranked = _ranked({t: v.get("all", np.nanmean(list(v.values()))) for t, v in eao_per_tag.items()})
    for idx, (tracker, score) in enumerate(ranked):
        colour, line, marker = style(idx)
        values = np.array([eao_per_tag[tracker][tag] for tag in tags] + [eao_per_tag[tracker][tags[0]]])
        ax.plot(np.append(angles, angles[0]), values, color=colour, linestyle=line, marker=marker,
                linewidth=1.5, label=f"[{score:.3f}] {tracker}")
    ax.set_xticks(angles)
    ax.set_xticklabels(tags)
    top = max(float(np.nanmax(list(v.values()))) for v in eao_per_tag.values())
    ax.set_ylim(0, (top if np.isfinite(top) else 1.0) * 1.1 + 1e-3)
    ax.set_title(f"EAO per tag on {name}", fontweight="bold", pad=20)
    legend = ax.legend(loc="upper left", bbox_to_anchor=(1.05, 1.0), labelspacing=0.2)
    _bold(legend, bold_name)
    return save_png(fig, Path(out_dir) / f"{safe_name(name)}_eao_tags.png")


def _bold(legend, bold_name: str | None) -> None:
    if bold_name is None:
        return
    for text in legend.get_texts():
        if text.get_text().endswith(f"] {bold_name}"):
            text.set_fontweight("bold")
