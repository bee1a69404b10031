"""Tracker result files in PySOT's layout and number formats: one place for readers and writers.

Layout (``root`` is the per-dataset results folder, e.g. ``results/VOT2018``)::

    ope       <root>/<tracker>/<video>.txt                              x,y,w,h per frame
    vot       <root>/<tracker>/baseline/<video>/<video>_001.txt         1 / 2 / 0 codes or a region
    longterm  <root>/<tracker>/longterm/<video>/<video>_001.txt         '1' then x,y,w,h
              <root>/<tracker>/longterm/<video>/<video>_001_confidence.value   '' then '%.6f'
              <root>/<tracker>/longterm/<video>/<video>_time.txt                '%.6f' seconds
    got10k    <root>/<tracker>/<video>/<video>_001.txt                  x,y,w,h per frame
              <root>/<tracker>/<video>/<video>_time.txt                 '%.6f' seconds

Number formats are byte-identical to PySOT's ``tools/test.py``: OPE, GOT-10k and long-term boxes are
``','.join(str(v) for v in box)``; VOT regions are ``'%.4f'`` of each value as a C ``float``
(``vot_float2str``); VOT codes are ``'{:d}'`` (1 = initialisation, 2 = failure, 0 = skipped frame);
confidences and times are ``'{:.6f}'`` with an empty first confidence line (the initial frame).

Boxes are ``[x, y, w, h]`` with (x, y) the 0-based top-left corner; VOT regions are those or
polygons ``[x1, y1, ..., xk, yk]``. Readers are strict where PySOT is silent: a file with the wrong
number of lines (when the frame count is given), a line that does not parse or holds ``nan`` /
``inf`` raises ``ValueError`` naming the file and the 1-based line; a file that is not UTF-8 raises
``ValueError`` naming the file. Writers are atomic (:mod:`toolkit.fileio`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Sequence
from itertools import repeat
from pathlib import Path
from typing import Union

import numpy as np

from toolkit import rules
from toolkit.boxes import vot_float2str
from toolkit.fileio import atomic_write_text

PathLike = Union[str, "os.PathLike[str]"]

#: Result layouts, named as ``toolkit.datasets`` names a benchmark's protocol.
PROTOCOLS = ("ope", "vot", "longterm", "got10k")
#: File kinds: the boxes/regions, the long-term confidences, the per-frame times.
KINDS = ("boxes", "confidence", "time")
#: VOT trajectory codes (:mod:`toolkit.rules`): 1 = initialisation, 2 = failure, 0 = skipped.
CODE_INIT, CODE_FAILURE, CODE_SKIP = rules.CODE_INIT, rules.CODE_FAILURE, rules.CODE_SKIP

_SEPARATORS = re.compile(r"[,\t ]+")

Row = Union[int, Sequence[float], np.ndarray]


# ---------------------------------------------------------------------------------------- layout
def result_path(
    root: PathLike, tracker: str, video: str, protocol: str, kind: str = "boxes", repetition: int = 1
) -> Path:
    """Path of one result file in PySOT's layout.

    Args:
        root: results folder of one dataset (``results/<DATASET>``).
        tracker: tracker (model) name, a folder under ``root``.
        video: video name.
        protocol: ``'ope'``, ``'vot'``, ``'longterm'`` or ``'got10k'``.
        kind: ``'boxes'``, ``'confidence'`` (long-term only) or ``'time'`` (long-term, GOT-10k).
        repetition: run index (VOT baseline runs are ``_001`` ... ``_015``).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown result protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown result file kind {kind!r}; known: {', '.join(KINDS)}")
    base = Path(root) / tracker
    rep = f"{video}_{repetition:03d}"
    if protocol == "ope":
        if kind != "boxes":
            raise ValueError(f"protocol 'ope' has no {kind!r} file")
        return base / f"{video}.txt"
    if protocol == "vot":
        if kind != "boxes":
            raise ValueError(f"protocol 'vot' has no {kind!r} file")
        return base / "baseline" / video / f"{rep}.txt"
    folder = base / "longterm" / video if protocol == "longterm" else base / video
    if kind == "boxes":
        return folder / f"{rep}.txt"
    if kind == "time":
        return folder / f"{video}_time.txt"
    if protocol != "longterm":
        raise ValueError(f"protocol {protocol!r} has no 'confidence' file")
    return folder / f"{rep}_confidence.value"


#: File names of OTB toolkit result sets that PySOT also accepts for an OPE video (used only when
#: ``<video>.txt`` does not exist); any other video falls back to its name with a lower-case first letter.
LEGACY_OPE_NAMES = {
    "FleetFace": "fleetface.txt",
    "Jogging-1": "jogging_1.txt",
    "Jogging-2": "jogging_2.txt",
    "Skating2-1": "skating2_1.txt",
    "Skating2-2": "skating2_2.txt",
    "FaceOcc1": "faceocc1.txt",
    "FaceOcc2": "faceocc2.txt",
    "Human4-2": "human4_2.txt",
}


