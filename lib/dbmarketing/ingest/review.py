"""Looking at what was loaded: the batches (every record read accounted for), the open
rejects, a profile of a raw table, the customers' versions and the changes their history
records."""

from __future__ import annotations

import pandas as pd

from dbmarketing import warehouse
from dbmarketing.warehouse import sql



def load_history(con) -> pd.DataFrame:
    """main.load_batches, newest last."""
    return sql.run(con, "ingest.load_history").df()


def accounted(history: pd.DataFrame) -> pd.DataFrame:
    """The load history (:func:`load_history`) with ``accounted``: whether each batch's records
    read equal those loaded, unchanged and rejected. A batch that lost records stops with an
    error naming it (batches of an older version recorded no unchanged rows: counted as 0)."""
    out = history.copy()
    out["rows_unchanged"] = out.rows_unchanged.fillna(0).astype(int)
    out["accounted"] = out.rows_loaded + out.rows_unchanged + out.rows_rejected == out.rows_read
    lost = out[~out.accounted]
    if len(lost):
        first = lost.iloc[0]
        raise AssertionError(f"a load lost records: batch {first.batch_id} ({first.source}) read {first.rows_read:,} but "
                             f"loaded {first.rows_loaded:,} + unchanged {first.rows_unchanged:,} + rejected "
                             f"{first.rows_rejected:,}")
    return out


def customer_versions(con) -> pd.DataFrame:
    """One row: customers with more than one version in ``raw.customers``, all customers, and
    the versions a later delivery closed."""
    return sql.run(con, "ingest.customer_versions").df()


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
    summary = sql.run(con, "ingest.reject_summary", {"batch_id": batch_id}).df()
    example = summary["example_value"].astype("object")
    if clearance is not None:
        tiers = dict(sql.run(con, "ingest.raw_tiers").fetchall())

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
    example value (the first non-empty one by batch and line, as text but a yes/no as a bool;
    empty if the column is empty), computed in one SQL scan. `batch_id` profiles what one load brought.

    With `clearance`, examples of columns whose privacy tier is above it are masked.
    """
    if table not in warehouse.MODEL:
        raise ValueError(f"unknown table {table!r}; the model has {', '.join(warehouse.MODEL)}")
    columns = list(warehouse.raw_columns(table))
    measures = []
    for i, c in enumerate(columns):
        name = sql.ident(c.name)
        measures += [
            f"100.0 * count_if({name} IS NULL) / nullif(count(*), 0) AS m{i}",
            f"count(DISTINCT {name}) AS d{i}",
            # text, but a yes/no stays a Python bool, so a table words it in the reader's language
            f"CAST(first({name} ORDER BY batch_id, source_line) FILTER (WHERE {name} IS NOT NULL)"
            f" AS {'BOOLEAN' if c.type.upper() == 'BOOLEAN' else 'VARCHAR'}) AS e{i}",
        ]
    scan = sql.one(con, "ingest.profile", {"batch_id": batch_id}, measures=", ".join(measures),
                   table=sql.ident("raw", table))
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
    counts = ", ".join(f"count(DISTINCT o.customer_id) FILTER (WHERE o.{sql.ident(a)} IS DISTINCT FROM n.{sql.ident(a)})"
                       f" AS {sql.ident(a)}" for a in attributes)
    row = sql.run(con, "ingest.history_changes", counts=counts).df()
    out = row.T.reset_index()
    out.columns = ["attribute", "customers_changed"]
    return out[out.customers_changed > 0].sort_values("customers_changed", ascending=False, ignore_index=True)
