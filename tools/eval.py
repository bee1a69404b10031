"""Evaluate tracking results: PySOT's tables, plus a JSON report and plots.

Examples:
  # PySOT's usage: every tracker folder in results/VOT2018, dataset in testing_dataset/VOT2018
  python tools/eval.py --tracker_path ./results --dataset VOT2018 --num 4 --show_video_level
  # only the trackers whose name starts with "ta_", dataset elsewhere, JSON report and PNG plots
  python tools/eval.py --tracker-path results --dataset OTB100 --tracker-prefix ta_ \\
      --dataset-root /data/OTB100 --json otb100.json --plot-dir plots/
  # the official VOT toolkit's numbers instead of PySOT's (--protocol vot is the same flag)
  python tools/eval.py --tracker_path results --dataset VOT2018 --convention vot

Results are read from <tracker_path>/<dataset>/<tracker>/ in PySOT's layout. A result file with
a wrong number of lines or a bad line (nan and inf included) is an error (exit status 1) naming the
file and line. A tracker without results for some videos is named with the videos and not scored:
the complete trackers' tables are printed, then the command exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from toolkit.cli import setup_logging, tool_parser
from toolkit.rules import CONVENTIONS

# numpy, toolkit.datasets, toolkit.evaluation (numba) and toolkit.visualization (matplotlib) are
# imported where they are used: --help and an empty results folder answer fast (start-up < 0.5 s)

logger = logging.getLogger("tools.eval")


class _HideModule:
    """A ``sys.meta_path`` finder that makes ``import <name>`` (and its submodules) fail with
    ModuleNotFoundError (a plain class: importing ``importlib.abc`` costs 12 ms of start-up)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001 - importlib's protocol
        if fullname == self.name or fullname.startswith(self.name + "."):
            raise ModuleNotFoundError(f"{fullname} is hidden while tools/eval.py runs", name=fullname)
        return None


