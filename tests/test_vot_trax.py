"""The TraX entry point, driven through vot-trax's own client as the VOT toolkit drives it.

A reset-based run is replayed over TraX: the reference is ``toolkit.protocols.run_vot`` with the same
tracker in-process; the client (re)initialises wherever the reference wrote ``1`` and sends every
frame the reference tracked, so each returned rectangle must equal the reference's region.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from _ecosystem import make_tiny_experiment

from pysot.integrations.vot_trax import region_values, vot_init_rect
from toolkit.datasets import build_dataset
from toolkit.datasets.synthetic import generate
from toolkit.evaluation.region import vot_overlap
from toolkit.protocols import run_vot

trax = pytest.importorskip("trax")

from trax.client import Client  # noqa: E402
from trax.image import FileImage  # noqa: E402
from trax.region import Polygon, Rectangle  # noqa: E402

# TraX sends numbers with 4 decimals, parsed as float32: error <= 5e-5 (text) + 3.1e-5 (float32 at
# |v| < 512, half an ulp) < 1e-4.
TRAX_ATOL = 1e-4


def test_vot_init_rect_matches_pysot_vot_loop():
    # A rect becomes its inclusive-corner polygon, whose area-preserving box is the rect itself.
    assert vot_init_rect(np.array([10.0, 20.0, 30.0, 40.0])) == pytest.approx([10.0, 20.0, 30.0, 40.0])
    # Axis-aligned square polygon (0,0)-(10,10): centre 5, A1 = A2 = 100 -> s = 1, w = h = 10 + 1,
    # box = [5 - 10/2, 5 - 10/2, 11, 11].
    assert vot_init_rect(np.array([0, 0, 0, 10, 10, 10, 10, 0.0])) == pytest.approx([0.0, 0.0, 11.0, 11.0])


def _client(config, snapshot, log):
    env = dict(os.environ, TASIAM_CONFIG=str(config), TASIAM_SNAPSHOT=str(snapshot), OMP_NUM_THREADS="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "pysot.integrations.vot_trax", "--device", "cpu"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    return process, Client(
        stream=(process.stdin.fileno(), process.stdout.fileno()), timeout=60, log=log.append
    )


def _replay(client, seq, reference, make_region):
    """Send ``seq`` over TraX on ``reference``'s reset schedule; returns the number of frames tracked."""
    tracked = 0
    for idx, row in enumerate(reference.boxes):
        image = {"color": FileImage.create(seq.img_names[idx])}
        if row == 1:
            objects, _ = client.initialize(image, [(make_region(seq.gt_traj[idx]), {})], {})
        elif row == 0:
            continue
        else:
            objects, _ = client.frame(image, {}, [])
            tracked += 1
            region, props = objects[0]
            box = np.array(region.bounds())
            assert 0.0 <= float(props["confidence"]) <= 1.0
            if row == 2:
                # The reference failed here: the returned box has no overlap with the ground truth.
                bounds = (seq.width, seq.height)
                assert vot_overlap(list(box), seq.gt_traj[idx], bounds) <= 0.0, (seq.name, idx)
            else:
                np.testing.assert_allclose(
                    box, row, rtol=0, atol=TRAX_ATOL, err_msg=f"{seq.name} frame {idx}"
                )
    return tracked


def _polygon(values):
    return Polygon.create([(float(x), float(y)) for x, y in np.reshape(values, (4, 2))])


def _rectangle(values):
    return Rectangle.create(*[float(v) for v in values])


