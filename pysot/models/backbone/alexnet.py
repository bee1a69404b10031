"""AlexNet backbones of SiamRPN (Li et al., CVPR 2018) in PySOT's two module layouts.

``AlexNetLegacy`` keeps everything in one ``features`` Sequential (the layout of PySOT's
``siamrpn_alex_dwxcorr`` checkpoints); ``AlexNet`` splits the same network into ``layer1``-
``layer5``. Both map a 127x127 template to 6x6 and a 255x255 search image to 22x22 (stride 8,
no padding). ``width_mult`` scales every channel width except the 3 input channels.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["AlexNet", "AlexNetLegacy", "alexnet", "alexnetlegacy"]

_CONFIGS = (3, 96, 256, 384, 384, 256)


def _widths(width_mult: float) -> list[int]:
    if width_mult <= 0:
        raise ValueError(f"width_mult must be positive, got {width_mult}")
    return [c if c == 3 else max(1, int(c * width_mult)) for c in _CONFIGS]


def _stages(c: list[int]) -> list[list[nn.Module]]:
    """The five conv stages: conv-bn-pool-relu x2, conv-bn-relu x2, conv-bn."""
    return [
        [nn.Conv2d(c[0], c[1], kernel_size=11, stride=2), nn.BatchNorm2d(c[1]),
         nn.MaxPool2d(kernel_size=3, stride=2), nn.ReLU(inplace=True)],
        [nn.Conv2d(c[1], c[2], kernel_size=5), nn.BatchNorm2d(c[2]),
         nn.MaxPool2d(kernel_size=3, stride=2), nn.ReLU(inplace=True)],
        [nn.Conv2d(c[2], c[3], kernel_size=3), nn.BatchNorm2d(c[3]), nn.ReLU(inplace=True)],
        [nn.Conv2d(c[3], c[4], kernel_size=3), nn.BatchNorm2d(c[4]), nn.ReLU(inplace=True)],
        [nn.Conv2d(c[4], c[5], kernel_size=3), nn.BatchNorm2d(c[5])],
    ]


class AlexNetLegacy(nn.Module):
    """AlexNet with BatchNorm in a single ``features`` Sequential (PySOT ``alexnetlegacy``)."""

    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        widths = _widths(width_mult)
        self.features = nn.Sequential(*[m for stage in _stages(widths) for m in stage])
        self.feature_size = widths[-1]
        self.out_channels = [widths[-1]]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: B x 3 x H x W -> [B x 256 x ((H - 79) / 8) x ...] (6x6 for 127, 22x22 for 255)."""
        return [self.features(x)]


class AlexNet(nn.Module):
    """The same network as :class:`AlexNetLegacy` split into ``layer1``-``layer5`` (PySOT ``alexnet``)."""

    def __init__(self, width_mult: float = 1.0) -> None:
        super().__init__()
        widths = _widths(width_mult)
        for i, stage in enumerate(_stages(widths), start=1):
            self.add_module(f"layer{i}", nn.Sequential(*stage))
        self.feature_size = widths[-1]
        self.out_channels = [widths[-1]]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: B x 3 x H x W -> [B x 256 x h x w], as :meth:`AlexNetLegacy.forward`."""
        for i in range(1, 6):
            x = getattr(self, f"layer{i}")(x)
        return [x]


def alexnetlegacy(width_mult: float = 1.0) -> AlexNetLegacy:
    """PySOT's ``alexnetlegacy`` backbone."""
    return AlexNetLegacy(width_mult=width_mult)


def alexnet(width_mult: float = 1.0) -> AlexNet:
    """PySOT's ``alexnet`` backbone."""
    return AlexNet(width_mult=width_mult)
