"""Scene simulation and rendering for the synthetic tracking benchmark.

A video is a textured planar target (a rotated rectangle) moving over a photographic background,
with optional challenges (``CHALLENGES``): scale and aspect change, in-plane rotation, fast
motion, motion blur, illumination change, partial/full occlusion by foreground patches,
look-alike distractors, out-of-view excursions, low resolution and camera motion.

Geometry conventions (all float64, continuous pixel coordinates): pixel ``(i, j)`` (column,
row) covers ``[i, i + 1) x [j, j + 1)``, so its centre is ``(i + 0.5, j + 0.5)``. A target state
is ``(cx, cy, w, h, angle)``: centre, side lengths and rotation in degrees, positive angles
turning the x axis towards +y (clockwise on screen). ``Scene.boxes`` are the axis-aligned
bounding boxes of the rotated rectangles as ``[x, y, w, h]`` with ``(x, y)`` the top-left corner
(0-based, not clipped to the image); ``Scene.polygons`` are the rectangles' corners
``[x1, y1, ..., x4, y4]`` in the order top-left, bottom-left, bottom-right, top-right of the
unrotated rectangle (VOT's order). A target pixel is drawn with non-zero coverage only if its
centre lies within 0.5 px of the rectangle (1 px anti-aliased edge), so the ground truth is
exact. Motion blur smears the target along its motion around the ground-truth (mid-exposure)
position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from toolkit.datasets.synth_textures import Texture

CHALLENGES = (
    "scale",
    "aspect",
    "rotation",
    "fast_motion",
    "motion_blur",
    "illumination",
    "partial_occlusion",
    "full_occlusion",
    "distractors",
    "out_of_view",
    "low_resolution",
    "camera_motion",
)
# Challenges a video only gets when it asks for them (``sample_spec``'s ``required``, in the
# benchmark's added videos); ``sample_spec`` never draws them, so adding one here changes no
# earlier video and no training pair.
EXTRA_CHALLENGES = ("same_class",)
# OTB's attributes, plus SC (same-class distractors / colour-matched clutter, not an OTB attribute)
OTB_ATTRIBUTES = ("IV", "SV", "OCC", "DEF", "MB", "FM", "IPR", "OPR", "OV", "BC", "LR", "SC")
VOT_TAGS = ("camera_motion", "illum_change", "motion_change", "size_change", "occlusion")

# Attribute and tag thresholds (OTB's published ones where OTB defines them).
SV_RATIO = 2.0  # OTB: sqrt-area ratio to the first frame outside [1/2, 2]
FM_PIXELS = 20.0  # OTB: centre moves more than 20 px between consecutive frames
LR_PIXELS = 400.0  # OTB: fewer than 400 pixels inside the ground-truth box
IPR_DEGREES = 20.0  # rotation away from the first frame's angle
DEF_RATIO = 1.5  # aspect ratio (w/h) away from the first frame's by more than this factor
MB_PIXELS = 4.0  # motion-blur streak length
IV_GAIN = 0.25  # |gain - 1| or the illumination gradient's amplitude
OCC_FRACTION = 0.1  # fraction of the target's area covered by an occluder (OCC and 'occlusion')
OV_VISIBLE = 0.99  # fraction of the target's area inside the image below which it is out of view
CAMERA_PIXELS = 0.5  # per-frame camera translation for 'camera_motion'
ILLUM_STEP = 0.002  # per-frame change of gain or gradient for 'illum_change'
ACCEL_PIXELS = 2.0  # per-frame change of the centre's velocity for 'motion_change'
SIZE_WINDOW, SIZE_STEP = 5, 0.05  # |log sqrt-area change| over +-5 frames for 'size_change'
SC_SIZES = 2.0  # SC: a same-class distractor's centre within this many target sizes of the target's


@dataclass(frozen=True)
class VideoSpec:
    """What to render: frame size, length, and the set of challenges (names in CHALLENGES).

    ``min_visible`` is the smallest fraction of the target's area kept inside the image during
    an out-of-view excursion (the VOT variant keeps it large enough that the reset protocol's
    region-in-image test does not fire on the ground truth itself).
    """

    width: int = 320
    height: int = 240
    num_frames: int = 150
    challenges: frozenset = frozenset()
    min_visible: float = 0.25

    def __post_init__(self) -> None:
        known = CHALLENGES + EXTRA_CHALLENGES
        unknown = set(self.challenges) - set(known)
        if unknown:
            raise ValueError(f"unknown challenges {sorted(unknown)}; known: {', '.join(known)}")


def sample_spec(
    rng: np.random.Generator,
    *,
    sizes: tuple[tuple[int, int], ...] = ((320, 240), (360, 270), (400, 300)),
    length_range: tuple[int, int] = (100, 220),
    required: tuple[str, ...] = (),
    extra_range: tuple[int, int] = (1, 3),
    min_visible: float = 0.25,
) -> VideoSpec:
    """A random VideoSpec: ``required`` challenges plus ``extra_range`` (inclusive) random others."""
    width, height = sizes[int(rng.integers(len(sizes)))]
    others = [c for c in CHALLENGES if c not in required]
    num_extra = int(rng.integers(extra_range[0], extra_range[1] + 1))
    extra = rng.choice(len(others), size=min(num_extra, len(others)), replace=False)
    challenges = frozenset(required) | {others[int(i)] for i in extra}
    num_frames = int(rng.integers(length_range[0], length_range[1] + 1))
    return VideoSpec(width, height, num_frames, frozenset(challenges), min_visible)


def rect_corners(states: np.ndarray) -> np.ndarray:
    """Corners of rotated rectangles.

    Args:
        states: (..., 5) ``cx, cy, w, h, angle_degrees``.
    Returns:
        (..., 4, 2) corners in VOT order (top-left, bottom-left, bottom-right, top-right of the
        unrotated rectangle).
    """
    cx, cy, w, h, ang = (states[..., i] for i in range(5))
    c, s = np.cos(np.deg2rad(ang)), np.sin(np.deg2rad(ang))
    u = np.stack([-w, -w, w, w], axis=-1) / 2
    v = np.stack([-h, h, h, -h], axis=-1) / 2
    x = cx[..., None] + c[..., None] * u - s[..., None] * v
    y = cy[..., None] + s[..., None] * u + c[..., None] * v
    return np.stack([x, y], axis=-1)


def _overlap_area(poly_a: np.ndarray, poly_b: np.ndarray) -> float:
    """Intersection area of two convex polygons given as (K, 2) arrays."""
    area, _ = cv2.intersectConvexConvex(poly_a.astype(np.float32), poly_b.astype(np.float32))
    return float(area)


def _smooth_noise(rng: np.random.Generator, n: int, period_range: tuple[float, float]) -> np.ndarray:
    """A smooth random signal in [-1, 1] of length n (sum of three random sinusoids)."""
    t = np.arange(n, dtype=np.float64)
    out = np.zeros(n)
    total = 0.0
    for _ in range(3):
        amp = rng.uniform(0.4, 1.0)
        out += amp * np.sin(2 * np.pi * t / rng.uniform(*period_range) + rng.uniform(0, 2 * np.pi))
        total += amp
    return out / total


def _sinusoid_fn(rng: np.random.Generator, period_range: tuple[float, float]):
    """Like _smooth_noise but as a function of a real-valued (possibly warped) time."""
    params = [
        (rng.uniform(0.4, 1.0), rng.uniform(*period_range), rng.uniform(0, 2 * np.pi)) for _ in range(3)
    ]
    total = sum(p[0] for p in params)

    def fn(t: np.ndarray) -> np.ndarray:
        return sum(a * np.sin(2 * np.pi * t / T + ph) for a, T, ph in params) / total

    return fn


def _ramps(
    rng: np.random.Generator, n: int, levels: np.ndarray, hold: tuple[int, int], ramp: tuple[int, int]
) -> np.ndarray:
    """Piecewise signal: holds a level, then moves smoothly (smoothstep) to the next one."""
    out = np.empty(n)
    t, k, value = 0, 0, float(levels[0])
    while t < n:
        h = int(rng.integers(*hold))
        out[t : t + h] = value
        t += h
        k += 1
        nxt = float(levels[k % len(levels)])
        r = int(rng.integers(*ramp))
        s = np.arange(1, r + 1) / r
        seg = value + (nxt - value) * (3 * s**2 - 2 * s**3)
        out[t : t + r] = seg[: max(0, min(r, n - t))]
        t += r
        value = nxt
    return out


def _bump(n: int, start: int, length: int) -> np.ndarray:
    """0 outside [start, start + length), sin^2 bump inside (peak 1 in the middle)."""
    out = np.zeros(n)
    idx = np.arange(max(start, 0), min(start + length, n))
    out[idx] = np.sin(np.pi * (idx - start) / length) ** 2
    return out


def _step(x: np.ndarray) -> np.ndarray:
    """Per-frame change |x[t] - x[t-1]| of an (N,) or (N, D) signal; frame 0 takes frame 1's."""
    if len(x) < 2:
        return np.zeros(len(x))
    d = np.diff(x, axis=0)
    d = np.abs(d) if d.ndim == 1 else np.linalg.norm(d, axis=1)
    return np.concatenate([d[:1], d])


