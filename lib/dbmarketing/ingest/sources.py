"""The sources file: one :class:`Source` per source, read from YAML and validated.

A *sources file* (YAML, see ``params/sources/*.yaml``) lists the sources and maps each
source's columns onto a table of the customer information model (:data:`warehouse.MODEL`)::

    base_dir: data/raw
    sources:
      - name: crm_customers
        path: crm_customers.csv
        table: customers
        columns: {customer_id: member_id, gender: sex}
        values: {gender: {男: M, 女: F}}
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd
import yaml

from dbmarketing import messages, warehouse

from ._common import _cell_text, _plain_suffix
from .values import DEFAULT_DATE_FORMATS, _parse


FORMATS = ("csv", "excel", "parquet", "sql", "cdnow")
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "excel", ".parquet": "parquet"}

# The CDNOW event log: whitespace-separated fields, no header; the fields are numbered 1, 2, ...
# A cdnow source maps these model columns to field numbers (`columns:`); without a map the
# layout is told by the number of fields: the master file's 4, or the 5 of Bruce Hardie's
# 1/10 sample (master id, sample id, date, CDs, dollars).
CDNOW_COLUMNS = ("customer_id", "order_date", "quantity", "amount")
CDNOW_LAYOUTS = {4: {"customer_id": "1", "order_date": "2", "quantity": "3", "amount": "4"},
                 5: {"customer_id": "1", "order_date": "3", "quantity": "4", "amount": "5"}}
CDNOW_FILLED = {"order_id", "customer_id", "order_date", "order_type", "status", "amount"}


class ConfigError(ValueError):
    """The sources file (or a Source built in code) is wrong."""


class SourceError(Exception):
    """A source cannot be read: missing file, undecodable bytes, missing column, ..."""


@dataclass
class Source:
    """One source of the sources file, validated on construction.

    ``columns`` maps model column -> source column header; ``date_formats`` model column ->
    strptime format for text cells (a real date cell of Excel, Parquet or SQL is a date
    whatever the format); ``values`` model column -> {source value: model value};
    ``constants`` model column -> value for every row; ``prefix`` model column -> text put
    before every non-empty value (to keep customer numbers of two systems apart).
    Relative paths (and the file of a ``sqlite:///`` URL) are taken from ``base_dir``, which
    itself is relative to the current directory. ``sheet`` is a sheet name or a 0-based
    sheet number; ``delimiter`` the field separator of a CSV file. Invalid settings raise
    :class:`ConfigError`.
    """

    name: str
    table: str | None = None
    format: str | None = None
    path: str | None = None
    url: str | None = None
    query: str | None = None
    sql_table: str | None = None
    encoding: str = "auto"
    delimiter: str = ","
    sheet: str | int | None = None
    effective_date: dt.datetime | None = None
    extracted: dt.date | None = None
    watermark: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    date_formats: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    constants: dict[str, str | None] = field(default_factory=dict)
    prefix: dict[str, str] = field(default_factory=dict)
    sources_file: str = "<python>"
    base_dir: str = "."

    def __post_init__(self):
        if self.name is None or not str(self.name).strip():
            raise ConfigError(f"{self.sources_file}: a source has no name")
        self.name = str(self.name)
        for key in ("table", "format", "path", "url", "query", "sql_table"):
            setattr(self, key, self._text(getattr(self, key)))
        self._check_format()
        self._check_table()
        self._check_options()
        self.columns = {str(k): self._text(v) for k, v in self._mapping("columns").items()}
        self.date_formats = {str(k): str(v) for k, v in self._mapping("date_formats").items()}
        self.values = {str(k): self._value_map(k, v) for k, v in self._mapping("values").items()}
        self.constants = {str(k): self._text(v) for k, v in self._mapping("constants").items()}
        self.prefix = {str(k): self._text(v) or "" for k, v in self._mapping("prefix").items()}
        if self.format == "cdnow":
            self._check_cdnow_mapping()
        else:
            self._check_mapping()

    def fail(self, problem: str):
        raise ConfigError(f"{self.sources_file}: source '{self.name}': {problem}")

    def _check_format(self):
        self.format = self.format.lower() if isinstance(self.format, str) else self.format
        if self.format is None:
            if self.url is not None:
                self.format = "sql"
            elif self.path is not None and _plain_suffix(self.path) in EXTENSIONS:
                self.format = EXTENSIONS[_plain_suffix(self.path)]
            else:
                self.fail(f"cannot tell the format of {self.path!r}; set format: to one of {', '.join(FORMATS)}")
        if self.format not in FORMATS:
            self.fail(f"unknown format {self.format!r}; use one of {', '.join(FORMATS)}")
        if self.format == "sql":
            if not self.url:
                self.fail("format sql needs url:")
            if (self.query is None) == (self.sql_table is None):
                self.fail("format sql needs exactly one of query: or sql_table:")
            if self.path is not None:
                self.fail("path: is for files; a sql source has url: instead")
        else:
            if not self.path:
                self.fail("path: is missing")
            for key in ("url", "query", "sql_table"):
                if getattr(self, key) is not None:
                    self.fail(f"{key}: is for sql sources only")

    def _check_table(self):
        if self.format == "cdnow":
            self.table = self.table or "orders"
            if self.table != "orders":
                self.fail("a cdnow source loads orders and order_lines; table: must be orders")
        if self.table is None:
            self.fail("table: is missing")
        if self.table not in warehouse.MODEL:
            self.fail(f"unknown table {self.table!r}; the model has {', '.join(warehouse.MODEL)}")

    def _check_options(self):
        self.encoding = self._text(self.encoding) or "auto"
        self.delimiter = self.delimiter or ","
        if self.format not in ("csv", "cdnow") and self.encoding != "auto":
            self.fail("encoding: is for csv and cdnow sources only")
        if self.encoding != "auto":
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                self.fail(f"unknown encoding {self.encoding!r}")
        if self.format != "csv" and self.delimiter != ",":
            self.fail("delimiter: is for csv sources only")
        if not isinstance(self.delimiter, str) or len(self.delimiter) != 1:
            self.fail(f"delimiter must be one character, not {self.delimiter!r}")
        if self.format != "excel" and self.sheet is not None:
            self.fail("sheet: is for excel sources only")
        if self.sheet is not None and (isinstance(self.sheet, bool) or not isinstance(self.sheet, (str, int))):
            self.fail(f"sheet: must be a sheet name or a 0-based sheet number, not {self.sheet!r}")
        if self.effective_date is not None:
            if self.table != "customers":
                self.fail("effective_date: is for customers sources only")
            self.effective_date = self._as_datetime(self.effective_date, "effective_date")
        if self.extracted is not None:
            self.extracted = self._as_datetime(self.extracted, "extracted").date()
        if self.watermark is not None:
            if self.format != "sql":
                self.fail("watermark: is for sql sources only")
            self.watermark = self._text(self.watermark)

    def _as_datetime(self, value, key: str) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError as error:
            self.fail(f"{key}: {value!r} is not a date ({error}); write it as YYYY-MM-DD")

    def _mapping(self, key: str) -> dict:
        value = getattr(self, key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{key}: must be a mapping of model column to value")
        return value

    def _value_map(self, column, mapping) -> dict[str, str | None]:
        if not isinstance(mapping, dict):
            self.fail(f"values: for {column} must be a mapping of source value to model value")
        return {(self._text(k) or "").strip(): self._text(v) for k, v in mapping.items()}

    def _text(self, value) -> str | None:
        try:
            return _yaml_text(value)
        except ConfigError as error:
            self.fail(str(error))

    def _check_mapping(self):
        model = {c.name: c for c in warehouse.MODEL[self.table].columns}
        for key in ("columns", "date_formats", "values", "constants", "prefix"):
            for column in getattr(self, key):
                if column not in model:
                    self.fail(f"{key}: names {column!r}, which is not a column of {self.table} "
                              f"({', '.join(model)})")
        for column, source_column in self.columns.items():
            if not source_column:
                self.fail(f"columns: maps {column} to an empty source column")
        both = set(self.columns) & set(self.constants)
        if both:
            self.fail(f"{', '.join(sorted(both))} is both mapped (columns:) and constant (constants:)")
        for column in self.date_formats:
            if model[column].type not in DEFAULT_DATE_FORMATS:
                self.fail(f"date_formats: {column} is a {model[column].type} column, not a date")
        for key in ("date_formats", "values", "prefix"):
            for column in getattr(self, key):
                if column not in self.columns:
                    self.fail(f"{key}: names {column}, which is not mapped in columns:")
        for column, text in self.prefix.items():
            if model[column].type != "VARCHAR":
                self.fail(f"prefix: {column} is a {model[column].type} column; a prefix is for text columns")
            if not text:
                self.fail(f"prefix: {column} has an empty prefix")
        for column in model.values():
            if column.required and column.name not in self.columns and column.name not in self.constants:
                self.fail(f"required column {column.name} of {self.table} is not mapped")
            if column.required and column.name in self.constants and self.constants[column.name] is None:
                self.fail(f"required column {column.name} has an empty constant")
        self._check_constants(model)

    def _check_cdnow_mapping(self):
        if self.values:
            self.fail("values: does not apply to a cdnow source (its fields are numbers and dates)")
        for column, number in self.columns.items():
            if column not in CDNOW_COLUMNS:
                self.fail(f"columns: a cdnow source maps {', '.join(CDNOW_COLUMNS)} to field numbers, not {column!r}")
            if not (number or "").isdigit() or int(number) < 1:
                self.fail(f"columns: {column} must be a field number (1 for the first field), not {number!r}")
        if self.columns:
            missing = [c for c in ("customer_id", "order_date", "amount") if c not in self.columns]
            if missing:
                self.fail(f"columns: a cdnow map needs {', '.join(missing)}")
        for key in ("date_formats", "prefix"):
            allowed = {"date_formats": "order_date", "prefix": "customer_id"}[key]
            for column in getattr(self, key):
                if column != allowed:
                    self.fail(f"{key}: a cdnow source takes {allowed} only, not {column!r}")
        model = {c.name: c for c in warehouse.MODEL["orders"].columns}
        for column in self.constants:
            if column not in model or column in CDNOW_FILLED:
                free = [c for c in model if c not in CDNOW_FILLED]
                self.fail(f"constants: a cdnow source can set only {', '.join(free)}, not {column!r}")
        self._check_constants(model)

    def _check_constants(self, model: dict[str, warehouse.Column]):
        for column, text in self.constants.items():
            _, failed, what = _parse(pd.Series([text], dtype="str"), model[column].type, None)
            if failed.any():
                self.fail(f"constants: {column} = {text!r} is {what}")


def _yaml_text(value) -> str | None:
    """A YAML scalar as the text a source file would hold (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return _cell_text(value)
    if isinstance(value, (dict, list)):
        raise ConfigError(f"expected a single value, found {value!r}")
    return str(value)


class _SourcesLoader(messages.Loader):
    """YAML loader that keeps yes/no/on/off/true/false as text: they are source values here
    (and, like every YAML reader of the workbook, names the line of a date that does not exist)."""


_SourcesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

SOURCE_KEYS = [f.name for f in fields(Source) if f.name not in ("sources_file", "base_dir")]
# the settings that say how a file becomes records: the same file loaded with other ones is a new delivery
MAP_KEYS = ("table", "format", "encoding", "delimiter", "sheet", "effective_date",
            "columns", "date_formats", "values", "constants", "prefix")


def map_fingerprint(source: Source) -> str:
    """SHA-256 of the settings that turn the source's file into records (:data:`MAP_KEYS`)."""
    settings = {key: getattr(source, key) for key in MAP_KEYS}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def read_sources(path: str | Path) -> list[Source]:
    """Read and validate a sources file; one :class:`Source` per entry, in file order.

    Raises :class:`ConfigError` naming the file and the source for unknown keys, unknown
    tables or model columns, a column both mapped and constant, or an unmapped required column.
    """
    path = Path(path)
    document = messages.read_yaml(path, ConfigError, "sources file", loader=_SourcesLoader)
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise ConfigError(f"{path}: expected a mapping with a list under sources:")
    unknown = set(document) - {"base_dir", "sources"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {messages.cut_list(sorted(map(str, unknown)))}; "
                          "expected base_dir and sources")
    base_dir = str(document.get("base_dir") or ".")
    sources = []
    for number, entry in enumerate(document["sources"], start=1):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise ConfigError(f"{path}: source #{number} is not a mapping with a name:")
        unknown = set(entry) - set(SOURCE_KEYS)
        if unknown:
            raise ConfigError(f"{path}: source '{entry['name']}': unknown key(s) "
                              f"{messages.cut_list(sorted(map(str, unknown)))}; allowed: {', '.join(SOURCE_KEYS)}")
        sources.append(Source(**entry, sources_file=str(path), base_dir=base_dir))
    names = [s.name for s in sources]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"{path}: source name(s) used twice: {messages.cut_list(repeated)}")
    return sources
