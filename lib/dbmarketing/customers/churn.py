"""Churn risk: no purchase in the next ``horizon_days``; the features, the models, the reasons
and the tree drawn for a marketer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .. import cleanse, warehouse
from ..warehouse import NotEnoughData
from .c360 import LifecycleRules, customer_360



# unresolved_complaints is not a churn feature: the ``resolved`` flag is the status at the
# extraction date (no resolution date), so a training snapshot would see resolutions made
# after it -- a leak. It is still shown among the reasons at as_of.
CHURN_FEATURES = (
    "recency_days", "tenure_days", "orders", "orders_90d", "orders_12m", "purchase_days", "mean_gap_days",
    "revenue_12m", "avg_order_value", "returns", "complaints", "complaints_180d",
    "campaigns_contacted", "campaigns_responded", "share_online", "is_distributor",
)

WHOLE_NUMBER_FEATURES = {"recency_days", "tenure_days", "orders", "orders_90d", "orders_12m", "purchase_days", "returns",
                         "complaints", "complaints_180d", "campaigns_contacted", "campaigns_responded", "is_distributor"}

# feature -> (plain name, what a high value says, what a low value says), for charts and reasons
FEATURE_LABELS = {
    "recency_days": ("days since the last purchase", "long since the last purchase", "bought recently"),
    "tenure_days": ("days as a customer", "long-standing customer", "recent customer"),
    "orders": ("orders in total", "many orders", "few orders in total"),
    "orders_90d": ("orders in the last 90 days", "several orders in the last 90 days", "few orders in the last 90 days"),
    "orders_12m": ("orders in the last 12 months", "many orders in 12 months", "few orders in the last 12 months"),
    "purchase_days": ("days with a purchase", "many purchase days", "few purchase days"),
    "mean_gap_days": ("usual days between purchases", "long gaps between purchases", "short gaps between purchases"),
    "revenue_12m": ("revenue in the last 12 months", "high spend in 12 months", "low spend in the last 12 months"),
    "avg_order_value": ("average order value", "large orders", "small orders"),
    "returns": ("returns", "returns goods", "few returns"),
    "complaints": ("complaints", "has complained", "no complaints"),
    "complaints_180d": ("complaints in the last 180 days", "complained in the last 180 days", "no recent complaint"),
    "campaigns_contacted": ("campaigns that contacted the customer", "often contacted by campaigns",
                            "rarely contacted by campaigns"),
    "campaigns_responded": ("campaigns responded to", "responds to campaigns", "did not respond to campaigns"),
    "share_online": ("share of revenue online", "buys online", "buys little online"),
    "is_distributor": ("distributor (1) or consumer (0)", "a distributor", "a consumer"),
}


def churn_features(con, as_of, rules: LifecycleRules | None = None, frame: pd.DataFrame | None = None,
                   share: float = 1.0) -> pd.DataFrame:
    """Churn features of every customer who can churn at ``as_of`` (bought before, not lapsed),
    from :func:`customer_360` (so the leakage guard applies; ``frame`` reuses its result at
    ``as_of``; ``share`` < 1: of its fixed sample of customers). Indexed by customer_id."""
    c = frame if frame is not None else customer_360(con, as_of, rules=rules, share=share)
    c = c[c["lifecycle_stage"].isin(["new", "active", "at risk", "reactivated"])].copy()
    c["is_distributor"] = (c["customer_type"] == "distributor").astype(int)
    c["mean_gap_days"] = c["mean_gap_days"].fillna(c["tenure_days"])  # one purchase: the gap so far
    return c.set_index("customer_id")


def _bought(con, customer_ids: pd.Index, start: date, horizon_days: int) -> np.ndarray:
    """Whether each of ``customer_ids`` bought in (start, start + horizon_days], as known at the
    window's end. Looked up by pyarrow: pandas' ``isin`` on its arrow-backed strings converts
    every value to a Python object (7 s for a million customers, pyarrow 0.7 s)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    end = start + timedelta(days=horizon_days)
    known = cleanse.sales_as_of(con, end)
    rows = warehouse.sql.run(con, "customers.bought_between", {"start": start, "end": end}, sales=known).fetchall()
    ids = pa.array(np.asarray(customer_ids, dtype=object), pa.string())
    return pc.is_in(ids, value_set=pa.array([r[0] for r in rows], pa.string())).to_numpy(zero_copy_only=False)


