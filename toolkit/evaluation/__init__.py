"""Tracking metrics, numerically identical to PySOT's toolkit (without its Cython extension).

Modules (pure functions on ``(N, 4)`` xywh arrays or VOT region lists, no file I/O):

* :mod:`.region` - the VOT C library's rasterised region overlap, in numba;
* :mod:`.ope` - success, precision and normalised precision (OTB / LaSOT / UAV ...);
* :mod:`.ar` - VOT accuracy and robustness; :mod:`.eao` - expected average overlap;
* :mod:`.f1` - long-term precision / recall / F1;
* :mod:`.vot_official` - the official VOT toolkit's AR and EAO (``tools/eval.py --protocol vot``);
* :mod:`.report` - reads result folders, evaluates trackers, prints PySOT's tables, writes JSON.
"""
