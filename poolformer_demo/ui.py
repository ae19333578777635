"""The Gradio app: it formats what `analyze()` returns and never computes anything itself.

Every event handler is a small module-level function, so tests can call them directly. Handlers
that need the model call `analyze()`; the others (feature-map view, overlay opacity, which stage is
shown large) only re-format the last `Analysis`, kept per browser session in a `gr.State`.
"""

from __future__ import annotations

import html
import logging
import os
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import gradio as gr
import numpy as np

from . import render, weights
from .analysis import Analysis, analyze
from .errors import PoolFormerDemoError, without_paths
from .variants import (
    ASSETS_DIR,
    DEFAULT_VARIANT,
    HUB_VARIANTS,
    SHAPES_VARIANT_NAME,
    STAGE_COUNT,
    VARIANTS,
    Variant,
    get_variant,
)
from .weights import ModelCache

logger = logging.getLogger(__name__)

TITLE = "PoolFormer Explorer"
EXAMPLES_DIR = ASSETS_DIR / "examples"

VIEW_PCA = "PCA (RGB)"
VIEW_MEAN = "mean activation"
VIEW_CHANNELS = "top channels"
VIEWS = (VIEW_PCA, VIEW_MEAN, VIEW_CHANNELS)
DEFAULT_VIEW = VIEW_PCA
DEFAULT_OPACITY = 0.5
DEEPEST_STAGE = STAGE_COUNT

# Uploads larger than this are refused by the server before any handler runs.
MAX_FILE_SIZE = "20mb"
# Two CPU cores: two analyses at a time keep both busy; more would only make each one slower.
CONCURRENCY_LIMIT = int(os.environ.get("POOLFORMER_CONCURRENCY", "2"))
QUEUE_MAX_SIZE = 64
# Gradio's copies of uploads and rendered images: swept hourly, removed after an hour.
DELETE_CACHE = (3600, 3600)
# Each session keeps one Analysis (a few MB); this bounds the memory all sessions can hold.
STATE_SESSION_CAPACITY = 200
SESSION_TTL_S = 3600

GENERIC_ERROR = "Something went wrong while analysing this image. Please try again, or try another image."

# The model cache the handlers use; None means weights.shared_cache().
model_cache: ModelCache | None = None


def hand_over_undecoded(component: gr.Image) -> gr.Image:
    """Make an image input pass the uploaded file to the core undecoded.

    gr.Image opens every upload with PIL before any handler runs, so a text file, a truncated
    PNG or a decompression bomb would fail there with a bare "Error". Passing the path on lets
    the core's decoder, with its pixel limit and specific messages, be the only one that reads
    it; Gradio has already checked that the path lies in its upload folder. (The component is
    patched rather than subclassed because Gradio writes a .pyi stub beside any module that
    subclasses a component.)
    """
    decode = component.preprocess

    def preprocess(payload):
        if payload is None or payload.path is None or (payload.url or "").startswith("data:"):
            return decode(payload)
        return str(payload.path)

    component.preprocess = preprocess
    return component


@dataclass(frozen=True, eq=False)
class Session:
    """What one browser tab remembers between events: the image, the variant and the last result.

    eq=False keeps identity hashing: an Analysis holds arrays, which cannot be hashed by value.
    """

    image: str
    variant: str
    analysis: Analysis
    stage: int = DEEPEST_STAGE


