"""Object events carry the model's own label behind a mapped one, as motion events do."""

from __future__ import annotations

from test_events import Labeller, run, walker

from visionedge.objects import OBJECT_EVENT_FIELDS
from visionedge.objects.payload import encode_object_event
from visionedge.protocols import Box, Classification, Frame, Prediction


class Mapped(Labeller):
    """A label-map model: "animal" in the user's labels, "tabby, tabby cat" in its own."""

    reports_raw_labels = True

    def classify(self, f: Frame, box: Box | None) -> Classification:
        self.calls.append((f.index, box))
        raw, score = ("tabby, tabby cat", 0.6) if len(self.calls) % 2 else ("Egyptian cat", 0.3)
        return Classification(f.index, (Prediction("animal", 0, 0.9),), box, 10.0,
                              raw_label=raw, raw_score=score)


def test_label_map_models_add_raw_label_and_score_after_score() -> None:
    sink = run([[b] for b in walker(4, 5, 30)] + [[]] * 20, {"classifier": {"every_n_frames": 5}},
               Mapped())  # run() validates every payload against the object schema
    labelled = [e for e in sink.events if e["label"] is not None]
    assert labelled and labelled[-1]["type"] == "end"
    for e in sink.events:
        keys = list(e)
        assert keys[keys.index("score") + 1 : keys.index("score") + 3] == ["raw_label", "raw_score"]
        assert (e["raw_label"] is None) == (e["label"] is None)
        line = encode_object_event(e)
        assert line.index('"score"') < line.index('"raw_label"') < line.index('"classified_frames"')
    # The raw label with the highest score sum among the classifications the label won.
    assert labelled[-1]["raw_label"] == "tabby, tabby cat" and labelled[-1]["raw_score"] == 0.6


def test_models_without_a_label_map_keep_the_exact_field_list() -> None:
    sink = run([[b] for b in walker(4, 5, 30)] + [[]] * 20, {"classifier": {"every_n_frames": 5}},
               Labeller())
    assert sink.events and all(list(e) == list(OBJECT_EVENT_FIELDS) for e in sink.events)
