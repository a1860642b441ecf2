"""Tests for dbmarketing.ingest: reading sources, parsing, rejects, batches, history, atomicity."""

import datetime as dt
import json

import pandas as pd
import pytest
import yaml

from dbmarketing import ingest, warehouse
from dbmarketing.ingest import ConfigError, SourceError

ORDER_COLUMNS = {"order_id": "order_no", "order_date": "date", "customer_id": "member"}


@pytest.fixture
def con(tmp_path):
    connection = warehouse.connect(tmp_path / "t.duckdb")
    yield connection
    connection.close()


def write_sources(tmp_path, *entries, base_dir=None, name="sources.yaml"):
    """Write a sources file listing `entries`; base_dir defaults to tmp_path."""
    path = tmp_path / name
    document = {"base_dir": str(base_dir or tmp_path), "sources": list(entries)}
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def load(con, tmp_path, **entry):
    """Load one source described by `entry`; return its result row as a dict."""
    entry.setdefault("name", "src")
    result = ingest.load_sources(con, write_sources(tmp_path, entry))
    return result.iloc[0].to_dict()


def rejects(con, batch_id=None):
    sql = "SELECT line_no, column_name, model_column, reason, raw_value, raw_record FROM main.rejects"
    if batch_id is not None:
        sql += f" WHERE batch_id = {batch_id}"
    return con.execute(sql + " ORDER BY line_no, reason").df()


def table(con, name, order="source_line"):
    return con.execute(f"SELECT * FROM raw.{name} ORDER BY {order}").df()


def snapshot(con):
    """Every row of every table the loader writes, for before/after comparisons."""
    names = ["main.load_batches", "main.rejects"] + [f"raw.{t}" for t in warehouse.MODEL]
    return {name: sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr) for name in names}


def assert_counts_add_up(result):
    assert result["rows_read"] == result["rows_loaded"] + result["rows_rejected"]


# ---------------------------------------------------------------------------------------
# Encodings and line numbers
# ---------------------------------------------------------------------------------------

CUSTOMERS_CN = "会员号,姓名,城市\n1001,张三,上海\n1002,李四,北京\n"
CN_MAP = {"customer_id": "会员号", "name": "姓名", "city": "城市"}


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")])
def test_csv_encodings_round_trip_chinese(con, tmp_path, encoding, expected):
    data = CUSTOMERS_CN.encode(encoding)
    (tmp_path / "c.csv").write_bytes(data)
    assert ingest.detect_encoding(data) == expected
    result = load(con, tmp_path, path="c.csv", table="customers", columns=CN_MAP)
    assert (result["status"], result["rows_loaded"], result["rows_rejected"]) == ("loaded", 2, 0)
    rows = table(con, "customers")
    assert rows["name"].tolist() == ["张三", "李四"]
    assert rows["city"].tolist() == ["上海", "北京"]


def test_explicit_encoding_that_does_not_fit_names_file_and_line(con, tmp_path):
    (tmp_path / "c.csv").write_bytes(CUSTOMERS_CN.encode("gbk"))
    with pytest.raises(SourceError, match=r"c\.csv, line 1: cannot decode .* utf-8"):
        load(con, tmp_path, path="c.csv", table="customers", columns=CN_MAP, encoding="utf-8")


def test_utf8_file_with_one_gbk_line_names_that_line(con, tmp_path):
    """Lines 1-3 and 5 saved as UTF-8, line 4 as GBK: the first line that does not decode is 4
    (GB18030 would already stumble on the UTF-8 header, line 1)."""
    lines = ["会员号,姓名,城市", "1001,张三,上海", "1002,李四,北京", "1003,王五,广州", "1004,赵六,深圳"]
    data = b"".join(line.encode("gbk" if number == 4 else "utf-8") + b"\n" for number, line in enumerate(lines, 1))
    (tmp_path / "c.csv").write_bytes(data)
    with pytest.raises(UnicodeDecodeError):
        data.split(b"\n")[3].decode("utf-8")  # the planted line really is not UTF-8
    assert ingest.detect_encoding(data) == "utf-8"
    with pytest.raises(SourceError, match=r"c\.csv, line 4: not UTF-8 like the lines before it") as error:
        load(con, tmp_path, path="c.csv", table="customers", columns=CN_MAP)
    assert "\n" not in str(error.value)
    assert ingest.load_history(con).empty


def test_gbk_file_whose_first_chinese_bytes_happen_to_be_utf8_is_still_gbk(con, tmp_path):
    """女 in GBK (C5 AE) is also valid UTF-8 (Ů): a line holding only that is no evidence of a
    UTF-8 file; the GBK file loads as GB18030."""
    text = "id,gender,name\n1,女,\n2,男,张三\n"
    data = text.encode("gbk")
    assert data.split(b"\n")[1].decode("utf-8") == "1,Ů,"
    (tmp_path / "c.csv").write_bytes(data)
    assert ingest.detect_encoding(data) == "gb18030"
    result = load(con, tmp_path, path="c.csv", table="customers",
                  columns={"customer_id": "id", "gender": "gender", "name": "name"})
    assert (result["rows_loaded"], result["rows_rejected"]) == (2, 0)
    assert table(con, "customers")["gender"].tolist() == ["女", "男"]


