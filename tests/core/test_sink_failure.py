"""A sink that fails (a full disk under the event file) stops the run with exit 6, and the
other sinks still get every message, including the open event's end (issue 10 item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionedge.config import parse_config
from visionedge.errors import SinkError
from visionedge.pipeline import build_pipeline
from visionedge.sinks.jsonl import JsonLinesSink
from visionedge.sinks.memory import MemorySink

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")


def test_a_failed_sink_stops_the_run_but_the_others_get_the_end() -> None:
    cfg = parse_config({"classifier": {"enabled": False}, "output": {"stdout": False}})
    full = JsonLinesSink("/dev/full")  # every write fails with ENOSPC, like a full disk
    kept = MemorySink()
    pipeline = build_pipeline(cfg, sinks=[full, kept], deterministic_ids=True)
    with pytest.raises(SinkError, match="cannot write events to /dev/full"):
        pipeline.run()
    types = [e["type"] for e in kept.events]
    assert types[0] == "start" and types[-1] == "end"
    assert kept.events[-1]["event_id"] == kept.events[0]["event_id"]
    assert kept.events[-1]["end_reason"] == "stopped"
    pipeline.finish("stopped")  # idempotent, and the failed sink is not tried again
    full.close()  # reported once already: closes without a second error
