"""Past trigger campaigns with a planted effect: what a scheduled run of notebook 06 would have
recorded over the last year, so the chapter can show that it measures what was planted.

At each month end of the last :data:`MONTHS` months whose response windows close before the
history ends, every trigger of the default map (``events/triggers.yaml``) selects the
customers a simple version of its rule finds in the simulated purchases (the selection need
not match the rule exactly: only the effect is measured), a random share :data:`HOLDOUT` is
held out, and each contacted (test) customer who does not buy in the window anyway but has a
later purchase has it pulled forward into the window with probability ``lift / c`` (``c`` the
share of the selected customers who could respond so): the response rate of the test cell is
the control cell's plus ``lift`` in expectation, ``lift`` the planted lift of
:data:`PLANTED_LIFT` or ``c`` when the selection allows less (``truth.trigger_effects`` holds
each trigger's planted lift weighted by its campaigns' customers). Purchases are moved, never
added: the CLV models' planted parameters still hold. A customer is selected by one
trigger at most, and not again within :data:`REST_DAYS` days, so one trigger's control cell
is never another's test cell at the same time. Customers are taken in the map's priority
order.

Everything is drawn from a generator of its own (seeded with the run's seed), so the rest of
the sample draws what it drew before; the purchases added change the orders built from them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .state import Run

MONTHS = 12
HOLDOUT = 0.3
REST_DAYS = 60
LARGE_SHARE = 0.25  # the new buyers whose first purchase counts as large
# trigger -> planted absolute lift of the response rate; the goodwill call after an unhappy
# complaint sells nothing (a trigger without an effect: its interval should hold 0)
PLANTED_LIFT = {
    "fading_valuable": 0.25, "unhappy_complaint": 0.0, "at_risk": 0.20, "overdue": 0.15,
    "no_second_purchase": 0.12, "birthday": 0.06, "anniversary": 0.05, "large_first_purchase": 0.20,
}
WINDOW = {"fading_valuable": 45, "unhappy_complaint": 45}  # others 30 (as in triggers.yaml)
CHANNEL = {"fading_valuable": "outbound_call", "unhappy_complaint": "outbound_call", "overdue": "sms",
           "birthday": "sms"}  # others email
COST = {"email": 0.5, "sms": 0.1, "outbound_call": 8.0}
PRIORITY = ["fading_valuable", "unhappy_complaint", "at_risk", "overdue", "no_second_purchase", "birthday",
            "anniversary", "large_first_purchase"]


def _month_ends(run: Run) -> list[int]:
    """Days of the month ends whose longest response window closes before the history ends."""
    end = pd.Timestamp(run.end_date)
    days = []
    for k in range(1, MONTHS + 12):
        d = (end - pd.offsets.MonthEnd(k)).normalize()
        day = int((np.datetime64(d.date(), "D") - run.start).astype(int))
        if day + max(WINDOW.values()) < run.D - 1 and day > 120:
            days.append(day)
        if len(days) == MONTHS:
            break
    return sorted(days)


def _selections(run: Run, tc: int, ev_p, ev_t, ev_c, month_next: int, large: np.ndarray) -> dict[str, np.ndarray]:
    """Persons each trigger's simple rule finds at day ``tc``."""
    n = run.n
    before = ev_t < tc
    n_past = np.bincount(ev_p[before], minlength=n)
    first = np.full(n, np.inf)
    np.minimum.at(first, ev_p[before], ev_t[before])
    last = np.full(n, -np.inf)
    np.maximum.at(last, ev_p[before], ev_t[before])
    since = tc - last
    usual = np.where(n_past > 1, (last - first) / np.maximum(n_past - 1, 1), np.inf)
    P = run.P
    registered = (P.signup_day.to_numpy() <= tc) & (P.customer_type.to_numpy() == "consumer")
    complained = np.zeros(n, bool)
    recent_c = ev_c & (ev_t >= tc - 45) & (ev_t < tc - 15)
    complained[ev_p[recent_c]] = True
    birth = pd.to_datetime(P.birth)
    signup = pd.to_datetime(run.day_to_date(P.signup_day.to_numpy()))
    return {
        "fading_valuable": registered & (n_past >= 6) & (since >= 90) & (since < 120),
        "unhappy_complaint": registered & complained & (n_past > 0),
        "at_risk": registered & (n_past >= 3) & (since >= 120) & (since < 150),
        "overdue": registered & (n_past >= 3) & (since > 2 * usual) & (since - 30 <= 2 * usual),
        "no_second_purchase": registered & (n_past == 1) & (tc - first >= 60) & (tc - first < 90),
        "birthday": registered & (n_past >= 2) & (birth.dt.month.to_numpy() == month_next),
        "anniversary": registered & (n_past >= 2) & (signup.month.to_numpy() == month_next)
                       & (P.signup_day.to_numpy() < tc - 300),
        # the first purchase's amount is drawn later (with the orders): a quarter of the new buyers
        "large_first_purchase": registered & (n_past == 1) & (tc - first < 30) & large,
    }


