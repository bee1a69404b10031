"""What a run ran on: the versions that decide its numbers, logged at the start of every run."""

from __future__ import annotations

import json
import logging
import platform

import numpy as np
import torch


def run_environment() -> dict[str, str]:
    """Versions of Python, torch, NumPy and OpenCV, and the platform string."""
    import cv2

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "platform": platform.platform(),
    }


def log_run_environment(logger: logging.Logger) -> dict[str, str]:
    """Log :func:`run_environment` as one ``environment: {json}`` line on ``logger``; return it."""
    env = run_environment()
    logger.info("environment: %s", json.dumps(env))
    return env
