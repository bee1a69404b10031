"""Our SiamRPN++ / long-term trackers against numbers recorded from PySOT's own tracker code.

The reference (``tests/data/pysot_reference/``, made as its README says) is PySOT's unmodified
``SiamRPNTracker`` / ``SiamRPNLTTracker`` and ``ModelBuilder`` run on the inputs of
``tests/_pysot_reference_inputs.py``: seeded weights (same tensors in both implementations, keyed by
state-dict name), PySOT's experiment configs (AlexNet, MobileNetV2, ResNet-50 on one frame, and the
long-term tracker on AlexNet with thresholds that switch it into and out of the long-term state),
and a synthetic video on which the tracked box moves, changes size and is clipped at the image
border. Per tracked frame it holds PySOT's raw ``cls``/``loc``, foreground scores, decoded boxes
(crop pixels), penalties, window-blended scores, the chosen anchor, the smoothing rate, the search
size and the returned box. Nothing here is computed by the code under test except the values that
are compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import _pysot_reference_inputs as inputs
import numpy as np
import pytest
import torch

from pysot.config import load_cfg
from pysot.models.model_builder import ModelBuilder
from pysot.tracker.siamrpnlt_tracker import SiamRPNLTTracker
from pysot.tracker.tracker_builder import build_tracker

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "pysot_reference"
RECORD = json.loads((DATA / "pysot_outputs.json").read_text())
PX = 1e-4  # pixels: decoded boxes (crop pixels) and returned boxes (image pixels)


def run_ours(case: str, reference: bool) -> list[dict]:
    """Track the case's video with our tracker; per tracked frame our counterparts of the record."""
    folder, overrides, nframes = inputs.CASES[case]
    cfg = load_cfg(ROOT / "experiments" / folder / "config.yaml", [str(v) for v in overrides])
    assert not cfg.TA.ENABLE
    model = ModelBuilder(cfg)
    model.load_state_dict(inputs.seeded_state_dict(model.state_dict(), case))
    model.eval()
    tracker = build_tracker(cfg, model, reference=reference)
    assert isinstance(tracker, SiamRPNLTTracker) == (case == "alex_lt")

    seen = {}
    track_name = "track_reference" if reference else "track"
    real_track = getattr(tracker.model, track_name)

    def track_hook(x):
        out = real_track(x)
        seen["cls"], seen["loc"] = out["cls"].float().numpy().copy(), out["loc"].float().numpy().copy()
        seen["search"] = x.shape[-1]
        return out

    setattr(tracker.model, track_name, track_hook)
    real_score_boxes = tracker._score_boxes

    def score_boxes_hook(img, instance_size, anchors):
        score, pred_bbox, penalty, scale_z = real_score_boxes(img, instance_size, anchors)
        seen.update(score=score.copy(), pred_bbox=pred_bbox.copy(), penalty=penalty.copy(), scale_z=scale_z)
        seen["window"] = tracker.lost_window if instance_size != tracker.instance_size else tracker.window
        return score, pred_bbox, penalty, scale_z

    tracker._score_boxes = score_boxes_hook
    frames = inputs.synthetic_frames(nframes)
    torch.manual_seed(0)
    tracker.init(frames[0], inputs.INIT_BOX)
    rows = []
    for frame in frames[1:]:
        seen.clear()
        before = bool(getattr(tracker, "longterm_state", False))
        out = tracker.track(frame)
        rows.append(
            dict(
                seen,
                bbox=out["bbox"],
                best_score=out["best_score"],
                longterm_before=before,
                longterm_after=bool(getattr(tracker, "longterm_state", False)),
                center_pos=list(tracker.center_pos),
                size=list(tracker.size),
            )
        )
    return rows


def window_influence(case: str, longterm: bool) -> float:
    """The window influence PySOT's config (or its long-term search) uses: literal values."""
    if longterm:
        return 0.001  # PySOT siamrpnlt_tracker.py: the lost search's window influence
    return {"alex": 0.40, "alex_lt": 0.40, "mobilev2": 0.4, "r50": 0.42}[case]