def trigger_history(run: Run) -> None:
    """Plant the past trigger campaigns (see the module): ``run.trigger_campaigns``,
    ``run.trigger_contacts``, and the purchases they pulled forward moved in ``run.E``."""
    rng = np.random.default_rng([run.seed, 6])
    E = run.E
    ev_p, ev_t = E.person_idx.to_numpy(), E.t.to_numpy().copy()  # times move as purchases are pulled forward
    ev_c = E.complaint.to_numpy().astype(bool)
    kept = ~E.deleted.to_numpy().astype(bool)
    rested = np.full(run.n, -np.inf)  # last day a person was selected by any trigger
    large = rng.random(run.n) < LARGE_SHARE
    camps, contacts = [], []
    for tc in _month_ends(run):
        d = pd.Timestamp(run.day_to_date(tc))
        month_next = d.month % 12 + 1
        found = _selections(run, tc, ev_p, ev_t, ev_c, month_next, large)
        taken = np.zeros(run.n, bool)
        soon = kept & (ev_t >= tc) & (ev_t < tc + max(WINDOW.values()))
        next_buy = np.full(run.n, np.inf)  # each person's first purchase on or after tc, as simulated
        np.minimum.at(next_buy, ev_p[soon], ev_t[soon])
        for name in PRIORITY:
            sel = np.flatnonzero(found[name] & ~taken & (tc - rested >= REST_DAYS))
            if sel.size == 0:
                continue
            taken[sel] = True
            rested[sel] = tc
            window, channel = WINDOW.get(name, 30), CHANNEL.get(name, "email")
            cid = f"TRG-{name}-{d:%Y%m%d}"
            cell = np.full(sel.size, "test", dtype=object)
            cell[rng.permutation(sel.size)[:round(HOLDOUT * sel.size)]] = "control"
            anyway = next_buy[sel] < tc + window  # bought in the window without the contact
            # The contact pulls the customer's next purchase forward into the window: how many
            # purchases a customer makes in all does not change (the CLV models' planted
            # parameters still hold), and a customer with no purchase left cannot respond.
            later = kept & (ev_t >= tc + window)
            nxt = pd.Series(ev_t[later], index=np.flatnonzero(later)).groupby(ev_p[later]).idxmin()
            pull = nxt.reindex(sel).to_numpy()
            can = ~anyway & ~np.isnan(pull)
            lift = min(PLANTED_LIFT[name], float(can.mean()))  # what the selection allows
            q = min(1.0, lift / max(float(can.mean()), 1e-9))
            buys = (cell == "test") & can & (rng.random(sel.size) < q)
            t = np.minimum(tc + window * rng.beta(1.0, 2.5, buys.sum()), run.D - 1e-6)
            ev_t[pull[buys].astype(int)] = t
            contacts.append(pd.DataFrame({"campaign_id": cid, "record": run.rec_primary[sel], "person_idx": sel,
                                          "cell": cell, "contact_day": tc, "window": window,
                                          "bought_anyway": anyway, "planted_lift": lift}))
            camps.append({"campaign_id": cid, "trigger": name, "channel": channel, "start_day": tc, "end_day": tc,
                          "window": window, "cost_per_contact": COST[channel], "planted_lift": lift})
    run.trigger_campaigns = pd.DataFrame(camps)
    run.trigger_contacts = pd.concat(contacts, ignore_index=True) if contacts else pd.DataFrame()
    E["t"] = ev_t


def trigger_effects(run: Run) -> pd.DataFrame:
    """The truth table: trigger, planted_lift, campaigns and contacts (both cells)."""
    C, X = run.trigger_campaigns, run.trigger_contacts
    if C.empty:
        return pd.DataFrame({"trigger": [], "planted_lift": [], "campaigns": [], "contacts": []})
    sizes = X.merge(C[["campaign_id", "trigger"]], on="campaign_id").groupby("trigger").size()
    size = X.groupby("campaign_id").size()
    C = C.assign(n=C.campaign_id.map(size).fillna(0))
    out = C.groupby("trigger").agg(campaigns=("campaign_id", "size"))
    # the lift each campaign's selection allowed, weighted by its customers
    out["planted_lift"] = C.groupby("trigger").apply(lambda g: float((g.planted_lift * g.n).sum() / g.n.sum()),
                                                     include_groups=False).round(6)
    out["contacts"] = sizes.reindex(out.index).fillna(0).astype(int)
    out = out[["planted_lift", "campaigns", "contacts"]]
    return out.reset_index()


def simulated_responses(run: Run) -> pd.DataFrame:
    """Each trigger's cells as the simulation drew them, before orders, defects and loading:
    trigger, cell, contacts, responders (a purchase kept in [contact day, contact day + window)).
    Checks of the planting use it (over many seeds the test cell's rate exceeds the control's by
    the planted lift; one seed's difference is what the measurement of notebook 06 should find)."""
    X = run.trigger_contacts.merge(run.trigger_campaigns[["campaign_id", "trigger"]], on="campaign_id")
    E = run.E
    kept = ~E.deleted.to_numpy().astype(bool)
    p, t = E.person_idx.to_numpy()[kept], E.t.to_numpy()[kept]
    key = np.sort(p * float(run.D + 1000) + t)  # purchases of a person are contiguous, in time order
    start = X.person_idx.to_numpy() * float(run.D + 1000) + X.contact_day.to_numpy()
    bought = np.searchsorted(key, start + X.window.to_numpy()) > np.searchsorted(key, start)
    out = X.assign(responders=bought).groupby(["trigger", "cell"]).agg(
        contacts=("responders", "size"), responders=("responders", "sum"))
    return out.reset_index()
