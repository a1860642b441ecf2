"""The customer model's summary tables that chapter 03 shows: customers by lifecycle stage,
revenue to profit, value tiers and the marketing groups. Each takes the model's frames and
returns a DataFrame; nothing is read from the database."""

from __future__ import annotations

import pandas as pd


def stage_counts(counts: pd.DataFrame, stages, value: str) -> pd.DataFrame:
    """Customers, 12-month revenue (and profit, where product costs are known: ``value`` is
    "profit") and share of customers per lifecycle stage, in the order of ``stages``, from
    :func:`~dbmarketing.customers.counts_360` (counted in the database) or a 360 frame."""
    counts = _counted(counts)
    aggregates = dict(customers=("customers", "sum"), total_revenue_12m=("total_revenue_12m", "sum"))
    if value == "profit":  # without product costs no profit is known
        aggregates["total_profit"] = ("total_profit", "sum")
    out = counts.groupby("lifecycle_stage").agg(**aggregates).reindex(list(stages)).fillna(0)
    out["share_of_customers"] = out.customers / out.customers.sum()
    return out


def stage_by_type(counts: pd.DataFrame, stages) -> pd.DataFrame:
    """Customers per lifecycle stage (rows, in the order of ``stages``) and customer type, from
    :func:`~dbmarketing.customers.counts_360` or a 360 frame."""
    counts = _counted(counts)
    return (counts.pivot_table(index="lifecycle_stage", columns="customer_type", values="customers", aggfunc="sum")
            .reindex(list(stages)).fillna(0).astype(int))


def _counted(frame: pd.DataFrame) -> pd.DataFrame:
    """A 360 frame (one row per customer) as the counts of :func:`~dbmarketing.customers.counts_360`;
    counts as they are."""
    if "customers" in frame:
        return frame
    return frame.assign(customers=1, total_revenue_12m=frame["revenue_12m"],
                        total_profit=frame["profit"] if "profit" in frame else float("nan"))


def profit_bridge(c360: pd.DataFrame) -> pd.DataFrame:
    """From revenue to profit over all customers; a figure that is unknown (margin and profit
    without product costs) is left out, not shown as zero."""
    totals = pd.DataFrame({"figure": ["revenue", "cost of goods", "gross margin", "returns handled", "service tickets",
                                      "campaign contacts", "cost to serve", "profit"],
                           "amount": [c360.revenue.sum(min_count=1), c360.cost_of_goods.sum(min_count=1),
                                      c360.gross_margin.sum(min_count=1), c360.return_cost.sum(), c360.service_cost.sum(),
                                      c360.contact_cost.sum(), c360.cost_to_serve.sum(), c360.profit.sum(min_count=1)]})
    return totals.dropna()


def tier_summary(c360: pd.DataFrame, tiers, value: str, with_clv: bool) -> pd.DataFrame:
    """Per value tier (in the order of ``tiers``): customers, total ``value`` (profit or revenue)
    to date and in 12 months, CLV (when ``with_clv``), lapsed customers and the tier's share of
    the total ``value``."""
    out = (c360.groupby("value_tier").agg(customers=("customer_id", "size"), total=(value, "sum"),
                                          total_12m=(f"{value}_12m", "sum"), total_clv=("clv", "sum"),
                                          mean_clv=("clv", "mean"),
                                          lapsed=("lifecycle_stage", lambda s: (s == "lapsed").sum()))
           .reindex(list(tiers)).fillna(0))
    out[f"share_of_{value}"] = out.total / c360[value].sum()
    out = out.rename(columns={"total": f"total_{value}", "total_12m": f"total_{value}_12m"})
    return out if with_clv else out.drop(columns=["total_clv", "mean_clv"])


def group_counts(groups: pd.DataFrame) -> pd.DataFrame:
    """Customers in each marketing group (flags, one column per group) and their share of all."""
    counts = groups.sum().rename("customers").to_frame()
    counts["share"] = counts.customers / len(groups)
    return counts.reset_index(names="group")


def type_summary(counts: pd.DataFrame, order) -> pd.DataFrame:
    """Customer records per type (``customer_type4``, in the order of ``order``) of
    :func:`type_counts`: one row per type with ``customer_records`` and their ``share`` (0-1)."""
    by_type = counts.groupby("customer_type4").customer_records.sum().reindex(list(order), fill_value=0)
    total = by_type.sum()
    return pd.DataFrame({"customer_type": by_type.index, "customer_records": by_type.to_numpy(),
                         "share": (by_type / total).to_numpy() if total else 0.0})


def types_by_source(counts: pd.DataFrame, order) -> pd.DataFrame:
    """Customer records per source system (rows) and type (columns, in the order of ``order``)
    of :func:`type_counts`."""
    return (counts.pivot_table(index="source_system", columns="customer_type4", values="customer_records",
                               aggfunc="sum", fill_value=0)
            .reindex(columns=list(order), fill_value=0).astype("int64"))
