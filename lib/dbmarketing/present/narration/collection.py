"""Chapter 01, data collection: the sentences its report prints and the small tables it
words (the words themselves: ``present/words/<lang>/collection.yaml``)."""

from __future__ import annotations

import re

import pandas as pd

from dbmarketing.present import words

# bookkeeping columns every raw table has: not part of a source's content
TECHNICAL = ("batch_id", "source_line", "valid_from", "valid_to")


def analyst_copy(db_path: str, clearance: int) -> str:
    return words.text("collection.analyst_copy", db_path=db_path, clearance=clearance)


def _when(stamp) -> str:
    return "" if stamp is None or pd.isna(stamp) else pd.Timestamp(stamp).strftime("%Y-%m-%d %H:%M")


def _batches(ids) -> str:
    ids = sorted(int(i) for i in ids if pd.notna(i))
    if not ids:
        return ""
    if ids == list(range(ids[0], ids[-1] + 1)) and len(ids) > 1:
        return f"{ids[0]}-{ids[-1]}"
    return ", ".join(str(i) for i in ids)


def loaded_now(loaded: pd.DataFrame) -> str:
    """What this run loaded: everything, part, or nothing new (a scheduled run finds the
    sources loaded by the cron's load step: said as such, with the batches and when)."""
    total = len(loaded)
    now = loaded[loaded.status == "loaded"]
    before = loaded[loaded.status != "loaded"]
    if total and len(now) == 0:
        return words.text("collection.loaded_none_new", total=total, batches=_batches(before.batch_id),
                          when=_when(before.loaded_at.max()))
    if len(now) == total:
        return words.text("collection.loaded_all_now", total=total, batches=_batches(now.batch_id))
    return words.text("collection.loaded_some_now", now=len(now), total=total, before=len(before),
                      batches=_batches(before.batch_id), when=_when(before.loaded_at.max()))


def history(history: pd.DataFrame) -> str:
    return words.text("collection.history", loads=len(history), read=int(history.rows_read.sum()),
                      loaded=int(history.rows_loaded.sum()), unchanged=int(history.rows_unchanged.sum()),
                      rejected=int(history.rows_rejected.sum()))


def field_name(column: str) -> str:
    """A field of the customer information model in words (``consent_mail`` -> "direct-mail
    consent"); a column the catalog does not name stays as it is."""
    return words.text_or(f"collection.field_{column}", str(column))


def sources_table(source_list) -> pd.DataFrame:
    """The sources file as a table: name, the model table it feeds (in words), format, file."""
    return pd.DataFrame([{"source": s.name, "table": words.table(s.table), "format": s.format,
                          "file": s.path or s.url} for s in source_list], columns=["source", "table", "format", "file"])


def _load_status(status) -> str:
    return words.text("collection.status_loaded_now" if status == "loaded" else "collection.status_loaded_before")


def _batch_status(status) -> str:
    """A batch's status in words: loaded, or superseded by a later batch."""
    if status == "loaded":
        return words.text("collection.status_loaded")
    found = re.match(r"^superseded by batch (\d+)", str(status))
    return words.text("collection.status_superseded", batch=int(found[1])) if found else status


def load_table(loaded: pd.DataFrame) -> pd.DataFrame:
    """The load result per source, status in words, for :func:`present.show_table`."""
    return loaded.assign(status=loaded.status.map(_load_status))[["source", "status", "batch_id", "loaded_at", "rows_read", "rows_loaded", "rows_unchanged",
                   "rows_rejected", "rows_changed"]]


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """The load history, newest first, for :func:`present.show_table`."""
    return history.assign(status=history.status.map(_batch_status)).sort_values("batch_id", ascending=False)[
        ["batch_id", "source", "status", "rows_read", "rows_loaded", "rows_unchanged", "rows_rejected",
         "rows_changed", "accounted", "finished_at"]]


