"""The Explore tab: an image and a model in, predictions, stage feature maps and Grad-CAM out.

Handlers that need the model call `analyze()`; the others (feature-map view, overlay opacity,
which stage is shown large) only re-format the last `Analysis`, kept per browser session in a
`gr.State`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import gradio as gr

from .. import weights
from ..analysis import analyze
from ..variants import ASSETS_DIR, DEFAULT_VARIANT, SHAPES_VARIANT_NAME, VARIANTS, get_variant
from ..weights import ModelCache
from . import present
from .components import hand_over_undecoded, stage_gallery
from .errors import user_error
from .present import DEEPEST_STAGE, DEFAULT_OPACITY, DEFAULT_VIEW, VIEWS, ExploreView, Session

EXAMPLES_DIR = ASSETS_DIR / "examples"
SESSION_TTL_S = 3600


def default_variant(cache: ModelCache, shapes_available: bool) -> str:
    """s12 when its weights can be had (a local folder, the HF cache, or a reachable hub), else the
    bundled shapes model, so an app with no network still opens on something that works."""
    s12 = get_variant(DEFAULT_VARIANT)
    if s12.name in cache.cached_variants() or weights.weights_obtainable(s12) or not shapes_available:
        return DEFAULT_VARIANT
    return SHAPES_VARIANT_NAME


def variant_choices() -> list[tuple[str, str]]:
    return [(VARIANTS[name].title, name) for name in VARIANTS]


class ExploreTab:
    """The tab's handlers, bound to the model cache the app was built with."""

    def __init__(
        self,
        cache: ModelCache,
        examples_dir: Path = EXAMPLES_DIR,
        shapes_available: bool | None = None,
        analyze=analyze,
    ):
        self.cache = cache
        self.analyze = analyze
        self.examples_dir = Path(examples_dir)
        if shapes_available is None:
            shapes_available = weights.weights_obtainable(VARIANTS[SHAPES_VARIANT_NAME])
        self.shapes_available = shapes_available

    # -----------------------------------------------------------------------------------------
    # Handlers
    # -----------------------------------------------------------------------------------------

    def _run(self, image, variant: str, target, view: str, opacity: float, stage: int = DEEPEST_STAGE) -> tuple:
        try:
            name = get_variant(variant).name
            analysis = self.analyze(image, name, target=target, cache=self.cache)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None
        session = Session(image=image, variant=name, analysis=analysis, stage=stage)
        return present.explore_view(session, view, opacity).values()

    def analyze_image(
        self,
        image: str | None,
        variant: str = DEFAULT_VARIANT,
        target: str | None = None,
        view: str = DEFAULT_VIEW,
        opacity: float = DEFAULT_OPACITY,
        progress=gr.Progress(track_tqdm=True),
    ):
        """Classify an image with a PoolFormer variant and explain one class with Grad-CAM at every stage.

        Args:
            image: the picture to analyse.
            variant: s12, s24, s36, m36, m48 or shapes.
            target: the class to explain (a name or an index); empty means the top prediction.
            view: how feature maps are drawn: "PCA (RGB)", "mean activation" or "top channels".
            opacity: how strongly the Grad-CAM heatmaps cover the image, 0 to 1.
        """
        target = target if target not in ("", None) else None
        return self._run(image, variant, target, view, opacity)

    def analyze_example(
        self, image: str | None, variant: str, view: str, opacity: float, progress=gr.Progress(track_tqdm=True)
    ):
        """An example was clicked: analyse it for its top class."""
        return self._run(image, variant, None, view, opacity)

    def retarget(
        self,
        session: Session | None,
        target: str | None,
        view: str,
        opacity: float,
        progress=gr.Progress(track_tqdm=True),
    ):
        """Explain another class of the last analysed image, without uploading it again."""
        if session is None:
            raise gr.Error("Analyse an image first, then choose the class to explain.", print_exception=False)
        if target in ("", None, present.target_name(session.analysis)):
            return present.explore_view(session, view, opacity).values()
        if not Path(session.image).is_file():
            raise gr.Error(
                "The last image is no longer on the server. Upload it again and re-run the analysis.",
                print_exception=False,
            )
        names = present.display_names(session.analysis.labels)
        # A menu entry maps to its exact class; anything typed is resolved by the core (names, synonyms, indices).
        resolved = names.index(target) if target in names else target
        return self._run(session.image, session.variant, resolved, view, opacity, session.stage)

    def retarget_from_label(
        self,
        session: Session | None,
        view: str,
        opacity: float,
        evt: gr.SelectData,
        progress=gr.Progress(track_tqdm=True),
    ):
        """A row of the top-5 list was clicked: explain that class."""
        return self.retarget(session, evt.value, view, opacity)

    @staticmethod
    def show_view(session: Session | None, view: str):
        """Switch how feature maps are drawn. Formatting only: the model does not run."""
        if session is None:
            return gr.skip()
        return present.feature_gallery(session.analysis, view)

    @staticmethod
    def blend(session: Session | None, opacity: float):
        """Re-blend the Grad-CAM overlays at another opacity. Formatting only: the model does not run."""
        if session is None:
            return gr.skip(), gr.skip()
        analysis = session.analysis
        return present.overlay_gallery(analysis, opacity), present.large_overlay(analysis, session.stage, opacity)

    @staticmethod
    def pick_stage(session: Session | None, opacity: float, evt: gr.SelectData):
        """Show the clicked stage's overlay large. Formatting only: the model does not run."""
        if session is None:
            return gr.skip(), gr.skip(), gr.skip()
        stage = int(evt.index) + 1
        return (
            present.large_overlay(session.analysis, stage, opacity),
            present.target_markdown(session.analysis, stage),
            replace(session, stage=stage),
        )

    @staticmethod
    def target_menu(session: Session | None):
        """Offer every class of the analysed model in the target menu."""
        if session is None:
            return gr.skip()
        names = present.display_names(session.analysis.labels)
        return gr.update(choices=list(names), value=present.target_name(session.analysis))

    @staticmethod
    def clear_target():
        return gr.update(value=None)

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def example_photos(self) -> list[str]:
        return [str(p) for p in sorted(self.examples_dir.glob("*.jpg"))]

    def example_shapes(self) -> list[str]:
        if not self.shapes_available:
            return []
        return [str(p) for p in sorted(self.examples_dir.glob("shapes_*.png"))]

    def render(self, model_events: dict, format_events: dict, journey: gr.Markdown) -> None:
        """Lay the tab out inside the current Blocks and wire its events.

        `journey` is the Learn tab's "your image through the network" panel, which follows each
        analysis.
        """
        initial_variant = default_variant(self.cache, self.shapes_available)
        session = gr.State(None, time_to_live=SESSION_TTL_S)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                image = gr.Image(
                    label="Image",
                    sources=["upload", "webcam", "clipboard"],
                    type="filepath",
                    image_mode=None,
                    height=260,
                    elem_id="input-image",
                )
                hand_over_undecoded(image)
                variant = gr.Dropdown(
                    choices=variant_choices(),
                    value=initial_variant,
                    label="Model",
                    info="Weights are downloaded on first use (M48: about 300 MB).",
                    # Validation is the handler's: unknown names get the core's message.
                    allow_custom_value=True,
                    elem_id="variant",
                )
                run = gr.Button("Analyse", variant="primary", elem_id="analyze-button")
                photos = gr.Examples(
                    self.example_photos(),
                    inputs=[image],
                    label="Photos (ImageNet models)",
                    examples_per_page=8,
                    api_visibility="private",
                )
                shapes_examples = None
                if self.example_shapes():
                    shapes_examples = gr.Examples(
                        [[path, SHAPES_VARIANT_NAME] for path in self.example_shapes()],
                        inputs=[image, variant],
                        label="Shapes (shapes model)",
                        examples_per_page=8,
                        api_visibility="private",
                    )
            with gr.Column(scale=4, min_width=340):
                notes = gr.Markdown("", label="Notes", elem_id="notes")
                label = gr.Label(
                    num_top_classes=5,
                    label="Top-5 predictions · click one to explain it",
                    show_heading=False,
                    elem_id="predictions",
                )
                target = gr.Dropdown(
                    choices=[],
                    value=None,
                    label="Explain another class (type any name)",
                    allow_custom_value=True,
                    filterable=True,
                    elem_id="target",
                )
                # Its choices are filled per analysis; API callers may pass any class name or index.
                target.api_info = lambda: {
                    "type": "string",
                    "description": "a class name or index; empty for the top class",
                }
                target_info = gr.Markdown("", label="Grad-CAM target", elem_id="target-info")
                facts = gr.Markdown(
                    present.facts_markdown(get_variant(initial_variant)), label="Model facts", elem_id="facts"
                )
            with gr.Column(scale=4, min_width=340):
                cam_large = gr.Image(
                    label="Grad-CAM, enlarged",
                    type="numpy",
                    format="png",
                    interactive=False,
                    height=540,
                    elem_id="cam-large",
                )
        with gr.Row(equal_height=False):
            with gr.Column():
                cam_gallery = stage_gallery(
                    "Grad-CAM at every stage · click one to enlarge it", "cam-gallery", allow_preview=False
                )
                opacity = gr.Slider(
                    0.0, 1.0, value=DEFAULT_OPACITY, step=0.05, label="Heatmap opacity", elem_id="opacity"
                )
            with gr.Column():
                feature_maps = stage_gallery("Feature maps at every stage", "feature-gallery")
                view = gr.Radio(list(VIEWS), value=DEFAULT_VIEW, label="Feature-map view", elem_id="view")

        components = {
            "predictions": label,
            "feature_maps": feature_maps,
            "cam_gallery": cam_gallery,
            "cam_large": cam_large,
            "target": target,
            "target_info": target_info,
            "facts": facts,
            "notes": notes,
            "journey": journey,
            "session": session,
        }
        results = [components[name] for name in ExploreView.names()]

        analysed = run.click(
            self.analyze_image,
            inputs=[image, variant, target, view, opacity],
            outputs=results,
            api_name="analyze",
            show_progress_on=[label, cam_large],
            **model_events,
        )
        label.select(
            self.retarget_from_label,
            inputs=[session, view, opacity],
            outputs=results,
            api_visibility="private",
            show_progress_on=[cam_large],
            **model_events,
        )
        target.input(
            self.retarget,
            inputs=[session, target, view, opacity],
            outputs=results,
            api_visibility="private",
            show_progress_on=[cam_large],
            **model_events,
        )
        example_runs = [
            examples.load_input_event.then(
                self.analyze_example,
                inputs=[image, variant, view, opacity],
                outputs=results,
                api_visibility="private",
                show_progress_on=[label, cam_large],
                **model_events,
            )
            for examples in (photos, shapes_examples)
            if examples is not None
        ]
        # A new analysis may come from another model: offer its classes (retargeting keeps the model).
        for event in (analysed, *example_runs):
            event.success(
                self.target_menu,
                inputs=session,
                outputs=target,
                queue=False,
                api_visibility="private",
                show_progress="hidden",
            )
        view.change(self.show_view, inputs=[session, view], outputs=feature_maps, **format_events)
        opacity.input(
            self.blend,
            inputs=[session, opacity],
            outputs=[cam_gallery, cam_large],
            trigger_mode="always_last",
            **format_events,
        )
        cam_gallery.select(
            self.pick_stage, inputs=[session, opacity], outputs=[cam_large, target_info, session], **format_events
        )
        # A new picture or model starts from its own top class.
        image.input(self.clear_target, outputs=target, queue=False, api_visibility="private")
        variant.input(self.clear_target, outputs=target, queue=False, api_visibility="private")
