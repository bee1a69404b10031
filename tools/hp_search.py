"""Search tracking hyper-parameters (and TA settings) with Optuna; write the best as a ready config.yaml.

Each trial merges its values into the experiment's config, runs the tracker over the dataset with
the toolkit's protocol (OPE for OTB-style datasets, the reset-based VOT protocol for VOT-style
ones), scores the results with the toolkit's metrics (success AUC or EAO, as tools/eval.py does)
and reports the score to Optuna (TPE sampler, maximised). The study lives in a storage URL
(default: sqlite in --output-dir), so a search can be interrupted and resumed, and several
processes started with the same --storage and --study-name share one study.

Searched by default: TRACK.PENALTY_K, TRACK.WINDOW_INFLUENCE, TRACK.LR. With --search-ta also
TA.ENABLE and, when enabled, TA.METHOD and TA.CHANNELS (fractions of each layer's channels).

Examples:
  # 50 trials on the synthetic OPE benchmark, 2 trials at a time
  python tools/hp_search.py --config experiments/ta_siamrpn_tiny_synth/config.yaml --dataset SYNTH \\
      --n-trials 50 --n-jobs 2 --output-dir hp_search/tiny_synth
  # resume it later / add a second process on the same study
  python tools/hp_search.py ... --output-dir hp_search/tiny_synth --n-trials 50
  # VOT-style data: EAO objective; TA settings searched too
  python tools/hp_search.py ... --dataset VOT2018 --search-ta --n-trials 100
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pysot.hp_search import DEFAULT_RANGES, DEFAULT_TA_METHODS, SearchSpace, run_search
from pysot.utils.cli import add_experiment_args, set_threads, setup_logging, tool_parser

logger = logging.getLogger("tools.hp_search")


def _parse_range(values: Sequence[str]) -> tuple[str, tuple[float, float]]:
    key, low, high = values
    low_f, high_f = float(low), float(high)
    if not low_f < high_f:
        raise argparse.ArgumentTypeError(f"--range {key}: low must be < high, got {low} {high}")
    return key, (low_f, high_f)


def build_parser() -> argparse.ArgumentParser:
    parser = tool_parser(__doc__)
    add_experiment_args(parser, device="cpu", threads=1)
    parser.add_argument(
        "--dataset", required=True, help="benchmark name (e.g. SYNTH, SYNTH-VOT, OTB100, VOT2018)"
    )
    parser.add_argument("--dataset-root", "--dataset_root", default=None, help="dataset folder")
    parser.add_argument("--output-dir", default="hp_search", help="config.yaml, best.json, study.db go here")
    parser.add_argument("--n-trials", type=int, default=20, help="trials run by this process")
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel trials (threads) in this process")
    parser.add_argument("--storage", default=None, help="Optuna storage URL (default sqlite in --output-dir)")
    parser.add_argument("--study-name", default=None, help="study name (default <experiment>-<dataset>)")
    parser.add_argument(
        "--range",
        nargs=3,
        action="append",
        default=[],
        metavar=("KEY", "LOW", "HIGH"),
        help="search KEY in [LOW, HIGH] (replaces its default range; repeatable)",
    )
    parser.add_argument("--no-default-ranges", action="store_true", help="search only the --range keys")
    parser.add_argument(
        "--search-ta", action="store_true", help="also search TA.ENABLE, TA.METHOD, TA.CHANNELS"
    )
    parser.add_argument(
        "--ta-methods", default=",".join(DEFAULT_TA_METHODS), help="TA.METHOD choices, comma-separated"
    )
    parser.add_argument(
        "--eao-interval", nargs=2, type=int, default=None, metavar=("LOW", "HIGH"), help="EAO interval"
    )
    parser.add_argument("--seed", type=int, default=None, help="sampler seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    logger.info("arguments: %s", vars(args))
    set_threads(args.threads)
    ranges = {} if args.no_default_ranges else dict(DEFAULT_RANGES)
    ranges.update(_parse_range(r) for r in args.range)
    space = SearchSpace(ranges, args.search_ta, tuple(m for m in args.ta_methods.split(",") if m))
    if not space.ranges and not space.search_ta:
        logger.error("nothing to search: give --range or --search-ta")
        return 2
    result = run_search(
        config=args.config,
        dataset=args.dataset,
        snapshot=args.snapshot,
        dataset_root=args.dataset_root,
        output_dir=args.output_dir,
        n_trials=args.n_trials,
        n_jobs=args.n_jobs,
        storage=args.storage,
        study_name=args.study_name,
        space=space,
        overrides=args.opts,
        device=args.device,
        seed=args.seed,
        eao_interval=tuple(args.eao_interval) if args.eao_interval else None,
    )
    print(f"best {result.metric} {result.best_value:.4f} (trial {result.best_trial}, "
          f"{result.completed_trials} completed in study {result.study_name})")  # fmt: skip
    for key, value in result.best_values.items():
        print(f"  {key}: {value}")
    print(f"config: {result.config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