# ---------------------------------------------------------------------------------------------
# Formatting: Analysis -> component values
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def display_names(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Class names as shown in menus and in the top-5 list, made unique.

    ImageNet names two classes "crane" (the bird and the machine); a dict keyed by name, as the
    Label component needs, would merge them, so repeated names get their class index appended.
    """
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return tuple(label if counts[label] == 1 else f"{label} (class {i})" for i, label in enumerate(labels))


def label_value(analysis: Analysis) -> dict[str, float]:
    names = display_names(analysis.labels)
    return {names[p.index]: p.probability for p in analysis.predictions}


def feature_gallery(analysis: Analysis, view: str = DEFAULT_VIEW) -> list[tuple[np.ndarray, str]]:
    attribute = {VIEW_PCA: "pca", VIEW_MEAN: "mean", VIEW_CHANNELS: "channels"}.get(view, "pca")
    return [(getattr(stage.views, attribute), stage.caption) for stage in analysis.stages]


def overlay_gallery(analysis: Analysis, opacity: float = DEFAULT_OPACITY) -> list[tuple[np.ndarray, str]]:
    return [(render.overlay(analysis.input_image, stage.cam, opacity), stage.caption) for stage in analysis.stages]


def large_overlay(analysis: Analysis, stage: int = DEEPEST_STAGE, opacity: float = DEFAULT_OPACITY) -> np.ndarray:
    return render.overlay(analysis.input_image, analysis.stages[stage - 1].cam, opacity)


def target_name(analysis: Analysis) -> str:
    return display_names(analysis.labels)[analysis.target.index]


def target_markdown(analysis: Analysis, stage: int = DEEPEST_STAGE) -> str:
    """Which class Grad-CAM explains, and which stage is shown large."""
    target = analysis.target
    top1 = " · top prediction" if target.index == analysis.predictions[0].index else ""
    return (
        f"Grad-CAM for **{_md(target_name(analysis))}** · class {target.index} · p = {target.probability:.1%}{top1}"
        f"  \nEnlarged: {analysis.stages[stage - 1].caption}"
    )


def _joined(values) -> str:
    return " · ".join(str(v) for v in values)


def facts_markdown(variant: Variant, analysis: Analysis | None = None) -> str:
    """The model's architecture and published figures; after an analysis, also where the weights
    came from and how long it took."""
    source = f"`{variant.hub_id}`" if variant.hub_id else variant.description
    macs = f"{variant.macs_g:.1f} G at 224 px" if variant.macs_g else "–"
    model = f"**PoolFormer-{variant.name.upper()}** · {source}"
    rows = [
        ("Blocks per stage", _joined(variant.depths)),
        ("Widths", _joined(variant.hidden_sizes)),
        ("Parameters · MACs", f"{variant.params_m:g} M · {macs}"),
        ("ImageNet-1k top-1", f"{variant.top1:g} %" if variant.top1 is not None else "– (not an ImageNet model)"),
    ]
    if analysis is None:
        rows.append(("Weights", "loaded on the first analysis"))
    else:
        rows.append(("Weights", _md(analysis.weights_source)))
        rows.append(("Analysis took", f"{analysis.seconds:.2f} s"))
    return f"| Model | {model} |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def notes_markdown(analysis: Analysis) -> str:
    return "\n".join(f"ℹ️ {_md(note)}" for note in analysis.notes)


def shapes_markdown(analysis: Analysis | None = None) -> str:
    """The shapes the last analysed image took through the four stages."""
    if analysis is None:
        return (
            "### Your image through the network\n"
            "Analyse an image on the *Explore* tab and its journey through the four stages appears here."
        )
    height, width = analysis.input_image.height, analysis.input_image.width
    lines = [
        "### Your image through the network",
        f"PoolFormer-{analysis.variant.name.upper()} saw a **{width}×{height}** RGB crop "
        f"(3×{height}×{width}). Each stage starts with a patch embedding that shrinks the grid, then "
        "runs its PoolFormer blocks, which keep the shape:",
        "",
        "| | shape (C×H×W) | stride | tokens | blocks |",
        "|---|---|---|---|---|",
        f"| input crop | 3×{height}×{width} | 1 | – | – |",
    ]
    for stage in analysis.stages:
        channels, h, w = stage.shape
        depth = analysis.variant.depths[stage.index - 1]
        lines.append(f"| stage {stage.index} | {channels}×{h}×{w} | {stage.stride} | {h * w:,} | {depth} |")
    lines.append("")
    lines.append(
        "The classifier averages the stage-4 grid into one vector (global average pooling) "
        f"and maps it to {len(analysis.labels):,} class scores."
    )
    return "\n".join(lines)


def variants_table() -> str:
    rows = [
        "| Variant | Blocks per stage | Widths | Params | MACs | ImageNet top-1 |",
        "|---|---|---|---|---|---|",
    ]
    for v in HUB_VARIANTS.values():
        rows.append(
            f"| {v.name.upper()} | {_joined(v.depths)} | {_joined(v.hidden_sizes)} | {v.params_m:g} M | "
            f"{v.macs_g:.1f} G | {v.top1:g} % |"
        )
    return "\n".join(rows)


def _md(text: str) -> str:
    """Text from a model or a user, made inert in Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>|#])", r"\\\1", str(text))


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

def public_message(exc: BaseException) -> str:
    """An error message fit for the page: folder names instead of absolute paths, HTML escaped
    (Gradio renders error messages as HTML)."""
    return html.escape(without_paths(str(exc)), quote=False)


def _user_error(exc: BaseException) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, PoolFormerDemoError):
        logger.info("request refused: %s", exc)
        return gr.Error(public_message(exc), print_exception=False)
    logger.exception("analysis failed")
    return gr.Error(GENERIC_ERROR, print_exception=False)


# ---------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------


