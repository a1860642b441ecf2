"""Campaign response analysis: hand-computed rates, intervals and tests, gains and Qini
arithmetic, uplift on synthetic data with a known answer, the test design, and the next
campaign's selection, exclusions, exports and saving on the small sample."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, norm

from dbmarketing import campaigns, warehouse


# ----------------------------------------------------------------------------- test vs control by hand
def wilson(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_compare_cells_by_hand():
    r = campaigns.compare_cells(60, 500, 30, 500)
    assert (r["test_rate"], r["control_rate"], r["lift"]) == pytest.approx((0.12, 0.06, 0.06))
    assert r["relative_lift"] == pytest.approx(1.0)
    assert r["incremental_responders"] == pytest.approx(30.0)
    # pooled z: p = 90/1000, se = sqrt(p (1-p) (1/500 + 1/500))
    z = 0.06 / math.sqrt(0.09 * 0.91 * (2 / 500))
    assert r["z"] == pytest.approx(z)
    assert r["p_value"] == pytest.approx(2 * norm.sf(z))
    # the same test as a 2 x 2 chi-square without continuity correction: chi2 = z^2
    chi2, p, _, _ = chi2_contingency([[60, 440], [30, 470]], correction=False)
    assert r["z"] ** 2 == pytest.approx(chi2) and r["p_value"] == pytest.approx(p)
    lo1, hi1 = wilson(60, 500)
    lo2, hi2 = wilson(30, 500)
    assert (r["test_rate_low"], r["test_rate_high"]) == pytest.approx((lo1, hi1))
    # Newcombe (1998) method 10: the difference's interval from the two Wilson intervals
    assert r["lift_low"] == pytest.approx(0.06 - math.sqrt((0.12 - lo1) ** 2 + (hi2 - 0.06) ** 2))
    assert r["lift_high"] == pytest.approx(0.06 + math.sqrt((hi1 - 0.12) ** 2 + (0.06 - lo2) ** 2))
    assert r["significant"]


@pytest.fixture
def tiny():
    """One SMS campaign, window 14 days, contacts on 2026-03-01: 4 test customers, 2 control."""
    con = warehouse.connect(":memory:")
    con.execute("""CREATE TABLE main.campaigns AS SELECT * FROM (VALUES
        ('K1', 'spring sms', 'sms', DATE '2026-03-01', DATE '2026-03-01', 14, 0.5, 'coupon'))
        t(campaign_id, campaign_name, channel, start_date, end_date, response_window_days, cost_per_contact, offer)""")
    con.execute("""CREATE TABLE main.contacts AS SELECT * FROM (VALUES
        ('K1', 'A', 'test', DATE '2026-03-01', 'A'), ('K1', 'B', 'test', DATE '2026-03-01', 'B2'),
        ('K1', 'C', 'test', DATE '2026-03-01', 'C'), ('K1', 'D', 'test', DATE '2026-03-01', 'D'),
        ('K1', 'E', 'control', DATE '2026-03-01', 'E'), ('K1', 'F', 'control', DATE '2026-03-01', 'F'))
        t(campaign_id, customer_id, cell, contact_date, source_customer_id)""")
    con.execute("""CREATE TABLE main.sales AS SELECT * FROM (VALUES
        ('o1', 'A', DATE '2026-03-01', 100.0, 40.0),  -- on the contact day: a response
        ('o2', 'A', DATE '2026-03-14', 50.0, 20.0),   -- day 13: still in the window
        ('o3', 'B', DATE '2026-03-15', 80.0, 30.0),   -- day 14: after the window
        ('o4', 'C', DATE '2026-02-28', 70.0, 25.0),   -- before the contact
        ('o5', 'D', DATE '2026-03-05', 30.0, 12.0),
        ('o6', 'E', DATE '2026-03-10', 60.0, 24.0))
        t(order_id, customer_id, order_date, net_amount, margin)""")
    yield con
    con.close()


def test_responses_count_purchases_in_the_window(tiny):
    r = campaigns.responses(tiny).set_index("customer_id")
    assert r.responded.to_dict() == {"A": True, "B": False, "C": False, "D": True, "E": True, "F": False}
    assert (r.loc["A", "response_orders"], r.loc["A", "response_revenue"], r.loc["A", "response_margin"]) == (2, 150, 60)


def test_campaign_results_by_hand(tiny):
    r = campaigns.results(tiny, "K1", min_contacts=1, min_responders=1).iloc[0]
    # test: 2 of 4 responded (A, D); control: 1 of 2 (E)
    assert (r.test_rate, r.control_rate, r.lift) == pytest.approx((0.5, 0.5, 0.0))
    # revenue per test customer (150 + 30) / 4 = 45; per control customer 60 / 2 = 30
    assert r.revenue_per_contact == pytest.approx(45) and r.control_revenue_per_customer == pytest.approx(30)
    assert r.incremental_revenue == pytest.approx((45 - 30) * 4)
    # margin per test customer (60 + 12) / 4 = 18, per control 24 / 2 = 12: incremental (18 - 12) x 4 = 24
    assert r.incremental_margin == pytest.approx(24) and r.cost == pytest.approx(2.0)
    assert r.roi == pytest.approx((24 - 2) / 2)
    # a responder's margin: (60 + 12) / 2 = 36; break-even rate = 0.5 / 36
    assert r.margin_per_responder == pytest.approx(36) and r.break_even_rate == pytest.approx(0.5 / 36)
    small = campaigns.results(tiny, "K1").iloc[0]
    assert small.warning.startswith("too small to trust")
    with pytest.raises(ValueError, match="unknown campaign 'K9'"):
        campaigns.results(tiny, "K9")


# ----------------------------------------------------------------------------- gains and Qini arithmetic
def test_gains_table_by_hand():
    y = [1, 1, 0, 1, 0, 0, 0, 1, 0, 0]
    score = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    g = campaigns.gains_table(y, score, groups=5).set_index("group")
    assert g.customers.tolist() == [2, 2, 2, 2, 2]
    assert g.responders.tolist() == [2, 1, 0, 1, 0]
    assert g.gain.tolist() == pytest.approx([0.5, 0.75, 0.75, 1.0, 1.0])
    assert g.lift.tolist() == pytest.approx([2.5, 1.25, 0.0, 1.25, 0.0])  # rate 1.0 / 0.4, ...
    assert g.cum_lift.iloc[1] == pytest.approx(0.75 / 0.4)
    # tied scores never split: four equal top scores all go to group 1
    t = campaigns.gains_table([1, 0, 0, 1, 0, 1], [5, 5, 5, 5, 1, 0], groups=3).set_index("group")
    # (positions 0-1 make group 1, 2-3 group 2, 4-5 group 3; a tie takes its first member's group)
    assert t.customers.tolist() == [4, 0, 2] and t.responders.tolist() == [2, 0, 1]


def test_qini_curve_and_coefficient_by_hand():
    # 4 treated (t) and 4 control (c) customers, best score first
    treated = [1, 1, 0, 1, 0, 0, 1, 0]
    responded = [1, 1, 0, 0, 0, 1, 0, 1]
    score = [8, 7, 6, 5, 4, 3, 2, 1]
    c = campaigns.qini_curve(responded, treated, score)
    # after k customers: R_t - R_c * N_t / N_c, the second term 0 while no control customer is
    # targeted (scikit-uplift's qini_curve); worked through customer by customer:
    expected = [0,
                1, 2,                      # two treated responders, no control customer yet
                2 - 0 * 2 / 1,             # a control non-responder
                2 - 0 * 3 / 1, 2 - 0 * 3 / 2,
                2 - 1 * 3 / 3,             # a control responder
                2 - 1 * 4 / 3, 2 - 2 * 4 / 4]
    assert c.incremental.tolist() == pytest.approx(expected)
    assert c.share.tolist() == pytest.approx([k / 8 for k in range(9)])
    q = campaigns.qini_coefficient(responded, treated, score)
    # area under the curve (trapezoids over shares of 1/8) minus the diagonal to the end point (0)
    area = sum((a + b) / 2 for a, b in zip(expected, expected[1:])) / 8
    assert q["area"] == pytest.approx(area) == pytest.approx(10.6667 / 8, abs=1e-4)
    # perfect ranking (treated responders 1, control responders -1, others 0): three tie groups,
    # after 2 customers 2, after 6 customers 2 - 0 = 2, after 8 customers 0: area (2 + 8 + 2) / 8
    assert q["perfect_area"] == pytest.approx(12 / 8)
    assert q["qini"] == pytest.approx(10.6667 / 12, abs=1e-4)
    perfect = [t * y - (1 - t) * y for t, y in zip(treated, responded)]
    assert campaigns.qini_coefficient(responded, treated, perfect)["qini"] == pytest.approx(1.0)
    assert campaigns.qini_coefficient(responded, treated, [-s for s in score])["qini"] < 0


# ----------------------------------------------------------------------------- uplift with a known answer
def synthetic_campaign(n=6000, seed=1):
    """Half the customers (orders_12m = 3) gain +12 points from the contact, the other half
    (orders_12m = 0) nothing; both respond 5% of the time without contact. 30% control."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f: 0.0 for f in campaigns.MODEL_FEATURES}, index=range(n))
    persuadable = rng.random(n) < 0.5
    frame["orders_12m"] = np.where(persuadable, 3.0, 0.0)
    frame["age"] = 40.0
    frame["channel"] = "sms"
    treated = rng.random(n) < 0.7
    p = 0.05 + 0.12 * (persuadable & treated)
    responded = rng.random(n) < p
    return frame, treated, responded, persuadable


