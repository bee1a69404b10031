"""The evaluation's fast path equals the reference path, bit for bit (toolkit.evaluation.fastread,
toolkit.evaluation.fastpath, aggregate.evaluate_*_tracker(fast=True) vs fast=False).

Expected values come from the reference code (Python's float(), the strict readers, the per-frame
region kernel and the per-video metric functions), never from the code under test."""

from __future__ import annotations

import json
import math
import random
import struct

import numpy as np
import pytest

from toolkit import results as rio
from toolkit.datasets.base import Dataset
from toolkit.datasets.base import Sequence as Video
from toolkit.evaluation import aggregate, ar, fastpath, fastread
from toolkit.evaluation.region import pack_regions


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _random_decimal(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.3:
        return repr(rng.uniform(-2000, 2000))  # shortest repr: up to 17 significant digits
    if kind < 0.5:
        return f"{rng.uniform(-5000, 5000):.{rng.randint(0, 6)}f}"
    if kind < 0.6:  # halfway cases just above 2**53: ties to even
        return str(2**53 + rng.randint(-3, 40))
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 19)))
    cut = rng.randint(0, len(digits))
    text = digits[:cut] + "." + digits[cut:] if rng.random() < 0.8 else digits
    return ("-" if rng.random() < 0.3 else "") + (text if text != "." else "0")


def _parse_token(token: str | bytes, max_values: int = 1) -> tuple[np.ndarray, bool]:
    """The fast pass over one line (``fastread._parse_files`` of one file of one line)."""
    buf = np.frombuffer(token.encode() if isinstance(token, str) else token, np.uint8)
    values, _, ok = fastread._parse_files(
        buf, np.array([0, len(buf)]), np.array([True]), np.array([1]), max_values, False
    )
    return values, bool(ok[0])


def test_decimal_parsing_is_correctly_rounded_like_float():
    rng = random.Random(7)
    tokens = [_random_decimal(rng) for _ in range(6000)] + [
        "0", "-0", "+1.5", "1.", ".5", "-.25", "0.1", "0.30000000000000004", "9007199254740993",
        "9007199254740995", "18014398509481985", "123456789012345678.9", "4503599627370496.5",
        "1.7976931348623157", "0.000001", "9999999999999999999",
    ]  # fmt: skip
    parsed = 0
    for token in tokens:
        values, ok = _parse_token(token)
        if ok:  # tokens beyond the fast grammar go to the strict reader (tested below)
            parsed += 1
            assert _bits(values[0, 0]) == _bits(float(token)), token
    assert parsed > 0.95 * len(tokens)


def _write(path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())


def _outcome(reader, path, n):
    try:
        return reader(path, n)
    except ValueError as err:
        return ("error", str(err))


def _same_packed(a, b) -> bool:
    return np.array_equal(a.counts, b.counts) and a.values.shape == b.values.shape and all(
        _bits(x) == _bits(y) for x, y in zip(a.values.ravel().tolist(), b.values.ravel().tolist())
    )


BAD_LINES = ["1,2,3", "1,2,oops,4", "", "1,2,3,4,", "1\t2\t3\t4", " 1,2,3,4", "1e3,2,3,4", "nan,1,2,3",
             "1,2,inf,4", "3", "1,2", "1,2,3,4,5", "7"]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_readers_equal_the_strict_readers(tmp_path, seed):
    rng = random.Random(seed)
    for case in range(30):
        n = rng.randint(1, 40)
        box_lines, vot_lines = [], []
        for _ in range(n):
            box = [_random_decimal(rng) for _ in range(4)]
            box_lines.append(",".join(box))
            r = rng.random()
            if r < 0.15:
                vot_lines.append(str(rng.choice([0, 1, 2])))
            elif r < 0.25:
                vot_lines.append(",".join(_random_decimal(rng) for _ in range(8)))
            elif r < 0.3:
                vot_lines.append(rng.choice(["2.0", "nan", "1.0,nan,3,4", "0,0,0,0"]))
            else:
                vot_lines.append(",".join(box))
        if case % 3 == 1:  # one bad line somewhere
            k = rng.randrange(n)
            box_lines[k] = vot_lines[k] = rng.choice(BAD_LINES)
        end = rng.choice(["\n", "", "\r\n"])
        sep = "\r\n" if end == "\r\n" else "\n"
        expected_n = n if case % 7 else n + 1  # sometimes a wrong frame count
        box_path = tmp_path / f"s{seed}" / f"box{case}.txt"
        vot_path = tmp_path / f"s{seed}" / f"vot{case}.txt"
        _write(box_path, sep.join(box_lines) + end)
        _write(vot_path, sep.join(vot_lines) + end)

        ref = _outcome(rio.read_boxes, box_path, expected_n)
        fast = _outcome(fastread.read_boxes, box_path, expected_n)
        if isinstance(ref, tuple):
            assert fast == ref
        else:
            assert fast.shape == ref.shape and fast.tobytes() == ref.tobytes()

        ref = _outcome(rio.read_vot_trajectory, vot_path, expected_n)
        fast = _outcome(fastread.read_vot_packed, vot_path, expected_n)
        if isinstance(ref, tuple):
            assert fast == ref
        else:
            assert _same_packed(fast, pack_regions(ref))


