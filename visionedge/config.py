"""The one configuration model: a TOML file validated by pydantic, unknown keys rejected.

Every field has a description and a default that works, so an empty file is a valid config
(it replays the generated demo clip). Types are strict: ``true`` is not a number, ``"3"`` is
not an integer, and non-finite numbers (``inf``, ``nan``) are refused everywhere (they
would not survive a JSON round trip). A file is at most :data:`MAX_CONFIG_BYTES` and its
arrays/tables nest at most :data:`MAX_NESTING` deep. :func:`load_config` turns every problem into a
:class:`~visionedge.errors.ConfigError` naming the file, the dotted key and what is allowed;
:func:`default_config_toml` renders the commented defaults for ``visionedge config defaults``.
The firmware header generator reads the same model, so Linux and MCU share one schema.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from visionedge.errors import ConfigError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_NESTING",
    "ClassifierConfig",
    "Config",
    "DaemonConfig",
    "DeviceConfig",
    "EventsConfig",
    "GateConfig",
    "MetricsConfig",
    "MqttConfig",
    "ObjectFilter",
    "ObjectZoneConfig",
    "ObjectsConfig",
    "OutputConfig",
    "RecordingConfig",
    "SourceConfig",
    "SpoolConfig",
    "TamperConfig",
    "WebConfig",
    "ZoneConfig",
    "default_config_toml",
    "load_config",
    "parse_config",
]

MAX_CONFIG_BYTES = 1024 * 1024
"""A config file larger than this is refused (a real one is a few KiB)."""

MAX_NESTING = 16
"""Arrays and tables nest at most this deep (a polygon list is 3 deep)."""


def _array_as_tuple(value: Any) -> Any:
    # TOML and JSON have arrays, not tuples; the items are still validated strictly.
    return tuple(value) if isinstance(value, list) else value


Point = Annotated[tuple[float, float], BeforeValidator(_array_as_tuple)]
Range = Annotated[tuple[float, float], BeforeValidator(_array_as_tuple)]

_TOPIC_PREFIX = r"^[^#+\x00]{1,128}$"
"""A topic prefix: no MQTT wildcards (they are valid in filters, never in topic names)."""

_HOST = r"^[A-Za-z0-9._:\[\]%-]{1,253}$"
"""A host name, an IPv4 address or an IPv6 address (optionally in brackets)."""


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, frozen=False, strict=True, allow_inf_nan=False
    )


def _check_polygon(poly: list[Point], what: str) -> list[Point]:
    if len(poly) < 3:
        raise ValueError(f"{what} needs at least 3 [x, y] points, got {len(poly)}")
    for x, y in poly:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) or math.isnan(x) or math.isnan(y):
            raise ValueError(
                f"{what} point [{x}, {y}] is outside the frame; use normalised coordinates 0..1"
            )
    # Shoelace area: a degenerate polygon (all points on a line) masks nothing.
    area = 0.0
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        area += x1 * y2 - x2 * y1
    if abs(area) < 1e-9:
        raise ValueError(f"{what} has zero area; its points must not all lie on one line")
    return poly


CLOSE_AFTER_S = 0.15
"""Default ``gate.close_after_s``: chosen on real clips (docs/gate.md, "Closing")."""


def _refuse_renamed(data: Any, section: str, renamed: dict[str, tuple[str, float]]) -> Any:
    """Name the new key when a config still uses a frame-count key that became seconds."""
    if isinstance(data, dict):
        for old, (new, example) in renamed.items():
            if old in data:
                raise ValueError(
                    f"{section}.{old} (frames) was replaced by {section}.{new} (seconds, "
                    f"converted with the source's frame rate); write e.g. {new} = {example}"
                )
    return data


class DeviceConfig(_Model):
    """Who this daemon is: names used in event payloads and MQTT topics."""

    name: str = Field(
        "visionedge",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Device id: the MQTT topic level and Home Assistant device id "
        "(letters, digits, _ and -).",
    )
    camera: str = Field(
        "cam0",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Camera name reported in every event.",
    )


class SourceConfig(_Model):
    """Where frames come from."""

    kind: Literal["synth", "file", "images", "opencv", "picamera2"] = Field(
        "synth",
        description="synth: the generated demo clip; file: a video file; images: a folder of "
        "images (sorted by name); opencv: a V4L2 device index/path or an RTSP/HTTP URL; "
        "picamera2: a Raspberry Pi camera (needs the picamera extra).",
    )
    path: str = Field(
        "",
        description="For file/images: the clip or folder. For opencv: a device index ('0'), a "
        "device path ('/dev/video0') or a URL ('rtsp://...').",
    )
    width: int = Field(640, ge=16, le=7680, description="Requested capture width (live sources).")
    height: int = Field(480, ge=16, le=4320, description="Requested capture height (live sources).")
    fps: float = Field(
        10.0,
        gt=0,
        le=240,
        description="Capture rate for live sources; for images and for clips that do not "
        "state a rate, the rate replay timestamps are derived from.",
    )
    realtime: bool = Field(
        False,
        description="Replay sources only: pace frames at the clip's rate instead of as fast "
        "as possible.",
    )
    read_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="A live read that takes longer counts as a stall; the source is reopened.",
    )
    reconnect_initial_s: float = Field(
        0.5, gt=0, le=60, description="First wait before reopening a lost live source."
    )
    reconnect_max_s: float = Field(
        30.0, gt=0, le=600, description="Cap of the exponential reconnect backoff."
    )
    lores_width: int = Field(
        320,
        ge=16,
        le=1920,
        description="picamera2 only: width of the lores YUV420 stream the gate reads.",
    )

    @model_validator(mode="after")
    def _needs_path(self) -> SourceConfig:
        if self.kind in ("file", "images", "opencv") and not self.path:
            raise ValueError(f"source.kind = '{self.kind}' needs source.path")
        return self


class ZoneConfig(_Model):
    """A named region of the frame; events report which zones moved."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Zone name.")
    polygon: list[Point] = Field(
        ..., description="Polygon as [[x, y], ...] in normalised coordinates (0..1)."
    )

    @field_validator("polygon")
    @classmethod
    def _poly(cls, v: list[Point]) -> list[Point]:
        return _check_polygon(v, "zone polygon")


