"""Readers for the benchmarks' own folder layouts, for users without PySOT's JSON files.

VOT (``list.txt`` + one folder per sequence)::

    <root>/list.txt                  sequence names, one a line (else: every sub-folder with a
                                     groundtruth.txt, sorted)
    <root>/<seq>/groundtruth.txt     one region a line: 4 values (x,y,w,h) or 8 (polygon), ','
                                     separated; 'nan' values for long-term gaps
    <root>/<seq>/color/*.jpg         frames (legacy layout: frames directly in <root>/<seq>/)
    <root>/<seq>/<tag>.tag           optional per-frame 0/1 tags (camera_motion, occlusion, ...)

OTB (one folder per video)::

    <root>/<Video>/groundtruth_rect.txt     x,y,w,h a line (',' or whitespace/tab separated);
                                            groundtruth_rect.1.txt / .2.txt: two targets ->
                                            videos <Video>-1 and <Video>-2
    <root>/<Video>/img/*.jpg                frames
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .base import VOT_TAGS, Dataset, DatasetFormatError, Sequence

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_SEPARATORS = re.compile(r"[,\s]+")
_INTEGER = re.compile(r"[+-]?\d+")


def read_region_file(path: Path, allowed: tuple[int, ...] = (4, 8)) -> tuple[np.ndarray, bool]:
    """Regions of a ground-truth text file -> ``(N, k)`` float64 (k in ``allowed``; 'nan' allowed),
    and whether every value is written as an integer.

    Values are separated by commas and/or whitespace. Errors name the file and the 1-based line.
    Trailing blank lines are ignored; a blank line inside the file is an error.
    """
    with open(path) as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows = []
    integers = True
    for lineno, line in enumerate(lines, start=1):
        fields = [v for v in _SEPARATORS.split(line.strip()) if v]
        try:
            values = [float(v) for v in fields]
        except ValueError:
            raise DatasetFormatError(f"{path}:{lineno}: not a list of numbers: {line!r}") from None
        if len(values) not in allowed:
            raise DatasetFormatError(
                f"{path}:{lineno}: {len(values)} values, expected {' or '.join(map(str, allowed))}"
            )
        rows.append(values)
        integers = integers and all(_INTEGER.fullmatch(v) for v in fields)
    if not rows:
        raise DatasetFormatError(f"{path}: no ground truth")
    width = len(rows[0])
    for lineno, row in enumerate(rows, start=1):
        if len(row) != width:
            raise DatasetFormatError(f"{path}:{lineno}: {len(row)} values, earlier lines have {width}")
    return np.asarray(rows, dtype=np.float64), integers


def list_images(folder: Path) -> list[str]:
    """Sorted absolute paths of the image files in ``folder``."""
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTENSIONS))


def _read_tag(path: Path) -> np.ndarray:
    with open(path) as f:
        lines = [line.strip() for line in f.read().splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    try:
        return np.asarray([int(float(v)) for v in lines], dtype=np.int32)
    except ValueError:
        raise DatasetFormatError(f"{path}: tag values must be 0 or 1") from None


def _check_counts(name: str, images: list[str], gt: np.ndarray, gt_path: Path, img_dir: Path) -> None:
    if not images:
        raise DatasetFormatError(f"video {name}: no images in {img_dir}")
    if len(images) != len(gt):
        raise DatasetFormatError(
            f"video {name}: {len(images)} images in {img_dir} but {len(gt)} lines in {gt_path}"
        )


def load_vot_folder(name: str, root: str | Path, protocol: str = "vot") -> Dataset:
    """A VOT-layout folder (short-term with tags, or long-term with 'nan' gaps: ``protocol='longterm'``)."""
    root = Path(os.path.abspath(root))
    list_file = root / "list.txt"
    if list_file.is_file():
        with open(list_file) as f:
            seq_names = [line.strip() for line in f if line.strip()]
    elif root.is_dir():
        seq_names = sorted(d.name for d in root.iterdir() if (d / "groundtruth.txt").is_file())
    else:
        raise FileNotFoundError(f"{name}: dataset folder not found: {root}")
    if not seq_names:
        raise DatasetFormatError(f"{name}: no sequences in {root} (no list.txt, no */groundtruth.txt)")
    seqs = []
    for seq_name in seq_names:
        seq_dir = root / seq_name
        gt_path = seq_dir / "groundtruth.txt"
        if not gt_path.is_file():
            raise DatasetFormatError(f"{list_file}: sequence {seq_name}: missing {gt_path}")
        gt, gt_int = read_region_file(gt_path)
        img_dir = seq_dir / "color" if (seq_dir / "color").is_dir() else seq_dir
        images = list_images(img_dir)
        _check_counts(seq_name, images, gt, gt_path, img_dir)
        tags = None
        if protocol == "vot":
            # a missing tag file means the tag is never set
            tags = {
                t: _read_tag(seq_dir / f"{t}.tag") if (seq_dir / f"{t}.tag").is_file() else []
                for t in VOT_TAGS
            }
        seqs.append(Sequence(seq_name, images, gt, tags=tags, video_dir=seq_name, gt_int=gt_int))
    return Dataset(name, root, seqs, protocol=protocol)


def load_otb_folder(name: str, root: str | Path) -> Dataset:
    """An OTB-layout folder: every sub-folder with ``groundtruth_rect*.txt`` and ``img/``."""
    root = Path(os.path.abspath(root))
    if not root.is_dir():
        raise FileNotFoundError(f"{name}: dataset folder not found: {root}")
    seqs = []
    for video_dir in sorted(d for d in root.iterdir() if d.is_dir()):
        gt_files = sorted(video_dir.glob("groundtruth_rect*.txt"))
        if not gt_files:
            continue
        img_dir = video_dir / "img"
        images = list_images(img_dir) if img_dir.is_dir() else []
        for gt_path in gt_files:
            # groundtruth_rect.txt -> <Video>; groundtruth_rect.2.txt -> <Video>-2
            index = gt_path.name[len("groundtruth_rect") : -len(".txt")].strip(".")
            video = f"{video_dir.name}-{index}" if index else video_dir.name
            gt, gt_int = read_region_file(gt_path, allowed=(4,))
            _check_counts(video, images, gt, gt_path, img_dir)
            seqs.append(Sequence(video, images, gt, video_dir=video_dir.name, gt_int=gt_int))
    if not seqs:
        raise DatasetFormatError(
            f"{name}: no {name}.json and no <video>/groundtruth_rect.txt + <video>/img/ in {root}"
        )
    return Dataset(name, root, seqs, protocol="ope")