REASONS = (  # the reject reasons the loader writes (in English, in the database) -> catalog key
    (re.compile(r"^(?P<field>\w+) is empty$"), "reason_empty"),
    (re.compile(r"^not a date in format (?P<format>.+)$"), "reason_date"),
    (re.compile(r"^not a number$"), "reason_number"),
    (re.compile(r"^not a whole number$"), "reason_whole"),
    (re.compile(r"^not a yes/no value$"), "reason_yes_no"),
    (re.compile(r"^duplicate key"), "reason_duplicate"),
    (re.compile(r"^key already loaded in"), "reason_key_loaded"),
    (re.compile(r"^a later version is already loaded"), "reason_later_version"),
    (re.compile(r"^expected (?P<expected>\d+) fields, found (?P<found>\d+)$"), "reason_fields"),
    (re.compile(r"^customer number already used by source system '(?P<system>[^']*)'"), "reason_other_system"),
)


def reason(text: str) -> str:
    """A reject reason in the reader's words (unknown reasons as the loader wrote them)."""
    if not isinstance(text, str):
        return text
    for pattern, key in REASONS:
        found = pattern.search(text)
        if found:
            values = found.groupdict()
            if "field" in values:
                values["field"] = field_name(values["field"])
            if "system" in values:
                values["system"] = words.label(values["system"])
            return words.text(f"collection.{key}", **values)
    return text


def rejects_table(rejects: pd.DataFrame) -> pd.DataFrame:
    """:func:`ingest.reject_summary` with the reasons and the fields they feed in words."""
    field = rejects["into"].map(lambda v: ", ".join(field_name(n) for n in v.split(",")) if v else "")
    return pd.DataFrame({"source": rejects.source, "file_column": rejects.column, "field": field,
                         "reason": rejects.reason.map(reason), "records": rejects["count"],
                         "first_line": rejects.first_line, "example_value": rejects.example_value})


def profiles_overview(profiles: dict) -> pd.DataFrame:
    """One row per source from its profile (``{source: (load row, profile frame)}``): records,
    columns, how many arrived complete, with gaps, or empty (bookkeeping columns left out)."""
    rows = []
    for source, (row, prof) in profiles.items():
        content = prof[~prof.column.isin(TECHNICAL)]
        missing = content.pct_missing.fillna(100.0)
        rows.append({"source": source, "table": words.table(row.table), "batch_id": row.batch_id,
                     "records": int(row.rows_loaded), "columns": len(content),
                     "complete": int((missing == 0).sum()),
                     "with_gaps": int(((missing > 0) & (missing < 100)).sum()),
                     "empty": int((missing >= 100).sum())})
    return pd.DataFrame(rows, columns=["source", "table", "batch_id", "records", "columns", "complete", "with_gaps",
                                       "empty"])


