-- Customers: the four customer types, the 360 view (its feature sources, each stating the
-- newest date it used, and the one row per customer), the CLV and churn inputs, the stored
-- customer model and the checks against the sample's answer key.

-- name: has_column
-- Whether $schema.$table has the column $column.
SELECT count(*) FROM information_schema.columns
WHERE table_schema = $schema AND table_name = $table AND column_name = $column

-- name: current_records
-- Only the current version of each customer record, in a table that keeps history.
WHERE valid_to IS NULL

-- name: with_order_only_customers
-- The customers known only by their orders ({{order_only_customers}}), added to the records.
UNION ALL BY NAME ({{order_only_customers}})

-- name: customer_types
-- One row per customer (current version) of {{customers}} with its type of four at $as_of:
-- distributor whatever its recency, else potential (never bought), current (bought within the
-- last $active_days days) or lapsed; with the last purchase up to $as_of in {{orders}}
-- (completed sales; an export without order type or status holds sales, completed, as cleaning
-- reads it). Customers who signed up after $as_of are left out. In no particular order: the
-- counts (type_counts) read it as it comes, without sorting 10M rows.
WITH c AS (SELECT customer_id, source_system, customer_type, signup_date FROM {{customers}} {{history}}
           {{order_only}}),
o AS (
    SELECT customer_id, max(order_date) AS last_purchase
    FROM {{orders}}
    WHERE coalesce(order_type, 'sale') = 'sale' AND coalesce(status, 'completed') = 'completed'
      AND customer_id IS NOT NULL AND order_date <= CAST($as_of AS DATE)
    GROUP BY customer_id)
SELECT c.customer_id, c.source_system, c.customer_type,
       CASE WHEN c.customer_type = 'distributor' THEN 'distributor'
            WHEN o.last_purchase IS NULL THEN 'potential'
            WHEN o.last_purchase > CAST($as_of AS DATE) - CAST($active_days AS INTEGER) THEN 'current'
            ELSE 'lapsed' END AS customer_type4,
       o.last_purchase
FROM c LEFT JOIN o USING (customer_id)
WHERE c.signup_date IS NULL OR c.signup_date <= CAST($as_of AS DATE)

-- name: type_counts
-- Customer records per source system and type of four ({{types}}, customers.customer_types):
-- what chapter 01 shows, counted by the database instead of one row per customer in pandas.
-- Records of no stated source system are counted as 'unknown' (an export without that column).
SELECT coalesce(source_system, 'unknown') AS source_system, customer_type4, count(*) AS customer_records
FROM ({{types}}) types
GROUP BY 1, 2
ORDER BY source_system, customer_type4

-- name: source_purchases
-- Feature source of the 360 view (into {{into}}): the purchases as known at $as_of
-- ({{sales}}, cleanse.sales_as_of) per customer: dates, orders, gaps between purchase days and
-- the comeback after a gap of $lapsed_days days or more, money, and the share of revenue per
-- channel (one column per customers.CHANNELS) with the main channel. The gap of a purchase is
-- the days since the customer's purchase before it (in one window over the purchases, no
-- DISTINCT of every customer-day): 0 for another purchase on the same day, so the purchase
-- days are the purchases with no gap or a gap > 0, and the gaps > 0 are those between
-- distinct purchase days. Everything per customer is aggregated first, then joined.
CREATE OR REPLACE TEMP TABLE {{into}} AS
WITH p AS (
    SELECT customer_id, order_date AS d, channel, gross_amount, returned_amount, net_amount, cost, margin,
           date_diff('day', lag(order_date) OVER (PARTITION BY customer_id ORDER BY order_date), order_date) AS gap
    FROM {{sales}} WHERE customer_id IS NOT NULL AND order_date <= $as_of),
