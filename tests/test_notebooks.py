"""Every numbered notebook, executed end to end with papermill on the small sample database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import duckdb
import nbformat
import pytest
import yaml

import portable
from dbmarketing import course, ingest, privacy, reports, sample, warehouse
from dbmarketing.course import build

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def default_outputs() -> list[Path]:
    """What the notebooks write into the project tree when run with their defaults: the
    database (``db_path``) and every output folder (a parameter named ``*_dir``)."""
    paths = set()
    for nb in NOTEBOOKS:
        for name, info in reports.declared_parameters(nb).items():
            if (name == "db_path" or name.endswith("_dir")) and isinstance(info["default"], str):
                paths.add(ROOT / info["default"])
    return sorted(paths)


def tree_state(paths) -> dict[str, float]:
    """Every file at or under `paths`, with its modification time."""
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()]
    return {str(p): p.stat().st_mtime for p in files}


def run_params(small_sample, out: Path, db_path: Path) -> dict:
    """params/default.yaml for a run on ``db_path`` with the small sample's sources and e-mail
    test; every output folder a notebook declares (a parameter named ``*_dir``) but the run's
    own exports goes to ``out``, so a run writes nothing into the project tree."""
    params = yaml.safe_load((ROOT / "params/default.yaml").read_text(encoding="utf-8"))
    params.update(db_path=str(db_path), sources=str(small_sample["sources"]),
                  campaign_file=str(small_sample["campaign_file"]))
    declared = {name for nb in NOTEBOOKS for name in reports.declared_parameters(nb)}
    params.update({name: str(out / name) for name in sorted(declared) if name.endswith("_dir") and name != "export_dir"})
    return params


@pytest.fixture(scope="module")
def run(small_sample, tmp_path_factory):
    """Every notebook run on a copy of the small sample's database (the session's sample stays
    as loaded) in the students' edition: the English notebooks with their course cells
    (:mod:`dbmarketing.course`) and every exercise's answer blank, so each check must say "not
    right". A report leaves the course cells out (tests/test_report.py, tests/test_matrix.py);
    this run shows every chapter the same, with the course cells between its sections (the two
    whole runs of the sample serve the course's tests and the report's). Its kernels check every
    named SQL statement they run against a round trip through Spark SQL (:mod:`portable`)."""
    out = tmp_path_factory.mktemp("reports")
    db_path = tmp_path_factory.mktemp("notebooks_db") / "crm.duckdb"
    shutil.copy(small_sample["db_path"], db_path)
    student_dir = out / "student_notebooks"
    student_dir.mkdir()
    for path in NOTEBOOKS:
        nbformat.write(course.student(nbformat.read(path, as_version=4)), student_dir / path.name)
    params = run_params(small_sample, out, db_path)
    pfile = out / "params.yaml"
    pfile.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    before = tree_state(default_outputs())
    statements = out / "statements.jsonl"  # every named SQL statement its kernels ran, checked (tests/portable.py)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(portable.startup_folder(out / "ipython", statements)))
        folder = reports.run_reports(pfile, "nbtest", notebooks_dir=student_dir, reports_dir=out, progress=False,
                                     course=True)
    return {"folder": folder, "params": params, "db_path": db_path, "tree_before": before,
            "tree_after": tree_state(default_outputs()), "statements": statements}


def test_notebooks_are_committed_clean():
    assert NOTEBOOKS, "no numbered notebooks found"
    for path in NOTEBOOKS + sorted((ROOT / "notebooks" / "zh").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not any(c.outputs or c.execution_count for c in code), f"{path.name} has outputs"
        assert any("parameters" in c.metadata.get("tags", []) for c in code), f"{path.name} has no parameters cell"


def test_every_notebook_runs_and_reports_are_clean(run):
    folder = run["folder"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    names = [Path(p).stem for p in NOTEBOOKS]
    index = (folder / "index.html").read_text(encoding="utf-8")
    for name in names:
        for html in (folder / f"{name}.html", folder / f"{name}.code.html"):
            assert html.exists(), html
            assert reports.check_report_html(html) == [], html.name
            assert html.name in index
        executed = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        for cell in executed.cells:
            for out in cell.get("outputs", []):
                assert out.output_type != "error", (name, cell.source[:80])
                assert not (out.output_type == "stream" and out.name == "stderr"), (name, out.text[:200])
        # the business version hides code: no line of a code cell appears in it
        business = (folder / f"{name}.html").read_text(encoding="utf-8")
        assert "setup_notebook" not in business
        assert "setup_notebook" in (folder / f"{name}.code.html").read_text(encoding="utf-8")
    assert manifest["database"]["fingerprint"]


def test_the_run_writes_nothing_into_the_project_tree(run):
    assert ROOT / "data" / "exports" in default_outputs()  # notebook 04 exports there by default
    assert run["tree_after"] == run["tree_before"]
    for name, value in run["params"].items():
        if name.endswith("_dir"):
            assert not Path(value).is_relative_to(ROOT), name
    # the lists are the run's: in its folder, named with the clearance, listed in the manifest and linked
    folder = run["folder"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    written = sorted(str(p.relative_to(folder)) for p in (folder / "exports").iterdir())
    assert written == manifest["exports"] and len(written) >= 4
    assert all(re.search(r"_clearance2\.(csv|xlsx)$", name) for name in written)
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{name}"' in index for name in written)


def test_every_table_is_catalogued(run):
    """After every notebook ran: each column of each table in main, raw and truth has a
    catalog row with a description and a privacy tier 1-4."""
    con = duckdb.connect(str(run["db_path"]), read_only=True)
    columns = set(con.execute("""
        SELECT c.schema_name, c.table_name, c.column_name
        FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
        WHERE c.database_name = current_database() AND NOT t.temporary AND NOT t.internal
          AND c.schema_name IN ('main', 'raw', 'truth')""").fetchall())
    catalog = {(s, t, c): (d, tier) for s, t, c, d, tier in con.execute(
        "SELECT table_schema, table_name, column_name, description, privacy_tier FROM main.catalog").fetchall()}
    tables = {(s, t) for s, t, _ in catalog}
    described = {(s, t) for s, t, d in con.execute(
        "SELECT table_schema, table_name, description FROM main.catalog_tables").fetchall() if d and d.strip()}
    con.close()
    missing = sorted(columns - set(catalog))
    assert not missing, f"{len(missing)} columns not in main.catalog, e.g. {missing[:10]}"
    bad = sorted(k for k in columns if not (catalog[k][0] or "").strip() or catalog[k][1] not in (1, 2, 3, 4))
    assert not bad, f"{len(bad)} catalogued columns without a description or a tier 1-4, e.g. {bad[:10]}"
    undescribed = sorted({(s, t) for s, t, _ in columns} - described)
    assert not undescribed, f"tables without a description in main.catalog_tables: {undescribed}"
    assert tables >= {(s, t) for s, t, _ in columns}


def html_tables(html: str) -> list[list[list[str]]]:
    """The tables of a pandas HTML output as rows of cell texts (header row included)."""
    tables = []
    for table in re.findall(r"<table.*?</table>", html, flags=re.S):
        rows = []
        for tr in re.findall(r"<tr.*?</tr>", table, flags=re.S):
            cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, flags=re.S)
            rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
        tables.append(rows)
    return tables


def cell_outputs(run, notebook: str, cell_id: str) -> list:
    executed = nbformat.read(run["folder"] / f"{notebook}.ipynb", as_version=4)
    [cell] = [c for c in executed.cells if c.get("id") == cell_id]
    return cell.outputs


def output_html(outputs) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in outputs)


def output_markdown(outputs) -> str:
    return "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)


def test_collection_notebook_accounts_for_every_record(run):
    """Notebook 01's own figures: every load balances and the reject reasons are shown."""
    con = duckdb.connect(str(run["db_path"]), read_only=True)
    batches = con.execute("SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected) FROM main.load_batches").fetchone()
    con.close()
    assert batches[0] == batches[1] + batches[2] and batches[2] > 0
    text = (run["folder"] / "01_data_collection.html").read_text(encoding="utf-8")
    assert f"{int(batches[0]):,}</strong> records read" in text
    for phrase in ("Reading the chart", "potential", "lapsed", "distributor", "not matched"):
        assert phrase in text


