"""Catalog files as entries: read one, write one in gettext's layout, and start a new language's from
English's (every message empty, with the language's own plural forms), for ``i18n new``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# gettext's tools wrap at 76 columns; so do the files written here, so a diff shows one change.
WIDTH = 76


@dataclass(frozen=True)
class Entry:
    key: str
    strings: tuple[str, ...]
    """The message, or one string per plural form."""
    plural: bool = False
    comments: tuple[str, ...] = ()
    """What a translator should know (``#.`` lines)."""


def read_entries(path: Path) -> list[Entry]:
    """The entries of a catalog file, in its order (the header left out)."""
    from babel.messages.pofile import read_po

    with Path(path).open("rb") as file:
        catalog = read_po(file, locale=Path(path).stem)
    entries = []
    for message in catalog:
        if not message.id:
            continue
        plural = isinstance(message.id, (tuple, list))
        key = message.id[0] if plural else message.id
        strings = tuple(message.string) if plural else (message.string,)
        entries.append(Entry(key, strings, plural, tuple(message.auto_comments)))
    return entries


def read_header(path: Path) -> str:
    """The header of a catalog file: its opening comments and its empty message, as written."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    end = next((i for i, line in enumerate(lines) if i > 0 and not line.strip()), len(lines))
    return "\n".join(lines[:end]) + "\n"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n") + '"'


def _chunks(text: str) -> list[str]:
    """The text in pieces of at most WIDTH quoted characters, broken after a space or a newline."""
    pieces: list[str] = []
    for line in text.splitlines(keepends=True):
        while len(_quoted(line)) > WIDTH:
            cut = line.rfind(" ", 0, WIDTH - 2)
            cut = cut + 1 if cut > 0 else WIDTH - 2
            pieces.append(line[:cut])
            line = line[cut:]
        pieces.append(line)
    return pieces or [""]


def _field(name: str, text: str) -> list[str]:
    pieces = _chunks(text)
    if len(pieces) == 1 and len(name) + 1 + len(_quoted(text)) <= WIDTH + 4:
        return [f"{name} {_quoted(text)}"]
    return [f'{name} ""', *(_quoted(piece) for piece in pieces)]


def entry_lines(entry: Entry) -> list[str]:
    lines = [f"#. {comment}" for comment in entry.comments]
    lines.append(f"msgid {_quoted(entry.key)}")
    if entry.plural:
        lines.append(f"msgid_plural {_quoted(entry.key)}")
        for index, string in enumerate(entry.strings):
            lines += _field(f"msgstr[{index}]", string)
    else:
        lines += _field("msgstr", entry.strings[0])
    return lines


def write_catalog(path: Path, header: str, entries: list[Entry]) -> None:
    blocks = [header.rstrip("\n")] + ["\n".join(entry_lines(entry)) for entry in entries]
    Path(path).write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


NEW_HEADER = """# {name} messages of PoolFormer Explorer, translated from en.po (the source of every message).
# Each msgid is a key: leave it as it is and write the {name} sentence in msgstr, keeping every
# {{placeholder}} and every HTML tag of the English. The glossary.* messages are this language's words
# for the technical terms; use them wherever the English uses the English term.
msgid ""
msgstr ""
"Project-Id-Version: PoolFormer Explorer\\n"
"Language: {code}\\n"
"X-Language-Name: {name}\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals={count}; plural={rule};\\n"
"""


def new_catalog(english: Path, code: str, folder: Path) -> Path:
    """Start the catalog of language ``code`` (``ko``, ``zh_CN``): every English message with an empty
    translation, and as many plural forms as the language has (CLDR's rule, through Babel)."""
    from babel import Locale
    from babel.messages.plurals import get_plural

    stem = code.strip().replace("-", "_")
    locale = Locale.parse(stem)  # an unknown language fails here, before anything is written
    name = locale.get_display_name(locale)
    plural = get_plural(locale)
    entries = [
        Entry(e.key, ("",) * (plural.num_plurals if e.plural else 1), e.plural, e.comments)
        for e in read_entries(english)
    ]
    # Named as asked (zh_CN), not as Babel spells the locale (zh_Hans_CN): the name is the ?lang= value.
    path = Path(folder) / f"{stem}.po"
    if path.exists():
        raise FileExistsError(f"{path.name} exists already; edit it instead.")
    header = NEW_HEADER.format(name=name, code=stem, count=plural.num_plurals, rule=plural.plural_expr)
    write_catalog(path, header, entries)
    return path
