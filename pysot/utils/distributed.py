"""Distributed data-parallel helpers for ``torchrun`` (one process per device).

``torchrun --nproc_per_node N tools/train.py ...`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`init_distributed` joins the process group (NCCL when the process drives a CUDA device, gloo
on CPU). Without those variables everything degrades to one process: rank 0 of world size 1, and
the reductions are no-ops, so the same training code runs from one CPU to many GPUs.

Gradients are averaged explicitly after ``backward()`` (:func:`average_gradients`), as PySOT's
``DistModule`` did; this keeps working when backbone layers are frozen or unfrozen mid-training,
which a ``DistributedDataParallel`` wrapper would have to be rebuilt for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

import torch
import torch.distributed as dist

from pysot.utils.device import select_device

logger = logging.getLogger(__name__)


def is_distributed() -> bool:
    """True inside an initialised process group."""
    return dist.is_available() and dist.is_initialized()


def get_rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    """Number of processes (1 without a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """True on rank 0 (the process that logs and writes checkpoints)."""
    return get_rank() == 0


def env_rank() -> int:
    """``RANK`` set by torchrun (0 when absent); valid also outside the process group's lifetime."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """``LOCAL_RANK`` set by torchrun (0 when absent): the device index on this machine."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def process_device(requested: str = "auto") -> torch.device:
    """The device of this process: ``'auto'``/``'cuda'`` under torchrun with CUDA present give
    ``cuda:LOCAL_RANK`` (one GPU per process); anything else goes through ``select_device``."""
    if requested in ("auto", "cuda") and torch.cuda.is_available() and "LOCAL_RANK" in os.environ:
        return select_device(f"cuda:{local_rank()}")
    return select_device(requested)


def init_distributed(device: torch.device, backend: str | None = None) -> tuple[int, int]:
    """Join the process group described by torchrun's environment; return ``(rank, world_size)``.

    Does nothing (returns ``(0, 1)``) when ``WORLD_SIZE`` is unset or 1. ``backend`` defaults to
    ``'nccl'`` for a CUDA ``device`` and ``'gloo'`` otherwise.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return 0, 1
    if not is_distributed():
        if backend is None:
            backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
        logger.info("process group: backend %s, rank %d of %d", backend, get_rank(), get_world_size())
    return get_rank(), get_world_size()


def cleanup() -> None:
    """Leave the process group (if any)."""
    if is_distributed():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for all processes (no-op in one process)."""
    if is_distributed():
        dist.barrier()


def broadcast_parameters(module: torch.nn.Module, src: int = 0) -> None:
    """Copy ``src``'s parameters and buffers to every process (identical start)."""
    if not is_distributed():
        return
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src)


def average_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Replace each gradient by its mean over all processes (one flattened all-reduce).

    With every process's loss a mean over its own equal-sized batch, this gives the gradient of
    the loss averaged over the processes, i.e. of the combined batch when the loss is additive per
    sample. Parameters without a gradient are skipped (the same on every process).
    """
    world_size = get_world_size()
    if world_size == 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= world_size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def all_reduce_mean(value: float, device: torch.device) -> float:
    """Mean of a scalar over all processes (for logging)."""
    if not is_distributed():
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return float(t.item()) / get_world_size()
