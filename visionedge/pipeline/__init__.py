"""The one place the stages are wired: source → gate → classifier → event tracker → sinks.

:func:`build_pipeline` makes the stages from a :class:`~visionedge.config.Config` (any stage
can be passed in instead, e.g. a test's source); :class:`Pipeline` moves frames through
them. ``step`` handles one frame and returns its :class:`~visionedge.protocols.FrameTrace`;
``run`` drains the source until it ends or ``stop_event`` is set, then ends the open event.
Which frames a motion event classifies is :mod:`visionedge.pipeline.budget`; the sink
fan-out is :mod:`visionedge.pipeline.sinks`; loading the model, :mod:`visionedge.pipeline.models`.
With ``objects.mode`` = ``"object"`` or ``"both"`` an :class:`~visionedge.protocols.ObjectStage`
also sees every frame (but the still ones it would make nothing of) and publishes per-object
events (and per-label counts as ``state("count", n, {"label": ...})``); in ``"object"`` mode
the motion events still drive the motion state but are not published, and the classifier
budget goes to the objects.
Snapshots for :class:`~visionedge.protocols.SnapshotSink` sinks are taken by the daemon
(:mod:`visionedge.service.daemon`) from each step's trace (``trace.extra`` holds the gate result,
the classification and the object stage's output).

The pipeline itself is :mod:`visionedge.pipeline.core` (including the short path of still
frames, :mod:`visionedge.pipeline.still`); its counters :mod:`visionedge.pipeline.stats`.
"""

from __future__ import annotations

from visionedge.config import Config
from visionedge.events import EventTracker, random_ids
from visionedge.events import deterministic_ids as _deterministic_ids
from visionedge.pipeline.core import FrameHook, Pipeline
from visionedge.pipeline.models import load_configured_classifier, model_info
from visionedge.pipeline.stats import PipelineStats
from visionedge.protocols import Classifier, EventSink, FrameSource, MotionGate, ObjectStage

__all__ = [
    "FrameHook",
    "Pipeline",
    "PipelineStats",
    "build_pipeline",
    "load_configured_classifier",
    "model_info",
]


def build_pipeline(
    config: Config,
    *,
    source: FrameSource | None = None,
    sinks: list[EventSink] | None = None,
    classifier: Classifier | None = None,
    gate: MotionGate | None = None,
    deterministic_ids: bool,
) -> Pipeline:
    """Wire the stages the config describes; any stage passed in is used instead.

    ``deterministic_ids`` makes event ids UUIDv5 of clip and start frame (replay); otherwise
    they are random UUIDv4 (live). With ``classifier=None`` and ``classifier.enabled`` the
    configured model is loaded here. A source is opened from ``config.source`` when none is
    given. Sinks come from :func:`visionedge.sinks.build_sinks` when none are given.
    """
    if gate is None:
        from visionedge.gate import FrameDifferenceGate

        gate = FrameDifferenceGate(config.gate)
    if classifier is None:
        classifier = load_configured_classifier(config)
    if source is None:
        from visionedge.sources import open_source

        source = open_source(config.source, config.gate.width)
    if sinks is None:
        from visionedge.sinks import build_sinks

        sinks = build_sinks(config)
    model = model_info(classifier)
    tracker = EventTracker(
        config.events,
        config.device,
        config.classifier,
        id_factory=_deterministic_ids() if deterministic_ids else random_ids(),
        model=model,
    )
    objects: ObjectStage | None = None
    if config.objects.mode != "motion":
        from visionedge.objects import TrackingStage

        objects = TrackingStage(
            config,
            id_factory=_deterministic_ids() if deterministic_ids else random_ids(),
            classifier=classifier,
            model=model,
        )
    return Pipeline(
        config,
        gate=gate,
        tracker=tracker,
        sinks=sinks,
        source=source,
        classifier=classifier,
        objects=objects,
    )