a AS (
    SELECT customer_id, min(d) AS first_purchase, max(d) AS last_purchase, count(*) AS orders,
           count(*) FILTER (WHERE d > $as_of - 90) AS orders_90d, count(*) FILTER (WHERE d > $as_of - 365) AS orders_12m,
           count(*) FILTER (WHERE gap IS NULL OR gap > 0) AS purchase_days,
           avg(gap) FILTER (WHERE gap > 0) AS mean_gap_days,
           max(d) FILTER (WHERE gap >= $lapsed_days) AS comeback_date,
           sum(gross_amount) AS gross_amount, sum(returned_amount) AS returned_amount, sum(net_amount) AS revenue,
           coalesce(sum(net_amount) FILTER (WHERE d > $as_of - 365), 0) AS revenue_12m,
           sum(cost) AS cost_of_goods, sum(margin) AS gross_margin,
           coalesce(sum(margin) FILTER (WHERE d > $as_of - 365), 0) AS margin_12m,
           coalesce(sum(net_amount) FILTER (WHERE channel = 'store') / nullif(sum(net_amount), 0), 0) AS share_store,
           coalesce(sum(net_amount) FILTER (WHERE channel = 'online') / nullif(sum(net_amount), 0), 0) AS share_online,
           coalesce(sum(net_amount) FILTER (WHERE channel = 'phone') / nullif(sum(net_amount), 0), 0) AS share_phone,
           coalesce(sum(net_amount) FILTER (WHERE channel = 'distributor') / nullif(sum(net_amount), 0), 0) AS share_distributor,
           max(d) AS _last_date
    FROM p GROUP BY customer_id),
chan AS (  -- the main channel: the one with the most revenue in total (ties broken by name)
    SELECT customer_id, main_channel FROM (
        SELECT customer_id, channel AS main_channel,
               row_number() OVER (PARTITION BY customer_id ORDER BY sum(net_amount) DESC, channel) AS n
        FROM p GROUP BY customer_id, channel)
    WHERE n = 1)
SELECT a.customer_id, a.first_purchase, a.last_purchase, a.orders, a.orders_90d, a.orders_12m, a.purchase_days,
       a.mean_gap_days, a.comeback_date, a.gross_amount, a.returned_amount, a.revenue, a.revenue_12m,
       a.cost_of_goods, a.gross_margin, a.margin_12m, a.share_store, a.share_online, a.share_phone,
       a.share_distributor, c.main_channel, a._last_date
FROM a LEFT JOIN chan c USING (customer_id)

-- name: source_returns
-- Feature source of the 360 view (into {{into}}): returns handled up to $as_of (also of sales
-- returned in full, which are no purchases); each costs ServiceCosts.per_return; the customer
-- is the one of the sale returned.
CREATE OR REPLACE TEMP TABLE {{into}} AS
SELECT coalesce(o.customer_id, r.customer_id) AS customer_id, count(*) AS returns,
       count(*) FILTER (WHERE r.return_date > $as_of - 365) AS returns_12m, max(r.return_date) AS _last_date
FROM main.returns r LEFT JOIN main.orders o USING (order_id)
WHERE r.return_date <= $as_of AND coalesce(o.customer_id, r.customer_id) IS NOT NULL
GROUP BY 1

-- name: source_categories
-- Feature source of the 360 view (into {{into}}): the category mix: sale lines of the
-- purchases ({{sales}}), net of the return lines made up to $as_of, so the categories of a
-- customer add up to the revenue.
CREATE OR REPLACE TEMP TABLE {{into}} AS
WITH p AS (SELECT order_id, customer_id, order_date FROM {{sales}} WHERE customer_id IS NOT NULL AND order_date <= $as_of),
l AS (
    SELECT p.customer_id, l.product_id, l.amount, p.order_date AS d
    FROM p JOIN main.order_lines l USING (order_id) WHERE l.exclude_reason IS NULL
    UNION ALL
    SELECT p.customer_id, l.product_id, l.amount, r.return_date AS d
    FROM main.returns r JOIN p USING (order_id) JOIN main.order_lines l ON l.order_id = r.return_id
    WHERE r.return_date <= $as_of AND l.exclude_reason IS NULL),
