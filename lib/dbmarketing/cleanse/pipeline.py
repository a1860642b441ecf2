"""Cleaning: from the raw layer to clean core tables, with every change accounted for.

:func:`run` does, in order:

1. **Standardize** the current version of every customer record
   (:func:`standardize_customers`): names, phones, e-mails, provinces, cities and resident
   ID numbers (15 digits upgraded to 18; birth date and gender derived and cross-checked).
   Values that cannot be made valid are flagged in ``main.quality_findings``, never guessed.
2. **Resolve identities** (:func:`find_duplicates`): a probabilistic record-linkage model
   (Fellegi-Sunter, estimated by splink on DuckDB) scores pairs of records; pairs above
   ``match_threshold`` are joined into clusters, one cluster per person.
3. **Golden records** (:func:`golden_records`) by stated survivorship rules:
   a. the master id is the id of the cluster's most complete record (ties: most recently
      updated, then the smallest id);
   b. each attribute takes the most recent non-empty value (records ordered by last update,
      then completeness);
   c. the signup date is the earliest, the customer type "distributor" if any record is one,
      and the source systems are all of them.
   ``main.customer_map`` (source id -> master id) is applied to orders, contacts and
   tickets, which keep the source id too, so every merge can be audited;
   :func:`keep_apart` records a human decision to undo one, honoured by every later run.
4. **Clean transactions** (:func:`clean_transactions`) by the rules in :data:`RULES`.
5. **Score data quality** before and after (:func:`quality_scorecard`), kept per run.

Every rule writes a row to ``main.cleaning_log`` (rule, table, rows affected); nothing is
dropped without one. A run replaces the clean tables in one transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd

from .. import warehouse
from . import reference
from . import standardize as st

PUBLIC, DEEP, PRIVATE, HIGH = warehouse.PUBLIC, warehouse.DEEP_PUBLIC, warehouse.PRIVATE, warehouse.HIGHLY_PRIVATE
C = warehouse.Column

CONSENTS = ["consent_mail", "consent_sms", "consent_email", "consent_phone"]
# attributes that survive into the golden record (most recent non-empty value wins)
ATTRIBUTES = ["name", "gender", "birth_date", "id_number", "phone", "email", "province", "city",
              "address", "signup_channel", *CONSENTS]

RULES = {
    "anonymous order": "orders without a customer number are kept as anonymous sales and left out of customer metrics",
    "cancelled order": "cancelled orders are kept with their status and left out of sales",
    "future date": "orders dated after the extraction date of their delivery cannot have happened: left out of sales",
    "unknown customer": "orders of a customer number not in the customer master: left out of sales",
    "non-positive price": "lines with a zero or negative unit price are data errors: left out of sales amounts",
    "repeated line": "a line identical to the line before it in the same order (product, quantity, price) is a double scan: dropped",
    "orphan line": "lines whose order is not in the orders table (rejected at load): left out",
    "no counted lines": "orders none of whose lines could be counted (all repeated, bad price, ...): left out",
    "return of uncounted line": "return lines of a product whose sale line was not counted (e.g. bad price): left out",
    "return netted": "return lines are netted against the sale they return",
    "return without sale": "returns whose original sale is missing or excluded cannot be netted: left out",
    "fully returned": "sales returned in full (net amount <= 0) are not purchases",
    "wholesale size": "consumer orders above the wholesale rule are flagged (kept)",
}


@dataclass
class CleanResult:
    run_id: int
    as_of: date
    records: int
    masters: int
    merged_records: int
    log: pd.DataFrame = field(repr=False)
    seconds: float = 0.0


# ------------------------------------------------------------------------------ catalog
def _cols(*specs) -> tuple[warehouse.Column, ...]:
    return tuple(C(*s) for s in specs)


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
MAP_COLUMNS = _cols(
    ("customer_id", "VARCHAR", "Customer number in the source system", PUBLIC),
    ("master_id", "VARCHAR", "Master customer it belongs to", PUBLIC),
    ("cluster_size", "INTEGER", "Records merged into that master", PUBLIC),
    ("match_probability", "DOUBLE", "Highest match probability linking the record into its cluster", PUBLIC),
    ("linked_by", "VARCHAR", "model (match probability >= threshold) or same ID number (rule); empty when alone", PUBLIC),
    ("run_id", "INTEGER", "Cleaning run that decided it", PUBLIC),
)
PAIR_COLUMNS = _cols(
    ("customer_id_l", "VARCHAR", "One record", PUBLIC),
    ("customer_id_r", "VARCHAR", "The other record", PUBLIC),
    ("match_weight", "DOUBLE", "Log2 Bayes factor that the two are the same person", PUBLIC),
    ("match_probability", "DOUBLE", "Probability that the two are the same person", PUBLIC),
)
CUSTOMER_COLUMNS = (
    C("customer_id", "VARCHAR", "Master customer number", PUBLIC),
    *[c for c in RECORD_COLUMNS if c.name not in ("customer_id", "source_system", "updated_at", "filled", "phone_kind")],
    C("source_systems", "VARCHAR", "Source systems of the merged records", PUBLIC),
    C("records", "INTEGER", "Source records merged into this customer", PUBLIC),
    C("updated_at", "TIMESTAMP", "Most recent update of any of its records", PUBLIC),
)
LOG_COLUMNS = _cols(
    ("run_id", "INTEGER", "Cleaning run", PUBLIC), ("step", "VARCHAR", "Step of the run", PUBLIC),
    ("rule", "VARCHAR", "Rule applied", PUBLIC), ("table_name", "VARCHAR", "Table affected", PUBLIC),
    ("rows_affected", "BIGINT", "Rows the rule touched", PUBLIC), ("action", "VARCHAR", "What was done", PUBLIC),
    ("description", "VARCHAR", "The rule in words", PUBLIC),
)
RUN_COLUMNS = _cols(
    ("run_id", "INTEGER", "Cleaning run", PUBLIC), ("started_at", "TIMESTAMP", "Start", PUBLIC),
    ("finished_at", "TIMESTAMP", "End", PUBLIC), ("as_of", "DATE", "Extraction (as-of) date", PUBLIC),
    ("parameters", "VARCHAR", "Parameters (JSON)", PUBLIC), ("model", "VARCHAR", "Match model (JSON)", PUBLIC),
)
SCORE_COLUMNS = _cols(
    ("run_id", "INTEGER", "Cleaning run", PUBLIC), ("as_of", "DATE", "As-of date", PUBLIC),
    ("stage", "VARCHAR", "before or after cleaning", PUBLIC), ("table_name", "VARCHAR", "Table", PUBLIC),
    ("column_name", "VARCHAR", "Column ('*' for the table)", PUBLIC),
    ("dimension", "VARCHAR", "completeness, validity, uniqueness or timeliness", PUBLIC),
    ("score", "DOUBLE", "Share 0-1 (1 = perfect)", PUBLIC),
    ("detail", "VARCHAR", "What was measured, e.g. the age in days of the newest record", PUBLIC),
)
KEEP_APART_COLUMNS = _cols(
    ("customer_id", "VARCHAR", "Record that must not be merged with others", PUBLIC),
    ("reason", "VARCHAR", "Why (a reviewer's note)", PUBLIC),
    ("decided_at", "TIMESTAMP", "When", PUBLIC),
)


# ------------------------------------------------------------------------------ 1. standardize
def _by_value(values: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` once per distinct value (fast on columns with repeats)."""
    uniq = values.dropna().unique()
    table = {v: fn(v) for v in uniq}
    return values.map(table)


def standardize_customers(con, run_id: int = 0, as_of: date | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple]]:
    """Standardize the current customer records. ``as_of`` (the extraction date, default
    today): an ID number's birth date after it is impossible.

    Returns (records, findings, log rows). ``records`` has the columns of
    :data:`RECORD_COLUMNS`; ``findings`` one row per problem found: ``finding`` is the kind of
    problem (the parsers' ``problem``, no part of the value, so findings count by kind and
    show at any clearance), ``derived_value`` the specifics (the parsers' ``detail``, or the
    ID number's birth date or gender a recorded one disagrees with), private like the value.
    """
    raw = con.execute(f"""SELECT * FROM (
        SELECT * EXCLUDE (batch_id, source_line, valid_to) FROM raw.customers WHERE valid_to IS NULL
        UNION ALL BY NAME {warehouse.sql.text('warehouse.order_only_customers')}) ORDER BY customer_id""").df()
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
    own = con.execute("SELECT * EXCLUDE (batch_id, source_line) FROM raw.cities").df()
    if len(own):
        return own
    return reference.china_cities()


def last_update(con, records: pd.DataFrame) -> pd.Series:
    """When each (current) customer record was last known to change: the start of its current
    version if an export after the first one changed it (history in raw.customers), else its
    signup date -- a record loaded once carries no evidence of any update since it was
    entered -- or, without a signup date, the date it was first loaded."""
    versions = dict(con.execute("SELECT customer_id, count(*) FROM raw.customers GROUP BY 1").fetchall())
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


