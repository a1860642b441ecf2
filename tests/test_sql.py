"""The named-statement loader: placeholders and parameters are checked, values never pasted."""

from datetime import date

import duckdb
import pytest

from dbmarketing import warehouse
from dbmarketing.warehouse import sql


def test_every_statement_file_loads_with_unique_names():
    names = sql.queries()
    assert "warehouse.order_exclusion" in names and "campaigns.in_response_window" in names
    assert all(q.sql and not q.sql.rstrip().endswith(";") for q in names.values())


def test_a_missing_or_unknown_part_is_an_error():
    with pytest.raises(TypeError, match=r"SQL warehouse.stored_dates: fill table"):
        sql.text("warehouse.stored_dates")
    with pytest.raises(TypeError, match=r"no placeholder tabel"):
        sql.text("warehouse.stored_dates", table='"t"', tabel='"t"')
    with pytest.raises(KeyError, match=r"no SQL statement named 'warehouse.nope' \(lib/dbmarketing/warehouse/sql/warehouse.sql\)"):
        sql.text("warehouse.nope")


def test_a_parameter_without_a_value_is_an_error_and_values_are_passed_not_pasted():
    con = duckdb.connect()
    warehouse.create_schema(con)
    with pytest.raises(TypeError, match=r"no value for \$schema, \$table"):
        sql.run(con, "warehouse.table_exists")
    hostile = "x'; DROP TABLE main.catalog; --"
    assert sql.one(con, "warehouse.table_exists", {"schema": "main", "table": hostile}) == (False,)
    text, given = sql.RAN["warehouse.table_exists"]
    assert hostile not in text and given == {"schema": "main", "table": hostile}
    assert warehouse.table_exists(con, "main", "catalog")


def test_literal_and_ident_quote_what_they_are_given():
    con = duckdb.connect()
    for value in ("O'Brien", "王'芳", 3, 2.5, date(2026, 10, 31), None, True):
        assert con.execute(f"SELECT {sql.literal(value)}").fetchall()[0][0] == value
    assert sql.ident("main", 'we"ird') == '"main"."we""ird"'
    with pytest.raises(ValueError):
        sql.literal(float("nan"))
    assert sql.temp_name("rfm") != sql.temp_name("rfm")


def test_stored_as_of_resolves_latest_and_refuses_a_date_not_stored():
    con = duckdb.connect()
    con.execute("CREATE TABLE main.scores AS SELECT DATE '2026-09-30' AS as_of UNION ALL SELECT DATE '2026-10-31'")
    assert warehouse.stored_dates(con, "scores") == [date(2026, 9, 30), date(2026, 10, 31)]
    assert warehouse.stored_as_of(con, "scores") == date(2026, 10, 31)
    assert warehouse.stored_as_of(con, "scores", "2026-09-30") == date(2026, 9, 30)
    with pytest.raises(ValueError, match=r"main.scores holds nothing for 2026-08-31; stored dates: 2026-09-30, 2026-10-31"):
        warehouse.stored_as_of(con, "scores", "2026-08-31")
    with pytest.raises(ValueError, match=r"main.nothing is empty: run rfm.store first"):
        warehouse.stored_as_of(con, "nothing", how="rfm.store")