@pytest.mark.parametrize("make", [lambda: campaigns.InteractionUplift(seed=0),
                                  lambda: campaigns.TwoModelUplift("logistic", seed=0)])
def test_uplift_models_recover_a_planted_uplift(make):
    frame, treated, responded, persuadable = synthetic_campaign()
    model = make().fit(frame, treated, responded)
    u = model.predict(frame)
    assert u[persuadable].mean() == pytest.approx(0.12, abs=0.03)
    assert u[~persuadable].mean() == pytest.approx(0.0, abs=0.03)
    assert model.predict_response(frame)[persuadable].mean() == pytest.approx(0.17, abs=0.03)
    q = campaigns.qini_coefficient(responded, treated, u)["qini"]
    assert q > campaigns.qini_coefficient(responded, treated, -u)["qini"]


def test_uplift_learners_accept_any_scikit_learn_classifier():
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    frame, treated, responded, persuadable = synthetic_campaign(n=2000)
    # the defaults, given as estimators, give the same uplift as the defaults themselves
    default = campaigns.InteractionUplift(seed=0).fit(frame, treated, responded).predict(frame)
    given = LogisticRegression(C=0.1, max_iter=5000, random_state=0)
    model = campaigns.InteractionUplift(estimator=given).fit(frame, treated, responded)
    assert np.array_equal(model.predict(frame), default)
    with pytest.raises(NotFittedError):  # copied, never fitted itself
        check_is_fitted(given)
    pipeline = campaigns.models._classifier("logistic", 0)
    two = campaigns.TwoModelUplift(clone(pipeline)).fit(frame, treated, responded)
    assert np.array_equal(two.predict(frame), campaigns.TwoModelUplift("logistic", 0).fit(
        frame, treated, responded).predict(frame))
    assert two.treated_model_ is not two.control_model_
    # any other classifier with predict_proba
    u = campaigns.TwoModelUplift(LogisticRegression(max_iter=2000)).fit(frame, treated, responded).predict(frame)
    assert u[persuadable].mean() > u[~persuadable].mean()
    with pytest.raises(TypeError, match="predict_proba"):
        campaigns.InteractionUplift(estimator=object()).fit(frame, treated, responded)


