"""Orders as transactions: baskets of products or of categories, mined in the database;
"buyers of X buy Y later" over a customer's orders; and the planted affinities of the sample."""

from __future__ import annotations

from contextlib import contextmanager

import pandas as pd

from .. import warehouse
from ..warehouse import sql
from .engine import Itemsets, mine

__all__ = ["LEVELS", "buy_next", "example_baskets", "mine_orders", "order_baskets", "planted_affinities",
           "planted_recall", "product_names"]

# Five baskets of a grocery (Tan, Steinbach & Kumar, Introduction to Data Mining, ch. 6): the
# Apriori idea shown step by step.
EXAMPLE = (("bread", "milk"), ("bread", "diapers", "beer", "eggs"), ("milk", "diapers", "beer", "cola"),
           ("bread", "milk", "diapers", "beer"), ("bread", "milk", "diapers", "cola"))


def example_baskets() -> pd.DataFrame:
    """The five baskets of :data:`EXAMPLE` as transactions (``tid`` 1-5, ``item``)."""
    return pd.DataFrame([(t, i) for t, items in enumerate(EXAMPLE, start=1) for i in items], columns=["tid", "item"])


def product_names(con) -> dict[str, str]:
    """Product code -> name, from the cleaned product master (empty without one)."""
    if not warehouse.table_exists(con, "main", "products"):
        return {}
    return dict(sql.run(con, "baskets.product_names").fetchall())

LEVELS = {"product": "baskets.order_products", "category": "baskets.order_categories"}


@contextmanager
def order_baskets(con, as_of, level: str = "product", customer_type: str | None = None):
    """The counted sales up to ``as_of`` as transactions (``tid`` = order, ``item`` = product
    or category, with ``customer_id`` and ``order_date``), as a temporary table whose quoted
    name the ``with`` block receives; dropped at the end. Only lines of products sold (positive
    quantity) and counted by the cleaning; ``customer_type`` keeps one type of customer."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    day = warehouse.resolve_as_of(con, as_of)
    target = sql.ident(sql.temp_name("basket_orders"))
    query = sql.text(LEVELS[level], customer_filter=sql.text("baskets.consumer_filter") if customer_type else "")
    params = {"as_of": day} | ({"customer_type": customer_type} if customer_type else {})
    sql.run(con, "warehouse.materialize", params, target=target, query=query)
    try:
        yield target
    finally:
        sql.run(con, "baskets.drop_table", table=target)


def mine_orders(con, as_of, level: str = "product", min_support: float = 0.01, max_len: int = 3,
                customer_type: str | None = None) -> Itemsets:
    """Frequent itemsets of the orders up to ``as_of`` (:func:`order_baskets`), by product or
    by category, counted in the database (:func:`~.engine.mine`; on Spark with a session of
    ``engine="spark"``: :func:`dbmarketing.warehouse.compute_on`)."""
    con = warehouse.compute_on(con)
    with order_baskets(con, as_of, level, customer_type) as baskets:
        return mine(con, baskets, min_support=min_support, max_len=max_len)


def buy_next(con, as_of, level: str = "product", min_customers: int = 5,
             customer_type: str | None = None) -> pd.DataFrame:
    """What buyers of X buy later: for each pair of items X, Y (products or categories), the
    customers who bought Y on a later day than they first bought X.

    Counted among the customers with orders on at least two days (only they can buy "later").
    ``antecedent_customers``: those who bought X before their last order day;
    ``confidence`` = customers / antecedent_customers; ``baseline``: the share of them all who
    bought Y on a later day than their first order; ``lift`` = confidence / baseline (1: X tells
    nothing about a later Y). Pairs of at least ``min_customers`` customers, strongest lift first."""
    with order_baskets(con, as_of, level, customer_type) as baskets:
        out = sql.run(con, "baskets.sequence_counts", {"min_customers": int(min_customers)}, source=baskets).df()
    out["confidence"] = out.customers / out.antecedent_customers
    out["baseline"] = out.consequent_customers / out.repeat_customers
    out["lift"] = out.confidence / out.baseline
    out = out.sort_values(["lift", "customers"], ascending=False, kind="stable").reset_index(drop=True)
    return out[["antecedent", "consequent", "customers", "antecedent_customers", "confidence", "baseline", "lift"]]


def planted_affinities(con) -> pd.DataFrame | None:
    """The sample's planted affinities (``truth.affinities``), None on a database without them."""
    if not warehouse.table_exists(con, "truth", "affinities"):
        return None
    return sql.run(con, "baskets.planted_affinities").df()


def planted_recall(found: pd.DataFrame, planted: pd.DataFrame, kind: str = "basket",
                   min_lift: float = 1.5) -> pd.DataFrame:
    """Which planted affinities of ``kind`` the rules found: a planted pair is found when a rule
    (either direction, single items, lift >= ``min_lift``) links its two products. ``found``:
    :func:`~.engine.rules` (tuples) or :func:`buy_next` (single items, direction as planted).
    Returns the planted rows with ``found`` and the best ``lift``; ``attrs["recall"]``."""
    mine_ = planted[planted.kind == kind].reset_index(drop=True)
    links: dict[tuple, float] = {}
    for a, c, lift in zip(found.antecedent, found.consequent, found.lift):
        a = a if isinstance(a, tuple) else (a,)
        c = c if isinstance(c, tuple) else (c,)
        if len(a) == 1 and len(c) == 1 and lift >= min_lift:
            key = (a[0], c[0]) if kind == "sequence" else tuple(sorted((a[0], c[0])))
            links[key] = max(lift, links.get(key, 0.0))
    keys = [(a, c) if kind == "sequence" else tuple(sorted((a, c))) for a, c in zip(mine_.antecedent, mine_.consequent)]
    mine_["lift"] = [links.get(k) for k in keys]
    mine_["found"] = mine_.lift.notna()
    mine_.attrs["recall"] = float(mine_.found.mean()) if len(mine_) else float("nan")
    return mine_
