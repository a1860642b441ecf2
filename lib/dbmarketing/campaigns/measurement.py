"""Campaigns: what a past campaign really did, who responds, who responds *because* of the
contact, and the next target list.

The definitions, in plain sentences:

1. A campaign's selected customers are in ``main.contacts``: the **test** cell was contacted,
   the **control** cell was held out at random and not contacted. Both cells are followed in
   the same way, so the control cell shows what would have happened without the contact.
2. A contact's **response** is any counted purchase (``main.sales``) by the customer -- the
   master customer, so purchases under any of her merged records count -- dated on or after
   the contact date and before the end of the response window (contact date +
   ``response_window_days``): the "matchback" of direct marketing. Revenue and margin in the
   window are those purchases' net amount and margin.
3. **Lift** is the test response rate minus the control rate (absolute) and its ratio to the
   control rate (relative). **Incremental responders** = lift x contacted; incremental revenue
   and margin likewise from the revenue and margin per selected customer in each cell.
   **ROI** = (incremental margin - contact cost) / contact cost (1.5 = each unit spent on
   contacts came back with 1.5 more). The **break-even response rate** is the cost of a
   contact divided by the margin of a responder: below it, even a campaign that got every
   response credited loses money. The **break-even lift** is the cost of a contact divided by
   the margin per *incremental* responder (incremental margin / incremental responders): the
   lift over control the campaign needed to pay for itself, the figure a control group checks.
4. Rates have Wilson 95% intervals; test and control are compared with a two-sided
   two-proportion z-test (pooled variance) and a Newcombe interval for the difference
   (statsmodels). A cell with fewer than ``min_contacts`` customers or ``min_responders``
   responders carries a warning: its rates are too noisy to act on.
5. Features for models and breakdowns are taken **as of the day before the campaign
   started** (:func:`contact_features`): the customer 360 view, RFM scores and segment, value
   tier by profit. Nothing the campaign caused can leak into them.
6. The **response model** learns P(respond | contacted) on a campaign's test cell; an
   **uplift model** learns P(respond | contacted) and P(respond | not contacted) from the
   two cells and scores their difference: the customers who respond *because* of the
   contact (:class:`TwoModelUplift`, one model per cell; :class:`InteractionUplift`, one
   model with treatment interactions, the default). The **Qini curve** measures an uplift ranking on a
   holdout: incremental responders when the top x% are targeted (Radcliffe 2007).

References: N. J. Radcliffe (2007), Using control groups to target on predicted lift,
Direct Marketing Analytics Journal 1, 14-21. R. G. Newcombe (1998), Interval estimation for
the difference between independent proportions, Statistics in Medicine 17, 873-890.
J. L. Fleiss (1981), Statistical methods for rates and proportions, 2nd ed., ch. 3.
V. S. Y. Lo (2002), The true lift model: a novel data mining approach to response modeling
in database marketing, SIGKDD Explorations 4(2), 78-86.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .. import warehouse, messages, privacy
from ..warehouse import NotEnoughData
from ..ingest import BOOLEAN_WORDS

__all__ = [
    "responses", "results", "compare_cells", "contact_features", "gains_table", "response_model",
    "TwoModelUplift", "InteractionUplift", "uplift_model", "qini_curve", "qini_coefficient", "uplift_against_truth",
    "response_profile", "sample_size", "minimum_detectable_lift", "assign_cells", "CHANNEL_CONSENT",
]

# channel -> the consent it needs and the contact point it uses
CHANNEL_CONSENT = {"direct_mail": "consent_mail", "sms": "consent_sms", "email": "consent_email",
                   "outbound_call": "consent_phone"}
CHANNEL_CONTACT = {"direct_mail": "address", "sms": "phone", "email": "email", "outbound_call": "phone"}

# numeric features of the response and uplift models, all known at the snapshot date
MODEL_FEATURES = (
    "age", "tenure_days", "recency_days", "orders", "orders_12m", "revenue_12m", "avg_order_value", "n_categories",
    "returns", "complaints", "complaints_180d", "campaigns_contacted", "campaigns_responded", "share_online",
    "city_tier", "is_female", "r_score", "f_score", "m_score",
)
BREAKDOWNS = ("segment", "value_tier", "main_channel", "city_tier", "city", "lifecycle_stage", "age_band")


def campaign_list(con) -> pd.DataFrame:
    """The campaigns in the database with their cells' sizes, oldest first."""
    return warehouse.sql.run(con, "campaigns.campaign_list").df()


def _campaign_ids(con, campaign_id) -> list[str]:
    known = [r[0] for r in warehouse.sql.run(con, "campaigns.campaign_ids").fetchall()]
    if campaign_id is None or (isinstance(campaign_id, str) and campaign_id.strip().lower() in ("", "all")):
        return known
    wanted = [campaign_id] if isinstance(campaign_id, str) else list(campaign_id)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ValueError(f"unknown campaign {', '.join(map(repr, unknown))}; the database has {', '.join(known)}")
    return wanted


def in_response_window(sale: str = "s", contact: str = "k") -> str:
    """The SQL condition of definition 2: sale ``sale`` (a relation with ``order_date``) falls
    in the response window of contact ``contact`` (with ``contact_date`` and ``window_end``,
    the first day after the window). The one definition of a response: the customer model's
    campaign history uses it too."""
    return warehouse.sql.text("campaigns.in_response_window", sale=sale, contact=contact)


def responses(con, campaign_id=None, as_of=None) -> pd.DataFrame:
    """One row per selected customer of the campaign(s): campaign_id, channel, customer_id,
    source_customer_id, cell, contact_date, window_end (first day after the window),
    ``window_closed`` (the window ended by ``as_of``), responded, and the response_orders,
    response_revenue and response_margin in the window (definition 2 above). Only what was
    known at ``as_of`` (default: the newest purchase) counts: contacts made after it are left
    out, purchases after it are not seen."""
    ids = _campaign_ids(con, campaign_id)
    if not ids:
        raise ValueError("the database holds no campaigns (main.campaigns is empty)")
    A = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
    out = warehouse.sql.run(con, "campaigns.responses", {"ids": ids, "as_of": A},
                            in_response_window=in_response_window("s", "k")).df()
    out.attrs["as_of"] = A
    return out


