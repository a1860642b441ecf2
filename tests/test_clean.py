"""Cleaning: hand-made cases for the rules, and the whole run on the small sample against its planted truth."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest

from dbmarketing import cleanse, warehouse


# ----------------------------------------------------------------------------- golden records
def test_golden_record_survivorship_rules():
    t = pd.Timestamp
    records = pd.DataFrame({
        "customer_id": ["C1", "P9", "C5"],
        "source_system": ["crm", "pos", "crm"],
        "customer_type": ["consumer", "consumer", "consumer"],
        "name": ["张三", "张三", "李四"],
        "gender": ["M", None, "F"],
        "birth_date": [None, date(1980, 1, 2), None],
        "id_number": [None, "11010519800102001X", None],
        "phone": ["13800000001", "13900000002", "13700000003"],
        "phone_kind": ["mobile"] * 3,
        "email": ["a@qq.com", None, None],
        "province": ["北京", "北京", "上海"],
        "city": ["北京", "北京", "上海"],
        "address": ["old street 1", "new street 2", None],
        "signup_date": [date(2020, 5, 1), date(2018, 3, 1), date(2021, 1, 1)],
        "signup_channel": ["online", "store", "app"],
        "consent_mail": [True, None, None], "consent_sms": [True, False, None],
        "consent_email": [True, None, None], "consent_phone": [None, True, None],
        "updated_at": [t("2026-08-31"), t("2026-10-31"), t("2026-08-31")],
    })
    records["filled"] = records[cleanse.ATTRIBUTES].notna().sum(axis=1)
    clusters = pd.DataFrame({"customer_id": ["C1", "P9", "C5"], "cluster_id": [0, 0, 2],
                             "match_probability": [0.99, 0.99, None]})
    customers, cmap = cleanse.golden_records(records, clusters, run_id=7)
    # rule a: the most complete record gives the master id (of 14 attributes C1 fills 11, P9 10)
    assert records.set_index("customer_id").filled.to_dict() == {"C1": 11, "P9": 10, "C5": 6}
    assert cmap.set_index("customer_id").master_id.to_dict() == {"C1": "C1", "P9": "C1", "C5": "C5"}
    g = customers.set_index("customer_id").loc["C1"]
    # rule b: the most recent non-empty value (P9 was updated later) ...
    assert g.phone == "13900000002" and g.address == "new street 2" and not g.consent_sms and g.consent_phone
    # ... and where the recent record is empty, the older value survives
    assert g.email == "a@qq.com" and g.gender == "M" and g.consent_mail
    # rule c: earliest signup, every source system, record count
    assert g.signup_date == date(2018, 3, 1) and g.source_systems == "crm,pos" and g.records == 2
    assert len(customers) == 2 and (cmap.run_id == 7).all()
    assert pd.isna(cmap.set_index("customer_id").loc["C5", "match_probability"])


def test_clusters_are_connected_components():
    records = pd.DataFrame({"customer_id": list("ABCDE")})
    pairs = pd.DataFrame({"customer_id_l": ["A", "B", "D"], "customer_id_r": ["B", "C", "E"],
                          "match_weight": [9, 9, 1], "match_probability": [0.99, 0.95, 0.6]})
    c = cleanse.clusters_at(records, pairs, 0.9).set_index("customer_id").cluster_id
    assert c.A == c.B == c.C and c.D != c.E and c.D != c.A


# ----------------------------------------------------------------------------- transactions
@pytest.fixture
def tiny():
    con = warehouse.connect(":memory:")
    con.execute("""INSERT INTO raw.products (product_id, price, unit_cost) VALUES ('P1', 100, 40), ('P2', 10, 5)""")
    con.execute("""INSERT INTO raw.orders (order_id, customer_id, order_date, order_type, status, original_order_id) VALUES
        ('S1', 'A', DATE '2026-01-10', 'sale', 'completed', NULL),    -- 2 x P1 + repeated line + a zero-price line
        ('S2', 'B', DATE '2026-02-01', 'sale', 'completed', NULL),    -- B is a duplicate record of A
        ('R1', 'A', DATE '2026-01-20', 'return', 'completed', 'S1'),  -- returns 1 x P1 of S1
        ('S3', 'A', DATE '2026-03-01', 'sale', 'cancelled', NULL),
        ('S4', NULL, DATE '2026-03-02', 'sale', 'completed', NULL),
        ('S5', 'A', DATE '2027-03-02', 'sale', 'completed', NULL),    -- future date
        ('S6', 'A', DATE '2026-04-01', 'sale', 'completed', NULL),    -- fully returned by R2
        ('R2', 'A', DATE '2026-04-03', 'return', 'completed', 'S6'),
        ('R3', 'A', DATE '2026-04-03', 'return', 'completed', 'S3'),  -- returns a cancelled sale
        ('S7', 'Z', DATE '2026-04-05', 'sale', 'completed', NULL),    -- unknown customer
        ('S8', 'A', DATE '2026-05-01', 'sale', 'completed', NULL),    -- its only line has a zero price
        ('S9', 'A', DATE '2026-06-01', 'sale', 'completed', NULL),    -- 2 x P1 and a zero-price P2 ...
        ('R4', 'A', DATE '2026-06-10', 'return', 'completed', 'S9')   -- ... returned at the real price, and 1 x P1
    """)
    con.execute("""INSERT INTO raw.order_lines (order_id, line_no, product_id, quantity, unit_price, amount) VALUES
        ('S1', 1, 'P1', 2, 100, 200), ('S1', 2, 'P1', 2, 100, 200), ('S1', 3, 'P2', 1, 0, 0),
        ('S2', 1, 'P2', 3, 10, 30), ('S2', 2, 'P2', 30, 10, 300),
        ('R1', 1, 'P1', -1, 100, -100),
        ('S3', 1, 'P2', 1, 10, 10), ('S4', 1, 'P2', 1, 10, 10), ('S5', 1, 'P2', 1, 10, 10),
        ('S6', 1, 'P2', 2, 10, 20), ('R2', 1, 'P2', -2, 10, -20), ('R3', 1, 'P2', -1, 10, -10),
        ('S7', 1, 'P2', 1, 10, 10), ('XX', 1, 'P2', 1, 10, 10),
        ('S8', 1, 'P2', 1, 0, 0), ('S9', 1, 'P1', 2, 100, 200), ('S9', 2, 'P2', 1, 0, 0),
        ('R4', 1, 'P2', -1, 10, -10), ('R4', 2, 'P1', -1, 100, -100)""")
    for table in ("customer_map", "customers"):
        con.execute(f"CREATE TABLE main.{table} (customer_id VARCHAR, master_id VARCHAR, customer_type VARCHAR)")
    con.execute("INSERT INTO main.customer_map VALUES ('A', 'A', NULL), ('B', 'A', NULL)")
    con.execute("INSERT INTO main.customers VALUES ('A', NULL, 'consumer')")
    yield con
    con.close()


def test_transaction_rules_by_hand(tiny):
    log = cleanse.clean_transactions(tiny, date(2026, 10, 31), run_id=1, wholesale_quantity=20, wholesale_amount=5000)
    counts = {(row[2], row[3]): row[4] for row in log}
    assert counts[("anonymous order", "orders")] == 1
    assert counts[("cancelled order", "orders")] == 1
    assert counts[("future date", "orders")] == 1
    assert counts[("unknown customer", "orders")] == 1
    assert counts[("return without sale", "orders")] == 1    # R3 returns the cancelled S3
    assert counts[("fully returned", "orders")] == 1         # S6
    assert counts[("repeated line", "order_lines")] == 1
    assert counts[("non-positive price", "order_lines")] == 3    # S1, S8, S9
    assert counts[("orphan line", "order_lines")] == 1
    assert counts[("no counted lines", "orders")] == 1           # S8
    assert counts[("return of uncounted line", "order_lines")] == 1  # R4's P2: its sale line had price 0
    assert counts[("return netted", "orders")] == 3          # R1, R2 and R4
    assert counts[("wholesale size", "orders")] == 1         # S2: a line of 30 units
    assert counts[("mapped to master", "orders")] == 1       # S2 of record B now belongs to A
    sales = tiny.execute("SELECT * FROM main.sales ORDER BY order_id").df().set_index("order_id")
    assert sales.index.tolist() == ["S1", "S2", "S9"]
    # S9: 2 x 100 counted, R4 nets only the P1 it returns (100), not the P2 whose sale line was not counted
    assert (sales.loc["S9", "gross_amount"], sales.loc["S9", "net_amount"]) == (200, 100)
    s1 = sales.loc["S1"]
    # S1: 2 x 100 counted (repeat and zero-price lines dropped), 1 x 100 returned
    assert (s1.gross_amount, s1.returned_amount, s1.net_amount, s1.cost, s1.margin, s1.lines) == (200, 100, 100, 40, 60, 1)
    assert sales.loc["S2", "customer_id"] == "A" and sales.loc["S2", "source_customer_id"] == "B"
    assert bool(sales.loc["S2", "is_wholesale"])
    # nothing is lost: every raw order is in main.orders, with a reason when it is not counted
    assert tiny.execute("SELECT count(*) FROM main.orders").fetchall()[0][0] == 13
    assert tiny.execute("SELECT list(order_id) FROM main.sales_returned").fetchall()[0][0] == ["S6"]
    returns = tiny.execute("SELECT return_id, order_id, amount FROM main.returns ORDER BY 1").fetchall()
    assert returns == [("R1", "S1", 100), ("R2", "S6", 20), ("R4", "S9", 100)]


def test_sales_as_of_an_earlier_date_sees_only_the_returns_made_by_then(tiny):
    cleanse.clean_transactions(tiny, date(2026, 10, 31), run_id=1)
    warehouse.create_table(tiny, warehouse.Table("cleaning_runs", "runs", cleanse.RUN_COLUMNS))
    tiny.execute("INSERT INTO main.cleaning_runs VALUES (1, now(), now(), DATE '2026-10-31', '{}', '{}')")

    def known(as_of):
        rel = cleanse.sales_as_of(tiny, as_of)
        return rel, dict(tiny.execute(f"SELECT order_id, net_amount FROM {rel}").fetchall())

    assert known("2026-10-31") == ("main.sales", {"S1": 100, "S2": 330, "S9": 100})
    # on 15 January S1 had not been returned yet: 200; nothing else had been sold
    assert known("2026-01-15")[1] == {"S1": 200}
    # on 2 April S6 had been bought and not yet returned (R2 is of 3 April)
    assert known("2026-04-02")[1] == {"S1": 100, "S2": 330, "S6": 20}
    assert known("2026-04-03")[1] == {"S1": 100, "S2": 330}


# ----------------------------------------------------------------------------- the whole run on the small sample
@pytest.fixture(scope="module")
def cleaned(small_sample, tmp_path_factory):
    path = tmp_path_factory.mktemp("clean") / "crm.duckdb"
    shutil.copy(small_sample["db_path"], path)
    con = warehouse.connect(path)
    result = cleanse.run(con, "2026-10-31")
    yield con, result
    con.close()


def planted(con, defect):
    return con.execute("SELECT count(*) FROM truth.defects WHERE defect = ?", [defect]).fetchall()[0][0]


def test_merge_recovers_planted_duplicates(cleaned):
    con, result = cleaned
    score = cleanse.evaluate_against_truth(con)
    assert score["true_pairs"] > 20
    assert score["precision"] >= 0.97 and score["recall"] >= 0.93, score
    assert result.masters == con.execute("SELECT count(*) FROM main.customers").fetchall()[0][0]
    # every source record maps to exactly one master, and the masters are records of their own clusters
    bad = con.execute("""SELECT count(*) FROM main.customer_map m
        WHERE NOT EXISTS (SELECT 1 FROM main.customer_map x WHERE x.customer_id = m.master_id AND x.master_id = m.master_id)""").fetchall()
    assert bad[0][0] == 0


def test_cleaning_log_counts_match_planted_defects(cleaned):
    con, result = cleaned
    log = result.log.set_index(["rule", "table_name"]).rows_affected
    assert log["repeated line", "order_lines"] == planted(con, "repeated_line")
    assert log["non-positive price", "order_lines"] == planted(con, "zero_price") + planted(con, "negative_price")
    assert log["future date", "orders"] == planted(con, "future_order_date")
    assert log["anonymous order", "orders"] == planted(con, "anonymous_order")
    assert log["id upgraded 15->18", "customer_records"] == con.execute(
        "SELECT count(*) FROM raw.customers WHERE valid_to IS NULL AND length(id_number) = 15").fetchall()[0][0]
    assert log["id invalid", "customer_records"] == planted(con, "id_bad_check_digit")
    assert log["birth date vs ID", "customer_records"] == planted(con, "id_birth_mismatch")
    assert log["gender vs ID", "customer_records"] == planted(con, "id_gender_mismatch")


def test_history_is_whole_after_merging(cleaned):
    """Orders, contacts and tickets of every merged record now belong to its master."""
    con, _ = cleaned
    for table in ("orders", "contacts", "service_tickets"):
        wrong = con.execute(f"""SELECT count(*) FROM main.{table} t JOIN main.customer_map m ON t.source_customer_id = m.customer_id
                                WHERE t.customer_id <> m.master_id""").fetchall()[0][0]
        assert wrong == 0, table
    raw_orders = con.execute("SELECT count(*) FROM raw.orders").fetchall()[0][0]
    assert con.execute("SELECT count(*) FROM main.orders").fetchall()[0][0] == raw_orders


def test_scorecard_improves_and_is_kept_per_run(cleaned):
    con, result = cleaned
    s = con.execute("SELECT stage, table_name, column_name, dimension, score FROM main.quality_scores WHERE run_id = ?",
                    [result.run_id]).df().pivot_table(index=["table_name", "column_name", "dimension"], columns="stage", values="score")
    assert s.loc[("customers", "id_number", "validity"), "after"] == 1.0
    assert s.loc[("customers", "id_number", "validity"), "before"] < 0.9  # the 15-digit numbers
    assert s.loc[("customers", "phone", "uniqueness"), "after"] > s.loc[("customers", "phone", "uniqueness"), "before"]
    assert s.loc[("order_lines", "*", "uniqueness"), "after"] == 1.0


def test_keep_apart_undoes_a_merge(cleaned, tmp_path):
    con, _ = cleaned
    cluster = con.execute("""SELECT master_id, list(customer_id ORDER BY customer_id) FROM main.customer_map
                             WHERE cluster_size = 2 GROUP BY 1 ORDER BY 1 LIMIT 1""").fetchall()[0]
    master, members = cluster
    other = [m for m in members if m != master][0]
    path = tmp_path / "apart.duckdb"
    con.execute(f"CHECKPOINT")
    shutil.copy(con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0], path)
    c2 = warehouse.connect(path)
    runs = c2.execute("SELECT count(*) FROM main.cleaning_runs").fetchall()[0][0]  # other tests may have run it too
    cleanse.keep_apart(c2, [other], "reviewer: different people")
    cleanse.run(c2, "2026-10-31")
    m = c2.execute("SELECT customer_id, master_id FROM main.customer_map WHERE customer_id IN (?, ?)", [master, other]).fetchall()
    assert dict(m) == {master: master, other: other}
    assert c2.execute("SELECT count(*) FROM main.cleaning_runs").fetchall()[0][0] == runs + 1
    # the first run's mapping is kept: the merge can be audited and restored
    history = c2.execute("SELECT run_id, master_id FROM main.customer_map_history WHERE customer_id = ? ORDER BY 1",
                         [other]).fetchall()
    assert [h[1] for h in history[-2:]] == [master, other]
    c2.close()


def test_city_matching_to_the_reference_table():
    cities = pd.DataFrame({"city": ["北京", "苏州", "宿州", "郑州"], "city_en": ["Beijing", "Suzhou", "Suzhou", "Zhengzhou"],
                           "province": ["北京", "江苏", "安徽", "河南"]})
    raw = pd.Series(["北京市", "Beijing", " ＢＥＩＪＩＮＧ ", "Suzhou", "Suzhou", "郑州市", "Atlantis", None])
    province = pd.Series(["北京", "北京", "北京", "江苏", "安徽", "河南", "河南", None])
    city, note = cleanse.records._match_cities(raw, province, cities)
    assert city.tolist()[:6] == ["北京", "北京", "北京", "苏州", "宿州", "郑州"]  # Suzhou decided by province
    assert city[6] == "Atlantis" and note[6] == "not in the city reference table"
    assert city[7] is None and note[:6].isna().all()


def test_customary_latin_names_match_the_shipped_reference():
    """Names foreign systems write (Harbin, Ürümqi, Kashgar, Peking, Xian) are the cities of the
    shipped reference, whose pinyin spells them Ha'erbin, Wulumuqi, Kashi, Beijing, Xi'an."""
    from dbmarketing import cleanse

    raw = pd.Series(["Harbin", "URUMQI", "Ürümqi", "kashgar", "Peking", "Xian", "XI AN", "Ha-erbin", "Lhasa City"])
    city, note = cleanse.records._match_cities(raw, pd.Series([None] * len(raw)), cleanse.china_cities())
    assert city.tolist() == ["哈尔滨", "乌鲁木齐", "乌鲁木齐", "喀什", "北京", "西安", "西安", "哈尔滨", "拉萨"]
    assert note.isna().all()


# ----------------------------------------------------------------------------- training the match model
def test_training_skips_a_session_whose_m_collapses_and_says_why():
    """EM that drives a level's m to 0 (splink raises) skips that session; the next ones train."""

    class Training:
        def __init__(self):
            self.calls = []

        def estimate_parameters_using_expectation_maximisation(self, rule):
            sql = rule.get_blocking_rule("duckdb").blocking_rule_sql
            self.calls.append(sql)
            if '"phone"' in sql:
                FakeLinker._settings_obj._probability_two_random_records_match = 0.9  # as splink leaves it
                raise ValueError("m_probability value 0.0 is below the minimum allowed value of 1e-300.")

    class Settings:
        _probability_two_random_records_match = 0.001

    class FakeLinker:
        training = Training()
        _settings_obj = Settings()

    sessions, untrained = cleanse.matching._train_m(FakeLinker)
    assert FakeLinker._settings_obj._probability_two_random_records_match == 0.001  # a failed session keeps the prior
    assert [s["status"] for s in sessions] == ["skipped", "trained", "trained"]
    assert "fell to 0" in sessions[0]["reason"]
    # phone is trained by the ID-number session, ID number by the name + birth date session
    assert "phone" in sessions[1]["trained"] and "id_number" in sessions[2]["trained"]
    assert untrained == [] and len(FakeLinker.training.calls) == 3