def test_collection_notebook_shows_every_source_even_when_already_loaded(run, small_sample):
    """The sample was loaded before the notebook ran (as `make reports` and the monthly cron do):
    the notebook loads nothing, yet its load table shows, per source, the batch that loaded it."""
    sources = yaml.safe_load(small_sample["sources"].read_text(encoding="utf-8"))["sources"]
    con = duckdb.connect(str(run["db_path"]), read_only=True)
    first = {s: (b, t, r, ld, rj) for s, b, t, r, ld, rj in con.execute(
        "SELECT source, min(batch_id), any_value(table_name), arg_min(rows_read, batch_id), "
        "arg_min(rows_loaded, batch_id), arg_min(rows_rejected, batch_id) FROM main.load_batches GROUP BY 1").fetchall()}
    pos_batch = first["pos_members"][0]
    pos_missing = con.execute(
        "SELECT 100.0 * count_if(consent_mail IS NULL) / count(*) FROM raw.customers WHERE batch_id = ?",
        [pos_batch]).fetchone()[0]
    con.close()

    outputs = cell_outputs(run, "01_data_collection", "c06")
    # nothing new arrived: said as such, not as "0 of 12 sources loaded now"
    assert f"All **{len(sources)}** sources were already loaded (batches " in output_markdown(outputs)
    [table] = html_tables(output_html(outputs))
    header, rows = table[0], table[1:]
    column = {name: i for i, name in enumerate(header)}
    shown = {r[column["source"]]: r for r in rows}
    assert list(shown) == [s["name"] for s in sources]
    for name, (batch_id, table_name, read, loaded, rejected) in first.items():
        row = shown[name]
        assert row[column["status"]] == "already loaded"
        assert [int(row[column[c]].replace(",", "")) for c in ("batch", "read", "loaded", "rejected")] == [
            batch_id, read, loaded, rejected], name
        assert row[column["loaded at"]]  # when it was loaded

    # one line per source, from its own batch, then its columns with gaps: the POS never collects mail consent
    profiles = cell_outputs(run, "01_data_collection", "c12")
    overview, gaps = html_tables(output_html(profiles))
    column = {name: i for i, name in enumerate(overview[0])}
    batches = {r[column["source"]]: int(r[column["batch"]]) for r in overview[1:]}
    assert batches == {name: batch_id for name, (batch_id, *_rest) in first.items()}
    assert "**pos_members**: direct-mail consent, e-mail consent" in output_markdown(profiles)
    assert pos_missing == 100.0
    column = {name: i for i, name in enumerate(gaps[0])}
    [consent_mail] = [r for r in gaps[1:] if r[column["source"]] == "pos_members" and r[column["column name"]] == "consent_mail"]
    assert consent_mail[column["missing"]] == "100.0%" and consent_mail[column["field"]] == "direct-mail consent"