def test_uplift_model_needs_both_cells():
    frame, treated, responded, _ = synthetic_campaign(n=400)
    with pytest.raises(ValueError, match="the control cell has 0 customers"):
        campaigns.InteractionUplift().fit(frame, np.ones(len(frame), bool), responded)


# ----------------------------------------------------------------------------- test design
def test_sample_size_matches_the_published_figure():
    # Fleiss (1981) without continuity correction; Evan Miller's calculator gives 8,158 per
    # cell for a 5% base rate, +1 point, 80% power, 5% two-sided
    n = campaigns.sample_size(0.05, 0.01)
    assert (n["test"], n["control"]) == (8158, 8158)
    assert campaigns.sample_size(0.05, 0.2, relative=True)["test"] == 8158
    # unequal cells: the smallest test cell reaching the power (same normal approximation)
    m = campaigns.sample_size(0.05, 0.01, control_share=0.2)
    assert m["control"] == math.ceil(m["test"] * 0.25 - 1e-9)
    assert campaigns.power_of_test(0.05, 0.01, m["test"], 0.25 * m["test"]) >= 0.8
    assert campaigns.power_of_test(0.05, 0.01, m["test"] - 1, 0.25 * (m["test"] - 1)) < 0.8
    # and the inverse: with 8,158 per cell the detectable lift is one point
    assert campaigns.minimum_detectable_lift(0.05, 8158, 8158) == pytest.approx(0.01, abs=2e-5)
    with pytest.raises(ValueError):
        campaigns.sample_size(0.05, 0.0)


