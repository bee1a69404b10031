"""Inference-only copies of a tracking model: BatchNorm folded into convolutions, reduced precision.

``TRACK.PRECISION`` selects the arithmetic of the backbone, neck and heads:

``fp32``   float32 (the default).
``bf16``   bfloat16: CPUs with AVX512-BF16 or AMX-BF16 (weights converted, channels_last), CUDA
           devices that support it (autocast).
``fp16``   float16: CUDA only (autocast).
``auto``   the fastest of these the device supports (CUDA: fp16; CPU: bf16 where the CPU has the
           instructions, else fp32); the choice is logged.

A mode the device cannot run raises :class:`PrecisionError` naming the mode and the device; there
is no silent fallback. Two further modes exist for accuracy studies only, chosen explicitly:
``bf16_emulated`` and ``fp16_emulated`` run float32 kernels with the weights, the input and every
module's output rounded to bfloat16 / float16 (storage rounding with float32 accumulation, as
oneDNN/AMX and tensor cores do); they measure the numerics of a reduced mode on a machine that
cannot run it, at float32 speed, and are never picked by ``auto``.

:func:`fold_batchnorm` returns a copy of a model in which every ``Conv2d -> BatchNorm2d`` pair
(adjacent in an ``nn.Sequential``, or a ``convN``/``bnN`` attribute pair as in ResNet blocks) is
replaced by one convolution with the BatchNorm's eval-mode affine map folded into its weight and
bias (``w' = w * g / sqrt(v + eps)``, ``b' = (b - m) * g / sqrt(v + eps) + beta``, computed in
float64). The source model, its training behaviour and its checkpoint are untouched.

:class:`InferenceModel` wraps the folded copy in the chosen precision and exposes the tracker's
model interface (``template``, ``track``, ``backbone_features``, ...); :meth:`InferenceModel.fit_features`
gives float32 backbone features for the target-aware fit in every mode.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import platform
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

logger = logging.getLogger(__name__)

__all__ = [
    "EMULATED",
    "PRECISIONS",
    "InferenceModel",
    "PrecisionError",
    "cpu_bf16_instructions",
    "cpu_flags",
    "cpu_model_name",
    "describe_device",
    "OneDNNBackbone",
    "fold_batchnorm",
    "onednn_available",
    "prepare_inference",
    "resolve_precision",
    "supported_precisions",
]

PRECISIONS = ("fp32", "bf16", "fp16", "auto")
#: Opt-in numerics emulation for accuracy studies (float32 kernels, storage rounded to the dtype).
EMULATED = {"bf16_emulated": torch.bfloat16, "fp16_emulated": torch.float16}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
#: CPU flags (``/proc/cpuinfo``) that give native bfloat16 arithmetic.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


class PrecisionError(ValueError):
    """The requested ``TRACK.PRECISION`` cannot run on the device."""


# ----------------------------------------------------------------------------- device capabilities
@functools.lru_cache(maxsize=1)
def _cpuinfo() -> str:
    path = Path("/proc/cpuinfo")
    return path.read_text() if path.is_file() else ""


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where that file does not exist)."""
    for line in _cpuinfo().splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_model_name() -> str:
    """``model name`` from ``/proc/cpuinfo``, else ``platform.processor()``."""
    for line in _cpuinfo().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def cpu_bf16_instructions() -> list[str]:
    """Which of AMX-BF16 / AVX512-BF16 this CPU has (``/proc/cpuinfo`` flags; empty if none).

    Where ``/proc/cpuinfo`` is missing, oneDNN's own check (``torch.ops.mkldnn``) decides.
    """
    flags = cpu_flags()
    if flags:
        return [f for f in BF16_CPU_FLAGS if f in flags]
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return ["onednn_bf16"] if check is not None and check() else []


