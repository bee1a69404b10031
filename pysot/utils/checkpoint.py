"""Checkpoint I/O: PySOT model-zoo files, our own checkpoints (which carry their config), and
ImageNet-pretrained backbone weights.

Accepted layouts for :func:`load_checkpoint`: a plain state_dict, or a dict with the state_dict
under ``state_dict`` (PySOT training snapshots, ours) or ``model``; keys with or without the
``module.`` prefix of (Distributed)DataParallel. Everything is read with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from yacs.config import CfgNode

from pysot.config import finalize_cfg, get_cfg
from toolkit.fileio import atomic_output

logger = logging.getLogger(__name__)

__all__ = [
    "CheckpointError",
    "PretrainedReport",
    "config_from_checkpoint",
    "extract_state_dict",
    "load_checkpoint",
    "load_pretrained_backbone",
    "save_checkpoint",
]

_MAX_LISTED = 30


class CheckpointError(RuntimeError):
    """A checkpoint does not fit the model (missing/unexpected keys, shape mismatches) or is malformed."""


def _listing(items: list[str]) -> str:
    shown = items[:_MAX_LISTED]
    more = f" ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
    return "[" + ", ".join(shown) + "]" + more


_ZIP_MAGIC = b"PK\x03\x04"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _read(path: str | Path, device: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``; any file it cannot read raises
    :class:`CheckpointError` with one line naming the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise CheckpointError(f"{path}: not a checkpoint: the file is empty (0 bytes)")
    # torch.save writes a zip archive; old (legacy) files are a pickle, whose protocol 2+ opcode is 0x80
    if not head.startswith(_ZIP_MAGIC) and head[0] != 0x80:
        raise CheckpointError(
            f"{path}: not a PyTorch checkpoint (it starts with {head!r}; torch.save writes a zip archive)"
        )
    try:
        return torch.load(str(path), map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        lines = str(err).splitlines()
        reason = next((line for line in lines if "GLOBAL" in line or "Unsupported" in line), "")
        raise CheckpointError(
            f"{path}: refused: the checkpoint holds objects other than tensors and plain containers, "
            f"which torch.load(weights_only=True) does not run ({reason.strip() or _first_line(str(err))})"
        ) from None
    except Exception as err:  # truncated zip, bad record, unreadable pickle: one line naming the file
        kind = "a truncated or corrupt zip archive" if head.startswith(_ZIP_MAGIC) else "an unreadable pickle"
        detail = _first_line(str(err)).split(". ")[0]
        why = f"{type(err).__name__}: {detail}" if detail else type(err).__name__
        raise CheckpointError(f"{path}: cannot read the checkpoint, {kind} ({why})") from None


def extract_state_dict(
    obj: Any, source: str = "checkpoint"
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split a loaded checkpoint into (state_dict without ``module.`` prefixes, the other entries).

    ``source`` names the file in error messages.
    """
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{source}: expected a dict, got {type(obj).__name__}")
    extra: dict[str, Any] = {}
    state = obj
    for key in ("state_dict", "model"):
        if isinstance(obj.get(key), Mapping):
            state = obj[key]
            extra = {k: v for k, v in obj.items() if k != key}
            break
    not_tensors = [str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise CheckpointError(
            f"{source}: not a state_dict (entries that are not tensors: {_listing(not_tensors)}); "
            "expected a plain state_dict or one nested under 'state_dict' or 'model'"
        )
    prefix = "module."
    clean = {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state.items()}
    return clean, extra


def load_checkpoint(
    model: nn.Module, path: str | Path, device: str | torch.device = "cpu", strict: bool = True
) -> dict[str, Any]:
    """Load the weights in ``path`` into ``model``; return the checkpoint's other entries.

    With ``strict`` (default) any missing key (except BatchNorm ``num_batches_tracked``),
    unexpected key or shape mismatch raises :class:`CheckpointError` listing them; otherwise they
    are logged and only the matching entries are loaded. The returned dict holds whatever else the
    file carries (``epoch``, ``optimizer``, ``config`` yaml text, ...), empty for a plain state_dict.
    """
    state, extra = extract_state_dict(_read(path, device), source=str(path))
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    mismatched = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state.items()
        if k in own and v.shape != own[k].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys {_listing(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_listing(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatches {_listing(mismatched)}")
    if problems:
        message = f"{path}: checkpoint does not match the model: " + "; ".join(problems)
        if strict:
            raise CheckpointError(message)
        logger.warning("%s (strict=False: loading the matching entries)", message)
    usable = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    model.load_state_dict(usable, strict=False)
    logger.info("loaded %d tensors from %s", len(usable), path)
    return extra


def save_checkpoint(path: str | Path, model: nn.Module, cfg: CfgNode, **extra: Any) -> Path:
    """Write ``{'state_dict', 'config': cfg.dump(), **extra}`` to ``path`` atomically (tmp + rename).

    A (Distributed)DataParallel wrapper is unwrapped, so keys carry no ``module.`` prefix. ``extra``
    must hold what ``torch.load(weights_only=True)`` can read back (tensors, numbers, strings,
    lists/dicts of them, e.g. ``epoch`` and ``optimizer=optimizer.state_dict()``).
    """
    reserved = {"state_dict", "config"} & set(extra)
    if reserved:
        raise ValueError(f"save_checkpoint: {sorted(reserved)} are reserved names")
    path = Path(path)
    wrappers = (nn.DataParallel, nn.parallel.DistributedDataParallel)
    module = model.module if isinstance(model, wrappers) else model
    payload = {"state_dict": module.state_dict(), "config": cfg.dump(), **extra}
    with atomic_output(path) as tmp:
        torch.save(payload, str(tmp))
    return path


def config_from_checkpoint(path: str | Path) -> CfgNode:
    """The (frozen) config a checkpoint written by :func:`save_checkpoint` was trained with."""
    obj = _read(path)
    text = obj.get("config") if isinstance(obj, Mapping) else None
    if not isinstance(text, str):
        raise CheckpointError(
            f"{path}: checkpoint carries no 'config' (a PySOT model-zoo file?); "
            "give the experiment's config.yaml"
        )
    cfg = get_cfg()
    try:
        cfg.merge_from_other_cfg(cfg.load_cfg(text))
    except KeyError as err:
        raise KeyError(f"{path} (embedded config): {err.args[0] if err.args else err}") from None
    return finalize_cfg(cfg)


@dataclass
class PretrainedReport:
    """What :func:`load_pretrained_backbone` did, key by key (backbone-relative names)."""

    loaded: list[str] = field(default_factory=list)
    expanded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


def load_pretrained_backbone(
    backbone: nn.Module, path: str | Path, device: str | torch.device = "cpu"
) -> PretrainedReport:
    """Load ImageNet weights with torchvision-style ResNet keys (``conv1.weight``, ``layer1.0.bn1.*``...).

    ``fc.*`` is ignored. The atrous ResNet's 3x3 downsample convolutions of layer2-4 take a
    torchvision 1x1 downsample weight at their centre tap (zeros elsewhere: identical to the 1x1
    conv for the padded layer3/4 ones, and aligned with the padding-free strided conv2 in layer2).
    Keys the backbone lacks (e.g. ``layer4.*`` for ``used_layers=[0, 1, 2, 3]``) are reported as
    unexpected, backbone keys absent from the file as missing (both logged); any other shape
    mismatch raises :class:`CheckpointError`.
    """
    state, _ = extract_state_dict(_read(path, device), source=str(path))
    own = backbone.state_dict()
    report = PretrainedReport()
    new_state: dict[str, torch.Tensor] = {}
    mismatched = []
    for key, value in state.items():
        if key.startswith("fc."):
            continue
        if key not in own:
            report.unexpected.append(key)
            continue
        target = own[key]
        if value.shape == target.shape:
            new_state[key] = value
            report.loaded.append(key)
        elif (
            value.dim() == 4
            and value.shape[:2] == target.shape[:2]
            and value.shape[2:] == (1, 1)
            and target.shape[2] % 2 == 1
            and target.shape[3] % 2 == 1
        ):
            expanded = torch.zeros_like(target)
            expanded[:, :, target.shape[2] // 2, target.shape[3] // 2] = value[:, :, 0, 0]
            new_state[key] = expanded
            report.expanded.append(key)
        else:
            mismatched.append(f"{key}: file {tuple(value.shape)} vs backbone {tuple(target.shape)}")
    if mismatched:
        raise CheckpointError(f"{path}: pretrained weights do not fit the backbone: {_listing(mismatched)}")
    report.missing = [k for k in own if k not in new_state and not k.endswith("num_batches_tracked")]
    backbone.load_state_dict(new_state, strict=False)
    logger.info(
        "pretrained backbone %s: %d loaded, %d 1x1->kxk expanded",
        path,
        len(report.loaded),
        len(report.expanded),
    )
    if report.missing:
        logger.warning("pretrained backbone %s: missing keys %s", path, _listing(report.missing))
    if report.unexpected:
        logger.warning("pretrained backbone %s: unused keys %s", path, _listing(report.unexpected))
    return report
