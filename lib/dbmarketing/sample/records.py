"""Customer records: one per person in her first system plus the planted duplicates, and the
CRM's later delta export."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import defects, world
from .parameters import RATES
from .state import Run


def records(run: Run) -> None:
    """One record per person in her first system, plus the planted duplicates."""
    rng, P, D = run.rng, run.P, run.D
    n = run.n
    consumer = (P.customer_type == "consumer").to_numpy()
    cand = np.flatnonzero(consumer & (P.signup_day.to_numpy() <= D - 60))
    n_dup = min(len(cand), round(RATES["duplicate_share"] * n))
    dup_person = np.sort(rng.choice(cand, n_dup, replace=False))
    prim_src = P.primary_source.to_numpy()
    same = rng.random(n_dup) < RATES["duplicate_same_source"]
    other = np.where(prim_src[dup_person] == "crm", "pos", "crm")
    dup_src = np.where(same, prim_src[dup_person], other)
    lo = P.signup_day.to_numpy()[dup_person] + 30
    dup_day = lo + np.floor(rng.random(n_dup) * (D - lo)).astype(int)
    person_idx = np.concatenate([np.arange(n), dup_person])
    R = pd.DataFrame({
        "person_idx": person_idx,
        "source": np.concatenate([prim_src, dup_src]),
        "is_duplicate": np.concatenate([np.zeros(n, bool), np.ones(n_dup, bool)]),
        "signup_day": np.concatenate([P.signup_day.to_numpy(), dup_day]),
    })
    m = len(R)
    src = R.source.to_numpy()
    pi = person_idx
    crm, pos, dist = src == "crm", src == "pos", src == "distributor"

    def present(p_crm, p_pos, p_dist=1.0):
        return rng.random(m) < np.where(crm, p_crm, np.where(pos, p_pos, p_dist))

    cols = {}
    cols["name"] = P.name.to_numpy()[pi].copy()
    cols["contact_name"] = P.contact_name.to_numpy()[pi].copy()
    g = P.gender.to_numpy()[pi].copy()
    g[~present(0.97, 0.98, 0.0)] = None
    cols["gender"] = g
    birth = P.birth.to_numpy()[pi].copy()
    birth[~present(0.70, 0.85, 0.0)] = np.datetime64("NaT")
    cols["birth"] = birth
    idn = P.id18.to_numpy()[pi].copy()
    idn[~present(0.60, 0.85, 0.0)] = None
    cols["id_number"] = idn
    ph = P.phone.to_numpy()[pi].copy()
    if not run.zh:  # US systems store formatted numbers
        ph = np.array([_us_phone(x, s_) for x, s_ in zip(ph, src)], dtype=object)
    cols["phone"] = ph
    em = P.email.to_numpy()[pi].copy()
    em[~present(0.75, 0.25, 0.8)] = None
    cols["email"] = em
    addr = P.address.to_numpy()[pi].copy()
    addr[~present(0.90, 0.75, 1.0)] = None
    cols["address"] = addr
    ci = P.city_idx.to_numpy()[pi]
    c = run.cities
    # Spelling convention of each system: CRM dropdowns use official names, POS and the
    # distributor sheet short ones (zh); US: state codes everywhere.
    full = crm if run.zh else np.zeros(m, bool)
    cols["province"] = np.where(full, c.province_full.to_numpy()[ci], c.province.to_numpy()[ci]).astype(object)
    cols["city"] = np.where(full, c.city_full.to_numpy()[ci], c.city.to_numpy()[ci]).astype(object)
    ch = np.array(["web", "app", "wechat", "store"], dtype=object)[rng.choice(4, m, p=[0.45, 0.25, 0.15, 0.15])]
    cols["signup_channel"] = np.where(crm, ch, None)
    for k in ("mail", "sms", "email", "phone"):
        v = P[f"consent_{k}"].to_numpy()[pi].astype(object)
        flip = R.is_duplicate.to_numpy() & (rng.random(m) < 0.1)
        v[flip] = ~v[flip].astype(bool)
        if k in ("mail", "email"):
            v[~crm] = None  # the POS and distributor lists do not ask
        else:
            v[dist] = None
        cols[f"consent_{k}"] = v
    lvl = np.array(["standard", "silver", "gold"], dtype=object)[rng.choice(3, m, p=[0.7, 0.22, 0.08])]
    cols["member_level"] = lvl
    store = np.array(["万达店", "中心店", "东站店", "新城店", "天街店"] if run.zh
                     else [" #101", " #205", " Mall", " Downtown", " Plaza"], dtype=object)
    cols["home_store"] = c.city.to_numpy()[ci].astype(object) + store[rng.integers(0, 5, m)]
    for k, v in cols.items():
        R[k] = v
    R["defects"] = [[] for _ in range(m)]
    run.R = R
    defects.record_defects(run)
    # Customer numbers in each system in order of registration.
    R["customer_id"] = None
    for s_, fmt in (("crm", "C{:07d}"), ("pos", "P{:06d}"), ("distributor", "D{:05d}")):
        idx = np.flatnonzero(R.source.to_numpy() == s_)
        order = idx[np.lexsort((R.person_idx.to_numpy()[idx], R.signup_day.to_numpy()[idx]))]
        R.loc[order, "customer_id"] = [fmt.format(k + 1) for k in range(len(order))]
    run.R = R
    # Per person: her first record and her duplicate (if any).
    run.rec_primary = np.flatnonzero(~R.is_duplicate.to_numpy())  # row i is person i
    run.rec_dup = np.full(n, -1)
    run.rec_dup[dup_person] = np.arange(n, m)


def crm_update(run: Run) -> None:
    """Pick ~3% of the exported CRM records and their new phone, address, e-mail or consent.

    The new values are kept as the CRM writes them; :func:`~.writers.write_files` puts them in
    the delta file and records each change in ``truth.record_changes``.
    """
    rng, R = run.rng, run.R
    exported = np.flatnonzero((R.source == "crm").to_numpy() & (R.signup_day.to_numpy() <= run.export_day))
    n_ch = round(RATES["crm_update"] * exported.size)
    ch = np.sort(rng.choice(exported, n_ch, replace=False))
    new_phone = world.phones(run, run.P.city_idx.to_numpy()[R.person_idx.to_numpy()[ch]])
    used = set(run.P.phone)
    new_address = world.addresses(run, n_ch)
    consent = R[["consent_mail", "consent_sms", "consent_email", "consent_phone"]].to_numpy()
    updated = {}
    for j, i in enumerate(ch):
        kinds = [k for k, pr in (("phone", 0.35), ("address", 0.35), ("email", 0.2), ("consent", 0.3))
                 if rng.random() < pr] or ["address"]
        new = {}
        if "phone" in kinds and new_phone[j] not in used:
            new["phone"] = new_phone[j] if run.zh else _us_phone(new_phone[j], "crm")
        if "address" in kinds:
            new["address"] = new_address[j]
        if "email" in kinds:
            new["email"] = (f"m{rng.integers(10**5, 10**7)}@qq.com" if run.zh
                            else f"mail{rng.integers(10**5, 10**7)}@gmail.com")
        if "consent" in kinds:
            k = int(rng.integers(4))
            old = consent[i, k]
            new[f"consent_{('mail', 'sms', 'email', 'phone')[k]}"] = "N" if old is not None and bool(old) else "Y"
        updated[int(i)] = new
    run.crm_updated = updated
    run.crm_changed_rows = ch


def _us_phone(digits: str, system: str) -> str:
    """A 10-digit US number as a system writes it: 212-555-0134 (CRM) or (212) 555-0134 (POS)."""
    d = digits
    return f"({d[:3]}) {d[3:6]}-{d[6:]}" if system == "pos" else f"{d[:3]}-{d[3:6]}-{d[6:]}"
