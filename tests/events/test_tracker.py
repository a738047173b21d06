"""The event tracker: lifecycle, ids, cadence, splits, voting, and the schema of every payload."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from eventkit import gate, make_frame, script, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from visionedge.config import ClassifierConfig, DeviceConfig, EventsConfig
from visionedge.events import (
    EVENT_FIELDS,
    EventTracker,
    ModelInfo,
    deterministic_ids,
    encode_event,
    random_ids,
)
from visionedge.events.ids import NAMESPACE
from visionedge.protocols import Box, Classification, GateResult, Prediction

MODEL = ModelInfo("demo_int8.tflite", "ab" * 32)


def tracker(
    *, update_every: int = 10, max_duration_s: float = 300.0, min_frames: int = 1,
    classify: bool = True, ids: Any = None,
) -> EventTracker:
    return EventTracker(
        EventsConfig(update_every=update_every, max_duration_s=max_duration_s, min_frames=min_frames),
        DeviceConfig(name="porch", camera="front"),
        ClassifierConfig(enabled=classify),
        id_factory=ids or deterministic_ids(),
        model=MODEL if classify else None,
    )


def feed(t: EventTracker, results: list[GateResult], fps: float = 10.0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in results:
        out += t.on_gate(make_frame(r.index, fps), r)
    validate(out)
    return out


def test_lifecycle_start_updates_end_with_statistics() -> None:
    events = feed(tracker(), script(open_at=3, close_at=30, total=40))
    kinds = [e["type"] for e in events]
    assert kinds == ["start", "update", "update", "end"]
    start, end = events[0], events[-1]
    assert (start["start_frame"], start["start_ts_ms"], start["frame"]) == (3, 300, 3)
    assert start["end_frame"] is None and start["end_reason"] is None
    assert (end["end_frame"], end["end_ts_ms"], end["end_reason"]) == (30, 3000, "quiet")
    assert end["duration_ms"] == 2700 and end["frames"] == 28
    assert {e["event_id"] for e in events} == {start["event_id"]}
    assert [e["seq"] for e in events] == [0, 1, 2, 3]
    assert end["device"] == "porch" and end["camera"] == "front" and end["source"] == "clip.avi"
    assert end["reason"] == "motion" and end["continues"] is None
    # peak over 2.0 + i % 3 is 4.0; the mean includes the closing quiet frame.
    pcts = [2.0] + [2.0 + i % 3 for i in range(4, 30)] + [0.02]
    assert end["peak_changed_pct"] == 4.0
    assert end["mean_changed_pct"] == round(sum(pcts) / len(pcts), 3)
    assert end["box"] == [0.1, 0.2, 0.35, 0.5]
    assert end["short"] is False


def test_updates_come_every_update_every_frames() -> None:
    events = feed(tracker(update_every=4), script(open_at=0, close_at=20, total=25))
    assert [e["frame"] for e in events if e["type"] == "update"] == [4, 8, 12, 16]
    assert events[-1]["frame"] == 20


def test_zone_change_sends_an_update_at_once() -> None:
    results = [
        gate(0, True, 2.0, opened=True, box=Box(0, 0, 0.2, 0.2)),
        gate(1, True, 2.0, box=Box(0, 0, 0.2, 0.2)),
        gate(2, True, 2.0, box=Box(0.5, 0.5, 0.9, 0.9), zones=("door",)),
        gate(3, True, 2.0, box=Box(0.5, 0.5, 0.9, 0.9), zones=("door",)),
        gate(4, True, 2.0, zones=("yard", "door")),
        gate(5, False, 0.0, closed=True),
    ]
    events = feed(tracker(update_every=100), results)
    assert [(e["type"], e["frame"], e["zones"]) for e in events] == [
        ("start", 0, []),
        ("update", 2, ["door"]),
        ("update", 4, ["door", "yard"]),
        ("end", 5, ["door", "yard"]),
    ]


def test_replay_ids_are_uuid5_of_clip_and_start_frame() -> None:
    a = feed(tracker(), script(5, 12, 20))
    b = feed(tracker(), script(5, 12, 20))
    assert [encode_event(e) for e in a] == [encode_event(e) for e in b]
    assert a[0]["event_id"] == str(uuid.uuid5(NAMESPACE, "clip.avi:5"))


def test_live_ids_are_random_uuid4() -> None:
    a = feed(tracker(ids=random_ids()), script(5, 12, 20))
    b = feed(tracker(ids=random_ids()), script(5, 12, 20))
    assert a[0]["event_id"] != b[0]["event_id"]
    assert uuid.UUID(a[0]["event_id"]).version == 4


def test_max_duration_splits_and_links_the_continuation() -> None:
    # 10 fps, 1 s limit: the event open from frame 2 is cut at frame 12, and again at 22.
    events = feed(tracker(max_duration_s=1.0, update_every=1000), script(2, 30, 35))
    kinds = [(e["type"], e["frame"], e["end_reason"]) for e in events]
    assert kinds == [
        ("start", 2, None),
        ("end", 12, "max_duration"),
        ("start", 12, None),
        ("end", 22, "max_duration"),
        ("start", 22, None),
        ("end", 30, "quiet"),
    ]
    assert events[2]["reason"] == "continued"
    assert events[2]["continues"] == events[0]["event_id"]
    assert events[4]["continues"] == events[2]["event_id"]
    assert len({e["event_id"] for e in events}) == 3


def test_finish_ends_the_open_event_once() -> None:
    t = tracker()
    feed(t, script(0, 100, 8))
    end = t.finish(700, 7, "stopped")
    validate(end)
    assert [(e["type"], e["end_reason"], e["end_frame"]) for e in end] == [("end", "stopped", 7)]
    assert t.finish(800, 8) == []
    assert not t.is_open


def test_short_events_are_marked_at_the_end() -> None:
    events = feed(tracker(min_frames=5), script(0, 3, 6))
    assert events[-1]["frames"] == 4 and events[-1]["short"] is True
    events = feed(tracker(min_frames=4), script(0, 3, 6))
    assert events[-1]["short"] is False


def cls(index: int, *pairs: tuple[str, float]) -> Classification:
    top = tuple(Prediction(label, i, score) for i, (label, score) in enumerate(pairs))
    return Classification(index, top, Box(0, 0, 1, 1), 100.0)


def test_vote_is_the_mean_score_per_label_over_classifications() -> None:
    t = tracker(update_every=1000)
    out = t.on_gate(make_frame(0), gate(0, True, 3.0, opened=True, box=Box(0, 0, 0.5, 0.5)))
    out += t.on_classification(cls(0, ("vehicle", 0.9)))
    out += t.on_gate(make_frame(1), gate(1, True, 3.0))
    out += t.on_classification(cls(1, ("person", 0.8), ("vehicle", 0.1)))
    out += t.on_gate(make_frame(2), gate(2, True, 3.0))
    out += t.on_classification(cls(2, ("person", 0.7)))
    out += t.on_gate(make_frame(3), gate(3, True, 3.0))
    out += t.on_classification(cls(3))  # nothing above threshold: still counted
    out += t.on_gate(make_frame(4), gate(4, False, 0.0, closed=True))
    validate(out)
    # vehicle (0.9 + 0.1) / 2 = 0.5 leads after two; person (0.8 + 0.7) / 3 = 0.5 ties after
    # three and wins by name; after four person 1.5/4 = 0.375 vs vehicle 1.0/4 = 0.25.
    assert [(e["type"], e["label"], e["score"], e["classified_frames"]) for e in out] == [
        ("start", None, None, 0),
        ("update", "vehicle", 0.9, 1),
        ("update", "person", 0.5, 3),
        ("end", "person", 0.375, 4),
    ]
    assert out[-1]["model"] == {"name": MODEL.name, "sha256": MODEL.sha256}


def test_classifier_off_leaves_label_fields_empty() -> None:
    t = tracker(classify=False)
    out = t.on_gate(make_frame(0), gate(0, True, 3.0, opened=True))
    out += t.on_classification(cls(0, ("person", 0.9)))
    out += t.finish(100, 1)
    validate(out)
    assert all(e["label"] is None and e["model"] is None and e["classified_frames"] == 0 for e in out)


def test_classification_without_an_open_event_is_ignored() -> None:
    assert tracker().on_classification(cls(0, ("person", 0.9))) == []


def test_stream_credentials_never_reach_the_payload() -> None:
    t = tracker()
    frame = make_frame(0, source="rtsp://admin:hunter2@10.0.0.5:554/stream1")
    out = t.on_gate(frame, gate(0, True, 3.0, opened=True))
    assert out[0]["source"] == "rtsp://10.0.0.5:554/stream1"


def test_encoding_has_fixed_key_order_and_separators() -> None:
    e = feed(tracker(), script(1, 4, 6))[0]
    line = encode_event(dict(reversed(list(e.items()))))
    assert line.startswith('{"schema":1,"type":"start","event_id":')
    assert list(__import__("json").loads(line)) == list(EVENT_FIELDS)
    assert ", " not in line and ": " not in line
    with pytest.raises(ValueError, match="extra"):
        encode_event({**e, "oops": 1})
    with pytest.raises(ValueError):
        encode_event({**e, "changed_pct": float("nan")})


def test_schema_rejects_malformed_payloads(validator: Any) -> None:
    e = feed(tracker(), script(1, 4, 6))[-1]
    validator.validate(e)
    for bad in (
        {**e, "type": "middle"},
        {**e, "event_id": "not-a-uuid"},
        {**e, "box": [0.1, 0.2, 0.3]},
        {**e, "end_frame": None},
        {**e, "label": "person", "score": None},
        {k: v for k, v in e.items() if k != "zones"},
        {**e, "extra": True},
    ):
        assert not validator.is_valid(bad), bad


@st.composite
def gate_sequences(draw: st.DrawFn) -> list[GateResult]:
    """Random but well-formed gate output: open/close transitions alternate."""
    n = draw(st.integers(1, 80))
    out, is_open = [], False
    for i in range(n):
        flip = draw(st.booleans()) and draw(st.booleans())
        pct = draw(st.floats(0, 100, allow_nan=False))
        x0 = draw(st.floats(0, 0.5))
        box = Box(x0, x0, x0 + 0.3, x0 + 0.4) if draw(st.booleans()) else None
        zones = tuple(draw(st.sets(st.sampled_from(["a", "b", "c"]), max_size=2)))
        if flip:
            is_open = not is_open
        out.append(gate(i, is_open, pct, opened=flip and is_open, closed=flip and not is_open,
                        box=box, zones=zones))
    return out


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    results=gate_sequences(),
    update_every=st.integers(1, 12),
    max_duration_s=st.floats(0.2, 5.0),
    labels=st.lists(st.sampled_from(["person", "vehicle", "animal"]), max_size=80),
)
def test_any_gate_sequence_gives_well_formed_lifecycles(
    results: list[GateResult], update_every: int, max_duration_s: float, labels: list[str]
) -> None:
    t = tracker(update_every=update_every, max_duration_s=max_duration_s)
    out: list[dict[str, Any]] = []
    for r in results:
        out += t.on_gate(make_frame(r.index), r)
        if t.is_open and r.index < len(labels):
            out += t.on_classification(cls(r.index, (labels[r.index], 0.5 + r.index % 5 / 10)))
    out += t.finish(results[-1].index * 100, results[-1].index, "end_of_clip")
    validate(out)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for e in out:
        by_id.setdefault(e["event_id"], []).append(e)
    for msgs in by_id.values():
        assert msgs[0]["type"] == "start" and msgs[-1]["type"] == "end"
        assert all(m["type"] == "update" for m in msgs[1:-1])
        assert [m["seq"] for m in msgs] == list(range(len(msgs)))
    # Events never overlap: each start comes after the previous end.
    kinds = [e["type"] for e in out if e["type"] != "update"]
    assert kinds == ["start", "end"] * (len(kinds) // 2)


def test_rejected_frames_stay_out_of_peak_mean_and_box() -> None:
    light = GateResult(2, 97.0, True, False, False, False, reason="global_change", box=Box(0, 0, 1, 1))
    results = [
        gate(0, True, 2.0, opened=True, box=Box(0.1, 0.1, 0.2, 0.2)),
        gate(1, True, 4.0, box=Box(0.1, 0.1, 0.3, 0.3)),
        light,
        gate(3, False, 0.0, closed=True),
    ]
    end = feed(tracker(), results)[-1]
    assert end["frames"] == 4
    assert end["peak_changed_pct"] == 4.0
    assert end["mean_changed_pct"] == 2.0  # (2 + 4 + 0) / 3: the rejected frame is left out
    assert end["box"] == [0.1, 0.1, 0.3, 0.3]
