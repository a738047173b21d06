"""Reading a labels file: one label per line, the line index is the model's output index."""

from __future__ import annotations

import re
from pathlib import Path

from visionedge.errors import LabelsError

__all__ = ["MAX_LABELS_BYTES", "find_labels_next_to", "load_labels", "parse_labels"]

MAX_LABELS_BYTES = 8 * 1024 * 1024
_INDEXED = re.compile(r"^(\d+)[\s:]+(\S.*)$")


def parse_labels(text: str, origin: str) -> tuple[str, ...]:
    """Split labels text into labels; ``origin`` names the file in errors.

    Trailing blank lines are ignored; a blank line inside the list is an error, because it
    would shift every later label by one output. Files in the ``"<index> <label>"`` form
    (Coral's labels) are accepted when the indices run 0, 1, 2, ... in order.
    """
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise LabelsError(
            f"{origin}: labels file is empty; write one label per line, in output order"
        )
    for number, line in enumerate(lines, start=1):
        if not line:
            raise LabelsError(
                f"{origin}: line {number} is blank; every output needs a label (remove the "
                "blank line or name the class)"
            )
    matches = [_INDEXED.match(line) for line in lines]
    if all(m is not None and int(m.group(1)) == i for i, m in enumerate(matches)):
        return tuple(m.group(2).strip() for m in matches if m is not None)
    return tuple(lines)


def load_labels(path: str | Path, expected: int | None = None) -> tuple[str, ...]:
    """Read a labels file; with ``expected``, its label count must equal the model's outputs."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_LABELS_BYTES:
            raise LabelsError(
                f"{p}: labels file is {size} bytes (limit {MAX_LABELS_BYTES}); is it really a "
                "labels file?"
            )
        raw = p.read_bytes()
    except FileNotFoundError:
        raise LabelsError(
            f"{p}: labels file not found; set classifier.labels (or --labels) to the model's "
            "labels.txt"
        ) from None
    except IsADirectoryError:
        raise LabelsError(f"{p}: is a directory; classifier.labels must name a file") from None
    except OSError as exc:
        raise LabelsError(
            f"{p}: cannot read labels file ({exc.strerror}); check permissions"
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabelsError(
            f"{p}: labels file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise LabelsError(f"{p}: labels file contains NUL bytes; it is not a text file")
    labels = parse_labels(text, str(p))
    if expected is not None and len(labels) != expected:
        hint = ""
        if len(labels) + 1 == expected:
            # ImageNet models trained with TF-Slim have 1001 outputs: 0 is "background".
            hint = " (if output 0 is a background class, add a first line 'background')"
        raise LabelsError(
            f"{p}: has {len(labels)} labels but the model has {expected} outputs{hint}; use the "
            "labels file that was exported with this model"
        )
    return labels


def find_labels_next_to(model: Path) -> Path:
    """The labels file beside ``model``: ``<stem>_labels.txt``, ``<stem>.txt`` or ``labels.txt``."""
    candidates = [
        model.with_name(f"{model.stem}_labels.txt"),
        model.with_suffix(".txt"),
        model.with_name("labels.txt"),
    ]
    for c in candidates:
        if c.is_file():
            return c
    names = ", ".join(c.name for c in candidates)
    raise LabelsError(
        f"{model}: no labels file next to the model (looked for {names}); set "
        "classifier.labels (or --labels)"
    )
