"""Chapter 05's words: the catalogs of both languages agree, every sentence renders in both, the
Chinese ones hold no English word, and the Chinese edition of the notebook is faithful."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from dbmarketing.campaigns import measurement, selection
from dbmarketing.present import words
from dbmarketing.present.narration import campaigns as story
from dbmarketing.reports import editions

ROOT = Path(__file__).resolve().parents[1]
FILES = {lang: Path(words.__file__).parent / lang / "campaigns.yaml" for lang in words.LANGS}
# words a Chinese reader may meet in Latin letters: names, abbreviations, units
ALLOWED = {"RFM", "ROI", "AUC", "Qini", "Holm", "CMP"}


@pytest.fixture
def lang():
    """Set the language for one test and put English back afterwards."""
    yield words.set_lang
    words.set_lang("en")


def english_words(text: str) -> list[str]:
    """Latin words of 3+ letters outside `code` spans, not in :data:`ALLOWED`."""
    prose = re.sub(r"`[^`]*`", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{3,}", prose) if w not in ALLOWED]


def test_both_catalogs_have_the_same_keys_and_placeholders():
    en, zh = (yaml.safe_load(FILES[lang].read_text(encoding="utf-8")) for lang in ("en", "zh"))
    assert set(en) == set(zh) == {"text", "headers", "labels"}
    for part in en:
        assert set(en[part]) == set(zh[part]), (part, set(en[part]) ^ set(zh[part]))
    for key, template in en["text"].items():
        assert words.placeholders(template) == words.placeholders(zh["text"][key]), key


def test_the_chinese_catalog_holds_no_english_word():
    zh = yaml.safe_load(FILES["zh"].read_text(encoding="utf-8"))
    texts = {f"text {k}": v for k, v in zh["text"].items()}
    texts.update({f"header {k}": v for k, v in zh["headers"].items()})
    texts.update({f"label {k}": v for k, v in zh["labels"].items()})
    found = {where: english_words(re.sub(r"\{[^}]*\}", " ", v)) for where, v in texts.items()}
    assert not {k: v for k, v in found.items() if v}


def sentences() -> dict[str, str]:
    """Every sentence of the chapter's narration on a small hand-made input, in the current language."""
    results = pd.DataFrame({
        "campaign_id": ["CMP1", "CMP2", "CMP3"], "campaign_name": ["春季短信", "秋季直邮", "冬季电话"],
        "channel": ["sms", "direct_mail", "outbound_call"], "significant": [True, False, None],
        "warning": ["", "", ""], "incremental_responders": [12.0, 30.4, None],
        "incremental_margin": [1234.5, 50746.41, None], "cost": [10.0, 326.94, None]})
    measured = results.iloc[:2]
    gains = pd.DataFrame({"gain": [0.25, 0.39, 0.51], "cum_lift": [2.5, 1.95, 1.7]})
    qini = pd.DataFrame({"ranking": ["by uplift", "by response score", "random"], "qini": [0.11, 0.14, 0.03]})
    truth = {"spearman": 0.43, "spearman_response_score": 0.47, "mean_true_uplift_top_30%": 0.087,
             "mean_true_uplift_top_30%_by_response": 0.085, "mean_true_uplift_all": 0.061}
    plan = {"selected": 10714, "contacts": 8571, "control": 2143, "expected_incremental_responders": 376.2,
            "expected_incremental_margin": 60473.29, "cost": 514.26, "expected_profit": 59959.03,
            "minimum_detectable_lift": 0.015, "expected_lift": 0.044,
            "warning": selection.words.text("campaigns.warning_undetectable")}
    cf = SimpleNamespace(path=Path("data/raw/email_test.csv"), control="No E-Mail",
                         frame=pd.DataFrame({"arm": ["Mens E-Mail", "No E-Mail", "Womens E-Mail", "No E-Mail"]}))
    return {
        "nothing_closed": story.nothing_closed("2026-10-31"),
        "reading_results": story.reading_results(results, measured, ["CMP1", "CMP2"], "2026-10-31"),
        "reading_results, no control": story.reading_results(
            results, measured.assign(incremental_margin=None), ["CMP1", "CMP2"], "2026-10-31"),
        "last_campaign": story.last_campaign(measured.iloc[-1], "50,420.47"),
        "reading_gains": story.reading_gains(gains, "logistic"),
        "reading_uplift": story.reading_uplift(qini, truth, 0.13),
        "reading_uplift, no truth": story.reading_uplift(qini, None, 0.13),
        "no_uplift_to_rank": story.no_uplift_to_rank(),
        "test_design": story.test_design("sms", {"control_rate": 0.05, "margin_per_response": 161.02,
                                                 "cost_per_contact": 0.06},
                                         {"test": 20695, "control": 5174, "total": 25869}, 0.01, 0.8, 0.05, 0.2),
        "plan_summary": story.plan_summary(plan),
        "lists_written": story.lists_written("exports", ["targets_sms.csv"], 8571, ["name", "phone"], 2),
        "lists_written, all": story.lists_written("exports", ["targets_sms.csv"], 8571, [], 3),
        "not_recorded": story.not_recorded(),
        "recorded": story.recorded("CMP7", "2026-11-07", 10714),
        "no_campaign_file": story.no_campaign_file(),
        "campaign_file": story.campaign_file(cf),
        "reading_arms": story.reading_arms(SimpleNamespace(arm="Mens E-Mail", lift=0.06, p_holm=1.8e-68), "visit"),
        "warning, small cells": measurement._small_cells(
            {"contacted": 65, "control": 13, "test_responders": 5, "control_responders": 1}, 100, 10, "test"),
    }


