from dbmarketing import customers, warehouse


def test_four_customer_types_hand_made():
    con = warehouse.connect(":memory:")
    con.execute("""INSERT INTO raw.customers (customer_id, customer_type, signup_date, source_system, valid_from, valid_to) VALUES
        ('A', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- bought 10 days ago -> current
        ('B', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- bought 400 days ago -> lapsed
        ('C', 'consumer', DATE '2024-01-01', 'pos', now(), NULL),      -- never bought -> potential
        ('D', 'distributor', DATE '2024-01-01', 'dist', now(), NULL),  -- distributor whatever its recency
        ('E', 'consumer', DATE '2026-12-01', 'crm', now(), NULL),      -- signed up after as_of -> not counted
        ('F', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- only a cancelled order and a return -> potential
        ('G', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- only bought after as_of -> potential
        ('A', 'consumer', DATE '2024-01-01', 'crm', now() - INTERVAL 9 DAY, now())  -- an old version, ignored
    """)
    con.execute("""INSERT INTO raw.orders (order_id, customer_id, order_date, order_type, status) VALUES
        ('1', 'A', DATE '2026-10-21', 'sale', 'completed'),
        ('2', 'B', DATE '2025-09-26', 'sale', 'completed'),
        ('3', 'D', DATE '2020-01-01', 'sale', 'completed'),
        ('4', 'F', DATE '2026-10-01', 'sale', 'cancelled'),
        ('5', 'F', DATE '2026-10-02', 'return', 'completed'),
        ('6', 'G', DATE '2026-11-02', 'sale', 'completed'),
        ('7', NULL, DATE '2026-10-02', 'sale', 'completed')""")
    t = customers.customer_types(con, "2026-10-31", active_days=365).set_index("customer_id")
    assert t.customer_type4.to_dict() == {"A": "current", "B": "lapsed", "C": "potential", "D": "distributor",
                                          "F": "potential", "G": "potential"}
    assert str(t.loc["A", "last_purchase"].date()) == "2026-10-21" and pd.isna(t.loc["C", "last_purchase"])
    assert t.index.tolist() == sorted(t.index)
    # the same types counted by the database, per source system (notebook 01's table)
    counts = customers.type_counts(con, "2026-10-31", active_days=365)
    assert sorted(counts.itertuples(index=False, name=None)) == [
        ("crm", "current", 1), ("crm", "lapsed", 1), ("crm", "potential", 2), ("dist", "distributor", 1),
        ("pos", "potential", 1)]
    # an export without order type, status or source system (an order log with a bare customer
    # file): its orders are completed sales, as cleaning reads them; its records are counted
    # under an unknown source, not left out of the counts
    con.execute("""INSERT INTO raw.customers (customer_id, customer_type, signup_date, source_system, valid_from, valid_to) VALUES
        ('H', 'consumer', DATE '2024-01-01', NULL, now(), NULL), ('I', 'consumer', DATE '2024-01-01', NULL, now(), NULL)""")
    con.execute("""INSERT INTO raw.orders (order_id, customer_id, order_date, order_type, status) VALUES
        ('8', 'H', DATE '2026-10-30', NULL, NULL)""")
    t = customers.customer_types(con, "2026-10-31", active_days=365).set_index("customer_id")
    assert t.loc["H", "customer_type4"] == "current" and t.loc["I", "customer_type4"] == "potential"
    counts = customers.type_counts(con, "2026-10-31", active_days=365)
    assert ("unknown", "current", 1) in set(counts.itertuples(index=False, name=None))
    assert counts.customer_records.sum() == 8
    assert customers.types_by_source(counts, customers.CUSTOMER_TYPES).loc["unknown"].tolist() == [1, 1, 0, 0]
    con.execute("DELETE FROM raw.customers WHERE customer_id IN ('H', 'I')")
    con.execute("DELETE FROM raw.orders WHERE order_id = '8'")
    # the boundary: 2025-10-31 is 365 days before as_of; a purchase on it is no longer current
    con.execute("UPDATE raw.orders SET order_date = DATE '2025-11-01' WHERE order_id = '2'")
    assert customers.customer_types(con, "2026-10-31", 365).set_index("customer_id").loc["B", "customer_type4"] == "current"
    con.execute("UPDATE raw.orders SET order_date = DATE '2025-10-31' WHERE order_id = '2'")
    assert customers.customer_types(con, "2026-10-31", 365).set_index("customer_id").loc["B", "customer_type4"] == "lapsed"


# ----------------------------------------------------------------------------- the customer model
from datetime import date

import numpy as np
import pandas as pd
import pytest

from dbmarketing import cleanse, present
from dbmarketing.present import words
from dbmarketing.present.narration import customers as story

AS_OF = "2026-10-31"
EXTRACTED = date(2026, 12, 31)  # the hand-made data is extracted two months after AS_OF
PRICE = {"P1": 100.0, "P2": 50.0, "P3": 80.0}


def _model_db():
    """An in-memory database for hand-made histories: the customer master in main, the
    transactions in raw; :func:`_clean` builds the clean main tables with the real cleaning."""
    con = warehouse.connect(":memory:")
    con.execute("""CREATE TABLE main.customers (customer_id VARCHAR, customer_type VARCHAR, name VARCHAR, gender VARCHAR,
        birth_date DATE, id_number VARCHAR, phone VARCHAR, email VARCHAR, province VARCHAR, city VARCHAR, address VARCHAR,
        signup_date DATE, signup_channel VARCHAR, consent_mail BOOLEAN, consent_sms BOOLEAN, consent_email BOOLEAN,
        consent_phone BOOLEAN, source_systems VARCHAR, records INTEGER, updated_at TIMESTAMP)""")
    con.execute("""INSERT INTO raw.products (product_id, product_name, category, price, unit_cost) VALUES
        ('P1', 'big', 'home', 100, 40), ('P2', 'small', 'food', 50, 20), ('P3', 'mid', 'garden', 80, 30)""")
    return con


