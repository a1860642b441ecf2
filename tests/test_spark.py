"""The Spark engine gives what DuckDB gives (issue 17): the same library calls, the same sample.

The small sample, cleaned once (``cleaned_sample``), is mirrored as a Parquet warehouse
(``warehouse.spark.mirror``) and attached to the one local Spark session of the test session
(``local[2]``: starting Spark takes ~10 s). Each library call runs on the DuckDB file and on Spark
and the results must be equal: exactly for counts, scores, dates and labels, within 1e-9
(relative) for sums of money and the figures derived from them. Spark's statements are the
DuckDB ones translated (sqlglot + ``dialect.for_spark``): no second copy of the SQL exists.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from dbmarketing import baskets, customers, rfm, warehouse
from dbmarketing.warehouse import spark as engine

AS_OF = dt.date(2026, 10, 31)


@pytest.fixture(scope="module")
def both(cleaned_sample, spark_session, tmp_path_factory):
    """(DuckDB connection, Spark connection) on the same cleaned small sample, the Spark side
    the database's mirror (``warehouse.spark.mirror``, what a session of engine "spark" reads)."""
    root = tmp_path_factory.mktemp("spark")
    duck = warehouse.connect(cleaned_sample, read_only=True)
    con = engine.SparkConnection(spark_session, root / "parquet")
    written = engine.mirror(duck, con, root / "parquet")
    assert "main.sales" in written and "main.customers" in written
    yield duck, con
    duck.close()


def _same(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> None:
    a = a.sort_values(keys).reset_index(drop=True)
    b = b.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=0)
    for column in a.columns:  # counts, scores and labels: exactly
        if not pd.api.types.is_float_dtype(a[column]):
            assert a[column].equals(b[column]), column


@pytest.mark.parametrize("method", ["independent", "nested"])
def test_rfm_scores_are_the_same_on_spark(both, method):
    duck, con = both
    a = rfm.compute(duck, AS_OF, method=method)
    b = rfm.compute(con, AS_OF, method=method)
    assert len(a) > 1000 and a["segment"].nunique() > 5  # a real sample: many customers, many segments
    _same(a, b, ["customer_id"])


def test_rfm_summary_of_a_window_and_of_days_is_the_same_on_spark(both):
    duck, con = both
    a = rfm.summarize(duck, AS_OF, window=365, frequency="days")
    b = rfm.summarize(con, AS_OF, window=365, frequency="days")
    _same(a, b, ["customer_id"])


@pytest.mark.parametrize("calibration_end", [None, dt.date(2026, 4, 30)])
def test_clv_summary_is_the_same_on_spark(both, calibration_end):
    """The repeat-purchase summary the BG/NBD and Gamma-Gamma fits read (the fits stay in
    Python on these rows), with and without a holdout period; an earlier calibration end reads
    the purchases as known then (a temporary view of the returns made by then)."""
    duck, con = both
    a = rfm.repeat_summary(duck, AS_OF, calibration_end).reset_index()
    b = rfm.repeat_summary(con, AS_OF, calibration_end).reset_index()
    assert (a["frequency"] > 0).sum() > 100
    _same(a, b, ["customer_id"])


def test_customer_360_is_the_same_on_spark(both):
    duck, con = both
    a = customers.customer_360(duck, AS_OF)
    b = customers.customer_360(con, AS_OF)
    assert list(a.columns) == list(b.columns)
    _same(a, b, ["customer_id"])


@pytest.mark.parametrize("level", ["product", "category"])
def test_basket_counts_and_rules_are_the_same_on_spark(both, level):
    duck, con = both
    a = baskets.mine_orders(duck, AS_OF, level=level, min_support=0.002, max_len=3)
    b = baskets.mine_orders(con, AS_OF, level=level, min_support=0.002, max_len=3)
    ra, rb = baskets.rules(a), baskets.rules(b)
    assert len(ra) > 10
    _same(ra, rb, ["antecedent", "consequent"])


def _plain(value):
    """Numbers as floats (Spark's percentile_disc gives 2.0 where DuckDB gives 2), lists within."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


@pytest.mark.parametrize("statement, params", [
    ("SELECT [10, 20, 30][2] AS x", {}),  # lists count from 1 in DuckDB, arrays from 0 in Spark
    ("SELECT CAST(['a', 'b'] AS ENUM('a', 'b')[])[$i] AS x", {"i": 2}),
    ("SELECT quantile_disc(v, [0.2, 0.5, 0.8]) AS x FROM range(1, 11) t(v)", {}),
    # the RFM cuts: quantiles just below j / bins, as exact decimals (rfm.scoring._quantiles)
    ("SELECT quantile_disc(v, CAST($q AS DECIMAL(19, 18)[])) AS x FROM range(1, 11) t(v)",
     {"q": ["0.199999999999999999", "0.399999999999999999", "0.599999999999999999", "0.799999999999999999"]}),
    ("SELECT date_diff('day', DATE '2026-01-31', $d) AS x", {"d": dt.date(2026, 3, 1)}),
    ("SELECT $ids IS NULL OR list_contains($ids, 3) AS x", {"ids": None}),
    ("SELECT list_contains($ids, 3) AS x", {"ids": [1, 2, 3]}),
])
def test_a_statement_means_the_same_on_both_engines(both, statement, params):
    """Hand-picked constructs where the two dialects differ; DuckDB's own answer is the expectation."""
    duck, con = both
    expected = duckdb.connect().execute(statement, params).fetchall()
    # the ten rows from a table both engines have, not DuckDB's range()
    on_spark = statement.replace("range(1, 11) t(v)", "VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10) AS t(v)")
    assert _plain(con.execute(on_spark, params).fetchall()) == _plain(expected)


