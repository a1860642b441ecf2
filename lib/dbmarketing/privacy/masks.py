"""Privacy tiers: what a reader may see.

Every column the workbook writes has a privacy tier in ``main.catalog``:
1 public, 2 deep-public (internal use), 3 private (personal data), 4 highly private
(identity numbers, raw records). A reader with ``clearance`` c sees columns of tier <= c
in clear; columns above it are masked:

- phone 13812345678 (also written +86 138-1234-5678) -> 138****5678; landline
  0755-87654321 -> 0755-****4321 (the area code visible); a number that is not a valid
  Chinese number -> "***"; a number masked already stays as it is
- resident ID 110101199003071234 -> ******1990********  (only the birth year visible)
- e-mail john@example.com -> j***@example.com
- address -> city level (the city if known, otherwise "***")
- name 张三丰 -> 张** ; John Smith -> J*** S****
- birth date -> the year only
- anything else -> "***"

The catalog decides which columns are masked, not ad-hoc code: :func:`mask_frame` looks each
column name up in the catalog and takes the highest tier recorded for that name.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from .. import cleanse, warehouse

SCHEDULED_CLEARANCE = 2  # clearance of unattended (scheduled) reports


# a phone number masked by mask_phone: 138****5678, 010-****5678, 0755-***4321
MASKED_PHONE = re.compile(r"1\d{2}\*{4}\d{4}|0\d{2,3}-\*{3,4}\d{4}")


def mask_phone(value: str) -> str:
    """The national number (without +86) with the middle hidden: 138****5678, 010-****5678.

    A number already masked this way is returned as it is (masking twice changes nothing)."""
    if MASKED_PHONE.fullmatch(str(value).strip()):
        return str(value).strip()
    phone = cleanse.parse_phone(value)
    if phone.kind == "mobile":
        return f"{phone.value[:3]}****{phone.value[-4:]}"
    if phone.kind == "landline":
        area, local = phone.value.split("-")
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    return "***"


def mask_id_number(value: str) -> str:
    s = re.sub(r"\s", "", str(value))
    if len(s) == 18:
        return "*" * 6 + s[6:10] + "*" * 8
    if len(s) == 15:  # legacy: two-digit year at positions 6-7
        return "*" * 6 + "19" + s[6:8] + "*" * 7
    return "***"


def mask_email(value: str) -> str:
    s = str(value)
    if "@" in s:
        user, domain = s.split("@", 1)
        return f"{user[:1]}***@{domain}"
    return "***"


def mask_name(value: str) -> str:
    s = str(value).strip()
    if not s:
        return s
    if s.isascii():
        return " ".join(w[:1] + "*" * max(len(w) - 1, 1) for w in s.split())
    return s[:1] + "*" * max(len(s) - 1, 1)


def mask_birth_date(value) -> str:
    if isinstance(value, date) and not pd.isna(value):  # a date, datetime or Timestamp
        return str(value.year)
    try:  # the usual text, 1990-03-07, without pandas: a hundred times faster on a whole column
        return str(date.fromisoformat(str(value).strip()).year)
    except ValueError:
        ts = pd.to_datetime(value, errors="coerce")
        return "***" if pd.isna(ts) else str(ts.year)


def _mask_other(value) -> str:
    return "***"


# column name -> how a value of that column is masked
MASKS = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "email": mask_email,
    "name": mask_name,
    "birth_date": mask_birth_date,
}


def mask_series(column: str, values: pd.Series, city: pd.Series | None = None) -> pd.Series:
    """Mask one column's values (missing values stay missing)."""
    if column == "address":
        masked = city.astype("object").where(city.notna(), "***") if city is not None else pd.Series("***", index=values.index)
    else:
        fn = MASKS.get(column, _mask_other)
        masked = values.map(fn, na_action="ignore")
    return masked.where(values.notna(), None).astype("object")


def catalog_tiers(con) -> dict[str, int]:
    """Column name -> highest privacy tier the catalog records for a column of that name."""
    return dict(warehouse.sql.run(con, "privacy.catalog_tiers").fetchall())


def database_clearance(con) -> int:
    """The highest clearance this database can serve: 4 for a full database; for a de-identified
    copy written by ``dbmarketing publish`` (:mod:`dbmarketing.privacy`), the clearance it was
    published for (``main.publication``): its columns above that hold pseudonyms, generalized or
    masked values, whatever clearance a reader asks for."""
    if not warehouse.table_exists(con, "main", "publication"):
        return 4
    held = warehouse.sql.one(con, "privacy.published_clearance", publication=warehouse.sql.ident("main", "publication"))[0]
    return 4 if held is None else int(held)


def clearance_note(con, clearance: int) -> str:
    """One sentence when a reader asks for more than the database holds (a published copy), else ""."""
    held = database_clearance(con)
    if int(clearance) <= held:
        return ""
    from dbmarketing.present import words

    return words.text("common.clearance_note", clearance=int(clearance), held=held)


