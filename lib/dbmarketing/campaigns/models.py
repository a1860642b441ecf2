"""Campaigns: who responds, and who responds *because* of the contact.

The **response model** learns P(respond | contacted) on a campaign's test cell; an **uplift
model** learns P(respond | contacted) and P(respond | not contacted) from the two cells and
scores their difference: the customers who respond *because* of the contact
(:class:`TwoModelUplift`, one model per cell; :class:`InteractionUplift`, one model with
treatment interactions, the default). The **Qini curve** measures an uplift ranking on a
holdout: incremental responders when the top x% are targeted (Radcliffe 2007). The models
learn from :func:`~dbmarketing.campaigns.measurement.contact_features`: the customer as known
the day before each campaign (definition 5 of :mod:`dbmarketing.campaigns.measurement`).

References: N. J. Radcliffe (2007), Using control groups to target on predicted lift,
Direct Marketing Analytics Journal 1, 14-21. V. S. Y. Lo (2002), The true lift model: a novel
data mining approach to response modeling in database marketing, SIGKDD Explorations 4(2), 78-86.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import warehouse
from ..warehouse import NotEnoughData
from ._common import _subset
from .measurement import CHANNEL_CONSENT

# numeric features of the response and uplift models, all known at the snapshot date
MODEL_FEATURES = (
    "age", "tenure_days", "recency_days", "orders", "orders_12m", "revenue_12m", "avg_order_value", "n_categories",
    "returns", "complaints", "complaints_180d", "campaigns_contacted", "campaigns_responded", "share_online",
    "city_tier", "is_female", "r_score", "f_score", "m_score",
)


class _Features:
    """The model matrix: the numeric :data:`MODEL_FEATURES` and one indicator per campaign
    channel (campaigns of several channels can be learned from together, and a customer is
    scored for the channel of the next campaign); missing values filled with what was
    learned at fit time (median age; for recency, the longest tenure: never bought)."""

    def fit(self, frame: pd.DataFrame):
        X = frame[list(MODEL_FEATURES)].astype(float)
        self.fill_ = {"age": float(X["age"].median()) if X["age"].notna().any() else 40.0,
                      "recency_days": float(X["tenure_days"].max()) if X["tenure_days"].notna().any() else 365.0}
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        X = frame[list(MODEL_FEATURES)].astype(float).fillna(self.fill_).fillna(0.0).to_numpy()
        channels = np.column_stack([(frame["channel"] == c).to_numpy(dtype=float) for c in CHANNEL_CONSENT])
        return np.column_stack([X, channels])


def _signed_log(X):
    return np.sign(X) * np.log1p(np.abs(X))


def _unfitted(estimator):
    """A new, unfitted copy of a scikit-learn classifier (``sklearn.base.clone``, the
    convention for an estimator given as a parameter): the one given is never fitted itself."""
    from sklearn.base import clone

    if not hasattr(estimator, "predict_proba"):
        raise TypeError(f"expected a scikit-learn classifier with predict_proba, got {estimator!r}")
    return clone(estimator)


def _classifier(learner, seed: int):
    """A new classifier: ``"logistic"``, ``"gbm"``, or a copy of the scikit-learn classifier
    ``learner`` (:func:`_unfitted`; ``seed`` is for the named ones only)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if not isinstance(learner, str):
        return _unfitted(learner)
    if learner == "logistic":
        # money and counts are skewed: log1p of the non-negative features, then standardize
        return make_pipeline(FunctionTransformer(_signed_log), StandardScaler(),
                             LogisticRegression(C=0.5, max_iter=5000, random_state=seed))
    if learner == "gbm":
        return HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=200, min_samples_leaf=40,
                                              l2_regularization=1.0, random_state=seed)
    raise ValueError(f"learner must be 'logistic' or 'gbm', got {learner!r}")


HOLDOUTS = ("customers", "latest")


