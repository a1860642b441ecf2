"""Tests for dbmarketing.reports: running notebooks with papermill into HTML reports.

Kernel starts are slow (~2 s each), so only four notebooks are executed in this file: two in
the success run, one in the failure run, one in the stderr-traceback run. The rest works on
notebooks built in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from dbmarketing import warehouse
from dbmarketing.reports import zygote
from dbmarketing.reports import (
    ParameterError,
    ReportError,
    check_report_html,
    clean_outputs,
    declared_parameters,
    export_html,
    find_errors,
    find_notebooks,
    lock_file_info,
    locked_versions,
    plan_parameters,
    run_reports,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
ROOT = Path(__file__).resolve().parents[1]


def write_notebook(path: Path, parameters: str | None, *cells) -> Path:
    """Write a notebook: an optional cell tagged `parameters`, then the cells (str = code)."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    body = []
    for cell in cells:
        body.append(new_code_cell(cell) if isinstance(cell, str) else cell)
    if parameters is not None:
        param_cell = new_code_cell(parameters)
        param_cell.metadata["tags"] = ["parameters"]
        # A markdown title first, like the workbook's notebooks.
        if body and body[0].cell_type == "markdown":
            body.insert(1, param_cell)
        else:
            body.insert(0, param_cell)
    nb.cells = body
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def stream_texts(nb, name="stdout") -> str:
    return "".join(
        "".join(out.get("text", ""))
        for cell in nb.cells if cell.cell_type == "code"
        for out in cell.outputs if out.output_type == "stream" and out.name == name
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------------------
# The success path: two notebooks, one run
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """Run two small notebooks once; the tests below read what the run wrote."""
    root = tmp_path_factory.mktemp("project")
    notebooks = root / "notebooks"
    write_notebook(
        notebooks / "01_overview.ipynb",
        'region = "north"\nbins = 5\nthreshold = 0.5\nas_of = "2024-01-01"\ndb_path = None',
        new_markdown_cell("# Customer overview\n\nNarrative text for the reader."),
        "# CODE-MARKER-7f3a\nimport os\n"
        "print(f'region={region} bins={bins} threshold={threshold} as_of={as_of!r}')\n"
        "print('cwd=' + os.getcwd())",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
        "ax.bar(['a', 'b'], [1, 2])\nplt.show()",
        "import warnings\nwarnings.warn('noisy warning for the test', UserWarning)\n"
        "warnings.warn('old api', FutureWarning)\nprint('after the warnings')",
    )
    write_notebook(
        notebooks / "02_widgets.ipynb",
        "interactive = True\nbins = 3",
        new_markdown_cell("# Widgets"),
        "import ipywidgets as widgets\nslider = widgets.IntSlider(value=bins, description='bins')\n"
        "if interactive:\n    display(slider)\nelse:\n    print(f'static view with bins={bins}')",
        "display({'" + WIDGET_VIEW + "': {'model_id': 'abc', 'version_major': 2, 'version_minor': 0},\n"
        "         'text/html': '<b>static chart alternative</b>', 'text/plain': 'Box()'}, raw=True)",
        "widgets.Button(description='always a widget')",
    )
    (notebooks / "README.md").write_text("not a notebook")
    (notebooks / "scratch.ipynb").write_text("{}")  # not numbered: not run

    db_path = root / "crm.duckdb"
    con = warehouse.connect(db_path)
    expected_fingerprint = warehouse.fingerprint(con)
    con.close()

    params = root / "params.yaml"
    params.write_text(f"region: south\nbins: 7\nthreshold: 1\nas_of: 2024-03-31\ndb_path: {db_path}\n")

    reports = root / "reports"
    (reports / "monthly").mkdir(parents=True)
    (reports / "monthly" / "stale.txt").write_text("from an older run")

    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    try:
        out = run_reports(params, "monthly", notebooks_dir=notebooks, reports_dir=reports, progress=False)
    finally:
        mp.undo()
    return {"root": root, "out": out, "reports": reports, "params": params,
            "db_path": db_path, "fingerprint": expected_fingerprint}


def test_success_writes_every_file_and_replaces_the_old_run(good_run):
    out, reports = good_run["out"], good_run["reports"]
    assert out == reports / "monthly"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([
        "01_overview.ipynb", "01_overview.html", "01_overview.code.html",
        "02_widgets.ipynb", "02_widgets.html", "02_widgets.code.html",
        "index.html", "manifest.json",
    ])
    # The old run was replaced, and nothing was left aside.
    assert sorted(p.name for p in reports.iterdir()) == ["monthly"]


def test_parameters_reach_the_notebooks(good_run):
    out = good_run["out"]
    first = nbformat.read(out / "01_overview.ipynb", as_version=4)
    text = stream_texts(first)
    assert "region=south bins=7 threshold=1 as_of='2024-03-31'" in text
    assert f"cwd={good_run['root']}" in text  # run from the current directory
    second = nbformat.read(out / "02_widgets.ipynb", as_version=4)
    assert "static view with bins=7" in stream_texts(second)  # interactive=False by default


def test_executed_notebooks_are_free_of_noise(good_run):
    out = good_run["out"]
    for name in ("01_overview.ipynb", "02_widgets.ipynb"):
        nb = nbformat.read(out / name, as_version=4)
        assert stream_texts(nb, "stderr") == ""
        assert "widgets" not in nb.metadata
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                assert WIDGET_VIEW not in output.get("data", {})
    second = nbformat.read(out / "02_widgets.ipynb", as_version=4)
    html_outputs = [o.data["text/html"] for c in second.cells if c.cell_type == "code"
                    for o in c.outputs if "text/html" in o.get("data", {})]
    assert html_outputs == ["<b>static chart alternative</b>"]  # static alternative kept
    first = nbformat.read(out / "01_overview.ipynb", as_version=4)
    assert "after the warnings" in stream_texts(first)
    assert any("image/png" in o.get("data", {}) for c in first.cells if c.cell_type == "code" for o in c.outputs)


def test_business_html_hides_code_and_analyst_html_shows_it(good_run):
    out = good_run["out"]
    business = (out / "01_overview.html").read_text()
    code = (out / "01_overview.code.html").read_text()
    assert "CODE-MARKER-7f3a" not in business
    assert "region=south" in business
    assert "Customer overview" in business and "Narrative text for the reader" in business
    assert "<img" in business  # the chart
    assert "CODE-MARKER-7f3a" in code
    assert "injected-parameters" in code  # papermill's cell stays in the code version
    prompt = re.compile(r"In(?:\W|&nbsp;)\[\d+\]:")  # In&nbsp;[1]:
    assert prompt.search(code) and not prompt.search(business)  # prompts hidden too


def test_report_pages_have_no_warning_or_widget_noise(good_run):
    out = good_run["out"]
    for page in sorted(out.glob("*.html")):
        assert check_report_html(page) == [], page.name


def test_index_links_every_report(good_run):
    index = (good_run["out"] / "index.html").read_text()
    for name in ("01_overview", "02_widgets"):
        assert f'href="{name}.html"' in index
        assert f'href="{name}.code.html"' in index
    assert "monthly" in index
    assert "Customer overview" in index  # the notebook's title
    assert "region" in index and "south" in index
    assert str(good_run["params"]) in index


def test_manifest_records_the_run(good_run):
    manifest = json.loads((good_run["out"] / "manifest.json").read_text())
    assert manifest["run_name"] == "monthly"
    assert manifest["status"] == "ok"
    started = dt.datetime.fromisoformat(manifest["started"])
    finished = dt.datetime.fromisoformat(manifest["finished"])
    assert started <= finished
    assert manifest["params_file"] == str(good_run["params"])
    assert manifest["parameters"]["as_of"] == "2024-03-31"
    by_name = {entry["name"]: entry for entry in manifest["notebooks"]}
    assert list(by_name) == ["01_overview", "02_widgets"]
    assert by_name["01_overview"]["parameters"] == {
        "region": "south", "bins": 7, "threshold": 1, "as_of": "2024-03-31", "db_path": str(good_run["db_path"]),
    }
    assert by_name["02_widgets"]["parameters"] == {"bins": 7, "interactive": False}
    for entry in by_name.values():
        assert entry["status"] == "ok"
        assert entry["seconds"] > 0
    assert by_name["01_overview"]["removed_outputs"]["stderr"] >= 1
    assert any("UserWarning" in w for w in by_name["01_overview"]["removed_outputs"]["warnings"])
    assert by_name["02_widgets"]["removed_outputs"]["widgets"] == 2
    assert manifest["database"]["path"] == str(good_run["db_path"])
    assert manifest["database"]["fingerprint"] == good_run["fingerprint"]
    for package in ("python", "dbmarketing", "pandas", "duckdb", "papermill", "nbconvert"):
        assert manifest["versions"][package]


def test_manifest_records_the_lock_file(good_run):
    """The run says which lock the environment was installed from: the project's
    requirements.lock, by name and by the sha256 of its bytes (the run's folder is elsewhere)."""
    manifest = json.loads((good_run["out"] / "manifest.json").read_text())
    lock = ROOT / "requirements.lock"
    recorded = manifest["lock_file"]
    assert recorded["name"] == "requirements.lock"
    assert recorded["path"] == str(lock)
    assert recorded["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert isinstance(recorded["differs"], dict)


def test_lock_file_info_names_every_package_that_differs_from_the_lock(tmp_path):
    pandas = importlib.metadata.version("pandas")
    text = (
        "# This file was autogenerated by uv via the following command:\n"
        "#    make lock\n"
        f"pandas=={pandas} \\\n"
        "    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
        "    # via dbmarketing (pyproject.toml)\n"
        "DuckDB==0.0.1 \\\n"
        "    --hash=sha256:1111111111111111111111111111111111111111111111111111111111111111\n"
        "no_such-package==1.0 ; python_full_version >= '3.11'\n"
        "appnope==1.0.0 ; sys_platform == 'no-such-platform'\n"
    )
    lock = tmp_path / "requirements.lock"
    lock.write_text(text)
    assert locked_versions(text) == {"pandas": pandas, "duckdb": "0.0.1", "no-such-package": "1.0"}
    info = lock_file_info(lock)
    assert info["name"] == "requirements.lock"
    assert info["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert info["differs"] == {
        "duckdb": {"locked": "0.0.1", "installed": importlib.metadata.version("duckdb")},
        "no-such-package": {"locked": "1.0", "installed": None},
    }  # pandas is at its pinned version; appnope is not for this platform

    assert lock_file_info(tmp_path / "missing.lock") is None
    lock.write_text("pandas>=2.2\n")
    info = lock_file_info(lock)
    assert "differs" not in info
    assert info["error"] == "requirements.lock: line 1 is not an exact pin (name==version): pandas>=2.2"
    assert info["sha256"] == hashlib.sha256(b"pandas>=2.2\n").hexdigest()


# --------------------------------------------------------------------------------------
# The failure path
# --------------------------------------------------------------------------------------

def test_failing_notebook_keeps_the_previous_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebooks = tmp_path / "notebooks"
    write_notebook(
        notebooks / "01_boom.ipynb", "n = 1",
        new_markdown_cell("# Boom"),
        "x = n + 1",
        "raise ValueError('planted failure')",
        "print('never reached')",
    )
    write_notebook(notebooks / "02_never.ipynb", None, "print('must not run')")
    params = tmp_path / "params.yaml"
    params.write_text("n: 2\n")

    reports = tmp_path / "reports"
    good = reports / "monthly"
    (good / "sub").mkdir(parents=True)
    (good / "index.html").write_text("<p>the last good report</p>")
    (good / "sub" / "chart.bin").write_bytes(bytes(range(256)))
    before = snapshot(good)
    (reports / "monthly.failed").mkdir()
    (reports / "monthly.failed" / "old.txt").write_text("an older failure")

    with pytest.raises(ReportError) as info:
        run_reports(params, "monthly", notebooks_dir=notebooks, reports_dir=reports, progress=False)
    message = str(info.value)
    failed = reports / "monthly.failed"
    assert "01_boom" in message
    assert "cell 4" in message  # markdown, parameters, x = n + 1, raise: the 4th cell
    assert "ValueError" in message and "planted failure" in message
    assert str(failed / "01_boom.ipynb") in message

    assert snapshot(good) == before  # byte for byte
    assert sorted(p.name for p in reports.iterdir()) == ["monthly", "monthly.failed"]
    assert not (failed / "old.txt").exists()
    assert not (failed / "02_never.ipynb").exists()  # the run stopped
    kept = nbformat.read(failed / "01_boom.ipynb", as_version=4)
    errors = [o for c in kept.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.evalue for e in errors] == ["planted failure"]
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert [e["status"] for e in manifest["notebooks"]] == ["failed", "not run"]


def test_lists_belong_to_their_run(tmp_path, monkeypatch):
    """A clearance-2 run, a clearance-4 run that fails after writing its list, a clearance-2 run
    again: the failed run changes no file a reader picks up, the good runs' lists are in their
    run folder, named with the clearance and linked from the index, and the last good run
    removes the failed run's folder (its list holds personal data at clearance 4)."""
    monkeypatch.chdir(tmp_path)
    notebooks = tmp_path / "notebooks"
    write_notebook(
        notebooks / "01_lists.ipynb",
        'clearance = 2\nexport_dir = "data/exports"\nfail = False',
        "from pathlib import Path\nimport pandas as pd\nfrom dbmarketing import privacy",
        "frame = pd.DataFrame({'customer_id': ['C1'], 'phone': ['13812345678']})\n"
        "privacy.export_frame(frame, Path(export_dir) / privacy.export_name('list', clearance, '.csv'), clearance, "
        "tiers={'phone': 3})",
        "assert not fail, 'planted failure after the export'",
    )
    reports = tmp_path / "reports"
    params = tmp_path / "params.yaml"

    def run(text):
        params.write_text(text)
        return run_reports(params, "monthly", notebooks_dir=notebooks, reports_dir=reports, progress=False)

    folder = run("clearance: 2\n")
    assert snapshot(folder / "exports") == {"list_clearance2.csv": "\ufeffcustomer_id,phone\r\nC1,138****5678\r\n".encode()}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["exports"] == ["exports/list_clearance2.csv"]
    assert 'href="exports/list_clearance2.csv"' in (folder / "index.html").read_text()
    good = snapshot(folder)
    with pytest.raises(ReportError, match="planted failure"):
        run("clearance: 4\nfail: true\n")
    assert snapshot(folder) == good  # no list and no report a reader picks up changed
    assert (reports / "monthly.failed" / "exports" / "list_clearance4.csv").read_bytes() == \
        "\ufeffcustomer_id,phone\r\nC1,13812345678\r\n".encode()
    assert not (tmp_path / "data").exists()  # nothing outside the run folder
    run("clearance: 2\n")
    assert not (reports / "monthly.failed").exists()
    with pytest.raises(ParameterError, match="export_dir"):
        run("export_dir: data/exports\n")


def test_one_run_of_a_name_at_a_time_and_a_killed_run_does_not_block(tmp_path):
    """A second run of the same name stops at once, naming the process that holds the run; the
    lock of a process killed with SIGKILL is free again."""
    import signal
    import subprocess
    import sys

    from dbmarketing.reports import RunLock

    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "01_one.ipynb", None, "print(1)")
    params = tmp_path / "params.yaml"
    params.write_text("")
    reports = tmp_path / "reports"
    reports.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from dbmarketing.reports import RunLock\n"
         "with RunLock(Path(sys.argv[1]), 'monthly'):\n    print('held', flush=True); time.sleep(60)", str(reports)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ReportError) as info:
            run_reports(params, "monthly", notebooks_dir=notebooks, reports_dir=reports, progress=False)
        message = str(info.value)
        assert "already running" in message and f"process {holder.pid}" in message and "started 20" in message
        assert "\n" not in message
        assert not (reports / ".monthly.partial").exists() and not (reports / "monthly").exists()
        with RunLock(reports, "daily"):  # another name is free
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with RunLock(reports, "monthly"):  # the killed run's lock does not block
        assert f"process {__import__('os').getpid()}" in (reports / ".monthly.lock").read_text()


