"""How far to trust an explanation, in words: each method's faithfulness against random maps, and
the cascading-randomisation sanity check read against its random-model baseline. The thresholds
are the core's own (``sanity.ALIKE`` and ``sanity.CHANCE_FLOOR``); here they only choose words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..faithfulness import FaithfulnessReport, beats_random
from ..i18n import Messages, english
from ..sanity import ALIKE, CHANCE_FLOOR, SanityCheck
from .sentences import Reading

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

    KEY = "reading.trust.method_verdict"
    TEMPLATES = {"both": ("both",), "deletion": ("deletion",), "insertion": ("insertion",), "neither": ("neither",)}


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
    """The methods that beat random on both curves (their names, as ``attributions.METHOD_TITLES`` keys)."""
    measured: int

    KEY = "reading.trust.faithfulness"
    TEMPLATES = {"some": ("some",), "none": ("none",)}
    COUNTS = {"some": "beating"}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()
        return {
            **super().values(t),
            "names": t.listed([method_title(name, t) for name in self.methods]),
            "beating": len(self.methods),
        }


def method_title(name: str, t: Messages | None = None) -> str:
    """A method's name in language ``t`` ("Integrated Gradients"); a name the catalog does not know as it is."""
    key = f"method.{name}"
    return (t or english()).text(key) if key in english() else name


def faithfulness_summary(report: FaithfulnessReport) -> FaithfulnessSummary:
    beating = tuple(n for n in report.methods if method_verdict(report, n).kind == "both")
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

    KEY = "reading.trust.sanity"
    TEMPLATES = {
        "fails": ("measured", "fails"),
        "passes": ("measured", "passes"),
        "image_driven": ("measured", "image_driven"),
        "inconclusive": ("measured", "inconclusive"),
    }
    COUNTS = {"measured": "models"}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()

        def spread(values: tuple[float, ...]) -> str:
            return t.text("reading.trust.sanity.spread", mean=float(np.mean(values)), low=min(values), high=max(values))

        return {
            **super().values(t),
            "method": method_title(self.method, t),
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
        method=check.method,
        models=len(base.to_original),
        to_original=tuple(base.to_original),
        between=tuple(base.between),
        ssim_to_original=float(np.mean(base.ssim_to_original)),
        ssim_between=float(np.mean(base.ssim_between)),
    )
