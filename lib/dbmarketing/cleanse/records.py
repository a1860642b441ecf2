"""Standardizing the customer records: the current version of every record with its names,
phones, e-mails, provinces, cities and resident ID numbers in standard form, and the problems
that could not be repaired (``main.quality_findings``), never guessed."""

from __future__ import annotations

from datetime import date

import pandas as pd

from .. import warehouse
from . import reference
from . import standardize as st
from ._common import DEEP, HIGH, PRIVATE, PUBLIC, _by_value, _cols

CONSENTS = ["consent_mail", "consent_sms", "consent_email", "consent_phone"]
# attributes that survive into the golden record (most recent non-empty value wins)
ATTRIBUTES = ["name", "gender", "birth_date", "id_number", "phone", "email", "province", "city",
              "address", "signup_channel", *CONSENTS]

RECORD_COLUMNS = _cols(
    ("customer_id", "VARCHAR", "Customer number in the source system", PUBLIC),
    ("source_system", "VARCHAR", "System the record came from", PUBLIC),
    ("customer_type", "VARCHAR", "consumer or distributor", PUBLIC),
    ("name", "VARCHAR", "Name, standardized (spaces, full-width, case)", PRIVATE),
    ("gender", "VARCHAR", "Gender as recorded (M/F), else from the ID number", DEEP),
    ("birth_date", "DATE", "Birth date as recorded, else from the ID number", PRIVATE),
    ("id_number", "VARCHAR", "Resident ID number, 18 digits (15-digit numbers upgraded); empty if invalid", HIGH),
    ("phone", "VARCHAR", "Phone, standardized (mobile 11 digits, landline area-number); empty if invalid", PRIVATE),
    ("phone_kind", "VARCHAR", "mobile or landline", PUBLIC),
    ("email", "VARCHAR", "E-mail, lower case, syntax-checked; empty if invalid", PRIVATE),
    ("province", "VARCHAR", "Province, canonical short name", PUBLIC),
    ("city", "VARCHAR", "City, as in the city reference table when it matches", PUBLIC),
    ("address", "VARCHAR", "Street address, half-width, spaces collapsed", PRIVATE),
    ("signup_date", "DATE", "Registration date", PUBLIC),
    ("signup_channel", "VARCHAR", "Registration channel", PUBLIC),
    *[(c, "BOOLEAN", f"Consent: {c.split('_')[1]}", DEEP) for c in CONSENTS],
    ("updated_at", "TIMESTAMP", "Last known update: when a later export changed the record, else its signup date", PUBLIC),
    ("filled", "INTEGER", "Number of non-empty attributes (completeness)", PUBLIC),
)
FINDING_COLUMNS = _cols(
    ("run_id", "INTEGER", "Cleaning run", PUBLIC),
    ("customer_id", "VARCHAR", "Customer record", PUBLIC),
    ("column_name", "VARCHAR", "Attribute", PUBLIC),
    ("finding", "VARCHAR", "The kind of problem, in words without any part of the value (e.g. wrong check digit)", PUBLIC),
    ("raw_value", "VARCHAR", "The value as loaded", HIGH),
    ("derived_value", "VARCHAR", "The specifics: the value the check compared it with (the birth date in the ID "
     "number), or the part at fault (check digit, mobile prefix, the domain and its likely correction)", HIGH),
)
CUSTOMER_RECORDS = warehouse.Table("customer_records", "Standardized customer records (current versions)", RECORD_COLUMNS)
QUALITY_FINDINGS = warehouse.Table("quality_findings", "Problems found while standardizing, per record", FINDING_COLUMNS)


