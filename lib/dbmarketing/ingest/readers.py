"""Reading a source into text records: CSV (any encoding :func:`detect_encoding` knows),
the CDNOW event log, Excel, Parquet and SQL databases, keeping the physical line (or row) of
every record."""

from __future__ import annotations

import codecs
import collections
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dbmarketing import messages

from ._common import _at, _cell_text, _plain_suffix, _problems
from .sources import CDNOW_LAYOUTS, EXTENSIONS, Source, SourceError


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