def test_training_without_phones_skips_the_phone_session(small_sample, tmp_path):
    path = tmp_path / "crm.duckdb"
    shutil.copy(small_sample["db_path"], path)
    con = warehouse.connect(path)
    records, _, _ = cleanse.standardize_customers(con)
    con.close()
    pairs, model = cleanse.find_duplicates(records.assign(phone=None))
    first = model["training_sessions"][0]
    assert first["blocked_on"] == "phone" and first["status"] == "skipped" and "no pairs" in first["reason"]
    assert model["untrained_comparisons"] == []
    assert len(pairs) > 0


# ----------------------------------------------------------------------------- rules around the model
def test_same_id_number_links_records_whatever_the_model_says():
    records = pd.DataFrame({"customer_id": ["A", "B", "C", "D", "E"],
                            "id_number": ["11010519491231002X", "11010519491231002X", "440524188001010014", None,
                                          "440524188001010014"]})
    pairs = pd.DataFrame({"customer_id_l": ["A", "C"], "customer_id_r": ["B", "D"],
                          "match_weight": [-2.0, 9.0], "match_probability": [0.2, 0.999]})
    rule = cleanse.same_id_pairs(records)
    assert sorted(map(tuple, rule.to_numpy())) == [("A", "B"), ("C", "E")]
    c = cleanse.clusters_at(records, pairs, 0.9, rule).set_index("customer_id")
    # A-B: the model says 0.2, the shared ID number links them; C-D by the model, C-E by the rule
    assert c.cluster_id.A == c.cluster_id.B and c.cluster_id.C == c.cluster_id.D == c.cluster_id.E
    assert c.linked_by.to_dict() == {"A": "same ID number", "B": "same ID number", "C": "model", "D": "model",
                                     "E": "same ID number"}
    # a reviewer's keep-apart decision beats the rule
    apart = cleanse.clusters_at(records, pairs, 0.9, cleanse.same_id_pairs(records, {"B"})).set_index("customer_id")
    assert apart.cluster_id.A != apart.cluster_id.B


