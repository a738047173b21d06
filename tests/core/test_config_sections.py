"""parse_config validates only the sections a file sets, and gives what full validation gives.

The sections left out are their defaults made without building their validators (issue 11,
start-up); every result is compared with ``Config.model_validate`` field by field, with the
set of keys each section was given (``model_fields_set``, which the classifier settings read).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from typing import Any

import pytest
from pydantic import BaseModel

from visionedge.config import Config, default_config_toml, parse_config
from visionedge.config import _by_section as by_section
from visionedge.errors import ConfigError

VALID = [
    "",
    '[source]\nkind = "file"\npath = "clip.mp4"\n[output]\nstdout = false\n',
    "[gate]\npixel_threshold = 20\n[gate.tamper]\nenabled = false\n",
    '[[gate.zones]]\nname = "door"\npolygon = [[0, 0], [0.5, 0], [0.5, 0.5]]\n'
    '[objects]\nrequired_zones = ["door"]\n',
    '[classifier]\nmodel = "demo"\nthreshold = 0.4\n[events]\nupdate_every = 5\n',
    '[mqtt]\nenabled = true\nhost = "broker"\n[mqtt.tls]\nenabled = false\n[spool]\nsynchronous = "normal"\n',
    "[daemon]\n[metrics]\n[recording]\n[web]\n[device]\n",
]
"""Sections set, nested sections set and left out, empty sections, cross-section checks."""

INVALID = [
    "[gate]\nk = 5\nn = 3\n",  # a section's after-validator
    '[objects]\nrequired_zones = ["nowhere"]\n',  # the whole config's validator
    "[gate]\npixel_threshold = true\n[source]\nkind = 3\n",  # errors in two sections
    "[nosuch]\nx = 1\n[gate]\nk = 9\n",  # an unknown section beside a bad value
    "gate = 3\n",  # a section that is not a table
    "[gate.tamper]\nbogus = 1\n",  # an unknown key inside a nested section
]


def _same(a: Any, b: Any, where: str = "config") -> None:
    assert type(a) is type(b), where
    if isinstance(a, BaseModel):
        assert a.model_fields_set == b.model_fields_set, where
        for name in type(a).model_fields:
            _same(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("text", [*VALID, default_config_toml()])
def test_section_by_section_equals_whole_validation(text: str) -> None:
    data = tomllib.loads(text)
    fast = by_section(data)
    assert fast is not None
    _same(fast, Config.model_validate(data))
    _same(parse_config(data), Config.model_validate(data))


@pytest.mark.parametrize("text", INVALID)
def test_errors_are_the_whole_models(text: str) -> None:
    data = tomllib.loads(text)
    assert by_section(data) is None
    with pytest.raises(ConfigError) as err:
        parse_config(data, "f.toml")
    with pytest.raises(Exception) as whole:
        Config.model_validate(data)
    errors = whole.value.errors()  # type: ignore[attr-defined]
    assert str(err.value).startswith("f.toml: ")
    assert len(errors) == 1 or f"(and {len(errors) - 1} more problem(s))" in str(err.value)


def test_sections_left_out_build_no_validator(tmp_path: Any) -> None:
    # A fresh process: in this one other tests have built every model already.
    cfg = tmp_path / "c.toml"
    cfg.write_text('[source]\nkind = "synth"\n[gate]\npixel_threshold = 20\n')
    code = (
        "import sys\nfrom visionedge.config import load_config, Config, GateConfig, "
        "SourceConfig, MqttConfig, WebConfig, ObjectsConfig\n"
        "c = load_config(sys.argv[1])\n"
        "print(c.gate.pixel_threshold, c.mqtt.enabled, [m.__pydantic_complete__ for m in "
        "(Config, GateConfig, SourceConfig, MqttConfig, WebConfig, ObjectsConfig)])\n"
        # Assigning to a section left out still validates (its validator is built then).
        "c.mqtt.port = 1884\n"
        "try:\n    c.mqtt.port = 'x'\nexcept Exception as e:\n    print(type(e).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(cfg)], capture_output=True,
                         text=True, timeout=120, check=True).stdout.split("\n")
    assert out[0] == "20 False [False, True, True, False, False, False]"
    assert out[1] == "ValidationError"
