"""Shared plot style (PySOT's colours, line and marker styles) and headless PNG writing.

Figures are built with ``matplotlib.figure.Figure`` on the Agg canvas directly, so no pyplot state
and no display are involved and the process-wide backend is left alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Tuple, Union

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from toolkit.fileio import atomic_output

PathLike = Union[str, "os.PathLike[str]"]

#: PySOT's tracker colours (toolkit/visualization/draw_utils.py), used in order, best tracker first.
COLOR = (
    (1, 0, 0),
    (0, 1, 0),
    (1, 0, 1),
    (1, 1, 0),
    (0, 162 / 255, 232 / 255),
    (0.5, 0.5, 0.5),
    (0, 0, 1),
    (0, 1, 1),
    (136 / 255, 0, 21 / 255),
    (255 / 255, 127 / 255, 39 / 255),
    (0, 0, 0),
)
LINE_STYLE = ("-", "--", ":", "-", "--", ":", "-", "--", ":", "-")
MARKER_STYLE = ("o", "v", "<", "*", "D", "x", ".", "x", "<", ".")

DPI = 100


_DISTINCT_LINES = ("-", "--", ":", "-.")


def style(index: int) -> Tuple[tuple, str, str]:
    """``(colour, line style, marker)`` of the ``index``-th tracker: PySOT's pairs for the first 10,
    then the 11 colours cycle with solid, dashed, dotted and dash-dot lines in turn."""
    colour = COLOR[index % len(COLOR)]
    if index < len(LINE_STYLE):
        line = LINE_STYLE[index]
    else:
        line = _DISTINCT_LINES[(index // len(COLOR)) % len(_DISTINCT_LINES)]
    marker = MARKER_STYLE[index % len(MARKER_STYLE)]
    return colour, line, marker


def safe_name(text: str) -> str:
    """A file-name-safe form of a dataset, attribute or tag name (``Fast Motion`` -> ``Fast_Motion``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "unnamed"


def new_figure(size: Tuple[float, float] = (6.4, 6.4)) -> Figure:
    """A figure attached to an Agg canvas (headless)."""
    fig = Figure(figsize=size, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: PathLike) -> Path:
    """Write ``fig`` as PNG atomically (:func:`toolkit.fileio.atomic_output`)."""
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        fig.savefig(f, format="png", dpi=DPI, bbox_inches="tight")
    return path
