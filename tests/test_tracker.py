"""Tracker arithmetic on hand-built inputs (PySOT's SiamRPN / SiamRPN-LT conventions)."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from pysot.config import get_cfg
from pysot.tracker.base_tracker import SiameseTracker, crop_window, crop_window_padded_copy
from pysot.tracker.siamrpn_tracker import SiamRPNTracker, score_map_size
from pysot.tracker.siamrpnlt_tracker import SiamRPNLTTracker
from pysot.tracker.tracker_builder import build_tracker

A = 5  # anchors per position: ratios (0.33, 0.5, 1, 2, 3), scale 8
S = 25  # score size for 255 / 127 / stride 8 / base 8


class ScriptedModel(nn.Module):
    """Returns hand-built logits: background 0, foreground ``fg[a, i, j]`` (default -20), loc 0
    except at the ``deltas`` entries.

    ``peaks`` maps (anchor, row, col) -> foreground logit (peaks outside the map are skipped).
    The score map size follows the search
    size as PySOT's model would: (x - 127) // 8 + 1 + 8. Records the shapes of the crops it gets.
    """

    def __init__(self, peaks=None, deltas=None):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the tracker a device
        self.peaks = dict(peaks or {})
        self.deltas = dict(deltas or {})  # (anchor, row, col) -> (dx, dy, dw, dh)
        self.templates, self.searches = [], []
        self.masks = "unset"

    def set_channel_masks(self, masks):
        self.masks = masks

    def template(self, z):
        self.templates.append(z.clone())

    def track(self, x):
        self.searches.append(tuple(x.shape))
        s = score_map_size(x.shape[-1], 127, 8, 8)
        fg = torch.full((A, s, s), -20.0)
        for (a, i, j), logit in self.peaks.items():
            if i < s and j < s:
                fg[a, i, j] = logit
        cls = torch.cat([torch.zeros(A, s, s), fg])[None]
        loc = torch.zeros(1, 4 * A, s, s)
        for (a, i, j), delta in self.deltas.items():
            for k, value in enumerate(delta):  # channel k * A + a holds component k of anchor a
                loc[0, k * A + a, i, j] = value
        return {"cls": cls, "loc": loc}

    track_reference = track


def make_tracker(model, cls=SiamRPNTracker, **kwargs):
    args = dict(penalty_k=0.0, window_influence=0.0, lr=0.0)
    args.update(kwargs)
    return cls(model, **args)


# a 63.5 x 63.5 target: w_z = h_z = 63.5 + 0.5 * 127 = 127, so s_z = 127 and scale_z = 1 exactly
BOX = [150.0, 100.0, 63.5, 63.5]
CENTRE = (150 + 62.5 / 2, 100 + 62.5 / 2)  # x + (w - 1) / 2
IMG = np.full((400, 500, 3), 90, np.uint8)


def test_score_size_and_window():
    assert score_map_size(255, 127, 8, 8) == 25
    assert score_map_size(831, 127, 8, 8) == 97
    t = make_tracker(ScriptedModel())
    assert t.window.shape == (A * S * S,) and t.anchors.shape == (A * S * S, 4)
    # Hanning window: 1 only at the centre cell (np.hanning(25)[12] == 1), 0 on the border
    assert t.window[12 * S + 12] == 1.0 and t.window[0] == 0.0
    np.testing.assert_array_equal(t.window[: S * S], t.window[S * S : 2 * S * S])  # same for each anchor


def test_init_centre_convention():
    model = ScriptedModel()
    t = make_tracker(model)
    t.init(IMG, [10, 20, 30, 40])
    # centre = (x + (w - 1) / 2, y + (h - 1) / 2)
    np.testing.assert_array_equal(t.center_pos, [24.5, 39.5])
    assert model.masks is None  # plain SiamRPN++: masks cleared
    # the template crop: s_z = round(sqrt((30 + 35) * (40 + 35))) = round(69.82) = 70 pixels
    z = model.templates[0]
    assert z.shape == (1, 3, 127, 127) and z.dtype == torch.float32
    expected = SiameseTracker().get_subwindow(IMG, [24.5, 39.5], 127, 70, np.mean(IMG, axis=(0, 1)))
    assert torch.equal(z, expected)


def test_single_peak_gives_expected_box():
    # anchor 2 (64 x 64) at row 12, column 14: offset (14 - 12) * 8 = 16 px right of the centre;
    # loc = 0 decodes to the anchor itself; scale_z = 1, so the centre moves by exactly 16 px
    model = ScriptedModel({(2, 12, 14): 3.0})
    t = make_tracker(model, lr=0.4)
    t.init(IMG, BOX)
    out = t.track(IMG)
    score = 1 / (1 + np.exp(-3.0))  # softmax of (0, 3), computed in float32 by the tracker
    assert out["best_score"] == pytest.approx(score, abs=1e-7)
    lr = score * 0.4  # penalty 1 (PENALTY_K = 0)
    w = 63.5 * (1 - lr) + 64 * lr  # smoothed towards the anchor's 64 px
    cx, cy = CENTRE[0] + 16, CENTRE[1]
    np.testing.assert_allclose(out["bbox"], [cx - w / 2, cy - w / 2, w, w], rtol=0, atol=1e-6)
    assert model.searches == [(1, 3, 255, 255)]  # round(s_x) = round(127 * 255 / 127) resized to 255


def test_nonzero_deltas_decode_with_the_anchors_own_width_and_height():
    # anchor 0 (ratio 0.33: int(sqrt(64 / 0.33)) = 13, int(13 * 0.33) = 4, times 8 -> 104 x 32) at
    # row 14, column 9: its centre is (-96 + 9 * 8, -96 + 14 * 8) = (-24, 16) px from the crop centre.
    # deltas (0.25, -0.5, ln 1.5, ln 0.5) decode to cx = 0.25 * 104 - 24 = 2, cy = -0.5 * 32 + 16 = 0,
    # w = 1.5 * 104 = 156, h = 0.5 * 32 = 16 (crop pixels; scale_z = 1 for this target)
    deltas = {(0, 14, 9): (0.25, -0.5, math.log(1.5), math.log(0.5))}
    model = ScriptedModel({(0, 14, 9): 20.0}, deltas)
    t = make_tracker(model, lr=1.0)
    t.init(IMG, BOX)
    out = t.track(IMG)
    lr = 1 / (1 + math.exp(-20.0))  # penalty 1 (PENALTY_K = 0) times the score, times LR = 1
    w, h = 63.5 * (1 - lr) + 156 * lr, 63.5 * (1 - lr) + 16 * lr
    cx, cy = CENTRE[0] + 2, CENTRE[1] + 0
    np.testing.assert_allclose(out["bbox"], [cx - w / 2, cy - h / 2, w, h], rtol=0, atol=1e-4)
    # the same deltas on anchor 4 (ratio 3: 4 x 12 -> 32 x 96) at row 10, column 15, centre (24, -16):
    # cx = 0.25 * 32 + 24 = 32, cy = -0.5 * 96 - 16 = -64, w = 48, h = 48
    deltas = {(4, 10, 15): (0.25, -0.5, math.log(1.5), math.log(0.5))}
    t = make_tracker(ScriptedModel({(4, 10, 15): 20.0}, deltas), lr=1.0)
    t.init(IMG, BOX)
    out = t.track(IMG)
    w = h = 63.5 * (1 - lr) + 48 * lr
    np.testing.assert_allclose(out["bbox"], [CENTRE[0] + 32 - w / 2, CENTRE[1] - 64 - h / 2, w, h], atol=1e-4)


def test_size_clipped_to_at_least_10_px():
    # deltas dw = dh = ln(0.05) on the centre anchor 2 (64 x 64) decode to 3.2 x 3.2 px; with lr ~ 1
    # the smoothed size is ~3.2 px in both directions, clipped up to 10 x 10
    deltas = {(2, 12, 12): (0.0, 0.0, math.log(0.05), math.log(0.05))}
    t = make_tracker(ScriptedModel({(2, 12, 12): 20.0}, deltas), lr=1.0)
    t.init(IMG, BOX)
    out = t.track(IMG)
    np.testing.assert_allclose(out["bbox"], [CENTRE[0] - 5, CENTRE[1] - 5, 10, 10], atol=1e-9)


def test_centre_clipped_with_the_image_width_and_height():
    # a wide image (W 500, H 240): the target at x ~ 440 is inside (x <= W) though beyond H; a peak
    # 96 px right and 96 px down puts the centre at (535.75, 227.75 + 96): clipped to (500, 240)
    img = np.full((240, 500, 3), 90, np.uint8)
    box = [440.0, 196.0, 63.5, 63.5]
    t = make_tracker(ScriptedModel({(2, 24, 24): 20.0}), lr=0.0)
    t.init(img, box)
    np.testing.assert_array_equal(t.center_pos, [440 + 31.25, 196 + 31.25])
    out = t.track(img)
    np.testing.assert_allclose(t.center_pos, [500, 240])
    np.testing.assert_allclose(out["bbox"], [500 - 63.5 / 2, 240 - 63.5 / 2, 63.5, 63.5], atol=1e-9)


def test_cosine_window_prefers_the_centre():
    # two equal peaks of anchor 2: (2, 2) comes first in the flattened order, (12, 12) is the centre
    peaks = {(2, 2, 2): 20.0, (2, 12, 12): 20.0}
    no_window = make_tracker(ScriptedModel(peaks), window_influence=0.0)
    no_window.init(IMG, BOX)
    # without the window argmax takes the first: (2 - 12) * 8 = -80 px in x and y
    assert no_window.track(IMG)["bbox"][0] == pytest.approx(CENTRE[0] - 80 - 63.5 / 2)
    window = make_tracker(ScriptedModel(peaks), window_influence=0.44)
    window.init(IMG, BOX)
    assert window.track(IMG)["bbox"][0] == pytest.approx(CENTRE[0] - 63.5 / 2)


def test_shape_penalty_prefers_the_current_aspect_ratio():
    # equal peaks at the centre for anchor 0 (104 x 32) and anchor 2 (64 x 64); the square target
    peaks = {(0, 12, 12): 3.0, (2, 12, 12): 3.0}
    no_penalty = make_tracker(ScriptedModel(peaks), penalty_k=0.0, lr=1.0)
    no_penalty.init(IMG, BOX)
    score = 1 / (1 + np.exp(-3.0))
    out = no_penalty.track(IMG)
    # tie -> the first (anchor 0); lr = 1 * score: width 63.5 (1 - lr) + 104 lr
    assert out["bbox"][2] == pytest.approx(63.5 * (1 - score) + 104 * score, abs=1e-5)

    penalised = make_tracker(ScriptedModel(peaks), penalty_k=0.04, lr=1.0)
    penalised.init(IMG, BOX)
    out = penalised.track(IMG)
    # anchor 2 wins; its penalty by hand: sz(w, h) = sqrt((w + p)(h + p)), p = (w + h) / 2
    # s_c = max(r, 1/r) of sz(64, 64) / sz(63.5, 63.5) = 128 / 127; r_c = 1 (both square)
    penalty = np.exp(-(128 / 127 - 1) * 0.04)
    lr = penalty * score
    assert out["bbox"][2] == pytest.approx(63.5 * (1 - lr) + 64 * lr, abs=1e-6)
    # anchor 0's penalty is lower: r_c = 104 / 32 = 3.25, s_c = sqrt(172 * 100) / 127
    assert np.exp(-(3.25 * np.sqrt(172 * 100) / 127 - 1) * 0.04) < penalty


def test_box_clipped_to_image():
    # a peak at the far left: centre -96 * 1 px from 181.25 stays inside; size clipped to >= 10
    model = ScriptedModel({(2, 12, 0): 20.0})
    t = make_tracker(model)
    t.init(IMG, [0.0, 0.0, 63.5, 63.5])  # centre (31.25, 31.25)
    out = t.track(IMG)
    # cx = 31.25 - 96 < 0 -> clipped to 0; width unchanged (lr = 0)
    assert out["bbox"][0] == -63.5 / 2 and out["bbox"][1] == 31.25 - 63.5 / 2
    small = make_tracker(ScriptedModel({(2, 12, 12): 20.0}))
    small.init(IMG, [100, 100, 4, 6])
    assert small.track(IMG)["bbox"][2:] == [10.0, 10.0]  # width/height clipped to at least 10


@pytest.mark.parametrize("seed", range(3))
def test_crop_equals_pysot_padded_copy_at_borders(seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    avg = np.mean(img, axis=(0, 1))
    positions = [(0, 0), (52, 36), (-10.3, 5.5), (60.7, 40.2), (26.5, 18.5), (-100, -100), (26, 18)]
    for pos in positions:
        for sz in (1, 8, 15, 36, 80):
            fast = crop_window(img, pos, sz, avg)
            ref = crop_window_padded_copy(img, pos, sz, avg)
            assert fast.shape == (sz, sz, 3)
            np.testing.assert_array_equal(fast, ref, err_msg=f"pos={pos} sz={sz}")
        fast_t = SiameseTracker().get_subwindow(img, pos, 127, 80, avg)
        ref_t = SiameseTracker(reference_crop=True).get_subwindow(img, pos, 127, 80, avg)
        assert torch.equal(fast_t, ref_t)


def test_crop_padding_values_by_hand():
    img = np.arange(16 * 3, dtype=np.uint8).reshape(4, 4, 3)
    avg = np.array([100.7, 50.2, 7.9])
    # sz 4 at (0, 0): c = 2.5, first column floor(0 - 2.5 + 0.5) = -2: two padded rows/columns,
    # filled with avg cast to uint8 (truncated: 100, 50, 7), then image rows/cols 0..1
    patch = crop_window(img, (0, 0), 4, avg)
    np.testing.assert_array_equal(patch[0, 0], [100, 50, 7])
    np.testing.assert_array_equal(patch[1, 3], [100, 50, 7])
    np.testing.assert_array_equal(patch[2:, 2:], img[:2, :2])


def test_long_term_switches_search_size():
    model = ScriptedModel({(2, 48, 48): -1.0, (2, 12, 12): -1.0})  # low confidence everywhere
    t = make_tracker(model, cls=SiamRPNLTTracker)
    t.init(IMG, BOX)
    out = t.track(IMG)
    # score 1 / (1 + e) = 0.269 < CONFIDENCE_LOW 0.85: centre and size kept, next search enlarged;
    # the box is reported as cx - w / 2 from the init centre x + (w - 1) / 2: half a pixel up-left
    assert out["best_score"] == pytest.approx(1 / (1 + np.e), abs=1e-7)
    assert out["bbox"] == [BOX[0] - 0.5, BOX[1] - 0.5, BOX[2], BOX[3]]
    assert t.longterm_state
    t.track(IMG)
    # LOST_INSTANCE_SIZE 831 crop, its score map (831 - 127) // 8 + 1 + 8 = 97
    assert model.searches == [(1, 3, 255, 255), (1, 3, 831, 831)]
    model.peaks = {(2, 48, 48): 20.0}  # centre of the 97 x 97 map; confidence 1.0 in float32 > 0.998
    t.track(IMG)
    assert not t.longterm_state
    t.track(IMG)
    assert model.searches[-1] == (1, 3, 255, 255)
    t.longterm_state = True
    t.init(IMG, BOX)  # a (re)start begins in the normal state
    assert not t.longterm_state


def test_build_tracker_registry():
    cfg = get_cfg()
    t = build_tracker(cfg, ScriptedModel())
    assert type(t) is SiamRPNTracker and t.penalty_k == cfg.TRACK.PENALTY_K and t.target_aware is None
    cfg.TRACK.TYPE = "SiamRPNLTTracker"
    cfg.TRACK.CONFIDENCE_LOW = 0.8
    t = build_tracker(cfg, ScriptedModel())
    assert type(t) is SiamRPNLTTracker and t.confidence_low == 0.8 and t.lost_score_size == 97
    cfg.TRACK.TYPE = "SiamFCTracker"
    with pytest.raises(
        KeyError, match="SiamFCTracker.*known: SiamMaskTracker, SiamRPNLTTracker, SiamRPNTracker"
    ):
        build_tracker(cfg, ScriptedModel())
    cfg.TRACK.TYPE = "SiamMaskTracker"  # a model without SiamMask heads is refused by name
    with pytest.raises(TypeError, match="SiamMaskTracker needs a SiamMask model"):
        build_tracker(cfg, ScriptedModel())


def test_reference_path_uses_track_reference():
    class Counting(ScriptedModel):
        def track_reference(self, x):
            self.reference_calls = getattr(self, "reference_calls", 0) + 1
            return self.track(x)

    model = Counting({(2, 12, 12): 20.0})
    t = make_tracker(model, reference=True)
    t.init(IMG, BOX)
    t.track(IMG)
    assert model.reference_calls == 1
    assert t.crop is crop_window_padded_copy
