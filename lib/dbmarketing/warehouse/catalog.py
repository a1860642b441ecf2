"""The catalog: the one way to declare a table (:class:`Table` of :class:`Column` with
privacy tiers), the customer information model (:data:`MODEL`), the bookkeeping tables, and
the ``main.catalog`` tables that record every column the workbook writes with its tier.

Privacy tiers: 1 public, 2 deep-public, 3 private, 4 highly private. Code that adds a table
declares it as a :class:`Table` and writes it with :func:`dbmarketing.warehouse.write_mart`
(or registers it with :func:`register_table`); display and export code asks the catalog which
columns a reader's ``clearance`` may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import dialect, sql

PUBLIC, DEEP_PUBLIC, PRIVATE, HIGHLY_PRIVATE = 1, 2, 3, 4


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    tier: int = PUBLIC
    required: bool = False  # a record without it cannot be loaded


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    origin: str = "internal"  # internal (own systems) or external (bought / public data)


C = Column

# The customer information model. These are the tables a source can be loaded into; the
# raw layer holds them as loaded, with batch_id and source_line added.
MODEL: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "customers",
            "Customer master: one row per customer record and version (history kept by valid_from/valid_to).",
            (
                C("customer_id", "VARCHAR", "Customer number in the source system", PUBLIC, True),
                C("customer_type", "VARCHAR", "consumer or distributor", PUBLIC),
                C("name", "VARCHAR", "Full name", PRIVATE),
                C("gender", "VARCHAR", "M or F as recorded", DEEP_PUBLIC),
                C("birth_date", "DATE", "Date of birth as recorded", PRIVATE),
                C("id_number", "VARCHAR", "Resident identity card number (15 or 18 digits)", HIGHLY_PRIVATE),
                C("phone", "VARCHAR", "Mobile or landline phone as recorded", PRIVATE),
                C("email", "VARCHAR", "E-mail address as recorded", PRIVATE),
                C("province", "VARCHAR", "Province as recorded", PUBLIC),
                C("city", "VARCHAR", "City as recorded", PUBLIC),
                C("address", "VARCHAR", "Street address", PRIVATE),
                C("signup_date", "DATE", "Date the customer registered", PUBLIC),
                C("signup_channel", "VARCHAR", "Where the customer registered (store, online, app, distributor, ...)", PUBLIC),
                C("consent_mail", "BOOLEAN", "Agreed to receive direct mail", DEEP_PUBLIC),
                C("consent_sms", "BOOLEAN", "Agreed to receive SMS", DEEP_PUBLIC),
                C("consent_email", "BOOLEAN", "Agreed to receive e-mail", DEEP_PUBLIC),
                C("consent_phone", "BOOLEAN", "Agreed to receive calls", DEEP_PUBLIC),
                C("source_system", "VARCHAR", "System the record came from (crm, pos, distributor, ...)", PUBLIC),
            ),
            key=("customer_id",),
        ),
        Table(
            "products",
            "Product master.",
            (
                C("product_id", "VARCHAR", "Product code", PUBLIC, True),
                C("product_name", "VARCHAR", "Product name", PUBLIC),
                C("category", "VARCHAR", "Product category", PUBLIC),
                C("price", "DOUBLE", "List price", PUBLIC),
                C("unit_cost", "DOUBLE", "Unit cost of goods", DEEP_PUBLIC),
            ),
            key=("product_id",),
        ),
        Table(
            "orders",
            "Order headers: sales and returns; cancelled orders kept with status cancelled.",
            (
                C("order_id", "VARCHAR", "Order number", PUBLIC, True),
                C("customer_id", "VARCHAR", "Customer number (empty for anonymous sales)", PUBLIC),
                C("order_date", "DATE", "Order date", PUBLIC, True),
                C("channel", "VARCHAR", "Sales channel (store, online, phone, distributor)", PUBLIC),
                C("order_type", "VARCHAR", "sale or return", PUBLIC),
                C("status", "VARCHAR", "completed or cancelled", PUBLIC),
                C("original_order_id", "VARCHAR", "For a return: the sale it returns", PUBLIC),
                C("city", "VARCHAR", "City of the store or delivery", PUBLIC),
                C("amount", "DOUBLE", "Order total, for exports without order lines (one line of quantity 1 is made "
                  "from it when the order has no lines)", PUBLIC),
            ),
            key=("order_id",),
        ),
        Table(
            "order_lines",
            "Order lines: product, quantity and price; returns carry negative quantities.",
            (
                C("order_id", "VARCHAR", "Order number", PUBLIC, True),
                C("line_no", "INTEGER", "Line number within the order", PUBLIC, True),
                C("product_id", "VARCHAR", "Product code", PUBLIC),
                C("quantity", "INTEGER", "Units (negative on returns); empty = 1", PUBLIC),
                C("unit_price", "DOUBLE", "Price paid per unit; empty = amount / quantity", PUBLIC),
                C("amount", "DOUBLE", "quantity x unit_price; empty = quantity x unit_price", PUBLIC),
            ),
            key=("order_id", "line_no"),
        ),
        Table(
            "campaigns",
            "Marketing campaigns.",
            (
                C("campaign_id", "VARCHAR", "Campaign code", PUBLIC, True),
                C("campaign_name", "VARCHAR", "Campaign name", PUBLIC),
                C("channel", "VARCHAR", "direct_mail, sms, email or outbound_call", PUBLIC),
                C("start_date", "DATE", "First contact date", PUBLIC),
                C("end_date", "DATE", "Last contact date", PUBLIC),
                C("response_window_days", "INTEGER", "Days after contact in which a purchase counts as a response", PUBLIC),
                C("cost_per_contact", "DOUBLE", "Cost of one contact", PUBLIC),
                C("offer", "VARCHAR", "The offer made", PUBLIC),
            ),
            key=("campaign_id",),
        ),
        Table(
            "contacts",
            "Who was selected for which campaign, in the test (contacted) or control (held out) cell.",
            (
                C("campaign_id", "VARCHAR", "Campaign code", PUBLIC, True),
                C("customer_id", "VARCHAR", "Customer number", PUBLIC, True),
                C("cell", "VARCHAR", "test (contacted) or control (held out)", PUBLIC),
                C("contact_date", "DATE", "Date of contact (planned date for control)", PUBLIC),
            ),
            key=("campaign_id", "customer_id"),
        ),
        Table(
            "service_tickets",
            "Customer service tickets: complaints, inquiries, returns.",
            (
                C("ticket_id", "VARCHAR", "Ticket number", PUBLIC, True),
                C("customer_id", "VARCHAR", "Customer number", PUBLIC),
                C("opened_date", "DATE", "Date opened", PUBLIC),
                C("closed_date", "DATE", "Date closed (empty while the ticket is open)", PUBLIC),
                C("ticket_type", "VARCHAR", "complaint, inquiry or return", PUBLIC),
                C("satisfaction", "INTEGER", "Satisfaction score 1-5 after closing", DEEP_PUBLIC),
                C("resolved", "BOOLEAN", "Resolved to the customer's satisfaction", PUBLIC),
            ),
            key=("ticket_id",),
        ),
        Table(
            "suppressions",
            "Do-not-contact list: customers, phone numbers or e-mail addresses that must not be contacted "
            "(opt-outs, complaints, a national do-not-call registry).",
            (
                C("customer_id", "VARCHAR", "Customer number (empty when the entry is a phone number or e-mail only)", PUBLIC),
                C("phone", "VARCHAR", "Phone number not to call or text", PRIVATE),
                C("email", "VARCHAR", "E-mail address not to write to", PRIVATE),
                C("channel", "VARCHAR", "Channel the entry applies to (direct_mail, sms, email, outbound_call); empty = all", PUBLIC),
                C("reason", "VARCHAR", "Why (opt-out, complaint, registry, ...)", PUBLIC),
                C("added_date", "DATE", "When the entry was made", PUBLIC),
            ),
        ),
        Table(
            "prospect_list",
            "An external prospect list (a rented or partner list): one row per list row, with the attributes such "
            "lists carry, the consents and the channel the row may be contacted by.",
            (
                C("list_id", "VARCHAR", "The vendor's row id", PUBLIC, True),
                C("list_name", "VARCHAR", "Vendor or list label", PUBLIC),
                C("name", "VARCHAR", "Full name as the vendor wrote it", PRIVATE),
                C("phone", "VARCHAR", "Mobile or phone as delivered", PRIVATE),
                C("email", "VARCHAR", "E-mail address as delivered", PRIVATE),
                C("province", "VARCHAR", "Province as delivered", PUBLIC),
                C("city", "VARCHAR", "City as delivered", PUBLIC),
                C("age_band", "VARCHAR", "Age band: under 25, 25-34, 35-44, 45-54, 55-64, 65+", DEEP_PUBLIC),
                C("gender", "VARCHAR", "M or F", DEEP_PUBLIC),
                C("income_band", "VARCHAR", "Monthly income band: under 5k, 5k-10k, 10k-20k, 20k+", DEEP_PUBLIC),
                C("channel", "VARCHAR", "Channel the row may be contacted by (sms, email, direct_mail)", PUBLIC),
                C("consent_mail", "BOOLEAN", "Agreed to receive direct mail (empty: not stated)", DEEP_PUBLIC),
                C("consent_sms", "BOOLEAN", "Agreed to receive SMS (empty: not stated)", DEEP_PUBLIC),
                C("consent_email", "BOOLEAN", "Agreed to receive e-mail (empty: not stated)", DEEP_PUBLIC),
                C("consent_phone", "BOOLEAN", "Agreed to receive calls (empty: not stated)", DEEP_PUBLIC),
                C("acquired_date", "DATE", "When the list was bought or received", PUBLIC),
            ),
            key=("list_id",),
            origin="external",
        ),
        Table(
            "acquisition_contacts",
            "Acquisition campaigns to list prospects: who was selected, in the test (contacted) or control (held "
            "out) cell, and whether the prospect became a customer in the response window.",
            (
                C("campaign_id", "VARCHAR", "Campaign code", PUBLIC, True),
                C("list_id", "VARCHAR", "Row of the prospect list", PUBLIC, True),
                C("cell", "VARCHAR", "test (contacted) or control (held out)", PUBLIC),
                C("contact_date", "DATE", "Date of contact (planned date for control)", PUBLIC),
                C("channel", "VARCHAR", "Channel of the contact", PUBLIC),
                C("cost_per_contact", "DOUBLE", "Cost of one contact", PUBLIC),
                C("response_window_days", "INTEGER", "Days after contact in which a first purchase counts", PUBLIC),
                C("responded", "BOOLEAN", "Became a customer with a first purchase in the window (coupon code for "
                  "the test cell, matched new customers for the control cell)", PUBLIC),
                C("first_order_amount", "DOUBLE", "Amount of the first order (empty unless responded)", PUBLIC),
            ),
            key=("campaign_id", "list_id"),
        ),
        Table(
            "cities",
            "External city reference data: tier, population and income index.",
            (
                C("city", "VARCHAR", "City name", PUBLIC, True),
                C("city_en", "VARCHAR", "City name in Latin letters (pinyin or English)", PUBLIC),
                C("province", "VARCHAR", "Province", PUBLIC),
                C("city_tier", "INTEGER", "City tier 1-5", PUBLIC),
                C("population_m", "DOUBLE", "Population, millions", PUBLIC),
                C("income_index", "DOUBLE", "Disposable income index (national average = 100)", PUBLIC),
            ),
            key=("city",),
            origin="external",
        ),
    ]
}

# Columns every raw table carries in addition to its model columns.
RAW_EXTRA = (
    C("batch_id", "INTEGER", "Load batch that brought the record (main.load_batches)", PUBLIC),
    C("source_line", "BIGINT", "Line (or row) of the record in its source file", PUBLIC),
)
HISTORY_EXTRA = (
    C("valid_from", "TIMESTAMP", "When this version of the record became current", PUBLIC),
    C("valid_to", "TIMESTAMP", "When it was replaced (empty while current)", PUBLIC),
)

BOOKKEEPING: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "load_batches",
            "One row per load of a source file: what was read, loaded and rejected.",
            (
                C("batch_id", "INTEGER", "Batch number", PUBLIC),
                C("source", "VARCHAR", "Source name from the sources file", PUBLIC),
                C("path", "VARCHAR", "File path or database URL loaded", PUBLIC),
                C("table_name", "VARCHAR", "Target table", PUBLIC),
                C("sha256", "VARCHAR", "SHA-256 fingerprint of the file (or query result)", PUBLIC),
                C("rows_read", "BIGINT", "Records read from the source", PUBLIC),
                C("rows_loaded", "BIGINT", "Records accepted: new ones, and changed ones (rows_changed)", PUBLIC),
                C("rows_rejected", "BIGINT", "Records sent to main.rejects", PUBLIC),
                C("rows_changed", "BIGINT", "Records already loaded whose values changed: a new history version "
                  "(customers) or an update replacing the earlier row (other tables)", PUBLIC),
                C("started_at", "TIMESTAMP", "Load start", PUBLIC),
                C("finished_at", "TIMESTAMP", "Load end", PUBLIC),
                C("status", "VARCHAR", "loaded, or 'superseded by batch N' (the same file loaded again with a "
                  "changed column map replaced what this batch loaded)", PUBLIC),
                C("rows_unchanged", "BIGINT", "Records identical to ones already loaded (a re-delivered file): "
                  "counted, not loaded again; rows_read = rows_loaded + rows_unchanged + rows_rejected", PUBLIC),
                C("extracted", "DATE", "When the delivery was extracted from its system (sources file "
                  "`extracted:`, else the load date): an order dated later is future-dated", PUBLIC),
                C("map_sha256", "VARCHAR", "Fingerprint of the source's column map: the same file loaded with "
                  "another map is a new delivery that supersedes this one", PUBLIC),
                C("watermark", "VARCHAR", "SQL sources with watermark: the highest value of the watermark column "
                  "loaded so far (the next load reads only rows above it)", PUBLIC),
            ),
            key=("batch_id",),
        ),
        Table(
            "rejects",
            "Source records that could not be loaded, with the reason. One row per problem found.",
            (
                C("batch_id", "INTEGER", "Load batch", PUBLIC),
                C("line_no", "BIGINT", "Line (or row) in the source", PUBLIC),
                C("column_name", "VARCHAR", "Source column at fault", PUBLIC),
                C("model_column", "VARCHAR", "Model column(s) the source column feeds", PUBLIC),
                C("reason", "VARCHAR", "Why the record was rejected (never holds a value of the record)", PUBLIC),
                C("raw_value", "VARCHAR", "The value at fault as read (the key, for key problems)", HIGHLY_PRIVATE),
                C("raw_record", "VARCHAR", "The record as read (JSON)", HIGHLY_PRIVATE),
                C("status", "VARCHAR", "open; 'repeated in batch N' (the same record was delivered and rejected "
                  "again later: counted there); 'superseded by batch N' (its file was loaded again with a "
                  "changed column map)", PUBLIC),
            ),
        ),
        Table(
            "catalog_tables",
            "The column catalog's table list: every table the workbook writes, its layer and origin.",
            (
                C("table_schema", "VARCHAR", "Schema (raw, main or truth)", PUBLIC),
                C("table_name", "VARCHAR", "Table name", PUBLIC),
                C("layer", "VARCHAR", "Data layer: raw, bookkeeping, core, marts or truth", PUBLIC),
                C("origin", "VARCHAR", "internal (own systems) or external (bought or public data)", PUBLIC),
                C("description", "VARCHAR", "What the table holds", PUBLIC),
            ),
            key=("table_schema", "table_name"),
        ),
        Table(
            "catalog",
            "The column catalog: every column of every table the workbook writes, with its privacy tier.",
            (
                C("table_schema", "VARCHAR", "Schema of the table", PUBLIC),
                C("table_name", "VARCHAR", "Table name", PUBLIC),
                C("column_name", "VARCHAR", "Column name", PUBLIC),
                C("data_type", "VARCHAR", "DuckDB data type", PUBLIC),
                C("description", "VARCHAR", "What the column holds", PUBLIC),
                C("privacy_tier", "INTEGER", "1 public, 2 deep-public, 3 private, 4 highly private", PUBLIC),
            ),
            key=("table_schema", "table_name", "column_name"),
        ),
    ]
}

def create_catalog(con) -> None:
    """The catalog's own two tables (of tables, of columns), if not there yet."""
    sql.run(con, "warehouse.create_catalog_tables")
    sql.run(con, "warehouse.create_catalog")


