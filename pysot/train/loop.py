"""The training loop: one process of a (possibly torchrun-started) data-parallel SiamRPN++ run.

One checkpoint per epoch, ``TRAIN.SNAPSHOT_DIR/checkpoint_e<N>.pth`` (N = epochs done), holding the
weights, the merged config, the optimizer state and the epoch; :func:`train` with ``resume``
continues from one. ``TRAIN.BATCH_SIZE`` is per process (PySOT). TensorBoard scalars go to
``TRAIN.LOG_DIR`` when tensorboard is installed.
"""

from __future__ import annotations

import logging
import math
import random
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from yacs.config import CfgNode

from pysot.data.dataset import TrkDataset
from pysot.models.model_builder import ModelBuilder
from pysot.train.channel_drop import build_channel_drop
from pysot.train.optim import build_optimizer, set_backbone_trainable
from pysot.utils import distributed as du
from pysot.utils.average_meter import AverageMeter
from pysot.utils.checkpoint import load_checkpoint, load_pretrained_backbone, save_checkpoint
from pysot.utils.environment import log_run_environment
from pysot.utils.lr_scheduler import LRScheduler, build_lr_scheduler
from toolkit.fileio import atomic_write_text

logger = logging.getLogger(__name__)

LOSS_KEYS = ("total_loss", "cls_loss", "loc_loss")


def seed_everything(seed: int) -> None:
    """Seed Python and torch (weight initialisation); the data pipeline draws from its own
    per-sample generators, so NumPy's global state is not used."""
    random.seed(seed)
    torch.manual_seed(seed)


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
    (:class:`~pysot.train.channel_drop.ChannelDrop`; needs ``TA.ENABLE``), 0 for PySOT's training;
    None takes ``cfg.TRAIN.TA_CHANNEL_DROP``.
    """
    if ta_channel_drop is None:
        ta_channel_drop = float(cfg.TRAIN.TA_CHANNEL_DROP)
    dev = du.process_device(device)
    rank, world_size = du.init_distributed(dev)
    try:
        trainer = Trainer(cfg, dev, rank, world_size, resume, data_dir, ta_channel_drop)
        return trainer.run()
    finally:
        du.cleanup()


def build_training_model(cfg: CfgNode, device: torch.device) -> ModelBuilder:
    """``ModelBuilder(cfg)`` with ``BACKBONE.PRETRAINED`` / ``TRAIN.PRETRAINED`` weights, on ``device``."""
    model = ModelBuilder(cfg)
    if cfg.BACKBONE.PRETRAINED:
        load_pretrained_backbone(model.backbone, cfg.BACKBONE.PRETRAINED)
    if cfg.TRAIN.PRETRAINED:
        load_checkpoint(model, cfg.TRAIN.PRETRAINED, strict=False)
    return model.to(device)


def resume_training(model: nn.Module, checkpoint: str | Path, device: torch.device) -> tuple[int, Any]:
    """Load a training checkpoint into ``model``; return ``(epochs done, optimizer state or None)``."""
    extra = load_checkpoint(model, checkpoint, device)
    if "epoch" not in extra:
        raise KeyError(f"{checkpoint}: not a training checkpoint (no 'epoch' entry)")
    logger.info("resumed from %s at epoch %d", checkpoint, int(extra["epoch"]))
    return int(extra["epoch"]), extra.get("optimizer")


def _tensorboard(log_dir: str):
    """A SummaryWriter, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.info("tensorboard not installed: no TensorBoard scalars (pip install tensorboard)")
        return None
    return SummaryWriter(log_dir)


def _batch_to(batch: dict[str, Any], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items() if isinstance(v, torch.Tensor)}


