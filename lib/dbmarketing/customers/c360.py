"""The 360 view and lifecycle: who the customers are at an as-of date.

The four customer types of database marketing, as used from notebook 01 on:

1. **current** -- bought within the last ``active_days`` days before the as-of date;
2. **potential** (prospects) -- in the database but never bought: the acquisition list;
3. **lapsed** -- bought before, but not within ``active_days``: the win-back list, kept in
   the database, never deleted;
4. **distributor** -- intermediaries (dealers, wholesalers) who buy to resell; they are
   customers of a different kind and are counted apart whatever their recency.

Only purchases (completed sale orders) dated on or before ``as_of`` count, and only
customers who had signed up by then.

"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import cleanse, warehouse
from ._common import _d
from .checks import LeakageError

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


# Everything over transactions runs as SQL in DuckDB with explicit ``<= as_of`` filters;
# pandas receives one row per customer. Every feature source below states the last date it
# used (``_last_date``) so that :func:`customer_360` can prove no feature looks past ``as_of``.

LIFECYCLE_STAGES = ("prospect", "new", "active", "at risk", "lapsed", "reactivated")
CHANNELS = ("store", "online", "phone", "distributor")
TICKET_TYPES = ("complaint", "inquiry", "return")


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


