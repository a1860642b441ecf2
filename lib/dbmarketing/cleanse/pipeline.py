"""Cleaning: from the raw layer to clean core tables, with every change accounted for.

:func:`run` does, in order:

1. **Standardize** the current version of every customer record
   (:func:`standardize_customers`): names, phones, e-mails, provinces, cities and resident
   ID numbers (15 digits upgraded to 18; birth date and gender derived and cross-checked).
   Values that cannot be made valid are flagged in ``main.quality_findings``, never guessed.
2. **Resolve identities** (:func:`find_duplicates`): a probabilistic record-linkage model
   (Fellegi-Sunter, estimated by splink on DuckDB) scores pairs of records; pairs above
   ``match_threshold`` are joined into clusters, one cluster per person.
3. **Golden records** (:func:`golden_records`) by stated survivorship rules:
   a. the master id is the id of the cluster's most complete record (ties: most recently
      updated, then the smallest id);
   b. each attribute takes the most recent non-empty value (records ordered by last update,
      then completeness);
   c. the signup date is the earliest, the customer type "distributor" if any record is one,
      and the source systems are all of them.
   ``main.customer_map`` (source id -> master id) is applied to orders, contacts and
   tickets, which keep the source id too, so every merge can be audited;
   :func:`keep_apart` records a human decision to undo one, honoured by every later run.
4. **Clean transactions** (:func:`clean_transactions`) by the rules in :data:`RULES`; resolve the
   do-not-contact list; clean the external prospect list and its acquisition campaigns
   (:func:`clean_prospects`: standardized like the customer records, matched to customers first).
5. **Score data quality** before and after (:func:`quality_scorecard`), kept per run.

Every rule writes a row to ``main.cleaning_log`` (rule, table, rows affected); nothing is
dropped without one. A run replaces the clean tables in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from .. import warehouse
from ._common import PUBLIC, _cols
from .golden import CUSTOMERS, KEEP_APART, golden_records
from .prospects import clean_prospects
from .matching import CUSTOMER_MAP, CUSTOMER_MAP_HISTORY, MATCH_PAIRS, clusters_at, find_duplicates, same_id_pairs
from .quality import QUALITY_SCORES, quality_scorecard
from .records import CUSTOMER_RECORDS, QUALITY_FINDINGS, standardize_customers
from .transactions import CLEAN_TABLES, clean_transactions, resolve_suppressions


@dataclass
class CleanResult:
    run_id: int
    as_of: date
    records: int
    masters: int
    merged_records: int
    log: pd.DataFrame = field(repr=False)
    seconds: float = 0.0


LOG_COLUMNS = _cols(
    ("run_id", "INTEGER", "Cleaning run", PUBLIC), ("step", "VARCHAR", "Step of the run", PUBLIC),
    ("rule", "VARCHAR", "Rule applied", PUBLIC), ("table_name", "VARCHAR", "Table affected", PUBLIC),
    ("rows_affected", "BIGINT", "Rows the rule touched", PUBLIC), ("action", "VARCHAR", "What was done", PUBLIC),
    ("description", "VARCHAR", "The rule in words", PUBLIC),
)
RUN_COLUMNS = _cols(
    ("run_id", "INTEGER", "Cleaning run", PUBLIC), ("started_at", "TIMESTAMP", "Start", PUBLIC),
    ("finished_at", "TIMESTAMP", "End", PUBLIC), ("as_of", "DATE", "Extraction (as-of) date", PUBLIC),
    ("parameters", "VARCHAR", "Parameters (JSON)", PUBLIC), ("model", "VARCHAR", "Match model (JSON)", PUBLIC),
)
CLEANING_RUNS = warehouse.Table("cleaning_runs", "One row per cleaning run", RUN_COLUMNS)
CLEANING_LOG = warehouse.Table("cleaning_log", "What each cleaning rule did, per run", LOG_COLUMNS)


def run(con, as_of=None, match_threshold: float = 0.9, wholesale_quantity: int = 20, wholesale_amount: float = 5_000.0,
        freshness_days: int = 365, seed: int = 42) -> CleanResult:
    """Clean the raw layer into the core tables of ``main`` (see the module docstring).

    Parameters
    ----------
    as_of : the reference date of the cleaning: data quality (timeliness, birth dates) is
        judged at it, and orders that came without a delivery are future-dated after it.
        Default: the extraction date of the newest delivery. An order loaded from a delivery
        is future-dated after that delivery's own extraction date, whatever this says.
    match_threshold : match probability at or above which two records are one person.
    wholesale_quantity, wholesale_amount : a consumer order with a line of at least this many
        units, or above this amount, is flagged as wholesale size.
    freshness_days : a customer record updated within this many days counts as timely.
    seed : for the random pairs that estimate the match model.
    """
    started = datetime.now()
    as_of = warehouse.resolve_as_of(con, as_of) if as_of is not None else warehouse.newest_extraction(con)
    if as_of is None:
        raise ValueError("nothing is loaded yet: load the sources (notebook 01 or `dbmarketing load`) before cleaning")
    for table in (CLEANING_RUNS, CLEANING_LOG, QUALITY_SCORES, KEEP_APART):
        warehouse.create_table(con, table, layer="clean")
    run_id = int(warehouse.sql.one(con, "cleanse.next_run_id")[0])
    before = quality_scorecard(con, "before", as_of, freshness_days)

    records, findings, log = standardize_customers(con, run_id, as_of)
    keep = {r[0] for r in warehouse.sql.run(con, "cleanse.kept_apart").fetchall()}
    pairs, model = find_duplicates(records, keep_apart=keep, seed=seed, con=con)  # on Spark with engine "spark"
    rule_pairs = same_id_pairs(records, keep)
    clusters = clusters_at(records, pairs, match_threshold, rule_pairs)
    customers, cmap = golden_records(records, clusters, run_id)
    in_clusters = cmap[cmap.cluster_size > 1]
    log.append((run_id, "identities", "records merged", "customers", len(records) - len(customers), "merged",
                f"records absorbed into another record's master: {len(in_clusters):,} records in "
                f"{in_clusters.master_id.nunique():,} clusters became {in_clusters.master_id.nunique():,} master customers "
                f"(records {len(records):,} -> customers {len(customers):,})"))
    log.append((run_id, "identities", "same ID number", "customers", int((clusters.linked_by == "same ID number").sum()),
                "merged", "records sharing a valid ID number (15-digit forms upgraded) linked by rule, "
                f"where the match model alone stayed below {match_threshold}"))
    only = int((records.source_system == "orders only").sum())
    log.append((run_id, "identities", "known only by orders", "customers", only, "added",
                "customer numbers on orders that no customer record holds: customers without personal data, "
                "a distributor if they bought through the distributor channel, signed up with their first order"))
    log.append((run_id, "identities", "kept apart", "customers", len(keep & set(records.customer_id)), "not merged",
                "records a reviewer decided are separate people (main.keep_apart)"))

    con.execute("BEGIN TRANSACTION")
    try:
        for table, frame, replace in [(CUSTOMER_RECORDS, records, "table"), (QUALITY_FINDINGS, findings, "table"),
                                      (MATCH_PAIRS, pairs, "table"), (CUSTOMER_MAP, cmap, "table"),
                                      (CUSTOMER_MAP_HISTORY, cmap, "rows"), (CUSTOMERS, customers, "table")]:
            warehouse.write_mart(con, table, frame, layer="clean", replace=replace, atomic=False)
        log += clean_transactions(con, as_of, run_id, wholesale_quantity, wholesale_amount)
        log += resolve_suppressions(con, run_id)
        log += clean_prospects(con, run_id)
        for table in CLEAN_TABLES:
            warehouse.register_table(con, "main", table.name, table.columns, table.description, layer="clean",
                                     origin=table.origin)
        after = quality_scorecard(con, "after", as_of, freshness_days)
        scores = pd.concat([before, after], ignore_index=True).assign(run_id=run_id, as_of=as_of)
        warehouse.write_mart(con, QUALITY_SCORES, scores, layer="clean", atomic=False)
        log_df = pd.DataFrame(log, columns=[c.name for c in LOG_COLUMNS])
        warehouse.write_mart(con, CLEANING_LOG, log_df, layer="clean", atomic=False)
        params = dict(as_of=str(as_of), match_threshold=match_threshold, wholesale_quantity=wholesale_quantity,
                      wholesale_amount=wholesale_amount, freshness_days=freshness_days, seed=seed)
        warehouse.sql.run(con, "cleanse.record_run", {"run_id": run_id, "started": started, "as_of": as_of,
                                                      "parameters": json.dumps(params),
                                                      "model": json.dumps(model, default=str)})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return CleanResult(run_id, as_of, len(records), len(customers), len(records) - len(customers), log_df,
                       (datetime.now() - started).total_seconds())

