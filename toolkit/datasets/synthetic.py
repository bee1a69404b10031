"""Deterministic synthetic tracking benchmarks (SYNTH, SYNTH-VOT) and training pairs.

The benchmarks stand in for OTB/VOT where no data can be downloaded: photographic textures
(scikit-image's bundled images, ``synth_textures``) move over photographic backgrounds with exact
ground truth and a mix of challenges per video (``synth_render.CHALLENGES``). Two variants are
written in PySOT's formats:

- ``SYNTH``: one-pass evaluation; ``<root>/SYNTH/SYNTH.json`` as PySOT's OTB100.json (``video_dir``,
  ``init_rect``, ``img_names``, ``gt_rect`` as xywh, ``attr`` as OTB abbreviations) and frames
  ``<root>/SYNTH/<video>/img/0001.jpg``.
- ``SYNTH-VOT``: VOT reset protocol; ``<root>/SYNTH-VOT/SYNTH-VOT.json`` as PySOT's VOT2018.json
  (``gt_rect`` as 8-value rotated-rectangle polygons, ``init_rect`` their axis-aligned bounding
  box, per-frame tags ``camera_motion illum_change motion_change size_change occlusion``) and
  frames ``<root>/SYNTH-VOT/<video>/color/00000001.jpg``; several videos have >= 360 frames.

Box convention: 0-based continuous pixel coordinates, pixel (i, j) covering [i, i+1) x [j, j+1);
``[x, y, w, h]`` has its top-left corner at (x, y); boxes are not clipped to the image. Each
video is drawn from ``np.random.default_rng([seed, variant, index])``, so a smaller
``num_videos`` gives a prefix of the full benchmark and ``max_frames`` a prefix of each video.
Training code draws from the disjoint ``'train'`` texture split with ``sample_pair``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from toolkit.datasets.synth_render import (
    CHALLENGES,
    EXTRA_CHALLENGES,
    OTB_ATTRIBUTES,
    VOT_TAGS,
    Scene,
    VideoSpec,
    sample_spec,
    simulate,
)
from toolkit.datasets.synth_textures import Texture, texture_bank

logger = logging.getLogger(__name__)

__all__ = [
    "CHALLENGES",
    "EXTRA_CHALLENGES",
    "OTB_ATTRIBUTES",
    "VARIANTS",
    "VOT_TAGS",
    "Scene",
    "SyntheticPair",
    "SyntheticSequence",
    "Variant",
    "VideoSpec",
    "generate",
    "generate_into",
    "render_sequence",
    "sample_pair",
    "sample_spec",
    "simulate",
    "texture_bank",
    "video_spec",
]

GENERATOR_VERSION = 1
JPEG_QUALITY = 85
META_FILE = "generator.json"  # generation parameters and per-video OTB attributes / challenges


@dataclasses.dataclass(frozen=True)
class Variant:
    """One benchmark variant: how many videos, their sizes/lengths, and the output format.

    Video ``i`` always has ``CHALLENGES[i % len(CHALLENGES)]`` among its challenges (so every
    challenge is covered) plus ``extra_range`` random others; the first ``num_long`` videos
    take their length from ``long_range``. After these ``num_videos``, one video per entry of
    ``added`` requires that challenge (``EXTRA_CHALLENGES``; lengths from ``length_range``): the
    earlier videos stay exactly as they were before the entries were added.
    """

    key: int  # seeds the variant's generators (distinct per variant)
    num_videos: int
    length_range: tuple[int, int]
    long_range: tuple[int, int]
    num_long: int
    polygons: bool  # VOT format (polygons, tags, color/ folder) instead of OTB
    video_prefix: str
    min_visible: float
    sizes: tuple[tuple[int, int], ...] = ((320, 240), (360, 270), (400, 300))
    extra_range: tuple[int, int] = (0, 2)
    added: tuple[str, ...] = ()

    @property
    def total_videos(self) -> int:
        """Videos in the full benchmark (``num_videos`` + ``added``)."""
        return self.num_videos + len(self.added)


VARIANTS = {
    "SYNTH": Variant(
        key=1,
        num_videos=30,
        length_range=(80, 150),
        long_range=(200, 300),
        num_long=4,
        polygons=False,
        video_prefix="synth",
        min_visible=0.25,
        added=("same_class",) * 6,
    ),
    "SYNTH-VOT": Variant(
        key=2,
        num_videos=14,
        length_range=(150, 250),
        long_range=(360, 420),
        num_long=5,
        polygons=True,
        video_prefix="synthvot",
        min_visible=0.35,
        added=("same_class",) * 4,
    ),
}


class SyntheticSequence(NamedTuple):
    """A rendered video: ``frames`` list of (H, W, 3) uint8 BGR; ``boxes`` (N, 4) xywh;
    ``polygons`` (N, 8) VOT-order corners; ``attributes`` OTB abbreviations; ``tags`` VOT
    per-frame 0/1 lists keyed by ``VOT_TAGS``."""

    frames: list
    boxes: np.ndarray
    polygons: np.ndarray
    attributes: list
    tags: dict


class SyntheticPair(NamedTuple):
    """Two frames of one synthetic video for training: (H, W, 3) uint8 BGR images and the
    target's axis-aligned ``[x, y, w, h]`` box in each (float64)."""

    template_frame: np.ndarray
    search_frame: np.ndarray
    box_a: np.ndarray
    box_b: np.ndarray


