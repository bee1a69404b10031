"""Dilated MobileNetV2 backbone of SiamRPN++ (PySOT ``mobilenetv2``).

Stages ``layer0`` (stem) to ``layer7`` as in PySOT; stages 4-7 replace striding by dilation, so
the output stride stays 8 (127 -> 15x15, 255 -> 31x31 at layers 3, 5 and 7). With
``width_mult=1.4`` the used layers 3/5/7 have 44/134/448 channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["InvertedResidual", "MobileNetV2", "mobilenetv2"]

# expansion t, output channels c, repeats n, stride s, dilation d (PySOT's dilated setting)
_SETTING = (
    (1, 16, 1, 1, 1),
    (6, 24, 2, 2, 1),
    (6, 32, 3, 2, 1),
    (6, 64, 4, 1, 2),
    (6, 96, 3, 1, 2),
    (6, 160, 3, 1, 4),
    (6, 320, 1, 1, 4),
)


class InvertedResidual(nn.Module):
    """Pointwise expand -> depthwise 3x3 (strided/dilated) -> pointwise linear; residual if shapes match."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int, dilation: int = 1) -> None:
        super().__init__()
        self.stride = stride
        self.use_res_connect = stride == 1 and inp == oup
        padding = dilation if dilation > 1 else 2 - stride
        hidden = inp * expand_ratio
        self.conv = nn.Sequential(
            nn.Conv2d(inp, hidden, 1, 1, 0, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, padding, dilation=dilation, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 returning the outputs of ``used_layers`` (indices 0-7 of layer0..layer7)."""

    def __init__(self, width_mult: float = 1.0, used_layers: Sequence[int] = (3, 5, 7)) -> None:
        super().__init__()
        used_layers = [int(i) for i in used_layers]
        if not used_layers or any(i < 0 or i > 7 for i in used_layers):
            raise ValueError(f"used_layers must be a non-empty list of indices 0-7, got {used_layers}")
        if width_mult <= 0:
            raise ValueError(f"width_mult must be positive, got {width_mult}")
        self.used_layers = used_layers
        input_channel = int(32 * width_mult)
        self.layer0 = nn.Sequential(
            nn.Conv2d(3, input_channel, 3, 2, 0, bias=False),
            nn.BatchNorm2d(input_channel),
            nn.ReLU6(inplace=True),
        )
        channels = [input_channel]
        last_dilation = 1
        for idx, (t, c, n, s, d) in enumerate(_SETTING, start=1):
            output_channel = int(c * width_mult)
            blocks = []
            for i in range(n):
                if i == 0:
                    # the first block of a newly dilated stage uses half the dilation (PySOT)
                    dd = d if d == last_dilation else max(d // 2, 1)
                    blocks.append(InvertedResidual(input_channel, output_channel, s, t, dd))
                else:
                    blocks.append(InvertedResidual(input_channel, output_channel, 1, t, d))
                input_channel = output_channel
            last_dilation = d
            self.add_module(f"layer{idx}", nn.Sequential(*blocks))
            channels.append(output_channel)
        self.out_channels = [channels[i] for i in used_layers]
        self._depth = max(used_layers) + 1

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: B x 3 x H x W -> list of the used stages' maps (B x 44/134/448 x 15 x 15 for 127 at 1.4)."""
        outputs = []
        for idx in range(self._depth):
            x = getattr(self, f"layer{idx}")(x)
            outputs.append(x)
        return [outputs[i] for i in self.used_layers]


def mobilenetv2(width_mult: float = 1.0, used_layers: Sequence[int] = (3, 5, 7)) -> MobileNetV2:
    """PySOT's ``mobilenetv2`` backbone."""
    return MobileNetV2(width_mult=width_mult, used_layers=used_layers)
