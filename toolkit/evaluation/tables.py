"""PySOT's printed tables of an evaluation report (:func:`.aggregate.evaluate`), byte for byte.

``format_tables(report, show_video_level)`` gives exactly what PySOT's ``tools/eval.py`` prints:
the same tables, the same tracker order (best first, at most :data:`TOP_TRACKERS`) and, for fewer
than :data:`MAX_VIDEO_LEVEL_TRACKERS` trackers, the video-level table with PySOT's ANSI colours
(values beyond the highlight thresholds in red). The three kinds of table (OPE, VOT, long-term)
share two helpers: :func:`summary_table` and :func:`video_level_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from colorama import Fore, Style

#: Datasets whose table shows normalised precision (PySOT computes it only for LaSOT and prints 0
#: elsewhere, kept for its benchmarks; the synthetic benchmarks have no PySOT table to match).
NORM_PRECISION_DATASETS = ("LaSOT", "SYNTH")
#: PySOT prints at most this many trackers in the main table (best first) ...
TOP_TRACKERS = 20
#: ... and the video-level table only for fewer trackers than this.
MAX_VIDEO_LEVEL_TRACKERS = 10
#: Highlight thresholds of PySOT's video-level tables (values below are printed red).
OPE_HIGHLIGHT, VOT_HIGHLIGHT, LT_HIGHLIGHT = 0.6, 0.5, 0.5


class Column(NamedTuple):
    """One value column of a table: its header, its width, the format of a value (``'.3f'``) and,
    in video-level tables, whether a value is printed red."""

    header: str
    width: int
    spec: str = ".3f"
    red: Callable[[float], bool] | None = None


def _below(threshold: float) -> Callable[[float], bool]:
    return lambda value: value < threshold


def _red(text: str) -> str:
    return f"{Fore.RED}{text}{Style.RESET_ALL}"


def _best_first(scores: Mapping[str, float]) -> list[str]:
    return [k for k, _ in sorted(scores.items(), key=lambda x: x[1], reverse=True)[:TOP_TRACKERS]]


def _name_len(names: Iterable[str]) -> int:
    return max(max(len(x) for x in names) + 2, 12)


def summary_table(
    trackers: Mapping[str, Any],
    name_header: str,
    columns: Sequence[Column],
    rank_by: str,
    values: Callable[[Mapping[str, Any]], Sequence[float]],
) -> list[str]:
    """PySOT's main table: one row per tracker (best ``rank_by`` first), centred cells between
    ``|``, a rule above and below the header and at the end."""
    n = _name_len(trackers)
    header = ("|{:^" + str(n) + "}|").format(name_header) + "".join(
        ("{:^" + str(c.width) + "}|").format(c.header) for c in columns
    )
    formatter = "|{:^" + str(n) + "}|" + "".join("{:^" + str(c.width) + c.spec + "}|" for c in columns)
    lines = ["-" * len(header), header, "-" * len(header)]
    for name in _best_first({k: v[rank_by] for k, v in trackers.items()}):
        lines.append(formatter.format(name, *values(trackers[name])))
    lines.append("-" * len(header))
    return lines


def video_level_table(
    report: Mapping[str, Any],
    video_width: int,
    columns: Sequence[Column],
    values: Callable[[Mapping[str, Any], str], Sequence[float]],
) -> list[str]:
    """PySOT's video-level table (preceded by three empty lines): a header row of tracker names, a
    header row of column names per tracker, then one row per video with ``values(result, video)``
    of every tracker, red where ``column.red(value)``."""
    trk = report["trackers"]
    tracker_width = sum(c.width for c in columns) + len(columns) - 1
    header1 = ("|{:^" + str(video_width) + "}|").format("Tracker name")
    header2 = ("|{:^" + str(video_width) + "}|").format("Video name")
    for name in trk:
        header1 += ("{:^" + str(tracker_width) + "}|").format(name)
        header2 += "".join(("{:^" + str(c.width) + "}|").format(c.header) for c in columns)
    bar = "-" * len(header1)
    lines = [""] * 3 + [bar, header1, bar, header2, bar]
    for video in report["videos"]:
        row = ("|{:^" + str(video_width) + "}|").format(video)
        for name in trk:
            for column, value in zip(columns, values(trk[name], video)):
                text = ("{:^" + str(column.width) + column.spec + "}").format(value)
                row += (_red(text) if column.red is not None and column.red(value) else text) + "|"
        lines.append(row)
    lines.append(bar)
    return lines


def _with_video_level(report: Mapping[str, Any], show_video_level: bool) -> bool:
    return show_video_level and len(report["trackers"]) < MAX_VIDEO_LEVEL_TRACKERS


def format_ope_table(report: Mapping[str, Any], show_video_level: bool = False) -> list[str]:
    """PySOT's ``OPEBenchmark.show_result`` lines."""
    with_norm = report["dataset"] in NORM_PRECISION_DATASETS
    lines = summary_table(
        report["trackers"],
        "Tracker name",
        [Column("Success", 9), Column("Norm Precision", 16), Column("Precision", 11)],
        "success_auc",
        lambda r: (r["success_auc"], r["norm_precision_at_0.20"] if with_norm else 0, r["precision_at_20px"]),
    )
    if _with_video_level(report, show_video_level):
        below = _below(OPE_HIGHLIGHT)
        lines += video_level_table(
            report,
            21,
            [Column("success", 9, red=below), Column("precision", 11, red=below)],
            lambda r, video: (r["per_video_success_auc"][video], r["per_video_mean_precision"][video]),
        )
    return lines


