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
tensorboard is installed.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from yacs.config import CfgNode

from pysot.config import load_cfg
from pysot.data.dataset import TrkDataset
from pysot.models.model_builder import ModelBuilder
from pysot.models.target_aware import channel_counts
from pysot.utils import distributed as du
from pysot.utils.average_meter import AverageMeter
from pysot.utils.checkpoint import (
    extract_state_dict,
    load_checkpoint,
    load_pretrained_backbone,
    save_checkpoint,
)
from pysot.utils.lr_scheduler import LRScheduler, build_lr_scheduler

logger = logging.getLogger("tools.train")

LOSS_KEYS = ("total_loss", "cls_loss", "loc_loss")


def seed_everything(seed: int) -> None:
    """Seed Python and torch (weight initialisation); the data pipeline draws from its own
    per-sample generators, so NumPy's global state is not used."""
    random.seed(seed)
    torch.manual_seed(seed)


def set_backbone_trainable(model: ModelBuilder, cfg: CfgNode, epoch: int) -> None:
    """Freeze the backbone before ``BACKBONE.TRAIN_EPOCH``; from then on train ``BACKBONE.TRAIN_LAYERS``.

    Frozen layers also keep their BatchNorm statistics (eval mode), as in PySOT. The neck and the
    heads always train.
    """
    for p in model.backbone.parameters():
        p.requires_grad = False
    for m in model.backbone.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    if epoch < cfg.BACKBONE.TRAIN_EPOCH:
        return
    for name in cfg.BACKBONE.TRAIN_LAYERS:
        layer = getattr(model.backbone, name, None)
        if not isinstance(layer, nn.Module):
            raise KeyError(f"BACKBONE.TRAIN_LAYERS: the backbone has no module {name!r}")
        for p in layer.parameters():
            p.requires_grad = True
        layer.train()


def build_optimizer(model: ModelBuilder, cfg: CfgNode) -> torch.optim.SGD:
    """SGD over the trainable parameters: backbone at ``BACKBONE.LAYERS_LR * BASE_LR``, the rest at
    ``BASE_LR`` (the schedule then scales both)."""
    base_lr = cfg.TRAIN.BASE_LR
    groups = []
    backbone = [p for p in model.backbone.parameters() if p.requires_grad]
    if backbone:
        groups.append({"params": backbone, "lr": cfg.BACKBONE.LAYERS_LR * base_lr})
    for name, module in model.named_children():
        if name == "backbone":
            continue
        params = [p for p in module.parameters() if p.requires_grad]
        if params:
            groups.append({"params": params, "lr": base_lr})
    return torch.optim.SGD(
        groups, lr=base_lr, momentum=cfg.TRAIN.MOMENTUM, weight_decay=cfg.TRAIN.WEIGHT_DECAY
    )


class ChannelDrop:
    """Random channel masks on the backbone outputs while training ("TA-aware" training).

    At tracking time target-aware selection zeroes all but ``counts[l]`` channels of backbone layer
    ``l`` (``TA.CHANNELS``); a network that never saw such masks degrades when they appear. With
    probability ``prob`` per training pair this draws a random mask of the same sizes and applies it
    to the template's and the search image's features of that pair alike (a forward hook on the
    backbone, so the model code is unchanged). Masks are drawn from a generator seeded by
    ``(seed, epoch, iteration, rank)``: a resumed run draws the same masks.

    Args:
        backbone: module returning a list of maps (B x C_l x H x W).
        layer_channels: C_l per output.
        counts: channels kept per output when masked.
        prob: probability that a pair is masked.
        seed: base seed (``TRAIN.SEED``).
    """

    def __init__(
        self,
        backbone: nn.Module,
        layer_channels: Sequence[int],
        counts: Sequence[int],
        prob: float,
        seed: int,
    ) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"--ta-channel-drop must lie in [0, 1], got {prob}")
        self.layer_channels = [int(c) for c in layer_channels]
        self.counts = [int(k) for k in counts]
        self.prob = float(prob)
        self.seed = int(seed)
        self.masks: list[torch.Tensor] | None = None
        self.handle = backbone.register_forward_hook(self._hook)

    def draw(self, batch_size: int, epoch: int, iteration: int, rank: int = 0) -> None:
        """Masks for the next forward pass: a list of (B, C_l, 1, 1) float tensors of 0/1."""
        g = torch.Generator().manual_seed(hash((self.seed, epoch, iteration, rank)) % 2**63)
        dropped = torch.rand(batch_size, generator=g) < self.prob
        masks = []
        for c, k in zip(self.layer_channels, self.counts):
            mask = torch.ones(batch_size, c)
            if k < c:
                for b in torch.nonzero(dropped).flatten().tolist():
                    mask[b, torch.randperm(c, generator=g)[k:]] = 0.0
            masks.append(mask[:, :, None, None])
        self.masks = masks

    def _hook(self, module: nn.Module, inputs: Any, outputs: Any) -> Any:
        if self.masks is None:
            return outputs
        return [o * m.to(device=o.device, dtype=o.dtype) for o, m in zip(outputs, self.masks)]

    def remove(self) -> None:
        """Detach the hook."""
        self.handle.remove()


