-- RFM: the summary, scores, the rfm_scores mart and migration.

-- name: contact_details
-- Name, phone and city of every customer, to put beside a segment's scores.
SELECT customer_id, name, phone, city FROM main.customers

-- name: replaced_scores
-- The stored scores t that new scores {{new}} replace: of the same as-of date and the same
-- population or the same customers, or stored before settings were recorded.
EXISTS (SELECT 1 FROM {{new}} n WHERE CAST(n.as_of AS DATE) = t.as_of
        AND (n.population IS NOT DISTINCT FROM t.population OR t.settings IS NULL
             OR t.customer_id IN (SELECT customer_id FROM {{new}})))

-- name: settings_clash
-- The stored scores that new scores {{new}} would replace ({{replaced}}: replaced_scores) but
-- that were computed with other settings: as-of date, settings, rows.
SELECT t.as_of, coalesce(t.settings, '(settings not recorded)'), count(*)
FROM main.rfm_scores t
WHERE {{replaced}}
  AND NOT EXISTS (SELECT 1 FROM {{new}} n WHERE CAST(n.as_of AS DATE) = t.as_of
                  AND n.settings IS NOT DISTINCT FROM t.settings)
GROUP BY ALL ORDER BY 1, 2

-- name: load_scores
-- The stored scores of one as-of date, only customers of $customer_type unless it is NULL.
SELECT * FROM main.rfm_scores
WHERE as_of = $as_of AND ($customer_type IS NULL OR customer_type = $customer_type)
ORDER BY customer_id

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
  AND a.segment = ANY($from_segments) AND b.segment = ANY($to_segments)
ORDER BY b.monetary DESC, b.customer_id

-- name: segment_contacts
-- One segment's stored scores at $as_of with the contact columns {{contact}} (", c.name, ...")
-- of the customer master {{customers}}, largest spend first.
SELECT s.customer_id, s.segment, s.as_of, s.r_score, s.f_score, s.m_score, s.rfm_cell, s.recency, s.frequency,
       s.monetary, s.last_purchase{{contact}}
FROM main.rfm_scores s LEFT JOIN {{customers}} c USING (customer_id)
WHERE s.as_of = $as_of AND s.segment = $segment AND ($customer_type IS NULL OR s.customer_type = $customer_type)
ORDER BY s.monetary DESC NULLS LAST, s.customer_id
