"""The back-off (``objects.backoff_after``): an object the model keeps naming nothing is
classified at doubling gaps, capped by ``objects.recheck_s``; a labelled answer resets it.

Scripted gate regions and scripted answers through the real pipeline (frames 100 ms apart,
every_n_frames 5), as in test_settle.py.
"""

from __future__ import annotations

from test_events import run, walker
from test_settle import Scripted, gaps, person

from visionedge.events import encode_event
from visionedge.events.vote import LabelVote
from visionedge.protocols import Classification, Prediction


def nothing(_: int) -> tuple[Prediction, ...]:
    return ()


def test_a_run_of_no_label_backs_off_up_to_the_recheck_time() -> None:
    steps, labels = gaps(nothing, backoff_after=3, recheck_s=3.0)
    # Three answers 5 frames apart, then 10, 20, 40 -> capped at 3 s (30 frames).
    assert steps == [5, 5, 10, 20, 30], steps
    assert labels[-1] is None
    off, _ = gaps(nothing, backoff_after=0, recheck_s=3.0)
    assert set(off) == {5} and len(off) == 15


def test_a_labelled_answer_resets_the_backoff() -> None:
    def answer(n: int) -> tuple[Prediction, ...]:
        return (Prediction("person", 0, 0.8),) if n == 3 else ()

    steps, labels = gaps(answer, backoff_after=2, recheck_s=10.0, settle_after=0)
    # Calls 0-2 no label: 5, then 10, 20 (two doublings); call 3 answers person: the next
    # gap is 5 again, and from the second no-label answer after it the doubling starts over.
    assert steps == [5, 10, 20, 5, 5, 10, 20], steps
    assert labels[-1] == "person"


def test_labelled_objects_keep_their_events_byte_for_byte() -> None:
    def answer(n: int) -> tuple[Prediction, ...]:
        return (Prediction("person", 0, 0.8),) if n % 3 == 0 else (Prediction("vehicle", 1, 0.6),)

    def events(**objects: float) -> tuple[list[str], list[int]]:
        clf = Scripted(answer)
        sink = run([[b] for b in walker(0, 1, 80)] + [[]] * 20,
                   {"classifier": {"every_n_frames": 5, "max_per_event": 100}, "objects": objects}, clf)
        return [encode_event(e) for e in sink.events], clf.frames

    on = events(backoff_after=1, settle_after=0)
    assert on == events(backoff_after=0, settle_after=0)
    assert len(on[1]) == 16  # every 5th frame: nothing backed off
    assert gaps(person, backoff_after=1) == gaps(person, backoff_after=0)


def test_the_vote_counts_doublings_only_on_a_no_label_run() -> None:
    v = LabelVote()
    for top in ((Prediction("person", 0, 0.9),), (), (), ()):
        v.add(Classification(0, top, None))
    assert [v.backoff(n) for n in (0, 1, 2, 3, 4)] == [0, 3, 2, 1, 0]
    v.add(Classification(0, (Prediction("person", 0, 0.9),), None))
    assert v.backoff(1) == 0
