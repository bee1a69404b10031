"""SiamMask heads (Wang et al., CVPR 2019) with PySOT's module names: ``MaskCorr`` and ``Refine``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from pysot.models.head.rpn import DepthwiseXCorr
from pysot.models.head.xcorr import xcorr_depthwise

__all__ = ["MASKS", "REFINES", "MaskCorr", "Refine"]


class MaskCorr(DepthwiseXCorr):
    """Depthwise-correlation mask head: 63*63 = 3969 output channels (one 63x63 mask per position).

    Returns ``(mask, correlation_feature)``: B x out_channels x 25 x 25 and B x hidden x 25 x 25
    (the latter feeds :class:`Refine`).
    """

    def forward_with_kernel(  # type: ignore[override]
        self, kernel: torch.Tensor, search: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        feature = self.correlate(kernel, search)
        return self.head(feature), feature

    def forward(  # type: ignore[override]
        self, kernel: torch.Tensor, search: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        kernel = self.conv_kernel(kernel)
        search = self.conv_search(search)
        feature = xcorr_depthwise(search, kernel)
        return self.head(feature), feature


def _conv_relu_pair(cin: int, mid: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, mid, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(mid, cout, 3, padding=1),
        nn.ReLU(inplace=True),
    )


class Refine(nn.Module):
    """SiamMask refinement: fuses the correlation feature at one position with backbone layers 0-2.

    Inputs for a 255 search image: ``f`` = [B x 64 x 125 x 125, B x 256 x 63 x 63, B x 512 x 31 x 31],
    ``corr_feature`` B x 256 x 25 x 25, ``pos`` = (row, col) on the 25 x 25 score map.
    Output: B x (127*127) mask logits of the 127 x 127 exemplar-sized window at that position.
    """

    def __init__(self) -> None:
        super().__init__()
        self.v0 = _conv_relu_pair(64, 16, 4)
        self.v1 = _conv_relu_pair(256, 64, 16)
        self.v2 = _conv_relu_pair(512, 128, 32)
        self.h2 = _conv_relu_pair(32, 32, 32)
        self.h1 = _conv_relu_pair(16, 16, 16)
        self.h0 = _conv_relu_pair(4, 4, 4)
        self.deconv = nn.ConvTranspose2d(256, 32, 15, 15)
        self.post0 = nn.Conv2d(32, 16, 3, padding=1)
        self.post1 = nn.Conv2d(16, 4, 3, padding=1)
        self.post2 = nn.Conv2d(4, 1, 3, padding=1)

    def forward(
        self, f: Sequence[torch.Tensor], corr_feature: torch.Tensor, pos: tuple[int, int]
    ) -> torch.Tensor:
        r, c = int(pos[0]), int(pos[1])
        p0 = F.pad(f[0], [16, 16, 16, 16])[:, :, 4 * r : 4 * r + 61, 4 * c : 4 * c + 61]
        p1 = F.pad(f[1], [8, 8, 8, 8])[:, :, 2 * r : 2 * r + 31, 2 * c : 2 * c + 31]
        p2 = F.pad(f[2], [4, 4, 4, 4])[:, :, r : r + 15, c : c + 15]
        p3 = corr_feature[:, :, r, c].view(-1, 256, 1, 1)
        out = self.deconv(p3)
        out = self.post0(F.interpolate(self.h2(out) + self.v2(p2), size=(31, 31)))
        out = self.post1(F.interpolate(self.h1(out) + self.v1(p1), size=(61, 61)))
        out = self.post2(F.interpolate(self.h0(out) + self.v0(p0), size=(127, 127)))
        return out.view(-1, 127 * 127)


MASKS = {"MaskCorr": MaskCorr}
REFINES = {"Refine": Refine}
