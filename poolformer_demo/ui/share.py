"""Shareable views: a link that reopens the page on the same example, model, tab, lesson step,
block, knockouts and CAM method, and can hide the controls for a class.

The state travels in the URL's query (`?example=shapes_star.png&model=shapes&tab=lesson&step=4`).
Uploaded images never do: a link names a bundled example or no image at all, and the page says so.
The first half of this module is plain functions (tested without a server); `ShareSection` wires
them into the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import gradio as gr

from ..cams import CAM_METHODS
from ..variants import SHAPES_VARIANT_NAME, STAGE_COUNT, TASK_VARIANTS, VARIANTS, get_variant
from .kit.pictures import image_key
from .kit.view import Session

TABS = ("explore", "lesson", "explain", "compare", "inside", "learn")
UPLOAD_NOTE = (
    "Links carry a bundled example, never an uploaded image: a link made after an upload opens on the same "
    "model and view, without the picture."
)
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
) -> tuple[str, str]:
    """(query string, a line for the page) for the view as it is now; the tab is added by the browser."""
    params: dict[str, str] = {}
    example = example_of(session, examples_dir)
    if example:
        params["example"] = example
    if session is not None:
        params["model"] = session.variant
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
    uploaded = session is not None and example is None
    note = f"Copied. {UPLOAD_NOTE}" if uploaded else "Copied: the link reopens this view."
    return urlencode(params, safe=","), note


# The browser's half: the full link from the query the server made, the tab open now and whether the
# controls are to be hidden; copied to the clipboard where the page may.
COPY_JS = """
(query, note, hide) => {
  const params = new URLSearchParams(query);
  if (document.documentElement.dataset.pfPresent === 'on') params.set('present', 'on');
  const tab = document.querySelector('[role=tab][aria-selected=true]');
  if (tab && tab.dataset.tabId) params.set('tab', tab.dataset.tabId);
  if (hide) params.set('controls', 'hidden');
  const url = `${location.origin}${location.pathname}?${params.toString().replaceAll('%2C', ',')}`;
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
  return [url, note];
}
"""
# Presenter mode is a look too: the whole page, plots included, drawn larger for the back of a room.
PRESENT_JS = """
(on) => {
  if (on) document.documentElement.dataset.pfPresent = 'on';
  else delete document.documentElement.dataset.pfPresent;
  return [];
}
"""
# Hidden controls are a look, set in the browser before anything else draws.
CONTROLS_JS = """
() => {
  if (new URLSearchParams(location.search).get('controls') === 'hidden') {
    document.documentElement.dataset.pfControls = 'hidden';
  }
  if (new URLSearchParams(location.search).get('present') === 'on') {
    document.documentElement.dataset.pfPresent = 'on';
  }
}
"""


class ShareSection:
    """The "Copy link" row and the page-load event that restores a linked view."""

    def __init__(self, examples_dir: Path, explore, lesson, inside, explain):
        self.examples_dir = Path(examples_dir)
        self.examples = {p.name for p in self.examples_dir.glob("*") if p.is_file()}
        self.explore, self.lesson, self.inside, self.explain = explore, lesson, inside, explain

    def render(self) -> None:
        with gr.Row(elem_id="share-row", equal_height=True):
            copy = gr.Button("Copy link to this view", elem_id="share-button", scale=0, min_width=200)
            hide = gr.Checkbox(False, label="Link hides the controls", elem_id="share-hide", scale=0, min_width=200)
            present = gr.Checkbox(
                False, label="Presenter mode (large type)", elem_id="present-mode", scale=0, min_width=220
            )
            link = gr.Textbox(
                "", label="Link", elem_id="share-link", interactive=False, buttons=["copy"], scale=3, min_width=220
            )
        note = gr.Markdown(UPLOAD_NOTE, elem_id="share-note")
        self.parts = {"copy": copy, "hide": hide, "link": link, "note": note, "present": present}

    def make_link(self, session, step, stage, block, mixer_off, mlp_off, method):
        return link_query(session, self.examples_dir, step, stage, block, mixer_off, mlp_off, method)

    def restore(self, request: gr.Request):
        """The controls a link sets, and the state the later steps of the load read."""
        state = parse_query(dict(request.query_params) if request else {}, self.examples)
        example = state.get("example")
        model = state.get("model") or example_model(example)
        stage = state.get("stage")
        skip = gr.skip()
        block_update = skip
        if stage is not None:
            from .tabs.inside.view import block_choices

            choices = block_choices(model or SHAPES_VARIANT_NAME, stage)
            block_update = gr.update(choices=choices, value=state.get("block", 1))
        return (
            {**state, "model": model} if state else None,
            gr.Tabs(selected=state["tab"]) if "tab" in state else skip,
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

    def analyse(self, state, image, variant, session):
        """Analyse the linked example, as a click on it would."""
        if not state or "example" not in state:
            return (gr.skip(),) * len(self.explore.controls["event"]["outputs"])
        return self.explore.show(image, variant, None, session)

    def open_step(self, state, session, number):
        if not state or state.get("tab") != "lesson":
            return gr.skip(), gr.skip(), gr.skip()
        return self.lesson.show_step(session, number)

    def wire(self, demo: gr.Blocks, tabs: gr.Tabs, session: gr.State, model_events: dict) -> None:
        explore, inside = self.explore.controls, self.inside.controls
        lesson_number = self.lesson.number
        parts = self.parts
        private = {"api_visibility": "private"}
        # The controls a link carries, in the order make_link reads and restore returns them.
        shared_controls = [
            inside["stage"],
            inside["block"],
            inside["mixer_off"],
            inside["mlp_off"],
            self.explain.controls["method"],
        ]
        # Plain values the browser's half reads (a State's value stays on the server).
        link_query_text = gr.Textbox("", visible=False)
        link_note = gr.Textbox("", visible=False)
        parts["copy"].click(
            self.make_link,
            inputs=[session, lesson_number, *shared_controls],
            outputs=[link_query_text, link_note],
            queue=False,
            **private,
        ).then(
            None,
            inputs=[link_query_text, link_note, parts["hide"]],
            outputs=[parts["link"], parts["note"]],
            js=COPY_JS,
            **private,
        )
        parts["present"].change(None, inputs=parts["present"], js=PRESENT_JS, **private)
        linked = gr.State(None)
        lesson_outputs = self.lesson.outputs
        demo.load(None, js=CONTROLS_JS, **private)
        demo.load(
            self.restore,
            outputs=[
                linked,
                tabs,
                explore["image"],
                explore["variant"],
                lesson_number,
                *shared_controls,
                parts["present"],
            ],
            queue=False,
            **private,
        ).then(self.analyse, inputs=[linked, explore["image"], explore["variant"], session], **explore["event"]).then(
            self.open_step,
            inputs=[linked, session, lesson_number],
            outputs=lesson_outputs,
            **private,
            **model_events,
        )
