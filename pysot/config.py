"""Configuration defaults (yacs), PySOT-compatible, plus the target-aware ``TA`` node.

Every key that PySOT's ``pysot/core/config.py`` defines is here with PySOT's default, so PySOT's own
``experiments/*/config.yaml`` files merge unchanged. There is no module-global config: call
:func:`get_cfg` for a fresh copy, merge a file and ``KEY VALUE`` overrides, then freeze
(:func:`load_cfg` does all three).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import yaml
from yacs.config import CfgNode as CN

logger = logging.getLogger(__name__)

_C = CN()

_C.META_ARC = "siamrpn_r50_l234_dwxcorr"

# ------------------------------------------------------------------------ training
_C.TRAIN = CN()
_C.TRAIN.THR_HIGH = 0.6
_C.TRAIN.THR_LOW = 0.3
_C.TRAIN.NEG_NUM = 16
_C.TRAIN.POS_NUM = 16
_C.TRAIN.TOTAL_NUM = 64
_C.TRAIN.EXEMPLAR_SIZE = 127
_C.TRAIN.SEARCH_SIZE = 255
_C.TRAIN.BASE_SIZE = 8
_C.TRAIN.OUTPUT_SIZE = 25
_C.TRAIN.RESUME = ""
_C.TRAIN.PRETRAINED = ""
_C.TRAIN.LOG_DIR = "./logs"
_C.TRAIN.SNAPSHOT_DIR = "./snapshot"
_C.TRAIN.EPOCH = 20
_C.TRAIN.START_EPOCH = 0
_C.TRAIN.BATCH_SIZE = 32
_C.TRAIN.NUM_WORKERS = 1
_C.TRAIN.MOMENTUM = 0.9
_C.TRAIN.WEIGHT_DECAY = 0.0001
_C.TRAIN.CLS_WEIGHT = 1.0
_C.TRAIN.LOC_WEIGHT = 1.2
_C.TRAIN.MASK_WEIGHT = 1
_C.TRAIN.PRINT_FREQ = 20
_C.TRAIN.GRAD_CLIP = 10.0
_C.TRAIN.BASE_LR = 0.005
# Seed of the training run (data sampling, augmentation, initialisation).
_C.TRAIN.SEED = 123456
# TA-aware training: probability that a training pair gets random channel masks of the
# TA.CHANNELS sizes on its backbone outputs (template and search alike); 0 is PySOT's training.
_C.TRAIN.TA_CHANNEL_DROP = 0.0
_C.TRAIN.LR = CN()
_C.TRAIN.LR.TYPE = "log"
_C.TRAIN.LR.KWARGS = CN(new_allowed=True)
_C.TRAIN.LR_WARMUP = CN()
_C.TRAIN.LR_WARMUP.WARMUP = True
_C.TRAIN.LR_WARMUP.TYPE = "step"
_C.TRAIN.LR_WARMUP.EPOCH = 5
_C.TRAIN.LR_WARMUP.KWARGS = CN(new_allowed=True)

# ------------------------------------------------------------------------ training data
_C.DATASET = CN(new_allowed=True)
_C.DATASET.TEMPLATE = CN()
_C.DATASET.TEMPLATE.SHIFT = 4
_C.DATASET.TEMPLATE.SCALE = 0.05
_C.DATASET.TEMPLATE.BLUR = 0.0
_C.DATASET.TEMPLATE.FLIP = 0.0
_C.DATASET.TEMPLATE.COLOR = 1.0
_C.DATASET.SEARCH = CN()
_C.DATASET.SEARCH.SHIFT = 64
_C.DATASET.SEARCH.SCALE = 0.18
_C.DATASET.SEARCH.BLUR = 0.0
_C.DATASET.SEARCH.FLIP = 0.0
_C.DATASET.SEARCH.COLOR = 1.0
_C.DATASET.NEG = 0.2
_C.DATASET.GRAY = 0.0
_C.DATASET.NAMES = ("VID", "COCO", "DET", "YOUTUBEBB")
_C.DATASET.VID = CN()
_C.DATASET.VID.ROOT = "training_dataset/vid/crop511"
_C.DATASET.VID.ANNO = "training_dataset/vid/train.json"
_C.DATASET.VID.FRAME_RANGE = 100
_C.DATASET.VID.NUM_USE = 100000
_C.DATASET.YOUTUBEBB = CN()
_C.DATASET.YOUTUBEBB.ROOT = "training_dataset/yt_bb/crop511"
_C.DATASET.YOUTUBEBB.ANNO = "training_dataset/yt_bb/train.json"
_C.DATASET.YOUTUBEBB.FRAME_RANGE = 3
_C.DATASET.YOUTUBEBB.NUM_USE = -1
_C.DATASET.COCO = CN()
_C.DATASET.COCO.ROOT = "training_dataset/coco/crop511"
_C.DATASET.COCO.ANNO = "training_dataset/coco/train2017.json"
_C.DATASET.COCO.FRAME_RANGE = 1
_C.DATASET.COCO.NUM_USE = -1
_C.DATASET.DET = CN()
_C.DATASET.DET.ROOT = "training_dataset/det/crop511"
_C.DATASET.DET.ANNO = "training_dataset/det/train.json"
_C.DATASET.DET.FRAME_RANGE = 1
_C.DATASET.DET.NUM_USE = -1
_C.DATASET.VIDEOS_PER_EPOCH = 600000

# ------------------------------------------------------------------------ backbone
_C.BACKBONE = CN()
_C.BACKBONE.TYPE = "res50"
_C.BACKBONE.KWARGS = CN(new_allowed=True)
_C.BACKBONE.PRETRAINED = ""
_C.BACKBONE.TRAIN_LAYERS = ["layer2", "layer3", "layer4"]
_C.BACKBONE.LAYERS_LR = 0.1
_C.BACKBONE.TRAIN_EPOCH = 10

# ------------------------------------------------------------------------ neck
_C.ADJUST = CN()
_C.ADJUST.ADJUST = True
_C.ADJUST.KWARGS = CN(new_allowed=True)
_C.ADJUST.TYPE = "AdjustAllLayer"

# ------------------------------------------------------------------------ RPN head
_C.RPN = CN()
_C.RPN.TYPE = "MultiRPN"
_C.RPN.KWARGS = CN(new_allowed=True)

# ------------------------------------------------------------------------ SiamMask heads
_C.MASK = CN()
_C.MASK.MASK = False
_C.MASK.TYPE = "MaskCorr"
_C.MASK.KWARGS = CN(new_allowed=True)
_C.REFINE = CN()
_C.REFINE.REFINE = False
_C.REFINE.TYPE = "Refine"

# ------------------------------------------------------------------------ anchors
_C.ANCHOR = CN()
_C.ANCHOR.STRIDE = 8
_C.ANCHOR.RATIOS = [0.33, 0.5, 1, 2, 3]
_C.ANCHOR.SCALES = [8]
# Derived: len(RATIOS) * len(SCALES). Kept as a key only because PySOT's yaml files set it;
# load_cfg() checks that a given value agrees and fills it in otherwise.
_C.ANCHOR.ANCHOR_NUM = 5

# ------------------------------------------------------------------------ tracker
_C.TRACK = CN()
_C.TRACK.TYPE = "SiamRPNTracker"
_C.TRACK.PENALTY_K = 0.04
_C.TRACK.WINDOW_INFLUENCE = 0.44
_C.TRACK.LR = 0.4
_C.TRACK.EXEMPLAR_SIZE = 127
_C.TRACK.INSTANCE_SIZE = 255
_C.TRACK.BASE_SIZE = 8
_C.TRACK.CONTEXT_AMOUNT = 0.5
_C.TRACK.LOST_INSTANCE_SIZE = 831
_C.TRACK.CONFIDENCE_LOW = 0.85
_C.TRACK.CONFIDENCE_HIGH = 0.998
_C.TRACK.MASK_THERSHOLD = 0.30
_C.TRACK.MASK_OUTPUT_SIZE = 127
# Arithmetic of backbone, neck and heads: fp32 | bf16 (CPUs with AVX512-BF16/AMX, CUDA) | fp16 (CUDA)
# | auto (fastest the device supports, logged); an unsupported mode is an error (docs/tracker.md).
_C.TRACK.PRECISION = "fp32"
# Track with a copy of the model whose BatchNorms are folded into the convolutions, its backbone in
# oneDNN's blocked layout on a CPU (ResNet-50 7 % faster on an AVX2 CPU; float32 boxes differ from
# PySOT's by rounding, docs/tracker.md). False: PySOT's computation exactly.
_C.TRACK.FUSE_BN = False

# ------------------------------------------------------------------------ benchmark runs (tools/test.py)
_C.TEST = CN()
# Overlap convention of the reset-based VOT protocol's run-time failure rule: "pysot" (PySOT's
# tools/test.py, default) or "vot" (the official vot-toolkit 0.7.4's supervised experiment). Set by
# `tools/test.py --convention`; saved with the results, so tools/eval.py warns when a folder is scored
# under the other convention (docs/vot_conventions.md).
_C.TEST.VOT_CONVENTION = "pysot"

# ------------------------------------------------------------------------ target-aware selection
# Ta-SiamRPN++ (Chen et al., Acta Optica Sinica 2020); see pysot/models/target_aware.py.
# Per-layer lists follow the order of the backbone's used layers (layer2, layer3, layer4).
_C.TA = CN()
# Switch the channel selection on; False is exactly SiamRPN++.
_C.TA.ENABLE = False
# Importance method: 'dual' (the paper's SGD fit run in the dual space: same selection, ~100x faster;
# docs/target_aware.md), 'sgd' (the paper's fit, literally), 'gradient' (TADT-style first step).
_C.TA.METHOD = "dual"
# Channels kept per layer: ints are counts, floats in (0, 1] are fractions of the layer's channels.
_C.TA.CHANNELS = [300, 1024, 1500]
# Minimum number of selected channels summed over the first two layers (paper: 256).
_C.TA.MIN_CHANNELS = 256
# SGD learning rate per layer (paper's values).
_C.TA.LR = [1e-3, 1e-3, 4.92e-5]
# SGD momentum per layer (paper's values).
_C.TA.MOMENTUM = [0.98, 0.93, 0.9]
# SGD weight decay (all layers).
_C.TA.WEIGHT_DECAY = 1e-4
# Maximum SGD iterations per fit.
_C.TA.MAX_ITERS = 300
# Stop the fit as soon as the loss falls below this value.
_C.TA.LOSS_STOP = 1e-4
# Gaussian label width as a fraction of the template feature size (sigma = factor * (h, w)).
_C.TA.SIGMA_FACTOR = 0.1
# Gaussian label sharpness: y = exp(-ALPHA * (di^2/sigma_h^2 + dj^2/sigma_w^2)).
_C.TA.ALPHA = 0.2
# After a diverged fit, refit with lr = min(LR, FALLBACK_STEP * 2(1 + MOMENTUM) / largest curvature).
_C.TA.FALLBACK_STEP = 0.5
# Seed of the local generator drawing the regression's initial weights (the global RNG is untouched).
_C.TA.SEED = 0

# Keys that appear in some PySOT yaml files but were never defined by PySOT's config (its
# siamrpn_r50_l234_dwxcorr_lt yaml fails to load in PySOT itself), and PySOT keys that nothing here
# reads: CUDA (the device is each tool's --device, CUDA when present) and TRAIN.LOG_GRADS (no
# gradient histograms). They are accepted and ignored with a warning, so those files, and
# checkpoints whose saved config carries them, load unchanged.
for _key in ("BACKBONE.CHANNELS", "ADJUST.ADJUST_CHANNEL", "RPN.WEIGHTED", "CUDA", "TRAIN.LOG_GRADS"):
    _C.register_deprecated_key(_key)


def get_cfg() -> CN:
    """Return a fresh, mutable copy of the defaults."""
    return _C.clone()


def finalize_cfg(cfg: CN) -> CN:
    """Fill in and check derived values (anchor count), then freeze ``cfg`` in place."""
    anchor_num = len(cfg.ANCHOR.RATIOS) * len(cfg.ANCHOR.SCALES)
    if cfg.ANCHOR.ANCHOR_NUM != anchor_num:
        if cfg.ANCHOR.ANCHOR_NUM != _C.ANCHOR.ANCHOR_NUM:
            raise ValueError(
                f"ANCHOR.ANCHOR_NUM={cfg.ANCHOR.ANCHOR_NUM} disagrees with len(ANCHOR.RATIOS) * "
                f"len(ANCHOR.SCALES) = {anchor_num}; drop the key, it is derived"
            )
        cfg.ANCHOR.ANCHOR_NUM = anchor_num
    if cfg.TEST.VOT_CONVENTION not in ("pysot", "vot"):
        raise ValueError(f"TEST.VOT_CONVENTION={cfg.TEST.VOT_CONVENTION!r} is not known; known: pysot, vot")
    cfg.freeze()
    return cfg


def load_cfg(path: str | Path | None = None, overrides: Sequence[str] = ()) -> CN:
    """Defaults, then the yaml file at ``path``, then ``KEY VALUE`` overrides; frozen.

    Unknown keys raise ``KeyError`` naming the key and the file.
    """
    cfg = get_cfg()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        try:
            cfg.merge_from_file(str(path))
        except KeyError as err:
            raise KeyError(f"{path}: {err.args[0] if err.args else err}") from None
        except yaml.YAMLError as err:  # yacs parses the text: yaml names "<unicode string>", not the file
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise ValueError(f"{path}: not valid YAML{where}: {problem}") from None
        except UnicodeDecodeError as err:
            raise ValueError(f"{path}: not a UTF-8 text file ({err.reason} at byte {err.start})") from None
    merge_overrides(cfg, overrides)
    return finalize_cfg(cfg)


def merge_overrides(cfg: CN, overrides: Sequence[str]) -> CN:
    """Merge ``KEY VALUE`` pairs (values parsed as Python literals, else strings) into ``cfg``.

    Keys must exist, except inside the free-form ``KWARGS`` nodes, where new keys are added (the
    model builder checks them against the constructor). Unknown keys raise ``KeyError`` naming them.
    """
    overrides = list(overrides)
    if len(overrides) % 2:
        raise ValueError(f"config overrides must be KEY VALUE pairs, got {overrides}")
    for key, value in zip(overrides[0::2], overrides[1::2]):
        parent_path, _, leaf = str(key).rpartition(".")
        node = cfg
        for part in parent_path.split(".") if parent_path else []:
            node = node.get(part) if isinstance(node, CN) else None
        if not isinstance(node, CN):
            raise KeyError(f"command-line override: Non-existent key: {key}")
        if leaf not in node and node.is_new_allowed():
            node[leaf] = CN._decode_cfg_value(value)
            continue
        try:
            cfg.merge_from_list([key, value])
        except (KeyError, AssertionError) as err:
            raise KeyError(f"command-line override: {err.args[0] if err.args else err}") from None
    return cfg
