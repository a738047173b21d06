"""``dataset collect --teacher PRESET``: presets by name, each kind, on a generated clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasetkit import Collected, run_cli

from visionedge.classify.presets import preset_names
from visionedge.dataset import read_manifest
from visionedge.dataset.teacher import CLASSES, load_teacher
from visionedge.errors import PresetError
from visionedge.protocols import Box


def _rows(data: Path) -> dict[tuple[int, tuple[float, ...]], dict[str, float]]:
    return {(r.frame, r.box): r.soft for r in read_manifest(data / "manifest.csv")}


def test_the_demo_preset_teaches_as_its_model_file(collected: Collected, tmp_path: Path) -> None:
    # The session dataset was collected with the demo model's .tflite and labels file; the
    # preset name must give the very same pre-labels (its card carries the labels).
    out = tmp_path / "by_name"
    clip = collected.clips / "person0.avi"
    assert run_cli("dataset", "collect", str(clip), "--out", str(out),
                   "--teacher", "demo", "--size", "64") == 0
    by_name = _rows(out)
    by_file = {k: v for k, v in _rows(collected.data).items()
               if k in by_name}
    assert by_name and by_file.keys() == by_name.keys()
    for key, soft in by_name.items():
        assert soft == pytest.approx(by_file[key], abs=1e-3)
    assert any((out / "person").iterdir())


@pytest.mark.parametrize("preset", ["tiny_pva", "person_vehicle_animal", "deeplab_pascal"])
def test_every_preset_kind_is_a_teacher(collected: Collected, tmp_path: Path, preset: str) -> None:
    # A classifier with a label map, a cascade and a segmenter: each must give a distribution
    # over the dataset's classes for every crop (real footage decides which is right:
    # bench/labels.py; generated shapes only show that they run end to end).
    out = tmp_path / preset
    clip = collected.clips / "vehicle0.avi"
    assert run_cli("dataset", "collect", str(clip), "--out", str(out),
                   "--teacher", preset, "--size", "48") == 0
    rows = read_manifest(out / "manifest.csv")
    assert rows
    for r in rows:
        assert set(r.soft) == set(CLASSES) and sum(r.soft.values()) == pytest.approx(1.0, abs=1e-3)
        assert r.teacher_label in CLASSES
        folder = r.teacher_label if r.teacher_score >= 0.6 else "unsure"
        assert (out / folder / Path(r.file).name).is_file()


def test_a_label_mapped_preset_keeps_unmapped_mass_as_background() -> None:
    # tiny_pva has its own background class, mapped to no user label: a flat gray crop is
    # mostly background for it, and the teacher must not renormalise that away (int8 scores
    # sum to 1 only within a few 1/256 steps).
    teacher = load_teacher("tiny_pva")
    clf = teacher.classifier  # type: ignore[attr-defined]
    img = np.full((96, 96, 3), 128, np.uint8)
    box = Box(0.1, 0.1, 0.9, 0.9)
    scores = clf.scores(img, box)
    soft = teacher.soft(img, box)
    assert soft["background"] == pytest.approx(float(scores[clf.model_labels.index("background")]),
                                               abs=1e-2)
    for cls in ("animal", "person", "vehicle"):
        assert soft[cls] == pytest.approx(float(scores[clf.model_labels.index(cls)]), abs=1e-2)


def test_an_unknown_teacher_preset_lists_the_presets(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(PresetError, match="tiny_pva"):
        load_teacher("no_such_preset")
    out = tmp_path / "never"
    status = run_cli("dataset", "collect", str(tmp_path), "--out", str(out),
                     "--teacher", "no_such_preset")
    assert status == PresetError.exit_code
    err = capsys.readouterr().err
    assert err.startswith("visionedge: error: --teacher: no preset named 'no_such_preset'")
    assert err.count("\n") == 1
    assert all(p in err for p in preset_names())
    assert not out.exists()
