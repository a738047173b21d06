"""The payload examples in docs/events.md satisfy the shipped schema and list every field."""

from __future__ import annotations

import json
import re
from pathlib import Path

from eventkit import validate

from visionedge.events import EVENT_FIELDS

DOC = Path(__file__).parents[2] / "docs" / "events.md"


def test_every_json_example_validates_and_keeps_the_field_order() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    payloads = []
    for block in blocks:
        if block.lstrip().startswith("{\n"):
            payloads.append(json.loads(block))
        else:
            payloads += [json.loads(line) for line in block.splitlines() if line.strip()]
    assert len(payloads) >= 4
    validate(payloads)
    assert all(list(p) == list(EVENT_FIELDS) for p in payloads)


def test_every_field_is_documented_in_the_table() -> None:
    text = DOC.read_text()
    for name in EVENT_FIELDS:
        assert f"| `{name}` |" in text, name
