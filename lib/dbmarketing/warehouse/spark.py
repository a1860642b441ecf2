"""Spark as the engine: the workbook's SQL run on a Spark session over a warehouse of Parquet tables.

The statements in ``sql/*.sql`` are written once, in DuckDB's dialect. A
:class:`SparkConnection` takes the place of a DuckDB connection for the library calls that
support ``engine: spark`` (the RFM summary and scores, the repeat-purchase summary the CLV
models fit, the customer 360 aggregates, the basket counts): each statement is parsed with
sqlglot, its ``$parameters`` are written in as literals (Spark refuses parameter markers in a
view's body), DuckDB's optimizer hints are dropped, and the result is Spark SQL; the few
functions one engine spells differently come from :mod:`.dialect`. Results come back through
Arrow, as DuckDB's do.

Tables live in a warehouse folder, one Parquet folder per table, ``<warehouse>/<schema>/<table>``
(plain Parquet: Delta Lake's jars come from a Maven repository). :func:`write_parquet` writes
a DuckDB database's tables there (what loading does for the Spark engine: sources are read and
cleaned as for DuckDB, then written as Parquet); :func:`attach` makes them the session's
tables ``<schema>.<table>``.

Spark needs Java 17 or newer: :func:`find_java` looks at ``JAVA_HOME`` and then ``java`` on
the PATH and says what to install when there is none.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import sqlglot
from sqlglot import exp

from . import dialect

__all__ = ["EngineError", "find_java", "session", "SparkConnection", "write_parquet", "attach", "mirror", "to_spark"]

JAVA_MAJOR = 17  # Spark 4 runs on Java 17 or 21


class EngineError(RuntimeError):
    """The Spark engine cannot start (no Java, no pyspark): one line saying what to install."""


def find_java() -> str:
    """The ``java`` executable Spark will use (``JAVA_HOME``, else the PATH), checked to be Java
    17 or newer; EngineError naming what to install otherwise."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    where = f"JAVA_HOME={home}" if home else "the PATH"
    if not java or not Path(java).exists():
        raise EngineError(f"the Spark engine needs Java {JAVA_MAJOR} or newer and found no java on {where}: install it "
                          "(Debian/Ubuntu: apt install openjdk-17-jre-headless; macOS: brew install openjdk@17) "
                          "or set JAVA_HOME to a Java 17 installation")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    major = int(found.group(1)) if found else 0
    if major == 1 and found.group(2):  # "1.8.0_392" is Java 8
        major = int(found.group(2))
    if major < JAVA_MAJOR:
        raise EngineError(f"the Spark engine needs Java {JAVA_MAJOR} or newer; {java} (from {where}) is Java {major}: "
                          "install openjdk-17 and set JAVA_HOME to it")
    return java


