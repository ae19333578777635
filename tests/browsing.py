"""Driving the app in Debian's Chromium (`apt-get install chromium`) through playwright: the
browser's settings, the waits every browser test shares, opening a tab and reading axe-core's
findings. The `browser` and `axe_source` fixtures are in conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The app's tabs, in their order on the page.
TABS = ["Explore", "Lesson", "Explain", "Compare", "Inside the block", "Learn"]
TIMEOUT_MS = 60_000
ERROR_TOAST = '[data-testid="toast-body"].error'


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


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


# The enlarged Grad-CAM, the four-stage strip, and three feature views of four stages.
RESULT_IMAGES = 1 + 4 + 3 * 4
TOP5 = "document.querySelectorAll('#predictions button.confidence-set').length === 5"


def wait_for_result(page, what: str = "the result") -> None:
    """Until the Explore tab shows a whole result: the top-5 and every picture decoded."""
    wait_until(page, f"{TOP5} && {images_loaded('#explore-results', RESULT_IMAGES)}", what)


# Gradio marks a component whose request runs with these; its text is faded meanwhile.
PENDING = ".pending, .generating, [data-testid=status-tracker] .eta-bar"
# How long the page must stay unchanged to count as settled: Gradio starts a tab's events a few
# frames after the click, and some events start another when they end.
QUIET_MS = 250
WATCH_CHANGES = """() => {
  if (window.pfTestLastChange === undefined) {
    window.pfTestLastChange = performance.now();
    new MutationObserver(() => { window.pfTestLastChange = performance.now(); })
      .observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  }
}"""
SETTLED = f"""!document.querySelector('{PENDING}')
  && document.getAnimations()
    .every(a => a.playState !== 'running' || a.effect.getComputedTiming().iterations === Infinity)
  && performance.now() - window.pfTestLastChange > {QUIET_MS}"""


def settled(page) -> None:
    """Until no request is pending, no transition runs (faded text fades back) and the page has not
    changed for QUIET_MS: what a reader, or axe-core, then sees is what the page shows."""
    page.evaluate(WATCH_CHANGES)
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS)


def open_tab(page, name: str) -> None:
    """Open a tab and wait until it has settled; on a narrow screen Gradio moves the tabs that do not
    fit into a "More tabs" menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.is_visible():
        tab.click()
    else:
        page.locator('button[aria-label="More tabs"]').click()
        page.locator(".overflow-dropdown button", has_text=name).first.click()
    page.wait_for_function(
        f"Array.from(document.querySelectorAll('[role=tab][aria-selected=true]')).some(t => t.innerText === {name!r})",
        timeout=TIMEOUT_MS,
    )
    settled(page)


def serious_violations(page, axe_source: str, within: str = "document") -> list[dict]:
    """axe-core's serious and critical violations in `within` (a JavaScript expression for a node)
    as the page shows it now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    results = page.evaluate(
        f"axe.run({within}, {{resultTypes: ['violations']}}).then(r => r.violations.map(v => ("
        "{id: v.id, impact: v.impact, targets: v.nodes.map(n => n.target.join(' '))})))"
    )
    return [v for v in results if v["impact"] in ("serious", "critical")]
