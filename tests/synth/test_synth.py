"""The synthetic scene generator: deterministic bytes, ground truth that matches the pixels."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from visionedge.synth import (
    CLASSES,
    CoverCamera,
    FrameTruth,
    GroundTruth,
    LightSwitch,
    ObjectPass,
    SceneSpec,
    default_scene,
    demo_clip_name,
    demo_clip_path,
    frame_count,
    render_background,
    render_frames,
    render_object,
    small_scene,
    truth_path,
    write_clip,
)
from visionedge.synth.scene import scene_background


def _mask_bbox(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    spec = small_scene(seed=5, width=128, height=72)
    write_clip(spec, tmp_path / "a.avi")
    write_clip(spec, tmp_path / "b.avi")
    write_clip(small_scene(seed=6, width=128, height=72), tmp_path / "c.avi")
    a = (tmp_path / "a.avi").read_bytes()
    assert a == (tmp_path / "b.avi").read_bytes()
    assert a != (tmp_path / "c.avi").read_bytes()
    ta = truth_path(tmp_path / "a.avi").read_text()
    tb = truth_path(tmp_path / "b.avi").read_text()
    assert ta.replace('"a.avi"', '"x"') == tb.replace('"b.avi"', '"x"')


def test_clip_is_mjpg_avi_that_opencv_decodes_at_the_scene_rate(tmp_path: Path) -> None:
    truth = write_clip(small_scene(seed=1, width=96, height=64, fps=5.0), tmp_path / "s.avi")
    cap = cv2.VideoCapture(str(tmp_path / "s.avi"))
    assert cap.isOpened()
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
    assert fourcc.to_bytes(4, "little") == b"MJPG"
    assert cap.get(cv2.CAP_PROP_FPS) == 5.0
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == len(truth.frames) == 40
    with pytest.raises(ValueError, match="not whole"):
        write_clip(small_scene(fps=7.5), tmp_path / "x.avi")
    with pytest.raises(ValueError, match=r"\.avi"):
        write_clip(small_scene(), tmp_path / "x.mp4")


def test_ground_truth_is_consistent_and_round_trips(tmp_path: Path) -> None:
    spec = SceneSpec(
        width=160,
        height=96,
        fps=10.0,
        seed=2,
        duration_s=9.0,
        events=[
            ObjectPass("vehicle", 1.0, 2.0, direction=-1, height_frac=0.35, ground_frac=0.9),
            LightSwitch(4.0),
            CoverCamera(5.0, 1.0),
            ObjectPass("animal", 6.0, 2.0, direction=1, height_frac=0.25, ground_frac=0.95),
        ],
    )
    truth = write_clip(spec, tmp_path / "t.avi")
    assert len(truth.frames) == frame_count(spec) == 90
    assert [f.index for f in truth.frames] == list(range(90))
    for f in truth.frames:
        assert f.motion == bool(f.objects)
        for o in f.objects:
            b = o.box
            assert 0.0 <= b.x0 < b.x1 <= 1.0 and 0.0 <= b.y0 < b.y1 <= 1.0
            assert o.visible_pct >= 0.1
        if f.covered:
            assert not f.objects
    assert [(p.cls, p.track) for p in truth.passages] == [("vehicle", 1), ("animal", 2)]
    v, a = truth.passages
    # Objects appear only inside their event window, entering and leaving.
    assert 10 <= v.first_frame < v.last_frame <= 30
    assert 60 <= a.first_frame < a.last_frame <= 80
    assert truth.covered_frames == list(range(50, 60))
    assert truth.lighting_frames == list(range(40, 50))
    # A vehicle driving right to left: its box moves left.
    boxes = [o.box for f in truth.frames for o in f.objects if o.cls == "vehicle"]
    assert boxes[-1].x0 < boxes[0].x0
    # Entering from the right edge, leaving at the left edge.
    assert boxes[0].x1 == 1.0 and boxes[-1].x0 == 0.0
    loaded = GroundTruth.load(tmp_path / "t.avi")
    assert loaded == truth
    assert GroundTruth.load(truth_path(tmp_path / "t.avi")) == truth


def test_motion_flags_match_the_pixels() -> None:
    spec = small_scene(seed=4, width=160, height=96)
    frames = list(render_frames(spec))
    still = frames[0][0].astype(np.int16)
    for image, ft in frames:
        diff = np.abs(image.astype(np.int16) - still).max(axis=2)
        if ft.lighting_change or any(f.lighting_change for _, f in frames[: ft.index]):
            continue  # after the light switch every pixel differs from frame 0
        changed = diff > 25
        if not ft.motion:
            # Only sensor noise (sigma 2) differs from the first frame.
            assert changed.mean() < 0.001, ft.index
        else:
            h, w = diff.shape
            for o in ft.objects:
                x0, x1 = int(o.box.x0 * w), int(np.ceil(o.box.x1 * w))
                y0, y1 = int(o.box.y0 * h), int(np.ceil(o.box.y1 * h))
                inside = changed[y0:y1, x0:x1].sum()
                outside = changed.sum() - inside
                assert inside > 0, ft.index
                assert outside <= 0.01 * changed.size, ft.index


def test_lighting_change_is_sudden_global_and_stays() -> None:
    spec = small_scene(seed=4, width=96, height=64)
    frames = list(render_frames(spec))
    at = round(6.0 * spec.fps)
    means = [float(img.mean()) for img, _ in frames]
    assert means[at] < 0.75 * means[at - 1]
    assert all(abs(m - means[at]) < 3 for m in means[at:])
    assert frames[at][1].lighting_change and not frames[at - 1][1].lighting_change


def test_covered_frames_are_dark_and_flat() -> None:
    spec = SceneSpec(width=96, height=64, duration_s=3.0, events=[CoverCamera(1.0, 1.0)])
    for img, ft in render_frames(spec):
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if ft.covered:
            assert gray.mean() < 16 and gray.std() < 4
        else:
            assert gray.std() > 8  # the textured background


def test_default_scene_timeline() -> None:
    spec = default_scene(width=320, height=180)
    assert (spec.width, spec.height, spec.fps, spec.seed) == (320, 180, 10.0, 0)
    assert frame_count(spec) == 300
    truths = [ft for _, ft in render_frames(spec)]
    passages: list[str] = []
    for ft in truths:
        for o in ft.objects:
            if not passages or passages[-1] != o.cls:
                passages.append(o.cls)
    assert passages == ["person", "vehicle", "animal"]
    assert [ft.index for ft in truths if ft.covered] == list(range(240, 270))
    assert [ft.index for ft in truths if ft.lighting_change] == list(range(150, 160))
    # Still stretches: the first 3 s, between passages, and the end.
    assert not any(ft.motion for ft in truths[:30])
    assert not any(ft.motion for ft in truths[270:])


def test_objects_stand_out_from_the_ground_even_after_the_light_dims() -> None:
    # Ground truth calls an object visible motion; a gray-level gate must be able to see
    # it: most of its pixels differ clearly from the still frame at the same light level.
    spec = default_scene(width=320, height=180)
    frames = list(render_frames(spec))
    gray = [cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.int16) for img, _ in frames]
    for cls, first, last in _spans([ft for _, ft in frames]):
        mid = (first + last) // 2
        still = first - 5  # a still frame just before, under the same light
        assert not frames[still][1].motion and not frames[still][1].lighting_change
        obj = frames[mid][1].objects[0]
        changed = int((np.abs(gray[mid] - gray[still]) > 25).sum())
        visible = obj.visible_pct / 100 * 320 * 180
        assert changed >= 0.6 * visible, (cls, changed, visible)


def _spans(truths: list[FrameTruth]) -> list[tuple[str, int, int]]:
    """(class, first, last) frame of each track, independent of GroundTruth.passages."""
    spans: dict[int, tuple[str, int, int]] = {}
    for ft in truths:
        for o in ft.objects:
            cls, first, _ = spans.get(o.track, (o.cls, ft.index, ft.index))
            spans[o.track] = (cls, first, ft.index)
    return list(spans.values())


def test_render_object_classes_differ_by_shape() -> None:
    rng = np.random.default_rng(0)
    aspects: dict[str, list[float]] = {c: [] for c in CLASSES}
    colours: dict[str, list[np.ndarray]] = {c: [] for c in CLASSES}
    for cls in CLASSES:
        for _ in range(24):
            img, mask = render_object(cls, 96, rng)
            colours[cls].append(img[mask > 0].mean(axis=0))
            assert img.shape == (96, 96, 3) and img.dtype == np.uint8
            assert mask.shape == (96, 96) and mask.dtype == np.uint8
            assert set(np.unique(mask)) <= {0, 255}
            assert (mask > 0).mean() > 0.03
            w, h = _mask_bbox(mask)
            aspects[cls].append(w / h)
    assert max(aspects["person"]) < 0.8
    assert min(aspects["vehicle"]) > 1.5
    assert min(aspects["animal"]) > 1.05
    # Colours come from one shared palette: the class mean colours are close together
    # compared with the spread inside each class, so colour alone does not give the class.
    means = {c: np.mean(v, axis=0) for c, v in colours.items()}
    spread = min(float(np.mean(np.std(v, axis=0))) for v in colours.values())
    for a in CLASSES:
        for b in CLASSES:
            assert float(np.abs(means[a] - means[b]).max()) < spread
    with pytest.raises(ValueError, match="unknown object class"):
        render_object("dragon", 64, rng)


def test_render_object_is_seeded() -> None:
    a = render_object("animal", 64, np.random.default_rng(9))
    b = render_object("animal", 64, np.random.default_rng(9))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_render_background_is_texture_without_objects() -> None:
    rng = np.random.default_rng(1)
    crops = [render_background(64, rng) for _ in range(8)]
    assert all(c.shape == (64, 64, 3) and c.dtype == np.uint8 for c in crops)
    assert len({c.tobytes() for c in crops}) == 8
    bg = scene_background(160, 96, 0)
    assert bg.shape == (96, 160, 3)
    assert np.array_equal(bg, scene_background(160, 96, 0))


def test_demo_clip_is_generated_once_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    import visionedge.synth.clip as clip_mod

    calls: list[Path] = []
    real_write = clip_mod.write_clip

    def small_write(spec: SceneSpec, path: str | Path) -> GroundTruth:
        calls.append(Path(path))
        # The cache logic is under test here, not the 30 s render: use a small scene.
        return real_write(small_scene(width=64, height=48), path)

    monkeypatch.setattr(clip_mod, "write_clip", small_write)
    p1 = demo_clip_path()
    p2 = demo_clip_path()
    assert p1 == p2 == tmp_path / "visionedge" / demo_clip_name()
    assert len(calls) == 1
    assert truth_path(p1).is_file()
    assert GroundTruth.load(p1).clip == p1.name
    assert not [p for p in p1.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SceneSpec(width=16, height=16), "too small"),
        (SceneSpec(fps=0.0), "fps must be > 0"),
        (SceneSpec(events=[ObjectPass("dragon", 0.0, 1.0)]), "unknown object class 'dragon'"),
        (SceneSpec(events=[ObjectPass("person", 0.0, 1.0, direction=0)]), "direction must be 1 or -1"),
        (SceneSpec(events=[ObjectPass("person", 0.0, 1.0, height_frac=2.0)]), "height_frac"),
        (SceneSpec(events=[LightSwitch(1.0, gain=0.0)]), "gain must be > 0"),
        (SceneSpec(events=[CoverCamera(1.0, 1.0, level=300)]), "level 0..255"),
    ],
)
def test_impossible_scenes_are_refused_with_the_reason(spec: SceneSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next(render_frames(spec))
