"""Chapter 02, data cleaning: the sentences its report prints, and the tables it shows in the
reader's words. Every word comes from the catalog (``words/<lang>/cleaning.yaml``, keys
``cleaning.*``); the functions here hold the logic (which sentence, which figures)."""

from __future__ import annotations

import re

import pandas as pd

from .. import words

# Dimensions no cleaning rule raises: tasks for the business (collect, confirm, keep exporting).
BUSINESS_DIMENSIONS = ("completeness", "timeliness")


_t = words.of("cleaning")


def slug(name: str) -> str:
    """A rule, table or step name as a catalog key: ``id upgraded 15->18`` -> ``id_upgraded_15_18``."""
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def analyst_copy(db_path, clearance: int) -> str:
    return _t("analyst_copy", db_path=db_path, clearance=clearance)


def run_summary(result) -> str:
    return _t("run_summary", run_id=result.run_id, as_of=result.as_of, records=result.records, masters=result.masters,
              merged=result.merged_records, seconds=result.seconds)


def no_province_mapping() -> str:
    return _t("no_province_mapping")


# --- the cleaning log, in words ------------------------------------------------------------

def rules(log: pd.DataFrame, step: str, table: bool = False, **values) -> pd.DataFrame:
    """The rules of one ``step`` of the cleaning log (``standardize``, ``identities``,
    ``transactions``) as a reader sees them: the rule's name and what it does from the catalog
    (``rule_<slug>``, ``about_<slug>``, filled with ``values``: ``records``, ``masters``,
    ``threshold``, ``wholesale_amount``, ``wholesale_quantity``), the rows it touched and the
    action (a label). A rule the catalog does not know keeps the log's own words. ``table``:
    with the table each rule touched."""
    rows = log[log.step == step]
    out = pd.DataFrame({
        "rule": [words.text_or(f"cleaning.rule_{slug(r)}", r) for r in rows.rule],
        "table_name": [words.table(t) for t in rows.table_name],
        "rows_affected": rows.rows_affected.astype("int64").to_numpy(),
        "action": list(rows.action),
        "description": [words.text_or(f"cleaning.about_{slug(r)}", d, **values)
                        for r, d in zip(rows.rule, rows.description)],
    })
    return out if table else out.drop(columns="table_name")


def fields(df: pd.DataFrame, column: str = "column_name") -> pd.DataFrame:
    """``df`` with the column names held in ``column`` written as their headers (``birth_date`` -> birth date)."""
    return df.assign(**{column: df[column].map(lambda c: words.header(c) if isinstance(c, str) else c)})


# --- section 2: ID numbers and findings -------------------------------------------------------

ID_STEPS = ("legacy_15_digit", "upgraded_to_18", "same_number_as_another_record", "merged_into_one_customer")


def id_upgrade(story: dict) -> str:
    return _t("id_upgrade", legacy=story["legacy_15_digit"], upgraded=story["upgraded_to_18"],
              same=story["same_number_as_another_record"], merged=story["merged_into_one_customer"])


def id_upgrade_table(story: dict) -> pd.DataFrame:
    """The four counts of :func:`dbmarketing.cleanse.id_upgrade_story`, one row each, in words."""
    return pd.DataFrame({"what": [_t(f"id_{k}") for k in ID_STEPS],
                         "records": [int(story[k]) for k in ID_STEPS]})


def findings(findings: pd.DataFrame) -> str:
    if not len(findings):
        return _t("no_findings")
    return _t("findings", records=int(findings.records.sum()), kinds=len(findings))


# --- section 3: identity resolution ------------------------------------------------------------

def reading_match_weights() -> str:
    return _t("reading_match_weights")


def level(comparison: str, level: str) -> str:
    """A comparison level of the match model (splink's words) in the reader's words."""
    field = words.header(comparison)
    if level == "two random records match":
        return _t("level_prior")
    if level.startswith("Exact match"):
        return _t("level_label", field=field, level=_t("level_exact"))
    close = re.match(r"Levenshtein distance of .+ <= (\d+)$", level)
    if close:
        return _t("level_label", field=field, level=_t("level_close", n=int(close[1])))
    if level == "All other comparisons":
        return _t("level_label", field=field, level=_t("level_other"))
    return _t("level_label", field=field, level=level)


def weight_labels(weights: pd.DataFrame) -> list[str]:
    """The bar labels of the match-weights chart: comparison and level, and a mark where m
    was not estimated."""
    return [level(c, lv) + ("" if est else _t("m_not_estimated"))
            for c, lv, est in zip(weights.comparison, weights.level, weights.m_estimated)]