def test_traceback_on_stderr_is_a_failure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notebooks = tmp_path / "notebooks"
    write_notebook(
        notebooks / "01_swallowed.ipynb", None,
        "import traceback\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    traceback.print_exc()",
    )
    params = tmp_path / "params.yaml"
    params.write_text("")
    reports = tmp_path / "reports"
    # An earlier run was interrupted mid-swap: its last good report sits aside.
    (reports / ".daily.previous").mkdir(parents=True)
    (reports / ".daily.previous" / "index.html").write_text("last good")
    with pytest.raises(ReportError) as info:
        run_reports(params, "daily", notebooks_dir=notebooks, reports_dir=reports, progress=False)
    assert "01_swallowed" in str(info.value)
    assert "stderr" in str(info.value)
    assert snapshot(reports / "daily") == {"index.html": b"last good"}  # put back, untouched
    assert not (reports / ".daily.previous").exists()
    assert (reports / "daily.failed" / "01_swallowed.ipynb").exists()


def _kernel_children() -> set[int]:
    """Process ids of the kernels this test process started (alive, not zombies): its children
    that run ipykernel, and its zygote's (reports.zygote), which are forked from the zygote."""
    zygote_pid = zygote._zygote.pid if zygote._zygote is not None else None
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # the process ended while we looked
            continue
        started = int(fields[1]) == os.getpid() and b"ipykernel" in cmdline
        forked = int(fields[1]) == zygote_pid  # a fork keeps its zygote's command line
        if fields[0] != "Z" and (started or forked):
            found.add(int(stat.parent.name))
    return found


