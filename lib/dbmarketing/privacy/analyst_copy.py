"""Publish a de-identified copy of the customer database for readers of a lower clearance.

    python -m dbmarketing publish --clearance 2 --db data/crm.duckdb --out data/analyst.duckdb \\
        --key-file /etc/dbmarketing/pseudonym.key

The full database (``main.catalog`` gives every column a privacy tier: 1 public, 2
deep-public, 3 private, 4 highly private) holds names, phones, ID numbers and addresses in
clear. :func:`publish` writes a copy in which every column above ``clearance`` holds what
:data:`RULES` says, and nothing else of it: a keyed pseudonym where equality matters (joins,
de-duplicated customers, "same phone" counts), a generalization where a coarser value is
still useful (birth date -> year, address -> city), the display mask of
:mod:`dbmarketing.privacy` for names, and otherwise nothing ("***" for text, empty for other
types). Which columns are above the clearance is decided by the catalog alone, by column
name, exactly as :func:`dbmarketing.privacy.mask_frame` decides it for displays
(:func:`dbmarketing.privacy.catalog_tiers`); the columns of one join family (the customer
numbers, say) take the highest tier of any member, so a join never pairs a pseudonym with a
clear value. The masks are privacy.py's own functions, not copies of them.

The rule, once (column names -> what the copy holds when the column is above the clearance):

====================================================================  ===========================================
columns                                                               the copy holds
====================================================================  ===========================================
customer_id, master_id, source_customer_id, customer_id_l/_r           keyed pseudonym (one family: they join)
order_id, original_order_id; return_id; ticket_id; campaign_id;        keyed pseudonym (join keys)
product_id
phone; email; id_number                                               keyed pseudonym (equality kept: "same
                                                                      phone" counts, do-not-contact matches)
name                                                                  masked: 张** / J*** S**** (privacy.mask_name)
birth_date                                                            the year, as text: 1990 (mask_birth_date)
address                                                               the row's city, else *** (mask_series)
any other text column                                                 *** (privacy's mask for anything else)
any other column (numbers, dates, flags)                              empty (NULL), its type kept
====================================================================  ===========================================

**Keyed pseudonyms.** ``HMAC-SHA256(key, value)``, the first :data:`PSEUDONYM_HEX` hex digits
(80 bits: a collision among 10^8 distinct values has a chance of about 4 in a billion). One
function for every column, so two columns that held equal values hold equal pseudonyms and
every join, count and de-duplication of the full database gives the same answer on the copy;
the same key gives the same pseudonym month after month, so copies join across months. The
key is what makes it a pseudonym and not a lookup table: phone numbers are few enough to hash
them all, a keyed hash cannot be computed without the key. The key lives outside the database
and the project (a file given by ``--key-file``, or the environment variable
:data:`KEY_ENV`), stays with the data owner, and never enters a copy, a report or a log: the
copy records only its fingerprint (:func:`key_fingerprint`, an HMAC of a fixed label), which
tells two copies made with the same key apart from others and cannot give the key back.

**What the copy holds.** Every table of the schemas ``main`` and ``raw``, every row, under the
rule, with the catalog (``main.catalog``, ``main.catalog_tables``) and the load history
(``main.load_batches``); ``main.publication`` (clearance, when, from which database, the key's
fingerprint, what was left out) and ``main.publication_columns`` (for every column above the
clearance: its tier and what the copy holds) say what it is. :func:`dbmarketing.privacy.database_clearance`
reads it: 4 for a full database, the published clearance for a copy.

- ``raw`` is kept, under the same rule. It holds personal data (``raw.customers``,
  ``raw.suppressions``), but the later chapters need it: :mod:`dbmarketing.warehouse` decides
  which sections of notebooks 03-05 run by counting ``raw.customers``, ``raw.orders``,
  ``raw.products`` (unit costs), ``raw.campaigns``/``raw.contacts`` (campaigns and control
  groups) and ``raw.service_tickets``; :func:`dbmarketing.warehouse.data_range` reads
  ``raw.customers.signup_date``; :func:`dbmarketing.customers.build_customer_model` counts
  ``raw.service_tickets``; :func:`dbmarketing.campaigns.save_campaign` looks campaign ids up
  in ``raw.campaigns`` and loads the plan into ``raw``; notebook 01's load history and
  profiles read every raw table. Left out, those sections would all say "load it first".
- ``truth`` is left out. It is the sample's answer key, not the data owner's data (a real
  database has none, and notebooks then say there is no answer key): which records are the
  same person (``truth.customer_records.person_id``) is exactly what a de-identified copy must
  not hand out, ``truth.persons`` holds the planted people, and ``truth.defects.detail`` (tier
  1) quotes the raw values of rejected records.
- Views are left out (none of the workbook's own; a view's SQL is not checked for values).

A table or column the catalog does not describe stops the publication: its tier is unknown.
A published copy is not published again (its pseudonyms would be hashed twice): publish from
the full database. Clearance 4 is the full database itself: publish takes 1-3.

**Nothing half-written.** The copy is written to ``.NAME.partial`` beside ``--out`` and renamed
into place when complete; masks are applied in the query that writes each table, so no clear
value is ever written into the copy's file (not even into blocks freed later).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .. import __version__, warehouse
from ..warehouse import sql
from . import masks as privacy

KEY_ENV = "DBMARKETING_PSEUDONYM_KEY"
MIN_KEY_CHARS = 32
PSEUDONYM_HEX = 20  # hex digits kept of the HMAC-SHA256: 80 bits
FINGERPRINT_LABEL = b"dbmarketing publish: pseudonym key fingerprint v1"
LEFT_OUT_SCHEMAS = {"truth": "the sample's answer key (which records are the same person, the planted people)"}

PSEUDONYM, MASK, GENERALIZE = "pseudonym", "mask", "generalize"
OTHER_TEXT, OTHER = "other text", "other"


@dataclass(frozen=True)
class Rule:
    """What the copy holds for these columns (by name) when they are above the clearance."""

    columns: tuple[str, ...]
    treatment: str  # PSEUDONYM, MASK or GENERALIZE
    holds: str      # in words, for main.publication_columns
    why: str


# The rule, once. A rule's columns are one family: they take the highest tier of any of them.
RULES: tuple[Rule, ...] = (
    Rule(("customer_id", "master_id", "source_customer_id", "customer_id_l", "customer_id_r"), PSEUDONYM,
         "keyed pseudonym of the customer number",
         "customer numbers join orders, sales, contacts, tickets, the customer map and match pairs: one "
         "pseudonym per number keeps every join, the de-duplicated customers and every count per customer"),
    Rule(("order_id", "original_order_id"), PSEUDONYM, "keyed pseudonym of the order number",
         "order lines join their order, a return the sale it returns"),
    Rule(("return_id",), PSEUDONYM, "keyed pseudonym of the return number", "a join key"),
    Rule(("ticket_id",), PSEUDONYM, "keyed pseudonym of the ticket number", "a join key"),
    Rule(("campaign_id",), PSEUDONYM, "keyed pseudonym of the campaign code", "contacts join their campaign"),
    Rule(("product_id",), PSEUDONYM, "keyed pseudonym of the product code", "order lines join their product"),
    Rule(("phone",), PSEUDONYM, "keyed pseudonym of the phone number as stored",
         "equality matters: customers sharing a phone, the do-not-contact list matched by phone"),
    Rule(("email",), PSEUDONYM, "keyed pseudonym of the e-mail address as stored",
         "equality matters: customers sharing an address, the do-not-contact list matched by e-mail"),
    Rule(("id_number",), PSEUDONYM, "keyed pseudonym of the ID number as stored",
         "equality matters: records sharing an ID number are one person (the birth year it holds is in "
         "birth_date)"),
    Rule(("name",), MASK, "the name masked as displays mask it: 张**, J*** S**** (privacy.mask_name)",
         "what a reader at this clearance sees of a name anywhere else"),
    Rule(("birth_date",), GENERALIZE, "the birth year, as text: 1990 (privacy.mask_birth_date)",
         "age to within a year"),
    Rule(("address",), GENERALIZE, "the city of the same row, else *** (privacy.mask_series)",
         "where customers live, to city level"),
)
OTHER_RULES = {
    OTHER_TEXT: "*** (privacy's mask for anything else)",
    OTHER: "empty (NULL), the column's type kept so that code reading it still runs",
}
RULE_OF: dict[str, Rule] = {c: r for r in RULES for c in r.columns}


class PublishError(ValueError):
    """A publication refused: the message says why, in one line, and never holds the key."""


# --------------------------------------------------------------------------------------
# the key
# --------------------------------------------------------------------------------------


def key_fingerprint(key: bytes) -> str:
    """A fingerprint of the key that cannot give it back: HMAC-SHA256(key, a fixed label), 16 hex digits.
    Two copies with the same fingerprint were made with the same key (their pseudonyms join)."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]


