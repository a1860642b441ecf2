"""Helpers the RFM modules share: reading a relation's columns, a query's result as a
DataFrame, and the checks of names and score levels."""

from __future__ import annotations

import re
from contextlib import contextmanager

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..warehouse import dialect, sql

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"{what}: expected a table or view name like main.sales, got {name!r}")
    return name


def _relation(name: str) -> str:
    """A checked table or view name (``main.sales``) as a quoted identifier."""
    return sql.ident(*name.split("."))


def _columns(con, relation: str) -> dict[str, str]:
    if dialect.engine_of(con) != dialect.ENGINE:  # Spark's catalog, its types in DuckDB's names
        return con.columns(relation)
    try:
        rows = sql.run(con, "rfm.describe", relation=_relation(relation)).fetchall()
    except duckdb.Error as error:
        raise ValueError(f"{relation}: cannot be read ({str(error).splitlines()[0]})") from None
    return {r[0]: r[1] for r in rows}


def _frame(relation) -> pd.DataFrame:
    """A query's result (a DuckDB relation) as a DataFrame, through Arrow (fast for a million rows).

    Dates become datetime64; integer columns with empty values (prospects have no scores)
    become nullable ``Int64``, the others stay plain integers."""
    table = relation.to_arrow_table()
    frame = table.to_pandas(split_blocks=True, date_as_object=False)
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_integer(column.type) and column.null_count:
            frame[name] = frame[name].astype("Int64")
    return frame


def _check_bins(bins) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= 10:
        raise ValueError(f"bins must be a whole number from 2 to 10, got {bins!r}")
    return int(bins)


# The columns of scores the tables and charts of chapter 04 aggregate.
AGGREGATED = ("segment", "is_prospect", "recency", "frequency", "monetary", "avg_order_value", "r_score", "f_score",
              "m_score")


@contextmanager
def _aggregated(scores, value: str | None = None):
    """Scores to aggregate in SQL: (connection, relation, parameters, the condition that keeps the
    buyers). Stored scores (:class:`dbmarketing.rfm.Stored`) are read where they are, in the
    customer database; a frame of scores (:func:`dbmarketing.rfm.score`) goes through an
    in-memory DuckDB, so both are summed by the same statements. ``value``: a further column
    the caller aggregates."""
    from .storage import Stored

    if isinstance(scores, Stored):
        relation, params = scores.relation()
        yield scores.con, relation, params, "NOT is_prospect"
        return
    columns = [c for c in dict.fromkeys([*AGGREGATED, *([value] if value else [])]) if c in scores.columns]
    frame = scores[columns]
    if "is_prospect" in frame:
        frame = frame.assign(is_prospect=frame["is_prospect"].astype(bool))
    con = duckdb.connect()
    try:
        name = sql.temp_name("rfm_scores")
        con.register(name, pa.Table.from_pandas(frame, preserve_index=False))  # NaN as NULL, as pandas skips it
        yield con, sql.ident(name), {}, "NOT is_prospect" if "is_prospect" in frame else "TRUE"
    finally:
        con.close()
