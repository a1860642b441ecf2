"""What sells with what: one rule engine for transactions of items.

An item is a product or a category on an order (baskets), or ``attribute=value`` of a
customer (the responders of a campaign; the acquisition work reuses it). The parts (private;
the names below are the public face):

- ``engine`` -- frequent itemsets level by level (Apriori: a k-itemset is a candidate only if
  all its (k-1)-subsets are frequent), counted in the database, and rules with support,
  confidence, lift, leverage and conviction (:func:`mine`, :func:`rules`);
- ``orders`` -- orders as baskets of products or categories (:func:`mine_orders`), "buyers of X
  buy Y later" (:func:`buy_next`), the sample's planted affinities and how many the rules find;
- ``offers`` -- the next best offer per customer and its list;
- ``responders`` -- rules over the attributes of a campaign's responders.

Their SQL is in ``warehouse/sql/baskets.sql``.
"""

from .engine import RULE_COLUMNS, Itemsets, candidates, min_count, mine, rules, transactions_table
from .offers import BASES, OFFER_COLUMNS, export_offers, next_best_offers, offer_basis
from .orders import (
    EXAMPLE,
    LEVELS,
    buy_next,
    example_baskets,
    mine_orders,
    order_baskets,
    planted_affinities,
    planted_recall,
    product_names,
)
from .responders import RESPONDED, attribute_transactions, responder_rules, split_item

__all__ = [
    "RULE_COLUMNS", "Itemsets", "candidates", "min_count", "mine", "rules", "transactions_table",
    "EXAMPLE", "LEVELS", "buy_next", "example_baskets", "mine_orders", "order_baskets", "planted_affinities",
    "planted_recall", "product_names",
    "BASES", "OFFER_COLUMNS", "export_offers", "next_best_offers", "offer_basis",
    "RESPONDED", "attribute_transactions", "responder_rules", "split_item",
]
