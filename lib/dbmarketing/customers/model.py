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

The customer model (notebook 03) builds on the clean ``main`` tables of :mod:`dbmarketing.cleanse`:

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

from .. import cleanse, warehouse
from ..warehouse import NotEnoughData

CUSTOMER_TYPES = ("current", "potential", "lapsed", "distributor")


def customer_types(con, as_of, active_days: int = 365, schema: str = "raw") -> pd.DataFrame:
    """One row per customer (current version): customer_id, source_system, customer_type4,
    first and last purchase date and number of orders up to ``as_of``."""
    history = "WHERE valid_to IS NULL" if _has_column(con, schema, "customers", "valid_to") else ""
    # in the raw layer, customers known only by their orders are customers too (as cleaning makes them)
    only = f"UNION ALL BY NAME ({warehouse.sql.text('warehouse.order_only_customers')})" if schema == "raw" else ""
    return con.execute(
        f"""
        WITH c AS (SELECT customer_id, source_system, customer_type, signup_date FROM {schema}.customers {history}
                   {only}),
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


def _age_sql(at: str, birth: str) -> str:
    """Age in whole years at the date literal ``at``, from ``birth``: a birth date; or, in a copy
    published for a lower clearance (:mod:`dbmarketing.privacy`), the birth year alone (as text),
    then the age at the middle of that year, right to within a year."""
    text = f"CAST({birth} AS VARCHAR)"
    return (f"CAST(coalesce(floor(({at} - TRY_CAST({text} AS DATE)) / 365.25), "
            f"year({at}) - TRY_CAST({text} AS INTEGER) - CASE WHEN dayofyear({at}) < 183 THEN 1 ELSE 0 END) AS INTEGER)")


# The feature sources. Each is a query with one row per customer and a ``_last_date`` column:
# the newest date of any row it used. ``{A}`` is the as-of date literal; ``{S}`` the purchases
# as known at as_of (:func:`dbmarketing.cleanse.sales_as_of`: sales up to as_of, net of the
# returns made up to as_of only); ``{R}`` the LifecycleRules; ``{C}`` the ServiceCosts (ticket
# costs as a SQL CASE); ``{RESPONSE}`` the response-window rule of :mod:`dbmarketing.campaigns`. Every date filter is explicit: a source that forgets one is caught by
# the leakage guard.
SOURCES: dict[str, str] = {
    "purchases": """
WITH p AS (
    SELECT customer_id, order_date AS d, channel, gross_amount, returned_amount, net_amount, cost, margin
    FROM {S} WHERE customer_id IS NOT NULL AND order_date <= {A}),
days AS (
    SELECT customer_id, d, d - lag(d) OVER (PARTITION BY customer_id ORDER BY d) AS gap
    FROM (SELECT DISTINCT customer_id, d FROM p)),
gaps AS (
    SELECT customer_id, count(*) AS purchase_days, avg(gap) AS mean_gap_days,
           max(d) FILTER (WHERE gap >= {R.lapsed_days}) AS comeback_date
    FROM days GROUP BY 1),
chan AS (  -- the main channel: the one with the most revenue in total (ties broken by name)
    SELECT customer_id, channel AS main_channel FROM p GROUP BY customer_id, channel
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY sum(net_amount) DESC, channel) = 1)
SELECT p.customer_id, min(d) AS first_purchase, max(d) AS last_purchase, count(*) AS orders,
       count(*) FILTER (WHERE d > {A} - 90) AS orders_90d, count(*) FILTER (WHERE d > {A} - 365) AS orders_12m,
       any_value(g.purchase_days) AS purchase_days, any_value(g.mean_gap_days) AS mean_gap_days,
       any_value(g.comeback_date) AS comeback_date,
       sum(gross_amount) AS gross_amount, sum(returned_amount) AS returned_amount, sum(net_amount) AS revenue,
       coalesce(sum(net_amount) FILTER (WHERE d > {A} - 365), 0) AS revenue_12m,
       sum(cost) AS cost_of_goods, sum(margin) AS gross_margin,
       coalesce(sum(margin) FILTER (WHERE d > {A} - 365), 0) AS margin_12m,
       """ + ",\n       ".join(
        f"coalesce(sum(net_amount) FILTER (WHERE channel = '{c}') / nullif(sum(net_amount), 0), 0) AS share_{c}"
        for c in CHANNELS) + """,
       any_value(c.main_channel) AS main_channel, max(d) AS _last_date
FROM p LEFT JOIN gaps g USING (customer_id) LEFT JOIN chan c USING (customer_id)
GROUP BY p.customer_id""",
    # returns handled up to as_of (also of sales returned in full, which are no purchases):
    # each costs ServiceCosts.per_return; the customer is the one of the sale returned
    "returns": """
SELECT coalesce(o.customer_id, r.customer_id) AS customer_id, count(*) AS returns,
       count(*) FILTER (WHERE r.return_date > {A} - 365) AS returns_12m, max(r.return_date) AS _last_date
FROM main.returns r LEFT JOIN main.orders o USING (order_id)
WHERE r.return_date <= {A} AND coalesce(o.customer_id, r.customer_id) IS NOT NULL
GROUP BY 1""",
    # the category mix: sale lines of the purchases, net of the return lines made up to as_of,
    # so the categories of a customer add up to the revenue
    "categories": """
WITH p AS (SELECT order_id, customer_id, order_date FROM {S} WHERE customer_id IS NOT NULL AND order_date <= {A}),
l AS (
    SELECT p.customer_id, l.product_id, l.amount, p.order_date AS d
    FROM p JOIN main.order_lines l USING (order_id) WHERE l.exclude_reason IS NULL
    UNION ALL
    SELECT p.customer_id, l.product_id, l.amount, r.return_date AS d
    FROM main.returns r JOIN p USING (order_id) JOIN main.order_lines l ON l.order_id = r.return_id
    WHERE r.return_date <= {A} AND l.exclude_reason IS NULL),
cat AS (
    SELECT l.customer_id, coalesce(pr.category, 'unknown') AS category, sum(l.amount) AS amount, max(l.d) AS last_d
    FROM l LEFT JOIN main.products pr USING (product_id) GROUP BY 1, 2)
