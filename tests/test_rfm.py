"""Tests for dbmarketing.rfm: the summary, the scores, segments, stored scores and exports.

Small cases are computed by hand in the comments. The CDNOW checks use the event log bundled
with the package (Fader & Hardie): the SQL repeat-purchase summary must equal a pandas
computation written here from the published conventions, the project's
:func:`dbmarketing.clv.summary_from_events`, and the published figures. The last test runs
notebook 04 through the report runner with a segment map of its own.
"""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path

import duckdb
import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from dbmarketing import cleanse, clv, customers, ingest, warehouse, reports, rfm

AS_OF = "2026-06-30"


# --------------------------------------------------------------------------------------
# a tiny customer database, by hand
# --------------------------------------------------------------------------------------

SALES = [  # order_id, customer_id, order_date, gross_amount, returned_amount
    ("S1", "A", "2026-01-10", 100.0, 0.0),
    ("S2", "A", "2026-03-01", 50.0, 20.0),  # a partial return: counts 30
    ("S3", "A", "2026-03-01", 20.0, 0.0),  # a second order on the same day
    ("S4", "B", "2026-06-30", 80.0, 0.0),  # single purchase, on the as-of date
    ("S5", "C", "2026-07-15", 60.0, 0.0),  # first purchase after the as-of date
    ("S6", "F", "2025-01-05", 40.0, 0.0),  # bought only long ago
    ("S7", "F", "2025-02-05", 10.0, 0.0),
]
CUSTOMERS = [  # customer_id, customer_type, signup_date, name, phone, email, city
    ("A", "consumer", "2025-12-01", "张三", "13812345678", "zhang@example.com", "北京"),
    ("B", "consumer", "2026-06-01", "李四", "13900001111", "li@example.com", "上海"),
    ("C", "consumer", "2026-05-01", "王五", "13700002222", "wang@example.com", "广州"),  # a prospect on 06-30
    ("D", "consumer", "2026-07-01", "赵六", "13600003333", "zhao@example.com", "深圳"),  # signs up later: absent
    ("E", "consumer", None, "John Smith", "13500004444", "john@example.com", "杭州"),  # no signup date, never bought
    ("F", "distributor", "2024-12-01", "钱七", "13400005555", "qian@example.com", "南京"),
]


