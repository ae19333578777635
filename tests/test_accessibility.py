"""Accessibility in a real browser: axe-core on every tab after an analysis, the phone layout,
and the controls that must work from the keyboard.

axe-core comes from npm (`npm ci` at the repository root installs the version package.json pins).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_browser import TIMEOUT_MS, app_url, assert_no_error_toast, browser, in_ci, wait_for_result  # noqa: F401

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TABS = ["Explore", "Explain", "Compare", "Inside the block", "Learn"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# A paragraph narrower than this reads as a column of single words.
NARROWEST_TEXT_PX = 180
SCREENSHOTS = os.environ.get("A11Y_SCREENSHOTS")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        message = f"axe-core is not installed at {AXE}; run `npm ci` at the repository root."
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


def analysed_page(browser, app_url, viewport):  # noqa: F811
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click()
    wait_for_result(page, "the shapes example's analysis")
    return page


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    page.wait_for_timeout(400)


def serious_violations(page, axe_source: str) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now shown."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    results = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ("
        "{id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(' '))})))"
    )
    return [v for v in results if v["impact"] in ("serious", "critical")]


def test_no_tab_has_a_serious_accessibility_violation_after_an_analysis(browser, app_url, axe_source):  # noqa: F811
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
