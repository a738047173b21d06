"""The daemon's event snapshots: the best-scored frame of each event, as a JPEG, to the sinks.

A mixin of :class:`visionedge.service.daemon.Daemon` (the state lives on the daemon).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from visionedge.config import Config
from visionedge.errors import VisionEdgeError
from visionedge.frame import Frame
from visionedge.protocols import EventSink, FrameTrace, SnapshotSink

__all__ = ["SnapshotPicker"]

log = logging.getLogger("visionedge.service.daemon")  # the daemon logs under one name


class SnapshotPicker:
    """Snapshot choice and encoding of :class:`~visionedge.service.daemon.Daemon` (mixin)."""

    config: Config
    _sinks: list[EventSink]
    _best: tuple[str, float] | None
    _obj_snaps: Any  # visionedge.objects.snapshots.ObjectSnapshots, made on first use
    _pipeline: Any  # visionedge.pipeline.Pipeline once built

    def _maybe_snapshot(self, frame: Frame, trace: FrameTrace) -> None:
        targets = [s for s in self._sinks if isinstance(s, SnapshotSink)]
        if not targets:
            return
        if self._object_snapshots(trace, targets):
            return  # object mode: the motion events (and their snapshots) are not published
        if not trace.event_id:
            return
        score = trace.score if trace.classified and trace.score is not None else -1.0
        best = self._best if self._best and self._best[0] == trace.event_id else None
        if best is not None and score <= best[1]:
            return
        self._best = (trace.event_id, score)
        jpeg = self._encode(frame, trace)
        if jpeg is not None:
            for sink in targets:
                sink.snapshot(trace.event_id, jpeg)

    def _object_snapshots(self, trace: FrameTrace, targets: Sequence[SnapshotSink]) -> bool:
        """Each object's best view at its start and end (objects.mode); True in "object" mode."""
        objs = trace.extra.get("objects")
        stage = self._pipeline.objects
        if stage is not None and self._obj_snaps is None:
            from visionedge.objects.snapshots import ObjectSnapshots

            self._obj_snaps = ObjectSnapshots(boxes=self.config.mqtt.snapshot_boxes)
            stage.keep_views = True  # from the next frame on (the first has no object yet)
        if objs is not None and objs.payloads:
            self._obj_snaps.on_payloads(objs.payloads, stage, targets)
        return bool(self.config.objects.mode == "object")

    def _encode(self, frame: Frame, trace: FrameTrace) -> bytes | None:
        import cv2

        try:
            image = frame.image()
        except VisionEdgeError as exc:
            log.warning("snapshot: cannot get the frame image (%s)", exc)
            return None
        if self.config.mqtt.snapshot_boxes:
            clf = trace.extra.get("classification")
            result = trace.extra.get("result")
            box = getattr(clf, "box", None) or getattr(result, "box", None)
            if box is not None:
                image = image.copy()
                h, w = image.shape[:2]
                p0 = (int(box.x0 * w), int(box.y0 * h))
                p1 = (int(box.x1 * w) - 1, int(box.y1 * h) - 1)
                cv2.rectangle(image, p0, p1, (0, 255, 0), max(1, w // 320))
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        return bytes(buf) if ok else None