def test_kernels_started_ahead_are_each_notebooks_own_and_none_is_left(tmp_path, monkeypatch):
    """The runner starts the next notebook's kernel while one runs (reports.kernels): still one
    fresh kernel per notebook (a variable of one is not seen by the next, each has its own
    process), every kernel is shut down after a good run, and after a failed run too (the
    kernel started for the notebook that never ran included)."""
    monkeypatch.chdir(tmp_path)
    notebooks = tmp_path / "notebooks"
    show = "import os\nprint(os.getpid(), 'planted' in globals(), os.getppid())"
    write_notebook(notebooks / "01_a.ipynb", None, "planted = 1", show)
    write_notebook(notebooks / "02_b.ipynb", None, show)
    write_notebook(notebooks / "03_c.ipynb", None, show)
    params = tmp_path / "params.yaml"
    params.write_text("")
    before = _kernel_children()
    out = run_reports(params, "ahead", notebooks_dir=notebooks, reports_dir=tmp_path / "reports", progress=False)
    seen = [stream_texts(nbformat.read(out / f"{n}.ipynb", as_version=4)).split() for n in ("01_a", "02_b", "03_c")]
    assert [s[1] for s in seen] == ["True", "False", "False"]
    assert len({s[0] for s in seen}) == 3
    if hasattr(os, "fork"):  # each forked from the run's zygote (reports.zygote)
        assert {s[2] for s in seen} == {str(zygote._zygote.pid)}
    assert _kernel_children() == before

    write_notebook(notebooks / "02_b.ipynb", None, "raise ValueError('planted failure')")
    with pytest.raises(ReportError, match="02_b"):
        run_reports(params, "ahead", notebooks_dir=notebooks, reports_dir=tmp_path / "reports", progress=False)
    assert _kernel_children() == before
    assert (out / "03_c.html").exists()  # the good run is kept, its pages written


