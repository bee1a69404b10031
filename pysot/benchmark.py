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


# ----------------------------------------------------------------------------- side-by-side runs
def run_interleaved(
    trackers: dict, frames: Sequence[np.ndarray], box: Sequence[float], device: torch.device | str = "cpu"
) -> dict:
    """Every tracker on the same frames, taking turns frame by frame (so a changing load on a shared
    CPU hits all of them alike): per tracker its boxes, init seconds and per-frame seconds."""
    device = torch.device(device)
    out = {name: {"boxes": [], "frame_seconds": []} for name in trackers}
    for name, tracker in trackers.items():
        start = time.perf_counter()
        tracker.init(frames[0], list(box))
        _sync(device)
        out[name]["init_seconds"] = time.perf_counter() - start
    for frame in frames[1:]:
        for name, tracker in trackers.items():
            start = time.perf_counter()
            out[name]["boxes"].append(tracker.track(frame)["bbox"])
            _sync(device)
            out[name]["frame_seconds"].append(time.perf_counter() - start)
    return out


def agreement(boxes: Sequence[Sequence[float]], reference: Sequence[Sequence[float]]) -> dict:
    """Max coordinate difference (px) and the fraction of frames with IoU >= 0.9 against ``reference``."""
    iou = box_iou(boxes, reference)
    return {
        "max_abs_box_difference_px": max_box_difference(boxes, reference),
        "fraction_iou_ge_0.9": float(np.mean(iou >= 0.9)) if len(iou) else float("nan"),
        "min_iou": float(iou.min()) if len(iou) else float("nan"),
    }


def inference_comparison(
    cfg,
    model: nn.Module,
    frames: Sequence[np.ndarray],
    box: Sequence[float],
    precisions: Sequence[str] = ("bf16", "fp16"),
    rewrites: Sequence[str] = ("channels_last",),
    device: torch.device | str = "cpu",
) -> dict:
    """The inference variants side by side against the reference path (PySOT's computation, fp32).

    Variants: ``fp32_unfused`` (the default fast path), ``fp32_fused`` (TRACK.FUSE_BN: folded
    BatchNorm and, on a CPU, the backbone in oneDNN's blocked layout), each mode of ``precisions``
    (fused; a mode the device cannot run is recorded with its error, not run), and the ``rewrites``
    of the fused fp32 model (``channels_last``, ``dense``: folded but the plain dense layout,
    ``compile``: torch.compile of the backbone, its first frame timed separately). Per variant:
    median frame seconds, speed-up over the reference (ratio of medians), boxes against the
    reference and, for reduced modes, against fused fp32.
    """
    from pysot.models.inference import InferenceModel, PrecisionError, resolve_precision
    from pysot.tracker.tracker_builder import build_tracker

    trackers = {
        "reference": build_tracker(cfg, model, reference=True),
        "fp32_unfused": build_tracker(cfg, model),
        "fp32_fused": build_tracker(cfg, model, fuse_bn=True),
    }
    results: dict = {"unsupported": {}}
    for mode in precisions:
        try:
            resolve_precision(mode, device)
        except PrecisionError as err:
            results["unsupported"][mode] = str(err)
            continue
        trackers[mode] = build_tracker(cfg, model, precision=mode, fuse_bn=True)
    compile_error = None
    for rewrite in rewrites:
        if rewrite == "channels_last":
            wrapped = InferenceModel(model, "fp32", fuse=True, channels_last=True)
        elif rewrite == "dense":
            wrapped = InferenceModel(model, "fp32", fuse=True, onednn=False)
        elif rewrite == "compile":
            wrapped = InferenceModel(model, "fp32", fuse=True)
            try:
                wrapped.net.backbone = torch.compile(wrapped.net.backbone, dynamic=False)
            except Exception as err:  # noqa: BLE001 - recorded: whether compile works here is the result
                compile_error = f"{type(err).__name__}: {err}"
                continue
        else:
            raise ValueError(f"unknown rewrite {rewrite!r}; known: channels_last, dense, compile")
        trackers[f"fp32_fused_{rewrite}"] = build_tracker(cfg, wrapped)
    try:
        runs = run_interleaved(trackers, frames, box, device)
    except Exception as err:  # noqa: BLE001 - torch.compile fails at the first call when it cannot build
        if "fp32_fused_compile" not in trackers:
            raise
        compile_error = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        trackers.pop("fp32_fused_compile")
        runs = run_interleaved(trackers, frames, box, device)
    if compile_error:
        results["unsupported"]["compile"] = compile_error
    ref = runs["reference"]
    ref_s = median(ref["frame_seconds"])
    variants = {}
    for name, run in runs.items():
        frame_s = run["frame_seconds"][1:] if name.endswith("compile") else run["frame_seconds"]
        entry = {
            "median_frame_seconds": median(frame_s),
            "speedup_vs_reference": ref_s / median(frame_s),
            # the fastest frame is the least disturbed by other jobs on a shared CPU
            "min_frame_seconds": min(frame_s),
            "speedup_vs_reference_of_min": min(ref["frame_seconds"]) / min(frame_s),
            "init_seconds": run["init_seconds"],
            "vs_reference": agreement(run["boxes"], ref["boxes"]),
        }
        if name.endswith("compile"):
            entry["first_frame_seconds_with_compile"] = run["frame_seconds"][0]
        if name not in ("reference", "fp32_unfused", "fp32_fused") and not name.startswith("fp32_"):
            entry["vs_fp32_fused"] = agreement(run["boxes"], runs["fp32_fused"]["boxes"])
        variants[name] = entry
    results["variants"] = variants
    results["frames_tracked"] = len(frames) - 1
    return results


