"""Dataset review: crops in one folder per class; moving a file between folders relabels it.

The layout is the one ``visionedge dataset collect`` writes: ``DATASET/<class>/<crop>``,
``unsure/`` for low-confidence crops, and folders starting with ``_`` (``_context/`` holds a
wider crop with the same file name) that are not classes. Names from requests are checked
against the folder listing itself (never joined blindly), so ``..`` or a slash cannot
reach outside the dataset; a move never overwrites a file.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["IMAGE_SUFFIXES", "classes", "crop_file", "crops", "move_crop"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
CONTEXT_DIR = "_context"


def classes(root: Path) -> dict[str, int]:
    """Class folder -> number of crops, sorted by name (``_*`` folders are not classes)."""
    if not root.is_dir():
        return {}
    out: dict[str, int] = {}
    for d in sorted(root.iterdir()):
        if d.is_dir() and not d.name.startswith((".", "_")) and not d.is_symlink():
            out[d.name] = sum(1 for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    return out


def crops(root: Path, cls: str, offset: int = 0, limit: int = 200) -> list[str]:
    """File names of the crops of ``cls``, sorted; [] for an unknown class."""
    if cls not in classes(root):
        return []
    names = sorted(f.name for f in (root / cls).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    return names[offset:offset + limit]


def _known(root: Path, cls: str, name: str) -> Path | None:
    if cls not in classes(root) or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = root / cls / name
    return path if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() else None


def crop_file(root: Path, cls: str, name: str, context: bool = False) -> Path | None:
    """The crop (or its wider context crop) if it exists in the dataset, else None."""
    path = _known(root, cls, name)
    if path is None:
        return None
    if context:
        ctx = root / CONTEXT_DIR / name
        return ctx if ctx.is_file() else None
    return path


def move_crop(root: Path, name: str, src: str, dst: str) -> str | None:
    """Move ``name`` from class ``src`` to ``dst``; None when done, else what is wrong."""
    path = _known(root, src, name)
    if path is None:
        return f"no crop {name!r} in class {src!r}"
    if dst not in classes(root):
        return f"no class {dst!r}; classes are the dataset's folders"
    target = root / dst / name
    if target.exists():
        return f"{dst}/{name} exists already"
    os.rename(path, target)
    return None
