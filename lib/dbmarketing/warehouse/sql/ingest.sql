-- Ingest: a load's batch, its rows, rejects and change detection, customers' history, and
-- looking at what was loaded. {{rows}}, {{keys}}, ... are DataFrames registered under names
-- of their own; the column lists ({{columns}}, {{typed}}, {{differs}}, ...) are built from the
-- model's Table declarations and hold no values.

-- name: insert_rows
-- The rows of {{rows}} into the raw table {{table}}: {{columns}} the quoted column names,
-- {{typed}} the same columns cast to their model types.
INSERT INTO {{table}} ({{columns}}) SELECT {{typed}} FROM {{rows}}

-- name: customer_changes
-- Each incoming customer of {{rows}} (cast by {{typed}}, with its source_line) against its
-- current version: 'new', 'other_system' (the number belongs to a customer of another source
-- system), 'same' ({{differs}}: any attribute differs), 'later' (the current version is valid
-- from after $valid_from) or 'changed'.
WITH incoming AS (SELECT {{typed}}, source_line FROM {{rows}})
SELECT i.source_line,
       CASE WHEN c.customer_id IS NULL THEN 'new'
            WHEN c.source_system IS DISTINCT FROM i.source_system THEN 'other_system'
            WHEN NOT ({{differs}}) THEN 'same'
            WHEN c.valid_from > $valid_from THEN 'later'
            ELSE 'changed' END AS change,
       c.valid_from AS current_from, coalesce(c.source_system, '(none)') AS current_system
FROM incoming i
LEFT JOIN raw.customers c ON c.customer_id = i.customer_id AND c.valid_to IS NULL

-- name: close_customers
-- Close the current version of each customer in {{changed}} (a customer_id column): valid to
-- $valid_from, where its new version starts.
UPDATE raw.customers SET valid_to = $valid_from
WHERE valid_to IS NULL AND customer_id IN (SELECT customer_id FROM {{changed}})

-- name: compare_with_loaded
-- Each incoming row of {{rows}} (cast by {{typed}}, with its source_line) that matches a row of
-- {{table}} loaded before batch $batch_id (not by an earlier chunk of the same file) on the
-- key ({{join}}): 'changed' when every such loaded row differs from it ({{differs}}), else
-- 'same'. Rows matching none are new.
WITH i AS (SELECT {{typed}}, source_line FROM {{rows}})
SELECT i.source_line, CASE WHEN bool_and({{differs}}) THEN 'changed' ELSE 'same' END AS change
FROM i JOIN {{table}} r ON {{join}} AND r.batch_id <> $batch_id GROUP BY i.source_line

-- name: delete_replaced
-- The loaded rows of {{table}} that changed rows replace: those matching a row of {{keys}} on
-- {{join}}.
DELETE FROM {{table}} r USING {{keys}} k WHERE {{join}}

-- name: write_rejects
-- One row of main.rejects per problem of {{problems}}, in line order, with the record of
-- {{records}} (by its __line__) as JSON: {{record}} names each of the file's columns ("name" :=
-- r."name"), the record's own when it could not be split into fields.
INSERT INTO main.rejects (batch_id, line_no, column_name, model_column, reason, raw_value, raw_record)
SELECT $batch_id, p.line_no, p.column_name, p.model_column, p.reason, p.raw_value,
       coalesce(p.raw_record, CAST(to_json(struct_pack({{record}})) AS VARCHAR))
FROM {{problems}} p LEFT JOIN {{records}} r ON r.__line__ = p.line_no
ORDER BY p.line_no, p.found

-- name: repeated_rejects
-- Close the open rejects of earlier batches of $source whose record batch $batch rejects again:
-- each bad record counts once, where it was last delivered.
UPDATE main.rejects r SET status = 'repeated in batch ' || CAST($batch AS VARCHAR)
FROM main.load_batches b
WHERE r.batch_id = b.batch_id AND b.source = $source AND r.batch_id < $batch
  AND coalesce(r.status, 'open') = 'open' AND r.raw_record IN (
      SELECT raw_record FROM main.rejects WHERE batch_id = $batch AND raw_record IS NOT NULL)

-- name: record_batch
-- The row of main.load_batches for a finished load.
INSERT INTO main.load_batches (batch_id, source, path, table_name, sha256, rows_read, rows_loaded,
                               rows_unchanged, rows_rejected, rows_changed, started_at, finished_at,
                               status, extracted, map_sha256, watermark)
VALUES ($batch_id, $source, $path, $table_name, $sha256, $rows_read, $rows_loaded,
        $rows_unchanged, $rows_rejected, $rows_changed, $started_at, $finished_at,
        $status, $extracted, $map_sha256, $watermark)

-- name: loaded_before
-- The batches that loaded content $sha256 into $table_name, oldest first.
SELECT batch_id, source, path, finished_at, rows_read, rows_loaded, rows_rejected, rows_changed,
       coalesce(rows_unchanged, 0), map_sha256
FROM main.load_batches
WHERE sha256 = $sha256 AND table_name = $table_name AND status = 'loaded'
ORDER BY batch_id

-- name: next_batch
-- The number of the next batch.
SELECT coalesce(max(batch_id), 0) + 1 FROM main.load_batches

