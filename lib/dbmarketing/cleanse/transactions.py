"""Cleaning the transactions: orders, lines, sales net of returns, contacts and tickets re-keyed
to master customers by the rules in :data:`RULES`, the do-not-contact list resolved, the
purchases as known at an earlier date, and the counts that account for every row."""

from __future__ import annotations

from datetime import date

import pandas as pd

from .. import warehouse
from . import standardize as st
from ._common import C, DEEP, PRIVATE, PUBLIC, _by_value, _cols
from .records import city_reference

RULES = {
    "anonymous order": "orders without a customer number are kept as anonymous sales and left out of customer metrics",
    "cancelled order": "cancelled orders are kept with their status and left out of sales",
    "future date": "orders dated after the extraction date of their delivery cannot have happened: left out of sales",
    "unknown customer": "orders of a customer number not in the customer master: left out of sales",
    "non-positive price": "lines with a zero or negative unit price are data errors: left out of sales amounts",
    "repeated line": "a line identical to the line before it in the same order (product, quantity, price) is a double scan: dropped",
    "orphan line": "lines whose order is not in the orders table (rejected at load): left out",
    "no counted lines": "orders none of whose lines could be counted (all repeated, bad price, ...): left out",
    "return of uncounted line": "return lines of a product whose sale line was not counted (e.g. bad price): left out",
    "return netted": "return lines are netted against the sale they return",
    "return without sale": "returns whose original sale is missing or excluded cannot be netted: left out",
    "fully returned": "sales returned in full (net amount <= 0) are not purchases",
    "wholesale size": "consumer orders above the wholesale rule are flagged (kept)",
}

ORDER_COLUMNS = (
    *[c for c in warehouse.MODEL["orders"].columns],
    C("source_customer_id", "VARCHAR", "Customer number as recorded (before merging)", PUBLIC),
    C("is_wholesale", "BOOLEAN", "Consumer order of wholesale size (flag)", PUBLIC),
    C("exclude_reason", "VARCHAR", "Why the order is left out of sales (empty = counted)", PUBLIC),
)
LINE_COLUMNS = (
    *[c for c in warehouse.MODEL["order_lines"].columns],
    C("exclude_reason", "VARCHAR", "Why the line is left out (empty = counted)", PUBLIC),
)
SALES_COLUMNS = _cols(
    ("order_id", "VARCHAR", "Sale order", PUBLIC),
    ("customer_id", "VARCHAR", "Master customer", PUBLIC),
    ("source_customer_id", "VARCHAR", "Customer number as recorded", PUBLIC),
    ("order_date", "DATE", "Order date", PUBLIC),
    ("channel", "VARCHAR", "Sales channel", PUBLIC),
    ("city", "VARCHAR", "City of the store or delivery", PUBLIC),
    ("lines", "INTEGER", "Counted lines", PUBLIC),
    ("gross_amount", "DOUBLE", "Amount of the counted lines", PUBLIC),
    ("returned_amount", "DOUBLE", "Amount returned later (positive)", PUBLIC),
    ("net_amount", "DOUBLE", "gross_amount - returned_amount", PUBLIC),
    ("cost", "DOUBLE", "Cost of goods kept (net of returns)", DEEP),
    ("margin", "DOUBLE", "net_amount - cost", DEEP),
    ("is_wholesale", "BOOLEAN", "Consumer order of wholesale size", PUBLIC),
)
RETURN_COLUMNS = _cols(
    ("return_id", "VARCHAR", "Return order", PUBLIC),
    ("order_id", "VARCHAR", "Sale order it returns", PUBLIC),
    ("customer_id", "VARCHAR", "Master customer", PUBLIC),
    ("return_date", "DATE", "Date of the return", PUBLIC),
    ("amount", "DOUBLE", "Amount returned (positive)", PUBLIC),
    ("cost", "DOUBLE", "Cost of the goods returned (positive)", DEEP),
)
MAPPED_COLUMNS = (C("source_customer_id", "VARCHAR", "Customer number as recorded (before merging)", PUBLIC),)
SUPPRESSION_COLUMNS = _cols(
    ("entry", "BIGINT", "Entry of the do-not-contact list (in load order)", PUBLIC),
    ("customer_id", "VARCHAR", "Master customer the entry applies to; empty when it matches no customer (yet)", PUBLIC),
    ("matched_by", "VARCHAR", "customer number, phone or e-mail", PUBLIC),
    ("channel", "VARCHAR", "Channel the entry applies to; empty = every channel", PUBLIC),
    ("reason", "VARCHAR", "Why", PUBLIC),
    ("added_date", "DATE", "When the entry was made", PUBLIC),
    ("phone", "VARCHAR", "Phone number listed, standardized", PRIVATE),
    ("email", "VARCHAR", "E-mail address listed, standardized", PRIVATE),
)
SUPPRESSIONS = warehouse.Table("suppressions", "Do-not-contact list resolved to master customers", SUPPRESSION_COLUMNS)
# The clean tables that clean_transactions writes with SQL, as the catalog describes them.
CLEAN_TABLES = (
    warehouse.Table("orders", "Orders with master customer and exclusion reason", ORDER_COLUMNS),
    warehouse.Table("order_lines", "Order lines with exclusion reason", LINE_COLUMNS),
    warehouse.Table("sales", "Customer purchases: one row per sale, net of returns", SALES_COLUMNS),
    warehouse.Table("sales_returned", "Sales returned in full by the extraction date (not purchases then)", SALES_COLUMNS),
    warehouse.Table("returns", "Counted returns, each with its date and the sale it returns", RETURN_COLUMNS),
    warehouse.Table("contacts", "Campaign contacts by master customer", (*warehouse.MODEL["contacts"].columns, *MAPPED_COLUMNS)),
    warehouse.Table("service_tickets", "Service tickets by master customer",
                    (*[c for c in warehouse.MODEL["service_tickets"].columns if c.name != "customer_id"],
                     C("customer_id", "VARCHAR", "Master customer", PUBLIC), *MAPPED_COLUMNS)),
    *(warehouse.MODEL[name] for name in ("products", "campaigns", "cities")),
)


