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
PURCHASE_SUMMARY_COLUMNS = _cols(
    ("customer_id", "VARCHAR", "Master customer", PUBLIC),
    ("first_purchase", "DATE", "Date of the first purchase in main.sales", PUBLIC),
    ("last_purchase", "DATE", "Date of the last purchase in main.sales", PUBLIC),
    ("orders", "BIGINT", "Purchases (sales) in main.sales", PUBLIC),
    ("monetary", "DOUBLE", "Their net spend", PUBLIC),
    ("purchase_days", "BIGINT", "Distinct days with a purchase", PUBLIC),
    ("first_day_value", "DOUBLE", "Net spend on the first purchase day", PUBLIC),
    ("margin", "DOUBLE", "Their margin (net spend - cost); empty without product costs", DEEP),
    ("customer_type", "VARCHAR", "Customer type in main.customers", PUBLIC),
    ("signup_date", "DATE", "Signup date in main.customers", PUBLIC),
    ("in_master", "BOOLEAN", "Whether main.customers holds the customer (buyers of unknown numbers do not)", PUBLIC),
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
    warehouse.Table("purchase_summary", "Every customer's purchases in main.sales summed, one row per buyer and per "
                    "customer of main.customers: what RFM and the CLV summary read when every purchase counts "
                    "(written with main.sales)",
                    PURCHASE_SUMMARY_COLUMNS),
    warehouse.Table("contacts", "Campaign contacts by master customer",
                    (*warehouse.MODEL["contacts"].columns, *MAPPED_COLUMNS)),
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
    sql = warehouse.sql
    sql.run(con, "cleanse.clean_orders", {"reference": as_of}, order_exclusion=sql.text("warehouse.order_exclusion"))
    # the steps' own temporary tables, dropped at the end
    temp = {stem: sql.ident(sql.temp_name(stem)) for stem in ("lines_in", "order_totals", "sales_all")}
    sql.run(con, "cleanse.lines_in", lines_in=temp["lines_in"])
    sql.run(con, "cleanse.clean_order_lines", lines_in=temp["lines_in"])
    sql.run(con, "cleanse.uncounted_return_lines")
    sql.run(con, "cleanse.order_totals", order_totals=temp["order_totals"])
    sql.run(con, "cleanse.orders_without_counted_lines", order_totals=temp["order_totals"])
    sql.run(con, "cleanse.returns_without_sale")
    sql.run(con, "cleanse.wholesale_orders", {"amount": float(wholesale_amount), "quantity": int(wholesale_quantity)},
            order_totals=temp["order_totals"])
    sql.run(con, "cleanse.clean_returns", order_totals=temp["order_totals"])
    sql.run(con, "cleanse.sales_all", order_totals=temp["order_totals"], sales_all=temp["sales_all"])
    for name in ("clean_sales", "clean_sales_returned", "fully_returned_orders"):
        sql.run(con, f"cleanse.{name}", sales_all=temp["sales_all"])
    from ..rfm.summary import write_purchase_summary  # rfm reads the cleaning's tables: imported when run

    write_purchase_summary(con)
    sql.run(con, "cleanse.clean_contacts")
    sql.run(con, "cleanse.clean_service_tickets")
    for table in ("products", "campaigns"):
        sql.run(con, "cleanse.copy_raw_table", target=sql.ident("main", table), source=sql.ident("raw", table))
    warehouse.write_mart(con, warehouse.MODEL["cities"], city_reference(con), replace="table", layer="clean", atomic=False)

    def count(name, **parts):
        return int(sql.one(con, name, **parts)[0])

    log = []
    derived = sql.one(con, "cleanse.lines_completed", lines_in=temp["lines_in"])
    for (rule_name, description), n in zip(
            [("order total as one line", "orders exported with a total and no lines: one line of quantity 1 "
              "(-1 on a return) at that amount"),
             ("quantity 1 assumed", "lines without a quantity: quantity 1, or amount / unit price when both are given"),
             ("unit price from amount", "lines without a unit price: amount / quantity")], derived):
        log.append(("transactions", rule_name, "order_lines", int(n), "completed", description))
    defaults = sql.one(con, "cleanse.order_defaults")
    log.append(("transactions", "sale assumed", "orders", int(defaults[0]), "completed",
                "orders without an order type are sales"))
    log.append(("transactions", "completed assumed", "orders", int(defaults[1]), "completed",
                "orders without a status are completed"))
    for reason in ("anonymous order", "cancelled order", "future date", "unknown customer", "no counted lines",
                   "return without sale", "fully returned"):
        n = int(sql.one(con, "cleanse.orders_left_out", {"reason": reason})[0])
        log.append(("transactions", reason, "orders", n, "kept, left out of sales", RULES[reason]))
    for reason in ("orphan line", "non-positive price", "repeated line", "return of uncounted line"):
        n = int(sql.one(con, "cleanse.lines_left_out", {"reason": reason})[0])
        action = "dropped from amounts" if reason != "orphan line" else "left out"
        log.append(("transactions", reason, "order_lines", n, action, RULES[reason]))
    n = count("cleanse.returns_netted")
    log.append(("transactions", "return netted", "orders", n, "netted", RULES["return netted"]))
    n = count("cleanse.wholesale_count")
    log.append(("transactions", "wholesale size", "orders", n, "flagged",
                f"{RULES['wholesale size']}: amount > {wholesale_amount:,.0f} or a line of >= {wholesale_quantity} units"))
    merged = (count("warehouse.count_rows", table=sql.ident("raw", "contacts"))
              - count("warehouse.count_rows", table=sql.ident("main", "contacts")))
    log.append(("transactions", "contact of merged records", "contacts", merged, "dropped",
                "two records of one person in the same campaign: the first contact kept"))
    for table in ("orders", "contacts", "service_tickets"):
        n = count("cleanse.rekeyed_rows", table=sql.ident("main", table))
        log.append(("identities", "mapped to master", table, n, "re-keyed",
                    "rows of a merged record now point to its master customer (source id kept)"))
    for name in temp.values():
        sql.run(con, "cleanse.drop_temp_table", table=name)
    return [(run_id, *row) for row in log]


def resolve_suppressions(con, run_id: int) -> list[tuple]:
    """Resolve the do-not-contact list (``raw.suppressions``) to master customers in
    ``main.suppressions``: an entry applies to the master of its customer number, and to the
    master of every customer record with the same phone or e-mail once both are
    standardized (so a registry number written "+86 138 ..." finds the customer who gave
    "138-..."). An entry that matches nobody is kept with an empty customer: it applies as
    soon as such a customer appears. Run after the customer map is written. Returns log rows."""
    raw = warehouse.sql.run(con, "cleanse.suppression_entries").df()
    raw["phone"] = _by_value(raw.phone, st.parse_phone).map(lambda p: p.value, na_action="ignore")
    raw["email"] = _by_value(raw.email, st.parse_email).map(lambda e: e.value, na_action="ignore")
    entries = warehouse.sql.temp_name("suppressions")
    con.register(entries, raw)
    try:
        warehouse.create_table(con, SUPPRESSIONS, replace=True, layer="clean")
        warehouse.sql.run(con, "cleanse.resolve_suppressions", entries=warehouse.sql.ident(entries))
    finally:
        con.unregister(entries)
    entries, matched, customers = warehouse.sql.one(con, "cleanse.suppression_counts")
    return [(run_id, "transactions", "do-not-contact entries", "suppressions", entries, "resolved",
             "entries of the do-not-contact list, matched by customer number, phone or e-mail to master customers"),
            (run_id, "transactions", "do-not-contact customers", "suppressions", customers, "suppressed",
             f"master customers not to contact ({matched:,} entries matched one)"),
            (run_id, "transactions", "do-not-contact unmatched", "suppressions", entries - matched, "kept",
             "entries matching no customer (e.g. registry numbers of non-customers): kept, applied when one appears")]


def extraction_date(con) -> date | None:
    """The as-of (extraction) date of the newest cleaning run: ``main.sales`` is as known then.
    None when the database has no cleaning run."""
    if not warehouse.table_exists(con, "main", "cleaning_runs"):
        return None
    row = warehouse.sql.one(con, "cleanse.newest_run_as_of")
    return row[0] if row else None


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
    missing = [t for t in ("returns", "sales_returned") if not warehouse.table_exists(con, "main", t)]
    if missing:
        raise ValueError(f"main.{' and main.'.join(sorted(missing))} missing: this database was cleaned by an older "
                         "version of dbmarketing; run the cleaning (notebook 02) again")
    name = warehouse.sql.temp_name("sales_as_of")
    warehouse.sql.run(con, "cleanse.sales_as_of", view=warehouse.sql.ident(name), as_of=warehouse.sql.literal(as_of))
    return name


def reconciliation(con) -> pd.DataFrame:
    """Counts before and after cleaning, table by table, so every row is accounted for:
    ``rows_in`` (raw) against ``rows_out`` (in the clean tables) and ``left_out`` (merged or
    excluded, each with its reason in the cleaning log), counted independently of each other;
    ``balanced`` says rows_in = rows_out + left_out."""
    sql = warehouse.sql
    rows = [
        ("customer records -> customers",
         *sql.one(con, "cleanse.reconcile_customers", order_only_customers=sql.text("warehouse.order_only_customers")),
         "records of one person merged into another record's golden record (customers known only by their orders "
         "count as records)"),
        ("orders -> sales and returns", *sql.one(con, "cleanse.reconcile_orders"),
         "sales counted and returns netted against them; the rest left out by reason"),
        ("order lines", *sql.one(con, "cleanse.reconcile_lines"),
         "repeated lines, bad prices, orphans, returns of uncounted lines left out (an order total without lines "
         "counts as one line)"),
        ("campaign contacts", *sql.one(con, "cleanse.reconcile_contacts"),
         "two records of one person in the same campaign: one contact kept"),
        ("service tickets", *sql.one(con, "cleanse.reconcile_tickets"), "re-keyed to master customers, none left out"),
    ]
    out = pd.DataFrame(rows, columns=["step", "rows_in", "rows_out", "left_out", "note"])
    out["balanced"] = out.rows_in == out.rows_out + out.left_out
    return out


def money_flow(con) -> pd.DataFrame:
    """The money of the cleaned transactions: counted sales gross, returned, net, cost, margin;
    and the anonymous sales (orders without a customer), kept but left out of customer metrics."""
    sales = warehouse.sql.one(con, "cleanse.customer_sales_money")
    anon = warehouse.sql.one(con, "cleanse.anonymous_sales_money")
    return pd.DataFrame([
        ("customer sales (main.sales)", sales[0], sales[1], sales[2], sales[3], sales[4], sales[5]),
        ("anonymous sales (not in customer metrics)", anon[0], anon[1], None, None, None, None),
    ], columns=["what", "orders", "gross_amount", "returned_amount", "net_amount", "cost", "margin"])