def session(master: str = "local[2]", warehouse: str | Path | None = None, memory: str = "2g",
            config: dict | None = None):
    """The Spark session (started once per process, then shared): ``master`` (``local[N]`` on
    this machine, or a cluster's ``spark://host:7077``, ``yarn``, ...), the driver's memory,
    and any further Spark ``config`` (Java options of the driver in it are added to the
    workbook's own). Dates are read and written in UTC, the session's time zone, as DuckDB does."""
    find_java()
    import warnings

    # PySpark 4.3 warns on import that it does not yet fully support pandas 3; what the workbook
    # reads back through it is checked against DuckDB (tests/test_spark.py).
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("the Spark engine needs pyspark: make setup installs it (pip install pyspark)") from None
    if master.startswith("local"):  # this machine: no warning that its host name is a loopback address
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    log_config = Path(__file__).with_name("log4j2.properties").as_uri()
    config = dict(config or {})
    java_options = " ".join([f"-Dlog4j2.configurationFile={log_config}", config.pop("spark.driver.extraJavaOptions", "")])
    builder = (SparkSession.builder.master(master).appName("dbmarketing")
               .config("spark.driver.extraJavaOptions", java_options.strip())
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.memory", memory)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "4" if master.startswith("local") else "200")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if warehouse is not None:
        builder = builder.config("spark.sql.warehouse.dir", str(Path(warehouse).resolve()))
    for key, value in config.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    # A failing statement raises in Python with Spark's message; PySpark's logged copy of it (a
    # JSON line with the JVM's stack, on stderr) is noise on a scheduler's console.
    logging.getLogger("SQLQueryContextLogger").disabled = True
    return spark


# --------------------------------------------------------------------------------------
# DuckDB's dialect -> Spark SQL
# --------------------------------------------------------------------------------------

def _value(value) -> exp.Expression:
    """A parameter's value as a Spark literal."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, (int, float, Decimal, str)):
        return exp.convert(value)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_value(v) for v in value])
    raise TypeError(f"no Spark literal for a {type(value).__name__}")


@lru_cache(maxsize=2048)
def _parsed(text: str) -> exp.Expression:
    tree = sqlglot.parse_one(text, read="duckdb")
    for cte in tree.find_all(exp.CTE):  # MATERIALIZED / NOT MATERIALIZED: DuckDB's planner hints
        cte.set("materialized", None)
    return tree


def to_spark(text: str, params: dict | None = None) -> str:
    """The DuckDB statement ``text`` in Spark SQL, its ``$parameters`` written in from ``params``.
    A temporary table becomes a cached temporary view (Spark has no temporary tables)."""
    tree = _parsed(text).copy()
    params = params or {}

    def fill(node):
        if isinstance(node, exp.Placeholder) and node.name in params:
            return _value(params[node.name])
        return node

    tree = dialect.for_spark(tree, fill)
    if isinstance(tree, exp.Create) and tree.args.get("kind") == "TABLE" and \
            any(isinstance(p, exp.TemporaryProperty) for p in (tree.args.get("properties") or exp.Properties()).expressions):
        return f"CACHE TABLE {tree.this.sql('spark')} AS {tree.expression.sql('spark')}"
    return tree.sql("spark")


class _Result:
    """A statement's result, read as from DuckDB: ``fetchall``, ``fetchone``, ``df``, Arrow."""

    def __init__(self, frame):
        self._frame = frame  # a Spark DataFrame, or None for a command

    def fetchall(self) -> list[tuple]:
        return [] if self._frame is None else [tuple(row) for row in self._frame.collect()]

    def fetchone(self):
        rows = self.fetchall()
        return rows[0] if rows else None

    def to_arrow_table(self) -> pa.Table:
        return self._frame.toArrow()

    fetch_arrow_table = arrow = to_arrow_table

    def df(self):
        return _pandas_like_duckdb(self.to_arrow_table())

    fetchdf = df


_NULLABLE = {pa.int8(): "Int8", pa.int16(): "Int16", pa.int32(): "Int32", pa.int64(): "Int64", pa.bool_(): "boolean"}


def _pandas_like_duckdb(table: pa.Table):
    """A result as DuckDB's ``df()`` gives it: DECIMAL as float64, dates and times as
    datetime64[us], integer and boolean columns with empty values as pandas' nullable types
    (without empty values, as numpy's)."""
    import pandas as pd

    columns = {}
    for name, column in zip(table.column_names, table.columns):
        kind = column.type
        if pa.types.is_decimal(kind):
            column = column.cast(pa.float64())
        elif pa.types.is_date(kind):
            column = column.cast(pa.timestamp("us"))
        elif pa.types.is_timestamp(kind) and kind.unit != "us":
            column = column.cast(pa.timestamp("us", tz=kind.tz))
        nullable = _NULLABLE.get(column.type) if column.null_count else None
        columns[name] = (pd.Series(pd.array(column.to_pylist(), dtype=nullable), name=name) if nullable
                         else pa.table({name: column}).to_pandas()[name])
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows)) if columns else pd.DataFrame()


class SparkConnection:
    """What the library asks of a DuckDB connection, on a Spark session: ``execute`` and
    ``sql`` (DuckDB-dialect statements with ``$parameters``), ``register``/``unregister`` (a
    pandas or Arrow table as a temporary view), ``close``."""

    engine = "spark"

    def __init__(self, spark, warehouse: str | Path | None = None):
        self.spark = spark
        self.warehouse = Path(warehouse) if warehouse is not None else None

    def execute(self, text: str, params: dict | None = None) -> _Result:
        frame = self.spark.sql(to_spark(text, params))
        first = text.lstrip().split(None, 1)[0].upper()
        if first in ("SELECT", "WITH", "FROM", "(SELECT", "DESCRIBE", "SHOW"):
            return _Result(frame)
        return _Result(None)

    sql = execute

    def register(self, name: str, data) -> "SparkConnection":
        table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        self.spark.createDataFrame(table).createOrReplaceTempView(name)
        return self

    def unregister(self, name: str) -> "SparkConnection":
        self.spark.catalog.dropTempView(name)
        return self

    def close(self) -> None:
        """Nothing to close: the session is shared by the process (``spark.stop()`` ends it)."""

    def table_exists(self, schema: str, table: str) -> bool:
        return bool(self.spark.catalog.tableExists(f"{schema}.{table}"))

    def columns(self, relation: str) -> dict[str, str]:
        """The columns of a table or view and their types, in DuckDB's names."""
        return {f.name: _duckdb_type(f.dataType) for f in self.spark.table(relation).schema.fields}


def _duckdb_type(spark_type) -> str:
    name = spark_type.typeName()
    simple = {"string": "VARCHAR", "date": "DATE", "double": "DOUBLE", "float": "FLOAT", "long": "BIGINT",
              "integer": "INTEGER", "short": "SMALLINT", "byte": "TINYINT", "boolean": "BOOLEAN",
              "timestamp": "TIMESTAMP WITH TIME ZONE", "timestamp_ntz": "TIMESTAMP", "binary": "BLOB"}
    if name in simple:
        return simple[name]
    if name == "decimal":
        return f"DECIMAL({spark_type.precision},{spark_type.scale})"
    return spark_type.simpleString().upper()