def _run(image, variant: str, target, view: str, opacity: float, stage: int = DEEPEST_STAGE) -> tuple:
    try:
        name = get_variant(variant).name
        analysis = analyze(image, name, target=target, cache=model_cache)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
        raise _user_error(exc) from None
    session = Session(image=image, variant=name, analysis=analysis, stage=stage)
    return outputs_for(session, view, opacity)


def outputs_for(session: Session, view: str = DEFAULT_VIEW, opacity: float = DEFAULT_OPACITY) -> tuple:
    """All the result components for one analysis, in the order of the `/analyze` endpoint."""
    analysis = session.analysis
    return (
        label_value(analysis),
        feature_gallery(analysis, view),
        overlay_gallery(analysis, opacity),
        large_overlay(analysis, session.stage, opacity),
        target_name(analysis),
        target_markdown(analysis, session.stage),
        facts_markdown(analysis.variant, analysis),
        notes_markdown(analysis),
        shapes_markdown(analysis),
        session,
    )


def analyze_image(
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
        variant: s12, s24, s36, m36, m48 or demo.
        target: the class to explain (a name or an index); empty means the top prediction.
        view: how feature maps are drawn: "PCA (RGB)", "mean activation" or "top channels".
        opacity: how strongly the Grad-CAM heatmaps cover the image, 0 to 1.
    """
    target = target if target not in ("", None) else None
    return _run(image, variant, target, view, opacity)


def analyze_example(image: str | None, variant: str, view: str, opacity: float, progress=gr.Progress(track_tqdm=True)):
    """An example was clicked: analyse it for its top class."""
    return _run(image, variant, None, view, opacity)


def retarget(
    session: Session | None, target: str | None, view: str, opacity: float, progress=gr.Progress(track_tqdm=True)
):
    """Explain another class of the last analysed image, without uploading it again."""
    if session is None:
        raise gr.Error("Analyse an image first, then choose the class to explain.", print_exception=False)
    if target in ("", None, target_name(session.analysis)):
        return outputs_for(session, view, opacity)
    if not Path(session.image).is_file():
        raise gr.Error(
            "The last image is no longer on the server. Upload it again and re-run the analysis.", print_exception=False
        )
    names = display_names(session.analysis.labels)
    # A menu entry maps to its exact class; anything typed is resolved by the core (names, synonyms, indices).
    resolved = names.index(target) if target in names else target
    return _run(session.image, session.variant, resolved, view, opacity, session.stage)


def retarget_from_label(
    session: Session | None, view: str, opacity: float, evt: gr.SelectData, progress=gr.Progress(track_tqdm=True)
):
    """A row of the top-5 list was clicked: explain that class."""
    return retarget(session, evt.value, view, opacity)


def show_view(session: Session | None, view: str):
    """Switch how feature maps are drawn. Formatting only: the model does not run."""
    if session is None:
        return gr.skip()
    return feature_gallery(session.analysis, view)


def blend(session: Session | None, opacity: float):
    """Re-blend the Grad-CAM overlays at another opacity. Formatting only: the model does not run."""
    if session is None:
        return gr.skip(), gr.skip()
    return overlay_gallery(session.analysis, opacity), large_overlay(session.analysis, session.stage, opacity)


def pick_stage(session: Session | None, opacity: float, evt: gr.SelectData):
    """Show the clicked stage's overlay large. Formatting only: the model does not run."""
    if session is None:
        return gr.skip(), gr.skip(), gr.skip()
    stage = int(evt.index) + 1
    return (
        large_overlay(session.analysis, stage, opacity),
        target_markdown(session.analysis, stage),
        replace(session, stage=stage),
    )


def target_menu(session: Session | None):
    """Offer every class of the analysed model in the target menu."""
    if session is None:
        return gr.skip()
    names = display_names(session.analysis.labels)
    return gr.update(choices=list(names), value=target_name(session.analysis))


def clear_target():
    return gr.update(value=None)


# ---------------------------------------------------------------------------------------------
# Choices and defaults
# ---------------------------------------------------------------------------------------------


def demo_model_available() -> bool:
    return weights.weights_obtainable(VARIANTS[SHAPES_VARIANT_NAME])


def default_variant() -> str:
    """s12 when its weights can be had (a local folder, the HF cache, or a reachable hub), else the
    bundled demo model, so a machine with no network still opens on something that works."""
    s12 = get_variant(DEFAULT_VARIANT)
    cached = s12.name in (model_cache or weights.shared_cache()).cached_variants()
    if cached or weights.weights_obtainable(s12) or not demo_model_available():
        return DEFAULT_VARIANT
    return SHAPES_VARIANT_NAME


def variant_choices() -> list[tuple[str, str]]:
    return [(VARIANTS[name].title, name) for name in VARIANTS]


def example_photos() -> list[str]:
    return [str(p) for p in sorted(EXAMPLES_DIR.glob("*.jpg"))]


def example_shapes() -> list[str]:
    return [str(p) for p in sorted(EXAMPLES_DIR.glob("shapes_*.png"))]


# ---------------------------------------------------------------------------------------------
# Learn tab
# ---------------------------------------------------------------------------------------------

LEARN_INTRO = """\
## MetaFormer: the block matters more than the mixer

*MetaFormer is Actually What You Need for Vision* (Yu et al., CVPR 2022) argues that much of a
Transformer's success in vision comes from the general **block structure**, not from attention.
That structure, *MetaFormer*, has two residual sub-blocks:

1. **token mixing** – `Y = TokenMixer(Norm(X)) + X` exchanges information between positions;
2. **channel MLP** – `Z = MLP(Norm(Y)) + Y` (two linear layers with GELU, 4× expansion) works on each position alone.

Attention is one choice of token mixer, spatial MLPs another. To test the claim, the paper uses
about the simplest mixer there is.

## PoolFormer: pooling as the token mixer

    TokenMixer(x) = AvgPool(x) − x        # 3×3 window, stride 1, padding 1, count_include_pad=False

* **Average pooling** mixes each token with its 3×3 neighbours. It has **no parameters**, and its
  cost grows linearly with the number of tokens (attention's grows quadratically).
* **Stride 1** with padding keeps the feature map's size, so the block's output can be added to its input;
  `count_include_pad=False` averages only real neighbours, so borders are not darkened by zero padding.
* **`− x`**: the block already adds its input back through the residual connection, so the mixer
  subtracts it: the sub-block adds `AvgPool(Norm(X)) − Norm(X)` to `X`, i.e. only what the neighbours
  contribute beyond the token itself.
* Norm is Group Normalization with one group (statistics over channels and positions); each
  residual branch is scaled by a learnable per-channel **layer scale**.

Like a CNN, PoolFormer is **hierarchical**: four stages at 1/4, 1/8, 1/16 and 1/32 of the input
resolution. A patch embedding starts each stage (7×7 convolution with stride 4 before stage 1,
3×3 with stride 2 before the others), and stages 1–4 hold blocks in the ratio 1 : 1 : 3 : 1.
With nothing but pooling, PoolFormer-M36 reaches 82.1 % ImageNet top-1, 0.3 points above DeiT-B and
1.1 above ResMLP-B24, with 35 % / 52 % fewer parameters and 50 % / 62 % fewer MACs.

### The variants
"""

LEARN_OUTRO = """\
Figures from the paper (ImageNet-1k, 224 px input). S-models use widths 64/128/320/512, M-models 96/192/384/768.
The *demo* model in this app is a small PoolFormer trained on synthetic shapes, so the app works offline.

### Reading the pictures on the *Explore* tab
* **Feature maps**: the output of each stage's last block. *PCA (RGB)* paints the three main directions in
  which positions' channel vectors differ as red, green and blue (same colour ≈ treated alike);
  *mean activation* averages all channels; *top channels* shows the 16 most active channels.
* **Grad-CAM** (Selvaraju et al., 2017): each channel of a stage is weighted by the average gradient of the
  chosen class's score with respect to it; the weighted sum, with negatives cut off, shows where the evidence for
  that class lies. Deeper stages are coarser (stride 32 means one cell per 32×32 pixels) but more class-specific.
"""


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1480px !important; margin: 0 auto !important; }
#app-header h1 { margin: 0; }
#app-header p { margin: 2px 0 0; opacity: 0.8; }
#target-info { min-height: 3em; }
#facts table { font-size: 0.88em; width: 100%; }
#facts td, #facts th { padding: 2px 8px; text-align: left; }
#cam-large img { width: 100%; height: 100%; object-fit: contain; }
/* Stage galleries: no scroll box, captions below each picture instead of over it. */
.stage-gallery .fixed-height { min-height: 0 !important; max-height: none !important; height: auto !important; }
.stage-gallery .grid-wrap { overflow-y: visible !important; padding-top: 2.4rem !important; }
.stage-gallery .thumbnail-item {
  aspect-ratio: auto !important; height: auto !important; display: flex; flex-direction: column;
}
.stage-gallery .thumbnail-item img { aspect-ratio: 1 / 1; width: 100%; height: auto; object-fit: contain; }
.stage-gallery .caption-label {
  position: static !important; max-width: 100% !important; white-space: normal !important; border: none !important;
  background: transparent !important; font-size: 12px; text-align: center !important; padding: 4px 2px !important;
}
"""


def _theme():
    # System fonts: the page needs nothing from outside the server.
    return gr.themes.Soft(
        primary_hue="indigo",
        secondary_hue="sky",
        neutral_hue="slate",
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


def stage_gallery(label: str, elem_id: str, **options) -> gr.Gallery:
    """A row of four pictures, one per stage, captioned with the stage's shape and stride."""
    return gr.Gallery(
        label=label,
        columns=4,
        height="auto",
        object_fit="contain",
        format="png",
        interactive=False,
        elem_id=elem_id,
        elem_classes=["stage-gallery"],
        **options,
    )


