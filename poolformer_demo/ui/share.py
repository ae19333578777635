"""Shareable views: a link that reopens the page on the same example, model, tab, lesson step,
block, knockouts and CAM method, finished (what it restores is run), and can hide the controls and
turn presenter mode on for a class.

The state travels in the URL's query (`?example=shapes_star.png&model=shapes&tab=lesson&step=4`),
with the page's language (`lang=ko`: kit/language.py reads it when the page opens). Uploaded images
never do: a link names a bundled example or no image at all, and the page says so.
The first half of this module is plain functions (tested without a server); `ShareSection` wires
them into the page.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import gradio as gr

from .. import i18n
from ..cams import CAM_METHODS
from ..variants import SHAPES_VARIANT_NAME, STAGE_COUNT, TASK_VARIANTS, VARIANTS, get_variant
from .kit.language import LanguageSection
from .kit.pictures import image_key
from .kit.view import Session
from .tabs.inside.view import block_choices

TABS = ("explore", "lesson", "explain", "compare", "inside", "learn")
HIDDEN = "hidden"


def _stages(value: str | None) -> list[str]:
    stages = []
    for part in (value or "").split(","):
        if part.strip().isdigit() and 1 <= int(part) <= STAGE_COUNT:
            stages.append(str(int(part)))
    return sorted(set(stages))


def _whole(value: str | None, low: int, high: int) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    number = int(value)
    return number if low <= number <= high else None


def parse_query(query: Mapping[str, str], examples: set[str]) -> dict:
    """The view a link asks for, from its query parameters; anything unknown or malformed is dropped."""
    state: dict = {}
    example = query.get("example")
    if example in examples:
        state["example"] = example
    model = (query.get("model") or "").lower()
    if model in VARIANTS:
        state["model"] = model
    if query.get("tab") in TABS:
        state["tab"] = query["tab"]
    step = _whole(query.get("step"), 1, 100)
    if step is not None:
        state["step"] = step
    stage = _whole(query.get("stage"), 1, STAGE_COUNT)
    if stage is not None:
        state["stage"] = stage
        model = state.get("model") or example_model(state.get("example")) or SHAPES_VARIANT_NAME
        depth = get_variant(model).depths[stage - 1]
        block = _whole(query.get("block"), 1, depth)
        if block is not None:
            state["block"] = block
    for part in ("mixer_off", "mlp_off"):
        stages = _stages(query.get(part))
        if stages:
            state[part] = stages
    if query.get("method") in CAM_METHODS:
        state["method"] = query["method"]
    if query.get("present") == "on":
        state["present"] = True
    if query.get("controls") == HIDDEN:
        state["controls"] = HIDDEN
    return state


def example_of(session: Session | None, examples_dir: Path) -> str | None:
    """The bundled example the session's image is, by content; None for an upload or no image."""
    if session is None:
        return None
    for path in sorted(Path(examples_dir).glob("*")):
        if path.is_file() and image_key(path) == session.image_key:
            return path.name
    return None


def example_model(example: str | None) -> str | None:
    """The bundled model an example of a generated task runs on ("shapes_star.png" -> shapes); None for photos."""
    if not example:
        return None
    return TASK_VARIANTS.get(example.split("_", 1)[0])


def link_query(
    session: Session | None,
    examples_dir: Path,
    step=None,
    stage=None,
    block=None,
    mixer_off=(),
    mlp_off=(),
    method=None,
    tab: str | None = None,
    present: bool = False,
    hide: bool = False,
    lang: str | None = None,
) -> tuple[str, str]:
    """(query string, a line for the page in language `lang`) for the view as it is now; the browser
    adds its address."""
    params: dict[str, str] = {}
    example = example_of(session, examples_dir)
    if example:
        params["example"] = example
    if session is not None:
        params["model"] = session.variant
    if tab in TABS:
        params["tab"] = tab
    if step:
        params["step"] = str(int(step))
    if stage:
        params["stage"] = str(int(stage))
    if block:
        params["block"] = str(int(block))
    if mixer_off:
        params["mixer_off"] = ",".join(sorted(str(s) for s in mixer_off))
    if mlp_off:
        params["mlp_off"] = ",".join(sorted(str(s) for s in mlp_off))
    if method:
        params["method"] = method
    if present:
        params["present"] = "on"
    if hide:
        params["controls"] = HIDDEN
    t = i18n.messages(lang)
    if lang:
        # The page's language is part of the view: a link reopens it whatever the reader's browser says.
        params["lang"] = t.code
    uploaded = session is not None and example is None
    note = t.text("share.copied_upload") if uploaded else t.text("share.copied")
    return urlencode(params, safe=","), note


