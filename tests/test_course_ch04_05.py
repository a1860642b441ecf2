"""The checks of chapters 04 and 05's exercises (dbmarketing.course.exercises.ch04 / ch05) on the
small sample: each passes a right answer worked out here another way than the check does, and
fails the typical wrong answer, saying which mistake it is."""

from __future__ import annotations

import math
import shutil
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from dbmarketing import campaigns, course, rfm, warehouse
from dbmarketing.present import words

AS_OF = date(2026, 10, 31)
EARLIER = AS_OF - timedelta(days=91)


@pytest.fixture(autouse=True)
def english():
    words.set_lang("en")
    yield
    words.set_lang("en")


@pytest.fixture(scope="module")
def db(cleaned_sample, tmp_path_factory):
    """The cleaned small sample with the consumers' scores of both dates stored, as chapter 04 leaves it."""
    path = tmp_path_factory.mktemp("course_ch04_05") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    seg = rfm.load_segments("")
    frames = {}
    for day in (EARLIER, AS_OF):
        frames[day] = rfm.compute(con, day, bins=5, customer_type="consumer", segments=seg)
        rfm.store(con, frames[day], replace=True)
    yield con, seg, frames
    con.close()


# -------------------------------------------------------------------------------- chapter 04

def test_04_1_at_risk_customers(db):
    con, seg, frames = db
    now = frames[AS_OF]
    # the default map's At risk: R 1-2 and F 3-4 on five levels (no segment before it takes those cells)
    right = int(((now.r_score <= 2) & now.f_score.between(3, 4)).sum())
    assert right > 0
    assert course.verdict("04.1", right, con=con, as_of=AS_OF, segments=seg).passed
    # counted over every stored date: the typical mistake, named
    both = int(sum(((f.r_score <= 2) & f.f_score.between(3, 4)).sum() for f in frames.values()))
    wrong = course.verdict("04.1", both, con=con, as_of=AS_OF, segments=seg)
    assert not wrong.passed and "every" in wrong.why
    assert not course.verdict("04.1", right + 1, con=con, as_of=AS_OF, segments=seg).passed
    assert not course.verdict("04.1", None, con=con, as_of=AS_OF, segments=seg).passed


def _top_share(values, top=0.2):
    ordered = np.sort(np.asarray(values, dtype=float))[::-1]
    return ordered[: int(round(top * len(ordered)))].sum() / ordered.sum()


def test_04_2_top_revenue_share(db):
    con, _, frames = db
    orders = con.execute("SELECT s.customer_id, s.net_amount, c.customer_type FROM main.sales s "
                         "JOIN main.customers c USING (customer_id) WHERE s.order_date <= ?", [AS_OF]).df()
    spend = orders[orders.customer_type == "consumer"].groupby("customer_id").net_amount.sum()
    right = _top_share(spend)
    assert 0.2 < right < 1
    assert course.verdict("04.2", right, con=con, as_of=AS_OF).passed
    assert course.verdict("04.2", float(frames[AS_OF].pipe(lambda f: _top_share(f.monetary[~f.is_prospect]))),
                          con=con, as_of=AS_OF).passed
    # the prospects ranked with the buyers (their spend is nothing): a bigger top 20%
    prospects = int(frames[AS_OF].is_prospect.sum())
    padded = _top_share(np.concatenate([spend.to_numpy(), np.zeros(prospects)]))
    wrong = course.verdict("04.2", padded, con=con, as_of=AS_OF)
    assert not wrong.passed and "prospects" in wrong.why
    wrong = course.verdict("04.2", 100 * right, con=con, as_of=AS_OF)
    assert not wrong.passed and "percentage" in wrong.why


def test_04_3_slipped_customers(db):
    con, seg, frames = db
    both = frames[EARLIER][["customer_id", "segment"]].merge(frames[AS_OF][["customer_id", "segment"]],
                                                              on="customer_id", suffixes=("_before", "_now"))
    good, slipping = ["Champions", "Loyal"], ["At risk", "Can't lose them"]
    right = int((both.segment_before.isin(good) & both.segment_now.isin(slipping)).sum())
    transposed = int((both.segment_before.isin(slipping) & both.segment_now.isin(good)).sum())
    context = dict(con=con, as_of=AS_OF, earlier=EARLIER, segments=seg)
    assert course.verdict("04.3", right, **context).passed
    if transposed != right:
        wrong = course.verdict("04.3", transposed, **context)
        assert not wrong.passed and "wrong way round" in wrong.why
    assert not course.verdict("04.3", right + 1, **context).passed


