"""The words a visitor reads, in the visitor's language: one gettext catalog per language.

Every message has a key (``lesson.highpass.answer.edges``) and, in each language's catalog
(``catalogs/<language>.po``), a whole sentence with named placeholders (``{ratio:.1f}``); a message
that counts has plural forms, chosen by the language's own plural rule (Babel's CLDR data, written
into each catalog's ``Plural-Forms`` header). Sentences are never glued from fragments, so a
translator sees whole sentences and can order them as the language needs.

The catalogs are read with Babel and served through the standard library's ``gettext``. Adding a
language is one new catalog file: its name and direction come from the locale (Babel), so nothing
else changes. ``python -m poolformer_demo i18n check`` (and the tests) find missing keys and
placeholders that differ from English.

Numbers keep Western digits in every language (they are formatted by Python, not by the locale):
the measurements, code names and formulas are shared with the pictures and the papers.
"""

from __future__ import annotations

import functools
import gettext as stdlib_gettext
import html
import io
import logging
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"
DEFAULT_LANGUAGE = "en"

logger = logging.getLogger(__name__)

__all__ = [
    "CATALOG_DIR",
    "DEFAULT_LANGUAGE",
    "Language",
    "Messages",
    "Said",
    "catalog_keys",
    "check_catalogs",
    "check_glossary",
    "glossary_keys",
    "term_forms",
    "english",
    "language",
    "languages",
    "messages",
    "negotiate",
    "placeholders",
    "use_catalog_folder",
]


@dataclass(frozen=True)
class Language:
    code: str
    """The catalog's name and the URL's ``?lang=`` value, as a BCP 47 tag (``en``, ``zh-CN``, ``ar``)."""
    name: str
    """The language's own name for itself, for the language menu."""
    direction: str
    """"ltr" or "rtl"."""

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"


def _tag(stem: str) -> str:
    return stem.replace("_", "-")


@functools.cache
def languages() -> tuple[Language, ...]:
    """Every language with a catalog, English first, then by code."""
    from babel import Locale

    found = []
    for path in sorted(CATALOG_DIR.glob("*.po")):
        locale = Locale.parse(path.stem)
        name = _header(path, "X-Language-Name") or locale.get_display_name(locale) or path.stem
        direction = "rtl" if locale.character_order == "right-to-left" else "ltr"
        found.append(Language(_tag(path.stem), name, direction))
    return tuple(sorted(found, key=lambda lang: (lang.code != DEFAULT_LANGUAGE, lang.code)))


def language(code: str | None) -> Language:
    """The language of ``code`` (a catalog's tag, case-insensitive); English for anything unknown."""
    by_code = {lang.code.lower(): lang for lang in languages()}
    return by_code.get((code or "").strip().lower()) or by_code[DEFAULT_LANGUAGE]


def negotiate(*preferences: str | Iterable[str] | None) -> str:
    """The first supported language in the visitor's preferences, in order: a ``?lang=`` value, then
    the browser's languages (``navigator.languages`` or an Accept-Language header). A preference
    matches a catalog exactly (``zh-CN``) or by its first part (``es-MX`` -> ``es``, ``zh`` ->
    ``zh-CN``). English when nothing matches."""
    codes = {lang.code.lower(): lang.code for lang in languages()}
    primary = {}
    for lang in languages():
        primary.setdefault(lang.code.lower().split("-")[0], lang.code)
    for preference in preferences:
        items = [preference] if isinstance(preference, str) or preference is None else list(preference)
        for item in items:
            for part in (item or "").split(","):
                tag = part.split(";")[0].strip().replace("_", "-").lower()
                if not tag:
                    continue
                if tag in codes:
                    return codes[tag]
                if tag.split("-")[0] in primary:
                    return primary[tag.split("-")[0]]
    return DEFAULT_LANGUAGE


