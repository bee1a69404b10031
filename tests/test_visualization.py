"""Plots (toolkit/visualization): every drawer writes a valid, non-blank PNG where it says it does."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from toolkit.visualization import (
    draw_ar,
    draw_eao_per_tag,
    draw_eao_ranking,
    draw_expected_overlap_curves,
    draw_f1,
    draw_report,
    draw_success_precision,
)
from toolkit.visualization.draw_utils import safe_name, style

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path, min_side=200):
    """A PNG file whose pixels are not all one colour (axes, curves and text were drawn)."""
    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) >= min_side
    rgb = image[..., :3].reshape(-1, 3)
    # white background plus black text plus coloured curves: many distinct colours
    assert len(np.unique(np.round(rgb * 255).astype(np.uint8), axis=0)) > 20
    assert not list(path.parent.glob(f".{path.name}.*.tmp"))  # atomic write left nothing behind


def _ope_curves(rng, trackers, videos, length, decreasing):
    out = {}
    for t in trackers:
        out[t] = {}
        for v in videos:
            curve = np.sort(rng.uniform(0, 1, length))
            out[t][v] = (curve[::-1] if decreasing else curve).tolist()
    return out


def test_success_precision_plots_files_and_legend_order(tmp_path):
    rng = np.random.default_rng(0)
    videos = ["v1", "v2", "v3"]
    success = _ope_curves(rng, ["trkB", "trkA"], videos, 21, decreasing=True)
    precision = _ope_curves(rng, ["trkB", "trkA"], videos, 51, decreasing=False)
    paths = draw_success_precision(success, "OTB100", videos, "ALL", tmp_path / "plots",
                                   precision=precision, norm_precision=precision, bold_name="trkA")
    assert [p.name for p in paths] == ["OTB100_ALL_success.png", "OTB100_ALL_precision.png",
                                       "OTB100_ALL_norm_precision.png"]
    for p in paths:
        _assert_png(p)
    # attribute subsets average only their videos; the file name carries a file-safe attribute
    paths = draw_success_precision(success, "LaSOT", ["v2"], "Fast Motion", tmp_path)
    assert [p.name for p in paths] == ["LaSOT_Fast_Motion_success.png"]
    _assert_png(paths[0])
    with pytest.raises(KeyError, match="tracker 'trkB' has no curve for videos \\['v9'\\]"):
        draw_success_precision(success, "OTB100", ["v9"], "ALL", tmp_path)


def test_vot_plots(tmp_path):
    eao = {"trkA": 0.499, "trkB": 0.356, "trkC": float("nan")}
    _assert_png(draw_eao_ranking(eao, "VOT2018", tmp_path))
    curves = {"trkA": np.linspace(1, 0.3, 450), "trkB": np.linspace(0.9, 0.2, 271), "trkC": np.zeros(10)}
    path = draw_expected_overlap_curves(curves, "VOT2018", tmp_path, interval=(100, 356))
    assert path.name == "VOT2018_expected_overlap.png"
    _assert_png(path)
    tags = {"trkA": {"all": 0.5, "occlusion": 0.4, "camera_motion": 0.55},
            "trkB": {"all": 0.35, "occlusion": 0.6, "camera_motion": 0.45}}
    _assert_png(draw_eao_per_tag(tags, "VOT2018", tmp_path))
    path = draw_ar({"trkA": 0.757, "trkB": 0.711}, {"trkA": 0.876, "trkB": 0.818}, "VOT2018", tmp_path)
    assert path.name == "VOT2018_ar.png"
    _assert_png(path)
    with pytest.raises(KeyError, match="different trackers: \\['trkB'\\]"):
        draw_ar({"trkA": 0.7, "trkB": 0.6}, {"trkA": 0.8}, "VOT2018", tmp_path)


def test_precision_recall_plot(tmp_path):
    recall = {"trkA": np.linspace(0, 0.8, 50), "trkB": np.linspace(0, 0.6, 50)}
    precision = {"trkA": np.linspace(0.9, 0.5, 50), "trkB": np.linspace(0.8, 0.4, 50)}
    _assert_png(draw_f1(precision, recall, {"trkA": 0.62, "trkB": 0.5}, "VOT2018-LT", tmp_path))


def test_draw_report_dispatches_on_kind(tmp_path):
    report = {
        "kind": "vot", "protocol": "vot", "dataset": "VOT2018",
        "trackers": {
            "trkA": {"accuracy": 0.75, "ar_robustness": 0.88, "robustness": 1.8, "eao": 0.5,
                     "eao_curve": np.linspace(0.8, 0.3, 400).tolist(), "eao_interval": [100, 356]},
            "trkB": {"accuracy": 0.71, "ar_robustness": 0.82, "robustness": 2.7, "eao": 0.42,
                     "eao_curve": np.linspace(0.7, 0.3, 300).tolist(), "eao_interval": [100, 356]},
        },
    }
    paths = draw_report(report, tmp_path)
    # the official convention has no tags: AR, ranking and curves only
    assert [p.name for p in paths] == ["VOT2018_ar.png", "VOT2018_eao_ranking.png",
                                       "VOT2018_expected_overlap.png"]
    videos = ["v1", "v2"]
    rng = np.random.default_rng(1)
    per_video = {
        "per_video_success_curve": _ope_curves(rng, ["trkA"], videos, 21, decreasing=True)["trkA"],
        "per_video_precision_curve": _ope_curves(rng, ["trkA"], videos, 51, decreasing=False)["trkA"],
        "per_video_norm_precision_curve": _ope_curves(rng, ["trkA"], videos, 51, decreasing=False)["trkA"],
    }
    ope_report = {"kind": "ope", "dataset": "OTB100", "videos": videos, "trackers": {"trkA": per_video},
                  "attributes": {"ALL": videos, "IV": ["v1"], "OCC": []}}
    paths = draw_report(ope_report, tmp_path / "ope")
    # "ALL" once (PySOT lists it among the attributes too), IV, and no plot for the empty OCC
    assert sorted(p.name for p in paths) == sorted(
        f"OTB100_{a}_{k}.png" for a in ("ALL", "IV") for k in ("success", "precision", "norm_precision"))
    with pytest.raises(ValueError, match="no plots for report kind 'nope'"):
        draw_report({"kind": "nope"}, tmp_path)


def test_style_and_names():
    # PySOT's order first: red solid, green dashed, magenta dotted; the 12th tracker is red dashed
    assert [style(i)[:2] for i in (0, 1, 2, 11)] == [((1, 0, 0), "-"), ((0, 1, 0), "--"), ((1, 0, 1), ":"),
                                                   ((1, 0, 0), "--")]
    assert safe_name("Fast Motion/Blur") == "Fast_Motion_Blur"
