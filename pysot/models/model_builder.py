"""``ModelBuilder(cfg)``: backbone -> (channel masks) -> neck -> RPN head (+ SiamMask heads).

SiamRPN++ (Li et al., CVPR 2019) as in PySOT's ``model_builder.py``, with the same submodule names
(``backbone``, ``neck``, ``rpn_head``, ``mask_head``, ``refine_head``) so PySOT checkpoints load
unchanged, plus:

* the template branch of the heads is computed once in :meth:`ModelBuilder.template` and cached
  (:meth:`ModelBuilder.track` uses it; :meth:`ModelBuilder.track_reference` recomputes it);
* optional per-layer channel masks on the backbone outputs (the target-aware selection of
  Ta-SiamRPN++), applied to template and search features before the neck;
* the free-form ``KWARGS`` config nodes are checked against the constructors' signatures.

Images are B x 3 x H x W float tensors, BGR, 0-255 (PySOT's convention; no normalisation).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from yacs.config import CfgNode

from pysot.models.backbone import BACKBONES
from pysot.models.head import MASKS, REFINES, RPNS
from pysot.models.loss import select_cross_entropy_loss, select_mask_logistic_loss, weight_l1_loss
from pysot.models.neck import NECKS

logger = logging.getLogger(__name__)

__all__ = [
    "ModelBuilder",
    "build_backbone",
    "build_mask_head",
    "build_neck",
    "build_refine_head",
    "build_rpn_head",
    "check_kwargs",
]


def _lookup(table: Mapping[str, Callable[..., nn.Module]], name: str, node: str) -> Callable[..., nn.Module]:
    if name not in table:
        raise ValueError(f"{node}: unknown type {name!r}; known types: {sorted(table)}")
    return table[name]


def _plain(value: Any) -> Any:
    if isinstance(value, CfgNode):
        return {k: _plain(v) for k, v in value.items()}
    return value


def check_kwargs(constructor: Callable[..., Any], kwargs: Mapping[str, Any], node: str) -> dict[str, Any]:
    """Check ``kwargs`` against ``constructor``'s signature; return them as a plain dict.

    Raises ``ValueError`` naming the config ``node`` (e.g. ``"RPN.KWARGS"``), the offending key(s)
    and the accepted keys, for unknown keys and for missing required arguments.
    """
    kwargs = {k: _plain(v) for k, v in kwargs.items()}
    params = [
        p
        for p in inspect.signature(constructor).parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    accepted = [p.name for p in params]
    name = getattr(constructor, "__name__", repr(constructor))
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValueError(f"{node}: unknown key(s) {unknown} for {name}; accepted keys: {accepted}")
    missing = [p.name for p in params if p.default is inspect.Parameter.empty and p.name not in kwargs]
    if missing:
        raise ValueError(f"{node}: missing required key(s) {missing} for {name}; accepted keys: {accepted}")
    return kwargs


def build_backbone(cfg: CfgNode) -> nn.Module:
    """``BACKBONE.TYPE`` with ``BACKBONE.KWARGS``."""
    constructor = _lookup(BACKBONES, cfg.BACKBONE.TYPE, "BACKBONE.TYPE")
    return constructor(**check_kwargs(constructor, cfg.BACKBONE.KWARGS, "BACKBONE.KWARGS"))


def build_neck(cfg: CfgNode) -> nn.Module | None:
    """``ADJUST.TYPE`` with ``ADJUST.KWARGS``, or None when ``ADJUST.ADJUST`` is False."""
    if not cfg.ADJUST.ADJUST:
        return None
    constructor = _lookup(NECKS, cfg.ADJUST.TYPE, "ADJUST.TYPE")
    return constructor(**check_kwargs(constructor, cfg.ADJUST.KWARGS, "ADJUST.KWARGS"))


def build_rpn_head(cfg: CfgNode) -> nn.Module:
    """``RPN.TYPE`` with ``RPN.KWARGS``; ``anchor_num`` defaults to len(ANCHOR.RATIOS) * len(ANCHOR.SCALES).

    A given ``anchor_num`` that disagrees with the anchor configuration is a ``ValueError``.
    """
    constructor = _lookup(RPNS, cfg.RPN.TYPE, "RPN.TYPE")
    kwargs = {k: _plain(v) for k, v in cfg.RPN.KWARGS.items()}
    anchor_num = len(cfg.ANCHOR.RATIOS) * len(cfg.ANCHOR.SCALES)
    if "anchor_num" in inspect.signature(constructor).parameters:
        if kwargs.get("anchor_num", anchor_num) != anchor_num:
            raise ValueError(
                f"RPN.KWARGS.anchor_num={kwargs['anchor_num']} disagrees with len(ANCHOR.RATIOS) * "
                f"len(ANCHOR.SCALES) = {anchor_num}"
            )
        kwargs["anchor_num"] = anchor_num
    return constructor(**check_kwargs(constructor, kwargs, "RPN.KWARGS"))


def build_mask_head(cfg: CfgNode) -> nn.Module:
    """``MASK.TYPE`` with ``MASK.KWARGS`` (SiamMask)."""
    constructor = _lookup(MASKS, cfg.MASK.TYPE, "MASK.TYPE")
    return constructor(**check_kwargs(constructor, cfg.MASK.KWARGS, "MASK.KWARGS"))


def build_refine_head(cfg: CfgNode) -> nn.Module:
    """``REFINE.TYPE`` (SiamMask refinement; no arguments)."""
    return _lookup(REFINES, cfg.REFINE.TYPE, "REFINE.TYPE")()


class ModelBuilder(nn.Module):
    """The Siamese tracking network described by ``cfg`` (a PySOT-compatible config).

    Attributes ``backbone``, ``neck`` (None without ``ADJUST.ADJUST``), ``rpn_head`` and, for
    SiamMask configs, ``mask_head`` / ``refine_head`` (with ``REFINE.REFINE``). The cached template
    state and the channel masks are plain attributes, so ``state_dict()`` holds exactly PySOT's keys.
    """

    def __init__(self, cfg: CfgNode) -> None:
        super().__init__()
        self.backbone = build_backbone(cfg)
        self.neck = build_neck(cfg)
        self.rpn_head = build_rpn_head(cfg)
        self.mask_enabled = bool(cfg.MASK.MASK)
        self.refine_enabled = self.mask_enabled and bool(cfg.REFINE.REFINE)
        if self.mask_enabled:
            self.mask_head = build_mask_head(cfg)
            if self.refine_enabled:
                self.refine_head = build_refine_head(cfg)
        self.cls_weight = float(cfg.TRAIN.CLS_WEIGHT)
        self.loc_weight = float(cfg.TRAIN.LOC_WEIGHT)
        self.mask_weight = float(cfg.TRAIN.MASK_WEIGHT)
        self.channel_masks: list[torch.Tensor | None] | None = None
        self.zf: torch.Tensor | list[torch.Tensor] | None = None
        self.kernel: Any = None
        self.mask_kernel: torch.Tensor | None = None
        self.xf_refine: list[torch.Tensor] | None = None
        self.mask_corr_feature: torch.Tensor | None = None

    # ------------------------------------------------------------------ features
    @property
    def feature_channels(self) -> list[int]:
        """Channels of each backbone output, in the order of :meth:`backbone_features`."""
        return list(self.backbone.out_channels)

    @property
    def head_layers(self) -> list[int]:
        """Indices of the backbone outputs that the neck and heads read (SiamMask: only the last one;
        the others feed its refinement module). Target-aware channel masks apply to these."""
        n = len(self.feature_channels)
        return [n - 1] if self.mask_enabled else list(range(n))

    def backbone_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Backbone outputs (a list, one map per used layer), without channel masks, before the neck.

        x: B x 3 x H x W (BGR 0-255); e.g. ResNet-50 l234 at 127: 3 maps B x 512/1024/2048 x 15 x 15.
        """
        feats = self.backbone(x)
        return list(feats) if isinstance(feats, (list, tuple)) else [feats]

    def set_channel_masks(self, masks: Sequence[torch.Tensor | None] | None) -> None:
        """Per-layer channel masks multiplied into the backbone outputs (template and search).

        ``masks``: one entry per backbone output, each a 1-D float tensor with that layer's channel
        count (1 = keep, 0 = switch off) or None (layer unmasked); ``None`` disables masking. Takes
        effect at the next :meth:`template`/:meth:`track`; call :meth:`template` again to refresh
        the cached kernels.
        """
        if masks is None:
            self.channel_masks = None
            return
        channels = self.feature_channels
        if len(masks) != len(channels):
            raise ValueError(
                f"expected {len(channels)} channel masks (one per backbone output), got {len(masks)}"
            )
        checked: list[torch.Tensor | None] = []
        for i, (mask, c) in enumerate(zip(masks, channels)):
            if mask is None:
                checked.append(None)
                continue
            mask = torch.as_tensor(mask).detach()
            if mask.dim() != 1 or mask.numel() != c:
                raise ValueError(
                    f"channel mask {i} must be 1-D with {c} entries, got shape {tuple(mask.shape)}"
                )
            checked.append(mask.float())
        self.channel_masks = checked

    def _apply_masks(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.channel_masks is None:
            return feats
        return [
            f if m is None else f * m.to(device=f.device, dtype=f.dtype)[None, :, None, None]
            for f, m in zip(feats, self.channel_masks)
        ]

    def _head_input(self, feats: list[torch.Tensor]) -> tuple[Any, list[torch.Tensor] | None]:
        """Neck/head input (tensor for one layer, list for several) and SiamMask's refine features."""
        if self.mask_enabled:
            x, refine = feats[-1], feats[:-1]
        else:
            x, refine = (feats[0] if len(feats) == 1 else feats), None
        if self.neck is not None:
            x = self.neck(x)
        return x, refine

    # ------------------------------------------------------------------ tracking
    def template(self, z: torch.Tensor) -> None:
        """Cache the template features and the heads' template kernels. z: B x 3 x 127 x 127.

        The cache (``zf``, ``kernel``) is plain tensors on z's device: template again after ``.to()``.
        """
        self.template_from_features(self.backbone_features(z))

    def template_from_features(self, feats: Sequence[torch.Tensor]) -> None:
        """As :meth:`template`, from precomputed (unmasked) backbone features of the template."""
        zf, _ = self._head_input(self._apply_masks(list(feats)))
        self.zf = zf
        self.kernel = self.rpn_head.template_kernel(zf)
        if self.mask_enabled:
            self.mask_kernel = self.mask_head.template_kernel(zf)

    def _require_template(self) -> None:
        if self.zf is None:
            raise RuntimeError("ModelBuilder: call template() before track()")

    def track(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Search image B x 3 x H x W -> dict(cls=B x 2A x h x w, loc=B x 4A x h x w[, mask]).

        Uses the kernels cached by :meth:`template` (h = w = 25 for a 255 search image with
        ResNet-50/MobileNetV2, 17 with AlexNet). SiamMask adds ``mask`` B x 3969 x h x w.
        """
        return self.track_from_features(self.backbone_features(x))

    def track_from_features(self, feats: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        """As :meth:`track`, from precomputed (unmasked) backbone features of the search image."""
        self._require_template()
        xf, refine = self._head_input(self._apply_masks(list(feats)))
        cls, loc = self.rpn_head.forward_with_kernel(self.kernel, xf)
        out = {"cls": cls, "loc": loc}
        if self.mask_enabled:
            out["mask"], self.mask_corr_feature = self.mask_head.forward_with_kernel(self.mask_kernel, xf)
            self.xf_refine = refine
        return out

    def track_reference(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """:meth:`track` computed PySOT's way, recomputing the template branch from the cached ``zf``."""
        self._require_template()
        xf, refine = self._head_input(self._apply_masks(self.backbone_features(x)))
        cls, loc = self.rpn_head(self.zf, xf)
        out = {"cls": cls, "loc": loc}
        if self.mask_enabled:
            out["mask"], self.mask_corr_feature = self.mask_head(self.zf, xf)
            self.xf_refine = refine
        return out

    def mask_refine(self, pos: tuple[int, int]) -> torch.Tensor:
        """SiamMask mask logits B x (127*127) at score-map ``pos`` = (row, col) of the last track()."""
        if not self.refine_enabled:
            raise RuntimeError("mask_refine() needs a SiamMask config with REFINE.REFINE: True")
        if self.mask_corr_feature is None:
            raise RuntimeError("ModelBuilder: call track() before mask_refine()")
        return self.refine_head(self.xf_refine, self.mask_corr_feature, pos)

    # ------------------------------------------------------------------ training
    @staticmethod
    def log_softmax(cls: torch.Tensor) -> torch.Tensor:
        """B x 2A x H x W logits -> B x A x H x W x 2 log-probabilities (PySOT's channel layout)."""
        b, a2, h, w = cls.size()
        cls = cls.view(b, 2, a2 // 2, h, w)
        cls = cls.permute(0, 2, 3, 4, 1).contiguous()
        return F.log_softmax(cls, dim=4)

    def forward(self, data: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Training forward with PySOT's batch keys; returns total_loss, cls_loss, loc_loss (+ mask_loss).

        ``template`` B x 3 x 127 x 127, ``search`` B x 3 x 255 x 255, ``label_cls`` B x A x h x w
        (1 pos, 0 neg, -1 ignore), ``label_loc`` B x 4 x A x h x w, ``label_loc_weight`` B x A x h x w;
        SiamMask also ``label_mask`` B x 1 x 255 x 255 in {-1, 1} and ``label_mask_weight`` B x 1 x h x w.
        Tensors are moved to the model's device. The loss weights are ``TRAIN.CLS_WEIGHT``/``LOC_WEIGHT``
        (/``MASK_WEIGHT``).
        """
        keys = ["template", "search", "label_cls", "label_loc", "label_loc_weight"]
        if self.mask_enabled:
            keys += ["label_mask", "label_mask_weight"]
        missing = [k for k in keys if k not in data]
        if missing:
            raise KeyError(f"training batch lacks key(s) {missing}; it has {sorted(data)}")
        device = next(self.parameters()).device
        batch = {k: data[k].to(device) for k in keys}

        zf, _ = self._head_input(self._apply_masks(self.backbone_features(batch["template"])))
        xf, _ = self._head_input(self._apply_masks(self.backbone_features(batch["search"])))
        cls, loc = self.rpn_head(zf, xf)
        cls_loss = select_cross_entropy_loss(self.log_softmax(cls), batch["label_cls"])
        loc_loss = weight_l1_loss(loc, batch["label_loc"], batch["label_loc_weight"])
        outputs = {
            "total_loss": self.cls_weight * cls_loss + self.loc_weight * loc_loss,
            "cls_loss": cls_loss,
            "loc_loss": loc_loss,
        }
        if self.mask_enabled:
            mask, _ = self.mask_head(zf, xf)
            mask_loss = select_mask_logistic_loss(mask, batch["label_mask"], batch["label_mask_weight"])
            outputs["total_loss"] = outputs["total_loss"] + self.mask_weight * mask_loss
            outputs["mask_loss"] = mask_loss
        return outputs