def _unit_excursion(rng: np.random.Generator, n: int, period_range: tuple[float, float]) -> np.ndarray:
    """A smooth random signal starting at 0 whose largest |value| is exactly 1."""
    x = _smooth_noise(rng, n, period_range)
    x = x - x[0]
    return x / max(float(np.abs(x).max()), 1e-9)


@dataclass
class _Sprite:
    """A texture patch with a mip pyramid, drawn into frames as a rotated rectangle."""

    levels: list  # list of (h, w, 3) float32 images, each half the size of the previous
    gain: np.ndarray = field(default_factory=lambda: np.ones(3, np.float32))  # per-channel BGR

    @classmethod
    def from_image(cls, image: np.ndarray, gain: np.ndarray | None = None) -> _Sprite:
        levels = [image.astype(np.float32)]
        while min(levels[-1].shape[:2]) >= 16:
            levels.append(cv2.pyrDown(levels[-1]))
        return cls(levels, np.ones(3, np.float32) if gain is None else gain.astype(np.float32))

    def pick(self, w: float, h: float) -> np.ndarray:
        """The coarsest pyramid level still at least as large as the rendered size."""
        best = self.levels[0]
        for level in self.levels[1:]:
            if level.shape[1] >= w and level.shape[0] >= h:
                best = level
        return best


