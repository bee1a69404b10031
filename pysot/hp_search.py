"""Hyper-parameter search (tracking and TA settings) with Optuna: search space, objective, study.

Each trial merges its values into the experiment's config, runs the tracker over the dataset with
the toolkit's protocol (OPE for OTB-style datasets, the reset-based VOT protocol for VOT-style
ones), scores the results with the toolkit's metrics (success AUC or EAO, as tools/eval.py does)
and reports the score to Optuna (TPE sampler, maximised). ``optuna`` is imported only by the
functions that need it (the ``hpsearch`` extra). ``tools/hp_search.py`` is the command line.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from toolkit.fileio import atomic_write_text

logger = logging.getLogger(__name__)

#: Default search ranges (low, high) of the continuous tracking parameters; PySOT's tuning ranges.
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "TRACK.PENALTY_K": (0.0, 0.6),
    "TRACK.WINDOW_INFLUENCE": (0.1, 0.7),
    "TRACK.LR": (0.1, 0.8),
}
#: Range of each layer's kept-channel fraction (TA.CHANNELS) when TA is searched.
TA_CHANNEL_RANGE = (0.1, 1.0)
#: TA importance methods tried by default ('sgd', the paper's fit, is much slower on CPU).
DEFAULT_TA_METHODS = ("dual", "gradient")
#: Searched values are multiples of this step (readable configs, no float noise).
STEP = 0.001
TRACKER_NAME = "hp_search"


@dataclass
class SearchSpace:
    """What a trial may change.

    ranges: ``KEY -> (low, high)`` for continuous keys (multiples of :data:`STEP`);
    search_ta: also choose ``TA.ENABLE`` and, if enabled, ``TA.METHOD`` among ``ta_methods`` and one
    ``TA.CHANNELS`` fraction per backbone layer (``num_layers`` of them) in :data:`TA_CHANNEL_RANGE`.
    """

    ranges: dict[str, tuple[float, float]]
    search_ta: bool = False
    ta_methods: tuple[str, ...] = DEFAULT_TA_METHODS
    num_layers: int = 3

    def suggest(self, trial) -> dict[str, Any]:
        """The trial's values as ``{config key: value}`` (``TA.CHANNELS`` as a list)."""
        values: dict[str, Any] = {}
        for key, (low, high) in self.ranges.items():
            values[key] = round(trial.suggest_float(key, low, high, step=STEP), 6)
        if self.search_ta:
            values["TA.ENABLE"] = trial.suggest_categorical("TA.ENABLE", [False, True])
            if values["TA.ENABLE"]:
                values["TA.METHOD"] = trial.suggest_categorical("TA.METHOD", list(self.ta_methods))
                values["TA.CHANNELS"] = [
                    round(trial.suggest_float(f"TA.CHANNELS.{i}", *TA_CHANNEL_RANGE, step=STEP), 6)
                    for i in range(self.num_layers)
                ]
        return values


def to_overrides(values: Mapping[str, Any]) -> list:
    """``{key: value}`` -> yacs ``merge_from_list`` pairs ``[key, value, ...]`` (values kept typed)."""
    pairs: list = []
    for key, value in values.items():
        pairs.extend([key, value])
    return pairs


def merge_into_yaml(text: str, values: Mapping[str, Any]) -> str:
    """The experiment yaml ``text`` with dotted ``values`` set (missing nodes created); other keys kept."""
    data = yaml.safe_load(text) or {}
    for key, value in values.items():
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = list(value) if isinstance(value, (list, tuple)) else value
    return yaml.safe_dump(data, sort_keys=False)


def score_results(dataset, results_dir: Path, eao_interval: tuple[int, int] | None) -> float:
    """Success AUC (OPE datasets) or EAO (VOT datasets) of the results of :data:`TRACKER_NAME`.

    ``results_dir`` holds ``<DATASET>/<tracker>/...`` as written by ``toolkit.runner.run_dataset``.
    """
    from toolkit.evaluation import eao
    from toolkit.evaluation.report import evaluate_ope_tracker, evaluate_vot_tracker

    root = results_dir / dataset.name
    if dataset.protocol in ("ope", "got10k"):
        return float(evaluate_ope_tracker(dataset, root, TRACKER_NAME)["success_auc"])
    if dataset.protocol == "vot":
        interval = eao_interval if eao_interval is not None else eao.eao_interval(dataset.name)
        return float(evaluate_vot_tracker(dataset, root, TRACKER_NAME, interval)["eao"])
    raise ValueError(f"{dataset.name}: no search objective for protocol {dataset.protocol!r} (ope or vot)")