SELECT customer_id, arg_max(category, (amount, category)) FILTER (WHERE amount > 0) AS main_category,
       count(*) FILTER (WHERE amount > 0) AS n_categories,
       max(amount) / nullif(sum(amount) FILTER (WHERE amount > 0), 0) AS main_category_share,
       string_agg(category || ' ' || CAST(round(100 * amount / total) AS INTEGER) || '%', ', '
                  ORDER BY amount DESC, category) FILTER (WHERE amount >= 0.005 * total)
         || coalesce(', ' || nullif(count(*) FILTER (WHERE amount > 0 AND amount < 0.005 * total), 0)
                     || ' more under 1%', '') AS category_mix,
       max(last_d) AS _last_date
FROM (SELECT *, sum(amount) FILTER (WHERE amount > 0) OVER (PARTITION BY customer_id) AS total FROM cat)
GROUP BY 1""",
    # ``resolved`` is the status at the extraction date (the data holds no resolution date):
    # unresolved_complaints is right at the extraction date, but at an earlier as_of it takes
    # later resolutions for known ones; it serves the reasons, not the churn model's training
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
r AS (  -- a response (campaigns.in_response_window): a purchase as known at as_of, in the window, up to as_of
    SELECT c.customer_id, c.campaign_id, max(s.order_date) AS responded_on
    FROM c JOIN {S} s ON s.customer_id = c.customer_id
     AND {RESPONSE} AND s.order_date <= {A}
    WHERE c.cell = 'test'
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


def _ticket_cost_sql(costs: ServiceCosts) -> str:
    whens = " ".join(f"WHEN '{t}' THEN {float(v)}" for t, v in costs.per_ticket.items() if t.isidentifier())
    return f"(CASE ticket_type {whens} ELSE 0.0 END)" if whens else "0.0"


def customer_360(con, as_of, rules: LifecycleRules | None = None, costs: ServiceCosts | None = None,
                 customer_ids=None) -> pd.DataFrame:
    """One row per master customer at ``as_of``: who, how long, how valuable, how served.

    Every figure is computed in DuckDB from data dated on or before ``as_of``: the purchases
    as known then (:func:`dbmarketing.cleanse.sales_as_of`: net of the returns made by then
    only), the returns handled, tickets, campaign contacts; customers who had signed up by
    then (or bought by then) are included, prospects and lapsed customers too.

    Columns: demographics and consents from ``main.customers`` (``age`` at as_of instead of the
    birth date), ``city_tier``, ``tenure_days`` (since signup, or first purchase if earlier);
    purchases (``first_purchase``, ``last_purchase``, ``recency_days``, ``orders``,
    ``orders_90d``, ``orders_12m``, ``purchase_days``, ``mean_gap_days``); money
    (``gross_amount`` - ``returned_amount`` = ``revenue``, net of returns;
    ``gross_margin`` = revenue - ``cost_of_goods`` at product cost; ``cost_to_serve`` =
    ``return_cost`` (``returns`` handled x per_return, also returns of sales returned in full)
    + ``service_cost`` (tickets by type) + ``contact_cost`` (campaign contacts); ``profit`` =
    gross_margin - cost_to_serve; the ``*_12m`` versions over the last 365 days); channel
    shares ``share_<channel>`` and ``main_channel`` (the channel with the most revenue);
    ``main_category`` (most revenue), ``main_category_share``, ``n_categories``,
    ``category_mix`` (revenue share by category, net of returns, largest first);
    ``campaigns_contacted`` / ``campaigns_responded`` (a purchase within the response window);
    ``tickets``, ``complaints``, ``complaints_180d``, ``unresolved_complaints`` (resolution
    status as extracted); ``lifecycle_stage`` (:class:`LifecycleRules`).

    Raises :class:`LeakageError` if any feature source used a row dated after ``as_of``.
    """
    rules = rules or LifecycleRules()
    costs = costs or ServiceCosts()
    A = warehouse.resolve_as_of(con, as_of)
    lit = _d(A)
    known = cleanse.sales_as_of(con, A)
    for name, template in SOURCES.items():
        sql = template.replace("{A}", lit).replace("{S}", known).replace("{R.lapsed_days}", str(int(rules.lapsed_days)))
        sql = sql.replace("{RESPONSE}", warehouse.sql.text("campaigns.in_response_window", sale="s", contact="c"))
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
           {_age_sql(lit, 'c.birth_date')} AS age,
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
           coalesce(r.returns, 0) AS returns,
           coalesce(r.returns, 0) * {float(costs.per_return)} AS return_cost,
           coalesce(t.service_cost, 0) AS service_cost, coalesce(k.contact_cost, 0) AS contact_cost,
           coalesce(r.returns, 0) * {float(costs.per_return)} + coalesce(t.service_cost, 0) + coalesce(k.contact_cost, 0) AS cost_to_serve,
           coalesce(p.gross_margin, 0) - (coalesce(r.returns, 0) * {float(costs.per_return)} + coalesce(t.service_cost, 0)
               + coalesce(k.contact_cost, 0)) AS profit,
           coalesce(p.margin_12m, 0) - (coalesce(r.returns_12m, 0) * {float(costs.per_return)} + coalesce(t.service_cost_12m, 0)
               + coalesce(k.contact_cost_12m, 0)) AS profit_12m,
           {", ".join(f"coalesce(p.share_{ch}, 0) AS share_{ch}" for ch in CHANNELS)}, p.main_channel,
           g.main_category, g.main_category_share, coalesce(g.n_categories, 0) AS n_categories, g.category_mix,
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
    LEFT JOIN _c360_returns r USING (customer_id)
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
        raise NotEnoughData(f"the Pareto curve needs buyers whose {value} adds up to more than zero")
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
    holdout: pd.DataFrame | None  # None when the history is too short: holdout_note says why
    models: dict
    holdout_note: str = ""
    basis: str = "margin"  # what CLV is in: margin, or revenue where no product costs are known


def _margin_rates(con, A: date, table: str) -> dict:
    rows = con.execute(f"""SELECT c.customer_type, sum(s.margin) / nullif(sum(s.net_amount), 0)
        FROM {table} s JOIN main.customers c USING (customer_id) WHERE s.order_date <= {_d(A)} GROUP BY 1""").fetchall()
    return {t: float(v) for t, v in rows if v is not None}


def _holdout_purchases(con, calibration_end: date, as_of: date) -> str:
    """The purchases of the CLV holdout check, as a temporary view: up to ``calibration_end``
    as known then (the calibration fit cannot know of later returns), after it up to
    ``as_of`` as known at ``as_of``."""
    cal, obs = cleanse.sales_as_of(con, calibration_end), cleanse.sales_as_of(con, as_of)
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _clv_holdout_purchases AS
        SELECT customer_id, order_date, net_amount FROM {cal} WHERE order_date <= {_d(calibration_end)}
        UNION ALL
        SELECT customer_id, order_date, net_amount FROM {obs}
        WHERE order_date > {_d(calibration_end)} AND order_date <= {_d(as_of)}""")
    return "_clv_holdout_purchases"


