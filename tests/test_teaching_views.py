"""What a teacher puts on a projector, a phone and a link, in a real browser: links with hidden
controls that open on the finished view, presenter mode's type sizes and the lab's layout, the
phone's tab bar and tables, and the lesson's step list."""

from __future__ import annotations

import pytest
from browsing import PHONE, TABS, TIMEOUT_MS, TOP5, VIEWPORT, assert_no_error_toast, images_loaded, wait_until

pytestmark = pytest.mark.browser

STAR_QUERY = "example=shapes_star.png&model=shapes"
# What each tab's link asks for, and the condition that says its view is finished.
LINKS = {
    "explore": ("tab=explore", f"{TOP5} && {images_loaded('#explore-results', 17)}"),
    "lesson": (
        "tab=lesson&step=8",
        "document.querySelector('#lesson-card article')?.dataset.step === 'knockout'"
        " && document.querySelector('#lesson-card .pf-lesson-view img')",
    ),
    "explain": (
        "tab=explain&method=layercam",
        "document.documentElement.dataset.pfCam === 'layercam'"
        " && document.querySelector('#cam-family .pf-cam-family:not(.pf-empty) img.pf-m-layercam')",
    ),
    # The app under test has two ImageNet models, which Compare ticks.
    "compare": ("tab=compare", "document.querySelectorAll('#comparison .pf-variant').length === 2"),
    "inside": (
        "tab=inside&stage=2&block=1&mixer_off=1,2,3,4",
        "document.querySelector('#anatomy-view .pf-anatomy:not(.pf-empty)')"
        " && document.querySelector('#knockout-view .pf-knockout:not(.pf-empty)')"
        " && document.querySelector('#field-view .pf-field:not(.pf-empty)')",
    ),
}
# The names of the buttons the hidden controls took away on the tab shown: the buttons seen with the
# controls, less those seen without them (the tabs' own names are in both).
HIDDEN_BUTTONS = """() => {
  const root = document.documentElement;
  const seen = () => new Set(Array.from(document.querySelectorAll('button'))
    .filter((b) => b.offsetParent !== null && b.innerText.trim()).map((b) => b.innerText.trim()));
  const without = seen();
  delete root.dataset.pfControls;
  const withControls = seen();
  root.dataset.pfControls = 'hidden';
  return [...withControls].filter((name) => !without.has(name));
}"""


def open_page(browser, url: str, viewport: dict):
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


@pytest.mark.parametrize("tab", list(LINKS))
def test_a_link_with_hidden_controls_opens_on_the_finished_view_and_no_text_names_a_hidden_control(
    browser, app_url, tab
):
    query, finished = LINKS[tab]
    page = open_page(browser, f"{app_url}?{STAR_QUERY}&{query}&controls=hidden", VIEWPORT)
    wait_until(page, finished, f"the {tab} tab's linked view")
    if tab == "inside":
        # The knockout ran with the linked ticks, on the linked block.
        assert "token mixing off in stages 1, 2, 3, 4" in page.locator("#knockout-view").inner_text()
        assert "Stage 2, block 1" in page.locator("#anatomy-view .pf-where").inner_text()
    hidden = [name for name in page.evaluate(HIDDEN_BUTTONS) if name not in TABS]
    assert hidden, "the link hid no control on this tab"
    shown = page.evaluate("document.body.innerText")
    named = [name for name in hidden if name in shown]
    assert not named, f"the {tab} tab's text names hidden controls: {named}"
    assert not page.locator("#share-row").is_visible()
    assert_no_error_toast(page)
    page.close()


def test_hidden_controls_hide_every_gallery_preset_and_picker_alike(browser, app_url):
    page = open_page(browser, f"{app_url}?{STAR_QUERY}&tab=inside&controls=hidden", VIEWPORT)
    wait_until(page, LINKS["inside"][1].split(" && ")[0], "the linked block")
    for selector in ("#knockout-presets", "#field-stage", "#field-button", "#lab-task", "#lab-arms"):
        assert not page.locator(selector).is_visible(), f"{selector} is still shown"
    page.get_by_role("tab", name="Explore", exact=True).click()
    wait_until(page, TOP5, "the linked analysis")
    for selector in ("#photo-examples", "#shapes-examples", "#pairs-examples", "#analyze-button", "#input-image"):
        assert not page.locator(selector).is_visible(), f"{selector} is still shown"
    page.close()