cat AS (
    SELECT l.customer_id, coalesce(pr.category, 'unknown') AS category, sum(l.amount) AS amount, max(l.d) AS last_d
    FROM l LEFT JOIN main.products pr USING (product_id) GROUP BY 1, 2)
SELECT customer_id, arg_max(category, (amount, category)) FILTER (WHERE amount > 0) AS main_category,
       count(*) FILTER (WHERE amount > 0) AS n_categories,
       max(amount) / nullif(sum(amount) FILTER (WHERE amount > 0), 0) AS main_category_share,
       string_agg(category || ' ' || CAST(round(100 * amount / total) AS INTEGER) || '%', ', '
                  ORDER BY amount DESC, category) FILTER (WHERE amount >= 0.005 * total)
         || coalesce(', ' || nullif(count(*) FILTER (WHERE amount > 0 AND amount < 0.005 * total), 0)
                     || ' more under 1%', '') AS category_mix,
       max(last_d) AS _last_date
FROM (SELECT *, sum(amount) FILTER (WHERE amount > 0) OVER (PARTITION BY customer_id) AS total FROM cat)
GROUP BY 1

-- name: source_tickets
-- Feature source of the 360 view (into {{into}}): service tickets opened up to $as_of, each
-- costing its type's cost in {{ticket_costs}} (ticket_type, cost: ServiceCosts.per_ticket; 0
-- for a type not in it). ``resolved`` is the status at the extraction date (the data holds no
-- resolution date): unresolved_complaints is right at the extraction date, but at an earlier
-- as_of it takes later resolutions for known ones; it serves the reasons, not the churn
-- model's training.
CREATE OR REPLACE TEMP TABLE {{into}} AS
SELECT customer_id, count(*) AS tickets,
       count(*) FILTER (WHERE ticket_type = 'complaint') AS complaints,
       count(*) FILTER (WHERE ticket_type = 'complaint' AND opened_date > $as_of - 180) AS complaints_180d,
       count(*) FILTER (WHERE ticket_type = 'complaint' AND NOT coalesce(resolved, FALSE)) AS unresolved_complaints,
       max(opened_date) FILTER (WHERE ticket_type = 'complaint') AS last_complaint_date,
       avg(satisfaction) AS mean_satisfaction,
       sum(coalesce(k.cost, 0.0)) AS service_cost,
       coalesce(sum(coalesce(k.cost, 0.0)) FILTER (WHERE opened_date > $as_of - 365), 0) AS service_cost_12m,
       max(opened_date) AS _last_date
FROM main.service_tickets LEFT JOIN {{ticket_costs}} k USING (ticket_type)
WHERE customer_id IS NOT NULL AND opened_date <= $as_of
GROUP BY 1

-- name: source_contacts
-- Feature source of the 360 view (into {{into}}): campaign contacts up to $as_of, their cost
-- (test cells only: control customers were not contacted) and the responses: a purchase as
-- known at $as_of ({{sales}}) in the response window ({{response}}:
-- campaigns.in_response_window), up to $as_of.
CREATE OR REPLACE TEMP TABLE {{into}} AS
WITH c AS (
    SELECT k.customer_id, k.campaign_id, k.cell, k.contact_date, g.cost_per_contact,
           k.contact_date + coalesce(g.response_window_days, 30) AS window_end
    FROM main.contacts k LEFT JOIN main.campaigns g USING (campaign_id)
    WHERE k.customer_id IS NOT NULL AND k.contact_date <= $as_of),
r AS (
    SELECT c.customer_id, c.campaign_id, max(s.order_date) AS responded_on
    FROM c JOIN {{sales}} s ON s.customer_id = c.customer_id
     AND {{response}} AND s.order_date <= $as_of
    WHERE c.cell = 'test'
    GROUP BY 1, 2)
