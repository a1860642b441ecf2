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
from .checks import LeakageError
from .value import sample_cut

CUSTOMER_TYPES = ("current", "potential", "lapsed", "distributor")


def customer_types(con, as_of, active_days: int = 365, schema: str = "raw") -> pd.DataFrame:
    """One row per customer (current version), by customer number: customer_id, source_system,
    customer_type, customer_type4 and the last purchase up to ``as_of``. To count them, use
    :func:`type_counts` (the database counts; nothing per customer comes into pandas)."""
    out = warehouse.sql.run(con, "customers.customer_types", {"as_of": str(as_of), "active_days": int(active_days)},
                            **_type_parts(con, schema)).df()
    return out.sort_values("customer_id", ignore_index=True)


def type_counts(con, as_of, active_days: int = 365, schema: str = "raw") -> pd.DataFrame:
    """Customer records per ``source_system`` and ``customer_type4`` (:func:`customer_types`,
    counted by the database): ``customer_records``. What chapter 01 shows; at 10M customers
    the per-customer rows would be 10M rows in pandas for a table of a few cells."""
    sql = warehouse.sql
    types = sql.text("customers.customer_types", **_type_parts(con, schema))
    return sql.run(con, "customers.type_counts", {"as_of": str(as_of), "active_days": int(active_days)},
                   types=types).df()


def _type_parts(con, schema: str) -> dict:
    sql = warehouse.sql
    history = sql.text("customers.current_records") if _has_column(con, schema, "customers", "valid_to") else ""
    # in the raw layer, customers known only by their orders are customers too (as cleaning makes them)
    only = (sql.text("customers.with_order_only_customers",
                     order_only_customers=sql.text("warehouse.order_only_customers")) if schema == "raw" else "")
    return {"customers": sql.ident(schema, "customers"), "orders": sql.ident(schema, "orders"),
            "history": history, "order_only": only}


def _has_column(con, schema: str, table: str, column: str) -> bool:
    return bool(warehouse.sql.one(con, "customers.has_column", {"schema": schema, "table": table, "column": column})[0])


# Everything over transactions runs as SQL in DuckDB with explicit ``<= as_of`` filters;
# pandas receives one row per customer. Every feature source below states the last date it
# used (``_last_date``) so that :func:`customer_360` can prove no feature looks past ``as_of``.

LIFECYCLE_STAGES = ("prospect", "new", "active", "at risk", "lapsed", "reactivated")
CHANNELS = ("store", "online", "phone", "distributor")  # customers.sql: a share_<channel> column for each
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


# The feature sources: named statements of customers.sql, each filling a temporary table with
# one row per customer and a ``_last_date`` column, the newest date of any row it used. Each
# reads the as-of date ``$as_of``; the purchases as known at as_of ``{{sales}}``
# (:func:`dbmarketing.cleanse.sales_as_of`: sales up to as_of, net of the returns made up to
# as_of only); the LifecycleRules ``$lapsed_days``; the ServiceCosts' ticket costs
# ``{{ticket_costs}}``; the response-window rule of :mod:`dbmarketing.campaigns`
# ``{{response}}``. Every date filter is explicit: a source that forgets one is caught by the
# leakage guard.
SOURCES: dict[str, str] = {
    "purchases": "customers.source_purchases",
    "returns": "customers.source_returns",
    "categories": "customers.source_categories",
    "tickets": "customers.source_tickets",
    "contacts": "customers.source_contacts",
}


