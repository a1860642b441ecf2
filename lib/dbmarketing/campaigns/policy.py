"""Campaigns: the contact policy, across every campaign and trigger -- who may be contacted on
a channel at all (consent, a contact point, the do-not-contact list), how often (a frequency
cap per channel, and optionally over all channels), and which list keeps a customer who
qualifies for several.

The rules, in the order they apply (a dropped candidate carries the first that hit it):

1. **Consent**: the customer agreed to the channel (``main.customers``, the consent column
   :data:`CHANNEL_CONSENT` names); no answer counts as no.
2. **Contact point**: the customer has the address, phone or e-mail the channel needs
   (:data:`CHANNEL_CONTACT`).
3. **Do-not-contact**: the customer is not on the do-not-contact list for the channel or for
   every channel (:func:`suppressed`).
4. **Once per list**: a customer is on a list (a source) once per channel.
5. **Frequency cap** (per channel): at most ``contacts`` contacts per customer in any
   ``days`` days. A contact counts against it when it is within ``days`` days of the run's
   date, before or after (``|date - as_of| < days``: it could share a window of ``days``
   days with the new one): the test-cell contacts in ``main.contacts`` (the control cell was
   not contacted), the lists already kept earlier in this run (``planned``), and the
   candidates of this call the policy keeps -- best priority first.
6. **Frequency cap over all channels** (``all_channels``, optional): the same, channels
   together.

Priorities: when a customer qualifies for several lists and the cap does not leave room for
all, the lists with the lowest priority number keep her. A source the policy file names in
``priorities`` takes the file's priority (the marketer's say); any other the candidate's own.

The policy is a YAML file (``params/contact_policy.yaml``; :func:`load_policy`): caps per
channel, the optional cap over all channels, priorities. Without one, :data:`DEFAULT_POLICY`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import warehouse
from ..present import words
from .measurement import CHANNEL_CONSENT, CHANNEL_CONTACT

# The package default: the same as the shipped params/contact_policy.yaml.
DEFAULT_POLICY = {
    "caps": {"direct_mail": {"contacts": 2, "days": 30}, "sms": {"contacts": 2, "days": 14},
             "email": {"contacts": 4, "days": 14}, "outbound_call": {"contacts": 1, "days": 30}},
    "all_channels": {"contacts": 6, "days": 30},
    "priorities": {},
}
CANDIDATE_COLUMNS = ("customer_id", "channel", "priority", "source")


class PolicyError(ValueError):
    """A contact policy file that cannot be used: the message names the file and the key."""


@dataclass(frozen=True)
class Cap:
    """At most ``contacts`` contacts per customer in any ``days`` days."""

    contacts: int
    days: int


@dataclass(frozen=True)
class ContactPolicy:
    """A checked contact policy (:func:`load_policy`): ``caps`` channel -> :class:`Cap`,
    ``all_channels`` a :class:`Cap` or None, ``priorities`` source -> priority, and the
    file it came from."""

    caps: dict = field(default_factory=dict)
    all_channels: Cap | None = None
    priorities: dict = field(default_factory=dict)
    source: str = "<package default>"


def _cap(value, where: str, fail) -> Cap:
    if not isinstance(value, dict) or set(value) != {"contacts", "days"}:
        fail(where, "must be a mapping with exactly the keys contacts and days", value)
    contacts, days = value["contacts"], value["days"]
    if isinstance(contacts, bool) or not isinstance(contacts, int) or contacts < 0:
        fail(f"{where}.contacts", "must be a whole number of contacts >= 0", contacts)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        fail(f"{where}.days", "must be a whole number of days >= 1", days)
    return Cap(contacts, days)


def load_policy(policy=None) -> ContactPolicy:
    """The contact policy: ``policy`` a YAML file's path, a mapping of the same shape, a
    :class:`ContactPolicy` (as it is), or None / "" (:data:`DEFAULT_POLICY`). Keys: ``caps``
    (channel -> ``{contacts, days}``), ``all_channels`` (``{contacts, days}`` or null),
    ``priorities`` (source -> number, lower first). Raises :class:`PolicyError` in one line
    naming the file and the key."""
    if isinstance(policy, ContactPolicy):
        return policy
    name = "<package default>" if policy is None or (isinstance(policy, str) and not policy.strip()) else (
        "<policy>" if isinstance(policy, dict) else str(policy))

    def fail(key, problem, value):
        raise PolicyError(f"{name}: key {key!r} {problem}, got {str(value)[:80]!r}")

    if policy is None or (isinstance(policy, str) and not policy.strip()):
        content = DEFAULT_POLICY
    elif isinstance(policy, dict):
        content = policy
    else:
        path = Path(policy)
        if not path.is_file():
            raise PolicyError(f"{name}: no such contact policy file (relative to {Path.cwd()})")
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise PolicyError(f"{name}: not valid YAML{where}: {getattr(error, 'problem', error)}") from None
    if not isinstance(content, dict):
        raise PolicyError(f"{name}: must be a mapping with the keys caps, all_channels, priorities")
    unknown = sorted(set(map(str, content)) - {"caps", "all_channels", "priorities"})
    if unknown:
        fail(unknown[0], "is not a policy key (caps, all_channels, priorities)", content[unknown[0]])
    caps_in = content.get("caps") or {}
    if not isinstance(caps_in, dict):
        fail("caps", "must map channels to {contacts, days}", caps_in)
    caps = {}
    for channel, value in caps_in.items():
        if channel not in CHANNEL_CONSENT:
            fail(f"caps.{channel}", f"is not a channel ({', '.join(CHANNEL_CONSENT)})", channel)
        caps[channel] = _cap(value, f"caps.{channel}", fail)
    every = content.get("all_channels")
    every = None if every is None else _cap(every, "all_channels", fail)
    priorities = content.get("priorities") or {}
    if not isinstance(priorities, dict):
        fail("priorities", "must map sources (campaign or trigger names) to numbers", priorities)
    for source, value in priorities.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            fail(f"priorities.{source}", "must be a number (lower = first)", value)
    return ContactPolicy(caps, every, {str(k): float(v) for k, v in priorities.items()}, name)


# --------------------------------------------------------------------------------------
# rules 1-3: consent, contact point, do-not-contact
# --------------------------------------------------------------------------------------

def suppressed(con, channel: str | None = None) -> pd.DataFrame:
    """The master customers not to contact (``main.suppressions``, the do-not-contact list as
    cleaning resolved it): customer_id, reason. With ``channel``, the entries for that channel
    and those for every channel. Empty when no list was loaded."""
    if not warehouse.table_exists(con, "main", "suppressions"):
        return pd.DataFrame({"customer_id": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})
    return warehouse.sql.run(con, "campaigns.suppressed", {"channel": channel}).df()


def left_out_by(rules: list[tuple[str, pd.Series]], total: tuple[str, int]) -> tuple[pd.Series, pd.DataFrame]:
    """Apply ``rules`` ([(reason, mask)], in order; :func:`reach_rules` and a caller's own) to a
    frame's rows: the rows any rule leaves out, and the count table (reason, customers): ``total``
    first, then each rule's rows that no earlier rule left out."""
    left = pd.Series(False, index=rules[0][1].index) if rules else pd.Series(dtype=bool)
    counts = [total]
    for reason, mask in rules:
        hit = mask & ~left
        counts.append((reason, int(hit.sum())))
        left |= hit
    return left, pd.DataFrame(counts, columns=["reason", "customers"])


def reach_rules(con, frame: pd.DataFrame, channel: str) -> list[tuple[str, pd.Series]]:
    """Rules 1-3 for ``channel`` over ``frame`` (customer_id, the channel's consent column and
    contact point column): [(reason in the reader's language, mask of the rows it hits)], in
    the order they apply. The one place consent and do-not-contact are decided: the next
    campaign's selection (:func:`select_targets`) and the contact policy use it."""
    consent, point = CHANNEL_CONSENT[channel], CHANNEL_CONTACT[channel]
    dnc = suppressed(con, channel)
    return [
        (words.text("campaigns.reason_no_consent", consent=words.label(consent.split('_')[1])),
         ~frame[consent].fillna(False).astype(bool)),
        (words.text("campaigns.reason_no_contact_point", point=words.label(point)), frame[point].isna()),
        (words.text("campaigns.reason_do_not_contact"), frame.customer_id.isin(dnc.customer_id)),
    ]


# --------------------------------------------------------------------------------------
# rules 4-6: once per list, the frequency caps, priorities
# --------------------------------------------------------------------------------------

def recent_contacts(con, as_of, days: int) -> pd.DataFrame:
    """The test-cell contacts in ``main.contacts`` within ``days`` days of ``as_of``, before or
    after (|contact date - as_of| < days): customer_id, channel, contact_date. Empty when the
    database holds no contacts."""
    if not (warehouse.table_exists(con, "main", "contacts") and warehouse.table_exists(con, "main", "campaigns")):
        return pd.DataFrame({"customer_id": pd.Series(dtype=object), "channel": pd.Series(dtype=object),
                             "contact_date": pd.Series(dtype="datetime64[us]")})
    return warehouse.sql.run(con, "campaigns.recent_contacts", {"as_of": as_of, "days": int(days)}).df()


def _counts(counts: pd.Series, rows: pd.DataFrame) -> np.ndarray:
    """The contacts already counted (``counts``: customer_id -> contacts) of each row's customer."""
    return counts.reindex(rows.customer_id.to_numpy()).fillna(0).to_numpy(dtype=float)


def _check_candidates(candidates: pd.DataFrame) -> None:
    missing = [c for c in CANDIDATE_COLUMNS if c not in candidates.columns]
    if missing:
        raise ValueError(f"candidates need the columns {', '.join(CANDIDATE_COLUMNS)}; missing {', '.join(missing)}")
    bad = sorted(set(candidates.channel.dropna()) - set(CHANNEL_CONSENT)) + (["(none)"] if candidates.channel.isna().any() else [])
    if bad:
        raise ValueError(f"candidates' channel must be one of {', '.join(CHANNEL_CONSENT)}, got {', '.join(map(str, bad))}")
    if pd.to_numeric(candidates.priority, errors="coerce").isna().any():
        raise ValueError("candidates' priority must be a number (lower = first) on every row")


def apply_contact_policy(con, candidates: pd.DataFrame, as_of, policy=None,
                         planned: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the contact policy (the module's rules 1-6) to the run's candidate lists.

    ``candidates``: one row per customer and list: customer_id, channel (one of
    :data:`CHANNEL_CONSENT`), priority (lower = first), source (the campaign or trigger
    name), and any other columns, which are passed through. ``as_of``: the day the lists go
    out. ``policy``: see :func:`load_policy`. ``planned``: lists of this run kept by an
    earlier call (customer_id, channel), counted against the caps as contacts on ``as_of``.

    Returns (kept, dropped): the candidates kept, in their order, and those dropped with
    ``reason`` (the first rule that hit, in the reader's language)."""
    rules = load_policy(policy)
    _check_candidates(candidates)
    A = warehouse.resolve_as_of(con, as_of)
    cols = list(candidates.columns)
    c = candidates.reset_index(drop=True).copy()
    c["_row"] = np.arange(len(c))
    c["_priority"] = [rules.priorities.get(str(s), float(p)) for s, p in zip(c.source, c.priority)]
    c["reason"] = None

    # rules 1-3, channel by channel
    reach = warehouse.sql.run(con, "campaigns.reach").df()
    for channel, idx in c.groupby("channel").groups.items():
        part = c.loc[idx, ["customer_id"]].merge(reach, on="customer_id", how="left").set_index(idx)
        for reason, mask in reach_rules(con, part, channel):
            hit = mask & c.loc[idx, "reason"].isna()
            c.loc[hit[hit].index, "reason"] = reason

    # rule 4: once per list and channel, the best priority kept
    order = ["customer_id", "_priority", "source", "_row"]
    live = c[c.reason.isna()].sort_values(order, kind="stable")
    twice = live.duplicated(["customer_id", "channel", "source"])
    c.loc[twice[twice].index, "reason"] = words.text("campaigns.reason_same_list")

    # rules 5-6: what the caps leave, given the contacts already counted
    earlier = [planned[["customer_id", "channel"]].assign(contact_date=pd.Timestamp(A))] if planned is not None and len(planned) else []
    longest = max([cap.days for cap in rules.caps.values()] + ([rules.all_channels.days] if rules.all_channels else []),
                  default=0)
    if longest:
        earlier.append(recent_contacts(con, A, longest))
    counted = pd.concat(earlier, ignore_index=True) if earlier else pd.DataFrame(columns=["customer_id", "channel", "contact_date"])
    gap = (pd.to_datetime(counted.contact_date) - pd.Timestamp(A)).dt.days.abs()
    live = c[c.reason.isna()].sort_values(order, kind="stable")
    for channel, cap in rules.caps.items():
        mine = live[live.channel == channel]
        before = counted[(counted.channel == channel) & (gap < cap.days)].customer_id.value_counts()
        room = cap.contacts - _counts(before, mine)
        over = mine.groupby("customer_id").cumcount() >= room
        c.loc[over[over].index, "reason"] = words.text("campaigns.reason_frequency_cap", contacts=cap.contacts,
                                                       channel=words.label(channel), days=cap.days)
    if rules.all_channels is not None:
        cap = rules.all_channels
        live = c[c.reason.isna()].sort_values(order, kind="stable")
        before = counted[gap < cap.days].customer_id.value_counts()
        room = cap.contacts - _counts(before, live)
        over = live.groupby("customer_id").cumcount() >= room
        c.loc[over[over].index, "reason"] = words.text("campaigns.reason_frequency_cap_all", contacts=cap.contacts,
                                                       days=cap.days)
    kept = c[c.reason.isna()][cols].reset_index(drop=True)
    dropped = c[c.reason.notna()][cols + ["reason"]].reset_index(drop=True)
    return kept, dropped
