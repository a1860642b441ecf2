-- RFM: the summary, scores, the rfm_scores mart and migration.

-- name: replaced_scores
-- The stored scores t that new scores {{new}} replace: of the same as-of date and the same
-- population or the same customers, or stored before settings were recorded. The new rows are
-- matched by their distinct (as_of, population): one or a few rows, not one per customer
-- (matching every stored row against every new one ran for minutes on a second store).
EXISTS (SELECT 1 FROM (SELECT DISTINCT CAST(as_of AS DATE) AS as_of, population FROM {{new}}) n
        WHERE n.as_of = t.as_of
          AND (n.population IS NOT DISTINCT FROM t.population OR t.settings IS NULL
               OR t.customer_id IN (SELECT customer_id FROM {{new}})))

-- name: settings_clash
-- The stored scores that new scores {{new}} would replace ({{replaced}}: replaced_scores) but
-- that were computed with other settings: as-of date, settings, rows.
SELECT t.as_of, coalesce(t.settings, '(settings not recorded)'), count(*)
FROM main.rfm_scores t
WHERE {{replaced}}
  AND NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT CAST(as_of AS DATE) AS as_of, settings FROM {{new}}) n
                  WHERE n.as_of = t.as_of AND n.settings IS NOT DISTINCT FROM t.settings)
GROUP BY ALL ORDER BY 1, 2

-- name: stored_scores
-- The stored scores of one as-of date, only customers of $customer_type unless it is NULL.
SELECT * FROM main.rfm_scores
WHERE as_of = $as_of AND ($customer_type IS NULL OR customer_type = $customer_type)

-- name: load_scores
-- The stored scores {{scores}} (stored_scores) sorted by customer.
SELECT * FROM ({{scores}}) s ORDER BY customer_id

-- name: stored_counts
-- The stored scores {{scores}} (stored_scores): customers, buyers and the settings they were
-- computed with (one population, one date: the same on every row).
SELECT count(*), count(*) FILTER (WHERE NOT is_prospect), any_value(bins), any_value(method), any_value(weights),
       any_value(window_days), any_value(population), any_value(settings)
FROM ({{scores}}) s

-- name: segment_sums
-- Per segment of the scores {{scores}}: customers, their spend (0 where nobody spent) and their
-- average recency, frequency and monetary value.
SELECT CAST(segment AS VARCHAR) AS segment, count(*) AS customers, coalesce(sum(monetary), 0) AS revenue,
       avg(recency) AS avg_recency, avg(frequency) AS avg_frequency, avg(monetary) AS avg_monetary
FROM {{scores}} WHERE segment IS NOT NULL GROUP BY 1

-- name: buyer_totals
-- The buyers ({{buyer}}) of the scores {{scores}}: how many, and their spend.
SELECT count(*), coalesce(sum(monetary), 0) FROM {{scores}} WHERE {{buyer}}

-- name: score_triples
-- The combinations of R, F and M scores the buyers ({{buyer}}) of {{scores}} have.
SELECT DISTINCT r_score, f_score, m_score FROM {{scores}} WHERE {{buyer}}

-- name: rf_cells
-- {{value}} aggregated by {{agg}} over each F x R score pair of the scored customers of {{scores}}.
SELECT f_score, r_score, {{agg}}({{value}}) FROM {{scores}} WHERE r_score IS NOT NULL GROUP BY ALL

-- name: buyer_values
-- The {{value}} of each buyer ({{buyer}}) of {{scores}} who has one.
SELECT {{value}} FROM {{scores}} WHERE {{buyer}} AND {{value}} IS NOT NULL

-- name: measure_stats
-- Of the buyers ({{buyer}}) of {{scores}}: {{stats}} (a measure_stat per measure).
SELECT {{stats}} FROM {{scores}} WHERE {{buyer}}

-- name: measure_stat
-- A measure {{m}}'s count, mean, spread, least, quantiles $quantiles and largest value.
count({{m}}), avg({{m}}), stddev_samp({{m}}), min({{m}}), quantile_cont({{m}}, CAST($quantiles AS DOUBLE[])), max({{m}})

-- name: score_range
-- Per {{score}} level of the buyers ({{buyer}}) of {{scores}}: the least and largest {{value}}, and the customers.
SELECT {{score}}, min({{value}}), max({{value}}), count(*) FROM {{scores}}
WHERE {{buyer}} AND {{score}} IS NOT NULL GROUP BY 1

