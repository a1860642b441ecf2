-- Cleaning (cleanse): customer records, matching, golden records, transactions, quality, the run.

-- ---------------------------------------------------------------------------- transactions
-- name: clean_orders
-- Every raw order with its master customer, the customer number as recorded and the reason it is
-- left out of sales (the order rules {{order_exclusion}}, then an unknown customer number).
-- $reference: the extraction date of orders that came without a delivery.
CREATE OR REPLACE TABLE main.orders AS
SELECT o.* EXCLUDE (customer_id, batch_id, source_line, order_type, status),
       coalesce(o.order_type, 'sale') AS order_type, coalesce(o.status, 'completed') AS status,
       m.master_id AS customer_id, o.customer_id AS source_customer_id, FALSE AS is_wholesale,
       coalesce({{order_exclusion}}, CASE WHEN m.master_id IS NULL THEN 'unknown customer' END) AS exclude_reason
FROM raw.orders o LEFT JOIN main.customer_map m ON o.customer_id = m.customer_id
LEFT JOIN main.load_batches b USING (batch_id)

-- name: lines_in
-- The lines as exported, completed: an empty quantity is 1 (or amount / unit price), an empty
-- unit price amount / quantity, an empty amount quantity x unit price; and an order that came
-- with a total and no lines gets one line of quantity 1 (-1 on a return).
CREATE TEMP TABLE {{lines_in}} AS
WITH l AS (
    SELECT l.*, coalesce(l.quantity, CASE WHEN l.unit_price > 0 AND l.amount IS NOT NULL
                                          THEN CAST(round(l.amount / l.unit_price) AS INTEGER) END, 1) AS q
    FROM raw.order_lines l)
SELECT order_id, line_no, product_id, q AS quantity,
       coalesce(unit_price, amount / nullif(q, 0)) AS unit_price, coalesce(amount, q * unit_price) AS amount,
       quantity IS NULL AS quantity_assumed, unit_price IS NULL AS price_from_amount, FALSE AS from_order_total
FROM l
UNION ALL
SELECT o.order_id, 1, NULL, CASE WHEN o.order_type = 'return' THEN -1 ELSE 1 END,
       CASE WHEN o.order_type = 'return' THEN abs(o.amount) ELSE o.amount END,
       CASE WHEN o.order_type = 'return' THEN -abs(o.amount) ELSE o.amount END, FALSE, FALSE, TRUE
FROM raw.orders o
WHERE o.amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw.order_lines l WHERE l.order_id = o.order_id)

-- name: clean_order_lines
-- The completed lines with the reason a line is left out: its order is missing, its price is
-- not positive, or it repeats the line before it (a double scan).
CREATE OR REPLACE TABLE main.order_lines AS
SELECT l.* EXCLUDE (quantity_assumed, price_from_amount, from_order_total),
       CASE WHEN o.order_id IS NULL THEN 'orphan line'
            WHEN l.unit_price IS NULL OR l.unit_price <= 0 THEN 'non-positive price'
            WHEN l.product_id IS NOT DISTINCT FROM lag(l.product_id) OVER w
             AND l.quantity IS NOT DISTINCT FROM lag(l.quantity) OVER w
             AND l.unit_price IS NOT DISTINCT FROM lag(l.unit_price) OVER w
             AND NOT l.from_order_total THEN 'repeated line' END AS exclude_reason
FROM {{lines_in}} l LEFT JOIN raw.orders o USING (order_id)
WINDOW w AS (PARTITION BY l.order_id ORDER BY l.line_no)

-- name: uncounted_return_lines
-- A return line of a product whose sale line was not counted cannot be netted against it.
UPDATE main.order_lines l SET exclude_reason = 'return of uncounted line'
FROM raw.orders r
WHERE l.order_id = r.order_id AND r.order_type = 'return' AND l.exclude_reason IS NULL
  AND EXISTS (SELECT 1 FROM main.order_lines s WHERE s.order_id = r.original_order_id AND s.exclude_reason IS NULL)
  AND NOT EXISTS (SELECT 1 FROM main.order_lines s WHERE s.order_id = r.original_order_id
                  AND s.exclude_reason IS NULL AND s.product_id IS NOT DISTINCT FROM l.product_id)

-- name: order_totals
-- Totals of the counted lines per order, at cost from the product master.
CREATE TEMP TABLE {{order_totals}} AS
SELECT l.order_id, count(*) AS lines, sum(l.amount) AS amount, sum(l.quantity * p.unit_cost) AS cost,
       max(abs(l.quantity)) AS max_quantity