SELECT c.customer_id,
       count(*) FILTER (WHERE c.cell = 'test') AS campaigns_contacted,
       count(r.campaign_id) AS campaigns_responded,
       max(c.contact_date) FILTER (WHERE c.cell = 'test') AS last_contact_date,
       coalesce(sum(c.cost_per_contact) FILTER (WHERE c.cell = 'test'), 0) AS contact_cost,
       coalesce(sum(c.cost_per_contact) FILTER (WHERE c.cell = 'test' AND c.contact_date > $as_of - 365), 0) AS contact_cost_12m,
       greatest(max(c.contact_date), max(r.responded_on)) AS _last_date
FROM c LEFT JOIN r USING (customer_id, campaign_id)
GROUP BY 1

-- name: newest_date_used
-- The newest date a feature source ({{source}}) used.
SELECT max(_last_date) FROM {{source}}

-- name: drop_table
DROP TABLE IF EXISTS {{table}}

-- name: drop_view
DROP VIEW IF EXISTS {{view}}

-- name: customer_360
-- One row per master customer at $as_of from the feature sources ({{purchases}}, {{returns}},
-- {{categories}}, {{tickets}}, {{contacts}}): customers who had signed up by then, or bought
-- by then; $ids: only these customers (NULL: all); $sample_cut: only the customers whose MD5
-- (hex, the same on every engine) is below it in its first eight digits, the fixed sample of
-- customers.sampled_customers (NULL: all). ``age`` in whole years at $as_of from the
-- birth date, or, in a copy published for a lower clearance (dbmarketing.privacy), from the
-- birth year alone (as text): the age at the middle of that year, right to within a year.
-- Costs: $per_return per return handled; the lifecycle stage by LifecycleRules ($lapsed_days,
-- $new_days, $reactivated_days, $at_risk_days), first rule that applies.
SELECT c.customer_id, $as_of AS as_of, c.customer_type, c.gender,
       CAST(coalesce(floor(date_diff('day', TRY_CAST(CAST(c.birth_date AS VARCHAR) AS DATE), $as_of) / 365.25),
                     year($as_of) - TRY_CAST(CAST(c.birth_date AS VARCHAR) AS INTEGER)
                     - CASE WHEN dayofyear($as_of) < 183 THEN 1 ELSE 0 END) AS INTEGER) AS age,
       c.province, c.city, ci.city_tier, c.signup_date, c.signup_channel,
       CAST(date_diff('day', least(coalesce(c.signup_date, p.first_purchase), coalesce(p.first_purchase, c.signup_date)), $as_of) AS INTEGER) AS tenure_days,
       c.source_systems, c.consent_mail, c.consent_sms, c.consent_email, c.consent_phone,
       p.first_purchase IS NULL AS is_prospect,
       p.first_purchase, p.last_purchase, CAST(date_diff('day', p.last_purchase, $as_of) AS INTEGER) AS recency_days,
       coalesce(p.orders, 0) AS orders, coalesce(p.orders_90d, 0) AS orders_90d, coalesce(p.orders_12m, 0) AS orders_12m,
       coalesce(p.purchase_days, 0) AS purchase_days, p.mean_gap_days, p.comeback_date,
       coalesce(p.gross_amount, 0) AS gross_amount, coalesce(p.returned_amount, 0) AS returned_amount,
       coalesce(p.revenue, 0) AS revenue, coalesce(p.revenue_12m, 0) AS revenue_12m,
       CASE WHEN p.orders > 0 THEN p.revenue / p.orders END AS avg_order_value,
       coalesce(p.cost_of_goods, 0) AS cost_of_goods, coalesce(p.gross_margin, 0) AS gross_margin,
       coalesce(p.margin_12m, 0) AS margin_12m,
       coalesce(r.returns, 0) AS returns,
       coalesce(r.returns, 0) * $per_return AS return_cost,
       coalesce(t.service_cost, 0) AS service_cost, coalesce(k.contact_cost, 0) AS contact_cost,
       coalesce(r.returns, 0) * $per_return + coalesce(t.service_cost, 0) + coalesce(k.contact_cost, 0) AS cost_to_serve,
       coalesce(p.gross_margin, 0) - (coalesce(r.returns, 0) * $per_return + coalesce(t.service_cost, 0)
           + coalesce(k.contact_cost, 0)) AS profit,
       coalesce(p.margin_12m, 0) - (coalesce(r.returns_12m, 0) * $per_return + coalesce(t.service_cost_12m, 0)
           + coalesce(k.contact_cost_12m, 0)) AS profit_12m,
       coalesce(p.share_store, 0) AS share_store, coalesce(p.share_online, 0) AS share_online,
       coalesce(p.share_phone, 0) AS share_phone, coalesce(p.share_distributor, 0) AS share_distributor,
       p.main_channel,
       g.main_category, g.main_category_share, coalesce(g.n_categories, 0) AS n_categories, g.category_mix,
       coalesce(k.campaigns_contacted, 0) AS campaigns_contacted, coalesce(k.campaigns_responded, 0) AS campaigns_responded,
       k.last_contact_date,
       coalesce(t.tickets, 0) AS tickets, coalesce(t.complaints, 0) AS complaints,
       coalesce(t.complaints_180d, 0) AS complaints_180d, coalesce(t.unresolved_complaints, 0) AS unresolved_complaints,
       t.last_complaint_date, t.mean_satisfaction,
       CASE WHEN p.last_purchase IS NULL THEN 'prospect'
            WHEN date_diff('day', p.last_purchase, $as_of) >= $lapsed_days THEN 'lapsed'
            WHEN date_diff('day', p.first_purchase, $as_of) < $new_days THEN 'new'
            WHEN p.comeback_date IS NOT NULL AND date_diff('day', p.comeback_date, $as_of) < $reactivated_days THEN 'reactivated'
            WHEN date_diff('day', p.last_purchase, $as_of) >= $at_risk_days THEN 'at risk'
            ELSE 'active' END AS lifecycle_stage
