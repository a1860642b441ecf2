"""The parameters of a report run: the YAML file, the notebooks' parameters cells, and the
check of one against the other before anything runs.

:func:`plan_parameters` says what each notebook receives and raises :class:`ParameterError`
in one line naming the file and the line, column or parameter: a name no notebook declares,
a value of the wrong type, or a bad value of a parameter the workbook knows
(:func:`check_values`). The run's as-of date is resolved once, from the database, and given
to every notebook that declares it.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import nbformat
import papermill

from dbmarketing import messages
from dbmarketing.present.words import LANGS
from dbmarketing.privacy import SCHEDULED_CLEARANCE

from ._common import _plain
from .errors import ParameterError, ReportError

NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"

# Python's type names for the types a parameter can be declared with.
SIMPLE_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}


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

    ``lang`` "en" or "zh"; ``engine`` "duckdb" or "spark" (then Java must be found); ``clearance`` 1-4; ``as_of`` an ISO date (2026-10-31) or "latest"; ``sources`` an
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

    if "lang" in params and params["lang"] not in LANGS:
        fail("lang", f"must be one of {', '.join(LANGS)} (the edition of the notebooks and the language of the "
                     "reports)")
    if "engine" in params:
        from dbmarketing.warehouse import ENGINES

        if params["engine"] not in ENGINES:
            fail("engine", f"must be one of {', '.join(ENGINES)} (where the sums over every purchase run)")
        if params["engine"] == "spark":  # no Java: say so before notebooks 01-02 load and clean
            from dbmarketing.warehouse.spark import EngineError, find_java

            try:
                find_java()
            except EngineError as error:
                fail("engine", str(error))
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


def _give_as_of(plan: dict[str, dict], as_of: str) -> None:
    """Every notebook that declares as_of gets the run's one resolved date."""
    for given in plan.values():
        if "as_of" in given:
            given["as_of"] = as_of
