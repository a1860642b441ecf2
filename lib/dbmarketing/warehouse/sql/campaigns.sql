-- Campaigns: responses, measurement, features and selection.

-- name: in_response_window
-- Definition 2, the one definition of a response: sale {{sale}} (a relation with order_date)
-- falls in the response window of contact {{contact}} (with contact_date and window_end, the
-- first day after the window). The customer model's campaign history uses it too.
{{sale}}.order_date >= {{contact}}.contact_date AND {{sale}}.order_date < {{contact}}.window_end

-- name: campaign_list
-- The campaigns in the database with their cells' sizes, oldest first.
SELECT g.*, count(*) FILTER (WHERE c.cell = 'test') AS contacted,
       count(*) FILTER (WHERE c.cell = 'control') AS control
FROM main.campaigns g LEFT JOIN main.contacts c USING (campaign_id)
GROUP BY ALL ORDER BY g.start_date, g.campaign_id

-- name: campaign_ids
-- Every campaign's id, oldest first.
SELECT campaign_id FROM main.campaigns ORDER BY start_date, campaign_id

-- name: responses
-- One row per selected customer of the campaigns $ids contacted by $as_of, with the response
-- (definition 2: {{in_response_window}} is the statement in_response_window over s and k) as
-- known at $as_of: purchases after it are not seen.
WITH k AS (
    SELECT c.campaign_id, g.channel, c.customer_id, c.source_customer_id, c.cell, c.contact_date,
           c.contact_date + CAST(coalesce(g.response_window_days, 30) AS INTEGER) AS window_end
    FROM main.contacts c JOIN main.campaigns g USING (campaign_id)
    WHERE list_contains($ids, c.campaign_id) AND c.customer_id IS NOT NULL
      AND c.contact_date <= $as_of)
SELECT k.*, k.window_end <= $as_of + 1 AS window_closed,
       count(s.order_id) > 0 AS responded, count(s.order_id) AS response_orders,
       coalesce(sum(s.net_amount), 0) AS response_revenue, coalesce(sum(s.margin), 0) AS response_margin
FROM k LEFT JOIN main.sales s ON s.customer_id = k.customer_id AND {{in_response_window}}
     AND s.order_date <= $as_of
GROUP BY ALL ORDER BY k.campaign_id, k.customer_id

-- name: closed_campaigns
-- The campaigns whose every response window had ended by $as_of, oldest first; the campaigns
-- recorded for event triggers (ids TRG-..., chapter 06) only when $triggers.
WITH w AS (SELECT c.campaign_id, g.start_date,
                  max(c.contact_date + CAST(coalesce(g.response_window_days, 30) AS INTEGER)) AS window_end
           FROM main.contacts c JOIN main.campaigns g USING (campaign_id)
           WHERE c.customer_id IS NOT NULL GROUP BY 1, 2)
SELECT campaign_id FROM w WHERE window_end <= $as_of + 1 AND ($triggers OR campaign_id NOT LIKE 'TRG-%')
ORDER BY start_date, campaign_id

-- name: campaign_costs
SELECT campaign_id, campaign_name, channel, cost_per_contact FROM main.campaigns

-- name: campaign_starts
SELECT campaign_id, start_date FROM main.campaigns

-- name: true_uplift
-- The planted true uplift of each contact (sample database only).
SELECT campaign_id, customer_id AS source_customer_id, uplift AS true_uplift
FROM truth.campaign_response

-- name: suppressed
-- The master customers on the do-not-contact list with their reasons: for channel $channel
-- and for every channel ($channel NULL: every entry).
SELECT customer_id, string_agg(DISTINCT reason, '; ' ORDER BY reason) AS reason FROM main.suppressions
WHERE customer_id IS NOT NULL AND (channel IS NULL OR $channel IS NULL OR channel = $channel)
GROUP BY 1 ORDER BY 1

-- name: reach
-- Every customer's consents and contact points: what the contact policy's first rules read.
SELECT customer_id, consent_mail, consent_sms, consent_email, consent_phone, address, phone, email
FROM main.customers

-- name: recent_contacts
-- The test-cell contacts (the control cell was not contacted) within $days days of $as_of,
-- before or after, with their campaign's channel.
SELECT c.customer_id, g.channel, c.contact_date
FROM main.contacts c JOIN main.campaigns g USING (campaign_id)
WHERE c.cell = 'test' AND c.customer_id IS NOT NULL
  AND c.contact_date > CAST($as_of AS DATE) - CAST($days AS INTEGER)
  AND c.contact_date < CAST($as_of AS DATE) + CAST($days AS INTEGER)

-- name: contact_points
SELECT customer_id, name, phone, email, address FROM main.customers

-- name: newest_cost_per_contact
-- The cost per contact of the newest campaign of channel $channel.
SELECT cost_per_contact FROM main.campaigns WHERE channel = $channel ORDER BY start_date DESC LIMIT 1

-- name: contact_list_people
-- Name, the contact point {{point}} (a column of main.customers) and city of every customer.
SELECT customer_id, name, {{point}}, city FROM main.customers

-- name: campaign_id_taken
-- How often $campaign_id is in the loaded and in the clean campaigns.
SELECT (SELECT count(*) FROM raw.campaigns WHERE campaign_id = $campaign_id)
     + (SELECT count(*) FROM main.campaigns WHERE campaign_id = $campaign_id)

-- name: save_campaign
-- The loaded campaign $campaign_id into the clean campaigns.
INSERT INTO main.campaigns SELECT * EXCLUDE (batch_id, source_line) FROM raw.campaigns
WHERE campaign_id = $campaign_id

-- name: save_contacts
-- The loaded contacts of campaign $campaign_id into the clean contacts (each its own source customer).
INSERT INTO main.contacts (campaign_id, customer_id, cell, contact_date, source_customer_id)
SELECT campaign_id, customer_id, cell, contact_date, customer_id FROM raw.contacts
WHERE campaign_id = $campaign_id