def test_long_numbers_with_leading_zeros_are_correctly_rounded_or_left_to_the_strict_reader():
    # more than 19 digits in all: the fast pass re-reads the mantissa without its leading zeros
    tokens = ["000000000000000000001.5", "00.0000000000000001234", "-00000000000000000000000.25",
              "0000000000012345678901234.5678", "0.00000000000000000001",
              "00000000000000000009007199254740993", "0.0000000000000000001"]  # fmt: skip
    outcomes = []
    for token in tokens:
        values, ok = _parse_token(token)
        outcomes.append(ok)
        if ok:
            assert _bits(values[0, 0]) == _bits(float(token)), token
    # 20 fraction digits and 20 significant digits are beyond the fast grammar
    assert outcomes == [True, True, True, True, False, True, True]
    values, ok = _parse_token(b"123456789012345678901")
    assert not ok


def test_batch_readers_equal_the_one_file_readers(tmp_path):
    rng = random.Random(3)
    box_paths, vot_paths, frames = [], [], []
    for i in range(12):
        n = rng.randint(1, 30)
        boxes = [",".join(_random_decimal(rng) for _ in range(4)) for _ in range(n)]
        vot = [rng.choice(["1", "2", "0"]) if rng.random() < 0.2 else ",".join(
            _random_decimal(rng) for _ in range(rng.choice([4, 8]))) for _ in range(n)]  # fmt: skip
        if i == 4:
            boxes[0] = vot[0] = "1\t2\t3\t4"  # valid, outside the fast grammar: the strict reader
        end = "\r\n" if i == 7 else "\n"  # Windows line ends: the strict reader's too
        _write(tmp_path / f"b{i}.txt", end.join(boxes) + end)
        _write(tmp_path / f"v{i}.txt", "\n".join(vot) + "\n")
        box_paths.append(str(tmp_path / f"b{i}.txt"))
        vot_paths.append(tmp_path / f"v{i}.txt")
        frames.append(n)
    concat = fastread.read_boxes_concat(box_paths, frames)
    many = np.split(concat, np.cumsum(frames)[:-1])
    assert len(many) == 12
    for path, n, got in zip(box_paths, frames, many):
        assert got.tobytes() == rio.read_boxes(path, n).tobytes()
    for path, n, got in zip(vot_paths, frames, fastread.read_vot_packed_many(vot_paths, frames)):
        assert _same_packed(got, pack_regions(rio.read_vot_trajectory(path, n)))
    assert fastread.read_boxes_concat([], []).shape == (0, 4) and fastread.read_vot_packed_many([], []) == []


def test_batch_reader_errors_are_the_first_bad_files_and_missing_files_are_located(tmp_path):
    for i, text in enumerate(["1,2,3,4\n5,6,7,8\n", "1,2,3,4\n1,2,oops,4\n", "1,2,3\n1,2,3,4\n"]):
        _write(tmp_path / f"f{i}.txt", text)
    paths = [tmp_path / f"f{i}.txt" for i in range(3)]
    with pytest.raises(ValueError, match=r"f1\.txt: line 2: cannot parse"):
        fastread.read_boxes_concat(paths, [2, 2, 2])
    with pytest.raises(ValueError, match=r"f0\.txt: 2 lines but the video has 3 frames"):
        fastread.read_boxes_concat(paths, [3, 2, 2])
    # a file that cannot be opened: found where locate says (e.g. the OTB toolkit's legacy name)
    missing = tmp_path / "Jogging-1.txt"
    got = fastread.read_boxes_concat([paths[0], missing], [2, 2], locate=lambda i: paths[0])
    assert got.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]] * 2
    with pytest.raises(FileNotFoundError, match=r"Jogging-1\.txt: no such result file"):
        fastread.read_boxes_concat([paths[0], missing], [2, 2], locate=lambda i: None)
    with pytest.raises(FileNotFoundError, match=r"Jogging-1\.txt"):
        fastread.read_boxes_concat([missing], [2])
    with pytest.raises(ValueError, match=r"f2\.txt: line 1: expected 4 values"):
        fastread.read_boxes_concat([paths[0], paths[2]], [2, 2])
    with pytest.raises(ValueError, match=r"f1\.txt: line 2: cannot parse"):
        fastread.read_vot_packed_many(paths, [2, 2, 2])


