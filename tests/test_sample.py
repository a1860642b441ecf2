"""Tests of dbmarketing.sample: the generated exports and the planted ground truth.

The checks read the files as a user's loader would and recompute what they check
independently (ID check digits, rates, revenue shares) instead of asking the module.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from dbmarketing import warehouse, sample

N, YEARS, SEED = 1500, 2, 11
END = date(2026, 10, 31)
ROOT = Path(__file__).resolve().parents[1]
DATA_FILES = ["crm_customers.csv", "pos_members.csv", "distributors.xlsx", "crm_customers_update.csv",
              "products.csv", "orders.csv", "order_lines.csv", "campaigns.csv", "contacts.csv",
              "trigger_campaigns.csv", "trigger_contacts.csv", "service_tickets.parquet", "cities.csv"]

# GB 11643 / ISO 7064 MOD 11-2, written out here rather than taken from the module.
ID_WEIGHTS = [2 ** (17 - i) % 11 for i in range(17)]
ID_CHECK = "10X98765432"


def check_char(body17: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


def read_csv(path, encoding="utf-8-sig") -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


@pytest.fixture(scope="module")
def zh(tmp_path_factory):
    root = tmp_path_factory.mktemp("zh")
    summary = sample.generate(root / "raw", db_path=root / "crm.duckdb", n_customers=N, years=YEARS, seed=SEED)
    return summary, root / "raw", root / "crm.duckdb"


@pytest.fixture(scope="module")
def truth(zh):
    _, _, path = zh
    con = duckdb.connect(str(path), read_only=True)
    tables = {t: con.sql(f"SELECT * FROM truth.{t}").df() for t in
              ("persons", "customer_records", "purchases", "campaign_response", "defects", "parameters",
               "record_changes")}
    con.close()
    return tables


@pytest.fixture(scope="module")
def customers(zh):
    """All consumer records from the CRM (latest version) and POS files in one model-like frame."""
    _, raw, _ = zh
    crm = pd.concat([read_csv(raw / "crm_customers.csv"), read_csv(raw / "crm_customers_update.csv")])
    crm = crm[crm.member_id != ""].drop_duplicates("member_id", keep="first")
    crm = pd.DataFrame({"customer_id": crm.member_id, "name": crm.full_name,
                        "gender": crm.gender.map({"male": "M", "female": "F", "": ""}),
                        "birth": crm.birthday.str.replace("-", ""), "id_number": crm.id_card_no,
                        "phone": crm.mobile, "email": crm.email, "source": "crm"})
    pos = read_csv(raw / "pos_members.csv", encoding="gbk")
    pos = pos[pos["会员号"] != ""]
    pos = pd.DataFrame({"customer_id": pos["会员号"], "name": pos["姓名"],
                        "gender": pos["性别"].map({"男": "M", "女": "F", "": ""}), "birth": pos["出生日期"],
                        "id_number": pos["身份证号"], "phone": pos["手机号"], "email": pos["电子邮箱"],
                        "source": "pos"})
    return pd.concat([crm, pos], ignore_index=True)


def defects_of(truth, kind: str) -> set[str]:
    r = truth["customer_records"]
    return {cid for cid, ds in zip(r.customer_id, r.defects) if kind in list(ds)}


def test_truth_is_catalogued_with_the_model_tiers(zh):
    """Every truth column is described; personal columns carry the model's privacy tiers."""
    _, _, path = zh
    con = duckdb.connect(str(path), read_only=True)
    columns = con.sql("SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'truth'").fetchall()
    catalog = {(t, c): (d, tier) for t, c, d, tier in con.sql(
        "SELECT table_name, column_name, description, privacy_tier FROM main.catalog WHERE table_schema = 'truth'"
    ).fetchall()}
    con.close()
    assert columns and set(columns) == set(catalog)
    assert all(d.strip() for d, _ in catalog.values())
    tiers = {c: tier for (t, c), (_, tier) in catalog.items() if t == "persons"}
    # as warehouse.MODEL grades them: consents and gender deep-public, birth date and phone private, ID highly private
    assert {c: tiers[c] for c in ("consent_mail", "consent_sms", "consent_email", "consent_phone", "gender")} == {
        "consent_mail": 2, "consent_sms": 2, "consent_email": 2, "consent_phone": 2, "gender": 2}
    assert (tiers["birth_date"], tiers["phone"], tiers["id_number"], tiers["city"]) == (3, 3, 4, 1)


