from dbmarketing import customers, db


def test_four_customer_types_hand_made():
    con = db.connect(":memory:")
    con.execute("""INSERT INTO raw.customers (customer_id, customer_type, signup_date, source_system, valid_from, valid_to) VALUES
        ('A', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- bought 10 days ago -> current
        ('B', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- bought 400 days ago -> lapsed
        ('C', 'consumer', DATE '2024-01-01', 'pos', now(), NULL),      -- never bought -> potential
        ('D', 'distributor', DATE '2024-01-01', 'dist', now(), NULL),  -- distributor whatever its recency
        ('E', 'consumer', DATE '2026-12-01', 'crm', now(), NULL),      -- signed up after as_of -> not counted
        ('F', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- only a cancelled order and a return -> potential
        ('G', 'consumer', DATE '2024-01-01', 'crm', now(), NULL),      -- only bought after as_of -> potential
        ('A', 'consumer', DATE '2024-01-01', 'crm', now() - INTERVAL 9 DAY, now())  -- an old version, ignored
    """)
    con.execute("""INSERT INTO raw.orders (order_id, customer_id, order_date, order_type, status) VALUES
        ('1', 'A', DATE '2026-10-21', 'sale', 'completed'),
        ('2', 'B', DATE '2025-09-26', 'sale', 'completed'),
        ('3', 'D', DATE '2020-01-01', 'sale', 'completed'),
        ('4', 'F', DATE '2026-10-01', 'sale', 'cancelled'),
        ('5', 'F', DATE '2026-10-02', 'return', 'completed'),
        ('6', 'G', DATE '2026-11-02', 'sale', 'completed'),
        ('7', NULL, DATE '2026-10-02', 'sale', 'completed')""")
    t = customers.customer_types(con, "2026-10-31", active_days=365).set_index("customer_id")
    assert t.customer_type4.to_dict() == {"A": "current", "B": "lapsed", "C": "potential", "D": "distributor",
                                          "F": "potential", "G": "potential"}
    assert t.loc["A", "orders"] == 1 and t.loc["C", "orders"] == 0
    # the boundary: 2025-10-31 is 365 days before as_of; a purchase on it is no longer current
    con.execute("UPDATE raw.orders SET order_date = DATE '2025-11-01' WHERE order_id = '2'")
    assert customers.customer_types(con, "2026-10-31", 365).set_index("customer_id").loc["B", "customer_type4"] == "current"
    con.execute("UPDATE raw.orders SET order_date = DATE '2025-10-31' WHERE order_id = '2'")
    assert customers.customer_types(con, "2026-10-31", 365).set_index("customer_id").loc["B", "customer_type4"] == "lapsed"