def closed_campaigns(con, as_of=None) -> list[str]:
    """The campaigns whose every response window had ended by ``as_of``: the ones whose
    results are final, and the only ones models may learn from (a campaign still running
    would teach that its contacts did not respond)."""
    A = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
    rows = warehouse.sql.run(con, "campaigns.closed_campaigns", {"as_of": A}).fetchall()
    return [r[0] for r in rows]


# --------------------------------------------------------------------------------------
# test vs control
# --------------------------------------------------------------------------------------

def compare_cells(test_responders: int, test_n: int, control_responders: int, control_n: int,
                  alpha: float = 0.05) -> dict:
    """Response rates of a test and a control cell compared (definition 4): rates with Wilson
    intervals, absolute lift with a Newcombe interval, relative lift, the pooled two-proportion
    z statistic and its two-sided p-value, and incremental responders = lift x test_n."""
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

    out = {"contacted": int(test_n), "control": int(control_n), "test_responders": int(test_responders),
           "control_responders": int(control_responders)}
    for cell, k, n in (("test", test_responders, test_n), ("control", control_responders, control_n)):
        rate = k / n if n else math.nan
        low, high = proportion_confint(k, n, alpha=alpha, method="wilson") if n else (math.nan, math.nan)
        out.update({f"{cell}_rate": rate, f"{cell}_rate_low": float(low), f"{cell}_rate_high": float(high)})
    lift = out["test_rate"] - out["control_rate"]
    out["lift"] = lift
    if test_n and control_n:
        low, high = confint_proportions_2indep(test_responders, test_n, control_responders, control_n,
                                               method="newcomb", compare="diff", alpha=alpha)
        out["lift_low"], out["lift_high"] = float(low), float(high)
        if 0 < test_responders + control_responders < test_n + control_n:
            z, p = proportions_ztest([test_responders, control_responders], [test_n, control_n])
            out["z"], out["p_value"] = float(z), float(p)
        else:  # nobody (or everybody) responded: no difference to test
            out["z"], out["p_value"] = 0.0, 1.0
    else:
        out.update(lift_low=math.nan, lift_high=math.nan, z=math.nan, p_value=math.nan)
    out["relative_lift"] = lift / out["control_rate"] if out["control_rate"] else math.nan
    out["significant"] = bool(out["p_value"] < alpha) if not math.isnan(out["p_value"]) else False
    out["incremental_responders"] = lift * test_n
    return out


def _cell_results(group: pd.DataFrame, cost_per_contact: float, alpha: float, min_contacts: int,
                  min_responders: int) -> dict:
    t, c = group[group.cell == "test"], group[group.cell == "control"]
    out = compare_cells(int(t.responded.sum()), len(t), int(c.responded.sum()), len(c), alpha)
    rev_t = t.response_revenue.mean() if len(t) else math.nan
    rev_c = c.response_revenue.mean() if len(c) else math.nan
    mar_t = t.response_margin.mean() if len(t) else math.nan
    mar_c = c.response_margin.mean() if len(c) else math.nan
    cost = cost_per_contact * len(t)
    margin_per_responder = t.response_margin[t.responded].mean() if t.responded.any() else math.nan
    out.update({
        "revenue_per_contact": rev_t, "control_revenue_per_customer": rev_c,
        "incremental_revenue": (rev_t - rev_c) * len(t), "incremental_margin": (mar_t - mar_c) * len(t),
        "cost": cost,
        "margin_per_responder": margin_per_responder,
        "break_even_rate": cost_per_contact / margin_per_responder if margin_per_responder else math.nan,
    })
    # the lift at which the margin the contact added pays for it: cost / margin per incremental responder
    inc = out["incremental_responders"]
    per_incremental = out["incremental_margin"] / inc if inc and inc > 0 else math.nan
    out["break_even_lift"] = cost_per_contact / per_incremental if per_incremental and per_incremental > 0 else math.nan
    out["roi"] = (out["incremental_margin"] - cost) / cost if cost else math.nan
    out["warning"] = _small_cells(out, min_contacts, min_responders, "test")
    return out


def _small_cells(cells: dict, min_contacts: int, min_responders: int, name: str) -> str:
    """The warning for a comparison (a :func:`compare_cells` result) whose cells are too small
    to trust: fewer than ``min_contacts`` customers in a cell or ``min_responders`` responders."""
    problems = []
    if cells["contacted"] < min_contacts or cells["control"] < min_contacts:
        problems.append(f"fewer than {min_contacts} customers in a cell ({name} {cells['contacted']}, "
                        f"control {cells['control']})")
    if cells["test_responders"] + cells["control_responders"] < min_responders:
        problems.append(f"fewer than {min_responders} responders")
    return "too small to trust: " + "; ".join(problems) if problems else ""