@pytest.fixture
def con():
    c = warehouse.connect(":memory:")
    c.execute("CREATE TABLE main.sales (order_id VARCHAR, customer_id VARCHAR, order_date DATE, "
              "gross_amount DOUBLE, returned_amount DOUBLE, net_amount DOUBLE)")
    c.executemany("INSERT INTO main.sales VALUES (?, ?, ?, ?, ?, ?)", [(*r, r[3] - r[4]) for r in SALES])
    body = ", ".join(f'"{col.name}" {col.type}' for col in cleanse.CUSTOMER_COLUMNS)
    c.execute(f"CREATE TABLE main.customers ({body})")
    c.executemany("INSERT INTO main.customers (customer_id, customer_type, signup_date, name, phone, email, city, "
                  "address) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(*r, r[6] + "某路1号") for r in CUSTOMERS])
    warehouse.register_table(c, "main", "customers", cleanse.CUSTOMER_COLUMNS, "Golden customer records", layer="clean")
    yield c
    c.close()


def test_summary_by_hand(con):
    s = rfm.summarize(con, AS_OF, sort=True).set_index("customer_id")
    assert list(s.index) == ["A", "B", "C", "E", "F"]  # D signed up after the as-of date
    assert s.attrs["as_of"] == AS_OF
    a = s.loc["A"]
    assert not a.is_prospect
    assert a.recency == (date(2026, 6, 30) - date(2026, 3, 1)).days == 121
    assert a.frequency == 3  # orders
    assert a.monetary == pytest.approx(100 + 30 + 20)  # net of the return
    assert a.avg_order_value == pytest.approx(150 / 3)
    assert a.first_purchase == pd.Timestamp("2026-01-10") and a.last_purchase == pd.Timestamp("2026-03-01")
    b = s.loc["B"]
    assert (b.recency, b.frequency, b.monetary) == (0, 1, 80.0)  # bought on the as-of date
    # C's first purchase is after the as-of date: at 06-30 C is a prospect, not a zero
    for cid in ("C", "E"):
        row = s.loc[cid]
        assert row.is_prospect
        assert pd.isna(row.recency) and pd.isna(row.frequency) and pd.isna(row.monetary)
    assert s.loc["F", "customer_type"] == "distributor"
    # purchase days: A bought on two days
    days = rfm.summarize(con, AS_OF, frequency="days").set_index("customer_id")
    assert days.loc["A", "frequency"] == 2 and days.loc["F", "frequency"] == 2
    # C is a customer at a later date
    later = rfm.summarize(con, "2026-07-31").set_index("customer_id")
    assert not later.loc["C", "is_prospect"] and later.loc["C", "frequency"] == 1
    assert later.loc["D", "is_prospect"]


def test_window_counts_only_recent_purchases(con):
    s = rfm.summarize(con, AS_OF, window=120, sort=True).set_index("customer_id")
    # window of 120 days: 2026-03-03 .. 2026-06-30. A's purchases are older: F = 0, M = 0,
    # but recency still looks at all history
    assert (s.loc["A", "frequency"], s.loc["A", "monetary"], s.loc["A", "recency"]) == (0, 0.0, 121)
    assert pd.isna(s.loc["A", "avg_order_value"])
    assert (s.loc["B", "frequency"], s.loc["B", "monetary"]) == (1, 80.0)
    # 2026-03-01 is 121 days before the as-of date: the first day of a 122-day window
    s = rfm.summarize(con, AS_OF, window=122, frequency="days").set_index("customer_id")
    assert (s.loc["A", "frequency"], s.loc["A", "monetary"]) == (1, 50.0)  # one day, two orders
    s = rfm.summarize(con, AS_OF, window=121).set_index("customer_id")
    assert s.loc["A", "frequency"] == 0
    with pytest.raises(ValueError, match="window"):
        rfm.summarize(con, AS_OF, window=0)


def test_summary_options_and_errors(con):
    consumers = rfm.summarize(con, AS_OF, customer_type="consumer")
    assert set(consumers.customer_id) == {"A", "B", "C", "E"}
    log_only = rfm.summarize(con, AS_OF, customers=None)
    assert set(log_only.customer_id) == {"A", "B", "F"} and not log_only.is_prospect.any()
    assert rfm.summarize(con, "latest", customers=None).attrs["as_of"] == "2026-07-15"
    con.execute("CREATE VIEW main.bad AS SELECT customer_id, order_date FROM main.sales")
    with pytest.raises(ValueError, match="net_amount"):
        rfm.summarize(con, AS_OF, table="main.bad")
    with pytest.raises(ValueError, match="table"):
        rfm.summarize(con, AS_OF, table="main.sales; DROP TABLE x")
    with pytest.raises(ValueError, match="frequency"):
        rfm.summarize(con, AS_OF, frequency="visits")
    with pytest.raises(ValueError, match="unit"):
        rfm.summarize(con, AS_OF, unit="months")
    with pytest.raises(ValueError, match="as_of"):
        rfm.summarize(con, "yesterday")


def test_repeat_summary_by_hand(con):
    s = rfm.summarize(con, AS_OF, repeat=True, unit="weeks", customers=None).set_index("customer_id")
    a = s.loc["A"]
    assert a.clv_frequency == 1  # two purchase days: one repeat
    assert a.clv_recency == pytest.approx(50 / 7) and a.clv_T == pytest.approx(171 / 7)
    assert a.clv_monetary_value == pytest.approx(30 + 20)  # the repeat day, both orders summed
    b = s.loc["B"]
    assert (b.clv_frequency, b.clv_recency, b.clv_T, b.clv_monetary_value) == (0, 0.0, 0.0, 0.0)
    r = rfm.repeat_summary(con, AS_OF, unit="days")
    assert list(r.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert r.loc["F"].tolist() == [1, 31.0, (date(2026, 6, 30) - date(2025, 1, 5)).days, 10.0]


# --------------------------------------------------------------------------------------
# purchases as known at the as-of date: returns keep their own date
# --------------------------------------------------------------------------------------

EXTRACTED = "2026-07-31"
KNOWN_SALES = [  # order_id, customer_id, order_date, gross, returned by the extraction date
    ("S10", "G", "2026-05-01", 100.0, 40.0),  # 40 returned on 07-10, after the as-of date
    ("S11", "G", "2026-06-10", 50.0, 10.0),  # 10 returned on 06-20, before it
    ("S14", "G", "2026-07-20", 80.0, 30.0),  # after the as-of date; 30 returned on 07-25
    ("S12", "H", "2026-06-01", 70.0, 70.0),  # returned in full on 07-05, after the as-of date
    ("S13", "K", "2026-03-01", 30.0, 30.0),  # returned in full on 04-01, before it
]
KNOWN_RETURNS = [("R1", "S10", "G", "2026-07-10", 40.0), ("R2", "S11", "G", "2026-06-20", 10.0),
                 ("R4", "S14", "G", "2026-07-25", 30.0), ("R3", "S12", "H", "2026-07-05", 70.0),
                 ("R5", "S13", "K", "2026-04-01", 30.0)]


@pytest.fixture
def known():
    """A database shaped as cleanse.run leaves it, extracted on 2026-07-31: main.sales net of
    every return, main.sales_returned, main.returns with their dates, main.cleaning_runs."""
    c = warehouse.connect(":memory:")
    body = ", ".join(f'"{col.name}" {col.type}' for col in cleanse.SALES_COLUMNS)
    for table in ("sales", "sales_returned"):
        c.execute(f"CREATE TABLE main.{table} ({body})")
    for oid, cid, day, gross, returned in KNOWN_SALES:
        table = "sales" if gross > returned else "sales_returned"
        c.execute(f"INSERT INTO main.{table} (order_id, customer_id, order_date, gross_amount, returned_amount, "
                  f"net_amount, cost, margin) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                  [oid, cid, day, gross, returned, gross - returned, gross - returned])
    body = ", ".join(f'"{col.name}" {col.type}' for col in cleanse.RETURN_COLUMNS)
    c.execute(f"CREATE TABLE main.returns ({body})")
    c.executemany("INSERT INTO main.returns VALUES (?, ?, ?, ?, ?, 0)", KNOWN_RETURNS)
    c.execute("CREATE TABLE main.cleaning_runs (run_id INTEGER, as_of DATE)")
    c.execute(f"INSERT INTO main.cleaning_runs VALUES (1, DATE '{EXTRACTED}')")
    c.execute("CREATE TABLE main.customers (customer_id VARCHAR, customer_type VARCHAR, signup_date DATE)")
    c.executemany("INSERT INTO main.customers VALUES (?, 'consumer', DATE '2026-01-01')", [("G",), ("H",), ("K",)])
    yield c
    c.close()


def test_a_past_as_of_date_sees_only_the_returns_made_by_then(known):
    before = rfm.summarize(known, AS_OF, sort=True).set_index("customer_id")
    # G on 06-30: S10 100 (its return comes on 07-10) + S11 50 - 10 = 140, two orders
    assert (before.loc["G", "frequency"], before.loc["G", "monetary"]) == (2, 140.0)
    assert before.loc["G", "recency"] == 20  # 06-10 to 06-30
    # H's sale is returned in full only on 07-05: on 06-30 H is a buyer of 70, 29 days ago
    assert not before.loc["H", "is_prospect"]
    assert (before.loc["H", "frequency"], before.loc["H", "monetary"], before.loc["H", "recency"]) == (1, 70.0, 29)
    assert before.loc["K", "is_prospect"]  # returned in full on 04-01: no purchase left
    now = rfm.summarize(known, EXTRACTED, sort=True).set_index("customer_id")
    # on the extraction date: main.sales as it is, S10 60 + S11 40 + S14 50 = 150, three orders
    assert (now.loc["G", "frequency"], now.loc["G", "monetary"]) == (3, 150.0)
    assert now.loc["H", "is_prospect"] and now.loc["K", "is_prospect"]
    # compute uses the same purchases, and an explicit table is used as it is
    scored = rfm.compute(known, AS_OF, sort=True).set_index("customer_id")
    assert scored.loc["G", "monetary"] == 140.0 and not scored.loc["H", "is_prospect"]
    netted = rfm.summarize(known, AS_OF, table="main.sales", sort=True).set_index("customer_id")
    assert netted.loc["G", "monetary"] == 100.0 and netted.loc["H", "is_prospect"]


def test_repeat_summary_periods_each_see_the_returns_known_at_their_end(known):
    r = rfm.repeat_summary(known, EXTRACTED, calibration_end=AS_OF, unit="days")
    # calibration (to 06-30, returns known then): G bought on 05-01 (100) and 06-10 (40):
    # one repeat day worth 40, 40 days apart, first purchase 60 days before 06-30
    g = r.loc["G"]
    assert (g.frequency, g.recency, g["T"], g.monetary_value) == (1, 40.0, 60.0, 40.0)
    # holdout (07-01 .. 07-31, returns known on 07-31): S14 80 - 30 = 50 on one day
    assert (g.frequency_holdout, g.monetary_value_holdout, g.duration_holdout) == (1, 50.0, 31.0)
    # H had bought by 06-30 (returned later): in the calibration summary, with no repeat
    assert r.loc["H"].tolist()[:4] == [0, 0.0, 29.0, 0.0] and r.loc["H", "frequency_holdout"] == 0
    assert "K" not in r.index  # no purchase left by 06-30
    whole = rfm.repeat_summary(known, EXTRACTED, unit="days")
    assert whole.loc["G"].tolist() == [2, 80.0, 91.0, (40.0 + 50.0) / 2] and "H" not in whole.index


def test_frequency_counts_distinct_orders(con):
    # every order twice, as a view of order lines would hold it
    con.execute("CREATE VIEW main.doubled AS SELECT * FROM main.sales UNION ALL SELECT * FROM main.sales")
    s = rfm.summarize(con, AS_OF, table="main.doubled", customers=None).set_index("customer_id")
    # A: orders S1, S2, S3 -> 3 (not 6 rows); the spend of both copies of the lines adds up
    assert (s.loc["A", "frequency"], s.loc["A", "monetary"]) == (3, 300.0)
    assert s.loc["A", "avg_order_value"] == pytest.approx(100.0)
    w = rfm.summarize(con, AS_OF, table="main.doubled", customers=None, window=122).set_index("customer_id")
    assert w.loc["A", "frequency"] == 2  # S2 and S3 on 03-01
    # without order_id every row is an order
    con.execute("CREATE VIEW main.no_ids AS SELECT customer_id, order_date, net_amount FROM main.doubled")
    assert rfm.summarize(con, AS_OF, table="main.no_ids", customers=None).set_index("customer_id").loc["A", "frequency"] == 6


# --------------------------------------------------------------------------------------
# scores
# --------------------------------------------------------------------------------------


def reference_scores(values, bins, better="higher"):
    """The documented rule, by brute force: over the distinct values from worst to best, the
    quantile score 1 + floor(bins x share strictly worse), but at most one more than the score
    of the value before."""
    values = list(values)
    n = len(values)
    key = (lambda v: v) if better == "higher" else (lambda v: -v)
    by_value, previous = {}, 0
    for v in sorted({key(x) for x in values}):
        quantile = 1 + (bins * sum(key(w) < v for w in values)) // n
        previous = by_value[v] = min(quantile, previous + 1)
    return [by_value[key(x)] for x in values]


def frame(recency, frequency, monetary):
    n = len(recency)
    return pd.DataFrame({"customer_id": [f"K{i:02d}" for i in range(n)], "is_prospect": False,
                         "recency": recency, "frequency": frequency, "monetary": monetary})


def test_quintile_scores_by_hand_with_ties():
    f = [1, 1, 1, 1, 2, 2, 3, 4, 5, 9]
    r = [0, 0, 10, 20, 30, 30, 30, 100, 200, 365]
    m = [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    s = rfm.score(frame(r, f, m))
    # F: the four with 1 purchase have nobody below them -> 1. The two with 2 have 4 of 10
    # below: quantile score 1 + floor(5 x 0.4) = 3, but one above the previous value: 2.
    # 3 purchases: 6 below -> 4, capped at 3; 4: 7 below -> 4; 5: 8 below -> 5; 9: 9 below -> 5
    assert s.f_score.tolist() == [1, 1, 1, 1, 2, 2, 3, 4, 5, 5]
    # R reversed, worst first: 365 days -> 1; 200 (1 worse) -> 1 + floor(0.5) = 1; 100 (2 worse)
    # -> 2; 30 (3 worse) -> 1 + floor(1.5) = 2; 20 (6 worse) -> 4, capped at 3; 10 (7) -> 4; 0 (8) -> 5
    assert s.r_score.tolist() == [5, 5, 4, 3, 2, 2, 2, 2, 1, 1]
    assert s.m_score.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]  # no ties: equal quintiles
    assert s.rfm_cell.astype(str).tolist()[0] == "511"
    assert s.rfm_score.tolist()[0] == pytest.approx((5 + 1 + 1) / 3)
    w = rfm.score(frame(r, f, m), weights={"r": 2, "f": 1, "m": 0})
    assert w.rfm_score.tolist()[0] == pytest.approx((2 * 5 + 1) / 3)


def test_frequency_ties_like_the_sample_fill_every_level():
    """38% bought once and 25% twice (as in the sample): the quantile rule alone would jump
    from F 2 to F 4 for three purchases and leave F 3 (Need attention) empty."""
    counts = {1: 38, 2: 25, 3: 15, 4: 9, 5: 5, 6: 4, 8: 4}
    f = [v for v, n in counts.items() for _ in range(n)]
    s = rfm.score(frame([1] * len(f), f, [1.0] * len(f)))
    by_f = dict(zip(f, s.f_score))
    # 3 purchases: 63 of 100 below -> quantile score 4, one above F 2 -> 3; 4: 78 below -> 4;
    # 5: 87 below -> 5; 6 and 8 -> 5
    assert by_f == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 5, 8: 5}
    # a tie at the top cannot score 5 when half the customers share the best value:
    # 1 -> 1; 2 (1 below) -> 1; 3 (2) -> 2; 4 (3) -> 2; 5 (4) -> 3; 9 (5 below) -> 1 + floor(2.5) = 3
    s = rfm.score(frame([1] * 10, [1, 2, 3, 4, 5, 9, 9, 9, 9, 9], [1.0] * 10))
    assert s.f_score.tolist() == [1, 1, 2, 2, 3, 3, 3, 3, 3, 3]


@pytest.mark.parametrize("bins", range(2, 11))
def test_scores_follow_the_rule_and_ties_share_a_bin(bins):
    rng = np.random.default_rng(bins)
    n = 97
    r = rng.integers(0, 30, n)
    f = rng.geometric(0.5, n)
    m = np.round(rng.gamma(2, 50, n), 2)
    m[:20] = 25.0  # a big tie
    s = rfm.score(frame(r, f, m), bins=bins)
    assert s.r_score.tolist() == reference_scores(r, bins, better="lower")
    assert s.f_score.tolist() == reference_scores(f, bins)
    assert s.m_score.tolist() == reference_scores(m, bins)
    for col, values, sign in (("r_score", r, -1), ("f_score", f, 1), ("m_score", m, 1)):
        per_value = pd.Series(s[col].to_numpy()).groupby(sign * values).first().sort_index()
        assert (pd.Series(s[col].to_numpy()).groupby(values).nunique() == 1).all()  # equal values, equal score
        assert s[col].min() == 1 and s[col].max() <= bins
        assert (np.diff(per_value.to_numpy()) >= 0).all() and (np.diff(per_value.to_numpy()) <= 1).all()  # no level skipped


def test_nested_binning_scores_f_within_each_r_bin():
    # two R bins; within the recent half F values are all high, within the old half all low
    r = [1, 2, 3, 4, 100, 101, 102, 103]
    f = [10, 20, 30, 40, 1, 2, 3, 4]
    m = [5.0] * 8
    ind = rfm.score(frame(r, f, m), bins=2)
    nest = rfm.score(frame(r, f, m), bins=2, method="nested")
    assert ind.r_score.tolist() == nest.r_score.tolist() == [2, 2, 2, 2, 1, 1, 1, 1]
    # independent: F over everybody -> the old customers all score 1, the recent ones 2
    assert ind.f_score.tolist() == [2, 2, 2, 2, 1, 1, 1, 1]
    # nested (SPSS): F within each R bin -> both halves split 1, 1, 2, 2
    assert nest.f_score.tolist() == [1, 1, 2, 2, 1, 1, 2, 2]
    # M within each R-F cell: all equal -> all 1
    assert nest.m_score.tolist() == [1] * 8


def test_nested_binning_matches_the_rule_within_groups():
    rng = np.random.default_rng(3)
    n = 300
    df = frame(rng.integers(0, 60, n), rng.geometric(0.4, n), np.round(rng.gamma(2, 40, n), 1))
    s = rfm.score(df, method="nested")
    assert s.r_score.tolist() == reference_scores(df.recency, 5, better="lower")
    for _, g in s.groupby("r_score"):
        assert g.f_score.tolist() == reference_scores(g.frequency, 5)
    for _, g in s.groupby(["r_score", "f_score"]):
        assert g.m_score.tolist() == reference_scores(g.monetary, 5)


def test_breakpoints():
    r = [0, 30, 31, 90, 91, 180, 365, 366]
    f = [1, 1, 2, 3, 4, 5, 8, 9]
    m = [1.0, 2, 3, 4, 5, 6, 7, 8]
    s = rfm.score(frame(r, f, m), breakpoints={"recency": [30, 90, 180, 365], "frequency": [1, 2, 4, 8]})
    assert s.r_score.tolist() == [5, 5, 4, 4, 3, 3, 2, 1]  # recency <= 30 days: 5
    assert s.f_score.tolist() == [1, 1, 2, 3, 3, 4, 4, 5]  # 1 purchase: 1; 3-4: 3; 5-8: 4; 9+: 5
    assert s.m_score.tolist() == reference_scores(m, 5)  # M still by quantiles
    with pytest.raises(ValueError, match="4 breakpoints"):
        rfm.score(frame(r, f, m), breakpoints={"recency": [30, 90]})
    with pytest.raises(ValueError, match="increasing"):
        rfm.score(frame(r, f, m), breakpoints={"f": [1, 4, 2, 8]})


def test_bad_score_options():
    df = frame([1, 2], [1, 2], [1.0, 2.0])
    for bins in (1, 11, 2.5, True):
        with pytest.raises(ValueError, match="bins"):
            rfm.score(df, bins=bins)
    with pytest.raises(ValueError, match="method"):
        rfm.score(df, method="random")
    with pytest.raises(ValueError, match="weights"):
        rfm.score(df, weights=(0, 0, 0))
    with pytest.raises(ValueError, match="weights"):
        rfm.score(df, weights=(1, 1))


def test_prospects_are_not_scored(con):
    s = rfm.compute(con, AS_OF, sort=True).set_index("customer_id")
    assert s.loc[["C", "E"], "segment"].astype(str).tolist() == ["Prospects", "Prospects"]
    assert s.loc[["C", "E"], ["r_score", "f_score", "m_score", "rfm_score"]].isna().all().all()
    buyers = s[~s.is_prospect]
    # three buyers: scores come from them alone. A: recency 121, 3 orders, 150; B: 0, 1, 80;
    # F: 510 days, 2 orders, 50. On R, F (worst) scores 1; A has 1 of 3 worse: 1 + floor(5 / 3)
    # = 2; B has 2 of 3 worse: 1 + floor(10 / 3) = 4, but one above A's 2: 3. F and M alike.
    assert buyers.r_score.tolist() == reference_scores(buyers.recency, 5, "lower") == [2, 3, 1]
    assert buyers.f_score.tolist() == [3, 1, 2]
    assert buyers.m_score.tolist() == [3, 2, 1]
    # compute = summarize + score, in one query
    two_steps = rfm.score(rfm.summarize(con, AS_OF, sort=True)).set_index("customer_id")
    cols = ["is_prospect", "recency", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_score"]
    pd.testing.assert_frame_equal(s[cols], two_steps[cols])
    assert s.segment.astype(str).tolist() == two_steps.segment.astype(str).tolist()


# --------------------------------------------------------------------------------------
# segments
# --------------------------------------------------------------------------------------

GRID = {  # the default map, as drawn in segments.yaml: F from 5 down, R from 1 to 5
    5: ["Can't lose them", "Can't lose them", "Loyal", "Loyal", "Champions"],
    4: ["At risk", "At risk", "Loyal", "Loyal", "Champions"],
    3: ["At risk", "At risk", "Need attention", "Potential loyalists", "Potential loyalists"],
    2: ["Lost", "Hibernating", "About to sleep", "Potential loyalists", "Potential loyalists"],
    1: ["Lost", "Hibernating", "About to sleep", "Promising", "New"],
}


def test_default_segment_map():
    seg = rfm.load_segments()
    assert seg.names == ["Champions", "Loyal", "Potential loyalists", "New", "Promising", "Need attention",
                         "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost", "Prospects"]
    for s in (*seg.segments, seg.prospects):
        assert s.label_en and s.label_zh and s.action
        assert any("\u4e00" <= ch <= "\u9fff" for ch in s.label_zh)
    grid = rfm.segment_grid()
    assert {f: grid.loc[f].tolist() for f in grid.index} == GRID
    assert seg.get("重要价值客户").name == "Champions"
    with pytest.raises(ValueError, match="unknown segment"):
        seg.get("VIPs")


def test_segment_roles():
    seg = rfm.load_segments()
    assert {r: seg.role(r).name for r in rfm.ROLES} == {"best": "Champions", "loyal": "Loyal", "at_risk": "At risk",
                                                         "win_back": "Can't lose them"}
    assert rfm.load_segments("") == seg  # an empty path (the notebook parameter) is the default map
    with pytest.raises(ValueError, match="unknown role"):
        seg.role("vip")


def test_empty_segments_say_why():
    # F breakpoints 1/2/4/8 and purchases 1, 2, 5, 9: no customer has F 3
    df = frame([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 5, 9, 1, 2, 5, 9], [1.0, 2, 3, 4, 5, 6, 7, 8])
    s = rfm.score(df, breakpoints={"frequency": [1, 2, 4, 8]})
    empty = rfm.empty_segments(s).set_index("segment")
    assert "Need attention" in empty.index  # R 3, F 3
    assert empty.loc["Need attention", "reason"].startswith("no customer has F score 3")
    assert empty.loc["Prospects", "reason"] == "every customer in scope has bought"
    assert not set(s.segment.astype(str)) & set(empty.index)  # only segments without customers
    # at 3 levels the scores are 1, 3, 5 on the rules' scale: R 2 (Hibernating) cannot occur
    three = rfm.empty_segments(rfm.score(df, bins=3)).set_index("segment")
    assert three.loc["Hibernating", "reason"] == "at 3 score levels no score fits its rule (R 2, F 1-2)"


def test_segments_scale_to_other_bins():
    # scores are put on the 1-5 scale: round(1 + 4 (s - 1) / (bins - 1)), halves up
    three = rfm.segment_grid(bins=3)  # 1, 2, 3 -> 1, 3, 5
    assert three.loc[3].tolist() == [GRID[5][0], GRID[5][2], GRID[5][4]]
    assert three.loc[1].tolist() == [GRID[1][0], GRID[1][2], GRID[1][4]]
    ten = rfm.segment_grid(bins=10)  # 1..10 -> 1 1 2 2 3 3 4 4 5 5
    scale = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    for f in range(1, 11):
        assert ten.loc[f].tolist() == [GRID[scale[f - 1]][scale[r - 1] - 1] for r in range(1, 11)]
    for bins in range(2, 11):
        assert not (rfm.segment_grid(bins=bins) == rfm.UNCLASSIFIED).any().any()


def test_custom_segment_map(tmp_path):
    spec = {
        "segments": [
            {"name": "Whales", "label_en": "Whales", "label_zh": "大客户", "action": "Call them.",
             "rule": {"m": [5, 5]}, "role": "best"},
            {"name": "Recent", "label_en": "Recent", "label_zh": "近期客户", "action": "Thank them.",
             "rule": {"r": [4, 5], "f": [1, 5]}},
            {"name": "Recent twice", "label_en": "x", "label_zh": "重复", "action": "Never reached.",
             "rule": {"r": [4, 5]}},
        ],
        "prospects": {"name": "Leads", "label_en": "Leads", "label_zh": "线索", "action": "Convert."},
    }
    path = tmp_path / "my_segments.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    df = pd.concat([frame([1, 2, 50, 60], [1, 1, 1, 1], [500.0, 1.0, 2.0, 3.0]),
                    pd.DataFrame({"customer_id": ["P"], "is_prospect": [True]})], ignore_index=True)
    s = rfm.score(df, bins=2, segments=path)
    # M: 500 is the top half with 3.0 -> Whales first (first matching rule wins)
    assert s.segment.astype(str).tolist() == ["Whales", "Recent", rfm.UNCLASSIFIED, "Whales", "Leads"]
    seg = rfm.load_segments(path)
    assert seg.role("best").name == "Whales" and seg.role("at_risk") is None
    # "Recent twice" is shadowed by "Recent": the reason says so
    empty = rfm.empty_segments(s, segments=path).set_index("segment")
    assert empty.loc["Recent twice", "reason"].startswith("segments earlier in the map take every score combination")
    for role, message in (("vip", "role 'vip' is not one of"), ("best", "each role is given to one segment")):
        bad = dict(spec, segments=[spec["segments"][0], dict(spec["segments"][1], role=role)])
        path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            rfm.load_segments(path)
    bad = dict(spec, segments=[dict(spec["segments"][0], rule={"r": [4, 7]})])
    path.write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"my_segments.yaml: segment 1 \(Whales\): rule r"):
        rfm.load_segments(path)
    path.write_text("segments: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="my_segments.yaml"):
        rfm.load_segments(path)


# --------------------------------------------------------------------------------------
# CDNOW: the repeat-purchase summary conventions
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """The bundled CDNOW master and 1/10 sample, loaded by collect (format: cdnow) into one
    database, each as a view in the shape of main.sales."""
    folder = tmp_path_factory.mktemp("cdnow")
    data_dir = files("dbmarketing") / "data"
    spec = folder / "cdnow.yaml"
    spec.write_text(f"base_dir: {data_dir}\nsources:\n"
                    "  - {name: master, path: CDNOW_master.txt.gz, format: cdnow, table: orders}\n"
                    "  - {name: sample, path: CDNOW_sample.txt.gz, format: cdnow, table: orders}\n", encoding="utf-8")
    c = warehouse.connect(folder / "cdnow.duckdb")
    ingest.load_sources(c, spec)
    for name in ("master", "sample"):
        c.execute(f"""CREATE VIEW main.cdnow_{name} AS
            SELECT o.order_id, o.customer_id, o.order_date, l.amount AS net_amount
            FROM raw.orders o JOIN raw.order_lines l USING (order_id) JOIN main.load_batches b ON o.batch_id = b.batch_id
            WHERE b.source = '{name}'""")
    yield c
    c.close()


def read_log(name):
    log = pd.read_csv(files("dbmarketing") / "data" / name, sep=r"\s+", header=None,
                      names=["customer_id", "date", "cds", "value"], dtype={"customer_id": str, "date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log


def assert_same_summary(sql: pd.DataFrame, reference: pd.DataFrame):
    assert list(sql.columns) == list(reference.columns)
    assert sql.index.equals(reference.index)
    for col in reference.columns:
        np.testing.assert_allclose(sql[col].to_numpy(np.float64), reference[col].to_numpy(np.float64),
                                   rtol=0, atol=1e-9, err_msg=col)


def test_cdnow_master_summary_equals_the_published_conventions(cdnow):
    """Fader & Hardie's conventions computed here with plain pandas, in days: purchases on one
    day are one purchase; frequency = purchase days - 1; recency = last - first purchase day;
    T = observation end - first purchase day; monetary value = mean of the repeat days' totals
    (0 without repeat)."""
    log = read_log("CDNOW_master.txt.gz")
    days = log.groupby(["customer_id", "date"], as_index=False)["value"].sum().sort_values(["customer_id", "date"])
    g = days.groupby("customer_id")
    end = pd.Timestamp("1998-06-30")
    repeat = days[days.groupby("customer_id").cumcount() > 0].groupby("customer_id")["value"].mean()
    ref = pd.DataFrame({"frequency": g.size() - 1, "recency": (g["date"].max() - g["date"].min()).dt.days,
                        "T": (end - g["date"].min()).dt.days})
    ref["monetary_value"] = repeat.reindex(ref.index).fillna(0.0)
    sql = rfm.repeat_summary(cdnow, "1998-06-30", table="main.cdnow_master", unit="days")
    assert len(sql) == len(ref) == 23_570
    assert_same_summary(sql, ref.astype("float64"))


def test_cdnow_master_summary_equals_the_pandas_reference(cdnow):
    log = read_log("CDNOW_master.txt.gz")
    assert len(log) == 69_659
    sql = rfm.repeat_summary(cdnow, "1998-06-30", "1997-09-30", table="main.cdnow_master", unit="weeks")
    ref = clv.summary_from_events(log, "customer_id", "date", "value", observation_end="1998-06-30",
                                  calibration_end="1997-09-30", freq="W")
    assert len(sql) == 23_570
    assert_same_summary(sql, ref)
    sql = rfm.repeat_summary(cdnow, "1998-06-30", table="main.cdnow_master", unit="days")
    ref = clv.summary_from_events(log, "customer_id", "date", "value", observation_end="1998-06-30", freq="D")
    assert_same_summary(sql, ref)
    # the same columns from summarize, in days
    s = rfm.summarize(cdnow, "1998-06-30", table="main.cdnow_master", customers=None, repeat=True)
    assert s.set_index("customer_id").sort_index()["clv_T"].equals(sql["T"].rename("clv_T"))


def test_cdnow_sample_matches_the_published_summary(cdnow):
    cal = rfm.repeat_summary(cdnow, "1998-06-30", "1997-09-30", table="main.cdnow_sample", unit="weeks")
    # 2,357 customers; 946 of them repeat in the 39-week calibration period (Fader & Hardie)
    assert len(cal) == 2357
    assert int((cal["frequency"] > 0).sum()) == 946
    assert int(cal["frequency"].sum()) == 2457
    published = {  # the first customers of Fader & Hardie's summary: x, t_x, T
        "00004": (2, 30.43, 38.86), "00021": (1, 1.71, 38.86), "00050": (0, 0.0, 38.86),
        "00071": (0, 0.0, 38.86), "00086": (0, 0.0, 38.86), "00111": (7, 29.43, 38.86),
    }
    for cid, (x, tx, T) in published.items():
        row = cal.loc[cid]
        assert (row["frequency"], round(row["recency"], 2), round(row["T"], 2)) == (x, tx, T)
    # whole days: a first purchase on 1997-01-01 has T = 272 / 7 weeks at 1997-09-30
    assert cal.loc["00004", "T"] == 272 / 7 and cal.loc["00004", "recency"] == 213 / 7
    assert cal.loc["00004", "monetary_value"] == pytest.approx((29.73 + 14.96) / 2)
    assert (cal["duration_holdout"] == 39.0).all()
    ref = clv.summary_from_events(read_log("CDNOW_sample.txt.gz"), "customer_id", "date", "value",
                                  observation_end="1998-06-30", calibration_end="1997-09-30", freq="W")
    assert_same_summary(cal, ref)
    # and the CLV model fitted on it reproduces the published BG/NBD estimates
    bg = clv.BetaGeo().fit(cal["frequency"], cal["recency"], cal["T"])
    assert bg.params_["r"] == pytest.approx(0.2426, abs=1e-3) and bg.params_["a"] == pytest.approx(0.7929, abs=1e-3)


# --------------------------------------------------------------------------------------
# stored scores, migration, reading, export
# --------------------------------------------------------------------------------------


def scores_at(as_of, segments: dict[str, str]) -> pd.DataFrame:
    """Hand-made stored scores: customer -> segment at one date."""
    ids = list(segments)
    out = pd.DataFrame({"customer_id": ids, "as_of": pd.Timestamp(as_of), "is_prospect": False,
                        "r_score": 3, "f_score": 3, "m_score": 3, "segment": [segments[c] for c in ids]})
    out.loc[out.segment == "Prospects", ["is_prospect"]] = True
    return out


def test_store_replaces_one_date_and_keeps_others(con):
    first = rfm.compute(con, "2026-05-31")
    second = rfm.compute(con, AS_OF)
    assert rfm.store(con, first) == len(first)
    rfm.store(con, second)
    rfm.store(con, second)  # again: replaced, not doubled
    assert rfm.stored_dates(con) == [date(2026, 5, 31), date(2026, 6, 30)]
    counts = dict(con.execute("SELECT as_of, count(*) FROM main.rfm_scores GROUP BY 1").fetchall())
    assert counts == {date(2026, 5, 31): len(first), date(2026, 6, 30): len(second)}
    back = rfm.load(con)
    assert back.attrs["as_of"] == AS_OF and back.attrs["bins"] == 5 and back.attrs["method"] == "independent"
    mine = second.sort_values("customer_id", ignore_index=True)
    assert back.customer_id.tolist() == mine.customer_id.tolist()
    assert back.segment.tolist() == mine.segment.astype(str).tolist()
    assert back.r_score.tolist() == mine.r_score.tolist()
    tiers = warehouse.privacy_tiers(con, "rfm_scores")
    assert tiers["customer_id"] == 1 and set(tiers.values()) <= {1, 2} and tiers["monetary"] == 2
    assert con.execute("SELECT layer FROM main.catalog_tables WHERE table_name = 'rfm_scores'").fetchall() == [("marts",)]
    with pytest.raises(ValueError, match="main.rfm_scores holds nothing for 2020-01-01"):
        rfm.load(con, "2020-01-01")


def test_migration_counts(con):
    rfm.store(con, scores_at("2026-03-31", {"A": "Champions", "B": "Champions", "C": "Champions", "D": "Loyal",
                                           "E": "Prospects"}))
    rfm.store(con, scores_at(AS_OF, {"A": "At risk", "B": "At risk", "C": "Champions", "D": "Champions",
                                     "E": "New", "F": "New"}))
    m = rfm.migration(con, "2026-03-31", AS_OF)
    assert m.loc["Champions", "At risk"] == 2 and m.loc["Champions", "Champions"] == 1
    assert m.loc["Loyal", "Champions"] == 1 and m.loc["Prospects", "New"] == 1
    assert m.loc[rfm.NOT_YET, "New"] == 1  # F was not in the database at the first date
    assert int(m.to_numpy().sum()) == 6
    assert list(m.index) == ["Champions", "Loyal", "Prospects", rfm.NOT_YET]  # the map's order
    assert list(m.columns) == ["Champions", "New", "At risk"]
    who = rfm.movers(con, "2026-03-31", AS_OF, "Champions", "At risk")
    assert who.customer_id.tolist() == ["A", "B"]
    who = rfm.movers(con, "2026-03-31", AS_OF, ["Champions", "Loyal"], ["Champions", "New"])
    assert sorted(who.customer_id) == ["C", "D"]


def test_store_keeps_other_populations_and_refuses_other_settings(con):
    consumers = rfm.compute(con, AS_OF, customer_type="consumer")
    distributors = rfm.compute(con, AS_OF, customer_type="distributor", bins=3)
    rfm.store(con, consumers)
    rfm.store(con, distributors)  # another population on the same date: the consumers stay
    assert rfm.load(con, AS_OF, customer_type="consumer").customer_id.tolist() == ["A", "B", "C", "E"]
    assert rfm.load(con, AS_OF, customer_type="distributor").customer_id.tolist() == ["F"]
    assert rfm.load(con, AS_OF, customer_type="distributor").attrs["bins"] == 3
    rfm.store(con, consumers)  # the same settings again: replaced, not doubled
    assert len(rfm.load(con, AS_OF)) == 5
    # consumers with other bins on the same date: refused, the stored rows untouched
    three = rfm.compute(con, AS_OF, customer_type="consumer", bins=3)
    with pytest.raises(ValueError, match=r"4 rows of 2026-06-30 computed with: 5 bins.*consumer.*replace=True"):
        rfm.store(con, three)
    assert set(rfm.load(con, AS_OF, customer_type="consumer").bins) == {5}
    rfm.store(con, three, replace=True)
    assert set(rfm.load(con, AS_OF, customer_type="consumer").bins) == {3}
    assert len(rfm.load(con, AS_OF)) == 5
    # all customers scored together overlap both populations: refused too
    with pytest.raises(ValueError, match="replace=True"):
        rfm.store(con, rfm.compute(con, AS_OF, bins=3))
    # the settings are kept in words
    stored = rfm.load(con, AS_OF, customer_type="consumer")
    assert stored.settings.iloc[0].startswith("3 bins, independent, F orders, M total, window all history, weights 1:1:1, "
                                              "consumer, map segments.yaml #")


def test_store_into_a_table_of_an_earlier_version(con):
    """rfm_scores written before population and settings existed: the columns are added."""
    old = [c for c in rfm.SCORE_COLUMNS if c.name not in ("population", "settings")]
    con.execute(f"CREATE TABLE main.rfm_scores ({', '.join(f'{c.name} {c.type}' for c in old)})")
    con.execute("INSERT INTO main.rfm_scores (customer_id, as_of, segment) VALUES ('A', DATE '2026-05-31', 'Lost')")
    rfm.store(con, rfm.compute(con, AS_OF, customer_type="consumer"))
    back = rfm.load(con, AS_OF)
    assert len(back) == 4 and (back.population == "consumer").all() and back.settings.str.startswith("5 bins").all()
    assert rfm.load(con, "2026-05-31").segment.tolist() == ["Lost"]


def test_migration_refuses_dates_scored_with_different_settings(con):
    rfm.store(con, rfm.compute(con, "2026-05-31", customer_type="consumer"))
    rfm.store(con, rfm.compute(con, AS_OF, customer_type="consumer", method="nested"))
    with pytest.raises(ValueError, match="different settings.*5 bins, independent.*5 bins, nested"):
        rfm.migration(con, "2026-05-31", AS_OF)
    m = rfm.migration(con, "2026-05-31", AS_OF, allow_different_settings=True)
    assert int(m.to_numpy().sum()) == 4
    rfm.store(con, rfm.compute(con, AS_OF, customer_type="consumer"), replace=True)
    assert int(rfm.migration(con, "2026-05-31", AS_OF, customer_type="consumer").to_numpy().sum()) == 4


def test_segment_table_rf_matrix_and_pareto(con):
    s = rfm.compute(con, AS_OF)
    table = rfm.segment_table(s)
    assert table.customers.sum() == len(s)
    assert table.customer_share.sum() == pytest.approx(1.0)
    assert table.revenue_share.sum() == pytest.approx(1.0)
    assert table.index[-1] == "Prospects" and table.loc["Prospects", "revenue"] == 0
    assert {"label_en", "label_zh", "action", "avg_recency", "avg_frequency", "avg_monetary"} <= set(table.columns)
    heat = rfm.rf_matrix(s)
    assert heat.shape == (5, 5) and list(heat.index) == [5, 4, 3, 2, 1]
    assert heat.loc[1, 3] == pytest.approx(80.0)  # B: R 3, F 1, M 80

    p = rfm.pareto(frame([1] * 5, [1] * 5, [50.0, 30, 10, 5, 5]))
    assert p.top_share == pytest.approx(0.5) and p.customers == 5  # the top 20% is one customer
    assert p.curve.revenue_share.iloc[0] == 0 and p.curve.revenue_share.iloc[-1] == pytest.approx(1.0)
    assert (np.diff(p.curve.revenue_share) >= 0).all()
    assert "top 20%" in str(p)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_masks_by_clearance(con, tmp_path, suffix):
    rfm.store(con, rfm.compute(con, AS_OF))
    segment_of_a = rfm.load(con).set_index("customer_id").loc["A", "segment"]

    def read(path):
        return (pd.read_csv(path, dtype=str, encoding="utf-8-sig") if suffix == ".csv"
                else pd.read_excel(path, dtype=str)).set_index("customer_id")

    out = rfm.export_segment(con, segment_of_a, tmp_path / f"c2{suffix}", clearance=2)
    back = read(tmp_path / f"c2{suffix}")
    assert "A" in back.index and (back.segment == segment_of_a).all()
    assert back.loc["A", "phone"] == "138****5678" and back.loc["A", "email"] == "z***@example.com"
    assert back.loc["A", "name"] == "张*" and back.loc["A", "address"] == "北京"
    assert out.attrs["clearance"] == 2
    back = read(rfm.export_segment(con, segment_of_a, tmp_path / f"c3{suffix}", clearance=3).attrs["path"])
    assert back.loc["A", "phone"] == "13812345678" and back.loc["A", "email"] == "zhang@example.com"
    assert back.loc["A", "name"] == "张三"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"c2{suffix}", f"c3{suffix}"]  # nothing left aside
    with pytest.raises(ValueError, match=".csv or .xlsx"):
        rfm.export_segment(con, segment_of_a, tmp_path / "x.json", clearance=2)
    with pytest.raises(ValueError, match="unknown segment"):
        rfm.export_segment(con, "VIPs", tmp_path / f"x{suffix}", clearance=2)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_runs_no_formula_from_customer_data(con, tmp_path, suffix):
    """Formulas typed into every text column a segment export carries (customer number, name,
    phone, e-mail, city, address) are written as text, at every clearance."""
    from spreadsheets import HOSTILE, live_cells

    con.execute("UPDATE main.sales SET customer_id = ? || customer_id", [HOSTILE[0]])
    text = ["name", "phone", "email", "city", "address"]
    con.execute(f"UPDATE main.customers SET customer_id = ? || customer_id, "
                + ", ".join(f"{c} = ?" for c in text), [HOSTILE[0], *HOSTILE[1:1 + len(text)]])
    rfm.store(con, rfm.compute(con, AS_OF))
    segment = rfm.load(con).set_index("customer_id").loc[HOSTILE[0] + "A", "segment"]
    for clearance in (2, 4):
        out = rfm.export_segment(con, segment, tmp_path / f"c{clearance}{suffix}", clearance=clearance)
        assert len(out) and live_cells(tmp_path / f"c{clearance}{suffix}") == []
    back = (pd.read_csv(tmp_path / f"c4{suffix}", dtype=str, encoding="utf-8-sig") if suffix == ".csv"
            else pd.read_excel(tmp_path / f"c4{suffix}", dtype=str))
    assert back.name.iloc[0] == "'" + HOSTILE[1] and back.customer_id.iloc[0].startswith("'=HYPERLINK")
    assert live_cells(tmp_path / f"c4{suffix}") == []


def test_compute_equals_summarize_then_score_for_every_option(con):
    summary = rfm.summarize(con, AS_OF, sort=True)
    for options in [dict(method="nested", bins=3), dict(bins=2, weights=(3, 1, 1), monetary="average"),
                    dict(breakpoints={"recency": [30, 180]}, bins=3)]:
        one = rfm.compute(con, AS_OF, sort=True, **options)
        two = rfm.score(summary, **options)
        for col in ("r_score", "f_score", "m_score", "rfm_score"):
            assert one[col].tolist() == two[col].tolist() or one[col].equals(two[col]), (options, col)
        assert one.segment.astype(str).tolist() == two.segment.astype(str).tolist()


def test_distinct_days_without_bitstrings_give_the_same_summary(con, monkeypatch):
    fast = rfm.summarize(con, AS_OF, frequency="days", window=200, repeat=True, sort=True)
    monkeypatch.setattr(rfm.summary, "BITSTRING_MAX_DAYS", 0)  # long histories: count(DISTINCT day)
    slow = rfm.summarize(con, AS_OF, frequency="days", window=200, repeat=True, sort=True)
    pd.testing.assert_frame_equal(fast, slow)


def test_equal_spend_summed_in_any_order_scores_alike():
    """Floating-point sums depend on their order; money is rounded so equal spend ties."""
    c = warehouse.connect(":memory:")
    parts = [0.1, 0.2, 0.3, 0.7, 1.1, 2.2]  # sums of these depend on the order in floating point
    rows = [(f"O{k}", "X", "2026-01-01", v) for k, v in enumerate(parts)]
    rows += [(f"P{k}", "Y", "2026-01-01", v) for k, v in enumerate(reversed(parts))]
    c.execute("CREATE TABLE main.sales (order_id VARCHAR, customer_id VARCHAR, order_date DATE, net_amount DOUBLE)")
    c.executemany("INSERT INTO main.sales VALUES (?, ?, ?, ?)", rows)
    s = rfm.summarize(c, AS_OF, customers=None, sort=True)
    assert s.monetary.iloc[0] == s.monetary.iloc[1] == pytest.approx(math.fsum(parts))
    c.close()


# --------------------------------------------------------------------------------------
# notebook 04 as a scheduled report, with a segment map of the user's own
# --------------------------------------------------------------------------------------

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_rfm_scoring.ipynb"
MY_MAP = {
    "segments": [
        {"name": "Best", "label_en": "Best", "label_zh": "最佳客户", "action": "Thank them.", "role": "best",
         "rule": {"r": [4, 5], "f": [4, 5]}},
        {"name": "Slipping", "label_en": "Slipping", "label_zh": "流失中", "action": "Call them.", "role": "at_risk",
         "rule": {"r": [1, 3], "f": [3, 5]}},
        {"name": "Rest", "label_en": "The rest", "label_zh": "其他", "action": "E-mail.", "rule": {"r": [1, 5]}},
        {"name": "Never", "label_en": "Never reached", "label_zh": "无", "action": "None.", "rule": {"f": [1, 5]}},
    ],
    "prospects": {"name": "Leads", "label_en": "Leads", "label_zh": "线索", "action": "Convert them."},
}


@pytest.fixture(scope="module")
def cleaned(cleaned_sample, tmp_path_factory):
    """The cleaned small sample, in a database of this module."""
    path = tmp_path_factory.mktemp("rfm_notebook") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    return path


def markdown_outputs(path) -> str:
    executed = nbformat.read(path, as_version=4)
    texts = []
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", cell.source[:80]
            assert not (out.output_type == "stream" and out.name == "stderr"), out.text[:200]
            texts.append(out.get("data", {}).get("text/markdown", ""))
    return "\n".join(texts)


def test_notebook_04_runs_a_segment_map_of_its_own(cleaned, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(NOTEBOOK, notebooks / NOTEBOOK.name)
    my_map = tmp_path / "my_segments.yaml"
    my_map.write_text(yaml.safe_dump(MY_MAP, allow_unicode=True), encoding="utf-8")
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"db_path": str(cleaned), "as_of": "2026-10-31", "clearance": 2,
                                      "segments": str(my_map)}), encoding="utf-8")
    run = reports.run_reports(params, "rfm", notebooks_dir=notebooks, reports_dir=tmp_path / "reports", progress=False)
    assert reports.check_report_html(run / "04_rfm_scoring.html") == []
    text = markdown_outputs(run / "04_rfm_scoring.ipynb")

    c = duckdb.connect(str(cleaned), read_only=True)
    try:
        # both dates stored: the as-of date and compare_days (91) before it, consumers only
        assert rfm.stored_dates(c) == [date(2026, 8, 1), date(2026, 10, 31)]
        per_segment = dict(c.execute("SELECT segment, count(*) FROM main.rfm_scores WHERE as_of = DATE '2026-10-31' "
                                     "GROUP BY 1").fetchall())
        types = c.execute("SELECT DISTINCT customer_type FROM main.rfm_scores").fetchall()
        slipped = c.execute("""SELECT count(*) FROM main.rfm_scores a JOIN main.rfm_scores b USING (customer_id)
            WHERE a.as_of = DATE '2026-08-01' AND b.as_of = DATE '2026-10-31'
              AND a.segment = 'Best' AND b.segment = 'Slipping'""").fetchall()[0][0]
        phones = c.execute("SELECT count(*) FROM main.customers WHERE phone IS NOT NULL").fetchall()[0][0]
    finally:
        c.close()
    assert types == [("consumer",)]
    assert set(per_segment) <= {"Best", "Slipping", "Rest", "Leads"} and per_segment["Best"] and per_segment["Leads"]
    # the figures the report states are those in the database
    assert f"**{sum(per_segment.values()):,}** consumers signed up by 2026-10-31" in text
    assert f"**{per_segment['Leads']:,}** are prospects" in text
    assert slipped and f"**{slipped:,}** customers who were Best on 2026-08-01 are now Slipping" in text
    # the empty segment is listed with its reason, not silently missing
    assert "**1 segment(s) of the map have no customers on 2026-10-31**" in text
    executed = (run / "04_rfm_scoring.html").read_text(encoding="utf-8")
    assert "Never" in executed and "segments earlier in the map take every score combination" in executed
    # the lists of the map's roles (best, at_risk), masked at clearance 2
    for name in ("best", "slipping"):
        for suffix in (".csv", ".xlsx"):
            path = run / "exports" / f"rfm_{name}_2026-10-31_clearance2{suffix}"
            back = (pd.read_csv(path, dtype=str, encoding="utf-8-sig") if suffix == ".csv"
                    else pd.read_excel(path, dtype=str))
            assert len(back) == per_segment[name.capitalize()]
            shown = back["phone"].dropna()
            assert phones and len(shown) and shown.str.fullmatch(r"\d{3}\*{4}\d{4}|\*+").all()
            assert back["email"].dropna().str.contains(r"\*\*\*@").all()
    assert not [p.name for p in (run / "exports").iterdir() if p.name.startswith(".")]  # nothing left aside


