"""The page's plumbing, read from the built app and its sources: the browser's functions in one
namespace, Gradio's internals in one module, tabs that hand over their parts, one way to expose an
endpoint; and what a teacher sees: plots drawn again for a projector, the lesson's step list, the
knockout note, the models Compare opens on."""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from matplotlib.text import Text
from paths import PACKAGE

from poolformer_demo import ModelCache
from poolformer_demo.faithfulness import Curves, FaithfulnessReport, FaithfulnessSettings, RandomBaseline
from poolformer_demo.plots import PRESENTER_SCALE, faithfulness_figure
from poolformer_demo.shapes.lab_results import load_reference, plot_curves, reference_path
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui.kit.language import LanguageSection
from poolformer_demo.ui.kit.view import Session
from poolformer_demo.ui.tabs.compare import view as compare_view
from poolformer_demo.ui.tabs.inside import lab_view
from poolformer_demo.ui.tabs.inside.page import InsideTab
from poolformer_demo.ui.tabs.lesson import view as lesson_view
from poolformer_demo.ui.tabs.lesson.page import LessonTab

UI = PACKAGE / "ui"
PAGE_JS = (UI / "static" / "page.js").read_text()
STYLE = (UI / "static" / "style.css").read_text()
# Gradio's own markup: its classes and the elements it draws.
GRADIO_MARKUP = re.compile(
    r"\.gradio-container|\.row\b|\.block\b|\.form\b|\.prose\b|\.contain\b|gallery-item|upload-container|"
    r"\[role=.?tab|footer|\.tab-"
)


@pytest.fixture(scope="module")
def demo():
    return ui_app.build_demo(cache=ModelCache(), shapes_available=True)


def namespace_functions() -> set[str]:
    """The names `window.PoolFormer` exposes: the object page.js returns."""
    returned = re.search(r"return \{(.*?)\};\s*\}\)\(\);\s*$", PAGE_JS, re.S)
    return {name.strip() for name in returned.group(1).split(",") if name.strip()}


def test_every_script_of_the_page_is_a_one_line_call_to_a_function_of_page_js(demo):
    config = demo.config
    scripts = [d["js"] for d in config["dependencies"] if d.get("js")]
    # gr.HTML's own default script (a click trigger nobody listens to) is Gradio's, not the page's.
    gradio_default = inspect.signature(gr.HTML).parameters["js_on_load"].default
    loads = [c.get("props", {}).get("js_on_load") for c in config["components"]]
    scripts += [script for script in loads if script and script != gradio_default]
    defined = namespace_functions()
    called = set()
    for script in scripts:
        assert "\n" not in script.strip(), f"a script of more than one line in Python: {script[:80]!r}"
        call = re.fullmatch(r"(?:\([\w, ]*\) => )?PoolFormer\.(\w+)\([\w, ]*\)", script.strip())
        # Which tab is open is told by each tab's own select event, as a plain value.
        tab = re.fullmatch(r"\(\) => '(\w+)'", script.strip())
        assert call or tab, f"not a call to page.js: {script!r}"
        if call:
            called.add(call.group(1))
    assert called <= defined, f"called but not defined in page.js: {called - defined}"
    assert {
        "results",
        "field",
        "lessonSteps",
        "scrollable",
        "setCamMethod",
        "copyLink",
        "present",
        "markStopped",
    } <= called


def test_page_js_and_style_css_touch_only_the_apps_own_markup():
    assert not GRADIO_MARKUP.search(PAGE_JS), GRADIO_MARKUP.search(PAGE_JS)
    rules = re.sub(r"/\*.*?\*/", "", STYLE, flags=re.S)
    assert not GRADIO_MARKUP.search(rules), GRADIO_MARKUP.search(rules)
    # What does reach Gradio's markup lives, with its reasons, in gradio_patches.py.
    from poolformer_demo.ui.kit import gradio_patches

    assert GRADIO_MARKUP.search(gradio_patches.GRADIO_CSS) and "gallery-item" in gradio_patches.GRADIO_JS
    served = ui_app.launch_kwargs()
    assert gradio_patches.GRADIO_CSS in served["css"] and gradio_patches.GRADIO_JS in served["head"]


def test_gradio_internals_and_endpoints_each_have_one_place_in_the_ui_package():
    sources = {p: p.read_text() for p in UI.rglob("*.py")}
    internals = re.compile(r"load_input_event|\.api_info\s*=|\.preprocess\s*=")
    reaching = sorted(str(p.relative_to(UI)) for p, text in sources.items() if internals.search(text))
    assert reaching == ["kit/gradio_patches.py"]
    exposing = re.compile(r"api_name=|gr\.api\(")
    exposers = sorted(str(p.relative_to(UI)) for p, text in sources.items() if exposing.search(text))
    assert exposers == ["kit/endpoints.py"]


def test_tabs_hand_over_their_parts_instead_of_setting_attributes_for_later_readers(demo):
    tabs = {type(fn.fn.__self__).__name__: fn.fn.__self__ for fn in demo.fns.values() if hasattr(fn.fn, "__self__")}
    for name in ("ExploreTab", "LessonTab", "ExplainTab", "InsideTab"):
        left = {"controls", "refresh", "number", "outputs"} & set(vars(tabs[name]))
        assert not left, f"{name} still keeps {left} for others to read"
    with gr.Blocks():
        language = LanguageSection()
        language.render()
        parts = LessonTab(ModelCache(), None, Path(".")).render({}, gr.State(None), language)
    assert dataclasses.is_dataclass(parts) and parts.__dataclass_params__.frozen
    assert parts.show_event["outputs"][-1] is parts.number


