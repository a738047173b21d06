"""Retention: total size, age and the free-space floor; recordings being written are kept."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from reckit import visionedge

from visionedge.config import RecordingConfig
from visionedge.recording import list_recordings, prune

MB = 1024 * 1024


def fake(root: Path, name: str, age_h: float, mb: float) -> Path:
    """A recording folder as retention sees it: a manifest with its creation time, and bytes."""
    p = root / name
    p.mkdir(parents=True)
    created = dt.datetime.fromtimestamp(time.time() - age_h * 3600, dt.UTC)
    (p / "manifest.json").write_text(json.dumps({
        "format": "visionedge-recording", "version": 1, "created_utc": created.isoformat(),
    }))
    (p / "planes.bin").write_bytes(b"\0" * int(mb * MB))
    return p


def names(root: Path) -> list[str]:
    return [e.path.name for e in list_recordings(root)]


def test_total_size_deletes_oldest_first(tmp_path: Path) -> None:
    for i, age in enumerate([5, 4, 3, 2, 1]):
        fake(tmp_path, f"r{i}", age, 1.0)
    cfg = RecordingConfig(max_total_mb=2.5, min_free_mb=0)
    removed = prune(tmp_path, cfg)
    assert [p.name for p in removed] == ["r0", "r1", "r2"]
    assert names(tmp_path) == ["r3", "r4"]


def test_age_limit(tmp_path: Path) -> None:
    fake(tmp_path, "old", 30, 0.01)
    fake(tmp_path, "new", 1, 0.01)
    prune(tmp_path, RecordingConfig(max_age_h=24, min_free_mb=0))
    assert names(tmp_path) == ["new"]


def test_free_space_floor_and_kept_folders(tmp_path: Path) -> None:
    a = fake(tmp_path, "a", 3, 0.01)
    fake(tmp_path, "b", 2, 0.01)
    # A floor the disk can never meet deletes every recording except the one being written.
    prune(tmp_path, RecordingConfig(min_free_mb=1e12), keep={a})
    assert names(tmp_path) == ["a"]


def test_folders_without_manifest_are_not_touched(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("mine")
    fake(tmp_path, "r", 100, 0.01)
    prune(tmp_path, RecordingConfig(max_age_h=1, min_free_mb=0))
    assert (tmp_path / "notes" / "x.txt").exists() and names(tmp_path) == []


def test_prune_command(tmp_path: Path) -> None:
    root = tmp_path / "recs"
    fake(root, "old", 48, 0.01)
    fake(root, "new", 1, 0.01)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[recording]\npath = "{root}"\nmax_age_h = 24.0\nmin_free_mb = 0.0\n')
    r = visionedge("recordings", "prune", "--config", str(cfg))
    assert r.code == 0, r.err
    assert r.out.strip() == f"removed {root / 'old'}"
    assert names(root) == ["new"]
    missing = visionedge("recordings", "list", "--dir", str(tmp_path / "nope"))
    assert missing.code == 11 and missing.err.startswith("visionedge: error:")