def results(con, campaign_id=None, by: str | None = None, features: pd.DataFrame | None = None,
            as_of=None, alpha: float = 0.05, min_contacts: int = 100, min_responders: int = 10,
            top_levels: int = 12) -> pd.DataFrame:
    """Results of past campaigns as known at ``as_of`` (default: the newest purchase): one row
    per campaign (``by=None``), or per campaign and level of a customer attribute at contact
    time (``by`` one of :data:`BREAKDOWNS`: RFM ``segment``, ``value_tier``, the customer's
    ``main_channel``, ``city_tier``, ``city``, ``lifecycle_stage``, ``age_band``), biggest
    level first; beyond the ``top_levels`` biggest, levels are folded into "(other)".
    ``campaign_id``: one id, a list, or None / "all". ``features`` reuses a
    :func:`contact_features` result (needed for ``by``; computed when not given). Columns:
    see :func:`compare_cells`, plus revenue, margin, cost, ROI, break-even rate and lift, and
    ``warning`` for cells too small to trust, windows not closed yet, or campaigns without
    any contact by ``as_of``."""
    ids = _campaign_ids(con, campaign_id)
    resp = responses(con, ids, as_of)
    A = resp.attrs["as_of"]
    camp = warehouse.sql.run(con, "campaigns.campaign_costs").df()
    camp = camp.set_index("campaign_id")
    keys = ["campaign_id"]
    if by is not None:
        if by not in BREAKDOWNS:
            raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}, got {by!r}")
        if features is None:
            features = contact_features(con, sorted(set(resp.campaign_id)), as_of=A) if len(resp) else None
        if features is not None:
            resp = resp.merge(features[["campaign_id", "customer_id", by]], on=["campaign_id", "customer_id"], how="left")
        else:
            resp[by] = None
        level = resp[by].astype(object).where(resp[by].notna(), "(unknown)").astype(str)
        biggest = level.value_counts()
        if len(biggest) > top_levels:
            level = level.where(level.isin(biggest.index[:top_levels]), "(other)")
        resp[by] = level
        keys.append(by)
    rows = []
    for key, group in resp.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        cid = key[0]
        info = camp.loc[cid]
        row = dict(zip(keys, key))
        row.update(campaign_name=info.campaign_name, channel=info.channel)
        row.update(_cell_results(group, float(info.cost_per_contact or 0), alpha, min_contacts, min_responders))
        if not group.window_closed.all():
            note = f"response window open until {group.window_end.max().date() - timedelta(days=1)}: not final"
            row["warning"] = f"{note}; {row['warning']}" if row["warning"] else note
        rows.append(row)
    for cid in ids:  # campaigns nobody of which was contacted by as_of
        if cid not in set(resp.campaign_id):
            info = camp.loc[cid]
            rows.append({"campaign_id": cid, "campaign_name": info.campaign_name, "channel": info.channel,
                         "contacted": 0, "control": 0,
                         "warning": f"no contact resolved to a customer by {A}: nothing to measure"})
    out = pd.DataFrame(rows)
    order = {c: i for i, c in enumerate(ids)}
    out["_order"] = out.campaign_id.map(order)
    sort = ["_order"] + ([] if by is None else ["_size"])
    if by is not None:
        out["_size"] = -(out.contacted.fillna(0) + out.control.fillna(0))
    out = out.sort_values(sort, kind="stable", ignore_index=True).drop(columns=[c for c in ("_order", "_size") if c in out])
    out.attrs["as_of"] = A
    return out


# --------------------------------------------------------------------------------------
# who was contacted: features as of the day before the campaign
# --------------------------------------------------------------------------------------

def _age_band(age: pd.Series) -> pd.Series:
    bands = pd.cut(age, [0, 25, 35, 45, 55, 65, 200], right=False,
                   labels=["under 25", "25-34", "35-44", "45-54", "55-64", "65+"])
    return bands.astype(object).where(age.notna(), None)


def snapshot(con, as_of) -> pd.DataFrame:
    """Every customer at ``as_of`` with what a model may know then: the 360 view
    (:func:`dbmarketing.customers.customer_360`, which refuses features dated later), RFM
    scores and segment (:func:`dbmarketing.rfm.compute`), the value tier by profit (MVC, BZ,
    other; MGC needs a CLV model and is left out here), age band and the model features."""
    from .. import customers, rfm

    c = customers.customer_360(con, as_of)
    scores = rfm.compute(con, as_of)  # the purchases as known at as_of (clean.sales_as_of)
    c = c.merge(scores[["customer_id", "r_score", "f_score", "m_score", "segment"]], on="customer_id", how="left")
    c["value_tier"] = customers.value_tiers(c, future_value="(none)")
    c["age_band"] = _age_band(c["age"])
    c["is_female"] = (c["gender"] == "F").astype(float)
    return c


def contact_features(con, campaign_id=None, as_of=None) -> pd.DataFrame:
    """One row per selected customer (both cells) of the campaign(s) with the response
    (:func:`responses`, as known at ``as_of``) and the customer as known the day before the
    campaign started (:func:`snapshot`; definition 5). The column ``snapshot_date`` says which
    day that was. ``campaign_id`` None or "all": the campaigns whose response windows had
    closed by ``as_of`` (:func:`closed_campaigns`), the ones models may learn from."""
    if campaign_id is None or (isinstance(campaign_id, str) and campaign_id.strip().lower() in ("", "all")):
        ids = closed_campaigns(con, as_of)
        if not ids:
            day = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
            raise NotEnoughData(f"no campaign's response window had closed by {day}: nothing to learn from")
    else:
        ids = _campaign_ids(con, campaign_id)
    resp = responses(con, ids, as_of)
    starts = dict(warehouse.sql.run(con, "campaigns.campaign_starts").fetchall())
    parts = []
    for cid in ids:
        mine = resp[resp.campaign_id == cid]
        if mine.empty:
            raise ValueError(f"campaign {cid!r} has no contact resolved to a customer by {resp.attrs['as_of']}")
        first = mine.contact_date.min().date()
        day = (min(starts[cid], first) if starts[cid] is not None else first) - timedelta(days=1)
        snap = snapshot(con, day).drop(columns=["as_of"])
        part = mine.merge(snap, on="customer_id", how="left")
        part["snapshot_date"] = day
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["as_of"] = resp.attrs["as_of"]
    return out