def pseudonym(key: bytes, value) -> str | None:
    """The keyed pseudonym of one value (None stays None): the first :data:`PSEUDONYM_HEX` hex digits of
    HMAC-SHA256(key, the value as text, UTF-8). The same key and value give the same pseudonym."""
    if value is None:
        return None
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def _project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding pyproject.toml or .git."""
    for folder in [start, *start.parents]:
        if (folder / "pyproject.toml").exists() or (folder / ".git").exists():
            return folder
    return None


def _forbidden_folders(db_path: Path, out_path: Path) -> list[tuple[Path, str]]:
    """Folders a key file may not be in: the project (this package's, and the databases'), the
    output's folder and the database's folder (what is copied, backed up or shared with them)."""
    folders = [(out_path.parent, "the output's folder"), (db_path.parent, "the database's folder")]
    for start in (Path(__file__).resolve().parent, db_path.parent, out_path.parent):
        root = _project_root(start)
        if root is not None:
            folders.append((root, "the project folder"))
    return folders


def read_key(key_file: str | Path | None = None, environ=None, db_path=None, out_path=None) -> bytes:
    """The pseudonym key: the content of ``key_file`` if given (it wins), else the environment variable
    :data:`KEY_ENV`; surrounding white space is dropped. Refused: no key, a key shorter than
    :data:`MIN_KEY_CHARS` characters, a key file inside the project, the output's folder or the
    database's folder, a key file that does not exist."""
    environ = os.environ if environ is None else environ
    if key_file is not None and str(key_file) != "":
        path = Path(key_file).expanduser().resolve()
        if db_path is not None and out_path is not None:
            for folder, what in _forbidden_folders(Path(db_path).resolve(), Path(out_path).resolve()):
                if path.is_relative_to(folder):
                    raise PublishError(f"key file {key_file} is inside {what} ({folder}): keep the key outside the "
                                       f"project and away from the databases, e.g. in /etc/dbmarketing/ readable by "
                                       f"the data owner only")
        if not path.is_file():
            raise PublishError(f"key file {key_file} does not exist (or is not a file)")
        key, where = path.read_bytes().strip(), f"key file {key_file}"
    elif environ.get(KEY_ENV, "").strip():
        key, where = environ[KEY_ENV].strip().encode("utf-8"), f"environment variable {KEY_ENV}"
    else:
        raise PublishError(f"no pseudonym key: give --key-file PATH (a file outside the project) or set {KEY_ENV}")
    if len(key) < MIN_KEY_CHARS:
        raise PublishError(f"the key in {where} is {len(key)} characters; use at least {MIN_KEY_CHARS}, e.g. "
                           f"python -c 'import secrets; print(secrets.token_hex(32))' > KEYFILE")
    return key


