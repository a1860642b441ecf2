"""Golden records: one master customer per cluster of records by the survivorship rules of
:mod:`dbmarketing.cleanse.pipeline`, the map from source customer numbers to masters, and a
reviewer's decision to keep records apart."""

from __future__ import annotations

import pandas as pd

from .. import warehouse
from ._common import C, PUBLIC, _cols
from .records import ATTRIBUTES, RECORD_COLUMNS

CUSTOMER_COLUMNS = (
    C("customer_id", "VARCHAR", "Master customer number", PUBLIC),
    *[c for c in RECORD_COLUMNS if c.name not in ("customer_id", "source_system", "updated_at", "filled", "phone_kind")],
    C("source_systems", "VARCHAR", "Source systems of the merged records", PUBLIC),
    C("records", "INTEGER", "Source records merged into this customer", PUBLIC),
    C("updated_at", "TIMESTAMP", "Most recent update of any of its records", PUBLIC),
)
KEEP_APART_COLUMNS = _cols(
    ("customer_id", "VARCHAR", "Record that must not be merged with others", PUBLIC),
    ("reason", "VARCHAR", "Why (a reviewer's note)", PUBLIC),
    ("decided_at", "TIMESTAMP", "When", PUBLIC),
)
CUSTOMERS = warehouse.Table("customers", "Golden customer records, one per person", CUSTOMER_COLUMNS)
KEEP_APART = warehouse.Table("keep_apart", "Records a reviewer decided must not be merged", KEEP_APART_COLUMNS)


def golden_records(records: pd.DataFrame, clusters: pd.DataFrame, run_id: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One master customer per cluster by the survivorship rules a-c of :mod:`dbmarketing.cleanse.pipeline`.

    Returns (customers, customer_map).
    """
    r = records.merge(clusters, on="customer_id")
    # rule a: master id = most complete record, then most recently updated, then smallest id
    r = r.sort_values(["cluster_id", "filled", "updated_at", "customer_id"], ascending=[True, False, False, True])
    master = r.groupby("cluster_id", sort=False).customer_id.first().rename("master_id")
    size = r.groupby("cluster_id").size().rename("cluster_size")
    r = r.join(master, on="cluster_id").join(size, on="cluster_id")
    if "linked_by" not in r.columns:
        r["linked_by"] = None
    cmap = r[["customer_id", "master_id", "cluster_size", "match_probability", "linked_by"]].copy()
    cmap["match_probability"] = cmap.match_probability.where(cmap.cluster_size > 1)
    cmap["linked_by"] = cmap.linked_by.where(cmap.cluster_size > 1)
    cmap["run_id"] = run_id
    # rule b: most recent non-empty value (then most complete)
    r = r.sort_values(["master_id", "updated_at", "filled", "customer_id"], ascending=[True, False, False, True])
    grouped = r.groupby("master_id", sort=True)
    customers = grouped[ATTRIBUTES].first()  # first non-null per column
    # rule c
    customers["signup_date"] = grouped.signup_date.min()
    # (vectorized: a Python function per group costs about a millisecond, minutes at a million)
    is_distributor = r.customer_type.eq("distributor").fillna(False).astype(bool)
    customers["customer_type"] = is_distributor.groupby(r.master_id).any().map({True: "distributor", False: "consumer"})
    systems = r[["master_id", "source_system"]].dropna().drop_duplicates().sort_values(["master_id", "source_system"])
    joined: dict[str, str] = {}
    for m, s in zip(systems.master_id.tolist(), systems.source_system.tolist()):
        joined[m] = f"{joined[m]},{s}" if m in joined else s
    customers["source_systems"] = pd.Series(joined, dtype="str").reindex(customers.index).fillna("")
    customers["records"] = grouped.size().astype("int32")
    customers["updated_at"] = grouped.updated_at.max()
    customers = customers.reset_index().rename(columns={"master_id": "customer_id"})
    return customers[[c.name for c in CUSTOMER_COLUMNS]], cmap.sort_values("customer_id", ignore_index=True)


def keep_apart(con, customer_ids, reason: str) -> None:
    """Record a reviewer's decision that these records are separate people (undoes a merge).

    Every later :func:`run` leaves them out of matching, so each stays its own customer.
    """
    warehouse.create_table(con, KEEP_APART, layer="clean")
    con.executemany(warehouse.sql.text("cleanse.keep_apart"), [[c, reason] for c in customer_ids])


