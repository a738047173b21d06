"""Recording format versions on real recordings (one live run, ``visionedge replay`` subprocesses).

Version 2 declares the object stage's state in ``state.pkl``; version 1 recordings (both the
early ones, before the config had an ``objects`` section and the state an ``objects`` field,
and the later ones, which carried it undeclared) still replay to the live bytes; a newer
version is refused with its own status (18), a damaged one with 12.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
from reckit import LiveRun, one_error_line, visionedge, window

from visionedge.errors import RecordingVersionError
from visionedge.recording import FORMAT_VERSION
from visionedge.recording.state import PipelineState, load_state


def _manifest(rec: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((rec / "manifest.json").read_text())
    return data


def _set_manifest(rec: Path, **changes: object) -> None:
    (rec / "manifest.json").write_text(json.dumps({**_manifest(rec), **changes}))


def _as_first_recordings(rec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewrite ``rec`` as the first recordings were written (304e711): format 1, no
    ``objects`` config section, a four-field PipelineState pickle."""
    m = _manifest(rec)
    config = dict(m["config"])  # type: ignore[call-overload]
    del config["objects"]
    _set_manifest(rec, version=1, config=config)
    state = load_state(rec / "state.pkl")
    assert state.objects is None  # a motion-mode run

    # A slotted object pickles as (None, {slot: value}); the old class had four slots.
    def four_fields(self: PipelineState) -> tuple[None, dict[str, object]]:
        names = ("gate", "tracker_open", "events_started", "last_classified")
        return None, {n: getattr(self, n) for n in names}

    with monkeypatch.context() as mp:
        mp.setattr(PipelineState, "__getstate__", four_fields)
        (rec / "state.pkl").write_bytes(pickle.dumps(state, protocol=5))


def test_recordings_are_written_in_the_current_version(live: LiveRun) -> None:
    assert FORMAT_VERSION == 2
    for rec in live.recordings:
        assert _manifest(rec)["version"] == 2
        assert load_state(rec / "state.pkl", 2).objects is None  # motion mode: declared empty


def test_first_version_1_recordings_replay_to_the_live_bytes(
    live: LiveRun, copy_rec: Callable[[int], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    for i, original in enumerate(live.recordings[:2]):
        rec = copy_rec(i)
        _as_first_recordings(rec, monkeypatch)
        raw = pickle.loads((rec / "state.pkl").read_bytes())
        assert not hasattr(raw, "objects")  # really the old layout
        r = visionedge("replay", str(rec))
        assert r.code == 0, r.err
        # Without the pin to motion mode, today's default (object mode) would publish
        # object events instead.
        assert r.out == "".join(line + "\n" for line in window(live, original)), rec.name


def test_a_version_2_state_must_declare_the_object_state(
    copy_rec: Callable[[int], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = copy_rec(0)
    _as_first_recordings(rec, monkeypatch)
    _set_manifest(rec, version=2)
    r = visionedge("replay", str(rec))
    assert r.code == 12 and r.out == ""
    one_error_line(r.err, "no object stage state, which format version 2 records")


def test_a_newer_version_is_refused_with_its_own_status(copy_rec: Callable[[int], Path]) -> None:
    rec = copy_rec(0)
    _set_manifest(rec, version=FORMAT_VERSION + 1)
    r = visionedge("replay", str(rec))
    assert r.code == RecordingVersionError.exit_code == 18 and r.out == ""
    one_error_line(r.err, f"{rec}: recording format version 3 is newer than this visionedge")
    assert "upgrade visionedge" in r.err


@pytest.mark.parametrize("version", [0, "2", None, True])
def test_a_version_no_release_wrote_is_damage(copy_rec: Callable[[int], Path], version: object) -> None:
    rec = copy_rec(0)
    _set_manifest(rec, version=version)
    r = visionedge("replay", str(rec))
    assert r.code == 12 and r.out == ""
    one_error_line(r.err, "is not a version visionedge ever wrote")
