"""The checks of chapter 04's exercises (RFM scoring). Each works its figure out of the
database itself, by SQL on the scores the chapter stored (``main.rfm_scores``) or on the orders
(``main.sales``), not with the functions the model answers call, and names the usual mistake
when an answer is one of them."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from dbmarketing.course import Verdict, exercise
from dbmarketing.present import words
from dbmarketing.rfm import load_segments

say = words.of("course_04")


def _scored(con, as_of) -> int:
    return con.execute("SELECT count(*) FROM main.rfm_scores WHERE as_of = ? AND customer_type = 'consumer'",
                       [as_of]).fetchone()[0] if _has_scores(con) else 0


def _has_scores(con) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                       "AND table_name = 'rfm_scores'").fetchone()[0] > 0


def _count(con, where: str, params: list) -> int:
    return int(con.execute(f"SELECT count(*) FROM main.rfm_scores WHERE customer_type = 'consumer' AND {where}",
                           params).fetchone()[0])


@exercise("04.1")
def at_risk_customers(answer, con, as_of, segments=None, **_) -> Verdict:
    """How many customers the map's at-risk segment holds at ``as_of``."""
    seg = load_segments(segments)
    role = seg.role("at_risk")
    if role is None:
        return Verdict(False, say("needs_role", map=seg.source, role="at_risk"))
    if not _scored(con, as_of):
        return Verdict(False, say("needs_scores", as_of=as_of))
    if isinstance(answer, bool) or not isinstance(answer, Real) or not float(answer).is_integer():
        return Verdict(False, say("ex1_not_number", kind=type(answer).__name__))
    given = int(answer)
    expected = _count(con, "as_of = ? AND segment = ?", [as_of, role.name])
    named = dict(segment=seg.label(role.name), as_of=as_of, expected=expected, given=given)
    if given == expected:
        return Verdict(True, say("ex1_right", **named))
    if given == _count(con, "segment = ?", [role.name]):
        return Verdict(False, say("ex1_all_dates", **named))
    other = seg.role("win_back")
    if other is not None and given == expected + _count(con, "as_of = ? AND segment = ?", [as_of, other.name]):
        return Verdict(False, say("ex1_with_win_back", other=seg.label(other.name), **named))
    # the R scores of the segment, whatever the F score
    cells = con.execute("SELECT DISTINCT r_score FROM main.rfm_scores WHERE as_of = ? AND segment = ? "
                        "AND customer_type = 'consumer'", [as_of, role.name]).fetchall()
    if cells and given == _count(con, "as_of = ? AND NOT is_prospect AND list_contains(?, r_score)",
                                          [as_of, [r for (r,) in cells]]):
        return Verdict(False, say("ex1_r_only", **named))
    return Verdict(False, say("ex1_wrong", **named))


def _top_share(values, top: float, pad: int = 0) -> float:
    """Share of the total of ``values`` held by the first round(top * n) of them, biggest first
    (``pad`` zeros added to the count: customers without spend ranked with them)."""
    ordered = np.sort(np.asarray(values, dtype=float))[::-1]
    n = len(ordered) + pad
    k = int(round(top * n))
    total = ordered.sum()
    return float(ordered[:k].sum() / total) if total else math.nan