def _draw(canvas: np.ndarray, sprite: _Sprite, state: np.ndarray, blur: np.ndarray | None = None) -> None:
    """Alpha-composite a sprite as the rotated rectangle ``state`` into a float32 canvas in place.

    The coverage of a pixel is ``clip(d + 0.5, 0, 1)`` with ``d`` the signed distance (px) of its
    centre inside the rectangle; ``blur`` is an optional (dx, dy) motion-blur streak in px.
    """
    cx, cy, w, h, ang = (float(v) for v in state)
    if not (w > 0 and h > 0) or not np.isfinite(cx):
        return
    H, W = canvas.shape[:2]
    corners = rect_corners(np.asarray(state, np.float64))
    pad = 2 + (int(math.ceil(np.hypot(*blur) / 2)) + 1 if blur is not None else 0)
    x0 = max(int(math.floor(corners[:, 0].min())) - pad, 0)
    y0 = max(int(math.floor(corners[:, 1].min())) - pad, 0)
    x1 = min(int(math.ceil(corners[:, 0].max())) + pad, W)
    y1 = min(int(math.ceil(corners[:, 1].max())) + pad, H)
    if x1 <= x0 or y1 <= y0:
        return
    rad = math.radians(ang)
    c, s = math.cos(rad), math.sin(rad)
    # coverage from the signed distance of each pixel centre to the rectangle's edges
    dx = np.arange(x0, x1, dtype=np.float64) + 0.5 - cx
    dy = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5 - cy
    u = c * dx + s * dy
    v = -s * dx + c * dy
    alpha = np.clip(np.minimum(w / 2 - np.abs(u), h / 2 - np.abs(v)) + 0.5, 0.0, 1.0).astype(np.float32)
    # texture: sprite pixel (cv2 coords, centre at integer) -> ROI pixel (cv2 coords)
    tex = sprite.pick(w, h)
    sh, sw = tex.shape[:2]
    m = np.array([[c, -s], [s, c]]) @ np.diag([w / sw, h / sh])
    t = np.array([cx - 0.5 - x0, cy - 0.5 - y0]) + m @ np.array([0.5 - sw / 2, 0.5 - sh / 2])
    color = cv2.warpAffine(
        tex,
        np.hstack([m, t[:, None]]),
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    color *= sprite.gain
    premult = color * alpha[:, :, None]
    if blur is not None and np.hypot(*blur) >= 1.0:
        kernel = _line_kernel(blur)
        premult = cv2.filter2D(premult, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        alpha = cv2.filter2D(alpha, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    roi = canvas[y0:y1, x0:x1]
    roi *= 1.0 - alpha[:, :, None]
    roi += premult


def _line_kernel(streak: np.ndarray) -> np.ndarray:
    """Normalised anti-aliased line kernel of the given (dx, dy) streak."""
    half = int(math.ceil(np.hypot(*streak) / 2)) + 1
    size = 2 * half + 1
    shift = 4  # sub-pixel bits for cv2.line
    kernel = np.zeros((size, size), np.float32)
    p0 = np.round((np.array([half, half]) - np.asarray(streak) / 2) * (1 << shift)).astype(int)
    p1 = np.round((np.array([half, half]) + np.asarray(streak) / 2) * (1 << shift)).astype(int)
    cv2.line(kernel, tuple(int(v) for v in p0), tuple(int(v) for v in p1), 1.0, 1, cv2.LINE_AA, shift)
    return kernel / kernel.sum()


def _crop(rng: np.random.Generator, texture: Texture, size: tuple[int, int]) -> np.ndarray:
    """A random (h, w) crop of a texture (smaller, same aspect, if the texture is too small)."""
    h, w = size
    image = texture.image
    scale = max(h / image.shape[0], w / image.shape[1], 1.0)
    if scale > 1.0:
        h, w = max(int(h / scale), 1), max(int(w / scale), 1)
    y = int(rng.integers(0, image.shape[0] - h + 1))
    x = int(rng.integers(0, image.shape[1] - w + 1))
    return np.ascontiguousarray(image[y : y + h, x : x + w])


TARGET_MIN_STD = 30.0  # grey-level std a target's texture crop must reach (flat crops are rejected)


def _pick_target(
    rng: np.random.Generator, textures: tuple[Texture, ...], size: tuple[int, int]
) -> tuple[int, np.ndarray]:
    """(texture index, (h, w, 3) crop) for a target: the first of up to 24 random draws whose crop
    has enough detail, else the most detailed one."""
    best, best_std = (0, None), -1.0
    for _ in range(24):
        index = int(rng.integers(len(textures)))
        crop = _crop(rng, textures[index], size)
        std = float(crop.std())
        if std > best_std:
            best, best_std = (index, crop), std
        if std >= TARGET_MIN_STD:
            break
    return best


@dataclass
class Scene:
    """A simulated video: per-frame states (exact ground truth) and what is needed to render it.

    Arrays (N = num_frames): ``target`` (N, 5) ``cx, cy, w, h, angle``; ``camera`` (N, 2) top-left
    of the view in the background canvas; ``gain`` (N,) global illumination gain; ``gradient``
    (N,) amplitude of a linear illumination ramp across the frame; ``blur`` (N, 2) motion-blur
    streak of the target (px); ``occluders`` (N, K, 5) and ``distractors`` (N, D, 5) states with
    NaN rows when absent; ``occluded`` (N,) fraction of the target's area under an occluder;
    ``visible`` (N,) fraction of the target's area inside the image; the last ``num_same_class``
    distractors are same-class ones (``same_class``: other textures in the target's colours).
    """

    spec: VideoSpec
    background: np.ndarray
    target_sprite: _Sprite
    occluder_sprites: list
    distractor_sprites: list
    target: np.ndarray
    camera: np.ndarray
    gain: np.ndarray
    gradient: np.ndarray
    gradient_dir: float
    blur: np.ndarray
    occluders: np.ndarray
    distractors: np.ndarray
    low_res_factor: int
    camouflage: bool
    num_same_class: int = 0
    occluded: np.ndarray = field(init=False)
    visible: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        corners = rect_corners(self.target)
        n = len(self.target)
        w, h = self.spec.width, self.spec.height
        image_poly = np.array([[0, 0], [0, h], [w, h], [w, 0]], np.float64)
        area = self.target[:, 2] * self.target[:, 3]
        self.visible = np.array([_overlap_area(corners[t], image_poly) / area[t] for t in range(n)])
        occluded = np.zeros(n)
        for k in range(self.occluders.shape[1]):
            occ_corners = rect_corners(self.occluders[:, k])
            for t in np.flatnonzero(np.isfinite(self.occluders[:, k, 0])):
                occluded[t] = max(occluded[t], _overlap_area(corners[t], occ_corners[t]) / area[t])
        self.occluded = occluded

    @property
    def num_frames(self) -> int:
        return len(self.target)

    @property
    def polygons(self) -> np.ndarray:
        """(N, 8) rotated-rectangle ground truth, VOT corner order."""
        return rect_corners(self.target).reshape(-1, 8)

    @property
    def boxes(self) -> np.ndarray:
        """(N, 4) axis-aligned ground truth ``[x, y, w, h]`` (bounding box of the polygon)."""
        corners = rect_corners(self.target)
        lo, hi = corners.min(axis=1), corners.max(axis=1)
        return np.concatenate([lo, hi - lo], axis=1)

    def attributes(self) -> list[str]:
        """OTB attribute abbreviations that hold for this video (order of OTB_ATTRIBUTES).

        IV, SV, DEF, MB, FM, IPR, OV, OCC, LR are measured on the simulated states with the
        thresholds above; BC means look-alike distractors or a background cut from the target's
        own source image; OPR never holds (planar targets). SC (not an OTB attribute): a
        same-class distractor comes within ``SC_SIZES`` target sizes of the target.
        """
        tgt = self.target
        size = np.sqrt(tgt[:, 2] * tgt[:, 3])
        aspect = np.log(tgt[:, 2] / tgt[:, 3])
        boxes = self.boxes
        step = np.hypot(np.diff(tgt[:, 0]), np.diff(tgt[:, 1]))
        same = self.distractors[:, self.distractors.shape[1] - self.num_same_class :, :2]
        near = np.linalg.norm(same - tgt[:, None, :2], axis=2) < SC_SIZES * size[:, None]
        flags = {
            "IV": bool(np.any(np.abs(self.gain - 1) >= IV_GAIN) or np.any(self.gradient >= IV_GAIN)),
            "SV": bool(np.any(np.abs(np.log(size / size[0])) > math.log(SV_RATIO))),
            "OCC": bool(np.any(self.occluded >= OCC_FRACTION)),
            "DEF": bool(np.any(np.abs(aspect - aspect[0]) > math.log(DEF_RATIO))),
            "MB": bool(np.any(np.hypot(self.blur[:, 0], self.blur[:, 1]) >= MB_PIXELS)),
            "FM": bool(np.any(step > FM_PIXELS)),
            "IPR": bool(np.any(np.abs(tgt[:, 4] - tgt[0, 4]) > IPR_DEGREES)),
            "OPR": False,
            "OV": bool(np.any(self.visible < OV_VISIBLE)),
            "BC": bool(self.distractors.shape[1] > self.num_same_class or self.camouflage),
            "LR": bool(np.any(boxes[:, 2] * boxes[:, 3] < LR_PIXELS)),
            "SC": bool(self.num_same_class > 0 and np.any(near)),
        }
        return [a for a in OTB_ATTRIBUTES if flags[a]]

    def tags(self) -> dict[str, list[int]]:
        """VOT per-frame 0/1 tags (keys VOT_TAGS), measured on the simulated states."""
        n = self.num_frames
        vel = np.diff(self.target[:, :2], axis=0)
        acc = np.zeros(n)
        if n > 2:
            acc[1:-1] = np.linalg.norm(np.diff(vel, axis=0), axis=1)
            acc[0], acc[-1] = acc[1], acc[-2]
        log_size = 0.5 * np.log(self.target[:, 2] * self.target[:, 3])
        idx = np.arange(n)
        lo, hi = np.clip(idx - SIZE_WINDOW, 0, n - 1), np.clip(idx + SIZE_WINDOW, 0, n - 1)
        tags = {
            "camera_motion": _step(self.camera) > CAMERA_PIXELS,
            "illum_change": np.maximum(_step(self.gain), _step(self.gradient)) > ILLUM_STEP,
            "motion_change": acc > ACCEL_PIXELS,
            "size_change": np.abs(log_size[hi] - log_size[lo]) > SIZE_STEP,
            "occlusion": self.occluded >= OCC_FRACTION,
        }
        return {k: [int(v) for v in tags[k]] for k in VOT_TAGS}

    def frame(self, t: int) -> np.ndarray:
        """Render frame ``t`` (0-based) as (H, W, 3) uint8 BGR."""
        w, h = self.spec.width, self.spec.height
        ox, oy = self.camera[t]
        canvas = cv2.getRectSubPix(self.background, (w, h), (ox + (w - 1) / 2, oy + (h - 1) / 2))
        for k, sprite in enumerate(self.distractor_sprites):
            _draw(canvas, sprite, self.distractors[t, k])
        blur = self.blur[t] if np.hypot(*self.blur[t]) >= 1.0 else None
        _draw(canvas, self.target_sprite, self.target[t], blur)
        for k, sprite in enumerate(self.occluder_sprites):
            _draw(canvas, sprite, self.occluders[t, k])
        if self.gain[t] != 1.0 or self.gradient[t] != 0.0:
            c, s = math.cos(self.gradient_dir), math.sin(self.gradient_dir)
            xs = (np.arange(w, dtype=np.float32) + 0.5) / w - 0.5
            ys = (np.arange(h, dtype=np.float32)[:, None] + 0.5) / h - 0.5
            ramp = 1.0 + 2.0 * float(self.gradient[t]) * (c * xs + s * ys)
            canvas *= (float(self.gain[t]) * ramp)[:, :, None]
        if self.low_res_factor > 1:
            small = (max(w // self.low_res_factor, 1), max(h // self.low_res_factor, 1))
            canvas = cv2.resize(cv2.resize(canvas, small, interpolation=cv2.INTER_AREA), (w, h))
        return np.clip(canvas + 0.5, 0, 255).astype(np.uint8)


def simulate(rng: np.random.Generator, spec: VideoSpec, textures: tuple[Texture, ...]) -> Scene:
    """Draw a random scene realising ``spec``'s challenges, with textures from ``textures``.

    All randomness comes from ``rng`` (same generator state + spec + textures -> same scene). The
    parts are drawn in a fixed order (target shape, trajectory, blur, illumination, background,
    occluders, distractors, then the ``EXTRA_CHALLENGES``), so a scene without extra challenges
    draws exactly what it drew before they existed.
    """
    n = spec.num_frames
    ch = spec.challenges
    shape = _target_shape(rng, spec, textures)
    cx, cy = _trajectory(rng, spec, shape)
    target = np.stack([cx, cy, shape.w, shape.h, shape.angle], axis=1)

    # --- motion blur --------------------------------------------------------------------------
    vel = np.gradient(target[:, :2], axis=0) if n > 1 else np.zeros((n, 2))
    blur = vel * rng.uniform(0.7, 1.0) if "motion_blur" in ch else np.zeros((n, 2))

    gain, gradient = _illumination(rng, n, ch)
    background, camera, camouflage = _background(rng, spec, textures, shape.texture)
    occluders, occ_sprites = _occluders(rng, spec, textures, shape, cx, cy)
    distractors, dis_sprites = _distractors(rng, spec, shape, cx, cy)
    gradient_dir = float(rng.uniform(0, 2 * np.pi))
    num_same_class = 0
    if "same_class" in ch:
        same, same_sprites = _same_class(rng, spec, textures, shape, cx, cy, background)
        distractors = np.concatenate([distractors, same], axis=1)
        dis_sprites = dis_sprites + same_sprites
        num_same_class = len(same_sprites)

    return Scene(
        spec=spec,
        background=background,
        target_sprite=shape.sprite,
        occluder_sprites=occ_sprites,
        distractor_sprites=dis_sprites,
        target=target,
        camera=camera,
        gain=gain,
        gradient=gradient,
        gradient_dir=gradient_dir,
        blur=blur,
        occluders=occluders,
        distractors=distractors,
        low_res_factor=2 if "low_resolution" in ch else 1,
        camouflage=bool(camouflage),
        num_same_class=num_same_class,
    )


@dataclass
class _Shape:
    """The target's appearance and per-frame extent (arrays of length N)."""

    scale: np.ndarray  # sqrt(w * h)
    w: np.ndarray
    h: np.ndarray
    angle: np.ndarray
    hx: np.ndarray  # axis-aligned half extents of the rotated rectangle
    hy: np.ndarray
    texture: int  # index of the target's texture
    image: np.ndarray  # the target's texture crop (h, w, 3)
    sprite: _Sprite


def _target_shape(rng: np.random.Generator, spec: VideoSpec, textures: tuple[Texture, ...]) -> _Shape:
    """Size, aspect, rotation and texture of the target (challenges scale, aspect, rotation,
    low_resolution)."""
    n, ch, short = spec.num_frames, spec.challenges, min(spec.width, spec.height)
    if "low_resolution" in ch:
        size0 = rng.uniform(14.0, 19.0)
    else:
        size0 = rng.uniform(0.13, 0.24) * short
    log_scale = np.full(n, 0.0)
    if "scale" in ch:
        amount = math.log(rng.uniform(2.1, 2.6))
        grow = bool(rng.integers(2)) if "low_resolution" not in ch else True
        if grow:
            size0 = min(size0, 0.42 * short / math.exp(amount))
        else:
            size0 = max(size0, min(9.0 * math.exp(amount), 0.42 * short))
        sign = 1.0 if grow else -1.0
        levels = sign * amount * np.array([0.0, 1.0, rng.uniform(0.3, 0.7), 1.0])
        log_scale = _ramps(rng, n, levels, (5, max(6, n // 5)), (25, 60))
    else:
        log_scale = 0.08 * _smooth_noise(rng, n, (60, 200))
    aspect0 = math.exp(rng.uniform(-0.6, 0.6))
    if "aspect" in ch:
        log_aspect = math.log(rng.uniform(1.7, 2.3)) * _unit_excursion(rng, n, (50, 150))
    else:
        log_aspect = np.zeros(n)
    scale = size0 * np.exp(log_scale)
    w = scale * np.sqrt(aspect0) * np.exp(log_aspect / 2)
    h = scale / np.sqrt(aspect0) * np.exp(-log_aspect / 2)
    sprite_h = int(np.clip(max(h.max(), 48), 48, 160))
    sprite_w = int(np.clip(sprite_h * aspect0, 32, 200))
    target_tex, target_img = _pick_target(rng, textures, (sprite_h, sprite_w))
    target_sprite = _Sprite.from_image(target_img)
    if "rotation" in ch:
        if rng.random() < 0.5:
            angle = rng.uniform(45, 150) * _unit_excursion(rng, n, (60, 160))
        else:
            angle = np.cumsum(np.full(n, rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 3.0)))
        angle -= angle[0]
    else:
        angle = np.zeros(n)
    rad = np.deg2rad(angle)
    hx = 0.5 * (np.abs(np.cos(rad)) * w + np.abs(np.sin(rad)) * h)
    hy = 0.5 * (np.abs(np.sin(rad)) * w + np.abs(np.cos(rad)) * h)
    return _Shape(scale, w, h, angle, hx, hy, target_tex, target_img, target_sprite)


def _trajectory(rng: np.random.Generator, spec: VideoSpec, shape: _Shape) -> tuple[np.ndarray, np.ndarray]:
    """Centre path (cx, cy): a smooth path through a time warp, with fast dashes (fast_motion,
    motion_blur) and border excursions (out_of_view)."""
    n, ch, W, H = spec.num_frames, spec.challenges, spec.width, spec.height
    hx, hy = shape.hx, shape.hy
    fx, fy = _sinusoid_fn(rng, (80, 220)), _sinusoid_fn(rng, (80, 220))
    mx, my = float(hx.max()) + 3, float(hy.max()) + 3
    ax, ay = max(W / 2 - mx, 0.0), max(H / 2 - my, 0.0)

    def path(tau: np.ndarray) -> np.ndarray:
        return np.stack([W / 2 + ax * fx(tau), H / 2 + ay * fy(tau)], axis=-1)

    step = np.full(n, rng.uniform(0.4, 1.0))  # path time per frame
    dash = np.zeros(n)  # wanted centre step (px) in dash frames, 0 elsewhere
    if "fast_motion" in ch or "motion_blur" in ch:
        for _ in range(int(rng.integers(2, 5))):
            start, length = int(rng.integers(5, max(6, n - 10))), int(rng.integers(3, 8))
            dash[start : start + length] = rng.uniform(1.15, 1.6) * FM_PIXELS
    tau = np.zeros(n)
    for t in range(1, n):
        dt = step[t]
        if dash[t] > 0:  # lengthen the path-time step until the centre moves dash[t] px
            p0 = path(np.array(tau[t - 1]))
            while dt < 200 and np.linalg.norm(path(np.array(tau[t - 1] + dt)) - p0) < dash[t]:
                dt *= 1.1
        tau[t] = tau[t - 1] + dt
    cx, cy = path(tau).T
    if "out_of_view" in ch:
        for _ in range(int(rng.integers(1, 3))):
            length = int(rng.integers(30, 70))
            start = int(rng.integers(10, max(11, n - length)))
            mid = min(start + length // 2, n - 1)
            frac = rng.uniform(spec.min_visible + 0.05, 0.6)
            bump = _bump(n, start, length)
            side = int(rng.integers(4))
            if side < 2:  # left / right border
                out = hx[mid] * (2 * frac - 1)
                cx = cx + bump * ((out if side == 0 else W - out) - cx)
            else:  # top / bottom border
                out = hy[mid] * (2 * frac - 1)
                cy = cy + bump * ((out if side == 2 else H - out) - cy)
    return cx, cy


def _illumination(rng: np.random.Generator, n: int, ch: frozenset) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame global gain and gradient amplitude (illumination)."""
    gain, gradient = np.ones(n), np.zeros(n)
    if "illumination" in ch:
        levels = np.exp(rng.choice([-1.0, 1.0]) * np.array([0.0, 1.0, -0.6, 0.4]) * rng.uniform(0.35, 0.6))
        gain = _ramps(rng, n, levels, (10, max(11, n // 4)), (8, 30))
        gradient = np.clip(_ramps(rng, n, np.array([0.0, rng.uniform(0.3, 0.45)]), (10, 60), (10, 40)), 0, 1)
    return gain, gradient


def _background(
    rng: np.random.Generator, spec: VideoSpec, textures: tuple[Texture, ...], target_tex: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(background canvas float32, camera path (N, 2), camouflage): a texture crop with static
    clutter patches; with camera_motion a larger canvas and a smooth camera path over it."""
    n, ch, W, H = spec.num_frames, spec.challenges, spec.width, spec.height
    ntex = len(textures)
    camouflage = "distractors" in ch and rng.random() < 0.5
    margin = 0.35 if "camera_motion" in ch else 0.0
    cw, chh = int(W * (1 + margin)) + 2, int(H * (1 + margin)) + 2
    bg_tex = target_tex if camouflage else (target_tex + 1 + int(rng.integers(ntex - 1))) % ntex
    bg_src = textures[bg_tex].image
    crop_h = int(min(bg_src.shape[0], bg_src.shape[1] * chh / cw) * rng.uniform(0.5, 1.0))
    crop_w = int(crop_h * cw / chh)
    background = cv2.resize(_crop(rng, textures[bg_tex], (crop_h, crop_w)), (cw, chh))
    background = background.astype(np.float32)
    for _ in range(int(rng.integers(2, 6))):  # static clutter patches
        tex = textures[int(rng.integers(ntex))]
        ph, pw = int(rng.uniform(0.15, 0.4) * chh), int(rng.uniform(0.15, 0.4) * cw)
        patch = cv2.resize(_crop(rng, tex, (ph, pw)), (pw, ph)).astype(np.float32)
        y, x = int(rng.integers(0, chh - ph)), int(rng.integers(0, cw - pw))
        background[y : y + ph, x : x + pw] = patch
    if margin > 0:
        camera = np.stack(
            [
                (cw - W - 1) * (0.5 + 0.5 * _smooth_noise(rng, n, (40, 140))),
                (chh - H - 1) * (0.5 + 0.5 * _smooth_noise(rng, n, (40, 140))),
            ],
            axis=1,
        )
    else:
        camera = np.zeros((n, 2))
    return background, camera, bool(camouflage)


def _occluders(
    rng: np.random.Generator,
    spec: VideoSpec,
    textures: tuple[Texture, ...],
    shape: _Shape,
    cx: np.ndarray,
    cy: np.ndarray,
) -> tuple[np.ndarray, list]:
    """(N, K, 5) occluder states (NaN when absent) and their sprites (partial_occlusion,
    full_occlusion): a patch crossing the target once per kind, in its own time slot."""
    n, ch, ntex = spec.num_frames, spec.challenges, len(textures)
    w, h, hx, hy, scale = shape.w, shape.h, shape.hx, shape.hy, shape.scale
    occ_states, occ_sprites = [], []
    events = [k for k in ("partial_occlusion", "full_occlusion") if k in ch]
    slots = np.linspace(0, n, len(events) + 1).astype(int) if events else []
    for i, kind in enumerate(events):
        lo, hi = int(slots[i]), int(slots[i + 1])
        length = int(min(rng.integers(30, 60), max(hi - lo - 2, 8)))
        start = int(rng.integers(lo, max(lo + 1, hi - length)))
        mid = min(start + length // 2, n - 1)
        direction = rng.uniform(0, 2 * np.pi)
        d = np.array([math.cos(direction), math.sin(direction)])
        if kind == "full_occlusion":
            side = 2.0 * max(hx[start : start + length].max(), hy[start : start + length].max())
            ow = oh = side * rng.uniform(1.5, 2.0)
            oang, perp = 0.0, 0.0
        else:
            ow, oh = w[mid] * rng.uniform(0.5, 0.9), h[mid] * rng.uniform(0.5, 0.9)
            oang, perp = rng.uniform(-30, 30), rng.uniform(-0.3, 0.3) * scale[mid]
        reach = 0.5 * (np.hypot(ow, oh) + 2 * max(hx[mid], hy[mid])) + 2
        states = np.full((n, 5), np.nan)
        idx = np.arange(start, min(start + length, n))
        frac = (idx - start) / max(length - 1, 1) * 2 - 1
        states[idx, 0] = cx[idx] + d[0] * reach * frac - d[1] * perp
        states[idx, 1] = cy[idx] + d[1] * reach * frac + d[0] * perp
        states[idx, 2:] = [ow, oh, oang]
        occ_states.append(states)
        tex = textures[(shape.texture + 1 + int(rng.integers(ntex - 1))) % ntex]
        occ_sprites.append(_Sprite.from_image(_crop(rng, tex, (int(max(oh, 16)), int(max(ow, 16))))))
    occluders = np.stack(occ_states, axis=1) if occ_states else np.zeros((n, 0, 5))
    return occluders, occ_sprites


def _distractors(
    rng: np.random.Generator, spec: VideoSpec, shape: _Shape, cx: np.ndarray, cy: np.ndarray
) -> tuple[np.ndarray, list]:
    """(N, D, 5) distractor states and sprites (distractors): 1-3 colour-jittered copies of the
    target's own texture circling it."""
    n = spec.num_frames
    dis_states, dis_sprites = [], []
    if "distractors" in spec.challenges:
        for _ in range(int(rng.integers(1, 4))):
            radius = shape.scale * (1.3 + 1.4 * (0.5 + 0.5 * _smooth_noise(rng, n, (40, 120))))
            theta = rng.uniform(0, 2 * np.pi) + np.cumsum(np.full(n, rng.uniform(0.01, 0.05))) * rng.choice(
                [-1, 1]
            )
            size = rng.uniform(0.85, 1.15)
            states = np.stack(
                [
                    cx + radius * np.cos(theta),
                    cy + radius * np.sin(theta),
                    shape.w * size,
                    shape.h * size,
                    shape.angle,
                ],
                axis=1,
            )
            dis_states.append(states)
            dis_sprites.append(_Sprite(shape.sprite.levels, rng.uniform(0.8, 1.2, size=3).astype(np.float32)))
    distractors = np.stack(dis_states, axis=1) if dis_states else np.zeros((n, 0, 5))
    return distractors, dis_sprites


def match_colours(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``image`` with each BGR channel's mean and standard deviation set to ``reference``'s
    (float32, clipped to [0, 255]): same colours, the image's own structure."""
    img = image.astype(np.float32)
    ref = reference.astype(np.float32)
    mean_i, std_i = img.reshape(-1, 3).mean(0), img.reshape(-1, 3).std(0)
    mean_r, std_r = ref.reshape(-1, 3).mean(0), ref.reshape(-1, 3).std(0)
    out = (img - mean_i) / np.maximum(std_i, 1.0) * std_r + mean_r
    return np.clip(out, 0.0, 255.0)


def _same_class(
    rng: np.random.Generator,
    spec: VideoSpec,
    textures: tuple[Texture, ...],
    shape: _Shape,
    cx: np.ndarray,
    cy: np.ndarray,
    background: np.ndarray,
) -> tuple[np.ndarray, list]:
    """Same-class distractors and colour-matched clutter (same_class), the case target-aware
    selection is for.

    2-4 distractors are objects of the target's class: rectangles of its size, aspect and
    rotation, moving around it (0.9-3 target sizes from its centre, so they pass close), but cut
    from *other* textures, whose colours are matched to the target's (per-channel mean and
    standard deviation): same shape, size and colours, different texture statistics. In addition
    3-6 static background patches of other textures take the target's colours (``background`` is
    changed in place). Returns the distractors' (N, D, 5) states and sprites.
    """
    n, ntex = spec.num_frames, len(textures)
    ch_h, ch_w = background.shape[:2]
    for _ in range(int(rng.integers(3, 7))):  # colour-matched background clutter
        tex = textures[(shape.texture + 1 + int(rng.integers(ntex - 1))) % ntex]
        side = float(np.median(shape.scale))
        ph = int(np.clip(side * rng.uniform(0.8, 2.0), 8, ch_h - 1))
        pw = int(np.clip(side * rng.uniform(0.8, 2.0), 8, ch_w - 1))
        patch = cv2.resize(match_colours(_crop(rng, tex, (ph, pw)), shape.image), (pw, ph))
        y, x = int(rng.integers(0, ch_h - ph)), int(rng.integers(0, ch_w - pw))
        background[y : y + ph, x : x + pw] = patch
    states, sprites = [], []
    sh, sw = shape.image.shape[:2]
    for _ in range(int(rng.integers(2, 5))):
        radius = shape.scale * (0.9 + 2.1 * (0.5 + 0.5 * _smooth_noise(rng, n, (30, 90))))
        theta = rng.uniform(0, 2 * np.pi) + np.cumsum(np.full(n, rng.uniform(0.01, 0.04))) * rng.choice(
            [-1, 1]
        )
        size = rng.uniform(0.85, 1.15)
        states.append(
            np.stack(
                [
                    cx + radius * np.cos(theta),
                    cy + radius * np.sin(theta),
                    shape.w * size,
                    shape.h * size,
                    shape.angle,
                ],
                axis=1,
            )
        )
        tex = textures[(shape.texture + 1 + int(rng.integers(ntex - 1))) % ntex]
        sprites.append(_Sprite.from_image(match_colours(_crop(rng, tex, (sh, sw)), shape.image)))
    return np.stack(states, axis=1), sprites