def describe_device(device: torch.device | str) -> str:
    """One line naming the device: the GPU's name, or the CPU model with its vector extensions."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    bf16 = cpu_bf16_instructions()
    return (
        f"cpu ({cpu_model_name()}; torch CPU capability {torch.backends.cpu.get_cpu_capability()}; "
        f"bf16 instructions: {', '.join(bf16) if bf16 else 'none'})"
    )


def supported_precisions(device: torch.device | str) -> list[str]:
    """Modes the device runs natively, fastest last: CPU fp32 [+ bf16]; CUDA fp32 [+ bf16] + fp16."""
    device = torch.device(device)
    if device.type == "cuda":
        return ["fp32"] + (["bf16"] if torch.cuda.is_bf16_supported() else []) + ["fp16"]
    if device.type == "cpu":
        return ["fp32"] + (["bf16"] if cpu_bf16_instructions() else [])
    return ["fp32"]


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """The mode to run: ``precision`` itself, or for ``auto`` the fastest supported one (logged).

    Raises:
        ValueError: an unknown mode (the message lists the known ones).
        PrecisionError: the device cannot run the mode (the message names both).
    """
    device = torch.device(device)
    if precision in EMULATED:
        logger.warning(
            "TRACK.PRECISION=%s: %s numerics emulated with float32 kernels (accuracy studies only; "
            "not faster)", precision, precision.split("_")[0]
        )
        return precision
    if precision not in PRECISIONS:
        raise ValueError(
            f"TRACK.PRECISION={precision!r} is not known; known: {', '.join(PRECISIONS)} "
            f"(and, for accuracy studies, {', '.join(EMULATED)})"
        )
    supported = supported_precisions(device)
    if precision == "auto":
        chosen = supported[-1]
        logger.info(
            "TRACK.PRECISION=auto: %s on %s (supported: %s)", chosen, describe_device(device), supported
        )
        return chosen
    if precision not in supported:
        need = {"bf16": "a CPU with AVX512-BF16 or AMX-BF16, or a CUDA GPU with bf16", "fp16": "a CUDA GPU"}
        raise PrecisionError(
            f"TRACK.PRECISION={precision} cannot run on {describe_device(device)}: it needs "
            f"{need[precision]}; this device supports {', '.join(supported)}"
        )
    return precision


# ----------------------------------------------------------------------------- BatchNorm folding
def _fold_pair(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A new Conv2d equal to ``bn(conv(x))`` with ``bn`` in eval mode (float64 arithmetic)."""
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("cannot fold a BatchNorm2d without running statistics")
    fused = copy.deepcopy(conv)
    w = conv.weight.detach().double()
    scale = bn.running_var.detach().double().add(bn.eps).rsqrt()
    if bn.weight is not None:
        scale = scale * bn.weight.detach().double()
    bias = conv.bias.detach().double() if conv.bias is not None else torch.zeros_like(scale)
    bias = (bias - bn.running_mean.detach().double()) * scale
    if bn.bias is not None:
        bias = bias + bn.bias.detach().double()
    fused.weight = nn.Parameter((w * scale.reshape(-1, 1, 1, 1)).to(conv.weight.dtype), requires_grad=False)
    fused.bias = nn.Parameter(bias.to(conv.weight.dtype), requires_grad=False)
    return fused


def _foldable(conv: Any, bn: Any) -> bool:
    return (
        type(conv) is nn.Conv2d
        and type(bn) is nn.BatchNorm2d
        and bn.num_features == conv.out_channels
        and bn.track_running_stats
    )


def _fold_in_place(module: nn.Module) -> int:
    count = 0
    if isinstance(module, nn.Sequential):
        names = list(module._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = module._modules[a], module._modules[b]
            if _foldable(conv, bn):
                module._modules[a] = _fold_pair(conv, bn)
                module._modules[b] = nn.Identity()
                count += 1
    else:
        for name, child in list(module._modules.items()):
            if name.startswith("conv") and name[4:].isdigit():
                bn_name = "bn" + name[4:]
                bn = module._modules.get(bn_name)
                if _foldable(child, bn):
                    module._modules[name] = _fold_pair(child, bn)
                    module._modules[bn_name] = nn.Identity()
                    count += 1
    for child in module.children():
        count += _fold_in_place(child)
    return count


def fold_batchnorm(model: nn.Module) -> tuple[nn.Module, int]:
    """``(copy, folded)``: an eval-mode deep copy of ``model`` with its Conv2d -> BatchNorm2d pairs folded.

    Only the structurally certain pairs are folded (adjacent in an ``nn.Sequential``; ``convN`` and
    ``bnN`` attributes of one module, the ResNet block pattern, where ``bnN`` directly follows
    ``convN`` in ``forward``); ``folded`` counts them. ``model`` itself is not modified.
    """
    fused = copy.deepcopy(model).eval()
    count = _fold_in_place(fused)
    for p in fused.parameters():
        p.requires_grad_(False)
    return fused, count


def count_batchnorm(model: nn.Module) -> int:
    """Number of BatchNorm2d modules in ``model``."""
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())


