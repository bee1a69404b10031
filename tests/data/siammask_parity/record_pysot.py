"""Record PySOT's own SiamMaskTracker on the parity inputs (see README.md in this folder).

    PYTHONPATH=/tmp/pysot python tests/data/siammask_parity/record_pysot.py --pysot /tmp/pysot \
        --out tests/data/siammask_parity

``--pysot`` is a checkout of https://github.com/STVIR/pysot (its Python code only: the Cython
toolkit is not needed). Run it with an interpreter where this project's ``pysot`` is NOT importable
first: ``PYTHONPATH`` puts the PySOT checkout in front (the script checks that the imported
``pysot`` is the checkout's); it needs torch, numpy,
opencv-python and yacs. Two shims let PySOT's unmodified code run on current libraries; neither
changes a number:

* ``np.float`` (removed in NumPy 1.24; PySOT's ``_crop_back`` casts its affine matrix with it) is
  set to ``float`` (float64, what it was);
* PySOT picks ``cv2.findContours``'s return form by ``cv2.__version__[-5] == '4'``, which is wrong
  for OpenCV 4.10+ and 5.x; its module sees a proxy of ``cv2`` whose ``__version__`` is ``'4.5.5'``
  when the installed OpenCV returns two values (everything else is the real cv2).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
from pathlib import Path

import cv2
import numpy as np
import torch

HERE = Path(__file__).resolve().parent


def _load_inputs():
    spec = importlib.util.spec_from_file_location("_siammask_parity", HERE.parents[1] / "_siammask_parity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Cv2Proxy:
    """cv2 with the ``__version__`` under which PySOT's version test picks the 2-value findContours."""

    def __init__(self, real):
        self._real = real
        two_values = (
            len(real.findContours(np.zeros((4, 4), np.uint8), real.RETR_EXTERNAL, real.CHAIN_APPROX_NONE))
            == 2
        )
        self.__version__ = "4.5.5" if two_values else "3.4.2"

    def __getattr__(self, name):
        return getattr(self._real, name)


def mask_record(mask: np.ndarray) -> dict:
    """The stored form of a float mask: the bounding box of its non-zero pixels, that crop quantised
    to uint16 (``round(p * 65535)``, error <= 7.7e-6), and float64 statistics of the whole mask."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    crop = mask[y0:y1, x0:x1].astype(np.float64)
    m64 = mask.astype(np.float64)
    return {
        "nonzero_box": [x0, y0, x1, y1],
        "crop_u16": np.round(crop * 65535).astype(np.uint16),
        "sum": float(m64.sum()),
        "sum_sq": float((m64**2).sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pysot", required=True, help="PySOT checkout (github.com/STVIR/pysot)")
    parser.add_argument("--out", default=str(HERE), help="output folder")
    args = parser.parse_args()
    inputs = _load_inputs()

    np.float = float  # noqa: NPY001 -- shim 1 (see the module docstring)
    import pysot

    if not Path(pysot.__file__).resolve().is_relative_to(Path(args.pysot).resolve()):
        raise SystemExit(f"pysot imported from {pysot.__file__}: run with PYTHONPATH={args.pysot}")
    from pysot.core.config import cfg

    from pysot.models.model_builder import ModelBuilder
    from pysot.tracker import siammask_tracker
    from pysot.tracker.tracker_builder import build_tracker

    siammask_tracker.cv2 = _Cv2Proxy(cv2)  # shim 2
    torch.set_num_threads(1)
    cfg.merge_from_file(str(Path(args.pysot) / "experiments" / "siammask_r50_l3" / "config.yaml"))
    cfg.CUDA = False
    model = ModelBuilder()
    model.load_state_dict(inputs.seeded_state_dict(model.state_dict()))
    model.eval()
    tracker = build_tracker(model)

    frames = inputs.synthetic_frames()
    tracker.init(frames[0], inputs.INIT_BOX)
    rows, masks = [], {}
    for idx, frame in enumerate(frames[1:], start=1):
        with torch.no_grad():
            out = tracker.track(frame)
        rec = mask_record(out["mask"])
        masks[f"frame{idx}"] = rec.pop("crop_u16")
        rows.append(
            {
                "frame": idx,
                "bbox": [float(v) for v in out["bbox"]],
                "best_score": float(out["best_score"]),
                "polygon": [float(v) for v in out["polygon"]],
                "mask_shape": list(out["mask"].shape),
                "mask_dtype": str(out["mask"].dtype),
                **rec,
            }
        )
    out_dir = Path(args.out)
    np.savez_compressed(out_dir / "pysot_masks.npz", **masks)
    record = {
        "made_by": "tests/data/siammask_parity/record_pysot.py (PySOT's own SiamMaskTracker)",
        "config": "experiments/siammask_r50_l3/config.yaml (PySOT's file)",
        "init_box": inputs.INIT_BOX,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "opencv": cv2.__version__,
        },
        "frames": rows,
    }
    (out_dir / "pysot_outputs.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