def find_ope_result(root: PathLike, tracker: str, video: str) -> Path | None:
    """The OPE result file of a video: ``<video>.txt``, else (as PySOT) the OTB toolkit's legacy
    name (:data:`LEGACY_OPE_NAMES`, or the name with a lower-case first letter); ``None`` if absent."""
    path = result_path(root, tracker, video, "ope")
    if path.is_file():
        return path
    legacy = LEGACY_OPE_NAMES.get(video, video[:1].lower() + video[1:] + ".txt")
    path = path.with_name(legacy)
    return path if path.is_file() else None


def vot_repetition_paths(root: PathLike, tracker: str, video: str) -> list[Path]:
    """Existing VOT baseline runs ``<video>_NNN.txt`` of one tracker and video, sorted by NNN."""
    folder = Path(root) / tracker / "baseline" / video
    if not folder.is_dir():
        return []
    pattern = re.compile(re.escape(video) + r"_(\d{3})\.txt")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


def list_trackers(root: PathLike, prefix: str = "") -> list[str]:
    """Sorted names of the tracker folders in ``root`` that start with ``prefix``."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix))


def saved_vot_convention(tracker_dir: PathLike) -> str | None:
    """The failure-rule convention a reset-based results folder was run under, from the
    ``config.yaml`` that ``tools/test.py`` saves beside the results: its ``TEST.VOT_CONVENTION``
    (``'pysot'`` or ``'vot'``); ``'pysot'`` for a saved config without the key (written before the
    official rule existed: PySOT's was the only one); ``None`` without a readable ``config.yaml``
    (results of another tool: the convention is unknown)."""
    import yaml  # only needed here

    path = Path(tracker_dir) / "config.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(config, dict):
        return None
    test = config.get("TEST")
    value = test.get("VOT_CONVENTION", "pysot") if isinstance(test, dict) else "pysot"
    return value if value in rules.CONVENTIONS else None


# ---------------------------------------------------------------------------------------- writing
# atomic_write_text (toolkit.fileio) is imported above: the one atomic writer, kept importable here.


def _is_code(row: Row) -> bool:
    if isinstance(row, (bool, np.bool_)):
        raise TypeError(f"a result row must be an integer code or a box, got {row!r}")
    return isinstance(row, (int, np.integer))


def format_box_line(box: Iterable[float]) -> str:
    """PySOT's OPE / GOT-10k / long-term line: ``','.join(str(v) for v in box)``."""
    return ",".join(str(v) for v in box)


def format_vot_line(row: Row) -> str:
    """PySOT's VOT baseline line: ``'{:d}'`` for a code, ``'%.4f'`` (C float) of each region value."""
    if _is_code(row):
        return f"{int(row):d}"
    return ",".join(vot_float2str("%.4f", float(v)) for v in row)


def write_boxes(path: PathLike, boxes: Iterable[Row]) -> None:
    """Write an OPE / GOT-10k / long-term trajectory: one box per line (an int row, e.g. the
    long-term initial ``1``, is written as that integer)."""
    lines = [f"{int(b):d}" if _is_code(b) else format_box_line(b) for b in boxes]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


def write_vot_trajectory(path: PathLike, trajectory: Iterable[Row]) -> None:
    """Write a VOT reset-based trajectory: integer codes (1, 2, 0) or regions (4 or 2k values)."""
    atomic_write_text(path, "".join(format_vot_line(row) + "\n" for row in trajectory))


def write_confidence(path: PathLike, scores: Iterable[float | None]) -> None:
    """Write long-term confidences: ``''`` for ``None`` (the initial frame), else ``'{:.6f}'``."""
    atomic_write_text(path, "".join("\n" if s is None else f"{s:.6f}\n" for s in scores))


def write_times(path: PathLike, times: Iterable[float]) -> None:
    """Write per-frame times in seconds, ``'{:.6f}'`` per line."""
    atomic_write_text(path, "".join(f"{t:.6f}\n" for t in times))


# ---------------------------------------------------------------------------------------- reading
def _read_lines(path: PathLike, n_frames: int | None) -> list[str]:
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    if n_frames is not None and len(lines) != n_frames:
        raise ValueError(f"{path}: {len(lines)} lines but the video has {n_frames} frames (one per line)")
    return lines


def _parse_numbers(path: PathLike, lineno: int, line: str) -> list[float]:
    fields = line.split(",") if "," in line else _SEPARATORS.split(line.strip())
    try:
        if fields == [""]:
            raise ValueError("empty line")
        values = [float(x) for x in fields]
    except ValueError as err:
        raise ValueError(f"{path}: line {lineno}: cannot parse {line!r} ({err})") from None
    if not all(map(math.isfinite, values)):
        raise ValueError(f"{path}: line {lineno}: non-finite value (nan or inf) in {line!r}")
    return values


def _comma_boxes(lines: list[str]) -> np.ndarray | None:
    """The ``(N, 4)`` values of lines that each hold exactly 3 commas and 4 finite numbers, parsed
    in one pass (the same ``float()`` of the same fields as the line by line loop, 3-4x faster);
    ``None`` for anything else, which the loop then reads or reports with the line's number."""
    if not lines or not all(n == 3 for n in map(str.count, lines, repeat(",", len(lines)))):
        return None
    try:
        values = list(map(float, ",".join(lines).split(",")))
    except ValueError:
        return None
    if not all(map(math.isfinite, values)):
        return None
    return np.array(values, dtype=np.float64).reshape(len(lines), 4)


def read_boxes(path: PathLike, n_frames: int | None = None) -> np.ndarray:
    """Read an OPE / GOT-10k trajectory as ``(N, 4)`` float64 ``[x, y, w, h]``.

    Values are separated by ``','`` (PySOT), tabs or spaces; every line must hold 4 numbers.
    """
    lines = _read_lines(path, n_frames)
    fast = _comma_boxes(lines)
    if fast is not None:
        return fast
    out = np.empty((len(lines), 4), dtype=np.float64)
    for i, line in enumerate(lines):
        values = _parse_numbers(path, i + 1, line)
        if len(values) != 4:
            raise ValueError(f"{path}: line {i + 1}: expected 4 values x,y,w,h, got {len(values)}: {line!r}")
        out[i] = values
    return out


def read_vot_trajectory(path: PathLike, n_frames: int | None = None) -> list[list[float]]:
    """Read a VOT baseline or long-term trajectory as PySOT holds it: one list per frame,
    ``[1.0]`` / ``[2.0]`` / ``[0.0]`` for the codes, ``[x, y, w, h]`` or a polygon ``[x1, y1, ...]``.

    A one-value line must be the code 0, 1 or 2; a region has 4 values or an even number >= 6.
    """
    lines = _read_lines(path, n_frames)
    traj = []
    for i, line in enumerate(lines):
        values = _parse_numbers(path, i + 1, line)
        n = len(values)
        if n == 1:
            if values[0] not in (CODE_INIT, CODE_FAILURE, CODE_SKIP):
                raise ValueError(f"{path}: line {i + 1}: a one-value line must be 0, 1 or 2, got {line!r}")
        elif n != 4 and (n < 6 or n % 2):
            raise ValueError(
                f"{path}: line {i + 1}: a region needs 4 values or an even number >= 6, got {n}: {line!r}"
            )
        traj.append(values)
    return traj


def read_confidence(path: PathLike, n_frames: int | None = None) -> np.ndarray:
    """Read long-term confidences as ``(N,)`` float64; the (empty) first line reads as NaN.

    Only the first line may be empty (PySOT writes nothing for the initial frame); its value, if
    any, is kept here and ignored by the F1 evaluation as PySOT ignores it.
    """
    lines = _read_lines(path, n_frames)
    out = np.empty(len(lines), dtype=np.float64)
    for i, line in enumerate(lines):
        if i == 0 and not line.strip():
            out[i] = math.nan
            continue
        values = _parse_numbers(path, i + 1, line)
        if len(values) != 1:
            raise ValueError(f"{path}: line {i + 1}: expected one confidence value, got {line!r}")
        out[i] = values[0]
    return out


def read_times(path: PathLike, n_frames: int | None = None) -> np.ndarray:
    """Read per-frame times (seconds) as ``(N,)`` float64."""
    lines = _read_lines(path, n_frames)
    out = np.empty(len(lines), dtype=np.float64)
    for i, line in enumerate(lines):
        values = _parse_numbers(path, i + 1, line)
        if len(values) != 1:
            raise ValueError(f"{path}: line {i + 1}: expected one time value, got {line!r}")
        out[i] = values[0]
    return out


def result_complete(
    root: PathLike, tracker: str, video: str, protocol: str, n_frames: int, repetition: int = 1
) -> bool:
    """True when every file of one run exists and reads back with ``n_frames`` valid lines
    (for resumable runs: a complete video is skipped, a partial or corrupt one is redone)."""
    kinds = {"ope": ("boxes",), "vot": ("boxes",), "longterm": KINDS, "got10k": ("boxes", "time")}[protocol]
    readers = {
        "boxes": read_vot_trajectory if protocol in ("vot", "longterm") else read_boxes,
        "confidence": read_confidence,
        "time": read_times,
    }
    for kind in kinds:
        path = result_path(root, tracker, video, protocol, kind, repetition)
        if not path.is_file():
            return False
        try:
            readers[kind](path, n_frames)
        except ValueError:
            return False
    return True
