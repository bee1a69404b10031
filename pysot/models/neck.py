"""Adjust ("neck") layers of SiamRPN++: 1x1 conv + BN per backbone layer, template centre crop.

A map narrower than 20 (a template map: 15x15 for a 127 template) is cropped to its central
``center_size`` x ``center_size`` window after the 1x1 conv (rows/cols 4:11 for 15 -> 7), which
removes the zero-padding border effects; search maps (31x31) pass uncropped. Module names follow
PySOT (``downsample`` for one layer, ``downsample2``, ``downsample3``, ... for several).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["NECKS", "AdjustAllLayer", "AdjustLayer"]


class AdjustLayer(nn.Module):
    """1x1 conv (no bias) + BN: B x in_channels x h x w -> B x out_channels x h' x w'."""

    def __init__(self, in_channels: int, out_channels: int, center_size: int = 7) -> None:
        super().__init__()
        self.downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.center_size = center_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.downsample(x)
        if x.size(3) < 20:
            left = (x.size(3) - self.center_size) // 2
            right = left + self.center_size
            x = x[:, :, left:right, left:right]
        return x


class AdjustAllLayer(nn.Module):
    """One :class:`AdjustLayer` per backbone output; list in, list out (a single layer: tensor in, out)."""

    def __init__(
        self, in_channels: Sequence[int], out_channels: Sequence[int], center_size: int = 7
    ) -> None:
        super().__init__()
        if len(in_channels) != len(out_channels):
            raise ValueError(
                f"AdjustAllLayer: in_channels {list(in_channels)} and out_channels {list(out_channels)} "
                "must have the same length"
            )
        self.num = len(out_channels)
        if self.num == 1:
            self.downsample = AdjustLayer(in_channels[0], out_channels[0], center_size)
        else:
            for i in range(self.num):
                self.add_module(
                    f"downsample{i + 2}", AdjustLayer(in_channels[i], out_channels[i], center_size)
                )

    def forward(
        self, features: torch.Tensor | Sequence[torch.Tensor]
    ) -> torch.Tensor | list[torch.Tensor]:
        if self.num == 1:
            return self.downsample(features)
        return [getattr(self, f"downsample{i + 2}")(features[i]) for i in range(self.num)]


NECKS = {"AdjustLayer": AdjustLayer, "AdjustAllLayer": AdjustAllLayer}