def top_decile_lift(y, p) -> float:
    """Churn rate among the 10% highest scores divided by the overall churn rate.

    Ties at the cut are shared out: when the 10% boundary falls inside a group of equal
    scores (a tree gives whole leaves one score), the group counts with the share of it that
    fits, i.e. its mean churn rate -- the expected lift under random tie-breaking, so the
    figure does not depend on the order of the rows."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    if len(y) == 0 or y.mean() == 0:
        return math.nan
    k = max(int(math.ceil(0.1 * len(y))), 1)
    cut = np.sort(p)[::-1][k - 1]
    above, tied = p > cut, p == cut
    churners = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float(churners / k / y.mean())


def model_reasons(logit, X: pd.DataFrame, top: int = 2) -> pd.Series:
    """The model's own reasons for each customer's churn risk: the ``top`` features that push
    the logistic regression's risk up the most for this customer (coefficient x transformed,
    standardized value, largest positive first), in plain words (:data:`FEATURE_LABELS`)."""
    Z = np.asarray(logit[:-1].transform(X), dtype=float)
    contrib = Z * logit[-1].coef_[0]
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
    rows = np.arange(len(X))[:, None]
    names = list(X.columns)
    # words[j, 0] says feature j is high, words[j, 1] that it is low; whole columns at a time
    # (a loop over the customers took 4 s a million)
    words = np.array([FEATURE_LABELS.get(n, (n, f"high {n}", f"low {n}"))[1:] for n in names], dtype=object)
    said = np.where(contrib[rows, order] > 0, words[order, (Z[rows, order] <= 0).astype(int)], "")
    joined = said[:, 0]
    for k in range(1, said.shape[1]):  # the contributions are in falling order: the words that
        joined = np.where(said[:, k] != "", joined + ", " + said[:, k], joined)  # push up come first
    out = np.where(joined != "", "model's main drivers: " + joined, "model: nothing raises the risk above average")
    return pd.Series(out, index=X.index, name="model_reasons", dtype=object)


def churn_reasons(frame: pd.DataFrame, model: pd.Series | None = None) -> pd.Series:
    """Plain-language reasons a customer may be slipping away: those read from the 360 figures
    (complaints, fading recency, ...), then the model's own (:func:`model_reasons`) if given."""
    def col(name, default=0):
        return frame[name] if name in frame else pd.Series(default, index=frame.index)

    def when(mask, text):
        return pd.Series(np.where(mask, text, ""), index=frame.index, dtype=object)

    c180, rec, gap, days = col("complaints_180d"), col("recency_days", np.nan), col("mean_gap_days", np.nan), col("purchase_days")
    fading = (days > 1) & gap.notna() & rec.notna() & (rec > 1.5 * gap)
    once = (days <= 1) & rec.notna() & (rec > 90)
    parts = [
        when(c180 > 0, "complained in the last 180 days (" + c180.fillna(0).astype(int).astype(str) + ")"),
        when(col("unresolved_complaints") > 0, "unresolved complaint"),
        when(fading, "fading recency: " + rec.fillna(0).astype(int).astype(str) + " days since last purchase, usual gap "
             + gap.fillna(0).round().astype(int).astype(str)),
        when(once & ~fading, "bought once, " + rec.fillna(0).astype(int).astype(str) + " days ago"),
        when((col("orders_12m") == 0) & (col("orders") > 0), "no purchase in 12 months"),
        when(col("returns") > 0, "returned goods (" + col("returns").fillna(0).astype(int).astype(str) + ")"),
    ]
    if model is not None:
        parts.append(model.reindex(frame.index).fillna("").astype(object))
    joined = ["; ".join(w for w in row if w) for row in zip(*parts)]
    return pd.Series([j or "general pattern (no single reason)" for j in joined], index=frame.index, name="reasons")


def tree_nodes(tree, features) -> pd.DataFrame:
    """The nodes of a fitted churn decision tree in the order :func:`sklearn.tree.plot_tree`
    draws them (depth first, the "yes" branch first), with a label a marketer can read: the
    question asked (plain names from :data:`FEATURE_LABELS`), the churn share among the
    customers who reach the node and their share of all customers; a leaf also says which way
    it decides. Columns: node, depth, is_leaf, churn_share, customer_share, label."""
    t = tree.tree_
    total = t.weighted_n_node_samples[0]
    rows = []

    def visit(node, depth):
        value = t.value[node][0]
        churn = float(value[1] / value.sum())
        share = float(t.weighted_n_node_samples[node] / total)
        leaf = t.children_left[node] == -1
        head = f"churn {churn:.0%} · {share:.0%} of customers"
        if leaf:  # narrow: the leaves stand side by side
            label = f"churn {churn:.0%}\n{share:.0%} of customers\n" + ("→ likely to churn" if churn >= 0.5 else "→ buys again")
        else:
            name = features[t.feature[node]]
            plain = FEATURE_LABELS.get(name, (name,))[0]
            cut = t.threshold[node]
            cut = f"{math.floor(cut):,}" if name in WHOLE_NUMBER_FEATURES else f"{cut:,.4g}"  # x <= 2.5 is x <= 2
            label = f"{plain} ≤ {cut}?\n" + head
        rows.append({"node": node, "depth": depth, "is_leaf": leaf, "churn_share": churn,
                     "customer_share": share, "label": label})
        if not leaf:
            visit(t.children_left[node], depth + 1)
            visit(t.children_right[node], depth + 1)

    visit(0, 0)
    return pd.DataFrame(rows)



