"""The GOT-10k toolkit adapter: RGB PIL frames in, the PySOT tracker's boxes out."""

from __future__ import annotations

import importlib.util
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from pysot.integrations import got10k_adapter
from pysot.integrations.got10k_adapter import TaSiamRPNGot10k, to_bgr
from toolkit.datasets import build_dataset
from toolkit.datasets.synthetic import generate


class RecordingTracker:
    """Records the images it receives; moves the box by +1 px in x per frame."""

    def __init__(self):
        self.images = []
        self.box = None

    def init(self, img, bbox):
        self.images.append(img)
        self.box = list(bbox)

    def track(self, img):
        self.images.append(img)
        self.box[0] += 1
        return {"bbox": list(self.box), "best_score": 0.5}


def test_to_bgr_reverses_channels_and_accepts_grey_and_rgba():
    rgb = np.array([[[10, 20, 30], [40, 50, 60]]], dtype=np.uint8)
    assert to_bgr(Image.fromarray(rgb)).tolist() == [[[30, 20, 10], [60, 50, 40]]]
    assert to_bgr(rgb).flags["C_CONTIGUOUS"]
    grey = Image.fromarray(np.array([[7]], dtype=np.uint8), mode="L")
    assert to_bgr(grey).tolist() == [[[7, 7, 7]]]
    rgba = np.array([[[1, 2, 3, 255]]], dtype=np.uint8)
    assert to_bgr(rgba).tolist() == [[[3, 2, 1]]]
    with pytest.raises(ValueError, match="uint8"):
        to_bgr(np.zeros((2, 2, 3), dtype=np.float32))


def test_adapter_passes_bgr_and_box_through():
    inner = RecordingTracker()
    adapter = TaSiamRPNGot10k(inner, name="ta")
    frame = np.zeros((4, 5, 3), dtype=np.uint8)
    frame[..., 0] = 255  # pure red in RGB
    adapter.init(Image.fromarray(frame), np.array([1, 2, 3, 4]))
    assert inner.box == [1.0, 2.0, 3.0, 4.0]
    box = adapter.update(Image.fromarray(frame))
    assert box.tolist() == [2.0, 2.0, 3.0, 4.0]
    assert adapter.last_score == 0.5
    # Red arrives in the last channel (BGR), as from cv2.imread.
    assert inner.images[1][0, 0].tolist() == [0, 0, 255]
    assert (adapter.name, adapter.is_deterministic) == ("ta", True)


def test_init_convention_is_explicit():
    inner = RecordingTracker()
    frame = Image.fromarray(np.zeros((4, 5, 3), dtype=np.uint8))
    TaSiamRPNGot10k(inner, init_convention="pysot").init(frame, np.array([1, 2, 3, 4]))
    # PySOT's OPE init box: centre x + w/2 = 2.5 -> [2.5 - (3 - 1)/2, 4 - (4 - 1)/2, 3, 4]
    assert inner.box == [1.5, 2.5, 3.0, 4.0]
    TaSiamRPNGot10k(inner).init(frame, np.array([1, 2, 3, 4]))
    assert inner.box == [1.0, 2.0, 3.0, 4.0]  # the default: the annotation as given
    with pytest.raises(ValueError, match="init_convention='otb' is not known; known: got10k, pysot"):
        TaSiamRPNGot10k(inner, init_convention="otb")


def test_importable_without_got10k(monkeypatch):
    # A None entry in sys.modules makes `import got10k.trackers` raise ImportError.
    monkeypatch.setitem(sys.modules, "got10k", None)
    monkeypatch.setitem(sys.modules, "got10k.trackers", None)
    spec = importlib.util.spec_from_file_location("got10k_adapter_without_got10k", got10k_adapter.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    base = module.TaSiamRPNGot10k.__mro__[1]
    assert base.__module__ == "got10k_adapter_without_got10k"
    adapter = module.TaSiamRPNGot10k(RecordingTracker(), name="x")
    adapter.init(np.zeros((3, 3, 3), dtype=np.uint8), [0, 0, 2, 2])
    assert adapter.update(np.zeros((3, 3, 3), dtype=np.uint8)).tolist() == [1.0, 0.0, 2.0, 2.0]


def test_got10k_track_equals_direct_tracking(tmp_path, tiny_experiment):
    got10k_trackers = pytest.importorskip("got10k.trackers")
    assert issubclass(TaSiamRPNGot10k, got10k_trackers.Tracker)
    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
    generate("SYNTH", tmp_path / "data", num_videos=1, max_frames=8)
    seq = build_dataset("SYNTH", tmp_path / "data" / "SYNTH")[0]
    # PNG (lossless): PIL and OpenCV decode the same pixels, so both paths see identical images.
    files = []
    for idx in range(len(seq)):
        files.append(str(tmp_path / f"{idx:04d}.png"))
        cv2.imwrite(files[-1], seq.load_image(idx))

    adapter = TaSiamRPNGot10k.from_files(config, snapshot, device="cpu")
    boxes, times = adapter.track(files, seq.init_rect)  # got10k's own loop (PIL, RGB)

    from pysot.integrations.loading import load_tracker

    _, tracker = load_tracker(config, snapshot, "cpu")
    tracker.init(cv2.imread(files[0]), list(seq.init_rect))
    expected = [list(seq.init_rect)] + [tracker.track(cv2.imread(f))["bbox"] for f in files[1:]]
    # Same pixels, same computation in the same process: bit-identical boxes.
    np.testing.assert_array_equal(boxes, np.array(expected))
    assert boxes.shape == (8, 4) and len(times) == 8

    # init_convention='pysot': the boxes of tools/test.py's OPE loop (run_ope), bit for bit
    from toolkit.protocols import run_ope

    adapter = TaSiamRPNGot10k.from_files(config, snapshot, device="cpu", init_convention="pysot")
    boxes, _ = adapter.track(files, seq.init_rect)
    _, tracker = load_tracker(config, snapshot, "cpu")
    ope = run_ope(tracker, seq)
    np.testing.assert_array_equal(boxes[1:], np.array(ope.boxes[1:]))
    assert not np.array_equal(boxes[1:], np.array(expected[1:]))  # the init box moves every later box
