-- Statements of the ingest stage (lib/dbmarketing/ingest).

-- name: customer_versions
-- Customers with history, all customers, and the versions closed by later deliveries.
SELECT count(*) FILTER (WHERE n > 1) AS customers_with_history,
       count(*) AS customers, CAST(sum(n) - count(*) AS BIGINT) AS closed_versions
FROM (SELECT customer_id, count(*) AS n FROM raw.customers GROUP BY 1)
