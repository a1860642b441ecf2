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
2. It executes ``notebooks/NN_*.ipynb`` in order into ``reports/.<run>.partial/``, each in a
   kernel of its own, started (and the workbook imported) while the previous notebook runs
   (:mod:`.kernels`); a notebook's pages are written while the next one runs. Each
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

The parameters are checked in :mod:`.parameters`, an executed notebook read and cleaned in
:mod:`.executed`, its pages written in :mod:`.pages`, the run's index in :mod:`.index`, and
the versions the manifest records found in :mod:`.versions`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NoReturn

import nbformat
import papermill

from dbmarketing import messages
from dbmarketing.course import without_course
from dbmarketing.present.words import LANGS

from ._common import _plain
from .errors import ParameterError, ReportError
from .executed import _describe_failure, clean_outputs, find_errors, headlines, notebook_title, skipped_sections
from . import engine
from .kernels import KernelsAhead
from .index import export_rows, previous_run, section_anchor, write_index
from .pages import export_html
from .editions import edition_dir
from .parameters import (NOTEBOOK_PATTERN, _give_as_of, _run_as_of, declared_parameters, find_notebooks, load_params,
                         plan_parameters)
from .versions import lock_file_info, package_versions

# Notebooks that write the raw and clean layers: they run on the full database only, never on
# an analyst copy made by `dbmarketing publish` (their pseudonymized data would be loaded or
# cleaned again).
FULL_DATABASE_ONLY = ("01_data_collection", "02_data_cleaning")

EXPORTS = "exports"  # folder of a run's lists (CSV, Excel), inside reports/<run>/


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


def _check_run_name(run_name: str) -> None:
    if (not run_name or run_name in (".", "..") or run_name.startswith(".")
            or "/" in run_name or "\\" in run_name or run_name.endswith(".failed")):
        raise ReportError(
            f"run name {run_name!r} cannot be a folder name under reports/: use letters, digits, "
            f"'-', '_' or '.', not starting with '.' nor ending in '.failed'"
        )