FROM main.customers c
LEFT JOIN {{purchases}} p USING (customer_id)
LEFT JOIN {{returns}} r USING (customer_id)
LEFT JOIN {{categories}} g USING (customer_id)
LEFT JOIN {{tickets}} t USING (customer_id)
LEFT JOIN {{contacts}} k USING (customer_id)
LEFT JOIN main.cities ci ON ci.city = c.city
WHERE (c.signup_date IS NULL OR c.signup_date <= $as_of OR p.first_purchase IS NOT NULL)
  AND ($ids IS NULL OR list_contains($ids, c.customer_id))
  AND ($sample_cut IS NULL OR substr(md5(c.customer_id), 1, 8) < $sample_cut)
ORDER BY c.customer_id

-- name: store_360
-- The 360 view ({{query}}: the statement customer_360) written into {{table}}, replaced.
CREATE OR REPLACE TABLE {{table}} AS {{query}}

-- name: model_frame
-- The 360 columns {{columns}} the customer model computes with, of the stored 360 view {{table}}.
SELECT {{columns}} FROM {{table}} ORDER BY customer_id

-- name: model_rows
-- The customer model's rows to store, as a temporary view {{view}}: the stored 360 view
-- {{stored}} and the model's own columns {{own}} (the customer_id, those it added and those it
-- emptied), one row per customer; {{excluded}}: the customer_id and the emptied columns, taken
-- from {{own}}.
CREATE OR REPLACE TEMP VIEW {{view}} AS
SELECT s.* EXCLUDE ({{excluded}}), o.*
FROM {{stored}} s JOIN {{own}} o ON o.customer_id = s.customer_id

-- name: rows_of
SELECT count(*) FROM {{table}}

-- name: counts_360
-- Customers, 12-month revenue and profit of a stored 360 view {{table}} (store_360, or the
-- customer model) per lifecycle stage, customer type and main channel (empty for prospects),
-- of the as-of date $as_of (NULL: every row).
SELECT lifecycle_stage, customer_type, main_channel, count(*) AS customers,
       sum(revenue_12m) AS total_revenue_12m, sum(profit) AS total_profit
