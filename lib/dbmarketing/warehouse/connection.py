"""The customer database: one DuckDB file holding the customer information model.

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
from datetime import date, datetime
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dbmarketing import messages

DEFAULT_PATH = Path("data/crm.duckdb")

PUBLIC, DEEP_PUBLIC, PRIVATE, HIGHLY_PRIVATE = 1, 2, 3, 4


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    tier: int = PUBLIC
    required: bool = False  # a record without it cannot be loaded


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    origin: str = "internal"  # internal (own systems) or external (bought / public data)


C = Column

# The customer information model. These are the tables a source can be loaded into; the
# raw layer holds them as loaded, with batch_id and source_line added.
MODEL: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "customers",
            "Customer master: one row per customer record and version (history kept by valid_from/valid_to).",
            (
                C("customer_id", "VARCHAR", "Customer number in the source system", PUBLIC, True),
                C("customer_type", "VARCHAR", "consumer or distributor", PUBLIC),
                C("name", "VARCHAR", "Full name", PRIVATE),
                C("gender", "VARCHAR", "M or F as recorded", DEEP_PUBLIC),
                C("birth_date", "DATE", "Date of birth as recorded", PRIVATE),
                C("id_number", "VARCHAR", "Resident identity card number (15 or 18 digits)", HIGHLY_PRIVATE),
                C("phone", "VARCHAR", "Mobile or landline phone as recorded", PRIVATE),
                C("email", "VARCHAR", "E-mail address as recorded", PRIVATE),
                C("province", "VARCHAR", "Province as recorded", PUBLIC),
                C("city", "VARCHAR", "City as recorded", PUBLIC),
                C("address", "VARCHAR", "Street address", PRIVATE),
                C("signup_date", "DATE", "Date the customer registered", PUBLIC),
                C("signup_channel", "VARCHAR", "Where the customer registered (store, online, app, distributor, ...)", PUBLIC),
                C("consent_mail", "BOOLEAN", "Agreed to receive direct mail", DEEP_PUBLIC),
                C("consent_sms", "BOOLEAN", "Agreed to receive SMS", DEEP_PUBLIC),
                C("consent_email", "BOOLEAN", "Agreed to receive e-mail", DEEP_PUBLIC),
                C("consent_phone", "BOOLEAN", "Agreed to receive calls", DEEP_PUBLIC),
                C("source_system", "VARCHAR", "System the record came from (crm, pos, distributor, ...)", PUBLIC),
            ),
            key=("customer_id",),
        ),
        Table(
            "products",
            "Product master.",
            (
                C("product_id", "VARCHAR", "Product code", PUBLIC, True),
                C("product_name", "VARCHAR", "Product name", PUBLIC),
                C("category", "VARCHAR", "Product category", PUBLIC),
                C("price", "DOUBLE", "List price", PUBLIC),
                C("unit_cost", "DOUBLE", "Unit cost of goods", DEEP_PUBLIC),
            ),
            key=("product_id",),
        ),
        Table(
            "orders",
            "Order headers: sales and returns; cancelled orders kept with status cancelled.",
            (
                C("order_id", "VARCHAR", "Order number", PUBLIC, True),
                C("customer_id", "VARCHAR", "Customer number (empty for anonymous sales)", PUBLIC),
                C("order_date", "DATE", "Order date", PUBLIC, True),
                C("channel", "VARCHAR", "Sales channel (store, online, phone, distributor)", PUBLIC),
                C("order_type", "VARCHAR", "sale or return", PUBLIC),
                C("status", "VARCHAR", "completed or cancelled", PUBLIC),
                C("original_order_id", "VARCHAR", "For a return: the sale it returns", PUBLIC),
                C("city", "VARCHAR", "City of the store or delivery", PUBLIC),
                C("amount", "DOUBLE", "Order total, for exports without order lines (one line of quantity 1 is made "
                  "from it when the order has no lines)", PUBLIC),
            ),
            key=("order_id",),
        ),
        Table(
            "order_lines",
            "Order lines: product, quantity and price; returns carry negative quantities.",
            (
                C("order_id", "VARCHAR", "Order number", PUBLIC, True),
                C("line_no", "INTEGER", "Line number within the order", PUBLIC, True),
                C("product_id", "VARCHAR", "Product code", PUBLIC),
                C("quantity", "INTEGER", "Units (negative on returns); empty = 1", PUBLIC),
                C("unit_price", "DOUBLE", "Price paid per unit; empty = amount / quantity", PUBLIC),
                C("amount", "DOUBLE", "quantity x unit_price; empty = quantity x unit_price", PUBLIC),
            ),
            key=("order_id", "line_no"),
        ),
        Table(
            "campaigns",
            "Marketing campaigns.",
            (
                C("campaign_id", "VARCHAR", "Campaign code", PUBLIC, True),
                C("campaign_name", "VARCHAR", "Campaign name", PUBLIC),
                C("channel", "VARCHAR", "direct_mail, sms, email or outbound_call", PUBLIC),
                C("start_date", "DATE", "First contact date", PUBLIC),
                C("end_date", "DATE", "Last contact date", PUBLIC),
                C("response_window_days", "INTEGER", "Days after contact in which a purchase counts as a response", PUBLIC),
                C("cost_per_contact", "DOUBLE", "Cost of one contact", PUBLIC),
                C("offer", "VARCHAR", "The offer made", PUBLIC),
            ),
            key=("campaign_id",),
        ),
        Table(
            "contacts",
            "Who was selected for which campaign, in the test (contacted) or control (held out) cell.",
            (
                C("campaign_id", "VARCHAR", "Campaign code", PUBLIC, True),
                C("customer_id", "VARCHAR", "Customer number", PUBLIC, True),
                C("cell", "VARCHAR", "test (contacted) or control (held out)", PUBLIC),
                C("contact_date", "DATE", "Date of contact (planned date for control)", PUBLIC),
            ),
            key=("campaign_id", "customer_id"),
        ),
        Table(
            "service_tickets",
            "Customer service tickets: complaints, inquiries, returns.",
            (
                C("ticket_id", "VARCHAR", "Ticket number", PUBLIC, True),
                C("customer_id", "VARCHAR", "Customer number", PUBLIC),
                C("opened_date", "DATE", "Date opened", PUBLIC),
                C("ticket_type", "VARCHAR", "complaint, inquiry or return", PUBLIC),
                C("satisfaction", "INTEGER", "Satisfaction score 1-5 after closing", DEEP_PUBLIC),
                C("resolved", "BOOLEAN", "Resolved to the customer's satisfaction", PUBLIC),
            ),
            key=("ticket_id",),
        ),
        Table(
            "suppressions",
            "Do-not-contact list: customers, phone numbers or e-mail addresses that must not be contacted "
            "(opt-outs, complaints, a national do-not-call registry).",
            (
                C("customer_id", "VARCHAR", "Customer number (empty when the entry is a phone number or e-mail only)", PUBLIC),
                C("phone", "VARCHAR", "Phone number not to call or text", PRIVATE),
                C("email", "VARCHAR", "E-mail address not to write to", PRIVATE),
                C("channel", "VARCHAR", "Channel the entry applies to (direct_mail, sms, email, outbound_call); empty = all", PUBLIC),
                C("reason", "VARCHAR", "Why (opt-out, complaint, registry, ...)", PUBLIC),
                C("added_date", "DATE", "When the entry was made", PUBLIC),
            ),
        ),
        Table(
            "cities",
            "External city reference data: tier, population and income index.",
            (
                C("city", "VARCHAR", "City name", PUBLIC, True),
                C("city_en", "VARCHAR", "City name in Latin letters (pinyin or English)", PUBLIC),
                C("province", "VARCHAR", "Province", PUBLIC),
                C("city_tier", "INTEGER", "City tier 1-5", PUBLIC),
                C("population_m", "DOUBLE", "Population, millions", PUBLIC),
                C("income_index", "DOUBLE", "Disposable income index (national average = 100)", PUBLIC),
            ),
            key=("city",),
            origin="external",
        ),
    ]
}

# Columns every raw table carries in addition to its model columns.
RAW_EXTRA = (
    C("batch_id", "INTEGER", "Load batch that brought the record (main.load_batches)", PUBLIC),
    C("source_line", "BIGINT", "Line (or row) of the record in its source file", PUBLIC),
)
HISTORY_EXTRA = (
    C("valid_from", "TIMESTAMP", "When this version of the record became current", PUBLIC),
    C("valid_to", "TIMESTAMP", "When it was replaced (empty while current)", PUBLIC),
)

BOOKKEEPING: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "load_batches",
            "One row per load of a source file: what was read, loaded and rejected.",
            (
                C("batch_id", "INTEGER", "Batch number", PUBLIC),
                C("source", "VARCHAR", "Source name from the sources file", PUBLIC),
                C("path", "VARCHAR", "File path or database URL loaded", PUBLIC),
                C("table_name", "VARCHAR", "Target table", PUBLIC),
                C("sha256", "VARCHAR", "SHA-256 fingerprint of the file (or query result)", PUBLIC),
                C("rows_read", "BIGINT", "Records read from the source", PUBLIC),
                C("rows_loaded", "BIGINT", "Records accepted: new ones, and changed ones (rows_changed)", PUBLIC),
                C("rows_rejected", "BIGINT", "Records sent to main.rejects", PUBLIC),
                C("rows_changed", "BIGINT", "Records already loaded whose values changed: a new history version "
                  "(customers) or an update replacing the earlier row (other tables)", PUBLIC),
                C("started_at", "TIMESTAMP", "Load start", PUBLIC),
                C("finished_at", "TIMESTAMP", "Load end", PUBLIC),
                C("status", "VARCHAR", "loaded, or 'superseded by batch N' (the same file loaded again with a "
                  "changed column map replaced what this batch loaded)", PUBLIC),
                C("rows_unchanged", "BIGINT", "Records identical to ones already loaded (a re-delivered file): "
                  "counted, not loaded again; rows_read = rows_loaded + rows_unchanged + rows_rejected", PUBLIC),
                C("extracted", "DATE", "When the delivery was extracted from its system (sources file "
                  "`extracted:`, else the load date): an order dated later is future-dated", PUBLIC),
                C("map_sha256", "VARCHAR", "Fingerprint of the source's column map: the same file loaded with "
                  "another map is a new delivery that supersedes this one", PUBLIC),
                C("watermark", "VARCHAR", "SQL sources with watermark: the highest value of the watermark column "
                  "loaded so far (the next load reads only rows above it)", PUBLIC),
            ),
            key=("batch_id",),
        ),
        Table(
            "rejects",
            "Source records that could not be loaded, with the reason. One row per problem found.",
            (
                C("batch_id", "INTEGER", "Load batch", PUBLIC),
                C("line_no", "BIGINT", "Line (or row) in the source", PUBLIC),
                C("column_name", "VARCHAR", "Source column at fault", PUBLIC),
                C("model_column", "VARCHAR", "Model column(s) the source column feeds", PUBLIC),
                C("reason", "VARCHAR", "Why the record was rejected (never holds a value of the record)", PUBLIC),
                C("raw_value", "VARCHAR", "The value at fault as read (the key, for key problems)", HIGHLY_PRIVATE),
                C("raw_record", "VARCHAR", "The record as read (JSON)", HIGHLY_PRIVATE),
                C("status", "VARCHAR", "open; 'repeated in batch N' (the same record was delivered and rejected "
                  "again later: counted there); 'superseded by batch N' (its file was loaded again with a "
                  "changed column map)", PUBLIC),
            ),
        ),
        Table(
            "catalog_tables",
            "The column catalog's table list: every table the workbook writes, its layer and origin.",
            (
                C("table_schema", "VARCHAR", "Schema (raw, main or truth)", PUBLIC),
                C("table_name", "VARCHAR", "Table name", PUBLIC),
                C("layer", "VARCHAR", "Data layer: raw, bookkeeping, core, marts or truth", PUBLIC),
                C("origin", "VARCHAR", "internal (own systems) or external (bought or public data)", PUBLIC),
                C("description", "VARCHAR", "What the table holds", PUBLIC),
            ),
            key=("table_schema", "table_name"),
        ),
        Table(
            "catalog",
            "The column catalog: every column of every table the workbook writes, with its privacy tier.",
            (
                C("table_schema", "VARCHAR", "Schema of the table", PUBLIC),
                C("table_name", "VARCHAR", "Table name", PUBLIC),
                C("column_name", "VARCHAR", "Column name", PUBLIC),
                C("data_type", "VARCHAR", "DuckDB data type", PUBLIC),
                C("description", "VARCHAR", "What the column holds", PUBLIC),
                C("privacy_tier", "INTEGER", "1 public, 2 deep-public, 3 private, 4 highly private", PUBLIC),
            ),
            key=("table_schema", "table_name", "column_name"),
        ),
    ]
}

_CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS main.catalog_tables (
    table_schema VARCHAR, table_name VARCHAR, layer VARCHAR, origin VARCHAR, description VARCHAR,
    PRIMARY KEY (table_schema, table_name));
CREATE TABLE IF NOT EXISTS main.catalog (
    table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, data_type VARCHAR,
    description VARCHAR, privacy_tier INTEGER, PRIMARY KEY (table_schema, table_name, column_name));
"""


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
            return duckdb.connect(str(path), read_only=read_only)
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
    """

    def __init__(self, path: str | Path = DEFAULT_PATH, wait: float = WAIT_SECONDS):
        self.path = Path(path)
        self.wait = wait
        self._con: duckdb.DuckDBPyConnection | None = None
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


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw layer, the bookkeeping tables and the catalog (idempotent; a
    database made by an older version gets the bookkeeping columns added since)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(_CATALOG_DDL)
    for t in BOOKKEEPING.values():
        _create(con, "main", t.name, t.columns)
        add_missing_columns(con, "main", t.name, t.columns)
        register_table(con, "main", t.name, t.columns, t.description, layer="bookkeeping")
    _move_values_out_of_reasons(con)
    for t in MODEL.values():
        cols = t.columns + RAW_EXTRA + (HISTORY_EXTRA if t.name == "customers" else ())
        _create(con, "raw", t.name, cols)
        add_missing_columns(con, "raw", t.name, cols)
        register_table(con, "raw", t.name, cols, t.description, layer="raw", origin=t.origin)


# Reasons written before rejects had a raw_value column held the value at fault. The
# upgrade moves it out, so reasons are public again: (pattern, group holding the value,
# the reason without it). Only rows without a raw_value can be old ones: every reason
# written since that matches a pattern (a key problem) has its raw_value set.
_OLD_REASONS = [
    (r"^duplicate key (.*)(, first at line \d+)$", 1, "'duplicate key' || regexp_extract(reason, {p}, 2)"),
    (r"^(.*) (already loaded in batch \d+)$", 1, "'key ' || regexp_extract(reason, {p}, 2)"),
    (r"^(.*?): (a later version is already loaded.*)$", 1, "regexp_extract(reason, {p}, 2)"),
    (r"^(not a .*?): '(.*)'$", 2, "regexp_extract(reason, {p}, 1)"),
]


def _move_values_out_of_reasons(con) -> None:
    for pattern, group, new_reason in _OLD_REASONS:
        quoted = "'" + pattern.replace("'", "''") + "'"
        con.execute(f"""UPDATE main.rejects SET raw_value = regexp_extract(reason, {quoted}, {group}),
                            reason = {new_reason.format(p=quoted)}
                        WHERE raw_value IS NULL AND regexp_matches(reason, {quoted})""")


def add_missing_columns(con, schema: str, table: str, columns) -> None:
    """Give a table made by an older version of the workbook the columns added since
    (empty for its existing rows), so a database keeps working across upgrades."""
    for c in columns:
        con.execute(f'ALTER TABLE {schema}."{table}" ADD COLUMN IF NOT EXISTS "{c.name}" {c.type}')


def _create(con, schema: str, name: str, columns) -> None:
    body = ", ".join(f'"{c.name}" {c.type}' for c in columns)
    con.execute(f'CREATE TABLE IF NOT EXISTS {schema}."{name}" ({body})')


def register_table(con, schema: str, table: str, columns, description: str,
                   layer: str = "marts", origin: str = "internal") -> None:
    """Describe a table and its columns (with privacy tiers) in the catalog."""
    con.execute("DELETE FROM main.catalog_tables WHERE table_schema = ? AND table_name = ?", [schema, table])
    con.execute("INSERT INTO main.catalog_tables VALUES (?, ?, ?, ?, ?)", [schema, table, layer, origin, description])
    con.execute("DELETE FROM main.catalog WHERE table_schema = ? AND table_name = ?", [schema, table])
    con.executemany(
        "INSERT INTO main.catalog VALUES (?, ?, ?, ?, ?, ?)",
        [[schema, table, c.name, c.type, c.description, c.tier] for c in columns],
    )


def privacy_tiers(con, table: str, schema: str = "main") -> dict[str, int]:
    """Column -> privacy tier for one table, as the catalog records it."""
    rows = con.execute(
        "SELECT column_name, privacy_tier FROM main.catalog WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return dict(rows)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint(con) -> str:
    """A short fingerprint of the database contents: every table's row count and the batches loaded."""
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1, 2"
    ).fetchall()
    counts = [(s, t, con.execute(f'SELECT count(*) FROM {s}."{t}"').fetchone()[0]) for s, t in tables]
    batches = con.execute("SELECT string_agg(sha256, ',' ORDER BY batch_id) FROM main.load_batches").fetchone()[0]
    return hashlib.sha256(repr((counts, batches)).encode()).hexdigest()[:16]


