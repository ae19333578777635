"""The app in a real browser: upload a photo, analyse it, re-target Grad-CAM, take a screenshot.

Drives Debian's Chromium (`apt-get install chromium`) through playwright; playwright's own
browser downloads are not used. UPDATE_SCREENSHOT=1 copies the screenshot of the trained demo
model's analysis to assets/screenshot.png, the README's picture.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from browsing import (
    RESULT_IMAGES,
    TABS,
    TIMEOUT_MS,
    VIEWPORT,
    assert_no_error_toast,
    images_loaded,
    open_tab,
    settled,
    wait_for_result,
    wait_until,
)
from paths import ASSETS, PHOTO

pytestmark = pytest.mark.browser

SCREENSHOT = ASSETS / "screenshot.png"


S12_CAPTIONS = [
    "Stage 1 · 64x56x56 · stride 4",
    "Stage 2 · 128x28x28 · stride 8",
    "Stage 3 · 320x14x14 · stride 16",
    "Stage 4 · 512x7x7 · stride 32",
]


def broken_images(page) -> int:
    images = "Array.from(document.querySelectorAll('#explore-results img'))"
    return page.evaluate(f"{images}.filter(i => !i.complete || i.naturalWidth === 0).length")


def server_events(page) -> list[str]:
    """Start recording the requests that put work on the server's queue."""
    joined: list[str] = []
    page.on("request", lambda request: joined.append(request.url) if "/queue/join" in request.url else None)
    return joined


def large_heat(page) -> str:
    return page.locator("#explore-results .pf-large .pf-heat").get_attribute("src")


def choose_variant(page, label: str) -> None:
    page.locator("#variant input").click()
    page.get_by_role("option", name=label).click()


