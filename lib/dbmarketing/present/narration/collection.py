"""Chapter 01, data collection: the sentences its report prints."""

from __future__ import annotations

import pandas as pd


def analyst_copy(db_path: str, clearance: int) -> str:
    return (f"{db_path} is an analyst copy published at clearance {clearance}: "
            "loading runs on the full database; run notebooks 03-05 on the copy")


def loaded_now(loaded: pd.DataFrame) -> str:
    now = int((loaded.status == "loaded").sum())
    return (f"**{now}** of {len(loaded)} sources loaded now; {len(loaded) - now} were loaded before "
            "(same fingerprint) and are shown with the batch that loaded them.")


def history(history: pd.DataFrame) -> str:
    return (f"**{len(history)}** loads, **{int(history.rows_read.sum()):,}** records read, "
            f"**{int(history.rows_loaded.sum()):,}** loaded, **{int(history.rows_unchanged.sum()):,}** unchanged (delivered "
            f"again as they were), **{int(history.rows_rejected.sum()):,}** rejected: every record accounted for.")


def customer_types(types: pd.DataFrame, as_of) -> str:
    orders_only = int((types.source_system == "orders only").sum())
    return (f"As of **{as_of}**, **{len(types):,}** customer records"
            + (f" ({orders_only:,} of them known only by their orders)" if orders_only else "") + ":")


def no_customers() -> str:
    return ("The database holds no customer records and no orders with a customer "
            "number yet: load a customer export or an order export (README, *Bring your own data*).")


def reading_types(crosstab: pd.DataFrame) -> str:
    shares = (100 * crosstab.div(crosstab.sum(axis=1), axis=0)).round(1)
    lines = [f"- **{src}**: {shares.loc[src, 'current']:.0f}% current, {shares.loc[src, 'potential']:.0f}% potential, "
             f"{shares.loc[src, 'lapsed']:.0f}% lapsed" for src in shares.index if crosstab.loc[src, "distributor"] == 0]
    return ("**Reading the chart.** Each bar is one source system, split by customer type:\n\n" + "\n".join(lines)
            + "\n\nPotential customers are the conversion list; lapsed customers are the win-back list.")


def unmatched_cities() -> str:
    return ("Customers whose city is **not matched** mostly spell their city differently from the\n"
            "reference list (郑州市 vs 郑州, Beijing vs 北京): the join is exact, and raw data is not.\n"
            "Standardising those names is one of the cleaning steps in chapter 02; until then any\n"
            "analysis by city tier would silently leave those customers out.")


def history_kept() -> str:
    return ("Those are the attributes a later export changed. The old values stay in the database with\n"
            "their dates; a reader with clearance 3 or more can look them up customer by customer.")