def run_reports(params_file: str | Path, run_name: str, notebooks_dir: str | Path = "notebooks",
                reports_dir: str | Path = "reports", progress: bool = True,
                kernel_name: str = "python3", course: bool = False, overrides: dict | None = None) -> Path:
    """Execute every numbered notebook and publish the reports in ``reports/<run_name>/``.

    Parameters
    ----------
    params_file : path of the YAML parameters file (a flat mapping ``name: value``).
    run_name : name of the run; the folder ``reports/<run_name>/`` is replaced on success.
    notebooks_dir : folder holding ``NN_name.ipynb`` notebooks, run in name order.
    reports_dir : folder holding one folder per run.
    progress : show papermill's progress bar and a line per notebook on stderr.
    kernel_name : Jupyter kernel to run the notebooks with.
    course : run the course cells too (learning goals, methods by hand, exercises and their
        checks: :mod:`dbmarketing.course`); a report leaves them out.
    overrides : parameters set for this run over the file's (``dbmarketing report --set
        engine=spark``), checked as the file's are.

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
    params = {**load_params(params_file), **(overrides or {})}
    lang = params.get("lang", "en")
    if lang in LANGS and lang != "en":  # a bad lang is refused, naming the file, by plan_parameters
        notebooks_dir = edition_dir(notebooks_dir, lang)
    notebooks = find_notebooks(notebooks_dir)
    if not notebooks:
        raise ReportError(f"no notebooks named {NOTEBOOK_PATTERN} in {notebooks_dir}")
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
                    progress, kernel_name, left_out, course)


def _run(notebooks, params, params_file, plan, run_as_of, run_name, notebooks_dir, reports_dir: Path,
         progress, kernel_name, left_out=(), course=False) -> Path:
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
        "lang": params.get("lang", "en"),
        "as_of": run_as_of,
        "status": "running",
        "started": _now(),
        "finished": None,
        "params_file": str(params_file),
        "params_path": str(Path(params_file).resolve()),
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
        "course": course,
    }
    clearances = {given["clearance"] for given in plan.values() if "clearance" in given}
    as_of = run_as_of or ("after loading" if "as_of" in params else None)
    messages.log(f"report {run_name}: {len(notebooks)} notebooks"
                 + (f", as of {as_of}" if as_of else "")
                 + (f", clearance {', '.join(map(str, sorted(clearances)))}" if clearances else "")
                 + f", params {params_file}")
    cwd = os.getcwd()
    # The kernel's own log (a TCP-encryption notice per kernel; "KeyboardInterrupt caught in
    # kernel" when it is shut down after a failed cell) is not for readers. No input history
    # file, as nbclient starts its own kernels: a report needs none, and every kernel of every
    # run would write the same SQLite file in the home folder (a thread each). No DuckDB progress
    # bars (warehouse.PROGRESS_BAR_ENV): nobody watches a report's kernel, and its page would
    # show each bar's widget as one that needs live code.
    from dbmarketing.warehouse import PROGRESS_BAR_ENV  # imports duckdb: not at the module's top

    kernel_args = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.hist_file=:memory:",
                   f"--IPKernelApp.exec_lines=import os; os.environ['{PROGRESS_BAR_ENV}'] = 'off'"]
    with KernelsAhead(len(notebooks), kernel_name, cwd, kernel_args) as kernels:
        run_as_of = _run_notebooks(notebooks, params, params_file, plan, run_as_of, manifest, partial, failed, final,
                                   progress, kernel_name, kernel_args, kernels, course)

    manifest["database"] = _database_info(params, notebooks)
    for entry in manifest["notebooks"]:  # as the reader finds it: inside the run's folder
        if "export_dir" in entry["parameters"]:
            entry["parameters"]["export_dir"] = EXPORTS
    manifest["export_about"] = _export_about(exports)
    manifest["exports"] = sorted(str(f.relative_to(partial)) for f in exports.rglob("*") if f.is_file()) \
        if exports.exists() else []
    manifest["export_rows"] = {name: export_rows(partial / name) for name in manifest["exports"]}
    manifest["period"] = _data_period(params, manifest["as_of"])
    manifest["status"] = "ok"
    manifest["finished"] = _now()
    _write_manifest(manifest, partial)
    write_index(partial / "index.html", manifest, previous_run(reports_dir, params_file, manifest))

    if (partial / ".sources").exists():  # the notebooks as run, without their course cells
        shutil.rmtree(partial / ".sources")
    # Swap: the new run replaces the old one only now that it is complete.
    if final.exists():
        final.rename(previous)
    partial.rename(final)
    if previous.exists():
        shutil.rmtree(previous)
    if failed.exists():  # a failed run's notebooks and lists, superseded by this good run
        shutil.rmtree(failed)
    return final


def _run_notebooks(notebooks, params, params_file, plan, run_as_of, manifest, partial, failed, final, progress,
                   kernel_name, kernel_args, kernels, course) -> str | None:
    """Execute the notebooks in order into ``partial`` and write their pages; returns the run's
    as-of date (resolved after the loading notebook when the parameters say "latest").

    A notebook's pages are written in a background thread while the next notebook runs; they
    are waited for before anything else can stop the run, so a failure names the right notebook
    and nothing is left writing into a folder that is being moved."""
    cwd = os.getcwd()
    pages = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pages")
    pending = None  # (the pages being written, notebook, its manifest entry)

    def wait_for_pages():
        nonlocal pending
        if pending is None:
            return
        (future, nb_path, entry), pending = pending, None
        try:
            future.result()
        except Exception as exc:
            entry["status"] = "failed"
            _fail(manifest, partial, failed, final, None, f"{nb_path} ran, but its report could not be written: "
                  f"{type(exc).__name__}: {messages.one_line(exc, 300)}", exc)
        entry["status"] = "ok"

    with pages:
        for i, (nb_path, entry) in enumerate(zip(notebooks, manifest["notebooks"]), 1):
            run_as_of = _run_one(i, nb_path, entry, notebooks, params, params_file, plan, run_as_of, manifest, partial,
                                 failed, final, progress, kernel_name, kernel_args, kernels, course, cwd,
                                 wait_for_pages)
            pending = (pages.submit(_write_pages, nb_path, entry, partial, manifest["lang"]), nb_path, entry)
        wait_for_pages()
    return run_as_of


def _write_pages(nb_path: Path, entry: dict, partial: Path, lang: str) -> None:
    """The executed notebook's two pages (without and with code) and its headline figures' anchors."""
    executed = nbformat.read(partial / entry["executed"], as_version=4)
    entry["html"] = export_html(executed, partial / f"{nb_path.stem}.html", False, entry["title"], lang).name
    entry["code_html"] = export_html(executed, partial / f"{nb_path.stem}.code.html", True, entry["title"], lang).name
    page = (partial / entry["html"]).read_text(encoding="utf-8")
    for figure in entry["headlines"]:
        figure["anchor"] = section_anchor(page, figure["section"])


def _run_one(i, nb_path, entry, notebooks, params, params_file, plan, run_as_of, manifest, partial, failed, final,
             progress, kernel_name, kernel_args, kernels, course, cwd, wait_for_pages) -> str | None:
    """Execute one notebook into ``partial`` and clean it; returns the run's as-of date."""
    if progress:
        print(f"[{i}/{len(notebooks)}] {nb_path.name}", file=sys.stderr, flush=True)
    output = partial / nb_path.name
    source = nb_path
    if not course:  # a report reads as before: the course cells are the course's (dbmarketing.course)
        source = partial / ".sources" / nb_path.name
        source.parent.mkdir(exist_ok=True)
        nbformat.write(without_course(nbformat.read(nb_path, as_version=4)), source)
    started = time.monotonic()
    km = kernels.take()  # started while the previous notebook ran (None: papermill starts one)
    try:
        papermill.execute_notebook(
            str(source), str(output), parameters=entry["parameters"], cwd=cwd,
            progress_bar=progress, kernel_name=kernel_name, log_output=False, extra_arguments=kernel_args, km=km,
            engine_name=engine.NAME,  # the notebook written when it ends, not at every cell
        )
    except Exception as exc:
        entry["seconds"] = round(time.monotonic() - started, 2)
        kernels.done(km)
        wait_for_pages()  # the previous notebook's pages: finished before the run is set aside
        entry["status"] = "failed"
        _fail(manifest, partial, failed, final, output,
              f"{nb_path} failed at {_describe_failure(exc, output)}", exc)
    finally:
        kernels.done(km)
    entry["seconds"] = round(time.monotonic() - started, 2)
    wait_for_pages()
    if run_as_of is None and "as_of" in params:  # resolved once the loading notebook has run
        try:
            run_as_of = _run_as_of(params, params_file, loaded=True)
        except ParameterError as exc:
            entry["status"] = "failed"
            _fail(manifest, partial, failed, final, output, f"after {nb_path.name}: {exc}", exc)
        if run_as_of is not None:
            _give_as_of(plan, run_as_of)  # the manifest's entries share these dicts
            manifest["as_of"] = run_as_of
            messages.log(f"as of {run_as_of}: the newest purchase, now that the sources are loaded")

    executed = nbformat.read(output, as_version=4)
    entry["title"] = notebook_title(executed, nb_path.stem)
    entry["skipped"] = skipped_sections(executed)
    entry["headlines"] = headlines(executed)
    errors = find_errors(executed)
    if errors:
        entry["status"] = "failed"
        _fail(manifest, partial, failed, final, output, f"{nb_path} failed: {errors[0]}")
    try:
        entry["removed_outputs"] = clean_outputs(executed)
        nbformat.write(executed, output)
        entry["executed"] = output.name
    except Exception as exc:
        entry["status"] = "failed"
        _fail(manifest, partial, failed, final, None, f"{nb_path} ran, but its report could not be written: "
              f"{type(exc).__name__}: {messages.one_line(exc, 300)}", exc)
    skipped = [s["section"] for s in entry["skipped"]]
    messages.log(f"{nb_path.stem} ok in {entry['seconds']:.1f} s"
                 + (f"; skipped: {messages.cut_list(skipped, 4, 24)}" if skipped else ""))
    return run_as_of