# The browser's halves (static/page.js): the link's address, copied where the page may; presenter mode.
COPY_JS = "(query, note) => PoolFormer.copyLink(query, note)"
PRESENT_JS = "(on) => PoolFormer.present(on)"


def when_linked(wanted, fn, outputs: int, needs_session: bool = True):
    """`fn(*inputs)` for a view the link asks for (`wanted(state)`), once its image is analysed
    (`inputs[0]` is the session) unless the view has a fallback of its own; otherwise every output
    is left as it is. Keeps `fn`'s kind (a generator stays a generator)."""

    def linked(state, inputs) -> bool:
        return bool(state) and wanted(state) and (inputs[0] is not None or not needs_session)

    if inspect.isgeneratorfunction(fn):

        def run(state, *inputs):
            if not linked(state, inputs):
                yield (gr.skip(),) * outputs
                return
            yield from fn(*inputs)

    else:

        def run(state, *inputs):
            return fn(*inputs) if linked(state, inputs) else (gr.skip(),) * outputs

    # Named after what it runs, for logs and for tests that find the app's handlers by name.
    run.__name__ = run.__qualname__ = f"linked_{fn.__name__}"
    return run


# Which views a link shows finished: those it names, and those of the tab it opens.
LINKED_VIEWS = {
    "lesson": lambda state: "step" in state or state.get("tab") == "lesson",
    "anatomy": lambda state: "stage" in state or state.get("tab") == "inside",
    "knockout": lambda state: "mixer_off" in state or "mlp_off" in state,
    "field": lambda state: state.get("tab") == "inside",
    "cams": lambda state: "method" in state or state.get("tab") == "explain",
    "compare": lambda state: state.get("tab") == "compare",
}


@dataclass(frozen=True)
class ShareParts:
    copy: gr.Button
    hide: gr.Checkbox
    present: gr.Checkbox
    link: gr.Textbox
    note: gr.Markdown


