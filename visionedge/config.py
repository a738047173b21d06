"""The one configuration model: a TOML file validated by pydantic, unknown keys rejected.

Every field has a description and a default that works, so an empty file is a valid config
(it replays the generated demo clip). :func:`load_config` turns every problem into a
:class:`~visionedge.errors.ConfigError` naming the file, the dotted key and what is allowed;
:func:`default_config_toml` renders the commented defaults for ``visionedge config defaults``.
The firmware header generator reads the same model, so Linux and MCU share one schema.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from visionedge.errors import ConfigError

__all__ = [
    "ClassifierConfig",
    "Config",
    "DaemonConfig",
    "DeviceConfig",
    "EventsConfig",
    "GateConfig",
    "MetricsConfig",
    "MqttConfig",
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

Point = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


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
    check_every: int = Field(
        5, ge=1, le=1000, description="Run the (costlier) tamper checks every N frames."
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
    persist_frames: int = Field(
        15,
        ge=1,
        le=100000,
        description="A tamper condition must hold this many frames before it is reported "
        "(and be absent as long before it clears).",
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
    close_after: int = Field(
        15, ge=1, le=100000, description="Close after this many consecutive quiet frames."
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
        description="Path to a .tflite model; empty uses the shipped demo model.",
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
    input_range: tuple[float, float] | None = Field(
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
    host: str = Field("localhost", description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is usual for TLS).")
    protocol: Literal["3.1.1", "5"] = Field("5", description="MQTT protocol version.")
    prefix: str = Field(
        "visionedge",
        pattern=r"^[^#+]{1,128}$",
        description="Topic prefix: topics are <prefix>/<device.name>/...",
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
        "homeassistant", description="Home Assistant discovery prefix."
    )
    reconnect_min_s: float = Field(0.5, gt=0, description="First reconnect delay.")
    reconnect_max_s: float = Field(60.0, gt=0, description="Cap of the reconnect backoff.")
    max_payload_bytes: int = Field(
        65536, ge=256, description="Control messages larger than this are rejected."
    )


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
    web: WebConfig = Field(default_factory=WebConfig, description="Web page.")


def _format_error(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    msg = str(err.get("msg", "invalid"))
    kind = err.get("type", "")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "extra_forbidden":
        msg = "unknown key; see `visionedge config defaults` for the keys allowed here"
    elif "input" in err and kind not in ("missing",):
        inp = err["input"]
        if not isinstance(inp, dict):
            msg = f"{msg} (got {inp!r})"
    return f"{loc}: {msg}" if loc else msg


def parse_config(data: dict[str, Any], origin: str = "<config>") -> Config:
    """Validate a parsed TOML mapping; raise ConfigError naming ``origin`` and the first bad key."""
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


