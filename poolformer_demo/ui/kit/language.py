"""The visitor's language on the page: the menu, the words of every component, and what each tab
says again from what it last showed when the language changes (nothing is computed again).

The language is chosen when the page opens: a link's `?lang=` first, then the browser's languages
(`navigator.languages`, which page.js reads), then English. The menu switches it at once. Each tab
adds a retelling (a function of the messages and of the results it keeps in its States); one event
runs them all and the component words, so a switch is one round trip. The document's `lang` and
`dir` follow (page.js), so Arabic mirrors the page while pictures, plots and code stay left to right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import gradio as gr

from ... import i18n
from ...i18n import Messages

EN = i18n.english()

# The browser's halves (static/page.js).
BROWSER_LANGUAGES_JS = "(known) => PoolFormer.browserLanguages(known)"
SET_LANGUAGE_JS = "(page) => PoolFormer.setLanguage(page)"

Word = str | Callable[[Messages], object]
"""A catalog key, or a function of the messages for words that depend on more than the language."""


def _say(word: Word, t: Messages):
    return word(t) if callable(word) else t.text(word)


class Wording:
    """Components whose words come from the catalog: said in English when the page is built, and
    said again in the chosen language when it changes (label, info, a button's or a text's value,
    the choices of a menu)."""

    def __init__(self) -> None:
        self._parts: list[tuple[gr.components.Component | gr.blocks.BlockContext, dict[str, Word]]] = []

    def __call__(self, component, **words: Word):
        """Give `component` its English words now (`label="explore.image"`, `choices=lambda t: [...]`),
        and remember them for a switch. Returns the component."""
        for prop, word in words.items():
            said = _say(word, EN)
            if prop == "choices":
                said = [tuple(choice) for choice in said]
            setattr(component, prop, component.postprocess(said) if prop == "value" else said)
            # Gradio rebuilds a component from its constructor's arguments on every later update
            # (`interactive=False`, a new label): the words must be among them, as if passed there.
            constructor = getattr(component, "_constructor_args", None)
            if constructor:
                constructor[0][prop] = said
        self._parts.append((component, words))
        return component

    def components(self) -> list:
        return [component for component, _ in self._parts]

    def updates(self, t: Messages) -> list:
        return [gr.update(**{prop: _say(word, t) for prop, word in words.items()}) for _, words in self._parts]


@dataclass(frozen=True)
class Retelling:
    """One tab's views said again: `fn(t, *inputs)` returns a value for each of `outputs`, from the
    results the tab keeps in `inputs` (States)."""

    fn: Callable
    inputs: Sequence
    outputs: Sequence

    @classmethod
    def combined(cls, *retellings: Retelling) -> Retelling:
        """Several retellings as one, each fed its own inputs."""

        def retell(t: Messages, *values):
            said, start = [], 0
            for retelling in retellings:
                count = len(retelling.inputs)
                said += list(retelling.fn(t, *values[start : start + count]))
                start += count
            return tuple(said)

        inputs = [c for r in retellings for c in r.inputs]
        return cls(retell, inputs, [c for r in retellings for c in r.outputs])


def page_settings(t: Messages) -> dict:
    """What the browser's half sets on the document: the language, its direction, and the few words
    page.js writes itself."""
    return {
        "lang": t.language.code,
        "dir": t.language.direction,
        "words": {
            "scrolls": t.text("page.scrolls_sideways"),
            "stopped": t.text("lab.live.stopped_cell"),
            "example": t.text("page.example_image", name="{name}"),
        },
    }


def language_choices() -> list[tuple[str, str]]:
    """The menu: each language in its own name."""
    return [(lang.name, lang.code) for lang in i18n.languages()]


@dataclass
class LanguageSection:
    """The menu, the component words, and the tabs' retellings, wired into one event."""

    words: Wording = field(default_factory=Wording)
    retellings: list[Retelling] = field(default_factory=list)
    menu: gr.Dropdown | None = None

    def render(self) -> gr.Dropdown:
        self.menu = self.words(
            gr.Dropdown(
                choices=language_choices(),
                value=i18n.DEFAULT_LANGUAGE,
                elem_id="language",
                scale=0,
                min_width=180,
            ),
            label="page.language",
        )
        return self.menu

    def add(self, retelling: Retelling) -> None:
        self.retellings.append(retelling)

    def retell(self, code: str, *values) -> list:
        """Every component's words and every tab's views in language `code`."""
        t = i18n.messages(code)
        views = Retelling.combined(*self.retellings).fn(t, *values)
        return [*self.words.updates(t), *views, page_settings(t)]

    def choose(self, browser: str | None, request: gr.Request):
        """The language the page opens in: a link's `?lang=`, then the browser's, then English."""
        query = dict(request.query_params) if request is not None else {}
        return i18n.negotiate(query.get("lang"), browser)

    def wire(self, demo: gr.Blocks):
        """The switch on the menu, and the choice when the page opens; returns the opening event, which
        a link's restoring follows (so what it runs is said in the chosen language)."""
        settings = gr.JSON(visible=False)
        inputs = [self.menu, *(c for r in self.retellings for c in r.inputs)]
        outputs = [*self.words.components(), *(c for r in self.retellings for c in r.outputs), settings]
        events = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
        self.menu.input(self.retell, inputs=inputs, outputs=outputs, **events).then(
            None, inputs=settings, js=SET_LANGUAGE_JS, **events
        )
        browser = gr.Textbox("", visible=False)
        chosen = demo.load(self.choose, inputs=browser, outputs=self.menu, js=BROWSER_LANGUAGES_JS, **events)

        def opening(code: str, *values):
            # English is what the page was built in: only the document's settings are sent.
            if code == i18n.DEFAULT_LANGUAGE:
                return [*(gr.skip() for _ in outputs[:-1]), page_settings(EN)]
            return self.retell(code, *values)

        opening.__name__ = "retell_opening"
        return chosen.then(opening, inputs=inputs, outputs=outputs, **events).then(
            None, inputs=settings, js=SET_LANGUAGE_JS, **events
        )
