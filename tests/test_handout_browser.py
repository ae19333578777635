"""The lesson's handout in a real Chromium: opened offline with every request but the file's own
refused, read by axe-core, on a phone, printed to PDF, and downloaded from the Lesson tab's button."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from browsing import TIMEOUT_MS
from handout_checks import assert_is_a_whole_handout
from test_accessibility import AXE, axe_source, open_tab, serious_violations  # noqa: F401 - axe_source is a fixture

from poolformer_demo.cli import main
from poolformer_demo.lesson import STEPS

pytestmark = pytest.mark.browser

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
OPEN_EVERY_ANSWER = "document.querySelectorAll('details').forEach(d => d.open = true)"
ALL_PICTURES_DECODED = "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"


@pytest.fixture(scope="module")
def handout_path(tmp_path_factory, one_torch_thread) -> Path:
    out = tmp_path_factory.mktemp("handout")
    image = ASSETS / "examples" / "pairs_same_0.png"
    assert main(["lesson", str(image), "--variant", "pairs", "--out", str(out)]) == 0
    return out / "lesson.html"


def open_offline(browser, path: Path, viewport: dict):
    """The handout in a fresh browser context where every request but the file itself is refused:
    (page, the URLs it requested, the requests that failed)."""
    context = browser.new_context(viewport=viewport)
    url = path.resolve().as_uri()
    requested, failed = [], []
    context.route("**/*", lambda route: route.continue_() if route.request.url == url else route.abort())
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_function(ALL_PICTURES_DECODED)
    return page, requested, failed


def test_the_handout_renders_offline_with_no_failed_request_and_every_picture_decoded(browser, handout_path):
    page, requested, failed = open_offline(browser, handout_path, DESKTOP)
    try:
        assert failed == []
        assert [u for u in requested if not u.startswith("data:")] == [handout_path.resolve().as_uri()]
        assert page.evaluate("document.images.length") > 20
        assert page.evaluate(ALL_PICTURES_DECODED)
        headings = page.locator(".pf-handout-step h2").all_inner_texts()
        assert headings == [f"{n}. {s.title}" for n, s in enumerate(STEPS, start=1)]
    finally:
        page.context.close()


def test_answers_stay_closed_until_a_student_opens_one(browser, handout_path):
    page, _, _ = open_offline(browser, handout_path, DESKTOP)
    try:
        answers = page.locator(".pf-answer")
        assert answers.count() == len(STEPS)
        assert not any(answers.nth(i).is_visible() for i in range(len(STEPS)))
        page.locator(".pf-reveal > summary").first.click()
        assert answers.first.is_visible() and not answers.nth(1).is_visible()
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_handout_has_no_serious_accessibility_violation_closed_or_open(browser, handout_path, axe_source, viewport):  # noqa: F811
    page, _, _ = open_offline(browser, handout_path, viewport)
    try:
        assert serious_violations(page, axe_source) == []
        page.evaluate(OPEN_EVERY_ANSWER)
        assert serious_violations(page, axe_source) == []
    finally:
        page.context.close()


def test_the_handout_fits_a_phone_without_scrolling_sideways(browser, handout_path):
    page, _, _ = open_offline(browser, handout_path, PHONE)
    try:
        page.evaluate(OPEN_EVERY_ANSWER)
        page.wait_for_timeout(200)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        page.context.close()


LIGATURES = {"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl"}


def plain(text: str) -> str:
    for ligature, letters in LIGATURES.items():
        text = text.replace(ligature, letters)
    return re.sub(r"\s+", " ", text).strip()


def test_the_print_view_has_one_step_per_page_with_every_answer_shown(browser, handout_path):
    from pypdf import PdfReader

    page, _, _ = open_offline(browser, handout_path, DESKTOP)
    try:
        answers = [plain(a) for a in page.locator(".pf-answer").all_text_contents()]
        pdf = PdfReader(io.BytesIO(page.pdf(format="A4")))
    finally:
        page.context.close()
    texts = [plain(p.extract_text()) for p in pdf.pages]
    # A cover (title, steps, the model), then one page per step.
    assert len(texts) == 1 + len(STEPS)
    headings = [f"{n}. {s.title}" for n, s in enumerate(STEPS, start=1)]
    for number, text in enumerate(texts[1:], start=1):
        assert text.startswith(headings[number - 1]), number
        assert [h for h in headings if h in text and h != headings[number - 1]] == [], number
        # The answer's first words are printed on its step's page (the answer is open on paper).
        assert " ".join(answers[number - 1].split()[:8]) in text, number
        assert STEPS[number - 1].question in text, number


def test_the_lesson_tabs_button_downloads_the_handout(browser, app_url, tmp_path):
    page = browser.new_page(viewport=DESKTOP)
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(app_url)
        page.get_by_role("tab", name="Lesson", exact=True).wait_for(state="visible")
        open_tab(page, "Lesson")
        started = time.perf_counter()
        page.locator("#lesson-download").click()
        link = page.locator("#lesson-handout a[download]").first
        link.wait_for(state="visible")
        with page.expect_download() as download_info:
            link.click()
        saved = tmp_path / "downloaded.html"
        download_info.value.save_as(saved)
        print(f"\nThe Lesson tab's handout: {time.perf_counter() - started:.1f} s from the click to the download")
    finally:
        page.close()
    assert_is_a_whole_handout(saved.read_text(encoding="utf-8"))
    offline, _, failed = open_offline(browser, saved, DESKTOP)
    try:
        assert failed == [] and offline.evaluate("document.images.length") > 20
    finally:
        offline.context.close()
