"""The one configuration model: a TOML file validated by pydantic, unknown keys rejected.

Every field has a description and a default that works, so an empty file is a valid config
(it replays the generated demo clip). Types are strict: ``true`` is not a number, ``"3"`` is
not an integer, and non-finite numbers (``inf``, ``nan``) are refused everywhere (they
would not survive a JSON round trip). A file is at most :data:`MAX_CONFIG_BYTES` and its
arrays/tables nest at most :data:`MAX_NESTING` deep. :func:`load_config` turns every problem into a
:class:`~visionedge.errors.ConfigError` naming the file, the dotted key and what is allowed;
:func:`default_config_toml` renders the commented defaults for ``visionedge config defaults``.
The firmware header generator reads the same model, so Linux and MCU share one schema.

The sections live in modules of their own (``capture``, ``classify``, ``objects``,
``outputs``); every public name is importable from here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from visionedge.config._base import MAX_CONFIG_BYTES, MAX_NESTING, _Model
from visionedge.config.capture import (
    DeviceConfig,
    GateConfig,
    SourceConfig,
    TamperConfig,
    ZoneConfig,
)
from visionedge.config.classify import ClassifierConfig, EventsConfig
from visionedge.config.objects import ObjectFilter, ObjectsConfig, ObjectZoneConfig
from visionedge.config.outputs import (
    DaemonConfig,
    MetricsConfig,
    MqttConfig,
    MqttTlsConfig,
    OutputConfig,
    RecordingConfig,
    SpoolConfig,
    WebConfig,
)
from visionedge.errors import ConfigError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_NESTING",
    "ClassifierConfig",
    "Config",
    "DaemonConfig",
    "DeviceConfig",
    "EventsConfig",
    "GateConfig",
    "MetricsConfig",
    "MqttConfig",
    "MqttTlsConfig",
    "ObjectFilter",
    "ObjectZoneConfig",
    "ObjectsConfig",
    "OutputConfig",
    "RecordingConfig",
    "SourceConfig",
    "SpoolConfig",
    "TamperConfig",
    "WebConfig",
    "ZoneConfig",
    "default_config_toml",
    "load_config",
    "parse_config",
]


class Config(_Model):
    """The whole visionedge configuration."""

    device: DeviceConfig = Field(default_factory=DeviceConfig, description="Device identity.")
    source: SourceConfig = Field(default_factory=SourceConfig, description="Frame source.")
    gate: GateConfig = Field(default_factory=GateConfig, description="Motion gate.")
    classifier: ClassifierConfig = Field(
        default_factory=ClassifierConfig, description="Classifier."
    )
    events: EventsConfig = Field(default_factory=EventsConfig, description="Event tracking.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Local outputs.")
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="MQTT publishing.")
    spool: SpoolConfig = Field(default_factory=SpoolConfig, description="Store-and-forward.")
    daemon: DaemonConfig = Field(default_factory=DaemonConfig, description="Service behaviour.")
    metrics: MetricsConfig = Field(default_factory=MetricsConfig, description="Metrics.")
    recording: RecordingConfig = Field(
        default_factory=RecordingConfig, description="Event recordings."
    )
    objects: ObjectsConfig = Field(
        default_factory=ObjectsConfig, description="Per-object tracking and events."
    )
    web: WebConfig = Field(default_factory=WebConfig, description="Web page.")

    @model_validator(mode="after")
    def _object_zones(self) -> Config:
        _check_object_zones(self)
        return self


def _check_object_zones(config: Config) -> None:
    """The objects section names only zones the gate defines (ValueError otherwise)."""
    known = {z.name for z in config.gate.zones}
    for name in [z.name for z in config.objects.zones] + config.objects.required_zones:
        if name not in known:
            raise ValueError(
                f"objects zone {name!r} is not one of gate.zones ({', '.join(sorted(known)) or 'none'}); "
                "define it under [[gate.zones]] first"
            )


def _describe(loc: tuple[Any, ...]) -> str:
    """The description of the field at ``loc`` (list indices skipped)."""
    model: Any = Config
    desc = "see `visionedge config defaults`"
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or fields is None or part not in fields:
            continue
        field = fields[part]
        desc = field.description or desc
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        model = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return desc


def _format_error(err: Any) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
    msg = str(err.get("msg", "invalid"))
    kind = err.get("type", "")
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if kind == "extra_forbidden":
        msg = "unknown key; see `visionedge config defaults` for the keys allowed here"
    elif kind == "string_pattern_mismatch":
        # The regular expression means little to a user; the field's description says it.
        msg = f"invalid value; expected: {_describe(err.get('loc', ()))}"
    if kind != "extra_forbidden" and "input" in err and kind not in ("missing",):
        inp = err["input"]
        if not isinstance(inp, dict):
            got = repr(inp)
            msg = f"{msg} (got {got[:80]}{'...' if len(got) > 80 else ''})"
    return f"{loc}: {msg}" if loc else msg


def nesting_depth(value: Any, limit: int = MAX_NESTING) -> int:
    """How deep lists and dicts nest in ``value``; stops counting past ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((c, depth) for c in children)
    return deepest


