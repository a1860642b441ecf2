"""compare_runs: two report runs, hand-made, that differ only where a run differs by design (its
name, its seconds, the engine) show the same figures; a headline, a cell's table or an exported
row that differs is named (how `make reports ENGINE=spark` is checked against DuckDB's run)."""

from __future__ import annotations

import json

import nbformat

from dbmarketing.reports.compare import compare_runs


def _run(root, name, *, headline=0.6128946110815346, seconds="3.2", engine="duckdb", segment_rows=(("C1", "12.50"),),
         table="<table><tr><td>Champions</td><td>1,204</td></tr></table>"):
    run = root / name
    (run / "exports").mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/markdown": f"Scores computed in {seconds} s for run {run}/ (engine='{engine}')."})]),
        nbformat.v4.new_code_cell("y", outputs=[nbformat.v4.new_output("display_data", data={"text/html": table,
                                                                                            "text/plain": "ignored"})]),
        nbformat.v4.new_code_cell("z", outputs=[nbformat.v4.new_output("stream", name="stdout", text="4 lists written\n")]),
    ]
    nbformat.write(nb, str(run / "04_rfm_scoring.ipynb"))
    (run / "exports" / "champions.csv").write_text(
        "customer_id,monetary\n" + "".join(f"{c},{m}\n" for c, m in segment_rows), encoding="utf-8")
    manifest = {"notebooks": [{"name": "04_rfm_scoring", "status": "ok", "executed": "04_rfm_scoring.ipynb",
                               "headlines": [{"key": "top20_revenue_share", "value": headline}]}],
                "export_rows": {"champions.csv": len(segment_rows)}}
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return run


def test_runs_that_differ_only_by_design_show_the_same_figures(tmp_path):
    a = _run(tmp_path, "sample")
    b = _run(tmp_path, "sample-spark", seconds="41.7", engine="spark",
             headline=0.6128946110815346 * (1 + 1e-12))  # a sum taken in another order
    assert compare_runs(a, b) == []


def test_a_headline_a_table_and_an_exported_row_that_differ_are_named(tmp_path):
    a = _run(tmp_path, "sample", segment_rows=(("C1", "12.50"), ("C2", "7.00")))
    b = _run(tmp_path, "other", headline=0.6129,
             table="<table><tr><td>Champions</td><td>1,205</td></tr></table>",
             segment_rows=(("C2", "7.00"), ("C1", "12.51")))  # rows in another order: only C1 differs
    diffs = compare_runs(a, b)
    assert len(diffs) == 3, diffs
    assert diffs[0].startswith("04_rfm_scoring: headline top20_revenue_share: 0.6128946110815346")
    assert diffs[1].startswith("04_rfm_scoring: code cell 2 shows") and "1,204" in diffs[1] and "1,205" in diffs[1]
    assert diffs[2].startswith("export exports/champions.csv: a row differs in monetary '12.50' / '12.51'")


def test_a_list_with_another_number_of_rows_is_named(tmp_path):
    a = _run(tmp_path, "sample")
    b = _run(tmp_path, "other", segment_rows=(("C1", "12.50"), ("C9", "1.00")))
    assert compare_runs(a, b) == ["export champions.csv: 1 rows in {}, 2 in {}".format(a, b),
                                  "export exports/champions.csv: columns or rows differ ((1, 2) in {}, (2, 2) in {})"
                                  .format(a, b)]