def test_no_java_is_a_one_line_error_saying_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java-here"))
    with pytest.raises(engine.EngineError) as info:
        engine.find_java()
    message = str(info.value)
    assert "\n" not in message and "Java 17" in message and "openjdk-17" in message and "JAVA_HOME" in message


def test_the_mirror_writes_again_only_what_changed_and_holds_no_personal_data(cleaned_sample, spark_session,
                                                                               tmp_path):
    """A session of engine "spark" mirrors the database before each step it runs on Spark: the
    first time every raw and main table, then only a table whose content changed (here one row
    of a mart written between two steps), never a column the catalog puts above tier 2 but the
    birth date (the customer 360's age): every table the catalog describes, with those columns."""
    import shutil

    import pyarrow.parquet as pq

    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    session = warehouse.Session(path, engine="spark", spark_warehouse=tmp_path / "wh")
    on = session.compute_on()  # mirrors every table
    assert engine.mirror(session.connection(), on, tmp_path / "wh") == []  # nothing changed since
    tables = sorted(str(p.relative_to(tmp_path / "wh")).replace("/", ".") for p in (tmp_path / "wh").glob("*/*"))
    duck = session.connection()
    tiers = duck.execute("SELECT table_schema || '.' || table_name, column_name, privacy_tier FROM main.catalog "
                         "WHERE table_schema IN ('raw', 'main')").fetchall()
    expected = sorted({t for t, _, _ in tiers})
    assert tables == expected and "main.sales" in tables
    for table in tables:
        names = pq.read_schema(next((tmp_path / "wh" / table.replace(".", "/")).glob("*.parquet"))).names
        private = {c for t, c, tier in tiers if t == table and tier > 2}
        assert not set(names) & (private - {"birth_date"}), table
        assert set(names) == {c for t, c, tier in tiers if t == table and (tier <= 2 or c == "birth_date")}, table
    assert "name" not in pq.read_schema(next((tmp_path / "wh/main/customers").glob("*.parquet"))).names
    session.release()
    with session.writing():
        session.execute("UPDATE main.sales SET net_amount = net_amount + 1 WHERE order_id = "
                        "(SELECT min(order_id) FROM main.sales)")
    assert engine.mirror(session.connection(), on, tmp_path / "wh") == ["main.sales"]
    manifest = __import__("json").loads((tmp_path / "wh/mirror.json").read_text())
    assert set(manifest) == set(expected)
    session.release()


def test_a_session_of_engine_spark_gives_what_duckdb_gives(cleaned_sample, spark_session, tmp_path):
    """The notebooks' way: the same library call on ``warehouse.Session(db, engine="spark")``
    runs on Spark (a statement only Spark's SQL knows proves where it ran) and equals DuckDB's."""
    import shutil

    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    session = warehouse.Session(path, engine="spark", spark_warehouse=tmp_path / "wh")
    on = warehouse.compute_on(session)
    assert on.engine == "spark" and on.execute("SELECT element_at(array(1, 2), 2) AS x").fetchall() == [(2,)]
    assert warehouse.compute_on(on) is on  # a step inside a step stays on Spark
    plain = warehouse.connect(cleaned_sample, read_only=True)
    a = rfm.compute(plain, AS_OF)
    plain.close()
    b = rfm.compute(session, AS_OF)
    _same(a, b, ["customer_id"])
    session.release()
    duck = warehouse.Session(path)
    assert warehouse.compute_on(duck) is duck
    with pytest.raises(ValueError, match="engine must be one of duckdb, spark"):
        warehouse.Session(path, engine="postgres")
    duck.release()


def test_the_driver_gets_the_workbooks_java_options_and_those_asked_for(spark_session):
    """``engine.session`` adds the Java options in its ``config`` (here the tests' quick compiler)
    to its own (the log configuration that keeps Spark's console quiet): the driver's JVM was
    started with both."""
    jvm = spark_session.sparkContext._jvm
    arguments = list(jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert any(a.startswith("-Dlog4j2.configurationFile=") and a.endswith("log4j2.properties") for a in arguments)
    assert "-XX:TieredStopAtLevel=1" in arguments and "-XX:+UseSerialGC" in arguments
    assert spark_session.conf.get("spark.sql.codegen.factoryMode") == "NO_CODEGEN"
