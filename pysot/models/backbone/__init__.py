"""Backbones by name: ``get_backbone(name, **kwargs)``; every backbone returns a list of feature maps.

Each backbone module has ``out_channels`` (list[int], one entry per returned map).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from pysot.models.backbone.alexnet import alexnet, alexnetlegacy
from pysot.models.backbone.mobile_v2 import mobilenetv2
from pysot.models.backbone.resnet_atrous import resnet18, resnet34, resnet50

BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "alexnetlegacy": alexnetlegacy,
    "alexnet": alexnet,
    "mobilenetv2": mobilenetv2,
    "resnet18": resnet18,
    "resnet34": resnet34,
    "resnet50": resnet50,
    # the default BACKBONE.TYPE of PySOT's config.py
    "res50": resnet50,
}


def get_backbone_constructor(name: str) -> Callable[..., nn.Module]:
    """The constructor registered as ``name``; ``ValueError`` listing the known names otherwise."""
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; known backbones: {sorted(BACKBONES)}") from None


def get_backbone(name: str, **kwargs) -> nn.Module:
    """Build the backbone registered as ``name`` with keyword arguments ``kwargs``."""
    return get_backbone_constructor(name)(**kwargs)


__all__ = ["BACKBONES", "get_backbone", "get_backbone_constructor"]
