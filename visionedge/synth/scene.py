"""Scenes: a static textured background, objects passing through, lighting and cover events.

A :class:`SceneSpec` is a timeline (in seconds) of events on a background drawn from the
seed; :func:`render_frames` turns it into BGR frames with their ground truth. Every random
choice comes from ``numpy.random.Generator(PCG64([seed, stream, ...]))`` with a fixed
stream number per purpose, so adding an event does not reshuffle the others and the same
spec renders the same bytes on every run and machine. The timeline's types and the stock
scenes are :mod:`visionedge.synth.spec` (re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.protocols import Box
from visionedge.synth.shapes import (
    U8,
    Appearance,
    draw_object,
    object_size,
    paste,
    random_appearance,
    random_colour,
    texture,
    value_noise,
)
from visionedge.synth.spec import (
    CoverCamera,
    LightSwitch,
    ObjectPass,
    SceneEvent,
    SceneSpec,
    check_spec,
    default_scene,
    frame_count,
    small_scene,
)
from visionedge.synth.truth import FrameTruth, ObjectTruth

__all__ = [
    "MIN_VISIBLE_PCT",
    "CoverCamera",
    "LightSwitch",
    "ObjectPass",
    "SceneEvent",
    "SceneSpec",
    "check_spec",
    "default_scene",
    "frame_count",
    "render_frames",
    "small_scene",
]

MIN_VISIBLE_PCT = 0.1
"""An object counts as visibly moving once this percentage of the frame shows it."""

LIGHTING_SETTLE_S = 1.0
"""How long after a light switch its frames are marked ``lighting_change``."""

MIN_CONTRAST = 40
"""Gray levels an object pixel must differ from the ground under it to count as contrasting."""

MIN_CONTRAST_SHARE = 0.6
"""Share of an object's pixels that must contrast (at its passage's light level)."""

_LOOK_TRIES = 60

_NOISE_POOL_EXTRA = 1 << 17

# Generator stream numbers (the second PCG64 seed word) per purpose.
_S_BACKGROUND, _S_NOISE, _S_NOISE_OFFSET, _S_OBJECT = 1, 2, 3, 1000


def _rng(*words: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(list(words)))


def scene_background(width: int, height: int, seed: int) -> U8:
    """The static background of a scene: a wall/sky band, ground with a path, some shrubs."""
    rng = _rng(seed, _S_BACKGROUND)
    horizon = int(height * float(rng.uniform(0.4, 0.55)))
    img = np.empty((height, width, 3), np.uint8)
    img[:horizon] = texture(rng, horizon, width)
    img[horizon:] = texture(rng, height - horizon, width)
    # A lighter path band along the ground, where objects walk.
    top = horizon + (height - horizon) // 3
    path = texture(rng, height - top, width).astype(np.int16) + int(rng.integers(10, 40))
    img[top:] = np.clip((img[top:].astype(np.int16) + path) // 2, 0, 255).astype(np.uint8)
    # Static structures: windows/doors on the wall and shrubs on the ground line.
    for _ in range(int(rng.integers(2, 5))):
        w = int(rng.integers(width // 16, width // 6))
        h = int(rng.integers(horizon // 4, max(horizon // 4 + 1, horizon * 3 // 4)))
        x = int(rng.integers(0, max(1, width - w)))
        y = int(rng.integers(0, max(1, horizon - h)))
        img[y:y + h, x:x + w] = texture(rng, h, w)
    for _ in range(int(rng.integers(2, 5))):
        cx = int(rng.integers(0, width))
        r = int(rng.integers(height // 20, height // 8))
        shade = np.array(random_colour(rng, val=(40, 140)), np.float64)
        yy, xx = np.ogrid[-r:r, -2 * r:2 * r]
        blob = (xx.astype(np.float64) / (2 * r)) ** 2 + (yy.astype(np.float64) / r) ** 2 <= 1
        leafy = value_noise(rng, 2 * r, 4 * r, 6)[:, :, None] * 60.0
        patch = np.clip(shade[None, None, :] + leafy - 30.0, 0, 255).astype(np.uint8)
        y0 = horizon - r
        x0 = cx - 2 * r
        ys = slice(max(0, y0), min(height, y0 + 2 * r))
        xs = slice(max(0, x0), min(width, x0 + 4 * r))
        sub = blob[ys.start - y0: ys.stop - y0, xs.start - x0: xs.stop - x0]
        img[ys, xs][sub] = patch[ys.start - y0: ys.stop - y0, xs.start - x0: xs.stop - x0][sub]
    return img


def _lut(gain: float, offset: float) -> U8:
    v = np.arange(256, dtype=np.float64) * gain + offset
    table: U8 = np.clip(np.floor(v + 0.5), 0, 255).astype(np.uint8)
    return table


@dataclass(slots=True)
class _Track:
    event: ObjectPass
    track: int
    look: Appearance
    height_px: int
    first: int
    last: int
    fps: float = 10.0


def _gain_at(spec: SceneSpec, t_s: float) -> float:
    gain = 1.0
    for ev in sorted(
        (e for e in spec.events if isinstance(e, LightSwitch)), key=lambda e: e.at_s
    ):
        if ev.at_s <= t_s:
            gain = ev.gain
    return gain


def _contrast(
    look: Appearance, height_px: int, gray_bg: npt.NDArray[np.uint8], ground_y: int, gain: float
) -> float:
    """Worst share, over three spots of its lane, of the object's pixels whose gray level
    differs from the background under them by at least :data:`MIN_CONTRAST` once the
    light is scaled by ``gain``."""
    H, W = gray_bg.shape
    obj, mask = draw_object(look, height_px, 0.7)
    gray_obj = cv2.cvtColor(obj, cv2.COLOR_BGR2GRAY).astype(np.int16)
    h, w = mask.shape
    y = ground_y - h
    worst = 1.0
    for cx in (W // 6, W // 2, 5 * W // 6):
        x = cx - w // 2
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x0 >= x1 or y0 >= y1:
            continue
        sel = mask[y0 - y: y1 - y, x0 - x: x1 - x] > 0
        if not sel.any():
            continue
        under = gray_bg[y0:y1, x0:x1].astype(np.int16)
        diff = np.abs(gray_obj[y0 - y: y1 - y, x0 - x: x1 - x] - under)[sel] * gain
        worst = min(worst, float((diff >= MIN_CONTRAST).mean()))
    return worst


def _pick_look(spec: SceneSpec, ev: ObjectPass, index: int, height_px: int, bg: U8) -> Appearance:
    # A random look can match the ground it walks on (a brown dog on a brown path); after a
    # dimming light switch even a fair contrast drops below what a motion gate sees, yet the
    # ground truth would call it visible motion. So redraw the look (from the same seeded
    # stream) until enough of the object stands out at the light level of its passage.
    rng = _rng(spec.seed, _S_OBJECT + index)
    gain = max(0.05, min(1.0, _gain_at(spec, ev.start_s)))
    ground_y = round(ev.ground_frac * spec.height)
    need = MIN_CONTRAST_SHARE
    gray_bg: U8 = np.asarray(cv2.cvtColor(bg, cv2.COLOR_BGR2GRAY), np.uint8)
    best: tuple[float, Appearance] | None = None
    for _ in range(_LOOK_TRIES):
        look = random_appearance(ev.cls, rng)
        score = _contrast(look, height_px, gray_bg, ground_y, gain)
        if score >= need:
            return look
        if best is None or score > best[0]:
            best = (score, look)
    assert best is not None
    return best[1]


def _tracks(spec: SceneSpec, bg: U8) -> list[_Track]:
    out: list[_Track] = []
    for i, ev in enumerate(spec.events):
        if not isinstance(ev, ObjectPass):
            continue
        height_px = max(8, round(ev.height_frac * spec.height))
        look = _pick_look(spec, ev, i, height_px, bg)
        first = round(ev.start_s * spec.fps)
        last = max(first + 1, round((ev.start_s + ev.duration_s + ev.stop_s) * spec.fps))
        out.append(_Track(ev, len(out) + 1, look, height_px, first, last, spec.fps))
    return out


def _progress(t: _Track, index: int) -> float:
    """Share of its way the object has covered at frame ``index`` (0..1)."""
    if t.event.stop_s <= 0:
        return (index - t.first) / (t.last - t.first)
    stop = round(t.event.stop_s * t.fps)
    moving = max(2, t.last - t.first - stop)
    t1 = max(1, round(moving * t.event.stop_frac))
    t2 = max(1, moving - t1)
    e = index - t.first
    sf = t.event.stop_frac
    if e < t1:
        u = e / t1
        return sf * (1.0 - (1.0 - u) ** 2)
    if e < t1 + stop:
        return sf
    u = min(1.0, (e - t1 - stop) / t2)
    return sf + (1.0 - sf) * u * u


def _position(t: _Track, index: int, width: int, height: int) -> tuple[int, int, float]:
    """Top-left of the object's canvas at frame ``index`` and its gait phase."""
    w, h = object_size(t.look, t.height_px)
    frac = _progress(t, index)
    start, end = -w, width
    if t.event.direction < 0:
        start, end = end, start
    x = start + (end - start) * frac
    y = round(t.event.ground_frac * height) - h
    # One stride per ~0.6 canvas heights travelled, so the gait matches the speed.
    travelled = abs(x - start)
    phase = travelled / (0.6 * h) * math.pi
    return round(x), y, phase


