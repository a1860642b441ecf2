"""Value: value tiers (MVC, MGC, BZ), the profit Pareto curve, and CLV per customer type with
its calibration/holdout check."""

from __future__ import annotations

from contextlib import contextmanager

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .. import cleanse, warehouse
from ..present.words import Phrase
from ..warehouse import NotEnoughData

VALUE_TIERS = ("MVC", "MGC", "BZ", "other", "prospect")


def value_tiers(frame: pd.DataFrame, future_value: str = "clv", mvc_share: float = 0.2,
                mgc_share: float = 0.2, mgc_floor: float = 0.5, value: str = "profit") -> pd.Series:
    """Value tier of each customer (a Series aligned with ``frame``), first rule that applies:

    1. **prospect** -- never bought;
    2. **BZ** (below zero): ``profit`` < 0 -- they cost more to serve than they bring;
    3. **MVC** (most valuable): the top ``mvc_share`` of buyers by ``profit`` (among profit >= 0);
    4. **MGC** (most growable): of the buyers left whose ``future_value`` (predicted margin,
       e.g. the 12-month CLV) is at least the ``mgc_floor`` quantile of all buyers' (the
       median by default), the ``mgc_share`` x buyers with the largest growth =
       ``future_value`` - ``profit_12m`` (today's yearly profit), where growth is positive.
       The floor keeps out customers whose future is small but whose today is smaller still
       (lapsed customers, profit_12m near zero or below): growth must be worth having;
    5. **other** buyers.

    ``value`` is "profit" (and ``profit_12m``), or "revenue" (and ``revenue_12m``) where the
    database holds no product costs, so that no margin and no profit can be known.
    """
    today = f"{value}_12m"
    for share in (mvc_share, mgc_share):
        if not 0 < share < 1:
            raise ValueError(f"tier shares must be between 0 and 1, got {share}")
    if not 0 <= mgc_floor < 1:
        raise ValueError(f"mgc_floor is a quantile between 0 and 1, got {mgc_floor}")
    buyer = ~frame["is_prospect"].astype(bool)
    n = int(buyer.sum())
    tier = pd.Series(np.where(buyer, "other", "prospect"), index=frame.index, dtype=object)
    tier[buyer & (frame[value] < 0)] = "BZ"
    pos = frame.loc[buyer & (frame[value] >= 0), value].sort_values(ascending=False, kind="stable")
    tier[pos.index[: int(round(mvc_share * n))]] = "MVC"
    if future_value in frame and frame.loc[buyer, future_value].notna().any():
        floor = frame.loc[buyer, future_value].quantile(mgc_floor)
        rest = frame[(tier == "other") & (frame[future_value] >= floor)]
        growth = (rest[future_value] - rest[today]).dropna()
        growth = growth[growth > 0].sort_values(ascending=False, kind="stable")
        tier[growth.index[: int(round(mgc_share * n))]] = "MGC"
    return tier.rename("value_tier")


def profit_pareto(frame: pd.DataFrame, value: str = "profit") -> pd.DataFrame:
    """The profit Pareto (whale) curve over buyers: customers ranked by ``value``, highest
    first; ``customer_share`` (cumulative share of customers) against ``value_share``
    (cumulative share of the total). With below-zero customers the curve rises above 100%
    and falls back at the end. ``attrs``: ``top20_share``, ``peak_share``, ``peak_customer_share``."""
    v = frame.loc[~frame["is_prospect"].astype(bool), value].astype(float).sort_values(ascending=False).to_numpy()
    total = v.sum()
    if len(v) == 0 or total == 0:
        raise NotEnoughData(f"needs.pareto_{value}")
    cum = np.cumsum(v) / total
    share = np.arange(1, len(v) + 1) / len(v)
    out = pd.DataFrame({"customer_share": np.r_[0.0, share], "value_share": np.r_[0.0, cum]})
    k = max(int(math.ceil(0.2 * len(v))) - 1, 0)
    out.attrs.update(top20_share=float(cum[k]), peak_share=float(cum.max()),
                     peak_customer_share=float(share[int(cum.argmax())]), total=float(total))
    return out


# CLV: BG/NBD + Gamma-Gamma per customer type (the models in dbmarketing.clv, the summary in dbmarketing.rfm)


@dataclass
class ClvResult:
    """What :func:`fit_clv` learned.

    ``params``: one row per customer type: fitted r, alpha (weeks), a, b, p, q, gamma, the
    margin rate used, customers and repeat customers fitted, and ``fitted_on`` (the type's own
    buyers, or "all buyers" for a type too small to fit alone). ``predictions``: one row per
    buyer at ``as_of``: customer_id, customer_type, p_alive, expected_purchases (next
    ``horizon_months``), expected_spend (per purchase), clv (discounted margin over the
    horizon). ``holdout``: the calibration/holdout comparison by calibration repeat
    purchases (:func:`dbmarketing.clv.holdout_comparison`, consumers) with its error figures in
    ``attrs``; ``calibration_end`` is the split date.
    """

    as_of: date
    calibration_end: date
    params: pd.DataFrame
    predictions: pd.DataFrame
    holdout: pd.DataFrame | None  # None when the history is too short: holdout_note says why
    models: dict
    holdout_note: Phrase | None = None
    basis: str = "margin"  # what CLV is in: margin, or revenue where no product costs are known