def plot_churn_tree(tree, features, ax, fontsize: int = 9) -> pd.DataFrame:
    """Draw a fitted churn decision tree for a marketer: :func:`sklearn.tree.plot_tree` with
    the boxes relabelled by :func:`tree_nodes` (question, churn share, share of customers,
    the decision at a leaf), coloured from green (few churn) to red (most churn), and the
    branches marked "yes" / "no". Returns the nodes drawn."""
    from matplotlib import colormaps
    from sklearn.tree import plot_tree

    nodes = tree_nodes(tree, list(features))
    drawn = plot_tree(tree, feature_names=list(features), filled=True, impurity=False, proportion=True, rounded=True,
                      fontsize=fontsize, ax=ax)
    boxes = [a for a in drawn if a.get_bbox_patch() is not None]
    if len(boxes) != len(nodes):
        raise ValueError(f"plot_churn_tree: {len(boxes)} boxes drawn for {len(nodes)} nodes (draw the whole tree)")
    colour = colormaps["RdYlGn_r"]
    for box, (_, node) in zip(boxes, nodes.iterrows()):
        box.set_text(node["label"])
        box.get_bbox_patch().set_facecolor(colour(0.1 + 0.8 * node["churn_share"]))
    for edge in (a for a in drawn if a.get_bbox_patch() is None):
        edge.set_text({"True": "yes", "False": "no"}.get(edge.get_text().strip(), edge.get_text()))
    return nodes

@dataclass
class ChurnResult:
    """What :func:`churn_model` learned and measured.

    ``train_as_of`` / ``test_as_of``: the two snapshot dates (features at the date, outcome
    in the ``horizon_days`` after it); ``metrics``: AUC and top-decile lift on the holdout
    snapshot for each model; ``calibration``: predicted vs observed churn by risk bin on the
    holdout; ``holdout``: one row per holdout customer (churned, p_tree, p_logit);
    ``tree`` / ``logit``: the models refitted on the holdout snapshot (the newest labelled
    data) and used for ``scores`` at ``as_of`` (churn_risk = logistic, churn_risk_tree,
    churn_reasons: from the history and the logistic model's largest contributions);
    ``base_rate``: the share of holdout customers who churned (the average risk);
    ``fitted_share``: the share of the customers the two snapshots were taken of (1: all; a
    fixed sample of a large customer base, see :func:`churn_model`).
    """

    as_of: date
    horizon_days: int
    train_as_of: date
    test_as_of: date
    features: list
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    holdout: pd.DataFrame
    tree: object
    logit: object
    scores: pd.DataFrame
    base_rate: float
    fitted_share: float = 1.0


