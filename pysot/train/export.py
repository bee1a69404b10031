"""Training checkpoint -> the weights file that tracking loads (no optimizer state)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from pysot.utils.checkpoint import extract_state_dict
from toolkit.fileio import atomic_output

logger = logging.getLogger(__name__)


def export_weights(checkpoint: str | Path, out: str | Path) -> Path:
    """Copy a training checkpoint without its optimizer state (the file tools/test.py loads); the
    config, epoch and losses stay."""
    state = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    model_state, extra = extract_state_dict(state, source=str(checkpoint))
    out = Path(out)
    payload = {"state_dict": model_state, **{k: v for k, v in extra.items() if k != "optimizer"}}
    with atomic_output(out) as tmp:
        torch.save(payload, str(tmp))
    logger.info("exported %s -> %s (%.1f MB)", checkpoint, out, out.stat().st_size / 1e6)
    return out
