"""SiamMaskTracker: parity with PySOT's own tracker (recorded outputs) and its mask post-processing."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from _siammask_parity import INIT_BOX, seeded_state_dict, synthetic_frames

from pysot.config import load_cfg
from pysot.models.model_builder import ModelBuilder
from pysot.tracker.siammask_tracker import SiamMaskTracker, crop_back, find_external_contours, mask_polygon
from pysot.tracker.tracker_builder import build_tracker

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "siammask_r50_l3" / "config.yaml"
RECORD = Path(__file__).parent / "data" / "siammask_parity"


@pytest.fixture(scope="module")
def seeded_model():
    cfg = load_cfg(CONFIG)
    model = ModelBuilder(cfg)
    model.load_state_dict(seeded_state_dict(model.state_dict()))
    return cfg, model.eval()


def test_equals_pysot_siammask_tracker(seeded_model):
    """Boxes (1e-3 px), polygons (1e-3 px) and float masks (1e-4) equal PySOT's recorded outputs."""
    cfg, model = seeded_model
    record = json.loads((RECORD / "pysot_outputs.json").read_text())
    masks = np.load(RECORD / "pysot_masks.npz")
    tracker = build_tracker(cfg, model)
    assert type(tracker) is SiamMaskTracker and tracker.mask_threshold == 0.15
    frames = synthetic_frames()
    tracker.init(frames[0], INIT_BOX)
    assert record["init_box"] == INIT_BOX and len(record["frames"]) == len(frames) - 1
    for row in record["frames"]:
        out = tracker.track(frames[row["frame"]])
        np.testing.assert_allclose(out["bbox"], row["bbox"], rtol=0, atol=1e-3)
        np.testing.assert_allclose(out["best_score"], row["best_score"], rtol=0, atol=1e-5)
        assert len(out["polygon"]) == 8
        np.testing.assert_allclose(out["polygon"], row["polygon"], rtol=0, atol=1e-3)
        mask = out["mask"]
        assert list(mask.shape) == row["mask_shape"] and str(mask.dtype) == row["mask_dtype"]
        x0, y0, x1, y1 = row["nonzero_box"]
        outside = mask.copy()
        outside[y0:y1, x0:x1] = 0
        assert not outside.any(), f"frame {row['frame']}: mask non-zero outside PySOT's support"
        expected = masks[f"frame{row['frame']}"].astype(np.float64) / 65535  # quantisation <= 7.7e-6
        diff = np.abs(mask[y0:y1, x0:x1].astype(np.float64) - expected)
        assert diff.max() <= 1e-4, f"frame {row['frame']}: mask differs by {diff.max():.2e}"
        # the whole mask's mass, as a second check (bounded by 1e-4 per pixel of the support)
        assert abs(mask.astype(np.float64).sum() - row["sum"]) <= 1e-4 * expected.size


def test_target_aware_masks_only_the_neck_layer(seeded_model):
    """TA on the SiamMask config: one channel mask, on the last backbone layer (the one the neck reads)."""
    cfg, model = seeded_model
    cfg = load_cfg(CONFIG, ["TA.ENABLE", "True", "TA.METHOD", "gradient"])
    tracker = build_tracker(cfg, model)
    frames = synthetic_frames()
    tracker.init(frames[0], INIT_BOX)
    try:
        masks = tracker.model.channel_masks  # the tracker may track with a BatchNorm-folded copy
        assert model.head_layers == [3]
        assert masks[:3] == [None, None, None]
        assert masks[3].shape == (1024,) and int(masks[3].sum()) == round(cfg.TA.CHANNELS[0] * 1024)
        out = tracker.track(frames[1])
        assert len(out["polygon"]) == 8 and out["mask"].shape == frames[1].shape[:2]
    finally:
        tracker.model.set_channel_masks(None)


def test_target_aware_lists_must_match_the_neck_layers(seeded_model):
    _, model = seeded_model
    paper = [
        "TA.CHANNELS",
        "[300, 1024, 1500]",
        "TA.LR",
        "[1e-3, 1e-3, 4.92e-5]",
        "TA.MOMENTUM",
        "[0.98, 0.93, 0.9]",
    ]
    cfg = load_cfg(CONFIG, ["TA.ENABLE", "True", *paper])
    with pytest.raises(ValueError, match="one entry per backbone layer the neck reads: 1 .* got 3"):
        build_tracker(cfg, model)


def test_mask_threshold_key_keeps_pysot_spelling():
    cfg = load_cfg(CONFIG, ["TRACK.MASK_THERSHOLD", "0.5"])

    class Fake(torch.nn.Module):
        refine_enabled = True
        head_layers = [0]

        def mask_refine(self, pos):
            raise AssertionError

    assert build_tracker(cfg, Fake()).mask_threshold == 0.5


def test_find_external_contours_any_opencv():
    binary = np.zeros((40, 50), np.uint8)
    binary[5:15, 5:25] = 1
    binary[25:35, 30:45] = 1
    contours = find_external_contours(binary)
    assert sorted(cv2.contourArea(c) for c in contours) == [
        14 * 9,
        19 * 9,
    ]  # areas of the pixel-centre outlines


def test_mask_polygon_largest_contour_min_area_rect():
    mask = np.zeros((60, 80), np.float32)
    mask[10:30, 10:40] = 0.9  # largest region: pixel centres 10..39 x 10..29 -> outline area 29 * 19
    mask[40:55, 50:60] = 0.9
    poly = mask_polygon(mask, 0.5, center=(0, 0), size=(1, 1))
    assert sorted(map(tuple, poly.tolist())) == [(10, 10), (10, 29), (39, 10), (39, 29)]


def test_mask_polygon_falls_back_to_the_box():
    mask = np.zeros((60, 80), np.float32)
    mask[10:20, 10:20] = 0.9  # outline area 9 * 9 = 81 <= 100: too small
    poly = mask_polygon(mask, 0.5, center=(30.0, 20.0), size=(10.0, 6.0))
    np.testing.assert_array_equal(poly, [[25, 17], [35, 17], [35, 23], [25, 23]])
    poly = mask_polygon(np.zeros((60, 80), np.float32), 0.5, center=(30.0, 20.0), size=(10.0, 6.0))
    np.testing.assert_array_equal(poly, [[25, 17], [35, 17], [35, 23], [25, 23]])


def test_crop_back_maps_box_corners():
    """back_box [x, y, w, h] with w = W_out - 1: the input pixel (u, v) lands on (u - x, v - y)."""
    image = np.zeros((10, 10), np.float32)
    image[3, 4] = 1.0
    out = crop_back(image, [-2.0, -1.0, 19.0, 11.0], (20, 12))  # a = b = 1, shift by (+2, +1)
    assert out.shape == (12, 20)
    assert out[4, 6] == 1.0 and out.sum() == 1.0