def test_reconciliation_accounts_for_every_order_and_line(tiny):
    cleanse.clean_transactions(tiny, date(2026, 10, 31), run_id=1)
    r = cleanse.reconciliation(tiny).set_index("step")
    # 13 orders = 3 sales (S1 S2 S9) + 3 returns netted (R1 R2 R4) + 7 left out (S3 S4 S5 S6 S7 S8 R3)
    assert tuple(r.loc["orders -> sales and returns", ["rows_in", "rows_out", "left_out"]]) == (13, 6, 7)
    # 19 lines = 13 counted + 6 left out (repeat, 3 zero prices, the orphan, R4's uncounted P2)
    assert tuple(r.loc["order lines", ["rows_in", "rows_out", "left_out"]]) == (19, 13, 6)
    assert r.loc["orders -> sales and returns", "balanced"] and r.loc["order lines", "balanced"]
    money = cleanse.money_flow(tiny).set_index("what")
    assert money.loc["customer sales (main.sales)", "net_amount"] == 100 + 330 + 100
    assert money.loc["anonymous sales (not in customer metrics)", "gross_amount"] == 10  # S4


# a finding names a kind of problem: no run of 3+ digits (a number, a prefix, a date), no '@', no domain
VALUE_LIKE = r"\d{3,}|@|[a-z0-9-]+\.[a-z]{2,}"


