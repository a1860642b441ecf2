from datetime import date

import pytest

from dbmarketing import warehouse


def test_schema_and_catalog_cover_every_column(tmp_path):
    con = warehouse.connect(tmp_path / "x.duckdb")
    for name, table in warehouse.MODEL.items():
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema='raw' AND table_name=? ORDER BY ordinal_position",
            [name]).fetchall()]
        assert cols[: len(table.columns)] == [c.name for c in table.columns]
        catalogued = set(warehouse.privacy_tiers(con, name, schema="raw"))
        assert catalogued == set(cols), name
    tiers = warehouse.privacy_tiers(con, "customers", schema="raw")
    assert tiers["id_number"] == 4 and tiers["phone"] == 3 and tiers["city"] == 1
    assert con.execute("SELECT origin FROM main.catalog_tables WHERE table_name='cities'").fetchone()[0] == "external"
    con.close()
    # connecting again is idempotent
    con = warehouse.connect(tmp_path / "x.duckdb")
    assert con.execute("SELECT count(*) FROM main.catalog WHERE table_name='customers'").fetchone()[0] == len(tiers)


def test_fingerprint_changes_with_content():
    con = warehouse.connect(":memory:")
    before = warehouse.fingerprint(con)
    assert warehouse.fingerprint(con) == before
    con.execute("INSERT INTO raw.cities (city) VALUES ('北京')")
    assert warehouse.fingerprint(con) != before


def test_resolve_as_of():
    """'latest' is the newest purchase cleaning counts: a completed sale with a customer number,
    not dated after its delivery's extraction date; nothing depends on today's clock."""
    con = warehouse.connect(":memory:")
    assert warehouse.resolve_as_of(con, "2026-10-31") == date(2026, 10, 31)
    with pytest.raises(ValueError, match="latest"):
        warehouse.resolve_as_of(con, "latest")
    con.execute("INSERT INTO main.load_batches (batch_id, source, status, extracted, finished_at) "
                "VALUES (1, 'orders', 'loaded', DATE '2025-01-31', TIMESTAMP '2025-02-03 10:00')")
    con.execute("""INSERT INTO raw.orders (order_id, customer_id, order_date, status, batch_id) VALUES
        ('1', 'c1', DATE '2025-01-02', NULL, 1),          -- counts
        ('2', 'c1', DATE '2025-03-01', NULL, 1),          -- after the extraction date: future-dated
        ('3', NULL, DATE '2025-01-20', NULL, 1),          -- anonymous
        ('4', 'c2', DATE '2025-01-25', 'cancelled', 1),   -- cancelled
        ('5', 'c3', DATE '2024-12-30', 'completed', 1)""")
    assert warehouse.resolve_as_of(con, "latest") == date(2025, 1, 2)
    assert warehouse.data_range(con) == (date(2024, 12, 30), date(2025, 1, 31))
    assert warehouse.check_as_of(con, "2025-01-31") == date(2025, 1, 31)
    with pytest.raises(ValueError, match="outside the data: the database covers 2024-12-30 .* to 2025-01-31"):
        warehouse.check_as_of(con, "2030-01-01")
    with pytest.raises(ValueError, match="outside the data"):
        warehouse.check_as_of(con, "2020-01-01")
    with pytest.raises(ValueError, match="as_of"):
        warehouse.resolve_as_of(con, "31/10/2026")


def test_every_column_of_a_new_database_is_catalogued(tmp_path):
    """The bookkeeping tables and the catalog itself are described too, each column with a tier 1-4."""
    con = warehouse.connect(tmp_path / "x.duckdb")
    columns = set(con.execute("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                              "WHERE database_name = current_database() AND schema_name IN ('main', 'raw')").fetchall())
    catalog = {(s, t, c): (d, tier) for s, t, c, d, tier in con.execute(
        "SELECT table_schema, table_name, column_name, description, privacy_tier FROM main.catalog").fetchall()}
    assert {("main", "catalog", "privacy_tier"), ("main", "catalog_tables", "origin"),
            ("main", "rejects", "raw_value")} <= columns
    assert columns == set(catalog)
    assert all(d.strip() and tier in (1, 2, 3, 4) for d, tier in catalog.values())
    assert catalog[("main", "rejects", "raw_value")][1] == warehouse.HIGHLY_PRIVATE
    assert con.execute("SELECT layer FROM main.catalog_tables WHERE table_name = 'catalog'").fetchone()[0] == "bookkeeping"


def test_database_of_an_older_version_gets_the_new_bookkeeping_columns(tmp_path):
    import duckdb

    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE main.rejects (batch_id INTEGER, line_no BIGINT, column_name VARCHAR, "
                "reason VARCHAR, raw_record VARCHAR)")
    # reasons as the loader wrote them then, with the value inside
    old.executemany("INSERT INTO main.rejects VALUES (1, ?, 'c', ?, '{}')", [
        [2, "not a number: 'x'"], [3, "order_id is empty"],
        [4, "not a date in format %Y%m%d: '1986-13-45'"],
        [5, "not a date in format %Y-%m-%d %H:%M:%S: '2024-01-01 25:00'"],
        [6, "duplicate key order_id=A, line_no=1, first at line 2"],
        [7, "order_id=B already loaded in batch 3"],
        [8, "customer_id=7: a later version is already loaded (valid from 2026-08-31 00:00:00)"],
        [9, "expected 3 fields, found 2"]])
    old.close()
    con = warehouse.connect(path)
    columns = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                         "WHERE table_schema = 'main' AND table_name = 'rejects'").fetchall()]
    assert set(columns) == {c.name for c in warehouse.BOOKKEEPING["rejects"].columns}
    # the values moved out of the (public) reasons into the (highly private) raw_value
    assert con.execute("SELECT line_no, reason, raw_value FROM main.rejects ORDER BY line_no").fetchall() == [
        (2, "not a number", "x"), (3, "order_id is empty", None),
        (4, "not a date in format %Y%m%d", "1986-13-45"),
        (5, "not a date in format %Y-%m-%d %H:%M:%S", "2024-01-01 25:00"),
        (6, "duplicate key, first at line 2", "order_id=A, line_no=1"),
        (7, "key already loaded in batch 3", "order_id=B"),
        (8, "a later version is already loaded (valid from 2026-08-31 00:00:00)", "customer_id=7"),
        (9, "expected 3 fields, found 2", None)]
    # connecting again changes nothing, but still upgrades an old reason that slipped in
    con.execute("INSERT INTO main.rejects (batch_id, line_no, reason) VALUES (1, 10, 'not a yes/no value: ''maybe''')")
    con.close()
    con = warehouse.connect(path)
    assert con.execute("SELECT count(*) FROM main.rejects WHERE raw_value IS NOT NULL").fetchone()[0] == 7
    assert con.execute("SELECT reason, raw_value FROM main.rejects WHERE line_no = 10").fetchall() == [
        ("not a yes/no value", "maybe")]


