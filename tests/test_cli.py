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
