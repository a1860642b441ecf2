"""Collect: load source files into the raw layer of the customer database.

A *sources file* (YAML, see ``params/sources/*.yaml``) lists the sources and maps each
source's columns onto a table of the customer information model (:data:`warehouse.MODEL`)::

    base_dir: data/raw
    sources:
      - name: crm_customers
        path: crm_customers.csv
        table: customers
        columns: {customer_id: member_id, gender: sex}
        values: {gender: {男: M, 女: F}}

Loading a source (:func:`load_source`, :func:`load_sources`) follows these rules:

1. Every field is read as text, trimmed, translated by ``values`` and parsed into the model
   type (dates by their format, numbers, yes/no). An empty field is NULL. Nothing else is
   cleaned: odd but parseable values (negative prices, future dates) load unchanged.
2. A record with any problem (wrong number of fields, a value that does not parse, an empty
   required column, a duplicate key) is not loaded; each problem becomes one row of
   ``main.rejects`` with the line and source column at fault. Rows read = loaded + rejected.
3. Each load is one batch (``main.load_batches``) and one transaction: it lands completely
   or not at all.
4. A file whose SHA-256 fingerprint was already loaded into the same table is skipped.
5. Customers keep their history: a changed customer closes its current version
   (``valid_to``) and gets a new one (``valid_from``).

Physical line numbers are kept (``raw.<table>.source_line``, ``main.rejects.line_no``) so a
reader can open the source file at the record in question: for CSV the line the record
starts on (header = line 1), for Excel the row number, for Parquet and SQL the 1-based row.
"""

from __future__ import annotations

import codecs
import collections
import csv
import gzip
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from dbmarketing import warehouse, messages

FORMATS = ("csv", "excel", "parquet", "sql", "cdnow")
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "excel", ".parquet": "parquet"}
DEFAULT_DATE_FORMATS = {"DATE": "%Y-%m-%d", "TIMESTAMP": "%Y-%m-%d %H:%M:%S"}
# The yes/no words, the one list (a loaded BOOLEAN column, a campaign file's 0/1 outcome):
# compared after trimming and lower-casing; "1.0"/"0.0" are what a spreadsheet makes of 1/0.
BOOLEAN_WORDS = {
    "y": True, "yes": True, "true": True, "t": True, "1": True, "1.0": True, "是": True, "有": True,
    "n": False, "no": False, "false": False, "f": False, "0": False, "0.0": False, "否": False, "无": False,
}

# The CDNOW event log: whitespace-separated fields, no header; the fields are numbered 1, 2, ...
# A cdnow source maps these model columns to field numbers (`columns:`); without a map the
# layout is told by the number of fields: the master file's 4, or the 5 of Bruce Hardie's
# 1/10 sample (master id, sample id, date, CDs, dollars).
CDNOW_COLUMNS = ("customer_id", "order_date", "quantity", "amount")
CDNOW_LAYOUTS = {4: {"customer_id": "1", "order_date": "2", "quantity": "3", "amount": "4"},
                 5: {"customer_id": "1", "order_date": "3", "quantity": "4", "amount": "5"}}
CDNOW_FILLED = {"order_id", "customer_id", "order_date", "order_type", "status", "amount"}


def _plain_suffix(path) -> str:
    """The file extension that says the format, looking through a .gz compression suffix."""
    p = Path(path)
    if p.suffix.lower() == ".gz":
        p = p.with_suffix("")
    return p.suffix.lower()


class ConfigError(ValueError):
    """The sources file (or a Source built in code) is wrong."""


class SourceError(Exception):
    """A source cannot be read: missing file, undecodable bytes, missing column, ..."""


# --------------------------------------------------------------------------------------
# The sources file
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Reading a source into text records
# --------------------------------------------------------------------------------------


@dataclass
class Records:
    """A source as text: one row per record, columns named by the source headers.

    ``frame`` is indexed by the record's line (or row) number; ``bad_shape`` holds the records
    that could not be split into the header's fields, already as reject rows. ``dates``
    marks, per source column, the cells that held a real date (Excel, Parquet, SQL) and
    are written as ISO text: they are dates whatever ``date_formats`` says.
    """

    frame: pd.DataFrame
    bad_shape: pd.DataFrame
    header_line: int | None = None
    dates: dict[str, pd.Series] = field(default_factory=dict)


def _problems(line_no=(), column_name=None, reason=(), model_column=None, raw_value=None) -> pd.DataFrame:
    """Reject rows (line_no, column_name, model_column, reason, raw_value); a scalar is
    repeated for every line. The reason never holds a value of the record (it is shown to
    every reader); the value at fault goes to raw_value, which the catalog keeps private."""
    line_no = np.asarray(line_no, dtype="int64")

    def column(value):
        value = value.to_numpy() if isinstance(value, pd.Series) else value
        return pd.Series(value, index=range(len(line_no)), dtype="str")

    return pd.DataFrame({"line_no": line_no, "column_name": column(column_name),
                         "model_column": column(model_column), "reason": column(reason),
                         "raw_value": column(raw_value)})


def _bad_shape(header: list[str], bad: list[tuple[int, list]]) -> pd.DataFrame:
    """Reject rows for records with the wrong number of fields, with their raw record."""
    rejects = _problems([line for line, _ in bad], None,
                        [f"expected {len(header)} fields, found {len(values)}" for _, values in bad])
    rejects["raw_record"] = pd.Series([_record_json(header, values) for _, values in bad], dtype="str")
    return rejects


