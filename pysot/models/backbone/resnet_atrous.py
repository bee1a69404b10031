"""Atrous (dilated) ResNet backbones as used by SiamRPN++ (Li et al., CVPR 2019).

layer3 and layer4 keep stride 8 and use dilation 2 and 4 instead, so a 127x127 template gives
15x15 maps and a 255x255 search image 31x31 maps at layers 2, 3 and 4. Module names, strides,
paddings and the 3x3 downsample convolutions of the strided/dilated layers follow PySOT's
``resnet_atrous.py`` exactly, so PySOT checkpoints load unchanged. ``width_mult`` scales every
channel width to build a small model of the same family (``width_mult=1`` is PySOT's network).

The stem convolution has no padding and stride-2 blocks use padding 0 ("padding = 2 - stride"):
127 -> 61 (stem, output 0) -> 31 (layer1) -> 15 (layers 2-4).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "resnet18", "resnet34", "resnet50"]


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        dilation: int = 1,
    ) -> None:
        super().__init__()
        padding = dilation if dilation > 1 else 2 - stride
        first_dilation = dilation
        if downsample is not None and dilation > 1:
            # the first block of a dilated layer uses half the dilation (PySOT)
            first_dilation = dilation // 2
            padding = first_dilation
        self.conv1 = nn.Conv2d(
            inplanes, planes, 3, stride=stride, padding=padding, dilation=first_dilation, bias=False
        )
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (strided or dilated) -> 1x1 bottleneck with expansion 4 (ResNet-50)."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        downsample: nn.Module | None = None,
        dilation: int = 1,
    ) -> None:
        super().__init__()
        if stride != 1 and dilation != 1:
            raise ValueError(f"a block cannot be both strided ({stride}) and dilated ({dilation})")
        padding = 2 - stride
        if downsample is not None and dilation > 1:
            # the first block of a dilated layer uses half the dilation (PySOT)
            dilation = dilation // 2
            padding = dilation
        if dilation > 1:
            padding = dilation
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, kernel_size=3, stride=stride, padding=padding, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + residual)


def _scale(channels: int, width_mult: float) -> int:
    return max(1, int(channels * width_mult))


class ResNet(nn.Module):
    """Atrous ResNet returning the outputs of ``used_layers``.

    Output index 0 is the stem (after conv1/bn1/relu, before max-pooling), 1-4 are layer1-4.
    layer3 is built only when 3 is used, layer4 only when 4 is used (as in PySOT); an
    unbuilt layer is an identity and has no state_dict entries (as in PySOT, so a SiamMask
    ``used_layers=[0, 1, 2, 3]`` model has no ``layer4.*`` keys).

    Args:
        block: ``BasicBlock`` or ``Bottleneck``.
        layers: number of blocks in layer1-4.
        used_layers: indices (0-4) of the returned feature maps, in this order.
        width_mult: multiplies every channel width (1.0 = the published network).
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: Sequence[int],
        used_layers: Sequence[int] = (2, 3, 4),
        width_mult: float = 1.0,
    ) -> None:
        super().__init__()
        used_layers = [int(i) for i in used_layers]
        if not used_layers or any(i < 0 or i > 4 for i in used_layers):
            raise ValueError(f"used_layers must be a non-empty list of indices 0-4, got {used_layers}")
        if width_mult <= 0:
            raise ValueError(f"width_mult must be positive, got {width_mult}")
        self.used_layers = used_layers
        self.width_mult = float(width_mult)
        stem = _scale(64, width_mult)
        self.inplanes = stem
        self.conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, _scale(64, width_mult), layers[0])
        self.layer2 = self._make_layer(block, _scale(128, width_mult), layers[1], stride=2)
        channels = [stem, block.expansion * _scale(64, width_mult), self.inplanes]
        self.layer3: nn.Module = nn.Identity()
        self.layer4: nn.Module = nn.Identity()
        if 3 in used_layers:
            self.layer3 = self._make_layer(block, _scale(256, width_mult), layers[2], stride=1, dilation=2)
        channels.append(self.inplanes)
        if 4 in used_layers:
            self.layer4 = self._make_layer(block, _scale(512, width_mult), layers[3], stride=1, dilation=4)
        channels.append(self.inplanes)
        self.out_channels = [channels[i] for i in used_layers]

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # N(0, sqrt(2 / (k*k*out))) as in PySOT
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def _make_layer(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        planes: int,
        blocks: int,
        stride: int = 1,
        dilation: int = 1,
    ) -> nn.Sequential:
        downsample = None
        out = planes * block.expansion
        if stride != 1 or self.inplanes != out:
            if stride == 1 and dilation == 1:
                conv = nn.Conv2d(self.inplanes, out, kernel_size=1, stride=stride, bias=False)
            else:
                # PySOT: 3x3 downsample for strided (padding 0) and dilated (dilation/2) layers
                dd = dilation // 2 if dilation > 1 else 1
                padding = dd if dilation > 1 else 0
                conv = nn.Conv2d(
                    self.inplanes, out, kernel_size=3, stride=stride, padding=padding, dilation=dd, bias=False
                )
            downsample = nn.Sequential(conv, nn.BatchNorm2d(out))
        modules = [block(self.inplanes, planes, stride, downsample, dilation=dilation)]
        self.inplanes = out
        modules += [block(self.inplanes, planes, dilation=dilation) for _ in range(1, blocks)]
        return nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: B x 3 x H x W -> list of the used layers' maps (e.g. B x 512/1024/2048 x 15 x 15 for 127)."""
        x0 = self.relu(self.bn1(self.conv1(x)))
        p1 = self.layer1(self.maxpool(x0))
        p2 = self.layer2(p1)
        p3 = self.layer3(p2)
        p4 = self.layer4(p3)
        outs = [x0, p1, p2, p3, p4]
        return [outs[i] for i in self.used_layers]


def resnet18(used_layers: Sequence[int] = (2, 3, 4), width_mult: float = 1.0) -> ResNet:
    """Atrous ResNet-18 (BasicBlock, [2, 2, 2, 2])."""
    return ResNet(BasicBlock, [2, 2, 2, 2], used_layers=used_layers, width_mult=width_mult)


def resnet34(used_layers: Sequence[int] = (2, 3, 4), width_mult: float = 1.0) -> ResNet:
    """Atrous ResNet-34 (BasicBlock, [3, 4, 6, 3])."""
    return ResNet(BasicBlock, [3, 4, 6, 3], used_layers=used_layers, width_mult=width_mult)


def resnet50(used_layers: Sequence[int] = (2, 3, 4), width_mult: float = 1.0) -> ResNet:
    """Atrous ResNet-50 (Bottleneck, [3, 4, 6, 3]); PySOT's SiamRPN++ backbone at width_mult 1."""
    return ResNet(Bottleneck, [3, 4, 6, 3], used_layers=used_layers, width_mult=width_mult)