@exercise("04.2")
def top_revenue_share(answer, con, as_of, top: float = 0.2, **_) -> Verdict:
    """The share of net revenue the best ``top`` of the buyers bring (the Pareto figure)."""
    if not _scored(con, as_of):
        return Verdict(False, say("needs_scores", as_of=as_of))
    if isinstance(answer, bool) or not isinstance(answer, Real) or math.isnan(float(answer)):
        return Verdict(False, say("ex2_not_number", kind=type(answer).__name__))
    given = float(answer)
    rows = con.execute("SELECT monetary, is_prospect FROM main.rfm_scores WHERE as_of = ? "
                       "AND customer_type = 'consumer'", [as_of]).fetchall()
    spend = [m for m, prospect in rows if not prospect and m is not None]
    prospects = sum(1 for _, prospect in rows if prospect)
    expected = _top_share(spend, top)
    k = int(round(top * len(spend)))
    named = dict(expected=expected, given=given, top=top, buyers=len(spend), k=k, as_of=as_of)
    tolerance = 0.002  # the orders and the stored scores may round the cents differently
    if abs(given - expected) <= tolerance:
        return Verdict(True, say("ex2_right", **named))
    if given > 1.5 and abs(given / 100 - expected) <= tolerance:
        return Verdict(False, say("ex2_percent", **named))
    if prospects and abs(given - _top_share(spend, top, pad=prospects)) <= tolerance / 2:
        return Verdict(False, say("ex2_prospects", wrong_k=int(round(top * (len(spend) + prospects))), **named))

    def by_orders(amount: str, types: str) -> float:
        values = con.execute(f"SELECT sum(s.{amount}) FROM main.sales s JOIN main.customers c USING (customer_id) "
                             f"WHERE s.order_date <= ? AND c.customer_type IN ({types}) GROUP BY s.customer_id",
                             [as_of]).fetchall()
        return _top_share([v for (v,) in values if v is not None], top)

    if abs(given - by_orders("net_amount", "'consumer', 'distributor'")) <= tolerance / 2:
        return Verdict(False, say("ex2_distributors", **named))
    if abs(given - by_orders("gross_amount", "'consumer'")) <= tolerance / 2:
        return Verdict(False, say("ex2_gross", **named))
    if abs(given - (1 - expected)) <= tolerance:
        return Verdict(False, say("ex2_bottom", rest=1 - top, **named))
    return Verdict(False, say("ex2_wrong", **named))


@exercise("04.3")
def slipped_customers(answer, con, as_of, earlier, segments=None, **_) -> Verdict:
    """How many customers who were in the map's best or loyal segment at ``earlier`` are in its
    at-risk or win-back segment at ``as_of`` (the retention list of section 7)."""
    seg = load_segments(segments)
    good = [s.name for s in (seg.role("best"), seg.role("loyal")) if s]
    slipping = [s.name for s in (seg.role("at_risk"), seg.role("win_back")) if s]
    if not good or not slipping:
        return Verdict(False, say("needs_role", map=seg.source, role="best/loyal, at_risk/win_back"))
    if not _scored(con, as_of) or not _scored(con, earlier):
        return Verdict(False, say("needs_migration", earlier=earlier, as_of=as_of))
    if isinstance(answer, bool) or not isinstance(answer, Real) or not float(answer).is_integer():
        return Verdict(False, say("ex3_not_number", kind=type(answer).__name__))
    given = int(answer)

    def moved(before: list, after: list, same: bool = False) -> int:
        return int(con.execute(
            "SELECT count(*) FROM main.rfm_scores a JOIN main.rfm_scores b USING (customer_id) "
            "WHERE a.as_of = ? AND b.as_of = ? AND a.customer_type = 'consumer' AND b.customer_type = 'consumer' "
            "AND list_contains(?, a.segment) AND list_contains(?, b.segment)"
            + (" AND a.segment = b.segment" if same else ""), [earlier, as_of, before, after]).fetchone()[0])

    expected = moved(good, slipping)

    def either(names):
        return words.text("rfm.or").join(seg.label(n) for n in names)

    named = dict(expected=expected, given=given, good=either(good), slipping=either(slipping), earlier=earlier,
                 as_of=as_of)
    if given == expected:
        return Verdict(True, say("ex3_right", **named))
    if given == moved(slipping, good):
        return Verdict(False, say("ex3_transposed", **named))
    if len(good) > 1 and given == moved(good[:1], slipping):
        return Verdict(False, say("ex3_best_only", **named))
    if given == moved(good, good, same=True):
        return Verdict(False, say("ex3_stayed", **named))
    return Verdict(False, say("ex3_wrong", **named))
