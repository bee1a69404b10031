"""The one place a device is chosen: ``select_device('auto' | 'cpu' | 'cuda' | 'cuda:1' | None)``."""

from __future__ import annotations

import logging

import torch

logger = logging.getLogger(__name__)

__all__ = ["select_device"]


def select_device(name: str | None = "auto") -> torch.device:
    """``None``/``'auto'``: CUDA when available, else CPU; otherwise the named device.

    Raises ``ValueError`` for a malformed name and ``RuntimeError`` when CUDA is requested but
    unavailable (instead of failing later inside the first forward pass).
    """
    if name is None or name == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            device = torch.device(name)
        except RuntimeError as err:
            raise ValueError(f"invalid device {name!r}: {err}") from None
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError(f"device {name!r} requested but CUDA is not available")
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise RuntimeError(
                    f"device {name!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
                )
    logger.info("using device %s", device)
    return device
