"""The core's helpers against their Python definitions: quantization table, crop rectangle,
motion-plane downscale, replay event ids, the area resize and the largest-region crop box."""

from __future__ import annotations

import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
from fwkit import Runner

from visionedge.classify.normalization import range_to_normalization
from visionedge.classify.preprocess import InputQuantizer, crop_rect
from visionedge.events.ids import NAMESPACE
from visionedge.gate.plane import to_motion_plane
from visionedge.protocols import Box
from visionedge.replay.export_frames import read_pgm, write_pgm


def _ok(proc: object) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr  # type: ignore[attr-defined]
    return str(proc.stdout)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("scale", "zero_point", "lo", "hi"),
    [
        (0.0036601307801902294, -128, 0.0, 1.0),  # the shipped demo model's input
        (1 / 255, -128, 0.0, 1.0),
        (0.007843137718737125, 0, -1.0, 1.0),
        (0.02, 3, -1.0, 1.0),  # saturates at both ends
    ],
)
def test_quant_table_equals_input_quantizer(
    core_check: Runner, scale: float, zero_point: int, lo: float, hi: float
) -> None:
    norm = range_to_normalization(lo, hi)
    q = InputQuantizer(norm, 1, "int8", scale, zero_point)
    mean, std = norm.for_channels(1)
    out = _ok(core_check.run("quant-table", repr(scale), str(zero_point), repr(mean[0]), repr(std[0])))
    assert [int(v) for v in out.split()] == q.table[0].astype(int).tolist()


def test_crop_rect_equals_python(core_check: Runner) -> None:
    rng = np.random.default_rng(1)
    cases: list[tuple[int, int, float, float, Box | None]] = [(320, 180, 1.0, 0.15, None), (97, 300, 0.75, 0.0, None)]
    for _ in range(60):
        x0, y0 = rng.uniform(-0.1, 0.95, 2)
        w, h = rng.uniform(0.0, 0.8, 2)
        box = Box(float(x0), float(y0), float(x0 + w), float(y0 + h))
        fw, fh = int(rng.integers(20, 700)), int(rng.integers(20, 500))
        cases.append((fw, fh, float(rng.choice([1.0, 4 / 3, 0.5])), float(rng.choice([0.0, 0.15, 0.6])), box))
    for fw, fh, aspect, margin, box in cases:
        args = [str(fw), str(fh), repr(aspect), repr(margin)]
        if box is not None:
            args += [repr(box.x0), repr(box.y0), repr(box.x1), repr(box.y1)]
        got = tuple(int(v) for v in _ok(core_check.run("crop-rect", *args)).split())
        assert got == crop_rect(box, fw, fh, aspect, margin), (fw, fh, aspect, margin, box)


@pytest.mark.parametrize("name", ["small.avi:18", "scene.avi:0", "cam0:123456", "clip with spaces.mp4:7", "x" * 200 + ":1"])
def test_uuid5_equals_python(core_check: Runner, name: str) -> None:
    assert _ok(core_check.run("uuid5", name)).strip() == str(uuid.uuid5(NAMESPACE, name))


@pytest.mark.parametrize("raw", ["00" * 16, "ff" * 16, "0123456789abcdeffedcba9876543210"])
def test_live_uuid4_from_random_bytes_equals_python(core_check: Runner, raw: str) -> None:
    # Boards' live ids: 16 random bytes with the version-4 and variant bits set.
    want = str(uuid.UUID(bytes=bytes.fromhex(raw), version=4))
    assert _ok(core_check.run("uuid4", raw)).strip() == want