def add_missing_columns(con, schema: str, table: str, columns) -> None:
    """Give a table made by an older version of the workbook the columns added since
    (empty for its existing rows), so a database keeps working across upgrades."""
    for c in columns:
        sql.run(con, "warehouse.add_column", table=sql.ident(schema, table), column=sql.ident(c.name), type=c.type)


def _create(con, schema: str, name: str, columns) -> None:
    sql.run(con, "warehouse.create_table", table=sql.ident(schema, name),
            columns=", ".join(f"{sql.ident(c.name)} {c.type}" for c in columns))


def register_table(con, schema: str, table: str, columns, description: str,
                   layer: str = "marts", origin: str = "internal") -> None:
    """Describe a table and its columns (with privacy tiers) in the catalog."""
    where = {"schema": schema, "table": table}
    sql.run(con, "warehouse.forget_table", where)
    sql.run(con, "warehouse.register_table", {**where, "layer": layer, "origin": origin, "description": description})
    sql.run(con, "warehouse.forget_columns", where)
    con.executemany(
        sql.text("warehouse.register_column"),
        [[schema, table, c.name, c.type, c.description, c.tier] for c in columns],
    )


def privacy_tiers(con, table: str, schema: str = "main") -> dict[str, int]:
    """Column -> privacy tier for one table, as the catalog records it."""
    return dict(sql.run(con, "warehouse.privacy_tiers", {"schema": schema, "table": table}).fetchall())