def _subset(features: pd.DataFrame, campaign_id) -> pd.DataFrame:
    """The rows of ``features`` of the given campaign(s) (None or "all": every row)."""
    if campaign_id is None or (isinstance(campaign_id, str) and campaign_id.strip().lower() in ("", "all")):
        return features
    wanted = [campaign_id] if isinstance(campaign_id, str) else list(campaign_id)
    unknown = sorted(set(wanted) - set(features.campaign_id))
    if unknown:
        raise ValueError(f"campaign(s) {', '.join(map(repr, unknown))} not in these features "
                         f"(they hold {', '.join(sorted(set(features.campaign_id)))})")
    return features[features.campaign_id.isin(wanted)]


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


def _classifier(learner: str, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    if learner == "logistic":
        # money and counts are skewed: log1p of the non-negative features, then standardize
        return make_pipeline(FunctionTransformer(lambda X: np.sign(X) * np.log1p(np.abs(X))), StandardScaler(),
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
        raise NotEnoughData(f"response_model: {len(data)} contacted customers with {int(y.sum())} responders are too "
                         "few to learn from (need 100 customers and 10 responders and non-responders)")
    train, hold = _split(data, y, holdout, test_size, seed)
    if y[hold].sum() == 0 or y[train].sum() == 0:
        raise NotEnoughData("response_model: the training part or the holdout has no responder")
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

def _signed_log(X):
    return np.sign(X) * np.log1p(np.abs(X))


class TwoModelUplift:
    """Uplift by two models (the "T-learner"): one classifier learns P(respond | contacted) on
    the test cell, another P(respond | not contacted) on the control cell; a customer's uplift
    is the difference. Assumes the cells were assigned at random (so the control cell shows
    the test cell's behaviour without contact) and that the features were fixed before the
    campaign. Each model sees only its own cell, so a small control cell makes the control
    model, and with it the uplift, noisy. Parameters in ``__init__``, learned state ends in
    ``_`` (scikit-learn style)."""

    def __init__(self, learner: str = "logistic", seed: int = 42):
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
    log-transformed and standardized, ``C`` is the inverse L2 penalty."""

    def __init__(self, C: float = 0.1, seed: int = 42):
        self.C = C
        self.seed = seed

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
        self.model_ = LogisticRegression(C=self.C, max_iter=5000, random_state=self.seed).fit(
            self._design(Z, treated.astype(float)), y)
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
    for cell, mask in (("contacted", treated), ("not contacted", ~treated)):
        if mask.sum() < 30 or y[mask].sum() < 3:
            raise NotEnoughData(f"uplift model: the {cell} cell has {int(mask.sum())} customers and "
                             f"{int(y[mask].sum())} responders: too few to learn from")
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
        raise NotEnoughData("uplift_model: no contacts to learn from")
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


# --------------------------------------------------------------------------------------
# profiles: who answers this kind of offer
# --------------------------------------------------------------------------------------

PROFILE_ATTRIBUTES = ("age_band", "gender", "city_tier", "segment", "value_tier", "lifecycle_stage", "main_channel")


def response_profile(features: pd.DataFrame, campaign_id=None, attributes=PROFILE_ATTRIBUTES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responders against the contacted base (test cell), attribute by attribute.

    Returns (profile, tests). ``profile``: attribute, level, contacted, responders,
    response_rate, share_of_contacted, share_of_responders and ``index`` = share of responders
    / share of contacted x 100 (100 = responds like the base; 150 = half as likely again).
    ``tests``: per attribute a chi-square test of independence of level and response, with
    its p-value and the smallest expected cell count (below 5 the test is unreliable)."""
    from scipy.stats import chi2_contingency

    data = _subset(features, campaign_id)
    data = data[data.cell == "test"]
    total, total_resp = len(data), int(data.responded.sum())
    rows, tests = [], []
    for attr in attributes:
        level = data[attr].astype(object).where(data[attr].notna(), "(unknown)").astype(str)
        g = data.groupby(level).responded.agg(["size", "sum"])
        for lv, (n, k) in g.iterrows():
            share_c, share_r = n / total, (k / total_resp if total_resp else np.nan)
            rows.append({"attribute": attr, "level": lv, "contacted": int(n), "responders": int(k),
                         "response_rate": k / n, "share_of_contacted": share_c, "share_of_responders": share_r,
                         "index": 100 * share_r / share_c if share_c else np.nan})
        table = np.column_stack([g["sum"].to_numpy(), (g["size"] - g["sum"]).to_numpy()])
        table = table[table.sum(axis=1) > 0]
        if table.shape[0] >= 2 and (table.sum(axis=0) > 0).all():
            chi2, p, dof, expected = chi2_contingency(table, correction=False)
            tests.append({"attribute": attr, "chi2": float(chi2), "dof": int(dof), "p_value": float(p),
                          "min_expected": float(expected.min()),
                          "note": "" if expected.min() >= 5 else "expected counts below 5: merge small levels"})
        else:
            tests.append({"attribute": attr, "chi2": np.nan, "dof": 0, "p_value": np.nan, "min_expected": np.nan,
                          "note": "one level only: nothing to test"})
    return pd.DataFrame(rows), pd.DataFrame(tests)


# --------------------------------------------------------------------------------------
# the next campaign: test design
# --------------------------------------------------------------------------------------

def _z(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


def sample_size(base_rate: float, lift: float, power: float = 0.8, alpha: float = 0.05,
                control_share: float = 0.5, relative: bool = False) -> dict:
    """Customers needed to detect ``lift`` over the control ``base_rate`` with a two-sided
    two-proportion z-test at ``alpha`` with ``power`` (Fleiss 1981, without continuity
    correction), when a share ``control_share`` of the selection is held out as control.
    ``lift`` is absolute (0.01 = one percentage point) unless ``relative`` (0.2 = +20%).

    Returns test, control and total customers (rounded up). Example: base 5%, lift +1 point,
    80% power, 5% alpha, half held out: 8,158 per cell."""
    p1 = float(base_rate)
    p2 = p1 * (1 + lift) if relative else p1 + lift
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        raise ValueError(f"sample_size: rates must be between 0 and 1 and differ (control {p1}, test {p2})")
    if not 0 < control_share < 1:
        raise ValueError(f"control_share must be between 0 and 1, got {control_share}")
    k = control_share / (1 - control_share)  # control customers per test customer
    pbar = (p2 + k * p1) / (1 + k)
    za, zb = _z(1 - alpha / 2), _z(power)
    n_test = (za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / k)) + zb * math.sqrt(p2 * (1 - p2) + p1 * (1 - p1) / k)) ** 2
    n_test /= (p2 - p1) ** 2
    n_test = math.ceil(n_test - 1e-9)
    n_control = math.ceil(k * n_test - 1e-9)
    return {"test": n_test, "control": n_control, "total": n_test + n_control, "control_rate": p1, "test_rate": p2}


def power_of_test(base_rate: float, lift: float, n_test: int, n_control: int, alpha: float = 0.05) -> float:
    """The power of the two-sided two-proportion z-test (the normal approximation of
    :func:`sample_size`) to detect an absolute ``lift`` with the given cell sizes."""
    from scipy.stats import norm

    p1, p2 = base_rate, base_rate + lift
    pbar = (n_test * p2 + n_control * p1) / (n_test + n_control)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n_test + 1 / n_control))
    se1 = math.sqrt(p2 * (1 - p2) / n_test + p1 * (1 - p1) / n_control)
    za = _z(1 - alpha / 2)
    return float(norm.cdf((abs(p2 - p1) - za * se0) / se1) + norm.cdf((-abs(p2 - p1) - za * se0) / se1))