FROM main.order_lines l LEFT JOIN raw.products p USING (product_id)
WHERE l.exclude_reason IS NULL GROUP BY 1

-- name: orders_without_counted_lines
UPDATE main.orders o SET exclude_reason = 'no counted lines'
WHERE o.exclude_reason IS NULL AND o.order_id NOT IN (SELECT order_id FROM {{order_totals}})

-- name: returns_without_sale
-- Returns are netted against the sale they return; a return without a counted sale is left out.
UPDATE main.orders r SET exclude_reason = 'return without sale'
WHERE r.order_type = 'return' AND r.exclude_reason IS NULL AND NOT EXISTS (
    SELECT 1 FROM main.orders s WHERE s.order_id = r.original_order_id
       AND s.order_type = 'sale' AND s.exclude_reason IS NULL)

-- name: wholesale_orders
-- A consumer's sale above $amount or with a line of at least $quantity units is of wholesale size.
UPDATE main.orders o SET is_wholesale = TRUE FROM {{order_totals}} t, main.customers c
WHERE o.order_id = t.order_id AND o.customer_id = c.customer_id AND c.customer_type = 'consumer'
  AND o.order_type = 'sale' AND (t.amount > $amount OR t.max_quantity >= $quantity)

-- name: clean_returns
CREATE OR REPLACE TABLE main.returns AS
SELECT r.order_id AS return_id, r.original_order_id AS order_id, r.customer_id, r.order_date AS return_date,
       -t.amount AS amount, -t.cost AS cost
FROM main.orders r JOIN {{order_totals}} t USING (order_id)
WHERE r.order_type = 'return' AND r.exclude_reason IS NULL
ORDER BY order_id, return_date, return_id

-- name: sales_all
-- Every counted sale net of its returns, including those returned in full.
CREATE TEMP TABLE {{sales_all}} AS
WITH ret AS (SELECT order_id, sum(amount) AS returned_amount, sum(cost) AS returned_cost
             FROM main.returns GROUP BY 1)
SELECT o.order_id, o.customer_id, o.source_customer_id, o.order_date, o.channel, o.city,
       CAST(t.lines AS INTEGER) AS lines, t.amount AS gross_amount,
       coalesce(ret.returned_amount, 0) AS returned_amount,
       t.amount - coalesce(ret.returned_amount, 0) AS net_amount,
       t.cost - coalesce(ret.returned_cost, 0) AS cost,
       t.amount - coalesce(ret.returned_amount, 0) - (t.cost - coalesce(ret.returned_cost, 0)) AS margin,
       o.is_wholesale
FROM main.orders o JOIN {{order_totals}} t USING (order_id) LEFT JOIN ret USING (order_id)
WHERE o.order_type = 'sale' AND o.exclude_reason IS NULL

-- name: clean_sales
CREATE OR REPLACE TABLE main.sales AS
SELECT * FROM {{sales_all}} WHERE net_amount > 0 ORDER BY customer_id, order_date, order_id

-- name: clean_sales_returned
CREATE OR REPLACE TABLE main.sales_returned AS
SELECT * FROM {{sales_all}} WHERE net_amount <= 0 ORDER BY customer_id, order_date, order_id

-- name: fully_returned_orders
UPDATE main.orders o SET exclude_reason = 'fully returned'
FROM {{sales_all}} s WHERE o.order_id = s.order_id AND s.net_amount <= 0

-- name: clean_contacts
-- Campaign contacts by master customer, by campaign and customer: two records of one person in the
-- same campaign keep the first contact. Each table has its own alias and every column is qualified
-- (a transpiler once read coalesce(m.master_id, c.customer_id) as coalesce(m.master_id, m.master_id)).
CREATE OR REPLACE TABLE main.contacts AS
SELECT first_contacts.campaign_id, first_contacts.customer_id, first_contacts.cell, first_contacts.contact_date,
       first_contacts.source_customer_id
FROM (SELECT raw_contact.campaign_id, contact_map.master_id AS customer_id, raw_contact.cell, raw_contact.contact_date,
             raw_contact.customer_id AS source_customer_id,
             row_number() OVER (PARTITION BY raw_contact.campaign_id,
                                             coalesce(contact_map.master_id, raw_contact.customer_id)
                                ORDER BY raw_contact.source_line) AS nth
      FROM raw.contacts raw_contact
      LEFT JOIN main.customer_map contact_map ON contact_map.customer_id = raw_contact.customer_id) first_contacts
