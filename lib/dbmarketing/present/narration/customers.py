"""Chapter 03, the customer model: the sentences, titles and labels its report prints.

Every word comes from the catalog (``words/<lang>/customers.yaml``, keys ``customers.*``);
the functions here hold the logic (which figure, which case) and the language does the rest.
Values the model stores in English (segment names, churn reasons, the 360 view's fields) stay
English in the database, so other chapters and next month's run read them the same way;
:func:`segment_label`, :func:`reasons` and :func:`view_part` put them in the reader's words.
"""

from __future__ import annotations

import re

import pandas as pd

from .. import words


_t = words.of("customers")


# ---------------------------------------------------------------- the model and its columns

def model_stored(as_of, c360: pd.DataFrame, stored_dates) -> str:
    buyers = int((~c360.is_prospect).sum())
    return _t("model_stored", as_of=as_of, customers=len(c360), buyers=buyers,
              prospects=int(c360.is_prospect.sum()), dates=_t("list_sep").join(str(d) for d in stored_dates))


def columns_by_tier(names_by_tier, width: int = 110) -> pd.DataFrame:
    """The columns of ``main.customer_model`` by privacy tier (``tier -> column names``), each by
    its header in the reader's words, in lines of about ``width`` characters (a Chinese character
    counts two); the tier said in words on its first line only."""
    rows = []
    sep = _t("list_sep")
    for tier, names in names_by_tier.items():
        lines, line = [], ""
        for name in names:
            said = words.header(name)
            if line and _display_width(line + sep + said) > width:
                lines.append(line + sep.rstrip())
                line = said
            else:
                line = line + sep + said if line else said
        lines.append(line)
        for i, text in enumerate(lines):
            rows.append({"privacy_tier": _t("tier_row", tier=int(tier), meaning=_t(f"tier_{int(tier)}"),
                                            columns=len(names)) if i == 0 else "",
                         "column_names": text})
    return pd.DataFrame(rows, columns=["privacy_tier", "column_names"])


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# ---------------------------------------------------------------- section 1: types and lifecycle

def type_counts(c360: pd.DataFrame) -> dict[str, int]:
    """Buyers by customer type and the prospects (who never bought): the three add up to all."""
    buyer = ~c360.is_prospect.astype(bool)
    return {"consumers": int((buyer & (c360.customer_type == "consumer")).sum()),
            "distributors": int((buyer & (c360.customer_type == "distributor")).sum()),
            "prospects": int((~buyer).sum())}


def customers_by_type(total: int, consumers: str, distributors: str, prospects: str) -> str:
    """The base by type; the three figures as :func:`dbmarketing.present.headline` wrote them."""
    return _t("by_type", total=total, consumers=consumers, distributors=distributors, prospects=prospects)


def active_buyer_count(c360: pd.DataFrame) -> int:
    """Buyers who bought within ``active_days``: every buyer who is not lapsed."""
    return int((~c360.is_prospect.astype(bool) & (c360.lifecycle_stage != "lapsed")).sum())


def active_buyers(written: str, active_days: int, share: float) -> str:
    return _t("active_buyers", active=written, days=active_days, share=share)


def stage_title(as_of) -> str:
    return _t("stage_chart_title", as_of=as_of)


# ---------------------------------------------------------------- section 2: profit

def value_word(value: str) -> str:
    """``profit`` or ``revenue`` (what the tiers rank by) in words."""
    return _t(f"value_{value}")


def reading_pareto(attrs: dict, value: str) -> str:
    below_zero = attrs["peak_share"] > 1 + 1e-9  # customers below zero pull the curve back down to 100%
    word = value_word(value)
    text = _t("pareto_top20", share=attrs["top20_share"], value=word)
    if below_zero:
        return text + " " + _t("pareto_peak", peak=attrs["peak_share"], after=attrs["peak_customer_share"])
    return text + " " + _t("pareto_flat")


# ---------------------------------------------------------------- section 3: CLV

def holdout(calibration_end, holdout_weeks: int, attrs: dict) -> str:
    return _t("holdout", end=calibration_end, weeks=holdout_weeks, predicted=attrs["predicted_total"],
              actual=attrs["actual_total"], error=attrs["total_error"], mae=attrs["mae"])


