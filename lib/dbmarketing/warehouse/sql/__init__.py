"""Named, parameterised queries: the one place the workbook's SQL lives.

Each stage keeps its statements in ``<stage>.sql`` beside this file, as named blocks::

    -- name: order_exclusion
    -- The reason a raw order is left out of sales, NULL if it counts.
    CASE WHEN o.customer_id IS NULL THEN 'anonymous order' ... END

and runs them by name, ``"<stage>.<name>"`` (``"warehouse.order_exclusion"``):

- **Values are parameters** (``$as_of``, ``$threshold``: DuckDB's named parameters, passed
  in ``params``), never pasted into the text.
- **Parts a parameter cannot fill** -- a table or column name, another named statement used
  as a fragment, an engine-specific function from :mod:`dbmarketing.warehouse.dialect` --
  are placeholders ``{{name}}`` filled by keyword: with :func:`ident` for names, the text of
  another statement, or, where the engine refuses parameters (the body of a view),
  :func:`literal`, the one quoting helper.
- **Temporary tables** get a name of their own per call (:func:`temp_name`), so two sessions
  never share one.

Every statement that runs is recorded in :data:`RAN` (name -> the last text and parameters),
so a test can run the workbook once and then check each statement on a second engine.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib.resources import files

__all__ = ["Query", "queries", "text", "run", "one", "relation", "ident", "literal", "temp_name", "RAN"]

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.M)
_HOLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_PARAM = re.compile(r"(?<![\w$:])\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Query:
    name: str  # "<stage>.<name>"
    doc: str  # the comment lines under the name
    sql: str  # the statement, with {{placeholders}} and $parameters
    holes: tuple[str, ...]


_QUERIES: dict[str, Query] = {}
RAN: dict[str, tuple[str, dict]] = {}


def _load() -> dict[str, Query]:
    if _QUERIES:
        return _QUERIES
    for path in sorted(files(__name__).iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".sql"):
            continue
        stage = path.name[:-4]
        body = path.read_text(encoding="utf-8")
        marks = list(_NAME.finditer(body))
        if body[: marks[0].start()].strip() if marks else body.strip():
            lead = body[: marks[0].start()] if marks else body
            if any(line.strip() and not line.lstrip().startswith("--") for line in lead.splitlines()):
                raise ValueError(f"{path.name}: SQL before the first '-- name:' line")
        for i, mark in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(body)
            block = body[mark.end():end].strip("\n")
            lines = block.splitlines()
            doc = []
            while lines and lines[0].lstrip().startswith("--"):
                doc.append(lines.pop(0).lstrip()[2:].strip())
            name = f"{stage}.{mark.group(1)}"
            if name in _QUERIES:
                raise ValueError(f"{path.name}: the statement {mark.group(1)!r} is named twice")
            sql = "\n".join(lines).strip().rstrip(";")
            holes = tuple(dict.fromkeys(_HOLE.findall(sql)))
            _QUERIES[name] = Query(name, " ".join(doc), sql, holes)
    return _QUERIES


def queries() -> dict[str, Query]:
    """Every named statement, by ``"<stage>.<name>"``."""
    return dict(_load())


def text(name: str, **parts) -> str:
    """The statement ``name`` with its ``{{placeholders}}`` filled from ``parts`` (each given
    exactly once: a missing or an unknown part is an error, so a typo cannot pass)."""
    try:
        query = _load()[name]
    except KeyError:
        raise KeyError(f"no SQL statement named {name!r} (lib/dbmarketing/warehouse/sql/{name.split('.')[0]}.sql)") from None
    missing = [h for h in query.holes if h not in parts]
    unknown = [p for p in parts if p not in query.holes]
    if missing or unknown:
        raise TypeError(f"SQL {name}: " + "; ".join(
            ([f"fill {', '.join(missing)}"] if missing else []) + ([f"no placeholder {', '.join(unknown)}"] if unknown else [])))
    return _HOLE.sub(lambda m: str(parts[m.group(1)]), query.sql)


def _prepare(name: str, params: dict | None, parts: dict) -> tuple[str, dict]:
    sql = text(name, **parts)
    params = dict(params or {})
    used = set(_PARAM.findall(_strip_strings(sql)))
    missing = used - set(params)
    if missing:
        raise TypeError(f"SQL {name}: no value for ${', $'.join(sorted(missing))}")
    given = {k: v for k, v in params.items() if k in used}
    RAN[name] = (sql, given)
    return sql, given


def run(con, name: str, params: dict | None = None, **parts):
    """Execute the statement ``name`` on ``con`` with ``params`` as its ``$parameters`` (only
    those the filled text uses are passed; one it uses but is not given is an error) and
    return the connection's result (``.fetchall()``, ``.df()``, ...). Read a result to its
    end (``fetchall``, ``df``; :func:`one` for a single row): DuckDB refuses other work on a
    connection while a result is unfinished."""
    sql, given = _prepare(name, params, parts)
    return con.execute(sql, given) if given else con.execute(sql)


def one(con, name: str, params: dict | None = None, **parts):
    """The first row of the statement's result (None when it has none), the result read to
    its end."""
    rows = run(con, name, params, **parts).fetchall()
    return rows[0] if rows else None


def relation(con, name: str, params: dict | None = None, **parts):
    """The statement as a lazy DuckDB relation (to filter, join or ``.df()`` further), recorded
    in :data:`RAN` like :func:`run`."""
    sql, given = _prepare(name, params, parts)
    return con.sql(sql, params=given) if given else con.sql(sql)


def _strip_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def ident(*parts: str) -> str:
    """A quoted identifier: ``ident("main", "sales")`` -> ``"main"."sales"``."""
    for p in parts:
        if not isinstance(p, str) or not p:
            raise ValueError(f"not a name: {p!r}")
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def literal(value) -> str:
    """A value written as an SQL literal, for the few places an engine refuses parameters
    (the body of a view, a DDL default). Everywhere else pass it as a parameter."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"no SQL literal for {value!r}")
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for a {type(value).__name__}")


def temp_name(stem: str) -> str:
    """A temporary table's name of its own (``_<stem>_<8 hex digits>``): two sessions, or two
    calls in one session, never write into the same one."""
    return f"_{stem}_{uuid.uuid4().hex[:8]}"
