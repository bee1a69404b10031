"""Long-term precision-recall plot (PySOT's ``draw_f1``): one curve per tracker over the confidence
thresholds, its maximum-F1 point marked, iso-F1 lines in the background.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from .draw_eao import _bold, _ranked
from .draw_utils import PathLike, new_figure, safe_name, save_png, style


def draw_f1(precision: Mapping[str, Sequence[float]], recall: Mapping[str, Sequence[float]],
            f1: Mapping[str, float], name: str, out_dir: PathLike, bold_name: str | None = None) -> Path:
    """Precision-recall curves of the trackers.

    Args:
        precision, recall: ``{tracker: curve (T,)}`` over the same confidence thresholds.
        f1: ``{tracker: maximum F1}`` (legend, order best first, and the marked point).
        name: dataset name (title and file ``<name>_precision_recall.png``).
    """
    if not precision:
        raise ValueError(f"{name}: no tracker to plot")
    fig = new_figure((6.4, 6.4))
    ax = fig.add_subplot(1, 1, 1)
    ax.grid(True)
    grid = np.linspace(0.01, 1, 200)
    for level in np.arange(0.1, 1.0, 0.1):
        with np.errstate(divide="ignore", invalid="ignore"):
            p = level * grid / (2 * grid - level)
        keep = (p > 0) & (p <= 1)
        ax.plot(grid[keep], p[keep], color=(0.8, 0.8, 0.8), linewidth=0.8, zorder=0)
    for idx, (tracker, score) in enumerate(_ranked(f1)):
        colour, line, _ = style(idx)
        p = np.asarray(precision[tracker], dtype=np.float64)
        r = np.asarray(recall[tracker], dtype=np.float64)
        ax.plot(r, p, color=colour, linestyle=line, linewidth=2, label=f"[{score:.3f}] {tracker}")
        with np.errstate(divide="ignore", invalid="ignore"):
            f = 2 * p * r / (p + r)
        if np.isfinite(f).any():
            best = int(np.nanargmax(f))
            ax.plot([r[best]], [p[best]], marker="o", color=colour, markersize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect(1)
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.set_title(f"Precision-recall on {name}", fontweight="bold")
    legend = ax.legend(loc="lower left", labelspacing=0.2)
    _bold(legend, bold_name)
    return save_png(fig, Path(out_dir) / f"{safe_name(name)}_precision_recall.png")
