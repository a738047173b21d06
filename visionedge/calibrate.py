"""Gate threshold calibration: measure a scene's noise floor and propose thresholds.

Run the gate's own measurement (:class:`visionedge.gate.FrameDifferenceGate` with the
configured plane width, blur, reference, pixel threshold and masks) over footage in which
nothing moves, collect ``changed_pct`` per frame, and propose:

- ``start_pct = max(p99.9 x margin, floor)`` (default margin 3, floor 0.05): noise alone
  stays well below the level that counts as motion;
- ``stop_pct = min(start_pct, max(start_pct / 2, p99 x 1.2))``: a quiet scene falls below it,
  so an open gate closes;
- ``global_pct = max(configured, 4 x start_pct)``.

Frames the gate rejects as global changes and the first frame (the baseline, always 0) are
left out of the statistics. Values are rounded up to 3 decimals, the gate's resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from visionedge.config import Config, GateConfig, SourceConfig
from visionedge.errors import ConfigError, SourceError

__all__ = ["PERCENTILES", "Calibration", "measure", "propose", "snippet", "write_plot"]

PERCENTILES = (50.0, 90.0, 99.0, 99.9, 100.0)


@dataclass
class Calibration:
    """The measured distribution and the proposed thresholds."""

    clip: str
    frames: int
    used: int
    rejected: int
    percentiles: dict[str, float]
    start_pct: float
    stop_pct: float
    global_pct: float
    above_current_start: int
    """Measured frames at or above the *configured* start_pct: they would count as motion
    now, so the footage is probably not quiet (0 on quiet footage)."""


def _round_up(x: float) -> float:
    return math.ceil(x * 1000.0 - 1e-9) / 1000.0


def measure(
    clip: Path, cfg: Config, *, max_frames: int | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per-frame ``changed_pct`` and a rejected-frame mask of a clip under ``cfg.gate``."""
    from visionedge.gate import FrameDifferenceGate
    from visionedge.sources import open_source

    if not clip.exists():
        raise SourceError(f"{clip}: clip not found; pass a video file of the quiet scene")
    kind: Literal["images", "file"] = "images" if clip.is_dir() else "file"
    src_cfg = SourceConfig(kind=kind, path=str(clip), fps=cfg.source.fps)
    gate = FrameDifferenceGate(cfg.gate)
    pct: list[float] = []
    rejected: list[bool] = []
    with open_source(src_cfg, cfg.gate.width) as src:
        for frame in src.frames():
            r = gate.process(frame)
            pct.append(r.changed_pct)
            rejected.append(r.reason in ("global_change", "exposure_change"))
            if max_frames is not None and len(pct) >= max_frames:
                break
    if len(pct) < 2:
        raise SourceError(
            f"{clip}: {len(pct)} frame(s) decoded; calibration needs at least 2 (ideally "
            "a minute of the quiet scene)"
        )
    return np.asarray(pct, np.float64), np.asarray(rejected, bool)


def propose(
    pct: npt.NDArray[np.float64],
    rejected: npt.NDArray[np.bool_],
    gate: GateConfig,
    *,
    clip: str = "",
    margin: float = 3.0,
    floor: float = 0.05,
) -> Calibration:
    """Turn the measured distribution into thresholds (see the module docstring)."""
    if margin < 1.0:
        raise ConfigError(f"calibration margin {margin} is below 1; use e.g. --margin 3")
    used = pct[1:][~rejected[1:]]
    if used.size == 0:
        raise SourceError(
            f"{clip}: every frame was rejected as a global change; record footage with "
            "steady light"
        )
    q = {f"p{p:g}": float(np.percentile(used, p)) for p in PERCENTILES}
    start = _round_up(max(q["p99.9"] * margin, floor))
    start = min(start, 100.0)
    stop = _round_up(min(start, max(start / 2.0, q["p99"] * 1.2)))
    glob = max(gate.global_pct, _round_up(min(100.0, 4.0 * start)))
    if glob <= start:
        raise SourceError(
            f"{clip}: the noise floor (p99.9 {q['p99.9']:.3f} %) leaves no room below "
            "global_pct; the footage is not quiet or pixel_threshold is too low"
        )
    return Calibration(
        clip=clip,
        frames=int(pct.size),
        used=int(used.size),
        rejected=int(rejected.sum()),
        percentiles={k: round(v, 4) for k, v in q.items()},
        start_pct=start,
        stop_pct=stop,
        global_pct=glob,
        above_current_start=int(np.count_nonzero(used >= gate.start_pct)),
    )


def snippet(cal: Calibration, gate: GateConfig) -> str:
    """A ``[gate]`` TOML snippet with the proposal (validated against the config model)."""
    try:
        GateConfig.model_validate({**gate.model_dump(), "start_pct": cal.start_pct,
                                   "stop_pct": cal.stop_pct, "global_pct": cal.global_pct})
    except ValueError as exc:
        raise ConfigError(f"proposed thresholds do not validate: {exc}") from exc
    pcts = ", ".join(f"{k}={v:.3f}" for k, v in cal.percentiles.items())
    return (
        f"# visionedge calibrate {cal.clip}: {cal.used} of {cal.frames} frames measured "
        f"({cal.rejected} rejected as global changes)\n"
        f"# changed_pct {pcts} (pixel_threshold {gate.pixel_threshold}, blur "
        f"{str(gate.blur).lower()}, reference {gate.reference}, width {gate.width})\n"
        "[gate]\n"
        f"start_pct = {cal.start_pct}\n"
        f"stop_pct = {cal.stop_pct}\n"
        f"global_pct = {cal.global_pct}\n"
    )


def write_plot(path: Path, pct: npt.NDArray[np.float64], cal: Calibration) -> None:
    """A histogram (log counts) and a timeline of changed_pct with the proposed thresholds.

    matplotlib is the ``plot`` extra: MissingExtraError (exit 13) when it is not installed.
    """
    from visionedge.extras import require

    matplotlib = require("matplotlib", "plot", "calibrate --plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    hi = max(cal.start_pct * 1.5, float(pct.max()) if pct.size else 1.0)
    ax1.hist(pct[1:], bins=60, range=(0.0, hi), color="tab:blue", log=True)
    for value, name, colour in ((cal.start_pct, "start_pct", "tab:red"),
                                (cal.stop_pct, "stop_pct", "tab:orange")):
        ax1.axvline(value, color=colour, linestyle="--", label=f"{name} {value}")
        ax2.axhline(value, color=colour, linestyle="--", label=f"{name} {value}")
    ax1.set_xlabel("changed pixels (%)")
    ax1.set_ylabel("frames")
    ax1.set_title(f"noise floor: p99.9 = {cal.percentiles['p99.9']:.3f} %")
    ax1.legend()
    ax2.plot(np.arange(pct.size), pct, lw=0.8, color="tab:blue")
    ax2.set_xlabel("frame")
    ax2.set_ylabel("changed pixels (%)")
    ax2.set_title(cal.clip)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)
