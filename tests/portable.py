"""The round trip every named SQL statement must survive (tests/test_portable_sql.py): each query
the workbook runs through ``warehouse.sql`` is executed twice, as written (DuckDB) and after a
round trip through Spark SQL with sqlglot (DuckDB -> Spark -> DuckDB), and the two results must
be equal; a statement that writes (INSERT, DELETE, CREATE ...) must transpile both ways and still
be valid DuckDB (run in a rolled-back savepoint it would lock others out, so it is parsed, not
run twice).

:class:`Checker` does it in this process (:meth:`Checker.install`) or, through an IPython
startup file (:func:`startup_folder`), in every kernel of a report run, each writing what it saw
to one log (:func:`read_log`). Imported by kernels from this folder: no pytest here."""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

import pandas as pd
import sqlglot

from dbmarketing.warehouse import dialect, sql

HERE = Path(__file__).resolve().parent

# DuckDB's own session commands (attach a second database file, make one the default, write the
# WAL out): another engine has no such statement and its port replaces them, not translates them
ENGINE_COMMANDS = ("ATTACH", "DETACH", "USE", "CHECKPOINT")
CHAPTERS = ["01_data_collection", "02_data_cleaning", "03_customer_model", "04_rfm_scoring", "05_campaign_response"]


def _rows(frame: pd.DataFrame) -> list:
    """The rows as comparable tuples, sorted (a round trip may drop an ORDER BY's NULLS LAST,
    the rows are the meaning); floats to 9 significant digits."""
    def cell(v):
        if v is None or (isinstance(v, float) and v != v) or v is pd.NaT or v is pd.NA:
            return "<null>"
        if isinstance(v, float):
            return f"{v:.9g}"
        return str(v)
    return sorted(tuple(cell(v) for v in row) for row in frame.itertuples(index=False, name=None))


def _is_query(text: str) -> bool:
    first = text.lstrip().split(None, 1)[0].upper()
    return first in ("SELECT", "WITH", "FROM", "(SELECT")


def _round_trip(text: str) -> str:
    return dialect.transpile(dialect.transpile(text, "spark"), "duckdb", source="spark")


@functools.cache
def _round_trip_once(text: str) -> tuple[str | None, str | None]:
    """(the round trip, None) or (None, why it does not transpile), once per distinct text: the
    chapters run the same statement text many times (2,400 runs), and sqlglot's answer for a text
    is always the same, so each is transpiled once (the parse took most of this file's time)."""
    try:
        return _round_trip(text), None
    except sqlglot.errors.SqlglotError as exc:
        return None, f"does not transpile: {exc}"


# a temporary table's name (warehouse.sql.temp_name): its stem and 8 random hex digits of its own
TEMPORARY = re.compile(r"\b(_[a-z][a-z0-9_]*?)_[0-9a-f]{8}\b")


def _round_trip_as_called(text: str) -> tuple[str | None, str | None, str | None]:
    """(the round trip, None, the round trip as transpiled) or (None, why, None): the text
    transpiled with each temporary table's random suffix as ``00000000``, so that a statement
    called again on a table of another name is the same text for :func:`_round_trip_once`, and
    the names put back (a text naming two tables of one stem is transpiled as it is)."""
    fixed = {m.group(0): m.group(1) + "_00000000" for m in TEMPORARY.finditer(text)}
    if len(set(fixed.values())) < len(fixed):
        fixed = {}
    names = {placeholder: name for name, placeholder in fixed.items()}
    back, failure = _round_trip_once(TEMPORARY.sub(lambda m: fixed.get(m.group(0), m.group(0)), text))
    if failure:
        return None, failure, None
    # whole names only: _keys_00000000 is not the end of _seen_keys_00000000
    called = re.sub(r"\b_[a-z][a-z0-9_]*?_00000000\b", lambda m: names.get(m.group(0), m.group(0)), back)
    return called, None, back


@functools.cache
def _not_duckdb(back: str) -> str | None:
    """Why a statement after the round trip is not valid DuckDB (None: it is), once per text."""
    try:
        sqlglot.parse_one(back, read="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        return f"not valid DuckDB after the round trip: {exc}\n{back}"
    return None


class Checker:
    """Checks each statement as ``warehouse.sql`` runs it; writes each statement's name the first
    time it runs and each problem found, one JSON line each, to ``log``."""

    def __init__(self, log: str | Path):
        self.log = Path(log)
        self.runs: dict[str, int] = {}

    def _write(self, **entry) -> None:
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"pid": os.getpid(), **entry}) + "\n")

    def check(self, con, name, params, parts) -> None:
        text, given = sql._prepare(name, params, parts)
        self.runs[name] = self.runs.get(name, 0) + 1
        if self.runs[name] == 1:
            self._write(name=name)
        if text.lstrip().split(None, 1)[0].upper() in ENGINE_COMMANDS:
            return
        back, failure, transpiled = _round_trip_as_called(text)
        if failure:
            self._write(name=name, problem=failure)
            return
        if _is_query(text) and self.runs[name] <= 3:
            want = _rows(con.execute(text, given).df() if given else con.execute(text).df())
            got = _rows(con.execute(back, given).df() if given else con.execute(back).df())
            if want != got:
                self._write(name=name, problem=f"a different result after the round trip ({len(want)} vs {len(got)} "
                                               f"rows):\n{text}\n--- became ---\n{back}")
        elif not _is_query(text) and _not_duckdb(transpiled):
            self._write(name=name, problem=_not_duckdb(transpiled))

    def install(self) -> None:
        """Check every statement this process runs through ``warehouse.sql`` from now on."""
        real_run, real_relation = sql.run, sql.relation

        def checking_run(con, name, params=None, **parts):
            self.check(con, name, params, parts)
            return real_run(con, name, params, **parts)

        def checking_relation(con, name, params=None, **parts):
            self.check(con, name, params, parts)
            return real_relation(con, name, params, **parts)

        sql.run, sql.relation = checking_run, checking_relation


def startup_folder(folder: Path, log: Path) -> Path:
    """An IPYTHONDIR whose startup file installs a :class:`Checker` writing to ``log`` in every
    kernel started with it."""
    startup = folder / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-portable.py").write_text(
        f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport portable\n"
        f"portable.Checker({str(log)!r}).install()\n", encoding="utf-8")
    return folder


def read_log(log: Path) -> dict[str, list[str]]:
    """Statement name -> the problems found with it, of every process that wrote to ``log``."""
    seen: dict[str, list[str]] = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            seen.setdefault(entry["name"], [])
            if "problem" in entry:
                seen[entry["name"]].append(entry["problem"])
    return seen


def writers(log: Path) -> int:
    """How many processes wrote to ``log`` (each kernel of a run that ran a statement, one each)."""
    return len({json.loads(line)["pid"] for line in log.read_text(encoding="utf-8").splitlines()})
