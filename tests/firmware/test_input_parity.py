"""From camera frame to label: the firmware's classifier input equals the daemon's, byte for byte.

On the frames the daemon classifies (open event, gate open, not a rejected frame) both sides
pick the same crop box (the frame's largest motion region, else the event's union box: docs/
gate-algorithm.md §6), cut it out of the same decoded camera image, area-resize and quantize
it; the C++ runner (host under ASan/UBSan, and the Cortex-M4 image under QEMU) prints the
SHA-1 of each int8 tensor, and the tensors it writes give the same top-1 through TFLM (the
pinned wheel) as the daemon's classifier gives through LiteRT.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from fwkit import Runner, cmake_build, firmware_model, load_export, write_params

from visionedge.protocols import Box


@dataclass(frozen=True)
class InputLine:
    index: int
    source: str
    box: tuple[float, ...]
    rect: tuple[int, ...]
    sha1: str


def _parse(stdout: str) -> list[InputLine]:
    out = []
    for line in stdout.splitlines():
        if not line.startswith("input "):
            continue
        head, *fields = line.split(" ")[1:]
        kv = dict(f.split("=", 1) for f in fields)
        out.append(InputLine(int(head), kv["from"], tuple(float(v) for v in kv["box"].split(",")),
                             tuple(int(v) for v in kv["rect"].split(",")), kv["sha1"]))
    return out


@pytest.fixture(scope="module")
def clip_case(
    small_export: tuple[str, Path, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, Path, tuple[int, int]]:
    """The small scene's planes (replay export) and its decoded BGR frames as raw files."""
    config, frames, _ = small_export
    images = tmp_path_factory.mktemp("images")
    cap = cv2.VideoCapture(str(frames.parent / "small.avi"))
    size = (0, 0)
    index = 0
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                break
            (images / f"image_{index:06d}.bgr").write_bytes(np.ascontiguousarray(img).tobytes())
            size = (img.shape[1], img.shape[0])
            index += 1
    finally:
        cap.release()
    manifest, _ = load_export(frames)
    assert index == len(manifest["frames"]), "decoded frames and exported planes differ in number"
    return config, frames, images, size


Expected = tuple[list[InputLine], dict[int, bytes], dict[int, int], object]


def _python_inputs(config: str, frames: Path, images: Path, size: tuple[int, int]) -> Expected:
    """What the daemon feeds its classifier on the same frames (real gate, tracker, classifier),
    the tensors, and the daemon's top-1 on each."""
    import tomllib

    from visionedge.classify import load_classifier
    from visionedge.classify.preprocess import crop_rect
    from visionedge.config import parse_config
    from visionedge.events import EventTracker, deterministic_ids
    from visionedge.frame import Frame
    from visionedge.gate import FrameDifferenceGate

    cfg = parse_config(tomllib.loads(config))
    # The model the firmware links by default (its C array), by preset name.
    classifier = load_classifier(
        cfg.classifier.model_copy(update={"enabled": True, "model": firmware_model()[0]})
    )
    spec = classifier.input_spec
    manifest, planes = load_export(frames)
    gate = FrameDifferenceGate(cfg.gate)
    tracker = EventTracker(cfg.events, cfg.device, cfg.classifier, id_factory=deterministic_ids())
    lines, tensors, top1 = [], {}, {}
    w, h = size
    for f, plane in zip(manifest["frames"], planes, strict=True):
        image = np.frombuffer((images / f"image_{f['index']:06d}.bgr").read_bytes(), np.uint8).reshape(h, w, 3)
        frame = Frame(index=f["index"], ts_ms=f["ts_ms"], plane=plane, _image=lambda i=image: i,
                      source=manifest["clip_id"])
        result = gate.process_plane(plane, f["index"], f["metadata"] or None)
        tracker.on_gate(frame, result)
        # pipeline.budget.classification_due, without the per-event budget and cadence.
        if not tracker.is_open or not result.motion or (result.reason and not result.opened):
            continue
        box: Box | None = result.regions[0] if result.regions else tracker.box
        if box is None:
            continue
        tensor = np.asarray(classifier.input_tensor(image, box)).tobytes()
        rect = crop_rect(box, w, h, spec.width / spec.height, cfg.classifier.margin)
        lines.append(InputLine(f["index"], "region" if result.regions else "event",
                               (box.x0, box.y0, box.x1, box.y1), rect, hashlib.sha1(tensor).hexdigest()))
        tensors[f["index"]] = tensor
        top1[f["index"]] = int(np.argmax(classifier.scores(image, box)))
    return lines, tensors, top1, classifier


