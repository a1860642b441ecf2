from dbmarketing import customers, db


def test_four_customer_types_hand_made():
    con = db.connect(":memory:")
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
    assert t.loc["A", "orders"] == 1 and t.loc["C", "orders"] == 0
    # the boundary: 2025-10-31 is 365 days before as_of; a purchase on it is no longer current
    con.execute("UPDATE raw.orders SET order_date = DATE '2025-11-01' WHERE order_id = '2'")
    assert customers.customer_types(con, "2026-10-31", 365).set_index("customer_id").loc["B", "customer_type4"] == "current"
    con.execute("UPDATE raw.orders SET order_date = DATE '2025-10-31' WHERE order_id = '2'")
    assert customers.customer_types(con, "2026-10-31", 365).set_index("customer_id").loc["B", "customer_type4"] == "lapsed"


# ----------------------------------------------------------------------------- the customer model
import numpy as np
import pandas as pd
import pytest

AS_OF = "2026-10-31"


def _model_db():
    """An in-memory database with the clean main.* tables the customer model reads, empty."""
    con = db.connect(":memory:")
    con.execute("""CREATE TABLE main.customers (customer_id VARCHAR, customer_type VARCHAR, name VARCHAR, gender VARCHAR,
        birth_date DATE, id_number VARCHAR, phone VARCHAR, email VARCHAR, province VARCHAR, city VARCHAR, address VARCHAR,
        signup_date DATE, signup_channel VARCHAR, consent_mail BOOLEAN, consent_sms BOOLEAN, consent_email BOOLEAN,
        consent_phone BOOLEAN, source_systems VARCHAR, records INTEGER, updated_at TIMESTAMP)""")
    con.execute("""CREATE TABLE main.orders (order_id VARCHAR, order_date DATE, channel VARCHAR, order_type VARCHAR,
        status VARCHAR, original_order_id VARCHAR, city VARCHAR, customer_id VARCHAR, exclude_reason VARCHAR)""")
    con.execute("""CREATE TABLE main.order_lines (order_id VARCHAR, line_no INTEGER, product_id VARCHAR, quantity INTEGER,
        unit_price DOUBLE, amount DOUBLE, exclude_reason VARCHAR)""")
    con.execute("CREATE TABLE main.products (product_id VARCHAR, product_name VARCHAR, category VARCHAR, price DOUBLE, unit_cost DOUBLE)")
    con.execute("INSERT INTO main.products VALUES ('P1', 'big', 'home', 100, 40), ('P2', 'small', 'food', 50, 20)")
    con.execute("""CREATE TABLE main.sales (order_id VARCHAR, customer_id VARCHAR, order_date DATE, channel VARCHAR,
        net_amount DOUBLE, margin DOUBLE)""")
    con.execute("""CREATE TABLE main.service_tickets (ticket_id VARCHAR, customer_id VARCHAR, opened_date DATE,
        ticket_type VARCHAR, satisfaction INTEGER, resolved BOOLEAN)""")
    con.execute("CREATE TABLE main.contacts (campaign_id VARCHAR, customer_id VARCHAR, cell VARCHAR, contact_date DATE)")
    con.execute("""CREATE TABLE main.campaigns (campaign_id VARCHAR, campaign_name VARCHAR, channel VARCHAR, start_date DATE,
        end_date DATE, response_window_days INTEGER, cost_per_contact DOUBLE, offer VARCHAR)""")
    con.execute("""CREATE TABLE main.cities (city VARCHAR, city_en VARCHAR, province VARCHAR, city_tier INTEGER,
        population_m DOUBLE, income_index DOUBLE)""")
    return con


def _add_customers(con, *ids, signup="2024-01-01", ctype="consumer"):
    for i in ids:
        con.execute("INSERT INTO main.customers (customer_id, customer_type, signup_date) VALUES (?, ?, ?)", [i, ctype, signup])


def _sale(con, order_id, customer, day, product="P2", qty=1, status="completed", channel="store"):
    price = {"P1": 100.0, "P2": 50.0}[product]
    con.execute("INSERT INTO main.orders (order_id, order_date, channel, order_type, status, customer_id) VALUES (?, ?, ?, 'sale', ?, ?)",
                [order_id, day, channel, status, customer])
    con.execute("INSERT INTO main.order_lines VALUES (?, 1, ?, ?, ?, ?, NULL)", [order_id, product, qty, price, qty * price])