def test_trax_server_reproduces_run_vot(tmp_path):
    torch.set_num_threads(1)
    config, snapshot = make_tiny_experiment(tmp_path / "exp")
    generate("SYNTH-VOT", tmp_path / "data", num_videos=1, max_frames=24)
    generate("SYNTH", tmp_path / "data", num_videos=1, max_frames=12)
    polygons = build_dataset("SYNTH-VOT", tmp_path / "data" / "SYNTH-VOT")[0]
    rects = build_dataset("SYNTH", tmp_path / "data" / "SYNTH")[0]

    from pysot.integrations.loading import load_tracker

    _, tracker = load_tracker(config, snapshot, "cpu")
    ref_polygons = run_vot(tracker, polygons)
    ref_rects = run_vot(tracker, rects)
    # The random tiny model drifts off the target: the polygon run fails and is re-initialised at
    # least once, so re-initialisation over TraX is exercised.
    assert ref_polygons.failures >= 1
    assert sum(1 for row in ref_polygons.boxes if row == 1) >= 2

    log: list[str] = []
    process, client = _client(config, snapshot, log)
    try:
        assert client.region_formats == ["rectangle", "polygon"]
        tracked = _replay(client, polygons, ref_polygons, _polygon)
        # The same process, re-initialised with a rectangle region on another video.
        tracked += _replay(client, rects, ref_rects, _rectangle)
        client.quit()
        assert process.wait(timeout=30) == 0, "".join(log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    expected = sum(1 for ref in (ref_polygons, ref_rects) for row in ref.boxes if row not in (0, 1))
    assert tracked == expected


def test_region_values_round_to_trax_precision():
    # 1.23456 travels as "1.2346" and arrives as float32(1.2346); rounding recovers 1.2346 exactly,
    # as the dataset loader reads the annotation text.
    rect = Rectangle.create(1.2346, 2.5, 30.0, 40.25)
    assert region_values(rect).tolist() == [1.2346, 2.5, 30.0, 40.25]
    poly = Polygon.create([(0.1, 0.2), (10.3, 0.2), (10.3, 5.7), (0.1, 5.7)])
    assert region_values(poly).tolist() == [0.1, 0.2, 10.3, 0.2, 10.3, 5.7, 0.1, 5.7]
    # A polygon with other than 4 points becomes its min-max box.
    tri = Polygon.create([(1.0, 1.0), (5.0, 2.0), (3.0, 7.0)])
    assert region_values(tri).tolist() == [1.0, 1.0, 4.0, 6.0]


class _Frame:
    """What vot-toolkit's TraX runtime asks of a frame: the image file of a channel."""

    def __init__(self, path):
        self.path = path

    def filename(self, channel):
        return self.path if channel == "color" else None


def test_vot_toolkit_runs_the_trackers_ini_section(tmp_path):
    """vot-toolkit 0.7.4 loads the printed trackers.ini section and runs the reset protocol's calls."""
    vot_tracker = pytest.importorskip("vot.tracker")
    from vot.region import Polygon as VotPolygon

    from pysot.integrations.loading import load_tracker
    from pysot.integrations.vot_trax import trackers_ini

    torch.set_num_threads(1)
    config, snapshot = make_tiny_experiment(tmp_path / "exp")
    generate("SYNTH-VOT", tmp_path / "data", num_videos=1, max_frames=12)
    seq = build_dataset("SYNTH-VOT", tmp_path / "data" / "SYNTH-VOT")[0]
    _, tracker = load_tracker(config, snapshot, "cpu")
    reference = run_vot(tracker, seq)

    workspace = tmp_path / "workspace"
    workspace.mkdir()
    # One torch thread in the tracker process, as in this process: identical arithmetic.
    section = trackers_ini(config, snapshot, "cpu", name="TaSiamRPN") + "env_OMP_NUM_THREADS = 1\n"
    (workspace / "trackers.ini").write_text(section)
    registry = vot_tracker.Registry([str(workspace)])
    assert registry.identifiers() == ["TaSiamRPN"]
    runtime = registry["TaSiamRPN"].runtime(log=False)
    compared = 0
    try:
        for idx, row in enumerate(reference.boxes):
            frame = _Frame(seq.img_names[idx])
            if row == 1:
                points = [(float(x), float(y)) for x, y in np.reshape(seq.gt_traj[idx], (4, 2))]
                runtime.initialize(frame, VotPolygon(points))
            elif row not in (0, 2):
                (status,), _ = runtime.update(frame)
                region = status.region
                box = [region.x, region.y, region.width, region.height]
                np.testing.assert_allclose(box, row, rtol=0, atol=TRAX_ATOL, err_msg=f"frame {idx}")
                assert 0.0 <= float(status.properties["confidence"]) <= 1.0
                compared += 1
            elif row == 2:
                runtime.update(frame)
    finally:
        runtime.stop()
    assert compared == sum(1 for row in reference.boxes if row not in (0, 1, 2))
    assert compared > 0
