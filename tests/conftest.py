"""Shared fixtures: a tiny experiment folder (config.yaml + model.pth) for the end-to-end tests.

The model is the project's architecture family at a fraction of the width (ResNet-18 at width 0.25,
layers 2/3/4, AdjustAllLayer, weighted MultiRPN). By default its random weights have BatchNorm
statistics calibrated on random crops, so the head outputs are O(1) and the tracker's boxes stay
finite, and damped RPN output convolutions (x0.1), so the boxes move little per frame: on the
synthetic videos such a tracker both follows the target for a while and fails. With
``zero_heads=True`` the last convolution of every cls/loc head is zero instead: equal scores and
zero box deltas, so the tracker stays on the target's last position at an anchor's size.

Tools are imported as modules (``import tools.test``): ``pyproject.toml`` puts the repository root
on ``sys.path`` for pytest (``pythonpath``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
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


def write_tiny_experiment(
    folder: Path, seed: int = 0, *, ta_enable: bool = False, zero_heads: bool = False
) -> tuple[Path, Path]:
    """Write ``config.yaml`` (:data:`TINY_CONFIG`, ``TA.ENABLE`` as given) and a random ``model.pth``
    into ``folder``; returns their paths."""
    from pysot.config import load_cfg
    from pysot.models.model_builder import ModelBuilder
    from pysot.utils.checkpoint import save_checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yaml"
    text = TINY_CONFIG if not ta_enable else TINY_CONFIG.replace("ENABLE: false", "ENABLE: true")
    config.write_text(text)
    cfg = load_cfg(config)
    torch.manual_seed(seed)
    model = ModelBuilder(cfg)
    if zero_heads:
        with torch.no_grad():
            for name, param in model.named_parameters():
                if ".head.3." in name:
                    param.zero_()
    else:
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


@pytest.fixture(scope="session")
def bag_video() -> Path:
    """``../shared/data/bag.avi`` (reference material outside the repository); the test is skipped
    when it is absent."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "bag.avi"
    if not path.is_file():
        pytest.skip("bag.avi (reference material outside the repository) is not present")
    return path


@pytest.fixture(scope="session")
def make_tiny_experiment() -> Callable[..., tuple[Path, Path]]:
    """:func:`write_tiny_experiment`, for tests that need another folder, seed or head setting."""
    return write_tiny_experiment


@pytest.fixture
def tiny_experiment(tmp_path: Path) -> tuple[Path, Path]:
    """``(config.yaml, model.pth)`` of the default tiny experiment in ``tmp_path / 'exp'``."""
    return write_tiny_experiment(tmp_path / "exp")
