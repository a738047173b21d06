"""The firmware spec from a config, and the params file the host and QEMU runners read.

:func:`build_spec` checks a config against what the firmware can do (exit 10 otherwise) and
rasterises its masks and zones with the daemon's own rasteriser for the camera's plane size;
:func:`render_params` writes the small text file one runner binary reads per parity test
(``--format params``); :mod:`visionedge.firmware_config.header` renders the same values as C++.

Bitmaps are bit-packed row-major, LSB first: bit ``i & 7`` of byte ``i >> 3`` is pixel
``i = y * w + x`` (``ve::bitmap_get`` in ``firmware/core/include/ve/gate.h``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visionedge.config import Config
from visionedge.errors import FirmwareError
from visionedge.gate.plane import plane_factor
from visionedge.gate.timing import FrameCounts, frame_counts
from visionedge.objects.geometry import milli, polygon_to_sub

__all__ = [
    "FirmwareSpec",
    "build_spec",
    "min_region_pixels",
    "object_items",
    "pack_bits",
    "plane_size",
    "render_params",
    "scalar_items",
]

PARAMS_MAGIC = "visionedge-firmware-params 1"
MAX_ZONE_POINTS = 32
"""Points per zone polygon the firmware's object zones hold (``VE_MAX_ZONE_POINTS``)."""


@dataclass(frozen=True, slots=True)
class FirmwareSpec:
    """Everything the firmware needs from the config, for one motion-plane size."""

    config: Config
    plane_w: int
    plane_h: int
    mask: npt.NDArray[np.uint8] | None
    zones: tuple[tuple[str, npt.NDArray[np.uint8]], ...]
    counts: FrameCounts


def plane_size(frame_w: int, frame_h: int, gate_width: int) -> tuple[int, int]:
    """Motion-plane size for a camera frame (docs/gate-algorithm.md §1)."""
    if frame_w < 1 or frame_h < 1:
        raise FirmwareError(f"frame size {frame_w}x{frame_h} is not positive; pass --frame WxH")
    f = plane_factor(frame_w, gate_width)
    w, h = frame_w // f, frame_h // f
    if w < 1 or h < 1:
        raise FirmwareError(
            f"frame {frame_w}x{frame_h} is smaller than one {f}x{f} block; lower gate.width"
        )
    return w, h


def pack_bits(bitmap: npt.NDArray[np.uint8]) -> bytes:
    """Pack a 0/1 bitmap row-major, LSB first (the firmware's ``bitmap_get`` order)."""
    flat = (np.asarray(bitmap).reshape(-1) != 0).astype(np.uint8)
    return bytes(np.packbits(flat, bitorder="little"))


def build_spec(
    config: Config, plane_w: int, plane_h: int, fps: float | None = None
) -> FirmwareSpec:
    """Rasterise the config's masks and zones for a ``plane_w x plane_h`` plane.

    The gate's seconds become frame counts at ``fps`` (default ``source.fps``, the rate the
    board's camera is set to): the firmware counts frames.
    """
    from visionedge.gate.masks import rasterize_polygons

    _check_vote(config)
    rate = config.source.fps if fps is None else fps
    if not (math.isfinite(rate) and 0 < rate <= 1000):
        raise FirmwareError(f"frame rate {rate!r} is not in (0, 1000]; pass --fps like 15")

    if plane_w < 1 or plane_h < 1:
        raise FirmwareError(f"plane size {plane_w}x{plane_h} is not positive; pass --plane WxH")
    gate = config.gate
    if len(gate.zones) > 32:
        raise FirmwareError(
            f"{len(gate.zones)} zones configured; the firmware reports at most 32 (one bit each)"
        )
    for z in gate.zones:
        if len(z.polygon) > MAX_ZONE_POINTS:
            raise FirmwareError(
                f"zone {z.name!r} has {len(z.polygon)} points; the firmware's object zones hold at "
                f"most {MAX_ZONE_POINTS} (VE_MAX_ZONE_POINTS): simplify the polygon"
            )
    mask = None
    if gate.masks:
        mask = rasterize_polygons([list(map(list, p)) for p in gate.masks], plane_w, plane_h)
    zones = tuple(
        (z.name, rasterize_polygons([list(map(list, z.polygon))], plane_w, plane_h))
        for z in gate.zones
    )
    return FirmwareSpec(config, plane_w, plane_h, mask, zones, frame_counts(gate, rate))


def _check_vote(config: Config) -> None:
    """Refuse a ``classifier.model`` the board cannot run as the daemon does.

    The board runs one TFLite classifier (not a head, segmenter or cascade preset).

    The board's events vote with the plain mean vote only (``ve/events.h``); a card asking
    more (``vote.min_agree`` > 1 or a ``vote.min_share``, e.g. the Pi cascade) would label the board's events
    differently from the daemon's; so would a card's per-label still bars
    (``objects.still_min_score``). An empty ``model`` names no card here: the board runs the
    model it was built with (``VE_MODEL_CARD``).
    """
    c = config.classifier
    if not (c.enabled and c.model.strip()):
        return
    from visionedge.classify.presets import MCU_PRESET, resolve_model

    card = resolve_model(c.model).card
    if card is not None and not card.plain_vote:
        raise FirmwareError(
            f"classifier.model '{c.model}' votes with min_agree {card.min_agree}"
            + (f" and min_share {card.min_share:g}" if card.min_share else "")
            + f", which the firmware does not implement (plain vote only); use a model whose "
            f"card has min_agree 1 and no min_share, e.g. '{MCU_PRESET}'"
        )
    if card is not None and card.object_still_min_score:
        raise FirmwareError(
            f"classifier.model '{c.model}' sets per-label still bars (objects.still_min_score "
            f"in its card), which the firmware does not implement (objects.still_min_score "
            f"for every label); use a card without them, e.g. '{MCU_PRESET}'"
        )
    if card is not None and card.kind != "classifier":
        # A head's weights, a segmenter's per-pixel answer and a cascade's several models
        # are Python-side stages; the board runs one TFLite classifier through TFLM.
        raise FirmwareError(
            f"classifier.model '{c.model}' is a {card.kind} preset, which the firmware does "
            f"not run (one TFLite classifier per board); use a classifier preset, e.g. "
            f"'{MCU_PRESET}'"
        )


