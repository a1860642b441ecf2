"""Chapter 02's words: the en and zh catalogs (words/<lang>/cleaning.yaml) agree, every sentence and
table of the narration renders in both languages, the Chinese holds no English sentence, and
the Chinese notebook is an edition of the English one."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from dbmarketing import cleanse
from dbmarketing.present import words
from dbmarketing.present.narration import cleaning as story
from dbmarketing.reports import editions

ROOT = Path(__file__).resolve().parents[1]
CATALOG = Path(words.__file__).parent
CLEANSE = ROOT / "lib" / "dbmarketing" / "cleanse"

# ASCII words a Chinese reader may meet: abbreviations, tools, names and examples quoted on purpose
ALLOWED = {"RFM", "CLV", "ROI", "AUC", "EM", "ID", "splink", "McDonald", "Beijing", "Zhengzhou", "qq", "con", "gmial",
           "com", "GB", "ISO", "MOD", "CRM", "log"}


@pytest.fixture
def lang():
    """Set the language for one test, back to English after it."""
    yield words.set_lang
    words.set_lang("en")


def english_words(text: str) -> list[str]:
    """ASCII words of 3+ letters outside code: `code spans`, dotted or underscored names
    (main.sales, customers.email, raw_value), paths and placeholders are code, not English."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"[\w/.-]*[._/][\w/.*-]+", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED]


