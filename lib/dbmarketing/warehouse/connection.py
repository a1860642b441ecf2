"""Connecting to the customer database: one DuckDB file holding the customer information model.

Layers (schemas):

1. ``raw``   -- the sources as loaded by :mod:`dbmarketing.ingest`, one row per accepted
   source record, each tagged with its ``batch_id`` and ``source_line``.
2. ``main``  -- the clean core tables and the customer-level marts that later stages write,
   plus the bookkeeping tables ``catalog``, ``catalog_tables``, ``load_batches`` and
   ``rejects``.
3. ``truth`` -- written only by :mod:`dbmarketing.sample`: the planted ground truth that
   tests and evaluations compare against. Notebooks never read it.

Every column of every table the workbook writes is described in ``main.catalog`` with a
privacy tier: 1 public, 2 deep-public, 3 private, 4 highly private. Code that adds a table
registers it with :func:`register_table`; display and export code asks the catalog which
columns a reader's ``clearance`` may see.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb

from dbmarketing import messages

DEFAULT_PATH = Path("data/crm.duckdb")

from . import sql
from .schema import create_schema


class DatabaseFileError(OSError):
    """The path given as the customer database is not one (a SQLite file, a text file, a
    folder), or the database cannot be opened."""


# A DuckDB file holds these bytes at offset 8 (after a checksum); a SQLite file starts with the other.
DUCKDB_MAGIC = (8, b"DUCK")
SQLITE_MAGIC = b"SQLite format 3\x00"


def check_database_file(path: str | Path) -> None:
    """DatabaseFileError when `path` exists and is not a DuckDB file. DuckDB itself would take
    a SQLite file for an attached database and try to download its SQLite extension."""
    path = Path(path)
    if path.is_dir():
        kind = "a folder"
    elif not path.exists():
        return
    else:
        try:
            with open(path, "rb") as f:
                head = f.read(16)
        except OSError as error:
            raise DatabaseFileError(f"{path}: cannot read the customer database ({error.strerror})") from None
        offset, magic = DUCKDB_MAGIC
        if head[offset:offset + len(magic)] == magic:
            return
        kind = ("a SQLite database (to load its tables, name it as a source: url: sqlite:///...)"
                if head.startswith(SQLITE_MAGIC) else "an empty file" if not head else "a file of another kind")
    raise DatabaseFileError(f"{path}: not a customer database: it is {kind}, not a DuckDB file; point --db "
                            "(db_path in a parameters file) at the customer database, or at a new file name to create one")


# How long opening the database waits for another process that holds it (a report run writing,
# a notebook cell reading) before it says who holds it.
WAIT_SECONDS = 120.0

# DuckDB takes up to 80 % of the machine's memory by default. The workbook's process holds
# pandas frames beside it (a model of ten million customers is gigabytes), and notebooks, the
# scheduled run and other users' kernels share the machine: a query larger than this spills
# to disk (the temporary folder DuckDB keeps next to the database file, <database>.tmp)
# instead of taking memory the others need. DBMARKETING_DUCKDB_MEMORY (e.g. "8GB") sets it.
MEMORY_SHARE = 0.5


def memory_limit() -> str:
    """DuckDB's memory limit for the workbook's connections: DBMARKETING_DUCKDB_MEMORY, or
    :data:`MEMORY_SHARE` of the machine's memory."""
    import os

    given = os.environ.get("DBMARKETING_DUCKDB_MEMORY", "").strip()
    if given:
        return given
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1, int(total * MEMORY_SHARE / 2**20))}MB"



# DuckDB shows a progress bar for a query that takes more than two seconds: in JupyterLab a
# widget, in a terminal a line of text. A report run (dbmarketing.reports) sets this variable to
# "off" in its kernels: nobody watches them, and the bar's widgets, saved in the notebook without
# their live code, are what its HTML page would show (at 100M transactions chapter 01 had 34).
PROGRESS_BAR_ENV = "DBMARKETING_PROGRESS_BAR"


class DatabaseBusy(DatabaseFileError):
    """Another process held the database for longer than the wait (one line: who, how long)."""


