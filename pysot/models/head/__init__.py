"""Heads by name: RPN heads (``RPNS``), SiamMask heads (``MASKS``, ``REFINES``)."""

from pysot.models.head.mask import MASKS, REFINES, MaskCorr, Refine
from pysot.models.head.rpn import RPNS, DepthwiseRPN, DepthwiseXCorr, MultiRPN, UPChannelRPN
from pysot.models.head.xcorr import xcorr_depthwise, xcorr_fast, xcorr_slow

__all__ = [
    "MASKS",
    "REFINES",
    "RPNS",
    "DepthwiseRPN",
    "DepthwiseXCorr",
    "MaskCorr",
    "MultiRPN",
    "Refine",
    "UPChannelRPN",
    "xcorr_depthwise",
    "xcorr_fast",
    "xcorr_slow",
]
