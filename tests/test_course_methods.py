"""The methods by hand (dbmarketing.course.methods): each against figures worked out by hand
here (the arithmetic written out) and against the library that does the same job."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dbmarketing import rfm
from dbmarketing.course import methods


def H(*counts):
    """Entropy in bits of a split with these counts, by the formula."""
    n = sum(counts)
    return -sum(c / n * math.log2(c / n) for c in counts if c)


# -- ID3 ---------------------------------------------------------------------------------


def test_entropy_of_simple_lists():
    assert methods.entropy(["a"] * 4) == 0
    assert methods.entropy(["a", "b"]) == pytest.approx(1)
    assert methods.entropy(["a", "b", "c", "d"]) == pytest.approx(2)
    # 9 yes, 5 no (play tennis): -(9/14) log2(9/14) - (5/14) log2(5/14) = 0.940
    assert methods.entropy(["yes"] * 9 + ["no"] * 5) == pytest.approx(0.940, abs=5e-4)


def play_tennis() -> pd.DataFrame:
    """Quinlan's 14 days of play tennis (Mitchell, Machine Learning, table 3.2)."""
    rows = """sunny hot high weak no
sunny hot high strong no
overcast hot high weak yes
rain mild high weak yes
rain cool normal weak yes
rain cool normal strong no
overcast cool normal strong yes
sunny mild high weak no
sunny cool normal weak yes
rain mild normal weak yes
sunny mild normal strong yes
overcast mild high strong yes
overcast hot normal weak yes
rain mild high strong no"""
    return pd.DataFrame([r.split() for r in rows.splitlines()],
                        columns=["outlook", "temperature", "humidity", "wind", "play"])


def test_play_tennis_gains_are_the_published_ones():
    gains = methods.id3_gains(play_tennis(), "play").set_index("attribute")["gain"]
    # published: outlook 0.246, humidity 0.151, wind 0.048, temperature 0.029
    assert gains["outlook"] == pytest.approx(0.246, abs=1e-3)
    assert gains["humidity"] == pytest.approx(0.151, abs=1e-3)
    assert gains["wind"] == pytest.approx(0.048, abs=1e-3)
    assert gains["temperature"] == pytest.approx(0.029, abs=1e-3)
    assert methods.id3_first_split(play_tennis(), "play") == "outlook"


def test_ten_customers_gains_by_hand():
    t = methods.ten_customers()
    assert len(t) == 10 and set(np.unique(t.to_numpy())) == {"yes", "no"}
    # lapsed: 4 yes, 6 no -> H(4, 6) = 0.971
    before = H(4, 6)
    assert before == pytest.approx(0.971, abs=5e-4)
    # one_order yes: C01 C02 C03 C05 (3 lapsed, 1 not); no: 6 rows, 1 lapsed (C04)
    one_order = before - (4 / 10 * H(3, 1) + 6 / 10 * H(1, 5))       # 0.971 - (0.4 x 0.811 + 0.6 x 0.650)
    # newsletter yes: C02 C05 C07 C08 C09 (1 lapsed); no: C01 C03 C04 C06 C10 (3 lapsed)
    newsletter = before - (5 / 10 * H(1, 4) + 5 / 10 * H(3, 2))      # 0.971 - (0.5 x 0.722 + 0.5 x 0.971)
    # complained yes: C01 C04 C06 (2 lapsed); no: 7 rows, 2 lapsed (C02 C03)
    complained = before - (3 / 10 * H(2, 1) + 7 / 10 * H(2, 5))      # 0.971 - (0.3 x 0.918 + 0.7 x 0.863)
    # distributor yes: C02 C07 (1 lapsed); no: 8 rows, 3 lapsed
    distributor = before - (2 / 10 * H(1, 1) + 8 / 10 * H(3, 5))     # 0.971 - (0.2 x 1 + 0.8 x 0.954)
    assert (round(one_order, 3), round(newsletter, 3), round(complained, 3), round(distributor, 3)) == \
        (0.256, 0.125, 0.091, 0.007)
    gains = methods.id3_gains(t, "lapsed")
    assert list(gains["attribute"]) == ["one_order", "newsletter", "complained", "distributor"]
    by = gains.set_index("attribute")
    for name, expected in (("one_order", one_order), ("newsletter", newsletter), ("complained", complained),
                           ("distributor", distributor)):
        assert by.loc[name, "gain"] == pytest.approx(expected, abs=1e-12)
        assert by.loc[name, "entropy_before"] - by.loc[name, "entropy_after"] == pytest.approx(expected)
    assert methods.information_gain(t, "one_order", "lapsed") == pytest.approx(one_order)


