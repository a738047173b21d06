"""Runtime control over MQTT: ``<prefix>/<device>/set/...`` commands, validated before use.

A command is a topic suffix after ``set/`` and a small payload (plain text or JSON):

=========================  =========================================================
``set/enabled``            ``ON``/``OFF`` (also true/false, 1/0): run detection or pause it
``set/classifier/enabled`` ``ON``/``OFF``: classify moving regions or only report motion
``set/gate/<field>``       one gate threshold, e.g. ``set/gate/start_pct`` ``1.5``
``set/gate``               a JSON object of several gate fields, applied together
``set/classifier/<field>`` one classifier setting, e.g. ``set/classifier/threshold`` ``0.6``
``set/classifier``         a JSON object of classifier settings, e.g.
                           ``{"thresholds": {"person": 0.7}, "max_per_event": 10}``
=========================  =========================================================

Every change is validated against the same pydantic model as the config file (strict
types, finite numbers, cross-field rules such as ``stop_pct <= start_pct``); a bad command
raises :class:`~visionedge.errors.ControlError`, is answered on the reply topic and changes
nothing. Payloads are bounded before they are parsed: at most ``mqtt.max_payload_bytes``
bytes and :data:`MAX_JSON_DEPTH` levels of JSON nesting (a deeper one would exhaust the
parser's recursion), so every message gets an answer and a count. Only the fields in :data:`GATE_FIELDS` can be changed at runtime; masks, zones
and the plane width need a restart (or SIGHUP) because they change the gate's geometry.
Of the classifier, the fields in :data:`CLASSIFIER_FIELDS` (thresholds, top-k, ignore list,
cadence, budget, margin); label names in ``thresholds``/``ignore`` are checked against the
loaded model when the target offers ``check_classifier`` (the daemon does).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from visionedge.config import ClassifierConfig, Config, GateConfig
from visionedge.errors import ConfigError, ControlError

__all__ = [
    "CLASSIFIER_FIELDS",
    "GATE_FIELDS",
    "MAX_JSON_DEPTH",
    "ControlReply",
    "ControlTarget",
    "Controller",
    "json_depth",
    "parse_switch",
]

MAX_JSON_DEPTH = 8
"""JSON control payloads nest at most this deep (``set/gate`` needs 1)."""

# Derived from the config model so a renamed gate field cannot silently become unsettable;
# plane width, masks, zones and tamper need a rebuild and change only through a reload.
GATE_FIELDS: tuple[str, ...] = tuple(
    name
    for name in GateConfig.model_fields
    if name not in ("width", "masks", "zones", "tamper")
)
"""Gate settings that may change at runtime (the gate keeps its history)."""

_CLASSIFIER_RESTART = (
    "enabled", "model", "labels", "backend", "num_threads", "xnnpack", "input_range", "mean",
    "std", "output",
)
# ``enabled`` has its own switch (set/classifier/enabled); the rest need another interpreter.
CLASSIFIER_FIELDS: tuple[str, ...] = tuple(
    name for name in ClassifierConfig.model_fields if name not in _CLASSIFIER_RESTART
)
"""Classifier settings that may change at runtime (the loaded interpreter keeps running)."""

_TRUE = {"on", "true", "1", "yes", "enable", "enabled"}
_FALSE = {"off", "false", "0", "no", "disable", "disabled"}


class ControlTarget(Protocol):
    """What the controller changes: the running daemon."""

    def current_config(self) -> Config:
        """The config in force (including changes accepted but not yet applied)."""
        ...

    def apply_config(self, config: Config) -> None:
        """Use this already-validated config from the next frame on."""
        ...

    def set_enabled(self, enabled: bool) -> None:
        """Run (True) or pause (False) detection; frames keep being read."""
        ...


@dataclass(frozen=True, slots=True)
class ControlReply:
    """The answer published on the reply topic."""

    command: str
    ok: bool
    detail: Mapping[str, Any] = field(default_factory=dict)
    error: str = ""

    def to_json(self) -> bytes:
        """Serialise as a compact JSON object."""
        body: dict[str, Any] = {"command": self.command[:200], "ok": self.ok}
        if self.ok:
            body["applied"] = dict(self.detail)
        else:
            body["error"] = self.error
        # allow_nan=False: the config model refuses non-finite numbers, so none reach here.
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


def json_depth(text: str) -> int:
    """How deep ``[``/``{`` nest in JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _loads(text: str, what: str) -> Any:
    """json.loads with the depth bound; every failure is a ControlError naming ``what``."""
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ControlError(f"{what}: JSON nests more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ControlError(f"{what}: payload is not JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise ControlError(f"{what}: payload cannot be read as JSON ({exc})") from None


def parse_switch(payload: str, what: str) -> bool:
    """Parse ON/OFF-style text; raise ControlError naming ``what`` otherwise."""
    text = payload.strip().strip('"').lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ControlError(f"{what}: expected ON or OFF, got {payload[:40]!r}")


def _parse_scalar(text: str, what: str) -> Any:
    """A JSON scalar if it parses as one (1.5, true, "x"), else the bare text."""
    try:
        value = _loads(text, what)
    except ControlError:
        if json_depth(text) > MAX_JSON_DEPTH:
            raise
        return text.strip()
    return value


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


class Controller:
    """Validates ``set/...`` commands and applies the accepted ones to a :class:`ControlTarget`."""

    def __init__(self, target: ControlTarget, *, max_payload_bytes: int = 65536) -> None:
        self.target = target
        self.max_payload_bytes = max_payload_bytes
        self.accepted = 0
        self.rejected = 0
        self._lock = threading.Lock()

    def handle(self, command: str, payload: bytes) -> ControlReply:
        """Handle ``set/<command>``; never raises: errors become a failed reply (and a count)."""
        with self._lock:
            try:
                detail = self._dispatch(command, payload)
            except ControlError as exc:
                self.rejected += 1
                return ControlReply(f"set/{command}", ok=False, error=str(exc))
            except Exception as exc:  # a bug must still be answered and counted
                self.rejected += 1
                return ControlReply(
                    f"set/{command}", ok=False, error=f"set/{command}: cannot be applied ({exc})"
                )
            self.accepted += 1
            return ControlReply(f"set/{command}", ok=True, detail=detail)

    def _dispatch(self, command: str, payload: bytes) -> dict[str, Any]:
        if len(payload) > self.max_payload_bytes:
            raise ControlError(
                f"set/{command}: payload of {len(payload)} bytes exceeds "
                f"mqtt.max_payload_bytes ({self.max_payload_bytes})"
            )
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise ControlError(f"set/{command}: payload is not UTF-8 text") from None
        handlers: dict[str, Callable[[str], dict[str, Any]]] = {
            "enabled": self._enabled,
            "classifier/enabled": self._classifier_enabled,
            "gate": self._gate_many,
            "classifier": self._classifier_many,
        }
        if command in handlers:
            return handlers[command](text)
        if command.startswith("gate/"):
            name = command.removeprefix("gate/")
            if name not in GATE_FIELDS:
                raise ControlError(
                    f"set/{command}: gate.{name} cannot be changed at runtime; allowed: "
                    + ", ".join(GATE_FIELDS)
                )
            if GateConfig.model_fields[name].annotation is bool:
                value: Any = parse_switch(text, f"set/{command}")
            else:
                value = _parse_scalar(text, f"set/{command}")
                if isinstance(value, (dict, list)):
                    raise ControlError(
                        f"set/{command}: expected a single value, got a JSON object/array"
                    )
            return self._apply_gate({name: value}, f"set/{command}")
        if command.startswith("classifier/"):
            name = command.removeprefix("classifier/")
            if name not in CLASSIFIER_FIELDS:
                raise ControlError(
                    f"set/{command}: classifier.{name} cannot be changed at runtime; allowed: "
                    + ", ".join(CLASSIFIER_FIELDS)
                )
            what = f"set/{command}"
            # thresholds and ignore take a JSON object/list; the rest a scalar.
            if name in ("thresholds", "ignore"):
                value = _loads(text, what)
            else:
                value = _parse_scalar(text, what)
            return self._apply_classifier({name: value}, f"set/{command}")
        raise ControlError(
            f"unknown command set/{command}; use set/enabled, set/classifier/enabled, "
            "set/classifier/<field>, set/classifier, set/gate/<field> or set/gate"
        )

    def _enabled(self, text: str) -> dict[str, Any]:
        on = parse_switch(text, "set/enabled")
        self.target.set_enabled(on)
        return {"enabled": on}

    def _classifier_enabled(self, text: str) -> dict[str, Any]:
        on = parse_switch(text, "set/classifier/enabled")
        current = self.target.current_config()
        new = current.model_copy(deep=True)
        new.classifier.enabled = on
        self.target.apply_config(new)
        return {"classifier.enabled": on}

    def _gate_many(self, text: str) -> dict[str, Any]:
        changes = _loads(text, "set/gate")
        if not isinstance(changes, dict) or not changes:
            raise ControlError('set/gate: expected a JSON object such as {"start_pct": 1.0}')
        unknown = sorted(k for k in changes if k not in GATE_FIELDS)
        if unknown:
            raise ControlError(
                f"set/gate: {', '.join(k[:40] for k in unknown[:5])}"
                f"{' and more' if len(unknown) > 5 else ''} cannot be changed at runtime; allowed: "
                + ", ".join(GATE_FIELDS)
            )
        return self._apply_gate(changes, "set/gate")

    def _apply_gate(self, changes: dict[str, Any], what: str) -> dict[str, Any]:
        current = self.target.current_config()
        merged = current.gate.model_dump() | changes
        try:
            gate = GateConfig.model_validate(merged)
        except ValidationError as exc:
            raise ControlError(f"{what}: {_validation_message(exc)}") from None
        new = current.model_copy(deep=True)
        new.gate = gate
        self.target.apply_config(new)
        return {f"gate.{k}": getattr(gate, k) for k in changes}

    def _classifier_many(self, text: str) -> dict[str, Any]:
        changes = _loads(text, "set/classifier")
        if not isinstance(changes, dict) or not changes:
            raise ControlError('set/classifier: expected a JSON object such as {"threshold": 0.6}')
        unknown = sorted(k for k in changes if k not in CLASSIFIER_FIELDS)
        if unknown:
            raise ControlError(
                f"set/classifier: {', '.join(unknown)} cannot be changed at runtime; allowed: "
                + ", ".join(CLASSIFIER_FIELDS)
            )
        return self._apply_classifier(changes, "set/classifier")

    def _apply_classifier(self, changes: dict[str, Any], what: str) -> dict[str, Any]:
        current = self.target.current_config()
        # Only the fields set so far, plus the changes: the label check treats a default
        # ignore list as a convention, not a claim about the model, and must still know it.
        merged = current.classifier.model_dump(include=current.classifier.model_fields_set)
        merged |= changes
        try:
            # Strict: "0.6" is no 0.6 and true is no 1 over MQTT either.
            clf = ClassifierConfig.model_validate(merged, strict=True)
        except ValidationError as exc:
            raise ControlError(f"{what}: {_validation_message(exc)}") from None
        check: Callable[[ClassifierConfig], None] | None = getattr(
            self.target, "check_classifier", None
        )
        if check is not None:
            try:
                check(clf)
            except ConfigError as exc:
                raise ControlError(f"{what}: {exc}") from None
        new = current.model_copy(deep=True)
        new.classifier = clf
        self.target.apply_config(new)
        return {f"classifier.{k}": getattr(clf, k) for k in changes}
