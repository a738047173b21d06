"""Config sections for what goes out and the service: outputs, MQTT, spool, daemon, metrics, recordings, web page."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from visionedge.config._base import (
    _HOST,
    _TOPIC_PREFIX,
    _Model,
)


class OutputConfig(_Model):
    """Local event outputs (MQTT has its own section)."""

    stdout: bool = Field(True, description="Print events as JSON lines on standard output.")
    file: str = Field("", description="Also append events as JSON lines to this file.")


class MqttTlsConfig(_Model):
    """TLS for the broker connection."""

    enabled: bool = Field(False, description="Use TLS.")
    ca_file: str = Field("", description="CA certificate (PEM) that signed the broker's cert.")
    certfile: str = Field("", description="Client certificate (PEM), for mutual TLS.")
    keyfile: str = Field("", description="Client private key (PEM), for mutual TLS.")


class MqttConfig(_Model):
    """Publishing events to an MQTT broker, with store-and-forward."""

    enabled: bool = Field(False, description="Publish to MQTT.")
    host: str = Field(
        "localhost",
        pattern=_HOST,
        description="Broker host name or address (not empty; no scheme, no port).",
    )
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is usual for TLS).")
    protocol: Literal["3.1.1", "5"] = Field("5", description="MQTT protocol version.")
    prefix: str = Field(
        "visionedge",
        pattern=_TOPIC_PREFIX,
        description="Topic prefix: topics are <prefix>/<device.name>/... (no # or +).",
    )
    client_id: str = Field(
        "",
        description="Client id; empty derives a stable one from the device name, so the "
        "broker resumes our session after a reconnect.",
    )
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive interval.")
    username: str = Field("", description="User name; empty for anonymous.")
    password_file: str = Field(
        "",
        description="File holding the password; a bare name is looked up in "
        "$CREDENTIALS_DIRECTORY (systemd LoadCredential). Never put the password in this file.",
    )
    tls: MqttTlsConfig = Field(default_factory=MqttTlsConfig, description="TLS settings.")
    qos: Literal[0, 1, 2] = Field(1, description="QoS of event messages.")
    snapshot: bool = Field(True, description="Publish a JPEG of the event's best frame.")
    snapshot_boxes: bool = Field(True, description="Draw the motion box on snapshots.")
    stats_interval_s: float = Field(
        60.0, ge=0, description="Publish stats every N seconds (0 disables)."
    )
    discovery: bool = Field(True, description="Announce entities via Home Assistant discovery.")
    discovery_prefix: str = Field(
        "homeassistant",
        pattern=_TOPIC_PREFIX,
        description="Home Assistant discovery prefix (a topic prefix: no # or +).",
    )
    reconnect_min_s: float = Field(0.5, gt=0, description="First reconnect delay.")
    reconnect_max_s: float = Field(60.0, gt=0, description="Cap of the reconnect backoff.")
    max_payload_bytes: int = Field(
        65536,
        ge=256,
        le=16 * 1024 * 1024,
        description="Control messages larger than this are rejected (answered, counted).",
    )

    @field_validator("qos", mode="before")
    @classmethod
    def _qos_not_bool(cls, v: Any) -> Any:
        # Literal[0, 1, 2] would take True as 1.
        if isinstance(v, bool):
            raise ValueError("Input should be 0, 1 or 2, not a boolean")
        return v


class SpoolConfig(_Model):
    """The SQLite store-and-forward spool between the tracker and the broker."""

    path: str = Field(
        "",
        description="Spool database; empty puts spool.sqlite3 in daemon.state_dir.",
    )
    max_bytes: int = Field(
        64 * 1024 * 1024, ge=4096, description="Drop the oldest events beyond this size."
    )
    max_age_s: float = Field(
        7 * 24 * 3600.0, gt=0, description="Drop events older than this undelivered."
    )
    synchronous: Literal["full", "normal"] = Field(
        "full",
        description="SQLite synchronous mode: full survives power loss (one fsync per event); "
        "normal survives crashes and kill -9 only, for very high event rates on slow storage.",
    )


class DaemonConfig(_Model):
    """Running as a service."""

    state_dir: str = Field(
        "",
        description="Where state lives (spool); empty uses $STATE_DIRECTORY (systemd) or "
        "./state.",
    )
    watchdog: bool = Field(True, description="Send WATCHDOG=1 to systemd while frames arrive.")
    frame_queue: int = Field(
        2,
        ge=1,
        le=64,
        description="Frames buffered between capture and analysis; when full, the oldest is "
        "dropped (latest wins) and counted.",
    )
    stop_timeout_s: float = Field(
        10.0,
        gt=0,
        le=300,
        description="On SIGTERM, wait at most this long for the broker to acknowledge the "
        "spooled events (the rest stay spooled for the next start).",
    )


class MetricsConfig(_Model):
    """Prometheus metrics endpoint."""

    enabled: bool = Field(False, description="Serve Prometheus metrics.")
    host: str = Field("127.0.0.1", description="Bind address (localhost by default).")
    port: int = Field(9108, ge=1, le=65535, description="Port.")


class RecordingConfig(_Model):
    """Per-event recordings on disk that ``visionedge replay`` reproduces exactly (docs/recordings.md)."""

    enabled: bool = Field(False, description="Record every event (pre-roll + event + post-roll).")
    path: str = Field(
        "",
        description="Folder of the recordings; empty uses <daemon.state_dir>/recordings.",
    )
    pre_roll_s: float = Field(
        2.0,
        ge=0,
        le=60,
        description="Seconds before the event start kept in memory and written with it (the "
        "recording starts at the gate snapshot at or before that, up to keyframe_s earlier).",
    )
    post_roll_s: float = Field(
        2.0, ge=0, le=600, description="Seconds recorded after the last event ended."
    )
    max_s: float = Field(
        300.0,
        gt=0,
        le=86400,
        description="A recording longer than this is cut and the next one starts on the "
        "next frame (both replay exactly).",
    )
    keyframe_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How often the gate and event state are snapshot while idle (a replay "
        "starts at a snapshot).",
    )
    queue_frames: int = Field(
        64,
        ge=1,
        le=10000,
        description="Frames waiting for the writer thread; beyond this, recording frames are "
        "dropped and counted (the gate never waits for the disk).",
    )
    video: Literal["auto", "mp4", "avi"] = Field(
        "auto",
        description="Viewing copy: mp4 (H.264 where the installed OpenCV writes it), avi "
        "(MJPEG), auto: mp4 if H.264 works, else avi.",
    )
    jpeg_quality: int = Field(85, ge=10, le=100, description="Quality of snapshot JPEGs.")
    max_total_mb: float = Field(
        2048.0, gt=0, description="Delete the oldest recordings beyond this total size."
    )
    max_age_h: float = Field(
        168.0, gt=0, description="Delete recordings older than this many hours."
    )
    min_free_mb: float = Field(
        256.0,
        ge=0,
        description="Keep at least this much free space on the recordings' file system: "
        "delete the oldest recordings, and skip new ones while it cannot be kept.",
    )


# -- per-object events (issue 9 §1): one clearly separated block ---------------------------

class WebConfig(_Model):
    """The web page served by the daemon: live view, masks and zones editor, events."""

    enabled: bool = Field(False, description="Serve the web page (needs token_file).")
    host: str = Field(
        "127.0.0.1",
        description="Bind address; 127.0.0.1 keeps the page local, 0.0.0.0 opens it to the network.",
    )
    port: int = Field(8088, ge=1, le=65535, description="TCP port of the page.")
    token_file: str = Field(
        "",
        description="File holding the page's password/token (a path, or a systemd credential "
        "name looked up in $CREDENTIALS_DIRECTORY, like mqtt.password_file); required.",
    )
    read_only: bool = Field(
        False, description="Show everything but refuse changes (masks, zones, reloads)."
    )
    live_fps: float = Field(
        5.0, gt=0, le=30, description="Highest rate of live JPEGs sent to one page."
    )
    jpeg_quality: int = Field(70, ge=10, le=100, description="Quality of the live JPEGs.")
    history: int = Field(
        600, ge=10, le=100000, description="Frames kept for the live changed-% chart."
    )
    dataset: str = Field(
        "",
        description="Folder of a crop dataset (`visionedge dataset collect`: one folder per "
        "class) to review on the Dataset tab; empty: no Dataset tab.",
    )

    @model_validator(mode="after")
    def _token(self) -> WebConfig:
        if self.enabled and not self.token_file:
            raise ValueError(
                "web.enabled needs web.token_file: write a password into a file (chmod 600) "
                "and set web.token_file to its path"
            )
        return self
