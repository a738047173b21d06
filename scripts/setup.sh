#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, then the .venv.
#   scripts/setup.sh demo   - what `make demo` needs (runtime only)
#   scripts/setup.sh test   - what `make test` needs (broker, compilers, QEMU, TF for the model pipeline)
# Each step is skipped when already done; re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}
PY=${PYTHON:-python3}

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
if [ "$what" = test ]; then
  have mosquitto || need_apt+=(mosquitto)
  have mosquitto_sub || need_apt+=(mosquitto-clients)
  have cmake || need_apt+=(cmake)
  have make || need_apt+=(make)
  have arm-none-eabi-g++ || need_apt+=(gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib)
  have qemu-system-arm || need_apt+=(qemu-system-arm)
  have systemd-analyze || need_apt+=(systemd)
  have openssl || need_apt+=(openssl)
  # The web page is tested in a real headless Chromium driven by Selenium (tests/web).
  have chromium || need_apt+=(chromium)
  have chromedriver || need_apt+=(chromium-driver)
fi
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
# The gate's compiled core (visionedge/gate/_native.cpp, setup.py) is built at install: a C++
# compiler and the Python headers. Without them the install still works (numpy gate, slower).
have g++ || need_apt+=(g++)
if ! "$PY" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' >/dev/null 2>&1; then
  need_apt+=(python3-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# mosquitto's Debian package starts a system broker on :1883; the tests start their own on
# free ports and never touch it.

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
mkdir -p .stamps
# The native gate's sources are in the hash too: an edit rebuilds the extension.
hash=$(cat setup.cfg setup.py constraints.txt visionedge/gate/_native.cpp firmware/core/include/ve/gate_pass.h \
  firmware/core/include/ve/plane.h | sha256sum | cut -c1-16)
stamp=".stamps/$what-$hash"
if [ ! -f "$stamp" ]; then
  if [ "$what" = test ]; then
    echo "setup: installing visionedge with the dev, train, plot, tflite-runtime and tflm extras into .venv"
    # CI must build the native gate: fail here rather than test the fallback by accident.
    VISIONEDGE_REQUIRE_NATIVE=1 .venv/bin/pip install -q -c constraints.txt -e ".[dev,train,plot,tflite-runtime,tflm]"
  else
    echo "setup: installing visionedge into .venv"
    .venv/bin/pip install -q -c constraints.txt -e .
  fi
  touch "$stamp"
fi
