"""SQL sources against a real PostgreSQL server that this module starts itself (tests/postgres.py).

Everything goes through the public API as a user would: a sources YAML with ``url:`` and
``query:`` or ``sql_table:``, ``warehouse.connect`` and ``ingest.load_sources``. The server comes
from Debian's ``postgresql`` package; without it these tests fail, they do not skip.
"""

import datetime as dt
import math

import pytest
import yaml

from dbmarketing import ingest, warehouse
from dbmarketing.ingest import SourceError
from postgres import postgres_server

# The driver the workbook installs (psycopg 3), named in the URL so that these tests exercise
# it whatever SQLAlchemy's default PostgreSQL driver is; test_postgresql_url_as_in_the_readme
# checks the plain postgresql:// URL.
SCHEME = "postgresql+psycopg"

ORDERS_SQL = """
CREATE TABLE orders (order_no text PRIMARY KEY, member_no text, order_day date,
                     total numeric(12,2), updated_at timestamp, city text);
INSERT INTO orders VALUES
  ('A-1001', 'M-1',    '2024-01-05', 120.50,   '2024-01-05 10:15:00', '上海'),
  ('A-1002', NULL,     '2024-02-29', 0.00,     NULL,                  NULL),
  ('A-1003', 'M-2',    '2023-12-31', NULL,     '2024-01-02 00:00:00', 'Zürich'),
  ('A-1004', 'M-3',    NULL,         15.00,    '2024-03-01 08:00:00', '北京'),
  ('A-1005', '会员-7', '1999-12-31', 99999.99, '1999-12-31 23:59:59', 'São Paulo');
CREATE TABLE members (member_no text, member_name text, city text, joined date, sms boolean);
INSERT INTO members VALUES
  ('M-1', '张三', '上海', '2020-05-01', true),
  ('M-2', 'Jörg Müller', NULL, NULL, false),
  ('M-3', '李四', '北京', '2021-06-02', NULL);
"""
ORDERS_QUERY = "SELECT order_no, member_no, order_day, total, updated_at, city FROM orders ORDER BY order_no"
ORDER_COLUMNS = {"order_id": "order_no", "customer_id": "member_no", "order_date": "order_day", "city": "city"}
# What the query gives, less A-1004 (no order_day: rejected): the expected raw.orders rows.
LOADED_ORDERS = [
    ("A-1001", "M-1", dt.date(2024, 1, 5), "上海"),
    ("A-1002", None, dt.date(2024, 2, 29), None),
    ("A-1003", "M-2", dt.date(2023, 12, 31), "Zürich"),
    ("A-1005", "会员-7", dt.date(1999, 12, 31), "São Paulo"),
]


