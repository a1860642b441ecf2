"""Tests for dbmarketing.baskets: the rule engine on a basket table computed by hand, the
Apriori pruning against a brute-force count, parity with mlxtend's apriori and
association_rules, and on the small sample the planted affinities, the sequences, the next
best offers and the responder rules, each checked against a pandas computation written here."""

from __future__ import annotations

import math
from itertools import combinations

import duckdb
import numpy as np
import pandas as pd
import pytest

from dbmarketing import baskets, campaigns

AS_OF = "2026-10-31"

# The five baskets of Tan, Steinbach & Kumar's textbook example.
TEXTBOOK = [["bread", "milk"], ["bread", "diapers", "beer", "eggs"], ["milk", "diapers", "beer", "cola"],
            ["bread", "milk", "diapers", "beer"], ["bread", "milk", "diapers", "cola"]]


def frame(baskets_):
    return pd.DataFrame([(t, i) for t, items in enumerate(baskets_) for i in items], columns=["tid", "item"])


@pytest.fixture(scope="module")
def memory():
    con = duckdb.connect()
    yield con
    con.close()


def test_textbook_baskets_by_hand(memory):
    found = baskets.mine(memory, frame(TEXTBOOK), min_support=0.6, max_len=3, steps=True)
    # counts: bread 4, milk 4, diapers 4, beer 3 (frequent at 3 of 5); cola 2, eggs 1 (not)
    sup = found.supports()
    assert found.min_count == 3 and found.transactions == 5
    assert sup == {("beer",): 0.6, ("bread",): 0.8, ("diapers",): 0.8, ("milk",): 0.8,
                   ("beer", "diapers"): 0.6, ("bread", "diapers"): 0.6, ("bread", "milk"): 0.6,
                   ("diapers", "milk"): 0.6}
    # level 2: all 6 pairs of the 4 frequent items; bread-beer and milk-beer in 2 baskets only.
    # level 3: the one join (bread, diapers, milk) has all its pairs frequent, is in 2 baskets.
    assert found.levels.values.tolist() == [[1, 6, 0, 6, 4], [2, 6, 0, 6, 4], [3, 1, 0, 1, 0]]
    steps = {s.itemset: s for s in found.steps.itertuples()}
    assert (steps[("bread", "diapers", "milk")].status, steps[("bread", "diapers", "milk")].count) == ("infrequent", 2)
    assert (steps[("cola",)].status, steps[("cola",)].count) == ("infrequent", 2)
    r = {(a, c): row for a, c, row in zip(baskets.rules(found).antecedent, baskets.rules(found).consequent,
                                           baskets.rules(found).itertuples())}
    beer = r[(("beer",), ("diapers",))]  # 3 of 3 beer baskets hold diapers (4 of 5 do)
    assert (beer.support, beer.confidence, beer.lift, beer.conviction) == pytest.approx((0.6, 1.0, 1.25, math.inf))
    diapers = r[(("diapers",), ("beer",))]  # 3 of 4; beer in 3 of 5: lift 0.75 / 0.6
    assert (diapers.confidence, diapers.lift, diapers.conviction) == pytest.approx((0.75, 1.25, 0.4 / 0.25))
    milk = r[(("milk",), ("bread",))]  # 3 of 4; bread in 4 of 5: lift 0.9375 < 1
    assert (milk.confidence, milk.lift, milk.leverage, milk.conviction) == pytest.approx((0.75, 0.9375, 0.6 - 0.64, 0.8))
    assert len(r) == 8  # 4 frequent pairs, two directions each


def test_the_join_prunes_a_candidate_with_an_infrequent_subset():
    kept, pruned = baskets.candidates([(1, 2), (1, 3), (2, 4), (3, 4)], 3)
    # joins: (1,2)+(1,3) -> (1,2,3), whose pair (2,3) is not frequent; no other pair shares a first item
    assert kept == [] and pruned == [((1, 2, 3), (2, 3))]
    kept, pruned = baskets.candidates([(1, 2), (1, 3), (2, 3), (2, 4)], 3)
    assert kept == [(1, 2, 3)] and pruned == [((2, 3, 4), (3, 4))]


def random_baskets(seed=3, n=400, items="ABCDEFGHIJ"):
    rng = np.random.default_rng(seed)
    p = np.linspace(3, 1, len(items))
    out = []
    for _ in range(n):
        k = rng.integers(1, 7)
        out.append(list(rng.choice(list(items), k, replace=False, p=p / p.sum())))
    return out


def test_apriori_finds_exactly_the_itemsets_a_brute_force_count_finds(memory):
    data = random_baskets()
    found = baskets.mine(memory, frame(data), min_support=0.04, max_len=4, steps=True)
    sets = [set(b) for b in data]
    items = sorted({i for b in data for i in b})
    brute = {}
    for k in range(1, 5):
        for cand in combinations(items, k):
            c = sum(set(cand) <= s for s in sets)
            if c / len(sets) >= 0.04:
                brute[cand] = c / len(sets)
    assert found.supports() == pytest.approx(brute)
    steps = found.steps
    pruned = steps[steps.status == "pruned"]
    assert len(pruned) > 0 and (found.levels.pruned.sum() == len(pruned))
    for itemset, because in zip(pruned.itemset, pruned.because):  # the reason holds, and none was frequent
        assert because not in brute and set(because) < set(itemset) and itemset not in brute


