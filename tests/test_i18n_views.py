"""Every word a student reads comes from the catalog: no sentence is written in the views' code, the
Lesson and the Learn tab said in a pseudo language leave no English sentence, and saying a tab again
in another language runs no model."""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

import pytest
import torch
from pseudo_catalogs import write_pseudo_catalogs
from transformers.models.poolformer.modeling_poolformer import PoolFormerModel

import poolformer_demo
from poolformer_demo import i18n
from poolformer_demo.lesson import STEPS

PACKAGE = Path(poolformer_demo.__file__).parent
# The modules whose words a student reads: the page, the readings, and the core's views of the block.
VIEW_MODULES = sorted(
    [
        *(PACKAGE / "ui").rglob("*.py"),
        *(PACKAGE / "readings").rglob("*.py"),
        PACKAGE / "mixer_reading.py",
        PACKAGE / "diagram.py",
        PACKAGE / "lesson.py",
    ]
)
# Two or more words of letters side by side: the start of a sentence.
WORDS = re.compile(r"\b[A-Za-z][a-z]+(?:'[a-z]+)? [A-Za-z][a-z]+\b")
# Exceptions for programmers (never shown on the page: the page shows the core's errors, which
# remember their catalog key) and the log.
FOR_PROGRAMMERS = {"ValueError", "KeyError", "TypeError", "AttributeError", "RuntimeError", "FileExistsError"}
LOGGING = {"debug", "info", "warning", "error", "exception"}
# What is not a sentence for a student, each with why.
ALLOWED = {
    # ui/kit/gradio_patches.py: the CSS and the script that reach Gradio's markup (comments in them).
    "gradio_patches.py": "CSS and JavaScript",
    # The /analyze endpoint's description of its class input, read by API clients: the API stays English.
    "a class name or index; empty for the top class": "the JSON API",
    # The later paper's settings, as the core's PAPER_S12_ABLATIONS spells them (looked up, not shown).
    "identity (IdentityFormer-S12)": "a key of the core's data",
    "random mixing (RandFormer-S12)": "a key of the core's data",
    "pool size": "a key of the core's data",
    # The reference curves' title is drawn inside the plot: words in plots stay English.
    " steps, seeds ": "a plot's title",
    "|mixer output|": "a formula",
    "pf-mixer-figure pf-mixer-cost": "CSS classes",
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'": "the handout's CSP",
}


