"""Suite-wide rules: CI turns set-up skips into failures; runtime tests run before TensorFlow.

Under CI, a skip for a tool that the set-up installs is a failure.

``make test`` installs mosquitto, openssl, the compilers, QEMU, systemd-analyze and the
train extra; a test that skips because one of them is missing means the set-up broke, and
CI must say so instead of landing a green run that tested less. Skips for what the project
never installs (camera hardware, a TensorFlow Lite Micro build beside the project, root
permissions) stay skips.

tflite-runtime cannot run in a process that imported TensorFlow (their bundled TFLite copies
share C++ symbols; visionedge refuses the backend then, see ``classify/backends.py``), and the
training tests import TensorFlow. So the tests that run every installed runtime in-process
(``tests/classify``) are moved to the front, whatever order the directories are given in.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

# Suite-wide helper modules beside this file (scriptkit: a project script as a module).
sys.path.insert(0, str(Path(__file__).parent))

_SETUP_PROVIDES = ("setup.sh test installs it", "pip install -e '.[train]'")
_RUNTIMES_FIRST = os.sep + os.path.join("tests", "classify") + os.sep


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """tests/classify first (a stable sort: the order inside each part is kept)."""
    items.sort(key=lambda item: 0 if _RUNTIMES_FIRST in str(item.path) else 1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report = outcome.get_result()
    if not os.environ.get("CI") or not report.skipped or not isinstance(report.longrepr, tuple):
        return
    reason = str(report.longrepr[2])
    if any(marker in reason for marker in _SETUP_PROVIDES):
        report.outcome = "failed"
        report.longrepr = f"CI: the set-up should have provided this: {reason}"
