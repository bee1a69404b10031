"""Track one target in a video file, an image folder or a camera; optionally write an annotated video.

The frame loop, sources and drawing: ``toolkit.demo``.

Examples:
  # headless: initial box given, annotated video written, FPS printed
  python tools/demo.py --config experiments/ta_siamrpn_tiny_synth/config.yaml \\
      --video bag.avi --init 315,140,113,115 --output bag_tracked.mp4
  # with a display: select the target with the mouse and watch (checkpoint given explicitly)
  python tools/demo.py --config ... --snapshot ... --video frames_dir/ --show
  # camera 0
  python tools/demo.py --config ... --snapshot ... --video 0 --show
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pysot.utils.checkpoint import CheckpointError
from pysot.utils.cli import add_experiment_args, set_threads, setup_logging, tool_parser
from toolkit.demo import parse_box, run_demo

logger = logging.getLogger("tools.demo")


def build_parser() -> argparse.ArgumentParser:
    parser = tool_parser(__doc__)
    add_experiment_args(parser, device="cpu", threads=0)
    parser.add_argument(
        "--video",
        "--video_name",
        dest="video",
        required=True,
        help="video file, image folder or camera index",
    )
    parser.add_argument(
        "--init", default=None, help="initial box x,y,w,h (0-based); omit to select it with the mouse"
    )
    parser.add_argument("--output", default=None, help="write the annotated video here (.mp4 or .avi)")
    parser.add_argument("--show", action="store_true", help="show the tracking in a window")
    parser.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pysot.integrations.loading import load_tracker

    args = build_parser().parse_args(argv)
    setup_logging()
    init_box = parse_box(args.init) if args.init else None
    set_threads(args.threads)
    try:
        _, tracker = load_tracker(args.config, args.snapshot, args.device, args.opts)
        result = run_demo(tracker, args.video, init_box, args.output, args.show, args.max_frames)
    except (FileNotFoundError, KeyError, ValueError, CheckpointError) as err:
        # a bad config value, checkpoint, video or box: one line naming it, no traceback
        logger.error("%s", err.args[0] if isinstance(err, KeyError) and err.args else err)
        return 2
    print(f"tracked {len(result.boxes)} frames at {result.fps:.1f} FPS (tracker only)")
    if result.output is not None:
        print(f"annotated video: {result.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