def _skipped_nodes(tree: ast.AST) -> set[int]:
    """Docstrings, and every string inside a log call or an exception raised for a programmer."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    skipped.add(id(statement.value))
        call = node.exc if isinstance(node, ast.Raise) else node if isinstance(node, ast.Call) else None
        if isinstance(call, ast.Call):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            logger = isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", "") == "logger"
            if name in FOR_PROGRAMMERS or (logger and name in LOGGING):
                skipped.update(id(inner) for inner in ast.walk(call))
    return skipped


def markup_removed(text: str) -> str:
    """A string of code without its HTML (whole tags, a tag's start or end cut by an f-string's
    placeholder, attributes and their values) and placeholders: what is left is what a reader sees."""
    text = re.sub(r"^[^<]*?>", " ", text) if re.match(r"^[^<]*>", text) else text
    text = re.sub(r"<[^>]*>|<[^>]*$|[\w:-]+=\"[^\"]*\"?|\{[^}]*\}", " ", text)
    return text


def sentences_in(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _skipped_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped:
            text = markup_removed(node.value)
            if WORDS.search(text) and node.value not in ALLOWED:
                found.append((node.lineno, node.value))
    return found


def test_no_sentence_a_student_reads_is_written_in_the_views_code():
    found = {
        f"{path.relative_to(PACKAGE)}:{line}": text
        for path in VIEW_MODULES
        if path.name not in ALLOWED
        for line, text in sentences_in(path)
    }
    assert found == {}


def test_the_scan_finds_a_sentence_written_in_code(tmp_path):
    view = tmp_path / "view.py"
    view.write_text(
        '"""A docstring is not read."""\n\n\ndef f(t):\n    return f"<p>{t.text(\'a.b\')} Press the button</p>"\n'
    )
    assert sentences_in(view) == [(5, " Press the button</p>")]


# ---------------------------------------------------------------------------------------------
# The Lesson and the Learn tab in a pseudo language
# ---------------------------------------------------------------------------------------------

# A fragment of English of this many words or more, found on a page in another language, is a
# sentence the catalog did not translate.
FRAGMENT_WORDS = 4


def english_fragments() -> dict[str, str]:
    """Each English message's literal fragments of FRAGMENT_WORDS words or more (between its
    placeholders, tags and code), with the key they come from. Code blocks (lines indented four
    spaces) and italic titles (*MetaFormer is Actually What You Need for Vision*, a paper's title,
    cited as published) stay English in every language, so they are no fragment."""
    fragments = {}
    for key, forms in i18n.catalog_keys(i18n.DEFAULT_LANGUAGE).items():
        if key.startswith("glossary."):
            continue
        for form in forms:
            prose = "\n".join(line for line in form.splitlines() if not line.startswith("    "))
            for piece in re.split(r"(?<!\*)\*[^*\n]+\*(?!\*)|\{[^{}]*\}|<[^>]*>|`[^`]*`|\*+|\n+|#+ ", prose):
                piece = " ".join(piece.split()).strip(" .,;:()·")
                if len(re.findall(r"[A-Za-z]{2,}", piece)) >= FRAGMENT_WORDS:
                    fragments[piece] = key
    return fragments


def english_left(text: str) -> list[str]:
    """The keys of the English messages whose fragments are still in `text`."""
    flat = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
    return sorted({key for fragment, key in english_fragments().items() if fragment in flat})


@pytest.fixture(scope="module")
def pseudo(tmp_path_factory):
    """The catalogs with the pseudo languages beside the shipped ones; put back afterwards."""
    shipped = i18n.use_catalog_folder(write_pseudo_catalogs(tmp_path_factory.mktemp("catalogs")))
    yield i18n.messages("eo")
    i18n.use_catalog_folder(shipped)


@pytest.fixture(scope="module")
def lesson_tab(app_cache, runner):
    from poolformer_demo.ui.tabs.explore.page import EXAMPLES_DIR
    from poolformer_demo.ui.tabs.lesson.page import LessonTab

    return LessonTab(app_cache, runner, EXAMPLES_DIR)


def test_the_english_fragments_find_an_untranslated_message():
    said = i18n.english().text("lesson.predict.claim")
    assert english_left(f"<p>{said}</p>") == ["lesson.predict.claim"]
    assert english_left("<p>Ningún fragmento inglés aquí.</p>") == []


@pytest.mark.parametrize("number", range(1, len(STEPS) + 1))
def test_every_lesson_step_said_in_another_language_leaves_no_english_sentence(pseudo, lesson_tab, number):
    shown = lesson_tab.show_step(None, number, "eo")[-2]
    progress, card = lesson_tab.said(pseudo, shown)
    assert "⚠️" not in card
    assert english_left(progress + card) == []


def test_the_learn_tab_said_in_another_language_leaves_no_english_sentence(pseudo):
    from poolformer_demo.ui.tabs.learn.view import learn_markdown

    said = learn_markdown(pseudo)
    assert english_left(said) == []
    # What stays English is said once, in the language: the section exists in the pseudo text too.
    assert pseudo.text("learn.english_stays").splitlines()[0] in said


# ---------------------------------------------------------------------------------------------
# A new language computes nothing
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def forwards():
    """Every PoolFormer forward pass while the test runs."""
    seen = []

    def record(module, inputs):
        if isinstance(module, PoolFormerModel):
            seen.append(module)

    handle = torch.nn.modules.module.register_module_forward_pre_hook(record)
    yield seen
    handle.remove()


def test_saying_an_analysis_and_a_lesson_step_again_in_another_language_runs_no_model(
    pseudo, app_cache, runner, lesson_tab, forwards
):
    from poolformer_demo.ui.tabs.explore.page import ExploreTab
    from poolformer_demo.ui.tabs.explore.view import ExploreView

    explore = ExploreTab(app_cache, runner)
    star = str(PACKAGE.parent / "assets" / "examples" / "shapes_star.png")
    shown = dict(zip(ExploreView.names(), explore.show_shapes_example(star, None, None, "en")))
    step = lesson_tab.show_step(shown["session"], 6, "en")[-2]
    assert forwards, "the analysis and the step ran the model: the hook records"
    forwards.clear()
    status, target, results, facts, journey = explore.retell(pseudo, shown["shown"], "shapes", shown["session"])
    progress, card = lesson_tab.said(pseudo, step)
    assert forwards == []
    assert english_left(results + card + progress) == []
    assert english_left(results) == [] and pseudo.text("explore.cams_strip") in html.unescape(results)