# --------------------------------------------------------------------------------------
# The warehouse of Parquet tables
# --------------------------------------------------------------------------------------

def write_parquet(duck, folder: str | Path, tables: list[str] | dict[str, list[str]]) -> list[Path]:
    """Write the DuckDB tables ``tables`` ("schema.table", or a mapping of them to the columns to
    write; a list writes every column) of connection ``duck`` as Parquet into
    ``folder/<schema>/<table>/`` (replacing what was there; written aside, then moved, so a
    reader never sees half a table). Returns the folders written."""
    from . import sql

    if not isinstance(tables, dict):
        tables = dict.fromkeys(tables)
    written = []
    for name, columns in tables.items():
        schema, table = name.split(".")
        target = Path(folder) / schema / table
        aside = target.with_name(f".{table}.writing")
        if aside.exists():
            shutil.rmtree(aside)
        aside.mkdir(parents=True)
        sql.run(duck, "warehouse.copy_to_parquet", table=sql.ident(schema, table), columns=_select(columns),
                path=sql.literal(str(aside / "part-0.parquet")))
        if target.exists():
            shutil.rmtree(target)
        aside.rename(target)
        written.append(target)
    return written


def _select(columns: list[str] | None) -> str:
    from . import sql

    return "*" if columns is None else ", ".join(sql.ident(c) for c in columns)


def attach(con: SparkConnection, folder: str | Path, tables: list[str] | None = None) -> list[str]:
    """Make the tables of the Parquet warehouse ``folder`` (``<schema>/<table>/``; ``tables``:
    only these "schema.table") tables ``<schema>.<table>`` of the Spark session, reading the
    files as they are now. Returns their names."""
    names = []
    for path in sorted(Path(folder).glob("*/*")):
        if not path.is_dir() or path.name.startswith("."):
            continue
        schema, table = path.parent.name, path.name
        if tables is not None and f"{schema}.{table}" not in tables:
            continue
        con.spark.sql(f"CREATE DATABASE IF NOT EXISTS `{schema}`")
        con.spark.sql(f"DROP TABLE IF EXISTS `{schema}`.`{table}`")
        con.spark.sql(f"CREATE TABLE `{schema}`.`{table}` USING parquet LOCATION '{path.resolve().as_posix()}'")
        names.append(f"{schema}.{table}")
    return names


MANIFEST = "mirror.json"
# The columns above privacy tier 2 that a step run on Spark reads: the birth date, for the customer
# 360's age at the as-of date. No name, phone, e-mail, address or ID number is read by one, so none
# is written to the Parquet warehouse.
PRIVATE_COLUMNS_READ = ("birth_date",)


def mirror(duck, con: SparkConnection, folder: str | Path, max_tier: int = 2) -> list[str]:
    """Bring the Parquet warehouse ``folder`` up to date with the customer database ``duck`` and
    attach it to ``con``'s session: every raw and main table, with the columns the catalog
    records at privacy ``max_tier`` or below, and the birth date (:data:`PRIVATE_COLUMNS_READ`);
    no name, phone, e-mail, address or ID number.
    A table is written again only when its content changed since the last mirror (its rows and
    the sum of its rows' hashes, kept in ``folder/mirror.json``); a table gone from the database
    goes from the warehouse. Returns the tables written this time."""
    import json

    from . import sql

    folder = Path(folder)
    wanted: dict[str, list[str]] = {}
    params = {"max_tier": max_tier, "private": list(PRIVATE_COLUMNS_READ)}
    for schema, table, column in sql.run(duck, "warehouse.mirrored_columns", params).fetchall():
        wanted.setdefault(f"{schema}.{table}", []).append(column)
    manifest_path = folder / MANIFEST
    known = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    now, changed = {}, {}
    for name, columns in wanted.items():
        rows, total = sql.one(duck, "warehouse.table_signature", table=sql.ident(*name.split(".")),
                              columns=_select(columns))
        now[name] = [columns, rows, total]
        if known.get(name) != now[name] or not (folder / name.replace(".", "/")).is_dir():
            changed[name] = columns
    for name in set(known) - set(now):  # dropped from the database (or no longer mirrored)
        shutil.rmtree(folder / name.replace(".", "/"), ignore_errors=True)
        schema, table = name.split(".")
        con.spark.sql(f"DROP TABLE IF EXISTS `{schema}`.`{table}`")
    write_parquet(duck, folder, changed)
    folder.mkdir(parents=True, exist_ok=True)
    aside = manifest_path.with_name(f".{MANIFEST}.writing")
    aside.write_text(json.dumps(now, indent=1), encoding="utf-8")
    aside.replace(manifest_path)
    missing = [n for n in now if n not in changed and not con.table_exists(*n.split("."))]
    attach(con, folder, list(changed) + missing)
    return sorted(changed)
