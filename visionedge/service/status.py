"""The daemon's figures: the stats dict (MQTT stats topic, Prometheus) and the STATUS= line.

A mixin of :class:`visionedge.service.daemon.Daemon` (the state lives on the daemon).
"""

from __future__ import annotations

import time
from typing import Any

from visionedge.protocols import EventSink
from visionedge.service.capture import FrameQueue

__all__ = ["DaemonStatus"]


class DaemonStatus:
    """Stats and status line of :class:`~visionedge.service.daemon.Daemon` (mixin)."""

    started: float
    enabled: bool
    reloads: int
    reload_failures: int
    camera: tuple[str, str]
    _fps: float
    _pipeline: Any
    _queue: FrameQueue | None
    _recorder: Any
    _sinks: list[EventSink]

    def stats(self) -> dict[str, Any]:
        """Counters for the stats topic, STATUS= and Prometheus."""
        out: dict[str, Any] = {"uptime_s": round(time.monotonic() - self.started, 1)}
        pipeline = self._pipeline
        if pipeline is not None:
            s = pipeline.stats
            out.update(
                frames=s.frames,
                gate_open_frames=s.gate_open_frames,
                gate_open_ratio=round(s.gate_open_frames / s.frames, 4) if s.frames else 0.0,
                events=s.events,
                messages=s.messages,
                classifications=s.classifications,
                classify_ms=round(s.last_classify_us / 1000, 3),
                gate_ms=round(s.last_gate_us / 1000, 3),
            )
        if self._queue is not None:
            out["dropped_frames"] = self._queue.dropped
        if self._recorder is not None:
            ws = self._recorder.writer.stats
            out.update(recordings=ws.recordings, recording_frames_dropped=ws.frames_dropped,
                       recording_bytes=ws.bytes_written, recordings_skipped=self._recorder.skipped)
        if self.camera[0]:
            out["camera"] = self.camera[0]
        out.update(fps=round(self._fps, 2), enabled=self.enabled, reloads=self.reloads,
                   reload_failures=self.reload_failures)
        for sink in self._sinks:
            sink_stats = getattr(sink, "stats", None)
            if callable(sink_stats):
                extra = sink_stats()
                out.update(extra)
                out["mqtt_connected"] = 1 if extra.get("connected") else 0
        return out

    def status_line(self) -> str:
        """One line for ``systemctl status``."""
        st = self.stats()
        parts = [
            f"{st.get('fps', 0):.1f} fps",
            f"gate open {100 * st.get('gate_open_ratio', 0):.1f}%",
            f"{st.get('events', 0)} events",
            f"{st.get('dropped_frames', 0)} frames dropped",
        ]
        if "spool_depth" in st:
            parts.append(f"spool {st['spool_depth']}")
            parts.append("mqtt connected" if st.get("connected") else "mqtt disconnected")
        if not self.enabled:
            parts.insert(0, "PAUSED")
        state, why = self.camera
        if state and state != "ok":
            parts.insert(0, f"camera {state} ({why})" if why else f"camera {state}")
        return ", ".join(parts)

