"""Inputs of the SiamMask parity check: seeded weights and a small synthetic video.

Used by ``tests/test_siammask_tracker.py`` (our tracker) and by
``tests/data/siammask_parity/record_pysot.py`` (PySOT's own tracker, loaded by file path so that this
module must not import anything from ``pysot`` or ``toolkit``: only numpy, torch and cv2).

The weights depend only on each state-dict key's name and shape (a generator seeded with the key's
CRC-32), so PySOT's ``ModelBuilder`` and ours, which share the key names, load the same tensors.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np
import torch

# Frame size and count of the synthetic video; the target's initial box [x, y, w, h] (0-based).
HEIGHT, WIDTH, FRAMES = 240, 320, 4
INIT_BOX = [118.0, 84.0, 64.0, 48.0]
# Bias of the refinement's last convolution: centres the random network's mask probabilities near
# the SiamMask config's threshold (0.15), so that the contour and minAreaRect path is exercised.
REFINE_OUT_BIAS = -1.7
# Extra factors on some weights so that the random network's outputs stay moderate: the input is
# 0-255 and the correlations multiply template and search features.
WEIGHT_GAIN = {"backbone.conv1.weight": 0.01, "refine_head.post2.weight": 15.0}


def seeded_tensor(key: str, shape: tuple[int, ...], dtype: torch.dtype, is_bn: bool) -> torch.Tensor:
    """The tensor for state-dict entry ``key``: He-scaled normal conv weights, BN statistics near (0, 1)."""
    gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
    if not dtype.is_floating_point:
        return torch.zeros(shape, dtype=dtype)
    name = key.rsplit(".", 1)[-1]
    if name == "running_var":
        return 0.5 + torch.rand(shape, generator=gen)
    if name == "running_mean":
        return 0.1 * torch.randn(shape, generator=gen)
    if is_bn and name == "weight":
        return 0.5 + 0.5 * torch.rand(shape, generator=gen)
    if name == "bias":
        if key == "refine_head.post2.bias":
            return torch.full(shape, REFINE_OUT_BIAS)
        return 0.05 * torch.randn(shape, generator=gen)
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    gain = WEIGHT_GAIN.get(key, 1.0)
    return torch.randn(shape, generator=gen) * gain * (1.0 / fan_in) ** 0.5


def seeded_state_dict(template: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Seeded values for every entry of ``template`` (a model's ``state_dict()``), same shapes and dtypes."""
    bn_prefixes = {k.rsplit(".", 1)[0] for k in template if k.endswith("running_var")}
    return {
        k: seeded_tensor(k, tuple(v.shape), v.dtype, k.rsplit(".", 1)[0] in bn_prefixes)
        for k, v in template.items()
    }


def synthetic_frames() -> list[np.ndarray]:
    """``FRAMES`` BGR uint8 (HEIGHT, WIDTH, 3) frames: a textured ellipse drifting right and down
    over a smooth textured background (numpy's PCG64 generator, seed 11)."""
    rng = np.random.default_rng(11)
    background = cv2.GaussianBlur(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8), (0, 0), 3)
    texture = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames = []
    for t in range(FRAMES):
        img = background.copy()
        centre = (int(INIT_BOX[0] + INIT_BOX[2] / 2) + 6 * t, int(INIT_BOX[1] + INIT_BOX[3] / 2) + 3 * t)
        region = np.zeros((HEIGHT, WIDTH), np.uint8)
        cv2.ellipse(region, centre, (32, 24), 10 * t, 0, 360, 255, -1)
        img[region > 0] = texture[region > 0]
        frames.append(img)
    return frames