def test_upload_analyse_retarget_and_look_without_asking_the_server(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.wait_for_selector("#input-image", timeout=TIMEOUT_MS)

    page.locator("#input-image input[type=file]").set_input_files(str(PHOTO))
    wait_until(page, images_loaded("#input-image", 1), "the upload to show")
    choose_variant(page, "S12 · 12M")
    assert page.locator("#variant input").input_value().startswith("S12")

    page.locator("#analyze-button").click()
    wait_for_result(page)
    assert page.locator("#explore-results .pf-caption").all_inner_texts() == S12_CAPTIONS
    rows = page.locator("#predictions button.confidence-set")
    names = [rows.nth(i).locator("dt").inner_text() for i in range(5)]
    assert names[0] in page.locator("#target-info").inner_text()
    assert "Analysis took" in page.locator("#facts").inner_text()

    # Opacity, feature-map view and the enlarged stage change in the browser alone.
    asked = server_events(page)
    page.locator("#opacity input[type=range]").fill("0.9")
    opacity = "getComputedStyle(document.querySelector('#explore-results .pf-heat')).opacity"
    wait_until(page, f"{opacity} === '0.9'", "the heatmaps to follow the slider")
    page.get_by_label("mean activation").check()
    shown = "getComputedStyle(document.querySelector('#explore-results .pf-view.pf-{}')).display"
    wait_until(page, f"{shown.format('mean')} === 'block' && {shown.format('pca')} === 'none'", "the mean view")
    stage_two = page.locator("#explore-results .pf-stage[data-stage='2']")
    stage_two.click()
    assert large_heat(page) == stage_two.locator(".pf-heat").get_attribute("src")
    assert page.locator("#explore-results .pf-large-caption").inner_text() == S12_CAPTIONS[1]
    assert stage_two.get_attribute("aria-pressed") == "true"
    # A request these changes started would keep the page pending, or change it, past this wait.
    settled(page)
    assert asked == []

    # Clicking the second prediction explains that class; the enlarged stage stays the chosen one.
    before = large_heat(page)
    rows.nth(1).click()
    wait_until(
        page,
        f"document.querySelector('#target-info').innerText.includes({names[1]!r}) && "
        f"document.querySelector('#explore-results .pf-large .pf-heat').src !== {before!r}",
        "Grad-CAM to re-target",
    )
    info = page.locator("#target-info").inner_text()
    assert info.startswith(f"Grad-CAM for {names[1]} · class ")
    assert "top prediction" not in info
    assert page.locator("#target input").input_value() == names[1]
    assert page.locator("#explore-results .pf-large-caption").inner_text() == S12_CAPTIONS[1]

    # Typing a class name (here a synonym) explains that class.
    page.locator("#target input").fill("tiger cat")
    page.keyboard.press("Enter")
    wait_until(
        page, "document.querySelector('#target-info').innerText.startsWith('Grad-CAM for tiger cat')", "a typed target"
    )

    # The Learn tab follows the last analysis through the stages.
    page.get_by_role("tab", name="Learn").click()
    wait_until(page, "document.querySelector('#journey').innerText.includes('512×7×7')", "the stage shapes")
    assert_no_error_toast(page, "at the end")
    page.close()


def test_the_offline_shapes_model_names_a_shape_and_looks_at_it(browser, app_url, tmp_path):
    """The trained shapes model on a generated example; this is the README's screenshot."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click(timeout=TIMEOUT_MS)
    wait_for_result(page, "the shapes model's result")
    assert page.locator("#target-info").inner_text().startswith("Grad-CAM for star · class 3 ")
    assert page.locator("#variant input").input_value().startswith("shapes")
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot))
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, SCREENSHOT)
    assert_no_error_toast(page)
    page.close()


def test_a_pairs_example_runs_on_the_pairs_model_and_the_inside_tab_says_what_mixes_its_discs(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.locator("#pairs-examples img[src$='pairs_different_0.png']").first.click(timeout=TIMEOUT_MS)
    # Two classes, so two rows in the top-5; then every picture decoded.
    two = "document.querySelectorAll('#predictions button.confidence-set').length === 2"
    wait_until(page, f"{two} && {images_loaded('#explore-results', RESULT_IMAGES)}", "the pairs model's result")
    assert page.locator("#target-info").inner_text().startswith("Grad-CAM for different colour · class 1 ")
    assert page.locator("#variant input").input_value().startswith("pairs")
    assert "class labels only" in page.locator("#facts").inner_text()
    page.get_by_role("tab", name="Inside the block").click()
    note = "document.querySelector('#knockout-note').innerText"
    wait_until(page, f"{note}.includes('mixes through its norms instead')", "the pairs model's knockout note")
    assert_no_error_toast(page)
    page.close()


def test_a_photo_example_is_one_click_away_on_an_imagenet_model(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    choose_variant(page, "shapes · ")
    page.locator("#photo-examples img[src$='coffee.jpg']").first.click(timeout=TIMEOUT_MS)
    wait_for_result(page, "the example's analysis")
    assert page.locator("#variant input").input_value().startswith("S12")
    assert page.locator("#explore-results .pf-large-caption").inner_text() == S12_CAPTIONS[3]
    assert_no_error_toast(page)
    page.close()


def test_the_layout_does_not_move_when_the_first_result_arrives(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.wait_for_selector("#explore-results .pf-large", timeout=TIMEOUT_MS)
    # The galleries' thumbnails decoded first: while they load, the example clicked below moves.
    for gallery in ("#photo-examples", "#shapes-examples"):
        thumbnails = f"Array.from(document.querySelectorAll('{gallery} img'))"
        decoded = f"{thumbnails}.length > 0 && {thumbnails}.every(i => i.complete && i.naturalWidth > 0)"
        wait_until(page, decoded, f"the thumbnails of {gallery}")
    assert "Results appear here" in page.locator("#explore-results").inner_text()
    empty = page.locator("#explore-results .pf-large").bounding_box()
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click(timeout=TIMEOUT_MS)
    wait_for_result(page)
    assert page.locator("#explore-results .pf-large").bounding_box() == empty
    # The whole result is in view at 1400x1000 without scrolling.
    heat = page.locator("#explore-results .pf-large").bounding_box()
    assert heat["y"] + heat["height"] <= VIEWPORT["height"]
    page.close()


def test_an_error_keeps_the_last_result_and_says_what_failed(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click(timeout=TIMEOUT_MS)
    wait_for_result(page)
    before = large_heat(page)

    choose_variant(page, "S24 · 80.3% · weights not on this server")
    wait_until(page, "document.querySelector('#facts').innerText.includes('4 · 4 · 12 · 4')", "the facts to follow")
    page.locator("#analyze-button").click()
    wait_until(page, "document.querySelector('#status').innerText.includes('not available')", "the error")
    status = page.locator("#status").inner_text()
    assert "The weights of PoolFormer-S24 are not available on this server right now" in status
    assert "previous one" in status and "POOLFORMER" not in status and "http" not in status
    assert page.locator("#predictions button.confidence-set").count() == 5
    assert large_heat(page) == before and broken_images(page) == 0
    assert page.locator("#predictions .error, #explore-results .error").count() == 0
    assert_no_error_toast(page)

    # A mistyped class keeps the result too, and says which classes there are.
    page.locator("#target input").fill("tabby cat")
    page.keyboard.press("Enter")
    wait_until(page, "document.querySelector('#status').innerText.includes('It knows: circle')", "the class list")
    assert large_heat(page) == before
    page.close()


def test_a_photo_on_the_shapes_model_says_what_the_model_knows(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.locator("#input-image input[type=file]").set_input_files(str(PHOTO))
    wait_until(page, images_loaded("#input-image", 1), "the upload to show")
    choose_variant(page, "shapes · ")
    page.locator("#analyze-button").click()
    wait_for_result(page)
    assert "only knows 6 classes" in page.locator("#status").inner_text()
    page.close()


def test_several_pages_clicking_the_same_example_at_once_get_whole_pictures(browser, app_url):
    pages = [browser.new_page(viewport=VIEWPORT) for _ in range(4)]
    for page in pages:
        page.goto(app_url)
        page.wait_for_selector("#photo-examples img", timeout=TIMEOUT_MS)
    for page in pages:
        page.locator("#photo-examples img[src$='chelsea.jpg']").first.click()
    for page in pages:
        wait_for_result(page, "every page's result")
        assert broken_images(page) == 0
        assert_no_error_toast(page)
        page.close()


# Markdown that reached the page as text: *emphasis*, **strong**, `code`, [link](url).
LITERAL_MARKDOWN = re.compile(r"(?<![\w*])\*[A-Za-z][^*\n]*[A-Za-z.]\*(?![\w*])|\*\*|`|\[[^\]\n]+\]\([^)\n]+\)")


def test_no_tab_shows_literal_markdown_and_models_without_weights_say_so(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click(timeout=TIMEOUT_MS)
    wait_for_result(page, "the shapes model's result")

    # The menu marks the models this server has no weights for, and says what a missing one needs.
    page.locator("#variant input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert "S24 · 80.3% · weights not on this server" in options
    assert any(option.startswith("S12 · 12M · 77.2% top-1") for option in options)
    page.get_by_role("option", name="S24 · 80.3% · weights not on this server").click()
    wait_until(page, "document.querySelector('#facts').innerText.includes(`result shown is the shapes model`)", "facts")
    page.locator("#analyze-button").click()
    wait_until(page, "document.querySelector('#status').innerText.includes('not available')", "the error")
    status = page.locator("#status").inner_text()
    assert "Where the weights come from" in status and "These models run here: PoolFormer-S12" in status

    seen = {}
    for name in TABS:
        open_tab(page, name)
        seen[name] = page.locator(".tabitem:visible").first.inner_text()
    found = {name: LITERAL_MARKDOWN.findall(text) for name, text in seen.items()}
    assert "press Run the attributions;" in seen["Explain"] and "press Compare;" in seen["Compare"]
    assert found == {name: [] for name in TABS}

    # At 1 the Explain tab's maps are opaque, the CAM family's too.
    page.get_by_role("tab", name="Explain").click()
    wait_until(page, "document.querySelector('#cam-family .pf-heat') !== null", "the CAM family")
    page.locator("#explain-opacity input[type=range]").fill("1")
    cam = "getComputedStyle(document.querySelector('#cam-family .pf-heat')).opacity"
    wait_until(page, f"{cam} === '1'", "the CAM family at full opacity")
    assert_no_error_toast(page)
    page.close()