class Objective:
    """Optuna objective: one full tracking run + evaluation per trial.

    Every thread (``n_jobs`` > 1) tracks with its own copy of the model, since the tracker sets the
    model's TA channel masks at init.
    """

    def __init__(
        self,
        config: Path,
        overrides: Sequence[str],
        model: torch.nn.Module,
        dataset,
        space: SearchSpace,
        work_dir: Path,
        eao_interval: tuple[int, int] | None = None,
    ) -> None:
        self.config = config
        self.overrides = list(overrides)
        self.model = model
        self.dataset = dataset
        self.space = space
        self.work_dir = work_dir
        self.eao_interval = eao_interval
        self._models: dict[int, torch.nn.Module] = {}
        self._lock = threading.Lock()

    def _thread_model(self) -> torch.nn.Module:
        ident = threading.get_ident()
        with self._lock:
            if ident not in self._models:
                self._models[ident] = copy.deepcopy(self.model)
            return self._models[ident]

    def __call__(self, trial) -> float:
        from pysot.config import load_cfg
        from pysot.tracker.tracker_builder import build_tracker
        from toolkit.runner import run_dataset

        values = self.space.suggest(trial)
        trial.set_user_attr("values", values)
        cfg = load_cfg(self.config, self.overrides + to_overrides(values))
        tracker = build_tracker(cfg, self._thread_model())
        results_dir = Path(tempfile.mkdtemp(prefix=f"trial{trial.number}.", dir=self.work_dir))
        try:
            summary = run_dataset(self.dataset, lambda: tracker, results_dir, TRACKER_NAME, progress=False)
            if summary.failed:
                raise RuntimeError(f"trial {trial.number}: videos failed: {summary.failed}")
            score = score_results(self.dataset, results_dir, self.eao_interval)
        finally:
            shutil.rmtree(results_dir, ignore_errors=True)
        logger.info("trial %d: %s -> %.4f", trial.number, values, score)
        return score if np.isfinite(score) else 0.0


@dataclass
class SearchResult:
    """Outcome of a search: the best trial and where its config was written."""

    study_name: str
    storage: str
    metric: str
    best_value: float
    best_values: dict[str, Any]
    best_trial: int
    completed_trials: int
    config: str


def run_search(
    config: str | Path,
    dataset: str,
    snapshot: str | Path | None = None,
    dataset_root: str | Path | None = None,
    output_dir: str | Path = "hp_search",
    n_trials: int = 20,
    n_jobs: int = 1,
    storage: str | None = None,
    study_name: str | None = None,
    space: SearchSpace | None = None,
    overrides: Sequence[str] = (),
    device: str = "cpu",
    seed: int | None = None,
    eao_interval: tuple[int, int] | None = None,
) -> SearchResult:
    """Run (or resume) a study and write the best configuration to ``<output_dir>/config.yaml``.

    Args:
        config, snapshot: the experiment; ``overrides`` are fixed ``KEY VALUE`` changes for all trials.
        dataset, dataset_root: the benchmark (``toolkit.datasets.build_dataset``; synthetic ones are
            generated on first use).
        output_dir: receives ``config.yaml`` (the experiment's yaml with the best values merged),
            ``best.json`` and, by default, the study database ``study.db``.
        n_trials: trials run by this call (other processes on the same study add theirs).
        n_jobs: trials run in parallel threads of this process.
        storage: Optuna storage URL (default ``sqlite:///<output_dir>/study.db``).
        study_name: default ``<experiment folder>-<dataset>``; an existing study is resumed.
        space: the search space (default: :data:`DEFAULT_RANGES`, no TA).
        device: torch device of the model.
        seed: TPE sampler seed (reproducible suggestions for one process with ``n_jobs=1``).
        eao_interval: ``(low, high)`` EAO sequence-length interval for VOT-style datasets that have
            none in ``toolkit.evaluation.eao`` (e.g. short synthetic videos).
    """
    import optuna

    from pysot.config import load_cfg
    from pysot.integrations.loading import load_model, resolve_snapshot

    config = Path(config).resolve()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    ds = open_dataset(dataset, dataset_root, eao_interval)
    base_cfg = load_cfg(config, overrides)
    model = load_model(base_cfg, resolve_snapshot(config, snapshot), device)
    if space is None:
        space = SearchSpace(dict(DEFAULT_RANGES))
    space.num_layers = len(model.feature_channels)

    storage = storage or f"sqlite:///{(output_dir / 'study.db').resolve()}"
    study_name = study_name or f"{config.parent.name}-{ds.name}"
    study = _create_or_load_study(optuna, study_name, storage, seed)
    metric = "success_auc" if ds.protocol in ("ope", "got10k") else "eao"
    study.set_user_attr("metric", metric)
    logger.info("study %s in %s: %d trials so far; objective %s on %s", study_name, storage,
                len(study.trials), metric, ds.name)  # fmt: skip
    work_dir = Path(tempfile.mkdtemp(prefix="hp_search.", dir=output_dir))
    try:
        objective = Objective(config, overrides, model, ds, space, work_dir, eao_interval)
        study.optimize(objective, n_trials=n_trials, n_jobs=n_jobs)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return write_best(study, storage, metric, config, base_cfg, overrides, ds.name, output_dir)


