"""The one writer of tables the workbook derives (clean core tables, customer-level marts).

:func:`write_mart` writes a DataFrame into a table declared as a
:class:`~dbmarketing.warehouse.catalog.Table`: it creates the table (or gives one kept from an
older version the columns added since), removes the rows the new ones replace, inserts by
column name with the declared types, and records the table in the catalog, all in one
transaction, so a failure leaves the table as it was.
"""

from __future__ import annotations

import pandas as pd

from . import sql
from .catalog import Table, create_table

__all__ = ["write_mart"]


def write_mart(con, table: Table, frame: pd.DataFrame | str, *, schema: str = "main", layer: str = "marts",
               replace: str = "rows", where: str | None = None, check=None, atomic: bool = True) -> int:
    """Write ``frame`` into ``schema.<table.name>``; returns the rows written. ``frame`` may
    also name a temporary table or view of ``con`` holding the rows with every declared column
    (rows the database computed: nothing goes through pandas).

    ``replace``: ``"table"`` drops what was there (the table holds only these rows);
    ``"rows"`` keeps the table and first deletes the rows that the named SQL condition
    ``where`` selects (a statement of the ``warehouse/sql`` files over the stored rows ``t``,
    with ``{{new}}`` the new rows; without ``where`` nothing is deleted: the rows are added).
    ``check(con, new)``: called inside the transaction with the new rows' relation name before
    anything is deleted; it raises to refuse the write. ``atomic=False`` when the caller holds
    the transaction already. Columns of the declaration missing from ``frame`` are written empty.
    """
    if replace not in ("rows", "table"):
        raise ValueError(f"replace must be 'rows' or 'table', got {replace!r}")
    names = [c.name for c in table.columns]
    in_database = isinstance(frame, str)
    if in_database:
        new = frame
    else:
        rows = frame.reindex(columns=names)
        new = sql.temp_name(table.name)
        con.register(new, rows)
    if atomic:
        con.execute("BEGIN TRANSACTION")
    try:
        if replace == "table":
            create_table(con, table, schema=schema, replace=True, layer=layer)
        else:
            create_table(con, table, schema=schema, layer=layer)
        if check is not None:
            check(con, new)
        if where is not None:
            sql.run(con, "warehouse.delete_replaced", table=sql.ident(schema, table.name),
                    condition=sql.text(where, new=sql.ident(new)))
        columns = ", ".join(sql.ident(c.name) for c in table.columns)
        casts = ", ".join(f"CAST({sql.ident(c.name)} AS {c.type})" for c in table.columns)
        sql.run(con, "warehouse.insert_declared", table=sql.ident(schema, table.name), columns=columns, casts=casts,
                source=sql.ident(new))
        if atomic:
            con.execute("COMMIT")
    except BaseException:
        if atomic:
            con.execute("ROLLBACK")
            if not in_database:
                con.unregister(new)
        # without atomic the caller's transaction is aborted and refuses even the unregister,
        # which would hide the real error; the uniquely named view goes with the connection
        raise
    if in_database:
        return int(sql.one(con, "warehouse.count_rows", table=sql.ident(new))[0])
    con.unregister(new)
    return len(rows)
