"""Customer modeling: who the customers are at an as-of date.

The four customer types of database marketing, as used from notebook 01 on:

1. **current** -- bought within the last ``active_days`` days before the as-of date;
2. **potential** (prospects) -- in the database but never bought: the acquisition list;
3. **lapsed** -- bought before, but not within ``active_days``: the win-back list, kept in
   the database, never deleted;
4. **distributor** -- intermediaries (dealers, wholesalers) who buy to resell; they are
   customers of a different kind and are counted apart whatever their recency.

Only purchases (completed sale orders) dated on or before ``as_of`` count, and only
customers who had signed up by then.

The customer model (notebook 03) builds on the clean ``main`` tables of :mod:`dbmarketing.clean`:

- :func:`customer_360` -- one row per master customer at ``as_of``: demographics, tenure, type,
  source, consents, lifecycle stage (:class:`LifecycleRules`), revenue, gross margin at product
  cost, cost to serve (:class:`ServiceCosts`), profit, channel and category mix, campaign
  history, complaints. Computed in DuckDB from feature sources (:data:`SOURCES`) that each
  report the newest date they used: a date after ``as_of`` raises :class:`LeakageError`;
- :func:`lifecycle` -- the lifecycle stage alone; :func:`value_tiers` (MVC, MGC, BZ) and
  :func:`profit_pareto`;
- :func:`fit_clv` -- BG/NBD and Gamma-Gamma (:mod:`dbmarketing.clv`) per customer type on the
  repeat-purchase summary of :func:`dbmarketing.rfm.summarize`, CLV with a margin and a
  discount rate, and the calibration/holdout check;
- :func:`churn_model` -- "no purchase in the next ``horizon_days``": a decision tree and a
  logistic regression on a time-based split, AUC, top-decile lift, calibration; and
  :func:`valuable_at_risk`, the valuable customers at high risk with their reasons;
- :func:`segment` -- k-means on log-transformed, standardized behaviour, k by silhouette,
  profiles as indices (100 = average); :func:`marketing_groups` (overlapping lists);
- :func:`build_customer_model` -- all of it, written to ``main.customer_model`` (one row per
  customer per as-of date; rows of that date replaced, other dates kept; in the catalog with
  privacy tiers); :func:`customer_view` -- one customer's 360 view for the lookup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from . import db

CUSTOMER_TYPES = ("current", "potential", "lapsed", "distributor")


def customer_types(con, as_of, active_days: int = 365, schema: str = "raw") -> pd.DataFrame:
    """One row per customer (current version): customer_id, source_system, customer_type4,
    first and last purchase date and number of orders up to ``as_of``."""
    history = "WHERE valid_to IS NULL" if _has_column(con, schema, "customers", "valid_to") else ""
    return con.execute(
        f"""
        WITH c AS (SELECT * FROM {schema}.customers {history}),
        o AS (
            SELECT customer_id, min(order_date) AS first_purchase, max(order_date) AS last_purchase,
                   count(DISTINCT order_id) AS orders
            FROM {schema}.orders
            WHERE order_type = 'sale' AND coalesce(status, 'completed') = 'completed'
              AND customer_id IS NOT NULL AND order_date <= CAST(? AS DATE)
            GROUP BY customer_id)
        SELECT c.customer_id, c.source_system, c.customer_type,
               CASE WHEN c.customer_type = 'distributor' THEN 'distributor'
                    WHEN o.last_purchase IS NULL THEN 'potential'
                    WHEN o.last_purchase > CAST(? AS DATE) - CAST(? AS INTEGER) THEN 'current'
                    ELSE 'lapsed' END AS customer_type4,
               o.first_purchase, o.last_purchase, coalesce(o.orders, 0) AS orders
        FROM c LEFT JOIN o USING (customer_id)
        WHERE c.signup_date IS NULL OR c.signup_date <= CAST(? AS DATE)
        ORDER BY c.customer_id
        """,
        [str(as_of), str(as_of), int(active_days), str(as_of)],
    ).df()


def _has_column(con, schema: str, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name = ?",
            [schema, table, column],
        ).fetchone()[0]
    )


# ======================================================================================
# The customer model: 360 view, lifecycle, value, CLV, churn risk, segments
# ======================================================================================
#
# Everything over transactions runs as SQL in DuckDB with explicit ``<= as_of`` filters;
# pandas receives one row per customer. Every feature source below states the last date it
# used (``_last_date``) so that :func:`customer_360` can prove no feature looks past ``as_of``.

LIFECYCLE_STAGES = ("prospect", "new", "active", "at risk", "lapsed", "reactivated")
VALUE_TIERS = ("MVC", "MGC", "BZ", "other", "prospect")
CHANNELS = ("store", "online", "phone", "distributor")
TICKET_TYPES = ("complaint", "inquiry", "return")


class LeakageError(ValueError):
    """A feature used data dated after the as-of date."""


@dataclass(frozen=True)
class LifecycleRules:
    """The lifecycle stage of a customer at ``as_of``, first rule that applies wins:

    1. **prospect** -- in the database, signed up by ``as_of``, never bought;
    2. **lapsed** -- no purchase in the last ``lapsed_days`` days (recency >= lapsed_days):
       the win-back list, kept in the database, never deleted;
    3. **new** -- first purchase less than ``new_days`` days ago;
    4. **reactivated** -- came back: a purchase less than ``reactivated_days`` days ago
       followed a gap of at least ``lapsed_days`` days without purchase (the customer had lapsed);
    5. **at risk** -- no purchase in the last ``at_risk_days`` days (but fewer than ``lapsed_days``);
    6. **active** -- everyone else (bought within ``at_risk_days``).
    """

    new_days: int = 90
    at_risk_days: int = 180
    lapsed_days: int = 365
    reactivated_days: int = 180

    def __post_init__(self):
        for name in ("new_days", "at_risk_days", "lapsed_days", "reactivated_days"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"LifecycleRules.{name} must be a whole number of days >= 1, got {v!r}")
        if not self.at_risk_days < self.lapsed_days:
            raise ValueError(f"at_risk_days ({self.at_risk_days}) must be less than lapsed_days ({self.lapsed_days})")


@dataclass(frozen=True)
class ServiceCosts:
    """What serving a customer costs, beyond the cost of the goods (money units).

    ``per_return`` for each return handled (logistics, restocking); ``per_ticket`` by ticket
    type; each campaign contact costs the campaign's ``cost_per_contact`` (control-cell
    customers were not contacted and cost nothing).
    """

    per_return: float = 15.0
    per_ticket: dict = field(default_factory=lambda: {"complaint": 40.0, "inquiry": 8.0, "return": 12.0})


def _d(value) -> str:
    return f"DATE '{value.isoformat()}'"


def _as_date(con, as_of) -> date:
    """The as-of date; "latest" is the newest counted purchase (main.sales) not after today
    (main.orders also holds excluded orders, e.g. ones flagged for a future date)."""
    if isinstance(as_of, str) and as_of.strip().lower() == "latest":
        newest = con.execute("SELECT max(order_date) FROM main.sales WHERE order_date <= current_date").fetchall()[0][0]
        if newest is None:
            raise ValueError("as_of='latest' but main.sales holds no purchase dated up to today")
        return newest
    return db.resolve_as_of(con, as_of)


# The feature sources. Each is a query with one row per customer and a ``_last_date`` column:
# the newest date of any row it used. ``{A}`` is the as-of date literal; ``{R}`` the
# LifecycleRules; ``{C}`` the ServiceCosts (ticket costs as a SQL CASE). Every date filter is
# explicit: a source that forgets one is caught by the leakage guard.
_LINES = """lines AS (
    SELECT l.order_id, sum(l.amount) AS amount, sum(l.quantity * p.unit_cost) AS cost
    FROM main.order_lines l LEFT JOIN main.products p USING (product_id)
    WHERE l.exclude_reason IS NULL GROUP BY 1),