# ------------------------------------------------------------------------------ 2. resolve identities
def _splink_settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="customer_id",
        blocking_rules_to_generate_predictions=[block_on(*block) for block in BLOCKS],
        comparisons=[
            cl.LevenshteinAtThresholds("name", [1]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("id_number"),
            cl.LevenshteinAtThresholds("phone", [1]),
            cl.LevenshteinAtThresholds("email", [1]),
            cl.LevenshteinAtThresholds("birth_date", [1]),
            cl.ExactMatch("gender"),
            cl.LevenshteinAtThresholds("address", [2, 5]),
            cl.ExactMatch("city"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


# Blocking rules of the EM sessions that estimate m, in order. A comparison is trained by
# every session not blocked on its own field; phone first and ID number second train every
# comparison between them, the others are there for data without phones or ID numbers.
TRAINING_BLOCKS = (("phone",), ("id_number",), ("name", "birth_date"), ("email",))


def _train_m(linker) -> tuple[list[dict], list[str]]:
    """Estimate m by expectation-maximisation, one session per :data:`TRAINING_BLOCKS` rule,
    until every comparison has been trained by at least one session.

    A session is skipped, and the reason recorded, when its blocking rule yields no pairs
    (e.g. a source without e-mail addresses) or when EM drives a level's m to exactly 0
    (splink refuses such a model). The second happens when a field is conclusive within the
    session's pairs: among pairs sharing name and birth date, a different ID number was
    never seen in a true match. The other sessions still train that comparison. Returns (one
    row per session: blocking rule, status, comparisons trained, reason; the comparisons no
    session could train, which keep splink's starting values).
    """
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException

    fields = list(MATCH_FIELDS)
    untrained = set(fields)
    sessions = []
    for block in TRAINING_BLOCKS:
        if not untrained:
            break
        rule = " and ".join(block)
        trains = [f for f in fields if f not in block]
        # splink sets the prior to the share of matches within the session's pairs before EM,
        # and leaves it there when the session fails: the prior is put back below
        prior = linker._settings_obj._probability_two_random_records_match
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*block))
        except EMTrainingException as exc:
            linker._settings_obj._probability_two_random_records_match = prior
            sessions.append({"blocked_on": rule, "status": "skipped", "trained": [], "reason": f"no pairs: {exc}"[:300]})
            continue
        except ValueError as exc:
            linker._settings_obj._probability_two_random_records_match = prior
            if "below the minimum allowed" not in str(exc):
                raise
            sessions.append({"blocked_on": rule, "status": "skipped", "trained": [],
                             "reason": f"a level's m fell to 0 (conclusive within these pairs): {exc}"[:300]})
            continue
        sessions.append({"blocked_on": rule, "status": "trained", "trained": trains, "reason": ""})
        untrained -= set(trains)
    return sessions, sorted(untrained)


def _level_parameters(linker) -> list[dict]:
    """m and u of every comparison level as the model uses them when it scores pairs, and
    whether EM estimated m (a level never seen in any session's pairs keeps splink's starting
    value, or 1e-6 when splink saw it nowhere). Read from splink's settings object (not in
    splink's public API): the saved JSON leaves untrained m out, which would hide them."""
    rows = []
    for comp in linker._settings_obj.comparisons:
        for level in comp.comparison_levels:
            if level.is_null_level:
                continue
            rows.append({"comparison": comp.output_column_name, "level": level.label_for_charts,
                         "m": level.m_probability, "u": level.u_probability, "m_estimated": bool(level._m_is_trained)})
    return rows


MIN_PAIR_PROBABILITY = 0.01  # pairs scored below it are clearly different people and not kept
MATCH_FIELDS = ("name", "id_number", "phone", "email", "birth_date", "gender", "address", "city")
IDENTIFIERS = ("name", "id_number", "phone", "email")  # a record without any of them cannot be matched
BLOCKS = (("id_number",), ("phone",), ("email",), ("name", "birth_date"), ("name", "city"))  # candidate pairs


# Two-character (compound) surnames: the rest of the name is the given name.
COMPOUND_SURNAMES = frozenset({"欧阳", "上官", "皇甫", "令狐", "诸葛", "司徒", "司马", "申屠", "夏侯", "慕容", "尉迟",
                               "长孙", "东方", "南宫", "端木", "公孙", "宇文", "万俟", "独孤", "呼延", "澹台", "轩辕"})


def _name_parts(name: str) -> tuple[str, str]:
    """(surname, given name): 周静 -> (周, 静), 欧阳娜娜 -> (欧阳, 娜娜); a Latin name's
    last word is the surname (Mary Ann Smith -> (Smith, Mary Ann))."""
    if st.CJK.search(name):
        cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
        return name[:cut], name[cut:]
    words = name.split()
    return (words[-1], " ".join(words[:-1])) if len(words) > 1 else (name, "")


def name_frequencies(names: pd.Series) -> pd.DataFrame:
    """How common each name is, for the match model's term-frequency adjustment: the share of
    its surname times the share of its given name among the file's records (the two taken as
    independent). A small file holds each full name about once, so a name's own share says
    nothing (every name would look equally common, 1 in n); its parts do: 周 and 静 are common,
    so 周静 is, while 欧阳 and 娜娜 are rare. An exact match of a common name is then weaker
    evidence than one of a rare name; records of one person counted twice barely move the
    parts' shares. Returns columns name, tf_name (splink's lookup table)."""
    values = names.dropna()
    if values.empty:
        return pd.DataFrame({"name": pd.Series(dtype="str"), "tf_name": pd.Series(dtype="float64")})
    n = len(values)
    parts = pd.DataFrame([_name_parts(v) for v in values], columns=["surname", "given"], index=values.index)
    tf = parts.surname.map(parts.surname.value_counts() / n) * parts.given.map(parts.given.value_counts() / n)
    return pd.DataFrame({"name": values, "tf_name": tf}).drop_duplicates("name").reset_index(drop=True)


def why_no_matching(records: pd.DataFrame) -> str | None:
    """Why the match model cannot run on these records (None when it can): fewer than two
    records with a name, ID number, phone or e-mail; no candidate pairs (no two records share
    an ID number, phone, e-mail, or a name with a birth date or city); or no two records
    sharing an ID number or phone, the pairs from which the model learns how often two
    records are one person. Counted with pandas, before splink is asked."""
    usable = records[records[list(IDENTIFIERS)].notna().any(axis=1)]
    if len(usable) < 2:
        return (f"{len(usable)} customer record(s) with a name, ID number, phone or e-mail: nothing to compare, "
                "so no records are merged")

    def shared(block) -> int:
        keys = usable[list(block)].dropna()
        return int(keys.duplicated(keep=False).sum())

    if not any(shared(block) for block in BLOCKS):
        return ("no two records share an ID number, a phone, an e-mail, or a name with a birth date or a city: there "
                "are no candidate pairs, so no records are merged")
    if not (shared(("id_number",)) or shared(("phone",))):
        return ("no two records share an ID number or a phone: the match model learns from such pairs how often two "
                "records are one person, and without them it cannot tell a duplicate from two people of the same "
                "name, so no records are merged")
    return None


def find_duplicates(records: pd.DataFrame, keep_apart: set[str] | None = None, seed: int = 42,
                    min_probability: float = MIN_PAIR_PROBABILITY) -> tuple[pd.DataFrame, dict]:
    """Score candidate pairs of customer records with a Fellegi-Sunter model (splink, DuckDB).

    Model, in plain sentences:

    1. Candidate pairs are the records that agree on at least one of: ID number, phone,
       e-mail, name and birth date, name and city (blocking: only these pairs are scored).
    2. Each pair is compared on name, ID number, phone, e-mail, birth date, address and city,
       each at a few levels (exact, one character off, different, missing).
    3. For each level, m = P(level | same person) and u = P(level | different people); the
       pair's match weight is the sum of log2(m/u) over the comparisons plus the prior.
    4. u is estimated from random pairs; the prior from pairs that share an ID number or a
       phone; m by expectation-maximisation in sessions blocked on one field at a time
       (:data:`TRAINING_BLOCKS`), so each comparison is learned from pairs not selected by
       it. No labels used. See :func:`_train_m` for what happens when a session cannot train.

    Returns (pairs with probability >= ``min_probability``, the model as a dict of m/u, with
    ``training_sessions``: what each session trained or why it was skipped). When the model
    cannot run (:func:`why_no_matching`), no pairs, and the model dict says why under ``skipped``.
    """
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    frame = records[["customer_id", *MATCH_FIELDS]].copy()
    frame["birth_date"] = frame.birth_date.astype(str).where(frame.birth_date.notna(), None)
    for col in frame.columns:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    frame = frame[frame[list(IDENTIFIERS)].notna().any(axis=1)]
    reason = why_no_matching(frame)
    if reason is not None:
        empty = pd.DataFrame({"customer_id_l": pd.Series(dtype="str"), "customer_id_r": pd.Series(dtype="str"),
                              "match_weight": pd.Series(dtype="float64"), "match_probability": pd.Series(dtype="float64")})
        return empty, {"skipped": reason, "probability_two_random_records_match": None, "comparisons": [],
                       "training_sessions": [], "untrained_comparisons": [], "levels": []}
    scratch = duckdb.connect()
    try:
        api = DuckDBAPI(connection=scratch)
        linker = Linker(api.register(frame, dataset_display_name="customer_records"), _splink_settings(), log_level=None)
        linker.table_management.register_term_frequency_lookup(api.register(name_frequencies(frame["name"])), "name")
        logging.getLogger("splink").setLevel(logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("id_number"), block_on("phone")], recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=seed)
        sessions, untrained = _train_m(linker)
        pairs = linker.inference.predict(threshold_match_probability=min_probability).as_pandas_dataframe()
        model = linker.misc.save_model_to_json()
        model["training_sessions"], model["untrained_comparisons"] = sessions, untrained
        model["levels"] = _level_parameters(linker)
    finally:
        scratch.close()
    pairs = pairs.rename(columns={"customer_id_l": "customer_id_l", "customer_id_r": "customer_id_r"})
    pairs = pairs[["customer_id_l", "customer_id_r", "match_weight", "match_probability"]]
    if keep_apart:
        pairs = pairs[~pairs.customer_id_l.isin(keep_apart) & ~pairs.customer_id_r.isin(keep_apart)]
    return pairs.sort_values("match_weight", ascending=False, ignore_index=True), model


