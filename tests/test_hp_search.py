"""pysot.hp_search and tools/hp_search.py: a tiny resumable study; the written config reproduces
the best trial's score."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import torch
import yaml

from pysot import hp_search
from pysot.config import load_cfg
from toolkit.datasets import build_dataset
from toolkit.datasets.synthetic import generate
from tools import hp_search as hp_search_tool

optuna = pytest.importorskip("optuna")


def _score(config, snapshot, dataset, eao_interval=None):
    """Score one config the way a user would check it: toolkit runner + toolkit metrics."""
    from pysot.integrations.loading import load_tracker
    from toolkit.runner import run_dataset

    _, tracker = load_tracker(config, snapshot, "cpu")
    with tempfile.TemporaryDirectory() as results:
        summary = run_dataset(dataset, lambda: tracker, results, hp_search.TRACKER_NAME, progress=False)
        assert not summary.failed
        return hp_search.score_results(dataset, Path(results), eao_interval)


def test_merge_into_yaml_keeps_other_keys():
    text = "META_ARC: x\nTRACK:\n  LR: 0.4\n  TYPE: SiamRPNTracker\n"
    merged = yaml.safe_load(hp_search.merge_into_yaml(text, {"TRACK.LR": 0.25, "TA.CHANNELS": (0.5, 1.0)}))
    assert merged == {
        "META_ARC": "x",
        "TRACK": {"LR": 0.25, "TYPE": "SiamRPNTracker"},
        "TA": {"CHANNELS": [0.5, 1.0]},
    }


def test_search_space_with_ta():
    space = hp_search.SearchSpace(
        {"TRACK.LR": (0.1, 0.8)}, search_ta=True, ta_methods=("dual",), num_layers=3
    )
    fixed = {"TRACK.LR": 0.3, "TA.ENABLE": True, "TA.METHOD": "dual"}
    fixed.update({f"TA.CHANNELS.{i}": v for i, v in enumerate((0.2, 0.5, 1.0))})
    values = space.suggest(optuna.trial.FixedTrial(fixed))
    assert values == {"TRACK.LR": 0.3, "TA.ENABLE": True, "TA.METHOD": "dual", "TA.CHANNELS": [0.2, 0.5, 1.0]}
    # TA off: no method or channels are drawn.
    assert space.suggest(optuna.trial.FixedTrial({"TRACK.LR": 0.3, "TA.ENABLE": False})) == {
        "TRACK.LR": 0.3,
        "TA.ENABLE": False,
    }


def test_ope_study_resumes_and_best_config_reproduces(tmp_path, capsys, tiny_experiment):
    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
    generate("SYNTH", tmp_path / "data", num_videos=2, max_frames=10)
    out = tmp_path / "search"
    argv = ["--config", str(config), "--snapshot", str(snapshot), "--dataset", "SYNTH"]
    argv += ["--dataset-root", str(tmp_path / "data" / "SYNTH"), "--output-dir", str(out), "--seed", "1"]
    # Two trials in parallel threads (each with its own model copy) ...
    assert hp_search_tool.main(argv + ["--n-trials", "2", "--n-jobs", "2"]) == 0
    assert "best success_auc" in capsys.readouterr().out

    # Resume the same study (same default sqlite storage) with one more trial.
    assert hp_search_tool.main(argv + ["--n-trials", "1"]) == 0
    best = json.loads((out / "best.json").read_text())
    assert best["completed_trials"] == 3
    assert best["metric"] == "success_auc"
    assert best["storage"] == f"sqlite:///{(out / 'study.db').resolve()}"
    study = optuna.load_study(study_name=best["study_name"], storage=best["storage"])
    assert len(study.trials) == 3
    assert best["best_value"] == max(t.value for t in study.trials)

    # The written config: the experiment's yaml with the best values merged in, loadable ...
    written = load_cfg(out / "config.yaml")
    for key, value in best["best_values"].items():
        section, leaf = key.split(".")
        assert written[section][leaf] == value
    assert written.RPN.KWARGS.in_channels == [32, 32, 32]  # untouched experiment keys survive
    # ... and scoring it again gives the best trial's score exactly (deterministic CPU tracking).
    dataset = build_dataset("SYNTH", tmp_path / "data" / "SYNTH")
    assert _score(out / "config.yaml", snapshot, dataset) == best["best_value"]


def test_vot_objective_with_ta_is_the_eao_of_its_config(tmp_path, tiny_experiment):
    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
    generate("SYNTH-VOT", tmp_path / "data", num_videos=1, max_frames=16)
    dataset = build_dataset("SYNTH-VOT", tmp_path / "data" / "SYNTH-VOT")
    from pysot.integrations.loading import load_model

    model = load_model(load_cfg(config), snapshot, "cpu")
    space = hp_search.SearchSpace(dict(hp_search.DEFAULT_RANGES), search_ta=True, ta_methods=("dual",))
    objective = hp_search.Objective(config, [], model, dataset, space, tmp_path, eao_interval=(1, 16))
    fixed = {"TRACK.PENALTY_K": 0.1, "TRACK.WINDOW_INFLUENCE": 0.3, "TRACK.LR": 0.5, "TA.ENABLE": True}
    fixed.update({"TA.METHOD": "dual", "TA.CHANNELS.0": 0.5, "TA.CHANNELS.1": 1.0, "TA.CHANNELS.2": 0.25})
    value = objective(optuna.trial.FixedTrial(fixed))

    values = {"TRACK.PENALTY_K": 0.1, "TRACK.WINDOW_INFLUENCE": 0.3, "TRACK.LR": 0.5, "TA.ENABLE": True}
    values.update({"TA.METHOD": "dual", "TA.CHANNELS": [0.5, 1.0, 0.25]})
    tuned = tmp_path / "tuned.yaml"
    tuned.write_text(hp_search.merge_into_yaml(config.read_text(), values))
    assert 0.0 < value <= 1.0
    assert _score(tuned, snapshot, dataset, (1, 16)) == value
