"""The words of the reports: catalogs, the table helper, charts in Chinese, headline figures,
the index's summary rules, and the editions of the notebooks."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dbmarketing import present, warehouse
from dbmarketing.present import headlines, words
from dbmarketing.reports import editions, index

ROOT = Path(__file__).resolve().parents[1]

# Words a Chinese reader finds in a Chinese report without it being English prose: the
# abbreviations of the trade, units, file formats and the names of things in the database.
ALLOWED = {"RFM", "CLV", "ROI", "AUC", "CSV", "XLSX", "SMS", "ID", "KPI", "BG", "NBD", "VIP", "CRM", "ERP", "SQL",
           "HTML", "MVC", "MGC", "BZ", "NTILE", "qcut", "Excel", "DuckDB", "GBK", "UTF", "UTC", "YAML", "README",
           "Champions", "pts", "POS", "splink", "McDonald", "Beijing", "Zhengzhou", "PDF", "Qini", "Holm"}
ENGLISH_WORD = re.compile(r"(?<![\w./`{-])[A-Za-z]{3,}(?![\w./`}-])")


def english_words(text: str) -> list[str]:
    """English words of 3+ letters in ``text``, outside `code`, {placeholders}, <tags>, URLs and
    the :data:`ALLOWED` names."""
    text = re.sub(r"`[^`]*`|\{[^}]*\}|<[^>]*>|https?://\S+|\b\w+(?:_\w+)+\b|\b\w+\.\w+\b", " ", text)
    return [w for w in ENGLISH_WORD.findall(text) if w not in ALLOWED]


@pytest.fixture(autouse=True)
def english_after():
    yield
    words.set_lang("en")


def test_both_languages_hold_the_same_keys_and_placeholders():
    en, zh = words.catalog("en"), words.catalog("zh")
    for part in words.PARTS:
        assert set(en[part]) == set(zh[part]), f"{part}: only en {set(en[part]) - set(zh[part])}, " \
                                               f"only zh {set(zh[part]) - set(en[part])}"
    for key, template in en["text"].items():
        assert words.placeholders(template) == words.placeholders(zh["text"][key]), key


def test_chinese_catalog_has_no_english_sentence():
    zh = words.catalog("zh")
    found = {key: english_words(value) for part in words.PARTS for key, value in zh[part].items()
             if isinstance(value, str) and english_words(value)}
    assert not found


def test_english_words_finds_prose_but_not_names():
    assert english_words("客户 Champions 与 `customer_id`、RFM 得分，{n:,} 位") == []
    assert english_words("显示 the full table") == ["the", "full", "table"]
    assert english_words("见 exports/rfm_champions.csv 与 main.rfm_scores") == []


def test_a_missing_key_and_a_bad_language_are_errors_naming_them():
    with pytest.raises(words.WordsError, match="no text 'common.nothing'"):
        words.text("common.nothing")
    with pytest.raises(words.WordsError, match="'fr'"):
        words.set_lang("fr")


def test_table_writes_numbers_as_a_reader_reads_them():
    df = pd.DataFrame({"segment": ["Lost", None], "customers": [116422, 3], "revenue_share": [0.5, 0.0125],
                       "index": [154.0, 80.4], "margin": [1234.5678, np.nan], "p_value": [0.0012, 0.5],
                       "first": pd.to_datetime(["2026-01-02", None])})
    t = present.Table(df)
    assert t.texts.to_dict("list") == {
        "segment": ["Lost", ""], "customers": ["116,422", "3"], "revenue_share": ["50.0%", "1.2%"],
        "index": ["154", "80"], "margin": ["1,234.57", ""], "p_value": ["0.0012", "0.50"],
        "first": ["2026-01-02", ""]}
    page = t._repr_html_()
    assert "<th" in page and "dataframe" not in page  # no pandas index column
    assert '<td class="text">Lost</td>' in page and '<td class="num">116,422</td>' in page


def test_table_headers_and_values_come_from_the_reader_s_language():
    df = pd.DataFrame({"flag": [True, False]})
    words.set_lang("zh")
    assert present.Table(df).texts.flag.tolist() == ["是", "否"]
    words.set_lang("en")
    assert present.Table(df).texts.flag.tolist() == ["yes", "no"]
    assert words.header("some_code_name") == "some code name"


def test_a_wide_table_is_split_with_its_key_column_in_every_part():
    df = pd.DataFrame({"campaign": ["Spring e-mail"]} | {f"measure_{i}": [123456.789 * i] for i in range(14)})
    t = present.Table(df)
    assert len(t.parts) > 1
    assert all(part[0] == "campaign" for part in t.parts)
    assert sorted(c for part in t.parts for c in part[1:]) == sorted(df.columns[1:])
    assert all(sum(len(present.header(c)) + 3 for c in part) <= present.tables.PAGE_CHARS for part in t.parts)


def test_a_long_table_is_cut_with_its_count_and_the_full_table_exported(tmp_path, capsys):
    df = pd.DataFrame({"customer_id": [f"C{i}" for i in range(40)], "spend": np.arange(40) * 10.0})
    from dbmarketing import warehouse

    out = tmp_path / "all.csv"
    con = warehouse.connect(":memory:")
    shown = present.show_table(df, clearance=2, con=con, rows=10, full=out)
    assert len(shown.texts) == 10
    assert shown.note == "Showing 10 of 40 rows. The full table is in all.csv."
    assert len(pd.read_csv(out)) == 40


def test_log_axis_ticks_read_as_plain_numbers():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present.charts._chart_style()
    fig, ax = plt.subplots()
    ax.hist(np.logspace(0, 4, 200), bins=np.logspace(0, 4, 20))
    present.log_axis(ax, "x")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    plt.close(fig)
    assert "1,000" in labels and "10" in labels
    assert not any("$" in label or "mathdefault" in label for label in labels)


def test_chinese_renders_in_charts_without_any_system_cjk_font(monkeypatch):
    """The chart style brings its own CJK font (mplfonts): with every system font hidden, a
    Chinese title renders with no missing glyph, in that font."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    bundled = str(Path(matplotlib.get_data_path()))
    fm = font_manager.fontManager
    monkeypatch.setattr(fm, "ttflist", [f for f in fm.ttflist if f.fname.startswith(bundled)])
    fm._findfont_cached.cache_clear()
    try:
        present.charts._chart_style()
        found = font_manager.findfont(font_manager.FontProperties(family=["Noto Sans CJK SC"]),
                                      fallback_to_default=False)
        assert "mplfonts" in found
        fig, ax = plt.subplots()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise
            present.finish(ax, "重要价值客户的收入占比", "客户占比 %", "收入占比 %")
            fig.canvas.draw()
        plt.close(fig)
    finally:
        fm._findfont_cached.cache_clear()


