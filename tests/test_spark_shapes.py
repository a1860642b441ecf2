"""The Spark engine on the shapes real deliveries have (issue 17), not only on the sample.

Each shape of tests/shapes.py named here is loaded and cleaned on DuckDB, mirrored to Parquet
(``warehouse.spark.mirror``: only the tables the delivery has) and every step that runs on
Spark is run on both engines: the RFM scores, the repeat-purchase summary, the customer 360,
the CLV fit and the basket counts. Where a step has its data, both give the same figures
(exactly for counts, scores and labels, within 1e-9 for money); where it lacks them, both
say the same thing (the same error, the same message) instead of one failing and one not.
"""

from __future__ import annotations

import pytest

import shapes
from dbmarketing import baskets, cleanse, customers, ingest, rfm, warehouse
from dbmarketing.warehouse import spark as engine
from test_spark import _same as _same_frames

# an order log alone (CDNOW: orders and lines, no customer file, no costs, no campaigns); order
# totals in Excel without lines or costs; a cumulative monthly file loaded twice (month 2
# repeats month 1's rows, adds two and cancels one)
SHAPES = ["orders_only_cdnow", "orders_excel", "cumulative"]


def _same(a, b, keys):
    """The same figures (test_spark's rule); a column empty on both sides may differ in type
    only: DuckDB hands pandas an all-empty text column as objects, Spark as strings (a customer
    file without gender, an order log without any customer file)."""
    for column in a.columns:
        if column in b and a[column].isna().all() and b[column].isna().all():
            a, b = a.assign(**{column: [None] * len(a)}), b.assign(**{column: [None] * len(b)})
    _same_frames(a, b, keys)


def _build(name: str, folder) -> tuple:
    if name == "cumulative":
        shape = shapes.cumulative(folder / "data")
        con = warehouse.connect(folder / "crm.duckdb")
        ingest.load_sources(con, shape.sources)
        shape = shapes.cumulative_month2(folder / "data")
    else:
        shape = getattr(shapes, name)(folder / "data")
        con = warehouse.connect(folder / "crm.duckdb")
    ingest.load_sources(con, shape.sources)
    cleanse.run(con, shape.as_of)
    return con, shape


def _outcome(step):
    """The step's result, or the error it raised (type and message): what a reader would see."""
    try:
        return step()
    except ValueError as error:  # NotEnoughData is one
        return (type(error).__name__, str(error))


@pytest.fixture(scope="module", params=SHAPES)
def both(request, spark_session, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"spark_{request.param}")
    duck, shape = _build(request.param, folder)
    con = engine.SparkConnection(spark_session, folder / "parquet")
    written = engine.mirror(duck, con, folder / "parquet")
    assert "main.sales" in written
    yield duck, con, shape
    duck.close()


def test_rfm_and_the_repeat_summary_are_the_same_on_spark(both):
    duck, con, shape = both
    _same(rfm.compute(duck, shape.as_of), rfm.compute(con, shape.as_of), ["customer_id"])
    a, b = rfm.repeat_summary(duck, shape.as_of), rfm.repeat_summary(con, shape.as_of)
    _same(a.reset_index(), b.reset_index(), ["customer_id"])
    assert len(a) == duck.execute("SELECT count(DISTINCT customer_id) FROM main.sales").fetchone()[0]


def test_the_customer_360_is_the_same_on_spark(both):
    duck, con, shape = both
    a, b = customers.customer_360(duck, shape.as_of), customers.customer_360(con, shape.as_of)
    _same(a, b, ["customer_id"])


def test_the_clv_fit_gives_the_same_values_or_the_same_reason_on_spark(both):
    duck, con, shape = both
    a = _outcome(lambda: customers.fit_clv(duck, shape.as_of))
    b = _outcome(lambda: customers.fit_clv(con, shape.as_of))
    if isinstance(a, tuple):  # too few buyers for a fit: the same reason on both
        assert a == b
        return
    _same(a.predictions, b.predictions, ["customer_id"])
    _same(a.params, b.params, ["customer_type"])


def test_basket_rules_are_the_same_on_spark_or_say_the_same(both):
    duck, con, shape = both
    a = _outcome(lambda: baskets.rules(baskets.mine_orders(duck, shape.as_of, min_support=0.01)))
    b = _outcome(lambda: baskets.rules(baskets.mine_orders(con, shape.as_of, min_support=0.01)))
    if isinstance(a, tuple):
        assert a == b
        return
    _same(a, b, ["antecedent", "consequent"])


def test_the_customer_model_is_stored_alike_on_spark(spark_session, tmp_path):
    """Notebook 03's build on a session of engine "spark" (the 360 view by Spark, kept as a
    temporary table, the fits in Python on its rows) stores the same ``main.customer_model`` rows
    as on DuckDB, column for column: an order log alone (CDNOW), so without costs the margin and
    profit are empty on both."""
    import shutil

    duck, shape = _build("orders_only_cdnow", tmp_path)
    duck.execute("CHECKPOINT")
    duck.close()
    stored = {}
    for name in ("duckdb", "spark"):
        path = tmp_path / f"{name}.duckdb"
        shutil.copy(tmp_path / "crm.duckdb", path)
        session = warehouse.Session(path, engine=name, spark_warehouse=tmp_path / f"{name}-wh")
        with session.writing():  # as notebook 03 builds it
            model = customers.build_customer_model(session, shape.as_of)
        assert model.value == "revenue"
        session.release()
        con = warehouse.connect(path, read_only=True)
        stored[name] = con.execute("SELECT * FROM main.customer_model").df()
        con.close()
    a, b = stored["duckdb"], stored["spark"]
    assert list(a.columns) == list(b.columns) and len(a) == shape.expected["n_customers"]
    assert a.gross_margin.isna().all() and a.clv.notna().any() and a.churn_risk.notna().any()
    _same(a, b, ["customer_id"])
