"""Reading the HTML the tabs' handlers return, for tests that call the handlers directly."""

from __future__ import annotations

import html
import re

import gradio as gr


def images(page: str, css_class: str) -> list[tuple[str, str]]:
    """(class attribute, src) of every <img> whose class list includes `css_class`."""
    found = re.findall(r'<img class="([^"]*)"[^>]* src="([^"]+)"', page)
    return [(classes, src) for classes, src in found if css_class in classes.split()]


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def skipped(value) -> bool:
    return value == gr.skip()