# ------------------------------------------------------------------------------------------
# main.purchase_summary: what the cleaning sums once, read instead of every purchase
# ------------------------------------------------------------------------------------------


def _aggregating(monkeypatch):
    """Make the summary aggregate every purchase, as it did before main.purchase_summary."""
    monkeypatch.setattr(rfm.summary, "summed_by_cleaning", lambda con, as_of: False)


@pytest.mark.parametrize("options", [{}, {"frequency": "days"}, {"repeat": True, "unit": "weeks"},
                                     {"customers": None}, {"method": "nested"}])
def test_the_purchase_summary_gives_what_aggregating_every_purchase_gives(cleaned, monkeypatch, options):
    from dbmarketing.warehouse import sql as statements

    con = warehouse.connect(cleaned)
    try:
        assert rfm.summary.summed_by_cleaning(con, date(2026, 10, 31))
        summed = rfm.compute(con, "2026-10-31", sort=True, **options)
        assert "FROM main.purchase_summary" in statements.RAN["rfm.scores"][0]  # the cleaning's sums were read
        # with the master, its customers (types, prospects) were read from the summary too: no join
        assert "FULL JOIN" not in statements.RAN["rfm.scores"][0]
        repeat_summed = rfm.repeat_summary(con, "2026-10-31")
        with monkeypatch.context() as m:
            _aggregating(m)
            aggregated = rfm.compute(con, "2026-10-31", sort=True, **options)
            repeat_aggregated = rfm.repeat_summary(con, "2026-10-31")
    finally:
        con.close()
    assert len(summed) > 1000
    pd.testing.assert_frame_equal(summed, aggregated)  # exactly: the same aggregates, written once
    pd.testing.assert_frame_equal(repeat_summed, repeat_aggregated)