def _record_json(header: list[str], values: list) -> str:
    record = dict(zip(header, values))
    if len(values) > len(header):
        record["_extra_fields"] = list(values[len(header):])
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _make_records(header: list, rows: list[list[str]], lines: list[int], bad: list[tuple[int, list]],
                  location: str, header_line: int | None, date_cells: list[list[bool]] | None = None) -> Records:
    """Build :class:`Records` from text rows; wrong-width rows become reject rows.
    `date_cells` (parallel to `rows`) marks the cells that held a real date."""
    header = _clean_header(header, location, header_line)
    index = pd.Index(lines, name="line", dtype="int64")
    if rows:
        frame = pd.DataFrame(rows, columns=header, dtype="str", index=index)
    else:
        frame = pd.DataFrame({h: pd.Series([], dtype="str") for h in header}, index=index)
    dates = {}
    if date_cells:
        flags = pd.DataFrame(date_cells, columns=header, index=index, dtype="bool")
        dates = {name: flags[name] for name in header if flags[name].any()}
    return Records(frame, _bad_shape(header, bad), header_line, dates)


def _clean_header(header: list, location: str, header_line: int | None) -> list[str]:
    """Trim header names, name empty ones `_column_<n>`, refuse duplicates."""
    names = [str(h).strip() if h is not None else "" for h in header]
    names = [name or f"_column_{n}" for n, name in enumerate(names, start=1)]
    repeated = sorted(name for name, times in collections.Counter(names).items() if times > 1)
    if repeated:
        raise SourceError(f"{_at(location, header_line)}: column header(s) used twice: {messages.cut_list(repeated)}; "
                          "give each column its own name")
    return names


def _at(location: str, line: int | None = None) -> str:
    return f"{location}, line {line}" if line else location


def detect_encoding(data: bytes) -> str:
    """UTF-8 with BOM -> utf-8-sig; UTF-16 with BOM -> utf-16; valid UTF-8 -> utf-8; else gb18030.

    A file whose whole lines are UTF-8, with characters beyond Latin (Chinese, say), up to a line
    that is not, is a UTF-8 file with a bad line (part of it saved in another encoding): utf-8,
    so that decoding names that line instead of one that GB18030 cannot read. (A GBK line of
    Chinese text is practically never valid UTF-8 with such characters.)
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        lines_before = data[:data.rfind(b"\n", 0, error.start) + 1]  # valid UTF-8, up to the bad line
        return "utf-8" if re.search(rb"[\xe0-\xf4]", lines_before) else "gb18030"  # a 3- or 4-byte character


def _decode(data: bytes, encoding: str, location: str) -> str:
    """Bytes to text, naming the first line that does not decode."""
    detected = encoding == "auto"
    if detected:
        encoding = detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = messages.line_of(data, error.start)
        if detected and encoding == "utf-8":
            raise SourceError(f"{_at(location, line)}: not UTF-8 like the lines before it ({error.reason}): "
                              "part of the file was saved in another encoding; save it all in one, or set "
                              "encoding: in the sources file") from None
        raise SourceError(f"{_at(location, line)}: cannot decode the bytes as {encoding} "
                          f"({error.reason}); set encoding: in the sources file") from None
    return text.removeprefix("\ufeff")


def _read_csv(data: bytes, source: Source, location: str) -> Records:
    """CSV with the csv module, keeping the physical line each record starts on."""
    text = _decode(data, source.encoding, location)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter)
    header, header_line, rows, lines, bad = None, None, [], [], []
    previous_line = 0
    try:
        for values in reader:
            line, previous_line = previous_line + 1, reader.line_num
            if not values:  # a blank line is no record
                continue
            if header is None:
                header, header_line, width = values, line, len(values)
            elif len(values) == width:
                rows.append(values)
                lines.append(line)
            else:
                bad.append((line, values))
    except csv.Error as error:
        raise SourceError(f"{_at(location, previous_line + 1)}: {error}") from None
    if header is None:
        raise SourceError(f"{location}: the file is empty (no header line)")
    return _make_records(header, rows, lines, bad, location, header_line)


def _csv_header(data: bytes, source: Source, location: str) -> tuple[list[str], int]:
    """The header of a CSV file and its line, after checking that the whole file decodes."""
    text = _decode(data, source.encoding, location)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.delimiter)
    previous_line = 0
    try:
        for values in reader:
            if values:
                return _clean_header(values, location, previous_line + 1), previous_line + 1
            previous_line = reader.line_num
    except csv.Error as error:
        raise SourceError(f"{_at(location, previous_line + 1)}: {error}") from None
    raise SourceError(f"{location}: the file is empty (no header line)")


def _read_cdnow(data: bytes, source: Source, location: str) -> Records:
    """The CDNOW event log: whitespace-separated fields, no header. The fields are named
    "field 1", "field 2", ...; the first record says how many a record has."""
    text = _decode(data, source.encoding, location)
    rows, lines, bad, width = [], [], [], None
    for line, content in enumerate(io.StringIO(text, newline=None), start=1):
        values = content.split()
        if not values:
            continue
        width = width or len(values)
        if len(values) == width:
            rows.append(values)
            lines.append(line)
        else:
            bad.append((line, values))
    if width is None:
        raise SourceError(f"{location}: the file is empty (no records)")
    return _make_records(_cdnow_header(width), rows, lines, bad, location, None)


def _cdnow_header(width: int) -> list[str]:
    return [f"field {i}" for i in range(1, width + 1)]


def _cdnow_map(source: Source, width: int, location: str) -> dict[str, str]:
    """Model column -> field name of a cdnow source: its columns: map, or the layout its
    number of fields says (:data:`CDNOW_LAYOUTS`)."""
    numbers = source.columns or CDNOW_LAYOUTS.get(width)
    if numbers is None:
        raise SourceError(f"{location}, line 1: {width} fields per record, not the 4 of the CDNOW master file nor "
                          f"the 5 of its 1/10 sample; say which field is which with columns: (e.g. "
                          f"{{customer_id: 1, order_date: 2, quantity: 3, amount: 4}}) in source '{source.name}'")
    return {column: f"field {int(number)}" for column, number in numbers.items()}


def _cell_text(value) -> str:
    """A spreadsheet or database value as the text a CSV export would show."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == dt.time(0) else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _rows_to_records(rows, location: str, first_line: int = 1, header=None) -> Records:
    """Records from rows of Python values (Excel, SQL): the first non-empty row is the
    header unless `header` is given; trailing empty cells are ignored."""
    data, lines, bad, date_cells = [], [], [], []
    header_line = None
    width = len(header) if header is not None else 0
    for line, row in enumerate(rows, start=first_line):
        values = [_cell_text(v) for v in row]
        while values and values[-1] == "":
            values.pop()
        if header is None:
            if values:
                header, header_line, width = values, line, len(values)
            continue
        if not values and header_line is not None:  # an empty spreadsheet row is no record
            continue
        if len(values) > width:
            bad.append((line, values))
            continue
        data.append(values + [""] * (width - len(values)))
        date_cells.append([isinstance(v, dt.date) for v in row[:width]] + [False] * (width - len(row)))
        lines.append(line)
    if header is None:
        raise SourceError(f"{location}: the sheet is empty (no header row)")
    return _make_records(header, data, lines, bad, location, header_line, date_cells)


