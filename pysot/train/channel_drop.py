"""TA-aware training: random channel masks of the sizes target-aware selection keeps at tracking time."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from yacs.config import CfgNode

from pysot.models.model_builder import ModelBuilder
from pysot.models.target_aware import channel_counts

logger = logging.getLogger(__name__)


class ChannelDrop:
    """Random channel masks on the backbone outputs while training ("TA-aware" training).

    At tracking time target-aware selection zeroes all but ``counts[l]`` channels of backbone layer
    ``l`` (``TA.CHANNELS``); a network that never saw such masks degrades when they appear. With
    probability ``prob`` per training pair this draws a random mask of the same sizes and applies it
    to the template's and the search image's features of that pair alike (a forward hook on the
    backbone, so the model code is unchanged). Masks are drawn from a generator seeded by
    ``(seed, epoch, iteration, rank)``: a resumed run draws the same masks.

    Args:
        backbone: module returning a list of maps (B x C_l x H x W).
        layer_channels: C_l per output.
        counts: channels kept per output when masked.
        prob: probability that a pair is masked.
        seed: base seed (``TRAIN.SEED``).
    """

    def __init__(
        self,
        backbone: nn.Module,
        layer_channels: Sequence[int],
        counts: Sequence[int],
        prob: float,
        seed: int,
    ) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"--ta-channel-drop must lie in [0, 1], got {prob}")
        self.layer_channels = [int(c) for c in layer_channels]
        self.counts = [int(k) for k in counts]
        self.prob = float(prob)
        self.seed = int(seed)
        self.masks: list[torch.Tensor] | None = None
        self.handle = backbone.register_forward_hook(self._hook)

    def draw(self, batch_size: int, epoch: int, iteration: int, rank: int = 0) -> None:
        """Masks for the next forward pass: a list of (B, C_l, 1, 1) float tensors of 0/1."""
        g = torch.Generator().manual_seed(hash((self.seed, epoch, iteration, rank)) % 2**63)
        dropped = torch.rand(batch_size, generator=g) < self.prob
        masks = []
        for c, k in zip(self.layer_channels, self.counts):
            mask = torch.ones(batch_size, c)
            if k < c:
                for b in torch.nonzero(dropped).flatten().tolist():
                    mask[b, torch.randperm(c, generator=g)[k:]] = 0.0
            masks.append(mask[:, :, None, None])
        self.masks = masks

    def _hook(self, module: nn.Module, inputs: Any, outputs: Any) -> Any:
        if self.masks is None:
            return outputs
        return [o * m.to(device=o.device, dtype=o.dtype) for o, m in zip(outputs, self.masks)]

    def remove(self) -> None:
        """Detach the hook."""
        self.handle.remove()


def build_channel_drop(model: ModelBuilder, cfg: CfgNode, prob: float) -> ChannelDrop | None:
    """A :class:`ChannelDrop` on ``model``'s backbone with ``cfg.TA``'s channel counts, or None for
    ``prob`` 0 (PySOT's training). Needs ``TA.ENABLE``."""
    if prob <= 0:
        return None
    if not cfg.TA.ENABLE:
        raise ValueError("--ta-channel-drop trains for target-aware selection: set TA.ENABLE")
    channels = model.feature_channels
    counts = channel_counts(list(cfg.TA.CHANNELS), channels, int(cfg.TA.MIN_CHANNELS))
    drop = ChannelDrop(model.backbone, channels, counts, prob, int(cfg.TRAIN.SEED))
    logger.info("TA-aware training: p=%.2f, masks keep %s of %s channels", prob, counts, channels)
    return drop
