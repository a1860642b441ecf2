"""Contact lists: one segment's customers with their contact details, masked by clearance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import privacy
from ..warehouse import sql
from ._common import _check_name, _columns, _frame, _relation
from .segments import load_segments
from .storage import stored_as_of

__all__ = ["CONTACT_COLUMNS", "export_segment"]

CONTACT_COLUMNS = ("name", "phone", "email", "province", "city", "address",
                   "consent_mail", "consent_sms", "consent_email", "consent_phone")


def export_segment(con, segment: str, path: str | Path, clearance: int, as_of=None, segments=None,
                   customers: str = "main.customers", customer_type: str | None = None,
                   about: str | None = None) -> pd.DataFrame:
    """Write one segment's customers (stored scores of ``as_of``, None = latest; only
    ``customer_type`` if given) with their contact details to ``path`` (.csv, UTF-8 with BOM so
    Excel reads Chinese; or .xlsx).

    Contact columns come from the customer master; every column is masked according to the
    reader's ``clearance`` through the catalog (:func:`dbmarketing.privacy.export_frame`): at
    clearance 2 phone, e-mail, name and address are masked, at 3 they are in clear. The file
    is written aside and renamed into place, so a failed export leaves no half-written file.
    ``about``: what the list is, for the report index (:func:`dbmarketing.privacy.export_frame`).
    Returns the frame as written.
    """
    if not 1 <= int(clearance) <= 4:
        raise ValueError(f"clearance must be 1-4, got {clearance!r}")
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"export_segment: {path.name}: write .csv or .xlsx")
    seg = load_segments(segments)
    name = seg.get(segment).name
    d = stored_as_of(con, as_of)
    _check_name(customers, "customers")
    ccols = _columns(con, customers)
    contact = [c for c in CONTACT_COLUMNS if c in ccols]
    frame = _frame(sql.relation(con, "rfm.segment_contacts",
                                {"as_of": d, "segment": name, "customer_type": customer_type or None},
                                contact="".join(f", c.{sql.ident(c)}" for c in contact),
                                customers=_relation(customers)))
    for col in frame.columns:  # dates as dates (Excel shows no midnight)
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.date
    tiers = privacy.catalog_tiers(con)
    privacy.export_frame(frame, path, int(clearance), tiers=tiers, about=about)
    masked = privacy.mask_frame(frame, int(clearance), tiers=tiers)
    masked.attrs.update(as_of=d.isoformat(), segment=name, clearance=int(clearance), path=str(path))
    return masked
