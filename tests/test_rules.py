"""toolkit.rules: one record per VOT edition, read by the run loop and both scoring conventions."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from toolkit import results, rules
from toolkit.datasets import Dataset, Sequence, build_dataset
from toolkit.evaluation import report
from toolkit.evaluation.eao import eao_score
from toolkit.runner import run_video

GOLDEN = Path(__file__).resolve().parent / "data" / "eval_golden"


def test_registry_holds_the_published_intervals():
    # PySOT's toolkit (pysot/toolkit/evaluation/eao_benchmark.py) and the official stacks
    assert rules.RULES["VOT2016"].eao_interval == (108, 371)
    assert rules.RULES["VOT2018"].eao_interval == (100, 356)
    assert rules.RULES["VOT2019"].eao_interval == (46, 291)
    for name, edition in rules.RULES.items():
        assert edition.name == name
        assert (edition.skip, edition.burnin, edition.failure_overlap) == (5, 10, 0.0)
        assert (edition.code_init, edition.code_failure, edition.code_skip) == (1, 2, 0)
        assert edition.convention == "pysot"
    # the result files use the same codes
    assert (results.CODE_INIT, results.CODE_FAILURE, results.CODE_SKIP) == (1, 2, 0)


def test_interval_per_convention():
    # VOT2015 has an official stack but no PySOT interval; SYNTH-VOT only PySOT's (official falls back)
    assert rules.eao_interval("VOT2015", "vot") == (108, 371)
    with pytest.raises(KeyError, match="no EAO interval for dataset 'VOT2015'; known: VOT2016, "):
        rules.eao_interval("VOT2015", "pysot")
    assert rules.eao_interval("SYNTH-VOT", "vot") == (100, 356)
    assert rules.official_eao_intervals()["VOT2019"] == (46, 291)
    assert "SYNTH-VOT" not in rules.official_eao_intervals()
    with pytest.raises(KeyError, match="no EAO interval for dataset 'OTB100'"):
        rules.eao_interval("OTB100")
    with pytest.raises(ValueError, match="unknown scoring convention 'official'"):
        rules.eao_interval("VOT2018", "official")
    # a dataset without an entry runs under the default rules
    assert rules.rules_for("MyVOT") == dataclasses.replace(rules.VOT_RULES, name="MyVOT")


def test_record_is_frozen_and_checked():
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.VOT_RULES.skip = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown convention 'vot2'"):
        rules.VOTRules(convention="vot2")
    with pytest.raises(ValueError, match="skip must be >= 1"):
        rules.VOTRules(skip=0)


def _renamed(name: str) -> Dataset:
    ds = build_dataset("VOT2018", GOLDEN / "testing_dataset" / "VOT2018")
    return Dataset(name, ds.root, list(ds), protocol="vot")


def test_a_new_edition_is_one_entry_for_the_metrics(monkeypatch, tmp_path):
    # VOT2099: PySOT's golden VOT2018 results scored under an edition with another interval
    edition = dataclasses.replace(rules.RULES["VOT2018"], name="VOT2099", eao_interval=(1, 450))
    monkeypatch.setitem(rules.RULES, "VOT2099", edition)
    expected = json.loads((GOLDEN / "expected.json").read_text())["VOT2018"]["trkA"]
    res = report.evaluate(_renamed("VOT2099"), GOLDEN / "results" / "VOT2018", ["trkA"])["trackers"]["trkA"]
    assert res["eao_interval_low_high"] == [1, 450]
    # the same expected-overlap curve as PySOT's, averaged over lengths 1..450
    curve = np.array(expected["expected_overlap_curve"], np.float32)
    assert res["eao"] == pytest.approx(eao_score(curve, 1, 450), abs=1e-9)
    assert res["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-9)
    # without the entry the dataset has no interval
    monkeypatch.delitem(rules.RULES, "VOT2099")
    with pytest.raises(KeyError, match="no EAO interval for dataset 'VOT2099'"):
        report.evaluate(_renamed("VOT2099"), GOLDEN / "results" / "VOT2018", ["trkA"])


class _FailsOnFrame1:
    """Tracks a box far outside the image on frame 1 (a failure), a good box elsewhere."""

    def init(self, img, bbox):
        pass

    def track(self, img):
        frame = int(img[0, 0, 0])
        return {"bbox": [100.0, 100.0, 5.0, 5.0] if frame == 1 else [2.0, 1.0, 10.0, 8.0], "best_score": 1.0}


def test_a_new_edition_is_one_entry_for_the_run_loop(monkeypatch, tmp_path):
    names = []
    for i in range(6):
        path = tmp_path / "img" / f"{i:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), np.full((24, 32, 3), i, np.uint8))
        names.append(str(path))
    seq = Sequence("v", names, np.tile([2.0, 1.0, 2.0, 9.0, 12.0, 9.0, 12.0, 1.0], (6, 1)))
    root = tmp_path / "results"

    def codes(dataset_name: str) -> list[str]:
        ds = Dataset(dataset_name, tmp_path, [seq], protocol="vot")
        assert run_video(_FailsOnFrame1(), ds, "v", root / dataset_name, "trk").error is None
        lines = results.result_path(root / dataset_name, "trk", "v", "vot").read_text().splitlines()
        return [line if len(line) == 1 else "box" for line in lines]

    # default rules (skip 5): failure on frame 1, frames 2-5 skipped
    assert codes("VOT2018") == ["1", "2", "0", "0", "0", "0"]
    # an edition that re-initialises 2 frames after a failure: one entry
    monkeypatch.setitem(rules.RULES, "VOT2099", dataclasses.replace(rules.VOT_RULES, name="VOT2099", skip=2))
    assert codes("VOT2099") == ["1", "2", "0", "1", "box", "box"]
