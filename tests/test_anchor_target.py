"""RPN training targets on hand-built boxes.

One anchor shape (ratio 1, scale 8: 64 x 64) on a 25 x 25 grid with stride 8 over a 255 search
crop: grid cell (i, j) holds the anchor centred at (31 + 8 j, 31 + 8 i), so cell (12, 12) sits on
the crop centre (127, 127). A 64 x 64 target there has IoU 1 with that anchor and, with an anchor
shifted by (dx, dy), IoU = (64 - dx)(64 - dy) / (2 * 64^2 - (64 - dx)(64 - dy)):

    shift (8, 0): 3584 / 4608 = 0.778   shift (8, 8): 3136 / 5056 = 0.620   (> 0.6: positive)
    shift (16, 0): 3072 / 5120 = 0.600  (not > 0.6, not < 0.3: ignored)
    shift (32, 0): 2048 / 6144 = 0.333  (ignored)   shift (40, 0): 1536 / 6656 = 0.231 (negative)
"""

import numpy as np
import pytest

from pysot.data.anchor_target import IGNORE, NEGATIVE, POSITIVE, AnchorTarget
from pysot.utils.bbox import Corner


def _target(**kwargs) -> AnchorTarget:
    args = dict(stride=8, ratios=[1], scales=[8], search_size=255, output_size=25)
    args.update(kwargs)
    return AnchorTarget(**args)


CENTRE_BOX = Corner(95.0, 95.0, 159.0, 159.0)  # 64 x 64 centred on (127, 127)


def test_positive_pair_labels_and_thresholds():
    cls, delta, weight, overlap = _target()(CENTRE_BOX, np.random.default_rng(0))
    assert cls.shape == (1, 25, 25) and delta.shape == (4, 1, 25, 25)
    positives = set(zip(*np.nonzero(cls[0] == POSITIVE)))
    # the centre cell, its 4 axis neighbours (IoU 0.778) and 4 diagonal ones (IoU 0.620)
    assert positives == {(12 + di, 12 + dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)}
    assert overlap[0, 12, 12] == pytest.approx(1.0)
    assert overlap[0, 12, 13] == pytest.approx(3584 / 4608)
    assert overlap[0, 13, 13] == pytest.approx(3136 / 5056)
    assert overlap[0, 12, 14] == pytest.approx(0.6)
    assert cls[0, 12, 14] == IGNORE  # exactly THR_HIGH is not positive
    assert cls[0, 12, 16] == IGNORE  # IoU 0.333 lies between the thresholds
    # negatives: IoU < 0.3 everywhere else, sampled down to TOTAL_NUM - POS_NUM = 48
    assert (cls == NEGATIVE).sum() == 48
    assert np.all(overlap[cls == NEGATIVE] < 0.3)
    # each positive weighs 1 / (number of positives); nothing else is regressed
    np.testing.assert_allclose(weight[cls == POSITIVE], 1 / (9 + 1e-6), rtol=1e-6)
    assert weight[cls != POSITIVE].sum() == 0
    # regression targets: zero at the matching anchor; the anchor 8 px to the right of the
    # target's centre gets dx = (127 - 135) / 64
    np.testing.assert_allclose(delta[:, 0, 12, 12], [0, 0, 0, 0], atol=1e-7)
    np.testing.assert_allclose(delta[:, 0, 12, 13], [-0.125, 0, 0, 0], atol=1e-7)
    # a 128 x 32 target: log(128 / 64) and log(32 / 64)
    _, d2, _, _ = _target()(Corner(63.0, 111.0, 191.0, 143.0), np.random.default_rng(0))
    np.testing.assert_allclose(d2[:, 0, 12, 12], [0, 0, np.log(2), -np.log(2)], atol=1e-6)


def test_positive_count_is_capped_at_pos_num():
    cls, _, weight, _ = _target(pos_num=4, total_num=10)(CENTRE_BOX, np.random.default_rng(1))
    assert (cls == POSITIVE).sum() == 4
    assert (cls == NEGATIVE).sum() == 6  # total_num - pos_num
    np.testing.assert_allclose(weight[cls == POSITIVE], 1 / (4 + 1e-6), rtol=1e-6)


def test_negative_pair_labels_only_the_neighbourhood_as_negative():
    # PySOT's cell of the search box: size // 2 + ceil((c - 127) / 8 + 0.5) = 12 + 1 = 13 for a
    # centred box; the 7 x 7 cells around it (10..16) are candidates, NEG_NUM of them kept
    target = _target(neg_num=100)
    cls, delta, weight, overlap = target(CENTRE_BOX, np.random.default_rng(0), neg=True)
    assert (cls == POSITIVE).sum() == 0
    rows, cols = np.nonzero(cls[0] == NEGATIVE)
    assert len(rows) == 49
    assert set(rows) == set(cols) == set(range(10, 17))
    assert not delta.any() and not weight.any() and not overlap.any()
    # sampled down to neg_num
    cls, *_ = _target(neg_num=16)(CENTRE_BOX, np.random.default_rng(0), neg=True)
    assert (cls == NEGATIVE).sum() == 16
    # at the crop's left border: cell 12 + ceil(-127 / 8 + 0.5) = -3 -> only column 0 remains
    # (columns -6..0 clipped), rows 10..16
    cls, *_ = target(Corner(-32.0, 95.0, 32.0, 159.0), np.random.default_rng(0), neg=True)
    rows, cols = np.nonzero(cls[0] == NEGATIVE)
    assert set(cols) == {0} and set(rows) == set(range(10, 17))


def test_sampling_is_a_function_of_the_generator():
    a = _target()(CENTRE_BOX, np.random.default_rng(5))[0]
    b = _target()(CENTRE_BOX, np.random.default_rng(5))[0]
    np.testing.assert_array_equal(a, b)


def test_five_anchor_shapes_on_the_training_grid():
    # the default anchors (ratios 0.33..3) on SEARCH_SIZE 191 -> OUTPUT_SIZE 17: cell 8 is the centre
    target = AnchorTarget(search_size=191, output_size=17)
    cls, delta, _, overlap = target(Corner(63.0, 63.0, 127.0, 127.0), np.random.default_rng(0))
    assert cls.shape == (5, 17, 17) and delta.shape == (4, 5, 17, 17)
    assert overlap[2, 8, 8] == pytest.approx(1.0)  # ratio 1 (third shape) is 64 x 64 at (95, 95)
    assert cls[2, 8, 8] == POSITIVE
