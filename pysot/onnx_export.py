"""ONNX export of a tracker's network as two graphs, checked against PyTorch with onnxruntime.

The tracker's network splits in two at the template cache:
  template.onnx  inputs  z (1x3xExE, BGR 0-255), mask0..maskL-1 (channel masks, 1-D float, 1 = keep)
                 outputs kernel0..kernelK-1 (the RPN heads' cached template kernels)
  track.onnx     inputs  x (1x3xSxS), kernel0..kernelK-1, mask0..maskL-1
                 outputs cls (1x2AxHxW), loc (1x4AxHxW)
The masks are the target-aware (TA) channel masks, one per backbone output, applied to the
backbone features of template and search image before the neck; all-ones masks give SiamRPN++.
E = TRACK.EXEMPLAR_SIZE, S = TRACK.INSTANCE_SIZE.

``onnx``/``onnxruntime`` are needed only for the check (the ``onnx`` extra); ``tools/export_onnx.py``
is the command line.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from toolkit.fileio import atomic_output

logger = logging.getLogger(__name__)

MIN_OPSET = 17


def flatten(tree: Any) -> tuple[list[torch.Tensor], Any]:
    """Nested lists/tuples of tensors -> (leaves in depth-first order, structure spec)."""
    if isinstance(tree, torch.Tensor):
        return [tree], None
    if isinstance(tree, (list, tuple)):
        leaves: list[torch.Tensor] = []
        specs = []
        for item in tree:
            item_leaves, item_spec = flatten(item)
            leaves.extend(item_leaves)
            specs.append((len(item_leaves), item_spec))
        return leaves, (type(tree), specs)
    raise TypeError(f"cannot export template state of type {type(tree).__name__}")


def unflatten(leaves: Sequence[torch.Tensor], spec: Any) -> Any:
    """Inverse of :func:`flatten`."""
    if spec is None:
        return leaves[0]
    kind, specs = spec
    items, start = [], 0
    for count, item_spec in specs:
        items.append(unflatten(leaves[start : start + count], item_spec))
        start += count
    return kind(items)


class TemplateGraph(nn.Module):
    """z, masks -> flattened RPN template kernels (what ``ModelBuilder.template`` caches)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, *masks: torch.Tensor) -> tuple[torch.Tensor, ...]:
        # Plain attribute assignment: set_channel_masks() would turn the inputs into trace constants.
        self.model.channel_masks = list(masks)
        self.model.template(z)
        return tuple(flatten(self.model.kernel)[0])


class TrackGraph(nn.Module):
    """x, kernels, masks -> (cls, loc) (what ``ModelBuilder.track`` computes from the cache)."""

    def __init__(self, model: nn.Module, kernel_spec: Any, num_kernels: int) -> None:
        super().__init__()
        self.model = model
        self.kernel_spec = kernel_spec
        self.num_kernels = num_kernels

    def forward(self, x: torch.Tensor, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        kernels, masks = inputs[: self.num_kernels], inputs[self.num_kernels :]
        self.model.channel_masks = list(masks)
        self.model.kernel = unflatten(kernels, self.kernel_spec)
        # track() only checks that a template was given; the kernels above are what it uses.
        self.model.zf = self.model.kernel
        out = self.model.track(x)
        return out["cls"], out["loc"]


@dataclass
class ExportReport:
    """Paths written and the PyTorch-vs-onnxruntime check (empty dicts when unchecked).

    ``max_abs_diff[name]`` = max |onnxruntime - PyTorch| over the output ``name`` (``kernels``,
    ``cls``, ``loc``); ``max_rel_diff[name]`` = that divided by max |PyTorch output|.
    """

    template: str
    track: str
    opset: int
    kernel_shapes: list[list[int]]
    mask_sizes: list[int]
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    max_rel_diff: dict[str, float] = field(default_factory=dict)


def _export(
    module: nn.Module, args: tuple, path: Path, input_names, output_names, opset: int, dynamo: bool
) -> None:
    """``torch.onnx.export`` with static shapes, written atomically to ``path``.

    ``dynamo=False`` is the TorchScript exporter (deprecated since PyTorch 2.9 but still shipped;
    no extra dependency, a few seconds per graph); ``dynamo=True`` the torch.export-based one
    (needs ``onnxscript``; several times slower to export; same numbers).
    """
    with atomic_output(path) as tmp, warnings.catch_warnings():
        # The tracer warns about every Python-level shape check; shapes are static here by design.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        if not dynamo:
            warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            module,
            args,
            str(tmp),
            input_names=list(input_names),
            output_names=list(output_names),
            opset_version=opset,
            dynamo=dynamo,
            do_constant_folding=True,
        )


def random_masks(channels: Sequence[int], keep: float, generator: torch.Generator) -> list[torch.Tensor]:
    """0/1 float masks keeping about ``keep`` of each layer's channels (at least one)."""
    masks = []
    for c in channels:
        mask = (torch.rand(c, generator=generator) < keep).float()
        mask[0] = 1.0
        masks.append(mask)
    return masks


