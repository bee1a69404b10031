"""Cross-correlation of search features with template kernels (batched with grouped convolutions)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["xcorr_depthwise", "xcorr_fast", "xcorr_slow"]


def xcorr_slow(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Reference loop over the batch; same result as :func:`xcorr_fast`.

    x: B x C x H x W; kernel: B x (K*C) x h x w -> B x K x (H-h+1) x (W-w+1).
    """
    out = []
    for i in range(x.size(0)):
        px = x[i : i + 1]
        pk = kernel[i].view(-1, x.size(1), kernel.size(2), kernel.size(3))
        out.append(F.conv2d(px, pk))
    return torch.cat(out, 0)


def xcorr_fast(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Full (channel-summing) cross-correlation, one group per batch item (UPChannelRPN).

    x: B x C x H x W; kernel: B x (K*C) x h x w -> B x K x (H-h+1) x (W-w+1).
    """
    batch = kernel.size(0)
    pk = kernel.reshape(-1, x.size(1), kernel.size(2), kernel.size(3))
    px = x.reshape(1, -1, x.size(2), x.size(3))
    po = F.conv2d(px, pk, groups=batch)
    return po.view(batch, -1, po.size(2), po.size(3))


def xcorr_depthwise(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Channel-by-channel cross-correlation (SiamRPN++).

    x: B x C x H x W; kernel: B x C x h x w -> B x C x (H-h+1) x (W-w+1).
    """
    batch, channel = kernel.size(0), kernel.size(1)
    px = x.reshape(1, batch * channel, x.size(2), x.size(3))
    pk = kernel.reshape(batch * channel, 1, kernel.size(2), kernel.size(3))
    out = F.conv2d(px, pk, groups=batch * channel)
    return out.view(batch, channel, out.size(2), out.size(3))