# ------------------------------------------------------------------ files and formats

def test_all_files_written_and_counted(zh):
    summary, raw, _ = zh
    for f in DATA_FILES:
        assert (raw / f).stat().st_size > 0, f
    assert summary.files["orders.csv"] == len(read_csv(raw / "orders.csv"))
    assert summary.files["pos_members.csv"] == len(read_csv(raw / "pos_members.csv", encoding="gbk"))
    assert summary.persons == N
    assert "top 20%" in str(summary)


def test_same_seed_same_bytes_other_seed_differs(zh, tmp_path):
    summary, raw, dbpath = zh
    con = duckdb.connect(str(dbpath))
    con.execute("INSERT INTO raw.products (product_id) VALUES ('KEEP-ME')")
    n_persons = con.sql("SELECT count(*) FROM truth.persons").fetchall()[0][0]
    con.close()
    sample.generate(tmp_path / "again", db_path=dbpath, n_customers=N, years=YEARS, seed=SEED)
    for f in DATA_FILES:
        assert (raw / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    # truth is recreated, not appended to; raw tables are left alone
    con = duckdb.connect(str(dbpath), read_only=True)
    assert con.sql("SELECT count(*) FROM truth.persons").fetchall()[0][0] == n_persons == N
    assert con.sql("SELECT count(*) FROM raw.products WHERE product_id = 'KEEP-ME'").fetchall()[0][0] == 1
    con.close()
    sample.generate(tmp_path / "other", n_customers=N, years=YEARS, seed=SEED + 1)
    for f in ["crm_customers.csv", "pos_members.csv", "orders.csv", "order_lines.csv", "distributors.xlsx",
              "service_tickets.parquet"]:
        assert (raw / f).read_bytes() != (tmp_path / "other" / f).read_bytes(), f


def test_crm_files_have_bom_and_others_not(zh):
    _, raw, _ = zh
    for f in ["crm_customers.csv", "crm_customers_update.csv"]:
        data = (raw / f).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), f
        assert data[3:].startswith(b"member_id,")
    assert (raw / "orders.csv").read_bytes().startswith(b"order_no,")


def test_pos_file_is_gbk_not_utf8(zh):
    _, raw, _ = zh
    data = (raw / "pos_members.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gbk")
    assert text.startswith("会员号,姓名,性别,出生日期,身份证号,手机号")
    assert "\r\n" in text and text.count("\r\n") == text.count("\n")
    pos = read_csv(io.BytesIO(data), encoding="gbk")
    assert set(pos["性别"]) <= {"男", "女", ""}
    births = pos.loc[pos["出生日期"] != "", "出生日期"]
    assert births.str.fullmatch(r"\d{8}").all()
    assert pos["入会日期"].str.fullmatch(r"\d{4}/\d{2}/\d{2}").all()