def test_headline_figures_are_written_and_compared_as_the_index_shows_them():
    assert headlines.written(0.6134, "percent") == "61.3%"
    assert headlines.written(50746.456, "money") == "50,746.46"
    assert headlines.written(11629, "count") == "11,629"
    assert headlines.change(0.62, 0.6134, "percent") == "+0.7 pts"
    assert headlines.change(1000, 1234, "count") == "-234"
    with pytest.raises(KeyError, match="not one of"):
        present.headline("revenue", 1, "x")


def test_the_index_finds_a_section_by_its_heading():
    page = ('<h2 id="6.-Concentration:-the-Pareto-curve">6. Concentration: the Pareto curve<a class="anchor-link" '
            'href="#6.-Concentration:-the-Pareto-curve">¶</a></h2><h3 id="x">先看 &amp; 名单</h3>')
    assert index.section_anchor(page, "6. Concentration: the Pareto curve") == "6.-Concentration:-the-Pareto-curve"
    assert index.section_anchor(page, "先看 & 名单") == "x"
    assert index.section_anchor(page, "7. Migration") is None


def test_what_to_open_first_follows_its_rule():
    fig = {"at_risk_customers": {"value": 120}, "active_buyers": {"value": 900},
           "campaign_incremental_profit": {"value": -5.0}}
    assert index.open_first(fig, {"at_risk_customers": 100})[0] == "first_at_risk_rose"
    assert index.open_first(fig, {"at_risk_customers": 130, "active_buyers": 1000})[0] == "first_active_fell"
    assert index.open_first(fig, {"at_risk_customers": 130})[0] == "first_campaign_loss"
    assert index.open_first({"at_risk_customers": {"value": 1}}, {})[0] == "first_at_risk"
    assert index.open_first({}, {}) is None