-- name: distribution_facts
-- What the distributions of the buyers ({{buyer}}) of {{scores}} are drawn and read from: the
-- range of recency, the largest frequency, the range of monetary value from 1 up on a log scale
-- (log10 of the least value or 0 when it is under 1; log10 of the largest, none when under 1);
-- the median recency, the share who bought once, the median and the 99th percentile of
-- monetary value. The logs are the database's, so the bars are cut as they are counted.
SELECT min(recency), max(recency), max(frequency),
       CASE WHEN min(monetary) < 1 THEN 0.0 ELSE log10(min(monetary)) END,
       CASE WHEN max(monetary) >= 1 THEN log10(max(monetary)) END, quantile_cont(recency, 0.5),
       avg(CASE WHEN frequency = 1 THEN 1.0 ELSE 0.0 END), quantile_cont(monetary, 0.5), quantile_cont(monetary, 0.99)
FROM {{scores}} WHERE {{buyer}}

-- name: bar_counts
-- The buyers ({{buyer}}) of {{scores}} in each bar {{bar}} (bars numbered from 0) of those {{keep}}.
SELECT {{bar}} AS bar, count(*) FROM {{scores}} WHERE {{buyer}} AND {{keep}} GROUP BY 1

-- name: scored_counts
-- The scored rows {{scored}}: all of them, and those of segment $segment.
SELECT count(*), count(*) FILTER (WHERE segment = $segment) FROM {{scored}}

-- name: members_of
-- The customers of segment $segment among the scored rows {{scored}}, with their name, phone and
-- city from the customer master, best combined score first: the first $rows.
SELECT s.customer_id, c.name, c.phone, c.city, s.rfm_cell, s.rfm_score, s.recency, s.frequency, s.monetary
FROM {{scored}} s LEFT JOIN main.customers c USING (customer_id)
WHERE s.segment = $segment
ORDER BY s.rfm_score DESC, s.monetary DESC, s.customer_id
LIMIT $rows

-- name: settings_of_dates
-- The settings the scores of the as-of dates $a and $b were computed with, and how many
-- customers each (only customers of $customer_type unless it is NULL).
SELECT as_of, coalesce(settings, '(settings not recorded)'), count(*)
FROM main.rfm_scores
WHERE as_of IN ($a, $b) AND ($customer_type IS NULL OR customer_type = $customer_type)
GROUP BY ALL ORDER BY 1, 2

-- name: migration
-- Customers by their segment at $from_as_of and at $to_as_of ($not_yet: the segment of those
-- not in the scores of a date), only customers of $customer_type unless it is NULL.
WITH a AS (SELECT customer_id, segment FROM main.rfm_scores
           WHERE as_of = $from_as_of AND ($customer_type IS NULL OR customer_type = $customer_type)),
     b AS (SELECT customer_id, segment FROM main.rfm_scores
           WHERE as_of = $to_as_of AND ($customer_type IS NULL OR customer_type = $customer_type))
SELECT coalesce(a.segment, $not_yet) AS "from", coalesce(b.segment, $not_yet) AS "to", count(*) AS customers
FROM a FULL JOIN b USING (customer_id) GROUP BY ALL

-- name: movers
-- The customers in one of $from_segments at $from_as_of and in one of $to_segments at
-- $to_as_of, with both dates' segments, cells and recency and their values now.
SELECT b.customer_id, a.segment AS segment_before, b.segment AS segment_now,
       a.rfm_cell AS cell_before, b.rfm_cell AS cell_now, a.recency AS recency_before, b.recency AS recency_now,
       b.frequency, b.monetary, b.last_purchase
FROM main.rfm_scores a JOIN main.rfm_scores b USING (customer_id)
WHERE a.as_of = $from_as_of AND b.as_of = $to_as_of
  AND ($customer_type IS NULL OR b.customer_type = $customer_type)
  AND list_contains($from_segments, a.segment) AND list_contains($to_segments, b.segment)
ORDER BY b.monetary DESC, b.customer_id

-- name: segment_contacts
-- One segment's stored scores at $as_of with the contact columns {{contact}} (", c.name, ...")
-- of the customer master {{customers}}, largest spend first.
SELECT s.customer_id, s.segment, s.as_of, s.r_score, s.f_score, s.m_score, s.rfm_cell, s.recency, s.frequency,
       s.monetary, s.last_purchase{{contact}}
FROM main.rfm_scores s LEFT JOIN {{customers}} c USING (customer_id)
WHERE s.as_of = $as_of AND s.segment = $segment AND ($customer_type IS NULL OR s.customer_type = $customer_type)
ORDER BY s.monetary DESC NULLS LAST, s.customer_id

-- name: describe
-- The columns of a table or view {{relation}} and their types.
DESCRIBE SELECT * FROM {{relation}}