# --------------------------------------------------------------------------------------
# Parameter validation (no kernel)
# --------------------------------------------------------------------------------------

@pytest.fixture
def param_notebooks(tmp_path):
    notebooks = tmp_path / "notebooks"
    write_notebook(
        notebooks / "01_a.ipynb",
        'bins = 5\nthreshold = 0.5\nas_of = "2024-01-01"\nlabel = None\nshow_all = False\n'
        "channels = ['sms', 'email']",
        "print(bins)",
    )
    write_notebook(notebooks / "02_b.ipynb", "bins = 5\ninteractive = True", "print(bins)")
    return notebooks


def test_declared_parameters_infer_types(param_notebooks):
    declared = declared_parameters(param_notebooks / "01_a.ipynb")
    assert {name: info["type"] for name, info in declared.items()} == {
        "bins": int, "threshold": float, "as_of": str, "label": None, "show_all": bool, "channels": list,
    }
    assert declared["bins"]["default"] == 5


def test_unknown_parameter_is_an_error_before_anything_runs(tmp_path, param_notebooks):
    params = tmp_path / "bad.yaml"
    params.write_text("bins: 4\ncolour: red\n")
    reports = tmp_path / "reports"
    with pytest.raises(ParameterError) as info:
        run_reports(params, "r", notebooks_dir=param_notebooks, reports_dir=reports, progress=False)
    message = str(info.value)
    assert str(params) in message and "'colour'" in message
    for known in ("as_of", "bins", "channels", "interactive", "label", "show_all", "threshold"):
        assert known in message
    assert isinstance(info.value, ValueError)
    assert not reports.exists()


