"""Knockouts: a trained PoolFormer with the token mixer or the channel MLP of chosen stages switched
off, to see how much the trained model relies on each part.

The parts are switched off in a `shared_copy` of the cached model (its modules swapped, its
parameters shared): the cached model serves other requests on other threads at the same time and
is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from .blocks import shared_copy, stage_layers, whole_number
from .errors import KnockoutSpecError
from .i18n import Said
from .variants import STAGE_COUNT

MIXER = "mixer"
MLP = "mlp"
KNOCKOUT_PARTS = {MIXER: "token mixing", MLP: "channel MLP"}
_SPEC = re.compile(r"^\s*(?P<part>[a-z]+)\s*(?::\s*(?P<stages>[^:]*))?$", re.IGNORECASE)


class ZeroBranch(nn.Module):
    """A branch that adds nothing to the residual stream: it returns zeros of its input's shape."""

    def __init__(self, replaces: str) -> None:
        super().__init__()
        self.replaces = replaces

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(hidden_states)

    def extra_repr(self) -> str:
        return f"replaces={self.replaces!r}"


@dataclass(frozen=True)
class Knockouts:
    """Which stages (numbered from 1) run with their token mixer or their channel MLP switched off.

    A knocked-out token mixer outputs zeros, so the tokens of that stage exchange no information
    inside its blocks (the patch embeddings between stages are overlapping convolutions and still
    mix neighbours, and GroupNorm's statistics still span the whole map); a knocked-out channel MLP
    adds nothing, so the block only mixes tokens.
    """

    mixer: tuple[int, ...] = ()
    mlp: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for part in KNOCKOUT_PARTS:
            stages = getattr(self, part)
            numbers = [whole_number(s) for s in stages]
            if any(n is None or n < 1 for n in numbers):
                raise KnockoutSpecError(f"Knockout stages are whole numbers from 1; got {list(stages)} for {part}.")
            object.__setattr__(self, part, tuple(sorted(set(numbers))))

    def __bool__(self) -> bool:
        return bool(self.mixer or self.mlp)

    @classmethod
    def parse(cls, specs: Iterable[str], stage_count: int = STAGE_COUNT) -> Knockouts:
        """Knockouts from specs like "mixer", "mixer:1,2" or "mlp:4" (no stages: every stage)."""
        chosen: dict[str, set[int]] = {part: set() for part in KNOCKOUT_PARTS}
        for spec in specs:
            part, stages = parse_knockout_spec(spec, stage_count)
            chosen[part].update(stages)
        return cls(**{part: tuple(stages) for part, stages in chosen.items()})

    @classmethod
    def from_stages(cls, mixer: Iterable = (), mlp: Iterable = (), stage_count: int = STAGE_COUNT) -> Knockouts:
        """Knockouts from two lists of stage numbers (ints or digit strings, as check boxes and the
        API send them), checked as the specs of `parse` are."""
        return cls(
            mixer=parse_stages(mixer or (), stage_count, f"mixer stages {list(mixer or ())}"),
            mlp=parse_stages(mlp or (), stage_count, f"mlp stages {list(mlp or ())}"),
        )

    def as_dict(self) -> dict[str, list[int]]:
        return {part: list(getattr(self, part)) for part in KNOCKOUT_PARTS}

    def describe(self) -> str:
        """In words, e.g. "token mixing off in stages 1, 2; channel MLP off in stage 4" (a `Said`:
        a page says it in its language)."""
        parts = {
            part: Said.plural(f"knockout.describe.{part}", len(stages), stages=", ".join(map(str, stages)))
            for part in KNOCKOUT_PARTS
            if (stages := getattr(self, part))
        }
        if len(parts) == 2:
            return Said("knockout.describe.both", mixer=parts[MIXER], mlp=parts[MLP])
        return next(iter(parts.values()), Said("knockout.describe.none"))

    def to_json(self) -> dict:
        """The stages of each part switched off, and the same in words."""
        return {**self.as_dict(), "description": str(self.describe())}


def parse_knockout_spec(spec: str, stage_count: int = STAGE_COUNT) -> tuple[str, tuple[int, ...]]:
    """("mixer", (1, 2)) from "mixer:1,2"; every stage when none are given."""
    usage = f"expected mixer or mlp, optionally with stages such as mixer:1,2 (stages 1 to {stage_count})"
    match = _SPEC.match(str(spec))
    if match is None or match["part"].lower() not in KNOCKOUT_PARTS:
        raise KnockoutSpecError(f"{usage}; got {spec!r}.")
    part = match["part"].lower()
    if match["stages"] is None:
        return part, tuple(range(1, stage_count + 1))
    return part, parse_stages(match["stages"].split(","), stage_count, repr(spec), usage)


def parse_stages(items: Iterable, stage_count: int = STAGE_COUNT, where: str = "", usage: str = "") -> tuple[int, ...]:
    """Sorted, distinct stage numbers from ints or digit strings, each from 1 to `stage_count`."""
    items = [item.strip() if isinstance(item, str) else item for item in items]
    numbers = [int(item) if isinstance(item, str) and item.isdigit() else whole_number(item) for item in items]
    if any(number is None for number in numbers):
        usage = usage or f"stages are whole numbers from 1 to {stage_count}"
        raise KnockoutSpecError(f"{usage}; got {where}.")
    stages = tuple(sorted(set(numbers)))
    outside = [s for s in stages if not 1 <= s <= stage_count]
    if outside:
        raise KnockoutSpecError(f"There is no stage {outside[0]}: stages run from 1 to {stage_count} (in {where}).")
    return stages


def knocked_out(model: nn.Module, knockouts: Knockouts) -> nn.Module:
    """`model` itself when nothing is knocked out; otherwise a parameter-sharing copy whose
    chosen stages have their pooling (token mixer) or output (channel MLP) submodule replaced by
    a ZeroBranch. The model passed in is never changed."""
    if not knockouts:
        return model
    stages = stage_layers(model)
    for part in KNOCKOUT_PARTS:
        for stage in getattr(knockouts, part):
            if stage > len(stages):
                raise KnockoutSpecError(f"There is no stage {stage}: this model has stages 1 to {len(stages)}.")
    model = shared_copy(model)
    stages = stage_layers(model)
    for stage in knockouts.mixer:
        for layer in stages[stage - 1]:
            layer.pooling = ZeroBranch("pooling")
    for stage in knockouts.mlp:
        for layer in stages[stage - 1]:
            layer.output = ZeroBranch("output")
    return model


__all__ = [
    "KNOCKOUT_PARTS",
    "MIXER",
    "MLP",
    "Knockouts",
    "ZeroBranch",
    "knocked_out",
    "parse_knockout_spec",
    "parse_stages",
]
