"""Every experiment config builds and tracks on CPU; cached-kernel path == PySOT's path; named errors.

Models run in eval mode, batch 1, on a 127 template and a 167 search image (the smallest search
whose stride-8 backbone maps, 20x20, are not centre-cropped by the neck), to keep the ResNet-50
configs fast.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from pysot.config import get_cfg, load_cfg
from pysot.models import ModelBuilder
from pysot.models.backbone import BACKBONES, get_backbone
from pysot.models.head import (
    DepthwiseRPN,
    MaskCorr,
    MultiRPN,
    UPChannelRPN,
    xcorr_depthwise,
    xcorr_fast,
    xcorr_slow,
)
from pysot.models.loss import select_cross_entropy_loss, select_mask_logistic_loss, weight_l1_loss
from pysot.utils.checkpoint import load_checkpoint

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
CONFIGS = sorted(EXPERIMENTS.glob("*/config.yaml"))
SEARCH = 167

# a small ResNet-18 SiamRPN++ (the family used for the project's own trained model)
SMALL = [
    "BACKBONE.TYPE", "resnet18",
    "BACKBONE.KWARGS.width_mult", "0.25",
    "ADJUST.KWARGS.in_channels", "[32, 64, 128]",
    "ADJUST.KWARGS.out_channels", "[16, 16, 16]",
    "RPN.KWARGS.in_channels", "[16, 16, 16]",
]  # fmt: skip
R50 = EXPERIMENTS / "siamrpn_r50_l234_dwxcorr" / "config.yaml"


def _image(size: int, seed: int) -> torch.Tensor:
    """A BGR 0-255 image batch of one, B x 3 x size x size."""
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 255


def test_experiments_exist():
    names = {p.parent.name for p in CONFIGS}
    assert {"siamrpn_r50_l234_dwxcorr", "ta_siamrpn_r50_l234_dwxcorr", "siammask_r50_l3"} <= names


_MODEL_NODES = ("BACKBONE", "ADJUST", "RPN", "MASK", "REFINE", "ANCHOR")
_RUNS: dict[str, tuple] = {}


@pytest.fixture(scope="module", params=CONFIGS, ids=lambda p: p.parent.name)
def run(request):
    """Build, template and track one experiment's model (with its ``model.pth`` when it ships one).

    Configs whose model-defining nodes (and weights) are identical -- e.g. a TA config and its
    SiamRPN++ baseline -- describe the same network and share one built model, to save time.
    """
    cfg = load_cfg(request.param)
    weights = request.param.parent / "model.pth"
    key = "\n".join(cfg[n].dump() for n in _MODEL_NODES) + (str(weights) if weights.is_file() else "")
    if key not in _RUNS:
        torch.manual_seed(0)
        model = ModelBuilder(cfg).eval()
        if weights.is_file():
            load_checkpoint(model, weights)
        with torch.no_grad():
            model.template(_image(cfg.TRACK.EXEMPLAR_SIZE, 1))
            feats = model.backbone_features(_image(SEARCH, 2))
            fast = model.track_from_features(feats)
            refine = model.mask_refine((6, 6)) if model.refine_enabled else None
            reference = _pysot_head_outputs(model, feats)
        _RUNS[key] = (model, fast, reference, refine)
    return (cfg, *_RUNS[key])


def _cbr(seq: torch.nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """PySOT's ``conv (no bias) -> BatchNorm (eval) -> ReLU`` block from its weights, in functional ops."""
    conv, bn = seq[0], seq[1]
    y = F.conv2d(x, conv.weight)
    y = F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
    return F.relu(y)