@pytest.mark.parametrize("text, name", [
    ("bins: five\n", "bins"),
    ("bins: true\n", "bins"),          # a bool is not an int
    ("bins: 2.5\n", "bins"),           # a float is not an int
    ("show_all: 1\n", "show_all"),     # an int is not a bool
    ("threshold: '0.3'\n", "threshold"),
    ("as_of: 20240101\n", "as_of"),
    ("channels: sms\n", "channels"),
])
def test_wrong_type_is_an_error_before_anything_runs(tmp_path, param_notebooks, text, name):
    params = tmp_path / "bad.yaml"
    params.write_text(text)
    reports = tmp_path / "reports"
    with pytest.raises(ParameterError) as info:
        run_reports(params, "r", notebooks_dir=param_notebooks, reports_dir=reports, progress=False)
    assert str(params) in str(info.value)
    assert repr(name) in str(info.value)
    assert not reports.exists()


def test_accepted_values_and_what_each_notebook_receives(tmp_path, param_notebooks):
    notebooks = find_notebooks(param_notebooks)
    assert [nb.name for nb in notebooks] == ["01_a.ipynb", "02_b.ipynb"]
    plan = plan_parameters(
        {"bins": 4, "threshold": 1, "as_of": dt.date(2024, 3, 31), "label": 7, "channels": ["mail"]},
        notebooks, "p.yaml",
    )
    assert plan["01_a"] == {"bins": 4, "threshold": 1, "as_of": "2024-03-31", "label": 7, "channels": ["mail"]}
    assert plan["02_b"] == {"bins": 4, "interactive": False}
    assert plan_parameters({"interactive": True}, notebooks)["02_b"] == {"interactive": True}


