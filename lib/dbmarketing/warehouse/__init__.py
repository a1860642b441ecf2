"""The customer database: connecting to it (and sessions that do not lock others out), the
catalog (the one way to declare a table, with its privacy tiers), schema upgrades, the as-of
date (the one resolver), the one writer of derived tables (:func:`write_mart`), the named SQL
statements (:mod:`.sql`) with the engine-specific parts in one place (:mod:`.dialect`), and
what each report section needs (:mod:`.needs`)."""

from . import dialect, sql
from .as_of import check_as_of, data_range, newest_extraction, purchase_dates, resolve_as_of, stored_as_of, stored_dates
from .catalog import (
    BOOKKEEPING,
    DEEP_PUBLIC,
    HIGHLY_PRIVATE,
    HISTORY_EXTRA,
    MODEL,
    PRIVATE,
    PUBLIC,
    RAW_EXTRA,
    Column,
    Table,
    add_missing_columns,
    create_catalog,
    create_table,
    privacy_tiers,
    raw_columns,
    raw_tables,
    register_table,
    table_exists,
)
from .connection import (
    DEFAULT_PATH,
    PROGRESS_BAR_ENV,
    DUCKDB_MAGIC,
    SQLITE_MAGIC,
    WAIT_SECONDS,
    DatabaseBusy,
    DatabaseFileError,
    Session,
    ENGINES,
    check_database_file,
    compute_on,
    connect,
    fingerprint,
    sha256_file,
    upgrade,
)
from .marts import write_mart
from .needs import (HOLDINGS, MODEL_SECTIONS, SECTIONS, SKIPPED_KEY, Holding, NotEnoughData, explain, holdings, missing,
                    ready, skip, title)
from .schema import create_schema

__all__ = [
    # connection
    "DEFAULT_PATH", "PROGRESS_BAR_ENV", "DUCKDB_MAGIC", "SQLITE_MAGIC", "WAIT_SECONDS", "DatabaseBusy", "DatabaseFileError", "Session",
    "ENGINES", "check_database_file", "compute_on", "connect", "fingerprint", "sha256_file", "upgrade", "create_schema",
    # catalog
    "BOOKKEEPING", "DEEP_PUBLIC", "HIGHLY_PRIVATE", "HISTORY_EXTRA", "MODEL", "PRIVATE", "PUBLIC", "RAW_EXTRA",
    "Column", "Table", "add_missing_columns", "create_catalog", "create_table", "privacy_tiers", "raw_columns", "raw_tables", "register_table", "table_exists",
    # as-of date
    "check_as_of", "data_range", "newest_extraction", "purchase_dates", "resolve_as_of", "stored_as_of", "stored_dates",
    # marts and SQL
    "write_mart", "sql", "dialect",
    # what sections need
    "HOLDINGS", "MODEL_SECTIONS", "SECTIONS", "SKIPPED_KEY", "Holding", "NotEnoughData", "explain", "holdings", "missing",
    "ready", "skip", "title",
]
