"""The prospect data: the sample's rented prospect list and its acquisition test (sample/prospects.py),
loaded through the sources file and cleaned into main.prospect_list and main.acquisition_contacts
(cleanse/prospects.py), checked against the planted truth and hand-made cases."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dbmarketing import cleanse, ingest, sample, warehouse
from dbmarketing.campaigns import compare_cells
from dbmarketing.campaigns.measurement import _age_band
from dbmarketing.cleanse import standardize as st

ROOT = Path(__file__).resolve().parents[1]
N = 6000
PROSPECT_SOURCES = ("prospect_list", "acquisition_contacts")


def _sources(raw: Path, root: Path, leave_out=()) -> Path:
    spec = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
    spec["base_dir"] = str(raw)
    spec["sources"] = [s for s in spec["sources"] if s["name"] not in leave_out]
    path = root / f"sources{'_without' if leave_out else ''}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A zh_CN sample loaded through params/sources/sample.yaml and cleaned: (raw folder, connection)."""
    root = tmp_path_factory.mktemp("prospect_data")
    raw, db = root / "raw", root / "crm.duckdb"
    sample.generate(raw, db_path=db, n_customers=N, years=3, seed=11)
    con = warehouse.connect(db)
    ingest.load_sources(con, _sources(raw, root))
    cleanse.run(con)
    yield raw, con
    con.close()


def _df(con, query: str) -> pd.DataFrame:
    return con.sql(query).df()