def test_the_endpoints_are_the_same_named_ones_as_before(demo):
    named = {d["api_name"] for d in demo.config["dependencies"] if d.get("api_visibility") == "public"}
    expected = {"analyze", "explain", "sanity", "compare", "anatomy", "knockout", "receptive_field"}
    assert named == expected | {"lab_reference", "lab_run"}


# ---------------------------------------------------------------------------------------------
# Presenter mode: the plots drawn again with larger type
# ---------------------------------------------------------------------------------------------


def text_pixels(figure) -> list[tuple[float, str]]:
    """(size in pixels at the figure's resolution, text) of every non-empty text the figure draws."""
    figure.canvas.draw() if figure.canvas is not None else None
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    return [
        (t.get_fontsize() * figure.dpi / 72, t.get_text())
        for t in figure.findobj(Text)
        if t.get_text().strip() and t.get_visible()
    ]


def words(texts: list[tuple[float, str]]) -> set[str]:
    return {text for _, text in texts if not re.fullmatch(r"[−\-\d.,]+", text)}


def _report() -> FaithfulnessReport:
    fractions = np.linspace(0, 1, 5)
    methods = {name: Curves(fractions[::-1], fractions, 0.4, 0.6) for name in ("gradcam", "ig", "smoothgrad")}
    random = RandomBaseline(
        deletion=np.full((2, 5), 0.5),
        insertion=np.full((2, 5), 0.5),
        deletion_auc=np.array([0.49, 0.51]),
        insertion_auc=np.array([0.48, 0.52]),
    )
    return FaithfulnessReport(1, fractions, methods, random, None, FaithfulnessSettings(steps=4), 0.1)


PRESENTER_PX = 18


@pytest.mark.parametrize("plot", ["faithfulness", "lab curves"])
def test_at_presenter_scale_every_text_of_a_plot_is_at_least_18_px_and_smaller_on_a_screen(plot):
    result, _ = load_reference(reference_path("shapes"))

    def draw(scale):
        if plot == "faithfulness":
            return faithfulness_figure(_report(), {"gradcam": "Grad-CAM", "ig": "Integrated Gradients"}, scale)
        return plot_curves(result, lab_view.reference_title(result), scale=scale)

    room, screen = text_pixels(draw(PRESENTER_SCALE)), text_pixels(draw(1.0))
    assert min(size for size, _ in room) >= PRESENTER_PX, sorted(room)[:3]
    assert min(size for size, _ in screen) < PRESENTER_PX  # the screen's copy is the smaller one
    # The same plot redrawn: its titles, labels and legend (tick values may thin out as they grow).
    assert words(room) == words(screen)


def test_the_lab_and_faithfulness_views_carry_both_copies_of_their_plots():
    from poolformer_demo.ui.tabs.explain import trust

    result, rows = load_reference(reference_path("shapes"))
    reference = lab_view.reference_html(result, rows, lab_view.curves_uri(result), "command")
    faithfulness = trust.faithfulness_html(_report(), {}, "data:image/png;base64,AA==")
    for page in (reference, faithfulness):
        assert page.count('class="pf-for-screen"') == 1 and page.count('class="pf-for-room"') == 1
    assert "MetaFormer Baselines" in reference and "IdentityFormer-S12" in reference


# ---------------------------------------------------------------------------------------------
# The lesson's step list, the knockout note, Compare's defaults
# ---------------------------------------------------------------------------------------------


def test_the_step_list_is_a_button_per_step_with_the_current_one_marked():
    progress = lesson_view.progress_html(4)
    buttons = re.findall(r'<button type="button" data-step="(\d+)"( aria-current=step)?>', progress)
    assert [int(n) for n, _ in buttons] == list(range(1, lesson_view.STEP_COUNT + 1))
    assert [int(n) for n, current in buttons if current] == [4]


@pytest.mark.parametrize(("number", "back", "forward"), [(1, False, True), (5, True, True), (10, True, False)])
def test_back_is_off_on_the_first_step_and_next_on_the_last(number, back, forward):
    back_update, next_update = LessonTab.nav_buttons(number)
    assert (back_update["interactive"], next_update["interactive"]) == (back, forward)


def test_a_step_chosen_in_the_list_is_the_step_shown(monkeypatch):
    lesson = LessonTab(ModelCache(), None, Path("."))
    monkeypatch.setattr(lesson, "show_step", lambda session, number, lang: ("progress", "card", None, number))
    chosen = gr.SelectData(None, {"index": 7, "value": 7})
    assert lesson.pick(None, 3, "en", chosen)[-1] == 7


def test_the_knockout_note_follows_the_ticks_and_leaves_the_mixer_text_when_only_the_mlp_is_off():
    star = Session("star.png", "key", "shapes", ("a",), 0)
    mixer_note = InsideTab.knockout_note(star, [], [])
    assert "token mixer" in mixer_note
    assert InsideTab.knockout_note(star, ["1", "2", "3", "4"], []) == mixer_note
    assert InsideTab.knockout_note(star, [], ["1", "2", "3", "4"]) == ""
    assert InsideTab.knockout_note(star, ["2"], ["4"]) == mixer_note


def test_compare_opens_on_two_models_that_answer_the_same_picture_or_on_none():
    assert compare_view.default_variants(["s12", "m36", "shapes", "pairs"]) == ["s12", "m36"]
    assert compare_view.variants_info(["s12", "m36", "shapes", "pairs"]) is None
    # Offline: the shapes and pairs models know different classes; neither is ticked, and the page says why.
    assert compare_view.default_variants(["shapes", "pairs"]) == []
    assert "never answer the same picture" in compare_view.variants_info(["shapes", "pairs"])
