"""Labels files: the formats accepted and a clear LabelsError for everything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionedge.classify.labels import find_labels_next_to, load_labels, parse_labels
from visionedge.errors import LabelsError


def _write(tmp_path: Path, data: bytes | str) -> Path:
    p = tmp_path / "labels.txt"
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    return p


def test_one_label_per_line(tmp_path: Path) -> None:
    assert load_labels(_write(tmp_path, "person\nvehicle\nanimal\n"), expected=3) == (
        "person",
        "vehicle",
        "animal",
    )


def test_crlf_bom_trailing_blank_lines_and_spaces(tmp_path: Path) -> None:
    p = _write(tmp_path, "\ufeffperson \r\nsports car, roadster\r\n\r\n\n")
    assert load_labels(p) == ("person", "sports car, roadster")


def test_indexed_labels_are_stripped_only_when_indices_run_in_order() -> None:
    assert parse_labels("0 background\n1 person\n2  cat\n", "x") == ("background", "person", "cat")
    assert parse_labels("0:a\n1:b\n", "x") == ("a", "b")
    # Not 0, 1, 2...: these are labels that happen to start with digits.
    assert parse_labels("1 one\n2 two\n", "x") == ("1 one", "2 two")
    assert parse_labels("7\n8\n", "x") == ("7", "8")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", r"labels file is empty"),
        ("\n\n  \n", r"labels file is empty"),
        ("person\n\nanimal\n", r"line 2 is blank"),
        (b"caf\xe9\n", r"not UTF-8 text \(byte 3\)"),
        (b"a\x00b\n", r"contains NUL bytes"),
    ],
)
def test_bad_labels_files(tmp_path: Path, data: bytes | str, message: str) -> None:
    p = _write(tmp_path, data)
    with pytest.raises(LabelsError, match=message) as err:
        load_labels(p)
    assert str(p) in str(err.value)


def test_count_must_match_the_model(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match=r"has 2 labels but the model has 1001 outputs"):
        load_labels(_write(tmp_path, "a\nb\n"), expected=1001)


def test_one_label_short_suggests_the_background_line(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match=r"1000 labels .* 1001 outputs \(if output 0 is a background"):
        load_labels(_write(tmp_path, "x\n" * 1000), expected=1001)


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="labels file not found"):
        load_labels(tmp_path / "none.txt")
    with pytest.raises(LabelsError, match="is a directory"):
        load_labels(tmp_path)


def test_huge_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from visionedge.classify import labels

    monkeypatch.setattr(labels, "MAX_LABELS_BYTES", 10)
    with pytest.raises(LabelsError, match=r"is 12 bytes \(limit 10\)"):
        load_labels(_write(tmp_path, "abcdef\nghij\n"))


def test_labels_next_to_the_model(tmp_path: Path) -> None:
    model = tmp_path / "net.tflite"
    (tmp_path / "labels.txt").write_text("x\n")
    assert find_labels_next_to(model) == tmp_path / "labels.txt"
    (tmp_path / "net.txt").write_text("x\n")
    assert find_labels_next_to(model) == tmp_path / "net.txt"
    (tmp_path / "net_labels.txt").write_text("x\n")
    assert find_labels_next_to(model) == tmp_path / "net_labels.txt"
