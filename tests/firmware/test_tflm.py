"""The C++ classifier over real TensorFlow Lite Micro against tflite-runtime, on the same crops.

Runs when TFLM is built beside the project: TFLM_ROOT (a tflite-micro checkout) and TFLM_LIB
(its libtensorflow-microlite.a for the host, built with its own Makefile) in the environment;
TFLM_LIB_M4 (the cortex_m_generic cortex-m4+fp library) adds the QEMU run. See
docs/firmware.md for how to build them.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
from fwkit import FIRMWARE, Runner, cmake_build, firmware_model, missing_tools

from visionedge.classify.normalization import range_to_normalization
from visionedge.classify.preprocess import InputQuantizer, crop_rect, crop_resize, to_model_colour
from visionedge.replay.export_frames import write_pgm

MODEL = firmware_model()[1]  # what ve_tflm_host links (the firmware default)
TFLM_ROOT = os.environ.get("TFLM_ROOT", "")
TFLM_LIB = os.environ.get("TFLM_LIB", "")
TFLM_LIB_M4 = os.environ.get("TFLM_LIB_M4", "")

pytestmark = pytest.mark.skipif(
    not (TFLM_ROOT and TFLM_LIB),
    reason="TFLM not built beside the project: set TFLM_ROOT and TFLM_LIB (docs/firmware.md)",
)


@pytest.fixture(scope="module")
def tflm_host(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    missing = missing_tools("cmake", "g++")
    if missing:
        pytest.skip(f"the TFLM host build needs {', '.join(missing)}")
    build = tmp_path_factory.mktemp("fw-tflm")
    return Runner(cmake_build(build, f"-DTFLM_ROOT={TFLM_ROOT}", f"-DTFLM_LIB={TFLM_LIB}", target="ve_tflm_host"))


@pytest.fixture(scope="module")
def crops(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, np.ndarray]]:
    """Gray 96x96 crops: rendered objects of every class, backgrounds, and scene crops."""
    from visionedge.synth import (
        CLASSES,
        default_scene,
        render_background,
        render_frames,
        render_object,
    )

    out = tmp_path_factory.mktemp("crops")
    rng = np.random.default_rng(7)
    images: list[np.ndarray] = []
    for i in range(8):
        images.append(render_object(CLASSES[i % len(CLASSES)], 96, rng)[0])
    images += [render_background(96, rng) for _ in range(2)]
    for index, (frame, truth) in enumerate(render_frames(default_scene(seed=2, width=320, height=180))):
        if index % 9 == 0 and truth.objects:
            box = truth.objects[0].box
            rect = crop_rect(box, frame.shape[1], frame.shape[0], 1.0, 0.15)
            images.append(crop_resize(frame, rect, 96, 96))
    result = []
    for i, img in enumerate(images):
        gray = to_model_colour(img, 1)[:, :, 0]
        path = out / f"crop{i:03d}.pgm"
        write_pgm(path, np.ascontiguousarray(gray))
        result.append((path, gray))
    return result


def _reference_outputs(gray_crops: list[np.ndarray]) -> np.ndarray:
    from tflite_runtime.interpreter import Interpreter

    interp = Interpreter(model_path=str(MODEL))
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    scale, zp = inp["quantization"]
    quant = InputQuantizer(range_to_normalization(0.0, 1.0), 1, "int8", scale, zp)
    rows = []
    for gray in gray_crops:
        interp.set_tensor(inp["index"], quant(gray[:, :, None]))
        interp.invoke()
        rows.append(interp.get_tensor(out["index"])[0].astype(int))
    return np.array(rows)


def _parse(stdout: str) -> tuple[dict[str, str], np.ndarray, list[int]]:
    lines = stdout.splitlines()
    head = dict(kv.split("=", 1) for kv in lines[0].split(" ")[2:] if "=" in kv)
    outs, tops = [], []
    for line in lines[1:]:
        if line.startswith("crop "):
            fields = dict(kv.split("=", 1) for kv in line.split(" ")[2:])
            outs.append([int(v) for v in fields["out"].split(",")])
            tops.append(int(fields["top"]))
    return head, np.array(outs), tops


def _check_parity(runner: Runner, crops: list[tuple[Path, np.ndarray]], record: pytest.RecordProperty) -> None:
    proc = runner.run(*[str(p) for p, _ in crops])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    head, cpp, tops = _parse(proc.stdout)
    ref = _reference_outputs([g for _, g in crops])
    assert cpp.shape == ref.shape
    largest = int(np.max(np.abs(cpp - ref)))
    record("largest_int8_difference", largest)
    record("arena_used", head["arena_used"])
    print(f"\nTFLM vs tflite-runtime on {len(crops)} crops: largest int8 difference {largest}, "
          f"arena used {head['arena_used']} of {head['arena']} bytes")
    assert tops == [int(np.argmax(r)) for r in ref], "top-1 differs on some crop"
    assert largest <= 2, f"int8 outputs differ by up to {largest}"
    assert int(head["arena_used"]) <= int(head["arena"])


def test_tflm_host_matches_tflite_runtime(
    tflm_host: Runner, crops: list[tuple[Path, np.ndarray]], record_property: pytest.RecordProperty
) -> None:
    _check_parity(tflm_host, crops, record_property)


def _patched_model(tmp_path: Path, *, version: int | None = None, opcode: tuple[int, int] | None = None) -> Path:
    """The demo model with its schema version or one builtin operator code rewritten in place."""
    buf = bytearray(MODEL.read_bytes())

    def u32(pos: int) -> int:
        return int(struct.unpack_from("<I", buf, pos)[0])

    def field(table: int, index: int) -> int:
        vtable = table - struct.unpack_from("<i", buf, table)[0]
        vlen = struct.unpack_from("<H", buf, vtable)[0]
        slot = 4 + 2 * index
        return 0 if slot >= vlen else table + struct.unpack_from("<H", buf, vtable + slot)[0]

    model = u32(0)
    if version is not None:
        pos = field(model, 0)
        assert pos, "model has no version field to patch"
        struct.pack_into("<I", buf, pos, version)
    if opcode is not None:
        old, new = opcode
        vec_field = field(model, 1)
        vec = vec_field + u32(vec_field)
        patched = False
        for i in range(u32(vec)):
            entry = vec + 4 + 4 * i
            code = entry + u32(entry)
            dep, full = field(code, 0), field(code, 3)
            current = struct.unpack_from("<i", buf, full)[0] if full else buf[dep]
            if current == old:
                if full:
                    struct.pack_into("<i", buf, full, new)
                if dep:
                    struct.pack_into("<b", buf, dep, min(new, 127))
                patched = True
        assert patched, f"no operator code {old} in the model"
    out = tmp_path / "patched.tflite"
    out.write_bytes(bytes(buf))
    return out


def _error_line(proc: object) -> str:
    assert proc.returncode == 1, proc.stdout + proc.stderr  # type: ignore[attr-defined]
    return next(line for line in proc.stdout.splitlines() if line.startswith("error "))  # type: ignore[attr-defined]


def test_operator_missing_from_resolver(tflm_host: Runner, tmp_path: Path) -> None:
    # MEAN (40) -> SUM (74): a valid model the card's resolver cannot run.
    model = _patched_model(tmp_path, opcode=(40, 74))
    line = _error_line(tflm_host.run("--model", str(model)))
    assert line.startswith("error model_ops (5): operator SUM is not in the resolver"), line


def test_schema_version_mismatch(tflm_host: Runner, tmp_path: Path) -> None:
    model = _patched_model(tmp_path, version=4)
    line = _error_line(tflm_host.run("--model", str(model)))
    assert line.startswith("error model_schema (4): model schema version 4"), line


def test_truncated_model(tflm_host: Runner, tmp_path: Path) -> None:
    model = tmp_path / "cut.tflite"
    model.write_bytes(MODEL.read_bytes()[:20000])
    line = _error_line(tflm_host.run("--model", str(model)))
    assert line.startswith("error model_schema (4): the model (20000 bytes) is not a valid TFLite flatbuffer"), line


def test_arena_too_small(tflm_host: Runner) -> None:
    # Every size below the card's arena, including those where TFLM's kernels would abort.
    for size in (4096, 16384, 25600, int(firmware_model()[2]["tflm"]["arena_bytes"]) - 16):
        line = _error_line(tflm_host.run("--arena", str(size)))
        assert line.startswith(f"error arena_too_small (6): a {size}-byte arena is below the model card's"), line


def test_crop_of_wrong_size(tflm_host: Runner, tmp_path: Path) -> None:
    crop = tmp_path / "c.pgm"
    write_pgm(crop, np.zeros((64, 64), np.uint8))
    line = _error_line(tflm_host.run(str(crop)))
    assert line.startswith("error frame_size (1): crop"), line


@pytest.mark.skipif(not TFLM_LIB_M4, reason="set TFLM_LIB_M4 to the cortex-m4+fp libtensorflow-microlite.a")
def test_tflm_qemu_matches_tflite_runtime(
    tmp_path_factory: pytest.TempPathFactory,
    crops: list[tuple[Path, np.ndarray]],
    record_property: pytest.RecordProperty,
) -> None:
    missing = missing_tools("cmake", "arm-none-eabi-g++", "qemu-system-arm")
    if missing:
        pytest.skip(f"the Cortex-M4 TFLM build needs {', '.join(missing)}")
    build = tmp_path_factory.mktemp("fw-tflm-m4")
    runner = Runner(
        cmake_build(
            build,
            f"-DCMAKE_TOOLCHAIN_FILE={FIRMWARE / 'cmake' / 'arm-none-eabi.cmake'}",
            "-DVE_TARGET=mps2_an386",
            f"-DTFLM_ROOT={TFLM_ROOT}",
            f"-DTFLM_LIB={TFLM_LIB_M4}",
            target="ve_tflm_qemu",
        ),
        qemu=True,
    )
    _check_parity(runner, crops[:12], record_property)  # newlib: 255-byte command line
