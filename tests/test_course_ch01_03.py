"""The course's exercises of chapters 01-03: each check passes a right answer worked out here
another way (SQL or pandas on the small sample) and fails a typical wrong one, saying why."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from dbmarketing import course, customers, ingest, warehouse
from dbmarketing.present import words

AS_OF = date(2026, 10, 31)


@pytest.fixture(autouse=True)
def english():
    words.set_lang("en")
    yield
    words.set_lang("en")


@pytest.fixture(scope="module")
def raw(small_sample):
    con = warehouse.connect(small_sample["db_path"], read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def cleaned(cleaned_sample):
    con = warehouse.connect(cleaned_sample, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def modelled(cleaned_sample, tmp_path_factory):
    """The small sample cleaned and modelled as chapter 03 does (its defaults), on a copy of its own."""
    path = tmp_path_factory.mktemp("course_ch03") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    model = customers.build_customer_model(con, str(AS_OF), horizon_days=180, seed=42)
    yield con, model
    con.close()


def test_01_1_share_lost_to_rejects_and_its_most_common_reason(raw):
    history = ingest.load_history(raw)
    batch = history[(history.source == "orders") & (history.status == "loaded")].iloc[-1]
    share = batch.rows_rejected / batch.rows_read
    rejects = ingest.reject_summary(raw, batch_id=int(batch.batch_id))
    reason = rejects.groupby("reason")["count"].sum().idxmax() if len(rejects) else None
    assert course.verdict("01.1", {"share": share, "reason": reason}, con=raw, source="orders").passed
    if batch.rows_rejected:  # the typical mistake: the records loaded as the base
        wrong = course.verdict("01.1", {"share": batch.rows_rejected / batch.rows_loaded, "reason": reason}, con=raw)
        assert not wrong.passed and "records loaded" in wrong.why
    else:
        assert not course.verdict("01.1", {"share": 0.5, "reason": None}, con=raw).passed


def test_01_2_four_customer_types_from_the_raw_layer(raw):
    rows = raw.execute("""
        WITH c AS (SELECT customer_id, customer_type, signup_date FROM raw.customers WHERE valid_to IS NULL
                   UNION ALL
                   SELECT customer_id, CASE WHEN bool_or(channel = 'distributor') THEN 'distributor' END,
                          min(order_date)
                   FROM raw.orders WHERE customer_id NOT IN (SELECT customer_id FROM raw.customers) GROUP BY 1),
        o AS (SELECT customer_id, max(order_date) AS last FROM raw.orders
              WHERE coalesce(order_type, 'sale') = 'sale' AND coalesce(status, 'completed') = 'completed' AND order_date <= $d
              GROUP BY 1)
        SELECT CASE WHEN customer_type = 'distributor' THEN 'distributor' WHEN last IS NULL THEN 'potential'
                    WHEN last > $d - 365 THEN 'current' ELSE 'lapsed' END, count(*)
        FROM c LEFT JOIN o USING (customer_id) WHERE signup_date IS NULL OR signup_date <= $d GROUP BY 1""",
                       {"d": AS_OF}).fetchall()
    right = dict(rows)
    assert course.verdict("01.2", right, con=raw, as_of=AS_OF, active_days=365).passed
    # the typical mistake: distributors sorted by recency like consumers
    wrong = dict(right, distributor=0, current=right.get("current", 0) + right.get("distributor", 0))
    verdict = course.verdict("01.2", wrong, con=raw, as_of=AS_OF, active_days=365)
    assert not verdict.passed and verdict.why


def test_02_1_records_merged_away(cleaned):
    records, golden, in_merged = cleaned.execute(
        "SELECT count(*), count(DISTINCT master_id), count(*) FILTER (WHERE cluster_size > 1) FROM main.customer_map"
    ).fetchone()
    assert course.verdict("02.1", records - golden, con=cleaned).passed
    wrong = course.verdict("02.1", records, con=cleaned)  # records in, not the difference
    assert not wrong.passed and "difference" in wrong.why
    if in_merged != records - golden:
        assert "survives" in course.verdict("02.1", in_merged, con=cleaned).why


def test_02_2_completeness_of_email_after_cleaning(cleaned):
    df = cleaned.execute("SELECT email FROM main.customers").df()
    right = float(df.email.notna().mean())
    assert course.verdict("02.2", right, con=cleaned, column="email").passed
    wrong = course.verdict("02.2", 100 * right, con=cleaned, column="email")
    assert not wrong.passed and "percentage" in wrong.why
    assert not course.verdict("02.2", 1 - right, con=cleaned, column="email").passed


def test_03_1_valuable_customers_at_high_risk(modelled):
    con, model = modelled
    assert model.churn is not None
    m = con.execute("SELECT profit, churn_risk FROM main.customer_model WHERE as_of = ?", [AS_OF]).df()
    scored = m.dropna()
    right = int(((scored.profit >= scored.profit.quantile(0.8))
                 & (scored.churn_risk >= 1.2 * model.churn.base_rate)).sum())
    assert course.verdict("03.1", right, con=con, model=model).passed
    fixed = int(((scored.profit >= scored.profit.quantile(0.8)) & (scored.churn_risk >= 0.5)).sum())
    wrong = fixed if fixed != right else right + 1
    assert not course.verdict("03.1", wrong, con=con, model=model).passed


def test_03_2_average_clv_of_mvc(modelled):
    con, model = modelled
    right = con.execute("SELECT avg(clv) FROM main.customer_model WHERE as_of = ? AND value_tier = 'MVC'",
                        [AS_OF]).fetchone()[0]
    assert course.verdict("03.2", right, con=con, model=model, tier="MVC").passed
    median = con.execute("SELECT median(clv) FROM main.customer_model WHERE as_of = ? AND value_tier = 'MVC'",
                         [AS_OF]).fetchone()[0]
    wrong = course.verdict("03.2", median, con=con, model=model, tier="MVC")
    assert not wrong.passed and "median" in wrong.why


def test_03_3_high_value_and_complained_recently(modelled):
    con, model = modelled
    both = [r[0] for r in con.execute("""SELECT customer_id FROM main.customer_model WHERE as_of = ?
                                         AND groups LIKE '%high value%' AND groups LIKE '%complained recently%'""",
                                      [AS_OF]).fetchall()]
    assert course.verdict("03.3", both, con=con, model=model).passed
    either = list(model.groups.index[model.groups["high value"] | model.groups["complained recently"]])
    wrong = course.verdict("03.3", either, con=con, model=model)
    assert not wrong.passed and "either" in wrong.why
    assert not course.verdict("03.3", None, con=con, model=model).passed
