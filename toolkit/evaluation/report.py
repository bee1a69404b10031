"""Evaluation of result folders, as ``tools/eval.py`` runs it: one import for the three jobs.

* :mod:`.aggregate` - reads the result files, computes the metrics per tracker and video (a worker
  pool over trackers) and returns the report dict (:func:`evaluate`, :func:`evaluate_tracker`, ...);
* :mod:`.tables` - PySOT's printed tables of a report, byte for byte (:func:`format_tables`);
* :mod:`.json_report` - the report as deterministic JSON (:func:`report_json`).

The scoring convention (``convention='pysot'`` or ``'vot'``) is an argument of :func:`evaluate`;
``Dataset.protocol`` (``ope`` / ``vot`` / ``longterm`` / ``got10k``) says how the results were run.
"""

from __future__ import annotations

from .aggregate import (
    CONVENTIONS,
    REPORT_VERSION,
    VOT_REPETITIONS,
    MissingResultsError,
    check_complete,
    evaluate,
    evaluate_longterm_tracker,
    evaluate_ope_tracker,
    evaluate_tracker,
    evaluate_vot_official_tracker,
    evaluate_vot_tracker,
    vot_interval,
)
from .json_report import report_json
from .tables import format_longterm_table, format_ope_table, format_tables, format_vot_table

__all__ = [
    "CONVENTIONS",
    "REPORT_VERSION",
    "VOT_REPETITIONS",
    "MissingResultsError",
    "check_complete",
    "evaluate",
    "evaluate_longterm_tracker",
    "evaluate_ope_tracker",
    "evaluate_tracker",
    "evaluate_vot_official_tracker",
    "evaluate_vot_tracker",
    "format_longterm_table",
    "format_ope_table",
    "format_tables",
    "format_vot_table",
    "report_json",
    "vot_interval",
]
