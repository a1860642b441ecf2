"""The round trip through Spark SQL (tests/portable.py) catches a rewrite that changes a
statement's meaning. Every named SQL statement the chapters run is checked by it in the English
run of tests/test_notebooks.py (its kernels run the check: the chapters are not run again here),
and what the chapters do not run (a sample loaded into an empty database, an analyst copy) in
that file's ``statements`` fixture."""

from __future__ import annotations

from portable import _round_trip, _rows


def test_the_round_trip_catches_a_changed_meaning():
    # the case the issue found: with USING, sqlglot resolves c.customer_id to m's column when it
    # rewrites QUALIFY for Spark; two contacts of unmapped customers then share one partition
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE contacts AS SELECT * FROM (VALUES ('K1', 'a', 1), ('K1', 'b', 2)) t(campaign_id, customer_id, source_line)")
    con.execute("CREATE TABLE customer_map (customer_id VARCHAR, master_id VARCHAR)")  # nobody mapped
    text = ("SELECT c.campaign_id, m.master_id AS customer_id, c.customer_id AS source_customer_id "
            "FROM contacts c LEFT JOIN customer_map m USING (customer_id) "
            "QUALIFY row_number() OVER (PARTITION BY c.campaign_id, coalesce(m.master_id, c.customer_id) "
            "ORDER BY c.source_line) = 1")
    want = _rows(con.execute(text).df())
    assert want == [("K1", "<null>", "a"), ("K1", "<null>", "b")]
    assert _rows(con.execute(_round_trip(text)).df()) != want