WHERE first_contacts.nth = 1
ORDER BY first_contacts.campaign_id, first_contacts.customer_id, first_contacts.source_customer_id

-- name: clean_service_tickets
CREATE OR REPLACE TABLE main.service_tickets AS
SELECT t.* EXCLUDE (customer_id, batch_id, source_line), m.master_id AS customer_id, t.customer_id AS source_customer_id
FROM raw.service_tickets t LEFT JOIN main.customer_map m ON m.customer_id = t.customer_id

-- name: copy_raw_table
-- A clean copy of a raw table that cleaning does not change (products, campaigns).
CREATE OR REPLACE TABLE {{target}} AS SELECT * EXCLUDE (batch_id, source_line) FROM {{source}}

-- name: drop_temp_table
DROP TABLE IF EXISTS {{table}}

-- name: lines_completed
-- Lines made from an order total, lines with a quantity assumed, lines with a price from the amount.
SELECT count(*) FILTER (WHERE from_order_total), count(*) FILTER (WHERE quantity_assumed),
       count(*) FILTER (WHERE price_from_amount)
FROM {{lines_in}}

-- name: order_defaults
-- Raw orders without an order type, without a status.
SELECT count(*) FILTER (WHERE order_type IS NULL), count(*) FILTER (WHERE status IS NULL) FROM raw.orders

-- name: orders_left_out
SELECT count(*) FROM main.orders WHERE exclude_reason = $reason

-- name: lines_left_out
SELECT count(*) FROM main.order_lines WHERE exclude_reason = $reason

-- name: returns_netted
SELECT count(*) FROM main.orders WHERE order_type = 'return' AND exclude_reason IS NULL

-- name: wholesale_count
SELECT count(*) FROM main.orders WHERE is_wholesale

-- name: rekeyed_rows
-- Rows of {{table}} that now point to another record's master customer.
SELECT count(*) FROM {{table}} WHERE customer_id <> source_customer_id

-- name: suppression_entries
-- The do-not-contact list in load order.
SELECT row_number() OVER (ORDER BY batch_id, source_line) AS entry, customer_id, phone, email,
       channel, reason, added_date
FROM raw.suppressions

-- name: resolve_suppressions
-- Each entry of the standardized list {{entries}} with the master customers it applies to: by its
-- customer number, or by a customer record's phone or e-mail (one row with no customer when
-- it matches nobody).
INSERT INTO main.suppressions
WITH hits AS (
    SELECT d.entry, m.master_id AS customer_id, 'customer number' AS matched_by
    FROM {{entries}} d JOIN main.customer_map m ON m.customer_id = d.customer_id
    UNION SELECT d.entry, m.master_id, 'phone' FROM {{entries}} d
        JOIN main.customer_records r ON r.phone = d.phone JOIN main.customer_map m ON m.customer_id = r.customer_id
    UNION SELECT d.entry, m.master_id, 'e-mail' FROM {{entries}} d
        JOIN main.customer_records r ON r.email = d.email JOIN main.customer_map m ON m.customer_id = r.customer_id)
SELECT d.entry, h.customer_id, h.matched_by, d.channel, d.reason, d.added_date, d.phone, d.email
FROM {{entries}} d LEFT JOIN hits h USING (entry) ORDER BY d.entry, h.customer_id

-- name: suppression_counts
-- Entries, entries matched to a customer, customers suppressed.
SELECT count(DISTINCT entry), count(DISTINCT entry) FILTER (WHERE customer_id IS NOT NULL),
       count(DISTINCT customer_id)
FROM main.suppressions

-- name: newest_run_as_of
-- The as-of (extraction) date of the newest cleaning run.
SELECT as_of FROM main.cleaning_runs ORDER BY run_id DESC LIMIT 1

-- name: sales_as_of
-- The purchases as known at {{as_of}} (a date literal: a view takes no parameters): sales dated
-- up to then, net of the returns made up to then only.
CREATE OR REPLACE TEMP VIEW {{view}} AS
WITH later AS (SELECT order_id, sum(amount) AS amount, sum(cost) AS cost
               FROM main.returns WHERE return_date > {{as_of}} GROUP BY 1),
s AS (SELECT * FROM main.sales WHERE order_date <= {{as_of}}
      UNION ALL SELECT * FROM main.sales_returned WHERE order_date <= {{as_of}})
