"""A literal, slow, pure-Python/numpy transcription of docs/gate-algorithm.md.

It shares no code with the fast gate except the mask rasteriser (§4 defines masks by it) and
exists to be compared with: tests/gate checks :class:`FrameDifferenceGate` against it frame
by frame, and the firmware port can be checked against it too. Every pixel operation is done
in int64, so nothing can wrap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visionedge.config import GateConfig
from visionedge.gate.masks import rasterize_polygons
from visionedge.gate.timing import DEFAULT_FPS, frame_counts

__all__ = ["RefResult", "ReferenceGate", "ref_blur", "ref_gray", "ref_motion_plane"]

I64 = npt.NDArray[np.int64]


def ref_gray(bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """§1 BGR → Y with the 15-bit fixed-point weights."""
    b: I64 = bgr[..., 0].astype(np.int64)
    g: I64 = bgr[..., 1].astype(np.int64)
    r: I64 = bgr[..., 2].astype(np.int64)
    y: npt.NDArray[np.uint8] = ((3735 * b + 19235 * g + 9798 * r + 16384) >> 15).astype(np.uint8)
    return y


def ref_motion_plane(
    gray: npt.NDArray[np.uint8], target_width: int, full_range: bool = False
) -> npt.NDArray[np.uint8]:
    """§1 whole-factor box downscale with round-half-up means, then full -> limited range."""
    h_in, w_in = gray.shape
    f = max(1, math.floor(w_in / target_width + 0.5))
    h, w = h_in // f, w_in // f
    out = np.zeros((h, w), dtype=np.uint8)
    g = gray.astype(np.int64)
    for y in range(h):
        for x in range(w):
            s = int(g[y * f : y * f + f, x * f : x * f + f].sum())
            m = (s + (f * f) // 2) // (f * f)
            out[y, x] = 16 + (219 * m + 127) // 255 if full_range else m
    return out


def _reflect101(i: int, n: int) -> int:
    if n == 1:
        return 0
    if i < 0:
        return -i
    if i >= n:
        return 2 * n - 2 - i
    return i


def ref_blur(plane: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """§2.1 3x3 binomial blur with BORDER_REFLECT_101 and +8 >> 4 rounding."""
    h, w = plane.shape
    p = plane.astype(np.int64)
    weights = {-1: 1, 0: 2, 1: 1}
    acc = np.zeros((h, w), dtype=np.int64)
    rows = [[_reflect101(y + dy, h) for y in range(h)] for dy in (-1, 0, 1)]
    cols = [[_reflect101(x + dx, w) for x in range(w)] for dx in (-1, 0, 1)]
    for iy, dy in enumerate((-1, 0, 1)):
        for ix, dx in enumerate((-1, 0, 1)):
            acc += weights[dy] * weights[dx] * p[np.ix_(rows[iy], cols[ix])]
    return ((acc + 8) >> 4).astype(np.uint8)


def _var(n: int, s: int, ss: int) -> float:
    return float(n * ss - s * s) / float(n * n) if n else 0.0


@dataclass(frozen=True)
class RefResult:
    """The parity-relevant outputs of one frame."""

    changed_pct: float
    motion: bool
    frame_motion: bool
    opened: bool
    closed: bool
    reason: str
    box: tuple[float, float, float, float] | None
    zones: tuple[str, ...]
    tamper: str
    tamper_reason: str


class ReferenceGate:
    """The spec, step by step, one frame at a time."""

    def __init__(self, cfg: GateConfig, fps: float = DEFAULT_FPS) -> None:
        self.cfg = cfg
        self.counts = frame_counts(cfg, fps)
        self.size: tuple[int, int] | None = None
        self.reset()

    def reset(self) -> None:
        """§5 reset."""
        self.t = 0
        self.window = [False] * self.cfg.n
        self.quiet = 0
        self.open = False
        self.snapshot: I64 | None = None
        self.snapshot_age = 0
        self.e0: float | None = None
        self.tamper = "ok"
        self.tamper_reason = ""
        self.streak = 0

    def _rasterise(self, h: int, w: int) -> None:
        self.active = (1 - rasterize_polygons(self.cfg.masks, w, h)).astype(np.int64)
        self.zones = [
            (z.name, rasterize_polygons([z.polygon], w, h).astype(np.int64)) for z in self.cfg.zones
        ]

    def _check(self, p: I64, b: I64) -> None:
        tc = self.cfg.tamper
        h, w = p.shape
        persist, every = self.counts.persist_frames, self.counts.check_every
        if self.snapshot is not None and self.snapshot_age > 10 * persist:
            self.snapshot = None
        n = h * w
        s, ss = int(p.sum()), int((p * p).sum())
        mean = s / n
        std = math.sqrt(_var(n, s, ss))
        lap_var = 0.0
        if h >= 3 and w >= 3:
            lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * p[1:-1, 1:-1]
            lap_var = _var((h - 2) * (w - 2), int(lap.sum()), int((lap * lap).sum()))
        found = ""
        if mean <= tc.dark_level:
            found = "dark"
        elif std < tc.flat_std:
            found = "flat"
        elif tc.focus_min > 0 and lap_var < tc.focus_min and (
            tc.focus_ratio <= 0 or lap_var < tc.focus_ratio * (std * std)
        ):
            found = "defocused"
        elif self.snapshot is not None:
            snap, thr = self.snapshot, self.cfg.pixel_threshold
            strong = agree = 0
            for ds, db in (
                (snap[:, 1:] - snap[:, :-1], b[:, 1:] - b[:, :-1]),
                (snap[1:, :] - snap[:-1, :], b[1:, :] - b[:-1, :]),
            ):
                st = np.abs(ds) > thr
                strong += int(st.sum())
                agree += int((st & (ds * db > 0) & (4 * np.abs(db) > thr)).sum())
            if strong == 0 or 2 * agree >= strong:
                self.snapshot = None
            else:
                found = "scene_changed"
        need = -(-persist // every)
        if self.tamper == "ok":
            self.streak = self.streak + 1 if found else 0
            if self.streak >= need:
                self.tamper, self.tamper_reason, self.streak = "tamper", found, 0
        elif found:
            self.tamper_reason, self.streak = found, 0
        else:
            self.streak += 1
            if self.streak >= need:
                self.tamper, self.tamper_reason, self.streak = "ok", "", 0

    def step(
        self, plane: npt.NDArray[np.uint8], metadata: Mapping[str, float] | None = None
    ) -> RefResult:
        """Process one plane."""
        cfg = self.cfg
        h, w = plane.shape
        if self.size != (h, w):
            self.size = (h, w)
            self._rasterise(h, w)
            self.reset()
        p = plane.astype(np.int64)
        b = ref_blur(plane).astype(np.int64) if cfg.blur else p.copy()
        first = self.t == 0
        if first:
            self.prev, self.bg = b.copy(), b.copy()
        dp, db = np.abs(b - self.prev), np.abs(b - self.bg)
        d = {"previous": dp, "background": db, "both": np.minimum(dp, db)}[cfg.reference]
        c = ((d > cfg.pixel_threshold) & (self.active == 1)).astype(np.int64)
        changed, total = int(c.sum()), int(self.active.sum())
        pct = 0.0 if first or total == 0 else (100.0 * changed) / total
        # Step 6.
        rejected, reason = False, ""
        e = None
        md = metadata or {}
        if "ExposureTime" in md and "AnalogueGain" in md:
            et, ag = float(md["ExposureTime"]), float(md["AnalogueGain"])
            if math.isfinite(et) and math.isfinite(ag) and et > 0 and ag > 0:
                e = et * ag
        if not first and pct > cfg.global_pct:
            rejected, reason = True, "global_change"
        elif (
            not first
            and e is not None
            and self.e0 is not None
            and abs(math.log2(e / self.e0)) > cfg.exposure_jump
        ):
            rejected, reason = True, "exposure_change"
        if e is not None:
            self.e0 = e
        if rejected and cfg.tamper.enabled and self.snapshot is None:
            self.snapshot, self.snapshot_age = self.prev.copy(), 0
        if cfg.tamper.enabled and self.t % self.counts.check_every == 0:
            self._check(p, b)
        tampered = self.tamper == "tamper"
        # Steps 7-8.
        frame_motion = not rejected and not tampered and pct >= cfg.start_pct
        self.window = [*self.window[1:], frame_motion]
        opened = closed = False
        if not self.open:
            if sum(self.window) >= cfg.k:
                self.open, opened, reason, self.quiet = True, True, "motion", 0
        else:
            if rejected or tampered or pct < cfg.stop_pct:
                self.quiet += 1
            else:
                self.quiet = 0
            if self.quiet == self.counts.close_after:
                self.open, closed, self.quiet = False, True, 0
                self.window = [False] * cfg.n
        # Step 9.
        if rejected:
            self.prev, self.bg = b.copy(), b.copy()
        else:
            self.prev = b.copy()
            step = cfg.background_step
            self.bg = self.bg + np.clip(b - self.bg, -step, step)
        self.t += 1
        if self.snapshot is not None:
            self.snapshot_age += 1
        # Steps 10-11.
        box = None
        zones: list[str] = []
        if not rejected and changed:
            ys, xs = np.nonzero(c)
            box = (
                round(int(xs.min()) / w, 4),
                round(int(ys.min()) / h, 4),
                round((int(xs.max()) + 1) / w, 4),
                round((int(ys.max()) + 1) / h, 4),
            )
        if not rejected:
            for name, zone in self.zones:
                zt = int((zone * self.active).sum())
                zc = int((zone * c).sum())
                if zt > 0 and (100.0 * zc) / zt >= cfg.start_pct:
                    zones.append(name)
        return RefResult(
            round(pct, 3),
            self.open,
            frame_motion,
            opened,
            closed,
            reason,
            box,
            tuple(zones),
            self.tamper,
            self.tamper_reason,
        )

    def run(self, planes: Iterable[npt.NDArray[np.uint8]]) -> list[RefResult]:
        """Process a sequence of planes."""
        return [self.step(p) for p in planes]
