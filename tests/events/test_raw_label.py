"""Label-map models: events carry the model's own label behind the user label."""

from __future__ import annotations

import json
from dataclasses import replace

from eventkit import gate, make_frame, validate

from visionedge.config import ClassifierConfig, DeviceConfig, EventsConfig
from visionedge.events import EVENT_FIELDS, EventTracker, ModelInfo, deterministic_ids, encode_event
from visionedge.protocols import Box, Classification, Prediction


def _tracker(raw: bool = True) -> EventTracker:
    return EventTracker(EventsConfig(), DeviceConfig(), ClassifierConfig(),
                        id_factory=deterministic_ids(), model=ModelInfo("m", "ab" * 32, raw_labels=raw))


def _cls(i: int, label: str, score: float, raw: str, raw_score: float) -> Classification:
    return Classification(i, (Prediction(label, 0, score),), None, raw_label=raw, raw_score=raw_score)


def test_events_carry_raw_label_and_score_after_score() -> None:
    t = _tracker()
    out = t.on_gate(make_frame(0), gate(0, True, 3.0, opened=True, box=Box(0, 0, 0.5, 0.5)))
    out += t.on_classification(_cls(0, "animal", 0.9, "tabby, tabby cat", 0.5))
    out += t.on_gate(make_frame(1), gate(1, True, 3.0))
    out += t.on_classification(_cls(1, "animal", 0.8, "Egyptian cat", 0.7))
    out += t.on_gate(make_frame(2), gate(2, True, 3.0))
    out += t.on_classification(_cls(2, "vehicle", 0.3, "cab", 0.3))
    out += t.on_classification(_cls(3, "animal", 0.9, "tabby, tabby cat", 0.3))
    out += t.finish(400, 3)
    validate(out)
    end = out[-1]
    # animal wins; behind it "tabby" has the highest score sum (0.8 vs 0.7), mean 0.4.
    assert (end["label"], end["raw_label"], end["raw_score"]) == ("animal", "tabby, tabby cat", 0.4)
    assert out[0]["raw_label"] is None and out[0]["raw_score"] is None  # nothing classified yet
    keys = list(json.loads(encode_event(end)))
    at = keys.index("score")
    assert keys[at + 1 : at + 3] == ["raw_label", "raw_score"]
    assert [k for k in keys if k not in ("raw_label", "raw_score")] == list(EVENT_FIELDS)


def test_models_without_label_map_keep_the_payload_unchanged() -> None:
    t = _tracker(raw=False)
    out = t.on_gate(make_frame(0), gate(0, True, 3.0, opened=True))
    c = _cls(0, "person", 0.9, "", 0.0)
    out += t.on_classification(replace(c, raw_score=None))
    out += t.finish(100, 1)
    validate(out)
    assert all(list(e) == list(EVENT_FIELDS) for e in out)