SELECT s.order_id, s.customer_id, s.source_customer_id, s.order_date, s.channel, s.city, s.lines,
       s.gross_amount, s.returned_amount - coalesce(l.amount, 0) AS returned_amount,
       s.net_amount + coalesce(l.amount, 0) AS net_amount, s.cost + coalesce(l.cost, 0) AS cost,
       s.net_amount + coalesce(l.amount, 0) - (s.cost + coalesce(l.cost, 0)) AS margin, s.is_wholesale
FROM s LEFT JOIN later l USING (order_id)
WHERE s.net_amount + coalesce(l.amount, 0) > 0

-- name: reconcile_customers
-- Customer records in (current versions and customers known only by orders {{order_only_customers}}),
-- customers out, records merged into another record's customer.
SELECT (SELECT count(*) FROM raw.customers WHERE valid_to IS NULL)
       + (SELECT count(*) FROM ({{order_only_customers}}) order_only),
       (SELECT count(*) FROM main.customers),
       (SELECT count(*) FROM main.customer_map WHERE customer_id <> master_id)

-- name: reconcile_orders
-- Raw orders in; sales and counted returns out; orders left out with a reason.
SELECT (SELECT count(*) FROM raw.orders),
       (SELECT count(*) FROM main.sales) + (SELECT count(*) FROM main.returns),
       (SELECT count(*) FROM main.orders WHERE exclude_reason IS NOT NULL)

-- name: reconcile_lines
-- Raw lines (and order totals without lines) in; counted lines out; lines left out.
SELECT (SELECT count(*) FROM raw.order_lines) + (SELECT count(*) FROM raw.orders o
        WHERE o.amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw.order_lines l WHERE l.order_id = o.order_id)),
       (SELECT count(*) FROM main.order_lines WHERE exclude_reason IS NULL),
       (SELECT count(*) FROM main.order_lines WHERE exclude_reason IS NOT NULL)

-- name: reconcile_contacts
-- Raw contacts in; clean contacts out; contacts of one person repeated in a campaign (each table
-- with its own alias, every column qualified).
SELECT (SELECT count(*) FROM raw.contacts), (SELECT count(*) FROM main.contacts),
       (SELECT count(*) - count(DISTINCT (raw_contact.campaign_id, coalesce(contact_map.master_id, raw_contact.customer_id)))
        FROM raw.contacts raw_contact
        LEFT JOIN main.customer_map contact_map ON contact_map.customer_id = raw_contact.customer_id)

-- name: reconcile_tickets
SELECT (SELECT count(*) FROM raw.service_tickets), (SELECT count(*) FROM main.service_tickets), 0

-- name: customer_sales_money
SELECT count(*), sum(gross_amount), sum(returned_amount), sum(net_amount), sum(cost), sum(margin) FROM main.sales

-- name: anonymous_sales_money
-- Anonymous sales: orders without a customer number, their counted lines' amount.
SELECT count(DISTINCT o.order_id), coalesce(sum(l.amount), 0)
FROM main.orders o JOIN main.order_lines l USING (order_id)
WHERE o.exclude_reason = 'anonymous order' AND o.order_type = 'sale' AND l.exclude_reason IS NULL

-- ---------------------------------------------------------------------------- quality scorecard
-- Each check is the share 0-1 of rows that pass it, over a relation the scorecard names: the raw
-- table before cleaning, the clean one (counted rows only) after.

-- name: current_customer_versions
SELECT * FROM raw.customers WHERE valid_to IS NULL

-- name: golden_customers
SELECT * FROM main.customers

-- name: counted_orders
(SELECT * FROM main.orders WHERE exclude_reason IS NULL)

-- name: counted_lines
(SELECT * FROM main.order_lines WHERE exclude_reason IS NULL)

-- name: raw_customer_ids
SELECT customer_id FROM raw.customers

-- name: golden_customer_ids
SELECT customer_id FROM main.customers

-- name: filled_counts
-- The rows of {{relation}} and the non-empty values of each column ({{counts}}: count(column), ...).
SELECT count(*), {{counts}} FROM {{relation}}

-- name: newest_date
-- The newest date in {{column}} of {{relation}} not after $as_of.
SELECT max({{column}}) FROM {{relation}} WHERE {{column}} <= $as_of

-- name: distinct_share
SELECT count(DISTINCT {{column}}) / count(*) FROM {{relation}}

