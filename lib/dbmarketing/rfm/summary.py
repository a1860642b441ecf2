"""The customer summary: recency, frequency and monetary value of every customer at an as-of date.

The three figures database marketing reads first, for every customer at an as-of date:

- **recency** -- days from the last purchase to the as-of date (0 = bought that day);
- **frequency** -- how many purchases: orders (default) or purchase days;
- **monetary value** -- net spend (after returns), in total and per order.

Everything over transactions runs as SQL inside DuckDB; pandas receives one row per customer.

:func:`summarize` -- the customer summary at ``as_of``. By default it reads the purchases
**as they were known at** ``as_of`` (:func:`dbmarketing.cleanse.sales_as_of`): sales dated up
to ``as_of``, net of the returns made up to ``as_of`` only, so a summary of last quarter
does not see this month's returns. ``table=`` names any other purchase table or view
(``customer_id``, ``order_date``, ``net_amount``, optionally ``order_id``). Frequency counts
distinct orders (``order_id``; the workbook's own ``main.sales`` is one row per order, so
its rows are counted directly) or distinct purchase days. With ``window`` only the last
``window`` days count for frequency and monetary value (recency always looks at the
whole history). Customers of the ``customers`` table who had signed up by ``as_of`` (or
have no signup date) but never bought are **prospects**: a row with ``is_prospect`` true
and empty values and scores, never zeros mixed into the scores.
With ``repeat=True`` it adds the **repeat-purchase summary** the CLV models use
(``clv_frequency``, ``clv_recency``, ``clv_T``, ``clv_monetary_value``), following the
conventions of :func:`dbmarketing.clv.summary_from_events` exactly (purchases on one day
are one purchase; the first purchase is not a repeat purchase; times are whole days,
in days or weeks). :func:`repeat_summary` returns that summary with the lifetimes
column names, optionally split into calibration and holdout periods.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from .. import cleanse, warehouse
from ..warehouse import dialect, sql
from ._common import _check_name, _columns, _frame, _relation

__all__ = ["UNITS", "MEASURES", "MONEY_DIGITS", "BITSTRING_MAX_DAYS", "summarize", "repeat_summary", "buyer_columns",
           "summed_by_cleaning", "summed_master", "write_purchase_summary"]

UNITS = {"days": 1, "d": 1, "weeks": 7, "w": 7}
MEASURES = ("recency", "frequency", "monetary")
# Sums of money are rounded to this many decimals: a floating-point sum depends on the order
# DuckDB adds in, and equal spend must stay equal (ties share a score).
MONEY_DIGITS = 6
# Distinct purchase days are counted with a bitstring per customer when the date range is
# at most this many days (fast, ~range/8 bytes per customer); beyond it with count(DISTINCT).
BITSTRING_MAX_DAYS = 4000


def _as_date(value, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"{what} must be a date like 2026-10-31, got {value!r}") from None


def _resolve_as_of(con, as_of, table: str | None) -> date:
    return warehouse.resolve_as_of(con, as_of, purchases=None if table is None else _check_name(table, "table"))


def _purchases(con, as_of: date, table: str | None) -> str:
    """The purchase relation to summarize: ``table`` as given, or (None) the purchases as they
    were known at ``as_of`` (:func:`dbmarketing.cleanse.sales_as_of`)."""
    if table is not None:
        return _check_name(table, "table")
    try:
        return cleanse.sales_as_of(con, as_of)
    except duckdb.CatalogException as error:
        raise ValueError(f"the purchases as known at {as_of} need main.returns and main.sales_returned "
                         f"({str(error).splitlines()[0]}): this database was cleaned by an older version; "
                         f"run notebook 02 (data cleaning) again") from None


def _one_row_per_order(relation: str) -> bool:
    """Relations the workbook writes one row per order (order_id is their key): their rows
    are counted as orders directly, which saves a count(DISTINCT) over every transaction."""
    return relation in ("main.sales", "main.sales_returned") or relation.startswith("_sales_as_of_")


def _unit_days(unit: str) -> int:
    key = str(unit).strip().lower()
    if key not in UNITS:
        raise ValueError(f"unit must be 'days' or 'weeks', got {unit!r}")
    return UNITS[key]


def _summary_sql(con, as_of: date, window: int | None, table: str, customers: str | None, unit: int,
                 frequency: str, repeat: bool, holdout_end: date | None = None,
                 customer_type: str | None = None, holdout_table: str | None = None,
                 summed: bool | None = None, margin: bool = False) -> tuple[dict, dict]:
    """The statement ``rfm.summary`` of the customer summary (see :func:`summarize`): its parts
    and its parameters. One implementation for the RFM values, the repeat-purchase summary and
    its holdout columns. ``table`` holds the purchases up to ``as_of``; ``holdout_table``
    (default: the same) those after it, up to ``holdout_end``. The aggregates are composed
    here from the periods they count (conditions on ``$parameters``, no values). ``summed``:
    read the sums of ``main.purchase_summary`` instead of aggregating the purchases (None:
    whenever :func:`summed_by_cleaning` says they are the same). ``margin``: sum the margin too
    (``main.purchase_summary``; NULL where the purchases have no margin column)."""
    holdout_table = holdout_table or table
    relations = dict.fromkeys([table, holdout_table] if holdout_end is not None else [table])
    cols = {}
    for relation in relations:
        _check_name(relation, "table")
        cols[relation] = _columns(con, relation)
        missing = [c for c in ("customer_id", "order_date", "net_amount") if c not in cols[relation]]
        if missing:
            raise ValueError(f"{relation}: no column {', '.join(missing)} (a purchase table needs customer_id, "
                             f"order_date and net_amount, one row per order or an order_id)")
    if frequency not in ("orders", "days"):
        raise ValueError(f"frequency must be 'orders' or 'days', got {frequency!r}")
    if window is not None and (int(window) != window or window < 1):
        raise ValueError(f"window must be a whole number of days >= 1 (or None for all history), got {window!r}")
    if holdout_end is not None and holdout_end < as_of:
        raise ValueError(f"the holdout ends ({holdout_end}) before the calibration period ({as_of})")
    if summed is None:
        summed = holdout_end is None and window is None and table == "main.sales" and summed_by_cleaning(con, as_of)
    # orders are distinct order_ids, unless the relation is known to hold one row per order
    by_id = all("order_id" in cols[r] and not _one_row_per_order(r) for r in relations)
    params = {"_summed": summed,  # (no statement's parameter: whether the summary reads main.purchase_summary)
              "as_of": as_of, "end": holdout_end or as_of, "holdout_end": holdout_end, "unit": float(unit),
              "money_digits": MONEY_DIGITS, "customer_type": customer_type,
              "window_start": as_of - timedelta(days=int(window)) if window else None}

    def rows(relation: str, period: str) -> str:
        day = "order_date" if cols[relation]["order_date"] == "DATE" else "CAST(order_date AS DATE)"
        g = "CAST(margin AS DOUBLE)" if "margin" in cols[relation] else "CAST(NULL AS DOUBLE)"
        return sql.text("rfm.purchase_rows", relation=_relation(relation), day=day,
                        order_id=", order_id" if by_id else "", period=period.format(day=day),
                        margin=f", {g} AS g" if margin else "")

    if holdout_table == table:
        tx = rows(table, "{day} <= $end")
    else:  # the calibration period as known at its end, the holdout as known at the holdout's end
        tx = f"{rows(table, '{day} <= $as_of')}\n    UNION ALL {rows(holdout_table, '{day} <= $end AND {day} > $as_of')}"
    period = "d <= $as_of" if holdout_end is not None else None
    in_window = "d > $window_start" if window else None

    def filt(*conds):
        conds = [c for c in conds if c]
        return f" FILTER (WHERE {' AND '.join(conds)})" if conds else ""

    def orders(*conds):
        if not by_id:
            return f"count(*){filt(*conds)}"
        return f"(count(DISTINCT order_id){filt(*conds)} + count(*){filt('order_id IS NULL', *conds)})"

    need_days = repeat or frequency == "days"
    if need_days:  # (read from main.purchase_summary when summed: no pass over the purchases)
        lo, hi = sql.one(con, "rfm.purchase_days", params, purchases=tx) if not summed else (None, None)
        span = (hi - lo).days if lo is not None else 0
        params["first_day"] = lo
        if span <= BITSTRING_MAX_DAYS and lo is not None and dialect.engine_of(con) == dialect.ENGINE:
            def distinct_days(*conds):
                return f"coalesce(bit_count(bitstring_agg(CAST(d - $first_day AS INTEGER), 0, {span}){filt(*conds)}), 0)"
        else:
            def distinct_days(*conds):
                return f"count(DISTINCT d){filt(*conds)}"

    aggs = [f"min(d){filt(period)} AS first_purchase", f"max(d){filt(period)} AS last_purchase",
            f"{orders(period, in_window)} AS orders",
            f"coalesce(round(sum(v){filt(period, in_window)}, $money_digits), 0) AS monetary"]
    if frequency == "days":
        aggs.append(f"{distinct_days(period, in_window)} AS days_w")
    if repeat:
        # sums of money rounded to the money unit (as monetary is): a sum of DOUBLEs taken in another
        # order (another engine, another thread) differs in its last bits, which the CLV fits carry
        # into their parameters; rounded, every engine gives the same total when amounts are in cents
        aggs += [f"count(*){filt(period)} AS n_rows", f"round(sum(v){filt(period)}, $money_digits) AS total",
                 f"{distinct_days(period)} AS n_days", f"arg_min(v, d){filt(period)} AS first_v"]
    if margin:
        aggs.append(f"sum(g){filt(period)} AS margin")
    if holdout_end is not None:
        aggs += [f"{distinct_days('d > $as_of')} AS days_h", "coalesce(round(sum(v) FILTER (WHERE d > $as_of), $money_digits), 0) AS total_h"]
    buyer_cols = [
        "a.customer_id", "a.first_purchase", "a.last_purchase",
        "CAST($as_of - a.last_purchase AS INTEGER) AS recency",
        f"CAST({'a.days_w' if frequency == 'days' else 'a.orders'} AS BIGINT) AS frequency",
        "a.monetary", "CASE WHEN a.orders > 0 THEN round(a.monetary / a.orders, $money_digits) END AS avg_order_value",
    ]
    fix = repeat and not summed  # the first day's value summed where that day holds several purchases
    first_v = "coalesce(f.first_v, a.first_v)" if fix else "a.first_v"
    if repeat:
        buyer_cols += [
            "CAST(a.n_days - 1 AS BIGINT) AS clv_frequency",
            "CAST(date_diff('day', a.first_purchase, a.last_purchase) AS DOUBLE) / $unit AS clv_recency",
            "CAST(date_diff('day', a.first_purchase, $as_of) AS DOUBLE) / $unit AS clv_T",
            f"CASE WHEN a.n_days > 1 THEN (a.total - {first_v}) / (a.n_days - 1) ELSE 0.0 END AS clv_monetary_value",
        ]
        if holdout_end is not None:
            buyer_cols += [
                "CAST(a.days_h AS BIGINT) AS clv_frequency_holdout",
                "CASE WHEN a.days_h > 0 THEN a.total_h / a.days_h ELSE 0.0 END AS clv_monetary_value_holdout",
                "CAST(date_diff('day', $as_of, $holdout_end) AS DOUBLE) / $unit AS clv_duration_holdout",
            ]
    names = [c.split(" AS ")[-1].split(".")[-1] for c in buyer_cols[1:]]
    values = ", ".join("b." + n for n in names)
    # the master as main.purchase_summary holds it: no join of every buyer with the master
    master_summed = summed and customers == "main.customers" and summed_master(con)

    if customers is None:
        if customer_type is not None:
            raise ValueError("customer_type needs a customers table (the customer master) to know the types")
        select = sql.text("rfm.summary_of_buyers", values=values)
    else:
        if master_summed:
            buyer_cols += ["a.orders > 0 AS bought", "a.customer_type", "a.signup_date"]
            select = sql.text("rfm.summary_of_summed_customers",
                              values=", ".join(f"CASE WHEN b.bought THEN b.{n} END AS {n}" for n in names))
        else:
            select = sql.text("rfm.summary_of_customers", values=values, **_master(con, customers))
    if summed:
        aggregated = sql.text("rfm.summed_by_cleaning", who="" if master_summed else "WHERE orders > 0",
                              master=", customer_type, signup_date" if master_summed else "")
    else:
        aggregated = sql.text("rfm.aggregated", purchases=tx, aggregates=", ".join(aggs),
                              having="HAVING count(*) FILTER (WHERE d <= $as_of) > 0" if holdout_end is not None else "")
    parts = {"aggregated": aggregated,
             "first_day_value": ",\n" + sql.text("rfm.first_day_value") if fix else "",
             "first_day_join": "LEFT JOIN fix f ON a.customer_id = f.customer_id" if fix else "",
             "buyer_columns": ", ".join(buyer_cols), "select": select}
    return parts, params


def summed_by_cleaning(con, as_of: date) -> bool:
    """Whether the customer summary at ``as_of`` of every purchase in ``main.sales`` can read
    ``main.purchase_summary`` (:func:`write_purchase_summary`, written by the cleaning with
    ``main.sales``) instead of aggregating every purchase again: it exists, its purchases, last
    date and total are main.sales's (a table changed since would differ), and every purchase
    counts at ``as_of`` (none is dated after it). Ten times the purchases cost ten times the
    aggregate; these checks cost one pass over three columns. A summary written by an older
    version without a column this one reads (the margin) is not read: the purchases are."""
    if not warehouse.table_exists(con, "main", "purchase_summary"):
        return False
    if not {c.name for c in cleanse.transactions.PURCHASE_SUMMARY_COLUMNS} <= set(_columns(con, "main.purchase_summary")):
        return False
    n, last, total = sql.one(con, "rfm.sales_totals")
    summed_n, summed_last, summed_total = sql.one(con, "rfm.purchase_summary_totals")
    if n != (summed_n or 0) or last != summed_last or (last is not None and as_of < last):
        return False
    if total is None or summed_total is None:
        return total is None and summed_total is None
    # each customer's total is rounded to MONEY_DIGITS: the sums differ by at most half a unit each
    return abs(total - summed_total) <= 1e-9 * abs(total) + 0.5 * 10.0 ** -MONEY_DIGITS * max(n, 1)


def _master(con, customers: str) -> dict:
    """The customer master ``customers`` as the statements read it: its relation, and its
    customer_type and signup_date columns (NULL where it has none)."""
    _check_name(customers, "customers")
    ccols = _columns(con, customers)
    if "customer_id" not in ccols:
        raise ValueError(f"{customers}: no column customer_id")
    return {"customers": _relation(customers),
            "customer_type": "customer_type" if "customer_type" in ccols else "CAST(NULL AS VARCHAR)",
            "signup_date": "signup_date" if "signup_date" in ccols else "CAST(NULL AS DATE)"}


def summed_master(con) -> bool:
    """Whether ``main.purchase_summary`` holds the customer master ``main.customers`` as it is
    (every customer, with their type and signup date: written by the cleaning with both), so
    that the summary of every customer reads the master's columns and its prospects from it
    instead of joining every buyer with the master: the master's customers and the sum of the
    hashes of their (customer, type, signup date) are those :func:`write_purchase_summary` kept
    (one pass over the master's three columns). On DuckDB only: another engine joins."""
    if dialect.engine_of(con) != dialect.ENGINE:
        return False
    kept = sql.one(con, "rfm.kept_master_fingerprint")
    if not kept or not kept[0]:  # written by an older version
        return False
    return kept[0] == _master_fingerprint(con)


def _master_fingerprint(con) -> str | None:
    """main.customers's customers and hash sum as text (None where it has no customer_type or
    signup_date: the summary then keeps no master)."""
    parts = _master(con, "main.customers")
    if "NULL" in parts["customer_type"] + parts["signup_date"]:
        return None
    n, hashes = sql.one(con, "rfm.master_fingerprint", customers=parts["customers"])
    return f"{n} customers, hash sum {hashes}"


def write_purchase_summary(con) -> int:
    """Write ``main.purchase_summary``: every customer's purchases in ``main.sales`` summed --
    first and last purchase, orders, net spend, distinct purchase days, the value of the
    first purchase day and the margin -- by the same aggregates :func:`summarize` runs over the purchases
    (``repeat=True``, every purchase counting). The cleaning writes it with ``main.sales``, so
    that RFM and the CLV summary of every purchase (:func:`summed_by_cleaning`) read one row
    per customer instead of every purchase. Returns its rows."""
    last = sql.one(con, "rfm.sales_totals")[1]
    as_of = last if last is not None else date.today()
    parts, params = _summary_sql(con, as_of, None, "main.sales", None, 1, "days", True, summed=False, margin=True)
    master = _master(con, "main.customers")
    sql.run(con, "rfm.purchase_summary", params, aggregated=parts["aggregated"],
            first_day_value=parts["first_day_value"], first_day_join=parts["first_day_join"],
            first_v="coalesce(f.first_v, a.first_v)", customers=master["customers"],
            customer_type=master["customer_type"], signup_date=master["signup_date"])
    fingerprint = _master_fingerprint(con)
    if fingerprint is not None:
        sql.run(con, "rfm.keep_master_fingerprint", fingerprint=sql.literal(fingerprint))
    return int(sql.one(con, "warehouse.count_rows", table=sql.ident("main", "purchase_summary"))[0])


def population_of(customers: str | None, customer_type: str | None) -> str:
    """Who is scored together, in words (stored with the scores)."""
    return customer_type if customer_type else ("all customers" if customers else "all buyers")


def summary_query(con, as_of, window: int | None, table: str | None, customers: str | None, unit: str,
                  frequency: str, customer_type: str | None, repeat: bool,
                  summed: bool | None = None) -> tuple[date, dict, dict]:
    """The as-of date resolved and the statement ``rfm.summary`` of the customer summary at it
    (its parts and parameters; see :func:`summarize` for the arguments): what :func:`summarize`
    and :func:`dbmarketing.rfm.compute` run. ``summed``: whether it may read main.purchase_summary
    (None: :func:`summed_by_cleaning` says; a caller that asked already passes its answer)."""
    as_of = _resolve_as_of(con, as_of, table)
    relation = _purchases(con, as_of, table)
    return as_of, *_summary_sql(con, as_of, window, relation, customers, _unit_days(unit), frequency, repeat,
                                customer_type=customer_type, summed=summed)


def summarize(con, as_of, window: int | None = None, table: str | None = None,
              customers: str | None = "main.customers", unit: str = "days", frequency: str = "orders",
              customer_type: str | None = None, repeat: bool = False, sort: bool = False) -> pd.DataFrame:
    """Recency, frequency and monetary value of every customer at ``as_of``, computed in DuckDB.

    Parameters
    ----------
    con : DuckDB connection to the customer database.
    as_of : date, ISO text or "latest" (the newest purchase not after today). Only
        purchases dated on or before it count.
    window : only the last ``window`` days (``as_of - window + 1 .. as_of``) count for
        frequency and monetary value; None counts all history. Recency is always days since
        the last purchase ever.
    table : None (default): the purchases as they were known at ``as_of``
        (:func:`dbmarketing.cleanse.sales_as_of`: ``main.sales`` with only the returns made by
        then netted). Or a table or view with ``customer_id``, ``order_date`` and
        ``net_amount`` (and ``order_id`` if it may hold several rows per order), used as it is.
    customers : the customer master, one row per customer (``customer_id``, optionally
        ``customer_type`` and ``signup_date``), for prospects and customer types; None for a
        purchase log alone.
    unit : "days" or "weeks", the unit of the repeat-purchase columns.
    frequency : "orders" (distinct ``order_id``; rows where the table has none, or is
        ``main.sales``, one row per order) or "days" (distinct purchase days).
    customer_type : keep only customers of this type (e.g. "consumer").
    repeat : add the repeat-purchase summary for CLV models: ``clv_frequency`` (repeat
        purchase days), ``clv_recency`` (first to last purchase), ``clv_T`` (first purchase
        to ``as_of``), ``clv_monetary_value`` (mean value of the repeat purchase days, 0 if
        none), in ``unit``; the conventions of :func:`dbmarketing.clv.summary_from_events`.
    sort : sort the rows by customer_id (otherwise they come in no particular order, which
        saves a sort of every customer).

    Returns
    -------
    DataFrame, one row per customer: ``customer_id``, ``as_of``, ``customer_type``,
    ``is_prospect``, ``first_purchase``, ``last_purchase``, ``recency`` (days), ``frequency``,
    ``monetary`` (net spend in the window), ``avg_order_value`` (per order in the window),
    and the ``clv_*`` columns with ``repeat``. Prospects have empty values.
    """
    if table is None:  # main.sales: on the session's engine (a caller's own table stays on its connection)
        con = warehouse.compute_on(con)
    as_of, parts, params = summary_query(con, as_of, window, table, customers, unit, frequency, customer_type, repeat)
    out = _frame(sql.relation(con, "rfm.summary", params, order_by="ORDER BY customer_id" if sort else "", **parts))
    out.attrs.update(as_of=as_of.isoformat(), window=window, frequency=frequency,
                     population=population_of(customers, customer_type))
    return out


def buyer_columns(con, parts: dict, params: dict, columns: list[str], sort: bool = False) -> pd.DataFrame:
    """Only ``columns`` of the buyers (not the prospects) of the summary statement
    (``parts`` and ``params`` from :func:`summary_query`): the database leaves out what is
    not asked for, and pandas receives only these columns."""
    return _frame(sql.relation(con, "rfm.buyers_of", params, summary=sql.text("rfm.summary", order_by="", **parts),
                               columns=", ".join(columns), order_by="ORDER BY customer_id" if sort else ""))


def repeat_summary(con, observation_end, calibration_end=None, table: str | None = None,
                   unit: str = "weeks", customer_type: str | None = None) -> pd.DataFrame:
    """The repeat-purchase summary of every customer, for the CLV models (BG/NBD, Gamma-Gamma).

    The same SQL as :func:`summarize` (``repeat=True``), with the names of the lifetimes package
    and :func:`dbmarketing.clv.summary_from_events`, whose conventions it follows exactly:
    ``frequency`` (repeat purchase days), ``recency`` (first to last purchase), ``T`` (first
    purchase to the end of the period), ``monetary_value`` (mean value of the repeat purchase
    days, 0 without). With ``calibration_end`` the summary describes purchases up to it, only
    customers who bought by then are kept, and ``frequency_holdout``,
    ``monetary_value_holdout`` and ``duration_holdout`` describe the days after it up to
    ``observation_end``. Indexed by ``customer_id``. ``customer_type``: only the customers of
    this type in ``main.customers`` (the filter runs in the database).

    With ``table=None`` (default) each period reads the purchases as they were known at its
    end (:func:`dbmarketing.cleanse.sales_as_of`): the calibration figures see only the returns
    made by ``calibration_end`` -- what a model fitted on that day would have seen -- and the
    holdout purchases are net of the returns made by ``observation_end``. An explicit
    ``table`` is used as it is for both periods.
    """
    if table is None:  # main.sales: on the session's engine (a caller's own table stays on its connection)
        con = warehouse.compute_on(con)
    obs = _as_date(observation_end, "observation_end")
    cal = obs if calibration_end is None else _as_date(calibration_end, "calibration_end")
    if cal > obs:
        raise ValueError(f"the calibration period ends ({cal}) after the observation end ({obs})")
    relation = _purchases(con, cal, table)
    holdout = _purchases(con, obs, table) if calibration_end is not None else None
    parts, params = _summary_sql(con, cal, None, relation, None if customer_type is None else "main.customers",
                                 _unit_days(unit), "orders", True, customer_type=customer_type,
                                 holdout_end=obs if calibration_end is not None else None, holdout_table=holdout)
    names = ["frequency", "recency", "T", "monetary_value"]
    if calibration_end is not None:
        names += ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    out = buyer_columns(con, parts, params, ["customer_id", *(f"clv_{n}" for n in names)], sort=True)
    out = out.set_index("customer_id").rename(columns={f"clv_{n}": n for n in names})
    out["frequency"] = out["frequency"].astype("int64")
    if "frequency_holdout" in out:
        out["frequency_holdout"] = out["frequency_holdout"].astype("int64")
    return out