def _depthwise_xcorr_reference(m, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """PySOT's ``DepthwiseXCorr.forward`` written out (pysot/models/head/rpn.py, xcorr_depthwise in
    pysot/core/xcorr.py): kernel and search branches, grouped correlation per channel, then the head
    ``1x1 conv -> BN -> ReLU -> 1x1 conv (bias)``."""
    kernel, search = _cbr(m.conv_kernel, z), _cbr(m.conv_search, x)
    b, c = kernel.shape[:2]
    feat = F.conv2d(
        search.reshape(1, b * c, *search.shape[2:]), kernel.reshape(b * c, 1, *kernel.shape[2:]), groups=b * c
    ).reshape(b, c, search.shape[2] - kernel.shape[2] + 1, -1)
    hidden = _cbr(m.head, feat)
    return F.conv2d(hidden, m.head[3].weight, m.head[3].bias)


def _reference_rpn(head, z, x) -> tuple[torch.Tensor, torch.Tensor] | None:
    """PySOT's ``DepthwiseRPN`` / ``MultiRPN`` forward from the modules' weights (None for other heads)."""
    if isinstance(head, DepthwiseRPN):
        return _depthwise_xcorr_reference(head.cls, z, x), _depthwise_xcorr_reference(head.loc, z, x)
    if isinstance(head, MultiRPN):
        outs = [_reference_rpn(getattr(head, f"rpn{i + 2}"), zi, xi) for i, (zi, xi) in enumerate(zip(z, x))]
        cls, loc = [o[0] for o in outs], [o[1] for o in outs]
        if not head.weighted:
            return sum(cls) / len(cls), sum(loc) / len(loc)
        wc, wl = F.softmax(head.cls_weight, 0), F.softmax(head.loc_weight, 0)
        return sum(c * w for c, w in zip(cls, wc)), sum(lo * w for lo, w in zip(loc, wl))
    return None


def _pysot_head_outputs(model: ModelBuilder, feats: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """PySOT's computation on the same search features, independent of our heads' code for the
    depthwise RPN heads (written out above); other heads (UPChannel, SiamMask's MaskCorr) are
    called as PySOT calls them, ``head(zf, xf)``. Our heads' numbers against PySOT's own code:
    tests/test_pysot_parity.py."""
    if model.mask_enabled:
        feats = feats[-1]  # SiamMask: the last layer feeds neck and heads
    elif len(feats) == 1:
        feats = feats[0]
    xf = model.neck(feats) if model.neck is not None else feats
    ref = _reference_rpn(model.rpn_head, model.zf, xf)
    cls, loc = ref if ref is not None else model.rpn_head(model.zf, xf)
    out = {"cls": cls, "loc": loc}
    if model.mask_enabled:
        out["mask"] = model.mask_head(model.zf, xf)[0]
    return out


def test_config_builds_and_tracks_without_nan(run):
    cfg, _, out, _, refine = run
    anchors = len(cfg.ANCHOR.RATIOS) * len(cfg.ANCHOR.SCALES)
    size = out["cls"].shape[-1]
    assert out["cls"].shape == (1, 2 * anchors, size, size)
    assert out["loc"].shape == (1, 4 * anchors, size, size)
    for name, value in out.items():
        assert torch.isfinite(value).all(), name
    if refine is not None:
        assert refine.shape == (1, 127 * 127) and torch.isfinite(refine).all()


def test_cached_kernels_equal_pysot_head_forward(run):
    _, _, fast, reference, _ = run
    assert sorted(fast) == sorted(reference)
    for name in fast:
        # the same operations written independently: equal to float32 rounding
        torch.testing.assert_close(fast[name], reference[name], rtol=1e-5, atol=1e-5, msg=name)


# ---------------------------------------------------------------------------- backbones without a config
@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_registered_backbone_at_quarter_width(name):
    # stride 8 with atrous layers: 127 -> 15x15 (AlexNet: 6x6, no padding anywhere)
    torch.manual_seed(0)
    backbone = get_backbone(name, width_mult=0.25).eval()
    with torch.no_grad():
        feats = backbone(_image(127, 13) / 255)
    assert isinstance(feats, list)
    assert [f.shape[1] for f in feats] == backbone.out_channels
    assert {tuple(f.shape[2:]) for f in feats} == ({(6, 6)} if name.startswith("alexnet") else {(15, 15)})


def test_resnet_used_layers():
    backbone = get_backbone("resnet50", used_layers=[0, 1, 2, 3], width_mult=0.25)
    assert backbone.out_channels == [16, 64, 128, 256]
    assert not any(k.startswith("layer4.") for k in backbone.state_dict())  # as PySOT: not built
    with pytest.raises(ValueError, match="used_layers"):
        get_backbone("resnet50", used_layers=[5])


# ---------------------------------------------------------------------------- heads without a config
def _kernel_vs_forward(head: torch.nn.Module, z, x) -> None:
    head.eval()
    with torch.no_grad():
        direct = head(z, x)
        cached = head.forward_with_kernel(head.template_kernel(z), x)
    direct = direct if isinstance(direct, tuple) else (direct,)
    cached = cached if isinstance(cached, tuple) else (cached,)
    assert len(direct) == len(cached)
    for a, b in zip(direct, cached):
        assert torch.equal(a, b)


def test_heads_template_kernel_path():
    torch.manual_seed(0)
    z, x = torch.randn(2, 8, 7, 7), torch.randn(2, 8, 31, 31)
    _kernel_vs_forward(DepthwiseRPN(anchor_num=5, in_channels=8, out_channels=8), z, x)
    up = UPChannelRPN(anchor_num=5, feature_in=8)
    _kernel_vs_forward(up, torch.randn(2, 8, 6, 6), torch.randn(2, 8, 22, 22))
    _kernel_vs_forward(MaskCorr(8, 8, 63 * 63), z, x)
    for weighted in (False, True):
        head = MultiRPN(anchor_num=5, in_channels=[8, 4], weighted=weighted)
        if weighted:
            head.cls_weight.data = torch.tensor([0.3, -1.0])
            head.loc_weight.data = torch.tensor([2.0, 0.5])
        _kernel_vs_forward(head, [z, torch.randn(2, 4, 7, 7)], [x, torch.randn(2, 4, 31, 31)])


def test_multirpn_fusion():
    torch.manual_seed(0)
    z, x = [torch.randn(1, 4, 7, 7)] * 2, [torch.randn(1, 4, 31, 31)] * 2
    plain = MultiRPN(anchor_num=1, in_channels=[4, 4]).eval()
    weighted = MultiRPN(anchor_num=1, in_channels=[4, 4], weighted=True).eval()
    weighted.load_state_dict(plain.state_dict(), strict=False)
    with torch.no_grad():
        c0, l0 = plain.rpn2(z[0], x[0])
        c1, l1 = plain.rpn3(z[1], x[1])
        cls, loc = plain(z, x)
        torch.testing.assert_close(cls, (c0 + c1) / 2)
        torch.testing.assert_close(loc, (l0 + l1) / 2)
        # equal logits -> softmax weights 1/2 each: the weighted head equals the plain mean
        torch.testing.assert_close(weighted(z, x)[0], cls)
        weighted.cls_weight.data = torch.tensor([math.log(3.0), 0.0])  # softmax -> (3/4, 1/4)
        torch.testing.assert_close(weighted(z, x)[0], 0.75 * c0 + 0.25 * c1)


def test_xcorr_variants_agree():
    torch.manual_seed(0)
    x, kernel = torch.randn(2, 3, 9, 9), torch.randn(2, 4 * 3, 3, 3)
    torch.testing.assert_close(xcorr_fast(x, kernel), xcorr_slow(x, kernel))
    assert xcorr_fast(x, kernel).shape == (2, 4, 7, 7)
    dk = torch.randn(2, 3, 3, 3)
    out = xcorr_depthwise(x, dk)
    # channel c of item b is the plain correlation of x[b, c] with dk[b, c]
    manual = torch.nn.functional.conv2d(x[1:2, 2:3], dk[1:2, 2:3])
    torch.testing.assert_close(out[1:2, 2:3], manual)


# ---------------------------------------------------------------------------- small model: API details
@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    cfg = load_cfg(R50, SMALL)
    return cfg, ModelBuilder(cfg).eval()


def test_small_model_family(small):
    _, model = small
    assert model.feature_channels == [32, 64, 128]
    with torch.no_grad():
        feats = model.backbone_features(_image(127, 3))
    assert [tuple(f.shape) for f in feats] == [(1, 32, 15, 15), (1, 64, 15, 15), (1, 128, 15, 15)]


def test_track_reference_equals_track(small):
    _, model = small
    x = _image(SEARCH, 11)
    with torch.no_grad():
        model.template(_image(127, 12))
        fast, reference = model.track(x), model.track_reference(x)
    assert torch.equal(fast["cls"], reference["cls"]) and torch.equal(fast["loc"], reference["loc"])


def test_track_before_template_fails():
    model = ModelBuilder(load_cfg(R50, SMALL))
    with pytest.raises(RuntimeError, match="template"):
        model.track(_image(SEARCH, 0))


def test_channel_masks(small):
    _, model = small
    z, x = _image(127, 4), _image(SEARCH, 5)
    keys = list(model.state_dict())
    gen = torch.Generator().manual_seed(6)
    masks = [(torch.rand(c, generator=gen) > 0.5).float() for c in model.feature_channels]
    with torch.no_grad():
        model.set_channel_masks(None)
        model.template(z)
        plain = model.track(x)
        model.set_channel_masks([torch.ones(c) for c in model.feature_channels])
        model.template(z)
        assert torch.equal(model.track(x)["cls"], plain["cls"])  # all-ones masks change nothing

        model.set_channel_masks(masks)
        model.template(z)
        masked = model.track(x)
        assert torch.equal(masked["cls"], model.track_reference(x)["cls"])
        # the same as zeroing the channels by hand, for template AND search features
        model.set_channel_masks(None)
        by_hand = [f * m[None, :, None, None] for f, m in zip(model.backbone_features(z), masks)]
        model.template_from_features(by_hand)
        by_hand_x = [f * m[None, :, None, None] for f, m in zip(model.backbone_features(x), masks)]
        expected = model.track_from_features(by_hand_x)
    assert torch.equal(masked["cls"], expected["cls"]) and torch.equal(masked["loc"], expected["loc"])
    assert not torch.equal(masked["cls"], plain["cls"])
    assert list(model.state_dict()) == keys  # masks are not state


def test_channel_mask_validation(small):
    _, model = small
    with pytest.raises(ValueError, match="expected 3 channel masks"):
        model.set_channel_masks([torch.ones(32)])
    with pytest.raises(ValueError, match="channel mask 1 must be 1-D with 64 entries"):
        model.set_channel_masks([torch.ones(32), torch.ones(65), None])


def test_training_forward_and_losses(small):
    cfg, model = small
    torch.manual_seed(0)
    b, a, s = 2, 5, 25
    label_cls = torch.full((b, a, s, s), -1, dtype=torch.long)
    label_cls[:, :, 10:14, 10:14] = 1
    label_cls[:, :, :3] = 0
    data = {
        "template": _image(127, 7).expand(b, -1, -1, -1),
        "search": _image(255, 8).expand(b, -1, -1, -1),
        "label_cls": label_cls,
        "label_loc": torch.randn(b, 4, a, s, s),
        "label_loc_weight": (label_cls == 1).float() / 80,
    }
    model.train()
    try:
        out = model(data)
        out["total_loss"].backward()
    finally:
        model.eval()
        model.zero_grad()
    assert torch.isfinite(out["total_loss"])
    expected = cfg.TRAIN.CLS_WEIGHT * out["cls_loss"] + cfg.TRAIN.LOC_WEIGHT * out["loc_loss"]
    torch.testing.assert_close(out["total_loss"], expected)
    with pytest.raises(KeyError, match="label_loc_weight"):
        model({k: v for k, v in data.items() if k != "label_loc_weight"})


def test_log_softmax_layout():
    # channel k*A + a holds class k of anchor a (PySOT's layout): 2 anchors, class-1 logit 0 or log 3
    cls = torch.zeros(1, 4, 1, 1)
    cls[0, 3] = math.log(3.0)  # anchor 1, class 1
    out = ModelBuilder.log_softmax(cls).exp()
    assert out.shape == (1, 2, 1, 1, 2)
    torch.testing.assert_close(out[0, 0, 0, 0], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(out[0, 1, 0, 0], torch.tensor([0.25, 0.75]))


def test_loss_values():
    # uniform predictions: NLL log 2 for positives and negatives alike -> 0.5 log2 + 0.5 log2
    pred = torch.full((1, 1, 2, 2, 2), math.log(0.5))
    label = torch.tensor([[[[1, 0], [-1, 1]]]])
    torch.testing.assert_close(select_cross_entropy_loss(pred, label), torch.tensor(math.log(2.0)))
    # no negatives at all: the negative half contributes 0 (not NaN as in PySOT)
    only_pos = select_cross_entropy_loss(pred, torch.ones(1, 1, 2, 2))
    torch.testing.assert_close(only_pos, torch.tensor(0.5 * math.log(2)))
    # L1: one anchor, |1-0| * 4 coordinates * weight 0.5, summed, over batch 2 -> 1.0
    pred_loc = torch.ones(2, 4, 1, 1)
    weight = torch.tensor([0.5, 0.0]).view(2, 1, 1, 1)
    loss = weight_l1_loss(pred_loc, torch.zeros(2, 4, 1, 1, 1), weight)
    torch.testing.assert_close(loss, torch.tensor(1.0))


def test_mask_loss_window_alignment():
    # ground truth +1 exactly on the central 127x127 window [64, 191) of the 255x255 search image
    gt = -torch.ones(1, 1, 255, 255)
    gt[:, :, 64:191, 64:191] = 1
    p_m = torch.full((1, 63 * 63, 25, 25), 20.0)  # every position predicts "all foreground"
    weight = torch.zeros(1, 1, 25, 25)
    weight[0, 0, 12, 12] = 1  # the centre position's window is the central window: all +1
    loss = select_mask_logistic_loss(p_m, gt, weight)
    torch.testing.assert_close(loss, torch.tensor(math.log1p(math.exp(-20.0))))
    # one row up, the window starts 8 pixels higher: its top 8 of 127 rows are background (-1)
    weight = torch.zeros(1, 1, 25, 25)
    weight[0, 0, 11, 12] = 1
    expected = (8 * math.log1p(math.exp(20.0)) + 119 * math.log1p(math.exp(-20.0))) / 127
    torch.testing.assert_close(select_mask_logistic_loss(p_m, gt, weight), torch.tensor(expected))
    # no trained position: zero loss
    assert float(select_mask_logistic_loss(p_m, gt, torch.zeros(1, 1, 25, 25))) == 0.0


# ---------------------------------------------------------------------------- errors that name the problem
def test_unknown_config_key_is_named(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text(R50.read_text().replace("PENALTY_K:", "PENALTY_KK:"))
    with pytest.raises(KeyError, match=r"config\.yaml.*TRACK\.PENALTY_KK"):
        load_cfg(bad)


def test_unknown_backbone_lists_known_ones():
    with pytest.raises(ValueError, match=r"BACKBONE\.TYPE: unknown type 'resnet51'.*'resnet50'"):
        ModelBuilder(load_cfg(R50, ["BACKBONE.TYPE", "resnet51"]))
    with pytest.raises(ValueError, match=r"unknown backbone 'vgg'.*'alexnet'"):
        get_backbone("vgg")


@pytest.mark.parametrize(
    "override, message",
    [
        (["BACKBONE.KWARGS.used_layer", "[2]"], r"BACKBONE\.KWARGS: unknown key\(s\) \['used_layer'\]"),
        (["ADJUST.KWARGS.center", "7"], r"ADJUST\.KWARGS: unknown key\(s\) \['center'\].*center_size"),
        (["RPN.KWARGS.weigthed", "True"], r"RPN\.KWARGS: unknown key\(s\) \['weigthed'\].*weighted"),
        (["RPN.TYPE", "DepthwiseRPN"], r"RPN\.KWARGS: unknown key\(s\) \['weighted'\]"),
        (["RPN.TYPE", "MultiRPNN"], r"RPN\.TYPE: unknown type 'MultiRPNN'.*'DepthwiseRPN'"),
        (["ADJUST.TYPE", "AdjustAll"], r"ADJUST\.TYPE: unknown type 'AdjustAll'.*'AdjustAllLayer'"),
    ],
)
def test_bad_kwargs_are_named(override, message):
    with pytest.raises(ValueError, match=message):
        ModelBuilder(load_cfg(R50, override))


def test_missing_required_kwargs_are_named():
    cfg = get_cfg()  # PySOT's defaults leave ADJUST.KWARGS empty
    expected = r"ADJUST\.KWARGS: missing required key\(s\) \['in_channels', 'out_channels'\]"
    with pytest.raises(ValueError, match=expected):
        ModelBuilder(cfg)


def test_anchor_num_is_derived():
    ratios = ["ANCHOR.RATIOS", "[0.5, 1, 2]"]
    with pytest.raises(ValueError, match=r"RPN\.KWARGS\.anchor_num=5 disagrees .* = 3"):
        ModelBuilder(load_cfg(R50, SMALL + ratios))
    cfg = load_cfg(R50, SMALL + ratios + ["RPN.KWARGS.anchor_num", "3"])
    assert cfg.ANCHOR.ANCHOR_NUM == 3
    model = ModelBuilder(cfg)
    assert model.rpn_head.rpn2.cls.head[3].out_channels == 6  # 2 classes x 3 anchors
    # a config without RPN.KWARGS.anchor_num gets the derived count, not the constructor default 5
    alex = get_cfg()
    alex.merge_from_file(str(EXPERIMENTS / "siamrpn_alex_dwxcorr" / "config.yaml"))
    del alex.RPN.KWARGS["anchor_num"]
    alex.ANCHOR.RATIOS = [1.0]
    assert ModelBuilder(alex).rpn_head.loc.head[3].out_channels == 4


def test_two_configs_coexist():
    torch.manual_seed(0)
    alex_cfg = load_cfg(EXPERIMENTS / "siamrpn_alex_dwxcorr" / "config.yaml")
    alex = ModelBuilder(alex_cfg).eval()
    z, x = _image(127, 9), _image(SEARCH, 10)
    with torch.no_grad():
        alex.template(z)
        before = alex.track(x)["cls"]
        small_cfg = load_cfg(R50, SMALL)
        small = ModelBuilder(small_cfg).eval()
        small.template(z)
        small_out = small.track(x)["cls"]
        after = alex.track(x)["cls"]
    assert torch.equal(before, after)
    assert alex_cfg.BACKBONE.TYPE == "alexnetlegacy" and small_cfg.BACKBONE.TYPE == "resnet18"
    assert before.shape[-1] != small_out.shape[-1]  # 6 (AlexNet) vs 14 (ResNet) at 167
