"""The Explain tab's long runs (attributions, faithfulness, the sanity check), followed through the
app's runner so the page shows their progress and its Stop button ends them. Each keeps what it
shows (the result objects, not their HTML), so a new language says it again without computing."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from pathlib import Path

import gradio as gr

from .... import render
from ....attributions import parse_methods
from ....blocks import model_inputs
from ....cams import DEFAULT_CAM
from ....explanation import score_faithfulness
from ....faithfulness import FaithfulnessSettings
from ....i18n import Messages, messages
from ....images import crop_image, prepare_image
from ....runner import LruStore, Runner
from ....weights import ModelCache
from ...kit.errors import failure_said, page_error
from ...kit.runs import LONG, follow_with_status
from ...kit.view import Session, failure_html, failure_text, message_html, stopped_html
from . import trust, view


def attributions_said(t: Messages, kept) -> tuple:
    """(status, attributions HTML) of the explanation shown: `kept` is (explanation, pictures)."""
    if kept is None:
        return gr.skip(), view.attributions_html(t=t)
    explanation, pictures = kept
    done = t.plural("explain.attributions.done", len(explanation.attributions), seconds=explanation.seconds)
    return message_html(done), view.attributions_html(explanation, pictures, t)


def faithfulness_said(t: Messages, kept) -> tuple:
    """(status, faithfulness HTML) of the report shown: `kept` is (report, screen plot, room plot)."""
    if kept is None:
        return gr.skip(), trust.faithfulness_html(t=t)
    report, plot, room = kept
    orders = t.plural("explain.faithfulness.orders", report.random.deletion.shape[0])
    done = t.plural("explain.faithfulness.done", len(report.methods), orders=orders)
    return message_html(done), trust.faithfulness_html(report, plot, room, t)


def sanity_said(t: Messages, kept) -> tuple:
    """(status, sanity HTML) of the check shown: `kept` is (check, pictures, crop)."""
    if kept is None:
        return gr.skip(), trust.sanity_html(t=t)
    check, pictures, crop = kept
    done = t.plural("explain.sanity.done", len(check.steps), seconds=check.seconds)
    return message_html(done), trust.sanity_html(check, pictures, crop, t)


class ExplainRuns:
    """The long runs, bound to the model cache, the settings and the stores ExplainTab sets."""

    cache: ModelCache
    runner: Runner
    settings: Mapping[str, object]
    faithfulness: FaithfulnessSettings
    explanations: LruStore
    shared_answers: LruStore

    def _crop(self, image, variant: str):
        loaded = self.cache.get(variant)
        return crop_image(model_inputs(loaded, prepare_image(image).image)[0], loaded.processor)

    @staticmethod
    def _session_inputs(session: Session | None) -> tuple[str, str, int]:
        if session is None:
            raise page_error("explain.no_session.error")
        if not Path(session.image).is_file():
            raise page_error("explain.image_gone")
        return session.image, session.variant, session.target

    @classmethod
    def _chosen(cls, session: Session | None, methods: list[str]) -> tuple[str, str, int, tuple[str, ...]]:
        """The analysed prediction and the chosen methods, or the page's error for what is missing."""
        image, variant, target = cls._session_inputs(session)
        if not methods:
            raise page_error("explain.no_method")
        return image, variant, target, parse_methods(methods)

    @staticmethod
    def _key(session: Session, stage: int) -> tuple:
        return (session.image_key or session.image, session.variant, session.target, int(stage))

    def _follow(self, compute: Callable, started: str, key, t: Messages) -> Iterator[tuple[str, object]]:
        store = self.shared_answers if key is not None else None
        return closing(follow_with_status(self.runner, compute, LONG, started, key, store, t))

    @staticmethod
    def _status(value) -> object:
        return gr.skip() if value is None else value

    def run_attributions(self, session: Session | None, methods: list[str], stage: int, lang: str = "en"):
        """The chosen methods side by side: (status, attributions HTML, what is shown), with progress."""
        t = messages(lang)
        try:
            image, variant, target, names = self._chosen(session, methods)

            def compute(progress, should_stop):
                return self._explain(
                    image, variant, target, names, int(stage), progress=progress, should_stop=should_stop
                )

            key = self._explain_key(session.image_key or image, variant, target, names, int(stage), False)
            with self._follow(compute, t.text("explain.attributions.starting"), key, t) as events:
                for kind, value in events:
                    if kind == "status":
                        yield self._status(value), gr.skip(), gr.skip()
                    else:
                        self.explanations.put(self._key(session, stage), value)
                        kept = (value, view.attribution_pictures(value))
                        yield *attributions_said(t, kept), kept
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield failure_html(failure_text(failure_said(exc), t), t), gr.skip(), gr.skip()

    def run_faithfulness(self, session: Session | None, methods: list[str], stage: int, lang: str = "en"):
        """Deletion and insertion for the chosen methods and random maps: (status, faithfulness HTML,
        attributions HTML, and what each shows). The last attributions of this prediction are reused;
        if there are none for every chosen method, they are computed first and shown too."""
        t = messages(lang)
        try:
            image, variant, target, names = self._chosen(session, methods)
            key = self._key(session, stage)
            stored = self.explanations.get(key)
            reuse = stored is not None and set(names) <= set(stored.attributions)

            def compute(progress, should_stop):
                if reuse:
                    return score_faithfulness(
                        image, stored, names, self.faithfulness, progress, should_stop, cache=self.cache
                    )
                return self._explain(
                    image,
                    variant,
                    target,
                    names,
                    int(stage),
                    faithfulness=True,
                    progress=progress,
                    should_stop=should_stop,
                )

            first = t.text("explain.faithfulness.starting" if reuse else "explain.faithfulness.starting_first")
            shared = (
                None
                if reuse
                else self._explain_key(session.image_key or image, variant, target, names, int(stage), True)
            )
            with self._follow(compute, first, shared, t) as events:
                for kind, value in events:
                    if kind == "status":
                        yield self._status(value), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                        continue
                    attributions, kept_attributions = gr.skip(), gr.skip()
                    if reuse:
                        report = value
                    else:
                        self.explanations.put(key, value)
                        report = value.faithfulness
                        kept_attributions = (value, view.attribution_pictures(value))
                        attributions = attributions_said(t, kept_attributions)[1]
                    kept = (report, *trust.faithfulness_pictures(report))
                    yield *faithfulness_said(t, kept), attributions, kept, kept_attributions
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield failure_html(failure_text(failure_said(exc), t), t), gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def run_sanity(self, session: Session | None, method: str, stage: int, lang: str = "en"):
        """Cascading randomisation of a copy of the model: (status, sanity HTML, what is shown)."""
        # scipy's rank correlation is loaded with the first check, not with the app.
        from ....sanity import cascading_randomization

        t = messages(lang)
        try:
            image, variant, target = self._session_inputs(session)
            (method,) = parse_methods([method or DEFAULT_CAM])

            def compute(progress, should_stop):
                return cascading_randomization(
                    image,
                    variant,
                    method=method,
                    stage=int(stage),
                    target=target,
                    settings=self.settings,
                    progress=progress,
                    should_stop=should_stop,
                    cache=self.cache,
                )

            key = self._sanity_key(session.image_key or image, variant, target, method, int(stage))
            with self._follow(compute, t.text("explain.sanity.starting"), key, t) as events:
                for kind, value in events:
                    if kind == "status":
                        yield self._status(value), gr.skip(), gr.skip()
                    else:
                        crop = render.data_uri(self._crop(image, variant), "jpeg")
                        kept = (value, trust.sanity_pictures(value), crop)
                        yield *sanity_said(t, kept), kept
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield failure_html(failure_text(failure_said(exc), t), t), gr.skip(), gr.skip()

    @staticmethod
    def stopped(lang: str = "en") -> str:
        return stopped_html(messages(lang))
