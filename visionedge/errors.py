"""The one error hierarchy of visionedge, and the exit status each error ends the process with.

Every failure a user can cause (a bad config value, a missing clip, a model that does not
fit, a broker that refuses us) is raised as one of these, with a message that is a single
line naming the thing and the fix. The CLI prints ``visionedge: error: <message>`` and exits
with the class's ``exit_code``; a traceback is shown only with ``--debug``. Anything else
that escapes is a bug and exits with status 1.

::

    VisionEdgeError                      1   base; never raised directly
    ├── ConfigError                      3   config file missing, unparsable, invalid value
    ├── SourceError                      4   clip missing/corrupt/unsupported, camera unusable
    │   └── SourceLostError              4   a live source stopped delivering (daemon retries)
    ├── FrameError (also ValueError)     8   a frame of the wrong shape/dtype handed to a stage
    ├── ModelError                       5   model file not TFLite, truncated, wrong I/O spec
    │   ├── LabelsError                  5   labels file missing, or count != model outputs
    │   ├── PresetError                 15   ``classifier.model`` names no shipped preset
    │   ├── CardError                   16   a model card unreadable or contradicting its model
    │   ├── HeadError                   17   a learned head file (head.json) unreadable, malformed,
    │   │                                    or made for another backbone
    │   └── BackendError                 5   no TFLite runtime installed / requested one absent
    ├── SinkError                        6   an output could not be written
    │   ├── BrokerError                  6   MQTT broker unreachable, refused, bad credentials/TLS
    │   └── SpoolError                   6   the store-and-forward spool cannot be opened
    ├── ControlError                     -   a bad MQTT control message (answered, never fatal)
    ├── ReplayMismatchError              7   ``replay --expect``: events differ from the golden file
    ├── TrainingError                    9   the model pipeline (train/prune/quantize/export)
    │   └── UnsupportedOpError           9   an operator TFLM's resolver cannot run
    ├── FirmwareError                   10   firmware config generation / host build problems
    ├── RecordingError                  11   the recording folder is unwritable, or full below its floor
    ├── RecordingFormatError            12   not a recording, truncated, damaged, or not replayable exactly
    │   └── RecordingVersionError       18   made by a newer visionedge (a format version this one
    │                                        does not know yet: upgrade to replay it)
    ├── MissingExtraError               13   an optional feature's package is not installed
    │                                        (e.g. plots: pip install 'visionedge[plot]')
    ├── WebError                        14   the web page cannot start (port taken, bind address invalid)
    └── DatasetError                    20   a crop dataset (``visionedge dataset``, ``model train``)
        ├── DatasetClassError           21   fewer than two classes, or a class folder with no images
        ├── DatasetImageError           22   a file in a class folder that is not a readable image
        ├── DatasetSizeError            23   images of different sizes in one dataset
        └── ManifestError               24   manifest.csv unreadable, or naming files that are missing

Messages have URL passwords masked (:func:`visionedge.redact.redact_urls`).
Exit status 2 is argparse's usage error. Distinct statuses let systemd's
``RestartPreventExitStatus=`` stop restarting on errors a restart cannot fix (3, 5, 15, 16, 17).
"""

from __future__ import annotations

from visionedge.redact import redact_urls

