-- Sample: the schema of the planted truth (tables written with warehouse.write_mart).

-- name: drop_schema
-- Drop a schema with its tables (the truth of an earlier generation).
DROP SCHEMA IF EXISTS {{schema}} CASCADE

-- name: forget_schema_columns
-- Forget the catalog's columns of every table of $schema.
DELETE FROM main.catalog WHERE table_schema = $schema

-- name: forget_schema_tables
-- Forget the catalog's tables of $schema.
DELETE FROM main.catalog_tables WHERE table_schema = $schema

-- name: create_schema
CREATE SCHEMA {{schema}}

-- name: frame_types
-- Column names and the types DuckDB gives them, of a registered DataFrame, in column order.
SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {{frame}})
