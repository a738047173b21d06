"""Bad input: unwritable folder, full disk, truncated/foreign/damaged recordings.

Each gives one ``visionedge: error:`` line and a distinct status (11: cannot write
recordings, 12: cannot replay this recording, 18: a newer format), never a traceback, and loses nothing that
was already written (events keep flowing when the disk is full).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reckit import LiveRun, live_config, one_error_line, visionedge

from visionedge.errors import RecordingVersionError


def test_unwritable_recording_folder_refuses_to_start(rec_clip: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the folder should be")
    cfg = live_config(tmp_path, rec_clip, path=str(blocker / "recordings"))
    r = visionedge("run", "--config", str(cfg))
    assert r.code == 11
    one_error_line(r.err, "is not writable")
    assert not (tmp_path / "live.jsonl").exists() or (tmp_path / "live.jsonl").read_text() == ""


def test_other_format_version(copy_rec: Callable[[int], Path]) -> None:
    # A newer format has its own status (test_format_versions.py has the rest).
    rec = copy_rec(0)
    m = json.loads((rec / "manifest.json").read_text())
    m["version"] = 99
    (rec / "manifest.json").write_text(json.dumps(m))
    r = visionedge("replay", str(rec))
    assert r.code == RecordingVersionError.exit_code == 18 and r.out == ""
    one_error_line(r.err, "format version 99 is newer")


def test_never_closed_recording_is_truncated(copy_rec: Callable[[int], Path]) -> None:
    rec = copy_rec(0)
    m = json.loads((rec / "manifest.json").read_text())
    m["complete"] = False
    (rec / "manifest.json").write_text(json.dumps(m))
    r = visionedge("replay", str(rec))
    assert r.code == 12
    one_error_line(r.err, "truncated recording")


def test_cut_planes_replay_the_frames_before_then_fail(copy_rec: Callable[[int], Path]) -> None:
    rec = copy_rec(1)
    planes = rec / "planes.bin"
    data = planes.read_bytes()
    planes.write_bytes(data[: len(data) * 3 // 4])
    r = visionedge("replay", str(rec))
    assert r.code == 12
    one_error_line(r.err, "missing or damaged")
    assert (rec / "planes.bin").stat().st_size == len(data) * 3 // 4  # nothing deleted


def test_missing_frame_lines(copy_rec: Callable[[int], Path]) -> None:
    rec = copy_rec(0)
    lines = (rec / "frames.jsonl").read_text().splitlines(keepends=True)
    (rec / "frames.jsonl").write_text("".join(lines[:-3]) + lines[-3][:10])
    r = visionedge("replay", str(rec))
    assert r.code == 12
    one_error_line(r.err, "damaged")


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def test_state_file_cannot_run_code(copy_rec: Callable[[int], Path], tmp_path: Path) -> None:
    rec = copy_rec(0)
    (rec / "state.pkl").write_bytes(pickle.dumps(_Evil()))
    r = visionedge("replay", str(rec), cwd=tmp_path)
    assert r.code == 12
    one_error_line(r.err, "start state is damaged")
    assert not (tmp_path / "pwned").exists()


def test_lossy_recording_is_refused(copy_rec: Callable[[int], Path]) -> None:
    rec = copy_rec(0)
    m = json.loads((rec / "manifest.json").read_text())
    m["dropped_frames"] = 5
    (rec / "manifest.json").write_text(json.dumps(m))
    r = visionedge("replay", str(rec))
    assert r.code == 12
    one_error_line(r.err, "5 frames were dropped")


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mnt)],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        pytest.skip(f"a full disk is made with a 400 kB tmpfs, which needs root ({p.stderr.strip()})")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def strip(line: str) -> dict[str, object]:
    d = json.loads(line)
    for key in ("event_id", "continues", "recording", "snapshot"):
        d.pop(key, None)
    return d


def test_full_disk_loses_no_event(
    rec_clip: Path, live: LiveRun, small_tmpfs: Path, tmp_path: Path
) -> None:
    cfg = live_config(tmp_path, rec_clip, path=str(small_tmpfs / "rec"))
    r = visionedge("run", "--config", str(cfg))
    assert r.code == 0, r.err
    assert "visionedge: error" not in r.err
    assert "failed and stays incomplete" in r.err or "recording skipped" in r.err
    lines = (tmp_path / "live.jsonl").read_text().splitlines()
    # Every event line the run without a full disk published is there, in order.
    assert [strip(x) for x in lines] == [strip(x) for x in live.lines]
    listed = visionedge("recordings", "list", "--dir", str(small_tmpfs / "rec"))
    assert listed.code == 0, listed.err
    broken = [line.split("\t")[0] for line in listed.out.splitlines()
              if line.endswith(("failed", "truncated"))]
    assert broken, listed.out
    r2 = visionedge("replay", broken[0])
    assert r2.code == 12
    one_error_line(r2.err, "")


def test_free_space_floor_skips_recordings_not_events(
    rec_clip: Path, live: LiveRun, tmp_path: Path
) -> None:
    cfg = live_config(tmp_path, rec_clip, min_free_mb=1e12)
    r = visionedge("run", "--config", str(cfg))
    assert r.code == 0, r.err
    assert "recording skipped" in r.err
    lines = (tmp_path / "live.jsonl").read_text().splitlines()
    assert [strip(x) for x in lines] == [strip(x) for x in live.lines]
    ends = [json.loads(x) for x in lines if '"type":"end"' in x]
    assert ends and all(e["recording"] is None and e["snapshot"] is None for e in ends)
    assert list((tmp_path / "recordings").iterdir()) == []



def test_floor_stops_a_growing_recording_before_the_disk_is_full(
    rec_clip: Path, live: LiveRun, small_tmpfs: Path, tmp_path: Path
) -> None:
    # 400 kB file system, 0.25 MB floor: a recording may start, and stops once free space
    # falls below the floor (checked before each frame, so at most one frame, ~80 kB here,
    # below it), never with ENOSPC.
    cfg = live_config(tmp_path, rec_clip, path=str(small_tmpfs / "rec"), min_free_mb=0.25)
    r = visionedge("run", "--config", str(cfg))
    assert r.code == 0, r.err
    assert "below recording.min_free_mb" in r.err and "No space left" not in r.err
    lines = (tmp_path / "live.jsonl").read_text().splitlines()
    assert [strip(x) for x in lines] == [strip(x) for x in live.lines]
    st = os.statvfs(small_tmpfs)
    assert st.f_bavail * st.f_frsize >= 0.15 * 1024 * 1024