# The order rules cleaning applies before it looks at lines (clean.RULES), as one SQL CASE over
# a raw order ``o`` and its delivery ``b`` (main.load_batches): the reason an order is left
# out of sales, NULL if it may count. ``{reference}`` is the extraction date of orders that
# came without a delivery (written into raw by hand).
ORDER_EXCLUSION_SQL = """CASE WHEN o.customer_id IS NULL THEN 'anonymous order'
                    WHEN coalesce(o.status, 'completed') = 'cancelled' THEN 'cancelled order'
                    WHEN o.order_date > coalesce(b.extracted, CAST(b.finished_at AS DATE), {reference}) THEN 'future date'
               END"""


# Customers known only by their orders: a customer number on orders that no customer record
# holds. Each becomes a customer without personal data: a distributor if any of its orders
# came through the distributor channel, else a consumer; "signed up" with its first order.
ORDER_ONLY_CUSTOMERS_SQL = """
    SELECT o.customer_id, 'orders only' AS source_system,
           CASE WHEN bool_or(o.channel = 'distributor') THEN 'distributor' ELSE 'consumer' END AS customer_type,
           min(o.order_date) AS signup_date
    FROM raw.orders o
    WHERE o.customer_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM raw.customers c WHERE c.customer_id = o.customer_id)
    GROUP BY o.customer_id"""


