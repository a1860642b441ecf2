"""Run the numbered notebooks with papermill and publish them as HTML reports.

One call, :func:`run_reports`, makes a report run:

1. It reads the parameters file (YAML, a flat mapping ``name: value`` shared by all
   notebooks) and checks it against the parameters cell of every notebook (the cell tagged
   ``parameters``) *before anything runs*: a name no notebook declares, a value of the
   wrong type, or a bad value of a parameter the workbook knows (``clearance`` 1-4,
   ``as_of`` an ISO date or "latest", ``sources`` an existing, valid sources file,
   ``db_path`` in an existing folder and a DuckDB file if it exists, ``campaign_file`` and
   ``segments`` empty or an existing file) raises :class:`ParameterError` (or the sources
   file's or database file's own error), in one line naming the file and the line, column
   or parameter.
2. It executes ``notebooks/NN_*.ipynb`` in order into ``reports/.<run>.partial/``. Each
   notebook receives only the parameters it declares; a notebook that declares
   ``interactive`` gets ``interactive=False`` unless the parameters file sets it, so its
   widgets show a static default view, and one that declares ``clearance`` gets the
   clearance of unattended reports (:data:`dbmarketing.privacy.SCHEDULED_CLEARANCE`)
   unless the file sets it.
3. It removes the noise a manager should not read (warnings on stderr, widget views that
   would show "Loading widget...") and writes, per notebook, the executed ``NN_name.ipynb``,
   ``NN_name.html`` (no code, for business readers) and ``NN_name.code.html`` (with code, for
   analysts); then ``index.html`` and ``manifest.json``.
4. Lists the notebooks export (``export_dir``) are written into the run's own
   ``exports/`` folder, named with the clearance, and linked from the index: they are
   swapped in with the reports, so no list a reader picks up changes unless the run succeeds.
   One run of a name at a time (:class:`RunLock`).
5. Only when every notebook succeeded does the new run replace ``reports/<run>/`` (and
   remove a stale ``reports/<run>.failed/``). When a
   notebook fails, the run stops, ``reports/<run>/`` stays exactly as it was, the executed
   notebooks so far are kept in ``reports/<run>.failed/`` and :class:`ReportError` says which
   notebook and which cell failed.

:func:`check_report_html` lists the noise found in an HTML file; tests use it.
:func:`lock_file_info` says which lock file the environment was installed from and whether it
still is the lock's; the manifest records it with the package versions.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import html
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import NoReturn

import nbformat
import papermill
from nbconvert import HTMLExporter
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from dbmarketing import messages
from dbmarketing.privacy import SCHEDULED_CLEARANCE

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Distributions whose versions go into the manifest (those installed).
VERSIONED_PACKAGES = ("dbmarketing", "pandas", "duckdb", "papermill", "nbconvert",
                      "scikit-learn", "splink", "statsmodels")

# The lock file `make setup` installs the environment from (`make lock` writes it), at the
# root of the project the package runs from (lib/dbmarketing/report.py -> ../..).
LOCK_FILE = "requirements.lock"
PROJECT_ROOT = Path(__file__).resolve().parents[3]

# Text on stderr that means something went wrong, not just a warning.
STDERR_ERROR = re.compile(
    r"Traceback \(most recent call last\)"
    r"|^\s*(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception):"
    r"|^ERROR\b|\bERROR:",
    re.MULTILINE,
)

# Python's type names for the types a parameter can be declared with.
SIMPLE_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}


class ParameterError(ValueError):
    """The parameters file does not fit the notebooks' parameters cells."""


class ReportError(RuntimeError):
    """A report run failed: a notebook raised, or the run could not be set up."""


# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------

def find_notebooks(notebooks_dir: str | Path = "notebooks") -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) of a folder, in order."""
    return sorted(Path(notebooks_dir).glob(NOTEBOOK_PATTERN))


def load_params(params_file: str | Path) -> dict:
    """Read a parameters file: a YAML mapping ``name: value`` (an empty file is ``{}``).
    Raises :class:`ParameterError` in one line naming the file, and the line and column of a
    YAML error or of a date that does not exist (``as_of: 2026-02-30``)."""
    path = Path(params_file)
    params = messages.read_yaml(path, ParameterError, "parameters file")
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ParameterError(f"{path}: expected a mapping 'name: value', found a {type(params).__name__}")
    for name in params:
        if not isinstance(name, str) or not name.isidentifier():
            raise ParameterError(f"{path}: parameter name {messages.one_line(repr(name), 80)} is not a valid "
                                 "Python name")
    return params


def declared_parameters(notebook: str | Path) -> dict[str, dict]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Returns name -> ``{"default": value or None, "source": text of the default,
    "type": expected Python type or None (anything goes)}``.
    """
    declared = {}
    try:
        inspected = papermill.inspect_notebook(str(notebook))
    except Exception as exc:  # not JSON, not a notebook, a parameters cell that does not parse
        raise ReportError(f"{notebook}: cannot read the notebook's parameters: {type(exc).__name__}: "
                          f"{messages.foreign(exc)}") from None
    _check_parameters_cell(notebook, inspected)
    for name, info in inspected.items():
        source = info.get("default") or ""
        try:
            default = ast.literal_eval(source)
            known = True
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default, known = None, False
        if known:
            expected = None if default is None else type(default)
        else:
            # An expression (e.g. date(2024, 1, 1)): fall back on a simple annotation, if any.
            expected = SIMPLE_TYPES.get((info.get("inferred_type_name") or "").strip())
        if expected is tuple:
            expected = list
        declared[name] = {"default": default, "source": source, "type": expected}
    return declared


