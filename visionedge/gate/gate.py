"""The frame-differencing motion gate (docs/gate-algorithm.md §2), the MotionGate of the pipeline.

Every step is integer and matches the spec bit for bit (tests/gate compares it with the
literal transcription in :mod:`visionedge.gate.reference`). The per-pixel steps run either in
the compiled core (:mod:`visionedge.gate.native`: the firmware's fused one-pass loop) or as
numpy/OpenCV calls; both give the same bytes. The per-frame path works in buffers allocated
once per plane size: ``cv2`` calls write through ``dst=``, the previous plane and the current
one swap roles instead of being copied, and the mask/zone bitmaps are rebuilt only when the
plane size or the configuration changes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.config import GateConfig
from visionedge.errors import FrameError
from visionedge.frame import Frame, Plane
from visionedge.gate.exposure import ExposureTracker
from visionedge.gate.hysteresis import Hysteresis
from visionedge.gate.masks import MaskSet, build_mask_set
from visionedge.gate.native import load_native
from visionedge.gate.regions import RegionFinder
from visionedge.gate.tamper import TamperDetector
from visionedge.gate.timing import DEFAULT_FPS, FrameCounts, frame_counts
from visionedge.protocols import Box, GateResult

__all__ = ["FrameDifferenceGate", "check_plane"]

_U8 = npt.NDArray[np.uint8]
_REFERENCE_CODES = {"previous": 0, "background": 1, "both": 2}  # ve::Reference


def check_plane(plane: object) -> Plane:
    """Return ``plane`` if it is a usable motion plane, else raise FrameError saying why."""
    if not isinstance(plane, np.ndarray):
        raise FrameError(
            f"motion plane is a {type(plane).__name__}; pass a 2-D uint8 numpy array "
            "(visionedge.gate.plane.to_motion_plane makes one from a camera image)"
        )
    if plane.dtype != np.uint8:
        raise FrameError(f"motion plane dtype is {plane.dtype}; it must be uint8 (8-bit gray/Y)")
    if plane.ndim != 2:
        raise FrameError(
            f"motion plane shape {plane.shape} is not 2-D; pass the gray/Y plane "
            "(visionedge.gate.plane.to_motion_plane converts a BGR image)"
        )
    if plane.size == 0:
        raise FrameError(f"motion plane shape {plane.shape} is empty; it needs at least 1x1 pixel")
    return plane


def _box(x0: int, y0: int, x1: int, y1: int, w: int, h: int) -> Box:
    return Box(round(x0 / w, 4), round(y0 / h, 4), round(x1 / w, 4), round(y1 / h, 4))


class _Buffers:
    """Scratch and state planes for one plane size."""

    def __init__(self, h: int, w: int) -> None:
        def u8() -> _U8:
            return np.zeros((h, w), dtype=np.uint8)

        self.cur, self.prev, self.bg = u8(), u8(), u8()
        self.diff, self.diff2, self.changed = u8(), u8(), u8()
        self.lo, self.hi, self.zone = u8(), u8(), u8()
        self.step, self.step_value = u8(), 0


class FrameDifferenceGate:
    """Percentage of changed pixels against the previous frame and/or a background.

    Implements :class:`visionedge.protocols.MotionGate`. ``reconfigure`` changes thresholds
    at run time and keeps the history (§5). Regions are computed on frames where the gate is
    open (the classifier only looks then) and ``regions_wanted`` is set; ``box`` and
    ``zones`` on every frame, as the parity contract says.
    """

    def __init__(
        self, cfg: GateConfig, fps: float = DEFAULT_FPS, *, native: bool | None = None
    ) -> None:
        self.cfg = cfg
        # None: as VISIONEDGE_GATE_NATIVE says (auto); True/False force the compiled core
        # or the numpy path (visionedge.gate.native).
        self._native = load_native(native)
        self._counts = frame_counts(cfg, fps)
        self._hyst = Hysteresis(cfg.k, cfg.n, self._counts.close_after)
        self._exposure = ExposureTracker(cfg.exposure_jump)
        self._tamper = TamperDetector(
            cfg.tamper, cfg.pixel_threshold, self._counts.check_every, self._counts.persist_frames
        )
        self._shape: tuple[int, int] | None = None
        self._buf: _Buffers | None = None
        self._masks: MaskSet | None = None
        self._zone_stack: _U8 | None = None
        self._regions: RegionFinder | None = None
        self._t = 0
        self.regions_wanted = True
        """Whether open frames get their motion regions (a caller that will not classify the
        next frame sets it false: the regions cost as much as the rest of the update)."""

    # -- state ------------------------------------------------------------------------
    @property
    def native(self) -> bool:
        """Whether the per-pixel steps run in the compiled core (else numpy/OpenCV)."""
        return self._native is not None

    @property
    def frames_seen(self) -> int:
        """Frames processed since the last reset (``t`` of the spec)."""
        return self._t

    @property
    def counts(self) -> FrameCounts:
        """The time-based settings in frames at the current rate."""
        return self._counts

    def set_fps(self, fps: float) -> None:
        """Take the source's frame rate: the seconds of the config become other frame counts."""
        if fps != self._counts.fps:
            self.reconfigure(self.cfg, fps)

    @property
    def is_open(self) -> bool:
        """Whether the gate is open now."""
        return self._hyst.is_open

    @property
    def hysteresis(self) -> Hysteresis:
        """The opening/closing state machine (read-only use: tests, diagnostics)."""
        return self._hyst

    @property
    def tamper(self) -> TamperDetector:
        """The tamper state machine (read-only use: tests, diagnostics)."""
        return self._tamper

    @property
    def background(self) -> Plane | None:
        """A copy of the background plane, or None before the first frame."""
        return None if self._buf is None or self._t == 0 else self._buf.bg.copy()

    def reset(self) -> None:
        """Forget all history; the next frame becomes the new baseline (§5)."""
        self._t = 0
        self._hyst.reset()
        self._exposure.reset()
        self._tamper.reset()

    def reconfigure(self, cfg: GateConfig, fps: float | None = None) -> None:
        """Apply a new config at run time, keeping the history where it stays meaningful (§5)."""
        old, self.cfg = self.cfg, cfg
        self._counts = c = frame_counts(cfg, self._counts.fps if fps is None else fps)
        self._hyst.reconfigure(cfg.k, cfg.n, c.close_after)
        self._exposure.jump = cfg.exposure_jump
        self._tamper.reconfigure(cfg.tamper, cfg.pixel_threshold, c.check_every, c.persist_frames)
        if not cfg.tamper.enabled:
            self._tamper.reset()  # no check would ever clear a tamper state (§5)
        if self._shape is not None and (old.masks != cfg.masks or old.zones != cfg.zones):
            self._masks = self._build_masks(*self._shape)
        if old.blur != cfg.blur:
            self.reset()

    def _build_masks(self, h: int, w: int) -> MaskSet:
        zones = [(z.name, z.polygon) for z in self.cfg.zones]
        masks = build_mask_set(self.cfg.masks, zones, w, h)
        # The compiled pass reads the zones as one contiguous (zones, h, w) block.
        self._zone_stack = np.ascontiguousarray(np.stack(masks.zones255)) if masks.zones255 else None
        return masks

    def _setup(self, h: int, w: int) -> None:
        self._shape = (h, w)
        self._buf = _Buffers(h, w)
        self._masks = self._build_masks(h, w)
        self._regions = RegionFinder(h, w)
        self.reset()

    # -- per frame --------------------------------------------------------------------
    def process(self, frame: Frame) -> GateResult:
        """Run the gate on a frame's motion plane (MotionGate protocol)."""
        return self.process_plane(frame.plane, frame.index, frame.metadata)

    def process_plane(
        self,
        plane: Plane,
        index: int = 0,
        metadata: Mapping[str, float] | None = None,
    ) -> GateResult:
        """Run the gate on one motion plane (2-D uint8). A new plane size re-baselines."""
        start = time.perf_counter_ns()
        check_plane(plane)
        if not plane.flags.c_contiguous:
            plane = np.ascontiguousarray(plane)
        h, w = plane.shape
        if self._shape != (h, w):
            self._setup(h, w)
        buf, masks, cfg = self._buf, self._masks, self.cfg
        assert buf is not None and masks is not None and self._regions is not None
        cur = buf.cur
        first = self._t == 0
        changed = buf.changed
        check = cfg.tamper.enabled and self._t % self._counts.check_every == 0
        nat = self._native
        sums: tuple[int, ...] | None = None
        zone_counts: tuple[int, ...] = ()
        if nat is not None:
            # Steps 1, 3-5, the box, the zone counts and the background step in one pass.
            changed_px, bx0, by0, bx1, by1, zone_counts, sums = nat.gate_pass(
                plane, cur, buf.prev, buf.bg, changed, masks.active255, self._zone_stack,
                w, h, len(masks.zone_names), cfg.pixel_threshold, cfg.background_step,
                _REFERENCE_CODES[cfg.reference], cfg.blur, first, check,
                self.regions_wanted,
            )
            pct = 0.0 if first or not masks.total else (100.0 * changed_px) / masks.total
        else:
            changed_px, pct = self._numpy_steps(plane, first)
            bx0 = by0 = bx1 = by1 = 0

        # Step 6: global change, exposure jump.
        exposure_jump = self._exposure.update(metadata)
        reason = ""
        rejected = False
        if not first:
            if pct > cfg.global_pct:
                rejected, reason = True, "global_change"
            elif exposure_jump:
                rejected, reason = True, "exposure_change"
        tamper = self._tamper
        if rejected:
            tamper.take_snapshot(buf.prev)
        if check:
            tamper.check(plane, cur, sums, nat)
        tampered = tamper.tampered

        # Steps 7-8.
        frame_motion = not rejected and not tampered and pct >= cfg.start_pct
        quiet = rejected or tampered or pct < cfg.stop_pct
        tr = self._hyst.step(frame_motion, quiet)
        if tr.opened:
            reason = "motion"

        # Step 9: prev <- B by swapping buffers; background update.
        # (The compiled pass stepped the background already and set it on a first frame.)
        if rejected or (first and nat is None):
            np.copyto(buf.bg, cur)
        elif nat is None:
            self._numpy_background_step()
        buf.prev, buf.cur = cur, buf.prev
        self._t += 1
        tamper.age()

        # Steps 10-11 and regions.
        box: Box | None = None
        regions: tuple[Box, ...] = ()
        zones: tuple[str, ...] = ()
        if changed_px and not rejected:
            if nat is not None:
                box = _box(bx0, by0, bx1 + 1, by1 + 1, w, h)
                if masks.zone_names:
                    zones = self._zones_of(zone_counts, masks)
            else:
                x, y, bw, bh = cv2.boundingRect(changed)
                box = _box(x, y, x + bw, y + bh, w, h)
                if masks.zone_names:
                    zones = self._zones(changed, masks, buf.zone)
            if tr.open and self.regions_wanted:
                min_area = cfg.min_region_pct * h * w / 100.0
                regions = tuple(
                    _box(*b, w, h) for b in self._regions.find(changed, math.ceil(min_area), nat)
                )
        gate_us = (time.perf_counter_ns() - start) / 1000.0
        return GateResult(
            index=index,
            changed_pct=round(pct, 3),
            motion=tr.open,
            frame_motion=frame_motion,
            opened=tr.opened,
            closed=tr.closed,
            reason=reason,
            box=box,
            regions=regions,
            zones=zones,
            tamper=tamper.state,
            tamper_reason=tamper.reason,
            gate_us=gate_us,
        )

    def _numpy_steps(self, plane: Plane, first: bool) -> tuple[int, float]:
        """Steps 1 and 3-5 with numpy/OpenCV: B into ``cur``, C into ``changed``; (count, %)."""
        buf, masks, cfg = self._buf, self._masks, self.cfg
        assert buf is not None and masks is not None
        cur, changed = buf.cur, buf.changed
        if cfg.blur:
            cv2.GaussianBlur(plane, (3, 3), 0, dst=cur)
        else:
            np.copyto(cur, plane)
        if first:
            return 0, 0.0
        ref = cfg.reference
        diff = buf.diff
        if ref == "previous":
            cv2.absdiff(cur, buf.prev, dst=diff)
        elif ref == "background":
            cv2.absdiff(cur, buf.bg, dst=diff)
        else:
            cv2.absdiff(cur, buf.prev, dst=diff)
            cv2.absdiff(cur, buf.bg, dst=buf.diff2)
            cv2.min(diff, buf.diff2, dst=diff)
        cv2.threshold(diff, cfg.pixel_threshold, 255, cv2.THRESH_BINARY, dst=changed)
        if masks.active255 is not None:
            cv2.bitwise_and(changed, masks.active255, dst=changed)
        changed_px = int(cv2.countNonZero(changed))
        return changed_px, (100.0 * changed_px) / masks.total if masks.total else 0.0

    def _numpy_background_step(self) -> None:
        """Step 9's bounded background step with four saturating OpenCV operations."""
        buf = self._buf
        assert buf is not None
        # Kept up to date even with reference = "previous": a runtime switch to
        # "background" must find the background the spec would have (§5).
        step = self.cfg.background_step
        if buf.step_value != step:
            buf.step.fill(step)
            buf.step_value = step
        # Saturating 8-bit add/subtract give the spec's clamp (B is in range anyway);
        # an array operand is twice as fast as a scalar one in cv2.
        cv2.subtract(buf.bg, buf.step, dst=buf.lo)
        cv2.add(buf.bg, buf.step, dst=buf.hi)
        cv2.max(buf.cur, buf.lo, dst=buf.lo)
        cv2.min(buf.lo, buf.hi, dst=buf.bg)

    def _zones_of(self, counts: tuple[int, ...], masks: MaskSet) -> tuple[str, ...]:
        start = self.cfg.start_pct
        return tuple(
            name
            for name, n, total in zip(masks.zone_names, counts, masks.zone_totals, strict=True)
            if total and (100.0 * n) / total >= start
        )

    def _zones(self, changed: _U8, masks: MaskSet, scratch: _U8) -> tuple[str, ...]:
        moved: list[str] = []
        start = self.cfg.start_pct
        for name, zone, total in zip(
            masks.zone_names, masks.zones255, masks.zone_totals, strict=True
        ):
            if total == 0:
                continue
            cv2.bitwise_and(changed, zone, dst=scratch)
            if (100.0 * cv2.countNonZero(scratch)) / total >= start:
                moved.append(name)
        return tuple(moved)
