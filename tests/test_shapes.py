"""Tests of the export-shape fixtures in tests/shapes.py themselves (not of dbmarketing)."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

import shapes

HERE = Path(__file__).resolve().parent
COMMON = {"tables", "extracted", "n_customers", "duplicate_pairs", "keep_apart_pairs", "n_orders_in_file",
          "n_completed_purchases", "total_net_amount", "first_purchase_date", "newest_purchase_date"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every shape written once: name -> Shape (plus cumulative_month2 in its own folder)."""
    root = tmp_path_factory.mktemp("shapes")
    out = {name: make(root / name) for name, make in shapes.SHAPES.items()}
    out["cumulative_month2"] = shapes.cumulative_month2(root / "cumulative_m2")
    return out


def sources_of(shape) -> dict:
    return yaml.safe_load(shape.sources.read_text(encoding="utf-8"))


def test_every_shape_writes_its_files_and_a_sources_file(built):
    for name, shape in built.items():
        assert shape.sources.is_file(), name
        for path in (shape.sources, *shape.other_sources):
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert Path(spec["base_dir"]) == path.parent.resolve(), name
            assert spec["sources"], name
            for source in spec["sources"]:
                assert (Path(spec["base_dir"]) / source["path"]).is_file(), (name, source["path"])
                assert str(source["extracted"]) == shape.expected["extracted"], name
        dt.date.fromisoformat(shape.as_of)
        assert COMMON <= set(shape.expected), (name, COMMON - set(shape.expected))
        assert shape.notes and shapes.SHAPES.get(name, shapes.cumulative_month2).__doc__
        expected = shape.expected
        if "future_dated_orders" in expected:  # the counted purchases are what the errors leave
            left_out = expected["future_dated_orders"] | expected["unknown_customer_orders"] | expected["cancelled_orders"]
            assert expected["n_completed_purchases"] == expected["n_orders_in_file"] - len(left_out), name
            assert expected["newest_purchase_date"] <= expected["extracted"], name
        assert len(expected["duplicate_pairs"]) == expected.get("n_customers") - expected.get("n_people", expected["n_customers"])


