"""Take the documentation's screenshots of a running app, as a visitor's browser shows them.

    python app.py &                                      # or any checkout's app, on any port
    python docs/screenshots/take.py --url http://127.0.0.1:7860/ languages
    python docs/screenshots/take.py --url http://127.0.0.1:7861/ --prefix before- lesson-step-6

Each shot opens a link (the page runs what the link restores), waits until the page has finished,
and saves a PNG here. Chromium is Debian's (`apt-get install chromium`), as in the tests.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
LAPTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
STAR = "example=shapes_star.png&model=shapes"
LANGUAGES = ("en", "zh-CN", "es", "ko", "ar")

# name -> (query, viewport, element to scroll to the top or None, button to press first or None)
SHOTS = {
    "lesson-step-6": (f"{STAR}&tab=lesson&step=6", LAPTOP, "#lesson-card", None),
    "inside-token-mixer": (f"{STAR}&tab=inside", LAPTOP, "#inside-mixer-stage", "#inside-mixer-button"),
}
for code in LANGUAGES:
    SHOTS[f"lang-{code}-lesson-step-8"] = (f"{STAR}&tab=lesson&step=8&lang={code}", LAPTOP, "#lesson-card", None)
    SHOTS[f"lang-{code}-explore-phone"] = (f"{STAR}&lang={code}", PHONE, None, None)
GROUPS = {"languages": [name for name in SHOTS if name.startswith("lang-")]}


def settle(page, timeout_s: float = 120) -> None:
    """Until nothing on the page is pending and the page has stopped changing for a second."""
    deadline = time.monotonic() + timeout_s
    last, quiet_since = None, time.monotonic()
    while time.monotonic() < deadline:
        busy = page.evaluate("!!document.querySelector('.pending, .generating, .eta-bar, progress')")
        html = page.evaluate("document.body.innerHTML.length")
        if busy or html != last:
            last, quiet_since = html, time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            return
        page.wait_for_timeout(250)


def take(url: str, names: list[str], prefix: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for name in names:
            query, viewport, element, button = SHOTS[name]
            context = browser.new_context(viewport=viewport, locale="en-US")
            page = context.new_page()
            page.goto(f"{url.rstrip('/')}/?{query}")
            settle(page)
            if button:
                page.locator(button).click()
                settle(page)
            # A lesson step is shown with its answer open, as a class sees it after predicting.
            for summary in page.locator("#lesson-card .pf-reveal > summary").all():
                summary.click()
            if element and page.locator(element).count():
                page.locator(element).first.evaluate("e => e.scrollIntoView({block: 'start'})")
                page.wait_for_timeout(300)
            path = HERE / f"{prefix}{name}.png"
            page.screenshot(path=str(path))
            print(path)
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860/")
    parser.add_argument("--prefix", default="", help="prepended to each file's name (before-, after-)")
    parser.add_argument("shots", nargs="+", help=f"shot names or groups: {', '.join([*GROUPS, *SHOTS])}")
    args = parser.parse_args()
    names = [name for shot in args.shots for name in GROUPS.get(shot, [shot])]
    unknown = [name for name in names if name not in SHOTS]
    if unknown:
        parser.error(f"unknown shot(s): {', '.join(unknown)}")
    take(args.url, names, args.prefix)


if __name__ == "__main__":
    main()
