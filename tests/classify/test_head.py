"""The learned head: ``visionedge model train-head`` on a tiny generated dataset, the head
kind loaded as ``classifier.model``, identical on every runtime, bad head files refused."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from visionedge.classify import installed_backends, load_classifier
from visionedge.classify.embedding import cut_at, tensor_names
from visionedge.classify.head import read_head
from visionedge.classify.presets import PRESETS_DIR
from visionedge.cli import main
from visionedge.config import ClassifierConfig
from visionedge.errors import HeadError, ModelError
from visionedge.train.head import DEFAULT_TENSOR

COLOURS = {"red": (30, 30, 220), "blue": (220, 40, 30)}


def _image(rng: np.random.Generator, cls: str, size: int = 48) -> np.ndarray:
    """A coloured blob on gray noise (``background``: the noise alone)."""
    img = rng.integers(90, 150, (size, size, 3), dtype=np.uint8)
    if cls in COLOURS:
        c = int(rng.integers(14, 34))
        r = int(rng.integers(10, 16))
        cv2.circle(img, (c, int(rng.integers(14, 34))), r, COLOURS[cls], -1)
    return img


def _dataset(root: Path, seed: int, per_class: int = 6) -> Path:
    rng = np.random.default_rng(seed)
    for cls in ("background", "blue", "red"):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            cv2.imwrite(str(root / cls / f"{cls}_{i}.png"), _image(rng, cls))
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """head.json of a head trained by the CLI on 18 generated crops."""
    tmp = tmp_path_factory.mktemp("head")
    data = _dataset(tmp / "data", seed=1)
    assert main(["model", "train-head", str(data), "--out", str(tmp / "out")]) == 0
    return tmp / "out" / "head.json"


def test_train_head_writes_head_and_card(trained: Path) -> None:
    card = json.loads(trained.with_name("card.json").read_text())
    head = read_head(trained)
    assert card["preset"]["kind"] == "head" and card["labels"] == ["background", "blue", "red"]
    assert card["preset"]["ignore"] == ["background"]
    assert head.tensor == DEFAULT_TENSOR and head.features == 768
    assert head.weights.shape == (768, 3)
    # 18 files without a manifest: each its own group, so the by-file CV chose the L2.
    assert head.training["cv"] == "5 folds by clip" and head.training["l2"] in (0.01, 0.03, 0.1, 0.3)


def test_head_labels_new_crops(trained: Path) -> None:
    clf = load_classifier(ClassifierConfig(model=str(trained)))
    assert clf.labels == ("background", "blue", "red") and clf.reports_raw_labels
    rng = np.random.default_rng(7)
    for cls in ("red", "blue", "background"):
        for _ in range(3):
            got = clf.classify_image(_image(rng, cls))
            assert got.raw_label == cls
            # background is ignored: no label
            assert (got.best.label if got.best else "background") == cls


def test_training_is_deterministic(trained: Path, tmp_path: Path) -> None:
    data = _dataset(tmp_path / "data", seed=1)
    assert main(["model", "train-head", str(data), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "head.json").read_bytes() == trained.read_bytes()


def test_identical_scores_on_every_runtime(trained: Path) -> None:
    # Each runtime in a fresh process: tflite-runtime cannot share one with TensorFlow.
    code = (
        "import json, sys, numpy as np\n"
        "from visionedge.classify import load_classifier\n"
        "from visionedge.config import ClassifierConfig\n"
        "from tests.classify.test_head import _image\n"
        "rng = np.random.default_rng(3)\n"
        "imgs = [_image(rng, c) for c in ('red', 'blue', 'background')]\n"
        "imgs.append(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))\n"
        "c = load_classifier(ClassifierConfig(model=sys.argv[1], backend=sys.argv[2]))\n"
        "print(json.dumps([[float(v) for v in c.scores(i)] for i in imgs]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    results = {}
    for b in installed_backends():
        out = subprocess.run([sys.executable, "-c", code, str(trained), b], capture_output=True,
                             text=True, timeout=180, check=True, cwd=root)
        results[b] = json.loads(out.stdout.strip().splitlines()[-1])
    if len(results) < 2:
        pytest.skip("needs two TFLite runtimes installed")
    first = next(iter(results.values()))
    for b, got in results.items():
        assert got == first, b


def _copy(trained: Path, tmp_path: Path) -> Path:
    out = tmp_path / "h"
    shutil.copytree(trained.parent, out)
    return out / "head.json"


def _refresh_card(head: Path) -> None:
    """Make the card match an edited head file, so the head's own check speaks."""
    import hashlib

    card = json.loads(head.with_name("card.json").read_text())
    card["sha256"] = hashlib.sha256(head.read_bytes()).hexdigest()
    head.with_name("card.json").write_text(json.dumps(card))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(weights=d["weights"][:-1]), "'weights' has shape"),
    (lambda d: d.update(format="other/1"), "format is 'other/1'"),
    (lambda d: d["backbone"].update(sha256="0" * 64), "trained on backbone sha256"),
    (lambda d: d["backbone"].update(tensor="nope"), "has no tensor 'nope'"),
    (lambda d: d.update(scale=[0.0] * len(d["scale"])), "'scale' holds values that are not positive"),
])
def test_bad_head_is_one_line_with_its_status(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: object, message: str
) -> None:
    head = _copy(trained, tmp_path)
    data = json.loads(head.read_text())
    edit(data)  # type: ignore[operator]
    head.write_text(json.dumps(data))
    _refresh_card(head)
    img = tmp_path / "x.png"
    cv2.imwrite(str(img), np.zeros((40, 40, 3), np.uint8))
    assert main(["classify", str(img), "--model", str(head)]) == HeadError.exit_code == 17
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("visionedge: error: ") and message in err[0]