def test_04_checks_without_scores_say_what_they_need(cleaned_sample, tmp_path):
    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    try:
        for exercise, extra in (("04.1", {}), ("04.2", {}), ("04.3", {"earlier": EARLIER})):
            v = course.verdict(exercise, 1, con=con, as_of=AS_OF, **extra)
            assert not v.passed and "scores" in v.why
    finally:
        con.close()


# -------------------------------------------------------------------------------- chapter 05

def test_05_1_email_test_lift(small_sample):
    cf = campaigns.read_campaign_file(small_sample["campaign_file"])
    raw = pd.read_csv(small_sample["raw_dir"] / "email_test.csv")
    rates = raw.groupby("segment").conversion.agg(["mean", "size"])
    p0, n0 = rates.loc["No E-Mail"]
    rows = []
    for arm in ("Mens E-Mail", "Womens E-Mail"):
        p1, n1 = rates.loc[arm]
        half = 1.96 * math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        rows.append({"arm": arm, "lift": p1 - p0, "includes_zero": abs(p1 - p0) <= half})
    right = pd.DataFrame(rows)
    v = course.verdict("05.1", right, campaign=cf)
    assert v.passed, v.why
    words.set_lang("zh")  # the arms as the Chinese report names them, not the file's English values
    zh = course.verdict("05.1", right, campaign=cf).why
    assert "男装邮件" in zh and "女装邮件" in zh and "Mens" not in zh, zh
    words.set_lang("en")
    # the arms' own rates: the control group forgotten
    wrong = course.verdict("05.1", right.assign(lift=[rates.loc[a, "mean"] for a in right.arm]), campaign=cf)
    assert not wrong.passed and "control group" in wrong.why
    flipped = course.verdict("05.1", right.assign(includes_zero=~right.includes_zero), campaign=cf)
    assert not flipped.passed and "interval" in flipped.why
    assert not course.verdict("05.1", 0.01, campaign=cf).passed
    assert not course.verdict("05.1", right, campaign=None).passed


@pytest.fixture(scope="module")
def measured(db):
    """A closed campaign whose control group bought something in the window (so forgetting it shows)."""
    con, _, _ = db
    closed = campaigns.closed_campaigns(con, AS_OF)
    results = campaigns.results(con, closed, as_of=AS_OF).set_index("campaign_id")
    for campaign in reversed(closed):
        cells = campaigns.responses(con, campaign, AS_OF)
        control = cells[cells.cell == "control"]
        if len(control) and control.response_margin.sum() > 0:
            return con, results.loc[campaign], cells
    pytest.skip("no closed campaign whose control group bought in its window")


def test_05_2_incremental_profit(measured):
    con, last, cells = measured
    context = dict(con=con, as_of=AS_OF, campaign=last.name)
    right = float(last.incremental_profit)  # the library's results table: the check works it out by hand
    assert course.verdict("05.2", right, **context).passed
    test, control = cells[cells.cell == "test"], cells[cells.cell == "control"]
    # the margin of the contacted, less the cost: the control group forgotten
    wrong = course.verdict("05.2", float(test.response_margin.sum() - last.cost), **context)
    assert not wrong.passed and "control group" in wrong.why
    # the cells' totals subtracted: the wrong denominator (the cells differ in size)
    totals = float(test.response_margin.sum() - control.response_margin.sum() - last.cost)
    if len(test) != len(control):
        wrong = course.verdict("05.2", totals, **context)
        assert not wrong.passed and "per customer" in wrong.why
    wrong = course.verdict("05.2", float(last.incremental_margin), **context)
    assert not wrong.passed and "incremental margin" in wrong.why
    assert not course.verdict("05.2", right, con=con, as_of=AS_OF, campaign=None).passed


def test_05_3_top_decile_lift(db):
    con, _, _ = db
    features = campaigns.contact_features(con, "all", as_of=AS_OF)
    rm = campaigns.response_model(features, seed=42)
    learner = rm.metrics.sort_values("auc", ascending=False).learner.iloc[0]
    right = float(rm.gains[learner].lift.iloc[0])  # the chapter's gains table
    assert course.verdict("05.3", right, holdout=rm.holdout, learner=learner).passed
    top = rm.gains[learner].response_rate.iloc[0]
    if not math.isclose(top, right, rel_tol=0.02):
        wrong = course.verdict("05.3", float(top), holdout=rm.holdout, learner=learner)
        assert not wrong.passed and "response rate" in wrong.why
    assert not course.verdict("05.3", right, holdout=None, learner=None).passed
