"""Knockouts in words: what switching the token mixer off does to a bundled model's test answers
(from its measurement file) and to one image's prediction, each sentence chosen by the numbers."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import Analysis
from ..i18n import Messages
from ..labels import display_names
from ..shapes.data import IMAGE_SIZE, MAX_OBJECT_FRACTION
from ..shapes.pairs import MIN_EDGE_GAP
from ..shapes.tasks import TASKS
from ..variants import BundledFacts
from .sentences import Reading, pct

# A knockout that changes at least a tenth of the test answers is one the model relies on: below
# that, it changes fewer answers than the model gets wrong on held-out images of harder tasks.
MANY_CHANGED = 0.1
# Fixed norm statistics that leave accuracy within 10 points of chance leave the model nothing it
# knows: what it passes between positions went through the norms.
NEAR_CHANCE = 0.1
# On one image, a target probability that moves by less than a point is no change worth a sentence.
BARELY = 0.01


@dataclass(frozen=True)
class MixerOff(Reading):
    """The token mixer off in every stage of a bundled model, over its held-out images."""

    kind: str
    """"relies_on_mixer", "through_norms" (the model passes what it needs through its norms'
    statistics instead) or "neither"."""
    model: str
    images: int
    changed: int
    accuracy: float
    mixer_off_accuracy: float
    fixed_changed: int
    fixed_norm_accuracy: float
    chance: float

    KEY = "reading.knockout.mixer_off"
    TEMPLATES = {
        "relies_on_mixer": ("changed", "relies"),
        "through_norms": ("changed", "through_norms"),
        "neither": ("changed", "neither"),
    }

    def names(self) -> tuple[str, ...]:
        first, *rest = super().names()
        return ("changed_none" if self.changed == 0 else first, *rest)

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {
            **super().values(t),
            "accuracy_pct": pct(self.accuracy),
            "mixer_off_pct": pct(self.mixer_off_accuracy),
            "fixed_pct": pct(self.fixed_norm_accuracy),
            "chance_pct": 100 * self.chance,
        }


def mixer_off(model: str, facts: BundledFacts) -> MixerOff:
    """What the token mixer off in every stage did to the bundled model ``model``'s test answers."""
    chance = TASKS[facts.task].chance
    if facts.mixer_off_changed >= MANY_CHANGED:
        kind = "relies_on_mixer"
    elif facts.fixed_norm_accuracy <= chance + NEAR_CHANCE:
        kind = "through_norms"
    else:
        kind = "neither"
    return MixerOff(
        kind=kind,
        model=model,
        images=facts.held_out_images,
        changed=round(facts.mixer_off_changed * facts.held_out_images),
        accuracy=facts.accuracy,
        mixer_off_accuracy=facts.mixer_off_accuracy,
        fixed_changed=round(facts.fixed_norm_changed * facts.held_out_images),
        fixed_norm_accuracy=facts.fixed_norm_accuracy,
        chance=chance,
    )


@dataclass(frozen=True)
class TaskReach(Reading):
    """How far apart the task's parts lie against how far a stage-4 position sees without mixing."""

    kind: str
    """"beyond_view" (the parts to compare lie farther apart than a position sees), "within_view",
    "fits_view" (the largest object is smaller than what a position sees) or "exceeds_view"."""
    distance_px: int
    """The discs' least gap, or the largest object's size."""
    field_px: int
    image_px: int

    KEY = "reading.knockout.task_reach"
    TEMPLATES = {k: (k,) for k in ("beyond_view", "within_view", "fits_view", "exceeds_view")}


def task_reach(facts: BundledFacts) -> TaskReach:
    """The task's geometry beside a stage-4 position's view through the patch embeddings alone."""
    field = facts.theoretical_field_px
    if TASKS[facts.task].needs_mixing:
        distance = round(MIN_EDGE_GAP)
        kind = "beyond_view" if distance > field else "within_view"
    else:
        distance = round(MAX_OBJECT_FRACTION * IMAGE_SIZE)
        kind = "fits_view" if distance < field else "exceeds_view"
    return TaskReach(kind=kind, distance_px=distance, field_px=field, image_px=facts.image_px)


