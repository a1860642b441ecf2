"""Event triggers (notebook 06): the rules by hand on tiny frames, the hold-outs, the private
column a trigger needs, idempotent recording as campaigns, and the planted trigger effects
of the sample recovered."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest

from dbmarketing import events, warehouse

D = date


# --------------------------------------------------------------------------------------
# the rules, by hand
# --------------------------------------------------------------------------------------

def test_crossed_into_an_at_risk_segment_only_when_it_was_not_one_before():
    now = pd.Series({"a": "At risk", "b": "At risk", "c": "Loyal", "d": "At risk", "e": "Can't lose them"})
    before = pd.Series({"a": "Loyal", "b": "At risk", "c": "At risk", "e": "Champions"})  # d was no buyer yet
    out = events.crossed_into(now, before, {"At risk", "Can't lose them"})
    assert out.customer_id.tolist() == ["a", "d", "e"]
    assert out.previous_segment.tolist()[0] == "Loyal" and pd.isna(out.previous_segment.tolist()[1])


def test_fading_valuable_customers_by_hand():
    before = pd.DataFrame({"clv": [100, 90, 80, 10, 5], "p_alive": [0.9, 0.6, 0.4, 0.9, 0.9]},
                          index=["a", "b", "c", "d", "e"])
    now = pd.DataFrame({"p_alive": [0.3, 0.7, 0.1, 0.1, 0.1]}, index=["a", "b", "c", "d", "e"])
    # the top 60% by CLV: a, b, c (quantile 0.4 of 5, 10, 80, 90, 100 is 52); c was below 0.5 already
    out = events.fading(now, before, threshold=0.5, valuable_share=0.6)
    assert out.customer_id.tolist() == ["a"] and out.p_alive.tolist() == [0.3]


def _facts(rows):
    f = pd.DataFrame(rows, columns=["customer_id", "first_purchase", "last_purchase", "purchase_days", "first_amount"])
    return f.set_index("customer_id")


def test_overdue_against_the_customer_s_own_interval():
    # a: 4 purchase days over 90 days -> usual interval 30; last 2026-08-31: 61 days by 10-31 (> 2 x 30),
    #    31 days by 10-01 (not yet): fires. b: interval 10, overdue already on 10-01: does not fire again.
    # c: 2 purchase days only (min 3). d: interval 60; 61 days since: not overdue.
    now = _facts([("a", D(2026, 6, 2), D(2026, 8, 31), 4, 10.0), ("b", D(2026, 6, 1), D(2026, 6, 21), 3, 10.0),
                  ("c", D(2026, 1, 1), D(2026, 2, 1), 2, 10.0), ("d", D(2026, 3, 3), D(2026, 8, 31), 4, 10.0)])
    out = events.overdue(now, now, D(2026, 10, 31), D(2026, 10, 1), times=2, min_purchases=3)
    assert out.customer_id.tolist() == ["a"]
    assert out.overdue_ratio.tolist() == [pytest.approx(61 / 30, abs=0.005)]


def test_no_second_purchase_n_days_after_the_first():
    now = _facts([("a", D(2026, 8, 2), D(2026, 8, 2), 1, 50.0),    # + 60 = 10-01: in (10-01 .. 10-31]? no, 10-01 is the start
                  ("b", D(2026, 8, 3), D(2026, 8, 3), 1, 50.0),    # + 60 = 10-02: yes
                  ("c", D(2026, 9, 1), D(2026, 9, 1), 1, 50.0),    # + 60 = 10-31: yes
                  ("d", D(2026, 8, 10), D(2026, 9, 1), 2, 50.0)])  # bought again
    out = events.no_second(now, D(2026, 10, 31), D(2026, 10, 1), days=60)
    assert out.customer_id.tolist() == ["b", "c"]
    assert out.event_date.tolist() == [D(2026, 10, 2), D(2026, 10, 31)]


def test_large_first_purchase_by_quantile_or_amount():
    now = _facts([("a", D(2026, 10, 5), D(2026, 10, 5), 1, 500.0), ("b", D(2026, 10, 6), D(2026, 10, 6), 1, 50.0),
                  ("c", D(2025, 1, 1), D(2026, 1, 1), 5, 900.0), ("d", D(2026, 9, 1), D(2026, 9, 1), 1, 100.0)])
    # quantile 0.5 of 50, 100, 500, 900 is 300: a (in the period); c is large but long ago
    assert events.large_first(now, D(2026, 10, 1), quantile=0.5).customer_id.tolist() == ["a"]
    assert events.large_first(now, D(2026, 10, 1), quantile=0.5, min_amount=40).customer_id.tolist() == ["a", "b"]


def test_hold_out_share_is_exact_seeded_and_differs_between_triggers():
    ids = [f"C{i:04d}" for i in range(1000)]
    a = events.hold_out(ids, 0.2, 42, "overdue", D(2026, 10, 31))
    assert (a == "held_out").sum() == 200 and (a == "listed").sum() == 800
    assert (events.hold_out(ids, 0.2, 42, "overdue", D(2026, 10, 31)) == a).all()
    assert (events.hold_out(list(reversed(ids)), 0.2, 42, "overdue", D(2026, 10, 31)) == a[::-1]).all()  # by customer
    b = events.hold_out(ids, 0.2, 42, "birthday", D(2026, 10, 31))
    c = events.hold_out(ids, 0.2, 42, "overdue", D(2026, 11, 30))
    assert (a != b).any() and (a != c).any()
    assert (events.hold_out(ids[:7], 0.3, 1, "x", D(2026, 1, 1)) == "held_out").sum() == 2  # round(2.1)


def test_trigger_map_errors_name_the_file_and_the_trigger(tmp_path):
    default = events.load_triggers()
    assert set(t.kind for t in default.triggers) == set(events.KINDS) and default.period_days == 30
    bad = tmp_path / "t.yaml"
    bad.write_text("triggers:\n  - {name: x, kind: overdue, label_en: X, label_zh: X, action: a, channel: sms,"
                   " priority: 1, holdout: 1.5}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"t.yaml: trigger 1 \(x\): holdout"):
        events.load_triggers(bad)
    bad.write_text("triggers:\n  - {name: x, kind: overdue, label_en: X, label_zh: X, action: a, channel: sms,"
                   " priority: 1, holdout: 0.1, params: {days: 3}}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown params days"):
        events.load_triggers(bad)


# --------------------------------------------------------------------------------------
# on the sample database
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def db(cleaned_sample, tmp_path_factory):
    path = tmp_path_factory.mktemp("events") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    yield con
    con.close()


def test_an_older_database_gains_the_ticket_closing_date(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.service_tickets (ticket_id VARCHAR, customer_id VARCHAR, opened_date DATE, "
                "ticket_type VARCHAR, satisfaction INTEGER, resolved BOOLEAN, batch_id INTEGER, source_line BIGINT)")
    con.execute("INSERT INTO raw.service_tickets VALUES ('t1', 'A', DATE '2026-01-01', 'complaint', 1, FALSE, 1, 1)")
    con.close()
    con = warehouse.connect(path)
    row = con.execute("SELECT ticket_id, closed_date FROM raw.service_tickets").fetchall()
    assert row == [("t1", None)]
    tiers = warehouse.privacy_tiers(con, "service_tickets", schema="raw")
    assert tiers["closed_date"] == 1
    con.close()


def test_complaint_and_anniversary_triggers_match_the_tables_by_hand(db):
    run = events.evaluate(db, "2026-10-31", clearance=2, contact_policy=False)  # the rules alone
    assert (run.previous, run.as_of) == (D(2026, 10, 1), D(2026, 10, 31))
    t = db.execute("SELECT customer_id, closed_date, satisfaction, ticket_type FROM main.service_tickets").df()
    t = t[(t.ticket_type == "complaint") & t.customer_id.notna() & t.satisfaction.le(2)
          & (pd.to_datetime(t.closed_date) > "2026-10-01") & (pd.to_datetime(t.closed_date) <= "2026-10-31")]
    assert sorted(run.lists["unhappy_complaint"].customer_id) == sorted(set(t.customer_id))
    c = db.execute("SELECT customer_id, signup_date FROM main.customers").df()
    s = pd.to_datetime(c.signup_date)
    want = c.customer_id[(s.dt.month == 11) & (s.dt.year < 2026)]
    got = run.lists["anniversary"]
    assert sorted(got.customer_id) == sorted(want)
    assert (got.member_years == 2026 - pd.to_datetime(c.set_index("customer_id").signup_date[got.customer_id]).dt.year.to_numpy()).all()
    # every list: its share held out, a profile beside each customer
    for name, lst in run.lists.items():
        share = run.triggers.get(name).holdout
        assert (lst.cell == "held_out").sum() == round(share * len(lst)), name
        assert {"customer_id", "event_date", "cell", "segment", "name"} <= set(lst.columns)


def test_birthday_needs_the_private_column(db):
    low = events.evaluate(db, "2026-10-31", clearance=2, contact_policy=False)
    assert "birthday" not in low.lists and "birth_date" in low.skipped["birthday"]
    high = events.evaluate(db, "2026-10-31", clearance=3, contact_policy=False)
    born = db.execute("SELECT customer_id FROM main.customers WHERE month(birth_date) = 11").df()
    assert sorted(high.lists["birthday"].customer_id) == sorted(born.customer_id)


def test_recording_a_run_twice_adds_nothing_and_the_lists_are_exported(db, tmp_path):
    run = events.evaluate(db, "2026-09-15", clearance=2)
    first = events.record_lists(db, run, tmp_path / "campaigns")
    assert set(first.status) <= {"recorded", "nobody"} and (first.status == "recorded").any()
    count = db.execute("SELECT count(*) FROM main.contacts WHERE campaign_id LIKE 'TRG-%-20260915'").fetchone()[0]
    assert count == sum(len(v) for v in run.lists.values())
    again = events.record_lists(db, events.evaluate(db, "2026-09-15", clearance=2), tmp_path / "campaigns")
    assert set(again.status) <= {"already recorded", "nobody"}
    assert db.execute("SELECT count(*) FROM main.contacts WHERE campaign_id LIKE 'TRG-%-20260915'").fetchone()[0] == count
    cells = db.execute("SELECT cell, count(*) FROM main.contacts WHERE campaign_id = ? GROUP BY 1",
                       [events.campaign_id("no_second_purchase", D(2026, 9, 15))]).fetchall()
    lst = run.lists["no_second_purchase"]
    assert dict(cells) == {"test": int((lst.cell == "listed").sum()), "control": int((lst.cell == "held_out").sum())}
    files = events.export_lists(db, run, tmp_path / "exports", clearance=2)
    written = pd.read_csv(files["no_second_purchase"], encoding="utf-8-sig")
    assert len(written) == int((lst.cell == "listed").sum())                     # the held-out customers stay out
    assert not written["phone"].dropna().astype(str).str.fullmatch(r"\+?\d{7,}").any()  # masked at clearance 2


def test_the_planted_trigger_effects_are_recovered(db):
    planted = events.planted_effects(db)
    assert planted is not None and len(planted) == len(events.load_triggers().triggers)
    measured = events.measure(db, "2026-10-31")
    # pooled by hand from the contacts: responders = a counted purchase in [contact, contact + window)
    by_hand = db.execute("""
        SELECT regexp_extract(c.campaign_id, '^TRG-(.*)-\\d{8}$', 1) AS trigger, c.cell,
               count(*) AS n, count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM main.sales s WHERE s.customer_id = c.customer_id AND s.order_date >= c.contact_date
                     AND s.order_date < c.contact_date + g.response_window_days)) AS responders
        FROM main.contacts c JOIN main.campaigns g USING (campaign_id)
        WHERE c.campaign_id LIKE 'TRG-%' AND c.customer_id IS NOT NULL
          AND c.contact_date + g.response_window_days <= DATE '2026-11-01'   -- windows closed by the as-of date
        GROUP BY ALL""").df()
    rate = by_hand.assign(rate=by_hand.responders / by_hand.n).pivot(index="trigger", columns="cell", values="rate")
    m = measured.set_index("name")
    assert np.allclose(m.lift, (rate["test"] - rate["control"]).reindex(m.index), atol=1e-9)
    r = events.recovery(measured, planted)
    effect = r[r.planted_lift != 0]  # the triggers with a planted effect
    assert len(effect) >= 6 and effect.right_sign.astype(bool).all(), r
    assert effect.inside.mean() >= 0.8, r
    assert r.right_sign[r.planted_lift == 0].isna().all()
    # the batch campaigns' models do not learn from trigger campaigns
    from dbmarketing import campaigns
    assert not any(c.startswith("TRG-") for c in campaigns.closed_campaigns(db, "2026-10-31"))


def test_the_sample_plants_each_trigger_effect_without_bias_over_seeds():
    """The planting, before any measuring: over ten seeds of the simulation the test cell's
    response rate exceeds the control's by the planted lift on average (within three standard
    errors, the zero-effect trigger's by nothing), and the 95% intervals hold the planted lift
    about 95% of the time; so one seed's miss (seed 42's unhappy-complaint cells differ by
    -8.9 points in the simulation itself) is chance, not a biased planting or measurement."""
    from dbmarketing.campaigns import compare_cells
    from dbmarketing.sample import events as planting, simulated_run

    rows = []
    for seed in range(1, 11):
        run = simulated_run(seed=seed, through=planting.trigger_history)
        planted = planting.trigger_effects(run).set_index("trigger").planted_lift
        cells = planting.simulated_responses(run).pivot(index="trigger", columns="cell")
        for name, c in cells.iterrows():
            r = compare_cells(int(c.responders.test), int(c.contacts.test), int(c.responders.control),
                              int(c.contacts.control))
            se = np.sqrt(r["test_rate"] * (1 - r["test_rate"]) / r["contacted"]
                         + r["control_rate"] * (1 - r["control_rate"]) / r["control"])
            rows.append((name, seed, r["lift"], se, r["lift_low"], r["lift_high"], planted[name]))
    f = pd.DataFrame(rows, columns=["trigger", "seed", "lift", "se", "low", "high", "planted"])
    by = f.groupby("trigger").agg(lift=("lift", "mean"), planted=("planted", "mean"),
                                  se=("se", lambda s: np.sqrt((s ** 2).sum()) / len(s)))
    assert (abs(by.lift - by.planted) <= 3 * by.se).all(), by
    assert by.loc["unhappy_complaint", "planted"] == 0
    inside = ((f.low <= f.planted) & (f.planted <= f.high)).mean()
    assert 0.85 <= inside <= 1.0, inside


def test_the_contact_policy_caps_every_list_of_a_run(db):
    """One contact per customer per channel in 45 days, and 1 over all channels: no customer is on
    two lists of the run, none whose test cell had her within 45 days, and every customer the
    rules found is on her list or left out with a reason."""
    one = {"caps": {c: {"contacts": 1, "days": 45} for c in ("direct_mail", "sms", "email", "outbound_call")},
           "all_channels": {"contacts": 1, "days": 45}, "priorities": {}}
    free = events.evaluate(db, "2026-10-31", clearance=2, contact_policy=False)
    run = events.evaluate(db, "2026-10-31", clearance=2, policy=one)
    on = pd.concat([lst.assign(trigger=name) for name, lst in run.lists.items()], ignore_index=True)
    assert not on.customer_id.duplicated().any()
    recent = db.execute("""SELECT DISTINCT customer_id FROM main.contacts WHERE cell = 'test'
                           AND abs(contact_date - DATE '2026-10-31') < 45""").df()
    assert not on.customer_id.isin(recent.customer_id).any()
    assert len(run.dropped) and set(run.dropped.trigger) <= set(run.lists)
    # every customer the rules found is on a list or left out with a reason
    for name, lst in free.lists.items():
        kept = set(run.lists[name].customer_id)
        out = set(run.dropped.customer_id[run.dropped.trigger == name])
        assert kept | out == set(lst.customer_id) and not kept & out, name
    # the hold-out is drawn from the customers the policy kept
    for name, lst in run.lists.items():
        assert (lst.cell == "held_out").sum() == round(run.triggers.get(name).holdout * len(lst))