def standardize_customers(con, run_id: int = 0, as_of: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple]]:
    """Standardize the current customer records. ``as_of`` (the extraction date, default
    today): an ID number's birth date after it is impossible.

    Returns (records, findings, log rows). ``records`` has the columns of
    :data:`RECORD_COLUMNS`; ``findings`` one row per problem found: ``finding`` is the kind of
    problem (the parsers' ``problem``, no part of the value, so findings count by kind and
    show at any clearance), ``derived_value`` the specifics (the parsers' ``detail``, or the
    ID number's birth date or gender a recorded one disagrees with), private like the value.
    """
    raw = warehouse.sql.run(con, "cleanse.current_records",
                            order_only_customers=warehouse.sql.text("warehouse.order_only_customers")).df()
    cities = city_reference(con)
    out = pd.DataFrame({"customer_id": raw.customer_id, "source_system": raw.source_system,
                        "customer_type": raw.customer_type.fillna("consumer")})
    findings: list[pd.DataFrame] = []
    log: list[tuple] = []

    def find(mask: pd.Series, column: str, finding, raw_values: pd.Series, derived: pd.Series | None = None):
        if mask.any():
            what = finding if isinstance(finding, pd.Series) else pd.Series(finding, index=raw.index)
            findings.append(pd.DataFrame({"run_id": run_id, "customer_id": raw.customer_id[mask], "column_name": column,
                                          "finding": what[mask], "raw_value": raw_values[mask].astype(str),
                                          "derived_value": None if derived is None else derived[mask].astype(str)}))

    def changed(a: pd.Series, b: pd.Series) -> int:
        a, b = a.astype(object), b.astype(object)
        return int(((a != b) & ~(a.isna() & b.isna())).sum())

    # names
    out["name"] = _by_value(raw["name"], st.standard_name)
    log.append(("standardize", "name", "customer_records", changed(out["name"], raw["name"]), "standardized",
                "trim, collapse spaces, full-width to half-width; Latin names written all upper or all lower case "
                "get title case, mixed-case names (McDonald) are kept as written"))

    # phones
    parsed = _by_value(raw.phone, st.parse_phone)
    out["phone"] = parsed.map(lambda p: p.value, na_action="ignore")
    out["phone_kind"] = parsed.map(lambda p: p.kind, na_action="ignore")
    bad = raw.phone.notna() & out.phone.isna()
    find(bad, "phone", parsed.map(lambda p: p.problem, na_action="ignore"), raw.phone,
         parsed.map(lambda p: p.detail, na_action="ignore"))
    log.append(("standardize", "phone", "customer_records", changed(out.phone[~bad], raw.phone[~bad]), "standardized",
                "+86/0086 and spacing removed, mobiles to 11 digits, landlines to area-number"))
    log.append(("standardize", "phone invalid", "customer_records", int(bad.sum()), "flagged",
                "not a valid mobile or landline number: left empty, listed in quality_findings "
                "(the kind of problem; the prefix or area code at fault in derived_value)"))

    # e-mail
    parsed = _by_value(raw.email, st.parse_email)
    out["email"] = parsed.map(lambda e: e.value, na_action="ignore")
    problem = parsed.map(lambda e: e.problem, na_action="ignore")
    invalid = raw.email.notna() & out.email.isna()
    typo = problem.eq(st.EMAIL_TYPO).fillna(False).astype(bool)
    find(invalid | typo, "email", problem, raw.email, parsed.map(lambda e: e.detail, na_action="ignore"))
    log.append(("standardize", "email", "customer_records", changed(out.email[~invalid], raw.email[~invalid]),
                "standardized", "lower case, full-width to half-width"))
    log.append(("standardize", "email invalid", "customer_records", int(invalid.sum()), "flagged",
                "invalid e-mail syntax: left empty, listed"))
    log.append(("standardize", "email domain typo", "customer_records", int(typo.sum()), "flagged",
                "domain looks like a typo of a common domain (qq.con, gmial.com): kept, listed for correction at "
                "the source (the domain and its likely correction in derived_value)"))

    # provinces and cities
    out["province"] = _by_value(raw.province, st.standard_province)
    unknown = raw.province.notna() & out.province.isna()
    find(unknown, "province", "unknown province", raw.province)
    log.append(("standardize", "province", "customer_records", changed(out.province, raw.province), "standardized",
                "province variants (北京 / 北京市 / Beijing) to the canonical short name"))
    out["city"], city_note = _match_cities(raw.city, out.province, cities)
    unmatched = raw.city.notna() & city_note.eq("not in the city reference table")
    find(unmatched, "city", city_note, raw.city)
    log.append(("standardize", "city", "customer_records", changed(out.city, raw.city), "standardized",
                "city variants (郑州市, Zhengzhou) matched to the city reference table"))
    log.append(("standardize", "city unmatched", "customer_records", int(unmatched.sum()), "flagged",
                "city not in the reference table: kept as recorded (half-width), listed"))
    out["address"] = raw.address.map(lambda a: " ".join(st.halfwidth(a).split()) or None, na_action="ignore")
    log.append(("standardize", "address", "customer_records", changed(out.address, raw.address), "standardized",
                "full-width to half-width, spaces collapsed"))

    # resident ID numbers, birth date and gender
    ids = _by_value(raw.id_number, lambda v: st.parse_id_number(v, as_of=as_of))
    out["id_number"] = ids.map(lambda i: i.value, na_action="ignore")
    id_birth = pd.to_datetime(ids.map(lambda i: i.birth_date, na_action="ignore"))
    id_gender = ids.map(lambda i: i.gender, na_action="ignore")
    upgraded = ids.map(lambda i: i.upgraded, na_action="ignore").eq(True)  # no ID numbers: all False
    invalid = raw.id_number.notna() & out.id_number.isna()
    find(invalid, "id_number", ids.map(lambda i: i.problem, na_action="ignore"), raw.id_number,
         ids.map(lambda i: i.detail, na_action="ignore"))
    log.append(("standardize", "id upgraded 15->18", "customer_records", int(upgraded.sum()), "standardized",
                "15-digit legacy ID numbers upgraded to 18 digits (century 19 inserted, check digit computed)"))
    log.append(("standardize", "id invalid", "customer_records", int(invalid.sum()), "flagged",
                "ID number with a wrong check digit or length, a region code that is no province (GB/T 2260), or a "
                "birth date that is impossible, before 1900 or after the as-of date: left empty, listed "
                "(the kind of problem; the digits at fault in derived_value)"))
    recorded_birth = pd.to_datetime(raw.birth_date)
    birth_mismatch = recorded_birth.notna() & id_birth.notna() & (recorded_birth != id_birth)
    gender_mismatch = raw.gender.notna() & id_gender.notna() & (raw.gender != id_gender)
    find(birth_mismatch, "birth_date", "recorded birth date differs from the ID number's", raw.birth_date,
         id_birth.dt.strftime("%Y-%m-%d"))
    find(gender_mismatch, "gender", "recorded gender differs from the ID number's", raw.gender, id_gender)
    log.append(("standardize", "birth date vs ID", "customer_records", int(birth_mismatch.sum()), "flagged",
                "recorded birth date disagrees with the ID number: recorded value kept, listed"))
    log.append(("standardize", "gender vs ID", "customer_records", int(gender_mismatch.sum()), "flagged",
                "recorded gender disagrees with the ID number: recorded value kept, listed"))
    fill_birth = recorded_birth.isna() & id_birth.notna()
    fill_gender = raw.gender.isna() & id_gender.notna()
    out["birth_date"] = recorded_birth.where(~fill_birth, id_birth).dt.date
    out["gender"] = raw.gender.where(~fill_gender, id_gender)
    log.append(("standardize", "birth date from ID", "customer_records", int(fill_birth.sum()), "filled",
                "missing birth date taken from the valid ID number"))
    log.append(("standardize", "gender from ID", "customer_records", int(fill_gender.sum()), "filled",
                "missing gender taken from the valid ID number"))

    for col in ["signup_date", "signup_channel", *CONSENTS]:
        out[col] = raw[col]
    out["updated_at"] = last_update(con, raw)
    out["filled"] = out[ATTRIBUTES].notna().sum(axis=1).astype("int32")
    findings_df = (pd.concat(findings, ignore_index=True) if findings
                   else pd.DataFrame(columns=[c.name for c in FINDING_COLUMNS]))
    return out[[c.name for c in RECORD_COLUMNS]], findings_df, [(run_id, *row) for row in log]


