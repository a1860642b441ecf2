"""Cleaning the prospects from outside: an external prospect list (``raw.prospect_list``: a rented
or partner list) standardized like the customer records and matched against the customer base
first, and the acquisition campaigns to it (``raw.acquisition_contacts``).

``main.prospect_list`` holds one row per list row: name, phone, e-mail, province and city
standardized exactly as :mod:`.records` standardizes the customer records (so a list city joins
``main.cities`` for its tier), the vendor's attributes checked against the labels the workbook
uses (an age band, gender or channel it does not know is left empty and counted), and

* ``customer_id`` / ``matched_by``: the master customer the row already is, found by the
  standardized phone (``phone``), else by the standardized e-mail (``email``). Only a phone or
  an e-mail that leads to exactly one master customer matches. Names alone are not used: a
  list writes a name its own way ("王 芳", "王女士", "J. Smith") and common names are shared by
  many people (two 王芳 in one city are usually two people), so a name would both miss the
  customer and join strangers; a phone or an e-mail belongs to one person.
* ``do_not_contact``: the row's phone or e-mail is on the do-not-contact list
  (``main.suppressions``, any channel).

A database without a prospect list (or without acquisition contacts) gets no such table: the
table is absent (an earlier one is dropped) and the cleaning log says so.
"""

from __future__ import annotations

import pandas as pd

from .. import warehouse
from . import standardize as st
from ._common import DEEP, PRIVATE, PUBLIC, _by_value, _cols
from .records import _match_cities, city_reference

AGE_BANDS = ("under 25", "25-34", "35-44", "45-54", "55-64", "65+")  # campaigns/measurement.py _age_band
CHANNELS = ("direct_mail", "sms", "email", "outbound_call")  # the campaigns' channel names

UNKNOWN_VALUE = {
    "age_band": "age band not one of under 25, 25-34, 35-44, 45-54, 55-64, 65+: left empty",
    "gender": "gender not F or M: left empty",
    "channel": "channel not one of direct_mail, sms, email, outbound_call: left empty",
}

PROSPECT_COLUMNS = _cols(
    ("list_id", "VARCHAR", "The vendor's row id (unique)", PUBLIC),
    ("list_name", "VARCHAR", "Vendor or list label", PUBLIC),
    ("name", "VARCHAR", "Full name as the list writes it, standardized like customer names", PRIVATE),
    ("phone", "VARCHAR", "Phone, standardized like main.customers.phone (empty when not valid)", PRIVATE),
    ("email", "VARCHAR", "E-mail, standardized like main.customers.email (empty when not valid)", PRIVATE),
    ("province", "VARCHAR", "Province, canonical short name", PUBLIC),
    ("city", "VARCHAR", "City, as in the city reference table when it matches", PUBLIC),
    ("age_band", "VARCHAR", "Age band: under 25, 25-34, 35-44, 45-54, 55-64, 65+", DEEP),
    ("gender", "VARCHAR", "F or M", DEEP),
    ("income_band", "VARCHAR", "Monthly income band as the list gives it (e.g. under 5k, 5k-10k, 10k-20k, 20k+)", DEEP),
    ("channel", "VARCHAR", "Channel the row may be contacted by (sms, email, direct_mail)", PUBLIC),
    ("consent_mail", "BOOLEAN", "Agreed to receive direct mail (empty: not stated)", DEEP),
    ("consent_sms", "BOOLEAN", "Agreed to receive SMS (empty: not stated)", DEEP),
    ("consent_email", "BOOLEAN", "Agreed to receive e-mail (empty: not stated)", DEEP),
    ("consent_phone", "BOOLEAN", "Agreed to receive calls (empty: not stated)", DEEP),
    ("acquired_date", "DATE", "When the list was bought or received", PUBLIC),
    ("do_not_contact", "BOOLEAN", "The phone or e-mail is on the do-not-contact list", PUBLIC),
    ("customer_id", "VARCHAR", "The master customer this row already is; empty when it matches none", PUBLIC),
    ("matched_by", "VARCHAR", "phone or email (how customer_id was found); empty when not matched", PUBLIC),
)
PROSPECT_LIST = warehouse.Table(
    "prospect_list", "External prospect list, standardized and matched against the customer base",
    PROSPECT_COLUMNS, key=("list_id",), origin="external")
ACQUISITION_COLUMNS = _cols(
    ("campaign_id", "VARCHAR", "Campaign code", PUBLIC),
    ("list_id", "VARCHAR", "Row of main.prospect_list", PUBLIC),
    ("cell", "VARCHAR", "test (contacted) or control (held out)", PUBLIC),
    ("contact_date", "DATE", "Date of contact (planned date for control)", PUBLIC),
    ("channel", "VARCHAR", "Channel of the contact", PUBLIC),
    ("cost_per_contact", "DOUBLE", "Cost of one contact", PUBLIC),
    ("response_window_days", "INTEGER", "Days after contact in which a first purchase counts", PUBLIC),
    ("responded", "BOOLEAN", "Became a customer with a first purchase in the window", PUBLIC),
    ("first_order_amount", "DOUBLE", "Amount of the first order (empty unless responded)", PUBLIC),
)
ACQUISITION_CONTACTS = warehouse.Table(
    "acquisition_contacts", "Acquisition campaigns to list prospects, with test and control cells",
    ACQUISITION_COLUMNS, key=("campaign_id", "list_id"))