def ta_timing(
    cfg,
    model: nn.Module,
    frame: np.ndarray,
    box: Sequence[float],
    methods: Sequence[str],
    feature_rms: Sequence[float | None],
    repeats: int = 3,
) -> dict:
    """TA init time per method against one fp32 tracked frame (fused), timed in turns in one run.

    The fit runs on the backbone features of the tracker's init crops around ``box``, each layer
    rescaled to each RMS of ``feature_rms`` (None: as computed; ResNet-50 features of RMS 1-2 make
    the paper's steps diverge, small ones let them converge). Ratio = median fit seconds / median
    frame seconds; each fit's path (steps, fallback) is recorded.
    """
    from pysot.models.target_aware import TargetAwareSelector
    from pysot.tracker.tracker_builder import build_tracker

    tracker = build_tracker(cfg, model, fuse_bn=True, target_aware=None)
    tracker.init(frame, list(box))
    z, x = tracker.init_crops(frame, box)
    with torch.inference_mode():
        zf, xf = model.backbone_features(z), model.backbone_features(x)
    out = {}
    for rms in feature_rms:
        feats = xf if rms is None else [f * (rms / f.pow(2).mean().sqrt()) for f in xf]
        frame_s, fit_s, fits = [], {m: [] for m in methods}, {}
        for _ in range(repeats):
            start = time.perf_counter()
            tracker.track(frame)
            frame_s.append(time.perf_counter() - start)
            for method in methods:
                selector = TargetAwareSelector.from_config(cfg.TA, method=method)
                start = time.perf_counter()
                selector.select(zf, feats)
                fit_s[method].append(time.perf_counter() - start)
                fits[method] = [
                    dict(method=i.method, iters=i.iters, lr=i.lr, fallback=i.fallback, seconds=i.seconds)
                    for i in selector.last_fit
                ]
        key = "as_computed" if rms is None else f"rms_{rms:g}"
        out[key] = {
            "feature_rms": [float(f.pow(2).mean().sqrt()) for f in feats],
            "frame_seconds": frame_s,
            "methods": {
                m: {
                    "seconds": fit_s[m],
                    "ratio_to_one_frame": median(fit_s[m]) / median(frame_s),
                    "divergence_path": any(f["fallback"] for f in fits[m]),
                    "fits": fits[m],
                }
                for m in methods
            },
        }
    return out