def _export_about(exports: Path) -> dict[str, str]:
    """What each exported list is (export name -> one line), from the notes the export writer
    left beside the lists (:data:`dbmarketing.privacy.ABOUT_FILE`), which are then removed."""
    from dbmarketing import privacy

    about = {}
    for notes in sorted(exports.rglob(privacy.ABOUT_FILE)) if exports.exists() else []:
        folder = notes.parent.relative_to(exports.parent)
        about.update({(folder / name).as_posix(): line
                      for name, line in json.loads(notes.read_text(encoding="utf-8")).items()})
        notes.unlink()
    return about


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


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _write_manifest(manifest: dict, folder: Path) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


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


def _data_period(params: dict, as_of: str | None) -> list[str] | None:
    """[first purchase, as-of date] of the run's database (ISO dates), or None when unknown."""
    db_path = params.get("db_path")
    if not isinstance(db_path, str) or not Path(db_path).exists():
        return None
    from dbmarketing import warehouse

    con = warehouse.connect(db_path, read_only=True)
    try:
        if not warehouse.table_exists(con, "raw", "orders"):
            return None
        first, newest = warehouse.purchase_dates(con)
    finally:
        con.close()
    if first is None:
        return None
    return [first.isoformat(), as_of or newest.isoformat()]


def _fail(manifest: dict, partial: Path, failed: Path, final: Path, output: Path | None, message: str,
          cause: Exception | None = None) -> NoReturn:
    """Keep the partial run as ``<run>.failed`` for debugging and raise :class:`ReportError`."""
    manifest["status"] = "failed"
    manifest["finished"] = _now()
    manifest["error"] = message
    for entry in manifest["notebooks"]:
        if entry["status"] == "failed":
            messages.log(f"{entry['name']} FAILED after {entry['seconds'] or 0:.1f} s: the error follows; "
                         "the last good report is kept")
    if output is not None and output.exists():
        try:  # the failed notebook as analysts read it, traceback included
            export_html(nbformat.read(output, as_version=4), output.with_name(f"{output.stem}.code.html"), True)
        except Exception as exc:  # the executed notebook itself is what matters; say why there is no HTML
            manifest["error_html"] = f"no HTML of the failed notebook: {type(exc).__name__}: {exc}"
    manifest["export_about"] = _export_about(partial / EXPORTS)  # the lists written so far, as a good run says them
    _write_manifest(manifest, partial)
    if failed.exists():
        shutil.rmtree(failed)
    partial.rename(failed)
    kept = failed / output.name if output is not None and (failed / output.name).exists() else failed
    raise ReportError(
        f"Report run {manifest['run_name']!r} stopped: {message}; "
        f"the failed notebook is kept in {kept}; {final} was not changed"
    ) from cause
