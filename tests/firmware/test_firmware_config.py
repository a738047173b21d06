"""``visionedge firmware config``: the header compiles into the core and carries the config."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from fwkit import FIRMWARE, missing_tools

from visionedge.cli import main
from visionedge.config import parse_config
from visionedge.firmware_config import build_spec, pack_bits, plane_size, render_params
from visionedge.gate.masks import build_mask_set

CONFIG = """
[device]
name = "porch-cam"
[events]
update_every = 7
[mqtt]
prefix = 'home"cams\\ü'

[gate]
width = 160
pixel_threshold = 31
start_pct = 0.75
reference = "previous"
masks = [[[0.0, 0.0], [0.35, 0.0], [0.35, 0.25], [0.0, 0.25]], [[0.8, 0.8], [1.0, 0.8], [1.0, 1.0]]]
[[gate.zones]]
name = "path"
polygon = [[0.3, 0.5], [0.7, 0.5], [0.7, 1.0], [0.3, 1.0]]
[[gate.zones]]
name = "door"
polygon = [[0.0, 0.2], [0.2, 0.2], [0.2, 0.9]]
"""

CHECK_MAIN = r"""
#include <cstdio>
#include "gate_config.h"
static ve::MotionGate gate;
int main() {
  ve::Status st = gate.configure(ve_config::gate_params());
  if (st != ve::Status::kOk) { std::printf("error %s\n", ve::status_name(st)); return 1; }
  const ve::EventParams ev = ve_config::event_params();
  std::printf("%d %d %d %s %d", VE_PLANE_W, VE_PLANE_H, gate.active_total(), ev.device, ev.update_every);
  for (int z = 0; z < VE_ZONE_COUNT; ++z) std::printf(" %s=%d", gate.params().zones[z].name, gate.zone_total(z));
  std::printf(" thr=%d start=%.17g prefix=%s\n", gate.params().pixel_threshold, gate.params().start_pct,
              ve_config::kMqttPrefix);
  return 0;
}
"""


def test_header_compiles_and_matches_python_masks(tmp_path: Path) -> None:
    missing = missing_tools("g++")
    if missing:
        pytest.skip("compiling the generated header needs g++")
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(CONFIG, encoding="utf-8")
    header = tmp_path / "gate_config.h"
    assert main(["firmware", "config", str(cfg_path), "--frame", "320x240", "-o", str(header)]) == 0
    (tmp_path / "check.cpp").write_text(CHECK_MAIN, encoding="utf-8")
    core = FIRMWARE / "core"
    sources = [str(core / "src" / f) for f in ("gate.cpp", "status.cpp", "events.cpp", "json.cpp", "format.cpp", "sha1.cpp")]
    exe = tmp_path / "check"
    proc = subprocess.run(
        ["g++", "-std=c++17", "-O1", "-fno-exceptions", "-fno-rtti", "-Wall", "-Werror", "-Wno-format-truncation",
         f"-I{core / 'include'}", f"-I{tmp_path}", str(tmp_path / "check.cpp"), *sources, "-o", str(exe)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30, check=True).stdout.split()
    cfg = parse_config(tomllib.loads(CONFIG))
    masks = build_mask_set(cfg.gate.masks, [(z.name, z.polygon) for z in cfg.gate.zones], 160, 120)
    assert out[:5] == ["160", "120", str(masks.total), "porch-cam", "7"]
    assert out[5:7] == [f"path={masks.zone_totals[0]}", f"door={masks.zone_totals[1]}"]
    assert out[7:] == ["thr=31", "start=0.75", 'prefix=home"cams\\ü']


def test_plane_size_follows_the_gate_spec() -> None:
    assert plane_size(640, 480, 320) == (320, 240)
    assert plane_size(640, 360, 160) == (160, 90)
    assert plane_size(1920, 1080, 320) == (320, 180)
    assert plane_size(160, 120, 320) == (160, 120)  # never upscales
    assert plane_size(1000, 10, 320) == (333, 3)


def test_bitmaps_are_packed_lsb_first() -> None:
    bitmap = np.zeros((2, 5), np.uint8)
    bitmap[0, 0] = bitmap[0, 3] = bitmap[1, 4] = 1  # pixels 0, 3, 9
    assert pack_bits(bitmap) == bytes([0b0000_1001, 0b0000_0010])


def test_params_file_lists_every_mask_and_zone() -> None:
    cfg = parse_config(tomllib.loads(CONFIG))
    text = render_params(build_spec(cfg, 16, 12))
    lines = text.splitlines()
    assert lines[0] == "visionedge-firmware-params 1"
    assert sum(line.startswith("mask ") for line in lines) == 1  # all mask polygons in one bitmap
    assert [line.split()[1] for line in lines if line.startswith("zone ")] == ["path", "door"]
    assert "start_pct 0.75" in lines and "reference previous" in lines


def test_default_frame_size_comes_from_the_source_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[source]\nwidth = 800\nheight = 600\n[gate]\nwidth = 200\n", encoding="utf-8")
    assert main(["firmware", "config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "#define VE_PLANE_W 200" in out and "#define VE_PLANE_H 150" in out


@pytest.mark.parametrize(
    ("args", "status", "fragment"),
    [
        (["--frame", "640by480"], 10, "--frame '640by480' is not WxH"),
        (["--plane", "0x10"], 10, "must be positive"),
        (["-o", "/nonexistent-dir/gate_config.h"], 10, "cannot write"),
    ],
)
def test_cli_errors(tmp_path: Path, args: list[str], status: int, fragment: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "visionedge", "firmware", "config", str(cfg), *args],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == status, proc.stderr
    assert proc.stderr.startswith("visionedge: error: ") and fragment in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_cli_missing_config(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "visionedge", "firmware", "config", str(tmp_path / "none.toml")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 3 and "config file not found" in proc.stderr


def test_the_firmware_default_mode_is_the_config_default() -> None:
    """objects.mode has one default: ve::kDefaultObjectMode must say what ObjectsConfig says."""
    import re

    from visionedge.config import ObjectsConfig

    header = (FIRMWARE / "core" / "include" / "ve" / "objects.h").read_text(encoding="utf-8")
    found = re.search(r"kDefaultObjectMode = ObjectMode::k(\w+);", header)
    assert found, "kDefaultObjectMode not found in ve/objects.h"
    assert found.group(1).lower() == ObjectsConfig().mode == "object"


def test_params_and_header_carry_the_objects_section() -> None:
    """Milli() integers, zone polygons in 1/16 px, filters, rules: what the runners and boards read."""
    from visionedge.firmware_config import render_header

    cfg = parse_config({
        "gate": {"zones": [{"name": "door", "polygon": [[0.05, 0.4], [0.3, 0.4], [0.3, 1.0]]}]},
        "objects": {"mode": "both", "lost_s": 0.25, "labels": ["person"], "required_zones": ["door"],
                    "filters": {"person": {"min_score": 0.5, "min_area_pct": 0.0015}},
                    "zones": [{"name": "door", "labels": ["person"]}]},
    })
    spec = build_spec(cfg, 160, 120)
    params = render_params(spec).splitlines()
    for line in ("obj_mode both", "obj_lost_ms 250", "obj_label person", "obj_required_zone door",
                 "obj_filter person 0.5 2 100000", "zone_poly 0 3 128 768 768 768 768 1920",
                 "obj_zone_label 0 person"):
        assert line in params, line
    header = render_header(spec)
    assert "p.mode = ve::ObjectMode::kBoth;" in header
    assert "static const int32_t kZone0Poly[] = {128, 768, 768, 768, 768, 1920};" in header


def test_a_zone_polygon_the_firmware_cannot_hold_is_refused() -> None:
    from visionedge.errors import FirmwareError

    ring = [[0.5 + 0.4 * np.cos(a), 0.5 + 0.4 * np.sin(a)] for a in np.linspace(0, 6.2, 33)]
    cfg = parse_config({"gate": {"zones": [{"name": "round", "polygon": ring}]}})
    with pytest.raises(FirmwareError, match="at most 32"):
        build_spec(cfg, 160, 120)


@pytest.mark.parametrize(("model", "kind"), [("pva_head", "head"), ("deeplab_pascal", "segmenter")])
def test_a_preset_the_board_cannot_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, kind: str
) -> None:
    # A head (numpy weights over a 2.6 MB backbone) or a segmenter rendered a header with
    # the generic threshold, as if the board could run it.
    cfg = tmp_path / "board.toml"
    cfg.write_text(f'[classifier]\nmodel = "{model}"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["firmware", "config", str(cfg), "--format", "params"]) == 10
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"'{model}' is a {kind} preset" in err[0], err
    assert "tiny_pva_gray" in err[0]
