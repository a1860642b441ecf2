"""Customer lifetime value from the two fitted models, the holdout check, and the
customer summary they are fitted to.

Assumptions: a customer's value is the BG/NBD expected purchases times the Gamma-Gamma
expected value of a purchase times a fixed margin -- which holds only because the
Gamma-Gamma model assumes spend independent of the purchase process; each period's
expected purchases are discounted at the period's end at one rate per period (the
lifetimes method). The holdout check compares, by calibration repeat purchases, the
purchases the BG/NBD model expects in a holdout period with those made. The purchase-log
summary follows the conventions listed on :func:`summary_from_events`.

References: Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "RFM and CLV: Using
Iso-Value Curves for Customer Base Analysis", *Journal of Marketing Research* 42(4),
415-430 (the value); Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy
Way", *Marketing Science* 24(2), 275-284, Figure 4 (the holdout check).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .base import _array, _check_rfm, _first_bad, _index_of, _is_scalar, _output, _xT_groups
from .bgnbd import BetaGeo
from .gamma_gamma import GammaGamma


def customer_lifetime_value(
    bg: BetaGeo,
    gg: GammaGamma,
    frequency,
    recency,
    T,
    monetary_value,
    periods: int,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    period_length: float = 1.0,
):
    """Expected discounted margin from each customer over the next ``periods`` periods.

    CLV = sum over i = 1..periods of
    (E[Y(i L)] - E[Y((i-1) L)]) * spend * margin / (1 + discount_rate)^i,
    with E[Y(t)] the BG/NBD conditional expected purchases in the next t time units,
    L = ``period_length`` and spend the Gamma-Gamma conditional expected value of a purchase
    (the lifetimes method: each period's expected purchases discounted at the period's end).

    Units: ``recency``, ``T`` and ``period_length`` are in the time unit the BG/NBD model
    was fitted in; a *period* is ``period_length`` of those units and ``discount_rate`` is
    the rate per period. With a model in weeks, ``period_length=1`` makes periods weeks
    (``discount_rate`` weekly); ``period_length=365.25 / 12 / 7`` (about 4.35) makes them
    months with a monthly rate. ``margin`` is the share of a purchase's value that is
    profit (1.0 gives discounted revenue).

    Parameters
    ----------
    bg : BetaGeo
        Fitted purchase model.
    gg : GammaGamma
        Fitted spend model.
    frequency, recency, T : array-like
        Customer summary at the end of the calibration period.
    monetary_value : array-like
        Mean value of each customer's repeat purchases (ignored where frequency is 0).
    periods : int
        Number of periods in the horizon (>= 1).
    margin : float, default 1.0
        Profit margin on spend, a fraction.
    discount_rate : float, default 0.0
        Discount rate per period (0.01 = 1% per period).
    period_length : float, default 1.0
        Length of one period in the model's time unit.

    Returns
    -------
    ndarray or Series or float
        Discounted expected margin per customer (a Series named ``clv`` on the input's
        index when the input is pandas).
    """
    if int(periods) != periods or periods < 1:
        raise ValueError(f"periods: a whole number >= 1 is needed, got {periods}")
    if not (period_length > 0 and math.isfinite(period_length)):
        raise ValueError(f"period_length: must be > 0, got {period_length}")
    if discount_rate <= -1:
        raise ValueError(f"discount_rate: must be > -1, got {discount_rate}")
    scalar = _is_scalar(frequency, recency, T, monetary_value)
    index = _index_of(frequency, recency, T, monetary_value)
    x, tx, T_ = _check_rfm(frequency, recency, T)
    spend = _array("spend", gg.conditional_expected_spend(x, _array("monetary_value", monetary_value)))
    # E[Y(t)] = E[Y(t) | alive] (by distinct (x, T)) x P(alive) (by customer, the same for every t):
    # the discounted sum over the periods is taken per (x, T), then times P(alive) once
    codes, ux, uT = _xT_groups(x, T_)
    per_pair = np.zeros(len(ux))
    previous = np.zeros(len(ux))
    for i in range(1, int(periods) + 1):
        current = bg._expected_if_alive(i * period_length, ux, uT)
        per_pair += (current - previous) / (1.0 + discount_rate) ** i
        previous = current
    value = (per_pair if codes is None else per_pair[codes]) * bg._p_alive(x, tx, T_)
    return _output(value * spend * margin, index, "clv", scalar)


def holdout_comparison(
    bg: BetaGeo,
    calibration: pd.DataFrame,
    holdout_purchases,
    holdout_length: float,
    max_frequency: int = 7,
) -> pd.DataFrame:
    """Compare predicted and actual holdout purchases, by calibration repeat purchases.

    The check of Fader, Hardie & Lee (2005), Figure 4: customers are grouped by their
    number of repeat purchases in the calibration period (0, 1, ..., ``max_frequency``-1
    and ``max_frequency``+), and each group's mean actual purchases in the holdout period
    are set beside the mean of the model's conditional expectation E[Y(t) | x, t_x, T].

    Parameters
    ----------
    bg : BetaGeo
        Model fitted on the calibration period.
    calibration : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (calibration summary), one row per
        customer.
    holdout_purchases : Series or array-like
        Purchases (repeat transactions) of each customer in the holdout period, aligned
        with ``calibration`` (by index if a Series).
    holdout_length : float
        Length of the holdout period, in the model's time unit.
    max_frequency : int, default 7
        The last, open group (7 gives groups 0..6 and 7+). A group without customers
        shows NaN means.

    Returns
    -------
    DataFrame
        Indexed by ``frequency`` (labels "0", ..., "7+"), columns ``customers``,
        ``actual`` and ``predicted`` (mean holdout purchases per customer in the group),
        ``actual_total`` and ``predicted_total``. ``attrs`` holds the error figures:
        ``mae`` (mean absolute error of the group means weighted by customers),
        ``actual_total``, ``predicted_total``, ``total_error`` (predicted / actual - 1)
        and ``customers``.
    """
    if int(max_frequency) != max_frequency or max_frequency < 1:
        raise ValueError(f"max_frequency: a whole number >= 1 is needed, got {max_frequency}")
    missing = {"frequency", "recency", "T"} - set(calibration.columns)
    if missing:
        raise ValueError(f"calibration: missing column(s) {sorted(missing)}")
    if isinstance(holdout_purchases, pd.Series):
        if not holdout_purchases.index.equals(calibration.index):
            holdout_purchases = holdout_purchases.reindex(calibration.index)
    actual = _array("holdout_purchases", holdout_purchases)
    if len(actual) != len(calibration):
        raise ValueError(f"holdout_purchases: expected {len(calibration)} values, got {len(actual)}")
    bad = ~np.isfinite(actual)
    if bad.any():
        raise ValueError(f"holdout_purchases: missing value at {_first_bad(bad, calibration.index)}")
    x, tx, T_ = _check_rfm(calibration["frequency"], calibration["recency"], calibration["T"])
    predicted = bg._conditional_expectation(float(holdout_length), x, tx, T_)
    group = np.minimum(x, max_frequency).astype(int)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"group": group, "actual": actual, "predicted": predicted})
    sums = frame.groupby("group").agg(
        customers=("actual", "size"), actual_total=("actual", "sum"), predicted_total=("predicted", "sum")
    )
    sums = sums.reindex(range(max_frequency + 1), fill_value=0)
    customers = sums["customers"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty group's means are NaN
        actual_mean = np.where(customers > 0, sums["actual_total"].to_numpy() / customers, np.nan)
        predicted_mean = np.where(customers > 0, sums["predicted_total"].to_numpy() / customers, np.nan)
    table = pd.DataFrame(
        {
            "customers": customers,
            "actual": actual_mean,
            "predicted": predicted_mean,
            "actual_total": sums["actual_total"].to_numpy(),
            "predicted_total": sums["predicted_total"].to_numpy(),
        },
        index=pd.Index(labels, name="frequency"),
    )
    n = int(table["customers"].sum())
    actual_total = float(actual.sum())
    predicted_total = float(predicted.sum())
    table.attrs.update(
        mae=float((table["customers"] * (table["actual"] - table["predicted"]).abs()).sum() / max(n, 1)),
        actual_total=actual_total,
        predicted_total=predicted_total,
        total_error=predicted_total / actual_total - 1 if actual_total else math.nan,
        customers=n,
    )
    return table


_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def summary_from_events(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    value_col: str | None,
    observation_end,
    freq: str | float = "W",
    calibration_end=None,
) -> pd.DataFrame:
    """Customer summary (frequency, recency, T, monetary value) from a purchase log.

    A small pandas reference implementation, for tests and tiny data. The workbook's
    database version of this summary lives in ``rfm.py`` and runs as SQL in DuckDB; this one
    defines the conventions that version must match:

    1. Only purchases on or before ``observation_end`` count; times are calendar days
       (a timestamp's time of day is dropped).
    2. A customer's purchases on one day are one purchase; their values are summed.
    3. The first purchase is not a repeat purchase: ``frequency`` = purchase days - 1.
    4. ``recency`` = last purchase day - first purchase day; ``T`` = end of the
       calibration period - first purchase day; both in units of ``freq`` (a customer
       whose first purchase is 1997-01-01 has T = 272 / 7 = 38.857 weeks at 1997-09-30,
       as in Fader and Hardie's CDNOW summary).
    5. ``monetary_value`` = mean value of the repeat purchases (the first purchase left
       out), 0 for a customer without repeat purchases (as in lifetimes).
    6. With ``calibration_end``, the summary describes the calibration period (purchases up
       to and including ``calibration_end``), only customers whose first purchase falls in
       it are kept, and holdout columns describe the days after it up to
       ``observation_end``: ``frequency_holdout`` (purchase days), ``monetary_value_holdout``
       (their mean value, 0 if none) and ``duration_holdout``.

    Parameters
    ----------
    df : DataFrame
        One row per purchase (or order line). Dates as datetimes or ISO-8601 text.
    customer_col, date_col : str
        Column names of the customer id and the purchase date.
    value_col : str or None
        Column with the purchase value; None leaves the monetary columns out.
    observation_end : date-like
        Last day of the observation period.
    freq : {"D", "W", "M"} or float, default "W"
        Time unit: days, weeks (7 days), months (365.25 / 12 days), or a number of days.
    calibration_end : date-like, optional
        Last day of the calibration period, for a calibration/holdout split.

    Returns
    -------
    DataFrame
        Indexed by customer: ``frequency``, ``recency``, ``T`` (and ``monetary_value``),
        plus the holdout columns when ``calibration_end`` is given.
    """
    unit = float(_UNIT_DAYS[freq]) if isinstance(freq, str) and freq in _UNIT_DAYS else None
    if unit is None:
        try:
            unit = float(freq)
        except (TypeError, ValueError):
            raise ValueError(f"freq: one of {sorted(_UNIT_DAYS)} or a number of days, got {freq!r}") from None
        if not unit > 0:
            raise ValueError(f"freq: a number of days must be > 0, got {freq!r}")
    for col in (customer_col, date_col) + ((value_col,) if value_col else ()):
        if col not in df.columns:
            raise ValueError(f"summary_from_events: no column {col!r} in the purchase log")
    obs_end = pd.Timestamp(observation_end).normalize()
    cal_end = obs_end if calibration_end is None else pd.Timestamp(calibration_end).normalize()
    if cal_end > obs_end:
        raise ValueError(f"calibration_end {cal_end.date()} is after observation_end {obs_end.date()}")

    cols = [customer_col, date_col] + ([value_col] if value_col else [])
    log = df[cols].copy()
    dates = log[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, format="ISO8601")
    log["_day"] = dates.dt.normalize()
    bad = log["_day"].isna().to_numpy() | log[customer_col].isna().to_numpy()
    if bad.any():
        raise ValueError(f"summary_from_events: missing customer or date at {_first_bad(bad, log.index)}")
    log = log[log["_day"] <= obs_end]
    if value_col:
        log["_value"] = pd.to_numeric(log[value_col]).astype(np.float64)
        bad = log["_value"].isna().to_numpy()
        if bad.any():
            raise ValueError(f"summary_from_events: missing {value_col!r} at {_first_bad(bad, log.index)}")
    else:
        log["_value"] = 0.0
    days = log.groupby([customer_col, "_day"], sort=True)["_value"].sum().reset_index()

    cal = days[days["_day"] <= cal_end]
    per = cal.groupby(customer_col, sort=True)
    first = per["_day"].min()
    last = per["_day"].max()
    n_days = per.size()
    total = per["_value"].sum()
    first_value = per["_value"].first()  # days are sorted within a customer
    one_day = pd.Timedelta(days=1)
    out = pd.DataFrame(
        {
            "frequency": (n_days - 1).astype(np.int64),
            "recency": (last - first) / one_day / unit,
            "T": (cal_end - first) / one_day / unit,
        }
    )
    out.index.name = customer_col
    if value_col:
        repeat_value = (total - first_value).to_numpy()
        freq_ = out["frequency"].to_numpy()
        out["monetary_value"] = np.where(freq_ > 0, repeat_value / np.maximum(freq_, 1), 0.0)
    if calibration_end is not None:
        hold = days[(days["_day"] > cal_end) & days[customer_col].isin(out.index)]
        hper = hold.groupby(customer_col)
        out["frequency_holdout"] = hper.size().reindex(out.index, fill_value=0).astype(np.int64)
        if value_col:
            out["monetary_value_holdout"] = hper["_value"].mean().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = (obs_end - cal_end) / one_day / unit
    return out
