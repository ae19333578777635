"""What every handout must be, read from its HTML alone: self-contained, ten steps in order with
their answers closed, every picture a data URI that decodes."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

from PIL import Image

from poolformer_demo.lesson import STEPS
from poolformer_demo.ui.tabs.lesson.handout import CODE_URL, PAPER_URL

LINKS_OUT = {PAPER_URL, CODE_URL}


class Parsed(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def references_out(text: str) -> list[str]:
    """Every src, href or CSS url() that would make a request or leave the file, but plain links
    (<a>) to the paper and the project."""
    found = []
    for tag, attrs in Parsed(text).elements:
        for name in ("src", "href", "srcset", "poster", "data", "action", "xlink:href"):
            value = (attrs.get(name) or "").strip()
            if not value or value.startswith("data:") or value.startswith("#"):
                continue
            if tag == "a" and name == "href" and value in LINKS_OUT:
                continue
            found.append(f"<{tag} {name}={value!r}>")
    for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
        if not url.startswith(("data:", "#")):
            found.append(f"url({url})")
    found += re.findall(r"@import[^;]+;", text)
    return found


def pictures(text: str) -> list[Image.Image]:
    """Every <img> and CSS data URI picture, decoded."""
    uris = [attrs["src"] for tag, attrs in Parsed(text).elements if tag == "img"]
    uris += re.findall(r"url\((data:image/[^)]+)\)", text)
    decoded = []
    for uri in uris:
        header, payload = uri.split(",", 1)
        assert header.startswith("data:image/") and header.endswith(";base64"), header[:40]
        picture = Image.open(io.BytesIO(base64.b64decode(payload)))
        picture.load()
        decoded.append(picture)
    return decoded


def step_sections(text: str) -> list[dict]:
    """The steps' sections in document order: id, data-step, and whether the answer is open."""
    elements = Parsed(text).elements
    steps = [a for t, a in elements if t == "article" and "pf-lesson-card" in (a.get("class") or "")]
    sections = [a["id"] for t, a in elements if t == "section" and "pf-handout-step" in (a.get("class") or "")]
    reveals = [a for t, a in elements if t == "details" and "pf-reveal" in (a.get("class") or "")]
    return [
        {"id": section, "key": step["data-step"], "open": "open" in reveal}
        for section, step, reveal in zip(sections, steps, reveals, strict=True)
    ]


def lesson_data(text: str) -> dict:
    """The measurements the handout keeps as JSON."""
    match = re.search(r'<script type="application/json" id="pf-lesson-data">(.*?)</script>', text, re.S)
    return json.loads(match.group(1).replace("<\\/", "</"))


def assert_is_a_whole_handout(text: str) -> None:
    """One self-contained file with the ten steps in order, answers closed, pictures that decode."""
    assert references_out(text) == []
    sections = step_sections(text)
    assert [s["key"] for s in sections] == [s.key for s in STEPS]
    assert [s["id"] for s in sections] == [f"step-{n}" for n in range(1, len(STEPS) + 1)]
    assert not any(s["open"] for s in sections)
    images = [a for t, a in Parsed(text).elements if t == "img"]
    assert images and all(a.get("alt", "").strip() for a in images)
    assert all(p.width > 0 and p.height > 0 for p in pictures(text))
    assert "<svg" in text and 'id="pf-diagram-title"' in text
