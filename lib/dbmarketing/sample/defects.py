"""The planted dirty values: on customer records (legacy IDs, typos, formats, place variants, ID
mismatches, invalid phones, e-mail typos) and on orders (future dates, bad prices, repeated
lines and the corrupt rows the loader must reject)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .parameters import RATES
from .reference import EMAIL_TYPOS, GIVEN_FEMALE, GIVEN_FIRST, GIVEN_MALE, id15_from_id18, to_fullwidth
from .state import Run


def record_defects(run: Run) -> None:
    """Plant formatting defects, typos and ID inconsistencies on the customer records."""
    rng, R = run.rng, run.R
    m = len(R)
    src = R.source.to_numpy()
    dup = R.is_duplicate.to_numpy()
    defects = R.defects.to_list()
    name, phone, email, idn, birth, gender, addr, prov, city = (
        R[c].to_numpy().copy() for c in ("name", "phone", "email", "id_number", "birth", "gender",
                                         "address", "province", "city"))
    ci = run.P.city_idx.to_numpy()[R.person_idx.to_numpy()]
    c = run.cities
    born_pre2000 = np.array([not np.isnat(b) and b < np.datetime64("2000-01-01") for b in
                             run.P.birth.to_numpy()[R.person_idx.to_numpy()]])

    def add(i, kind):
        defects[i].append(kind)

    # Legacy 15-digit numbers: mostly the POS list, and the duplicates.
    has_id = np.array([isinstance(v, str) for v in idn])
    p15 = np.where(src == "pos", RATES["legacy_id15_pos"], RATES["legacy_id15_crm"])
    p15 = np.where(dup, 0.4, p15)
    for i in np.flatnonzero(has_id & born_pre2000 & (rng.random(m) < p15)):
        idn[i] = id15_from_id18(idn[i])
        add(i, "legacy_id_15")
    # Duplicates: typos, full-width characters, phone formats, address and place variants.
    for i in np.flatnonzero(dup):
        kinds = [k for k, pr in (("name_typo", 0.45), ("fullwidth", 0.25), ("phone_format", 0.45),
                                 ("address_variant", 0.4), ("place_variant", 0.25)) if rng.random() < pr]
        if not kinds and "legacy_id_15" not in defects[i]:
            kinds = ["phone_format"]
        for k in kinds:
            if k == "name_typo":
                name[i] = _typo(run, name[i])
            elif k == "phone_format":
                phone[i] = _phone_variant(run, phone[i])
            elif k == "fullwidth":
                if run.zh:
                    if isinstance(email[i], str) and rng.random() < 0.4:
                        u, d = email[i].split("@")
                        email[i] = to_fullwidth(u) + "@" + d
                    else:
                        phone[i] = re.sub(r"[0-9]", lambda mm: to_fullwidth(mm.group()), phone[i])
                else:
                    if isinstance(email[i], str) and rng.random() < 0.4:
                        u, d = email[i].split("@")
                        email[i] = to_fullwidth(u) + "@" + d
                    else:
                        first, _, rest = name[i].partition(" ")
                        name[i] = to_fullwidth(first) + " " + rest
            elif k == "address_variant":
                if not isinstance(addr[i], str):
                    continue
                addr[i] = _address_variant(run, addr[i], c.city.iloc[ci[i]])
            elif k == "place_variant":
                prov[i], city[i] = _place_variant(run, prov[i], city[i], ci[i])
            add(i, k)
    # Place-name variants on first records too.
    pv = np.select([src == "crm", src == "pos"], [RATES["place_variant_crm"], RATES["place_variant_pos"]], 0.03)
    for i in np.flatnonzero(~dup & (rng.random(m) < pv)):
        prov[i], city[i] = _place_variant(run, prov[i], city[i], ci[i])
        add(i, "place_variant")
    # ID numbers that disagree with the recorded birth date or gender, or fail the check digit.
    id18 = np.flatnonzero(np.array([isinstance(v, str) and len(v) == 18 for v in idn]))
    n_bad = round(RATES["id_bad_check"] * len(id18))
    bad = rng.choice(id18, n_bad, replace=False) if n_bad else np.array([], int)
    for i in bad:
        right = idn[i][-1]
        wrong = "0123456789X".replace(right, "")[rng.integers(10)]
        idn[i] = idn[i][:17] + wrong
        add(i, "id_bad_check_digit")
    rest = np.setdiff1d(id18, bad)
    rest = rest[[not np.isnat(birth[i]) and isinstance(gender[i], str) for i in rest]]
    n_mis = round(RATES["id_mismatch"] * len(id18))
    mis = rng.choice(rest, min(n_mis, len(rest)), replace=False)
    for j, i in enumerate(mis):
        if j % 5 < 3:  # birth date typed wrong: day and month swapped, or a digit off
            b = pd.Timestamp(birth[i])
            if b.day <= 12 and b.day != b.month:
                nb = b.replace(month=b.day, day=b.month)
            else:
                nb = b + pd.DateOffset(years=int(rng.choice([-10, -1, 1, 10])))
            birth[i] = np.datetime64(nb.date(), "D")
            add(i, "id_birth_mismatch")
        else:
            gender[i] = "F" if gender[i] == "M" else "M"
            add(i, "id_gender_mismatch")
    # Invalid phones (on plainly written numbers) and e-mail domain typos.
    plain = np.array([not ({"phone_format", "fullwidth"} & set(d)) for d in defects])
    for i in np.flatnonzero(plain & (rng.random(m) < RATES["invalid_phone"])):
        digits = re.sub(r"\D", "", phone[i])
        if rng.random() < 0.5:
            k = rng.integers(len(digits))
            phone[i] = digits[:k] + digits[k + 1:]
        else:
            phone[i] = ("12" if run.zh else "1") + digits[2 if run.zh else 1:]
        add(i, "invalid_phone")
    for i in np.flatnonzero(np.array([isinstance(e, str) for e in email]) & (rng.random(m) < RATES["email_typo"])):
        u, d = email[i].rsplit("@", 1)
        if d in EMAIL_TYPOS:
            email[i] = f"{u}@{EMAIL_TYPOS[d]}"
            add(i, "email_domain_typo")
    R["name"], R["phone"], R["email"], R["id_number"] = name, phone, email, idn
    R["birth"], R["gender"], R["address"], R["province"], R["city"] = birth, gender, addr, prov, city
    R["defects"] = defects


def _typo(run: Run, name: str) -> str:
    """One character changed or dropped (never the family name of a 2-character name)."""
    rng = run.rng
    if run.zh:
        pool = GIVEN_MALE + GIVEN_FEMALE + GIVEN_FIRST
        if len(name) >= 3 and rng.random() < 0.4:
            k = int(rng.integers(1, len(name)))
            return name[:k] + name[k + 1:]
        k = int(rng.integers(1, len(name)))
        new = name[k]
        while new == name[k]:
            new = pool[rng.integers(len(pool))]
        return name[:k] + new + name[k + 1:]
    letters = [k for k, ch in enumerate(name) if ch.isalpha()]
    k = letters[int(rng.integers(1, len(letters)))]
    r = rng.random()
    if r < 0.4:
        return name[:k] + name[k + 1:]
    if r < 0.7 and k + 1 < len(name) and name[k + 1].isalpha() and name[k + 1] != name[k]:
        return name[:k] + name[k + 1] + name[k] + name[k + 2:]
    new = name[k]
    while new.lower() == name[k].lower():
        new = "aeioulnrst"[rng.integers(10)]
    return name[:k] + new + name[k + 1:]


def _phone_variant(run: Run, ph: str) -> str:
    d = re.sub(r"\D", "", ph)
    k = int(run.rng.integers(5))
    if run.zh:
        return [f"+86 {d[:3]} {d[3:7]} {d[7:]}", f"{d[:3]}-{d[3:7]}-{d[7:]}", f"0086{d}",
                f"+86-{d}", f"{d[:3]} {d[3:7]} {d[7:]}"][k]
    return [f"+1 {d[:3]} {d[3:6]} {d[6:]}", f"({d[:3]}) {d[3:6]}-{d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}",
            f"{d[:3]}.{d[3:6]}.{d[6:]}", f"+1{d}"][k]


def _address_variant(run: Run, a: str, city: str) -> str:
    k = int(run.rng.integers(4))
    if run.zh:
        if k == 0:
            return city + "市" + a
        if k == 1:
            return re.sub(r"[0-9]", lambda mm: to_fullwidth(mm.group()), a)
        if k == 2 and "栋" in a:
            return re.sub(r"(\d+)栋(\d+)单元(\d+)室", r"\1-\2-\3", a)
        return a.replace("号", "#", 1)
    if k == 0:
        return a.upper()
    if k == 1 and " Apt " in a:
        return a.replace(" Apt ", " #")
    abbrev = {" Street": " St.", " Avenue": " Ave", " Road": " Rd", " Drive": " Dr", " Lane": " Ln"}
    for long, short in abbrev.items():
        if long in a:
            return a.replace(long, short)
    return a + ", " + city


def _place_variant(run: Run, prov: str, city: str, ci: int) -> tuple[str, str]:
    """Province/city spelled off the system's convention (北京 / 北京市 / Beijing)."""
    c = run.cities.iloc[ci]
    k = int(run.rng.integers(3))
    if run.zh:
        if k == 0:  # pinyin
            return c.province_en, c.city_en
        if prov == c.province_full or city == c.city_full:  # official -> short
            return c.province, c.city
        return c.province_full, c.city_full  # short -> official
    if k == 0:
        return c.province_full, city
    if k == 1:
        return prov, city.upper()
    return prov, f"{city}, {c.province}"


