"""The app in a real browser: upload a photo, analyse it, re-target Grad-CAM, take a screenshot.

Drives Debian's Chromium (`apt-get install chromium`) through playwright; playwright's own
browser downloads are not used. UPDATE_SCREENSHOT=1 copies the screenshot of the trained demo
model's analysis to assets/screenshot.png, the README's picture.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "examples" / "chelsea.jpg"
SCREENSHOT = ROOT / "assets" / "screenshot.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 60_000
ERROR_TOAST = '[data-testid="toast-body"].error'


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        message = f"Chromium is not installed at {CHROMIUM}; install it with `apt-get install -y chromium`."
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def app_url(served):
    return served[1]


def wait_until(page, condition: str, what: str) -> None:
    """Wait for a JavaScript condition; fail at once, with its text, if an error toast appears."""
    page.wait_for_function(f"() => ({condition}) || document.querySelector('{ERROR_TOAST}')", timeout=TIMEOUT_MS)
    assert_no_error_toast(page, f"while waiting for {what}")


def assert_no_error_toast(page, when: str = "") -> None:
    toasts = page.locator(ERROR_TOAST)
    if toasts.count():
        pytest.fail(f"The page showed an error {when}: {toasts.first.inner_text()!r}")


def images_loaded(selector: str, count: int) -> str:
    images = f"Array.from(document.querySelectorAll('{selector} img'))"
    return f"{images}.filter(i => i.complete && i.naturalWidth > 0).length >= {count}"


def test_upload_analyse_retarget_and_screenshot(browser, app_url, tmp_path):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.wait_for_selector("#input-image", timeout=TIMEOUT_MS)

    page.locator("#input-image input[type=file]").set_input_files(str(PHOTO))
    wait_until(page, images_loaded("#input-image", 1), "the upload to show")

    page.locator("#variant input").click()
    page.get_by_role("option", name="s12 · 12M params").click()
    assert page.locator("#variant input").input_value().startswith("s12")

    page.locator("#analyze-button").click()
    wait_until(page, "document.querySelectorAll('#predictions button.confidence-set').length === 5", "the top-5")
    wait_until(page, images_loaded("#feature-gallery", 4), "the feature maps")
    wait_until(page, images_loaded("#cam-gallery", 4), "the Grad-CAM overlays")
    wait_until(page, images_loaded("#cam-large", 1), "the enlarged Grad-CAM")

    captions = page.locator("#cam-gallery .caption-label").all_inner_texts()
    assert captions == [
        "Stage 1 · 64x56x56 · stride 4",
        "Stage 2 · 128x28x28 · stride 8",
        "Stage 3 · 320x14x14 · stride 16",
        "Stage 4 · 512x7x7 · stride 32",
    ]
    assert page.locator("#feature-gallery .caption-label").all_inner_texts() == captions
    rows = page.locator("#predictions button.confidence-set")
    names = [rows.nth(i).locator("dt").inner_text() for i in range(5)]
    assert names[0] in page.locator("#target-info").inner_text()
    assert "Analysis took" in page.locator("#facts").inner_text()

    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "screenshot.png"))

    # Switching the feature-map view only re-draws.
    before = page.locator("#feature-gallery img").first.get_attribute("src")
    page.get_by_label("mean activation").check()
    wait_until(
        page,
        f"(document.querySelector('#feature-gallery img')?.src ?? {before!r}) !== {before!r}",
        "the mean-activation view",
    )

    # Clicking the second prediction explains that class instead.
    overlay_before = page.locator("#cam-large img").get_attribute("src")
    rows.nth(1).click()
    wait_until(
        page,
        f"document.querySelector('#target-info').innerText.includes({names[1]!r}) && "
        f"document.querySelector('#cam-large img').src !== {overlay_before!r}",
        "Grad-CAM to re-target",
    )
    info = page.locator("#target-info").inner_text()
    assert info.startswith(f"Grad-CAM for {names[1]} · class ")
    assert "top prediction" not in info
    assert page.locator("#target input").input_value() == names[1]

    # Typing a class name (here a synonym) explains that class.
    page.locator("#target input").fill("tiger cat")
    page.keyboard.press("Enter")
    typed = "document.querySelector('#target-info').innerText.startsWith('Grad-CAM for tiger cat')"
    wait_until(page, typed, "a typed target")

    # The Learn tab follows the last analysis through the stages.
    page.get_by_role("tab", name="Learn").click()
    wait_until(page, "document.querySelector('#journey').innerText.includes('512×7×7')", "the stage shapes")
    assert_no_error_toast(page, "at the end")
    page.close()


def test_the_offline_demo_model_names_a_shape_and_looks_at_it(browser, app_url, tmp_path):
    """The trained demo model on a generated example; this is the README's screenshot."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.locator("#variant input").click()
    page.get_by_role("option", name="shapes · ").click()
    page.locator("img[src$='shapes_star.png']").first.click(timeout=TIMEOUT_MS)
    wait_until(page, "document.querySelectorAll('#predictions button.confidence-set').length === 5", "the demo's predictions")
    wait_until(page, images_loaded("#cam-gallery", 4), "the Grad-CAM overlays")
    wait_until(page, images_loaded("#cam-large", 1), "the enlarged Grad-CAM")
    assert page.locator("#target-info").inner_text().startswith("Grad-CAM for star · class 3 ")
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot))
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, SCREENSHOT)
    assert_no_error_toast(page)
    page.close()


def test_an_example_is_one_click_away(browser, app_url):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(app_url)
    page.locator("img[src$='coffee.jpg']").first.click(timeout=TIMEOUT_MS)
    wait_until(page, images_loaded("#cam-gallery", 4), "the example's analysis")
    wait_until(page, "document.querySelectorAll('#predictions button.confidence-set').length === 5", "the top-5")
    assert page.locator("#target-info").inner_text().endswith("stride 32")
    assert_no_error_toast(page)
    page.close()
