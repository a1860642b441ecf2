"""The command line as a scheduler runs it: exit codes and one-line errors."""

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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
    for output in (out, again):  # the cron log: one timestamped line per source and the total
        lines = output.stdout.splitlines()
        assert all(LOG_LINE.match(line) and len(line) < 120 for line in lines), lines
        assert len(lines) == len(yaml.safe_load((raw / "sources.yaml").read_text(encoding="utf-8"))["sources"]) + 1
    assert re.search(r"  crm_customers -> customers: loaded, batch \d+, [\d,]+ read, [\d,]+ loaded", out.stdout)


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  \S")


def _tiny_notebooks(folder: Path, fail: bool) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    for name, body in (("01_first", "print(n)"), ("02_second", "raise ValueError('planted failure')" if fail else "n")):
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        params_cell = new_code_cell("n = 1\nclearance = 3")
        params_cell.metadata["tags"] = ["parameters"]
        nb.cells = [params_cell, new_code_cell(body)]
        nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.mark.parametrize("fail", [False, True])
def test_report_log_has_a_header_a_line_per_notebook_and_the_result(tmp_path, fail):
    (tmp_path / "notebooks").mkdir()
    _tiny_notebooks(tmp_path / "notebooks", fail)
    (tmp_path / "p.yaml").write_text("n: 2\n", encoding="utf-8")
    out = run("report", "--params", "p.yaml", "--run", "monthly-2026-12", "--quiet", cwd=tmp_path)
    lines = out.stdout.splitlines()
    assert all(LOG_LINE.match(line) and len(line) < 120 for line in lines), lines
    # unattended runs read at the scheduled clearance; no as_of parameter, no as-of date
    assert lines[0].endswith("  report monthly-2026-12: 2 notebooks, clearance 2, params p.yaml")
    assert re.search(r"  01_first ok in \d+\.\d s$", lines[1])
    if fail:
        assert out.returncode == 1 and len(lines) == 3
        assert "02_second" in lines[2] and "FAILED after" in lines[2] and "the last good report is kept" in lines[2]
        assert "planted failure" in out.stderr
    else:
        assert out.returncode == 0 and len(lines) == 4
        assert re.search(r"  02_second ok in", lines[2])
        assert "reports written in" in lines[3] and "index.html" in lines[3]


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
    line = one_error_line(out)
    assert line.startswith("error: ReportError:") and "01_fails" in line and "planted failure 2" in line
    assert "(the cell starts: import time)" in line
    assert f"the failed notebook is kept in {Path('reports', 'x.failed', '01_fails.ipynb')}" in line
    assert "IPKernelApp" not in out.stderr and "Traceback" not in out.stderr
    assert (tmp_path / "reports" / "x.failed" / "01_fails.ipynb").exists()


# ---------------------------------------------------------------------------------------
# Hostile inputs: each is one line on stderr naming the file and the line, column or key
# ---------------------------------------------------------------------------------------

def one_error_line(out) -> str:
    """The single line a failed command wrote to stderr (exit code 1), checked to be short."""
    assert out.returncode == 1, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and len(lines[0]) < 300, lines[0]
    return lines[0]


def write_csv_source(folder, sources_text=None, **entry):
    """A customers CSV (c.csv) and a sources file naming it; `entry` adds keys to the source."""
    (folder / "c.csv").write_text("id,name\n1,Ann\n", encoding="utf-8")
    keys = "".join(f"    {key}: {value}\n" for key, value in entry.items())
    text = sources_text or ("base_dir: .\nsources:\n  - name: members\n    path: c.csv\n    table: customers\n"
                            f"{keys}    columns: {{customer_id: id, name: name}}\n")
    (folder / "sources.yaml").write_text(text, encoding="utf-8")
    return folder / "sources.yaml"


