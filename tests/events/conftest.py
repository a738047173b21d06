"""Makes the shared builders in eventkit.py importable (pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from visionedge.events import load_schema


@pytest.fixture
def validator() -> jsonschema.Draft202012Validator:
    """The shipped schema, itself checked against the draft 2020-12 meta-schema."""
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)