MIN_CLV_BUYERS, MIN_CLV_REPEATERS = 20, 5


def fit_clv(con, as_of, horizon_months: int = 12, annual_discount_rate: float = 0.10,
            holdout_weeks: int = 39, min_customers: int = 200, min_repeaters: int = 50) -> ClvResult:
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
    calibration purchases).
    """
    from .. import clv, rfm

    A = warehouse.resolve_as_of(con, as_of)
    known = cleanse.sales_as_of(con, A)
    summ = rfm.summarize(con, A, table=known, unit="weeks", repeat=True)
    summ = summ[~summ["is_prospect"].astype(bool)].set_index("customer_id")
    repeat_buyers = int((summ["clv_frequency"] > 0).sum())
    if len(summ) < MIN_CLV_BUYERS or repeat_buyers < MIN_CLV_REPEATERS:
        raise NotEnoughData(f"CLV models learn from repeat purchases: they need at least {MIN_CLV_BUYERS} buyers, "
                            f"{MIN_CLV_REPEATERS} of whom bought again; this database has {len(summ)} buyers, "
                            f"{repeat_buyers} of whom bought again by {A}")
    margins = _margin_rates(con, A, known)
    total_margin = con.execute(f"SELECT sum(margin) / nullif(sum(net_amount), 0) FROM {known} "
                               f"WHERE order_date <= {_d(A)}").fetchall()[0][0]
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
    hold = rfm.repeat_summary(con, A, calibration_end=cal_end, table=_holdout_purchases(con, cal_end, A), unit="weeks")
    types = con.execute("SELECT customer_id, customer_type FROM main.customers").df().set_index("customer_id")["customer_type"]
    hold = hold[types.reindex(hold.index).eq("consumer").to_numpy()]
    table, note = None, ""
    if len(hold) < MIN_CLV_BUYERS or int((hold["frequency"] > 0).sum()) < MIN_CLV_REPEATERS:
        note = (f"The holdout check refits the model on the purchases up to {cal_end} ({holdout_weeks} weeks before "
                f"the as-of date) and needs {MIN_CLV_BUYERS} consumers who had bought by then, {MIN_CLV_REPEATERS} of "
                f"them twice; there are {len(hold)}. A longer history, or a smaller holdout_weeks, allows it.")
    else:
        bg_cal = clv.BetaGeo().fit(hold["frequency"], hold["recency"], hold["T"])
        table = clv.holdout_comparison(bg_cal, hold, hold["frequency_holdout"], float(hold["duration_holdout"].iloc[0]))
        table.attrs["calibration_params"] = bg_cal.params_
    return ClvResult(as_of=A, calibration_end=cal_end, params=params, predictions=predictions,
                     holdout=table, models=models, holdout_note=note,
                     basis="margin" if margins else "revenue (no product costs: margin unknown)")


# --------------------------------------------------------------------------------------
# churn risk: no purchase in the next horizon_days
# --------------------------------------------------------------------------------------

# unresolved_complaints is not a churn feature: the ``resolved`` flag is the status at the
# extraction date (no resolution date), so a training snapshot would see resolutions made
# after it -- a leak. It is still shown among the reasons at as_of.
CHURN_FEATURES = (
    "recency_days", "tenure_days", "orders", "orders_90d", "orders_12m", "purchase_days", "mean_gap_days",
    "revenue_12m", "avg_order_value", "returns", "complaints", "complaints_180d",
    "campaigns_contacted", "campaigns_responded", "share_online", "is_distributor",
)

WHOLE_NUMBER_FEATURES = {"recency_days", "tenure_days", "orders", "orders_90d", "orders_12m", "purchase_days", "returns",
                         "complaints", "complaints_180d", "campaigns_contacted", "campaigns_responded", "is_distributor"}

# feature -> (plain name, what a high value says, what a low value says), for charts and reasons
FEATURE_LABELS = {
    "recency_days": ("days since the last purchase", "long since the last purchase", "bought recently"),
    "tenure_days": ("days as a customer", "long-standing customer", "recent customer"),
    "orders": ("orders in total", "many orders", "few orders in total"),
    "orders_90d": ("orders in the last 90 days", "several orders in the last 90 days", "few orders in the last 90 days"),
    "orders_12m": ("orders in the last 12 months", "many orders in 12 months", "few orders in the last 12 months"),
    "purchase_days": ("days with a purchase", "many purchase days", "few purchase days"),
    "mean_gap_days": ("usual days between purchases", "long gaps between purchases", "short gaps between purchases"),
    "revenue_12m": ("revenue in the last 12 months", "high spend in 12 months", "low spend in the last 12 months"),
    "avg_order_value": ("average order value", "large orders", "small orders"),
    "returns": ("returns", "returns goods", "few returns"),
    "complaints": ("complaints", "has complained", "no complaints"),
    "complaints_180d": ("complaints in the last 180 days", "complained in the last 180 days", "no recent complaint"),
    "campaigns_contacted": ("campaigns that contacted the customer", "often contacted by campaigns",
                            "rarely contacted by campaigns"),
    "campaigns_responded": ("campaigns responded to", "responds to campaigns", "did not respond to campaigns"),
    "share_online": ("share of revenue online", "buys online", "buys little online"),
    "is_distributor": ("distributor (1) or consumer (0)", "a distributor", "a consumer"),
}


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
    known = cleanse.sales_as_of(con, end)
    rows = con.execute(f"""SELECT DISTINCT customer_id FROM {known}
        WHERE customer_id IS NOT NULL AND order_date > {_d(start)} AND order_date <= {_d(end)}""").fetchall()
    return {r[0] for r in rows}


def top_decile_lift(y, p) -> float:
    """Churn rate among the 10% highest scores divided by the overall churn rate.

    Ties at the cut are shared out: when the 10% boundary falls inside a group of equal
    scores (a tree gives whole leaves one score), the group counts with the share of it that
    fits, i.e. its mean churn rate -- the expected lift under random tie-breaking, so the
    figure does not depend on the order of the rows."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) == 0 or y.mean() == 0:
        return math.nan
    k = max(int(math.ceil(0.1 * len(y))), 1)
    cut = np.sort(p)[::-1][k - 1]
    above, tied = p > cut, p == cut
    churners = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float(churners / k / y.mean())


