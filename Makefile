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
	.venv/bin/python -m pytest -q

lint:
	.venv/bin/ruff check visionedge tests bench models calibration
	.venv/bin/mypy

bench:
	@scripts/setup.sh test
	.venv/bin/python bench/gate.py

clean:
	rm -rf .venv .stamps build firmware/build* .pytest_cache .mypy_cache