def _margin_rates(con, A: date, table: str) -> dict:
    rows = warehouse.sql.run(con, "customers.margin_rates", {"as_of": A}, sales=table).fetchall()
    return {t: float(v) for t, v in rows if v is not None}


@contextmanager
def _holdout_purchases(con, calibration_end: date, as_of: date, share: float = 1.0):
    """The purchases of the CLV holdout check, as a temporary relation whose name this yields
    (dropped after): up to ``calibration_end`` as known then (the calibration fit cannot know
    of later returns), after it up to ``as_of`` as known at ``as_of``. With ``share`` < 1 only
    the customers of a fixed sample of about that share (:func:`_sampled_customers`), kept in a
    temporary table: the summary passes over them twice (the range of days, the aggregate), and
    a view would look every purchase up in the sample both times."""
    sql = warehouse.sql
    cal, obs = cleanse.sales_as_of(con, calibration_end), cleanse.sales_as_of(con, as_of)
    name = sql.temp_name("clv_holdout_purchases")
    kind = "VIEW" if share >= 1 else "TABLE"
    sampled = _sampled_customers(share)
    if cal == obs:  # no return between the two dates: every purchase up to as_of, in one pass
        until, after = as_of, ""
    else:
        until, after = calibration_end, sql.text("customers.holdout_after", observed=obs, sampled=sampled,
                                                 calibration_end=sql.literal(calibration_end), as_of=sql.literal(as_of))
    sql.run(con, "customers.holdout_purchases", kind=kind, view=sql.ident(name), calibration=cal,
            until=sql.literal(until), after=after, sampled=sampled)
    try:
        yield name
    finally:
        sql.run(con, "customers.drop_view" if kind == "VIEW" else "rfm.drop_temp_table",
                **{"view" if kind == "VIEW" else "table": sql.ident(name)})


def _sampled_customers(share: float) -> str:
    """A condition on ``customer_id``: its customer is in a fixed sample of about ``share`` of
    the customer master, the customers whose MD5 (the same on DuckDB and Spark) starts below
    ``share`` of the hex range; TRUE for a share of 1 or more."""
    cut = sample_cut(share)
    return "TRUE" if cut is None else warehouse.sql.text("customers.sampled_customers", cut=warehouse.sql.literal(cut))


def sample_cut(share: float) -> str | None:
    """The fixed sample of about ``share`` of the customers: those whose MD5 (hex) starts below
    the eight hex digits returned; None (every customer) for a share of 1 or more."""
    return None if share >= 1 else format(max(1, int(share * 16**8)), "08x")


MIN_CLV_BUYERS, MIN_CLV_REPEATERS = 20, 5


HOLDOUT_CUSTOMERS = 1_000_000