-- name: purchase_rows
-- One row per purchase of {{relation}} for the customer summary: customer, day d ({{day}}: the
-- order date as a DATE), net value v and, when orders are counted by id, {{order_id}}
-- (", order_id"); {{period}}: the days that count ($end, $as_of); {{margin}}: nothing, or the
-- margin g for main.purchase_summary.
SELECT customer_id, {{day}} AS d, CAST(net_amount AS DOUBLE) AS v{{order_id}}{{margin}}
FROM {{relation}} WHERE customer_id IS NOT NULL AND {{period}}

-- name: purchase_days
-- The first and the last purchase day of {{purchases}} (rows of purchase_rows).
SELECT min(d), max(d) FROM ({{purchases}})

-- name: summary
-- The customer summary (rfm.summarize) at $as_of: the purchases aggregated per customer
-- ({{aggregated}}: aggregated, or summed_by_cleaning), the buyers' values ({{buyer_columns}};
-- {{first_day_value}} and {{first_day_join}} add first_day_value for the repeat-purchase
-- summary), and who is in it: {{select}}, summary_of_buyers or summary_of_customers.
-- {{order_by}}: sorted or not.
WITH {{aggregated}}{{first_day_value}},
buyers AS (SELECT {{buyer_columns}} FROM agg a {{first_day_join}})
{{select}}
{{order_by}}

-- name: aggregated
-- The purchases {{purchases}} (purchase_rows) aggregated per customer ({{aggregates}}, counted
-- over the periods they name with FILTER; {{having}}).
tx AS NOT MATERIALIZED (
    {{purchases}}),
agg AS (
    SELECT customer_id, {{aggregates}}
    FROM tx GROUP BY customer_id {{having}})

-- name: summed_by_cleaning
-- The per-customer sums of main.purchase_summary (purchase_summary) under the names the
-- statement aggregated gives them: what every purchase of main.sales sums to, read instead of
-- aggregating every purchase again (rfm.summary.summed_by_cleaning says when). {{who}}: the
-- buyers only (WHERE orders > 0), or every row, the master's customers who never bought too.
agg AS (
    SELECT customer_id, first_purchase, last_purchase, orders, coalesce(monetary, 0) AS monetary,
           purchase_days AS days_w, orders AS n_rows, monetary AS total, purchase_days AS n_days,
           first_day_value AS first_v{{master}}
    FROM main.purchase_summary {{who}})

-- name: purchase_summary
-- main.purchase_summary: every customer's purchases of main.sales summed ({{aggregated}}: the
-- statement aggregated over all of them, with their margin; {{first_day_value}}/{{first_day_join}}
-- the value of the first purchase day), one row per buyer and per customer of the master
-- {{customers}} (its customer_type and signup_date; orders 0 for those who never bought), in
-- customer order; main.sales's count, last date and total are what
-- rfm.summary.summed_by_cleaning checks it against, the master's rows what summed_master does.
CREATE OR REPLACE TABLE main.purchase_summary AS
WITH {{aggregated}}{{first_day_value}}
SELECT coalesce(a.customer_id, c.customer_id) AS customer_id, a.first_purchase, a.last_purchase,
       CAST(coalesce(a.orders, 0) AS BIGINT) AS orders, a.total AS monetary,
       CAST(coalesce(a.n_days, 0) AS BIGINT) AS purchase_days, {{first_v}} AS first_day_value, a.margin,
       c.customer_type, c.signup_date, c.customer_id IS NOT NULL AS in_master
FROM agg a {{first_day_join}}
FULL JOIN (SELECT customer_id, {{customer_type}} AS customer_type, CAST({{signup_date}} AS DATE) AS signup_date
           FROM {{customers}}) c ON a.customer_id = c.customer_id
ORDER BY 1

-- name: master_fingerprint
-- The customer master {{customers}}'s customers and a sum of the hashes of their (customer,
-- type, signup date): what main.purchase_summary's rows of the master were written from.
SELECT count(*), CAST(sum(hash(customer_id, customer_type, CAST(signup_date AS DATE))) AS VARCHAR) FROM {{customers}}

-- name: keep_master_fingerprint
-- Keep the master's fingerprint {{fingerprint}} (master_fingerprint, as text) with
-- main.purchase_summary, as the comment of its column in_master.
COMMENT ON COLUMN main.purchase_summary.in_master IS {{fingerprint}}

-- name: kept_master_fingerprint
-- The fingerprint keep_master_fingerprint wrote (NULL when none was kept).
SELECT comment FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = 'purchase_summary'
  AND column_name = 'in_master'

