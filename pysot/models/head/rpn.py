"""RPN heads of SiamRPN / SiamRPN++ (module names and shapes as PySOT's ``head/rpn.py``).

Every head has two equivalent paths:

* ``forward(z_f, x_f)`` -- PySOT's straightforward computation (template branch every call);
* ``template_kernel(z_f)`` once, then ``forward_with_kernel(kernel, x_f)`` per frame -- the
  tracker's path, which skips the template branch. In eval mode both give identical results.

Outputs: ``cls`` B x 2A x h x w (A anchors; channel ``k*A + a`` is class k of anchor a) and
``loc`` B x 4A x h x w (dx, dy, dw, dh per anchor, same channel layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from pysot.models.head.xcorr import xcorr_depthwise, xcorr_fast

__all__ = ["RPNS", "DepthwiseRPN", "DepthwiseXCorr", "MultiRPN", "UPChannelRPN"]


class UPChannelRPN(nn.Module):
    """SiamRPN head (Li et al., CVPR 2018): template convs lift channels, full cross-correlation."""

    def __init__(self, anchor_num: int = 5, feature_in: int = 256) -> None:
        super().__init__()
        cls_output = 2 * anchor_num
        loc_output = 4 * anchor_num
        self.template_cls_conv = nn.Conv2d(feature_in, feature_in * cls_output, kernel_size=3)
        self.template_loc_conv = nn.Conv2d(feature_in, feature_in * loc_output, kernel_size=3)
        self.search_cls_conv = nn.Conv2d(feature_in, feature_in, kernel_size=3)
        self.search_loc_conv = nn.Conv2d(feature_in, feature_in, kernel_size=3)
        self.loc_adjust = nn.Conv2d(loc_output, loc_output, kernel_size=1)

    def template_kernel(self, z_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Template features B x C x h x w -> (cls kernel B x 2AC x h-2 x w-2, loc kernel B x 4AC x ...)."""
        return self.template_cls_conv(z_f), self.template_loc_conv(z_f)

    def forward_with_kernel(
        self, kernel: tuple[torch.Tensor, torch.Tensor], x_f: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cls_kernel, loc_kernel = kernel
        cls = xcorr_fast(self.search_cls_conv(x_f), cls_kernel)
        loc = self.loc_adjust(xcorr_fast(self.search_loc_conv(x_f), loc_kernel))
        return cls, loc

    def forward(self, z_f: torch.Tensor, x_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cls_kernel = self.template_cls_conv(z_f)
        loc_kernel = self.template_loc_conv(z_f)
        cls = xcorr_fast(self.search_cls_conv(x_f), cls_kernel)
        loc = self.loc_adjust(xcorr_fast(self.search_loc_conv(x_f), loc_kernel))
        return cls, loc


class DepthwiseXCorr(nn.Module):
    """Conv-BN-ReLU on both branches, depthwise cross-correlation, then a 1x1 conv head.

    Template B x C x 7 x 7 (kernel 5 x 5 after the 3x3 conv) and search B x C x 31 x 31 give
    B x out_channels x 25 x 25. ``hidden_kernel_size`` is accepted for PySOT compatibility and unused
    (as in PySOT).
    """

    def __init__(
        self,
        in_channels: int,
        hidden: int,
        out_channels: int,
        kernel_size: int = 3,
        hidden_kernel_size: int = 5,
    ) -> None:
        super().__init__()
        self.conv_kernel = nn.Sequential(
            nn.Conv2d(in_channels, hidden, kernel_size=kernel_size, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
        )
        self.conv_search = nn.Sequential(
            nn.Conv2d(in_channels, hidden, kernel_size=kernel_size, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(
            nn.Conv2d(hidden, hidden, kernel_size=1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, out_channels, kernel_size=1),
        )

    def template_kernel(self, kernel: torch.Tensor) -> torch.Tensor:
        """Template features B x C x h x w -> kernel B x hidden x (h-2) x (w-2)."""
        return self.conv_kernel(kernel)

    def correlate(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        """Cached kernel and search features -> correlation map B x hidden x H' x W' (before the head)."""
        return xcorr_depthwise(self.conv_search(search), kernel)

    def forward_with_kernel(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        return self.head(self.correlate(kernel, search))

    def forward(self, kernel: torch.Tensor, search: torch.Tensor) -> torch.Tensor:
        kernel = self.conv_kernel(kernel)
        search = self.conv_search(search)
        return self.head(xcorr_depthwise(search, kernel))


class DepthwiseRPN(nn.Module):
    """SiamRPN++ single-layer head: a :class:`DepthwiseXCorr` for cls (2A) and one for loc (4A)."""

    def __init__(self, anchor_num: int = 5, in_channels: int = 256, out_channels: int = 256) -> None:
        super().__init__()
        self.cls = DepthwiseXCorr(in_channels, out_channels, 2 * anchor_num)
        self.loc = DepthwiseXCorr(in_channels, out_channels, 4 * anchor_num)

    def template_kernel(self, z_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls.template_kernel(z_f), self.loc.template_kernel(z_f)

    def forward_with_kernel(
        self, kernel: tuple[torch.Tensor, torch.Tensor], x_f: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls.forward_with_kernel(kernel[0], x_f), self.loc.forward_with_kernel(kernel[1], x_f)

    def forward(self, z_f: torch.Tensor, x_f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cls(z_f, x_f), self.loc(z_f, x_f)


class MultiRPN(nn.Module):
    """SiamRPN++ multi-layer head: one :class:`DepthwiseRPN` per layer (``rpn2``, ``rpn3``, ...), fused.

    Fusion is the plain mean, or with ``weighted`` a softmax-weighted sum with learned
    ``cls_weight``/``loc_weight`` (one scalar per layer), as in PySOT.
    """

    def __init__(self, anchor_num: int, in_channels: Sequence[int], weighted: bool = False) -> None:
        super().__init__()
        self.weighted = bool(weighted)
        self.num = len(in_channels)
        for i, channels in enumerate(in_channels):
            self.add_module(f"rpn{i + 2}", DepthwiseRPN(anchor_num, channels, channels))
        if self.weighted:
            self.cls_weight = nn.Parameter(torch.ones(len(in_channels)))
            self.loc_weight = nn.Parameter(torch.ones(len(in_channels)))

    def _fuse(
        self, cls: list[torch.Tensor], loc: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.weighted:
            cls_weight = F.softmax(self.cls_weight, 0)
            loc_weight = F.softmax(self.loc_weight, 0)
            return _weighted_sum(cls, cls_weight), _weighted_sum(loc, loc_weight)
        return sum(cls) / len(cls), sum(loc) / len(loc)

    def template_kernel(self, z_fs: Sequence[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """One (cls, loc) kernel pair per layer."""
        return [getattr(self, f"rpn{i + 2}").template_kernel(z_f) for i, z_f in enumerate(z_fs)]

    def forward_with_kernel(
        self, kernels: Sequence[Any], x_fs: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cls, loc = [], []
        for i, (kernel, x_f) in enumerate(zip(kernels, x_fs)):
            c, l = getattr(self, f"rpn{i + 2}").forward_with_kernel(kernel, x_f)
            cls.append(c)
            loc.append(l)
        return self._fuse(cls, loc)

    def forward(
        self, z_fs: Sequence[torch.Tensor], x_fs: Sequence[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cls, loc = [], []
        for i, (z_f, x_f) in enumerate(zip(z_fs, x_fs)):
            c, l = getattr(self, f"rpn{i + 2}")(z_f, x_f)
            cls.append(c)
            loc.append(l)
        return self._fuse(cls, loc)


def _weighted_sum(values: list[torch.Tensor], weight: torch.Tensor) -> torch.Tensor:
    total: Any = 0
    for i in range(len(weight)):
        total = total + values[i] * weight[i]
    return total


RPNS = {"UPChannelRPN": UPChannelRPN, "DepthwiseRPN": DepthwiseRPN, "MultiRPN": MultiRPN}
