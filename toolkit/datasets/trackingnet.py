"""TrackingNet (Müller et al., ECCV 2018): OPE, xywh boxes.

Reads PySOT's ``<root>/TrackingNet.json``; the test split annotates only the first frame, so missing
ground-truth rows become NaN rows.
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .pysot_json import load_json_dataset


def load(name: str, root: str | Path) -> Dataset:
    """TrackingNet from PySOT's JSON."""
    return load_json_dataset(name, root, partial_gt=True)
