"""Build a ready tracker from an experiment's files (config.yaml, checkpoint, device, overrides).

Shared by the TraX server, the GOT-10k adapter and the demo/search/export tools, so that every
entry point builds exactly the tracker that ``tools/test.py`` builds from the same files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import torch
from yacs.config import CfgNode

from pysot.config import load_cfg
from pysot.models.model_builder import ModelBuilder
from pysot.tracker.tracker_builder import build_tracker
from pysot.utils.checkpoint import load_checkpoint
from pysot.utils.device import select_device

logger = logging.getLogger(__name__)


#: File name of an experiment's default checkpoint, stored beside its config.yaml.
DEFAULT_SNAPSHOT = "model.pth"


def resolve_snapshot(config: str | Path, snapshot: str | Path | None) -> Path:
    """``snapshot`` if given, else ``model.pth`` beside ``config`` (an experiment's default
    checkpoint); a missing file raises ``FileNotFoundError`` naming it. Every tool resolves
    ``--snapshot`` here."""
    if snapshot:
        path = Path(snapshot)
        if not path.is_file():
            raise FileNotFoundError(f"snapshot not found: {path}")
        return path
    path = Path(config).parent / DEFAULT_SNAPSHOT
    if not path.is_file():
        raise FileNotFoundError(
            f"no --snapshot given and no {DEFAULT_SNAPSHOT} beside {config} "
            f"(train one with tools/train.py --config {config}, or pass --snapshot)"
        )
    return path


def load_model(cfg: CfgNode, snapshot: str | Path | None, device: str = "cpu") -> torch.nn.Module:
    """``ModelBuilder(cfg)`` with the weights of ``snapshot`` (if given), in eval mode on ``device``.

    Args:
        cfg: a frozen experiment config.
        snapshot: a PySOT-layout ``.pth`` checkpoint; ``None`` keeps the random initialisation.
        device: a device name for :func:`pysot.utils.device.select_device` (``cpu``, ``cuda``,
            ``cuda:1``, ``auto``).
    """
    dev = select_device(device)
    model = ModelBuilder(cfg)
    if snapshot is not None:
        snapshot = Path(snapshot)
        if not snapshot.is_file():
            raise FileNotFoundError(f"snapshot not found: {snapshot}")
        load_checkpoint(model, str(snapshot), dev)
    return model.to(dev).eval()


class TrackerFactory:
    """Picklable ``() -> tracker``: :func:`load_model` of ``cfg`` and ``snapshot`` on ``device``,
    then ``build_tracker``. What ``tools/test.py`` hands to each worker process (or calls once).

    ``threads`` (if set) is torch's CPU thread count in the process that calls it.
    """

    def __init__(self, cfg: CfgNode, snapshot: str | Path, device: str, threads: int | None = None):
        self.cfg = cfg
        self.snapshot = str(snapshot)
        self.device = device
        self.threads = threads

    def __call__(self):
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        return build_tracker(self.cfg, load_model(self.cfg, self.snapshot, self.device))


def load_tracker(
    config: str | Path,
    snapshot: str | Path | None = None,
    device: str = "cpu",
    overrides: Sequence[str] = (),
):
    """Experiment files -> ``(cfg, tracker)`` with ``tracker.init(img, xywh)`` / ``tracker.track(img)``.

    Args:
        config: the experiment's ``config.yaml``.
        snapshot: its checkpoint (``None``: ``model.pth`` beside ``config``).
        device: see :func:`load_model`.
        overrides: trailing ``KEY VALUE`` config overrides, merged after the file.
    """
    cfg = load_cfg(config, overrides)
    snapshot = resolve_snapshot(config, snapshot)
    model = load_model(cfg, snapshot, device)
    logger.info("tracker %s from %s (snapshot %s) on %s", cfg.TRACK.TYPE, config, snapshot, device)
    return cfg, build_tracker(cfg, model)