def customer_360(con, as_of, rules: LifecycleRules | None = None, costs: ServiceCosts | None = None,
                 customer_ids=None, share: float = 1.0) -> pd.DataFrame:
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

    ``customer_ids``: only these customers; ``share`` < 1: only a fixed sample of about that
    share of them (by the MD5 of the customer number: the same customers at every date and on
    every engine, :func:`.value.sample_cut`).

    Raises :class:`LeakageError` if any feature source used a row dated after ``as_of``.
    """
    con = warehouse.compute_on(con)  # on Spark with a session of engine "spark"
    return _with_features(con, as_of, rules, costs, customer_ids, share,
                          lambda params, tables: warehouse.sql.run(con, "customers.customer_360", params, **tables).df())


def store_360(con, as_of, table: str = "main.customer_360", rules: LifecycleRules | None = None,
              costs: ServiceCosts | None = None, temporary: bool = False) -> int:
    """The 360 view of :func:`customer_360` written by the database into ``table`` (replaced;
    ``temporary``: a temporary table of ``con``), without a round trip through pandas: at
    10,000,000 customers its 60 columns do not fit in the memory of one Python process, and the
    reports show aggregates of it (:func:`counts_360`). Returns the rows written."""
    sql = warehouse.sql
    name = sql.ident(*table.split("."))

    def write(params, tables):
        query = sql.text("customers.customer_360", **tables)
        if temporary:
            sql.run(con, "warehouse.materialize", params, target=name, query=query)
        else:
            sql.run(con, "customers.store_360", params, table=name, query=query)
        return sql.one(con, "customers.rows_of", table=name)[0]

    return _with_features(con, as_of, rules, costs, None, 1.0, write)


def counts_360(con, table: str = "main.customer_360", as_of=None) -> pd.DataFrame:
    """Customers, 12-month revenue and profit per lifecycle stage, customer type and main
    channel of a stored 360 view (:func:`store_360`, or ``main.customer_model``; only the rows
    of ``as_of`` when given), counted by the database: what :func:`stage_counts` and
    :func:`stage_by_type` read."""
    sql = warehouse.sql
    return sql.run(con, "customers.counts_360", {"as_of": as_of}, table=sql.ident(*table.split("."))).df()


def _with_features(con, as_of, rules, costs, customer_ids, share, use):
    """Fill the feature sources at ``as_of`` (temporary tables), prove that none used a row dated
    after it, and return ``use(params, tables)`` -- the statement's parameters and the sources'
    table names -- while they exist; they are dropped after it."""
    rules = rules or LifecycleRules()
    costs = costs or ServiceCosts()
    sql = warehouse.sql
    A = warehouse.resolve_as_of(con, as_of)
    parts = {"sales": cleanse.sales_as_of(con, A),
             "response": sql.text("campaigns.in_response_window", sale="s", contact="c"),
             "ticket_costs": sql.temp_name("c360_ticket_costs")}
    per_ticket = pd.DataFrame({"ticket_type": pd.Series(list(costs.per_ticket), dtype="string"),
                               "cost": pd.Series([float(v) for v in costs.per_ticket.values()], dtype=float)})
    params = {"as_of": A, "lapsed_days": int(rules.lapsed_days), "new_days": int(rules.new_days),
              "reactivated_days": int(rules.reactivated_days), "at_risk_days": int(rules.at_risk_days),
              "per_return": float(costs.per_return),
              "ids": None if customer_ids is None else [str(i) for i in customer_ids], "sample_cut": sample_cut(share)}
    tables = {name: sql.temp_name(f"c360_{name}") for name in SOURCES}
    con.register(parts["ticket_costs"], per_ticket)
    try:
        for name, statement in SOURCES.items():
            holes = sql.queries()[statement].holes
            sql.run(con, statement, params, into=sql.ident(tables[name]),
                    **{k: v for k, v in parts.items() if k in holes})
            newest = sql.one(con, "customers.newest_date_used", source=sql.ident(tables[name]))[0]
            if newest is not None and newest > A:
                raise LeakageError(f"customer_360: feature source {name!r} used data dated {newest}, after as_of {A}")
        out = use(params, {name: sql.ident(table) for name, table in tables.items()})
    finally:
        for table in tables.values():
            sql.run(con, "customers.drop_table", table=sql.ident(table))
        con.unregister(parts["ticket_costs"])
    if isinstance(out, pd.DataFrame):
        out.attrs.update(as_of=A.isoformat(), rules=rules, costs=costs)
    return out


def lifecycle(con, as_of, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Lifecycle stage of every customer at ``as_of`` (see :class:`LifecycleRules`), with the
    dates the rules read: customer_id, customer_type, first/last purchase, comeback date,
    recency_days, lifecycle_stage."""
    c = customer_360(con, as_of, rules=rules)
    return c[["customer_id", "customer_type", "first_purchase", "last_purchase", "comeback_date",
              "recency_days", "lifecycle_stage"]]