def fit_clv(con, as_of, horizon_months: int = 12, annual_discount_rate: float = 0.10,
            holdout_weeks: int = 39, min_customers: int = 200, min_repeaters: int = 50,
            holdout_customers: int = HOLDOUT_CUSTOMERS) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma for each customer type at ``as_of`` and value every buyer.

    The repeat-purchase summary (weeks) comes from :func:`dbmarketing.rfm.summarize`
    (``repeat=True``, SQL over the purchases as known at ``as_of``:
    :func:`dbmarketing.cleanse.sales_as_of`). Consumers and distributors buy
    in different ways and are fitted apart; a type with fewer than ``min_customers`` buyers or
    ``min_repeaters`` repeat buyers is valued with a model fitted on all buyers. CLV is the
    discounted expected margin over ``horizon_months`` months: the type's observed margin
    rate (gross margin / revenue up to ``as_of``) x Gamma-Gamma spend x BG/NBD purchases,
    discounted monthly at ``annual_discount_rate`` a year.

    The holdout check refits the consumer purchase model on purchases up to
    ``as_of - holdout_weeks`` weeks (the purchases as known then) and compares its predictions
    with the purchases actually made after that date (repeat purchases by number of
    calibration purchases). Of more than ``holdout_customers`` buyers it checks a fixed sample
    of about that many customers (the same customers every run and on every engine): the
    comparison of means needs no more, and its summary then passes over the purchases of the
    sample only (``holdout.attrs["sampled_share"]``).
    """
    from .. import clv, rfm

    con = warehouse.compute_on(con)  # the summaries and margins: on Spark with a session of engine "spark"
    A = warehouse.resolve_as_of(con, as_of)
    known = cleanse.sales_as_of(con, A)
    summed = known == "main.sales" and rfm.summary.summed_by_cleaning(con, A)  # every purchase counts: the cleaning's sums
    _, parts, params = rfm.summary.summary_query(con, A, None, known, "main.customers", "weeks", "orders", None, True,
                                                 summed=summed)
    summ = rfm.buyer_columns(con, parts, params, ["customer_id", "customer_type", "clv_frequency", "clv_recency",
                                                  "clv_T", "clv_monetary_value"], sort=True)
    # sorted: the fits see the same rows in the same order on every engine and every run (an
    # optimizer's last digits depend on the order of the sums it takes).
    # customer_id stays a column: numpy reading a Series checks its attributes against the index,
    # which with ten million customer ids as the index took seconds per call
    repeat_buyers = int((summ["clv_frequency"] > 0).sum())
    if len(summ) < MIN_CLV_BUYERS or repeat_buyers < MIN_CLV_REPEATERS:
        raise NotEnoughData("needs.clv_buyers", min_buyers=MIN_CLV_BUYERS, min_repeaters=MIN_CLV_REPEATERS,
                            buyers=len(summ), repeaters=repeat_buyers, as_of=A)
    if summed:
        known = warehouse.sql.text("rfm.summed_sales")
    margins = _margin_rates(con, A, known)
    total_margin = warehouse.sql.one(con, "customers.margin_rate", {"as_of": A}, sales=known)[0]
    if total_margin is None:  # no product costs: no margin is known, so CLV is in revenue
        total_margin = 1.0
    monthly = (1 + annual_discount_rate) ** (1 / 12) - 1
    month_weeks = 365.25 / 12 / 7

    def fit(s):
        bg = clv.BetaGeo().fit(s["clv_frequency"], s["clv_recency"], s["clv_T"])
        gg = clv.GammaGamma().fit(s["clv_frequency"], s["clv_monetary_value"])
        return bg, gg

    pooled = None
    rows, preds, models = [], [], {}
    for ctype, s in summ.groupby("customer_type", sort=True):
        repeaters = int((s["clv_frequency"] > 0).sum())
        if len(s) >= min_customers and repeaters >= min_repeaters:
            bg, gg = fit(s)
            fitted_on = f"{ctype} buyers"
        else:
            if pooled is None:
                pooled = fit(summ)
            bg, gg = pooled
            fitted_on = "all buyers"
        margin = margins.get(ctype, total_margin)
        f, r, T, m = s["clv_frequency"], s["clv_recency"], s["clv_T"], s["clv_monetary_value"]
        value = clv.customer_lifetime_value(bg, gg, f, r, T, m, periods=horizon_months, margin=margin,
                                            discount_rate=monthly, period_length=month_weeks)
        preds.append(pd.DataFrame({
            "customer_id": s["customer_id"], "customer_type": ctype,
            "p_alive": bg.probability_alive(f, r, T),
            "expected_purchases": bg.expected_purchases(horizon_months * month_weeks, f, r, T),
            "expected_spend": gg.conditional_expected_spend(f, m),
            "clv": value}, index=s.index))
        models[ctype] = (bg, gg)
        rows.append({"customer_type": ctype, **bg.params_, **gg.params_, "margin_rate": margin,
                     "customers": len(s), "repeat_customers": repeaters, "fitted_on": fitted_on})
    params = pd.DataFrame(rows)
    predictions = pd.concat(preds, ignore_index=True)

    cal_end = A - timedelta(weeks=int(holdout_weeks))
    share = min(1.0, holdout_customers / len(summ))
    with _holdout_purchases(con, cal_end, A, share) as purchases:
        hold = rfm.repeat_summary(con, A, calibration_end=cal_end, table=purchases, unit="weeks",
                                  customer_type="consumer").reset_index(drop=True)
    table, note = None, None
    if len(hold) < MIN_CLV_BUYERS or int((hold["frequency"] > 0).sum()) < MIN_CLV_REPEATERS:
        note = Phrase("needs.clv_holdout", {"end": cal_end, "weeks": holdout_weeks, "min_buyers": MIN_CLV_BUYERS,
                                            "min_repeaters": MIN_CLV_REPEATERS, "buyers": len(hold)})
    else:
        bg_cal = clv.BetaGeo().fit(hold["frequency"], hold["recency"], hold["T"])
        table = clv.holdout_comparison(bg_cal, hold, hold["frequency_holdout"], float(hold["duration_holdout"].iloc[0]))
        table.attrs["calibration_params"] = bg_cal.params_
        table.attrs["sampled_share"] = share
    return ClvResult(as_of=A, calibration_end=cal_end, params=params, predictions=predictions,
                     holdout=table, models=models, holdout_note=note,
                     basis="margin" if margins else "revenue (no product costs: margin unknown)")


