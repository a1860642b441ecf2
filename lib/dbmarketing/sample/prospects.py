"""Prospects from outside: a rented third-party prospect list and a past acquisition mailing to it
(ACQ01, with a control group), with a planted propensity to respond.

The list (about 0.4 rows per person of the sample: 8,000 for 20,000 people) comes from two
vendors' lists (the larger bought about seven months before the history ends, the smaller two
months before). Each row carries what such lists carry: name, mobile, e-mail, province and city,
an age band, gender, a monthly income band, the channel the row may be contacted by and the
vendor's consent flags (some empty). About 10% of the rows are people who are already in the
retailer's database (registered, most of them buyers): the same mobile or e-mail, written
another way, and the name written differently (a space, an initial, a title instead of the given
name), so matching on names alone would miss them and would join strangers who share a common
name. About 2% of the other rows are numbers of the national do-not-call registry that the
sample's do-not-contact file already lists (people who are not customers), so the file itself
is unchanged. A few rows cannot be loaded (no vendor row id, an impossible date) and a vendor
repeated a row: the loader rejects them (``run.prospect_rejects``).

The planted propensity. In this sample no person attribute drives customer value: purchase
rates, dropout and spend (lambda, p, nu) are drawn independently of city, age and gender
(:mod:`.world`), and the only traces attributes leave in value are the campaigns' caused
purchases (a little more in higher-tier cities, more for the young through SMS and e-mail:
:mod:`.campaigns`), so among buyers the top fifth by value is nearly the same mix of tier, age
band and gender as the rest (under-25s a little more often). The propensity is therefore planted
in the direction of those traces -- higher city tiers, younger bands, women slightly -- so a
look-alike of best customers trained on the customer base can at best recover that direction
weakly, and most of it comes from what only the list carries: the income band and the channel.
P(respond | contacted) = logistic(ICPT + TIER[tier] + AGE[band] + GENDER[g] + CHANNEL[ch] +
INCOME[band] + N(0, NOISE)); P(respond | not contacted) = logistic(BASE_ICPT + BASE_SHARE x (the
same attribute effects without the channel)): the baseline is the people who would have become
customers anyway in the window.

ACQ01: about 5 months before the end of the history, up to a quarter of the sample's people
(5,000 for 20,000) of the larger list's rows that are not customers, not on the do-not-contact
file and not refused consent for their channel, are selected at random; 20% held out as control.
A response is a first purchase in the 60-day window, tracked by coupon code for the test cell
and by matching new customers for the control cell; the responders' first order amounts are
drawn from the consumers' gamma-gamma spend model. No customer or order is created for them:
the rest of the sample is unchanged.

Everything is drawn from a generator of its own (seeded with the run's seed), so the rest of
the sample draws what it drew before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .parameters import CAMPAIGN_DESIGN, CONSUMER_PARAMS
from .reference import EMAIL_DOMAINS_CN, EMAIL_DOMAINS_US, MOBILE_PREFIXES
from .state import Run

LIST_SHARE = 0.4          # list rows per person of the sample
CUSTOMER_SHARE = 0.10     # list rows who are already in the database
UNMATCHABLE_SHARE = 0.02  # of those: a new phone and a new e-mail (nothing to match on)
EMAIL_ONLY_SHARE = 0.15   # of those: a new phone, the same e-mail
DNC_SHARE = 0.02          # other rows whose phone is on the do-not-call registry extract
CONSENT_MISSING = 0.06    # consent flags left empty by the vendor
ACQ_SHARE = 0.25          # ACQ01 size per person of the sample
ACQ_CONTROL = 0.20
ACQ_WINDOW = 60
ACQ_DAYS_BEFORE_END = 150
CAMPAIGN_ID = "ACQ01"

AGE_BANDS = ["under 25", "25-34", "35-44", "45-54", "55-64", "65+"]  # campaigns/measurement.py _age_band
INCOME_BANDS = ["under 5k", "5k-10k", "10k-20k", "20k+"]
LIST_CHANNELS = ["sms", "email", "direct_mail"]

# The planted propensity (logit scale); see the module docstring.
ICPT = -3.5
TIER = {1: 0.35, 2: 0.20, 3: 0.0, 4: -0.20, 5: -0.35}
AGE = {"under 25": 0.35, "25-34": 0.25, "35-44": 0.05, "45-54": -0.10, "55-64": -0.30, "65+": -0.45}
GENDER = {"F": 0.15, "M": 0.0}
CHANNEL = {"sms": 0.0, "email": -0.35, "direct_mail": 0.35}
INCOME = {"under 5k": -0.70, "5k-10k": 0.0, "10k-20k": 0.55, "20k+": 0.95}
NOISE = 0.3
BASE_ICPT = -4.35
BASE_SHARE = 0.5

VENDORS = {  # list id prefix -> (label zh, label en, share of rows, months before the end it was bought)
    "DP": ("数聚优选2026消费者名单", "DataPlus consumer list 2026", 0.75, 7),
    "LM": ("联众营销精准名单", "ListMart targeted list", 0.25, 2),
}

# The vendors' labels for the model's values (zh_CN file; the en_US file has its own).
AGE_LABELS = {"zh_CN": {"under 25": "25岁以下", "25-34": "25-34岁", "35-44": "35-44岁", "45-54": "45-54岁",
                        "55-64": "55-64岁", "65+": "65岁及以上"},
              "en_US": {"under 25": "18-24", "25-34": "25-34", "35-44": "35-44", "45-54": "45-54",
                        "55-64": "55-64", "65+": "65 and over"}}
INCOME_LABELS = {"zh_CN": {"under 5k": "5千以下", "5k-10k": "5千-1万", "10k-20k": "1万-2万", "20k+": "2万以上"},
                 "en_US": {"under 5k": "Under 5K", "5k-10k": "5K-10K", "10k-20k": "10K-20K", "20k+": "20K+"}}
GENDER_LABELS = {"zh_CN": {"F": "女", "M": "男"}, "en_US": {"F": "Female", "M": "Male"}}
YES_NO = {"zh_CN": ("是", "否"), "en_US": ("Y", "N")}


def _logistic(x):
    return 1 / (1 + np.exp(-x))


def _age_band(age: np.ndarray) -> np.ndarray:
    return np.array(AGE_BANDS, dtype=object)[np.digitize(age, [25, 35, 45, 55, 65])]


def prospect_list(run: Run) -> None:
    """Plant the prospect list and ACQ01 (see the module): ``run.prospects`` (one row per list
    row, with the truth), ``run.acquisition`` (one row per ACQ01 contact), ``run.prospect_rejects``."""
    rng = np.random.default_rng([run.seed, 15])
    P, c = run.P, run.cities
    n_list = max(50, int(round(LIST_SHARE * run.n)))
    n_cust = int(round(CUSTOMER_SHARE * n_list))
    consumers = np.flatnonzero((P.customer_type == "consumer").to_numpy())
    cust_people = np.sort(rng.choice(consumers, n_cust, replace=False))
    n_new = n_list - n_cust
    person = np.concatenate([cust_people, np.full(n_new, -1)])
    is_cust = person >= 0
    # Attributes: a customer's own; a stranger's drawn like the sample's consumers'.
    tier_w = np.array([0, 1.6, 1.3, 1.0, 0.8, 0.6])[c.tier.to_numpy()]
    w = c.population_m.to_numpy() * tier_w
    city = np.concatenate([P.city_idx.to_numpy()[cust_people], rng.choice(len(c), n_new, p=w / w.sum())])
    gender = np.concatenate([P.gender.to_numpy()[cust_people].astype(object),
                             np.where(rng.random(n_new) < 0.55, "F", "M").astype(object)])
    end = np.datetime64(run.end_date, "D")
    cust_age = (end - P.birth.to_numpy()[cust_people].astype("datetime64[D]")).astype(float) / 365.25
    age = np.concatenate([cust_age, 18 + rng.gamma(2.6, 7.5, n_new)])
    band = _age_band(age)
    tier = c.tier.to_numpy()[city]
    # Income band: higher in richer cities (the city table's income index).
    inc = np.log(c.income_index.to_numpy()[city] / 100.0) + rng.normal(0, 0.6, n_list)
    income = np.array(INCOME_BANDS, dtype=object)[np.digitize(inc, [-0.45, 0.1, 0.6])]
    channel = np.array(LIST_CHANNELS, dtype=object)[rng.choice(3, n_list, p=[0.5, 0.3, 0.2])]
    vendor = np.where(rng.random(n_list) < VENDORS["DP"][2], "DP", "LM").astype(object)
    # Phones and e-mails: a customer's own (some changed), a stranger's new and unique.
    used_phones = set(P.phone.dropna())
    used_emails = {e.lower() for e in P.email.dropna()}
    phone = np.empty(n_list, dtype=object)
    email = np.empty(n_list, dtype=object)
    phone[:n_cust] = P.phone.to_numpy()[cust_people]
    email[:n_cust] = P.email.to_numpy()[cust_people]
    kind = rng.random(n_cust)
    unmatchable = kind < UNMATCHABLE_SHARE
    # A new phone, the same e-mail: only for people whose customer records hold that e-mail
    # (a record may lack the e-mail or carry a typo of it; then the list keeps the phone).
    R = run.R
    own_email = R.email.str.lower().to_numpy() == P.email.str.lower().to_numpy()[R.person_idx.to_numpy()]
    email_known = np.zeros(run.n, bool)
    email_known[R.person_idx.to_numpy()[own_email]] = True
    email_only = ((kind >= UNMATCHABLE_SHARE) & (kind < UNMATCHABLE_SHARE + EMAIL_ONLY_SHARE)
                  & email_known[cust_people])
    fresh_phone = np.concatenate([unmatchable | email_only, np.ones(n_new, bool)])
    fresh_email = np.concatenate([unmatchable, np.ones(n_new, bool)])
    phone[fresh_phone] = _new_phones(run, rng, city[fresh_phone], used_phones)
    email[fresh_email] = _new_emails(run, rng, int(fresh_email.sum()), used_emails)
    # Registry numbers of non-customers already on the do-not-contact file.
    S = run.S
    strangers = S[(S.kind == "registry") & (S.person_idx < 0)].phone.map(_digits).to_numpy()
    n_dnc = min(len(strangers), int(round(DNC_SHARE * n_new)))
    dnc_rows = n_cust + np.sort(rng.choice(n_new, n_dnc, replace=False))
    phone[dnc_rows] = rng.choice(strangers, n_dnc, replace=False)
    # Names: a stranger's from the sample's name parts; a customer's written differently.
    names = _names(run, rng, P.name.to_numpy()[consumers], P.gender.to_numpy()[consumers], gender, cust_people)
    # Consents: mostly yes for the row's channel, some refused, some left empty.
    consents = {}
    for ch, base in (("mail", 0.6), ("sms", 0.7), ("email", 0.6), ("phone", 0.25)):
        own = channel == {"mail": "direct_mail", "sms": "sms", "email": "email", "phone": "-"}[ch]
        v = (rng.random(n_list) < np.where(own, 0.9, base)).astype(object)
        v[rng.random(n_list) < CONSENT_MISSING] = None
        consents[ch] = v
    month = pd.Timestamp(run.end_date)
    acquired = {k: (month - pd.DateOffset(months=v[3])).replace(day=1).date() for k, v in VENDORS.items()}
    # The vendors' row ids, in a shuffled order of rows (customers are not at the top).
    order = rng.permutation(n_list)
    f = pd.DataFrame({
        "person_idx": person, "already_customer": is_cust, "vendor": vendor, "name": names, "phone": phone,
        "email": email, "city_idx": city, "tier": tier, "age": age, "age_band": band, "gender": gender,
        "income_band": income, "channel": channel, "consent_mail": consents["mail"],
        "consent_sms": consents["sms"], "consent_email": consents["email"], "consent_phone": consents["phone"],
        "unmatchable": np.concatenate([unmatchable, np.zeros(n_new, bool)]),
        "email_only": np.concatenate([email_only, np.zeros(n_new, bool)]),
    }).iloc[order].reset_index(drop=True)
    f = f.sort_values("vendor", kind="stable").reset_index(drop=True)
    f["list_id"] = f.vendor + (f.groupby("vendor").cumcount() + 1).map("{:06d}".format)
    f["acquired_date"] = f.vendor.map(acquired)
    f["on_do_not_contact"] = _on_file(f, S)
    # The planted propensity (every row: what contact would do) and the baseline.
    effects = (f.tier.map(TIER) + f.age_band.map(AGE) + f.gender.map(GENDER) + f.income_band.map(INCOME)).to_numpy()
    f["propensity"] = _logistic(ICPT + effects + f.channel.map(CHANNEL).to_numpy() + rng.normal(0, NOISE, len(f)))
    f["baseline"] = _logistic(BASE_ICPT + BASE_SHARE * effects)
    run.prospects = f
    run.acquisition = _acquisition(run, rng, f)


def _acquisition(run: Run, rng, f: pd.DataFrame) -> pd.DataFrame:
    consent = pd.Series([f.at[i, {"sms": "consent_sms", "email": "consent_email",
                                  "direct_mail": "consent_mail"}[ch]] for i, ch in enumerate(f.channel)])
    eligible = np.flatnonzero(((f.vendor == "DP") & ~f.already_customer & ~f.on_do_not_contact).to_numpy()
                              & (consent.to_numpy() != False))  # noqa: E712 (empty consent: not refused)
    size = min(len(eligible), int(round(ACQ_SHARE * run.n)))
    sel = np.sort(rng.choice(eligible, size, replace=False))
    cell = np.full(size, "test", dtype=object)
    cell[rng.permutation(size)[:int(round(ACQ_CONTROL * size))]] = "control"
    p = np.where(cell == "test", f.propensity.to_numpy()[sel], f.baseline.to_numpy()[sel])
    responded = rng.random(size) < p
    cp = CONSUMER_PARAMS
    nu = rng.gamma(cp.q, 1 / (cp.gamma * run.scale), size)
    amount = np.round(rng.gamma(cp.p, 1 / nu), 2)
    day = run.D - 1 - ACQ_DAYS_BEFORE_END
    channel = f.channel.to_numpy()[sel]
    return pd.DataFrame({
        "row": sel, "list_id": f.list_id.to_numpy()[sel], "cell": cell, "contact_day": day,
        "channel": channel, "cost_per_contact": [CAMPAIGN_DESIGN[ch][3] * run.scale for ch in channel],
        "responded": responded, "first_order_amount": np.where(responded, np.maximum(amount, 1.0), np.nan),
        "p_respond": p,
    })


def _digits(text) -> str | None:
    if not isinstance(text, str):
        return None
    d = "".join(ch for ch in text if ch.isdigit())
    return d[2:] if len(d) == 13 and d.startswith("86") else d


def _on_file(f: pd.DataFrame, S: pd.DataFrame) -> np.ndarray:
    """Rows whose phone or e-mail (as the person has it) is an entry of the do-not-contact file."""
    phones = {_digits(p) for p in S.phone.dropna()}
    emails = {e.lower() for e in S.email.dropna()}
    return np.array([(p in phones) or (isinstance(e, str) and e.lower() in emails)
                     for p, e in zip(f.phone, f.email)], bool)


def _new_phones(run: Run, rng, city, used: set) -> np.ndarray:
    out = np.empty(len(city), dtype=object)
    for i, ci in enumerate(city):
        while True:
            if run.zh:
                ph = MOBILE_PREFIXES[rng.integers(len(MOBILE_PREFIXES))] + f"{rng.integers(0, 10**8):08d}"
            else:
                exch = int(rng.integers(200, 1000))
                exch += exch % 100 == 11
                ph = f"{run.cities.area_code.iat[ci]}{exch}{rng.integers(0, 10**4):04d}"
            if ph not in used:
                used.add(ph)
                out[i] = ph
                break
    return out


def _new_emails(run: Run, rng, k: int, used: set) -> np.ndarray:
    dom, w = EMAIL_DOMAINS_CN if run.zh else EMAIL_DOMAINS_US
    words = ["sunny", "happy", "lucky", "cool", "star", "tiger", "panda", "blue", "green", "moon", "river", "cloud",
             "jade", "rain", "snow", "wind", "leaf", "fox", "bear", "wolf"]
    out = np.empty(k, dtype=object)
    for i in range(k):
        while True:
            user = (f"{rng.integers(10_000_000, 3_000_000_000)}" if run.zh and rng.random() < 0.35
                    else f"{words[rng.integers(len(words))]}{words[rng.integers(len(words))]}{rng.integers(1, 10_000)}")
            d = "qq.com" if user.isdigit() else dom[rng.choice(len(dom), p=w)]
            e = f"{user}@{d}"
            if e not in used:
                used.add(e)
                out[i] = e
                break
    return out


def _names(run: Run, rng, pool: np.ndarray, pool_gender: np.ndarray, gender, cust_people) -> np.ndarray:
    """Strangers: a family name and a given name from two different people of the sample; the
    customers' own names written differently (the way another system writes them)."""
    n, k = len(gender), len(cust_people)
    out = np.empty(n, dtype=object)
    own = run.P.name.to_numpy()[cust_people]
    style = rng.integers(0, 3, k)
    for i in range(k):
        name = str(own[i])
        if run.zh:
            title = "女士" if gender[i] == "F" else "先生"
            out[i] = [f"{name[0]} {name[1:]}", f"{name[0]}{title}", f"{name}（会员）"][style[i]]
        else:
            first, last = name.split(" ", 1)
            out[i] = [f"{first[0]}. {last}", f"{last.upper()}, {first.upper()}", f"{first} {last[0]}."][style[i]]
    # the given name from a person of the same gender
    a = rng.integers(0, len(pool), n - k)
    same = {g: np.flatnonzero(pool_gender == g) for g in ("F", "M")}
    pick = rng.random(n - k)
    b = np.array([same[g][int(u * len(same[g]))] for g, u in zip(gender[k:], pick)], dtype=int)
    for j in range(n - k):
        x, y = str(pool[a[j]]), str(pool[b[j]])
        out[k + j] = (x[0] + y[1:]) if run.zh else f"{y.split(' ', 1)[0]} {x.split(' ', 1)[-1]}"
    return out