def same_id_pairs(records: pd.DataFrame, keep_apart: set[str] | None = None) -> pd.DataFrame:
    """Records that carry the same valid resident ID number (after the 15 -> 18 digit upgrade):
    one person by law, so they are linked whatever the match model says (the rule
    "same ID number"). Records a reviewer kept apart are left out. Returns pairs
    (customer_id_l, customer_id_r), each record paired with the first of its ID group."""
    r = records.loc[records.id_number.notna(), ["customer_id", "id_number"]]
    if keep_apart:
        r = r[~r.customer_id.isin(keep_apart)]
    first = r.groupby("id_number").customer_id.transform("min")
    linked = r[r.customer_id != first]
    return pd.DataFrame({"customer_id_l": first[linked.index].to_numpy(), "customer_id_r": linked.customer_id.to_numpy()})


def clusters_at(records: pd.DataFrame, pairs: pd.DataFrame, threshold: float,
                rule_pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Connected components of the model's pairs at or above ``threshold`` together with the
    ``rule_pairs`` (linked whatever their probability, see :func:`same_id_pairs`):
    customer_id -> cluster_id, match_probability (the highest model probability linking the
    record), linked_by ("model", "same ID number" or empty for a record on its own)."""
    ids = records.customer_id.tolist()
    index = {cid: i for i, cid in enumerate(ids)}
    parent = list(range(len(ids)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(left, right):
        a, b = root(index[left]), root(index[right])
        if a != b:
            parent[max(a, b)] = min(a, b)

    strong = pairs[pairs.match_probability >= threshold]
    best, how = {}, {}
    for left, right, p in strong[["customer_id_l", "customer_id_r", "match_probability"]].itertuples(index=False):
        union(left, right)
        for c in (left, right):
            best[c] = max(best.get(c, 0.0), p)
            how[c] = "model"
    if rule_pairs is not None:
        for left, right in rule_pairs[["customer_id_l", "customer_id_r"]].itertuples(index=False):
            union(left, right)
            for c in (left, right):
                how.setdefault(c, "same ID number")
    return pd.DataFrame({"customer_id": ids, "cluster_id": [root(i) for i in range(len(ids))],
                         "match_probability": [best.get(c, np.nan) for c in ids],
                         "linked_by": [how.get(c) for c in ids]})


# ------------------------------------------------------------------------------ 3. golden records
def golden_records(records: pd.DataFrame, clusters: pd.DataFrame, run_id: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One master customer per cluster by the survivorship rules of this module's docstring.

    Returns (customers, customer_map).
    """
    r = records.merge(clusters, on="customer_id")
    # rule a: master id = most complete record, then most recently updated, then smallest id
    r = r.sort_values(["cluster_id", "filled", "updated_at", "customer_id"], ascending=[True, False, False, True])
    master = r.groupby("cluster_id", sort=False).customer_id.first().rename("master_id")
    size = r.groupby("cluster_id").size().rename("cluster_size")
    r = r.join(master, on="cluster_id").join(size, on="cluster_id")
    if "linked_by" not in r.columns:
        r["linked_by"] = None
    cmap = r[["customer_id", "master_id", "cluster_size", "match_probability", "linked_by"]].copy()
    cmap["match_probability"] = cmap.match_probability.where(cmap.cluster_size > 1)
    cmap["linked_by"] = cmap.linked_by.where(cmap.cluster_size > 1)
    cmap["run_id"] = run_id
    # rule b: most recent non-empty value (then most complete)
    r = r.sort_values(["master_id", "updated_at", "filled", "customer_id"], ascending=[True, False, False, True])
    grouped = r.groupby("master_id", sort=True)
    customers = grouped[ATTRIBUTES].first()  # first non-null per column
    # rule c
    customers["signup_date"] = grouped.signup_date.min()
    # (vectorized: a Python function per group costs about a millisecond, minutes at a million)
    is_distributor = r.customer_type.eq("distributor").fillna(False).astype(bool)
    customers["customer_type"] = is_distributor.groupby(r.master_id).any().map({True: "distributor", False: "consumer"})
    systems = r[["master_id", "source_system"]].dropna().drop_duplicates().sort_values(["master_id", "source_system"])
    joined: dict[str, str] = {}
    for m, s in zip(systems.master_id.tolist(), systems.source_system.tolist()):
        joined[m] = f"{joined[m]},{s}" if m in joined else s
    customers["source_systems"] = pd.Series(joined, dtype="str").reindex(customers.index).fillna("")
    customers["records"] = grouped.size().astype("int32")
    customers["updated_at"] = grouped.updated_at.max()
    customers = customers.reset_index().rename(columns={"master_id": "customer_id"})
    return customers[[c.name for c in CUSTOMER_COLUMNS]], cmap.sort_values("customer_id", ignore_index=True)


def keep_apart(con, customer_ids, reason: str) -> None:
    """Record a reviewer's decision that these records are separate people (undoes a merge).

    Every later :func:`run` leaves them out of matching, so each stays its own customer.
    """
    _create_table(con, "keep_apart", KEEP_APART_COLUMNS, "Records a reviewer decided must not be merged", replace=False)
    con.executemany("INSERT INTO main.keep_apart VALUES (?, ?, now())", [[c, reason] for c in customer_ids])


# ------------------------------------------------------------------------------ 4. transactions
ORDER_COLUMNS = (
    *[c for c in warehouse.MODEL["orders"].columns],
    C("source_customer_id", "VARCHAR", "Customer number as recorded (before merging)", PUBLIC),
    C("is_wholesale", "BOOLEAN", "Consumer order of wholesale size (flag)", PUBLIC),
    C("exclude_reason", "VARCHAR", "Why the order is left out of sales (empty = counted)", PUBLIC),
)
LINE_COLUMNS = (
    *[c for c in warehouse.MODEL["order_lines"].columns],
    C("exclude_reason", "VARCHAR", "Why the line is left out (empty = counted)", PUBLIC),
)
SALES_COLUMNS = _cols(
    ("order_id", "VARCHAR", "Sale order", PUBLIC),
    ("customer_id", "VARCHAR", "Master customer", PUBLIC),
    ("source_customer_id", "VARCHAR", "Customer number as recorded", PUBLIC),
    ("order_date", "DATE", "Order date", PUBLIC),
    ("channel", "VARCHAR", "Sales channel", PUBLIC),
    ("city", "VARCHAR", "City of the store or delivery", PUBLIC),
    ("lines", "INTEGER", "Counted lines", PUBLIC),
    ("gross_amount", "DOUBLE", "Amount of the counted lines", PUBLIC),
    ("returned_amount", "DOUBLE", "Amount returned later (positive)", PUBLIC),
    ("net_amount", "DOUBLE", "gross_amount - returned_amount", PUBLIC),
    ("cost", "DOUBLE", "Cost of goods kept (net of returns)", DEEP),
    ("margin", "DOUBLE", "net_amount - cost", DEEP),
    ("is_wholesale", "BOOLEAN", "Consumer order of wholesale size", PUBLIC),
)
RETURN_COLUMNS = _cols(
    ("return_id", "VARCHAR", "Return order", PUBLIC),
    ("order_id", "VARCHAR", "Sale order it returns", PUBLIC),
    ("customer_id", "VARCHAR", "Master customer", PUBLIC),
    ("return_date", "DATE", "Date of the return", PUBLIC),
    ("amount", "DOUBLE", "Amount returned (positive)", PUBLIC),
    ("cost", "DOUBLE", "Cost of the goods returned (positive)", DEEP),
)
MAPPED_COLUMNS = (C("source_customer_id", "VARCHAR", "Customer number as recorded (before merging)", PUBLIC),)
SUPPRESSION_COLUMNS = _cols(
    ("entry", "BIGINT", "Entry of the do-not-contact list (in load order)", PUBLIC),
    ("customer_id", "VARCHAR", "Master customer the entry applies to; empty when it matches no customer (yet)", PUBLIC),
    ("matched_by", "VARCHAR", "customer number, phone or e-mail", PUBLIC),
    ("channel", "VARCHAR", "Channel the entry applies to; empty = every channel", PUBLIC),
    ("reason", "VARCHAR", "Why", PUBLIC),
    ("added_date", "DATE", "When the entry was made", PUBLIC),
    ("phone", "VARCHAR", "Phone number listed, standardized", PRIVATE),
    ("email", "VARCHAR", "E-mail address listed, standardized", PRIVATE),
)


def clean_transactions(con, as_of: date, run_id: int, wholesale_quantity: int = 20,
                       wholesale_amount: float = 5_000.0) -> list[tuple]:
    """Build main.orders, main.order_lines, main.sales, main.contacts, main.service_tickets
    (and clean copies of products, campaigns, cities) from raw, using ``main.customer_map``.

    Expects ``main.customer_map`` and ``main.customers`` of this run. Returns log rows.
    """
    q = con.execute
    rule = warehouse.sql.text("warehouse.order_exclusion").replace("$reference", warehouse.sql.literal(as_of))  # TODO(issue 12): a parameter
    q(f"""CREATE OR REPLACE TABLE main.orders AS
        SELECT o.* EXCLUDE (customer_id, batch_id, source_line, order_type, status),
               coalesce(o.order_type, 'sale') AS order_type, coalesce(o.status, 'completed') AS status,
               m.master_id AS customer_id, o.customer_id AS source_customer_id, FALSE AS is_wholesale,
               coalesce({rule}, CASE WHEN m.master_id IS NULL THEN 'unknown customer' END) AS exclude_reason
        FROM raw.orders o LEFT JOIN main.customer_map m ON o.customer_id = m.customer_id
        LEFT JOIN main.load_batches b USING (batch_id)""")
    # The lines as exported, completed: an empty quantity is 1 (or amount / unit price), an
    # empty unit price amount / quantity, an empty amount quantity x unit price; and an order
    # that came with a total and no lines gets one line of quantity 1 (-1 on a return).
    q("""CREATE OR REPLACE TEMP TABLE lines_in AS
        WITH l AS (
            SELECT l.*, coalesce(l.quantity, CASE WHEN l.unit_price > 0 AND l.amount IS NOT NULL
                                                  THEN CAST(round(l.amount / l.unit_price) AS INTEGER) END, 1) AS q
            FROM raw.order_lines l)
        SELECT order_id, line_no, product_id, q AS quantity,
               coalesce(unit_price, amount / nullif(q, 0)) AS unit_price, coalesce(amount, q * unit_price) AS amount,
               quantity IS NULL AS quantity_assumed, unit_price IS NULL AS price_from_amount, FALSE AS from_order_total
        FROM l
        UNION ALL
        SELECT o.order_id, 1, NULL, CASE WHEN o.order_type = 'return' THEN -1 ELSE 1 END,
               CASE WHEN o.order_type = 'return' THEN abs(o.amount) ELSE o.amount END,
               CASE WHEN o.order_type = 'return' THEN -abs(o.amount) ELSE o.amount END, FALSE, FALSE, TRUE
        FROM raw.orders o
        WHERE o.amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw.order_lines l WHERE l.order_id = o.order_id)""")
    q("""CREATE OR REPLACE TABLE main.order_lines AS
        SELECT l.* EXCLUDE (quantity_assumed, price_from_amount, from_order_total),
               CASE WHEN o.order_id IS NULL THEN 'orphan line'
                    WHEN l.unit_price IS NULL OR l.unit_price <= 0 THEN 'non-positive price'
                    WHEN l.product_id IS NOT DISTINCT FROM lag(l.product_id) OVER w
                     AND l.quantity IS NOT DISTINCT FROM lag(l.quantity) OVER w
                     AND l.unit_price IS NOT DISTINCT FROM lag(l.unit_price) OVER w
                     AND NOT l.from_order_total THEN 'repeated line' END AS exclude_reason
        FROM lines_in l LEFT JOIN raw.orders o USING (order_id)
        WINDOW w AS (PARTITION BY l.order_id ORDER BY l.line_no)""")
    # a return line of a product whose sale line was not counted cannot be netted against it
    q("""UPDATE main.order_lines l SET exclude_reason = 'return of uncounted line'
        FROM raw.orders r
        WHERE l.order_id = r.order_id AND r.order_type = 'return' AND l.exclude_reason IS NULL
          AND EXISTS (SELECT 1 FROM main.order_lines s WHERE s.order_id = r.original_order_id AND s.exclude_reason IS NULL)
          AND NOT EXISTS (SELECT 1 FROM main.order_lines s WHERE s.order_id = r.original_order_id
                          AND s.exclude_reason IS NULL AND s.product_id IS NOT DISTINCT FROM l.product_id)""")
    # totals of counted lines per order, at cost from the product master
    q("""CREATE OR REPLACE TEMP TABLE order_totals AS
        SELECT l.order_id, count(*) AS lines, sum(l.amount) AS amount, sum(l.quantity * p.unit_cost) AS cost,
               max(abs(l.quantity)) AS max_quantity
        FROM main.order_lines l LEFT JOIN raw.products p USING (product_id)
        WHERE l.exclude_reason IS NULL GROUP BY 1""")
    q("""UPDATE main.orders o SET exclude_reason = 'no counted lines'
        WHERE o.exclude_reason IS NULL AND o.order_id NOT IN (SELECT order_id FROM order_totals)""")
    # returns are netted against the sale they return; a return without a counted sale is left out
    q("""UPDATE main.orders r SET exclude_reason = 'return without sale'
        WHERE r.order_type = 'return' AND r.exclude_reason IS NULL AND NOT EXISTS (
            SELECT 1 FROM main.orders s WHERE s.order_id = r.original_order_id
               AND s.order_type = 'sale' AND s.exclude_reason IS NULL)""")
    q(f"""UPDATE main.orders o SET is_wholesale = TRUE FROM order_totals t, main.customers c
        WHERE o.order_id = t.order_id AND o.customer_id = c.customer_id AND c.customer_type = 'consumer'
          AND o.order_type = 'sale' AND (t.amount > {float(wholesale_amount)} OR t.max_quantity >= {int(wholesale_quantity)})""")
    q("""CREATE OR REPLACE TABLE main.returns AS
        SELECT r.order_id AS return_id, r.original_order_id AS order_id, r.customer_id, r.order_date AS return_date,
               -t.amount AS amount, -t.cost AS cost
        FROM main.orders r JOIN order_totals t USING (order_id)
        WHERE r.order_type = 'return' AND r.exclude_reason IS NULL
        ORDER BY order_id, return_date, return_id""")
    q("""CREATE OR REPLACE TEMP TABLE sales_all AS
        WITH ret AS (SELECT order_id, sum(amount) AS returned_amount, sum(cost) AS returned_cost
                     FROM main.returns GROUP BY 1)
        SELECT o.order_id, o.customer_id, o.source_customer_id, o.order_date, o.channel, o.city,
               CAST(t.lines AS INTEGER) AS lines, t.amount AS gross_amount,
               coalesce(ret.returned_amount, 0) AS returned_amount,
               t.amount - coalesce(ret.returned_amount, 0) AS net_amount,
               t.cost - coalesce(ret.returned_cost, 0) AS cost,
               t.amount - coalesce(ret.returned_amount, 0) - (t.cost - coalesce(ret.returned_cost, 0)) AS margin,
               o.is_wholesale
        FROM main.orders o JOIN order_totals t USING (order_id) LEFT JOIN ret USING (order_id)
        WHERE o.order_type = 'sale' AND o.exclude_reason IS NULL""")
    q("CREATE OR REPLACE TABLE main.sales AS SELECT * FROM sales_all WHERE net_amount > 0 ORDER BY customer_id, order_date, order_id")
    q("CREATE OR REPLACE TABLE main.sales_returned AS SELECT * FROM sales_all WHERE net_amount <= 0 ORDER BY customer_id, order_date, order_id")
    q("""UPDATE main.orders o SET exclude_reason = 'fully returned'
        FROM sales_all s WHERE o.order_id = s.order_id AND s.net_amount <= 0""")
    q("""CREATE OR REPLACE TABLE main.contacts AS
        SELECT c.campaign_id, m.master_id AS customer_id, c.cell, c.contact_date, c.customer_id AS source_customer_id
        FROM raw.contacts c LEFT JOIN main.customer_map m USING (customer_id)
        QUALIFY row_number() OVER (PARTITION BY c.campaign_id, coalesce(m.master_id, c.customer_id) ORDER BY c.source_line) = 1""")
    q("""CREATE OR REPLACE TABLE main.service_tickets AS
        SELECT t.* EXCLUDE (customer_id, batch_id, source_line), m.master_id AS customer_id, t.customer_id AS source_customer_id
        FROM raw.service_tickets t LEFT JOIN main.customer_map m USING (customer_id)""")
    for table in ("products", "campaigns"):
        q(f"CREATE OR REPLACE TABLE main.{table} AS SELECT * EXCLUDE (batch_id, source_line) FROM raw.{table}")
    cities = city_reference(con)[[c.name for c in warehouse.MODEL["cities"].columns]]
    con.register("_cities", cities)
    try:
        q("CREATE OR REPLACE TABLE main.cities AS SELECT " + ", ".join(
            f'CAST("{c.name}" AS {c.type}) AS "{c.name}"' for c in warehouse.MODEL["cities"].columns) + " FROM _cities")
    finally:
        con.unregister("_cities")

    def count(sql):
        return int(q(sql).fetchall()[0][0])

    log = []
    derived = q("""SELECT count(*) FILTER (WHERE from_order_total), count(*) FILTER (WHERE quantity_assumed),
                          count(*) FILTER (WHERE price_from_amount) FROM lines_in""").fetchall()[0]
    for (rule_name, description), n in zip(
            [("order total as one line", "orders exported with a total and no lines: one line of quantity 1 "
              "(-1 on a return) at that amount"),
             ("quantity 1 assumed", "lines without a quantity: quantity 1, or amount / unit price when both are given"),
             ("unit price from amount", "lines without a unit price: amount / quantity")], derived):
        log.append(("transactions", rule_name, "order_lines", int(n), "completed", description))
    defaults = q("""SELECT count(*) FILTER (WHERE order_type IS NULL), count(*) FILTER (WHERE status IS NULL)
                    FROM raw.orders""").fetchall()[0]
    log.append(("transactions", "sale assumed", "orders", int(defaults[0]), "completed",
                "orders without an order type are sales"))
    log.append(("transactions", "completed assumed", "orders", int(defaults[1]), "completed",
                "orders without a status are completed"))
    for reason in ("anonymous order", "cancelled order", "future date", "unknown customer", "no counted lines",
                   "return without sale", "fully returned"):
        n = count(f"SELECT count(*) FROM main.orders WHERE exclude_reason = '{reason}'")
        log.append(("transactions", reason, "orders", n, "kept, left out of sales", RULES[reason]))
    for reason in ("orphan line", "non-positive price", "repeated line", "return of uncounted line"):
        n = count(f"SELECT count(*) FROM main.order_lines WHERE exclude_reason = '{reason}'")
        action = "dropped from amounts" if reason != "orphan line" else "left out"
        log.append(("transactions", reason, "order_lines", n, action, RULES[reason]))
    n = count("SELECT count(*) FROM main.orders WHERE order_type = 'return' AND exclude_reason IS NULL")
    log.append(("transactions", "return netted", "orders", n, "netted", RULES["return netted"]))
    n = count("SELECT count(*) FROM main.orders WHERE is_wholesale")
    log.append(("transactions", "wholesale size", "orders", n, "flagged",
                f"{RULES['wholesale size']}: amount > {wholesale_amount:,.0f} or a line of >= {wholesale_quantity} units"))
    merged = count("SELECT count(*) FROM raw.contacts") - count("SELECT count(*) FROM main.contacts")
    log.append(("transactions", "contact of merged records", "contacts", merged, "dropped",
                "two records of one person in the same campaign: the first contact kept"))
    for table in ("orders", "contacts", "service_tickets"):
        n = count(f"SELECT count(*) FROM main.{table} WHERE customer_id <> source_customer_id")
        log.append(("identities", "mapped to master", table, n, "re-keyed",
                    "rows of a merged record now point to its master customer (source id kept)"))
    return [(run_id, *row) for row in log]


def resolve_suppressions(con, run_id: int) -> list[tuple]:
    """Resolve the do-not-contact list (``raw.suppressions``) to master customers in
    ``main.suppressions``: an entry applies to the master of its customer number, and to the
    master of every customer record with the same phone or e-mail once both are
    standardized (so a registry number written "+86 138 ..." finds the customer who gave
    "138-..."). An entry that matches nobody is kept with an empty customer: it applies as
    soon as such a customer appears. Run after the customer map is written. Returns log rows."""
    raw = con.execute("""SELECT row_number() OVER (ORDER BY batch_id, source_line) AS entry, customer_id, phone, email,
                                channel, reason, added_date FROM raw.suppressions""").df()
    raw["phone"] = _by_value(raw.phone, st.parse_phone).map(lambda p: p.value, na_action="ignore")
    raw["email"] = _by_value(raw.email, st.parse_email).map(lambda e: e.value, na_action="ignore")
    con.register("_dnc", raw)
    try:
        _create_table(con, "suppressions", SUPPRESSION_COLUMNS, "Do-not-contact list resolved to master customers")
        con.execute("""INSERT INTO main.suppressions
            WITH hits AS (
                SELECT d.entry, m.master_id AS customer_id, 'customer number' AS matched_by
                FROM _dnc d JOIN main.customer_map m ON m.customer_id = d.customer_id
                UNION SELECT d.entry, m.master_id, 'phone' FROM _dnc d
                    JOIN main.customer_records r ON r.phone = d.phone JOIN main.customer_map m ON m.customer_id = r.customer_id
                UNION SELECT d.entry, m.master_id, 'e-mail' FROM _dnc d
                    JOIN main.customer_records r ON r.email = d.email JOIN main.customer_map m ON m.customer_id = r.customer_id)
            SELECT d.entry, h.customer_id, h.matched_by, d.channel, d.reason, d.added_date, d.phone, d.email
            FROM _dnc d LEFT JOIN hits h USING (entry) ORDER BY d.entry, h.customer_id""")
    finally:
        con.unregister("_dnc")
    entries, matched, customers = con.execute("""SELECT count(DISTINCT entry), count(DISTINCT entry) FILTER (WHERE customer_id IS NOT NULL),
                                                 count(DISTINCT customer_id) FROM main.suppressions""").fetchall()[0]
    return [(run_id, "transactions", "do-not-contact entries", "suppressions", entries, "resolved",
             "entries of the do-not-contact list, matched by customer number, phone or e-mail to master customers"),
            (run_id, "transactions", "do-not-contact customers", "suppressions", customers, "suppressed",
             f"master customers not to contact ({matched:,} entries matched one)"),
            (run_id, "transactions", "do-not-contact unmatched", "suppressions", entries - matched, "kept",
             "entries matching no customer (e.g. registry numbers of non-customers): kept, applied when one appears")]


# ------------------------------------------------------------------------------ 5. quality scorecard
def _valid_share(values: pd.Series, is_valid) -> float | None:
    values = values.dropna()
    if values.empty:
        return None
    ok = _by_value(values, is_valid)
    return float(ok.mean())


CUSTOMER_VALIDITY = {
    "name": lambda v: st.standard_name(v) == v,
    "phone": lambda v: st.parse_phone(v).value == v,
    "email": lambda v: (e := st.parse_email(v)).value == v and e.problem is None,  # parsed once
    "id_number": lambda v: st.parse_id_number(v).value == v,
    "gender": lambda v: v in ("M", "F"),
    "province": lambda v: v in st.PROVINCES,
}


def quality_scorecard(con, stage: str, as_of: date, freshness_days: int = 365) -> pd.DataFrame:
    """Completeness, validity, uniqueness and timeliness per table and column.

    ``stage`` "before" scores the raw layer (current customer versions, all orders, lines,
    contacts, tickets, products); "after" scores the clean tables (golden customers, counted
    orders and lines, re-keyed contacts and tickets). Validity means the value is in the
    standard form and passes its checks (a 15-digit ID or a phone written with +86 is not yet
    valid); uniqueness is distinct / non-empty values of a key. Timeliness: for customers,
    the share whose last update (:func:`last_update`) lies within ``freshness_days`` of
    ``as_of``; for transaction tables, 1 - (age in days of the newest record) / freshness_days.
    ``detail`` says what was measured (ages in days).
    """
    if stage == "before":
        customers = con.execute("SELECT * FROM raw.customers WHERE valid_to IS NULL").df()
        customers["updated_at"] = last_update(con, customers)
        orders, lines, known = "raw.orders", "raw.order_lines", "SELECT customer_id FROM raw.customers"
        contacts, tickets, products = "raw.contacts", "raw.service_tickets", "raw.products"
    elif stage == "after":
        customers = con.execute("SELECT * FROM main.customers").df()
        orders = "(SELECT * FROM main.orders WHERE exclude_reason IS NULL)"
        lines = "(SELECT * FROM main.order_lines WHERE exclude_reason IS NULL)"
        known = "SELECT customer_id FROM main.customers"
        contacts, tickets, products = "main.contacts", "main.service_tickets", "main.products"
    else:
        raise ValueError(f"stage must be 'before' or 'after', got {stage!r}")
    cities = set(city_reference(con).city)
    rows = []

    def add(table, column, dimension, score, detail=None):
        if score is not None and not pd.isna(score):
            rows.append((stage, table, column, dimension, round(float(score), 4), detail))

    def q(sql):
        return con.execute(sql).fetchall()[0]

    def completeness(table, relation, columns):
        total, *filled = q(f"SELECT count(*), {', '.join(f'count({c})' for c in columns)} FROM {relation}")
        for col, k in zip(columns, filled):
            add(table, col, "completeness", k / total if total else None)

    def newest(table, relation, column):
        day = q(f"SELECT max({column}) FROM {relation} WHERE {column} <= DATE '{as_of}'")[0]
        if day is not None:
            age = (as_of - day).days
            add(table, "*", "timeliness", max(0.0, 1 - age / freshness_days),
                f"newest {column} {day}: {age} days before {as_of}")

    n = len(customers)
    for col in ["customer_id", *ATTRIBUTES, "signup_date"]:
        add("customers", col, "completeness", customers[col].notna().mean() if n else None)
    for col, check in CUSTOMER_VALIDITY.items():
        add("customers", col, "validity", _valid_share(customers[col], check))
    add("customers", "city", "validity", _valid_share(customers.city, lambda v: v in cities))
    born = pd.to_datetime(customers.birth_date).dropna()
    add("customers", "birth_date", "validity",
        ((born >= "1900-01-01") & (born <= pd.Timestamp(as_of))).mean() if len(born) else None)
    for col in ["customer_id", "id_number", "phone", "email"]:
        values = customers[col].dropna()
        add("customers", col, "uniqueness", values.nunique() / len(values) if len(values) else None)
    updated = pd.to_datetime(customers.updated_at)
    if n and updated.notna().any():
        age = (pd.Timestamp(as_of) - updated).dt.days
        add("customers", "*", "timeliness", float((age <= freshness_days).mean()),
            f"records updated within {freshness_days} days; median age of the last update {int(age.median())} days, "
            f"newest {int(max(age.min(), 0))} days")

    completeness("orders", orders, ["customer_id", "order_date", "channel", "city"])
    add("orders", "order_date", "validity", q(f"SELECT avg(CAST(order_date <= DATE '{as_of}' AS DOUBLE)) FROM {orders}")[0])
    add("orders", "customer_id", "validity", q(
        f"SELECT avg(CAST(customer_id IN ({known}) AS DOUBLE)) FROM {orders} WHERE customer_id IS NOT NULL")[0])
    add("orders", "order_id", "uniqueness", q(f"SELECT count(DISTINCT order_id) / count(*) FROM {orders}")[0])
    newest("orders", orders, "order_date")

    completeness("order_lines", lines, ["product_id", "quantity", "unit_price"])
    add("order_lines", "unit_price", "validity", q(f"SELECT avg(CAST(unit_price > 0 AS DOUBLE)) FROM {lines}")[0])
    add("order_lines", "amount", "validity",
        q(f"SELECT avg(CAST(abs(amount - quantity * unit_price) < 0.01 AS DOUBLE)) FROM {lines}")[0])
    add("order_lines", "*", "uniqueness", q(f"""
        SELECT 1 - avg(CAST(repeated AS DOUBLE)) FROM (
            SELECT product_id IS NOT DISTINCT FROM lag(product_id) OVER w AND quantity IS NOT DISTINCT FROM lag(quantity) OVER w
                   AND unit_price IS NOT DISTINCT FROM lag(unit_price) OVER w AS repeated
            FROM {lines} WINDOW w AS (PARTITION BY order_id ORDER BY line_no))""")[0])

    completeness("contacts", contacts, ["campaign_id", "customer_id", "cell", "contact_date"])
    add("contacts", "cell", "validity", q(f"SELECT avg(CAST(cell IN ('test', 'control') AS DOUBLE)) FROM {contacts}")[0])
    add("contacts", "customer_id", "validity", q(
        f"SELECT avg(CAST(customer_id IN ({known}) AS DOUBLE)) FROM {contacts} WHERE customer_id IS NOT NULL")[0])
    add("contacts", "campaign_id", "validity", q(
        f"SELECT avg(CAST(campaign_id IN (SELECT campaign_id FROM raw.campaigns) AS DOUBLE)) FROM {contacts}")[0])
    add("contacts", "*", "uniqueness", q(
        f"SELECT count(DISTINCT (campaign_id, customer_id)) / count(*) FROM {contacts} WHERE customer_id IS NOT NULL")[0],
        "one contact per customer and campaign")
    newest("contacts", contacts, "contact_date")

    completeness("service_tickets", tickets, ["customer_id", "opened_date", "ticket_type", "satisfaction"])
    add("service_tickets", "ticket_type", "validity", q(
        f"SELECT avg(CAST(ticket_type IN ('complaint', 'inquiry', 'return') AS DOUBLE)) FROM {tickets}")[0])
    add("service_tickets", "satisfaction", "validity", q(
        f"SELECT avg(CAST(satisfaction BETWEEN 1 AND 5 AS DOUBLE)) FROM {tickets} WHERE satisfaction IS NOT NULL")[0])
    add("service_tickets", "customer_id", "validity", q(
        f"SELECT avg(CAST(customer_id IN ({known}) AS DOUBLE)) FROM {tickets} WHERE customer_id IS NOT NULL")[0])
    add("service_tickets", "ticket_id", "uniqueness", q(f"SELECT count(DISTINCT ticket_id) / count(*) FROM {tickets}")[0])
    newest("service_tickets", tickets, "opened_date")

    completeness("products", products, ["product_name", "category", "price", "unit_cost"])
    add("products", "price", "validity", q(f"SELECT avg(CAST(price > 0 AS DOUBLE)) FROM {products} WHERE price IS NOT NULL")[0])
    add("products", "unit_cost", "validity", q(
        f"SELECT avg(CAST(unit_cost >= 0 AND unit_cost <= price AS DOUBLE)) FROM {products} WHERE unit_cost IS NOT NULL")[0],
        "0 <= unit cost <= price")
    add("products", "product_id", "uniqueness", q(f"SELECT count(DISTINCT product_id) / count(*) FROM {products}")[0])
    return pd.DataFrame(rows, columns=["stage", "table_name", "column_name", "dimension", "score", "detail"])


# ------------------------------------------------------------------------------ the run
def _create_table(con, name: str, columns, description: str, replace: bool = True) -> None:
    body = ", ".join(f'"{c.name}" {c.type}' for c in columns)
    verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    con.execute(f"{verb} main.{name} ({body})")
    if not replace:  # a table kept across runs gains the columns a newer version added
        warehouse.add_missing_columns(con, "main", name, columns)
    warehouse.register_table(con, "main", name, columns, description, layer="clean")


def _write(con, name: str, columns, frame: pd.DataFrame, description: str, replace: bool = True) -> None:
    """Write ``frame`` into main.<name> with the declared column types (and catalog entry)."""
    _create_table(con, name, columns, description, replace=replace)
    names = [c.name for c in columns]
    con.register("_frame", frame[names])
    try:
        con.execute(f"INSERT INTO main.{name} SELECT {', '.join(chr(34) + n + chr(34) for n in names)} FROM _frame")
    finally:
        con.unregister("_frame")


def run(con, as_of=None, match_threshold: float = 0.9, wholesale_quantity: int = 20, wholesale_amount: float = 5_000.0,
        freshness_days: int = 365, seed: int = 42) -> CleanResult:
    """Clean the raw layer into the core tables of ``main`` (see the module docstring).

    Parameters
    ----------
    as_of : the reference date of the cleaning: data quality (timeliness, birth dates) is
        judged at it, and orders that came without a delivery are future-dated after it.
        Default: the extraction date of the newest delivery. An order loaded from a delivery
        is future-dated after that delivery's own extraction date, whatever this says.
    match_threshold : match probability at or above which two records are one person.
    wholesale_quantity, wholesale_amount : a consumer order with a line of at least this many
        units, or above this amount, is flagged as wholesale size.
    freshness_days : a customer record updated within this many days counts as timely.
    seed : for the random pairs that estimate the match model.
    """
    started = datetime.now()
    as_of = warehouse.resolve_as_of(con, as_of) if as_of is not None else warehouse.newest_extraction(con)
    if as_of is None:
        raise ValueError("nothing is loaded yet: load the sources (notebook 01 or `dbmarketing load`) before cleaning")
    for name, cols, desc in [("cleaning_runs", RUN_COLUMNS, "One row per cleaning run"),
                             ("cleaning_log", LOG_COLUMNS, "What each cleaning rule did, per run"),
                             ("quality_scores", SCORE_COLUMNS, "Data-quality scorecard per run, before and after cleaning"),
                             ("keep_apart", KEEP_APART_COLUMNS, "Records a reviewer decided must not be merged")]:
        _create_table(con, name, cols, desc, replace=False)
    run_id = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM main.cleaning_runs").fetchall()[0][0])
    before = quality_scorecard(con, "before", as_of, freshness_days)

    records, findings, log = standardize_customers(con, run_id, as_of)
    keep = {r[0] for r in con.execute("SELECT customer_id FROM main.keep_apart").fetchall()}
    pairs, model = find_duplicates(records, keep_apart=keep, seed=seed)
    rule_pairs = same_id_pairs(records, keep)
    clusters = clusters_at(records, pairs, match_threshold, rule_pairs)
    customers, cmap = golden_records(records, clusters, run_id)
    in_clusters = cmap[cmap.cluster_size > 1]
    log.append((run_id, "identities", "records merged", "customers", len(records) - len(customers), "merged",
                f"records absorbed into another record's master: {len(in_clusters):,} records in "
                f"{in_clusters.master_id.nunique():,} clusters became {in_clusters.master_id.nunique():,} master customers "
                f"(records {len(records):,} -> customers {len(customers):,})"))
    log.append((run_id, "identities", "same ID number", "customers", int((clusters.linked_by == "same ID number").sum()),
                "merged", "records sharing a valid ID number (15-digit forms upgraded) linked by rule, "
                f"where the match model alone stayed below {match_threshold}"))
    only = int((records.source_system == "orders only").sum())
    log.append((run_id, "identities", "known only by orders", "customers", only, "added",
                "customer numbers on orders that no customer record holds: customers without personal data, "
                "a distributor if they bought through the distributor channel, signed up with their first order"))
    log.append((run_id, "identities", "kept apart", "customers", len(keep & set(records.customer_id)), "not merged",
                "records a reviewer decided are separate people (main.keep_apart)"))

    con.execute("BEGIN TRANSACTION")
    try:
        _write(con, "customer_records", RECORD_COLUMNS, records, "Standardized customer records (current versions)")
        _write(con, "quality_findings", FINDING_COLUMNS, findings, "Problems found while standardizing, per record")
        _write(con, "match_pairs", PAIR_COLUMNS, pairs, "Candidate duplicate pairs scored by the match model")
        _write(con, "customer_map", MAP_COLUMNS, cmap, "Source customer number -> master customer (auditable merge)")
        _write(con, "customer_map_history", MAP_COLUMNS, cmap,
               "customer_map of every cleaning run (run_id), so an earlier merge can be audited and restored", replace=False)
        _write(con, "customers", CUSTOMER_COLUMNS, customers, "Golden customer records, one per person")
        log += clean_transactions(con, as_of, run_id, wholesale_quantity, wholesale_amount)
        log += resolve_suppressions(con, run_id)
        for name, cols, desc in [("orders", ORDER_COLUMNS, "Orders with master customer and exclusion reason"),
                                 ("order_lines", LINE_COLUMNS, "Order lines with exclusion reason"),
                                 ("sales", SALES_COLUMNS, "Customer purchases: one row per sale, net of returns"),
                                 ("sales_returned", SALES_COLUMNS, "Sales returned in full by the extraction date (not purchases then)"),
                                 ("returns", RETURN_COLUMNS, "Counted returns, each with its date and the sale it returns"),
                                 ("contacts", (*warehouse.MODEL["contacts"].columns, *MAPPED_COLUMNS), "Campaign contacts by master customer"),
                                 ("service_tickets", (*[c for c in warehouse.MODEL["service_tickets"].columns if c.name != "customer_id"],
                                                      C("customer_id", "VARCHAR", "Master customer", PUBLIC), *MAPPED_COLUMNS),
                                  "Service tickets by master customer")]:
            warehouse.register_table(con, "main", name, cols, desc, layer="clean")
        for name in ("products", "campaigns", "cities"):
            t = warehouse.MODEL[name]
            warehouse.register_table(con, "main", name, t.columns, t.description, layer="clean", origin=t.origin)
        after = quality_scorecard(con, "after", as_of, freshness_days)
        scores = pd.concat([before, after], ignore_index=True).assign(run_id=run_id, as_of=as_of)
        _write(con, "quality_scores", SCORE_COLUMNS, scores, "Data-quality scorecard per run, before and after cleaning", replace=False)
        log_df = pd.DataFrame(log, columns=[c.name for c in LOG_COLUMNS])
        _write(con, "cleaning_log", LOG_COLUMNS, log_df, "What each cleaning rule did, per run", replace=False)
        params = dict(as_of=str(as_of), match_threshold=match_threshold, wholesale_quantity=wholesale_quantity,
                      wholesale_amount=wholesale_amount, freshness_days=freshness_days, seed=seed)
        con.execute("INSERT INTO main.cleaning_runs VALUES (?, ?, now(), ?, ?, ?)",
                    [run_id, started, as_of, json.dumps(params), json.dumps(model, default=str)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return CleanResult(run_id, as_of, len(records), len(customers), len(records) - len(customers), log_df,
                       (datetime.now() - started).total_seconds())


def extraction_date(con) -> date | None:
    """The as-of (extraction) date of the newest cleaning run: ``main.sales`` is as known then.
    None when the database has no cleaning run."""
    exists = con.execute("""SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()
                            AND schema_name = 'main' AND table_name = 'cleaning_runs'""").fetchall()[0][0]
    if not exists:
        return None
    row = con.execute("SELECT as_of FROM main.cleaning_runs ORDER BY run_id DESC LIMIT 1").fetchall()
    return row[0][0] if row else None


def sales_as_of(con, as_of) -> str:
    """The purchases as they were known at ``as_of``, with ``main.sales``'s columns: sales dated
    up to ``as_of``, net of the returns made up to ``as_of`` only; a sale returned in full
    later still counts (from ``main.sales_returned``), one returned in full by then does not.

    Returns a relation name: ``main.sales`` itself when ``as_of`` is on or after the extraction
    date (``main.sales`` is exactly that) or when no cleaning run recorded one (a hand-made
    ``main.sales``), otherwise a temporary view for that date.
    """
    as_of = warehouse.resolve_as_of(con, as_of)
    extracted = extraction_date(con)
    if extracted is None or as_of >= extracted:
        return "main.sales"
    missing = {"returns", "sales_returned"} - {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'").fetchall()}
    if missing:
        raise ValueError(f"main.{' and main.'.join(sorted(missing))} missing: this database was cleaned by an older "
                         "version of dbmarketing; run the cleaning (notebook 02) again")
    name = f"_sales_as_of_{as_of:%Y%m%d}"
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {name} AS
        WITH later AS (SELECT order_id, sum(amount) AS amount, sum(cost) AS cost
                       FROM main.returns WHERE return_date > DATE '{as_of}' GROUP BY 1),
        s AS (SELECT * FROM main.sales WHERE order_date <= DATE '{as_of}'
              UNION ALL SELECT * FROM main.sales_returned WHERE order_date <= DATE '{as_of}')
        SELECT s.order_id, s.customer_id, s.source_customer_id, s.order_date, s.channel, s.city, s.lines,
               s.gross_amount, s.returned_amount - coalesce(l.amount, 0) AS returned_amount,
               s.net_amount + coalesce(l.amount, 0) AS net_amount, s.cost + coalesce(l.cost, 0) AS cost,
               s.net_amount + coalesce(l.amount, 0) - (s.cost + coalesce(l.cost, 0)) AS margin, s.is_wholesale
        FROM s LEFT JOIN later l USING (order_id)
        WHERE s.net_amount + coalesce(l.amount, 0) > 0""")
    return name


def evaluate_against_truth(con) -> dict | None:
    """Pairwise precision and recall of the merge against the sample's planted duplicate
    clusters (``truth.customer_records``); None when the database has no truth schema."""
    has_truth = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'truth' "
                            "AND table_name = 'customer_records'").fetchall()[0][0]
    if not has_truth:
        return None
    predicted, true, both = con.execute("""
        WITH m AS (SELECT c.customer_id, c.master_id, t.person_id
                   FROM main.customer_map c JOIN truth.customer_records t USING (customer_id)),
        -- pairs with the same master or the same person, as two equi-joins (a join on
        -- "same master OR same person" is a nested loop: hours at a million records)
        p AS (SELECT TRUE AS same_master, a.person_id = b.person_id AS same_person
              FROM m a JOIN m b ON a.master_id = b.master_id AND a.customer_id < b.customer_id
              UNION ALL
              SELECT a.master_id = b.master_id AS same_master, TRUE AS same_person
              FROM m a JOIN m b ON a.person_id = b.person_id AND a.customer_id < b.customer_id
              WHERE NOT coalesce(a.master_id = b.master_id, FALSE))
        SELECT count(*) FILTER (WHERE same_master), count(*) FILTER (WHERE same_person),
               count(*) FILTER (WHERE same_master AND same_person) FROM p""").fetchall()[0]
    return {"predicted_pairs": predicted, "true_pairs": true, "correct_pairs": both,
            "precision": both / predicted if predicted else 1.0, "recall": both / true if true else 1.0}


def id_upgrade_story(con) -> dict:
    """The 15- vs 18-digit ID story in four counts: current records holding a 15-digit number,
    how many were upgraded to a valid 18-digit one, how many of those equal another record's
    number (one person seen in both forms), and how many of those ended in the same customer."""
    return dict(zip(["legacy_15_digit", "upgraded_to_18", "same_number_as_another_record", "merged_into_one_customer"],
                    con.execute("""
        WITH r AS (SELECT c.customer_id, c.id_number, length(raw.id_number) = 15 AS was_15, m.master_id
                   FROM raw.customers raw JOIN main.customer_records c USING (customer_id)
                   JOIN main.customer_map m USING (customer_id) WHERE raw.valid_to IS NULL),
        shared AS (SELECT a.customer_id, bool_and(a.master_id = b.master_id) AS together
                   FROM r a JOIN r b ON a.id_number = b.id_number AND a.customer_id <> b.customer_id
                   WHERE a.was_15 GROUP BY 1)
        SELECT (SELECT count(*) FROM r WHERE was_15), (SELECT count(*) FROM r WHERE was_15 AND id_number IS NOT NULL),
               (SELECT count(*) FROM shared), (SELECT count(*) FROM shared WHERE together)""").fetchall()[0]))


def reconciliation(con) -> pd.DataFrame:
    """Counts before and after cleaning, table by table, so every row is accounted for:
    ``rows_in`` (raw) against ``rows_out`` (in the clean tables) and ``left_out`` (merged or
    excluded, each with its reason in the cleaning log), counted independently of each other;
    ``balanced`` says rows_in = rows_out + left_out."""
    def one(sql):
        return con.execute(sql).fetchall()[0]

    rows = [
        ("customer records -> customers", *one(f"""SELECT (SELECT count(*) FROM raw.customers WHERE valid_to IS NULL)
                + (SELECT count(*) FROM ({warehouse.sql.text('warehouse.order_only_customers')})),
            (SELECT count(*) FROM main.customers), (SELECT count(*) FROM main.customer_map WHERE customer_id <> master_id)"""),
         "records of one person merged into another record's golden record (customers known only by their orders "
         "count as records)"),
        ("orders -> sales and returns", *one("""SELECT (SELECT count(*) FROM raw.orders),
            (SELECT count(*) FROM main.sales) + (SELECT count(*) FROM main.returns),
            (SELECT count(*) FROM main.orders WHERE exclude_reason IS NOT NULL)"""),
         "sales counted and returns netted against them; the rest left out by reason"),
        ("order lines", *one("""SELECT (SELECT count(*) FROM raw.order_lines) + (SELECT count(*) FROM raw.orders o
                WHERE o.amount IS NOT NULL AND NOT EXISTS (SELECT 1 FROM raw.order_lines l WHERE l.order_id = o.order_id)),
            (SELECT count(*) FROM main.order_lines WHERE exclude_reason IS NULL),
            (SELECT count(*) FROM main.order_lines WHERE exclude_reason IS NOT NULL)"""),
         "repeated lines, bad prices, orphans, returns of uncounted lines left out (an order total without lines "
         "counts as one line)"),
        ("campaign contacts", *one("""SELECT (SELECT count(*) FROM raw.contacts), (SELECT count(*) FROM main.contacts),
            (SELECT count(*) - count(DISTINCT (c.campaign_id, coalesce(m.master_id, c.customer_id)))
             FROM raw.contacts c LEFT JOIN main.customer_map m USING (customer_id))"""),
         "two records of one person in the same campaign: one contact kept"),
        ("service tickets", *one("SELECT (SELECT count(*) FROM raw.service_tickets), (SELECT count(*) FROM main.service_tickets), 0"),
         "re-keyed to master customers, none left out"),
    ]
    out = pd.DataFrame(rows, columns=["step", "rows_in", "rows_out", "left_out", "note"])
    out["balanced"] = out.rows_in == out.rows_out + out.left_out
    return out


def money_flow(con) -> pd.DataFrame:
    """The money of the cleaned transactions: counted sales gross, returned, net, cost, margin;
    and the anonymous sales (orders without a customer), kept but left out of customer metrics."""
    sales = con.execute("""SELECT count(*), sum(gross_amount), sum(returned_amount), sum(net_amount), sum(cost), sum(margin)
                           FROM main.sales""").fetchall()[0]
    anon = con.execute("""SELECT count(DISTINCT o.order_id), coalesce(sum(l.amount), 0) FROM main.orders o
        JOIN main.order_lines l USING (order_id)
        WHERE o.exclude_reason = 'anonymous order' AND o.order_type = 'sale' AND l.exclude_reason IS NULL""").fetchall()[0]
    return pd.DataFrame([
        ("customer sales (main.sales)", sales[0], sales[1], sales[2], sales[3], sales[4], sales[5]),
        ("anonymous sales (not in customer metrics)", anon[0], anon[1], None, None, None, None),
    ], columns=["what", "orders", "gross_amount", "returned_amount", "net_amount", "cost", "margin"])


# ------------------------------------------------------------------------------ for the reader
def matching_skipped(con, run_id: int | None = None) -> str | None:
    """Why the match model of a run did not run (:func:`why_no_matching`), or None if it ran."""
    sql = "SELECT model FROM main.cleaning_runs " + ("WHERE run_id = ?" if run_id else "ORDER BY run_id DESC LIMIT 1")
    return json.loads(con.execute(sql, [run_id] if run_id else []).fetchall()[0][0]).get("skipped")


def match_weights(con, run_id: int | None = None) -> pd.DataFrame:
    """The match model of a run as a table: comparison, level, m, u, match weight log2(m/u)
    and whether m was estimated from the data (``m_estimated``; False: splink's starting value)."""
    sql = "SELECT model FROM main.cleaning_runs " + ("WHERE run_id = ?" if run_id else "ORDER BY run_id DESC LIMIT 1")
    model = json.loads(con.execute(sql, [run_id] if run_id else []).fetchall()[0][0])
    prior = model["probability_two_random_records_match"]
    if prior is None:  # the model did not run (model["skipped"] says why)
        return pd.DataFrame(columns=["comparison", "level", "m", "u", "match_weight", "m_estimated"])
    rows = [("prior", "two random records match", None, None, float(np.log2(prior / (1 - prior))), True)]
    levels = model.get("levels") or [  # runs saved before levels were recorded: trained values only
        {"comparison": c["output_column_name"], "level": lv["label_for_charts"], "m": lv.get("m_probability"),
         "u": lv.get("u_probability"), "m_estimated": "m_probability" in lv}
        for c in model["comparisons"] for lv in c["comparison_levels"] if not lv.get("is_null_level")]
    for level in levels:
        m, u = level["m"], level["u"]
        weight = float(np.log2(m / u)) if m and u else None
        rows.append((level["comparison"], level["level"], m, u, weight, level["m_estimated"]))
    return pd.DataFrame(rows, columns=["comparison", "level", "m", "u", "match_weight", "m_estimated"])


def borderline_pairs(con, threshold: float = 0.9, n: int = 8) -> pd.DataFrame:
    """The scored pairs closest to the match threshold, for a human to judge: up to ``n // 2``
    just below it and the rest just at or above it, one row per record (the two records of a
    pair one above the other), with the decision the run took (merged, by the model or by
    the ID rule, or kept apart)."""
    below, above = int(n) // 2, int(n) - int(n) // 2
    t = float(threshold)
    return con.execute(f"""
        WITH near AS (
            (SELECT * FROM main.match_pairs WHERE match_probability < {t} ORDER BY match_weight DESC LIMIT {below})
            UNION ALL
            (SELECT * FROM main.match_pairs WHERE match_probability >= {t} ORDER BY match_weight LIMIT {above})),
        p AS (SELECT near.*, row_number() OVER (ORDER BY match_weight, customer_id_l) AS pair,
                     CASE WHEN ml.master_id = mr.master_id THEN 'merged' ELSE 'kept apart' END AS decision
              FROM near JOIN main.customer_map ml ON ml.customer_id = near.customer_id_l
                        JOIN main.customer_map mr ON mr.customer_id = near.customer_id_r)
        SELECT p.pair, round(p.match_probability, 3) AS match_probability, p.decision, r.customer_id, r.name, r.gender,
               r.birth_date, r.id_number, r.phone, r.email, r.city, r.address
        FROM p JOIN main.customer_records r ON r.customer_id IN (p.customer_id_l, p.customer_id_r)
        ORDER BY p.pair, r.customer_id""").df()


def borderline_summary(con, threshold: float = 0.9, sure: float = 0.99) -> dict:
    """How sure the match model was about the pairs it kept (``main.match_pairs``: those with a
    match probability of at least :data:`MIN_PAIR_PROBABILITY`, the lower bound of
    :func:`find_duplicates`), for the reader of the borderline pairs: how many scored below
    ``threshold`` (not merged by the model), how many just above it (``threshold`` up to
    ``sure``) and how many at ``sure`` or more, with the highest probability below the
    threshold and the lowest at or above it (None when there is no such pair)."""
    t, s = float(threshold), float(sure)
    pairs, below, just_above, sure_pairs, highest_below, lowest_above = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE match_probability < {t}),
               count(*) FILTER (WHERE match_probability >= {t} AND match_probability < {s}),
               count(*) FILTER (WHERE match_probability >= {t} AND match_probability >= {s}),
               max(match_probability) FILTER (WHERE match_probability < {t}),
               min(match_probability) FILTER (WHERE match_probability >= {t})
        FROM main.match_pairs""").fetchall()[0]
    return {"min_probability": MIN_PAIR_PROBABILITY,
            "threshold": t, "sure": s, "pairs": pairs, "below": below, "just_above": just_above, "sure_pairs": sure_pairs,
            "highest_below": highest_below, "lowest_above": lowest_above}


# What a low score means, per dimension (timeliness: customer records, or the newest row of a table)
SCORE_MEANING = {
    "completeness": "left empty in the source: no cleaning rule can invent it; collect it (sign-up forms, "
                    "service calls, the next campaign)",
    "validity": "values failing their checks that no rule could repair: left empty and listed in "
                "main.quality_findings for the source owners",
    "uniqueness": "the same value on several rows: duplicates not merged, or a value people share",
    "timeliness customers": "records not updated within the freshness period: cleaning cannot make data newer; "
                            "only customers confirming their details (or a newer export) can",
    "timeliness": "the newest row is older than the as-of date: an export that stopped, or no activity since "
                  "(no campaign, no ticket); check the feed",
}


@dataclass
class ScorecardSummary:
    """The scorecard of a run in two short tables (scores are shares 0-1)."""

    improved: pd.DataFrame  # field, dimension, before, after, change: the cells cleaning raised most
    lowest: pd.DataFrame    # field, dimension, after, meaning, detail: the lowest cells after cleaning


def scorecard_summary(scores: pd.DataFrame, n: int = 5) -> ScorecardSummary:
    """The ``n`` cells of a run's scorecard (``main.quality_scores`` rows of one run, both
    stages) that cleaning raised most, and the ``n`` lowest cells after cleaning (below 1)
    with what a low score there means (:data:`SCORE_MEANING`) and what was measured (``detail``).
    Fields are ``table.column`` as in the heat-map; ties are listed by field name."""
    s = scores.assign(field=scores.table_name + "." + scores.column_name)
    wide = (s.pivot_table(index=["field", "table_name", "dimension"], columns="stage", values="score")
            .reindex(columns=["before", "after"]).reset_index())
    wide.columns.name = None
    wide["change"] = wide["after"] - wide["before"]
    improved = (wide[wide.change > 0].sort_values(["change", "field"], ascending=[False, True])
                .head(n)[["field", "dimension", "before", "after", "change"]].reset_index(drop=True))
    detail = s[s.stage == "after"].set_index(["field", "dimension"]).detail
    low = wide[wide["after"] < 1].sort_values(["after", "field"]).head(n)
    meaning = [SCORE_MEANING.get(f"{d} {t}", SCORE_MEANING[d]) for t, d in zip(low.table_name, low.dimension)]
    lowest = low.assign(meaning=meaning, detail=[detail.get((f, d)) for f, d in zip(low.field, low.dimension)])
    lowest["detail"] = lowest.detail.astype(object).where(lowest.detail.notna(), "")
    return ScorecardSummary(improved, lowest[["field", "dimension", "after", "meaning", "detail"]].reset_index(drop=True))