def test_shapes_do_not_import_dbmarketing():
    text = (HERE / "shapes.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+dbmarketing", text, flags=re.M)
    code = ("import sys, tempfile, pathlib; sys.path.insert(0, sys.argv[1]); import shapes; "
            "root = pathlib.Path(tempfile.mkdtemp()); [f(root / n) for n, f in shapes.SHAPES.items()]; "
            "shapes.cumulative_month2(root / 'cumulative'); print('dbmarketing' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(HERE)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# --- determinism -----------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".yaml":  # the only difference allowed: base_dir, the folder itself
                data = data.replace(str(folder.resolve()).encode("utf-8"), b"<FOLDER>")
            out[str(path.relative_to(folder))] = data
    return out


@pytest.mark.parametrize("name", sorted(shapes.SHAPES))
def test_same_seed_gives_identical_bytes(name, tmp_path):
    make = shapes.SHAPES[name]
    first, again = make(tmp_path / "a"), make(tmp_path / "a")  # again into the same folder
    assert first.expected == again.expected
    bytes_a = {p: (tmp_path / "a" / p).read_bytes() for p in _files(tmp_path / "a")}
    make(tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert bytes_a == {p: (tmp_path / "a" / p).read_bytes() for p in bytes_a}


def test_identical_bytes_in_another_process(tmp_path):
    """Another interpreter (another hash seed, later clock) writes the same bytes."""
    code = ("import sys, pathlib; sys.path.insert(0, sys.argv[1]); import shapes; root = pathlib.Path(sys.argv[2]); "
            "[f(root / n) for n, f in shapes.SHAPES.items()]; shapes.cumulative_month2(root / 'cumulative_month2')")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-c", code, str(HERE), str(tmp_path / "other")], check=True, env=env)
    for name, make in shapes.SHAPES.items():
        make(tmp_path / "here" / name)
    shapes.cumulative_month2(tmp_path / "here" / "cumulative_month2")
    for name in [*shapes.SHAPES, "cumulative_month2"]:
        assert _files(tmp_path / "here" / name) == _files(tmp_path / "other" / name), name


def test_another_seed_gives_other_data(tmp_path):
    a = shapes.crm_gbk(tmp_path / "a")
    b = shapes.crm_gbk(tmp_path / "b", seed=1)
    assert (tmp_path / "a" / "会员.csv").read_bytes() != (tmp_path / "b" / "会员.csv").read_bytes()
    assert a.expected["duplicate_pairs"] != b.expected["duplicate_pairs"]


# --- CDNOW -----------------------------------------------------------------------------


def _bundled(name: str) -> list[str]:
    with gzip.open(shapes.DATA / name, "rt", encoding="ascii") as f:
        return f.read().splitlines()


def test_orders_only_cdnow_is_the_head_of_the_real_log(built):
    shape = built["orders_only_cdnow"]
    spec = sources_of(shape)
    assert [s["format"] for s in spec["sources"]] == ["cdnow"]
    assert str(spec["sources"][0]["extracted"]) == "1998-06-30" and shape.as_of == "1998-06-30"
    lines = (shape.sources.parent / spec["sources"][0]["path"]).read_bytes().decode("ascii").splitlines()
    master = _bundled("CDNOW_master.txt.gz")
    assert lines == master[:len(lines)]  # byte for byte, in file order
    assert int(master[len(lines)].split()[0]) == 151
    assert all(len(line.split()) == 4 for line in lines)
    assert shape.expected["n_customers"] == 150 == len({line.split()[0] for line in lines})
    assert shape.expected["n_records"] == len(lines)
    assert shape.expected["tables"] == {"orders", "order_lines"}


def test_hardie_sample_has_five_fields_and_the_sample_ids(built):
    shape = built["cdnow_hardie_sample"]
    path = shape.sources.parent / "CDNOW_sample.txt"
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and b"\r\n" in raw
    lines = raw.decode("ascii").splitlines()
    assert lines[0] == " 00004 0001 19970101  2   29.33"
    assert all(len(line.split()) == 5 for line in lines)
    assert all(len(line) == 31 for line in lines)  # fixed width
    fields = [line.split() for line in lines]
    # the sample id is the 1-based rank of the master id's first appearance; 1..100, in order
    seen = {}
    for master, sample, *_ in fields:
        seen.setdefault(master, int(sample))
    assert list(seen.values()) == list(range(1, 101))
    assert shape.expected["master_to_sample"] == {m: f"{s:04d}" for m, s in seen.items()}
    assert seen["00018"] == 58  # by first purchase, not by the master id's value
    # dropping field 2 gives back the bundled file's records
    bundled = [line.split() for line in _bundled("CDNOW_sample.txt.gz")]
    assert [[m, d, q, v] for m, _, d, q, v in fields] == bundled[:len(fields)]
    assert shape.expected["customer_ids"] == frozenset(seen)
    # two sources files: by field number, and the 5-field default
    with_columns, default = sources_of(shape)["sources"][0], yaml.safe_load(shape.other_sources[0].read_text("utf-8"))["sources"][0]
    assert with_columns["columns"] == {"customer_id": 1, "order_date": 3, "quantity": 4, "amount": 5}
    assert "columns" not in default and default["format"] == with_columns["format"] == "cdnow"
    assert default["path"] == with_columns["path"]


# --- CRM exports -----------------------------------------------------------------------


def _read_gbk(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gbk")


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-11:]


@pytest.mark.parametrize("name", ["crm_gbk", "crm_no_duplicates"])
def test_gbk_files_really_are_gbk(built, name):
    folder = built[name].sources.parent
    for file, header in [("会员.csv", "会员号,姓名,性别,手机号,出生日期,注册日期,城市"), ("订单.csv", "订单号,会员号,下单日期,金额")]:
        data = (folder / file).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert not data.startswith(b"\xef\xbb\xbf")
        text = data.decode("gbk")  # strict
        assert text.split("\r\n")[0] == header
        assert text.encode("gbk") == data


def test_crm_gbk_members(built):
    shape = built["crm_gbk"]
    m = _read_gbk(shape.sources.parent / "会员.csv")
    e = shape.expected
    assert len(m) == e["n_member_rows"] == 200 and m["会员号"].is_unique
    assert e["n_people"] == 195 and len(e["duplicate_pairs"]) == 5
    assert set(m["性别"]) == {"男", "女"}
    assert m["出生日期"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    digits = m["手机号"].map(_digits)
    assert digits.str.fullmatch(r"1[3-9]\d{9}").all()
    assert (m["手机号"].str.contains(" ") | m["手机号"].str.startswith("+86")).sum() >= 5
    assert m["城市"].str.removesuffix("市").nunique() == 20 and m["城市"].str.endswith("市").any()
    rows = m.set_index("会员号")
    members = set(rows.index)
    for pair in e["duplicate_pairs"]:
        first, second = sorted(pair)
        a, b = rows.loc[first], rows.loc[second]
        assert a["姓名"] == b["姓名"] and a["出生日期"] == b["出生日期"] and a["性别"] == b["性别"]
        assert _digits(a["手机号"]) == _digits(b["手机号"]) and a["手机号"] != b["手机号"]
        assert b["注册日期"] > a["注册日期"]
    # nobody else shares a phone
    paired = {c for pair in e["duplicate_pairs"] for c in pair}
    assert digits[~m["会员号"].isin(paired)].is_unique
    assert digits.nunique() == 195
    # the two different 周静 in 深圳
    (zhou,) = e["keep_apart_pairs"]
    zhou_rows = rows.loc[sorted(zhou)]
    assert list(zhou_rows["姓名"]) == ["周静", "周静"] and set(zhou_rows["城市"]) == {"深圳"}
    assert set(zhou_rows["性别"]) == {"男", "女"}
    assert zhou_rows.loc[zhou_rows["性别"] == "女", "出生日期"].iloc[0].startswith("1974")
    assert zhou_rows["出生日期"].nunique() == 2 and zhou_rows["手机号"].map(_digits).nunique() == 2
    assert (m["姓名"] == "周静").sum() == 2
    assert not any(zhou & pair for pair in e["duplicate_pairs"])
    assert paired <= members and zhou <= members


def test_crm_gbk_orders(built):
    shape = built["crm_gbk"]
    folder = shape.sources.parent
    o = _read_gbk(folder / "订单.csv")
    members = set(_read_gbk(folder / "会员.csv")["会员号"])
    e = shape.expected
    assert len(o) == e["n_orders_in_file"] == 600 and o["订单号"].is_unique
    assert set(o.loc[o["下单日期"] > "2026-10-31", "订单号"]) == e["future_dated_orders"] and len(e["future_dated_orders"]) == 2
    unknown = o.loc[~o["会员号"].isin(members), "订单号"]
    assert set(unknown) == e["unknown_customer_orders"] and len(unknown) == 2
    assert o["下单日期"].min() >= "2024-11-01"
    assert o["金额"].str.fullmatch(r"\d{1,3},\d{3}\.\d{2}").any()  # 1,104.92
    assert o["金额"].str.startswith("￥").sum() > 30
    assert e["amounts_with_thousands_separator"] > 10 and e["amounts_with_fullwidth_digits"] > 0
    raw = (folder / "订单.csv").read_bytes().decode("gbk")
    assert re.search(r',"\d{1,3},\d{3}\.\d{2}"\r\n', raw)  # quoted, the comma is the delimiter
    assert e["n_completed_purchases"] == 596
    # both numbers of every twice-registered person have purchases
    bought = set(o.loc[~o["订单号"].isin(e["future_dated_orders"]), "会员号"])
    assert all(pair <= bought for pair in e["duplicate_pairs"] | e["keep_apart_pairs"])
    assert float(sum(shapes.parse_amount(a) for a in o.loc[o["会员号"].isin(members) & (o["下单日期"] <= "2026-10-31"), "金额"])) \
        == pytest.approx(e["total_net_amount"])


def test_crm_gbk_sources_file(built):
    shape = built["crm_gbk"]
    members, orders = sources_of(shape)["sources"]
    assert members["table"] == "customers" and orders["table"] == "orders"
    assert members["columns"] == {"customer_id": "会员号", "name": "姓名", "gender": "性别", "phone": "手机号",
                                  "birth_date": "出生日期", "signup_date": "注册日期", "city": "城市"}
    assert members["values"] == {"gender": {"男": "M", "女": "F"}}
    assert members["constants"] == {"source_system": "crm", "customer_type": "consumer"}
    assert orders["columns"] == {"order_id": "订单号", "customer_id": "会员号", "order_date": "下单日期", "amount": "金额"}
    assert members["extracted"] == orders["extracted"] == dt.date(2026, 10, 31)


def test_crm_no_duplicates(built):
    shape = built["crm_no_duplicates"]
    m = _read_gbk(shape.sources.parent / "会员.csv")
    assert len(m) == 200 and shape.expected["n_people"] == 200
    assert m["手机号"].map(_digits).is_unique
    assert not (m["姓名"] == "周静").any()
    assert not m.duplicated(["姓名", "出生日期"]).any()
    assert shape.expected["duplicate_pairs"] == set() and shape.expected["keep_apart_pairs"] == set()


def test_crm_utf8_bom_semicolon(built):
    shape = built["crm_utf8_bom_semicolon"]
    folder = shape.sources.parent
    for file in ("members.csv", "orders.csv"):
        data = (folder / file).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        header = data[3:].decode("utf-8").split("\r\n")[0]
        assert ";" in header and "," not in header and header.isascii()
    m = pd.read_csv(folder / "members.csv", sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    o = pd.read_csv(folder / "orders.csv", sep=";", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(m.columns) == ["member_no", "full_name", "sex", "mobile", "date_of_birth", "registered_on", "city"]
    assert m["date_of_birth"].str.fullmatch(r"\d{2}\.\d{2}\.\d{4}").all()
    assert o["order_date"].str.fullmatch(r"\d{2}\.\d{2}\.\d{4}").all()
    assert set(m["sex"]) == {"male", "female"}
    assert o["total"].str.contains(",").any() and o["total"].str.startswith("¥").any()
    assert len(m) == 150 and shape.expected["n_people"] == 147
    members, orders = sources_of(shape)["sources"]
    assert members["delimiter"] == orders["delimiter"] == ";"
    assert members["date_formats"] == {"birth_date": "%d.%m.%Y", "signup_date": "%d.%m.%Y"}
    assert orders["date_formats"] == {"order_date": "%d.%m.%Y"}


# --- small shapes ----------------------------------------------------------------------


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False, encoding="utf-8")


def test_one_and_ten_customers(built):
    for name, n in [("one_customer", 1), ("ten_customers", 10)]:
        folder = built[name].sources.parent
        assert (folder / "customers.csv").read_bytes().decode("utf-8")  # UTF-8
        c, o = _csv(folder, "customers.csv"), _csv(folder, "orders.csv")
        assert len(c) == n == built[name].expected["n_customers"]
        assert list(o.columns) == ["order_id", "customer_id", "order_date", "amount"]
        assert set(o["customer_id"]) <= set(c["customer_id"])
        assert built[name].expected["n_completed_purchases"] == len(o)
    texts = built["ten_customers"].expected["amount_texts"]
    for form in ["1,104.92", "¥1,104.92", "￥88", "$12.50", "２９９.００"]:
        assert form in texts


def test_sparse_rf(built):
    shape = built["sparse_rf"]
    o = _csv(shape.sources.parent, "orders.csv")
    counts = o["customer_id"].value_counts()
    assert counts.value_counts().to_dict() == {1: 36, 2: 3, 5: 1} == shape.expected["purchases_per_person"]
    assert not o.duplicated(["customer_id", "order_date"]).any()
    assert o["order_date"].nunique() > 30  # recency spreads, frequency does not


def test_single_day(built):
    shape = built["single_day"]
    o = _csv(shape.sources.parent, "orders.csv")
    assert set(o["order_date"]) == {"2026-10-17"} == {shape.expected["newest_purchase_date"]}
    assert o["customer_id"].nunique() == 60 and len(o) == 80 and o["order_id"].is_unique


def test_campaign_without_control(built):
    shape = built["campaign_without_control"]
    folder = shape.sources.parent
    contacts, campaigns = _csv(folder, "contacts.csv"), _csv(folder, "campaigns.csv")
    customers = _csv(folder, "customers.csv")
    assert list(contacts.columns) == ["campaign_id", "customer_id", "cell", "contact_date"]
    assert set(contacts["cell"]) == {"T"}
    assert shape.expected["contacts_by_cell"] == {"test": len(contacts), "control": 0}
    assert set(contacts["campaign_id"]) == set(campaigns["campaign_id"])
    assert set(contacts["customer_id"]) <= set(customers["customer_id"])
    assert not contacts.duplicated(["campaign_id", "customer_id"]).any()
    spec = {s["name"]: s for s in sources_of(shape)["sources"]}
    assert spec["contacts"]["table"] == "contacts" and spec["contacts"]["values"]["cell"]["T"] == "test"
    assert shape.expected["tables"] == {"customers", "orders", "campaigns", "contacts"}
    assert all(n > 0 for n in shape.expected["responders"].values())


def test_cumulative_month2_contains_month1(tmp_path):
    folder = tmp_path / "cumulative"
    month1 = shapes.cumulative(folder)
    lines1 = (folder / "orders.csv").read_text(encoding="utf-8").splitlines()
    customers1 = (folder / "customers.csv").read_bytes()
    sources_path = month1.sources
    month2 = shapes.cumulative_month2(folder)
    assert month2.sources == sources_path  # the same files, overwritten
    lines2 = (folder / "orders.csv").read_text(encoding="utf-8").splitlines()
    assert (folder / "customers.csv").read_bytes() == customers1
    assert lines2[0] == lines1[0] == "order_id,customer_id,order_date,amount,status"
    assert len(lines2) == len(lines1) + 2
    changed = [(a, b) for a, b in zip(lines1, lines2) if a != b]
    assert len(changed) == 1
    before, after = changed[0]
    assert before.endswith(",Completed") and after == before.removesuffix(",Completed") + ",Cancelled"
    assert {before.split(",")[0]} == month2.expected["updated_orders"]
    new = lines2[len(lines1):]
    assert {line.split(",")[0] for line in new} == month2.expected["new_orders"]
    assert all(line.split(",")[2] > "2026-09-30" for line in new)
    assert month2.expected["load_counts"] == {"new": 2, "updated": 1, "unchanged": len(lines1) - 2}
    assert month2.expected["n_completed_purchases"] == month1.expected["n_completed_purchases"] - 1 + 2
    assert month1.expected["extracted"] == "2026-09-30" and month2.expected["extracted"] == "2026-10-31"
    assert sources_of(month2)["sources"][1]["values"] == {"status": {"Completed": "completed", "Cancelled": "cancelled"}}


def test_orders_excel(built):
    shape = built["orders_excel"]
    folder = shape.sources.parent
    book = openpyxl.load_workbook(folder / "orders.xlsx")
    assert book.sheetnames == ["订单"]
    rows = list(book["订单"].iter_rows(values_only=True))
    assert rows[0] == ("Order No", "Member No", "Order Date", "Amount")
    assert all(isinstance(r[2], dt.datetime) and isinstance(r[3], (int, float)) and isinstance(r[1], int) for r in rows[1:])
    assert book["订单"]["C2"].is_date
    customers = _csv(folder, "customers.csv")
    assert {str(r[1]) for r in rows[1:]} <= set(customers["customer_id"])
    assert len(rows) - 1 == shape.expected["n_orders_in_file"] == 300
    assert sources_of(shape)["sources"][1]["sheet"] == "订单"