def model_reasons(logit, X: pd.DataFrame, top: int = 2) -> pd.Series:
    """The model's own reasons for each customer's churn risk: the ``top`` features that push
    the logistic regression's risk up the most for this customer (coefficient x transformed,
    standardized value, largest positive first), in plain words (:data:`FEATURE_LABELS`)."""
    Z = np.asarray(logit[:-1].transform(X), dtype=float)
    contrib = Z * logit[-1].coef_[0]
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
    names = list(X.columns)
    out = []
    for i, js in enumerate(order):
        words = [FEATURE_LABELS.get(names[j], (names[j], f"high {names[j]}", f"low {names[j]}"))[1 if Z[i, j] > 0 else 2]
                 for j in js if contrib[i, j] > 0]
        out.append("model's main drivers: " + ", ".join(words) if words else "model: nothing raises the risk above average")
    return pd.Series(out, index=X.index, name="model_reasons")


def churn_reasons(frame: pd.DataFrame, model: pd.Series | None = None) -> pd.Series:
    """Plain-language reasons a customer may be slipping away: those read from the 360 figures
    (complaints, fading recency, ...), then the model's own (:func:`model_reasons`) if given."""
    def col(name, default=0):
        return frame[name] if name in frame else pd.Series(default, index=frame.index)

    def when(mask, text):
        return pd.Series(np.where(mask, text, ""), index=frame.index, dtype=object)

    c180, rec, gap, days = col("complaints_180d"), col("recency_days", np.nan), col("mean_gap_days", np.nan), col("purchase_days")
    fading = (days > 1) & gap.notna() & rec.notna() & (rec > 1.5 * gap)
    once = (days <= 1) & rec.notna() & (rec > 90)
    parts = [
        when(c180 > 0, "complained in the last 180 days (" + c180.fillna(0).astype(int).astype(str) + ")"),
        when(col("unresolved_complaints") > 0, "unresolved complaint"),
        when(fading, "fading recency: " + rec.fillna(0).astype(int).astype(str) + " days since last purchase, usual gap "
             + gap.fillna(0).round().astype(int).astype(str)),
        when(once & ~fading, "bought once, " + rec.fillna(0).astype(int).astype(str) + " days ago"),
        when((col("orders_12m") == 0) & (col("orders") > 0), "no purchase in 12 months"),
        when(col("returns") > 0, "returned goods (" + col("returns").fillna(0).astype(int).astype(str) + ")"),
    ]
    if model is not None:
        parts.append(model.reindex(frame.index).fillna("").astype(object))
    joined = ["; ".join(w for w in row if w) for row in zip(*parts)]
    return pd.Series([j or "general pattern (no single reason)" for j in joined], index=frame.index, name="reasons")


def tree_nodes(tree, features) -> pd.DataFrame:
    """The nodes of a fitted churn decision tree in the order :func:`sklearn.tree.plot_tree`
    draws them (depth first, the "yes" branch first), with a label a marketer can read: the
    question asked (plain names from :data:`FEATURE_LABELS`), the churn share among the
    customers who reach the node and their share of all customers; a leaf also says which way
    it decides. Columns: node, depth, is_leaf, churn_share, customer_share, label."""
    t = tree.tree_
    total = t.weighted_n_node_samples[0]
    rows = []

    def visit(node, depth):
        value = t.value[node][0]
        churn = float(value[1] / value.sum())
        share = float(t.weighted_n_node_samples[node] / total)
        leaf = t.children_left[node] == -1
        head = f"churn {churn:.0%} · {share:.0%} of customers"
        if leaf:  # narrow: the leaves stand side by side
            label = f"churn {churn:.0%}\n{share:.0%} of customers\n" + ("→ likely to churn" if churn >= 0.5 else "→ buys again")
        else:
            name = features[t.feature[node]]
            plain = FEATURE_LABELS.get(name, (name,))[0]
            cut = t.threshold[node]
            cut = f"{math.floor(cut):,}" if name in WHOLE_NUMBER_FEATURES else f"{cut:,.4g}"  # x <= 2.5 is x <= 2
            label = f"{plain} ≤ {cut}?\n" + head
        rows.append({"node": node, "depth": depth, "is_leaf": leaf, "churn_share": churn,
                     "customer_share": share, "label": label})
        if not leaf:
            visit(t.children_left[node], depth + 1)
            visit(t.children_right[node], depth + 1)

    visit(0, 0)
    return pd.DataFrame(rows)