def test_findings_keep_personal_values_out_of_the_text(cleaned):
    con, _ = cleaned
    rows = con.execute("""SELECT finding, raw_value, derived_value FROM main.quality_findings
                          WHERE column_name = 'birth_date'""").fetchall()
    assert rows and all(not any(ch.isdigit() for ch in f) for f, _, _ in rows)
    assert all(len(d) == 10 and d != r for _, r, d in rows)  # the ID number's birth date, e.g. 1990-03-07
    tiers = warehouse.privacy_tiers(con, "quality_findings")
    assert tiers["finding"] == 1 and tiers["derived_value"] == 4 and tiers["raw_value"] == 4
    findings = con.execute("SELECT column_name, finding, raw_value, derived_value FROM main.quality_findings").df()
    leaking = findings[findings.finding.str.contains(VALUE_LIKE, case=False, regex=True)]
    assert leaking.empty, leaking.finding.unique()[:5]


DEFECT_COLUMN = {"id_bad_check_digit": "id_number", "email_domain_typo": "email", "invalid_phone": "phone"}


def planted_current(con, defect):
    """Planted customer defects still in the record's current version: a later export may have
    corrected the value (the CRM update file replaces a member's row), or carried it over
    unchanged into a new version when another field changed."""
    column = DEFECT_COLUMN[defect]
    return con.execute(f"""
        SELECT count(*) FROM truth.defects d
        JOIN raw.customers o ON o.customer_id = d.record_key AND o.source_line = d.source_line
        JOIN main.load_batches b ON b.batch_id = o.batch_id AND b.path LIKE '%/' || d.source_file
        JOIN raw.customers c ON c.customer_id = d.record_key AND c.valid_to IS NULL
        WHERE d.defect = ? AND c.{column} IS NOT DISTINCT FROM o.{column}""", [defect]).fetchall()[0][0]