def _churn_estimators(n: int, seed: int, max_depth: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(20, n // 100), random_state=seed)
    logit = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(),
                          LogisticRegression(C=1.0, max_iter=5000, random_state=seed))
    return tree, logit


FIT_CUSTOMERS = 1_000_000


def churn_model(con, as_of, horizon_days: int = 180, seed: int = 42, max_depth: int = 3,
                rules: LifecycleRules | None = None, frame: pd.DataFrame | None = None,
                fit_customers: int = FIT_CUSTOMERS) -> ChurnResult:
    """A supervised model of "no purchase in the next ``horizon_days`` days".

    Time-based split, no leakage: training features at ``as_of - 2 x horizon`` with the
    outcome in the horizon after it; holdout features at ``as_of - horizon`` with the outcome
    up to ``as_of``. Every feature comes from :func:`customer_360` at its snapshot date (the
    leakage guard raises if any used a later row). Two models: an interpretable decision tree
    (``max_depth`` levels) and a logistic regression on log-transformed, standardized
    features. Measured on the holdout: AUC, top-decile lift and calibration. Both are then
    refitted on the holdout snapshot and score the customers at ``as_of``. ``frame`` reuses the
    :func:`customer_360` result at ``as_of`` (the 360 of ten million customers takes minutes).

    Of a customer master larger than ``fit_customers`` the two snapshots are taken of a fixed
    sample of about that many customers (by the MD5 of the customer number, the same customers
    at both dates): a million customers fit the models and measure them as well as ten million
    would, in a tenth of the memory. Every customer at ``as_of`` is still scored.
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import roc_auc_score

    A = warehouse.resolve_as_of(con, as_of)
    h = int(horizon_days)
    if h < 1:
        raise ValueError(f"horizon_days must be >= 1, got {horizon_days}")
    t0, t1 = A - timedelta(days=2 * h), A - timedelta(days=h)
    feats = list(CHURN_FEATURES)
    if fit_customers < 1:
        raise ValueError(f"fit_customers must be at least 1, got {fit_customers}")
    master = warehouse.sql.one(con, "warehouse.count_rows", table=warehouse.sql.ident("main", "customers"))[0]
    share = min(1.0, fit_customers / max(1, master))

    def snapshot(t):
        X = churn_features(con, t, rules, share=share)
        y = (~_bought(con, X.index, t, h)).astype(int)
        return X, y

    X0, y0 = snapshot(t0)
    X1, y1 = snapshot(t1)
    if len(X0) < 50 or len(set(y0)) < 2 or len(set(y1)) < 2:
        raise NotEnoughData("needs.churn_history", days=2 * h, t0=t0, t1=t1, n0=len(X0), n1=len(X1))
    tree, logit = _churn_estimators(len(X0), seed, max_depth)
    tree.fit(X0[feats], y0)
    logit.fit(X0[feats], y0)
    p_tree, p_logit = tree.predict_proba(X1[feats])[:, 1], logit.predict_proba(X1[feats])[:, 1]
    metrics = pd.DataFrame([
        {"model": name, "auc": roc_auc_score(y1, p), "top_decile_lift": top_decile_lift(y1, p),
         "churn_rate": float(np.mean(y1)), "customers": len(y1)}
        for name, p in (("decision tree", p_tree), ("logistic regression", p_logit))])
    cal = []
    for name, p in (("decision tree", p_tree), ("logistic regression", p_logit)):
        obs, pred = calibration_curve(y1, p, n_bins=10, strategy="quantile")
        cal.append(pd.DataFrame({"model": name, "predicted": pred, "observed": obs}))
    holdout = pd.DataFrame({"churned": y1, "p_tree": p_tree, "p_logit": p_logit}, index=X1.index)

    tree_now, logit_now = _churn_estimators(len(X1), seed, max_depth)
    tree_now.fit(X1[feats], y1)
    logit_now.fit(X1[feats], y1)
    Xa = churn_features(con, A, rules, frame=frame)
    scores = pd.DataFrame({"churn_risk": logit_now.predict_proba(Xa[feats])[:, 1],
                           "churn_risk_tree": tree_now.predict_proba(Xa[feats])[:, 1]}, index=Xa.index)
    scores["churn_reasons"] = churn_reasons(Xa, model_reasons(logit_now, Xa[feats]))
    return ChurnResult(as_of=A, horizon_days=h, train_as_of=t0, test_as_of=t1, features=feats, metrics=metrics,
                       calibration=pd.concat(cal, ignore_index=True), holdout=holdout, tree=tree_now,
                       logit=logit_now, scores=scores.reset_index(), base_rate=float(np.mean(y1)),
                       fitted_share=share)


def valuable_at_risk(model: pd.DataFrame, value: str = "profit", top_value: float = 0.2,
                     base_rate: float | None = None, risk_ratio: float = 1.2) -> pd.DataFrame:
    """The list that matters: valuable customers at high risk, most valuable first.

    Valuable: the top ``top_value`` share of the scored customers by ``value`` (profit to
    date by default: what the customer has been bringing and would take away; CLV already
    discounts for the BG/NBD chance of having left, so it ranks few customers at risk high).
    High risk: ``churn_risk`` at least ``risk_ratio`` x ``base_rate``, the average risk (the
    holdout churn rate, :attr:`ChurnResult.base_rate`; the scored customers' mean risk if
    None) -- a cut relative to the base, as a fixed 0.5 would sit below the average where
    most customers churn. ``churn_reasons`` holds each customer's reasons, the model's among them.
    """
    if not 0 < top_value <= 1:
        raise ValueError(f"top_value is a share between 0 and 1, got {top_value}")
    if risk_ratio < 1:
        raise ValueError(f"risk_ratio must be at least 1 (above the average risk), got {risk_ratio}")
    scored = model.dropna(subset=["churn_risk", value])
    if scored.empty:
        return scored
    base = float(scored["churn_risk"].mean()) if base_rate is None else float(base_rate)
    cut = scored[value].quantile(1 - top_value)
    out = scored[(scored[value] >= cut) & (scored["churn_risk"] >= risk_ratio * base)]
    out = out.sort_values(value, ascending=False)
    out.attrs.update(base_rate=base, risk_cut=risk_ratio * base, value_cut=float(cut), value=value)
    return out


