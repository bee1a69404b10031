"""Generate the synthetic tracking benchmarks SYNTH (OTB-style) and SYNTH-VOT (VOT-style).

Each dataset is written atomically to ``<root>/<NAME>/`` in PySOT's JSON format
(``<NAME>.json`` + JPEG frames); the same seed always gives the same bytes.

Examples:
    python tools/make_synthetic.py                       # both, into testing_dataset/
    python tools/make_synthetic.py --name SYNTH --root /data/testing_dataset --seed 0
    python tools/make_synthetic.py --name SYNTH-VOT --num-videos 2 --max-frames 20 --overwrite
    # validation videos from the training textures (tuning without touching the benchmark)
    python tools/make_synthetic.py --name SYNTH --split train --seed 1 --max-frames 50 --root validation
"""

from __future__ import annotations

import logging
import time

from toolkit.cli import setup_logging, tool_parser
from toolkit.datasets.synthetic import VARIANTS, generate

logger = logging.getLogger(__name__)


def make(names: list[str], root: str, seed: int, num_videos: int | None, max_frames: int | None,
         overwrite: bool, split: str = "test") -> list[str]:
    """Generate each named variant under ``root``; returns the dataset folders."""
    folders = []
    for name in names:
        start = time.perf_counter()
        folder = generate(name, root, seed=seed, num_videos=num_videos, max_frames=max_frames,
                          overwrite=overwrite, split=split)
        logger.info("%s written to %s in %.1f s", name, folder, time.perf_counter() - start)
        folders.append(str(folder))
    return folders


def main(argv: list[str] | None = None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument("--name", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                        help="datasets to generate (default: all)")
    parser.add_argument("--root", default="testing_dataset", help="parent folder (default testing_dataset)")
    parser.add_argument("--seed", type=int, default=0, help="benchmark seed (default 0, the published one)")
    parser.add_argument("--num-videos", type=int, help="only the first N videos (tiny test versions)")
    parser.add_argument("--max-frames", type=int, help="cut every video to at most N frames")
    parser.add_argument("--overwrite", action="store_true", help="replace existing datasets")
    parser.add_argument("--split", default="test", choices=["test", "train"],
                        help="texture split: test (the benchmarks, default) or train (validation videos "
                        "for tuning, never the benchmark's pixels)")
    args = parser.parse_args(argv)
    setup_logging()
    logger.info("arguments: %s", vars(args))
    folders = make(
        args.name, args.root, args.seed, args.num_videos, args.max_frames, args.overwrite, args.split
    )
    for folder in folders:
        print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
