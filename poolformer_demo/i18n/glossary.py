"""The glossary: each language's words for the technical terms, kept in its own catalog as the
``glossary.*`` messages (one file per language, so translators never edit the same file), and the
check that a catalog uses its term wherever the English message uses the English one.

A term's message lists its forms separated by " | " (``token mixer | token mixers``): the first is
the one the Learn tab shows; a message uses the term when it contains any form. English forms are
matched as whole words (``norm`` is not in ``normalise`` nor in ``before_norm``); other languages'
forms as written, since Chinese and Korean attach particles and Arabic its article to a word.
"""

from __future__ import annotations

import re

PREFIX = "glossary."
SEPARATOR = "|"


def term_forms(text: str) -> tuple[str, ...]:
    """A glossary message's forms, first the one to show."""
    return tuple(form.strip() for form in text.split(SEPARATOR) if form.strip())


def glossary_keys(english: dict[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The glossary's keys, in the English catalog's order."""
    from . import DEFAULT_LANGUAGE, catalog_keys

    english = english if english is not None else catalog_keys(DEFAULT_LANGUAGE)
    return tuple(key for key in english if key.startswith(PREFIX))


def _uses_english(text: str, forms: tuple[str, ...]) -> bool:
    # Code in backticks is a code name (`before_norm`), and a placeholder ({stage}) a value filled in
    # later: neither is the term written in the sentence.
    prose = re.sub(r"`[^`]*`|\{[^{}]*\}", " ", text)
    return any(re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", prose, re.IGNORECASE) for form in forms)


def _uses(text: str, forms: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(form.casefold() in folded for form in forms)


def check_glossary() -> list[str]:
    """Where a catalog does not use its glossary term although English uses the English term, one
    line per message (empty when all is well). A term a language has not filled in is not checked
    (the catalog check reports it as an empty translation)."""
    from . import DEFAULT_LANGUAGE, catalog_keys, languages

    english = catalog_keys(DEFAULT_LANGUAGE)
    keys = glossary_keys(english)
    problems = []
    for lang in languages():
        if lang.code == DEFAULT_LANGUAGE:
            continue
        theirs = catalog_keys(lang.code)
        for term in keys:
            english_forms = term_forms(english[term][0])
            forms = term_forms(theirs.get(term, ("",))[0])
            if not forms:
                continue
            for key, english_texts in english.items():
                if key.startswith(PREFIX) or not any(_uses_english(text, english_forms) for text in english_texts):
                    continue
                # Every form of a plural message (a language has its own number of them) must use it.
                missing = [i for i, text in enumerate(theirs.get(key, ())) if text and not _uses(text, forms)]
                if missing:
                    where = f"[{missing[0]}]" if len(theirs[key]) > 1 else ""
                    problems.append(
                        f"{lang.code}: {key}{where} does not use the glossary's {term[len(PREFIX) :]} "
                        f"({' | '.join(forms)})"
                    )
    return problems
