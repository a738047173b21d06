"""The writer thread: everything a recording puts on disk happens here, off the frame path.

The frame path only calls :meth:`RecordingWriter.submit_frame` (never blocks: past
``recording.queue_frames`` waiting frames the frame is dropped and counted, per recording
and in total) and :meth:`RecordingWriter.submit` for the few control items (open, close,
snapshot), which are never dropped. A write error (full disk, folder removed) marks that
recording failed, logs one line and drops its remaining items; the next recording tries
again, so a disk that frees up is used again without a restart.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import cv2

from visionedge.frame import Frame, Plane
from visionedge.objects.snapshots import encode_snapshot
from visionedge.protocols import Box
from visionedge.recording import format as fmt
from visionedge.recording.retention import free_mb
from visionedge.recording.state import PipelineState, dump_state
from visionedge.recording.video import VideoOut

__all__ = ["FrameItem", "RecordingWriter", "WriterStats"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FrameItem:
    """One frame for the writer: the frame (its image is fetched here) and its exact plane."""

    frame: Frame
    plane: Plane
    classified: bool


@dataclass(slots=True)
class WriterStats:
    """Totals since start (the daemon adds them to its stats)."""

    recordings: int = 0
    frames_written: int = 0
    frames_dropped: int = 0
    bytes_written: int = 0
    failures: int = 0


@dataclass(slots=True)
class _Rec:
    """Open files and counters of one recording (touched by the writer thread only)."""

    path: Path
    manifest: dict[str, Any]
    state: PipelineState
    video_kind: str
    jpeg_quality: int
    min_free_mb: float = 0.0
    frames: int = 0
    dropped: int = 0
    images: int = 0
    first_frame: int | None = None
    last_frame: int | None = None
    failed: str = ""
    planes: BinaryIO | None = None
    meta: TextIO | None = None
    offset: int = 0
    video: VideoOut | None = None
    queued_drops: list[int] = field(default_factory=list)


class RecordingWriter:
    """A thread writing recordings; see the module docstring for its guarantees.

    ``frame_delay_s`` makes every frame write sleep that long: slow storage, emulated for
    the back-pressure test and the benchmark.
    """

    def __init__(
        self,
        queue_frames: int,
        *,
        on_closed: Callable[[Path], None] | None = None,
        frame_delay_s: float = 0.0,
    ) -> None:
        self._items: collections.deque[tuple[str, Any, Any]] = collections.deque()
        self._frames_queued = 0
        self._max = queue_frames
        self._cond = threading.Condition()
        self._closing = False
        self._on_closed = on_closed
        self._delay = frame_delay_s
        self.stats = WriterStats()
        self.open_paths: set[Path] = set()
        """Recordings opened and not closed yet (retention must not touch them)."""
        self._thread = threading.Thread(target=self._run, name="recording-writer", daemon=True)
        self._thread.start()

    # -- frame path ---------------------------------------------------------------------
    def submit_frame(self, rec: _Rec, item: FrameItem, *, wait: bool = False) -> bool:
        """Queue a frame of ``rec``; False (dropped, counted) when the queue is full.

        ``wait``: wait for room instead (a clip replayed as fast as possible is analysed frame
        by frame, like the daemon's frame queue does for it); a dead writer still drops.
        """
        with self._cond:
            while wait and self._frames_queued >= self._max and self._thread.is_alive():
                self._cond.wait(0.1)
            if self._frames_queued >= self._max:
                rec.dropped += 1
                self.stats.frames_dropped += 1
                return False
            self._frames_queued += 1
            self._items.append(("frame", rec, item))
            self._cond.notify()
            return True

    def submit(self, kind: str, rec: _Rec, payload: Any = None) -> None:
        """Queue a control item (open, close, snapshot); never dropped."""
        with self._cond:
            self._items.append((kind, rec, payload))
            self._cond.notify()

    @property
    def pending_frames(self) -> int:
        """Frames waiting to be written."""
        with self._cond:
            return self._frames_queued

    def new(self, path: Path, manifest: dict[str, Any], state: PipelineState, video: str,
            jpeg_quality: int, min_free_mb: float = 0.0) -> _Rec:
        """A recording handle for :meth:`submit`; nothing is written until its ``open`` item.

        ``min_free_mb``: the recording stops (failed) when free space falls below it.
        """
        return _Rec(path, manifest, state, video, jpeg_quality, min_free_mb)

    def close(self, timeout: float) -> bool:
        """Write what is queued (within ``timeout``) and stop; False if items were left."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closing:
                    self._cond.wait(0.5)
                if not self._items and self._closing:
                    return
                kind, rec, payload = self._items.popleft()
                if kind == "frame":
                    self._frames_queued -= 1
                    self._cond.notify_all()
            if rec.failed:
                continue
            try:
                if kind == "frame":
                    self._frame(rec, payload)
                elif kind == "open":
                    self._open(rec)
                elif kind == "close":
                    self._close(rec, payload)
                elif kind == "snapshot":
                    self._snapshot(rec, *payload)
            except Exception as exc:  # full disk, encoder error, a frame without image:
                self._fail(rec, exc)  # this recording stops, the thread and the others go on

    def _fail(self, rec: _Rec, exc: BaseException) -> None:
        rec.failed = f"{type(exc).__name__}: {exc}"
        self.open_paths.discard(rec.path)
        self.stats.failures += 1
        log.warning("recording %s failed and stays incomplete: %s", rec.path, rec.failed)
        for fh in (rec.planes, rec.meta):
            if fh is not None:
                with contextlib.suppress(OSError):
                    fh.close()
        if rec.video is not None:
            rec.video.release()
        if not (rec.path / fmt.MANIFEST).exists():
            # Failed before its manifest: nothing replayable or viewable, give the space back.
            shutil.rmtree(rec.path, ignore_errors=True)
            return
        # Best effort (the disk may be full): say why the recording stopped.
        with contextlib.suppress(OSError):
            fmt.write_json_atomic(rec.path / fmt.MANIFEST, self._manifest(rec, complete=False))

    def _manifest(self, rec: _Rec, *, complete: bool) -> dict[str, Any]:
        m = dict(rec.manifest)
        m.update(
            complete=complete,
            error=rec.failed or None,
            frames=rec.frames,
            dropped_frames=rec.dropped,
            images=rec.images,
            first_frame=rec.first_frame,
            last_frame=rec.last_frame,
            video=rec.video.name if rec.video is not None else None,
        )
        return m

    def _open(self, rec: _Rec) -> None:
        self.open_paths.add(rec.path)
        (rec.path / fmt.IMAGES).mkdir(exist_ok=True)
        (rec.path / fmt.SNAPSHOTS).mkdir(exist_ok=True)
        fmt.write_json_atomic(rec.path / fmt.MANIFEST, self._manifest(rec, complete=False))
        data = dump_state(rec.state)
        (rec.path / fmt.STATE).write_bytes(data)
        rec.planes = (rec.path / fmt.PLANES).open("wb")
        rec.meta = (rec.path / fmt.FRAMES).open("w", encoding="utf-8")
        self.stats.recordings += 1
        self.stats.bytes_written += len(data)

    def _frame(self, rec: _Rec, item: FrameItem) -> None:
        if self._delay:
            time.sleep(self._delay)
        assert rec.planes is not None and rec.meta is not None
        if rec.min_free_mb:
            # One statvfs per frame (microseconds, on this thread): a recording must never
            # take the file system below the floor, whatever its frame size.
            free = free_mb(rec.path)
            if free < rec.min_free_mb:
                raise OSError(errno.ENOSPC, f"{free:.2f} MB free, below recording.min_free_mb")
        frame = item.frame
        blob = fmt.encode_plane(item.plane)
        rec.planes.write(blob)
        h, w = item.plane.shape
        image_name: str | None = None
        image = frame.image()
        if item.classified:
            image_name = f"{fmt.IMAGES}/{frame.index:08d}.png"
            # RLE: about 1.5x faster than zlib level 1 on camera frames, ~5 % larger.
            ok, png = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1,
                                                   cv2.IMWRITE_PNG_STRATEGY,
                                                   cv2.IMWRITE_PNG_STRATEGY_RLE])
            if not ok:
                raise ValueError(f"cannot encode frame {frame.index} as PNG")
            (rec.path / image_name).write_bytes(png.tobytes())
            rec.images += 1
            self.stats.bytes_written += len(png)
        if rec.video is None:
            rec.video = VideoOut(rec.path, rec.video_kind, float(rec.manifest.get("fps") or 10.0),
                                 image.shape[1], image.shape[0])
        rec.video.write(image)
        record = fmt.FrameRecord(
            index=frame.index,
            ts_ms=frame.ts_ms,
            source=frame.source,
            metadata=frame.metadata,
            plane=(rec.offset, len(blob), h, w),
            image=image_name,
            classified=item.classified,
        )
        line = record.to_json() + "\n"
        rec.meta.write(line)
        rec.offset += len(blob)
        rec.frames += 1
        if rec.first_frame is None:
            rec.first_frame = frame.index
        rec.last_frame = frame.index
        self.stats.frames_written += 1
        self.stats.bytes_written += len(blob) + len(line)

    def _snapshot(self, rec: _Rec, event_id: str, frame: Frame, box: Box | None) -> None:
        # The same picture as the MQTT snapshots: the frame with the box drawn in green.
        jpg = encode_snapshot(frame, box, quality=rec.jpeg_quality)
        if jpg is None:
            raise ValueError(f"cannot make the snapshot of event {event_id} (no frame image, or the encoder failed)")
        (rec.path / fmt.SNAPSHOTS / f"{event_id}.jpg").write_bytes(jpg)
        self.stats.bytes_written += len(jpg)

    def _close(self, rec: _Rec, close: dict[str, Any]) -> None:
        assert rec.planes is not None and rec.meta is not None
        rec.planes.close()
        rec.meta.close()
        if rec.video is not None:
            rec.video.release()
        lines: list[str] = close.pop("lines")
        text = "".join(line + "\n" for line in lines)
        (rec.path / fmt.EVENTS).write_text(text, encoding="utf-8")
        rec.manifest.update(close)
        fmt.write_json_atomic(rec.path / fmt.MANIFEST, self._manifest(rec, complete=True))
        self.stats.bytes_written += len(text)
        self.open_paths.discard(rec.path)
        if self._on_closed is not None:
            self._on_closed(rec.path)
