"""What every reading shares: a small frozen dataclass of the numbers and of the branch they chose
(its ``kind``), said by whole-sentence templates with named placeholders, chosen by that kind.

A template is never glued from fragments, so that each one can move to a per-language catalog as it
stands. A reading's placeholders are its own fields, plus the derived values (percentages, plural
words, names) its ``values`` adds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import ClassVar


class Reading:
    """A mixin for frozen dataclasses with a ``kind`` field: ``text()`` says the reading."""

    TEMPLATES: ClassVar[Mapping[str, str | tuple[str, ...]]]
    kind: str

    def values(self) -> dict[str, object]:
        """The placeholders' values: every field; subclasses add what their templates derive."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def sentences(self) -> tuple[str, ...]:
        chosen = self.TEMPLATES[self.kind]
        values = self.values()
        return tuple(template.format(**values) for template in ((chosen,) if isinstance(chosen, str) else chosen))

    def text(self) -> str:
        return " ".join(self.sentences())


def plural(count: int, one: str, many: str) -> str:
    """The word for ``count`` things: ``one`` for exactly one, ``many`` otherwise (0 included)."""
    return one if count == 1 else many


def pct(value: float) -> str:
    """A share as the pages write it: 0.9 -> "90.0 %"."""
    return f"{100 * value:.1f} %"


def points(value: float) -> str:
    """A difference of shares in percentage points, without a sign: 0.093 -> "9.3"."""
    return f"{abs(100 * value):.1f}"


def listed(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
