"""Bad input gets a one-line error naming the file / video / frame / key (issue 12, item 4): init
boxes, image size changes, truncated JPEGs, nan/inf and non-UTF-8 result files, bad YAML, EAO
intervals, unknown datasets; eval.py scores the complete trackers and names the incomplete ones."""

from __future__ import annotations

import io
import logging
import math

import cv2
import numpy as np
import pytest

from pysot.config import load_cfg
from toolkit import results
from toolkit.datasets import build_dataset, synthetic
from toolkit.datasets.base import DatasetFormatError, Sequence
from toolkit.evaluation.eao import eao_score
from toolkit.protocols import run_ope, run_vot
from tools import eval as eval_tool


class StillTracker:
    """Reports the init box on every frame."""

    def init(self, img, bbox):
        self.box = list(bbox)

    def track(self, img):
        return {"bbox": self.box, "best_score": 1.0}


def make_sequence(tmp_path, gt, sizes=None, name="vid") -> Sequence:
    gt = np.asarray(gt, np.float64)
    sizes = sizes or [(60, 80)] * len(gt)
    paths = []
    for i, (h, w) in enumerate(sizes):
        path = tmp_path / f"{i:04d}.jpg"
        cv2.imwrite(str(path), np.full((h, w, 3), 100 + i, np.uint8))
        paths.append(path)
    return Sequence(name, paths, gt)


@pytest.mark.parametrize(
    "row",
    [[10, 10, -10, 69.66], [10, 10, 0, 0], [10, 10, np.inf, 5], [10, 10, 5, -0.5]],
)
def test_ope_init_box_must_have_positive_finite_size(tmp_path, row):
    seq = make_sequence(tmp_path, [row, [10, 10, 20, 20]])
    with pytest.raises(
        ValueError, match=r"video vid: frame 0: ground truth \[.*\] gives the init box .*finite and > 0"
    ):
        run_ope(StillTracker(), seq)


@pytest.mark.parametrize(
    "row",
    [[5, 5, 5, 5, 5, 5, 5, 5], [5, 5, 5, 9, 5, 13, 5, 17], [10, 10, 0, 0], [10, 10, -4, 20]],
)
def test_vot_init_on_a_zero_area_region_is_a_named_error(tmp_path, row):
    seq = make_sequence(
        tmp_path, [row, [10, 10, 20, 20] if len(row) == 4 else [10, 10, 30, 10, 30, 30, 10, 30]]
    )
    with pytest.raises(ValueError, match="video vid: frame 0: ground truth"):
        run_vot(StillTracker(), seq)


def test_vot_unannotated_frame_keeps_pysots_rule(tmp_path):
    # PySOT's behaviour kept: a (re-)initialisation due on a frame without ground truth waits
    seq = make_sequence(tmp_path, [[np.nan] * 4, [10, 10, 20, 20], [10, 10, 20, 20]])
    assert run_vot(StillTracker(), seq).boxes[:2] == [0, 1]


def test_an_image_size_change_mid_video_names_the_file(tmp_path):
    seq = make_sequence(tmp_path, [[10, 10, 20, 20]] * 3, sizes=[(60, 80), (60, 80), (61, 80)])
    with pytest.raises(DatasetFormatError, match="video vid: frame 2: image is 80x61 but the video's first"):
        run_ope(StillTracker(), seq)
    with pytest.raises(DatasetFormatError, match=str(tmp_path / "0002.jpg")):
        seq.load_image(2)