def _clean(con):
    """Clean the hand-made transactions as of EXTRACTED (every record is its own master)."""
    con.execute("CREATE OR REPLACE TABLE main.customer_map AS SELECT customer_id, customer_id AS master_id FROM main.customers")
    cleanse.clean_transactions(con, EXTRACTED, run_id=1)
    con.execute("CREATE OR REPLACE TABLE main.cleaning_runs (run_id INTEGER, as_of DATE)")
    con.execute("INSERT INTO main.cleaning_runs VALUES (1, ?)", [EXTRACTED])
    return con


def _add_customers(con, *ids, signup="2024-01-01", ctype="consumer"):
    for i in ids:
        con.execute("INSERT INTO main.customers (customer_id, customer_type, signup_date) VALUES (?, ?, ?)", [i, ctype, signup])


def _sale(con, order_id, customer, day, product="P2", qty=1, status="completed", channel="store"):
    con.execute("INSERT INTO raw.orders (order_id, order_date, channel, order_type, status, customer_id) VALUES (?, ?, ?, 'sale', ?, ?)",
                [order_id, day, channel, status, customer])
    con.execute("INSERT INTO raw.order_lines (order_id, line_no, product_id, quantity, unit_price, amount) VALUES (?, 1, ?, ?, ?, ?)",
                [order_id, product, qty, PRICE[product], qty * PRICE[product]])


def _return(con, order_id, original, customer, day, product="P2", qty=1):
    con.execute("""INSERT INTO raw.orders (order_id, order_date, channel, order_type, status, original_order_id, customer_id)
        VALUES (?, ?, 'store', 'return', 'completed', ?, ?)""", [order_id, day, original, customer])
    con.execute("INSERT INTO raw.order_lines (order_id, line_no, product_id, quantity, unit_price, amount) VALUES (?, 1, ?, ?, ?, ?)",
                [order_id, product, -qty, PRICE[product], -qty * PRICE[product]])


def test_lifecycle_rules_on_hand_made_histories():
    con = _model_db()
    _add_customers(con, "P", "N", "A", "R", "K", "L", "L2", "R180", "X", "Y", "C")
    _add_customers(con, "F", signup="2026-12-01")                      # signed up after as_of, never bought: not counted
    _sale(con, "n1", "N", "2026-09-01")                                 # first purchase 60 days ago -> new
    _sale(con, "a1", "A", "2026-01-10"); _sale(con, "a2", "A", "2026-08-01")   # recency 91 -> active
    _sale(con, "r1", "R", "2025-03-01"); _sale(con, "r2", "R", "2026-06-01")   # gap 457 >= 365, back 152 days ago
    _sale(con, "k1", "K", "2025-06-01"); _sale(con, "k2", "K", "2026-03-01")   # recency 244 -> at risk
    _sale(con, "l1", "L", "2025-10-31")                                 # recency exactly 365 -> lapsed
    _sale(con, "l2", "L2", "2025-11-01")                                # recency 364 -> at risk
    _sale(con, "q1", "R180", "2024-10-01"); _sale(con, "q2", "R180", "2026-05-04")  # came back exactly 180 days ago -> at risk
    _sale(con, "x1", "X", "2026-10-01"); _return(con, "xr", "x1", "X", "2026-10-05")  # fully returned by as_of -> prospect
    _sale(con, "y1", "Y", "2026-10-01"); _return(con, "yr", "y1", "Y", "2026-11-05")  # returned after as_of: still a buyer
    _sale(con, "c1", "C", "2026-10-01", status="cancelled")             # cancelled only -> prospect
    _sale(con, "z1", "K", "2026-11-02")                                 # after as_of: ignored
    _clean(con)
    life = customers.lifecycle(con, AS_OF).set_index("customer_id")
    assert life.lifecycle_stage.to_dict() == {
        "P": "prospect", "N": "new", "A": "active", "R": "reactivated", "K": "at risk", "L": "lapsed", "L2": "at risk",
        "R180": "at risk", "X": "prospect", "Y": "new", "C": "prospect"}
    assert life.loc["R", "comeback_date"] == pd.Timestamp("2026-06-01")
    # Y's return is dated after as_of: at as_of Y bought 50; at the extraction date Y is back to a prospect
    y = customers.customer_360(con, AS_OF).set_index("customer_id").loc["Y"]
    assert y.revenue == pytest.approx(50.0) and y.returns == 0 and y.orders == 1
    later = customers.customer_360(con, EXTRACTED).set_index("customer_id").loc["Y"]
    assert later.is_prospect and later.revenue == 0 and later.returns == 1
    # the rules are parameters: with a 90-day at-risk threshold A (recency 91) is at risk
    rules = customers.LifecycleRules(at_risk_days=90)
    assert customers.lifecycle(con, AS_OF, rules).set_index("customer_id").loc["A", "lifecycle_stage"] == "at risk"
    with pytest.raises(ValueError, match="less than lapsed_days"):
        customers.LifecycleRules(at_risk_days=400)