def position(path, text):
    """(line, column), both from 1, where `text` first occurs in the file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number, line.index(text) + 1
    raise AssertionError(f"{text!r} not in {path}")


@pytest.mark.parametrize("key", ["extracted", "effective_date"])
def test_load_with_an_impossible_date_in_the_sources_file(tmp_path, key):
    sources = write_csv_source(tmp_path, **{key: "2026-02-30"})
    line, column = position(sources, "2026-02-30")
    out = run("load", "--db", "crm.duckdb", "--sources", "sources.yaml", cwd=tmp_path)
    assert one_error_line(out) == (
        f"error: ConfigError: sources.yaml, line {line}, column {column}: {key}: 2026-02-30 is not a date "
        "(day is out of range for month); write a real date as YYYY-MM-DD")


def test_report_with_an_impossible_as_of(tmp_path):
    (tmp_path / "p.yaml").write_text("db_path: crm.duckdb\nclearance: 2\nas_of: 2026-02-30\n", encoding="utf-8")
    out = run("report", "--params", "p.yaml", "--run", "x", "--quiet", "--notebooks", str(ROOT / "notebooks"),
              cwd=tmp_path)
    assert one_error_line(out) == (
        "error: ParameterError: p.yaml, line 3, column 8: as_of: 2026-02-30 is not a date "
        "(day is out of range for month); write a real date as YYYY-MM-DD")
    assert not (tmp_path / "reports").exists()


def test_report_with_an_impossible_date_in_its_sources_file(tmp_path):
    """The report checks the sources file before any notebook runs."""
    sources = write_csv_source(tmp_path, extracted="2026-02-30")
    line, column = position(sources, "2026-02-30")
    (tmp_path / "p.yaml").write_text("db_path: crm.duckdb\nsources: sources.yaml\n", encoding="utf-8")
    out = run("report", "--params", "p.yaml", "--run", "x", "--quiet", "--notebooks", str(ROOT / "notebooks"),
              cwd=tmp_path)
    assert one_error_line(out).startswith(
        f"error: ConfigError: sources.yaml, line {line}, column {column}: extracted: 2026-02-30 is not a date")
    assert not (tmp_path / "reports").exists() and not (tmp_path / "crm.duckdb").exists()


def test_load_of_a_utf8_file_with_a_gbk_line_names_that_line(tmp_path):
    lines = ["会员号,姓名,城市", "1001,张三,上海", "1002,李四,北京", "1003,王五,广州", "1004,赵六,深圳"]
    data = b"".join(line.encode("gbk" if number == 4 else "utf-8") + b"\n" for number, line in enumerate(lines, 1))
    bad = [number for number, raw in enumerate(data.splitlines(), 1) if not _decodes(raw, "utf-8")]
    assert bad == [4]  # the file as built: line 4 alone is not UTF-8
    (tmp_path / "mixed.csv").write_bytes(data)
    write_csv_source(tmp_path, "base_dir: .\nsources:\n  - name: members\n    path: mixed.csv\n"
                               "    table: customers\n    columns: {customer_id: 会员号, name: 姓名}\n")
    out = run("load", "--db", "crm.duckdb", "--sources", "sources.yaml", cwd=tmp_path)
    line = one_error_line(out)
    assert line.startswith("error: SourceError: mixed.csv, line 4: not UTF-8 like the lines before it"), line
    assert "set encoding:" in line


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def test_load_of_a_10000_column_file_cuts_the_header_with_a_count(tmp_path):
    header = [f"c{i}" for i in range(10_000)]
    (tmp_path / "wide.csv").write_text(",".join(header) + "\n" + ",".join("1" * 10_000) + "\n", encoding="utf-8")
    write_csv_source(tmp_path, "base_dir: .\nsources:\n  - name: wide\n    path: wide.csv\n"
                               "    table: customers\n    columns: {customer_id: member_no}\n")
    out = run("load", "--db", "crm.duckdb", "--sources", "sources.yaml", cwd=tmp_path)
    line = one_error_line(out)
    assert line.startswith("error: SourceError: wide.csv, line 1: no column 'member_no' (mapped to customer_id")
    assert line.endswith(f"the header has 10,000 columns: {', '.join(header[:10])} ... and 9,990 more")


@pytest.mark.parametrize("command", ["load", "report"])
def test_a_yaml_syntax_error_is_one_line_with_line_and_column(tmp_path, command):
    if command == "load":  # `table:` indented one space less than the keys above it
        write_csv_source(tmp_path, "base_dir: .\nsources:\n  - name: members\n    path: c.csv\n"
                                   "   table: customers\n")
        path, planted = tmp_path / "sources.yaml", "table: customers"
        out = run("load", "--db", "crm.duckdb", "--sources", "sources.yaml", cwd=tmp_path)
    else:  # a flow list left open
        path, planted = tmp_path / "p.yaml", "clearance: 2"
        path.write_text("db_path: crm.duckdb\nsegments: [a.yaml, b.yaml\nclearance: 2\n", encoding="utf-8")
        out = run("report", "--params", "p.yaml", "--run", "x", "--quiet", "--notebooks", str(ROOT / "notebooks"),
                  cwd=tmp_path)
    line_no, _ = position(path, planted)
    line = one_error_line(out)
    assert re.match(rf"error: (ConfigError|ParameterError): {path.name}, line {line_no}, column \d+: not valid YAML: ",
                    line), line
    assert not (tmp_path / "crm.duckdb").exists()


@pytest.mark.parametrize("kind", ["sqlite", "text"])
def test_load_into_a_file_that_is_not_a_duckdb_database(tmp_path, kind):
    write_csv_source(tmp_path)
    target = tmp_path / ("crm.sqlite" if kind == "sqlite" else "notes.txt")
    if kind == "sqlite":
        with sqlite3.connect(target) as lite:
            lite.execute("CREATE TABLE customers (id TEXT)")
            lite.execute("INSERT INTO customers VALUES ('1')")
        lite.close()
    else:
        target.write_text("a text file\n", encoding="utf-8")
    before = target.read_bytes()
    out = run("load", "--db", target.name, "--sources", "sources.yaml", cwd=tmp_path)
    line = one_error_line(out)
    what = "a SQLite database" if kind == "sqlite" else "a file of another kind"
    assert line.startswith(f"error: DatabaseFileError: {target.name}: not a customer database: it is {what}"), line
    assert "point --db" in line and "extension" not in line
    assert target.read_bytes() == before  # not touched


def test_report_on_a_sqlite_db_path_stops_before_any_notebook(tmp_path):
    with sqlite3.connect(tmp_path / "crm.db") as lite:
        lite.execute("CREATE TABLE t (a)")
    lite.close()
    (tmp_path / "p.yaml").write_text("db_path: crm.db\n", encoding="utf-8")
    out = run("report", "--params", "p.yaml", "--run", "x", "--quiet", "--notebooks", str(ROOT / "notebooks"),
              cwd=tmp_path)
    assert one_error_line(out).startswith(
        "error: DatabaseFileError: crm.db: not a customer database: it is a SQLite database")
    assert not (tmp_path / "reports").exists()
