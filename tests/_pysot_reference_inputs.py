"""Inputs of the PySOT tracker parity check: seeded weights, configurations and a synthetic video.

Used by ``tests/test_pysot_parity.py`` (our trackers) and by the recording snippet in
``tests/data/pysot_reference/README.md`` (PySOT's own trackers, which loads this file by path), so
this module imports nothing from ``pysot`` or ``toolkit``: only numpy, torch and cv2.

The weights depend only on each state-dict key's name and shape (a ``torch.Generator`` seeded with
the key's CRC-32), so PySOT's ``ModelBuilder`` and ours, which share the key names, load the same
tensors.
"""

from __future__ import annotations

import zlib

import cv2
import numpy as np
import torch

# Frame size and count of the synthetic video; the target's initial box [x, y, w, h] (0-based).
# The target starts 30 px from the right border, drifts right/down and grows, so the tracked box
# moves, changes size and is clipped at the image border.
HEIGHT, WIDTH, FRAMES = 150, 200, 7
INIT_BOX = [142.0, 60.0, 36.0, 26.0]

# Case name -> (PySOT experiment folder, config overrides applied to both implementations, frames
# used (the init frame included)). "alex_lt" is PySOT's long-term tracker on the AlexNet model with
# confidence thresholds that make it switch into the long-term state (frame 6: score 0.630), search
# the enlarged region and switch back (frame 7: 0.730), then stay between the thresholds (frame 8).
CASES = {
    "alex": ("siamrpn_alex_dwxcorr", [], FRAMES),
    "mobilev2": ("siamrpn_mobilev2_l234_dwxcorr", [], 3),
    "r50": ("siamrpn_r50_l234_dwxcorr", [], 2),
    "alex_lt": (
        "siamrpn_alex_dwxcorr",
        ["TRACK.TYPE", "SiamRPNLTTracker", "TRACK.CONFIDENCE_LOW", 0.69, "TRACK.CONFIDENCE_HIGH", 0.71],
        FRAMES + 2,
    ),
}

# Extra factors on some weights so that the random network's outputs stay moderate: the input is
# 0-255, and the correlations multiply template and search features; the last head convolutions
# give loc deltas of a few tenths (boxes move and change size) and logits of a few units.
FIRST_CONV = {
    "alex": "backbone.features.0.weight",
    "mobilev2": "backbone.layer0.0.weight",
    "r50": "backbone.conv1.weight",
}
INPUT_GAIN = 0.01
# (cls, loc) gains of the heads' last convolutions; ResNet-50's deeper features are far larger
HEAD_GAIN = {"alex": (0.5, 0.2), "mobilev2": (0.5, 0.2), "r50": (0.5 / 400, 0.2 / 100)}


def seeded_tensor(
    key: str, shape: tuple[int, ...], dtype: torch.dtype, is_bn: bool, arch: str
) -> torch.Tensor:
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
        return 0.05 * torch.randn(shape, generator=gen)
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    gain = 1.0
    if key == FIRST_CONV[arch]:
        gain = INPUT_GAIN
    elif key.endswith(".head.3.weight"):  # the heads' last convolutions
        gain = HEAD_GAIN[arch][1 if ".loc." in key else 0]
    return torch.randn(shape, generator=gen) * gain * (2.0 / fan_in) ** 0.5


def seeded_state_dict(template: dict[str, torch.Tensor], case: str) -> dict[str, torch.Tensor]:
    """Seeded values for every entry of ``template`` (a model's ``state_dict()``), same shapes and dtypes."""
    bn_prefixes = {k.rsplit(".", 1)[0] for k in template if k.endswith("running_var")}
    arch = case.split("_")[0]
    return {
        k: seeded_tensor(k, tuple(v.shape), v.dtype, k.rsplit(".", 1)[0] in bn_prefixes, arch)
        for k, v in template.items()
    }


def synthetic_frames(count: int = FRAMES) -> list[np.ndarray]:
    """``count`` BGR uint8 (HEIGHT, WIDTH, 3) frames: a textured ellipse drifting right and down and
    growing over a smooth textured background (numpy's PCG64 generator, seed 16)."""
    rng = np.random.default_rng(16)
    background = cv2.GaussianBlur(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8), (0, 0), 2)
    texture = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames = []
    for t in range(count):
        img = background.copy()
        cx = int(INIT_BOX[0] + INIT_BOX[2] / 2) + 7 * t
        cy = int(INIT_BOX[1] + INIT_BOX[3] / 2) + 4 * t
        region = np.zeros((HEIGHT, WIDTH), np.uint8)
        cv2.ellipse(region, (cx, cy), (18 + 3 * t, 13 + 2 * t), 8 * t, 0, 360, 255, -1)
        img[region > 0] = texture[region > 0]
        frames.append(img)
    return frames
