"""toolkit.demo and tools/demo.py: sources, headless behaviour, annotated output video, and the CLI."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from toolkit import demo
from toolkit.datasets import build_dataset
from toolkit.datasets.synthetic import generate
from tools import demo as demo_tool

# The bag in the first frame of bag.avi (480x360), read off the image.
BAG_INIT = "315,140,113,115"


class IndexTracker:
    """Reports the first pixel's blue value of each frame as the box x (frames carry their index)."""

    def init(self, img, bbox):
        self.box = list(bbox)

    def track(self, img):
        return {"bbox": [float(img[0, 0, 0]), 0.0, 4.0, 4.0], "best_score": 0.25}


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """Write BGR frames to an MJPG ``.avi`` (readable by every OpenCV build with FFmpeg)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def count_frames(path):
    capture = cv2.VideoCapture(str(path))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    return frames, size


def test_parse_box():
    assert demo.parse_box("1,2.5,30,40") == [1.0, 2.5, 30.0, 40.0]
    assert demo.parse_box(" 1 2 3 4 ") == [1.0, 2.0, 3.0, 4.0]
    for bad in ("1,2,3", "1,2,0,4", "a,b,c,d"):
        with pytest.raises(ValueError, match="x,y,w,h"):
            demo.parse_box(bad)


def test_image_folder_in_natural_order(tmp_path):
    # Frame k is a solid image of value k, named so that plain sorting would put 10 before 2.
    for k in (1, 2, 10):
        cv2.imwrite(str(tmp_path / f"img{k}.png"), np.full((8, 8, 3), k, dtype=np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    result = demo.run_demo(IndexTracker(), tmp_path, init_box=[0, 0, 4, 4])
    assert result.boxes[:, 0].tolist() == [0.0, 2.0, 10.0]  # frame 0 = the init box
    assert result.scores.tolist() == [1.0, 0.25, 0.25]
    assert result.output is None


def test_headless_without_init_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(demo.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((8, 8, 3), dtype=np.uint8))
    with pytest.raises(RuntimeError, match="--init"):
        demo.run_demo(IndexTracker(), tmp_path)
    with pytest.raises(RuntimeError, match="--show needs a display"):
        demo.run_demo(IndexTracker(), tmp_path, init_box=[0, 0, 4, 4], show=True)


def test_missing_source_and_bad_output_suffix(tmp_path):
    with pytest.raises(FileNotFoundError, match="video source not found"):
        demo.run_demo(IndexTracker(), tmp_path / "nope.avi", init_box=[0, 0, 4, 4])
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((8, 8, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="--output must end in"):
        demo.run_demo(IndexTracker(), tmp_path, init_box=[0, 0, 4, 4], output=tmp_path / "out.gif")


def test_video_file_tracks_as_direct_loop_and_writes_annotated_video(tmp_path, capsys, tiny_experiment):
    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
    generate("SYNTH", tmp_path / "data", num_videos=1, max_frames=8)
    seq = build_dataset("SYNTH", tmp_path / "data" / "SYNTH")[0]
    video = write_video(tmp_path / "clip.avi", [seq.load_image(i) for i in range(len(seq))])
    init = [float(v) for v in seq.init_rect]

    from pysot.integrations.loading import load_tracker

    _, tracker = load_tracker(config, snapshot, "cpu")
    result = demo.run_demo(tracker, video, init_box=init, output=tmp_path / "out" / "tracked.mp4")

    # The same decoded frames through the tracker directly give bit-identical boxes.
    frames, _ = demo.open_source(video)
    frames = list(frames)
    _, direct = load_tracker(config, snapshot, "cpu")
    direct.init(frames[0], init)
    expected = [init] + [direct.track(f)["bbox"] for f in frames[1:]]
    np.testing.assert_array_equal(result.boxes, np.array(expected))
    assert result.fps > 0
    assert count_frames(result.output) == (8, (seq.width, seq.height))

    # The command line: same run, an .avi output (MJPG), FPS printed.
    assert (
        demo_tool.main(
            ["--config", str(config), "--snapshot", str(snapshot), "--video", str(video)]
            + ["--init", ",".join(str(v) for v in init), "--output", str(tmp_path / "cli.avi")]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "tracked 8 frames at " in out and " FPS" in out
    assert count_frames(tmp_path / "cli.avi") == (8, (seq.width, seq.height))


def test_bag_avi(tmp_path, capsys, tiny_experiment, bag_video):
    bag = bag_video
    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
    output = tmp_path / "bag_tracked.mp4"
    argv = ["--config", str(config), "--snapshot", str(snapshot), "--video", str(bag), "--init", BAG_INIT]
    assert demo_tool.main(argv + ["--output", str(output), "--max-frames", "20"]) == 0
    assert "tracked 20 frames at" in capsys.readouterr().out
    assert count_frames(output) == (20, (480, 360))


class MaskTracker(IndexTracker):
    """Returns a SiamMask-style output: a polygon and a float mask (left half 0.9, right half 0.1)."""

    mask_threshold = 0.5

    def track(self, img):
        mask = np.zeros(img.shape[:2], np.float32)
        mask[:, : img.shape[1] // 2] = 0.9
        mask[:, img.shape[1] // 2 :] = 0.1
        return {
            "bbox": [2.0, 2.0, 8.0, 8.0],
            "best_score": 0.5,
            "polygon": [2, 2, 10, 2, 10, 10, 2, 10],
            "mask": mask,
        }


def test_draw_mask_and_polygon_as_pysot_demo():
    frame = np.full((80, 120, 3), 100, np.uint8)
    mask = np.zeros((80, 120), np.float32)
    mask[40:, :] = 0.9
    polygon = [60, 45, 100, 45, 100, 70, 60, 70]
    out = demo.draw(frame, [10, 30, 8, 8], 0.5, 1, polygon=polygon, mask=mask, mask_threshold=0.5)
    # outside the mask: 0.77 * 100 - 1 = 76; inside: green 0.77 * 100 + 0.23 * 255 - 1 = 134.65 -> 135
    assert tuple(out[35, 110]) == (76, 76, 76)
    assert tuple(out[78, 5]) == (76, 135, 76)
    assert tuple(out[45, 80]) == (0, 255, 0)  # on the polygon's top edge
    assert tuple(out[30, 14]) == (76, 76, 76)  # no box drawn when there is a polygon
    plain = demo.draw(frame, [10, 30, 8, 8], 0.5, 1)
    assert tuple(plain[30, 14]) == (0, 255, 0) and tuple(plain[78, 5]) == (100, 100, 100)


def test_run_demo_draws_siammask_outputs(tmp_path, monkeypatch):
    calls = []
    real_draw = demo.draw
    monkeypatch.setattr(demo, "draw", lambda *a, **k: calls.append(k) or real_draw(*a, **k))
    frames = [np.full((24, 32, 3), i, np.uint8) for i in range(3)]
    video = write_video(tmp_path / "clip.avi", frames)
    demo.run_demo(MaskTracker(), video, init_box=[2, 2, 8, 8], output=tmp_path / "out.avi")
    assert calls[0] == {}  # frame 0: the init box
    assert [c["polygon"] for c in calls[1:]] == [[2, 2, 10, 2, 10, 10, 2, 10]] * 2
    assert all(c["mask"].shape == (24, 32) and c["mask_threshold"] == 0.5 for c in calls[1:])


def test_bad_config_value_or_source_is_one_named_error_and_exit_2(tmp_path, caplog, tiny_experiment):
    config, snapshot = tiny_experiment
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((64, 64, 3), dtype=np.uint8))
    cv2.imwrite(str(tmp_path / "1.png"), np.zeros((64, 64, 3), dtype=np.uint8))
    base = ["--config", str(config), "--snapshot", str(snapshot), "--init", "8,8,20,20", "--threads", "1"]
    cases = [
        (["--video", str(tmp_path), "TA.ENABLE", "True", "TA.CHANNELS", "[0.6, 2.0, 0.5]"], "TA.CHANNELS[1]"),
        (["--video", str(tmp_path), "TRACK.PRECISION", "fp64"], "fp64"),
        (["--video", str(tmp_path / "nope.avi")], "video source not found"),
    ]
    for extra, named in cases:
        caplog.clear()
        assert demo_tool.main(base + extra) == 2
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == 1 and named in errors[0], errors