@contextlib.contextmanager
def _numba_without_scipy():
    """numba's first compilation (or cache load) imports scipy only to learn whether BLAS routines
    exist for ``np.dot`` and ``np.linalg`` in compiled code, 0.15-0.25 s of this tool's start-up
    (measured: 10 % of a 50-tracker OTB100 evaluation). No evaluation kernel uses them, so this
    process hides scipy while it evaluates, unless something imported scipy already; scipy stays
    importable afterwards. (numba then compiles ``np.dot`` in nopython code to an error naming
    scipy, which no kernel here calls.)"""
    if "scipy" in sys.modules:
        yield
        return
    finder = _HideModule("scipy")
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def run_eval(
    tracker_path: str | Path,
    dataset: str,
    dataset_root: str | Path | None = None,
    num: int = 1,
    tracker_prefix: str = "",
    show_video_level: bool = False,
    json_path: str | Path | None = None,
    plot_dir: str | Path | None = None,
    convention: str = "pysot",
    eao_interval: tuple[int, int] | None = None,
    out: TextIO | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Evaluate every tracker folder ``<tracker_path>/<dataset>/<tracker_prefix>*``; print PySOT's
    tables to ``out`` (stdout); optionally write the JSON report and the PNG plots (success, precision
    and normalised precision per dataset and attribute; AR, EAO ranking, expected-overlap curves and
    per-tag EAO; long-term precision-recall). ``convention`` is the scoring convention of VOT
    datasets, ``'pysot'`` or ``'vot'`` (the official toolkit's). Returns the report."""
    from toolkit.datasets import DATASETS, build_dataset, default_dataset_root
    from toolkit.results import atomic_write_text, list_trackers

    out = sys.stdout if out is None else out
    if dataset not in DATASETS:
        raise KeyError(f"unknown dataset {dataset!r}; known datasets: {', '.join(DATASETS)}")
    if eao_interval is not None and not 1 <= eao_interval[0] <= eao_interval[1]:
        raise ValueError(f"--eao-interval {eao_interval[0]} {eao_interval[1]}: need 1 <= LOW <= HIGH")
    results_root = Path(tracker_path) / dataset
    if dataset_root is None:
        dataset_root = default_dataset_root(dataset, [Path.cwd(), Path(__file__).resolve().parents[1]])
    trackers = list_trackers(results_root, tracker_prefix)
    if not trackers:
        raise FileNotFoundError(f"no tracker folders matching {tracker_prefix + '*'!r} in {results_root}")
    from toolkit.evaluation import report as rep
    from toolkit.evaluation.aggregate import incomplete_trackers

    ds = build_dataset(dataset, dataset_root)
    longest = max(len(v) for v in ds)
    if eao_interval is not None and eao_interval[0] > longest:
        raise ValueError(
            f"--eao-interval {eao_interval[0]} {eao_interval[1]} is empty: the longest sequence of "
            f"{ds.name} has {longest} frames, so no EAO fragment reaches length {eao_interval[0]}"
        )
    incomplete = incomplete_trackers(ds, results_root, trackers)
    for tracker, problem in incomplete.items():
        logger.error("tracker %r %s; not scored", tracker, problem)
    if incomplete and len(incomplete) == len(trackers):
        raise rep.MissingResultsError(
            f"{ds.name} results in {results_root}: no complete tracker: "
            + "; ".join(f"tracker {t!r} {p}" for t, p in incomplete.items())
        )
    trackers = [t for t in trackers if t not in incomplete]
    if ds.protocol == "vot":
        warn_run_conventions(results_root, trackers, convention)
    logger.info(
        "evaluating %d trackers on %s (%s) from %s", len(trackers), dataset, dataset_root, results_root
    )
    report = rep.evaluate(
        ds,
        results_root,
        trackers,
        convention=convention,
        num=num,
        progress=progress,
        eao_interval=eao_interval,
    )
    for tracker, metrics in report.get("trackers", {}).items():
        if metrics.get("empty_overlap_frames"):
            logger.warning(
                "tracker %s: %d frame(s) where its region and the ground truth both cover no pixel: "
                "overlap NaN, not averaged into the accuracy (PySOT convention; JSON empty_overlap_frames)",
                tracker, metrics["empty_overlap_frames"],
            )  # fmt: skip
    out.write(rep.format_tables(report, show_video_level))
    out.flush()
    if json_path is not None:
        atomic_write_text(json_path, rep.report_json(report))
        logger.info("JSON report: %s", json_path)
    if plot_dir is not None:
        from toolkit.visualization import draw_report

        with _cyclic_gc(True):
            for path in draw_report(report, plot_dir):
                logger.info("plot: %s", path)
    if incomplete:  # the complete trackers are scored above; the run still fails
        raise rep.MissingResultsError(
            f"{len(incomplete)} of {len(incomplete) + len(trackers)} trackers incomplete, not scored: "
            + "; ".join(f"tracker {t!r} {p}" for t, p in incomplete.items())
        )
    return report


def warn_run_conventions(results_root: Path, trackers: Sequence[str], convention: str) -> list[str]:
    """Warn for each tracker folder whose saved config says it was run under the other failure rule
    than the scoring ``convention`` (``tools/test.py --convention``); returns those trackers."""
    from toolkit.results import saved_vot_convention

    mismatched = []
    for tracker in trackers:
        ran = saved_vot_convention(results_root / tracker)
        if ran is not None and ran != convention:
            mismatched.append(tracker)
            logger.warning(
                "%s: run under the %r failure rule (TEST.VOT_CONVENTION in its config.yaml) but scored "
                "under --convention %s: its failures can sit at other frames than a run under the %r "
                "rule would give (tools/test.py --convention %s; docs/vot_conventions.md)",
                results_root / tracker, ran, convention, convention, convention,
            )  # fmt: skip
    return mismatched


def build_parser() -> argparse.ArgumentParser:
    parser = tool_parser(__doc__)
    parser.add_argument("--tracker_path", "--tracker-path", "-p", default="./results", help="results folder")
    parser.add_argument("--dataset", "-d", required=True, help="dataset name, e.g. OTB100, VOT2018, LaSOT")
    parser.add_argument("--num", "-n", type=int, default=1, help="worker processes (parallel over trackers)")
    parser.add_argument("--tracker_prefix", "--tracker-prefix", "-t", default="", help="tracker name prefix")
    parser.add_argument(
        "--show_video_level",
        "--show-video-level",
        "-s",
        action="store_true",
        help="also print per-video results",
    )
    parser.add_argument(
        "--dataset-root",
        "--dataset_root",
        default=None,
        help="dataset folder (default: testing_dataset/<dataset> in the working directory or the repository)",
    )
    parser.add_argument(
        "--json", default=None, metavar="FILE", help="write every metric (per tracker, video) here"
    )
    parser.add_argument("--plot-dir", "--plot_dir", default=None, metavar="DIR", help="write PNG plots here")
    parser.add_argument(
        "--convention",
        "--protocol",
        dest="convention",
        choices=CONVENTIONS,
        default="pysot",
        help="VOT scoring convention: pysot (PySOT's toolkit, default) or vot (official VOT toolkit 0.7.4);"
        " --protocol is the same flag",
    )
    parser.add_argument(
        "--eao-interval",
        "--eao_interval",
        type=int,
        nargs=2,
        default=None,
        metavar=("LOW", "HIGH"),
        help="EAO sequence-length interval (1-based, inclusive) for VOT-style datasets without a known one",
    )
    return parser


@contextlib.contextmanager
def _cyclic_gc(enabled: bool):
    """Python's cyclic garbage collector on or off inside, as it was after.

    ``tools/eval.py`` evaluates with it off: importing numba and loading its first kernel create
    ~90 000 long-lived objects, which the default thresholds walk in ~270 collections (0.06 s of a
    1 s OTB100 evaluation, measured) that find ~1 300 cyclic objects in all; the evaluation itself
    makes no cycles worth collecting (reference counting frees everything else as usual). It is on
    again while plotting: matplotlib's figures are reference cycles."""
    was = gc.isenabled()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    logger.info("arguments: %s", vars(args))
    try:
        with _numba_without_scipy(), _cyclic_gc(False):
            run_eval(
                args.tracker_path,
                args.dataset,
                dataset_root=args.dataset_root,
                num=args.num,
                tracker_prefix=args.tracker_prefix,
                show_video_level=args.show_video_level,
                json_path=args.json,
                plot_dir=args.plot_dir,
                convention=args.convention,
                eao_interval=tuple(args.eao_interval) if args.eao_interval else None,
                progress=sys.stderr.isatty() and not os.environ.get("CI"),
            )
    except (FileNotFoundError, ValueError, KeyError) as err:  # MissingResultsError is a FileNotFoundError
        logger.error("%s", err.args[0] if isinstance(err, KeyError) and err.args else err)
        return 1
    return 0


if __name__ == "__main__":
    status = main()
    # exit without walking numba's objects again in the interpreter's final collections (0.14 s)
    gc.freeze()
    sys.exit(status)
