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
import threading
import time
from collections.abc import Mapping
from typing import Any

from visionedge.config import Config
from visionedge.events.openstate import OpenEventStore, state_dir
from visionedge.objects.openstate import keep_open_objects
from visionedge.protocols import EventSink, FrameSource, FrameTrace
from visionedge.service.capture import Captured, FrameQueue, SourceState, WatchdogGate, capture
from visionedge.service.control import Controller
from visionedge.service.metrics import Metrics
from visionedge.service.reload import merge_reloadable
from visionedge.service.runtime import RuntimeChanges
from visionedge.service.sdnotify import Notifier
from visionedge.service.snapshots import SnapshotPicker
from visionedge.sources.link import LinkState

__all__ = ["Daemon", "FrameQueue", "WatchdogGate", "merge_reloadable", "run_daemon"]
# FrameQueue and WatchdogGate live in visionedge.service.capture; re-exported for existing users.
# The class is split by job: stats/STATUS= (service.status), control and reloads
# (service.runtime), event snapshots (service.snapshots); the run loop stays here.

log = logging.getLogger(__name__)

STATUS_EVERY_S = 5.0
"""How often ``STATUS=`` is refreshed."""


class Daemon(RuntimeChanges, SnapshotPicker):
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

    def _publish_stats(self) -> None:
        stats = self.stats()
        for sink in self._sinks:
            publish_stats = getattr(sink, "publish_stats", None)
            if publish_stats is not None:
                publish_stats(stats)


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