-- name: lines_rejected
-- How many lines batch $batch_id rejected, not counting those rejected only because a newer
-- version is loaded (an old file arriving late).
SELECT count(DISTINCT line_no) FILTER (WHERE reason NOT LIKE 'a later version%')
FROM main.rejects WHERE batch_id = $batch_id

-- name: first_reject
-- (line, source column or '', reason) of the first reject of batch $batch_id.
SELECT line_no, coalesce(column_name, ''), reason FROM main.rejects
WHERE batch_id = $batch_id ORDER BY line_no LIMIT 1

-- name: batch_customers
-- The customers that batch $batch_id brought (a version of each).
SELECT DISTINCT customer_id FROM raw.customers WHERE batch_id = $batch_id

-- name: delete_batch
-- The rows of the raw table {{table}} that batch $batch_id loaded.
DELETE FROM {{table}} WHERE batch_id = $batch_id

-- name: chain_history
-- Chain the versions of the customers in {{affected}} again, each valid to the start of the
-- next (after a batch's versions were taken out).
UPDATE raw.customers c SET valid_to = n.next_from
FROM (SELECT customer_id, batch_id,
             lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from, batch_id) AS next_from
      FROM raw.customers WHERE customer_id IN (SELECT customer_id FROM {{affected}})) n
WHERE c.customer_id = n.customer_id AND c.batch_id = n.batch_id

-- name: mark_rejects
-- Set the status of the rejects of batch $batch_id.
UPDATE main.rejects SET status = $status WHERE batch_id = $batch_id

-- name: mark_batch
-- Set the status of batch $batch_id.
UPDATE main.load_batches SET status = $status WHERE batch_id = $batch_id

-- name: last_watermark
-- The highest watermark value source $source has loaded (NULL the first time).
SELECT max(watermark) FROM main.load_batches WHERE source = $source AND status = 'loaded'

-- name: load_history
-- main.load_batches, newest last.
SELECT * FROM main.load_batches ORDER BY batch_id

-- name: reject_summary
-- Open rejects (or those of batch $batch_id) counted by source, source column and kind of
-- reason, with the first line at fault and the value found there.
WITH r AS (
    SELECT b.source, r.column_name, r.model_column, r.line_no, r.raw_value,
           CASE WHEN r.reason LIKE 'duplicate key, first at line %' THEN 'duplicate key'
                WHEN r.reason LIKE 'key already loaded in batch %' THEN 'key already loaded in an earlier batch'
                WHEN r.reason LIKE 'a later version is already loaded%' THEN 'a later version is already loaded'
                ELSE r.reason END AS kind
    FROM main.rejects r JOIN main.load_batches b USING (batch_id)
    WHERE ($batch_id IS NULL AND coalesce(r.status, 'open') = 'open') OR r.batch_id = $batch_id)
SELECT source, column_name AS "column", model_column AS "into", kind AS reason, count(*) AS "count",
       min(line_no) AS first_line, arg_min(raw_value, line_no) AS example_value
FROM r GROUP BY ALL ORDER BY source, "count" DESC, "column", reason

-- name: raw_tiers
-- The privacy tier of each column name of the raw layer (the highest where tables differ).
SELECT column_name, max(privacy_tier) FROM main.catalog WHERE table_schema = 'raw' GROUP BY 1

-- name: profile
-- One scan of the raw table {{table}} (the rows of batch $batch_id, or all when it is NULL):
-- {{measures}} per column the % missing, the distinct count and the first non-empty value.
SELECT {{measures}} FROM {{table}} WHERE $batch_id IS NULL OR batch_id = $batch_id

-- name: history_changes
-- Per attribute ({{counts}}), how many customers a later version changed it for: consecutive
-- versions of raw.customers.
SELECT {{counts}} FROM raw.customers o JOIN raw.customers n
ON o.customer_id = n.customer_id AND o.valid_to = n.valid_from

-- name: customer_versions
-- Customers with history, all customers, and the versions closed by later deliveries.
SELECT count(*) FILTER (WHERE n > 1) AS customers_with_history,
       count(*) AS customers, CAST(sum(n) - count(*) AS BIGINT) AS closed_versions
FROM (SELECT customer_id, count(*) AS n FROM raw.customers GROUP BY 1)

-- name: create_seen_keys
-- A temporary table {{seen}} for the keys a load has read so far, in chunks: {{columns}} (the
-- key columns with their model types) and the line each key was first read on.
CREATE TEMP TABLE {{seen}} ({{columns}}, first_line BIGINT)

-- name: seen_keys
-- The rows of {{keys}} (key columns cast by {{typed}}, with their source_line) whose key is in
-- {{seen}} ({{join}}), with the line it was first read on.
WITH k AS (SELECT {{typed}}, source_line FROM {{keys}})
SELECT k.source_line, s.first_line FROM k JOIN {{seen}} s ON {{join}}

-- name: remember_keys
-- The keys of {{keys}} (cast by {{typed}}) not in {{seen}} yet ({{join}}), each with the first
-- line it is on.
INSERT INTO {{seen}}
SELECT {{typed_names}}, min(source_line) FROM (SELECT {{typed}}, source_line FROM {{keys}}) k
WHERE NOT EXISTS (SELECT 1 FROM {{seen}} s WHERE {{join}}) GROUP BY ALL