def test_distributor_workbook_opens(zh):
    _, raw, _ = zh
    wb = openpyxl.load_workbook(raw / "distributors.xlsx")
    assert wb.sheetnames == ["经销商"]
    rows = list(wb["经销商"].iter_rows(values_only=True))
    assert rows[0][0] == "经销商编号" and "签约日期" in rows[0]
    body = rows[1:]
    assert 0.01 * N <= len(body) <= 0.02 * N
    assert all(r[0].startswith("D") and len(r[0]) == 6 for r in body)
    assert all(isinstance(r[-1], datetime) for r in body)
    # reproducible bytes: no save-time stamps in the document properties or the zip entries
    assert wb.properties.modified == datetime(END.year, END.month, END.day)
    with zipfile.ZipFile(raw / "distributors.xlsx") as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_service_tickets_parquet(zh):
    _, raw, _ = zh
    t = pq.read_table(raw / "service_tickets.parquet")
    assert {f.name for f in t.schema} == {"ticket_no", "member_no", "created_date", "closed_date", "category", "csat",
                                           "resolved"}
    df = t.to_pandas()
    closed = df.dropna(subset=["closed_date"])
    assert (closed.closed_date >= closed.created_date).all() and closed.closed_date.max() <= END
    assert 0.9 < len(closed) / len(df) < 1  # nearly all closed; the newest still open
    assert set(df.category) == {"投诉", "咨询", "退货"}
    csat = df.csat.dropna()
    assert csat.between(1, 5).all() and len(csat) > 0.5 * len(df)
    assert df.created_date.max() <= END


def test_cities_reference(zh):
    _, raw, _ = zh
    c = read_csv(raw / "cities.csv")
    assert len(c) >= 60 and c["城市"].is_unique
    assert set(c["城市等级"].astype(int)) == {1, 2, 3, 4, 5}
    assert {"北京", "上海", "广州", "深圳"} <= set(c.loc[c["城市等级"] == "1", "城市"])
    pos = read_csv(raw / "pos_members.csv", encoding="gbk")
    short = pos["城市"][pos["城市"] != ""]
    assert short.isin(c["城市"]).mean() > 0.9  # customers live in the listed cities


def test_sources_yaml_matches_module_and_files(zh):
    _, raw, _ = zh
    params = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
    assert params == sample.sources_config("zh_CN", "2026-10-31", "data/raw")
    written = yaml.safe_load((raw / "sources.yaml").read_text(encoding="utf-8"))
    assert written["sources"] == params["sources"]
    assert [s["table"] for s in params["sources"]].index("orders") > max(
        i for i, s in enumerate(params["sources"]) if s["table"] == "customers")
    for s in params["sources"]:
        model = {c.name for c in warehouse.MODEL[s["table"]].columns}
        mapped = set(s["columns"]) | set(s.get("constants", {}))
        assert mapped <= model, s["name"]
        if s["name"] in ("crm_customers", "products", "orders", "order_lines", "campaigns", "contacts",
                         "service_tickets", "cities", "prospect_list", "acquisition_contacts"):
            # the sample's orders come with lines: no order total (orders.amount) to map
            assert mapped == model - ({"amount"} if s["table"] == "orders" else set()), s["name"]
        path = raw / s["path"]
        if s["format"] == "excel":
            header = next(openpyxl.load_workbook(path)[s["sheet"]].iter_rows(values_only=True))
        elif s["format"] == "parquet":
            header = pq.read_schema(path).names
        else:
            enc = "gbk" if s["name"] in ("pos_members", "prospect_list") else "utf-8-sig"
            header = read_csv(path, encoding=enc).columns
        assert set(s["columns"].values()) <= set(header), s["name"]


# ------------------------------------------------------------------ people and records

def test_duplicate_people_share(truth):
    r = truth["customer_records"]
    per_person = r.groupby("person_id").size()
    share = (per_person > 1).mean()
    assert 0.025 <= share <= 0.035
    assert (r.groupby("person_id").is_duplicate.sum() == per_person - 1).all()
    clusters = r[r.person_id.isin(per_person[per_person > 1].index)]
    kinds = clusters.groupby("person_id").source_system.nunique()
    assert (kinds == 1).any() and (kinds == 2).any()  # in the same system and in the other one