def open_dataset(name: str, root: str | Path | None, eao_interval: tuple[int, int] | None = None):
    """The benchmark ``name`` (generated on first use if synthetic), from ``root`` or its default
    folder; fails before any tracking when a VOT-style dataset has no known EAO interval."""
    from toolkit.datasets import DATASETS, build_dataset, default_dataset_root

    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    root = Path(root) if root else default_dataset_root(name, [Path.cwd()])
    ds = build_dataset(name, root, generate=DATASETS[name].synthetic)
    if ds.protocol == "vot" and eao_interval is None:
        from toolkit.evaluation import eao

        eao.eao_interval(ds.name)  # raises when no interval is known
    return ds


def write_best(
    study,
    storage: str,
    metric: str,
    config: Path,
    base_cfg,
    overrides: Sequence[str],
    dataset_name: str,
    output_dir: Path,
) -> SearchResult:
    """Write ``config.yaml`` (``config``'s yaml with the fixed overrides and the best trial's values
    merged in; checked to load) and ``best.json`` into ``output_dir``; return the summary."""
    import optuna

    from pysot.config import load_cfg

    best = study.best_trial
    best_values = best.user_attrs["values"]
    fixed = dict(zip(overrides[0::2], overrides[1::2]))
    header = (
        f"# {config} with the best values of tools/hp_search.py study {study.study_name!r}\n"
        f"# (trial {best.number}: {metric} {best.value:.4f} on {dataset_name}); original comments dropped\n"
    )
    text = header + merge_into_yaml(config.read_text(), {**_typed(base_cfg, fixed), **best_values})
    out_config = output_dir / "config.yaml"
    atomic_write_text(out_config, text)
    load_cfg(out_config)  # the written file must load as an experiment config
    completed = sum(1 for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    result = SearchResult(
        study_name=study.study_name,
        storage=storage,
        metric=metric,
        best_value=float(best.value),
        best_values=best_values,
        best_trial=best.number,
        completed_trials=completed,
        config=str(out_config),
    )
    atomic_write_text(output_dir / "best.json", json.dumps(asdict(result), indent=2) + "\n")
    return result


def _create_or_load_study(optuna, study_name: str, storage: str, seed: int | None, attempts: int = 5):
    """``optuna.create_study(load_if_exists=True)``, retried: processes started together on a new
    sqlite file race to create its schema, and the losers fail once with an integrity error."""

    def create():
        return optuna.create_study(
            study_name=study_name,
            storage=storage,
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed),
            load_if_exists=True,
        )

    for attempt in range(attempts - 1):
        try:
            return create()
        except Exception as err:  # sqlalchemy/optuna storage errors while another process sets up
            logger.warning("opening study %s in %s failed (%s); retrying", study_name, storage, err)
            time.sleep(1.0 + attempt)
    return create()


def _typed(cfg, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Fixed command-line overrides with the types they have in the merged config."""
    out = {}
    for key in overrides:
        node = cfg
        for part in key.split("."):
            node = node[part]
        out[key] = list(node) if isinstance(node, (list, tuple)) else node
    return out
