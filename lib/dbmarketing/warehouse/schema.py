"""Schema upgrades: create the raw layer, the bookkeeping tables and the catalog, and bring a
database made by an older version of the workbook up to date (idempotent)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import duckdb

from . import sql
from .catalog import BOOKKEEPING, MODEL, _create, add_missing_columns, create_catalog, raw_columns, register_table

def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw layer, the bookkeeping tables and the catalog (idempotent; a
    database made by an older version gets the bookkeeping columns added since).

    Every write connection calls it, and it runs some 250 statements (0.3 s): a database already
    brought up to these declarations (:func:`declarations`, kept as the comment of main.catalog)
    with every declared column in place only has its old reject reasons upgraded."""
    if not _is_current(con):
        _upgrade(con)
        sql.run(con, "warehouse.set_schema_fingerprint", fingerprint=sql.literal(declarations()))
    _move_values_out_of_reasons(con)  # cheap, and an old reason may have been written since


# The files that declare the schema and the statements that create it: a change to any of them
# makes every database go through the whole of create_schema once more.
_DECLARING_FILES = ("schema.py", "catalog.py", "sql/warehouse.sql")


@functools.cache
def declarations() -> str:
    """The fingerprint of the schema as this version of the workbook declares it."""
    folder = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _DECLARING_FILES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


@functools.cache
def _declared_columns() -> frozenset[tuple[str, str, str]]:
    return frozenset({("main", t.name, c.name) for t in BOOKKEEPING.values() for c in t.columns}
                     | {("raw", name, c.name) for name in MODEL for c in raw_columns(name)})


def _is_current(con) -> bool:
    """Whether the database was brought up to these declarations and still has every declared column."""
    stored = sql.one(con, "warehouse.schema_fingerprint")
    if stored is None or stored[0] != declarations():
        return False
    return _declared_columns() <= set(sql.run(con, "warehouse.schema_columns").fetchall())


def _upgrade(con) -> None:
    sql.run(con, "warehouse.create_raw_schema")
    create_catalog(con)
    for t in BOOKKEEPING.values():
        _create(con, "main", t.name, t.columns)
        add_missing_columns(con, "main", t.name, t.columns)
        register_table(con, "main", t.name, t.columns, t.description, layer="bookkeeping")
    for t in MODEL.values():
        cols = raw_columns(t.name)
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
        quoted = sql.literal(pattern)  # a constant the regexp functions need at bind time
        sql.run(con, "warehouse.move_value_out_of_reason", pattern=quoted, group=group, new_reason=new_reason.format(p=quoted))