def plot_churn_tree(tree, features, ax, fontsize: int = 9) -> pd.DataFrame:
    """Draw a fitted churn decision tree for a marketer: :func:`sklearn.tree.plot_tree` with
    the boxes relabelled by :func:`tree_nodes` (question, churn share, share of customers,
    the decision at a leaf), coloured from green (few churn) to red (most churn), and the
    branches marked "yes" / "no". Returns the nodes drawn."""
    from matplotlib import colormaps
    from sklearn.tree import plot_tree

    nodes = tree_nodes(tree, list(features))
    drawn = plot_tree(tree, feature_names=list(features), filled=True, impurity=False, proportion=True, rounded=True,
                      fontsize=fontsize, ax=ax)
    boxes = [a for a in drawn if a.get_bbox_patch() is not None]
    if len(boxes) != len(nodes):
        raise ValueError(f"plot_churn_tree: {len(boxes)} boxes drawn for {len(nodes)} nodes (draw the whole tree)")
    colour = colormaps["RdYlGn_r"]
    for box, (_, node) in zip(boxes, nodes.iterrows()):
        box.set_text(node["label"])
        box.get_bbox_patch().set_facecolor(colour(0.1 + 0.8 * node["churn_share"]))
    for edge in (a for a in drawn if a.get_bbox_patch() is None):
        edge.set_text({"True": "yes", "False": "no"}.get(edge.get_text().strip(), edge.get_text()))
    return nodes

