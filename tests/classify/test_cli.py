"""``visionedge classify``: text and JSON output, and the exit status of each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from visionedge.cli import main


@pytest.fixture
def images(tmp_path: Path) -> list[Path]:
    out = []
    for name, bgr in [("red.png", (0, 0, 210)), ("blue.jpg", (200, 10, 10))]:
        img = np.zeros((120, 160, 3), np.uint8)
        img[...] = bgr
        p = tmp_path / name
        assert cv2.imwrite(str(p), img)
        out.append(p)
    return out


def _model_args(models: dict[str, Path], name: str = "colour_int8") -> list[str]:
    m = models[name]
    return ["--model", str(m), "--labels", str(m.with_name(f"{name}_labels.txt"))]


def test_text_output(models: dict[str, Path], images: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["classify", *map(str, images), *_model_args(models), "--top-k", "2"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert out[0] == str(images[0])
    assert out[1].split()[1:] == ["red", "[0]"]
    assert out[3] == str(images[1]) and out[4].split()[1] == "blue"
    assert len(out) == 6


def test_json_output(models: dict[str, Path], images: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["classify", *map(str, images), *_model_args(models), "--json", "--top-k", "3"])
    assert rc == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["image"] for d in lines] == [str(p) for p in images]
    top = lines[0]["top"]
    assert top[0]["label"] == "red" and top[0]["index"] == 0
    assert len(top) == 3 and all(0.0 <= t["score"] <= 1.0 for t in top)
    assert top[0]["score"] >= top[1]["score"] >= top[2]["score"]
    assert sum(t["score"] for t in top) == pytest.approx(1.0, abs=0.02)  # dequantized softmax


def test_input_range_flag_takes_a_negative_minimum(
    models: dict[str, Path], images: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["classify", str(images[0]), *_model_args(models, "colour_pm1_uint8"), "--json"]
    assert main([*args, "--input-range", "-1,1"]) == 0
    best = json.loads(capsys.readouterr().out)["top"][0]
    assert best["label"] == "red" and best["score"] > 0.9
    assert main([*args, "--input-range=-1,1"]) == 0


def test_threshold_hides_weak_labels(
    models: dict[str, Path], images: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["classify", str(images[0]), *_model_args(models), "--threshold", "0.5", "--json"]) == 0
    assert [t["label"] for t in json.loads(capsys.readouterr().out)["top"]] == ["red"]


def test_config_file_supplies_the_classifier(
    models: dict[str, Path], images: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = models["colour_int8"]
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[classifier]\nmodel = "{m}"\nlabels = "{m.with_name("colour_int8_labels.txt")}"\n'
        'ignore = ["red"]\ntop_k = 1\n'
    )
    assert main(["classify", str(images[0]), "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top"][0]["label"] != "red"


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        ("missing_image", 4, "image not found"),
        ("not_an_image", 4, "cannot decode the image"),
        ("bad_model", 5, "not a TFLite model"),
        ("bad_labels", 5, "labels but the model has 3 outputs"),
        ("bad_range", 2, "MIN must be below MAX"),
        ("bad_top_k", 3, "top_k"),
    ],
)
def test_bad_input_exit_status(
    models: dict[str, Path],
    images: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: str,
    status: int,
    message: str,
) -> None:
    args = ["classify", str(images[0]), *_model_args(models)]
    if make == "missing_image":
        args[1] = str(tmp_path / "nope.png")
    elif make == "not_an_image":
        junk = tmp_path / "junk.png"
        junk.write_bytes(b"not a png at all")
        args[1] = str(junk)
    elif make == "bad_model":
        (tmp_path / "m.tflite").write_text("text")
        args[3] = str(tmp_path / "m.tflite")
    elif make == "bad_labels":
        (tmp_path / "l.txt").write_text("only\ntwo\n")
        args[5] = str(tmp_path / "l.txt")
    elif make == "bad_range":
        args += ["--input-range", "1,0"]
    else:
        args += ["--top-k", "0"]
    if status == 2:
        with pytest.raises(SystemExit) as exc:
            main(args)
        assert exc.value.code == 2
    else:
        assert main(args) == status
    err = capsys.readouterr().err
    assert message in err
    if status != 2:
        assert err.count("\n") == 1 and err.startswith("visionedge: error: ")
