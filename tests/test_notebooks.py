"""Every numbered notebook, executed end to end with papermill on the small sample database."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import yaml

from dbmarketing import report

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def run(small_sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    params = yaml.safe_load((ROOT / "params/default.yaml").read_text(encoding="utf-8"))
    params.update(db_path=str(small_sample["db_path"]), sources=str(small_sample["sources"]))
    pfile = out / "params.yaml"
    pfile.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return report.run_reports(pfile, "nbtest", notebooks_dir=ROOT / "notebooks", reports_dir=out, progress=False)


def test_notebooks_are_committed_clean():
    assert NOTEBOOKS, "no numbered notebooks found"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert not any(c.outputs or c.execution_count for c in code), f"{path.name} has outputs"
        assert any("parameters" in c.metadata.get("tags", []) for c in code), f"{path.name} has no parameters cell"


def test_every_notebook_runs_and_reports_are_clean(run):
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    names = [Path(p).stem for p in NOTEBOOKS]
    index = (run / "index.html").read_text(encoding="utf-8")
    for name in names:
        for html in (run / f"{name}.html", run / f"{name}.code.html"):
            assert html.exists(), html
            assert report.check_report_html(html) == [], html.name
            assert html.name in index
        executed = nbformat.read(run / f"{name}.ipynb", as_version=4)
        for cell in executed.cells:
            for out in cell.get("outputs", []):
                assert out.output_type != "error", (name, cell.source[:80])
                assert not (out.output_type == "stream" and out.name == "stderr"), (name, out.text[:200])
        # the business version hides code: no line of a code cell appears in it
        business = (run / f"{name}.html").read_text(encoding="utf-8")
        assert "setup_notebook" not in business
        assert "setup_notebook" in (run / f"{name}.code.html").read_text(encoding="utf-8")
    assert manifest["database"]["fingerprint"]


def test_collection_notebook_accounts_for_every_record(run, small_sample):
    """Notebook 01's own figures: every load balances and the reject reasons are shown."""
    import duckdb

    con = duckdb.connect(str(small_sample["db_path"]), read_only=True)
    batches = con.execute("SELECT sum(rows_read), sum(rows_loaded), sum(rows_rejected) FROM main.load_batches").fetchone()
    con.close()
    assert batches[0] == batches[1] + batches[2] and batches[2] > 0
    text = (run / "01_data_collection.html").read_text(encoding="utf-8")
    assert f"{int(batches[0]):,}</strong> records read" in text
    for phrase in ("Reading the chart", "potential", "lapsed", "distributor", "not matched"):
        assert phrase in text
