-- What sells with what (baskets): transactions of items, frequent itemsets level by level
-- (Apriori), sequences over a customer's orders and the next best offer. Items are coded as
-- integers (in item order) so the counting joins compare numbers, not strings.

-- ---------------------------------------------------------------------------- transactions
-- name: order_products
-- The counted sales up to $as_of with the products on their counted lines: one row per order
-- and product (customer and date carried for sequences and offers). {{customer_filter}} is empty
-- or a condition on the customer type.
SELECT DISTINCT s.order_id AS tid, l.product_id AS item, s.customer_id, s.order_date
FROM main.sales s
JOIN main.order_lines l USING (order_id)
{{customer_filter}}
WHERE s.order_date <= $as_of AND l.exclude_reason IS NULL AND l.product_id IS NOT NULL AND l.quantity > 0

-- name: order_categories
-- As order_products, with the product's category as the item (lines of products without a
-- category are left out).
SELECT DISTINCT s.order_id AS tid, p.category AS item, s.customer_id, s.order_date
FROM main.sales s
JOIN main.order_lines l USING (order_id)
JOIN main.products p USING (product_id)
{{customer_filter}}
WHERE s.order_date <= $as_of AND l.exclude_reason IS NULL AND p.category IS NOT NULL AND l.quantity > 0

-- name: consumer_filter
-- Only orders of consumers (a fragment for order_products / order_categories).
JOIN main.customers c ON c.customer_id = s.customer_id AND c.customer_type = $customer_type

-- name: item_codes
-- Every distinct item of a transaction source with its integer code (1 = first in item order).
CREATE TEMP TABLE {{items}} AS
SELECT CAST(item AS VARCHAR) AS item, CAST(row_number() OVER (ORDER BY CAST(item AS VARCHAR)) AS INTEGER) AS code
FROM (SELECT DISTINCT item FROM {{source}} WHERE item IS NOT NULL)

-- name: coded_transactions
-- The source as (transaction, item code), each item once per transaction.
CREATE TEMP TABLE {{tx}} AS
SELECT DISTINCT s.tid, i.code
FROM {{source}} s JOIN {{items}} i ON CAST(s.item AS VARCHAR) = i.item

-- name: transaction_count
SELECT count(DISTINCT tid) FROM {{tx}}

-- ---------------------------------------------------------------------------- Apriori levels
-- name: item_counts
-- Level 1: in how many transactions each item is.
SELECT code, count(*) AS n FROM {{tx}} GROUP BY code ORDER BY code

-- name: keep_items
-- The transactions restricted to the items of {{keep}} (a table of codes): the next level
-- counts only what can still be frequent.
CREATE TEMP TABLE {{target}} AS
SELECT t.tid, t.code FROM {{tx}} t WHERE t.code IN (SELECT code FROM {{keep}})

-- name: pair_counts
-- Level 2: transactions holding both items of a pair (a < b), for the pairs that reach
-- $min_count. Every pair of frequent items is a candidate (its subsets, the items, are frequent).
SELECT a.code AS a, b.code AS b, count(*) AS n
FROM {{tx}} a JOIN {{tx}} b ON a.tid = b.tid AND a.code < b.code
GROUP BY a.code, b.code
HAVING count(*) >= $min_count
ORDER BY a, b

-- name: triple_counts
-- Level 3: transactions holding all three items of a candidate triple (a < b < c; the
-- candidates, whose three pairs are all frequent, are in {{candidates}}).
SELECT c.a, c.b, c.c, count(*) AS n
FROM {{tx}} x
JOIN {{tx}} y ON x.tid = y.tid AND x.code < y.code
JOIN {{candidates}} c ON c.a = x.code AND c.b = y.code
JOIN {{tx}} z ON z.tid = x.tid AND z.code = c.c
GROUP BY c.a, c.b, c.c
HAVING count(*) >= $min_count
ORDER BY c.a, c.b, c.c

-- name: itemset_counts
-- Level k > 3: candidates in long form ({{candidates}}: candidate number, item code); a
-- transaction holds a candidate when it holds all $k of its items.
SELECT cid, count(*) AS n
FROM (SELECT t.tid, c.cid FROM {{tx}} t JOIN {{candidates}} c ON c.code = t.code
      GROUP BY t.tid, c.cid HAVING count(*) = $k)