def table_exists(con, schema: str, table: str) -> bool:
    """Whether schema.table exists in the database (the one place that asks)."""
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = ? AND table_name = ?", [schema, table]).fetchone()[0])


def newest_extraction(con) -> date | None:
    """The extraction date of the newest delivery (main.load_batches; the load date where a
    batch of an older version recorded none); None before anything was loaded."""
    return con.execute("SELECT max(coalesce(extracted, CAST(finished_at AS DATE))) FROM main.load_batches "
                       "WHERE status = 'loaded'").fetchone()[0]


def _cleaning_is_current(con) -> bool:
    """main.sales exists and no load finished after the cleaning run that made it started (a
    main.sales written by hand, without cleaning runs, counts as current)."""
    if not table_exists(con, "main", "sales"):
        return False
    if not table_exists(con, "main", "cleaning_runs"):
        return True
    cleaned, loaded = con.execute("SELECT (SELECT max(started_at) FROM main.cleaning_runs), "
                                  "(SELECT max(finished_at) FROM main.load_batches)").fetchone()
    return cleaned is not None and (loaded is None or cleaned >= loaded)


def purchase_dates(con) -> tuple[date | None, date | None]:
    """(first, newest) date of the purchases cleaning counts: from main.sales when the cleaning
    is newer than the last load, else from the raw orders that pass the order rules
    (:data:`ORDER_EXCLUSION_SQL`: completed sales with a customer number, not dated after their
    delivery's extraction date). (None, None) when there is none."""
    if _cleaning_is_current(con):
        return con.execute("SELECT min(order_date), max(order_date) FROM main.sales").fetchone()
    rule = ORDER_EXCLUSION_SQL.format(reference="DATE '9999-12-31'")
    return con.execute(f"""SELECT min(o.order_date), max(o.order_date)
        FROM raw.orders o LEFT JOIN main.load_batches b USING (batch_id)
        WHERE coalesce(o.order_type, 'sale') = 'sale' AND {rule} IS NULL""").fetchone()


