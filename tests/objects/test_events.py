"""Per-object events through the real pipeline (scripted gate regions, a scripted classifier).

Every emitted event is checked against the shipped object schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import numpy as np
from objkit import validate

from visionedge.config import Config
from visionedge.events import deterministic_ids, encode_event
from visionedge.frame import Frame
from visionedge.pipeline import build_pipeline
from visionedge.protocols import Box, Classification, GateResult, Prediction
from visionedge.sinks.memory import MemorySink

W, H = 160, 120
_PLANE = np.zeros((H, W), np.uint8)
_IMAGE = np.zeros((H, W, 3), np.uint8)

PxBox = tuple[int, int, int, int]


def frame(i: int) -> Frame:
    return Frame(i, i * 100, _PLANE, lambda: _IMAGE, {}, "clip.avi")


def result(i: int, regions: list[PxBox]) -> GateResult:
    boxes = tuple(Box(x0 / W, y0 / H, x1 / W, y1 / H) for x0, y0, x1, y1 in regions)
    return GateResult(i, 2.0 if boxes else 0.0, bool(boxes), bool(boxes), False, False,
                      box=boxes[0] if boxes else None, regions=boxes)


class Gate:
    def __init__(self, script: list[list[PxBox]]) -> None:
        self.script = script

    def process(self, f: Frame) -> GateResult:
        return result(f.index, self.script[f.index])

    def reset(self) -> None:
        pass


class Source:
    name = "clip.avi"

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def frames(self) -> Iterator[Frame]:
        for i in range(self.n):
            yield frame(i)

    @property
    def state(self) -> str:
        return "ok"


class Labeller:
    """Says ``person`` for boxes in the top 40 %, ``vehicle`` below (score 0.8)."""

    name = "labeller.tflite"
    sha256 = "1" * 64

    def __init__(self, score: float = 0.8) -> None:
        self.calls: list[tuple[int, Box | None]] = []
        self.score = score

    def classify(self, f: Frame, box: Box | None) -> Classification:
        self.calls.append((f.index, box))
        assert box is not None
        label = "person" if (box.y0 + box.y1) / 2 < 0.4 else "vehicle"
        return Classification(f.index, (Prediction(label, 0, self.score),), box, 10.0)


def run(script: list[list[PxBox]], cfg: dict[str, Any], clf: Any = None) -> MemorySink:
    base: dict[str, Any] = {"objects": {"mode": "object", "min_hits": 2}, "events": {"update_every": 1000}}
    for k, v in cfg.items():
        base[k] = {**base.get(k, {}), **v}
    config = Config.model_validate(base)
    if clf is None:
        config.classifier.enabled = False
    sink = MemorySink()
    p = build_pipeline(config, source=Source(len(script)), sinks=[sink], classifier=clf,
                       gate=Gate(script), deterministic_ids=True)
    p.run()
    validate(sink.events)
    return sink


def walker(x0: int, step: int, n: int, y: int = 40, w: int = 12, h: int = 30) -> list[PxBox]:
    return [(x0 + step * i, y, x0 + step * i + w, y + h) for i in range(n)]


def clip(r: PxBox | None) -> PxBox | None:
    """The part of ``r`` inside the frame (the gate only sees that), or None."""
    if r is None or r[2] <= 0 or r[0] >= W:
        return None
    return (max(0, r[0]), r[1], min(W, r[2]), r[3])


def frames_of(*walkers: list[PxBox], n: int, tail: int = 20) -> list[list[PxBox]]:
    out = []
    for i in range(n):
        out.append([c for w in walkers if i < len(w) and (c := clip(w[i])) is not None])
    return out + [[]] * tail


def two_walkers(n: int = 34) -> list[list[PxBox]]:
    return frames_of(walker(4, 5, n, y=20), walker(140, -5, n, y=70), n=n)


def objects(sink: MemorySink) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for e in sink.events:
        assert e["schema"] == 2
        out.setdefault(e["object_id"], []).append(e)
    return out


def test_each_object_gets_its_own_start_updates_end_and_id() -> None:
    sink = run(two_walkers(), {})
    objs = objects(sink)
    assert set(objs) == {1, 2}
    for evs in objs.values():
        types = [e["type"] for e in evs]
        assert types[0] == "start" and types[-1] == "end" and set(types[1:-1]) <= {"update"}
        assert [e["seq"] for e in evs] == list(range(len(evs)))
        assert len({e["event_id"] for e in evs}) == 1
        assert evs[-1]["end_reason"] == "left"
        assert len(evs[-1]["path"]) >= 2
    assert objs[1][0]["event_id"] != objs[2][0]["event_id"]
    # The motion stream is not published in object mode, the motion state still is.
    assert all(e["schema"] == 2 for e in sink.events)
    motion = [s[1] for s in sink.states if s[0] == "motion"]
    assert motion[0] == "ON" and motion[-1] == "OFF"
    # Start frame is the first sighting; the end frame the last one.
    assert objs[1][0]["start_frame"] == 0 and objs[1][-1]["end_frame"] == 31


def test_replay_is_byte_identical_and_both_mode_adds_motion_events() -> None:
    a = [encode_event(e) for e in run(two_walkers(), {}).events]
    b = [encode_event(e) for e in run(two_walkers(), {}).events]
    assert a == b
    both = run(two_walkers(), {"objects": {"mode": "both"}}).events
    assert {e["schema"] for e in both} == {1, 2}
    assert [e for e in both if e["schema"] == 2] == run(two_walkers(), {}).events


def test_each_object_is_classified_on_its_own_box_within_its_budget() -> None:
    clf = Labeller()
    sink = run(two_walkers(), {"classifier": {"every_n_frames": 2, "max_per_event": 3},
                               "objects": {"classify_per_frame": 2}}, clf)
    ends = {e["object_id"]: e for e in sink.events if e["type"] == "end"}
    assert ends[1]["label"] == "person" and ends[2]["label"] == "vehicle"
    assert ends[1]["classified_frames"] == 3 and ends[2]["classified_frames"] == 3
    assert len(clf.calls) == 6
    assert ends[1]["best"]["label"] == "person"
    # Per-label counts in view, as retained-style states.
    counts = [(s[2]["label"], s[1]) for s in sink.states if s[0] == "count"]
    assert ("person", "1") in counts and ("vehicle", "1") in counts
    assert counts[-2:] in ([("person", "0"), ("vehicle", "0")], [("vehicle", "0"), ("person", "0")])


def test_one_classification_per_frame_goes_to_the_least_classified_object() -> None:
    clf = Labeller()
    run(two_walkers(), {"classifier": {"every_n_frames": 1, "max_per_event": 4}}, clf)
    frames = [f for f, _ in clf.calls]
    assert len(frames) == len(set(frames)) == 8


def test_labels_and_min_score_filter_objects() -> None:
    only_people = run(two_walkers(), {"objects": {"labels": ["person"]}}, Labeller())
    assert set(objects(only_people)) == {1}
    strict = run(two_walkers(), {"objects": {"filters": {"person": {"min_score": 0.9}}}},
                 Labeller(0.8))
    assert {e["label"] for e in strict.events} == {"vehicle"}


def test_area_filters() -> None:
    big = walker(4, 5, 30, y=10, w=40, h=60)  # 12.5 % of the frame
    small = walker(140, -4, 30, y=90, w=8, h=8)  # 0.33 %
    script = frames_of(big, small, n=30)
    kept = run(script, {"objects": {"filters": {"*": {"min_area_pct": 1.0}}}})
    assert [e["area_pct"] > 1.0 for e in kept.events if e["type"] == "start"] == [True]
    capped = run(script, {"objects": {"filters": {"*": {"max_area_pct": 5.0}}}})
    assert [e["area_pct"] < 1.0 for e in capped.events if e["type"] == "start"] == [True]


ZONES = {"gate": {"zones": [{"name": "door", "polygon": [[0.6, 0.0], [1.0, 0.0], [1.0, 1.0], [0.6, 1.0]]},
                            {"name": "left", "polygon": [[0.0, 0.0], [0.3, 0.0], [0.3, 1.0], [0.0, 1.0]]}]}}


def test_required_zones_count_an_object_once_it_enters() -> None:
    # Walker 1 goes left to right (enters "door" late); walker 2 stays in the left half.
    a = walker(4, 5, 34, y=20)
    b = walker(10, 1, 40, y=70)
    script = frames_of(a, b, n=40)
    sink = run(script, {**ZONES, "objects": {"required_zones": ["door"]}})
    objs = objects(sink)
    assert list(objs) == [1]
    start = objs[1][0]
    assert "door" in start["entered_zones"] and start["frame"] > 15
    assert start["entered_zones"][0] == "left"  # zones entered before it counted are kept
    end = objs[1][-1]
    assert end["zone_dwell_ms"]["door"] > 0 and end["zone_dwell_ms"]["left"] > 0


def test_per_zone_labels() -> None:
    sink = run(two_walkers(), {**ZONES, "objects": {"zones": [{"name": "door", "labels": ["vehicle"]}]}},
               Labeller())
    ends = {e["object_id"]: e for e in sink.events if e["type"] == "end"}
    assert "door" not in ends[1]["entered_zones"]  # a person walking through: not counted
    assert "door" in ends[2]["entered_zones"]


def test_a_stationary_object_is_announced_once_not_on_every_update() -> None:
    n = 120
    script = [[(min(4 + 4 * i, 60), 40, min(4 + 4 * i, 60) + 12, 70)] for i in range(n)]
    sink = run(script, {"objects": {"stationary_after_s": 3.0}, "events": {"update_every": 5}})
    evs = objects(sink)[1]
    flagged = [e for e in evs if e["stationary"]]
    first = next(i for i, e in enumerate(evs) if e["stationary"])
    assert evs[first]["type"] == "update"
    # After the announcement only the end follows (no periodic updates while it stands).
    assert [e["type"] for e in evs[first + 1:]] == ["end"]
    assert len(flagged) == 2 and evs[-1]["end_reason"] == "end_of_clip"
    assert evs[first]["frame"] - 14 >= 30  # stopped at frame 14, 3 s later at 10 fps


def test_trace_rows_show_object_classifications() -> None:
    config = Config.model_validate({"objects": {"mode": "object", "min_hits": 2}})
    rows: list[Any] = []
    script = two_walkers()
    p = build_pipeline(config, source=Source(len(script)), sinks=[MemorySink()],
                       classifier=Labeller(), gate=Gate(script), deterministic_ids=True)
    p.run(on_frame=lambda f, trace: rows.append(trace))
    classified = [r for r in rows if r.classified]
    assert classified and {r.label for r in classified} <= {"person", "vehicle"}
    assert all(r.extra["objects"] is not None for r in rows)


def test_a_change_of_plane_size_ends_the_objects_and_starts_afresh() -> None:
    from visionedge.objects import TrackingStage

    config = Config.model_validate({"objects": {"mode": "object", "min_hits": 2},
                                    "classifier": {"enabled": False}})
    stage = TrackingStage(config, id_factory=deterministic_ids())
    script = two_walkers()
    out = []
    for i in range(12):
        out += stage.on_frame(frame(i), result(i, script[i])).payloads
    small = np.zeros((60, 80), np.uint8)
    f = Frame(12, 1200, small, lambda: _IMAGE, {}, "clip.avi")
    ended = stage.on_frame(f, GateResult(12, 0.0, False, False, False, False)).payloads
    validate(out + ended)
    assert {e["object_id"] for e in ended if e["type"] == "end"} == {e["object_id"] for e in out}
    assert all(e["end_reason"] == "stopped" for e in ended)
    assert stage.tracker is not None and (stage.tracker.width, stage.tracker.height) == (80, 60)


def test_a_recorder_may_add_recording_and_snapshot_to_the_end_only() -> None:
    import pytest

    from visionedge.objects import encode_object_event

    events = run(two_walkers(), {}).events
    end = {**next(e for e in events if e["type"] == "end"), "recording": "/rec/1", "snapshot": None}
    validate([end])
    assert list(json.loads(encode_object_event(end)))[-2:] == ["recording", "snapshot"]
    start = {**events[0], "recording": "/rec/1", "snapshot": None}
    with pytest.raises(ValueError, match="extra"):
        encode_object_event(start)
    with pytest.raises(jsonschema.ValidationError):
        validate([start])


def test_a_still_object_counts_once_the_classifier_is_sure_of_it() -> None:
    # A box that stays on the spot (jitters by a pixel: a person at a shelf) never travels.
    still = [[(50 + i % 2, 40, 62 + i % 2, 70)] for i in range(40)] + [[]] * 20
    every = {"classifier": {"every_n_frames": 5}}

    def starts(sink: MemorySink) -> list[tuple[int, str | None]]:
        return [(e["classified_frames"], e["label"]) for e in sink.events if e["type"] == "start"]

    # The third sure "vehicle" (classified every 5th frame) makes it count; the start says so.
    assert starts(run(still, every, Labeller(0.9))) == [(3, "vehicle")]
    # Not sure enough (the default bar is 0.85), the rule off, or fewer wins asked than given.
    assert starts(run(still, every, Labeller(0.8))) == []
    assert starts(run(still, {**every, "objects": {"still_min_score": 0.0}}, Labeller(0.9))) == []
    assert starts(run(still, {**every, "objects": {"still_min_votes": 50}}, Labeller(0.9))) == []
    # A lower bar takes the 0.8 answers; no classifier, no label: nothing is ever sure.
    assert [lb for _, lb in starts(run(still, {**every, "objects": {"still_min_score": 0.8}},
                                       Labeller(0.8)))] == ["vehicle"]
    assert starts(run(still, every)) == []


class CardLabeller(Labeller):
    """A Labeller whose model card sets per-label still bars (``objects.still_min_score``)."""

    def __init__(self, score: float, bars: dict[str, float]) -> None:
        super().__init__(score)
        self.object_still_min_score = bars


def test_a_cards_still_bar_counts_for_its_label_while_the_config_keeps_the_default() -> None:
    # Scores are the model's own scale: a card may lower the bar for a label it is rarely as
    # sure of (the default card: animal, an ImageNet sum over hundreds of classes).
    still = [[(50 + i % 2, 40, 62 + i % 2, 70)] for i in range(40)] + [[]] * 20
    every = {"classifier": {"every_n_frames": 5}}

    def starts(sink: MemorySink) -> list[tuple[int, str | None]]:
        return [(e["classified_frames"], e["label"]) for e in sink.events if e["type"] == "start"]

    # 0.8 "vehicle" answers: under the config's 0.85, over the card's 0.75 for vehicles.
    assert starts(run(still, every, CardLabeller(0.8, {"vehicle": 0.75}))) == [(3, "vehicle")]
    # A bar for another label changes nothing for this one.
    assert starts(run(still, every, CardLabeller(0.8, {"animal": 0.5}))) == []
    # A config that sets its own bar, or turns the rule off, wins over the card.
    assert starts(run(still, {**every, "objects": {"still_min_score": 0.9}},
                      CardLabeller(0.8, {"vehicle": 0.75}))) == []
    assert starts(run(still, {**every, "objects": {"still_min_score": 0.0}},
                      CardLabeller(0.8, {"vehicle": 0.75}))) == []
    # The card's bar still asks for still_min_votes sure answers.
    assert starts(run(still, {**every, "objects": {"still_min_votes": 50}},
                      CardLabeller(0.8, {"vehicle": 0.75}))) == []