def test_every_sentence_renders_in_both_languages_and_the_chinese_ones_in_chinese(lang):
    english = sentences()
    assert "an extra margin of 50,746.41, for contacts that cost 326.94" in english["reading_results"]  # money as money
    assert "**50,420.47**" in english["last_campaign"]
    assert english["warning, small cells"] == ("too small to trust: fewer than 100 customers in a cell (test 65, "
                                               "control 13); fewer than 10 responders")
    lang("zh")
    chinese = sentences()
    assert set(chinese) == set(english)
    for name, text in chinese.items():
        assert text and text != english[name], name
        assert not english_words(text), (name, english_words(text), text)
    assert "**50,420.47**" in chinese["last_campaign"]  # the headline as recorded, whatever the language
    assert "50,746.41" in chinese["reading_results"] and "326.94" in chinese["reading_results"]


def test_readable_writes_segment_names_in_the_readers_language(lang):
    frame = pd.DataFrame({"segment": ["Champions", "At risk", "(unknown)"]})
    profile = pd.DataFrame({"attribute": ["segment", "gender"], "level": ["Champions", "F"]})
    assert list(story.readable(frame).segment) == ["Champions", "At risk", "(unknown)"]
    lang("zh")
    assert list(story.readable(frame).segment) == ["重要价值客户", "流失风险客户", "(unknown)"]
    assert list(story.readable(profile).level) == ["重要价值客户", "F"]  # other levels: the catalog's labels
    assert words.label("F") == "女" and words.label("(unknown)") == "（未知）"


def test_the_chinese_edition_of_notebook_05_is_faithful():
    english = ROOT / "notebooks" / "05_campaign_response.ipynb"
    assert editions.differences(english, ROOT / "notebooks" / "zh" / english.name, "zh") == []


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_the_headline_names_a_heading_of_its_edition(lang, edition):
    """Section 1 records the last campaign's incremental profit under the heading the catalog
    gives (campaigns.section_1): each edition's markdown writes that heading word for word."""
    import nbformat

    path = ROOT / "notebooks" / ("" if edition == "en" else edition) / "05_campaign_response.ipynb"
    headings = {line[3:].strip() for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("## ")}
    lang(edition)
    assert words.text("campaigns.section_1") in headings