ret AS (
    SELECT r.original_order_id AS order_id, -sum(t.amount) AS amount, -sum(t.cost) AS cost,
           count(*) AS n, max(r.order_date) AS last_return,
           count(*) FILTER (WHERE r.order_date > {A} - 365) AS n_12m
    FROM main.orders r JOIN lines t USING (order_id)
    WHERE r.order_type = 'return' AND coalesce(r.status, 'completed') = 'completed'
      AND r.exclude_reason IS NULL AND r.order_date <= {A}
    GROUP BY 1),
p AS (  -- purchases as known at as_of: sales up to as_of, net of returns made up to as_of
    SELECT o.order_id, o.customer_id, o.order_date AS d, o.channel, t.amount AS gross,
           coalesce(r.amount, 0) AS returned, t.amount - coalesce(r.amount, 0) AS net,
           t.cost - coalesce(r.cost, 0) AS cost, coalesce(r.n, 0) AS n_returns,
           coalesce(r.n_12m, 0) AS n_returns_12m, r.last_return
    FROM main.orders o JOIN lines t USING (order_id) LEFT JOIN ret r USING (order_id)
    WHERE o.order_type = 'sale' AND coalesce(o.status, 'completed') = 'completed'
      AND (o.exclude_reason IS NULL OR o.exclude_reason = 'fully returned')
      AND o.customer_id IS NOT NULL AND o.order_date <= {A})"""

SOURCES: dict[str, str] = {
    "purchases": "WITH " + _LINES + """,
days AS (
    SELECT customer_id, d, d - lag(d) OVER (PARTITION BY customer_id ORDER BY d) AS gap
    FROM (SELECT DISTINCT customer_id, d FROM p WHERE net > 0)),
gaps AS (
    SELECT customer_id, count(*) AS purchase_days, avg(gap) AS mean_gap_days,
           max(d) FILTER (WHERE gap >= {R.lapsed_days}) AS comeback_date
    FROM days GROUP BY 1)
SELECT p.customer_id,
       min(d) FILTER (WHERE net > 0) AS first_purchase, max(d) FILTER (WHERE net > 0) AS last_purchase,
       count(*) FILTER (WHERE net > 0) AS orders,
       count(*) FILTER (WHERE net > 0 AND d > {A} - 90) AS orders_90d,
       count(*) FILTER (WHERE net > 0 AND d > {A} - 365) AS orders_12m,
       any_value(g.purchase_days) AS purchase_days, any_value(g.mean_gap_days) AS mean_gap_days,
       any_value(g.comeback_date) AS comeback_date,
       sum(gross) AS gross_amount, sum(returned) AS returned_amount, sum(net) AS revenue,
       coalesce(sum(net) FILTER (WHERE d > {A} - 365), 0) AS revenue_12m,
       sum(cost) AS cost_of_goods, sum(net - cost) AS gross_margin,
       coalesce(sum(net - cost) FILTER (WHERE d > {A} - 365), 0) AS margin_12m,
       sum(n_returns) AS returns, sum(n_returns_12m) AS returns_12m,
       """ + ",\n       ".join(
        f"coalesce(sum(net) FILTER (WHERE channel = '{c}') / nullif(sum(net), 0), 0) AS share_{c}" for c in CHANNELS) + """,
       arg_max(channel, net) AS main_channel,
       greatest(max(d), max(last_return)) AS _last_date
FROM p LEFT JOIN gaps g USING (customer_id)
GROUP BY p.customer_id""",
    "categories": "WITH " + _LINES + """,
cat AS (
    SELECT p.customer_id, pr.category, sum(l.amount) AS amount, max(p.d) AS last_d
    FROM p JOIN main.order_lines l USING (order_id) JOIN main.products pr USING (product_id)
    WHERE l.exclude_reason IS NULL AND p.net > 0
    GROUP BY 1, 2)
SELECT customer_id, arg_max(category, amount) AS main_category, count(*) AS n_categories,
       max(amount) / nullif(sum(amount), 0) AS main_category_share, max(last_d) AS _last_date
FROM cat GROUP BY 1""",
    "tickets": """
SELECT customer_id, count(*) AS tickets,
       count(*) FILTER (WHERE ticket_type = 'complaint') AS complaints,
       count(*) FILTER (WHERE ticket_type = 'complaint' AND opened_date > {A} - 180) AS complaints_180d,
       count(*) FILTER (WHERE ticket_type = 'complaint' AND NOT coalesce(resolved, FALSE)) AS unresolved_complaints,
       max(opened_date) FILTER (WHERE ticket_type = 'complaint') AS last_complaint_date,
       avg(satisfaction) AS mean_satisfaction,
       sum({C}) AS service_cost, coalesce(sum({C}) FILTER (WHERE opened_date > {A} - 365), 0) AS service_cost_12m,
       max(opened_date) AS _last_date
FROM main.service_tickets
WHERE customer_id IS NOT NULL AND opened_date <= {A}
GROUP BY 1""",
    "contacts": """
WITH c AS (
    SELECT k.customer_id, k.campaign_id, k.cell, k.contact_date, g.cost_per_contact,
           k.contact_date + coalesce(g.response_window_days, 30) AS window_end
    FROM main.contacts k LEFT JOIN main.campaigns g USING (campaign_id)
    WHERE k.customer_id IS NOT NULL AND k.contact_date <= {A}),