# --------------------------------------------------------------------------------------
# the rule applied
# --------------------------------------------------------------------------------------


def _family_tiers(tiers: dict[str, int]) -> dict[str, int]:
    """Column name -> tier for publishing: the catalog's (highest for the name, as for displays),
    raised to the highest of its rule's family."""
    out = dict(tiers)
    for rule in RULES:
        top = max(tiers.get(c, 1) for c in rule.columns)
        for c in rule.columns:
            if c in out:
                out[c] = top
    return out


def treatment(column: str, data_type: str) -> tuple[str, str]:
    """(treatment, what the copy holds) for a column above the clearance."""
    rule = RULE_OF.get(column)
    if rule is not None:
        return rule.treatment, rule.holds
    if data_type == "VARCHAR":
        return OTHER_TEXT, OTHER_RULES[OTHER_TEXT]
    return OTHER, OTHER_RULES[OTHER]


def _pseudonym_udf(key: bytes):
    import pyarrow as pa

    def fn(values):
        seen: dict[str, str] = {}
        out = []
        for v in values.to_pylist():
            if v is None:
                out.append(None)
            elif v in seen:
                out.append(seen[v])
            else:
                out.append(seen.setdefault(v, pseudonym(key, v)))
        return pa.array(out, type=pa.string())
    return fn


