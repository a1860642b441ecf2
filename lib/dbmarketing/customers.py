"""Customer modeling: who the customers are at an as-of date.

The four customer types of database marketing, as used from notebook 01 on:

1. **current** -- bought within the last ``active_days`` days before the as-of date;
2. **potential** (prospects) -- in the database but never bought: the acquisition list;
3. **lapsed** -- bought before, but not within ``active_days``: the win-back list, kept in
   the database, never deleted;
4. **distributor** -- intermediaries (dealers, wholesalers) who buy to resell; they are
   customers of a different kind and are counted apart whatever their recency.

Only purchases (completed sale orders) dated on or before ``as_of`` count, and only
customers who had signed up by then.
"""

from __future__ import annotations

import pandas as pd

CUSTOMER_TYPES = ("current", "potential", "lapsed", "distributor")


def customer_types(con, as_of, active_days: int = 365, schema: str = "raw") -> pd.DataFrame:
    """One row per customer (current version): customer_id, source_system, customer_type4,
    first and last purchase date and number of orders up to ``as_of``."""
    history = "WHERE valid_to IS NULL" if _has_column(con, schema, "customers", "valid_to") else ""
    return con.execute(
        f"""
        WITH c AS (SELECT * FROM {schema}.customers {history}),
        o AS (
            SELECT customer_id, min(order_date) AS first_purchase, max(order_date) AS last_purchase,
                   count(DISTINCT order_id) AS orders
            FROM {schema}.orders
            WHERE order_type = 'sale' AND coalesce(status, 'completed') = 'completed'
              AND customer_id IS NOT NULL AND order_date <= CAST(? AS DATE)
            GROUP BY customer_id)
        SELECT c.customer_id, c.source_system, c.customer_type,
               CASE WHEN c.customer_type = 'distributor' THEN 'distributor'
                    WHEN o.last_purchase IS NULL THEN 'potential'
                    WHEN o.last_purchase > CAST(? AS DATE) - CAST(? AS INTEGER) THEN 'current'
                    ELSE 'lapsed' END AS customer_type4,
               o.first_purchase, o.last_purchase, coalesce(o.orders, 0) AS orders
        FROM c LEFT JOIN o USING (customer_id)
        WHERE c.signup_date IS NULL OR c.signup_date <= CAST(? AS DATE)
        ORDER BY c.customer_id
        """,
        [str(as_of), str(as_of), int(active_days), str(as_of)],
    ).df()


def _has_column(con, schema: str, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name = ?",
            [schema, table, column],
        ).fetchone()[0]
    )
