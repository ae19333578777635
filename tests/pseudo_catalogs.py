"""Pseudo-translated catalogs for the tests: every message of the English catalog with its letters
replaced (accented Latin for a left-to-right language, Hebrew letters for a right-to-left one), its
placeholders, HTML tags, entities, code and link targets kept. A page shown in one of them has no
English word left that came through the catalog, so any English sentence on it is a literal the
catalog does not hold; and the right-to-left one mirrors the page as Arabic does."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from poolformer_demo import i18n
from poolformer_demo.i18n.files import Entry, read_entries, write_catalog

# Locales no translator will add: Esperanto (left to right) and Hebrew (right to left).
PSEUDO = {"eo": "ltr", "he": "rtl"}
_LATIN = str.maketrans("aeiouyncAEIOUYNC", "áéíóúýñçÁÉÍÓÚÝÑÇ")
_HEBREW = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "אבגדהוזחטיכלמנסעפצקרשתךםןףאבגדהוזחטיכלמנסעפצקרשתךםןף",
)
# What a translation keeps as it is: placeholders, tags, entities, code spans, link targets, and the
# glossary's separator.
_KEEP = re.compile(r"(\{[^{}]*\}|<[^>]+>|&[#\w]+;|`[^`]*`|\]\([^)]*\)|\s\|\s)")

HEADER = """msgid ""
msgstr ""
"Language: {code}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"""


def pseudo_text(text: str, direction: str) -> str:
    table = _HEBREW if direction == "rtl" else _LATIN
    return "".join(part if _KEEP.fullmatch(part) else part.translate(table) for part in _KEEP.split(text))


def write_pseudo_catalogs(folder: Path) -> Path:
    """A catalog folder holding the shipped catalogs and the pseudo ones."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in i18n.CATALOG_DIR.glob("*.po"):
        shutil.copy(path, folder / path.name)
    english = read_entries(i18n.CATALOG_DIR / "en.po")
    for code, direction in PSEUDO.items():
        entries = [Entry(e.key, tuple(pseudo_text(s, direction) for s in e.strings), e.plural) for e in english]
        write_catalog(folder / f"{code}.po", HEADER.format(code=code), entries)
    return folder