def test_truncated_head_file(trained: Path, tmp_path: Path) -> None:
    head = _copy(trained, tmp_path)
    head.write_bytes(head.read_bytes()[:500])
    with pytest.raises(HeadError, match="not readable JSON"):
        load_classifier(ClassifierConfig(model=str(head)))


def test_head_edited_without_its_card_is_a_card_error(trained: Path, tmp_path: Path) -> None:
    head = _copy(trained, tmp_path)
    data = json.loads(head.read_text())
    data["bias"] = [0.0] * len(data["bias"])
    head.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="the card is for sha256") as info:
        load_classifier(ClassifierConfig(model=str(head)))
    assert info.value.exit_code == 16


def test_cut_at_swaps_the_output_in_memory() -> None:
    path = PRESETS_DIR / "mobilenet_v1_075" / "mobilenet_v1_0.75_192_quant.tflite"
    content = path.read_bytes()
    assert DEFAULT_TENSOR in tensor_names(content)
    cut = cut_at(content, DEFAULT_TENSOR, "m")
    # The original bytes are kept; a two-entry outputs vector is appended (4-byte aligned).
    assert cut[: len(content)] != content and len(cut) == len(content) + (-len(content) % 4) + 12
    assert cut[-8:] == struct.pack("<ii", tensor_names(content).index(DEFAULT_TENSOR), 88)
    with pytest.raises(ModelError, match="no tensor named 'x'"):
        cut_at(content, "x", "m")


