"""`python -m poolformer_demo i18n`: check the catalogs (a reviewer fixing a word runs it), and start
the catalog of a new language from English's."""

from __future__ import annotations

import argparse
import sys

from . import DEFAULT_LANGUAGE, check_catalogs, check_glossary, languages
from .files import new_catalog


def run_check(_: argparse.Namespace) -> int:
    """Every catalog against English (keys, placeholders, tags, plural forms) and its glossary terms;
    exit status 1 when anything is wrong."""
    problems = check_catalogs() + check_glossary()
    for problem in problems:
        print(problem)
    checked = ", ".join(lang.code for lang in languages())
    if problems:
        print(f"{len(problems)} problem(s) in the catalogs ({checked}).", file=sys.stderr)
        return 1
    print(f"The catalogs are complete and consistent: {checked}.")
    return 0


def run_new(args: argparse.Namespace) -> int:
    from babel.core import UnknownLocaleError

    from . import CATALOG_DIR  # read now: the folder may have been set since this module was imported

    try:
        path = new_catalog(CATALOG_DIR / f"{DEFAULT_LANGUAGE}.po", args.language, CATALOG_DIR)
    except (FileExistsError, ValueError, UnknownLocaleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{path}: every message of English, untranslated; fill in each msgstr, then run `i18n check`.")
    return 0


def add_parser(commands) -> None:
    parser = commands.add_parser("i18n", help="Check the page's catalogs of messages, or start a new language.")
    actions = parser.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="Check every catalog against English and its glossary terms.")
    check.set_defaults(run=run_check)
    new = actions.add_parser("new", help="Start a new language's catalog from English (e.g. `i18n new fr`).")
    new.add_argument("language", help="the language's code: fr, pt_BR, zh_TW…")
    new.set_defaults(run=run_new)
