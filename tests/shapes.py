"""Fixtures in the shapes real customer-data exports have, to run the whole workbook on.

Each shape is a plain function ``NAME(folder) -> Shape`` that writes the export files and a
sources YAML (the column map of ``params/sources/*.yaml``, with ``base_dir`` set to `folder`)
into `folder` and returns a :class:`Shape`. ``Shape.expected`` holds facts computed from the
files the function wrote, read back with plain Python and pandas; this module never imports
``dbmarketing`` so the fixtures stay independent of the code they test.

All randomness comes from ``numpy.random.default_rng(seed)`` with a fixed seed, and nothing
depends on the clock or on set order: the data files are byte-identical run to run (the
sources YAML differs only by its ``base_dir``, the absolute path of `folder`).

Common keys of ``expected`` (a shape documents the keys it adds or leaves out):

- ``tables``: frozenset of the model tables the sources file loads (a cdnow source: orders
  and order_lines).
- ``extracted``: the export's extraction date (``extracted:`` of every source), YYYY-MM-DD.
- ``n_customers``: distinct customer numbers (of the customer file; for an orders-only
  shape, of the orders).
- ``n_people``: distinct persons behind those numbers (= n_customers minus one per true
  duplicate pair).
- ``duplicate_pairs``: set of frozensets of two customer numbers that are the same person
  (registered twice); ``keep_apart_pairs``: pairs that look alike but are different people
  and must never be merged.
- ``n_orders_in_file``: data rows of the orders file.
- ``future_dated_orders`` / ``unknown_customer_orders`` / ``cancelled_orders``: order
  numbers of the rows dated after ``extracted``, of a customer number not in the customer
  file, or with status cancelled.
- ``n_completed_purchases``: the orders a correct workbook counts as purchases: completed
  sales (status missing = completed), dated on or before ``extracted``, of a known customer.
- ``total_net_amount``: the sum of their amounts (rounded to cents).
- ``n_customers_with_purchases`` (customer numbers) and ``n_people_with_purchases``
  (persons, duplicates merged).
- ``first_purchase_date`` / ``newest_purchase_date``: of the counted purchases.
- ``purchases_per_person``: {number of purchases: number of persons with that many}, over
  persons with at least one purchase.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "lib" / "dbmarketing" / "data"

AS_OF = "2026-10-31"
END = dt.date(2026, 10, 31)


@dataclass(frozen=True)
class Shape:
    """One fixture: ``sources`` is the sources YAML to load, ``as_of`` the date to run the
    workbook at, ``expected`` the facts a correct run must reproduce, ``notes`` what the
    shape is about. ``other_sources`` holds further sources files describing the same
    export another way (only cdnow_hardie_sample has one)."""

    name: str
    sources: Path
    as_of: str
    expected: dict
    notes: str
    other_sources: tuple[Path, ...] = ()


# --------------------------------------------------------------------------------------
# Names, phones, cities
# --------------------------------------------------------------------------------------

# Common surnames, most frequent first (weights fall off like the real distribution).
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
                "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵")
RARE_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "慕容", "皇甫", "令狐", "禤", "亓", "芈", "昝", "佘", "蒯", "隗", "邝", "甯"]
GIVEN_F = list("静丽敏燕芳娟霞婷雪慧玲琳颖倩洁艳萍红丹梅莉欣怡佳雯")
GIVEN_M = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙洋东")
GIVEN_ANY = list("文晨子一思嘉梓雨博天海春")
GIVEN_RARE = list("喆翀堃昶赟彧珺玥祎婧瑾旻琰懿骞")
RESERVED_NAMES = {"周静"}  # only the planted keep-apart pair is called this

# (city, weight); about 30% are written with the 市 suffix.
CITIES = [("北京", 3.0), ("上海", 3.0), ("广州", 2.5), ("深圳", 2.5), ("杭州", 1.5), ("南京", 1.2),
          ("成都", 1.5), ("重庆", 1.5), ("武汉", 1.3), ("西安", 1.1), ("天津", 1.1), ("苏州", 1.2),
          ("长沙", 1.0), ("郑州", 1.0), ("青岛", 0.9), ("沈阳", 0.8), ("宁波", 0.8), ("东莞", 0.9),
          ("佛山", 0.9), ("合肥", 0.8)]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "185",
                   "186", "187", "188", "189", "198", "199"]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _day(rng, start: dt.date, end: dt.date) -> dt.date:
    """A uniformly random day in [start, end]."""
    return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))


def _name(rng, gender: str) -> str:
    weights = 1.0 / (np.arange(len(SURNAMES)) + 8.0)
    while True:
        if rng.random() < 0.06:
            surname = RARE_SURNAMES[int(rng.integers(len(RARE_SURNAMES)))]
        else:
            surname = SURNAMES[int(rng.choice(len(SURNAMES), p=weights / weights.sum()))]
        pool = (GIVEN_F if gender == "F" else GIVEN_M) + GIVEN_ANY
        first = pool[int(rng.integers(len(pool)))]
        if rng.random() < 0.08:
            first = GIVEN_RARE[int(rng.integers(len(GIVEN_RARE)))]
        given = first if rng.random() < 0.35 else first + pool[int(rng.integers(len(pool)))]
        if surname + given not in RESERVED_NAMES:
            return surname + given


def _mobile(rng, taken: set) -> str:
    while True:
        number = MOBILE_PREFIXES[int(rng.integers(len(MOBILE_PREFIXES)))] + "".join(
            str(d) for d in rng.integers(0, 10, 8))
        if number not in taken:
            taken.add(number)
            return number


def _phone_as(number: str, style: str) -> str:
    """An 11-digit mobile written the way exports write it."""
    return {"plain": number,
            "spaced": f"{number[:3]} {number[3:7]} {number[7:]}",
            "dashed": f"{number[:3]}-{number[3:7]}-{number[7:]}",
            "plus86": f"+86 {number}",
            "plus86_tight": f"+86{number}"}[style]


def _city(rng) -> str:
    weights = np.array([w for _, w in CITIES])
    return CITIES[int(rng.choice(len(CITIES), p=weights / weights.sum()))][0]


def _city_as(city: str, rng) -> str:
    return city + "市" if rng.random() < 0.3 else city


def _people(rng, n: int, *, signup_from=dt.date(2019, 1, 1), signup_to=dt.date(2026, 8, 31),
            phones: set | None = None) -> list[dict]:
    """`n` distinct persons: name, gender, mobile, birth date, city, signup date."""
    phones = set() if phones is None else phones
    people, seen = [], set()
    while len(people) < n:
        gender = "F" if rng.random() < 0.55 else "M"
        person = {"name": _name(rng, gender), "gender": gender, "mobile": _mobile(rng, phones),
                  "birth_date": _day(rng, dt.date(1955, 1, 1), dt.date(2004, 12, 31)),
                  "city": _city(rng), "signup_date": _day(rng, signup_from, signup_to)}
        key = (person["name"], person["birth_date"])
        if key in seen:  # two persons with one name and one birth date would be ambiguous
            continue
        seen.add(key)
        people.append(person)
    return people


# --------------------------------------------------------------------------------------
# Amounts
# --------------------------------------------------------------------------------------


def _amount(rng, median: float = 250.0, sigma: float = 0.95) -> Decimal:
    """An order total: lognormal, some of them whole prices like 88 or 199."""
    value = max(float(np.exp(np.log(median) + sigma * rng.standard_normal())), 3.0)
    if rng.random() < 0.12:
        return Decimal(int(round(value)) or 1)
    return Decimal(f"{value:.2f}")


def _amount_text(amount: Decimal, style: str = "plain", yen: str = "¥") -> str:
    """How an export writes a total: thousands separators from 1,000; `style` adds a yen
    sign (`yen`: ¥ or the full-width ￥ that GBK has), a dollar sign or full-width digits."""
    text = f"{amount:,}" if "." not in str(amount) else f"{amount:,.2f}"
    if style == "plain":
        return text
    if style == "yen":
        return yen + text
    if style == "dollar":
        return "$" + text
    if style == "fullwidth":
        return text.translate(FULLWIDTH)
    raise ValueError(style)


def parse_amount(text: str) -> Decimal:
    """The number an amount text stands for (the fixtures' own reading, used for expected)."""
    plain = unicodedata.normalize("NFKC", str(text)).strip()
    plain = plain.replace("¥", "").replace("$", "").replace(",", "").strip()
    return Decimal(plain)


def _cents(value: Decimal) -> float:
    return float(Decimal(value).quantize(Decimal("0.01")))


# --------------------------------------------------------------------------------------
# Writing files
# --------------------------------------------------------------------------------------


def _csv_bytes(header: list[str], rows: list[list], *, encoding="utf-8", bom=False, delimiter=",",
               newline="\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = buffer.getvalue().encode(encoding)  # strict: a character the codec lacks is an error
    return (b"\xef\xbb\xbf" + data) if bom else data


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _sources(folder: Path, body: str, comment: str, name: str = "sources.yaml") -> Path:
    """Write a sources YAML: a comment, base_dir = `folder` (absolute), then `body`."""
    lines = "".join(f"# {line}\n" for line in comment.splitlines())
    text = f"{lines}base_dir: {json.dumps(str(folder.resolve()), ensure_ascii=False)}\nsources:\n{body}"
    return _write(folder / name, text.encode("utf-8"))


def _stable_xlsx(data: bytes, stamp=(2026, 10, 31, 0, 0, 0)) -> bytes:
    """An .xlsx written by openpyxl with its clock-dependent bytes (zip entry times, the
    created/modified document properties) pinned, so the file is the same every run."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2026-10-31T00:00:00Z",
                                 content)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()


# --------------------------------------------------------------------------------------
# Expected facts, from the files as written
# --------------------------------------------------------------------------------------


def _union(pairs) -> dict[str, str]:
    """customer number -> person key (the smallest number of its duplicate pair)."""
    person = {}
    for pair in pairs:
        a, b = sorted(pair)
        person[a] = person[b] = a
    return person


def _purchase_facts(orders: pd.DataFrame, extracted: str, known: set | None, pairs=()) -> dict:
    """Facts of an orders table with text columns order_id, customer_id, order_date
    (YYYY-MM-DD), amount (as written) and optionally status (model words)."""
    orders = orders.copy()
    orders["value"] = orders["amount"].map(parse_amount)
    status = orders["status"] if "status" in orders else pd.Series("completed", index=orders.index)
    future = orders["order_date"] > extracted
    unknown = ~orders["customer_id"].isin(known) if known is not None else pd.Series(False, index=orders.index)
    cancelled = status == "cancelled"
    counted = orders[~future & ~unknown & ~cancelled]
    person = _union(pairs)
    people = counted["customer_id"].map(lambda c: person.get(c, c))
    per_person = people.value_counts().value_counts().sort_index()
    return {
        "n_orders_in_file": len(orders),
        "future_dated_orders": set(orders.loc[future, "order_id"]),
        "unknown_customer_orders": set(orders.loc[unknown, "order_id"]),
        "cancelled_orders": set(orders.loc[cancelled, "order_id"]),
        "n_completed_purchases": len(counted),
        "total_net_amount": _cents(sum(counted["value"], Decimal(0))),
        "n_customers_with_purchases": counted["customer_id"].nunique(),
        "n_people_with_purchases": people.nunique(),
        "first_purchase_date": counted["order_date"].min(),
        "newest_purchase_date": counted["order_date"].max(),
        "purchases_per_person": {int(k): int(v) for k, v in per_person.items()},
    }


# --------------------------------------------------------------------------------------
# 1-2. The CDNOW event log
# --------------------------------------------------------------------------------------


def _cdnow_lines(name: str) -> list[bytes]:
    with gzip.open(DATA / name, "rb") as f:
        return f.read().splitlines(keepends=True)


def _cdnow_facts(records: pd.DataFrame) -> dict:
    """records: text columns customer_id, date (yyyymmdd), quantity, dollars."""
    dates = pd.to_datetime(records["date"], format="%Y%m%d")
    dollars = records["dollars"].map(Decimal)
    days = records.assign(day=dates).drop_duplicates(["customer_id", "day"])
    per_customer = days.groupby("customer_id").size()
    return {
        "customer_ids": frozenset(records["customer_id"]),
        "n_customers": records["customer_id"].nunique(),
        "n_records": len(records),
        "n_orders_in_file": len(records),
        "n_zero_amount_records": int((dollars == 0).sum()),
        "n_completed_purchases": int((dollars > 0).sum()),
        "n_customers_with_purchases": records.loc[(dollars > 0).to_numpy(), "customer_id"].nunique(),
        "total_net_amount": _cents(sum(dollars, Decimal(0))),
        "total_quantity": int(records["quantity"].astype(int).sum()),
        "n_customer_days": len(days),
        "n_repeat_customers": int((per_customer > 1).sum()),
        "first_purchase_date": dates.min().date().isoformat(),
        "newest_purchase_date": dates.max().date().isoformat(),
        "duplicate_pairs": set(),
        "keep_apart_pairs": set(),
    }


CDNOW_TABLES = frozenset({"orders", "order_lines"})


def orders_only_cdnow(folder: Path, n_customers: int = 150) -> Shape:
    """The first `n_customers` (150) customers of the real CDNOW event log.

    Files: ``CDNOW_first150.txt``, the lines of customers 00001-00150 copied byte for byte
    from lib/dbmarketing/data/CDNOW_master.txt.gz (whitespace-separated ``customer id,
    yyyymmdd, CDs, dollars``, no header, CRLF line ends; 600 records, 1997-01-01 to
    1998-06-27). Sources: one ``format: cdnow`` source with ``extracted: 1998-06-30``. There
    is no customer file, no products, no campaigns or contacts: every customer fact has to
    come from the orders alone.

    expected: the common keys for an orders-only file (no customer file: ``n_customers`` are
    the customer numbers of the log, all of them known; no n_people) plus ``customer_ids``
    (as written, zero-padded), ``n_records`` (= orders: one order per line),
    ``n_zero_amount_records``, ``n_completed_purchases`` (records with dollars > 0),
    ``total_net_amount`` (all dollars), ``total_quantity``, ``n_customer_days`` (distinct
    customer-day pairs: Fader-Hardie's purchase occasions) and ``n_repeat_customers``
    (customers with purchases on two or more days).
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = [line for line in _cdnow_lines("CDNOW_master.txt.gz") if int(line.split()[0]) <= n_customers]
    _write(folder / "CDNOW_first150.txt", b"".join(lines))
    records = pd.DataFrame([line.decode("ascii").split() for line in lines],
                           columns=["customer_id", "date", "quantity", "dollars"])
    expected = _cdnow_facts(records) | {"tables": CDNOW_TABLES, "extracted": "1998-06-30"}
    sources = _sources(folder, """\
  - name: cdnow_orders
    path: CDNOW_first150.txt
    format: cdnow
    extracted: 1998-06-30
""", "orders_only_cdnow: the first 150 customers of the CDNOW event log (customer id, yyyymmdd, CDs, dollars).")
    return Shape("orders_only_cdnow", sources, "1998-06-30", expected,
                 "Real CDNOW orders only: no customers, products, campaigns or contacts.")


def cdnow_hardie_sample(folder: Path, n_customers: int = 100) -> Shape:
    """Bruce Hardie's ORIGINAL 1/10 sample layout, first `n_customers` (100) sample customers.

    The bundled CDNOW_sample.txt.gz kept the master id and dropped Hardie's own running
    sample id. The sample id is restored as the 1-based rank of the master id's FIRST
    APPEARANCE in that file (the file keeps Hardie's order: by first purchase date, so master
    id 00018 is sample customer 0058, not 2). Rebuilt this way the whole file equals
    Hardie's distributed CDNOW_sample.txt line for line.

    Files: ``CDNOW_sample.txt``, 5 fixed-width fields per line, no header, CRLF:
    `` 00004 0001 19970101  2   29.33`` (master id, sample id, yyyymmdd, CDs, dollars);
    sample customers 0001-0100. Two sources files, both ``format: cdnow`` with
    ``extracted: 1998-06-30``: ``sources.yaml`` maps the fields by number
    (``columns: {customer_id: 1, order_date: 3, quantity: 4, amount: 5}``), and
    ``sources_default.yaml`` (``Shape.other_sources[0]``) has no ``columns:`` and relies on
    the 5-field default (Hardie's layout). Both must load the same.

    expected: as orders_only_cdnow (customer ids are the MASTER ids, as written), plus
    ``master_to_sample`` {master id: sample id} and ``n_fields`` 5.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rank: dict[str, int] = {}
    rows = []
    for line in _cdnow_lines("CDNOW_sample.txt.gz"):
        master, date, quantity, dollars = line.decode("ascii").split()
        sample = rank.setdefault(master, len(rank) + 1)
        if sample <= n_customers:
            rows.append((master, sample, date, quantity, dollars))
    text = "".join(f" {m} {s:04d} {d} {q:>2} {v:>7}\r\n" for m, s, d, q, v in rows)
    _write(folder / "CDNOW_sample.txt", text.encode("ascii"))
    records = pd.DataFrame([(m, d, q, v) for m, _, d, q, v in rows],
                           columns=["customer_id", "date", "quantity", "dollars"])
    expected = _cdnow_facts(records) | {
        "tables": CDNOW_TABLES, "extracted": "1998-06-30", "n_fields": 5,
        "master_to_sample": {m: f"{s:04d}" for m, s, *_ in rows},
    }
    comment = ("cdnow_hardie_sample: Bruce Hardie's 1/10 sample layout, 5 fields "
               "(master id, sample id, yyyymmdd, CDs, dollars); first 100 sample customers.")
    sources = _sources(folder, """\
  - name: cdnow_sample
    path: CDNOW_sample.txt
    format: cdnow
    extracted: 1998-06-30
    columns: {customer_id: 1, order_date: 3, quantity: 4, amount: 5}
""", comment + "\nFields mapped by number (1-based).")
    default = _sources(folder, """\
  - name: cdnow_sample
    path: CDNOW_sample.txt
    format: cdnow
    extracted: 1998-06-30
""", comment + "\nNo columns: the 5-field default layout.", name="sources_default.yaml")
    return Shape("cdnow_hardie_sample", sources, "1998-06-30", expected,
                 "Hardie's original 5-field sample layout; customer = master id (field 1), not the "
                 "sample id (field 2). other_sources holds the same load without columns:.",
                 other_sources=(default,))


# --------------------------------------------------------------------------------------
# 3-4, 10a. CRM member file + order totals
# --------------------------------------------------------------------------------------

GBK_STYLE = dict(
    member_file="会员.csv", order_file="订单.csv",
    member_header=["会员号", "姓名", "性别", "手机号", "出生日期", "注册日期", "城市"],
    order_header=["订单号", "会员号", "下单日期", "金额"],
    encoding="gbk", bom=False, delimiter=",", newline="\r\n", date_format="%Y-%m-%d",
    gender_words={"M": "男", "F": "女"}, yen="￥", amount_styles=("yen", "fullwidth"),
)
BOM_STYLE = dict(
    member_file="members.csv", order_file="orders.csv",
    member_header=["member_no", "full_name", "sex", "mobile", "date_of_birth", "registered_on", "city"],
    order_header=["order_no", "member_no", "order_date", "total"],
    encoding="utf-8", bom=True, delimiter=";", newline="\r\n", date_format="%d.%m.%Y",
    gender_words={"M": "male", "F": "female"}, yen="¥", amount_styles=("yen", "dollar"),
)
MODEL_MEMBER_COLUMNS = ["customer_id", "name", "gender", "phone", "birth_date", "signup_date", "city"]
MODEL_ORDER_COLUMNS = ["order_id", "customer_id", "order_date", "amount"]


def _crm_yaml(style: dict, extracted: str) -> str:
    def block(columns, header, date_columns):
        text = "    columns:\n" + "".join(f"      {m}: {s}\n" for m, s in zip(columns, header))
        if style["date_format"] != "%Y-%m-%d":
            text += "    date_formats:\n" + "".join(
                f"      {c}: \"{style['date_format']}\"\n" for c in date_columns)
        return text

    def head(name, path, table):
        text = f"  - name: {name}\n    path: {path}\n    table: {table}\n    encoding: auto\n"
        if style["delimiter"] != ",":
            text += f"    delimiter: \"{style['delimiter']}\"\n"
        return text + f"    extracted: {extracted}\n"

    words = style["gender_words"]
    return (head("members", style["member_file"], "customers")
            + block(MODEL_MEMBER_COLUMNS, style["member_header"], ["birth_date", "signup_date"])
            + f"    values:\n      gender: {{{words['M']}: M, {words['F']}: F}}\n"
            + "    constants:\n      source_system: crm\n      customer_type: consumer\n"
            + head("orders", style["order_file"], "orders")
            + block(MODEL_ORDER_COLUMNS, style["order_header"], ["order_date"]))


def _crm(folder: Path, seed: int, *, name: str, style: dict, n_rows: int, n_twice: int, zhou_jing: bool,
         n_orders: int, n_future: int, n_unknown: int, notes: str, doc_comment: str) -> Shape:
    """A CRM member file (one row per registration) and an order file with one total per
    order; see crm_gbk for the shape."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    phones: set = set()
    n_people = n_rows - n_twice
    people = _people(rng, n_people - (2 if zhou_jing else 0), phones=phones)
    if zhou_jing:  # two different people called 周静 in 深圳: never to be merged
        people.append({"name": "周静", "gender": "F", "mobile": _mobile(rng, phones),
                       "birth_date": dt.date(1974, 5, 12), "city": "深圳",
                       "signup_date": _day(rng, dt.date(2019, 1, 1), dt.date(2024, 12, 31))})
        people.append({"name": "周静", "gender": "M", "mobile": _mobile(rng, phones),
                       "birth_date": dt.date(1988, 9, 3), "city": "深圳",
                       "signup_date": _day(rng, dt.date(2019, 1, 1), dt.date(2024, 12, 31))})
    styles = ["plain"] * 88 + ["spaced"] * 5 + ["plus86"] * 4 + ["plus86_tight"] * 2 + ["dashed"] * 1
    rows = []  # registrations: person index, phone as written, city as written, signup date
    for i, p in enumerate(people):
        written_city = p["city"] if p["name"] == "周静" else _city_as(p["city"], rng)
        rows.append({"person": i, "phone": _phone_as(p["mobile"], styles[int(rng.integers(len(styles)))]),
                     "city": written_city, "signup_date": p["signup_date"]})
    ordinary = [i for i, p in enumerate(people) if p["name"] != "周静"]
    twice = sorted(int(i) for i in rng.choice(ordinary, size=n_twice, replace=False))
    for i in twice:  # registered again: new number, same name/phone/birth date, phone written otherwise
        p, first = people[i], rows[i]
        other = "plain" if first["phone"] != p["mobile"] else ["spaced", "plus86", "plus86_tight"][int(rng.integers(3))]
        latest = min((END - dt.timedelta(days=10) - p["signup_date"]).days, 700)
        second = p["signup_date"] + dt.timedelta(days=int(rng.integers(30, latest + 1)))
        city = p["city"] + ("市" if not first["city"].endswith("市") else "") if rng.random() < 0.5 else first["city"]
        rows.append({"person": i, "phone": _phone_as(p["mobile"], other), "city": city, "signup_date": second})
    # Member numbers are given in order of registration.
    order = sorted(range(len(rows)), key=lambda r: (rows[r]["signup_date"], r))
    for number, r in enumerate(order, start=10000001):
        rows[r]["member_id"] = str(number)
    fmt = style["date_format"]
    members = [[rows[r]["member_id"], people[rows[r]["person"]]["name"],
                style["gender_words"][people[rows[r]["person"]]["gender"]], rows[r]["phone"],
                people[rows[r]["person"]]["birth_date"].strftime(fmt), rows[r]["signup_date"].strftime(fmt),
                rows[r]["city"]] for r in order]
    by_person: dict[int, list[str]] = {}
    for r in order:
        by_person.setdefault(rows[r]["person"], []).append(rows[r]["member_id"])
    pairs = {frozenset(by_person[i]) for i in twice}
    keep_apart = ({frozenset(rows[i]["member_id"] for i, p in enumerate(people) if p["name"] == "周静")}
                  if zhou_jing else set())
    # Different people who merely share a common name (never also a birth date).
    same_name = {frozenset((by_person[i][0], by_person[j][0])) for i in range(len(people))
                 for j in range(i + 1, len(people)) if people[i]["name"] == people[j]["name"]} - keep_apart

    # Orders: each registration has its own buying propensity; 15% never buy.
    start = dt.date(END.year - 2, END.month, END.day) + dt.timedelta(days=1)
    propensity = rng.gamma(0.8, 1.0, len(rows)) * (rng.random(len(rows)) >= 0.15)
    # Both numbers of a person registered twice, and both 周静, buy at least once: merging
    # them (or wrongly merging the 周静s) changes their purchase history.
    sure = [r for r, row in enumerate(rows) if row["person"] in twice or people[row["person"]]["name"] == "周静"]
    window = np.array([(END - max(start, row["signup_date"])).days + 1 for row in rows], dtype=float)
    weights = propensity * window
    who = sure + [int(r) for r in rng.choice(len(rows), size=n_orders - n_unknown - len(sure), p=weights / weights.sum())]
    drafts = []
    for r in who:
        drafts.append({"member_id": rows[r]["member_id"], "date": _day(rng, max(start, rows[r]["signup_date"]), END),
                       "amount": _amount(rng)})
    unknown_member = str(10000001 + len(rows) + 317)  # a member deleted from the CRM
    for _ in range(n_unknown):
        drafts.append({"member_id": unknown_member, "date": _day(rng, start, END), "amount": _amount(rng)})
    drafts.sort(key=lambda d: (d["date"], d["member_id"]))
    per_day: dict[dt.date, int] = {}
    for d in drafts:
        per_day[d["date"]] = per_day.get(d["date"], 0) + 1
        d["order_id"] = f"SO{d['date']:%Y%m%d}{per_day[d['date']]:03d}"
        d["written"] = d["date"]
    # Future-dated errors: orders of October 2026 keyed with a wrong year or month.
    keep = {rows[r]["member_id"] for r in sure} | {unknown_member}
    october = [k for k, d in enumerate(drafts) if d["date"] >= dt.date(2026, 10, 1) and d["member_id"] not in keep]
    for n, k in enumerate(sorted(int(x) for x in rng.choice(october, size=n_future, replace=False))):
        d = drafts[k]["date"]
        drafts[k]["written"] = d.replace(year=2027) if n % 2 == 0 else d.replace(month=11, day=min(d.day, 30))
    amount_styles = ["plain"] * 17 + [style["amount_styles"][0]] * 3
    order_rows = []
    for k, d in enumerate(drafts):
        text_style = amount_styles[int(rng.integers(len(amount_styles)))]
        if style["amount_styles"][1] == "fullwidth" and k % 150 == 75:
            text_style = "fullwidth"  # a few totals typed with full-width digits
        if style["amount_styles"][1] == "dollar" and k % 120 == 60:
            text_style = "dollar"
        order_rows.append([d["order_id"], d["member_id"], d["written"].strftime(fmt),
                           _amount_text(d["amount"], text_style, style["yen"])])

    csv_options = dict(encoding=style["encoding"], bom=style["bom"], delimiter=style["delimiter"],
                       newline=style["newline"])
    _write(folder / style["member_file"], _csv_bytes(style["member_header"], members, **csv_options))
    _write(folder / style["order_file"], _csv_bytes(style["order_header"], order_rows, **csv_options))
    sources = _sources(folder, _crm_yaml(style, AS_OF), doc_comment)

    # Expected, from the files as written.
    encoding = "utf-8-sig" if style["bom"] else style["encoding"]
    read = dict(dtype=str, keep_default_na=False, encoding=encoding, sep=style["delimiter"])
    m = pd.read_csv(folder / style["member_file"], **read)
    m.columns = MODEL_MEMBER_COLUMNS
    o = pd.read_csv(folder / style["order_file"], **read)
    o.columns = MODEL_ORDER_COLUMNS
    o["order_date"] = pd.to_datetime(o["order_date"], format=fmt).dt.strftime("%Y-%m-%d")
    digits = m["phone"].str.replace(r"\D", "", regex=True).str[-11:]
    expected = {
        "tables": frozenset({"customers", "orders"}),
        "extracted": AS_OF,
        "n_member_rows": len(m),
        "n_customers": m["customer_id"].nunique(),
        "n_people": m["customer_id"].nunique() - len(pairs),
        "n_distinct_phones": digits.nunique(),
        "duplicate_pairs": pairs,
        "keep_apart_pairs": keep_apart,
        "same_name_different_people": same_name,
        "phones_not_plain": int((m["phone"] != digits).sum()),
        "n_city_spellings": m["city"].nunique(),
        "n_cities": m["city"].str.removesuffix("市").nunique(),
        "amounts_with_yen": int(o["amount"].str.contains("[¥￥]").sum()),
        "amounts_with_thousands_separator": int(o["amount"].str.contains(",").sum()),
        "amounts_with_fullwidth_digits": int(o["amount"].str.contains("[０-９]").sum()),
        "amounts_with_dollar": int(o["amount"].str.contains(r"\$").sum()),
    } | _purchase_facts(o, AS_OF, set(m["customer_id"]), pairs)
    return Shape(name, sources, AS_OF, expected, notes)


def crm_gbk(folder: Path, seed: int = 20261031) -> Shape:
    """A small Chinese CRM export, GBK-encoded (CRLF), with duplicates and a look-alike pair.

    ``会员.csv`` (header 会员号,姓名,性别,手机号,出生日期,注册日期,城市): 200 member rows
    (会员号 10000001-10000200, numbered in order of 注册日期) of 195 people. 性别 男/女;
    手机号 11-digit mobiles, about one in ten written ``138 1234 5678``, ``+86 13812345678``,
    ``+8613812345678`` or ``138-1234-5678``; 出生日期 ``1974-05-12``; cities from 20 real
    cities, written 深圳 or 深圳市; common and rare (欧阳, 禤, ...) names. Five people
    registered twice: a second row with a new (later) 会员号, same name, same mobile written
    another way, same birth date, later 注册日期 (city maybe with/without 市); both numbers
    have purchases, so merging them changes RFM and CLV. Two DIFFERENT
    people are both called 周静 in 深圳 (F born 1974-05-12, M born 1988-09-03, each with
    their own mobile, both with purchases): they must never be merged.

    ``订单.csv`` (header 订单号,会员号,下单日期,金额): 600 orders, one total per order (no
    lines, no status/type: all completed sales) from 2024-11-01 to 2026-10-31; totals from
    1,000 written ``"1,104.92"`` (quoted, the comma is the delimiter), about 15% with ``￥``
    (the full-width yen sign: GBK has no ``¥``), a few typed with full-width digits, some whole
    (``￥88``). Two orders are dated after 2026-10-31 (a year and a month typo:
    future-dated), two belong to a 会员号 that is not in the member file.

    Sources: members -> customers, orders -> orders, ``encoding: auto``, both
    ``extracted: 2026-10-31``. ``expected``: the common keys (5 ``duplicate_pairs``, the
    周静 pair in ``keep_apart_pairs``, 596 completed purchases), plus ``n_member_rows``,
    ``same_name_different_people`` (pairs of first registrations of different people who
    happen to share a common name: not duplicates either), ``n_distinct_phones`` (as 11
    digits), ``phones_not_plain``, ``n_city_spellings`` /
    ``n_cities``, and how many amounts carry a yen sign, a thousands separator, full-width
    digits or a dollar sign.
    """
    return _crm(folder, seed, name="crm_gbk", style=GBK_STYLE, n_rows=200, n_twice=5, zhou_jing=True,
                n_orders=600, n_future=2, n_unknown=2,
                notes="GBK CRM: 200 member rows, 5 people registered twice, two different 周静 in 深圳; "
                      "600 order totals with thousands separators and ￥, 2 future-dated, 2 of an unknown member.",
                doc_comment="crm_gbk: Chinese CRM export in GBK. 会员.csv = members, 订单.csv = one total per order.")


def crm_no_duplicates(folder: Path, seed: int = 20261101) -> Shape:
    """Like crm_gbk (GBK, same headers and writing styles, 600 orders with 2 future-dated and
    2 of an unknown member) but 200 member rows of 200 different people: nobody registered
    twice, no two members share a mobile, and there is no 周静 pair. ``duplicate_pairs`` and
    ``keep_apart_pairs`` are empty; a correct cleaning merges no one (people may share a
    common name, never a name and a birth date)."""
    return _crm(folder, seed, name="crm_no_duplicates", style=GBK_STYLE, n_rows=200, n_twice=0,
                zhou_jing=False, n_orders=600, n_future=2, n_unknown=2,
                notes="GBK CRM without duplicates: a correct cleaning merges nobody.",
                doc_comment="crm_no_duplicates: Chinese CRM export in GBK, nobody registered twice.")


def crm_utf8_bom_semicolon(folder: Path, seed: int = 20261102) -> Shape:
    """A CRM export with English headers, UTF-8 with BOM, ``;`` as delimiter, CRLF, and
    dates written ``31.10.2026`` (``date_formats: "%d.%m.%Y"``).

    ``members.csv`` (member_no;full_name;sex;mobile;date_of_birth;registered_on;city): 150
    rows of 147 people (3 registered twice, as in crm_gbk), sex ``male``/``female`` mapped by
    ``values:``, Chinese names and cities. ``orders.csv`` (order_no;member_no;order_date;total):
    400 totals, thousands separators unquoted (``1,104.92``: the comma is not the
    delimiter), some with ``¥``, a few with ``$``; no future-dated or unknown-member orders.
    ``expected``: as crm_gbk.
    """
    return _crm(folder, seed, name="crm_utf8_bom_semicolon", style=BOM_STYLE, n_rows=150, n_twice=3,
                zhou_jing=False, n_orders=400, n_future=0, n_unknown=0,
                notes="English headers, UTF-8 with BOM, ';' delimiter, dd.mm.yyyy dates via date_formats.",
                doc_comment="crm_utf8_bom_semicolon: UTF-8 with BOM, ';'-separated, dates dd.mm.yyyy.")


# --------------------------------------------------------------------------------------
# 5-9, 10b. Small UTF-8 exports: customers.csv + orders.csv (order totals)
# --------------------------------------------------------------------------------------

CUSTOMER_HEADER = ["customer_id", "name", "gender", "birth_date", "phone", "city", "signup_date"]


def _customer_rows(rng, n: int, prefix: str = "C") -> list[list[str]]:
    return [[f"{prefix}{i:04d}", p["name"], p["gender"], p["birth_date"].isoformat(), p["mobile"], p["city"],
             p["signup_date"].isoformat()]
            for i, p in enumerate(_people(rng, n, signup_to=dt.date(2024, 10, 31)), start=1)]


def _simple_yaml(extracted: str, *, order_extra: str = "", order_columns: str = "") -> str:
    columns = order_columns or "{order_id: order_id, customer_id: customer_id, order_date: order_date, amount: amount}"
    return f"""\
  - name: customers
    path: customers.csv
    table: customers
    extracted: {extracted}
    columns: {{customer_id: customer_id, name: name, gender: gender, birth_date: birth_date, phone: phone, city: city, signup_date: signup_date}}
    constants: {{source_system: crm, customer_type: consumer}}
  - name: orders
    path: orders.csv
    table: orders
    extracted: {extracted}
    columns: {columns}
{order_extra}"""


def _simple_shape(folder: Path, name: str, customers: list[list[str]], orders: list[list[str]], notes: str,
                  extra: dict | None = None, order_header=("order_id", "customer_id", "order_date", "amount"),
                  order_extra: str = "", order_columns: str = "", extracted: str = AS_OF,
                  yaml_body_extra: str = "", tables=("customers", "orders"), status_words: dict | None = None
                  ) -> Shape:
    """Write customers.csv and orders.csv (UTF-8, LF) and the sources file; expected facts
    from the written files."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "customers.csv", _csv_bytes(CUSTOMER_HEADER, customers))
    _write(folder / "orders.csv", _csv_bytes(list(order_header), orders))
    body = _simple_yaml(extracted, order_extra=order_extra, order_columns=order_columns) + yaml_body_extra
    sources = _sources(folder, body, f"{name}: customers.csv + orders.csv (one total per order), UTF-8.")
    expected = _simple_expected(folder, extracted, tables, status_words) | (extra or {})
    return Shape(name, sources, extracted, expected, notes)


def _simple_expected(folder: Path, extracted: str, tables, status_words: dict | None = None) -> dict:
    read = dict(dtype=str, keep_default_na=False, encoding="utf-8")
    c = pd.read_csv(folder / "customers.csv", **read)
    o = pd.read_csv(folder / "orders.csv", **read)
    if status_words:
        o["status"] = o["status"].map(status_words)
    return {"tables": frozenset(tables), "extracted": extracted,
            "n_customers": c["customer_id"].nunique(), "n_people": c["customer_id"].nunique(),
            "duplicate_pairs": set(), "keep_apart_pairs": set()} | _purchase_facts(o, extracted, set(c["customer_id"]))


def one_customer(folder: Path, seed: int = 1) -> Shape:
    """One customer, four orders.

    ``customers.csv`` (customer_id,name,gender,birth_date,phone,city,signup_date; UTF-8, LF,
    gender M/F, ISO dates): customer C0001. ``orders.csv`` (order_id,customer_id,order_date,
    amount): 4 completed orders of C0001 in 2025-2026, plain totals. Every per-customer
    statistic (quantiles, k-means, models, control groups) has a sample of one.
    ``expected``: the common keys.
    """
    rng = np.random.default_rng(seed)
    customers = _customer_rows(rng, 1)
    dates = sorted(_day(rng, dt.date(2025, 1, 1), END) for _ in range(4))
    orders = [[f"O{k:05d}", "C0001", d.isoformat(), _amount_text(_amount(rng))] for k, d in enumerate(dates, start=1)]
    return _simple_shape(folder, "one_customer", customers, orders, "A database of one customer.")


def ten_customers(folder: Path, seed: int = 10) -> Shape:
    """Ten customers, 0 to 8 orders each.

    Files as one_customer (C0001-C0010). C0010 never bought, C0009 once; the others 2-8
    times over 2025-01-01..2026-10-31. The totals use every written form of an amount once
    or more: ``1,104.92``, ``¥1,104.92``, ``￥88``, ``$12.50``, full-width digits
    (``２９９.００``), whole numbers; the rest plain. ``expected``: the common keys plus
    ``amount_texts`` (the amount column as written, in file order).
    """
    rng = np.random.default_rng(seed)
    customers = _customer_rows(rng, 10)
    counts = [8, 6, 5, 4, 3, 3, 2, 2, 1, 0]
    drafts = sorted((_day(rng, dt.date(2025, 1, 1), END), f"C{i:04d}", _amount(rng))
                    for i, n in enumerate(counts, start=1) for _ in range(n))
    forced = {0: ("plain", Decimal("1104.92")), 1: ("yen", Decimal("1104.92")), 2: ("yen_fw", Decimal("88")),
              3: ("dollar", Decimal("12.50")), 4: ("fullwidth", Decimal("299.00")), 5: ("plain", Decimal("2350"))}
    orders = []
    for k, (d, c, a) in enumerate(drafts):
        style, amount = forced.get(k, ("plain", a))
        text = "￥" + _amount_text(amount) if style == "yen_fw" else _amount_text(amount, style, "¥")
        orders.append([f"O{k + 1:05d}", c, d.isoformat(), text])
    shape = _simple_shape(folder, "ten_customers", customers, orders,
                          "Ten customers; every written form of an amount.")
    shape.expected["amount_texts"] = [row[3] for row in orders]
    return shape


def sparse_rf(folder: Path, seed: int = 40) -> Shape:
    """40 customers whose histories leave most R x F score cells empty.

    Files as one_customer (C0001-C0040). 36 customers bought exactly once (dates spread over
    2024-11-01..2026-10-31), 3 twice, 1 five times: frequency has almost no spread, so most
    frequency levels and R x F cells are empty and quantile breakpoints tie. ``expected``:
    the common keys; ``purchases_per_person`` is {1: 36, 2: 3, 5: 1}.
    """
    rng = np.random.default_rng(seed)
    customers = _customer_rows(rng, 40)
    counts = [1] * 36 + [2] * 3 + [5]
    drafts = sorted((_day(rng, dt.date(2024, 11, 1), END), f"C{i:04d}", _amount(rng))
                    for i, n in enumerate(counts, start=1) for _ in range(n))
    # one purchase per customer and day, so counting orders or purchase days agrees
    while len({(d, c) for d, c, _ in drafts}) < len(drafts):
        drafts = sorted((_day(rng, dt.date(2024, 11, 1), END), f"C{i:04d}", _amount(rng))
                        for i, n in enumerate(counts, start=1) for _ in range(n))
    orders = [[f"O{k:05d}", c, d.isoformat(), _amount_text(a)] for k, (d, c, a) in enumerate(drafts, start=1)]
    return _simple_shape(folder, "sparse_rf", customers, orders,
                         "Almost everyone bought once: most R x F cells are empty.")


def single_day(folder: Path, seed: int = 7) -> Shape:
    """Every order on one day.

    Files as one_customer: 60 customers (C0001-C0060), 80 orders all dated 2026-10-17
    (extracted and as of 2026-10-31): every customer's recency is 14 days, every first
    purchase is the last; 20 customers placed 2 orders that day (two order numbers, one
    purchase day). ``expected``: the common keys plus ``the_day`` and
    ``customers_with_two_orders``.
    """
    rng = np.random.default_rng(seed)
    customers = _customer_rows(rng, 60)
    twice = sorted(int(i) for i in rng.choice(60, size=20, replace=False))
    buyers = sorted([f"C{i:04d}" for i in range(1, 61)] + [f"C{i + 1:04d}" for i in twice])
    orders = [[f"O{k:05d}", c, "2026-10-17", _amount_text(_amount(rng))] for k, c in enumerate(buyers, start=1)]
    return _simple_shape(folder, "single_day", customers, orders, "All orders on 2026-10-17.",
                         extra={"the_day": "2026-10-17", "customers_with_two_orders": 20})


CAMPAIGNS = [  # id, name, channel word, start, end, window days, cost per contact, offer, contacts
    ("CP2606", "夏季短信优惠", "短信", dt.date(2026, 6, 10), dt.date(2026, 6, 12), 30, "0.05", "满200减30", 70),
    ("CP2609", "秋季直邮目录", "直邮", dt.date(2026, 9, 7), dt.date(2026, 9, 9), 45, "2.50", "全场9折", 60),
]


def campaign_without_control(folder: Path, seed: int = 5) -> Shape:
    """Two campaigns whose contacts are all in the test cell: no control group.

    ``customers.csv``/``orders.csv`` as one_customer: 120 customers (C0001-C0120), orders
    2025-11-01..2026-10-31 (about 1.5 per customer at random, plus a purchase in the
    response window for about a quarter of the contacted). ``campaigns.csv`` (campaign_id,
    campaign_name,channel,start_date,end_date,response_window_days,cost_per_contact,offer;
    channel 短信/直邮 mapped to sms/direct_mail): CP2606 (SMS, 2026-06-10..12, 30-day
    window) and CP2609 (direct mail, 2026-09-07..09, 45 days). ``contacts.csv``
    (campaign_id,customer_id,cell,contact_date; cell ``T`` mapped to test): 70 and 60
    customers, every one ``T``, contact dates within the campaign days. No order falls on a
    contacted customer's contact date or on contact date + window, so "in the window" is
    the same whether either end is counted.

    ``expected``: the common keys, ``tables`` with campaigns and contacts, plus
    ``n_campaigns``, ``n_contacts``, ``contacts_by_cell`` ({test: n, control: 0}), and per
    campaign ``responders`` (contacted customers with a counted purchase dated from the
    contact date up to contact date + window days) and ``response_revenue`` (their amounts
    in that window).
    """
    rng = np.random.default_rng(seed)
    customers = _customer_rows(rng, 120)
    ids = [row[0] for row in customers]
    contacts = []  # campaign, customer, cell word, date
    for cid, _, _, start, end, _, _, _, n in CAMPAIGNS:
        for k in sorted(int(x) for x in rng.choice(120, size=n, replace=False)):
            contacts.append([cid, ids[k], "T", _day(rng, start, end)])
    window = {c[0]: c[5] for c in CAMPAIGNS}
    boundary = {}  # customer -> days no order may fall on
    for cid, cust, _, day in contacts:
        boundary.setdefault(cust, set()).update({day, day + dt.timedelta(days=window[cid])})
    drafts = []
    for cust in ids:
        for _ in range(int(rng.poisson(1.5))):
            drafts.append((_day(rng, dt.date(2025, 11, 1), END), cust, _amount(rng)))
    for cid, cust, _, day in contacts:
        if rng.random() < 0.25:
            drafts.append((day + dt.timedelta(days=int(rng.integers(1, window[cid]))), cust, _amount(rng)))
    fixed = []
    for d, cust, a in drafts:
        while d in boundary.get(cust, ()):
            d += dt.timedelta(days=1)
        fixed.append((min(d, END), cust, a))
    assert all(d not in boundary.get(c, ()) for d, c, _ in fixed)
    orders = [[f"O{k:05d}", c, d.isoformat(), _amount_text(a)] for k, (d, c, a) in enumerate(sorted(fixed), start=1)]
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "campaigns.csv", _csv_bytes(
        ["campaign_id", "campaign_name", "channel", "start_date", "end_date", "response_window_days",
         "cost_per_contact", "offer"],
        [[c[0], c[1], c[2], c[3].isoformat(), c[4].isoformat(), c[5], c[6], c[7]] for c in CAMPAIGNS]))
    _write(folder / "contacts.csv", _csv_bytes(["campaign_id", "customer_id", "cell", "contact_date"],
                                               [[a, b, c, d.isoformat()] for a, b, c, d in contacts]))
    extra_yaml = f"""\
  - name: campaigns
    path: campaigns.csv
    table: campaigns
    extracted: {AS_OF}
    columns: {{campaign_id: campaign_id, campaign_name: campaign_name, channel: channel, start_date: start_date, end_date: end_date, response_window_days: response_window_days, cost_per_contact: cost_per_contact, offer: offer}}
    values:
      channel: {{短信: sms, 直邮: direct_mail}}
  - name: contacts
    path: contacts.csv
    table: contacts
    extracted: {AS_OF}
    columns: {{campaign_id: campaign_id, customer_id: customer_id, cell: cell, contact_date: contact_date}}
    values:
      cell: {{T: test, C: control}}
"""
    shape = _simple_shape(folder, "campaign_without_control", customers, orders,
                          "Every contact is in the test cell: no control group to compare with.",
                          yaml_body_extra=extra_yaml, tables=("customers", "orders", "campaigns", "contacts"))
    # Expected campaign facts, from the written files.
    read = dict(dtype=str, keep_default_na=False, encoding="utf-8")
    o = pd.read_csv(folder / "orders.csv", **read)
    o = o[o["order_date"] <= AS_OF].assign(date=lambda f: pd.to_datetime(f["order_date"]),
                                           value=lambda f: f["amount"].map(parse_amount))
    k = pd.read_csv(folder / "contacts.csv", **read).assign(date=lambda f: pd.to_datetime(f["contact_date"]))
    g = pd.read_csv(folder / "campaigns.csv", **read)
    cells = k["cell"].map({"T": "test", "C": "control"})
    responders, revenue = {}, {}
    for _, camp in g.iterrows():
        mine = k[k["campaign_id"] == camp["campaign_id"]].merge(o, on="customer_id", suffixes=("_c", ""))
        ends = mine["date_c"] + pd.to_timedelta(int(camp["response_window_days"]), unit="D")
        hits = mine[(mine["date"] >= mine["date_c"]) & (mine["date"] < ends)]
        responders[camp["campaign_id"]] = hits["customer_id"].nunique()
        revenue[camp["campaign_id"]] = _cents(sum(hits["value"], Decimal(0)))
    shape.expected.update({"n_campaigns": len(g), "n_contacts": len(k),
                           "contacts_by_cell": {"test": int((cells == "test").sum()),
                                                "control": int((cells == "control").sum())},
                           "responders": responders, "response_revenue": revenue})
    return shape


# The cumulative export: month 1 to 2026-09-30, month 2 to 2026-10-31.
STATUS_WORDS = {"Completed": "completed", "Cancelled": "cancelled"}
CUMULATIVE_COLUMNS = "{order_id: order_id, customer_id: customer_id, order_date: order_date, amount: amount, status: status}"
CUMULATIVE_VALUES = "    values:\n      status: {Completed: completed, Cancelled: cancelled}\n"


def _cumulative_rows(seed: int):
    rng = np.random.default_rng(seed)
    customers = _customer_rows(rng, 80)
    drafts = sorted((_day(rng, dt.date(2026, 1, 1), dt.date(2026, 9, 30)), f"C{int(i):04d}", _amount(rng))
                    for i in rng.integers(1, 81, 250))
    month1 = [[f"O{k:05d}", c, d.isoformat(), _amount_text(a), "Completed"] for k, (d, c, a) in enumerate(drafts, start=1)]
    for k in sorted(int(x) for x in rng.choice(len(month1), size=3, replace=False)):
        month1[k][4] = "Cancelled"
    september = [k for k, row in enumerate(month1) if row[2] >= "2026-09-01" and row[4] == "Completed"]
    changed = int(rng.choice(september))
    new = sorted((_day(rng, dt.date(2026, 10, 1), END), f"C{int(i):04d}", _amount(rng)) for i in rng.integers(1, 81, 2))
    new_rows = [[f"O{len(month1) + k:05d}", c, d.isoformat(), _amount_text(a), "Completed"]
                for k, (d, c, a) in enumerate(new, start=1)]
    return customers, month1, changed, new_rows


def _cumulative_shape(folder: Path, name: str, customers, orders, extracted: str, notes: str, extra: dict) -> Shape:
    return _simple_shape(folder, name, customers, orders, notes, extra=extra,
                         order_header=("order_id", "customer_id", "order_date", "amount", "status"),
                         order_columns=CUMULATIVE_COLUMNS, order_extra=CUMULATIVE_VALUES, extracted=extracted,
                         status_words=STATUS_WORDS)


def cumulative(folder: Path, seed: int = 2026) -> Shape:
    """Month 1 of a monthly CUMULATIVE export (each month's file holds every order so far).

    ``customers.csv`` as one_customer (80 customers, C0001-C0080; the same bytes in both
    months). ``orders.csv`` (order_id,customer_id,order_date,amount,status; status
    ``Completed``/``Cancelled`` mapped by ``values:``): 250 orders O00001-O00250 dated
    2026-01-01..2026-09-30, 3 of them cancelled; ``extracted: 2026-09-30``, as of 2026-09-30.
    Month 2 is :func:`cumulative_month2` on the same folder. ``expected``: the common keys
    (cancelled orders are not purchases) plus ``month`` 1.
    """
    customers, month1, _, _ = _cumulative_rows(seed)
    return _cumulative_shape(folder, "cumulative", customers, month1, "2026-09-30",
                             "Cumulative monthly export, month 1 (to 2026-09-30).", {"month": 1})


def cumulative_month2(folder: Path, seed: int = 2026) -> Shape:
    """Month 2 of the cumulative export: OVERWRITES ``orders.csv`` (and the sources file,
    now ``extracted: 2026-10-31``) in `folder`; ``customers.csv`` is rewritten with the same
    bytes as month 1.

    The new ``orders.csv``: month 1's 250 rows in the same order and the same text, except
    one September order whose status changed from Completed to Cancelled, then 2 new orders
    (O00251, O00252) dated in October 2026. A correct load of month 2 into month 1's
    database counts 2 new orders, 1 updated and 249 unchanged. ``expected``: the common keys
    for the month-2 file plus ``month`` 2, ``new_orders``, ``updated_orders`` (order
    numbers), ``n_unchanged_orders`` and ``load_counts`` ({new: 2, updated: 1, unchanged:
    249}).
    """
    customers, month1, changed, new_rows = _cumulative_rows(seed)
    month2 = [list(row) for row in month1]
    month2[changed][4] = "Cancelled"
    month2 += new_rows
    extra = {"month": 2, "new_orders": {row[0] for row in new_rows}, "updated_orders": {month1[changed][0]},
             "n_unchanged_orders": len(month1) - 1,
             "load_counts": {"new": len(new_rows), "updated": 1, "unchanged": len(month1) - 1}}
    return _cumulative_shape(folder, "cumulative_month2", customers, month2, AS_OF,
                             "Cumulative monthly export, month 2 (to 2026-10-31): 2 new, 1 cancelled since.", extra)


def orders_excel(folder: Path, seed: int = 11) -> Shape:
    """Orders kept in Excel: ``orders.xlsx`` with real Excel dates and numeric amounts.

    ``customers.csv`` as one_customer but with member numbers 10000001-10000100 (text).
    ``orders.xlsx``, sheet ``订单`` (the only sheet), header row ``Order No | Member No |
    Order Date | Amount``: 300 orders 2024-11-01..2026-10-31; Order No text (``SO00001``),
    Member No a NUMBER cell (10000001, as Excel keeps it), Order Date a real date cell
    (format yyyy-mm-dd), Amount a number (format #,##0.00). The workbook's timestamps are
    pinned so its bytes are stable. ``expected``: the common keys.
    """
    import openpyxl

    rng = np.random.default_rng(seed)
    customers = [[str(10000000 + int(row[0][1:]))] + row[1:] for row in _customer_rows(rng, 100)]
    drafts = sorted((_day(rng, dt.date(2024, 11, 1), END), 10000000 + int(i), _amount(rng))
                    for i in rng.integers(1, 101, 300))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "订单"
    sheet.append(["Order No", "Member No", "Order Date", "Amount"])
    for k, (d, member, amount) in enumerate(drafts, start=1):
        sheet.append([f"SO{k:05d}", member, dt.datetime(d.year, d.month, d.day), float(amount)])
        sheet.cell(row=k + 1, column=3).number_format = "yyyy-mm-dd"
        sheet.cell(row=k + 1, column=4).number_format = "#,##0.00"
    book.properties.creator = "shapes"
    buffer = io.BytesIO()
    book.save(buffer)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "orders.xlsx", _stable_xlsx(buffer.getvalue()))
    _write(folder / "customers.csv", _csv_bytes(CUSTOMER_HEADER, customers))
    body = _simple_yaml(AS_OF).split("  - name: orders")[0] + f"""\
  - name: orders
    path: orders.xlsx
    table: orders
    sheet: 订单
    extracted: {AS_OF}
    columns: {{order_id: Order No, customer_id: Member No, order_date: Order Date, amount: Amount}}
"""
    sources = _sources(folder, body, "orders_excel: customers.csv + orders.xlsx (real Excel dates, numeric amounts).")
    # Expected, from the workbook as written (read back with openpyxl).
    read = openpyxl.load_workbook(folder / "orders.xlsx", read_only=True)
    values = list(read["订单"].iter_rows(min_row=2, values_only=True))
    read.close()
    o = pd.DataFrame({"order_id": [v[0] for v in values], "customer_id": [str(v[1]) for v in values],
                      "order_date": [v[2].date().isoformat() for v in values],
                      "amount": [repr(v[3]) for v in values]})
    c = pd.read_csv(folder / "customers.csv", dtype=str, keep_default_na=False)
    expected = {"tables": frozenset({"customers", "orders"}), "extracted": AS_OF,
                "n_customers": c["customer_id"].nunique(), "n_people": c["customer_id"].nunique(),
                "duplicate_pairs": set(), "keep_apart_pairs": set()} | _purchase_facts(o, AS_OF, set(c["customer_id"]))
    return Shape("orders_excel", sources, AS_OF, expected,
                 "Orders in .xlsx: real date cells, numeric amounts, member numbers as number cells.")


# Every shape function (cumulative_month2 is the follow-up of cumulative, not listed).
SHAPES = {f.__name__: f for f in [
    orders_only_cdnow, cdnow_hardie_sample, crm_gbk, crm_no_duplicates, one_customer, ten_customers,
    sparse_rf, single_day, campaign_without_control, cumulative, crm_utf8_bom_semicolon, orders_excel,
]}
