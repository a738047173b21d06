"""Still frames: when the pipeline may skip the object stage on a frame the gate keeps closed.

On a still scene almost every frame is closed, nothing is tracked and no event is open; the
object stage's work on such a frame (the tracker's step with no regions, the object events
of no objects, the count changes of none) changes nothing, yet cost ~20 µs of Python a
frame, as much as the gate. :func:`object_stage_idle` says when that is certain, so that
``Pipeline.step`` can leave the stage out: the stage's state then evolves exactly as if it
had run (the firmware parity and replay tests compare the two, see
``VISIONEDGE_STILL_FAST_PATH`` in docs/gate.md).

It reads, without changing, the state of :class:`~visionedge.objects.stage.TrackingStage`
that its ``on_frame`` would update on a closed frame: the tracked objects, the objects that
ended on the previous frame (whose kept views it drops), the source name, the plane size and
the idle sample's clock. Any other :class:`~visionedge.protocols.ObjectStage` is never
skipped.
"""

from __future__ import annotations

import os

from visionedge.frame import Frame
from visionedge.objects.stage import TrackingStage
from visionedge.protocols import ObjectStage

__all__ = ["ENV_SWITCH", "fast_path_enabled", "object_stage_idle"]

ENV_SWITCH = "VISIONEDGE_STILL_FAST_PATH"
"""``off`` runs every stage on every frame (to compare); anything else, or unset: on."""


def fast_path_enabled() -> bool:
    """Whether the environment leaves the still-frame fast path on (the default)."""
    return os.environ.get(ENV_SWITCH, "on").strip().lower() != "off"


def object_stage_idle(stage: ObjectStage, frame: Frame) -> bool:
    """Whether ``stage.on_frame`` on ``frame`` would change nothing and output nothing.

    The caller has checked that the gate is closed on this frame (then it reports no
    regions) and that no motion event is open. True only for a
    :class:`~visionedge.objects.stage.TrackingStage` that tracks nothing (not even a
    tentative object), kept no view of an object that ended on the previous frame, saw this
    source and plane size before, and whose idle sample (``objects.idle_sample_s``) is not
    due on this frame.
    """
    if type(stage) is not TrackingStage:
        return False
    return stage.is_idle_on(frame)
