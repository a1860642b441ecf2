"""Behaviour: seasonality, the BG/NBD purchase process with complaints, orders with their lines,
returns and cancellations, and service tickets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .parameters import CONSUMER_PARAMS, DISTRIBUTOR_PARAMS, RATES
from .reference import SPRING_FESTIVAL
from .state import Run


def seasonality(run: Run) -> None:
    days = run.start + np.arange(run.D).astype("timedelta64[D]")
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    s = np.ones(run.D)
    if run.zh:
        s[(month == 6) & (dom < 18)] = 1.2
        s[(month == 6) & (dom == 18)] = 2.5  # 618
        s[(month == 11) & (dom < 11)] = 1.6
        s[(month == 11) & (dom == 11)] = 4.0  # Double 11
        s[(month == 11) & (dom > 11)] = 1.25
        s[month == 12] = 1.3
        s[(month == 12) & (dom == 12)] = 2.0  # Double 12
        for sf in SPRING_FESTIVAL:
            d = int((np.datetime64(sf) - run.start).astype(int))
            if -30 < d < run.D + 30:
                s[max(0, d - 21):max(0, min(run.D, d))] = 1.7  # new-year shopping
                s[max(0, d):max(0, min(run.D, d + 7))] = 0.5   # the holiday week
    else:
        s[month == 1] = 0.85
        s[month == 8] = 1.15  # back to school
        s[(month == 7) & (dom >= 10) & (dom <= 12)] = 1.5
        s[month == 12] = 1.5
        s[(month == 12) & (dom >= 25)] = 0.8
        years = np.unique(days.astype("datetime64[Y]").astype(int) + 1970)
        for y in years:
            nov1 = np.datetime64(f"{y}-11-01")
            thursday = nov1 + np.timedelta64((3 - (nov1.astype(int) + 3) % 7) % 7 + 21, "D")
            for off, f in ((-3, 1.3), (-2, 1.3), (-1, 1.3), (0, 0.7), (1, 4.0), (2, 2.0), (3, 1.5), (4, 2.5)):
                d = int((thursday + np.timedelta64(off, "D") - run.start).astype(int))
                if 0 <= d < run.D:
                    s[d] = f
    run.season = s / s.mean()
    run.season_cum = np.concatenate([[0.0], np.cumsum(run.season)])


def simulate(run: Run) -> None:
    """BG/NBD purchases by thinning, with complaints raising the dropout probability."""
    rng, P, D = run.rng, run.P, run.D
    n = run.n
    lam_day = P.lam.to_numpy() / 7.0
    pdrop = P.pdrop.to_numpy()
    first = P.first_day.to_numpy()
    smax = run.season.max()
    pc, mult = RATES["complaint_per_purchase"], RATES["complaint_multiplier"]
    complained = np.zeros(n, bool)
    first_complaint = np.full(n, np.nan)
    dropout = np.full(n, np.nan)
    idx = np.flatnonzero(first < D)
    t = first[idx] + rng.random(idx.size)
    ev_p, ev_t, ev_c = [idx], [t], []
    comp = rng.random(idx.size) < pc
    ev_c.append(comp)
    complained[idx[comp]] = True
    first_complaint[idx[comp]] = t[comp]
    active, cur = idx, t
    while active.size:
        cur = cur + rng.exponential(1.0 / (lam_day[active] * smax))
        inside = cur < D
        active, cur = active[inside], cur[inside]
        acc = rng.random(active.size) < run.season[np.minimum(cur.astype(int), D - 1)] / smax
        pa, ta = active[acc], cur[acc]
        comp = rng.random(pa.size) < pc
        new = pa[comp & ~complained[pa]]
        first_complaint[new] = ta[comp & ~complained[pa]]
        complained[pa[comp]] = True
        peff = np.where(complained[pa], np.minimum(0.95, pdrop[pa] * mult), pdrop[pa])
        drop = rng.random(pa.size) < peff
        dropout[pa[drop]] = ta[drop]
        ev_p.append(pa)
        ev_t.append(ta)
        ev_c.append(comp)
        keep = np.ones(active.size, bool)
        keep[np.flatnonzero(acc)[drop]] = False
        active, cur = active[keep], cur[keep]
    p = np.concatenate(ev_p)
    t = np.concatenate(ev_t)
    order = np.lexsort((t, p))
    run.E = pd.DataFrame({
        "person_idx": p[order], "t": t[order], "origin": "process",
        "complaint": np.concatenate(ev_c)[order], "deleted": False,
    })
    run.complained, run.first_complaint, run.dropout = complained, first_complaint, dropout


def assign_records_to_events(run: Run) -> None:
    """Which record (customer number) each purchase was booked under."""
    E = run.E
    p = E.person_idx.to_numpy()
    rec = run.rec_primary[p].copy()
    dup = run.rec_dup[p]
    has = dup >= 0
    dup_day = np.where(has, run.R.signup_day.to_numpy()[np.maximum(dup, 0)], np.inf)
    use_dup = has & (E.t.to_numpy() >= dup_day) & (run.rng.random(len(E)) < 0.5)
    rec[use_dup] = dup[use_dup]
    E["record"] = rec


def orders(run: Run) -> None:
    """Turn purchases into orders and lines; add anonymous sales, returns and cancellations."""
    rng, P, R, D = run.rng, run.P, run.R, run.D
    E = run.E[~run.E.deleted].reset_index(drop=True)
    p = E.person_idx.to_numpy()
    n_id = len(E)
    n_anon = round(RATES["anonymous_orders"] / (1 - RATES["anonymous_orders"]) * n_id)
    # Anonymous walk-in sales: seasonal dates, random cities, consumer-like baskets.
    anon_day = rng.choice(D, n_anon, p=run.season / run.season.sum())
    cp = CONSUMER_PARAMS
    anon_nu = rng.gamma(cp.q, 1 / (cp.gamma * run.scale), n_anon)
    c = run.cities
    w = c.population_m.to_numpy()
    nu = np.concatenate([P.nu.to_numpy()[p], anon_nu])
    is_dist = np.concatenate([(P.customer_type.to_numpy() == "distributor")[p], np.zeros(n_anon, bool)])
    shape = np.where(is_dist, DISTRIBUTOR_PARAMS.p, cp.p)
    value = rng.gamma(shape, 1 / nu)
    day = np.concatenate([np.floor(E.t.to_numpy()).astype(int), anon_day])
    person = np.concatenate([p, np.full(n_anon, -1)])
    record = np.concatenate([E.record.to_numpy(), np.full(n_anon, -1)])
    src = np.where(record >= 0, R.source.to_numpy()[np.maximum(record, 0)], "anonymous")
    # Channel by the system the customer is registered in.
    u = rng.random(len(day))
    channel = np.select(
        [src == "distributor", src == "anonymous",
         (src == "crm") & (u < 0.55), (src == "crm") & (u < 0.90), src == "crm",
         (src == "pos") & (u < 0.90), (src == "pos") & (u < 0.95)],
        ["distributor", "store", "online", "store", "phone", "store", "online"], "phone").astype(object)
    home = np.concatenate([P.city_idx.to_numpy()[p], rng.choice(len(c), n_anon, p=w / w.sum())])
    away = (channel == "store") & (rng.random(len(day)) < 0.08)
    city = np.where(away, rng.choice(len(c), len(day), p=w / w.sum()), home)
    n_sale = len(day)
    O = pd.DataFrame({
        "day": day, "person_idx": person, "record": record, "channel": channel, "city_idx": city,
        "order_type": "sale", "status": "completed", "orig": -1, "value": value,
        "origin": np.concatenate([E.origin.to_numpy(), np.full(n_anon, "anonymous", dtype=object)]),
        "campaign_id": np.concatenate([E.campaign_id.to_numpy(), np.full(n_anon, None, dtype=object)]),
        "event": np.concatenate([np.arange(n_id), np.full(n_anon, -1)]),
    })
    L = _lines(run, value, is_dist, day, person)
    # Returns: a share of the sales comes back within a month, fully or partly.
    ret = np.flatnonzero(rng.random(n_sale) < RATES["returns"])
    rday = day[ret] + 1 + rng.geometric(1 / 10, ret.size)
    ret, rday = ret[rday < D], rday[rday < D]
    starts = np.searchsorted(L.order.to_numpy(), np.arange(n_sale + 1))
    lo, hi = starts[ret], starts[ret + 1]
    full = rng.random(ret.size) < 0.4
    ret_lines, ret_qty = [], []
    for j in range(ret.size):
        if full[j]:
            rows = np.arange(lo[j], hi[j])
            q = -L.qty.to_numpy()[rows]
        else:
            rows = np.array([lo[j] + rng.integers(hi[j] - lo[j])])
            q = -rng.integers(1, L.qty.to_numpy()[rows[0]] + 1, 1)
        ret_lines.append(rows)
        ret_qty.append(q)
    R_o = O.iloc[ret].copy()
    R_o["day"], R_o["order_type"], R_o["orig"], R_o["origin"] = rday, "return", ret, "return"
    R_o["value"] = np.nan
    R_o["event"] = -1
    R_o["campaign_id"] = None
    R_o["full_return"] = full
    # Cancelled orders: extra orders, the same basket placed and cancelled the day of a real one.
    n_can = round(RATES["cancelled_orders"] / (1 - RATES["cancelled_orders"]) * n_sale)
    can = np.sort(rng.choice(n_sale, n_can, replace=False))
    C_o = O.iloc[can].copy()
    C_o["status"], C_o["origin"], C_o["event"], C_o["campaign_id"] = "cancelled", "cancelled", -1, None
    C_o["value"] = np.nan
    O["full_return"] = False
    C_o["full_return"] = False
    allO = pd.concat([O, R_o, C_o], ignore_index=True)
    # Lines of returns and cancellations.
    rl = np.concatenate(ret_lines) if ret_lines else np.array([], int)
    r_order = np.repeat(n_sale + np.arange(ret.size), [len(x) for x in ret_lines])
    RL = L.iloc[rl].copy()
    RL["order"] = r_order
    RL["qty"] = np.concatenate(ret_qty) if ret_qty else np.array([], int)
    c_rows = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in can]) if n_can else np.array([], int)
    CL = L.iloc[c_rows].copy()
    CL["order"] = np.repeat(n_sale + ret.size + np.arange(n_can), starts[can + 1] - starts[can])
    allL = pd.concat([L, RL, CL], ignore_index=True)
    # Order numbers in date order; sales SO..., returns RE...
    tie = rng.random(len(allO))
    o_sorted = np.lexsort((tie, allO.day.to_numpy()))
    seq = np.empty(len(allO), int)
    seq[o_sorted] = np.arange(1, len(allO) + 1)
    prefix = np.where(allO.order_type.to_numpy() == "return", "RE", "SO")
    allO["order_id"] = [f"{a}{s:08d}" for a, s in zip(prefix, seq)]
    orig = allO.orig.to_numpy()
    allO["original_order_id"] = np.where(orig >= 0, allO.order_id.to_numpy()[np.maximum(orig, 0)], None)
    allO["customer_id"] = np.where(allO.record.to_numpy() >= 0,
                                   R.customer_id.to_numpy()[np.maximum(allO.record.to_numpy(), 0)], None)
    allO["true_day"] = allO.day
    allO["written_date"] = None  # set for planted date defects
    allO["defect"] = None
    allO = allO.iloc[o_sorted].reset_index(drop=True)
    remap = np.empty(len(o_sorted), int)
    remap[o_sorted] = np.arange(len(o_sorted))
    allL["order"] = remap[allL.order.to_numpy()]
    allL = allL.sort_values(["order", "line_no"], kind="stable").reset_index(drop=True)
    allL["line_no"] = allL.groupby("order").cumcount() + 1
    allL["defect"] = None
    run.O, run.L = allO, allL


def _lines(run: Run, value, is_dist, day, person) -> pd.DataFrame:
    """Fill each order with products so that it costs about ``value`` (vectorised), then plant
    the product affinities (:func:`_plant_affinities`).

    The value is split over 1-8 lines (distributors 2-15); each line takes the product
    whose price is nearest to its share divided by a number of units, and the quantity
    that brings the line closest to its share at the price paid. ``person`` is the person of
    each order (-1 for an anonymous sale).
    """
    rng = run.rng
    n = len(value)
    prods = run.products.sort_values("price", kind="stable").reset_index()
    price = prods.price.to_numpy()
    # Promotions: deeper and more frequent discounts on peak days; distributors pay 65% of list.
    disc_choice = np.array([1.0, 0.95, 0.9, 0.8])
    o_factor = np.where(run.season[day] > 1.4,
                        disc_choice[rng.choice(4, n, p=[0.2, 0.2, 0.3, 0.3])],
                        disc_choice[rng.choice(4, n, p=[0.6, 0.15, 0.15, 0.1])])
    o_factor[is_dist] = 0.65
    k = np.where(is_dist, 2 + rng.poisson(3, n), 1 + rng.poisson(0.5 + 0.25 * np.log1p(value / (100 * run.scale))))
    k = np.clip(k, 1, np.where(is_dist, 15, 8))
    order = np.repeat(np.arange(n), k)
    w = rng.exponential(1.0, order.size)
    lv = value[order] * w / np.bincount(order, weights=w, minlength=n)[order]  # line values
    units = np.where(is_dist[order], rng.choice([6, 12, 24, 48], order.size), 1 + rng.poisson(0.3, order.size))
    target = lv / units / o_factor[order] * np.exp(rng.normal(0, 0.3, order.size))  # list price sought
    hi = np.clip(np.searchsorted(price, target), 1, len(price) - 1)
    pi = np.where(np.log(price[hi] / target) < np.log(target / price[hi - 1]), hi, hi - 1)  # nearest price
    # The same product twice in an order becomes one line with both values.
    key, first, inverse = np.unique(order.astype(np.int64) * len(price) + pi, return_index=True,
                                    return_inverse=True)
    lv = np.bincount(inverse, weights=lv)
    order, pi = order[first], pi[first]
    unit_price = np.round(price[pi] * o_factor[order], 1 if run.zh else 2)  # CNY prices in jiao
    qty = np.maximum(1, np.round(lv / unit_price)).astype(int)
    order, pi, qty, unit_price = _plant_affinities(run, order, pi, qty, unit_price, price, o_factor, day, person)
    line_no = np.arange(order.size) - np.searchsorted(order, order) + 1
    return pd.DataFrame({"order": order, "line_no": line_no, "product_id": prods.product_id.to_numpy()[pi],
                         "qty": qty, "unit_price": unit_price})


# Planted product affinities (truth.affinities): pairs of products bought together more often
# than chance (an order holding the first product gets the second with this probability), and
# one sequence (a person's next order on a later day after one holding the first product gets
# the second). Products are picked by how often they sell, so they are frequent enough to find.
AFFINITY_RANKS = ((0, 5), (1, 7), (2, 9), (3, 11))  # (antecedent, consequent) by sales rank
SEQUENCE_RANKS = (4, 13)
AFFINITY_P, SEQUENCE_P = 0.5, 0.6


def _plant_affinities(run: Run, order, pi, qty, unit_price, price, o_factor, day, person):
    """Add one line of quantity 1 (at the order's discount) of each planted consequent to the
    orders drawn; lines stay sorted by order. Draws from a generator of its own (seeded from the
    run's seed), so everything else in the sample is drawn as before. Sets ``run.affinities``."""
    rng = np.random.default_rng([run.seed, 14])
    n_prod, n = len(price), len(o_factor)
    prods = run.products.sort_values("price", kind="stable").reset_index()
    pid = prods.product_id.to_numpy()
    rank = np.argsort(-np.bincount(pi, minlength=n_prod), kind="stable")
    have = set((order.astype(np.int64) * n_prod + pi).tolist())
    new_o, new_p, truth = [], [], []

    def add(orders, y):
        orders = np.array([o for o in orders.tolist() if o * n_prod + y not in have], dtype=np.int64)
        have.update((orders * n_prod + y).tolist())
        new_o.append(orders)
        new_p.append(np.full(orders.size, y))
        return orders.size

    for a, c in AFFINITY_RANKS:
        x, y = rank[a], rank[c]
        with_x = np.unique(order[pi == x])
        planted = add(with_x[rng.random(with_x.size) < AFFINITY_P], y)
        truth.append(("basket", pid[x], pid[y], AFFINITY_P, planted))
    # The sequence: the same person's next order on a later day.
    x, y = rank[SEQUENCE_RANKS[0]], rank[SEQUENCE_RANKS[1]]
    person = np.asarray(person)
    key = person.astype(np.int64) * (int(day.max()) + 2) + day
    by = np.lexsort((np.arange(n), day, person))
    nxt = np.searchsorted(key[by], key, side="right")  # the first order of a later day (of someone)
    ok = nxt < n
    later = np.where(ok, by[np.minimum(nxt, n - 1)], -1)
    ok &= (person >= 0) & (person[np.maximum(later, 0)] == person)
    with_x = np.unique(order[pi == x])
    with_x = with_x[ok[with_x]]
    drawn = with_x[rng.random(with_x.size) < SEQUENCE_P]
    planted = add(np.unique(later[drawn]), y)
    truth.append(("sequence", pid[x], pid[y], SEQUENCE_P, planted))
    run.affinities = pd.DataFrame(truth, columns=["kind", "antecedent", "consequent", "probability", "orders_planted"])
    add_o, add_p = np.concatenate(new_o), np.concatenate(new_p)
    digits = 1 if run.zh else 2
    order = np.concatenate([order, add_o])
    pi = np.concatenate([pi, add_p])
    qty = np.concatenate([qty, np.ones(add_o.size, int)])
    unit_price = np.concatenate([unit_price, np.round(price[add_p] * o_factor[add_o], digits)])
    keep = np.argsort(order, kind="stable")
    return order[keep], pi[keep], qty[keep], unit_price[keep]


def tickets(run: Run) -> None:
    rng, E, O, D = run.rng, run.E, run.O, run.D
    rows = []
    R = run.R
    # Complaints: after the purchase they are about.
    ce = E[E.complaint.to_numpy()]
    cday = np.minimum(D - 1, np.floor(ce.t.to_numpy()).astype(int) + rng.integers(1, 8, len(ce)))
    rows.append(pd.DataFrame({"person_idx": ce.person_idx.to_numpy(), "record": ce.record.to_numpy(),
                              "day": cday, "ticket_type": "complaint"}))
    # Inquiries: Poisson over the customer's active time.
    P = run.P
    first = P.first_day.to_numpy()
    buyer = np.flatnonzero(first < D)
    endt = np.minimum(D - 1, np.nan_to_num(run.dropout[buyer], nan=D - 1) + 60)
    span = np.maximum(0, endt - first[buyer])
    k = rng.poisson(0.3 * span / 365.25)
    pi = np.repeat(buyer, k)
    iday = (np.repeat(first[buyer], k) + rng.random(pi.size) * np.repeat(span, k)).astype(int)
    rows.append(pd.DataFrame({"person_idx": pi, "record": run.rec_primary[pi], "day": iday,
                              "ticket_type": "inquiry"}))
    # Returns: half of the returns with a customer number open a ticket.
    ro = O[(O.order_type == "return") & (O.record >= 0)]
    ro = ro[rng.random(len(ro)) < 0.5]
    rows.append(pd.DataFrame({"person_idx": ro.person_idx.to_numpy(), "record": ro.record.to_numpy(),
                              "day": np.maximum(0, ro.day.to_numpy() - rng.integers(0, 3, len(ro))),
                              "ticket_type": "return"}))
    T = pd.concat(rows, ignore_index=True)
    T = T.iloc[np.lexsort((rng.random(len(T)), T.day.to_numpy()))].reset_index(drop=True)
    n = len(T)
    T["ticket_id"] = [f"T{k + 1:07d}" for k in range(n)]
    T["customer_id"] = R.customer_id.to_numpy()[T.record.to_numpy()]
    T.loc[rng.random(n) < 0.03, "customer_id"] = None  # callers who were not identified
    tt = T.ticket_type.to_numpy()
    sat = np.select([tt == "complaint", tt == "inquiry"],
                    [rng.choice([1, 2, 3, 4], n, p=[0.35, 0.35, 0.2, 0.1]),
                     rng.choice([3, 4, 5], n, p=[0.2, 0.4, 0.4])],
                    rng.choice([2, 3, 4, 5], n, p=[0.15, 0.3, 0.35, 0.2]))
    T["satisfaction"] = pd.array(np.where(rng.random(n) < 0.2, np.nan, sat), dtype="Int64")
    T["resolved"] = rng.random(n) < np.select([tt == "complaint", tt == "inquiry"], [0.6, 0.95], 0.9)
    # The date each ticket was closed: drawn from a generator of its own, so the tickets (and
    # everything drawn after them) stay as they were before tickets had a closing date.
    # Complaints take 1-21 days, returns 1-10, inquiries 0-3; one still open at the end has none.
    own = np.random.default_rng([run.seed, 14])
    takes = np.select([tt == "complaint", tt == "inquiry"],
                      [own.integers(1, 22, n), own.integers(0, 4, n)], own.integers(1, 11, n))
    closed = T.day.to_numpy() + takes
    T["closed_day"] = pd.array(np.where(closed < D, closed, np.nan), dtype="Int64")
    run.T = T
