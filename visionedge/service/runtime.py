"""Changes to a running daemon: MQTT/web control, SIGHUP reloads, pause/resume, signals.

A mixin of :class:`visionedge.service.daemon.Daemon` (the state lives on the daemon).
Requests arrive on other threads (MQTT, web, signal handlers) and are only recorded there;
:meth:`RuntimeChanges._apply_pending` applies them on the main thread between frames.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from visionedge.config import ClassifierConfig, Config, load_config
from visionedge.errors import ConfigError, ModelError
from visionedge.service.reload import changed_keys, merge_reloadable
from visionedge.service.sdnotify import Notifier
from visionedge.service.status import DaemonStatus

__all__ = ["RuntimeChanges"]

# The daemon logs under one name (it predates the split; users filter on it).
log = logging.getLogger("visionedge.service.daemon")


class RuntimeChanges(DaemonStatus):
    """Control target and reload handling of :class:`~visionedge.service.daemon.Daemon` (mixin)."""

    config: Config
    config_path: str | None
    stop: threading.Event
    notifier: Notifier
    _lock: threading.Lock
    _pending_config: Config | None
    _pending_enabled: bool | None
    _reload_requested: bool

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