def clv_check(recovery: pd.DataFrame, close: float = 0.10) -> str:
    """The reading of :func:`dbmarketing.customers.clv_recovery` in words: per customer type, how close the purchase
    model and the mean spend came, and where Gamma-Gamma's p and gamma are off, whether the cause
    is in the data (a refit on the drawn order values comes within ``close``) or in what the data
    can tell (even the drawn values miss)."""
    parts = [_t("clv_check_intro")]
    for t, g in recovery.groupby("customer_type", sort=True):
        e = g.set_index("parameter")
        purchase = e.loc[[p for p in ("r", "alpha", "a", "b") if p in e.index], "relative_error"].abs().max()
        spend = e.filter(like="mean spend", axis=0)
        text = _t("clv_check_purchase", type=words.header(t), error=purchase)
        if not spend.empty:
            text += _t("clv_check_spend", error=abs(spend.relative_error.iloc[0]))
        pg = e.loc[[p for p in ("p", "gamma") if p in e.index]]
        if not pg.empty:
            off = _t("list_sep").join(f"{words.label(p)} {v:+.0%}" for p, v in pg.relative_error.items())
            text += _t("clv_check_pg", off=off)
            drawn = e.loc[[p for p in ("p", "q", "gamma") if p in e.index], "drawn_error"]
            n = int(pg.repeat_buyers.iloc[0]) if pd.notna(pg.repeat_buyers.iloc[0]) else None
            if drawn.notna().all() and drawn.abs().max() <= close:
                text += _t("clv_check_drawn_close", error=drawn.abs().max())
            elif drawn.notna().all():
                worst = drawn.abs().idxmax()
                text += _t("clv_check_drawn_off", parameter=words.label(worst), error=drawn[worst],
                           buyers=_t("clv_check_buyers", buyers=n) if n else "")
        parts.append(text + _t("full_stop"))
    parts.append(_t("clv_check_pooled"))
    return "\n\n".join(parts)


def recovery_caption(customer_type: str) -> str:
    return _t("recovery_caption", type=words.header(customer_type))


def clv_axis(basis: str) -> str:
    """The CLV histogram's x label: CLV in margin, or in revenue where no costs are known."""
    return _t("clv_axis_margin" if basis == "margin" else "clv_axis_revenue")


def clv_hist_title(months: int, above: int, cut: float) -> str:
    return _t("clv_hist_title", months=months, above=above, cut=cut)


# ---------------------------------------------------------------- section 4: churn

def churn_snapshots(churn) -> str:
    return _t("churn_snapshots", train=churn.train_as_of, test=churn.test_as_of, horizon=churn.horizon_days,
              rate=churn.base_rate)


def feature(name: str) -> str:
    """A behaviour feature in words (``recency_days`` -> "days since the last purchase")."""
    try:
        return _t(f"f_{name}")
    except words.WordsError:
        return words.header(name)


def tree_labels(nodes: pd.DataFrame, tree, features) -> list[str]:
    """The boxes of the churn tree (:func:`dbmarketing.customers.tree_nodes`, in its order)
    in words: the question, the churn share and the share of customers; a leaf its decision."""
    from ...customers import WHOLE_NUMBER_FEATURES
    import math

    t = tree.tree_
    out = []
    for _, node in nodes.iterrows():
        figures = dict(churn=node["churn_share"], share=node["customer_share"])
        if node["is_leaf"]:
            decision = _t("tree_churns" if node["churn_share"] >= 0.5 else "tree_stays")
            out.append(_t("tree_leaf", decision=decision, **figures))
        else:
            name = list(features)[t.feature[node["node"]]]
            cut = t.threshold[node["node"]]
            cut = f"{math.floor(cut):,}" if name in WHOLE_NUMBER_FEATURES else f"{cut:,.4g}"
            out.append(_t("tree_question", feature=feature(name), cut=cut) + "\n" + _t("tree_node", **figures))
    return out


