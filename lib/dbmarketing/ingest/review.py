"""Looking at what was loaded: the batches, the open rejects, a profile of a raw table and
the changes the customers' history records."""

from __future__ import annotations

import pandas as pd

from dbmarketing import warehouse

from ._common import _raw_columns


def load_history(con) -> pd.DataFrame:
    """main.load_batches, newest last."""
    return con.execute("SELECT * FROM main.load_batches ORDER BY batch_id").df()


def reject_summary(con, batch_id: int | None = None, clearance: int | None = None) -> pd.DataFrame:
    """Open rejects (or those of one batch) counted by source, source column and reason, with
    the first line at fault and the value found there. A reject is closed when its record was
    delivered and rejected again later (counted there) or its file was loaded again with a
    fixed column map (superseded): each bad record counts once.

    Reasons hold no values of the records, so equal problems count together (a duplicate
    or already-loaded key counts as one kind whatever line or batch it points to).
    ``example_value`` is the value at fault on ``first_line`` (the key, for key problems;
    empty when the field was empty or the record could not be split into fields); with
    `clearance`, it shows as "***" when the privacy tier of the model column it was meant
    for (``into``) is above the clearance. The values themselves stay in
    ``main.rejects.raw_value`` (highly private).
    """
    summary = con.execute("""
        WITH r AS (
            SELECT b.source, r.column_name, r.model_column, r.line_no, r.raw_value,
                   CASE WHEN r.reason LIKE 'duplicate key, first at line %' THEN 'duplicate key'
                        WHEN r.reason LIKE 'key already loaded in batch %' THEN 'key already loaded in an earlier batch'
                        WHEN r.reason LIKE 'a later version is already loaded%' THEN 'a later version is already loaded'
                        ELSE r.reason END AS kind
            FROM main.rejects r JOIN main.load_batches b USING (batch_id)
            WHERE ($batch_id IS NULL AND coalesce(r.status, 'open') = 'open') OR r.batch_id = $batch_id)
        SELECT source, column_name AS "column", model_column AS "into", kind AS reason, count(*) AS "count",
               min(line_no) AS first_line, arg_min(raw_value, line_no) AS example_value
        FROM r GROUP BY ALL ORDER BY source, "count" DESC, "column", reason""", {"batch_id": batch_id}).df()
    example = summary["example_value"].astype("object")
    if clearance is not None:
        tiers = dict(con.execute("SELECT column_name, max(privacy_tier) FROM main.catalog "
                                 "WHERE table_schema = 'raw' GROUP BY 1").fetchall())

        def tier(into) -> int:
            names = into.split(",") if isinstance(into, str) else []
            return max((tiers.get(n, warehouse.HIGHLY_PRIVATE) for n in names), default=warehouse.HIGHLY_PRIVATE)

        hidden = summary["into"].map(tier) > clearance
        example = example.where(~hidden | example.isna(), "***")
    summary["example_value"] = example.where(example.notna(), "")
    summary["into"] = summary["into"].fillna("")  # a record that could not be split feeds no column
    return summary


def profile(con, table: str, batch_id: int | None = None, clearance: int | None = None) -> pd.DataFrame:
    """One row per column of raw.<table>: type, privacy tier, % missing, distinct count and an
    example value (the first non-empty one by batch and line; empty if the column is
    empty), computed in one SQL scan. `batch_id` profiles what one load brought.

    With `clearance`, examples of columns whose privacy tier is above it are masked.
    """
    if table not in warehouse.MODEL:
        raise ValueError(f"unknown table {table!r}; the model has {', '.join(warehouse.MODEL)}")
    columns = _raw_columns(table)
    measures = []
    for i, c in enumerate(columns):
        name = f'"{c.name}"'
        measures += [
            f"100.0 * count_if({name} IS NULL) / nullif(count(*), 0) AS m{i}",
            f"count(DISTINCT {name}) AS d{i}",
            f"CAST(first({name} ORDER BY batch_id, source_line) FILTER (WHERE {name} IS NOT NULL) AS VARCHAR) AS e{i}",
        ]
    where = "WHERE batch_id = $batch_id" if batch_id is not None else ""
    params = {"batch_id": batch_id} if batch_id is not None else {}
    scan = con.execute(f'SELECT {", ".join(measures)} FROM raw."{table}" {where}', params).fetchall()[0]
    tiers = warehouse.privacy_tiers(con, table, schema="raw")
    result = []
    for i, c in enumerate(columns):
        tier = tiers.get(c.name, c.tier)
        example = scan[3 * i + 2]
        if example is None:
            example = ""
        elif clearance is not None and tier > clearance:
            example = "***"
        result.append({"column": c.name, "type": c.type, "tier": tier, "pct_missing": scan[3 * i],
                       "distinct": scan[3 * i + 1], "example": example})
    return pd.DataFrame(result)


def history_changes(con) -> pd.DataFrame:
    """How many customers had each attribute changed by a later load (one row per attribute
    that changed at least once), from consecutive versions of ``raw.customers``."""
    attributes = [c.name for c in warehouse.MODEL["customers"].columns if c.name != "customer_id"]
    counts = ", ".join(f'count(DISTINCT o.customer_id) FILTER (WHERE o."{a}" IS DISTINCT FROM n."{a}") AS "{a}"'
                       for a in attributes)
    row = con.execute(
        f"SELECT {counts} FROM raw.customers o JOIN raw.customers n "
        "ON o.customer_id = n.customer_id AND o.valid_to = n.valid_from").df()
    out = row.T.reset_index()
    out.columns = ["attribute", "customers_changed"]
    return out[out.customers_changed > 0].sort_values("customers_changed", ascending=False, ignore_index=True)
