"""Run a tracker over a benchmark and write its results in PySOT's layout (results/<DATASET>/<tracker>/).

Examples:
  # the embedded default model (model.pth beside the config) on the synthetic benchmark,
  # generated into testing_dataset/SYNTH on first use
  python tools/test.py --config experiments/ta_siamrpn_tiny_synth/config.yaml --dataset SYNTH
  # a PySOT model-zoo snapshot on VOT2018 (testing_dataset/VOT2018/VOT2018.json), 4 worker processes
  python tools/test.py --config experiments/siamrpn_r50_l234_dwxcorr/config.yaml \\
      --snapshot model.pth --dataset VOT2018 --num-workers 4
  # ablation: the same model without target-aware selection, under its own name
  python tools/test.py --config experiments/ta_siamrpn_r50_l234_dwxcorr_otb/config.yaml \\
      --snapshot model.pth --dataset OTB100 --tracker-name no_ta TA.ENABLE False
  # VOT2018 under the official VOT toolkit's failure rule (overlap as vot-toolkit 0.7.4 computes it),
  # then scored in the same convention
  python tools/test.py --config ... --snapshot ... --dataset VOT2018 --convention vot
  python tools/eval.py --tracker_path results --dataset VOT2018 --convention vot
  # one video, shown on screen
  python tools/test.py --config ... --snapshot ... --dataset OTB100 --video Basketball --vis
  # one process per GPU, videos sharded across ranks
  torchrun --nproc_per_node 4 tools/test.py --config ... --snapshot ... --dataset LaSOT

Videos whose result files are complete are skipped, so an interrupted run resumes where it
stopped. A video that raises is reported by name; the run finishes the others and exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
from tqdm.contrib.logging import logging_redirect_tqdm

from pysot.config import load_cfg
from pysot.integrations.loading import DEFAULT_SNAPSHOT, TrackerFactory, resolve_snapshot
from pysot.models.inference import resolve_precision
from pysot.utils.checkpoint import CheckpointError
from pysot.utils.cli import add_experiment_args, setup_logging, tool_parser
from pysot.utils.distributed import process_device
from pysot.utils.environment import log_run_environment
from toolkit.boxes import rect_to_polygon
from toolkit.datasets import DATASETS, build_dataset, default_dataset_root
from toolkit.datasets.pysot_json import find_json
from toolkit.rules import CONVENTIONS, rules_for
from toolkit.run_folder import RunFolder, sha256_file
from toolkit.runner import RunSummary, run_dataset

logger = logging.getLogger("tools.test")

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Seconds a non-zero rank waits for rank 0 to generate a synthetic benchmark.
GENERATE_WAIT_S = 1800


def default_tracker_name(config: str | Path, snapshot: str | Path) -> str:
    """PySOT's rule: the snapshot's file name up to the first '.'; an experiment's default
    ``model.pth`` (beside its config) is named after the experiment folder instead."""
    snapshot, config = Path(snapshot), Path(config)
    if snapshot.name == DEFAULT_SNAPSHOT and snapshot.resolve().parent == config.resolve().parent:
        return config.resolve().parent.name
    return snapshot.name.split(".")[0]


def _wait_for_generation(name: str, root: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while find_json(root, name) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name}: rank 0 did not generate {root} within {timeout_s:.0f} s")
        time.sleep(2)


def _show_frame(idx: int, img: np.ndarray, row, gt: np.ndarray) -> None:
    """--vis: ground truth in green, the recorded box or polygon in yellow (else its VOT code)."""
    img = img.copy()
    if not np.isnan(gt).any():
        gt_poly = gt if gt.size == 8 else rect_to_polygon(gt)
        cv2.polylines(img, [np.round(gt_poly).astype(np.int32).reshape(-1, 1, 2)], True, (0, 255, 0), 2)
    box = np.asarray(row, np.float64) if isinstance(row, list) and len(row) in (4, 8) else None
    if box is not None:
        poly = box if box.size == 8 else rect_to_polygon(box)
        cv2.polylines(img, [np.round(poly).astype(np.int32).reshape(-1, 1, 2)], True, (0, 255, 255), 2)
    label = f"#{idx}" if box is not None else f"#{idx} code {row}"
    cv2.putText(img, label, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 255, 255), 2)
    cv2.imshow("tools/test.py", img)
    cv2.waitKey(1)


def run_test(
    config: str | Path,
    dataset: str,
    snapshot: str | Path | None = None,
    dataset_root: str | Path | None = None,
    results_dir: str | Path = "results",
    tracker_name: str | None = None,
    video: str | None = None,
    num_workers: int = 1,
    device: str = "auto",
    threads: int | None = 1,
    overrides: Sequence[str] = (),
    vis: bool = False,
    rank: int = 0,
    world_size: int = 1,
    progress: bool = True,
    overwrite: bool = False,
    convention: str | None = None,
) -> RunSummary:
    """Everything ``tools/test.py`` does after parsing its arguments; returns the run summary.

    ``overwrite``: empty a results folder produced by another config or snapshot and start over
    (without it such a folder raises :class:`toolkit.run_folder.RunFolderError`).

    ``threads``: torch CPU threads per tracking process (PySOT: 1; ``None`` keeps torch's default).

    ``convention``: the overlap convention of the reset-based VOT protocol's failure rule,
    ``'pysot'`` or ``'vot'`` (the official toolkit's); it sets ``TEST.VOT_CONVENTION`` (default: the
    config's, PySOT's), which is saved with the results.
    """
    if dataset not in DATASETS:
        raise KeyError(f"unknown dataset {dataset!r}; known datasets: {', '.join(DATASETS)}")
    if convention is not None:
        overrides = [*overrides, "TEST.VOT_CONVENTION", convention]
    cfg = load_cfg(config, overrides)
    snapshot = resolve_snapshot(config, snapshot)
    name = tracker_name or default_tracker_name(config, snapshot)
    root = Path(dataset_root) if dataset_root else default_dataset_root(dataset, [Path.cwd(), REPO_ROOT])
    synthetic = DATASETS[dataset].synthetic
    if synthetic and rank != 0 and find_json(root, dataset) is None:
        _wait_for_generation(dataset, root, GENERATE_WAIT_S)
    ds = build_dataset(dataset, root, generate=synthetic)
    torch_device = process_device(device)
    resolve_precision(cfg.TRACK.PRECISION, torch_device)  # an unsupported mode fails here, not per video
    logger.info(
        "dataset %s (%d videos, protocol %s) from %s; tracker %s from %s on %s; rank %d/%d",
        ds.name, len(ds), ds.protocol, ds.root, name, snapshot, torch_device, rank, world_size,
    )  # fmt: skip
    log_run_environment(logger)
    if overwrite and world_size > 1:
        raise ValueError("--overwrite cannot be used under torchrun (the ranks share the folder)")
    # the resume contract (toolkit/run_folder.py): checked before anything is written, config.yaml
    # (with the snapshot's sha256) written just before the first result
    folder = RunFolder(Path(results_dir) / ds.name / name, cfg.dump(), snapshot.name, sha256_file(snapshot))
    logger.info("merged config (saved to %s with the first result):\n%s", folder.config_path, cfg.dump())
    workers = 1 if vis else num_workers
    factory = TrackerFactory(cfg, snapshot.resolve(), str(torch_device), threads)
    with folder.lock(rank, world_size):
        folder.check(overwrite=overwrite)
        return run_dataset(
            ds,
            factory,
            results_dir,
            name,
            videos=[video] if video else None,
            num_workers=workers,
            rank=rank,
            world_size=world_size,
            on_frame=_show_frame if vis else None,
            progress=progress,
            before_write=folder.ensure_saved,
            rules=replace(rules_for(ds.name), convention=cfg.TEST.VOT_CONVENTION),
        )


def build_parser() -> argparse.ArgumentParser:
    parser = tool_parser(__doc__)
    add_experiment_args(
        parser, device="auto", threads=1, threads_help="torch CPU threads per tracking process (PySOT: 1)"
    )
    parser.add_argument("--dataset", required=True, help=f"benchmark: {', '.join(DATASETS)}")
    parser.add_argument(
        "--dataset-root",
        "--dataset_root",
        default="",
        help="dataset folder (default: testing_dataset/<NAME>)",
    )
    parser.add_argument(
        "--results-dir", "--results_dir", default="results", help="results root (default: results)"
    )
    parser.add_argument(
        "--tracker-name",
        "--tracker_name",
        default="",
        help="results folder name (default: from the snapshot)",
    )
    parser.add_argument("--video", default="", help="run only this video")
    parser.add_argument("--vis", action="store_true", help="show the tracking on screen (one process)")
    parser.add_argument("--num-workers", "--num_workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--convention",
        "--protocol",
        dest="convention",
        choices=CONVENTIONS,
        default=None,
        help="failure rule of reset-based VOT runs: pysot (PySOT's tools/test.py, the default) or vot (the"
        " official VOT toolkit's overlap); sets TEST.VOT_CONVENTION; --protocol is the same flag",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="start over in a results folder produced by another config or snapshot (deletes its results)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    logger.info("arguments: %s", vars(args))
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    try:
        with logging_redirect_tqdm():
            summary = run_test(
                config=args.config,
                dataset=args.dataset,
                snapshot=args.snapshot or None,
                dataset_root=args.dataset_root or None,
                results_dir=args.results_dir,
                tracker_name=args.tracker_name or None,
                video=args.video or None,
                num_workers=args.num_workers,
                device=args.device,
                threads=args.threads or None,
                overrides=args.opts,
                vis=args.vis,
                rank=rank,
                world_size=world_size,
                overwrite=args.overwrite,
                convention=args.convention,
            )
    except KeyboardInterrupt:
        logger.error("interrupted; complete videos are kept, rerun the command to resume")
        return 130
    except (FileNotFoundError, FileExistsError, KeyError, ValueError, CheckpointError) as err:
        logger.error("%s", err.args[0] if isinstance(err, KeyError) and err.args else err)
        return 2
    logger.info(
        "%d videos run, %d already complete, %d on other ranks; results in %s",
        len(summary.done), len(summary.skipped), len(summary.other_ranks), summary.results_dir,
    )  # fmt: skip
    if summary.failed:
        logger.error("%d video(s) failed: %s", len(summary.failed), ", ".join(summary.failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