def test_itemsets_and_rules_equal_mlxtend(memory):
    from mlxtend.frequent_patterns import apriori, association_rules

    data = random_baskets(seed=11, n=300)
    onehot = pd.crosstab(frame(data).tid, frame(data).item).astype(bool)
    theirs = apriori(onehot, min_support=0.05, use_colnames=True, max_len=4)
    ours = baskets.mine(memory, frame(data), min_support=0.05, max_len=4)
    assert dict(zip([tuple(sorted(s)) for s in theirs.itemsets], theirs.support)) == pytest.approx(ours.supports())
    their_rules = association_rules(theirs, num_itemsets=len(onehot), metric="confidence", min_threshold=0.0)
    key = lambda a, c: (tuple(sorted(a)), tuple(sorted(c)))  # noqa: E731
    their_rules.index = [key(a, c) for a, c in zip(their_rules.antecedents, their_rules.consequents)]
    our_rules = baskets.rules(ours)
    our_rules.index = list(zip(our_rules.antecedent, our_rules.consequent))
    assert set(our_rules.index) == set(their_rules.index) and len(our_rules) == len(their_rules)
    names = {"antecedent_support": "antecedent support", "consequent_support": "consequent support"}
    for col in ("antecedent_support", "consequent_support", "support", "confidence", "lift", "leverage", "conviction"):
        a = our_rules[col].to_numpy(float)
        b = their_rules.loc[our_rules.index, names.get(col, col)].to_numpy(float)
        assert np.allclose(a, b, rtol=1e-12, atol=0) or np.array_equal(a, b), col


def test_support_threshold_is_the_float_comparison():
    assert baskets.min_count(0.6, 5) == 3 and baskets.min_count(0.05, 300) == 15 and baskets.min_count(0.1, 7) == 1
    assert all(baskets.min_count(s, n) / n >= s and (baskets.min_count(s, n) - 1) / n < s
               for s in (0.01, 0.03, 0.1, 0.333) for n in (7, 100, 999) if baskets.min_count(s, n) > 1)


