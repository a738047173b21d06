"""The still-frame short path (visionedge/pipeline/still.py) changes nothing but the cost.

Generated clips with still stretches, then motion (people, a vehicle, a parked car, a light
switch, a covered lens), are replayed through the real gate, tracker and object stage with the
short path on and off: the events, the state changes, every trace row and, after every frame,
the object stage's whole state (tracker and object events, as recordings export it) must be
equal, and the short path must have been taken on the still frames.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from visionedge.config import Config
from visionedge.frame import Frame
from visionedge.pipeline import Pipeline, build_pipeline
from visionedge.pipeline.still import ENV_SWITCH
from visionedge.protocols import FrameTrace, GateResult
from visionedge.sinks.memory import MemorySink
from visionedge.synth import ObjectPass, SceneSpec, write_clip
from visionedge.synth.scene import default_scene


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("still")
    scenes = {
        # still, a person, still, a vehicle, light dims, an animal, lens covered, still
        "story": default_scene(3, width=320, height=180, fps=10.0),
        # still, then a car drives in and parks for the rest of the clip
        "parked": SceneSpec(
            width=320, height=180, fps=10.0, seed=21, duration_s=14.0,
            events=[ObjectPass("vehicle", 3.0, 4.0, direction=1, height_frac=0.3,
                               ground_frac=0.8, stop_frac=0.35, stop_s=100.0)],
        ),
    }
    out = {}
    for name, spec in scenes.items():
        out[name] = folder / f"{name}.avi"
        write_clip(spec, out[name])
    return out


def _replay(clip: Path, settings: dict[str, Any], fast: bool) -> dict[str, Any]:
    cfg = Config.model_validate({"source": {"kind": "file", "path": str(clip)}, **settings})
    sink = MemorySink()
    pipe = build_pipeline(cfg, sinks=[sink], deterministic_ids=True)
    pipe.fast_still = fast
    rows: list[tuple[Any, ...]] = []
    states: list[Any] = []
    ran: list[int] = []  # frames the object stage ran on
    stage = pipe.objects
    if stage is not None:
        inner = stage.on_frame

        def counted(frame: Frame, result: GateResult) -> Any:
            ran.append(frame.index)
            return inner(frame, result)

        stage.on_frame = counted  # type: ignore[method-assign]

    def keep(frame: Frame, t: FrameTrace) -> None:
        objs, clf = t.extra["objects"], t.extra["classification"]
        rows.append((t.frame, t.ts_ms, t.changed_pct, t.motion, t.event_id, t.classified,
                     t.label, t.score, dataclasses.replace(t.extra["result"], gate_us=0.0),
                     clf and dataclasses.replace(clf, classify_us=0.0),
                     None if objs is None else (objs.payloads, objs.counts)))
        if stage is not None:
            states.append(copy.deepcopy(stage.export_state()))
        # The motion event tracker's own state (its id factory is a per-pipeline closure).
        states.append(repr({k: v for k, v in vars(pipe.tracker).items() if not callable(v)}))

    pipe.run(on_frame=keep)
    stats = pipe.stats.as_dict()
    for timing in ("last_gate_us", "last_classify_us"):
        stats.pop(timing)
    return {"events": sink.events, "states": sink.states, "rows": rows,
            "stage": states, "stats": stats, "ran": ran, "frames": len(rows)}


CONFIGS = {
    "default (object mode)": {"classifier": {"model": "demo"}},
    "both, idle sample": {"classifier": {"model": "demo"},
                          "objects": {"mode": "both", "idle_sample_s": 1.0}},
    "motion mode": {"classifier": {"model": "demo"}, "objects": {"mode": "motion"}},
    "no classifier": {"classifier": {"enabled": False}},
}


@pytest.mark.parametrize("clip_name", ["story", "parked"])
@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_the_short_path_gives_the_same_events_states_and_traces(
    clips: dict[str, Path], clip_name: str, config_name: str
) -> None:
    settings = CONFIGS[config_name]
    fast = _replay(clips[clip_name], settings, True)
    full = _replay(clips[clip_name], settings, False)
    assert fast["events"], "the clip must cause events, or the comparison shows little"
    for key in ("events", "states", "rows", "stage", "stats"):
        assert fast[key] == full[key], key
    if "objects" in settings and settings["objects"].get("mode") == "motion":
        return
    # The stage ran on every frame without the short path, and sat out the still ones with it.
    assert full["ran"] == list(range(full["frames"]))
    skipped = full["frames"] - len(fast["ran"])
    still = sum(1 for row in full["rows"] if not row[3])
    assert skipped >= still // 3, (skipped, still)


def test_the_environment_switch_turns_it_off(
    clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = Config.model_validate({"source": {"kind": "file", "path": str(clips["story"])},
                                 "classifier": {"enabled": False}})
    assert build_pipeline(cfg, sinks=[], deterministic_ids=True).fast_still
    monkeypatch.setenv(ENV_SWITCH, "off")
    pipe: Pipeline = build_pipeline(cfg, sinks=[], deterministic_ids=True)
    assert not pipe.fast_still