def _run(runner: Runner, clip_case: tuple[str, Path, Path, tuple[int, int]], tmp_path: Path, classifier: object,
         dump: Path | None) -> list[InputLine]:
    config, frames, images, (w, h) = clip_case
    spec = classifier.input_spec  # type: ignore[attr-defined]
    manifest, _ = load_export(frames)
    params = write_params(config, (manifest["width"], manifest["height"]), tmp_path / "p.txt")
    args = ["--params", str(params), "--frames", str(frames), "--images", str(images), "--image-size", f"{w}x{h}",
            "--input", f"{spec.width}x{spec.height}x{spec.channels}",
            "--quant", f"{spec.scale!r},{spec.zero_point},{spec.mean[0]!r},{spec.std[0]!r}"]
    if dump is not None:
        args += ["--dump-inputs", str(dump)]
    proc = runner.run(*args)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return _parse(proc.stdout)


@pytest.fixture(scope="module")
def expected(clip_case: tuple[str, Path, Path, tuple[int, int]]) -> Expected:
    config, frames, images, size = clip_case
    result = _python_inputs(config, frames, images, size)
    # The clip must exercise both crop sources.
    assert len(result[0]) >= 10 and {line.source for line in result[0]} == {"region", "event"}, result[0]
    return result


def test_host_input_tensors_equal_the_daemons(
    host_runner: Runner, clip_case: tuple[str, Path, Path, tuple[int, int]], expected: Expected, tmp_path: Path
) -> None:
    lines, tensors, top1, classifier = expected
    dump = tmp_path / "inputs"
    dump.mkdir()
    got = _run(host_runner, clip_case, tmp_path, classifier, dump)
    assert got == lines
    # Frame to label: the C++ tensors through TFLM give the daemon's top-1 (LiteRT).
    from tflite_micro.python.tflite_micro import runtime

    tflm = runtime.Interpreter.from_bytes(Path(classifier.path).read_bytes(),  # type: ignore[attr-defined]
                                          arena_size=256 * 1024)
    spec = classifier.input_spec  # type: ignore[attr-defined]
    labels = {}
    for line in got:
        raw = (dump / f"input_{line.index:06d}.bin").read_bytes()
        assert raw == tensors[line.index]
        tflm.set_input(np.frombuffer(raw, np.int8).reshape(1, spec.height, spec.width, spec.channels), 0)
        tflm.invoke()
        labels[line.index] = int(np.argmax(tflm.get_output(0)))
    assert labels == top1


def test_qemu_input_tensors_equal_the_daemons(
    qemu_runner: Runner, clip_case: tuple[str, Path, Path, tuple[int, int]], expected: Expected, tmp_path: Path
) -> None:
    lines, _, _, classifier = expected
    assert _run(qemu_runner, clip_case, tmp_path, classifier, None) == lines


TFLM_ROOT = os.environ.get("TFLM_ROOT", "")
TFLM_LIB = os.environ.get("TFLM_LIB", "")


@pytest.mark.skipif(not (TFLM_ROOT and TFLM_LIB),
                    reason="TFLM not built beside the project: set TFLM_ROOT and TFLM_LIB (docs/firmware.md)")
