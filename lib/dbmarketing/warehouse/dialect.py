"""Engine-specific SQL in one place: the functions and clauses one engine spells differently
from another. The statements in ``sql/*.sql`` are written in DuckDB's dialect and take these
as ``{{placeholders}}``; a second engine (issue 17: Spark) adds its spelling here, and
:func:`transpile` turns a statement into another engine's dialect with sqlglot for the tests
that compare engines.

Keep statements portable where the standard allows: a window function in a subquery instead
of ``QUALIFY``, ``count(DISTINCT ...)`` where a bitstring is only a speed-up.
"""

from __future__ import annotations

ENGINE = "duckdb"

__all__ = ["ENGINE", "distinct_days", "transpile"]


def distinct_days(day: str, first: str, span: int | None) -> str:
    """The number of distinct days in the group: ``day`` and ``first`` are SQL date expressions
    (``first`` the earliest possible day), ``span`` the number of days the dates can cover.
    DuckDB counts them fastest as the set bits of a bitstring (BITSTRING_AGG) when the span is
    known and short; otherwise, and on other engines, ``count(DISTINCT day)``."""
    if span is None or span <= 0:
        return f"count(DISTINCT {day})"
    return (f"bit_count(bitstring_agg(CAST(date_diff('day', {first}, {day}) AS INTEGER), 0, {int(span)}))")


def transpile(statement: str, to: str, source: str = ENGINE) -> str:
    """``statement`` in the dialect of engine ``to`` (sqlglot's names: "spark", "duckdb", ...)."""
    import sqlglot

    return sqlglot.transpile(statement, read=source, write=to)[0]
