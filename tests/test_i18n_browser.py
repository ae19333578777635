"""The page in every language with a catalog, in real Chromium: chosen by the browser's locale and by
`?lang=`, the Lesson's ten steps and the Learn tab leave no English sentence, axe-core finds nothing
serious, nothing overflows a phone's width, a copied link reopens in the same language; a right-to-left
language mirrors the page and keeps the before/after slider working; a switch recomputes nothing.

The languages are the shipped catalogs' and two pseudo languages (tests/pseudo_catalogs.py): Esperanto
left to right and Hebrew right to left, every letter of English replaced, so a sentence the catalog
does not hold shows as plain English. A catalog missing a translation fails with its key's name.
"""

from __future__ import annotations

import re
import time

import pytest
import torch
from browsing import TIMEOUT_MS, assert_no_error_toast, serious_violations, wait_for_result, wait_until
from pseudo_catalogs import PSEUDO, write_pseudo_catalogs
from serving import serving
from test_i18n_views import english_left
from transformers.models.poolformer.modeling_poolformer import PoolFormerModel

from poolformer_demo import i18n
from poolformer_demo.lesson import STEPS
from poolformer_demo.ui import build_demo

pytestmark = pytest.mark.browser

SHIPPED = sorted(p.stem.replace("_", "-") for p in i18n.CATALOG_DIR.glob("*.po") if p.stem != i18n.DEFAULT_LANGUAGE)
LANGUAGES = [*SHIPPED, *PSEUDO]
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
# Four English words in a row, in a pseudo language's page, are a sentence the catalog does not hold.
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){3,}\b")
# What a page says in English in every language: class names, code, and the diagram's code names.
KEPT = "code, .pf-box-code, .pf-topk td:nth-child(2), .pf-formulas"


@pytest.fixture(scope="module")
def app(app_cache, tmp_path_factory):
    """The app with the pseudo languages beside the shipped catalogs, served for the module."""
    shipped = i18n.use_catalog_folder(write_pseudo_catalogs(tmp_path_factory.mktemp("catalogs")))
    try:
        with serving(build_demo(cache=app_cache, shapes_available=True)) as (_, url):
            yield url
    finally:
        i18n.use_catalog_folder(shipped)