def sessions(sessions: pd.DataFrame) -> pd.DataFrame:
    """:func:`dbmarketing.cleanse.training_sessions` in words: fields as headers, reasons from the catalog."""
    sep = _t("name_separator")

    def trained(names) -> str:
        names = names.split(", ") if isinstance(names, str) else list(names or [])
        return sep.join(words.header(n) for n in names if n)

    def reason(text) -> str:  # splink's own message after the reason stays in the database, for the analyst
        if not isinstance(text, str) or not text:
            return ""
        for prefix, key in (("no pairs", "reason_no_pairs"), ("a level's m fell to 0", "reason_conclusive")):
            if text.startswith(prefix):
                return _t(key)
        return text

    def rule(text) -> str:  # "name and birth_date": the fields a pair agrees on
        return _t("block_and").join(words.header(f) for f in str(text).split(" and "))

    return sessions.assign(blocked_on=sessions.blocked_on.map(rule), trained=sessions.trained.map(trained),
                           reason=sessions.reason.map(reason))


def threshold_legend(threshold: float) -> str:
    return _t("threshold_legend", threshold=threshold)


def candidate_pairs(pairs: pd.DataFrame, min_probability: float, threshold: float) -> str:
    return _t("candidate_pairs", pairs=len(pairs), min_probability=min_probability,
              above=int((pairs.match_probability >= threshold).sum()))


def truth_score(score: dict | None) -> str:
    if score is None:
        return _t("no_truth")
    return _t("truth_score", precision=score["precision"], recall=score["recall"], correct=score["correct_pairs"],
              true=score["true_pairs"], wrong=score["predicted_pairs"] - score["correct_pairs"])


def truth_table(score: dict) -> pd.DataFrame:
    """The grade of the merge (:func:`dbmarketing.cleanse.evaluate_against_truth`) as a one-row table."""
    return pd.DataFrame([{k: score[k] for k in ("predicted_pairs", "true_pairs", "correct_pairs", "precision", "recall")}])


def _pairs(n: int) -> str:
    if n == 0:
        return _t("borderline_no_pair")
    return _t("borderline_one_pair") if n == 1 else _t("borderline_pairs", n=n)


def borderline(sure: dict, near: pd.DataFrame, threshold: float) -> str:
    """The paragraph over the pairs nearest the threshold (:func:`dbmarketing.cleanse.borderline_pairs`
    shows up to half of its rows below the threshold)."""
    below_shown = min(sure["below"], 4)
    above_shown = near.pair.nunique() - below_shown
    text = _t("borderline", pairs=sure["pairs"], below=sure["below"], min_probability=sure["min_probability"],
              threshold=threshold, just_above=sure["just_above"], sure=sure["sure"], sure_pairs=sure["sure_pairs"])
    if sure["below"] + sure["just_above"] == 0:
        return text + " " + _t("borderline_none")
    text += " " + _t("borderline_shown", below_shown=_pairs(below_shown), above_shown=_pairs(above_shown),
                     highest=_t("borderline_highest", p=sure["highest_below"]) if below_shown else "",
                     lowest=_t("borderline_lowest", p=sure["lowest_above"]) if above_shown else "")
    if sure["just_above"] == 0 and sure["below"] < 4:
        text += " " + _t("borderline_few")
    return text


# --- section 5: transactions ---------------------------------------------------------------------

RECONCILIATION_STEPS = {  # the step names of dbmarketing.cleanse.reconciliation -> catalog keys
    "customer records -> customers": "customers",
    "orders -> sales and returns": "orders",
    "order lines": "lines",
    "campaign contacts": "contacts",
    "service tickets": "tickets",
}
MONEY_ROWS = {"customer sales (main.sales)": "money_sales", "anonymous sales (not in customer metrics)": "money_anonymous"}


def reconciliation(recon: pd.DataFrame) -> pd.DataFrame:
    """:func:`dbmarketing.cleanse.reconciliation` with its steps and notes in words."""
    keys = [RECONCILIATION_STEPS.get(s) for s in recon.step]
    recon = recon[[c for c in recon.columns if c != "note"] + ["note"]]  # the long note last: the counts read together
    return recon.assign(step=[_t(f"recon_{k}") if k else s for k, s in zip(keys, recon.step)],
                        note=[_t(f"recon_note_{k}") if k else n for k, n in zip(keys, recon.note)])