def test_unreadable_params_file(tmp_path, param_notebooks):
    with pytest.raises(ParameterError, match="missing.yaml"):
        run_reports(tmp_path / "missing.yaml", "r", notebooks_dir=param_notebooks,
                    reports_dir=tmp_path / "reports", progress=False)
    listing = tmp_path / "list.yaml"
    listing.write_text("- bins\n- 4\n")
    with pytest.raises(ParameterError, match="mapping"):
        run_reports(listing, "r", notebooks_dir=param_notebooks, reports_dir=tmp_path / "reports", progress=False)
    assert not (tmp_path / "reports").exists()


def test_bad_run_name_and_no_notebooks(tmp_path, param_notebooks):
    params = tmp_path / "p.yaml"
    params.write_text("")
    for name in ("", "../x", ".hidden", "x.failed"):
        with pytest.raises(ReportError):
            run_reports(params, name, notebooks_dir=param_notebooks, reports_dir=tmp_path / "reports")
    with pytest.raises(ReportError, match="no notebooks"):
        run_reports(params, "r", notebooks_dir=tmp_path / "empty", reports_dir=tmp_path / "reports")
    assert not (tmp_path / "reports").exists()


# --------------------------------------------------------------------------------------
# Cleaning and checking, on notebooks built in memory
# --------------------------------------------------------------------------------------

def noisy_notebook():
    nb = new_notebook()
    # nbconvert renders a widget view only when the notebook holds the widget's state.
    state = {m: {"model_name": "IntSliderModel", "model_module": "@jupyter-widgets/controls",
                 "model_module_version": "2.0.0", "state": {}} for m in ("m1", "m2")}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": state, "version_major": 2, "version_minor": 0}}
    cell = new_code_cell("do_things()", execution_count=1)
    cell.outputs = [
        new_output("stream", name="stdout", text="result 42\n"),
        new_output("stream", name="stderr", text="/x.py:1: FutureWarning: old api\n  do_things()\n"),
        new_output("display_data", data={WIDGET_VIEW: {"model_id": "m1", "version_major": 2, "version_minor": 0},
                                         "text/plain": "IntSlider(value=3)"}),
        new_output("display_data", data={WIDGET_VIEW: {"model_id": "m2", "version_major": 2, "version_minor": 0},
                                         "image/png": "iVBORw0KGgo=", "text/plain": "Figure()"}),
    ]
    nb.cells = [new_markdown_cell("# Noise"), cell]
    return nb


def test_check_report_html_finds_noise_and_clean_outputs_removes_it(tmp_path):
    nb = noisy_notebook()
    noisy = export_html(nb, tmp_path / "noisy.html", with_code=False)
    problems = " | ".join(check_report_html(noisy))
    assert "Warning" in problems and "Loading widget" in problems and "Error" in problems

    removed = clean_outputs(nb)
    assert removed["stderr"] == 1 and removed["widgets"] == 2
    assert removed["warnings"] == ["/x.py:1: FutureWarning: old api"]
    outputs = nb.cells[1].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data"]
    assert set(outputs[1].data) == {"image/png"}  # the static alternative of the widget
    assert "widgets" not in nb.metadata
    for with_code in (False, True):
        clean = export_html(nb, tmp_path / f"clean{with_code}.html", with_code=with_code)
        assert check_report_html(clean) == []
        assert "result 42" in clean.read_text()


