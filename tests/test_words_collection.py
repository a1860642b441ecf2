"""Chapter 01's words: both catalogs hold the same keys, every sentence renders in both
languages (the Chinese without English words), and the Chinese notebook is the English one
with its prose translated."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from dbmarketing.present import words
from dbmarketing.present.narration import collection as story
from dbmarketing.reports import editions

ROOT = Path(__file__).resolve().parents[1]
FILES = {lang: words.FOLDER / lang / "collection.yaml" for lang in words.LANGS}
# ASCII words a Chinese sentence may hold: names of systems, files and sources, abbreviations
ALLOWED = {"CRM", "POS", "README", "Beijing"}


def catalog_file(lang: str) -> dict:
    return yaml.safe_load(FILES[lang].read_text(encoding="utf-8"))


@pytest.fixture
def lang():
    """Each test sets the language it needs; the default comes back afterwards."""
    before = words.lang()
    yield words.set_lang
    words.set_lang(before)


def test_both_catalogs_hold_the_same_keys_and_placeholders():
    en, zh = catalog_file("en"), catalog_file("zh")
    assert set(en) == set(zh)
    for part in en:
        assert set(en[part]) == set(zh[part]), part
    for key, template in en["text"].items():
        assert words.placeholders(template) == words.placeholders(zh["text"][key]), key


def english_words(text: str, allowed=()) -> list[str]:
    """ASCII words of 3 letters or more in ``text``, other than the allowed names."""
    for name in sorted(set(allowed) | ALLOWED, key=len, reverse=True):
        text = text.replace(name, " ")
    return re.findall(r"[A-Za-z]{3,}", text)


SOURCES = ["会员主档", "门店会员", "订单"]  # hand-made source names (names are not checked)


def loads(statuses) -> pd.DataFrame:
    return pd.DataFrame({"source": SOURCES[:len(statuses)], "table": ["customers", "customers", "orders"][:len(statuses)],
                         "status": statuses, "batch_id": [3, 4, 5][:len(statuses)],
                         "loaded_at": pd.to_datetime(["2026-10-01 02:00", "2026-10-01 02:01", "2026-11-01 02:00"][:len(statuses)]),
                         "rows_read": [10, 5, 8][:len(statuses)], "rows_loaded": [9, 5, 8][:len(statuses)],
                         "rows_unchanged": [0, 0, 0][:len(statuses)], "rows_rejected": [1, 0, 0][:len(statuses)],
                         "rows_changed": [0, 2, 0][:len(statuses)]})


def profile(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["column", "type", "tier", "pct_missing", "distinct", "example"])


def sample_profiles() -> dict:
    row = SimpleNamespace(table="customers", batch_id=3, rows_loaded=9)
    orders = SimpleNamespace(table="orders", batch_id=5, rows_loaded=8)
    return {
        SOURCES[0]: (row, profile([("customer_id", "VARCHAR", 1, 0.0, 9, "C1"), ("email", "VARCHAR", 3, 40.0, 5, "***"),
                                   ("consent_mail", "BOOLEAN", 2, 100.0, 0, ""), ("batch_id", "INTEGER", 1, 0.0, 1, "3"),
                                   ("valid_to", "TIMESTAMP", 1, 90.0, 1, "2026-10-01")])),
        SOURCES[2]: (orders, profile([("order_id", "VARCHAR", 1, 0.0, 8, "SO1"), ("amount", "DOUBLE", 1, 0.0, 7, "9.5")])),
    }


def rendered() -> list[str]:
    """Every sentence and worded table of the chapter, on small hand-made inputs."""
    types = pd.DataFrame({"source_system": ["crm", "crm", "pos", "pos", "distributor", "orders only"],  # customers.type_counts
                          "customer_type4": ["current", "potential", "lapsed", "current", "distributor", "lapsed"],
                          "customer_records": [1, 1, 1, 1, 1, 1]})
    crosstab = pd.crosstab(types.source_system, types.customer_type4).reindex(
        columns=["current", "potential", "lapsed", "distributor"], fill_value=0)
    profiles = sample_profiles()
    overview, gaps = story.profiles_overview(profiles), story.profile_gaps(profiles)
    rejects = pd.DataFrame({"source": SOURCES[:3], "column": ["会员号", "下单日", "单号"], "into": ["customer_id", "order_date", "order_id"],
                            "reason": ["customer_id is empty", "not a date in format %Y-%m-%d", "duplicate key"],
                            "count": [2, 16, 8], "first_line": [5, 7, 9], "example_value": ["", "31/31/2023", "***"]})
    history = story.history_table(loads(["loaded", "superseded by batch 5", "loaded"]).assign(
        accounted=True, finished_at=pd.Timestamp("2026-10-01")))
    by_tier = pd.DataFrame({"city_tier": ["1", "2", "not matched"], "customers": [5, 3, 9],
                            "avg_income_index": [199.6, 134.6, "unknown"]})
    tables = pd.DataFrame({"table": ["raw.customers", "raw.cities"], "origin": ["internal", "external"],
                           "description": ["(database's)", "(database's)"], "columns": [22, 8], "highest_tier": [4, 1]})
    changes = pd.DataFrame({"attribute": ["address", "consent_sms"], "customers_changed": [3, 1]})
    texts = [
        story.analyst_copy("data/crm.duckdb", 2),
        story.loaded_now(loads(["skipped", "skipped", "skipped"])),
        story.loaded_now(loads(["loaded", "loaded", "loaded"])),
        story.loaded_now(loads(["loaded", "skipped", "skipped"])),
        story.history(loads(["loaded", "loaded", "loaded"])),
        story.profiles_reading(overview, gaps),
        story.customer_types(types, dt.date(2026, 10, 31)),
        story.customer_types(types[types.source_system != "orders only"], dt.date(2026, 10, 31)),
        story.no_customers(),
        story.reading_types(crosstab),
        story.unmatched_cities(),
        story.history_kept(),
    ]
    frames = [story.sources_table([SimpleNamespace(name=SOURCES[0], table="customers", format="csv", path="a.csv", url=None)]),
              story.load_table(loads(["skipped", "loaded"])), history, story.rejects_table(rejects), overview, gaps,
              story.type_table(types, ["current", "potential", "lapsed", "distributor"]), story.worded(crosstab).reset_index(),
              story.tables_overview(tables)[["table", "origin", "description"]], story.by_tier_table(by_tier),
              story.history_changes_table(changes)]
    for frame in frames:
        texts.append(" ".join(words.header(c) for c in frame.columns))
        texts += [str(words.label(v)) for col in frame.columns if not pd.api.types.is_numeric_dtype(frame[col])
                  for v in frame[col] if col not in ("model_column", "file_column", "file", "format", "example", "example_value")]
    for key in ("sources_caption", "load_caption", "history_caption", "rejects_caption", "overview_caption", "gaps_caption",
                "types_caption", "types_chart_x", "types_chart_y", "types_legend", "crosstab_caption", "tables_caption",
                "tier_chart_title", "tier_chart_x", "tier_chart_y", "tier_caption", "versions_caption", "changes_caption"):
        texts.append(words.text(f"collection.{key}"))
    texts.append(words.text("collection.types_chart_title", as_of="2026-10-31"))
    return texts


def test_every_sentence_renders_in_both_languages_and_the_chinese_has_no_english(lang):
    lang("en")
    english = rendered()
    assert "All **3** sources were already loaded (batches 3-5, last on 2026-11-01 02:00)" in english[1]
    assert "All **3** sources were loaded now (batches 3-5)." in english[2]
    assert english[3].startswith("**1** of 3 sources were loaded now; the other 2 were already loaded")
    assert "**consent_mail**" not in english[5] and "direct-mail consent" in english[5]
    lang("zh")
    chinese = rendered()
    assert len(chinese) == len(english)
    assert "全部 **3** 个数据源此前均已载入" in chinese[1]
    found = [(text, english_words(text, SOURCES + ["data/crm.duckdb", "(database's)"])) for text in chinese]
    assert not [f for f in found if f[1]], [f for f in found if f[1]][:5]


def test_reject_reasons_read_in_words(lang):
    lang("zh")
    assert story.reason("customer_id is empty") == "客户编号为空"
    assert story.reason("not a date in format %d.%m.%Y") == "不是日期（%d.%m.%Y）"
    assert story.reason("duplicate key, first at line 12") == "主键重复"
    assert story.reason("something new") == "something new"  # a reason the catalog does not know stays as written


def test_profiles_leave_out_bookkeeping_columns_and_count_gaps():
    profiles = sample_profiles()
    overview = story.profiles_overview(profiles).set_index("source")
    assert overview.loc[SOURCES[0], ["columns", "complete", "with_gaps", "empty"]].tolist() == [3, 1, 1, 1]
    gaps = story.profile_gaps(profiles)
    assert gaps.model_column.tolist() == ["consent_mail", "email"]  # emptiest first; valid_to is bookkeeping
    assert gaps.missing.tolist() == [1.0, 0.4]


def test_the_chinese_notebook_is_the_english_one_translated():
    english = ROOT / "notebooks" / "01_data_collection.ipynb"
    chinese = ROOT / "notebooks" / "zh" / "01_data_collection.ipynb"
    assert editions.differences(english, chinese, "zh") == []
    import nbformat

    prose = " ".join(c.source for c in nbformat.read(chinese, as_version=4).cells if c.cell_type == "markdown")
    prose = re.sub(r"`[^`]*`", " ", prose)  # code names stay as they are
    allowed = {"ERP", "RFM", "CLV", "GBK", "UTF", "BOM", "SHA", "CRM", "POS"}
    assert not [w for w in re.findall(r"[A-Za-z]{3,}", prose) if w not in allowed]
