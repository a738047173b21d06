"""Snapshot and restore of the pipeline state a replay must start from.

What decides the events of a frame besides its pixels: the gate's planes (previous and
background), its frame counter, the hysteresis window and quiet count, the exposure
tracker and the tamper state machine; the event in progress (statistics, vote, id); the
pipeline's last classified frame; and, in object mode, the object tracker and the per-object
events (``TrackingStage.export_state``). :func:`snapshot` copies them between two frames (a few
hundred microseconds, taken once per ``recording.keyframe_s`` while idle);
:func:`restore` puts them into a freshly built pipeline.

On disk the state is a pickle read back with an allow-list (only numpy arrays, builtin
containers and visionedge classes), so replaying a recording someone sent you cannot run
code. The private attributes read here are the gate's and tracker's own state; this module
is the one place that knows them, and tests/recording checks replay reproduces events.
"""

from __future__ import annotations

import copy
import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visionedge.errors import RecordingFormatError

__all__ = ["OBJECT_STATE_KEYS", "PipelineState", "dump_state", "load_state", "restore", "snapshot"]

_SKIP = frozenset({"cfg", "k", "n", "close_after", "jump", "pixel_threshold"})
"""Configuration held by the state objects: restored from the recorded config instead."""

OBJECT_STATE_KEYS = frozenset({"size", "tracker", "events", "source", "idle_ts"})
"""The keys of ``TrackingStage.export_state()`` that format version 2 records (checked on
load, so a state the object stage could not import fails as a damaged recording, exit 12)."""


@dataclass(slots=True)
class PipelineState:
    """Everything :func:`restore` needs; picklable."""

    gate: dict[str, Any]
    tracker_open: Any
    events_started: int
    last_classified: int | None
    objects: dict[str, Any] | None = None
    """The object stage (``TrackingStage.export_state``); None without one or before its
    first frame."""


def _vars(obj: Any) -> dict[str, Any]:
    names: list[str] = list(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        names += [n for n in getattr(cls, "__slots__", ()) if n not in ("__dict__", "__weakref__")]
    out: dict[str, Any] = {}
    for name in names:
        if name not in _SKIP and hasattr(obj, name):
            out[name] = copy.deepcopy(getattr(obj, name))
    return out


def snapshot(pipeline: Any) -> PipelineState:
    """Copy the state that decides the next frame's events (see the module docstring)."""
    gate = pipeline.gate
    buf = gate._buf
    g: dict[str, Any] = {
        "t": gate._t,
        "shape": gate._shape,
        "prev": None if buf is None else buf.prev.copy(),
        "bg": None if buf is None else buf.bg.copy(),
        "hyst": _vars(gate._hyst),
        "exposure": _vars(gate._exposure),
        "tamper": _vars(gate._tamper),
    }
    tracker = pipeline.tracker
    return PipelineState(
        gate=g,
        tracker_open=copy.deepcopy(tracker._open),
        events_started=tracker.events_started,
        last_classified=pipeline._last_classified,
        objects=pipeline.objects.export_state() if pipeline.objects is not None else None,
    )


def restore(pipeline: Any, state: PipelineState) -> None:
    """Put ``state`` into a pipeline built from the recorded config (before its first frame)."""
    gate = pipeline.gate
    g = state.gate
    if g["shape"] is not None:
        gate._setup(*g["shape"])
        np.copyto(gate._buf.prev, g["prev"])
        np.copyto(gate._buf.bg, g["bg"])
    gate._t = g["t"]
    for name, obj in (("hyst", gate._hyst), ("exposure", gate._exposure), ("tamper", gate._tamper)):
        for key, value in g[name].items():
            setattr(obj, key, copy.deepcopy(value))
    tracker = pipeline.tracker
    tracker._open = copy.deepcopy(state.tracker_open)
    tracker.events_started = state.events_started
    pipeline._last_classified = state.last_classified
    if pipeline.objects is not None:
        pipeline.objects.import_state(state.objects)  # load_state set it on version 1 too


def dump_state(state: PipelineState) -> bytes:
    """The bytes of ``state.pkl``."""
    return pickle.dumps(state, protocol=5)


_NUMPY_OK = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "scalar"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
}


class _Unpickler(pickle.Unpickler):
    """Only numpy arrays, builtin containers and visionedge classes may be created."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY_OK or module == "numpy.dtypes":
            return super().find_class(module, name)
        if module.startswith("visionedge."):
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a recording state")


def load_state(path: Path, version: int = 2) -> PipelineState:
    """Read ``state.pkl`` of a recording in format ``version``; a damaged or foreign file
    raises RecordingFormatError.

    Version 1 states may lack ``objects`` (made before object mode recorded it): they load with
    None, i.e. the object stage starts empty. From version 2 it must be there, None or a dict
    with :data:`OBJECT_STATE_KEYS`.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RecordingFormatError(
            f"{path}: cannot read the recording's start state ({exc.strerror}); the recording is incomplete"
        ) from exc
    try:
        state = _Unpickler(io.BytesIO(raw)).load()
    except Exception as exc:  # any unpickling failure means the same thing to the user
        raise RecordingFormatError(
            f"{path}: the recording's start state is damaged ({type(exc).__name__}: {exc}); "
            "the recording cannot be replayed exactly"
        ) from exc
    if not isinstance(state, PipelineState):
        raise RecordingFormatError(f"{path}: not a recording start state; the recording is damaged")
    missing = object()
    objects = getattr(state, "objects", missing)
    if objects is missing:
        if version >= 2:
            raise RecordingFormatError(
                f"{path}: the start state has no object stage state, which format version "
                f"{version} records; the recording is damaged"
            )
        state.objects = None
    elif objects is not None and (not isinstance(objects, dict) or set(objects) != OBJECT_STATE_KEYS):
        got = sorted(objects) if isinstance(objects, dict) else type(objects).__name__
        raise RecordingFormatError(
            f"{path}: the object stage state holds {got}, not {sorted(OBJECT_STATE_KEYS)}; "
            "replay it with the visionedge release that recorded it"
        )
    return state