def test_duplicates_carry_visible_defects(truth, customers):
    persons = truth["persons"].set_index("person_id")
    rec = truth["customer_records"].set_index("customer_id")
    c = customers.set_index("customer_id")
    fullwidth = defects_of(truth, "fullwidth")
    assert fullwidth
    for cid in fullwidth:
        row = c.loc[cid]
        assert any("\uff01" <= ch <= "\uff5e" for ch in row["name"] + row["phone"] + row["email"]), cid
    typos = defects_of(truth, "name_typo")
    assert typos
    for cid in typos:
        assert c.at[cid, "name"] != persons.at[rec.at[cid, "person_id"], "true_name"]
    formats = defects_of(truth, "phone_format")
    assert formats and not c.loc[list(formats), "phone"].str.fullmatch(r"1[0-9]{10}").any()
    styles = {"+86 " if p.startswith("+86 ") else "0086" if p.startswith("0086") else "-" if "-" in p else "other"
              for p in c.loc[list(formats), "phone"]}
    assert {"+86 ", "0086", "-"} <= styles


def test_id_check_digits_valid_except_planted(truth, customers):
    ids = customers[customers.id_number.str.len() == 18]
    assert len(ids) > 0.4 * N
    assert ids.id_number.str.fullmatch(r"[1-6]\d{16}[0-9X]").all()
    invalid = {cid for cid, x in zip(ids.customer_id, ids.id_number) if check_char(x[:17]) != x[17]}
    assert invalid == defects_of(truth, "id_bad_check_digit")
    assert 0.001 <= len(invalid) / len(ids) <= 0.008


def test_id_numbers_agree_with_birth_and_gender_except_planted(truth, customers):
    ids = customers[(customers.id_number.str.len() == 18) & (customers.birth != "") & (customers.gender != "")]
    valid = ids[[check_char(x[:17]) == x[17] for x in ids.id_number]]
    birth_off = valid.id_number.str[6:14] != valid.birth
    male_id = valid.id_number.str[16].astype(int) % 2 == 1
    gender_off = male_id != (valid.gender == "M")
    assert set(valid.customer_id[birth_off]) == defects_of(truth, "id_birth_mismatch")
    assert set(valid.customer_id[gender_off]) == defects_of(truth, "id_gender_mismatch")
    n_id18 = (customers.id_number.str.len() == 18).sum()
    assert 0.002 <= (birth_off | gender_off).sum() / n_id18 <= 0.01
    # and the truth's own 18-digit numbers are all valid and consistent
    p = truth["persons"].dropna(subset=["id_number"])
    assert all(check_char(x[:17]) == x[17] for x in p.id_number)
    assert (p.id_number.str[6:14] == pd.to_datetime(p.birth_date).dt.strftime("%Y%m%d")).all()
    assert ((p.id_number.str[16].astype(int) % 2 == 1) == (p.gender == "M")).all()


def test_legacy_15_digit_ids(truth, customers):
    id15 = customers[customers.id_number.str.len() == 15]
    assert len(id15) > 0.05 * N
    assert (id15.source == "pos").mean() > 0.5  # the POS list holds most of them
    rec = truth["customer_records"].set_index("customer_id").person_id
    true_id = truth["persons"].set_index("person_id").id_number
    for cid, x in zip(id15.customer_id, id15.id_number):
        full = true_id[rec[cid]]
        assert full[6:8] == "19"
        assert x == full[:6] + full[8:17], cid  # 18 digits without century and check digit


def test_consumers_distributors_prospects(truth):
    p = truth["persons"]
    assert len(p) == N
    assert 0.01 <= (p.customer_type == "distributor").mean() <= 0.02
    consumers = p[p.customer_type == "consumer"]
    assert 0.10 <= (consumers.n_purchases == 0).mean() <= 0.20
    assert (p.loc[p.is_prospect, "n_purchases"] == 0).all()
    signup = pd.to_datetime(p.signup_date)
    assert (signup >= pd.Timestamp(END) - pd.DateOffset(months=3)).sum() > 0.05 * N  # new members
    assert p.dropout_date.notna().mean() > 0.1  # lapsed customers
    dist = p[p.customer_type == "distributor"]
    assert dist.n_purchases.mean() > 3 * consumers.n_purchases.mean()


