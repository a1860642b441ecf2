"""The checks of chapter 05's exercises (campaign response). Each works its figure out itself:
the e-mail test's rates by SQL over the export, a campaign's incremental profit from the contacts
and the orders in pandas, the top decile's lift from the model's holdout scores, never with the
functions that make the chapter's tables; a wrong answer that is a usual mistake (no control
group, the wrong denominator, revenue for margin, a rate for a lift) is named."""

from __future__ import annotations

import math
from numbers import Real

import duckdb
import numpy as np
import pandas as pd

from dbmarketing.course import Verdict, exercise
from dbmarketing.present import words

say = words.of("course_05")
Z95 = 1.959963984540054


def _number(answer) -> bool:
    return isinstance(answer, Real) and not isinstance(answer, bool) and not math.isnan(float(answer))


def _close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance


# --------------------------------------------------------------------------------------
# 05.1 the e-mail test: lift of each arm over the control group, and its 95% interval
# --------------------------------------------------------------------------------------

def _cells(frame: pd.DataFrame, outcome: str) -> dict[str, tuple[int, int]]:
    """arm -> (customers, responders) of ``outcome``, by SQL over the export."""
    db = duckdb.connect()
    try:
        db.register("export", frame[["arm", outcome]].rename(columns={outcome: "y"}))
        rows = db.execute("SELECT arm, count(*), sum(CAST(y AS INTEGER)) FROM export GROUP BY arm").fetchall()
    finally:
        db.close()
    return {arm: (int(n), int(k or 0)) for arm, n, k in rows}


def _wilson(k: int, n: int) -> tuple[float, float]:
    p, z2 = k / n, Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def _intervals(k1: int, n1: int, k0: int, n0: int) -> list[tuple[float, float]]:
    """The lift's 95% interval two ways: the normal approximation (Wald) and Newcombe's
    (from the rates' Wilson intervals, as the chapter's table shows it)."""
    p1, p0 = k1 / n1, k0 / n0
    d = p1 - p0
    half = Z95 * math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    (l1, u1), (l0, u0) = _wilson(k1, n1), _wilson(k0, n0)
    newcombe = (d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2))
    return [(d - half, d + half), newcombe]


@exercise("05.1")
def email_test_lift(answer, campaign=None, **_) -> Verdict:
    """``answer``: a table with one row per e-mail arm: arm, lift (of the file's response, a
    share) and includes_zero (whether the lift's 95% interval includes zero)."""
    if campaign is None:
        return Verdict(False, say("needs_file"))
    if not isinstance(answer, pd.DataFrame):
        return Verdict(False, say("ex1_not_table", kind=type(answer).__name__))
    missing = [c for c in ("arm", "lift", "includes_zero") if c not in answer.columns]
    if missing:
        return Verdict(False, say("ex1_columns", columns=", ".join(map(str, answer.columns)) or "—"))
    outcome = campaign.outcomes[0]
    cells = _cells(campaign.frame, outcome)
    control = campaign.control
    arms = sorted(a for a in cells if a != control)
    given_arms = [str(a) for a in answer.arm]
    if sorted(given_arms) != arms:
        return Verdict(False, say("ex1_arms", arms=", ".join(arms), control=control, given=", ".join(given_arms) or "—"))
    n0, k0 = cells[control]
    rate0 = k0 / n0
    lines, wrong = [], []
    label = words.header(outcome)
    for _, row in answer.iterrows():
        arm = str(row.arm)
        n1, k1 = cells[arm]
        rate1 = k1 / n1
        expected = rate1 - rate0
        intervals = _intervals(k1, n1, k0, n0)
        low, high = intervals[0]
        named = dict(arm=words.label(arm), expected=expected, outcome=label, control_rate=rate0, arm_rate=rate1)
        if not _number(row.lift):
            wrong.append(say("ex1_wrong_lift", given=math.nan, **named))
            continue
        given = float(row.lift)
        if not _close(given, expected, 5e-5):
            if _close(given, rate1, 5e-5):
                wrong.append(say("ex1_arm_rate", given=given, **named))
            elif _close(given / 100, expected, 5e-5):
                wrong.append(say("ex1_percent", given=given, **named))
            elif rate0 and _close(given, expected / rate0, 5e-4):
                wrong.append(say("ex1_relative", given=given, **named))
            else:
                others = [o for o in campaign.outcomes[1:]
                          if _close(given, _lift(campaign.frame, o, arm, control), 5e-5)]
                wrong.append(say("ex1_other_outcome", given=given, other=words.header(others[0]), **named) if others
                             else say("ex1_wrong_lift", given=given, **named))
            continue
        includes = [lo <= 0 <= hi for lo, hi in intervals]
        if bool(row.includes_zero) not in includes:  # either method's answer counts where they differ
            wrong.append(say("ex1_wrong_zero", low=low, high=high,
                             does=say("does_yes" if includes[0] else "does_no"), **named))
            continue
        lines.append(say("ex1_line", arm=words.label(arm), lift=expected, low=low, high=high))
    if wrong:
        return Verdict(False, say("line_sep").join(wrong))
    return Verdict(True, say("ex1_right", lines=say("line_sep").join(lines), outcome=label))


def _lift(frame: pd.DataFrame, outcome: str, arm: str, control: str) -> float:
    cells = _cells(frame, outcome)
    (n1, k1), (n0, k0) = cells[arm], cells[control]
    return k1 / n1 - k0 / n0


# --------------------------------------------------------------------------------------
# 05.2 the incremental profit of a measured campaign
# --------------------------------------------------------------------------------------