def _video_rng(seed: int, variant: Variant, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, variant.key, index])


def video_spec(name: str, index: int, seed: int = 0) -> tuple[np.random.Generator, VideoSpec]:
    """The spec of video ``index`` of variant ``name`` and the generator to simulate it with."""
    variant = _variant(name)
    if not 0 <= index < variant.total_videos:
        raise ValueError(f"{name} has videos 0-{variant.total_videos - 1}, not {index}")
    rng = _video_rng(seed, variant, index)
    length = variant.long_range if index < variant.num_long else variant.length_range
    if index < variant.num_videos:
        required = CHALLENGES[index % len(CHALLENGES)]
    else:
        required = variant.added[index - variant.num_videos]
    spec = sample_spec(
        rng,
        sizes=variant.sizes,
        length_range=length,
        required=(required,),
        extra_range=variant.extra_range,
        min_visible=variant.min_visible,
    )
    return rng, spec


def render_sequence(
    rng: np.random.Generator, spec: VideoSpec, textures: tuple[Texture, ...]
) -> SyntheticSequence:
    """Simulate and render a whole video in memory (N frames of H x W x 3 bytes).

    ``textures`` is normally ``texture_bank('test')`` or ``texture_bank('train')``.
    """
    scene = simulate(rng, spec, textures)
    frames = [scene.frame(t) for t in range(scene.num_frames)]
    return SyntheticSequence(frames, scene.boxes, scene.polygons, scene.attributes(), scene.tags())


def sample_pair(
    rng: np.random.Generator,
    split: str = "train",
    size: tuple[int, int] = (320, 240),
    max_gap: int = 50,
    challenges: tuple[str, ...] | None = None,
) -> SyntheticPair:
    """One random (template_frame, search_frame, box_a, box_b) training pair, cheaply.

    A short scene (``max_gap + 1`` frames, ``size`` = (width, height)) is simulated with 1-3
    random challenges (or exactly ``challenges``) from ``split``'s textures, and two distinct
    random frames of it are rendered; the search frame may come before the template frame.
    """
    n = max_gap + 1
    if challenges is None:
        spec = sample_spec(rng, sizes=(size,), length_range=(n, n), extra_range=(1, 3))
    else:
        spec = VideoSpec(size[0], size[1], n, frozenset(challenges))
    scene = simulate(rng, spec, texture_bank(split))
    ta, tb = (int(t) for t in rng.choice(n, size=2, replace=False))
    boxes = scene.boxes
    return SyntheticPair(scene.frame(ta), scene.frame(tb), boxes[ta].copy(), boxes[tb].copy())


def _variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown synthetic dataset {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name]


def _round(values: np.ndarray) -> list:
    return [round(float(v), 2) for v in values]


