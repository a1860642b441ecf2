-- What the database holds: one count per holding of warehouse.needs (0 = not there).

-- name: customer_records
-- Current customer records.
SELECT count(*) FROM raw.customers WHERE valid_to IS NULL

-- name: orders
-- Raw orders.
SELECT count(*) FROM raw.orders

-- name: purchases
-- Purchases the cleaning counted (main.sales exists once notebook 02 ran).
SELECT count(*) FROM main.sales

-- name: product_costs
-- Products with a unit cost.
SELECT count(*) FROM raw.products WHERE unit_cost IS NOT NULL

-- name: order_lines
-- Counted order lines of a product (main.order_lines exists once notebook 02 ran).
SELECT count(*) FROM main.order_lines WHERE exclude_reason IS NULL AND product_id IS NOT NULL

-- name: product_categories
-- Products with a category (main.products exists once notebook 02 ran).
SELECT count(*) FROM main.products WHERE category IS NOT NULL

-- name: campaigns
-- Contacts of known campaigns.
SELECT count(*) FROM raw.contacts c JOIN raw.campaigns g USING (campaign_id)

-- name: control_groups
-- Contacts held out as a control group.
SELECT count(*) FROM raw.contacts WHERE cell = 'control'

-- name: service_tickets
-- Service tickets.
SELECT count(*) FROM raw.service_tickets

-- name: id_numbers
-- Current customer records with an ID number.
SELECT count(*) FROM raw.customers WHERE valid_to IS NULL AND id_number IS NOT NULL

-- name: cities
-- Current customer records with a city.
SELECT count(*) FROM raw.customers WHERE valid_to IS NULL AND city IS NOT NULL

-- name: history
-- Closed customer versions (a later export changed them).
SELECT count(*) FROM raw.customers WHERE valid_to IS NOT NULL
