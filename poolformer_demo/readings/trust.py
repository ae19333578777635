"""How far to trust an explanation, in words: each method's faithfulness against random maps, and
the cascading-randomisation sanity check read against its random-model baseline. The thresholds
are the core's own (``sanity.ALIKE`` and ``sanity.CHANCE_FLOOR``); here they only choose words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..attributions import METHOD_TITLES
from ..faithfulness import FaithfulnessReport, beats_random
from ..sanity import ALIKE, CHANCE_FLOOR, SanityCheck
from .sentences import Reading, listed, plural

# ---------------------------------------------------------------------------------------------
# Faithfulness
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodVerdict(Reading):
    """One method's deletion and insertion AUCs against the random orders' mean."""

    kind: str
    """"both", "deletion", "insertion" or "neither": the curves on which the method beats random."""
    method: str
    deletion_auc: float
    insertion_auc: float
    random_deletion_auc: float
    random_insertion_auc: float

    TEMPLATES = {
        "both": "Beats random on both curves.",
        "deletion": "Beats random on deletion only.",
        "insertion": "Beats random on insertion only.",
        "neither": "No better than random.",
    }


def method_verdict(report: FaithfulnessReport, name: str) -> MethodVerdict:
    deletion, insertion = beats_random(report, name)
    kind = {(True, True): "both", (True, False): "deletion", (False, True): "insertion"}.get(
        (deletion, insertion), "neither"
    )
    curves, random = report.methods[name], report.random.mean
    return MethodVerdict(
        kind, name, curves.deletion_auc, curves.insertion_auc, random.deletion_auc, random.insertion_auc
    )


@dataclass(frozen=True)
class FaithfulnessSummary(Reading):
    """Which of the methods beat the random maps on both curves for one image."""

    kind: str
    """"some" or "none"."""
    methods: tuple[str, ...]
    """The titles of the methods that beat random on both curves."""
    measured: int

    TEMPLATES = {
        "some": "{names} {beat} the random maps on both curves.",
        "none": "No method beats the random maps on both curves for this image.",
    }

    def values(self) -> dict[str, object]:
        return {
            **super().values(),
            "names": listed(self.methods),
            "beat": plural(len(self.methods), "beats", "beat"),
        }


def faithfulness_summary(report: FaithfulnessReport, titles: Mapping[str, str] | None = None) -> FaithfulnessSummary:
    titles = titles or {}
    beating = tuple(titles.get(n, n) for n in report.methods if method_verdict(report, n).kind == "both")
    return FaithfulnessSummary("some" if beating else "none", beating, len(report.methods))


# ---------------------------------------------------------------------------------------------
# The sanity check
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SanityReading(Reading):
    """The fully randomised models' maps against the trained map and against each other."""

    kind: str
    """The core's verdict ("fails", "passes"), or "image_driven" / "inconclusive" for the core's
    "inconclusive", split by whether random models' maps already agree with each other."""
    method: str
    models: int
    to_original: tuple[float, ...]
    between: tuple[float, ...]
    ssim_to_original: float
    ssim_between: float
    alike: float = ALIKE
    floor: float = CHANCE_FLOOR

    _MEASURED = (
        "With {models} fully randomised models, the trained map's ρ is {to_original_spread}; between those models' "
        "own maps it is {between_spread}. SSIM: {ssim_to_original:+.2f} with the trained map, {ssim_between:+.2f} "
        "between them."
    )
    TEMPLATES = {
        "fails": (
            _MEASURED,
            "Fails: the maps of destroyed models keep the trained map's ranking (mean ρ above {alike:g}), so on this "
            "image {method} shows the image more than the model, and should not be trusted to explain it.",
        ),
        "passes": (
            _MEASURED,
            "Passes: the trained map is no more alike to the random models' maps than they are to each other, and "
            "those share little (mean ρ below {floor:g}): {method} depends on what the model learned.",
        ),
        "image_driven": (
            _MEASURED,
            "Inconclusive: random models' maps already agree with each other (mean ρ at least {floor:g}), so part of "
            "every {method} map is set by the image alone, and what the trained map shares with them cannot be told "
            "apart from it.",
        ),
        "inconclusive": (
            _MEASURED,
            "Inconclusive: the trained map resembles the random models' maps more than they resemble each other, "
            "though not enough to fail (mean ρ up to {alike:g}).",
        ),
    }

    def values(self) -> dict[str, object]:
        def spread(values: tuple[float, ...]) -> str:
            return f"{float(np.mean(values)):+.2f} (from {min(values):+.2f} to {max(values):+.2f})"

        return {
            **super().values(),
            "to_original_spread": spread(self.to_original),
            "between_spread": spread(self.between),
        }


def sanity_reading(check: SanityCheck) -> SanityReading:
    """The check's verdict and the numbers it rests on."""
    base = check.baseline
    kind = base.verdict
    if kind == "inconclusive":
        kind = "image_driven" if float(np.mean(base.between)) >= CHANCE_FLOOR else "inconclusive"
    return SanityReading(
        kind=kind,
        method=METHOD_TITLES.get(check.method, check.method),
        models=len(base.to_original),
        to_original=tuple(base.to_original),
        between=tuple(base.between),
        ssim_to_original=float(np.mean(base.ssim_to_original)),
        ssim_between=float(np.mean(base.ssim_between)),
    )