def _mask_udf(column: str):
    """privacy.mask_series for one column name, as a DuckDB function of (value, city)."""
    import pandas as pd
    import pyarrow as pa

    def fn(values, city):

        v = pd.Series(values.to_pylist(), dtype="object")
        c = pd.Series(city.to_pylist(), dtype="object")
        masked = privacy.mask_series(column, v, c)
        out = [None if (m is None or (isinstance(m, float) and math.isnan(m))) else str(m) for m in masked]
        return pa.array(out, type=pa.string())
    return fn


@dataclass
class Publication:
    """What :func:`publish` wrote."""

    path: Path
    clearance: int
    source_database: str
    key_fingerprint: str
    tables: int
    rows: int
    columns: list[dict]   # every column above the clearance: schema, table, column, tier, treatment, holds
    left_out: list[str]

    def __str__(self) -> str:
        kinds: dict[str, int] = {}
        for c in self.columns:
            kinds[c["treatment"]] = kinds.get(c["treatment"], 0) + 1
        what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        return (f"published {self.source_database} at clearance {self.clearance} to {self.path}: {self.tables} tables, "
                f"{self.rows:,} rows; columns above clearance {self.clearance}: {what}; left out: "
                f"{'; '.join(self.left_out) or 'nothing'}; key fingerprint {self.key_fingerprint}")


PUBLICATION = warehouse.Table(
    "publication",
    "This database is a de-identified copy made by `dbmarketing publish`: for whom and from what.",
    (
        warehouse.Column("clearance", "INTEGER", "The clearance the copy was published for: columns above it hold pseudonyms, "
                  "generalized or masked values (main.publication_columns)"),
        warehouse.Column("published_at", "TIMESTAMP", "When the copy was written"),
        warehouse.Column("source_database", "VARCHAR", "File name of the full database it was made from"),
        warehouse.Column("key_fingerprint", "VARCHAR", "HMAC of a fixed label with the pseudonym key: equal fingerprints, "
                  "equal keys (pseudonyms join across copies); the key cannot be derived from it"),
        warehouse.Column("left_out", "VARCHAR", "Schemas and objects of the full database not in the copy, with the reason"),
        warehouse.Column("dbmarketing_version", "VARCHAR", "Version of the workbook that wrote the copy"),
    ),
)
PUBLICATION_COLUMNS = warehouse.Table(
    "publication_columns",
    "For every column above the published clearance: what the copy holds instead of its values.",
    (
        warehouse.Column("table_schema", "VARCHAR", "Schema of the table"),
        warehouse.Column("table_name", "VARCHAR", "Table name"),
        warehouse.Column("column_name", "VARCHAR", "Column name"),
        warehouse.Column("privacy_tier", "INTEGER", "Tier used for publishing (the catalog's, raised to its join family's)"),
        warehouse.Column("treatment", "VARCHAR", "pseudonym, mask, generalize, other text (***) or other (empty)"),
        warehouse.Column("holds", "VARCHAR", "What the copy holds, in words"),
    ),
)


def _check_paths(db_path: Path, out_path: Path, replace: bool) -> None:
    if not db_path.is_file():
        raise PublishError(f"database {db_path} does not exist")
    if out_path.resolve() == db_path.resolve() or (out_path.exists() and out_path.samefile(db_path)):
        raise PublishError(f"--out {out_path} is the database itself: write the copy to another file")
    if out_path.exists() and not replace:
        raise PublishError(f"{out_path} exists: give --replace to write the new copy over it")
    if out_path.exists() and not out_path.is_file():
        raise PublishError(f"{out_path} is not a file")