def _open_sheet(data: bytes, source: Source, location: str):
    """(workbook, sheet) of an .xlsx source; close the workbook when done."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise SourceError(f"{location}: cannot open as an Excel workbook ({messages.foreign(error)})") from None
    try:
        if source.sheet is None:
            sheet = book.worksheets[0]
        elif isinstance(source.sheet, int):
            sheet = book.worksheets[source.sheet]
        else:
            sheet = book[source.sheet]
    except (KeyError, IndexError):
        book.close()
        raise SourceError(f"{location}: no sheet {source.sheet!r}; the workbook has "
                          f"{messages.cut_list(book.sheetnames)}") from None
    return book, sheet


def _read_excel(data: bytes, source: Source, location: str) -> Records:
    """An .xlsx sheet; the line of a record is its spreadsheet row number."""
    book, sheet = _open_sheet(data, source, location)
    try:
        return _rows_to_records(sheet.iter_rows(min_row=1, values_only=True), location)
    finally:
        book.close()


def _excel_header(data: bytes, source: Source, location: str) -> tuple[list[str], int]:
    """The header row of an .xlsx source (its first non-empty row) and its row number."""
    book, sheet = _open_sheet(data, source, location)
    try:
        for line, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            values = [_cell_text(v) for v in row]
            while values and values[-1] == "":
                values.pop()
            if values:
                return _clean_header(values, location, line), line
    finally:
        book.close()
    raise SourceError(f"{location}: the sheet is empty (no header row)")


def _arrow_text(column) -> pd.Series:
    """A pyarrow column as text, vectorized; dates as YYYY-MM-DD, nulls as empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(column.type):
        values = column.to_pandas()
        present = values.dropna()
        midnight = bool((present == present.dt.normalize()).all())
        text = values.dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
        return text.fillna("").astype("str")
    try:
        text = pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        text = pa.array([_cell_text(v) for v in column.to_pylist()], type=pa.string())
    return pd.Series(pc.fill_null(text, "").to_pandas(), dtype="str")


def _read_parquet(data: bytes, source: Source, location: str) -> Records:
    """A Parquet file; the line of a record is its 1-based row number."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as error:
        raise SourceError(f"{location}: cannot read as Parquet ({messages.foreign(error)})") from None
    import pyarrow as pa

    header = _clean_header(table.column_names, location, None)
    frame = pd.DataFrame({name: _arrow_text(table.column(i)) for i, name in enumerate(header)})
    frame.index = pd.RangeIndex(1, table.num_rows + 1, name="line")
    dates = {name: table.column(i).is_valid().to_pandas().set_axis(frame.index)
             for i, name in enumerate(header)
             if pa.types.is_timestamp(table.column(i).type) or pa.types.is_date(table.column(i).type)}
    return Records(frame, _bad_shape(header, []), dates=dates)


def _fetch_sql(source: Source, base_dir: Path, fetch: bool = True, watermark: str | None = None) -> tuple[str, list[str], list]:
    """Run the source's query; return (URL shown to readers, headers, rows); with
    ``fetch=False`` the rows are not fetched (an empty list), only the headers. A query that
    names ``:watermark`` gets the highest watermark value loaded so far (None the first time)."""
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(source.url)
    except sa.exc.ArgumentError as error:
        raise SourceError(f"source '{source.name}': {messages.foreign(error)}") from None
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        database = Path(url.database)
        if not database.is_absolute():  # like file paths, relative to base_dir
            url = url.set(database=str(base_dir / database))
        if not Path(url.database).exists():  # SQLite would silently create an empty database
            raise SourceError(f"{url.render_as_string(hide_password=True)}: database file not found")
    shown = url.render_as_string(hide_password=True)
    try:
        engine = sa.create_engine(url)
    except sa.exc.SQLAlchemyError as error:
        raise SourceError(f"{shown}: {messages.foreign(error)}") from None
    except ImportError as error:  # the URL names a driver that is not installed
        raise SourceError(f"{shown}: the database driver is not installed ({messages.foreign(error)}); install it in the venv, "
                          f"e.g. .venv/bin/pip install psycopg2-binary for postgresql+psycopg2://") from None
    try:
        with engine.connect() as connection:
            if source.query is not None:
                statement = sa.text(source.query)
            else:
                statement = sa.text(f"SELECT * FROM {engine.dialect.identifier_preparer.quote(source.sql_table)}")
            bound = {"watermark": watermark} if ":watermark" in (source.query or "") else {}
            result = connection.execute(statement, bound)
            header = list(result.keys())
            rows = result.fetchall() if fetch else []
            result.close()
            return shown, header, rows
    except sa.exc.SQLAlchemyError as error:
        raise SourceError(f"{shown}: the query failed: {messages.foreign(getattr(error, 'orig', None) or error)}") from None
    finally:
        engine.dispose()


def _sql_fingerprint(header: list[str], rows: list) -> str:
    """SHA-256 of the query result written as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell_text(v) for v in row] for row in rows)
    return hashlib.sha256(buffer.getvalue().encode("utf-8")).hexdigest()


