"""UAV123 and UAV20L (Mueller et al., ECCV 2016): OPE, xywh boxes, OTB-style attributes.

Reads PySOT's ``<root>/<NAME>.json`` (UAV123.json / UAV20L.json).
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .pysot_json import load_json_dataset


def load(name: str, root: str | Path) -> Dataset:
    """UAV123 or UAV20L from PySOT's JSON."""
    return load_json_dataset(name, root)
