"""Train a Siamese tracker (SiamRPN++ family) from a PySOT-style experiment config.

Examples:
  # the embedded default, from scratch on synthetic pairs (CPU, no downloads)
  python tools/train.py --config experiments/ta_siamrpn_tiny_synth/config.yaml \\
      --export experiments/ta_siamrpn_tiny_synth/model.pth
  # continue an interrupted run from its last checkpoint
  python tools/train.py --config experiments/ta_siamrpn_tiny_synth/config.yaml \\
      --resume snapshot/ta_siamrpn_tiny_synth/checkpoint_e7.pth
  # PySOT's data (crop511 + JSON) on 8 GPUs; config overrides as trailing KEY VALUE pairs
  torchrun --nproc_per_node 8 tools/train.py --config experiments/siamrpn_r50_l234_dwxcorr/config.yaml \\
      --data-dir /data/pysot TRAIN.BATCH_SIZE 28
  # two CPU processes (gloo)
  torchrun --nproc_per_node 2 tools/train.py --config ... --device cpu

One checkpoint per epoch, ``TRAIN.SNAPSHOT_DIR/checkpoint_e<N>.pth`` (N = epochs done), holding the
weights, the merged config, the optimizer state and the epoch; ``--resume`` continues from one.
``TRAIN.BATCH_SIZE`` is per process (PySOT). TensorBoard scalars go to ``TRAIN.LOG_DIR`` when
tensorboard is installed. The training itself is library code: ``pysot.train``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pysot.config import load_cfg
from pysot.train import export_weights, train
from pysot.utils import distributed as du
from pysot.utils.cli import add_experiment_args, set_threads, setup_logging, tool_parser

logger = logging.getLogger("tools.train")


def build_parser() -> argparse.ArgumentParser:
    parser = tool_parser(__doc__)
    add_experiment_args(parser, snapshot=False, device="auto", threads=0)
    parser.add_argument("--resume", default="", help="training checkpoint to continue from")
    parser.add_argument("--data-dir", default=".", help="base of relative DATASET.*.ROOT/ANNO paths")
    parser.add_argument(
        "--export", default="", help="after training, write the final weights (no optimizer state) here"
    )
    parser.add_argument(
        "--ta-channel-drop",
        type=float,
        default=None,
        help="probability of a random TA.CHANNELS-sized channel mask per training pair "
        "(default: TRAIN.TA_CHANNEL_DROP of the config)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    set_threads(args.threads)
    cfg = load_cfg(args.config, args.opts)
    logger.info("arguments: %s", vars(args))
    losses = train(
        cfg,
        resume=args.resume or None,
        data_dir=args.data_dir,
        device=args.device,
        ta_channel_drop=args.ta_channel_drop,
    )
    logger.info("final epoch losses: %s", json.dumps(losses))
    if args.export and du.env_rank() == 0:
        export_weights(Path(cfg.TRAIN.SNAPSHOT_DIR) / f"checkpoint_e{cfg.TRAIN.EPOCH}.pth", args.export)
    return 0


if __name__ == "__main__":
    sys.exit(main())
