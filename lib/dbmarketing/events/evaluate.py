"""Evaluating the triggers at an as-of date: who fired each rule in the period that ends on
``as_of``, measured against the state one period earlier (recomputed from the history, so a
first run needs nothing stored), each list with a random hold-out and a short profile.

The rules, in plain sentences (``previous`` = ``as_of`` - ``period_days``; "in the period" =
after ``previous``, up to and including ``as_of``):

- **rfm_segment**: the customer's RFM segment at ``as_of`` (:func:`dbmarketing.rfm.compute`)
  has one of the ``roles`` of the segment map, and at ``previous`` it had not (another segment,
  or not a buyer yet).
- **p_alive_drop**: among the ``valuable_share`` most valuable customers by CLV at ``previous``
  (:func:`dbmarketing.customers.fit_clv` at each date), P(alive) was at least ``threshold`` at
  ``previous`` and is below it at ``as_of``.
- **overdue**: a customer with at least ``min_purchases`` purchase days; the usual interval is
  (last - first purchase) / (purchase days - 1); the customer is overdue when the days since
  the last purchase exceed ``times`` x that interval. Fires when overdue at ``as_of`` and not
  at ``previous`` (with the purchases known then).
- **no_second_purchase**: one purchase day only, and the first purchase + ``days`` falls in the period.
- **complaint_closed**: a complaint closed (``closed_date``) in the period with a satisfaction
  of ``max_satisfaction`` or less.
- **birthday** / **anniversary**: the birth / signup date comes round in the calendar month
  after ``as_of`` (birth date is a private column: below its tier, the trigger says so).
- **large_first_purchase**: a first purchase in the period whose amount is at least the
  ``quantile`` of every customer's first purchase up to ``as_of`` (or ``min_amount``).

The contact policy (:func:`dbmarketing.campaigns.apply_contact_policy`: consent, a contact
point, do-not-contact, the frequency caps per channel counting the contacts already made and
the other lists of the run, the triggers' priorities) then decides who stays on which list;
a customer it leaves out of a list is in ``dropped`` with the reason. Each list then holds
out ``holdout`` of its customers at random (seeded by the run's seed, the trigger and the
date): they are the control group the trigger's effect is measured against. The hold-out is
drawn from the customers the policy kept, and they count against the caps like the listed
ones, so the two cells are alike in everything but the contact.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from .. import privacy, warehouse
from ..present import words
from ..warehouse import NotEnoughData
from .rules import Trigger, Triggers, load_triggers

# kind -> the column that says why the customer is on the list
SIGNAL = {"rfm_segment": "previous_segment", "p_alive_drop": "p_alive", "overdue": "overdue_ratio",
          "no_second_purchase": "first_purchase", "complaint_closed": "satisfaction", "birthday": "age",
          "anniversary": "member_years", "large_first_purchase": "first_amount"}
# the short profile beside each customer
PROFILE = ("name", "phone", "email", "city", "segment", "frequency", "monetary", "last_purchase")
LIST_COLUMNS = ("customer_id", "event_date")  # then the signal, the cell and the profile


@dataclass
class TriggerRun:
    """One evaluation of the triggers: ``lists`` (trigger name -> one row per customer:
    customer_id, event_date, the trigger's signal column, cell = listed or held_out, and the
    profile), ``skipped`` (trigger name -> why it could not run on this database), and the
    dates it compared."""

    as_of: date
    previous: date
    triggers: Triggers
    seed: int
    lists: dict[str, pd.DataFrame] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["customer_id", "trigger", "reason"]))

    def summary(self, lang: str | None = None) -> pd.DataFrame:
        """One row per trigger: its label, channel, customers found, listed, held out, and
        the reason when it was skipped."""
        rows = []
        left_out = self.dropped.groupby("trigger").size()
        for t in self.triggers.triggers:
            lst = self.lists.get(t.name)
            rows.append({"trigger": t.label(lang), "channel": t.channel,
                         "policy_dropped": int(left_out.get(t.name, 0)),
                         "customers": 0 if lst is None else len(lst),
                         "listed": 0 if lst is None else int((lst.cell == "listed").sum()),
                         "held_out": 0 if lst is None else int((lst.cell == "held_out").sum()),
                         "note": self.skipped.get(t.name, "")})
        return pd.DataFrame(rows)

    def policy_summary(self, lang: str | None = None) -> pd.DataFrame:
        """The customers the contact policy left out of each list, by reason (trigger, reason,
        customers), triggers in map order."""
        if self.dropped.empty:
            return pd.DataFrame(columns=["trigger", "reason", "customers"])
        order = {n: i for i, n in enumerate(self.triggers.names)}
        out = self.dropped.groupby(["trigger", "reason"]).size().rename("customers").reset_index()
        out = out.sort_values(["trigger", "customers"], key=lambda s: s.map(order) if s.name == "trigger" else -s,
                              ignore_index=True)
        out["trigger"] = out.trigger.map(lambda n: self.triggers.get(n).label(lang))
        return out


class _Facts:
    """What the rules read, computed once per date and shared between rules."""

    def __init__(self, con, as_of: date, previous: date, segments=None):
        self.con, self.dates, self.segments = con, {"now": as_of, "before": previous}, segments
        self._cache: dict = {}

    def _get(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def purchases(self, when: str) -> pd.DataFrame:
        from .. import cleanse

        def make():
            day = self.dates[when]
            sales = cleanse.sales_as_of(self.con, day)
            out = warehouse.sql.run(self.con, "events.purchase_facts", {"as_of": day}, sales=sales).df()
            for c in ("first_purchase", "last_purchase"):
                out[c] = pd.to_datetime(out[c]).dt.date
            return out.set_index("customer_id")
        return self._get(("purchases", when), make)

    def rfm(self, when: str) -> pd.DataFrame:
        from .. import rfm

        return self._get(("rfm", when), lambda: rfm.compute(self.con, self.dates[when], segments=self.segments)
                         .set_index("customer_id"))

    def clv(self, when: str) -> pd.DataFrame:
        from .. import customers

        return self._get(("clv", when), lambda: customers.fit_clv(self.con, self.dates[when]).predictions
                         .set_index("customer_id"))


# --------------------------------------------------------------------------------------
# the rules on customer-level frames (pure: the tests compute them by hand)
# --------------------------------------------------------------------------------------

def crossed_into(now: pd.Series, before: pd.Series, wanted) -> pd.DataFrame:
    """Customers whose segment ``now`` is one of ``wanted`` and ``before`` was not (or who
    had no segment then): customer_id, previous_segment."""
    wanted = set(wanted)
    prev = before.reindex(now.index)
    hit = now.isin(wanted) & ~prev.isin(wanted)
    return pd.DataFrame({"customer_id": now.index[hit], "previous_segment": prev[hit].to_numpy()})


def fading(now: pd.DataFrame, before: pd.DataFrame, threshold: float, valuable_share: float) -> pd.DataFrame:
    """The valuable customers (the top ``valuable_share`` by ``clv`` in ``before``) whose
    ``p_alive`` was >= ``threshold`` in ``before`` and is < ``threshold`` ``now``:
    customer_id, p_alive (now)."""
    if before.empty:
        return pd.DataFrame({"customer_id": [], "p_alive": []})
    cut = before["clv"].quantile(1 - valuable_share)
    valuable = before.index[(before["clv"] >= cut) & (before["p_alive"] >= threshold)]
    p_now = now["p_alive"].reindex(valuable)
    hit = p_now < threshold
    return pd.DataFrame({"customer_id": valuable[hit.to_numpy()], "p_alive": p_now[hit].to_numpy()})


def overdue_ratio(facts: pd.DataFrame, as_of: date, min_purchases: int) -> pd.Series:
    """Days since the last purchase / the customer's usual interval, for customers with at
    least ``min_purchases`` purchase days (and an interval above 0)."""
    f = facts[facts.purchase_days >= max(2, min_purchases)]
    usual = np.array([(l - fi).days for fi, l in zip(f.first_purchase, f.last_purchase)], float) / (f.purchase_days - 1)
    since = np.array([(as_of - l).days for l in f.last_purchase], float)
    ratio = pd.Series(since / usual.where(usual > 0), index=f.index)
    return ratio.dropna()


def overdue(now: pd.DataFrame, before: pd.DataFrame, as_of: date, previous: date, times: float,
            min_purchases: int) -> pd.DataFrame:
    """Customers overdue at ``as_of`` (days since the last purchase > ``times`` x their usual
    interval) who were not at ``previous``: customer_id, overdue_ratio (now)."""
    r_now = overdue_ratio(now, as_of, min_purchases)
    r_before = overdue_ratio(before, previous, min_purchases).reindex(r_now.index)
    hit = (r_now > times) & ~(r_before > times)
    return pd.DataFrame({"customer_id": r_now.index[hit], "overdue_ratio": r_now[hit].round(2).to_numpy()})


def no_second(now: pd.DataFrame, as_of: date, previous: date, days: int) -> pd.DataFrame:
    """One purchase day only, and first purchase + ``days`` in (previous, as_of]:
    customer_id, event_date (first purchase + days), first_purchase."""
    one = now[now.purchase_days == 1]
    due = one.first_purchase.map(lambda d: d + timedelta(days=int(days)))
    hit = (due > previous) & (due <= as_of)
    return pd.DataFrame({"customer_id": one.index[hit], "event_date": due[hit].to_numpy(),
                         "first_purchase": one.first_purchase[hit].to_numpy()})


def large_first(now: pd.DataFrame, previous: date, quantile: float, min_amount=None) -> pd.DataFrame:
    """A first purchase in the period whose amount reaches ``min_amount`` or, without it, the
    ``quantile`` of all first purchases: customer_id, event_date (first purchase), first_amount."""
    if now.empty:
        return pd.DataFrame({"customer_id": [], "event_date": [], "first_amount": []})
    cut = float(min_amount) if min_amount is not None else float(now.first_amount.quantile(quantile))
    hit = (now.first_purchase > previous) & (now.first_amount >= cut)
    return pd.DataFrame({"customer_id": now.index[hit], "event_date": now.first_purchase[hit].to_numpy(),
                         "first_amount": now.first_amount[hit].round(2).to_numpy()})


def hold_out(customer_ids, share: float, seed: int, trigger: str, as_of: date) -> np.ndarray:
    """The cell of each customer of a trigger's list: round(share x n) of them ``held_out`` at
    random, the others ``listed``. Seeded by ``seed``, the trigger and the date, so a run
    repeated gives the same cells and two triggers or two dates draw apart."""
    from .. import campaigns

    ids = pd.Series(sorted(customer_ids), dtype=object)
    if ids.empty:
        return np.array([], dtype=object)
    mixed = zlib.crc32(f"{int(seed)}|{trigger}|{as_of.isoformat()}".encode())
    cells = campaigns.assign_cells(pd.DataFrame({"customer_id": ids}), share, strata=None, seed=mixed)
    out = pd.Series(np.where(cells.to_numpy() == "control", "held_out", "listed"), index=ids.to_numpy())
    return out.reindex(list(customer_ids)).to_numpy()


# --------------------------------------------------------------------------------------
# the rules on a database
# --------------------------------------------------------------------------------------

def _next_month(as_of: date) -> date:
    return date(as_of.year + (as_of.month == 12), as_of.month % 12 + 1, 1)


def _needs_column(con, column: str, clearance: int) -> NotEnoughData | None:
    """Why a rule reading ``main.customers.column`` cannot run for this reader (its tier is
    above the reader's clearance, or above what a published copy holds), or None."""
    tier = privacy.catalog_tiers(con).get(column, 1)
    held = min(int(clearance), privacy.database_clearance(con))
    if tier > held:
        return NotEnoughData("events.needs_column", column=column, tier=tier, clearance=held)
    return None


def _fire(con, trigger: Trigger, facts: _Facts, as_of: date, previous: date, clearance: int) -> pd.DataFrame:
    """The customers ``trigger`` finds: customer_id, event_date, its signal column. Raises
    :class:`NotEnoughData` (with the reason) when the database cannot answer it."""
    p, kind = trigger.params, trigger.kind
    if kind in ("rfm_segment", "p_alive_drop", "overdue", "no_second_purchase", "large_first_purchase") \
            and not warehouse.table_exists(con, "main", "sales"):
        raise NotEnoughData("events.needs_purchases")
    if kind == "rfm_segment":
        from .. import rfm

        segs = rfm.load_segments(facts.segments)
        wanted = [s.name for r in p["roles"] for s in [segs.role(r)] if s is not None]
        if not wanted:
            raise NotEnoughData("events.no_role", roles=", ".join(p["roles"]))
        now, before = facts.rfm("now"), facts.rfm("before")
        out = crossed_into(now["segment"], before["segment"], wanted)
    elif kind == "p_alive_drop":
        out = fading(facts.clv("now"), facts.clv("before"), float(p["threshold"]), float(p["valuable_share"]))
    elif kind == "overdue":
        out = overdue(facts.purchases("now"), facts.purchases("before"), as_of, previous, float(p["times"]),
                      int(p["min_purchases"]))
    elif kind == "no_second_purchase":
        return no_second(facts.purchases("now"), as_of, previous, int(p["days"]))
    elif kind == "large_first_purchase":
        return large_first(facts.purchases("now"), previous, float(p["quantile"]), p.get("min_amount"))
    elif kind == "complaint_closed":
        if not warehouse.table_exists(con, "main", "service_tickets"):
            raise NotEnoughData("events.needs_tickets")
        if not warehouse.sql.one(con, "events.closed_dates_known")[0]:
            raise NotEnoughData("events.needs_closed_date")
        out = warehouse.sql.run(con, "events.complaints_closed", {"previous": previous, "as_of": as_of,
                                                                  "max_satisfaction": int(p["max_satisfaction"])}).df()
        return out.rename(columns={"signal": "satisfaction"})
    elif kind in ("birthday", "anniversary"):
        column = "birth_date" if kind == "birthday" else "signup_date"
        why = _needs_column(con, column, clearance)
        if why is not None:
            raise why
        first = _next_month(as_of)
        out = warehouse.sql.run(con, "events.date_next_month", {"month": first.month, "first_day": first},
                                column=warehouse.sql.ident(column)).df()
        return out.rename(columns={"signal": SIGNAL[kind]})
    else:  # load_triggers refuses other kinds
        raise ValueError(f"unknown trigger kind {kind!r}")
    return out.assign(event_date=as_of)


def evaluate(con, as_of, triggers=None, clearance: int = privacy.SCHEDULED_CLEARANCE, seed: int = 42,
             segments=None, policy=None, contact_policy: bool = True, planned=None) -> TriggerRun:
    """Evaluate every trigger of the map (``triggers``: a path, a :class:`Triggers`, or None for
    the default map) at ``as_of`` against one period earlier, apply the contact policy
    (``policy``: a file, a mapping or None for the package default, see
    :func:`dbmarketing.campaigns.load_policy`; ``planned``: other lists of the run already
    kept, counted against the caps; ``contact_policy=False`` leaves the lists as the rules
    found them), hold out each list's share at random (``seed``) and add the short profile. A
    trigger the database cannot answer (no tickets, a private column above ``clearance``, too
    little history for a model) is skipped with its reason; the others still run."""
    trig = load_triggers(triggers)
    A = warehouse.resolve_as_of(con, as_of)
    before = A - timedelta(days=trig.period_days)
    run = TriggerRun(A, before, trig, int(seed))
    if not warehouse.table_exists(con, "main", "customers"):  # loaded, not cleaned yet
        run.skipped = {t.name: words.text("events.needs_cleaning") for t in trig.triggers}
        return run
    facts = _Facts(con, A, before, segments)
    for t in trig.triggers:
        try:
            found = _fire(con, t, facts, A, before, clearance)
        except NotEnoughData as reason:
            run.skipped[t.name] = str(reason)
            continue
        found = found.drop_duplicates("customer_id").sort_values("customer_id", ignore_index=True)
        found["event_date"] = pd.to_datetime(found["event_date"]).dt.date
        run.lists[t.name] = found
    if contact_policy and run.lists:
        _apply_policy(con, run, policy, planned)
    for name, found in run.lists.items():
        found["cell"] = hold_out(found.customer_id.tolist(), trig.get(name).holdout, seed, name, A)
    _add_profiles(con, run, facts)
    return run


def _apply_policy(con, run: TriggerRun, policy, planned) -> None:
    """Keep on each list the customers the contact policy keeps there; the others go to
    ``run.dropped`` with the reason."""
    from .. import campaigns

    parts = [pd.DataFrame({"customer_id": lst.customer_id, "channel": run.triggers.get(name).channel,
                           "priority": run.triggers.get(name).priority, "source": name})
             for name, lst in run.lists.items()]
    candidates = pd.concat(parts, ignore_index=True)
    if candidates.empty:
        return
    kept, dropped = campaigns.apply_contact_policy(con, candidates, run.as_of, policy=policy, planned=planned)
    for name, lst in run.lists.items():
        mine = set(kept.customer_id[kept.source == name])
        run.lists[name] = lst[lst.customer_id.isin(mine)].reset_index(drop=True)
    run.dropped = dropped[["customer_id", "source", "reason"]].rename(columns={"source": "trigger"}).reset_index(drop=True)


def _add_profiles(con, run: TriggerRun, facts: _Facts) -> None:
    if not run.lists:
        return
    people = warehouse.sql.run(con, "events.profile").df().set_index("customer_id")
    scores = pd.DataFrame(columns=["segment", "frequency", "monetary", "last_purchase"])
    if warehouse.table_exists(con, "main", "sales"):  # without purchases, no RFM profile
        scores = facts.rfm("now")[list(scores.columns)]
    profile = people.join(scores, how="left")
    for name, lst in run.lists.items():
        signal = SIGNAL[run.triggers.get(name).kind]
        front = [*LIST_COLUMNS, signal, "cell"]
        merged = lst.merge(profile.reset_index(), on="customer_id", how="left")
        run.lists[name] = merged[[*front, *[c for c in PROFILE if c in merged.columns]]]


def for_reader(frame: pd.DataFrame, segments=None) -> pd.DataFrame:
    """A copy of a trigger list for display: RFM segment names (``segment``,
    ``previous_segment``) in the reader's language, from the segment map's labels; the table
    helper writes the other values (cells, channels) with the catalog's labels."""
    from .. import rfm

    names = rfm.load_segments(segments).labels()
    out = frame.copy()
    for col in ("segment", "previous_segment"):
        if col in out:
            out[col] = out[col].map(lambda v: names.get(v, v) if isinstance(v, str) else v)
    return out


def export_lists(con, run: TriggerRun, folder, clearance: int, suffix: str = ".csv") -> dict[str, Path]:
    """Write each trigger's list -- the ``listed`` customers only: the held-out ones must not be
    contacted -- to ``folder`` (``trigger_<name>_<as_of>_clearance<N>.csv``), masked for
    ``clearance`` like every export. Returns trigger name -> file."""
    out = {}
    for name, lst in run.lists.items():
        path = Path(folder) / privacy.export_name(f"trigger_{name}_{run.as_of}", clearance, suffix)
        about = words.text("events.about_list", trigger=run.triggers.get(name).label(), as_of=run.as_of)
        out[name] = privacy.export_frame(lst[lst.cell == "listed"].drop(columns="cell"), path, clearance, con=con,
                                         about=about)
    return out
