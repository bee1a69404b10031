"""pysot.benchmark: box agreement by hand, turn-taking runs, calibrated random models, machine record."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pysot.benchmark import (
    agreement,
    box_iou,
    calibrate_batchnorm,
    machine_record,
    max_box_difference,
    run_interleaved,
)
from pysot.config import load_cfg
from pysot.models.inference import cpu_flags
from pysot.models.model_builder import ModelBuilder


def test_box_iou_by_hand():
    a = [[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 0, 0]]
    b = [[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 0, 0]]
    # identical: 1; half overlap: 50 / (100 + 100 - 50) = 1/3; disjoint: 0; empty boxes: 0
    np.testing.assert_allclose(box_iou(a, b), [1.0, 1 / 3, 0.0, 0.0])


def test_agreement_counts_frames_at_iou_0_9():
    ref = [[0, 0, 10, 10]] * 4
    # a 0.5 px shift: IoU 95 / 105 = 0.905 (kept); a 1 px shift: 90 / 110 = 0.818 (not)
    boxes = [[0, 0, 10, 10], [0.5, 0, 10, 10], [1, 0, 10, 10], [0, 0, 10, 10]]
    out = agreement(boxes, ref)
    assert out["fraction_iou_ge_0.9"] == 0.75 and out["max_abs_box_difference_px"] == 1.0
    assert out["min_iou"] == pytest.approx(90 / 110)
    assert max_box_difference([[1, 2, 3, 4]], [[1, 2, 3, 4.25]]) == 0.25


class Recorder:
    def __init__(self, name, log):
        self.name, self.log = name, log

    def init(self, img, box):
        self.log.append((self.name, "init"))

    def track(self, img):
        self.log.append((self.name, int(img[0, 0, 0])))
        return {"bbox": [float(img[0, 0, 0]), 0.0, 1.0, 1.0]}


def test_run_interleaved_takes_turns_frame_by_frame():
    log = []
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(3)]
    out = run_interleaved({"a": Recorder("a", log), "b": Recorder("b", log)}, frames, [0, 0, 1, 1])
    assert log == [("a", "init"), ("b", "init"), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert out["a"]["boxes"] == [[1.0, 0.0, 1.0, 1.0], [2.0, 0.0, 1.0, 1.0]]
    assert len(out["b"]["frame_seconds"]) == 2


def test_calibrated_batchnorm_normalises_the_calibration_inputs():
    cfg = load_cfg(None, ["BACKBONE.TYPE", "resnet18", "BACKBONE.KWARGS.width_mult", "0.125",
                          "ADJUST.KWARGS.in_channels", "[16, 32, 64]", "ADJUST.KWARGS.out_channels",
                          "[8, 8, 8]", "RPN.KWARGS.in_channels", "[8, 8, 8]"])  # fmt: skip
    torch.manual_seed(0)
    model = ModelBuilder(cfg).eval()
    z, x = torch.rand(1, 3, 127, 127) * 255, torch.rand(1, 3, 255, 255) * 255
    calibrate_batchnorm(model, z, x, seed=1)
    assert not model.training
    bn = model.backbone.bn1  # sees only the images: mean/var of its input over both crops
    captured = []
    hook = model.backbone.conv1.register_forward_hook(lambda m, i, o: captured.append(o))
    with torch.no_grad():
        model.backbone(z), model.backbone(x)
    hook.remove()
    # cumulative average of the two batches' statistics (unbiased variance, as BatchNorm keeps it)
    mean = (captured[0].mean((0, 2, 3)) + captured[1].mean((0, 2, 3))) / 2
    var = (captured[0].var((0, 2, 3)) + captured[1].var((0, 2, 3))) / 2
    torch.testing.assert_close(bn.running_mean, mean, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(bn.running_var, var, rtol=1e-3, atol=1e-3)
    assert 0.5 <= float(bn.weight.detach().min()) and float(bn.weight.detach().max()) < 1.5


def test_machine_record_names_cpu_flags_and_precisions():
    rec = machine_record("cpu")
    assert rec["cpu_model"] and rec["supported_precisions"][0] == "fp32"
    assert set(rec["cpu_flags"]) <= cpu_flags()
    assert ("bf16" in rec["supported_precisions"]) == bool(rec["bf16_instructions"])
