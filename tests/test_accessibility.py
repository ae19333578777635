"""Accessibility in a real browser: axe-core on every tab after an analysis, the phone layout,
and the controls that must work from the keyboard.

axe-core comes from npm (`npm ci` at the repository root installs the version package.json pins).
"""

from __future__ import annotations

import json

import pytest
from browsing import (
    DESKTOP,
    PHONE,
    TABS,
    TIMEOUT_MS,
    assert_no_error_toast,
    open_tab,
    serious_violations,
    settled,
    wait_for_result,
)

pytestmark = pytest.mark.browser

# A paragraph narrower than this reads as a column of single words.
NARROWEST_TEXT_PX = 180


def analysed_page(browser, app_url, viewport):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click()
    wait_for_result(page, "the shapes example's analysis")
    return page


def test_no_tab_has_a_serious_accessibility_violation_after_an_analysis(browser, app_url, axe_source):
    page = analysed_page(browser, app_url, DESKTOP)
    found = {}
    for tab in TABS:
        open_tab(page, tab)
        found[tab] = serious_violations(page, axe_source)
    counts = {tab: sum(len(v["targets"]) for v in violations) for tab, violations in found.items()}
    print("serious or critical axe violations per tab:", counts)
    assert counts == dict.fromkeys(TABS, 0), json.dumps(found, indent=1)
    assert_no_error_toast(page)
    page.close()


# The lesson's step list shows only the steps' numbers on a phone (their titles are spoken, not shown).
NARROW_TEXT = f"""Array.from(document.querySelectorAll('p, li, h1, h2, h3, h4, figcaption, .info-text'))
  .filter(e => e.offsetParent !== null && e.innerText.trim().length > 30 && !e.closest('.pf-lesson-progress'))
  .map(e => [Math.round(e.getBoundingClientRect().width), e.innerText.trim().slice(0, 50)])
  .filter(([width]) => width > 0 && width < {NARROWEST_TEXT_PX})"""


def test_on_a_phone_no_tab_is_wider_than_the_screen_or_squeezes_its_text(browser, app_url):
    page = analysed_page(browser, app_url, PHONE)
    for tab in TABS:
        open_tab(page, tab)
        width, screen = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert width <= screen, f"{tab} is {width} px wide on a {screen} px screen"
        assert page.evaluate(NARROW_TEXT) == [], f"text squeezed on {tab}"
    # Every step of the lesson, its answer open to its last sentence, fits the screen too.
    open_tab(page, "Lesson")
    for number in range(1, len(LESSON_KEYS) + 1):
        if number > 1:
            next_step(page, number)
        page.locator("#lesson-card .pf-reveal > summary").click()
        more = page.locator("#lesson-card .pf-more > summary")
        if more.count():
            more.click()
        width, screen = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert width <= screen, f"lesson step {number} is {width} px wide on a {screen} px screen"
    page.close()


def next_step(page, number: int) -> None:
    page.locator("#lesson-next").click()
    page.wait_for_function(f"document.querySelector('#lesson-progress').innerText.includes('Step {number} of')")
    settled(page)


LESSON_KEYS = ["predict", "stages", "gradcam", "block", "anatomy", "highpass", "branches", "knockout", "field", "lab"]


def test_the_lesson_walks_its_steps_in_order_each_with_its_view(browser, app_url, axe_source):
    page = analysed_page(browser, app_url, DESKTOP)
    open_tab(page, "Lesson")
    card = page.locator("#lesson-card article")
    for number, key in enumerate(LESSON_KEYS, start=1):
        if number > 1:
            next_step(page, number)
        assert card.get_attribute("data-step") == key
        assert card.locator(".pf-question").inner_text().startswith("Think first:")
        answer = card.locator(".pf-answer")
        assert not answer.is_visible(), f"step {number} shows its answer before it is asked for"
        card.locator(".pf-reveal > summary").press("Enter")  # the answer opens from the keyboard
        assert answer.is_visible() and len(answer.inner_text()) > 40
        more = answer.locator(".pf-more")
        if more.count():  # a long answer keeps all but two sentences behind "more", opened from the keyboard too
            more.locator("summary").press("Enter")
            assert more.get_attribute("open") is not None
        views = card.locator(".pf-lesson-view img, .pf-lesson-view table, .pf-lesson-view svg")
        assert views.count() >= 1, f"step {number} ({key}) shows no view"
        assert card.locator("img:not([alt])").count() == 0
        if key in ("block", "knockout"):
            assert serious_violations(page, axe_source) == [], f"step {number}"
    # Back returns to the previous step.
    page.locator("#lesson-back").click()
    page.wait_for_function("document.querySelector('#lesson-progress').innerText.includes('Step 9 of')")
    page.close()


def test_the_diagram_and_the_before_after_slider_work_from_the_keyboard(browser, app_url):
    page = analysed_page(browser, app_url, DESKTOP)
    open_tab(page, "Lesson")
    for number in range(2, 5):
        next_step(page, number)
    card = page.locator("#lesson-card")
    norm = card.locator(".pf-box[data-key='norm1']")
    norm.focus()
    page.keyboard.press("Enter")
    assert norm.get_attribute("aria-pressed") == "true"
    assert card.locator(".pf-pick[data-pick='normed']").is_visible()
    assert not card.locator(".pf-pick[data-pick='mixer']").is_visible()
    assert "before_norm" in card.locator(".pf-pick-note").inner_text()

    for number in range(5, 9):
        next_step(page, number)
    card.locator(".pf-reveal > summary").press("Enter")
    split = card.locator(".pf-split")
    split.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    frame = card.locator(".pf-compare-frame")
    assert frame.evaluate("f => f.style.getPropertyValue('--pf-split')") == "55%"

    # The receptive field's position moves from the keyboard too.
    open_tab(page, "Inside the block")
    page.locator("#field-button").click()
    field = page.locator("#field-view .pf-field-frame[data-rows]")
    field.wait_for()
    x = int(field.get_attribute("data-x"))
    field.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('#field-view .pf-field-frame[data-rows]')?.dataset.x === '{x + 1}'")
    page.close()


def test_a_copied_link_reopens_the_same_view_and_can_hide_the_controls(browser, app_url):
    page = analysed_page(browser, app_url, DESKTOP)
    open_tab(page, "Lesson")
    for number in range(2, 5):
        next_step(page, number)
    page.locator("#share-button").click()
    page.wait_for_function("document.querySelector('#share-link textarea, #share-link input').value.includes('?')")
    link = page.locator("#share-link textarea, #share-link input").first.input_value()
    assert "example=shapes_star.png" in link and "tab=lesson" in link and "step=4" in link
    page.close()

    copy = browser.new_page(viewport=DESKTOP)
    copy.set_default_timeout(TIMEOUT_MS)
    copy.goto(link + "&controls=hidden&present=on")
    copy.wait_for_function("document.querySelector('#lesson-progress')?.innerText.includes('Step 4 of')")
    assert copy.locator("#lesson-card article").get_attribute("data-step") == "block"
    assert "shapes_star.png" in copy.locator("#lesson-card").inner_text()
    open_tab(copy, "Explore")
    wait_for_result(copy, "the linked example's analysis")
    assert copy.locator("#variant input").input_value().startswith("shapes")
    assert not copy.locator("#analyze-button").is_visible()
    assert copy.evaluate("getComputedStyle(document.body).zoom") == "1.35"
    assert copy.locator("#present-mode input").is_checked()
    assert_no_error_toast(copy)
    copy.close()
