"""Loading in chunks (issue 17: ``load`` streams) gives exactly what loading each source in
one piece gives: the same raw rows and source lines, rejects (line, column, reason, record),
batches and counts, whatever the chunk size; and a load that fails in its last chunk leaves
nothing behind. The chunk sizes here are small so that every fixture spans a dozen chunks or more."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import shapes
from dbmarketing import ingest, warehouse

ONE_PIECE = None  # chunk_rows=None: the whole source at once, as before loading streamed
CLOCK_COLUMNS = {"started_at", "finished_at"}  # the only columns that differ between two runs


def write_sources(folder, *entries):
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump({"base_dir": str(folder), "sources": list(entries)}, allow_unicode=True,
                                   sort_keys=False), encoding="utf-8")
    return path


def snapshot(con) -> dict[str, list]:
    """Every row of every table a load writes (clock columns left out), in a fixed order."""
    out = {}
    for name in ["main.load_batches", "main.rejects"] + [f"raw.{t}" for t in warehouse.MODEL]:
        schema, table = name.split(".")
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, table]).fetchall() if r[0] not in CLOCK_COLUMNS]
        rows = con.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
        out[name] = sorted(rows, key=repr)
    return out


def load_all(tmp_path, label, sources_files, chunk_rows):
    """Load the sources files in order into a new database; (results, snapshot)."""
    con = warehouse.connect(tmp_path / f"{label}.duckdb")
    try:
        results = [ingest.load_sources(con, path, chunk_rows=chunk_rows) for path in sources_files]
        return pd.concat(results, ignore_index=True), snapshot(con)
    finally:
        con.close()


def assert_same_in_chunks(tmp_path, sources_files, chunk_rows=None):
    """Load whole and in chunks of ``chunk_rows`` (None: about a dozen chunks of the longest
    source, of 2 rows at least: many boundaries, not hundreds of chunks, each of which costs its
    bookkeeping, ~50 ms, whatever its size); (the whole load's results, its rows)."""
    whole, whole_rows = load_all(tmp_path, "whole", sources_files, ONE_PIECE)
    if chunk_rows is None:
        chunk_rows = max(2, int(whole["rows_read"].max()) // 12)
    chunked, chunked_rows = load_all(tmp_path, f"chunks_of_{chunk_rows}", sources_files, chunk_rows)
    results = ["source", "table", "batch_id", "status", "rows_read", "rows_loaded", "rows_rejected",
               "rows_changed", "rows_unchanged", "message"]
    def without_clock(frame):  # a skipped load's message says when the earlier batch finished
        return frame[results].replace(r" on \d{4}-\d\d-\d\d \d\d:\d\d;", " on (time);", regex=True).to_dict("records")

    assert without_clock(chunked) == without_clock(whole)
    for name, rows in whole_rows.items():
        assert chunked_rows[name] == rows, name
    return whole, whole_rows


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_every_export_shape_loads_the_same_in_small_chunks(tmp_path, name):
    shape = shapes.SHAPES[name](tmp_path / "data")
    whole, rows = assert_same_in_chunks(tmp_path, [shape.sources])
    assert whole["rows_read"].max() >= 4  # a file was read in two chunks or more (one_customer's has 4 records)
    assert sum(len(rows[f"raw.{t}"]) for t in shape.expected["tables"]) > 0


def test_the_second_month_of_a_cumulative_export_loads_the_same_in_chunks(tmp_path):
    """Month 2 repeats month 1's rows: unchanged, updated and new orders counted across chunks."""
    month1 = shapes.cumulative(tmp_path / "data")
    keep = {p.name: p.read_bytes() for p in (tmp_path / "data").iterdir()}
    (tmp_path / "m1").mkdir()
    for file_name, data in keep.items():  # month 1 kept beside, as cumulative_month2 overwrites it
        (tmp_path / "m1" / file_name).write_bytes(data)
    first = tmp_path / "m1" / month1.sources.name
    first.write_text(first.read_text(encoding="utf-8").replace(str(tmp_path / "data"), str(tmp_path / "m1")),
                     encoding="utf-8")
    month2 = shapes.cumulative_month2(tmp_path / "data")
    whole, _ = assert_same_in_chunks(tmp_path, [first, month2.sources], 4)
    orders = whole[(whole["table"] == "orders")].iloc[-1]
    counts = month2.expected["load_counts"]
    assert (orders["rows_unchanged"], orders["rows_changed"]) == (counts["unchanged"], counts["updated"])


# A GBK export with what real ones have, spread so that the problems fall in later chunks of 3:
# a blank line, a quoted field over two lines (a record's line is where it starts), a row with
# a field too many, a bad date and a repeated order number whose first line is in an earlier chunk.
GBK_ORDERS = (
    "单号,日期,会员,金额,城市\r\n"      # line 1
    "A1,2024-01-01,c1,10,上海\r\n"       # 2
    "A2,2024-01-02,c2,\"1,104.92\",北京\r\n"  # 3
    "\r\n"                               # 4 (blank)
    "A3,2024-01-03,c3,20,\"广州\r\n市\"\r\n"  # 5-6
    "A4,2024-01-04,c4,30,深圳,多余\r\n"  # 7: a field too many
    "A5,2024-01-05,c5,40,杭州\r\n"       # 8
    "A6,2024-02-30,c6,50,南京\r\n"       # 9: no 30 February
    "A7,2024-01-07,c7,60,成都\r\n"       # 10
    "A8,2024-01-08,c8,70,武汉\r\n"       # 11
    "A1,2024-01-09,c9,80,西安\r\n"       # 12: A1 again (first at line 2)
    "A9,2024-01-10,c1,￥90,上海\r\n"      # 13
)
GBK_SOURCE = {"name": "orders", "path": "orders.csv", "table": "orders", "extracted": "2024-02-01",
              "columns": {"order_id": "单号", "order_date": "日期", "customer_id": "会员", "amount": "金额",
                          "city": "城市"}}


def rows_of(tmp_path, label, query):
    con = warehouse.connect(tmp_path / f"{label}.duckdb")
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("chunk_rows", [1, 2, 3])
def test_a_gbk_export_gives_the_same_rejects_and_lines_in_small_chunks(tmp_path, chunk_rows):
    (tmp_path / "orders.csv").write_bytes(GBK_ORDERS.encode("gbk"))
    whole, _ = assert_same_in_chunks(tmp_path, [write_sources(tmp_path, GBK_SOURCE)], chunk_rows)
    label = f"chunks_of_{chunk_rows}"
    assert rows_of(tmp_path, label, "SELECT line_no, column_name, reason FROM main.rejects ORDER BY line_no") == [
        (7, None, "expected 5 fields, found 6"),
        (9, "日期", "not a date in format %Y-%m-%d"),
        (12, "单号", "duplicate key, first at line 2")]
    assert rows_of(tmp_path, label, "SELECT source_line, order_id, city, amount FROM raw.orders ORDER BY 1") == [
        (2, "A1", "上海", 10.0), (3, "A2", "北京", 1104.92), (5, "A3", "广州\r\n市", 20.0), (8, "A5", "杭州", 40.0),
        (10, "A7", "成都", 60.0), (11, "A8", "武汉", 70.0), (13, "A9", "上海", 90.0)]
    assert whole[["rows_read", "rows_loaded", "rows_rejected"]].values.tolist() == [[10, 7, 3]]


def test_a_parquet_file_whose_times_of_day_start_in_a_later_chunk_reads_the_same(tmp_path):
    """A timestamp column is written as a date only when every value in the file is at
    midnight: the record shown with a reject says so even when its chunk has only midnights."""
    stamps = [dt.datetime(2024, 1, d) for d in range(1, 6)] + [dt.datetime(2024, 1, 6, 14, 30)]
    pq.write_table(pa.table({"no": ["P1", None, "P3", "P4", "P5", "P6"], "at": stamps, "total": [1.5, 2, 3, 4, 5, 6]}),
                   tmp_path / "orders.parquet")
    source = {"name": "orders", "path": "orders.parquet", "table": "orders", "extracted": "2024-02-01",
              "columns": {"order_id": "no", "order_date": "at", "amount": "total"}}
    whole, _ = assert_same_in_chunks(tmp_path, [write_sources(tmp_path, source)], 2)
    assert rows_of(tmp_path, "chunks_of_2", "SELECT line_no, reason, raw_record FROM main.rejects") == [
        (2, "order_id is empty", '{"no":"","at":"2024-01-02 00:00:00","total":"2"}')]
    assert whole[["rows_read", "rows_loaded"]].values.tolist() == [[6, 5]]


def test_a_list_without_a_key_keeps_a_row_repeated_in_another_chunk(tmp_path):
    """A suppression list may name the same phone twice: both rows load, however it is cut."""
    (tmp_path / "dnc.csv").write_text("phone,why\n13800000001,asked\n13800000002,asked\n13800000001,asked\n",
                                      encoding="utf-8")
    source = {"name": "dnc", "path": "dnc.csv", "table": "suppressions", "extracted": "2024-02-01",
              "columns": {"phone": "phone", "reason": "why"}}
    whole, rows = assert_same_in_chunks(tmp_path, [write_sources(tmp_path, source)], 1)
    assert whole[["rows_read", "rows_loaded", "rows_unchanged"]].values.tolist() == [[3, 3, 0]]
    assert rows_of(tmp_path, "chunks_of_1", "SELECT source_line, phone FROM raw.suppressions ORDER BY 1") == [
        (2, "13800000001"), (3, "13800000002"), (4, "13800000001")]


def members_db(path, rows):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE members (no TEXT, born TEXT, city TEXT, version INTEGER)")
    db.executemany("INSERT INTO members VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()


def test_a_sql_source_and_its_customers_history_load_the_same_in_chunks(tmp_path):
    """Rows of a query fetched in chunks: customers (one repeated, one with a bad date), then a
    second delivery, by the watermark, that changes one customer and adds one."""
    first_rows = [("M1", "1980-01-01", "上海", 1), ("M2", "1981-02-03", "北京", 1), ("M3", "1982-13-01", "广州", 1),
                  ("M4", "1983-04-05", "深圳", 1), ("M2", "1981-02-03", "北京", 1)]
    members_db(tmp_path / "crm.db", first_rows)
    later = tmp_path / "later"
    later.mkdir()
    members_db(later / "crm.db", first_rows + [("M1", "1980-01-01", "杭州", 2), ("M5", "1985-05-05", "南京", 2)])
    source = {"name": "crm", "url": "sqlite:///crm.db", "table": "customers", "extracted": "2024-02-01",
              "query": "SELECT * FROM members WHERE :watermark IS NULL OR version > :watermark ORDER BY rowid",
              "watermark": "version", "columns": {"customer_id": "no", "birth_date": "born", "city": "city"}}
    deliveries = [write_sources(tmp_path, source), write_sources(later, {**source, "extracted": "2024-03-01"})]
    whole, _ = assert_same_in_chunks(tmp_path, deliveries, 2)
    assert whole[["rows_read", "rows_loaded", "rows_rejected", "rows_changed"]].values.tolist() == [
        [5, 3, 2, 0], [2, 2, 0, 1]]
    assert rows_of(tmp_path, "chunks_of_2", "SELECT line_no, column_name, reason FROM main.rejects ORDER BY 1") == [
        (3, "born", "not a date in format %Y-%m-%d"), (5, "no", "duplicate key, first at line 2")]
    assert rows_of(tmp_path, "chunks_of_2", "SELECT customer_id, city FROM raw.customers WHERE valid_to IS NULL "
                                            "ORDER BY 1") == [("M1", "杭州"), ("M2", "北京"), ("M4", "深圳"), ("M5", "南京")]


def test_a_bad_record_in_the_last_chunk_rolls_the_whole_load_back(tmp_path):
    """Chunks before it are written in the load's transaction: a record the csv module cannot
    read (a field over its size limit) in the last chunk undoes them all."""
    lines = ["no,day,total"] + [f"B{n},2024-01-{n:02d},{n}" for n in range(1, 10)] + ['B10,2024-01-10,' + "9" * 200_000]
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = {"name": "orders", "path": "orders.csv", "table": "orders", "extracted": "2024-02-01",
              "columns": {"order_id": "no", "order_date": "day", "amount": "total"}}
    con = warehouse.connect(tmp_path / "t.duckdb")
    empty = snapshot(con)
    with pytest.raises(ingest.SourceError) as error:
        ingest.load_sources(con, write_sources(tmp_path, source), chunk_rows=3)
    assert str(error.value).startswith(f"{tmp_path / 'orders.csv'}, line 11: field larger than field limit")
    assert snapshot(con) == empty
    con.close()


def test_bytes_that_do_not_decode_in_the_last_chunk_roll_the_whole_load_back(tmp_path):
    """load_source alone (no check first): the GBK line at the end of a UTF-8 file is found
    after earlier chunks were written, and the load names it and writes nothing."""
    data = "no,day,total\n" + "".join(f"中{n},2024-01-{n:02d},{n}\n" for n in range(1, 10))
    (tmp_path / "orders.csv").write_bytes(data.encode("utf-8") + "中文,2024-01-10,10\n".encode("gbk"))
    source = ingest.read_sources(write_sources(tmp_path, {
        "name": "orders", "path": "orders.csv", "table": "orders", "extracted": "2024-02-01",
        "columns": {"order_id": "no", "order_date": "day", "amount": "total"}}))[0]
    con = warehouse.connect(tmp_path / "t.duckdb")
    empty = snapshot(con)
    with pytest.raises(ingest.SourceError) as error:
        ingest.load_source(con, source, chunk_rows=2)
    assert str(error.value).startswith(f"{tmp_path / 'orders.csv'}, line 11: not UTF-8 like the lines before it")
    assert snapshot(con) == empty
    con.close()


def test_a_failure_while_writing_the_last_chunk_rolls_the_whole_load_back(tmp_path, monkeypatch):
    (tmp_path / "orders.csv").write_bytes(GBK_ORDERS.encode("gbk"))
    real = ingest.load._write_batch
    written = []

    def fail_on_the_last_line(con, source, batch_id, started, records, *args):
        if 13 in records.frame.index:
            raise RuntimeError("disk full")
        written.append(list(records.frame.index))
        return real(con, source, batch_id, started, records, *args)

    monkeypatch.setattr(ingest.load, "_write_batch", fail_on_the_last_line)
    con = warehouse.connect(tmp_path / "t.duckdb")
    empty = snapshot(con)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest.load_sources(con, write_sources(tmp_path, GBK_SOURCE), chunk_rows=3)
    assert written == [[2, 3, 5], [8, 9], [10, 11, 12]]  # line 7 (a field too many) counts in its chunk
    assert snapshot(con) == empty
    con.close()
