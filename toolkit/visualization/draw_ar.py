"""VOT accuracy-robustness (AR) plot: one point per tracker, accuracy on y, robustness on x, oriented
so that better trackers are towards the top right, as in the VOT reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from .draw_eao import _bold, _ranked
from .draw_utils import PathLike, new_figure, safe_name, save_png, style

#: x-axis of the AR plot per convention: (report key, label, lower robustness value is better)
AR_AXES = {
    "vot": ("ar_robustness", "Robustness (S = 30)", False),
    "pysot": ("robustness", "Robustness (failures per 100 frames)", True),
}


def draw_ar(accuracy: Mapping[str, float], robustness: Mapping[str, float], name: str, out_dir: PathLike,
            robustness_label: str = "Robustness (S = 30)", lower_is_better: bool = False,
            bold_name: str | None = None) -> Path:
    """AR plot of the trackers.

    Args:
        accuracy: ``{tracker: accuracy}`` (0..1).
        robustness: ``{tracker: robustness}``: the official AR-plot value ``exp(-30 F / L)`` (0..1,
            higher better) or PySOT's failures per 100 frames (``lower_is_better=True``; the x axis is
            then reversed so that better is still to the right).
        name: dataset name (title and file ``<name>_ar.png``).
        robustness_label: x-axis label.
        bold_name: a tracker whose legend entry is bold.
    """
    if not accuracy:
        raise ValueError(f"{name}: no tracker to plot")
    missing = sorted(set(accuracy) ^ set(robustness))
    if missing:
        raise KeyError(f"{name}: accuracy and robustness given for different trackers: {missing}")
    fig = new_figure((6.4, 6.4))
    ax = fig.add_subplot(1, 1, 1)
    ax.grid(True)
    for idx, (tracker, acc) in enumerate(_ranked(accuracy)):
        colour, _, marker = style(idx)
        ax.plot([robustness[tracker]], [acc], marker=marker, color=colour, markersize=9, linestyle="none",
                label=f"{tracker} (A {acc:.3f}, R {robustness[tracker]:.3f})")
    values = np.array(list(robustness.values()), dtype=np.float64)
    if lower_is_better:
        ax.set_xlim(max(1.0, float(np.nanmax(values)) * 1.1), 0)
    else:
        ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(robustness_label)
    ax.set_ylabel("Accuracy")
    ax.set_title(f"AR plot on {name}", fontweight="bold")
    legend = ax.legend(loc="lower left", labelspacing=0.2,
                       fontsize="small" if len(accuracy) > 10 else "medium")
    _bold(legend, bold_name)
    return save_png(fig, Path(out_dir) / f"{safe_name(name)}_ar.png")

