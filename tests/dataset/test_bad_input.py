"""Bad datasets: one line, a distinct exit status per problem, nothing moved or deleted."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from datasetkit import Collected, run_cli

from visionedge.dataset import read_manifest


def _listing(root: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(root)), p.stat().st_size)
                  for p in root.rglob("*") if p.is_file())


def _img(path: Path, size: int = 16) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((size, size, 3), 90, np.uint8))


def _one_class(root: Path) -> None:
    _img(root / "person" / "a.png")


def _empty_class(root: Path) -> None:
    _img(root / "person" / "a.png")
    (root / "vehicle").mkdir()


def _not_an_image(root: Path) -> None:
    _img(root / "person" / "a.png")
    _img(root / "vehicle" / "b.png")
    (root / "vehicle" / "notes.txt").write_text("not an image")


def _corrupt_image(root: Path) -> None:
    _img(root / "person" / "a.png")
    (root / "vehicle").mkdir()
    (root / "vehicle" / "b.png").write_bytes(b"\x89PNG truncated")


def _mixed_sizes(root: Path) -> None:
    _img(root / "person" / "a.png", 16)
    _img(root / "vehicle" / "b.png", 24)


CASES: list[tuple[str, Callable[[Path], None], int, str]] = [
    ("no class", lambda root: None, 21, "0 class folder(s)"),
    ("empty class", _empty_class, 21, "no images"),
    ("non-image file", _not_an_image, 22, "notes.txt: not an image"),
    ("corrupt image", _corrupt_image, 22, "not a readable image"),
    ("mixed sizes", _mixed_sizes, 23, "mixed image sizes"),
]


@pytest.mark.parametrize(("name", "make", "status", "words"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("command", ["stats", "review", "train"])
def test_bad_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                     make: Callable[[Path], None], status: int, words: str,
                     command: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    make(data)
    before = _listing(data)
    args = (["model", "train", str(data), "--out", str(tmp_path / "w")] if command == "train"
            else ["dataset", command, str(data)])
    assert run_cli(*args) == status
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("visionedge: error: "), err
    assert words in err[0]
    assert _listing(data) == before


def test_one_class_can_be_looked_at_but_not_trained(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A first collect from a camera that sees one kind of animal gives one class folder:
    # review and stats work on it (that is how the user finds the crops to move into a
    # second class), training refuses it.
    data = tmp_path / "data"
    _one_class(data)
    before = _listing(data)
    assert run_cli("dataset", "stats", str(data)) == 0
    out, err = capsys.readouterr()
    assert "person" in out and "training needs at least two" in err
    assert run_cli("dataset", "review", str(data)) == 0
    assert "training needs at least two" in capsys.readouterr().err
    assert run_cli("model", "train", str(data), "--out", str(tmp_path / "w")) == 21
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and "at least two" in err_lines[0]
    assert {p for p, _ in _listing(data)} >= {p for p, _ in before}


def test_manifest_naming_missing_files(collected: Collected, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    shutil.copytree(collected.data, data)
    victim = next(p for p in data.glob("*/*.png") if not p.parent.name.startswith("_"))
    victim.unlink()
    before = _listing(data)
    assert run_cli("dataset", "stats", str(data)) == 24
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and victim.name in err[0] and "unsure/" in err[0]
    assert _listing(data) == before
    # The fix the message names: crops moved to unsure/ are fine.
    _img(data / "unsure" / victim.name, 64)
    assert run_cli("dataset", "stats", str(data)) == 0


def test_moving_a_file_relabels_it(collected: Collected, tmp_path: Path) -> None:
    from visionedge.dataset import load_dataset

    data = tmp_path / "data"
    shutil.copytree(collected.data, data)
    src = next(data.glob("person/*.png"))
    (data / "vehicle").mkdir(exist_ok=True)
    src.rename(data / "vehicle" / src.name)
    ds = load_dataset(data)
    item = next(it for it in ds.items if it.rel.endswith(src.name))
    assert item.label == "vehicle" and item.row is not None
    assert item.row.teacher_label == "person"  # the manifest keeps what the teacher said
    assert len(read_manifest(data / "manifest.csv")) == len(ds.items) + len(ds.unsure)


def test_collect_refuses_a_non_empty_out_and_missing_clips(
        collected: Collected, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _listing(collected.data)
    assert run_cli("dataset", "collect", str(collected.clips), "--out",
                   str(collected.data)) == 20
    assert "not empty" in capsys.readouterr().err
    assert _listing(collected.data) == before
    assert run_cli("dataset", "collect", str(tmp_path / "nope.avi"), "--out",
                   str(tmp_path / "o")) == 20
    assert "no such clip" in capsys.readouterr().err


def test_collect_refuses_a_crop_px_too_small(collected: Collected, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("dataset", "collect", str(collected.clips), "--out", str(tmp_path / "o"),
                   "--objects", "--crop-px", "8") == 20
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--crop-px 8 is too small; give at least 16" in err[0]
    assert not (tmp_path / "o").exists()