def open_page(browser, url: str, locale: str, viewport: dict):
    context = browser.new_context(locale=locale, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def wait_for_language(page, code: str) -> None:
    """Until the page has said itself in `code` (Gradio sets the document's lang to the browser's
    first: the page's direction, set with its language, tells that the page's own choice arrived)."""
    wait_until(
        page,
        f"document.documentElement.lang === {code!r} && document.documentElement.dir !== ''",
        f"the page in {code}",
    )
    settled(page)


def settled(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('.pending, .generating, [data-testid=status-tracker] .eta-bar')")
    page.wait_for_timeout(200)


def open_tab(page, index: int) -> None:
    """Open the tab at `index` (0: Explore … 5: Learn): its name is in the page's language."""
    page.locator("#tabs [role=tab]").nth(index).click()
    page.wait_for_function(
        f"document.querySelectorAll('#tabs [role=tab]')[{index}]?.getAttribute('aria-selected') === 'true'"
    )
    settled(page)


def english_in(page, selector: str, pseudo: bool) -> list[str]:
    """What in `selector` is still English: the keys of English messages found there, and in a pseudo
    language any run of English words (a sentence the catalog does not hold), class names and code aside."""
    markup = page.locator(selector).evaluate("element => element.innerHTML")
    left = english_left(markup)
    if pseudo:
        text = page.locator(selector).evaluate(
            f"element => {{ const copy = element.cloneNode(true); copy.querySelectorAll({KEPT!r})"
            ".forEach(e => e.remove()); return copy.textContent; }"
        )
        left += [f"not in the catalog: {run!r}" for run in ENGLISH_RUN.findall(" ".join(text.split()))]
    return left


def lesson_step(page, number: int) -> None:
    if number > 1:
        page.locator("#lesson-next").click()
    wait_until(
        page,
        f"document.querySelector('#lesson-card article')?.dataset.step === {STEPS[number - 1].key!r}",
        f"lesson step {number}",
    )
    settled(page)


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_browsers_language_opens_the_lesson_and_learn_with_no_english_sentence_left(browser, app, axe_source, code):
    page = open_page(browser, app, code, DESKTOP)
    wait_for_language(page, code)
    language = i18n.language(code)
    assert page.evaluate("document.documentElement.dir") == language.direction
    assert page.locator("#language input").input_value() == language.name
    pseudo = code in PSEUDO
    open_tab(page, 1)
    for number in range(1, len(STEPS) + 1):
        lesson_step(page, number)
        left = english_in(page, "#lesson-progress", pseudo) + english_in(page, "#lesson-card", pseudo)
        assert left == [], f"{code}, lesson step {number}: {left}"
        if number in (1, 8):
            assert serious_violations(page, axe_source) == [], f"{code}, lesson step {number}"
    open_tab(page, 5)
    left = english_in(page, "#learn-text", pseudo)
    assert left == [], f"{code}, the Learn tab: {left}"
    assert serious_violations(page, axe_source) == [], f"{code}, the Learn tab"
    assert_no_error_toast(page)
    page.context.close()


def overflow(page) -> int:
    """How far the page is wider than the screen, in pixels (0: nothing overflows)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_link_with_the_language_fits_a_phone_and_a_copied_link_reopens_in_it(browser, app, code):
    # An English browser: the link's ?lang= chooses.
    page = open_page(browser, f"{app}?lang={code}", "en-US", PHONE)
    wait_for_language(page, code)
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click()
    wait_for_result(page, "the star's analysis")
    assert overflow(page) <= 1, f"{code}: Explore overflows a phone by {overflow(page)} px"
    open_tab(page, 1)
    lesson_step(page, 1)
    assert overflow(page) <= 1, f"{code}: the Lesson overflows a phone by {overflow(page)} px"
    page.locator("#share-button").click()
    page.wait_for_function("document.querySelector('#share-link textarea, #share-link input').value.includes('?')")
    link = page.locator("#share-link textarea, #share-link input").first.input_value()
    assert f"lang={code}" in link and "tab=lesson" in link
    page.context.close()

    again = open_page(browser, link, "en-US", PHONE)
    wait_for_language(again, code)
    wait_until(again, "document.querySelector('#lesson-card article')?.dataset.step === 'predict'", "the linked step")
    assert english_left(again.locator("#lesson-card").evaluate("e => e.innerHTML")) == []
    again.context.close()


RIGHT_TO_LEFT = [code for code in LANGUAGES if i18n.language(code).rtl or PSEUDO.get(code) == "rtl"]


@pytest.mark.parametrize("code", RIGHT_TO_LEFT)
def test_a_right_to_left_page_is_mirrored_and_its_slider_still_works_by_keyboard(browser, app, code):
    page = open_page(browser, app, code, DESKTOP)
    wait_for_language(page, code)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    open_tab(page, 1)
    lesson_step(page, 1)
    steps = page.locator("#lesson-progress button")
    first, second = steps.nth(0).bounding_box(), steps.nth(1).bounding_box()
    assert first["x"] > second["x"], "the first step is not at the right of the list"
    back, forward = page.locator("#lesson-back").bounding_box(), page.locator("#lesson-next").bounding_box()
    assert forward["x"] < back["x"], "Next is not at the left of Back"
    for number in range(2, 9):
        lesson_step(page, number)
    card = page.locator("#lesson-card article")
    card.locator(".pf-reveal > summary").press("Enter")
    # The before/after comparison stays left to right: the arrow keys move the line as on any page.
    slider = card.locator(".pf-split")
    assert slider.evaluate("e => getComputedStyle(e.closest('.pf-compare')).direction") == "ltr"
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    split = card.locator(".pf-compare-frame").evaluate("e => e.style.getPropertyValue('--pf-split')")
    assert split == "55%"
    page.context.close()


def test_switching_the_language_after_an_analysis_recomputes_nothing(browser, app):
    forwards = []

    def record(module, inputs):
        if isinstance(module, PoolFormerModel):
            forwards.append(module)

    page = open_page(browser, app, "en-US", DESKTOP)
    wait_for_language(page, "en")
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click()
    wait_for_result(page, "the star's analysis")
    open_tab(page, 1)
    lesson_step(page, 1)
    esperanto = i18n.messages("eo")
    title = esperanto.text("lesson.predict.title")
    strip = esperanto.text("explore.cams_strip")
    handle = torch.nn.modules.module.register_module_forward_pre_hook(record)
    try:
        page.locator("#language input").click()
        page.get_by_role("option", name=i18n.language("eo").name).click()
        started = time.monotonic()
        wait_until(
            page,
            f"document.querySelector('#lesson-card h2')?.innerText.endsWith({title!r})"
            f" && document.querySelector('#explore-results')?.innerText.includes({strip!r})"
            " && document.documentElement.lang === 'eo'",
            "the page in the new language",
        )
        seconds = time.monotonic() - started
        settled(page)
    finally:
        handle.remove()
    print(f"switch to another language, Lesson and Explore said again: {seconds * 1000:.0f} ms")
    assert forwards == []
    assert english_in(page, "#lesson-card", True) == []
    assert_no_error_toast(page)
    page.context.close()