def minimum_detectable_lift(base_rate: float, n_test: int, n_control: int, power: float = 0.8,
                            alpha: float = 0.05) -> float:
    """The smallest absolute lift over ``base_rate`` that cells of these sizes detect with
    ``power`` (the inverse of :func:`sample_size`, by bisection on :func:`power_of_test`)."""
    lo, hi = 1e-9, 1 - base_rate - 1e-9
    if power_of_test(base_rate, hi, n_test, n_control, alpha) < power:
        return math.nan
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if power_of_test(base_rate, mid, n_test, n_control, alpha) < power else (lo, mid)
    return hi


def assign_cells(frame: pd.DataFrame, control_share: float, strata: str | None = "segment", seed: int = 42) -> pd.Series:
    """Random test / control assignment, stratified: round(control_share x n) customers go to
    the control cell, shared out over the levels of ``strata`` (e.g. the RFM segment) in
    proportion to their size (each level floor(control_share x its size), the rest to the
    levels with the largest remainders), and drawn at random with ``seed`` within each level,
    so every segment is in both cells in the same proportion and the control cell has its
    full size even when the segments are small. The same frame and seed give the same cells.
    Returns a Series of "test" / "control"."""
    if not 0 < control_share < 1:
        raise ValueError(f"control_share must be between 0 and 1, got {control_share}")
    rng = np.random.default_rng(seed)
    cell = pd.Series("test", index=frame.index, dtype=object)
    keys = frame[strata].astype(object).where(frame[strata].notna(), "(none)") if strata else pd.Series(0, index=frame.index)
    groups = sorted(keys.groupby(keys).groups.items(), key=lambda kv: str(kv[0]))
    exact = np.array([control_share * len(idx) for _, idx in groups])
    take = np.floor(exact).astype(int)
    rest = int(round(control_share * len(frame))) - int(take.sum())
    if rest > 0:
        take[np.argsort(-(exact - take), kind="stable")[:rest]] += 1
    for (_, idx), k in zip(groups, take):
        idx = np.asarray(idx)
        cell.loc[idx[rng.permutation(len(idx))[:k]]] = "control"
    return cell.rename("cell")


# --------------------------------------------------------------------------------------
# the next campaign: who to contact
# --------------------------------------------------------------------------------------

def suppressed(con, channel: str | None = None) -> pd.DataFrame:
    """The master customers not to contact (``main.suppressions``, the do-not-contact list as
    cleaning resolved it): customer_id, reason. With ``channel``, the entries for that channel
    and those for every channel. Empty when no list was loaded."""
    if not warehouse.table_exists(con, "main", "suppressions"):
        return pd.DataFrame({"customer_id": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})
    return warehouse.sql.run(con, "campaigns.suppressed", {"channel": channel}).df()


@dataclass
class TargetPlan:
    """The next campaign's selection (:func:`select_targets`).

    ``targets``: one row per selected customer (customer_id, cell, segment, uplift,
    response_score, expected_profit, ...); the test cell is the contact list, the control
    cell is held out. ``excluded``: customers left out and why, counted (reason, customers),
    in the order the rules apply. ``summary``: the plan in figures."""

    as_of: date
    channel: str
    targets: pd.DataFrame
    excluded: pd.DataFrame
    summary: dict = field(default_factory=dict)