def test_the_purchase_summary_is_not_read_when_it_would_be_wrong(cleaned, tmp_path, monkeypatch):
    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned, path)
    con = warehouse.connect(path)
    try:
        last = con.execute("SELECT max(order_date) FROM main.sales").fetchone()[0]
        assert rfm.summary.summed_by_cleaning(con, last)
        # an earlier date: purchases after it must not count
        assert not rfm.summary.summed_by_cleaning(con, last - timedelta(days=1))
        # a sale changed after the cleaning: its customer's spend is another
        customer, amount = con.execute("SELECT customer_id, net_amount FROM main.sales ORDER BY order_id LIMIT 1").fetchone()
        con.execute("UPDATE main.sales SET net_amount = net_amount + 100 "
                    "WHERE order_id = (SELECT min(order_id) FROM main.sales)")
        assert not rfm.summary.summed_by_cleaning(con, last)
        scores = rfm.compute(con, last).set_index("customer_id")
        with monkeypatch.context() as m:
            _aggregating(m)
            aggregated = rfm.compute(con, last).set_index("customer_id")
        assert scores.loc[customer, "monetary"] == aggregated.loc[customer, "monetary"]
        # and written again it agrees once more
        rfm.summary.write_purchase_summary(con)
        assert rfm.summary.summed_by_cleaning(con, last)
        again = rfm.compute(con, last).set_index("customer_id")
        # a summary an older version wrote, without the margin this one reads: the purchases are read
        con.execute("ALTER TABLE main.purchase_summary DROP COLUMN margin")
        assert not rfm.summary.summed_by_cleaning(con, last)
        old = rfm.compute(con, last).set_index("customer_id")
        assert old.loc[customer, "monetary"] == pytest.approx(aggregated.loc[customer, "monetary"])
        clv = customers.fit_clv(con, last)
        assert clv.predictions.clv.notna().all()
    finally:
        con.close()
    assert again.loc[customer, "monetary"] == pytest.approx(aggregated.loc[customer, "monetary"])
    assert aggregated.loc[customer, "monetary"] >= amount + 100 - 1e-9


