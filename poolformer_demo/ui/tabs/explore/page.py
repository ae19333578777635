"""The Explore tab: an image and a model in; predictions, Grad-CAM and stage feature maps out.

The page's events and the `/analyze` endpoint for programs share one computation (`_compute`).
The page gets its pictures inlined in one piece of HTML; what only changes how they look (the
heatmap's opacity, the feature-map view, which stage is enlarged) happens in the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .... import weights
from ....analysis import Analysis, analyze
from ....i18n import Messages, Said, messages
from ....runner import LruStore, Runner
from ....variants import (
    ASSETS_DIR,
    DEFAULT_VARIANT,
    HUB_VARIANTS,
    PAIRS_VARIANT_NAME,
    SHAPES_VARIANT_NAME,
    VARIANTS,
    get_variant,
)
from ....weights import ModelCache
from ...kit.endpoints import expose, image_input, text_input
from ...kit.errors import failure_said, user_error
from ...kit.gradio_patches import accept_any_text, after_example_loads, hand_over_undecoded
from ...kit.language import LanguageSection, Retelling
from ...kit.pictures import FeaturePictures, feature_pictures, heatmap_pictures, image_key
from ...kit.runs import EXPLORE
from ...kit.view import Session, variant_choices
from . import view as present
from .view import DEFAULT_OPACITY, DEFAULT_VIEW, ExploreView, Shown, default_variant, photo_examples_label, variant_hint

EXAMPLES_DIR = ASSETS_DIR / "examples"
SESSION_TTL_S = 3600
# Enough for a classroom's worth of images on two models; an image's feature maps are about 50 kB.
FEATURE_PICTURES_KEPT = 64
# Whole answers (an analysis, about 1 MB, and its pictures) for the most recent questions.
ANSWERS_KEPT = 16


@dataclass(frozen=True)
class ExploreParts:
    """What the rest of the page reads or sets: the session (the last analysis, which the other tabs
    read), the inputs a link sets, and the page event's settings for an analysis a link asks for."""

    session: gr.State
    shown: gr.State
    image: gr.Image
    variant: gr.Dropdown
    event: dict
    retelling: Retelling


def _thumbnails(paths: list[str], image: gr.Image, label: str, elem_id: str) -> gr.Examples:
    """Examples shown as a row of thumbnails; a click puts the picture in `image`."""
    return gr.Examples(
        paths, inputs=[image], label=label, examples_per_page=8, api_visibility="private", elem_id=elem_id
    )


