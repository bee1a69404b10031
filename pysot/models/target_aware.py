"""Target-aware channel selection of Ta-SiamRPN++ (Chen et al., Acta Optica Sinica 40(9), 2020).

At tracker initialisation, per backbone layer, a single convolution (C -> 1 channel, kernel
``k = 2 * ceil((h - 8) / 2) + 1`` for a template feature side ``h``, 'same' padding, with bias) is
regressed from the search-crop features ``x`` (1, C, H, W) (target at the centre) onto a Gaussian
label ``y`` (H, W) (:func:`gaussian_label`). Channel ``c``'s importance is the sum of its fitted
weights over the kernel positions; the top-k channels per layer are kept (masks of 1) and the others
zeroed in the template and search features before the neck (the RPN heads are unchanged).

Methods (``TA.METHOD``):

``sgd``
    The paper's procedure: SGD with momentum and weight decay from weights of about 1e-10, at most
    ``MAX_ITERS`` steps, stopping when ``mse + 1e-4 * sum(w^2) < LOSS_STOP``, on detached features.
    Fallback: when the fit diverges (a non-finite loss or final loss above the initial one; with
    the paper's learning rates this happens on ResNet50 features of RMS 1-2), a warning is logged
    and the fit is rerun from the same start with the step clamped to ``FALLBACK_STEP * 2 (1 + m)
    / L`` (``L`` the largest curvature of the loss, ``2 (1 + m) / L`` the stability limit of
    momentum SGD); if that diverges too, the ``gradient`` importance is used.
``dual``
    The same iterations, run in the ``H * W``-dimensional dual space: every SGD iterate is
    ``w_t = A^T alpha_t + beta_t w_0`` (``A`` the (H*W, C*k*k + 1) design matrix of the conv with
    bias), so the kernel ``A A^T`` (built from the channel Gram matrix of ``x``) replaces the two
    convolutions per step. Same start, same stopping rule, same fallback; only the floating-point
    rounding differs (float64 here), so it selects the same channels far faster. Before iterating
    it compares the step with the stability limit ``2 (1 + m) / L`` of the power-iteration
    curvature ``L`` (a lower bound of the largest one): a step at or above it certainly diverges,
    so the fit goes straight to the clamped step (the step ``sgd`` refits with after diverging)
    instead of running, detecting the divergence and refitting. ``MAX_ITERS = t`` gives iterate t.
``gradient``
    TADT-style: importance from the loss gradient at the initial weights (the first step's direction).

``x`` is detached; all randomness comes from a local ``torch.Generator`` seeded with ``TA.SEED``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from yacs.config import CfgNode

logger = logging.getLogger(__name__)

METHODS = ("sgd", "dual", "gradient")
# The reference adds this multiple of sum(weight^2) to the loss it compares with LOSS_STOP (no gradient).
REPORTED_WEIGHT_PENALTY = 1e-4
# Power iterations used by ``sgd`` to estimate the loss curvature for its fallback step.
POWER_ITERS = 20
FLOAT32_MAX = torch.finfo(torch.float32).max


def regression_kernel_size(template_side: int) -> int:
    """Kernel side of the regression conv: ``2 * ceil((h - 8) / 2) + 1`` (9 for h = 15), at least 1."""
    return max(1, 2 * math.ceil((template_side - 8) / 2) + 1)


def gaussian_label(
    out_hw: Sequence[int], template_hw: Sequence[int], sigma_factor: float = 0.1, alpha: float = 0.2
) -> torch.Tensor:
    """Regression target (H, W) float32: ``exp(-alpha * (di^2 / sigma_h^2 + dj^2 / sigma_w^2))``.

    ``di, dj`` are offsets from the map centre ``((H - 1) / 2, (W - 1) / 2)``; ``sigma = sigma_factor
    * (h, w)`` of the template features. For a 31x31 map and 15x15 template: 1 at the centre, 0.9149
    one cell off, 0.7008 two cells off, sum 35.34.
    """
    h_out, w_out = out_hw
    sigma_h, sigma_w = sigma_factor * template_hw[0], sigma_factor * template_hw[1]
    di = torch.arange(h_out, dtype=torch.float64) - (h_out - 1) / 2
    dj = torch.arange(w_out, dtype=torch.float64) - (w_out - 1) / 2
    label = torch.exp(-alpha * (di[:, None] ** 2 / sigma_h**2 + dj[None, :] ** 2 / sigma_w**2))
    return label.float()


def channel_counts(channels: Sequence[float], layer_channels: Sequence[int], min_channels: int) -> list[int]:
    """Channels kept per layer.

    Args:
        channels: per layer, an int count or a float fraction in (0, 1] of the layer's channels
            (rounded half up, at least 1).
        layer_channels: the layers' channel counts, e.g. (512, 1024, 2048).
        min_channels: minimum kept over the first two layers; a shortfall is filled with more of the
            second layer's best channels, then of the first layer's (the paper: 256 over layer2+3).
    """
    if len(channels) != len(layer_channels):
        raise ValueError(
            f"TA.CHANNELS has {len(channels)} entries but the backbone gives {len(layer_channels)} layers "
            f"with {list(layer_channels)} channels"
        )
    counts = []
    for i, (spec, total) in enumerate(zip(channels, layer_channels)):
        if isinstance(spec, float):
            if not 0.0 < spec <= 1.0:
                raise ValueError(f"TA.CHANNELS[{i}]={spec}: a fraction must lie in (0, 1]")
            counts.append(max(1, int(spec * total + 0.5)))
        elif not 1 <= spec <= total:
            raise ValueError(
                f"TA.CHANNELS[{i}]={spec}: layer {i} has {total} channels; give a count in [1, {total}] "
                "or a fraction such as 0.5"
            )
        else:
            counts.append(int(spec))
    deficit = min_channels - sum(counts[:2])
    for i in reversed(range(min(2, len(counts)))):
        add = max(0, min(deficit, layer_channels[i] - counts[i]))
        counts[i] += add
        deficit -= add
    return counts


def top_k_mask(importance: torch.Tensor, k: int) -> torch.Tensor:
    """Float mask (C,) with 1 at the ``k`` largest importances (ties: lower index first), 0 elsewhere."""
    if not bool(torch.isfinite(importance).all()):
        raise ValueError("channel importances contain NaN or inf; refusing to rank them")
    order = torch.argsort(importance, descending=True, stable=True)
    mask = torch.zeros_like(importance)
    mask[order[:k]] = 1
    return mask


@dataclass
class FitInfo:
    """What one layer's fit did: method finally used, steps taken, last loss, step size, fallback."""

    method: str
    iters: int = 0
    loss: float = float("nan")
    lr: float = 0.0
    fallback: str = ""
    seconds: float = 0.0


