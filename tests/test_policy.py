"""The contact policy: consent, contact point and do-not-contact as the selection applies them,
frequency caps counted by hand (recorded contacts and the lists of the same run), priorities,
the policy file's errors, and the cap holding across every list of a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dbmarketing import campaigns, warehouse

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-06-15"


def _tables(con, customers, contacts, suppressions=()):
    con.execute("""CREATE TABLE main.customers (customer_id VARCHAR, consent_mail BOOLEAN, consent_sms BOOLEAN,
                   consent_email BOOLEAN, consent_phone BOOLEAN, address VARCHAR, phone VARCHAR, email VARCHAR)""")
    con.executemany("INSERT INTO main.customers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", customers)
    con.execute("""CREATE TABLE main.campaigns AS SELECT * FROM (VALUES
        ('S1', 'sms', DATE '2026-05-01'), ('S2', 'sms', DATE '2026-05-01'), ('M1', 'email', DATE '2026-05-01'))
        t(campaign_id, channel, start_date)""")
    con.execute("CREATE TABLE main.contacts (campaign_id VARCHAR, customer_id VARCHAR, cell VARCHAR, contact_date DATE)")
    if contacts:
        con.executemany("INSERT INTO main.contacts VALUES (?, ?, ?, CAST(? AS DATE))", contacts)
    con.execute("""CREATE TABLE main.suppressions (entry INTEGER, customer_id VARCHAR, matched_by VARCHAR,
                   channel VARCHAR, reason VARCHAR)""")
    if suppressions:
        con.executemany("INSERT INTO main.suppressions VALUES (?, ?, 'customer number', ?, ?)", suppressions)


@pytest.fixture
def tiny():
    con = warehouse.connect(":memory:")
    full = (True, True, True, True, "street 1", "138", "a@x")
    _tables(con,
            [("A", *full), ("B", True, False, True, True, "s", "1", "b@x"), ("C", True, True, True, True, "s", None, "c@x"),
             ("D", *full), ("E", *full), ("F", *full)],
            [("S1", "A", "test", "2026-06-05"),     # 10 days before: counts against the 14-day SMS cap
             ("S2", "A", "test", "2026-06-01"),     # 14 days before: outside it
             ("S1", "E", "control", "2026-06-10"),  # held out, not contacted: does not count
             ("S2", "E", "test", "2026-06-20"),     # planned 5 days after: counts
             ("M1", "F", "test", "2026-05-20")],    # 26 days before: outside the 7-day e-mail cap, inside the 30-day total
            [(1, "D", "sms", "asked for no texts")])
    yield con
    con.close()


POLICY = {"caps": {"sms": {"contacts": 2, "days": 14}, "email": {"contacts": 1, "days": 7}},
          "all_channels": {"contacts": 3, "days": 30}, "priorities": {"vip_trigger": 0}}


def test_policy_by_hand(tiny):
    rows = [("A", "sms", 2, "winback"), ("A", "sms", 1, "birthday"), ("A", "sms", 3, "newsletter"),
            ("A", "email", 4, "newsletter"), ("A", "email", 4, "newsletter"),
            ("B", "sms", 1, "birthday"), ("C", "sms", 1, "birthday"), ("D", "sms", 1, "birthday"),
            ("D", "email", 4, "newsletter"), ("E", "sms", 5, "winback"), ("E", "sms", 1, "birthday"),
            ("F", "email", 2, "newsletter"), ("F", "email", 9, "vip_trigger"), ("F", "sms", 1, "birthday"),
            ("F", "sms", 2, "winback")]
    cand = pd.DataFrame(rows, columns=["customer_id", "channel", "priority", "source"]).assign(extra=range(len(rows)))
    kept, dropped = campaigns.apply_contact_policy(tiny, cand, AS_OF, POLICY)
    assert len(kept) + len(dropped) == len(cand) and list(kept.columns) == list(cand.columns)
    assert kept.extra.is_monotonic_increasing  # the candidates' order
    got = sorted((r.customer_id, r.channel, r.source, r.reason) for r in dropped.itertuples())
    assert got == sorted([
        # A: one SMS 10 days ago, cap 2 in 14 days: room for one, the best priority (birthday)
        ("A", "sms", "winback", "frequency cap: 2 SMS contacts in 14 days"),
        ("A", "sms", "newsletter", "frequency cap: 2 SMS contacts in 14 days"),
        ("A", "email", "newsletter", "already on this list"),
        # A: two SMS in the last 30 days (10 and 14 days ago), 3 on all channels: the SMS took the last place
        ("A", "email", "newsletter", "frequency cap: 3 contacts on all channels in 30 days"),
        ("B", "sms", "birthday", "no SMS consent"),
        ("C", "sms", "birthday", "no phone to reach"),
        ("D", "sms", "birthday", "on the do-not-contact list"),
        # E: the control-cell row does not count, the SMS planned in 5 days does: room for one
        ("E", "sms", "winback", "frequency cap: 2 SMS contacts in 14 days"),
        # F: the policy file's priority 0 beats the list's 9; one e-mail in 7 days
        ("F", "email", "newsletter", "frequency cap: 1 email contacts in 7 days"),
        # F: one e-mail 26 days ago, 3 contacts in 30 days on all channels: vip_trigger and birthday stay
        ("F", "sms", "winback", "frequency cap: 3 contacts on all channels in 30 days"),
    ])
    assert sorted(zip(kept.customer_id, kept.channel, kept.source)) == [
        ("A", "sms", "birthday"), ("D", "email", "newsletter"), ("E", "sms", "birthday"),
        ("F", "email", "vip_trigger"), ("F", "sms", "birthday")]


def test_lists_kept_earlier_in_the_run_count(tiny):
    first = pd.DataFrame({"customer_id": ["A"], "channel": ["sms"], "priority": [1], "source": ["birthday"]})
    kept, _ = campaigns.apply_contact_policy(tiny, first, AS_OF, POLICY)
    second = first.assign(source="winback")
    kept2, dropped2 = campaigns.apply_contact_policy(tiny, second, AS_OF, POLICY, planned=kept)
    assert kept2.empty and dropped2.reason.tolist() == ["frequency cap: 2 SMS contacts in 14 days"]
    assert len(campaigns.apply_contact_policy(tiny, second, AS_OF, POLICY)[0]) == 1  # without it, room


def test_reasons_in_chinese(tiny):
    from dbmarketing.present import words

    cand = pd.DataFrame({"customer_id": ["B", "A", "A"], "channel": ["sms"] * 3, "priority": [1, 1, 2],
                         "source": ["x", "x", "y"]})
    words.set_lang("zh")
    try:
        _, dropped = campaigns.apply_contact_policy(tiny, cand, AS_OF, POLICY)
    finally:
        words.set_lang("en")
    assert dropped.reason.tolist() == ["未同意接收短信", "接触频次上限：14天内短信最多2次"]


def test_policy_file_errors_name_the_file_and_key(tmp_path):
    shipped = campaigns.load_policy(ROOT / "params/contact_policy.yaml")
    default = campaigns.load_policy()
    assert (shipped.caps, shipped.all_channels, shipped.priorities) == (default.caps, default.all_channels,
                                                                        default.priorities)
    cases = [({"caps": {"sms": {"contacts": 2, "days": 0}}}, "key 'caps.sms.days' must be a whole number of days"),
             ({"caps": {"fax": {"contacts": 1, "days": 7}}}, "key 'caps.fax' is not a channel"),
             ({"caps": {"sms": {"contacts": -1, "days": 7}}}, "key 'caps.sms.contacts'"),
             ({"caps": {"sms": 3}}, "key 'caps.sms' must be a mapping"),
             ({"cap": {}}, "key 'cap' is not a policy key"),
             ({"priorities": {"winback": "high"}}, "key 'priorities.winback' must be a number")]
    for content, message in cases:
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(content), encoding="utf-8")
        with pytest.raises(campaigns.PolicyError) as error:
            campaigns.load_policy(path)
        assert str(error.value).startswith(f"{path}: {message}") and "\n" not in str(error.value)
    path.write_text("caps: [sms\n", encoding="utf-8")
    with pytest.raises(campaigns.PolicyError, match=r"policy.yaml: not valid YAML at line"):
        campaigns.load_policy(path)
    with pytest.raises(campaigns.PolicyError, match="no such contact policy file"):
        campaigns.load_policy(tmp_path / "missing.yaml")


def test_candidates_are_checked(tiny):
    with pytest.raises(ValueError, match="missing priority"):
        campaigns.apply_contact_policy(tiny, pd.DataFrame({"customer_id": ["A"], "channel": ["sms"], "source": ["x"]}),
                                       AS_OF)
    with pytest.raises(ValueError, match="channel must be one of .* got fax"):
        campaigns.apply_contact_policy(tiny, pd.DataFrame({"customer_id": ["A"], "channel": ["fax"], "priority": [1],
                                                           "source": ["x"]}), AS_OF)


def test_the_cap_holds_across_all_lists_of_a_run():
    rng = np.random.default_rng(5)
    con = warehouse.connect(":memory:")
    ids = [f"C{i:03d}" for i in range(120)]
    _tables(con, [(c, True, True, True, True, "s", "1", "e") for c in ids],
            [(rng.choice(["S1", "M1"]), rng.choice(ids), rng.choice(["test", "control"]),
              str(pd.Timestamp(AS_OF) + pd.Timedelta(days=int(rng.integers(-40, 40))))) for _ in range(300)])
    lists = [pd.DataFrame({"customer_id": rng.choice(ids, 70, replace=False), "channel": ch, "priority": k,
                           "source": f"list{k}"}) for k, ch in enumerate(["sms", "email", "sms", "email", "sms", "email"])]
    policy = {"caps": {"sms": {"contacts": 2, "days": 14}, "email": {"contacts": 3, "days": 10}},
              "all_channels": {"contacts": 4, "days": 21}}
    together, _ = campaigns.apply_contact_policy(con, pd.concat(lists, ignore_index=True), AS_OF, policy)
    one_by_one = []
    for part in lists:  # list by list, each told what the earlier ones kept
        kept, _ = campaigns.apply_contact_policy(con, part, AS_OF, policy,
                                                 planned=pd.concat(one_by_one) if one_by_one else None)
        one_by_one.append(kept)
    one_by_one = pd.concat(one_by_one, ignore_index=True)
    # lists in priority order: the same customers kept either way
    assert sorted(zip(together.customer_id, together.source)) == sorted(zip(one_by_one.customer_id, one_by_one.source))
    con.register("kept", together[["customer_id", "channel"]])
    for channel, contacts, days in (("sms", 2, 14), ("email", 3, 10), (None, 4, 21)):
        # every window of `days` days holding the run's day: recorded test contacts in it plus the run's lists
        worst = con.execute("""
            WITH w AS (SELECT (DATE '2026-06-15' - CAST(s AS INTEGER)) AS start FROM range(0, ?) t(s)),
            n AS (SELECT w.start, c.customer_id, count(*) AS k FROM w JOIN main.contacts c
                  ON c.contact_date >= w.start AND c.contact_date < w.start + CAST(? AS INTEGER) AND c.cell = 'test'
                  JOIN main.campaigns g USING (campaign_id) WHERE ? IS NULL OR g.channel = ? GROUP BY ALL),
            r AS (SELECT customer_id, count(*) AS k FROM kept WHERE ? IS NULL OR channel = ? GROUP BY ALL)
            SELECT max(coalesce(n.k, 0) + r.k) FROM r CROSS JOIN w
            LEFT JOIN n ON n.customer_id = r.customer_id AND n.start = w.start""",
                            [days, days, channel, channel, channel, channel]).fetchone()[0]
        assert worst <= contacts, (channel, worst)
    # and the caps bind: without them more would be kept
    assert len(together) < sum(map(len, lists))
    con.close()


class _Flat:
    """A stand-in uplift model: every customer the same uplift, so every eligible one is chosen."""

    def predict(self, frame):
        return np.full(len(frame), 0.1)

    def predict_response(self, frame):
        return np.full(len(frame), 0.2)


def test_the_next_campaign_keeps_to_the_caps(cleaned_sample, tmp_path):
    import shutil

    path = tmp_path / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    try:
        free = campaigns.select_targets(con, "2026-10-31", "sms", _Flat(), 10.0, 0.1, policy={"caps": {}})
        chosen = sorted(free.targets.customer_id)[:7]
        con.execute("INSERT INTO main.campaigns (campaign_id, campaign_name, channel, start_date) "
                    "VALUES ('T1', 'test', 'sms', DATE '2026-10-25')")
        con.executemany("INSERT INTO main.contacts (campaign_id, customer_id, cell, contact_date, source_customer_id) "
                        "VALUES ('T1', ?, ?, DATE '2026-10-25', ?)",
                        [(c, "control" if i == 6 else "test", c) for i, c in enumerate(chosen)])
        policy = {"caps": {"sms": {"contacts": 1, "days": 7}}}
        capped = campaigns.select_targets(con, "2026-10-31", "sms", _Flat(), 10.0, 0.1, policy=policy)
        # the six contacted 6 days ago are left out and counted; the one held out stays
        assert set(free.targets.customer_id) - set(capped.targets.customer_id) == set(chosen[:6])
        excluded = capped.excluded.set_index("reason").customers
        assert excluded["frequency cap: 1 SMS contacts in 7 days"] == 6
        assert excluded["customers scored"] == excluded.drop("customers scored").sum() + capped.summary["selected"]
        wider = campaigns.select_targets(con, "2026-10-31", "sms", _Flat(), 10.0, 0.1,
                                         policy={"caps": {"sms": {"contacts": 1, "days": 6}}})
        assert set(wider.targets.customer_id) == set(free.targets.customer_id)  # 6 days ago: outside a 6-day cap
    finally:
        con.close()