def test_cpp_tflm_labels_of_the_runner_tensors_equal_the_daemons(
    host_runner: Runner, clip_case: tuple[str, Path, Path, tuple[int, int]], expected: Expected,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Frame to label through the C++ chain: runner tensors -> ve::Classifier over TFLM."""
    lines, _, top1, classifier = expected
    tmp = tmp_path_factory.mktemp("cpp-tflm")
    dump = tmp / "inputs"
    dump.mkdir()
    got = _run(host_runner, clip_case, tmp, classifier, dump)
    assert got == lines
    tflm = Runner(cmake_build(tmp / "build", f"-DTFLM_ROOT={TFLM_ROOT}", f"-DTFLM_LIB={TFLM_LIB}",
                              target="ve_tflm_host"))
    proc = tflm.run("--raw-inputs", *[str(dump / f"input_{line.index:06d}.bin") for line in got])
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    tops = [int(line.rsplit("top=", 1)[1]) for line in proc.stdout.splitlines() if line.startswith("crop ")]
    assert tops == [top1[line.index] for line in got]


@pytest.fixture(scope="module")
def object_case(clip_case: tuple[str, Path, Path, tuple[int, int]]) -> tuple[str, list[InputLine], list[str]]:
    """Object mode (the default): the daemon's pipeline classifies each picked object on its own
    box; its input lines, and its classifications as the runner's ``FRAME #ID ...`` lines."""
    import tomllib

    from visionedge.classify import load_classifier
    from visionedge.classify.preprocess import crop_rect
    from visionedge.config import parse_config
    from visionedge.frame import Frame
    from visionedge.pipeline import build_pipeline

    config, frames, images, (w, h) = clip_case
    config = config.replace('mode = "motion"', 'mode = "object"').replace(
        "[classifier]\nenabled = false", '[classifier]\nenabled = true\nmodel = "demo"')
    cfg = parse_config(tomllib.loads(config))
    classifier = load_classifier(cfg.classifier)
    spec = classifier.input_spec
    manifest, planes = load_export(frames)

    class Source:
        name = "images"
        state = "ok"
        fps = float(manifest["fps"])

        def __enter__(self) -> Source:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def frames(self) -> object:
            for f, plane in zip(manifest["frames"], planes, strict=True):
                image = np.frombuffer((images / f"image_{f['index']:06d}.bgr").read_bytes(),
                                      np.uint8).reshape(h, w, 3)
                yield Frame(f["index"], f["ts_ms"], plane, (lambda i=image: i), f["metadata"] or {},
                            manifest["clip_id"])

    lines: list[InputLine] = []
    cls: list[str] = []

    def hook(frame: Frame, trace: object) -> None:
        objs = trace.extra["objects"]  # type: ignore[attr-defined]
        for oid in sorted(objs.classifications):
            c = objs.classifications[oid]
            box = c.box
            tensor = np.asarray(classifier.input_tensor(frame.image(), box)).tobytes()
            rect = crop_rect(box, w, h, spec.width / spec.height, cfg.classifier.margin)
            lines.append(InputLine(frame.index, f"object:{oid}", (box.x0, box.y0, box.x1, box.y1), rect,
                                   hashlib.sha1(tensor).hexdigest()))
            cls.append(" ".join([f"{frame.index} #{oid}", *(f"{p.index}:{p.score!r}" for p in c.top)]))

    build_pipeline(cfg, source=Source(), sinks=[], classifier=classifier,  # type: ignore[arg-type]
                   deterministic_ids=True).run(on_frame=hook)
    assert len(lines) >= 3, "no object was classified: the check would be empty"
    return config, lines, cls


@pytest.mark.parametrize("target", ["host", "qemu"])
def test_object_inputs_equal_the_daemons(
    target: str, clip_case: tuple[str, Path, Path, tuple[int, int]], expected: Expected,
    object_case: tuple[str, list[InputLine], list[str]], request: pytest.FixtureRequest,
) -> None:
    """Each object the runner's stage picks is cropped from the camera image like the daemon's."""
    runner: Runner = request.getfixturevalue(f"{target}_runner")
    _, frames, images, (w, h) = clip_case
    config, lines, cls = object_case
    spec = expected[3].input_spec  # type: ignore[attr-defined]
    manifest, _ = load_export(frames)
    # Beside the images: QEMU's semihosting command line holds 255 characters of short paths.
    params = write_params(config, (manifest["width"], manifest["height"]), images / f"p_{target}.txt",
                          manifest["fps"])
    (images / "c.txt").write_text("\n".join(cls) + "\n", encoding="utf-8")
    proc = runner.run(
        "--params", str(params), "--frames", str(frames), "--images", str(images), "--image-size", f"{w}x{h}",
        "--input", f"{spec.width}x{spec.height}x{spec.channels}",
        "--quant", f"{spec.scale!r},{spec.zero_point},{spec.mean[0]!r},{spec.std[0]!r}",
        "--classifications", str(images / "c.txt"), "--labels", "animal,background,person,vehicle")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert _parse(proc.stdout) == lines
