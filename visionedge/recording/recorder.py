"""The recorder on the frame path: pre-roll ring, keyframes, when a recording starts and ends.

The pipeline calls it at three points (:class:`~visionedge.recording.hook.RecorderHook`):
``annotate`` for every payload it publishes (``end`` payloads get ``recording`` and
``snapshot``), ``on_frame`` after every frame, ``on_finish`` after it ended the open event.

While idle it keeps the last ``pre_roll_s`` of frames (the frame objects and a copy of each
motion plane) and, every ``keyframe_s``, a snapshot of the pipeline state; the ring always
starts at a snapshot. When an event opens, a recording starts at the newest snapshot at
least ``pre_roll_s`` old (or the oldest one kept), and the ring is handed to the writer. It
ends ``post_roll_s`` after the last event ended ("closed": nothing open, so a replay ends
with nothing to finish), at ``max_s`` ("cut": the next recording starts on the next frame
with a fresh snapshot), or when the pipeline finishes the event ("finish", with the reason).
A configuration change or a gate reset between frames cuts the recording and clears the ring,
because the recorded state and config would no longer describe what follows.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionedge.config import Config
from visionedge.errors import RecordingError
from visionedge.events.payload import encode_event
from visionedge.frame import Frame, Plane
from visionedge.protocols import Box, FrameTrace
from visionedge.recording import format as fmt
from visionedge.recording.retention import free_mb, prune
from visionedge.recording.state import PipelineState, snapshot
from visionedge.recording.video import video_kind
from visionedge.recording.writer import FrameItem, RecordingWriter, _Rec

__all__ = ["Recorder", "check_recording_dir", "recordings_root", "start_recording"]

log = logging.getLogger(__name__)


_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@")


def _public_config(config: Config) -> dict[str, Any]:
    """The config as stored in a manifest: a stream URL loses its ``user:password@``."""
    data = config.model_dump(mode="json")
    data["source"]["path"] = _USERINFO.sub(r"\1", data["source"]["path"])
    return data


def recordings_root(config: Config) -> Path:
    """``recording.path``, or ``<state dir>/recordings``."""
    if config.recording.path:
        return Path(config.recording.path).expanduser()
    # Same rule as the spool (visionedge.sinks.mqtt.spool_path), without importing MQTT.
    state = config.daemon.state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state or "state") / "recordings"


def check_recording_dir(root: Path) -> Path:
    """Create ``root`` if needed and prove it writable; RecordingError with the fix if not."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise RecordingError(
            f"recording.path {root} is not writable ({exc.strerror}); fix its permissions, "
            "choose another recording.path, or set recording.enabled = false"
        ) from exc
    return root.resolve()


@dataclass(slots=True)
class _Entry:
    frame: Frame
    plane: Plane
    classified: bool
    lines: list[str]
    state: PipelineState | None


@dataclass(slots=True)
class _Active:
    rec: _Rec
    path: str
    start_ts: int
    last_busy_ts: int
    lines: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    unrecorded: list[str] = field(default_factory=list)
    best: dict[str, tuple[float, Frame, Box | None]] = field(default_factory=dict)