def test_pages_from_the_exporters_kept_for_the_process_are_those_of_new_exporters(tmp_path):
    """export_html keeps one exporter per kind of page (and remembers its highlighted and cleaned
    code cells and its markdown), and sets the attributes nbconvert's exporter sets with a pass of
    BeautifulSoup over the page (alternative text of images, focusable cells) on the template's
    text: a page is what a new nbconvert exporter writes, tag for tag and attribute for attribute
    (both read by BeautifulSoup), whatever was exported before it."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from dbmarketing.reports.pages import _NBCONVERT_LOG, _without_headlines

    plain = new_notebook()
    cell = new_code_cell("show()", execution_count=1)
    cell.outputs = [new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>",
                                                     "text/plain": "1"})]
    chart = new_code_cell("plot()", execution_count=2)
    chart.outputs = [new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
                     new_output("stream", name="stdout", text="<img src=x> is text here\n")]
    plain.cells = [new_markdown_cell("# Plain\n\n![a chart](data:image/png;base64,iVBORw0KGgo=) and <img src='y.png'>"),
                   cell, chart, new_markdown_cell("Same *words* again")]
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # a widget view's element id
    for with_code in (True, False):
        for name, nb in [("noisy", noisy_notebook()), ("plain", plain), ("noisy", noisy_notebook())]:
            fresh = HTMLExporter(log=_NBCONVERT_LOG) if with_code else HTMLExporter(
                log=_NBCONVERT_LOG, exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
            expected, _ = fresh.from_notebook_node(_without_headlines(nb), resources={"metadata": {"name": name}})
            page = export_html(nb, tmp_path / f"{name}{with_code}.html", with_code=with_code, title=name)
            read = str(BeautifulSoup(page.read_text(encoding="utf-8"), features="html.parser"))
            assert uuid.sub("id", read) == uuid.sub("id", expected), (name, with_code)
            if name == "plain":  # its chart and its markdown's images
                assert read.count('alt="No description has been provided for this image"') == 2
            assert read.count('tabindex="0"') == expected.count('tabindex="0"') > 0


def test_an_executed_notebook_is_written_when_it_ends_even_by_a_kernel_that_died(tmp_path, monkeypatch):
    """The runner's papermill engine writes the output notebook once, when execution ends (not
    when each cell starts and ends), and still keeps what ran when the kernel dies."""
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill import engines

    from dbmarketing.reports import engine

    writes = []
    write = engines.write_ipynb
    monkeypatch.setattr(engines, "write_ipynb", lambda nb, path: (writes.append(path), write(nb, path)))
    nb = new_notebook(cells=[new_code_cell("x = 41"), new_code_cell("print(x + 1)"),
                             new_code_cell("import os\nos._exit(1)"), new_code_cell("print('never')")])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source, output = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, source)
    with pytest.raises(DeadKernelError):
        papermill.execute_notebook(str(source), str(output), progress_bar=False, kernel_name="python3",
                                   engine_name=engine.NAME)
    assert writes == [str(output)]
    executed = nbformat.read(output, as_version=4)
    assert executed.cells[1].outputs[0].text == "42\n" and executed.cells[3].outputs == []


def test_check_report_html_finds_tracebacks_but_ignores_code(tmp_path):
    nb = new_notebook()
    cell = new_code_cell("warnings.warn('x', UserWarning)  # code may name a UserWarning", execution_count=1)
    cell.outputs = [new_output("error", ename="KeyError", evalue="'id'",
                               traceback=["Traceback (most recent call last)", "KeyError: 'id'"])]
    nb.cells = [cell]
    page = export_html(nb, tmp_path / "error.html", with_code=True)
    problems = check_report_html(page)
    assert any(p.startswith("Traceback") for p in problems)
    assert any(p.startswith("Error") for p in problems)
    assert not any(p.startswith("Warning") for p in problems)  # the code cell is not output
    assert find_errors(nb) == ["cell In [1]: KeyError: 'id'"]


def test_find_errors_tells_warnings_from_errors():
    nb = new_notebook()
    cell = new_code_cell("x", execution_count=3)
    cell.outputs = [new_output("stream", name="stderr", text="/a.py:2: UserWarning: an error-prone setting\n")]
    nb.cells = [cell]
    assert find_errors(nb) == []
    cell.outputs.append(new_output("stream", name="stderr", text="ERROR:root:could not load batch 7\n"))
    assert find_errors(nb) == ["cell In [3] wrote an error to stderr: ERROR:root:could not load batch 7"]


def test_parameter_papermill_cannot_parse_is_an_error(tmp_path):
    """papermill silently skips `x = 1  # a = b`; the runner refuses instead of ignoring the parameter."""
    import nbformat as nbf

    from dbmarketing import reports

    nb = nbf.v4.new_notebook()
    cell = nbf.v4.new_code_cell('db_path = "x"\nas_of = "2026-01-01"   # analysis date ("latest" = newest)')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "01_x.ipynb"
    nbf.write(nb, path)
    with pytest.raises(reports.ParameterError, match="as_of"):
        reports.declared_parameters(path)


@pytest.fixture
def workbook_notebook(tmp_path):
    """A notebook declaring the workbook's own parameters (as notebooks 01, 04 and 05 do)."""
    (tmp_path / "sources.yaml").write_text("sources: []\n")
    (tmp_path / "my_segments.yaml").write_text("segments: []\n")
    (tmp_path / "email_test.yaml").write_text("path: email_test.csv\n")
    return write_notebook(
        tmp_path / "notebooks" / "01_w.ipynb",
        'db_path = "crm.duckdb"\nsources = "sources.yaml"\nas_of = "2026-10-31"\nclearance = 4\n'
        'campaign_file = ""\nsegments = ""', "print(clearance)")