def test_a_truncated_jpeg_names_the_file(tmp_path):
    seq = make_sequence(tmp_path, [[10, 10, 20, 20]] * 2)
    path = tmp_path / "0001.jpg"
    noise = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    cv2.imwrite(str(path), noise)  # scan data large enough to cut in the middle
    data = path.read_bytes()
    assert data.endswith(b"\xff\xd9")
    path.write_bytes(data + b"\x00" * 10)  # padding after the end marker is fine
    seq.load_image(1)
    path.write_bytes(data[: len(data) * 2 // 3])  # cv2.imread returns an image, libjpeg only warns
    assert cv2.imread(str(path)) is not None
    with pytest.raises(DatasetFormatError, match=f"video vid: frame 1: truncated JPEG .*: {path}"):
        seq.load_image(1)


@pytest.mark.parametrize("bad", ["nan,1,2,3", "1,2,inf,3", "1,2,3,-Infinity"])
def test_nan_and_inf_in_result_files_are_rejected_naming_file_and_line(tmp_path, bad):
    path = tmp_path / "vid.txt"
    path.write_text(f"1,2,3,4\n{bad}\n")
    with pytest.raises(ValueError, match=rf"{path}: line 2: non-finite value"):
        results.read_boxes(path)
    with pytest.raises(ValueError, match=rf"{path}: line 2: non-finite value"):
        results.read_vot_trajectory(path)
    assert not results.result_complete(tmp_path, "", "vid", "ope", 2)  # redone on resume


def test_a_result_file_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "vid.txt"
    path.write_bytes(b"1,2,3,4\n\xff\xfe,2,3,4\n")
    with pytest.raises(ValueError, match=rf"{path}: not a UTF-8 text file"):
        results.read_boxes(path, 2)


def test_bad_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("TRACK:\n  LR: 0.3\n   PENALTY_K: 1\n")
    with pytest.raises(ValueError, match=rf"^{path}: not valid YAML at line 3, column 13: "):
        load_cfg(path)
    path.write_bytes(b"TRACK:\n  LR: \xff\n")
    with pytest.raises(ValueError, match=rf"^{path}: not a UTF-8 text file"):
        load_cfg(path)


def test_eao_interval_reversed_or_empty_is_an_error():
    curve = np.ones(20, np.float32)
    assert eao_score(curve, 1, 20) == 1.0
    with pytest.raises(ValueError, match=r"EAO interval \[10, 5\]: need 1 <= low <= high"):
        eao_score(curve, 10, 5)
    with pytest.raises(ValueError, match=r"EAO interval \[0, 5\]"):
        eao_score(curve, 0, 5)
    # beyond the curve: NaN as in PySOT (eval.py refuses such an --eao-interval up front, below)
    assert math.isnan(eao_score(curve, 100, 356))


def _synth_results(tmp_path):
    root = tmp_path / "testing_dataset"
    synthetic.generate_into("SYNTH", root / "SYNTH", num_videos=2, max_frames=5)
    ds = build_dataset("SYNTH", root / "SYNTH")
    out = tmp_path / "results" / "SYNTH"
    for seq in ds:
        results.write_boxes(out / "good" / f"{seq.name}.txt", seq.gt_traj)
    results.write_boxes(out / "partial" / f"{ds.names[0]}.txt", ds[ds.names[0]].gt_traj)
    (out / "failed").mkdir()
    (out / "failed" / "config.yaml").write_text("TRACK:\n  LR: 0.3\n")
    return root, tmp_path / "results"


def test_eval_scores_the_complete_trackers_and_names_the_incomplete_ones(tmp_path, capsys, caplog):
    root, res = _synth_results(tmp_path)
    code = eval_tool.main(
        ["--tracker_path", str(res), "--dataset", "SYNTH", "--dataset-root", str(root / "SYNTH")]
    )
    assert code == 1
    table = capsys.readouterr().out
    assert "good" in table and "partial" not in table and "failed" not in table
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("'partial' has no results for 1 of 2 videos: synth002" in m for m in messages)
    assert any("'failed' has no results for 2 of 2 videos" in m for m in messages)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--dataset", "BOGUS"], "unknown dataset 'BOGUS'; known datasets:"),
        (["--dataset", "SYNTH", "--eao-interval", "10", "5"], "--eao-interval 10 5: need 1 <= LOW <= HIGH"),
        (
            ["--dataset", "SYNTH", "--eao-interval", "100", "356"],
            "--eao-interval 100 356 is empty: the longest",
        ),
    ],
)
def test_eval_arguments_are_checked_first(tmp_path, caplog, extra, message):
    root, res = _synth_results(tmp_path)
    assert eval_tool.main(["--tracker_path", str(res), "--dataset-root", str(root / "SYNTH"), *extra]) == 1
    assert message in caplog.text


def test_eval_counts_and_reports_the_frames_pysot_drops_as_empty(tmp_path, caplog):
    import json

    root = tmp_path / "testing_dataset" / "SYNTH-VOT"
    synthetic.generate_into("SYNTH-VOT", root, num_videos=1, max_frames=14)
    annotation = json.loads((root / "SYNTH-VOT.json").read_text())
    video = next(iter(annotation))
    point = [50.0] * 8  # a polygon collapsed to one point covers no pixel
    annotation[video]["gt_rect"][12] = point
    (root / "SYNTH-VOT.json").write_text(json.dumps(annotation))
    rows = [1] + [list(r) for r in annotation[video]["gt_rect"][1:]]  # frame 12: both regions empty
    path = tmp_path / "results" / "SYNTH-VOT" / "t" / "baseline" / video / f"{video}_001.txt"
    results.write_vot_trajectory(path, rows)
    report = eval_tool.run_eval(tmp_path / "results", "SYNTH-VOT", dataset_root=root, out=io.StringIO())
    assert report["trackers"]["t"]["empty_overlap_frames"] == 1
    assert "tracker t: 1 frame(s) where its region and the ground truth both cover no pixel" in caplog.text