def test_purchases_stop_after_dropout(truth):
    p = truth["persons"].set_index("person_id")
    buys = truth["purchases"]
    proc = buys[buys.origin == "process"].join(p.dropout_date, on="person_id")
    dropped = proc.dropout_date.notna()
    assert dropped.any()
    assert (pd.to_datetime(proc.order_date[dropped]) <= pd.to_datetime(proc.dropout_date[dropped])).all()
    buyers = p[p.n_purchases > 0]
    lapsed = buyers.dropout_date.notna()
    assert lapsed[buyers.complained].mean() > lapsed[~buyers.complained].mean()  # complaints raise dropout


def test_parameters_recorded(truth):
    par = truth["parameters"].set_index("name").value
    for k in ("consumer_r", "consumer_alpha", "consumer_a", "consumer_b", "consumer_p", "consumer_q",
              "consumer_gamma", "complaint_multiplier", "target_duplicate_share",
              "duplicate_share", "anonymous_order_share",
              "top20_revenue_share", "season_max"):
        assert k in par.index, k
    assert par["complaint_multiplier"] > 1
    assert abs(par["duplicate_share"] - par["target_duplicate_share"]) < 0.005
    assert par["n_customers"] == N and par["years"] == YEARS


def test_crm_delta_changes(zh, truth):
    _, raw, _ = zh
    first = read_csv(raw / "crm_customers.csv").set_index("member_id")
    delta = read_csv(raw / "crm_customers_update.csv").set_index("member_id")
    changed = delta.index.intersection(first.index)
    assert 0.02 <= len(changed) / len(first) <= 0.04
    new = delta.index.difference(first.index)
    assert (pd.to_datetime(delta.loc[new, "register_date"]) > pd.Timestamp(END) - pd.DateOffset(months=2)).all()
    ch = truth["record_changes"]
    col = dict(sample.CRM_COLUMNS)
    for r in ch.itertuples():
        assert first.at[r.customer_id, col[r.column_name]] == ("" if pd.isna(r.old_value) else r.old_value)
        assert delta.at[r.customer_id, col[r.column_name]] == r.new_value
    diff = (first.loc[changed] != delta.loc[changed]).sum().sum()
    assert diff == len(ch)  # nothing else changed


# ------------------------------------------------------------------ orders

@pytest.fixture(scope="module")
def orders(zh):
    _, raw, _ = zh
    return read_csv(raw / "orders.csv"), read_csv(raw / "order_lines.csv")


def test_order_rates(orders):
    o, _ = orders
    sales = o[o.doc_type == "SALE"]
    assert 0.015 <= (o.member_no == "").mean() <= 0.025
    assert 0.015 <= (sales.doc_status == "CANCELLED").mean() <= 0.025
    returns = o[o.doc_type == "RETURN"]
    assert 0.035 <= len(returns) / (sales.doc_status == "DONE").sum() <= 0.065
    assert returns.ref_order_no.isin(sales.order_no).all()
    assert set(o.channel_code) == {"POS", "WEB", "TEL", "B2B"}
    assert o.member_no.str[:1].isin(["C", "P", "D", ""]).all()


def test_order_dates_future_and_unparseable(orders):
    o, _ = orders
    parsed = pd.to_datetime(o.order_date, format="%Y-%m-%d", errors="coerce")
    bad = o.order_date[parsed.isna()]
    assert len(bad) >= 2 and set(bad.str[-5:]) <= {"02-30"} | {f"/{y}" for y in range(2020, 2030)}
    future = (parsed > pd.Timestamp(END)).sum()
    assert 1 <= future <= 0.003 * len(o)
    dup_numbers = o.order_no[o.order_no.duplicated()]
    assert 1 <= len(dup_numbers) <= 0.002 * len(o)