def test_id3_first_split_equals_sklearn_entropy_tree_root():
    from sklearn.tree import DecisionTreeClassifier

    t = methods.ten_customers()
    first = methods.id3_first_split(t, "lapsed")
    assert first == "one_order"
    # scikit-learn on its own: the yes/no attributes as 0/1, an entropy tree, its root feature
    columns = ["one_order", "complained", "newsletter", "distributor"]
    X = (t[columns] == "yes").astype(int).to_numpy()
    for seed in range(5):  # not a tie broken by chance
        tree = DecisionTreeClassifier(criterion="entropy", random_state=seed).fit(X, t["lapsed"])
        assert columns[tree.tree_.feature[0]] == first
        # the root's drop in entropy is ID3's gain
        n = tree.tree_.weighted_n_node_samples
        left, right = tree.tree_.children_left[0], tree.tree_.children_right[0]
        drop = tree.tree_.impurity[0] - (n[left] * tree.tree_.impurity[left] + n[right] * tree.tree_.impurity[right]) / n[0]
        assert drop == pytest.approx(methods.information_gain(t, first, "lapsed"))
    fitted, root = methods.sklearn_first_split(t, "lapsed")
    assert root == first


# -- k-means -----------------------------------------------------------------------------


def test_kmeans_steps_by_hand_on_four_points():
    points = np.array([[0, 0], [1, 0], [5, 0], [6, 0]])
    steps = methods.kmeans_steps(points, centres=[[0, 0], [1, 0]])
    # start: 0 -> centre 0, 1, 5 and 6 -> centre 1 (at 1)
    assert steps.labels[0].tolist() == [0, 1, 1, 1]
    # update 1: centre 0 = 0, centre 1 = (1 + 5 + 6) / 3 = 4; then 1 is nearer 0 (1) than 4 (3)
    assert steps.centres[1].tolist() == [[0, 0], [4, 0]]
    assert steps.labels[1].tolist() == [0, 0, 1, 1]
    # update 2: (0 + 1) / 2 = 0.5 and (5 + 6) / 2 = 5.5; nobody moves: converged
    assert steps.final_centres.tolist() == [[0.5, 0], [5.5, 0]]
    assert steps.iterations == 2 and steps.converged
    # inertia: 0.25 + 0.25 + 0.25 + 0.25
    assert steps.inertia[-1] == pytest.approx(1.0)
    assert all(a >= b - 1e-12 for a, b in zip(steps.inertia, steps.inertia[1:]))  # never rises


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_steps_ends_where_sklearn_does(seed):
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    planted = np.vstack([rng.normal(c, 0.8, size=(60, 2)) for c in ([0, 0], [4, 1], [1, 5])])
    steps = methods.kmeans_steps(planted, k=3, seed=seed, max_iter=100)
    assert steps.converged
    km = KMeans(n_clusters=3, init=steps.centres[0], n_init=1, algorithm="lloyd", tol=0, max_iter=100).fit(planted)
    np.testing.assert_allclose(steps.final_centres, km.cluster_centers_, atol=1e-9)
    assert (steps.final_labels == km.labels_).all()
    assert steps.inertia[-1] == pytest.approx(km.inertia_)


# -- rough sets --------------------------------------------------------------------------


def pawlak_flu() -> pd.DataFrame:
    """Pawlak's flu table (Rough sets, 1991; Pawlak 2002, table 1)."""
    return pd.DataFrame({
        "headache": ["no", "yes", "yes", "no", "yes", "no"],
        "muscle_pain": ["yes", "no", "yes", "yes", "no", "yes"],
        "temperature": ["high", "high", "very high", "normal", "high", "very high"],
        "flu": ["yes", "yes", "yes", "no", "no", "yes"]}, index=[f"p{i}" for i in range(1, 7)])


