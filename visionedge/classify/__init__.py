"""The classifier stage: a TFLite image classifier that looks at what moved.

``load_classifier(cfg)`` checks everything at load time and returns a
:class:`TfliteClassifier` (or a segmenter or cascade: the
:class:`~visionedge.protocols.Classifier` of the pipeline). ``classifier.model`` names a
shipped preset (:mod:`.presets`) or a model file, with its card (:mod:`.card`).
Runtimes: ai_edge_litert, tflite_runtime, or TensorFlow's tf.lite (see :mod:`.backends`).
"""

from __future__ import annotations

from visionedge.classify.backends import BACKENDS, installed_backends, resolve_backend
from visionedge.classify.classifier import (
    DEFAULT_LABELS_PATH,
    DEFAULT_MODEL_PATH,
    InputSpec,
    TfliteClassifier,
)
from visionedge.classify.loader import load_classifier

__all__ = [
    "BACKENDS",
    "DEFAULT_LABELS_PATH",
    "DEFAULT_MODEL_PATH",
    "InputSpec",
    "TfliteClassifier",
    "installed_backends",
    "load_classifier",
    "resolve_backend",
]