def test_findings_count_by_kind_with_the_specifics_kept_apart(cleaned):
    """Findings group into a few kinds, one count per planted defect; the part at fault (the
    check digit, the mistyped domain) is in derived_value, checked here against the raw value."""
    con, _ = cleaned
    f = con.execute("SELECT column_name, finding, raw_value, derived_value FROM main.quality_findings").df()
    kinds = f.groupby(["column_name", "finding"]).size()
    assert len(kinds) <= 12, kinds  # kinds, not one line per value
    # every planted bad check digit is one "wrong check digit" finding, its detail the digit and the right one
    ids = f[f.column_name == "id_number"]
    assert (ids.finding == "wrong check digit").sum() == planted_current(con, "id_bad_check_digit") > 0
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for raw, detail in ids[ids.finding == "wrong check digit"][["raw_value", "derived_value"]].itertuples(index=False):
        right = "10X98765432"[sum(int(d) * w for d, w in zip(raw[:17], weights)) % 11]
        assert detail == f"check digit {raw[17].upper()} should be {right}"
    emails = f[f.column_name == "email"]
    typos = emails[emails.finding == "domain looks like a typo of a common domain"]
    assert len(typos) == planted_current(con, "email_domain_typo") > 0
    for raw, detail in typos[["raw_value", "derived_value"]].itertuples(index=False):
        assert detail.startswith(raw.strip().lower().rsplit("@", 1)[1] + " -> ")
    phones = f[f.column_name == "phone"]
    assert len(phones) == planted_current(con, "invalid_phone") > 0
    assert set(phones.finding) <= {"mobile prefix does not exist", "not a mobile or landline number (wrong number of digits)"}
    prefix = phones[phones.finding == "mobile prefix does not exist"]
    assert len(prefix) and all(d == f"mobile prefix {r[:3]}" for r, d in prefix[["raw_value", "derived_value"]].itertuples(index=False))