def test_the_master_is_not_read_from_the_purchase_summary_once_it_changed(cleaned, tmp_path, monkeypatch):
    """The summary of every customer reads main.customers's types and prospects from
    main.purchase_summary only while they are the master's: a customer's type changed, or a
    customer added, and the master is joined again (the same frame as aggregating every purchase)."""
    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned, path)
    con = warehouse.connect(path)
    try:
        assert rfm.summary.summed_master(con)
        buyer = con.execute("SELECT customer_id, customer_type FROM main.customers WHERE customer_id IN "
                            "(SELECT customer_id FROM main.sales) ORDER BY customer_id LIMIT 1").fetchone()
        other = "distributor" if buyer[1] == "consumer" else "consumer"
        con.execute("UPDATE main.customers SET customer_type = ? WHERE customer_id = ?", [other, buyer[0]])
        assert not rfm.summary.summed_master(con)
        assert rfm.summary.summed_by_cleaning(con, date(2026, 10, 31))  # the purchases' sums still are right
        changed = rfm.compute(con, "2026-10-31", sort=True)
        assert changed.set_index("customer_id").loc[buyer[0], "customer_type"] == other
        con.execute("INSERT INTO main.customers (customer_id, customer_type) VALUES ('NEW-1', 'consumer')")
        assert not rfm.summary.summed_master(con)
        added = rfm.compute(con, "2026-10-31", sort=True).set_index("customer_id")
        assert bool(added.loc["NEW-1", "is_prospect"])
        with monkeypatch.context() as m:
            _aggregating(m)
            aggregated = rfm.compute(con, "2026-10-31", sort=True)
        rfm.summary.write_purchase_summary(con)  # written again: read from it once more, the same frame
        assert rfm.summary.summed_master(con)
        again = rfm.compute(con, "2026-10-31", sort=True)
    finally:
        con.close()
    pd.testing.assert_frame_equal(added.reset_index(), aggregated)
    pd.testing.assert_frame_equal(again, aggregated)