__all__ = [
    "BackendError",
    "BrokerError",
    "CardError",
    "ConfigError",
    "ControlError",
    "DatasetClassError",
    "DatasetError",
    "DatasetImageError",
    "DatasetSizeError",
    "FirmwareError",
    "FrameError",
    "HeadError",
    "LabelsError",
    "ManifestError",
    "MissingExtraError",
    "ModelError",
    "PresetError",
    "RecordingError",
    "RecordingFormatError",
    "RecordingVersionError",
    "ReplayMismatchError",
    "SinkError",
    "SourceError",
    "SourceLostError",
    "SpoolError",
    "TrainingError",
    "UnsupportedOpError",
    "VisionEdgeError",
    "WebError",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2


class VisionEdgeError(Exception):
    """Base of every error visionedge raises on purpose; its message is one line for the user."""

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        # One line: the CLI prints it as-is, journald shows it as one entry. A URL's
        # password never reaches the user's terminal or the journal.
        super().__init__(redact_urls(" ".join(str(message).split())))


class ConfigError(VisionEdgeError):
    """The configuration file is missing, not TOML, or has an invalid/unknown key."""

    exit_code = 3


class SourceError(VisionEdgeError):
    """A frame source cannot be opened or read (missing/corrupt clip, unusable camera)."""

    exit_code = 4


class SourceLostError(SourceError):
    """A live source stopped delivering frames; the daemon reports it and reconnects."""


class FrameError(VisionEdgeError, ValueError):
    """A frame handed to a stage has the wrong shape or dtype (the documented input contract)."""

    exit_code = 8


class ModelError(VisionEdgeError):
    """A model file is not usable: not TFLite, truncated, or its input/output spec does not fit."""

    exit_code = 5


class LabelsError(ModelError):
    """The labels file is missing, empty, or its line count differs from the model's outputs."""


class PresetError(ModelError):
    """``classifier.model`` is a name, not a path, and no shipped preset has it.

    Its own status (15), so a script can tell a typo in a preset name from a broken file.
    """

    exit_code = 15


class CardError(ModelError):
    """A model card (card.json) is unreadable, or contradicts its model (sha256, input shape,
    label count, kind): the settings it carries would give plausible but wrong labels."""

    exit_code = 16


class HeadError(ModelError):
    """A learned head (``head.json`` of ``visionedge model train-head``) is unreadable, not
    finite, has arrays of the wrong shape, or names a backbone (preset, sha256, tensor) other
    than the one installed: its weights would give plausible but wrong labels."""

    exit_code = 17


class BackendError(ModelError):
    """No TFLite runtime is installed, or the configured backend is not available."""


class SinkError(VisionEdgeError):
    """An event sink could not deliver or store events."""

    exit_code = 6


class BrokerError(SinkError):
    """The MQTT broker is unreachable, refused the connection, or rejected credentials/TLS."""


class SpoolError(SinkError):
    """The SQLite store-and-forward spool cannot be opened or written."""


class ControlError(VisionEdgeError):
    """A runtime control message (MQTT ``set/...``) was malformed; it is answered, not fatal."""


class ReplayMismatchError(VisionEdgeError):
    """``visionedge replay --expect`` found events that differ from the golden file."""

    exit_code = 7


class TrainingError(VisionEdgeError):
    """A step of the model pipeline (train, prune, quantize, evaluate, export) failed."""

    exit_code = 9


class UnsupportedOpError(TrainingError):
    """The model uses an operator that TensorFlow Lite Micro's resolver cannot run."""


class FirmwareError(VisionEdgeError):
    """Generating firmware configuration or driving the firmware host build failed."""

    exit_code = 10


class RecordingError(VisionEdgeError):
    """Recordings cannot be written: the folder is unwritable or the disk is below its floor.

    Raised at start-up (``visionedge run`` refuses to start without a writable
    ``recording.path``) and by ``visionedge recordings``; at run time a full disk only skips
    recordings (counted, logged) so the gate and the events never stop.
    """

    exit_code = 11


class RecordingFormatError(VisionEdgeError):
    """A recording cannot be replayed: not a recording, truncated, damaged, or not exactly."""

    exit_code = 12


class RecordingVersionError(RecordingFormatError):
    """A recording in a format version newer than this visionedge reads (older ones are read).

    Its own status, so a script can tell "upgrade visionedge" from "this recording is damaged".
    """

    exit_code = 18


class MissingExtraError(VisionEdgeError):
    """An optional feature was asked for whose package is not installed; the message names
    the pip extra that brings it (the daemon itself never needs one)."""

    exit_code = 13


class WebError(VisionEdgeError):
    """The web page cannot start: its port is taken or its bind address is invalid."""

    exit_code = 14


class DatasetError(VisionEdgeError):
    """A crop dataset cannot be used: no such folder, no clips to collect from, too few clips.

    Its subclasses each have their own status, so a script can tell which fix applies; none
    of them deletes or moves a file: the dataset is left as it was found.
    """

    exit_code = 20


class DatasetClassError(DatasetError):
    """The dataset has fewer than two class folders, or a class folder holds no images."""

    exit_code = 21


class DatasetImageError(DatasetError):
    """A file in a class folder is not an image (wrong suffix) or does not decode."""

    exit_code = 22


class DatasetSizeError(DatasetError):
    """The dataset's images are not all the same size (crops from different collects)."""

    exit_code = 23


class ManifestError(DatasetError):
    """``manifest.csv`` is unreadable, or names crops that are in no class folder."""

    exit_code = 24
