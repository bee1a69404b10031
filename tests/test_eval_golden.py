"""The evaluation contract: tools/eval.py on PySOT's golden result folders.

tests/data/eval_golden/ is a copy of the reference set: result files of two trackers on small
OTB100 / LaSOT / VOT2018 / VOT2018-LT benchmarks, with the tables PySOT's own evaluation printed
(expected_stdout/, the _video_level files with its ANSI colours) and the values it computed
(expected.json, overlaps from its compiled VOT region code). Our stdout must match byte for byte
and every value to 1e-6.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data" / "eval_golden"
DATASETS = ("OTB100", "LaSOT", "VOT2018", "VOT2018-LT")
EXPECTED = json.loads((DATA / "expected.json").read_text())


@pytest.fixture(scope="module")
def eval_tool():
    from tools import eval as module

    return module


def _argv(dataset: str, results: Path = DATA / "results", *extra: str) -> list[str]:
    root = DATA / "testing_dataset" / dataset
    return ["--tracker_path", str(results), "--dataset", dataset, "--dataset-root", str(root), *extra]


def _assert_close(ours, expected, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(ours, dict), where
        for key, value in expected.items():
            assert key in ours, f"{where}/{key} missing"
            _assert_close(ours[key], value, f"{where}/{key}")
    elif isinstance(expected, list):
        assert isinstance(ours, list) and len(ours) == len(expected), f"{where}: length"
        for i, (a, b) in enumerate(zip(ours, expected)):
            _assert_close(a, b, f"{where}[{i}]")
    elif expected is None or (isinstance(expected, float) and math.isnan(expected)):
        assert ours is None, f"{where}: {ours} vs NaN"
    else:
        assert ours is not None and abs(ours - expected) <= 1e-6, f"{where}: {ours} vs {expected}"


@pytest.mark.parametrize("dataset", DATASETS)
def test_tables_and_json_match_pysot(eval_tool, dataset, tmp_path, capsys):
    json_path = tmp_path / "report.json"
    assert eval_tool.main(_argv(dataset, DATA / "results", "--json", str(json_path))) == 0
    expected = (DATA / "expected_stdout" / f"{dataset}.txt").read_text()
    assert capsys.readouterr().out == expected

    report = json.loads(json_path.read_text())
    assert report["version"] == 1 and report["dataset"] == dataset and report["protocol"] == "pysot"
    assert sorted(report["trackers"]) == sorted(EXPECTED[dataset])
    for tracker, values in EXPECTED[dataset].items():
        _assert_close(report["trackers"][tracker], values, f"{dataset}/{tracker}")
        if dataset == "VOT2018":
            # bit-level: the rasterised overlaps (C floats) and the float32 curve are the same numbers
            ours = report["trackers"][tracker]
            assert ours["per_video_frame_overlaps_burnin10"] == values["per_video_frame_overlaps_burnin10"]
            assert ours["expected_overlap_curve"] == values["expected_overlap_curve"]
    # deterministic output: a second run writes the same bytes
    again = tmp_path / "again.json"
    assert eval_tool.main(_argv(dataset, DATA / "results", "--json", str(again))) == 0
    assert again.read_bytes() == json_path.read_bytes()


@pytest.mark.parametrize("dataset", DATASETS)
def test_video_level_tables_match_pysot(eval_tool, dataset, capsys):
    # hyphenated flag spelling, as accepted besides PySOT's underscores
    assert eval_tool.main(_argv(dataset, DATA / "results", "--show-video-level")) == 0
    expected = (DATA / "expected_stdout" / f"{dataset}_video_level.txt").read_text()
    assert capsys.readouterr().out == expected


def test_parallel_workers_give_the_same_tables(eval_tool, capsys):
    assert eval_tool.main(_argv("VOT2018", DATA / "results", "-s", "--num", "2")) == 0
    assert capsys.readouterr().out == (DATA / "expected_stdout" / "VOT2018_video_level.txt").read_text()


def test_tracker_prefix_selects_trackers(eval_tool, capsys):
    assert eval_tool.main(_argv("OTB100", DATA / "results", "--tracker_prefix", "trkB")) == 0
    out = capsys.readouterr().out.splitlines()
    # PySOT's table with only trkB: the same row as in the two-tracker table
    assert out[3] == "|    trkB    |  0.462  |     0.000      |   0.646   |"
    assert len(out) == 5


def _copy_results(tmp_path: Path, dataset: str) -> Path:
    results = tmp_path / "results"
    shutil.copytree(DATA / "results" / dataset, results / dataset)
    return results


def test_missing_video_is_an_error_naming_tracker_and_video(eval_tool, tmp_path, caplog, capsys):
    results = _copy_results(tmp_path, "OTB100")
    (results / "OTB100" / "trkB" / "Beta.txt").unlink()
    with caplog.at_level(logging.ERROR):
        assert eval_tool.main(_argv("OTB100", results)) == 1
    assert "tracker 'trkB' has no results for 1 of 3 videos: Beta" in caplog.text
    table = capsys.readouterr().out  # the complete tracker is scored, the incomplete one is not
    assert "trkA" in table and "trkB" not in table


def test_missing_vot_video_is_an_error_naming_tracker_and_video(eval_tool, tmp_path, caplog, capsys):
    results = _copy_results(tmp_path, "VOT2018")
    videos = sorted(p.name for p in (results / "VOT2018" / "trkB" / "baseline").iterdir())
    run = next((results / "VOT2018" / "trkB" / "baseline" / videos[-1]).glob("*_001.txt"))
    run.rename(run.with_name("notes.txt"))  # the folder stays, with no <video>_NNN.txt run in it
    with caplog.at_level(logging.ERROR):
        assert eval_tool.main(_argv("VOT2018", results)) == 1
    assert f"tracker 'trkB' has no results for 1 of {len(videos)} videos: {videos[-1]}" in caplog.text
    table = capsys.readouterr().out
    assert "trkA" in table and "trkB" not in table


def test_missing_vot_run_is_an_error(eval_tool, tmp_path, caplog):
    results = _copy_results(tmp_path, "VOT2018")
    shutil.rmtree(results / "VOT2018" / "trkA" / "baseline" / "vidC")
    with caplog.at_level(logging.ERROR):
        assert eval_tool.main(_argv("VOT2018", results)) == 1
    assert "tracker 'trkA' has no results for 1 of 3 videos: vidC" in caplog.text


def test_truncated_result_names_the_file(eval_tool, tmp_path, caplog):
    results = _copy_results(tmp_path, "LaSOT")
    path = results / "LaSOT" / "trkA" / "dog-3.txt"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    with caplog.at_level(logging.ERROR):
        assert eval_tool.main(_argv("LaSOT", results)) == 1
    # dog-3 has 80 frames; PySOT would silently score the 79 lines
    assert f"{path}: 79 lines but the video has 80 frames" in caplog.text


def test_unparsable_line_names_file_and_line(eval_tool, tmp_path, caplog):
    results = _copy_results(tmp_path, "VOT2018-LT")
    path = results / "VOT2018-LT" / "trkB" / "longterm" / "lt2" / "lt2_001.txt"
    lines = path.read_text().splitlines(keepends=True)
    lines[6] = "126.5,68.1,oops,55.7\n"
    path.write_text("".join(lines))
    with caplog.at_level(logging.ERROR):
        assert eval_tool.main(_argv("VOT2018-LT", results)) == 1
    assert f"{path}: line 7: cannot parse '126.5,68.1,oops,55.7'" in caplog.text


def test_plot_dir_gets_pngs(eval_tool, tmp_path):
    plots = tmp_path / "plots"
    assert eval_tool.main(_argv("VOT2018-LT", DATA / "results", "--plot-dir", str(plots))) == 0
    written = sorted(p.name for p in plots.iterdir())
    assert written == ["VOT2018-LT_precision_recall.png"]
    assert (plots / written[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_official_vot_protocol_runs_on_the_same_files(eval_tool, tmp_path, capsys):
    # the official convention gives other numbers on the same result files (see docs/evaluation.md);
    # its own values are checked against vot-toolkit in tests/test_vot_official.py
    json_path = tmp_path / "vot.json"
    argv = _argv("VOT2018", DATA / "results", "--protocol", "vot", "--json", str(json_path))
    assert eval_tool.main(argv) == 0
    out = capsys.readouterr().out
    # the official R (failures per sequence, length-weighted) is not PySOT's Robustness: its symbol
    assert out.splitlines()[1] == "|Tracker Name| Accuracy |     R      | Lost Number |  EAO  |"
    report = json.loads(json_path.read_text())
    assert report["protocol"] == "vot"
    for tracker, expected in EXPECTED["VOT2018"].items():
        ours = report["trackers"][tracker]
        assert ours["lost_number"] == expected["lost_number"]  # failures are the same events
        # the official accuracy of these files, cross-checked against vot-toolkit 0.7.4 itself
        # (tests/test_vot_official.py: test_golden_official_numbers_and_difference_to_pysot)
        official = {"trkA": 0.7573542017158225, "trkB": 0.7106601304313775}[tracker]
        assert ours["accuracy"] == pytest.approx(official, abs=1e-9)


def test_convention_flag_is_the_protocol_flag(eval_tool, tmp_path, capsys):
    # --convention is the flag's name in this toolkit; PySOT-era --protocol stays an alias
    outs = []
    for flag in ("--convention", "--protocol"):
        json_path = tmp_path / f"{flag.strip('-')}.json"
        argv = _argv("VOT2018", DATA / "results", flag, "vot", "-s", "--json", str(json_path))
        assert eval_tool.main(argv) == 0
        outs.append((capsys.readouterr().out, json_path.read_bytes()))
    assert outs[0] == outs[1]
    assert json.loads(outs[0][1])["protocol"] == "vot"


def test_eao_interval_flag(eval_tool, tmp_path, capsys):
    from toolkit.evaluation.eao import eao_score

    json_path = tmp_path / "r.json"
    argv = _argv("VOT2018", DATA / "results", "--eao-interval", "1", "450", "--json", str(json_path))
    assert eval_tool.main(argv) == 0
    report = json.loads(json_path.read_text())
    for tracker, expected in EXPECTED["VOT2018"].items():
        ours = report["trackers"][tracker]
        assert ours["eao_interval_low_high"] == [1, 450]
        # the same curve, averaged over every length 1..450 instead of 100..356
        curve = np.array(expected["expected_overlap_curve"], np.float32)
        assert ours["eao"] == pytest.approx(eao_score(curve, 1, 450), abs=1e-9)
        assert abs(ours["eao"] - expected["eao"]) > 1e-4
    capsys.readouterr()


def test_vot_dataset_without_tags_scores_all_frames():
    from toolkit.datasets import Dataset, Sequence, build_dataset
    from toolkit.evaluation import report

    ds = build_dataset("VOT2018", DATA / "testing_dataset" / "VOT2018")
    plain = Dataset(
        "VOT2018",
        ds.root,
        [Sequence(v.name, v.img_names, v.gt_traj, size=(v.width, v.height)) for v in ds],
        protocol="vot",
    )
    res = report.evaluate(plain, DATA / "results" / "VOT2018", ["trkA"])["trackers"]["trkA"]
    # without per-frame tags every frame counts for 'all': the same EAO as with the tags
    assert res["eao"] == EXPECTED["VOT2018"]["trkA"]["eao"]
    assert res["eao_per_tag"] == {"all": res["eao"]}
