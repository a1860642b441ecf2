-- The warehouse's own statements: the order rules every stage shares, and the customers known
-- only by their orders.

-- name: order_exclusion
-- The order rules cleaning applies before it looks at lines (cleanse's RULES), as one CASE over
-- a raw order o and its delivery b (main.load_batches): the reason an order is left out of
-- sales, NULL if it may count. $reference: the extraction date of orders that came without a
-- delivery (written into raw by hand).
CASE WHEN o.customer_id IS NULL THEN 'anonymous order'
     WHEN coalesce(o.status, 'completed') = 'cancelled' THEN 'cancelled order'
     WHEN o.order_date > coalesce(b.extracted, CAST(b.finished_at AS DATE), $reference) THEN 'future date'
END

-- name: order_only_customers
-- Customers known only by their orders: a customer number on orders that no customer record
-- holds. Each becomes a customer without personal data: a distributor if any of its orders
-- came through the distributor channel, else a consumer; "signed up" with its first order.
SELECT o.customer_id, 'orders only' AS source_system,
       CASE WHEN bool_or(o.channel = 'distributor') THEN 'distributor' ELSE 'consumer' END AS customer_type,
       min(o.order_date) AS signup_date
FROM raw.orders o
WHERE o.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM raw.customers c WHERE c.customer_id = o.customer_id)
GROUP BY o.customer_id

-- name: purchase_dates
-- (first, newest) date of the raw orders that pass the order rules.
SELECT min(o.order_date), max(o.order_date)
FROM raw.orders o LEFT JOIN main.load_batches b USING (batch_id)
WHERE coalesce(o.order_type, 'sale') = 'sale' AND {{order_exclusion}} IS NULL

-- name: sales_dates
-- (first, newest) date of the counted purchases, once cleaning has written main.sales.
SELECT min(order_date), max(order_date) FROM main.sales

-- name: newest_extraction
-- The extraction date of the newest delivery (the load date where a batch of an older version
-- recorded none).
SELECT max(coalesce(extracted, CAST(finished_at AS DATE))) FROM main.load_batches WHERE status = 'loaded'

-- name: last_cleaning_and_load
-- When the last cleaning run started and the last load finished.
SELECT (SELECT max(started_at) FROM main.cleaning_runs), (SELECT max(finished_at) FROM main.load_batches)

-- name: newest_purchase_in
-- The newest order date in a relation of purchases the user gives (a table with order_date).
SELECT max(CAST(order_date AS DATE)) FROM {{purchases}}

-- name: first_signup
SELECT min(signup_date) FROM raw.customers

-- name: table_exists
-- Whether $schema.$table exists in the database (the one place that asks).
SELECT count(*) FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = $schema AND table_name = $table

-- name: privacy_tiers
SELECT column_name, privacy_tier FROM main.catalog WHERE table_schema = $schema AND table_name = $table

-- name: forget_table
DELETE FROM main.catalog_tables WHERE table_schema = $schema AND table_name = $table

-- name: forget_columns
DELETE FROM main.catalog WHERE table_schema = $schema AND table_name = $table

-- name: register_table
INSERT INTO main.catalog_tables VALUES ($schema, $table, $layer, $origin, $description)

-- name: register_column
-- One column of the catalog (positional parameters: executemany over the columns).
INSERT INTO main.catalog VALUES (?, ?, ?, ?, ?, ?)

-- name: all_tables
SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1, 2

-- name: count_rows
SELECT count(*) FROM {{table}}

-- name: batch_fingerprints
SELECT string_agg(sha256, ',' ORDER BY batch_id) FROM main.load_batches

-- name: catalog_columns
-- The catalog's columns of one table, highest privacy tier first.
SELECT column_name, privacy_tier, description FROM main.catalog
WHERE table_schema = $schema AND table_name = $table ORDER BY privacy_tier DESC, column_name

-- name: stored_dates
-- The as-of dates a dated mart holds, oldest first.
SELECT DISTINCT as_of FROM {{table}} ORDER BY 1

-- name: raw_tables
-- The raw tables the catalog knows: origin, description, columns and their highest privacy tier.
SELECT t.table_schema || '.' || t.table_name AS "table", t.origin, t.description,
       count(c.column_name) AS columns, max(c.privacy_tier) AS highest_tier