def word_tree(ax, nodes: pd.DataFrame, tree, features) -> None:
    """Put the churn tree drawn by :func:`dbmarketing.customers.plot_churn_tree` on ``ax`` in the
    reader's words: its boxes (:func:`tree_labels`) and the yes / no of its branches."""
    drawn = [a for a in ax.texts]
    boxes = [a for a in drawn if a.get_bbox_patch() is not None]
    if len(boxes) != len(nodes):
        raise ValueError(f"word_tree: {len(boxes)} boxes on the axes for {len(nodes)} nodes")
    for box, label in zip(boxes, tree_labels(nodes, tree, features)):
        box.set_text(label)
    for edge in (a for a in drawn if a.get_bbox_patch() is None):
        edge.set_text(words.label(edge.get_text().strip()))


def tree_title(horizon_days: int, refitted) -> str:
    return _t("tree_title", horizon=horizon_days, date=refitted)


def reading_tree(leaves: pd.DataFrame) -> str:
    return _t("reading_tree", low=leaves.churn_share.min(), high=leaves.churn_share.max())


_FEATURE_WORDS: dict | None = None


def _feature_words() -> dict:
    """English high / low feature phrases (as the model writes its reasons) -> catalog key."""
    global _FEATURE_WORDS
    if _FEATURE_WORDS is None:
        from ...customers import FEATURE_LABELS

        _FEATURE_WORDS = {}
        for name, (_, high, low) in FEATURE_LABELS.items():
            _FEATURE_WORDS[high] = f"f_{name}_high"
            _FEATURE_WORDS[low] = f"f_{name}_low"
    return _FEATURE_WORDS


_REASONS = [
    (re.compile(r"complained in the last 180 days \((\d+)\)"), "reason_complained", ("n",)),
    (re.compile(r"unresolved complaint"), "reason_unresolved", ()),
    (re.compile(r"fading recency: (\d+) days since last purchase, usual gap (\d+)"), "reason_fading", ("days", "gap")),
    (re.compile(r"bought once, (\d+) days ago"), "reason_once", ("days",)),
    (re.compile(r"no purchase in 12 months"), "reason_no_12m", ()),
    (re.compile(r"returned goods \((\d+)\)"), "reason_returned", ("n",)),
    (re.compile(r"model: nothing raises the risk above average"), "reason_model_none", ()),
    (re.compile(r"general pattern \(no single reason\)"), "reason_general", ()),
]


def _reason(part: str) -> str:
    if part.startswith("model's main drivers: "):
        drivers = part[len("model's main drivers: "):].split(", ")
        known = _feature_words()
        said = [_t(known[d]) if d in known else d for d in drivers]
        return _t("reason_model", drivers=_t("list_sep").join(said))
    for pattern, key, names in _REASONS:
        m = pattern.fullmatch(part)
        if m:
            return _t(key, **{n: int(v) for n, v in zip(names, m.groups())})
    return part


def reasons(text) -> str:
    """Churn reasons as :func:`dbmarketing.customers.churn_reasons` stores them ("; "-separated,
    in English) in the reader's words; a reason of unknown form is shown as it is."""
    if not isinstance(text, str) or not text:
        return text
    return _t("reason_sep").join(_reason(p) for p in text.split("; "))


def at_risk(risky: pd.DataFrame, c360: pd.DataFrame, value: str, count: str | None = None,
            at_stake: str | None = None) -> str:
    """The valuable customers at high risk: how many, the cuts, what they brought so far and, with
    ``at_stake``, their summed 12-month CLV (what the company stands to lose). ``count`` and
    ``at_stake``: the figures as :func:`dbmarketing.present.headline` wrote them."""
    at = risky.attrs
    text = _t("at_risk", count=count if count is not None else f"{len(risky):,}", value=value_word(value),
              value_cut=at["value_cut"], risk_cut=at["risk_cut"], base_rate=at["base_rate"])
    if not len(risky):
        return text + _t("full_stop")
    brought = risky[value].sum()
    text += _t("at_risk_brought", brought=brought, value=value_word(value), share=brought / c360[value].sum())
    if at_stake is not None:
        text += " " + _t("at_risk_stake", stake=at_stake)
    return text


def at_risk_value(risky: pd.DataFrame) -> float:
    """What the valuable customers at high risk stand for: their summed 12-month CLV."""
    return float(risky["clv"].fillna(0).sum()) if "clv" in risky else 0.0


# ---------------------------------------------------------------- section 5: segments