def order_defects(run: Run) -> None:
    """Plant future dates, bad prices, repeated lines and the corrupt rows to be rejected."""
    rng, O, L, D = run.rng, run.O, run.L, run.D
    L["order_id"] = O.order_id.to_numpy()[L.order.to_numpy()]
    O["junk"], L["junk"] = False, False
    # Orders dated in the future (after end_date): completed sales without a return.
    sale_ok = (O.order_type == "sale").to_numpy() & (O.status == "completed").to_numpy()
    cand = np.flatnonzero(sale_ok & O.customer_id.notna().to_numpy()
                          & ~O.order_id.isin(set(O.original_order_id.dropna())).to_numpy())
    fut = rng.choice(cand, max(1, round(RATES["future_dates"] * len(O))), replace=False)
    written, defect = O.written_date.to_numpy().copy(), O.defect.to_numpy().copy()
    written[fut] = [str(run.day_to_date(D - 1 + int(k))) for k in rng.integers(1, 366, fut.size)]
    defect[fut] = "future_order_date"
    O["written_date"], O["defect"] = written, defect
    # Lines of completed sales with a zero or negated price.
    lo = np.flatnonzero(sale_ok[L.order.to_numpy()])
    bad = rng.choice(lo, max(1, round(RATES["bad_price_lines"] * len(L))), replace=False)
    L["true_unit_price"] = L.unit_price
    up, ld = L.unit_price.to_numpy().copy(), L.defect.to_numpy().copy()
    up[bad] = np.where(rng.random(bad.size) < 0.5, 0.0, -up[bad])
    ld[bad] = np.where(up[bad] == 0, "zero_price", "negative_price")
    L["unit_price"], L["defect"] = up, ld
    # Repeated lines: the same line again right after it, with the next line number.
    rep = np.sort(rng.choice(np.setdiff1d(lo, bad), max(1, round(RATES["repeated_lines"] * len(L))),
                             replace=False))
    copies = L.iloc[rep].copy()
    copies["defect"] = "repeated_line"
    pos = np.concatenate([np.arange(len(L), dtype=float), rep + 0.5])
    L = pd.concat([L, copies], ignore_index=True).iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)
    L["line_no"] = L.groupby("order").cumcount() + 1
    L["amount_text"] = None
    # Rows the loader must reject: extra corrupt rows that belong to no real purchase.
    kinds = ["nonexistent_date", "unparseable_date", "duplicate_order_id", "non_numeric_amount"]
    n_rej = max(4, round(RATES["reject_orders"] * len(O)))
    real_sales = np.flatnonzero(sale_ok)
    next_no = len(O) + 1  # numbers for the corrupt orders: after the last real one
    o_rows, o_pos, l_rows, l_pos = [], [], [], []
    line_end = np.searchsorted(L.order.to_numpy(), np.arange(len(O)), side="right")
    for j in range(n_rej):
        kind = kinds[j % 4]
        i = int(rng.choice(real_sales))
        if kind == "non_numeric_amount":  # an extra line on a real order
            last = line_end[i] - 1
            ln = L.iloc[last].copy()
            ln["line_no"] += 1
            ln["amount_text"], ln["defect"], ln["junk"] = "12,5O", "reject:non_numeric_amount", True
            l_rows.append(ln)
            l_pos.append(last + 0.5)
            continue
        row = O.iloc[i].copy()
        row["junk"], row["defect"], row["event"] = True, f"reject:{kind}", -1
        if kind == "duplicate_order_id":  # an earlier order's number on another customer's order
            other = O.iloc[int(rng.choice(real_sales))]
            row["customer_id"], row["day"], row["true_day"] = other.customer_id, other.day, other.day
            o_pos.append(i + 0.5 + int(rng.integers(0, 50)))
        else:
            y = pd.Timestamp(run.day_to_date(int(row.day))).year
            row["written_date"] = f"{y}-02-30" if kind == "nonexistent_date" else f"31/31/{y}"
            row["order_id"] = f"SO{next_no:08d}"
            next_no += 1
            o_pos.append(i + 0.5)
        o_rows.append(row)
    pos = np.concatenate([np.arange(len(O), dtype=float), o_pos])
    O = pd.concat([O, pd.DataFrame(o_rows)], ignore_index=True).iloc[np.argsort(pos, kind="stable")]
    pos = np.concatenate([np.arange(len(L), dtype=float), l_pos])
    L = pd.concat([L, pd.DataFrame(l_rows)], ignore_index=True).iloc[np.argsort(pos, kind="stable")]
    run.O, run.L = O.reset_index(drop=True), L.reset_index(drop=True)
