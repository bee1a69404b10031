"""Need for Speed (Kiani Galoogahi et al., ICCV 2017): NFS30 and NFS240, OPE, xywh boxes.

Reads PySOT's ``<root>/<NAME>.json`` (NFS30.json / NFS240.json).
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .pysot_json import load_json_dataset


def load(name: str, root: str | Path) -> Dataset:
    """NFS30 or NFS240 from PySOT's JSON."""
    return load_json_dataset(name, root)