def _check_parameters_cell(notebook, inspected: dict) -> None:
    """Every top-level assignment in the parameters cell must be understood by papermill
    (its parser skips, with only a log line, an assignment whose comment contains '=')."""
    nb = nbformat.read(str(notebook), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        return
    try:
        body = ast.parse(cells[0].source).body
    except SyntaxError as exc:
        raise ParameterError(f"{notebook}: the parameters cell is not valid Python (its line {exc.lineno}: "
                             f"{exc.msg})") from None
    assigned = [t.id for node in body if isinstance(node, (ast.Assign, ast.AnnAssign))
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)]
    missed = [name for name in assigned if name not in inspected]
    if missed:
        raise ParameterError(f"{notebook}: papermill cannot read the parameter(s) {', '.join(missed)} in the "
                             "parameters cell (one assignment per line; no '=' inside a comment)")


def _plain(value):
    """A parameter value as papermill and JSON take it: dates become ISO strings."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _type_matches(value, expected) -> bool:
    if expected is None:
        return True
    if expected is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):  # True is an int to Python, not to a marketer
        return False
    if expected is float:
        return isinstance(value, (int, float))
    if expected is str:
        return isinstance(value, (str, dt.date, dt.datetime, dt.time))  # YAML reads 2024-01-01 as a date
    if expected is list:
        return isinstance(value, (list, tuple))
    return isinstance(value, expected)


def check_values(params: dict, params_file: str | Path = "<params>") -> None:
    """Check the values of the parameters the workbook knows, as set in a parameters file.

    ``clearance`` 1-4; ``as_of`` an ISO date (2026-10-31) or "latest"; ``sources`` an
    existing sources file that :func:`dbmarketing.ingest.read_sources` accepts; ``db_path``
    a file in an existing folder (the database itself may be created by notebook 01), a
    DuckDB file if it exists; ``campaign_file`` (notebook 05) and ``segments`` (notebook 04)
    empty or an existing file, so a missing one stops the run before notebooks 01-03 load
    and clean. Relative paths are taken from the current directory, where the notebooks
    run. Raises :class:`ParameterError` naming the file and the parameter (a sources file's
    own errors are :class:`~dbmarketing.ingest.ConfigError`, a database file's
    :class:`~dbmarketing.warehouse.DatabaseFileError`, each naming its file).
    """
    def fail(name, problem):
        raise ParameterError(f"{params_file}: parameter {name!r} {problem}, got "
                             f"{messages.one_line(repr(params[name]), 80)}")

    if "clearance" in params:
        value = params["clearance"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            fail("clearance", "must be 1-4 (1 public, 2 deep-public, 3 private, 4 highly private)")
    if "as_of" in params and not isinstance(params["as_of"], dt.date):
        text = str(params["as_of"]).strip()
        if text.lower() != "latest":
            try:
                dt.date.fromisoformat(text)
            except ValueError as error:
                fail("as_of", f"must be a date written YYYY-MM-DD (e.g. 2026-10-31) or 'latest' ({error})")
    if "sources" in params:
        if not Path(str(params["sources"])).is_file():
            fail("sources", f"must name an existing sources file (relative to {Path.cwd()})")
        from dbmarketing import ingest

        ingest.read_sources(params["sources"])  # its own errors name the sources file, line and key
    if "db_path" in params:
        if not Path(str(params["db_path"])).resolve().parent.is_dir():
            fail("db_path", f"must be in an existing folder (relative to {Path.cwd()})")
        from dbmarketing import warehouse

        warehouse.check_database_file(str(params["db_path"]))  # a SQLite or text file is refused naming it
    for name, what in (("campaign_file", "campaign export column map"), ("segments", "segment map")):
        value = params.get(name)
        if value is not None and str(value).strip() and not Path(str(value)).is_file():
            fail(name, f"must be empty or name an existing {what} file (relative to {Path.cwd()})")


def plan_parameters(params: dict, notebooks: list[Path], params_file: str | Path = "<params>") -> dict[str, dict]:
    """Check the parameters against the notebooks and say what each notebook receives.

    Returns notebook name (``NN_name``) -> the parameters given to it: the names it declares
    that the file sets, plus ``interactive=False`` if it declares ``interactive`` and
    ``clearance=privacy.SCHEDULED_CLEARANCE`` if it declares ``clearance``, when the file
    does not set them. Raises :class:`ParameterError` naming the file and the parameter:
    unknown names, wrong types, bad values (:func:`check_values`).
    """
    declared = {nb.stem: declared_parameters(nb) for nb in notebooks}
    known = sorted({name for names in declared.values() for name in names})
    for name in params:
        if name not in known:
            like = messages.closest(name, known)
            raise ParameterError(
                f"{params_file}: unknown parameter {messages.one_line(repr(name), 80)}: no notebook declares it"
                + (f"; {like}" if like else "") + f"; known parameters: {messages.cut_list(known) or '(none)'}"
            )
    for stem, names in declared.items():
        for name, info in names.items():
            if name in params and not _type_matches(params[name], info["type"]):
                value = params[name]
                raise ParameterError(
                    f"{params_file}: parameter {name!r} should be {info['type'].__name__} "
                    f"(as declared in {stem}.ipynb: {name} = {messages.one_line(info['source'], 80)}), "
                    f"got {type(value).__name__} {messages.one_line(repr(value), 80)}"
                )
    if "export_dir" in params:
        raise ParameterError(f"{params_file}: parameter 'export_dir' is set by the report run: the lists go into "
                             "reports/<run>/exports/ and replace the last run's only when the whole run succeeds; "
                             "remove it from the parameters file")
    check_values(params, params_file)
    unattended = {"interactive": False, "clearance": SCHEDULED_CLEARANCE}
    plan = {}
    for stem, names in declared.items():
        given = {name: _plain(params[name]) for name in names if name in params}
        for name, value in unattended.items():
            if name in names and name not in params:
                given[name] = value
        plan[stem] = given
    return plan


# ---------------------------------------------------------------------------------------
# Cleaning executed notebooks
# ---------------------------------------------------------------------------------------

def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def find_errors(nb) -> list[str]:
    """Problems in an executed notebook that make the run a failure.

    Error outputs, and stderr text showing a traceback or an error (a warning is not an
    error). Each problem names the cell (``In [n]``).
    """
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        where = f"cell In [{cell.get('execution_count') or ' '}]"
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{where}: {out.get('ename')}: {messages.one_line(out.get('evalue'), 300)}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = _text(out.get("text"))
                match = STDERR_ERROR.search(text)
                if match:
                    line = text[match.start():].strip().splitlines()[0]
                    problems.append(f"{where} wrote an error to stderr: {messages.one_line(line, 200)}")
    return problems


def skipped_sections(nb) -> list[dict]:
    """The sections an executed notebook skipped, each with its reason, in order
    (:func:`dbmarketing.warehouse.skip` marks them in the output metadata)."""
    from dbmarketing.warehouse import SKIPPED_KEY

    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            mark = (out.get("metadata") or {}).get(SKIPPED_KEY) or {}
            if mark.get("skipped") and all(f["section"] != mark["skipped"] for f in found):
                found.append({"section": mark["skipped"], "reason": mark.get("reason", "")})
    return found


def clean_outputs(nb) -> dict:
    """Remove what a report reader should not see, in place.

    - stderr streams (warnings);
    - widget views: the widget part of an output is dropped, a static alternative (image,
      HTML, markdown, ...) is kept, an output with nothing else left is dropped;
    - the widget state in the notebook metadata (it would make the HTML load widget code).

    Returns ``{"stderr": n, "widgets": n, "warnings": [first lines of the stderr removed]}``.
    """
    removed = {"stderr": 0, "widgets": 0, "warnings": []}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                removed["stderr"] += 1
                for line in _text(out.get("text")).splitlines():
                    line = line.strip()
                    if line and line not in removed["warnings"] and len(removed["warnings"]) < 20:
                        removed["warnings"].append(line[:300])
                        break
                continue
            data = out.get("data")
            if data and WIDGET_VIEW in data:
                removed["widgets"] += 1
                static = {k: v for k, v in data.items() if k not in (WIDGET_VIEW, "text/plain")}
                if not static:
                    continue
                out["data"] = nbformat.from_dict(static)
            kept.append(out)
        cell["outputs"] = kept
    widgets = nb.metadata.get("widgets")
    if widgets is not None:
        widgets.pop(WIDGET_STATE, None)
        if not widgets:
            del nb.metadata["widgets"]
    return removed


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

def notebook_title(nb, stem: str) -> str:
    """The first markdown heading of a notebook, else its name in words."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in _text(cell.source).splitlines():
                if line.startswith("#"):
                    title = line.lstrip("#").strip()
                    if title:
                        return title
    return stem.replace("_", " ")