def test_reader_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "v.txt"
    _write(path, "1\n10.5,20.5,30.5,40.5\n5\n")
    with pytest.raises(ValueError, match=r"v\.txt: line 3: a one-value line must be 0, 1 or 2"):
        fastread.read_vot_packed(path, 3)
    _write(path, "1,2,3,4\n1,2,3\n")
    with pytest.raises(ValueError, match=r"v\.txt: line 2: expected 4 values"):
        fastread.read_boxes(path, 2)


def _random_region(rng: np.random.Generator, w: int, h: int, finite: bool = False) -> list[float]:
    r = rng.random()
    if r < 0.1:
        return [float(rng.choice([0, 1, 2]))]
    if r < 0.15 and finite:
        return [1e7, 3.0, 4.0, 5.0]
    if r < 0.15:
        return [float(v) for v in rng.choice([[np.nan, 1, 2, 3], [np.inf, 1, 5, 5], [1e7, 3, 4, 5]])]
    if r < 0.3:  # polygon
        c = rng.uniform([-20, -20], [w + 20, h + 20])
        pts = c + rng.normal(0, 15, (4, 2))
        return pts.ravel().round(rng.integers(0, 5)).tolist()
    x, y = rng.uniform(-30, w + 10), rng.uniform(-30, h + 10)
    bw, bh = rng.uniform(-2, 60), rng.uniform(-2, 60)
    if r < 0.4:  # integer-valued and edge-touching boxes
        x, y, bw, bh = float(round(x)), float(round(y)), float(round(bw)), float(round(bh))
    if r < 0.45:
        x, bw = w - rng.uniform(0, 3), rng.uniform(0, 4)
    return [x, y, bw, bh]


@pytest.mark.parametrize("seed", range(3))
def test_eao_spans_clipped_from_the_accuracy_spans_equal_their_own_computation(seed):
    """The EAO bounds' ground-truth table is the accuracy bounds' table clipped by one pixel: the
    same rows, spans, pixel counts and boxes as rasterising for the EAO bounds directly, and no
    frame is called safe that the direct computation finds fragile."""
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(30, 120)), int(rng.integers(30, 120))
    regions = [_random_region(rng, w, h) for _ in range(500)]
    regions += [[0, 0, w + 5, 0, w + 5, h + 5, 0, h + 5], [w - 1.0, h - 1.0, 1.0, 1.0], [w, h, 3.0, 3.0],
                [0.0, h - 0.4, w, 0.9], [w - 0.6, 0.0, 0.9, h]]  # fmt: skip
    packed = pack_regions(regions)
    small, large = fastpath._bounds(w - 1, h - 1), fastpath._bounds(w, h)
    direct = fastpath._gt_spans(packed.values, packed.counts, small)
    table = fastpath._gt_spans(packed.values, packed.counts, large)
    row0, nrows, rowptr, starts, ends, _, safe, boxes = table
    clipped = fastpath._clip_spans(row0, nrows, rowptr, starts, ends, safe, boxes, small)
    for k in (0, 1, 2, 5, 7):  # row0, nrows, rowptr, total, boxes
        assert np.array_equal(clipped[k], direct[k]), k
    used = direct[2][-1]
    assert np.array_equal(clipped[3][:used], direct[3][:used])
    assert np.array_equal(clipped[4][:used], direct[4][:used])
    assert not np.any(clipped[6] & ~direct[6])
    assert np.sum(nrows) > np.sum(direct[1]) > 0  # some frames reach the accuracy bounds' last row