@dataclass
class ChurnResult:
    """What :func:`churn_model` learned and measured.

    ``train_as_of`` / ``test_as_of``: the two snapshot dates (features at the date, outcome
    in the ``horizon_days`` after it); ``metrics``: AUC and top-decile lift on the holdout
    snapshot for each model; ``calibration``: predicted vs observed churn by risk bin on the
    holdout; ``holdout``: one row per holdout customer (churned, p_tree, p_logit);
    ``tree`` / ``logit``: the models refitted on the holdout snapshot (the newest labelled
    data) and used for ``scores`` at ``as_of`` (churn_risk = logistic, churn_risk_tree,
    churn_reasons: from the history and the logistic model's largest contributions);
    ``base_rate``: the share of holdout customers who churned (the average risk).
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
    base_rate: float


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

    A = warehouse.resolve_as_of(con, as_of)
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
    if len(X0) < 50 or len(set(y0)) < 2 or len(set(y1)) < 2:
        raise NotEnoughData(
            f"the churn model learns from the customers who could churn {2 * h} days before the as-of date "
            f"({t0}) and checks itself on those of {t1}: it needs at least 50 of them, some who bought again and "
            f"some who did not in each period; this database has {len(X0)} at {t0} and {len(X1)} at {t1} "
            f"(history from the first purchase on; a shorter horizon_days or a longer history helps)")
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
    scores["churn_reasons"] = churn_reasons(Xa, model_reasons(logit_now, Xa[feats]))
    return ChurnResult(as_of=A, horizon_days=h, train_as_of=t0, test_as_of=t1, features=feats, metrics=metrics,
                       calibration=pd.concat(cal, ignore_index=True), holdout=holdout, tree=tree_now,
                       logit=logit_now, scores=scores.reset_index(), base_rate=float(np.mean(y1)))


def valuable_at_risk(model: pd.DataFrame, value: str = "profit", top_value: float = 0.2,
                     base_rate: float | None = None, risk_ratio: float = 1.2) -> pd.DataFrame:
    """The list that matters: valuable customers at high risk, most valuable first.

    Valuable: the top ``top_value`` share of the scored customers by ``value`` (profit to
    date by default: what the customer has been bringing and would take away; CLV already
    discounts for the BG/NBD chance of having left, so it ranks few customers at risk high).
    High risk: ``churn_risk`` at least ``risk_ratio`` x ``base_rate``, the average risk (the
    holdout churn rate, :attr:`ChurnResult.base_rate`; the scored customers' mean risk if
    None) -- a cut relative to the base, as a fixed 0.5 would sit below the average where
    most customers churn. ``churn_reasons`` holds each customer's reasons, the model's among them.
    """
    if not 0 < top_value <= 1:
        raise ValueError(f"top_value is a share between 0 and 1, got {top_value}")
    if risk_ratio < 1:
        raise ValueError(f"risk_ratio must be at least 1 (above the average risk), got {risk_ratio}")
    scored = model.dropna(subset=["churn_risk", value])
    if scored.empty:
        return scored
    base = float(scored["churn_risk"].mean()) if base_rate is None else float(base_rate)
    cut = scored[value].quantile(1 - top_value)
    out = scored[(scored[value] >= cut) & (scored["churn_risk"] >= risk_ratio * base)]
    out = out.sort_values(value, ascending=False)
    out.attrs.update(base_rate=base, risk_cut=risk_ratio * base, value_cut=float(cut), value=value)
    return out


# --------------------------------------------------------------------------------------
# segments: k-means on behaviour; marketing groups
# --------------------------------------------------------------------------------------

SEGMENT_FEATURES = ("recency_days", "orders", "revenue", "avg_order_value", "tenure_days", "n_categories",
                    "returns", "complaints")


@dataclass
class SegmentResult:
    """``k`` chosen (or given), ``silhouette`` (k -> silhouette score on a seeded sample),
    ``labels`` (customer_id, segment number, segment name), ``profile`` (each segment's mean
    of every feature used as an index against the whole base, 100 = average, plus its size),
    ``left_out`` (features that do not differ between buyers, e.g. returns when none were loaded)."""

    k: int
    silhouette: pd.DataFrame
    labels: pd.DataFrame
    profile: pd.DataFrame
    model: object
    left_out: list = field(default_factory=list)  # features every buyer shares, not used


def _segment_name(row) -> str:
    row = row.reindex(SEGMENT_FEATURES)  # a feature left out is unknown (NaN): no word for it
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
    returns, complaints = row["returns"], row["complaints"]
    if returns > 200:
        words.append("often-returning")
    if complaints > 200:
        words.append("complaining")
    if row["orders"] > 100 and returns < 20 and complaints < 20:  # unknown (NaN) is not trouble-free
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
    raw = c[list(SEGMENT_FEATURES)].astype(float).clip(lower=0).fillna(0)
    # a feature every buyer shares (no returns or tickets loaded, one category) tells nobody apart
    raw = raw.loc[:, raw.nunique() > 1]
    if raw.shape[1] < 2:
        raise NotEnoughData("segments need at least two behaviour features that differ between buyers "
                            f"({', '.join(raw.columns) or 'none'} here)")
    Z = StandardScaler().fit_transform(np.log1p(raw))
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(Z), size=min(sample_size, len(Z)), replace=False)
    ks = [k] if k is not None else [kk for kk in k_range if 2 <= kk < len(idx)]
    if not ks or len(Z) < 20:
        raise NotEnoughData(f"segments need at least 20 buyers to group ({len(Z)} here)")
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
    left_out = [f for f in SEGMENT_FEATURES if f not in raw.columns]
    return SegmentResult(k=best, silhouette=sil, labels=labels, profile=profile, model=km, left_out=left_out)


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


def unknown_groups(model: pd.DataFrame, value: str = "profit", tickets: bool = True, churn: bool = True) -> dict[str, str]:
    """The marketing groups the data cannot fill, with the reason: an empty group must mean
    nobody is in it, not that nobody could be known to be. ``value``: what value tiers rank by
    (no BZ tier without profit); ``tickets``: whether service tickets were loaded; ``churn``:
    whether the churn model was fitted."""
    out = {}
    if value != "profit":
        out["below zero"] = "no product costs, so no profit"
    if not tickets:
        out["complained recently"] = "no service tickets"
    for group, column in (("e-mail consent", "consent_email"), ("SMS consent", "consent_sms"),
                          ("mail consent", "consent_mail")):
        if model[column].isna().all():
            out[group] = f"no customer record says yes or no ({column} is empty)"
    if not churn:
        out["valuable at risk"] = "no churn model"
    return out


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

_T1, _T2 = warehouse.PUBLIC, warehouse.DEEP_PUBLIC
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
    "cost_of_goods": ("DOUBLE", "Cost of the goods bought (net of returns) at product cost", _T2),
    "gross_margin": ("DOUBLE", "Revenue - cost of goods at product cost", _T2),
    "returns": ("BIGINT", "Returns handled (also of sales returned in full)", _T1),
    "return_cost": ("DOUBLE", "Cost of handling the returns (returns x cost per return)", _T2),
    "service_cost": ("DOUBLE", "Cost of the service tickets (by ticket type)", _T2),
    "contact_cost": ("DOUBLE", "Cost of the campaign contacts (test cells only)", _T2),
    "cost_to_serve": ("DOUBLE", "return_cost + service_cost + contact_cost", _T2),
    "profit": ("DOUBLE", "gross_margin - cost_to_serve", _T2),
    "profit_12m": ("DOUBLE", "Profit over the last 365 days", _T2),
    "main_channel": ("VARCHAR", "Channel with the most revenue", _T1),
    **{f"share_{c}": ("DOUBLE", f"Share of revenue bought through the {c} channel", _T1) for c in CHANNELS},
    "main_category": ("VARCHAR", "Product category with the most revenue", _T1),
    "main_category_share": ("DOUBLE", "Share of revenue in the main category", _T1),
    "n_categories": ("BIGINT", "Product categories bought", _T1),
    "category_mix": ("VARCHAR", "Share of revenue by product category, net of returns, largest first", _T1),
    "campaigns_contacted": ("BIGINT", "Campaigns that contacted the customer (test cell)", _T1),
    "campaigns_responded": ("BIGINT", "Campaigns followed by a purchase within the response window", _T1),
    "tickets": ("BIGINT", "Service tickets opened (complaints, inquiries, returns)", _T1),
    "complaints": ("BIGINT", "Complaint tickets", _T1),
    "complaints_180d": ("BIGINT", "Complaint tickets in the last 180 days", _T1),
    "unresolved_complaints": ("BIGINT", "Complaints not resolved (status at the extraction date: no resolution date is kept)", _T1),
    "value_tier": ("VARCHAR", "MVC (most valuable), MGC (most growable), BZ (below zero), other, prospect", _T1),
    "p_alive": ("DOUBLE", "BG/NBD probability the customer is still active", _T2),
    "expected_purchases": ("DOUBLE", "BG/NBD expected purchases over the CLV horizon", _T2),
    "clv": ("DOUBLE", "Discounted expected margin over the CLV horizon (BG/NBD x Gamma-Gamma)", _T2),
    "churn_risk": ("DOUBLE", "Probability of no purchase in the churn horizon (logistic regression)", _T2),
    "churn_reasons": ("VARCHAR", "Plain-language risk reasons: from the history (complaints, fading recency, ...) "
                      "and the model's largest contributions", _T2),
    "valuable_at_risk": ("BOOLEAN", "Top-profit customer with churn risk well above the average (customers.valuable_at_risk)", _T2),
    "segment": ("INTEGER", "k-means behaviour segment (buyers)", _T1),
    "segment_name": ("VARCHAR", "Plain-language segment name", _T1),
    "groups": ("VARCHAR", "Marketing groups the customer belongs to (several at once)", _T2),
}


@dataclass
class CustomerModel:
    """Everything :func:`build_customer_model` computed: ``table`` (the rows written to
    ``main.customer_model``), ``clv``, ``churn``, ``segments``, ``pareto``, ``groups``,
    ``c360`` (the 360 view with every model column) and ``at_risk`` (the valuable customers
    at high risk, :func:`valuable_at_risk`, its cuts in ``attrs``)."""

    as_of: date
    table: pd.DataFrame
    clv: ClvResult | None          # None where the data cannot carry the model: skipped says why
    churn: ChurnResult | None
    segments: SegmentResult | None
    pareto: pd.DataFrame | None
    groups: pd.DataFrame
    c360: pd.DataFrame
    at_risk: pd.DataFrame
    value: str = "profit"          # what value tiers rank by: profit, or revenue without product costs
    skipped: dict = field(default_factory=dict)  # part -> why it was not computed


def build_customer_model(con, as_of, horizon_days: int = 180, seed: int = 42, k: int | None = None,
                         rules: LifecycleRules | None = None, costs: ServiceCosts | None = None,
                         clv_months: int = 12, annual_discount_rate: float = 0.10, holdout_weeks: int = 39,
                         mvc_share: float = 0.2, mgc_share: float = 0.2, top_value: float = 0.2,
                         risk_ratio: float = 1.2, write: bool = True) -> CustomerModel:
    """The whole customer model at ``as_of``, written to ``main.customer_model``.

    360 view and lifecycle (:func:`customer_360`), CLV (:func:`fit_clv`), value tiers
    (:func:`value_tiers` on profit and the ``clv_months`` CLV), churn risk
    (:func:`churn_model`), segments (:func:`segment`) and marketing groups. The table holds
    one row per customer per as-of date: rows of this ``as_of`` are replaced, other dates
    kept; it is registered in the catalog with privacy tiers.
    """
    A = warehouse.resolve_as_of(con, as_of)
    c = customer_360(con, A, rules=rules, costs=costs)
    if int((~c["is_prospect"].astype(bool)).sum()) == 0:
        raise NotEnoughData(f"the customer model needs buyers: nobody had bought by {A}")
    skipped: dict[str, str] = {}

    def attempt(part, fn):
        try:
            return fn()
        except NotEnoughData as reason:
            skipped[part] = str(reason)
            return None

    value = "profit" if has_product_costs(con) else "revenue"
    if value == "revenue":  # no cost of goods: margin and profit are unknown, not zero
        c[["cost_of_goods", "gross_margin", "margin_12m", "profit", "profit_12m"]] = np.nan
        skipped["profit"] = ("The database holds no product costs, so no margin and no profit can be known: value "
                             "tiers and the Pareto curve rank customers by revenue, and CLV is in revenue. Load a "
                             "product master with unit costs (and order lines with product codes) to see profit.")
    cl = attempt("clv", lambda: fit_clv(con, A, horizon_months=clv_months, annual_discount_rate=annual_discount_rate,
                                        holdout_weeks=holdout_weeks))
    if cl is not None:
        m = c.merge(cl.predictions.drop(columns="customer_type"), on="customer_id", how="left")
    else:
        m = c.assign(p_alive=np.nan, expected_purchases=np.nan, expected_spend=np.nan, clv=np.nan)
    m["value_tier"] = value_tiers(m, "clv", mvc_share, mgc_share, value=value)
    ch = attempt("churn", lambda: churn_model(con, A, horizon_days=horizon_days, seed=seed, rules=rules))
    if ch is not None:
        m = m.merge(ch.scores, on="customer_id", how="left")
        at_risk = valuable_at_risk(m, value, top_value, base_rate=ch.base_rate, risk_ratio=risk_ratio)
    else:
        m = m.assign(churn_risk=np.nan, churn_risk_tree=np.nan, churn_reasons=None)
        at_risk = m.iloc[0:0]
    m["valuable_at_risk"] = m["customer_id"].isin(at_risk["customer_id"])
    sg = attempt("segments", lambda: segment(con, A, k=k, seed=seed, frame=c))
    if sg is not None:
        m = m.merge(sg.labels, on="customer_id", how="left")
    else:
        m = m.assign(segment=pd.NA, segment_name=None)
    m["segment"] = m["segment"].astype("Int64")
    tickets = bool(con.execute("SELECT count(*) FROM raw.service_tickets").fetchone()[0])
    unknown = unknown_groups(m, value, tickets=tickets, churn=ch is not None)
    if unknown:
        skipped["groups"] = ("Left out of the marketing groups, since the data cannot tell who is in them: "
                             + "; ".join(f"{g} ({why})" for g, why in unknown.items()) + ".")
    groups = marketing_groups(m, {g: rule for g, rule in MARKETING_GROUPS.items() if g not in unknown})
    m["groups"] = groups["groups"].to_numpy()
    table = m[list(MODEL_COLUMNS)].copy()
    if write:
        store_customer_model(con, table)
    pareto = attempt("pareto", lambda: profit_pareto(c, value))
    return CustomerModel(as_of=A, table=table, clv=cl, churn=ch, segments=sg, pareto=pareto,
                         groups=groups.set_index(m["customer_id"]), c360=m, at_risk=at_risk, value=value,
                         skipped=skipped)


def has_product_costs(con) -> bool:
    """Whether any counted purchase has a cost of goods (product costs were loaded)."""
    return bool(con.execute("SELECT count(cost) FROM main.sales").fetchone()[0])


def store_customer_model(con, table: pd.DataFrame) -> int:
    """Write ``table`` into ``main.customer_model``: the rows of its as-of date(s) are
    replaced, other dates kept. A table written by an older version gains the new columns
    (empty for its older rows). Registers the table in the catalog. Returns rows written."""
    cols = list(MODEL_COLUMNS)
    body = ", ".join(f'"{c}" {t}' for c, (t, _, _) in MODEL_COLUMNS.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS main.customer_model ({body})")
    con.register("_cm_new", table[cols])
    try:
        con.execute("BEGIN TRANSACTION")
        warehouse.add_missing_columns(con, "main", "customer_model", [warehouse.Column(c, t, "") for c, (t, _, _) in MODEL_COLUMNS.items()])
        con.execute("DELETE FROM main.customer_model WHERE as_of IN (SELECT DISTINCT CAST(as_of AS DATE) FROM _cm_new)")
        casts = ", ".join(f'CAST("{c}" AS {t})' for c, (t, _, _) in MODEL_COLUMNS.items())
        names = ", ".join(f'"{c}"' for c in cols)
        con.execute(f"INSERT INTO main.customer_model ({names}) SELECT {casts} FROM _cm_new")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_cm_new")
    warehouse.register_table(con, "main", "customer_model",
                      [warehouse.Column(c, t, d, tier) for c, (t, d, tier) in MODEL_COLUMNS.items()],
                      "Customer model: one row per customer per as-of date (360 view, lifecycle, value tier, CLV, "
                      "churn risk, segment, marketing groups).", layer="marts")
    return len(table)


def customer_view(con, customer_id: str, as_of=None) -> pd.DataFrame:
    """One customer's 360 view: the golden record (name, phone, ... -- mask it with
    :func:`dbmarketing.privacy.mask_frame`) beside the stored model row (latest as-of date
    unless given), as one row with a column per field; :func:`view_sections` cuts it into
    short field / value tables for reading."""
    rec = con.execute("SELECT customer_id, name, gender, birth_date, phone, email, province, city, address "
                      "FROM main.customers WHERE customer_id = ?", [customer_id]).df()
    if rec.empty:
        raise KeyError(f"no customer {customer_id!r} in main.customers")
    when = "(SELECT max(as_of) FROM main.customer_model)" if as_of is None else _d(warehouse.resolve_as_of(con, as_of))
    row = con.execute(f"SELECT * EXCLUDE (customer_id, gender, province, city) FROM main.customer_model "
                      f"WHERE customer_id = ? AND as_of = {when}", [customer_id]).df()
    out = pd.concat([rec, row], axis=1)
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.date
    return out


# the 360 view read in parts, each short enough to read at a glance (plots.MAX_ROWS rows at most)
VIEW_SECTIONS = {
    "Who": ["customer_id", "name", "gender", "birth_date", "age", "phone", "email", "address", "city", "province",
            "city_tier", "customer_type"],
    "Registration and consents": ["signup_date", "signup_channel", "tenure_days", "source_systems", "consent_mail",
                                  "consent_sms", "consent_email", "consent_phone"],
    "Purchases": ["first_purchase", "last_purchase", "recency_days", "orders", "orders_12m", "main_channel",
                  *[f"share_{c}" for c in CHANNELS], "main_category", "main_category_share", "n_categories",
                  "category_mix"],
    "Value today": ["revenue", "revenue_12m", "cost_of_goods", "gross_margin", "returns", "return_cost", "service_cost",
                    "contact_cost", "cost_to_serve", "profit", "profit_12m"],
    "Future and risk": ["as_of", "lifecycle_stage", "value_tier", "p_alive", "expected_purchases", "clv", "churn_risk",
                        "churn_reasons", "valuable_at_risk"],
    "Service, campaigns and segment": ["campaigns_contacted", "campaigns_responded", "tickets", "complaints",
                                       "complaints_180d", "unresolved_complaints", "segment", "segment_name", "groups"],
}


def view_sections(view: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A :func:`customer_view` row (masked or not) as short field / value tables, one per
    section of :data:`VIEW_SECTIONS`; fields of no section come last under "Other", so none
    is lost. Values are shown as text, amounts and shares with two decimals."""
    if len(view) != 1:
        raise ValueError(f"view_sections expects one customer's view (one row), got {len(view)} rows")
    placed = {c for cols in VIEW_SECTIONS.values() for c in cols}
    sections = {**VIEW_SECTIONS, "Other": [c for c in view.columns if c not in placed]}
    out = {}
    for title, cols in sections.items():
        cols = [c for c in cols if c in view.columns]
        if cols:
            row = view.iloc[0]
            out[title] = pd.DataFrame({"field": cols, "value": [_as_text(row[c]) for c in cols]})
    return out