def test_embedded_newline_keeps_physical_line_numbers(con, tmp_path):
    (tmp_path / "c.csv").write_text(
        'id,address,birth\n'
        '1,"Room 1\nBuilding 2\nStreet 3",1980-01-01\n'   # lines 2-4
        '\n'                                              # line 5: blank, no record
        '2,plain,1981-02-03\n'                            # line 6
        '3,plain,1999-99-99\n',                           # line 7: bad date
        encoding="utf-8")
    result = load(con, tmp_path, path="c.csv", table="customers",
                  columns={"customer_id": "id", "address": "address", "birth_date": "birth"})
    assert (result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == (3, 2, 1)
    assert table(con, "customers")["source_line"].tolist() == [2, 6]
    assert table(con, "customers")["address"][0] == "Room 1\nBuilding 2\nStreet 3"
    bad = rejects(con)
    assert bad[["line_no", "column_name"]].values.tolist() == [[7, "birth"]]


def test_wrong_field_count_is_a_reject_not_a_crash(con, tmp_path):
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\nB,2024-01-02\nC,2024-01-03,c3,extra\n")
    result = load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS)
    assert (result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == (3, 1, 2)
    bad = rejects(con)
    assert bad["reason"].tolist() == ["expected 3 fields, found 2", "expected 3 fields, found 4"]
    assert bad["line_no"].tolist() == [3, 4]
    assert bad["column_name"].isna().all()
    assert json.loads(bad["raw_record"][0]) == {"order_no": "B", "date": "2024-01-02"}
    summary = ingest.reject_summary(con, clearance=2)  # no column and no value: blanks, not None
    assert summary[["into", "example_value"]].values.tolist() == [["", ""], ["", ""]]


# ---------------------------------------------------------------------------------------
# Other formats
# ---------------------------------------------------------------------------------------


def test_excel_rows_are_spreadsheet_rows(con, tmp_path):
    frame = pd.DataFrame({"code": [101, 102, 103], "name": ["经销商甲", "经销商乙", "经销商丙"],
                          "since": [dt.datetime(2020, 5, 1), dt.datetime(2021, 6, 2), None],
                          "sms": ["是", "否", "也许"]})
    with pd.ExcelWriter(tmp_path / "d.xlsx") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        frame.to_excel(writer, sheet_name="distributors", index=False)
    result = load(con, tmp_path, path="d.xlsx", table="customers", sheet="distributors",
                  columns={"customer_id": "code", "name": "name", "signup_date": "since", "consent_sms": "sms"},
                  constants={"customer_type": "distributor"})
    assert (result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == (3, 2, 1)
    rows = table(con, "customers")
    assert rows["customer_id"].tolist() == ["101", "102"]            # integer cells read as text
    assert rows["source_line"].tolist() == [2, 3]                      # header is row 1
    assert rows["signup_date"].dt.date.tolist() == [dt.date(2020, 5, 1), dt.date(2021, 6, 2)]
    assert rows["customer_type"].tolist() == ["distributor"] * 2
    assert rejects(con)[["line_no", "column_name", "reason", "raw_value"]].values.tolist() == [
        [4, "sms", "not a yes/no value", "也许"]]


def test_excel_unknown_sheet_is_a_source_error(con, tmp_path):
    pd.DataFrame({"code": [1]}).to_excel(tmp_path / "d.xlsx", index=False)
    with pytest.raises(SourceError, match=r"d\.xlsx: no sheet 'missing'"):
        load(con, tmp_path, path="d.xlsx", table="customers", sheet="missing", columns={"customer_id": "code"})


def test_parquet_lines_are_row_numbers(con, tmp_path):
    pd.DataFrame({
        "sku": ["P1", "P2", "P3"], "title": ["茶", "Coffee", None],
        "price": [12.5, -3.0, 7.0], "cost": ["4", "x", "5"],
    }).to_parquet(tmp_path / "p.parquet")
    result = load(con, tmp_path, path="p.parquet", table="products",
                  columns={"product_id": "sku", "product_name": "title", "price": "price", "unit_cost": "cost"})
    assert (result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == (3, 2, 1)
    rows = table(con, "products")
    assert rows["source_line"].tolist() == [1, 3]
    assert rows["price"].tolist() == [12.5, 7.0]
    assert rows["product_name"].isna().tolist() == [False, True]
    assert rejects(con)[["line_no", "column_name", "reason", "raw_value"]].values.tolist() == [
        [2, "cost", "not a number", "x"]]


def test_sqlite_through_sqlalchemy(con, tmp_path):
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE tickets (no TEXT, cust TEXT, opened TEXT, score INTEGER, ok INTEGER)"))
        c.execute(sa.text("INSERT INTO tickets VALUES ('T1','c1','2024-03-01',5,1), ('T2','c2','2024-03-02',4,0),"
                          " ('T3','c3','2024-03-03',NULL,7)"))
    engine.dispose()
    entry = dict(url="sqlite:///shop.db", table="service_tickets",  # relative to base_dir
                 columns={"ticket_id": "no", "customer_id": "cust", "opened_date": "opened",
                          "satisfaction": "score", "resolved": "ok"})
    result = load(con, tmp_path, query="SELECT * FROM tickets ORDER BY no", **entry)
    assert (result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == (3, 2, 1)
    rows = table(con, "service_tickets")
    assert rows["satisfaction"].tolist() == [5, 4]
    assert rows["resolved"].tolist() == [True, False]
    assert rejects(con)[["line_no", "column_name"]].values.tolist() == [[3, "ok"]]
    # the same result again, now through sql_table: same fingerprint -> skipped
    again = load(con, tmp_path, sql_table="tickets", **entry)
    assert (again["status"], again["batch_id"]) == ("skipped", result["batch_id"])


def test_missing_sqlite_file_is_a_source_error(con, tmp_path):
    with pytest.raises(SourceError, match="database file not found"):
        load(con, tmp_path, url="sqlite:///nowhere.db", sql_table="t", table="cities", columns={"city": "c"})


def test_cdnow_loads_orders_and_order_lines(con, tmp_path):
    (tmp_path / "CDNOW.txt").write_text(
        "00001 19970101 1 11.77\n"
        "00002 19970112 2 20.00\n"
        "00002 19970112 5 77.00\n"
        "\n"
        "00003 19970230 1 5.00\n"       # line 5: no such date
        "00004 19970301 x 5.00\n"       # line 6: bad quantity
        "00005 19970301 1\n")           # line 7: 3 fields
    result = load(con, tmp_path, name="cdnow", path="CDNOW.txt", format="cdnow", constants={"channel": "online"})
    assert (result["table"], result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == ("orders", 6, 3, 3)
    orders = table(con, "orders")
    assert orders["order_id"].tolist() == ["cdnow-1", "cdnow-2", "cdnow-3"]
    assert orders["customer_id"].tolist() == ["00001", "00002", "00002"]
    assert orders["order_date"].dt.date.tolist() == [dt.date(1997, 1, 1), dt.date(1997, 1, 12), dt.date(1997, 1, 12)]
    assert set(orders["order_type"]) == {"sale"} and set(orders["status"]) == {"completed"}
    assert set(orders["channel"]) == {"online"}
    lines = table(con, "order_lines")
    assert lines["line_no"].tolist() == [1, 1, 1]
    assert lines["quantity"].tolist() == [1, 2, 5]
    assert lines["amount"].tolist() == [11.77, 20.0, 77.0]
    assert lines["unit_price"].tolist() == [11.77, 10.0, 15.4]
    assert lines["product_id"].isna().all()
    assert lines["batch_id"].eq(orders["batch_id"][0]).all()
    assert con.execute("SELECT line_no, column_name FROM main.rejects ORDER BY line_no").fetchall() == [
        (5, "field 2"), (6, "field 3"), (7, None)]


# ---------------------------------------------------------------------------------------
# Column map and parsing
# ---------------------------------------------------------------------------------------


def test_column_map_values_constants_and_date_formats(con, tmp_path):
    (tmp_path / "c.csv").write_text(
        "member_id,sex,dob,mail_ok,phone\n"
        " 1001 ,男,1980/01/02,Y,  138-0000-0000 \n"
        "1002,女,,否,\n"
        "1003,未知,2090/12/31,TRUE,0\n", encoding="utf-8")
    result = load(con, tmp_path, path="c.csv", table="customers",
                  columns={"customer_id": "member_id", "gender": "sex", "birth_date": "dob",
                           "consent_mail": "mail_ok", "phone": "phone"},
                  date_formats={"birth_date": "%Y/%m/%d"},
                  values={"gender": {"男": "M", "女": "F", "未知": None}},
                  constants={"source_system": "crm", "signup_date": dt.date(2020, 1, 1)})
    assert (result["rows_loaded"], result["rows_rejected"]) == (3, 0)
    rows = table(con, "customers")
    assert rows["customer_id"].tolist() == ["1001", "1002", "1003"]               # trimmed
    assert rows["gender"].tolist()[:2] == ["M", "F"] and pd.isna(rows["gender"][2])
    assert rows["birth_date"].dt.date.tolist()[0] == dt.date(1980, 1, 2)
    assert pd.isna(rows["birth_date"][1])                                          # empty -> NULL
    assert rows["birth_date"].dt.date.tolist()[2] == dt.date(2090, 12, 31)       # future date loads unchanged
    assert rows["consent_mail"].tolist() == [True, False, True]
    assert rows["phone"].tolist()[0] == "138-0000-0000" and pd.isna(rows["phone"][1])  # not normalised
    assert set(rows["source_system"]) == {"crm"}
    assert set(rows["signup_date"].dt.date) == {dt.date(2020, 1, 1)}
    assert rows["email"].isna().all()                                             # unmapped -> NULL


@pytest.mark.parametrize("text, expected", [
    ("Y", True), ("yes", True), ("TRUE", True), ("1", True), ("是", True), ("t", True),
    ("n", False), ("No", False), ("false", False), ("0", False), ("否", False), ("F", False),
])
def test_boolean_words(text, expected):
    values, failed, _ = ingest.values._parse(pd.Series([text], dtype="str"), "BOOLEAN", None)
    assert values[0] == expected and not failed[0]


def test_bad_values_empty_key_and_duplicate_key_are_rejected(con, tmp_path):
    (tmp_path / "l.csv").write_text(
        "order,line,qty,price,amount\n"
        "A,1,2,10.5,21\n"          # 2 ok
        "A,2,1.5,1,1\n"            # 3 quantity not whole
        "A,x,1,1,1\n"              # 4 line_no not a number
        ",1,1,1,1\n"               # 5 empty key
        "B,1,1,abc,1\n"            # 6 bad price
        "A,1,3,-9.99,-29.97\n"     # 7 duplicate of line 2
        "C,1,-1,-5,5\n")           # 8 dirty but parseable: loads
    result = load(con, tmp_path, path="l.csv", table="order_lines",
                  columns={"order_id": "order", "line_no": "line", "quantity": "qty",
                           "unit_price": "price", "amount": "amount"})
    assert (result["rows_read"], result["rows_loaded"], result["rows_rejected"]) == (7, 2, 5)
    assert_counts_add_up(result)
    bad = rejects(con)
    assert bad[["line_no", "column_name", "model_column", "reason", "raw_value"]].fillna("-").values.tolist() == [
        [3, "qty", "quantity", "not a whole number", "1.5"],
        [4, "line", "line_no", "not a whole number", "x"],
        [5, "order", "order_id", "order_id is empty", "-"],
        [6, "price", "unit_price", "not a number", "abc"],
        [7, "order,line", "order_id,line_no", "duplicate key, first at line 2", "order_id=A, line_no=1"],
    ]
    assert json.loads(bad["raw_record"][0]) == {"order": "A", "line": "2", "qty": "1.5", "price": "1", "amount": "1"}
    rows = table(con, "order_lines")
    assert rows["source_line"].tolist() == [2, 8]
    assert rows["unit_price"].tolist() == [10.5, -5.0]


def test_bad_date_names_format_and_value(con, tmp_path):
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-02-30,c1\nB,2024/01/01,c2\nC,2024-03-01,c3\n")
    result = load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS)
    assert (result["rows_loaded"], result["rows_rejected"]) == (1, 2)
    assert rejects(con)[["line_no", "column_name", "reason", "raw_value"]].values.tolist() == [
        [2, "date", "not a date in format %Y-%m-%d", "2024-02-30"],
        [3, "date", "not a date in format %Y-%m-%d", "2024/01/01"],
    ]


def test_a_redelivered_record_is_unchanged_and_a_changed_one_an_update(con, tmp_path):
    """A monthly file that repeats last month's rows: the identical ones are unchanged (not
    rejects), a changed one replaces its earlier row; read = loaded + unchanged + rejected."""
    (tmp_path / "o1.csv").write_text("order_no,date,member\nA,2024-01-01,c1\nB,2024-01-02,c2\n")
    (tmp_path / "o2.csv").write_text("order_no,date,member\nA,2024-01-01,c1\nB,2024-01-05,c2\nC,2024-01-03,c3\n")
    load(con, tmp_path, path="o1.csv", table="orders", columns=ORDER_COLUMNS)
    second = load(con, tmp_path, path="o2.csv", table="orders", columns=ORDER_COLUMNS)
    assert (second["rows_read"], second["rows_loaded"], second["rows_unchanged"], second["rows_rejected"],
            second["rows_changed"]) == (3, 2, 1, 0, 1)
    assert rejects(con).empty
    rows = table(con, "orders", order="order_id")
    assert rows[["order_id", "batch_id"]].values.tolist() == [["A", 1], ["B", 2], ["C", 2]]
    assert str(rows.order_date[1])[:10] == "2024-01-05"


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


def test_missing_mapped_column_is_a_source_error_naming_file_and_column(con, tmp_path):
    (tmp_path / "o.csv").write_text("order_no,date\nA,2024-01-01\n")
    before = snapshot(con)
    with pytest.raises(SourceError, match=r"o\.csv, line 1: no column 'member'"):
        load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS)
    assert snapshot(con) == before


def test_missing_file_is_a_source_error(con, tmp_path):
    with pytest.raises(SourceError, match=r"nothere\.csv"):
        load(con, tmp_path, path="nothere.csv", table="orders", columns=ORDER_COLUMNS)


GOOD = {"name": "orders", "path": "o.csv", "table": "orders", "columns": ORDER_COLUMNS}


@pytest.mark.parametrize("change, message", [
    ({"colour": "red"}, "unknown key.*colour"),
    ({"table": "shoes"}, "unknown table 'shoes'"),
    ({"columns": {**ORDER_COLUMNS, "shoe_size": "s"}}, "'shoe_size', which is not a column of orders"),
    ({"constants": {"customer_id": "c1"}}, "customer_id is both mapped .* and constant"),
    ({"columns": {"order_id": "order_no"}}, "required column order_date of orders is not mapped"),
    ({"format": "xml"}, "unknown format 'xml'"),
    ({"path": "o.dat"}, "cannot tell the format"),
    ({"date_formats": {"channel": "%Y"}}, "channel is a VARCHAR column, not a date"),
    ({"values": {"city": {"a": "b"}}}, "values: names city, which is not mapped"),
    ({"constants": {"order_type": {"a": "b"}}}, "expected a single value"),
    ({"constants": {"city": "x", "original_order_id": None}, "sheet": "x"}, "sheet: is for excel sources only"),
    ({"effective_date": "2026-08-31"}, "effective_date: is for customers sources only"),
    ({"encoding": "klingon"}, "unknown encoding"),
    ({"encoding": 5}, "unknown encoding '5'"),  # not a TypeError from codecs.lookup
    ({"path": "o.xlsx", "sheet": 1.5}, "sheet: must be a sheet name or a 0-based sheet number, not 1.5"),
])
def test_config_errors_name_file_and_source(tmp_path, change, message):
    path = write_sources(tmp_path, {**GOOD, **change})
    with pytest.raises(ConfigError, match=message) as error:
        ingest.read_sources(path)
    assert str(path) in str(error.value) and "'orders'" in str(error.value)


def test_config_errors_at_file_level(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"sources": [GOOD], "basedir": "x"}))
    with pytest.raises(ConfigError, match="unknown key.*basedir"):
        ingest.read_sources(path)
    path.write_text(yaml.safe_dump({"sources": [GOOD, GOOD]}))
    with pytest.raises(ConfigError, match="used twice: orders"):
        ingest.read_sources(path)
    with pytest.raises(ConfigError, match="cannot read"):
        ingest.read_sources(tmp_path / "none.yaml")


def test_read_sources_keeps_yes_no_as_text_and_fills_defaults(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "base_dir: data/raw\n"
        "sources:\n"
        "  - name: crm\n"
        "    path: crm.csv\n"
        "    table: customers\n"
        "    effective_date: 2026-08-31\n"
        "    columns: {customer_id: id, consent_sms: sms}\n"
        "    values: {consent_sms: {yes: Y, no: N, 1: Y}}\n", encoding="utf-8")
    [source] = ingest.read_sources(path)
    assert source.format == "csv" and source.base_dir == "data/raw" and source.encoding == "auto"
    assert source.values["consent_sms"] == {"yes": "Y", "no": "N", "1": "Y"}
    assert source.effective_date == dt.datetime(2026, 8, 31)
    assert source.sources_file == str(path)


# ---------------------------------------------------------------------------------------
# Batches: fingerprint, history, atomicity
# ---------------------------------------------------------------------------------------


def test_repeated_file_is_skipped(con, tmp_path):
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\nA,2024-01-01,c1\n")
    first = load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS)
    before = snapshot(con)
    again = load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS)
    assert again["status"] == "skipped" and again["batch_id"] == first["batch_id"]
    # a skipped source shows the batch that loaded it: 2 read, 1 loaded, 1 rejected (the repeat)
    assert (again["rows_read"], again["rows_loaded"], again["rows_rejected"]) == (2, 1, 1)
    assert f"batch {first['batch_id']}" in again["message"] and "not loaded again" in again["message"]
    assert snapshot(con) == before
    history = ingest.load_history(con)
    assert len(history) == 1 and history["sha256"][0] == warehouse.sha256_file(tmp_path / "o.csv")
    assert again["loaded_at"] == first["loaded_at"] == history["finished_at"][0]