def test_profit_arithmetic():
    con = _model_db()
    _add_customers(con, "A", "B", "W")
    _sale(con, "s1", "A", "2026-03-01", product="P1", qty=2, channel="online")   # 200 revenue, 80 cost
    _return(con, "r1", "s1", "A", "2026-03-10", product="P1", qty=1)             # -100 revenue, -40 cost, one return
    _sale(con, "s2", "A", "2026-06-05", product="P2", qty=1)                     # 50 revenue, 20 cost, store
    _sale(con, "s3", "A", "2025-06-05", product="P2", qty=1)                     # 50 revenue, 20 cost, 513 days ago
    _return(con, "r3", "s3", "A", "2025-06-09", product="P2", qty=1)             # returned in full: no purchase, a return handled
    # B: one store order of 100 is B's largest, but two online orders of 80 bring more revenue
    _sale(con, "b1", "B", "2026-02-01", product="P1", channel="store")
    _sale(con, "b2", "B", "2026-03-01", product="P3", channel="online")
    _sale(con, "b3", "B", "2026-04-01", product="P3", channel="online")
    # W: 150 units of home goods and one of food, 50 of 15,050 = 0.3%: too small to show a share
    _sale(con, "w1", "W", "2026-04-01", product="P1", qty=150)
    _sale(con, "w2", "W", "2026-04-02", product="P2")
    con.execute("""INSERT INTO raw.service_tickets (ticket_id, customer_id, opened_date, ticket_type, satisfaction, resolved) VALUES
        ('t1', 'A', DATE '2026-04-01', 'complaint', 2, FALSE), ('t2', 'A', DATE '2026-05-01', 'inquiry', 5, TRUE),
        ('t3', 'A', DATE '2026-11-15', 'complaint', 1, FALSE)""")
    con.execute("""INSERT INTO raw.campaigns (campaign_id, campaign_name, channel, start_date, end_date, response_window_days,
        cost_per_contact, offer) VALUES ('M1', 'mail', 'direct_mail', DATE '2026-06-01', DATE '2026-06-01', 30, 3.5, ''),
        ('M2', 'sms', 'sms', DATE '2026-07-01', DATE '2026-07-01', 14, 0.1, '')""")
    con.execute("""INSERT INTO raw.contacts (campaign_id, customer_id, cell, contact_date) VALUES
        ('M1', 'A', 'test', DATE '2026-06-01'), ('M2', 'A', 'control', DATE '2026-07-01')""")
    _clean(con)
    costs = customers.ServiceCosts(per_return=15.0, per_ticket={"complaint": 40.0, "inquiry": 8.0})
    c = customers.customer_360(con, AS_OF, costs=costs).set_index("customer_id")
    a = c.loc["A"]
    assert a.revenue == pytest.approx(150.0) and a.gross_amount == pytest.approx(250.0)
    assert a.returned_amount == pytest.approx(100.0)
    assert a.cost_of_goods == pytest.approx(60.0) and a.gross_margin == pytest.approx(90.0)
    assert a.returns == 2 and a.complaints == 1 and a.unresolved_complaints == 1   # t3 is after as_of
    assert a.tickets == 2
    assert a.return_cost == pytest.approx(30.0) and a.service_cost == pytest.approx(48.0)
    assert a.contact_cost == pytest.approx(3.5)                                      # the control cell costs nothing
    assert a.cost_to_serve == pytest.approx(30.0 + 48.0 + 3.5)
    assert a.profit == pytest.approx(90.0 - 81.5)
    assert a.profit_12m == pytest.approx(90.0 - (15.0 + 48.0 + 3.5))                 # r3 is more than 365 days ago
    assert a.campaigns_contacted == 1 and a.campaigns_responded == 1                # s2 within M1's 30 days
    assert a.share_online == pytest.approx(100 / 150) and a.share_store == pytest.approx(50 / 150)
    assert a.main_channel == "online"
    assert a.orders == 2 and a.main_category == "home" and a.n_categories == 2
    assert a.main_category_share == pytest.approx(100 / 150) and a.category_mix == "home 67%, food 33%"
    b = c.loc["B"]
    assert b.main_channel == "online" and b.share_online == pytest.approx(160 / 260)
    assert b.main_category == "garden" and b.category_mix == "garden 62%, home 38%"
    assert c.loc["W", "category_mix"] == "home 100%, 1 more under 1%" and c.loc["W", "n_categories"] == 2
    # at the extraction date the customers' revenue is main.sales's, customer by customer
    now = customers.customer_360(con, EXTRACTED, costs=costs).set_index("customer_id").revenue
    sales = dict(con.execute("SELECT customer_id, sum(net_amount) FROM main.sales GROUP BY 1").fetchall())
    assert now.to_dict() == pytest.approx(sales)


def _leaking(monkeypatch, source, condition):
    """The feature source ``source`` of customer_360 run without its date filter ``condition``."""
    statement, text = customers.SOURCES[source], warehouse.sql.text
    assert condition in warehouse.sql.queries()[statement].sql
    monkeypatch.setattr(warehouse.sql, "text", lambda name, **parts: (
        text(name, **parts).replace(condition, "") if name == statement else text(name, **parts)))


def test_leakage_guard_fails_loudly(monkeypatch):
    con = _model_db()
    _add_customers(con, "A")
    _sale(con, "s1", "A", "2026-03-01")
    _sale(con, "s2", "A", "2026-09-01", qty=2)
    _return(con, "r2", "s2", "A", "2026-11-20")
    con.execute("""INSERT INTO raw.service_tickets (ticket_id, customer_id, opened_date, ticket_type, satisfaction, resolved)
        VALUES ('t9', 'A', DATE '2026-12-01', 'complaint', 1, FALSE)""")
    _clean(con)
    customers.customer_360(con, AS_OF)  # the real sources filter by date: no error although later data exists
    _leaking(monkeypatch, "tickets", "AND opened_date <= $as_of")
    with pytest.raises(customers.LeakageError, match="tickets.*2026-12-01"):
        customers.customer_360(con, AS_OF)
    with pytest.raises(customers.LeakageError):  # the churn features go through the same guard
        customers.churn_features(con, AS_OF)
    monkeypatch.undo()
    # a return made after as_of must not count: the returns source that forgets its date is caught
    _leaking(monkeypatch, "returns", "r.return_date <= $as_of AND")
    with pytest.raises(customers.LeakageError, match="returns.*2026-11-20"):
        customers.customer_360(con, AS_OF)


