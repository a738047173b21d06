"""Shipped model presets, and what ``classifier.model`` names.

``classifier.model`` is one of:

- empty: the default preset (:data:`DEFAULT_PRESET`; :data:`DEMO_PRESET` for the generated
  demo clip, see :func:`default_preset_for`);
- a preset name (``visionedge model list``): a folder ``visionedge/data/models/NAME/``
  holding ``card.json`` (and the model, labels and NOTICE it names);
- a path to a learned head's ``head.json`` with its ``card.json`` beside it (what
  ``visionedge model train-head`` writes; :mod:`.head`);
- a path to a ``.tflite``: with a ``card.json`` beside it (what ``model export`` writes) the
  card's settings apply as for a preset; without one it is a bare model (labels, input range
  and ignore list from the config, as before presets).

Settings from a card are defaults: a key set explicitly in the config wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from visionedge.classify.card import Card, read_card
from visionedge.errors import PresetError

__all__ = [
    "DEFAULT_PRESET",
    "DEMO_PRESET",
    "MCU_PRESET",
    "PRESETS_DIR",
    "Resolved",
    "default_preset_for",
    "preset_names",
    "resolve_model",
]

PRESETS_DIR = Path(__file__).resolve().parent.parent / "data" / "models"
DEFAULT_PRESET = "person_vehicle_animal"
"""Chosen by measurement on real footage within the Pi budget (docs/classify.md)."""
MCU_PRESET = "tiny_pva_gray"
"""The preset that fits the microcontroller target (model ≤ 300 KB, arena ≤ 150 KB): the
student trained here, gray as boards' cameras deliver, and what the firmware links by default
(firmware/CMakeLists.txt); models/student/README.md has its figures."""
DEMO_PRESET = "demo"
"""The model trained on generated shapes: honest only on the generated demo clip."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """What ``classifier.model`` names: a model file and, when there is one, its card."""

    name: str
    model: Path | None
    card: Card | None
    preset: bool


def preset_names() -> list[str]:
    """Every shipped preset, sorted."""
    if not PRESETS_DIR.is_dir():
        return []
    return sorted(p.name for p in PRESETS_DIR.iterdir() if (p / "card.json").is_file())


def default_preset_for(source_kind: str) -> str:
    """The preset an empty ``classifier.model`` means: the demo model for the generated clip."""
    return DEMO_PRESET if source_kind == "synth" else DEFAULT_PRESET


def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.endswith((".tflite", ".json")) or value.startswith(("~", "."))


def _is_cascade_card(path: Path) -> bool:
    """Whether ``path`` is a model card of kind cascade (unreadable or other JSON: no)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    preset = data.get("preset") if isinstance(data, dict) else None
    return isinstance(preset, dict) and preset.get("kind") == "cascade"


def resolve_model(value: str, *, default: str = DEFAULT_PRESET) -> Resolved:
    """Resolve ``classifier.model``; raise PresetError for an unknown name (listing presets)."""
    name = value.strip() or default
    if not _looks_like_path(name):
        card_path = PRESETS_DIR / name / "card.json"
        if card_path.is_file():
            card = read_card(card_path)
            return Resolved(name, card.model_file, card, True)
        if not Path(name).exists():
            known = ", ".join(preset_names()) or "none installed"
            raise PresetError(
                f"classifier.model: no preset named '{name}' (presets: {known}); use one of "
                "them (visionedge model list) or a path to a .tflite file"
            )
    path = Path(name).expanduser()
    beside = path.with_name("card.json")
    if path.suffix == ".json" and _is_cascade_card(path):
        # A cascade card of the user's own (`visionedge model train-head --cascade`).
        card = read_card(path)
        return Resolved(card.name, None, card, False)
    if path.suffix == ".json" and path.name != "card.json" and beside.is_file():
        # A learned head (head.json of `visionedge model train-head`) with its card.
        card = read_card(beside)
        if card.kind == "head":
            return Resolved(card.name, path, card, False)
    if path.suffix == ".tflite" and beside.is_file():
        # Used even if it names another file: the sha256 check then says the card is not
        # this model's, rather than silently running without the settings it needs.
        card = read_card(beside)
        if card.kind != "cascade":
            return Resolved(card.name, path, card, False)
    return Resolved(path.stem, path, None, False)


def describe(name: str) -> dict[str, object]:
    """One row of ``visionedge model list``: kind, bytes, input, labels, licence, measured ms
    (per crop, and per object classification where the card has it)."""
    card = read_card(PRESETS_DIR / name / "card.json")
    preset = card.preset
    measured = preset.get("measured", {})
    ms = measured.get("ms_per_crop") if isinstance(measured, dict) else None
    # Object mode's mean per classification (a cascade's second look included), where measured.
    object_ms = measured.get("object_ms") if isinstance(measured, dict) else None
    if card.kind == "cascade":
        # A preset used by two stages (whole crop, then tiles) is one model: count it once;
        # so is a head's backbone that is also a stage.
        stages = [describe(name) for name in dict.fromkeys(s.preset for s in card.stages)]
        files: dict[str, int] = {}
        for name_ in dict.fromkeys(s.preset for s in card.stages):
            stage_card = read_card(PRESETS_DIR / name_ / "card.json")
            files[name_] = int(stage_card.raw.get("bytes", 0))
            base = str(stage_card.preset.get("backbone", ""))
            if stage_card.kind == "head" and base:
                files[base] = int(read_card(PRESETS_DIR / base / "card.json").raw.get("bytes", 0))
        if card.locate is not None:
            # The detector that checks where labels are runs in object mode: it counts too.
            stages.append(describe(card.locate.preset))
            files[card.locate.preset] = int(str(stages[-1]["bytes"]))
        size = sum(files.values())
        inputs = " + ".join(dict.fromkeys(str(s["input"]) for s in stages))
        labels: list[str] = []
        for s in stages:
            labels += [x for x in str(s["labels"]).split(", ") if x not in labels]
        licence = str(preset.get("licence", "?"))
    elif card.kind == "head":
        # The head and the backbone it reads (the backbone counted here: it runs for it).
        backbone = describe(str(preset.get("backbone", "")))
        size = int(card.raw.get("bytes", 0)) + int(str(backbone["bytes"]))
        inputs = str(backbone["input"])
        labels = [x for x in card.labels if x != "background"]
        licence = str(preset.get("licence", "?"))
    else:
        size = int(card.raw.get("bytes", 0))
        shape = card.raw.get("input", {}).get("shape", [])
        dtype = card.raw.get("input", {}).get("dtype", "")
        inputs = "x".join(str(d) for d in shape[1:]) + f" {dtype}"
        label_map = card.settings.get("label_map")
        labels = list(label_map) if isinstance(label_map, dict) and label_map else list(card.labels)
        if len(labels) > 6:
            labels = [*labels[:5], f"... ({len(card.labels)})"]
        licence = str(preset.get("licence", "?"))
    return {
        "name": name,
        "kind": card.kind,
        "bytes": size,
        "input": inputs,
        "labels": ", ".join(labels),
        "licence": licence,
        "ms_per_crop": ms,
        "object_ms": object_ms,
        "default": name == DEFAULT_PRESET,
        "mcu": name == MCU_PRESET,
    }