def match_prospects(prospects: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """The master customer each prospect row already is: by standardized ``phone`` first, then by
    standardized ``email``; a phone or e-mail shared by records of more than one master customer
    matches nobody (it cannot tell which). Names are never used (see the module docstring).

    ``prospects``: columns phone, email (standardized; index kept). ``customers``: one row per
    customer record with customer_id (its master), phone, email (standardized).
    Returns a frame on the index of ``prospects`` with customer_id and matched_by (phone, email
    or None)."""
    out = pd.DataFrame({"customer_id": pd.Series(None, index=prospects.index, dtype="object"),
                        "matched_by": pd.Series(None, index=prospects.index, dtype="object")})
    for key in ("phone", "email"):
        known = customers[[key, "customer_id"]].dropna().drop_duplicates()
        owners = known.groupby(key).customer_id.agg(["first", "nunique"])
        unique = owners.loc[owners["nunique"] == 1, "first"]
        found = prospects[key].map(unique)
        take = out.customer_id.isna() & found.notna()
        out.loc[take, "customer_id"] = found[take]
        out.loc[take, "matched_by"] = key
    return out


def _drop(con, table: warehouse.Table) -> None:
    sql = warehouse.sql
    sql.run(con, "cleanse.drop_temp_table", table=sql.ident("main", table.name))
    sql.run(con, "warehouse.forget_table", {"schema": "main", "table": table.name})
    sql.run(con, "warehouse.forget_columns", {"schema": "main", "table": table.name})


def clean_prospects(con, run_id: int) -> list[tuple]:
    """Write ``main.prospect_list`` and ``main.acquisition_contacts`` from the raw layer (see
    the module); run after the customer map and ``main.suppressions`` are written. A table whose
    raw rows are none is absent. Returns cleaning log rows."""
    sql = warehouse.sql
    log = []
    raw = sql.run(con, "cleanse.prospect_rows").df()
    if raw.empty:
        _drop(con, PROSPECT_LIST)
        log.append(("prospects", "no prospect list", "prospect_list", 0, "absent",
                    "no external prospect list is loaded: main.prospect_list is not written"))
    else:
        log += _write_list(con, raw)
    acq = sql.run(con, "cleanse.acquisition_rows").df()
    if acq.empty:
        _drop(con, ACQUISITION_CONTACTS)
        log.append(("prospects", "no acquisition campaign", "acquisition_contacts", 0, "absent",
                    "no acquisition campaign to list prospects is loaded: main.acquisition_contacts is not written"))
    else:
        acq["cell"] = acq.cell.str.strip().str.lower()
        acq["channel"] = acq.channel.str.strip().str.lower()
        listed = set(raw.list_id) if not raw.empty else set()
        warehouse.write_mart(con, ACQUISITION_CONTACTS, acq, layer="clean", replace="table", atomic=False)
        log.append(("prospects", "acquisition contacts", "acquisition_contacts", len(acq), "kept",
                    "contacts of acquisition campaigns to list prospects, test and control cells"))
        log.append(("prospects", "contact of unknown list row", "acquisition_contacts",
                    int((~acq.list_id.isin(listed)).sum()), "kept",
                    "contacts whose list row is not in main.prospect_list (not loaded or rejected): kept"))
    return [(run_id, *row) for row in log]


def _write_list(con, raw: pd.DataFrame) -> list[tuple]:
    sql = warehouse.sql
    log = []
    out = raw.copy()
    out["name"] = _by_value(raw["name"], st.standard_name)
    out["phone"] = _by_value(raw.phone, st.parse_phone).map(lambda p: p.value, na_action="ignore")
    out["email"] = _by_value(raw.email, st.parse_email).map(lambda e: e.value, na_action="ignore")
    out["province"] = _by_value(raw.province, st.standard_province)
    out["city"], _ = _match_cities(raw.city, out.province, city_reference(con))
    for column, allowed, norm in (("age_band", AGE_BANDS, str.strip), ("gender", ("F", "M"), str.upper),
                                  ("channel", CHANNELS, str.lower)):
        value = raw[column].map(lambda v: norm(str(v).strip()), na_action="ignore")
        unknown = value.notna() & ~value.isin(allowed)
        out[column] = value.where(~unknown, None)
        log.append(("prospects", f"{column} unknown", "prospect_list", int(unknown.sum()), "emptied",
                    UNKNOWN_VALUE[column]))
    out["income_band"] = raw.income_band.map(lambda v: str(v).strip(), na_action="ignore")
    n_phone_bad = int((raw.phone.notna() & out.phone.isna()).sum())
    n_email_bad = int((raw.email.notna() & out.email.isna()).sum())
    log.append(("prospects", "list phone invalid", "prospect_list", n_phone_bad, "emptied",
                "phones standardized like the customer records; not a valid number: left empty"))
    log.append(("prospects", "list email invalid", "prospect_list", n_email_bad, "emptied",
                "e-mails standardized like the customer records; invalid syntax: left empty"))
    matched = match_prospects(out, sql.run(con, "cleanse.master_contacts").df())
    out["customer_id"], out["matched_by"] = matched.customer_id, matched.matched_by
    for key in ("phone", "email"):
        log.append(("prospects", f"already a customer ({key})", "prospect_list",
                    int((out.matched_by == key).sum()), "matched",
                    {"phone": "list rows whose standardized phone belongs to exactly one master customer",
                     "email": "list rows whose phone did not match and whose standardized e-mail belongs to "
                              "exactly one master customer"}[key]))
    supp = sql.run(con, "cleanse.suppressed_contacts").df()
    out["do_not_contact"] = (out.phone.isin(set(supp.phone.dropna())) | out.email.isin(set(supp.email.dropna())))
    log.append(("prospects", "do not contact", "prospect_list", int(out.do_not_contact.sum()), "flagged",
                "list rows whose phone or e-mail is on the do-not-contact list"))
    warehouse.write_mart(con, PROSPECT_LIST, out, layer="clean", replace="table", atomic=False)
    log.insert(0, ("prospects", "prospect list", "prospect_list", len(out), "kept",
                   "rows of the external prospect list(s), standardized; matched against the customer base"))
    return log