class Messages:
    """One language's messages: ``text(key, **params)`` and ``plural(key, count, **params)``; ``html``
    and ``html_plural`` for templates written in HTML (their values are escaped, the template is not);
    ``listed`` joins items as the language does; ``said`` says a core sentence (:class:`Said`) here."""

    def __init__(self, code: str, translations: stdlib_gettext.NullTranslations, keys: frozenset[str]):
        self.code = code
        self.language = language(code)
        self._translations = translations
        self._keys = keys

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def text(self, key: str, /, **params) -> str:
        """The message ``key`` with its placeholders filled from ``params``."""
        return self._format(key, self._translations.gettext(key), params)

    def plural(self, key: str, count: int, /, **params) -> str:
        """The form of message ``key`` that ``count`` takes in this language; ``{count}`` is filled too."""
        return self._format(key, self._translations.ngettext(key, key, int(count)), {"count": count, **params})

    def html(self, key: str, /, **params) -> str:
        """A message whose template is HTML (``<b>{name}</b>``): text values are escaped, the template is not."""
        return self.text(key, **_escaped(params))

    def html_plural(self, key: str, count: int, /, **params) -> str:
        return self.plural(key, count, **_escaped(params))

    def listed(self, items: Iterable[str]) -> str:
        """ "a, b and c" as this language joins a list (its catalog's list patterns)."""
        items = [str(item) for item in items]
        if len(items) < 2:
            return "".join(items)
        if len(items) == 2:
            return self.text("list.two", first=items[0], second=items[1])
        joined = items[0]
        for item in items[1:-1]:
            joined = self.text("list.more", first=joined, next=item)
        return self.text("list.last", rest=joined, last=items[-1])

    def alternatives(self, items: Iterable[str]) -> str:
        """ "a, b or c" as this language lists alternatives (its catalog's patterns)."""
        items = [str(item) for item in items]
        if len(items) < 2:
            return "".join(items)
        if len(items) == 2:
            return self.text("list.or_two", first=items[0], second=items[1])
        joined = items[0]
        for item in items[1:-1]:
            joined = self.text("list.more", first=joined, next=item)
        return self.text("list.or_last", rest=joined, last=items[-1])

    def enumerated(self, items: Iterable[str]) -> str:
        """ "a, b, c": items one after another, as this language separates them (its ``list.more``)."""
        items = [str(item) for item in items]
        joined = items[0] if items else ""
        for item in items[1:]:
            joined = self.text("list.more", first=joined, next=item)
        return joined

    def said(self, text: str) -> str:
        """A sentence from the core in this language: a :class:`Said` by its key, any other text as it is."""
        if not isinstance(text, Said):
            return text
        params = {name: self._said_value(value) for name, value in text.params.items()}
        if text.count is not None:
            return self.plural(text.key, text.count, **params)
        return self.text(text.key, **params)

    def _said_value(self, value):
        # A Said's value may be a sentence of its own, or several, said one after another.
        if isinstance(value, (list, tuple)):
            return self.enumerated(self.said(item) for item in value)
        return self.said(value) if isinstance(value, str) else value

    def _format(self, key: str, template: str, params: dict) -> str:
        if template == key and key not in self._keys:
            # A missing message must not take a page down; the catalog check names it.
            logger.warning("no message %r in the %s catalog", key, self.code)
            if self.code != DEFAULT_LANGUAGE:
                english = messages(DEFAULT_LANGUAGE)
                return english._format(key, english._translations.ngettext(key, key, params.get("count", 1)), params)
            return key
        return template.format(**params)


def _escaped(params: dict) -> dict:
    return {name: html.escape(value) if isinstance(value, str) else value for name, value in params.items()}


class Said(str):
    """A sentence the core says (error messages, notes on an image) that remembers its catalog key and
    values: as a string it is the English sentence, for programs, the command line and the logs; a page
    says it in the visitor's language with ``Messages.said``. ``Said.plural`` makes one of a plural
    message, in the form its count takes."""

    key: str
    params: dict
    count: int | None

    def __new__(cls, key: str, /, **params):
        return cls._made(key, None, params)

    @classmethod
    def plural(cls, key: str, count: int, /, **params) -> Said:
        return cls._made(key, int(count), params)

    @classmethod
    def _made(cls, key: str, count: int | None, params: dict) -> Said:
        # A value may be a tuple of items (names, sentences), said one after another.
        english = messages(DEFAULT_LANGUAGE)
        values = {name: english._said_value(value) for name, value in params.items()}
        text = english.text(key, **values) if count is None else english.plural(key, count, **values)
        said = str.__new__(cls, text)
        said.key, said.params, said.count = key, params, count
        return said

    def __reduce__(self):
        # Pickled (a ZeroGPU call's result, a deep copy) by its key and values, not by its English.
        if self.count is None:
            return _said, (self.key, self.params)
        return _said_plural, (self.key, self.count, self.params)


