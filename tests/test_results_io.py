"""Result files (toolkit.results): PySOT's layout and exact bytes, strict readers, atomic writes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from toolkit import results as rio


def test_layout_of_every_protocol(tmp_path):
    root = tmp_path / "results" / "X"
    assert rio.result_path(root, "trk", "car", "ope") == root / "trk" / "car.txt"
    assert rio.result_path(root, "trk", "car", "vot") == root / "trk" / "baseline" / "car" / "car_001.txt"
    assert rio.result_path(root, "trk", "car", "vot", repetition=15) == root / "trk/baseline/car/car_015.txt"
    lt = root / "trk" / "longterm" / "car"
    assert rio.result_path(root, "trk", "car", "longterm") == lt / "car_001.txt"
    assert rio.result_path(root, "trk", "car", "longterm", "confidence") == lt / "car_001_confidence.value"
    assert rio.result_path(root, "trk", "car", "longterm", "time") == lt / "car_time.txt"
    assert rio.result_path(root, "trk", "car", "got10k") == root / "trk" / "car" / "car_001.txt"
    assert rio.result_path(root, "trk", "car", "got10k", "time") == root / "trk" / "car" / "car_time.txt"
    with pytest.raises(ValueError, match="protocol 'ope' has no 'time' file"):
        rio.result_path(root, "trk", "car", "ope", "time")
    with pytest.raises(ValueError, match="has no 'confidence' file"):
        rio.result_path(root, "trk", "car", "got10k", "confidence")
    with pytest.raises(ValueError, match="unknown result protocol 'otb'"):
        rio.result_path(root, "trk", "car", "otb")


def test_box_lines_are_str_of_each_value(tmp_path):
    # PySOT: ','.join([str(i) for i in x]); ints stay ints, numpy float64 prints like a float
    path = tmp_path / "a" / "v.txt"
    rio.write_boxes(path, [[71.5, 138.5, 30, 56], np.array([1.25, 2.0, 3.125, 4.0]), 1])
    assert path.read_bytes() == b"71.5,138.5,30,56\n1.25,2.0,3.125,4.0\n1\n"
    assert [p.name for p in path.parent.iterdir()] == ["v.txt"]  # no temporary file left


def test_vot_lines_are_codes_and_c_float_4_decimals(tmp_path):
    path = tmp_path / "v_001.txt"
    traj = [1, [204.75823, 41.30138, 40.58741, 67.19879], 2, 0, np.int64(0), [1.00005, 0, 10, 0, 0, 10]]
    rio.write_vot_trajectory(path, traj)
    # 1.00005 is 1.0000499... as a C float, hence "1.0000" (vot_float2str("%.4f", x) in PySOT)
    expected = b"1\n204.7582,41.3014,40.5874,67.1988\n2\n0\n0\n1.0000,0.0000,10.0000,0.0000,0.0000,10.0000\n"
    assert path.read_bytes() == expected
    back = rio.read_vot_trajectory(path, 6)
    assert back[0] == [1.0] and back[2] == [2.0] and back[3] == [0.0]
    assert back[1] == [204.7582, 41.3014, 40.5874, 67.1988]
    assert len(back[5]) == 6


def test_confidence_and_time_files(tmp_path):
    conf = tmp_path / "c.value"
    rio.write_confidence(conf, [None, 0.5, 0.123456789])
    assert conf.read_bytes() == b"\n0.500000\n0.123457\n"  # PySOT: '\n' for frame 0, '{:.6f}\n'
    values = rio.read_confidence(conf, 3)
    assert math.isnan(values[0]) and values[1:].tolist() == [0.5, 0.123457]
    times = tmp_path / "t.txt"
    rio.write_times(times, [0.1, 2])
    assert times.read_bytes() == b"0.100000\n2.000000\n"
    assert rio.read_times(times).tolist() == [0.1, 2.0]


def test_read_boxes_roundtrip_and_separators(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("1,2,3,4\n5\t6\t7\t8\n9 10 11 12\n")
    boxes = rio.read_boxes(path, 3)
    assert boxes.shape == (3, 4) and boxes.dtype == np.float64
    np.testing.assert_array_equal(boxes, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    # nan / inf are refused, naming the line (tests/test_bad_inputs.py)
    path.write_text("1,2,3,4\nnan,nan,nan,nan\n")
    with pytest.raises(ValueError, match="line 2: non-finite value"):
        rio.read_boxes(path, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3,4\n1,2,x,4\n", "line 2: cannot parse '1,2,x,4'"),
        ("1,2,3,4\n1,2,3\n", "line 2: expected 4 values x,y,w,h, got 3"),
        ("1,2,3,4\n\n", r"line 2: cannot parse '' \(empty line\)"),
    ],
)
def test_read_boxes_names_the_bad_line(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as err:
        rio.read_boxes(path)
    assert str(path) in str(err.value)


def test_wrong_line_count_names_the_file(tmp_path):
    path = tmp_path / "short.txt"
    path.write_text("1,2,3,4\n1,2,3,4\n")
    with pytest.raises(ValueError, match="2 lines but the video has 3 frames") as err:
        rio.read_boxes(path, 3)
    assert str(err.value).startswith(str(path))
    with pytest.raises(ValueError, match="2 lines but the video has 1 frames"):
        rio.read_vot_trajectory(path, 1)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("3", "line 2: a one-value line must be 0, 1 or 2"),
        ("1,2,3,4,5", "line 2: a region needs 4 values or an even number >= 6, got 5"),
        ("1,2", "line 2: a region needs 4 values or an even number >= 6, got 2"),
        ("1;2;3;4", "line 2: cannot parse"),
    ],
)
def test_read_vot_rejects_bad_regions(tmp_path, line, message):
    path = tmp_path / "v_001.txt"
    path.write_text(f"1\n{line}\n")
    with pytest.raises(ValueError, match=message):
        rio.read_vot_trajectory(path)


def test_only_the_first_confidence_line_may_be_empty(tmp_path):
    path = tmp_path / "c.value"
    path.write_text("\n0.5\n\n")
    with pytest.raises(ValueError, match="line 3: cannot parse ''"):
        rio.read_confidence(path)


def test_atomic_write_keeps_the_old_file_on_error(tmp_path):
    path = tmp_path / "v.txt"
    rio.write_boxes(path, [[1, 2, 3, 4]])
    with pytest.raises(TypeError):
        rio.write_vot_trajectory(path, [True])  # a bool is neither a code nor a region
    assert path.read_text() == "1,2,3,4\n"
    rio.write_boxes(path, [[5, 6, 7, 8]])
    assert path.read_text() == "5,6,7,8\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.txt"]


def _touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_repetitions_trackers_and_completeness(tmp_path):
    root = tmp_path / "VOT"
    for name in ("v0_002.txt", "v0_001.txt", "v0_time.txt", "v0_001_confidence.value"):
        _touch(root / "trkA" / "baseline" / "v0" / name, "1\n0,0,1,1\n")
    _touch(root / "trkB" / "x.txt")
    _touch(root / "notes.txt")
    runs = rio.vot_repetition_paths(root, "trkA", "v0")
    assert [p.name for p in runs] == ["v0_001.txt", "v0_002.txt"]
    assert rio.vot_repetition_paths(root, "trkB", "v0") == []
    assert rio.list_trackers(root) == ["trkA", "trkB"]  # folders only, sorted
    assert rio.list_trackers(root, "trkB") == ["trkB"]
    assert rio.result_complete(root, "trkA", "v0", "vot", 2)
    assert not rio.result_complete(root, "trkA", "v0", "vot", 3)  # wrong length: redo
    assert not rio.result_complete(root, "trkB", "v0", "vot", 2)  # missing
    lt = tmp_path / "LT"
    rio.write_vot_trajectory(rio.result_path(lt, "t", "v", "longterm"), [1, [0, 0, 1, 1]])
    rio.write_confidence(rio.result_path(lt, "t", "v", "longterm", "confidence"), [None, 0.9])
    assert not rio.result_complete(lt, "t", "v", "longterm", 2)  # the time file is missing
    rio.write_times(rio.result_path(lt, "t", "v", "longterm", "time"), [0.01, 0.02])
    assert rio.result_complete(lt, "t", "v", "longterm", 2)


def test_ope_result_falls_back_to_otb_toolkit_names(tmp_path):
    # PySOT also reads result sets of the OTB toolkit, whose files are named differently
    root = tmp_path / "OTB100"
    _touch(root / "t" / "Basketball.txt")
    _touch(root / "t" / "jogging_1.txt")
    _touch(root / "t" / "david3.txt")
    assert rio.find_ope_result(root, "t", "Basketball") == root / "t" / "Basketball.txt"
    assert rio.find_ope_result(root, "t", "Jogging-1") == root / "t" / "jogging_1.txt"
    assert rio.find_ope_result(root, "t", "David3") == root / "t" / "david3.txt"
    assert rio.find_ope_result(root, "t", "Car4") is None


def test_saved_vot_convention(tmp_path):
    from toolkit.results import saved_vot_convention

    assert saved_vot_convention(tmp_path) is None  # no config.yaml: another tool's results, unknown
    (tmp_path / "config.yaml").write_text("# snapshot: m.pth sha256: 00\nTRACK:\n  LR: 0.4\n")
    assert saved_vot_convention(tmp_path) == "pysot"  # saved before the key existed: PySOT's rule
    (tmp_path / "config.yaml").write_text("TEST:\n  VOT_CONVENTION: vot\n")
    assert saved_vot_convention(tmp_path) == "vot"
    (tmp_path / "config.yaml").write_text("TEST: [unclosed\n")
    assert saved_vot_convention(tmp_path) is None
