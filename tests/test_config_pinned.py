"""Configuration defaults pinned to literal values from their sources, not read from ``get_cfg()``.

* PySOT's published defaults: ``pysot/core/config.py`` of https://github.com/STVIR/pysot at commit
  d04028f8e18c6b27ee150a7c0d8aab9a1807219e (every key of that file, printed from its ``cfg`` and
  pasted here; ``CUDA`` and ``TRAIN.LOG_GRADS`` are PySOT-only and deliberately absent here).
* The paper's target-aware values: ``TA_SPEC.md`` (the shared method description of Ta-SiamRPN++,
  Chen et al., Acta Optica Sinica 40(9) 2020), "At tracker init" steps 4-8.
"""

from __future__ import annotations

import pytest

from pysot.config import get_cfg, load_cfg
from pysot.models.target_aware import TargetAwareSelector

PYSOT_DEFAULTS = {
    "META_ARC": "siamrpn_r50_l234_dwxcorr",
    "TRAIN.THR_HIGH": 0.6,
    "TRAIN.THR_LOW": 0.3,
    "TRAIN.NEG_NUM": 16,
    "TRAIN.POS_NUM": 16,
    "TRAIN.TOTAL_NUM": 64,
    "TRAIN.EXEMPLAR_SIZE": 127,
    "TRAIN.SEARCH_SIZE": 255,
    "TRAIN.BASE_SIZE": 8,
    "TRAIN.OUTPUT_SIZE": 25,
    "TRAIN.RESUME": "",
    "TRAIN.PRETRAINED": "",
    "TRAIN.LOG_DIR": "./logs",
    "TRAIN.SNAPSHOT_DIR": "./snapshot",
    "TRAIN.EPOCH": 20,
    "TRAIN.START_EPOCH": 0,
    "TRAIN.BATCH_SIZE": 32,
    "TRAIN.NUM_WORKERS": 1,
    "TRAIN.MOMENTUM": 0.9,
    "TRAIN.WEIGHT_DECAY": 0.0001,
    "TRAIN.CLS_WEIGHT": 1.0,
    "TRAIN.LOC_WEIGHT": 1.2,
    "TRAIN.MASK_WEIGHT": 1,
    "TRAIN.PRINT_FREQ": 20,
    "TRAIN.GRAD_CLIP": 10.0,
    "TRAIN.BASE_LR": 0.005,
    "TRAIN.LR.TYPE": "log",
    "TRAIN.LR_WARMUP.WARMUP": True,
    "TRAIN.LR_WARMUP.TYPE": "step",
    "TRAIN.LR_WARMUP.EPOCH": 5,
    "DATASET.TEMPLATE.SHIFT": 4,
    "DATASET.TEMPLATE.SCALE": 0.05,
    "DATASET.TEMPLATE.BLUR": 0.0,
    "DATASET.TEMPLATE.FLIP": 0.0,
    "DATASET.TEMPLATE.COLOR": 1.0,
    "DATASET.SEARCH.SHIFT": 64,
    "DATASET.SEARCH.SCALE": 0.18,
    "DATASET.SEARCH.BLUR": 0.0,
    "DATASET.SEARCH.FLIP": 0.0,
    "DATASET.SEARCH.COLOR": 1.0,
    "DATASET.NEG": 0.2,
    "DATASET.GRAY": 0.0,
    "DATASET.NAMES": ("VID", "COCO", "DET", "YOUTUBEBB"),
    "DATASET.VID.ROOT": "training_dataset/vid/crop511",
    "DATASET.VID.ANNO": "training_dataset/vid/train.json",
    "DATASET.VID.FRAME_RANGE": 100,
    "DATASET.VID.NUM_USE": 100000,
    "DATASET.YOUTUBEBB.ROOT": "training_dataset/yt_bb/crop511",
    "DATASET.YOUTUBEBB.ANNO": "training_dataset/yt_bb/train.json",
    "DATASET.YOUTUBEBB.FRAME_RANGE": 3,
    "DATASET.YOUTUBEBB.NUM_USE": -1,
    "DATASET.COCO.ROOT": "training_dataset/coco/crop511",
    "DATASET.COCO.ANNO": "training_dataset/coco/train2017.json",
    "DATASET.COCO.FRAME_RANGE": 1,
    "DATASET.COCO.NUM_USE": -1,
    "DATASET.DET.ROOT": "training_dataset/det/crop511",
    "DATASET.DET.ANNO": "training_dataset/det/train.json",
    "DATASET.DET.FRAME_RANGE": 1,
    "DATASET.DET.NUM_USE": -1,
    "DATASET.VIDEOS_PER_EPOCH": 600000,
    "BACKBONE.TYPE": "res50",
    "BACKBONE.PRETRAINED": "",
    "BACKBONE.TRAIN_LAYERS": ["layer2", "layer3", "layer4"],
    "BACKBONE.LAYERS_LR": 0.1,
    "BACKBONE.TRAIN_EPOCH": 10,
    "ADJUST.ADJUST": True,
    "ADJUST.TYPE": "AdjustAllLayer",
    "RPN.TYPE": "MultiRPN",
    "MASK.MASK": False,
    "MASK.TYPE": "MaskCorr",
    "REFINE.REFINE": False,
    "REFINE.TYPE": "Refine",
    "ANCHOR.STRIDE": 8,
    "ANCHOR.RATIOS": [0.33, 0.5, 1, 2, 3],
    "ANCHOR.SCALES": [8],
    "ANCHOR.ANCHOR_NUM": 5,
    "TRACK.TYPE": "SiamRPNTracker",
    "TRACK.PENALTY_K": 0.04,
    "TRACK.WINDOW_INFLUENCE": 0.44,
    "TRACK.LR": 0.4,
    "TRACK.EXEMPLAR_SIZE": 127,
    "TRACK.INSTANCE_SIZE": 255,
    "TRACK.BASE_SIZE": 8,
    "TRACK.CONTEXT_AMOUNT": 0.5,
    "TRACK.LOST_INSTANCE_SIZE": 831,
    "TRACK.CONFIDENCE_LOW": 0.85,
    "TRACK.CONFIDENCE_HIGH": 0.998,
    "TRACK.MASK_THERSHOLD": 0.3,
    "TRACK.MASK_OUTPUT_SIZE": 127,
}

