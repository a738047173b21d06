"""``run`` without ``[web]`` stays light: aiohttp and tomlkit are never imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from visionedge.config import default_config_toml, parse_config
from visionedge.synth import ObjectPass, SceneSpec, write_clip

SCRIPT = """
import sys
from visionedge.config import parse_config
from visionedge.service.daemon import Daemon
cfg = parse_config({"source": {"kind": "file", "path": sys.argv[1]}, "output": {"stdout": False},
                    "classifier": {"enabled": False}, "daemon": {"watchdog": False}})
assert Daemon(cfg, env={}).run() == 0
print(sorted(m for m in ("aiohttp", "tomlkit", "visionedge.web.app") if m in sys.modules))
"""


def test_run_without_web_imports_no_web_code(tmp_path: Path) -> None:
    clip = tmp_path / "short.avi"
    write_clip(SceneSpec(width=160, height=90, fps=10.0, seed=1, duration_s=2.0,
                         events=[ObjectPass("person", 0.2, 1.5)]), clip)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(clip)], capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_defaults_render_the_web_section_off() -> None:
    import tomllib

    text = default_config_toml()
    assert "[web]" in text
    cfg = parse_config(tomllib.loads(text))
    assert cfg.web.enabled is False and cfg.web.host == "127.0.0.1"