MISSING_MARKERS = ("NaN", "nan", "<NA>", "None", "NaT")


def test_html_tables_finds_missing_value_markers_as_cells_only():
    page = ("<p>None of the customers ...</p><table><tr><th>a</th><th>b</th></tr>"
            "<tr><td>NaN</td><td>None of them</td></tr><tr><td>&lt;NA&gt;</td><td>1.5</td></tr></table>")
    cells = [c for t in html_tables(page) for row in t for c in row]
    assert [c for c in cells if c in MISSING_MARKERS] == ["NaN", "<NA>"]  # narrative words are not cells


def test_reports_have_no_missing_value_markers(run):
    """Managers read words or blanks, not NaN / <NA> / None, in the tables of every report
    (business and analyst versions): a marker is a table cell holding nothing else."""
    found = []
    for nb in NOTEBOOKS:
        for page in (f"{nb.stem}.html", f"{nb.stem}.code.html"):
            text = (run["folder"] / page).read_text(encoding="utf-8")
            tables = html_tables(text)
            assert tables, f"{page}: no tables found"
            found += [(page, marker, row[:6]) for table in tables for row in table
                      for marker in MISSING_MARKERS if marker in row]
    assert not found, found[:10]


def notebook_default(notebook: str, name: str):
    return reports.declared_parameters(ROOT / "notebooks" / f"{notebook}.ipynb")[name]["default"]


