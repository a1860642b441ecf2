-- Campaigns: responses, measurement, features and selection.

-- name: in_response_window
-- Definition 2, the one definition of a response: sale {{sale}} (a relation with order_date)
-- falls in the response window of contact {{contact}} (with contact_date and window_end, the
-- first day after the window). The customer model's campaign history uses it too.
{{sale}}.order_date >= {{contact}}.contact_date AND {{sale}}.order_date < {{contact}}.window_end
