"""The object stage's best-view frames (the source of object snapshot JPEGs): the frame of each
object's ``best`` view, valid when its ``end`` is published, kept only when asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionedge.config import Config
from visionedge.frame import Frame
from visionedge.objects import TrackingStage
from visionedge.pipeline import build_pipeline
from visionedge.protocols import FrameTrace
from visionedge.sinks.memory import MemorySink
from visionedge.synth import ObjectPass, SceneSpec, write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SceneSpec(width=320, height=180, fps=10.0, seed=4, duration_s=8.0,
                     events=[ObjectPass("person", 0.5, 3.0, height_frac=0.45),
                             ObjectPass("vehicle", 3.5, 3.0, direction=-1, height_frac=0.3)])
    path = tmp_path_factory.mktemp("views") / "two.avi"
    write_clip(spec, path)
    return path


@pytest.mark.parametrize("keep", [True, False])
def test_best_view_frame_matches_the_end_payload(clip: Path, keep: bool) -> None:
    cfg = Config.model_validate({"source": {"kind": "file", "path": str(clip)},
                                 "classifier": {"enabled": False}, "objects": {"mode": "object"}})
    pipe = build_pipeline(cfg, sinks=[MemorySink()], deterministic_ids=True)
    stage = pipe.objects
    assert isinstance(stage, TrackingStage) and not stage.keep_views
    stage.keep_views = keep
    ends = 0
    ended: list[int] = []

    def check(frame: Frame, trace: FrameTrace) -> None:
        nonlocal ends
        # Frames of objects that ended on an earlier frame are released.
        assert all(stage.best_view(i) is None for i in ended)
        objs = trace.extra["objects"]
        for p in objs.payloads:
            if p["type"] != "end":
                continue
            ends += 1
            view = stage.best_view(p["object_id"])
            if not keep:
                assert view is None
                continue
            assert view is not None
            assert view[0].index == p["best"]["frame"]
            b = view[1]
            assert [b.x0, b.y0, b.x1, b.y1] == p["best"]["box"]
            assert view[0].image().shape == (180, 320, 3)
            ended.append(p["object_id"])

    pipe.run(on_frame=check)
    assert ends == 2
