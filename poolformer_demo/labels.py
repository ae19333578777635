"""Class names: the model's labels, the unique names the page and every JSON output show, and
the class a user names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .errors import UnknownTargetError
from .i18n import Said

if TYPE_CHECKING:
    from .weights import LoadedModel


@dataclass(frozen=True)
class Prediction:
    index: int
    label: str
    probability: float
    name: str = ""
    """The label made unique among the model's classes (`display_names`); the label when not given."""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.label)


@lru_cache(maxsize=8)
def display_names(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Class names as shown in menus, in top-5 lists and in JSON, made unique.

    ImageNet names two classes "crane" (the bird and the machine); a dict keyed by name, as the
    Label component needs, would merge them, so repeated names get their class index appended.
    """
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return tuple(label if counts[label] == 1 else f"{label} (class {i})" for i, label in enumerate(labels))


def prediction_json(prediction: Prediction) -> dict:
    """One prediction for programs (the API and the CLI alike), named as the page names it."""
    return {"index": prediction.index, "label": prediction.name, "probability": prediction.probability}


def labels_of(loaded: LoadedModel) -> tuple[str, ...]:
    id2label = loaded.model.config.id2label
    return tuple(str(id2label.get(i, f"class {i}")) for i in range(loaded.model.config.num_labels))


# A model with at most this many classes has them all listed when a class name is not found.
FEW_CLASSES = 20


def resolve_target(target: int | str, labels: tuple[str, ...]) -> int:
    """A class index from an index, a numeric string, a full label or one of its synonyms."""
    if isinstance(target, (int, np.integer)) or (isinstance(target, str) and target.strip().isdigit()):
        index = int(target)
        if not 0 <= index < len(labels):
            raise UnknownTargetError(Said("error.target.index", index=index, last=len(labels) - 1))
        return index
    if not isinstance(target, str) or not target.strip():
        raise UnknownTargetError(Said("error.target.kind", target=repr(target)))
    wanted = target.strip().lower()
    # ImageNet labels list synonyms ("tabby, tabby cat"); the full label or any one of them names the class.
    names: dict[str, int] = {}
    for index, label in enumerate(labels):
        names.setdefault(label.lower(), index)
    for index, label in enumerate(labels):
        for name in label.split(","):
            names.setdefault(name.strip().lower(), index)
    if wanted in names:
        return names[wanted]
    close = difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)
    # Whole sentences, each its own message: the refusal, the closest names, what the model knows.
    few = len(labels) <= FEW_CLASSES
    known = (
        Said("error.target.knows", classes=", ".join(labels))
        if few
        else Said("error.target.knows_many", count=len(labels))
    )
    said = {"name": repr(target.strip()), "known": known}
    if close:
        raise UnknownTargetError(Said("error.target.unknown.close", close=", ".join(close), **said))
    raise UnknownTargetError(Said("error.target.unknown", **said))
