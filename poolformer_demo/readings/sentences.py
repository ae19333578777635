"""What every reading shares: a small frozen dataclass of the numbers and of the branch they chose
(its ``kind``), said by whole-sentence messages of the catalog (``poolformer_demo/i18n``), chosen by
that kind, in the language asked for (English by default: programs, the command line, the logs).

A message is never glued from fragments, so each language orders its sentence as it needs. A
reading's placeholders are its own fields, plus the derived values (percentages, names, lists) its
``values`` adds; a sentence that counts something is a plural message, in the form its count takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import ClassVar

from ..i18n import Messages, english


class Reading:
    """A mixin for frozen dataclasses with a ``kind`` field: ``sentences(t)`` says the reading.

    ``KEY`` is the catalog prefix of its messages; ``TEMPLATES`` gives, per kind, the names of the
    messages said in turn (message ``KEY.name``); ``COUNTS`` names, for a plural message, the value
    whose count chooses its form (passed to the message as ``{count}``)."""

    KEY: ClassVar[str]
    TEMPLATES: ClassVar[Mapping[str, tuple[str, ...]]]
    COUNTS: ClassVar[Mapping[str, str]] = {}
    kind: str

    def values(self, t: Messages | None = None) -> dict[str, object]:
        """The placeholders' values in language ``t``: every field; subclasses add what their
        templates derive."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def say(self, t: Messages, name: str, values: Mapping[str, object]) -> str:
        key = f"{self.KEY}.{name}"
        if name in self.COUNTS:
            counted = dict(values)
            return t.plural(key, int(counted.pop(self.COUNTS[name])), **counted)
        return t.text(key, **values)

    def names(self) -> tuple[str, ...]:
        """The names of the messages said, in turn: the kind's, unless the numbers choose others."""
        return self.TEMPLATES[self.kind]

    def sentences(self, t: Messages | None = None) -> tuple[str, ...]:
        t = t or english()
        values = self.values(t)
        return tuple(self.say(t, name, values) for name in self.names())

    def text(self, t: Messages | None = None) -> str:
        return " ".join(self.sentences(t))


def pct(value: float) -> str:
    """A share as the pages write it: 0.9 -> "90.0 %"."""
    return f"{100 * value:.1f} %"


def points(value: float) -> str:
    """A difference of shares in percentage points, without a sign: 0.093 -> "9.3"."""
    return f"{abs(100 * value):.1f}"


def listed(items: Sequence[str], t: Messages | None = None) -> str:
    """ "a", "a and b", "a, b and c", as language ``t`` joins a list."""
    return (t or english()).listed(items)
