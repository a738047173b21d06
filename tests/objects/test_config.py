"""The [objects] section: defaults keep motion events, bad values are one clear line."""

from __future__ import annotations

import pytest

from visionedge.config import Config, default_config_toml, parse_config
from visionedge.errors import ConfigError


def test_default_is_object_mode_and_the_defaults_file_parses_back() -> None:
    assert Config().objects.mode == "object"
    import tomllib

    assert parse_config(tomllib.loads(default_config_toml())).objects == Config().objects


def test_crop_budget_defaults_are_the_measured_ones() -> None:
    # docs/objects.md ("Longer re-checks, shorter settling"): recheck_s 3/4/6 and
    # settle_after 2 each lost labels on the real clips; backoff_after 2 was chosen there too.
    cfg = Config().objects
    assert (cfg.settle_after, cfg.recheck_s, cfg.backoff_after) == (3, 2.0, 2)


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ({"objects": {"mode": "objects"}}, "objects.mode"),
        ({"objects": {"required_zones": ["door"]}}, "'door' is not one of gate.zones"),
        ({"objects": {"zones": [{"name": "door"}]}}, "'door' is not one of gate.zones"),
        ({"objects": {"filters": {"person": {"min_score": 2}}}}, "objects.filters.person.min_score"),
        ({"objects": {"min_hits": 0}}, "objects.min_hits"),
        ({"objects": {"colour": "red"}}, "unknown key"),
    ],
)
def test_bad_object_settings_name_the_key(section: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(section, "cam.toml")
    msg = str(err.value)
    assert needle in msg and "\n" not in msg
