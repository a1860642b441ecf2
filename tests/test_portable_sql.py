"""Every named SQL statement the chapters run (01-07 but for 08), checked against a second dialect.

The chapters are run in this process on a copy of the small sample (their code cells, with the
report's parameters), and each query they run through ``warehouse.sql`` is executed twice: as
written (DuckDB) and after a round trip through Spark SQL with sqlglot (DuckDB -> Spark ->
DuckDB). The two results must be equal: a rewrite that changes a statement's meaning -- the trial
transpile of issue 12 turned ``coalesce(m.master_id, c.customer_id)`` into ``COALESCE(m.master_id,
m.master_id)`` -- shows up as different rows. Statements that write (INSERT, DELETE, CREATE ...)
must transpile both ways and still be valid DuckDB (run in a rolled-back savepoint would lock
others out, so they are parsed, not run twice)."""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlglot
import yaml

from dbmarketing import ingest, privacy, sample, warehouse
from dbmarketing.warehouse import dialect, sql

ROOT = Path(__file__).resolve().parents[1]
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


def _run_chapter(name: str, params: dict) -> None:
    cells = [c for c in json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    space: dict = {}
    for i, c in enumerate(cells):
        exec(compile("".join(c["source"]), f"{name} cell {i}", "exec"), space)
        if "parameters" in c.get("metadata", {}).get("tags", []):
            space.update(params)
    if "con" in space:
        space["con"].close()  # a kernel would end here; the next chapter opens its own
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def checked(small_sample, tmp_path_factory, monkeypatch_module):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    work = tmp_path_factory.mktemp("portable_sql")
    db = work / "crm.duckdb"
    shutil.copy(small_sample["db_path"], db)
    seen: dict[str, dict] = {}
    real_run, real_relation = sql.run, sql.relation

    def check(con, name, params, parts) -> None:
        text, given = sql._prepare(name, params, parts)
        entry = seen.setdefault(name, {"runs": 0, "problems": []})
        entry["runs"] += 1
        if text.lstrip().split(None, 1)[0].upper() in ENGINE_COMMANDS:
            return
        back, failure, transpiled = _round_trip_as_called(text)
        if failure:
            entry["problems"].append(failure)
            return
        if _is_query(text) and entry["runs"] <= 3:
            want = _rows(con.execute(text, given).df() if given else con.execute(text).df())
            got = _rows(con.execute(back, given).df() if given else con.execute(back).df())
            if want != got:
                entry["problems"].append(f"a different result after the round trip ({len(want)} vs {len(got)} rows):\n"
                                         f"{text}\n--- became ---\n{back}")
        elif not _is_query(text) and _not_duckdb(transpiled):
            entry["problems"].append(_not_duckdb(transpiled))

    def checking_run(con, name, params=None, **parts):
        check(con, name, params, parts)
        return real_run(con, name, params, **parts)

    def checking_relation(con, name, params=None, **parts):
        check(con, name, params, parts)
        return real_relation(con, name, params, **parts)

    monkeypatch_module.setattr(sql, "run", checking_run)
    monkeypatch_module.setattr(sql, "relation", checking_relation)
    monkeypatch_module.chdir(work)
    # what the chapters do not run: a sample written and loaded into an empty database, and
    # an analyst copy published from the small sample
    tiny = work / "tiny"
    sample.generate(tiny / "raw", db_path=tiny / "crm.duckdb", n_customers=300, years=1, seed=3)
    spec = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
    spec["base_dir"] = str(tiny / "raw")
    (tiny / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    con = warehouse.connect(tiny / "crm.duckdb")
    ingest.load_sources(con, tiny / "sources.yaml")
    con.close()
    privacy.publish(small_sample["db_path"], work / "analyst.duckdb", clearance=2, key=b"k" * 32)
    common = {"db_path": str(db), "interactive": False}
    _run_chapter("01_data_collection", {**common, "sources": str(small_sample["sources"])})
    _run_chapter("02_data_cleaning", common)
    _run_chapter("03_customer_model", common)
    _run_chapter("04_rfm_scoring", {**common, "export_dir": str(work / "exports")})
    _run_chapter("05_campaign_response", {**common, "export_dir": str(work / "exports"),
                                           "campaign_file": str(small_sample["campaign_file"])})
    _run_chapter("06_event_triggers", {**common, "export_dir": str(work / "exports"),
                                       "campaign_dir": str(work / "campaigns")})
    _run_chapter("07_baskets", {**common, "export_dir": str(work / "exports")})
    plt.close("all")
    return seen


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_every_statement_means_the_same_after_a_round_trip_through_spark(checked):
    problems = {name: entry["problems"] for name, entry in checked.items() if entry["problems"]}
    assert not problems, "\n\n".join(f"{name}: {p[0]}" for name, p in problems.items())


def test_the_chapters_run_the_named_statements(checked):
    # the check above is only as good as what ran: most named statements must have run
    ran = set(checked)
    total = len(sql.queries())
    print(f"{len(ran)} of {total} named statements ran; not run:", sorted(set(sql.queries()) - ran))
    # the others are fragments checked inside the statements that embed them (order_exclusion,
    # in_response_window, rfm.summary's parts), inserts run row by row, and paths of errors,
    # watermarks and re-loads with a changed map that the chapters do not take
    assert len(ran) >= 0.75 * total
    for stage in ("warehouse", "ingest", "cleanse", "customers", "rfm", "campaigns", "privacy", "sample", "needs",
                  "baskets"):
        assert any(n.startswith(stage + ".") for n in ran), stage


def test_the_round_trip_catches_a_changed_meaning():
    # the case the issue found: with USING, sqlglot resolves c.customer_id to m's column when it
    # rewrites QUALIFY for Spark; two contacts of unmapped customers then share one partition
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE contacts AS SELECT * FROM (VALUES ('K1', 'a', 1), ('K1', 'b', 2)) t(campaign_id, customer_id, source_line)")
    con.execute("CREATE TABLE customer_map (customer_id VARCHAR, master_id VARCHAR)")  # nobody mapped
    text = ("SELECT c.campaign_id, m.master_id AS customer_id, c.customer_id AS source_customer_id "
            "FROM contacts c LEFT JOIN customer_map m USING (customer_id) "
            "QUALIFY row_number() OVER (PARTITION BY c.campaign_id, coalesce(m.master_id, c.customer_id) "
            "ORDER BY c.source_line) = 1")
    want = _rows(con.execute(text).df())
    assert want == [("K1", "<null>", "a"), ("K1", "<null>", "b")]
    assert _rows(con.execute(_round_trip(text)).df()) != want