FROM main.catalog_tables t JOIN main.catalog c USING (table_schema, table_name)
WHERE t.layer = 'raw' GROUP BY ALL ORDER BY t.origin DESC, 1

-- name: create_catalog_tables
-- The catalog of tables: where each comes from, its layer and description.
CREATE TABLE IF NOT EXISTS main.catalog_tables (
    table_schema VARCHAR, table_name VARCHAR, layer VARCHAR, origin VARCHAR, description VARCHAR,
    PRIMARY KEY (table_schema, table_name))

-- name: create_catalog
-- The catalog of columns: type, description and privacy tier of every column.
CREATE TABLE IF NOT EXISTS main.catalog (
    table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, data_type VARCHAR,
    description VARCHAR, privacy_tier INTEGER, PRIMARY KEY (table_schema, table_name, column_name))

-- name: create_raw_schema
CREATE SCHEMA IF NOT EXISTS raw

-- name: create_table
-- A declared table ({{columns}}: name and type of each, from its Table declaration).
CREATE TABLE IF NOT EXISTS {{table}} ({{columns}})

-- name: add_column
ALTER TABLE {{table}} ADD COLUMN IF NOT EXISTS {{column}} {{type}}

-- name: drop_table
DROP TABLE IF EXISTS {{table}}

-- name: materialize
-- A query ({{query}}: a statement's text, or SELECT * FROM a registered frame) kept as the
-- temporary table {{target}} for the rest of a step (dropped with the connection at the latest).
CREATE TEMP TABLE {{target}} AS {{query}}

-- name: delete_replaced
-- The stored rows ({{table}} as t) a mart write replaces: {{condition}} is a named condition
-- over t and the new rows.
DELETE FROM {{table}} t WHERE {{condition}}

-- name: insert_declared
-- New rows into a declared table, by column name, each cast to its declared type.
INSERT INTO {{table}} ({{columns}}) SELECT {{casts}} FROM {{source}}

-- name: move_value_out_of_reason
-- Upgrade: a reject reason of an older version held the value at fault; move it into raw_value.
-- {{pattern}} is a literal (the regexp functions need it at bind time), {{group}} the group
-- holding the value, {{new_reason}} the reason without it.
UPDATE main.rejects SET raw_value = regexp_extract(reason, {{pattern}}, {{group}}), reason = {{new_reason}}
WHERE raw_value IS NULL AND regexp_matches(reason, {{pattern}})

-- name: copy_to_parquet
-- The {{columns}} of table {{table}} written as one Parquet file {{path}} (sql.literal: COPY takes
-- no parameter), for the Spark engine's warehouse (warehouse.spark.write_parquet).
COPY (SELECT {{columns}} FROM {{table}}) TO {{path}} (FORMAT parquet, COMPRESSION zstd)

-- name: table_signature
-- The content of the {{columns}} of table {{table}} in two values: its rows, and the sum of every
-- row's hash (the order of rows does not change it). The Spark engine's mirror writes a table
-- again only when these change (warehouse.spark.mirror).
SELECT count(*), CAST(coalesce(sum(CAST(hash(t) AS HUGEINT)), 0) AS VARCHAR) FROM (SELECT {{columns}} FROM {{table}}) t

-- name: mirrored_columns
-- The columns of the raw and main tables the Spark engine's Parquet warehouse holds: those the
-- catalog records at privacy tier $max_tier or below, and the more private columns named in
-- $private (those a Spark step reads), in the table's order. A column the catalog does not
-- describe stays in the customer database only.
SELECT c.table_schema, c.table_name, c.column_name
FROM information_schema.columns c
JOIN main.catalog k ON k.table_schema = c.table_schema AND k.table_name = c.table_name AND k.column_name = c.column_name
WHERE c.table_schema IN ('raw', 'main') AND (k.privacy_tier <= $max_tier OR list_contains($private, c.column_name))
ORDER BY c.table_schema, c.table_name, c.ordinal_position

-- name: schema_fingerprint
-- The fingerprint of the declarations the database's schema was last brought up to (create_schema
-- writes it as the comment of main.catalog; empty on a database of an older version).
SELECT comment FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'catalog'

-- name: set_schema_fingerprint
COMMENT ON TABLE main.catalog IS {{fingerprint}}

-- name: schema_columns
-- Every column of the raw and main schemas (create_schema checks that the declared ones are there).
SELECT schema_name, table_name, column_name FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name IN ('main', 'raw')