def render_frames(spec: SceneSpec) -> Iterator[tuple[npt.NDArray[np.uint8], FrameTruth]]:
    """Yield every frame (a fresh H x W x 3 BGR array) with its ground truth, in order."""
    check_spec(spec)
    n = frame_count(spec)
    W, H = spec.width, spec.height
    bg = scene_background(W, H, spec.seed)
    tracks = _tracks(spec, bg)
    switches = sorted((e for e in spec.events if isinstance(e, LightSwitch)), key=lambda e: e.at_s)
    cover_spans = [
        (round(c.start_s * spec.fps), round((c.start_s + c.duration_s) * spec.fps), c.level)
        for c in spec.events
        if isinstance(c, CoverCamera)
    ]
    settle = max(1, round(LIGHTING_SETTLE_S * spec.fps))
    switch_frames = [(round(s.at_s * spec.fps), _lut(s.gain, s.offset)) for s in switches]
    # Sensor noise: one seeded pool of rounded Gaussian samples, read at a per-frame seeded
    # offset. Consecutive frames get independent-looking noise at a fraction of the cost of
    # drawing 3 x W x H normals per frame.
    size = W * H * 3
    pool = np.rint(
        _rng(spec.seed, _S_NOISE).standard_normal(size + _NOISE_POOL_EXTRA) * spec.noise_sigma
    ).astype(np.int16)
    min_px = MIN_VISIBLE_PCT / 100.0 * W * H
    frame16 = np.empty((H, W, 3), np.int16)
    for index in range(n):
        frame = bg.copy()
        objects: list[ObjectTruth] = []
        for t in tracks:
            if not t.first <= index <= t.last:
                continue
            x, y, phase = _position(t, index, W, H)
            obj, mask = draw_object(t.look, t.height_px, phase, facing=t.event.direction)
            hit = paste(frame, None, obj, mask, x, y)
            if hit is None:
                continue
            (x0, y0, x1, y1), count = hit
            if count < min_px:
                continue
            box = Box(round(x0 / W, 4), round(y0 / H, 4), round(x1 / W, 4), round(y1 / H, 4))
            objects.append(ObjectTruth(t.event.cls, box, t.track, round(100.0 * count / (W * H), 3)))
        lighting = False
        lut: U8 | None = None
        for at, table in switch_frames:
            if index >= at:
                lut = table
                lighting = index < at + settle
        if lut is not None:
            frame = lut[frame]
        level = next((lv for a, b, lv in cover_spans if a <= index < b), None)
        covered = level is not None
        if level is not None:
            frame[...] = level
            objects = []
        off = int(_rng(spec.seed, _S_NOISE_OFFSET, index).integers(0, _NOISE_POOL_EXTRA))
        np.add(frame, pool[off:off + size].reshape(H, W, 3), out=frame16, dtype=np.int16)
        np.clip(frame16, 0, 255, out=frame16)
        out = frame16.astype(np.uint8)
        yield out, FrameTruth(index, bool(objects), objects, lighting, covered)