def _said(key: str, params: dict) -> Said:
    return Said(key, **params)


def _said_plural(key: str, count: int, params: dict) -> Said:
    return Said.plural(key, count, **params)


def english() -> Messages:
    """The English messages: what programs, the command line and the logs read."""
    return messages(DEFAULT_LANGUAGE)


@functools.cache
def messages(code: str | None = None) -> Messages:
    """The messages of language ``code`` (English for anything unknown), read once."""
    lang = language(code)
    catalog = _read(_path(lang.code))
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    translations = stdlib_gettext.GNUTranslations(buffer)
    if lang.code != DEFAULT_LANGUAGE:
        translations.add_fallback(messages(DEFAULT_LANGUAGE)._translations)
    keys = frozenset(_key(message.id) for message in catalog if message.id and message.string)
    return Messages(lang.code, translations, keys)


def catalog_keys(code: str) -> dict[str, tuple[str, ...]]:
    """Every key of a language's catalog and its text (one per plural form), as written in the file."""
    catalog = _read(_path(language(code).code))
    return {
        _key(message.id): tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string,)
        for message in catalog
        if message.id
    }


_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def placeholders(template: str) -> frozenset[str]:
    """The named placeholders of a template (``{ratio:.1f}`` -> ``ratio``)."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field:
            match = _FIELD.match(field)
            names.add(match.group(0) if match else field)
    return frozenset(names)


_MARKUP = re.compile(r"</?[A-Za-z][^>]*>|`[^`]*`")


def markup(template: str) -> tuple[str, ...]:
    """The HTML tags and the code spans of a template, which a translation keeps as they are."""
    return tuple(sorted(_MARKUP.findall(template)))


def check_catalogs() -> list[str]:
    """What is wrong with the catalogs, one line per problem (empty when all is well): keys missing
    from a language, keys English does not have, empty translations, placeholders that differ from
    English's (a plural form may leave ``{count}`` out, as "one" often does), and HTML tags or code
    spans that differ from English's."""
    english = catalog_keys(DEFAULT_LANGUAGE)
    problems = []
    for lang in languages():
        if lang.code == DEFAULT_LANGUAGE:
            continue
        theirs = catalog_keys(lang.code)
        for key in sorted(set(english) - set(theirs)):
            problems.append(f"{lang.code}: missing {key}")
        for key in sorted(set(theirs) - set(english)):
            problems.append(f"{lang.code}: {key} is not in the English catalog")
        for key in sorted(set(english) & set(theirs)):
            expected = set().union(*(placeholders(t) for t in english[key]))
            tags = markup(english[key][-1])
            for form in theirs[key]:
                if not form:
                    problems.append(f"{lang.code}: {key} has an empty translation")
                    continue
                found = placeholders(form)
                if found - expected or expected - found - {"count"}:
                    problems.append(
                        f"{lang.code}: {key} has placeholders {sorted(found)}, English has {sorted(expected)}"
                    )
                elif markup(form) != tags:
                    problems.append(
                        f"{lang.code}: {key} has tags or code {list(markup(form))}, English has {list(tags)}"
                    )
    return problems


def use_catalog_folder(folder: Path) -> Path:
    """Read the catalogs from ``folder`` from now on (a reviewer's working copy, a test's catalogs) and
    forget what was read; returns the folder read until now, to put back."""
    global CATALOG_DIR
    previous, CATALOG_DIR = CATALOG_DIR, Path(folder)
    for cached in (languages, messages, _read):
        cached.cache_clear()
    return previous


def _path(code: str) -> Path:
    return CATALOG_DIR / f"{code.replace('-', '_')}.po"


@functools.cache
def _read(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        return read_po(file, locale=path.stem)


def _key(message_id) -> str:
    return message_id[0] if isinstance(message_id, (tuple, list)) else message_id


def _header(path: Path, name: str) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines()[:40]:
        match = re.match(rf'^"{re.escape(name)}:\s*(.*?)\\n"$', line)
        if match:
            return match.group(1)
    return None


from .glossary import check_glossary, glossary_keys, term_forms  # noqa: E402 - it reads the catalogs above
