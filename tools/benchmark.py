"""Speed and agreement figures of the tracker and the target-aware (TA) selection, written as JSON.

Sections (``--sections``, all by default):

``machine``   CPU/GPU, threads, load average (the CPU may be shared: the load is part of the result).
``conv``      fp32 throughput of large convolutions (FLOP/s, best shape): this machine's practical limit.
``ta``        TA init time per method on ResNet-50 features of real search crops, Jaccard of each
              method's selected channels against ``sgd`` per layer, fits that fell back; plus
              planted cases (channels that respond only at the target centre).
``tracking``  per config: FLOPs per frame (torch.utils.flop_counter), tracking FPS with TA off and
              on, efficiency = achieved FLOP/s / measured conv FLOP/s, and whether the boxes equal
              those of the reference path (template branch recomputed each frame, PySOT's padded
              whole-image copy).
``inference`` per config (TA off): the reference path (PySOT's computation, fp32) against the fp32
              fast path unfused and with BatchNorm folded, each ``--precisions`` mode (fused; a
              mode the device cannot run is recorded with its error) and each ``--rewrites`` of the
              fused model, tracked in turns on the same frames: median frame time, speed-up over the
              reference, max box difference and fraction of frames with IoU >= 0.9.
``ta_ratio``  TA init time per method (``--ta-methods``) divided by one fused fp32 tracked frame,
              timed in turns, on the features as computed and rescaled to each ``--ta-rms``
              (the divergence path of the paper's steps or not).
``eval``      evaluation throughput: a generated PySOT-layout result set (``--eval-size``) scored with
              tools/eval.py's code (VOT in both conventions, OPE) at each ``--eval-num``.

Random weights are used (timing and agreement do not need trained ones); features of the random
ResNet-50 are rescaled per layer to ``--feature-rms`` (trained ResNet-50 features have RMS 1-2).
The inference and ta_ratio sections use random weights with BatchNorms calibrated on the first
frame (pysot.benchmark.random_model), so folding them is not a near-identity.

Examples::

    python tools/benchmark.py --out benchmark.json
    python tools/benchmark.py --video bag.avi --box 315 140 112 112 --frames 20 --ta-samples 3 \\
        --out benchmark.json
    python tools/benchmark.py --sections conv tracking --device cuda --out gpu.json
    python tools/benchmark.py --sections machine inference ta_ratio --video bag.avi \
        --box 315 140 112 112 --frames 9 --threads 1 --out speed.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import median

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from pysot.benchmark import (
    inference_comparison,
    load_frames,
    machine_record,
    random_model,
    run_video,
    ta_timing,
)
from pysot.config import load_cfg
from pysot.models.model_builder import ModelBuilder
from pysot.models.target_aware import METHODS, TargetAwareSelector, gaussian_label
from pysot.tracker.tracker_builder import build_tracker
from pysot.utils.cli import set_threads, setup_logging, threads_count, tool_parser
from toolkit.fileio import atomic_write_text

logger = logging.getLogger("benchmark")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIGS = (
    "experiments/siamrpn_r50_l234_dwxcorr/config.yaml",
    "experiments/ta_siamrpn_r50_l234_dwxcorr/config.yaml",
)


# ----------------------------------------------------------------------------- inputs
def build_model(config: str | Path, device: torch.device, seed: int = 0):
    """(cfg, model) for ``config`` with random weights drawn from ``seed``, in eval mode on ``device``."""
    cfg = load_cfg(config)
    torch.manual_seed(seed)
    return cfg, ModelBuilder(cfg).eval().to(device)


def with_ta(cfg, enable: bool, method: str | None = None):
    """A copy of ``cfg`` with ``TA.ENABLE`` (and ``TA.METHOD``) set."""
    cfg = cfg.clone()
    cfg.defrost()
    cfg.TA.ENABLE = enable
    if method:
        cfg.TA.METHOD = method
    cfg.freeze()
    return cfg


def _config_path(config: str) -> Path:
    """A config path as given, or relative to the repository (the default experiments)."""
    path = Path(config)
    return path if path.is_file() else REPO / path


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ----------------------------------------------------------------------------- sections
def machine_section(args: argparse.Namespace) -> dict:
    """Where the numbers come from: CPU model and flags, torch, threads, load (pysot.benchmark)."""
    return machine_record(args.device)


# Large convolutions of ResNet-50's kinds (3x3 and 1x1, its channel counts and search-map sizes).
CONV_SHAPES = ((512, 512, 3, 32), (256, 256, 3, 64), (1024, 256, 1, 31), (256, 1024, 1, 31))


def conv_throughput(device: torch.device, repeats: int = 5) -> dict:
    """fp32 FLOP/s of large convolutions: per shape the median of ``repeats`` timed runs; the limit
    is the best shape. Shapes are (in, out, kernel, side) on a batch of one."""
    per_shape = []
    with torch.inference_mode():
        for c_in, c_out, k, side in CONV_SHAPES:
            x = torch.randn(1, c_in, side, side, device=device)
            w = torch.randn(c_out, c_in, k, k, device=device)
            with FlopCounterMode(display=False) as counter:
                F.conv2d(x, w, padding=k // 2)  # also the warm-up
            flops = counter.get_total_flops()
            times = []
            for _ in range(repeats):
                _sync(device)
                start = time.perf_counter()
                F.conv2d(x, w, padding=k // 2)
                _sync(device)
                times.append(time.perf_counter() - start)
            per_shape.append(
                {"shape": [c_in, c_out, k, side], "flops": flops, "flops_per_s": flops / median(times)}
            )
    return {"per_shape": per_shape, "flops_per_s": max(s["flops_per_s"] for s in per_shape)}


def conv_section(args: argparse.Namespace) -> dict:
    return conv_throughput(args.device)


def jaccard(a: torch.Tensor, b: torch.Tensor) -> float:
    """|A & B| / |A | B| of two 0/1 masks."""
    inter = float((a * b).sum())
    union = float(((a + b) > 0).sum())
    return inter / union if union else 1.0


def crop_features(model, frame: np.ndarray, box: Sequence[float], cfg) -> tuple[list, list]:
    """Backbone features of the template and TA search crops around ``box`` (the tracker's init crops)."""
    z, x = build_tracker(cfg, model).init_crops(frame, box)
    with torch.inference_mode():
        return model.backbone_features(z), model.backbone_features(x)


def rescale(feats: Sequence[torch.Tensor], rms: float) -> list[torch.Tensor]:
    """Each map scaled to root-mean-square ``rms`` (one factor per layer)."""
    return [f * (rms / f.pow(2).mean().sqrt()) for f in feats]


def plant(
    feats: Sequence[torch.Tensor], per_layer: int, seed: int
) -> tuple[list[torch.Tensor], list[list[int]]]:
    """Replace ``per_layer`` random channels of each map by a centre blob of the map's RMS scale."""
    gen = torch.Generator().manual_seed(seed)
    out, planted = [], []
    for f in feats:
        c, h, w = f.shape[1:]
        idx = sorted(torch.randperm(c, generator=gen)[:per_layer].tolist())
        blob = gaussian_label((h, w), (h / 2, w / 2)).to(f.device) * float(f.pow(2).mean().sqrt()) * 4
        f = f.clone()
        f[0, idx] = blob
        out.append(f)
        planted.append(idx)
    return out, planted


def compare_methods(cfg, zf, xf, methods: Sequence[str]) -> dict:
    """Run every method on one sample: seconds, per-layer Jaccard against sgd, fallbacks."""
    result, masks = {}, {}
    for method in methods:
        selector = TargetAwareSelector.from_config(cfg.TA, method=method)
        start = time.perf_counter()
        masks[method] = selector.select(zf, xf)
        result[method] = {
            "seconds": time.perf_counter() - start,
            "fits": [
                {"method": i.method, "iters": i.iters, "lr": i.lr, "loss": i.loss, "fallback": i.fallback}
                for i in selector.last_fit
            ],
        }
    if "sgd" in masks:
        for method in methods:
            result[method]["jaccard_vs_sgd"] = [jaccard(a, b) for a, b in zip(masks[method], masks["sgd"])]
    return result, masks


def ta_section(args: argparse.Namespace) -> dict:
    """TA init time per method and agreement with sgd on ResNet-50 features of real crops."""
    cfg, model = build_model(_config_path(args.ta_config), args.device, args.seed)
    frames, source = load_frames(args.video, max(args.frames, 1))
    rng = np.random.default_rng(args.seed)
    h, w = frames[0].shape[:2]
    samples = []
    for i in range(args.ta_samples):
        frame = frames[(i * 7) % len(frames)]
        if i == 0:
            box = list(args.box) if args.box else [w * 3 / 8, h * 3 / 8, w / 4, h / 4]
        else:  # other targets in the same frames: random boxes of 40-120 px
            bw, bh = rng.uniform(40, 120, size=2)
            box = [rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh]
        start = time.perf_counter()
        zf, xf = crop_features(model, frame, box, cfg)
        backbone_s = time.perf_counter() - start
        raw_rms = [float(f.pow(2).mean().sqrt()) for f in xf]
        xf = rescale(xf, args.feature_rms)
        result, _ = compare_methods(cfg, zf, xf, args.methods)
        samples.append(
            {"box": [float(v) for v in box], "raw_rms": raw_rms, "backbone_seconds": backbone_s, **result}
        )
        logger.info("TA sample %d: %s", i, {m: round(result[m]["seconds"], 2) for m in args.methods})

    planted_cases = []
    for i in range(args.planted):
        zf, xf = crop_features(model, frames[0], samples[0]["box"], cfg)
        xf, planted = plant(rescale(xf, args.feature_rms), per_layer=16, seed=args.seed + i)
        result, masks = compare_methods(cfg, zf, xf, args.methods)
        for method in args.methods:
            found = [int(m[idx].sum()) for m, idx in zip(masks[method], planted)]
            result[method]["planted_found_per_layer"] = found
        planted_cases.append({"planted_per_layer": 16, **result})

    summary = {}
    for method in args.methods:
        times = [s[method]["seconds"] for s in samples]
        entry = {
            "mean_seconds": float(np.mean(times)),
            "fallback_fits": sum(bool(f["fallback"]) for s in samples for f in s[method]["fits"]),
            "fits": sum(len(s[method]["fits"]) for s in samples),
        }
        if "sgd" in args.methods:
            per_layer = np.mean([s[method]["jaccard_vs_sgd"] for s in samples], axis=0)
            entry["jaccard_vs_sgd_per_layer"] = per_layer.tolist()
            entry["jaccard_vs_sgd_mean"] = float(per_layer.mean())
            entry["speedup_vs_sgd"] = float(
                np.mean([s["sgd"]["seconds"] for s in samples]) / entry["mean_seconds"]
            )
        summary[method] = entry
    return {
        "source": source,
        "feature_rms": args.feature_rms,
        "channels": list(cfg.TA.CHANNELS),
        "summary": summary,
        "samples": samples,
        "planted": planted_cases,
    }


def model_flops(model, cfg, device: torch.device) -> int:
    """FLOPs of one tracked frame (model.track on an INSTANCE_SIZE crop) after a template."""
    z = torch.zeros(1, 3, cfg.TRACK.EXEMPLAR_SIZE, cfg.TRACK.EXEMPLAR_SIZE, device=device)
    x = torch.zeros(1, 3, cfg.TRACK.INSTANCE_SIZE, cfg.TRACK.INSTANCE_SIZE, device=device)
    with torch.inference_mode():
        model.set_channel_masks(None)
        model.template(z)
        with FlopCounterMode(display=False) as counter:
            model.track(x)
    return counter.get_total_flops()


def tracking_section(args: argparse.Namespace) -> dict:
    """Per config: FLOPs/frame, FPS TA off/on, efficiency, fast == reference boxes.

    FPS is 1 / the median frame time. The conv throughput is measured right before and after each
    run (the CPU may be shared, so its speed drifts); the efficiency uses the larger of the two.
    """
    frames, source = load_frames(args.video, args.frames)
    h, w = frames[0].shape[:2]
    box = list(args.box) if args.box else [w * 3 / 8, h * 3 / 8, w / 4, h / 4]
    out = {"source": source, "frames": len(frames), "box": box, "configs": {}}
    for config in args.configs:
        cfg, model = build_model(_config_path(config), args.device, args.seed)
        flops = model_flops(model, cfg, args.device)
        entry = {"flops_per_frame": flops, "runs": {}}
        variants = [("ta_off", with_ta(cfg, False))]
        if cfg.TA.ENABLE:
            variants.append((f"ta_{args.ta_method}", with_ta(cfg, True, args.ta_method)))
        for name, vcfg in variants:
            before = conv_throughput(args.device)["flops_per_s"]
            fast = run_video(build_tracker(vcfg, model), frames, box, args.device)
            after = conv_throughput(args.device)["flops_per_s"]
            ref = run_video(build_tracker(vcfg, model, reference=True), frames, box, args.device)
            fps = 1.0 / median(fast["frame_seconds"])
            limit = max(before, after)
            entry["runs"][name] = {
                "fps": fps,
                "mean_fps": len(fast["frame_seconds"]) / sum(fast["frame_seconds"]),
                "frame_seconds": fast["frame_seconds"],
                "init_seconds": fast["init_seconds"],
                "conv_flops_per_s_before_after": [before, after],
                "achieved_flops_per_s": fps * flops,
                "efficiency": fps * flops / limit,
                "reference_fps": 1.0 / median(ref["frame_seconds"]),
                "boxes_identical_to_reference": fast["boxes"] == ref["boxes"],
                "max_abs_box_difference": float(
                    np.max(np.abs(np.array(fast["boxes"]) - np.array(ref["boxes"])), initial=0.0)
                ),
            }
            logger.info(
                "%s %s: %.2f fps, efficiency %.2f", config, name, fps, entry["runs"][name]["efficiency"]
            )
        out["configs"][config] = entry
    return out


def _bag_model(args: argparse.Namespace, config: str):
    """(cfg, random calibrated model, frames, box) for the side-by-side sections."""
    frames, source = load_frames(args.video, args.frames)
    h, w = frames[0].shape[:2]
    box = list(args.box) if args.box else [w * 3 / 8, h * 3 / 8, w / 4, h / 4]
    cfg = load_cfg(_config_path(config))
    return cfg, random_model(cfg, args.seed, args.device, frames[0]), frames, box, source


def inference_section(args: argparse.Namespace) -> dict:
    """Per config (TA off): reference path vs fp32 unfused/fused, each precision, each rewrite,
    tracked in turns on the same frames (pysot.benchmark.inference_comparison)."""
    out = {}
    for config in args.configs:
        cfg, model, frames, box, source = _bag_model(args, config)
        cfg = with_ta(cfg, False)
        result = inference_comparison(
            cfg, model, frames, box, args.precisions, args.rewrites, args.device
        )
        out[config] = {"source": source, "box": box, **result}
        for name, v in result["variants"].items():
            logger.info(
                "%s %s: %.3f s/frame, x%.3f vs reference, max box diff %.2g px",
                config, name, v["median_frame_seconds"], v["speedup_vs_reference"],
                v["vs_reference"]["max_abs_box_difference_px"],
            )  # fmt: skip
    return out


def ta_ratio_section(args: argparse.Namespace) -> dict:
    """TA init time per method / one fp32 (fused) tracked frame, timed in turns (pysot.benchmark.ta_timing),
    with the features as computed and rescaled to each --ta-rms (the divergence path or not)."""
    cfg, model, frames, box, source = _bag_model(args, args.ta_config)
    rms = [None] + list(args.ta_rms)
    result = ta_timing(cfg, model, frames[0], box, args.ta_methods, rms, repeats=args.ta_repeats)
    for key, entry in result.items():
        for method, m in entry["methods"].items():
            logger.info(
                "TA %s %s: ratio %.3f of one frame (divergence path: %s)",
                key, method, m["ratio_to_one_frame"], m["divergence_path"],
            )  # fmt: skip
    return {"source": source, "box": box, "config": args.ta_config, **result}


def eval_section(args: argparse.Namespace) -> dict:
    """Evaluation throughput (toolkit.bench): wall and CPU seconds per ``--num``."""
    from toolkit.bench import eval_throughput

    trackers, videos, frames = args.eval_size
    return eval_throughput(trackers, videos, frames, nums=args.eval_num, seed=args.seed)


SECTIONS: dict[str, Callable[[argparse.Namespace], dict]] = {
    "machine": machine_section,
    "conv": conv_section,
    "ta": ta_section,
    "tracking": tracking_section,
    "inference": inference_section,
    "ta_ratio": ta_ratio_section,
    "eval": eval_section,
}


def run_benchmark(args: argparse.Namespace) -> dict:
    """Run the selected sections in order."""
    results = {}
    for name in args.sections:
        start = time.perf_counter()
        results[name] = SECTIONS[name](args)
        logger.info("section %s: %.1f s", name, time.perf_counter() - start)
    if "machine" in results:
        results["machine"]["load_average_at_end"] = list(os.getloadavg())
    return results


def summary_table(results: dict) -> str:
    """A few lines for the terminal."""
    lines = []
    if "conv" in results:
        lines.append(f"conv fp32 throughput: {results['conv']['flops_per_s'] / 1e9:.1f} GFLOP/s")
    if "ta" in results:
        lines.append(
            f"{'TA method':<10} {'init s':>8} {'x sgd':>7} {'Jaccard vs sgd (per layer)':>30} fallbacks"
        )
        for method, s in results["ta"]["summary"].items():
            jac = " ".join(f"{v:.3f}" for v in s.get("jaccard_vs_sgd_per_layer", []))
            lines.append(
                f"{method:<10} {s['mean_seconds']:8.2f} {s.get('speedup_vs_sgd', float('nan')):7.1f} "
                f"{jac:>30} {s['fallback_fits']}/{s['fits']}"
            )
    if "tracking" in results:
        for config, entry in results["tracking"]["configs"].items():
            lines.append(f"{config}: {entry['flops_per_frame'] / 1e9:.1f} GFLOP/frame")
            for name, run in entry["runs"].items():
                lines.append(
                    f"  {name:<12} {run['fps']:6.2f} fps  efficiency {run['efficiency']:.2f}  "
                    f"reference {run['reference_fps']:.2f} fps  "
                    f"identical boxes: {run['boxes_identical_to_reference']}"
                )
    if "inference" in results:
        for config, entry in results["inference"].items():
            lines.append(f"{config}: inference variants vs the reference path")
            for name, v in entry["variants"].items():
                lines.append(
                    f"  {name:<26} {v['median_frame_seconds']:7.3f} s/frame  "
                    f"x{v['speedup_vs_reference']:.3f}  "
                    f"max box diff {v['vs_reference']['max_abs_box_difference_px']:.3g} px"
                )
            for name, why in entry["unsupported"].items():
                lines.append(f"  {name:<26} not run: {why}")
    if "ta_ratio" in results:
        for key, entry in results["ta_ratio"].items():
            if isinstance(entry, dict) and "methods" in entry:
                for method, m in entry["methods"].items():
                    lines.append(
                        f"TA {key:<12} {method:<9} {m['ratio_to_one_frame']:.3f} of one fp32 frame "
                        f"(divergence path: {m['divergence_path']})"
                    )
    if "eval" in results:
        for name in ("vot_pysot", "vot_official", "ope"):
            for num, run in results["eval"].get(name, {}).items():
                lines.append(
                    f"eval {name:<12} --num {num}: {run['wall_s']:7.1f} s wall {run['cpu_s']:7.1f} s CPU "
                    f"{run['frames_per_s']:10.0f} tracker-frames/s"
                )
    return "\n".join(lines)


def write_json(path: Path, data: dict) -> None:
    """Atomic write (temporary file, then rename)."""
    atomic_write_text(path, json.dumps(data, indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--sections", nargs="+", choices=list(SECTIONS), default=list(SECTIONS))
    parser.add_argument("--video", help="video file for real frames (default: synthetic frames)")
    parser.add_argument(
        "--box", type=float, nargs=4, metavar=("X", "Y", "W", "H"), help="init box (0-based xywh)"
    )
    parser.add_argument("--frames", type=int, default=10, help="frames tracked per run")
    parser.add_argument(
        "--configs", nargs="+", default=list(DEFAULT_CONFIGS), help="experiment configs to time"
    )
    parser.add_argument("--ta-config", default=DEFAULT_CONFIGS[1], help="config of the TA comparison")
    parser.add_argument(
        "--methods", nargs="+", choices=METHODS, default=list(METHODS), help="TA methods compared"
    )
    parser.add_argument("--ta-method", default="dual", choices=METHODS, help="TA method of the tracking runs")
    parser.add_argument("--ta-samples", type=int, default=2, help="real crops for the TA comparison")
    parser.add_argument("--planted", type=int, default=1, help="planted-channel cases for the TA comparison")
    parser.add_argument(
        "--feature-rms", type=float, default=1.5, help="RMS the random R50 features are scaled to"
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--threads", type=threads_count, default=0, help="torch intra-op threads (0: torch's default)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--eval-size", type=int, nargs=3, default=(50, 60, 500), metavar=("TRACKERS", "VIDEOS", "FRAMES"),
        help="size of the generated result set of the eval section",
    )
    parser.add_argument("--eval-num", type=int, nargs="+", default=[1, 2], help="--num values timed")
    parser.add_argument(
        "--precisions", nargs="*", default=["bf16", "fp16"],
        help="modes of the inference section (unsupported ones are recorded, not run; the "
        "bf16_emulated / fp16_emulated numerics emulation is opt-in, for accuracy only)",
    )
    parser.add_argument(
        "--rewrites", nargs="*", default=["channels_last"], choices=["channels_last", "dense", "compile"],
        help="rewrites of the fused fp32 model timed in the inference section",
    )
    parser.add_argument(
        "--ta-methods", nargs="+", choices=METHODS, default=["dual", "gradient"],
        help="methods of the ta_ratio section",
    )
    parser.add_argument(
        "--ta-rms", type=float, nargs="*", default=[1.5, 0.01],
        help="feature RMS values of the ta_ratio section besides the computed one",
    )
    parser.add_argument("--ta-repeats", type=int, default=3, help="timed fits per method in ta_ratio")
    args = parser.parse_args(argv)
    args.device = torch.device(args.device)
    set_threads(args.threads)
    setup_logging()
    logger.info("arguments: %s", vars(args))
    results = run_benchmark(args)
    results["arguments"] = {
        k: str(v) if isinstance(v, (Path, torch.device)) else v for k, v in vars(args).items()
    }
    write_json(args.out, results)
    print(summary_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
