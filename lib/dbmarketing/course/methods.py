"""The methods by hand: small, readable versions of what the chapters let a library do, for a
class to follow on one screen next to the library's result on the same data.

- ID3 (:func:`entropy`, :func:`information_gain`, :func:`id3_gains`, :func:`id3_first_split`):
  the first split of a decision tree on a small table of yes/no attributes, worked out with
  entropy and information gain; :func:`sklearn_first_split` asks scikit-learn's entropy tree
  the same question (its splits are binary, hence the yes/no attributes).
- k-means (:func:`kmeans_steps`): Lloyd's algorithm, one step at a time, in plain numpy, so
  each iteration's centres and assignments can be drawn.
- Rough sets (:func:`rough_sets`): the indiscernibility classes of a table, the lower and
  upper approximation of a decision class, and the certain and possible rules they give;
  :func:`tree_rules` writes a fitted decision tree's leaves as rules to compare.
- RFM by hand (:func:`rfm_by_hand`): the score rule of :mod:`dbmarketing.rfm.scoring`
  (equal values share a score, no level skipped) worked out in pandas for a few customers.

The words these functions write (a rule's "and", "then") come from the words catalog
(``course_methods.*``), so a rule reads in the reader's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..present import words

# -- ID3 ---------------------------------------------------------------------------------


def entropy(labels) -> float:
    """Entropy in bits of a list of labels: -sum p log2 p over the labels' shares.
    0 when every label is the same; 1 for a fifty-fifty split of two labels."""
    shares = pd.Series(list(labels)).value_counts(normalize=True)
    return float(-sum(p * math.log2(p) for p in shares if p > 0))


def information_gain(table: pd.DataFrame, attribute: str, target: str) -> float:
    """How much splitting ``table`` on ``attribute`` lowers the entropy of ``target``: the
    entropy before minus the entropy of each part weighted by the part's share of the rows."""
    before = entropy(table[target])
    after = sum(len(part) / len(table) * entropy(part[target]) for _, part in table.groupby(attribute))
    return before - after


def id3_gains(table: pd.DataFrame, target: str, attributes=None) -> pd.DataFrame:
    """One row per attribute (every column but ``target`` unless ``attributes`` are given):
    the entropy of the target before the split, the weighted entropy after it and the gain
    (their difference), largest gain first (on equal gains the column order decides)."""
    attributes = [c for c in table.columns if c != target] if attributes is None else list(attributes)
    before = entropy(table[target])
    rows = []
    for a in attributes:
        gain = information_gain(table, a, target)
        rows.append({"attribute": a, "entropy_before": before, "entropy_after": before - gain, "gain": gain})
    return pd.DataFrame(rows).sort_values("gain", ascending=False, kind="stable").reset_index(drop=True)


def id3_first_split(table: pd.DataFrame, target: str, attributes=None) -> str:
    """The attribute ID3 splits on first: the one with the largest information gain."""
    return str(id3_gains(table, target, attributes).loc[0, "attribute"])


def yes_no_matrix(table: pd.DataFrame, columns, yes="yes") -> pd.DataFrame:
    """The yes/no columns of ``table`` as 1 (``yes``) and 0 (anything else): what a
    scikit-learn tree reads."""
    return pd.DataFrame({c: (table[c] == yes).astype(int) for c in columns}, index=table.index)


def sklearn_first_split(table: pd.DataFrame, target: str, attributes=None, yes="yes", seed: int = 0):
    """scikit-learn's answer to the same question: a ``DecisionTreeClassifier(criterion="entropy")``
    fitted on the yes/no attributes coded 1/0. Returns the fitted tree and the name of the
    attribute at its root."""
    from sklearn.tree import DecisionTreeClassifier

    attributes = [c for c in table.columns if c != target] if attributes is None else list(attributes)
    X = yes_no_matrix(table, attributes, yes)
    tree = DecisionTreeClassifier(criterion="entropy", random_state=seed).fit(X, table[target])
    return tree, attributes[int(tree.tree_.feature[0])]


