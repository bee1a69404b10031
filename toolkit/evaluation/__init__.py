"""Tracking metrics, numerically identical to PySOT's toolkit (without its Cython extension).

Modules (pure functions on ``(N, 4)`` xywh arrays or VOT region lists, no file I/O):

* :mod:`.region` - the VOT C library's rasterised region overlap, in numba;
* :mod:`.ope` - success, precision and normalised precision (OTB / LaSOT / UAV ...);
* :mod:`.ar` - VOT accuracy and robustness; :mod:`.eao` - expected average overlap;
* :mod:`.f1` - long-term precision / recall / F1;
* :mod:`.vot_official` - the official VOT toolkit's AR and EAO (``tools/eval.py --convention vot``).

The report on result folders (these read files; the modules above do not):

* :mod:`.aggregate` - reads result folders, computes every metric per tracker and video;
* :mod:`.tables` - PySOT's printed tables; :mod:`.json_report` - the JSON report;
* :mod:`.report` - the three in one import (what ``tools/eval.py`` uses).

The fast paths behind :mod:`.aggregate` (the same bits as the per-video reference code, tested):
:mod:`.fastread` (every result file of a tracker parsed in one numba call), :mod:`.fastpath` (the
compiled VOT span overlaps and OPE histograms), :mod:`.opebatch` (OPE curves of all videos at once,
compiled or, for small evaluations, numpy without importing numba).

The generated benchmark set that times all this is :mod:`toolkit.bench`.
"""
