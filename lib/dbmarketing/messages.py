"""Error messages on one line.

A scheduler's log gets one line per failure (``python -m dbmarketing`` prints it to stderr):
the file, the line and column (or the key) at fault, what is wrong and what to do. These are
the helpers every module uses to keep to that:

- :func:`cut_list` shows a long list as its first items and a count ("a, b, c ... and 9,997 more");
- :func:`closest` names the choices nearest to a misspelt name (a column, a parameter);
- :func:`one_line` puts any text on one line, clipped (a value shown in a message, a last resort);
- :func:`foreign` gives the message of another library's error (a database driver, openpyxl) on one line;
- :func:`safe_load` is yaml.safe_load in C (libyaml) when PyYAML has it, with safe_load's own errors;
- :func:`read_yaml` reads a YAML file, failing in one line with file, line, column and the problem
  (a syntax error, an impossible date such as 2026-02-30, bytes that are not UTF-8);
- :func:`line_of` is the line a byte offset of a file falls on (for bytes that do not decode).
"""

from __future__ import annotations

import datetime as dt
import difflib
import sys
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import ScalarNode


def cut_list(items, limit: int = 10, width: int = 40, total: int | None = None) -> str:
    """The items joined by ", ", at most `limit` of them, each clipped to `width` characters;
    the rest counted: "a, b, c ... and 9,997 more". `total` is the length of the whole list
    when `items` holds only its first ones."""
    items = [str(item) for item in items]
    total = len(items) if total is None else total
    shown = ", ".join(one_line(item, width) for item in items[:limit])
    if total > limit:
        shown += f" ... and {total - limit:,} more"
    return shown


def closest(word, choices, n: int = 3) -> str:
    """"the closest are 'a', 'b'": the choices most like a misspelt `word`, or "" when none is."""
    like = difflib.get_close_matches(str(word), [str(c) for c in choices], n=n)
    return f"the closest {'are' if len(like) > 1 else 'is'} {', '.join(map(repr, like))}" if like else ""


def one_line(text, width: int | None = 200) -> str:
    """`text` on one line: every run of white space (line breaks included) becomes one space;
    longer than `width` characters, it is cut there and ends in "..." ."""
    text = " ".join(str(text).split())
    if width is not None and len(text) > width:
        text = text[:max(width - 3, 1)].rstrip() + "..."
    return text


def foreign(error: BaseException, width: int = 300) -> str:
    """Another library's error message on one line: its first line (drivers add context below
    it, e.g. PostgreSQL's ``LINE 1:`` and a caret), or the type's name when it says nothing."""
    text = str(error).strip()
    return one_line(text.split("\n")[0], width) if text else type(error).__name__


def line_of(data: bytes, offset: int) -> int:
    """The 1-based line of the byte at `offset`."""
    return data.count(b"\n", 0, offset) + 1


class Loader(yaml.SafeLoader):
    """yaml.SafeLoader whose errors say where and what: a date that does not exist
    (2026-02-30) fails with its line, column and key instead of a bare
    "day is out of range for month"."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as error:
            raise ConstructorError(None, None, f"{node.value} is not a date ({error}); write a real date "
                                   "as YYYY-MM-DD", node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        try:
            return super().construct_mapping(node, deep=deep)
        except ConstructorError as error:  # name the key whose value failed (the innermost one)
            for key_node, value_node in node.value:
                if value_node.start_mark is error.problem_mark and isinstance(key_node, ScalarNode):
                    error.problem = f"{key_node.value}: {error.problem}"
                    break
            raise


Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)


# What to do about PyYAML's commonest complaints: (words in its problem or context, the advice).
_YAML_ADVICE = [
    ("expected <block end>", "indent this line like the lines of its block above"),
    ("cannot start any token", "indent with spaces, not tabs"),
    ("mapping values are not allowed here", "quote a value that holds ': ', or indent this line like its block"),
    ("expected ',' or ']'", "close the list that [ opens with ]"),
    ("expected ',' or '}'", "close the mapping that { opens with }"),
    ("while scanning a quoted scalar", "close the quotation mark"),
]


def _yaml_problem(error: yaml.YAMLError, text: str = "") -> str:
    """A YAML error on one line: "line 3, column 10: <the problem> (<context> at line 2, column 8)".
    `text` is the document, for errors that know only their position in it."""
    mark = getattr(error, "problem_mark", None)
    if mark is None:  # a ReaderError: a character YAML does not allow, at a position of the text
        position = getattr(error, "position", None)
        if not isinstance(position, int):
            return f"not valid YAML: {foreign(error)}"
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        code = ord(error.character) if isinstance(error.character, str) else error.character
        return f"line {line}, column {column}: not valid YAML: {one_line(error.reason)} (character #x{code:04x})"
    problem = one_line(error.problem or "not valid YAML")
    if not isinstance(error, ConstructorError):
        problem = f"not valid YAML: {problem}"
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and context_mark is not None and (context_mark.line, context_mark.column) != (mark.line, mark.column):
        problem += f" ({one_line(context)} at line {context_mark.line + 1}, column {context_mark.column + 1})"
    elif context:
        problem += f" ({one_line(context)})"
    said = f"{error.problem} {context or ''}"
    advice = next((advice for words, advice in _YAML_ADVICE if words in said), None)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" + (f"; {advice}" if advice else "")


def safe_load(text: str):
    """``yaml.safe_load(text)``, read by libyaml (C; the workbook's own catalogs and maps in a
    fifth of the time) when PyYAML was built with it. A document libyaml refuses is read again by
    PyYAML's Python loader, so that its error is the one safe_load raises (the same words, line
    and column)."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is None:
        return yaml.safe_load(text)
    try:
        return yaml.load(text, Loader=fast)
    except yaml.YAMLError:
        return yaml.safe_load(text)  # raises safe_load's error (libyaml words its errors otherwise)


def read_yaml(path: str | Path, error: type[Exception], what: str = "file", loader: type = Loader):
    """The YAML document of a file (None when empty). Any problem raises `error` on one line
    naming the file: it cannot be read, its bytes are not UTF-8 (the first line that is not),
    or its YAML is wrong (line, column and what is wrong). `what` names the file in words
    ("sources file"); `loader` is :class:`Loader` or a subclass."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path}, line {line_of(data, exc.start)}: the {what} is not UTF-8 ({exc.reason}); "
                    "save it as UTF-8") from None
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise error(f"{path}, {_yaml_problem(exc, text)}") from None


LOG_WIDTH = 119


def log(text, out=None) -> str:
    """One line of a scheduler's log (``reports/cron.log``): the local date and time, then
    ``text`` on one line, cut so that the whole line stays under 120 characters; written to
    ``out`` (standard output by default) and returned."""
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    line = f"{stamp}  {one_line(text, LOG_WIDTH - len(stamp) - 2)}"
    print(line, file=out or sys.stdout, flush=True)
    return line