def test_list_is_a_gbk_file_with_chinese_headers(built):
    raw, _ = built
    data = (raw / "prospect_list.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    header = data.decode("gbk").split("\r\n", 1)[0].split(",")
    assert header[:3] == ["名单编号", "名单来源", "姓名"]


def test_every_row_is_loaded_or_rejected_with_its_reason(built):
    raw, con = built
    lines = pd.read_csv(raw / "prospect_list.csv", encoding="gbk", dtype=str, keep_default_na=False)
    assert 0.38 * N <= len(lines) <= 0.42 * N + 10
    batch = _df(con, "SELECT * FROM main.load_batches WHERE table_name = 'prospect_list'").iloc[0]
    assert batch.rows_read == len(lines)
    assert batch.rows_read == batch.rows_loaded + batch.rows_rejected
    rejects = _df(con, f"SELECT line_no, reason FROM main.rejects WHERE batch_id = {int(batch.batch_id)}")
    planted = _df(con, "SELECT * FROM truth.prospect_rejects")
    assert set(rejects.line_no) == set(planted.source_line)
    assert rejects.reason.str.len().gt(0).all()
    kinds = dict(zip(planted.source_line, planted.kind))
    for line, reason in zip(rejects.line_no, rejects.reason):
        expected = {"missing_list_id": "list_id is empty", "bad_date": "not a date",
                    "repeated_row": "duplicate key"}[kinds[line]]
        assert expected in reason, (line, reason)
    loaded = set(_df(con, "SELECT list_id FROM main.prospect_list").list_id)
    assert len(loaded) == batch.rows_loaded
    # every line of the file: its id is in the clean list, or its line is a reject
    for line, list_id in enumerate(lines["名单编号"], start=2):
        assert list_id in loaded or line in kinds, (line, list_id)


def test_existing_customers_are_matched_and_no_one_else(built):
    _, con = built
    m = _df(con, """
        SELECT t.list_id, t.already_customer, t.person_id, p.customer_id, p.matched_by, r.person_id AS matched_person
        FROM truth.prospect_propensity t JOIN main.prospect_list p USING (list_id)
        LEFT JOIN truth.customer_records r ON r.customer_id = p.customer_id""")
    customers = m[m.already_customer]
    assert 0.08 <= len(customers) / len(m) <= 0.12
    recall = customers.customer_id.notna().mean()
    assert recall >= 0.95, recall
    assert m.loc[~m.already_customer, "customer_id"].isna().all()  # no stranger matched
    hit = customers[customers.customer_id.notna()]
    assert (hit.matched_person == hit.person_id).all()  # the right person
    assert set(hit.matched_by) == {"phone", "email"}
    log = _df(con, "SELECT rule, rows_affected FROM main.cleaning_log WHERE step = 'prospects' "
                   "AND run_id = (SELECT max(run_id) FROM main.cleaning_runs)")
    counted = dict(zip(log.rule, log.rows_affected))
    assert counted["already a customer (phone)"] == (m.matched_by == "phone").sum()
    assert counted["already a customer (email)"] == (m.matched_by == "email").sum()


def test_a_shared_name_is_no_match_hand_made():
    """Two customers called 王芳 with their own phones; a list row 王芳 with a third phone is
    nobody. Matching goes by phone first, then e-mail; a phone two customers share matches neither."""
    phone = lambda s: st.parse_phone(s).value  # noqa: E731
    email = lambda s: st.parse_email(s).value  # noqa: E731
    customers = pd.DataFrame({
        "customer_id": ["C1", "C2", "C2", "C3", "C4"],
        "name": ["王芳", "王芳", "王芳", "李强", "张伟"],
        "phone": [phone("13800000001"), phone("13900000002"), None, phone("13700000003"), phone("13700000003")],
        "email": [email("wf@163.com"), email("wang.fang@qq.com"), email("wf2@126.com"), email("lq@sina.com"),
                  email("zw@sina.com")],
    })
    prospects = pd.DataFrame({
        "name": ["王芳", "王 芳", "王女士", "李先生", "Nobody"],
        "phone": [phone("13600000009"), phone("+86 139 0000 0002"), phone("13600000010"), phone("137-0000-0003"),
                  None],
        "email": [email("other@163.com"), None, email("WF2@126.com"), email("lq@sina.com"), email("x@y.com")],
    }, index=[10, 11, 12, 13, 14])
    got = cleanse.match_prospects(prospects, customers)
    assert list(got.index) == [10, 11, 12, 13, 14]
    assert got.customer_id.fillna("-").tolist() == ["-", "C2", "C2", "C3", "-"]
    assert got.matched_by.fillna("-").tolist() == ["-", "phone", "email", "email", "-"]  # 13: a shared phone is no match


def test_do_not_contact_flags_exactly_the_planted_rows(built):
    _, con = built
    m = _df(con, "SELECT t.on_do_not_contact, p.do_not_contact FROM truth.prospect_propensity t "
                 "JOIN main.prospect_list p USING (list_id)")
    assert m.on_do_not_contact.sum() >= 0.01 * len(m)
    assert (m.on_do_not_contact == m.do_not_contact).all()


def test_attributes_use_the_shared_labels_and_join_the_city_table(built):
    _, con = built
    p = _df(con, "SELECT p.*, c.city_tier FROM main.prospect_list p LEFT JOIN main.cities c USING (city)")
    shared = set(_age_band(pd.Series([20.0, 30.0, 40.0, 50.0, 60.0, 70.0])))
    assert set(p.age_band) == shared
    assert set(p.gender) == {"F", "M"}
    assert set(p.income_band) == {"under 5k", "5k-10k", "10k-20k", "20k+"}
    assert set(p.channel) == {"sms", "email", "direct_mail"}
    assert p.city_tier.notna().all()
    assert p.phone.str.fullmatch(r"1\d{10}").all()  # standardized like the customers' mobiles
    for c in ("consent_sms", "consent_email", "consent_mail"):
        assert 0.02 <= p[c].isna().mean() <= 0.12  # some consents left empty by the vendor
    truth = _df(con, "SELECT list_id, age_band, city_tier FROM truth.prospect_propensity")
    both = p.merge(truth, on="list_id", suffixes=("", "_true"))
    assert (both.age_band == both.age_band_true).all() and (both.city_tier == both.city_tier_true).all()


def test_acquisition_lift_holds_the_planted_lift(built):
    _, con = built
    a = _df(con, """SELECT a.*, t.propensity, t.baseline, t.already_customer
                    FROM main.acquisition_contacts a JOIN truth.prospect_propensity t USING (list_id)""")
    assert set(a.campaign_id) == {"ACQ01"} and a.response_window_days.eq(60).all()
    assert not a.already_customer.any()
    assert 0.18 <= (a.cell == "control").mean() <= 0.22
    test, control = a[a.cell == "test"], a[a.cell == "control"]
    assert 0.05 <= test.propensity.mean() <= 0.08 and 0.01 <= control.baseline.mean() <= 0.02
    r = compare_cells(int(test.responded.sum()), len(test), int(control.responded.sum()), len(control))
    planted = float((a.propensity - a.baseline).mean())
    assert r["lift_low"] <= planted <= r["lift_high"], (r["lift_low"], planted, r["lift_high"])
    assert a.first_order_amount.notna().eq(a.responded).all()
    assert (a.first_order_amount.dropna() > 0).all()


def test_lift_interval_covers_the_planted_lift_over_seeds():
    """The acquisition test's planting redrawn with ten seeds on one simulated world: the measured
    lift is unbiased (mean within 3 standard errors of the planted) and the 95% intervals hold
    the planted lift in at least 8 of 10."""
    gen = importlib.import_module("dbmarketing.sample.generate")
    prospects = importlib.import_module("dbmarketing.sample.prospects")
    run = gen.simulated_run(N, 3, 5, "zh_CN")
    errors, covered = [], 0
    for seed in range(10):
        run.seed = 100 + seed
        prospects.prospect_list(run)
        f, a = run.prospects, run.acquisition
        planted = float((f.propensity - f.baseline).to_numpy()[a.row.to_numpy()].mean())
        t, c = a[a.cell == "test"], a[a.cell == "control"]
        r = compare_cells(int(t.responded.sum()), len(t), int(c.responded.sum()), len(c))
        errors.append(r["lift"] - planted)
        covered += r["lift_low"] <= planted <= r["lift_high"]
    se = np.std(errors, ddof=1) / np.sqrt(len(errors))
    assert abs(np.mean(errors)) <= 3 * se + 1e-9
    assert covered >= 8


def test_a_database_without_prospect_files_loads_and_cleans(built, tmp_path):
    raw, _ = built
    db = tmp_path / "crm.duckdb"
    con = warehouse.connect(db)
    try:
        ingest.load_sources(con, _sources(raw, tmp_path, leave_out=PROSPECT_SOURCES))
        assert con.execute("SELECT count(*) FROM raw.prospect_list").fetchall() == [(0,)]  # empty raw tables
        cleanse.run(con)
        assert not warehouse.table_exists(con, "main", "prospect_list")
        assert not warehouse.table_exists(con, "main", "acquisition_contacts")
        assert warehouse.table_exists(con, "main", "customers")
        rules = {r[0] for r in con.execute("SELECT rule FROM main.cleaning_log WHERE step = 'prospects'").fetchall()}
        assert rules == {"no prospect list", "no acquisition campaign"}
    finally:
        con.close()


def test_the_american_list_loads_with_its_english_headers(tmp_path):
    """en_US: a UTF-8 file with English headers and the vendor's own labels (18-24, Under 5K,
    Female, E-mail, Y/N, 03/01/2026), mapped by the sources file the sample writes."""
    raw, db = tmp_path / "raw", tmp_path / "crm.duckdb"
    sample.generate(raw, db_path=db, n_customers=1500, years=2, seed=3, locale="en_US")
    header = (raw / "prospect_list.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert header.startswith("Record ID,Source List,Full Name,Mobile,Email")
    con = warehouse.connect(db)
    try:
        spec = yaml.safe_load((raw / "sources.yaml").read_text(encoding="utf-8"))
        spec["sources"] = [s for s in spec["sources"] if s["name"] in PROSPECT_SOURCES]
        path = tmp_path / "prospects.yaml"
        path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        ingest.load_sources(con, path)
        rows = con.execute("SELECT age_band, income_band, gender, channel, consent_sms, acquired_date "
                           "FROM raw.prospect_list").df()
        planted = con.execute("SELECT count(*) FROM truth.prospect_rejects").fetchall()[0][0]
        rejected = con.execute("SELECT rows_rejected FROM main.load_batches "
                               "WHERE table_name = 'prospect_list'").fetchall()[0][0]
    finally:
        con.close()
    assert rejected == planted == 4
    assert set(rows.age_band) <= set(_age_band(pd.Series([20.0, 30.0, 40.0, 50.0, 60.0, 70.0])))
    assert set(rows.income_band) == {"under 5k", "5k-10k", "10k-20k", "20k+"}
    assert set(rows.gender) == {"F", "M"} and set(rows.channel) == {"sms", "email", "direct_mail"}
    assert rows.consent_sms.notna().mean() > 0.85 and rows.acquired_date.notna().all()