def plot_entropy_tree(tree, names, ax, fontsize: int = 9):
    """Draw a tree fitted by :func:`sklearn_first_split` with :func:`sklearn.tree.plot_tree`,
    its boxes in the reader's words: the question (``names``: the attributes as the reader
    names them), the entropy, the customers and how many of them are in the class "yes";
    the branches "yes" (attribute = yes, right) and "no" (left)."""
    from sklearn.tree import plot_tree

    t = tree.tree_
    drawn = plot_tree(tree, filled=True, rounded=True, fontsize=fontsize, ax=ax)
    boxes = [a for a in drawn if a.get_bbox_patch() is not None]
    labels = []

    def visit(node):
        value = t.value[node][0]  # class counts or shares (newer scikit-learn): read as a share
        yes = round(value[-1] / value.sum() * t.weighted_n_node_samples[node])
        counts = words.text("course_methods.tree_box", entropy=float(t.impurity[node]),
                            n=int(t.n_node_samples[node]), yes=int(yes))
        if t.children_left[node] == -1:
            labels.append(counts)
            return
        labels.append(words.text("course_methods.tree_question", attribute=names[t.feature[node]]) + "\n" + counts)
        visit(t.children_left[node])
        visit(t.children_right[node])

    visit(0)
    for box, label in zip(boxes, labels):
        box.set_text(label)
    for edge in (a for a in drawn if a.get_bbox_patch() is None):  # left (<= 0.5) is "no"
        edge.set_text({"True": words.label("no"), "False": words.label("yes")}.get(edge.get_text().strip(),
                                                                                    edge.get_text()))
    return drawn


# -- k-means -----------------------------------------------------------------------------


@dataclass
class KMeansSteps:
    """Lloyd's algorithm step by step. ``centres[i]`` and ``labels[i]``: the centres at the
    start of iteration ``i`` and the cluster each point is assigned to with them
    (``centres[0]``: the initial centres); ``inertia[i]``: the sum of squared distances of the
    points to their assigned centre; ``iterations``: how many updates were made until no point
    changed its cluster (``converged``) or ``max_iter`` ran out. ``final_centres``: the centres
    after the last update."""

    points: np.ndarray
    centres: list
    labels: list
    inertia: list
    iterations: int
    converged: bool

    @property
    def final_centres(self) -> np.ndarray:
        return self.centres[-1]

    @property
    def final_labels(self) -> np.ndarray:
        return self.labels[-1]