def test_customer_history(con, tmp_path):
    columns = {"customer_id": "id", "name": "name", "city": "city"}
    (tmp_path / "c1.csv").write_text("id,name,city\n1,Ann,Shanghai\n2,Bob,Beijing\n")
    (tmp_path / "c2.csv").write_text("id,name,city\n1,Ann,Shanghai\n2,Bob,Hangzhou\n3,Cai,Wuhan\n")
    first = load(con, tmp_path, path="c1.csv", table="customers", columns=columns, effective_date="2026-07-31")
    assert (first["rows_loaded"], first["rows_changed"]) == (2, 0)
    second = load(con, tmp_path, path="c2.csv", table="customers", columns=columns, effective_date="2026-08-31")
    # customer 1 unchanged, 2 changed (a new version), 3 new
    assert (second["rows_read"], second["rows_loaded"], second["rows_unchanged"], second["rows_changed"]) == (3, 2, 1, 1)
    rows = table(con, "customers", order="customer_id, valid_from")
    july, august = pd.Timestamp("2026-07-31"), pd.Timestamp("2026-08-31")
    assert rows[["customer_id", "city", "batch_id"]].values.tolist() == [
        ["1", "Shanghai", 1], ["2", "Beijing", 1], ["2", "Hangzhou", 2], ["3", "Wuhan", 2]]
    assert rows["valid_from"].tolist() == [july, july, august, august]
    assert rows["valid_to"].tolist()[:2] == [pd.NaT, august] and rows["valid_to"][2:].isna().all()
    # an older file arriving late must not overwrite the newer version
    (tmp_path / "c0.csv").write_text("id,name,city\n2,Bob,Nanjing\n")
    late = load(con, tmp_path, path="c0.csv", table="customers", columns=columns, effective_date="2026-06-30")
    assert (late["rows_loaded"], late["rows_rejected"]) == (0, 1)
    assert "a later version is already loaded" in rejects(con, late["batch_id"])["reason"][0]
    assert len(table(con, "customers")) == 4
    # the summary of what changed: one customer's city, nothing else
    assert ingest.history_changes(con).values.tolist() == [["city", 1]]