def test_order_lines_amounts_and_defects(orders):
    o, lines = orders
    numeric = lines[lines.line_amount.str.fullmatch(r"-?\d+\.\d\d")]
    assert len(lines) - len(numeric) >= 1  # the "12,5O" line(s)
    qty, price, amount = (numeric[c].astype(float) for c in ("qty", "unit_price", "line_amount"))
    assert np.allclose((qty * price).round(2), amount)
    ret_lines = numeric.order_no.isin(o.order_no[o.doc_type == "RETURN"])
    assert (qty[ret_lines] < 0).all() and (qty[~ret_lines] > 0).all()
    assert 0.001 <= (price <= 0).mean() <= 0.004
    prev = numeric.shift()
    repeated = ((numeric.order_no == prev.order_no) & (numeric.sku == prev.sku) & (numeric.qty == prev.qty)
                & (numeric.unit_price == prev.unit_price)
                & (numeric.line_no.astype(int) == prev.line_no.astype(float) + 1))
    assert 0.003 <= repeated.mean() <= 0.008
    assert lines.order_no.isin(o.order_no).all()


def test_defect_lines_point_at_the_rows(zh, truth):
    _, raw, _ = zh
    text = {f: (raw / f).read_bytes().decode("gbk" if f == "pos_members.csv" else "utf-8-sig").splitlines()
            for f in ["crm_customers.csv", "crm_customers_update.csv", "pos_members.csv", "orders.csv",
                      "order_lines.csv"]}
    d = truth["defects"]
    rejects = d[d.should_reject]
    assert set(rejects.defect) == {"missing_customer_id", "nonexistent_date", "unparseable_date",
                                   "duplicate_order_id", "non_numeric_amount"}
    assert 1 <= (rejects.table_name != "customers").sum() <= max(8, 0.002 * len(text["orders.csv"]))
    for r in d[d.source_file.isin(list(text))].itertuples():
        line = text[r.source_file][r.source_line - 1]
        if r.defect == "missing_customer_id":
            assert line.startswith(","), line
        elif r.table_name == "order_lines":
            order_no, line_no = r.record_key.split("/")
            assert line.startswith(f"{order_no},{line_no},"), line
            if r.defect == "non_numeric_amount":
                assert line.endswith(',"12,5O"'), line
        else:
            assert line.startswith(r.record_key + ","), (r, line)
            if r.defect in ("nonexistent_date", "unparseable_date"):
                assert "-02-30" in line or "31/31/" in line


# ------------------------------------------------------------------ revenue and campaigns

def top_share(values, top=0.2):
    v = np.sort(np.asarray(values, float))[::-1]
    k = int(round(top * len(v)))
    return v[:k].sum() / v.sum()


def test_top_20_percent_of_buyers_bring_most_revenue(truth, orders):
    p = truth["persons"]
    assert 0.60 <= top_share(p.net_revenue[p.n_purchases > 0]) <= 0.80
    o, lines = orders
    done = o[(o.doc_status == "DONE") & (o.member_no != "")].drop_duplicates("order_no")
    ok = lines[lines.line_amount.str.fullmatch(r"-?\d+\.\d\d")]
    rev = ok.merge(done[["order_no", "member_no"]], on="order_no").assign(a=lambda x: x.line_amount.astype(float))
    by_customer = rev.groupby("member_no").a.sum()
    assert 0.55 <= top_share(by_customer[by_customer > 0]) <= 0.85


def test_seasonal_peaks(orders):
    o, _ = orders
    d = pd.to_datetime(o.order_date, format="%Y-%m-%d", errors="coerce").dropna()
    d = d[d <= pd.Timestamp(END)]
    y = END.year - 1  # compare the run-up to Double 11 with October of the same year
    double11 = ((d >= f"{y}-11-01") & (d <= f"{y}-11-11")).sum() / 11
    october = ((d >= f"{y}-10-01") & (d <= f"{y}-10-31")).sum() / 31
    assert double11 > 1.3 * october