def format_vot_table(report: Mapping[str, Any], show_video_level: bool = False) -> list[str]:
    """PySOT's ``AccuracyRobustnessBenchmark.show_result`` lines (with EAO).

    Under the official convention (``report["protocol"] == "vot"``) the robustness column is headed
    ``R``, the official toolkit's symbol for its quantity (length-weighted mean failures per
    sequence), which is not PySOT's "Robustness" (failures per 100 frames).
    """
    official = report.get("protocol") == "vot"
    lines = summary_table(
        report["trackers"],
        "Tracker Name",
        [
            Column("Accuracy", 10),
            Column("R" if official else "Robustness", 12),
            Column("Lost Number", 13, ".1f"),
            Column("EAO", 7),
        ],
        "eao",
        lambda r: (r["accuracy"], r["robustness"], r["lost_number"], r["eao"]),
    )
    if _with_video_level(report, show_video_level):
        lines += video_level_table(
            report,
            14,
            [Column("Acc", 8, red=_below(VOT_HIGHLIGHT)), Column("LN", 8, red=lambda v: v > 0)],
            _vot_video_values,
        )
    return lines


def _vot_video_values(res: Mapping[str, Any], video: str) -> tuple[float, float]:
    if "per_video_lost_number" in res:
        return res["per_video_accuracy"][video], res["per_video_lost_number"][video]
    per_video = res["per_video"][video]  # the official convention's layout
    return per_video["accuracy"], per_video["failures"]


def format_longterm_table(report: Mapping[str, Any], show_video_level: bool = False) -> list[str]:
    """PySOT's ``F1Benchmark.show_result`` lines."""
    lines = summary_table(
        report["trackers"],
        "Tracker Name",
        [Column("Precision", 11), Column("Recall", 8), Column("F1", 7)],
        "f1",
        lambda r: (r["precision"], r["recall"], r["f1"]),
    )
    if _with_video_level(report, show_video_level):
        below = _below(LT_HIGHLIGHT)
        lines += video_level_table(
            report,
            14,
            [Column("Precision", 11, red=below), Column("Recall", 8, red=below), Column("F1", 7, red=below)],
            lambda r, video: (
                r["per_video_precision"][video],
                r["per_video_recall"][video],
                r["per_video_max_f1"][video],
            ),
        )
    return lines


def format_tables(report: Mapping[str, Any], show_video_level: bool = False) -> str:
    """The tables PySOT's ``tools/eval.py`` prints for this report, as one string (ends in ``\\n``)."""
    kind = report["kind"]
    if kind in ("ope", "got10k"):
        lines = format_ope_table(report, show_video_level)
    elif kind == "vot":
        lines = format_vot_table(report, show_video_level)
    else:
        lines = format_longterm_table(report, show_video_level)
    return "\n".join(lines) + "\n"
