"""toolkit.datasets: every benchmark's PySOT JSON format and the native VOT / OTB folder layouts,
on tiny fixture datasets written by the tests (a few frames of small images)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

from toolkit.datasets import DATASETS, DatasetFormatError, build_dataset, default_dataset_root

W, H = 24, 16  # fixture image size


def write_images(root: Path, rel_names: list[str], size: tuple[int, int] = (W, H)) -> None:
    """Write small images whose pixel value encodes the frame index (frame i -> grey level 10*i)."""
    for i, rel in enumerate(rel_names):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        img = np.full((size[1], size[0], 3), 10 * i, np.uint8)
        assert cv2.imwrite(str(path), img)


def otb_entry(video_dir: str, n: int, attr: list[str], ext: str = "jpg") -> dict:
    names = [f"{video_dir}/img/{i + 1:04d}.{ext}" for i in range(n)]
    gt = [[1 + i, 2, 5, 4] for i in range(n)]
    return {"video_dir": video_dir, "init_rect": gt[0], "img_names": names, "gt_rect": gt, "attr": attr}


def write_json(root: Path, name: str, meta: dict, images: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for entry in meta.values():
        if images:
            write_images(root, entry["img_names"])
    path = root / f"{name}.json"
    path.write_text(json.dumps(meta))
    return path


# ---------------------------------------------------------------------------- PySOT JSON formats
def test_otb_json_order_indexing_attributes_and_lazy_images(tmp_path, monkeypatch):
    root = tmp_path / "OTB100"
    write_json(
        root, "OTB100", {"Zeta": otb_entry("Zeta", 3, ["IV", "SV"]), "Alpha": otb_entry("Alpha", 2, ["SV"])}
    )
    # images are resolved against the dataset root, never the working directory
    monkeypatch.chdir(tmp_path)
    ds = build_dataset("OTB100", "OTB100")
    monkeypatch.chdir("/")
    assert ds.protocol == "ope"
    assert ds.names == ["Alpha", "Zeta"]  # sorted, not file order
    assert [s.name for s in ds] == ["Alpha", "Zeta"]
    assert ds[1] is ds["Zeta"]
    assert ds.attr == {"ALL": ["Alpha", "Zeta"], "SV": ["Alpha", "Zeta"], "IV": ["Zeta"]}
    assert ds.tags == []
    seq = ds["Zeta"]
    assert len(seq) == 3
    assert seq.img_names[2] == str(root / "Zeta/img/0003.jpg")
    assert (seq.width, seq.height) == (W, H)
    np.testing.assert_array_equal(seq.init_rect, [1, 2, 5, 4])
    assert seq.gt_traj.shape == (3, 4)
    img, gt = seq[2]
    assert img.shape == (H, W, 3) and img.dtype == np.uint8
    assert abs(int(img[0, 0, 0]) - 20) <= 2  # frame 2 was written with grey level 20 (JPEG rounding)
    np.testing.assert_array_equal(gt, [3, 2, 5, 4])
    frames = list(seq.frames())
    assert len(frames) == 3
    np.testing.assert_array_equal(frames[1][1], [2, 2, 5, 4])
    assert seq.attr == ["IV", "SV"] and seq.tags == {} and seq.absent is None
    sub = ds.select(["Zeta"])
    assert sub.names == ["Zeta"] and sub.attr == {"ALL": ["Zeta"], "IV": ["Zeta"], "SV": ["Zeta"]}
    with pytest.raises(KeyError, match="Nope"):
        ds["Nope"]
    with pytest.raises(KeyError, match="Nope"):
        ds.select(["Nope"])


def test_json_img_names_relative_or_absolute(tmp_path):
    root = tmp_path / "OTB100"
    entry = otb_entry("Car", 3, ["IV"])
    write_json(root, "OTB100", {"Car": entry})
    # one absolute name among relative ones (a JSON written for another machine's layout): each
    # name is joined to the dataset root as os.path.join does, the absolute one kept as it is
    outside = tmp_path / "elsewhere" / "0002.jpg"
    write_images(tmp_path / "elsewhere", ["0002.jpg"])
    entry["img_names"][1] = str(outside)
    (root / "OTB100.json").write_text(json.dumps({"Car": entry}))
    video = build_dataset("OTB100", root)["Car"]
    assert video.img_names == [str(root / "Car/img/0001.jpg"), str(outside), str(root / "Car/img/0003.jpg")]


def test_otb50_and_cvpr13_are_subsets_of_otb100_json(tmp_path):
    root = tmp_path / "OTB100"
    # Biker is only in OTB50, Boy only in CVPR13, Basketball in both, Alpha in neither
    meta = {v: otb_entry(v, 1, []) for v in ("Basketball", "Biker", "Boy", "Alpha")}
    write_json(root, "OTB100", meta)
    assert build_dataset("OTB50", root).names == ["Basketball", "Biker"]
    assert build_dataset("CVPR13", root).names == ["Basketball", "Boy"]
    assert build_dataset("OTB100", root).names == ["Alpha", "Basketball", "Biker", "Boy"]


def vot_entry(video_dir: str, n: int, legacy: bool = False) -> dict:
    names = [
        f"{video_dir}/{i + 1:08d}.jpg" if legacy else f"{video_dir}/color/{i + 1:08d}.jpg" for i in range(n)
    ]
    gt = [[2.5 + i, 1.0, 2.5 + i, 9.0, 12.5 + i, 9.0, 12.5 + i, 1.0] for i in range(n)]
    tag = {
        "camera_motion": [1, 0, 0, 0],
        "illum_change": [0, 0, 0, 0],
        "motion_change": [0, 1, 0, 0],
        "size_change": [0, 0, 0, 0],
        "occlusion": [1, 0, 0, 0],
    }
    return {
        "video_dir": video_dir,
        "init_rect": [2.5, 1.0, 10.0, 8.0],
        "img_names": names,
        "gt_rect": gt,
        **tag,
    }


@pytest.mark.parametrize("name", ["VOT2016", "VOT2018", "VOT2019"])
def test_vot_json_polygons_and_tags(tmp_path, name):
    root = tmp_path / name
    write_json(root, name, {"ants": vot_entry("ants", 4), "bag": vot_entry("bag", 4, legacy=True)})
    ds = build_dataset(name, root)
    assert ds.protocol == "vot"
    assert ds.tags == [
        "all", "camera_motion", "illum_change", "motion_change", "size_change", "occlusion", "empty",
    ]  # fmt: skip
    seq = ds["ants"]
    assert seq.gt_traj.shape == (4, 8)
    np.testing.assert_array_equal(seq.gt_traj[1], [3.5, 1, 3.5, 9, 13.5, 9, 13.5, 1])
    np.testing.assert_array_equal(seq.tags["all"], [1, 1, 1, 1])
    # frame 0 has camera_motion+occlusion, frame 1 motion_change, frames 2 and 3 no tag at all
    np.testing.assert_array_equal(seq.tags["empty"], [0, 0, 1, 1])
    np.testing.assert_array_equal(seq.tags["occlusion"], [1, 0, 0, 0])
    assert ds["bag"].img_names[0].endswith("bag/00000001.jpg")
    assert (seq.width, seq.height) == (W, H)


def test_vot_json_with_images_relative_to_video_dir(tmp_path):
    # older PySOT VOT files list images relative to video_dir ("color/00000001.jpg")
    root = tmp_path / "VOT2018"
    entry = vot_entry("ants", 4)
    write_images(root, entry["img_names"])
    entry["img_names"] = [n[len("ants/") :] for n in entry["img_names"]]
    (root / "VOT2018.json").write_text(json.dumps({"ants": entry}))
    seq = build_dataset("VOT2018", root)["ants"]
    assert seq.img_names[3] == str(root / "ants/color/00000004.jpg")
    assert seq[3][0].shape == (H, W, 3)


def test_vot_json_short_and_empty_tag_lists_count_as_zero(tmp_path):
    root = tmp_path / "VOT2019"
    entry = vot_entry("ants", 4)
    entry["camera_motion"] = []
    entry["occlusion"] = [1]
    write_json(root, "VOT2019", {"ants": entry})
    seq = build_dataset("VOT2019", root)["ants"]
    np.testing.assert_array_equal(seq.tags["camera_motion"], [0, 0, 0, 0])
    np.testing.assert_array_equal(seq.tags["occlusion"], [1, 0, 0, 0])
    np.testing.assert_array_equal(seq.tags["empty"], [0, 0, 1, 1])


def test_vot2018_lt_json_keeps_nan_gaps(tmp_path):
    root = tmp_path / "VOT2018-LT"
    names = [f"lt1/color/{i + 1:08d}.jpg" for i in range(4)]
    gt = [[1, 2, 5, 4], [float("nan")] * 4, [float("nan")] * 4, [2, 2, 5, 4]]
    # json.dumps writes NaN literally, as PySOT's VOT2018-LT.json does
    write_json(
        root,
        "VOT2018-LT",
        {"lt1": {"video_dir": "lt1", "init_rect": gt[0], "img_names": names, "gt_rect": gt}},
    )
    ds = build_dataset("VOT2018-LT", root)
    assert ds.protocol == "longterm"
    seq = ds["lt1"]
    assert np.isnan(seq.gt_traj[1:3]).all()
    np.testing.assert_array_equal(seq.gt_traj[3], [2, 2, 5, 4])


def test_lasot_json_absent_flags_and_new_json_name(tmp_path):
    root = tmp_path / "LaSOT"
    entry = otb_entry("cat/cat-1", 3, ["POC"])
    entry["img_names"] = [f"cat/cat-1/img/{i + 1:08d}.jpg" for i in range(3)]
    entry["absent"] = [1, 0, 1]
    write_images(root, entry["img_names"])
    # PySOT also names the file LaSOT_new.json
    (root / "LaSOT_new.json").write_text(json.dumps({"cat-1": entry}))
    ds = build_dataset("LaSOT", root)
    seq = ds["cat-1"]
    assert seq.absent.dtype == np.int8
    np.testing.assert_array_equal(seq.absent, [1, 0, 1])
    assert ds.attr == {"ALL": ["cat-1"], "POC": ["cat-1"]}
    assert seq.video_dir == "cat/cat-1"


@pytest.mark.parametrize("name", ["UAV123", "UAV20L", "NFS30", "NFS240"])
def test_ope_json_benchmarks(tmp_path, name):
    root = tmp_path / name
    entry = otb_entry("car1", 3, ["SV"] if name.startswith("UAV") else [])
    if name.startswith("NFS"):
        del entry["attr"]  # PySOT's NFS files carry no attributes
    write_json(root, name, {"car1": entry})
    ds = build_dataset(name, root)
    assert ds.protocol == "ope" and ds.names == ["car1"] and len(ds["car1"]) == 3
    assert ds["car1"].attr == (["SV"] if name.startswith("UAV") else [])


@pytest.mark.parametrize(("name", "protocol"), [("GOT-10k", "got10k"), ("TrackingNet", "ope")])
def test_test_splits_with_first_frame_annotation_only(tmp_path, name, protocol):
    root = tmp_path / name
    entry = otb_entry("GOT-10k_Test_000001", 3, [])
    entry["gt_rect"] = entry["gt_rect"][:1]
    write_json(root, name, {"GOT-10k_Test_000001": entry})
    ds = build_dataset(name, root)
    seq = ds[0]
    assert ds.protocol == protocol
    assert seq.gt_traj.shape == (3, 4)
    np.testing.assert_array_equal(seq.gt_traj[0], [1, 2, 5, 4])
    assert np.isnan(seq.gt_traj[1:]).all()


# ---------------------------------------------------------------------------- native layouts
def write_vot_native(root: Path, seq: str, gt_lines: list[str], color: bool = True, tags: dict | None = None):
    folder = root / seq / "color" if color else root / seq
    write_images(folder, [f"{i + 1:08d}.jpg" for i in range(len(gt_lines))])
    (root / seq / "groundtruth.txt").write_text("\n".join(gt_lines) + "\n")
    for tag, values in (tags or {}).items():
        (root / seq / f"{tag}.tag").write_text("\n".join(map(str, values)) + "\n")


def test_vot_native_layout_color_and_legacy_frames_and_tags(tmp_path):
    root = tmp_path / "VOT2018"
    write_vot_native(
        root,
        "ants",
        ["1,1,1,9,11,9,11,1", "2,1,2,9,12,9,12,1", "3,1,3,9,13,9,13,1"],
        tags={"occlusion": [0, 1]},
    )
    write_vot_native(root, "bag", ["1,2,5,4", "2,2,5,4"], color=False)
    (root / "list.txt").write_text("bag\nants\n")
    ds = build_dataset("VOT2018", root)
    assert ds.names == ["ants", "bag"] and ds.protocol == "vot"
    ants = ds["ants"]
    assert ants.gt_traj.shape == (3, 8)
    np.testing.assert_array_equal(ants.init_rect, [1, 1, 10, 8])  # bounding box of the first polygon
    np.testing.assert_array_equal(ants.tags["occlusion"], [0, 1, 0])  # short tag file padded with 0
    np.testing.assert_array_equal(ants.tags["camera_motion"], [0, 0, 0])  # missing tag file -> zeros
    np.testing.assert_array_equal(ants.tags["empty"], [1, 0, 1])
    assert ants.img_names[0] == str(root / "ants/color/00000001.jpg")
    bag = ds["bag"]
    assert bag.img_names[1] == str(root / "bag/00000002.jpg") and bag.gt_traj.shape == (2, 4)
    assert (bag.width, bag.height) == (W, H)


def test_vot_native_without_list_txt_uses_sorted_folders(tmp_path):
    root = tmp_path / "VOT2016"
    write_vot_native(root, "b", ["1,2,5,4"])
    write_vot_native(root, "a", ["1,2,5,4"])
    assert build_dataset("VOT2016", root).names == ["a", "b"]


def test_vot_lt_native_nan_lines(tmp_path):
    root = tmp_path / "VOT2018-LT"
    write_vot_native(root, "lt1", ["1,2,5,4", "nan,nan,nan,nan", "2,2,5,4"])
    (root / "list.txt").write_text("lt1\n")
    ds = build_dataset("VOT2018-LT", root)
    assert ds.protocol == "longterm" and ds["lt1"].tags == {}
    gt = ds["lt1"].gt_traj
    assert np.isnan(gt[1]).all() and gt[2][0] == 2


def test_otb_native_layout_separators_and_two_target_videos(tmp_path):
    root = tmp_path / "OTB100"
    write_images(root / "Boy" / "img", ["0001.jpg", "0002.jpg"])
    (root / "Boy" / "groundtruth_rect.txt").write_text("1,2,5,4\n2,2,5,4\n\n")
    write_images(root / "Jogging" / "img", ["0001.jpg", "0002.jpg"])
    (root / "Jogging" / "groundtruth_rect.1.txt").write_text("1\t2\t5\t4\n2\t2\t5\t4\n")
    (root / "Jogging" / "groundtruth_rect.2.txt").write_text("3 4 5 4\n3 5 5 4\n")
    ds = build_dataset("OTB100", root)
    assert ds.names == ["Boy", "Jogging-1", "Jogging-2"]
    np.testing.assert_array_equal(ds["Jogging-2"].gt_traj, [[3, 4, 5, 4], [3, 5, 5, 4]])
    np.testing.assert_array_equal(ds["Jogging-1"].gt_traj[1], [2, 2, 5, 4])
    assert ds["Jogging-1"].img_names == ds["Jogging-2"].img_names
    assert ds.attr == {"ALL": ["Boy", "Jogging-1", "Jogging-2"]}


# ---------------------------------------------------------------------------- errors
def test_unknown_dataset_lists_known_names(tmp_path):
    with pytest.raises(KeyError, match="unknown dataset 'OTB2099'.*OTB100.*VOT2018-LT.*SYNTH-VOT"):
        build_dataset("OTB2099", tmp_path)


def test_missing_dataset_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset folder not found"):
        build_dataset("VOT2018", tmp_path / "nowhere")


def test_native_gt_line_with_wrong_number_of_values_names_file_and_line(tmp_path):
    root = tmp_path / "VOT2018"
    write_vot_native(root, "ants", ["1,2,5,4", "1,2,5,4", "1,2,5"])
    with pytest.raises(DatasetFormatError, match=r"ants/groundtruth.txt:3: 3 values, expected 4 or 8"):
        build_dataset("VOT2018", root)
    root = tmp_path / "OTB100"
    write_images(root / "Boy" / "img", ["0001.jpg", "0002.jpg"])
    (root / "Boy" / "groundtruth_rect.txt").write_text("1,2,5,4\n1,2,x,4\n")
    with pytest.raises(DatasetFormatError, match=r"Boy/groundtruth_rect.txt:2: not a list of numbers"):
        build_dataset("OTB100", root)


def test_json_gt_row_with_wrong_number_of_values_names_file_video_and_row(tmp_path):
    root = tmp_path / "OTB100"
    entry = otb_entry("Boy", 3, [])
    entry["gt_rect"][1] = [1, 2, 3]
    write_json(root, "OTB100", {"Boy": entry})
    with pytest.raises(DatasetFormatError, match=r"OTB100.json: video Boy: gt_rect\[1\] has 3 values"):
        build_dataset("OTB100", root)


def test_image_and_gt_count_mismatch(tmp_path):
    root = tmp_path / "OTB100"
    entry = otb_entry("Boy", 3, [])
    entry["img_names"] = entry["img_names"][:2]
    write_json(root, "OTB100", {"Boy": entry})
    with pytest.raises(DatasetFormatError, match="video Boy: 2 img_names but 3 gt_rect rows"):
        build_dataset("OTB100", root)
    root = tmp_path / "VOT2018"
    write_vot_native(root, "ants", ["1,2,5,4", "1,2,5,4"])
    (root / "ants" / "color" / "00000002.jpg").unlink()
    with pytest.raises(DatasetFormatError, match="video ants: 1 images in .*ants/color but 2 lines"):
        build_dataset("VOT2018", root)


def test_trailing_unannotated_images_are_dropped_as_pysot_evaluates_them(tmp_path, caplog):
    # LaSOT's monkey-17 lists more images than annotations; PySOT cuts results to the annotation
    root = tmp_path / "LaSOT"
    entry = otb_entry("monkey/monkey-17", 4, ["POC"])
    entry["gt_rect"] = entry["gt_rect"][:3]
    entry["absent"] = [1, 1, 0, 1]
    write_json(root, "LaSOT", {"monkey-17": entry})
    seq = build_dataset("LaSOT", root)["monkey-17"]
    assert len(seq) == 3 and seq.gt_traj.shape == (3, 4)
    np.testing.assert_array_equal(seq.absent, [1, 1, 0])
    assert "4 img_names but 3 gt_rect rows; the 1 unannotated trailing frames are dropped" in caplog.text


def test_missing_images_name_the_file(tmp_path):
    root = tmp_path / "OTB100"
    write_json(root, "OTB100", {"Boy": otb_entry("Boy", 3, [])})
    (root / "Boy/img/0002.jpg").unlink()
    seq = build_dataset("OTB100", root)["Boy"]
    with pytest.raises(FileNotFoundError, match=r"video Boy: frame 1: image not found: .*Boy/img/0002.jpg"):
        list(seq.frames())
    (root / "Boy/img/0001.jpg").unlink()
    with pytest.raises(DatasetFormatError, match=r"video Boy: image not found: .*Boy/img/0001.jpg"):
        build_dataset("OTB100", root)


# ---------------------------------------------------------------------------- synthetic + roots
def test_synthetic_generated_on_request_through_the_generator(tmp_path, monkeypatch):
    calls = []

    def fake_generate(name, root, seed=0):
        # writes a one-video OTB-format benchmark, as the real generator writes SYNTH
        calls.append((name, Path(root), seed))
        write_json(Path(root), name, {"synth-000": otb_entry("synth-000", 2, ["SV"])})

    monkeypatch.setitem(
        sys.modules, "toolkit.datasets.synthetic", types.SimpleNamespace(generate_into=fake_generate)
    )
    root = tmp_path / "SYNTH"
    with pytest.raises(FileNotFoundError, match="generate=True"):
        build_dataset("SYNTH", root)
    ds = build_dataset("SYNTH", root, generate=True, seed=7)
    assert calls == [("SYNTH", root, 7)]
    assert ds.names == ["synth-000"] and ds.protocol == "ope"
    build_dataset("SYNTH", root, generate=True)
    assert len(calls) == 1  # present now: not generated again


def test_default_dataset_root_prefers_first_existing_candidate(tmp_path):
    cwd, repo = tmp_path / "cwd", tmp_path / "repo"
    (repo / "testing_dataset" / "OTB100").mkdir(parents=True)
    # OTB50 has no folder of its own here: it is read from OTB100's folder
    assert default_dataset_root("OTB50", [cwd, repo]) == repo / "testing_dataset" / "OTB100"
    (cwd / "testing_dataset" / "OTB100").mkdir(parents=True)
    assert default_dataset_root("OTB100", [cwd, repo]) == cwd / "testing_dataset" / "OTB100"
    # nothing exists: the first candidate (where SYNTH would be generated)
    assert default_dataset_root("SYNTH", [cwd, repo]) == cwd / "testing_dataset" / "SYNTH"
    assert set(DATASETS) >= {"OTB100", "VOT2018", "VOT2018-LT", "LaSOT", "GOT-10k", "SYNTH", "SYNTH-VOT"}


def test_gt_rows_in_one_conversion_equal_the_row_by_row_conversion():
    """gt_array converts the usual equal-length rows in one np.array call; mixed, ragged and bad
    rows go row by row (the polygon conversion and the named errors): the same arrays either way."""
    from toolkit.boxes import rect_to_polygon
    from toolkit.datasets.pysot_json import gt_array

    def by_rows(rows):
        parsed = [np.asarray(r, dtype=np.float64).reshape(-1) for r in rows]
        if max(v.size for v in parsed) == 8:
            parsed = [v if v.size == 8 else rect_to_polygon(v) for v in parsed]
        return np.stack(parsed)

    cases = [
        [[1, 2, 3, 4], [5.5, 6.25, 7, 8]],
        [[1, 2, 3, 4, 5, 6, 7, 8], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]],
        [[1, 2, 3, 4], [1, 2, 3, 4, 5, 6, 7, 8]],  # mixed: rectangles become polygons
        [[None, None, None, None], [float("nan"), 1, 2, 3], [1e300, -0.0, 2, 3]],
        [[True, 2, 3, 4]],
    ]
    for rows in cases:
        got = gt_array(rows, "x.json: video v")
        np.testing.assert_array_equal(got, by_rows(rows))
        assert got.dtype == np.float64
    padded = gt_array([[1, 2, 3, 4]], "x.json: video v", num_frames=3)
    assert padded.shape == (3, 4) and np.isnan(padded[1:]).all()
    for rows, message in (
        ([[1, 2, 3]], r"gt_rect\[0\] has 3 values"),
        ([[1, 2, 3, 4], [1, 2]], r"gt_rect\[1\] has 2 values"),
        ([[1, 2, 3, 4], "abc"], r"gt_rect\[1\] is not a list of numbers"),
        ([[[1, 2], [3, 4]], [[1, 2], [3, 4]]], None),  # nested rows: flattened row by row
        ([], "empty gt_rect"),
    ):
        if message is None:
            np.testing.assert_array_equal(gt_array(rows, "w"), [[1, 2, 3, 4], [1, 2, 3, 4]])
            continue
        with pytest.raises(DatasetFormatError, match=message):
            gt_array(rows, "x.json: video v")


# ---------------------------------------------------------------------------- image size from headers
def _exif_orientation_segment(orientation: int) -> bytes:
    """A JPEG APP1 segment with a one-entry EXIF IFD: the orientation tag (0x0112)."""
    import struct

    tiff = b"MM\x00*" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    body = b"Exif\x00\x00" + tiff + struct.pack(">I", 0)
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def test_image_size_from_headers_is_what_decoding_gives(tmp_path):
    """toolkit.datasets.imagesize.header_size gives cv2.imdecode(IMREAD_COLOR)'s width and height for
    JPEG (baseline, progressive, grey, with a comment and an ICC-like APP2 segment) and PNG (colour,
    grey, 16-bit), and None where it cannot be sure (EXIF, which OpenCV may rotate by; other formats;
    truncated headers; missing files), where the sequence decodes instead."""
    from toolkit.datasets.base import Sequence
    from toolkit.datasets.imagesize import header_size

    rng = np.random.default_rng(0)
    cases = []
    for w, h in ((1, 1), (37, 23), (640, 360), (17, 301)):
        img = rng.integers(0, 255, (h, w, 3), np.uint8)
        grey = img[..., 0]
        encoded = {
            "base.jpg": cv2.imencode(".jpg", img)[1].tobytes(),
            "prog.jpg": cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes(),
            "grey.jpg": cv2.imencode(".jpg", grey)[1].tobytes(),
            "rgb.png": cv2.imencode(".png", img)[1].tobytes(),
            "grey16.png": cv2.imencode(".png", grey.astype(np.uint16) * 257)[1].tobytes(),
        }
        jpg = encoded["base.jpg"]
        comment = b"\xff\xfe\x00\x07hello"
        app2 = b"\xff\xe2" + (4002).to_bytes(2, "big") + bytes(4000)
        encoded["segments.jpg"] = jpg[:2] + comment + app2 + b"\xff\xff" + jpg[2:]  # a fill byte too
        for name, data in encoded.items():
            path = tmp_path / f"{w}x{h}_{name}"
            path.write_bytes(data)
            cases.append((path, (w, h)))
    for path, size in cases:
        decoded = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
        assert (decoded.shape[1], decoded.shape[0]) == size
        assert header_size(path) == size, path.name
    # EXIF orientation 6: OpenCV turns the image; the header is not trusted, the sequence decodes
    img = rng.integers(0, 255, (30, 50, 3), np.uint8)
    jpg = cv2.imencode(".jpg", img)[1].tobytes()
    rotated = tmp_path / "rotated.jpg"
    rotated.write_bytes(jpg[:2] + _exif_orientation_segment(6) + jpg[2:])
    assert header_size(rotated) is None
    seq = Sequence("rot", [str(rotated)], np.array([[1.0, 1.0, 5.0, 5.0]]))
    assert (seq.width, seq.height) == (30, 50)  # as decoded: turned by 90 degrees
    bmp = tmp_path / "a.bmp"
    cv2.imwrite(str(bmp), img)
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(jpg[:20])
    png = cv2.imencode(".png", img)[1].tobytes()
    exif_png = tmp_path / "exif.png"  # an eXIf chunk before the image data (CRC not checked here)
    exif_png.write_bytes(png[:33] + (4).to_bytes(4, "big") + b"eXIfMM\x00*" + bytes(4) + png[33:])
    for path in (bmp, truncated, exif_png, tmp_path / "missing.jpg"):
        assert header_size(path) is None, path.name
    assert (Sequence("bmp", [str(bmp)], np.array([[1.0, 1.0, 5.0, 5.0]])).width) == 50
