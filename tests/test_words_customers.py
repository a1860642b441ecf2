"""Chapter 03's words: the customers catalog in both languages, the sentences of
present.narration.customers, and the Chinese edition of the notebook."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from dbmarketing import customers
from dbmarketing.present import words
from dbmarketing.present.narration import customers as story
from dbmarketing.reports import editions

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "lib/dbmarketing/present/words"
EN_NB = ROOT / "notebooks/03_customer_model.ipynb"
ZH_NB = ROOT / "notebooks/zh/03_customer_model.ipynb"
# names and established abbreviations a Chinese text may hold in Latin letters (as tests/test_words.py on main
# has them: one rule for every chapter)
ALLOWED = {"RFM", "CLV", "ROI", "AUC", "CSV", "XLSX", "SMS", "ID", "KPI", "BG", "NBD", "VIP", "CRM", "ERP", "SQL",
           "HTML", "MVC", "MGC", "BZ", "NTILE", "qcut", "Excel", "DuckDB", "GBK", "UTF", "UTC", "YAML", "README",
           "Champions", "pts"}
ENGLISH_WORD = re.compile(r"(?<![\w./`{-])[A-Za-z]{3,}(?![\w./`}-])")


def english_words(text: str) -> list[str]:
    """English words of 3+ letters in ``text``, outside `code`, {placeholders}, names with a dot or
    an underscore, hyphenated names (Gamma-Gamma, k-means) and the :data:`ALLOWED` names."""
    text = re.sub(r"`[^`]*`|\{[^}]*\}|<[^>]*>|https?://\S+|\b\w+(?:_\w+)+\b|\b\w+\.\w+\b", " ", text)
    return [w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED]


@pytest.fixture
def lang():
    """Run a test in a language; English again afterwards."""
    def use(name):
        words.set_lang(name)
    yield use
    words.set_lang("en")


def test_both_catalogs_hold_the_same_keys_and_placeholders():
    en = yaml.safe_load((FOLDER / "en/customers.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((FOLDER / "zh/customers.yaml").read_text(encoding="utf-8"))
    for part in ("text", "headers", "labels"):
        assert set(en[part]) == set(zh[part]), part
    for key, template in en["text"].items():
        assert words.placeholders(template) == words.placeholders(zh["text"][key]), key
    for part in ("text", "headers", "labels"):  # zh says it in Chinese
        for key, value in zh[part].items():
            assert not english_words(value), (part, key, value)


def test_feature_words_are_the_models_own():
    """The English reasons the churn model writes are read back by the catalog's phrases."""
    words.set_lang("en")
    for name, (plain, high, low) in customers.FEATURE_LABELS.items():
        assert (story.feature(name), words.text(f"customers.f_{name}_high"), words.text(f"customers.f_{name}_low")) \
            == (plain, high, low)


def _c360():
    return pd.DataFrame({
        "customer_id": ["C1", "C2", "D1", "P1", "C3"],
        "customer_type": ["consumer", "consumer", "distributor", "consumer", "consumer"],
        "is_prospect": [False, False, False, True, False],
        "lifecycle_stage": ["active", "lapsed", "new", "prospect", "at risk"],
        "profit": [100.0, 50.0, 150.0, 0.0, 80.0],
        "clv": [20.0, 1.0, 40.0, 0.0, 10.0],
        "complaints_180d": [1, 0, 0, 0, 0], "recency_days": [200, 400, 10, np.nan, 190],
        "mean_gap_days": [30.0, 20.0, 5.0, np.nan, 190.0], "purchase_days": [5, 3, 2, 0, 1],
        "unresolved_complaints": [1, 0, 0, 0, 0], "orders_12m": [1, 0, 2, 0, 1], "orders": [5, 3, 2, 0, 1],
        "returns": [2, 0, 0, 0, 0],
    })


def _recovery():
    rows = []
    for t, n in (("consumer", 900), ("distributor", 40)):
        for p, err, drawn in (("r", 0.04, None), ("alpha", 0.1, None), ("a", 0.05, None), ("b", -0.02, None),
                              ("p", -0.2, -0.01 if t == "consumer" else 0.5), ("q", 0.02, 0.01),
                              ("gamma", 0.3, 0.02 if t == "consumer" else -0.8), ("mean spend p*gamma/(q-1)", 0.06, 0.01)):
            rows.append({"customer_type": t, "parameter": p, "planted": 1.0, "fitted": 1.0 + err, "relative_error": err,
                         "drawn_fit": np.nan if drawn is None else 1 + drawn,
                         "drawn_error": np.nan if drawn is None else drawn, "repeat_buyers": n})
    return pd.DataFrame(rows)