READERS = {"csv": _read_csv, "cdnow": _read_cdnow, "excel": _read_excel, "parquet": _read_parquet}


# --------------------------------------------------------------------------------------
# Parsing text into the model types
# --------------------------------------------------------------------------------------


def _parse(text: pd.Series, type_: str, date_format: str | None,
           typed_dates: pd.Series | None = None) -> tuple[pd.Series, pd.Series, str]:
    """Parse trimmed text (NaN = empty) into a model type.

    `typed_dates` marks cells that held a real date (written as ISO text): for a date
    column they are read as ISO dates, and `date_format` applies to the other cells only.
    Returns (values, failed, what): `failed` marks non-empty text that did not parse and
    `what` says what it should have been, e.g. "not a number".
    """
    if type_ in DEFAULT_DATE_FORMATS:
        date_format = date_format or DEFAULT_DATE_FORMATS[type_]
        values = pd.to_datetime(text, format=date_format, errors="coerce")
        if typed_dates is not None and typed_dates.any():
            iso = pd.to_datetime(text.where(typed_dates), format="ISO8601", errors="coerce")
            values = iso.where(typed_dates, values)
        what = f"not a date in format {date_format}"
    elif type_ == "DOUBLE":
        values = pd.to_numeric(_number_text(text), errors="coerce").astype("float64")
        values = values.where(np.isfinite(values))
        what = "not a number"
    elif type_ in ("INTEGER", "BIGINT"):
        numbers = pd.to_numeric(_number_text(text), errors="coerce").astype("float64")
        limit = 2**31 if type_ == "INTEGER" else 2**53
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers.abs() < limit)
        values = numbers.where(whole).astype("Int64")
        what = "not a whole number"
    elif type_ == "BOOLEAN":
        values = text.str.lower().map(BOOLEAN_WORDS).astype("boolean")
        what = "not a yes/no value"
    else:
        values = text
        what = "text"
    failed = text.notna() & values.isna()
    return values, failed, what


_FULLWIDTH_NUMBER = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
_CURRENCY = r"(?:[¥￥$€£]|RMB|CNY|USD|EUR)"
_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


def _number_text(text: pd.Series) -> pd.Series:
    """Number text as exports write it, made plain: full-width digits (１２３), a currency sign
    or code before or after the number (¥1,104.92, ￥88, $12.50, 88 元), spaces, and commas that
    separate thousands (1,104.92; 12,5 is no number: a comma is a thousands separator only
    before groups of three digits)."""
    if text.dropna().empty:
        return text
    t = text.str.translate(_FULLWIDTH_NUMBER).str.replace(r"\s+", "", regex=True)
    t = t.str.replace(rf"^([+-]?){_CURRENCY}", r"\1", regex=True).str.replace(rf"(?:{_CURRENCY}|元)$", "", regex=True)
    return t.where(~t.str.match(_THOUSANDS).fillna(False).astype(bool), t.str.replace(",", "", regex=False))


def _apply_values(text: pd.Series, mapping: dict[str, str | None]) -> pd.Series:
    """Translate source values by the `values` map; unmatched values stay as they are."""
    matched = text.isin(list(mapping))
    if not matched.any():
        return text
    return text.where(~matched, text.map(mapping)).astype("str")