def test_customer_without_effective_date_gets_load_time(con, tmp_path):
    (tmp_path / "c.csv").write_text("id\n1\n")
    load(con, tmp_path, path="c.csv", table="customers", columns={"customer_id": "id"})
    rows = table(con, "customers")
    started = ingest.load_history(con)["started_at"][0]
    assert rows["valid_from"][0] == started and pd.isna(rows["valid_to"][0])


@pytest.mark.parametrize("step", ["_write_rejects", "_record_batch"])
def test_failed_load_leaves_database_unchanged(con, tmp_path, monkeypatch, step):
    columns = {"customer_id": "id", "city": "city"}
    (tmp_path / "c1.csv").write_text("id,city\n1,Shanghai\n2,Beijing\n")
    (tmp_path / "c2.csv").write_text("id,city\n1,Shanghai\n2,Hangzhou\n3,Wuhan\n,Empty\n")
    load(con, tmp_path, path="c1.csv", table="customers", columns=columns, effective_date="2026-07-31")
    before = snapshot(con)

    def fail(*args, **kwargs):
        # by now the new customer versions are written and the old one closed
        assert con.execute("SELECT count(*) FROM raw.customers").fetchall()[0][0] == 4
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest.load, step, fail)
    with pytest.raises(RuntimeError, match="disk full"):
        load(con, tmp_path, path="c2.csv", table="customers", columns=columns, effective_date="2026-08-31")
    assert snapshot(con) == before
    monkeypatch.undo()
    result = load(con, tmp_path, path="c2.csv", table="customers", columns=columns, effective_date="2026-08-31")
    assert (result["status"], result["batch_id"], result["rows_changed"], result["rows_rejected"]) == ("loaded", 2, 1, 1)


