"""Campaigns: the history of past campaigns with control groups and planted uplift, the pilot
of a new offer, the do-not-contact list, and the MineThatData-like e-mail test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import world
from .layouts import EMAIL_ARMS, EMAIL_HISTORY_SEGMENTS
from .parameters import CAMPAIGN_DESIGN, CHANNEL_LABELS, CHANNELS, OFFERS, RATES
from .state import Run


def campaign_history(run: Run) -> None:
    """Past campaigns with random control groups; campaign-induced purchases planted."""
    rng, R, D = run.rng, run.R, run.D
    n_camp = max(4, 2 * run.years)
    days = np.linspace(90, D - 45, n_camp).astype(int)
    camp_rows, resp_rows, new_events = [], [], []
    E = run.E
    ev_p, ev_t = E.person_idx.to_numpy(), E.t.to_numpy()
    deleted = np.zeros(len(E), bool)
    for k, tc in enumerate(days):
        channel = CHANNELS[k % 4]
        frac, spread, window, cost, icpt = CAMPAIGN_DESIGN[channel]
        cid = f"CMP{k + 1:03d}"
        # Who the marketer could select: consumers who bought before, registered in time.
        before = ev_t < tc
        n_past = np.bincount(ev_p[before], minlength=run.n)
        last = np.full(run.n, -np.inf)
        np.maximum.at(last, ev_p[before], ev_t[before])
        rp = R.person_idx.to_numpy()
        ok = (R.source.isin(["crm", "pos"]).to_numpy() & (R.signup_day.to_numpy() <= tc - 7)
              & (n_past[rp] > 0))
        if channel == "email":
            ok &= R.email.notna().to_numpy()
        if channel == "direct_mail":
            ok &= R.address.notna().to_numpy()
        elig = np.flatnonzero(ok)
        elig = elig[rng.permutation(elig.size)]
        _, first_of_person = np.unique(rp[elig], return_index=True)  # one record per person
        elig = np.sort(elig[first_of_person])
        consent_col = {"direct_mail": "consent_mail", "sms": "consent_sms", "email": "consent_email",
                       "outbound_call": "consent_phone"}[channel]
        consent = R[consent_col].to_numpy()[elig]
        consent = np.array([bool(v) if v is not None else False for v in consent])
        recency = tc - last[rp[elig]]
        w = np.where(consent, 1.0, 0.03) * np.where(recency <= 180, 3.0, np.where(recency <= 365, 2.0, 1.0))
        size = min(elig.size, max(20, round(frac * elig.size)))
        sel = np.sort(rng.choice(elig, size, replace=False, p=w / w.sum()))
        ctrl_frac = rng.uniform(0.10, 0.20)
        cell = np.full(size, "test", dtype=object)
        cell[rng.choice(size, round(ctrl_frac * size), replace=False)] = "control"
        cday = tc + rng.integers(0, spread, size)
        pp = rp[sel]
        slope = {"direct_mail": 0.03, "sms": -0.03, "email": -0.02, "outbound_call": 0.015}[channel]
        events, suppress, resp = _plant_response(run, rng, cid, sel, pp, cell, cday, window, icpt, slope,
                                                 consent[np.searchsorted(elig, sel)], last, n_past)
        new_events.append(events)
        for j in suppress:
            lo, hi = np.searchsorted(ev_p, [pp[j], pp[j] + 1])
            tt = ev_t[lo:hi]
            deleted[lo:hi] |= (tt >= cday[j]) & (tt < cday[j] + window)
        resp_rows.append(resp)
        label = CHANNEL_LABELS[run.locale][channel]
        start_d = run.day_to_date(tc).astype(object)
        camp_rows.append({
            "campaign_id": cid, "campaign_name": _campaign_name(start_d, label, run.zh),
            "channel": channel, "start_day": int(tc), "end_day": int(tc + spread - 1), "window": window,
            "cost_per_contact": round(cost * (run.scale if channel in ("direct_mail", "outbound_call") else 1), 2),
            "offer": OFFERS[run.locale][channel], "control_share": ctrl_frac, "q_intercept": icpt,
        })
    E["deleted"] = deleted
    E["campaign_id"] = None
    extra = pd.concat(new_events, ignore_index=True)
    run.E = pd.concat([E, extra], ignore_index=True)
    run.campaigns = pd.DataFrame(camp_rows)
    run.responses = pd.concat(resp_rows, ignore_index=True)


def _plant_response(run: Run, rng, cid: str, sel, pp, cell, cday, window: int, icpt: float, slope: float,
                    consent, last, n_past):
    """The planted response of a campaign's selected records ``sel`` (persons ``pp``, cells
    ``cell``, contact days ``cday``): the background chance to buy in the window, the chance
    ``q`` that the contact brings a purchase (logit ``icpt`` + ``slope`` x (age - 40) + city
    tier, recent purchase, purchases so far, alive, noise), sleeping dogs, and the purchases
    the contact causes. Returns (the caused purchase events, the positions of the contacted
    sleeping dogs who skip their window purchases, the rows of ``run.responses``)."""
    D, size = run.D, len(sel)
    lam_day = run.P.lam.to_numpy() / 7.0
    age_end = ((np.datetime64(run.end_date) - run.P.birth.to_numpy()).astype("timedelta64[D]").astype(float) / 365.25)
    tier = run.cities.tier.to_numpy()[run.P.city_idx.to_numpy()]
    # Background: P(at least one purchase in the window | state at contact).
    alive = ~(run.dropout[pp] < cday)
    season_sum = run.season_cum[np.minimum(cday + window, D)] - run.season_cum[cday]
    p_bg = np.where(alive, 1 - np.exp(-lam_day[pp] * season_sum), 0.0)
    # Campaign-induced purchase q: heterogeneous by customer attributes.
    age = np.nan_to_num(age_end[pp] - (D - cday) / 365.25, nan=40.0)
    recent = (cday - last[pp]) <= 90
    logit = (icpt + slope * (age - 40) + 0.15 * (3 - tier[pp]) + 0.6 * recent
             + 0.25 * np.log1p(n_past[pp]) - 0.7 * ~alive + rng.normal(0, 0.3, size))
    q = 1 / (1 + np.exp(-logit))
    dog = rng.random(size) < np.where(run.complained[pp] & (run.first_complaint[pp] < cday),
                                      RATES["sleeping_dog_if_complained"], RATES["sleeping_dog_share"])
    q[dog] = 0.0
    ksup = RATES["sleeping_dog_suppression"]
    p0 = p_bg
    p1 = np.where(dog, p_bg * (1 - ksup), 1 - (1 - p_bg) * (1 - q))
    test = cell == "test"
    # Realise: extra purchases for contacted customers, suppressed ones for sleeping dogs.
    extra = test & ~dog & (rng.random(size) < q)
    et = cday[extra] + window * rng.beta(1.0, 2.5, extra.sum())
    et = np.minimum(et, D - 1e-6)
    events = pd.DataFrame({"person_idx": pp[extra], "t": et, "origin": "campaign", "complaint": False,
                           "deleted": False, "campaign_id": cid, "record": sel[extra]})  # booked under the contacted number
    suppress = np.flatnonzero(test & dog & (rng.random(size) < ksup))
    resp = pd.DataFrame({
        "campaign_id": cid, "record": sel, "person_idx": pp, "cell": cell, "contact_day": cday,
        "window": window, "consent": consent, "alive_at_contact": alive,
        "p_background": p_bg, "q_campaign": q, "sleeping_dog": dog,
        "p_without_contact": p0, "p_with_contact": p1, "uplift": p1 - p0,
    })
    return events, suppress, resp


# The pilot of a new offer (issue 14): channel, share of the eligible drawn, share of the pilot
# held out, days to contact everyone, response window, cost per contact, logit intercept of q
# (a stronger offer than the past campaigns'), the day it starts (days before the end), and the offer.
PILOT_DESIGN = {"channel": "direct_mail", "share": 0.25, "control_share": 0.2, "spread": 3, "window": 30,
                "cost": 3.5, "icpt": -2.2, "slope": 0.03, "days_before_end": 70}
PILOT_OFFERS = {"zh_CN": "新品：下单即赠会员礼盒", "en_US": "New: a member gift box with the next order"}
PILOT_ID = "PILOT01"


def pilot_campaign(run: Run) -> None:
    """A pilot of a new offer, read before it is rolled out: the customers the marketer could
    select (consumers who bought before, registered in time, with an address and mail
    consent) at the pilot's start, a share drawn at random within strata of recency (bought
    in the last 180 days, 181-365, longer) and city tier in proportion to their size, so the
    pilot looks like the population; a fifth of it held out as control. Responses are planted
    as for the past campaigns (:func:`_plant_response`) with a stronger offer; the truth is in
    ``truth.campaign_response`` under :data:`PILOT_ID`. Drawn from a generator of its own
    (seeded by the run's seed), so the campaigns before it are drawn exactly as without it."""
    rng = np.random.default_rng([run.seed, 14])
    R, D, d = run.R, run.D, PILOT_DESIGN
    tc = D - d["days_before_end"]
    E = run.E[~run.E.deleted] if "deleted" in run.E else run.E
    ev_p, ev_t = E.person_idx.to_numpy(), E.t.to_numpy()
    before = ev_t < tc
    n_past = np.bincount(ev_p[before], minlength=run.n)
    last = np.full(run.n, -np.inf)
    np.maximum.at(last, ev_p[before], ev_t[before])
    rp = R.person_idx.to_numpy()
    consent = np.array([bool(v) if v is not None and v == v else False for v in R.consent_mail.to_numpy()])
    ok = (R.source.isin(["crm", "pos"]).to_numpy() & (R.signup_day.to_numpy() <= tc - 7) & (n_past[rp] > 0)
          & R.address.notna().to_numpy() & consent)
    elig = np.flatnonzero(ok)
    _, first_of_person = np.unique(rp[elig], return_index=True)  # one record per person (the first)
    elig = np.sort(elig[first_of_person])
    recency = tc - last[rp[elig]]
    band = np.where(recency <= 180, 0, np.where(recency <= 365, 1, 2))
    tier = run.cities.tier.to_numpy()[run.P.city_idx.to_numpy()][rp[elig]]
    stratum = band * 10 + tier
    sel, cell = [], []
    for s in np.unique(stratum):  # proportional allocation, drawn at random within each stratum
        members = elig[stratum == s]
        k = int(round(d["share"] * members.size))
        chosen = np.sort(rng.choice(members, k, replace=False))
        c = np.full(k, "test", dtype=object)
        c[rng.choice(k, int(round(d["control_share"] * k)), replace=False)] = "control"
        sel.append(chosen)
        cell.append(c)
    sel, cell = np.concatenate(sel), np.concatenate(cell)
    order = np.argsort(sel, kind="stable")
    sel, cell = sel[order], cell[order]
    cday = tc + rng.integers(0, d["spread"], sel.size)
    pp = rp[sel]
    events, suppress, resp = _plant_response(run, rng, PILOT_ID, sel, pp, cell, cday, d["window"], d["icpt"],
                                             d["slope"], np.ones(sel.size, bool), last, n_past)
    deleted = run.E.deleted.to_numpy().copy()
    person, t = run.E.person_idx.to_numpy(), run.E.t.to_numpy()
    for j in suppress:
        deleted |= (person == pp[j]) & (t >= cday[j]) & (t < cday[j] + d["window"])
    run.E["deleted"] = deleted
    run.E = pd.concat([run.E, events], ignore_index=True)
    run.responses = pd.concat([run.responses, resp], ignore_index=True)
    start = run.day_to_date(tc).astype(object)
    offer = PILOT_OFFERS[run.locale]
    run.campaigns = pd.concat([run.campaigns, pd.DataFrame([{
        "campaign_id": PILOT_ID, "campaign_name": (f"{pd.Timestamp(start).year}年试点：{offer}" if run.zh
                                                   else f"Pilot {pd.Timestamp(start).year}: {offer}"),
        "channel": d["channel"], "start_day": int(tc), "end_day": int(tc + d["spread"] - 1), "window": d["window"],
        "cost_per_contact": round(d["cost"] * run.scale, 2), "offer": offer,
        "control_share": float((cell == "control").mean()), "q_intercept": d["icpt"]}])], ignore_index=True)


def suppressions(run: Run) -> None:
    """The do-not-contact list: a third of the people who complained asked not to be
    contacted (by customer number, all channels), 3% of the people with an e-mail
    unsubscribed (by address, e-mail only, written in upper case as some tools do), and
    an extract of a national do-not-call registry: 2% of the consumers' phones, written
    "+86 138 1234 5678" (calls only), and as many numbers of people who are not customers."""
    rng, P, D = run.rng, run.P, run.D
    n = run.n
    rows = []
    complainers = np.flatnonzero(run.complained)
    asked = np.sort(rng.choice(complainers, int(round(len(complainers) / 3)), replace=False)) if len(complainers) else complainers
    record_ids = run.R.customer_id.to_numpy()
    emails, phones = P.email.to_numpy(), P.phone.to_numpy()
    rows += [("complaint", int(p), record_ids[run.rec_primary[p]], None, None, None,
              int(run.first_complaint[p]) if np.isfinite(run.first_complaint[p]) else D - 1) for p in asked]
    has_mail = np.flatnonzero(P.email.notna().to_numpy())
    unsub = np.sort(rng.choice(has_mail, int(round(0.03 * len(has_mail))), replace=False)) if len(has_mail) else has_mail
    rows += [("unsubscribe", int(p), None, None, str(emails[p]).upper(), "email", int(rng.integers(0, D)))
             for p in unsub]
    consumers = np.flatnonzero((P.customer_type == "consumer").to_numpy() & P.phone.notna().to_numpy())
    reg = np.sort(rng.choice(consumers, int(round(0.02 * len(consumers))), replace=False))
    used = set(P.phone)
    strangers = [ph for ph in world.phones(run, P.city_idx.to_numpy()[rng.integers(0, n, len(reg))]) if ph not in used]

    def registry_format(ph):
        return f"+86 {ph[:3]} {ph[3:7]} {ph[7:]}" if run.zh and len(ph) == 11 else ph

    rows += [("registry", int(p), None, registry_format(phones[p]), None, "outbound_call",
              int(rng.integers(0, D))) for p in reg]
    rows += [("registry", -1, None, registry_format(ph), None, "outbound_call", int(rng.integers(0, D)))
             for ph in strangers]
    S = pd.DataFrame(rows, columns=["kind", "person_idx", "customer_id", "phone", "email", "channel", "day"])
    run.S = S.iloc[np.lexsort((rng.random(len(S)), S.day.to_numpy()))].reset_index(drop=True)


def email_test(run: Run) -> None:
    """A customer-level e-mail test in the layout of the MineThatData e-mail test: a third
    each got the men's e-mail, the women's e-mail or no e-mail, at random. A visit in the
    two weeks after has a logistic probability that falls with months since the last
    purchase and rises with last year's spend and for new customers; the men's e-mail adds
    to it mainly for customers who bought men's merchandise, the women's e-mail for those
    who bought women's. A visit converts with a probability that the e-mails raise a
    little; spend given conversion is log-normal. The true probabilities of every row under
    each arm are in ``truth.email_test``."""
    rng = run.rng
    n = max(2000, int(round(3.2 * run.n)))
    recency = np.minimum(12, 1 + rng.geometric(0.17, n))
    history = np.round(np.maximum(29.99, rng.lognormal(5.1, 0.85, n)), 2)
    buys = rng.choice(3, n, p=[0.45, 0.45, 0.10])  # 0 mens only, 1 womens only, 2 both
    mens, womens = (buys != 1).astype(int), (buys != 0).astype(int)
    zip_code = rng.choice(["Urban", "Suburban", "Rural"], n, p=[0.40, 0.45, 0.15])
    newbie = (rng.random(n) < 0.5).astype(int)
    channel = rng.choice(["Phone", "Web", "Multichannel"], n, p=[0.44, 0.44, 0.12])
    arm = rng.choice(len(EMAIL_ARMS), n)
    base = -1.62 - 0.09 * recency + 0.25 * np.log(history / 250) + 0.25 * newbie + 0.15 * (zip_code == "Rural")
    lift = {0: 0.75 * mens + 0.15 * (1 - mens), 1: 0.55 * womens + 0.10 * (1 - womens), 2: 0.0}
    conv = {0: -2.5, 1: -2.67, 2: -2.74}  # logit of P(conversion | visit) per arm
    p_visit = {a: 1 / (1 + np.exp(-(base + lift[a]))) for a in lift}
    p_conv = {a: p_visit[a] / (1 + np.exp(-(conv[a] + 0.3 * np.log(history / 250)))) for a in lift}
    visit = rng.random(n) < np.choose(arm, [p_visit[0], p_visit[1], p_visit[2]])
    p_buy = np.choose(arm, [p_conv[a] / p_visit[a] for a in (0, 1, 2)])
    conversion = visit & (rng.random(n) < p_buy)
    spend = np.where(conversion, np.round(rng.lognormal(4.55, 0.55, n), 2), 0.0)
    labels = np.array([label for _, _, label in EMAIL_HISTORY_SEGMENTS])
    cuts = np.array([lo for lo, _, _ in EMAIL_HISTORY_SEGMENTS[1:]])
    run.email_test = pd.DataFrame({
        "recency": recency, "history_segment": labels[np.searchsorted(cuts, history, side="right")],
        "history": history, "mens": mens, "womens": womens, "zip_code": zip_code, "newbie": newbie,
        "channel": channel, "segment": np.array(EMAIL_ARMS)[arm], "visit": visit.astype(int),
        "conversion": conversion.astype(int), "spend": spend})
    run.email_truth = pd.DataFrame({
        "line": np.arange(2, n + 2), "arm": np.array(EMAIL_ARMS)[arm],
        **{f"p_visit_{k}": p_visit[a].round(6) for a, k in enumerate(("mens", "womens", "none"))},
        **{f"p_conversion_{k}": p_conv[a].round(6) for a, k in enumerate(("mens", "womens", "none"))}})


def _campaign_name(d, label: str, zh: bool) -> str:
    d = pd.Timestamp(d)
    season = {12: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 9: 4, 10: 4, 11: 4}[d.month]
    if zh:
        return f"{d.year}年{['冬季', '春季', '夏季', '秋季'][season - 1]}会员{label}"
    return f"{['Winter', 'Spring', 'Summer', 'Fall'][season - 1]} {d.year} member {label.lower()}"
