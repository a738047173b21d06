"""Snapshot JPEGs of objects for sinks that take them (MQTT's retained ``snapshot`` topic).

Each object's best view (:meth:`~visionedge.objects.stage.TrackingStage.best_view`) is sent
twice at most: when its event starts (the best view so far) and when it ends, if the best
view changed since. A busy scene thus sends two JPEGs per object, not one per frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import cv2

from visionedge.errors import VisionEdgeError
from visionedge.frame import Frame
from visionedge.protocols import Box, SnapshotSink

__all__ = ["ObjectSnapshots", "encode_snapshot"]

log = logging.getLogger(__name__)


def encode_snapshot(frame: Frame, box: Box | None, *, quality: int = 85) -> bytes | None:
    """The frame as JPEG, ``box`` drawn in green when given; None when it cannot be had."""
    try:
        image = frame.image()
    except VisionEdgeError as exc:
        log.warning("snapshot: cannot get the frame image (%s)", exc)
        return None
    if box is not None:
        image = image.copy()
        h, w = image.shape[:2]
        p0 = (int(box.x0 * w), int(box.y0 * h))
        p1 = (max(int(box.x1 * w) - 1, 0), max(int(box.y1 * h) - 1, 0))
        cv2.rectangle(image, p0, p1, (0, 255, 0), max(1, w // 320))
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return bytes(buf) if ok else None


class ObjectSnapshots:
    """Sends object best views to snapshot sinks (see the module docstring)."""

    def __init__(self, *, boxes: bool = True, quality: int = 85) -> None:
        self.boxes = boxes
        self.quality = quality
        self._sent: dict[str, int] = {}  # event id -> frame index of the view sent at start
        self.sent = 0

    def on_payloads(
        self, payloads: Iterable[Mapping[str, Any]], stage: Any, sinks: Sequence[SnapshotSink]
    ) -> None:
        """Send the views the object ``start``/``end`` payloads among ``payloads`` call for."""
        for p in payloads:
            kind = p.get("type")
            if p.get("schema") != 2 or kind not in ("start", "end"):
                continue
            view = stage.best_view(p["object_id"]) if stage is not None else None
            if kind == "end":
                before = self._sent.pop(p["event_id"], None)
                if view is None or view[0].index == before:
                    continue
            if view is None:
                continue
            jpeg = encode_snapshot(view[0], view[1] if self.boxes else None, quality=self.quality)
            if jpeg is None:
                continue
            if kind == "start":
                self._sent[p["event_id"]] = view[0].index
            for sink in sinks:
                sink.snapshot(p["event_id"], jpeg)
            self.sent += 1