def select_targets(con, as_of, channel: str, model, margin_per_response: float, cost_per_contact: float,
                   budget: float | None = None, capacity: int | None = None, control_share: float = 0.2,
                   customer_type: str | None = "consumer", include_prospects: bool = False, strata: str = "segment",
                   seed: int = 42, alpha: float = 0.05, power: float = 0.8, min_control: int = 100) -> TargetPlan:
    """Choose whom to contact in the next ``channel`` campaign, by expected profit.

    Every customer known at ``as_of`` (of ``customer_type``; None = all) is scored with the
    uplift ``model`` (an :class:`InteractionUplift` or :class:`TwoModelUplift` fitted on past
    campaigns) for this channel: expected profit = uplift x ``margin_per_response`` -
    ``cost_per_contact``. Left out, and counted, in this order: customers without consent
    for the channel, without the contact point it needs (address, phone or e-mail), those
    on the do-not-contact list (:func:`suppressed`), and, unless ``include_prospects``, those
    who never bought (the model learned from past campaigns, which contacted buyers: it has
    nothing to say about prospects, who need an acquisition offer of their own). Of the rest, those with positive
    expected profit are ranked best first and taken while the contacts stay within
    ``capacity`` (e.g. call-center calls) and ``budget`` / ``cost_per_contact``. A share
    ``control_share`` of the selection is held out as a random control cell, stratified by
    ``strata`` (:func:`assign_cells`, seeded), so the campaign can be measured. The summary
    states the smallest lift the cells can detect (:func:`minimum_detectable_lift`), and
    ``warning`` says when the control cell is below ``min_control`` or too small to detect
    the expected lift.
    """
    if channel not in CHANNEL_CONSENT:
        raise ValueError(f"channel must be one of {', '.join(CHANNEL_CONSENT)}, got {channel!r}")
    for name, value in (("margin_per_response", margin_per_response), ("cost_per_contact", cost_per_contact)):
        if value is None or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    A = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
    snap = snapshot(con, A)
    contact = warehouse.sql.run(con, "campaigns.contact_points").df()
    snap = snap.merge(contact, on="customer_id", how="left")
    if customer_type:
        snap = snap[snap.customer_type == customer_type]
    snap = snap.assign(channel=channel)
    snap["uplift"] = model.predict(snap)
    snap["response_score"] = model.predict_response(snap)
    snap["expected_profit"] = snap.uplift * float(margin_per_response) - float(cost_per_contact)

    consent, point = CHANNEL_CONSENT[channel], CHANNEL_CONTACT[channel]
    dnc = suppressed(con, channel)
    rules = [
        (f"no {consent.split('_')[1]} consent", ~snap[consent].fillna(False).astype(bool)),
        (f"no {point} to reach", snap[point].isna()),
        ("on the do-not-contact list", snap.customer_id.isin(dnc.customer_id)),
        ("never bought (prospect)", snap.is_prospect.astype(bool) & (not include_prospects)),
    ]
    left = pd.Series(False, index=snap.index)
    excluded = [("customers scored", len(snap))]
    for reason, mask in rules:
        hit = mask & ~left
        excluded.append((reason, int(hit.sum())))
        left |= hit
    eligible = snap[~left]
    excluded.append(("no expected profit (uplift x margin <= cost)", int((eligible.expected_profit <= 0).sum())))
    ranked = eligible[eligible.expected_profit > 0].sort_values(["expected_profit", "customer_id"],
                                                                ascending=[False, True])
    caps = [int(math.floor(c)) for c in (capacity, None if budget is None or cost_per_contact == 0
                                        else budget / cost_per_contact) if c is not None]
    max_contacts = min(caps) if caps else None
    chosen = ranked if max_contacts is None else ranked.head(int(math.ceil(max_contacts / (1 - control_share))))
    chosen = chosen.copy()
    chosen["cell"] = assign_cells(chosen, control_share, strata=strata, seed=seed) if len(chosen) else []
    if max_contacts is not None:  # stratified rounding can leave a few contacts too many: drop the least profitable
        extra = chosen.index[chosen.cell == "test"][max_contacts:]
        chosen = chosen.drop(index=extra)
    excluded.append(("beyond capacity or budget", len(ranked) - len(chosen)))
    test, ctrl = chosen[chosen.cell == "test"], chosen[chosen.cell == "control"]
    base = float(ctrl.response_score.mean() - ctrl.uplift.mean()) if len(ctrl) else math.nan  # P(respond | no contact)
    summary = {
        "as_of": A, "channel": channel, "selected": len(chosen), "contacts": len(test), "control": len(ctrl),
        "cost": len(test) * cost_per_contact, "expected_incremental_responders": float(test.uplift.sum()),
        "expected_incremental_margin": float(test.uplift.sum() * margin_per_response),
        "expected_profit": float(test.expected_profit.sum()),
        "expected_control_rate": base,
        "minimum_detectable_lift": (minimum_detectable_lift(base, len(test), len(ctrl), power, alpha)
                                    if len(test) and len(ctrl) and 0 < base < 1 else math.nan),
        "expected_lift": float(test.uplift.mean()) if len(test) else math.nan,
    }
    problems = []
    if len(ctrl) < min_control:
        problems.append(f"the control cell holds {len(ctrl)} customers, fewer than {min_control}: the campaign "
                        "cannot be measured reliably; hold out a larger share or select more customers")
    mde = summary["minimum_detectable_lift"]
    if not np.isfinite(mde) or mde > summary["expected_lift"]:
        problems.append("these cells cannot detect the expected lift with the chosen power: hold out more customers")
    summary["warning"] = "; ".join(problems)
    keep = ["customer_id", "cell", "customer_type", "segment", "value_tier", "lifecycle_stage", "city", "city_tier",
            "uplift", "response_score", "expected_profit", consent]
    targets = chosen[keep].reset_index(drop=True)
    return TargetPlan(A, channel, targets, pd.DataFrame(excluded, columns=["reason", "customers"]), summary)


def past_channel_figures(con, channel: str, figures: pd.DataFrame | None = None) -> dict:
    """Margin per responder and cost per contact of the past campaigns of ``channel`` (the
    default assumptions of the next one): test-cell responders' mean window margin, and
    the newest campaign's cost per contact. ``figures`` reuses a :func:`results` table."""
    past = figures if figures is not None else results(con)
    past = past[past.channel == channel]
    if past.empty:
        raise ValueError(f"no past {channel} campaign to take the margin and cost from: give them explicitly")
    cost = warehouse.sql.one(con, "campaigns.newest_cost_per_contact", {"channel": channel})[0]
    weights = past.test_responders.clip(lower=0)
    margin = float((past.margin_per_responder.fillna(0) * weights).sum() / weights.sum()) if weights.sum() else math.nan
    return {"margin_per_response": margin, "cost_per_contact": float(cost), "campaigns": len(past)}