def check_case(case: str, reference: bool) -> None:
    ref = np.load(DATA / f"{case}.npz")
    rec = RECORD["cases"][case]["frames"]
    ours = run_ours(case, reference)
    assert len(ours) == len(rec)
    for got, want in zip(ours, rec):
        f = want["frame"]
        where = f"{case} frame {f} reference={reference}"
        assert got["search"] == {True: 831, False: RECORD_INSTANCE[case]}[want["longterm_before"]], where
        sub = ref[f"f{f}_anchors"]  # the recorded anchors (about 300 + the 25 best)
        cls = got["cls"].transpose(1, 2, 3, 0).reshape(2, -1)[:, sub]
        loc = got["loc"].transpose(1, 2, 3, 0).reshape(4, -1)[:, sub]
        np.testing.assert_allclose(cls, ref[f"f{f}_cls"], rtol=0, atol=2e-4, err_msg=where)
        np.testing.assert_allclose(loc, ref[f"f{f}_loc"], rtol=0, atol=2e-5, err_msg=where)
        np.testing.assert_allclose(got["score"][sub], ref[f"f{f}_score"], rtol=0, atol=1e-5, err_msg=where)
        # decoded boxes of all recorded anchors: 1e-4 px, or 1e-4 relative for the huge boxes of
        # exp(dw) (PySOT's are float32: at 6000 px its own resolution is 5e-4 px); the chosen
        # anchor's box to 1e-4 px
        np.testing.assert_allclose(
            got["pred_bbox"][:, sub], ref[f"f{f}_pred_bbox"], rtol=1e-4, atol=PX, err_msg=where
        )
        best = int(np.searchsorted(sub, want["best_idx"]))
        np.testing.assert_allclose(
            got["pred_bbox"][:, want["best_idx"]],
            ref[f"f{f}_pred_bbox"][:, best],
            rtol=0,
            atol=PX,
            err_msg=where,
        )
        np.testing.assert_allclose(
            got["penalty"][sub], ref[f"f{f}_penalty"], rtol=0, atol=1e-6, err_msg=where
        )
        wi = window_influence(case, want["longterm_before"])
        pscore = got["penalty"] * got["score"] * (1 - wi) + got["window"] * wi
        np.testing.assert_allclose(pscore[sub], ref[f"f{f}_pscore"], rtol=0, atol=1e-5, err_msg=where)
        assert int(np.argmax(pscore)) == want["best_idx"], where
        assert got["scale_z"] == pytest.approx(want["scale_z"], rel=1e-6), where  # s_z to ~1e-4 px
        np.testing.assert_allclose(got["bbox"], want["bbox"], rtol=0, atol=PX, err_msg=where)
        np.testing.assert_allclose(got["center_pos"], want["center_pos"], rtol=0, atol=PX, err_msg=where)
        np.testing.assert_allclose(got["size"], want["size"], rtol=0, atol=PX, err_msg=where)
        assert got["best_score"] == pytest.approx(want["best_score"], abs=1e-5), where
        assert (got["longterm_before"], got["longterm_after"]) == (
            want["longterm_before"],
            want["longterm_after"],
        ), where


# the configs' TRACK.INSTANCE_SIZE (PySOT experiments/*/config.yaml)
RECORD_INSTANCE = {"alex": 287, "alex_lt": 287, "mobilev2": 255, "r50": 255}


def test_reference_exercises_moves_sizes_borders_and_state_switches():
    """The recorded video is a hard case: the box moves, changes size, is clipped at the border."""
    rows = RECORD["cases"]["alex"]["frames"]
    boxes = np.array([r["bbox"] for r in rows])
    assert np.ptp(boxes[:, 0]) > 100 and np.ptp(boxes[:, 1]) > 50  # moves in x and y
    assert np.ptp(boxes[:, 2]) > 10 and np.ptp(boxes[:, 3]) > 5  # changes size
    centres = np.array([r["center_pos"] for r in rows])
    assert (centres[:, 0] == 0).any() and (centres[:, 1] == inputs.HEIGHT).any()  # clipped at x=0, y=H
    lt = RECORD["cases"]["alex_lt"]["frames"]
    assert [r["longterm_after"] for r in lt] == [False] * 5 + [True, False, False]
    assert [r["search_size"] for r in lt].count(max(r["search_size"] for r in lt)) == 1  # one lost search


@pytest.mark.parametrize("case", ["alex", "mobilev2", "r50", "alex_lt"])
def test_tracker_matches_pysot(case):
    """The default (fast, BatchNorm-folded) path reproduces PySOT frame by frame."""
    check_case(case, reference=False)


def test_reference_path_matches_pysot():
    """The reference path (PySOT's padded-copy crop, unfolded BatchNorm) reproduces PySOT too."""
    check_case("alex", reference=True)