def test_cleaning_notebook_reads_its_narrative_from_the_data(run):
    """Notebook 02: findings by kind without values; the borderline-pairs and heat-map
    sentences carry this run's figures, counted here straight from the database."""
    threshold = notebook_default("02_data_cleaning", "match_threshold")
    con = duckdb.connect(str(run["db_path"]), read_only=True)
    below, just_above, sure = con.execute(f"""SELECT count(*) FILTER (WHERE match_probability < {threshold}),
        count(*) FILTER (WHERE match_probability >= {threshold} AND match_probability < 0.99),
        count(*) FILTER (WHERE match_probability >= 0.99) FROM main.match_pairs""").fetchone()
    after = con.execute("""SELECT table_name || '.' || column_name, score FROM main.quality_scores
        WHERE run_id = (SELECT max(run_id) FROM main.quality_scores) AND stage = 'after' AND score < 1
        ORDER BY score, 1 LIMIT 1""").fetchone()
    con.close()
    [by_kind, _examples] = html_tables(output_html(cell_outputs(run, "02_data_cleaning", "c08")))
    column = by_kind[0].index("finding")
    kinds = [row[column] for row in by_kind[1:]]
    assert kinds and not [k for k in kinds if re.search(r"\d{3,}|@|[a-z0-9-]+\.[a-z]{2,}", k, re.I)]
    pairs = output_markdown(cell_outputs(run, "02_data_cleaning", "c17"))
    assert f"**{below:,}** scored between 1% and the threshold {threshold}" in pairs
    assert f"**{just_above:,}** just above it" in pairs and f"**{sure:,}** at 0.99 or more" in pairs
    heat = output_markdown(cell_outputs(run, "02_data_cleaning", "c25b"))
    assert after is not None and f"{after[0]} {after[1]:.0%}" in heat  # the lowest cell after cleaning
    assert "red cells" not in heat


def test_rfm_notebook_shares_agree_and_the_export_preview_is_masked_once(run):
    """Notebook 04: the segment table's shares and the sentence under the chart are of the same
    base (the buyers); the export preview shows phones masked once (138****5678), not '***'."""
    as_of = run["params"]["as_of"]
    con = duckdb.connect(str(run["db_path"]), read_only=True)
    buyers = con.execute("""SELECT count(*) FROM main.rfm_scores WHERE as_of = ? AND customer_type = 'consumer'
                            AND NOT is_prospect""", [as_of]).fetchone()[0]
    con.close()
    outputs = cell_outputs(run, "04_rfm_scoring", "c13")
    assert f"shares of the {buyers:,} buyers" in output_html(outputs)  # the table's caption
    table = html_tables(output_html(outputs))[0]
    column = {name: i for i, name in enumerate(table[0])}
    rows = {r[column["segment"]]: r for r in table[1:]}
    counted = {name: int(r[column["customers"]].replace(",", "")) for name, r in rows.items() if r[column["% of buyers"]]}
    assert sum(counted.values()) == buyers
    share = float(rows["Champions"][column["% of buyers"]].removesuffix("%"))  # shares shown as percentages: 7.8%
    assert share == round(100 * counted["Champions"] / buyers, 1)
    assert f"**Champions** are {share:.1f}% of buyers" in output_markdown(cell_outputs(run, "04_rfm_scoring", "c14"))
    # the preview is wide: split into parts, the phones in one of them
    preview = next(t for t in html_tables(output_html(cell_outputs(run, "04_rfm_scoring", "c25"))) if "phone" in t[0])
    phones = [r[preview[0].index("phone")] for r in preview[1:]]
    assert any(phones) and all(re.fullmatch(r"1\d{2}\*{4}\d{4}|0\d{2,3}-\*{3,4}\d{4}|", p) for p in phones), phones


