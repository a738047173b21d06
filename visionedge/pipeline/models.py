"""Loading the configured classifier for the pipeline, and what the event tracker learns of it."""

from __future__ import annotations

from visionedge.config import Config
from visionedge.errors import ModelError
from visionedge.events import ModelInfo
from visionedge.protocols import Classifier

__all__ = ["load_configured_classifier", "model_info"]


def model_info(classifier: Classifier | None) -> ModelInfo | None:
    """What the event tracker needs to know of ``classifier`` (None: no classifier)."""
    if classifier is None:
        return None
    return ModelInfo(
        classifier.name,
        classifier.sha256,
        raw_labels=bool(getattr(classifier, "reports_raw_labels", False)),
        min_agree=int(getattr(classifier, "min_agree", 1)),
        min_share=float(getattr(classifier, "min_share", 0.0)),
        still_min_score=tuple(sorted(
            (str(k), float(v)) for k, v in getattr(classifier, "object_still_min_score", {}).items()
        )),
    )


def load_configured_classifier(
    config: Config, *, input_range_override: tuple[float, float] | None = None
) -> Classifier | None:
    """The classifier the config asks for (None when ``classifier.enabled`` is false).

    Raises ModelError/LabelsError/BackendError at load time, so a bad model stops the
    process before it reports ready rather than on the first motion.
    """
    if not config.classifier.enabled:
        return None
    try:
        from visionedge.classify import load_classifier
    except ImportError as exc:
        raise ModelError(
            f"the classifier is not available in this installation ({exc}); "
            "reinstall visionedge or set classifier.enabled = false"
        ) from exc
    from visionedge.classify.presets import default_preset_for

    clf: Classifier = load_classifier(
        config.classifier,
        input_range_override=input_range_override,
        default_preset=default_preset_for(config.source.kind),
    )
    return clf
