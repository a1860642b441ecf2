"""RFM: the summary, the scores, the segment maps and migration between runs.

The rooms: :mod:`.summary` (recency, frequency and monetary value per customer from the
sales), :mod:`.scoring` (scores 1..bins, :func:`compute`), :mod:`.segments` (the segment map
of ``segments.yaml`` and the tables per segment), :mod:`.storage` (``main.rfm_scores``),
:mod:`.movement` (segments between two stored dates), :mod:`.concentration` (concentration of
spend), :mod:`.exports` (contact lists by clearance) and :mod:`.retention` (the tables and
rules of chapter 04). Their SQL is in ``warehouse/sql/rfm.sql``.
"""

from .exports import CONTACT_COLUMNS, export_segment
from .movement import migration, movers
from .concentration import Pareto, pareto
from .scoring import METHODS, compute, compute_and_store, rf_matrix, score
from .segments import (
    NOT_YET,
    ROLES,
    UNCLASSIFIED,
    Segment,
    Segments,
    empty_segments,
    load_segments,
    segment_grid,
    segment_table,
)
from .storage import SCORE_COLUMNS, SCORES_TABLE, Stored, load, store, store_rows, stored, stored_dates
from .summary import BITSTRING_MAX_DAYS, MEASURES, MONEY_DIGITS, UNITS, buyer_columns, repeat_summary, summarize
from .retention import (
    XLSX_MOST,
    Distributions,
    Retention,
    distributions,
    export_segments,
    first_segment,
    list_suffixes,
    measure_summary,
    retention,
    score_ranges,
    segment_members,
    slug,
)

__all__ = [
    "Retention", "XLSX_MOST", "Distributions", "distributions", "list_suffixes", "Stored", "stored", "export_segments", "first_segment", "measure_summary", "retention", "score_ranges",
    "segment_members", "slug",
    "UNCLASSIFIED",
    "NOT_YET",
    "UNITS",
    "METHODS",
    "MEASURES",
    "MONEY_DIGITS",
    "BITSTRING_MAX_DAYS",
    "SCORE_COLUMNS",
    "SCORES_TABLE",
    "ROLES",
    "Segment",
    "Segments",
    "load_segments",
    "summarize",
    "repeat_summary",
    "buyer_columns",
    "score",
    "compute",
    "compute_and_store",
    "segment_grid",
    "empty_segments",
    "store",
    "store_rows",
    "stored_dates",
    "load",
    "migration",
    "movers",
    "segment_table",
    "rf_matrix",
    "Pareto",
    "pareto",
    "CONTACT_COLUMNS",
    "export_segment",
]