def test_customer_model_notebook_shows_shares_as_percentages(run):
    con = duckdb.connect(str(run["db_path"]), read_only=True)
    customers, high_value = con.execute("""SELECT count(*), count(*) FILTER (WHERE value_tier = 'MVC')
        FROM main.customer_model WHERE as_of = ?""", [run["params"]["as_of"]]).fetchone()
    con.close()
    [groups] = html_tables(output_html(cell_outputs(run, "03_customer_model", "2bc9b235")))
    column = {name: i for i, name in enumerate(groups[0])}
    row = next(r for r in groups[1:] if r[column["group"]] == "high value")
    assert int(row[column["customers"]].replace(",", "")) == high_value
    assert row[column["share of customers"]] == f"{100 * high_value / customers:.1f}%"


def test_reports_show_no_personal_data_at_clearance_2(run):
    """At the scheduled clearance (2) no customer's phone, e-mail, ID number or street address
    appears in clear anywhere in the reports, in the forms loaded or standardized."""
    assert run["params"]["clearance"] == 2
    con = duckdb.connect(str(run["db_path"]), read_only=True)
    values = set()
    for table in ("raw.customers", "main.customer_records"):
        for column in ("phone", "email", "id_number", "address"):
            values |= {v for (v,) in con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
                       if len(v) >= 8}
    con.close()
    assert len(values) > 1000
    for page in sorted(run["folder"].glob("*.html")):
        # but the charts' pixels (base64) and the style sheet: 85% of a page, no text a reader reads
        text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+", "", page.read_text(encoding="utf-8"))
        text = unescape(re.sub(r"<style\b.*?</style>", "", text, flags=re.S))
        found = [v for v in values if v in text]
        assert not found, (page.name, found[:5])


# --------------------------------------------------------------------------------------
# The Chinese edition and the index's headline figures
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def zh_run(run, tmp_path_factory):
    """The trainers' edition in Chinese, with its course cells and their model answers, run on
    the same small sample after the English one."""
    out = run["folder"].parent
    params = dict(run["params"], lang="zh")
    pfile = out / "params_zh.yaml"
    pfile.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return {"folder": reports.run_reports(pfile, "nbtest-zh", notebooks_dir=ROOT / "notebooks", reports_dir=out,
                                          progress=False, course=True)}


