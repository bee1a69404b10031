"""VOT short-term (VOT2016/2018/2019: reset protocol, 8-value polygons, per-frame tags) and
VOT2018-LT (long-term: NaN rows where the target is absent).

Reads ``<root>/<NAME>.json``, else the native ``list.txt`` + ``<seq>/groundtruth.txt`` layout.
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .native import load_vot_folder
from .pysot_json import find_json, load_json_dataset


def load(name: str, root: str | Path) -> Dataset:
    """A short-term VOT dataset, run with the reset protocol."""
    if find_json(Path(root), name) is not None:
        return load_json_dataset(name, root, protocol="vot")
    return load_vot_folder(name, root, protocol="vot")


def load_longterm(name: str, root: str | Path) -> Dataset:
    """A long-term VOT dataset (VOT2018-LT), run once through with confidence scores."""
    if find_json(Path(root), name) is not None:
        return load_json_dataset(name, root, protocol="longterm")
    return load_vot_folder(name, root, protocol="longterm")