def _as_date(as_of) -> date:
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise ValueError(f"as_of must be a date like 2026-10-31 or 'latest', got {as_of!r}") from None


def resolve_as_of(con, as_of, purchases: str | None = None) -> date:
    """The analysis date, the one resolver of the workbook: a date, an ISO string, or "latest",
    the newest purchase that cleaning counts (:func:`purchase_dates`), or, given a relation of
    ``purchases`` (a table of the user's, with ``order_date``), the newest date in it. Nothing
    depends on today's clock: an order dated after its delivery's extraction date never counts."""
    if isinstance(as_of, str) and as_of.strip().lower() == "latest":
        if purchases is not None:
            newest = con.execute(f"SELECT max(CAST(order_date AS DATE)) FROM {purchases}").fetchone()[0]
        else:
            newest = purchase_dates(con)[1]
        if newest is None:
            raise ValueError("as_of='latest' but the database holds no purchase yet (completed sale orders "
                             "with a customer number): load orders, or give as_of as a date")
        return newest
    return _as_date(as_of)


def data_range(con) -> tuple[date, date] | None:
    """The dates the data covers: from the first purchase (or sign-up, if earlier) to the
    extraction date of the newest delivery (or the newest purchase, if later). None when the
    database holds no dated customer or purchase."""
    first, newest = purchase_dates(con)
    signup = con.execute("SELECT min(signup_date) FROM raw.customers").fetchone()[0]
    extracted = newest_extraction(con)
    starts = [d for d in (first, signup) if d is not None]
    ends = [d for d in (newest, extracted) if d is not None]
    if not starts or not ends:
        return None
    return min(starts), max(ends)


def check_as_of(con, as_of, coming: date | None = None) -> date:
    """The resolved as-of date, refused in one line when it lies outside :func:`data_range`.
    ``coming``: the extraction date of deliveries about to be loaded, which extends the range."""
    day = resolve_as_of(con, as_of)
    covered = data_range(con)
    if covered is not None and coming is not None:
        covered = (covered[0], max(covered[1], coming))
    if covered is not None and not covered[0] <= day <= covered[1]:
        raise ValueError(f"as_of {day} is outside the data: the database covers {covered[0]} (first purchase or "
                         f"sign-up) to {covered[1]} (newest extraction date); choose a date in that range or 'latest'")
    return day