def _campaign_cells(con, campaign: str, as_of) -> tuple[pd.DataFrame, float] | None:
    """One row per selected customer of ``campaign`` contacted by ``as_of``: cell, and the margin
    and revenue of their orders in the response window (nothing after ``as_of``); and the cost
    of a contact."""
    info = con.execute("SELECT response_window_days, cost_per_contact FROM main.campaigns WHERE campaign_id = ?",
                       [campaign]).fetchall()
    if not info:
        return None
    window, cost = info[0]
    window = 30 if window is None else int(window)
    contacts = con.execute("SELECT customer_id, cell, contact_date FROM main.contacts WHERE campaign_id = ? "
                           "AND customer_id IS NOT NULL AND contact_date <= ?", [campaign, as_of]).df()
    if contacts.empty:
        return None
    sales = con.execute("SELECT customer_id, order_date, net_amount, margin FROM main.sales WHERE order_date <= ? "
                        "AND customer_id IN (SELECT customer_id FROM main.contacts WHERE campaign_id = ?)",
                        [as_of, campaign]).df()
    contacts = contacts.reset_index(names="contact")
    contacts["contact_date"] = pd.to_datetime(contacts.contact_date)
    sales["order_date"] = pd.to_datetime(sales.order_date)
    both = contacts.merge(sales, on="customer_id", how="inner")
    start, end = both.contact_date, both.contact_date + pd.to_timedelta(window, unit="D")
    both = both[(both.order_date >= start) & (both.order_date < end)]
    sums = both.groupby("contact")[["margin", "net_amount"]].sum()
    contacts = contacts.join(sums, on="contact").fillna({"margin": 0.0, "net_amount": 0.0})
    return contacts, float(cost or 0)


@exercise("05.2")
def incremental_profit(answer, con, as_of, campaign=None, **_) -> Verdict:
    """The incremental profit of ``campaign`` as known at ``as_of``: (margin per contacted
    customer - margin per control customer) x contacted - cost of the contacts."""
    found = _campaign_cells(con, campaign, as_of) if campaign else None
    if found is None:
        return Verdict(False, say("needs_campaign", as_of=as_of))
    if not _number(answer):
        return Verdict(False, say("ex2_not_number", kind=type(answer).__name__))
    cells, cost_per_contact = found
    test, control = cells[cells.cell == "test"], cells[cells.cell == "control"]
    if test.empty or control.empty:
        return Verdict(False, say("needs_campaign", as_of=as_of))
    n = len(test)
    cost = cost_per_contact * n
    margin_test, margin_control = test.margin.mean(), control.margin.mean()
    expected = (margin_test - margin_control) * n - cost
    given = float(answer)
    named = dict(campaign=campaign, expected=expected, given=given, contacted=n, control=len(control), cost=cost,
                 margin_test=margin_test, margin_control=margin_control, as_of=as_of)
    tolerance = max(0.5, 1e-4 * abs(expected))
    if _close(given, expected, tolerance):
        return Verdict(True, say("ex2_right", **named))
    mistakes = [
        ("ex2_no_control", test.margin.sum() - cost),
        ("ex2_totals", test.margin.sum() - control.margin.sum() - cost),
        ("ex2_no_cost", expected + cost),
        ("ex2_revenue", (test.net_amount.mean() - control.net_amount.mean()) * n - cost),
        ("ex2_per_contact", expected / n),
    ]
    for key, value in mistakes:
        if _close(given, value, max(0.5 / n if key == "ex2_per_contact" else 0.5, 1e-4 * abs(value))):
            return Verdict(False, say(key, **named))
    return Verdict(False, say("ex2_wrong", **named))


# --------------------------------------------------------------------------------------
# 05.3 the lift of the response model's top decile
# --------------------------------------------------------------------------------------

@exercise("05.3")
def top_decile_lift(answer, holdout=None, learner=None, **_) -> Verdict:
    """The response rate of the best-scored tenth of the holdout over the holdout's rate."""
    column = f"score_{learner}"
    if holdout is None or column not in getattr(holdout, "columns", []):
        return Verdict(False, say("needs_model"))
    if not _number(answer):
        return Verdict(False, say("ex3_not_number", kind=type(answer).__name__))
    y = holdout.responded.to_numpy(dtype=float)
    score = holdout[column].to_numpy(dtype=float)
    n, rate = len(y), float(y.mean())
    if n < 10 or rate == 0:
        return Verdict(False, say("needs_model"))
    best_first = y[np.argsort(-score, kind="stable")]
    # the first tenth of the list with the customers tied at its cut (as the gains table takes it),
    # or cut at n/10 rounded either way (a learner's head(), ties split)
    cut = score[np.argsort(-score, kind="stable")][math.ceil(n / 10) - 1]
    tops = [y[score >= cut]] + [best_first[:k] for k in (math.ceil(n / 10), n // 10, round(n / 10)) if k]
    lifts = [float(t.mean()) / rate for t in tops]
    top = tops[0]
    expected, top_rate = lifts[0], float(top.mean())
    given = float(answer)
    named = dict(expected=expected, given=given, rate=rate, top_rate=top_rate, learner=learner)
    if any(_close(given, lift, 0.01 * lift + 1e-9) for lift in lifts):
        return Verdict(True, say("ex3_right", **named))
    if _close(given, top_rate, 0.005):
        return Verdict(False, say("ex3_rate", **named))
    if _close(given, float(top.sum()) / y.sum(), 0.005):
        return Verdict(False, say("ex3_gain", **named))
    bottom = y[np.argsort(score, kind="stable")][:math.ceil(n / 10)]
    if _close(given, float(bottom.mean()) / rate, 0.02):
        return Verdict(False, say("ex3_reversed", **named))
    return Verdict(False, say("ex3_wrong", **named))