def _return(con, order_id, original, customer, day, product="P2", qty=1):
    price = {"P1": 100.0, "P2": 50.0}[product]
    con.execute("""INSERT INTO main.orders (order_id, order_date, channel, order_type, status, original_order_id, customer_id)
        VALUES (?, ?, 'store', 'return', 'completed', ?, ?)""", [order_id, day, original, customer])
    con.execute("INSERT INTO main.order_lines VALUES (?, 1, ?, ?, ?, ?, NULL)", [order_id, product, -qty, price, -qty * price])


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
    known = con.execute(f"SELECT order_id, net_amount FROM {customers.purchases_known(con, AS_OF)} ORDER BY 1").fetchall()
    assert dict(known)["y1"] == 50.0 and "x1" not in dict(known) and "c1" not in dict(known) and "z1" not in dict(known)
    life = customers.lifecycle(con, AS_OF).set_index("customer_id")
    assert life.lifecycle_stage.to_dict() == {
        "P": "prospect", "N": "new", "A": "active", "R": "reactivated", "K": "at risk", "L": "lapsed", "L2": "at risk",
        "R180": "at risk", "X": "prospect", "Y": "new", "C": "prospect"}
    assert life.loc["R", "comeback_date"] == pd.Timestamp("2026-06-01")
    # the rules are parameters: with a 90-day at-risk threshold A (recency 91) is at risk
    rules = customers.LifecycleRules(at_risk_days=90)
    assert customers.lifecycle(con, AS_OF, rules).set_index("customer_id").loc["A", "lifecycle_stage"] == "at risk"
    with pytest.raises(ValueError, match="less than lapsed_days"):
        customers.LifecycleRules(at_risk_days=400)


def test_profit_arithmetic():
    con = _model_db()
    _add_customers(con, "A")
    _sale(con, "s1", "A", "2026-03-01", product="P1", qty=2, channel="online")   # 200 revenue, 80 cost
    _return(con, "r1", "s1", "A", "2026-03-10", product="P1", qty=1)             # -100 revenue, -40 cost, one return
    _sale(con, "s2", "A", "2026-06-05", product="P2", qty=1)                     # 50 revenue, 20 cost
    con.execute("INSERT INTO main.sales VALUES ('s2', 'A', DATE '2026-06-05', 'store', 50, 30)")
    con.execute("""INSERT INTO main.service_tickets VALUES ('t1', 'A', DATE '2026-04-01', 'complaint', 2, FALSE),
        ('t2', 'A', DATE '2026-05-01', 'inquiry', 5, TRUE), ('t3', 'A', DATE '2026-11-15', 'complaint', 1, FALSE)""")
    con.execute("""INSERT INTO main.campaigns VALUES ('M1', 'mail', 'direct_mail', DATE '2026-06-01', DATE '2026-06-01', 30, 3.5, ''),
        ('M2', 'sms', 'sms', DATE '2026-07-01', DATE '2026-07-01', 14, 0.1, '')""")
    con.execute("INSERT INTO main.contacts VALUES ('M1', 'A', 'test', DATE '2026-06-01'), ('M2', 'A', 'control', DATE '2026-07-01')")
    costs = customers.ServiceCosts(per_return=15.0, per_ticket={"complaint": 40.0, "inquiry": 8.0})
    row = customers.customer_360(con, AS_OF, costs=costs).set_index("customer_id").loc["A"]
    assert row.revenue == pytest.approx(150.0) and row.gross_amount == pytest.approx(250.0)
    assert row.returned_amount == pytest.approx(100.0)
    assert row.cost_of_goods == pytest.approx(60.0) and row.gross_margin == pytest.approx(90.0)
    assert row.returns == 1 and row.complaints == 1 and row.unresolved_complaints == 1   # t3 is after as_of
    assert row.cost_to_serve == pytest.approx(15.0 + 40.0 + 8.0 + 3.5)                  # control cell costs nothing
    assert row.profit == pytest.approx(90.0 - 66.5)
    assert row.campaigns_contacted == 1 and row.campaigns_responded == 1                # s2 within M1's 30 days
    assert row.share_online == pytest.approx(100 / 150) and row.main_channel == "online"
    assert row.orders == 2 and row.main_category == "home" and row.n_categories == 2


def test_leakage_guard_fails_loudly(monkeypatch):
    con = _model_db()
    _add_customers(con, "A")
    _sale(con, "s1", "A", "2026-03-01")
    con.execute("INSERT INTO main.service_tickets VALUES ('t9', 'A', DATE '2026-12-01', 'complaint', 1, FALSE)")
    customers.customer_360(con, AS_OF)  # the real sources filter by date: no error although later data exists
    leaking = customers.SOURCES["tickets"].replace("AND opened_date <= {A}", "")
    assert leaking != customers.SOURCES["tickets"]
    monkeypatch.setitem(customers.SOURCES, "tickets", leaking)
    with pytest.raises(customers.LeakageError, match="tickets.*2026-12-01"):
        customers.customer_360(con, AS_OF)
    with pytest.raises(customers.LeakageError):  # the churn features go through the same guard
        customers.churn_features(con, AS_OF)