def clean_transactions(con, as_of: date, run_id: int, wholesale_quantity: int = 20,
                       wholesale_amount: float = 5_000.0) -> list[tuple]:
    """Build main.orders, main.order_lines, main.sales, main.contacts, main.service_tickets
    (and clean copies of products, campaigns, cities) from raw, using ``main.customer_map``.

    Expects ``main.customer_map`` and ``main.customers`` of this run. Returns log rows.
    """
    q = con.execute
    rule = warehouse.sql.text("warehouse.order_exclusion").replace("$reference", warehouse.sql.literal(as_of))  # TODO(issue 12): a parameter
    q(f"""CREATE OR REPLACE TABLE main.orders AS
        SELECT o.* EXCLUDE (customer_id, batch_id, source_line, order_type, status),
               coalesce(o.order_type, 'sale') AS order_type, coalesce(o.status, 'completed') AS status,
               m.master_id AS customer_id, o.customer_id AS source_customer_id, FALSE AS is_wholesale,
               coalesce({rule}, CASE WHEN m.master_id IS NULL THEN 'unknown customer' END) AS exclude_reason
        FROM raw.orders o LEFT JOIN main.customer_map m ON o.customer_id = m.customer_id
        LEFT JOIN main.load_batches b USING (batch_id)""")
    # The lines as exported, completed: an empty quantity is 1 (or amount / unit price), an
    # empty unit price amount / quantity, an empty amount quantity x unit price; and an order
    # that came with a total and no lines gets one line of quantity 1 (-1 on a return).
    q("""CREATE OR REPLACE TEMP TABLE lines_in AS
        WITH l AS (
            SELECT l.*, coalesce(l.quantity, CASE WHEN l.unit_price > 0 AND l.amount IS NOT NULL
                                                  THEN CAST(round(l.amount / l.unit_price) AS INTEGER) END, 1) AS q
            FROM raw.order_lines l)
        SELECT order_id, line_no, product_id, q AS quantity,
               coalesce(unit_price, amount / nullif(q, 0)) AS unit_price, coalesce(amount, q * unit_price) AS amount,
               quantity IS NULL AS quantity_assumed, unit_price IS NULL AS price_from_amount, FALSE AS from_order_total
        FROM l
        UNION ALL
        SELECT o.order_id, 1, NULL, CASE WHEN o.order_type = 'return' THEN -1 ELSE 1 END,
               CASE WHEN o.order_type = 'return' THEN abs(o.amount) ELSE o.amount END,
               CASE WHEN o.order_type = 'return' THEN -abs(o.amount) ELSE o.amount END, FALSE, FALSE, TRUE
        FROM raw.orders o
        WHERE o.amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw.order_lines l WHERE l.order_id = o.order_id)""")
    q("""CREATE OR REPLACE TABLE main.order_lines AS
        SELECT l.* EXCLUDE (quantity_assumed, price_from_amount, from_order_total),
               CASE WHEN o.order_id IS NULL THEN 'orphan line'
                    WHEN l.unit_price IS NULL OR l.unit_price <= 0 THEN 'non-positive price'
                    WHEN l.product_id IS NOT DISTINCT FROM lag(l.product_id) OVER w
                     AND l.quantity IS NOT DISTINCT FROM lag(l.quantity) OVER w
                     AND l.unit_price IS NOT DISTINCT FROM lag(l.unit_price) OVER w
                     AND NOT l.from_order_total THEN 'repeated line' END AS exclude_reason
        FROM lines_in l LEFT JOIN raw.orders o USING (order_id)
        WINDOW w AS (PARTITION BY l.order_id ORDER BY l.line_no)""")
    # a return line of a product whose sale line was not counted cannot be netted against it
    q("""UPDATE main.order_lines l SET exclude_reason = 'return of uncounted line'
        FROM raw.orders r
        WHERE l.order_id = r.order_id AND r.order_type = 'return' AND l.exclude_reason IS NULL
          AND EXISTS (SELECT 1 FROM main.order_lines s WHERE s.order_id = r.original_order_id AND s.exclude_reason IS NULL)
          AND NOT EXISTS (SELECT 1 FROM main.order_lines s WHERE s.order_id = r.original_order_id
                          AND s.exclude_reason IS NULL AND s.product_id IS NOT DISTINCT FROM l.product_id)""")
    # totals of counted lines per order, at cost from the product master
    q("""CREATE OR REPLACE TEMP TABLE order_totals AS
        SELECT l.order_id, count(*) AS lines, sum(l.amount) AS amount, sum(l.quantity * p.unit_cost) AS cost,
               max(abs(l.quantity)) AS max_quantity
        FROM main.order_lines l LEFT JOIN raw.products p USING (product_id)
        WHERE l.exclude_reason IS NULL GROUP BY 1""")
    q("""UPDATE main.orders o SET exclude_reason = 'no counted lines'
        WHERE o.exclude_reason IS NULL AND o.order_id NOT IN (SELECT order_id FROM order_totals)""")
    # returns are netted against the sale they return; a return without a counted sale is left out
    q("""UPDATE main.orders r SET exclude_reason = 'return without sale'
        WHERE r.order_type = 'return' AND r.exclude_reason IS NULL AND NOT EXISTS (
            SELECT 1 FROM main.orders s WHERE s.order_id = r.original_order_id
               AND s.order_type = 'sale' AND s.exclude_reason IS NULL)""")
    q(f"""UPDATE main.orders o SET is_wholesale = TRUE FROM order_totals t, main.customers c
        WHERE o.order_id = t.order_id AND o.customer_id = c.customer_id AND c.customer_type = 'consumer'
          AND o.order_type = 'sale' AND (t.amount > {float(wholesale_amount)} OR t.max_quantity >= {int(wholesale_quantity)})""")
    q("""CREATE OR REPLACE TABLE main.returns AS
        SELECT r.order_id AS return_id, r.original_order_id AS order_id, r.customer_id, r.order_date AS return_date,
               -t.amount AS amount, -t.cost AS cost
        FROM main.orders r JOIN order_totals t USING (order_id)
        WHERE r.order_type = 'return' AND r.exclude_reason IS NULL
        ORDER BY order_id, return_date, return_id""")
    q("""CREATE OR REPLACE TEMP TABLE sales_all AS
        WITH ret AS (SELECT order_id, sum(amount) AS returned_amount, sum(cost) AS returned_cost
                     FROM main.returns GROUP BY 1)
        SELECT o.order_id, o.customer_id, o.source_customer_id, o.order_date, o.channel, o.city,
               CAST(t.lines AS INTEGER) AS lines, t.amount AS gross_amount,
               coalesce(ret.returned_amount, 0) AS returned_amount,
               t.amount - coalesce(ret.returned_amount, 0) AS net_amount,
               t.cost - coalesce(ret.returned_cost, 0) AS cost,
               t.amount - coalesce(ret.returned_amount, 0) - (t.cost - coalesce(ret.returned_cost, 0)) AS margin,
               o.is_wholesale
        FROM main.orders o JOIN order_totals t USING (order_id) LEFT JOIN ret USING (order_id)
        WHERE o.order_type = 'sale' AND o.exclude_reason IS NULL""")
    q("CREATE OR REPLACE TABLE main.sales AS SELECT * FROM sales_all WHERE net_amount > 0 ORDER BY customer_id, order_date, order_id")
    q("CREATE OR REPLACE TABLE main.sales_returned AS SELECT * FROM sales_all WHERE net_amount <= 0 ORDER BY customer_id, order_date, order_id")
    q("""UPDATE main.orders o SET exclude_reason = 'fully returned'
        FROM sales_all s WHERE o.order_id = s.order_id AND s.net_amount <= 0""")
    q("""CREATE OR REPLACE TABLE main.contacts AS
        SELECT c.campaign_id, m.master_id AS customer_id, c.cell, c.contact_date, c.customer_id AS source_customer_id
        FROM raw.contacts c LEFT JOIN main.customer_map m USING (customer_id)
        QUALIFY row_number() OVER (PARTITION BY c.campaign_id, coalesce(m.master_id, c.customer_id) ORDER BY c.source_line) = 1""")
    q("""CREATE OR REPLACE TABLE main.service_tickets AS
        SELECT t.* EXCLUDE (customer_id, batch_id, source_line), m.master_id AS customer_id, t.customer_id AS source_customer_id
        FROM raw.service_tickets t LEFT JOIN main.customer_map m USING (customer_id)""")
    for table in ("products", "campaigns"):
        q(f"CREATE OR REPLACE TABLE main.{table} AS SELECT * EXCLUDE (batch_id, source_line) FROM raw.{table}")
    cities = city_reference(con)[[c.name for c in warehouse.MODEL["cities"].columns]]
    con.register("_cities", cities)
    try:
        q("CREATE OR REPLACE TABLE main.cities AS SELECT " + ", ".join(
            f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in warehouse.MODEL["cities"].columns) + " FROM _cities")
    finally:
        con.unregister("_cities")

    def count(sql):
        return int(q(sql).fetchall()[0][0])

    log = []
    derived = q("""SELECT count(*) FILTER (WHERE from_order_total), count(*) FILTER (WHERE quantity_assumed),
                          count(*) FILTER (WHERE price_from_amount) FROM lines_in""").fetchall()[0]
    for (rule_name, description), n in zip(
            [("order total as one line", "orders exported with a total and no lines: one line of quantity 1 "
              "(-1 on a return) at that amount"),
             ("quantity 1 assumed", "lines without a quantity: quantity 1, or amount / unit price when both are given"),
             ("unit price from amount", "lines without a unit price: amount / quantity")], derived):
        log.append(("transactions", rule_name, "order_lines", int(n), "completed", description))
    defaults = q("""SELECT count(*) FILTER (WHERE order_type IS NULL), count(*) FILTER (WHERE status IS NULL)
                    FROM raw.orders""").fetchall()[0]
    log.append(("transactions", "sale assumed", "orders", int(defaults[0]), "completed",
                "orders without an order type are sales"))
    log.append(("transactions", "completed assumed", "orders", int(defaults[1]), "completed",
                "orders without a status are completed"))
    for reason in ("anonymous order", "cancelled order", "future date", "unknown customer", "no counted lines",
                   "return without sale", "fully returned"):
        n = count(f"SELECT count(*) FROM main.orders WHERE exclude_reason = '{reason}'")
        log.append(("transactions", reason, "orders", n, "kept, left out of sales", RULES[reason]))
    for reason in ("orphan line", "non-positive price", "repeated line", "return of uncounted line"):
        n = count(f"SELECT count(*) FROM main.order_lines WHERE exclude_reason = '{reason}'")
        action = "dropped from amounts" if reason != "orphan line" else "left out"
        log.append(("transactions", reason, "order_lines", n, action, RULES[reason]))
    n = count("SELECT count(*) FROM main.orders WHERE order_type = 'return' AND exclude_reason IS NULL")
    log.append(("transactions", "return netted", "orders", n, "netted", RULES["return netted"]))
    n = count("SELECT count(*) FROM main.orders WHERE is_wholesale")
    log.append(("transactions", "wholesale size", "orders", n, "flagged",
                f"{RULES['wholesale size']}: amount > {wholesale_amount:,.0f} or a line of >= {wholesale_quantity} units"))
    merged = count("SELECT count(*) FROM raw.contacts") - count("SELECT count(*) FROM main.contacts")
    log.append(("transactions", "contact of merged records", "contacts", merged, "dropped",
                "two records of one person in the same campaign: the first contact kept"))
    for table in ("orders", "contacts", "service_tickets"):
        n = count(f"SELECT count(*) FROM main.{table} WHERE customer_id <> source_customer_id")
        log.append(("identities", "mapped to master", table, n, "re-keyed",
                    "rows of a merged record now point to its master customer (source id kept)"))
    return [(run_id, *row) for row in log]