def export_list(con, plan: TargetPlan, path, clearance: int) -> tuple[Path, list[str]]:
    """Write the contact list (the test cell only: the control cell must not be contacted) to
    .csv or .xlsx for the call center or e-mail tool: customer number, the contact details
    the channel needs, name, city, segment and expected profit. Only the columns the reader's
    ``clearance`` allows are written (the catalog decides); the others are left out, not
    masked. Returns (path, the columns left out)."""
    point = CHANNEL_CONTACT[plan.channel]
    people = warehouse.sql.run(con, "campaigns.contact_list_people", point=warehouse.sql.ident(point)).df()
    lst = plan.targets[plan.targets.cell == "test"][["customer_id", "segment", "expected_profit"]]
    lst = lst.merge(people, on="customer_id", how="left")[["customer_id", "name", point, "city", "segment",
                                                            "expected_profit"]]
    visible = privacy.visible_columns(lst.columns, clearance, con=con)
    dropped = [c for c in lst.columns if c not in visible]
    written = privacy.export_frame(lst[visible], path, clearance, con=con)
    return written, dropped


def save_campaign(con, plan: TargetPlan, campaign_id: str, campaign_name: str, start_date, folder,
                  response_window_days: int = 30, cost_per_contact: float | None = None,
                  offer: str | None = None) -> dict:
    """Record the plan as a new campaign: the campaign and its contacts (both cells, contact
    date = ``start_date``) are written as CSV files into ``folder`` and loaded like any other
    source (:func:`dbmarketing.ingest.load_source`: one batch each, fingerprinted, in the load
    history), so the next cleaning run carries them forward and the campaign can be measured
    against its control cell once its response window has passed. They are also added to
    ``main.campaigns`` / ``main.contacts`` at once. A campaign id already in the database is
    refused before anything is written. Returns the two load results and the file paths."""
    from .. import ingest

    if warehouse.sql.one(con, "campaigns.campaign_id_taken", {"campaign_id": campaign_id})[0]:
        raise ValueError(f"campaign {campaign_id!r} is already in the database: choose a new campaign id")
    if plan.targets.empty:
        raise ValueError("the plan selects nobody: nothing to save")
    start = warehouse.resolve_as_of(con, start_date)
    cost = float(cost_per_contact if cost_per_contact is not None else plan.summary["cost"] / max(plan.summary["contacts"], 1))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    camp = pd.DataFrame([{"campaign_id": campaign_id, "campaign_name": campaign_name, "channel": plan.channel,
                          "start_date": start.isoformat(), "end_date": start.isoformat(),
                          "response_window_days": int(response_window_days), "cost_per_contact": cost,
                          "offer": offer or ""}])
    contacts = pd.DataFrame({"campaign_id": campaign_id, "customer_id": plan.targets.customer_id,
                             "cell": plan.targets.cell, "contact_date": start.isoformat()})
    files = {}
    for table, frame in (("campaigns", camp), ("contacts", contacts)):
        path = folder / f"{table}_{campaign_id}.csv"
        tmp = path.with_name(f".{path.name}.partial")
        frame.to_csv(tmp, index=False, encoding="utf-8")
        tmp.replace(path)
        files[table] = path
    loads = {}
    for table in ("campaigns", "contacts"):
        source = ingest.Source(name=f"target list {campaign_id} ({table})", table=table, path=str(files[table]),
                                columns={c.name: c.name for c in warehouse.MODEL[table].columns})
        loads[table] = ingest.load_source(con, source, base_dir=".")
        if loads[table].status != "loaded" or loads[table].rows_rejected:
            raise ValueError(f"saving campaign {campaign_id}: {loads[table].message}")
    con.execute("BEGIN TRANSACTION")
    try:
        warehouse.sql.run(con, "campaigns.save_campaign", {"campaign_id": campaign_id})
        warehouse.sql.run(con, "campaigns.save_contacts", {"campaign_id": campaign_id})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"files": files, "loads": loads}


# --------------------------------------------------------------------------------------
# bring your own campaign: a customer-level export with several arms
# --------------------------------------------------------------------------------------

YES = {word for word, yes in BOOLEAN_WORDS.items() if yes}
NO = {word for word, yes in BOOLEAN_WORDS.items() if not yes}


@dataclass
class CampaignFile:
    """A customer-level campaign export read by :func:`read_campaign_file`: ``frame`` has one
    row per customer (indexed by the file's line), ``arm``, the outcomes (``responded`` and
    the ``also`` columns, 0/1), ``spend`` (0 without a spend column) and the attributes as
    text (numeric attributes with many values in five quantile bands)."""

    path: Path
    control: str
    outcomes: list
    attributes: list
    cost_per_contact: float
    frame: pd.DataFrame


def _yes_no(values: pd.Series, location: str, column: str) -> pd.Series:
    text = values.fillna("").astype(str).str.strip().str.lower()
    bad = ~text.isin(YES | NO)
    if bad.any():
        lines = messages.cut_list([f"line {i} ({values[i]!r})" for i in values.index[bad][:5]], 5,
                                  total=int(bad.sum()))
        raise ValueError(f"{location}, column {column!r}: not a yes/no value at {lines} (use 1/0, yes/no, true/false)")
    return text.isin(YES).astype(int)


def _bands(values: pd.Series, column: str) -> pd.Series:
    """A numeric attribute with more than 12 values in five quantile bands; others as text."""
    number = pd.to_numeric(values, errors="coerce")
    if number.notna().all() and number.nunique() > 12:
        cut = pd.qcut(number, 5, duplicates="drop")
        return cut.map(lambda iv: f"{iv.left:,.6g} - {iv.right:,.6g}").astype(str)
    return values.fillna("(empty)").astype(str)