def test_value_tiers_and_pareto():
    m = pd.DataFrame({
        "customer_id": list("ABCDEFGHIJ"),
        "is_prospect": [False] * 9 + [True],
        "profit": [500.0, 300.0, 100.0, 50.0, 40.0, 30.0, 20.0, -10.0, 0.0, 0.0],
        "profit_12m": [200.0, 100.0, 50.0, 10.0, 35.0, 10.0, 5.0, -5.0, 0.0, 0.0],
        "clv": [250.0, 90.0, 60.0, 200.0, 30.0, 80.0, 12.0, 1.0, 0.0, np.nan]})
    tier = customers.value_tiers(m, "clv", mvc_share=0.2, mgc_share=0.2)
    # 9 buyers: MVC = top round(1.8) = 2 by profit; MGC = top 2 by clv - profit_12m among the rest (D: 190, F: 70)
    assert dict(zip(m.customer_id, tier)) == {"A": "MVC", "B": "MVC", "C": "other", "D": "MGC", "E": "other",
                                              "F": "MGC", "G": "other", "H": "BZ", "I": "other", "J": "prospect"}
    p = customers.profit_pareto(m)
    assert p.attrs["total"] == pytest.approx(1030.0)
    assert p.attrs["top20_share"] == pytest.approx(800 / 1030)   # top 2 of 9 buyers (ceil 1.8)
    assert p.attrs["peak_share"] == pytest.approx(1040 / 1030)   # the below-zero customer pulls the curve down
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


def test_churn_helpers():
    assert customers.top_decile_lift([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.9] + [0.1] * 9) == pytest.approx(10.0)
    assert customers.top_decile_lift([0, 1, 0, 1], [0.9, 0.1, 0.2, 0.3]) == pytest.approx(0.0)
    f = pd.DataFrame({"complaints_180d": [1, 0], "unresolved_complaints": [1, 0], "purchase_days": [3, 3],
                      "mean_gap_days": [30.0, 100.0], "recency_days": [60, 50], "orders_12m": [2, 1], "orders": [3, 3],
                      "returns": [0, 0]})
    r = customers.churn_reasons(f)
    assert "complained" in r[0] and "unresolved" in r[0] and "fading recency: 60 days" in r[0]
    assert r[1] == "general pattern (no single reason)"


def test_store_replaces_one_as_of_and_keeps_others():
    con = _model_db()
    cols = list(customers.MODEL_COLUMNS)

    def rows(as_of, ids):
        t = pd.DataFrame({c: [None] * len(ids) for c in cols})
        t["as_of"], t["customer_id"], t["profit"] = pd.Timestamp(as_of), ids, 1.0
        return t

    customers.store_customer_model(con, rows("2026-09-30", ["A", "B"]))
    customers.store_customer_model(con, rows("2026-10-31", ["A"]))
    customers.store_customer_model(con, rows("2026-10-31", ["A", "B", "C"]))
    got = con.execute("SELECT CAST(as_of AS VARCHAR), count(*) FROM main.customer_model GROUP BY 1 ORDER BY 1").fetchall()
    assert got == [("2026-09-30", 2), ("2026-10-31", 3)]
    tiers = db.privacy_tiers(con, "customer_model")
    assert set(tiers) == set(cols) and tiers["profit"] == db.DEEP_PUBLIC and tiers["customer_id"] == db.PUBLIC


def test_customer_model_on_small_sample(small_sample, tmp_path):
    """The whole model on the small sample: one row per customer, the stored table, CLV near the
    planted consumer parameters, a churn model better than chance, reproducible segments."""
    import shutil

    from dbmarketing import clean

    path = tmp_path / "crm.duckdb"
    shutil.copy(small_sample["db_path"], path)
    con = db.connect(path)
    clean.run(con, AS_OF)
    m = customers.build_customer_model(con, AS_OF, horizon_days=180, seed=42)
    n = con.execute(f"SELECT count(*) FROM main.customers WHERE signup_date <= DATE '{AS_OF}' OR customer_id IN "
                    f"(SELECT customer_id FROM main.sales)").fetchall()[0][0]
    assert len(m.table) == n == m.table.customer_id.nunique()
    assert con.execute("SELECT count(*) FROM main.customer_model").fetchall()[0][0] == n
    assert set(m.table.lifecycle_stage) <= set(customers.LIFECYCLE_STAGES)
    assert (m.table.lifecycle_stage == "lapsed").sum() > 0          # lapsed customers are kept
    fit = customers.clv_recovery(con, m.clv).set_index(["customer_type", "parameter"]).relative_error
    assert fit.loc["consumer"].loc[["r", "a", "b"]].abs().max() < 0.5, fit
    assert m.churn.metrics.auc.min() > 0.6
    assert m.churn.scores.churn_risk.between(0, 1).all()
    again = customers.segment(con, AS_OF, seed=42)
    pd.testing.assert_frame_equal(again.labels, m.segments.labels)