@pytest.mark.parametrize("seed", range(4))
def test_vot_overlaps_equal_the_reference_kernel(seed):
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(40, 200)), int(rng.integers(40, 200))
    n = 400
    c = rng.uniform([10, 10], [w - 10, h - 10], (n, 2))
    angle = rng.uniform(-0.6, 0.6, n)
    size = rng.uniform(3, 40, (n, 2))
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    pts = corners[None] * size[:, None]
    rot = np.stack(
        [pts[..., 0] * np.cos(angle)[:, None] - pts[..., 1] * np.sin(angle)[:, None],
         pts[..., 0] * np.sin(angle)[:, None] + pts[..., 1] * np.cos(angle)[:, None]], -1,
    )  # fmt: skip
    gt = (rot + c[:, None]).reshape(n, 8).round(int(rng.integers(1, 4)))
    gt[rng.random(n) < 0.05] = np.nan  # unannotated frames
    gt[::37, :] = np.array([0, 0, w + 5, 0, w + 5, h + 5, 0, h + 5])  # whole image and beyond
    regions = [_random_region(rng, w, h) for _ in range(n)]
    for i in range(5, n, 41):  # both regions a point: no pixel on either side (C: 0 / 0, empty)
        gt[i] = [20.0, 30.0] * 4
        regions[i] = [20.0, 30.0, 0.0, 0.0]
    pred = pack_regions(regions)
    prep = fastpath.VotGt(gt, (w, h))
    acc, eo, n_empty, fails = fastpath.vot_run_overlaps(pred, prep, 10)
    assert fails == ar.calculate_failures(regions)[1] and len(fails) > 0
    ref_acc = ar.calculate_accuracy(pred, prep.packed, burnin=10, bound=(w, h))[1]
    ref_eo = ar.calculate_accuracy(pred, prep.packed, bound=(w - 1, h - 1))[1]
    assert acc.tobytes() == ref_acc.tobytes()
    assert eo.tobytes() == ref_eo.tobytes()
    assert n_empty == ar.empty_frame_count(ref_acc, pred, prep.packed, (w, h)) >= len(range(5, n, 41))
    assert np.sum(~np.isnan(eo)) > n / 2  # the comparison covers many scored frames


def _vot_dataset(rng: np.random.Generator, num_videos: int = 4) -> Dataset:
    videos = []
    for v in range(num_videos):
        n = int(rng.integers(30, 80))
        c = np.cumsum(rng.normal(0, 2, (n, 2)), 0) + [80, 60]
        s = rng.uniform(15, 40, 2)
        gt = np.concatenate([c - s / 2, c + [s[0] / 2, -s[1] / 2], c + s / 2, c + [-s[0] / 2, s[1] / 2]], 1)
        tags = {t: (rng.random(n) < 0.4).astype(np.int32) for t in ("occlusion", "camera_motion")}
        images = [f"/nonexistent/v{v}/{i:08d}.jpg" for i in range(n)]
        videos.append(Video(f"v{v}", images, gt.round(2), tags=tags, size=(160, 120)))
    return Dataset("VOT2018", "/nonexistent", videos, protocol="vot")


def _vot_run(rng: np.random.Generator, video: Video) -> list:
    out, i, n = [], 0, len(video)
    while i < n:
        out.append(1)
        i += 1
        while i < n:
            if rng.random() < 0.08:
                out += [2] + [0] * min(4, n - i - 1)
                i += 5
                break
            g = video.gt_traj[i]
            out.append(_random_region(rng, 160, 120, finite=True) if rng.random() < 0.2 else
                       [g[0] + rng.normal(0, 3), g[1] + rng.normal(0, 3), g[4] - g[0], g[5] - g[1]])
            i += 1
    return out[:n]


