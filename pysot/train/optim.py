"""What trains and at which rate: backbone freezing and the SGD parameter groups (PySOT's schedule).

The learning-rate schedules themselves are in :mod:`pysot.utils.lr_scheduler`.
"""

from __future__ import annotations

import torch
from torch import nn
from yacs.config import CfgNode

from pysot.models.model_builder import ModelBuilder


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
