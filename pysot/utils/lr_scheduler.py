"""Per-epoch learning-rate schedules of PySOT (``log``, ``step``, ``multi-step``, ``linear``, ``cos``)
with an optional warm-up schedule in front.

A schedule is a table ``lr_spaces`` of one learning rate per epoch. Every parameter group keeps its
own ratio to the schedule: at epoch ``e`` a group whose ``initial_lr`` is ``g`` gets
``lr_spaces[e] * g / start_lr`` (PySOT's rule, so a backbone group created with
``BACKBONE.LAYERS_LR * BASE_LR`` stays at that fraction of the head's rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from yacs.config import CfgNode


def log_lrs(epochs: int, start_lr: float = 0.03, end_lr: float = 5e-4) -> np.ndarray:
    """Log-spaced from ``start_lr`` to ``end_lr`` (both included), ``epochs`` values."""
    return np.logspace(math.log10(start_lr), math.log10(end_lr), epochs)


def step_lrs(
    epochs: int, start_lr: float | None = 0.01, end_lr: float | None = None, step: int = 10, mult: float = 0.1
) -> np.ndarray:
    """Multiply by ``mult`` every ``step`` epochs.

    With ``end_lr`` given, ``mult`` is derived so that the last step reaches ``end_lr`` (PySOT's
    warm-up form); with ``start_lr`` None it is derived from ``end_lr`` and ``mult``.
    """
    if end_lr is not None:
        if start_lr is None:
            start_lr = end_lr / (mult ** (epochs // step))
        else:
            mult = math.pow(end_lr / start_lr, 1.0 / (epochs // step))
    return start_lr * (mult ** (np.arange(epochs) // step))


def multi_step_lrs(
    epochs: int,
    start_lr: float | None = 0.01,
    end_lr: float | None = None,
    steps: Sequence[int] = (10, 20, 30, 40),
    mult: float = 0.5,
) -> np.ndarray:
    """Multiply by ``mult`` at each epoch listed in ``steps``; ``end_lr`` derives ``mult`` as in
    :func:`step_lrs`. float32, as PySOT."""
    if end_lr is not None:
        if start_lr is None:
            start_lr = end_lr / (mult ** len(steps))
        else:
            mult = math.pow(end_lr / start_lr, 1.0 / len(steps))
    lrs = np.empty(epochs, dtype=np.float64)
    lrs[0] = start_lr
    for i in range(1, epochs):
        lrs[i] = lrs[i - 1] * (mult if i in steps else 1.0)
    return lrs.astype(np.float32)


def linear_lrs(epochs: int, start_lr: float = 0.01, end_lr: float = 0.005) -> np.ndarray:
    """Linear from ``start_lr`` to ``end_lr`` (both included)."""
    return np.linspace(start_lr, end_lr, epochs)


def cos_lrs(epochs: int, start_lr: float = 0.01, end_lr: float = 0.005) -> np.ndarray:
    """Half cosine from ``start_lr`` (epoch 0) towards ``end_lr`` (never reached: the last value is
    one step short, as PySOT). float32."""
    index = np.arange(epochs).astype(np.float32)
    lrs = end_lr + (start_lr - end_lr) * (1.0 + np.cos(index * np.pi / epochs)) * 0.5
    return lrs.astype(np.float32)


SCHEDULES: dict[str, Callable[..., np.ndarray]] = {
    "log": log_lrs,
    "step": step_lrs,
    "multi-step": multi_step_lrs,
    "linear": linear_lrs,
    "cos": cos_lrs,
}


def schedule_lrs(lr_type: str, epochs: int, **kwargs) -> np.ndarray:
    """The ``lr_spaces`` table of schedule ``lr_type`` over ``epochs`` epochs.

    Unknown keyword arguments raise ``TypeError`` naming them (PySOT silently ignored them).
    """
    if lr_type not in SCHEDULES:
        raise KeyError(f"unknown learning-rate schedule {lr_type!r}; known: {sorted(SCHEDULES)}")
    kwargs = {k.lower(): v for k, v in kwargs.items()}
    try:
        return np.asarray(SCHEDULES[lr_type](epochs, **kwargs), dtype=np.float64)
    except TypeError as err:
        raise TypeError(f"TRAIN.LR KWARGS for schedule {lr_type!r}: {err}") from None


class LRScheduler:
    """Sets each parameter group's ``lr`` to ``lr_spaces[epoch] * initial_lr / start_lr``.

    Args:
        optimizer: its groups get ``initial_lr`` (their current ``lr``) unless they already have it.
        lr_spaces: one learning rate per epoch.
        start_lr: the rate that the groups' ``initial_lr`` refers to (PySOT: the first value of the
            main schedule, after any warm-up).
        last_epoch: epoch to apply now; -1 applies epoch 0.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        lr_spaces: np.ndarray,
        start_lr: float | None = None,
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        self.lr_spaces = np.asarray(lr_spaces, dtype=np.float64)
        if self.lr_spaces.size == 0:
            raise ValueError("empty learning-rate schedule (0 epochs)")
        self.start_lr = float(self.lr_spaces[0] if start_lr is None else start_lr)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.last_epoch = max(last_epoch, 0)
        self.step(self.last_epoch)

    def get_cur_lr(self) -> float:
        """The schedule's rate at the current epoch (the head's rate when BASE_LR == start_lr)."""
        return float(self.lr_spaces[min(self.last_epoch, len(self.lr_spaces) - 1)])

    def get_lr(self) -> list[float]:
        """The rate of every parameter group at the current epoch."""
        cur = self.get_cur_lr()
        return [cur * group["initial_lr"] / self.start_lr for group in self.optimizer.param_groups]

    def step(self, epoch: int | None = None) -> None:
        """Move to ``epoch`` (default: the next one) and set the groups' rates. Epochs past the
        table keep its last value."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr

    def __repr__(self) -> str:
        return f"{type(self).__name__}(start_lr={self.start_lr}, lr_spaces={self.lr_spaces.tolist()})"


def build_lr_scheduler(
    optimizer: torch.optim.Optimizer, train_cfg: CfgNode, epochs: int, last_epoch: int = -1
) -> LRScheduler:
    """The schedule of ``cfg.TRAIN`` (``LR`` after an optional ``LR_WARMUP``) over ``epochs`` epochs.

    With warm-up, its ``LR_WARMUP.EPOCH`` epochs come first and ``LR`` covers the rest; the groups'
    ``initial_lr`` refers to the first rate of ``LR`` (PySOT).
    """
    main_kwargs = dict(train_cfg.LR.KWARGS)
    if train_cfg.LR_WARMUP.WARMUP:
        warm_epochs = int(train_cfg.LR_WARMUP.EPOCH)
        if not 0 < warm_epochs < epochs:
            raise ValueError(f"TRAIN.LR_WARMUP.EPOCH={warm_epochs} must be in (0, TRAIN.EPOCH={epochs})")
        warm = schedule_lrs(train_cfg.LR_WARMUP.TYPE, warm_epochs, **dict(train_cfg.LR_WARMUP.KWARGS))
        normal = schedule_lrs(train_cfg.LR.TYPE, epochs - warm_epochs, **main_kwargs)
        return LRScheduler(optimizer, np.concatenate([warm, normal]), float(normal[0]), last_epoch)
    lrs = schedule_lrs(train_cfg.LR.TYPE, epochs, **main_kwargs)
    return LRScheduler(optimizer, lrs, float(lrs[0]), last_epoch)