def city_reference(con) -> pd.DataFrame:
    """The city reference table: the user's own (raw.cities) if one was loaded, else the one
    shipped with the package for all of mainland China (:func:`dbmarketing.cleanse.china_cities`)."""
    own = warehouse.sql.run(con, "cleanse.own_cities").df()
    if len(own):
        return own
    return reference.china_cities()


def last_update(con, records: pd.DataFrame) -> pd.Series:
    """When each (current) customer record was last known to change: the start of its current
    version if an export after the first one changed it (history in raw.customers), else its
    signup date -- a record loaded once carries no evidence of any update since it was
    entered -- or, without a signup date, the date it was first loaded."""
    versions = dict(warehouse.sql.run(con, "cleanse.record_versions").fetchall())
    changed = records.customer_id.map(versions).fillna(1).gt(1)
    signup = pd.to_datetime(records.signup_date)
    loaded = pd.to_datetime(records.valid_from)
    return loaded.where(changed | signup.isna(), signup)


def _match_cities(city: pd.Series, province: pd.Series, cities: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Match recorded city names to the reference table by key (without 市, case, width), by its
    Latin name or by a customary Latin name (Harbin, Urumqi: :func:`reference.city_aliases`).

    A Latin name shared by two reference cities (Suzhou: 苏州 and 宿州) is decided by the
    record's province. Unmatched names are kept as recorded (half-width) and flagged.
    """
    aliases: dict[str, list[str]] = {}
    for alias, ref in reference.city_aliases().items():
        aliases.setdefault(ref, []).append(alias)
    candidates: dict[str, list[tuple[str, str]]] = {}
    for ref, en, prov in cities[["city", "city_en", "province"]].itertuples(index=False):
        for key in {st.city_key(ref), st.city_key(en), *map(st.city_key, aliases.get(ref, []))} - {None}:
            candidates.setdefault(key, []).append((ref, st.standard_province(prov)))

    def one(name, prov):
        if name is None or pd.isna(name):
            return None, None
        options = candidates.get(st.city_key(name), [])
        if len(options) > 1:
            options = [o for o in options if o[1] == prov] or options[:0]
        if len(options) == 1:
            return options[0][0], None
        return " ".join(st.halfwidth(str(name)).split()), "not in the city reference table"

    # once per distinct (city, province): a million records hold a few hundred of them
    done: dict[tuple, tuple] = {}
    pairs = []
    for key in zip(city.astype(object), province.astype(object)):
        result = done.get(key)
        if result is None:
            result = done[key] = one(*key)
        pairs.append(result)
    return (pd.Series([p[0] for p in pairs], index=city.index, dtype=object),
            pd.Series([p[1] for p in pairs], index=city.index, dtype=object))