def money(flow: pd.DataFrame) -> pd.DataFrame:
    """:func:`dbmarketing.cleanse.money_flow` with its rows named in words."""
    return flow.assign(what=[_t(MONEY_ROWS[w]) if w in MONEY_ROWS else w for w in flow.what])


# --- section 6: the scorecard --------------------------------------------------------------------

_DETAIL_CUSTOMERS = re.compile(r"records updated within (\d+) days; median age of the last update (-?\d+) days, "
                               r"newest (-?\d+) days$")
_DETAIL_NEWEST = re.compile(r"newest (\w+) (\S+): (-?\d+) days before (\S+)$")
_DETAIL_FIXED = {"one contact per customer and campaign": "detail_one_contact",
                 "0 <= unit cost <= price": "detail_unit_cost"}


def detail(text) -> str:
    """What a score measured (``main.quality_scores.detail``, written by
    :func:`dbmarketing.cleanse.quality_scorecard`) in the reader's words; unknown forms as stored."""
    if not isinstance(text, str) or not text:
        return ""
    if text in _DETAIL_FIXED:
        return _t(_DETAIL_FIXED[text])
    if m := _DETAIL_CUSTOMERS.match(text):
        return _t("detail_customers", days=int(m[1]), median=int(m[2]), newest=int(m[3]))
    if m := _DETAIL_NEWEST.match(text):
        return _t("detail_newest", column=words.header(m[1]), day=m[2], age=int(m[3]), as_of=m[4])
    return text


def timeliness(scores: pd.DataFrame) -> pd.DataFrame:
    """The timeliness scores after cleaning, table by table, with what was measured."""
    timely = scores[(scores.dimension == "timeliness") & (scores.stage == "after")]
    return pd.DataFrame({"table_name": [words.table(t) for t in timely.table_name], "score": timely.score.to_numpy(),
                         "detail": [detail(d) for d in timely.detail]})


def trend(trend: pd.DataFrame) -> pd.DataFrame:
    """:func:`dbmarketing.cleanse.quality_trend` with the average score as a share (shown as a percentage)."""
    return trend.assign(average_score=trend.average_score / 100)


def scorecard_title(run_id, as_of) -> str:
    return _t("scorecard_title", run_id=run_id, as_of=as_of)


def _meaning_key(table: str, dimension: str) -> str:
    key = f"meaning_{dimension}_{table}"
    return key if words.has(f"cleaning.{key}") else f"meaning_{dimension}"


def meaning(table: str, dimension: str) -> str:
    """What a low score of ``dimension`` in ``table`` means (the catalog's ``meaning_*``)."""
    return _t(_meaning_key(table, dimension))


def improved(summary) -> str:
    if not len(summary.improved):
        return _t("no_improvement")
    raised = _t("list_separator").join(
        _t("improved_item", field=r.field, dimension=words.label(r.dimension), before=r.before, after=r.after)
        for r in summary.improved.head(4).itertuples())
    return _t("improved", raised=raised)


def lowest(summary) -> str:
    low = summary.lowest
    if not len(low):
        return _t("all_perfect")
    lines = []
    keys = pd.Series([_meaning_key(f.split(".")[0], d) for f, d in zip(low.field, low.dimension)], index=low.index)
    for key, group in low.groupby(keys, sort=False):  # cells that mean the same, together
        cells = _t("name_separator").join(_t("lowest_cell", field=r.field, score=r.after) for r in group.itertuples())
        details = _t("list_separator").join(detail(d) for d in group.detail if d)
        lines.append(_t("lowest_line", dimension=words.label(group.dimension.iloc[0]), cells=cells,
                        details=_t("lowest_details", details=details) if details else "", meaning=_t(key)))
    business = int(low.dimension.isin(BUSINESS_DIMENSIONS).sum())
    if business == len(low):
        text = _t("lowest_all_business", n=len(low))
    else:
        text = _t("lowest_some_business", business=business, n=len(low), other=len(low) - business)
    return _t("lowest_title") + "\n\n" + "\n".join(lines) + "\n\n" + text


# --- section 7: privacy tiers ---------------------------------------------------------------------

def tiers(tiers: pd.DataFrame) -> pd.DataFrame:
    """:func:`dbmarketing.privacy.column_tiers` of ``main.customers`` with each column described
    in words (the catalog's ``column_<name>``; a column it does not know keeps the database's description)."""
    return tiers.assign(description=[words.text_or(f"cleaning.column_{c}", d)
                                     for c, d in zip(tiers.column_name, tiers.description)])


def caption(key: str, **values) -> str:
    """A caption, chart title or axis label of the chapter (``cleaning.<key>``)."""
    return _t(key, **values)