def test_assign_cells_is_stratified_and_seeded():
    frame = pd.DataFrame({"segment": ["A"] * 50 + ["B"] * 30 + ["C"] * 3})
    cells = campaigns.assign_cells(frame, 0.2, strata="segment", seed=7)
    counts = pd.crosstab(frame.segment, cells)
    assert counts.control.to_dict() == {"A": 10, "B": 6, "C": 1}
    assert cells.equals(campaigns.assign_cells(frame, 0.2, strata="segment", seed=7))
    assert not cells.equals(campaigns.assign_cells(frame, 0.2, strata="segment", seed=8))


# ----------------------------------------------------------------------------- on the small sample
@pytest.fixture(scope="module")
def cleaned(cleaned_sample, tmp_path_factory):
    path = tmp_path_factory.mktemp("campaigns") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    features = campaigns.contact_features(con)
    yield con, features
    con.close()


def test_features_are_taken_before_each_campaign(cleaned):
    con, f = cleaned
    starts = dict(con.execute("SELECT campaign_id, start_date FROM main.campaigns").fetchall())
    for cid, day in f.groupby("campaign_id").snapshot_date.first().items():
        assert day < starts[cid]
    # the customer's campaign history stops before the campaign: its own contact is not counted
    first = min(starts, key=starts.get)
    assert (f[f.campaign_id == first].campaigns_contacted == 0).all()
    # every contact of the batch campaigns; the trigger campaigns (TRG-..., chapter 06) are measured there
    assert len(f) == con.execute("SELECT count(*) FROM main.contacts WHERE customer_id IS NOT NULL "
                                 "AND campaign_id NOT LIKE 'TRG-%'").fetchall()[0][0]


def test_features_see_nothing_on_or_after_the_campaign(cleaned):
    con, f = cleaned
    assert (f.last_purchase.dropna().dt.date <= f.loc[f.last_purchase.notna(), "snapshot_date"]).all()
    # orders and revenue at the snapshot: at most what was bought (gross) up to that day
    bought = con.execute("""
        SELECT f.campaign_id, f.customer_id, count(s.order_id) AS n, coalesce(sum(s.gross_amount), 0) AS gross
        FROM f LEFT JOIN (SELECT * FROM main.sales UNION ALL SELECT * FROM main.sales_returned) s
          ON s.customer_id = f.customer_id AND s.order_date <= f.snapshot_date
        GROUP BY ALL""").df().set_index(["campaign_id", "customer_id"])
    g = f.set_index(["campaign_id", "customer_id"]).join(bought)
    assert (g.orders <= g.n).all() and (g.revenue <= g.gross + 1e-6).all()
    # a customer's earlier campaigns: contacts (test cell) dated before the snapshot, never the campaign itself
    earlier = con.execute("""
        SELECT f.campaign_id, f.customer_id, count(c.campaign_id) AS n FROM f
        LEFT JOIN main.contacts c ON c.customer_id = f.customer_id AND c.cell = 'test' AND c.contact_date <= f.snapshot_date
        GROUP BY ALL""").df().set_index(["campaign_id", "customer_id"])
    assert (g.campaigns_contacted == earlier.n.reindex(g.index)).all()