# ---------------------------------------------------------------------------------------
# Looking at loads
# ---------------------------------------------------------------------------------------


def test_load_sources_order_only_and_history(con, tmp_path):
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\n")
    (tmp_path / "p.csv").write_text("sku,price\nP1,9.9\nP2,x\n")
    sources = write_sources(
        tmp_path,
        {"name": "products", "path": "p.csv", "table": "products", "columns": {"product_id": "sku", "price": "price"}},
        {"name": "orders", "path": "o.csv", "table": "orders", "columns": ORDER_COLUMNS})
    only = ingest.load_sources(con, sources, only="orders")
    assert only["source"].tolist() == ["orders"]
    result = ingest.load_sources(con, sources)
    assert result.columns.tolist() == ["source", "table", "batch_id", "status", "rows_read", "rows_loaded",
                                       "rows_rejected", "rows_changed", "loaded_at", "message", "rows_unchanged"]
    assert result[["source", "status"]].values.tolist() == [["products", "loaded"], ["orders", "skipped"]]
    history = ingest.load_history(con)
    assert history["batch_id"].tolist() == [1, 2] and history["source"].tolist() == ["orders", "products"]
    assert (history["rows_read"] == history["rows_loaded"] + history["rows_unchanged"] + history["rows_rejected"]).all()
    with pytest.raises(ConfigError, match="no source named nope"):
        ingest.load_sources(con, sources, only=["nope"])


def test_base_dir_can_be_overridden(con, tmp_path):
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\n")
    sources = write_sources(tmp_path, {"name": "orders", "path": "o.csv", "table": "orders", "columns": ORDER_COLUMNS},
                            base_dir="somewhere/else")
    with pytest.raises(SourceError, match=r"somewhere/else/o\.csv"):
        ingest.load_sources(con, sources)
    assert ingest.load_sources(con, sources, base_dir=tmp_path)["rows_loaded"].tolist() == [1]


def test_reject_summary_groups_reasons_without_values(con, tmp_path):
    (tmp_path / "p.csv").write_text("sku,price\nP1,x\nP2,y\nP3,1\nP3,2\n,3\n")
    result = load(con, tmp_path, path="p.csv", table="products", columns={"product_id": "sku", "price": "price"})
    summary = ingest.reject_summary(con, batch_id=result["batch_id"])
    assert summary[["source", "column", "into", "reason", "count", "first_line", "example_value"]].values.tolist() == [
        ["src", "price", "price", "not a number", 2, 2, "x"],
        ["src", "sku", "product_id", "duplicate key", 1, 5, "product_id=P3"],
        ["src", "sku", "product_id", "product_id is empty", 1, 6, ""],  # no value: blank, not None
    ]
    assert len(ingest.reject_summary(con)) == 3
    assert ingest.reject_summary(con, batch_id=99).empty


def test_reject_reasons_show_no_private_values(con, tmp_path):
    """A bad birth date (tier 3) must not be readable at clearance 2: not in the reason, masked as example."""
    (tmp_path / "c.csv").write_text("id,dob,sms,since\n1,1986-13-45,Y,2020-01-01\n2,1990-01-01,maybe,2020-01-01\n"
                                    "3,1991-01-01,N,someday\n4,1992-01-01,N,2020-01-01\n")
    load(con, tmp_path, path="c.csv", table="customers",
         columns={"customer_id": "id", "birth_date": "dob", "consent_sms": "sms", "signup_date": "since"})
    stored = rejects(con)
    assert "1986-13-45" not in " ".join(stored["reason"]) and "maybe" not in " ".join(stored["reason"])
    assert stored["raw_value"].tolist() == ["1986-13-45", "maybe", "someday"]
    assert warehouse.privacy_tiers(con, "rejects")["raw_value"] == warehouse.HIGHLY_PRIVATE
    example = lambda clearance: ingest.reject_summary(con, clearance=clearance).set_index("into")["example_value"]
    # birth_date is tier 3, consent_sms tier 2, signup_date tier 1 (warehouse.MODEL)
    assert example(2).to_dict() == {"birth_date": "***", "consent_sms": "maybe", "signup_date": "someday"}
    assert example(1).to_dict() == {"birth_date": "***", "consent_sms": "***", "signup_date": "someday"}
    assert example(3)["birth_date"] == "1986-13-45"
    assert ingest.reject_summary(con)["example_value"].tolist().count("1986-13-45") == 1  # no clearance: as stored


