"""Testable pieces of ``tools/benchmark.py``: random-but-sane models, frames, timing, box agreement.

Speed figures are ratios of two things timed in the same run (the CPU may be shared); the machine
record names the CPU model and the flags that decide which precisions it runs.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from statistics import median

import cv2
import numpy as np
import torch
from torch import nn

from pysot.models.inference import cpu_bf16_instructions, cpu_flags, cpu_model_name, supported_precisions

__all__ = [
    "box_iou",
    "calibrate_batchnorm",
    "load_frames",
    "machine_record",
    "max_box_difference",
    "random_model",
    "run_video",
    "time_calls",
]

#: CPU flags worth recording next to a speed figure (vector width, bf16/fp16/int8 instructions).
RECORDED_FLAGS = (
    "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
    "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8",
)


def machine_record(device: torch.device | str = "cpu") -> dict:
    """CPU model, the relevant flags, torch version/threads, load average; the GPU if ``device`` is CUDA."""
    device = torch.device(device)
    flags = cpu_flags()
    info = {
        "cpu_model": cpu_model_name(),
        "cpu_flags": [f for f in RECORDED_FLAGS if f in flags],
        "bf16_instructions": cpu_bf16_instructions(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "supported_precisions": supported_precisions(device),
        "load_average_1_5_15min": list(os.getloadavg()),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def calibrate_batchnorm(
    model: nn.Module, template: torch.Tensor, search: torch.Tensor, seed: int = 0
) -> nn.Module:
    """Give a randomly initialised tracking model the BatchNorm statistics of real inputs.

    The affine parameters are drawn (weight in [0.5, 1.5), bias ~ N(0, 0.1^2)), then the running
    statistics become those of one template and one search crop (one forward each with the
    BatchNorms in training mode, cumulative averaging): folding them is not a near-identity, and the
    heads' outputs have the magnitudes of a trained network rather than overflowing. Returns ``model``
    (eval).
    """
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in bns:
            m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.reset_running_stats()
            m.momentum = None
            m.train()
        model.template(template)
        model.track(search)
        for m in bns:
            m.momentum = 0.1
    return model.eval()


def random_model(
    cfg, seed: int = 0, device: torch.device | str = "cpu", frame: np.ndarray | None = None
) -> nn.Module:
    """``ModelBuilder(cfg)`` with weights drawn from ``seed`` and calibrated BatchNorms, eval, on ``device``.

    The calibration crops are the centre of ``frame`` (default: a seeded random image).
    """
    from pysot.models.model_builder import ModelBuilder

    torch.manual_seed(seed)
    model = ModelBuilder(cfg).eval()
    if frame is None:
        frame = np.random.default_rng(seed).integers(0, 256, (360, 480, 3), dtype=np.uint8)
    ez, ex = cfg.TRACK.EXEMPLAR_SIZE, cfg.TRACK.INSTANCE_SIZE
    h, w = frame.shape[:2]

    def crop(size: int) -> torch.Tensor:
        side = min(h, w, size * 2)
        y0, x0 = (h - side) // 2, (w - side) // 2
        patch = cv2.resize(np.ascontiguousarray(frame[y0 : y0 + side, x0 : x0 + side]), (size, size))
        return torch.from_numpy(patch.transpose(2, 0, 1).copy())[None].float()

    calibrate_batchnorm(model, crop(ez), crop(ex), seed)
    return model.to(device)


def load_frames(video: str | None, count: int, seed: int = 0) -> tuple[list[np.ndarray], str]:
    """``count`` BGR uint8 frames of ``video``, or synthetic ones (a textured square drifting over noise)."""
    if video:
        cap = cv2.VideoCapture(str(video))
        frames = []
        while len(frames) < count:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(frame)
        cap.release()
        if not frames:
            raise FileNotFoundError(f"no frames could be read from video {video}")
        return frames, str(video)
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 256, (360, 480, 3), dtype=np.uint8)
    texture = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)
    frames = []
    for i in range(count):
        frame = background.copy()
        x, y = 200 + 3 * i, 140 + 2 * i
        frame[y : y + 80, x : x + 80] = texture
        frames.append(frame)
    return frames, "synthetic"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_video(
    tracker, frames: Sequence[np.ndarray], box: Sequence[float], device: torch.device | str = "cpu"
) -> dict:
    """init on frame 0, track the rest: boxes (N, 4) xywh, init seconds, seconds of each tracked frame."""
    device = torch.device(device)
    start = time.perf_counter()
    tracker.init(frames[0], list(box))
    _sync(device)
    init_s = time.perf_counter() - start
    boxes, times = [], []
    for frame in frames[1:]:
        start = time.perf_counter()
        boxes.append(tracker.track(frame)["bbox"])
        _sync(device)
        times.append(time.perf_counter() - start)
    return {"boxes": boxes, "init_seconds": init_s, "frame_seconds": times}


def time_calls(fn, repeats: int, warmup: int = 1) -> float:
    """Median seconds of ``repeats`` calls of ``fn()`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def max_box_difference(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> float:
    """Largest absolute coordinate difference (px) between two box lists (N, 4)."""
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float)), initial=0.0))


def box_iou(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> np.ndarray:
    """Per-row IoU of two (N, 4) xywh box arrays (continuous boxes: area w * h)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    x0 = np.maximum(a[:, 0], b[:, 0])
    y0 = np.maximum(a[:, 1], b[:, 1])
    x1 = np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2])
    y1 = np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
