"""Helpers for the object tests: run generated scenes through the real gate and tracker,
and score the tracks against the scene's ground truth (MOTA / IDF1-style)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from visionedge.config import Config
from visionedge.events import load_schema
from visionedge.frame import Frame
from visionedge.gate import FrameDifferenceGate
from visionedge.gate.plane import to_motion_plane
from visionedge.objects import ObjectTracker, load_object_schema
from visionedge.objects.geometry import PxBox, box_to_px, iou_pm
from visionedge.protocols import GateResult
from visionedge.synth import FrameTruth, SceneSpec, render_frames

_VALIDATOR = jsonschema.Draft202012Validator(load_object_schema())
_MOTION = jsonschema.Draft202012Validator(load_schema())


def validate(events: Iterable[dict[str, Any]]) -> None:
    """Every event must satisfy its shipped schema (object events: schema 2)."""
    for e in events:
        (_VALIDATOR if e.get("schema") == 2 else _MOTION).validate(e)


@dataclass
class SceneRun:
    """Per frame: the truth, the gate result and the confirmed tracks as (id, pixel box)."""

    width: int
    height: int
    truths: list[FrameTruth] = field(default_factory=list)
    results: list[GateResult] = field(default_factory=list)
    tracks: list[list[tuple[int, PxBox]]] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)


def run_scene(spec: SceneSpec, config: Config | None = None, *, keep_frames: bool = False) -> SceneRun:
    """Render ``spec``, run the real gate and the tracker on every frame."""
    cfg = config or Config()
    gate = FrameDifferenceGate(cfg.gate)
    tracker: ObjectTracker | None = None
    out: SceneRun | None = None
    for img, truth in render_frames(spec):
        plane = to_motion_plane(img, cfg.gate.width)
        h, w = plane.shape
        frame = Frame(truth.index, round(truth.index * 1000 / spec.fps), plane,
                      (lambda im=img: im), {}, "scene.avi")
        if tracker is None or out is None:
            tracker = ObjectTracker(cfg.objects, w, h)
            out = SceneRun(w, h)
        result = gate.process(frame)
        step = tracker.update(
            [box_to_px(b, w, h) for b in result.regions], frame.index, frame.ts_ms,
            blind=bool(result.reason) and not result.opened,
        )
        out.truths.append(truth)
        out.results.append(result)
        out.tracks.append([(t.object_id, t.box) for t in step.tracks])
        if keep_frames:
            out.frames.append(frame)
    assert out is not None
    return out


@dataclass
class MotScore:
    """CLEAR-MOT style counts and the identity figures over a whole run."""

    gt: int
    misses: int
    false_positives: int
    id_switches: int
    ids_per_track: dict[int, set[int]]
    idf1: float

    @property
    def mota(self) -> float:
        """1 - (misses + false positives + id switches) / ground-truth boxes."""
        return 1.0 - (self.misses + self.false_positives + self.id_switches) / max(1, self.gt)

    @property
    def fragments(self) -> int:
        """Extra tracker ids per ground-truth track, summed (0 = every track one id)."""
        return sum(max(0, len(v) - 1) for v in self.ids_per_track.values())


def score(run: SceneRun, *, min_iou_pm: int = 200, skip_first: int = 0) -> MotScore:
    """Match tracks to truth per frame (greedy by IoU >= min_iou_pm) and count errors.

    Truth objects are counted from ``skip_first`` frames after they appear (a tracker cannot
    confirm an object on its first sighting); objects the truth does not list (none here)
    would be false positives.
    """
    gt = misses = fps = switches = 0
    last_id: dict[int, int] = {}
    ids: dict[int, set[int]] = {}
    seen_since: dict[int, int] = {}
    co: dict[tuple[int, int], int] = {}
    gt_frames: dict[int, int] = {}
    tr_frames: dict[int, int] = {}
    for truth, tracks in zip(run.truths, run.tracks, strict=True):
        objs = []
        for o in truth.objects:
            seen_since.setdefault(o.track, truth.index)
            if truth.index - seen_since[o.track] >= skip_first:
                objs.append((o.track, box_to_px(o.box, run.width, run.height)))
        pairs = sorted(
            (-iou_pm(g, b), gi, ti)
            for gi, (_, g) in enumerate(objs)
            for ti, (_, b) in enumerate(tracks)
            if iou_pm(g, b) >= min_iou_pm
        )
        gm: dict[int, int] = {}
        tm: set[int] = set()
        for _, gi, ti in pairs:
            if gi in gm or ti in tm:
                continue
            gm[gi] = ti
            tm.add(ti)
        gt += len(objs)
        misses += len(objs) - len(gm)
        fps += len(tracks) - len(tm)
        for gi, (g_track, _) in enumerate(objs):
            gt_frames[g_track] = gt_frames.get(g_track, 0) + 1
            if gi not in gm:
                continue
            oid = tracks[gm[gi]][0]
            ids.setdefault(g_track, set()).add(oid)
            if g_track in last_id and last_id[g_track] != oid:
                switches += 1
            last_id[g_track] = oid
            co[(g_track, oid)] = co.get((g_track, oid), 0) + 1
        for oid, _ in tracks:
            tr_frames[oid] = tr_frames.get(oid, 0) + 1
    # IDF1: the one-to-one pairing of truth tracks and ids with the most shared frames
    # (greedy on the co-occurrence counts, which is exact for the few tracks of a test).
    idtp = 0
    used_g: set[int] = set()
    used_t: set[int] = set()
    for (g, t), n in sorted(co.items(), key=lambda kv: (-kv[1], kv[0])):
        if g in used_g or t in used_t:
            continue
        used_g.add(g)
        used_t.add(t)
        idtp += n
    denom = sum(gt_frames.values()) + sum(tr_frames.values())
    idf1 = 2 * idtp / denom if denom else 1.0
    return MotScore(gt, misses, fps, switches, ids, idf1)