def test_results_as_of_a_day_inside_a_window(cleaned):
    con, _ = cleaned
    last = campaigns.campaign_list(con).iloc[-1]
    day = last.start_date + pd.Timedelta(days=3)
    early = campaigns.results(con, last.campaign_id, as_of=day, min_contacts=1, min_responders=1).iloc[0]
    final = campaigns.results(con, last.campaign_id, min_contacts=1, min_responders=1).iloc[0]
    assert "response window open" in early.warning and "open" not in final.warning
    assert early.test_responders <= final.test_responders
    # what is counted on that day: purchases in the window up to that day only
    counted = con.execute("""
        SELECT count(DISTINCT c.customer_id) FROM main.contacts c JOIN main.sales s ON s.customer_id = c.customer_id
        WHERE c.campaign_id = ? AND c.cell = 'test' AND s.order_date >= c.contact_date AND s.order_date <= ?
          AND s.order_date < c.contact_date + (SELECT response_window_days FROM main.campaigns WHERE campaign_id = ?)
          AND c.contact_date <= ?""", [last.campaign_id, day.date(), last.campaign_id, day.date()]).fetchall()[0][0]
    assert early.test_responders == counted


def test_a_cell_without_responders():
    r = campaigns.compare_cells(0, 500, 0, 400)
    assert (r["test_rate"], r["lift"], r["p_value"]) == (0.0, 0.0, 1.0) and not r["significant"]
    assert -1e-12 < r["test_rate_low"] <= 1e-12 and r["test_rate_high"] == pytest.approx(wilson(0, 500)[1])


def test_uplift_on_the_sample_correlates_with_the_planted_truth(cleaned):
    con, f = cleaned
    um = campaigns.uplift_model(f, seed=3)
    truth = campaigns.uplift_against_truth(con, um.holdout)
    assert truth["customers"] > 100
    assert truth["spearman"] > 0.1  # planted: uplift rises with recency, frequency, city tier


@pytest.fixture(scope="module")
def plan(cleaned):
    con, f = cleaned
    um = campaigns.uplift_model(f, seed=3)
    # a customer who would be chosen goes onto the do-not-contact list
    first = campaigns.select_targets(con, "2026-10-31", "email", um.model, 150.0, 0.5)
    blocked, other = first.targets.customer_id.iloc[0], first.targets.customer_id.iloc[1]
    listed = set(campaigns.suppressed(con, "email").customer_id)
    assert blocked not in listed and other not in listed
    # one entry for every channel, one for calls only (it must not keep the customer from e-mail)
    con.execute("""INSERT INTO main.suppressions (entry, customer_id, matched_by, channel, reason) VALUES
                   (-1, ?, 'customer number', NULL, 'asked not to be contacted'),
                   (-2, ?, 'phone', 'outbound_call', 'do-not-call registry')""", [blocked, other])
    p = campaigns.select_targets(con, "2026-10-31", "email", um.model, 150.0, 0.5, capacity=20, control_share=0.25)
    con.execute("DELETE FROM main.suppressions WHERE entry < 0")
    assert other in set(p.targets.customer_id)  # a calls-only entry does not stop an e-mail
    return p, blocked, listed


def test_selection_excludes_and_counts_consent_contact_point_and_suppression(cleaned, plan):
    con, _ = cleaned
    p, blocked, listed = plan
    excluded = p.excluded.set_index("reason").customers
    people = con.execute("SELECT customer_id, consent_email, email FROM main.customers WHERE customer_type = 'consumer'").df()
    no_consent = int((~people.consent_email.fillna(False).astype(bool)).sum())
    assert excluded["no email consent"] == no_consent
    assert excluded["no email to reach"] == int((people.consent_email.fillna(False).astype(bool) & people.email.isna()).sum())
    # the loaded list (complaints, unsubscribes) among the consenting and reachable, plus the entry added
    reachable = set(people[people.consent_email.fillna(False).astype(bool) & people.email.notna()].customer_id)
    assert excluded["on the do-not-contact list"] == len(listed & reachable) + 1
    assert blocked not in set(p.targets.customer_id) and not (listed & set(p.targets.customer_id))
    other = con.execute("SELECT customer_id FROM main.suppressions WHERE entry = -2").fetchall()
    assert other == []  # the fixture removed its two entries again
    chosen = people.set_index("customer_id").loc[p.targets.customer_id]
    assert chosen.consent_email.all() and chosen.email.notna().all()
    # capacity 20 contacts with a quarter held out: the best 26 (20 / 0.75) are drawn into cells,
    # at most 20 of them contacted, about a quarter held out (rounded within each segment)
    assert p.summary["contacts"] <= 20 and p.summary["selected"] == p.summary["contacts"] + p.summary["control"]
    assert 4 <= p.summary["control"] <= 9
    # every customer scored is either selected or left out for one counted reason
    assert excluded["customers scored"] == excluded.drop("customers scored").sum() + p.summary["selected"]
    assert (p.targets.expected_profit > 0).all()
    assert p.targets.expected_profit.is_monotonic_decreasing