def _as_text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:,.2f}"
    return str(value)


def _planted_spend_fit(con, customer_type: str, as_of: date):
    """Gamma-Gamma refitted on the order values the sample simulator drew (truth.purchases.spend_drawn,
    before they became whole-unit baskets and were partly returned), for the people of one type:
    (fitted model, repeat buyers). Sample databases only."""
    from .. import clv, rfm

    con.execute(f"""CREATE OR REPLACE TEMP VIEW _planted_spend AS
        SELECT CAST(t.person_id AS VARCHAR) AS customer_id, t.order_date, t.spend_drawn AS net_amount
        FROM truth.purchases t JOIN truth.persons p USING (person_id)
        WHERE p.customer_type = '{customer_type.replace("'", "''")}'""")
    s = rfm.repeat_summary(con, as_of, table="_planted_spend", unit="weeks")
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
    truth = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'truth'").fetchall()}
    if "parameters" not in truth:
        return None
    planted = dict(con.execute("SELECT name, value FROM truth.parameters").fetchall())
    rows = []
    for _, r in result.params.iterrows():
        t = r["customer_type"]
        if r["fitted_on"] != f"{t} buyers":
            continue  # valued with the pooled model: no fit of its own to compare
        drawn, drawn_n = _planted_spend_fit(con, t, result.as_of) if {"purchases", "persons"} <= truth else (None, None)

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