@pytest.mark.parametrize("text, name, words", [
    ("clearance: 7\n", "clearance", "1-4"),
    ("clearance: 0\n", "clearance", "1-4"),
    ("as_of: 31/10/2026\n", "as_of", "YYYY-MM-DD"),
    ("as_of: newest\n", "as_of", "latest"),
    ("sources: nowhere/sources.yaml\n", "sources", "existing sources file"),
    ("db_path: no_such_folder/crm.duckdb\n", "db_path", "existing folder"),
    # notebooks 04 and 05 would fail only after 01-03 had loaded and cleaned
    ("campaign_file: params/campaigns/missing.yaml\n", "campaign_file", "existing campaign export column map file"),
    ("campaign_file: notebooks\n", "campaign_file", "existing campaign export column map file"),  # a folder
    ("segments: my_segmnets.yaml\n", "segments", "existing segment map file"),
])
def test_bad_value_is_an_error_before_anything_runs(tmp_path, monkeypatch, workbook_notebook, text, name, words):
    monkeypatch.chdir(tmp_path)
    params = tmp_path / "bad.yaml"
    params.write_text(text)
    with pytest.raises(ParameterError) as info:
        run_reports(params, "r", notebooks_dir=workbook_notebook.parent, reports_dir=tmp_path / "reports")
    message = str(info.value)
    assert str(params) in message and repr(name) in message and words in message
    assert not (tmp_path / "reports").exists()


def test_good_values_and_the_scheduled_clearance(tmp_path, monkeypatch, workbook_notebook):
    monkeypatch.chdir(tmp_path)
    notebooks = [workbook_notebook]
    for params in ({"as_of": "latest"}, {"as_of": " Latest "}, {"as_of": dt.date(2026, 1, 31)},
                   {"clearance": 1}, {"sources": "sources.yaml", "db_path": "crm.duckdb"},
                   {"campaign_file": "", "segments": " "}, {"campaign_file": "email_test.yaml", "segments": "my_segments.yaml"}):
        plan_parameters(params, notebooks, "p.yaml")
    # a report run unattended shows clearance 2 (no personal data in clear) unless the file says otherwise,
    # whatever the notebook's interactive default (4 here)
    assert plan_parameters({}, notebooks)["01_w"] == {"clearance": 2}
    assert plan_parameters({"clearance": 3}, notebooks)["01_w"] == {"clearance": 3}


def test_a_kernel_that_cannot_be_started_ahead_leaves_the_notebook_to_papermill(tmp_path, monkeypatch):
    """When the kernel started ahead fails to import the workbook, it is shut down and the
    notebook runs in a kernel papermill starts, as before the runner started kernels ahead."""
    from dbmarketing.reports import kernels

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(kernels, "WARM_IMPORTS", "raise ValueError('planted warm-up failure')")
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "01_a.ipynb", None, "print(6 * 7)")
    params = tmp_path / "params.yaml"
    params.write_text("")
    before = _kernel_children()
    out = run_reports(params, "cold", notebooks_dir=notebooks, reports_dir=tmp_path / "reports", progress=False)
    assert stream_texts(nbformat.read(out / "01_a.ipynb", as_version=4)).strip() == "42"
    assert _kernel_children() == before


def test_report_kernels_show_no_duckdb_progress_bar(tmp_path, monkeypatch):
    """DuckDB shows a progress bar for a query of more than two seconds; in a kernel papermill
    starts it is a widget, which a report page can only show as one that needs live code (chapter
    01 at 100M transactions had 34). The runner's kernels turn it off (warehouse.PROGRESS_BAR_ENV);
    the second notebook takes the variable away again and finds DuckDB's bar on: the setting is
    what made the difference."""
    from dbmarketing.reports import kernels

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(kernels, "WARM_IMPORTS", "raise ValueError('planted: kernels as papermill starts them')")
    cell = ("import os\nfrom dbmarketing import warehouse\n"
            "if {pop}:\n    os.environ.pop(warehouse.PROGRESS_BAR_ENV)\n"
            "print(warehouse.connect(':memory:').execute(\"SELECT current_setting('enable_progress_bar')\").fetchone()[0])")
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "01_report.ipynb", None, cell.format(pop=False))
    write_notebook(notebooks / "02_without.ipynb", None, cell.format(pop=True))
    params = tmp_path / "params.yaml"
    params.write_text("")
    out = run_reports(params, "bars", notebooks_dir=notebooks, reports_dir=tmp_path / "reports", progress=False)
    shown = {name: stream_texts(nbformat.read(out / f"{name}.ipynb", as_version=4)).strip()
             for name in ("01_report", "02_without")}
    assert shown == {"01_report": "False", "02_without": "True"}