def test_clv_from_the_purchase_summary_is_clv_from_every_purchase(cleaned, monkeypatch):
    """fit_clv reads its summary and its margin rates from main.purchase_summary: the same
    values as from every purchase (the margins summed per customer first: within 1e-9)."""
    from dbmarketing import customers
    from dbmarketing.warehouse import sql as statements

    con = warehouse.connect(cleaned)
    try:
        summed = customers.fit_clv(con, "2026-10-31")
        assert "main.purchase_summary" in statements.RAN["customers.margin_rates"][0]
        with monkeypatch.context() as m:
            _aggregating(m)
            aggregated = customers.fit_clv(con, "2026-10-31")
        assert "main.purchase_summary" not in statements.RAN["customers.margin_rates"][0]
    finally:
        con.close()
    assert summed.basis == aggregated.basis == "margin"
    pd.testing.assert_frame_equal(summed.params, aggregated.params, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(summed.predictions, aggregated.predictions, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(summed.holdout, aggregated.holdout)


@pytest.mark.parametrize("options", [{}, {"customer_type": "consumer", "bins": 4, "method": "nested"},
                                     {"customers": None, "frequency": "days", "window": 365}])
def test_scores_computed_and_stored_in_the_database_are_those_stored_from_pandas(cleaned, tmp_path, options):
    """rfm.compute_and_store (nothing per customer through pandas) stores the rows that
    rfm.compute then rfm.store store, and refuses other settings as rfm.store does."""
    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned, path)
    con = warehouse.connect(path)
    try:
        frame = rfm.compute(con, "2026-10-31", **options)
        assert rfm.store(con, frame, replace=True) == len(frame)  # (the module's database may hold other scores)
        from_pandas = rfm.load(con, "2026-10-31")
        assert rfm.compute_and_store(con, "2026-10-31", **options) == len(frame)  # the same settings: replaced
        in_database = rfm.load(con, "2026-10-31")
        with pytest.raises(ValueError, match="other settings|computed with"):
            rfm.compute_and_store(con, "2026-10-31", **{**options, "bins": 3})
        assert rfm.compute_and_store(con, "2026-10-31", **{**options, "bins": 3}, replace=True) == len(frame)
        stored = rfm.load(con, "2026-10-31")
        assert set(stored.loc[stored["population"] == frame.attrs["population"], "bins"]) == {3}
    finally:
        con.close()
    assert (from_pandas["population"] == frame.attrs["population"]).sum() == len(frame) > 1000
    pd.testing.assert_frame_equal(in_database.drop(columns="scored_at"), from_pandas.drop(columns="scored_at"))


def test_chapter_04s_tables_and_charts_from_the_stored_scores_are_pandas_own(cleaned, tmp_path):
    """What chapter 04 shows of the stored scores (rfm.stored: summed by the database, nothing
    per customer through pandas) equals what pandas and numpy compute from the same scores
    loaded as a frame, written here as plainly as they can be."""
    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned, path)
    con = warehouse.connect(path)
    try:
        rfm.compute_and_store(con, "2026-10-31", customer_type="consumer", replace=True)
        stored = rfm.stored(con, "2026-10-31", customer_type="consumer")
        frame = rfm.load(con, "2026-10-31", customer_type="consumer")
        buyers = frame[~frame.is_prospect]
        assert (stored.customers, stored.buyers) == (len(frame), len(buyers)) and 500 < len(buyers) < len(frame)
        assert stored.attrs["bins"] == 5 and stored.attrs["settings"] == frame.attrs["settings"]
        assert rfm.stored(con, "2019-01-01", customer_type="consumer").customers == 0  # a date never scored

        table = rfm.segment_table(stored)
        g = frame.groupby("segment")
        assert table.customers.to_dict() == g.size().to_dict()
        np.testing.assert_allclose(table.revenue_share, g.monetary.sum()[table.index] / buyers.monetary.sum(), rtol=1e-12)
        np.testing.assert_allclose(table.avg_recency, g.recency.mean()[table.index], rtol=1e-12)

        summary = rfm.measure_summary(stored)
        described = buyers[["recency", "frequency", "monetary", "avg_order_value"]].astype(float).describe(
            percentiles=[0.2, 0.4, 0.5, 0.6, 0.8]).T
        np.testing.assert_allclose(summary.to_numpy(), described.to_numpy(), rtol=1e-9)
        assert list(summary.columns) == list(described.columns)

        ranges = rfm.score_ranges(stored).set_index("score")
        by_m = buyers.groupby("m_score").monetary.agg(["min", "max", "size"])
        assert ranges.monetary_from.tolist() == by_m["min"].tolist() and ranges.monetary_customers.tolist() == by_m["size"].tolist()
        assert ranges.frequency_to.tolist() == buyers.groupby("f_score").frequency.max().tolist()

        heat = rfm.rf_matrix(stored, agg="mean")
        pivot = buyers.pivot_table(index="f_score", columns="r_score", values="monetary", aggfunc="mean")
        for (f, r), value in pivot.stack().items():
            assert heat.loc[f, r] == pytest.approx(value, rel=1e-12)
        assert int(rfm.rf_matrix(stored, agg="count").sum().sum()) == len(buyers)

        curve = rfm.pareto(stored, top=0.2)
        ordered = np.sort(buyers.monetary.to_numpy())[::-1]
        assert curve.customers == len(buyers)
        assert curve.top_share == pytest.approx(ordered[:round(0.2 * len(ordered))].sum() / ordered.sum(), rel=1e-12)

        dist = rfm.distributions(stored)
        r = buyers.recency.to_numpy(float)
        assert dist.recency[1].tolist() == np.histogram(r, bins=40)[0].tolist()
        np.testing.assert_allclose(dist.recency[0], np.histogram(r, bins=40)[1])
        f = buyers.frequency.to_numpy(float)
        assert dist.frequency[1].tolist() == np.histogram(f, bins=np.arange(0.5, min(f.max(), 30) + 1.5))[0].tolist()
        m = buyers.monetary.to_numpy(float)
        lo, hi = np.log10(max(m.min(), 1)), np.log10(m.max())  # bars of equal width on the log scale
        assert dist.monetary[1].tolist() == np.histogram(np.log10(m[m >= 10 ** lo]), bins=40, range=(lo, hi))[0].tolist()
        np.testing.assert_allclose(dist.monetary[0], np.logspace(lo, hi, 41))
        assert (dist.median_recency, dist.once, dist.median_monetary) == (np.median(r), (f == 1).mean(), np.median(m))
        assert dist.top_monetary == pytest.approx(np.quantile(m, 0.99), rel=1e-12)

        # the members of a segment under other settings: every consumer scored again, the first rows back
        members = rfm.segment_members(con, "2026-10-31", "At risk", bins=4, method="nested", weights=(2, 1, 1),
                                      customer_type="consumer", rows=15)
        again = rfm.compute(con, "2026-10-31", bins=4, method="nested", weights=(2, 1, 1), customer_type="consumer")
        master = con.execute("SELECT customer_id, name, phone, city FROM main.customers").df()
        want = (again[again.segment == "At risk"].merge(master, on="customer_id", how="left")
                .sort_values(["rfm_score", "monetary", "customer_id"], ascending=[False, False, True]).head(15))
        assert members.attrs == {"members": int((again.segment == "At risk").sum()), "scored": len(again)}
        assert members.customer_id.tolist() == want.customer_id.tolist() and members.attrs["members"] > 15
        assert members.name.tolist() == want.name.tolist()
    finally:
        con.close()