r AS (  -- a response: a purchase within the campaign's window, counted only once the window is known up to as_of
    SELECT c.customer_id, c.campaign_id, max(s.order_date) AS responded_on
    FROM c JOIN main.orders s ON s.customer_id = c.customer_id
     AND s.order_date > c.contact_date AND s.order_date <= least(c.window_end, {A})
    WHERE c.cell = 'test' AND s.order_type = 'sale' AND coalesce(s.status, 'completed') = 'completed'
      AND (s.exclude_reason IS NULL OR s.exclude_reason = 'fully returned')
    GROUP BY 1, 2)
SELECT c.customer_id,
       count(*) FILTER (WHERE c.cell = 'test') AS campaigns_contacted,
       count(r.campaign_id) AS campaigns_responded,
       max(c.contact_date) FILTER (WHERE c.cell = 'test') AS last_contact_date,
       coalesce(sum(c.cost_per_contact) FILTER (WHERE c.cell = 'test'), 0) AS contact_cost,
       coalesce(sum(c.cost_per_contact) FILTER (WHERE c.cell = 'test' AND c.contact_date > {A} - 365), 0) AS contact_cost_12m,
       greatest(max(c.contact_date), max(r.responded_on)) AS _last_date
FROM c LEFT JOIN r USING (customer_id, campaign_id)
GROUP BY 1""",
}


def purchases_known(con, as_of, name: str = "_purchases_known") -> str:
    """Create a temporary table ``name`` of the purchases as they were known at ``as_of``: sales
    dated up to ``as_of``, net of the returns made up to ``as_of`` (``main.sales`` nets every
    return, also later ones), fully returned sales left out. Columns as ``main.sales``
    (order_id, customer_id, order_date, channel, gross_amount, returned_amount, net_amount,
    cost, margin). Returns ``name``, e.g. for :func:`dbmarketing.rfm.summarize` (``table=``)."""
    A = _as_date(con, as_of)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"purchases_known: bad table name {name!r}")
    sql = ("WITH " + _LINES.replace("{A}", _d(A)) + """
    SELECT order_id, customer_id, d AS order_date, channel, gross AS gross_amount, returned AS returned_amount,
           net AS net_amount, cost, net - cost AS margin FROM p WHERE net > 0""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    return name


def _ticket_cost_sql(costs: ServiceCosts) -> str:
    whens = " ".join(f"WHEN '{t}' THEN {float(v)}" for t, v in costs.per_ticket.items() if t.isidentifier())
    return f"(CASE ticket_type {whens} ELSE 0.0 END)" if whens else "0.0"


def customer_360(con, as_of, rules: LifecycleRules | None = None, costs: ServiceCosts | None = None,
                 customer_ids=None) -> pd.DataFrame:
    """One row per master customer at ``as_of``: who, how long, how valuable, how served.

    Every figure is computed in DuckDB from data dated on or before ``as_of`` (purchases, the
    returns made by then, tickets, campaign contacts); customers who had signed up by then
    (or bought by then) are included, prospects and lapsed customers too.

    Columns: demographics and consents from ``main.customers`` (``age`` at as_of instead of the
    birth date), ``city_tier``, ``tenure_days`` (since signup, or first purchase if earlier);
    purchases (``first_purchase``, ``last_purchase``, ``recency_days``, ``orders``,
    ``orders_90d``, ``orders_12m``, ``purchase_days``, ``mean_gap_days``); money
    (``revenue`` = net of returns, ``gross_margin`` = revenue - cost of goods at product cost,
    ``cost_to_serve`` = returns x per_return + tickets by type + campaign contacts,
    ``profit`` = gross_margin - cost_to_serve, and the ``*_12m`` versions over the last 365
    days); channel shares and ``main_channel``; ``main_category``, ``n_categories``;
    ``campaigns_contacted`` / ``campaigns_responded`` (a purchase within the response window);
    ``complaints``, ``complaints_180d``, ``unresolved_complaints``; ``lifecycle_stage``
    (:class:`LifecycleRules`).

    Raises :class:`LeakageError` if any feature source used a row dated after ``as_of``.
    """
    rules = rules or LifecycleRules()
    costs = costs or ServiceCosts()
    A = _as_date(con, as_of)
    lit = _d(A)
    frames = {}
    for name, template in SOURCES.items():
        sql = template.replace("{A}", lit).replace("{R.lapsed_days}", str(int(rules.lapsed_days)))
        sql = sql.replace("{C}", _ticket_cost_sql(costs))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _c360_{name} AS {sql}")
        newest = con.execute(f"SELECT max(_last_date) FROM _c360_{name}").fetchall()[0][0]
        if newest is not None and newest > A:
            raise LeakageError(f"customer_360: feature source {name!r} used data dated {newest}, after as_of {A}")
    ids = ""
    if customer_ids is not None:
        ids = "AND c.customer_id IN (" + ", ".join("'" + str(i).replace("'", "''") + "'" for i in customer_ids) + ")"
    R = rules
    sql = f"""
    SELECT c.customer_id, {lit} AS as_of, c.customer_type, c.gender,
           CAST(floor(({lit} - c.birth_date) / 365.25) AS INTEGER) AS age,
           c.province, c.city, ci.city_tier, c.signup_date, c.signup_channel,
           CAST({lit} - least(coalesce(c.signup_date, p.first_purchase), coalesce(p.first_purchase, c.signup_date)) AS INTEGER) AS tenure_days,
           c.source_systems, c.consent_mail, c.consent_sms, c.consent_email, c.consent_phone,
           p.first_purchase IS NULL AS is_prospect,
           p.first_purchase, p.last_purchase, CAST({lit} - p.last_purchase AS INTEGER) AS recency_days,
           coalesce(p.orders, 0) AS orders, coalesce(p.orders_90d, 0) AS orders_90d, coalesce(p.orders_12m, 0) AS orders_12m,
           coalesce(p.purchase_days, 0) AS purchase_days, p.mean_gap_days, p.comeback_date,
           coalesce(p.gross_amount, 0) AS gross_amount, coalesce(p.returned_amount, 0) AS returned_amount,
           coalesce(p.revenue, 0) AS revenue, coalesce(p.revenue_12m, 0) AS revenue_12m,
           CASE WHEN p.orders > 0 THEN p.revenue / p.orders END AS avg_order_value,
           coalesce(p.cost_of_goods, 0) AS cost_of_goods, coalesce(p.gross_margin, 0) AS gross_margin,
           coalesce(p.margin_12m, 0) AS margin_12m,
           coalesce(p.returns, 0) AS returns,
           coalesce(p.returns, 0) * {float(costs.per_return)} AS return_cost,
           coalesce(t.service_cost, 0) AS service_cost, coalesce(k.contact_cost, 0) AS contact_cost,
           coalesce(p.returns, 0) * {float(costs.per_return)} + coalesce(t.service_cost, 0) + coalesce(k.contact_cost, 0) AS cost_to_serve,
           coalesce(p.gross_margin, 0) - (coalesce(p.returns, 0) * {float(costs.per_return)} + coalesce(t.service_cost, 0)
               + coalesce(k.contact_cost, 0)) AS profit,
           coalesce(p.margin_12m, 0) - (coalesce(p.returns_12m, 0) * {float(costs.per_return)} + coalesce(t.service_cost_12m, 0)
               + coalesce(k.contact_cost_12m, 0)) AS profit_12m,
           {", ".join(f"coalesce(p.share_{ch}, 0) AS share_{ch}" for ch in CHANNELS)}, p.main_channel,
           g.main_category, coalesce(g.n_categories, 0) AS n_categories,
           coalesce(k.campaigns_contacted, 0) AS campaigns_contacted, coalesce(k.campaigns_responded, 0) AS campaigns_responded,
           k.last_contact_date,
           coalesce(t.tickets, 0) AS tickets, coalesce(t.complaints, 0) AS complaints,
           coalesce(t.complaints_180d, 0) AS complaints_180d, coalesce(t.unresolved_complaints, 0) AS unresolved_complaints,
           t.last_complaint_date, t.mean_satisfaction,
           CASE WHEN p.last_purchase IS NULL THEN 'prospect'
                WHEN {lit} - p.last_purchase >= {int(R.lapsed_days)} THEN 'lapsed'
                WHEN {lit} - p.first_purchase < {int(R.new_days)} THEN 'new'
                WHEN p.comeback_date IS NOT NULL AND {lit} - p.comeback_date < {int(R.reactivated_days)} THEN 'reactivated'
                WHEN {lit} - p.last_purchase >= {int(R.at_risk_days)} THEN 'at risk'
                ELSE 'active' END AS lifecycle_stage
    FROM main.customers c
    LEFT JOIN _c360_purchases p USING (customer_id)
    LEFT JOIN _c360_categories g USING (customer_id)
    LEFT JOIN _c360_tickets t USING (customer_id)
    LEFT JOIN _c360_contacts k USING (customer_id)
    LEFT JOIN main.cities ci ON ci.city = c.city
    WHERE (c.signup_date IS NULL OR c.signup_date <= {lit} OR p.first_purchase IS NOT NULL) {ids}
    ORDER BY c.customer_id"""
    out = con.execute(sql).df()
    for name in SOURCES:
        con.execute(f"DROP TABLE IF EXISTS _c360_{name}")
    out.attrs.update(as_of=A.isoformat(), rules=rules, costs=costs)
    return out


