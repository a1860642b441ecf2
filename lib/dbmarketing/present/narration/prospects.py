"""Chapter 08, finding new customers: the sentences its report prints and the tables as a reader
reads them (the ``prospects.*`` texts of :mod:`dbmarketing.present.words`)."""

from __future__ import annotations

import pandas as pd

from .. import words
from .baskets import readable as _readable


def _t(key: str, **values) -> str:
    return words.text(f"prospects.{key}", **values)


def _n(frame, mask=None) -> int:
    return int(len(frame) if mask is None else mask.sum())


def pool_overview(pool: pd.DataFrame) -> str:
    """How many prospects from each place, and how many list rows were already customers."""
    reg = pool[pool.origin == "registered"]
    lst = pool[pool.origin == "list"]
    as_of = pool.attrs.get("as_of")
    if lst.empty:
        return _t("pool_no_list", registered=len(reg), as_of=as_of)
    already = int(lst.already_customer.astype(bool).sum())
    return _t("pool_overview", registered=len(reg), as_of=as_of, list_rows=len(lst), already=already,
              already_share=already / len(lst), list_new=len(lst) - already, total=len(pool) - already)


def pool_table(pool: pd.DataFrame) -> pd.DataFrame:
    """One row per origin and source (the list's name): rows, already customers, prospects, do not
    contact, consents (counts)."""
    rows = []
    keys = [pool["origin"], pool["list_name"].astype(object).fillna("")]
    for (origin, source), g in pool.groupby(keys, sort=True):
        already = g.already_customer.astype(bool)
        new = g[~already]
        rows.append({"origin": words.label(origin), "source": source, "rows": len(g),
                     "already_customers": int(already.sum()),
                     "prospects": len(new), "do_not_contact": int(new.do_not_contact.fillna(False).astype(bool).sum()),
                     **{c: int(new[c].fillna(False).astype(bool).sum())
                        for c in ("consent_sms", "consent_email", "consent_mail")}})
    return pd.DataFrame(rows)


def matched_table(pool: pd.DataFrame) -> pd.DataFrame:
    """The list rows already customers, by how the cleaning matched them."""
    lst = pool[(pool.origin == "list") & pool.already_customer.astype(bool)]
    counts = lst.matched_by.fillna("(unknown)").value_counts()
    return pd.DataFrame({"matched_by": [words.label(v) for v in counts.index], "rows": counts.to_numpy()})


def labelled(frame: pd.DataFrame, columns=("attribute", "level", "origin", "model")) -> pd.DataFrame:
    """A copy with attribute names as headers and values as labels, for reading."""
    out = frame.copy()
    for c in columns:
        if c in out:
            out[c] = [words.header(v) if c == "attribute" else words.label(v) for v in out[c].astype(object)]
    return out


def best_overview(profile: pd.DataFrame, best: int, customers: int) -> str:
    sig = profile[profile.significant]
    if sig.empty:
        return _t("best_none_significant", best=best, customers=customers)
    top = sig.loc[(sig["index"] - 100).abs().idxmax()]
    return _t("best_overview", best=best, customers=customers, levels=len(profile), significant=len(sig),
              attribute=words.header(top.attribute), level=words.label(top.level), index=top["index"],
              share_best=top.share_best, share_all=top.share_all)


WEAK_AUC = 0.55  # below it a ranking is close to chance (the sentence says so)


def lookalike_overview(look) -> str:
    """What the look-alike learned on and how well it ranks; a warning when its AUC is below :data:`WEAK_AUC`."""
    text = _t("lookalike_overview", train=len(look.train_index), holdout=len(look.holdout), auc=look.auc,
              attributes=_t("separator").join(words.header(a) for a in look.attributes))
    fitted = len(look.train_index) + len(look.holdout)
    if look.rows > fitted:
        text += _t("lookalike_sampled", fitted=fitted, customers=look.rows)
    return text + (_t("lookalike_weak") if look.auc < WEAK_AUC else "")


def acquisition_overview(results: pd.DataFrame, lift: dict) -> str:
    return _t("acquisition_overview", campaigns=", ".join(sorted(results.campaign_id.unique())), test=lift["contacted"],
              control=lift["control"], test_rate=lift["test_rate"], control_rate=lift["control_rate"],
              lift_points=100 * lift["lift"], low=100 * lift["lift_low"], high=100 * lift["lift_high"],
              p=lift["p_value"], incremental=lift["incremental_responders"])


def lift_table(lift: dict) -> pd.DataFrame:
    keys = ("contacted", "test_responders", "test_rate", "control", "control_responders", "control_rate", "lift",
            "lift_low", "lift_high", "p_value")
    return pd.DataFrame([{k: lift[k] for k in keys}]).rename(columns={"contacted": "test_customers",
                                                                      "control": "control_customers"})


def models_overview(models) -> str:
    s = models.summary().set_index("model")
    return _t("models_overview", holdout=len(models.holdout), response_auc=s.loc["response", "auc"],
              lookalike_auc=s.loc["lookalike", "auc"], response_gain=s.loc["response", "gain_top_30"],
              lookalike_gain=s.loc["lookalike", "gain_top_30"])


def rules_overview(rules: pd.DataFrame, support: float) -> str:
    if rules.empty:
        return _t("no_rules")
    top = rules.iloc[0]
    return _t("rules_overview", rules=len(rules), support=support, rate=rules.attrs.get("response_rate", float("nan")),
              antecedent=readable_rules(rules.head(1)).antecedent.iloc[0], confidence=top.response_rate, lift=top.lift)


def readable_rules(rules: pd.DataFrame) -> pd.DataFrame:
    """The rules with their attribute combinations as text (the basket chapter's reading)."""
    return _readable(rules, columns=("antecedent",))


def value_overview(value, as_of) -> str:
    return _t("value_overview", overall=value.overall, measure=_t(f"measure_{value.measure}"),
              customers=value.new_customers, years=value_years(value), as_of=as_of, low=value.table.value.min(),
              high=value.table.value.max(), shrink=value.shrink)


def value_years(value) -> int:
    return int(getattr(value, "years", 0) or 0)


def list_overview(made, channel: str, cost: float) -> str:
    listed = made.listed
    if listed.empty:
        return _t("list_empty", channel=words.label(channel))
    test = listed[listed.cell == "test"]
    return _t("list_overview", listed=len(listed), total=made.prospects,
              channel=words.label(channel), test=len(test), control=len(listed) - len(test),
              conversions=float(test.p_first_purchase.sum()), value=float(test.expected_value.sum()), cost=cost)


def truth_overview(compared: pd.DataFrame) -> str:
    c = compared.set_index("model")
    values = {"prospects": int(c.prospects.iloc[0]), "lookalike_r": c.loc["lookalike", "spearman"],
              "lookalike_recovered": c.loc["lookalike", "recovered"]}
    if "response" in c.index:
        return _t("truth_overview", response_r=c.loc["response", "spearman"],
                  response_recovered=c.loc["response", "recovered"], **values)
    return _t("truth_lookalike_only", **values)


def truth_list(against: dict) -> str:
    if not against["list_rows"]:
        return _t("truth_no_list_rows")
    return _t("truth_list", **against)