def test_previous_run_is_the_newest_good_run_of_the_same_parameters_file(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("clearance: 2\n")
    other = tmp_path / "q.yaml"
    other.write_text("clearance: 2\n")

    def run(name, file, finished, status="ok"):
        (tmp_path / "reports" / name).mkdir(parents=True)
        (tmp_path / "reports" / name / "manifest.json").write_text(json.dumps(
            {"run_name": name, "status": status, "params_path": str(file.resolve()), "finished": finished}))

    run("jan", params, "2026-01-31T10:00:00+00:00")
    run("feb", params, "2026-02-28T10:00:00+00:00")
    run("mar.failed", params, "2026-03-31T10:00:00+00:00", "failed")
    run("other", other, "2026-03-30T10:00:00+00:00")
    now = {"started": "2026-03-31T09:00:00+00:00"}
    assert index.previous_run(tmp_path / "reports", params, now)["run_name"] == "feb"
    assert index.previous_run(tmp_path / "reports", params, {"started": "2026-02-01T00:00:00+00:00"})["run_name"] == "jan"
    assert index.previous_run(tmp_path / "reports", tmp_path / "none.yaml", now) is None


def test_an_edition_must_keep_the_english_code_cells(tmp_path):
    import nbformat

    def notebook(lang, prose, code):
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell(f'clearance = 2\nlang = "{lang}"  # the language')
        params.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell(prose), params, nbformat.v4.new_code_cell(code)]
        return nb

    (tmp_path / "zh").mkdir()
    nbformat.write(notebook("en", "# Why", "print(1)"), tmp_path / "01_x.ipynb")
    nbformat.write(notebook("zh", "# 为什么", "print(1)"), tmp_path / "zh" / "01_x.ipynb")
    assert editions.differences(tmp_path / "01_x.ipynb", tmp_path / "zh" / "01_x.ipynb", "zh") == []
    nbformat.write(notebook("zh", "# 为什么", "print(2)"), tmp_path / "zh" / "01_x.ipynb")
    assert "code cell 2 differs" in editions.differences(tmp_path / "01_x.ipynb", tmp_path / "zh" / "01_x.ipynb",
                                                         "zh")[0]
    assert editions.sync(tmp_path, "zh") == [tmp_path / "zh" / "01_x.ipynb"]
    assert editions.differences(tmp_path / "01_x.ipynb", tmp_path / "zh" / "01_x.ipynb", "zh") == []
    assert nbformat.read(tmp_path / "zh" / "01_x.ipynb", 4).cells[0].source == "# 为什么"


def test_every_notebook_has_its_chinese_edition():
    english = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for name in english:
        edition = ROOT / "notebooks" / "zh" / name
        assert edition.exists(), f"notebooks/zh/{name} is missing"
        assert editions.differences(ROOT / "notebooks" / name, edition, "zh") == []


def test_the_index_shows_each_figure_with_its_change_and_link(tmp_path):
    def manifest(name, share, at_risk, lang="en"):
        figures = [{"key": "top20_revenue_share", "value": share, "kind": "percent",
                    "text": headlines.written(share, "percent"), "section": "6. Pareto", "anchor": "6.-Pareto",
                    "note": None},
                   {"key": "at_risk_customers", "value": at_risk, "kind": "count",
                    "text": headlines.written(at_risk, "count"), "section": "4. Churn", "anchor": "4.-Churn",
                    "note": None}]
        return {"run_name": name, "lang": lang, "as_of": "2026-10-31", "period": ["2024-11-01", "2026-10-31"],
                "started": "2026-11-01T08:00:00+00:00", "finished": "2026-11-01T08:10:00+00:00",
                "params_file": "p.yaml", "parameters": {"clearance": 2},
                "notebooks": [{"name": "04_rfm", "title": "04 · RFM", "status": "ok", "html": "04_rfm.html",
                               "code_html": "04_rfm.code.html", "seconds": 3.0, "parameters": {"clearance": 2},
                               "headlines": figures[:1], "skipped": [{"section": "uplift", "reason": "no control"}]},
                              {"name": "03_model", "title": "03 · Model", "status": "ok", "html": "03_model.html",
                               "code_html": "03_model.code.html", "seconds": 3.0, "parameters": {},
                               "headlines": figures[1:]}],
                "exports": ["exports/a_clearance2.csv"], "export_rows": {"exports/a_clearance2.csv": 1234}}

    page = index.write_index(tmp_path / "index.html", manifest("mar", 0.62, 120),
                             manifest("feb", 0.6134, 100)).read_text(encoding="utf-8")
    assert re.search(r'data-key="at_risk_customers">120</div><div class="change">\+20 since run feb', page)
    assert "+0.7 pts since run feb" in page
    assert page.index('data-key="top20_revenue_share"') < page.index('data-key="at_risk_customers"')  # KEYS order
    assert 'href="03_model.html#4.-Churn"' in page
    assert "More valuable customers are at risk than last time (120)" in page
    assert "1,234" in page and "uplift" in page and "no control" in page
    first = index.write_index(tmp_path / "first.html", manifest("jan", 0.6, 100, "zh")).read_text(encoding="utf-8")
    assert "这组参数的首次运行" in first and "先看这 100 位" in first
    assert words.lang() == "en"  # writing a zh index leaves the process's language as it was


