"""Export an experiment's model to two ONNX graphs and check them against PyTorch with onnxruntime.

The tracker's network splits in two at the template cache:
  template.onnx  inputs  z (1x3xExE, BGR 0-255), mask0..maskL-1 (channel masks, 1-D float, 1 = keep)
                 outputs kernel0..kernelK-1 (the RPN heads' cached template kernels)
  track.onnx     inputs  x (1x3xSxS), kernel0..kernelK-1, mask0..maskL-1
                 outputs cls (1x2AxHxW), loc (1x4AxHxW)
The masks are the target-aware (TA) channel masks, one per backbone output, applied to the
backbone features of template and search image before the neck; all-ones masks give SiamRPN++.
E = TRACK.EXEMPLAR_SIZE, S = TRACK.INSTANCE_SIZE.

The graphs and the check: ``pysot.onnx_export``.

Examples:
  python tools/export_onnx.py --config experiments/ta_siamrpn_tiny_synth/config.yaml --output-dir onnx/
  python tools/export_onnx.py --config ... --snapshot ... --output-dir onnx/ --opset 18 --no-check
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from pysot.onnx_export import MIN_OPSET, export_onnx
from pysot.utils.cli import add_experiment_args, setup_logging, tool_parser
from toolkit.fileio import atomic_write_text


def build_parser() -> argparse.ArgumentParser:
    parser = tool_parser(__doc__)
    add_experiment_args(parser, device=None, threads=None)
    parser.add_argument(
        "--output-dir", required=True, help="folder for template.onnx, track.onnx, export.json"
    )
    parser.add_argument("--opset", type=int, default=MIN_OPSET, help=f"ONNX opset (>= {MIN_OPSET})")
    parser.add_argument(
        "--dynamo", action="store_true", help="use the torch.export-based exporter (needs onnxscript)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-3,
        help="largest relative difference (max_rel_diff) accepted (float32 noise: ~1e-5 to 1e-4)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pysot.config import load_cfg
    from pysot.integrations.loading import load_model, resolve_snapshot

    args = build_parser().parse_args(argv)
    setup_logging()
    cfg = load_cfg(args.config, args.opts)
    model = load_model(cfg, resolve_snapshot(args.config, args.snapshot), "cpu")
    try:
        report = export_onnx(
            model, cfg, args.output_dir, args.opset, check=not args.no_check, dynamo=args.dynamo
        )
    except (ImportError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary = Path(args.output_dir) / "export.json"
    atomic_write_text(summary, json.dumps(asdict(report), indent=2) + "\n")
    print(json.dumps(asdict(report), indent=2))
    if not args.no_check:
        worst = max(report.max_rel_diff.values())
        if worst > args.tolerance:
            print(
                f"ONNX outputs differ from PyTorch: relative {worst:.3g} > --tolerance {args.tolerance}",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
