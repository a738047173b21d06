"""Helpers of the firmware tests: build the runners, export clips, run and parse both sides."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
# ASan/UBSan report with their own exit status, so "the runner rejected bad input" (1) and
# "the runner hit undefined behaviour" (86) can never be confused.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "exitcode=86:detect_leaks=0:abort_on_error=0",  # the core never allocates; LSan needs ptrace
    "UBSAN_OPTIONS": "halt_on_error=1:exitcode=86:print_stacktrace=1",
}
RUN_TIMEOUT_S = 120


def firmware_model() -> tuple[str, Path, dict[str, Any]]:
    """The preset the firmware links by default (``VE_MODEL`` in firmware/CMakeLists.txt):
    its name, .tflite and card, read from the build file so the tests follow it."""
    import re

    found = re.search(r'set\(VE_MODEL "([^"]+)" CACHE', (FIRMWARE / "CMakeLists.txt").read_text("utf-8"))
    assert found, "firmware/CMakeLists.txt sets no default VE_MODEL"
    folder = ROOT / "visionedge" / "data" / "models" / found.group(1)
    card: dict[str, Any] = json.loads((folder / "card.json").read_text("utf-8"))
    return found.group(1), (folder / card["file"]).resolve(), card


def missing_tools(*tools: str) -> list[str]:
    """Names of the tools not on PATH."""
    return [t for t in tools if shutil.which(t) is None]


def cmake_build(build_dir: Path, *args: str, target: str) -> Path:
    """Configure and build firmware/ (core only, -O1, 2 jobs); return the built target."""
    cfg = [
        "cmake", "-S", str(FIRMWARE), "-B", str(build_dir),
        "-DCMAKE_BUILD_TYPE=None", "-DCMAKE_CXX_FLAGS=-O1", "-DCMAKE_C_FLAGS=-O1", *args,
    ]
    for cmd in (cfg, ["cmake", "--build", str(build_dir), "-j2", "--target", target]):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
    found = [p for p in build_dir.rglob(target + "*") if p.is_file() and os.access(p, os.X_OK)]
    assert found, f"{target} was not built in {build_dir}"
    return found[0]


@dataclass(frozen=True)
class Runner:
    """A built runner: the host binary, or the Cortex-M4 image run under QEMU."""

    path: Path
    qemu: bool = False

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run with these runner arguments; returns the finished process (never raises on status)."""
        cwd = None
        if self.qemu:
            # newlib's rdimon crt0 reads the semihosting command line into a 255-byte buffer:
            # run from the files' common directory and pass short relative paths.
            paths = [a for a in args if a.startswith("/")]
            if paths:
                cwd = os.path.commonpath([str(Path(p).parent) for p in paths])
                args = tuple(os.path.relpath(a, cwd) if a.startswith("/") else a for a in args)
            cmdline = " ".join(("ve_qemu", *args))
            assert len(cmdline) < 250, f"semihosting command line too long for newlib ({len(cmdline)} chars)"
            # QEMU's option syntax: a comma inside a value is written twice.
            semi = ",".join(["enable=on", "target=native", "arg=ve_qemu",
                             *(f"arg={a.replace(',', ',,')}" for a in args)])
            cmd = [
                "qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                "-semihosting-config", semi, "-kernel", str(self.path),
            ]
            env = None
        else:
            cmd = [str(self.path), *args]
            env = {**os.environ, **SANITIZER_ENV}
        return subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=env, cwd=cwd)


@dataclass
class FrameLine:
    """One ``frame ...`` line of the runner."""

    index: int
    pct: float
    pct_text: str
    motion: bool
    frame_motion: bool
    opened: bool
    closed: bool
    reason: str
    box: tuple[float, float, float, float] | None
    zones: tuple[str, ...]
    tamper: str


def parse_output(text: str) -> tuple[list[FrameLine], list[str]]:
    """Split runner stdout into frame records and event JSON lines."""
    frames: list[FrameLine] = []
    events: list[str] = []
    for line in text.splitlines():
        if line.startswith("{"):
            events.append(line)
            continue
        if not line.startswith("frame "):
            continue
        head, *fields = line.split(" ")[1:]
        kv = dict(f.split("=", 1) for f in fields)
        box = None if kv["box"] == "-" else tuple(float(v) for v in kv["box"].split(","))
        frames.append(
            FrameLine(
                index=int(head),
                pct=float(kv["pct"]),
                pct_text=kv["pct"],
                motion=kv["motion"] == "1",
                frame_motion=kv["frame_motion"] == "1",
                opened=kv["opened"] == "1",
                closed=kv["closed"] == "1",
                reason="" if kv["reason"] == "-" else kv["reason"],
                box=box,  # type: ignore[arg-type]
                zones=() if kv["zones"] == "-" else tuple(kv["zones"].split(",")),
                tamper=kv["tamper"],
            )
        )
    return frames, events