-- name: known_customer_share
-- Rows with a customer number that {{known}} (the customer numbers) holds.
SELECT avg(CAST(customer_id IN ({{known}}) AS DOUBLE)) FROM {{relation}} WHERE customer_id IS NOT NULL

-- name: orders_not_future
SELECT avg(CAST(order_date <= $as_of AS DOUBLE)) FROM {{orders}}

-- name: positive_line_prices
SELECT avg(CAST(unit_price > 0 AS DOUBLE)) FROM {{lines}}

-- name: line_amounts_add_up
SELECT avg(CAST(abs(amount - quantity * unit_price) < 0.01 AS DOUBLE)) FROM {{lines}}

-- name: lines_not_repeated
-- Lines that do not repeat the line before them in the same order (product, quantity, price).
SELECT 1 - avg(CAST(repeated AS DOUBLE)) FROM (
    SELECT product_id IS NOT DISTINCT FROM lag(product_id) OVER w AND quantity IS NOT DISTINCT FROM lag(quantity) OVER w
           AND unit_price IS NOT DISTINCT FROM lag(unit_price) OVER w AS repeated
    FROM {{lines}} WINDOW w AS (PARTITION BY order_id ORDER BY line_no)) line_repeats

-- name: contact_cells_valid
SELECT avg(CAST(cell IN ('test', 'control') AS DOUBLE)) FROM {{contacts}}

-- name: contact_campaigns_known
SELECT avg(CAST(campaign_id IN (SELECT campaign_id FROM raw.campaigns) AS DOUBLE)) FROM {{contacts}}

-- name: contacts_unique
-- One contact per customer and campaign.
SELECT count(DISTINCT (campaign_id, customer_id)) / count(*) FROM {{contacts}} WHERE customer_id IS NOT NULL

-- name: ticket_types_valid
SELECT avg(CAST(ticket_type IN ('complaint', 'inquiry', 'return') AS DOUBLE)) FROM {{tickets}}

-- name: satisfaction_valid
SELECT avg(CAST(satisfaction BETWEEN 1 AND 5 AS DOUBLE)) FROM {{tickets}} WHERE satisfaction IS NOT NULL

-- name: product_prices_positive
SELECT avg(CAST(price > 0 AS DOUBLE)) FROM {{products}} WHERE price IS NOT NULL

-- name: unit_costs_valid
-- 0 <= unit cost <= price.
SELECT avg(CAST(unit_cost >= 0 AND unit_cost <= price AS DOUBLE)) FROM {{products}} WHERE unit_cost IS NOT NULL

-- ---------------------------------------------------------------------------- customer records
-- name: current_records
-- The current version of every customer record, and the customers known only by their orders
-- ({{order_only_customers}}), by customer number.
SELECT * FROM (
    SELECT * EXCLUDE (batch_id, source_line, valid_to) FROM raw.customers WHERE valid_to IS NULL
    UNION ALL BY NAME {{order_only_customers}}) current_records
ORDER BY customer_id

-- name: own_cities
-- The user's own city reference table, if one was loaded.
SELECT * EXCLUDE (batch_id, source_line) FROM raw.cities

-- name: record_versions
-- The number of versions each customer record has in raw.customers.
SELECT customer_id, count(*) FROM raw.customers GROUP BY 1

-- ---------------------------------------------------------------------------- matching and golden records
-- name: kept_apart
SELECT customer_id FROM main.keep_apart

-- name: keep_apart
-- A reviewer's decision that a record is a separate person (positional: executemany over the records).
INSERT INTO main.keep_apart VALUES (?, ?, now())

-- name: merge_accuracy
-- Pairs with the same master, pairs of the same planted person, and pairs that are both, over
-- the sample's truth. Two equi-joins: a join on "same master OR same person" is a nested loop,
-- hours at a million records.
WITH m AS (SELECT c.customer_id, c.master_id, t.person_id
           FROM main.customer_map c JOIN truth.customer_records t USING (customer_id)),
p AS (SELECT TRUE AS same_master, a.person_id = b.person_id AS same_person
      FROM m a JOIN m b ON a.master_id = b.master_id AND a.customer_id < b.customer_id
      UNION ALL
      SELECT a.master_id = b.master_id AS same_master, TRUE AS same_person
      FROM m a JOIN m b ON a.person_id = b.person_id AND a.customer_id < b.customer_id
      WHERE NOT coalesce(a.master_id = b.master_id, FALSE))
SELECT count(*) FILTER (WHERE same_master), count(*) FILTER (WHERE same_person),
       count(*) FILTER (WHERE same_master AND same_person)
