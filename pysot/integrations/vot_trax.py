"""TraX tracker entry point for the VOT toolkit: ``python -m pysot.integrations.vot_trax``.

The VOT toolkit starts this module as a child process and talks the TraX protocol with it over
stdin/stdout (or the socket named by ``TRAX_SOCKET``). Each ``initialize`` request carries an image
path and a region, a rectangle or a polygon, and (re)starts the tracker: the init box is computed
from the region exactly as PySOT's ``tools/test.py`` does in its VOT loop (:func:`vot_init_rect`),
so the VOT toolkit's reset-based experiment re-initialises it as ``toolkit.protocols.run_vot`` does.
Each ``frame`` request is answered with the tracked rectangle (x, y, w, h, 0-based top-left
corner; for SiamMask configs the tracker's polygon, as ``run_vot`` records it) and a
``confidence`` property (the tracker's ``best_score``).

Which experiment runs is given by arguments or, for the toolkit's ``trackers.ini``, environment
variables (arguments win): ``TASIAM_CONFIG`` (config.yaml), ``TASIAM_SNAPSHOT`` (checkpoint),
``TASIAM_DEVICE`` (``cpu``/``cuda``/``auto``), ``TASIAM_OPTS`` (space-separated ``KEY VALUE``
config overrides). The VOT toolkit runs trackers in a temporary working directory, so give
absolute paths. Log messages go to stderr; stdout belongs to the protocol.

TraX sends numbers as text with 4 decimals (``%.4f``) and parses them as 32-bit floats; received
coordinates are rounded back to 4 decimals so that a region written with at most 4 decimals (as in
VOT's ``groundtruth.txt``) reaches the tracker exactly as the dataset loader reads it.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from pysot.integrations.loading import load_tracker
from toolkit.boxes import bounding_rect, vot_init_box

logger = logging.getLogger(__name__)

ENV_CONFIG = "TASIAM_CONFIG"
ENV_SNAPSHOT = "TASIAM_SNAPSHOT"
ENV_DEVICE = "TASIAM_DEVICE"
ENV_OPTS = "TASIAM_OPTS"
# Decimals of a number in a TraX message (libtrax formats regions with "%.4f").
TRAX_DECIMALS = 4


def region_values(region) -> np.ndarray:
    """A TraX region -> a ground-truth region array, coordinates rounded to TraX's 4 decimals.

    Rectangle -> ``[x, y, w, h]``; 4-point polygon -> ``[x1, y1, ..., x4, y4]`` (VOT's polygon);
    a polygon with another number of points -> the ``[x, y, w, h]`` min-max box of its points.
    """
    from trax.region import Region

    if region.type == Region.RECTANGLE:
        values = np.array(region.bounds(), dtype=np.float64)
    elif region.type == Region.POLYGON:
        points = np.array(list(region), dtype=np.float64)
        if len(points) == 4:
            values = points.reshape(-1)
        else:
            values = bounding_rect(points.reshape(-1))
    else:
        raise ValueError(
            f"unsupported TraX region type {region.type!r}; this tracker takes rectangles and polygons"
        )
    return np.round(values, TRAX_DECIMALS)


def vot_init_rect(region: np.ndarray) -> list[float]:
    """A VOT region (4-value rect or 8-value polygon) -> the init box of PySOT's VOT loop, [x, y, w, h].

    As PySOT's ``tools/test.py`` (VOT branch): a rect ``(x, y, w, h)`` first becomes the polygon of
    its inclusive corners ``(x, y), (x, y+h-1), (x+w-1, y+h-1), (x+w-1, y)``; then ``(cx, cy, w, h) =
    get_axis_aligned_bbox(polygon)`` and the box is ``[cx - (w-1)/2, cy - (h-1)/2, w, h]`` (for a
    rect that is the rect itself, up to rounding). This is :func:`toolkit.boxes.vot_init_box`, which
    ``toolkit.protocols.run_vot`` uses too.
    """
    return vot_init_box(region)


def _read_image(request) -> np.ndarray:
    """The colour image of a TraX request as a BGR uint8 array (H x W x 3)."""
    from trax.image import ImageChannel

    path = request.image[ImageChannel.COLOR].path()
    if path.startswith("file://"):
        path = path[len("file://") :]
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"TraX client sent an image that cannot be read: {path}")
    return image


def serve(server, tracker) -> int:
    """Answer TraX requests with ``tracker`` until the client quits; returns the frames tracked.

    Args:
        server: a ``trax.server.Server`` offering rectangle and polygon regions and path images.
        tracker: anything with ``init(img, xywh)`` and ``track(img) -> dict(bbox, best_score)``.
    """
    from trax import TraxStatus
    from trax.region import Polygon, Rectangle

    frames = 0
    while True:
        request = server.wait()
        if request.type == TraxStatus.QUIT:
            logger.info("client quit after %d frames", frames)
            return frames
        image = _read_image(request)
        if request.type == TraxStatus.INITIALIZE:
            if not request.objects:
                raise ValueError("TraX initialize request without a region")
            box = vot_init_rect(region_values(request.objects[0][0]))
            tracker.init(image, box)
            reply = (Rectangle.create(*box), {"confidence": 1.0})
        else:
            out = tracker.track(image)
            if "polygon" in out:  # SiamMask: the rotated box, as run_vot records it
                points = np.asarray(out["polygon"], dtype=np.float64).reshape(-1, 2)
                region = Polygon.create([(float(x), float(y)) for x, y in points])
            else:
                region = Rectangle.create(*[float(v) for v in out["bbox"]])
            reply = (region, {"confidence": float(out["best_score"])})
            frames += 1
        server.status([reply])


def run(config: str, snapshot: str | None, device: str = "cpu", overrides: Sequence[str] = ()) -> int:
    """Build the tracker of an experiment and serve TraX on stdin/stdout (or ``TRAX_SOCKET``)."""
    try:
        from trax.image import Image
        from trax.region import Region
        from trax.server import Server
    except ImportError as err:
        raise SystemExit(f"the TraX bindings are missing ({err}): pip install -e '.[vot]'") from None

    cfg, tracker = load_tracker(config, snapshot, device, overrides)
    with Server(
        [Region.RECTANGLE, Region.POLYGON],
        [Image.PATH],
        tracker_name="Ta-SiamRPN++",
        tracker_description=f"{cfg.META_ARC}, TA.ENABLE={cfg.TA.ENABLE} TA.METHOD={cfg.TA.METHOD}",
        tracker_family="siamese",
    ) as server:
        return serve(server, tracker)


def trackers_ini(
    config: str | Path,
    snapshot: str | Path | None,
    device: str = "cpu",
    name: str = "TaSiamRPN",
    python: str | None = None,
) -> str:
    """A ``trackers.ini`` section for vot-toolkit 0.7.4 that runs this entry point (absolute paths).

    The toolkit starts ``command`` (``protocol = trax``) in a temporary folder and passes every
    ``env_<NAME>`` key as environment variable ``<NAME>``.
    """
    lines = [
        f"[{name}]",
        "label = Ta-SiamRPN++",
        "protocol = trax",
        f"command = {python or sys.executable} -m pysot.integrations.vot_trax",
        f"env_{ENV_CONFIG} = {Path(config).resolve()}",
    ]
    if snapshot is not None:
        lines.append(f"env_{ENV_SNAPSHOT} = {Path(snapshot).resolve()}")
    lines.append(f"env_{ENV_DEVICE} = {device}")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "example (what the VOT toolkit runs):\n"
            f"  {ENV_CONFIG}=/abs/experiments/x/config.yaml {ENV_SNAPSHOT}=/abs/experiments/x/model.pth \\\n"
            "    python -m pysot.integrations.vot_trax\n"
        ),
    )
    parser.add_argument(
        "--config", default=os.environ.get(ENV_CONFIG), help=f"config.yaml (env {ENV_CONFIG})"
    )
    parser.add_argument(
        "--snapshot",
        default=os.environ.get(ENV_SNAPSHOT),
        help=f"checkpoint (env {ENV_SNAPSHOT}; default model.pth beside the config)",
    )
    parser.add_argument(
        "--device", default=os.environ.get(ENV_DEVICE, "cpu"), help=f"cpu | cuda | auto (env {ENV_DEVICE})"
    )
    parser.add_argument(
        "--print-trackers-ini",
        action="store_true",
        help="print a trackers.ini section for vot-toolkit that runs this experiment, then exit",
    )
    parser.add_argument(
        "opts",
        nargs=argparse.REMAINDER,
        help=f"KEY VALUE config overrides (env {ENV_OPTS}, space-separated; arguments are merged last)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    if not args.config:
        raise SystemExit(f"no experiment config: pass --config or set {ENV_CONFIG}")
    if args.print_trackers_ini:
        sys.stdout.write(trackers_ini(args.config, args.snapshot or None, args.device))
        return 0
    overrides = shlex.split(os.environ.get(ENV_OPTS, "")) + list(args.opts)
    run(args.config, args.snapshot or None, args.device, overrides)
    return 0


if __name__ == "__main__":
    sys.exit(main())
