"""GOT-10k (Huang et al., TPAMI 2019): OPE with the GOT-10k result layout
(``<video>/<video>_001.txt`` + ``<video>_time.txt``).

Reads PySOT's ``<root>/GOT-10k.json``; the test split annotates only the first frame, so missing
ground-truth rows become NaN rows.
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .pysot_json import load_json_dataset


def load(name: str, root: str | Path) -> Dataset:
    """GOT-10k from PySOT's JSON."""
    return load_json_dataset(name, root, protocol="got10k", partial_gt=True)