def test_rough_sets_of_pawlaks_flu_table():
    r = methods.rough_sets(pawlak_flu(), ["headache", "muscle_pain", "temperature"], "flu", "yes")
    # p2 and p5 agree on every symptom, p2 has flu and p5 not: they are the boundary
    assert sorted(r.target) == ["p1", "p2", "p3", "p6"]
    assert sorted(r.lower) == ["p1", "p3", "p6"]
    assert sorted(r.upper) == ["p1", "p2", "p3", "p5", "p6"]
    assert sorted(r.boundary) == ["p2", "p5"]
    assert r.accuracy == pytest.approx(3 / 5)
    assert len(r.classes) == 5  # {p1} {p2, p5} {p3} {p4} {p6}
    assert sorted(r.classes["region"]) == ["boundary", "lower", "lower", "lower", "outside"]
    assert len(r.certain_rules) == 3 and (r.certain_rules["share"] == 1).all()
    assert len(r.possible_rules) == 1
    assert r.possible_rules.iloc[0][["customers", "in_class", "share"]].tolist() == [2, 1, 0.5]
    rule = r.possible_rules.iloc[0]["rule"]
    assert "headache = yes" in rule and "muscle pain = no" in rule and "temperature = high" in rule


def test_rough_sets_with_fewer_conditions_widen_the_boundary():
    # temperature alone: high = {p1, p2, p5} (2 flu), very high = {p3, p6}, normal = {p4}
    r = methods.rough_sets(pawlak_flu(), ["temperature"], "flu", "yes")
    assert sorted(r.lower) == ["p3", "p6"]
    assert sorted(r.upper) == ["p1", "p2", "p3", "p5", "p6"]
    assert r.accuracy == pytest.approx(2 / 5)


def test_tree_rules_cover_every_row_once():
    tree, _ = methods.sklearn_first_split(methods.ten_customers(), "lapsed")
    rules = methods.tree_rules(tree, ["one_order", "complained", "newsletter", "distributor"])
    assert rules["share_of_rows"].sum() == pytest.approx(1)
    assert rules["rule"].iloc[0].startswith("one_order ≤ 0")


# -- RFM by hand -------------------------------------------------------------------------


def test_rfm_by_hand_for_five_customers_with_ties():
    five = methods.five_customers()
    # recency 10, 45, 45, 200, 400 days (fewer is better). Strictly worse customers: 400 -> 0,
    # 200 -> 1, 45 -> 2, 10 -> 4; quantile score 1 + floor(5 x worse / 5) = 1, 2, 3, 5, but a
    # score climbs at most one level from the value before: 10 days scores 4, not 5.
    # frequency 6, 3, 1, 2, 1: 1 -> 0 worse (score 1), 2 -> 2 worse (3, capped at 2),
    # 3 -> 3 worse (4, capped at 3), 6 -> 4 worse (5, capped at 4).
    # monetary 600, 250, 80, 120, 40: all different, one a level: 5, 4, 2, 3, 1.
    expected = pd.DataFrame({"r_score": [4, 3, 3, 2, 1], "f_score": [4, 3, 1, 2, 1], "m_score": [5, 4, 2, 3, 1]},
                            index=five.index)
    by_hand = methods.rfm_by_hand(five)
    pd.testing.assert_frame_equal(by_hand[expected.columns].astype(int), expected)
    assert by_hand["rfm_cell"].tolist() == ["445", "334", "312", "223", "111"]
    # the library scores the same five customers the same way (ties share a score)
    library = rfm.score(five.assign(avg_order_value=five.monetary / five.frequency))
    pd.testing.assert_frame_equal(library[expected.columns].astype(int), expected)
    assert library["rfm_cell"].tolist() == by_hand["rfm_cell"].tolist()


def test_score_steps_show_the_cap_on_recency():
    steps = methods.score_steps(methods.five_customers()["recency"], bins=5, higher_is_better=False)
    # worst first: 400, 200, 45 (two customers), 10 days
    assert steps["value"].tolist() == [400, 200, 45, 10]
    assert steps["customers"].tolist() == [1, 1, 2, 1]
    assert steps["strictly_worse"].tolist() == [0, 1, 2, 4]
    assert steps["quantile_score"].tolist() == [1, 2, 3, 5]
    assert steps["score"].tolist() == [1, 2, 3, 4]  # 5 capped at 3 + 1


def test_score_by_hand_without_ties_is_one_level_each():
    assert methods.score_by_hand([5, 1, 4, 2, 3]).tolist() == [5, 1, 4, 2, 3]
    assert methods.score_by_hand([5, 1, 4, 2, 3], higher_is_better=False).tolist() == [1, 5, 2, 4, 3]