# nbconvert warns on every chart that has no alternative text; keep the console quiet.
_NBCONVERT_LOG = logging.getLogger("dbmarketing.reports.nbconvert")
_NBCONVERT_LOG.setLevel(logging.ERROR)


def export_html(nb, path: str | Path, with_code: bool, title: str | None = None) -> Path:
    """Write a notebook as a standalone HTML page, with or without its code."""
    if with_code:
        exporter = HTMLExporter(log=_NBCONVERT_LOG)
    else:
        exporter = HTMLExporter(log=_NBCONVERT_LOG, exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
    resources = {"metadata": {"name": title or Path(path).stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


class _ReportHTMLScanner(HTMLParser):
    """Collects the visible text of an nbconvert page, leaving out code and page furniture."""

    SKIP_CLASSES = ("jp-InputArea-editor", "input_area")  # code input (lab, classic)
    STDERR_CLASSES = ("output_stderr", "output_error")  # classic template

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.widget_views = 0
        self.stderr_areas = 0
        self.skip_tag = None
        self.skip_depth = 0
        self.in_script_or_style = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "script" and attrs.get("type") == WIDGET_VIEW:
            self.widget_views += 1
        if tag in ("script", "style"):
            self.in_script_or_style += 1
            return
        if attrs.get("data-mime-type") == "application/vnd.jupyter.stderr" or any(
            c in self.STDERR_CLASSES for c in classes
        ):
            self.stderr_areas += 1
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
        elif any(c in self.SKIP_CLASSES for c in classes):
            self.skip_tag, self.skip_depth = tag, 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.in_script_or_style = max(0, self.in_script_or_style - 1)
            return
        if self.skip_tag is not None and tag == self.skip_tag:
            self.skip_depth -= 1
            if self.skip_depth == 0:
                self.skip_tag = None

    def handle_data(self, data):
        if self.skip_tag is None and not self.in_script_or_style:
            self.text.append(data)


def check_report_html(path: str | Path) -> list[str]:
    """Problems a reader would see in a report page; an empty list means a clean page.

    Looks, outside the code cells, for a "Traceback", Python warnings ("UserWarning",
    "FutureWarning", "DeprecationWarning", "RuntimeWarning", ...), "Loading widget" and widget
    views (which show "Loading widget..." in a browser), and error or stderr output areas.
    """
    scanner = _ReportHTMLScanner()
    scanner.feed(Path(path).read_text(encoding="utf-8"))
    scanner.close()
    text = "".join(scanner.text)
    problems = []

    def context(match):
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        return text[start:end if end >= 0 else len(text)].strip()[:160]

    for label, pattern in [
        ("Traceback", r"Traceback"),
        ("Warning", r"\b[A-Z]\w*Warning\b"),
        ("Loading widget", r"Loading widget"),
    ]:
        match = re.search(pattern, text)
        if match:
            problems.append(f"{label}: {context(match)!r}")
    if scanner.widget_views:
        problems.append(f"Loading widget: {scanner.widget_views} widget view(s) that need live widget code")
    if scanner.stderr_areas:
        problems.append(f"Error: {scanner.stderr_areas} error or stderr output area(s)")
    return problems


def _clearance_of(manifest: dict):
    """The clearance the run's notebooks were given (the scheduled one unless the file set it)."""
    given = {e["parameters"].get("clearance") for e in manifest["notebooks"] if "clearance" in e.get("parameters", {})}
    return ", ".join(str(c) for c in sorted(given)) or SCHEDULED_CLEARANCE


def write_index(path: str | Path, manifest: dict) -> Path:
    """Write ``index.html``: run name, date, parameters and one line per notebook."""
    esc = html.escape
    params = manifest.get("parameters") or {}
    param_rows = "\n".join(
        f"<tr><td><code>{esc(name)}</code></td>"
        f"<td>{esc(value if isinstance(value, str) else json.dumps(value, default=str))}</td></tr>"
        for name, value in params.items()
    ) or '<tr><td colspan="2">(none: every notebook used its defaults)</td></tr>'
    nb_rows = []
    for i, entry in enumerate(manifest["notebooks"], 1):
        if entry.get("status") == "ok":
            links = (f'<a href="{esc(entry["html"])}">report</a> &middot; '
                     f'<a href="{esc(entry["code_html"])}">with code</a>')
        else:
            links = ""
        seconds = entry.get("seconds")
        skipped = "".join(f"<li><b>{esc(s['section'])}</b>: {esc(s['reason'].split('.** ', 1)[-1].removeprefix('Skipped: ' + s['section'] + '. '))}</li>"
                          for s in entry.get("skipped") or [])
        skipped = f'<ul class="skipped">{skipped}</ul>' if skipped else ""
        nb_rows.append(
            f"<tr><td>{i}</td><td>{esc(entry.get('title') or entry['name'])}<br>"
            f"<small>{esc(entry['name'])}</small>{skipped}</td><td>{links}</td>"
            f"<td class=\"num\">{'' if seconds is None else f'{seconds:.1f}'}</td>"
            f"<td>{esc(entry.get('status', ''))}</td></tr>"
        )
    for entry in manifest.get("notebooks_left_out") or []:
        nb_rows.append(f"<tr><td></td><td>{esc(entry['name'])}<br><small>{esc(entry['reason'])}</small></td>"
                       "<td></td><td></td><td>not run</td></tr>")
    exported = manifest.get("exports") or []
    exports_part = ""
    if exported:
        items = "".join(f'<li><a href="{esc(name)}">{esc(name.split("/", 1)[-1])}</a></li>' for name in exported)
        exports_part = (f"<h2>Lists</h2>\n<p class=\"meta\">Written by this run at clearance "
                        f"{esc(str(_clearance_of(manifest)))}: only the columns that clearance allows, masked "
                        f"or left out.</p>\n<ul>{items}</ul>")
    database = manifest.get("database") or {}
    db_line = ""
    if database:
        db_line = (f"<p>Database: <code>{esc(str(database.get('path')))}</code>"
                   + (f" &middot; fingerprint <code>{esc(database['fingerprint'])}</code>"
                      if database.get("fingerprint") else "") + "</p>")
    body = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reports: {esc(manifest['run_name'])}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 56em;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
h2 {{ font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }}
.meta {{ color: #666; margin-top: 0; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }}
th {{ background: #f6f6f6; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
small {{ color: #888; }}
a {{ color: #0b5cad; }}
ul.skipped {{ margin: 0.4em 0 0 1.1em; padding: 0; font-size: 0.88em; color: #555; }}
</style>
</head>
<body>
<h1>Reports: {esc(manifest['run_name'])}</h1>
<p class="meta">Started {esc(manifest['started'])} &middot; finished {esc(manifest.get('finished') or '')}
&middot; parameters from <code>{esc(str(manifest['params_file']))}</code></p>
<h2>Notebooks</h2>
<p class="meta">Sections a notebook skipped are listed under it, with what they would need.</p>
<table>
<tr><th>#</th><th>Notebook</th><th>Read</th><th class="num">Seconds</th><th>Status</th></tr>
{chr(10).join(nb_rows)}
</table>
{exports_part}
<h2>Parameters</h2>
<table>
<tr><th>Name</th><th>Value</th></tr>
{param_rows}
</table>
{db_line}
<p><small>Details (parameters per notebook, versions): <a href="manifest.json">manifest.json</a></small></p>
</body>
</html>
"""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------

def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape a report (those installed)."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def locked_versions(text: str) -> dict[str, str]:
    """The pins of a lock file in requirements format that apply to this platform and Python.

    A pin is a line ``name==version`` with an optional environment marker (``; sys_platform ==
    'darwin'``), as uv and pip-tools write them; ``--hash`` continuation lines, comments and
    options are skipped. Returns ``{canonical name: version}``. Raises ValueError naming the
    line that is not an exact pin.
    """
    pins = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line[:1].isalnum():
            continue
        try:
            requirement = Requirement(line.rstrip("\\ "))
        except InvalidRequirement as exc:
            raise ValueError(f"line {number} is not a requirement: {exc}") from None
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise ValueError(f"line {number} is not an exact pin (name==version): {line.strip()}")
        if requirement.marker is None or requirement.marker.evaluate():
            pins[canonicalize_name(requirement.name)] = specifiers[0].version
    return pins


def lock_file_info(path: str | Path | None = None) -> dict | None:
    """The lock file the environment was installed from, for the manifest.

    Returns ``name`` and ``path`` of the file, the ``sha256`` of its bytes, and ``differs``:
    each package pinned for this platform whose installed version is not the pinned one,
    ``{"locked": version, "installed": version or None}``. ``differs`` is empty when the
    environment is the lock's (what ``make setup`` installs), so the sha256 names the versions
    a run computed with; a venv not re-installed since the lock changed shows up there. A lock
    that cannot be read as pins has ``error`` instead of ``differs``. None when there is no
    lock file (the package does not run from a project folder).

    path : the lock file; by default ``requirements.lock`` at the root of the project.
    """
    path = Path(path) if path is not None else PROJECT_ROOT / LOCK_FILE
    if not path.is_file():
        return None
    data = path.read_bytes()
    info = {"name": path.name, "path": str(path.resolve()), "sha256": hashlib.sha256(data).hexdigest()}
    try:
        pins = locked_versions(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        info["error"] = f"{path.name}: {exc}"
        return info
    differs = {}
    for name, version in pins.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed is None or not _same_version(installed, version):
            differs[name] = {"locked": version, "installed": installed}
    info["differs"] = differs
    return info


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)  # 1.0 and 1.0.0 are one version
    except InvalidVersion:
        return a == b


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _database_info(params: dict, notebooks: list[Path]) -> dict | None:
    """Path and fingerprint of the database the run used, if a ``db_path`` is known."""
    db_path = params.get("db_path")
    if db_path is None:
        for nb in notebooks:
            default = declared_parameters(nb).get("db_path", {}).get("default")
            if isinstance(default, str):
                db_path = default
                break
    if not isinstance(db_path, str):
        return None
    info = {"path": db_path, "exists": Path(db_path).exists(), "fingerprint": None}
    if info["exists"]:
        from dbmarketing import warehouse  # imports duckdb; only needed here

        try:
            con = warehouse.connect(db_path, read_only=True)
            try:
                info["fingerprint"] = warehouse.fingerprint(con)
            finally:
                con.close()
        except Exception as exc:  # a database without the bookkeeping tables, or locked
            info["error"] = f"{type(exc).__name__}: {exc}"
    return info


def _describe_failure(exc: Exception, output: Path) -> str:
    """Which cell failed, in words, from a papermill error and the executed notebook."""
    if isinstance(exc, papermill.PapermillExecutionError):
        cell_no = exc.cell_index + 1
        if output.exists():
            # Number the cell as in the source notebook: skip the cells papermill added.
            executed = nbformat.read(output, as_version=4)
            added = {"injected-parameters", "papermill-error-cell-tag"}
            original = [c for c in executed.cells if not added & set(c.metadata.get("tags", []))]
            for i, cell in enumerate(original):
                if cell.cell_type == "code" and cell.get("execution_count") == exc.exec_count:
                    cell_no = i + 1
                    break
        first_line = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
        return (f"cell {cell_no} (In [{exc.exec_count}] in the kept notebook): {exc.ename}: "
                f"{messages.one_line(exc.evalue, 300)}"
                + (f" (the cell starts: {messages.one_line(first_line, 80)})" if first_line else ""))
    return f"{type(exc).__name__}: {messages.one_line(exc, 300)}"


def _run_as_of(params: dict, params_file, loaded: bool) -> str | None:
    """The run's one as-of date (ISO text), resolved from the database by
    :func:`dbmarketing.warehouse.check_as_of` ("latest" = the newest counted purchase) and refused in
    one line when it lies outside the data. Before the loading notebook has run
    (``loaded`` False), a date is checked against the data there is and the deliveries the
    sources file is about to load, and "latest" is left for after loading (None); None too when
    the parameters set no as_of, or the database does not exist or holds nothing yet."""
    as_of = params.get("as_of")
    if as_of is None or not isinstance(params.get("db_path"), str) or not Path(params["db_path"]).exists():
        return None
    if not loaded and str(as_of).strip().lower() == "latest":
        return None
    from dbmarketing import ingest, warehouse

    coming = None
    if not loaded and params.get("sources"):
        dates = [s.extracted or dt.date.today() for s in ingest.read_sources(params["sources"])]
        coming = max(dates, default=None)
    warehouse.upgrade(params["db_path"])  # a database of an earlier version gains this version's bookkeeping columns
    con = warehouse.connect(params["db_path"], read_only=True)
    try:
        if not warehouse.table_exists(con, "main", "load_batches") or warehouse.newest_extraction(con) is None:
            return None
        day = warehouse.check_as_of(con, _plain(as_of), coming=coming).isoformat()
        return day if loaded else None
    except ValueError as exc:
        raise ParameterError(f"{params_file}: parameter 'as_of': {exc}") from None
    finally:
        con.close()


# Notebooks that write the raw and clean layers: they run on the full database only, never on
# an analyst copy made by `dbmarketing publish` (their pseudonymized data would be loaded or
# cleaned again).
FULL_DATABASE_ONLY = ("01_data_collection", "02_data_cleaning")


def _published_clearance(params: dict) -> int | None:
    """The clearance of the analyst copy ``db_path`` names, or None for a full database (or none)."""
    path = params.get("db_path")
    if not isinstance(path, str) or not Path(path).exists():
        return None
    from dbmarketing import warehouse, privacy

    con = warehouse.connect(path, read_only=True)
    try:
        held = privacy.database_clearance(con)
    finally:
        con.close()
    return None if held >= 4 else held


def _give_as_of(plan: dict[str, dict], as_of: str) -> None:
    """Every notebook that declares as_of gets the run's one resolved date."""
    for given in plan.values():
        if "as_of" in given:
            given["as_of"] = as_of


def _check_run_name(run_name: str) -> None:
    if (not run_name or run_name in (".", "..") or run_name.startswith(".")
            or "/" in run_name or "\\" in run_name or run_name.endswith(".failed")):
        raise ReportError(
            f"run name {run_name!r} cannot be a folder name under reports/: use letters, digits, "
            f"'-', '_' or '.', not starting with '.' nor ending in '.failed'"
        )


def run_reports(params_file: str | Path, run_name: str, notebooks_dir: str | Path = "notebooks",
                reports_dir: str | Path = "reports", progress: bool = True,
                kernel_name: str = "python3") -> Path:
    """Execute every numbered notebook and publish the reports in ``reports/<run_name>/``.

    Parameters
    ----------
    params_file : path of the YAML parameters file (a flat mapping ``name: value``).
    run_name : name of the run; the folder ``reports/<run_name>/`` is replaced on success.
    notebooks_dir : folder holding ``NN_name.ipynb`` notebooks, run in name order.
    reports_dir : folder holding one folder per run.
    progress : show papermill's progress bar and a line per notebook on stderr.
    kernel_name : Jupyter kernel to run the notebooks with.

    Returns
    -------
    The folder ``reports/<run_name>``.

    Raises
    ------
    ParameterError : the parameters file does not fit the notebooks (nothing was run).
    ReportError : a notebook failed (``reports/<run_name>`` untouched; the executed notebooks
        are kept in ``reports/<run_name>.failed/``), or there is nothing to run.
    """
    _check_run_name(run_name)
    notebooks = find_notebooks(notebooks_dir)
    if not notebooks:
        raise ReportError(f"no notebooks named {NOTEBOOK_PATTERN} in {notebooks_dir}")
    params = load_params(params_file)
    held = _published_clearance(params)
    left_out = []
    if held is not None:  # an analyst copy: loading and cleaning belong to the full database
        left_out = [{"name": nb.stem, "reason": f"{params['db_path']} is an analyst copy published at clearance {held}: "
                     "loading and cleaning run on the full database"} for nb in notebooks if nb.stem in FULL_DATABASE_ONLY]
        notebooks = [nb for nb in notebooks if nb.stem not in FULL_DATABASE_ONLY]
    plan = plan_parameters(params, notebooks, params_file)

    loads = any("sources" in given for given in plan.values())  # a notebook loads the sources first
    run_as_of = _run_as_of(params, params_file, loaded=not loads)
    if run_as_of is not None:
        _give_as_of(plan, run_as_of)

    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    with RunLock(reports_dir, run_name):
        return _run(notebooks, params, params_file, plan, run_as_of, run_name, notebooks_dir, reports_dir,
                    progress, kernel_name, left_out)


def _run(notebooks, params, params_file, plan, run_as_of, run_name, notebooks_dir, reports_dir: Path,
         progress, kernel_name, left_out=()) -> Path:
    """The run itself, under the run's lock (:func:`run_reports`)."""
    final = reports_dir / run_name
    partial = reports_dir / f".{run_name}.partial"
    previous = reports_dir / f".{run_name}.previous"
    failed = reports_dir / f"{run_name}.failed"
    # A run interrupted in the middle of the swap left the last good report aside: restore it.
    if previous.exists():
        if final.exists():
            shutil.rmtree(previous)
        else:
            previous.rename(final)
    if partial.exists():  # left by a run that was killed (the lock says no other run is writing it)
        shutil.rmtree(partial)
    partial.mkdir()
    exports = partial / EXPORTS
    for nb in notebooks:  # lists belong to the run: written inside it, swapped in with it
        if "export_dir" in declared_parameters(nb):
            plan[nb.stem]["export_dir"] = str(exports.resolve())

    manifest = {
        "run_name": run_name,
        "as_of": run_as_of,
        "status": "running",
        "started": _now(),
        "finished": None,
        "params_file": str(params_file),
        "parameters": _plain(params),
        "notebooks_dir": str(notebooks_dir),
        "database": None,
        "versions": package_versions(),
        "lock_file": lock_file_info(),
        "notebooks": [
            {"name": nb.stem, "notebook": str(nb), "title": None, "parameters": plan[nb.stem],
             "status": "not run", "seconds": None}
            for nb in notebooks
        ],
        "notebooks_left_out": list(left_out),
    }
    cwd = os.getcwd()
    for i, (nb_path, entry) in enumerate(zip(notebooks, manifest["notebooks"]), 1):
        if progress:
            print(f"[{i}/{len(notebooks)}] {nb_path.name}", file=sys.stderr, flush=True)
        output = partial / nb_path.name
        started = time.monotonic()
        try:
            papermill.execute_notebook(
                str(nb_path), str(output), parameters=entry["parameters"], cwd=cwd,
                progress_bar=progress, kernel_name=kernel_name, log_output=False,
                # The kernel's own log (a TCP-encryption notice per kernel; "KeyboardInterrupt
                # caught in kernel" when it is shut down after a failed cell) is not for readers.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
        except Exception as exc:
            entry["seconds"] = round(time.monotonic() - started, 2)
            entry["status"] = "failed"
            _fail(manifest, partial, failed, final, output,
                  f"{nb_path} failed at {_describe_failure(exc, output)}", exc)
        entry["seconds"] = round(time.monotonic() - started, 2)
        if run_as_of is None and "as_of" in params:  # resolved once the loading notebook has run
            try:
                run_as_of = _run_as_of(params, params_file, loaded=True)
            except ParameterError as exc:
                entry["status"] = "failed"
                _fail(manifest, partial, failed, final, output, f"after {nb_path.name}: {exc}", exc)
            if run_as_of is not None:
                _give_as_of(plan, run_as_of)  # the manifest's entries share these dicts
                manifest["as_of"] = run_as_of

        executed = nbformat.read(output, as_version=4)
        entry["title"] = notebook_title(executed, nb_path.stem)
        entry["skipped"] = skipped_sections(executed)
        errors = find_errors(executed)
        if errors:
            entry["status"] = "failed"
            _fail(manifest, partial, failed, final, output, f"{nb_path} failed: {errors[0]}")
        try:
            entry["removed_outputs"] = clean_outputs(executed)
            nbformat.write(executed, output)
            entry["executed"] = output.name
            entry["html"] = export_html(executed, partial / f"{nb_path.stem}.html", False, entry["title"]).name
            entry["code_html"] = export_html(executed, partial / f"{nb_path.stem}.code.html", True,
                                             entry["title"]).name
        except Exception as exc:
            entry["status"] = "failed"
            _fail(manifest, partial, failed, final, None, f"{nb_path} ran, but its report could not be written: "
                  f"{type(exc).__name__}: {messages.one_line(exc, 300)}", exc)
        entry["status"] = "ok"

    manifest["database"] = _database_info(params, notebooks)
    for entry in manifest["notebooks"]:  # as the reader finds it: inside the run's folder
        if "export_dir" in entry["parameters"]:
            entry["parameters"]["export_dir"] = EXPORTS
    manifest["exports"] = sorted(str(f.relative_to(partial)) for f in exports.rglob("*") if f.is_file()) \
        if exports.exists() else []
    manifest["status"] = "ok"
    manifest["finished"] = _now()
    _write_manifest(manifest, partial)
    write_index(partial / "index.html", manifest)

    # Swap: the new run replaces the old one only now that it is complete.
    if final.exists():
        final.rename(previous)
    partial.rename(final)
    if previous.exists():
        shutil.rmtree(previous)
    if failed.exists():  # a failed run's notebooks and lists, superseded by this good run
        shutil.rmtree(failed)
    return final


EXPORTS = "exports"  # folder of a run's lists (CSV, Excel), inside reports/<run>/


class RunLock:
    """One report run of a name at a time: an exclusive ``flock`` on ``reports/.<run>.lock``.

    The lock file says who holds it (process, host, start time) for the message a second run
    gets, and is removed when the run ends. The operating system releases the lock when its
    process ends, however it ends, so the lock of a killed run never blocks the next one."""

    def __init__(self, reports_dir: Path, run_name: str):
        self.path = Path(reports_dir) / f".{run_name}.lock"
        self.run_name = run_name
        self.file = None

    def __enter__(self):
        import fcntl

        while True:
            self.file = open(self.path, "a+", encoding="utf-8")
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.file.seek(0)
                holder = self.file.read().strip() or "another process"
                self.file.close()
                raise ReportError(f"report run {self.run_name!r} is already running ({holder}): wait for it to "
                                  f"finish or stop that process; {self.path} is released when it ends") from None
            try:  # the file a run that just ended removed is not the lock: take the one at the path
                if os.stat(self.path).st_ino == os.fstat(self.file.fileno()).st_ino:
                    break
            except FileNotFoundError:
                pass
            self.file.close()
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"process {os.getpid()} on {platform.node()}, started {_now()}")
        self.file.flush()
        return self

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)  # still held: nobody can take the removed file in between
        self.file.close()  # closing releases the lock
        return False



def _write_manifest(manifest: dict, folder: Path) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def _fail(manifest: dict, partial: Path, failed: Path, final: Path, output: Path | None, message: str,
          cause: Exception | None = None) -> NoReturn:
    """Keep the partial run as ``<run>.failed`` for debugging and raise :class:`ReportError`."""
    manifest["status"] = "failed"
    manifest["finished"] = _now()
    manifest["error"] = message
    if output is not None and output.exists():
        try:  # the failed notebook as analysts read it, traceback included
            export_html(nbformat.read(output, as_version=4), output.with_name(f"{output.stem}.code.html"), True)
        except Exception as exc:  # the executed notebook itself is what matters; say why there is no HTML
            manifest["error_html"] = f"no HTML of the failed notebook: {type(exc).__name__}: {exc}"
    _write_manifest(manifest, partial)
    if failed.exists():
        shutil.rmtree(failed)
    partial.rename(failed)
    kept = failed / output.name if output is not None and (failed / output.name).exists() else failed
    raise ReportError(
        f"Report run {manifest['run_name']!r} stopped: {message}; "
        f"the failed notebook is kept in {kept}; {final} was not changed"
    ) from cause
