"""The error hierarchy: one-line messages and distinct exit statuses."""

from __future__ import annotations

import inspect

import visionedge.errors as errors


def _classes() -> list[type[errors.VisionEdgeError]]:
    return [
        c
        for _, c in inspect.getmembers(errors, inspect.isclass)
        if issubclass(c, errors.VisionEdgeError)
    ]


def test_every_error_is_documented_in_the_module_docstring() -> None:
    doc = errors.__doc__ or ""
    for cls in _classes():
        assert cls.__name__ in doc, f"{cls.__name__} missing from the errors.py tree"


def test_messages_are_folded_to_one_line() -> None:
    e = errors.ConfigError("first line\n  second line")
    assert str(e) == "first line second line"


def test_process_ending_errors_have_distinct_statuses() -> None:
    roots = [
        errors.ConfigError,
        errors.SourceError,
        errors.FrameError,
        errors.ModelError,
        errors.SinkError,
        errors.ReplayMismatchError,
        errors.TrainingError,
        errors.FirmwareError,
    ]
    codes = [c.exit_code for c in roots]
    assert len(set(codes)) == len(codes)
    assert all(c not in (0, 1, 2) for c in codes)


def test_frame_error_is_a_value_error() -> None:
    assert issubclass(errors.FrameError, ValueError)
