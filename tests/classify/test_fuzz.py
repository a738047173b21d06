"""Fuzzing model and labels loading: nothing but a ModelError (or subclass) ever escapes.

Random bytes, truncations and bit flips of a valid model, random labels files. On
tflite-runtime 2.14 many corrupt models crash the process inside the runtime (it does not
verify the FlatBuffer); the loader's crash probe turns those into ModelError too, so these
tests also prove the daemon survives them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visionedge.classify import load_classifier
from visionedge.classify.labels import load_labels
from visionedge.classify.metadata import read_normalization
from visionedge.config import ClassifierConfig
from visionedge.errors import ModelError

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    (d / "m_labels.txt").write_text("red\ngreen\nblue\n")
    return d


def _load_or_model_error(path: Path, content: bytes, backend: str) -> None:
    path.write_bytes(content)
    try:
        clf = load_classifier(ClassifierConfig(model=str(path), backend=backend))
    except ModelError as exc:
        message = str(exc)
        assert message and "\n" not in message
        assert str(path) in message
        return
    # Survivors must be usable: one classification, scores in [0, 1].
    import numpy as np

    result = clf.classify_image(np.zeros((20, 20, 3), np.uint8))
    assert all(0.0 <= p.score <= 1.0 for p in result.top)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(fuzz_dir: Path, backend: str, data: bytes) -> None:
    _load_or_model_error(fuzz_dir / "m.tflite", data, backend)


@FUZZ
@given(data=st.binary(min_size=0, max_size=2048))
def test_random_bytes_with_the_tflite_identifier(fuzz_dir: Path, backend: str, data: bytes) -> None:
    _load_or_model_error(fuzz_dir / "m.tflite", data[:4] + b"TFL3" + data[4:], backend)


@FUZZ
@given(fraction=st.floats(0, 1, exclude_max=True))
def test_truncated_model(fuzz_dir: Path, models: dict[str, Path], backend: str, fraction: float) -> None:
    content = models["colour_int8"].read_bytes()
    _load_or_model_error(fuzz_dir / "m.tflite", content[: int(len(content) * fraction)], backend)


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255), st.booleans()),
        min_size=1,
        max_size=8,
    )
)
def test_bit_flips_and_byte_overwrites(
    fuzz_dir: Path, models: dict[str, Path], backend: str, edits: list[tuple[float, int, bool]]
) -> None:
    content = bytearray(models["colour_int8"].read_bytes())
    for where, value, flip in edits:
        i = int(where * len(content))
        content[i] = content[i] ^ (1 << (value % 8)) if flip else value
    _load_or_model_error(fuzz_dir / "m.tflite", bytes(content), backend)


@FUZZ
@given(data=st.binary(max_size=512) | st.text(max_size=200).map(lambda t: t.encode()))
def test_random_labels_files(fuzz_dir: Path, models: dict[str, Path], data: bytes) -> None:
    p = fuzz_dir / "labels_fuzz.txt"
    p.write_bytes(data)
    try:
        labels = load_labels(p, expected=3)
    except ModelError as exc:  # LabelsError is a ModelError
        assert "\n" not in str(exc) and str(p) in str(exc)
        return
    assert len(labels) == 3 and all(labels)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_metadata_reader_never_raises(models: dict[str, Path], data: bytes) -> None:
    norm, note = read_normalization(data)
    assert norm is None and note
    base = bytearray(models["meta_pm1_int8"].read_bytes())
    for i, b in enumerate(data[:64]):
        base[(i * 7919 + b) % len(base)] ^= b
    norm, note = read_normalization(bytes(base))
    assert note
