"""The catalogs: every key in every language with English's placeholders, plural forms by each
language's own rule, the visitor's language negotiated, and a new language as one file."""

from __future__ import annotations

import pytest

from poolformer_demo import i18n

HEADER = """msgid ""
msgstr ""
"Language: {code}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: {plural}\\n"

"""


def catalog(code: str, plural: str, entries: str) -> str:
    return HEADER.format(code=code, plural=plural) + entries


@pytest.fixture
def catalogs(tmp_path, monkeypatch):
    """A catalog folder of the test's own (the caches are cleared before and after)."""
    monkeypatch.setattr(i18n, "CATALOG_DIR", tmp_path)
    for cached in (i18n.languages, i18n.messages, i18n._read):
        cached.cache_clear()
    yield tmp_path
    for cached in (i18n.languages, i18n.messages, i18n._read):
        cached.cache_clear()


ENGLISH = catalog(
    "en",
    "nplurals=2; plural=(n != 1);",
    'msgid "step.answer"\nmsgstr "The ratio is {ratio:.1f}."\n\n'
    'msgid "count.seeds"\nmsgid_plural "count.seeds"\nmsgstr[0] "{count} seed"\nmsgstr[1] "{count} seeds"\n',
)


def test_a_catalog_missing_a_key_fails_the_check_with_its_name(catalogs):
    (catalogs / "en.po").write_text(ENGLISH)
    (catalogs / "es.po").write_text(
        catalog("es", "nplurals=2; plural=(n != 1);", 'msgid "step.answer"\nmsgstr "La razón es {ratio:.1f}."\n')
    )
    assert i18n.check_catalogs() == ["es: missing count.seeds"]


def test_a_translation_with_other_placeholders_than_english_fails_the_check(catalogs):
    (catalogs / "en.po").write_text(ENGLISH)
    (catalogs / "es.po").write_text(
        catalog(
            "es",
            "nplurals=2; plural=(n != 1);",
            'msgid "step.answer"\nmsgstr "La razón es {razon:.1f}."\n\n'
            'msgid "count.seeds"\nmsgid_plural "count.seeds"\nmsgstr[0] "una semilla"\nmsgstr[1] "{count} semillas"\n',
        )
    )
    assert i18n.check_catalogs() == ["es: step.answer has placeholders ['razon'], English has ['ratio']"]


def test_plural_forms_follow_each_languages_rule_and_a_missing_key_falls_back_to_english(catalogs):
    (catalogs / "en.po").write_text(ENGLISH)
    arabic_forms = ["لا بذور", "بذرة واحدة", "بذرتان", "{count} بذور", "{count} بذرة", "{count} بذرة."]
    entries = 'msgid "count.seeds"\nmsgid_plural "count.seeds"\n' + "".join(
        f'msgstr[{i}] "{form}"\n' for i, form in enumerate(arabic_forms)
    )
    plural = (
        "nplurals=6; plural=(n == 0 ? 0 : n == 1 ? 1 : n == 2 ? 2 : n % 100 >= 3 && n % 100 <= 10 ? 3 : "
        "n % 100 >= 11 && n % 100 <= 99 ? 4 : 5);"
    )
    (catalogs / "ar.po").write_text(catalog("ar", plural, entries))
    arabic = i18n.messages("ar")
    assert [arabic.plural("count.seeds", n) for n in (0, 1, 2, 5, 11, 100)] == [
        "لا بذور",
        "بذرة واحدة",
        "بذرتان",
        "5 بذور",
        "11 بذرة",
        "100 بذرة.",
    ]
    english = i18n.messages("en")
    assert [english.plural("count.seeds", n) for n in (1, 2)] == ["1 seed", "2 seeds"]
    # Not translated yet: the page says it in English rather than failing.
    assert arabic.text("step.answer", ratio=2.54) == "The ratio is 2.5."
    assert i18n.language("ar").rtl and not i18n.language("en").rtl


def test_the_visitors_language_comes_from_the_link_then_the_browser_then_english(catalogs):
    for code in ("en", "es", "zh_CN", "ko"):
        (catalogs / f"{code}.po").write_text(ENGLISH.replace('"Language: en', f'"Language: {code}'))
    assert i18n.negotiate("ko", "es-ES,es;q=0.9") == "ko"
    assert i18n.negotiate(None, "es-MX,es;q=0.9,en;q=0.8") == "es"
    assert i18n.negotiate("", ["zh", "en"]) == "zh-CN"
    assert i18n.negotiate("xx", "fr-FR,de;q=0.5") == "en"
    assert i18n.language("ZH-cn").code == "zh-CN"


def test_a_new_language_is_one_catalog_file(catalogs):
    (catalogs / "en.po").write_text(ENGLISH)
    assert [lang.code for lang in i18n.languages()] == ["en"]
    french = ENGLISH.replace('"Language: en', '"Language: fr').replace("The ratio is", "Le rapport vaut")
    (catalogs / "fr.po").write_text(french)
    i18n.languages.cache_clear()
    (lang,) = [lang for lang in i18n.languages() if lang.code == "fr"]
    assert lang.name == "français" and lang.direction == "ltr"
    assert i18n.messages("fr").text("step.answer", ratio=1.25) == "Le rapport vaut 1.2."


def test_the_shipped_catalogs_pass_the_check():
    assert i18n.check_catalogs() == []
    assert i18n.languages()[0].code == "en"


def test_placeholders_are_read_by_name_whatever_their_format():
    assert i18n.placeholders("{ratio:.1f}× at {where} ({count})") == {"ratio", "where", "count"}
    assert i18n.placeholders("no fields, {{braces}} escaped") == frozenset()


def test_the_catalog_folder_is_shipped_with_the_package():
    # pyproject.toml's package data must carry the catalogs, or an installed app has no words.
    text = (i18n.CATALOG_DIR.parent.parent.parent / "pyproject.toml").read_text()
    assert '"poolformer_demo.i18n" = ["catalogs/*.po"]' in text