def test_a_current_database_is_not_upgraded_again_but_a_changed_one_is(tmp_path, monkeypatch):
    """create_schema's statements run once per declarations: connecting again to a current
    database runs only the reject-reason upgrade; new declarations, or a declared table that
    went missing, bring the whole upgrade back."""
    from dbmarketing.warehouse import schema, sql

    path = tmp_path / "x.duckdb"
    warehouse.connect(path).close()
    sql.RAN.clear()
    warehouse.connect(path).close()
    assert set(sql.RAN) == {"warehouse.schema_fingerprint", "warehouse.schema_columns",
                            "warehouse.move_value_out_of_reason"}
    con = warehouse.connect(path)
    con.execute("DROP TABLE raw.cities")
    con.close()
    sql.RAN.clear()
    con = warehouse.connect(path)
    assert "warehouse.add_column" in sql.RAN
    assert [c.name for c in warehouse.MODEL["cities"].columns] <= [
        r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                  "WHERE table_schema = 'raw' AND table_name = 'cities'").fetchall()]
    con.close()
    # a version of the workbook that declares something new upgrades the database again
    monkeypatch.setattr(schema, "declarations", lambda: "declared by a later version")
    sql.RAN.clear()
    warehouse.connect(path).close()
    assert "warehouse.create_table" in sql.RAN
    sql.RAN.clear()
    warehouse.connect(path).close()
    assert "warehouse.create_table" not in sql.RAN


def test_a_file_that_is_not_a_duckdb_database_is_refused_in_one_line(tmp_path):
    """A SQLite database, a text file, an empty file or a folder given as the customer database:
    one line naming it and what it is, before DuckDB tries anything (it would take a SQLite
    file for an attached database and try to download its SQLite extension)."""
    import sqlite3

    lite = tmp_path / "crm.sqlite"
    with sqlite3.connect(lite) as sq:
        sq.execute("CREATE TABLE customers (id TEXT)")
    (tmp_path / "notes.txt").write_text("not a database\n")
    (tmp_path / "empty.duckdb").write_bytes(b"")
    (tmp_path / "folder.duckdb").mkdir()
    for name, kind in [("crm.sqlite", "a SQLite database"), ("notes.txt", "a file of another kind"),
                       ("empty.duckdb", "an empty file"), ("folder.duckdb", "a folder")]:
        for read_only in (False, True):
            with pytest.raises(warehouse.DatabaseFileError) as error:
                warehouse.connect(tmp_path / name, read_only=read_only)
            message = str(error.value)
            assert message.startswith(f"{tmp_path / name}: not a customer database: it is {kind}"), message
            assert "\n" not in message
    assert lite.read_bytes().startswith(b"SQLite format 3\x00")  # left as it was
    assert (tmp_path / "notes.txt").read_text() == "not a database\n"
    con = warehouse.connect(tmp_path / "new.duckdb")  # a new file name still creates a database
    con.close()
    warehouse.connect(tmp_path / "new.duckdb", read_only=True).close()


def test_connections_hold_duckdb_to_a_memory_limit(monkeypatch, tmp_path):
    """Half the machine's memory (DuckDB's own default is 80 %), or DBMARKETING_DUCKDB_MEMORY."""
    import os

    import duckdb

    def limit(con):
        return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]

    half = duckdb.connect()
    half.execute(f"SET memory_limit = '{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2 // 2**20}MB'")
    assert limit(warehouse.connect(tmp_path / "a.duckdb")) == limit(half)
    monkeypatch.setenv("DBMARKETING_DUCKDB_MEMORY", "1GB")
    one = duckdb.connect()
    one.execute("SET memory_limit = '1GB'")
    assert limit(warehouse.connect(tmp_path / "b.duckdb")) == limit(one) != limit(half)
