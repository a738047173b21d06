"""Config sections for what is watched: device identity, frame source, the gate (zones, tamper)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from visionedge.config._base import (
    CLOSE_AFTER_S,
    Point,
    _check_polygon,
    _Model,
    _refuse_renamed,
)


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
        description="Laplacian variance below this counts as out of focus (0 disables), when it "
        "is also below focus_ratio times the plane's brightness variance.",
    )
    focus_ratio: float = Field(
        0.03,
        ge=0,
        description="Out of focus also needs the Laplacian variance below this share of the "
        "brightness variance: a dim night scene has little detail because it has little "
        "contrast, not because it is blurred (0: focus_min alone decides).",
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