GROUP BY cid
HAVING count(*) >= $min_count
ORDER BY cid

-- ---------------------------------------------------------------------------- sequences
-- name: sequence_counts
-- "Buyers of X buy Y later": per customer the first date each item was bought and the last;
-- X then Y when Y was bought on a later date than X first was. Counted among customers with
-- at least two order dates. antecedent_customers: bought X before their last order date;
-- consequent_later: bought Y after their first order date (the baseline).
WITH ci AS (
    SELECT customer_id, item, min(order_date) AS first_d, max(order_date) AS last_d
    FROM {{source}} WHERE customer_id IS NOT NULL GROUP BY 1, 2),
cu AS (
    SELECT customer_id, min(order_date) AS first_order, max(order_date) AS last_order
    FROM {{source}} WHERE customer_id IS NOT NULL GROUP BY 1 HAVING min(order_date) < max(order_date)),
ant AS (
    SELECT ci.item, count(*) AS n FROM ci JOIN cu USING (customer_id) WHERE ci.first_d < cu.last_order GROUP BY 1),
con AS (
    SELECT ci.item, count(*) AS n FROM ci JOIN cu USING (customer_id) WHERE ci.last_d > cu.first_order GROUP BY 1),
seq AS (
    SELECT x.item AS antecedent, y.item AS consequent, count(*) AS n
    FROM ci x JOIN cu USING (customer_id) JOIN ci y ON y.customer_id = x.customer_id AND y.item <> x.item
    WHERE x.first_d < y.last_d
    GROUP BY 1, 2 HAVING count(*) >= $min_customers)
SELECT seq.antecedent, seq.consequent, seq.n AS customers, ant.n AS antecedent_customers,
       con.n AS consequent_customers, (SELECT count(*) FROM cu) AS repeat_customers
FROM seq JOIN ant ON ant.item = seq.antecedent JOIN con ON con.item = seq.consequent
ORDER BY customers DESC, antecedent, consequent

-- ---------------------------------------------------------------------------- next best offer
-- name: customer_items
-- What each customer bought (an item once per customer).
CREATE TEMP TABLE {{target}} AS
SELECT DISTINCT customer_id, CAST(item AS VARCHAR) AS item FROM {{source}} WHERE customer_id IS NOT NULL

-- name: best_offers
-- Per customer the highest-scoring rule ({{rules}}: rule, consequent, score; {{antecedents}}:
-- rule, item, size) whose antecedent items the customer all bought and whose consequent the
-- customer has not; ties go to the smaller rule number.
WITH matched AS (
    SELECT ci.customer_id, a.rule
    FROM {{antecedents}} a JOIN {{customer_items}} ci ON ci.item = a.item
    GROUP BY ci.customer_id, a.rule, a.size HAVING count(*) = a.size)
SELECT m.customer_id, r.rule, r.consequent, r.score
FROM matched m JOIN {{rules}} r USING (rule)
WHERE NOT EXISTS (SELECT 1 FROM {{customer_items}} ci WHERE ci.customer_id = m.customer_id AND ci.item = r.consequent)
QUALIFY row_number() OVER (PARTITION BY m.customer_id ORDER BY r.score DESC, r.rule) = 1
ORDER BY r.score DESC, m.customer_id

-- name: product_values
-- Price and unit margin (price - unit cost, empty without a cost) of each product.
SELECT product_id AS item, price, price - unit_cost AS margin, product_name, category FROM main.products

-- name: offer_people
-- Name and city of the customers on an offer list.
SELECT customer_id, name, city FROM main.customers

-- ---------------------------------------------------------------------------- helpers
-- name: drop_table
DROP TABLE IF EXISTS {{table}}

-- name: count_rows
SELECT count(*) FROM {{table}}

-- name: item_names
SELECT code, item FROM {{items}} ORDER BY code

-- name: planted_affinities
-- The sample's planted affinities (truth schema).
SELECT kind, antecedent, consequent, probability, orders_planted FROM truth.affinities ORDER BY kind, antecedent

-- name: product_names
SELECT product_id, product_name FROM main.products WHERE product_name IS NOT NULL

-- name: customer_count
SELECT count(DISTINCT customer_id) FROM {{table}}