def resolve_suppressions(con, run_id: int) -> list[tuple]:
    """Resolve the do-not-contact list (``raw.suppressions``) to master customers in
    ``main.suppressions``: an entry applies to the master of its customer number, and to the
    master of every customer record with the same phone or e-mail once both are
    standardized (so a registry number written "+86 138 ..." finds the customer who gave
    "138-..."). An entry that matches nobody is kept with an empty customer: it applies as
    soon as such a customer appears. Run after the customer map is written. Returns log rows."""
    raw = con.execute("""SELECT row_number() OVER (ORDER BY batch_id, source_line) AS entry, customer_id, phone, email,
                                channel, reason, added_date FROM raw.suppressions""").df()
    raw["phone"] = _by_value(raw.phone, st.parse_phone).map(lambda p: p.value, na_action="ignore")
    raw["email"] = _by_value(raw.email, st.parse_email).map(lambda e: e.value, na_action="ignore")
    con.register("_dnc", raw)
    try:
        warehouse.create_table(con, SUPPRESSIONS, replace=True, layer="clean")
        con.execute("""INSERT INTO main.suppressions
            WITH hits AS (
                SELECT d.entry, m.master_id AS customer_id, 'customer number' AS matched_by
                FROM _dnc d JOIN main.customer_map m ON m.customer_id = d.customer_id
                UNION SELECT d.entry, m.master_id, 'phone' FROM _dnc d
                    JOIN main.customer_records r ON r.phone = d.phone JOIN main.customer_map m ON m.customer_id = r.customer_id
                UNION SELECT d.entry, m.master_id, 'e-mail' FROM _dnc d
                    JOIN main.customer_records r ON r.email = d.email JOIN main.customer_map m ON m.customer_id = r.customer_id)
            SELECT d.entry, h.customer_id, h.matched_by, d.channel, d.reason, d.added_date, d.phone, d.email
            FROM _dnc d LEFT JOIN hits h USING (entry) ORDER BY d.entry, h.customer_id""")
    finally:
        con.unregister("_dnc")
    entries, matched, customers = con.execute("""SELECT count(DISTINCT entry), count(DISTINCT entry) FILTER (WHERE customer_id IS NOT NULL),
                                                 count(DISTINCT customer_id) FROM main.suppressions""").fetchall()[0]
    return [(run_id, "transactions", "do-not-contact entries", "suppressions", entries, "resolved",
             "entries of the do-not-contact list, matched by customer number, phone or e-mail to master customers"),
            (run_id, "transactions", "do-not-contact customers", "suppressions", customers, "suppressed",
             f"master customers not to contact ({matched:,} entries matched one)"),
            (run_id, "transactions", "do-not-contact unmatched", "suppressions", entries - matched, "kept",
             "entries matching no customer (e.g. registry numbers of non-customers): kept, applied when one appears")]


