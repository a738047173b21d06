"""``replay --plot``: the changed-percentage timeline with the gate thresholds and events shaded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from visionedge.config import GateConfig
from visionedge.errors import SinkError

__all__ = ["event_spans", "plot_timeline"]


def event_spans(events: Sequence[Mapping[str, Any]]) -> list[tuple[float, float, str]]:
    """``(start_s, end_s, label)`` of every ended event (label ``""`` when unclassified)."""
    spans = []
    for e in events:
        if e.get("type") == "end":
            label = e.get("label") or ""
            spans.append((e["start_ts_ms"] / 1000.0, e["end_ts_ms"] / 1000.0, str(label)))
    return spans


def plot_timeline(
    path: str | Path,
    ts_ms: Sequence[int],
    changed_pct: Sequence[float],
    events: Sequence[Mapping[str, Any]],
    gate: GateConfig,
    title: str = "",
) -> None:
    """Write a PNG: changed % per frame (symlog scale), start/stop/global thresholds, events shaded.

    Uses matplotlib's object API with the Agg canvas, so no display and no pyplot global state.
    matplotlib is the ``plot`` extra: MissingExtraError (exit 13) when it is not installed.
    """
    from visionedge.extras import require

    require("matplotlib", "plot", "replay --plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    t = [v / 1000.0 for v in ts_ms]
    for start, end, label in event_spans(events):
        ax.axvspan(start, max(end, start + 0.05), color="tab:blue", alpha=0.15, lw=0)
        if label:
            ax.text(start, 0.97, label, transform=ax.get_xaxis_transform(), va="top", fontsize=8)
    ax.plot(t, changed_pct, color="black", lw=0.8, label="changed %")
    ax.axhline(gate.start_pct, color="tab:orange", ls="--", lw=1, label=f"start {gate.start_pct}%")
    ax.axhline(gate.stop_pct, color="tab:green", ls=":", lw=1, label=f"stop {gate.stop_pct}%")
    ax.axhline(gate.global_pct, color="tab:red", ls="--", lw=1, label=f"global {gate.global_pct}%")
    # Quiet frames sit near 0.01 % and lighting changes near 100 %: only a log-like axis
    # shows both; symlog keeps exact zeros on the plot.
    ax.set_yscale("symlog", linthresh=max(gate.stop_pct / 2, 0.01))
    ax.set_ylim(0, 100)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("changed pixels (%)")
    ax.set_title(title or "changed percentage per frame (events shaded)")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(str(path), format="png", metadata={"Software": None})
    except OSError as exc:
        raise SinkError(f"cannot write plot {path} ({exc.strerror}); choose a writable --plot path") from exc