@dataclass
class _Problem:
    """One layer's regression: features (1, C, H, W), label (H, W), initial weights (1, C, k, k)."""

    x: torch.Tensor
    label: torch.Tensor
    w0: torch.Tensor
    lr: float
    momentum: float

    @property
    def k(self) -> int:
        return self.w0.shape[-1]


def _diverged(first_loss: float, last_loss: float) -> bool:
    return not (math.isfinite(first_loss) and math.isfinite(last_loss)) or last_loss > first_loss


class TargetAwareSelector:
    """Fits per-layer channel importances and turns them into masks (see the module docstring).

    Args:
        method: 'dual' (default), 'sgd' or 'gradient'.
        channels: kept channels per layer, counts or fractions (:func:`channel_counts`).
        min_channels: minimum kept over the first two layers.
        lr, momentum: SGD step and momentum per layer.
        weight_decay: SGD weight decay (weights and bias).
        max_iters: most SGD steps per fit.
        loss_stop: stop once the reported loss falls below it.
        sigma_factor, alpha: Gaussian label (:func:`gaussian_label`).
        fallback_step: fraction of the momentum-SGD stability limit used after a divergence.
        seed: seed of the local generator of the initial weights.
    """

    def __init__(
        self,
        method: str = "dual",
        channels: Sequence[float] = (300, 1024, 1500),
        min_channels: int = 256,
        lr: Sequence[float] = (1e-3, 1e-3, 4.92e-5),
        momentum: Sequence[float] = (0.98, 0.93, 0.9),
        weight_decay: float = 1e-4,
        max_iters: int = 300,
        loss_stop: float = 1e-4,
        sigma_factor: float = 0.1,
        alpha: float = 0.2,
        fallback_step: float = 0.5,
        seed: int = 0,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"TA.METHOD={method!r} is not known; known: {', '.join(METHODS)}")
        if not len(channels) == len(lr) == len(momentum):
            raise ValueError(
                f"TA.CHANNELS, TA.LR and TA.MOMENTUM need one entry per layer; got {len(channels)}, "
                f"{len(lr)}, {len(momentum)}"
            )
        self.method = method
        self.channels = list(channels)
        self.min_channels = min_channels
        self.lr = list(lr)
        self.momentum = list(momentum)
        self.weight_decay = weight_decay
        self.max_iters = max_iters
        self.loss_stop = loss_stop
        self.sigma_factor = sigma_factor
        self.alpha = alpha
        self.fallback_step = fallback_step
        self.seed = seed
        self.last_fit: list[FitInfo] = []

    @classmethod
    def from_config(cls, ta: CfgNode, **kwargs) -> TargetAwareSelector:
        """Build from the ``TA`` config node; ``kwargs`` override (e.g. ``method``)."""
        args = dict(
            method=ta.METHOD,
            channels=ta.CHANNELS,
            min_channels=ta.MIN_CHANNELS,
            lr=ta.LR,
            momentum=ta.MOMENTUM,
            weight_decay=ta.WEIGHT_DECAY,
            max_iters=ta.MAX_ITERS,
            loss_stop=ta.LOSS_STOP,
            sigma_factor=ta.SIGMA_FACTOR,
            alpha=ta.ALPHA,
            fallback_step=ta.FALLBACK_STEP,
            seed=ta.SEED,
        )
        args.update(kwargs)
        return cls(**args)

    # ------------------------------------------------------------------ public API
    def select(
        self, template_feats: Sequence[torch.Tensor], search_feats: Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        """Per-layer float masks (C_l,) with exactly the counts of :func:`channel_counts` set to 1.

        Args:
            template_feats: backbone outputs for the template crop, (1, C_l, h_l, w_l) each (only
                their spatial size is used: it sets the kernel and the label width).
            search_feats: backbone outputs for the search crop centred on the target, (1, C_l, H, W).
        """
        importances = self.importances(template_feats, search_feats)
        counts = channel_counts(self.channels, [imp.numel() for imp in importances], self.min_channels)
        return [top_k_mask(imp, k) for imp, k in zip(importances, counts)]

    def importances(
        self, template_feats: Sequence[torch.Tensor], search_feats: Sequence[torch.Tensor]
    ) -> list[torch.Tensor]:
        """Per-layer channel importances (C_l,), float, on the features' device; fills ``last_fit``."""
        if len(search_feats) != len(self.lr) or len(template_feats) != len(search_feats):
            raise ValueError(
                f"target-aware selection configured for {len(self.lr)} layers (TA.LR) but got "
                f"{len(template_feats)} template and {len(search_feats)} search feature maps"
            )
        generator = torch.Generator().manual_seed(self.seed)
        self.last_fit = []
        out = []
        with torch.inference_mode(False):
            for layer, (zf, xf) in enumerate(zip(template_feats, search_feats)):
                start = time.perf_counter()
                problem = self._problem(layer, zf, xf, generator)
                imp, info = self._fit(problem, layer)
                info.seconds = time.perf_counter() - start
                self.last_fit.append(info)
                out.append(imp)
        return out

    # ------------------------------------------------------------------ internals
    def _problem(
        self, layer: int, zf: torch.Tensor, xf: torch.Tensor, generator: torch.Generator
    ) -> _Problem:
        x = xf.detach().clone().float()  # a normal tensor even when xf was made in inference mode
        c = x.shape[1]
        k = regression_kernel_size(zf.shape[-2])
        label = gaussian_label(x.shape[-2:], zf.shape[-2:], self.sigma_factor, self.alpha).to(x.device)
        half = (k - 1) / 2
        scale = math.sqrt(max(c * half * half, 1.0)) * 1e8
        w0 = (torch.randn((1, c, k, k), generator=generator) / scale).to(x.device)
        return _Problem(x=x, label=label, w0=w0, lr=self.lr[layer], momentum=self.momentum[layer])

    def _fit(self, p: _Problem, layer: int) -> tuple[torch.Tensor, FitInfo]:
        if self.method == "gradient":
            return _gradient_importance(p), FitInfo(method="gradient")
        solve = _SGDSolver(p, self) if self.method == "sgd" else _DualSolver(p, self)
        if self.method == "dual":
            # predict before iterating: the power-iteration curvature is a lower bound of the largest
            # one, so lr * L >= 2 (1 + m) means momentum SGD certainly diverges on this problem
            curvature = solve.curvature()
            limit = 2 * (1 + p.momentum) / curvature
            if p.lr >= limit:
                lr = min(p.lr, self.fallback_step * limit)
                logger.warning(
                    "target-aware dual fit of layer %d would diverge with lr=%g (stability limit "
                    "2(1+m)/L = %g); fitting with lr=%g",
                    layer,
                    p.lr,
                    limit,
                    lr,
                )
                imp, info = solve.run(lr)
                first_reason = f"predicted divergence: lr={p.lr:g} >= 2(1+m)/L = {limit:g}"
                if not info.fallback:
                    info.fallback = first_reason
                    return imp, info
                return self._gradient_fallback(p, layer, lr, first_reason, info)
        imp, info = solve.run(p.lr)
        if info.fallback:
            lr = min(p.lr, self.fallback_step * 2 * (1 + p.momentum) / solve.curvature())
            logger.warning(
                "target-aware %s fit of layer %d diverged (%s) with lr=%g; refitting with lr=%g",
                self.method,
                layer,
                info.fallback,
                p.lr,
                lr,
            )
            first_reason = info.fallback
            imp, info = solve.run(lr)
            if info.fallback:
                return self._gradient_fallback(p, layer, lr, first_reason, info)
            info.fallback = first_reason
        return imp, info

    def _gradient_fallback(
        self, p: _Problem, layer: int, lr: float, first_reason: str, info: FitInfo
    ) -> tuple[torch.Tensor, FitInfo]:
        """After a second divergence: the gradient importance, with a warning."""
        logger.warning(
            "target-aware %s fit of layer %d diverged again (%s) with lr=%g; using the gradient "
            "importance",
            self.method,
            layer,
            info.fallback,
            lr,
        )
        imp = _gradient_importance(p)
        info = FitInfo(method="gradient", lr=lr, fallback=f"{first_reason}; then {info.fallback}")
        if not bool(torch.isfinite(imp).all()):
            raise ValueError(
                f"layer {layer}: non-finite gradient importance; are the features finite?"
            )
        return imp, info


def _box_sums(x: torch.Tensor, k: int) -> torch.Tensor:
    """Sum of x (1, C, H, W) over each k x k window with zero padding: (C, H*W), float64 (integral image)."""
    pad = k // 2
    _, c, h, w = x.shape
    integral = F.pad(x[0].double(), (pad + 1, pad, pad + 1, pad)).cumsum(1).cumsum(2)
    s = integral[:, k:, k:] - integral[:, :-k, k:] - integral[:, k:, :-k] + integral[:, :-k, :-k]
    return s.reshape(c, h * w)


def _diagonal_window_sums(t: torch.Tensor, k: int, dims: tuple[int, int]) -> torch.Tensor:
    """``sum_{b < k} t[.., b + j, .., b + j', ..]`` over the two axes ``dims`` (equal lengths L):
    the axes shrink to ``L - k + 1``. Sums of power-of-two windows are doubled up (k = 9: 4
    additions of whole arrays instead of 8)."""

    def part(x: torch.Tensor, start: int, length: int) -> torch.Tensor:
        return x.narrow(dims[0], start, length).narrow(dims[1], start, length)

    out_len = t.shape[dims[0]] - k + 1
    result: torch.Tensor | None = None
    power, size, offset, remaining = t, 1, 0, k
    while remaining:
        if remaining & 1:
            piece = part(power, offset, out_len)
            result = piece.clone() if result is None else result.add_(piece)
            offset += size
        remaining >>= 1
        if remaining:
            length = power.shape[dims[0]] - size
            power = part(power, 0, length) + part(power, size, length)
            size *= 2
    assert result is not None
    return result


def _gram(xf: torch.Tensor, blocks: int = 4) -> torch.Tensor:
    """``xf.T @ xf`` for xf (C, N): the blocks on and above the diagonal, the rest by symmetry.

    10 of 16 block products, about 30 % faster on one CPU thread than the full product for
    N = 961, C = 2048 (measured); each entry is the same dot product as in the full product.
    """
    n = xf.shape[1]
    edges = [round(i * n / blocks) for i in range(blocks + 1)]
    out = xf.new_empty((n, n))
    for i in range(blocks):
        rows = slice(edges[i], edges[i + 1])
        left = xf[:, rows].T
        for j in range(i, blocks):
            cols = slice(edges[j], edges[j + 1])
            block = left @ xf[:, cols]
            out[rows, cols] = block
            if j > i:
                out[cols, rows] = block.T
    return out


def _conv_single(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """'Same' cross-correlation of x (1, C, H, W) with one filter (1, C, k, k): (H*W,) float64.

    One matrix product per kernel offset instead of a single-output convolution, which is slow on CPU.
    """
    _, c, h, w = x.shape
    k = weight.shape[-1]
    pad = k // 2
    xpad = F.pad(x[0], (pad, pad, pad, pad)).reshape(c, -1)
    per_offset = (weight[0].reshape(c, k * k).T @ xpad).double().reshape(k, k, h + 2 * pad, w + 2 * pad)
    out = sum(per_offset[a, b, a : a + h, b : b + w] for a in range(k) for b in range(k))
    return out.reshape(-1)


def _gradient_importance(p: _Problem) -> torch.Tensor:
    """-(d mse / d w) at the initial weights, summed over kernel positions: (C,) float32."""
    r0 = _conv_single(p.x, p.w0)
    residual = p.label.double().reshape(-1) - r0
    _, c, h, w = p.x.shape
    # sum_q box_sums(x)[c, q] r_q = x_c . (window sums of r): no (C, H*W) box-sum matrix
    window_sums = _box_sums(residual.reshape(1, 1, h, w), p.k)[0]
    imp = (p.x[0].reshape(c, h * w).double() @ window_sums) * (2.0 / residual.numel())
    return imp.float()


class _SGDSolver:
    """The paper's fit: a conv (C -> 1, with bias) trained by SGD on the detached features.

    The update is PyTorch's ``torch.optim.SGD`` rule (momentum, no dampening, weight decay added
    to the gradient): ``buf = m * buf + (grad + wd * param)``, ``param -= lr * buf``, written out so
    the fit needs no optimizer machinery.
    """

    def __init__(self, p: _Problem, sel: TargetAwareSelector) -> None:
        self.p, self.sel = p, sel

    def _loss(self, weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, float]:
        out = F.conv2d(self.p.x, weight, bias, padding=self.p.k // 2)
        mse = F.mse_loss(out[0, 0], self.p.label)
        reported = mse.detach() + REPORTED_WEIGHT_PENALTY * weight.detach().pow(2).sum()
        return mse, float(reported)

    def run(self, lr: float) -> tuple[torch.Tensor, FitInfo]:
        p, sel = self.p, self.sel
        m, wd = p.momentum, sel.weight_decay
        weight = p.w0.clone().requires_grad_(True)
        bias = torch.zeros(1, device=p.x.device, requires_grad=True)
        bufs = [torch.zeros_like(weight), torch.zeros_like(bias)]
        info = FitInfo(method="sgd", lr=lr)
        with torch.enable_grad():
            mse, first = self._loss(weight, bias)
            loss = first
            for it in range(sel.max_iters):
                if not math.isfinite(loss):
                    info.fallback = f"non-finite loss at step {it}"
                    break
                if loss < sel.loss_stop:
                    break
                grads = torch.autograd.grad(mse, [weight, bias])
                with torch.no_grad():
                    for param, grad, buf in zip((weight, bias), grads, bufs):
                        buf.mul_(m).add_(grad + wd * param)
                        param.sub_(lr * buf)
                info.iters = it + 1
                mse, loss = self._loss(weight, bias)
        info.loss = loss
        if not info.fallback and _diverged(first, loss):
            info.fallback = f"loss grew from {first:.3g} to {loss:.3g}"
        return weight.detach().sum(dim=(0, 2, 3)), info

    def curvature(self) -> float:
        """Largest eigenvalue of the loss Hessian over (weight, bias) plus the weight decay.

        ``POWER_ITERS`` power iterations from the all-ones vector; the Rayleigh quotient of the last.
        """
        p = self.p
        n = p.label.numel()
        w = torch.ones_like(p.w0)
        b = torch.ones(1, device=p.x.device)
        lam = 0.0
        with torch.enable_grad():
            for _ in range(POWER_ITERS):
                norm = torch.sqrt(w.pow(2).sum() + b.pow(2).sum())
                w = (w / norm).requires_grad_(True)
                b = b / norm
                u = F.conv2d(p.x, w, padding=p.k // 2)[0, 0] + b  # A v
                (w_new,) = torch.autograd.grad(u, w, grad_outputs=u)  # A^T u (weight part)
                w_new, b_new = w_new * (2.0 / n), u.detach().sum().reshape(1) * (2.0 / n)
                lam = float((w_new * w.detach()).sum() + (b_new * b).sum())
                w, b = w_new, b_new
        return lam + self.sel.weight_decay


class _DualSolver:
    """The same SGD iterations in the dual: iterate ``theta = A^T alpha + beta theta_0``.

    ``A`` is the (H*W, C*k*k + 1) design matrix of the conv with bias and ``K = A A^T`` its
    (H*W, H*W) kernel, built from the channel Gram matrix of the features. An SGD step on
    ``theta`` is a step on ``(alpha, beta)``: residual ``r - y = K alpha + beta A theta_0 - y``,
    weight norm ``alpha.K_w alpha + 2 beta alpha.A w_0 + beta^2 |w_0|^2`` (``K_w = K - 1``, without
    the bias column); so each step costs one (H*W)^2 product instead of two convolutions.
    """

    def __init__(self, p: _Problem, sel: TargetAwareSelector) -> None:
        self.p, self.sel = p, sel
        x, k = p.x, p.k
        _, c, h, w = x.shape
        pad = k // 2
        xf = x[0].reshape(c, h * w)
        gram = _gram(xf).reshape(h, w, h, w)
        gpad = F.pad(gram, (pad, pad, pad, pad, pad, pad, pad, pad))  # zero features outside the map
        # kern_w[i, j, i', j'] = sum_{a, b} gpad[i + a, j + b, i' + a, j' + b], summed over b, then a;
        # built in float32 like the convolutions of the sgd fit, iterated in float64
        kern_w = _diagonal_window_sums(_diagonal_window_sums(gpad, k, (1, 3)), k, (0, 2))
        # float32 entries, kept as float32 (no rounding) and read by the compiled loop with float64 sums
        self.kern32 = np.ascontiguousarray(kern_w.reshape(h * w, h * w).cpu().numpy())
        self.xd = xf.double()  # importance = box-sums of x . alpha = x . (box-sums of alpha), see run()
        self.r0 = _conv_single(x, p.w0)  # A theta_0 (initial bias 0)
        self.w0_sq = float(p.w0.double().pow(2).sum())
        self.y = p.label.double().reshape(-1)
        self._curvature: float | None = None

    def run(self, lr: float) -> tuple[torch.Tensor, FitInfo]:
        """Momentum SGD on ``(alpha, beta)`` (:func:`pysot.models.dual_kernels.dual_iterations`):
        ``gamma = m gamma + (2 / n) res + wd alpha``, ``alpha -= lr gamma`` (and the same for the
        scalar ``beta``), the loss checked before every step, as ``sgd`` does."""
        from pysot.models.dual_kernels import dual_iterations

        p, sel = self.p, self.sel
        info = FitInfo(method="dual", lr=lr)
        alpha_np, beta, info.iters, loss, first, bad_step = dual_iterations(
            self.kern32,
            self.r0.cpu().numpy(),
            self.y.cpu().numpy(),
            float(lr),
            float(p.momentum),
            float(sel.weight_decay),
            int(sel.max_iters),
            float(sel.loss_stop),
            self.w0_sq,
            REPORTED_WEIGHT_PENALTY,
            FLOAT32_MAX,
        )
        if bad_step >= 0:
            info.fallback = f"non-finite loss at step {bad_step}"
        alpha = torch.from_numpy(alpha_np).to(self.y.device)
        info.loss = loss
        if not info.fallback and _diverged(first, loss):
            info.fallback = f"loss grew from {first:.3g} to {loss:.3g}"
        # kernel sums of A^T alpha: sum_p alpha_p sum_{|o| <= k//2} x(p + o) = x . (window sums of alpha)
        _, _, h, w = p.x.shape
        imp = self.xd @ _box_sums(alpha.reshape(1, 1, h, w), p.k)[0] + beta * p.w0.double().sum(dim=(0, 2, 3))
        return imp.float(), info

    def curvature(self) -> float:
        """The power iteration of :meth:`_SGDSolver.curvature`, run on ``u = A v`` in the dual."""
        from pysot.models.dual_kernels import power_curvature

        if self._curvature is not None:
            return self._curvature
        _, c, h, w = self.p.x.shape
        # A applied to the all-ones (weight, bias) vector: the window sums of the channel sum, plus 1
        u = _box_sums(self.p.x.sum(1, keepdim=True), self.p.k)[0] + 1.0
        v_sq = float(c * self.p.k**2 + 1)
        lam = power_curvature(self.kern32, u.cpu().numpy().copy(), v_sq, POWER_ITERS)
        self._curvature = lam + self.sel.weight_decay
        return self._curvature
