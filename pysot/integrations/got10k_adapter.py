"""A GOT-10k toolkit tracker (``got10k.trackers.Tracker``) running a Ta-SiamRPN++ experiment.

The GOT-10k toolkit (``pip install got10k``, extra ``.[got10k]``) drives a tracker through
``init(image, box)`` and ``update(image) -> box`` with RGB ``PIL.Image`` frames and boxes
``[x, y, w, h]`` (top-left corner, as in its annotation files); its experiments (GOT-10k, OTB,
VOT, LaSOT, ...) call ``tracker.track(img_files, box)``. This adapter converts each frame to the
BGR uint8 array the PySOT tracker expects; the initial box is passed on as the annotation gives it
(``init_convention='got10k'``, the GOT-10k toolkit's own trackers' convention) or as PySOT's
``tools/test.py`` computes it (``'pysot'``: ``[x + 0.5, y + 0.5, w, h]`` for a rectangle, see
:func:`toolkit.boxes.init_box`), which reproduces ``tools/test.py``'s trajectories. The module
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

from toolkit.boxes import init_box

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
        init_convention: how the toolkit's initial box ``[x, y, w, h]`` reaches the tracker:
            ``'got10k'`` (default): unchanged, as the GOT-10k toolkit's trackers take it;
            ``'pysot'``: PySOT's OPE init box (``[x + 0.5, y + 0.5, w, h]`` for a rectangle), as
            ``tools/test.py`` starts, so the boxes equal its trajectories (docs/got10k.md has the
            measured difference). The box the toolkit records for frame 0 is its annotation either way.
    """

    INIT_CONVENTIONS = ("got10k", "pysot")

    def __init__(self, tracker, name: str = "Ta-SiamRPN++", init_convention: str = "got10k") -> None:
        if init_convention not in self.INIT_CONVENTIONS:
            known = ", ".join(self.INIT_CONVENTIONS)
            raise ValueError(f"init_convention={init_convention!r} is not known; known: {known}")
        super().__init__(name=name, is_deterministic=True)
        self.tracker = tracker
        self.init_convention = init_convention
        self.last_score = float("nan")

    @classmethod
    def from_files(
        cls,
        config: str | Path,
        snapshot: str | Path | None,
        device: str = "cpu",
        overrides: Sequence[str] = (),
        name: str = "Ta-SiamRPN++",
        init_convention: str = "got10k",
    ) -> TaSiamRPNGot10k:
        """Build the adapter from an experiment's ``config.yaml`` and checkpoint."""
        from pysot.integrations.loading import load_tracker

        _, tracker = load_tracker(config, snapshot, device, overrides)
        return cls(tracker, name=name, init_convention=init_convention)

    def init(self, image, box: Sequence[float]) -> None:
        """Start on ``image`` (RGB) at ``box`` = [x, y, w, h] (top-left corner), passed on in the
        adapter's ``init_convention``."""
        box = [float(v) for v in box]
        if self.init_convention == "pysot":
            box = [float(v) for v in init_box(np.asarray(box, dtype=np.float64))]
        self.tracker.init(to_bgr(image), box)
        self.last_score = 1.0

    def update(self, image) -> np.ndarray:
        """Track into ``image`` (RGB); returns the box [x, y, w, h] as a float64 array of 4."""
        out = self.tracker.track(to_bgr(image))
        self.last_score = float(out["best_score"])
        return np.asarray(out["bbox"], dtype=np.float64)
