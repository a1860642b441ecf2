-- Event triggers (notebook 06): the customer-level facts the trigger rules read, and the
-- campaigns a scheduled run recorded for them.

-- name: purchase_facts
-- Each buyer's purchases in {{sales}} (the purchases as known at $as_of) up to $as_of:
-- first and last purchase day, number of purchase days, and the net amount of the first day.
SELECT customer_id,
       min(order_date) AS first_purchase,
       max(order_date) AS last_purchase,
       count(DISTINCT order_date) AS purchase_days,
       sum(net_amount) FILTER (WHERE order_date = first_day) AS first_amount
FROM (SELECT customer_id, order_date, net_amount,
             min(order_date) OVER (PARTITION BY customer_id) AS first_day
      FROM {{sales}} WHERE customer_id IS NOT NULL AND order_date <= $as_of) s
GROUP BY customer_id
ORDER BY customer_id

-- name: complaints_closed
-- Complaints closed after $previous up to $as_of with a satisfaction of $max_satisfaction or
-- less (the lowest closing score per customer, the latest closing date).
SELECT customer_id, max(closed_date) AS event_date, min(satisfaction) AS signal
FROM main.service_tickets
WHERE ticket_type = 'complaint' AND customer_id IS NOT NULL
  AND closed_date > $previous AND closed_date <= $as_of AND satisfaction <= $max_satisfaction
GROUP BY customer_id
ORDER BY customer_id

-- name: date_next_month
-- Customers whose {{column}} (a birth or signup date) falls in month $month of an earlier year
-- than $first_day (the first day of that month): the date it comes round, and the years.
SELECT customer_id,
       make_date(year(CAST($first_day AS DATE)), month({{column}}), least(day({{column}}),
                 day(last_day(CAST($first_day AS DATE))))) AS event_date,
       year(CAST($first_day AS DATE)) - year({{column}}) AS signal
FROM main.customers
WHERE {{column}} IS NOT NULL AND month({{column}}) = $month AND year({{column}}) < year(CAST($first_day AS DATE))
ORDER BY customer_id

-- name: profile
-- The short profile a trigger list shows beside each customer.
SELECT customer_id, name, phone, email, city, customer_type, signup_date,
       consent_mail, consent_sms, consent_email, consent_phone
FROM main.customers

-- name: trigger_campaigns
-- The campaigns a scheduled run recorded for triggers (ids TRG-<trigger>-<yyyymmdd>), oldest first.
SELECT campaign_id, start_date FROM main.campaigns WHERE campaign_id LIKE 'TRG-%' ORDER BY start_date, campaign_id

-- name: closed_dates_known
-- How many tickets of main.service_tickets have a closing date (0: none, or the column is
-- missing because the database was cleaned before tickets had one).
SELECT CASE WHEN EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'main'
                         AND table_name = 'service_tickets' AND column_name = 'closed_date')
            THEN 1 ELSE 0 END

-- name: planted_effects
-- The sample's planted effect of each trigger (absolute lift of the response rate).
SELECT trigger, planted_lift FROM truth.trigger_effects ORDER BY trigger