def test_value_tiers_and_pareto():
    m = pd.DataFrame({
        "customer_id": list("ABCDEFGHIJK"),
        "is_prospect": [False] * 9 + [True, False],
        "profit": [500.0, 300.0, 100.0, 50.0, 40.0, 30.0, 20.0, -10.0, 0.0, 0.0, 5.0],
        "profit_12m": [200.0, 100.0, 50.0, 10.0, 35.0, 10.0, 5.0, -5.0, 0.0, 0.0, -60.0],
        "clv": [250.0, 90.0, 60.0, 200.0, 30.0, 80.0, 12.0, 1.0, 0.0, np.nan, 40.0]})
    tier = customers.value_tiers(m, "clv", mvc_share=0.2, mgc_share=0.2)
    # 10 buyers: MVC = top 2 by profit (A, B); BZ = H. MGC: the median CLV of the buyers is
    # (40 + 60) / 2 = 50, so C (60), D (200) and F (80) qualify; the top 2 by CLV - profit_12m
    # are D (190) and F (70). K is lapsed-like: growth 40 - (-60) = 100 would rank second, but
    # its CLV of 40 is below the median: little to grow into, so K stays "other".
    assert dict(zip(m.customer_id, tier)) == {"A": "MVC", "B": "MVC", "C": "other", "D": "MGC", "E": "other",
                                              "F": "MGC", "G": "other", "H": "BZ", "I": "other", "J": "prospect",
                                              "K": "other"}
    p = customers.profit_pareto(m)
    assert p.attrs["total"] == pytest.approx(1035.0)
    assert p.attrs["top20_share"] == pytest.approx(800 / 1035)   # top 2 of 10 buyers
    assert p.attrs["peak_share"] == pytest.approx(1045 / 1035)   # the below-zero customer pulls the curve down
    assert p.value_share.iloc[-1] == pytest.approx(1.0)


def test_segments_reproducible_with_seed():
    rng = np.random.default_rng(0)
    n = 300
    centers = np.array([[10, 1, 50], [200, 8, 2000], [500, 2, 300]])
    g = rng.integers(0, 3, n)
    frame = pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(n)], "is_prospect": False,
        "recency_days": centers[g, 0] * rng.uniform(0.95, 1.05, n), "orders": centers[g, 1] * rng.uniform(0.95, 1.05, n),
        "revenue": centers[g, 2] * rng.uniform(0.95, 1.05, n),
        "tenure_days": 400.0, "n_categories": 2.0, "returns": 0.0, "complaints": 0.0})
    frame["avg_order_value"] = frame.revenue / frame.orders
    a = customers.segment(None, AS_OF, seed=7, frame=frame, k_range=range(2, 6))
    b = customers.segment(None, AS_OF, seed=7, frame=frame, k_range=range(2, 6))
    assert a.k == 3 and list(a.silhouette.k) == [2, 3, 4, 5]
    assert a.silhouette.silhouette.idxmax() == 1
    pd.testing.assert_frame_equal(a.labels, b.labels)
    pd.testing.assert_frame_equal(a.profile, b.profile)
    # segments recover the planted groups, and profiles are indices against the base (100 = average)
    assert pd.crosstab(a.labels.segment, g).gt(0).sum(axis=1).eq(1).all()
    weighted = (a.profile.revenue * a.profile.customers).sum() / n
    assert weighted == pytest.approx(100, abs=1)
    assert a.profile.segment_name.is_unique
    # features every buyer shares tell nobody apart: left out, and said so
    assert a.left_out == ["tenure_days", "n_categories", "returns", "complaints"]
    assert list(a.profile.columns) == ["segment_name", "customers", "recency_days", "orders", "revenue", "avg_order_value"]
    assert not any("trouble-free" in n for n in a.profile.segment_name)  # returns unknown: not called trouble-free


def test_marketing_groups_the_data_cannot_fill_are_named_not_shown_empty():
    m = pd.DataFrame({"consent_email": [True, None], "consent_sms": [None, None], "consent_mail": [False, None]})
    unknown = customers.unknown_groups(m)
    assert {g: str(why) for g, why in unknown.items()} == {
        "SMS consent": "no customer record says yes or no (consent_sms is empty)"}
    assert set(customers.unknown_groups(m, value="revenue", tickets=False, churn=False)) == {
        "below zero", "complained recently", "SMS consent", "valuable at risk"}
    # the reason is worded when read, in the reader's language (the group's name a label of the catalog)
    words.set_lang("zh")
    try:
        assert story.unknown_groups(unknown) == "以下营销群组未计入，因为数据无法判断谁属于它们：{}（{}）。".format(
            words.label("SMS consent"), "没有任何客户记录写明同意与否（consent_sms 为空）")
    finally:
        words.set_lang("en")


def test_top_decile_lift_shares_out_ties():
    assert customers.top_decile_lift([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.9] + [0.1] * 9) == pytest.approx(10.0)
    assert customers.top_decile_lift([0, 1, 0, 1], [0.9, 0.1, 0.2, 0.3]) == pytest.approx(0.0)
    # 20 customers, churn rate 5/20; the top decile is 2 places: the 0.9 (a churner) and one of
    # three tied at 0.5 of whom one churned -> expected churners 1 + 1/3, lift (4/3 / 2) / 0.25
    y = [1, 1, 0, 0] + [1, 1, 1] + [0] * 13
    p = [0.9, 0.5, 0.5, 0.5] + [0.1] * 16
    assert customers.top_decile_lift(y, p) == pytest.approx((4 / 3 / 2) / 0.25)
    # the order of the tied rows does not matter
    assert customers.top_decile_lift(y[:1] + y[1:4][::-1] + y[4:], p) == pytest.approx((4 / 3 / 2) / 0.25)
    assert customers.top_decile_lift([1, 0] * 10, [0.5] * 20) == pytest.approx(1.0)   # one score for all: no lift