def test_export_holds_only_the_test_cell_and_the_columns_the_clearance_allows(cleaned, plan, tmp_path):
    con, _ = cleaned
    p = plan[0]
    path, dropped = campaigns.export_list(con, p, tmp_path / "list.csv", clearance=2)
    low = pd.read_csv(path, encoding="utf-8-sig")
    assert set(dropped) == {"name", "email"} and "email" not in low.columns and "name" not in low.columns
    assert set(low.customer_id) == set(p.targets[p.targets.cell == "test"].customer_id)
    path3, dropped3 = campaigns.export_list(con, p, tmp_path / "list.xlsx", clearance=3)
    high = pd.read_excel(path3)
    assert dropped3 == [] and high.email.str.contains("@").all() and len(high) == len(low)


@pytest.mark.parametrize("channel, point", [("email", "email"), ("sms", "phone"), ("direct_mail", "address")])
def test_contact_list_runs_no_formula_from_customer_data(cleaned, plan, tmp_path, channel, point):
    """Formulas in every column of the contact list (customer number, name, the contact point,
    city, segment) are written as text in .csv and .xlsx, at clearance 2 and 4."""
    import dataclasses

    from spreadsheets import HOSTILE, live_cells

    con, _ = cleaned
    p = plan[0]
    test = p.targets[p.targets.cell == "test"]
    ids = test.customer_id.head(len(HOSTILE)).tolist()
    people = con.execute("SELECT customer_id, name, phone, email, address, city FROM main.customers "
                         "WHERE customer_id IN (SELECT unnest(?))", [ids]).df()
    hostile_people = people.assign(customer_id=[h + i for h, i in zip(HOSTILE, people.customer_id)],
                                   name=HOSTILE[1], phone=HOSTILE[2], email=HOSTILE[3], address=HOSTILE[4], city=HOSTILE[0])
    renamed = dict(zip(people.customer_id, hostile_people.customer_id))
    targets = p.targets[p.targets.customer_id.isin(ids)].assign(
        customer_id=lambda t: t.customer_id.map(renamed), segment=HOSTILE[5])
    con.execute("BEGIN TRANSACTION")  # undone below: the fixture's database is shared by the module
    try:
        con.register("_hostile", hostile_people)
        con.execute("INSERT INTO main.customers BY NAME SELECT * FROM _hostile")
        hostile = dataclasses.replace(p, channel=channel, targets=targets)
        for clearance in (2, 4):
            for suffix in (".csv", ".xlsx"):
                path, dropped = campaigns.export_list(con, hostile, tmp_path / f"l{clearance}{suffix}", clearance)
                assert live_cells(path) == [], (clearance, suffix)
                back = (pd.read_csv(path, dtype=str, encoding="utf-8-sig") if suffix == ".csv"
                        else pd.read_excel(path, dtype=str))
                assert len(back) == len(ids) and back.customer_id.str.startswith("'").all()
                if clearance == 4:
                    assert dropped == [] and (back[point] == "'" + hostile_people[point].iloc[0]).all()
    finally:
        con.execute("ROLLBACK")
        con.unregister("_hostile")


