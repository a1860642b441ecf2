"""Checks against an answer key: the leakage guard's error, and how close the CLV fit came to the
parameters planted in the sample database (its ``truth`` schema)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from .. import warehouse
from .value import ClvResult


class LeakageError(ValueError):
    """A feature used data dated after the as-of date."""


def _planted_spend_fit(con, customer_type: str, as_of: date):
    """Gamma-Gamma refitted on the order values the sample simulator drew (truth.purchases.spend_drawn,
    before they became whole-unit baskets and were partly returned), for the people of one type:
    (fitted model, repeat buyers). Sample databases only."""
    from .. import clv, rfm

    sql = warehouse.sql
    view = sql.temp_name("planted_spend")
    sql.run(con, "customers.planted_spend", view=sql.ident(view), customer_type=sql.literal(customer_type))
    try:
        s = rfm.repeat_summary(con, as_of, table=view, unit="weeks")
    finally:
        sql.run(con, "customers.drop_view", view=sql.ident(view))
    s = s[s["frequency"] > 0]
    return clv.GammaGamma().fit(s["frequency"], s["monetary_value"]), len(s)


def clv_recovery(con, result: ClvResult) -> pd.DataFrame | None:
    """Fitted against planted CLV parameters, per customer type fitted on its own buyers, when
    the database is the sample with its ``truth`` schema (an evaluation for the reader; never
    used to fit), plus the implied mean spend per purchase p*gamma/(q-1), which is much better
    determined than p and gamma one by one. For the spend parameters, ``drawn_fit`` /
    ``drawn_error`` give Gamma-Gamma refitted on the order values the simulator drew
    (:func:`_planted_spend_fit`): it tells a gap in the data (realised baskets, partial
    returns) from a gap in the fit. ``repeat_buyers`` is the number the spend model was
    fitted on. None without a truth schema."""
    if not warehouse.table_exists(con, "truth", "parameters"):
        return None
    planted = dict(warehouse.sql.run(con, "customers.planted_parameters").fetchall())
    drawn_known = warehouse.table_exists(con, "truth", "purchases") and warehouse.table_exists(con, "truth", "persons")
    rows = []
    for _, r in result.params.iterrows():
        t = r["customer_type"]
        if r["fitted_on"] != f"{t} buyers":
            continue  # valued with the pooled model: no fit of its own to compare
        drawn, drawn_n = _planted_spend_fit(con, t, result.as_of) if drawn_known else (None, None)

        def add(parameter, truth, fitted, drawn_value=None, n=None):
            rows.append({"customer_type": t, "parameter": parameter, "planted": truth, "fitted": fitted,
                         "relative_error": fitted / truth - 1,
                         "drawn_fit": drawn_value, "drawn_error": None if drawn_value is None else drawn_value / truth - 1,
                         "repeat_buyers": n})

        for p in ("r", "alpha", "a", "b"):
            if f"{t}_{p}" in planted:
                add(p, planted[f"{t}_{p}"], r[p], n=r["repeat_customers"])
        for p in ("p", "q", "gamma"):
            if f"{t}_{p}" in planted:
                add(p, planted[f"{t}_{p}"], r[p], None if drawn is None else drawn.params_[p], r["repeat_customers"])
        keys = [f"{t}_{p}" for p in ("p", "q", "gamma")]
        if all(k in planted for k in keys) and planted[keys[1]] > 1 and r["q"] > 1:
            true_mean = planted[keys[0]] * planted[keys[2]] / (planted[keys[1]] - 1)
            add("mean spend p*gamma/(q-1)", true_mean, r["p"] * r["gamma"] / (r["q"] - 1),
                None if drawn is None else drawn.population_mean_spend(), r["repeat_customers"])
    out = pd.DataFrame(rows) if rows else None
    if out is not None:
        out[["drawn_fit", "drawn_error"]] = out[["drawn_fit", "drawn_error"]].astype(float)
    return out