def test_churn_reasons_history_and_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    f = pd.DataFrame({"complaints_180d": [1, 0, 0], "unresolved_complaints": [1, 0, 0], "purchase_days": [3, 3, 1],
                      "mean_gap_days": [30.0, 100.0, np.nan], "recency_days": [60, 50, 120], "orders_12m": [2, 1, 1],
                      "orders": [3, 3, 1], "returns": [0, 0, 2]})
    r = customers.churn_reasons(f)
    assert r[0] == ("complained in the last 180 days (1); unresolved complaint; "
                    "fading recency: 60 days since last purchase, usual gap 30")
    assert r[1] == "general pattern (no single reason)"
    assert r[2] == "bought once, 120 days ago; returned goods (2)"
    # the model's reasons: churn planted on recency alone, so a long silence is the driver
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"recency_days": rng.uniform(1, 360, 400), "orders": rng.integers(1, 10, 400).astype(float)})
    y = (X.recency_days + rng.normal(0, 40, 400) > 180).astype(int)
    logit = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression()).fit(X, y)
    probe = pd.DataFrame({"recency_days": [350.0, 5.0], "orders": [5.0, 5.0]}, index=["old", "fresh"])
    why = customers.model_reasons(logit, probe, top=1)
    assert why["old"] == "model's main drivers: long since the last purchase"
    assert "long since the last purchase" not in why["fresh"]
    both = customers.churn_reasons(f.iloc[[1]].set_axis(["old"]), why)
    assert both["old"] == "model's main drivers: long since the last purchase"   # no more "general pattern"


