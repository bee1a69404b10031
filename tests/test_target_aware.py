"""Target-aware channel selection: label, counts, planted channels, fallback, masks through the model."""

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pysot.config import get_cfg, load_cfg
from pysot.models.model_builder import ModelBuilder
from pysot.models.target_aware import (
    METHODS,
    TargetAwareSelector,
    channel_counts,
    gaussian_label,
    regression_kernel_size,
    top_k_mask,
)
from pysot.tracker.siamrpn_tracker import SiamRPNTracker
from pysot.tracker.tracker_builder import build_tracker

TINY = Path(__file__).resolve().parents[1] / "experiments" / "ta_siamrpn_tiny_synth" / "config.yaml"

# small problems: template features 11 x 11 (kernel 2 * ceil(3 / 2) + 1 = 5), search features 23 x 23
CHANNELS = (8, 12, 16)
PLANTED = [[1, 5], [0, 7, 11], [3, 4, 15]]


@pytest.fixture(autouse=True)
def one_thread():
    """One intra-op thread: the tiny convolutions here run slower with more on a shared CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def planted_features(scale=1.0, seed=0):
    """Search features: uniform noise in [0, 0.5) plus channels holding a blob at the centre."""
    gen = torch.Generator().manual_seed(seed)
    d = torch.arange(23) - 11.0
    blob = 2 * torch.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / 2)
    feats = []
    for c, planted in zip(CHANNELS, PLANTED):
        x = torch.rand((1, c, 23, 23), generator=gen) * 0.5
        x[0, planted] = blob
        feats.append(x * scale)
    return [torch.zeros(1, c, 11, 11) for c in CHANNELS], feats


def selected(masks):
    return [sorted(torch.nonzero(m).flatten().tolist()) for m in masks]


def test_label_matches_measured_values():
    y = gaussian_label((31, 31), (15, 15), sigma_factor=0.1, alpha=0.2)
    # sigma = 1.5: exp(-0.2 / 2.25) = 0.9149 one cell off, exp(-0.8 / 2.25) = 0.7008 two off
    assert y[15, 15] == 1.0
    assert y[15, 16].item() == pytest.approx(0.9149, abs=5e-5)
    assert y[13, 15].item() == pytest.approx(0.7008, abs=5e-5)
    assert y.sum().item() == pytest.approx(35.34, abs=5e-3)
    assert (
        regression_kernel_size(15) == 9 and regression_kernel_size(11) == 5 and regression_kernel_size(4) == 1
    )


def test_channel_counts_exact_fractions_and_minimum():
    assert channel_counts([300, 1024, 1500], [512, 1024, 2048], 256) == [300, 1024, 1500]
    # fractions round half up: 0.6 * 32 = 19.2 -> 19, 0.75 * 128 = 96
    assert channel_counts([0.6, 1.0, 0.75], [32, 64, 128], 48) == [19, 64, 96]
    # minimum over the first two layers: 10 + 20 < 100 -> the second layer grows to 90
    assert channel_counts([10, 20, 5], [64, 128, 32], 100) == [10, 90, 5]
    # 250 > 10 + 128: the second layer is full (128), the first takes the rest (112)
    assert channel_counts([10, 20, 5], [128, 128, 32], 250) == [122, 128, 5]
    # more than both layers hold: all of them
    assert channel_counts([10, 20], [64, 128], 1000) == [64, 128]
    with pytest.raises(ValueError, match=r"TA.CHANNELS\[2\]=1500: layer 2 has 1024"):
        channel_counts([300, 1024, 1500], [512, 1024, 1024], 256)
    with pytest.raises(ValueError, match=r"TA.CHANNELS\[0\]=1.5"):
        channel_counts([1.5, 1.0], [8, 8], 0)
    with pytest.raises(ValueError, match="3 entries but the backbone gives 1"):
        channel_counts([1, 2, 3], [8], 0)


def test_top_k_mask_ties_and_nan():
    mask = top_k_mask(torch.tensor([1.0, 3.0, 3.0, 2.0]), 2)
    assert mask.tolist() == [0, 1, 1, 0]
    assert top_k_mask(torch.tensor([5.0, 5.0, 5.0]), 1).tolist() == [1, 0, 0]  # ties: lowest index
    with pytest.raises(ValueError, match="NaN"):
        top_k_mask(torch.tensor([1.0, float("nan")]), 1)


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="'ridge' is not known; known: sgd, dual, gradient"):
        TargetAwareSelector(method="ridge")


@pytest.mark.parametrize("method", METHODS)
def test_planted_channels_are_selected(method):
    zf, xf = planted_features()
    sel = TargetAwareSelector(method=method, channels=[len(p) for p in PLANTED], min_channels=0, max_iters=40)
    masks = sel.select(zf, xf)
    assert selected(masks) == PLANTED
    assert [m.dtype for m in masks] == [torch.float32] * 3
    assert all(not info.fallback for info in sel.last_fit)


def test_dual_follows_the_sgd_iterations():
    # the dual method runs the same iterations in another basis: same stopping step, same
    # importances up to float32 rounding of the convolution-based SGD
    zf, xf = planted_features(seed=3)
    runs = {}
    for method in ("sgd", "dual"):
        sel = TargetAwareSelector(method=method, channels=[0.5, 0.5, 0.5], min_channels=0, max_iters=40)
        runs[method] = (sel.importances(zf, xf), [(i.iters, i.lr) for i in sel.last_fit])
    assert runs["sgd"][1] == runs["dual"][1]
    for a, b in zip(runs["sgd"][0], runs["dual"][0]):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-6 * float(b.abs().max()))


@pytest.mark.parametrize("method", ["sgd", "dual"])
def test_divergence_falls_back_with_a_warning(method, caplog):
    # features 1000x larger: the paper's steps diverge within a few iterations
    zf, xf = planted_features(scale=1e3)
    sel = TargetAwareSelector(method=method, channels=[len(p) for p in PLANTED], min_channels=0, max_iters=40)
    with caplog.at_level(logging.WARNING, logger="pysot.models.target_aware"):
        imps = sel.importances(zf, xf)
    assert all(torch.isfinite(i).all() for i in imps)
    # sgd runs, finds the loss non-finite and refits; dual predicts the divergence from the curvature
    # before iterating and fits once with the clamped step
    reason = {"sgd": "non-finite loss at step", "dual": "predicted divergence: lr="}[method]
    assert all(info.fallback.startswith(reason) for info in sel.last_fit)
    assert all(info.lr < lr for info, lr in zip(sel.last_fit, sel.lr))  # the clamped step
    assert sum("diverge" in r.getMessage() for r in caplog.records) == 3
    assert selected(sel.select(zf, xf)) == PLANTED


def test_dual_predicted_divergence_gives_the_channels_of_sgds_refit():
    # the same clamped step as sgd's refit after its divergence: the same iterations, same channels
    zf, xf = planted_features(scale=1e3, seed=4)
    runs = {}
    for method in ("sgd", "dual"):
        sel = TargetAwareSelector(method=method, channels=[0.5, 0.5, 0.5], min_channels=0, max_iters=40)
        runs[method] = (sel.select(zf, xf), [(i.iters, i.lr) for i in sel.last_fit])
    assert [it for it, _ in runs["sgd"][1]] == [it for it, _ in runs["dual"][1]]
    for (_, a), (_, b) in zip(runs["sgd"][1], runs["dual"][1]):
        assert a == pytest.approx(b, rel=1e-4)  # the step from the power-iteration curvature
    assert selected(runs["sgd"][0]) == selected(runs["dual"][0])


def test_gradient_importance_is_minus_the_autograd_gradient():
    # independent: float64 conv2d + autograd of the mse at the selector's initial weights
    zf, xf = planted_features(seed=6)
    sel = TargetAwareSelector(method="gradient", channels=[0.5, 0.5, 0.5], min_channels=0, seed=3)
    got = sel.importances(zf, xf)
    gen = torch.Generator().manual_seed(3)
    for x, imp in zip(xf, got):
        c, k = x.shape[1], 5
        w0 = torch.randn((1, c, k, k), generator=gen) / (math.sqrt(c * 2 * 2) * 1e8)
        w = w0.double().requires_grad_(True)
        y = gaussian_label((23, 23), (11, 11)).double()
        mse = ((torch.nn.functional.conv2d(x.double(), w, padding=2)[0, 0] - y) ** 2).mean()
        (grad,) = torch.autograd.grad(mse, w)
        want = -grad.sum(dim=(0, 2, 3))
        torch.testing.assert_close(imp.double(), want, rtol=1e-6, atol=1e-9 * float(want.abs().max()))


def test_blockwise_gram_is_the_gram_matrix():
    from pysot.models.target_aware import _gram

    x = torch.randint(-4, 5, (37, 53)).float()  # integers: every dot product is exact in float32
    assert torch.equal(_gram(x), x.T @ x) and torch.equal(_gram(x, blocks=3), x.T @ x)


def test_same_input_same_selection_and_global_rng_untouched():
    zf, xf = planted_features(seed=5)
    state = torch.random.get_rng_state()
    sel = TargetAwareSelector(method="dual", channels=[0.5, 0.5, 0.5], min_channels=0, max_iters=20)
    first = sel.importances(zf, xf)
    second = TargetAwareSelector(
        method="dual", channels=[0.5, 0.5, 0.5], min_channels=0, max_iters=20
    ).importances(zf, xf)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert torch.equal(torch.random.get_rng_state(), state)


def test_from_config_reads_the_ta_node():
    cfg = get_cfg()
    cfg.TA.METHOD = "gradient"
    cfg.TA.CHANNELS = [0.5, 1.0, 0.25]
    sel = TargetAwareSelector.from_config(cfg.TA)
    assert sel.method == "gradient" and sel.channels == [0.5, 1.0, 0.25] and sel.lr == [1e-3, 1e-3, 4.92e-5]


# ----------------------------------------------------------------------------- through the tracker
def tiny_cfg(**ta):
    cfg = load_cfg(TINY)
    cfg.defrost()
    for key, value in ta.items():
        cfg.TA[key] = value
    cfg.freeze()
    return cfg


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    model = ModelBuilder(load_cfg(TINY)).eval()
    # keep the random network's activations small so the heads' outputs stay finite
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.5)
    return model


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    return [np.roll(base, (2 * i, 3 * i), axis=(0, 1)) for i in range(3)]


def run(tracker, frames, box=(60, 40, 30, 24)):
    tracker.init(frames[0], list(box))
    return [tracker.track(f) for f in frames[1:]]


def test_masks_zero_exactly_the_unselected_channels(tiny_model, frames):
    model = tiny_model
    backbone_out, neck_in = [], []
    hooks = [
        model.backbone.register_forward_hook(lambda m, i, o: backbone_out.append([t.clone() for t in o])),
        model.neck.register_forward_pre_hook(lambda m, i: neck_in.append([t.clone() for t in i[0]])),
    ]
    try:
        tracker = build_tracker(tiny_cfg(METHOD="gradient"), model)
        run(tracker, frames[:2])
    finally:
        for h in hooks:
            h.remove()
    masks = model.channel_masks
    cfg = tiny_cfg()
    counts = channel_counts(cfg.TA.CHANNELS, model.feature_channels, cfg.TA.MIN_CHANNELS)
    assert [int(m.sum()) for m in masks] == counts and counts != model.feature_channels
    assert all(torch.equal(m, m.round()) for m in masks)  # exactly 0 or 1
    # backbone calls: template, TA search crop, tracked search; neck calls: template, tracked search
    assert len(backbone_out) == 3 and len(neck_in) == 2
    for feats, raw in ((neck_in[0], backbone_out[0]), (neck_in[1], backbone_out[2])):
        for f, r, m in zip(feats, raw, masks):
            off = m == 0
            assert torch.equal(f[:, off], torch.zeros_like(f[:, off]))
            assert torch.equal(f[:, ~off], r[:, ~off])


def test_ta_off_is_plain_siamrpn_bit_for_bit(tiny_model, frames):
    plain = run(build_tracker(tiny_cfg(ENABLE=False), tiny_model), frames)
    # a TA run first leaves masks on the model; a TA-off init must clear them
    run(build_tracker(tiny_cfg(METHOD="gradient"), tiny_model), frames)
    again = run(build_tracker(tiny_cfg(ENABLE=False, METHOD="dual", CHANNELS=[1, 1, 1]), tiny_model), frames)
    # keeping every channel multiplies by exactly 1.0: identical to TA off
    all_kept = run(build_tracker(tiny_cfg(METHOD="gradient", CHANNELS=[1.0, 1.0, 1.0]), tiny_model), frames)
    assert plain == again == all_kept
    assert all(np.isfinite(o["bbox"]).all() for o in plain)


def test_reference_path_gives_identical_boxes(tiny_model, frames):
    cfg = tiny_cfg(METHOD="gradient")
    fast = run(build_tracker(cfg, tiny_model), frames, box=(2, 3, 40, 30))  # the crops leave the image
    reference = run(build_tracker(cfg, tiny_model, reference=True), frames, box=(2, 3, 40, 30))
    assert fast == reference


class PlantedModel(torch.nn.Module):
    """Backbone: the planted features (times ``scale``) for any crop; heads: one peak at the centre."""

    def __init__(self, scale):
        super().__init__()
        self.device_anchor = torch.nn.Parameter(torch.zeros(1))
        self.zf, self.xf = planted_features(scale)
        self.masks = None

    def backbone_features(self, x):
        return self.zf if x.shape[-1] == 127 else self.xf

    def set_channel_masks(self, masks):
        self.masks = masks

    def template_from_features(self, feats):
        self.template_feats = feats

    def track(self, x):
        cls = torch.zeros(1, 10, 25, 25)
        cls[0, 7, 12, 12] = 5.0  # foreground logit of anchor 2 at the centre
        return {"cls": cls, "loc": torch.zeros(1, 20, 25, 25)}


@pytest.mark.parametrize("method", ["sgd", "dual"])
def test_diverging_fit_in_the_tracker_gives_finite_boxes(method, frames, caplog):
    model = PlantedModel(scale=1e3)
    selector = TargetAwareSelector(method=method, channels=[2, 3, 3], min_channels=0, max_iters=30)
    tracker = SiamRPNTracker(model, target_aware=selector)
    with caplog.at_level(logging.WARNING, logger="pysot.models.target_aware"):
        out = run(tracker, frames)
    assert sum("diverge" in r.getMessage() for r in caplog.records) == 3
    assert selected(model.masks) == PLANTED
    assert all(np.isfinite(o["bbox"]).all() and np.isfinite(o["best_score"]) for o in out)


BAG = Path(__file__).resolve().parents[2] / "shared" / "data" / "bag.avi"


@pytest.mark.skipif(not BAG.is_file(), reason="shared/data/bag.avi is not present")
def test_reference_path_on_a_real_video(tiny_model):
    cv2 = pytest.importorskip("cv2")
    cap = cv2.VideoCapture(str(BAG))
    video = [cap.read()[1] for _ in range(4)]
    cap.release()
    cfg = tiny_cfg(METHOD="dual")
    box = (315, 140, 112, 112)  # the bag in the first frame
    fast = run(build_tracker(cfg, tiny_model), video, box)
    assert run(build_tracker(cfg, tiny_model, reference=True), video, box) == fast
