"""Bad input to the firmware runner: an error code and a one-line message, never UB.

The host runner is built with AddressSanitizer and UBSan, which exit with status 86 on any
memory error or undefined behaviour, so "rejected cleanly" (status 1) is checked exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fwkit import Runner, write_frames, write_params

CONFIG = "[gate]\nwidth = 48\n"


def _frames(tmp_path: Path, h: int = 36, w: int = 48, count: int = 4) -> Path:
    rng = np.random.default_rng(0)
    planes = [rng.integers(0, 256, (h, w), dtype=np.uint8) for _ in range(count)]
    return write_frames(tmp_path / "frames", planes)


def _expect_error(proc: object, name: str, code: int, *fragments: str) -> str:
    out = proc.stdout  # type: ignore[attr-defined]
    assert proc.returncode == 1, f"status {proc.returncode}:\n{out[-1500:]}\n{proc.stderr[-3000:]}"  # type: ignore[attr-defined]
    errors = [line for line in out.splitlines() if line.startswith("error ")]
    assert len(errors) == 1, out[-2000:]
    line = errors[0]
    assert line.startswith(f"error {name} ({code}): "), line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_wrong_frame_size(host_runner: Runner, tmp_path: Path) -> None:
    frames = _frames(tmp_path, h=36, w=48)
    params = write_params(CONFIG, (40, 30), tmp_path / "p.txt")
    proc = host_runner.run("--params", str(params), "--frames", str(frames))
    _expect_error(proc, "frame_size", 1, "is 48x36 but the gate is configured for 40x30",
                  "visionedge firmware config")


def test_wrong_frame_size_qemu(qemu_runner: Runner, tmp_path: Path) -> None:
    frames = _frames(tmp_path, h=36, w=48)
    params = write_params(CONFIG, (40, 30), tmp_path / "p.txt")
    proc = qemu_runner.run("--params", str(params), "--frames", str(frames))
    _expect_error(proc, "frame_size", 1, "is 48x36 but the gate is configured for 40x30")


def test_plane_larger_than_buffers(host_runner: Runner, tmp_path: Path) -> None:
    params = write_params(CONFIG, (1000, 10), tmp_path / "p.txt")
    proc = host_runner.run("--params", str(params), "--frames", str(_frames(tmp_path)))
    _expect_error(proc, "plane_too_large", 2, "VE_MAX_PLANE_W")


def test_raw_file_of_wrong_length(host_runner: Runner, tmp_path: Path) -> None:
    params = write_params(CONFIG, (16, 8), tmp_path / "p.txt")
    raw = tmp_path / "f.raw"
    raw.write_bytes(bytes(16 * 8 - 3))
    proc = host_runner.run("--params", str(params), "--raw", "16x8", str(raw))
    _expect_error(proc, "frame_size", 1, "f.raw")


def test_raw_files_run(host_runner: Runner, tmp_path: Path) -> None:
    params = write_params(CONFIG, (16, 8), tmp_path / "p.txt")
    files = []
    for i in range(3):
        p = tmp_path / f"f{i}.raw"
        p.write_bytes(bytes([i * 80]) * (16 * 8))
        files.append(str(p))
    proc = host_runner.run("--params", str(params), "--raw", "16x8", "--fps", "5", "--clip-id", "x", *files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\nframe ") + proc.stdout.startswith("frame ") == 3


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"P5\n48 36\n255\n" + bytes(100), "unreadable"),  # truncated pixels
        (b"P5\n48 36\n65535\n" + bytes(48 * 36 * 2), "unreadable"),  # 16-bit
        (b"P2\n48 36\n255\n0 0 0", "unreadable"),  # ASCII PGM
        (b"", "unreadable"),
        (b"P5\n99999999 36\n255\n", "unreadable"),  # absurd size
    ],
)
def test_malformed_pgm(host_runner: Runner, tmp_path: Path, content: bytes, fragment: str) -> None:
    params = write_params(CONFIG, (48, 36), tmp_path / "p.txt")
    bad = tmp_path / "bad.pgm"
    bad.write_bytes(content)
    proc = host_runner.run("--params", str(params), str(bad))
    _expect_error(proc, "parse", 11, fragment, "bad.pgm")


@pytest.mark.parametrize(
    ("text", "name", "code", "fragment"),
    [
        ("", "parse", 11, "not a visionedge firmware params file"),
        ("visionedge-firmware-params 2\n", "parse", 11, "version 1"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\nk ten\n", "parse", 11, "'k'"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\nwhatever 1\n", "parse", 11, "unknown key 'whatever'"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\nmask 0f\n", "parse", 11, "'mask'"),
        ("visionedge-firmware-params 1\nmask 00\n", "plane_too_large", 2, "before a valid plane_w"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\nk 4\nn 3\n", "bad_config", 3, "gate parameters"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\nn 65\n", "bad_config", 3, "gate parameters"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\nreference sideways\n", "parse", 11, "'reference'"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\nstart_pct nan\n", "bad_config", 3, "gate"),
        ("visionedge-firmware-params 1\nplane_w 8\nplane_h 8\n" + "x" * 5000 + "\n", "parse", 11, "too long"),
    ],
)
def test_malformed_params(
    host_runner: Runner, tmp_path: Path, text: str, name: str, code: int, fragment: str
) -> None:
    params = tmp_path / "p.txt"
    params.write_text(text, encoding="ascii")
    frames = _frames(tmp_path, 8, 8)
    proc = host_runner.run("--params", str(params), "--frames", str(frames))
    _expect_error(proc, name, code, fragment)


def test_missing_params_file(host_runner: Runner, tmp_path: Path) -> None:
    proc = host_runner.run("--params", str(tmp_path / "nope.txt"), "--frames", str(tmp_path))
    _expect_error(proc, "io", 10, "nope.txt")


@pytest.mark.parametrize(
    "manifest",
    ['{"fps": 10.0, "frames": [', '{"fps": 0, "frames": []}', "[]", '{"fps": 10, "frames": [{"index": 0,}]}'],
)
def test_malformed_manifest(host_runner: Runner, tmp_path: Path, manifest: str) -> None:
    frames = _frames(tmp_path)
    (frames / "manifest.json").write_text(manifest, encoding="utf-8")
    params = write_params(CONFIG, (48, 36), tmp_path / "p.txt")
    proc = host_runner.run("--params", str(params), "--frames", str(frames))
    _expect_error(proc, "parse", 11, "manifest")


def test_usage(host_runner: Runner) -> None:
    proc = host_runner.run("--bogus")
    assert proc.returncode == 2 and proc.stdout.startswith("usage:")


@pytest.mark.parametrize(("line", "fragment"), [("3 9:0.5", "bad prediction"), ("3 1:", "bad score"), ("3 x", "bad prediction")])
def test_malformed_classifications(host_runner: Runner, tmp_path: Path, line: str, fragment: str) -> None:
    frames = _frames(tmp_path)
    params = write_params(CONFIG, (48, 36), tmp_path / "p.txt")
    cls = tmp_path / "cls.txt"
    cls.write_text(line + "\n", encoding="ascii")
    proc = host_runner.run("--params", str(params), "--frames", str(frames), "--classifications", str(cls),
                           "--labels", "a,b")
    _expect_error(proc, "parse", 11, fragment)


def test_the_host_runner_is_instrumented(host_runner: Runner) -> None:
    """The "never UB" checks above mean something only if ASan/UBSan are really linked in."""
    import subprocess

    proc = subprocess.run(
        [str(host_runner.path), "--bogus"], capture_output=True, text=True, timeout=60,
        env={"ASAN_OPTIONS": "help=1"},
    )
    assert "Available flags for AddressSanitizer" in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    ("objects", "name", "code", "fragment"),
    [
        ("max_objects = 65", "bad_config", 3, "VE_MAX_OBJECTS 64"),
        ("path_points = 65", "bad_config", 3, "VE_MAX_PATH_POINTS 64"),
    ],
)
def test_object_tables_larger_than_the_build(
    objects: str, name: str, code: int, fragment: str, host_runner: Runner, tmp_path: Path
) -> None:
    params = write_params(CONFIG + f"[objects]\n{objects}\n", (48, 36), tmp_path / "p.txt")
    proc = host_runner.run("--params", str(params), "--frames", str(_frames(tmp_path)))
    _expect_error(proc, name, code, fragment, "rebuild with")


def test_object_lines_in_a_params_file_are_checked(host_runner: Runner, tmp_path: Path) -> None:
    params = write_params(CONFIG, (48, 36), tmp_path / "p.txt")
    bad = params.read_text().replace("obj_mode object", "obj_mode objects")
    params.write_text(bad)
    proc = host_runner.run("--params", str(params), "--frames", str(_frames(tmp_path)))
    _expect_error(proc, "parse", 11, "obj_mode")
    params.write_text(bad.replace("obj_mode objects", "obj_mode object") + "zone_poly 0 40 1 2\n")
    proc = host_runner.run("--params", str(params), "--frames", str(_frames(tmp_path)))
    _expect_error(proc, "parse", 11, "zone_poly")
