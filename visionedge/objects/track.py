"""The object tracker: motion regions in, tracked objects with stable ids out (docs/gate-algorithm.md §7).

Integer-only and order-defined so the firmware can port it bit for bit: greedy matching on
a total order of candidate pairs, velocities in 1/16 pixel per frame, floor divisions.
Every step below is numbered like the spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from visionedge.config import ObjectsConfig
from visionedge.objects.geometry import SUB, PxBox, area, floor_div, intersection, milli
from visionedge.objects.matching import candidates as _candidates
from visionedge.objects.matching import centre2 as _centre2
from visionedge.objects.matching import clamp_into as _clamp_into
from visionedge.objects.matching import inside as _inside
from visionedge.objects.matching import shift as _shift

__all__ = ["EndReason", "ObjectTracker", "Track", "TrackState", "TrackStep"]


class TrackState(StrEnum):
    """How the tracker last saw an object."""

    SEEN = "seen"
    """Matched to a motion region this frame (the box is measured)."""
    MERGED = "merged"
    """Inside a region shared with other objects: the box is the prediction."""
    MISSING = "missing"
    """No region this frame: the box is the prediction (then held in place)."""


class EndReason(StrEnum):
    """Why a tracked object ended (the ``end_reason`` of its event)."""

    LEFT = "left"
    LOST = "lost"
    STATIONARY_TIMEOUT = "stationary_timeout"


@dataclass(slots=True)
class Track:
    """One tracked object. ``object_id`` is 0 while tentative (fewer than min_hits sightings)."""

    serial: int
    object_id: int
    box: PxBox
    seen_box: PxBox
    first_frame: int
    first_ts_ms: int
    last_seen_frame: int
    last_seen_ts_ms: int
    meas_box: PxBox = (0, 0, 0, 0)
    meas_frame: int = 0
    vx: int = 0
    vy: int = 0
    hits: int = 1
    merged_run: int = 0
    state: TrackState = TrackState.SEEN
    anchor: tuple[int, int] = (0, 0)
    anchor_box: PxBox = (0, 0, 0, 0)
    still_since_ts_ms: int = 0
    stationary: bool = False
    held: int = 0
    """0: never held; 1: held (unseen, kept where it stood, T7); 2: seen again since."""
    ended: EndReason | None = None

    @property
    def confirmed(self) -> bool:
        """Whether the object has an id (seen on at least min_hits frames)."""
        return self.object_id > 0


@dataclass(slots=True)
class TrackStep:
    """What one frame did: the live confirmed tracks (id order) and those that ended."""

    tracks: list[Track] = field(default_factory=list)
    ended: list[Track] = field(default_factory=list)
    confirmed: list[Track] = field(default_factory=list)


class ObjectTracker:
    """Matches each frame's motion regions (plane pixels) to tracked objects.

    Call :meth:`update` once per frame with the regions in pixels (largest first, as the
    gate reports them) or ``blind=True`` for a frame the gate rejected (a light switch):
    blind frames change nothing.
    """

    def __init__(self, cfg: ObjectsConfig, width: int, height: int) -> None:
        self.cfg = cfg
        self.width, self.height = width, height
        self.tracks: list[Track] = []
        self._serial = 0
        self._next_id = 1

    def reconfigure(self, cfg: ObjectsConfig) -> None:
        """Take new settings; tracked objects continue under them."""
        self.cfg = cfg

    # -- step 2: prediction -------------------------------------------------------------
    def _predict(self, t: Track, frame: int) -> PxBox:
        k = min(frame - t.last_seen_frame, self.cfg.coast_frames)
        return _shift(t.seen_box, floor_div(t.vx * k, SUB), floor_div(t.vy * k, SUB))

    def _reach(self, p: PxBox, missed: int) -> int:
        """Largest centre distance (L1, doubled units) a region may be from prediction ``p``."""
        size = (p[2] - p[0]) + (p[3] - p[1])
        return floor_div(size * (2 + min(missed, 4)), 2)

    def update(
        self, regions: list[PxBox], frame: int, ts_ms: int, *, blind: bool = False
    ) -> TrackStep:
        """Advance one frame; return the live confirmed tracks and the ones that ended."""
        step = TrackStep()
        if not self.tracks and not regions:
            # Nothing tracked and nothing seen (a still scene): every step below would find
            # nothing to match, end or start, and leave the state as it is.
            return step
        if blind:
            step.tracks = [t for t in self.tracks if t.confirmed]
            return step
        cfg = self.cfg
        regions = [r for r in regions if area(r) > 0]
        live = self.tracks
        preds = [self._predict(t, frame) for t in live]
        # Areas are read many times below (steps 4 and 5): computed once per box.
        r_area = [area(r) for r in regions]
        p_area = [area(p) for p in preds]

        # Step 3: candidate pairs, taken greedily in a total order.
        # Unseen or hidden in a merged region for a while: it may have changed speed.
        # A stationary object is matched by overlap only, to a region at least a quarter of
        # its size: a region elsewhere, or a small one within (someone stepping out from
        # behind a parked car), is another object.
        reach = [
            -1 if t.stationary else self._reach(p, max(frame - t.last_seen_frame - 1, t.merged_run))
            for t, p in zip(live, preds, strict=True)
        ]
        floor4 = [a if t.stationary else 0 for t, a in zip(live, p_area, strict=True)]
        track_region: dict[int, int] = {}
        region_track: dict[int, int] = {}
        for ti, ri in _candidates(preds, regions, reach, [t.serial for t in live], floor4):
            if ti in track_region or ri in region_track:
                continue
            track_region[ti] = ri
            region_track[ri] = ti

        # Step 4: merges. An unmatched confirmed object whose prediction lies at least half
        # inside a matched region is hidden in it together with the region's owner; unless
        # it is a piece of the owner (at most a quarter of the owner's predicted area and at
        # least 3/4 inside that prediction grown by half its longer side: a paw or a tail
        # once tracked on its own), which is hidden while the owner stays measured. Either
        # ever held (T7): hidden together, as before.
        merged: dict[int, int] = {}
        shared: set[int] = set()
        matched_regions = sorted(region_track)
        for ti, t in enumerate(live):
            if ti in track_region or not t.confirmed or t.merged_run >= cfg.merge_frames:
                continue
            p, half = preds[ti], p_area[ti]
            best_ri, best_inter = -1, 0
            for ri in matched_regions:
                inter = intersection(p, regions[ri])
                if 2 * inter >= half and inter > best_inter:
                    best_ri, best_inter = ri, inter
            if best_ri >= 0:
                merged[ti] = best_ri
                oi = region_track[best_ri]
                o = preds[oi]
                e = max(o[2] - o[0], o[3] - o[1]) // 2
                grown = (o[0] - e, o[1] - e, o[2] + e, o[3] + e)
                # Neither ever held where it stood (T7): a parked car is an object of its own,
                # and what it is matched to may be the background it uncovered (a ghost).
                piece = t.held == 0 and live[oi].held == 0 and 4 * half <= p_area[oi]
                if not (piece and 4 * intersection(p, grown) >= 3 * half):
                    shared.add(best_ri)
        # A region over 4x the owner's predicted area swallowed more than the object (cars
        # joined by their shadows): the owner carries on at its prediction, like a merge.
        # Not at an edge: an object entering the frame grows that fast on its own.
        swallowed = {
            ti
            for ti, ri in track_region.items()
            if live[ti].confirmed
            and live[ti].merged_run < cfg.merge_frames
            and r_area[ri] > 4 * p_area[ti]
            and not self._at_edge(preds[ti])
        }

        # Step 5: splits. An unmatched region at most a quarter of an object's matched region
        # and at least 3/4 inside that region grown by half its longer side is a piece of
        # that object (a head above legs; its measurement grows to cover it); a larger one is
        # an object of its own.
        measure: dict[int, PxBox] = {ti: regions[ri] for ti, ri in track_region.items()}
        newborn: list[PxBox] = []
        # The objects a piece may belong to (track order), with their region grown by half
        # its longer side and that region's area; the same for every unmatched region.
        owners: list[tuple[int, PxBox, int]] = []
        if len(region_track) < len(regions):
            for ti in sorted(track_region):
                ri = track_region[ti]
                if ri in shared or ti in swallowed:
                    continue
                own = regions[ri]
                e = max(own[2] - own[0], own[3] - own[1]) // 2
                owners.append((ti, (own[0] - e, own[1] - e, own[2] + e, own[3] + e), r_area[ri]))
        for ri, r in enumerate(regions):
            if ri in region_track:
                continue
            best_ti, best_inter = -1, 0
            ra = r_area[ri]
            for ti, grown, own_area in owners:
                inter = intersection(grown, r)
                piece = 4 * inter >= 3 * ra and 4 * ra <= own_area
                if piece and inter > best_inter:
                    best_ti, best_inter = ti, inter
            if best_ti >= 0:
                m = measure[best_ti]
                measure[best_ti] = (
                    min(m[0], r[0]), min(m[1], r[1]), max(m[2], r[2]), max(m[3], r[3])
                )
            elif not any(2 * intersection(preds[ti], r) >= ra for ti in merged):
                newborn.append(r)

        # Step 6: update matched and merged objects.
        still_ms = milli(cfg.stationary_after_s)
        for ti, t in enumerate(live):
            if ti in track_region and track_region[ti] not in shared and ti not in swallowed:
                self._measured(t, measure[ti], frame, ts_ms)
            elif ti in track_region or ti in merged:
                # Hidden in a shared region: carry on at the prediction (kept inside the
                # region, whose outer edges are still measured), keep the velocity.
                ri = track_region[ti] if ti in track_region else merged[ti]
                t.box = t.seen_box = _clamp_into(preds[ti], regions[ri])
                t.last_seen_frame, t.last_seen_ts_ms = frame, ts_ms
                t.merged_run += 1
                t.hits += 1
                t.state = TrackState.MERGED
            else:
                t.box = preds[ti]
                t.merged_run = 0
                t.state = TrackState.MISSING
                if not t.confirmed:
                    t.ended = EndReason.LOST  # a tentative speck: dropped without an event
            if t.held == 1 and t.state is not TrackState.MISSING:
                # Seen again where it was held: it moves (leaves), or what is seen is the
                # background it uncovered. Not stationary any more, and never held again, so
                # that a fading ghost is not kept for stationary_max_s.
                t.held = 2
                t.anchor, t.anchor_box, t.still_since_ts_ms = _centre2(t.box), t.box, ts_ms
                t.stationary = False
            self._stillness(t, ts_ms, still_ms)

        # Step 7: ends of unseen objects.
        lost = milli(cfg.lost_s)
        for t in live:
            if t.state is not TrackState.MISSING or t.ended is not None:
                continue
            gone_ms = ts_ms - t.last_seen_ts_ms
            if self._outside(t.box):
                t.ended = EndReason.LEFT
            elif t.held == 1:
                if gone_ms >= milli(cfg.stationary_max_s):
                    t.ended = EndReason.STATIONARY_TIMEOUT
            elif gone_ms >= lost:
                if self._at_edge(t.seen_box):
                    t.ended = EndReason.LEFT
                elif t.held == 0 and (
                    t.stationary
                    or 2 * (t.last_seen_ts_ms - t.still_since_ts_ms) >= still_ms
                ):
                    # Stationary, or in place for half of stationary_after_s, and vanished
                    # mid-frame: the gate's background learnt it (a parked car, 6-8 s), it did
                    # not walk off. Held where it stood, whole, reported stationary.
                    t.held = 1
                    t.stationary = True
                    t.box = t.seen_box = t.meas_box = t.anchor_box
                    t.vx = t.vy = 0
                else:
                    t.ended = EndReason.LOST

        # Step 8: confirmations and births (regions in the gate's order: largest first).
        kept: list[Track] = []
        for t in live:
            if t.ended is not None:
                if t.confirmed:
                    step.ended.append(t)
                continue
            if not t.confirmed and t.hits >= cfg.min_hits:
                t.object_id = self._next_id
                self._next_id += 1
                step.confirmed.append(t)
            kept.append(t)
        for r in newborn:
            if len(kept) >= cfg.max_objects:
                break
            self._serial += 1
            c = _centre2(r)
            kept.append(
                Track(self._serial, 0, r, r, frame, ts_ms, frame, ts_ms, r, frame, anchor=c,
                      anchor_box=r, still_since_ts_ms=ts_ms)
            )
            if cfg.min_hits <= 1:
                kept[-1].object_id = self._next_id
                self._next_id += 1
                step.confirmed.append(kept[-1])
        self.tracks = kept
        step.tracks = sorted((t for t in kept if t.confirmed), key=lambda t: t.object_id)
        return step

    def finish(self) -> list[Track]:
        """Every confirmed live object (the pipeline stops); the table is emptied."""
        out = sorted((t for t in self.tracks if t.confirmed), key=lambda t: t.object_id)
        self.tracks = []
        return out

    # -- helpers --------------------------------------------------------------------------
    def _measured(self, t: Track, m: PxBox, frame: int, ts_ms: int) -> None:
        # Velocity from the last real measurement (not a merged-period prediction).
        dt = frame - t.meas_frame
        if dt > 0:
            ox, oy = _centre2(t.meas_box)
            nx, ny = _centre2(m)
            # Doubled centres: the displacement in 1/16 px is diff * 16 / 2.
            mvx = floor_div((nx - ox) * (SUB // 2), dt)
            mvy = floor_div((ny - oy) * (SUB // 2), dt)
            if t.hits == 1:
                t.vx, t.vy = mvx, mvy
            else:
                t.vx = floor_div(t.vx + mvx, 2)
                t.vy = floor_div(t.vy + mvy, 2)
        t.box = t.seen_box = t.meas_box = m
        t.meas_frame = frame
        t.last_seen_frame, t.last_seen_ts_ms = frame, ts_ms
        t.hits += 1
        t.merged_run = 0
        t.state = TrackState.SEEN

    def _stillness(self, t: Track, ts_ms: int, still_ms: int) -> None:
        """Step 6b: an object whose centre stays near its anchor, or whose box stays inside
        the anchor's box (a region shrinking as the background learns it), is still."""
        if t.state is TrackState.MISSING:
            # Unseen: a stationary object stays stationary; a moving one is not "still".
            return
        cx, cy = _centre2(t.box)
        size = (t.box[2] - t.box[0]) + (t.box[3] - t.box[1])
        if 8 * (abs(cx - t.anchor[0]) + abs(cy - t.anchor[1])) > size and not _inside(
            t.box, t.anchor_box
        ):
            t.anchor = (cx, cy)
            t.anchor_box = t.box
            t.still_since_ts_ms = ts_ms
            t.stationary = False
        elif ts_ms - t.still_since_ts_ms >= still_ms:
            t.stationary = True

    def _outside(self, b: PxBox) -> bool:
        cx, cy = _centre2(b)
        return cx < 0 or cy < 0 or cx >= 2 * self.width or cy >= 2 * self.height

    def _at_edge(self, b: PxBox) -> bool:
        m = max(2, self.width // 64)
        return b[0] <= m or b[1] <= m or b[2] >= self.width - m or b[3] >= self.height - m