def parse_config(data: dict[str, Any], origin: str = "<config>") -> Config:
    """Validate a parsed TOML mapping; raise ConfigError naming ``origin`` and the first bad key."""
    if nesting_depth(data) > MAX_NESTING:
        raise ConfigError(
            f"{origin}: arrays or tables nest more than {MAX_NESTING} deep; no setting needs that"
        )
    try:
        return _by_section(data) or Config.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = _format_error(errors[0])
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(f"{origin}: {first}{more}") from exc


def _defaults(model: type[_Model]) -> Any:
    """``model()`` without validating: its defaults, sections inside it built the same way."""
    nested = {
        name: _defaults(field.default_factory)
        for name, field in model.model_fields.items()
        if isinstance(field.default_factory, type) and issubclass(field.default_factory, _Model)
    }
    return model.model_construct(_fields_set=set(), **nested)


def _by_section(data: dict[str, Any]) -> Config | None:
    """``Config.model_validate(data)``, validating only the sections ``data`` has.

    Building a model's validator is what costs (pydantic generates the schema of ~150
    fields in Python: 10-20 ms before the first frame; the models are ``defer_build``), so
    a section the file leaves out is its defaults, made without its validator: the same
    values, and the same ``model_fields_set`` (empty) as a default factory gives. Every
    section's own validators run on what the file sets, then the whole config's. On any
    problem this returns None and :func:`parse_config` validates the usual way, so error
    messages (which keys, in which order, how many) stay pydantic's for the whole model.
    """
    fields = Config.model_fields
    if any(key not in fields for key in data):
        return None
    sections: dict[str, Any] = {}
    try:
        for name, field in fields.items():
            model: Any = field.annotation
            sections[name] = model.model_validate(data[name]) if name in data else _defaults(model)
        config = Config.model_construct(_fields_set=set(data), **sections)
        _check_object_zones(config)
    except (ValidationError, ValueError):
        return None
    return config


def load_config(path: str | Path | None) -> Config:
    """Read and validate a TOML config file; ``None`` gives the defaults."""
    if path is None:
        return parse_config({})
    p = Path(path)
    try:
        if p.is_file() and p.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{p}: {p.stat().st_size} bytes is too large for a config file (at most "
                f"{MAX_CONFIG_BYTES}); check that it is the right file"
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{p}: config file not found; create one with `visionedge config defaults > {p.name}`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file ({exc.strerror}); check permissions") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text; save it as UTF-8 TOML") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(
            f"{p}: arrays or tables nest more than {MAX_NESTING} deep; no setting needs that"
        ) from None
    return parse_config(data, str(p))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def _render(model: type[BaseModel], instance: BaseModel, prefix: str, out: list[str]) -> None:
    nested: list[tuple[str, type[BaseModel], BaseModel]] = []
    for name, field in model.model_fields.items():
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            nested.append((name, type(value), value))
            continue
        desc = field.description or ""
        out.append(f"# {desc}")
        if value is None:
            out.append(f"# {name} =")
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            out.append(f"# {name}: see the documentation")
        else:
            dumped = instance.model_dump(mode="json")[name]
            out.append(f"{name} = {_toml_value(dumped)}")
    for name, sub_model, sub in nested:
        section = f"{prefix}.{name}" if prefix else name
        out.append("")
        doc = (sub_model.__doc__ or "").strip().splitlines()[0]
        out.append(f"[{section}]")
        out.append(f"# {doc}")
        _render(sub_model, sub, section, out)


def default_config_toml() -> str:
    """Render the default configuration as commented TOML (parses back to the defaults)."""
    out = [
        "# visionedge configuration. Every key is optional; these are the defaults.",
        "# Check a file with: visionedge config check FILE",
    ]
    _render(Config, Config(), "", out)
    # Zones are an array of tables; show the shape as a comment so the output stays valid.
    out += [
        "",
        "# Named zones (repeat the block per zone):",
        "# [[gate.zones]]",
        '# name = "driveway"',
        "# polygon = [[0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [0.0, 1.0]]",
    ]
    return "\n".join(out) + "\n"