def _equal(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.mark.parametrize("seed", range(3))
def test_vot_tracker_fast_equals_reference(tmp_path, seed):
    rng = np.random.default_rng(seed)
    ds = _vot_dataset(rng)
    reps = 15 if seed == 2 else 1
    for tracker in ("a", "b"):
        for video in ds:
            for r in range(reps):
                path = rio.result_path(tmp_path, tracker, video.name, "vot", repetition=r + 1)
                rio.write_vot_trajectory(path, _vot_run(rng, video))
    for tracker in ("a", "b"):
        fast = aggregate.evaluate_vot_tracker(ds, tmp_path, tracker, (5, 40), fast=True)
        ref = aggregate.evaluate_vot_tracker(ds, tmp_path, tracker, (5, 40), fast=False)
        assert _equal(fast, ref)
        assert fast["repetitions"] == reps and sum(sum(f) for f in fast["per_video_failures"].values()) > 0


@pytest.mark.parametrize("seed", range(3))
def test_ope_tracker_fast_equals_reference(tmp_path, seed):
    rng = np.random.default_rng(seed)
    videos = []
    for v in range(5):
        n = int(rng.integers(20, 90))
        gt = np.concatenate([rng.uniform(-5, 200, (n, 2)), rng.uniform(-3, 60, (n, 2))], 1).round(1)
        gt[rng.random(n) < 0.1] = np.nan
        gt[rng.random(n) < 0.05, 2] = 0
        absent = (rng.random(n) < 0.8).astype(np.int8) if seed == 1 else None
        images = [f"/nonexistent/{i}.jpg" for i in range(n)]
        videos.append(Video(f"v{v}", images, gt, attr=["IV"] if v % 2 else ["SV"], absent=absent))
        pred = gt + rng.normal(0, 8, gt.shape)
        pred[np.isnan(pred)] = 5.0
        pred[rng.random(n) < 0.05] = [0, 0, 0, 0]
        lines = [rio.format_box_line([float(x) for x in row]) for row in pred]
        if v == 3:
            lines[0] = "1\t2\t3\t4"  # the strict reader's tab format: read by the fallback
        text = "".join(line + "\n" for line in lines)
        _write(rio.result_path(tmp_path, "t", f"v{v}", "ope"), text)
    ds = Dataset("LaSOT" if seed == 1 else "OTB100", "/nonexistent", videos, protocol="ope")
    fast = aggregate.evaluate_ope_tracker(ds, tmp_path, "t", fast=True)
    ref = aggregate.evaluate_ope_tracker(ds, tmp_path, "t", fast=False)
    assert _equal(fast, ref)
    # the numpy path of small evaluations (no numba): the same numbers too
    assert _equal(aggregate.evaluate_ope_tracker(ds, tmp_path, "t", fast=True, compiled=False), ref)
    assert not math.isnan(fast["success_auc"]) and 0 < fast["success_auc"] < 1


def test_ope_paths_are_quiet_on_huge_boxes_and_name_a_missing_file_alike(tmp_path):
    import warnings

    gt = np.array([[10.0, 10.0, 20.0, 20.0]] * 3)
    videos = [Video(f"v{v}", [f"/nonexistent/{i}.jpg" for i in range(3)], gt.copy()) for v in range(2)]
    ds = Dataset("OTB100", "/nonexistent", videos, protocol="ope")
    huge = "1e308,1e308,1e308,1e308\n10,10,20,20\n-5,0,1e308,3\n"
    for v in range(2):
        _write(rio.result_path(tmp_path, "t", f"v{v}", "ope"), huge)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning (overflow) from either path
        small = aggregate.evaluate_ope_tracker(ds, tmp_path, "t", compiled=False)
        assert _equal(small, aggregate.evaluate_ope_tracker(ds, tmp_path, "t", compiled=True))
    (tmp_path / "t" / "v1.txt").unlink()
    messages = set()
    for kwargs in ({"fast": False}, {"compiled": False}, {"compiled": True}):
        with pytest.raises(FileNotFoundError) as err:
            aggregate.evaluate_ope_tracker(ds, tmp_path, "t", **kwargs)
        messages.add(str(err.value))
    assert messages == {f"{tmp_path / 't' / 'v1.txt'}: no such result file"}


def test_threshold_bins_equal_searchsorted_for_any_ascending_thresholds():
    """The OPE histogram bins (a guess from the mean spacing, corrected step by step) are the exact
    count of thresholds below the value, for even and uneven thresholds, ties, +-inf and NaN."""
    rng = np.random.default_rng(5)
    from toolkit.evaluation import ope

    sets = [
        ope.SUCCESS_THRESHOLDS.astype(np.float64),
        ope.PRECISION_THRESHOLDS.astype(np.float64),
        ope.NORM_PRECISION_THRESHOLDS.astype(np.float64),
        np.sort(rng.uniform(-3, 40, 17)),  # uneven
        np.array([0.0, 0.0, 1.0, 1.0, 1.0, 5.0]),  # repeated values
        np.array([2.5]),
    ]
    for thr in sets:
        values = np.concatenate([
            rng.uniform(thr[0] - 5, thr[-1] + 5, 2000), thr, np.nextafter(thr, np.inf),
            np.nextafter(thr, -np.inf), [np.inf, -np.inf, -1.0, 1e300, -1e300],
        ])  # fmt: skip
        t0, inv = fastpath._spacing(thr)
        below = [fastpath._bin_above(v, thr, t0, inv) for v in values]
        np.testing.assert_array_equal(below, np.searchsorted(thr, values, side="left"))
        assert fastpath._bin_above(np.nan, thr, t0, inv) == 0
        assert fastpath._bin_within(np.nan, thr, t0, inv) == len(thr)