class TamperConfig(_Model):
    """Camera tamper detection: covered, blinded, defocused, or turned away."""

    enabled: bool = Field(True, description="Detect tamper at all.")
    check_every_s: float = Field(
        1.0,
        gt=0,
        le=3600,
        description="Run the (costlier) tamper checks this often, in seconds (converted to "
        "whole frames, at least 1, with the source's frame rate).",
    )
    dark_level: int = Field(
        16, ge=0, le=255, description="Mean plane brightness at or below this counts as dark."
    )
    flat_std: float = Field(
        4.0, ge=0, le=128, description="Plane standard deviation below this counts as flat."
    )
    focus_min: float = Field(
        8.0,
        ge=0,
        description="Laplacian variance below this counts as out of focus (0 disables).",
    )
    persist_s: float = Field(
        2.0,
        gt=0,
        le=86400,
        description="A tamper condition must hold this many seconds before it is reported "
        "(and be absent as long before it clears); converted to frames with the source's "
        "frame rate.",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return _refuse_renamed(
            data,
            "gate.tamper",
            {"check_every": ("check_every_s", 1.0), "persist_frames": ("persist_s", 2.0)},
        )


class GateConfig(_Model):
    """The motion gate: frame differencing on a downscaled gray plane."""

    width: int = Field(
        320,
        ge=16,
        le=1920,
        description="Target width of the motion plane; the source image is box-downscaled by "
        "the whole factor nearest to source_width / width.",
    )
    blur: bool = Field(True, description="3x3 Gaussian blur before differencing (sensor noise).")
    reference: Literal["previous", "background", "both"] = Field(
        "background",
        description="Difference against the previous frame, a slowly updated background, or "
        "both (a pixel changed only if it differs from both).",
    )
    background_step: int = Field(
        1,
        ge=1,
        le=64,
        description="Background learning rate: each frame moves every background pixel at "
        "most this many grey levels towards the new frame.",
    )
    pixel_threshold: int = Field(
        15, ge=1, le=254, description="A pixel counts as changed when |difference| exceeds this."
    )
    start_pct: float = Field(
        0.3,
        gt=0,
        le=100,
        description="A frame counts as moving when at least this percentage of (unmasked) "
        "pixels changed.",
    )
    stop_pct: float = Field(
        0.15,
        ge=0,
        le=100,
        description="While open, a frame below this percentage counts as quiet (hysteresis; "
        "must not exceed start_pct).",
    )
    k: int = Field(2, ge=1, le=64, description="Open when at least k of the last n frames moved.")
    n: int = Field(3, ge=1, le=64, description="Window length for the k-of-n opening rule.")
    close_after_s: float = Field(
        CLOSE_AFTER_S,
        gt=0,
        le=3600,
        description="Close after this many seconds of consecutive quiet frames (converted to "
        "whole frames, at least 1, with the source's frame rate).",
    )
    global_pct: float = Field(
        50.0,
        gt=0,
        le=100,
        description="More than this percentage changing at once is a lighting/IR/exposure "
        "change, not motion: the gate re-baselines instead of opening.",
    )
    exposure_jump: float = Field(
        0.4,
        gt=0,
        description="Re-baseline when ExposureTime x AnalogueGain (camera metadata) changes by "
        "more than this factor in log2 units between frames.",
    )
    min_region_pct: float = Field(
        0.05,
        ge=0,
        le=100,
        description="Motion regions smaller than this percentage of the frame are dropped.",
    )
    masks: list[list[Point]] = Field(
        default_factory=list,
        description="Ignored areas: polygons as [[x, y], ...] in normalised coordinates.",
    )
    zones: list[ZoneConfig] = Field(
        default_factory=list, description="Named zones; events list the zones that moved."
    )
    tamper: TamperConfig = Field(default_factory=TamperConfig, description="Tamper detection.")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return _refuse_renamed(data, "gate", {"close_after": ("close_after_s", CLOSE_AFTER_S)})

    @field_validator("masks")
    @classmethod
    def _masks(cls, v: list[list[Point]]) -> list[list[Point]]:
        for poly in v:
            _check_polygon(poly, "mask polygon")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> GateConfig:
        if self.k > self.n:
            raise ValueError(f"gate.k ({self.k}) must not exceed gate.n ({self.n})")
        if self.stop_pct > self.start_pct:
            raise ValueError(
                f"gate.stop_pct ({self.stop_pct}) must not exceed gate.start_pct ({self.start_pct})"
            )
        if self.global_pct <= self.start_pct:
            raise ValueError(
                f"gate.global_pct ({self.global_pct}) must exceed gate.start_pct ({self.start_pct})"
            )
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise ValueError("gate.zones names must be unique")
        return self


class ClassifierConfig(_Model):
    """The int8 TFLite classifier that looks at what moved."""

    enabled: bool = Field(True, description="Classify at all (off: events carry no label).")
    model: str = Field(
        "",
        description="A preset name (visionedge model list) or a path to a .tflite model (with "
        "a card.json beside it, its settings apply); empty uses the default preset "
        "(person_vehicle_animal), or the demo preset for the generated demo clip.",
    )
    labels: str = Field(
        "",
        description="Path to labels.txt (one label per line, line index = output index); "
        "empty uses the labels next to the model.",
    )
    backend: Literal["auto", "ai_edge_litert", "tflite_runtime", "tensorflow"] = Field(
        "auto",
        description="TFLite runtime: auto tries ai_edge_litert, tflite_runtime, tensorflow.",
    )
    num_threads: int = Field(1, ge=1, le=64, description="Interpreter threads.")
    xnnpack: bool = Field(
        False,
        description="Use the runtime's XNNPACK delegate: faster, but 8-bit outputs may differ "
        "in the last bit from the builtin kernels, so scores then depend on runtime and CPU "
        "(off: every backend gives identical scores and replays stay reproducible).",
    )
    input_range: Range | None = Field(
        None,
        description="Real-value range the model was trained on, e.g. [0, 1] or [-1, 1]; used "
        "when the model has no metadata saying so. Default (unset): [0, 1].",
    )
    mean: list[float] | None = Field(
        None, description="Per-channel mean (0..255 pixel units); use with std instead of input_range."
    )
    std: list[float] | None = Field(
        None, description="Per-channel std (0..255 pixel units); use with mean."
    )
    top_k: int = Field(3, ge=1, le=100, description="Predictions kept per classification.")
    threshold: float = Field(
        0.5, ge=0, le=1, description="Minimum score for a label to count (unless overridden)."
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Per-label minimum score, e.g. {person = 0.6}."
    )
    ignore: list[str] = Field(
        default_factory=lambda: ["background"],
        description="Labels never reported (e.g. the model's background class).",
    )
    label_map: dict[str, list[str]] | None = Field(
        None,
        description="User label -> model labels whose scores add up to it, e.g. {vehicle = "
        "[\"car\", \"bus\"]}; events carry the user label and the model's own top label. "
        "Unset: the model card's map (presets map to person, vehicle, animal); {} turns it off.",
    )
    every_n_frames: int = Field(
        5, ge=1, le=10000, description="While an event is open, classify at most every N frames."
    )
    max_per_event: int = Field(
        20, ge=1, le=100000, description="Classify at most this many frames per event."
    )
    margin: float = Field(
        0.15, ge=0, le=2, description="Grow the motion box by this fraction before cropping."
    )
    output: Literal["auto", "probabilities", "logits"] = Field(
        "auto",
        description="How to read the model's output: probabilities are reported as they are, "
        "logits get a softmax first; auto decides from the output's quantization range "
        "(float outputs: from one inference on a gray image).",
    )

    @field_validator("thresholds")
    @classmethod
    def _thr(cls, v: dict[str, float]) -> dict[str, float]:
        for label, t in v.items():
            if not 0.0 <= t <= 1.0:
                raise ValueError(f"threshold for '{label}' is {t}; scores are 0..1")
        return v

    @model_validator(mode="after")
    def _norm(self) -> ClassifierConfig:
        if (self.mean is None) != (self.std is None):
            raise ValueError("classifier.mean and classifier.std go together")
        if self.input_range is not None and self.mean is not None:
            raise ValueError("set classifier.input_range or classifier.mean/std, not both")
        if self.input_range is not None and not self.input_range[0] < self.input_range[1]:
            raise ValueError("classifier.input_range must be [min, max] with min < max")
        if self.std is not None and any(s <= 0 for s in self.std):
            raise ValueError("classifier.std values must be > 0")
        return self


class EventsConfig(_Model):
    """How gate output becomes start/update/end events."""

    update_every: int = Field(
        10,
        ge=1,
        le=100000,
        description="Emit an update at most every N frames while an event is open (and when "
        "its label or zones change).",
    )
    max_duration_s: float = Field(
        300.0,
        gt=0,
        description="End (and restart) an event that stays open longer than this.",
    )
    min_frames: int = Field(
        1,
        ge=1,
        le=10000,
        description="Events shorter than this many frames still end, but are marked short.",
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
class ObjectFilter(_Model):
    """Filters for one label (Frigate's ``filters``): an object counts only inside them."""

    min_score: float = Field(
        0.0, ge=0.0, le=1.0, description="Voted label score needed before the object counts."
    )
    min_area_pct: float = Field(
        0.0, ge=0.0, le=100.0, description="Smallest box (percent of the frame) that counts."
    )
    max_area_pct: float = Field(
        100.0, gt=0.0, le=100.0, description="Largest box (percent of the frame) that counts."
    )


class ObjectZoneConfig(_Model):
    """Per-object rules for one of the ``gate.zones`` (looked up by name)."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_-]{1,32}$", description="A gate.zones name.")
    labels: list[str] = Field(
        default_factory=list,
        description="Only objects with one of these voted labels count as in the zone "
        "(empty: every object).",
    )


class ObjectsConfig(_Model):
    """Per-object tracking and events (the default); ``mode = "motion"`` keeps one event per
    motion period.

    The firmware ports the tracker and the object events byte for byte (docs/gate-algorithm.md
    §7); its default mode is this one (``ve::kDefaultObjectMode``, checked by tests/firmware).
    """

    mode: Literal["motion", "object", "both"] = Field(
        "object",
        description="object: one event per tracked object; motion: one event per motion "
        "period; both: the two streams side by side (all three with firmware parity).",
    )
    min_hits: int = Field(
        3, ge=1, le=100, description="Frames an object must be seen before it gets an id."
    )
    coast_frames: int = Field(
        5,
        ge=0,
        le=1000,
        description="Frames an unseen object's position is predicted forward (constant "
        "velocity) before it is held in place.",
    )
    lost_s: float = Field(
        1.5, gt=0, le=3600, description="An unseen moving object ends after this long."
    )
    merge_frames: int = Field(
        30,
        ge=0,
        le=10000,
        description="Frames objects hidden in one merged motion region keep being predicted.",
    )
    stationary_after_s: float = Field(
        10.0,
        gt=0,
        le=86400,
        description="An object that stays in place this long is reported stationary (once).",
    )
    stationary_max_s: float = Field(
        3600.0,
        gt=0,
        le=86400 * 7,
        description="A stationary object no longer seen moving ends after this long.",
    )
    max_objects: int = Field(
        64, ge=1, le=1024, description="Tracked objects at most (the firmware's fixed table)."
    )
    classify_per_frame: int = Field(
        1,
        ge=0,
        le=64,
        description="Objects classified per frame at most (on top of classifier.every_n_frames "
        "and classifier.max_per_event, which count per object).",
    )
    labels: list[str] = Field(
        default_factory=list,
        description="Only objects voted one of these labels count (empty: every object, "
        "labelled or not).",
    )
    filters: dict[str, ObjectFilter] = Field(
        default_factory=dict, description="Per-label filters, keyed by label ('*': any object)."
    )
    zones: list[ObjectZoneConfig] = Field(
        default_factory=list, description="Per-zone label rules for gate.zones."
    )
    required_zones: list[str] = Field(
        default_factory=list,
        description="An object counts once it enters one of these gate.zones (empty: at once).",
    )
    min_travel: float = Field(
        0.5,
        ge=0.0,
        le=100.0,
        description="An object counts once it travelled this many half box sizes ((w + h) / 2), "
        "summing only steady shifts of both box edges: swaying trees, flicker and ghosts "
        "left by the background model do not travel.",
    )
    min_travel_pct: float = Field(
        5.0,
        ge=0.0,
        le=200.0,
        description="...and at least this far as a share of the frame (|dx|/width + "
        "|dy|/height, percent).",
    )
    path_points: int = Field(
        16, ge=2, le=256, description="Points kept in an event's path summary at most."
    )


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


class Config(_Model):
    """The whole visionedge configuration."""

    device: DeviceConfig = Field(default_factory=DeviceConfig, description="Device identity.")
    source: SourceConfig = Field(default_factory=SourceConfig, description="Frame source.")
    gate: GateConfig = Field(default_factory=GateConfig, description="Motion gate.")
    classifier: ClassifierConfig = Field(
        default_factory=ClassifierConfig, description="Classifier."
    )
    events: EventsConfig = Field(default_factory=EventsConfig, description="Event tracking.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Local outputs.")
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="MQTT publishing.")
    spool: SpoolConfig = Field(default_factory=SpoolConfig, description="Store-and-forward.")
    daemon: DaemonConfig = Field(default_factory=DaemonConfig, description="Service behaviour.")
    metrics: MetricsConfig = Field(default_factory=MetricsConfig, description="Metrics.")
    recording: RecordingConfig = Field(
        default_factory=RecordingConfig, description="Event recordings."
    )
    objects: ObjectsConfig = Field(
        default_factory=ObjectsConfig, description="Per-object tracking and events."
    )
    web: WebConfig = Field(default_factory=WebConfig, description="Web page.")

    @model_validator(mode="after")
    def _object_zones(self) -> Config:
        known = {z.name for z in self.gate.zones}
        for name in [z.name for z in self.objects.zones] + self.objects.required_zones:
            if name not in known:
                raise ValueError(
                    f"objects zone {name!r} is not one of gate.zones ({', '.join(sorted(known)) or 'none'}); "
                    "define it under [[gate.zones]] first"
                )
        return self


def _describe(loc: tuple[Any, ...]) -> str:
    """The description of the field at ``loc`` (list indices skipped)."""
    model: Any = Config
    desc = "see `visionedge config defaults`"
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or fields is None or part not in fields:
            continue
        field = fields[part]
        desc = field.description or desc
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return desc


def _format_error(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    msg = str(err.get("msg", "invalid"))
    kind = err.get("type", "")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "extra_forbidden":
        msg = "unknown key; see `visionedge config defaults` for the keys allowed here"
    elif kind == "string_pattern_mismatch":
        # The regular expression means little to a user; the field's description says it.
        msg = f"invalid value; expected: {_describe(err.get('loc', ()))}"
    if kind != "extra_forbidden" and "input" in err and kind not in ("missing",):
        inp = err["input"]
        if not isinstance(inp, dict):
            got = repr(inp)
            msg = f"{msg} (got {got[:80]}{'...' if len(got) > 80 else ''})"
    return f"{loc}: {msg}" if loc else msg


def nesting_depth(value: Any, limit: int = MAX_NESTING) -> int:
    """How deep lists and dicts nest in ``value``; stops counting past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((c, depth) for c in children)
    return deepest


def parse_config(data: dict[str, Any], origin: str = "<config>") -> Config:
    """Validate a parsed TOML mapping; raise ConfigError naming ``origin`` and the first bad key."""
    if nesting_depth(data) > MAX_NESTING:
        raise ConfigError(
            f"{origin}: arrays or tables nest more than {MAX_NESTING} deep; no setting needs that"
        )
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = _format_error(errors[0])
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(f"{origin}: {first}{more}") from exc


def load_config(path: str | Path | None) -> Config:
    """Read and validate a TOML config file; ``None`` gives the defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{p}: {p.stat().st_size} bytes is too large for a config file (at most "
                f"{MAX_CONFIG_BYTES}); check that it is the right file"
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{p}: config file not found; create one with `visionedge config defaults > {p.name}`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file ({exc.strerror}); check permissions") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text; save it as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(
            f"{p}: arrays or tables nest more than {MAX_NESTING} deep; no setting needs that"
        ) from None
    return parse_config(data, str(p))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def _render(model: type[BaseModel], instance: BaseModel, prefix: str, out: list[str]) -> None:
    nested: list[tuple[str, type[BaseModel], BaseModel]] = []
    for name, field in model.model_fields.items():
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            nested.append((name, type(value), value))
            continue
        desc = field.description or ""
        out.append(f"# {desc}")
        if value is None:
            out.append(f"# {name} =")
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            out.append(f"# {name}: see the documentation")
        else:
            dumped = instance.model_dump(mode="json")[name]
            out.append(f"{name} = {_toml_value(dumped)}")
    for name, sub_model, sub in nested:
        section = f"{prefix}.{name}" if prefix else name
        out.append("")
        doc = (sub_model.__doc__ or "").strip().splitlines()[0]
        out.append(f"[{section}]")
        out.append(f"# {doc}")
        _render(sub_model, sub, section, out)


def default_config_toml() -> str:
    """Render the default configuration as commented TOML (parses back to the defaults)."""
    out = [
        "# visionedge configuration. Every key is optional; these are the defaults.",
        "# Check a file with: visionedge config check FILE",
    ]
    _render(Config, Config(), "", out)
    # Zones are an array of tables; show the shape as a comment so the output stays valid.
    out += [
        "",
        "# Named zones (repeat the block per zone):",
        "# [[gate.zones]]",
        '# name = "driveway"',
        "# polygon = [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]",
    ]
    return "\n".join(out) + "\n"