def test_profile(con, tmp_path):
    (tmp_path / "c.csv").write_text("id,name,city,sms\n1,Ann,Shanghai,\n2,,Shanghai,no\n3,Cai,,yes\n4,Dan,Wuhan,\n")
    result = load(con, tmp_path, path="c.csv", table="customers",
                  columns={"customer_id": "id", "name": "name", "city": "city", "consent_sms": "sms"})
    report = ingest.profile(con, "customers", batch_id=result["batch_id"]).set_index("column")
    assert report.index.tolist()[:3] == ["customer_id", "customer_type", "name"]
    assert report.loc["city", ["type", "pct_missing", "distinct", "example"]].tolist() == ["VARCHAR", 25.0, 2, "Shanghai"]
    assert report.loc["email", "pct_missing"] == 100.0 and report.loc["email", "example"] == ""
    assert report.loc["name", "example"] == "Ann"
    # a yes/no example stays a bool (line 2's "no"), so a table words it in the reader's language
    assert report.loc["consent_sms", "example"] is False
    masked = ingest.profile(con, "customers", clearance=warehouse.PUBLIC).set_index("column")
    assert masked.loc["name", "example"] == "***" and masked.loc["city", "example"] == "Shanghai"
    with pytest.raises(ValueError, match="unknown table"):
        ingest.profile(con, "shoes")


def test_bundled_cdnow_master_loads_from_gzip(tmp_path):
    """The bundled CDNOW event log (gzip): 69,659 records of 23,570 customers, as Fader and Hardie describe it."""
    from importlib.resources import files

    from dbmarketing import ingest, warehouse

    data_dir = files("dbmarketing") / "data"
    spec = tmp_path / "cdnow.yaml"
    spec.write_text(f"base_dir: {data_dir}\nsources:\n  - name: cdnow\n    path: CDNOW_master.txt.gz\n    format: cdnow\n    table: orders\n",
                    encoding="utf-8")
    con = warehouse.connect(tmp_path / "c.duckdb")
    out = ingest.load_sources(con, spec)
    assert out.rows_read.iloc[0] == 69_659 and out.rows_rejected.iloc[0] == 0
    n_customers, first, last, total = con.execute(
        "SELECT count(DISTINCT customer_id), min(order_date), max(order_date), round(sum(l.amount), 2) "
        "FROM raw.orders JOIN raw.order_lines l USING (order_id)").fetchall()[0]
    assert n_customers == 23_570
    assert str(first) == "1997-01-01" and str(last) == "1998-06-30"
    assert total > 0


# ---------------------------------------------------------------------------------------
# Two systems, typed dates, multi-source loads
# ---------------------------------------------------------------------------------------


def test_same_number_from_another_system_is_rejected_not_merged(con, tmp_path):
    """Customer 1 of the CRM and customer 1 of the POS are two people: the POS record must
    not become a new version of the CRM customer."""
    columns = {"customer_id": "id", "name": "name"}
    (tmp_path / "crm.csv").write_text("id,name\n1,Ann\n2,Bob\n")
    (tmp_path / "pos.csv").write_text("id,name\n1,Zhang\n7,Li\n")
    load(con, tmp_path, path="crm.csv", table="customers", columns=columns,
         constants={"source_system": "crm"}, effective_date="2026-01-01")
    pos = load(con, tmp_path, path="pos.csv", table="customers", columns=columns,
               constants={"source_system": "pos"}, effective_date="2026-02-01")
    assert (pos["rows_read"], pos["rows_loaded"], pos["rows_rejected"], pos["rows_changed"]) == (2, 1, 1, 0)
    rows = table(con, "customers", order="customer_id")
    assert rows[["customer_id", "name", "source_system"]].values.tolist() == [
        ["1", "Ann", "crm"], ["2", "Bob", "crm"], ["7", "Li", "pos"]]
    assert rows["valid_to"].isna().all()  # Ann's record was not closed
    [bad] = rejects(con, pos["batch_id"]).to_dict("records")
    assert (bad["line_no"], bad["column_name"], bad["raw_value"]) == (2, "id", "customer_id=1")
    assert "already used by source system 'crm'" in bad["reason"] and "prefix" in bad["reason"]

    # the way out: a prefix on the POS numbers (and on the POS orders' customer numbers)
    (tmp_path / "pos2.csv").write_text("id,name\n1,Zhang\n7,Li\n8,\n")
    again = load(con, tmp_path, path="pos2.csv", table="customers", columns=columns,
                 constants={"source_system": "pos"}, prefix={"customer_id": "P"}, effective_date="2026-03-01")
    assert (again["rows_loaded"], again["rows_rejected"]) == (3, 0)
    assert sorted(table(con, "customers")["customer_id"]) == ["1", "2", "7", "P1", "P7", "P8"]
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2026-03-02,1\nB,2026-03-02,\n")
    load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS, prefix={"customer_id": "P"})
    assert table(con, "orders")["customer_id"].tolist()[0] == "P1"
    assert pd.isna(table(con, "orders")["customer_id"][1])  # an empty number stays empty