def _to_model(frame: pd.DataFrame, table: warehouse.Table, columns: dict[str, str],
              constants: dict[str, str | None], date_formats: dict[str, str] | None = None,
              values: dict[str, dict] | None = None, prefix: dict[str, str] | None = None,
              dates: dict[str, pd.Series] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse source records into the model columns of `table`.

    Returns (rows, problems): `rows` has every model column (NULL where neither mapped nor
    constant), indexed like `frame`; `problems` has one reject row per value that failed.
    """
    date_formats, values, prefix, dates = date_formats or {}, values or {}, prefix or {}, dates or {}
    rows, problems = {}, []
    for column in table.columns:
        if column.name in columns:
            source_column = columns[column.name]
            original = frame[source_column].str.strip()
            text = _apply_values(original, values[column.name]) if column.name in values else original
            text = text.mask(text == "")
            if column.name in prefix:
                text = prefix[column.name] + text
            parsed, failed, what = _parse(text, column.type, date_formats.get(column.name), dates.get(source_column))
            if failed.any():
                bad = original[failed]
                problems.append(_problems(bad.index, source_column, what, column.name, bad))
            if column.required and text.isna().any():
                problems.append(_problems(text.index[text.isna()], source_column, f"{column.name} is empty",
                                          column.name))
        else:
            text = pd.Series(constants.get(column.name), index=frame.index, dtype="str")
            parsed, _, _ = _parse(text, column.type, None)
        rows[column.name] = parsed
    return pd.DataFrame(rows, index=frame.index), pd.concat([_problems(), *problems], ignore_index=True)


def _key_text(keys: pd.DataFrame) -> pd.Series:
    """'order_id=X, line_no=1' for each row of a frame of key columns."""
    parts = [name + "=" + keys[name].astype("str") for name in keys.columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + ", " + part
    return text


def _duplicate_keys(rows: pd.DataFrame, key: tuple[str, ...], column_name: str) -> pd.DataFrame:
    """Reject rows for records whose key already appeared on an earlier line of the file."""
    if not key:  # a table without a key (a do-not-contact list) may repeat a row
        return _problems()
    keys = rows.loc[rows[list(key)].notna().all(axis=1), list(key)]
    keys = keys[keys.duplicated(keep=False)]
    first_line = pd.Series(keys.index, index=keys.index).groupby([keys[k] for k in key], sort=False).transform("min")
    later = keys.index != first_line.to_numpy()
    if not later.any():
        return _problems()
    reasons = "duplicate key, first at line " + first_line[later].astype("str")
    return _problems(keys.index[later], column_name, reasons, ",".join(key), _key_text(keys[later]))


# --------------------------------------------------------------------------------------
# Writing to the database
# --------------------------------------------------------------------------------------


def _query(con, sql: str, params=None, **frames: pd.DataFrame) -> pd.DataFrame:
    """Run `sql` with DataFrames registered under the given names; return the result."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        result = con.execute(sql, params or [])
        return result.df()  # fetch everything: DuckDB wants a result finished before the next statement
    finally:
        for name in frames:
            con.unregister(name)


def _raw_columns(table: str) -> list[warehouse.Column]:
    extra = warehouse.RAW_EXTRA + (warehouse.HISTORY_EXTRA if table == "customers" else ())
    return list(warehouse.MODEL[table].columns + extra)


def _insert_rows(con, table: str, rows: pd.DataFrame) -> None:
    """INSERT the rows (model columns + batch_id, source_line, ...) into raw.<table> in one statement."""
    columns = _raw_columns(table)
    names = ", ".join(f'"{c.name}"' for c in columns)
    select = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in columns)
    _query(con, f'INSERT INTO raw."{table}" ({names}) SELECT {select} FROM _collect_rows', _collect_rows=rows)


