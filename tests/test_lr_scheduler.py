"""Learning-rate schedules: PySOT's tables, the warm-up concatenation and per-group ratios."""

import math

import numpy as np
import pytest
import torch
from yacs.config import CfgNode as CN

from pysot.utils.lr_scheduler import (
    LRScheduler,
    build_lr_scheduler,
    cos_lrs,
    log_lrs,
    multi_step_lrs,
    schedule_lrs,
    step_lrs,
)


def test_log_is_geometric_between_the_end_points():
    # 1e-2 -> 1e-4 in 5 values: each step divides by 10 ** 0.5
    np.testing.assert_allclose(log_lrs(5, 1e-2, 1e-4), [1e-2, 10**-2.5, 1e-3, 10**-3.5, 1e-4], rtol=1e-12)


def test_step_multiplies_every_step_epochs():
    np.testing.assert_allclose(step_lrs(5, 0.01, step=2, mult=0.1), [0.01, 0.01, 0.001, 0.001, 0.0001])


def test_step_with_end_lr_derives_mult_for_warm_up():
    # PySOT's warm-up form: 5 epochs from 0.001 towards 0.005 with step 1 -> mult = 5 ** (1/5);
    # the last value is one multiplication short of end_lr
    lrs = step_lrs(5, 0.001, end_lr=0.005, step=1)
    np.testing.assert_allclose(lrs, 0.001 * 5 ** (np.arange(5) / 5), rtol=1e-12)


def test_multi_step_and_cos():
    np.testing.assert_allclose(
        multi_step_lrs(6, 0.01, steps=[2, 4], mult=0.5), [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025]
    )
    # half cosine: value at epoch e is end + (start - end) * (1 + cos(pi e / E)) / 2
    np.testing.assert_allclose(
        cos_lrs(4, 0.01, 0.0),
        [0.01, 0.01 * (1 + math.cos(math.pi / 4)) / 2, 0.005, 0.01 * (1 + math.cos(3 * math.pi / 4)) / 2],
        rtol=1e-6,
    )


def test_unknown_schedule_and_keyword_are_named():
    with pytest.raises(KeyError, match="unknown learning-rate schedule 'exp'"):
        schedule_lrs("exp", 3)
    with pytest.raises(TypeError, match="'log'.*end"):
        schedule_lrs("log", 3, START_LR=0.1, ENDLR=0.01)


def _train_cfg(warmup: bool) -> CN:
    cfg = CN()
    cfg.LR = CN({"TYPE": "log", "KWARGS": CN({"start_lr": 0.01, "end_lr": 0.0001})})
    cfg.LR_WARMUP = CN(
        {
            "WARMUP": warmup,
            "TYPE": "step",
            "EPOCH": 2,
            "KWARGS": CN({"start_lr": 0.001, "end_lr": 0.01, "step": 1}),
        }
    )
    return cfg


def _optimizer() -> torch.optim.SGD:
    head, backbone = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    # backbone at 0.1 x the head's rate, as BACKBONE.LAYERS_LR = 0.1 makes it
    return torch.optim.SGD(
        [{"params": head.parameters(), "lr": 0.01}, {"params": backbone.parameters(), "lr": 0.001}]
    )


def test_warm_up_then_log_with_group_ratios():
    opt = _optimizer()
    sched = build_lr_scheduler(opt, _train_cfg(True), epochs=5)
    # 2 warm-up epochs (0.001, 0.001 * 10 ** 0.5), then log 0.01 -> 0.0001 over 3 epochs
    np.testing.assert_allclose(sched.lr_spaces, [0.001, 0.001 * 10**0.5, 0.01, 0.001, 0.0001], rtol=1e-12)
    assert sched.start_lr == pytest.approx(0.01)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.001, 0.0001])  # epoch 0
    sched.step(2)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 0.001])
    sched.step()
    assert sched.last_epoch == 3
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.001, 0.0001])


def test_resume_applies_the_epoch_and_past_the_end_keeps_the_last_value():
    opt = _optimizer()
    sched = build_lr_scheduler(opt, _train_cfg(False), epochs=3, last_epoch=1)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)  # log 0.01, 0.001, 0.0001
    sched.step(7)
    assert sched.get_cur_lr() == pytest.approx(0.0001)


def test_warm_up_longer_than_training_is_an_error():
    with pytest.raises(ValueError, match="LR_WARMUP.EPOCH=2"):
        build_lr_scheduler(_optimizer(), _train_cfg(True), epochs=2)


def test_empty_schedule_is_an_error():
    with pytest.raises(ValueError, match="empty"):
        LRScheduler(_optimizer(), np.array([]))