FROM p

-- name: id_upgrade_story
-- Current records with a 15-digit ID number; of those upgraded to a valid 18-digit one; of those
-- equal to another record's number; of those in the same customer as that record.
WITH r AS (SELECT c.customer_id, c.id_number, length(raw.id_number) = 15 AS was_15, m.master_id
           FROM raw.customers raw JOIN main.customer_records c USING (customer_id)
           JOIN main.customer_map m USING (customer_id) WHERE raw.valid_to IS NULL),
shared AS (SELECT a.customer_id, bool_and(a.master_id = b.master_id) AS together
           FROM r a JOIN r b ON a.id_number = b.id_number AND a.customer_id <> b.customer_id
           WHERE a.was_15 GROUP BY 1)
SELECT (SELECT count(*) FROM r WHERE was_15), (SELECT count(*) FROM r WHERE was_15 AND id_number IS NOT NULL),
       (SELECT count(*) FROM shared), (SELECT count(*) FROM shared WHERE together)

-- name: newest_run_model
-- The match model of the newest cleaning run.
SELECT model FROM main.cleaning_runs ORDER BY run_id DESC LIMIT 1

-- name: borderline_pairs
-- The $below scored pairs just below $threshold and the $above just at or above it, one row per
-- record, with the decision the run took.
WITH near AS (
    (SELECT * FROM main.match_pairs WHERE match_probability < $threshold ORDER BY match_weight DESC, customer_id_l, customer_id_r LIMIT $below)
    UNION ALL
    (SELECT * FROM main.match_pairs WHERE match_probability >= $threshold ORDER BY match_weight, customer_id_l, customer_id_r LIMIT $above)),
p AS (SELECT near.*, row_number() OVER (ORDER BY match_weight, customer_id_l, customer_id_r) AS pair,
             CASE WHEN ml.master_id = mr.master_id THEN 'merged' ELSE 'kept apart' END AS decision
      FROM near JOIN main.customer_map ml ON ml.customer_id = near.customer_id_l
                JOIN main.customer_map mr ON mr.customer_id = near.customer_id_r)
SELECT p.pair, round(p.match_probability, 3) AS match_probability, p.decision, r.customer_id, r.name, r.gender,
       r.birth_date, r.id_number, r.phone, r.email, r.city, r.address
FROM p JOIN main.customer_records r ON r.customer_id IN (p.customer_id_l, p.customer_id_r)
ORDER BY p.pair, r.customer_id

-- name: borderline_summary
-- The kept pairs: all, below $threshold, from it up to $sure, at $sure or more; the highest
-- probability below the threshold and the lowest at or above it.
SELECT count(*), count(*) FILTER (WHERE match_probability < $threshold),
       count(*) FILTER (WHERE match_probability >= $threshold AND match_probability < $sure),
       count(*) FILTER (WHERE match_probability >= $threshold AND match_probability >= $sure),
       max(match_probability) FILTER (WHERE match_probability < $threshold),
       min(match_probability) FILTER (WHERE match_probability >= $threshold)
FROM main.match_pairs

-- ---------------------------------------------------------------------------- the run
-- name: next_run_id
SELECT coalesce(max(run_id), 0) + 1 FROM main.cleaning_runs

-- name: record_run
INSERT INTO main.cleaning_runs VALUES ($run_id, $started, now(), $as_of, $parameters, $model)

-- name: prospect_rows
-- The external prospect list as loaded, in load order.
SELECT list_id, list_name, name, phone, email, province, city, age_band, gender, income_band, channel,
       consent_mail, consent_sms, consent_email, consent_phone, acquired_date
FROM raw.prospect_list ORDER BY batch_id, source_line

-- name: master_contacts
-- The standardized phone and e-mail of every customer record, with its master customer.
SELECT m.master_id AS customer_id, r.phone, r.email
FROM main.customer_records r JOIN main.customer_map m ON m.customer_id = r.customer_id

-- name: suppressed_contacts
-- The standardized phones and e-mails of the do-not-contact list.
SELECT DISTINCT phone, email FROM main.suppressions WHERE phone IS NOT NULL OR email IS NOT NULL

-- name: acquisition_rows
-- The acquisition campaigns' contacts as loaded, in load order.
SELECT campaign_id, list_id, cell, contact_date, channel, cost_per_contact, response_window_days, responded,
       first_order_amount
FROM raw.acquisition_contacts ORDER BY batch_id, source_line