def prospect_truth(run: Run) -> pd.DataFrame:
    """truth.prospect_propensity: one row per list row."""
    f, A = run.prospects, run.acquisition
    cell = pd.Series(A.cell.to_numpy(), index=A.list_id.to_numpy())
    resp = pd.Series(A.responded.to_numpy(), index=A.list_id.to_numpy())
    return pd.DataFrame({
        "list_id": f.list_id, "propensity": f.propensity.round(6), "baseline": f.baseline.round(6),
        "uplift": (f.propensity - f.baseline).round(6),
        "already_customer": f.already_customer,
        "person_id": pd.Series(f.person_idx + 1, dtype="Int64").where(f.already_customer),
        "matchable_by": np.where(~f.already_customer, None,
                                 np.where(f.unmatchable, "none", np.where(f.email_only, "email", "phone"))),
        "on_do_not_contact": f.on_do_not_contact, "city_tier": f.tier, "age_band": f.age_band,
        "income_band": f.income_band, "channel": f.channel,
        "acq01_cell": cell.reindex(f.list_id).to_numpy(), "acq01_responded": pd.array(resp.reindex(f.list_id).to_numpy(), dtype="boolean"),
    })


def prospect_effects() -> pd.DataFrame:
    """truth.prospect_effects: the planted logit effects."""
    rows = [("intercept", None, ICPT), ("base_intercept", None, BASE_ICPT), ("base_share", None, BASE_SHARE),
            ("noise_sd", None, NOISE)]
    for attr, d in (("city_tier", TIER), ("age_band", AGE), ("gender", GENDER), ("channel", CHANNEL),
                    ("income_band", INCOME)):
        rows += [(attr, str(k), float(v)) for k, v in d.items()]
    return pd.DataFrame(rows, columns=["attribute", "value", "effect"])