@pytest.mark.parametrize(("w", "h", "factor"), [(640, 360, 2), (641, 363, 3), (321, 181, 4), (50, 30, 1)])
def test_motion_plane_downscale_equals_python(core_check: Runner, tmp_path: Path, w: int, h: int, factor: int) -> None:
    rng = np.random.default_rng(w)
    gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
    src = tmp_path / "g.pgm"
    write_pgm(src, gray)
    out = tmp_path / "p.pgm"
    _ok(core_check.run("plane", str(factor), str(src), str(out)))
    expected = to_motion_plane(gray, w // factor if factor > 1 else w)
    assert np.array_equal(read_pgm(out), expected)


def test_crop_quantize_equals_python_area_resize(core_check: Runner, tmp_path: Path) -> None:
    """docs/gate-algorithm.md §6: the same int8 tensor as the daemon's crop_resize + quantizer,
    shrinking and enlarging, square and not, whole multiples and fractional footprints."""
    from visionedge.classify.preprocess import model_pixels

    rng = np.random.default_rng(2)
    frame = cv2.GaussianBlur(rng.integers(0, 256, (300, 400), dtype=np.uint8), (5, 5), 0)
    src = tmp_path / "f.pgm"
    write_pgm(src, frame)
    scale, zp = 0.0036601307801902294, -128
    q = InputQuantizer(range_to_normalization(0.0, 1.0), 1, "int8", scale, zp)
    rects = [(10, 20, 202, 212), (100, 0, 388, 288), (5, 5, 101, 101), (0, 0, 400, 300), (7, 9, 23, 25)]
    for _ in range(25):
        x0, y0 = int(rng.integers(0, 380)), int(rng.integers(0, 280))
        rects.append((x0, y0, int(rng.integers(x0 + 1, 401)), int(rng.integers(y0 + 1, 301))))
    for (x0, y0, x1, y1), (mw, mh) in zip(rects, [(96, 96), (64, 48), (96, 96), (33, 97)] * 10, strict=False):
        expected = q(model_pixels(frame, (x0, y0, x1, y1), mw, mh, 1)).reshape(-1).astype(int).tolist()
        out = _ok(core_check.run("crop-quantize", str(src), str(x0), str(y0), str(x1), str(y1),
                                 str(mw), str(mh), repr(scale), str(zp), "0.0", "255.0"))
        assert [int(v) for v in out.split()] == expected, (x0, y0, x1, y1, mw, mh)


def test_largest_region_equals_python(core_check: Runner) -> None:
    """ve::RegionFinder picks RegionFinder.find()[0] (the classifier's crop box) on random masks."""
    from visionedge.firmware_config import pack_bits
    from visionedge.gate.regions import RegionFinder

    rng = np.random.default_rng(5)
    cases = 0
    for w, h in [(160, 120), (163, 121), (40, 30), (7, 5), (320, 180)]:
        finder = RegionFinder(h, w)
        for trial in range(12):
            mask = np.zeros((h, w), np.uint8)
            for _ in range(int(rng.integers(0, 7))):  # blobs of several sizes, some touching
                bw, bh = int(rng.integers(1, max(2, w // 3))), int(rng.integers(1, max(2, h // 3)))
                x, y = int(rng.integers(0, w - bw + 1)), int(rng.integers(0, h - bh + 1))
                mask[y : y + bh, x : x + bw] = 255 * (rng.random((bh, bw)) < 0.6)
            mask[rng.random((h, w)) < 0.003] = 255  # specks
            min_area = int(rng.choice([0, 1, 20, 200]))
            boxes = finder.find(mask, min_area)
            out = _ok(core_check.run("region", str(w), str(h), str(min_area), pack_bits(mask).hex())).strip()
            assert out == ("-" if not boxes else " ".join(map(str, boxes[0]))), (w, h, trial, min_area)
            cases += bool(boxes) and len(boxes) > 1
    assert cases >= 10, "too few masks with several regions: the check would say little"


def test_crop_quantize_rejects_a_rect_outside_the_frame(core_check: Runner, tmp_path: Path) -> None:
    src = tmp_path / "f.pgm"
    write_pgm(src, np.zeros((50, 60), np.uint8))
    proc = core_check.run("crop-quantize", str(src), "10", "10", "70", "40", "96", "96", "0.004", "-128", "0", "255")
    assert proc.returncode == 1 and proc.stdout.startswith("error frame_size (1)")


def test_rank_outputs_equals_python_rank(core_check: Runner) -> None:
    from visionedge.classify.preprocess import dequantize
    from visionedge.classify.ranking import rank

    labels = ["animal", "background", "person", "vehicle", "x4", "x5"]
    rng = np.random.default_rng(3)
    for case in range(40):
        q = rng.integers(-128, 128, len(labels)).astype(np.int8)
        if case % 5 == 0:
            q[2] = q[3]  # ties keep the lower index
        ignore = {labels[i] for i in range(len(labels)) if rng.random() < 0.2}
        threshold = float(rng.choice([0.0, 0.1, 0.5, 0.9]))
        top_k = int(rng.integers(1, 5))
        scale, zp = 0.00390625, -128
        expected = rank(dequantize(q, scale, zp, True), labels, top_k=top_k, threshold=threshold, ignore=ignore)
        mask = "".join("1" if label in ignore else "0" for label in labels)
        out = _ok(core_check.run("rank", repr(scale), str(zp), repr(threshold), str(top_k),
                                 ",".join(str(int(v)) for v in q), mask)).split()
        got = [(int(i), float(s)) for i, s in (item.split(":") for item in out)]
        assert got == [(p.index, p.score) for p in expected], (q, ignore, threshold, top_k)


@pytest.mark.parametrize(("w", "h", "factor"), [(320, 240, 1), (640, 360, 2), (301, 203, 3)])
def test_bgr_motion_plane_equals_opencv_gray(core_check: Runner, tmp_path: Path, w: int, h: int, factor: int) -> None:
    """The 15-bit BT.601 gray of docs/gate-algorithm.md §1 = cv2.cvtColor, then the box downscale."""
    rng = np.random.default_rng(factor)
    bgr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    raw = tmp_path / "f.raw"
    raw.write_bytes(bgr.tobytes())
    out = tmp_path / "p.pgm"
    _ok(core_check.run("plane-bgr", str(factor), str(w), str(h), str(raw), str(out)))
    assert np.array_equal(read_pgm(out), to_motion_plane(bgr, w // factor))