@pytest.mark.parametrize("change, message", [
    ({"prefix": {"order_date": "X"}}, "order_date is a DATE column"),
    ({"prefix": {"city": "X"}}, "prefix: names city, which is not mapped"),
    ({"prefix": {"customer_id": ""}}, "empty prefix"),
])
def test_prefix_config_errors(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        ingest.read_sources(write_sources(tmp_path, {**GOOD, **change}))


def test_real_date_cells_are_dates_whatever_the_text_format(con, tmp_path):
    """date_formats describes date *text*; a typed date cell (Excel, Parquet) is a date as it is."""
    frame = pd.DataFrame({"code": ["D1", "D2", "D3"],
                          "since": [dt.datetime(2024, 1, 5), "2024/01/07", "2024-01-08"]})
    frame.to_excel(tmp_path / "d.xlsx", index=False)
    result = load(con, tmp_path, path="d.xlsx", table="customers",
                  columns={"customer_id": "code", "signup_date": "since"}, date_formats={"signup_date": "%Y/%m/%d"})
    assert (result["rows_loaded"], result["rows_rejected"]) == (2, 1)
    assert table(con, "customers")["signup_date"].dt.date.tolist() == [dt.date(2024, 1, 5), dt.date(2024, 1, 7)]
    # the text cell that does not follow the format is still a reject
    assert rejects(con)[["line_no", "reason", "raw_value"]].values.tolist() == [
        [4, "not a date in format %Y/%m/%d", "2024-01-08"]]

    pd.DataFrame({"no": ["T1", "T2"], "opened": [dt.date(2024, 2, 1), None]}).to_parquet(tmp_path / "t.parquet")
    result = load(con, tmp_path, name="tickets", path="t.parquet", table="service_tickets",
                  columns={"ticket_id": "no", "opened_date": "opened"}, date_formats={"opened_date": "%d.%m.%Y"})
    assert (result["rows_loaded"], result["rows_rejected"]) == (2, 0)
    opened = table(con, "service_tickets")["opened_date"]
    assert opened[0].date() == dt.date(2024, 2, 1) and pd.isna(opened[1])


def test_every_source_is_checked_before_any_is_loaded(con, tmp_path):
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\n")
    (tmp_path / "gbk.csv").write_bytes(CUSTOMERS_CN.encode("gbk"))
    (tmp_path / "p.csv").write_text("sku,cost\nP1,1\n")
    pd.DataFrame({"code": [1]}).to_excel(tmp_path / "d.xlsx", index=False)
    orders = {"name": "orders", "path": "o.csv", "table": "orders", "columns": ORDER_COLUMNS}
    before = snapshot(con)
    for second, message in [
        ({"name": "gone", "path": "gone.csv", "table": "cities", "columns": {"city": "c"}}, r"gone\.csv"),
        ({"name": "undecodable", "path": "gbk.csv", "table": "customers", "columns": CN_MAP, "encoding": "utf-8"},
         r"gbk\.csv, line 1: cannot decode"),
        ({"name": "products", "path": "p.csv", "table": "products", "columns": {"product_id": "sku", "price": "price"}},
         r"p\.csv, line 1: no column 'price'"),
        ({"name": "dealers", "path": "d.xlsx", "table": "customers", "columns": {"customer_id": "number"}},
         r"d\.xlsx, line 1: no column 'number'"),
        ({"name": "erp", "url": "sqlite:///none.db", "sql_table": "x", "table": "cities", "columns": {"city": "c"}},
         "database file not found"),
    ]:
        with pytest.raises(SourceError, match=message):
            ingest.load_sources(con, write_sources(tmp_path, orders, second))
        assert snapshot(con) == before, second["name"]  # the good first source was not loaded either


def test_a_wide_header_is_cut_with_a_count_in_errors(con, tmp_path):
    """10,000 columns: the error shows the first ten and counts the rest, and names the
    closest headers to the one mapped."""
    header = ["id"] + [f"col{i}" for i in range(1, 10_000)]
    (tmp_path / "w.csv").write_text(",".join(header) + "\n" + ",".join(["1"] * 10_000) + "\n")
    with pytest.raises(SourceError) as error:
        load(con, tmp_path, path="w.csv", table="customers", columns={"customer_id": "col9999x"})
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'w.csv'}, line 1: no column 'col9999x' (mapped to customer_id")
    assert "the closest are 'col9999'," in message
    assert message.endswith("the header has 10,000 columns: id, col1, col2, col3, col4, col5, col6, col7, col8, "
                            "col9 ... and 9,990 more")
    assert len(message) < 300 + len(str(tmp_path))

    twice = ["id"] + [f"c{i % 4_000}" for i in range(9_999)]  # c0 ... c3999 twice, c0 ... c1998 three times
    (tmp_path / "t.csv").write_text(",".join(twice) + "\n")
    with pytest.raises(SourceError) as error:
        load(con, tmp_path, path="t.csv", table="customers", columns={"customer_id": "id"})
    message = str(error.value)
    assert f"t.csv, line 1: column header(s) used twice: c0, c1, c10, c100, c1000," in message
    assert "... and 3,990 more; give each column its own name" in message


def test_a_later_failure_names_the_sources_already_loaded(con, tmp_path, monkeypatch):
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\n")
    (tmp_path / "p.csv").write_text("sku,price\nP1,1\n")
    sources = write_sources(
        tmp_path, {"name": "orders", "path": "o.csv", "table": "orders", "columns": ORDER_COLUMNS},
        {"name": "products", "path": "p.csv", "table": "products", "columns": {"product_id": "sku", "price": "price"}})
    real = ingest.load._write_batch

    def fail_on_products(con, source, *args):
        if source.name == "products":
            raise RuntimeError("disk full")
        return real(con, source, *args)

    monkeypatch.setattr(ingest.load, "_write_batch", fail_on_products)
    with pytest.raises(ingest.PartialLoadError) as error:
        ingest.load_sources(con, sources)
    message = str(error.value)
    assert "source 'products' failed" in message and "disk full" in message
    assert "kept: orders (batch 1)" in message
    assert "\n" not in message  # one line for the scheduler's log
    assert ingest.load_history(con)["source"].tolist() == ["orders"]
    assert table(con, "products").empty
    monkeypatch.undo()
    again = ingest.load_sources(con, sources)
    assert again[["source", "status", "batch_id"]].values.tolist() == [["orders", "skipped", 1], ["products", "loaded", 2]]


def test_sql_date_values_are_dates_whatever_the_text_format():
    """A database driver hands over date objects: they are dates, not text in the mapped format."""
    records = ingest.readers._rows_to_records([("T1", dt.date(2024, 2, 1)), ("T2", "01.02.2024"), ("T3", "2024-02-01")],
                                       "db", header=["no", "opened"])
    source = ingest.Source(name="tickets", url="sqlite:///x.db", sql_table="t", table="service_tickets",
                            columns={"ticket_id": "no", "opened_date": "opened"},
                            date_formats={"opened_date": "%d.%m.%Y"})
    tables, problems = ingest.load._parse_source(records, source)
    opened = tables["service_tickets"]["opened_date"]
    assert opened[1].date() == opened[2].date() == dt.date(2024, 2, 1)
    assert problems[["line_no", "reason", "raw_value"]].values.tolist() == [
        [3, "not a date in format %d.%m.%Y", "2024-02-01"]]


def test_same_file_with_a_fixed_map_supersedes_its_first_load(con, tmp_path):
    """The README's prefix fix applied to the very file that was rejected: the new load replaces
    what the first one loaded (no POS member left under a bare number) and closes its rejects."""
    columns = {"customer_id": "id", "name": "name"}
    (tmp_path / "crm.csv").write_text("id,name\n1,Ann\n2,Bob\n")
    (tmp_path / "pos.csv").write_text("id,name\n1,Zhang\n7,Li\n")
    load(con, tmp_path, name="crm", path="crm.csv", table="customers", columns=columns,
         constants={"source_system": "crm"}, effective_date="2026-01-01")
    first = load(con, tmp_path, name="pos", path="pos.csv", table="customers", columns=columns,
                 constants={"source_system": "pos"}, effective_date="2026-02-01")
    assert (first["rows_loaded"], first["rows_rejected"]) == (1, 1)
    again = load(con, tmp_path, name="pos", path="pos.csv", table="customers", columns=columns,
                 constants={"source_system": "pos"}, prefix={"customer_id": "POS-"}, effective_date="2026-02-01")
    assert (again["status"], again["rows_loaded"], again["rows_rejected"]) == ("loaded", 2, 0)
    assert "supersedes batch" in again["message"]
    rows = table(con, "customers", order="customer_id")
    assert rows[["customer_id", "source_system"]].values.tolist() == [
        ["1", "crm"], ["2", "crm"], ["POS-1", "pos"], ["POS-7", "pos"]]
    assert rows["valid_to"].isna().all()
    status = dict(con.execute("SELECT batch_id, status FROM main.load_batches").fetchall())
    assert status[first["batch_id"]] == f"superseded by batch {again['batch_id']}"
    assert con.execute("SELECT DISTINCT status FROM main.rejects").fetchall() == [(status[first["batch_id"]],)]
    assert ingest.reject_summary(con).empty  # nothing left to fix
    # loading the fixed map once more changes nothing
    assert load(con, tmp_path, name="pos", path="pos.csv", table="customers", columns=columns,
                constants={"source_system": "pos"}, prefix={"customer_id": "POS-"},
                effective_date="2026-02-01")["status"] == "skipped"


def test_a_bad_record_delivered_again_counts_once(con, tmp_path):
    """A cumulative monthly file repeats last month's bad row: the earlier reject is closed as
    repeated, so the open rejects count it once."""
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\nB,2024-13-01,c2\n")
    load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS)
    (tmp_path / "o.csv").write_text("order_no,date,member\nA,2024-01-01,c1\nB,2024-13-01,c2\nC,2024-02-01,c3\n")
    second = load(con, tmp_path, path="o.csv", table="orders", columns=ORDER_COLUMNS)
    assert (second["rows_read"], second["rows_loaded"], second["rows_unchanged"], second["rows_rejected"]) == (3, 1, 1, 1)
    summary = ingest.reject_summary(con)
    assert summary["count"].tolist() == [1]
    assert con.execute("SELECT status FROM main.rejects ORDER BY batch_id").fetchall() == [
        (f"repeated in batch {second['batch_id']}",), (None,)]