def test_en_and_zh_catalogs_have_the_same_keys_and_placeholders():
    en = yaml.safe_load((CATALOG / "en" / "cleaning.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((CATALOG / "zh" / "cleaning.yaml").read_text(encoding="utf-8"))
    assert set(en) == set(zh) == {"text", "headers", "labels"}
    for part in en:
        assert set(en[part]) == set(zh[part]), (part, set(en[part]) ^ set(zh[part]))
    for key, template in en["text"].items():
        assert words.placeholders(template) == words.placeholders(zh["text"][key]), key
    bad = {k: v for part in zh for k, v in zh[part].items() if english_words(v if part != "labels" else v)}
    assert not bad, bad


def logged_rules() -> set[str]:
    """Every rule name the cleaning run writes to the cleaning log, read from its source."""
    names = set(cleanse.RULES)
    for path in ("records.py", "pipeline.py", "transactions.py"):
        source = (CLEANSE / path).read_text(encoding="utf-8")
        names |= set(re.findall(r'"(?:standardize|identities|transactions)",\s*"([^"]+)"', source))
        loop = re.search(r"for \(rule_name, description\).*?\], derived\)", source, flags=re.S)
        if loop:  # rules written from a list of (name, description) pairs
            names |= set(re.findall(r'\("([^"]+)",', loop[0]))
    return names


def test_every_rule_of_the_cleaning_log_is_in_words():
    names = logged_rules()
    assert {"id upgraded 15->18", "records merged", "order total as one line", "do-not-contact unmatched"} <= names
    missing = sorted(n for n in names if f"cleaning.rule_{story.slug(n)}" not in words.catalog("en")["text"]
                     or f"cleaning.about_{story.slug(n)}" not in words.catalog("en")["text"])
    assert not missing, missing


def test_every_finding_kind_and_action_is_a_label():
    kinds = [getattr(cleanse, n) for n in dir(cleanse) if re.match(r"(ID|PHONE|EMAIL)_[A-Z_]+$", n)
             and isinstance(getattr(cleanse, n), str) and n not in ("ID_CHECK",)]
    kinds += ["unknown province", "not in the city reference table", "recorded birth date differs from the ID number's",
              "recorded gender differs from the ID number's"]
    actions = set(re.findall(r'"(?:standardize|identities|transactions)",\s*[^,]+,\s*[^,]+,\s*[^,]+,\s*"([^"]+)"',
                             "".join((CLEANSE / p).read_text(encoding="utf-8")
                                     for p in ("records.py", "pipeline.py", "transactions.py"))))
    actions |= {"completed", "left out", "dropped from amounts"}
    labels = words.catalog("zh")["labels"]
    missing = sorted(v for v in [*kinds, *actions] if v not in labels)
    assert not missing, missing


def hand_made():
    """Small inputs shaped like what the cleaning run gives the narration."""
    result = SimpleNamespace(run_id=3, as_of="2026-10-31", records=20_600, masters=20_002, merged_records=598, seconds=12.3)
    log = pd.DataFrame([
        ("standardize", "id upgraded 15->18", "customer_records", 2679, "standardized", "x"),
        ("standardize", "phone invalid", "customer_records", 65, "flagged", "x"),
        ("identities", "records merged", "customers", 598, "merged", "x"),
        ("identities", "mapped to master", "service_tickets", 148, "re-keyed", "x"),
        ("transactions", "wholesale size", "orders", 16, "flagged", "x"),
        ("transactions", "a rule added later", "orders", 1, "flagged", "described by the log"),
    ], columns=["step", "rule", "table_name", "rows_affected", "action", "description"])
    findings = pd.DataFrame({"column_name": ["email", "id_number"], "finding": [cleanse.EMAIL_TYPO, cleanse.ID_CHECK_DIGIT],
                             "records": [45, 34]})
    pairs = pd.DataFrame({"match_weight": [2.0, 10.0, 20.0], "match_probability": [0.2, 0.95, 1.0]})
    sure = {"min_probability": 0.01, "threshold": 0.9, "sure": 0.99, "pairs": 600, "below": 2, "just_above": 1,
            "sure_pairs": 597, "highest_below": 0.16, "lowest_above": 0.91}
    near = pd.DataFrame({"pair": [1, 1, 2, 2, 3, 3]})
    scores = pd.DataFrame([
        ("before", "customers", "city", "validity", 0.38, None), ("after", "customers", "city", "validity", 1.0, None),
        ("before", "customers", "email", "completeness", 0.56, None),
        ("after", "customers", "email", "completeness", 0.57, None),
        ("after", "customers", "phone", "validity", 0.97, None),
        ("before", "customers", "*", "timeliness", 0.42, None),
        ("after", "customers", "*", "timeliness", 0.42,
         "records updated within 365 days; median age of the last update 445 days, newest 0 days"),
        ("after", "contacts", "*", "timeliness", 0.88, "newest contact_date 2026-09-17: 44 days before 2026-10-31"),
        ("after", "contacts", "*", "uniqueness", 0.99, "one contact per customer and campaign"),
    ], columns=["stage", "table_name", "column_name", "dimension", "score", "detail"])
    return SimpleNamespace(result=result, log=log, findings=findings, pairs=pairs, sure=sure, near=near, scores=scores,
                           summary=cleanse.scorecard_summary(scores, n=8))


def rendered(data) -> list[str]:
    """Every sentence and every text cell the narration gives for ``data``, in the current language."""
    s = story
    texts = [
        s.analyst_copy("data/crm.duckdb", 2), s.run_summary(data.result), s.no_province_mapping(),
        s.id_upgrade({"legacy_15_digit": 2679, "upgraded_to_18": 2679, "same_number_as_another_record": 141,
                      "merged_into_one_customer": 141}),
        s.findings(data.findings), s.findings(data.findings.head(0)), s.reading_match_weights(),
        s.candidate_pairs(data.pairs, 0.01, 0.9), s.truth_score(None),
        s.truth_score({"predicted_pairs": 598, "true_pairs": 600, "correct_pairs": 598, "precision": 1.0, "recall": 0.997}),
        s.borderline(data.sure, data.near, 0.9),
        s.borderline({**data.sure, "below": 0, "just_above": 0}, data.near, 0.9),
        s.borderline({**data.sure, "below": 0, "just_above": 1}, data.near, 0.9),
        s.improved(data.summary), s.lowest(data.summary), s.threshold_legend(0.9),
        s.scorecard_title(3, "2026-10-31"),
        s.improved(cleanse.ScorecardSummary(data.summary.improved.head(0), data.summary.lowest)),
        s.lowest(cleanse.ScorecardSummary(data.summary.improved, data.summary.lowest.head(0))),
    ]
    keys = [k.split(".", 1)[1] for k in words.catalog(words.lang())["text"] if k.startswith("cleaning.caption_")]
    texts += [s.caption(k, days=365, clearance=2) for k in keys]
    texts += [s.caption(k) for k in ("weights_title", "weights_x", "weights_y", "pairs_title", "pairs_x", "pairs_y",
                                     "rules_title", "rules_x", "rules_y", "recon_lost")]
    weights = pd.DataFrame({"comparison": ["name", "name", "phone", "city"],
                            "level": ["Exact match on name", "Levenshtein distance of name <= 1", "All other comparisons",
                                      "two random records match"], "m_estimated": [True, True, False, True]})
    texts += s.weight_labels(weights)
    known = s.rules(data.log, "standardize") , s.rules(data.log, "identities", table=True, records=20_600, masters=20_002,
                                                        threshold=0.9)
    tx = s.rules(data.log, "transactions", table=True, wholesale_amount=5000.0, wholesale_quantity=20)
    texts += [str(v) for t in known for col in ("rule", "description") for v in t[col]]
    texts += [str(words.label(v)) for t in known for v in t.action]
    texts += [tx.rule[0], tx.description[0], tx.table_name[0]]  # the rule added later keeps its own words, below
    texts += list(s.fields(data.findings).column_name) + [str(words.label(v)) for v in data.findings.finding]
    texts += list(s.id_upgrade_table({k: 1 for k in s.ID_STEPS}).what)
    sessions = pd.DataFrame({"blocked_on": ["phone", "email"], "status": ["trained", "skipped"],
                             "trained": ["name, id_number", ""], "reason": ["", "no pairs: splink found none"]})
    shown = s.sessions(sessions)
    texts += list(shown.blocked_on) + [shown.trained[0], re.split("[:：]", shown.reason[1])[0]]  # a skipped session trained nothing
    recon = pd.DataFrame({"step": list(s.RECONCILIATION_STEPS), "note": ["x"] * 5})
    texts += list(s.reconciliation(recon).step) + list(s.reconciliation(recon).note)
    texts += list(s.money(pd.DataFrame({"what": list(s.MONEY_ROWS)})).what)
    timely = s.timeliness(data.scores)
    texts += list(timely.table_name) + list(timely.detail)
    tiers = pd.DataFrame({"column_name": ["id_number", "consent_sms"], "description": ["x", "x"]})
    texts += list(s.tiers(tiers).description)
    return texts, tx


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_narration_renders(lang, language):
    lang(language)
    texts, tx = rendered(hand_made())
    assert all(isinstance(t, str) and t for t in texts)
    assert tx.rule[1] == "a rule added later" and tx.description[1] == "described by the log"
    if language == "zh":
        found = {t: english_words(t) for t in texts if english_words(t)}
        assert not found, found


def test_the_english_sentences_carry_the_figures(lang):
    lang("en")
    data = hand_made()
    assert "**2** scored between 1% and the threshold 0.9" in story.borderline(data.sure, data.near, 0.9)
    assert "customers.* 42%" in story.lowest(data.summary) and "customers.phone 97%" in story.lowest(data.summary)
    assert "customers.city validity from 38% to 100%" in story.improved(data.summary)
    rules = story.rules(data.log, "identities", records=20_600, masters=20_002)
    assert "records 20,600 → customers 20,002" in rules.description[0]
    assert story.detail("newest contact_date 2026-09-17: 44 days before 2026-10-31") == (
        "newest contact date 2026-09-17: 44 days before 2026-10-31")
    lang("zh")
    assert "customers.city 的有效性从 38% 升至 100%" in story.improved(data.summary)
    assert story.level("phone", "Levenshtein distance of phone <= 1") == "电话：最多相差 1 个字符"


def test_the_chinese_notebook_is_an_edition_of_the_english_one():
    english = ROOT / "notebooks" / "02_data_cleaning.ipynb"
    chinese = ROOT / "notebooks" / "zh" / "02_data_cleaning.ipynb"
    assert editions.differences(english, chinese, "zh") == []
    import nbformat

    prose = "\n".join(c.source for c in nbformat.read(chinese, as_version=4).cells if c.cell_type == "markdown")
    assert not english_words(prose), english_words(prose)
