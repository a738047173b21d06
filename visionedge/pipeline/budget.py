"""The classifier budget of motion events: which frames the pipeline classifies.

The classifier runs only while an event is open, at most every
``classifier.every_n_frames`` frames and ``classifier.max_per_event`` times per event, on
the largest motion region of the frame (or the event's union box when the frame has none).
"""

from __future__ import annotations

from visionedge.config import ClassifierConfig
from visionedge.events import EventTracker
from visionedge.protocols import Box, GateResult

__all__ = ["classification_due", "may_classify"]


def may_classify(
    cc: ClassifierConfig, tracker: EventTracker, last_classified: int | None, index: int
) -> bool:
    """Whether frame ``index`` could be classified, judged before the gate runs.

    The gate skips the motion regions on the other frames. It is false only where the
    budget rules exclude a classification, except on the frame where an over-long event
    is split into a continuation: that one is classified on the event's box. The caller
    checks that a classifier is there and enabled.
    """
    if not tracker.is_open:
        return True  # an event may start on this frame, with a fresh budget
    if tracker.classified_frames >= cc.max_per_event:
        return False
    return last_classified is None or index - last_classified >= cc.every_n_frames


def classification_due(
    cc: ClassifierConfig,
    tracker: EventTracker,
    last_classified: int | None,
    index: int,
    result: GateResult,
) -> Box | None:
    """The box to classify on frame ``index`` after the gate (None: not this frame).

    The caller checks that a classifier is there and enabled.
    """
    if not tracker.is_open or not result.motion:
        return None
    if result.reason and not result.opened:
        return None  # a rejected frame (light switch, exposure jump) shows no object
    if tracker.classified_frames >= cc.max_per_event:
        return None
    if last_classified is not None and index - last_classified < cc.every_n_frames:
        return None
    return result.regions[0] if result.regions else tracker.box
