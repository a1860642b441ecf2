"""The checks of chapters 06-08's exercises (dbmarketing.course.exercises.ch06 / ch07 / ch08) on
the small sample: each passes a right answer the test works out itself (pandas on the tables,
not the model answer's SQL nor the check's own source) and fails a typical wrong one, saying why."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from itertools import combinations

import pandas as pd
import pytest

from dbmarketing import baskets, campaigns, course, events, prospects, warehouse
from dbmarketing.present import words

AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="module")
def con(cleaned_sample, tmp_path_factory):
    path = tmp_path_factory.mktemp("course_ch06_08") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    words.set_lang("en")
    yield con
    con.close()


def table(con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _passes(exercise, answer, **context):
    verdict = course.verdict(exercise, answer, **context)
    assert verdict.passed, verdict.why
    return verdict


def _fails(exercise, answer, saying, **context):
    verdict = course.verdict(exercise, answer, **context)
    assert not verdict.passed and saying in verdict.why, verdict.why
    return verdict


# ------------------------------------------------------------------------------------ chapter 06

def test_06_1_the_no_second_purchase_rule_counts_before_the_contact_policy(con):
    default = events.load_triggers()
    only = events.Triggers(tuple(t for t in default.triggers if t.name == "no_second_purchase"), default.period_days)
    run = events.evaluate(con, AS_OF, only, clearance=2, seed=42)
    days = int(only.get("no_second_purchase").params["days"])
    sales = table(con, "SELECT customer_id, order_date FROM main.sales WHERE customer_id IS NOT NULL")
    sales = sales[pd.to_datetime(sales.order_date).dt.date <= AS_OF]
    per = sales.groupby("customer_id").order_date.agg(["min", "nunique"])
    due = pd.to_datetime(per["min"]).dt.date + timedelta(days=days)
    right = int(((per["nunique"] == 1) & (due > run.previous) & (due <= run.as_of)).sum())
    assert right > 0
    _passes("06.1", right, run=run)
    if len(run.dropped):  # the list after the contact policy: named as such
        _fails("06.1", len(run.lists["no_second_purchase"]), "after the contact policy", run=run)
    _fails("06.1", right + 1, "one purchase day", run=run)
    assert not course.verdict("06.1", right, run=None).passed


def test_06_2_a_triggers_lift_from_its_contacts(con):
    measured = events.measure(con, AS_OF)
    contacts = table(con, """SELECT c.customer_id, c.cell, c.contact_date, g.response_window_days
                             FROM main.contacts c JOIN main.campaigns g USING (campaign_id)
                             WHERE c.campaign_id LIKE 'TRG-no%second%purchase-%' AND c.customer_id IS NOT NULL""")
    contacts["contact_date"] = pd.to_datetime(contacts.contact_date)
    contacts["window_end"] = contacts.contact_date + pd.to_timedelta(contacts.response_window_days.fillna(30), unit="D")
    contacts = contacts[contacts.window_end <= pd.Timestamp(AS_OF) + pd.Timedelta(days=1)]
    sales = table(con, "SELECT customer_id, order_date FROM main.sales")
    sales["order_date"] = pd.to_datetime(sales.order_date)
    sales = sales[sales.order_date <= pd.Timestamp(AS_OF)]
    joined = contacts.reset_index().merge(sales, on="customer_id", how="left")
    inside = (joined.order_date >= joined.contact_date) & (joined.order_date < joined.window_end)
    contacts["responded"] = inside.groupby(joined["index"]).any().reindex(contacts.index, fill_value=False)
    rates = contacts.groupby("cell").responded.mean()
    assert len(contacts) > 50
    right = float(rates["test"] - rates["control"])
    _passes("06.2", right, measured=measured)
    _fails("06.2", float(rates["test"]), "response rate of the contacted", measured=measured)
    _fails("06.2", 100 * right, "percentage points", measured=measured)
    assert "no answer yet" in course.verdict("06.2", None, measured=measured).why
    assert not course.verdict("06.2", right, measured=None).passed


# ------------------------------------------------------------------------------------ chapter 07

@pytest.fixture(scope="module")
def basket_lines(con):
    lines = table(con, """SELECT DISTINCT s.order_id, l.product_id FROM main.sales s JOIN main.order_lines l USING (order_id)
                          WHERE s.order_date <= DATE '2026-10-31' AND l.exclude_reason IS NULL
                            AND l.product_id IS NOT NULL AND l.quantity > 0""")
    return lines.groupby("order_id").product_id.apply(frozenset)


@pytest.fixture(scope="module")
def found(con):
    return baskets.mine_orders(con, AS_OF, "product", min_support=0.005, max_len=3)


def test_07_1_one_rules_support_confidence_and_lift(found, basket_lines):
    rules = baskets.rules(found)
    single = rules[(rules.antecedent.map(len) == 1) & (rules.consequent.map(len) == 1)]
    a, c = single.antecedent.iloc[0][0], single.consequent.iloc[0][0]
    n = len(basket_lines)
    with_a = sum(a in b for b in basket_lines)
    with_c = sum(c in b for b in basket_lines)
    both = sum(a in b and c in b for b in basket_lines)
    right = {"support": both / n, "confidence": both / with_a, "lift": (both / with_a) / (with_c / n)}
    _passes("07.1", right, rules=rules)
    _passes("07.1", pd.DataFrame([right]), rules=rules)  # a one-row frame reads as well
    _fails("07.1", {**right, "confidence": both / with_c}, "the other way round", rules=rules)
    _fails("07.1", {**right, "support": both}, "divide by the number of orders", rules=rules)
    assert "cannot read" in course.verdict("07.1", 0.5, rules=rules).why
    assert not course.verdict("07.1", right, rules=None).passed


def test_07_2_the_number_of_frequent_pairs(found, basket_lines):
    n = len(basket_lines)
    counts: dict[tuple, int] = {}
    for b in basket_lines:
        for pair in combinations(sorted(b), 2):
            counts[pair] = counts.get(pair, 0) + 1
    right = sum(count / n >= found.min_support for count in counts.values())
    assert right > 0
    _passes("07.2", right, found=found)
    _fails("07.2", 2 * right, "twice", found=found)
    assert not course.verdict("07.2", right, found=None).passed


# ------------------------------------------------------------------------------------ chapter 08

@pytest.fixture(scope="module")
def pool(con):
    return prospects.prospects(con, AS_OF)


def test_08_1_list_rows_already_customers(con, pool):
    rows = table(con, "SELECT customer_id, acquired_date FROM main.prospect_list")
    acquired = rows.acquired_date.isna() | (pd.to_datetime(rows.acquired_date).dt.date <= AS_OF)
    right = int((acquired & rows.customer_id.notna()).sum())
    assert 0 < right < int(acquired.sum())
    _passes("08.1", right, pool=pool)
    _fails("08.1", int(acquired.sum()), "all the rows", pool=pool)
    assert not course.verdict("08.1", right, pool=None).passed


def test_08_2_the_index_of_city_tier_1(con):
    base = prospects.customer_base(campaigns.snapshot(con, AS_OF))
    best = prospects.best_flag(base)
    counts = pd.crosstab(base.city_tier.eq(1), best.to_numpy())  # rows: tier 1 or not; columns: best or not
    share_best = counts.loc[True, True] / counts[True].sum()
    share_all = counts.loc[True].sum() / counts.to_numpy().sum()
    share_rest = counts.loc[True, False] / counts[False].sum()
    right = 100 * share_best / share_all
    _passes("08.2", right, base=base, best=best)
    _fails("08.2", share_best / share_all, "100 times", base=base, best=best)
    _fails("08.2", 100 * share_best / share_rest, "rest of the buyers", base=base, best=best)
    assert not course.verdict("08.2", right, base=None, best=None).passed


def test_08_3_the_acquisition_tests_response_rates(con, pool):
    results = prospects.acquisition_results(con, pool, AS_OF)
    contacts = table(con, "SELECT cell, contact_date, response_window_days, responded FROM main.acquisition_contacts")
    closed = (pd.to_datetime(contacts.contact_date)
              + pd.to_timedelta(contacts.response_window_days.fillna(60), unit="D")) <= pd.Timestamp(AS_OF)
    rates = contacts[closed].assign(responded=lambda f: f.responded.fillna(False).astype(int)).groupby("cell").responded.mean()
    right = {"test": float(rates["test"]), "control": float(rates["control"])}
    _passes("08.3", right, results=results)
    _fails("08.3", {"test": right["control"], "control": right["test"]}, "swapped", results=results)
    assert not course.verdict("08.3", right, results=None).passed
