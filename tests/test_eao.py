"""EAO, VOT accuracy/robustness and long-term F1 on hand-built trajectories (PySOT's conventions)."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.evaluation import ar, eao, f1

NAN = np.nan


def _pysot_curve(fragments: np.ndarray, fweights: np.ndarray) -> np.ndarray:
    """PySOT's calculate_expected_overlap, verbatim in logic (O(F * L^2)), as a cross-check."""
    max_len = fragments.shape[1]
    out = np.zeros(max_len, np.float32)
    out[0] = 1
    for i in range(1, max_len):
        mask = np.logical_not(np.isnan(fragments[:, i]))
        if np.any(mask):
            fragment = fragments[mask, 1 : i + 1]
            seq_mean = np.sum(fragment, 1) / fragment.shape[1]
            out[i] = np.sum(seq_mean * fweights[mask]) / np.sum(fweights[mask])
    return out


# Run A: no failure, overlap 1 after the initialisation frame (whose overlap is NaN).
RUN_A = np.array([NAN, 1, 1, 1, 1, 1])
# Run B: failure at frame 2; with skipping 2 the tracker restarts at frame 4.
RUN_B = np.array([NAN, 0.6, NAN, NAN, NAN, 0.9])


def test_fragments_by_hand():
    ones = [np.ones(6), np.ones(6)]
    fragments, weights = eao.eao_fragments([RUN_A, RUN_B], [[], [2]], ones, 1.0, skipping=2)
    # A: its raw overlaps (NaN at 0 kept). B, fragment 0..4 (to the restart, inclusive): NaN -> 0 and
    # zero-padded to the longest run; fragment 4..5: [NaN -> 0, 0.9], then NaN (not padded).
    np.testing.assert_array_equal(
        fragments,
        [[NAN, 1, 1, 1, 1, 1], [0, 0.6, 0, 0, 0, 0], [0, 0.9, NAN, NAN, NAN, NAN]],
    )
    # weights: tagged frames / fragment length: 6/6, 5/(4-0+1), 2/(6-4+1e-16)
    np.testing.assert_allclose(weights, [1, 1, 1], rtol=0, atol=1e-15)


def test_expected_overlap_curve_by_hand():
    ones = [np.ones(6), np.ones(6)]
    fragments, weights = eao.eao_fragments([RUN_A, RUN_B], [[], [2]], ones, 1.0, skipping=2)
    curve = eao.expected_overlap_curve(fragments, weights)
    # length 1: all three fragments, means of frame 1: (1 + 0.6 + 0.9) / 3
    # length i >= 2: A (mean 1) and B's first fragment (mean 0.6 / i): (1 + 0.6 / i) / 2
    expected = [1, (1 + 0.6 + 0.9) / 3, (1 + 0.3) / 2, (1 + 0.2) / 2, (1 + 0.15) / 2, (1 + 0.12) / 2]
    np.testing.assert_array_equal(curve, np.array(expected, np.float32))
    assert curve.dtype == np.float32
    # EAO over lengths 2..5 (1-based, inclusive) = curve[1..4]
    assert eao.eao_score(curve, 2, 5) == pytest.approx(np.mean(curve[1:5].astype(np.float64)), abs=0)


def test_tag_weights_select_frames():
    # tag set only on frames 4, 5 of B: B's first fragment (frames 0..4) has weight 1/5, its second
    # (frames 4..5) 2/2; A (tag everywhere) 1.
    tags_b = np.array([0, 0, 0, 0, 1, 1])
    fragments, weights = eao.eao_fragments([RUN_A, RUN_B], [[], [2]], [np.ones(6), tags_b], 1.0, skipping=2)
    np.testing.assert_allclose(weights, [1, 0.2, 1], rtol=0, atol=1e-15)
    curve = eao.expected_overlap_curve(fragments, weights)
    # length 1: (1*1 + 0.2*0.6 + 1*0.9) / 2.2; length 2: (1*1 + 0.2*0.3) / 1.2
    assert curve[1] == np.float32(2.02 / 2.2)
    assert curve[2] == np.float32(1.06 / 1.2)


def test_restart_past_the_end_is_dropped():
    # failure at frame 5 of 6: 5 + 5 > 6, so no restart; the run is one zero-padded fragment and the
    # second row reserved for it stays NaN (ignored)
    run = np.array([NAN, 0.5, 0.5, 0.5, 0.5, NAN])
    fragments, weights = eao.eao_fragments([run], [[5]], [np.ones(6)], 1.0)
    assert fragments.shape == (2, 6)
    np.testing.assert_array_equal(fragments[0], [0, 0.5, 0.5, 0.5, 0.5, 0])
    assert np.isnan(fragments[1]).all() and np.isnan(weights[1])
    curve = eao.expected_overlap_curve(fragments, weights)
    # the mean of frames 1..i: 0.5 up to i = 4, then (4 * 0.5 + 0) / 5 = 0.4
    np.testing.assert_array_equal(curve, np.array([1, 0.5, 0.5, 0.5, 0.5, 0.4], np.float32))


