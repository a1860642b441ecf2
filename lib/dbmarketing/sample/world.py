"""The people of the retailer's world: cities and products, persons with their names, ID
numbers, phones, e-mail addresses and street addresses, and their purchase-process
parameters."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .parameters import CONSUMER_PARAMS, DISTRIBUTOR_PARAMS, RATES
from .reference import (
    BRANDS_CN,
    BRANDS_EN,
    CATEGORIES,
    CITIES_CN,
    CITIES_US,
    EMAIL_DOMAINS_CN,
    EMAIL_DOMAINS_US,
    GIVEN_FEMALE,
    GIVEN_FIRST,
    GIVEN_MALE,
    MOBILE_PREFIXES,
    PRODUCT_ITEMS,
    PRODUCT_ITEMS_EN,
    PROVINCES_CN,
    US_STATES,
    id_check_digit,
)
from .state import Run


def cities_and_products(run: Run) -> None:
    """The cities of the locale with their spellings, and 300 products with names, prices and costs."""
    if run.zh:
        c = pd.DataFrame(CITIES_CN, columns=["city", "city_en", "province", "code4", "tier",
                                             "population_m", "income_index"])
        c["province_full"] = [PROVINCES_CN[p][0] for p in c.province]
        c["province_en"] = [PROVINCES_CN[p][1] for p in c.province]
        c["city_full"] = c.city + "市"
    else:
        c = pd.DataFrame(CITIES_US, columns=["city", "province", "area_code", "tier", "population_m",
                                             "income_index"])
        c["province_full"] = [US_STATES[p] for p in c.province]
        c["province_en"] = c.province_full
        c["city_full"] = c.city
        c["city_en"] = c.city
    run.cities = c
    # Products: names from category word lists, prices log-normal around the category median.
    rng = run.rng
    rows = []
    n_products = 300
    cat_share = np.array([0.16, 0.12, 0.10, 0.14, 0.12, 0.10, 0.08, 0.10, 0.08])
    counts = np.maximum(12, np.round(cat_share / cat_share.sum() * n_products).astype(int))
    for ci, ((zh_name, en_name, median, margin), k) in enumerate(zip(CATEGORIES, counts)):
        items = PRODUCT_ITEMS[zh_name] if run.zh else PRODUCT_ITEMS_EN[en_name]
        brands = BRANDS_CN if run.zh else BRANDS_EN
        seen = set()
        for j in range(k):
            while True:
                b, it = brands[rng.integers(len(brands))], items[rng.integers(len(items))]
                size = ["", " 标准装", " 大号", " 家庭装", " 旅行装", " 礼盒装"][rng.integers(6)] if run.zh \
                    else ["", " Standard", " Large", " Family Size", " Travel Size", " Gift Set"][rng.integers(6)]
                name = f"{b}{it}{size}" if run.zh else f"{b} {it}{size}"
                if name not in seen:
                    seen.add(name)
                    break
            raw = median * np.exp(rng.normal(0, 0.55)) * run.scale
            price = _price_point(raw, run.zh)
            cost = round(price * (1 - margin * np.exp(rng.normal(0, 0.12))), 2)
            cost = float(min(max(cost, 0.2 * price), 0.95 * price))
            rows.append((f"SKU{ci + 1}{j + 1:03d}", name, zh_name if run.zh else en_name, price, round(cost, 2)))
    run.products = pd.DataFrame(rows, columns=["product_id", "product_name", "category", "price", "unit_cost"])


def persons(run: Run) -> None:
    rng, n, D = run.rng, run.n, run.D
    c = run.cities
    n_dist = max(2, round(RATES["distributor_share"] * n))
    is_dist = np.zeros(n, bool)
    is_dist[rng.choice(n, n_dist, replace=False)] = True
    tier_w_cons = np.array([0, 1.6, 1.3, 1.0, 0.8, 0.6])[c.tier.to_numpy()]
    tier_w_dist = np.array([0, 0.5, 0.8, 1.0, 1.3, 1.5])[c.tier.to_numpy()]
    w_cons = c.population_m.to_numpy() * tier_w_cons
    w_dist = c.population_m.to_numpy() * tier_w_dist
    city = np.where(is_dist, rng.choice(len(c), n, p=w_dist / w_dist.sum()),
                    rng.choice(len(c), n, p=w_cons / w_cons.sum()))
    gender = np.where(rng.random(n) < 0.58, "F", "M").astype(object)
    youngest = 18 + run.years  # adult from the start of the history
    age = np.minimum(90, youngest + rng.gamma(3.0, 20 / 3.0, n))  # mean age about youngest + 20
    end = np.datetime64(run.end_date, "D")
    birth = end - (age * 365.25).astype("int64").astype("timedelta64[D]")
    gender[is_dist] = None
    # Sign-ups: density growing linearly to twice the start rate (inverse CDF), distributors early.
    g = 1.0
    u = rng.random(n)
    signup = np.floor(D / g * (-1 + np.sqrt(1 + 2 * g * u * (1 + g / 2)))).astype(int)
    signup[is_dist] = np.floor(rng.random(is_dist.sum()) * 0.7 * D).astype(int)
    signup = np.clip(signup, 0, D - 1)
    source = np.where(is_dist, "distributor", np.where(rng.random(n) < RATES["crm_share"], "crm", "pos"))
    prospect = ~is_dist & (rng.random(n) < np.where(source == "crm", RATES["prospect_crm"], RATES["prospect_pos"]))
    delay = np.where(source == "distributor", rng.exponential(14, n),
                     np.where(source == "crm", np.where(rng.random(n) < 0.5, 0.0, rng.exponential(21, n)), 0.0))
    first = signup + np.floor(delay)  # day of the first purchase
    first[prospect] = np.inf
    cp, dp = CONSUMER_PARAMS, DISTRIBUTOR_PARAMS
    lam = np.where(is_dist, rng.gamma(dp.r, 1 / dp.alpha, n), rng.gamma(cp.r, 1 / cp.alpha, n))
    pdrop = np.where(is_dist, rng.beta(dp.a, dp.b, n), rng.beta(cp.a, cp.b, n))
    nu = np.where(is_dist, rng.gamma(dp.q, 1 / (dp.gamma * run.scale), n),
                  rng.gamma(cp.q, 1 / (cp.gamma * run.scale), n))
    # Consent preferences per channel, with a privacy-minded minority.
    private = rng.random(n) < 0.3
    cons = {}
    for ch, base in (("mail", 0.55), ("sms", 0.70), ("email", 0.50), ("phone", 0.30)):
        cons[ch] = rng.random(n) < np.where(private, base * 0.4, np.minimum(0.95, base * 1.2))
    names, contact = _names(run, gender, is_dist, city)
    run.P = pd.DataFrame({
        "person_id": np.arange(1, n + 1), "customer_type": np.where(is_dist, "distributor", "consumer"),
        "name": names, "contact_name": contact, "gender": gender,
        "birth": np.where(is_dist, np.datetime64("NaT"), birth), "city_idx": city,
        "signup_day": signup, "primary_source": source, "prospect": prospect, "first_day": first,
        "lam": lam, "pdrop": pdrop, "nu": nu,
        "consent_mail": cons["mail"], "consent_sms": cons["sms"], "consent_email": cons["email"],
        "consent_phone": cons["phone"],
    })
    run.P["id18"] = _id_numbers(run, is_dist, city, birth, gender)
    run.P["phone"] = phones(run, city)
    run.P["email"] = _emails(run, names, is_dist)
    run.P["address"] = addresses(run, n)


def _names(run: Run, gender, is_dist, city):
    rng, n, fake = run.rng, len(gender), run.fake
    prov = fake.provider("faker.providers.person")
    male = np.where(is_dist, rng.random(n) < 0.5, gender == "M")  # distributors: their contact person
    if run.zh:
        last = list(prov.last_names.keys())
        lw = np.array(list(prov.last_names.values()), float)
        ln = np.array(last, dtype=object)[rng.choice(len(last), n, p=lw / lw.sum())]
        fm, ff = list(prov.first_names_male), list(prov.first_names_female)
        cm = list(dict.fromkeys("".join(fm) + GIVEN_MALE))
        cf = list(dict.fromkeys("".join(ff) + GIVEN_FEMALE))
        c1 = list(GIVEN_FIRST)
        given = np.empty(n, dtype=object)
        kind = rng.random(n)
        a, b, c, d = (rng.integers(0, 10_000, n) for _ in range(4))
        for i in range(n):
            pool_full = fm if male[i] else ff
            pool_char = cm if male[i] else cf
            if kind[i] < 0.35:
                given[i] = pool_full[a[i] % len(pool_full)]
            elif kind[i] < 0.55:
                given[i] = pool_char[b[i] % len(pool_char)]
            else:
                given[i] = c1[c[i] % len(c1)] + pool_char[d[i] % len(pool_char)]
        names = ln + given
        contact = names.copy()
    else:
        def weighted(od, size):
            keys = list(od.keys())
            w = np.array(list(od.values()), float)
            return np.array(keys, dtype=object)[rng.choice(len(keys), size, p=w / w.sum())]
        fn = np.where(male, weighted(prov.first_names_male, n), weighted(prov.first_names_female, n))
        ln = weighted(prov.last_names, n)
        names = fn + " " + ln
        contact = names.copy()
    # Distributors are businesses: a company name; the person name is their contact.
    idx = np.flatnonzero(is_dist)
    if run.zh:
        words = ["鑫源", "恒达", "华联", "永辉", "盛世", "宏图", "金桥", "瑞丰", "嘉禾", "联创", "百川",
                 "汇通", "万家", "福源", "德润", "和信", "新航", "锦程", "天成", "正泰"]
        suffix = ["商贸有限公司", "贸易有限公司", "日用品经营部", "百货商行", "供应链有限公司", "贸易商行"]
    else:
        words = ["Supply", "Trading", "Distribution", "Wholesale", "Retail Partners", "Goods", "Merchants"]
        suffix = ["LLC", "Inc.", "Co.", "Ltd.", "Group"]
    seen: dict[str, int] = {}
    city_names = run.cities.city.to_numpy()
    for i in idx:
        for _ in range(20):  # a new name; in a very large sample the combinations run out
            w, s = words[rng.integers(len(words))], suffix[rng.integers(len(suffix))]
            if run.zh:
                cn = f"{city_names[city[i]]}{w}{s}"
            else:
                cn = f"{ln[i] if rng.random() < 0.5 else city_names[city[i]]} {w} {s}"
            if cn not in seen:
                break
            ln[i] = ln[rng.integers(n)]
        k = seen[cn] = seen.get(cn, 0) + 1
        names[i] = cn if k == 1 else (f"{cn}第{k}分公司" if run.zh else f"{cn} #{k}")
    return names, contact


def _id_numbers(run: Run, is_dist, city, birth, gender) -> np.ndarray:
    """18-digit resident ID numbers (consumers, zh_CN only; None otherwise)."""
    n = len(is_dist)
    out = np.full(n, None, dtype=object)
    if not run.zh:
        return out
    rng = run.rng
    idx = np.flatnonzero(~is_dist)
    code4 = run.cities.code4.to_numpy()[city[idx]]
    district = rng.integers(2, 8, len(idx))
    region = [f"{c}{d:02d}" for c, d in zip(code4, district)]
    b = np.char.replace(np.datetime_as_string(birth[idx], unit="D").astype(str), "-", "")
    male = gender[idx] == "M"
    seq = rng.integers(1, 500, len(idx)) * 2 + male  # odd for men, even for women
    body = np.array([f"{r}{d}{s:03d}" for r, d, s in zip(region, b, seq)], dtype=object)
    for _ in range(100):  # make the bodies unique (a clash needs the same place, day and number)
        _, first = np.unique(body, return_index=True)
        clash = np.setdiff1d(np.arange(len(body)), first)
        if not clash.size:
            break
        seq[clash] = rng.integers(1, 500, clash.size) * 2 + male[clash]
        body[clash] = [f"{region[i]}{b[i]}{seq[i]:03d}" for i in clash]
    out[idx] = body + id_check_digit(body)
    return out


def phones(run: Run, city) -> np.ndarray:
    """Unique phone numbers as plain digits (11-digit mobiles; 10-digit US numbers)."""
    rng, n = run.rng, len(city)

    def draw(k, cities):
        if run.zh:
            pre = np.array(MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(MOBILE_PREFIXES), k)]
            return pre + np.char.zfill(rng.integers(0, 10**8, k).astype(str), 8).astype(object)
        area = run.cities.area_code.to_numpy()[cities]
        exch = rng.integers(200, 1000, k)
        exch = np.where(exch % 100 == 11, exch + 1, exch)
        line = np.char.zfill(rng.integers(0, 10**4, k).astype(str), 4).astype(object)
        return area + exch.astype(str).astype(object) + line

    ph = draw(n, city)
    for _ in range(100):
        _, first = np.unique(ph, return_index=True)
        clash = np.setdiff1d(np.arange(n), first)
        if not clash.size:
            break
        ph[clash] = draw(clash.size, city[clash])
    return ph


def _emails(run: Run, names, is_dist) -> np.ndarray:
    rng, n, fake = run.rng, len(names), run.fake
    if run.zh:
        pool = np.array(sorted({fake.user_name() for _ in range(3000)}), dtype=object)
        user = pool[rng.integers(0, len(pool), n)] + rng.integers(1, 1000, n).astype(str).astype(object)
        dom, w = EMAIL_DOMAINS_CN
        domain = np.array(dom, dtype=object)[rng.choice(len(dom), n, p=w)]
        qq = rng.random(n) < 0.35
        user[qq] = rng.integers(10_000_000, 3_000_000_000, qq.sum()).astype(str).astype(object)
        domain[qq] = "qq.com"
    else:
        parts = [re.sub(r"[^a-z ]", "", s.lower()).split() for s in names]
        style = rng.integers(0, 3, n)
        num = rng.integers(1, 100, n)
        user = np.array([
            (f"{p[0]}.{p[-1]}" if st == 0 else f"{p[0][0]}{p[-1]}{nm}" if st == 1 else f"{p[0]}{nm}")
            if p else f"user{nm}" for p, st, nm in zip(parts, style, num)], dtype=object)
        dom, w = EMAIL_DOMAINS_US
        domain = np.array(dom, dtype=object)[rng.choice(len(dom), n, p=w)]
    dist_idx = np.flatnonzero(is_dist)
    if run.zh:
        user[dist_idx] = "sales" + rng.integers(100, 10_000, dist_idx.size).astype(str).astype(object)
    else:
        user[dist_idx] = "orders" + rng.integers(100, 10_000, dist_idx.size).astype(str).astype(object)
    email = user + "@" + domain
    seen, out = set(), email.copy()
    for i, e in enumerate(email):  # unique addresses: add the person's number on a clash
        if e in seen:
            u, d = e.split("@")
            out[i] = f"{u}{i + 1}@{d}"
        seen.add(out[i])
    return out


def addresses(run: Run, n) -> np.ndarray:
    rng, fake = run.rng, run.fake
    streets = np.array(sorted({fake.street_name() for _ in range(1500)}), dtype=object)
    st = streets[rng.integers(0, len(streets), n)]
    num = rng.integers(1, 400, n)
    flat = rng.random(n) < 0.7
    bld, unit, floor_, room = (rng.integers(1, 21, n), rng.integers(1, 7, n), rng.integers(1, 27, n),
                               rng.integers(1, 5, n))
    if run.zh:
        return np.array([f"{s}{k}号" + (f"{b}栋{u}单元{f}{r:02d}室" if fl else "")
                         for s, k, fl, b, u, f, r in zip(st, num, flat, bld, unit, floor_, room)], dtype=object)
    num = rng.integers(1, 9900, n)
    apt = rng.random(n) < 0.3
    return np.array([f"{k} {s}" + (f" Apt {f}{r:02d}" if a else "")
                     for s, k, a, f, r in zip(st, num, apt, floor_, room)], dtype=object)


def _price_point(x: float, zh: bool) -> float:
    """A shop price: 9.9, 39, 199 ... (CNY) or 4.99, 19.99 (USD)."""
    if zh:
        if x < 20:
            return round(max(1.9, round(x) - 0.1), 2)
        return float(max(19, int(round(x / 10.0)) * 10 - 1))
    return round(max(0.99, round(x) - 0.01), 2)
