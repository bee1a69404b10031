"""The TraX entry point, driven through vot-trax's own client as the VOT toolkit drives it.

A reset-based run is replayed over TraX: the reference is ``toolkit.protocols.run_vot`` with the same
tracker in-process; the client (re)initialises wherever the reference wrote ``1`` and sends every
frame the reference tracked, so each returned rectangle must equal the reference's region.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from pysot.integrations.vot_trax import region_values, vot_init_rect
from toolkit.datasets import build_dataset
from toolkit.datasets.synthetic import generate
from toolkit.evaluation import report
from toolkit.evaluation.region import vot_overlap
from toolkit.protocols import run_vot, write_result
from toolkit.rules import VOTRules

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


def test_trax_server_reproduces_run_vot(tmp_path, tiny_experiment):
    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
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


STACK = """title: reset-based test stack
dataset: local
experiments:
  baseline:
    type: supervised
    repetitions: 1
    skip_initialize: 5
    analyses:
      - type: supervised_average_ar
        sensitivity: 30
      - type: supervised_eao_score
        low: 1
        high: 24
"""


def _vot_workspace(root, seq, trackers_ini_text):
    """A vot-toolkit workspace with a local one-sequence dataset in VOT's layout and a custom stack."""
    folder = root / "sequences" / seq.name
    (folder / "color").mkdir(parents=True)
    for idx, image in enumerate(seq.img_names):
        shutil.copy(image, folder / "color" / f"{idx + 1:08d}.jpg")
    rows = (",".join(f"{v:.2f}" for v in row) for row in seq.gt_traj)
    (folder / "groundtruth.txt").write_text("\n".join(rows) + "\n")
    (folder / "sequence").write_text(
        f"channels.color=color/%08d.jpg\nfps=30\nformat=default\nname={seq.name}\n"
    )
    (root / "sequences" / "list.txt").write_text(seq.name + "\n")
    (root / "stack.yaml").write_text(STACK)
    (root / "config.yaml").write_text(f"stack: {root / 'stack.yaml'}\nregistry:\n- ./trackers.ini\n")
    (root / "trackers.ini").write_text(trackers_ini_text)
    return root