def test_cdnow_of_unknown_width_needs_a_map(con, tmp_path):
    (tmp_path / "c.txt").write_text("1 x 19970101 2 29.33 7\n")
    with pytest.raises(SourceError, match=r"c\.txt, line 1: 6 fields per record.*columns:"):
        load(con, tmp_path, path="c.txt", format="cdnow")


def test_numbers_as_exports_write_them(con, tmp_path):
    (tmp_path / "o.csv").write_text("no,day,who,total\nA,2024-01-01,c1,\"1,104.92\"\nB,2024-01-01,c1,¥88\n"
                                    "C,2024-01-01,c1,１２３\nD,2024-01-01,c1,\"12,5\"\n", encoding="utf-8")
    out = load(con, tmp_path, path="o.csv", table="orders",
               columns={"order_id": "no", "order_date": "day", "customer_id": "who", "amount": "total"})
    assert (out["rows_loaded"], out["rows_rejected"]) == (3, 1)
    assert table(con, "orders", order="order_id")["amount"].tolist() == [1104.92, 88.0, 123.0]
    assert rejects(con)["reason"].tolist() == ["not a number"]  # 12,5 is ambiguous: no thousands group


def test_plain_and_export_numbers_in_one_column(con, tmp_path):
    """Plain number text skips the clean-up (the fast path); the cells that need it still get it,
    each in its own line."""
    totals = ["12.5", "\"1,104.92\"", "-3", "¥88", ".5", "１２３", "1e2", "\"12,5\"", " 7 ", "7.", "x"]
    body = "".join(f"{i},2024-01-01,c1,{t}\n" for i, t in enumerate(totals))
    (tmp_path / "o.csv").write_text("no,day,who,total\n" + body, encoding="utf-8")
    out = load(con, tmp_path, path="o.csv", table="orders",
               columns={"order_id": "no", "order_date": "day", "customer_id": "who", "amount": "total"})
    assert (out["rows_loaded"], out["rows_rejected"]) == (9, 2)
    rows = table(con, "orders")
    assert dict(zip(rows["source_line"], rows["amount"])) == {
        2: 12.5, 3: 1104.92, 4: -3.0, 5: 88.0, 6: 0.5, 7: 123.0, 8: 100.0, 10: 7.0, 11: 7.0}
    assert rejects(con)[["line_no", "reason", "raw_value"]].values.tolist() == [
        [9, "not a number", "12,5"], [12, "not a number", "x"]]


def test_numeric_watermark_takes_the_largest_number(con, tmp_path):
    """A watermark on a number column (an id): 10 is above 9, whatever the text says."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'erp.db'}")
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE o (id INTEGER, no TEXT, day TEXT)"))
        c.execute(sa.text("INSERT INTO o VALUES (9, 'A', '2024-01-01'), (10, 'B', '2024-01-02')"))
    entry = dict(url="sqlite:///erp.db", table="orders", watermark="id",
                 query="SELECT id, no, day FROM o WHERE :watermark IS NULL OR id > CAST(:watermark AS INTEGER)",
                 columns={"order_id": "no", "order_date": "day"})
    assert load(con, tmp_path, **entry)["rows_loaded"] == 2
    assert con.execute("SELECT watermark FROM main.load_batches").fetchall() == [("10",)]
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO o VALUES (11, 'C', '2024-01-03')"))
    engine.dispose()
    again = load(con, tmp_path, **entry)
    assert (again["rows_read"], again["rows_loaded"]) == (1, 1)