def publish(db_path, out_path, clearance: int = privacy.SCHEDULED_CLEARANCE, key: bytes | None = None,
            replace: bool = False, key_file=None, environ=None, now: datetime | None = None) -> Publication:
    """Write the de-identified copy of ``db_path`` for readers of ``clearance`` (1-3) to ``out_path``.

    The key is ``key`` if given, else read by :func:`read_key` from ``key_file`` or the environment.
    ``out_path`` must differ from ``db_path`` and not exist unless ``replace``. The copy is written aside
    and renamed into place; a failure leaves ``out_path`` as it was and no partial file.
    """
    db_path, out_path = Path(db_path), Path(out_path)
    try:
        clearance = int(clearance)
    except (TypeError, ValueError):
        raise PublishError(f"clearance must be 1, 2 or 3, got {clearance!r}") from None
    if not 1 <= clearance <= 3:
        raise PublishError(f"clearance must be 1, 2 or 3 (4 is the full database itself), got {clearance}")
    _check_paths(db_path, out_path, replace)
    if key is None:
        key = read_key(key_file, environ, db_path, out_path)
    elif len(key) < MIN_KEY_CHARS:
        raise PublishError(f"the key is {len(key)} characters; use at least {MIN_KEY_CHARS}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.partial")
    wal = Path(f"{tmp}.wal")
    for stale in (tmp, wal):
        stale.unlink(missing_ok=True)
    try:
        result = _write(db_path, tmp, clearance, key, now or datetime.now())
        if wal.exists():
            raise PublishError(f"{wal} was left after the copy was closed")
        Path(f"{out_path}.wal").unlink(missing_ok=True)  # a stale WAL of an old copy must not replay onto the new
        os.replace(tmp, out_path)
    except BaseException:
        for stale in (tmp, wal):
            stale.unlink(missing_ok=True)
        raise
    result.path = out_path
    return result