def test_vot_toolkit_evaluate_reproduces_run_vot(tmp_path, tiny_experiment):
    """`vot evaluate` (vot-toolkit 0.7.4, reset-based experiment) with the printed trackers.ini section
    gives run_vot's trajectory under the official failure rule (VOTRules convention 'vot', what
    tools/test.py --convention vot runs): the same failures and re-initialisations, the same boxes;
    and `vot analysis` on the toolkit's files gives tools/eval.py --convention vot's A, R and EAO on
    ours, to TraX's 4-decimal transport."""
    pytest.importorskip("vot.tracker")
    from vot.region import Special
    from vot.region.io import read_trajectory

    from pysot.integrations.loading import load_tracker
    from pysot.integrations.vot_trax import trackers_ini

    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
    generate("SYNTH-VOT", tmp_path / "data", num_videos=1, max_frames=24)
    seq = build_dataset("SYNTH-VOT", tmp_path / "data" / "SYNTH-VOT")[0]
    _, tracker = load_tracker(config, snapshot, "cpu")
    reference = run_vot(tracker, seq, rules=VOTRules(name="SYNTH-VOT", convention="vot"))

    # One torch thread in the tracker process, as in this process: identical arithmetic.
    section = trackers_ini(config, snapshot, "cpu", name="TaSiamRPN") + "env_OMP_NUM_THREADS = 1\n"
    workspace = _vot_workspace(tmp_path / "workspace", seq, section)
    command = [sys.executable, "-m", "vot", "evaluate", "--workspace", str(workspace), "TaSiamRPN"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    result = workspace / "results" / "TaSiamRPN" / "baseline" / seq.name / f"{seq.name}_001.bin"
    assert run.returncode == 0 and result.is_file(), run.stdout + run.stderr

    trajectory = read_trajectory(str(result))
    assert len(trajectory) == len(reference.boxes)
    assert reference.failures >= 1  # the reset logic is exercised
    for idx, (region, row) in enumerate(zip(trajectory, reference.boxes)):
        if isinstance(region, Special):
            assert region.code == row, f"frame {idx}: toolkit code {region.code}, run_vot {row}"
        else:
            box = [region.x, region.y, region.width, region.height]
            np.testing.assert_allclose(box, row, rtol=0, atol=TRAX_ATOL, err_msg=f"frame {idx}")

    # the toolkit's analysis of its files vs our official-convention scoring of ours
    command = [sys.executable, "-m", "vot", "analysis", "--workspace", str(workspace), "--format", "json"]
    run = subprocess.run(
        [*command, "--name", "check", "TaSiamRPN"], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr
    analysis = json.loads((workspace / "analysis" / "check.json").read_text())["results"]["baseline"][
        "results"
    ]
    (accuracy, robustness, _, _), (eao,) = analysis[0][0], analysis[1][0]
    write_result(reference, tmp_path / "results" / "SYNTH-VOT", "TaSiamRPN")
    ours = report.evaluate(
        build_dataset("SYNTH-VOT", tmp_path / "data" / "SYNTH-VOT"),
        tmp_path / "results" / "SYNTH-VOT",
        ["TaSiamRPN"],
        convention="vot",
        eao_interval=(1, 24),
    )["trackers"]["TaSiamRPN"]
    assert ours["accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert ours["robustness"] == pytest.approx(robustness, abs=1e-4)
    assert ours["eao"] == pytest.approx(eao, abs=1e-4)


class _FakeImage:
    def __init__(self, path):
        self._path = path

    def path(self):
        return self._path


class _FakeServer:
    """Replays TraX requests; records the replies."""

    def __init__(self, requests):
        self.requests = list(requests)
        self.replies = []

    def wait(self):
        return self.requests.pop(0)

    def status(self, objects):
        self.replies.append(objects)


class _ScriptedTracker:
    def __init__(self, outputs):
        self.outputs = list(outputs)
        self.inits = []

    def init(self, img, bbox):
        self.inits.append((img.shape, list(bbox)))

    def track(self, img):
        return self.outputs.pop(0)


def test_serve_reinitialises_and_replies_boxes_or_polygons(tmp_path):
    import cv2
    from trax import TraxStatus
    from trax.server import Request

    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.zeros((6, 8, 3), dtype=np.uint8))
    frame = {"color": _FakeImage("file://" + str(image))}
    server = _FakeServer(
        [
            Request(TraxStatus.INITIALIZE, frame, [(_rectangle([1, 2, 3, 4]), {})], {}),
            Request(TraxStatus.FRAME, frame, None, {}),
            Request(TraxStatus.INITIALIZE, frame, [(_polygon([0, 0, 0, 10, 10, 10, 10, 0]), {})], {}),
            Request(TraxStatus.FRAME, frame, None, {}),
            Request(TraxStatus.QUIT, None, None, {}),
        ]
    )
    tracker = _ScriptedTracker(
        [
            {"bbox": [1.5, 2.5, 3.0, 4.0], "best_score": 0.75},
            # A SiamMask tracker's rotated box is reported as a polygon, as run_vot records it.
            {"bbox": [0, 0, 1, 1], "polygon": [1, 1, 5, 1, 5, 4, 1, 4], "best_score": 0.5},
        ]
    )
    from pysot.integrations.vot_trax import serve

    assert serve(server, tracker) == 2
    # Init boxes: the rect itself; the square polygon's PySOT box (see test above).
    assert tracker.inits == [((6, 8, 3), [1.0, 2.0, 3.0, 4.0]), ((6, 8, 3), [0.0, 0.0, 11.0, 11.0])]
    (init1,), (track1,), (init2,), (track2,) = server.replies
    assert init1[0].bounds() == (1.0, 2.0, 3.0, 4.0) and init1[1] == {"confidence": 1.0}
    assert track1[0].bounds() == (1.5, 2.5, 3.0, 4.0) and track1[1] == {"confidence": 0.75}
    assert init2[0].bounds() == (0.0, 0.0, 11.0, 11.0)
    assert list(track2[0]) == [(1.0, 1.0), (5.0, 1.0), (5.0, 4.0), (1.0, 4.0)]
    assert track2[1] == {"confidence": 0.5}
