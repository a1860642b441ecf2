"""The command line as a scheduler runs it: exit codes and one-line errors."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "dbmarketing", *args], cwd=cwd, capture_output=True, text=True)


def test_sample_then_load(tmp_path):
    raw, dbp = tmp_path / "raw", tmp_path / "crm.duckdb"
    out = run("sample", "--out", str(raw), "--db", str(dbp), "--customers", "300", "--years", "1", "--seed", "3")
    assert out.returncode == 0, out.stderr
    assert (raw / "pos_members.csv").exists()
    out = run("load", "--db", str(dbp), "--sources", str(raw / "sources.yaml"))
    assert out.returncode == 0, out.stderr
    assert "crm_customers" in out.stdout and "loaded" in out.stdout
    again = run("load", "--db", str(dbp), "--sources", str(raw / "sources.yaml"))
    assert again.returncode == 0 and "skipped" in again.stdout  # the same files are not loaded twice


def test_report_with_unknown_parameter_exits_non_zero(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("db_path: x.duckdb\nno_such_parameter: 3\n", encoding="utf-8")
    out = run("report", "--params", str(params), "--run", "x", "--reports", str(tmp_path / "reports"), "--quiet")
    assert out.returncode == 1
    assert "no_such_parameter" in out.stderr and "ParameterError" in out.stderr
    assert not (tmp_path / "reports").exists()


def test_load_of_missing_sources_file_exits_non_zero(tmp_path):
    out = run("load", "--db", str(tmp_path / "x.duckdb"), "--sources", str(tmp_path / "missing.yaml"))
    assert out.returncode == 1 and "missing.yaml" in out.stderr


def test_failed_report_prints_only_the_error(tmp_path):
    """A scheduler's log gets the error and nothing else: no kernel log lines, no traceback."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params_cell = new_code_cell("n = 1")
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [params_cell, new_code_cell("import time\nraise ValueError(f'planted failure {n}')")]
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "01_fails.ipynb")
    (tmp_path / "p.yaml").write_text("n: 2\n", encoding="utf-8")
    out = run("report", "--params", "p.yaml", "--run", "x", "--quiet", cwd=tmp_path)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith("error: ReportError:") and "01_fails" in lines[0] and "planted failure 2" in lines[0]
    assert "IPKernelApp" not in out.stderr and "Traceback" not in out.stderr
    assert all(line.startswith(("error:", "    ", "The failed notebook is kept in")) for line in lines), lines
    assert (tmp_path / "reports" / "x.failed" / "01_fails.ipynb").exists()