def build_demo() -> gr.Blocks:
    """The app, with its queue configured. Launch it with `demo.launch(**launch_kwargs())`."""
    initial_variant = default_variant()
    model_events = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY_LIMIT}
    # Formatting is cheap and must not wait behind a model run.
    format_events = {"concurrency_limit": None, "api_visibility": "private", "show_progress": "hidden"}

    # analytics_enabled=False: no usage reports or version checks leave the server.
    with gr.Blocks(title=TITLE, delete_cache=DELETE_CACHE, fill_width=True, analytics_enabled=False) as demo:
        session = gr.State(None, time_to_live=SESSION_TTL_S)
        gr.Markdown(
            f"# {TITLE}\nTop-5 predictions, stage-by-stage feature maps and Grad-CAM for "
            "[PoolFormer](https://arxiv.org/abs/2111.11418), "
            "the MetaFormer whose token mixer is plain average pooling.",
            elem_id="app-header",
        )
        with gr.Tabs():
            with gr.Tab("Explore", id="explore"):
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
                            example_photos(),
                            inputs=[image],
                            label="Photos (ImageNet models)",
                            examples_per_page=8,
                            api_visibility="private",
                        )
                        shapes_examples = None
                        if demo_model_available() and example_shapes():
                            shapes_examples = gr.Examples(
                                [[path, SHAPES_VARIANT_NAME] for path in example_shapes()],
                                inputs=[image, variant],
                                label="Shapes (demo model)",
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
                            facts_markdown(get_variant(initial_variant)), label="Model facts", elem_id="facts"
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
            with gr.Tab("Learn", id="learn"):
                gr.Markdown(LEARN_INTRO + variants_table() + "\n\n" + LEARN_OUTRO)
                journey = gr.Markdown(shapes_markdown(), label="Shapes through the stages", elem_id="journey")

        results = [label, feature_maps, cam_gallery, cam_large, target, target_info, facts, notes, journey, session]

        analysed = run.click(
            analyze_image,
            inputs=[image, variant, target, view, opacity],
            outputs=results,
            api_name="analyze",
            show_progress_on=[label, cam_large],
            **model_events,
        )
        label.select(
            retarget_from_label,
            inputs=[session, view, opacity],
            outputs=results,
            api_visibility="private",
            show_progress_on=[cam_large],
            **model_events,
        )
        target.input(
            retarget,
            inputs=[session, target, view, opacity],
            outputs=results,
            api_visibility="private",
            show_progress_on=[cam_large],
            **model_events,
        )
        example_runs = [
            examples.load_input_event.then(
                analyze_example,
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
                target_menu, inputs=session, outputs=target, queue=False, api_visibility="private",
                show_progress="hidden",
            )
        view.change(show_view, inputs=[session, view], outputs=feature_maps, **format_events)
        opacity.input(
            blend, inputs=[session, opacity], outputs=[cam_gallery, cam_large], trigger_mode="always_last",
            **format_events,
        )
        cam_gallery.select(
            pick_stage, inputs=[session, opacity], outputs=[cam_large, target_info, session], **format_events
        )
        # A new picture or model starts from its own top class.
        image.input(clear_target, outputs=target, queue=False, api_visibility="private")
        variant.input(clear_target, outputs=target, queue=False, api_visibility="private")

    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    return demo


def launch_kwargs(**overrides) -> dict:
    """How the app is served; app.py and the tests both launch with these."""
    kwargs = {
        # Local by default; Spaces and containers set GRADIO_SERVER_NAME=0.0.0.0.
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(os.environ["GRADIO_SERVER_PORT"]) if os.environ.get("GRADIO_SERVER_PORT") else None,
        "max_file_size": MAX_FILE_SIZE,
        # Example files become component values and are served from Gradio's cache; nothing else is.
        "allowed_paths": [],
        "state_session_capacity": STATE_SESSION_CAPACITY,
        "show_error": False,
        "enable_monitoring": False,
        "theme": _theme(),
        "css": CSS,
    }
    kwargs.update(overrides)
    return kwargs