def _flag(value: bool) -> str:
    return "1" if value else "0"


def scalar_items(spec: FirmwareSpec) -> list[tuple[str, str]]:
    """The (key, value) pairs shared by the header and the params file, values as C literals."""
    g = spec.config.gate
    t = g.tamper
    e = spec.config.events
    n = spec.counts
    return [
        ("plane_w", str(spec.plane_w)),
        ("plane_h", str(spec.plane_h)),
        ("blur", _flag(g.blur)),
        ("reference", g.reference),
        ("background_step", str(g.background_step)),
        ("pixel_threshold", str(g.pixel_threshold)),
        ("start_pct", repr(float(g.start_pct))),
        ("stop_pct", repr(float(g.stop_pct))),
        ("k", str(g.k)),
        ("n", str(g.n)),
        ("close_after", str(n.close_after)),
        ("global_pct", repr(float(g.global_pct))),
        ("exposure_jump", repr(float(g.exposure_jump))),
        ("tamper_enabled", _flag(t.enabled)),
        ("tamper_check_every", str(n.check_every)),
        ("tamper_dark_level", str(t.dark_level)),
        ("tamper_flat_std", repr(float(t.flat_std))),
        ("tamper_focus_min", repr(float(t.focus_min))),
        ("tamper_focus_ratio", repr(float(t.focus_ratio))),
        ("tamper_persist_frames", str(n.persist_frames)),
        ("device", spec.config.device.name),
        ("camera", spec.config.device.camera),
        ("events_update_every", str(e.update_every)),
        ("events_max_duration_s", repr(float(e.max_duration_s))),
        ("events_min_frames", str(e.min_frames)),
        ("min_region_px", str(min_region_pixels(spec))),
        ("classify_margin", repr(float(spec.config.classifier.margin))),
        ("classify_every_n_frames", str(spec.config.classifier.every_n_frames)),
        ("classify_max_per_event", str(spec.config.classifier.max_per_event)),
        *object_items(spec),
    ]


def object_items(spec: FirmwareSpec) -> list[tuple[str, str]]:
    """The ``[objects]`` scalars (docs/gate-algorithm.md §7): seconds and percentages as the
    integers ``milli()`` makes of them, so the firmware never rounds a double itself."""
    o = spec.config.objects
    return [
        ("obj_mode", o.mode),
        ("obj_min_hits", str(o.min_hits)),
        ("obj_coast_frames", str(o.coast_frames)),
        ("obj_lost_ms", str(milli(o.lost_s))),
        ("obj_merge_frames", str(o.merge_frames)),
        ("obj_stationary_after_ms", str(milli(o.stationary_after_s))),
        ("obj_stationary_max_ms", str(milli(o.stationary_max_s))),
        ("obj_max_objects", str(o.max_objects)),
        ("obj_classify_per_frame", str(o.classify_per_frame)),
        ("obj_settle_after", str(o.settle_after)),
        ("obj_recheck_ms", str(milli(o.recheck_s))),
        ("obj_backoff_after", str(o.backoff_after)),
        ("obj_min_travel_m", str(milli(o.min_travel))),
        ("obj_min_travel_pct_m", str(milli(o.min_travel_pct))),
        ("obj_still_min_score", repr(float(o.still_min_score))),
        ("obj_still_min_votes", str(o.still_min_votes)),
        ("obj_path_points", str(o.path_points)),
    ]


def _object_lines(spec: FirmwareSpec) -> list[str]:
    """The ``[objects]`` lists of the params file: labels, filters, required zones, and per
    gate zone its polygon in 1/16 plane pixels and its objects.zones label rule."""
    o = spec.config.objects
    lines = [f"obj_label {label}" for label in o.labels]
    lines += [
        f"obj_filter {name} {float(f.min_score)!r} {milli(f.min_area_pct)} {milli(f.max_area_pct)}"
        for name, f in o.filters.items()
    ]
    lines += [f"obj_required_zone {name}" for name in o.required_zones]
    rules = {z.name: z.labels for z in o.zones}
    for i, z in enumerate(spec.config.gate.zones):
        pts = polygon_to_sub(z.polygon, spec.plane_w, spec.plane_h)
        lines.append(f"zone_poly {i} {len(pts)} " + " ".join(f"{x} {y}" for x, y in pts))
        lines += [f"obj_zone_label {i} {label}" for label in rules.get(z.name, [])]
    return lines


def min_region_pixels(spec: FirmwareSpec) -> int:
    """The gate's smallest region in plane pixels, computed as the Python gate does."""
    g = spec.config.gate
    return math.ceil(g.min_region_pct * spec.plane_h * spec.plane_w / 100.0)


def render_params(spec: FirmwareSpec) -> str:
    """The runtime params file the host/QEMU runners read (``--params``)."""
    lines = [PARAMS_MAGIC]
    lines += [f"{k} {v}" for k, v in scalar_items(spec)]
    if spec.mask is not None:
        lines.append("mask " + pack_bits(spec.mask).hex())
    for name, bitmap in spec.zones:
        lines.append(f"zone {name} " + pack_bits(bitmap).hex())
    lines += _object_lines(spec)
    return "\n".join(lines) + "\n"