-- name: sales_totals
-- The count of main.sales's purchases with a customer, their last date and their total: each a
-- query of its own, so that the count and the last date come from the table's statistics and the
-- total is one plain sum (less that of purchases without a customer, which statistics skip).
SELECT (SELECT count(customer_id) FROM main.sales), (SELECT max(order_date) FROM main.sales),
       (SELECT sum(net_amount) FROM main.sales) - coalesce((SELECT sum(net_amount) FROM main.sales WHERE customer_id IS NULL), 0)

-- name: summed_sales
-- main.purchase_summary as sales for the margin statements (customers.margin_rates and
-- margin_rate): one row per buyer dated its last purchase, its spend and its margin.
(SELECT customer_id, last_purchase AS order_date, monetary AS net_amount, margin FROM main.purchase_summary WHERE orders > 0)

-- name: purchase_summary_totals
-- What main.purchase_summary sums to: purchases, the last date, the total.
SELECT sum(orders), max(last_purchase), sum(monetary) FROM main.purchase_summary

-- name: first_day_value
-- The value of the first purchase day: arg_min gives it when the first day holds one
-- purchase; customers with several purchases on some day get it summed, rounded to the money
-- unit as the totals are (the same on every engine).
fix AS (
    SELECT t.customer_id, round(sum(t.v), $money_digits) AS first_v
    FROM tx t JOIN (SELECT customer_id, first_purchase FROM agg WHERE n_rows > n_days) x
      ON t.customer_id = x.customer_id AND t.d = x.first_purchase
    GROUP BY t.customer_id)

-- name: buyers_of
-- Only the columns {{columns}} of the buyers (not the prospects) of a customer summary
-- {{summary}} (the statement summary), {{order_by}}: what the CLV fits read, without moving
-- every column of every customer out of the database.
SELECT {{columns}} FROM ({{summary}}) s WHERE NOT s.is_prospect
{{order_by}}

-- name: summary_of_buyers
-- The summary's rows without a customer master: the buyers with their {{values}}.
SELECT b.customer_id, $as_of AS as_of, CAST(NULL AS VARCHAR) AS customer_type, FALSE AS is_prospect, {{values}}
FROM buyers b

-- name: summary_of_customers
-- The summary's rows with the customer master {{customers}} ({{customer_type}} and
-- {{signup_date}}: its columns, or NULL where it has none): the buyers with their {{values}},
-- and the customers who had signed up by $as_of (or have no signup date) but never bought, as
-- prospects; only customers of $customer_type unless it is NULL.
SELECT coalesce(b.customer_id, p.customer_id) AS customer_id, $as_of AS as_of, p.customer_type,
       b.customer_id IS NULL AS is_prospect, {{values}}
FROM buyers b FULL JOIN (SELECT customer_id, {{customer_type}} AS customer_type,
                                CAST({{signup_date}} AS DATE) AS signup_date
                         FROM {{customers}}) p ON b.customer_id = p.customer_id
WHERE (b.customer_id IS NOT NULL OR p.signup_date IS NULL OR p.signup_date <= $as_of)
  AND ($customer_type IS NULL OR p.customer_type = $customer_type)

-- name: summary_of_summed_customers
-- The summary's rows with the customer master as main.purchase_summary holds it (summed_master
-- says when: no join of every buyer with the master): the buyers (b.bought) with their
-- {{values}} and the customers who had signed up by $as_of (or have no signup date) but never
-- bought, as prospects; only customers of $customer_type unless it is NULL.
SELECT b.customer_id, $as_of AS as_of, b.customer_type, NOT b.bought AS is_prospect, {{values}}
FROM buyers b
WHERE (b.bought OR b.signup_date IS NULL OR b.signup_date <= $as_of)
  AND ($customer_type IS NULL OR b.customer_type = $customer_type)

-- name: temp_table
-- A temporary table {{table}} (sql.temp_name) holding the result of {{query}}.
CREATE TEMP TABLE {{table}} AS {{query}}

-- name: drop_temp_table
DROP TABLE IF EXISTS {{table}}

-- name: quantile_cuts
-- The quantile cut points {{cuts}} (quantile_cut of each measure) of the scored customers of
-- {{stage}} (after the {{steps}} before it), per group {{groups}} ({{group_by}}).
{{steps}}SELECT {{groups}}{{cuts}} FROM {{stage}} WHERE NOT is_prospect{{group_by}}

-- name: counted_cuts
-- The cut points of quantile_cut for one measure {{key}} of few distinct values (recency, frequency)
-- from its counts instead of sorting every customer: the value at position ceil(j n / bins) is the
-- smallest whose running count reaches j n / bins ({{cuts}}: counted_cut for j = 1 .. bins - 1),
-- NULL without scored customers, as quantile_disc gives; {{steps}}: the steps before, ending with
-- a comma.
{{steps}}counted AS (SELECT {{key}} AS v, count(*) AS c FROM {{stage}} WHERE NOT is_prospect GROUP BY 1),
running AS (SELECT v, sum(c) OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
                   sum(c) OVER () AS n FROM counted)
