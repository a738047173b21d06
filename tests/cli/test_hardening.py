"""Real ``visionedge`` runs against the failures of issue 10: full disks, configs that
``config check`` passed and ``run`` then rejected, passwords in source URLs."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from replaykit import run_script

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (the audit's full-disk setup), unmounted afterwards."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
                       capture_output=True, text=True, timeout=30)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()})")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ours(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("visionedge:")]


def _one_error_line(err: str) -> str:
    ours = _ours(err)
    assert len(ours) == 1, err
    assert ours[0].startswith("visionedge: error: ")
    for bad in ("Traceback", "FATAL", "Exception ignored", "OperationalError"):
        assert bad not in err, err
    return ours[0]


@needs_root
def test_spool_on_a_full_disk_drops_and_counts_and_the_run_goes_on(
    tiny_disk: Path, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    # Issue 10 item 1: exit 1 after ~24 events ("database or disk is full").
    # The filler leaves the spool room for a few dozen of the clip's ~100 events, so the disk
    # fills whatever the gate's close time makes of the event count.
    (tiny_disk / "filler").write_bytes(bytes(160_000))
    events = tmp_path / "events.jsonl"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[source]\nkind = "file"\npath = "{clip("default")}"\n[classifier]\nenabled = false\n'
        f'[events]\nupdate_every = 1\n[output]\nstdout = false\nfile = "{events}"\n'
        f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {_closed_port()}\n'
        f'stats_interval_s = 0\n[spool]\npath = "{tiny_disk / "spool.sqlite3"}"\n'
        "[daemon]\nstop_timeout_s = 1\n"
    )
    r = run_script("run", "--config", str(cfg))
    assert r.code == 0, r.err
    sent = len(events.read_text().splitlines())
    con = sqlite3.connect(tiny_disk / "spool.sqlite3")
    kept = con.execute("SELECT COUNT(*) FROM spool").fetchone()[0]
    con.close()
    drop_lines = [line for line in r.err.splitlines() if "spool: dropped" in line]
    dropped = sum(int(re.search(r"dropped (\d+)", line).group(1)) for line in drop_lines)  # type: ignore[union-attr]
    assert dropped > 0 and kept > 0, r.err
    assert kept + dropped == sent  # every event is either spooled or counted as dropped
    assert len(drop_lines) <= 3  # once per burst, not once per event


@needs_root
def test_file_sink_on_a_full_disk_exits_6_with_one_line(
    tiny_disk: Path, clip: Callable[[str], Path], tmp_path: Path
) -> None:
    # Issue 10 item 2: rc 134 "FATAL: exception not rethrown" (capture thread not joined).
    (tiny_disk / "filler").write_bytes(bytes(250_000))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[source]\nkind = "file"\npath = "{clip("default")}"\n[classifier]\nenabled = false\n'
        f'[events]\nupdate_every = 1\n[output]\nstdout = false\n'
        f'file = "{tiny_disk / "events.jsonl"}"\n'
    )
    r = run_script("run", "--config", str(cfg))
    assert r.code == 6, r.err
    line = _one_error_line(r.err)
    assert "events.jsonl" in line and "No space left" in line


def _cases(tmp: Path) -> list[tuple[str, str, int, str]]:
    # Runs get a state directory of their own: nothing is written into the checkout.
    fast = f'[classifier]\nenabled = false\n[daemon]\nstate_dir = "{tmp / "state"}"\n'
    mqtt = f'[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {_closed_port()}\n'
    return [
        ("missing_model", f'[classifier]\nmodel = "{tmp / "missing.tflite"}"\n', 5,
         "missing.tflite"),
        ("missing_password_file", fast + mqtt + f'password_file = "{tmp / "nope"}"\n', 3,
         "mqtt.password_file"),
        ("wildcard_discovery_prefix", fast + mqtt + 'discovery_prefix = "ha/#"\n', 3,
         "mqtt.discovery_prefix"),
        ("empty_host", fast + '[mqtt]\nenabled = true\nhost = ""\n', 3, "mqtt.host"),
        ("bool_as_int", fast + "[gate]\npixel_threshold = true\n", 3, "gate.pixel_threshold"),
        ("infinity", fast + "[gate]\nexposure_jump = inf\n", 3, "finite number"),
        ("deep_toml", "x = " + "[" * 200_000 + "]" * 200_000 + "\n", 3, "nest more than"),
        ("missing_clip", fast + f'[source]\nkind = "file"\npath = "{tmp / "no.avi"}"\n', 4,
         "clip not found"),
        ("missing_tls_ca", fast + mqtt + f'[mqtt.tls]\nenabled = true\nca_file = "{tmp / "ca"}"\n',
         3, "mqtt.tls.ca_file"),
    ]


@pytest.mark.parametrize("case", range(9))
def test_config_check_rejects_what_run_rejects_with_the_same_status(
    case: int, tmp_path: Path
) -> None:
    # Issue 10 item 3: `config check` said ok, then `run` failed (some with exit 1).
    name, toml, code, fragment = _cases(tmp_path)[case]
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(toml)
    check = run_script("config", "check", str(cfg))
    assert check.code == code, (name, check.out, check.err)
    assert fragment in _one_error_line(check.err)
    run = run_script("run", "--config", str(cfg))
    assert run.code == code, (name, run.err)
    assert fragment in _one_error_line(run.err)


def test_config_check_notes_what_it_cannot_check(tmp_path: Path) -> None:
    cfg = tmp_path / "svc.toml"
    cfg.write_text('[classifier]\nenabled = false\n[mqtt]\nenabled = true\n'
                   'password_file = "mqtt-password"\n')
    env_free = run_script("config", "check", str(cfg))
    assert env_free.code == 0, env_free.err
    assert env_free.out.splitlines()[0] == f"{cfg}: ok"
    assert "CREDENTIALS_DIRECTORY" in env_free.out and "not contacted" in env_free.out


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_password_in_a_source_url_is_never_printed(command: str, tmp_path: Path) -> None:
    # Issue 10 item 7: "rtsp:/admin:Hunter2pw@…: clip not found".
    cfg = tmp_path / "url.toml"
    cfg.write_text('[classifier]\nenabled = false\n[source]\nkind = "file"\n'
                   'path = "rtsp://admin:Hunter2pw@192.0.2.7:554/stream1"\n')
    args = ("config", "check", str(cfg)) if command == "check" else ("run", "--config", str(cfg))
    r = run_script(*args)
    assert r.code == 4
    line = _one_error_line(r.err)
    assert "Hunter2pw" not in r.err + r.out and "admin:***@192.0.2.7" in line