def read_campaign_file(map_path) -> CampaignFile:
    """Read a customer-level campaign export through its column map (YAML, see
    ``params/campaigns/email_test.yaml``): ``path`` (relative to the current folder),
    ``encoding``, ``sheet``, ``group`` (the arm column), ``control`` (the arm not contacted),
    ``responded`` (the yes/no outcome), ``also`` (more yes/no outcomes), ``spend``,
    ``cost_per_contact`` and ``attributes``. A missing column, an empty arm, a value that is
    not yes/no or a spend that is not a number raises ValueError naming file, line and column."""
    from .. import ingest

    map_path = Path(map_path)
    spec = messages.read_yaml(map_path, ValueError, "column map") or {}
    if not isinstance(spec, dict):
        raise ValueError(f"{map_path}: expected a mapping 'key: value' (path:, group:, control:, responded:, ...)")
    for key in ("path", "group", "control", "responded"):
        if not spec.get(key):
            raise ValueError(f"{map_path}: '{key}:' is missing")
    records = ingest.read_file(spec["path"], encoding=spec.get("encoding") or "auto", sheet=spec.get("sheet"))
    location = str(spec["path"])
    if len(records.bad_shape):
        first = records.bad_shape.iloc[0]
        raise ValueError(f"{location}, line {first.line_no}: {first.reason}")
    raw = records.frame
    also = spec.get("also") or []
    attributes = spec.get("attributes") or []
    outcomes = [spec["responded"], *also]
    wanted = [spec["group"], *outcomes, *([spec["spend"]] if spec.get("spend") else []), *attributes]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise ValueError(f"{location}: column(s) {messages.cut_list(map(repr, missing))} not in the file "
                         f"(it has {messages.cut_list(map(repr, raw.columns))}); fix {map_path}")
    arm = raw[spec["group"]].fillna("").astype(str).str.strip()
    if (arm == "").any():
        raise ValueError(f"{location}, line {arm.index[arm == ''][0]}, column {spec['group']!r}: empty arm")
    control = str(spec["control"])
    if control not in set(arm):
        raise ValueError(f"{location}, column {spec['group']!r}: no customer in the control arm {control!r} "
                         f"(arms found: {messages.cut_list(sorted(set(arm)))})")
    frame = pd.DataFrame({"arm": arm}, index=raw.index)
    for c in outcomes:
        frame[c] = _yes_no(raw[c], location, c)
    if spec.get("spend"):
        text = raw[spec["spend"]].fillna("0").astype(str).str.replace(",", "", regex=False).str.strip()
        spend = pd.to_numeric(text, errors="coerce")
        if spend.isna().any():
            i = spend.index[spend.isna()][0]
            raise ValueError(f"{location}, line {i}, column {spec['spend']!r}: not a number: {raw.at[i, spec['spend']]!r}")
        frame["spend"] = spend
    else:
        frame["spend"] = 0.0
    for c in attributes:
        frame[c] = _bands(raw[c], c)
    return CampaignFile(Path(location), control, outcomes, list(attributes), float(spec.get("cost_per_contact") or 0), frame)


def arm_results(cf: CampaignFile, outcome: str | None = None, by: str | None = None, alpha: float = 0.05,
                min_contacts: int = 100, min_responders: int = 10) -> pd.DataFrame:
    """Each treatment arm of a campaign file against the one control arm: the figures of
    :func:`compare_cells` for ``outcome`` (default the file's response), the p-value adjusted
    for testing several arms (Holm), spend per customer and incremental spend, the cost and
    the return on it (incremental spend - cost) / cost, before the cost of goods. With ``by``
    (an attribute), the same within each level of it, with warnings for small cells."""
    from statsmodels.stats.multitest import multipletests

    outcome = outcome or cf.outcomes[0]
    f = cf.frame
    groups = [(None, f)] if by is None else list(f.groupby(by, sort=True))
    rows = []
    for level, part in groups:
        ctrl = part[part.arm == cf.control]
        for arm, cell in part[part.arm != cf.control].groupby("arm", sort=True):
            row = {} if by is None else {by: level}
            row["arm"] = arm
            row.update(compare_cells(int(cell[outcome].sum()), len(cell), int(ctrl[outcome].sum()), len(ctrl), alpha))
            row["spend_per_customer"] = cell.spend.mean()
            row["control_spend_per_customer"] = ctrl.spend.mean() if len(ctrl) else math.nan
            row["incremental_spend"] = (row["spend_per_customer"] - row["control_spend_per_customer"]) * len(cell)
            row["cost"] = cf.cost_per_contact * len(cell)
            row["return_on_cost"] = ((row["incremental_spend"] - row["cost"]) / row["cost"]) if row["cost"] else math.nan
            row["warning"] = _small_cells(row, min_contacts, min_responders, "arm")
            rows.append(row)
    out = pd.DataFrame(rows)
    keys = [by] if by else []
    if len(out):
        adjusted = []
        for _, g in (out.groupby(keys, sort=False) if keys else [(None, out)]):
            p = g.p_value.fillna(1.0).to_numpy()
            adjusted.append(pd.Series(multipletests(p, alpha=alpha, method="holm")[1], index=g.index))
        out["p_holm"] = pd.concat(adjusted).sort_index()
        out["significant"] = out.p_holm < alpha
    return out.rename(columns={"contacted": "customers", "test_rate": "arm_rate", "test_rate_low": "arm_rate_low",
                               "test_rate_high": "arm_rate_high", "test_responders": "responders"})


def file_profile(cf: CampaignFile, arm: str, outcome: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responders of one arm against everybody in that arm, by attribute (index and
    chi-square test, as :func:`response_profile`)."""
    outcome = outcome or cf.outcomes[0]
    f = cf.frame
    frame = f[f.arm == arm].assign(cell="test", campaign_id=arm, responded=lambda d: d[outcome].astype(bool))
    return response_profile(frame, arm, attributes=cf.attributes)
