"""Reader for PySOT's annotation files ``testing_dataset/<NAME>/<NAME>.json``.

Each file maps a video name to ``{"video_dir", "init_rect", "img_names", "gt_rect", ...}`` with
optional ``"attr"`` (OTB-style attributes), ``"absent"`` (LaSOT) and the five VOT per-frame tag
lists. ``img_names`` are relative to the dataset root (older VOT files: relative to ``video_dir``;
both are accepted, decided once per video from its first image).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from toolkit.boxes import rect_to_polygon

from .base import VOT_TAGS, Dataset, DatasetFormatError, Sequence

logger = logging.getLogger(__name__)


def find_json(root: Path, name: str) -> Path | None:
    """``<root>/<name>.json`` (or PySOT's alternative ``<name>_new.json``) if present, else None."""
    for candidate in (root / f"{name}.json", root / f"{name}_new.json"):
        if candidate.is_file():
            return candidate
    return None


def gt_array(rows: list, where: str, num_frames: int | None = None) -> np.ndarray:
    """Ground-truth rows (lists of 4 or 8 numbers, NaN allowed) -> ``(N, 4)`` or ``(N, 8)`` float64.

    A video mixing 4- and 8-value rows gets polygons throughout (rectangles converted exactly).
    With ``num_frames``, missing trailing rows (unannotated test frames) become NaN rows.
    ``where`` names the file and video in errors.
    """
    try:  # the usual case in one conversion: every row a flat list of 4 (or every row of 8) numbers
        whole = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError):
        whole = None
    if whole is not None and whole.ndim == 2 and whole.shape[1] in (4, 8):
        if num_frames is not None and len(whole) < num_frames:
            whole = np.concatenate([whole, np.full((num_frames - len(whole), whole.shape[1]), np.nan)])
        return whole
    parsed = []
    for i, row in enumerate(rows):
        try:
            values = np.asarray(row, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise DatasetFormatError(f"{where}: gt_rect[{i}] is not a list of numbers: {row!r}") from None
        if values.size not in (4, 8):
            raise DatasetFormatError(
                f"{where}: gt_rect[{i}] has {values.size} values, expected 4 (x,y,w,h) or 8 (polygon)"
            )
        parsed.append(values)
    if not parsed:
        raise DatasetFormatError(f"{where}: empty gt_rect")
    width = max(v.size for v in parsed)
    if width == 8:
        parsed = [v if v.size == 8 else rect_to_polygon(v) for v in parsed]
    gt = np.stack(parsed)
    if num_frames is not None and len(gt) < num_frames:
        gt = np.concatenate([gt, np.full((num_frames - len(gt), width), np.nan)])
    return gt


def _any_absolute(names: list[str]) -> bool:
    """Whether any name is an absolute path (one string search on POSIX, where a path is absolute
    when it starts with ``/`` and holds no NUL: 30 000 names of OTB100 in 1 ms instead of 60 ms)."""
    if os.name == "posix":
        return ("\0" + "\0".join(names)).find("\0/") >= 0
    return any(os.path.isabs(n) for n in names)


def resolve_images(root: Path, video_dir: str, img_names: Iterable[str], where: str) -> list[str]:
    """Absolute image paths: ``root/img_name``, or ``root/video_dir/img_name`` for older files.

    Only the first image is checked here (one ``stat`` per video); later frames fail on load.
    """
    names = list(img_names)
    if not names:
        raise DatasetFormatError(f"{where}: no img_names")
    for base in (root, root / video_dir):
        if (base / names[0]).is_file():
            prefix = os.path.join(base, "")
            if _any_absolute(names):
                return [os.path.join(base, n) for n in names]
            return [prefix + n for n in names]  # os.path.join(base, n) for relative names
    raise DatasetFormatError(f"{where}: image not found: {root / names[0]}")


def sequence_from_entry(
    root: Path, name: str, entry: dict, json_path: Path, partial_gt: bool = False
) -> Sequence:
    """One ``Sequence`` from one JSON entry; ``partial_gt`` pads unannotated frames with NaN rows."""
    where = f"{json_path}: video {name}"
    for key in ("img_names", "gt_rect"):
        if key not in entry:
            raise DatasetFormatError(f"{where}: missing key {key!r}")
    video_dir = entry.get("video_dir", name)
    img_names = resolve_images(root, video_dir, entry["img_names"], where)
    gt = gt_array(entry["gt_rect"], where, len(img_names) if partial_gt else None)
    n = len(gt)
    if n > len(img_names):
        raise DatasetFormatError(f"{where}: {len(img_names)} img_names but {n} gt_rect rows")
    if n < len(img_names):
        # e.g. LaSOT's monkey-17: PySOT's evaluation cuts results to the annotated frames
        logger.warning(
            "%s: %d img_names but %d gt_rect rows; the %d unannotated trailing frames are dropped",
            where, len(img_names), n, len(img_names) - n,
        )  # fmt: skip
        img_names = img_names[:n]
    # a VOT entry lacking one of the tag lists never sets that tag
    tags = {t: entry.get(t, [])[:n] for t in VOT_TAGS} if any(t in entry for t in VOT_TAGS) else None
    init_rect = entry.get("init_rect")
    gt_int = all(type(v) is int for row in entry["gt_rect"] for v in row)
    return Sequence(
        name=name,
        img_names=img_names,
        gt_traj=gt,
        init_rect=None if init_rect is None or len(init_rect) != 4 else init_rect,
        attr=entry.get("attr") or (),
        tags=tags,
        absent=None if entry.get("absent") is None else entry["absent"][:n],
        video_dir=video_dir,
        gt_int=gt_int,
    )


def load_json_dataset(
    name: str,
    root: str | Path,
    json_name: str | None = None,
    protocol: str = "ope",
    partial_gt: bool = False,
    videos: Iterable[str] | None = None,
) -> Dataset:
    """Dataset ``name`` from the PySOT JSON ``json_name`` (default: ``<name>.json``) in ``root``.

    Args:
        videos: keep only these video names (subsets such as OTB50 read from OTB100.json);
            names absent from the file are skipped with a warning.
    """
    root = Path(os.path.abspath(root))
    json_path = root / json_name if json_name else find_json(root, name)
    if json_path is None or not json_path.is_file():
        raise FileNotFoundError(f"{name}: annotation file not found: {json_path or root / (name + '.json')}")
    try:
        with open(json_path) as f:
            meta = json.load(f)
    except json.JSONDecodeError as err:
        raise DatasetFormatError(f"{json_path}: invalid JSON: {err}") from None
    if not isinstance(meta, dict):
        raise DatasetFormatError(f"{json_path}: expected an object mapping video names to entries")
    names = sorted(meta)
    if videos is not None:
        wanted = list(videos)
        missing = [v for v in wanted if v not in meta]
        if missing:
            logger.warning("%s: %d videos not in %s: %s", name, len(missing), json_path, ", ".join(missing))
        names = sorted(v for v in wanted if v in meta)
    seqs = [sequence_from_entry(root, v, meta[v], json_path, partial_gt) for v in names]
    logger.info("%s: %d videos from %s", name, len(seqs), json_path)
    return Dataset(name, root, seqs, protocol=protocol)