def test_scorecard_covers_every_table_and_measures_timeliness(cleaned):
    con, result = cleaned
    s = con.execute("SELECT * FROM main.quality_scores WHERE run_id = ?", [result.run_id]).df()
    assert {"customers", "orders", "order_lines", "contacts", "service_tickets", "products"} <= set(s.table_name)
    # customers: last update = start of the current version if a later export changed the record, else signup
    expected = con.execute("""
        WITH v AS (SELECT customer_id, count(*) AS n FROM raw.customers GROUP BY 1)
        SELECT avg(CAST(CAST(CASE WHEN v.n > 1 OR c.signup_date IS NULL THEN c.valid_from ELSE c.signup_date END AS DATE)
                        >= DATE '2026-10-31' - 365 AS DOUBLE))
        FROM raw.customers c JOIN v USING (customer_id) WHERE c.valid_to IS NULL""").fetchall()[0][0]
    before = s[(s.stage == "before") & (s.table_name == "customers") & (s.dimension == "timeliness")]
    assert before.score.iloc[0] == pytest.approx(expected, abs=1e-4)
    assert 0.1 < expected < 0.9  # a real measurement, not every record fresh
    orders = s[(s.stage == "after") & (s.table_name == "orders") & (s.dimension == "timeliness")]
    assert "days before 2026-10-31" in orders.detail.iloc[0]