FROM {{table}} WHERE $as_of IS NULL OR as_of = $as_of GROUP BY ALL ORDER BY ALL

-- name: margin_rates
-- Gross margin / revenue of the purchases ({{sales}}) up to $as_of, per customer type.
SELECT c.customer_type, sum(s.margin) / nullif(sum(s.net_amount), 0)
FROM {{sales}} s JOIN main.customers c USING (customer_id) WHERE s.order_date <= $as_of GROUP BY 1

-- name: margin_rate
-- Gross margin / revenue of all purchases ({{sales}}) up to $as_of (NULL without product costs).
SELECT sum(margin) / nullif(sum(net_amount), 0) FROM {{sales}} WHERE order_date <= $as_of

-- name: holdout_purchases
-- The purchases of the CLV holdout check, as a temporary {{kind}} (VIEW or TABLE) {{view}}: up to
-- {{until}} as known then ({{calibration}}), and {{after}} (holdout_after: the purchases after it,
-- as known at the end of the holdout; nothing when both are known alike: one pass). A view takes
-- no parameters: the dates are sql.literal. Only the customers {{sampled}} keeps (TRUE, or
-- sampled_customers).
CREATE OR REPLACE TEMP {{kind}} {{view}} AS
SELECT customer_id, order_date, net_amount FROM {{calibration}} WHERE order_date <= {{until}} AND {{sampled}}
{{after}}

-- name: holdout_after
-- The holdout's purchases after {{calibration_end}} up to {{as_of}} as known at {{as_of}}
-- ({{observed}}), of the customers {{sampled}} keeps.
UNION ALL
SELECT customer_id, order_date, net_amount FROM {{observed}}
WHERE order_date > {{calibration_end}} AND order_date <= {{as_of}} AND {{sampled}}

-- name: sampled_customers
-- A fixed sample of the customer master: those whose MD5 (hex, the same on every engine) is
-- below {{cut}} in its first eight digits. Customers are picked once; the purchases only
-- look them up.
customer_id IN (SELECT customer_id FROM main.customers WHERE substr(md5(customer_id), 1, 8) < {{cut}})

-- name: bought_between
-- Customers who bought ({{sales}}) in ($start, $end].
SELECT DISTINCT customer_id FROM {{sales}}
WHERE customer_id IS NOT NULL AND order_date > $start AND order_date <= $end

-- name: service_tickets_loaded
SELECT count(*) FROM raw.service_tickets

-- name: product_costs_known
-- Counted purchases with a cost of goods (none: no product costs were loaded).
SELECT count(cost) FROM main.sales

-- name: same_as_of
-- The stored customer-model rows t that new rows ({{new}}) replace: those of their as-of date(s).
t.as_of IN (SELECT DISTINCT CAST(as_of AS DATE) FROM {{new}})

-- name: golden_record
SELECT customer_id, name, gender, birth_date, phone, email, province, city, address
FROM main.customers WHERE customer_id = $customer_id

-- name: stored_model_row
-- One customer's stored model row at $as_of, without the fields the golden record holds.
SELECT * EXCLUDE (customer_id, gender, province, city) FROM main.customer_model
WHERE customer_id = $customer_id AND as_of = $as_of

-- name: planted_spend
-- The order values the sample simulator drew (truth.purchases.spend_drawn), for the people of
-- type {{customer_type}}, as a temporary view {{view}} (a view takes no parameters: the type is
-- sql.literal).
CREATE OR REPLACE TEMP VIEW {{view}} AS
SELECT CAST(t.person_id AS VARCHAR) AS customer_id, t.order_date, t.spend_drawn AS net_amount
FROM truth.purchases t JOIN truth.persons p USING (person_id)
WHERE p.customer_type = {{customer_type}}

-- name: planted_parameters
SELECT name, value FROM truth.parameters