def table_exists(con, schema: str, table: str) -> bool:
    """Whether schema.table exists in the database (the one place that asks)."""
    if dialect.engine_of(con) != dialect.ENGINE:  # Spark's catalog answers, not DuckDB's table functions
        return con.table_exists(schema, table)
    return bool(sql.one(con, "warehouse.table_exists", {"schema": schema, "table": table})[0])



def create_table(con, table: Table, schema: str = "main", replace: bool = False,
                 layer: str = "marts") -> None:
    """Create ``schema.<table.name>`` as declared (``replace``: drop what was there first), give a
    table kept from an older version the columns added since, and register it in the catalog."""
    if replace:
        sql.run(con, "warehouse.drop_table", table=sql.ident(schema, table.name))
    _create(con, schema, table.name, table.columns)
    add_missing_columns(con, schema, table.name, table.columns)
    register_table(con, schema, table.name, table.columns, table.description, layer=layer, origin=table.origin)


def raw_tables(con):
    """The raw tables in the catalog: origin (model or extra), description, number of columns
    and the highest privacy tier among them."""
    return sql.run(con, "warehouse.raw_tables").df()


def raw_columns(table: str) -> tuple[Column, ...]:
    """The columns of ``raw.<table>``: the model's, the load's bookkeeping (batch, line) and,
    for customers, the validity dates of their history."""
    return MODEL[table].columns + RAW_EXTRA + (HISTORY_EXTRA if table == "customers" else ())