def test_id_upgrade_story_and_match_weight_flags(cleaned):
    con, result = cleaned
    story = cleanse.id_upgrade_story(con)
    assert story["legacy_15_digit"] == con.execute(
        "SELECT count(*) FROM raw.customers WHERE valid_to IS NULL AND length(id_number) = 15").fetchall()[0][0]
    assert story["same_number_as_another_record"] > 0
    assert story["merged_into_one_customer"] == story["same_number_as_another_record"]  # the ID rule
    import json
    model = json.loads(con.execute("SELECT model FROM main.cleaning_runs WHERE run_id = ?", [result.run_id]).fetchall()[0][0])
    trained = {(c["output_column_name"], lv["label_for_charts"]) for c in model["comparisons"]
               for lv in c["comparison_levels"] if "m_probability" in lv}
    w = cleanse.match_weights(con, result.run_id)
    w = w[w.comparison != "prior"]
    assert {(c, lv) for c, lv, est in w[["comparison", "level", "m_estimated"]].itertuples(index=False) if est} == trained


def test_borderline_pairs_straddle_the_threshold(cleaned):
    con, _ = cleaned
    b = cleanse.borderline_pairs(con, 0.9, n=6)
    pairs = b.drop_duplicates("pair")
    assert (pairs.match_probability < 0.9).sum() <= 3 and (pairs.match_probability >= 0.9).sum() <= 3
    assert (b.groupby("pair").size() == 2).all()
    merged = pairs[pairs.match_probability >= 0.9]
    assert (merged.decision == "merged").all()


def test_do_not_contact_entries_resolve_to_the_right_person(cleaned):
    """Every entry of the planted list that names a person reaches that person's master (or
    nobody, when the person's records do not hold the listed phone or e-mail); registry numbers
    of people who are not customers match nobody; customer-number entries always match."""
    con, result = cleaned
    rows = con.execute("""
        WITH e AS (SELECT row_number() OVER (ORDER BY batch_id, source_line) AS entry, source_line FROM raw.suppressions),
        persons AS (SELECT cm.master_id, tr.person_id FROM main.customer_map cm JOIN truth.customer_records tr USING (customer_id))
        SELECT t.kind, t.person_id, s.customer_id, s.matched_by,
               s.customer_id IN (SELECT master_id FROM persons p WHERE p.person_id = t.person_id) AS right_person
        FROM truth.suppressions t JOIN e ON e.source_line = t.line JOIN main.suppressions s USING (entry)""").df()
    assert len(rows) >= con.execute("SELECT count(*) FROM raw.suppressions").fetchall()[0][0]
    matched = rows[rows.customer_id.notna()]
    assert matched.right_person.all()
    assert rows[rows.person_id.isna()].customer_id.isna().all()
    complaint = rows[rows.kind == "complaint"]
    assert len(complaint) and complaint.customer_id.notna().all() and (complaint.matched_by == "customer number").all()
    phone = rows[rows.kind == "registry"].dropna(subset=["person_id"])
    assert phone.customer_id.notna().mean() > 0.8  # "+86 138 ..." found the customers' standardized phones
    log = result.log.set_index("rule").rows_affected
    assert log["do-not-contact entries"] == con.execute("SELECT count(*) FROM raw.suppressions").fetchall()[0][0]
    # an entry matching nobody is one row with an empty customer
    assert log["do-not-contact unmatched"] == int(rows.customer_id.isna().sum())


