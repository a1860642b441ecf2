"""Chapter 04's words (issue 13): the rfm catalog in both languages, the sentences and the segment
map's frames rendered in each, and the Chinese edition of the notebook faithful to the English one."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dbmarketing import rfm
from dbmarketing.present import headlines, words
from dbmarketing.present.narration import rfm as story
from dbmarketing.reports import editions

ROOT = Path(__file__).resolve().parents[1]
FOLDER = Path(words.__file__).parent
# ASCII words a Chinese reader may meet outside `code`: abbreviations and names of the trade
ALLOWED = {"RFM", "VIP", "SQL", "BG", "NBD", "IBM", "SPSS", "Direct", "Marketing"}


def english_words(text: str) -> list[str]:
    """ASCII words of 3+ letters outside `code` spans that are not an allowed name."""
    text = re.sub(r"`[^`]*`", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED]


@pytest.fixture
def lang():
    """Run a test in a language, and set English back after it."""
    def use(code):
        words.set_lang(code)
    yield use
    words.set_lang("en")


def test_rfm_catalogs_have_the_same_keys_and_placeholders():
    en = yaml.safe_load((FOLDER / "en" / "rfm.yaml").read_text(encoding="utf-8"))
    zh = yaml.safe_load((FOLDER / "zh" / "rfm.yaml").read_text(encoding="utf-8"))
    for part in ("text", "headers", "labels"):
        assert set(en.get(part) or {}) == set(zh.get(part) or {}), part
    for key, template in en["text"].items():
        assert words.placeholders(template) == words.placeholders(zh["text"][key]), key
    for key, template in zh["text"].items():
        assert not english_words(template.format(**{n: 1 for n in words.placeholders(template)})), key
    assert not [h for h in zh["headers"].values() if english_words(h)]
    assert not [v for v in zh["labels"].values() if english_words(v)]


def _scores() -> pd.DataFrame:
    """Twelve scored buyers and one prospect, small enough to read."""
    df = pd.DataFrame({"customer_id": [f"K{i:02d}" for i in range(12)], "is_prospect": False,
                       "recency": [1, 3, 5, 10, 20, 40, 60, 90, 150, 200, 300, 400],
                       "frequency": [9, 8, 1, 4, 1, 3, 2, 5, 1, 6, 1, 2],
                       "monetary": [900.0, 800, 20, 300, 15, 200, 90, 500, 10, 700, 12, 60]})
    df = pd.concat([df, pd.DataFrame({"customer_id": ["P"], "is_prospect": [True]})], ignore_index=True)
    return rfm.score(df, bins=3)


def _sentences(segments) -> list[str]:
    scores = _scores()
    buyers = scores[~scores.is_prospect]
    table = rfm.segment_table(scores, segments=segments)
    plot_table = table.drop(index=segments.prospects.name, errors="ignore")
    heat = rfm.rf_matrix(scores, value="monetary", agg="mean")
    counts = rfm.rf_matrix(scores, value="monetary", agg="count")
    blanked = counts.astype(float)
    blanked.iloc[-1, 0] = np.nan  # a cell no customer has
    curve = rfm.pareto(scores, top=0.2)
    names = segments.names
    moves = pd.DataFrame([[3, 1, 2], [0, 2, 1], [1, 0, 4]], index=["Champions", "Loyal", "At risk"],
                         columns=["Champions", "Loyal", "At risk"])
    kept = rfm.retention(moves, segments)
    assert kept.slipped == 3
    no_roles = rfm.Retention(["Champions"], [])
    return [
        story.settings("2026-10-31", 5, segments.source, 2),
        story.settings("2026-10-31", 5, "my_map.yaml", 2),
        story.no_buyers("2026-10-31"),
        story.overview(len(scores), int(scores.is_prospect.sum()), "2026-10-31"),
        story.reading_distributions(rfm.distributions(scores)),
        story.segments_caption("2026-10-31", len(buyers), segments.prospects.label()),
        story.empty_segments(rfm.empty_segments(scores, segments=segments), "2026-10-31"),
        story.empty_segments(pd.DataFrame(), "2026-10-31"),
        story.reading_segments(plot_table, len(buyers), segments),
        story.reading_heatmap(heat, counts),
        story.reading_heatmap(heat, blanked),
        story.pareto(curve),
        story.no_earlier("2026-08-01", 91, "2026-10-31"),
        story.retention(kept, segments, "2026-08-01"),
        story.retention(rfm.Retention(["Champions"], ["At risk"], {"Champions": (0, 0, [])}, 0), segments,
                        "2026-08-01"),
        story.retention(no_roles, segments, "2026-08-01"),
        story.movers_caption(kept, segments, "2026-08-01", "2026-10-31"),
        story.explored(segments.label(names[0]), 3, 12, 5, "nested", (1.0, 2.0, 0.5)),
        story.exports_written("exports", rfm.XLSX_MOST),
    ]


def test_every_sentence_renders_in_both_languages(lang):
    segments = rfm.load_segments()
    lang("en")
    en = _sentences(segments)
    lang("zh")
    zh = _sentences(segments)
    assert all(en) and all(zh)
    for e, z in zip(en, zh):
        assert e != z, e
        assert not english_words(z), (z, english_words(z))
    # the same figures in both: the numbers a sentence prints do not depend on the language
    for e, z in zip(en, zh):
        assert sorted(re.findall(r"\d+(?:[.,]\d+)*%?", re.sub(r"`[^`]*`", "", e))) == \
            sorted(re.findall(r"\d+(?:[.,]\d+)*%?", re.sub(r"`[^`]*`", "", z))), (e, z)


def test_the_pareto_sentence_prints_the_headline_as_recorded(lang):
    curve = rfm.pareto(_scores(), top=0.2)
    share = headlines.written(curve.top_share, headlines.KEYS["top20_revenue_share"])
    assert re.fullmatch(r"\d+\.\d%", share)
    for code in ("en", "zh"):
        lang(code)
        assert share in story.pareto(curve, share) and share in story.pareto(curve)


def test_the_segment_map_speaks_the_readers_language(lang):
    segments = rfm.load_segments()
    scores = _scores()
    assert all(s.action_zh for s in (*segments.segments, segments.prospects))  # the default map is complete
    lang("zh")
    frame = segments.frame()
    assert frame.segment.tolist()[0] == "重要价值客户"
    table = rfm.segment_table(scores, segments=segments)
    empty = rfm.empty_segments(scores, segments=segments)
    for shown in (frame, table[["segment_label", "action"]], empty[["segment_label", "reason"]]):
        found = [v for col in shown for v in shown[col] if english_words(str(v))]
        assert not found, found
    assert segments.label(rfm.NOT_YET) == words.text("rfm.not_yet") and segments.label("Whoever") == "Whoever"
    assert segments.labels()["At risk"] == "流失风险客户"
    lang("en")
    assert segments.frame().action.tolist()[0] == segments.segments[0].action
    assert rfm.segment_table(scores, segments=segments).segment_label.tolist()[0] == segments.segments[0].label_en
    # shares of the buyers: prospects have none, the buyers' add up to one
    assert np.isnan(table.loc[segments.prospects.name, "buyer_share"])
    assert table.buyer_share.sum() == pytest.approx(1.0)
    # a map without Chinese actions shows the English ones rather than nothing
    bare = rfm.Segment("X", "X", "某", "Call them.")
    assert bare.action_in("zh") == "Call them." and bare.label("zh") == "某"


def test_the_chinese_edition_is_faithful_to_the_english_one():
    english = ROOT / "notebooks" / "04_rfm_scoring.ipynb"
    chinese = editions.edition_dir(ROOT / "notebooks", "zh") / english.name
    assert editions.differences(english, chinese, "zh") == []
    import nbformat

    nb = nbformat.read(chinese, as_version=4)
    # the report's prose: the course cells (left out of reports) hold bilingual key terms
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown" and "course" not in c.metadata.get("tags", []))
    assert not english_words(prose), sorted(set(english_words(prose)))
    # the section the Pareto headline links to is headed as the zh catalog names it
    zh = yaml.safe_load((FOLDER / "zh" / "rfm.yaml").read_text(encoding="utf-8"))["text"]
    assert f"## {zh['pareto_section']}\n" in prose
