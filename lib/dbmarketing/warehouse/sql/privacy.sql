-- Statements of the privacy stage (lib/dbmarketing/privacy): the catalog's tiers, and the
-- analyst copy that `dbmarketing publish` writes from the full database attached as src.

-- name: catalog_tiers
-- Column name -> the highest privacy tier the catalog records for a column of that name.
SELECT column_name, max(privacy_tier) FROM main.catalog GROUP BY 1

-- name: published_clearance
-- The clearance a published copy was written for ({{publication}}: its main.publication).
SELECT min(clearance) FROM {{publication}}

-- name: attach_source
ATTACH $path AS src (READ_ONLY)

-- name: detach_source
DETACH src

-- name: source_has_table
-- Whether the attached full database holds main.$table.
SELECT count(*) FROM duckdb_tables() WHERE database_name = 'src' AND schema_name = 'main' AND table_name = $table

-- name: source_tables
SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 'src' ORDER BY schema_name, table_name

-- name: source_columns
SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns()
WHERE database_name = 'src' ORDER BY schema_name, table_name, column_index

-- name: source_catalog
SELECT * FROM src.main.catalog ORDER BY ALL

-- name: source_catalog_tables
SELECT * FROM src.main.catalog_tables ORDER BY ALL

-- name: source_views
SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE database_name = 'src' AND NOT internal ORDER BY 1

-- name: current_database
SELECT current_database()

-- name: use_database
USE {{database}}

-- name: create_schema
CREATE SCHEMA IF NOT EXISTS {{schema}}

-- name: copy_table
-- A table of the full database copied with each column as the reader's clearance allows
-- ({{columns}}: the column itself, its pseudonym, its mask or NULL, each named as the column).
CREATE TABLE {{target}} AS SELECT {{columns}} FROM {{source}}

-- name: insert_catalog_tables
INSERT INTO main.catalog_tables VALUES (?, ?, ?, ?, ?)

-- name: insert_catalog
INSERT INTO main.catalog VALUES (?, ?, ?, ?, ?, ?)

-- name: insert_rows
-- Rows into {{table}} by position ({{marks}}: one ? per column).
INSERT INTO {{table}} VALUES ({{marks}})

-- name: checkpoint
CHECKPOINT
