"""Chapter 03 (the customer model): the checks of its exercises.

03.1 -- the number of valuable customers at high churn risk, re-derived from profit and churn risk;
03.2 -- the average 12-month CLV of the most valuable customers (value tier MVC);
03.3 -- the customers in two marketing groups at once: high value and complained recently.

Each check reads what the chapter stored (``main.customer_model`` of the model's as-of date, or
the model's 360 frame) by another route than the model answer, and names the typical mistake
when it recognises one. The context is the chapter's ``model`` (``customers.build_customer_model``).
"""

from __future__ import annotations

import math

from dbmarketing import course
from dbmarketing.present import words

say = words.of("course_03")


def _whole(value) -> int:
    if isinstance(value, bool):
        raise TypeError("a count is a number, not yes/no")
    number = float(value)
    if math.isnan(number) or number != int(number):
        raise ValueError(f"{value} is not a whole number of customers")
    return int(number)


@course.exercise("03.1")
def valuable_at_risk(answer, con=None, model=None, **_) -> course.Verdict:
    """``answer``: how many customers are on the list of valuable customers at high risk."""
    if model is None or model.churn is None:
        return course.Verdict(False, say("ex1_no_churn"))
    given = _whole(answer)
    as_of, value, base = str(model.as_of), model.value, float(model.churn.base_rate)
    # the flag the chapter stored beside each customer (the model answer re-derives it from the cuts)
    expected = int(con.execute("""SELECT count(*) FROM main.customer_model
                                  WHERE as_of = CAST(? AS DATE) AND valuable_at_risk""", [as_of]).fetchone()[0])
    if given == expected:
        return course.Verdict(True, say("ex1_right", expected=expected, cut=1.2 * base, base=base))

    def count(rows: str, risk: str) -> int:
        return int(con.execute(f"""
            WITH m AS (SELECT * FROM main.customer_model WHERE as_of = CAST($as_of AS DATE)),
            ranked AS (SELECT * FROM m WHERE {rows})
            SELECT count(*) FROM ranked
            WHERE churn_risk IS NOT NULL AND "{value}" >= (SELECT quantile_cont("{value}", 0.8) FROM ranked)
              AND {risk}""", {"as_of": as_of} | ({"base": base} if "$base" in risk else {})).fetchone()[0])

    scored = f'churn_risk IS NOT NULL AND "{value}" IS NOT NULL'
    mistakes = (("ex1_all_customers", count(f'"{value}" IS NOT NULL', "churn_risk >= 1.2 * $base")),
                ("ex1_fixed_cut", count(scored, "churn_risk >= 0.5")),
                ("ex1_above_base", count(scored, "churn_risk >= $base")),
                ("ex1_mean_risk", count(scored, "churn_risk >= 1.2 * (SELECT avg(churn_risk) FROM ranked)")))
    for key, wrong in mistakes:
        if wrong != expected and given == wrong:
            return course.Verdict(False, say(key, given=given, expected=expected, cut=1.2 * base, base=base))
    return course.Verdict(False, say("ex1_wrong", given=given, expected=expected, cut=1.2 * base, base=base))


@course.exercise("03.2")
def mean_clv(answer, con=None, model=None, tier: str = "MVC", **_) -> course.Verdict:
    """``answer``: the average 12-month CLV of the customers of value tier ``tier``."""
    if model is None or model.clv is None:
        return course.Verdict(False, say("ex2_no_clv"))
    if isinstance(answer, bool):
        raise TypeError("an average is a number, not yes/no")
    given = float(answer)
    c = model.c360  # the model in memory (the model answer reads the stored table)
    in_tier = c[c.value_tier == tier].clv.dropna()
    if in_tier.empty:
        return course.Verdict(False, say("ex2_no_tier", tier=words.label(tier)))
    expected = float(in_tier.mean())
    if math.isclose(given, expected, rel_tol=1e-6, abs_tol=0.01):
        return course.Verdict(True, say("ex2_right", tier=words.label(tier), expected=expected, n=len(in_tier),
                                        buyers=float(c[~c.is_prospect.astype(bool)].clv.mean())))
    buyers = c[~c.is_prospect.astype(bool)].clv.dropna()
    mistakes = (("ex2_median", float(in_tier.median())), ("ex2_total", float(in_tier.sum())),
                ("ex2_all_buyers", float(buyers.mean())), ("ex2_with_prospects", float(c.clv.fillna(0).mean())))
    for key, wrong in mistakes:
        if not math.isclose(wrong, expected, rel_tol=1e-6, abs_tol=0.01) and math.isclose(given, wrong, rel_tol=1e-6,
                                                                                          abs_tol=0.01):
            return course.Verdict(False, say(key, given=given, expected=expected, tier=words.label(tier)))
    return course.Verdict(False, say("ex2_wrong", given=given, expected=expected, tier=words.label(tier)))


@course.exercise("03.3")
def two_groups(answer, con=None, model=None, **_) -> course.Verdict:
    """``answer``: the customer ids in both marketing groups "high value" (MVC) and "complained recently"."""
    if model is None:
        return course.Verdict(False, say("ex3_no_model"))
    if "complained recently" in model.unknown_groups:
        return course.Verdict(False, say("ex3_no_tickets"))
    if isinstance(answer, str):
        raise TypeError("a list of customer ids, not one text")
    given = {str(x) for x in answer}
    rows = con.execute("""SELECT customer_id, value_tier = 'MVC' AS high, coalesce(complaints_180d, 0) > 0 AS complained
                          FROM main.customer_model WHERE as_of = CAST(? AS DATE)""", [str(model.as_of)]).fetchall()
    high = {cid for cid, h, _c in rows if h}
    complained = {cid for cid, _h, c in rows if c}
    expected = high & complained
    if given == expected:
        return course.Verdict(True, say("ex3_right", n=len(expected), high=len(high), complained=len(complained)))
    if given == high | complained and high | complained != expected:
        why = say("ex3_union", given=len(given), n=len(expected))
    elif given in (high, complained) and given != expected:
        why = say("ex3_one_group", given=len(given), n=len(expected))
    else:
        missing, extra = expected - given, given - expected
        why = say("ex3_wrong", n=len(expected), missing=len(missing), extra=len(extra))
    return course.Verdict(False, why)