class ExploreTab:
    """The tab's handlers, bound to the model cache the app was built with."""

    def __init__(
        self,
        cache: ModelCache,
        runner: Runner,
        examples_dir: Path = EXAMPLES_DIR,
        shapes_available: bool | None = None,
        analyze=analyze,
    ):
        self.cache = cache
        self.runner = runner
        self.analyze = analyze
        self.pictures = LruStore(FEATURE_PICTURES_KEPT)
        self.answers = LruStore(ANSWERS_KEPT)
        self.examples_dir = Path(examples_dir)
        if shapes_available is None:
            shapes_available = weights.weights_obtainable(VARIANTS[SHAPES_VARIANT_NAME])
        self.shapes_available = shapes_available
        self.pairs_available = weights.weights_obtainable(VARIANTS[PAIRS_VARIANT_NAME])

    # -----------------------------------------------------------------------------------------
    # The one computation behind the page and the API
    # -----------------------------------------------------------------------------------------

    def _compute(self, image: str | None, variant: str, target) -> tuple[Analysis, FeaturePictures, tuple, str]:
        name = get_variant(variant).name
        key = image_key(image) if image and Path(image).is_file() else ""

        def compute(progress, should_stop):
            analysis = self.analyze(image, name, target=target, cache=self.cache)
            # Feature maps do not depend on the target: a re-target reuses the ones already encoded.
            features = self.pictures.get((key, name)) if key else None
            if features is None:
                features = feature_pictures(analysis)
                if key:
                    self.pictures.put((key, name), features)
            return analysis, features, heatmap_pictures(analysis), key

        # A class clicking the same example asks the same question many times: the answer is the
        # same (the model is deterministic and never changes), so it is computed once and kept.
        return self.runner.run(compute, EXPLORE, key=(key, name, target) if key else None, store=self.answers)

    def analyze_image(self, image: str | None, variant: str = DEFAULT_VARIANT, target: str | None = None):
        """Classify an image with a PoolFormer variant and explain one class with Grad-CAM at every stage.

        Args:
            image: the picture to analyse.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            target: the class to explain (a name or an index); empty means the top prediction.

        Returns the top-5 as a label, and the whole analysis as JSON: target, top_k, each stage's
        shape, stride, raw Grad-CAM (stage resolution) and pictures as data URIs, timing, notes.
        """
        try:
            analysis, features, heatmaps, _ = self._compute(image, variant, target or None)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None
        return present.label_value(analysis), present.api_result(analysis, features, heatmaps)

    # -----------------------------------------------------------------------------------------
    # Page handlers: a failure is said in the status line and leaves the last result in place
    # -----------------------------------------------------------------------------------------

    def _show(
        self, image: str | None, variant: str, target, session, shown: Shown | None, lang: str, shown_target=None
    ):
        try:
            analysis, features, heatmaps, key = self._compute(image, variant, target)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return self._failed(failure_said(exc), session, shown, lang, shown_target)
        new_session = Session(
            image=image,
            image_key=key,
            variant=analysis.variant.name,
            labels=analysis.labels,
            target=analysis.target.index,
        )
        return present.explore_view(analysis, new_session, features, heatmaps, messages(lang)).values()

    @staticmethod
    def _failed(
        said: str, session: Session | None, shown: Shown | None, lang: str, shown_target: str | None = None
    ) -> tuple:
        """The message, and every result left as it was; `shown_target` puts the class of the result
        still shown back in the class box, where a failed name was typed."""
        kept = Shown(shown.result if shown is not None else None, said, keeps=session is not None)
        values = dict.fromkeys(ExploreView.names(), gr.skip())
        values["status"] = present.shown_markdown(kept, messages(lang))
        values["shown"] = kept
        if shown_target is not None:
            values["target"] = shown_target
        return tuple(values.values())

    def show(self, image: str | None, variant: str, target: str | None, session: Session | None, shown=None, lang="en"):
        """The Analyse button."""
        return self._show(image, variant, target or None, session, shown, lang)

    def show_photo_example(self, image: str | None, variant: str, session: Session | None, shown=None, lang="en"):
        """A photo example: it runs on an ImageNet model, never on the shapes model."""
        chosen = self.imagenet_variant(variant)
        if chosen is None:
            return self._failed(Said("explore.no_imagenet_model", help=Said("weights.help")), session, shown, lang)
        return self._show(image, chosen, None, session, shown, lang)

    def image_after_photo(self, variant: str, session: Session | None):
        """After a photo example: the image of the result still shown, when no ImageNet model could run it."""
        if self.imagenet_variant(variant) is not None:
            return gr.skip()
        return session.image if session is not None and Path(session.image).is_file() else None

    def show_shapes_example(self, image: str | None, session: Session | None, shown=None, lang="en"):
        """A shapes example: it runs on the shapes model."""
        return self._show(image, SHAPES_VARIANT_NAME, None, session, shown, lang)

    def show_pairs_example(self, image: str | None, session: Session | None, shown=None, lang="en"):
        """A pairs example: it runs on the pairs model."""
        return self._show(image, PAIRS_VARIANT_NAME, None, session, shown, lang)

    def imagenet_variant(self, current: str) -> str | None:
        """The chosen ImageNet variant if it can run here, else the first that can, else None."""
        runnable = [name for name in self.cache.runnable_variants() if name in HUB_VARIANTS]
        if current in runnable:
            return current
        return runnable[0] if runnable else None

    def retarget(self, session: Session | None, target: str | None, shown=None, lang="en"):
        """Explain another class of the last analysed image, without uploading it again."""
        if session is None:
            return self._failed(Said("explore.first_analyse"), None, shown, lang)
        names = present.display_names(session.labels)
        if target in ("", None, names[session.target]):
            return (gr.skip(),) * len(ExploreView.names())
        if not Path(session.image).is_file():
            return self._failed(Said("explore.image_gone"), session, shown, lang)
        # A menu entry maps to its exact class; anything typed is resolved by the core (names, synonyms, indices).
        resolved = names.index(target) if target in names else target
        return self._show(session.image, session.variant, resolved, session, shown, lang, names[session.target])

    def retarget_from_label(self, session: Session | None, shown: Shown | None, lang: str, evt: gr.SelectData):
        """A row of the top-5 list was clicked: explain that class."""
        return self.retarget(session, evt.value, shown, lang)

    @staticmethod
    def target_menu(session: Session | None):
        """Offer every class of the analysed model in the target menu."""
        if session is None:
            return gr.skip()
        names = present.display_names(session.labels)
        return gr.update(choices=list(names), value=names[session.target])

    @staticmethod
    def facts_for(variant: str, session: Session | None = None, shown: Shown | None = None, lang: str = "en"):
        """The model-facts table follows the model menu at once, saying so while the result shown
        is another model's."""
        t = messages(lang)
        try:
            chosen = get_variant(variant)
        except Exception:  # noqa: BLE001 - a name typed into the menu is checked when it is analysed
            return gr.skip()
        analysis = shown.result[0] if shown is not None and shown.result is not None else None
        if analysis is not None and analysis.variant.name == chosen.name:
            return present.facts_markdown(chosen, analysis, t=t)
        shown_variant = session.variant if session is not None and session.variant != chosen.name else None
        return present.facts_markdown(chosen, shown_variant=shown_variant, t=t)

    def retell(self, t: Messages, shown: Shown | None, variant: str, session: Session | None):
        """What the tab shows, said again in language `t` from the results it keeps."""
        shown = shown or Shown()
        analysis = shown.result[0] if shown.result is not None else None
        facts = self.facts_for(variant, session, shown, t.code)
        return (
            present.shown_markdown(shown, t),
            present.target_markdown(analysis, t) if analysis is not None else gr.skip(),
            present.results_html(*(shown.result or ()), t=t),
            facts,
            present.journey_markdown(analysis, t),
        )

    @staticmethod
    def clear_target():
        return gr.update(value=None)

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def example_photos(self) -> list[str]:
        return [str(p) for p in sorted(self.examples_dir.glob("*.jpg"))]

    def example_shapes(self) -> list[str]:
        return self._task_examples(SHAPES_VARIANT_NAME) if self.shapes_available else []

    def example_pairs(self) -> list[str]:
        return self._task_examples(PAIRS_VARIANT_NAME) if self.pairs_available else []

    def _task_examples(self, task: str) -> list[str]:
        """A generated task's example pictures, named after the task (shapes_star.png, pairs_same_0.png)."""
        return [str(p) for p in sorted(self.examples_dir.glob(f"{task}_*.png"))]

    def render(self, model_events: dict, journey: gr.Markdown, language: LanguageSection) -> ExploreParts:
        """Lay the tab out inside the current Blocks and wire its events.

        `journey` is the Learn tab's "your image through the network" panel, which follows each
        analysis; `language` holds the language menu, which every handler reads.
        """
        words, lang = language.words, language.menu
        runnable = self.cache.runnable_variants()
        initial_variant = default_variant(runnable, self.shapes_available)
        session = gr.State(None, time_to_live=SESSION_TTL_S)
        shown = gr.State(None, time_to_live=SESSION_TTL_S)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                image = gr.Image(
                    sources=["upload", "webcam", "clipboard"],
                    type="filepath",
                    image_mode=None,
                    height=240,
                    elem_id="input-image",
                )
                words(hand_over_undecoded(image), label="explore.image")
                variant = words(
                    # Validation is the handler's: unknown names get the core's message.
                    gr.Dropdown(value=initial_variant, allow_custom_value=True, elem_id="variant"),
                    label="explore.model",
                    info=lambda t: variant_hint(runnable, t),
                    choices=lambda t: variant_choices(runnable, t),
                )
                run = words(gr.Button(variant="primary", elem_id="analyze-button"), value="explore.analyse")
                photos = _thumbnails(self.example_photos(), image, "", "photo-examples")
                words(photos.dataset, label=lambda t: photo_examples_label(runnable, t))
                # Each bundled model's examples run on that model, whatever the menu says.
                bundled_examples = []
                for paths, key, elem_id, handler in (
                    (self.example_shapes(), "explore.examples.shapes", "shapes-examples", self.show_shapes_example),
                    (self.example_pairs(), "explore.examples.pairs", "pairs-examples", self.show_pairs_example),
                ):
                    if paths:
                        examples = _thumbnails(paths, image, "", elem_id)
                        words(examples.dataset, label=key)
                        bundled_examples.append((examples, handler))
            with gr.Column(scale=8), gr.Row(equal_height=False):
                with gr.Column(scale=4, min_width=300):
                    # Above the predictions, so a long message never moves the pictures.
                    status = gr.Markdown("", elem_id="status")
                    label = words(
                        gr.Label(num_top_classes=5, show_heading=False, elem_id="predictions"),
                        label="explore.predictions",
                    )
                    target = words(
                        gr.Dropdown(choices=[], value=None, allow_custom_value=True, filterable=True, elem_id="target"),
                        label="explore.target",
                    )
                    # Its choices are filled per analysis; API callers may pass any class name or index.
                    accept_any_text(target, "a class name or index; empty for the top class")
                    target_info = gr.Markdown("", elem_id="target-info")
                    facts = words(
                        gr.Markdown(present.facts_markdown(get_variant(initial_variant)), elem_id="facts"),
                        label="explore.facts",
                    )
                with gr.Column(scale=5, min_width=340):
                    results = gr.HTML(present.results_html(), js_on_load=present.RESULTS_JS, elem_id="explore-results")
                    opacity = words(
                        gr.Slider(0.0, 1.0, value=DEFAULT_OPACITY, step=0.05, elem_id="opacity"),
                        label="explore.opacity",
                    )
                    view = words(
                        gr.Radio(value=DEFAULT_VIEW, elem_id="view"), label="explore.view", choices=present.view_choices
                    )
        # The endpoint for programs: the top-5 and the whole analysis as JSON.
        expose(
            self.analyze_image,
            "analyze",
            [image_input(), text_input(DEFAULT_VARIANT), text_input()],
            [gr.Label(visible=False), gr.JSON(visible=False)],
            **model_events,
        )

        components = {
            "status": status,
            "variant": variant,
            "predictions": label,
            "target": target,
            "target_info": target_info,
            "results": results,
            "facts": facts,
            "journey": journey,
            "session": session,
            "shown": shown,
        }
        outputs = [components[name] for name in ExploreView.names()]
        page_event = {"outputs": outputs, "api_visibility": "private", "show_progress_on": [results], **model_events}
        format_only = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
        photo_shown = after_example_loads(photos).then(
            self.show_photo_example, inputs=[image, variant, session, shown, lang], **page_event
        )
        # A photo no model here can classify does not stay in the image box for Analyse to run on.
        photo_shown.then(self.image_after_photo, inputs=[variant, session], outputs=image, **format_only)
        shown_events = [
            run.click(self.show, inputs=[image, variant, target, session, shown, lang], **page_event),
            photo_shown,
        ]
        for examples, handler in bundled_examples:
            shown_events.append(
                after_example_loads(examples).then(handler, inputs=[image, session, shown, lang], **page_event)
            )
        label.select(self.retarget_from_label, inputs=[session, shown, lang], **page_event)
        target.input(self.retarget, inputs=[session, target, shown, lang], **page_event)
        # A new analysis may come from another model: offer its classes (retargeting keeps the model).
        for event in shown_events:
            event.success(
                self.target_menu,
                inputs=session,
                outputs=target,
                queue=False,
                api_visibility="private",
                show_progress="hidden",
            )
        # Looks only: the browser does these, the server is not asked.
        opacity.input(None, inputs=opacity, js=present.OPACITY_JS, api_visibility="private")
        view.change(None, inputs=view, js=present.VIEW_JS, api_visibility="private")
        variant.input(self.facts_for, inputs=[variant, session, shown, lang], outputs=facts, **format_only)
        # A new picture or model starts from its own top class.
        image.input(self.clear_target, outputs=target, **format_only)
        variant.input(self.clear_target, outputs=target, **format_only)
        retelling = Retelling(self.retell, [shown, variant, session], [status, target_info, results, facts, journey])
        return ExploreParts(
            session=session, shown=shown, image=image, variant=variant, event=page_event, retelling=retelling
        )