def lifecycle(con, as_of, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Lifecycle stage of every customer at ``as_of`` (see :class:`LifecycleRules`), with the
    dates the rules read: customer_id, customer_type, first/last purchase, comeback date,
    recency_days, lifecycle_stage."""
    c = customer_360(con, as_of, rules=rules)
    return c[["customer_id", "customer_type", "first_purchase", "last_purchase", "comeback_date",
              "recency_days", "lifecycle_stage"]]


# --------------------------------------------------------------------------------------
# value tiers and the profit Pareto curve
# --------------------------------------------------------------------------------------


def value_tiers(frame: pd.DataFrame, future_value: str = "clv", mvc_share: float = 0.2,
                mgc_share: float = 0.2) -> pd.Series:
    """Value tier of each customer (a Series aligned with ``frame``):

    - **BZ** (below zero): ``profit`` < 0 -- they cost more to serve than they bring;
    - **MVC** (most valuable): the top ``mvc_share`` of buyers by ``profit`` (among profit >= 0);
    - **MGC** (most growable): among the remaining buyers, the top ``mgc_share`` of all buyers
      by growth = ``future_value`` (predicted margin, e.g. the 12-month CLV) - ``profit_12m``
      (today's yearly profit), where growth is positive;
    - **other** buyers; **prospect** for those who never bought.
    """
    for share in (mvc_share, mgc_share):
        if not 0 < share < 1:
            raise ValueError(f"tier shares must be between 0 and 1, got {share}")
    buyer = ~frame["is_prospect"].astype(bool)
    n = int(buyer.sum())
    tier = pd.Series(np.where(buyer, "other", "prospect"), index=frame.index, dtype=object)
    tier[buyer & (frame["profit"] < 0)] = "BZ"
    pos = frame.loc[buyer & (frame["profit"] >= 0), "profit"].sort_values(ascending=False, kind="stable")
    tier[pos.index[: int(round(mvc_share * n))]] = "MVC"
    if future_value in frame:
        rest = frame[tier == "other"]
        growth = (rest[future_value] - rest["profit_12m"]).dropna()
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
        raise ValueError("profit_pareto: no buyers with a non-zero total")
    cum = np.cumsum(v) / total
    share = np.arange(1, len(v) + 1) / len(v)
    out = pd.DataFrame({"customer_share": np.r_[0.0, share], "value_share": np.r_[0.0, cum]})
    k = max(int(math.ceil(0.2 * len(v))) - 1, 0)
    out.attrs.update(top20_share=float(cum[k]), peak_share=float(cum.max()),
                     peak_customer_share=float(share[int(cum.argmax())]), total=float(total))
    return out


# --------------------------------------------------------------------------------------
# CLV: BG/NBD + Gamma-Gamma per customer type (models in clv.py, summary in rfm.py)
# --------------------------------------------------------------------------------------


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
    holdout: pd.DataFrame
    models: dict


def _margin_rates(con, A: date, table: str) -> dict:
    rows = con.execute(f"""SELECT c.customer_type, sum(s.margin) / nullif(sum(s.net_amount), 0)
        FROM {table} s JOIN main.customers c USING (customer_id) WHERE s.order_date <= {_d(A)} GROUP BY 1""").fetchall()
    return {t: float(v) for t, v in rows if v is not None}


def fit_clv(con, as_of, horizon_months: int = 12, annual_discount_rate: float = 0.10,
            holdout_weeks: int = 39, min_customers: int = 200, min_repeaters: int = 50) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma for each customer type at ``as_of`` and value every buyer.

    The repeat-purchase summary (weeks) comes from :func:`dbmarketing.rfm.summarize`
    (``repeat=True``, SQL over the purchases as known at ``as_of``: :func:`purchases_known`). Consumers and distributors buy
    in different ways and are fitted apart; a type with fewer than ``min_customers`` buyers or
    ``min_repeaters`` repeat buyers is valued with a model fitted on all buyers. CLV is the
    discounted expected margin over ``horizon_months`` months: the type's observed margin
    rate (gross margin / revenue up to ``as_of``) x Gamma-Gamma spend x BG/NBD purchases,
    discounted monthly at ``annual_discount_rate`` a year.

    The holdout check refits the consumer purchase model on purchases up to
    ``as_of - holdout_weeks`` weeks and compares its predictions with the purchases actually
    made after that date (repeat purchases by number of calibration purchases).
    """
    from . import clv, rfm

    A = _as_date(con, as_of)
    known = purchases_known(con, A)
    summ = rfm.summarize(con, A, table=known, unit="weeks", repeat=True)
    summ = summ[~summ["is_prospect"].astype(bool)].set_index("customer_id")
    margins = _margin_rates(con, A, known)
    total_margin = con.execute(f"SELECT sum(margin) / nullif(sum(net_amount), 0) FROM {known} "
                               f"WHERE order_date <= {_d(A)}").fetchall()[0][0] or 0.0
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
            "customer_type": ctype,
            "p_alive": bg.probability_alive(f, r, T),
            "expected_purchases": bg.expected_purchases(horizon_months * month_weeks, f, r, T),
            "expected_spend": gg.conditional_expected_spend(f, m),
            "clv": value}, index=s.index))
        models[ctype] = (bg, gg)
        rows.append({"customer_type": ctype, **bg.params_, **gg.params_, "margin_rate": margin,
                     "customers": len(s), "repeat_customers": repeaters, "fitted_on": fitted_on})
    params = pd.DataFrame(rows)
    predictions = pd.concat(preds).reset_index()

    cal_end = A - timedelta(weeks=int(holdout_weeks))
    hold = rfm.repeat_summary(con, A, calibration_end=cal_end, table=known, unit="weeks")
    types = con.execute("SELECT customer_id, customer_type FROM main.customers").df().set_index("customer_id")["customer_type"]
    hold = hold[types.reindex(hold.index).eq("consumer").to_numpy()]
    bg_cal = clv.BetaGeo().fit(hold["frequency"], hold["recency"], hold["T"])
    table = clv.holdout_comparison(bg_cal, hold, hold["frequency_holdout"], float(hold["duration_holdout"].iloc[0]))
    table.attrs["calibration_params"] = bg_cal.params_
    return ClvResult(as_of=A, calibration_end=cal_end, params=params, predictions=predictions,
                     holdout=table, models=models)