def _write(db_path: Path, tmp: Path, clearance: int, key: bytes, now: datetime) -> Publication:
    import duckdb

    con = duckdb.connect(str(tmp))
    try:
        sql.run(con, "privacy.attach_source", {"path": str(db_path.resolve())})
        if not sql.one(con, "privacy.source_has_table", {"table": "catalog"})[0]:
            raise PublishError(f"{db_path} is not a dbmarketing database (it has no main.catalog)")
        if sql.one(con, "privacy.source_has_table", {"table": "publication"})[0]:
            held = sql.one(con, "privacy.published_clearance", publication=sql.ident("src", "main", "publication"))[0]
            raise PublishError(f"{db_path} is already a published copy (clearance {held}): publish from the full database")
        tables = sql.run(con, "privacy.source_tables").fetchall()
        columns = sql.run(con, "privacy.source_columns").fetchall()
        catalog = sql.run(con, "privacy.source_catalog").fetchall()
        catalog_tables = sql.run(con, "privacy.source_catalog_tables").fetchall()
        views = sql.run(con, "privacy.source_views").fetchall()
        home = sql.one(con, "privacy.current_database")[0]
        sql.run(con, "privacy.use_database", database=sql.ident("src"))  # the catalog lookup of displays, on the full database
        tiers = _family_tiers(privacy.catalog_tiers(con))
        sql.run(con, "privacy.use_database", database=sql.ident(home))

        kept = [(s, t) for s, t in tables if s not in LEFT_OUT_SCHEMAS]
        described = {(s, t, c) for s, t, c, *_ in catalog}
        unknown = [f"{s}.{t}.{c}" for s, t, c, _ in columns
                   if s not in LEFT_OUT_SCHEMAS and (s, t, c) not in described]
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise PublishError(f"{', '.join(unknown[:5])}{more}: not in main.catalog, so their privacy tier is unknown; "
                               f"register them (warehouse.register_table) or drop them before publishing")

        con.create_function("_dbm_pseudonym", _pseudonym_udf(key), ["VARCHAR"], "VARCHAR", type="arrow",
                            null_handling="special", side_effects=False)
        masks: dict[str, str] = {}
        above: list[dict] = []
        new_types: dict[tuple[str, str, str], str] = {}
        by_table: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for s, t, c, typ in columns:
            by_table.setdefault((s, t), []).append((c, typ))

        warehouse.create_catalog(con)
        rows = 0
        for s, t in kept:
            sql.run(con, "privacy.create_schema", schema=sql.ident(s))
            if (s, t) in (("main", "catalog"), ("main", "catalog_tables")):
                continue
            cols = by_table[(s, t)]
            names = {c for c, _ in cols}
            exprs = []
            for c, typ in cols:
                tier = tiers.get(c, 1)
                if tier <= clearance:
                    exprs.append(sql.ident(c))
                    continue
                kind, holds = treatment(c, typ)
                above.append({"table_schema": s, "table_name": t, "column_name": c, "privacy_tier": tier,
                              "treatment": kind, "holds": holds})
                if kind == PSEUDONYM:
                    exprs.append(f"_dbm_pseudonym(CAST({sql.ident(c)} AS VARCHAR)) AS {sql.ident(c)}")
                elif kind in (MASK, GENERALIZE, OTHER_TEXT):
                    if c not in masks:
                        masks[c] = f"_dbm_mask_{len(masks)}"
                        con.create_function(masks[c], _mask_udf(c), ["VARCHAR", "VARCHAR"], "VARCHAR", type="arrow",
                                            null_handling="special", side_effects=False)
                    city = "CAST(city AS VARCHAR)" if "city" in names else "CAST(NULL AS VARCHAR)"
                    exprs.append(f"{masks[c]}(CAST({sql.ident(c)} AS VARCHAR), {city}) AS {sql.ident(c)}")
                else:
                    exprs.append(f"CAST(NULL AS {typ}) AS {sql.ident(c)}")
                    continue
                if typ != "VARCHAR":
                    new_types[(s, t, c)] = "VARCHAR"
            sql.run(con, "privacy.copy_table", target=sql.ident(s, t), columns=", ".join(exprs), source=sql.ident("src", s, t))
            rows += sql.one(con, "warehouse.count_rows", table=sql.ident(s, t))[0]

        con.executemany(sql.text("privacy.insert_catalog_tables"),
                        [list(r) for r in catalog_tables if r[0] not in LEFT_OUT_SCHEMAS])
        con.executemany(sql.text("privacy.insert_catalog"),
                        [[s, t, c, new_types.get((s, t, c), typ), desc, tier]
                         for s, t, c, typ, desc, tier in catalog if s not in LEFT_OUT_SCHEMAS])
        rows += len(catalog_tables) + len(catalog)

        left_out = [f"schema {s}: {why}" for s, why in LEFT_OUT_SCHEMAS.items() if any(ts == s for ts, _ in tables)]
        if views:
            left_out.append("views " + ", ".join(v for (v,) in views) + ": their SQL is not checked for values")
        fp = key_fingerprint(key)
        for table, records in ((PUBLICATION, [[clearance, now, db_path.name, fp, "; ".join(left_out), __version__]]),
                               (PUBLICATION_COLUMNS, [[a[k] for k in ("table_schema", "table_name", "column_name",
                                                                       "privacy_tier", "treatment", "holds")]
                                                      for a in above])):
            warehouse.create_table(con, table, layer="bookkeeping")
            if records:
                con.executemany(sql.text("privacy.insert_rows", table=sql.ident("main", table.name),
                                         marks=", ".join("?" * len(table.columns))), records)
        sql.run(con, "privacy.detach_source")
        sql.run(con, "privacy.checkpoint")
    finally:
        con.close()
    return Publication(path=tmp, clearance=clearance, source_database=db_path.name, key_fingerprint=fp,
                       tables=len(kept) + 2, rows=rows, columns=above, left_out=left_out)


__all__ = ["KEY_ENV", "MIN_KEY_CHARS", "PSEUDONYM_HEX", "RULES", "Publication", "PublishError", "Rule", "key_fingerprint",
           "publish", "pseudonym", "read_key", "treatment"]
