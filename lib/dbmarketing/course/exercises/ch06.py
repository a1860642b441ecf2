"""Chapter 06's exercises (event triggers): a trigger rule re-derived in SQL, and a trigger's
measured lift re-derived from its recorded contacts."""

from __future__ import annotations

import math

from dbmarketing.present import words

from .. import Verdict, exercise

TRIGGER = "no_second_purchase"  # the trigger both exercises look at


def _number(answer) -> float:
    value = float(answer)  # a one-value frame or tuple is not a number: the course says it cannot read it
    if math.isnan(value):
        raise ValueError("not a number")
    return value


@exercise("06.1")
def rule_by_sql(answer, run=None, **_) -> Verdict:
    """How many customers the no-second-purchase rule finds in the run's period, before the
    contact policy: those on its list (listed and held out) and those the policy left out."""
    if run is None or TRIGGER not in run.lists:
        return Verdict(False, words.text("course_06.needs_run", trigger=TRIGGER))
    given = _number(answer)
    lst = run.lists[TRIGGER]
    on_list = len(lst)
    listed = int((lst.cell == "listed").sum())
    dropped = int((run.dropped.trigger == TRIGGER).sum()) if len(run.dropped) else 0
    expected = on_list + dropped
    days = int(run.triggers.get(TRIGGER).params["days"])
    if given == expected:
        return Verdict(True, words.text("course_06.ex1_right", expected=expected, on_list=on_list, dropped=dropped))
    if given == on_list:
        return Verdict(False, words.text("course_06.ex1_after_policy", given=int(given), dropped=dropped))
    if given == listed:
        return Verdict(False, words.text("course_06.ex1_listed_only", given=int(given), held_out=on_list - listed,
                                         dropped=dropped))
    return Verdict(False, words.text("course_06.ex1_wrong", given=given, days=days, previous=run.previous,
                                     as_of=run.as_of))


@exercise("06.2")
def lift_from_contacts(answer, measured=None, **_) -> Verdict:
    """The no-second-purchase trigger's lift pooled over its runs (test rate minus control
    rate), as the chapter's measurement table has it."""
    row = None
    if measured is not None and len(measured) and "name" in measured:
        rows = measured[measured.name == TRIGGER]
        row = rows.iloc[0] if len(rows) else None
    if row is None:
        return Verdict(False, words.text("course_06.needs_measured", trigger=TRIGGER))
    given = _number(answer)
    expected, test, control = float(row.lift), float(row.test_rate), float(row.control_rate)
    near = lambda value: abs(given - value) < 0.0005  # noqa: E731  (a rate to a twentieth of a point)
    facts = dict(expected=expected, test=test, control=control, contacted=int(row.contacted), held_out=int(row.control))
    if near(expected):
        return Verdict(True, words.text("course_06.ex2_right", **facts))
    if near(100 * expected):
        return Verdict(False, words.text("course_06.ex2_percent", given=given, **facts))
    if near(test):
        return Verdict(False, words.text("course_06.ex2_test_rate", given=given, **facts))
    if near(-expected):
        return Verdict(False, words.text("course_06.ex2_sign", given=given, **facts))
    if control and near(test / control):
        return Verdict(False, words.text("course_06.ex2_ratio", given=given, **facts))
    return Verdict(False, words.text("course_06.ex2_wrong", given=given, **facts))
