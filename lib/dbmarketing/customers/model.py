"""The customer model: everything at one as-of date, stored in ``main.customer_model``, and one
customer's 360 view read back from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from .. import warehouse
from ..present.words import Phrase
from ..warehouse import NotEnoughData
from .c360 import CHANNELS, LifecycleRules, ServiceCosts, customer_360, store_360
from .churn import CHURN_FEATURES, ChurnResult, churn_model, valuable_at_risk
from .segments import MARKETING_GROUPS, SEGMENT_FEATURES, SegmentResult, marketing_groups, segment, unknown_groups
from .value import ClvResult, fit_clv, profit_pareto, value_tiers


# The stored customer model: one row per customer per as-of date, every column with its privacy tier.
C, _T1, _T2 = warehouse.Column, warehouse.PUBLIC, warehouse.DEEP_PUBLIC
CUSTOMER_MODEL = warehouse.Table(
    "customer_model",
    "Customer model: one row per customer per as-of date (360 view, lifecycle, value tier, CLV, churn risk, "
    "segment, marketing groups).",
    (
        C("as_of", "DATE", "Date the model describes (only data up to it was used)", _T1),
        C("customer_id", "VARCHAR", "Master customer number", _T1),
        C("customer_type", "VARCHAR", "consumer or distributor", _T1),
        C("gender", "VARCHAR", "M or F", _T2),
        C("age", "INTEGER", "Age in years at as_of", _T2),
        C("province", "VARCHAR", "Province", _T1),
        C("city", "VARCHAR", "City", _T1),
        C("city_tier", "INTEGER", "City tier 1-5 (external reference data)", _T1),
        C("signup_date", "DATE", "Date the customer registered", _T1),
        C("signup_channel", "VARCHAR", "Where the customer registered", _T1),
        C("tenure_days", "INTEGER", "Days since signup (or first purchase if earlier)", _T1),
        C("source_systems", "VARCHAR", "Source systems holding a record of the customer", _T1),
        C("consent_mail", "BOOLEAN", "Agreed to direct mail", _T2),
        C("consent_sms", "BOOLEAN", "Agreed to SMS", _T2),
        C("consent_email", "BOOLEAN", "Agreed to e-mail", _T2),
        C("consent_phone", "BOOLEAN", "Agreed to calls", _T2),
        C("lifecycle_stage", "VARCHAR", "prospect, new, active, at risk, lapsed or reactivated (rules in customers.LifecycleRules)", _T1),
        C("first_purchase", "DATE", "First purchase date", _T1),
        C("last_purchase", "DATE", "Last purchase date", _T1),
        C("recency_days", "INTEGER", "Days since the last purchase", _T1),
        C("orders", "BIGINT", "Purchases (orders not fully returned by as_of)", _T1),
        C("orders_12m", "BIGINT", "Purchases in the last 365 days", _T1),
        C("revenue", "DOUBLE", "Net revenue (after returns made by as_of)", _T2),
        C("revenue_12m", "DOUBLE", "Net revenue in the last 365 days", _T2),
        C("cost_of_goods", "DOUBLE", "Cost of the goods bought (net of returns) at product cost", _T2),
        C("gross_margin", "DOUBLE", "Revenue - cost of goods at product cost", _T2),
        C("returns", "BIGINT", "Returns handled (also of sales returned in full)", _T1),
        C("return_cost", "DOUBLE", "Cost of handling the returns (returns x cost per return)", _T2),
        C("service_cost", "DOUBLE", "Cost of the service tickets (by ticket type)", _T2),
        C("contact_cost", "DOUBLE", "Cost of the campaign contacts (test cells only)", _T2),
        C("cost_to_serve", "DOUBLE", "return_cost + service_cost + contact_cost", _T2),
        C("profit", "DOUBLE", "gross_margin - cost_to_serve", _T2),
        C("profit_12m", "DOUBLE", "Profit over the last 365 days", _T2),
        C("main_channel", "VARCHAR", "Channel with the most revenue", _T1),
        *(C(f"share_{c}", "DOUBLE", f"Share of revenue bought through the {c} channel", _T1) for c in CHANNELS),
        C("main_category", "VARCHAR", "Product category with the most revenue", _T1),
        C("main_category_share", "DOUBLE", "Share of revenue in the main category", _T1),
        C("n_categories", "BIGINT", "Product categories bought", _T1),
        C("category_mix", "VARCHAR", "Share of revenue by product category, net of returns, largest first", _T1),
        C("campaigns_contacted", "BIGINT", "Campaigns that contacted the customer (test cell)", _T1),
        C("campaigns_responded", "BIGINT", "Campaigns followed by a purchase within the response window", _T1),
        C("tickets", "BIGINT", "Service tickets opened (complaints, inquiries, returns)", _T1),
        C("complaints", "BIGINT", "Complaint tickets", _T1),
        C("complaints_180d", "BIGINT", "Complaint tickets in the last 180 days", _T1),
        C("unresolved_complaints", "BIGINT", "Complaints not resolved (status at the extraction date: no resolution date is kept)", _T1),
        C("value_tier", "VARCHAR", "MVC (most valuable), MGC (most growable), BZ (below zero), other, prospect", _T1),
        C("p_alive", "DOUBLE", "BG/NBD probability the customer is still active", _T2),
        C("expected_purchases", "DOUBLE", "BG/NBD expected purchases over the CLV horizon", _T2),
        C("clv", "DOUBLE", "Discounted expected margin over the CLV horizon (BG/NBD x Gamma-Gamma)", _T2),
        C("churn_risk", "DOUBLE", "Probability of no purchase in the churn horizon (logistic regression)", _T2),
        C("churn_reasons", "VARCHAR", "Plain-language risk reasons: from the history (complaints, fading recency, ...) "
          "and the model's largest contributions", _T2),
        C("valuable_at_risk", "BOOLEAN", "Top-profit customer with churn risk well above the average (customers.valuable_at_risk)", _T2),
        C("segment", "INTEGER", "k-means behaviour segment (buyers)", _T1),
        C("segment_name", "VARCHAR", "Plain-language segment name", _T1),
        C("groups", "VARCHAR", "Marketing groups the customer belongs to (several at once)", _T2),
    ),
    key=("as_of", "customer_id"),
)


# The 360 columns the model computes with and chapter 03 reads: numbers, dates and short codes
# (the churn and segment features, the money from revenue to profit, the stages and consents of
# the marketing groups). The model reads only these from the 360 view the database stored; the
# rest (places, source systems, category mix, ...) joins the model's own columns in the
# database when the model is stored: sixty columns of ten million customers do not fit in one
# process, these do.
FRAME_COLUMNS = tuple(dict.fromkeys((
    "customer_id", "customer_type", "is_prospect", "lifecycle_stage", "first_purchase", "last_purchase",
    "revenue", "revenue_12m", "cost_of_goods", "gross_margin", "margin_12m", "return_cost", "service_cost",
    "contact_cost", "cost_to_serve", "profit", "profit_12m", "tickets", "unresolved_complaints",
    "consent_mail", "consent_sms", "consent_email", "consent_phone",
    *(f for f in CHURN_FEATURES if f != "is_distributor"), *SEGMENT_FEATURES)))

# the columns the model adds to the 360 view (and those it empties: no margin without product costs)
MODEL_COLUMNS = ("value_tier", "p_alive", "expected_purchases", "clv", "churn_risk", "churn_reasons",
                 "valuable_at_risk", "segment", "segment_name", "groups")
UNKNOWN_WITHOUT_COSTS = ("cost_of_goods", "gross_margin", "margin_12m", "profit", "profit_12m")


@dataclass
class CustomerModel:
    """Everything :func:`build_customer_model` computed: ``clv``, ``churn``, ``segments``,
    ``pareto``, ``groups``, ``c360`` (one row per customer: the 360 columns of
    :data:`FRAME_COLUMNS` and every model column; the whole row is in ``main.customer_model``)
    and ``at_risk`` (the valuable customers at high risk, :func:`valuable_at_risk`, its cuts in
    ``attrs``)."""

    as_of: date
    clv: ClvResult | None          # None where the data cannot carry the model: skipped says why
    churn: ChurnResult | None
    segments: SegmentResult | None
    pareto: pd.DataFrame | None
    groups: pd.DataFrame
    c360: pd.DataFrame
    at_risk: pd.DataFrame
    value: str = "profit"          # what value tiers rank by: profit, or revenue without product costs
    skipped: dict = field(default_factory=dict)  # part -> why it was not computed (a Phrase)
    unknown_groups: dict = field(default_factory=dict)  # marketing group -> why the data cannot fill it (a Phrase)


def build_customer_model(con, as_of, horizon_days: int = 180, seed: int = 42, k: int | None = None,
                         rules: LifecycleRules | None = None, costs: ServiceCosts | None = None,
                         clv_months: int = 12, annual_discount_rate: float = 0.10, holdout_weeks: int = 39,
                         mvc_share: float = 0.2, mgc_share: float = 0.2, top_value: float = 0.2,
                         risk_ratio: float = 1.2, write: bool = True) -> CustomerModel:
    """The whole customer model at ``as_of``, written to ``main.customer_model``.

    360 view and lifecycle (:func:`customer_360`, stored by the database in a temporary table),
    CLV (:func:`fit_clv`), value tiers (:func:`value_tiers` on profit and the ``clv_months``
    CLV), churn risk (:func:`churn_model`), segments (:func:`segment`) and marketing groups,
    computed on the 360 columns they need (:data:`FRAME_COLUMNS`). The table holds one row per
    customer per as-of date -- the whole 360 view and the model's columns, joined in the
    database: rows of this ``as_of`` are replaced, other dates kept; it is registered in the
    catalog with privacy tiers.
    """
    A = warehouse.resolve_as_of(con, as_of)
    sql = warehouse.sql
    temporary = []  # the temporary tables and view of this build, dropped however it ends
    try:
        stored = _stored_360(con, A, rules, costs, temporary)
        model = _model_columns(con, A, stored, rules, costs, horizon_days, seed, k, clv_months, annual_discount_rate,
                               holdout_weeks, mvc_share, mgc_share, top_value, risk_ratio)
        if write:
            emptied = UNKNOWN_WITHOUT_COSTS if model.value == "revenue" else ()
            own = _temporary_table(con, model.c360[["customer_id", *MODEL_COLUMNS, *emptied]], "customer_model_columns",
                                   temporary)
            rows = sql.temp_name("customer_model_rows")
            temporary.append(("customers.drop_view", "view", rows))
            sql.run(con, "customers.model_rows", view=sql.ident(rows), stored=sql.ident(stored), own=sql.ident(own),
                    excluded=", ".join(sql.ident(n) for n in ("customer_id", *emptied)))
            store_customer_model(con, rows)
    finally:
        for statement, hole, name in reversed(temporary):
            sql.run(con, statement, **{hole: sql.ident(name)})
    return model


def _stored_360(con, A: date, rules, costs, temporary: list) -> str:
    """The 360 view at ``A`` in a temporary table of ``con`` (its name returned, and added to
    ``temporary``): written by DuckDB itself (:func:`store_360`), or, when the session computes
    on Spark, by Spark and brought back (the 360's sums over every purchase are Spark's work)."""
    if warehouse.compute_on(con) is not con:
        return _temporary_table(con, customer_360(con, A, rules=rules, costs=costs), "customer_360", temporary)
    name = warehouse.sql.temp_name("customer_360")
    temporary.append(("customers.drop_table", "table", name))
    store_360(con, A, table=name, rules=rules, costs=costs, temporary=True)
    return name


def _temporary_table(con, frame: pd.DataFrame, stem: str, temporary: list) -> str:
    """``frame`` copied into a temporary table of ``con`` (its name returned, and added to ``temporary``)."""
    sql = warehouse.sql
    name, registered = sql.temp_name(stem), sql.temp_name(f"{stem}_frame")
    temporary.append(("customers.drop_table", "table", name))
    con.register(registered, frame)
    try:
        sql.run(con, "warehouse.materialize", target=sql.ident(name), query=f"SELECT * FROM {sql.ident(registered)}")
    finally:
        con.unregister(registered)
    return name


def _model_columns(con, A, stored, rules, costs, horizon_days, seed, k, clv_months, annual_discount_rate,
                   holdout_weeks, mvc_share, mgc_share, top_value, risk_ratio) -> CustomerModel:
    """The model's columns beside the 360 columns (:data:`FRAME_COLUMNS`) of the 360 view in
    the temporary table ``stored``, as a :class:`CustomerModel` (nothing written)."""
    sql = warehouse.sql
    c = sql.run(con, "customers.model_frame", columns=", ".join(sql.ident(n) for n in FRAME_COLUMNS),
                table=sql.ident(stored)).df()
    if int((~c["is_prospect"].astype(bool)).sum()) == 0:
        raise NotEnoughData("needs.no_buyers", as_of=A)
    skipped: dict[str, Phrase] = {}

    def attempt(part, fn):
        try:
            return fn()
        except NotEnoughData as exc:
            skipped[part] = exc.reason
            return None

    value = "profit" if has_product_costs(con) else "revenue"
    # every part's result joins on the customer, in place; one copy of the frame (ten million
    # customers: gigabytes), indexed by the customer (not named: customer_id stays a column)
    m = c.set_index("customer_id", drop=False).rename_axis(None)
    del c
    m.attrs.update(as_of=A.isoformat(), rules=rules or LifecycleRules(), costs=costs or ServiceCosts())
    if value == "revenue":  # no cost of goods: margin and profit are unknown, not zero
        m[list(UNKNOWN_WITHOUT_COSTS)] = np.nan
        skipped["profit"] = Phrase("needs.no_product_costs")
    cl = attempt("clv", lambda: fit_clv(con, A, horizon_months=clv_months, annual_discount_rate=annual_discount_rate,
                                        holdout_weeks=holdout_weeks))
    predicted = cl.predictions.set_index("customer_id").reindex(m.index) if cl is not None else None
    for col in ("p_alive", "expected_purchases", "expected_spend", "clv"):
        m[col] = predicted[col].to_numpy() if cl is not None else np.nan
    m["value_tier"] = value_tiers(m, "clv", mvc_share, mgc_share, value=value)
    ch = attempt("churn", lambda: churn_model(con, A, horizon_days=horizon_days, seed=seed, rules=rules, frame=m))
    if ch is not None:
        scores = ch.scores.set_index("customer_id").reindex(m.index)
        for col in ("churn_risk", "churn_risk_tree", "churn_reasons"):
            m[col] = scores[col].to_numpy()
        at_risk = valuable_at_risk(m, value, top_value, base_rate=ch.base_rate, risk_ratio=risk_ratio)
    else:
        m = m.assign(churn_risk=np.nan, churn_risk_tree=np.nan, churn_reasons=None)
        at_risk = m.iloc[0:0]
    m["valuable_at_risk"] = m.index.isin(at_risk.index)
    sg = attempt("segments", lambda: segment(con, A, k=k, seed=seed, frame=m))
    labels = sg.labels.set_index("customer_id").reindex(m.index) if sg is not None else None
    m["segment"] = (labels["segment"] if sg is not None else pd.Series(pd.NA, index=m.index)).astype("Int64").to_numpy()
    m["segment_name"] = labels["segment_name"].to_numpy() if sg is not None else None
    tickets = bool(warehouse.sql.one(con, "customers.service_tickets_loaded")[0])
    unknown = unknown_groups(m, value, tickets=tickets, churn=ch is not None)
    groups = marketing_groups(m, {g: rule for g, rule in MARKETING_GROUPS.items() if g not in unknown})
    m["groups"] = groups["groups"].to_numpy()
    m = m.reset_index(drop=True)
    pareto = attempt("pareto", lambda: profit_pareto(m, value))
    return CustomerModel(as_of=A, clv=cl, churn=ch, segments=sg, pareto=pareto, groups=groups.rename_axis("customer_id"),
                         c360=m, at_risk=at_risk.reset_index(drop=True), value=value, skipped=skipped,
                         unknown_groups=unknown)


def has_product_costs(con) -> bool:
    """Whether any counted purchase has a cost of goods (product costs were loaded)."""
    return bool(warehouse.sql.one(con, "customers.product_costs_known")[0])


def store_customer_model(con, table: pd.DataFrame | str) -> int:
    """Write ``table`` (a frame, or the name of a temporary table or view of ``con``) into
    ``main.customer_model``: the rows of its as-of date(s) are replaced, other dates kept. A table written by an older version gains the new columns
    (empty for its older rows). Registers the table in the catalog. Returns rows written."""
    return warehouse.write_mart(con, CUSTOMER_MODEL, table, where="customers.same_as_of")


def customer_view(con, customer_id: str, as_of=None) -> pd.DataFrame:
    """One customer's 360 view: the golden record (name, phone, ... -- mask it with
    :func:`dbmarketing.privacy.mask_frame`) beside the stored model row (latest as-of date
    unless given), as one row with a column per field; :func:`view_sections` cuts it into
    short field / value tables for reading."""
    rec = warehouse.sql.run(con, "customers.golden_record", {"customer_id": customer_id}).df()
    if rec.empty:
        raise KeyError(f"no customer {customer_id!r} in main.customers")
    when = warehouse.stored_as_of(con, "customer_model", as_of, how="customers.build_customer_model")
    row = warehouse.sql.run(con, "customers.stored_model_row", {"customer_id": customer_id, "as_of": when}).df()
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


