"""JPEG snapshots of an event's best frame for sinks that take them (MQTT's retained image).

The best frame is the one whose classification scored highest so far; without a
classifier it is the frame the event started on (the first sight of what moved). A
snapshot is encoded only when it improves, and the best one is handed over once more when
the event ends, as :class:`~visionedge.protocols.SnapshotSink` describes.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2

from visionedge.errors import FrameError
from visionedge.frame import Frame
from visionedge.protocols import Box, Classification, SnapshotSink

__all__ = ["JPEG_QUALITY", "SnapshotKeeper", "encode_snapshot"]

JPEG_QUALITY = 85


def encode_snapshot(frame: Frame, box: Box | None, caption: str = "", *, draw_box: bool) -> bytes:
    """The frame's full-resolution image as JPEG, with ``box`` (and ``caption``) drawn on it."""
    image = frame.image()
    if draw_box and box is not None:
        image = image.copy()
        h, w = image.shape[:2]
        p0 = (int(box.x0 * w), int(box.y0 * h))
        p1 = (max(int(box.x1 * w) - 1, p0[0]), max(int(box.y1 * h) - 1, p0[1]))
        thickness = max(1, w // 320)
        cv2.rectangle(image, p0, p1, (0, 255, 0), thickness)
        if caption:
            cv2.putText(
                image, caption, (p0[0], max(p0[1] - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX,
                0.4 * thickness, (0, 255, 0), thickness, cv2.LINE_AA,
            )
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise FrameError(f"frame {frame.index}: OpenCV could not encode a JPEG snapshot")
    return buf.tobytes()


class SnapshotKeeper:
    """Decides when an event's snapshot improves and hands it to the sinks that take snapshots."""

    def __init__(self, sinks: Sequence[SnapshotSink], *, draw_box: bool) -> None:
        self.sinks = list(sinks)
        self.draw_box = draw_box
        self._event_id = ""
        self._best_score = -1.0
        self._best: bytes | None = None

    def on_start(self, event_id: str, frame: Frame, box: Box | None, classifying: bool) -> None:
        """A new event: without a classifier its first frame is the snapshot."""
        self._event_id, self._best_score, self._best = event_id, -1.0, None
        if not classifying:
            self._offer(encode_snapshot(frame, box, draw_box=self.draw_box))

    def on_classification(self, frame: Frame, c: Classification) -> None:
        """Take a new snapshot if this classification beats the event's best so far."""
        best = c.best
        score = best.score if best else 0.0
        if not self._event_id or score <= self._best_score:
            return
        self._best_score = score
        caption = f"{best.label} {best.score:.2f}" if best else ""
        self._offer(encode_snapshot(frame, c.box, caption, draw_box=self.draw_box))

    def on_end(self) -> None:
        """The event ended: hand over its best snapshot once more, then forget it."""
        if self._best is not None:
            for sink in self.sinks:
                sink.snapshot(self._event_id, self._best)
        self._event_id, self._best_score, self._best = "", -1.0, None

    def _offer(self, jpeg: bytes) -> None:
        self._best = jpeg
        for sink in self.sinks:
            sink.snapshot(self._event_id, jpeg)