def extraction_date(con) -> date | None:
    """The as-of (extraction) date of the newest cleaning run: ``main.sales`` is as known then.
    None when the database has no cleaning run."""
    exists = con.execute("""SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()
                            AND schema_name = 'main' AND table_name = 'cleaning_runs'""").fetchall()[0][0]
    if not exists:
        return None
    row = con.execute("SELECT as_of FROM main.cleaning_runs ORDER BY run_id DESC LIMIT 1").fetchall()
    return row[0][0] if row else None


def sales_as_of(con, as_of) -> str:
    """The purchases as they were known at ``as_of``, with ``main.sales``'s columns: sales dated
    up to ``as_of``, net of the returns made up to ``as_of`` only; a sale returned in full
    later still counts (from ``main.sales_returned``), one returned in full by then does not.

    Returns a relation name: ``main.sales`` itself when ``as_of`` is on or after the extraction
    date (``main.sales`` is exactly that) or when no cleaning run recorded one (a hand-made
    ``main.sales``), otherwise a temporary view for that date.
    """
    as_of = warehouse.resolve_as_of(con, as_of)
    extracted = extraction_date(con)
    if extracted is None or as_of >= extracted:
        return "main.sales"
    missing = {"returns", "sales_returned"} - {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'").fetchall()}
    if missing:
        raise ValueError(f"main.{' and main.'.join(sorted(missing))} missing: this database was cleaned by an older "
                         "version of dbmarketing; run the cleaning (notebook 02) again")
    name = f"_sales_as_of_{as_of:%Y%m%d}"
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {name} AS
        WITH later AS (SELECT order_id, sum(amount) AS amount, sum(cost) AS cost
                       FROM main.returns WHERE return_date > DATE '{as_of}' GROUP BY 1),
        s AS (SELECT * FROM main.sales WHERE order_date <= DATE '{as_of}'
              UNION ALL SELECT * FROM main.sales_returned WHERE order_date <= DATE '{as_of}')
        SELECT s.order_id, s.customer_id, s.source_customer_id, s.order_date, s.channel, s.city, s.lines,
               s.gross_amount, s.returned_amount - coalesce(l.amount, 0) AS returned_amount,
               s.net_amount + coalesce(l.amount, 0) AS net_amount, s.cost + coalesce(l.cost, 0) AS cost,
               s.net_amount + coalesce(l.amount, 0) - (s.cost + coalesce(l.cost, 0)) AS margin, s.is_wholesale
        FROM s LEFT JOIN later l USING (order_id)
        WHERE s.net_amount + coalesce(l.amount, 0) > 0""")
    return name


def reconciliation(con) -> pd.DataFrame:
    """Counts before and after cleaning, table by table, so every row is accounted for:
    ``rows_in`` (raw) against ``rows_out`` (in the clean tables) and ``left_out`` (merged or
    excluded, each with its reason in the cleaning log), counted independently of each other;
    ``balanced`` says rows_in = rows_out + left_out."""
    def one(sql):
        return con.execute(sql).fetchall()[0]

    rows = [
        ("customer records -> customers", *one(f"""SELECT (SELECT count(*) FROM raw.customers WHERE valid_to IS NULL)
                + (SELECT count(*) FROM ({warehouse.sql.text('warehouse.order_only_customers')})),
            (SELECT count(*) FROM main.customers), (SELECT count(*) FROM main.customer_map WHERE customer_id <> master_id)"""),
         "records of one person merged into another record's golden record (customers known only by their orders "
         "count as records)"),
        ("orders -> sales and returns", *one("""SELECT (SELECT count(*) FROM raw.orders),
            (SELECT count(*) FROM main.sales) + (SELECT count(*) FROM main.returns),
            (SELECT count(*) FROM main.orders WHERE exclude_reason IS NOT NULL)"""),
         "sales counted and returns netted against them; the rest left out by reason"),
        ("order lines", *one("""SELECT (SELECT count(*) FROM raw.order_lines) + (SELECT count(*) FROM raw.orders o
                WHERE o.amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw.order_lines l WHERE l.order_id = o.order_id)),
            (SELECT count(*) FROM main.order_lines WHERE exclude_reason IS NULL),
            (SELECT count(*) FROM main.order_lines WHERE exclude_reason IS NOT NULL)"""),
         "repeated lines, bad prices, orphans, returns of uncounted lines left out (an order total without lines "
         "counts as one line)"),
        ("campaign contacts", *one("""SELECT (SELECT count(*) FROM raw.contacts), (SELECT count(*) FROM main.contacts),
            (SELECT count(*) - count(DISTINCT (c.campaign_id, coalesce(m.master_id, c.customer_id)))
             FROM raw.contacts c LEFT JOIN main.customer_map m USING (customer_id))"""),
         "two records of one person in the same campaign: one contact kept"),
        ("service tickets", *one("SELECT (SELECT count(*) FROM raw.service_tickets), (SELECT count(*) FROM main.service_tickets), 0"),
         "re-keyed to master customers, none left out"),
    ]
    out = pd.DataFrame(rows, columns=["step", "rows_in", "rows_out", "left_out", "note"])
    out["balanced"] = out.rows_in == out.rows_out + out.left_out
    return out


def money_flow(con) -> pd.DataFrame:
    """The money of the cleaned transactions: counted sales gross, returned, net, cost, margin;
    and the anonymous sales (orders without a customer), kept but left out of customer metrics."""
    sales = con.execute("""SELECT count(*), sum(gross_amount), sum(returned_amount), sum(net_amount), sum(cost), sum(margin)
                           FROM main.sales""").fetchall()[0]
    anon = con.execute("""SELECT count(DISTINCT o.order_id), coalesce(sum(l.amount), 0) FROM main.orders o
        JOIN main.order_lines l USING (order_id)
        WHERE o.exclude_reason = 'anonymous order' AND o.order_type = 'sale' AND l.exclude_reason IS NULL""").fetchall()[0]
    return pd.DataFrame([
        ("customer sales (main.sales)", sales[0], sales[1], sales[2], sales[3], sales[4], sales[5]),
        ("anonymous sales (not in customer metrics)", anon[0], anon[1], None, None, None, None),
    ], columns=["what", "orders", "gross_amount", "returned_amount", "net_amount", "cost", "margin"])


