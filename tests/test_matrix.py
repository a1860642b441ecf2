"""The data-shape matrix: every notebook, through the report runner, on the shapes real
deliveries have (tests/shapes.py: an order log alone, order totals without lines or costs, a
GBK CRM export, no duplicates, 1 and 10 customers, sparse R x F cells, a single day, campaigns
without a control group, a cumulative re-delivery, a BOM/semicolon export, an Excel export).

Each run must exit 0 with an HTML per notebook, say in the index which sections it skipped
and why, and get the figures right against what the fixture wrote (shape.expected), which
tests/shapes.py computes without dbmarketing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import shapes
from dbmarketing import ingest, warehouse, reports
from dbmarketing.present import words

ROOT = Path(__file__).resolve().parents[1]


def run(shape: shapes.Shape, folder: Path, run_name: str = "run", sources: Path | None = None,
        lang: str = "en") -> tuple[Path, Path]:
    """Run every notebook on the shape in the edition ``lang``; return (the report folder, the database)."""
    db_path = folder / "crm.duckdb"
    params = {"db_path": str(db_path), "sources": str(sources or shape.sources), "as_of": shape.as_of,
              "campaign_file": "", "lang": lang}
    params_file = folder / f"{run_name}.yaml"
    params_file.write_text(yaml.safe_dump(params), encoding="utf-8")
    out = reports.run_reports(params_file, run_name, notebooks_dir=ROOT / "notebooks", reports_dir=folder / "reports",
                             progress=False)
    return out, db_path


def check_report(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "ok"
    for entry in manifest["notebooks"]:
        assert entry["status"] == "ok", entry["name"]
        for page in (entry["html"], entry["code_html"]):
            assert reports.check_report_html(out / page) == [], (entry["name"], page)
    index = (out / "index.html").read_text(encoding="utf-8")
    for entry in manifest["notebooks"]:
        for skipped in entry["skipped"]:
            assert skipped["section"] in index  # the index says which sections were skipped
            assert skipped["reason"]
    return manifest


def skipped(manifest: dict, notebook: str) -> set[str]:
    entry = next(e for e in manifest["notebooks"] if e["name"].startswith(notebook))
    return {s["section"] for s in entry["skipped"]}


def merged_pairs(con) -> set[frozenset]:
    rows = con.execute("""SELECT a.customer_id, b.customer_id FROM main.customer_map a JOIN main.customer_map b
                          ON a.master_id = b.master_id AND a.customer_id < b.customer_id""").fetchall()
    return {frozenset(r) for r in rows}


def check_figures(shape: shapes.Shape, db_path: Path) -> None:
    """The cleaned purchases and customers against what the fixture wrote."""
    e = shape.expected
    con = warehouse.connect(db_path, read_only=True)
    try:
        # orders of a customer number no record holds: that customer is known only by its orders
        unknown = sorted(e.get("unknown_customer_orders", set()) - e.get("future_dated_orders", set())
                         - e.get("cancelled_orders", set()))
        only_orders = con.execute("SELECT count(*), coalesce(sum(net_amount), 0) FROM main.sales WHERE order_id IN "
                                  "(SELECT unnest(?::VARCHAR[]))", [unknown]).fetchone()
        n, total, newest = con.execute("SELECT count(*), sum(net_amount), max(order_date) FROM main.sales").fetchone()
        assert n == e["n_completed_purchases"] + len(unknown)
        assert round(total - only_orders[1], 2) == pytest.approx(e["total_net_amount"], abs=0.01)
        assert str(newest) == e["newest_purchase_date"]
        assert merged_pairs(con) == e["duplicate_pairs"]
        assert not (merged_pairs(con) & e["keep_apart_pairs"])
        if "n_people" in e:
            extra = con.execute("SELECT count(DISTINCT customer_id) FROM raw.orders WHERE order_id IN "
                                "(SELECT unnest(?::VARCHAR[]))", [sorted(e.get("unknown_customer_orders", set()))]).fetchone()[0]
            assert con.execute("SELECT count(*) FROM main.customers").fetchone()[0] == e["n_people"] + extra
        else:  # an order log alone: every customer is known only by its orders
            assert con.execute("SELECT count(*) FROM main.customers").fetchone()[0] == e["n_customers"]
    finally:
        con.close()


SIMPLE = ["orders_only_cdnow", "crm_gbk", "crm_no_duplicates", "one_customer", "ten_customers", "sparse_rf",
          "single_day", "crm_utf8_bom_semicolon", "orders_excel"]


# shapes run in the Chinese edition: a Chinese CRM export, and ten customers, on whom most models
# cannot be fitted (every reason a model gives for skipping must reach a Chinese reader in Chinese)
CHINESE = {"crm_gbk", "ten_customers"}


def titles(lang: str, *sections: str) -> set[str]:
    """The titles a reader of ``lang`` sees for ``sections`` when they are skipped."""
    before = words.lang()
    words.set_lang(lang)
    try:
        return {warehouse.title(s) for s in sections}
    finally:
        words.set_lang(before)


@pytest.mark.parametrize("name", SIMPLE)
def test_every_notebook_runs_on_the_shape(name, tmp_path):
    from test_notebooks import english_on_pages

    shape = shapes.SHAPES[name](tmp_path / "data")
    lang = "zh" if name in CHINESE else "en"
    out, db_path = run(shape, tmp_path, lang=lang)
    manifest = check_report(out)
    check_figures(shape, db_path)
    tables = shape.expected["tables"]
    if "campaigns" not in tables:
        assert titles(lang, "campaign results") <= skipped(manifest, "05")
    if "customers" not in tables:  # an order log: nothing to standardize or de-duplicate
        assert titles(lang, "standardization", "identity resolution") <= skipped(manifest, "02")
    if "products" not in tables:  # no product costs: value by revenue, said so
        assert titles(lang, "profit") <= skipped(manifest, "03")
    if lang == "zh":
        assert not english_on_pages(out, db_path, shape.sources)


def test_campaigns_without_a_control_group(tmp_path):
    shape = shapes.campaign_without_control(tmp_path / "data")
    out, db_path = run(shape, tmp_path)
    manifest = check_report(out)
    check_figures(shape, db_path)
    assert "uplift" in skipped(manifest, "05") and "the next campaign" in skipped(manifest, "05")
    page = (out / "05_campaign_response.html").read_text(encoding="utf-8")
    assert "No campaign held out a control group" in page


def test_hardie_sample_layouts_load_alike(tmp_path):
    """Bruce Hardie's 5-field 1/10 sample: mapped by field numbers, or by its width alone."""
    shape = shapes.cdnow_hardie_sample(tmp_path / "data")
    out, db_path = run(shape, tmp_path)
    check_report(out)
    check_figures(shape, db_path)
    other = warehouse.connect(tmp_path / "default.duckdb")
    ingest.load_sources(other, shape.other_sources[0])
    by_width = other.execute("SELECT customer_id, order_date, o.batch_id IS NOT NULL, l.quantity, l.amount "
                             "FROM raw.orders o JOIN raw.order_lines l USING (order_id) ORDER BY order_id").fetchall()
    mapped = warehouse.connect(db_path, read_only=True)
    assert by_width == mapped.execute("SELECT customer_id, order_date, o.batch_id IS NOT NULL, l.quantity, l.amount "
                                      "FROM raw.orders o JOIN raw.order_lines l USING (order_id) "
                                      "ORDER BY order_id").fetchall()


