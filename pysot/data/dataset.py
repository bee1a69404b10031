"""``TrkDataset``: PySOT's training set of template/search pairs with RPN targets.

Sub-datasets are listed in ``cfg.DATASET.NAMES``; each has a node ``cfg.DATASET.<NAME>``:

- crop511 sources (VID, COCO, DET, YOUTUBEBB, GOT10K, LASOT, ...): ``ROOT``, ``ANNO``,
  ``FRAME_RANGE``, ``NUM_USE`` (see :mod:`pysot.data.sub_dataset`); relative paths are resolved
  against the ``data_dir`` given to the dataset.
- ``SYNTH_TRAIN``: pairs from the synthetic benchmark's scene simulator on its ``'train'`` textures
  (:mod:`pysot.data.synthetic_scenes`); ``SYNTH_PATCHES``: cheaper pairs of texture patches on
  texture backgrounds (:mod:`pysot.data.synthetic_pairs`). Their nodes' keys are the classes'
  keyword arguments in upper case (``SEED``, ``NUM_USE``, ``FRAME_RANGE``, ...).

An epoch has ``DATASET.VIDEOS_PER_EPOCH`` pairs (the sum of ``NUM_USE`` when <= 0). Sample ``i`` of
epoch ``e`` is a pure function of ``(TRAIN.SEED, e, i)``: the same whatever the number of loader
workers or distributed processes. A fraction ``DATASET.NEG`` of the pairs are negative (template
and search of different targets), ``DATASET.GRAY`` are converted to gray.
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset
from yacs.config import CfgNode

from pysot.data.anchor_target import AnchorTarget
from pysot.data.augmentation import Augmentation
from pysot.data.sub_dataset import Crop511SubDataset
from pysot.data.synthetic_pairs import SyntheticPairs
from pysot.data.synthetic_scenes import SyntheticScenes
from pysot.utils.bbox import Center, Corner, center2corner

logger = logging.getLogger(__name__)

# synthetic sub-datasets: DATASET.NAMES entry -> class (config keys are its keyword arguments)
SYNTHETIC = {"SYNTH_TRAIN": SyntheticScenes, "SYNTH_PATCHES": SyntheticPairs}
_PICK_STREAM = 0x5EED  # extra seed word of the per-epoch video order (apart from the samples' seeds)


def build_sub_dataset(cfg: CfgNode, name: str, data_dir: str | Path = "."):
    """The sub-dataset ``name`` of ``cfg.DATASET`` (crop511 layout, or ``SYNTH_TRAIN``)."""
    if name not in cfg.DATASET:
        raise KeyError(f"DATASET.NAMES lists {name!r} but the config has no DATASET.{name} node")
    node = cfg.DATASET[name]
    if name in SYNTHETIC:
        cls = SYNTHETIC[name]
        known = [k for k in inspect.signature(cls).parameters if k != "exemplar_size"]
        kwargs = {}
        for key, value in node.items():
            if key.lower() not in known:
                raise KeyError(
                    f"DATASET.{name}.{key} is not a parameter of {cls.__name__}; "
                    f"known: {sorted(k.upper() for k in known)}"
                )
            kwargs[key.lower()] = value
        return cls(exemplar_size=cfg.TRAIN.EXEMPLAR_SIZE, **kwargs)
    missing = [k for k in ("ROOT", "ANNO", "FRAME_RANGE", "NUM_USE") if k not in node]
    if missing:
        raise KeyError(f"DATASET.{name} lacks {missing}")
    base = Path(data_dir)
    return Crop511SubDataset(name, base / node.ROOT, base / node.ANNO, node.FRAME_RANGE, node.NUM_USE)


def _augmentation(node: CfgNode) -> Augmentation:
    return Augmentation(node.SHIFT, node.SCALE, node.BLUR, node.FLIP, node.COLOR)


class TrkDataset(Dataset):
    """Training pairs as PySOT's ``TrkDataset``; items are dicts of numpy arrays.

    Item keys: ``template`` float32 (3, E, E) and ``search`` float32 (3, S, S), BGR 0-255 (PySOT
    feeds raw pixel values); ``label_cls`` int64 (A, O, O); ``label_loc`` float32 (4, A, O, O);
    ``label_loc_weight`` float32 (A, O, O); ``bbox`` float32 (4,) the target's corners in the search
    crop. E, S, O = ``TRAIN.EXEMPLAR_SIZE``, ``TRAIN.SEARCH_SIZE``, ``TRAIN.OUTPUT_SIZE``.

    Args:
        cfg: the full config (``TRAIN``, ``ANCHOR``, ``DATASET``).
        data_dir: base of relative ``ROOT``/``ANNO`` paths of crop511 sub-datasets.
    """

    def __init__(self, cfg: CfgNode, data_dir: str | Path = ".") -> None:
        super().__init__()
        t = cfg.TRAIN
        expected = (t.SEARCH_SIZE - t.EXEMPLAR_SIZE) / cfg.ANCHOR.STRIDE + 1 + t.BASE_SIZE
        if expected != t.OUTPUT_SIZE:
            raise ValueError(
                f"TRAIN.OUTPUT_SIZE={t.OUTPUT_SIZE} but (SEARCH_SIZE - EXEMPLAR_SIZE) / ANCHOR.STRIDE + 1 "
                f"+ BASE_SIZE = {expected}"
            )
        self.exemplar_size = t.EXEMPLAR_SIZE
        self.search_size = t.SEARCH_SIZE
        self.seed = int(t.SEED)
        self.neg = float(cfg.DATASET.NEG)
        self.gray = float(cfg.DATASET.GRAY)
        self.anchor_target = AnchorTarget.from_config(cfg)
        self.datasets = [build_sub_dataset(cfg, name, data_dir) for name in cfg.DATASET.NAMES]
        if not self.datasets:
            raise ValueError("DATASET.NAMES is empty")
        self.template_aug = _augmentation(cfg.DATASET.TEMPLATE)
        self.search_aug = _augmentation(cfg.DATASET.SEARCH)
        per_epoch = int(cfg.DATASET.VIDEOS_PER_EPOCH)
        self.num = per_epoch if per_epoch > 0 else sum(d.num_use for d in self.datasets)
        self.epoch = 0
        self.pick = self._shuffle(0)

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch ``epoch``'s order of videos (call before creating the epoch's loader iterator)."""
        self.epoch = int(epoch)
        self.pick = self._shuffle(self.epoch)

    def _shuffle(self, epoch: int) -> np.ndarray:
        """(num, 2) int64 rows (sub-dataset, video): every sub-dataset contributes NUM_USE videos
        (a permutation, repeated as needed), all shuffled together and repeated to ``num`` rows."""
        rng = np.random.default_rng([self.seed, epoch, _PICK_STREAM])
        parts = []
        for k, dataset in enumerate(self.datasets):
            reps = -(-dataset.num_use // dataset.num)
            videos = np.concatenate([rng.permutation(dataset.num) for _ in range(reps)])[: dataset.num_use]
            parts.append(np.stack([np.full_like(videos, k), videos], 1))
        pairs = np.concatenate(parts)
        picks = []
        total = 0
        while total < self.num:
            picks.append(pairs[rng.permutation(len(pairs))])
            total += len(pairs)
        return np.concatenate(picks)[: self.num].astype(np.int64)

    def __len__(self) -> int:
        return self.num

    def _box(self, image: np.ndarray, anno) -> Corner:
        """The target's corners in a crop511 image: centred, its size scaled so that the context box
        spans ``exemplar_size`` (``anno`` gives the original size: corners or [w, h])."""
        imh, imw = image.shape[:2]
        w, h = (anno[2] - anno[0], anno[3] - anno[1]) if len(anno) == 4 else anno
        p = 0.5 * (w + h)
        scale = self.exemplar_size / np.sqrt((w + p) * (h + p))
        return center2corner(Center(imw // 2, imh // 2, w * scale, h * scale))

    def __getitem__(self, index: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        k, video = self.pick[index]
        dataset = self.datasets[k]
        gray = self.gray > 0 and self.gray > rng.random()
        neg = self.neg > 0 and self.neg > rng.random()
        if neg:
            template = dataset.get_random_target(int(video), rng)
            other = self.datasets[int(rng.integers(len(self.datasets)))]
            search = other.get_random_target(-1, rng)
        else:
            template, search = dataset.get_positive_pair(int(video), rng)
        t_img, _ = self.template_aug(template[0], self._box(*template), self.exemplar_size, rng, gray=gray)
        s_img, box = self.search_aug(search[0], self._box(*search), self.search_size, rng, gray=gray)
        cls, delta, delta_weight, _ = self.anchor_target(box, rng, neg=neg)
        return {
            "template": np.ascontiguousarray(t_img.transpose(2, 0, 1), dtype=np.float32),
            "search": np.ascontiguousarray(s_img.transpose(2, 0, 1), dtype=np.float32),
            "label_cls": cls,
            "label_loc": delta,
            "label_loc_weight": delta_weight,
            "bbox": np.asarray(box, dtype=np.float32),
        }
