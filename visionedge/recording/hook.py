"""What the pipeline calls on a recorder: live (:class:`~visionedge.recording.recorder.Recorder`)
and in replay (:class:`ReplayAnnotator`, which only names the recording in ``end`` payloads)."""

from __future__ import annotations

from typing import Any, Protocol

from visionedge.config import Config
from visionedge.frame import Frame
from visionedge.protocols import FrameTrace
from visionedge.recording import format as fmt

__all__ = ["RecorderHook", "ReplayAnnotator"]


class RecorderHook(Protocol):
    """The pipeline's view of a recorder (``Pipeline.recorder``)."""

    def annotate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload to publish (``end`` payloads gain ``recording`` and ``snapshot``)."""
        ...

    def on_frame(self, frame: Frame, trace: FrameTrace, pipeline: Any) -> None:
        """Called after every frame."""
        ...

    def on_finish(self, reason: str, pipeline: Any) -> None:
        """Called after the pipeline ended the open event."""
        ...

    def on_reconfigure(self, config: Config, pipeline: Any) -> None:
        """Called after a new config was applied."""
        ...


class ReplayAnnotator:
    """Replay of a recording: ``end`` payloads name the recording as the live run did."""

    def __init__(self, live_path: str, unrecorded: frozenset[str] = frozenset()) -> None:
        self.live_path = live_path
        self.unrecorded = unrecorded

    def annotate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Add the live ``recording`` and ``snapshot`` values to an ``end``."""
        if payload.get("type") != "end":
            return payload
        out = dict(payload)
        if payload["event_id"] in self.unrecorded:
            # Ended in the pre-roll while the live run could not record (disk full).
            out["recording"] = out["snapshot"] = None
            return out
        out["recording"] = self.live_path
        out["snapshot"] = f"{self.live_path}/{fmt.SNAPSHOTS}/{payload['event_id']}.jpg"
        return out

    def on_frame(self, frame: Frame, trace: FrameTrace, pipeline: Any) -> None:
        """Nothing to do in replay."""

    def on_finish(self, reason: str, pipeline: Any) -> None:
        """Nothing to do in replay."""

    def on_reconfigure(self, config: Config, pipeline: Any) -> None:
        """Nothing to do in replay."""
