-- Prospects and acquisition (chapter 08): the external prospect list with its cities' tiers,
-- a past acquisition mailing to list prospects, and the first-year purchases of new customers.

-- name: count_list
-- Rows of the external prospect list.
SELECT count(*) FROM main.prospect_list

-- name: count_acquisition
-- Contacts of past acquisition mailings to list prospects.
SELECT count(*) FROM main.acquisition_contacts

-- name: list_rows
-- The external prospect list acquired by $as_of (rows without a date count as acquired), each row
-- with its city's tier (main.cities; NULL for a city the reference does not know).
SELECT l.*, t.city_tier
FROM main.prospect_list l
LEFT JOIN (SELECT city, min(city_tier) AS city_tier FROM main.cities GROUP BY city) t ON t.city = l.city
WHERE l.acquired_date IS NULL OR l.acquired_date <= $as_of
ORDER BY l.list_id

-- name: acquisition_contacts
-- Every contact of the past acquisition mailings whose response window had closed by $as_of
-- (contact_date + response_window_days <= $as_of): what a model may learn from.
SELECT a.campaign_id, a.list_id, a.cell, a.contact_date, a.channel AS contact_channel, a.cost_per_contact,
       a.response_window_days, a.responded, a.first_order_amount
FROM main.acquisition_contacts a
WHERE a.contact_date + CAST(coalesce(a.response_window_days, 60) AS INTEGER) <= $as_of
ORDER BY a.campaign_id, a.list_id

-- name: first_year_sales
-- The counted sales of consumers whose first counted purchase falls between $first_start and
-- $last_start, up to a year after that first purchase (first purchase + 365 days, excluded):
-- what a new customer brings in a first year.
WITH firsts AS (
    SELECT s.customer_id, min(s.order_date) AS first_purchase
    FROM main.sales s JOIN main.customers c ON c.customer_id = s.customer_id AND c.customer_type = 'consumer'
    WHERE s.order_date <= $as_of
    GROUP BY s.customer_id)
SELECT f.customer_id, f.first_purchase, count(*) AS orders, sum(s.net_amount) AS revenue,
       sum(s.margin) AS margin, count(s.margin) AS orders_with_margin
FROM firsts f JOIN main.sales s ON s.customer_id = f.customer_id
WHERE f.first_purchase >= $first_start AND f.first_purchase <= $last_start
  AND s.order_date >= f.first_purchase AND s.order_date < f.first_purchase + 365
GROUP BY f.customer_id, f.first_purchase
ORDER BY f.customer_id

-- name: planted_propensity
-- The sample's planted truth of the prospect list (only the sample has it).
SELECT * FROM truth.prospect_propensity ORDER BY list_id