def reader_text(page: str) -> str:
    """What a reader reads on a report page: no styles, scripts, code or tags."""
    page = re.sub(r"<(style|script|code|pre)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<div class="jp-InputArea.*?</div>', " ", page, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", page))


def english_on_pages(folder: Path, db_path, sources) -> dict[str, list[str]]:
    """The English words a reader of a Chinese run reads (page -> up to 30 words), outside code and
    but names: of the database's tables and columns, of the sources (as the sources file calls them),
    of file formats, of methods; and but what an exercise's answer cell shows (a course run): the
    student's own code's output, whose column names the exercise asks for in English."""
    from test_words import english_words

    con = duckdb.connect(str(db_path), read_only=True)
    names = {n for row in con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall() for n in row}
    con.close()
    spec = yaml.safe_load(Path(sources).read_text(encoding="utf-8"))
    names |= {s["name"] for s in spec["sources"]} | {"csv", "excel", "parquet", "Holm", "Qini"}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    names.add(manifest["run_name"])
    found = {}
    for name in ["index.html"] + [e["html"] for e in manifest["notebooks"]]:
        page = (folder / name).read_text(encoding="utf-8")
        page = "".join(c for c in re.split(r'(?=<div (?:id="[^"]*" )?class="jp-Cell )', page)
                       if "celltag_answer" not in c[:300])
        words = [w for w in english_words(reader_text(page)) if w not in names]
        if words:
            found[name] = sorted(set(words))[:30]
    return found


def test_chinese_reports_have_no_english_sentence(run, zh_run, small_sample):
    assert not english_on_pages(zh_run["folder"], run["db_path"], small_sample["sources"])


def section_text(page: str, anchor: str) -> str:
    """The reader's text of the section whose heading has id ``anchor``, up to the next heading
    of the same or a higher level."""
    m = re.search(rf'<h([1-6]) id="{re.escape(anchor)}"', page)
    assert m, anchor
    level = int(m.group(1))
    rest = page[m.start():]
    end = re.search(rf"<h[1-{level}] id=", rest[10:])
    return reader_text(rest[: 10 + end.start()] if end else rest)


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_index_headline_figures_are_the_figures_of_their_sections(run, zh_run, edition):
    folder = (run if edition == "en" else zh_run)["folder"]
    index = (folder / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r'<div class="figure" data-key="([^"]+)">([^<]+)</div>.*?<div class="where"><a href="([^"#]+)#'
                       r'([^"]+)">', index, flags=re.S)
    keys = [key for key, *_ in cards]
    assert keys == list(present_keys()), keys
    for key, figure, page, anchor in cards:
        text = section_text((folder / page).read_text(encoding="utf-8"), unescape(anchor))
        assert unescape(figure) in text, (key, figure, page, anchor)


def present_keys():
    from dbmarketing.present.headlines import KEYS

    return KEYS


def test_no_cell_shows_a_table_twice(run):
    """A cell that ends with a call returning its table (present.show_table) shows it twice unless
    the call ends with ``;``: the report would repeat the table."""
    twice = []
    for path in sorted(run["folder"].glob("0*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            shown = [output_html([o]) for o in cell.get("outputs", []) if o.get("output_type") in ("display_data",
                                                                                                "execute_result")]
            shown = [h for h in shown if h]
            if len(shown) != len(set(shown)):
                twice.append((path.name, cell.get("id")))
    assert not twice


# --------------------------------------------------------------------------------------
# The course (issue 16): the checks on the two runs' course cells, make course's notebooks and slides
# --------------------------------------------------------------------------------------

def _checks(folder: Path) -> dict[str, dict[str, bool]]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {e["name"]: course.checks_in(nbformat.read(folder / e["executed"], as_version=4))
            for e in manifest["notebooks"]}


def test_every_check_passes_on_the_model_answer_and_fails_on_the_students_blank(run, zh_run):
    trainer, pupil = _checks(zh_run["folder"]), _checks(run["folder"])
    assert list(trainer) == [p.stem for p in NOTEBOOKS]
    for chapter, verdicts in trainer.items():
        assert len(verdicts) >= 2, chapter
        assert all(verdicts.values()), f"{chapter}: a model answer fails its check: {verdicts}"
        assert pupil[chapter] == {k: False for k in verdicts}, chapter


def test_a_report_leaves_the_course_cells_out(zh_run):
    executed = nbformat.read(zh_run["folder"] / NOTEBOOKS[3].name, as_version=4)
    assert any("course" in course.tags(c) for c in executed.cells)
    assert not any("course" in course.tags(c) for c in course.without_course(executed).cells)
    assert not (zh_run["folder"] / ".sources").exists()


def test_make_course_writes_both_notebooks_and_slides_that_render_with_the_network_cut_off(zh_run, tmp_path):
    out = build.build(tmp_path / "course", {"zh": zh_run["folder"]})
    for path in NOTEBOOKS:
        trainer = nbformat.read(out / "zh" / "trainer" / path.name, as_version=4)
        pupil = nbformat.read(out / "zh" / "student" / path.name, as_version=4)
        answers = [c.source for c in trainer.cells if "answer" in course.tags(c) and c.cell_type == "code"]
        assert answers and [course.blank(a) for a in answers] == [
            c.source for c in pupil.cells if "answer" in course.tags(c)]
        ran_on = json.loads((zh_run["folder"] / "manifest.json").read_text(encoding="utf-8"))["parameters"]
        assert f'db_path = "{ran_on["db_path"]}"' in trainer.cells[1].source  # the classroom run's database
        assert trainer.cells[1].source == pupil.cells[1].source
        page = (out / "zh" / "slides" / f"{path.stem}.slides.html").read_text(encoding="utf-8")
        assert build.remote_resources(page) == [] and 'src="../../vendor/' in page
    assert build.remote_resources('<script src="https://unpkg.com/x.js"></script><link href="http://a/b.css">') == [
        "https://unpkg.com/x.js", "http://a/b.css"]
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine to render the slides in (make course checks the links only)")
    page = out / "zh" / "slides" / f"{NOTEBOOKS[3].stem}.slides.html"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=8000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    reveal = re.search(r'<div class="reveal ([^"]*)"', dom)  # reveal.js marks its slides ready once it ran
    assert reveal and "ready" in reveal.group(1).split(), dom[:300]
    assert dom.count("<section") > 10  # the slides are there, not a blank page


# --------------------------------------------------------------------------------------
# Every named SQL statement, in a second dialect (tests/portable.py)
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def statements(run, small_sample, tmp_path_factory) -> dict[str, list[str]]:
    """Each named statement that ran -> its problems after the round trip through Spark SQL: of
    the English run's kernels (every chapter) and, checked in this process, of what the chapters
    do not run: a sample written and loaded into an empty database, and an analyst copy published
    from the small sample."""
    from dbmarketing.warehouse import sql

    work = tmp_path_factory.mktemp("portable_sql")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sql, "run", sql.run)  # put back when the block ends
        mp.setattr(sql, "relation", sql.relation)
        portable.Checker(run["statements"]).install()
        tiny = work / "tiny"
        sample.generate(tiny / "raw", db_path=tiny / "crm.duckdb", n_customers=300, years=1, seed=3)
        spec = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
        spec["base_dir"] = str(tiny / "raw")
        (tiny / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        con = warehouse.connect(tiny / "crm.duckdb")
        ingest.load_sources(con, tiny / "sources.yaml")
        con.close()
        privacy.publish(small_sample["db_path"], work / "analyst.duckdb", clearance=2, key=b"k" * 32)
    return portable.read_log(run["statements"])


def test_every_statement_means_the_same_after_a_round_trip_through_spark(statements):
    problems = {name: found for name, found in statements.items() if found}
    assert not problems, "\n\n".join(f"{name}: {found[0]}" for name, found in problems.items())


def test_the_chapters_run_the_named_statements(statements, run):
    # the check above is only as good as what ran: most named statements must have run, checked
    # in every chapter's kernel (and in this process)
    from dbmarketing.warehouse import sql

    assert portable.writers(run["statements"]) == len(NOTEBOOKS) + 1

    ran = set(statements)
    total = len(sql.queries())
    print(f"{len(ran)} of {total} named statements ran; not run:", sorted(set(sql.queries()) - ran))
    # the others are fragments checked inside the statements that embed them (order_exclusion,
    # in_response_window, rfm.summary's parts), inserts run row by row, and paths of errors,
    # watermarks and re-loads with a changed map that the chapters do not take
    assert len(ran) >= 0.75 * total
    for stage in ("warehouse", "ingest", "cleanse", "customers", "rfm", "campaigns", "privacy", "sample", "needs",
                  "baskets"):
        assert any(n.startswith(stage + ".") for n in ran), stage
