"""``scripts/build_presets.py --head-extra``: the learned head's training crops from another
footage folder's boxes judged by eye (a generated clip stands in for real footage; decoded
by OpenCV like the real one)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
from scriptkit import load_script

from visionedge.synth import small_scene, write_clip

HEADER = "file,clip,split,class,frame,x0,y0,x1,y1"


def _script() -> ModuleType:
    return load_script("scripts/build_presets.py", "build_presets_extra")


def _folder(root: Path, clip_id: str, licence: str, split: str, rows: list[str], table: str) -> Path:
    """A footage folder of one generated clip, its manifest and one crops table."""
    (root / "clips").mkdir(parents=True)
    (root / "crops").mkdir()
    write_clip(small_scene(seed=4, cls="vehicle"), root / "clips" / f"{clip_id}.avi")
    (root / "manifest.json").write_text(json.dumps({"clips": [
        {"id": clip_id, "file": f"{clip_id}.avi", "classes": ["vehicle"], "split": split,
         "licence": licence, "source": {"origin": "generated"}}]}))
    head = HEADER + (",note" if table == "objects_checked.csv" else "")
    (root / "crops" / table).write_text(head + "\n" + "".join(r + "\n" for r in rows))
    return root


@pytest.fixture
def realdata(tmp_path: Path) -> Path:
    """The main folder: one licence-clean train clip with one gate crop."""
    data = _folder(tmp_path / "realdata", "road", "MIT (repo)", "train",
                   ["train/vehicle/road_00030.png,road,train,vehicle,30,0.2,0.2,0.6,0.7"],
                   "manifest.csv")
    (data / "crops" / "train" / "vehicle").mkdir(parents=True)
    cv2.imwrite(str(data / "crops" / "train" / "vehicle" / "road_00030.png"),
                np.zeros((8, 8, 3), np.uint8))
    return data


def test_judged_boxes_of_an_extra_clip_become_crops_with_the_gate_margin(
    realdata: Path, tmp_path: Path
) -> None:
    fresh = _folder(tmp_path / "fresh", "tunnel", "Apache-2.0 (repository LICENSE)", "test", [
        ",tunnel,test,vehicle,20,0.25,0.25,0.5,0.75,by eye",
        ",tunnel,test,background,40,0.0,0.0,0.2,0.2,by eye",
        # Judged two classes on one box (a rider on a motorbike): left out.
        ",tunnel,test,vehicle,50,0.5,0.5,0.7,0.7,by eye",
        ",tunnel,test,person,50,0.5,0.5,0.7,0.7,by eye",
    ], "objects_checked.csv")
    bp = _script()
    samples, clips, where = bp.head_samples(realdata, [(fresh, "tunnel")], work=tmp_path / "work")
    assert [(s.label, s.group) for s in samples] == [
        ("vehicle", "road"), ("vehicle", "tunnel"), ("background", "tunnel")]
    assert clips["tunnel"]["split"] == "train"  # trains the head, whatever its own set said
    car = samples[1]
    clip, frame, box = where[str(car.path)]
    assert clip == fresh / "clips" / "tunnel.avi" and frame == 20
    assert box == pytest.approx((0.2125, 0.175, 0.5375, 0.825))  # 15 % of the box per side
    image = cv2.imread(str(car.path))
    assert image is not None and image.shape[:2] == (117, 104)  # 0.65 x 180, 0.325 x 320
    # The main folder's crop keeps its own clip and box.
    assert where[str(samples[0].path)] == (realdata / "clips" / "road.avi", 30, (0.2, 0.2, 0.6, 0.7))


@pytest.mark.parametrize("licence", ["not stated (no LICENSE)", "CC-BY-NC-4.0"])
def test_an_extra_clip_whose_licence_keeps_a_model_from_shipping_is_refused(
    realdata: Path, tmp_path: Path, licence: str
) -> None:
    fresh = _folder(tmp_path / "fresh", "highway", licence, "test",
                    [",highway,test,vehicle,20,0.25,0.25,0.5,0.75,by eye"], "objects_checked.csv")
    with pytest.raises(SystemExit, match=r"--head-extra .*:highway: no such clip, or its licence"):
        _script().head_samples(realdata, [(fresh, "highway")], work=tmp_path / "work")
    assert not (tmp_path / "work").exists()


def test_an_unknown_extra_clip_is_refused(realdata: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=":nowhere: no such clip"):
        _script().head_samples(realdata, [(realdata, "nowhere")], work=tmp_path / "work")


def test_the_shipped_head_names_its_extra_clips() -> None:
    # The shipped pva_head was trained with the two clips the script's docstring names.
    from visionedge.classify.presets import PRESETS_DIR

    card = json.loads((PRESETS_DIR / "pva_head" / "card.json").read_text())
    clips = {c["clip"] for c in card["preset"]["data"]["train_clips"]}
    assert {"autostrade_tunnel_cctv_640x360.mp4", "night_garage_person_1920x1080.mp4"} <= clips
    assert "../realdata2:autostrade_tunnel_cctv" in (_script().__doc__ or "")