def _write_video(
    folder: Path, name: str, scene: Scene, variant: Variant, frames: int, tags: dict[str, list[int]]
) -> dict:
    """Write one video's first ``frames`` JPEG frames under ``folder`` and return its PySOT JSON
    entry (``tags``: the full video's VOT tags, cut to ``frames``)."""
    sub = "color" if variant.polygons else "img"
    (folder / name / sub).mkdir(parents=True)
    img_names = []
    for t in range(frames):
        file_name = f"{t + 1:08d}.jpg" if variant.polygons else f"{t + 1:04d}.jpg"
        ok, data = cv2.imencode(".jpg", scene.frame(t), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise RuntimeError(f"JPEG encoding failed for {name} frame {t + 1}")
        (folder / name / sub / file_name).write_bytes(data.tobytes())
        img_names.append(f"{name}/{sub}/{file_name}")
    if variant.polygons:
        polygons = scene.polygons[:frames]
        first = polygons[0].reshape(4, 2)
        lo, hi = first.min(axis=0), first.max(axis=0)
        entry = {
            "video_dir": name,
            "init_rect": _round(np.concatenate([lo, hi - lo])),
            "img_names": img_names,
            "gt_rect": [_round(p) for p in polygons],
        }
        entry.update({k: v[:frames] for k, v in tags.items()})
    else:
        boxes = scene.boxes[:frames]
        entry = {
            "video_dir": name,
            "init_rect": _round(boxes[0]),
            "img_names": img_names,
            "gt_rect": [_round(b) for b in boxes],
            "attr": scene.attributes(),
        }
    return entry


def _truncate(scene: Scene, frames: int) -> Scene:
    """The scene restricted to its first ``frames`` frames (its attributes describe those frames)."""
    if frames >= scene.num_frames:
        return scene
    cut = {
        k: getattr(scene, k)[:frames]
        for k in ("target", "camera", "gain", "gradient", "blur", "occluders", "distractors")
    }
    return Scene(
        spec=dataclasses.replace(scene.spec, num_frames=frames),
        background=scene.background,
        target_sprite=scene.target_sprite,
        occluder_sprites=scene.occluder_sprites,
        distractor_sprites=scene.distractor_sprites,
        gradient_dir=scene.gradient_dir,
        low_res_factor=scene.low_res_factor,
        camouflage=scene.camouflage,
        num_same_class=scene.num_same_class,
        **cut,
    )


def generate(
    name: str,
    root: str | Path,
    seed: int = 0,
    num_videos: int | None = None,
    max_frames: int | None = None,
    overwrite: bool = False,
    split: str = "test",
) -> Path:
    """Generate synthetic benchmark ``name`` ('SYNTH' or 'SYNTH-VOT') into ``<root>/<name>``.

    Args:
        name: variant name, a key of ``VARIANTS``.
        root: folder that receives ``<name>/`` (created if needed).
        seed: benchmark seed; the published numbers use 0.
        num_videos: generate only the first ``num_videos`` videos (default: the variant's count).
        max_frames: cut every video to at most this many frames.
        overwrite: replace an existing non-empty ``<root>/<name>``; otherwise it is an error.
        split: texture split, ``'test'`` for the benchmarks; ``'train'`` gives validation videos
            of the same kind whose pixels all come from the training textures.
    Returns:
        The dataset folder ``<root>/<name>`` (holding ``<name>.json``).

    Same as ``generate_into(name, Path(root) / name, ...)``.
    """
    return generate_into(name, Path(root) / name, seed, num_videos, max_frames, overwrite, split)


def generate_into(
    name: str,
    folder: str | Path,
    seed: int = 0,
    num_videos: int | None = None,
    max_frames: int | None = None,
    overwrite: bool = False,
    split: str = "test",
) -> Path:
    """Generate synthetic benchmark ``name`` directly into the dataset folder ``folder``.

    ``folder`` receives ``<name>.json``, ``generator.json`` and one sub-folder per video. It is
    built as a temporary sibling folder and renamed into place at the end, so an interrupted or
    failed run leaves no partial dataset behind. An existing empty ``folder`` is replaced; a
    non-empty one only with ``overwrite=True``. Other arguments as in :func:`generate`.
    """
    variant = _variant(name)
    final = Path(folder)
    if final.exists() and any(final.iterdir()) and not overwrite:
        raise FileExistsError(f"{final} already exists and is not empty (pass overwrite=True to replace it)")
    count = variant.total_videos if num_videos is None else num_videos
    if count > variant.total_videos:
        raise ValueError(f"{name} has {variant.total_videos} videos, asked for {num_videos}")
    if count < 1 or (max_frames is not None and max_frames < 2):
        raise ValueError(f"num_videos must be >= 1 and max_frames >= 2, got {num_videos}, {max_frames}")
    final.parent.mkdir(parents=True, exist_ok=True)
    textures = texture_bank(split)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        annotations, meta_videos = {}, {}
        for index in range(count):
            rng, spec = video_spec(name, index, seed)
            scene = simulate(rng, spec, textures)
            frames = scene.num_frames if max_frames is None else min(max_frames, scene.num_frames)
            tags = scene.tags()  # per-frame tags of the full video: a cut video keeps its prefix
            scene = _truncate(scene, frames)
            video = f"{variant.video_prefix}{index + 1:03d}"
            annotations[video] = _write_video(tmp, video, scene, variant, frames, tags)
            meta_videos[video] = {
                "challenges": sorted(spec.challenges),
                "attr": scene.attributes(),
                "frame_size": [spec.width, spec.height],
                "num_frames": frames,
            }
            logger.info("%s: %s %d frames, %s", name, video, frames, ",".join(sorted(spec.challenges)))
        (tmp / f"{name}.json").write_text(json.dumps(annotations))
        meta = {
            "generator": __name__,
            "version": GENERATOR_VERSION,
            "name": name,
            "seed": seed,
            "split": split,
            "num_videos": count,
            "max_frames": max_frames,
            "jpeg_quality": JPEG_QUALITY,
            "textures": [t.name for t in textures],
            "videos": meta_videos,
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=1))
        if final.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
            os.replace(final, trash / final.name)
            os.replace(tmp, final)
            shutil.rmtree(trash)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