# ----------------------------------------------------------------------------- emulation
def _round_to(dtype: torch.dtype) -> Callable[[Any], Any]:
    def round_(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value.to(dtype).to(value.dtype)
        if isinstance(value, (list, tuple)):
            return type(value)(round_(v) for v in value)
        return value

    return round_


def _emulate(model: nn.Module, dtype: torch.dtype) -> None:
    """Round ``model``'s parameters and buffers to ``dtype`` and every leaf module's output (hooks)."""
    round_ = _round_to(dtype)
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(round_(t))
    for m in model.modules():
        if not list(m.children()):
            m.register_forward_hook(lambda _m, _inp, out: round_(out))


# ----------------------------------------------------------------------------- oneDNN layout
def onednn_available(device: torch.device | str) -> bool:
    """Whether :class:`OneDNNBackbone` can run here (a CPU device and a torch built with oneDNN)."""
    return torch.device(device).type == "cpu" and torch.backends.mkldnn.is_available()


class OneDNNBackbone(nn.Module):
    """A float32 backbone whose convolutions keep their weights pre-packed in oneDNN's blocked layout.

    ``torch.utils.mkldnn.to_mkldnn`` converts ``Conv2d``/``BatchNorm2d``/``Linear`` of a copy
    (``onednn``) to modules that hold oneDNN-format weights; the input is converted once, every
    layer runs on oneDNN tensors (no NCHW <-> blocked reorder of activations and weights per
    convolution, which the plain CPU path pays), and the outputs come back as ordinary dense
    tensors, so the neck, heads and channel masks are unchanged. Same float32 arithmetic up to the
    order of accumulation. A backbone with an operation oneDNN tensors do not support raises at its
    first call: from then on the dense backbone (``dense``, the one passed in, not modified) runs,
    logged once. Other attributes (e.g. ``out_channels``) are the dense backbone's.
    """

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        from torch.utils import mkldnn

        self.dense = backbone
        with warnings.catch_warnings():  # torch's converted modules use the deprecated jit.script_method
            warnings.simplefilter("ignore", FutureWarning)
            self.onednn: nn.Module | None = mkldnn.to_mkldnn(copy.deepcopy(backbone).eval())

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["dense"], name)

    def forward(self, x: torch.Tensor) -> Any:
        if self.onednn is not None:
            try:
                out = self.onednn(x.float().contiguous().to_mkldnn())
            except RuntimeError as err:
                logger.info("oneDNN layout not usable for this backbone (%s); dense layout kept", err)
                self.onednn = None
            else:
                if isinstance(out, (list, tuple)):
                    return type(out)(o.to_dense() for o in out)
                return out.to_dense()
        return self.dense(x)