_SEGMENT = re.compile(r"^(?P<words>.*?) buyers(?: \((?P<n>\d+)\))?$")


def segment_label(name):
    """A segment name as :mod:`dbmarketing.customers.segments` stores it ("Lapsing one-off
    low-spending buyers", "Average buyers (2)") in the reader's words, word by word."""
    if not isinstance(name, str):
        return name
    m = _SEGMENT.match(name)
    if not m:
        return words.label(name)
    said = [words.text_or("customers.seg_" + w.lower().replace("-", "_"), w)
            for w in m["words"].split()]
    out = _t("segment_name", words=_t("seg_join").join(said))
    out = out[0].upper() + out[1:]  # a name starts with a capital, whichever word comes first
    return out + (_t("segment_number", n=int(m["n"])) if m["n"] else "")


def left_out_of_segments(left_out) -> str:
    return _t("left_out", features=_t("list_sep").join(feature(f) for f in left_out))


def silhouette_title(k: int) -> str:
    return _t("silhouette_title", k=k)


# ---------------------------------------------------------------- section 7: one customer

_VIEW_TITLES = {"Who": "view_who", "Registration and consents": "view_registration", "Purchases": "view_purchases",
                "Value today": "view_value", "Future and risk": "view_future",
                "Service, campaigns and segment": "view_service", "Other": "view_other"}


def view_title(title: str) -> str:
    return _t(_VIEW_TITLES[title]) if title in _VIEW_TITLES else title


def view_part(part: pd.DataFrame) -> pd.DataFrame:
    """A part of the 360 view (field / value, as :func:`dbmarketing.customers.view_sections`
    gives it) in the reader's words: the fields by their headers, yes / no, stages, tiers,
    segment names, reasons and groups in words."""
    out = part.copy()
    fields = list(out["field"])
    values = []
    for f, v in zip(fields, out["value"]):
        if v in ("True", "False"):
            v = words.label("yes" if v == "True" else "no")
        elif f in _VIEW_SHARES and _is_number(v):
            v = f"{100 * float(v.replace(',', '')):.0f}%"
        elif f == "source_systems" and isinstance(v, str) and v:
            v = _t("list_sep").join(words.text_or(f"customers.source_{s}", str(words.label(s)))
                                    for s in v.split(","))
        elif f == "gender" and v in ("F", "M"):
            v = _t(f"gender_{v}")
        elif f == "category_mix" and isinstance(v, str):
            v = _MORE_UNDER.sub(lambda m: _t("view_more_under", n=int(m[1])), v)
            v = _t("list_sep").join(_CATEGORY_SHARE.sub(lambda m: f"{words.label(m[1])} {m[2]}", item)
                                    for item in v.split(", "))
        elif f == "segment_name":
            v = segment_label(v)
        elif f == "churn_reasons":
            v = reasons(v)
        elif f == "groups" and isinstance(v, str) and v:
            v = _t("list_sep").join(str(words.label(g)) for g in v.split(", "))
        else:
            v = words.label(v)
        values.append(v)
    out["value"] = values
    # the 360's segment is the k-means behaviour segment: not the header "segment", which a
    # table's labels read as the RFM segment of the campaign chapters
    out["field"] = [words.header("behaviour_segment" if f == "segment" else f) for f in fields]
    return out


_VIEW_SHARES = {"share_store", "share_online", "share_phone", "share_distributor", "main_category_share", "p_alive",
                "churn_risk"}
_CATEGORY_SHARE = re.compile(r"^(.+) (\d+%)$")  # one category of the mix: "unknown 100%"
_MORE_UNDER = re.compile(r"(\d+) more under 1%")


def _is_number(v) -> bool:
    try:
        float(str(v).replace(",", ""))
        return True
    except ValueError:
        return False


def no_customer(customer_id: str) -> str:
    return _t("no_customer", customer_id=customer_id)


def unknown_groups(unknown: dict) -> str:
    """The marketing groups the data cannot fill (:func:`dbmarketing.customers.unknown_groups`),
    each with its reason, in one sentence."""
    parts = words.text("needs.group_separator").join(
        words.text("needs.group_reason", group=words.label(group), reason=why) for group, why in unknown.items())
    return words.text("needs.groups_unknown", groups=parts)