def test_the_index_says_what_each_exported_list_is(tmp_path):
    from dbmarketing import privacy
    from dbmarketing.reports.runner import _export_about

    exports = tmp_path / "exports"
    frame = pd.DataFrame({"customer_id": ["C1", "C2"]})
    privacy.export_frame(frame, exports / "a_clearance2.csv", 2, tiers={"customer_id": 1}, about="Who to call\n first")
    privacy.export_frame(frame, exports / "a_clearance2.xlsx", 2, tiers={"customer_id": 1}, about="Who to call first")
    privacy.export_frame(frame, exports / "b_clearance2.csv", 2, tiers={"customer_id": 1})  # no words: none shown
    about = _export_about(exports)
    assert about == {"exports/a_clearance2.csv": "Who to call first", "exports/a_clearance2.xlsx": "Who to call first"}
    assert not (exports / privacy.ABOUT_FILE).exists()  # the notes went into the manifest, not the run's folder
    manifest = {"run_name": "r", "lang": "en", "as_of": "2026-10-31", "parameters": {}, "notebooks": [], "params_file": "p.yaml",
                "started": "2026-11-01T08:00:00+00:00", "finished": "2026-11-01T08:10:00+00:00",
                "exports": ["exports/a_clearance2.csv", "exports/a_clearance2.xlsx", "exports/b_clearance2.csv"],
                "export_rows": {"exports/a_clearance2.csv": 2, "exports/b_clearance2.csv": 2}, "export_about": about}
    page = index.write_index(tmp_path / "index.html", manifest).read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td class=\"text\">([^<]*)</td><td class=\"text\">([^<]*)</td>", page)
    assert rows == [("Who to call first", "a_clearance2"), ("", "b_clearance2")]


def test_every_reason_a_model_gives_is_in_both_catalogs():
    """Why a model cannot be fitted reaches the reader in the reader's language: every key a
    NotEnoughData or Phrase is raised or built with is a sentence of the catalog, with the values
    the code fills in (f-string keys spelled out below)."""
    found = {}
    for path in (ROOT / "lib" / "dbmarketing").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for m in re.finditer(r"(?<!class )\b(?:NotEnoughData|Phrase)\((?!\))", source):
            assert re.match(r'f?"|key, values\)', source[m.end():]), f"{path.name}: {source[m.start():m.end() + 60]!r} (a key first)"
        for m in re.finditer(r'(?:NotEnoughData|Phrase)\((f?)"([a-z_.{}]+)"(.*?)\)\n', source, flags=re.S):
            if m.group(1):  # an f-string: its keys are listed here
                continue
            found[m.group(2)] = set(re.findall(r"\b(\w+)=", m.group(3))) | set(re.findall(r'"(\w+)":', m.group(3)))
    assert len(found) >= 15, sorted(found)
    keys = set(found) | {"needs.pareto_profit", "needs.pareto_revenue", "needs.uplift_cell_contacted",
                         "needs.uplift_cell_not_contacted"}
    for lang in words.LANGS:
        texts = words.catalog(lang)["text"]
        assert not keys - set(texts), (lang, keys - set(texts))
        for key, names in found.items():
            assert words.placeholders(texts[key]) <= names, (lang, key, names)
    reason = warehouse.NotEnoughData("needs.segments_buyers", n=12)
    words.set_lang("zh")
    try:
        assert str(reason) == "客户细分至少需要 20 位购买者（这里有 12 位）。"
    finally:
        words.set_lang("en")
    assert str(reason) == "segments need at least 20 buyers to group (12 here)."


def test_every_section_a_notebook_may_skip_has_a_title_in_both_languages():
    for lang in words.LANGS:
        texts = words.catalog(lang)["text"]
        for section in (*warehouse.SECTIONS, *warehouse.MODEL_SECTIONS):
            assert f"needs.title_{section.replace(' ', '_')}" in texts, (lang, section)
    with pytest.raises(KeyError, match="unknown section 'the churn model'"):
        warehouse.title("the churn model")  # a section is named by its name, not by a title


def test_a_catalog_file_that_does_not_read_is_named_with_its_line_and_column(tmp_path, monkeypatch):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "common.yaml").write_text("text:\n  ok: fine\n  bad: [open\n  next: x\n", encoding="utf-8")
    monkeypatch.setattr(words, "FOLDER", tmp_path)
    words.catalog.cache_clear()
    try:
        with pytest.raises(words.WordsError) as error:
            words.catalog("en")
    finally:
        words.catalog.cache_clear()
    assert str(error.value) == (f"{tmp_path / 'en' / 'common.yaml'}: line 4, column 7 not valid YAML: "
                                "expected ',' or ']', but got ':'")