@pytest.fixture(scope="module")
def pg():
    """One throw-away server for the module, with the orders and members tables above."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("the PostgreSQL driver is missing: .venv/bin/pip install 'psycopg[binary]' (pyproject.toml "
                    "installs it)", pytrace=False)
    with postgres_server() as server:
        server.psql(ORDERS_SQL)
        yield server


@pytest.fixture
def con(tmp_path):
    connection = warehouse.connect(tmp_path / "crm.duckdb")
    yield connection
    connection.close()


def url(pg, scheme=SCHEME, password=None):
    return f"{scheme}://{pg.user}:{password or pg.password}@127.0.0.1:{pg.port}/{pg.dbname}"


def shown(pg, scheme=SCHEME):
    """The URL as error messages and the load history show it: password hidden."""
    return f"{scheme}://{pg.user}:***@127.0.0.1:{pg.port}/{pg.dbname}"


def write_sources(tmp_path, *entries, name="sources.yaml"):
    path = tmp_path / name
    document = {"base_dir": str(tmp_path), "sources": list(entries)}
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def orders_source(pg, **entry):
    return {"name": "erp_orders", "url": url(pg), "query": ORDERS_QUERY, "table": "orders",
            "columns": ORDER_COLUMNS, **entry}


def raw_orders(con):
    return con.execute("SELECT order_id, customer_id, order_date, city FROM raw.orders ORDER BY order_id").fetchall()


def test_query_loads_orders_with_real_dates(pg, con, tmp_path):
    result = ingest.load_sources(con, write_sources(tmp_path, orders_source(pg))).iloc[0]
    assert (result["status"], result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == ("loaded", 5, 4, 1)
    assert raw_orders(con) == LOADED_ORDERS                           # dates are datetime.date, NULLs None
    assert con.execute("SELECT DISTINCT typeof(order_date) FROM raw.orders").fetchall() == [("DATE",)]
    assert con.execute("SELECT order_id, source_line FROM raw.orders ORDER BY source_line").fetchall() == [
        ("A-1001", 1), ("A-1002", 2), ("A-1003", 3), ("A-1005", 5)]   # the 1-based row of the result
    bad = con.execute("SELECT line_no, column_name, reason FROM main.rejects").fetchall()
    assert bad == [(4, "order_day", "order_date is empty")]
    history = ingest.load_history(con)
    assert history["path"].tolist() == [shown(pg)]                  # the password is not stored
    assert pg.password not in history.to_csv()


def test_numeric_and_timestamp_cells(pg, con, tmp_path):
    """numeric(12,2) arrives as Decimal, timestamp as datetime: a number and a date (the time
    dropped), whatever date_formats says for text."""
    lines = {"name": "erp_lines", "url": url(pg), "table": "order_lines",
             "query": "SELECT order_no, 1 AS line_no, total FROM orders ORDER BY order_no",
             "columns": {"order_id": "order_no", "line_no": "line_no", "amount": "total"}}
    changed = orders_source(pg, name="erp_changes", columns={"order_id": "order_no", "order_date": "updated_at"},
                            date_formats={"order_date": "%d.%m.%Y"})
    result = ingest.load_sources(con, write_sources(tmp_path, lines, changed))
    assert result[["source", "rows_read", "rows_loaded", "rows_rejected"]].values.tolist() == [
        ["erp_lines", 5, 5, 0], ["erp_changes", 5, 4, 1]]
    amounts = con.execute("SELECT order_id, line_no, amount FROM raw.order_lines ORDER BY order_id").fetchall()
    assert [(o, n) for o, n, _ in amounts] == [("A-1001", 1), ("A-1002", 1), ("A-1003", 1), ("A-1004", 1),
                                                ("A-1005", 1)]
    values = [a for _, _, a in amounts]
    assert values[:2] + values[3:] == [120.5, 0.0, 15.0, 99999.99]
    assert values[2] is None or math.isnan(values[2])
    assert con.execute("SELECT order_id, order_date FROM raw.orders ORDER BY order_id").fetchall() == [
        ("A-1001", dt.date(2024, 1, 5)), ("A-1003", dt.date(2024, 1, 2)), ("A-1004", dt.date(2024, 3, 1)),
        ("A-1005", dt.date(1999, 12, 31))]
    assert con.execute("SELECT line_no, column_name, reason FROM main.rejects").fetchall() == [
        (2, "updated_at", "order_date is empty")]


def test_same_query_result_twice_is_skipped(pg, con, tmp_path):
    sources = write_sources(tmp_path, orders_source(pg))
    first = ingest.load_sources(con, sources).iloc[0]
    again = ingest.load_sources(con, sources).iloc[0]
    assert (again["status"], again["batch_id"], again["rows_loaded"]) == ("skipped", first["batch_id"], 4)
    assert "not loaded again" in again["message"]
    assert raw_orders(con) == LOADED_ORDERS                           # nothing loaded twice
    assert ingest.load_history(con)["batch_id"].tolist() == [first["batch_id"]]


def test_sql_table_loads_customers(pg, con, tmp_path):
    members = {"name": "crm_members", "url": url(pg), "sql_table": "members", "table": "customers",
               "effective_date": "2024-06-30",
               "columns": {"customer_id": "member_no", "name": "member_name", "city": "city",
                           "signup_date": "joined", "consent_sms": "sms"},
               "constants": {"source_system": "erp"}}
    result = ingest.load_sources(con, write_sources(tmp_path, members)).iloc[0]
    assert (result["status"], result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == ("loaded", 3, 3, 0)
    rows = con.execute("SELECT customer_id, name, city, signup_date, consent_sms, source_system "
                       "FROM raw.customers ORDER BY source_line").fetchall()
    assert rows == [("M-1", "张三", "上海", dt.date(2020, 5, 1), True, "erp"),
                    ("M-2", "Jörg Müller", None, None, False, "erp"),
                    ("M-3", "李四", "北京", dt.date(2021, 6, 2), None, "erp")]


def test_new_rows_of_the_same_query_load_as_a_new_batch(pg, con, tmp_path):
    """A query run again next month: the rows already loaded are rejects, the new ones load."""
    pg.psql("CREATE TABLE feed (order_no text, order_day date);"
            "INSERT INTO feed VALUES ('F-1', '2024-05-01'), ('F-2', '2024-05-02');")
    feed = {"name": "feed", "url": url(pg), "query": "SELECT * FROM feed ORDER BY order_no", "table": "orders",
            "columns": {"order_id": "order_no", "order_date": "order_day"}}
    sources = write_sources(tmp_path, feed)
    first = ingest.load_sources(con, sources).iloc[0]
    pg.psql("INSERT INTO feed VALUES ('F-3', '2024-06-01');")
    second = ingest.load_sources(con, sources).iloc[0]
    assert (first["batch_id"], first["rows_loaded"]) == (1, 2)
    assert (second["status"], second["batch_id"], second["rows_read"], second["rows_loaded"]) == ("loaded", 2, 3, 1)
    assert con.execute("SELECT order_id, order_date, batch_id FROM raw.orders ORDER BY order_id").fetchall() == [
        ("F-1", dt.date(2024, 5, 1), 1), ("F-2", dt.date(2024, 5, 2), 1), ("F-3", dt.date(2024, 6, 1), 2)]


def assert_one_line_naming_url(message, pg, scheme=SCHEME, password=None):
    assert message.startswith(shown(pg, scheme) + ":"), message
    assert (password or pg.password) not in message
    assert "\n" not in message.strip(), f"not one line: {message!r}"


def test_failing_query_is_a_one_line_source_error_with_the_password_hidden(pg, con, tmp_path):
    sources = write_sources(tmp_path, orders_source(pg, query="SELECT order_no, no_such_column FROM orders"))
    with pytest.raises(SourceError) as error:
        ingest.load_sources(con, sources)
    message = str(error.value)
    assert "no_such_column" in message
    assert_one_line_naming_url(message, pg)
    assert ingest.load_history(con).empty and raw_orders(con) == []   # nothing written


def test_wrong_password_is_a_one_line_source_error_with_the_password_hidden(pg, con, tmp_path):
    sources = write_sources(tmp_path, orders_source(pg, url=url(pg, password="not-the-password")))
    with pytest.raises(SourceError) as error:
        ingest.load_sources(con, sources)
    message = str(error.value)
    assert "password authentication failed" in message
    assert_one_line_naming_url(message, pg, password="not-the-password")
    assert ingest.load_history(con).empty


def test_missing_driver_is_a_source_error_naming_the_url(pg, con, tmp_path):
    """README: other databases need their driver in the venv; without it, a SourceError, not a
    ModuleNotFoundError traceback."""
    sources = write_sources(tmp_path, orders_source(pg, url=url(pg, scheme="postgresql+pg8000")))
    with pytest.raises(SourceError) as error:
        ingest.load_sources(con, sources)
    assert "pg8000" in str(error.value)
    assert_one_line_naming_url(str(error.value), pg, scheme="postgresql+pg8000")


def test_postgresql_url_as_in_the_readme(pg, con, tmp_path):
    """README: `postgresql://` works out of the box (psycopg 3 is installed with the workbook)."""
    source = orders_source(pg, url=url(pg, scheme="postgresql"))
    result = ingest.load_sources(con, write_sources(tmp_path, source)).iloc[0]
    assert (result["status"], result["rows_loaded"], result["rows_rejected"]) == ("loaded", 4, 1)
    assert raw_orders(con) == LOADED_ORDERS


def test_monthly_load_reads_only_the_rows_changed_since_the_last_one(pg, con, tmp_path):
    """The scheduled case: a query with a watermark reads only the rows changed since the
    last load (the load history remembers the highest value), so a monthly load from the
    ERP does not read years of orders again; a changed order is an update, not a new row."""
    pg.psql("""CREATE TABLE erp_orders (order_no text, member_no text, order_day date, status text, updated_at timestamp);
               INSERT INTO erp_orders VALUES
                 ('E-1', 'M-1', '2026-08-03', 'completed', '2026-08-03 09:00'),
                 ('E-2', 'M-2', '2026-08-20', 'completed', '2026-08-20 17:30'),
                 ('E-3', 'M-1', '2026-09-01', 'completed', '2026-09-01 08:00');""")
    source = {"name": "erp", "url": url(pg), "table": "orders", "watermark": "updated_at",
              "query": "SELECT order_no, member_no, order_day, status, updated_at FROM erp_orders "
                       "WHERE CAST(:watermark AS timestamp) IS NULL OR updated_at > CAST(:watermark AS timestamp) "
                       "ORDER BY order_no",
              "columns": {"order_id": "order_no", "customer_id": "member_no", "order_date": "order_day",
                          "status": "status"}}
    sources = write_sources(tmp_path, source)
    first = ingest.load_sources(con, sources).iloc[0]
    assert (first["rows_read"], first["rows_loaded"]) == (3, 3)
    assert con.execute("SELECT watermark FROM main.load_batches").fetchall() == [("2026-09-01 08:00:00",)]
    # a month later: E-2 was cancelled, E-4 is new; E-1 and E-3 did not change
    pg.psql("""UPDATE erp_orders SET status = 'cancelled', updated_at = '2026-09-15 11:00' WHERE order_no = 'E-2';
               INSERT INTO erp_orders VALUES ('E-4', 'M-3', '2026-09-28', 'completed', '2026-09-28 12:00');""")
    second = ingest.load_sources(con, sources).iloc[0]
    assert (second["rows_read"], second["rows_loaded"], second["rows_changed"], second["rows_unchanged"]) == (2, 2, 1, 0)
    rows = con.execute("SELECT order_id, status FROM raw.orders ORDER BY order_id").fetchall()
    assert rows == [("E-1", "completed"), ("E-2", "cancelled"), ("E-3", "completed"), ("E-4", "completed")]
    # nothing changed since: nothing read, nothing loaded
    third = ingest.load_sources(con, sources).iloc[0]
    assert (third["status"], third["rows_read"]) == ("skipped", 0)
