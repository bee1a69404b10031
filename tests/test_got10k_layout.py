"""toolkit.datasets.got10k_layout: our datasets in the GOT-10k toolkit's layout, read by the toolkit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from toolkit.datasets import build_dataset
from toolkit.datasets.base import Dataset, Sequence
from toolkit.datasets.got10k_layout import write_got10k_split
from toolkit.datasets.synthetic import generate


def _sequence(tmp_path, name, gt, suffix=".jpg"):
    paths = []
    for i in range(len(gt)):
        paths.append(tmp_path / "src" / name / f"{i:03d}{suffix}")
        paths[-1].parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(paths[-1]), np.full((24, 32, 3), 40 * i, np.uint8))
    return Sequence(name, [str(p) for p in paths], np.asarray(gt, dtype=np.float64))


def test_layout_files_and_labels(tmp_path):
    nan = [float("nan")] * 4
    # frame 0 inside the 32 x 24 image; frame 1 absent; frame 2 leaves the image on the right
    # (28 + 6 > 32); frame 3 has no area
    seq = _sequence(tmp_path, "v1", [[1.5, 2, 10, 8], nan, [28, 4, 6, 5], [3, 3, 0, 4]])
    poly = _sequence(tmp_path, "v2", [[2, 1, 2, 9, 12, 9, 12, 1]] * 2)
    split = write_got10k_split(Dataset("X", tmp_path / "src", [seq, poly]), tmp_path / "g", subset="val")
    assert (split / "list.txt").read_text() == "v1\nv2\n"
    v1 = split / "v1"
    assert sorted(p.name for p in v1.glob("*.jpg")) == [
        "00000001.jpg",
        "00000002.jpg",
        "00000003.jpg",
        "00000004.jpg",
    ]
    assert (v1 / "00000002.jpg").resolve() == (tmp_path / "src/v1/001.jpg").resolve()
    assert (v1 / "groundtruth.txt").read_text().splitlines() == [
        "1.5,2.0,10.0,8.0", "nan,nan,nan,nan", "28.0,4.0,6.0,5.0", "3.0,3.0,0.0,4.0"
    ]  # fmt: skip
    assert (v1 / "absence.label").read_text().split() == ["0", "1", "0", "1"]
    assert (v1 / "cover.label").read_text().split() == ["8", "0", "8", "0"]
    assert (v1 / "cut_by_image.label").read_text().split() == ["0", "0", "1", "0"]
    assert "resolution: (32, 24)" in (v1 / "meta_info.ini").read_text()
    # a polygon becomes its min-max rectangle
    assert (split / "v2" / "groundtruth.txt").read_text().splitlines()[0] == "2.0,1.0,10.0,8.0"


def test_non_jpeg_frames_are_refused(tmp_path):
    seq = _sequence(tmp_path, "p", [[1, 1, 4, 4]], suffix=".png")
    with pytest.raises(
        ValueError, match=r"video p: the GOT-10k toolkit reads only \*\.jpg frames, got .*000\.png"
    ):
        write_got10k_split(Dataset("X", tmp_path / "src", [seq]), tmp_path / "g")


def test_got10k_experiment_runs_offline_on_the_converted_split(tmp_path):
    """ExperimentGOT10k(val) runs and reports on a converted SYNTH subset; a tracker that returns the
    ground truth scores AO = SR = 1 (got10k's own report)."""
    experiments = pytest.importorskip("got10k.experiments")
    from pysot.integrations.got10k_adapter import TaSiamRPNGot10k

    generate("SYNTH", tmp_path / "data", num_videos=2, max_frames=6)
    ds = build_dataset("SYNTH", tmp_path / "data" / "SYNTH")
    write_got10k_split(ds, tmp_path / "GOT", subset="val")

    class Oracle:
        def init(self, img, box):
            self.seq, self.frame = next(s for s in ds if np.allclose(s.gt_traj[0], box)), 0

        def track(self, img):
            self.frame += 1
            return {"bbox": list(self.seq.gt_traj[self.frame]), "best_score": 1.0}

    tracker = TaSiamRPNGot10k(Oracle(), name="oracle")
    experiment = experiments.ExperimentGOT10k(
        str(tmp_path / "GOT"),
        subset="val",
        result_dir=str(tmp_path / "res"),
        report_dir=str(tmp_path / "rep"),
    )
    experiment.run(tracker)
    performance = experiment.report([tracker.name])
    assert performance["oracle"]["overall"]["ao"] == pytest.approx(1.0)
    assert performance["oracle"]["overall"]["sr"] == pytest.approx(1.0)
    assert set(performance["oracle"]["seq_wise"]) == set(ds.names)
