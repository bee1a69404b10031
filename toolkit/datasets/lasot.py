"""LaSOT (Fan et al., CVPR 2019) test set: OPE, xywh boxes, attributes and per-frame ``absent`` flags.

Reads PySOT's ``<root>/LaSOT.json`` (or ``LaSOT_new.json``); ``Sequence.absent`` keeps the flags as
stored there (the evaluation decides how to use them).
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .pysot_json import load_json_dataset


def load(name: str, root: str | Path) -> Dataset:
    """LaSOT from PySOT's JSON."""
    return load_json_dataset(name, root)