def test_model_reasons_are_the_drivers_read_customer_by_customer():
    """The model's reasons, taken for whole columns at once, are what reading each customer's
    contributions one by one gives: the features that push the risk up most, largest first."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    rng = np.random.default_rng(7)
    X = pd.DataFrame({"recency_days": rng.uniform(1, 360, 500), "orders": rng.integers(1, 10, 500).astype(float),
                      "complaints": rng.integers(0, 3, 500).astype(float), "loyalty_points": rng.uniform(0, 50, 500)})
    y = ((X.recency_days / 90 - X.orders / 3 + X.complaints + rng.normal(0, 1, 500)) > 1).astype(int)
    logit = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression()).fit(X, y)
    Z = logit[:-1].transform(X)
    contrib = Z * logit[-1].coef_[0]
    labels = {**customers.FEATURE_LABELS, "loyalty_points": ("loyalty_points", "high loyalty_points", "low loyalty_points")}
    for top in (1, 2, 3):
        want = []
        for i in range(len(X)):
            drivers = sorted(range(4), key=lambda j: -contrib[i, j])[:top]
            words = [labels[X.columns[j]][1 if Z[i, j] > 0 else 2] for j in drivers if contrib[i, j] > 0]
            want.append("model's main drivers: " + ", ".join(words) if words
                        else "model: nothing raises the risk above average")
        got = customers.model_reasons(logit, X, top=top)
        assert got.tolist() == want and got.index.equals(X.index)
    assert got.str.startswith("model: nothing").any() and got.str.count(", ").eq(2).any()


def test_valuable_at_risk_is_above_the_base_rate():
    m = pd.DataFrame({"customer_id": list("ABCDEFGHIJ"),
                      "profit": [900.0, 800, 700, 600, 500, 400, 300, 200, 100, 0],
                      "churn_risk": [0.55, 0.65, 0.70, 0.20, 0.95, 0.90, 0.10, 0.10, 0.10, np.nan]})
    # base rate 0.5: high risk means at least 0.6; valuable = top 40% of the 9 scored by profit
    # (profit >= the 60% quantile, 580): A, B, C, D. A (0.55) is above the base but not well above it.
    out = customers.valuable_at_risk(m, "profit", top_value=0.4, base_rate=0.5, risk_ratio=1.2)
    assert list(out.customer_id) == ["B", "C"]
    assert out.attrs["risk_cut"] == pytest.approx(0.6)
    # without a base rate, the mean risk of the scored customers: 4.25 / 9 -> cut 0.567
    out = customers.valuable_at_risk(m, "profit", top_value=0.4, risk_ratio=1.2)
    assert list(out.customer_id) == ["B", "C"] and out.attrs["base_rate"] == pytest.approx(4.25 / 9)
    with pytest.raises(ValueError, match="risk_ratio"):
        customers.valuable_at_risk(m, risk_ratio=0.9)


def test_tree_nodes_read_like_the_chart():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.tree import DecisionTreeClassifier, plot_tree

    # 16 customers: the 4 recent ones all buy again; of the 12 silent ones, the 9 silent for
    # 200-280 days churn, the 3 silent for 290-310 days do not; orders tell nothing
    X = pd.DataFrame({"recency_days": [10, 20, 30, 40] + [200 + 10 * i for i in range(12)], "orders": 3})
    X.loc[3, "recency_days"] = 41                 # the cut (41 + 200) / 2 = 120.5: whole days, so "≤ 120"
    y = [0] * 4 + [1] * 9 + [0] * 3
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    nodes = customers.tree_nodes(tree, list(X.columns))
    assert list(nodes.label) == [
        "days since the last purchase ≤ 120?\nchurn 56% · 100% of customers",   # 9 of 16 churn
        "churn 0%\n25% of customers\n→ buys again",
        "days since the last purchase ≤ 285?\nchurn 75% · 75% of customers",
        "churn 100%\n56% of customers\n→ likely to churn",
        "churn 0%\n19% of customers\n→ buys again"]
    assert nodes[nodes.is_leaf].customer_share.sum() == pytest.approx(1.0)
    # the chart: plot_tree draws its boxes in this order (its own labels print the customer shares)
    fig, ax = plt.subplots()
    boxes = [a for a in plot_tree(tree, proportion=True, ax=ax) if "samples = " in a.get_text()]
    shares = [float(a.get_text().split("samples = ")[1].split("%")[0]) / 100 for a in boxes]
    assert shares == pytest.approx(list(nodes.customer_share), abs=0.001)
    ax.clear()
    customers.plot_churn_tree(tree, list(X.columns), ax)
    texts = [t.get_text() for t in ax.texts]
    assert [t for t in texts if "churn" in t] == list(nodes.label)
    assert sorted(t.strip() for t in texts if "churn" not in t) == ["no", "yes"]
    plt.close(fig)


def test_view_sections_are_short_and_lose_nothing():
    cols = ["customer_id", "name", "gender", "birth_date", "phone", "email", "province", "city", "address",
            *[c.name for c in customers.CUSTOMER_MODEL.columns if c.name not in ("customer_id", "gender", "province", "city")], "extra"]
    view = pd.DataFrame([{c: f"v_{c}" for c in cols}])
    view["clv"], view["orders"], view["share_online"] = None, 12, 0.123456
    parts = customers.view_sections(view)
    fields = [f for part in parts.values() for f in part.field]
    assert sorted(fields) == sorted(cols) and len(fields) == len(set(fields))
    assert all(len(part) <= present.MAX_ROWS for part in parts.values())
    assert list(parts["Other"].field) == ["extra"]
    values = pd.concat(parts.values()).set_index("field").value
    assert values["clv"] == "" and values["name"] == "v_name" and values["orders"] == "12"
    assert values["share_online"] == "0.12"


def test_clv_check_reads_the_figures():
    rows = [("consumer", p, e, d) for p, e, d in [("r", 0.04, None), ("alpha", 0.12, None), ("a", -0.09, None),
                                                   ("b", 0.04, None), ("p", -0.20, -0.01), ("q", 0.02, 0.006),
                                                   ("gamma", 0.38, 0.012), ("mean spend p*gamma/(q-1)", 0.067, 0.012)]]
    rows += [("distributor", p, e, d) for p, e, d in [("r", 0.16, None), ("alpha", 0.30, None), ("a", 0.1, None),
                                                      ("b", -0.07, None), ("p", 2.02, 5.5), ("q", -0.12, -0.12),
                                                      ("gamma", -0.72, -0.87), ("mean spend p*gamma/(q-1)", -0.003, 0.002)]]
    rec = pd.DataFrame(rows, columns=["customer_type", "parameter", "relative_error", "drawn_error"])
    rec["repeat_buyers"] = np.where(rec.customer_type == "consumer", 10315, 299)
    from dbmarketing.present.narration import customers as story

    intro, consumer, distributor, pooled = story.clv_check(rec).split("\n\n")
    assert "within **12%**" in consumer and "mean spend per purchase within **7%**" in consumer
    assert "p -20%, γ +38%" in consumer and "come within **1%**" in consumer and "realised order values" in consumer
    assert "within **30%**" in distributor and "p is +550% off" in distributor and "299 repeat buyers" in distributor
    assert "realised order values, not in the fit" not in distributor


def test_store_replaces_one_as_of_and_keeps_others():
    con = _model_db()
    cols = [c.name for c in customers.CUSTOMER_MODEL.columns]

    def rows(as_of, ids):
        t = pd.DataFrame({c: [None] * len(ids) for c in cols})
        t["as_of"], t["customer_id"], t["profit"] = pd.Timestamp(as_of), ids, 1.0
        return t

    customers.store_customer_model(con, rows("2026-09-30", ["A", "B"]))
    customers.store_customer_model(con, rows("2026-10-31", ["A"]))
    customers.store_customer_model(con, rows("2026-10-31", ["A", "B", "C"]))
    got = con.execute("SELECT CAST(as_of AS VARCHAR), count(*) FROM main.customer_model GROUP BY 1 ORDER BY 1").fetchall()
    assert got == [("2026-09-30", 2), ("2026-10-31", 3)]
    tiers = warehouse.privacy_tiers(con, "customer_model")
    assert set(tiers) == set(cols) and tiers["profit"] == warehouse.DEEP_PUBLIC and tiers["customer_id"] == warehouse.PUBLIC
    assert tiers["value_tier"] == warehouse.PUBLIC        # a tier label is no personal data
    for col in ("share_store", "share_phone", "share_distributor", "main_category_share", "category_mix",
                "return_cost", "service_cost", "contact_cost", "tickets", "unresolved_complaints"):
        assert col in tiers, col
    # a table written by an older version (fewer columns) gains the new ones; its rows are kept
    old = _model_db()
    old.execute("CREATE TABLE main.customer_model (as_of DATE, customer_id VARCHAR, profit DOUBLE)")
    old.execute("INSERT INTO main.customer_model VALUES (DATE '2026-09-30', 'A', 2.0)")
    customers.store_customer_model(old, rows("2026-10-31", ["A", "B"]))
    got = old.execute("SELECT CAST(as_of AS VARCHAR), customer_id, profit, share_store FROM main.customer_model ORDER BY 1, 2").fetchall()
    assert got == [("2026-09-30", "A", 2.0, None), ("2026-10-31", "A", 1.0, None), ("2026-10-31", "B", 1.0, None)]


def test_customer_model_on_small_sample(small_sample, tmp_path):
    """The whole model on the small sample: one row per customer, the stored table, revenue as
    main.sales, a churn model better than chance, a list at risk above the base rate with the
    model's reasons, MGC customers with a CLV worth growing, reproducible segments."""
    import shutil

    path = tmp_path / "crm.duckdb"
    shutil.copy(small_sample["db_path"], path)
    con = warehouse.connect(path)
    cleanse.run(con, AS_OF)
    m = customers.build_customer_model(con, AS_OF, horizon_days=180, seed=42)
    n = con.execute(f"SELECT count(*) FROM main.customers WHERE signup_date <= DATE '{AS_OF}' OR customer_id IN "
                    f"(SELECT customer_id FROM main.sales)").fetchall()[0][0]
    assert len(m.c360) == n == m.c360.customer_id.nunique()
    stored = con.execute("SELECT * FROM main.customer_model ORDER BY customer_id").df()
    assert len(stored) == n
    # the stored rows are the whole 360 view (the database joined it with the model's columns:
    # every customer's row with their own figures) and the model's columns as computed
    c = customers.customer_360(con, AS_OF)
    shared = [col for col in stored.columns if col in c.columns]
    assert len(shared) > 40 and {"category_mix", "source_systems", "city"} <= set(shared)  # not in m.c360
    pd.testing.assert_frame_equal(stored[shared], c[shared].reset_index(drop=True), check_dtype=False)
    own = [col for col in customers.model.MODEL_COLUMNS if col in stored.columns]
    assert len(own) == len(customers.model.MODEL_COLUMNS)
    pd.testing.assert_frame_equal(stored[own], m.c360.sort_values("customer_id")[own].reset_index(drop=True),
                                  check_dtype=False)
    assert set(m.c360.lifecycle_stage) <= set(customers.LIFECYCLE_STAGES)
    assert (m.c360.lifecycle_stage == "lapsed").sum() > 0          # lapsed customers are kept
    sales = dict(con.execute("SELECT customer_id, sum(net_amount) FROM main.sales GROUP BY 1").fetchall())
    assert stored.set_index("customer_id").revenue[list(sales)].to_dict() == pytest.approx(sales)
    left = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary UNION ALL "
                       "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall()
    assert not [t for (t,) in left if t.startswith(("_customer_360", "_customer_model"))]  # the build's own are dropped
    assert m.churn.metrics.auc.min() > 0.6
    assert m.churn.scores.churn_risk.between(0, 1).all()
    assert len(m.at_risk) > 0 and (m.at_risk.churn_risk > m.churn.base_rate).all()
    assert m.at_risk.churn_reasons.str.contains("model").all()
    buyers = m.c360[~m.c360.is_prospect]
    assert (m.c360[m.c360.value_tier == "MGC"].clv >= buyers.clv.median()).all()
    again = customers.segment(con, AS_OF, seed=42)
    pd.testing.assert_frame_equal(again.labels, m.segments.labels)
    # the model hands its 360 to the churn model; the churn model's own 360 gives the same scores
    alone = customers.churn_model(con, AS_OF, horizon_days=180, seed=42)
    pd.testing.assert_frame_equal(alone.scores, m.churn.scores)
    assert alone.fitted_share == 1.0

    # a large master (here: more than fit_customers) is fitted on a fixed sample of it, picked
    # by the MD5 of the customer number as Python's hashlib reads it; every customer is scored
    import hashlib

    master = con.execute("SELECT customer_id FROM main.customers").fetchall()
    sampled = customers.churn_model(con, AS_OF, horizon_days=180, seed=42, fit_customers=len(master) // 2)
    assert sampled.fitted_share == pytest.approx(0.5, abs=1 / len(master))
    cut = format(int(sampled.fitted_share * 16**8), "08x")
    picked = {i for (i,) in master if hashlib.md5(i.encode()).hexdigest()[:8] < cut}
    assert 0.4 < len(picked) / len(master) < 0.6
    assert set(sampled.holdout.index) == set(alone.holdout.index) & picked
    assert sampled.metrics.customers.iloc[0] == len(sampled.holdout) < len(alone.holdout)
    assert set(sampled.scores.customer_id) == set(alone.scores.customer_id)
    assert sampled.metrics.auc.min() > 0.6


def test_customer_model_without_product_costs_stores_no_margin_and_ranks_by_revenue(small_sample, tmp_path):
    """Without product costs the stored model has no margin and no profit (unknown, not the
    360's zero), value tiers rank by revenue, and every other stored figure is the 360's own."""
    import shutil

    path = tmp_path / "crm.duckdb"
    shutil.copy(small_sample["db_path"], path)
    con = warehouse.connect(path)
    cleanse.run(con, AS_OF)
    con.execute("UPDATE main.sales SET cost = NULL, margin = NULL")
    m = customers.build_customer_model(con, AS_OF, horizon_days=180, seed=42)
    assert m.value == "revenue" and "profit" in m.skipped
    stored = con.execute("SELECT * FROM main.customer_model ORDER BY customer_id").df()
    for col in ("cost_of_goods", "gross_margin", "profit", "profit_12m"):
        assert stored[col].isna().all(), col
    c = customers.customer_360(con, AS_OF)
    assert (c.gross_margin == 0).all()  # the 360 itself says 0 (a sum of nothing): the model empties it
    kept = [col for col in stored.columns if col in c.columns and col not in customers.model.UNKNOWN_WITHOUT_COSTS]
    pd.testing.assert_frame_equal(stored[kept], c[kept].reset_index(drop=True), check_dtype=False)
    mvc = stored[stored.value_tier == "MVC"]
    buyers = stored[~stored.lifecycle_stage.eq("prospect")]
    assert len(mvc) == round(0.2 * len(buyers)) and mvc.revenue.min() >= buyers.revenue.quantile(0.79)


def test_store_360_writes_the_view_in_the_database_and_counts_it_there(small_sample, tmp_path):
    """store_360 writes exactly what customer_360 returns (no pandas round trip), and counts_360
    counts it per stage, type and channel as pandas counts the frame."""
    import shutil

    path = tmp_path / "crm.duckdb"
    shutil.copy(small_sample["db_path"], path)
    con = warehouse.connect(path)
    cleanse.run(con, AS_OF)
    c = customers.customer_360(con, AS_OF)
    assert customers.store_360(con, AS_OF, table="main.c360_test") == len(c)
    stored = con.execute("SELECT * FROM main.c360_test ORDER BY customer_id").df()
    pd.testing.assert_frame_equal(stored, c.reset_index(drop=True), check_dtype=False)
    counts = customers.counts_360(con, "main.c360_test")
    assert customers.counts_360(con, "main.c360_test", date(2000, 1, 1)).empty  # only the rows of that as-of date
    keys = ["lifecycle_stage", "customer_type", "main_channel"]
    expected = c.groupby(keys, dropna=False).size()
    assert counts.set_index(keys).customers.sort_index().to_dict() == expected.sort_index().to_dict()
    assert counts.total_revenue_12m.sum() == pytest.approx(c.revenue_12m.sum())
    assert counts.total_profit.sum() == pytest.approx(c.profit.sum())
    stages = customers.stage_counts(counts, customers.LIFECYCLE_STAGES, "profit")
    assert stages.customers.to_dict() == c.lifecycle_stage.value_counts().reindex(customers.LIFECYCLE_STAGES,
                                                                                   fill_value=0).to_dict()
    pd.testing.assert_frame_equal(customers.stage_by_type(counts, customers.LIFECYCLE_STAGES),
                                  customers.stage_by_type(c, customers.LIFECYCLE_STAGES))


@pytest.fixture(scope="module")
def medium_sample(tmp_path_factory):
    """10,000 customers over 3 years, loaded and cleaned: about 8,000 consumer buyers, enough
    for the CLV parameters to be pinned down (the small sample's 1,200 are not)."""
    from pathlib import Path

    import yaml

    from dbmarketing import ingest, sample

    root = tmp_path_factory.mktemp("medium_sample")
    sample.generate(root / "raw", db_path=root / "crm.duckdb", n_customers=10_000, years=3, seed=7)
    spec = yaml.safe_load((Path(__file__).resolve().parents[1] / "params/sources/sample.yaml").read_text(encoding="utf-8"))
    spec["base_dir"] = str(root / "raw")
    (root / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    con = warehouse.connect(root / "crm.duckdb")
    ingest.load_sources(con, root / "sources.yaml")
    cleanse.run(con, AS_OF)
    yield con
    con.close()


def test_clv_fit_recovers_the_planted_consumer_parameters(medium_sample):
    """BG/NBD and Gamma-Gamma fitted on the cleaned sample against the parameters the simulator
    drew from (truth.parameters). The tolerances are what the data can give at this size:
    r, alpha and the mean spend are well determined; a and b one by one are not (their ratio,
    the mean dropout probability a / (a + b), is), and the simulated process departs from
    BG/NBD on purpose -- seasonality, and complaints that raise the dropout probability --
    which pushes a up by some 10-30% at any sample size (8 samples of 10,000-20,000)."""
    cl = customers.fit_clv(medium_sample, AS_OF)
    rec = customers.clv_recovery(medium_sample, cl).set_index(["customer_type", "parameter"])
    err = rec.relative_error.loc["consumer"]
    assert err[["r", "alpha"]].abs().max() < 0.20, err
    assert err[["a", "b"]].abs().max() < 0.40, err
    fitted, planted = rec.fitted.loc["consumer"], rec.planted.loc["consumer"]
    dropout = fitted["a"] / (fitted["a"] + fitted["b"])
    assert dropout == pytest.approx(planted["a"] / (planted["a"] + planted["b"]), rel=0.12)
    assert abs(err["mean spend p*gamma/(q-1)"]) < 0.10, err
    # the spend model itself is right: refitted on the order values the simulator drew, p, q and
    # gamma come back closely; the realised baskets (whole units, partial returns) move them
    drawn = rec.drawn_error.loc["consumer"]
    assert drawn[["p", "q", "gamma"]].abs().max() < 0.15, drawn


def test_the_clv_holdout_check_of_a_sample_reads_the_sampled_customers_purchases(cleaned_sample, tmp_path):
    """Of more buyers than ``holdout_customers`` the holdout check summarizes a fixed sample:
    exactly the customers whose MD5 (computed here by Python's hashlib) starts below the cut,
    with the same figures as the summary of everybody has for them."""
    import hashlib
    import shutil

    from dbmarketing import rfm
    from dbmarketing.customers import value

    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    try:
        as_of, cal_end = date(2026, 10, 31), date(2026, 1, 31)

        def holdout_summary(share):
            with value._holdout_purchases(con, cal_end, as_of, share) as purchases:
                return rfm.repeat_summary(con, as_of, calibration_end=cal_end, table=purchases, unit="weeks")

        everybody, sampled = holdout_summary(1.0), holdout_summary(0.25)
        cut = format(int(0.25 * 16**8), "08x")
        picked = {c for (c,) in con.execute("SELECT customer_id FROM main.customers").fetchall()
                  if hashlib.md5(c.encode()).hexdigest()[:8] < cut}
        result = customers.fit_clv(con, as_of, holdout_customers=1000)
    finally:
        con.close()
    assert sorted(sampled.index) == sorted(set(everybody.index) & picked)
    assert 0.15 < len(sampled) / len(everybody) < 0.35
    pd.testing.assert_frame_equal(sampled, everybody.loc[sampled.index])
    buyers = len(result.predictions)
    assert result.holdout.attrs["sampled_share"] == pytest.approx(1000 / buyers)
