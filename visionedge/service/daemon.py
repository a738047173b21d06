"""``visionedge run`` as a service: capture thread, latest-wins queue, systemd integration.

::

    capture thread: source.frames() ──► FrameQueue (latest wins) ──► main thread: Pipeline.step
                                                                          │
                               sd_notify READY/WATCHDOG/STATUS ◄──────────┤
                               stats (MQTT), metrics (Prometheus) ◄───────┘

- ``READY=1`` once the model is loaded, the sinks are up and the first frame went through
  (or the live camera turned out to be down: the daemon is up and retrying it);
  ``WATCHDOG=1`` every half ``WATCHDOG_USEC`` but only if frames were analysed since the
  last ping or a down camera is being retried, so a stuck analysis or capture lets systemd
  restart us; ``STATUS=`` a one-line summary every few seconds, at once on a camera change.
- The camera's state (:mod:`visionedge.service.capture`) goes to the sinks as ``camera`` (MQTT:
  retained, a Home Assistant connectivity entity); losing it ends the open event with
  ``end_reason = "source_lost"`` and motion OFF. A live camera down at start is retried
  with backoff instead of exiting 4; a missing clip still exits 4 at once.
- An event a crash left open is ended on the next start (``end_reason = "restarted"``)
  from ``open-event.json`` beside the spool (:mod:`visionedge.events.openstate`); so is
  every open object event, from ``open-objects.json`` (:mod:`visionedge.objects.openstate`),
  and the per-label counts it left are reset to 0.
- Live sources (and ``source.realtime`` replays) feed a bounded queue that drops the
  *oldest* frame when analysis falls behind (counted in ``dropped_frames``), so latency stays
  bounded. Non-realtime replays block instead: a clip is analysed frame by frame.
- SIGTERM/SIGINT: stop reading, end the open event (``end_reason = "stopped"``), flush the
  spool for up to ``daemon.stop_timeout_s``, publish ``offline``, exit 0.
- SIGHUP: re-read and re-validate the config file. An invalid file (or one naming labels
  the model lacks) is refused (logged, the running config stays). Gate, event and
  classifier-threshold settings apply at once;
  sections that need a restart (source, device, MQTT, spool, metrics, model files) are
  kept and named in a warning.
- ``set/...`` MQTT commands reach :class:`Daemon` through :class:`~visionedge.service.control.Controller`;
  they are applied between frames, on the main thread.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any

from visionedge.config import ClassifierConfig, Config, load_config
from visionedge.errors import ConfigError, ModelError, VisionEdgeError
from visionedge.events.openstate import OpenEventStore, state_dir
from visionedge.frame import Frame
from visionedge.objects.openstate import keep_open_objects
from visionedge.protocols import EventSink, FrameSource, FrameTrace, SnapshotSink
from visionedge.service.capture import Captured, FrameQueue, SourceState, WatchdogGate, capture
from visionedge.service.control import Controller
from visionedge.service.metrics import Metrics
from visionedge.service.reload import changed_keys, merge_reloadable
from visionedge.service.sdnotify import Notifier
from visionedge.sources.link import LinkState

__all__ = ["Daemon", "FrameQueue", "WatchdogGate", "merge_reloadable", "run_daemon"]
# FrameQueue and WatchdogGate live in visionedge.service.capture; re-exported for existing users.

log = logging.getLogger(__name__)

STATUS_EVERY_S = 5.0
"""How often ``STATUS=`` is refreshed."""

class Daemon:
    """One run of the service; also the :class:`~visionedge.service.control.ControlTarget`."""

    def __init__(
        self,
        config: Config,
        config_path: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.stop = stop or threading.Event()
        self.notifier = Notifier(env)
        self.enabled = True
        self.started = time.monotonic()
        self.reloads = 0
        self.reload_failures = 0
        self._lock = threading.Lock()
        self._pending_config: Config | None = None
        self._pending_enabled: bool | None = None
        self._reload_requested = False
        self._fps = 0.0
        self._sinks: list[EventSink] = []
        self._pipeline: Any = None
        self._queue: FrameQueue | None = None
        self._best: tuple[str, float] | None = None
        self._recorder: Any = None
        self._obj_snaps: Any = None  # visionedge.objects.snapshots.ObjectSnapshots, object mode
        self.camera: tuple[str, str] = ("", "")
        """The source's last reported state and why (``("", "")`` before the first)."""
        self._tap: Any = None  # visionedge.web.LiveTap while the page is enabled

    def _close_recorder(self, timeout: float) -> None:
        """Close the recording in progress and let the writer finish (within ``timeout``)."""
        rec = self._recorder
        if rec is None:
            return
        rec.close()
        if not rec.writer.close(timeout):
            log.warning("recordings: the writer did not finish within %.0f s", timeout)

    # -- ControlTarget (called from the MQTT thread) ----------------------------------------

    def current_config(self) -> Config:
        """The config in force, including an accepted change not applied yet."""
        with self._lock:
            return self._pending_config or self.config

    def apply_config(self, config: Config) -> None:
        """Apply ``config`` before the next frame."""
        with self._lock:
            self._pending_config = config

    def check_classifier(self, cfg: ClassifierConfig) -> None:
        """ConfigError if ``cfg`` names labels the loaded model does not have."""
        pipeline = self._pipeline
        check = getattr(pipeline.classifier, "check_config", None) if pipeline else None
        if check is not None:
            check(cfg)

    def request_reload(self) -> None:
        """Re-read the config file before the next frame, as SIGHUP does (the web page)."""
        self._reload_requested = True

    def set_enabled(self, enabled: bool) -> None:
        """Pause or resume analysis before the next frame."""
        with self._lock:
            self._pending_enabled = enabled

    # -- stats ------------------------------------------------------------------------------

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

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> int:
        """Run until the source ends or a stop signal; return the exit status."""
        cfg = self.config
        restore = self._install_signals()
        try:
            return self._run(cfg)
        finally:
            restore()

    def _run(self, cfg: Config) -> int:
        from visionedge.pipeline import build_pipeline, load_configured_classifier
        from visionedge.sinks import build_sinks, close_sinks
        from visionedge.sources import open_source

        self.notifier.status("loading the model")
        classifier = load_configured_classifier(cfg)
        source = open_source(cfg.source, cfg.gate.width)
        sinks = build_sinks(cfg)
        self._sinks = sinks
        metrics = Metrics(self.stats, enabled=cfg.metrics.enabled)
        try:
            pipeline = build_pipeline(
                cfg, source=source, sinks=sinks, classifier=classifier, deterministic_ids=False
            )
            self._pipeline = pipeline
            if cfg.recording.enabled:
                from visionedge.recording import start_recording

                # A clip analysed as fast as possible waits for the disk, as it waits for analysis.
                self._recorder = start_recording(
                    cfg,
                    pipeline,
                    lambda: float(getattr(source, "fps", cfg.source.fps)),
                    wait_for_writer=hasattr(source, "clip_id") and not cfg.source.realtime,
                )
            directory = state_dir(cfg)
            if directory is not None:
                pipeline.open_store = OpenEventStore(directory, min_frames=cfg.events.min_frames)
                end = pipeline.end_crashed_event()
                if end is not None:
                    log.warning(
                        "event %s was left open by the previous run (crash or kill); "
                        "ended it (end_reason restarted)", end["event_id"],
                    )
                keep_open_objects(pipeline, cfg, directory)
            controller = Controller(self, max_payload_bytes=cfg.mqtt.max_payload_bytes)
            for sink in sinks:
                if hasattr(sink, "controller"):
                    sink.controller = controller
                if hasattr(sink, "on_delivered"):
                    sink.on_delivered = metrics.frame_to_publish_seconds.observe
            metrics.serve(cfg.metrics)
            web = self._start_web(cfg, source)
            try:
                return self._loop(pipeline, source, metrics)
            finally:
                if web is not None:
                    web.close(cfg.daemon.stop_timeout_s)
        finally:
            self.notifier.stopping()
            self.notifier.status("stopping: flushing events")
            try:
                self._close_recorder(cfg.daemon.stop_timeout_s)
                close_sinks(sinks, cfg.daemon.stop_timeout_s)
            finally:
                metrics.close()
                self.notifier.close()

    def _start_web(self, cfg: Config, source: FrameSource) -> Any:
        if not cfg.web.enabled:
            return None
        from visionedge.recording.recorder import recordings_root
        from visionedge.web import LiveTap, start_web

        self._tap = LiveTap(cfg.web.history)
        return start_web(cfg, self, self._tap, lambda: str(getattr(source, "state", "ok")),
                         recordings_root(cfg))

    def _loop(self, pipeline: Any, source: FrameSource, metrics: Metrics) -> int:
        cfg = self.config
        replay = hasattr(source, "clip_id")
        queue = FrameQueue(cfg.daemon.frame_queue, latest_wins=not replay or cfg.source.realtime)
        self._queue = queue
        retry = None
        if not replay:
            # A live camera that is not up yet is retried, reporting its state as it goes.
            retry = LinkState(
                source.name, cfg.source.reconnect_initial_s, cfg.source.reconnect_max_s,
                on_state=lambda state, why: queue.put_state(SourceState(state, why)),
            )
            if hasattr(source, "on_state"):
                source.on_state = lambda state, why: queue.put_state(SourceState(state, why))
        thread = threading.Thread(
            target=capture, args=(source, queue, self.stop), kwargs={"retry": retry},
            name="capture", daemon=True,
        )
        thread.start()
        ready = False
        last_status = last_stats = fps_t = time.monotonic()
        watchdog = WatchdogGate(
            self.notifier.watchdog_interval() if cfg.daemon.watchdog else None, fps_t
        )
        fps_frames = 0
        run_t0 = fps_t
        reason = "stopped"
        try:
            while not self.stop.is_set():
                item = queue.get(0.2)
                self._apply_pending(pipeline)
                if item is None:
                    if queue.drained:
                        # The capture thread also ends on a stop signal: that is not the clip's end.
                        reason = "stopped" if self.stop.is_set() else "end_of_clip"
                        break
                elif isinstance(item, SourceState):
                    self._source_state(pipeline, item)
                    if not ready and item.state != "ok":
                        # Started, but waiting for the camera: say so rather than have
                        # systemd's start timeout kill a service that is doing its job.
                        ready = True
                        self.notifier.ready(self.status_line())
                        log.info("ready: model loaded, waiting for the camera")
                else:
                    self._process(pipeline, item, metrics)
                    watchdog.frame()
                    fps_frames += 1
                    if not ready:
                        ready = True
                        self.notifier.ready(self.status_line())
                        log.info("ready: model loaded, first frame analysed")
                if self.camera[0] != "ok" and thread.is_alive():
                    watchdog.frame()  # alive and retrying the camera: no restart needed
                now = time.monotonic()
                if now - fps_t >= 1.0:
                    self._fps = fps_frames / (now - fps_t)
                    fps_frames, fps_t = 0, now
                if watchdog.due(now):
                    self.notifier.watchdog()
                if ready and now - last_status >= STATUS_EVERY_S:
                    self.notifier.status(self.status_line())
                    last_status = now
                interval = cfg.mqtt.stats_interval_s
                if interval and now - last_stats >= interval:
                    last_stats = now
                    self._publish_stats()
        finally:
            self.stop.set()
            stop_source = getattr(source, "stop", None)
            if callable(stop_source):
                stop_source()  # a live source's frames() may be waiting for a dead camera
            if self._fps == 0.0 and pipeline.stats.frames:
                # A run shorter than one rate window (a replayed clip) still reports its rate.
                self._fps = pipeline.stats.frames / max(time.monotonic() - run_t0, 1e-6)
            pipeline.finish(reason)
            pipeline.stats.dropped_frames = queue.dropped
            thread.join(timeout=5.0)
        if queue.error is not None and not isinstance(queue.error, GeneratorExit):
            raise queue.error
        log.info(
            "stopped (%s): %d frames read, %d analysed, %d dropped; %s",
            reason,
            queue.arrived,
            pipeline.stats.frames,
            queue.dropped,
            self.status_line(),
        )
        return 0

    def _source_state(self, pipeline: Any, change: SourceState) -> None:
        """The camera changed state: tell the sinks; a loss ends the open event."""
        if (change.state, change.reason) == self.camera:
            return
        self.camera = (change.state, change.reason)
        for sink in self._sinks:
            sink.state("camera", change.state, {"reason": change.reason})
        if change.state != "ok":
            # Nothing is seen while the camera is gone: the open event ends here, motion goes
            # OFF, and the first frame after the outage becomes the gate's new baseline.
            pipeline.finish("source_lost")
            reset = getattr(pipeline.gate, "reset", None)
            if reset is not None:
                reset()
        self.notifier.status(self.status_line())

    def _process(self, pipeline: Any, item: Captured, metrics: Metrics) -> None:
        pipeline.stats.dropped_frames = self._queue.dropped if self._queue else 0
        if not self.enabled:
            return
        for sink in self._sinks:
            mark = getattr(sink, "mark_frame", None)
            if mark is not None:
                mark(item.t)
        trace: FrameTrace = pipeline.step(item.frame)
        metrics.gate_seconds.observe(trace.gate_us / 1e6)
        if trace.classify_us is not None:
            metrics.classify_seconds.observe(trace.classify_us / 1e6)
        self._maybe_snapshot(item.frame, trace)
        if self._tap is not None:
            self._tap.offer(item.frame, trace, pipeline.gate)

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

    def _publish_stats(self) -> None:
        stats = self.stats()
        for sink in self._sinks:
            publish_stats = getattr(sink, "publish_stats", None)
            if publish_stats is not None:
                publish_stats(stats)

    # -- runtime changes (main thread) ------------------------------------------------------

    def _apply_pending(self, pipeline: Any) -> None:
        if self._reload_requested:
            self._reload_requested = False
            self._reload()
        with self._lock:
            cfg, self._pending_config = self._pending_config, None
            enabled, self._pending_enabled = self._pending_enabled, None
        if cfg is not None:
            self._apply(pipeline, cfg)
        if enabled is not None and enabled != self.enabled:
            self.enabled = enabled
            if not enabled:
                pipeline.finish("stopped")
                log.info("control: analysis paused (set/enabled OFF)")
            else:
                reset = getattr(pipeline.gate, "reset", None)
                if reset is not None:
                    reset()  # the scene may have changed while paused
                log.info("control: analysis resumed (set/enabled ON)")

    def _apply(self, pipeline: Any, cfg: Config) -> None:
        if cfg.classifier.enabled and pipeline.classifier is None:
            from visionedge.pipeline import load_configured_classifier

            try:
                pipeline.set_classifier(load_configured_classifier(cfg))
            except ModelError as exc:
                log.error("classifier stays off: %s", exc)
                cfg = cfg.model_copy(
                    update={"classifier": cfg.classifier.model_copy(update={"enabled": False})}
                )
        try:
            pipeline.reconfigure(cfg)
        except ConfigError as exc:
            # e.g. a reload naming a label the model lacks: keep running as before.
            log.error("config change refused, keeping the running config: %s", exc)
            pipeline.reconfigure(self.config)
            return
        self.config = cfg

    def _reload(self) -> None:
        self.notifier.reloading()
        try:
            if self.config_path is None:
                log.warning("reload: no --config file was given; nothing to reload")
                return
            try:
                new = load_config(self.config_path)
            except ConfigError as exc:
                self.reload_failures += 1
                log.error("reload refused, keeping the running config: %s", exc)
                return
            current = self.current_config()
            merged, restart = merge_reloadable(current, new)
            with self._lock:
                self._pending_config = merged
            self.reloads += 1
            if restart:
                log.warning(
                    "reload: %s changed; restart the service to apply (the rest is applied)",
                    ", ".join(restart),
                )
            changed = changed_keys(current.model_dump(), merged.model_dump())
            log.info(
                "reload: %s re-read; applied %s",
                self.config_path,
                ", ".join(changed) if changed else "no changes",
            )
        finally:
            self.notifier.ready(self.status_line())

    def _install_signals(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def on_stop(signum: int, frame: FrameType | None) -> None:
            if self.stop.is_set():
                raise KeyboardInterrupt
            log.info("%s: stopping", signal.Signals(signum).name)
            self.stop.set()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            self._reload_requested = True

        previous = {
            signal.SIGTERM: signal.signal(signal.SIGTERM, on_stop),
            signal.SIGINT: signal.signal(signal.SIGINT, on_stop),
            signal.SIGHUP: signal.signal(signal.SIGHUP, on_hup),
        }

        def restore() -> None:
            for s, h in previous.items():
                signal.signal(s, h)

        return restore


def run_daemon(
    config: Config,
    config_path: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run the service with ``config`` (re-read from ``config_path`` on SIGHUP); exit status."""
    root = logging.getLogger()
    if not root.handlers:
        # journald timestamps each line itself; keep lines short and greppable.
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return Daemon(config, config_path, env=env, stop=stop).run()