def test_a_cascade_can_end_in_a_head(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny cascade preset folder next to the head: person_detect claims, the head answers;
    # its "background" does not count against a claim (veto), it only means no label.
    import visionedge.classify.presets as presets

    root = tmp_path / "models"
    (root / "h").mkdir(parents=True)
    for f in ("head.json", "card.json"):
        shutil.copy(trained.with_name(f), root / "h" / f)
    for name in ("person_detect", "mobilenet_v1_075"):
        (root / name).symlink_to(PRESETS_DIR / name)
    (root / "c").mkdir()
    (root / "c" / "card.json").write_text(json.dumps({
        "format": "visionedge-model-card/1", "name": "c",
        "preset": {"kind": "cascade", "stages": [
            {"preset": "person_detect", "claims": "person", "min_score": 0.8, "veto": 0.5},
            {"preset": "h"}]}}))
    monkeypatch.setattr(presets, "PRESETS_DIR", root)
    clf = load_classifier(ClassifierConfig(model="c"))
    got = clf.classify_image(_image(np.random.default_rng(5), "red"))
    assert got.best is not None and got.best.label == "red" and got.raw_label == "red"


def test_train_head_cascade_puts_the_head_into_the_default_preset(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from visionedge.classify.cascade import CascadeClassifier
    from visionedge.classify.presets import DEFAULT_PRESET

    out = tmp_path / "mine"
    data = _dataset(tmp_path / "data", seed=1)
    assert main(["model", "train-head", str(data), "--out", str(out), "--cascade"]) == 0
    assert (out / "head.json").read_bytes() == trained.read_bytes()  # the same head as without
    card = json.loads((out / "cascade.json").read_text())
    default = json.loads((PRESETS_DIR / DEFAULT_PRESET / "card.json").read_text())
    stages, shipped = card["preset"]["stages"], default["preset"]["stages"]
    assert [s["preset"] for s in stages] == [*(s["preset"] for s in shipped[:-1]), "head.json"]
    # This head knows no person and no animal: the yields to its person and its own animal
    # confirmation go; the ImageNet stage still confirms animals on the tight crop.
    assert all("yields" not in s and "holds" not in s for s in stages)
    assert "confirms" not in stages[-1] and stages[2]["confirms"] == shipped[2]["confirms"]
    assert card["preset"]["objects"] == default["preset"]["objects"]
    assert card["preset"]["vote"] == default["preset"]["vote"]
    # Loaded by path from anywhere: the head is found beside the card, not in the cwd.
    moved = shutil.copytree(out, tmp_path / "elsewhere" / "mine")
    monkeypatch.chdir(tmp_path)
    clf = load_classifier(ClassifierConfig(model=str(moved / "cascade.json")))
    assert isinstance(clf, CascadeClassifier) and clf.name == "mine_cascade"
    assert clf.stages[-1].labels == ("background", "blue", "red")
    rng = np.random.default_rng(3)
    got = clf.classify_image(_image(rng, "red", 96))
    assert got.best is None or got.best.label in clf.labels


def test_train_head_cascade_with_another_backbone_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _dataset(tmp_path / "data", seed=2, per_class=2)
    code = main(["model", "train-head", str(data), "--out", str(tmp_path / "o"), "--cascade",
                 "--backbone", "tiny_pva"])
    assert code == HeadError.exit_code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--cascade: the default preset's head reads mobilenet_v1_075" in err[0]
    assert not (tmp_path / "o").exists()


def test_a_cascade_card_without_its_head_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from visionedge.classify.presets import DEFAULT_PRESET

    card = json.loads((PRESETS_DIR / DEFAULT_PRESET / "card.json").read_text())
    card["preset"]["stages"][-1]["preset"] = "head.json"
    (tmp_path / "cascade.json").write_text(json.dumps(card))
    img = tmp_path / "x.png"
    cv2.imwrite(str(img), np.full((32, 32, 3), 100, np.uint8))
    assert main(["classify", str(img), "--model", str(tmp_path / "cascade.json")]) == 16
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"stage 4 names {tmp_path / 'head.json'}, which does not exist" in err[0]


def test_the_report_says_which_class_comes_from_one_clip_only() -> None:
    from visionedge.train.head import report_text

    report = {"labels": ["animal", "vehicle"], "crops": 40, "clips": 4, "l2": 0.1,
              "cv": "4 folds by clip", "cv_confusion": [[9, 1], [10, 0]],
              "clips_per_label": {"animal": 3, "vehicle": 1}}
    notes = [line for line in report_text(report).splitlines() if line.startswith("note:")]
    assert notes == ["note: 'vehicle' comes from one clip only, so its held-out figures are of a "
                     "model that never saw it; add crops of it from another clip"]
    report["clips_per_label"] = {"animal": 3, "vehicle": 2}
    assert "note:" not in report_text(report)