def test_cumulative_redelivery(tmp_path):
    """Month 2 repeats month 1's orders, adds 2 and cancels one: unchanged, not rejected."""
    data = tmp_path / "data"
    first = shapes.cumulative(data)
    run(first, tmp_path, "month1")
    second = shapes.cumulative_month2(data)
    out, db_path = run(second, tmp_path, "month2", sources=second.sources)
    check_report(out)
    con = warehouse.connect(db_path, read_only=True)
    batch = con.execute("""SELECT rows_read, rows_loaded, rows_unchanged, rows_changed, rows_rejected
                           FROM main.load_batches WHERE table_name = 'orders' ORDER BY batch_id DESC LIMIT 1""").fetchone()
    counts = second.expected["load_counts"]
    assert batch == (counts["new"] + counts["updated"] + counts["unchanged"], counts["new"] + counts["updated"],
                     counts["unchanged"], counts["updated"], 0)
    for order in second.expected["updated_orders"]:
        assert con.execute("SELECT status, exclude_reason FROM main.orders WHERE order_id = ?", [order]).fetchone() == (
            "cancelled", "cancelled order")
    assert con.execute("SELECT count(*) FROM main.rejects").fetchone()[0] == 0
    con.close()
    check_figures(second, db_path)


def readme_example(after: str) -> dict:
    """The first YAML block of the README after the line starting with ``after``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```yaml\n", text.index(after)) + len("```yaml\n")
    return yaml.safe_load(text[start:text.index("```", start)])


@pytest.mark.parametrize("after, fixture", [("An order log alone (the CDNOW layout", shapes.cdnow_hardie_sample),
                                            ("A customer export and an order export", shapes.crm_gbk)])
def test_readme_examples_work_as_written(after, fixture, tmp_path):
    """README, *Bring your own data*: the orders-only and the order-totals examples, exactly as
    printed (only base_dir points at the fixture's files), load, clean and score."""
    from dbmarketing import cleanse, rfm

    shape = fixture(tmp_path / "data")
    spec = readme_example(after)
    spec["base_dir"] = str(tmp_path / "data")
    sources = tmp_path / "readme.yaml"
    sources.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    con = warehouse.connect(tmp_path / "crm.duckdb")
    loaded = ingest.load_sources(con, sources)
    assert loaded.rows_rejected.sum() == 0
    cleanse.run(con)
    e = shape.expected
    unknown = len(e.get("unknown_customer_orders", set()) - e.get("future_dated_orders", set()))
    assert con.execute("SELECT count(*) FROM main.sales").fetchone()[0] == e["n_completed_purchases"] + unknown
    scores = rfm.compute(con, "latest")
    assert str(warehouse.resolve_as_of(con, "latest")) == e["newest_purchase_date"]
    assert int((~scores.is_prospect).sum()) == con.execute("SELECT count(DISTINCT customer_id) FROM main.sales").fetchone()[0]
    con.close()


@pytest.mark.parametrize("fixture", [shapes.crm_gbk, shapes.crm_utf8_bom_semicolon, shapes.crm_no_duplicates])
def test_deduplication_on_deliveries_not_seen_before(fixture, tmp_path):
    """Other seeds of the CRM shapes (other people, names, phones, spellings): the planted
    duplicates merge, nothing else does, the two people of one name stay apart."""
    from dbmarketing import cleanse

    for seed in (1, 2, 3, 4):
        shape = fixture(tmp_path / f"data{seed}", seed=seed)
        con = warehouse.connect(tmp_path / f"crm{seed}.duckdb")
        ingest.load_sources(con, shape.sources)
        cleanse.run(con)
        assert merged_pairs(con) == shape.expected["duplicate_pairs"], seed
        assert not merged_pairs(con) & shape.expected["keep_apart_pairs"], seed
        if not shape.expected["duplicate_pairs"]:
            assert cleanse.matching_skipped(con)  # said why, in a sentence
        con.close()