def connect(path: str | Path = DEFAULT_PATH, read_only: bool = False,
            wait: float = WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the customer database and make sure its schema exists.

    DuckDB lets one process write a database file, or several read it, not both. If another
    process holds the file, this waits up to ``wait`` seconds for it and then raises
    :class:`DatabaseBusy` naming that process. Raises :class:`DatabaseFileError` in one line
    when the path is not a DuckDB file or the database cannot be opened."""
    path = Path(path)
    if str(path) != ":memory:":
        check_database_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseFileError(f"{path}: cannot create its folder {path.parent} ({error.strerror})") from None
    con = _open(path, read_only, wait)
    if not read_only:
        create_schema(con)
    return con


def _open(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    import re
    import time

    deadline = time.monotonic() + wait
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute(f"SET memory_limit = '{memory_limit()}'")
            if os.environ.get(PROGRESS_BAR_ENV, "").strip().lower() == "off":
                con.execute("SET enable_progress_bar = false")
            return con
        except duckdb.Error as error:
            text = str(error)
            if "Could not set lock" not in text:
                raise DatabaseFileError(f"{path}: cannot open the customer database: {messages.foreign(error)}") from None
            if time.monotonic() >= deadline:
                holder = re.search(r"Conflicting lock is held in (\S+) \(PID (\d+)\)", text)
                who = f"process {holder[2]} ({Path(holder[1]).name})" if holder else "another process"
                raise DatabaseBusy(
                    f"{path} is in use by {who} (waited {wait:g} s): a report run or a notebook cell is using it; "
                    "let it finish or stop it, then try again") from None
            time.sleep(0.2)


def upgrade(path: str | Path, wait: float = WAIT_SECONDS) -> None:
    """Create the database or bring its schema up to date (as the writer, for a moment), so
    read-only connections find every table and column this version expects; a file that is
    read-only on disk (an analyst's published copy) is left as it is."""
    import os

    path = Path(path)
    if not path.exists() or os.access(path, os.W_OK):
        connect(path, wait=wait).close()


class Session:
    """The customer database as a notebook holds it: only while a step uses it.

    DuckDB allows one writing process or many reading ones, not both, so a notebook that kept
    its connection open would lock out every other notebook and the scheduled run. A session
    behaves like a DuckDB connection (``con.execute(...)``, and library functions take it),
    but opens the file **read-only** when a step first uses it and closes it when the step
    ends: after each cell in Jupyter, after each widget action, or at :meth:`release`.
    Writing steps (loading, cleaning, storing a mart) take the write connection for their
    duration only: ``with con.writing(): ...``. Opening waits for another process's step
    (up to ``wait`` seconds, then :class:`DatabaseBusy` says who holds the file).

    Creating a session creates the database or upgrades its schema (briefly, as the writer),
    unless the file is read-only on disk (an analyst's published copy).

    ``engine="spark"``: the aggregates over every transaction (the RFM summary and scores, the
    repeat-purchase summary the CLV models fit, the customer 360, the basket counts) and the
    scoring of duplicate pairs in cleaning run on a
    Spark session (``spark_master``) over a warehouse of Parquet tables (``spark_warehouse``,
    by default beside the database: ``crm.duckdb`` -> ``crm.parquet/``), which mirrors the
    database's tables before each such step (:func:`compute_on`). The database stays the one
    the workbook writes to: loading, cleaning and the marts.
    """

    def __init__(self, path: str | Path = DEFAULT_PATH, wait: float = WAIT_SECONDS, engine: str = "duckdb",
                 spark_master: str = "local[2]", spark_warehouse: str | Path | None = None):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        self.path = Path(path)
        self.wait = wait
        self.compute_engine = engine  # not .engine: the session itself always runs on DuckDB (dialect.engine_of)
        self.spark_master = spark_master
        self.spark_warehouse = Path(spark_warehouse) if spark_warehouse else self.path.with_suffix(".parquet")
        self._con: duckdb.DuckDBPyConnection | None = None
        self._spark = None
        self._in_cell = False
        self._writing = False
        upgrade(self.path, wait)
        self._shell = self._watch_cells()

    def _watch_cells(self):
        try:
            from IPython import get_ipython
        except ImportError:  # plain Python: the caller releases
            return None
        shell = get_ipython()
        if shell is not None:
            shell.events.register("pre_run_cell", self._cell_starts)
            shell.events.register("post_run_cell", self._cell_ends)
        return shell

    def _cell_starts(self, *_):
        self._in_cell = True

    def _cell_ends(self, *_):
        self._in_cell = False
        self.release()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The open connection, opened read-only now if no step holds one."""
        if self._con is None:
            self._con = _open(self.path, True, self.wait)
            kernel = getattr(self._shell, "kernel", None)
            if not self._in_cell and kernel is not None:  # a widget action: close once it is done
                kernel.io_loop.add_callback(self.release)
        return self._con

    def __getattr__(self, name):
        return getattr(self.connection(), name)

    def writing(self):
        """``with con.writing(): ...``: the write connection for one step, then released."""
        from contextlib import contextmanager

        @contextmanager
        def step():
            if self._writing:  # nested: the outer step holds it
                yield self
                return
            self.release()
            self._con = connect(self.path, wait=self.wait)
            self._writing = True
            try:
                yield self
            finally:
                self._writing = False
                self.release()

        return step()

    def release(self) -> None:
        """Close the connection (the next use opens it again)."""
        if self._con is not None and not self._writing:
            con, self._con = self._con, None
            con.close()

    close = release  # a notebook's last cell closes its connection; widgets still reopen it

    def compute_on(self):
        """Where an aggregate over every transaction runs: this session itself on DuckDB; with
        ``engine="spark"`` the Spark connection, its Parquet warehouse first brought up to date
        with the database (only the tables that changed are written again)."""
        if self.compute_engine == "duckdb":
            return self
        from . import spark

        if self._spark is None:
            self._spark = spark.SparkConnection(spark.session(self.spark_master), self.spark_warehouse)
        spark.mirror(self.connection(), self._spark, self.spark_warehouse)
        return self._spark


ENGINES = ("duckdb", "spark")


def compute_on(con):
    """The connection an aggregate over every transaction runs on (the one place that decides):
    a :class:`Session`'s engine (:meth:`Session.compute_on`), else ``con`` itself (a DuckDB
    connection, or a Spark connection given directly)."""
    return con.compute_on() if isinstance(con, Session) else con



def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint(con) -> str:
    """A short fingerprint of the database contents: every table's row count and the batches loaded."""
    tables = sql.run(con, "warehouse.all_tables").fetchall()
    counts = [(s, t, sql.one(con, "warehouse.count_rows", table=sql.ident(s, t))[0]) for s, t in tables]
    batches = sql.one(con, "warehouse.batch_fingerprints")[0]
    return hashlib.sha256(repr((counts, batches)).encode()).hexdigest()[:16]

