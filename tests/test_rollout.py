"""Test, then roll out: the decision rule on hand-computed figures (met, unclear, below, no
control), a pilot whose strata have the population's shares, the roll-out list as the eligible
minus the pilot through the contact policy, and the sample's planted pilot read back."""

from __future__ import annotations

import math

import numpy as np
from pathlib import Path

import pandas as pd
import pytest

from dbmarketing import campaigns, sample, warehouse
from dbmarketing.sample.campaigns import PILOT_ID


def wilson(k, n, z=1.959963984540054):
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe(k1, n1, k2, n2):
    """Newcombe (1998) method 10, from the two Wilson intervals."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def test_decision_rule_by_hand():
    # 60 of 500 contacted responded, 30 of 500 held out: lift 6 points, interval about 2.46 to 9.60 points
    reading = campaigns.compare_cells(60, 500, 30, 500)
    low, high = newcombe(60, 500, 30, 500)
    assert (reading["lift_low"], reading["lift_high"]) == pytest.approx((low, high))
    assert 0.024 < low < 0.025 and 0.095 < high < 0.097
    # a contact costs 2, an extra responder brings 100: break-even lift 2 points, below the low end: met
    rule = campaigns.decision_rule(100.0, 2.0)
    assert rule.break_even_lift == pytest.approx(0.02)
    met = campaigns.decide(rule, reading)
    assert met["met"] and met["why"] == "met"
    assert met["profit_per_contact_low"] == pytest.approx(low * 100 - 2)
    # costs 3: break-even 3 points, inside the interval: not met, the pilot cannot tell
    unclear = campaigns.decide(campaigns.decision_rule(100.0, 3.0), reading)
    assert not unclear["met"] and unclear["why"] == "unclear"
    # costs 10: break-even 10 points, above the whole interval: the offer does not pay
    below = campaigns.decide(campaigns.decision_rule(100.0, 10.0), reading)
    assert not below["met"] and below["why"] == "below"
    # at exactly the low end the rule is not met (it asks for more than break-even)
    edge = campaigns.decide(campaigns.DecisionRule(1.0, reading["lift_low"]), reading)
    assert not edge["met"]
    # nobody held out: no lift to judge
    assert campaigns.decide(rule, campaigns.compare_cells(10, 100, 0, 0))["why"] == "no_control"
    with pytest.raises(ValueError, match="no lift can pay"):
        campaigns.decision_rule(2.0, 2.0)
    with pytest.raises(ValueError, match="margin_per_response must be a number > 0"):
        campaigns.decision_rule(0.0, 1.0)


def _population(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    segment = np.repeat(["Champions", "Loyal", "At risk", "Lost"], [500, 300, 150, 50])
    return pd.DataFrame({"customer_id": [f"C{i:04d}" for i in range(n)], "segment": segment,
                         "city_tier": rng.choice([1, 2, 3], n, p=[0.2, 0.5, 0.3])})


def test_pilot_strata_have_the_population_shares():
    pop = _population()
    pilot = campaigns.draw_pilot(pop, 200, strata=["segment"], control_share=0.2, seed=4)
    assert len(pilot) == 200 and set(pilot.customer_id) <= set(pop.customer_id) and pilot.customer_id.is_unique
    # a fifth of the population in every segment: 100, 60, 30, 10
    assert pilot.segment.value_counts().to_dict() == {"Champions": 100, "Loyal": 60, "At risk": 30, "Lost": 10}
    # a fifth of the pilot held out, a fifth of every segment
    held = pilot[pilot.cell == "control"].segment.value_counts().to_dict()
    assert held == {"Champions": 20, "Loyal": 12, "At risk": 6, "Lost": 2}
    shares = campaigns.strata_shares(pop, pilot, ["segment"]).set_index("level")
    assert np.allclose(shares.population_share, shares.pilot_share)
    # two strata together: every segment x tier cell within one customer of its proportional share
    both = campaigns.draw_pilot(pop, 250, strata=["segment", "city_tier"], seed=4)
    want = pop.groupby(["segment", "city_tier"]).size() * 250 / 1000
    got = both.groupby(["segment", "city_tier"]).size().reindex(want.index, fill_value=0)
    assert (abs(got - want) < 1).all() and got.sum() == 250
    # seeded: the same draw again, another seed another draw
    assert campaigns.draw_pilot(pop, 200, ["segment"], seed=4).equals(pilot)
    assert not campaigns.draw_pilot(pop, 200, ["segment"], seed=5).customer_id.equals(pilot.customer_id)
    with pytest.raises(ValueError, match="smaller than the population"):
        campaigns.draw_pilot(pop, 1000)


def test_rollout_list_is_the_eligible_minus_the_pilot_through_the_policy():
    con = warehouse.connect(":memory:")
    ids = [f"C{i:02d}" for i in range(20)]
    con.execute("""CREATE TABLE main.customers AS SELECT customer_id, true AS consent_mail, true AS consent_sms,
                   true AS consent_email, true AS consent_phone, 'street' AS address, '138' AS phone, 'e@x' AS email,
                   'N' || customer_id AS name, 'Shanghai' AS city
                   FROM unnest(?) t(customer_id)""", [ids])
    con.execute("""CREATE TABLE main.campaigns AS SELECT * FROM (VALUES ('P1', 'direct_mail', DATE '2026-09-01'),
                   ('M1', 'direct_mail', DATE '2026-10-20')) t(campaign_id, channel, start_date)""")
    # the pilot (P1) long ago; C10 and C11 got a mailing 11 days before the roll-out, C12 was held out of it
    con.execute("""CREATE TABLE main.contacts AS SELECT * FROM (VALUES
        ('P1', 'C00', 'test', DATE '2026-09-01'), ('P1', 'C01', 'test', DATE '2026-09-01'),
        ('P1', 'C02', 'control', DATE '2026-09-01'),
        ('M1', 'C10', 'test', DATE '2026-10-20'), ('M1', 'C11', 'test', DATE '2026-10-20'),
        ('M1', 'C12', 'control', DATE '2026-10-20')) t(campaign_id, customer_id, cell, contact_date)""")
    con.execute("""CREATE TABLE main.suppressions AS SELECT * FROM (VALUES
        (1, 'C13', 'customer number', NULL, 'complaint')) t(entry, customer_id, matched_by, channel, reason)""")
    population = pd.DataFrame({"customer_id": ids, "segment": ["Loyal"] * 20})
    policy = {"caps": {"direct_mail": {"contacts": 1, "days": 30}}}
    plan = campaigns.rollout_list(con, population, ["C00", "C01", "C02"], "2026-10-31", "direct_mail", policy=policy,
                                  expected_profit=1.5, holdout_share=0)
    # 20 eligible - 3 in the pilot - 2 mailed within 30 days - 1 on the do-not-contact list
    assert sorted(plan.targets.customer_id) == sorted(set(ids) - {"C00", "C01", "C02", "C10", "C11", "C13"})
    assert (plan.targets.cell == "test").all() and (plan.targets.expected_profit == 1.5).all()
    excluded = plan.excluded.set_index("reason").customers.to_dict()
    assert excluded == {"eligible customers": 20, "in the pilot (either cell)": 3, "on the do-not-contact list": 1,
                        "frequency cap: 1 direct mail contacts in 30 days": 2}
    assert plan.summary["contacts"] == 14 and plan.summary["control"] == 0
    # a hold-out of the roll-out: a quarter of the 14, drawn within the segments, never written to the list
    population["segment"] = ["Loyal"] * 10 + ["At risk"] * 10
    held = campaigns.rollout_list(con, population, ["C00", "C01", "C02"], "2026-10-31", "direct_mail", policy=policy,
                                  holdout_share=0.25, seed=7)
    assert sorted(held.targets.customer_id) == sorted(plan.targets.customer_id)
    cells = held.targets.groupby("segment").cell.value_counts().unstack(fill_value=0)
    # Loyal: C03-C09 (7), At risk: C12, C14-C19 (7); 0.25 x 7 = 1.75 each -> 2 control each (3.5 in all -> 4)
    assert cells.control.to_dict() == {"At risk": 2, "Loyal": 2} and held.summary == {**held.summary, "contacts": 10,
                                                                                        "control": 4}
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = campaigns.export_list(con, held, Path(folder) / "rollout.csv", clearance=4)[0]
        written = pd.read_csv(path, encoding="utf-8-sig")
    assert sorted(written.customer_id) == sorted(held.targets.customer_id[held.targets.cell == "test"])
    con.close()


def test_the_sample_pilot_is_read_back(cleaned_sample):
    con = warehouse.connect(cleaned_sample, read_only=True)
    try:
        reading = campaigns.read_pilot(con, PILOT_ID, "2026-10-31")
        truth = con.execute("""SELECT avg(uplift), count(*) FILTER (WHERE cell = 'control') / count(*)
                               FROM truth.campaign_response WHERE campaign_id = ?""", [PILOT_ID]).fetchone()
        planted, held = truth
        assert reading["window_closed"] and reading["channel"] == "direct_mail"
        assert 0.15 < held < 0.25  # a fifth held out
        # the planted lift (the mean true uplift) is inside the measured interval, and it is positive
        assert planted > 0.05 and reading["lift_low"] < planted < reading["lift_high"]
        # the pilot's customers are those the truth knows, both cells
        n = con.execute("SELECT count(*) FROM main.contacts WHERE campaign_id = ? AND customer_id IS NOT NULL",
                        [PILOT_ID]).fetchone()[0]
        assert len(reading["customers"]) == n == reading["contacted"] + reading["control"]
    finally:
        con.close()


def test_the_pilot_leaves_the_past_campaigns_as_they_were(tmp_path, monkeypatch):
    from dbmarketing.sample import campaigns as planted

    sample.generate(tmp_path / "with", n_customers=300, years=1, seed=3, locale="en_US")
    monkeypatch.setattr(planted, "pilot_campaign", lambda run: None)
    sample.generate(tmp_path / "without", n_customers=300, years=1, seed=3, locale="en_US")
    for name in ("campaigns.csv", "contacts.csv"):
        with_pilot = pd.read_csv(tmp_path / "with" / name, dtype=str)
        without = pd.read_csv(tmp_path / "without" / name, dtype=str)
        first = with_pilot.columns[0]
        assert (with_pilot[first] == PILOT_ID).any()
        assert with_pilot[with_pilot[first] != PILOT_ID].reset_index(drop=True).equals(without)
