"""Every experiments/*/config.yaml builds its model and tracker on CPU; the synthetic-data experiments
(our own, trained here) also track a frame and take a training step from their config as written.

Weights are random (the PySOT checkpoints are not in the repository); what is checked is that each
config is complete and consistent: backbone/neck/head channel counts, anchors, the tracker type,
target-aware selection, and for the synthetic recipes the training crop sizes and data sources.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from pysot.config import load_cfg
from pysot.models.model_builder import ModelBuilder
from pysot.tracker.tracker_builder import build_tracker
from pysot.train import train

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
CONFIGS = sorted(EXPERIMENTS.glob("*/config.yaml"))
SYNTH_CONFIGS = [p for p in CONFIGS if "synth" in p.parent.name]


def test_the_synthetic_experiments_are_found():
    names = {p.parent.name for p in SYNTH_CONFIGS}
    assert {"ta_siamrpn_tiny_synth", "ta_siamrpn_small_synth"} <= names


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.parent.name)
def test_experiment_builds_on_cpu(config):
    cfg = load_cfg(config)
    model = ModelBuilder(cfg).eval()
    assert type(build_tracker(cfg, model)).__name__ == cfg.TRACK.TYPE


@pytest.mark.parametrize("config", SYNTH_CONFIGS, ids=lambda p: p.parent.name)
def test_synthetic_experiment_tracks_on_cpu(config):
    # only our configs: tracking a frame with PySOT's full-width models costs seconds each on CPU
    cfg = load_cfg(config)
    torch.manual_seed(0)
    model = ModelBuilder(cfg).eval()
    tracker = build_tracker(cfg, model)
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    tracker.init(frame, [140.0, 100.0, 40.0, 30.0])
    out = tracker.track(frame)
    box = np.asarray(out["bbox"], dtype=np.float64)
    assert box.shape == (4,) and np.all(np.isfinite(box)), config


@pytest.mark.parametrize("config", SYNTH_CONFIGS, ids=lambda p: p.parent.name)
def test_synthetic_recipe_takes_a_training_step(config, tmp_path):
    # the recipe as written, cut to one step of 2 pairs in this process (one epoch: no warm-up)
    cfg = load_cfg(
        config,
        [
            "TRAIN.EPOCH", "1",
            "TRAIN.LR_WARMUP.WARMUP", "False",
            "TRAIN.BATCH_SIZE", "2",
            "TRAIN.NUM_WORKERS", "0",
            "DATASET.VIDEOS_PER_EPOCH", "2",
            "TRAIN.SNAPSHOT_DIR", str(tmp_path / "snap"),
            "TRAIN.LOG_DIR", str(tmp_path / "logs"),
        ],
    )  # fmt: skip
    losses = train(cfg, device="cpu")
    assert all(np.isfinite(v) and v > 0 for v in losses.values()), losses
    assert (tmp_path / "snap" / "checkpoint_e1.pth").is_file()
