"""The object event examples in docs/objects.md satisfy the schema and list every field."""

from __future__ import annotations

import json
import re
from pathlib import Path

from objkit import validate

from visionedge.config import ObjectsConfig
from visionedge.objects import OBJECT_EVENT_FIELDS

DOC = Path(__file__).parents[2] / "docs" / "objects.md"


def test_every_json_example_validates_and_keeps_the_field_order() -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    payloads = [json.loads(line) for block in blocks for line in block.splitlines() if line.strip()]
    assert len(payloads) >= 2
    validate(payloads)
    assert all(list(p) == list(OBJECT_EVENT_FIELDS) for p in payloads)


def test_every_field_and_setting_is_documented() -> None:
    text = DOC.read_text()
    for name in OBJECT_EVENT_FIELDS:
        assert f"| `{name}` |" in text, name
    for name in ObjectsConfig.model_fields:
        assert f"`{name}`" in text, name
