"""Training losses of SiamRPN++ (PySOT ``models/loss.py``) and SiamMask's mask loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["get_cls_loss", "select_cross_entropy_loss", "select_mask_logistic_loss", "weight_l1_loss"]


def get_cls_loss(pred: torch.Tensor, label: torch.Tensor, select: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood over the rows ``select`` of ``pred`` (N x 2 log-probabilities).

    An empty selection contributes 0 (PySOT returns NaN for it, and 0 for a single selected
    anchor because of a ``squeeze()``; here a single anchor counts like any other).
    """
    if select.numel() == 0:
        return pred.sum() * 0.0
    pred = torch.index_select(pred, 0, select)
    label = torch.index_select(label, 0, select)
    return F.nll_loss(pred, label)


def select_cross_entropy_loss(pred: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """Balanced classification loss: 0.5 * mean NLL over positives + 0.5 * over negatives.

    pred: B x A x H x W x 2 log-probabilities (``ModelBuilder.log_softmax``); label: B x A x H x W
    with 1 = positive, 0 = negative, -1 = ignored.
    """
    pred = pred.reshape(-1, 2)
    label = label.reshape(-1).long()
    pos = label.eq(1).nonzero().view(-1)
    neg = label.eq(0).nonzero().view(-1)
    return get_cls_loss(pred, label, pos) * 0.5 + get_cls_loss(pred, label, neg) * 0.5


def weight_l1_loss(
    pred_loc: torch.Tensor, label_loc: torch.Tensor, loss_weight: torch.Tensor
) -> torch.Tensor:
    """Weighted L1 box loss summed over anchors, averaged over the batch.

    pred_loc: B x 4A x H x W; label_loc: B x 4 x A x H x W; loss_weight: B x A x H x W.
    """
    b, _, sh, sw = pred_loc.size()
    pred_loc = pred_loc.view(b, 4, -1, sh, sw)
    diff = (pred_loc - label_loc).abs()
    diff = diff.sum(dim=1).view(b, -1, sh, sw)
    loss = diff * loss_weight
    return loss.sum().div(b)


def select_mask_logistic_loss(
    p_m: torch.Tensor,
    mask: torch.Tensor,
    weight: torch.Tensor,
    o_sz: int = 63,
    g_sz: int = 127,
    stride: int = 8,
) -> torch.Tensor:
    """SiamMask's mask loss: soft-margin loss of positive positions' masks against the ground truth.

    p_m: B x (o_sz*o_sz) x H x W mask logits; mask: B x 1 x S x S ground truth in {-1, 1} on the
    search image (S = 255); weight: B x 1 x H x W (or B x H x W), 1 at positions whose mask is trained.
    Each position's o_sz x o_sz mask is upsampled (bilinear, align_corners) to g_sz x g_sz and
    compared with the g_sz x g_sz window of ``mask`` centred on that position.
    """
    weight = weight.reshape(-1)
    pos = weight.eq(1).nonzero().view(-1)
    if pos.numel() == 0:
        return p_m.sum() * 0.0
    b, _, h, w = p_m.shape
    p_m = p_m.permute(0, 2, 3, 1).reshape(-1, 1, o_sz, o_sz)
    p_m = torch.index_select(p_m, 0, pos)
    p_m = F.interpolate(p_m, size=(g_sz, g_sz), mode="bilinear", align_corners=True)
    p_m = p_m.reshape(-1, g_sz * g_sz)
    padding = ((h - 1) * stride + g_sz - mask.size(2)) // 2
    mask_uf = F.unfold(mask, (g_sz, g_sz), padding=padding, stride=stride)
    mask_uf = mask_uf.transpose(1, 2).reshape(-1, g_sz * g_sz)
    mask_uf = torch.index_select(mask_uf, 0, pos)
    return F.soft_margin_loss(p_m, mask_uf)
