"""Config sections for labels: the classifier and the motion-event tracker."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from visionedge.config._base import (
    Range,
    _Model,
)


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