class Trainer:
    """One process's share of a training run; :meth:`run` trains from the start (or resumed) epoch
    to ``TRAIN.EPOCH``. Built by :func:`train`, which owns the process group."""

    def __init__(
        self,
        cfg: CfgNode,
        device: torch.device,
        rank: int,
        world_size: int,
        resume: str | Path | None,
        data_dir: str | Path,
        ta_channel_drop: float = 0.0,
    ) -> None:
        self.cfg, self.device, self.rank, self.world_size = cfg, device, rank, world_size
        self.main = rank == 0
        self.ta_channel_drop = ta_channel_drop
        self.epochs = int(cfg.TRAIN.EPOCH)
        seed_everything(int(cfg.TRAIN.SEED))
        self.snapshot_dir = Path(cfg.TRAIN.SNAPSHOT_DIR)
        if self.main:
            self._start_record()

        self.model = build_training_model(cfg, device)
        self.start_epoch, optimizer_state = int(cfg.TRAIN.START_EPOCH), None
        resume = resume or cfg.TRAIN.RESUME or None
        if resume:
            self.start_epoch, optimizer_state = resume_training(self.model, resume, device)
        du.broadcast_parameters(self.model)
        self.channel_drop = build_channel_drop(self.model, cfg, ta_channel_drop)

        self.dataset = TrkDataset(cfg, data_dir)
        self.sampler = (
            DistributedSampler(self.dataset, world_size, rank, shuffle=False) if world_size > 1 else None
        )
        self.writer = _tensorboard(cfg.TRAIN.LOG_DIR) if self.main else None

        self.model.train()
        set_backbone_trainable(self.model, cfg, self.start_epoch)
        self.optimizer = build_optimizer(self.model, cfg)
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.scheduler: LRScheduler = build_lr_scheduler(
            self.optimizer, cfg.TRAIN, self.epochs, last_epoch=self.start_epoch
        )
        self.meters = {k: AverageMeter() for k in LOSS_KEYS}
        iters_per_epoch = math.ceil(len(self.dataset) / world_size / cfg.TRAIN.BATCH_SIZE)
        self.step = self.start_epoch * iters_per_epoch

    def _start_record(self) -> None:
        """Rank 0: the snapshot folder with the merged config, and the run's environment logged."""
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.snapshot_dir / "config.yaml", self.cfg.dump())
        log_run_environment(logger)
        logger.info("world size %d, device %s, config:\n%s", self.world_size, self.device, self.cfg.dump())

    def run(self) -> dict[str, float]:
        """Train the remaining epochs; return the mean losses of the last one."""
        try:
            for epoch in range(self.start_epoch, self.epochs):
                self.train_epoch(epoch)
                du.barrier()
        finally:
            if self.writer is not None:
                self.writer.close()
            if self.channel_drop is not None:
                self.channel_drop.remove()
        return self.losses()

    def losses(self) -> dict[str, float]:
        """Mean losses of the current (or last) epoch."""
        return {k: m.avg for k, m in self.meters.items()}

    def _unfreeze_backbone(self, epoch: int) -> None:
        """At ``BACKBONE.TRAIN_EPOCH``: train the backbone layers; a new optimizer and schedule."""
        cfg = self.cfg
        logger.info("epoch %d: unfreezing backbone layers %s", epoch, list(cfg.BACKBONE.TRAIN_LAYERS))
        set_backbone_trainable(self.model, cfg, epoch)
        self.optimizer = build_optimizer(self.model, cfg)
        self.scheduler = build_lr_scheduler(self.optimizer, cfg.TRAIN, self.epochs, last_epoch=epoch)

    def _loader(self) -> DataLoader:
        cfg = self.cfg
        return DataLoader(
            self.dataset,
            batch_size=cfg.TRAIN.BATCH_SIZE,
            sampler=self.sampler,
            shuffle=False,
            num_workers=cfg.TRAIN.NUM_WORKERS,
            pin_memory=self.device.type == "cuda",
            drop_last=False,
        )

    def train_epoch(self, epoch: int) -> None:
        """One epoch over the dataset, then (rank 0) its checkpoint."""
        if epoch == self.cfg.BACKBONE.TRAIN_EPOCH and epoch != self.start_epoch:
            self._unfreeze_backbone(epoch)
        self.scheduler.step(epoch)
        self.dataset.set_epoch(epoch)
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
        loader = self._loader()
        for m in self.meters.values():
            m.reset()
        tic = time.time()
        for it, batch in enumerate(loader):
            outputs = self.train_step(batch, epoch, it)
            if self.main and (it + 1) % self.cfg.TRAIN.PRINT_FREQ == 0:
                self._log_progress(epoch, it, len(loader), time.time() - tic)
            if self.writer is not None:
                for k in LOSS_KEYS:
                    self.writer.add_scalar(f"train/{k}", outputs[k].item(), self.step)
                self.writer.add_scalar("train/lr", self.scheduler.get_cur_lr(), self.step)
        if self.main:
            self._save_epoch(epoch, time.time() - tic)

    def train_step(self, batch: dict[str, Any], epoch: int, it: int) -> dict[str, torch.Tensor]:
        """Forward, backward, gradient all-reduce and clipping, one SGD step; updates the meters."""
        n = batch["template"].shape[0]
        if self.channel_drop is not None:
            self.channel_drop.draw(n, epoch, it, self.rank)
        outputs = self.model(_batch_to(batch, self.device))
        loss = outputs["total_loss"]
        if not torch.isfinite(loss):
            raise FloatingPointError(f"epoch {epoch} iteration {it}: non-finite loss {loss.item()}")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        du.average_gradients(p for g in self.optimizer.param_groups for p in g["params"])
        if self.cfg.TRAIN.GRAD_CLIP > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.TRAIN.GRAD_CLIP)
        self.optimizer.step()
        self.step += 1
        for k in LOSS_KEYS:
            self.meters[k].update(du.all_reduce_mean(outputs[k].item(), self.device), n)
        return outputs

    def _log_progress(self, epoch: int, it: int, iterations: int, seconds: float) -> None:
        logger.info(
            "epoch %d/%d iter %d/%d lr %.6f total %.4f cls %.4f loc %.4f (%.2f s/iter)",
            epoch + 1,
            self.epochs,
            it + 1,
            iterations,
            self.scheduler.get_cur_lr(),
            self.meters["total_loss"].avg,
            self.meters["cls_loss"].avg,
            self.meters["loc_loss"].avg,
            seconds / (it + 1),
        )

    def _save_epoch(self, epoch: int, seconds: float) -> Path:
        path = save_checkpoint(
            self.snapshot_dir / f"checkpoint_e{epoch + 1}.pth",
            self.model,
            self.cfg,
            epoch=epoch + 1,
            ta_channel_drop=float(self.ta_channel_drop),
            optimizer=self.optimizer.state_dict(),
            losses=self.losses(),
        )
        losses = self.losses()
        logger.info(
            "epoch %d done in %.0f s: total %.4f cls %.4f loc %.4f; saved %s",
            epoch + 1,
            seconds,
            losses["total_loss"],
            losses["cls_loss"],
            losses["loc_loss"],
            path,
        )
        return path
