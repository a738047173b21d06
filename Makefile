# The two commands of the README:
#   make demo   set up (.venv) and run the pipeline on a generated clip, events printed
#   make test   set up (system packages, .venv) and run the whole test suite
.PHONY: demo test lint bench firmware clean

demo:
	@scripts/setup.sh demo
	.venv/bin/visionedge run

test:
	@scripts/setup.sh test
	.venv/bin/ruff check visionedge tests bench models calibration
	.venv/bin/mypy
	.venv/bin/python bench/firmware_size.py
	.venv/bin/python -m pytest -q

lint:
	.venv/bin/ruff check visionedge tests bench models calibration
	.venv/bin/mypy

# Each bench exits non-zero when it misses a target; the leading '-' runs them all anyway.
bench:
	@scripts/setup.sh test
	-.venv/bin/python bench/gate.py
	-.venv/bin/python bench/gate_compare.py
	-.venv/bin/python bench/replay_cost.py
	-.venv/bin/python bench/close_after.py
	-.venv/bin/python bench/classify_kernels.py
	-.venv/bin/python bench/classify_gating.py
	-.venv/bin/python bench/mqtt.py
	-.venv/bin/python bench/tracker.py
	-.venv/bin/python bench/model.py
	-.venv/bin/python bench/recording.py
	-.venv/bin/python bench/labels.py
	-.venv/bin/python bench/web.py
	-.venv/bin/python bench/firmware_size.py
	-.venv/bin/python bench/startup.py

# Firmware: host runner and Cortex-M4 (QEMU mps2-an386) image, core only; docs/firmware.md.
# The toolchain file must be absolute: CMake resolves a relative one against the build folder.
firmware:
	cmake -S firmware -B build/fw-host && cmake --build build/fw-host -j2
	cmake -S firmware -B build/fw-m4 -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/firmware/cmake/arm-none-eabi.cmake \
		-DVE_TARGET=mps2_an386 && cmake --build build/fw-m4 -j2

clean:
	rm -rf .venv .stamps build firmware/build* .pytest_cache .mypy_cache