def profile_gaps(profiles: dict) -> pd.DataFrame:
    """The columns of each source that are not complete (bookkeeping columns left out), the
    emptiest first within a source: field in words, its name, tier, missing share, distinct
    values, an example (masked as the profile was)."""
    parts = []
    for source, (_row, prof) in profiles.items():
        content = prof[~prof.column.isin(TECHNICAL)]
        gaps = content[content.pct_missing.fillna(100.0) > 0].sort_values("pct_missing", ascending=False, kind="stable")
        parts.append(pd.DataFrame({"source": source, "field": gaps.column.map(field_name),
                                   "model_column": gaps.column,
                                   "privacy_tier": gaps.tier, "missing": gaps.pct_missing.fillna(100.0) / 100,
                                   "distinct": gaps["distinct"], "example": gaps.example}))
    columns = ["source", "field", "model_column", "privacy_tier", "missing", "distinct", "example"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def profiles_reading(overview: pd.DataFrame, gaps: pd.DataFrame) -> str:
    """The reading of the profiles: which sources never deliver which fields, and the rest."""
    empty = gaps[gaps.missing >= 1]
    lines = [words.text("collection.profile_empty_line", source=source,
                        fields=words.text("collection.list_separator").join(group.field))
             for source, group in empty.groupby("source", sort=False)]
    complete = [s for s in overview.source if s not in set(gaps.source)]
    text = words.text("collection.profile_summary", sources=len(overview), complete=len(complete),
                      gaps=int(gaps.source.nunique()))
    if lines:
        text += "\n\n" + words.text("collection.profile_empty") + "\n\n" + "\n".join(lines)
    return text


def customer_types(counts: pd.DataFrame, as_of) -> str:
    """The reading of :func:`dbmarketing.customers.type_counts` (records per source and type)."""
    records = int(counts.customer_records.sum())
    orders_only = int(counts.customer_records[counts.source_system == "orders only"].sum())
    if orders_only:
        return words.text("collection.customer_types_orders_only", as_of=str(as_of), records=records,
                          orders_only=orders_only)
    return words.text("collection.customer_types", as_of=str(as_of), records=records)


def type_table(counts: pd.DataFrame, order) -> pd.DataFrame:
    """Customer records per type (:func:`dbmarketing.customers.type_summary`), the types in words."""
    from dbmarketing import customers

    out = customers.type_summary(counts, order)
    return out.assign(customer_type=out.customer_type.map(words.label))


def worded(crosstab: pd.DataFrame) -> pd.DataFrame:
    """A source-by-type count table with its row and column values in words (chart and table)."""
    return crosstab.rename(index=words.label, columns=words.label)


def no_customers() -> str:
    return words.text("collection.no_customers")


def reading_types(crosstab: pd.DataFrame) -> str:
    shares = (100 * crosstab.div(crosstab.sum(axis=1), axis=0)).round(1)
    lines = [words.text("collection.reading_types_line", source=words.label(src),
                        current=shares.loc[src, "current"], potential=shares.loc[src, "potential"],
                        lapsed=shares.loc[src, "lapsed"])
             for src in shares.index if crosstab.loc[src, "distributor"] == 0]
    return (words.text("collection.reading_types_intro") + "\n\n" + "\n".join(lines)
            + "\n\n" + words.text("collection.reading_types_end"))


def tables_overview(tables: pd.DataFrame) -> pd.DataFrame:
    """:func:`warehouse.raw_tables` in words: each table's name and description from the
    catalog of words where it has them (the database's own description otherwise)."""
    def described(row) -> str:
        return words.text_or(f"collection.about_{str(row.table).split('.')[-1]}", row.description)

    return pd.DataFrame({"table": [words.table(t) for t in tables.table],
                         "origin": [words.label(o) for o in tables.origin],
                         "description": [described(r) for r in tables.itertuples()],
                         "columns": tables["columns"].to_numpy(), "highest_tier": tables.highest_tier.to_numpy()})


def by_tier_table(by_tier: pd.DataFrame) -> pd.DataFrame:
    """Customers by city tier with the tiers in words ("tier 1", "not matched")."""
    def tier(v):
        if isinstance(v, str) and not v.strip().isdigit():
            return words.label(v)
        # the tiers with a name of their own (一线城市 ...)
        return words.text_or(f"collection.tier_{int(v)}", words.text("collection.tier", tier=int(v)))

    income = pd.to_numeric(by_tier.avg_income_index, errors="coerce")
    return pd.DataFrame({"city_tier": [tier(v) for v in by_tier.city_tier], "customer_records": by_tier.customers.to_numpy(),
                         "avg_income_index": income.to_numpy()})


def unmatched_cities() -> str:
    return words.text("collection.unmatched_cities")


def history_changes_table(changes: pd.DataFrame) -> pd.DataFrame:
    """:func:`ingest.history_changes` with the attributes in words."""
    return changes.assign(attribute=changes.attribute.map(field_name))


def versions_table(versions: pd.DataFrame) -> pd.DataFrame:
    """:func:`ingest.customer_versions` for reading: its count of customers is of records."""
    return versions.rename(columns={"customers": "customer_records"})


def history_kept() -> str:
    return words.text("collection.history_kept")
