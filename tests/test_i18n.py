"""The catalogs: every key in every language with English's placeholders, plural forms by each
language's own rule, the visitor's language negotiated, and a new language as one file."""

from __future__ import annotations

import re

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
    shipped = i18n.use_catalog_folder(tmp_path)
    yield tmp_path
    i18n.use_catalog_folder(shipped)


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


def test_a_translation_that_drops_a_tag_or_a_code_span_fails_the_check(catalogs):
    english = 'msgid "a"\nmsgstr "Press <b>Run</b> to see `before_norm`."\n'
    (catalogs / "en.po").write_text(catalog("en", "nplurals=2; plural=(n != 1);", english))
    spanish = 'msgid "a"\nmsgstr "Pulsa Run para ver `before_norm`."\n'
    (catalogs / "es.po").write_text(catalog("es", "nplurals=2; plural=(n != 1);", spanish))
    (problem,) = i18n.check_catalogs()
    assert problem.startswith("es: a has tags or code") and "<b>" in problem


GLOSSARY_ENGLISH = (
    'msgid "glossary.token_mixer"\nmsgstr "token mixer | token mixers"\n\n'
    'msgid "step"\nmsgstr "The token mixers of every stage."\n\n'
    'msgid "code"\nmsgstr "The code name `token_mixer` is not the term."\n\n'
    'msgid "value"\nmsgstr "Off: {token mixer}."\n'
)


def test_a_catalog_that_does_not_use_its_glossary_term_fails_with_the_message_and_the_term(catalogs):
    (catalogs / "en.po").write_text(catalog("en", "nplurals=2; plural=(n != 1);", GLOSSARY_ENGLISH))
    spanish = (
        'msgid "glossary.token_mixer"\nmsgstr "mezclador de tokens | mezcladores de tokens"\n\n'
        'msgid "step"\nmsgstr "Los mezcladores de cada etapa."\n\n'
        'msgid "code"\nmsgstr "El nombre `token_mixer` no es el término."\n\n'
        'msgid "value"\nmsgstr "Apagado: {token mixer}."\n'  # a placeholder is a value, not the term
    )
    (catalogs / "es.po").write_text(catalog("es", "nplurals=2; plural=(n != 1);", spanish))
    assert i18n.check_glossary() == [
        "es: step does not use the glossary's token_mixer (mezclador de tokens | mezcladores de tokens)"
    ]
    (catalogs / "es.po").write_text(
        catalog("es", "nplurals=2; plural=(n != 1);", spanish.replace("Los mezcladores", "Los mezcladores de tokens"))
    )
    i18n.use_catalog_folder(catalogs)  # the file changed: read it again
    assert i18n.check_glossary() == []


def test_a_term_a_translator_has_not_filled_in_is_left_to_the_catalog_check(catalogs):
    (catalogs / "en.po").write_text(catalog("en", "nplurals=2; plural=(n != 1);", GLOSSARY_ENGLISH))
    unfilled = (
        'msgid "glossary.token_mixer"\nmsgstr ""\n\nmsgid "step"\nmsgstr "Etapas."\n\nmsgid "code"\nmsgstr "C."\n\n'
        'msgid "value"\nmsgstr "{token mixer}"\n'
    )
    (catalogs / "es.po").write_text(catalog("es", "nplurals=2; plural=(n != 1);", unfilled))
    assert i18n.check_glossary() == []
    assert "es: glossary.token_mixer has an empty translation" in i18n.check_catalogs()


def test_the_glossary_names_the_terms_in_english_first():
    terms = {key: i18n.term_forms(i18n.english().text(key)) for key in i18n.glossary_keys()}
    assert terms["glossary.token_mixer"][0] == "token mixer" and "token mixers" in terms["glossary.token_mixer"]
    assert {"glossary.channel_mlp", "glossary.receptive_field", "glossary.grad_cam", "glossary.seed"} <= set(terms)


def test_a_core_sentence_is_english_for_programs_and_said_again_by_its_key_on_a_page(catalogs):
    import pickle

    (catalogs / "en.po").write_text(ENGLISH)
    spanish = ENGLISH.replace('"Language: en', '"Language: es').replace("The ratio is", "La razón es")
    spanish = spanish.replace('"{count} seed"', '"{count} semilla"').replace('"{count} seeds"', '"{count} semillas"')
    (catalogs / "es.po").write_text(spanish)
    said = i18n.Said("step.answer", ratio=2.54)
    counted = i18n.Said.plural("count.seeds", 2)
    assert said == "The ratio is 2.5." and counted == "2 seeds"
    es = i18n.messages("es")
    assert es.said(said) == "La razón es 2.5." and es.said(counted) == "2 semillas"
    assert es.said("plain text") == "plain text"
    # A result that crosses a process (ZeroGPU) or is copied keeps its key, not only its English.
    again = pickle.loads(pickle.dumps(counted))
    assert again == "2 seeds" and es.said(again) == "2 semillas"


def test_lists_are_joined_by_the_languages_own_words():
    english = i18n.english()
    assert [english.listed(items) for items in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == [
        "",
        "a",
        "a and b",
        "a, b and c",
    ]
    assert english.alternatives(["1,500", "3,000"]) == "1,500 or 3,000"


def test_the_check_command_exits_with_one_and_names_each_problem(catalogs, capsys):
    from poolformer_demo.cli import main

    (catalogs / "en.po").write_text(ENGLISH)
    assert main(["i18n", "check"]) == 0
    (catalogs / "es.po").write_text(
        catalog("es", "nplurals=2; plural=(n != 1);", 'msgid "step.answer"\nmsgstr "La razón es {ratio:.1f}."\n')
    )
    i18n.languages.cache_clear()
    assert main(["i18n", "check"]) == 1
    assert "es: missing count.seeds" in capsys.readouterr().out


def test_a_new_language_starts_from_english_with_its_own_plural_forms(catalogs):
    from poolformer_demo.cli import main

    (catalogs / "en.po").write_text(ENGLISH)
    assert main(["i18n", "new", "ar"]) == 0
    text = (catalogs / "ar.po").read_text()
    assert "nplurals=6;" in text and 'msgstr[5] ""' in text and "X-Language-Name: العربية" in text
    i18n.languages.cache_clear()
    assert i18n.language("ar").rtl
    # Every message is there to fill in, and the check says which are still empty.
    assert "ar: step.answer has an empty translation" in i18n.check_catalogs()
    assert main(["i18n", "new", "ar"]) == 1


KEY_CALL = re.compile(
    r"""(?:\.(?:text|plural|html|html_plural)\(|Said(?:\.plural)?\(|(?:label|info|value)=)\s*"([a-z_]+(?:\.[a-z_0-9]+)+)\""""
)


def test_every_key_the_code_names_is_in_the_english_catalog():
    package = i18n.CATALOG_DIR.parent.parent
    named = {
        key: path.relative_to(package)
        for path in package.rglob("*.py")
        for key in KEY_CALL.findall(path.read_text(encoding="utf-8"))
    }
    english = i18n.catalog_keys("en")
    missing = {key: str(path) for key, path in named.items() if key not in english}
    assert len(named) > 300 and missing == {}
