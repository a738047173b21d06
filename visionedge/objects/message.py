"""An object event's payload (schema 2) from what :class:`~visionedge.objects.events.ObjectEvents`
knows about the object and its track on the frame: the field order of
:data:`~visionedge.objects.payload.OBJECT_EVENT_FIELDS`, boxes clipped to the frame, floats
rounded as in motion events. Split from the emitter, which decides *when* to send.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from visionedge.config import DeviceConfig
from visionedge.events.payload import round_pct, round_score, with_raw_label
from visionedge.events.tracker import ModelInfo, _public_source
from visionedge.objects.measures import clip_box, clipped_area
from visionedge.objects.payload import OBJECT_SCHEMA_VERSION
from visionedge.objects.track import Track

if TYPE_CHECKING:
    from visionedge.objects.events import _Obj

__all__ = ["object_payload"]


def object_payload(
    o: _Obj,
    t: Track,
    kind: str,
    *,
    source: str,
    frame: int,
    ts_ms: int,
    end_reason: str | None,
    label: str | None,
    score: float | None,
    width: int,
    height: int,
    device: DeviceConfig,
    model: ModelInfo | None,
) -> dict[str, Any]:
    """The ``kind`` (start/update/end) payload of object ``o`` tracked as ``t``.

    ``label``/``score`` are the object's vote; ``model`` is None when nothing classifies
    (then the payload names no model and counts no classified frames).
    """
    ended = kind == "end"
    w, h = width, height
    best = o.best
    payload: dict[str, Any] = {
        "schema": OBJECT_SCHEMA_VERSION,
        "type": kind,
        "event_id": o.event_id,
        "object_id": o.object_id,
        "seq": o.seq,
        "device": device.name,
        "camera": device.camera,
        "source": _public_source(source) or device.camera,
        "start_frame": o.first_frame,
        "start_ts_ms": o.first_ts_ms,
        "frame": frame,
        "ts_ms": ts_ms,
        "end_frame": t.last_seen_frame if ended else None,
        "end_ts_ms": t.last_seen_ts_ms if ended else None,
        "duration_ms": t.last_seen_ts_ms - o.first_ts_ms,
        "frames": max(1, o.frames),
        "end_reason": end_reason,
        "state": t.state.value,
        "stationary": t.stationary,
        "box": clip_box(t.box, w, h),
        "area_pct": round_pct(100.0 * clipped_area(t.box, w, h) / (w * h)),
        "path": [
            [round_score(min(max(x / (2 * w), 0.0), 1.0)),
             round_score(min(max(y / (2 * h), 0.0), 1.0))]
            # Never seen alone yet (confirmed inside a merged region): its box's centre.
            for x, y in (o.path or [(t.box[0] + t.box[2], t.box[1] + t.box[3])])
        ],
        "zones": sorted(o.zones),
        "entered_zones": list(o.entered),
        "zone_dwell_ms": {k: o.dwell[k] for k in sorted(o.dwell)},
        "label": label,
        "score": round_score(score) if score is not None else None,
        "classified_frames": o.vote.count if model is not None else 0,
        "model": (
            {"name": model.name, "sha256": model.sha256}
            if model is not None
            else None
        ),
        "best": (
            {"frame": best.frame, "ts_ms": best.ts_ms, "box": clip_box(best.box, w, h),
             "label": best.label, "score": best.score}
            if best is not None
            else None
        ),
    }
    if model is not None and model.raw_labels:
        # Label-map models only, as in motion events (docs/events.md): right after "score".
        payload = with_raw_label(
            payload, o.vote.best_raw(label) if label is not None else None
        )
    return payload
