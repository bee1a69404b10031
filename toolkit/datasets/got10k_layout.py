"""Write any of our datasets in the GOT-10k toolkit's folder layout, so that its experiments run offline.

``got10k.experiments.ExperimentGOT10k(root, subset='val')`` reads ``<root>/val/list.txt`` and, per
sequence ``<root>/val/<name>/``: the frames ``*.jpg`` (sorted by name), ``groundtruth.txt`` (one
``x,y,w,h`` rectangle per frame) and, for its report, ``meta_info.ini`` (the ``resolution`` entry
bounds the IoU) and the per-frame labels ``cover.label`` (frames with cover 0 are not scored),
``absence.label`` and ``cut_by_image.label``. :func:`write_got10k_split` writes exactly that from a
:class:`~toolkit.datasets.base.Dataset`:

* frames: symbolic links to the dataset's JPEG files (or copies), named ``00000001.jpg`` ...; a
  non-JPEG frame is an error naming it (the toolkit only reads ``*.jpg``; re-encoding would change
  the pixels);
* ground truth: rectangles as given; a polygon becomes its min-max rectangle
  (:func:`toolkit.boxes.bounding_rect`, the box PySOT's OTB-style metrics would also see); a frame
  without ground truth (NaN) stays ``nan,nan,nan,nan``;
* ``absence.label``: 1 where the ground truth is missing or has no area; ``cover.label``: 0 there and
  8 elsewhere (our datasets carry no visible ratio; GOT-10k's 8 means fully visible), so the toolkit
  scores exactly the annotated frames; ``cut_by_image.label``: 1 where the rectangle leaves the image;
* ``meta_info.ini``: ``[METAINFO]`` with ``resolution: (W, H)`` from the first frame.

Example (offline)::

    from got10k.experiments import ExperimentGOT10k
    root = write_got10k_split(build_dataset("SYNTH", "testing_dataset/SYNTH"), "got10k_synth")
    ExperimentGOT10k("got10k_synth", subset="val").run(tracker)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from toolkit.boxes import bounding_rect
from toolkit.fileio import atomic_write_text

from .base import Dataset

__all__ = ["JPEG_SUFFIXES", "write_got10k_split"]

JPEG_SUFFIXES = (".jpg", ".jpeg")
#: GOT-10k's cover class of a fully visible target (0 = fully occluded or absent).
FULLY_VISIBLE = 8


def _labels(rects: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(absence, cover, cut_by_image) per frame for rects (N, 4) in an image of ``width`` x ``height``."""
    finite = np.isfinite(rects).all(axis=1)
    present = finite & (np.nan_to_num(rects[:, 2]) > 0) & (np.nan_to_num(rects[:, 3]) > 0)
    absence = (~present).astype(np.int64)
    cover = np.where(present, FULLY_VISIBLE, 0)
    r = np.nan_to_num(rects)
    outside = (r[:, 0] < 0) | (r[:, 1] < 0) | (r[:, 0] + r[:, 2] > width) | (r[:, 1] + r[:, 3] > height)
    cut = (present & outside).astype(np.int64)
    return absence, cover, cut


def _format_rect(rect: np.ndarray) -> str:
    return ",".join("nan" if not np.isfinite(v) else repr(float(v)) for v in rect)


def write_got10k_split(
    dataset: Dataset, root: str | os.PathLike[str], subset: str = "val", link: bool = True
) -> Path:
    """Write ``dataset`` as the GOT-10k split ``<root>/<subset>/`` (see the module docstring).

    Args:
        dataset: any of our datasets (OTB-style rectangles or VOT-style polygons).
        root: the GOT-10k root to create (``ExperimentGOT10k(root, subset=subset)``).
        subset: ``'val'`` (ground truth of every frame; the toolkit reports on it) or ``'test'``.
        link: symbolic links to the frames (default) instead of copies.

    Returns the split folder. Existing sequence folders are replaced; ``list.txt`` is written last.
    """
    if subset not in ("val", "test"):
        raise ValueError(f"subset must be 'val' or 'test' (the splits ExperimentGOT10k runs), got {subset!r}")
    split = Path(root) / subset
    split.mkdir(parents=True, exist_ok=True)
    for seq in dataset:
        bad = [p for p in seq.img_names if Path(p).suffix.lower() not in JPEG_SUFFIXES]
        if bad:
            raise ValueError(f"video {seq.name}: the GOT-10k toolkit reads only *.jpg frames, got {bad[0]}")
        folder = split / seq.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        for idx, src in enumerate(seq.img_names):
            dst = folder / f"{idx + 1:08d}.jpg"
            if link:
                os.symlink(os.path.abspath(src), dst)
            else:
                shutil.copyfile(src, dst)
        rects = np.array([bounding_rect(row) for row in seq.gt_traj], dtype=np.float64)
        width, height = seq.width, seq.height
        absence, cover, cut = _labels(rects, width, height)
        atomic_write_text(folder / "groundtruth.txt", "".join(_format_rect(r) + "\n" for r in rects))
        for name, values in (("absence", absence), ("cover", cover), ("cut_by_image", cut)):
            atomic_write_text(folder / f"{name}.label", "".join(f"{int(v)}\n" for v in values))
        atomic_write_text(
            folder / "meta_info.ini",
            f"[METAINFO]\nobject_class: target\nresolution: ({width}, {height})\nsource: {dataset.name}\n",
        )
    atomic_write_text(split / "list.txt", "".join(seq.name + "\n" for seq in dataset))
    return split