# Every caption and legend of a picture, with the size its text is drawn at on the screen.
CAPTION_SIZES = """() => Array.from(document.querySelectorAll(
    'figcaption, figcaption *, .pf-caption, .pf-legend, .pf-legend *, .pf-tag'))
  .filter((e) => e.offsetParent !== null
    && Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim()))
  .map((e) => [parseFloat(getComputedStyle(e).fontSize) * (e.currentCSSZoom || 1), e.innerText.slice(0, 40)])"""


def test_presenter_mode_draws_captions_and_legends_at_18_px_and_the_lab_plot_beside_no_table(browser, app_url):
    page = open_page(browser, f"{app_url}?{STAR_QUERY}&tab=inside&present=on", VIEWPORT)
    wait_until(page, LINKS["inside"][1].split(" && ")[0], "the linked block")
    page.wait_for_function(
        "document.querySelector('#lab-reference img.pf-for-room')?.complete"
        " && document.querySelector('#field-view .pf-field:not(.pf-empty)')"
    )
    for tab in ("Inside the block", "Explore"):
        page.get_by_role("tab", name=tab, exact=True).click()
        if tab == "Explore":
            wait_until(page, f"{TOP5} && {images_loaded('#explore-results', 17)}", "the linked analysis")
        sizes = page.evaluate(CAPTION_SIZES)
        assert len(sizes) >= 3, f"no captions measured on {tab}"
        small = [(round(size, 1), text) for size, text in sizes if size < 18]
        assert not small, f"captions under 18 px on {tab}: {small[:5]}"
    page.get_by_role("tab", name="Inside the block", exact=True).click()
    # The lab shows the plot drawn for a projector, and it covers no part of its table.
    assert page.locator("#lab-reference img.pf-for-room").is_visible()
    assert not page.locator("#lab-reference img.pf-for-screen").is_visible()
    boxes = page.evaluate(
        """() => {
      const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
      const ref = document.querySelector('#lab-reference');
      return [box(ref.querySelector('.pf-lab-table')), box(ref.querySelector('img.pf-for-room'))];
    }"""
    )
    (t_left, t_top, t_right, t_bottom), (p_left, p_top, p_right, p_bottom) = boxes
    overlap = min(t_right, p_right) > max(t_left, p_left) and min(t_bottom, p_bottom) > max(t_top, p_top)
    assert not overlap, f"the plot {boxes[1]} covers the table {boxes[0]}"
    page.close()


# Each word of a table cell on one line (a line may end at a hyphen, as in print), and each number
# with its unit and spread on one line.
BROKEN_CELLS = """(scope) => {
  const broken = [];
  const lines = (range) => new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0)
    .map((r) => Math.round(r.top))).size;
  for (const cell of document.querySelectorAll(`${scope} td, ${scope} th`)) {
    if (cell.offsetParent === null) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.textContent.matchAll(/[^\\s-]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        if (lines(range) > 1) broken.push(word[0]);
      }
    }
    if (cell.classList.contains('pf-num')) {
      const range = document.createRange();
      range.selectNodeContents(cell);
      if (lines(range) > 1) broken.push(cell.innerText);
    }
  }
  return broken;
}"""
# The last column of a table can be brought into view: the table's box scrolls sideways far enough.
LAST_COLUMN_REACHABLE = """(scope) => Array.from(document.querySelectorAll(`${scope} table`))
  .filter((t) => t.offsetParent !== null).map((table) => {
    let box = table;
    while (box && box !== document.body && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    if (box && box !== document.body) box.scrollLeft = box.scrollWidth;
    const cell = table.querySelector('tr:last-child > :last-child');
    const reached = cell.getBoundingClientRect().right <= innerWidth + 1;
    if (box && box !== document.body) box.scrollLeft = 0;
    return reached;
  })"""