def clv_recovery_note(recovery: pd.DataFrame, close: float = 0.10) -> str:
    """The reading of :func:`clv_recovery` in plain words, from its figures: per customer type,
    how close the purchase model and the mean spend came, and where Gamma-Gamma's p and gamma
    are off, whether the cause is in the data (a refit on the drawn order values comes within
    ``close``) or in what the data can tell (even the drawn values miss: p and gamma are
    poorly determined one by one)."""
    parts = []
    for t, g in recovery.groupby("customer_type", sort=True):
        e = g.set_index("parameter")
        purchase = e.loc[[p for p in ("r", "alpha", "a", "b") if p in e.index], "relative_error"].abs().max()
        spend = e.filter(like="mean spend", axis=0)
        text = f"**{t}s**: the purchase model (r, alpha, a, b) is within **{purchase:.0%}** of the planted values"
        if not spend.empty:
            text += f", the mean spend per purchase within **{abs(spend.relative_error.iloc[0]):.0%}**"
        pg = e.loc[[p for p in ("p", "gamma") if p in e.index]]
        if not pg.empty:
            off = ", ".join(f"{p} {v:+.0%}" for p, v in pg.relative_error.items())
            text += f". Gamma-Gamma's p and gamma one by one: {off}"
            drawn = e.loc[[p for p in ("p", "q", "gamma") if p in e.index], "drawn_error"]
            n = int(pg.repeat_buyers.iloc[0]) if pd.notna(pg.repeat_buyers.iloc[0]) else None
            if drawn.notna().all() and drawn.abs().max() <= close:
                text += (f"; fitted on the order values the simulator drew (before they became whole-unit baskets "
                         f"and partial returns) they come within **{drawn.abs().max():.0%}** -- the gap lies in the "
                         f"realised order values, not in the fit")
            elif drawn.notna().all():
                worst = drawn.abs().idxmax()
                text += (f"; even fitted on the order values the simulator drew, {worst} is {drawn[worst]:+.0%} off: "
                         f"{'with ' + format(n, ',') + ' repeat buyers ' if n else ''}p and gamma are poorly "
                         f"determined one by one (many pairs give nearly the same spread of order values), only "
                         f"the mean spend is")
        parts.append(text + ".")
    return "\n\n".join(parts)