# TA_SPEC.md, "At tracker init": step 4 (label alpha 0.2, sigma 0.1 * template size), step 6 (SGD:
# at most 300 iterations, stop below 1e-4; lr 1e-3 / 1e-3 / 4.92e-5, momentum 0.98 / 0.93 / 0.9 for
# layers 2 / 3 / 4; weight decay 1e-4), step 8 (keep 300 / 1024 / 1500 channels, at least 256 over
# layers 2 + 3); "What the project offers": TA.ENABLE off gives exactly SiamRPN++.
PAPER_TA = {
    "TA.ENABLE": False,
    "TA.CHANNELS": [300, 1024, 1500],
    "TA.MIN_CHANNELS": 256,
    "TA.LR": [1e-3, 1e-3, 4.92e-5],
    "TA.MOMENTUM": [0.98, 0.93, 0.9],
    "TA.WEIGHT_DECAY": 1e-4,
    "TA.MAX_ITERS": 300,
    "TA.LOSS_STOP": 1e-4,
    "TA.SIGMA_FACTOR": 0.1,
    "TA.ALPHA": 0.2,
}


def lookup(cfg, key):
    for part in key.split("."):
        cfg = cfg[part]
    return cfg


def same(got, want) -> bool:
    """Equal values of the same kind; sequences compare element-wise (yacs keeps lists or tuples)."""
    if isinstance(want, (list, tuple)):
        return (
            isinstance(got, (list, tuple))
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want))
        )
    return type(got) is type(want) and got == want


@pytest.mark.parametrize("key", sorted(PYSOT_DEFAULTS))
def test_defaults_are_pysots(key):
    assert same(lookup(get_cfg(), key), PYSOT_DEFAULTS[key]), key


@pytest.mark.parametrize("key", sorted(PAPER_TA))
def test_ta_defaults_are_the_papers(key):
    assert same(lookup(get_cfg(), key), PAPER_TA[key]), key


def test_selector_defaults_are_the_papers():
    """The selector's own argument defaults (used without a config) are the paper's values too."""
    sel = TargetAwareSelector()
    assert sel.channels == [300, 1024, 1500] and sel.min_channels == 256
    assert sel.lr == [1e-3, 1e-3, 4.92e-5] and sel.momentum == [0.98, 0.93, 0.9]
    assert (sel.weight_decay, sel.max_iters, sel.loss_stop) == (1e-4, 300, 1e-4)
    assert (sel.sigma_factor, sel.alpha) == (0.1, 0.2)


def test_from_config_passes_every_ta_value():
    """Non-default values in the TA node reach the selector (each a distinct literal)."""
    cfg = load_cfg(
        overrides=[
            "TA.CHANNELS",
            "[11, 22, 33]",
            "TA.MIN_CHANNELS",
            "7",
            "TA.LR",
            "[0.1, 0.2, 0.3]",
            "TA.MOMENTUM",
            "[0.4, 0.5, 0.6]",
            "TA.WEIGHT_DECAY",
            "0.07",
            "TA.MAX_ITERS",
            "17",
            "TA.LOSS_STOP",
            "0.03",
            "TA.SIGMA_FACTOR",
            "0.25",
            "TA.ALPHA",
            "0.35",
            "TA.SEED",
            "5",
        ]
    )
    sel = TargetAwareSelector.from_config(cfg.TA)
    assert sel.channels == [11, 22, 33] and sel.min_channels == 7
    assert sel.lr == [0.1, 0.2, 0.3] and sel.momentum == [0.4, 0.5, 0.6]
    assert (sel.weight_decay, sel.max_iters, sel.loss_stop) == (0.07, 17, 0.03)
    assert (sel.sigma_factor, sel.alpha, sel.seed) == (0.25, 0.35, 5)
