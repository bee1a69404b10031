"""Expected average overlap (EAO) of reset-based VOT runs, as PySOT's ``EAOBenchmark`` and
``calculate_expected_overlap`` compute it (Kristan et al., "The Visual Object Tracking VOT2015
challenge results", with PySOT's fixed intervals instead of the toolkit's GMM-estimated ones).

Inputs per run (one repetition of one video): per-frame overlaps without burn-in, taken with the
bounds ``(width - 1, height - 1)`` (NaN on code frames), the 0-based failure frames and the
video's per-frame 0/1 tag values (all ones for the ``'all'`` tag).

* A run is cut into fragments: each starts at 0 or at ``failure + 5`` (the restart; restarts past
  the end are dropped) and ends at the next restart, inclusive; NaN overlaps inside a fragment
  count 0. A fragment that ends in a failure is padded with zeros to the longest run, the last one
  is not (NaN beyond its end). A run without failure is one fragment of its raw overlaps.
* Fragment weight: ``seq_weight * (tagged frames in the fragment) / (fragment length)``, where the
  last fragment divides by ``len(gt) - start + 1e-16`` and ``seq_weight = 1 / (repetitions + 1e-10)``.
* Expected overlap at length ``i >= 1``: the weighted mean, over fragments defined at frame ``i``,
  of their mean overlap on frames ``1..i``; at length 0 it is 1. The curve is float32.
* EAO: the mean of the curve over lengths ``low..high`` (1-based, inclusive; NaN points skipped).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from toolkit import rules
from toolkit.rules import VOT_RULES

#: Frames skipped after a failure before the tracker is re-initialised (:data:`toolkit.rules.VOT_RULES`).
SKIPPING = VOT_RULES.skip


def eao_interval(dataset_name: str) -> tuple[int, int]:
    """PySOT's ``(low, high)`` (1-based inclusive sequence lengths) for a VOT edition, from
    :data:`toolkit.rules.RULES`; unknown names raise ``KeyError`` listing the known
    (``tools/eval.py --eao-interval LOW HIGH`` sets one for any other VOT-style dataset)."""
    return rules.eao_interval(dataset_name, "pysot")


def eao_fragments(
    overlaps: Sequence[np.ndarray],
    failures: Sequence[Sequence[int]],
    tag_values: Sequence[np.ndarray],
    seq_weight: float,
    skipping: int = SKIPPING,
) -> tuple[np.ndarray, np.ndarray]:
    """Fragments ``(F, max_len)`` (NaN-padded) and their weights ``(F,)`` of a set of runs.

    Args:
        overlaps: per run, ``(N,)`` overlaps (no burn-in; NaN on code frames).
        failures: per run, 0-based failure frames.
        tag_values: per run, the video's ``(len(gt),)`` 0/1 values of the tag being evaluated.
        seq_weight: weight of one run, ``1 / (repetitions + 1e-10)`` in PySOT.
    """
    fragment_num = sum(len(f) + 1 for f in failures)
    max_len = max(len(o) for o in overlaps)
    fweights = np.full(fragment_num, np.nan)
    fragments = np.full((fragment_num, max_len), np.nan)
    seg = 0
    for ov, fails, tags in zip(overlaps, failures, tag_values):
        ov = np.asarray(ov, np.float64)
        tags = np.asarray(tags)
        traj_len = len(tags)
        if len(fails) > 0:
            points = [0] + [x + skipping for x in fails if x + skipping <= len(ov)]
            for i, start in enumerate(points):
                last = i == len(points) - 1
                if not last:
                    fragment = ov[start : points[i + 1] + 1].copy()
                    fragments[seg, :] = 0
                else:
                    fragment = ov[start:].copy()
                fragment[np.isnan(fragment)] = 0
                fragments[seg, : len(fragment)] = fragment
                if not last:
                    w = int(np.sum(tags[start : points[i + 1] + 1])) / (points[i + 1] - start + 1)
                else:
                    w = int(np.sum(tags[start : len(ov)])) / (traj_len - start + 1e-16)
                fweights[seg] = seq_weight * w
                seg += 1
        else:
            max_idx = min(len(ov), max_len)
            fragments[seg, :max_idx] = ov[:max_idx]
            fweights[seg] = seq_weight * (int(np.sum(tags[:max_idx])) / max_idx)
            seg += 1
    return fragments, fweights


def expected_overlap_curve(fragments: np.ndarray, fweights: np.ndarray) -> np.ndarray:
    """The expected-overlap curve ``(max_len,)`` float32 of ``(F, max_len)`` fragments.

    ``curve[i]`` = sum_f(w_f * mean(fragment_f[1..i])) / sum_f(w_f) over the fragments whose
    value at ``i`` is not NaN (0 when there is none); ``curve[0] = 1``. Running sums replace
    PySOT's per-length re-summation (same values up to float64 rounding, in O(F * max_len)).
    """
    max_len = fragments.shape[1]
    curve = np.zeros(max_len, np.float32)
    curve[0] = 1
    if max_len < 2:
        return curve
    body = fragments[:, 1:]
    defined = ~np.isnan(body)
    lengths = np.arange(1, max_len, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        seq_mean = np.cumsum(body, axis=1) / lengths
    w = np.broadcast_to(fweights[:, None], body.shape)
    num = np.where(defined, seq_mean * w, 0.0).sum(axis=0)
    den = np.where(defined, w, 0.0).sum(axis=0)
    any_defined = defined.any(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = num / den
    curve[1:] = np.where(any_defined, values, 0.0).astype(np.float32)
    return curve


def eao_score(curve: np.ndarray, low: int, high: int) -> float:
    """Mean of the expected-overlap curve over sequence lengths ``low..high`` (1-based, inclusive),
    skipping NaN points; only lengths up to ``len(curve)`` count. A reversed interval or one starting
    below 1 raises ``ValueError``. An interval beyond the curve (sequences shorter than ``low``) gives
    NaN, as in PySOT (0 / 0; ``tools/eval.py`` refuses such a ``--eao-interval`` up front)."""
    if not 1 <= low <= high:
        raise ValueError(f"EAO interval [{low}, {high}]: need 1 <= low <= high")
    weight = np.zeros(len(curve))
    weight[low - 1 : high] = 1
    valid = ~np.isnan(curve)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.sum(curve[valid] * weight[valid]) / np.sum(weight[valid]))


def expected_average_overlap(
    overlaps: Sequence[np.ndarray],
    failures: Sequence[Sequence[int]],
    tag_values: Sequence[np.ndarray],
    repetitions: int,
    interval: tuple[int, int],
    skipping: int = SKIPPING,
) -> tuple[float, np.ndarray, tuple[int, int]]:
    """EAO, its float32 expected-overlap curve and the fragment matrix shape of a set of runs
    (see :func:`eao_fragments` for the inputs; ``repetitions`` runs per video)."""
    seq_weight = 1 / (repetitions + 1e-10)
    fragments, fweights = eao_fragments(overlaps, failures, tag_values, seq_weight, skipping)
    curve = expected_overlap_curve(fragments, fweights)
    return eao_score(curve, *interval), curve, fragments.shape
