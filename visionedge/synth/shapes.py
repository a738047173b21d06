"""Drawing the three object classes and the textures they stand on.

Everything here is integer cv2 drawing and plain numpy arithmetic driven by a seeded
``numpy.random.Generator``, so the same generator state draws the same bytes on every
machine. Each class is told apart by its shape, not its colour: all three draw their main
colours from one shared palette (:func:`random_colour`).

- person: tall and narrow, a round head on a trapezoid torso, swinging arms and legs;
- vehicle: a wide box body with a cabin and windows, two round wheels with spokes;
- animal: a low elongated body on four legs, a head with snout and ears, a tail.

An object is drawn on its own canvas (``height`` x ``width`` pixels, the ground at the
bottom row) together with a binary mask; the scene pastes canvases into frames and takes
ground-truth boxes from the masks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

CLASSES: tuple[str, ...] = ("person", "vehicle", "animal")
"""The object classes the generator draws (the classifier adds ``background``)."""

U8 = npt.NDArray[np.uint8]
Colour = tuple[int, int, int]

_ASPECT = {"person": (0.42, 0.52), "vehicle": (2.0, 2.6), "animal": (1.45, 1.8)}
"""Range of canvas width / height per class."""


@dataclass(frozen=True, slots=True)
class Appearance:
    """How one object looks: colours, proportions and variant, fixed for a whole passage."""

    cls: str
    aspect: float
    primary: Colour
    secondary: Colour
    detail: Colour
    skin: Colour
    variant: int
    build: float


def random_colour(rng: np.random.Generator, *, sat: tuple[int, int] = (30, 230),
                  val: tuple[int, int] = (45, 235)) -> Colour:
    """A colour from the palette every class shares (uniform hue, moderate saturation)."""
    hsv = np.array(
        [[[int(rng.integers(0, 180)), int(rng.integers(*sat)), int(rng.integers(*val))]]],
        dtype=np.uint8,
    )
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return (int(b), int(g), int(r))


_SKINS: tuple[Colour, ...] = (
    (189, 214, 245), (140, 180, 225), (105, 150, 205), (70, 105, 160), (45, 70, 110),
)
_GLASS: tuple[Colour, ...] = ((70, 60, 50), (110, 95, 80), (150, 140, 120), (40, 40, 40))


def random_appearance(cls: str, rng: np.random.Generator) -> Appearance:
    """Draw a random look for an object of class ``cls``."""
    if cls not in CLASSES:
        raise ValueError(f"unknown object class {cls!r}; use one of {', '.join(CLASSES)}")
    lo, hi = _ASPECT[cls]
    skin = _SKINS[int(rng.integers(0, len(_SKINS)))]
    if cls == "vehicle":
        skin = _GLASS[int(rng.integers(0, len(_GLASS)))]
    return Appearance(
        cls=cls,
        aspect=float(rng.uniform(lo, hi)),
        primary=random_colour(rng),
        secondary=random_colour(rng),
        detail=random_colour(rng, val=(20, 120)),
        skin=skin,
        variant=int(rng.integers(0, 3)),
        build=float(rng.uniform(0.85, 1.15)),
    )


_ON = (255.0,)


class _Painter:
    """Draws every shape on the colour canvas and (as 255) on the mask at once."""

    def __init__(self, img: U8, mask: U8) -> None:
        self.img = img
        self.mask = mask

    def poly(self, pts: list[tuple[float, float]], colour: Colour) -> None:
        arr = np.array([[round(x), round(y)] for x, y in pts], dtype=np.int32)
        cv2.fillPoly(self.img, [arr], colour)
        cv2.fillPoly(self.mask, [arr], _ON)

    def circle(self, c: tuple[float, float], r: float, colour: Colour) -> None:
        centre = (round(c[0]), round(c[1]))
        rad = max(1, round(r))
        cv2.circle(self.img, centre, rad, colour, -1)
        cv2.circle(self.mask, centre, rad, _ON, -1)

    def ellipse(self, c: tuple[float, float], axes: tuple[float, float], angle: float,
                colour: Colour) -> None:
        centre = (round(c[0]), round(c[1]))
        ax = (max(1, round(axes[0])), max(1, round(axes[1])))
        cv2.ellipse(self.img, centre, ax, angle, 0, 360, colour, -1)
        cv2.ellipse(self.mask, centre, ax, angle, 0, 360, _ON, -1)

    def line(self, a: tuple[float, float], b: tuple[float, float], thick: float,
             colour: Colour) -> None:
        p, q = (round(a[0]), round(a[1])), (round(b[0]), round(b[1]))
        t = max(1, round(thick))
        cv2.line(self.img, p, q, colour, t)
        cv2.line(self.mask, p, q, _ON, t)


def _shade(c: Colour, f: float) -> Colour:
    return (min(255, round(c[0] * f)), min(255, round(c[1] * f)), min(255, round(c[2] * f)))


def _draw_person(p: _Painter, a: Appearance, w: int, h: int, phase: float) -> None:
    cx = w / 2.0
    s = math.sin(phase)
    hip_y, sh_y = 0.53 * h, 0.21 * h
    leg_t = 0.085 * h * a.build
    foot_y = h - 1 - leg_t / 2
    stride = 0.13 * h
    trousers = a.secondary
    # Far limbs first (darker), near limbs over the torso.
    p.line((cx, hip_y), (cx - stride * s, foot_y), leg_t, _shade(trousers, 0.75))
    p.line((cx, sh_y + 0.02 * h), (cx + 0.11 * h * s, 0.5 * h), 0.055 * h * a.build,
           _shade(a.primary, 0.75))
    p.line((cx, hip_y), (cx + stride * s, foot_y), leg_t, trousers)
    half_sh, half_hip = 0.115 * h * a.build, 0.085 * h * a.build
    p.poly([(cx - half_sh, sh_y), (cx + half_sh, sh_y), (cx + half_hip, hip_y + 0.03 * h),
            (cx - half_hip, hip_y + 0.03 * h)], a.primary)
    p.line((cx, sh_y + 0.02 * h), (cx - 0.11 * h * s, 0.5 * h), 0.055 * h * a.build, a.primary)
    p.circle((cx - 0.11 * h * s, 0.51 * h), 0.03 * h, a.skin)
    p.line((cx, sh_y), (cx, 0.15 * h), 0.05 * h, a.skin)
    head_c = (cx + 0.01 * h, 0.095 * h)
    p.circle(head_c, 0.075 * h, a.skin)
    if a.variant == 0:  # hair
        p.ellipse((head_c[0] - 0.01 * h, head_c[1] - 0.03 * h), (0.075 * h, 0.05 * h), 0,
                  a.detail)
    elif a.variant == 1:  # cap with a peak
        p.ellipse((head_c[0], head_c[1] - 0.035 * h), (0.078 * h, 0.045 * h), 0, a.detail)
        p.line((head_c[0], head_c[1] - 0.03 * h), (head_c[0] + 0.11 * h, head_c[1] - 0.03 * h),
               0.015 * h, a.detail)


def _draw_vehicle(p: _Painter, a: Appearance, w: int, h: int, phase: float) -> None:
    r = 0.19 * h
    wy = h - 1 - r
    body_top, body_bot = 0.42 * h, wy + 0.25 * r
    nose = 0.06 * w
    p.poly([(0, body_top + 0.05 * h), (w - 1 - nose, body_top), (w - 1, body_top + 0.12 * h),
            (w - 1, body_bot), (0, body_bot)], a.primary)
    if a.variant == 0:  # saloon: cabin in the middle with a sloped windscreen
        x0, x1, top = 0.22 * w, 0.72 * w, 0.06 * h
        p.poly([(x0, body_top), (x0 + 0.08 * w, top), (x1 - 0.1 * w, top), (x1, body_top)],
               a.primary)
        p.poly([(x0 + 0.04 * w, body_top - 0.02 * h), (x0 + 0.095 * w, top + 0.06 * h),
                (x1 - 0.11 * w, top + 0.06 * h), (x1 - 0.05 * w, body_top - 0.02 * h)], a.skin)
    elif a.variant == 1:  # van: cabin over the whole length
        top = 0.04 * h
        p.poly([(0, body_top), (0, top), (0.82 * w, top), (w - 1 - nose, body_top)], a.primary)
        p.poly([(0.66 * w, 0.1 * h), (0.8 * w, 0.1 * h), (0.9 * w, body_top - 0.03 * h),
                (0.66 * w, body_top - 0.03 * h)], a.skin)
        p.line((0.05 * w, 0.5 * (top + body_top)), (0.6 * w, 0.5 * (top + body_top)),
               0.03 * h, a.secondary)
    else:  # pickup: cabin at the front, open bed behind
        x0, top = 0.48 * w, 0.08 * h
        p.poly([(x0, body_top), (x0, top), (0.76 * w, top), (0.86 * w, body_top)], a.primary)
        p.poly([(x0 + 0.03 * w, 0.14 * h), (0.74 * w, 0.14 * h), (0.81 * w, body_top - 0.03 * h),
                (x0 + 0.03 * w, body_top - 0.03 * h)], a.skin)
        p.line((0.02 * w, body_top), (x0, body_top), 0.03 * h, a.secondary)
    p.poly([(w - 1 - 0.035 * w, body_top + 0.12 * h), (w - 1, body_top + 0.12 * h),
            (w - 1, body_top + 0.2 * h), (w - 1 - 0.035 * w, body_top + 0.2 * h)],
           (170, 235, 250))
    p.poly([(0, body_top + 0.1 * h), (0.025 * w, body_top + 0.1 * h),
            (0.025 * w, body_top + 0.2 * h), (0, body_top + 0.2 * h)], (40, 40, 200))
    for wx in (0.2 * w, 0.8 * w):
        p.circle((wx, wy), r, (28, 28, 28))
        p.circle((wx, wy), 0.5 * r, (150, 150, 150))
        for k in range(3):
            ang = phase * 0.6 + k * (2 * math.pi / 3)
            p.line((wx, wy), (wx + 0.85 * r * math.cos(ang), wy + 0.85 * r * math.sin(ang)),
                   0.1 * r, (90, 90, 90))


def _draw_animal(p: _Painter, a: Appearance, w: int, h: int, phase: float) -> None:
    s = math.sin(phase)
    body_c = (0.45 * w, 0.5 * h)
    body_ax = (0.3 * w, 0.17 * h * a.build)
    leg_t = 0.075 * h
    foot_y = h - 1 - leg_t / 2
    top_y = body_c[1] + 0.05 * h
    swing = 0.08 * h
    legs = ((0.24 * w, 1.0), (0.32 * w, -1.0), (0.58 * w, -1.0), (0.66 * w, 1.0))
    for x, sign in legs:
        far = sign < 0
        colour = _shade(a.primary, 0.7) if far else a.primary
        p.line((x, top_y), (x + sign * swing * s, foot_y), leg_t, colour)
    tail_y = 0.15 * h + 0.05 * h * s
    tail_x = 0.04 * w if a.variant != 2 else 0.08 * w
    p.line((0.17 * w, 0.42 * h), (tail_x, tail_y), 0.045 * h, a.primary)
    p.ellipse(body_c, body_ax, 0, a.primary)
    if a.variant == 1:  # a patch of a second fur colour
        p.ellipse((0.4 * w, 0.45 * h), (0.12 * w, 0.08 * h), 10, a.secondary)
    head_c = (0.83 * w, 0.27 * h)
    p.line((0.68 * w, 0.45 * h), head_c, 0.13 * h, a.primary)
    p.circle(head_c, 0.12 * h, a.primary)
    p.ellipse((0.92 * w, 0.32 * h), (0.07 * w, 0.055 * h), 8, _shade(a.primary, 0.85))
    p.circle((0.985 * w - 1, 0.31 * h), 0.025 * h, (25, 25, 25))
    ear = 0.1 * h
    p.poly([(0.78 * w, 0.2 * h), (0.8 * w, 0.2 * h - ear), (0.84 * w, 0.18 * h)], a.detail)
    p.circle((0.86 * w, 0.24 * h), 0.018 * h, (20, 20, 20))


_DRAW = {"person": _draw_person, "vehicle": _draw_vehicle, "animal": _draw_animal}


def draw_object(a: Appearance, height: int, phase: float, *, facing: int = 1,
                background: U8 | None = None) -> tuple[U8, U8]:
    """Draw one object ``height`` px tall (feet/wheels on the bottom row) on its own canvas.

    Returns the BGR canvas (black, or ``background`` when given, which must be
    height x width x 3) and the uint8 mask (255 on the object). ``phase`` (radians)
    animates the gait; ``facing`` = -1 mirrors the object to move leftwards.
    """
    h = max(8, int(height))
    w = max(4, round(h * a.aspect))
    if background is None:
        img = np.zeros((h, w, 3), np.uint8)
    else:
        if background.shape != (h, w, 3):
            raise ValueError(f"background shape {background.shape} != {(h, w, 3)}")
        img = background.copy()
    mask = np.zeros((h, w), np.uint8)
    _DRAW[a.cls](_Painter(img, mask), a, w, h, phase)
    if facing < 0:
        img, mask = np.ascontiguousarray(img[:, ::-1]), np.ascontiguousarray(mask[:, ::-1])
    return img, mask


def object_size(a: Appearance, height: int) -> tuple[int, int]:
    """The canvas (width, height) :func:`draw_object` uses for ``height``."""
    h = max(8, int(height))
    return max(4, round(h * a.aspect)), h


def value_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> npt.NDArray[np.float64]:
    """Smooth noise in [0, 1): a random ``cells``-wide grid bilinearly upsampled to h x w."""
    gw = max(1, cells)
    gh = max(1, round(cells * h / max(w, 1)))
    grid = rng.random((gh + 1, gw + 1))
    ys = np.arange(h, dtype=np.float64) * (gh / max(h, 1))
    xs = np.arange(w, dtype=np.float64) * (gw / max(w, 1))
    y0 = ys.astype(np.int64)
    x0 = xs.astype(np.int64)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    # Smoothstep keeps the cell seams invisible; pure arithmetic, so bit-exact everywhere.
    fy = fy * fy * (3 - 2 * fy)
    fx = fx * fx * (3 - 2 * fx)
    a = grid[y0][:, x0]
    b = grid[y0][:, x0 + 1]
    c = grid[y0 + 1][:, x0]
    d = grid[y0 + 1][:, x0 + 1]
    top = a + (b - a) * fx
    bot = c + (d - c) * fx
    out: npt.NDArray[np.float64] = top + (bot - top) * fy
    return out


def texture(rng: np.random.Generator, h: int, w: int) -> U8:
    """A random static texture: two palette colours blended by multi-scale noise, plus grain."""
    c1 = np.array(random_colour(rng, val=(60, 230)), np.float64)
    c2 = np.array(random_colour(rng, val=(60, 230)), np.float64)
    kind = int(rng.integers(0, 4))
    t = 0.6 * value_noise(rng, h, w, int(rng.integers(2, 6))) + 0.4 * value_noise(
        rng, h, w, int(rng.integers(8, 24))
    )
    if kind == 1:  # stripes / planks
        period = int(rng.integers(6, 24))
        stripes = ((np.arange(w) // period) % 2).astype(np.float64)[None, :]
        t = 0.5 * t + 0.5 * stripes
    elif kind == 2:  # bricks / tiles
        bh, bw = int(rng.integers(6, 16)), int(rng.integers(12, 32))
        yy = np.arange(h)[:, None]
        xx = np.arange(w)[None, :] + (yy // bh % 2) * (bw // 2)
        grout = ((yy % bh) == 0) | ((xx % bw) == 0)
        t = np.where(grout, 0.0, 0.4 + 0.6 * t)
    elif kind == 3:  # nearly plain wall
        t = 0.5 + 0.15 * (t - 0.5)
    img = c1[None, None, :] + (c2 - c1)[None, None, :] * t[:, :, None]
    grain = rng.integers(-6, 7, size=(h, w, 1))
    out: U8 = np.clip(img + grain, 0, 255).astype(np.uint8)
    return out


def render_background(size: int, rng: np.random.Generator) -> U8:
    """A ``size`` x ``size`` BGR crop of texture with no object (the ``background`` class)."""
    if size < 8:
        raise ValueError(f"size must be at least 8, got {size}")
    img = texture(rng, size, size)
    # Sometimes a static straight edge (a kerb, a wall corner), as scene crops have.
    if rng.random() < 0.5:
        other = texture(rng, size, size)
        y = int(rng.integers(size // 4, 3 * size // 4))
        img[y:] = other[y:]
    return img


def render_object(cls: str, size: int, rng: np.random.Generator) -> tuple[U8, U8]:
    """A ``size`` x ``size`` BGR crop of one object of class ``cls`` on a texture, and its mask.

    The object fills 55-95 % of the crop along its longer side, at a random position (up
    to ~15 % of it may be cut off at an edge, as in motion-box crops), with a random look
    and gait phase, facing either way.
    """
    if size < 16:
        raise ValueError(f"size must be at least 16, got {size}")
    a = random_appearance(cls, rng)
    fill = float(rng.uniform(0.55, 0.95))
    height = round(size * fill / max(1.0, a.aspect))
    height = max(8, height)
    w, h = object_size(a, height)
    obj, omask = draw_object(a, h, float(rng.uniform(0, 2 * math.pi)),
                             facing=1 if rng.random() < 0.5 else -1)
    img = render_background(size, rng)
    mask = np.zeros((size, size), np.uint8)
    x = int(rng.integers(-w // 8, max(-w // 8 + 1, size - w + w // 8 + 1)))
    y = int(rng.integers(-h // 10, max(-h // 10 + 1, size - h + h // 10 + 1)))
    paste(img, mask, obj, omask, x, y)
    return img, mask


PixelBox = tuple[int, int, int, int]


def paste(
    dst: U8, dst_mask: U8 | None, obj: U8, omask: U8, x: int, y: int
) -> tuple[PixelBox, int] | None:
    """Copy the masked pixels of ``obj`` into ``dst`` with its top-left at (x, y), clipped.

    Returns the visible part's bounding box (x0, y0, x1, y1, exclusive) in ``dst``
    coordinates and its pixel count, or None when nothing of the object lands inside.
    """
    H, W = dst.shape[:2]
    h, w = omask.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + w), min(H, y + h)
    if x0 >= x1 or y0 >= y1:
        return None
    sub = omask[y0 - y: y1 - y, x0 - x: x1 - x]
    sel = sub > 0
    rows = np.flatnonzero(sel.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(sel.any(axis=0))
    region = dst[y0:y1, x0:x1]
    region[sel] = obj[y0 - y: y1 - y, x0 - x: x1 - x][sel]
    if dst_mask is not None:
        dst_mask[y0:y1, x0:x1][sel] = 255
    box: PixelBox = (x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
    return box, int(np.count_nonzero(sel))
