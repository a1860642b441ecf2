-- What a reviewer of a cleaning run reads (chapter 02).

-- name: province_mappings
SELECT r.province AS recorded, c.province AS standard, count(*) AS records
FROM raw.customers r JOIN main.customer_records c USING (customer_id)
WHERE r.valid_to IS NULL AND r.province IS DISTINCT FROM c.province
GROUP BY ALL ORDER BY records DESC

-- name: findings_by_kind
SELECT column_name, finding, count(*) AS records
FROM main.quality_findings GROUP BY ALL ORDER BY records DESC

-- name: findings_list
SELECT customer_id, column_name, finding, raw_value, derived_value
FROM main.quality_findings ORDER BY column_name, customer_id

-- name: run_model
SELECT model FROM main.cleaning_runs WHERE run_id = $run_id

-- name: records_per_customer
SELECT cluster_size AS records_per_customer, count(DISTINCT master_id) AS customers
FROM main.customer_map GROUP BY 1 ORDER BY 1

-- name: quality_scores
SELECT * FROM main.quality_scores WHERE run_id = $run_id

-- name: quality_trend
SELECT run_id, as_of, stage, round(100 * avg(score), 1) AS average_score
FROM main.quality_scores GROUP BY ALL ORDER BY run_id, stage DESC

-- name: match_pairs
SELECT match_weight, match_probability FROM main.match_pairs

-- name: customers_by_city_tier
-- Current customer records by the city tier of their city as written (an exact join: raw
-- names are not standardised yet), with the mean income index of the matched cities.
SELECT coalesce(CAST(ci.city_tier AS VARCHAR), 'not matched') AS city_tier,
       count(*) AS customers,
       coalesce(CAST(round(avg(ci.income_index), 1) AS VARCHAR), 'unknown') AS avg_income_index
FROM raw.customers c LEFT JOIN {{cities}} ci ON c.city = ci.city
WHERE c.valid_to IS NULL GROUP BY 1 ORDER BY 1
