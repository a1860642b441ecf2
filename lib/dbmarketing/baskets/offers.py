"""The next best offer: per customer, the strongest product rule whose antecedent the customer
bought and whose consequent the customer has not, weighted by what the offer earns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import privacy
from ..warehouse import sql
from .engine import _Temps
from .orders import order_baskets

__all__ = ["BASES", "OFFER_COLUMNS", "export_offers", "next_best_offers", "offer_basis"]

# What an offer is weighted by, best first: the expected margin (confidence x unit margin) needs
# every offered product's cost; without costs the expected revenue (confidence x price); without
# prices the rule's strength (confidence x lift).
BASES = ("margin", "price", "confidence x lift")
OFFER_COLUMNS = ("customer_id", "name", "city", "offer", "product_name", "because", "confidence", "lift", "score")


def offer_basis(values: pd.DataFrame, products) -> str:
    """The first of :data:`BASES` that every product of ``products`` has a value for
    (``values``: :func:`product values <next_best_offers>`, indexed by item)."""
    v = values.reindex(list(products))
    if len(v) and v.margin.notna().all():
        return "margin"
    if len(v) and v.price.notna().all():
        return "price"
    return "confidence x lift"


def next_best_offers(con, rule_table: pd.DataFrame, as_of, min_lift: float = 1.0,
                     customer_type: str | None = None) -> pd.DataFrame:
    """One offer per customer who bought up to ``as_of``: among the product rules of
    ``rule_table`` (:func:`~.engine.rules` over products) with one consequent and lift above
    ``min_lift``, those whose antecedent products the customer all bought and whose consequent
    the customer never did; the highest ``score`` wins. score = confidence x the consequent's
    unit margin (price - unit cost), or x its price when a product lacks a cost, or confidence x
    lift when one lacks a price (``attrs["basis"]``, one of :data:`BASES`; ``attrs["without_cost"]``
    counts the offered products without a cost; ``attrs["buyers"]`` the customers who bought,
    None without rules). Matching runs in the database."""
    r = rule_table[(rule_table.consequent.map(len) == 1) & (rule_table.lift > min_lift)].reset_index(drop=True)
    values = sql.run(con, "baskets.product_values").df().set_index("item")
    cons = [c[0] for c in r.consequent]
    basis = offer_basis(values, set(cons))
    v = values.reindex(cons)
    weight = {"margin": v.margin.to_numpy(), "price": v.price.to_numpy(), "confidence x lift": r.lift.to_numpy()}[basis]
    r = r.assign(rule=range(len(r)), item=cons, score=r.confidence.to_numpy() * weight)
    buyers = None
    if r.empty:
        out = pd.DataFrame(columns=["customer_id", "offer", "product_name", "because", "confidence", "lift", "score"])
    else:
        antecedents = pd.DataFrame([(i, item, len(a)) for i, a in zip(r.rule, r.antecedent) for item in a],
                                   columns=["rule", "item", "size"])
        temps = _Temps(con)
        try:
            with order_baskets(con, as_of, "product", customer_type) as baskets:
                bought = temps.table("basket_bought")
                sql.run(con, "baskets.customer_items", target=bought, source=baskets)
            rules_t = temps.frame("basket_rules", r[["rule", "item", "score"]].rename(columns={"item": "consequent"}))
            ante_t = temps.frame("basket_antecedents", antecedents)
            best = sql.run(con, "baskets.best_offers", rules=rules_t, antecedents=ante_t, customer_items=bought).df()
            buyers = int(sql.one(con, "baskets.customer_count", table=bought)[0])
        finally:
            temps.close()
        chosen = r.set_index("rule").loc[best.rule]
        out = pd.DataFrame({
            "customer_id": best.customer_id.to_numpy(), "offer": best.consequent.to_numpy(),
            "product_name": values.product_name.reindex(best.consequent).to_numpy(),
            "because": [" + ".join(a) for a in chosen.antecedent],
            "confidence": chosen.confidence.to_numpy(), "lift": chosen.lift.to_numpy(), "score": best.score.to_numpy()})
    out.attrs.update(basis=basis, without_cost=int(values.margin.reindex(sorted(set(cons))).isna().sum()),
                     as_of=str(as_of), rules=len(r), buyers=buyers)
    return out


def export_offers(con, offers: pd.DataFrame, path, clearance: int, about: str | None = None) -> tuple[Path, list[str]]:
    """Write the offer list (customer number, name, city, the product offered and why, its
    confidence, lift and score) to .csv or .xlsx. As for a campaign's contact list
    (:func:`dbmarketing.campaigns.export_list`), only the columns the reader's ``clearance``
    allows are written (the catalog decides); ``about`` says what the list is (the report index
    shows it). Returns (path, the columns left out)."""
    people = sql.run(con, "baskets.offer_people").df()
    lst = offers.merge(people, on="customer_id", how="left")
    lst = lst.assign(confidence=lst.confidence.round(4), lift=lst.lift.round(3), score=lst.score.round(2))
    lst = lst[list(OFFER_COLUMNS)]
    visible = privacy.visible_columns(lst.columns, clearance, con=con)
    dropped = [c for c in lst.columns if c not in visible]
    written = privacy.export_frame(lst[visible], path, clearance, con=con, about=about)
    return written, dropped
