"""Classifier settings from a model card, and checks of the label names a config uses.

Kept apart from :mod:`.classifier` and :mod:`.loader` because both need them: the loader
when a model is loaded, the classifier when settings change at runtime (SIGHUP, MQTT).
"""

from __future__ import annotations

from pathlib import Path

from visionedge.classify.card import Card
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError, ConfigError

__all__ = ["apply_card", "check_label_names"]


def apply_card(cfg: ClassifierConfig, card: Card | None) -> ClassifierConfig:
    """``cfg`` with the card's settings filled in where the config does not set them.

    A key counts as set when the config file (or a caller) gave it a value other than its
    built-in default: ``visionedge config defaults`` writes every key, and a config made
    from it must not silently replace a preset's threshold or margin with the generic ones.
    Raises CardError when the card's settings are invalid as config values.
    """
    fields = ClassifierConfig.model_fields
    given = {
        k
        for k in cfg.model_fields_set
        if getattr(cfg, k) is not None and getattr(cfg, k) != fields[k].get_default(call_default_factory=True)
    }
    if card is None or not card.settings:
        if given == cfg.model_fields_set:
            return cfg
        # A cascade card has no settings of its own, but its stages read which keys the
        # user set: a config listing every key (a recording's, `config defaults`) must not
        # replace the stages' thresholds with the generic defaults.
        out = cfg.model_copy()
        object.__setattr__(out, "__pydantic_fields_set__", given)
        return out
    fill = {k: v for k, v in card.settings.items() if k not in given}
    if "input_range" in fill and cfg.mean is not None:
        del fill["input_range"]  # the config's mean/std stand for it
    if not fill:
        return cfg
    data = {k: getattr(cfg, k) for k in given}
    data.update(fill)
    from pydantic import ValidationError

    try:
        merged = ClassifierConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise CardError(
            f"{card.path}: preset setting {where} is invalid ({err['msg']}); fix the card"
        ) from None
    # Card keys are not the user's: only the keys the user really changed count as given.
    object.__setattr__(merged, "__pydantic_fields_set__", given)
    return merged


def check_label_names(cfg: ClassifierConfig, labels: tuple[str, ...], labels_path: Path) -> None:
    """Raise ConfigError when thresholds (or an explicit ignore list) name unknown labels."""
    known = set(labels)
    for name in cfg.thresholds:
        if name not in known:
            raise ConfigError(
                f"classifier.thresholds names '{name}', which is not a label of {labels_path} "
                f"({', '.join(labels[:8])}{', ...' if len(labels) > 8 else ''}); use one of its labels"
            )
    # The default ignore list (["background"]) is a convention, not a claim about the model.
    if "ignore" in cfg.model_fields_set:
        for name in cfg.ignore:
            if name not in known:
                raise ConfigError(
                    f"classifier.ignore names '{name}', which is not a label of {labels_path}; "
                    "use one of its labels"
                )