def test_saved_campaign_is_loaded_and_refused_twice(cleaned, plan, tmp_path):
    con, _ = cleaned
    p = plan[0]
    saved = campaigns.save_campaign(con, p, "NEXT01", "next e-mail", "2026-11-15", tmp_path, response_window_days=14,
                                    cost_per_contact=0.5, offer="10% off")
    assert saved["loads"]["contacts"].rows_loaded == len(p.targets)
    cells = dict(con.execute("SELECT cell, count(*) FROM main.contacts WHERE campaign_id = 'NEXT01' GROUP BY 1").fetchall())
    assert cells == p.targets.cell.value_counts().to_dict()
    assert con.execute("SELECT count(*) FROM raw.contacts WHERE campaign_id = 'NEXT01'").fetchall()[0][0] == len(p.targets)
    with pytest.raises(ValueError, match="already in the database"):
        campaigns.save_campaign(con, p, "NEXT01", "again", "2026-11-15", tmp_path)
    # on the data's end (31 October) nobody has been contacted yet; on 20 November the window is open
    assert "no contact" in campaigns.results(con, "NEXT01").warning.iloc[0]
    assert "response window open" in campaigns.results(con, "NEXT01", as_of="2026-11-20").warning.iloc[0]
    # models and past figures learn only from campaigns whose windows have closed
    assert "NEXT01" not in campaigns.closed_campaigns(con, "2026-11-20")
    assert "NEXT01" not in set(campaigns.contact_features(con, as_of="2026-11-20").campaign_id)


# ----------------------------------------------------------------------------- a campaign export with several arms
def write_export(path, rows, encoding="utf-8"):
    header = "group,bought,spend,region\n"
    path.write_bytes((header + "".join(",".join(map(str, r)) + "\n" for r in rows)).encode(encoding))


def test_several_arms_against_one_control_by_hand(tmp_path):
    rows = ([("A", 1, 10.0, "north")] * 30 + [("A", 0, 0, "south")] * 70 +      # arm A: 30 of 100 bought
            [("B", 1, 20.0, "north")] * 12 + [("B", 0, 0, "south")] * 88 +      # arm B: 12 of 100
            [("none", 1, 10.0, "north")] * 10 + [("none", 0, 0, "south")] * 90)  # control: 10 of 100
    write_export(tmp_path / "test.csv", rows, encoding="gbk")
    (tmp_path / "map.yaml").write_text(f"path: {tmp_path / 'test.csv'}\ngroup: group\ncontrol: none\nresponded: bought\n"
                                       "spend: spend\ncost_per_contact: 0.5\nattributes: [region]\n", encoding="utf-8")
    cf = campaigns.read_campaign_file(tmp_path / "map.yaml")
    r = campaigns.arm_results(cf, min_contacts=1, min_responders=1).set_index("arm")
    assert r.loc["A", "lift"] == pytest.approx(0.20) and r.loc["B", "lift"] == pytest.approx(0.02)
    # the same z-test as for one campaign, then Holm: the smaller p-value x 2, the larger x 1 (kept monotone)
    pa = campaigns.compare_cells(30, 100, 10, 100)["p_value"]
    pb = campaigns.compare_cells(12, 100, 10, 100)["p_value"]
    assert r.loc["A", "p_holm"] == pytest.approx(min(1, 2 * pa)) and r.loc["B", "p_holm"] == pytest.approx(max(pb, 2 * pa))
    assert bool(r.loc["A", "significant"]) and not bool(r.loc["B", "significant"])
    # spend: A 300 / 100 = 3 a customer, control 100 / 100 = 1: incremental (3 - 1) x 100 = 200, cost 50
    assert r.loc["A", "incremental_spend"] == pytest.approx(200) and r.loc["A", "return_on_cost"] == pytest.approx(3.0)
    by = campaigns.arm_results(cf, by="region", min_contacts=1, min_responders=0)
    north = by[(by.region == "north") & (by.arm == "A")].iloc[0]
    assert north.arm_rate == 1.0 and north.control_rate == 1.0  # within a level everybody bought


