"""The config model: defaults work, unknown keys and bad values are named precisely."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from visionedge.config import Config, default_config_toml, load_config, parse_config
from visionedge.errors import ConfigError


def test_defaults_render_as_toml_that_parses_back_to_the_defaults() -> None:
    text = default_config_toml()
    assert parse_config(tomllib.loads(text)) == Config()


def test_every_field_is_documented() -> None:
    def walk(model: type) -> None:
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            assert field.description, f"{model.__name__}.{name} has no description"
            ann = field.annotation
            if isinstance(ann, type) and hasattr(ann, "model_fields"):
                walk(ann)

    walk(Config)


def test_empty_file_is_the_default_config(tmp_path: Path) -> None:
    p = tmp_path / "empty.toml"
    p.write_text("")
    assert load_config(p) == Config()


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[gate]\nstart_pct = -1\n", "gate.start_pct"),
        ("[gate]\nthreshhold = 3\n", "gate.threshhold: unknown key"),
        ("[nonsense]\n", "nonsense: unknown key"),
        ("[gate]\nk = 5\nn = 3\n", "gate.k (5) must not exceed gate.n (3)"),
        ("[gate]\nmasks = [[[0, 0], [1.5, 0], [1, 1]]]\n", "outside the frame"),
        ("[gate]\nmasks = [[[0, 0], [1, 0]]]\n", "at least 3"),
        ("[gate]\nmasks = [[[0, 0], [0.5, 0.5], [1, 1]]]\n", "zero area"),
        ("[source]\nkind = \"file\"\n", "needs source.path"),
        ("[source]\nkind = \"webcam\"\n", "source.kind"),
        ("[classifier]\ninput_range = [1, 0]\n", "min < max"),
        ("[classifier]\nthresholds = {person = 2.0}\n", "person"),
        ("[mqtt]\nport = 70000\n", "mqtt.port"),
        ("[device]\nname = \"has space\"\n", "device.name"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, toml: str, fragment: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(p)
    message = str(info.value)
    assert message.startswith(f"{p}: ")
    assert fragment in message
    assert "\n" not in message


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; create one"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("[gate\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "visionedge", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_config_cli_check_and_defaults(tmp_path: Path) -> None:
    out = _cli("config", "defaults")
    assert out.returncode == 0
    good = tmp_path / "good.toml"
    good.write_text(out.stdout)
    ok = _cli("config", "check", str(good))
    assert ok.returncode == 0 and ok.stdout.strip() == f"{good}: ok"

    bad = tmp_path / "bad.toml"
    bad.write_text("[gate]\npixel_threshold = 0\n")
    res = _cli("config", "check", str(bad))
    assert res.returncode == ConfigError.exit_code
    assert res.stderr.startswith("visionedge: error: ")
    assert "gate.pixel_threshold" in res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1


def test_debug_flag_shows_traceback(tmp_path: Path) -> None:
    res = _cli("--debug", "config", "check", str(tmp_path / "absent.toml"))
    assert res.returncode == ConfigError.exit_code
    assert "Traceback" in res.stderr


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        # Issue 10 item 4: lax types were coerced, non-finite numbers accepted.
        ("[gate]\npixel_threshold = true\n", "gate.pixel_threshold: Input should be a valid integer"),
        ("[gate]\nstart_pct = \"1\"\n", "gate.start_pct"),
        ("[gate]\nexposure_jump = inf\n", "gate.exposure_jump: Input should be a finite number"),
        ("[gate]\nexposure_jump = nan\n", "finite number"),
        ("[classifier]\nthresholds = {person = nan}\n", "finite number"),
        ("[classifier]\ninput_range = [0, inf]\n", "finite number"),
        ("[mqtt]\nqos = true\n", "mqtt.qos"),
        ("[daemon]\nwatchdog = 1\n", "daemon.watchdog: Input should be a valid boolean"),
        # Issue 10 item 3: accepted by the model, then fatal in the MQTT client.
        ("[mqtt]\nhost = \"\"\n", "mqtt.host: invalid value; expected: Broker host name"),
        ("[mqtt]\ndiscovery_prefix = \"ha/#\"\n", "mqtt.discovery_prefix: invalid value"),
        ("[mqtt]\ndiscovery_prefix = \"ha/+/x\"\n", "no # or +"),
    ],
)
def test_strict_types_finite_numbers_and_valid_topics(
    tmp_path: Path, toml: str, fragment: str
) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(p)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_arrays_still_fill_pairs_and_ints_fill_floats() -> None:
    cfg = parse_config({"classifier": {"input_range": [-1, 1]}, "gate": {"start_pct": 1}})
    assert cfg.classifier.input_range == (-1.0, 1.0) and cfg.gate.start_pct == 1.0


@pytest.mark.parametrize("depth", [20, 200_000])
def test_deep_nesting_is_a_config_error(tmp_path: Path, depth: int) -> None:
    # 200k deep used to exit 1 with RecursionError (issue 10 item 5); 20 parses but is refused.
    p = tmp_path / "deep.toml"
    p.write_text("x = " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(ConfigError, match="nest more than 16 deep"):
        load_config(p)


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "huge.toml"
    p.write_text("# padding\n" * 120_000)
    with pytest.raises(ConfigError, match="too large for a config file"):
        load_config(p)