def nearest_centre(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """For each point, the number of the centre nearest to it (squared Euclidean distance)."""
    distances = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return distances.argmin(axis=1)


def kmeans_steps(points, k: int | None = None, centres=None, seed: int = 0, max_iter: int = 20) -> KMeansSteps:
    """k-means by hand (Lloyd's algorithm). Start from ``centres`` (a k x d array) or from
    ``k`` points drawn at random with ``seed``; then repeat: (1) assign every point to its
    nearest centre, (2) move every centre to the mean of its points (a centre left without
    points stays where it is), until the assignment no longer changes."""
    X = np.asarray(points, dtype=float)
    if centres is None:
        if k is None:
            raise ValueError("kmeans_steps needs k or the initial centres")
        centres = X[np.random.default_rng(seed).choice(len(X), size=k, replace=False)]
    C = np.array(centres, dtype=float)
    labels = nearest_centre(X, C)
    history_c, history_l = [C], [labels]
    history_i = [float(((X - C[labels]) ** 2).sum())]
    converged = False
    for _ in range(max_iter):
        C = np.array([X[labels == j].mean(axis=0) if (labels == j).any() else C[j] for j in range(len(C))])
        new = nearest_centre(X, C)
        history_c.append(C)
        history_l.append(new)
        history_i.append(float(((X - C[new]) ** 2).sum()))
        if np.array_equal(new, labels):
            converged = True
            break
        labels = new
    return KMeansSteps(points=X, centres=history_c, labels=history_l, inertia=history_i,
                       iterations=len(history_c) - 1, converged=converged)


# -- rough sets --------------------------------------------------------------------------


def rule_text(conditions: dict, then: str, names: dict | None = None) -> str:
    """A rule in the reader's words: "if a = x and b = y then <then>"; ``names``: attribute ->
    the reader's name for it (else the catalog's header), values in the reader's words."""
    names = names or {}
    joined = words.text("course_methods.rule_and").join(
        words.text("course_methods.rule_is", attribute=names.get(a) or words.header(a), value=words.label(v))
        for a, v in conditions.items())
    return words.text("course_methods.rule", conditions=joined, then=then)


@dataclass
class RoughSets:
    """The rough-set view of one decision class (``decision`` = ``value``) seen through the
    ``conditions``. ``classes``: one row per indiscernibility class (customers alike on every
    condition): its condition values, ``customers``, ``in_class`` (how many of them are in the
    decision class), ``share`` and ``region`` ("lower": all of them are, "boundary": some are,
    "outside": none is). ``lower`` / ``upper`` / ``boundary``: the row labels in the lower
    approximation (surely in the class), the upper one (possibly in it) and their difference;
    ``accuracy``: |lower| / |upper| (1 when the conditions describe the class exactly).
    ``certain_rules`` / ``possible_rules``: one row per class of the lower approximation / of
    the boundary, the rule in words and the customers and share it covers."""

    conditions: list
    decision: str
    value: object
    classes: pd.DataFrame
    lower: pd.Index
    upper: pd.Index
    boundary: pd.Index
    target: pd.Index
    accuracy: float
    certain_rules: pd.DataFrame
    possible_rules: pd.DataFrame


def rough_sets(table: pd.DataFrame, conditions, decision: str, value, names: dict | None = None,
               then: str | None = None) -> RoughSets:
    """Rough sets of the rows of ``table`` where ``decision`` equals ``value``, approximated by
    the condition attributes ``conditions`` (columns of discrete values).

    Rows with the same value on every condition cannot be told apart (an indiscernibility
    class). The **lower approximation** holds the classes that lie wholly inside the decision
    class: each gives a **certain rule** (if the conditions hold, the row is in the class, with
    no exception in the table). The **upper approximation** adds the classes that are only
    partly inside (the **boundary**): each gives a **possible rule**, true for the share
    shown. ``names``: attribute -> the reader's name for it in the rules; ``then``: the rules'
    conclusion in words (else "decision = value")."""
    conditions = list(conditions)
    target_mask = table[decision] == value
    grouped = table.assign(_in=target_mask).groupby(conditions, sort=True, observed=True)
    classes = grouped["_in"].agg(customers="size", in_class="sum").reset_index()
    classes["share"] = classes["in_class"] / classes["customers"]
    classes["region"] = np.select([classes["share"] == 1, classes["in_class"] > 0], ["lower", "boundary"], "outside")
    region_of = table[conditions].merge(classes[conditions + ["region"]], on=conditions, how="left")["region"]
    region_of.index = table.index
    lower = table.index[region_of.to_numpy() == "lower"]
    boundary = table.index[region_of.to_numpy() == "boundary"]
    upper = lower.append(boundary)
    names = names or {}
    then = then or words.text("course_methods.rule_is", attribute=names.get(decision) or words.header(decision),
                              value=words.label(value))

    def rules(region: str) -> pd.DataFrame:
        part = classes[classes["region"] == region].sort_values(["in_class", "customers"], ascending=False)
        return pd.DataFrame({
            "rule": [rule_text(dict(zip(conditions, row)), then, names) for row in part[conditions].itertuples(index=False)],
            "customers": part["customers"].to_numpy(), "in_class": part["in_class"].to_numpy(),
            "share": part["share"].to_numpy()})

    return RoughSets(conditions=conditions, decision=decision, value=value, classes=classes, lower=lower,
                     upper=upper, boundary=boundary, target=table.index[target_mask.to_numpy()],
                     accuracy=len(lower) / len(upper) if len(upper) else math.nan,
                     certain_rules=rules("lower"), possible_rules=rules("boundary"))


def tree_rules(tree, features, name=None) -> pd.DataFrame:
    """The leaves of a fitted binary decision tree as rules: the path of questions from the
    root (``name`` turns a feature into the reader's words), the share of the training rows
    the leaf holds and the share of them in the positive class (class 1). One row per leaf,
    depth first, "yes" (<=) branch first, as :func:`sklearn.tree.plot_tree` draws them."""
    from ..customers.churn import WHOLE_NUMBER_FEATURES

    name = name or (lambda f: f)
    t, features = tree.tree_, list(features)
    total = t.weighted_n_node_samples[0]
    rows = []

    def visit(node, path):
        if t.children_left[node] == -1:
            value = t.value[node][0]
            rows.append({"rule": words.text("course_methods.rule_and").join(path) or words.text("course_methods.everyone"),
                         "share_of_rows": float(t.weighted_n_node_samples[node] / total),
                         "positive_share": float(value[-1] / value.sum())})
            return
        f = features[t.feature[node]]
        cut = t.threshold[node]
        cut = f"{math.floor(cut):,}" if f in WHOLE_NUMBER_FEATURES else f"{cut:,.4g}"
        visit(t.children_left[node], path + [f"{name(f)} ≤ {cut}"])
        visit(t.children_right[node], path + [f"{name(f)} > {cut}"])

    visit(0, [])
    return pd.DataFrame(rows)


# -- RFM by hand -------------------------------------------------------------------------


def score_steps(values, bins: int = 5, higher_is_better: bool = True) -> pd.DataFrame:
    """The RFM score rule of :mod:`dbmarketing.rfm.scoring`, by hand for one measure, step by step.

    For the distinct values from worst to best: the quantile score of a value is
    1 + floor(bins x the share of customers with a strictly worse value); the worst value
    scores 1 and each next value its quantile score, but at most one more than the value
    before it. So equal values share a score and no level is skipped. One row per distinct
    value, worst first: value, customers (with that value), strictly_worse, quantile_score, score."""
    s = pd.Series(values, dtype=float)
    rows, previous = [], 0
    for v in sorted(s.unique(), reverse=not higher_is_better):
        strictly_worse = int((s < v).sum() if higher_is_better else (s > v).sum())
        quantile_score = 1 + math.floor(bins * strictly_worse / len(s))
        previous = 1 if not rows else min(quantile_score, previous + 1)
        rows.append({"value": v, "customers": int((s == v).sum()), "strictly_worse": strictly_worse,
                     "quantile_score": quantile_score, "score": previous})
    return pd.DataFrame(rows)


def score_by_hand(values, bins: int = 5, higher_is_better: bool = True) -> pd.Series:
    """Each value's score by the rule of :func:`score_steps`."""
    s = pd.Series(values, dtype=float)
    steps = score_steps(s, bins, higher_is_better)
    return s.map(dict(zip(steps["value"], steps["score"]))).astype(int)


def rfm_by_hand(customers: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """R, F and M scores of a few customers by hand (:func:`score_by_hand`): ``recency`` in
    days (fewer is better), ``frequency`` and ``monetary`` (more is better), and the cell
    ("543"). Same columns as :func:`dbmarketing.rfm.score` writes."""
    out = customers.copy()
    out["r_score"] = score_by_hand(out["recency"].to_numpy(), bins, higher_is_better=False).to_numpy()
    out["f_score"] = score_by_hand(out["frequency"].to_numpy(), bins).to_numpy()
    out["m_score"] = score_by_hand(out["monetary"].to_numpy(), bins).to_numpy()
    out["rfm_cell"] = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    return out


# -- the small tables the chapters work by hand -------------------------------------------


def ten_customers() -> pd.DataFrame:
    """Ten customers described by yes/no attributes, and whether each lapsed: the table chapter
    03 works ID3 on (small enough to count by hand)."""
    rows = [  # customer, bought only once, complained, reads the newsletter, distributor, lapsed
        ("C01", "yes", "yes", "no", "no", "yes"),
        ("C02", "yes", "no", "yes", "yes", "yes"),
        ("C03", "yes", "no", "no", "no", "yes"),
        ("C04", "no", "yes", "no", "no", "yes"),
        ("C05", "yes", "no", "yes", "no", "no"),
        ("C06", "no", "yes", "no", "no", "no"),
        ("C07", "no", "no", "yes", "yes", "no"),
        ("C08", "no", "no", "yes", "no", "no"),
        ("C09", "no", "no", "yes", "no", "no"),
        ("C10", "no", "no", "no", "no", "no"),
    ]
    return pd.DataFrame(rows, columns=["customer", "one_order", "complained", "newsletter", "distributor",
                                       "lapsed"]).set_index("customer")


def five_customers() -> pd.DataFrame:
    """Five customers' recency (days), frequency (orders) and monetary value, with ties (two
    bought 45 days ago, two bought once): the RFM scores chapter 04 works by hand."""
    return pd.DataFrame({"customer_id": ["A", "B", "C", "D", "E"],
                         "recency": [10, 45, 45, 200, 400],
                         "frequency": [6, 3, 1, 2, 1],
                         "monetary": [600.0, 250.0, 80.0, 120.0, 40.0]}).set_index("customer_id")
