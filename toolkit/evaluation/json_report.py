"""The evaluation report (:func:`.aggregate.evaluate`) as deterministic JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def report_json(report: Mapping[str, Any]) -> str:
    """The report as deterministic JSON: sorted keys, NaN and infinities as ``null``."""
    return json.dumps(_jsonable(report), sort_keys=True, indent=1) + "\n"