class ShareSection:
    """The "Copy link" row, and the page-load events that restore a linked view and run what it shows."""

    def __init__(self, examples_dir: Path, explore):
        self.examples_dir = Path(examples_dir)
        self.examples = {p.name for p in self.examples_dir.glob("*") if p.is_file()}
        self.explore = explore

    def render(self, language: LanguageSection) -> ShareParts:
        words = language.words
        with gr.Row(elem_id="share-row", equal_height=True):
            copy = words(gr.Button(elem_id="share-button", scale=0, min_width=200), value="share.copy")
            hide = words(gr.Checkbox(False, elem_id="share-hide", scale=0, min_width=200), label="share.hide")
            present = words(gr.Checkbox(False, elem_id="present-mode", scale=0, min_width=220), label="share.present")
            link = words(
                gr.Textbox("", elem_id="share-link", interactive=False, buttons=["copy"], scale=3, min_width=220),
                label="share.link",
            )
        note = words(gr.Markdown(elem_id="share-note"), value="share.upload_note")
        return ShareParts(copy=copy, hide=hide, present=present, link=link, note=note)

    def make_link(self, session, tab, present, hide, lang, step, stage, block, mixer_off, mlp_off, method):
        return link_query(
            session,
            self.examples_dir,
            step,
            stage,
            block,
            mixer_off,
            mlp_off,
            method,
            tab,
            bool(present),
            bool(hide),
            lang,
        )

    def restore(self, request: gr.Request):
        """The controls a link sets, and the state the later steps of the load read."""
        state = parse_query(dict(request.query_params) if request else {}, self.examples)
        example = state.get("example")
        model = state.get("model") or example_model(example)
        stage = state.get("stage")
        skip = gr.skip()
        block_update = skip
        if stage is not None:
            choices = block_choices(model or SHAPES_VARIANT_NAME, stage)
            block_update = gr.update(choices=choices, value=state.get("block", 1))
        return (
            {**state, "model": model} if state else None,
            gr.Tabs(selected=state["tab"]) if "tab" in state else skip,
            state.get("tab", skip),
            str(self.examples_dir / example) if example else skip,
            model or skip,
            state.get("step", skip),
            stage if stage is not None else skip,
            block_update,
            state.get("mixer_off", skip),
            state.get("mlp_off", skip),
            state.get("method", skip),
            state.get("present", skip),
        )

    def analyse(self, image, variant, session, shown=None, lang="en"):
        """Analyse the linked example, as a click on it would."""
        return self.explore.show(image, variant, None, session, shown, lang)

    def wire(
        self, opened, tabs: gr.Tabs, tab_items: dict[str, gr.Tab], share: ShareParts, parts, language: LanguageSection
    ) -> None:
        """Wire the link's events, after `opened` (the event that puts the page in its language, so
        what a link runs is said in it). `parts` holds the tabs' parts (explore, lesson, explain,
        inside, compare): the controls a link sets and the events that show what it links to."""
        explore, lesson, explain, inside, compare = (
            parts[name] for name in ("explore", "lesson", "explain", "inside", "compare")
        )
        private = {"api_visibility": "private"}
        # The tab open now, as a plain value the link reads: each tab says so when it is opened.
        open_tab = gr.Textbox(TABS[0], visible=False)
        for tab_id, item in tab_items.items():
            item.select(None, outputs=open_tab, js=f"() => {tab_id!r}", **private)
        # The controls a link carries, in the order make_link reads and restore returns them.
        shared_controls = [inside.stage, inside.block, inside.mixer_off, inside.mlp_off, explain.method]
        # Plain values the browser's half reads (a State's value stays on the server).
        link_query_text = gr.Textbox("", visible=False)
        link_note = gr.Textbox("", visible=False)
        share.copy.click(
            self.make_link,
            inputs=[
                explore.session,
                open_tab,
                share.present,
                share.hide,
                language.menu,
                lesson.number,
                *shared_controls,
            ],
            outputs=[link_query_text, link_note],
            queue=False,
            **private,
        ).then(None, inputs=[link_query_text, link_note], outputs=[share.link, share.note], js=COPY_JS, **private)
        share.present.change(None, inputs=share.present, js=PRESENT_JS, **private)

        linked = gr.State(None)
        restored = opened.then(
            self.restore,
            outputs=[
                linked,
                tabs,
                open_tab,
                explore.image,
                explore.variant,
                lesson.number,
                *shared_controls,
                share.present,
            ],
            queue=False,
            **private,
        )
        # The linked example analysed, as a click on it would.
        analyse = when_linked(lambda state: "example" in state, self.analyse, len(explore.event["outputs"]), False)
        shown = restored.then(
            analyse,
            inputs=[linked, explore.image, explore.variant, explore.session, explore.shown, language.menu],
            **explore.event,
        )
        # Then every view the link asks for, finished: the knockout run with its ticks, the block
        # shown, the CAM method's maps drawn, the lesson's step measured, the ticked models compared.
        for key, event in (
            ("lesson", lesson.show_event),
            ("anatomy", inside.anatomy_event),
            ("knockout", inside.knockout_event),
            ("field", inside.field_event),
            ("cams", explain.cams_event),
            ("compare", compare.compare_event),
        ):
            event = dict(event)
            fn, inputs = event.pop("fn"), event.pop("inputs")
            run = when_linked(LINKED_VIEWS[key], fn, len(event["outputs"]), needs_session=key != "lesson")
            shown = shown.then(run, inputs=[linked, *inputs], **event)