def _random_inputs(model: nn.Module, cfg, seed: int) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """A random template (1x3xExE) and search image (1x3xSxS) in 0-255, and 0/1 channel masks
    keeping about half of each backbone output's channels, from one generator seeded ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    e, s = int(cfg.TRACK.EXEMPLAR_SIZE), int(cfg.TRACK.INSTANCE_SIZE)
    z = torch.rand(1, 3, e, e, generator=generator) * 255
    x = torch.rand(1, 3, s, s, generator=generator) * 255
    return z, x, random_masks(list(model.feature_channels), 0.5, generator)


def _pytorch_reference(model: nn.Module, z, x, masks) -> tuple[list[torch.Tensor], Any, dict]:
    """``model.template(z)`` and ``model.track(x)`` under ``masks``: the cached kernels (flattened,
    with their structure spec) and the ``cls``/``loc`` outputs the graphs must reproduce."""
    with torch.no_grad():
        model.set_channel_masks(masks)
        model.template(z)
        kernels, spec = flatten(model.kernel)
        kernels = [k.clone() for k in kernels]
        reference = {k: v.clone() for k, v in model.track(x).items()}
    return kernels, spec, reference


def export_onnx(
    model: nn.Module,
    cfg,
    output_dir: str | Path,
    opset: int = MIN_OPSET,
    check: bool = True,
    seed: int = 0,
    dynamo: bool = False,
) -> ExportReport:
    """Write ``template.onnx`` and ``track.onnx`` for ``model`` into ``output_dir``; optionally check them.

    The check feeds random images (0-255) and random 0/1 channel masks (half the channels kept) to
    both graphs with onnxruntime (CPU) and to ``ModelBuilder.template``/``track`` in PyTorch, and
    reports the max absolute differences of the kernels, ``cls`` and ``loc``.

    Args:
        model: a ``ModelBuilder`` (not modified: a copy is exported, on CPU, in eval mode).
        cfg: its config (exemplar and instance sizes).
        output_dir: created if missing.
        opset: ONNX opset (>= 17).
        check: run the onnxruntime comparison (needs ``onnxruntime``).
        seed: seed of the check's random inputs.
        dynamo: use the torch.export-based exporter instead of the TorchScript one (see :func:`_export`).

    Raises:
        ImportError: ``dynamo`` without ``onnxscript`` installed (before anything is written).
    """
    if opset < MIN_OPSET:
        raise ValueError(f"opset must be >= {MIN_OPSET}, got {opset}")
    if dynamo and importlib.util.find_spec("onnxscript") is None:
        raise ImportError(
            "the torch.export-based ONNX exporter (--dynamo) needs onnxscript: pip install onnxscript "
            "(the default TorchScript exporter does not)"
        )
    model = copy.deepcopy(model).cpu().eval()
    if getattr(model, "mask_enabled", False):
        raise ValueError("SiamMask models (MASK.MASK: True) are not exportable by this tool")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    z, x, masks = _random_inputs(model, cfg, seed)
    kernels, spec, reference = _pytorch_reference(model, z, x, masks)
    channels = list(model.feature_channels)
    mask_names = [f"mask{i}" for i in range(len(masks))]
    kernel_names = [f"kernel{i}" for i in range(len(kernels))]

    template_path, track_path = output_dir / "template.onnx", output_dir / "track.onnx"
    _export(TemplateGraph(model), (z, *masks), template_path, ["z", *mask_names], kernel_names, opset, dynamo)
    _export(
        TrackGraph(model, spec, len(kernels)),
        (x, *kernels, *masks),
        track_path,
        ["x", *kernel_names, *mask_names],
        ["cls", "loc"],
        opset,
        dynamo,
    )
    report = ExportReport(
        template=str(template_path),
        track=str(track_path),
        opset=opset,
        kernel_shapes=[list(k.shape) for k in kernels],
        mask_sizes=channels,
    )
    logger.info("wrote %s and %s (opset %d)", template_path, track_path, opset)
    if check:
        _check(report, z, x, masks, kernels, reference)
    return report


def _check(report: ExportReport, z, x, masks, kernels, reference) -> None:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    template = ort.InferenceSession(report.template, options, providers=["CPUExecutionProvider"])
    track = ort.InferenceSession(report.track, options, providers=["CPUExecutionProvider"])
    mask_feed = {f"mask{i}": m.numpy() for i, m in enumerate(masks)}
    onnx_kernels = template.run(None, {"z": z.numpy(), **mask_feed})
    # Track from the ONNX kernels: the full ONNX pipeline against the full PyTorch one.
    kernel_feed = {f"kernel{i}": k for i, k in enumerate(onnx_kernels)}
    cls, loc = track.run(None, {"x": x.numpy(), **kernel_feed, **mask_feed})
    pairs = {
        "kernels": (
            np.concatenate([k.ravel() for k in onnx_kernels]),
            torch.cat([k.ravel() for k in kernels]),
        ),
        "cls": (cls, reference["cls"]),
        "loc": (loc, reference["loc"]),
    }
    for name, (ours, ref) in pairs.items():
        ref = ref.numpy()
        report.max_abs_diff[name] = float(np.abs(ours - ref).max())
        report.max_rel_diff[name] = report.max_abs_diff[name] / max(float(np.abs(ref).max()), 1e-12)
    logger.info(
        "onnxruntime vs PyTorch: max abs diff %s, relative %s", report.max_abs_diff, report.max_rel_diff
    )
