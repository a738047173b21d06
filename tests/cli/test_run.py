"""``visionedge run``: plays the configured source; SIGTERM ends the open event and exits 0."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
from replaykit import ROOT, console_script, run_script

from visionedge.objects import load_object_schema


def test_run_plays_a_file_source_to_its_end(clip: Callable[[str], Path], tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    out_file = tmp_path / "events.jsonl"
    cfg.write_text(
        f'[source]\nkind = "file"\npath = "{clip("small")}"\n'
        f'[classifier]\nenabled = false\n[output]\nfile = "{out_file}"\n'
    )
    r = run_script("run", "--config", str(cfg))
    assert r.code == 0, r.err
    events = [json.loads(line) for line in r.out.splitlines()]
    assert events and out_file.read_text() == r.out
    # The default object events (schema 2).
    validator = jsonschema.Draft202012Validator(load_object_schema())
    for e in events:
        validator.validate(e)
    assert events[0]["type"] == "start" and events[-1]["type"] == "end"
    # Live form: random v4 ids, not the replay's v5.
    assert events[0]["event_id"][14] == "4"


def test_sigterm_mid_event_ends_it_and_exits_0(clip: Callable[[str], Path], tmp_path: Path) -> None:
    cfg = tmp_path / "rt.toml"
    cfg.write_text(
        f'[source]\nkind = "file"\npath = "{clip("small")}"\nrealtime = true\n'
        "[classifier]\nenabled = false\n"
    )
    proc = subprocess.Popen(
        [console_script(), "run", "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the first event (the clip plays at 10 fps)
        start = json.loads(first)
        assert start["type"] == "start"
        time.sleep(0.3)  # a few frames into the event; the test does not depend on how many
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err
    events = [start] + [json.loads(line) for line in rest.splitlines()]
    end = events[-1]
    assert end["type"] == "end" and end["end_reason"] == "stopped"
    assert end["event_id"] == start["event_id"]
    # Stopped well before the clip's end (8 s at real time).
    assert end["end_ts_ms"] < 7000
    assert "Traceback" not in err