def _tensorboard(log_dir: str):
    """A SummaryWriter, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.info("tensorboard not installed: no TensorBoard scalars (pip install tensorboard)")
        return None
    return SummaryWriter(log_dir)


def run_environment() -> dict[str, str]:
    """Versions of what the run depends on (logged, for the record)."""
    import cv2

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "platform": platform.platform(),
    }


def _batch_to(batch: dict[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items() if isinstance(v, torch.Tensor)}


def train(
    cfg: CfgNode,
    resume: str | Path | None = None,
    data_dir: str | Path = ".",
    device: str = "auto",
    ta_channel_drop: float | None = None,
) -> dict[str, float]:
    """Train ``cfg``'s model on ``cfg``'s data; return the mean losses of the last epoch.

    Joins a torchrun process group when started by torchrun. ``resume``: a checkpoint written by
    this function (weights, optimizer, epoch). ``data_dir``: base of relative dataset paths.
    ``ta_channel_drop``: probability of a random ``TA.CHANNELS``-sized channel mask per pair
    (:class:`ChannelDrop`; needs ``TA.ENABLE``), 0 for PySOT's training; None takes
    ``cfg.TRAIN.TA_CHANNEL_DROP``.
    """
    if ta_channel_drop is None:
        ta_channel_drop = float(cfg.TRAIN.TA_CHANNEL_DROP)
    dev = du.process_device(device)
    rank, world_size = du.init_distributed(dev)
    try:
        return _train(cfg, resume, data_dir, dev, rank, world_size, ta_channel_drop)
    finally:
        du.cleanup()


def _train(
    cfg: CfgNode,
    resume: str | Path | None,
    data_dir: str | Path,
    dev: torch.device,
    rank: int,
    world_size: int,
    ta_channel_drop: float = 0.0,
) -> dict[str, float]:
    main = rank == 0
    seed_everything(int(cfg.TRAIN.SEED))
    snapshot_dir = Path(cfg.TRAIN.SNAPSHOT_DIR)
    if main:
        snapshot_dir.mkdir(parents=True, exist_ok=True)
        (snapshot_dir / "config.yaml").write_text(cfg.dump())
        logger.info("environment: %s", json.dumps(run_environment()))
        logger.info("world size %d, device %s, config:\n%s", world_size, dev, cfg.dump())

    model = ModelBuilder(cfg)
    if cfg.BACKBONE.PRETRAINED:
        load_pretrained_backbone(model.backbone, cfg.BACKBONE.PRETRAINED)
    if cfg.TRAIN.PRETRAINED:
        load_checkpoint(model, cfg.TRAIN.PRETRAINED, strict=False)
    model.to(dev)

    start_epoch = int(cfg.TRAIN.START_EPOCH)
    optimizer_state = None
    resume = resume or cfg.TRAIN.RESUME or None
    if resume:
        extra = load_checkpoint(model, resume, dev)
        if "epoch" not in extra:
            raise KeyError(f"{resume}: not a training checkpoint (no 'epoch' entry)")
        start_epoch = int(extra["epoch"])
        optimizer_state = extra.get("optimizer")
        logger.info("resumed from %s at epoch %d", resume, start_epoch)
    du.broadcast_parameters(model)
    channel_drop = None
    if ta_channel_drop > 0:
        if not cfg.TA.ENABLE:
            raise ValueError("--ta-channel-drop trains for target-aware selection: set TA.ENABLE")
        channels = model.feature_channels
        counts = channel_counts(list(cfg.TA.CHANNELS), channels, int(cfg.TA.MIN_CHANNELS))
        channel_drop = ChannelDrop(model.backbone, channels, counts, ta_channel_drop, int(cfg.TRAIN.SEED))
        logger.info(
            "TA-aware training: p=%.2f, masks keep %s of %s channels", ta_channel_drop, counts, channels
        )

    dataset = TrkDataset(cfg, data_dir)
    sampler = DistributedSampler(dataset, world_size, rank, shuffle=False) if world_size > 1 else None
    epochs = int(cfg.TRAIN.EPOCH)
    writer = _tensorboard(cfg.TRAIN.LOG_DIR) if main else None

    model.train()
    set_backbone_trainable(model, cfg, start_epoch)
    optimizer = build_optimizer(model, cfg)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    scheduler: LRScheduler = build_lr_scheduler(optimizer, cfg.TRAIN, epochs, last_epoch=start_epoch)

    meters = {k: AverageMeter() for k in LOSS_KEYS}
    step = start_epoch * math.ceil(len(dataset) / world_size / cfg.TRAIN.BATCH_SIZE)
    for epoch in range(start_epoch, epochs):
        if epoch == cfg.BACKBONE.TRAIN_EPOCH and epoch != start_epoch:
            logger.info("epoch %d: unfreezing backbone layers %s", epoch, list(cfg.BACKBONE.TRAIN_LAYERS))
            set_backbone_trainable(model, cfg, epoch)
            optimizer = build_optimizer(model, cfg)
            scheduler = build_lr_scheduler(optimizer, cfg.TRAIN, epochs, last_epoch=epoch)
        scheduler.step(epoch)
        dataset.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        loader = DataLoader(
            dataset,
            batch_size=cfg.TRAIN.BATCH_SIZE,
            sampler=sampler,
            shuffle=False,
            num_workers=cfg.TRAIN.NUM_WORKERS,
            pin_memory=dev.type == "cuda",
            drop_last=False,
        )
        for m in meters.values():
            m.reset()
        tic = time.time()
        for it, batch in enumerate(loader):
            if channel_drop is not None:
                channel_drop.draw(batch["template"].shape[0], epoch, it, rank)
            outputs = model(_batch_to(batch, dev))
            loss = outputs["total_loss"]
            if not torch.isfinite(loss):
                raise FloatingPointError(f"epoch {epoch} iteration {it}: non-finite loss {loss.item()}")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            du.average_gradients(p for g in optimizer.param_groups for p in g["params"])
            if cfg.TRAIN.GRAD_CLIP > 0:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.TRAIN.GRAD_CLIP)
            optimizer.step()
            step += 1
            n = batch["template"].shape[0]
            for k in LOSS_KEYS:
                meters[k].update(du.all_reduce_mean(outputs[k].item(), dev), n)
            if main and (it + 1) % cfg.TRAIN.PRINT_FREQ == 0:
                logger.info(
                    "epoch %d/%d iter %d/%d lr %.6f total %.4f cls %.4f loc %.4f (%.2f s/iter)",
                    epoch + 1,
                    epochs,
                    it + 1,
                    len(loader),
                    scheduler.get_cur_lr(),
                    meters["total_loss"].avg,
                    meters["cls_loss"].avg,
                    meters["loc_loss"].avg,
                    (time.time() - tic) / (it + 1),
                )
            if writer is not None:
                for k in LOSS_KEYS:
                    writer.add_scalar(f"train/{k}", outputs[k].item(), step)
                writer.add_scalar("train/lr", scheduler.get_cur_lr(), step)
        if main:
            path = save_checkpoint(
                snapshot_dir / f"checkpoint_e{epoch + 1}.pth",
                model,
                cfg,
                epoch=epoch + 1,
                ta_channel_drop=float(ta_channel_drop),
                optimizer=optimizer.state_dict(),
                losses={k: m.avg for k, m in meters.items()},
            )
            logger.info(
                "epoch %d done in %.0f s: total %.4f cls %.4f loc %.4f; saved %s",
                epoch + 1,
                time.time() - tic,
                meters["total_loss"].avg,
                meters["cls_loss"].avg,
                meters["loc_loss"].avg,
                path,
            )
        du.barrier()
    if writer is not None:
        writer.close()
    if channel_drop is not None:
        channel_drop.remove()
    return {k: m.avg for k, m in meters.items()}


def export_weights(checkpoint: str | Path, out: str | Path) -> Path:
    """Copy a training checkpoint without its optimizer state (the file tools/test.py loads)."""
    state = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    model_state, extra = extract_state_dict(state, source=str(checkpoint))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"state_dict": model_state, **{k: v for k, v in extra.items() if k != "optimizer"}}
    tmp = out.with_name(f".{out.name}.tmp")
    torch.save(payload, str(tmp))
    tmp.replace(out)
    logger.info("exported %s -> %s (%.1f MB)", checkpoint, out, out.stat().st_size / 1e6)
    return out


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 2)[2],
    )
    parser.add_argument("--config", required=True, help="experiment config.yaml")
    parser.add_argument("--resume", default="", help="training checkpoint to continue from")
    parser.add_argument("--data-dir", default=".", help="base of relative DATASET.*.ROOT/ANNO paths")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:K (default: auto)")
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
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, help="config overrides: KEY VALUE ...")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
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
