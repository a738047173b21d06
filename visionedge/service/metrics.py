"""Prometheus metrics for the daemon (prometheus-client), off by default, localhost by default.

Counters and gauges are read from the daemon's own counters at scrape time (a collector
calling :data:`StatsFn`), so nothing is counted twice; latencies are histograms observed as
they happen. The registry is private (no process/platform default collectors), which keeps
the endpoint small and lets tests start several daemons in one process.

prometheus-client (and the HTTP server it brings) is imported only when metrics are on:
``Metrics(stats, enabled=False)`` has histograms whose ``observe`` does nothing, so a
daemon without metrics pays neither the import nor the bookkeeping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from visionedge.config import MetricsConfig
from visionedge.errors import ConfigError

__all__ = ["COUNTERS", "GAUGES", "Metrics", "StatsFn"]

log = logging.getLogger(__name__)

StatsFn = Callable[[], Mapping[str, Any]]

COUNTERS: dict[str, str] = {
    "frames": "Frames analysed.",
    "gate_open_frames": "Frames seen while the motion gate was open.",
    "dropped_frames": "Frames dropped because analysis was slower than capture (latest wins).",
    "events": "Events started.",
    "messages": "Event messages (start/update/end) produced.",
    "classifications": "Classifier runs.",
    "spool_dropped": "Events dropped from the spool (size/age bound or full disk).",
    "reconnects": "MQTT reconnections after a lost connection.",
    "connect_failures": "Failed MQTT connection attempts.",
    "control_rejected": "Rejected MQTT control commands.",
    "control_ok": "Accepted MQTT control commands.",
    "broker_rejected": "Events the broker acknowledged with an error (MQTT 5, e.g. ACL).",
    "response_topics_refused": "MQTT 5 response topics outside the reply namespace, ignored.",
    "reloads": "Configuration reloads (SIGHUP) applied.",
    "reload_failures": "Configuration reloads refused (invalid new config).",
}
"""Counter name (without prefix/suffix) -> help text; values come from the stats function."""

GAUGES: dict[str, str] = {
    "gate_open_ratio": "Fraction of frames with the gate open since start.",
    "spool_depth": "Events waiting in the spool for a broker acknowledgement.",
    "spool_bytes": "Bytes held by the spool.",
    "mqtt_connected": "1 while connected to the broker.",
    "fps": "Frames analysed per second over the last stats interval.",
}

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class Observer(Protocol):
    """The part of a Prometheus histogram the daemon uses."""

    def observe(self, amount: float) -> None:
        """Record one value."""
        ...


class _Off:
    """A histogram of a daemon without metrics: records nothing."""

    def observe(self, amount: float) -> None:
        """Do nothing."""


def _collector(stats: StatsFn) -> Any:
    """A collector reading the daemon's counters at scrape time (prometheus imported here)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
    from prometheus_client.registry import Collector

    class StatsCollector(Collector):
        def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
            values = stats()
            for name, doc in COUNTERS.items():
                fam = CounterMetricFamily(f"visionedge_{name}", doc)
                fam.add_metric([], float(values.get(name, 0) or 0))
                yield fam
            for name, doc in GAUGES.items():
                g = GaugeMetricFamily(f"visionedge_{name}", doc)
                g.add_metric([], float(values.get(name, 0) or 0))
                yield g

    return StatsCollector()


class Metrics:
    """The daemon's metrics: a private registry, latency histograms and an optional endpoint."""

    def __init__(self, stats: StatsFn, *, enabled: bool = True) -> None:
        self._server: Any = None
        self.registry: Any = None
        self.gate_seconds: Observer = _Off()
        self.classify_seconds: Observer = _Off()
        self.frame_to_publish_seconds: Observer = _Off()
        if not enabled:
            return
        from prometheus_client import CollectorRegistry, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(_collector(stats))
        self.gate_seconds = Histogram(
            "visionedge_gate_seconds", "Motion gate time per frame.",
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.classify_seconds = Histogram(
            "visionedge_classify_seconds", "Classifier time per run.",
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.frame_to_publish_seconds = Histogram(
            "visionedge_frame_to_publish_seconds",
            "From frame capture to the broker's acknowledgement of the event it caused.",
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )

    def serve(self, cfg: MetricsConfig) -> None:
        """Start the HTTP endpoint if ``metrics.enabled``; ConfigError if the port is taken."""
        if not cfg.enabled or self.registry is None:
            return
        from prometheus_client import start_http_server

        try:
            self._server, _thread = start_http_server(cfg.port, addr=cfg.host, registry=self.registry)
        except OSError as exc:
            raise ConfigError(
                f"metrics: cannot listen on {cfg.host}:{cfg.port} ({exc.strerror or exc}); "
                "choose another metrics.port or set metrics.enabled = false"
            ) from None
        log.info("metrics: serving Prometheus metrics on http://%s:%d/metrics", cfg.host, cfg.port)

    def close(self) -> None:
        """Stop the endpoint."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
