"""Driving the app in Debian's Chromium (`apt-get install chromium`) through playwright: the
browser's settings and the waits every browser test shares. The `browser` fixture is in conftest.py."""

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