class Recorder:
    """See the module docstring. ``writer`` may be shared; ``root`` must exist (checked)."""

    def __init__(
        self,
        config: Config,
        root: Path,
        writer: RecordingWriter,
        fps: Callable[[], float],
        *,
        wait_for_writer: bool = False,
    ) -> None:
        self.config = config
        self.wait_for_writer = wait_for_writer
        self.root = root
        self.writer = writer
        self.fps = fps
        self.skipped = 0
        self.recordings = 0
        self._ring: collections.deque[_Entry] = collections.deque()
        self._pending: PipelineState | None = None
        self._last_key_ts: int | None = None
        self._lines: list[str] = []
        self._active: _Active | None = None
        self._expected_t: int | None = None
        self._video = video_kind(config.recording.video)
        self._warned = False
        self._skip_event = ""
        self._objects: Any = None

    def attach(self, pipeline: Any) -> None:
        """Start from ``pipeline``'s current state (call before its first frame)."""
        self._pending = snapshot(pipeline)
        self._last_key_ts = None
        self._expected_t = pipeline.gate.frames_seen + 1
        self._objects = pipeline.objects
        if self._objects is not None:
            self._objects.keep_views = True  # object snapshots come from their best views

    # -- RecorderHook ---------------------------------------------------------------------
    def annotate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Add ``recording``/``snapshot`` to an ``end``; remember the line for the window."""
        if payload.get("type") == "end":
            act = self._active
            payload = dict(payload)
            payload["recording"] = act.path if act else None
            payload["snapshot"] = f"{act.path}/{fmt.SNAPSHOTS}/{payload['event_id']}.jpg" if act else None
            if act is not None:
                best = act.best.pop(payload["event_id"], None)
                if payload.get("schema") == 2 and self._objects is not None:
                    view = self._objects.best_view(payload["object_id"])
                    best = (0.0, view[0], view[1]) if view is not None else None
                if best is not None:
                    self.writer.submit("snapshot", act.rec, (payload["event_id"], best[1], best[2]))
        self._lines.append(encode_event(payload))
        if payload.get("type") == "start" and self._active is not None:
            self._active.ids[_id_key(payload)] = payload["event_id"]
        return payload

    def on_frame(self, frame: Frame, trace: FrameTrace, pipeline: Any) -> None:
        """After each frame: ring or writer, start/stop recordings, keyframes."""
        t = pipeline.gate.frames_seen
        if self._expected_t is not None and t != self._expected_t:
            # The gate was reset or reconfigured between frames: the state we hold is stale.
            self._discontinuity(pipeline, "cut")
            self._expected_t = t + 1
            self._pending = snapshot(pipeline)
            self._last_key_ts = frame.ts_ms
            self._lines = []
            return
        self._expected_t = t + 1
        entry = _Entry(frame, frame.plane.copy(), trace.classified, self._lines, self._pending)
        self._lines = []
        self._pending = None
        act = self._active
        busy = _busy(pipeline)
        if act is not None:
            self._send(act, entry)
            self._track_best(act, frame, trace)
            rc = self.config.recording
            if busy:
                act.last_busy_ts = frame.ts_ms
            if not busy and frame.ts_ms - act.last_busy_ts >= rc.post_roll_s * 1000:
                self._close(act, {"end": "closed", "end_reason": None})
                self._keyframe(pipeline, frame.ts_ms)
            elif frame.ts_ms - act.start_ts >= rc.max_s * 1000:
                self._close(act, {"end": "cut", "end_reason": None})
                self._keyframe(pipeline, frame.ts_ms)
                if busy:
                    self._start(pipeline, [], frame.ts_ms)
            return
        self._ring.append(entry)
        self._trim(frame.ts_ms)
        if busy and _busy_key(pipeline) != self._skip_event:
            self._start(pipeline, list(self._ring), frame.ts_ms)
            act2 = self._active
            if act2 is not None:
                self._ring.clear()
                self._track_best(act2, frame, trace)
                return
        if self._last_key_ts is None or frame.ts_ms - self._last_key_ts >= self.config.recording.keyframe_s * 1000:
            self._keyframe(pipeline, frame.ts_ms)

    def on_finish(self, reason: str, pipeline: Any) -> None:
        """The pipeline ended the open event (``reason``): close the recording with it."""
        act = self._active
        if act is not None:
            self._close(act, {"end": "finish", "end_reason": reason})
        self._lines = []
        self._ring.clear()
        self._keyframe(pipeline, None)
        self._skip_event = ""

    def on_reconfigure(self, config: Config, pipeline: Any) -> None:
        """A new config from now on: cut, forget the ring, snapshot under the new config."""
        self._discontinuity(pipeline, "cut")
        self.config = config
        self._keyframe(pipeline, None)
        self._expected_t = pipeline.gate.frames_seen + 1

    def close(self) -> None:
        """Close the recording in progress as cut (the daemon is going away without finishing)."""
        if self._active is not None:
            self._close(self._active, {"end": "cut", "end_reason": None})

    # -- internals ------------------------------------------------------------------------
    def _discontinuity(self, pipeline: Any, kind: str) -> None:
        if self._active is not None:
            self._close(self._active, {"end": kind, "end_reason": None})
        self._ring.clear()

    def _keyframe(self, pipeline: Any, ts: int | None) -> None:
        self._pending = snapshot(pipeline)
        self._last_key_ts = ts

    def _trim(self, now_ts: int) -> None:
        horizon = now_ts - self.config.recording.pre_roll_s * 1000
        ring = self._ring
        while ring and ring[0].state is None:
            ring.popleft()  # a replay can only start at a snapshot
        # Keep the newest snapshot at or before the horizon as the ring's first entry.
        keep_from = 0
        for i, e in enumerate(ring):
            if e.frame.ts_ms > horizon:
                break
            if e.state is not None:
                keep_from = i
        for _ in range(keep_from):
            ring.popleft()

    def _send(self, act: _Active, entry: _Entry) -> None:
        act.lines += entry.lines
        item = FrameItem(entry.frame, entry.plane, entry.classified)
        self.writer.submit_frame(act.rec, item, wait=self.wait_for_writer)

    def _track_best(self, act: _Active, frame: Frame, trace: FrameTrace) -> None:
        """Best frame per event: highest classifier score, else the largest motion box."""
        if not trace.event_id or self.config.objects.mode == "object":
            return  # object mode: motion events are not published (objects have best views)
        result = trace.extra.get("result")
        box: Box | None = getattr(result, "box", None)
        clf = trace.extra.get("classification")
        if trace.classified and trace.score is not None:
            key = 1.0 + trace.score
            box = getattr(clf, "box", None) or box
        elif box is not None:
            key = (box.x1 - box.x0) * (box.y1 - box.y0)
        else:
            key = -1.0
        best = act.best.get(trace.event_id)
        if best is None or key > best[0]:
            act.best[trace.event_id] = (key, frame, box)

    def _start(self, pipeline: Any, ring: list[_Entry], now_ts: int) -> None:
        if ring:
            state = ring[0].state
        else:
            state, self._pending = self._pending, None
        if state is None:
            # No snapshot before this frame (the ring was cleared): start with the next frame.
            self._keyframe(pipeline, now_ts)
            return
        # A recording cut at max_s goes on with the next frame.
        first_index = ring[0].frame.index if ring else pipeline.stats.last_frame + 1
        name = self._name(pipeline, first_index)
        path = self.root / name
        try:
            if self.config.recording.min_free_mb and free_mb(self.root) < self.config.recording.min_free_mb:
                raise OSError(28, f"less than recording.min_free_mb = {self.config.recording.min_free_mb} MB free")
            path.mkdir()
        except OSError as exc:
            self.skipped += 1
            self._skip_event = _busy_key(pipeline)
            if not self._warned:
                log.warning("recording skipped (%s); events continue unrecorded", exc.strerror or exc)
                self._warned = True
            if not ring:
                self._pending = state  # still the state before the next frame
            return
        self._warned = False
        cfg = self.config
        manifest: dict[str, Any] = {
            "format": fmt.FORMAT_NAME,
            "version": fmt.FORMAT_VERSION,
            "path": str(path),
            "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "device": cfg.device.name,
            "camera": cfg.device.camera,
            "fps": self.fps(),
            "config": _public_config(cfg),
        }
        rec = self.writer.new(path, manifest, state, self._video, cfg.recording.jpeg_quality,
                              cfg.recording.min_free_mb)
        self.writer.submit("open", rec)
        act = _Active(rec, str(path), now_ts if not ring else ring[0].frame.ts_ms, now_ts)
        self._active = act
        self.recordings += 1
        for e in ring:
            self._send(act, e)
        # Lines published before this frame's on_frame were for the ring's last frame: done.
        for line in act.lines:
            if '"type":"start"' in line or '"recording":null' in line:
                d = json.loads(line)
                if d["type"] == "start":
                    act.ids[_id_key(d)] = d["event_id"]
                else:  # an end published while no recording was being written
                    act.unrecorded.append(d["event_id"])

    def _name(self, pipeline: Any, first_index: int) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        event = pipeline.tracker.event_id[:8] or "x"
        return f"{stamp}-{self.config.device.camera}-{first_index}-{event}"

    def _close(self, act: _Active, close: dict[str, Any]) -> None:
        if close["end"] == "finish":
            act.lines += self._lines  # the payloads finish() just published
        self.writer.submit("close", act.rec, {**close, "lines": act.lines, "event_ids": act.ids, "unrecorded_ends": act.unrecorded,
                                              "events": len(act.lines)})
        self._active = None


def _busy(pipeline: Any) -> bool:
    """A motion event or an object event is open: the recording goes on (or starts)."""
    objects = pipeline.objects
    return bool(pipeline.tracker.is_open or (objects is not None and objects.open_events))


def _busy_key(pipeline: Any) -> str:
    """What a skipped recording was for: the motion event, or the objects (object mode)."""
    return str(pipeline.tracker.event_id or "objects")


def _id_key(payload: dict[str, Any]) -> str:
    """The key an event's live id is stored under: what replay's id factory is asked.

    Object events (schema 2) are named ``<source>#<object id>`` by the object stage.
    """
    if payload.get("schema") == 2:
        return f"{payload['source']}#{payload['object_id']}:{payload['start_frame']}"
    return f"{payload['source']}:{payload['start_frame']}"


def start_recording(
    config: Config,
    pipeline: Any,
    fps: Callable[[], float],
    *,
    wait_for_writer: bool = False,
    frame_delay_s: float = 0.0,
) -> Recorder:
    """Check the folder, prune it, start the writer thread and attach a recorder to ``pipeline``.

    Raises RecordingError when ``recording.path`` is not writable. Retention runs after every
    recording on the writer thread. ``wait_for_writer``: a clip analysed as fast as possible
    waits for the disk instead of dropping (live sources never wait). ``frame_delay_s``:
    emulated slow storage (tests, bench).
    """
    root = check_recording_dir(recordings_root(config))
    rc = config.recording
    prune(root, rc)
    holder: list[RecordingWriter] = []

    def on_closed(path: Path) -> None:
        removed = prune(root, rc, keep=holder[0].open_paths | {path} if holder else {path})
        for p in removed:
            log.info("recording %s removed (retention)", p.name)

    writer = RecordingWriter(rc.queue_frames, on_closed=on_closed, frame_delay_s=frame_delay_s)
    holder.append(writer)
    recorder = Recorder(config, root, writer, fps, wait_for_writer=wait_for_writer)
    recorder.attach(pipeline)
    pipeline.recorder = recorder
    return recorder
