"""``run`` and ``replay`` import nothing they do not use; plots are the ``plot`` extra.

Real subprocesses with ``python -X importtime`` (issue 10 item 17, issue 11 "Startup"): the
list of modules a process imported is exact, whatever the machine's speed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# Never needed by `run`/`replay` with the default config: training, plotting, test-only
# schema validation; nor what this config turns off (metrics endpoint, MQTT and its spool,
# demo scene, recordings, the web page, replay's trace/frame export, issue 11 "Startup").
HEAVY = ("tensorflow", "tf_keras", "keras", "visionedge.train", "matplotlib", "visionedge.replay.plot",
         "jsonschema", "prometheus_client", "paho", "visionedge.synth", "visionedge.spool", "sqlite3",
         "visionedge.recording", "visionedge.web", "visionedge.replay.trace",
         "visionedge.replay.export_frames", "http.server", "asyncio", "multiprocessing",
         "concurrent.futures", "subprocess",
         # a file's replay needs no camera code (sources/registry.py imports a live kind
         # when a config names it)
         "visionedge.sources.opencv_live", "visionedge.sources.opencv_capture",
         "visionedge.sources.picamera2_source")


def _imported(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[set[str], str, int]:
    p = subprocess.run([sys.executable, "-X", "importtime", "-m", "visionedge", *args],
                       capture_output=True, text=True, timeout=120, cwd=cwd,
                       env={**os.environ, **(env or {})})
    names = set(re.findall(r"^import time:.*\|\s*(\S+)\s*$", p.stderr, re.M))
    rest = "\n".join(ln for ln in p.stderr.splitlines() if not ln.startswith("import time:"))
    return names, rest, p.returncode


def _heavy(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY))


def test_run_with_the_default_model_imports_only_what_it_uses(
    clip: Callable[[str], Path], tmp_path: Path
) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[source]\nkind = "file"\npath = "{clip("small")}"\n'
                   f'[output]\nstdout = false\nfile = "{tmp_path / "e.jsonl"}"\n')
    names, err, code = _imported(["run", "--config", str(cfg)], tmp_path)
    assert code == 0, err
    assert "visionedge.classify" in names  # the default model was loaded
    assert _heavy(names) == []
    # only the command's own module (cli/__init__.py, COMMANDS)
    assert sorted(n for n in names if n.startswith("visionedge.cli.")) == ["visionedge.cli.run"]


def test_replay_imports_only_what_it_uses(clip: Callable[[str], Path], tmp_path: Path) -> None:
    names, err, code = _imported(["replay", str(clip("small")), "--quiet"], tmp_path)
    assert code == 0, err
    assert _heavy(names) == []


def test_a_plot_without_matplotlib_names_the_extra(
    clip: Callable[[str], Path], tmp_path: Path
) -> None:
    # matplotlib cannot be uninstalled from the shared environment: a package of that name
    # that fails to import stands in for its absence.
    shadow = tmp_path / "shadow" / "matplotlib"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    path = os.pathsep.join([str(tmp_path / "shadow"), os.environ.get("PYTHONPATH", "")])
    _, err, code = _imported(["replay", str(clip("small")), "--quiet", "--plot",
                              str(tmp_path / "t.png")], tmp_path, {"PYTHONPATH": path})
    assert code == 13, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[-1].startswith("visionedge: error: replay --plot needs matplotlib"), err
    assert "pip install 'visionedge[plot]'" in lines[-1]
    assert not (tmp_path / "t.png").exists()


def test_the_command_map_names_every_command_and_its_module() -> None:
    from visionedge.cli import COMMANDS, build_parser

    full = build_parser()
    sub = next(a for a in full._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)  # type: ignore[arg-type]
    for command in COMMANDS:
        one = build_parser(command)
        only = next(a for a in one._actions if a.dest == "command")
        assert list(only.choices) == [command]  # type: ignore[arg-type]


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    # The process reports its own modules (every way of importing counts, not only the
    # import statements -X importtime times).
    cfg = tmp_path / "c.toml"
    cfg.write_text("")
    code = ("import sys\nfrom visionedge.cli import main\nrc = main(sys.argv[1:])\n"
            "print(rc, sorted(m for m in sys.modules if m.startswith('visionedge.cli.')))")
    p = subprocess.run([sys.executable, "-c", code, "--debug", "config", "check", str(cfg)],
                       capture_output=True, text=True, timeout=120)
    assert p.stdout.splitlines()[-1] == "0 ['visionedge.cli.config_cmd']", p.stderr
    p = subprocess.run([sys.executable, "-c", code, "--version"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and p.stdout.startswith("visionedge "), p.stderr