def _customer_changes(con, rows: pd.DataFrame, valid_from: dt.datetime) -> pd.DataFrame:
    """Compare incoming customers with their current versions: per line 'new', 'same',
    'changed', 'later' (the current version is valid from after `valid_from`) or
    'other_system' (the number belongs to a customer of another source system)."""
    columns = warehouse.MODEL["customers"].columns
    typed = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in columns)
    differs = " OR ".join(f'i."{c.name}" IS DISTINCT FROM c."{c.name}"' for c in columns if c.name != "customer_id")
    changes = _query(con, f"""
        WITH incoming AS (SELECT {typed}, source_line FROM _collect_rows)
        SELECT i.source_line,
               CASE WHEN c.customer_id IS NULL THEN 'new'
                    WHEN c.source_system IS DISTINCT FROM i.source_system THEN 'other_system'
                    WHEN NOT ({differs}) THEN 'same'
                    WHEN c.valid_from > $valid_from THEN 'later'
                    ELSE 'changed' END AS change,
               c.valid_from AS current_from, coalesce(c.source_system, '(none)') AS current_system
        FROM incoming i
        LEFT JOIN raw.customers c ON c.customer_id = i.customer_id AND c.valid_to IS NULL""",
                     {"valid_from": valid_from}, _collect_rows=rows.reset_index(names="source_line"))
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
    _query(con, """
        UPDATE raw.customers SET valid_to = $valid_from
        WHERE valid_to IS NULL AND customer_id IN (SELECT customer_id FROM _collect_changed)""",
           {"valid_from": valid_from}, _collect_changed=changed)
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
    as_json = ", ".join(f"{_sql_text(name)}, r.{_sql_name(name)}" for name in records.frame.columns)
    _query(con, f"""
        INSERT INTO main.rejects (batch_id, line_no, column_name, model_column, reason, raw_value, raw_record)
        SELECT $batch_id, p.line_no, p.column_name, p.model_column, p.reason, p.raw_value,
               coalesce(p.raw_record, CAST(json_object({as_json}) AS VARCHAR))
        FROM _collect_rejects p LEFT JOIN _collect_records r ON r.__line__ = p.line_no
        ORDER BY p.line_no, p.found""",
           {"batch_id": batch_id}, _collect_rejects=problems,
           _collect_records=records.frame.reset_index(names="__line__"))


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _record_batch(con, batch: dict) -> None:
    """The row of main.load_batches for a finished load."""
    names = list(batch)
    con.execute(f"INSERT INTO main.load_batches ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [batch[n] for n in names])


def read_file(path: str | Path, encoding: str = "auto", delimiter: str = ",", sheet: str | int | None = None) -> Records:
    """Read a CSV (any of the encodings :func:`detect_encoding` knows), Excel or Parquet
    file that is not a table of the model (e.g. a campaign export to analyse) into text
    :class:`Records`, exactly as a source would be read: one row per record indexed by its
    line (or row) number, badly shaped records in ``bad_shape``. Raises :class:`SourceError`
    naming the file (and line) when it cannot be read."""
    from types import SimpleNamespace

    fmt = EXTENSIONS.get(_plain_suffix(path))
    if fmt not in ("csv", "excel", "parquet"):
        raise SourceError(f"{path}: read .csv, .txt, .xlsx or .parquet files (optionally .gz)")
    options = SimpleNamespace(encoding=encoding or "auto", delimiter=delimiter or ",", sheet=sheet, format=fmt, path=str(path))
    location, data, _ = _read_file(options, Path("."))
    return READERS[fmt](data, options, location)


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


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


def _check_mapped_columns(header: list[str], source: Source, location: str, header_line: int | None) -> None:
    """SourceError naming the file and column when a mapped column is not in the header."""
    if source.format == "cdnow":
        for model_column, field_name in _cdnow_map(source, len(header), location).items():
            if field_name not in header:
                raise SourceError(f"{location}, line 1: no {field_name} (mapped to {model_column} by source "
                                  f"'{source.name}'): the records have {len(header)} fields")
        return
    for model_column, source_column in source.columns.items():
        if source_column not in header:
            like = messages.closest(source_column, header)
            columns = f"{len(header):,} column{'' if len(header) == 1 else 's'}"
            raise SourceError(f"{_at(location, header_line)}: no column '{source_column}' "
                              f"(mapped to {model_column} by source '{source.name}')" + (f"; {like}" if like else "")
                              + f"; the header has {columns}: {messages.cut_list(header)}")


def _read_file(source: Source, base: Path) -> tuple[str, bytes, str]:
    """(location, content, SHA-256 of the file) of a file source; .gz content uncompressed."""
    location = str(base / source.path)
    try:
        data = Path(location).read_bytes()
    except OSError as error:
        raise SourceError(f"{location}: cannot read the file ({error.strerror})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    if location.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise SourceError(f"{location}: not a readable gzip file ({messages.foreign(error)})") from None
    return location, data, sha256


def check_source(source: Source, base_dir: str | Path | None = None) -> None:
    """Check, writing nothing, that a source can be loaded: the file exists and opens (or
    the query runs), its bytes decode, and every mapped column is in its header.
    Raises :class:`SourceError` naming the file (and line) and column."""
    base = Path(base_dir if base_dir is not None else source.base_dir)
    if source.format == "sql":
        location, header, _ = _fetch_sql(source, base, fetch=False)
        header, header_line = _clean_header(header, location, None), None
    else:
        location, data, _ = _read_file(source, base)
        if source.format == "csv":
            header, header_line = _csv_header(data, source, location)
        elif source.format == "cdnow":
            header, header_line = list(_read_cdnow(data, source, location).frame.columns), None
        elif source.format == "excel":
            header, header_line = _excel_header(data, source, location)
        else:
            import pyarrow.parquet as pq

            try:
                header = pq.read_schema(io.BytesIO(data)).names
            except Exception as error:
                raise SourceError(f"{location}: cannot read as Parquet ({messages.foreign(error)})") from None
            header, header_line = _clean_header(header, location, None), None
    _check_mapped_columns(header, source, location, header_line)


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


def load_source(con, source: Source, base_dir: str | Path | None = None) -> LoadResult:
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

    Returns
    -------
    LoadResult. Raises :class:`SourceError` when the source cannot be read; the database is
    then unchanged.
    """
    started = _now()
    base = Path(base_dir if base_dir is not None else source.base_dir)
    mark = _last_watermark(con, source)
    if source.format == "sql":
        location, header, sql_rows = _fetch_sql(source, base, watermark=mark)
        sha256 = _sql_fingerprint(header, sql_rows)
    else:
        location, data, sha256 = _read_file(source, base)
    map_sha256 = map_fingerprint(source)

    earlier = con.execute(
        "SELECT batch_id, source, path, finished_at, rows_read, rows_loaded, rows_rejected, rows_changed, "
        "coalesce(rows_unchanged, 0), map_sha256 FROM main.load_batches "
        "WHERE sha256 = ? AND table_name = ? AND status = 'loaded' ORDER BY batch_id",
        [sha256, source.table]).fetchall()
    same_map = [e for e in earlier if e[9] is None or e[9] == map_sha256]
    if same_map:
        batch_id, _, path, finished_at, read, loaded, rejected, changed, unchanged, _ = same_map[0]
        return LoadResult(source.name, source.table, batch_id, "skipped", read, loaded, rejected, changed,
                          finished_at, f"same content already loaded in batch {batch_id} ({path}) "
                                       f"on {finished_at:%Y-%m-%d %H:%M}; not loaded again", unchanged)
    superseded = [e[0] for e in earlier if e[1] == source.name]

    if source.format == "sql":
        if mark is not None and not sql_rows:
            return LoadResult(source.name, source.table, None, "skipped", 0, 0, 0, 0, started,
                              f"no rows with {source.watermark} above {mark} (the newest loaded): nothing new")
        records = _rows_to_records(sql_rows, location, header=header)
    else:
        records = READERS[source.format](data, source, location)
    _check_mapped_columns(list(records.frame.columns), source, location, records.header_line)
    tables, problems = _parse_source(records, source)

    con.execute("BEGIN TRANSACTION")
    try:
        batch_id = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM main.load_batches").fetchall()[0][0]
        for old in superseded:
            _supersede(con, old, batch_id)
        result = _write_batch(con, source, batch_id, records, tables, problems, location,
                              {"sha256": sha256, "map_sha256": map_sha256, "started_at": started,
                               "watermark": _new_watermark(source, records, mark)})
        # every record rejected, and not because newer versions are loaded (an old file arriving late)
        bad = con.execute("SELECT count(DISTINCT line_no) FILTER (WHERE reason NOT LIKE 'a later version%') "
                          "FROM main.rejects WHERE batch_id = ?", [batch_id]).fetchone()[0]
        if result.rows_read and bad == result.rows_read:
            first = con.execute("SELECT line_no, coalesce(column_name, ''), reason FROM main.rejects "
                                "WHERE batch_id = ? ORDER BY line_no LIMIT 1", [batch_id]).fetchone()
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


def _supersede(con, old: int, new: int) -> None:
    """Undo what batch ``old`` loaded, because batch ``new`` loads the same file again with a
    changed column map: its rows leave the raw tables (customers' history is chained again
    from the versions that remain), its rejects are closed, and the batch is marked."""
    affected = [r[0] for r in con.execute("SELECT DISTINCT customer_id FROM raw.customers WHERE batch_id = ?",
                                          [old]).fetchall()]
    for table in warehouse.MODEL:
        con.execute(f'DELETE FROM raw."{table}" WHERE batch_id = ?', [old])
    if affected:
        _query(con, """
            UPDATE raw.customers c SET valid_to = n.next_from
            FROM (SELECT customer_id, batch_id,
                         lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from, batch_id) AS next_from
                  FROM raw.customers WHERE customer_id IN (SELECT customer_id FROM _collect_affected)) n
            WHERE c.customer_id = n.customer_id AND c.batch_id = n.batch_id""",
               _collect_affected=pd.DataFrame({"customer_id": pd.Series(affected, dtype="str")}))
    status = f"superseded by batch {new}"
    con.execute("UPDATE main.rejects SET status = ? WHERE batch_id = ?", [status, old])
    con.execute("UPDATE main.load_batches SET status = ? WHERE batch_id = ?", [status, old])


def _last_watermark(con, source: Source) -> str | None:
    """The highest watermark value a SQL source with ``watermark:`` has loaded (None the first time)."""
    if source.watermark is None:
        return None
    return con.execute("SELECT max(watermark) FROM main.load_batches WHERE source = ? AND status = 'loaded'",
                       [source.name]).fetchone()[0]


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


def _write_batch(con, source: Source, batch_id: int, records: Records, tables: dict[str, pd.DataFrame],
                 problems: pd.DataFrame, location: str, batch: dict) -> LoadResult:
    """The database part of a load; runs inside the load's transaction."""
    table = warehouse.MODEL[source.table]
    rows = tables[source.table]
    key_column = _source_name_of(source, table.key)
    problems = pd.concat([problems, _duplicate_keys(rows, table.key, key_column)], ignore_index=True)
    accepted = rows.loc[~rows.index.isin(problems["line_no"])].assign(batch_id=batch_id)
    extracted = source.extracted or batch["started_at"].date()

    if source.table == "customers":
        valid_from = source.effective_date or (dt.datetime.combine(source.extracted, dt.time())
                                               if source.extracted else batch["started_at"])
        later, change = _write_customers(con, accepted, valid_from, key_column)
        problems = pd.concat([problems, later], ignore_index=True)
    else:
        change = _compare_with_loaded(con, table, accepted)
        for name, table_rows in tables.items():
            kept = table_rows.loc[table_rows.index.isin(change.index[change != "same"])]
            if name == source.table:
                _replace_changed(con, table, kept.loc[change[kept.index] == "changed"])
            elif (change == "changed").any():  # the lines of a changed CDNOW order follow it
                _replace_changed(con, warehouse.MODEL[name], kept.loc[change[kept.index] == "changed"], by=table.key)
            _insert_rows(con, name, kept.assign(batch_id=batch_id, source_line=kept.index))

    _write_rejects(con, batch_id, problems, records)
    con.execute("""UPDATE main.rejects r SET status = 'repeated in batch ' || CAST($batch AS VARCHAR)
        FROM main.load_batches b
        WHERE r.batch_id = b.batch_id AND b.source = $source AND r.batch_id < $batch
          AND coalesce(r.status, 'open') = 'open' AND r.raw_record IN (
              SELECT raw_record FROM main.rejects WHERE batch_id = $batch AND raw_record IS NOT NULL)""",
                {"batch": batch_id, "source": source.name})

    rejected_lines = set(problems["line_no"]) | set(records.bad_shape["line_no"])
    rows_read = len(records.frame) + len(records.bad_shape)
    unchanged = int((change.drop(index=list(rejected_lines), errors="ignore") == "same").sum())
    changed = int((change.drop(index=list(rejected_lines), errors="ignore") == "changed").sum())
    rows_rejected = len(rejected_lines)
    loaded = rows_read - rows_rejected - unchanged
    finished = _now()
    _record_batch(con, {
        "batch_id": batch_id, "source": source.name, "path": location, "table_name": source.table,
        "sha256": batch["sha256"], "rows_read": rows_read, "rows_loaded": loaded, "rows_unchanged": unchanged,
        "rows_rejected": rows_rejected, "rows_changed": changed, "started_at": batch["started_at"],
        "finished_at": finished, "status": "loaded", "extracted": extracted, "map_sha256": batch["map_sha256"],
        "watermark": batch["watermark"]})
    into = "orders and order_lines" if source.format == "cdnow" else source.table
    message = f"{loaded} of {rows_read} records loaded into raw.{into}"
    if unchanged:
        message += f", {unchanged} unchanged (loaded before)"
    message += f", {rows_rejected} rejected"
    if changed:
        message += f", {changed} changed ({'new versions' if source.table == 'customers' else 'updated'})"
    return LoadResult(source.name, source.table, batch_id, "loaded", rows_read, loaded, rows_rejected, changed,
                      finished, message, unchanged)


def _compare_with_loaded(con, table: warehouse.Table, rows: pd.DataFrame) -> pd.Series:
    """Per line of ``rows``: 'new', 'same' (a row with equal values is loaded) or 'changed' (its
    key is loaded with other values). A table without a key compares whole rows."""
    columns = table.columns
    key = list(table.key) or [c.name for c in columns]
    typed = ", ".join(f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in columns)
    join = " AND ".join(f'r."{k}" IS NOT DISTINCT FROM i."{k}"' for k in key)
    differs = " OR ".join(f'r."{c.name}" IS DISTINCT FROM i."{c.name}"' for c in columns) or "FALSE"
    found = _query(con, f"""
        WITH i AS (SELECT {typed}, source_line FROM _collect_rows)
        SELECT i.source_line, CASE WHEN bool_and({differs}) THEN 'changed' ELSE 'same' END AS change
        FROM i JOIN raw."{table.name}" r ON {join} GROUP BY i.source_line""",
                   _collect_rows=rows.reset_index(names="source_line"))
    change = pd.Series("new", index=rows.index, dtype="str")
    change[found["source_line"].to_numpy()] = found["change"].to_numpy()
    return change


def _replace_changed(con, table: warehouse.Table, rows: pd.DataFrame, by: tuple[str, ...] | None = None) -> None:
    """Delete the loaded rows that changed rows replace (same key, or same ``by`` columns)."""
    if rows.empty:
        return
    key = list(by or table.key)
    types = {c.name: c.type for c in table.columns}
    join = " AND ".join(f'r."{k}" = CAST(k."{k}" AS {types[k]})' for k in key)
    _query(con, f'DELETE FROM raw."{table.name}" r USING _collect_keys k WHERE {join}',
           _collect_keys=rows[key].drop_duplicates())


def load_sources(con, sources_file: str | Path, only: str | list[str] | None = None,
                 base_dir: str | Path | None = None) -> pd.DataFrame:
    """Load the sources of a sources file in file order; one row per source (LoadResult fields).

    `only` restricts the load to the named source(s); `base_dir` overrides the file's
    base_dir (e.g. for a notebook whose current directory is not the project root).

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
            results.append(load_source(con, source, base_dir))
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


# --------------------------------------------------------------------------------------
# Looking at what was loaded
# --------------------------------------------------------------------------------------


def load_history(con) -> pd.DataFrame:
    """main.load_batches, newest last."""
    return con.execute("SELECT * FROM main.load_batches ORDER BY batch_id").df()


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
    summary = con.execute("""
        WITH r AS (
            SELECT b.source, r.column_name, r.model_column, r.line_no, r.raw_value,
                   CASE WHEN r.reason LIKE 'duplicate key, first at line %' THEN 'duplicate key'
                        WHEN r.reason LIKE 'key already loaded in batch %' THEN 'key already loaded in an earlier batch'
                        WHEN r.reason LIKE 'a later version is already loaded%' THEN 'a later version is already loaded'
                        ELSE r.reason END AS kind
            FROM main.rejects r JOIN main.load_batches b USING (batch_id)
            WHERE ($batch_id IS NULL AND coalesce(r.status, 'open') = 'open') OR r.batch_id = $batch_id)
        SELECT source, column_name AS "column", model_column AS "into", kind AS reason, count(*) AS "count",
               min(line_no) AS first_line, arg_min(raw_value, line_no) AS example_value
        FROM r GROUP BY ALL ORDER BY source, "count" DESC, "column", reason""", {"batch_id": batch_id}).df()
    example = summary["example_value"].astype("object")
    if clearance is not None:
        tiers = dict(con.execute("SELECT column_name, max(privacy_tier) FROM main.catalog "
                                 "WHERE table_schema = 'raw' GROUP BY 1").fetchall())

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
    example value (the first non-empty one by batch and line; empty if the column is
    empty), computed in one SQL scan. `batch_id` profiles what one load brought.

    With `clearance`, examples of columns whose privacy tier is above it are masked.
    """
    if table not in warehouse.MODEL:
        raise ValueError(f"unknown table {table!r}; the model has {', '.join(warehouse.MODEL)}")
    columns = _raw_columns(table)
    measures = []
    for i, c in enumerate(columns):
        name = f'"{c.name}"'
        measures += [
            f"100.0 * count_if({name} IS NULL) / nullif(count(*), 0) AS m{i}",
            f"count(DISTINCT {name}) AS d{i}",
            f"CAST(first({name} ORDER BY batch_id, source_line) FILTER (WHERE {name} IS NOT NULL) AS VARCHAR) AS e{i}",
        ]
    where = "WHERE batch_id = $batch_id" if batch_id is not None else ""
    params = {"batch_id": batch_id} if batch_id is not None else {}
    scan = con.execute(f'SELECT {", ".join(measures)} FROM raw."{table}" {where}', params).fetchall()[0]
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
    counts = ", ".join(f'count(DISTINCT o.customer_id) FILTER (WHERE o."{a}" IS DISTINCT FROM n."{a}") AS "{a}"'
                       for a in attributes)
    row = con.execute(
        f"SELECT {counts} FROM raw.customers o JOIN raw.customers n "
        "ON o.customer_id = n.customer_id AND o.valid_to = n.valid_from").df()
    out = row.T.reset_index()
    out.columns = ["attribute", "customers_changed"]
    return out[out.customers_changed > 0].sort_values("customers_changed", ascending=False, ignore_index=True)