def test_borderline_summary_counts_pairs_on_each_side_of_the_threshold():
    con = warehouse.connect(":memory:")
    con.execute("CREATE TABLE main.match_pairs (customer_id_l VARCHAR, customer_id_r VARCHAR, match_weight DOUBLE, "
                "match_probability DOUBLE)")
    probabilities = [0.02, 0.5, 0.89, 0.9, 0.95, 0.995, 1.0]
    con.executemany("INSERT INTO main.match_pairs VALUES (?, ?, 0, ?)", [[f"L{i}", f"R{i}", p] for i, p in enumerate(probabilities)])
    s = cleanse.borderline_summary(con, 0.9, sure=0.99)
    # below 0.9: 0.02 0.5 0.89; from 0.9 to below 0.99: 0.9 0.95; 0.99 or more: 0.995 1.0
    assert (s["pairs"], s["below"], s["just_above"], s["sure_pairs"]) == (7, 3, 2, 2)
    assert (s["highest_below"], s["lowest_above"]) == (0.89, 0.9)
    assert s["min_probability"] == 0.01  # what find_duplicates keeps by default
    none_below = cleanse.borderline_summary(con, 0.01)
    assert none_below["below"] == 0 and none_below["highest_below"] is None and none_below["lowest_above"] == 0.02
    con.close()


def test_scorecard_summary_lists_what_cleaning_raised_and_what_stays_low():
    rows = [  # table, column, dimension, before, after, detail (after)
        ("customers", "province", "validity", 0.40, 1.00, None),
        ("customers", "phone", "validity", 0.90, 1.00, None),
        ("customers", "email", "completeness", 0.50, 0.55, None),
        ("customers", "*", "timeliness", 0.40, 0.40, "records updated within 365 days"),
        ("contacts", "*", "timeliness", 0.90, 0.90, "newest contact_date 2026-09-17: 44 days before 2026-10-31"),
        ("orders", "order_id", "uniqueness", 1.00, 1.00, None),
    ]
    scores = pd.DataFrame([(stage, t, c, d, score, detail if stage == "after" else None)
                           for t, c, d, before, after, detail in rows
                           for stage, score in (("before", before), ("after", after))],
                          columns=["stage", "table_name", "column_name", "dimension", "score", "detail"])
    s = cleanse.scorecard_summary(scores, n=2)
    assert s.improved.field.tolist() == ["customers.province", "customers.phone"]
    assert s.improved.change.round(2).tolist() == [0.60, 0.10]
    low = cleanse.scorecard_summary(scores, n=3).lowest
    assert list(zip(low.field, low.dimension, low["after"])) == [
        ("customers.*", "timeliness", 0.40), ("customers.email", "completeness", 0.55), ("contacts.*", "timeliness", 0.90)]
    assert low.detail.tolist() == ["records updated within 365 days", "",
                                   "newest contact_date 2026-09-17: 44 days before 2026-10-31"]
    # customer records age; a table's newest row is late: two different meanings of timeliness
    assert "confirming their details" in low.meaning[0] and "check the feed" in low.meaning[2]
    assert "collect it" in low.meaning[1]


def test_common_names_weigh_less_than_rare_ones():
    """A name's frequency is its surname's share times its given name's share in the file:
    in ten records, 周 and 静 each appear 3 times (3/10 x 3/10), 欧阳 and 娜娜 once
    (1/10 x 1/10), although each full name appears once. A compound surname is one surname."""
    names = pd.Series(["周静", "周伟", "周敏", "王静", "李静", "欧阳娜娜", "张三丰", "赵四", "钱五", "孙六"])
    tf = cleanse.name_frequencies(names).set_index("name").tf_name
    assert tf["周静"] == pytest.approx(0.09) and tf["欧阳娜娜"] == pytest.approx(0.01)
    assert tf["张三丰"] == pytest.approx(0.01)  # 张 once, 三丰 once
    latin = cleanse.name_frequencies(pd.Series(["Mary Smith", "John Smith", "Mary Jones", None])).set_index("name").tf_name
    assert latin["Mary Smith"] == pytest.approx(4 / 9) and latin["John Smith"] == pytest.approx(2 / 9)
