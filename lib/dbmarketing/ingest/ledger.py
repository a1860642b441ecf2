"""The load ledger as chapter 01 checks it: every record read is accounted for, and how many
customers a later delivery gave a new version."""

from __future__ import annotations

import pandas as pd

from .. import warehouse


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
    return warehouse.sql.run(con, "ingest.customer_versions").df()