SELECT CASE WHEN count(*) > 0 THEN [{{cuts}}] END FROM running

-- name: counted_cut
min(v) FILTER (WHERE upto * $bins >= {{j}} * n)

-- name: quantile_cut
-- The values of {{key}} at the positions ceil(j n / bins) ($quantiles: j / bins, rounded down).
quantile_disc({{key}}, CAST($quantiles AS DECIMAL(19, 18)[]))

-- name: next_values
-- The smallest value of {{key}} above each group's cut p._x ({{cuts}}: the groups {{groups}} and
-- their cuts), among the scored customers of {{stage}} (after the {{steps}} before it).
{{steps}}SELECT {{groups}}min({{key}})
FROM {{stage}} s JOIN {{cuts}} p ON {{on}}{{key}} > p._x
WHERE NOT s.is_prospect{{group_by}}

-- name: scored_independently
-- R, F and M scores of every row of {{relation}}, each over all customers: {{r_score}},
-- {{f_score}}, {{m_score}} count the cuts of {{rc}}, {{fc}}, {{mc}} (one row each) a value exceeds.
scored AS (SELECT s.*, {{r_score}} AS r_score, {{f_score}} AS f_score, {{m_score}} AS m_score
           FROM {{relation}} s CROSS JOIN {{rc}} rc CROSS JOIN {{fc}} fc CROSS JOIN {{mc}} mc)

-- name: scored_step
-- One step of nested scores: {{step}} adds {{score}} to the rows of {{stage}}, counting the cuts
-- c of {{cuts}} (per group of the scores before, {{using}}) that a value exceeds.
{{step}} AS (SELECT s.*, {{score}} FROM {{stage}} s {{join}} {{cuts}} c{{using}})

-- name: cell_index
-- The position of a row's R-F-M cell in the list of cells (R, then F, then M, each 1..$bins).
((r_score - 1) * $bins + f_score - 1) * $bins + m_score

-- name: scores
-- The scored rows ({{steps}} ending with scored) with their cell (the label of the
-- {{cell_index}}-th of $cells, as {{cell_enum}}), the weighted score ({{wr}}, {{wf}}, {{wm}}
-- over {{weight_sum}}) and the segment (the {{segment_index}}-th of $segment_names, or
-- $prospects, as {{segment_enum}}).
{{steps}}SELECT * EXCLUDE (r_score, f_score, m_score), r_score, f_score, m_score,
    CASE WHEN NOT is_prospect THEN CAST($cells AS {{cell_enum}}[])[{{cell_index}}] END AS rfm_cell,
    ({{wr}} * r_score + {{wf}} * f_score + {{wm}} * m_score) / CAST({{weight_sum}} AS DOUBLE) AS rfm_score,
    CAST(CASE WHEN is_prospect THEN $prospects ELSE $segment_names[{{segment_index}}] END AS {{segment_enum}})
        AS segment
FROM scored
{{order_by}}

-- name: scores_to_store
-- The scores {{scores}} (a temporary table of rfm.compute's columns) as main.rfm_scores stores
-- them: with the settings they were computed with ({{bins}} ... {{settings}}) and {{scored_at}},
-- as a temporary view {{view}} (a view takes no parameters: the values are sql.literal).
CREATE OR REPLACE TEMP VIEW {{view}} AS
SELECT s.*, CAST({{bins}} AS INTEGER) AS bins, CAST({{method}} AS VARCHAR) AS method,
       CAST({{window_days}} AS INTEGER) AS window_days, CAST({{weights}} AS VARCHAR) AS weights,
       CAST({{population}} AS VARCHAR) AS population, CAST({{settings}} AS VARCHAR) AS settings,
       CAST({{scored_at}} AS TIMESTAMP) AS scored_at
FROM {{scores}} s

-- name: score_grid
-- Every combination of R and F scores ({{levels}}: a table of the levels 1..bins) and M scores
-- ({{m_levels}}), with the segment {{segment}} (the segment map's CASE) of each.
SELECT r_score, f_score, m_score, {{segment}}
FROM (SELECT r.level AS r_score, f.level AS f_score, m.level AS m_score, FALSE AS is_prospect
      FROM {{levels}} r CROSS JOIN {{levels}} f CROSS JOIN {{m_levels}} m) g
ORDER BY r_score, f_score, m_score
