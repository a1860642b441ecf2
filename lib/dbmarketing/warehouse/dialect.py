"""Engine-specific SQL in one place: the functions and clauses one engine spells differently
from another. The statements in ``sql/*.sql`` are written in DuckDB's dialect and take these
as ``{{placeholders}}``; a second engine (issue 17: Spark) adds its spelling here:
:func:`for_spark` rewrites what sqlglot would translate wrongly or not at all
(:class:`dbmarketing.warehouse.spark.SparkConnection` runs every statement through it), and
:func:`transpile` turns a statement into another engine's dialect with sqlglot for the tests
that compare engines.

Keep statements portable where the standard allows: a window function in a subquery instead
of ``QUALIFY``, ``count(DISTINCT ...)`` where a bitstring is only a speed-up.
"""

from __future__ import annotations

ENGINE = "duckdb"

__all__ = ["ENGINE", "engine_of", "distinct_days", "for_spark", "transpile"]


def engine_of(con) -> str:
    """The engine behind a connection: "duckdb", or "spark" for a
    :class:`dbmarketing.warehouse.spark.SparkConnection`."""
    return getattr(con, "engine", ENGINE)


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


def for_spark(tree, fill=None):
    """A statement parsed from DuckDB's dialect (a sqlglot tree) rewritten where Spark means something else by the same words or lacks the function; sqlglot
    translates the rest when the tree is written as Spark SQL.

    - ``list[i]`` counts from 1 in DuckDB, ``array[i]`` from 0 in Spark: ``element_at(list, i)``.
      This is done before ``fill`` (a node -> node function writing the parameters in) runs, since
      sqlglot's parser has already moved a literal position to count from 0, not a parameter's.
    - ENUM types (DuckDB's dictionary-coded strings) are plain strings.
    - ``quantile_disc(x, [q1, q2, ...])`` (a list of quantiles at once) becomes the list of
      ``percentile_disc(q) WITHIN GROUP (ORDER BY x)``, the same discrete quantile.
    - ``list_contains(NULL, x)`` (a list parameter not given) is NULL: Spark wants a typed array."""
    from sqlglot import exp

    def is_enum(dtype) -> bool:
        return isinstance(dtype, exp.DataType) and (
            dtype.this == exp.DataType.Type.ENUM
            or (dtype.this == exp.DataType.Type.ARRAY and any(is_enum(e) for e in dtype.expressions)))

    def literal_list(node):
        while isinstance(node, exp.Cast):
            node = node.this
        return node.expressions if isinstance(node, exp.Array) else None

    def no_enum(node):
        return node.this if isinstance(node, exp.Cast) and is_enum(node.to) else node

    def element_at(node):
        if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
            index = node.expressions[0]
            if isinstance(index, exp.Literal):
                if index.is_string:  # a struct's or map's key, not a position
                    return node
                # sqlglot's parser already counts a literal position from 0: back to DuckDB's 1
                index = exp.Literal.number(int(index.this) + 1)
            return exp.func("element_at", node.this, index)
        return node

    def quantiles(node):
        if isinstance(node, exp.PercentileDisc) and literal_list(node.expression) is not None:
            # spelled out: sqlglot writes its own PercentileDisc node for Spark as PERCENTILE_APPROX,
            # which equals the exact quantile only below 10,000 values
            return exp.Array(expressions=[
                exp.WithinGroup(this=exp.Anonymous(this="percentile_disc", expressions=[
                    exp.cast(q.copy(), "DECIMAL(19, 18)") if q.is_string else q.copy()]),
                                expression=exp.Order(expressions=[exp.Ordered(this=node.this.copy())]))
                for q in literal_list(node.expression)])
        return node

    def typed_null(node):  # list_contains(NULL, x), a list parameter left empty: NULL, as in DuckDB
        if isinstance(node, exp.ArrayContains) and isinstance(node.this, exp.Null):
            return exp.cast(exp.null(), "BOOLEAN")
        return node

    # one pass each: a rewritten node is not visited again
    for rewrite in (element_at, fill or (lambda node: node), no_enum, quantiles, typed_null):
        tree = tree.transform(rewrite)
    return tree