@dataclass(frozen=True)
class ObjectWindows(Reading):
    """How often a whole object lies inside one stage-4 position's window, over the test images."""

    kind: str
    """"measured"."""
    middle: float
    """The share of test images whose object lies inside a middle position's window."""
    some: float
    """The share whose object lies inside some position's window."""

    KEY = "reading.knockout.object_windows"
    TEMPLATES = {"measured": ("measured",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {**super().values(t), "middle_pct": pct(self.middle), "some_pct": pct(self.some)}


# With the norms' statistics fixed, a model that gives the same answer for 99 % of the test images or
# more gives one answer for every image (3 of 300 are within what a few borderline images change).
ONE_ANSWER = 0.99


@dataclass(frozen=True)
class FixedNormAnswer(Reading):
    """What the model answers with every norm's mean and variance fixed to their average."""

    kind: str
    """"one_answer" (ONE_ANSWER of the images or more), "leans" (most of them) or "spread"."""
    answer: str
    share: float

    KEY = "reading.knockout.fixed_norm_answer"
    TEMPLATES = {"one_answer": ("one_answer",), "leans": ("leans",), "spread": ("spread",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {**super().values(t), "share_pct": pct(self.share)}


def fixed_norm_answer(facts: BundledFacts) -> FixedNormAnswer | None:
    if facts.fixed_norm_answer is None or facts.fixed_norm_answer_share is None:
        return None
    share = facts.fixed_norm_answer_share
    kind = "one_answer" if share >= ONE_ANSWER else "leans" if share > 0.5 else "spread"
    return FixedNormAnswer(kind, facts.fixed_norm_answer, share)


# When more than half of the answers follow the image whose norm statistics were swapped in, the
# norms' two numbers per image decide the answer, not the image's own positions.
DONOR_DECIDES = 0.5


@dataclass(frozen=True)
class NormSwap(Reading):
    """Every norm's statistics taken from another test image: how many answers follow that image."""

    kind: str
    """"decides" (more than DONOR_DECIDES of the answers become the other image's label) or "partly"."""
    to_donor: float
    kept: float

    KEY = "reading.knockout.norm_swap"
    TEMPLATES = {"decides": ("decides",), "partly": ("partly",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {**super().values(t), "to_donor_pct": pct(self.to_donor), "kept_pct": pct(self.kept)}


def norm_swap(facts: BundledFacts) -> NormSwap | None:
    if facts.swap_other_to_donor is None or facts.swap_same_kept is None:
        return None
    kind = "decides" if facts.swap_other_to_donor > DONOR_DECIDES else "partly"
    return NormSwap(kind, facts.swap_other_to_donor, facts.swap_same_kept)


def mixer_off_note(model: str, facts: BundledFacts, t: Messages | None = None) -> str:
    """The bundled model's knockout in words (language `t`): what it changed, what its task asks of
    it, and, where they were measured, what the norms' statistics carry."""
    reading, reach = mixer_off(model, facts), task_reach(facts)
    first, *rest = reading.sentences(t)
    windows = None
    if reach.kind in ("fits_view", "exceeds_view") and facts.object_in_middle_window is not None:
        windows = ObjectWindows("measured", facts.object_in_middle_window, facts.object_in_some_window or 0.0)
    geometry = [r.text(t) for r in (reach, windows) if r is not None]
    norms = [r.text(t) for r in (fixed_norm_answer(facts), norm_swap(facts)) if r is not None]
    if reading.kind == "relies_on_mixer":
        return " ".join((first, *rest, *geometry))
    return " ".join((first, *geometry, *rest, *norms))


@dataclass(frozen=True)
class KnockoutAnswer(Reading):
    """One image before and after the token mixer is switched off in every stage."""

    kind: str
    """"new_top" (the top class changed), "same_top" or "barely" (the same top class, and the
    target's probability moved by less than BARELY)."""
    top_before: str
    top_after: str
    top_after_probability: float
    target: str
    target_before: float
    target_after: float

    KEY = "reading.knockout.answer"
    TEMPLATES = {
        "new_top": ("new_top", "reliance"),
        "same_top": ("same_top", "reliance"),
        "barely": ("same_top", "barely", "reliance"),
    }

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {
            **super().values(t),
            "top_after_p": f"{self.top_after_probability:.1%}",
            "target_before_p": f"{self.target_before:.1%}",
            "target_after_p": f"{self.target_after:.1%}",
        }


def knockout_answer(before: Analysis, after: Analysis) -> KnockoutAnswer:
    """The same image as trained (``before``) and with the token mixer off (``after``)."""
    names = display_names(before.labels)
    top_before, top_after = before.predictions[0], after.predictions[0]
    if top_before.index != top_after.index:
        kind = "new_top"
    elif abs(before.target.probability - after.target.probability) < BARELY:
        kind = "barely"
    else:
        kind = "same_top"
    return KnockoutAnswer(
        kind=kind,
        top_before=names[top_before.index],
        top_after=names[top_after.index],
        top_after_probability=top_after.probability,
        target=names[before.target.index],
        target_before=before.target.probability,
        target_after=after.target.probability,
    )