def test_campaigns_and_control_groups(zh, truth):
    _, raw, _ = zh
    camps = read_csv(raw / "campaigns.csv")
    assert len(camps) >= 4 and set(camps.channel) == {"直邮", "短信", "邮件", "电话外呼"}
    assert (camps.response_days.astype(int) > 0).all() and (camps.cost_per_contact.astype(float) > 0).all()
    contacts = read_csv(raw / "contacts.csv")
    share = contacts.groupby("campaign_code").group.apply(lambda g: (g == "C").mean())
    assert share.between(0.09, 0.21).all()
    assert not contacts.duplicated(["campaign_code", "member_no"]).any()
    cr = truth["campaign_response"]
    assert cr.had_consent.mean() > 0.8 and not cr.had_consent.all()  # mostly with consent
    normal = ~cr.sleeping_dog
    expected = 1 - (1 - cr.p_without_contact) * (1 - cr.q_campaign)
    assert np.allclose(cr.p_with_contact[normal], expected[normal], atol=1e-5)
    assert (cr.uplift[cr.sleeping_dog] <= 0).all() and (cr.uplift < 0).any()
    assert (cr.p_without_contact > 0).mean() > 0.5  # some respond without contact
    # realised responses agree with the planted probabilities
    p = np.where(cr.cell == "test", cr.p_with_contact, cr.p_without_contact)
    z = (cr.responded.sum() - p.sum()) / np.sqrt((p * (1 - p)).sum())
    assert abs(z) < 4


def test_truth_schema_and_catalog(zh):
    _, _, path = zh
    con = duckdb.connect(str(path), read_only=True)
    tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'truth'").fetchall()}
    assert {"persons", "customer_records", "parameters", "campaign_response", "defects"} <= tables
    assert con.sql("SELECT count(*) FROM raw.customers").fetchall()[0][0] == 0
    cat = dict(con.sql("SELECT column_name, privacy_tier FROM main.catalog "
                       "WHERE table_schema = 'truth' AND table_name = 'persons'").fetchall())
    assert cat["id_number"] == warehouse.HIGHLY_PRIVATE and cat["person_id"] == warehouse.PUBLIC
    con.close()


# ------------------------------------------------------------------ other settings

def test_scales_with_size_and_years(tmp_path, zh):
    big, _, _ = zh
    s = sample.generate(tmp_path / "small", n_customers=600, years=1, seed=3)
    assert s.persons == 600 and s.campaigns == 4 + 1  # four past campaigns and the pilot of a new offer
    assert s.orders < big.orders / 3
    o = read_csv(tmp_path / "small" / "orders.csv")
    d = pd.to_datetime(o.order_date, format="%Y-%m-%d", errors="coerce").dropna()
    assert (d >= pd.Timestamp(END) - pd.DateOffset(years=1)).all()


def test_en_us_locale(tmp_path):
    s = sample.generate(tmp_path / "us", db_path=tmp_path / "us.duckdb", n_customers=800, years=1, seed=5,
                        locale="en_US")
    raw = tmp_path / "us"
    pos = read_csv(raw / "pos_members.csv")
    assert list(pos.columns[:4]) == ["MEMBER_NO", "CUST_NAME", "SEX", "DOB"]
    assert (pos.ID_NO == "").all()
    crm = read_csv(raw / "crm_customers.csv")
    assert (crm.id_card_no == "").all()
    assert crm.full_name.str.fullmatch(r"[A-Za-z'\- .\uff01-\uff5e]+").mean() > 0.99
    plain = crm.mobile[~crm.member_id.isin(crm.member_id[crm.member_id == ""])]
    assert plain.str.fullmatch(r"\d{3}-\d{3}-\d{4}").mean() > 0.9
    cities = read_csv(raw / "cities.csv")
    assert "New York" in set(cities.city)
    assert pd.to_datetime(pos.DOB[pos.DOB != ""], format="%m/%d/%Y").notna().all()
    cfg = yaml.safe_load((raw / "sources.yaml").read_text(encoding="utf-8"))
    assert next(x for x in cfg["sources"] if x["name"] == "pos_members")["columns"]["customer_id"] == "MEMBER_NO"
    assert s.rates["duplicate_share"] > 0.02
    with pytest.raises(ValueError):
        sample.generate(tmp_path / "x", locale="de_DE", n_customers=200)
