"""``build_tracker(cfg, model)``: the tracker class named by ``cfg.TRACK.TYPE``."""

from __future__ import annotations

from torch import nn
from yacs.config import CfgNode

from pysot.tracker.siammask_tracker import SiamMaskTracker
from pysot.tracker.siamrpn_tracker import SiamRPNTracker
from pysot.tracker.siamrpnlt_tracker import SiamRPNLTTracker

TRACKS: dict[str, type[SiamRPNTracker]] = {
    "SiamRPNTracker": SiamRPNTracker,
    "SiamRPNLTTracker": SiamRPNLTTracker,
    "SiamMaskTracker": SiamMaskTracker,
}


def build_tracker(cfg: CfgNode, model: nn.Module, **kwargs) -> SiamRPNTracker:
    """Tracker for ``model`` configured by ``cfg`` (TRACK, ANCHOR, TA); ``kwargs`` override arguments.

    Raises:
        KeyError: ``cfg.TRACK.TYPE`` is not a known tracker (the message lists the known ones).
    """
    name = cfg.TRACK.TYPE
    if name not in TRACKS:
        raise KeyError(f"TRACK.TYPE={name!r} is not a known tracker; known: {', '.join(sorted(TRACKS))}")
    return TRACKS[name].from_config(cfg, model, **kwargs)