# --------------------------------------------------------------------------------------
# the small sample: planted affinities, sequences, offers, responders
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_con(cleaned_sample):
    con = duckdb.connect(str(cleaned_sample), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def product_rules(sample_con):
    found = baskets.mine_orders(sample_con, AS_OF, "product", min_support=0.005, max_len=3)
    return baskets.rules(found)


def test_the_rules_find_the_planted_product_pairs(sample_con, product_rules):
    planted = baskets.planted_affinities(sample_con)
    assert (planted.kind == "basket").sum() == 4 and (planted.kind == "sequence").sum() == 1
    recall = baskets.planted_recall(product_rules, planted)
    assert recall.attrs["recall"] == 1.0, recall
    # a planted pair is among the strongest links: each one's lift beats 9 of 10 pair rules
    pairs = product_rules[product_rules.antecedent.map(len) + product_rules.consequent.map(len) == 2]
    assert (recall.lift > pairs.lift.quantile(0.9)).all()


def order_products(con):
    return con.execute("""SELECT DISTINCT s.order_id, s.customer_id, s.order_date, l.product_id
        FROM main.sales s JOIN main.order_lines l USING (order_id)
        WHERE s.order_date <= DATE '2026-10-31' AND l.exclude_reason IS NULL AND l.quantity > 0
          AND l.product_id IS NOT NULL""").df()


def test_buy_next_counts_as_pandas_does_and_finds_the_planted_sequence(sample_con):
    seq = baskets.buy_next(sample_con, AS_OF, "product", min_customers=3)
    planted = baskets.planted_affinities(sample_con)
    x, y = planted.loc[planted.kind == "sequence", ["antecedent", "consequent"]].iloc[0]
    found = baskets.planted_recall(seq, planted, "sequence")
    assert found.attrs["recall"] == 1.0
    op = order_products(sample_con)
    days = op.groupby("customer_id").order_date.agg(["min", "max"])
    repeat = days[days["min"] < days["max"]]
    first_x = op[op.product_id == x].groupby("customer_id").order_date.min().reindex(repeat.index).dropna()
    last_y = op[op.product_id == y].groupby("customer_id").order_date.max()
    ante = first_x[first_x < repeat.loc[first_x.index, "max"]]
    hits = sum(1 for c, d in ante.items() if c in last_y.index and last_y[c] > d)
    later_y = sum(1 for c, d in last_y.items() if c in repeat.index and d > repeat.loc[c, "min"])
    row = seq[(seq.antecedent == x) & (seq.consequent == y)].iloc[0]
    assert (row.customers, row.antecedent_customers) == (hits, len(ante))
    assert row.lift == pytest.approx((hits / len(ante)) / (later_y / len(repeat)))
    assert row.lift > 2


def test_next_best_offer_is_a_rule_the_customer_qualifies_for(sample_con, product_rules):
    offers = baskets.next_best_offers(sample_con, product_rules, AS_OF)
    assert offers.attrs["basis"] == "margin" and len(offers) > 50 and offers.customer_id.is_unique
    op = order_products(sample_con)
    bought = op.groupby("customer_id").product_id.agg(set)
    prices = sample_con.execute("SELECT product_id, price - unit_cost FROM main.products").fetchall()
    margin = dict(prices)
    eligible = product_rules[(product_rules.consequent.map(len) == 1) & (product_rules.lift > 1)]
    for row in offers.sample(40, random_state=1).itertuples():
        mine = bought[row.customer_id]
        assert set(row.because.split(" + ")) <= mine and row.offer not in mine
        scores = [c * margin[k[0]] for a, k, c in zip(eligible.antecedent, eligible.consequent, eligible.confidence)
                  if set(a) <= mine and k[0] not in mine]
        assert row.score == pytest.approx(max(scores))


def test_offer_list_leaves_out_what_the_clearance_does_not_allow(sample_con, product_rules, tmp_path):
    offers = baskets.next_best_offers(sample_con, product_rules, AS_OF).head(20)
    path, dropped = baskets.export_offers(sample_con, offers, tmp_path / "offers.csv", clearance=2)
    written = pd.read_csv(path, encoding="utf-8-sig")
    assert dropped == ["name"] and "name" not in written and len(written) == 20
    path, dropped = baskets.export_offers(sample_con, offers, tmp_path / "offers3.csv", clearance=3)
    assert dropped == [] and pd.read_csv(path, encoding="utf-8-sig").name.notna().any()


def test_offer_basis_falls_back_without_costs():
    values = pd.DataFrame({"price": [10.0, 20.0, None], "margin": [4.0, None, None]}, index=["a", "b", "c"])
    assert [baskets.offer_basis(values, p) for p in (["a"], ["a", "b"], ["a", "c"])] == \
        ["margin", "price", "confidence x lift"]


def test_responder_rules_equal_a_pandas_count():
    f = pd.DataFrame({"cell": ["test"] * 10 + ["control"] * 2,
                      "gender": list("FFFFFMMMMM") + ["F", "F"],
                      "city_tier": [1, 1, 2, 2, 2, 1, 1, 2, 2, 2, 1, 1],
                      "responded": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1]})
    r = baskets.responder_rules(f, ["gender", "city_tier"], min_support=0.1).set_index("antecedent")
    # test cell: 4 of 10 respond; women 3 of 5 (lift 1.5), women in tier 1: 2 of 2 (lift 2.5)
    assert r.attrs["response_rate"] == 0.4
    w = r.loc[[("gender=F",)]].iloc[0]
    assert (w.contacts, w.responders, w.response_rate, w.share_of_responders) == (5, 3, 0.6, 0.75)
    assert w.lift == pytest.approx(1.5)
    assert r.loc[[("city_tier=1", "gender=F")]].iloc[0].lift == pytest.approx(2.5)


def test_responder_rules_on_the_sample_use_the_engine(sample_con):
    features = campaigns.contact_features(sample_con, "all", as_of=AS_OF)
    r = baskets.responder_rules(features, campaigns.PROFILE_ATTRIBUTES, min_support=0.02)
    test = features[features.cell == "test"]
    assert r.attrs["contacts"] == len(test) and len(r) > 0
    top = r.iloc[0]
    has = np.ones(len(test), bool)
    for item in top.antecedent:
        attribute, value = baskets.split_item(item)
        has &= (test[attribute].astype(str) == value).to_numpy()
    assert top.contacts == has.sum() and top.responders == test.responded[has].sum()


def test_sections_say_what_they_lack_without_lines_or_categories():
    from dbmarketing import warehouse

    con = duckdb.connect()
    con.execute("CREATE TABLE main.sales AS SELECT 'S1' AS order_id")
    # order totals only: the cleaning made one line without a product from the order's amount
    con.execute("CREATE TABLE main.order_lines AS SELECT 'S1' AS order_id, NULL::VARCHAR AS product_id, "
                "NULL::VARCHAR AS exclude_reason")
    con.execute("CREATE TABLE main.products AS SELECT 'P1' AS product_id, NULL::VARCHAR AS category")
    assert warehouse.missing(con, "baskets") == ["order lines"]
    assert warehouse.missing(con, "category baskets") == ["order lines", "product categories"]
    con.execute("UPDATE main.order_lines SET product_id = 'P1'")
    assert warehouse.missing(con, "baskets") == [] and warehouse.missing(con, "sequences") == []
    assert warehouse.missing(con, "category baskets") == ["product categories"]
    con.close()
