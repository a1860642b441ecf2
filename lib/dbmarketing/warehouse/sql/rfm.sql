-- RFM: the summary, scores, the rfm_scores mart and migration.

-- name: contact_details
-- Name, phone and city of every customer, to put beside a segment's scores.
SELECT customer_id, name, phone, city FROM main.customers
