"""Seeded random plane sequences and configs: every branch of the gate, both implementations.

The generated clips test the common path; these sequences push the corners: tiny and
one-pixel-wide planes, all three references, blur off, masks and zones, exposure metadata
with jumps and gaps, dark/flat/defocused/new-view tamper, thresholds at their extremes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from fwkit import (
    Runner,
    SeededClassifier,
    assert_same_frames,
    parse_output,
    python_gate_lines,
    python_pipeline,
    runner_events,
    write_frames,
    write_params,
)

U8 = npt.NDArray[np.uint8]
SHAPES = [(36, 48), (24, 32), (7, 1), (1, 9), (2, 2), (1, 1), (45, 31)]


def _poly(rng: np.random.Generator) -> str:
    x0, y0 = rng.uniform(0, 0.6, 2)
    w, h = rng.uniform(0.15, 0.4, 2)
    pts = [[x0, y0], [x0 + w, y0], [x0 + w * rng.uniform(0.5, 1), y0 + h]]
    return "[" + ", ".join(f"[{min(x, 1.0):.4f}, {min(y, 1.0):.4f}]" for x, y in pts) + "]"


def random_config(rng: np.random.Generator) -> str:
    start = float(rng.choice([0.1, 0.5, 2.0, 7.5, 20.0]))
    lines = [
        "[gate]",
        f"blur = {'true' if rng.random() < 0.7 else 'false'}",
        f"reference = \"{rng.choice(['previous', 'background', 'both'])}\"",
        f"background_step = {int(rng.integers(1, 12))}",
        f"pixel_threshold = {int(rng.choice([1, 8, 25, 60, 200]))}",
        f"start_pct = {start}",
        f"stop_pct = {start * float(rng.choice([0.0, 0.5, 1.0]))}",
    ]
    n = int(rng.integers(1, 6))
    lines += [
        f"n = {n}",
        f"k = {int(rng.integers(1, n + 1))}",
        f"close_after_s = {int(rng.integers(1, 7)) / 10}",
        f"global_pct = {float(rng.choice([start + 5.0, 50.0, 90.0, 100.0])) if start < 95 else 100.0}",
        f"exposure_jump = {float(rng.choice([0.1, 0.4, 1.5]))}",
    ]
    if rng.random() < 0.4:
        lines.append(f"masks = [{_poly(rng)}]")
    lines += [
        "[gate.tamper]",
        f"enabled = {'true' if rng.random() < 0.8 else 'false'}",
        f"check_every_s = {int(rng.integers(1, 4)) / 10}",
        f"dark_level = {int(rng.choice([0, 16, 40]))}",
        f"flat_std = {float(rng.choice([0.0, 4.0, 9.5]))}",
        f"focus_min = {float(rng.choice([0.0, 8.0, 40.0]))}",
        # From a spawned generator: the parent's draws, and so every other random config, stay
        # as they were before focus_ratio existed.
        f"focus_ratio = {float(rng.spawn(1)[0].choice([0.0, 0.03, 0.5]))}",
        f"persist_s = {int(rng.integers(1, 7)) / 10}",
    ]
    for i in range(int(rng.integers(0, 3))):
        lines += ["[[gate.zones]]", f'name = "z{2 - i}"', f"polygon = {_poly(rng)}"]
    return "\n".join(lines) + "\n"


def random_planes(rng: np.random.Generator, h: int, w: int, count: int) -> tuple[list[U8], list[dict[str, float]]]:
    """Textured scene with moving blocks, light jumps, covers, flat and blurred stretches, a new view."""
    scene = rng.integers(30, 220, (h, w)).astype(np.int16)
    other = rng.integers(30, 220, (h, w)).astype(np.int16)
    planes: list[U8] = []
    meta: list[dict[str, float]] = []
    exposure = 10000.0
    for i in range(count):
        img = scene.copy()
        phase = (i // 6) % 6
        if phase in (1, 4):  # a block moves across
            bh, bw = max(1, h // 3), max(1, w // 4)
            x = (i * 3) % max(1, w - bw + 1)
            y = (i * 2) % max(1, h - bh + 1)
            img[y : y + bh, x : x + bw] = int(rng.integers(0, 256))
        elif phase == 2 and i % 12 == 2:  # the light switches
            scene = np.clip(scene + int(rng.choice([-70, 60])), 0, 255)
            img = scene.copy()
        elif phase == 3:  # covered, blank, or defocused
            kind = (i // 36) % 3
            if kind == 0:
                img[:] = int(rng.integers(0, 12))
            elif kind == 1:
                img[:] = 128
            else:
                img = (img + np.roll(img, 1, 0) + np.roll(img, 1, 1) + np.roll(img, 1, (0, 1))) // 4
        elif phase == 5 and i % 36 == 30:  # the camera turned: a new view that stays
            scene = other
            img = scene.copy()
        img = img + rng.integers(-3, 4, (h, w))
        planes.append(np.clip(img, 0, 255).astype(np.uint8))
        r = rng.random()
        if r < 0.15:
            meta.append({})
        else:
            if r > 0.9:
                exposure *= float(rng.choice([0.25, 3.0]))
            meta.append({"ExposureTime": exposure, "AnalogueGain": float(rng.choice([1.0, 1.0, 2.0]))})
    return planes, meta


@pytest.mark.parametrize("seed", range(24))
def test_random_sequences_host(seed: int, host_runner: Runner, tmp_path: Path) -> None:
    rng = np.random.default_rng(seed)
    h, w = SHAPES[seed % len(SHAPES)]
    config = random_config(rng)
    planes, meta = random_planes(rng, h, w, 72)
    frames = write_frames(tmp_path / "frames", planes, clip_id=f"seq{seed}", metadata=meta)
    params = write_params(config, (w, h), tmp_path / "p.txt")
    proc = host_runner.run("--params", str(params), "--frames", str(frames))
    assert proc.returncode == 0, f"config:\n{config}\n{proc.stdout[-1500:]}{proc.stderr[-3000:]}"
    cpp, _ = parse_output(proc.stdout)
    assert_same_frames(cpp, python_gate_lines(config, frames))


def test_a_dim_scene_is_judged_alike_by_the_board(host_runner: Runner, tmp_path: Path) -> None:
    """focus_ratio on the board: a dim but sharp scene is defocused by the absolute test
    alone and not with the relative one, frame for frame as in Python."""
    import cv2

    rng = np.random.default_rng(7)
    # Broad shapes of little contrast and a faint fine grain: std about 5, lap_var about 3.
    broad = cv2.resize(rng.integers(0, 255, (9, 16)).astype(np.float64), (160, 90),
                       interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (90, 160)), (0, 0), 1.0)
    dim = np.clip(np.round((broad - broad.mean()) * 0.1 + grain * 3 + 40), 0, 255).astype(np.uint8)
    planes = [dim] * 30
    for i in range(20):
        walker = dim.copy()
        walker[30:54, 30 + 4 * i:42 + 4 * i] = 90
        planes.append(walker)
    frames = write_frames(tmp_path / "frames", planes, clip_id="dim")
    tampers = []
    for ratio in (0.0, 0.03):
        config = ("[gate.tamper]\ncheck_every_s = 0.2\npersist_s = 0.6\n"
                  f"focus_ratio = {ratio}\n")
        params = write_params(config, (160, 90), tmp_path / f"p{ratio}.txt")
        proc = host_runner.run("--params", str(params), "--frames", str(frames))
        assert proc.returncode == 0, proc.stderr[-2000:]
        cpp, _ = parse_output(proc.stdout)
        assert_same_frames(cpp, python_gate_lines(config, frames))
        tampers.append({f.tamper for f in cpp})
    assert "defocused" in tampers[0] and tampers[1] == {"ok"}, tampers


def test_random_sequences_cover_every_branch(tmp_path: Path) -> None:
    """The seeds above reach rejection by light and exposure, each tamper condition, and zones."""
    seen: set[str] = set()
    for seed in range(24):
        rng = np.random.default_rng(seed)
        h, w = SHAPES[seed % len(SHAPES)]
        config = random_config(rng)
        planes, meta = random_planes(rng, h, w, 72)
        frames = write_frames(tmp_path / f"f{seed}", planes, metadata=meta)
        for f in python_gate_lines(config, frames):
            seen.add(f.reason)
            seen.add("tamper:" + f.tamper)
            seen.update("zone" for _ in f.zones[:1])
            if f.closed:
                seen.add("closed")
    assert {"motion", "global_change", "exposure_change", "closed", "zone"} <= seen
    assert {"tamper:dark", "tamper:flat", "tamper:defocused", "tamper:scene_changed"} <= seen, seen


def test_random_sequences_qemu(qemu_runner: Runner, tmp_path: Path) -> None:
    for seed in (0, 3, 6):
        rng = np.random.default_rng(seed)
        h, w = SHAPES[seed % len(SHAPES)]
        config = random_config(rng)
        planes, meta = random_planes(rng, h, w, 72)
        frames = write_frames(tmp_path / f"frames{seed}", planes, clip_id=f"seq{seed}", metadata=meta)
        params = write_params(config, (w, h), tmp_path / f"p{seed}.txt")
        proc = qemu_runner.run("--params", str(params), "--frames", str(frames))
        assert proc.returncode == 0, proc.stdout[-2000:]
        cpp, _ = parse_output(proc.stdout)
        assert_same_frames(cpp, python_gate_lines(config, frames))


def random_objects(rng: np.random.Generator, zones: list[str], extra: tuple[str, ...] = ()) -> str:
    """An [objects] section at the corners: tiny tables (max_objects), short paths, no travel
    needed or a lot, immediate ids (min_hits 1), label and zone rules; ``extra`` lines go
    into the section too."""
    lines = [
        "[objects]",
        f"mode = \"{rng.choice(['object', 'both'])}\"",
        f"min_hits = {int(rng.integers(1, 4))}",
        f"coast_frames = {int(rng.integers(0, 6))}",
        f"lost_s = {int(rng.integers(2, 16)) / 10}",
        f"merge_frames = {int(rng.choice([0, 3, 30]))}",
        f"stationary_after_s = {int(rng.integers(3, 20)) / 10}",
        f"stationary_max_s = {int(rng.integers(5, 50)) / 10}",
        f"max_objects = {int(rng.integers(1, 9))}",
        f"classify_per_frame = {int(rng.integers(0, 4))}",
        f"min_travel = {float(rng.choice([0.0, 0.25, 0.5, 2.0]))}",
        f"min_travel_pct = {float(rng.choice([0.0, 1.0, 5.0]))}",
        f"still_min_score = {float(rng.choice([0.0, 0.3, 0.6, 0.85]))}",
        f"still_min_votes = {int(rng.integers(1, 4))}",
        f"path_points = {int(rng.integers(2, 9))}",
        *extra,
    ]
    if rng.random() < 0.3:
        lines.append('labels = ["person", "vehicle"]')
    if zones and rng.random() < 0.4:
        lines.append(f'required_zones = ["{zones[0]}"]')
    if rng.random() < 0.5:
        lines += ['[objects.filters."*"]', f"min_area_pct = {float(rng.choice([0.0, 1.0, 5.0]))}",
                  f"max_area_pct = {float(rng.choice([30.0, 100.0]))}"]
    if rng.random() < 0.4:
        lines += ["[objects.filters.person]", f"min_score = {float(rng.choice([0.3, 0.6]))}"]
    if zones and rng.random() < 0.5:
        lines += ["[[objects.zones]]", f'name = "{zones[-1]}"', 'labels = ["person", "animal"]']
    return "\n".join(lines) + "\n"


def _object_case(seed: int, tmp_path: Path) -> tuple[str, Path, bool]:
    rng = np.random.default_rng(1000 + seed)
    h, w = SHAPES[seed % len(SHAPES)]
    config = random_config(rng)
    zones = [line.split('"')[1] for line in config.splitlines() if line.startswith("name = ")]
    classify = bool(rng.random() < 0.5)
    config = config.replace("[gate]", "[classifier]\nenabled = " + ("true" if classify else "false") + "\n[gate]")
    # The settle rule from an rng of its own, so the sequences drawn before it stay the same.
    settle = np.random.default_rng(2000 + seed)
    extra = (f"settle_after = {int(settle.integers(0, 4))}", f"recheck_s = {int(settle.integers(1, 12)) / 10}")
    # The back-off likewise (drawn after the settle keys, from a third rng).
    extra += (f"backoff_after = {int(np.random.default_rng(3000 + seed).integers(0, 3))}",)
    config += random_objects(rng, zones, extra)
    planes, meta = random_planes(rng, h, w, 72)
    frames = write_frames(tmp_path / f"frames{seed}", planes, clip_id=f"obj{seed}", metadata=meta)
    return config, frames, classify


@pytest.mark.parametrize("seed", range(16))
def test_random_sequences_objects_host(seed: int, host_runner: Runner, tmp_path: Path) -> None:
    """Object events (and motion events in "both" mode) of random sequences, byte for byte."""
    config, frames, classify = _object_case(seed, tmp_path)
    clf = SeededClassifier(seed) if classify else None
    expected, cls = python_pipeline(config, frames, clf)
    got = runner_events(host_runner, config, frames, tmp_path, cls if classify else None)
    assert got == expected, f"config:\n{config}"


def test_random_object_sequences_make_objects(tmp_path: Path) -> None:
    """The seeds above publish object events, several objects, ends and labels."""
    import json

    seen: set[str] = set()
    for seed in range(16):
        config, frames, classify = _object_case(seed, tmp_path)
        events, _ = python_pipeline(config, frames, SeededClassifier(seed) if classify else None)
        for line in events:
            e = json.loads(line)
            if e["schema"] != 2:
                continue
            seen.add(e["type"])
            seen.add(f"id{min(e['object_id'], 3)}")
            if e["end_reason"]:
                seen.add(e["end_reason"])
            if e["label"]:
                seen.add("label")
    assert {"start", "update", "end", "id1", "id3", "label"} <= seen, seen


def test_random_object_sequences_qemu(qemu_runner: Runner, tmp_path: Path) -> None:
    for seed in (1, 4):
        config, frames, classify = _object_case(seed, tmp_path)
        clf = SeededClassifier(seed) if classify else None
        expected, cls = python_pipeline(config, frames, clf)
        run_dir = tmp_path / f"run{seed}"
        run_dir.mkdir()
        assert runner_events(qemu_runner, config, frames, run_dir, cls if classify else None) == expected
