"""The rule engine: transactions of items -> frequent itemsets, level by level -> rules.

A transaction is anything with items: an order and its products or categories, a customer
and her attributes (``attribute=value``). The engine takes them as rows (transaction, item)
-- a DataFrame with columns ``tid`` and ``item`` or the name of a table or view holding them
-- and counts in the database:

- **Level 1**: in how many transactions each item is. Frequent: support = count /
  transactions >= ``min_support``.
- **Level k** (Apriori, Agrawal & Srikant 1994): a k-itemset is a candidate only if all its
  (k-1)-subsets are frequent. Candidates are made by joining two frequent (k-1)-itemsets that
  share their first k-2 items and *pruned* when another of their (k-1)-subsets is not frequent;
  the survivors are counted. Pairs and triples are counted by self-joins of the transactions
  (``warehouse/sql/baskets.sql``), higher levels in long form; each level counts only the
  transactions' items that can still be in a frequent itemset.

:func:`rules` turns the frequent itemsets into rules A -> C (every split of every itemset of
two or more items), with

- support = s(A u C), the share of transactions holding all items of the rule;
- confidence = s(A u C) / s(A), the share of transactions with A that also hold C;
- lift = confidence / s(C): how many times more often C comes with A than at random (1 = no link);
- leverage = s(A u C) - s(A) s(C);
- conviction = (1 - s(C)) / (1 - confidence), infinite when confidence = 1,

the same definitions as mlxtend's ``association_rules`` (a test compares them).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from ..warehouse import sql

__all__ = ["Itemsets", "RULE_COLUMNS", "candidates", "mine", "min_count", "rules", "transactions_table"]

RULE_COLUMNS = ("antecedent", "consequent", "antecedent_support", "consequent_support", "support", "confidence",
                "lift", "leverage", "conviction")


@dataclass
class Itemsets:
    """What :func:`mine` found.

    ``frequent``: itemset (a tuple of items in item order), size, count (transactions holding
    it), support. ``levels``: per level the candidates the join made, how many of them were
    pruned (a subset not frequent), how many were counted and how many are frequent.
    ``steps`` (when asked for): every candidate of every level with its count, support and
    status (``frequent``, ``infrequent``, ``pruned``; ``because``: the subset that is not
    frequent)."""

    frequent: pd.DataFrame
    levels: pd.DataFrame
    transactions: int
    min_support: float
    min_count: int
    steps: pd.DataFrame | None = None

    def supports(self) -> dict[tuple, float]:
        return dict(zip(self.frequent.itemset, self.frequent.support))


def min_count(min_support: float, transactions: int) -> int:
    """The fewest transactions an itemset needs to be frequent: the smallest count with
    count / transactions >= min_support (compared as floats, as the support is)."""
    if not 0 < float(min_support) <= 1:
        raise ValueError(f"min_support must be in (0, 1], got {min_support!r}")
    n = int(transactions)
    if n <= 0:
        return 1
    c = max(1, math.ceil(min_support * n))
    while c > 1 and (c - 1) / n >= min_support:
        c -= 1
    while c / n < min_support:
        c += 1
    return c


def candidates(frequent: list[tuple], k: int) -> tuple[list[tuple], list[tuple[tuple, tuple]]]:
    """The Apriori candidates of level ``k`` from the frequent (k-1)-itemsets (sorted tuples):
    (kept, pruned), ``pruned`` as (candidate, its first (k-1)-subset that is not frequent)."""
    prev = sorted(set(frequent))
    known = set(prev)
    groups: dict[tuple, list] = {}
    for s in prev:
        groups.setdefault(s[:-1], []).append(s[-1])
    kept, pruned = [], []
    for prefix, lasts in groups.items():
        for i, a in enumerate(lasts):
            for b in lasts[i + 1:]:
                cand = (*prefix, a, b)
                lacking = next((sub for sub in combinations(cand, k - 1) if sub not in known), None)
                if lacking is None:
                    kept.append(cand)
                else:
                    pruned.append((cand, lacking))
    return kept, pruned


@contextmanager
def transactions_table(con, transactions):
    """The transactions as a quoted table name for the length of a ``with`` block: a DataFrame
    (columns ``tid``, ``item``) is registered with the connection, a name is used as it is."""
    if isinstance(transactions, pd.DataFrame):
        missing = {"tid", "item"} - set(transactions.columns)
        if missing:
            raise ValueError(f"transactions need the columns tid and item (missing {', '.join(sorted(missing))})")
        name = sql.temp_name("basket_source")
        con.register(name, transactions[["tid", "item"]])
        try:
            yield sql.ident(name)
        finally:
            con.unregister(name)
    elif isinstance(transactions, str):
        yield sql.ident(*transactions.split(".")) if not transactions.startswith('"') else transactions
    else:
        raise TypeError("transactions: a DataFrame with columns tid and item, or a table name")


class _Temps:
    """Temporary tables and registered frames of one mining run, dropped at the end."""

    def __init__(self, con):
        self.con, self.tables, self.frames = con, [], []

    def table(self, stem: str) -> str:
        name = sql.temp_name(stem)
        self.tables.append(name)
        return sql.ident(name)

    def frame(self, stem: str, frame: pd.DataFrame) -> str:
        name = sql.temp_name(stem)
        self.con.register(name, frame)
        self.frames.append(name)
        return sql.ident(name)

    def close(self):
        for name in self.tables:
            sql.run(self.con, "baskets.drop_table", table=sql.ident(name))
        for name in self.frames:
            self.con.unregister(name)


def mine(con, transactions, min_support: float = 0.01, max_len: int = 3, steps: bool = False) -> Itemsets:
    """Frequent itemsets of up to ``max_len`` items with support >= ``min_support``, level by
    level (Apriori), counted in the database ``con`` (None: an in-memory DuckDB of its own).
    ``transactions``: a DataFrame (``tid``, ``item``) or the name of a table or view with
    those columns (an item counts once per transaction). ``steps=True`` also lists every candidate with its fate (small data: the
    pairs of all frequent items are listed)."""
    if int(max_len) < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len!r}")
    if con is None:  # a small frame: counted in a database of its own
        import duckdb

        own = duckdb.connect()
        try:
            return mine(own, transactions, min_support, max_len, steps)
        finally:
            own.close()
    temps = _Temps(con)
    try:
        with transactions_table(con, transactions) as source:
            items, tx = temps.table("basket_items"), temps.table("basket_tx")
            sql.run(con, "baskets.item_codes", items=items, source=source)
            sql.run(con, "baskets.coded_transactions", tx=tx, source=source, items=items)
        names = dict(sql.run(con, "baskets.item_names", items=items).fetchall())
        n = int(sql.one(con, "baskets.transaction_count", tx=tx)[0])
        mc = min_count(min_support, n)
        level_rows, step_rows = [], []
        counts = {(code,): int(c) for code, c in sql.run(con, "baskets.item_counts", tx=tx).fetchall()}
        current = {s: c for s, c in counts.items() if c >= mc}
        present = set(c for (c,) in counts)  # the items of the transactions the next level counts
        found = dict(current)
        level_rows.append((1, len(counts), 0, len(counts), len(current)))
        if steps:
            step_rows += [(1, s, c, None) for s, c in counts.items()]
        for k in range(2, int(max_len) + 1):
            if len(current) < k:
                break
            if k == 2:
                codes = sorted(c for (c,) in current)
                kept, pruned = list(combinations(codes, 2)), []
                keep = temps.frame("basket_keep", pd.DataFrame({"code": codes}))
            else:
                kept, pruned = candidates(list(current), k)
                if steps:
                    step_rows += [(k, cand, None, lacking) for cand, lacking in pruned]
                if not kept:
                    level_rows.append((k, len(pruned), len(pruned), 0, 0))
                    break
                keep = temps.frame("basket_keep", pd.DataFrame({"code": sorted({c for cand in kept for c in cand})}))
            wanted = sorted(c for (c,) in current) if k == 2 else sorted({c for cand in kept for c in cand})
            if len(wanted) < len(present):  # only the items that can still be in a frequent itemset
                txk = temps.table("basket_tx")
                sql.run(con, "baskets.keep_items", target=txk, tx=tx, keep=keep)
                tx, present = txk, set(wanted)
            txk = tx
            floor = 1 if steps else mc
            if k == 2:
                rows = sql.run(con, "baskets.pair_counts", {"min_count": floor}, tx=txk).fetchall()
                counted = {(a, b): int(c) for a, b, c in rows}
            elif k == 3:
                cand = temps.frame("basket_cand", pd.DataFrame(kept, columns=["a", "b", "c"]))
                rows = sql.run(con, "baskets.triple_counts", {"min_count": floor}, tx=txk, candidates=cand).fetchall()
                counted = {(a, b, c): int(m) for a, b, c, m in rows}
            else:
                long = pd.DataFrame([(i, code) for i, cand_ in enumerate(kept) for code in cand_], columns=["cid", "code"])
                cand = temps.frame("basket_cand", long)
                rows = sql.run(con, "baskets.itemset_counts", {"min_count": floor, "k": k}, tx=txk,
                               candidates=cand).fetchall()
                counted = {kept[int(i)]: int(c) for i, c in rows}
            if steps:
                step_rows += [(k, cand_, counted.get(cand_, 0), None) for cand_ in kept]
            current = {s: c for s, c in counted.items() if c >= mc}
            found.update(current)
            level_rows.append((k, len(kept) + len(pruned), len(pruned), len(kept), len(current)))
    finally:
        temps.close()

    def named(codes):
        return tuple(names[c] for c in codes)

    frequent = pd.DataFrame({"itemset": [named(s) for s in found], "size": [len(s) for s in found],
                             "count": list(found.values())})
    frequent["support"] = frequent["count"] / n if n else 0.0
    frequent = frequent.sort_values(["size", "itemset"], kind="stable").reset_index(drop=True)
    levels = pd.DataFrame(level_rows, columns=["level", "candidates", "pruned", "counted", "frequent"])
    table = None
    if steps:
        table = pd.DataFrame({
            "level": [r[0] for r in step_rows], "itemset": [named(r[1]) for r in step_rows],
            "count": pd.array([r[2] for r in step_rows], dtype="Int64"),
            "because": [named(r[3]) if r[3] is not None else None for r in step_rows]})
        table["support"] = table["count"].astype("Float64") / n if n else pd.NA
        table["status"] = ["pruned" if b is not None else ("frequent" if c >= mc else "infrequent")
                           for b, c in zip(table.because, table["count"])]
        table = table.sort_values(["level", "itemset"], kind="stable").reset_index(drop=True)
        table = table[["level", "itemset", "count", "support", "status", "because"]]
    return Itemsets(frequent, levels, n, float(min_support), mc, table)


def rules(itemsets: Itemsets, min_confidence: float = 0.0, min_lift: float | None = None,
          consequent_size: int | None = None) -> pd.DataFrame:
    """Every rule A -> C from the frequent itemsets (each split of each itemset of two or more
    items into a non-empty antecedent and consequent), with the measures of the module's
    docstring, those with confidence >= ``min_confidence`` (and lift >= ``min_lift`` when
    given; consequents of ``consequent_size`` items only when given), strongest lift first."""
    sup = itemsets.supports()
    rows = []
    for itemset, s in sup.items():
        if len(itemset) < 2:
            continue
        for r in range(1, len(itemset)):
            for ante in combinations(itemset, r):
                cons = tuple(x for x in itemset if x not in ante)
                if consequent_size is not None and len(cons) != consequent_size:
                    continue
                sa, sc = sup[ante], sup[cons]
                conf = s / sa
                conviction = math.inf if conf >= 1.0 else (1.0 - sc) / (1.0 - conf)
                rows.append((ante, cons, sa, sc, s, conf, conf / sc, s - sa * sc, conviction))
    out = pd.DataFrame(rows, columns=list(RULE_COLUMNS))
    keep = out.confidence >= min_confidence
    if min_lift is not None:
        keep &= out.lift >= min_lift
    out = out[keep].sort_values(["lift", "confidence", "support"], ascending=False, kind="stable")
    out = out.reset_index(drop=True)
    out.attrs.update(transactions=itemsets.transactions, min_support=itemsets.min_support)
    return out
