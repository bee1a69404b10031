"""A GOT-10k toolkit tracker (``got10k.trackers.Tracker``) running a Ta-SiamRPN++ experiment.

The GOT-10k toolkit (``pip install got10k``, extra ``.[got10k]``) drives a tracker through
``init(image, box)`` and ``update(image) -> box`` with RGB ``PIL.Image`` frames and boxes
``[x, y, w, h]`` (top-left corner, as in its annotation files); its experiments (GOT-10k, OTB,
VOT, LaSOT, ...) call ``tracker.track(img_files, box)``. This adapter converts each frame to the
BGR uint8 array the PySOT tracker expects and passes the box through unchanged. The module
imports without ``got10k`` installed (the base class then is a plain stand-in with the same
constructor), so it can be tested and used directly.

Example::

    from got10k.experiments import ExperimentOTB
    from pysot.integrations.got10k_adapter import TaSiamRPNGot10k

    tracker = TaSiamRPNGot10k.from_files("experiments/x/config.yaml", "experiments/x/model.pth")
    experiment = ExperimentOTB("data/OTB", version=2015)
    experiment.run(tracker)
    experiment.report([tracker.name])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

try:
    from got10k.trackers import Tracker as _Got10kTracker
except ImportError:  # the adapter works without the toolkit; only its experiments need it

    class _Got10kTracker:  # type: ignore[no-redef]
        """Stand-in for ``got10k.trackers.Tracker`` (same constructor and attributes)."""

        def __init__(self, name: str, is_deterministic: bool = False) -> None:
            self.name = name
            self.is_deterministic = is_deterministic


def to_bgr(image) -> np.ndarray:
    """A GOT-10k frame (RGB ``PIL.Image`` or RGB H x W x 3 array; grey or RGBA accepted) -> BGR uint8.

    Returns a C-contiguous H x W x 3 array, as ``cv2.imread`` gives.
    """
    if hasattr(image, "convert"):
        image = image.convert("RGB")
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB image, got an array of shape {array.shape}")
    if array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {array.dtype}")
    return np.ascontiguousarray(array[:, :, 2::-1])


class TaSiamRPNGot10k(_Got10kTracker):
    """``got10k.trackers.Tracker`` around a PySOT-protocol tracker.

    Args:
        tracker: anything with ``init(img_bgr, xywh)`` and ``track(img_bgr) -> dict(bbox=..., ...)``
            (e.g. ``pysot.tracker.build_tracker(cfg, model)``).
        name: the name the toolkit files results under.
    """

    def __init__(self, tracker, name: str = "Ta-SiamRPN++") -> None:
        super().__init__(name=name, is_deterministic=True)
        self.tracker = tracker
        self.last_score = float("nan")

    @classmethod
    def from_files(
        cls,
        config: str | Path,
        snapshot: str | Path | None,
        device: str = "cpu",
        overrides: Sequence[str] = (),
        name: str = "Ta-SiamRPN++",
    ) -> TaSiamRPNGot10k:
        """Build the adapter from an experiment's ``config.yaml`` and checkpoint."""
        from pysot.integrations.loading import load_tracker

        _, tracker = load_tracker(config, snapshot, device, overrides)
        return cls(tracker, name=name)

    def init(self, image, box: Sequence[float]) -> None:
        """Start on ``image`` (RGB) at ``box`` = [x, y, w, h] (top-left corner)."""
        self.tracker.init(to_bgr(image), [float(v) for v in box])
        self.last_score = 1.0

    def update(self, image) -> np.ndarray:
        """Track into ``image`` (RGB); returns the box [x, y, w, h] as a float64 array of 4."""
        out = self.tracker.track(to_bgr(image))
        self.last_score = float(out["best_score"])
        return np.asarray(out["bbox"], dtype=np.float64)