def test_running_sum_curve_equals_pysot_loop():
    rng = np.random.default_rng(3)
    runs, fails, tags = [], [], []
    for _ in range(12):
        n = int(rng.integers(20, 60))
        ov = rng.uniform(0, 1, n)
        ov[0] = NAN
        f = sorted(rng.choice(np.arange(2, n), size=int(rng.integers(0, 3)), replace=False).tolist())
        for x in f:
            ov[x : x + 5] = NAN
        runs.append(ov)
        fails.append(f)
        tags.append(rng.integers(0, 2, n))
    fragments, weights = eao.eao_fragments(runs, fails, tags, 1 / (1 + 1e-10))
    np.testing.assert_allclose(
        eao.expected_overlap_curve(fragments, weights), _pysot_curve(fragments, weights), rtol=0, atol=1e-7
    )


def test_eao_score_interval_and_nan_points():
    curve = np.array([1, 0.5, np.nan, 0.3, 0.1], np.float32)
    # lengths 2..5 -> indices 1..4; the NaN point is skipped: (0.5 + 0.3 + 0.1) / 3
    assert eao.eao_score(curve, 2, 5) == pytest.approx((0.5 + 0.3 + 0.1) / 3, abs=1e-7)
    # an interval past the curve's end only counts the existing lengths
    assert eao.eao_score(curve, 4, 100) == pytest.approx((0.3 + 0.1) / 2, abs=1e-7)
    assert eao.eao_interval("VOT2018") == (100, 356)
    with pytest.raises(KeyError, match="no EAO interval for dataset .OTB100.; known: VOT2016, VOT2017"):
        eao.eao_interval("OTB100")


def test_accuracy_robustness_by_hand():
    gt = [[0, 0, 10, 10]] * 14
    # init, 11 frames on target, failure, skipped frame
    traj = [[1]] + [[0, 0, 10, 10]] * 11 + [[2], [0]]
    acc, overlaps = ar.calculate_accuracy(traj, gt, burnin=10, bound=(100, 100))
    # frames 0..9 are burn-in (NaN), frames 10 and 11 overlap 1, failure and skip are NaN
    assert np.isnan(overlaps[:10]).all() and overlaps[10:12].tolist() == [1.0, 1.0]
    assert acc == 1.0
    assert ar.calculate_failures(traj) == (1, [12])
    res = ar.accuracy_robustness({"a": overlaps, "b": np.full(6, 0.5)}, {"a": [1], "b": [2]})
    # pooled accuracy: (2 * 1 + 6 * 0.5) / 8; robustness: 3 failures in 20 frames, * 100
    assert res == {"accuracy": 5 / 8, "robustness": 15.0, "lost_number": 3.0, "total_frames": 20}


def test_f1_by_hand():
    # 4 frames, confidences NaN (initial frame), 0.9, 0.5, 0.1 and overlaps NaN, 0.8, 0.4, 0
    overlaps = np.array([NAN, 0.8, 0.4, 0.0])
    score = np.array([NAN, 0.9, 0.5, 0.1])
    thresholds = np.array([np.inf, 0.9, 0.5, -np.inf])
    f, p, r = f1.calculate_f1(overlaps, score, thresholds, n_annotated=3)
    # inf: nothing reported -> precision 1, recall 0; 0.9: frame 1; 0.5: frames 1, 2; -inf: score > 0
    np.testing.assert_allclose(p, [1, 0.8, 0.6, 0.4])
    np.testing.assert_allclose(r, [0, 0.8 / 3, 1.2 / 3, 1.2 / 3])
    assert f[0] == 0 and f[2] == pytest.approx(2 * 0.6 * 0.4 / 1.0)
    best = f1.longterm_scores([p], [r])
    assert best["best_threshold_index"] == 2 and best["f1"] == pytest.approx(0.48)


def test_determine_thresholds_picks_quantiles():
    # 195 scores 0..194 (the NaN is dropped): delta = floor(195 / 98) = 1, the indices
    # floor(linspace(0, 194, 98) + 0.5) step by 2: 0, 2, ..., 194
    scores = np.concatenate([[NAN], np.arange(195.0)])
    th = f1.determine_thresholds(scores)
    assert th[0] == -np.inf and th[-1] == np.inf and len(th) == 100
    np.testing.assert_array_equal(th[1:-1], np.arange(0.0, 195.0, 2.0))
