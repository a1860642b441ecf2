"""Prospects from two places, in one frame.

1. **Registered non-buyers**: consumers in ``main.customers`` with no counted purchase up to
   the as-of date (the "prospects" of the RFM chapter): what the firm knows of them is what
   they gave when they signed up -- gender, birth date (the age band), city (its tier), the
   channel they signed up by, their consents.
2. **The external prospect list** (``main.prospect_list``, a rented or partner list): the
   attributes such lists carry -- city, age band, gender, income band, the channel the list
   may be contacted by -- with consent and do-not-contact as the vendor delivered them. The
   rows the cleaning matched to an existing customer (``customer_id`` set, ``matched_by`` how)
   are kept, flagged ``already_customer``: they are counted and left out of every acquisition
   list (an existing customer is reached through the customer base, not through a rented list).

The attributes a look-alike may use are those **both** sides have (:data:`SHARED_ATTRIBUTES`):
age band, gender and city tier. The list's ``channel`` is where a list row may be contacted,
not how a person came to the firm, so it is not the customers' ``signup_channel``; income
band is on the list only. Both are used where only list rows are modelled (the response model
of an acquisition test, :data:`LIST_ATTRIBUTES`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import campaigns, warehouse

__all__ = ["SHARED_ATTRIBUTES", "PROFILE_ATTRIBUTES", "LIST_ATTRIBUTES", "POOL_COLUMNS", "has_list", "has_acquisition",
           "customer_base", "prospects", "attribute_values"]

# the attributes customers and every prospect have alike: what a look-alike model may learn from
SHARED_ATTRIBUTES = ("age_band", "gender", "city_tier")
# the best-customer profile: the shared attributes and the channel customers signed up by
PROFILE_ATTRIBUTES = ("age_band", "gender", "city_tier", "signup_channel")
# what a list row carries: the response model of an acquisition test and its rules use them all
LIST_ATTRIBUTES = ("age_band", "gender", "city_tier", "income_band", "channel")

POOL_COLUMNS = ("prospect_id", "origin", "customer_id", "list_id", "list_name", "name", "phone", "email", "address",
                "city", "city_tier", "age_band", "gender", "income_band", "channel", "signup_channel", "consent_mail",
                "consent_sms", "consent_email", "consent_phone", "do_not_contact", "already_customer", "matched_by")
CONSENTS = ("consent_mail", "consent_sms", "consent_email", "consent_phone")


def has_list(con) -> bool:
    """Whether the database holds an external prospect list (``main.prospect_list`` with rows)."""
    return bool(warehouse.table_exists(con, "main", "prospect_list")
                and warehouse.sql.one(con, "prospects.count_list")[0])


def has_acquisition(con) -> bool:
    """Whether the database holds a past acquisition mailing (``main.acquisition_contacts`` with rows)
    and the list it was sent to."""
    return bool(has_list(con) and warehouse.table_exists(con, "main", "acquisition_contacts")
                and warehouse.sql.one(con, "prospects.count_acquisition")[0])


def customer_base(snap: pd.DataFrame) -> pd.DataFrame:
    """The consumers who had bought by the snapshot's date (:func:`dbmarketing.campaigns.snapshot`
    rows): the base the best customers are picked from and a look-alike learns on."""
    return snap[~snap["is_prospect"].astype(bool) & (snap["customer_type"] == "consumer")].reset_index(drop=True)


def attribute_values(frame: pd.DataFrame, attributes) -> pd.DataFrame:
    """The attributes as text, the same way for customers and list rows (a city tier 2 is "2"
    whether it came as an integer or a float; a missing value is "(unknown)")."""
    def one(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return "(unknown)"
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)

    return pd.DataFrame({a: frame[a].astype(object).map(one) if a in frame.columns else "(unknown)"
                         for a in attributes}, index=frame.index)


def prospects(con, as_of, snap: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every prospect at ``as_of`` in one frame (:data:`POOL_COLUMNS`): ``origin`` "registered"
    (a consumer with no purchase; ``prospect_id`` = customer_id) or "list" (a row of
    ``main.prospect_list``; ``prospect_id`` = list_id), the attributes, consents, contact points,
    ``do_not_contact`` (registered: on ``main.suppressions`` for any channel; list: the vendor's
    flag) and ``already_customer`` (list rows matched to a customer; kept to be counted).
    ``snap``: a :func:`dbmarketing.campaigns.snapshot` of ``as_of`` to reuse."""
    A = warehouse.resolve_as_of(con, as_of)
    snap = campaigns.snapshot(con, A) if snap is None else snap
    reg = snap[snap["is_prospect"].astype(bool) & (snap["customer_type"] == "consumer")]
    reg = reg.drop(columns=[c for c in ("name", "phone", "email", "address") if c in reg.columns])
    points = warehouse.sql.run(con, "campaigns.contact_points").df()
    reg = reg.merge(points, on="customer_id", how="left")
    dnc = set(campaigns.suppressed(con).customer_id)
    registered = pd.DataFrame({
        "prospect_id": reg["customer_id"], "origin": "registered", "customer_id": reg["customer_id"], "list_id": None,
        "list_name": None, "name": reg["name"], "phone": reg["phone"], "email": reg["email"], "address": reg["address"],
        "city": reg["city"], "city_tier": reg["city_tier"], "age_band": reg["age_band"], "gender": reg["gender"],
        "income_band": None, "channel": None, "signup_channel": reg["signup_channel"],
        **{c: reg[c] for c in CONSENTS},
        "do_not_contact": reg["customer_id"].isin(dnc), "already_customer": False, "matched_by": None})
    parts = [registered]
    if has_list(con):
        rows = warehouse.sql.run(con, "prospects.list_rows", {"as_of": A}).df()
        listed = pd.DataFrame({
            "prospect_id": rows["list_id"], "origin": "list", "customer_id": rows["customer_id"],
            "list_id": rows["list_id"], "list_name": rows.get("list_name"), "name": rows.get("name"),
            "phone": rows.get("phone"), "email": rows.get("email"), "address": rows.get("address"),
            "city": rows.get("city"), "city_tier": rows["city_tier"], "age_band": rows.get("age_band"),
            "gender": rows.get("gender"), "income_band": rows.get("income_band"), "channel": rows.get("channel"),
            "signup_channel": None, **{c: rows.get(c) for c in CONSENTS},
            "do_not_contact": rows["do_not_contact"].fillna(False).astype(bool) if "do_not_contact" in rows else False,
            "already_customer": rows["customer_id"].notna(), "matched_by": rows.get("matched_by")})
        parts.append(listed)
    out = pd.concat([p.astype(object) for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame({c: pd.Series(dtype=object) for c in POOL_COLUMNS})
    for c in (*CONSENTS, "do_not_contact", "already_customer"):
        out[c] = out[c].astype("boolean")
    out["city_tier"] = pd.to_numeric(out["city_tier"], errors="coerce").astype("Int64")
    out = out[list(POOL_COLUMNS)]
    out.attrs["as_of"] = A
    return out