PAGE_WIDTH = "[document.scrollingElement.scrollWidth, innerWidth]"


def assert_tables_whole_and_reachable(page, scope: str, where: str) -> None:
    assert page.evaluate(BROKEN_CELLS, scope) == [], f"a table cell breaks a word or a number ({where})"
    reachable = page.evaluate(LAST_COLUMN_REACHABLE, scope)
    assert reachable and all(reachable), f"a table's last column cannot be reached ({where})"
    width, screen = page.evaluate(PAGE_WIDTH)
    assert width <= screen, f"the page scrolls sideways on {where}: {width} px on a {screen} px screen"


def test_on_a_phone_every_tab_is_one_tap_away_and_tables_keep_words_and_numbers_whole(browser, app_url):
    page = open_page(browser, f"{app_url}?{STAR_QUERY}&tab=lesson&step=10", PHONE)
    page.wait_for_function("document.querySelector('#lesson-card article')?.dataset.step === 'lab'")
    # The step list is a line or two of numbers: the step's own title is on the first screen.
    steps = page.locator("#lesson-progress").bounding_box()
    assert steps["height"] <= PHONE["height"] / 5, f"the step list is {steps['height']} px tall"
    assert page.locator("#lesson-card h2").bounding_box()["y"] < PHONE["height"]
    # The answer, and the rest of it behind "more" where it has one: their tables are checked open.
    page.locator("#lesson-card .pf-reveal > summary").click()
    more = page.locator("#lesson-card .pf-more > summary")
    if more.count():
        more.click()
    assert_tables_whole_and_reachable(page, "#lesson-card", "the lesson's step 10")
    assert not page.locator('button[aria-label="More tabs"]').is_visible()
    for name in TABS:
        tab = page.get_by_role("tab", name=name, exact=True)
        assert tab.is_visible(), f"{name} is not in the tab bar"
        tab.click()
        page.wait_for_function(
            "Array.from(document.querySelectorAll('[role=tab][aria-selected=true]'))"
            f".some((t) => t.innerText === {name!r})"
        )
    page.get_by_role("tab", name="Inside the block", exact=True).click()
    page.locator("#lab-reference .pf-lab-table").first.wait_for()
    assert_tables_whole_and_reachable(page, "#lab-reference", "the lab")
    page.get_by_role("tab", name="Explain", exact=True).click()
    page.locator("#faithfulness-button").click()
    wait_until(page, "document.querySelector('#faithfulness .pf-faith-table')", "the faithfulness table")
    assert_tables_whole_and_reachable(page, "#faithfulness", "the faithfulness table")
    page.close()


def current_step(page) -> str:
    return page.locator("#lesson-progress button[aria-current]").get_attribute("data-step")


def wait_for_step(page, number: int) -> None:
    page.wait_for_function(
        f"document.querySelector('#lesson-progress p')?.innerText === 'Step {number} of 10'"
        f" && document.querySelector('#lesson-card h2')?.innerText.startsWith('{number}.')"
    )


def test_the_step_list_opens_a_step_by_mouse_and_by_keyboard_and_the_ends_disable_back_and_next(browser, app_url):
    page = open_page(browser, app_url, VIEWPORT)
    page.get_by_role("tab", name="Lesson", exact=True).click()
    wait_for_step(page, 1)
    page.wait_for_function("document.querySelector('#lesson-back')?.disabled === true")
    assert page.locator("#lesson-next").is_enabled()
    page.locator("#lesson-progress button[data-step='3']").click()
    wait_for_step(page, 3)
    assert current_step(page) == "3"
    page.locator("#lesson-progress button[data-step='7']").focus()
    page.keyboard.press("Enter")
    wait_for_step(page, 7)
    page.locator("#lesson-progress button[data-step='10']").focus()
    page.keyboard.press("Space")
    wait_for_step(page, 10)
    assert current_step(page) == "10"
    page.wait_for_function("document.querySelector('#lesson-next')?.disabled === true")
    assert page.locator("#lesson-back").is_enabled()
    assert_no_error_toast(page)
    page.close()