# --------------------------------------------------------------------------------------
# churn risk: no purchase in the next horizon_days
# --------------------------------------------------------------------------------------

CHURN_FEATURES = (
    "recency_days", "tenure_days", "orders", "orders_90d", "orders_12m", "purchase_days", "mean_gap_days",
    "revenue_12m", "avg_order_value", "returns", "complaints", "complaints_180d", "unresolved_complaints",
    "campaigns_contacted", "campaigns_responded", "share_online", "is_distributor",
)


def churn_features(con, as_of, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Churn features of every customer who can churn at ``as_of`` (bought before, not lapsed),
    from :func:`customer_360` (so the leakage guard applies). Indexed by customer_id."""
    c = customer_360(con, as_of, rules=rules)
    c = c[c["lifecycle_stage"].isin(["new", "active", "at risk", "reactivated"])].copy()
    c["is_distributor"] = (c["customer_type"] == "distributor").astype(int)
    c["mean_gap_days"] = c["mean_gap_days"].fillna(c["tenure_days"])  # one purchase: the gap so far
    return c.set_index("customer_id")


def _churn_labels(con, start: date, horizon_days: int) -> set:
    """Customers who bought in (start, start + horizon_days], as known at the window's end."""
    end = start + timedelta(days=horizon_days)
    known = purchases_known(con, end, name="_purchases_outcome")
    rows = con.execute(f"""SELECT DISTINCT customer_id FROM {known}
        WHERE customer_id IS NOT NULL AND order_date > {_d(start)} AND order_date <= {_d(end)}""").fetchall()
    return {r[0] for r in rows}


def top_decile_lift(y, p) -> float:
    """Churn rate among the 10% highest scores divided by the overall churn rate."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    k = max(int(math.ceil(0.1 * len(y))), 1)
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean() / y.mean()) if y.mean() > 0 else math.nan


def churn_reasons(frame: pd.DataFrame) -> pd.Series:
    """Plain-language reasons a customer may be slipping away, from the 360 figures."""
    reasons = []
    for _, r in frame.iterrows():
        why = []
        if r.get("complaints_180d", 0) > 0:
            why.append(f"complained in the last 180 days ({int(r['complaints_180d'])})")
        if r.get("unresolved_complaints", 0) > 0:
            why.append("unresolved complaint")
        gap = r.get("mean_gap_days")
        rec = r.get("recency_days")
        if r.get("purchase_days", 0) > 1 and pd.notna(gap) and pd.notna(rec) and rec > 1.5 * gap:
            why.append(f"fading recency: {int(rec)} days since last purchase, usual gap {int(round(gap))}")
        elif r.get("purchase_days", 0) <= 1 and pd.notna(rec) and rec > 90:
            why.append(f"bought once, {int(rec)} days ago")
        if r.get("orders_12m", 0) == 0 and r.get("orders", 0) > 0:
            why.append("no purchase in 12 months")
        if r.get("returns", 0) > 0:
            why.append(f"returned goods ({int(r['returns'])})")
        reasons.append("; ".join(why) or "general pattern (no single reason)")
    return pd.Series(reasons, index=frame.index, name="reasons")


@dataclass
class ChurnResult:
    """What :func:`churn_model` learned and measured.

    ``train_as_of`` / ``test_as_of``: the two snapshot dates (features at the date, outcome
    in the ``horizon_days`` after it); ``metrics``: AUC and top-decile lift on the holdout
    snapshot for each model; ``calibration``: predicted vs observed churn by risk bin on the
    holdout; ``holdout``: one row per holdout customer (churned, p_tree, p_logit);
    ``tree`` / ``logit``: the models refitted on the holdout snapshot (the newest labelled
    data) and used for ``scores`` at ``as_of`` (churn_risk = logistic, churn_risk_tree,
    reasons).
    """

    as_of: date
    horizon_days: int
    train_as_of: date
    test_as_of: date
    features: list
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    holdout: pd.DataFrame
    tree: object
    logit: object
    scores: pd.DataFrame


def _churn_estimators(n: int, seed: int, max_depth: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(20, n // 100), random_state=seed)
    logit = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                          LogisticRegression(C=1.0, max_iter=5000, random_state=seed))
    return tree, logit


def churn_model(con, as_of, horizon_days: int = 180, seed: int = 42, max_depth: int = 3,
                rules: LifecycleRules | None = None) -> ChurnResult:
    """A supervised model of "no purchase in the next ``horizon_days`` days".

    Time-based split, no leakage: training features at ``as_of - 2 x horizon`` with the
    outcome in the horizon after it; holdout features at ``as_of - horizon`` with the outcome
    up to ``as_of``. Every feature comes from :func:`customer_360` at its snapshot date (the
    leakage guard raises if any used a later row). Two models: an interpretable decision tree
    (``max_depth`` levels) and a logistic regression on log-transformed, standardized
    features. Measured on the holdout: AUC, top-decile lift and calibration. Both are then
    refitted on the holdout snapshot and score the customers at ``as_of``.
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score

    A = _as_date(con, as_of)
    h = int(horizon_days)
    if h < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    t0, t1 = A - timedelta(days=2 * h), A - timedelta(days=h)
    feats = list(CHURN_FEATURES)

    def snapshot(t):
        X = churn_features(con, t, rules)
        y = (~X.index.isin(_churn_labels(con, t, h))).astype(int)
        return X, y

    X0, y0 = snapshot(t0)
    X1, y1 = snapshot(t1)
    if len(X0) < 50 or len(set(y0)) < 2:
        raise ValueError(f"churn_model: too few customers who can churn at {t0} ({len(X0)}) to learn from")
    tree, logit = _churn_estimators(len(X0), seed, max_depth)
    tree.fit(X0[feats], y0)
    logit.fit(X0[feats], y0)
    p_tree, p_logit = tree.predict_proba(X1[feats])[:, 1], logit.predict_proba(X1[feats])[:, 1]
    metrics = pd.DataFrame([
        {"model": name, "auc": roc_auc_score(y1, p), "top_decile_lift": top_decile_lift(y1, p),
         "churn_rate": float(np.mean(y1)), "customers": len(y1)}
        for name, p in (("decision tree", p_tree), ("logistic regression", p_logit))])
    cal = []
    for name, p in (("decision tree", p_tree), ("logistic regression", p_logit)):
        obs, pred = calibration_curve(y1, p, n_bins=10, strategy="quantile")
        cal.append(pd.DataFrame({"model": name, "predicted": pred, "observed": obs}))
    holdout = pd.DataFrame({"churned": y1, "p_tree": p_tree, "p_logit": p_logit}, index=X1.index)

    tree_now, logit_now = _churn_estimators(len(X1), seed, max_depth)
    tree_now.fit(X1[feats], y1)
    logit_now.fit(X1[feats], y1)
    Xa = churn_features(con, A, rules)
    scores = pd.DataFrame({"churn_risk": logit_now.predict_proba(Xa[feats])[:, 1],
                           "churn_risk_tree": tree_now.predict_proba(Xa[feats])[:, 1]}, index=Xa.index)
    scores["churn_reasons"] = churn_reasons(Xa)
    return ChurnResult(as_of=A, horizon_days=h, train_as_of=t0, test_as_of=t1, features=feats, metrics=metrics,
                       calibration=pd.concat(cal, ignore_index=True), holdout=holdout, tree=tree_now,
                       logit=logit_now, scores=scores.reset_index())


def valuable_at_risk(model: pd.DataFrame, value: str = "clv", top_value: float = 0.2,
                     min_risk: float = 0.5) -> pd.DataFrame:
    """The list that matters: customers in the top ``top_value`` share by ``value`` (among
    those scored) whose churn risk is at least ``min_risk``, most valuable first, with reasons."""
    scored = model.dropna(subset=["churn_risk", value])
    if scored.empty:
        return scored
    cut = scored[value].quantile(1 - top_value)
    out = scored[(scored[value] >= cut) & (scored["churn_risk"] >= min_risk)]
    return out.sort_values(value, ascending=False)


# --------------------------------------------------------------------------------------
# segments: k-means on behaviour; marketing groups
# --------------------------------------------------------------------------------------

SEGMENT_FEATURES = ("recency_days", "orders", "revenue", "avg_order_value", "tenure_days", "n_categories",
                    "returns", "complaints")


@dataclass
class SegmentResult:
    """``k`` chosen (or given), ``silhouette`` (k -> silhouette score on a seeded sample),
    ``labels`` (customer_id, segment number, segment name), ``profile`` (each segment's mean
    of every feature as an index against the whole base, 100 = average, plus its size)."""

    k: int
    silhouette: pd.DataFrame
    labels: pd.DataFrame
    profile: pd.DataFrame
    model: object


def _segment_name(row) -> str:
    words = []
    if row["recency_days"] < 60:
        words.append("recent")
    elif row["recency_days"] > 140:
        words.append("lapsing")
    if row["orders"] > 130:
        words.append("frequent")
    elif row["orders"] < 70:
        words.append("one-off")
    if row["revenue"] > 130:
        words.append("high-spending")
    elif row["revenue"] < 60:
        words.append("low-spending")
    if row["tenure_days"] < 60:
        words.append("newcomer")
    if row["returns"] > 200:
        words.append("often-returning")
    if row["complaints"] > 200:
        words.append("complaining")
    if row["orders"] > 100 and row["returns"] < 20 and row["complaints"] < 20:
        words.append("trouble-free")
    name = " ".join(words) or "average"
    return name[0].upper() + name[1:] + " buyers"


def segment(con, as_of, k: int | None = None, seed: int = 42, k_range=range(3, 9),
            sample_size: int = 3000, rules: LifecycleRules | None = None, frame: pd.DataFrame | None = None) -> SegmentResult:
    """k-means segments of the buyers at ``as_of`` on log-transformed, standardized
    behaviour features (:data:`SEGMENT_FEATURES`). Without ``k``, k is the value in ``k_range``
    with the best silhouette (computed on a seeded sample of ``sample_size`` customers).
    Same data and seed give the same segments. ``frame`` reuses a :func:`customer_360` result."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    c = frame if frame is not None else customer_360(con, as_of, rules=rules)
    c = c[~c["is_prospect"].astype(bool)].set_index("customer_id")
    feats = list(SEGMENT_FEATURES)
    raw = c[feats].astype(float).clip(lower=0).fillna(0)
    Z = StandardScaler().fit_transform(np.log1p(raw))
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(Z), size=min(sample_size, len(Z)), replace=False)
    ks = [k] if k is not None else [kk for kk in k_range if 2 <= kk < len(idx)]
    if not ks:
        raise ValueError(f"segment: too few buyers ({len(Z)}) for k in {list(k_range)}")
    sil = []
    for kk in ks:  # k is chosen on the seeded sample; the chosen k is then fitted on every buyer
        km = KMeans(n_clusters=kk, n_init=4, random_state=seed).fit(Z[idx])
        sil.append({"k": kk, "silhouette": float(silhouette_score(Z[idx], km.labels_))})
    sil = pd.DataFrame(sil)
    best = int(sil.loc[sil["silhouette"].idxmax(), "k"])
    km = KMeans(n_clusters=best, n_init=4, random_state=seed).fit(Z)
    # number segments by size, largest first, so the numbering is stable
    order = pd.Series(km.labels_).value_counts().index.tolist()
    relabel = {old: new for new, old in enumerate(order)}
    lab = np.array([relabel[v] for v in km.labels_])
    means = raw.groupby(lab).mean()
    profile = (100 * means / raw.mean().replace(0, np.nan)).fillna(100).round(0)  # a feature all zero: 100
    names = profile.apply(_segment_name, axis=1)
    seen: dict = {}
    for s, n in names.items():
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[s] = f"{n} ({seen[n]})"
    profile.insert(0, "customers", pd.Series(lab).value_counts().sort_index())
    profile.insert(0, "segment_name", names)  # not "name": the catalog masks a column called name
    profile.index.name = "segment"
    labels = pd.DataFrame({"customer_id": c.index, "segment": lab, "segment_name": names.reindex(lab).to_numpy()})
    return SegmentResult(k=best, silhouette=sil, labels=labels, profile=profile, model=km)


MARKETING_GROUPS = {
    "high value": lambda m: m["value_tier"] == "MVC",
    "growable": lambda m: m["value_tier"] == "MGC",
    "below zero": lambda m: m["value_tier"] == "BZ",
    "complained recently": lambda m: m["complaints_180d"] > 0,
    "win-back (lapsed)": lambda m: m["lifecycle_stage"] == "lapsed",
    "new customer": lambda m: m["lifecycle_stage"] == "new",
    "distributor": lambda m: m["customer_type"] == "distributor",
    "e-mail consent": lambda m: m["consent_email"].fillna(False).astype(bool),
    "SMS consent": lambda m: m["consent_sms"].fillna(False).astype(bool),
    "mail consent": lambda m: m["consent_mail"].fillna(False).astype(bool),
    "valuable at risk": lambda m: m.get("valuable_at_risk", pd.Series(False, index=m.index)).fillna(False).astype(bool),
}


def marketing_groups(model: pd.DataFrame, groups: dict | None = None) -> pd.DataFrame:
    """Membership of every customer in the marketing groups (a customer can be in several):
    one boolean column per group, and ``groups`` (the names joined by ", ")."""
    groups = groups or MARKETING_GROUPS
    out = pd.DataFrame({name: rule(model).astype(bool).to_numpy() for name, rule in groups.items()}, index=model.index)
    names = np.array(list(groups))
    out["groups"] = [", ".join(names[row]) for row in out[list(groups)].to_numpy()]
    return out


# --------------------------------------------------------------------------------------
# the customer_model table
# --------------------------------------------------------------------------------------

_T1, _T2 = db.PUBLIC, db.DEEP_PUBLIC
# column -> (type, description, privacy tier)
MODEL_COLUMNS = {
    "as_of": ("DATE", "Date the model describes (only data up to it was used)", _T1),
    "customer_id": ("VARCHAR", "Master customer number", _T1),
    "customer_type": ("VARCHAR", "consumer or distributor", _T1),
    "gender": ("VARCHAR", "M or F", _T2),
    "age": ("INTEGER", "Age in years at as_of", _T2),
    "province": ("VARCHAR", "Province", _T1),
    "city": ("VARCHAR", "City", _T1),
    "city_tier": ("INTEGER", "City tier 1-5 (external reference data)", _T1),
    "signup_date": ("DATE", "Date the customer registered", _T1),
    "signup_channel": ("VARCHAR", "Where the customer registered", _T1),
    "tenure_days": ("INTEGER", "Days since signup (or first purchase if earlier)", _T1),
    "source_systems": ("VARCHAR", "Source systems holding a record of the customer", _T1),
    "consent_mail": ("BOOLEAN", "Agreed to direct mail", _T2),
    "consent_sms": ("BOOLEAN", "Agreed to SMS", _T2),
    "consent_email": ("BOOLEAN", "Agreed to e-mail", _T2),
    "consent_phone": ("BOOLEAN", "Agreed to calls", _T2),
    "lifecycle_stage": ("VARCHAR", "prospect, new, active, at risk, lapsed or reactivated (rules in customers.LifecycleRules)", _T1),
    "first_purchase": ("DATE", "First purchase date", _T1),
    "last_purchase": ("DATE", "Last purchase date", _T1),
    "recency_days": ("INTEGER", "Days since the last purchase", _T1),
    "orders": ("BIGINT", "Purchases (orders not fully returned by as_of)", _T1),
    "orders_12m": ("BIGINT", "Purchases in the last 365 days", _T1),
    "revenue": ("DOUBLE", "Net revenue (after returns made by as_of)", _T2),
    "revenue_12m": ("DOUBLE", "Net revenue in the last 365 days", _T2),
    "gross_margin": ("DOUBLE", "Revenue - cost of goods at product cost", _T2),
    "cost_to_serve": ("DOUBLE", "Returns handled + service tickets + campaign contacts", _T2),
    "profit": ("DOUBLE", "gross_margin - cost_to_serve", _T2),
    "profit_12m": ("DOUBLE", "Profit over the last 365 days", _T2),
    "main_channel": ("VARCHAR", "Channel with the most revenue", _T1),
    "share_online": ("DOUBLE", "Share of revenue bought online", _T1),
    "main_category": ("VARCHAR", "Product category with the most revenue", _T1),
    "n_categories": ("BIGINT", "Product categories bought", _T1),
    "campaigns_contacted": ("BIGINT", "Campaigns that contacted the customer (test cell)", _T1),
    "campaigns_responded": ("BIGINT", "Campaigns followed by a purchase within the response window", _T1),
    "complaints": ("BIGINT", "Complaint tickets", _T1),
    "complaints_180d": ("BIGINT", "Complaint tickets in the last 180 days", _T1),
    "value_tier": ("VARCHAR", "MVC (most valuable), MGC (most growable), BZ (below zero), other, prospect", _T2),
    "p_alive": ("DOUBLE", "BG/NBD probability the customer is still active", _T2),
    "expected_purchases": ("DOUBLE", "BG/NBD expected purchases over the CLV horizon", _T2),
    "clv": ("DOUBLE", "Discounted expected margin over the CLV horizon (BG/NBD x Gamma-Gamma)", _T2),
    "churn_risk": ("DOUBLE", "Probability of no purchase in the churn horizon (logistic regression)", _T2),
    "churn_reasons": ("VARCHAR", "Plain-language risk reasons (complaints, fading recency, ...)", _T2),
    "valuable_at_risk": ("BOOLEAN", "Top-value customer with high churn risk", _T2),
    "segment": ("INTEGER", "k-means behaviour segment (buyers)", _T1),
    "segment_name": ("VARCHAR", "Plain-language segment name", _T1),
    "groups": ("VARCHAR", "Marketing groups the customer belongs to (several at once)", _T2),
}


@dataclass
class CustomerModel:
    """Everything :func:`build_customer_model` computed: ``table`` (the rows written to
    ``main.customer_model``), ``clv``, ``churn``, ``segments``, ``pareto``, ``groups``."""

    as_of: date
    table: pd.DataFrame
    clv: ClvResult
    churn: ChurnResult
    segments: SegmentResult
    pareto: pd.DataFrame
    groups: pd.DataFrame
    c360: pd.DataFrame


def build_customer_model(con, as_of, horizon_days: int = 180, seed: int = 42, k: int | None = None,
                         rules: LifecycleRules | None = None, costs: ServiceCosts | None = None,
                         clv_months: int = 12, annual_discount_rate: float = 0.10, holdout_weeks: int = 39,
                         mvc_share: float = 0.2, mgc_share: float = 0.2, top_value: float = 0.2,
                         min_risk: float = 0.5, write: bool = True) -> CustomerModel:
    """The whole customer model at ``as_of``, written to ``main.customer_model``.

    360 view and lifecycle (:func:`customer_360`), CLV (:func:`fit_clv`), value tiers
    (:func:`value_tiers` on profit and the ``clv_months`` CLV), churn risk
    (:func:`churn_model`), segments (:func:`segment`) and marketing groups. The table holds
    one row per customer per as-of date: rows of this ``as_of`` are replaced, other dates
    kept; it is registered in the catalog with privacy tiers.
    """
    A = _as_date(con, as_of)
    c = customer_360(con, A, rules=rules, costs=costs)
    cl = fit_clv(con, A, horizon_months=clv_months, annual_discount_rate=annual_discount_rate,
                 holdout_weeks=holdout_weeks)
    m = c.merge(cl.predictions.drop(columns="customer_type"), on="customer_id", how="left")
    m["value_tier"] = value_tiers(m, "clv", mvc_share, mgc_share)
    ch = churn_model(con, A, horizon_days=horizon_days, seed=seed, rules=rules)
    m = m.merge(ch.scores, on="customer_id", how="left")
    at_risk = valuable_at_risk(m, "clv", top_value, min_risk)
    m["valuable_at_risk"] = m["customer_id"].isin(at_risk["customer_id"])
    sg = segment(con, A, k=k, seed=seed, frame=c)
    m = m.merge(sg.labels, on="customer_id", how="left")
    m["segment"] = m["segment"].astype("Int64")
    groups = marketing_groups(m)
    m["groups"] = groups["groups"].to_numpy()
    table = m[list(MODEL_COLUMNS)].copy()
    if write:
        store_customer_model(con, table)
    return CustomerModel(as_of=A, table=table, clv=cl, churn=ch, segments=sg, pareto=profit_pareto(c),
                         groups=groups.set_index(m["customer_id"]), c360=m)


def store_customer_model(con, table: pd.DataFrame) -> int:
    """Write ``table`` into ``main.customer_model``: the rows of its as-of date(s) are
    replaced, other dates kept. Registers the table in the catalog. Returns rows written."""
    cols = list(MODEL_COLUMNS)
    body = ", ".join(f'"{c}" {t}' for c, (t, _, _) in MODEL_COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS main.customer_model ({body})")
    con.register("_cm_new", table[cols])
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM main.customer_model WHERE as_of IN (SELECT DISTINCT CAST(as_of AS DATE) FROM _cm_new)")
        casts = ", ".join(f'CAST("{c}" AS {t})' for c, (t, _, _) in MODEL_COLUMNS.items())
        con.execute(f"INSERT INTO main.customer_model SELECT {casts} FROM _cm_new")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_cm_new")
    db.register_table(con, "main", "customer_model",
                      [db.Column(c, t, d, tier) for c, (t, d, tier) in MODEL_COLUMNS.items()],
                      "Customer model: one row per customer per as-of date (360 view, lifecycle, value tier, CLV, "
                      "churn risk, segment, marketing groups).", layer="marts")
    return len(table)


def customer_view(con, customer_id: str, as_of=None) -> pd.DataFrame:
    """One customer's 360 view: the golden record (name, phone, ... -- mask it with
    :func:`dbmarketing.privacy.mask_frame`) beside the stored model row (latest as-of date
    unless given), as a two-column table field / value."""
    rec = con.execute("SELECT customer_id, name, gender, birth_date, phone, email, province, city, address "
                      "FROM main.customers WHERE customer_id = ?", [customer_id]).df()
    if rec.empty:
        raise KeyError(f"no customer {customer_id!r} in main.customers")
    when = "(SELECT max(as_of) FROM main.customer_model)" if as_of is None else _d(_as_date(con, as_of))
    row = con.execute(f"SELECT * EXCLUDE (customer_id, gender, province, city) FROM main.customer_model "
                      f"WHERE customer_id = ? AND as_of = {when}", [customer_id]).df()
    out = pd.concat([rec, row], axis=1)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.date
    return out


def clv_recovery(con, result: ClvResult) -> pd.DataFrame | None:
    """Fitted against planted CLV parameters, per customer type fitted on its own buyers, when
    the database is the sample with its ``truth`` schema (an evaluation for the reader; never
    used to fit), plus the implied mean spend per purchase p*gamma/(q-1), which is much better
    determined than p and gamma one by one. None without a truth schema."""
    has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'truth' "
                      "AND table_name = 'parameters'").fetchall()[0][0]
    if not has:
        return None
    planted = dict(con.execute("SELECT name, value FROM truth.parameters").fetchall())
    rows = []
    for _, r in result.params.iterrows():
        if r["fitted_on"] != f"{r['customer_type']} buyers":
            continue  # valued with the pooled model: no fit of its own to compare
        for p in ("r", "alpha", "a", "b", "p", "q", "gamma"):
            key = f"{r['customer_type']}_{p}"
            if key in planted:
                rows.append({"customer_type": r["customer_type"], "parameter": p, "planted": planted[key],
                             "fitted": r[p], "relative_error": r[p] / planted[key] - 1})
        keys = [f"{r['customer_type']}_{p}" for p in ("p", "q", "gamma")]
        if all(k in planted for k in keys) and planted[keys[1]] > 1 and r["q"] > 1:
            true_mean = planted[keys[0]] * planted[keys[2]] / (planted[keys[1]] - 1)
            fit_mean = r["p"] * r["gamma"] / (r["q"] - 1)
            rows.append({"customer_type": r["customer_type"], "parameter": "mean spend p*gamma/(q-1)",
                         "planted": true_mean, "fitted": fit_mean, "relative_error": fit_mean / true_mean - 1})
    return pd.DataFrame(rows) if rows else None