# ----------------------------------------------------------------------------- the wrapper
class InferenceModel(nn.Module):
    """A tracking model prepared for inference: folded BatchNorm, chosen precision, layout.

    Args:
        model: a ``ModelBuilder``-like module (``backbone_features``, ``template_from_features``,
            ``track``, ``set_channel_masks``; ``template``), on its device. It is not modified.
        precision: a mode already checked by :func:`resolve_precision` (not ``auto``).
        fuse: fold BatchNorm into the convolutions (a copy; the source model is left as it is).
        channels_last: run on NHWC tensors (default: on CUDA and for CPU bf16, where oneDNN
            prefers it; off for CPU float32, where it was measured slower, docs/tracker.md).
        onednn: run the backbone of a folded float32 CPU model in oneDNN's blocked layout
            (:class:`OneDNNBackbone`; default: whenever ``fuse`` and fp32 on a CPU with oneDNN and
            not ``channels_last``; measured faster, docs/tracker.md).

    Outputs are float32: the tracker's decoding, penalties and box arithmetic stay float32/64.
    Attributes not defined here (e.g. SiamMask's ``mask_refine``) are looked up on the wrapped copy.
    """

    def __init__(
        self,
        model: nn.Module,
        precision: str = "fp32",
        fuse: bool = True,
        channels_last: bool | None = None,
        onednn: bool | None = None,
    ) -> None:
        super().__init__()
        device = _device(model)
        if precision == "auto" or precision not in (*DTYPES, *EMULATED):
            raise ValueError(f"InferenceModel needs a resolved precision, got {precision!r}")
        self.precision = precision
        self.folded = 0
        base = model
        if fuse:
            base, self.folded = fold_batchnorm(model)
        self.fp32 = base
        self.autocast_dtype: torch.dtype | None = None
        self.input_dtype = torch.float32
        if channels_last is None:
            channels_last = device.type == "cuda" or (device.type == "cpu" and precision == "bf16")
        self.channels_last = channels_last
        if precision in EMULATED:
            net = copy.deepcopy(base)
            _emulate(net, EMULATED[precision])
        elif precision != "fp32" and device.type == "cpu":
            net = copy.deepcopy(base).to(DTYPES[precision])
            self.input_dtype = DTYPES[precision]
        else:
            net = base
            if precision != "fp32":
                self.autocast_dtype = DTYPES[precision]
        if channels_last:
            net = net.to(memory_format=torch.channels_last)
        if onednn is None:
            onednn = fuse and precision == "fp32" and not channels_last and onednn_available(device)
        elif onednn and not (fuse and precision == "fp32" and onednn_available(device)):
            raise ValueError("the oneDNN layout needs a folded (fuse=True) float32 model on a CPU")
        self.onednn = onednn
        if onednn and hasattr(net, "backbone"):
            # net is the folded copy (fuse=True), so the caller's model keeps its own backbone
            net.backbone = OneDNNBackbone(net.backbone)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.net = net

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            net = self.__dict__.get("_modules", {}).get("net")
            if net is None:
                raise
            return getattr(net, name)

    # ---------------------------------------------------------------- helpers
    def _context(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=_device(self.net).type, dtype=self.autocast_dtype)

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        if self.precision in EMULATED:
            x = _round_to(EMULATED[self.precision])(x)
        x = x.to(self.input_dtype)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _feats(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [f.to(self.input_dtype) for f in feats]

    @staticmethod
    def _float(out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {k: v.float() if v.is_floating_point() else v for k, v in out.items()}

    # ---------------------------------------------------------------- the tracker's interface
    @property
    def feature_channels(self) -> list[int]:
        return self.net.feature_channels

    def set_channel_masks(self, masks: Sequence[torch.Tensor | None] | None) -> None:
        self.net.set_channel_masks(masks)

    def fit_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """float32 backbone features (the folded float32 copy) for the target-aware fit, any mode."""
        return self.fp32.backbone_features(x)

    def backbone_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Backbone features in the model's precision (pass them to :meth:`template_from_features`)."""
        with self._context():
            return self.net.backbone_features(self._input(x))

    def template(self, z: torch.Tensor) -> None:
        with self._context():
            self.net.template(self._input(z))

    def template_from_features(self, feats: Sequence[torch.Tensor]) -> None:
        with self._context():
            self.net.template_from_features(self._feats(feats))

    def track(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        with self._context():
            return self._float(self.net.track(self._input(x)))

    def track_reference(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        with self._context():
            return self._float(self.net.track_reference(self._input(x)))

    def mask_refine(self, pos: tuple[int, int]) -> torch.Tensor:
        with self._context():
            return self.net.mask_refine(pos).float()


def _device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def prepare_inference(
    model: nn.Module, precision: str = "fp32", fuse: bool = True, channels_last: bool | None = None
) -> nn.Module:
    """``model`` ready for tracking in ``precision`` (``TRACK.PRECISION``), BatchNorm folded if ``fuse``.

    Returns ``model`` itself when nothing would change (float32 and no BatchNorm to fold, e.g. a
    scripted test model); otherwise an :class:`InferenceModel`. ``auto`` is resolved (and logged)
    here; an unsupported mode raises :class:`PrecisionError`.
    """
    precision = resolve_precision(precision, _device(model))
    if precision == "fp32" and not channels_last and (not fuse or count_batchnorm(model) == 0):
        return model
    return InferenceModel(model, precision, fuse, channels_last)
