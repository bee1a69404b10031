"""Shared fixtures of the ecosystem tests (TraX, GOT-10k, demo, hp_search, ONNX): a tiny experiment.

The model is the project's architecture family at a fraction of the width (ResNet-18 at width 0.25,
layers 2/3/4, AdjustAllLayer, weighted MultiRPN): random weights whose BatchNorm statistics are
calibrated on random crops, so the head outputs are O(1) and the tracker's boxes stay finite, and
whose RPN output convolutions are damped (x0.1), so the boxes move little per frame: on the
synthetic videos such a tracker both follows the target for a while and fails.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch

TINY_CONFIG = """\
META_ARC: "ta_siamrpn_tiny_test"
BACKBONE:
  TYPE: "resnet18"
  KWARGS:
    used_layers: [2, 3, 4]
    width_mult: 0.25
ADJUST:
  ADJUST: true
  TYPE: "AdjustAllLayer"
  KWARGS:
    in_channels: [32, 64, 128]
    out_channels: [32, 32, 32]
RPN:
  TYPE: "MultiRPN"
  KWARGS:
    anchor_num: 5
    in_channels: [32, 32, 32]
    weighted: true
TRACK:
  TYPE: "SiamRPNTracker"
  PENALTY_K: 0.05
  WINDOW_INFLUENCE: 0.42
  LR: 0.38
TA:
  ENABLE: false
  METHOD: "dual"
  CHANNELS: [0.5, 1.0, 0.75]
  MIN_CHANNELS: 16
"""

ROOT = Path(__file__).resolve().parents[1]


def make_tiny_experiment(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Write ``config.yaml`` and a random ``model.pth`` into ``folder``; returns their paths."""
    from pysot.config import load_cfg
    from pysot.models.model_builder import ModelBuilder
    from pysot.utils.checkpoint import save_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yaml"
    config.write_text(TINY_CONFIG)
    cfg = load_cfg(config)
    torch.manual_seed(seed)
    model = ModelBuilder(cfg)
    calibrate_batchnorm(model, seed)
    for module in model.modules():
        if type(module).__name__ == "DepthwiseXCorr":
            module.head[-1].weight.data *= 0.1
    snapshot = save_checkpoint(folder / "model.pth", model, cfg)
    return config, snapshot


def calibrate_batchnorm(model: torch.nn.Module, seed: int) -> None:
    """Set every BatchNorm's running mean/var to the statistics of random 0-255 crops."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        z = torch.rand(4, 3, 127, 127, generator=generator) * 255
        x = torch.rand(4, 3, 255, 255, generator=generator) * 255
        model.template(z)
        model.track(x)
    model.eval()


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools are scripts, not a package)."""
    module_name = f"tools_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def bag_video() -> Path | None:
    """``/work/shared/data/bag.avi`` (reference material outside the repository), or None if absent."""
    path = ROOT.parent / "shared" / "data" / "bag.avi"
    return path if path.is_file() else None


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """Write BGR frames to an MJPG ``.avi`` (readable by every OpenCV build with FFmpeg)."""
    import cv2

    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
