"""Loading sources into the raw layer of the customer database.

Loading a source (:func:`load_source`, :func:`load_sources`) follows these rules:

1. Every field is read as text, trimmed, translated by ``values`` and parsed into the model
   type (dates by their format, numbers, yes/no). An empty field is NULL. Nothing else is
   cleaned: odd but parseable values (negative prices, future dates) load unchanged.
2. A record with any problem (wrong number of fields, a value that does not parse, an empty
   required column, a duplicate key) is not loaded; each problem becomes one row of
   ``main.rejects`` with the line and source column at fault. Rows read = loaded + rejected.
3. Each load is one batch (``main.load_batches``) and one transaction: it lands completely
   or not at all. It reads and writes the source in chunks (``chunk_rows`` records at a
   time, :data:`~dbmarketing.ingest.readers.CHUNK_ROWS`), so its memory is that of a chunk,
   not of the file; the result is the same whatever the chunk size.
4. A file whose SHA-256 fingerprint was already loaded into the same table is skipped.
5. Customers keep their history: a changed customer closes its current version
   (``valid_to``) and gets a new one (``valid_from``).

Physical line numbers are kept (``raw.<table>.source_line``, ``main.rejects.line_no``) so a
reader can open the source file at the record in question: for CSV the line the record
starts on (header = line 1), for Excel the row number, for Parquet and SQL the 1-based row.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from dbmarketing import messages, warehouse
from dbmarketing.warehouse import sql

from ._common import _at, _problems
from .readers import (CHUNK_ROWS, READERS, Records, _cdnow_map, _check_mapped_columns, _file_fingerprint, _ResultDigest,
                      _row_chunks, _sql_fingerprint, _sql_query, check_source)
from .sources import ConfigError, Source, SourceError, map_fingerprint, read_sources
from .values import _to_model


def _key_text(keys: pd.DataFrame) -> pd.Series:
    """'order_id=X, line_no=1' for each row of a frame of key columns."""
    parts = [name + "=" + keys[name].astype("str") for name in keys.columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + ", " + part
    return text


def _duplicate_keys(con, rows: pd.DataFrame, table: warehouse.Table, column_name: str, seen: str | None) -> pd.DataFrame:
    """Reject rows for records whose key already appeared on an earlier line of the file: of
    this chunk, or of an earlier one (whose keys are in the temporary table `seen`, from
    :func:`_seen_keys`; this chunk's keys are added to it)."""
    key = list(table.key)
    if not key:  # a table without a key (a do-not-contact list) may repeat a row
        return _problems()
    keys = rows.loc[rows[key].notna().all(axis=1), key]
    first_line = pd.Series(keys.index, index=keys.index)
    repeated = keys.duplicated(keep=False)
    first_line[repeated] = first_line[repeated].groupby([keys.loc[repeated, k] for k in key], sort=False).transform("min")
    parts = {"seen": sql.ident(seen), "typed": _typed(c for c in table.columns if c.name in key),
             "join": " AND ".join(f"s.{sql.ident(k)} = k.{sql.ident(k)}" for k in key)}
    frames = {"keys": keys.reset_index(names="source_line")}
    earlier = _query(con, "ingest.seen_keys", frames=frames, **parts)
    first_line[earlier["source_line"].to_numpy()] = earlier["first_line"].to_numpy()
    _query(con, "ingest.remember_keys", frames=frames, typed_names=", ".join(sql.ident(k) for k in key), **parts)
    later = keys.index != first_line.to_numpy()
    if not later.any():
        return _problems()
    reasons = "duplicate key, first at line " + first_line[later].astype("str")
    return _problems(keys.index[later], column_name, reasons, ",".join(key), _key_text(keys[later]))


def _seen_keys(con, table: warehouse.Table) -> str | None:
    """A new temporary table for the keys of `table` that a load reads (None: it has no key)."""
    if not table.key:
        return None
    name = sql.temp_name("seen_keys")
    columns = ", ".join(f"{sql.ident(c.name)} {c.type}" for c in table.columns if c.name in table.key)
    sql.run(con, "ingest.create_seen_keys", seen=sql.ident(name), columns=columns)
    return name


def _query(con, name: str, params: dict | None = None, frames: dict[str, pd.DataFrame] | None = None,
           **parts) -> pd.DataFrame:
    """Run the named statement with each of `frames` registered under a name of its own and
    filled into the placeholder of its key; return the result."""
    names = {hole: sql.temp_name(hole) for hole in frames or {}}
    for hole, frame in (frames or {}).items():
        con.register(names[hole], frame)
    try:
        # fetch everything: DuckDB wants a result finished before the next statement
        return sql.run(con, name, params, **parts, **{h: sql.ident(n) for h, n in names.items()}).df()
    finally:
        for temp in names.values():
            con.unregister(temp)


def _typed(columns, alias: bool = True) -> str:
    """The columns cast to their model types (``CAST("c" AS DATE) AS "c"``), comma-separated."""
    return ", ".join(f"CAST({sql.ident(c.name)} AS {c.type})" + (f" AS {sql.ident(c.name)}" if alias else "")
                     for c in columns)


def _insert_rows(con, table: str, rows: pd.DataFrame) -> None:
    """INSERT the rows (model columns + batch_id, source_line, ...) into raw.<table> in one statement."""
    columns = list(warehouse.raw_columns(table))
    _query(con, "ingest.insert_rows", frames={"rows": rows}, table=sql.ident("raw", table),
           columns=", ".join(sql.ident(c.name) for c in columns), typed=_typed(columns, alias=False))


def _customer_changes(con, rows: pd.DataFrame, valid_from: dt.datetime) -> pd.DataFrame:
    """Compare incoming customers with their current versions: per line 'new', 'same',
    'changed', 'later' (the current version is valid from after `valid_from`) or
    'other_system' (the number belongs to a customer of another source system)."""
    columns = warehouse.MODEL["customers"].columns
    differs = " OR ".join(f"i.{sql.ident(c.name)} IS DISTINCT FROM c.{sql.ident(c.name)}"
                          for c in columns if c.name != "customer_id")
    changes = _query(con, "ingest.customer_changes", {"valid_from": valid_from},
                     {"rows": rows.reset_index(names="source_line")}, typed=_typed(columns), differs=differs)
    return changes.set_index("source_line").reindex(rows.index)


def _write_customers(con, rows: pd.DataFrame, valid_from: dt.datetime, key_column: str) -> tuple[pd.DataFrame, pd.Series]:
    """Keep customer history: close the current version of each changed customer
    (valid_to = valid_from) and insert new and changed customers as current versions.

    A customer number names one customer across all source systems (orders, contacts and
    tickets refer to it alone), so a record whose number is already held by a customer of
    another ``source_system`` is rejected, not merged into that customer's history.

    Returns (problems, change): reject rows for customers whose current version is
    valid from after `valid_from` (an older file loaded late) or belongs to another
    source system, and per line 'new', 'same', 'changed' (or the reject kind).
    """
    changes = _customer_changes(con, rows, valid_from)
    later = changes[changes["change"] == "later"]
    other = changes[changes["change"] == "other_system"]
    problems = pd.concat([
        _problems(later.index, key_column,
                  "a later version is already loaded (valid from " + later["current_from"].astype("str") + ")",
                  "customer_id", _key_text(rows.loc[later.index, ["customer_id"]])),
        _problems(other.index, key_column,
                  "customer number already used by source system '" + other["current_system"]
                  + "'; numbers must be unique across systems: give one system's numbers a prefix",
                  "customer_id", _key_text(rows.loc[other.index, ["customer_id"]])),
    ], ignore_index=True)
    changed = rows.loc[changes["change"] == "changed", ["customer_id"]]
    _query(con, "ingest.close_customers", {"valid_from": valid_from}, {"changed": changed})
    new_versions = rows.loc[changes["change"].isin(["new", "changed"])]
    _insert_rows(con, "customers", new_versions.assign(
        source_line=new_versions.index, valid_from=pd.Timestamp(valid_from), valid_to=pd.NaT))
    return problems, changes["change"]


def _write_rejects(con, batch_id: int, problems: pd.DataFrame, records: Records) -> None:
    """One row of main.rejects per problem, in line order, with the record as JSON (built in SQL)."""
    problems = pd.concat([problems.assign(raw_record=pd.Series(dtype="str")), records.bad_shape], ignore_index=True)
    if problems.empty:
        return
    problems["found"] = range(len(problems))
    header = list(records.frame.columns)
    record = ", ".join(f"{sql.ident(name)} := r.{sql.ident(name)}" for name in header)
    _query(con, "ingest.write_rejects", {"batch_id": batch_id},
           {"problems": problems, "records": records.frame.reset_index(names="__line__")}, record=record)


@dataclass
class LoadResult:
    """What one load did. ``status`` is "loaded", or "skipped" when the same content was
    loaded before: then ``batch_id``, the row counts and ``loaded_at`` are those of the
    batch that loaded it. Always rows_read = rows_loaded + rows_unchanged + rows_rejected."""

    source: str
    table: str
    batch_id: int | None
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_changed: int = 0
    loaded_at: dt.datetime | None = None
    message: str = ""
    rows_unchanged: int = 0


class PartialLoadError(SourceError):
    """A source of a multi-source load failed after earlier sources were loaded (and kept)."""


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _parse_source(records: Records, source: Source) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Parse records into model rows: {table: rows} (the source's own table first) and problems."""
    if source.format != "cdnow":
        rows, problems = _to_model(records.frame, warehouse.MODEL[source.table], source.columns, source.constants,
                                   source.date_formats, source.values, source.prefix, records.dates)
        return {source.table: rows}, problems
    # CDNOW: every line is one completed sale with one order line.
    mapping = _cdnow_map(source, len(records.frame.columns), "")
    work = records.frame.assign(order_id=source.name + "-" + records.frame.index.astype("str"))
    date_format = {"order_date": source.date_formats.get("order_date", "%Y%m%d")}
    prefix = {"customer_id": source.prefix["customer_id"]} if "customer_id" in source.prefix else {}
    orders, order_problems = _to_model(
        work, warehouse.MODEL["orders"],
        {"order_id": "order_id", "customer_id": mapping["customer_id"], "order_date": mapping["order_date"]},
        {"order_type": "sale", "status": "completed", **source.constants}, date_format, prefix=prefix)
    line_columns = {"order_id": "order_id", "amount": mapping["amount"]}
    if "quantity" in mapping:
        line_columns["quantity"] = mapping["quantity"]
    lines, line_problems = _to_model(work, warehouse.MODEL["order_lines"], line_columns, {"line_no": "1"})
    quantity = lines["quantity"].astype("float64")
    lines["unit_price"] = (lines["amount"] / quantity).where(quantity != 0)
    return {"orders": orders, "order_lines": lines}, pd.concat([order_problems, line_problems], ignore_index=True)


def _source_name_of(source: Source, columns) -> str:
    """The source column(s) behind model columns, comma-separated (for rejects.column_name)."""
    mapping = {"order_id": "line number"} if source.format == "cdnow" else source.columns
    return ",".join(mapping.get(c, c) for c in columns)


def load_source(con, source: Source, base_dir: str | Path | None = None, chunk_rows: int | None = CHUNK_ROWS) -> LoadResult:
    """Load one source into the raw layer as one batch, in one transaction.

    A delivery is compared with what is loaded: a record identical to one already loaded
    counts as *unchanged* (not loaded again, not a reject); a record whose key is loaded with
    other values is *changed*: a new history version for customers, an update replacing the
    earlier row elsewhere. The same file (same SHA-256) loaded before with the same column
    map is skipped; loaded before by the same source with another map, it is a new delivery
    that supersedes the earlier batch (:func:`_supersede`). A load that rejects every record
    it read stops with :class:`SourceError` and writes nothing: the column map is wrong.

    Parameters
    ----------
    con : DuckDB connection from :func:`dbmarketing.warehouse.connect`.
    source : a :class:`Source` (from :func:`read_sources`).
    base_dir : folder relative paths are taken from; default the sources file's base_dir.
    chunk_rows : records read, parsed and written at a time (None: the whole source at
        once); memory grows with it, the result does not depend on it.

    Returns
    -------
    LoadResult. Raises :class:`SourceError` when the source cannot be read; the database is
    then unchanged.
    """
    started = _now()
    base = Path(base_dir if base_dir is not None else source.base_dir)
    mark = _last_watermark(con, source)
    if source.format == "sql":  # a first pass over the query result, keeping none of it
        sha256, sql_rows = _sql_fingerprint(source, base, mark)
    else:
        sha256 = _file_fingerprint(str(base / source.path))
    map_sha256 = map_fingerprint(source)

    earlier = sql.run(con, "ingest.loaded_before", {"sha256": sha256, "table_name": source.table}).fetchall()
    same_map = [e for e in earlier if e[9] is None or e[9] == map_sha256]
    if same_map:
        batch_id, _, path, finished_at, read, loaded, rejected, changed, unchanged, _ = same_map[0]
        return LoadResult(source.name, source.table, batch_id, "skipped", read, loaded, rejected, changed,
                          finished_at, f"same content already loaded in batch {batch_id} ({path}) "
                                       f"on {finished_at:%Y-%m-%d %H:%M}; not loaded again", unchanged)
    superseded = [e[0] for e in earlier if e[1] == source.name]
    if source.format == "sql" and mark is not None and not sql_rows:
        return LoadResult(source.name, source.table, None, "skipped", 0, 0, 0, 0, started,
                          f"no rows with {source.watermark} above {mark} (the newest loaded): nothing new")

    con.execute("BEGIN TRANSACTION")
    try:
        batch_id = sql.one(con, "ingest.next_batch")[0]
        for old in superseded:
            _supersede(con, old, batch_id)
        seen = _seen_keys(con, warehouse.MODEL[source.table])
        counts, watermark = collections.Counter(), mark
        with _chunks(source, base, mark, chunk_rows, sha256) as (location, chunks):
            for n, records in enumerate(chunks):
                if n == 0:
                    _check_mapped_columns(list(records.frame.columns), source, location, records.header_line)
                tables, problems = _parse_source(records, source)
                counts.update(_write_batch(con, source, batch_id, started, records, tables, problems, seen))
                watermark = _new_watermark(source, records, watermark)
        if seen:
            con.execute(f"DROP TABLE {sql.ident(seen)}")
        result = _record_batch(con, source, location, counts, {
            "batch_id": batch_id, "sha256": sha256, "map_sha256": map_sha256, "started_at": started,
            "watermark": watermark})
        # every record rejected, and not because newer versions are loaded (an old file arriving late)
        bad = sql.one(con, "ingest.lines_rejected", {"batch_id": batch_id})[0]
        if result.rows_read and bad == result.rows_read:
            first = sql.one(con, "ingest.first_reject", {"batch_id": batch_id})
            raise SourceError(f"{_at(location, first[0])}: every one of the {result.rows_read:,} records was "
                              f"rejected (the first: {first[1] + ': ' if first[1] else ''}{first[2]}); check the "
                              f"column map of source '{source.name}'. Nothing was loaded")
        if superseded:
            result.message += f"; supersedes batch {', '.join(map(str, superseded))} (same file, column map changed)"
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


@contextlib.contextmanager
def _chunks(source: Source, base: Path, mark: str | None, chunk_rows: int | None, sha256: str):
    """While open: (location shown to readers, the source's :class:`Records` chunk by chunk).
    A query is run again for its rows, which must be the ones fingerprinted (`sha256`)."""
    if source.format != "sql":
        location = str(base / source.path)
        yield location, READERS[source.format](location, source, chunk_rows)
        return
    with _sql_query(source, base, mark) as (location, header, rows):
        digest = _ResultDigest(header)
        yield location, _row_chunks(digest.rows(rows), location, chunk_rows, header=header)
    if digest.hexdigest() != sha256:
        raise SourceError(f"{location}: the query result changed while it was loaded (rows written in the "
                          "meantime?); nothing was loaded: load again")


def _supersede(con, old: int, new: int) -> None:
    """Undo what batch ``old`` loaded, because batch ``new`` loads the same file again with a
    changed column map: its rows leave the raw tables (customers' history is chained again
    from the versions that remain), its rejects are closed, and the batch is marked."""
    affected = [r[0] for r in sql.run(con, "ingest.batch_customers", {"batch_id": old}).fetchall()]
    for table in warehouse.MODEL:
        sql.run(con, "ingest.delete_batch", {"batch_id": old}, table=sql.ident("raw", table))
    if affected:
        _query(con, "ingest.chain_history",
               frames={"affected": pd.DataFrame({"customer_id": pd.Series(affected, dtype="str")})})
    status = f"superseded by batch {new}"
    sql.run(con, "ingest.mark_rejects", {"status": status, "batch_id": old})
    sql.run(con, "ingest.mark_batch", {"status": status, "batch_id": old})


def _last_watermark(con, source: Source) -> str | None:
    """The highest watermark value a SQL source with ``watermark:`` has loaded (None the first time)."""
    if source.watermark is None:
        return None
    return sql.one(con, "ingest.last_watermark", {"source": source.name})[0]


def _new_watermark(source: Source, records: Records, mark: str | None) -> str | None:
    if source.watermark is None:
        return None
    if source.watermark not in records.frame.columns:
        raise SourceError(f"source '{source.name}': the query result has no column '{source.watermark}' "
                          f"(its watermark:); it has {messages.cut_list(records.frame.columns)}")
    values = [*records.frame[source.watermark].replace("", np.nan).dropna(), *([mark] if mark else [])]
    numbers = pd.to_numeric(pd.Series(values, dtype="str"), errors="coerce")
    if len(values) and numbers.notna().all():  # a number column (an id, a version): the largest number
        return values[int(numbers.to_numpy().argmax())]
    return max(values, default=mark)  # dates and timestamps as ISO text sort as they are


def _write_batch(con, source: Source, batch_id: int, started: dt.datetime, records: Records, tables: dict[str, pd.DataFrame],
                 problems: pd.DataFrame, seen: str | None) -> dict[str, int]:
    """The database part of a load, for one chunk of records; runs inside the load's
    transaction. Returns the chunk's counts: rows_read, rows_rejected, rows_unchanged,
    rows_changed."""
    table = warehouse.MODEL[source.table]
    rows = tables[source.table]
    key_column = _source_name_of(source, table.key)
    problems = pd.concat([problems, _duplicate_keys(con, rows, table, key_column, seen)], ignore_index=True)
    accepted = rows.loc[~rows.index.isin(problems["line_no"])].assign(batch_id=batch_id)

    if source.table == "customers":
        valid_from = source.effective_date or (dt.datetime.combine(source.extracted, dt.time())
                                               if source.extracted else started)
        later, change = _write_customers(con, accepted, valid_from, key_column)
        problems = pd.concat([problems, later], ignore_index=True)
    else:
        change = _compare_with_loaded(con, table, accepted, batch_id)
        for name, table_rows in tables.items():
            kept = table_rows.loc[table_rows.index.isin(change.index[change != "same"])]
            if name == source.table:
                _replace_changed(con, table, kept.loc[change[kept.index] == "changed"])
            elif (change == "changed").any():  # the lines of a changed CDNOW order follow it
                _replace_changed(con, warehouse.MODEL[name], kept.loc[change[kept.index] == "changed"], by=table.key)
            _insert_rows(con, name, kept.assign(batch_id=batch_id, source_line=kept.index))

    _write_rejects(con, batch_id, problems, records)
    rejected_lines = set(problems["line_no"]) | set(records.bad_shape["line_no"])
    kept = change.drop(index=list(rejected_lines), errors="ignore")
    return {"rows_read": len(records.frame) + len(records.bad_shape), "rows_rejected": len(rejected_lines),
            "rows_unchanged": int((kept == "same").sum()), "rows_changed": int((kept == "changed").sum())}


def _record_batch(con, source: Source, location: str, counts: dict[str, int], batch: dict) -> LoadResult:
    """Close the rejects of earlier batches that this one repeats and write its row of
    main.load_batches, from the counts of its chunks; the load's result."""
    sql.run(con, "ingest.repeated_rejects", {"batch": batch["batch_id"], "source": source.name})
    rows_read, rows_rejected = counts["rows_read"], counts["rows_rejected"]
    unchanged, changed = counts["rows_unchanged"], counts["rows_changed"]
    loaded = rows_read - rows_rejected - unchanged
    finished = _now()
    sql.run(con, "ingest.record_batch", {
        **batch, "source": source.name, "path": location, "table_name": source.table,
        "rows_read": rows_read, "rows_loaded": loaded, "rows_unchanged": unchanged, "rows_rejected": rows_rejected,
        "rows_changed": changed, "finished_at": finished, "status": "loaded",
        "extracted": source.extracted or batch["started_at"].date()})
    into = "orders and order_lines" if source.format == "cdnow" else source.table
    message = f"{loaded} of {rows_read} records loaded into raw.{into}"
    if unchanged:
        message += f", {unchanged} unchanged (loaded before)"
    message += f", {rows_rejected} rejected"
    if changed:
        message += f", {changed} changed ({'new versions' if source.table == 'customers' else 'updated'})"
    return LoadResult(source.name, source.table, batch["batch_id"], "loaded", rows_read, loaded, rows_rejected,
                      changed, finished, message, unchanged)


def _compare_with_loaded(con, table: warehouse.Table, rows: pd.DataFrame, batch_id: int) -> pd.Series:
    """Per line of ``rows``: 'new', 'same' (a row with equal values was loaded before batch
    `batch_id`) or 'changed' (its key was loaded with other values). A table without a key
    compares whole rows."""
    columns = table.columns
    key = list(table.key) or [c.name for c in columns]
    join = " AND ".join(f"r.{sql.ident(k)} IS NOT DISTINCT FROM i.{sql.ident(k)}" for k in key)
    differs = " OR ".join(f"r.{sql.ident(c.name)} IS DISTINCT FROM i.{sql.ident(c.name)}" for c in columns) or "FALSE"
    found = _query(con, "ingest.compare_with_loaded", {"batch_id": batch_id},
                   frames={"rows": rows.reset_index(names="source_line")},
                   table=sql.ident("raw", table.name), typed=_typed(columns), join=join, differs=differs)
    change = pd.Series("new", index=rows.index, dtype="str")
    change[found["source_line"].to_numpy()] = found["change"].to_numpy()
    return change


def _replace_changed(con, table: warehouse.Table, rows: pd.DataFrame, by: tuple[str, ...] | None = None) -> None:
    """Delete the loaded rows that changed rows replace (same key, or same ``by`` columns)."""
    if rows.empty:
        return
    key = list(by or table.key)
    types = {c.name: c.type for c in table.columns}
    join = " AND ".join(f"r.{sql.ident(k)} = CAST(k.{sql.ident(k)} AS {types[k]})" for k in key)
    _query(con, "ingest.delete_replaced", frames={"keys": rows[key].drop_duplicates()},
           table=sql.ident("raw", table.name), join=join)


def load_sources(con, sources_file: str | Path, only: str | list[str] | None = None,
                 base_dir: str | Path | None = None, chunk_rows: int | None = CHUNK_ROWS) -> pd.DataFrame:
    """Load the sources of a sources file in file order; one row per source (LoadResult fields).

    `only` restricts the load to the named source(s); `base_dir` overrides the file's
    base_dir (e.g. for a notebook whose current directory is not the project root);
    `chunk_rows` is :func:`load_source`'s.

    Every source is checked first (:func:`check_source`): a missing file, undecodable
    bytes or a missing mapped column raise :class:`SourceError` before anything is
    written. Each source then loads in its own transaction; if one still fails, the
    sources loaded before it stay loaded and :class:`PartialLoadError` names them (load
    again once fixed: what was loaded is recognised and skipped).
    """
    sources = read_sources(sources_file)
    if only is not None:
        wanted = [only] if isinstance(only, str) else list(only)
        unknown = sorted(set(wanted) - {s.name for s in sources})
        if unknown:
            raise ConfigError(f"{sources_file}: no source named {messages.cut_list(unknown)}; the file has "
                              f"{messages.cut_list(s.name for s in sources)}")
        sources = [s for s in sources if s.name in wanted]
    for source in sources:
        check_source(source, base_dir)
    results = []
    for source in sources:
        try:
            results.append(load_source(con, source, base_dir, chunk_rows))
        except Exception as error:
            loaded = [r for r in results if r.status == "loaded"]
            if not loaded:
                raise
            done = messages.cut_list(f"{r.source} (batch {r.batch_id})" for r in loaded)
            raise PartialLoadError(
                f"source '{source.name}' failed and was not loaded: {type(error).__name__}: "
                f"{messages.one_line(error, 300)}; loaded before the failure, and kept: {done}; fix the problem "
                "and load again: the sources already loaded are recognised and skipped") from error
    return pd.DataFrame([asdict(r) for r in results], columns=[f.name for f in fields(LoadResult)])