def _renderings():
    """Every narration function of the chapter, on small hand-made figures."""
    c = _c360()
    risky = c.iloc[[0, 2]].copy()
    risky.attrs = {"value_cut": 40.0, "risk_cut": 0.36, "base_rate": 0.3}
    empty = risky.iloc[:0].copy()
    empty.attrs = risky.attrs
    reasons = customers.churn_reasons(c, pd.Series(["model's main drivers: long-standing customer, has complained",
                                                    "model: nothing raises the risk above average", "", "", ""],
                                                   index=c.index))
    churn = type("Churn", (), {"train_as_of": "2025-11-05", "test_as_of": "2026-05-04", "horizon_days": 180,
                               "base_rate": 0.62})()
    leaves = pd.DataFrame({"churn_share": [0.17, 0.91]})
    counts = story.type_counts(c)
    view = pd.DataFrame({"field": ["source_systems", "customer_type", "consent_sms", "share_online", "gender", "category_mix",
                                   "segment_name", "churn_reasons", "groups", "lifecycle_stage"],
                         "value": ["crm,pos", "consumer", "True", "0.58", "F", "A 98%, B 2%, 5 more under 1%",
                                   "Frequent high-spending buyers (2)", reasons.iloc[0], "high value, SMS consent",
                                   "at risk"]})
    return {
        "model_stored": story.model_stored("2026-10-31", c, ["2026-09-30", "2026-10-31"]),
        "columns_by_tier": " ".join(story.columns_by_tier({1: ["as_of", "city"], 2: ["clv"]}).privacy_tier),
        "customers_by_type": story.customers_by_type(len(c), **{k: f"{v:,}" for k, v in counts.items()}),
        "active_buyers": story.active_buyers("3", 365, 0.6),
        "stage_title": story.stage_title("2026-10-31"),
        "pareto_peak": story.reading_pareto({"top20_share": 0.64, "peak_share": 1.01, "peak_customer_share": 0.99}, "profit"),
        "pareto_flat": story.reading_pareto({"top20_share": 0.6, "peak_share": 1.0, "peak_customer_share": 1.0}, "revenue"),
        "holdout": story.holdout("2026-01-31", 39, {"predicted_total": 10751.2, "actual_total": 10094.0,
                                                    "total_error": 0.065, "mae": 0.059}),
        "clv_check": story.clv_check(_recovery()),
        "recovery_caption": story.recovery_caption("distributor"),
        "clv_axis": story.clv_axis("margin") + story.clv_axis("revenue (no product costs: margin unknown)"),
        "clv_hist_title": story.clv_hist_title(12, 169, 1364.2),
        "churn_snapshots": story.churn_snapshots(churn),
        "tree_title": story.tree_title(180, "2026-05-04"),
        "reading_tree": story.reading_tree(leaves),
        "at_risk": story.at_risk(risky, c, "profit", count="2", at_stake="60.00"),
        "at_risk_none": story.at_risk(empty, c, "revenue"),
        "reasons": " | ".join(story.reasons(r) for r in reasons),
        "segment_label": story.segment_label("Lapsing one-off low-spending newcomer buyers"),
        "left_out": story.left_out_of_segments(["returns", "complaints"]),
        "silhouette_title": story.silhouette_title(3),
        "view": " ".join(story.view_part(view).astype(str).to_numpy().ravel()),
        "view_title": story.view_title("Registration and consents"),
        "no_customer": story.no_customer("C9"),
    }


def test_every_sentence_renders_in_both_languages(lang):
    lang("en")
    en = _renderings()
    assert en["customers_by_type"].startswith("The model holds **5** customers: **3** consumers and **1** distributors")
    assert "**2** valuable customers" in en["at_risk"] and "250 of profit so far (65.8% of all)" in en["at_risk"]
    assert en["at_risk"].endswith("**60.00** together.")
    lang("zh")
    zh = _renderings()
    for key, text in zh.items():
        assert text and text != en[key], key
        assert not english_words(text), (key, english_words(text), text)
    assert "**60.00**" in zh["at_risk"] and "**2**" in zh["at_risk"]  # the headline figures as written


def test_stored_english_values_read_back_unchanged_in_english(lang):
    """Segment names and churn reasons are stored in English; the English edition shows them as
    stored, the Chinese one word by word."""
    lang("en")
    c = _c360()
    for reason in customers.churn_reasons(c):
        assert story.reasons(reason) == reason
    for name in ("Lapsing one-off low-spending buyers", "Frequent high-spending often-returning complaining buyers",
                 "Recent one-off low-spending newcomer buyers", "Average buyers (2)",
                 "Frequent trouble-free buyers"):
        assert story.segment_label(name) == name
    lang("zh")
    assert story.segment_label("Average buyers (2)") == "一般客户（2）"


def test_the_tree_reads_as_the_model_draws_it(lang):
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"recency_days": rng.integers(0, 400, 200), "share_online": rng.random(200)})
    y = (X.recency_days + 100 * X.share_online > 250).astype(int)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    nodes = customers.tree_nodes(tree, list(X.columns))
    lang("en")
    assert story.tree_labels(nodes, tree, list(X.columns)) == list(nodes.label)
    lang("zh")
    assert all(not english_words(label) for label in story.tree_labels(nodes, tree, list(X.columns)))


def test_the_chinese_edition_is_faithful_and_names_its_sections(lang):
    assert editions.differences(EN_NB, ZH_NB, "zh") == []
    for code, path in (("en", EN_NB), ("zh", ZH_NB)):
        lang(code)
        headings = {line.lstrip("#").strip() for cell in nbformat.read(path, as_version=4).cells
                    if cell.cell_type == "markdown" for line in cell.source.splitlines() if line.startswith("#")}
        for key in ("section_lifecycle", "section_at_risk"):  # headline() names its section by these
            assert words.text(f"customers.{key}") in headings, (code, key)
    # the report's prose: the course cells (left out of reports) hold bilingual key terms and named methods
    prose = " ".join(c.source for c in nbformat.read(ZH_NB, as_version=4).cells
                     if c.cell_type == "markdown" and "course" not in c.metadata.get("tags", []))
    assert not english_words(prose)


def test_the_360_views_segment_is_named_the_behaviour_segment_not_the_rfm_one(lang):
    """The 360 view's segment is the k-means behaviour segment; a table labels every text cell,
    and "segment" as a cell reads as the campaign chapters' RFM segment."""
    part = pd.DataFrame({"field": ["segment", "segment_name"], "value": ["4", "Frequent trouble-free buyers"]})
    for language, name in (("en", "behaviour segment"), ("zh", "行为细分")):
        lang(language)
        fields = [str(words.label(f)) for f in story.view_part(part)["field"]]  # as show_table labels the cells
        assert fields[0] == name and "RFM" not in fields[0]
