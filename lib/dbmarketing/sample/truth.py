"""The answer keys: the planted truth as tables (persons, records, purchases, campaign
responses, defects, parameters, ...), the rates measured in the generated data, and the
description of every truth column for the catalog."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .events import trigger_effects
from ..warehouse import DEEP_PUBLIC, HIGHLY_PRIVATE, PRIVATE, PUBLIC
from .layouts import FILES
from .prospects import prospect_effects, prospect_truth
from .parameters import CONSUMER_PARAMS, DISTRIBUTOR_PARAMS, MODEL_RATES, RATES
from .state import Run


def _dates(run: Run, days) -> list:
    """Day numbers as ``datetime.date`` (None where NaN): DuckDB stores them as DATE."""
    days = np.asarray(days, dtype=float)
    ok = np.isfinite(days)
    d = run.start + np.where(ok, days, 0).astype("int64").astype("timedelta64[D]")
    return list(np.where(ok, d, np.datetime64("NaT")).astype("datetime64[D]").astype(object))


def truth_tables(run: Run) -> dict[str, pd.DataFrame]:
    """The planted ground truth as DataFrames (what :func:`~.writers.write_truth` stores)."""
    if run.truth is not None:
        return run.truth
    P, R, O, L, D = run.P, run.R, run.O, run.L, run.D
    # Realised purchases: completed sales of identified customers, true dates and prices.
    real = O[~O.junk & (O.order_type == "sale") & (O.status == "completed") & (O.person_idx >= 0)]
    Lr = L[~L.junk & (L.defect != "repeated_line")]
    line_value = Lr.qty * Lr.true_unit_price
    gross = line_value.groupby(Lr.order_id).sum()
    ret = O[~O.junk & (O.order_type == "return")]
    returned = -gross.reindex(ret.order_id).fillna(0).groupby(ret.original_order_id.to_numpy()).sum()
    purchases = pd.DataFrame({
        "order_id": real.order_id.to_numpy(), "person_id": real.person_idx.to_numpy() + 1,
        "customer_id": real.customer_id.to_numpy(), "order_date": _dates(run, real.true_day),
        "origin": real.origin.to_numpy(), "campaign_id": real.campaign_id.to_numpy(),
        "spend_drawn": real.value.round(2).to_numpy(),  # the gamma-gamma draw z the basket was built for
        "gross_amount": gross.reindex(real.order_id).fillna(0).round(2).to_numpy(),
        "returned_amount": returned.reindex(real.order_id).fillna(0).round(2).to_numpy(),
    })
    purchases["net_amount"] = (purchases.gross_amount - purchases.returned_amount).round(2)
    day = real.true_day.to_numpy()
    per = purchases.assign(day=day).groupby("person_id").agg(
        n=("order_id", "size"), net=("net_amount", "sum"), first=("day", "min"), last=("day", "max"))
    per_proc = purchases[purchases.origin == "process"].groupby("person_id").size()
    pid = P.person_id
    dist = (P.customer_type == "distributor").to_numpy()
    c = run.cities
    persons = pd.DataFrame({
        "person_id": pid, "customer_type": P.customer_type, "true_name": P.name,
        "contact_name": np.where(dist, P.contact_name, None),
        "gender": P.gender, "birth_date": pd.to_datetime(P.birth).dt.date,
        "id_number": P.id18, "phone": P.phone, "email": P.email,
        "city": c.city.to_numpy()[P.city_idx], "province": c.province.to_numpy()[P.city_idx],
        "address": P.address, "signup_date": _dates(run, P.signup_day),
        "first_record_source": P.primary_source, "is_prospect": P.prospect,
        "first_purchase_date": _dates(run, per["first"].reindex(pid)),
        "last_purchase_date": _dates(run, per["last"].reindex(pid)),
        "lambda_per_week": P.lam, "p_dropout": P.pdrop, "nu_spend": P.nu,
        "mean_order_value": (np.where(dist, DISTRIBUTOR_PARAMS.p, CONSUMER_PARAMS.p) / P.nu).round(2),
        "alive_at_end": np.isnan(run.dropout) & (P.first_day.to_numpy() < D),
        "dropout_date": _dates(run, run.dropout),
        "complained": run.complained, "first_complaint_date": _dates(run, run.first_complaint),
        "n_purchases": per.n.reindex(pid).fillna(0).astype(int).to_numpy(),
        "n_process_purchases": per_proc.reindex(pid).fillna(0).astype(int).to_numpy(),
        "net_revenue": per.net.reindex(pid).fillna(0).round(2).to_numpy(),
        "consent_mail": P.consent_mail, "consent_sms": P.consent_sms,
        "consent_email": P.consent_email, "consent_phone": P.consent_phone,
    })
    rows = range(len(R))
    records = pd.DataFrame({
        "customer_id": R.customer_id, "source_system": R.source,
        "source_file": [run.customer_lines[i][0] for i in rows],
        "source_line": pd.array([run.customer_lines[i][1] for i in rows], dtype="Int64"),
        "update_line": pd.array([run.update_lines.get(i) for i in rows], dtype="Int64"),
        "person_id": R.person_idx + 1, "is_duplicate": R.is_duplicate,
        "signup_date": _dates(run, R.signup_day), "defects": [list(d) for d in R.defects],
    })
    # Campaign responses, measured as the matchback would: a completed purchase by the
    # person (under any of her numbers) in the window; and under the contacted number only.
    X = run.responses
    cust = R.customer_id.to_numpy()[X.record.to_numpy()]
    m = pd.DataFrame({"k": np.arange(len(X)), "person_id": X.person_idx.to_numpy() + 1, "cust": cust,
                      "d0": X.contact_day.to_numpy(), "w": X.window.to_numpy()}).merge(
        pd.DataFrame({"person_id": purchases.person_id, "bought_as": purchases.customer_id, "day": day}),
        on="person_id")
    hit = ((m.day >= m.d0) & (m.day < m.d0 + m.w)).to_numpy()
    responded = np.zeros(len(X), bool)
    responded[m.k.to_numpy()[hit]] = True
    responded_id = np.zeros(len(X), bool)
    responded_id[m.k.to_numpy()[hit & (m.bought_as == m.cust).to_numpy()]] = True
    campaign_response = pd.DataFrame({
        "campaign_id": X.campaign_id, "customer_id": cust, "person_id": X.person_idx + 1, "cell": X.cell,
        "contact_date": _dates(run, X.contact_day), "response_window_days": X.window,
        "had_consent": X.consent, "alive_at_contact": X.alive_at_contact, "sleeping_dog": X.sleeping_dog,
        "p_background": X.p_background.round(6), "q_campaign": X.q_campaign.round(6),
        "p_without_contact": X.p_without_contact.round(6), "p_with_contact": X.p_with_contact.round(6),
        "uplift": X.uplift.round(6), "responded": responded, "responded_same_id": responded_id,
    })
    truth = {"persons": persons, "customer_records": records, "purchases": purchases,
             "campaign_response": campaign_response, "defects": _defect_table(run),
             "suppressions": pd.DataFrame({
                 "line": np.arange(2, len(run.S) + 2), "kind": run.S.kind,
                 "person_id": pd.Series(run.S.person_idx + 1, dtype="Int64").where(run.S.person_idx >= 0),
                 "channel": run.S.channel}),
             "email_test": run.email_truth,
             "record_changes": run.crm_changes.assign(effective_date=run.end_date),
             "seasonality": pd.DataFrame({"date": _dates(run, np.arange(D)), "factor": run.season.round(6)}),
             "affinities": run.affinities,
             "trigger_effects": trigger_effects(run),
             "prospect_propensity": prospect_truth(run), "prospect_effects": prospect_effects(),
             "prospect_rejects": run.prospect_rejects}
    truth["parameters"] = _parameters(run, truth)
    run.truth = truth
    return truth


def _defect_table(run: Run) -> pd.DataFrame:
    """Every planted defect: table, file, record key, line (header = line 1), kind, detail."""
    rows = []
    R = run.R
    first_id = R.customer_id.to_numpy()[run.rec_primary]
    for i, (cid, ds, dup, p) in enumerate(zip(R.customer_id, R.defects, R.is_duplicate, R.person_idx)):
        f, ln = run.customer_lines[i]
        if dup:
            rows.append(("customers", f, cid, ln, "duplicate_record",
                         f"second record of person {p + 1} (first record {first_id[p]})", False))
        for d in ds:
            rows.append(("customers", f, cid, ln, d, None, False))
    for r in run.record_rejects:
        rows.append(("customers", r["file"], None, r["line"], "missing_customer_id",
                     "extra copy of another record with the customer number left empty", True))
    reject_detail = {"nonexistent_date": "order_date {} does not exist",
                     "unparseable_date": "order_date {} cannot be parsed",
                     "duplicate_order_id": "order number already used by an earlier row (that one is genuine)"}
    O = run.O
    for line, (oid, cid, d, wd, td, junk) in enumerate(
            zip(O.order_id, O.customer_id, O.defect, O.written_date, O.true_day, O.junk), start=2):
        if not isinstance(cid, str) and not junk:
            rows.append(("orders", FILES["orders"], oid, line, "anonymous_order",
                         "no customer number (walk-in sale)", False))
        if not isinstance(d, str):
            continue
        if d == "future_order_date":
            rows.append(("orders", FILES["orders"], oid, line, d,
                         f"written {wd}, true date {_dates(run, [td])[0]}", False))
        else:
            kind = d.split(":", 1)[1]
            rows.append(("orders", FILES["orders"], oid, line, kind, reject_detail[kind].format(wd), True))
    line_detail = {"zero_price": "unit price 0 (true price in truth.purchases)",
                   "negative_price": "unit price negated", "repeated_line": "identical to the line before",
                   "reject:non_numeric_amount": "line_amount 12,5O is not a number (extra corrupt line)"}
    L = run.L
    for line, (oid, ln, d) in enumerate(zip(L.order_id, L.line_no, L.defect), start=2):
        if isinstance(d, str):
            rows.append(("order_lines", FILES["order_lines"], f"{oid}/{ln}", line, d.removeprefix("reject:"),
                         line_detail[d], d.startswith("reject:")))
    df = pd.DataFrame(rows, columns=["table_name", "source_file", "record_key", "source_line", "defect",
                                     "detail", "should_reject"])
    df["source_line"] = df.source_line.astype("Int64")
    return df


def _parameters(run: Run, truth) -> pd.DataFrame:
    rows = []
    for prefix, pp in (("consumer", CONSUMER_PARAMS), ("distributor", DISTRIBUTOR_PARAMS)):
        for k in ("r", "alpha", "a", "b", "p", "q", "gamma"):
            v = getattr(pp, k) * (run.scale if k == "gamma" else 1.0)
            model = "BG/NBD, weeks" if k in ("r", "alpha", "a", "b") else "gamma-gamma"
            rows.append((f"{prefix}_{k}", float(v), f"planted {k} ({model})"))
    for k, v in RATES.items():
        if k in MODEL_RATES:
            rows.append((k, float(v), "planted model parameter"))
        else:
            rows.append((f"target_{k}", float(v), "target rate (compare the measured *_share rows)"))
    for k, v in measured_rates(run, truth).items():
        rows.append((k, float(v), "measured in the generated data"))
    for k, v in (("n_customers", run.n), ("years", run.years), ("seed", run.seed),
                 ("season_max", run.season.max()), ("season_min", run.season.min())):
        rows.append((k, float(v), "run setting" if k in ("n_customers", "years", "seed") else "seasonality"))
    for _, c in run.campaigns.iterrows():
        rows.append((f"{c.campaign_id}_q_intercept", float(c.q_intercept), f"logit intercept of q ({c.channel})"))
        rows.append((f"{c.campaign_id}_control_share", float(c.control_share), "control share drawn"))
    return pd.DataFrame(rows, columns=["name", "value", "description"])


def measured_rates(run: Run, truth=None) -> dict[str, float]:
    if run.rates is not None:
        return run.rates
    truth = truth or truth_tables(run)
    P, R, O, L = run.P, run.R, run.O, run.L
    real = O[~O.junk]
    sales = real[real.order_type == "sale"]
    consumer = P.customer_type == "consumer"
    persons = truth["persons"]
    idn = R.id_number.dropna()
    id18 = idn[idn.str.len() == 18]
    defects = truth["defects"]
    per_rec = pd.Series([d for ds in R.defects for d in ds]).value_counts()
    email_n = R.email.notna().sum()
    rev = persons.loc[persons.n_purchases > 0, "net_revenue"].to_numpy()
    rev_c = persons.loc[(persons.n_purchases > 0) & (persons.customer_type == "consumer"), "net_revenue"].to_numpy()
    cr = truth["campaign_response"]
    rates = {
        "duplicate_share": (R.groupby("person_idx").size() > 1).mean(),
        "prospect_share": float((persons.n_purchases[consumer.to_numpy()] == 0).mean()),
        "distributor_share": float((~consumer).mean()),
        "legacy_id15_share": float((idn.str.len() == 15).mean()) if len(idn) else 0.0,
        "id_mismatch_share": float((per_rec.get("id_birth_mismatch", 0) + per_rec.get("id_gender_mismatch", 0))
                                   / max(1, len(id18))),
        "id_bad_check_share": float(per_rec.get("id_bad_check_digit", 0) / max(1, len(id18))),
        "invalid_phone_share": float(per_rec.get("invalid_phone", 0) / len(R)),
        "email_typo_share": float(per_rec.get("email_domain_typo", 0) / max(1, email_n)),
        "place_variant_share": float(per_rec.get("place_variant", 0) / len(R)),
        "anonymous_order_share": float(real.customer_id.isna().mean()),
        "cancelled_share": float((sales.status == "cancelled").mean()),
        "return_share": float((real.order_type == "return").sum() / (sales.status == "completed").sum()),
        "future_date_share": float((defects.defect == "future_order_date").sum() / len(O)),
        "bad_price_line_share": float(defects.defect.isin(["zero_price", "negative_price"]).sum() / len(L)),
        "repeated_line_share": float((defects.defect == "repeated_line").sum() / len(L)),
        "reject_order_share": float((defects.should_reject & (defects.table_name != "customers")).sum() / len(O)),
        "complained_share": float(persons.complained[persons.n_purchases > 0].mean()),
        "dropped_out_share": float(persons.dropout_date.notna()[persons.n_purchases > 0].mean()),
        "distributor_revenue_share": float(persons.net_revenue[~consumer.to_numpy()].sum()
                                           / persons.net_revenue.sum()),
        "top20_revenue_share": _top_share(rev, 0.2),
        "top20_revenue_share_consumers": _top_share(rev_c, 0.2),
        "crm_update_share": float(len(run.crm_changed_rows)
                                  / max(1, ((R.source == "crm") & (R.signup_day <= run.export_day)).sum())),
        "mean_uplift": float(cr.uplift.mean()),
        "control_share": float((cr.cell == "control").mean()),
        "customer_rejects": float(len(run.record_rejects)),
    }
    run.rates = {k: round(float(v), 6) for k, v in rates.items()}
    return run.rates


# Every column of every truth table: (description, privacy tier). Columns that also exist in
# the customer information model take the model's tier (gender and consents 2, birth date 3).
TRUTH_TABLES = {
    "trigger_effects": ("Planted effect of each trigger's past campaigns (sample/events.py): the test cell's "
                        "response rate is the control cell's plus planted_lift.", {
        "trigger": ("Trigger name (events/triggers.yaml)", PUBLIC),
        "planted_lift": ("Planted absolute lift of the response rate in the response window", PUBLIC),
        "campaigns": ("Past campaigns of the trigger (one per month end)", PUBLIC),
        "contacts": ("Customers selected, both cells", PUBLIC),
    }),
    "persons": ("Planted people: true attributes and purchase-process parameters.", {
        "person_id": ("Person number (the duplicate cluster)", PUBLIC),
        "customer_type": ("consumer or distributor", PUBLIC),
        "true_name": ("True name", PRIVATE),
        "contact_name": ("Contact person of a distributor", PRIVATE),
        "gender": ("True gender, M or F", DEEP_PUBLIC),
        "birth_date": ("True birth date", PRIVATE),
        "id_number": ("True 18-digit resident ID number", HIGHLY_PRIVATE),
        "phone": ("True phone (digits)", PRIVATE), "email": ("True e-mail", PRIVATE),
        "city": ("True city", PUBLIC), "province": ("True province", PUBLIC),
        "address": ("True street address", PRIVATE),
        "signup_date": ("Date the person first registered", PUBLIC),
        "first_record_source": ("Source system of the person's first customer record (crm, pos, distributor)", PUBLIC),
        "is_prospect": ("Registered but never buys (a potential customer)", PUBLIC),
        "first_purchase_date": ("Date of the first completed purchase; empty if none", PUBLIC),
        "last_purchase_date": ("Date of the last completed purchase; empty if none", PUBLIC),
        "lambda_per_week": ("BG/NBD purchase rate while alive, per week", PUBLIC),
        "p_dropout": ("BG/NBD dropout probability after each repeat purchase", PUBLIC),
        "nu_spend": ("Gamma-gamma scale: mean order value = p / nu", PUBLIC),
        "mean_order_value": ("True mean order value p / nu of the gamma-gamma spend process", PUBLIC),
        "alive_at_end": ("Still active (not dropped out) at the end of the history", PUBLIC),
        "dropout_date": ("Date of the purchase after which the person dropped out; empty if alive", PUBLIC),
        "complained": ("Complained at least once (raises the dropout probability)", PUBLIC),
        "first_complaint_date": ("Date of the first complaint; empty if none", PUBLIC),
        "n_purchases": ("Completed purchases, all origins", PUBLIC),
        "n_process_purchases": ("Completed purchases from the BG/NBD process (not caused by a campaign)", PUBLIC),
        "net_revenue": ("Revenue of the completed purchases net of returns, at true prices", PUBLIC),
        "consent_mail": ("True consent to direct mail", DEEP_PUBLIC), "consent_sms": ("True consent to SMS", DEEP_PUBLIC),
        "consent_email": ("True consent to e-mail", DEEP_PUBLIC), "consent_phone": ("True consent to calls", DEEP_PUBLIC),
    }),
    "customer_records": ("Every customer record in the sources and the person behind it.", {
        "customer_id": ("Customer number as in the source", PUBLIC),
        "source_system": ("System the record is in (crm, pos, distributor)", PUBLIC),
        "source_file": ("File the record first appears in", PUBLIC),
        "source_line": ("Line in the first file the record appears in (header = line 1)", PUBLIC),
        "update_line": ("Line in crm_customers_update.csv if the record is there", PUBLIC),
        "person_id": ("Person behind the record (records of one person = one duplicate cluster)", PUBLIC),
        "is_duplicate": ("A further record of a person who has an earlier one", PUBLIC),
        "signup_date": ("Signup date of this record", PUBLIC),
        "defects": ("Planted defects of this record", PUBLIC),
    }),
    "purchases": ("Completed sales of identified customers with their true dates and amounts.", {
        "order_id": ("Order number", PUBLIC), "person_id": ("Person who bought", PUBLIC),
        "customer_id": ("Customer number the order was booked under", PUBLIC),
        "order_date": ("True order date (before any planted date defect)", PUBLIC),
        "origin": ("process (BG/NBD) or campaign (caused by a contact)", PUBLIC),
        "campaign_id": ("Campaign that caused the purchase; empty for process purchases", PUBLIC),
        "spend_drawn": ("The gamma-gamma order value z the basket was filled for", PUBLIC),
        "gross_amount": ("Realised order total at the true prices", PUBLIC),
        "returned_amount": ("Value of the returns against this order", PUBLIC),
        "net_amount": ("gross_amount - returned_amount", PUBLIC),
    }),
    "campaign_response": ("Per contact: true response probabilities without and with contact.", {
        "campaign_id": ("Campaign code", PUBLIC), "customer_id": ("Customer number selected", PUBLIC),
        "person_id": ("Person behind the customer number", PUBLIC),
        "cell": ("test (contacted) or control (held out)", PUBLIC),
        "contact_date": ("Date of contact (planned date for control)", PUBLIC),
        "response_window_days": ("Days after contact in which a purchase counts as a response", PUBLIC),
        "had_consent": ("The selected customer record showed consent to the campaign's channel", PUBLIC),
        "alive_at_contact": ("The person had not dropped out by the contact date", PUBLIC),
        "sleeping_dog": ("A contact puts this person off buying (negative uplift)", PUBLIC),
        "p_background": ("P(purchase in window) from the purchase process alone", PUBLIC),
        "q_campaign": ("P(extra purchase caused by the contact)", PUBLIC),
        "p_without_contact": ("P(response) if not contacted = p_background", PUBLIC),
        "p_with_contact": ("P(response) if contacted", PUBLIC),
        "uplift": ("p_with_contact - p_without_contact", PUBLIC),
        "responded": ("Any completed purchase by the person in the window", PUBLIC),
        "responded_same_id": ("A completed purchase under the contacted customer number in the window", PUBLIC),
    }),
    "suppressions": ("Every entry of do_not_contact.csv and the person it refers to.", {
        "line": ("Line in do_not_contact.csv (header = line 1)", PUBLIC),
        "kind": ("complaint (by customer number), unsubscribe (by e-mail) or registry (by phone)", PUBLIC),
        "person_id": ("Person the entry refers to; empty for registry numbers of people who are not customers", PUBLIC),
        "channel": ("Channel the entry applies to; empty = every channel", PUBLIC),
    }),
    "email_test": ("Per row of email_test.csv: the arm drawn and the true probabilities under each arm.", {
        "line": ("Line in email_test.csv (header = line 1)", PUBLIC),
        "arm": ("Arm the customer was assigned to", PUBLIC),
        "p_visit_mens": ("P(visit) with the men's e-mail", PUBLIC), "p_visit_womens": ("P(visit) with the women's e-mail", PUBLIC),
        "p_visit_none": ("P(visit) without e-mail", PUBLIC),
        "p_conversion_mens": ("P(conversion) with the men's e-mail", PUBLIC),
        "p_conversion_womens": ("P(conversion) with the women's e-mail", PUBLIC),
        "p_conversion_none": ("P(conversion) without e-mail", PUBLIC),
    }),
    "defects": ("Every planted data defect, including the rows the loader must reject.", {
        "table_name": ("Model table of the defective record", PUBLIC),
        "source_file": ("File holding the record", PUBLIC),
        "record_key": ("Customer or order number of the record (empty if the defect is a missing number)", PUBLIC),
        "source_line": ("Line in the file (header = line 1; Excel: sheet row)", PUBLIC),
        "defect": ("Kind of defect planted", PUBLIC),
        "detail": ("What exactly was planted", PUBLIC),
        "should_reject": ("The loader must reject this row", PUBLIC),
    }),
    "parameters": ("Planted parameters, target rates and the rates measured in the data.", {
        "name": ("Parameter or rate", PUBLIC), "value": ("Its value", PUBLIC), "description": ("What it means", PUBLIC)}),
    "record_changes": ("Changes in crm_customers_update.csv against crm_customers.csv.", {
        "customer_id": ("Customer number", PUBLIC), "column_name": ("Attribute that changed", PUBLIC),
        "old_value": ("Value before", PRIVATE), "new_value": ("Value after", PRIVATE),
        "effective_date": ("Date the change is effective (the update export's date)", PUBLIC)}),
    "affinities": ("Planted product affinities: products bought together, and one bought in a later order.", {
        "kind": ("basket (the consequent is added to orders holding the antecedent) or sequence (to the "
                 "person's next order on a later day)", PUBLIC),
        "antecedent": ("Product code of the product bought first or with", PUBLIC),
        "consequent": ("Product code of the product planted with it or after it", PUBLIC),
        "probability": ("Probability that an order (basket) or a next order (sequence) gets the consequent", PUBLIC),
        "orders_planted": ("Orders the consequent was added to (cancelled copies and returns come on top)", PUBLIC)}),
    "prospect_propensity": ("Per row of prospect_list.csv (sample/prospects.py): the planted chance to respond "
                            "to an acquisition contact, and without one; whether the row is an existing customer.", {
        "list_id": ("Vendor row id", PUBLIC),
        "propensity": ("True P(first purchase in the window | contacted)", PUBLIC),
        "baseline": ("True P(first purchase in the window | not contacted)", PUBLIC),
        "uplift": ("propensity - baseline", PUBLIC),
        "already_customer": ("The row is a person who is already in the customer database", PUBLIC),
        "person_id": ("That person (truth.persons); empty for people who are not customers", PUBLIC),
        "matchable_by": ("For existing customers: phone (the same phone, maybe the same e-mail), email (a new phone, "
                         "the same e-mail) or none (both new: nothing to match on)", PUBLIC),
        "on_do_not_contact": ("The row's phone or e-mail is an entry of do_not_contact.csv", PUBLIC),
        "city_tier": ("Tier of the row's city", PUBLIC), "age_band": ("Age band (true)", PUBLIC),
        "income_band": ("Monthly income band", PUBLIC), "channel": ("Channel the row may be contacted by", PUBLIC),
        "acq01_cell": ("test or control in ACQ01; empty if not selected", PUBLIC),
        "acq01_responded": ("Responded in ACQ01; empty if not selected", PUBLIC),
    }),
    "prospect_effects": ("The planted propensity's effects (logit scale): logit P(respond | contacted) = intercept "
                         "+ the effect of each attribute's value + noise; the baseline uses base_intercept + "
                         "base_share x the effects other than the channel's.", {
        "attribute": ("intercept, base_intercept, base_share, noise_sd, city_tier, age_band, gender, channel or "
                      "income_band", PUBLIC),
        "value": ("The attribute's value (empty for the constants)", PUBLIC),
        "effect": ("Its effect on the logit (or the constant)", PUBLIC),
    }),
    "prospect_rejects": ("Rows of prospect_list.csv the loader must reject.", {
        "source_line": ("Line in prospect_list.csv (header = line 1)", PUBLIC),
        "list_id": ("Vendor row id (empty when it is missing)", PUBLIC),
        "kind": ("bad_date, missing_list_id or repeated_row (the later copy)", PUBLIC),
    }),
    "seasonality": ("Daily seasonal factor of the purchase rate (mean 1).", {
        "date": ("Day", PUBLIC), "factor": ("Multiplier of the purchase rate on that day", PUBLIC)}),
}


def _top_share(values: np.ndarray, top: float) -> float:
    """Share of the total brought by the top ``top`` fraction of the values."""
    v = np.sort(np.asarray(values, float))[::-1]
    if v.size == 0 or v.sum() <= 0:
        return 0.0
    k = max(1, int(round(top * v.size)))
    return float(v[:k].sum() / v.sum())