def _split(data: pd.DataFrame, strata: np.ndarray, holdout: str, test_size: float, seed: int):
    """Train and holdout row positions. ``holdout="customers"``: about ``test_size`` of the
    customers, stratified by ``strata`` and never split (a customer contacted by several
    campaigns is on one side only); ``"latest"``: out of time, the newest campaign is the
    holdout and the earlier ones train the model."""
    from sklearn.model_selection import StratifiedGroupKFold

    if holdout == "latest":
        starts = data.groupby("campaign_id").contact_date.min().sort_values()
        if len(starts) < 2:
            raise ValueError("holdout='latest' needs two campaigns or more (the newest is the holdout)")
        newest = data.campaign_id.to_numpy() == starts.index[-1]
        return np.flatnonzero(~newest), np.flatnonzero(newest)
    if holdout != "customers":
        raise ValueError(f"holdout must be one of {', '.join(HOLDOUTS)}, got {holdout!r}")
    folds = max(2, int(round(1 / test_size)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    train, hold = next(splitter.split(np.zeros(len(data)), strata, groups=data.customer_id.to_numpy()))
    return train, hold


# --------------------------------------------------------------------------------------
# response model: gains and lift
# --------------------------------------------------------------------------------------

def gains_table(y, score, groups: int = 10) -> pd.DataFrame:
    """The decile gains and lift table of a score: customers sorted by score, best first, cut
    into ``groups`` equal groups (ties in the score go to the same group: a group holds all
    customers of the scores it covers, so groups can differ in size when scores tie).

    Columns: group (1 = best), customers, responders, response_rate, cum_customers,
    cum_share_customers, cum_responders, gain (share of all responders captured so far),
    lift (the group's rate / the overall rate), cum_lift (gain / cum_share_customers)."""
    y = np.asarray(y, dtype=float)
    score = np.asarray(score, dtype=float)
    if len(y) != len(score) or len(y) == 0:
        raise ValueError("gains_table: y and score must be of the same, non-zero length")
    order = np.argsort(-score, kind="stable")
    s, yy = score[order], y[order]
    n = len(y)
    # a tie takes the group of its first member: groups never split equal scores
    first = np.searchsorted(-s, -s, side="left")
    group = np.minimum(first * groups // n, groups - 1) + 1
    frame = pd.DataFrame({"group": group, "y": yy})
    t = frame.groupby("group").agg(customers=("y", "size"), responders=("y", "sum"))
    t = t.reindex(range(1, groups + 1), fill_value=0).astype({"customers": int, "responders": int})
    total = max(y.sum(), 1e-12)
    rate = y.mean()
    t["response_rate"] = (t.responders / t.customers.replace(0, np.nan)).fillna(0.0)
    t["cum_customers"] = t.customers.cumsum()
    t["cum_share_customers"] = t.cum_customers / n
    t["cum_responders"] = t.responders.cumsum()
    t["gain"] = t.cum_responders / total
    t["lift"] = t.response_rate / rate if rate else np.nan
    t["cum_lift"] = t.gain / t.cum_share_customers.replace(0, np.nan)
    return t.reset_index()


@dataclass
class ResponseModel:
    """What :func:`response_model` learned: ``metrics`` (AUC and top-decile lift per learner on
    the holdout), ``gains`` (learner -> :func:`gains_table` on the holdout), ``holdout`` (one
    row per holdout customer: customer_id, responded, a score column per learner) and the
    fitted ``models`` (learner -> (features, classifier)) for :meth:`score`."""

    campaign_ids: list
    metrics: pd.DataFrame
    gains: dict
    holdout: pd.DataFrame
    models: dict

    def score(self, frame: pd.DataFrame, learner: str = "gbm") -> np.ndarray:
        features, model = self.models[learner]
        return model.predict_proba(features.transform(frame))[:, 1]


def response_model(features: pd.DataFrame, campaign_id=None, learners=("logistic", "gbm"), test_size: float = 0.3,
                   seed: int = 42, holdout: str = "customers") -> ResponseModel:
    """"Name scoring": P(respond | contacted) learned on the test cell of past campaign(s)
    from the customer as known the day before each campaign (:func:`contact_features`), and
    measured on a holdout (:func:`_split`: a random third of the customers, or the newest
    campaign out of time). Reports AUC and the gains table per learner."""
    from sklearn.metrics import roc_auc_score

    data = _subset(features, campaign_id)
    data = data[data.cell == "test"]
    y = data.responded.astype(int).to_numpy()
    if len(data) < 100 or y.sum() < 10 or y.sum() > len(y) - 10:
        raise NotEnoughData("needs.response_too_few", contacts=len(data), responders=int(y.sum()))
    train, hold = _split(data, y, holdout, test_size, seed)
    if y[hold].sum() == 0 or y[train].sum() == 0:
        raise NotEnoughData("needs.response_no_responder")
    holdout_rows = pd.DataFrame({"campaign_id": data.campaign_id.to_numpy()[hold],
                                 "customer_id": data.customer_id.to_numpy()[hold], "responded": y[hold]})
    metrics, gains, models = [], {}, {}
    for learner in learners:
        feats = _Features().fit(data.iloc[train])
        model = _classifier(learner, seed).fit(feats.transform(data.iloc[train]), y[train])
        p = model.predict_proba(feats.transform(data.iloc[hold]))[:, 1]
        holdout_rows[f"score_{learner}"] = p
        g = gains_table(y[hold], p)
        gains[learner] = g
        metrics.append({"learner": learner, "auc": float(roc_auc_score(y[hold], p)),
                        "top_decile_lift": float(g.lift.iloc[0]), "gain_top_30": float(g.gain.iloc[2]),
                        "holdout_customers": len(hold), "holdout_responders": int(y[hold].sum())})
        models[learner] = (feats, model)
    metrics = pd.DataFrame(metrics).assign(holdout=holdout)
    return ResponseModel(sorted(set(data.campaign_id)), metrics, gains, holdout_rows, models)


# --------------------------------------------------------------------------------------
# uplift: who responds because of the contact
# --------------------------------------------------------------------------------------

class TwoModelUplift:
    """Uplift by two models (the "T-learner"): one classifier learns P(respond | contacted) on
    the test cell, another P(respond | not contacted) on the control cell; a customer's uplift
    is the difference. Assumes the cells were assigned at random (so the control cell shows
    the test cell's behaviour without contact) and that the features were fixed before the
    campaign. Each model sees only its own cell, so a small control cell makes the control
    model, and with it the uplift, noisy. Parameters in ``__init__``, learned state ends in
    ``_`` (scikit-learn style).

    ``learner``: "logistic" (a logistic regression of the log-transformed, standardized
    features), "gbm" (gradient boosting), or any scikit-learn classifier with
    ``predict_proba``, copied unfitted for each cell (``sklearn.base.clone``; its own
    ``random_state`` applies, ``seed`` is for the named learners)."""

    def __init__(self, learner="logistic", seed: int = 42):
        self.learner = learner
        self.seed = seed

    def fit(self, frame: pd.DataFrame, treated, responded):
        treated, y = _check_cells(treated, responded)
        self.features_ = _Features().fit(frame)
        X = self.features_.transform(frame)
        self.treated_model_ = _classifier(self.learner, self.seed).fit(X[treated], y[treated])
        self.control_model_ = _classifier(self.learner, self.seed).fit(X[~treated], y[~treated])
        return self

    def predict_response(self, frame: pd.DataFrame) -> np.ndarray:
        """P(respond | contacted): the response score of the same customers."""
        return self.treated_model_.predict_proba(self.features_.transform(frame))[:, 1]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Uplift = P(respond | contacted) - P(respond | not contacted)."""
        X = self.features_.transform(frame)
        return self.treated_model_.predict_proba(X)[:, 1] - self.control_model_.predict_proba(X)[:, 1]


class InteractionUplift:
    """Uplift by one logistic regression with treatment interactions (Lo 2002, "the true lift
    model"): logit P(respond) = a + b.x + t (c + d.x), with t = 1 for a contacted customer;
    uplift = P(respond | x, t=1) - P(respond | x, t=0). Both cells estimate the baseline
    b.x together and only the differences d.x come from the contrast between them, which
    suits the small control cells of real campaigns better than :class:`TwoModelUplift`.
    Assumes random cells and features fixed before the campaign; the features are
    log-transformed and standardized, ``C`` is the inverse L2 penalty.

    ``estimator``: another scikit-learn classifier with ``predict_proba`` to fit on the same
    design (features, contact and their products), copied unfitted (``sklearn.base.clone``);
    None, the default, is the logistic regression above (``C``, ``seed``)."""

    def __init__(self, C: float = 0.1, seed: int = 42, estimator=None):
        self.C = C
        self.seed = seed
        self.estimator = estimator

    def _design(self, Z: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.column_stack([Z, t, Z * t[:, None]])

    def fit(self, frame: pd.DataFrame, treated, responded):
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        treated, y = _check_cells(treated, responded)
        self.features_ = _Features().fit(frame)
        X = _signed_log(self.features_.transform(frame))
        self.scaler_ = StandardScaler().fit(X)
        Z = self.scaler_.transform(X)
        model = (LogisticRegression(C=self.C, max_iter=5000, random_state=self.seed) if self.estimator is None
                 else _unfitted(self.estimator))
        self.model_ = model.fit(self._design(Z, treated.astype(float)), y)
        return self

    def _p(self, frame: pd.DataFrame, contacted: float) -> np.ndarray:
        Z = self.scaler_.transform(_signed_log(self.features_.transform(frame)))
        return self.model_.predict_proba(self._design(Z, np.full(len(Z), contacted)))[:, 1]

    def predict_response(self, frame: pd.DataFrame) -> np.ndarray:
        """P(respond | contacted)."""
        return self._p(frame, 1.0)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Uplift = P(respond | contacted) - P(respond | not contacted)."""
        return self._p(frame, 1.0) - self._p(frame, 0.0)


def _check_cells(treated, responded) -> tuple[np.ndarray, np.ndarray]:
    treated = np.asarray(treated, dtype=bool)
    y = np.asarray(responded, dtype=int)
    for cell, mask in (("contacted", treated), ("not_contacted", ~treated)):
        if mask.sum() < 30 or y[mask].sum() < 3:
            raise NotEnoughData(f"needs.uplift_cell_{cell}", customers=int(mask.sum()), responders=int(y[mask].sum()))
    return treated, y


UPLIFT_METHODS = {
    "interaction": lambda seed: InteractionUplift(seed=seed),
    "two-model": lambda seed: TwoModelUplift("logistic", seed),
    "two-model gbm": lambda seed: TwoModelUplift("gbm", seed),
}


def qini_curve(responded, treated, score) -> pd.DataFrame:
    """The Qini curve of an uplift score (Radcliffe 2007, in the form scikit-uplift computes
    it): customers sorted by score, best first; at each distinct score, ``share`` of customers
    targeted and ``incremental`` responders R_t - R_c x N_t / N_c (responders and customers
    counted among those targeted; t = treated, c = control; while no control customer is
    targeted the second term is 0). Ties move together. Starts at (0, 0)."""
    y = np.asarray(responded, dtype=float)
    t = np.asarray(treated, dtype=bool)
    s = np.asarray(score, dtype=float)
    order = np.argsort(-s, kind="stable")
    y, t, s = y[order], t[order], s[order]
    n_t, n_c = np.cumsum(t), np.cumsum(~t)
    r_t, r_c = np.cumsum(y * t), np.cumsum(y * ~t)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # end of each tie group
    ratio = np.divide(n_t[last], n_c[last], out=np.zeros(len(last)), where=n_c[last] > 0)
    inc = r_t[last] - r_c[last] * ratio
    return pd.DataFrame({"share": np.r_[0.0, (last + 1) / len(s)], "targeted": np.r_[0, last + 1],
                         "incremental": np.r_[0.0, inc]})


def qini_coefficient(responded, treated, score) -> dict:
    """The area between a score's Qini curve and the random-targeting diagonal (``area``, in
    incremental responders x share targeted), and that area as a share of the same area for
    the perfect ranking (``qini``: 1 = perfect, 0 = no better than random), as scikit-uplift's
    ``qini_auc_score``: the perfect ranking scores treated responders 1, control responders
    -1 and everybody else 0."""
    y = np.asarray(responded, dtype=float)
    t = np.asarray(treated, dtype=bool)

    def area(sc):
        c = qini_curve(y, t, sc)
        return float(np.trapezoid(c.incremental, c.share) - c.incremental.iloc[-1] / 2)

    perfect = y * t - y * ~t
    a, best = area(score), area(perfect)
    return {"area": a, "perfect_area": best, "qini": a / best if best else math.nan}


@dataclass
class UpliftResult:
    """What :func:`uplift_model` measured on the holdout: ``model`` (fitted on the training
    part), ``holdout`` (customer_id, campaign_id, cell, responded, uplift, response score),
    ``qini`` (one row per ranking: by uplift, by response score, random: area and Qini
    coefficient), ``curves`` (ranking -> :func:`qini_curve`), ``top`` (incremental
    responders per 100 customers contacted when the top 10/20/30/50% are targeted by each
    ranking: the lift over control in points among the contacted of that top part)."""

    campaign_ids: list
    method: str
    model: object
    holdout: pd.DataFrame
    qini: pd.DataFrame
    curves: dict
    top: pd.DataFrame


def uplift_model(features: pd.DataFrame, campaign_id=None, method: str = "interaction", test_size: float = 0.3,
                 seed: int = 42, holdout: str = "customers") -> UpliftResult:
    """Fit an uplift model (``method``: "interaction" = :class:`InteractionUplift`,
    "two-model" = :class:`TwoModelUplift` with logistic regressions, "two-model gbm" with
    gradient boosting) on both cells of past campaign(s) and compare, on a holdout, targeting
    by uplift with targeting by the response score of the same model and with random
    targeting. The holdout is about ``test_size`` of the customers, stratified by cell and
    response and never split between the sides, or, with ``holdout="latest"``, the newest
    campaign (out of time)."""
    if method not in UPLIFT_METHODS:
        raise ValueError(f"method must be one of {', '.join(UPLIFT_METHODS)}, got {method!r}")
    data = _subset(features, campaign_id)
    treated = (data.cell == "test").to_numpy()
    y = data.responded.astype(int).to_numpy()
    strata = treated.astype(int) * 2 + y
    if len(data) == 0:
        raise NotEnoughData("needs.uplift_no_contacts")
    train, hold = _split(data, strata, holdout, test_size, seed)
    model = UPLIFT_METHODS[method](seed).fit(data.iloc[train], treated[train], y[train])
    h = data.iloc[hold]
    held = pd.DataFrame({"campaign_id": h.campaign_id.to_numpy(), "customer_id": h.customer_id.to_numpy(),
                         "source_customer_id": h.source_customer_id.to_numpy(), "cell": h.cell.to_numpy(),
                         "responded": y[hold], "uplift": model.predict(h), "response_score": model.predict_response(h)})
    rng = np.random.default_rng(seed)
    rankings = {"by uplift": held.uplift.to_numpy(), "by response score": held.response_score.to_numpy(),
                "random": rng.random(len(held))}
    t_h, y_h = treated[hold], y[hold]
    qini, curves, top = [], {}, []
    for name, sc in rankings.items():
        q = qini_coefficient(y_h, t_h, sc)
        qini.append({"ranking": name, **q})
        c = qini_curve(y_h, t_h, sc)
        curves[name] = c
        row = {"ranking": name}
        order = np.argsort(-sc, kind="stable")
        for share in (0.1, 0.2, 0.3, 0.5):
            k = int(round(share * len(sc)))
            top_t = t_h[order[:k]]
            inc = float(np.interp(share, c.share, c.incremental))  # incremental responders, scaled to the treated
            row[f"top_{int(share * 100)}%"] = 100 * inc / max(int(top_t.sum()), 1)
        top.append(row)
    return UpliftResult(sorted(set(data.campaign_id)), method, model, held, pd.DataFrame(qini), curves,
                        pd.DataFrame(top))


def uplift_against_truth(con, holdout: pd.DataFrame) -> dict | None:
    """On the sample database: the Spearman rank correlation between the predicted uplift of
    the holdout contacts and their planted true uplift (``truth.campaign_response``), the same
    for the response score (a response model ranks persuadable customers too, when they are
    the likely buyers), and the mean true uplift of the top 30% by predicted uplift against
    all. None for a database without planted truth. Never used to fit."""
    from scipy.stats import spearmanr

    if not warehouse.table_exists(con, "truth", "campaign_response"):
        return None
    truth = warehouse.sql.run(con, "campaigns.true_uplift").df()
    m = holdout.merge(truth, on=["campaign_id", "source_customer_id"], how="inner")
    rho, p = spearmanr(m.uplift, m.true_uplift)
    return {"customers": len(m), "spearman": float(rho), "p_value": float(p),
            "spearman_response_score": float(spearmanr(m.response_score, m.true_uplift)[0]),
            "mean_true_uplift_top_30%": float(m.nlargest(max(int(0.3 * len(m)), 1), "uplift").true_uplift.mean()),
            "mean_true_uplift_top_30%_by_response": float(
                m.nlargest(max(int(0.3 * len(m)), 1), "response_score").true_uplift.mean()),
            "mean_true_uplift_all": float(m.true_uplift.mean())}
