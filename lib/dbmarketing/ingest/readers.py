"""Reading a source into text records: CSV (any encoding :func:`detect_encoding` knows),
the CDNOW event log, Excel, Parquet and SQL databases, keeping the physical line (or row) of
every record. Every reader streams: it yields the records in chunks of at most ``chunk_rows``
(None: all in one), so what a load holds at a time is one chunk, not the file."""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import datetime as dt
import gzip
import hashlib
import io
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dbmarketing import messages

from ._common import _at, _cell_text, _plain_suffix, _problems
from .sources import CDNOW_LAYOUTS, EXTENSIONS, Source, SourceError

BLOCK_BYTES = 1 << 24  # a file is read (decoded, fingerprinted) 16 MB at a time
CHUNK_ROWS = 1_000_000  # records a load holds at a time (load_source's chunk_rows)


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
    return _detect_encoding([data])


_LEAD_BYTE = re.compile(rb"[\xe0-\xf4]")  # the first byte of a 3- or 4-byte UTF-8 character


def _detect_encoding(blocks) -> str:
    """:func:`detect_encoding` of the bytes `blocks` yields, read one block at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    first, lines_before, open_line = True, False, False  # a lead byte in the complete lines / the open one
    for block in _with_end(blocks):
        if first and block:
            first = False
            if block.startswith(codecs.BOM_UTF8):
                return "utf-8-sig"
            if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return "utf-16"
        pending = decoder.getstate()[0]
        try:
            decoder.decode(block, final=not block)
            bad = False
        except UnicodeDecodeError as error:
            block, bad = (pending + block)[:error.start], True  # valid UTF-8, up to the bad byte
        newline = block.rfind(b"\n")
        if newline >= 0:
            lines_before = lines_before or open_line or bool(_LEAD_BYTE.search(block, 0, newline + 1))
            open_line = bool(_LEAD_BYTE.search(block, newline + 1))
        else:
            open_line = open_line or bool(_LEAD_BYTE.search(block))
        if bad:
            return "utf-8" if lines_before else "gb18030"
    return "utf-8"


def _with_end(blocks):
    """The blocks, then b"" (an incremental decoder's final call)."""
    yield from blocks
    yield b""


def _byte_blocks(location: str):
    """The bytes of a file (.gz content uncompressed), :data:`BLOCK_BYTES` at a time."""
    gz = location.lower().endswith(".gz")
    try:
        file = gzip.open(location, "rb") if gz else open(location, "rb")
    except OSError as error:
        raise SourceError(f"{location}: cannot read the file ({error.strerror})") from None
    with file:
        while True:
            try:
                block = file.read(BLOCK_BYTES)
            except (OSError, EOFError) as error:
                if not gz:
                    raise SourceError(f"{location}: cannot read the file ({error.strerror})") from None
                raise SourceError(f"{location}: not a readable gzip file ({messages.foreign(error)})") from None
            if not block:
                return
            yield block


def _text_lines(location: str, encoding: str):
    """The lines of a text file as ``open(newline="")`` splits them (each keeps its line end),
    decoded block by block; `encoding` "auto" is :func:`detect_encoding`'s (a first pass over
    the bytes). Bytes that do not decode stop it with a SourceError naming their line."""
    detected = encoding == "auto"
    if detected:
        encoding = _detect_encoding(_byte_blocks(location))
    decoder = codecs.getincrementaldecoder(encoding)()
    newlines, carry, first = 0, "", True  # newlines: b"\n" in the bytes decoded so far
    for block in _with_end(_byte_blocks(location)):
        pending = decoder.getstate()[0]  # the start of a character cut by the block's end
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            line = newlines - pending.count(b"\n") + (pending + block).count(b"\n", 0, error.start) + 1
            if detected and encoding == "utf-8":
                raise SourceError(f"{_at(location, line)}: not UTF-8 like the lines before it ({error.reason}): "
                                  "part of the file was saved in another encoding; save it all in one, or set "
                                  "encoding: in the sources file") from None
            raise SourceError(f"{_at(location, line)}: cannot decode the bytes as {encoding} "
                              f"({error.reason}); set encoding: in the sources file") from None
        newlines += block.count(b"\n")
        if first and text:
            text, first = text.removeprefix("\ufeff"), False
        lines = io.StringIO(carry + text, newline="").readlines()
        # the last line may go on in the next block (its "\r" the first half of a "\r\n")
        carry = lines.pop() if block and lines and not lines[-1].endswith("\n") else ""
        yield from lines


def _csv_chunks(location: str, source: Source, chunk_rows: int | None):
    """CSV with the csv module, keeping the physical line each record starts on."""
    reader = csv.reader(_text_lines(location, source.encoding), delimiter=source.delimiter)
    header, header_line, rows, lines, bad = None, None, [], [], []
    previous_line, chunks = 0, 0
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
            if chunk_rows and len(rows) + len(bad) == chunk_rows:
                yield _make_records(header, rows, lines, bad, location, header_line)
                rows, lines, bad, chunks = [], [], [], chunks + 1
    except csv.Error as error:
        raise SourceError(f"{_at(location, previous_line + 1)}: {error}") from None
    if header is None:
        raise SourceError(f"{location}: the file is empty (no header line)")
    if rows or bad or not chunks:
        yield _make_records(header, rows, lines, bad, location, header_line)


def _csv_header(location: str, source: Source) -> tuple[list[str], int]:
    """The header of a CSV file and its line, after checking that the whole file decodes."""
    lines = _text_lines(location, source.encoding)
    reader = csv.reader(lines, delimiter=source.delimiter)
    previous_line = 0
    try:
        for values in reader:
            if values:
                collections.deque(lines, maxlen=0)  # decode the rest
                return _clean_header(values, location, previous_line + 1), previous_line + 1
            previous_line = reader.line_num
    except csv.Error as error:
        raise SourceError(f"{_at(location, previous_line + 1)}: {error}") from None
    raise SourceError(f"{location}: the file is empty (no header line)")


def _cdnow_chunks(location: str, source: Source, chunk_rows: int | None):
    """The CDNOW event log: whitespace-separated fields, no header. The fields are named
    "field 1", "field 2", ...; the first record says how many a record has."""
    rows, lines, bad, width, chunks = [], [], [], None, 0
    for line, content in enumerate(_text_lines(location, source.encoding), start=1):
        values = content.split()
        if not values:
            continue
        width = width or len(values)
        if len(values) == width:
            rows.append(values)
            lines.append(line)
        else:
            bad.append((line, values))
        if chunk_rows and len(rows) + len(bad) == chunk_rows:
            yield _make_records(_cdnow_header(width), rows, lines, bad, location, None)
            rows, lines, bad, chunks = [], [], [], chunks + 1
    if width is None:
        raise SourceError(f"{location}: the file is empty (no records)")
    if rows or bad or not chunks:
        yield _make_records(_cdnow_header(width), rows, lines, bad, location, None)


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
    """Records from rows of Python values (Excel, SQL), all in one: see :func:`_row_chunks`."""
    return next(_row_chunks(rows, location, None, first_line, header))


def _row_chunks(rows, location: str, chunk_rows: int | None, first_line: int = 1, header=None):
    """Records from rows of Python values (Excel, SQL), `chunk_rows` at a time: the first
    non-empty row is the header unless `header` is given; trailing empty cells are ignored."""
    data, lines, bad, date_cells = [], [], [], []
    header_line, chunks = None, 0
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
        else:
            data.append(values + [""] * (width - len(values)))
            date_cells.append([isinstance(v, dt.date) for v in row[:width]] + [False] * (width - len(row)))
            lines.append(line)
        if chunk_rows and len(data) + len(bad) == chunk_rows:
            yield _make_records(header, data, lines, bad, location, header_line, date_cells)
            data, lines, bad, date_cells, chunks = [], [], [], [], chunks + 1
    if header is None:
        raise SourceError(f"{location}: the sheet is empty (no header row)")
    if data or bad or not chunks:
        yield _make_records(header, data, lines, bad, location, header_line, date_cells)


def _open_sheet(file, source: Source, location: str):
    """(workbook, sheet) of an .xlsx source (an open file); close the workbook when done."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
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


def _seekable(location: str):
    """A file to read at random (Excel, Parquet); a .gz one uncompressed into memory, as a
    compressed stream cannot be read at random."""
    if not location.lower().endswith(".gz"):
        try:
            return open(location, "rb")
        except OSError as error:
            raise SourceError(f"{location}: cannot read the file ({error.strerror})") from None
    return io.BytesIO(b"".join(_byte_blocks(location)))


def _excel_chunks(location: str, source: Source, chunk_rows: int | None):
    """An .xlsx sheet, streamed row by row (openpyxl's read-only mode); the line of a record
    is its spreadsheet row number."""
    with _seekable(location) as file:
        book, sheet = _open_sheet(file, source, location)
        try:
            yield from _row_chunks(sheet.iter_rows(min_row=1, values_only=True), location, chunk_rows)
        finally:
            book.close()


def _excel_header(location: str, source: Source) -> tuple[list[str], int]:
    """The header row of an .xlsx source (its first non-empty row) and its row number."""
    with _seekable(location) as file:
        book, sheet = _open_sheet(file, source, location)
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


def _arrow_text(column, midnight: bool = False) -> pd.Series:
    """A pyarrow column as text, vectorized; dates as YYYY-MM-DD, nulls as empty; timestamps
    without their time when `midnight` (every value of the column, in the whole file, is at
    midnight: see :func:`_parquet_chunks`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(column.type):
        text = column.to_pandas().dt.strftime("%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S")
        return text.fillna("").astype("str")
    try:
        text = pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        text = pa.array([_cell_text(v) for v in column.to_pylist()], type=pa.string())
    return pd.Series(pc.fill_null(text, "").to_pandas(), dtype="str")


def _parquet_chunks(location: str, source: Source, chunk_rows: int | None):
    """A Parquet file, `chunk_rows` rows at a time; the line of a record is its 1-based row
    number. A first pass over its timestamp columns alone tells which hold times of day."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _seekable(location) as file:
        try:
            parquet = pq.ParquetFile(file)
        except Exception as error:
            raise SourceError(f"{location}: cannot read as Parquet ({messages.foreign(error)})") from None
        schema = parquet.schema_arrow
        header = _clean_header(schema.names, location, None)
        stamps = [i for i, f in enumerate(schema) if pa.types.is_timestamp(f.type)]
        dated = [i for i, f in enumerate(schema) if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
        midnight = dict.fromkeys(stamps, True)
        for part in parquet.iter_batches(batch_size=chunk_rows or CHUNK_ROWS, columns=[schema.names[i] for i in stamps]) if stamps else []:
            for i, column in zip(stamps, part.columns):
                present = column.to_pandas().dropna()
                midnight[i] = midnight[i] and bool((present == present.dt.normalize()).all())
        first = 1
        parts = [parquet.read()] if chunk_rows is None else (
            pa.Table.from_batches([b], schema) for b in parquet.iter_batches(batch_size=chunk_rows))
        for part in itertools.chain(parts, [schema.empty_table()]):
            if part.num_rows == 0 and first > 1:  # only a file without rows yields an empty chunk
                continue
            frame = pd.DataFrame({name: _arrow_text(part.column(i), midnight.get(i, False)) for i, name in enumerate(header)})
            frame.index = pd.RangeIndex(first, first + part.num_rows, name="line")
            dates = {header[i]: part.column(i).is_valid().to_pandas().set_axis(frame.index) for i in dated}
            yield Records(frame, _bad_shape(header, []), dates=dates)
            first += part.num_rows
            if chunk_rows is None:
                break


@contextlib.contextmanager
def _sql_query(source: Source, base_dir: Path, watermark: str | None = None):
    """While open: (URL shown to readers, headers, the rows one by one, fetched
    :data:`CHUNK_ROWS` at a time). A query that names ``:watermark`` gets the highest
    watermark value loaded so far (None the first time)."""
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
            result = connection.execution_options(stream_results=True).execute(statement, bound)
            try:
                yield shown, list(result.keys()), (row for rows in iter(lambda: result.fetchmany(CHUNK_ROWS), [])
                                                   for row in rows)
            finally:
                result.close()
    except sa.exc.SQLAlchemyError as error:
        raise SourceError(f"{shown}: the query failed: {messages.foreign(getattr(error, 'orig', None) or error)}") from None
    finally:
        engine.dispose()


class _ResultDigest:
    """SHA-256 of a query result written as CSV (its fingerprint), taken row by row as the
    rows pass through :meth:`rows`; ``count`` rows so far."""

    def __init__(self, header: list[str]):
        self.sha256, self.count = hashlib.sha256(), 0
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
        self.writer.writerow(header)

    def rows(self, rows):
        for row in rows:
            self.writer.writerow([_cell_text(v) for v in row])
            self.count += 1
            if self.buffer.tell() > BLOCK_BYTES:
                self._flush()
            yield row

    def _flush(self) -> None:
        self.sha256.update(self.buffer.getvalue().encode("utf-8"))
        self.buffer.seek(0)
        self.buffer.truncate()

    def hexdigest(self) -> str:
        self._flush()
        return self.sha256.hexdigest()


def _sql_fingerprint(source: Source, base_dir: Path, watermark: str | None) -> tuple[str, int]:
    """(SHA-256 of the query result written as CSV, its number of rows): a first pass over
    the result, keeping none of it."""
    with _sql_query(source, base_dir, watermark) as (_, header, rows):
        digest = _ResultDigest(header)
        collections.deque(digest.rows(rows), maxlen=0)
    return digest.hexdigest(), digest.count


def _file_fingerprint(location: str) -> str:
    """SHA-256 of a file's bytes as stored, read block by block."""
    digest = hashlib.sha256()
    try:
        with open(location, "rb") as file:
            while block := file.read(BLOCK_BYTES):
                digest.update(block)
    except OSError as error:
        raise SourceError(f"{location}: cannot read the file ({error.strerror})") from None
    return digest.hexdigest()


READERS = {"csv": _csv_chunks, "cdnow": _cdnow_chunks, "excel": _excel_chunks, "parquet": _parquet_chunks}
"""Format -> reader(location, source, chunk_rows): an iterator of :class:`Records`, each of
at most ``chunk_rows`` records (None: one of all), at least one (empty when the file has no
records)."""


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
    return next(READERS[fmt](str(Path(".") / path), options, None))


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


def check_source(source: Source, base_dir: str | Path | None = None) -> None:
    """Check, writing nothing, that a source can be loaded: the file exists and opens (or
    the query runs), its bytes decode, and every mapped column is in its header.
    Raises :class:`SourceError` naming the file (and line) and column."""
    base = Path(base_dir if base_dir is not None else source.base_dir)
    if source.format == "sql":
        with _sql_query(source, base) as (location, header, _):
            header, header_line = _clean_header(header, location, None), None
    else:
        location = str(base / source.path)
        if source.format == "csv":
            header, header_line = _csv_header(location, source)
        elif source.format == "cdnow":
            header, header_line = [list(chunk.frame.columns) for chunk in _cdnow_chunks(location, source, CHUNK_ROWS)][0], None
        elif source.format == "excel":
            header, header_line = _excel_header(location, source)
        else:
            import pyarrow.parquet as pq

            with _seekable(location) as file:
                try:
                    header = pq.read_schema(file).names
                except Exception as error:
                    raise SourceError(f"{location}: cannot read as Parquet ({messages.foreign(error)})") from None
            header, header_line = _clean_header(header, location, None), None
    _check_mapped_columns(header, source, location, header_line)
