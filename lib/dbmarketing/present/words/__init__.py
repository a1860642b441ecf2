"""The words of the reports, one catalog per language: ``words/<lang>/*.yaml``.

Every file of a language is a mapping with up to three parts; all files of a language are
read as one catalog:

- ``text``: sentences and titles, by key (``rfm.overview``: the file's name, a dot, the
  key), written as Python format strings (``{customers:,}``) filled by :func:`text`;
- ``headers``: the column name of a table -> the header a reader sees (:func:`header`);
- ``labels``: a value the data or the code holds (a customer type, a segment name, an
  action) -> the word a reader sees (:func:`label`).

The language is set once per notebook by :func:`dbmarketing.present.setup_notebook`
(its ``lang`` parameter) and read by every helper that prints words. Both languages hold
the same keys with the same placeholders (a test checks it), so code never branches on
the language: it asks for a key.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dbmarketing import messages

LANGS = ("en", "zh")
FOLDER = Path(__file__).parent
PARTS = ("text", "headers", "labels")

_current = {"lang": "en"}


class WordsError(ValueError):
    """A catalog file that does not read, or a key that is missing."""


def set_lang(lang: str) -> str:
    """Make ``lang`` ("en" or "zh") the language of every helper that prints words."""
    if lang not in LANGS:
        raise WordsError(f"lang {lang!r} is not one of {', '.join(LANGS)}")
    _current["lang"] = lang
    return lang


def lang() -> str:
    """The language set by :func:`set_lang` ("en" unless set)."""
    return _current["lang"]


@functools.cache
def catalog(lang: str) -> dict[str, dict]:
    """The catalog of ``lang``: ``{"text": {...}, "headers": {...}, "labels": {...}}``, keys of
    ``text`` prefixed with their file's name. A key twice in one part is an error naming both files."""
    if lang not in LANGS:
        raise WordsError(f"lang {lang!r} is not one of {', '.join(LANGS)}")
    merged = {part: {} for part in PARTS}
    seen = {part: {} for part in PARTS}
    for path in sorted((FOLDER / lang).glob("*.yaml")):
        try:
            content = messages.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise WordsError(f"{path}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from None
        unknown = set(content) - set(PARTS)
        if unknown:
            raise WordsError(f"{path}: unknown part(s) {', '.join(sorted(unknown))}; a catalog file holds "
                             f"{', '.join(PARTS)}")
        for part in PARTS:
            for key, value in (content.get(part) or {}).items():
                full = f"{path.stem}.{key}" if part == "text" else key
                if full in merged[part]:
                    raise WordsError(f"{path}: {part} {full!r} is also in {seen[part][full]}")
                merged[part][full] = value
                seen[part][full] = path.name
    return merged


def text(key: str, **values) -> str:
    """The sentence ``key`` ("chapter.name") in the current language, filled with ``values``."""
    try:
        template = catalog(lang())["text"][key]
    except KeyError:
        raise WordsError(f"no text {key!r} in the {lang()} catalog ({FOLDER / lang()})") from None
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise WordsError(f"text {key!r} ({lang()}): {type(exc).__name__}: {exc}") from None


def has(key: str) -> bool:
    """Whether the catalog holds the sentence ``key`` (both languages hold the same keys)."""
    return key in catalog(lang())["text"]


def text_or(key: str, default: str, **values) -> str:
    """The sentence ``key`` when the catalog holds it, else ``default`` (a value from the data
    that has no words of its own, e.g. a rule or table a user added)."""
    return text(key, **values) if has(key) else default


def of(file: str):
    """:func:`text` for the keys of one catalog file: ``of("rfm")("overview")`` is ``text("rfm.overview")``."""
    return functools.partial(_text_of, file)


def _text_of(file: str, key: str, **values) -> str:
    return text(f"{file}.{key}", **values)


def table(name) -> str:
    """A table of the database as a reader names it (``raw.order_lines`` -> "order lines"): the
    catalog's ``common.table_<name>``, else the name as the database has it."""
    short = str(name).split(".")[-1]
    return text_or("common.table_" + re.sub(r"[^a-z0-9]+", "_", short.lower()).strip("_"), short)


@dataclass(frozen=True)
class Phrase:
    """A sentence to be read later, in the language of the moment it is read: the catalog's
    ``key`` with ``values``. Code that decides *why* (a model that cannot be fitted, a match
    model that cannot run) returns a Phrase; ``str()`` words it for the reader. Stored in the
    database as :meth:`record` (the key and values, not one language's words). A text value is
    read as a value of the data (a channel, a segment, a customer type): its :func:`label`."""

    key: str
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return text(self.key, **{name: label(v) for name, v in self.values.items()})

    def record(self) -> dict:
        return {"key": self.key, "values": dict(self.values)}

    @classmethod
    def from_record(cls, record) -> "Phrase | str":
        """A stored Phrase back (a plain string, as older runs stored it, comes back as it is)."""
        if isinstance(record, dict) and "key" in record:
            return cls(record["key"], dict(record.get("values") or {}))
        return record


def header(column) -> str:
    """The header a reader sees for ``column``: the catalog's, else the name with spaces."""
    found = catalog(lang())["headers"].get(column)
    if found is not None:
        return found
    return str(column).replace("_", " ")


def label(value):
    """The word a reader sees for a value the data holds (a customer type, a segment, an
    action): the catalog's, else the value itself."""
    if isinstance(value, str):
        return catalog(lang())["labels"].get(value, value)
    return value


def placeholders(template: str) -> set[str]:
    """The names a format string fills (``{customers:,}`` -> ``customers``)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}