def mask_frame(df: pd.DataFrame, clearance: int, con=None, tiers: dict[str, int] | None = None) -> pd.DataFrame:
    """Return a copy of ``df`` with every column above ``clearance`` masked.

    Tiers come from ``tiers`` if given, otherwise from the catalog of ``con``. Columns the
    catalog does not know (computed figures such as counts or scores) are shown as they are.
    """
    if not 1 <= int(clearance) <= 4:
        raise ValueError(f"clearance must be 1-4, got {clearance!r}")
    if tiers is None:
        if con is None:
            raise ValueError("mask_frame needs a connection (for the catalog) or explicit tiers")
        tiers = catalog_tiers(con)
    out = df.copy()
    for col in df.columns:
        if tiers.get(col, 1) > clearance:
            out[col] = mask_series(col, df[col], df["city"] if "city" in df.columns else None)
    return out


def visible_columns(columns, clearance: int, con=None, tiers: dict[str, int] | None = None) -> list[str]:
    """The columns a reader with ``clearance`` may see in clear (for exports that drop rather than mask)."""
    tiers = catalog_tiers(con) if tiers is None else tiers
    return [c for c in columns if tiers.get(c, 1) <= clearance]


# A text cell a spreadsheet would run as a formula: it starts with = + - @, a tab or a carriage
# return (OWASP, "CSV Injection"). A plain number such as -12.5 or +8613812345678 is no formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def defuse(value):
    """A text value made safe for a spreadsheet: one that could start a formula gets a leading
    apostrophe (OWASP's advice for CSV injection: ``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``),
    so Excel, LibreOffice and WPS show it as text. Plain numbers and other values are returned
    as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def defuse_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell passed through :func:`defuse` (column names too)."""
    out = df.rename(columns=lambda c: defuse(str(c)))
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])
                or pd.api.types.is_datetime64_any_dtype(out[col])):
            out[col] = out[col].map(defuse, na_action="ignore")
    return out


def export_name(stem: str, clearance: int, suffix: str) -> str:
    """The file name of an export: the clearance it was written at is part of it
    (``rfm_champions_2026-10-31_clearance2.csv``), so lists of two clearances never replace
    one another and a reader sees what the file may hold."""
    return f"{stem}_clearance{int(clearance)}{suffix}"


# Beside the lists of a folder: what each list is (file name -> one line in the reader's words),
# for the report index (read and removed by the report runner).
ABOUT_FILE = ".about.json"


def export_frame(df: pd.DataFrame, path, clearance: int, con=None, tiers: dict[str, int] | None = None,
                 about: str | None = None):
    """Write ``df`` to .csv (UTF-8 with BOM, so Excel opens Chinese text) or .xlsx, masked for ``clearance``.

    Text that a spreadsheet would run as a formula is defused (:func:`defuse`), and .xlsx cells
    holding text are written as text, never as formulas. The file is written aside and renamed
    into place, so a failed export leaves no half-written file. ``about``: what the list is, one
    line for the reader (recorded in the folder's :data:`ABOUT_FILE` for the report index).
    """
    from pathlib import Path

    path = Path(path)
    safe = defuse_frame(mask_frame(df, clearance, con=con, tiers=tiers))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if path.suffix.lower() == ".csv":
            # CRLF line ends (RFC 4180, as Excel writes): a value holding a carriage return is then
            # quoted, where with "\n" alone it would break the row in two
            safe.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        elif path.suffix.lower() == ".xlsx":
            _write_xlsx(safe, tmp)
        else:
            raise ValueError(f"{path}: export to .csv or .xlsx")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    if about:
        _note_about(path, about)
    return path


def _note_about(path, about: str) -> None:
    """Record what the list ``path`` is in its folder's :data:`ABOUT_FILE` (written aside, renamed)."""
    import json

    notes_path = path.parent / ABOUT_FILE
    notes = json.loads(notes_path.read_text(encoding="utf-8")) if notes_path.exists() else {}
    notes[path.name] = " ".join(str(about).split())
    tmp = notes_path.with_name(notes_path.name + ".partial")
    tmp.write_text(json.dumps(notes, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(notes_path)


# The rows a worksheet holds, its header included: Excel opens no sheet longer than this.
SHEET_ROWS = 1_048_576


def _write_xlsx(df: pd.DataFrame, path) -> None:
    """The header, then the rows, on as many sheets as Excel needs ("list", "list 2", ...: a
    sheet holds :data:`SHEET_ROWS` rows, each sheet's first the header); every str cell typed
    as text (openpyxl would otherwise store a value starting with = as a live formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    rows = df.astype(object).where(df.notna(), None)
    per_sheet = SHEET_ROWS - 1
    for k, start in enumerate(range(0, max(len(rows), 1), per_sheet)):
        sheet = book.create_sheet("list" if k == 0 else f"list {k + 1}")

        def cell(value, sheet=sheet):
            c = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                c.data_type = "s"
            return c

        sheet.append([cell(str(c)) for c in df.columns])
        for row in rows.iloc[start:start + per_sheet].itertuples(index=False):
            sheet.append([cell(v) for v in row])
    book.save(path)


def column_tiers(con, table: str, clearance: int, schema: str = "main") -> pd.DataFrame:
    """The catalog's columns of ``schema.table`` with their privacy tier and whether a reader of
    ``clearance`` sees each in clear or masked."""
    tiers = warehouse.sql.run(con, "warehouse.catalog_columns", {"schema": schema, "table": table}).df()
    tiers["shown_to_you"] = tiers.privacy_tier.le(clearance).map({True: "in clear", False: "masked"})
    return tiers