def test_a_long_segment_list_is_written_as_csv_only():
    assert rfm.list_suffixes(rfm.XLSX_MOST) == (".csv", ".xlsx")
    assert rfm.list_suffixes(rfm.XLSX_MOST + 1) == (".csv",)


def test_distributions_of_buyers_who_all_spent_the_same():
    """One buyer (or all spending alike) leaves no range to cut: the monetary bars span a decade
    from the one value (it lands in the first bar), the recency bars the day around it -- a
    one-customer export stopped notebook 04 with a division by zero in the database."""
    scores = pd.DataFrame({"customer_id": ["a", "b"], "recency": [12, 12], "frequency": [3, 3],
                           "monetary": [1019.0, 1019.0], "is_prospect": [False, False]})
    for frame in (scores, scores.head(1)):
        dist = rfm.distributions(frame, bars=10)
        assert dist.monetary[1].tolist() == [len(frame)] + [0] * 9
        np.testing.assert_allclose(dist.monetary[0][[0, -1]], [1019.0, 10190.0])
        assert dist.recency[1].sum() == len(frame) and dist.recency[0][[0, -1]].tolist() == [11.5, 12.5]
        assert dist.frequency[1].tolist() == [0, 0, len(frame)]
        assert (dist.median_monetary, dist.once) == (1019.0, 0.0)