def test_campaign_file_errors_name_file_line_and_column(tmp_path):
    write_export(tmp_path / "bad.csv", [("A", 1, 5, "x"), ("none", "maybe", 0, "y"), ("A", 0, "12.5O", "x")])
    (tmp_path / "map.yaml").write_text(f"path: {tmp_path / 'bad.csv'}\ngroup: group\ncontrol: none\nresponded: bought\n"
                                       "spend: spend\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv, column 'bought': not a yes/no value at line 3 \('maybe'\)"):
        campaigns.read_campaign_file(tmp_path / "map.yaml")
    write_export(tmp_path / "bad2.csv", [("A", 1, 5, "x"), ("none", 0, 0, "y"), ("A", 0, "12.5O", "x")])
    (tmp_path / "map1.yaml").write_text(f"path: {tmp_path / 'bad2.csv'}\ngroup: group\ncontrol: none\nresponded: bought\n"
                                        "spend: spend\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad2.csv, line 4, column 'spend': not a number: '12.5O'"):
        campaigns.read_campaign_file(tmp_path / "map1.yaml")
    (tmp_path / "map2.yaml").write_text(f"path: {tmp_path / 'bad.csv'}\ngroup: group\ncontrol: nobody\nresponded: bought\n",
                                        encoding="utf-8")
    with pytest.raises(ValueError, match="no customer in the control arm 'nobody'"):
        campaigns.read_campaign_file(tmp_path / "map2.yaml")
    (tmp_path / "map3.yaml").write_text(f"path: {tmp_path / 'bad.csv'}\ngroup: arm\ncontrol: none\nresponded: bought\n",
                                        encoding="utf-8")
    with pytest.raises(ValueError, match="column\\(s\\) 'arm' not in the file"):
        campaigns.read_campaign_file(tmp_path / "map3.yaml")
    (tmp_path / "map4.yaml").write_text("path: bad.csv\ngroup: group\n control: none\n", encoding="utf-8")
    with pytest.raises(ValueError) as error:  # `control:` indented by mistake: a YAML error on line 3
        campaigns.read_campaign_file(tmp_path / "map4.yaml")
    assert str(error.value).startswith(f"{tmp_path / 'map4.yaml'}, line 3, column ") and "\n" not in str(error.value)


def test_sample_email_test_recovers_the_planted_lifts(small_sample):
    cf = campaigns.read_campaign_file(small_sample["campaign_file"])
    con = warehouse.connect(small_sample["db_path"], read_only=True)
    truth = con.execute("SELECT * FROM truth.email_test ORDER BY line").df()
    con.close()
    assert len(truth) == len(cf.frame) and (truth.arm.to_numpy() == cf.frame.arm.to_numpy()).all()
    r = campaigns.arm_results(cf, "visit").set_index("arm")
    for arm, col in (("Mens E-Mail", "p_visit_mens"), ("Womens E-Mail", "p_visit_womens")):
        true_lift = (truth[col] - truth.p_visit_none).mean()
        se = (r.loc[arm, "lift_high"] - r.loc[arm, "lift_low"]) / (2 * 1.96)
        assert abs(r.loc[arm, "lift"] - true_lift) < 3 * se, (arm, r.loc[arm, "lift"], true_lift)
    # planted: the men's e-mail works mainly for customers who bought men's merchandise
    by = campaigns.arm_results(cf, "visit", by="mens").set_index(["mens", "arm"])
    assert by.loc[("1", "Mens E-Mail"), "lift"] > by.loc[("0", "Mens E-Mail"), "lift"]


def test_holdouts_never_split_a_customer_and_can_be_out_of_time(cleaned):
    _, f = cleaned
    y = f.responded.astype(int).to_numpy()
    train, hold = campaigns.models._split(f, y, "customers", 0.3, seed=1)
    assert not set(f.customer_id.iloc[train]) & set(f.customer_id.iloc[hold])
    assert 0.2 < len(hold) / len(f) < 0.45
    train, hold = campaigns.models._split(f, y, "latest", 0.3, seed=1)
    newest = f.groupby("campaign_id").contact_date.min().idxmax()
    assert set(f.campaign_id.iloc[hold]) == {newest} and newest not in set(f.campaign_id.iloc[train])


def test_holm_adjusts_as_statsmodels_does():
    from statsmodels.stats.multitest import multipletests

    from dbmarketing.campaigns.measurement import holm

    assert list(holm([0.04, 0.01, 0.02])) == pytest.approx([0.04, 0.03, 0.04])  # by hand: 3x0.01, 2x0.02, 1x0.04
    rng = np.random.default_rng(5)
    for p in [rng.uniform(0, 0.2, 12), np.array([0.5, 0.5, 0.01, 1.0, 0.3]), np.array([0.02]), np.array([])]:
        assert list(holm(p)) == pytest.approx(list(multipletests(p, method="holm")[1]))
