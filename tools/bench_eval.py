"""Evaluation throughput: generate a large VOT-style and OPE-style result set (seeded) and time
tools/eval.py's work on it at each --num (worker processes), in PySOT's and the official VOT
convention; optionally against PySOT's own toolkit on the same files.

Examples:
  python tools/bench_eval.py --json bench_eval.json
  python tools/bench_eval.py --trackers 10 --videos 20 --frames 300 --num 1 2 4 --json small.json
  # also PySOT's tools/eval.py, run alternately with ours as commands at --num 1 (its Cython
  # extension built: cd /tmp/pysot && pip install "cython<3" && python setup.py build_ext --inplace)
  python tools/bench_eval.py --num 1 --pysot-root /tmp/pysot --repeats 2 --json vs_pysot.json
  # where --num 2 starts to pay (2 workers forced vs 1, 2..32 trackers x 30 videos x 500 frames)
  python tools/bench_eval.py --break-even --json break_even.json

The JSON holds, per set, wall and CPU seconds and tracker-frames scored per second and per CPU
second (per core), the CPU model and flags, and the load average at the start and the end (the
machine may be shared: compare ratios measured in the same run). See docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Sequence

from toolkit.bench import break_even, eval_throughput
from toolkit.cli import setup_logging, tool_parser
from toolkit.results import atomic_write_text

logger = logging.getLogger("tools.bench_eval")


def build_parser() -> argparse.ArgumentParser:
    parser = tool_parser(__doc__)
    parser.add_argument("--trackers", type=int, default=50, help="number of generated trackers")
    parser.add_argument("--videos", type=int, default=60, help="videos per dataset")
    parser.add_argument("--frames", type=int, default=500, help="frames per video")
    parser.add_argument("--num", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--pysot-root", "--pysot_root", default=None, metavar="DIR",
                        help="a PySOT checkout with its region extension built: also time its tools/eval.py")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each command with --pysot-root")
    parser.add_argument("--break-even", action="store_true",
                        help="time 2 forced workers against 1 on growing sets instead (docs/evaluation.md)")
    parser.add_argument("--json", default=None, metavar="FILE", help="write the timings here (else stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging()
    logger.info("arguments: %s", vars(args))
    if args.break_even:
        result = break_even(num_frames=args.frames, seed=args.seed)
    else:
        result = eval_throughput(num_trackers=args.trackers, num_videos=args.videos, num_frames=args.frames,
                                 nums=args.num, seed=args.seed, pysot_root=args.pysot_root,
                                 repeats=args.repeats)
    text = json.dumps(result, indent=1, sort_keys=True) + "\n"
    if args.json is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(args.json, text)
        logger.info("timings written to %s", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
