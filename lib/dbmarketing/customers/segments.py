"""Segments: k-means on behaviour, and the marketing groups (overlapping lists)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..present.words import Phrase
from ..warehouse import NotEnoughData
from .c360 import LifecycleRules, customer_360


SEGMENT_FEATURES = ("recency_days", "orders", "revenue", "avg_order_value", "tenure_days", "n_categories",
                    "returns", "complaints")


@dataclass
class SegmentResult:
    """``k`` chosen (or given), ``silhouette`` (k -> silhouette score on a seeded sample),
    ``labels`` (customer_id, segment number, segment name), ``profile`` (each segment's mean
    of every feature used as an index against the whole base, 100 = average, plus its size),
    ``left_out`` (features that do not differ between buyers, e.g. returns when none were loaded)."""

    k: int
    silhouette: pd.DataFrame
    labels: pd.DataFrame
    profile: pd.DataFrame
    model: object
    left_out: list = field(default_factory=list)  # features every buyer shares, not used


def _segment_name(row) -> str:
    row = row.reindex(SEGMENT_FEATURES)  # a feature left out is unknown (NaN): no word for it
    words = []
    if row["recency_days"] < 60:
        words.append("recent")
    elif row["recency_days"] > 140:
        words.append("lapsing")
    if row["orders"] > 130:
        words.append("frequent")
    elif row["orders"] < 70:
        words.append("one-off")
    if row["revenue"] > 130:
        words.append("high-spending")
    elif row["revenue"] < 60:
        words.append("low-spending")
    if row["tenure_days"] < 60:
        words.append("newcomer")
    returns, complaints = row["returns"], row["complaints"]
    if returns > 200:
        words.append("often-returning")
    if complaints > 200:
        words.append("complaining")
    if row["orders"] > 100 and returns < 20 and complaints < 20:  # unknown (NaN) is not trouble-free
        words.append("trouble-free")
    name = " ".join(words) or "average"
    return name[0].upper() + name[1:] + " buyers"


def segment(con, as_of, k: int | None = None, seed: int = 42, k_range=range(3, 9),
            sample_size: int = 3000, rules: LifecycleRules | None = None, frame: pd.DataFrame | None = None) -> SegmentResult:
    """k-means segments of the buyers at ``as_of`` on log-transformed, standardized
    behaviour features (:data:`SEGMENT_FEATURES`). Without ``k``, k is the value in ``k_range``
    with the best silhouette (computed on a seeded sample of ``sample_size`` customers).
    Same data and seed give the same segments. ``frame`` reuses a :func:`customer_360` result."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    c = frame if frame is not None else customer_360(con, as_of, rules=rules)
    c = c[~c["is_prospect"].astype(bool)].set_index("customer_id")
    raw = c[list(SEGMENT_FEATURES)].astype(float).clip(lower=0).fillna(0)
    # a feature every buyer shares (no returns or tickets loaded, one category) tells nobody apart
    raw = raw.loc[:, raw.nunique() > 1]
    if raw.shape[1] < 2:
        raise NotEnoughData("needs.segments_features", n=raw.shape[1])
    Z = StandardScaler().fit_transform(np.log1p(raw))
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(Z), size=min(sample_size, len(Z)), replace=False)
    ks = [k] if k is not None else [kk for kk in k_range if 2 <= kk < len(idx)]
    if not ks or len(Z) < 20:
        raise NotEnoughData("needs.segments_buyers", n=len(Z))
    sil = []
    for kk in ks:  # k is chosen on the seeded sample; the chosen k is then fitted on every buyer
        km = KMeans(n_clusters=kk, n_init=4, random_state=seed).fit(Z[idx])
        sil.append({"k": kk, "silhouette": float(silhouette_score(Z[idx], km.labels_))})
    sil = pd.DataFrame(sil)
    best = int(sil.loc[sil["silhouette"].idxmax(), "k"])
    km = KMeans(n_clusters=best, n_init=4, random_state=seed).fit(Z)
    # number segments by size, largest first, so the numbering is stable
    order = pd.Series(km.labels_).value_counts().index.tolist()
    relabel = {old: new for new, old in enumerate(order)}
    lab = np.array([relabel[v] for v in km.labels_])
    means = raw.groupby(lab).mean()
    profile = (100 * means / raw.mean().replace(0, np.nan)).fillna(100).round(0)  # a feature all zero: 100
    names = profile.apply(_segment_name, axis=1)
    seen: dict = {}
    for s, n in names.items():
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[s] = f"{n} ({seen[n]})"
    profile.insert(0, "customers", pd.Series(lab).value_counts().sort_index())
    profile.insert(0, "segment_name", names)  # not "name": the catalog masks a column called name
    profile.index.name = "segment"
    labels = pd.DataFrame({"customer_id": c.index, "segment": lab, "segment_name": names.reindex(lab).to_numpy()})
    left_out = [f for f in SEGMENT_FEATURES if f not in raw.columns]
    return SegmentResult(k=best, silhouette=sil, labels=labels, profile=profile, model=km, left_out=left_out)


MARKETING_GROUPS = {
    "high value": lambda m: m["value_tier"] == "MVC",
    "growable": lambda m: m["value_tier"] == "MGC",
    "below zero": lambda m: m["value_tier"] == "BZ",
    "complained recently": lambda m: m["complaints_180d"] > 0,
    "win-back (lapsed)": lambda m: m["lifecycle_stage"] == "lapsed",
    "new customer": lambda m: m["lifecycle_stage"] == "new",
    "distributor": lambda m: m["customer_type"] == "distributor",
    "e-mail consent": lambda m: m["consent_email"].fillna(False).astype(bool),
    "SMS consent": lambda m: m["consent_sms"].fillna(False).astype(bool),
    "mail consent": lambda m: m["consent_mail"].fillna(False).astype(bool),
    "valuable at risk": lambda m: m.get("valuable_at_risk", pd.Series(False, index=m.index)).fillna(False).astype(bool),
}


def unknown_groups(model: pd.DataFrame, value: str = "profit", tickets: bool = True, churn: bool = True) -> dict[str, Phrase]:
    """The marketing groups the data cannot fill, with the reason: an empty group must mean
    nobody is in it, not that nobody could be known to be. ``value``: what value tiers rank by
    (no BZ tier without profit); ``tickets``: whether service tickets were loaded; ``churn``:
    whether the churn model was fitted. The reasons are :class:`Phrase` (worded when read)."""
    out = {}
    if value != "profit":
        out["below zero"] = Phrase("needs.group_no_profit")
    if not tickets:
        out["complained recently"] = Phrase("needs.group_no_tickets")
    for group, column in (("e-mail consent", "consent_email"), ("SMS consent", "consent_sms"),
                          ("mail consent", "consent_mail")):
        if model[column].isna().all():
            out[group] = Phrase("needs.group_no_consent", {"column": column})
    if not churn:
        out["valuable at risk"] = Phrase("needs.group_no_churn")
    return out


def marketing_groups(model: pd.DataFrame, groups: dict | None = None) -> pd.DataFrame:
    """Membership of every customer in the marketing groups (a customer can be in several):
    one boolean column per group, and ``groups`` (the names joined by ", ")."""
    groups = groups or MARKETING_GROUPS
    out = pd.DataFrame({name: rule(model).astype(bool).to_numpy() for name, rule in groups.items()}, index=model.index)
    names = np.array(list(groups))
    out["groups"] = [", ".join(names[row]) for row in out[list(groups)].to_numpy()]
    return out


