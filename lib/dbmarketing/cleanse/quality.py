"""The data-quality scorecard: completeness, validity, uniqueness and timeliness per table and
column, before and after cleaning, and its summary for the reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from .. import warehouse
from . import standardize as st
from ._common import PUBLIC, _by_value, _cols
from .records import ATTRIBUTES, city_reference, last_update

SCORE_COLUMNS = _cols(
    ("run_id", "INTEGER", "Cleaning run", PUBLIC), ("as_of", "DATE", "As-of date", PUBLIC),
    ("stage", "VARCHAR", "before or after cleaning", PUBLIC), ("table_name", "VARCHAR", "Table", PUBLIC),
    ("column_name", "VARCHAR", "Column ('*' for the table)", PUBLIC),
    ("dimension", "VARCHAR", "completeness, validity, uniqueness or timeliness", PUBLIC),
    ("score", "DOUBLE", "Share 0-1 (1 = perfect)", PUBLIC),
    ("detail", "VARCHAR", "What was measured, e.g. the age in days of the newest record", PUBLIC),
)
QUALITY_SCORES = warehouse.Table("quality_scores", "Data-quality scorecard per run, before and after cleaning",
                                 SCORE_COLUMNS)


def _valid_share(values: pd.Series, is_valid) -> float | None:
    values = values.dropna()
    if values.empty:
        return None
    ok = _by_value(values, is_valid)
    return float(ok.mean())


CUSTOMER_VALIDITY = {
    "name": lambda v: st.standard_name(v) == v,
    "phone": lambda v: st.parse_phone(v).value == v,
    "email": lambda v: (e := st.parse_email(v)).value == v and e.problem is None,  # parsed once
    "id_number": lambda v: st.parse_id_number(v).value == v,
    "gender": lambda v: v in ("M", "F"),
    "province": lambda v: v in st.PROVINCES,
}


def quality_scorecard(con, stage: str, as_of: date, freshness_days: int = 365) -> pd.DataFrame:
    """Completeness, validity, uniqueness and timeliness per table and column.

    ``stage`` "before" scores the raw layer (current customer versions, all orders, lines,
    contacts, tickets, products); "after" scores the clean tables (golden customers, counted
    orders and lines, re-keyed contacts and tickets). Validity means the value is in the
    standard form and passes its checks (a 15-digit ID or a phone written with +86 is not yet
    valid); uniqueness is distinct / non-empty values of a key. Timeliness: for customers,
    the share whose last update (:func:`last_update`) lies within ``freshness_days`` of
    ``as_of``; for transaction tables, 1 - (age in days of the newest record) / freshness_days.
    ``detail`` says what was measured (ages in days).
    """
    sql = warehouse.sql
    if stage == "before":
        customers = sql.run(con, "cleanse.current_customer_versions").df()
        customers["updated_at"] = last_update(con, customers)
        orders, lines = sql.ident("raw", "orders"), sql.ident("raw", "order_lines")
        known = sql.text("cleanse.raw_customer_ids")
        contacts, tickets, products = (sql.ident("raw", t) for t in ("contacts", "service_tickets", "products"))
    elif stage == "after":
        customers = sql.run(con, "cleanse.golden_customers").df()
        orders, lines = sql.text("cleanse.counted_orders"), sql.text("cleanse.counted_lines")
        known = sql.text("cleanse.golden_customer_ids")
        contacts, tickets, products = (sql.ident("main", t) for t in ("contacts", "service_tickets", "products"))
    else:
        raise ValueError(f"stage must be 'before' or 'after', got {stage!r}")
    cities = set(city_reference(con).city)
    rows = []

    def add(table, column, dimension, score, detail=None):
        if score is not None and not pd.isna(score):
            rows.append((stage, table, column, dimension, round(float(score), 4), detail))

    def q(name, **parts):
        return sql.one(con, f"cleanse.{name}", {"as_of": as_of}, **parts)[0]

    def completeness(table, relation, columns):
        counts = ", ".join(f"count({sql.ident(c)})" for c in columns)
        total, *filled = sql.one(con, "cleanse.filled_counts", relation=relation, counts=counts)
        for col, k in zip(columns, filled):
            add(table, col, "completeness", k / total if total else None)

    def newest(table, relation, column):
        day = q("newest_date", relation=relation, column=sql.ident(column))
        if day is not None:
            age = (as_of - day).days
            add(table, "*", "timeliness", max(0.0, 1 - age / freshness_days),
                f"newest {column} {day}: {age} days before {as_of}")

    def unique(table, relation, column):
        add(table, column, "uniqueness", q("distinct_share", relation=relation, column=sql.ident(column)))

    def known_customers(table, relation):
        add(table, "customer_id", "validity", q("known_customer_share", relation=relation, known=known))

    n = len(customers)
    for col in ["customer_id", *ATTRIBUTES, "signup_date"]:
        add("customers", col, "completeness", customers[col].notna().mean() if n else None)
    for col, check in CUSTOMER_VALIDITY.items():
        add("customers", col, "validity", _valid_share(customers[col], check))
    add("customers", "city", "validity", _valid_share(customers.city, lambda v: v in cities))
    born = pd.to_datetime(customers.birth_date).dropna()
    add("customers", "birth_date", "validity",
        ((born >= "1900-01-01") & (born <= pd.Timestamp(as_of))).mean() if len(born) else None)
    for col in ["customer_id", "id_number", "phone", "email"]:
        values = customers[col].dropna()
        add("customers", col, "uniqueness", values.nunique() / len(values) if len(values) else None)
    updated = pd.to_datetime(customers.updated_at)
    if n and updated.notna().any():
        age = (pd.Timestamp(as_of) - updated).dt.days
        add("customers", "*", "timeliness", float((age <= freshness_days).mean()),
            f"records updated within {freshness_days} days; median age of the last update {int(age.median())} days, "
            f"newest {int(max(age.min(), 0))} days")

    completeness("orders", orders, ["customer_id", "order_date", "channel", "city"])
    add("orders", "order_date", "validity", q("orders_not_future", orders=orders))
    known_customers("orders", orders)
    unique("orders", orders, "order_id")
    newest("orders", orders, "order_date")

    completeness("order_lines", lines, ["product_id", "quantity", "unit_price"])
    add("order_lines", "unit_price", "validity", q("positive_line_prices", lines=lines))
    add("order_lines", "amount", "validity", q("line_amounts_add_up", lines=lines))
    add("order_lines", "*", "uniqueness", q("lines_not_repeated", lines=lines))

    completeness("contacts", contacts, ["campaign_id", "customer_id", "cell", "contact_date"])
    add("contacts", "cell", "validity", q("contact_cells_valid", contacts=contacts))
    known_customers("contacts", contacts)
    add("contacts", "campaign_id", "validity", q("contact_campaigns_known", contacts=contacts))
    add("contacts", "*", "uniqueness", q("contacts_unique", contacts=contacts), "one contact per customer and campaign")
    newest("contacts", contacts, "contact_date")

    completeness("service_tickets", tickets, ["customer_id", "opened_date", "ticket_type", "satisfaction"])
    add("service_tickets", "ticket_type", "validity", q("ticket_types_valid", tickets=tickets))
    add("service_tickets", "satisfaction", "validity", q("satisfaction_valid", tickets=tickets))
    known_customers("service_tickets", tickets)
    unique("service_tickets", tickets, "ticket_id")
    newest("service_tickets", tickets, "opened_date")

    completeness("products", products, ["product_name", "category", "price", "unit_cost"])
    add("products", "price", "validity", q("product_prices_positive", products=products))
    add("products", "unit_cost", "validity", q("unit_costs_valid", products=products), "0 <= unit cost <= price")
    unique("products", products, "product_id")
    return pd.DataFrame(rows, columns=["stage", "table_name", "column_name", "dimension", "score", "detail"])


# What a low score means, per dimension (timeliness: customer records, or the newest row of a table)
SCORE_MEANING = {
    "completeness": "left empty in the source: no cleaning rule can invent it; collect it (sign-up forms, "
                    "service calls, the next campaign)",
    "validity": "values failing their checks that no rule could repair: left empty and listed in "
                "main.quality_findings for the source owners",
    "uniqueness": "the same value on several rows: duplicates not merged, or a value people share",
    "timeliness customers": "records not updated within the freshness period: cleaning cannot make data newer; "
                            "only customers confirming their details (or a newer export) can",
    "timeliness": "the newest row is older than the as-of date: an export that stopped, or no activity since "
                  "(no campaign, no ticket); check the feed",
}


@dataclass
class ScorecardSummary:
    """The scorecard of a run in two short tables (scores are shares 0-1)."""

    improved: pd.DataFrame  # field, dimension, before, after, change: the cells cleaning raised most
    lowest: pd.DataFrame    # field, dimension, after, meaning, detail: the lowest cells after cleaning


def scorecard_summary(scores: pd.DataFrame, n: int = 5) -> ScorecardSummary:
    """The ``n`` cells of a run's scorecard (``main.quality_scores`` rows of one run, both
    stages) that cleaning raised most, and the ``n`` lowest cells after cleaning (below 1)
    with what a low score there means (:data:`SCORE_MEANING`) and what was measured (``detail``).
    Fields are ``table.column`` as in the heat-map; ties are listed by field name."""
    s = scores.assign(field=scores.table_name + "." + scores.column_name)
    wide = (s.pivot_table(index=["field", "table_name", "dimension"], columns="stage", values="score")
            .reindex(columns=["before", "after"]).reset_index())
    wide.columns.name = None
    wide["change"] = wide["after"] - wide["before"]
    improved = (wide[wide.change > 0].sort_values(["change", "field"], ascending=[False, True])
                .head(n)[["field", "dimension", "before", "after", "change"]].reset_index(drop=True))
    detail = s[s.stage == "after"].set_index(["field", "dimension"]).detail
    low = wide[wide["after"] < 1].sort_values(["after", "field"]).head(n)
    meaning = [SCORE_MEANING.get(f"{d} {t}", SCORE_MEANING[d]) for t, d in zip(low.table_name, low.dimension)]
    lowest = low.assign(meaning=meaning, detail=[detail.get((f, d)) for f, d in zip(low.field, low.dimension)])
    lowest["detail"] = lowest.detail.astype(object).where(lowest.detail.notna(), "")
    return ScorecardSummary(improved, lowest[["field", "dimension", "after", "meaning", "detail"]].reset_index(drop=True))