def write_params(config_toml: str, plane: tuple[int, int], out: Path, fps: float | None = None) -> Path:
    """``visionedge firmware config --format params`` for a config text and plane size (and the
    clip's frame rate, which turns the gate's seconds into frames; default ``source.fps``)."""
    cfg = out.with_suffix(".toml")
    cfg.write_text(config_toml, encoding="utf-8")
    rate = ["--fps", repr(float(fps))] if fps is not None else []
    proc = subprocess.run(
        [sys.executable, "-m", "visionedge", "firmware", "config", str(cfg), "--format", "params",
         "--plane", f"{plane[0]}x{plane[1]}", *rate, "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def write_frames(
    directory: Path,
    planes: list[npt.NDArray[np.uint8]],
    *,
    clip_id: str = "planes",
    fps: float = 10.0,
    metadata: list[dict[str, float]] | None = None,
) -> Path:
    """Write planes as an export directory (PGMs + manifest) like ``replay --export-frames``."""
    from visionedge.config import GateConfig
    from visionedge.frame import Frame
    from visionedge.replay.export_frames import FrameExporter

    exporter = FrameExporter(directory, clip_id=clip_id, fps=fps, gate=GateConfig())
    for i, plane in enumerate(planes):
        meta = metadata[i] if metadata else {}
        exporter.write(
            Frame(index=i, ts_ms=round(i * 1000 / fps), plane=plane, _image=lambda p=plane: p, metadata=meta)
        )
    exporter.close()
    return directory


def load_export(directory: Path) -> tuple[dict[str, Any], list[npt.NDArray[np.uint8]]]:
    """The manifest and planes of an export directory."""
    from visionedge.replay.export_frames import read_pgm

    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    planes = [read_pgm(directory / f["file"]) for f in manifest["frames"]]
    return manifest, planes


def python_gate_lines(config_toml: str, directory: Path) -> list[FrameLine]:
    """The Python gate's decisions on an export directory, as runner-style records."""
    import tomllib

    from visionedge.config import parse_config
    from visionedge.gate import FrameDifferenceGate

    cfg = parse_config(tomllib.loads(config_toml))
    manifest, planes = load_export(directory)
    gate = FrameDifferenceGate(cfg.gate)
    out: list[FrameLine] = []
    for f, plane in zip(manifest["frames"], planes, strict=True):
        r = gate.process_plane(plane, f["index"], f["metadata"] or None)
        box = None if r.box is None else (r.box.x0, r.box.y0, r.box.x1, r.box.y1)
        out.append(
            FrameLine(
                index=r.index, pct=r.changed_pct, pct_text=repr(r.changed_pct), motion=r.motion,
                frame_motion=r.frame_motion, opened=r.opened, closed=r.closed, reason=r.reason,
                box=box, zones=tuple(r.zones),
                tamper="ok" if r.tamper.value == "ok" else r.tamper_reason,
            )
        )
    return out


def assert_same_frames(cpp: list[FrameLine], py: list[FrameLine]) -> None:
    """Every frame's decision, changed % (to the last reported digit), box and zones agree."""
    assert len(cpp) == len(py), f"C++ reported {len(cpp)} frames, Python {len(py)}"
    for c, p in zip(cpp, py, strict=True):
        # changed_pct: the same 3-decimal number (the runner prints it like Python's repr).
        assert c.pct_text == p.pct_text, f"frame {p.index}: changed_pct C++ {c.pct_text} vs Python {p.pct_text}"
        assert c == FrameLine(**{**p.__dict__, "pct_text": c.pct_text}), (
            f"frame {p.index} differs:\n  C++    {c}\n  Python {p}"
        )


LABELS = ("animal", "background", "person", "vehicle")
"""Label names of the seeded classifier below (the demo model's, by output index)."""


class SeededClassifier:
    """A stand-in model for the label-vote parity checks: seeded predictions per frame and box.

    The parity tests compare what the two ports do with classifications (vote, filters, zone
    rules, best view); the model itself is compared in test_tflm*.py and test_input_parity.py.
    """

    name = "demo_int8"
    sha256 = "5eed" * 4  # short: the QEMU command line holds 255 characters

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def classify(self, frame: Any, box: Any) -> Any:
        from visionedge.protocols import Classification, Prediction

        key = (self.seed, frame.index, *(round(v * 10000) for v in (box.x0, box.y0, box.x1, box.y1)))
        rng = np.random.default_rng(list(key))
        k = int(rng.integers(0, 4))
        picks = rng.choice(len(LABELS), size=k, replace=False)
        scores = sorted((round(float(rng.uniform(0.3, 1.0)), 6) for _ in range(k)), reverse=True)
        top = tuple(Prediction(LABELS[i], int(i), s) for i, s in zip(picks, scores, strict=True))
        return Classification(frame.index, top, box)


class SteadyClassifier(SeededClassifier):
    """Like :class:`SeededClassifier`, but every object's top label is the same for blocks of
    ``block`` frames (then the next label), so votes settle and re-checks disagree at block
    ends: the settle rule's branches (objects.settle_after, objects.recheck_s)."""

    def __init__(self, seed: int, block: int = 30) -> None:
        super().__init__(seed)
        self.block = block

    def classify(self, frame: Any, box: Any) -> Any:
        from visionedge.protocols import Classification, Prediction

        key = (self.seed, frame.index, *(round(v * 10000) for v in (box.x0, box.y0, box.x1, box.y1)))
        rng = np.random.default_rng(list(key))
        first = (self.seed + frame.index // self.block) % len(LABELS)
        scores = sorted((round(float(rng.uniform(0.3, 1.0)), 6) for _ in range(2)), reverse=True)
        top = [Prediction(LABELS[first], first, scores[0])]
        if rng.random() < 0.5:  # sometimes a runner-up
            other = (first + 1) % len(LABELS)
            top.append(Prediction(LABELS[other], other, scores[1]))
        return Classification(frame.index, tuple(top), box)


class QuietClassifier(SteadyClassifier):
    """Like :class:`SteadyClassifier`, but two blocks in three answer nothing (no label), so
    runs of no-label answers back off and a labelled block resets them: the back-off's
    branches (objects.backoff_after, capped by objects.recheck_s)."""

    def classify(self, frame: Any, box: Any) -> Any:
        from visionedge.protocols import Classification

        if (self.seed + frame.index // self.block) % 3 != 2:
            return Classification(frame.index, (), box)
        return super().classify(frame, box)


class _PlaneSource:
    """The planes of an export directory as a frame source (ids and times of its manifest)."""

    name = "planes"
    state = "ok"

    def __init__(self, directory: Path) -> None:
        self.manifest, self.planes = load_export(directory)
        self.fps = float(self.manifest["fps"])  # the pipeline's gate counts frames at this rate

    def __enter__(self) -> _PlaneSource:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def frames(self) -> Any:
        from visionedge.frame import Frame

        for f, plane in zip(self.manifest["frames"], self.planes, strict=True):
            yield Frame(f["index"], f["ts_ms"], plane, (lambda p=plane: p), f["metadata"] or {},
                        self.manifest["clip_id"])


def python_pipeline(
    config_toml: str, directory: Path, classifier: SeededClassifier | None = None
) -> tuple[list[str], list[str]]:
    """The daemon's pipeline (gate, motion events, objects) on an export directory.

    Returns the event lines and, with a classifier, the classifications file the runner reads
    (``FRAME L:S ...`` for the motion event, ``FRAME #ID L:S ...`` per object).
    """
    import tomllib

    from visionedge.config import parse_config
    from visionedge.pipeline import build_pipeline
    from visionedge.sinks.memory import MemorySink

    cfg = parse_config(tomllib.loads(config_toml))
    sink = MemorySink()
    lines: list[str] = []

    def line(frame: int, c: Any, oid: int | None) -> str:
        head = f"{frame}" + (f" #{oid}" if oid is not None else "")
        return " ".join([head, *(f"{p.index}:{p.score!r}" for p in c.top)])

    def hook(frame: Any, trace: Any) -> None:
        if trace.extra["classification"] is not None:
            lines.append(line(frame.index, trace.extra["classification"], None))
        objs = trace.extra["objects"]
        if objs is not None:
            for oid in sorted(objs.classifications):
                lines.append(line(frame.index, objs.classifications[oid], oid))

    pipe = build_pipeline(cfg, source=_PlaneSource(directory), sinks=[sink], classifier=classifier,  # type: ignore[arg-type]
                          deterministic_ids=True)
    pipe.run(on_frame=hook)
    from visionedge.events.payload import encode_event

    return [encode_event(e) for e in sink.events], lines


def runner_events(
    runner: Runner, config_toml: str, directory: Path, tmp_path: Path, classifications: list[str] | None = None
) -> list[str]:
    """The runner's event lines for an export directory (and a classifications file)."""
    manifest, _ = load_export(directory)
    params = write_params(config_toml, (manifest["width"], manifest["height"]), tmp_path / "p.txt",
                          manifest["fps"])
    args = ["--params", str(params), "--frames", str(directory)]
    if classifications is not None:
        cls = tmp_path / "cls.txt"
        cls.write_text("\n".join(classifications) + "\n", encoding="utf-8")
        args += ["--classifications", str(cls), "--labels", ",".join(LABELS),
                 "--model-name", SeededClassifier.name, "--model-sha256", SeededClassifier.sha256]
    proc = runner.run(*args)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return parse_output(proc.stdout)[1]
