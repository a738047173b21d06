"""Flash and RAM of the Cortex-M4 firmware image against the budgets of the MCU target.

Builds ``ve_size`` (firmware/boards/mps2_an386/size_image.cpp around ``ve::BoardApp``, the
object that holds every buffer of the Nano 33 BLE sketch: camera frame = motion plane, gate
state, changed mask and region finder, event tracker, the model card's tensor arena; plus the
shipped model as const data, and the TFLM classifier when ``--tflm-root``/``--tflm-lib``
point at a Cortex-M4 build of TFLM) with Debian's arm-none-eabi toolchain, prints
``arm-none-eabi-size``, the board state as the linker placed it (``nm``) and checks:

* flash (text + data) <= 512 KB including the model,
* RAM (data + bss: the board state, newlib's, 8 KB stack and 8 KB heap reserves) <= 256 KB,

at a 96x96 model input and a 160x120 motion plane. Runs the image under QEMU's mps2-an386
when qemu-system-arm is installed, so the numbers are of an image that works, and the run
checks that it stayed within the stack and heap reserves (boards/mps2_an386/startup.c).

    .venv/bin/python bench/firmware_size.py [--plane 160x120] [--config CONFIG.toml]
        [--model tiny_pva_gray|demo|PRESET] [--tflm-root DIR --tflm-lib libtensorflow-microlite.a]

``--model`` is the firmware's ``VE_MODEL`` (default: the firmware's default, the gray MCU
preset ``tiny_pva_gray``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"
FLASH_BUDGET = 512 * 1024
RAM_BUDGET = 256 * 1024


def _run(cmd: list[str], timeout: float = 900) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"firmware_size: {' '.join(cmd[:3])}... failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


def board_limits() -> dict[str, int]:
    """The object-table sizes a board is built with (the Nano 33 BLE sketch's -D flags)."""
    ini = (FIRMWARE / "boards" / "nano33ble" / "platformio.ini").read_text(encoding="utf-8")
    found = dict(re.findall(r"-D(VE_MAX_OBJECTS|VE_MAX_PATH_POINTS)=(\d+)", ini))
    return {k: int(v) for k, v in found.items()}


def _ram_symbols(nm_out: str) -> dict[str, int]:
    """Sizes of the RAM symbols the report names (``nm -S``), and the reserve sizes (absolute)."""
    found: dict[str, int] = {}
    for line in nm_out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and (line.endswith("::g_app") or line.endswith(" g_app")):
            found["g_app"] = int(parts[1], 16)
        elif len(parts) == 3 and parts[1] in "aA" and parts[2] in ("__stack_size", "__heap_size"):
            found[parts[2]] = int(parts[0], 16)
    return found


def main() -> int:
    """Build, measure and report; exit 1 when over a budget."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plane", default="160x120", help="motion-plane size (default 160x120)")
    ap.add_argument("--config", help="config file for the gate header (default: the defaults)")
    ap.add_argument("--model", default="tiny_pva_gray",
                    help="the model linked in: an MCU preset or demo (firmware's VE_MODEL)")
    ap.add_argument("--tflm-root", default=os.environ.get("TFLM_ROOT", ""), help="tflite-micro checkout")
    ap.add_argument(
        "--tflm-lib",
        default=os.environ.get("TFLM_LIB_M4", ""),
        help="libtensorflow-microlite.a for cortex-m4+fp (env TFLM_LIB_M4)",
    )
    ap.add_argument("--build-dir", help="keep the build here (default: a temporary directory)")
    args = ap.parse_args()

    missing = [t for t in ("cmake", "arm-none-eabi-g++", "arm-none-eabi-size") if shutil.which(t) is None]
    if missing:
        sys.exit(f"firmware_size: needs {', '.join(missing)}; install with scripts/setup.sh test")
    pw, ph = (int(v) for v in args.plane.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(args.build_dir) if args.build_dir else Path(tmp) / "build"
        gen = Path(tmp) / "gen"
        gen.mkdir()
        config = args.config or str(Path(tmp) / "empty.toml")
        if not args.config:
            Path(config).write_text("", encoding="utf-8")
        _run([sys.executable, "-m", "visionedge", "firmware", "config", config, "--plane", args.plane,
              "-o", str(gen / "gate_config.h")])
        cmake = [
            "cmake", "-S", str(FIRMWARE), "-B", str(build),
            f"-DCMAKE_TOOLCHAIN_FILE={FIRMWARE / 'cmake' / 'arm-none-eabi.cmake'}",
            "-DVE_TARGET=mps2_an386", "-DCMAKE_BUILD_TYPE=MinSizeRel",
            f"-DVE_MAX_PLANE_W={pw}", f"-DVE_MAX_PLANE_H={ph}", f"-DVE_GATE_CONFIG_DIR={gen}",
            f"-DVE_MODEL={args.model}",
            *(f"-D{k}={v}" for k, v in board_limits().items()),
        ]
        with_tflm = bool(args.tflm_root and args.tflm_lib)
        if with_tflm:
            cmake += [f"-DTFLM_ROOT={args.tflm_root}", f"-DTFLM_LIB={args.tflm_lib}"]
        _run(cmake)
        _run(["cmake", "--build", str(build), "-j2", "--target", "ve_size"])
        elf = build / "boards" / "mps2_an386" / "ve_size.elf"
        size_out = _run(["arm-none-eabi-size", str(elf)])
        text, data, bss = (int(v) for v in size_out.splitlines()[1].split()[:3])
        nm_out = _run(["arm-none-eabi-nm", "-S", "-C", str(elf)])
        symbols = _ram_symbols(nm_out)
        ran = "not run (qemu-system-arm missing)"
        reserves = ""
        ran_ok = True
        if shutil.which("qemu-system-arm"):
            proc = subprocess.run(
                ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
                 "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
                capture_output=True, text=True, timeout=120,
            )
            last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            ran = last if proc.returncode == 0 else f"FAILED ({proc.returncode}): {last}"
            ran_ok = proc.returncode == 0
            reserves = next((ln for ln in proc.stderr.splitlines() if ln.startswith("reserves:")), "")

    card_path = ROOT / "visionedge" / "data" / "models" / args.model / "card.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    model = int(card["bytes"])
    arena = int(card["tflm"]["arena_bytes"])
    flash, ram = text + data, data + bss
    print(f"firmware image ({'core + TFLM classifier' if with_tflm else 'core only, TFLM not linked'}; "
          f"model linked as const data), {pw}x{ph} motion plane, "
          f"{card['input']['shape'][1]}x{card['input']['shape'][2]} model input")
    print(size_out.rstrip())
    print(f"  model {card.get('name', args.model)} {model} B, tensor arena {arena} B (card)")
    app = symbols.get("g_app", 0)
    print(f"  board state (ve::BoardApp, as the Nano 33 BLE sketch allocates it) {app} B: arena {arena}, "
          f"gate state {4 * pw * ph}, camera frame = motion plane {pw * ph}, changed mask {(pw * ph + 7) // 8}, "
          f"region finder {4 * (pw // 8) * (ph // 8)}, event tracker and the rest {app - arena - 5 * pw * ph - (pw * ph + 7) // 8 - 4 * (pw // 8) * (ph // 8)}")
    print(f"  stack reserve {symbols.get('__stack_size', 0)} B, heap reserve {symbols.get('__heap_size', 0)} B, "
          f"other RAM (newlib, ...) {data + bss - app - symbols.get('__stack_size', 0) - symbols.get('__heap_size', 0)} B")
    ok = ran_ok
    for name, used, budget in (("flash (text+data)", flash, FLASH_BUDGET), ("RAM (data+bss)", ram, RAM_BUDGET)):
        verdict = "ok" if used <= budget else "OVER BUDGET"
        ok = ok and used <= budget
        print(f"  {name:18s} {used:8d} B = {used / 1024:6.1f} KB of {budget // 1024} KB "
              f"({used / budget:.2f} of budget) {verdict}")
    print(f"  model share of flash {model / flash:.2f}")
    print(f"  QEMU run: {ran}")
    if reserves:
        print(f"  QEMU run {reserves}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
