"""Which real-value range a model's input expects, and where that knowledge came from.

A model is trained on pixels scaled to some range ([0, 1], [-1, 1], or mean/std). The
quantized input's scale and zero point only say how that range is stored, so the range
itself must come from somewhere, in this order:

1. ``input_range_override`` (the CLI's ``--input-range``): the user said so for this run;
2. the model's TFLite metadata (``NormalizationOptions``), when it has some;
3. the config: ``classifier.input_range = [min, max]`` or ``classifier.mean``/``std``;
4. the default, [0, 1].

Metadata written by the TFLite metadata writers for *quantized* models often says
mean 0 / std 1, meaning "feed the pixels as they are" (the Task library skips
normalisation for uint8 inputs). A range that the input quantization cannot hold at all is
read that way: pixel p is stored as the p-th step of the quantized range.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from visionedge.config import ClassifierConfig

__all__ = [
    "DEFAULT_RANGE",
    "Normalization",
    "ResolvedNormalization",
    "quantized_range",
    "range_to_normalization",
    "resolve_normalization",
]

log = logging.getLogger(__name__)

DEFAULT_RANGE = (0.0, 1.0)


@dataclass(frozen=True, slots=True)
class Normalization:
    """Per-channel ``real = (pixel - mean) / std``, pixel in 0..255."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def for_channels(self, channels: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Mean and std per channel; a single value applies to every channel."""

        def expand(v: tuple[float, ...], what: str) -> tuple[float, ...]:
            if len(v) == channels:
                return v
            if len(v) == 1:
                return v * channels
            raise ValueError(f"{len(v)} {what} values for a {channels}-channel input")

        return expand(self.mean, "mean"), expand(self.std, "std")

    @property
    def real_range(self) -> tuple[float, float]:
        """The real values pixels 0 and 255 map to (first channel)."""
        m, s = self.mean[0], self.std[0]
        return (0.0 - m) / s, (255.0 - m) / s


@dataclass(frozen=True, slots=True)
class ResolvedNormalization:
    """The normalisation in use and its source: cli, metadata, config, or default."""

    norm: Normalization
    source: str
    note: str = ""


def range_to_normalization(lo: float, hi: float) -> Normalization:
    """The normalisation that maps pixel 0 to ``lo`` and 255 to ``hi``."""
    std = 255.0 / (hi - lo)
    return Normalization(mean=(-lo * std,), std=(std,))


def quantized_range(dtype: str, scale: float, zero_point: int) -> tuple[float, float]:
    """The real values a quantized tensor can hold: ``(qmin - zp) * scale .. (qmax - zp) * scale``."""
    qmin, qmax = (-128, 127) if dtype == "int8" else (0, 255)
    return (qmin - zero_point) * scale, (qmax - zero_point) * scale


def resolve_normalization(
    cfg: ClassifierConfig,
    *,
    metadata: Normalization | None,
    metadata_note: str,
    input_dtype: str,
    input_scale: float,
    input_zero_point: int,
    channels: int,
    override: tuple[float, float] | None = None,
    origin: str = "",
) -> ResolvedNormalization:
    """Pick the normalisation (see the module docstring for the order) and warn on doubts."""
    quantized = input_dtype in ("int8", "uint8")
    qlo, qhi = (
        quantized_range(input_dtype, input_scale, input_zero_point) if quantized else (0.0, 0.0)
    )
    configured = cfg.input_range is not None or cfg.mean is not None
    if override is not None:
        return ResolvedNormalization(range_to_normalization(*override), "cli")
    if metadata is not None:
        if configured:
            log.warning(
                "%s: the model's metadata states its input normalisation; classifier.input_range"
                "/mean/std are ignored",
                origin,
            )
        lo, hi = metadata.real_range
        if quantized and (hi - lo) > 4 * (qhi - qlo):
            # The "pixels as they are" convention of quantized models' metadata.
            return ResolvedNormalization(
                range_to_normalization(qlo, qhi),
                "metadata",
                f"metadata mean/std {metadata.mean}/{metadata.std} on a quantized input: "
                "pixels fed as they are",
            )
        return ResolvedNormalization(metadata, "metadata")
    if cfg.input_range is not None:
        return ResolvedNormalization(range_to_normalization(*cfg.input_range), "config")
    if cfg.mean is not None and cfg.std is not None:
        norm = Normalization(tuple(cfg.mean), tuple(cfg.std))
        return ResolvedNormalization(norm, "config")
    resolved = ResolvedNormalization(
        range_to_normalization(*DEFAULT_RANGE), "default", metadata_note
    )
    if quantized and (qlo < -0.25 or qhi > 1.5 or qhi - qlo < 0.5):
        log.warning(
            "%s: no input range in the model's metadata or the config, so [0, 1] is assumed, "
            "but the input quantization covers [%.3g, %.3g]; if the model was trained on that "
            "range set classifier.input_range = [%.3g, %.3g] (or --input-range %.3g,%.3g)",
            origin,
            qlo,
            qhi,
            qlo,
            round(qhi, 1),
            qlo,
            round(qhi, 1),
        )
    return resolved
