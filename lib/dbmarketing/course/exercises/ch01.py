"""Chapter 01 (data collection): the checks of its exercises.

01.1 -- the share of a source's records the load rejected, and its most common reason;
01.2 -- the customer records of each of the four customer types, counted from the raw layer.

Each check works the right answer out itself, in SQL on the tables the load wrote
(``main.load_batches``, ``main.rejects``, ``raw.customers``, ``raw.orders``), and names the
typical mistake when it recognises one.
"""

from __future__ import annotations

import math

from dbmarketing import course, customers
from dbmarketing.present import words
from dbmarketing.present.narration import collection as story

say = words.of("course_01")
TYPES = ("current", "potential", "lapsed", "distributor")

# a reject's reason as one kind: a duplicate key names its first line, a key loaded before its batch
KIND = """CASE WHEN reason LIKE 'duplicate key, first at line %' THEN 'duplicate key'
              WHEN reason LIKE 'key already loaded in batch %' THEN 'key already loaded in an earlier batch'
              WHEN reason LIKE 'a later version is already loaded%' THEN 'a later version is already loaded'
              ELSE reason END"""


def _number(value) -> float:
    if isinstance(value, bool):
        raise TypeError("a share is a number, not yes/no")
    number = float(value)
    if math.isnan(number):
        raise ValueError("the share is not a number (NaN)")
    return number


@course.exercise("01.1")
def reject_share(answer, con=None, source: str = "orders", **_) -> course.Verdict:
    """``answer``: {"share": rejected / read of the source's load (0-1), "reason": its most common reason}."""
    batch = con.execute("""SELECT batch_id, rows_read, rows_loaded, rows_rejected FROM main.load_batches
                           WHERE source = ? AND status = 'loaded' ORDER BY batch_id DESC LIMIT 1""", [source]).fetchone()
    if batch is None or not batch[1]:
        return course.Verdict(False, say("ex1_no_source", source=source))
    batch_id, read, loaded, rejected = batch
    counts = con.execute(f"""SELECT {KIND} AS kind, count(*) AS n FROM main.rejects WHERE batch_id = ?
                             GROUP BY 1 ORDER BY n DESC, kind""", [batch_id]).fetchall()
    expected = rejected / read
    top = [kind for kind, n in counts if n == counts[0][1]] if counts else []
    given = _number(answer["share"])
    reason = answer["reason"]
    if not math.isclose(given, expected, rel_tol=1e-4, abs_tol=1e-9):
        if loaded and math.isclose(given, rejected / loaded, rel_tol=1e-4, abs_tol=1e-9) and rejected:
            why = say("ex1_by_loaded", given=given, expected=expected, read=read, loaded=loaded)
        elif math.isclose(given, 100 * expected, rel_tol=1e-3, abs_tol=1e-9) and rejected:
            why = say("ex1_percent", given=given, expected=expected)
        else:
            why = say("ex1_share_wrong", given=given, expected=expected, rejected=rejected, read=read, source=source)
        return course.Verdict(False, why)
    if not top:  # nothing rejected: no reason to name
        if reason in (None, "") or (isinstance(reason, float) and math.isnan(reason)):
            return course.Verdict(True, say("ex1_right_none", source=source, read=read))
        return course.Verdict(False, say("ex1_reason_none", source=source, given=reason))
    worded = {story.reason(kind) for kind in top}
    if isinstance(reason, str) and (reason.strip() in top or story.reason(reason.strip()) in worded):
        return course.Verdict(True, say("ex1_right", source=source, share=expected, rejected=rejected, read=read,
                                        reason=story.reason(top[0]), n=counts[0][1]))
    return course.Verdict(False, say("ex1_reason_wrong", source=source, given=reason, expected=story.reason(top[0]),
                                     n=counts[0][1]))


def _type_counts(con, as_of, active_days: int, all_versions=False, any_sale=False, distributor_by_recency=False):
    """Customer records per type of four from the raw layer, the chapter's rule or one of the
    typical mistakes (every version of a record, cancelled orders counted as purchases,
    distributors sorted by recency like consumers)."""
    current = "" if all_versions else "WHERE valid_to IS NULL"
    completed = "" if any_sale else "AND coalesce(status, 'completed') = 'completed'"
    distributor = "FALSE" if distributor_by_recency else "c.customer_type = 'distributor'"
    rows = con.execute(f"""
        WITH c AS (SELECT customer_id, customer_type, signup_date FROM raw.customers {current}
                   UNION ALL
                   SELECT customer_id, CASE WHEN bool_or(channel = 'distributor') THEN 'distributor'
                                            ELSE 'consumer' END, min(order_date)
                   FROM raw.orders o WHERE customer_id IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM raw.customers r WHERE r.customer_id = o.customer_id)
                   GROUP BY customer_id),
        o AS (SELECT customer_id, max(order_date) AS last_purchase FROM raw.orders
              WHERE coalesce(order_type, 'sale') = 'sale' {completed} AND order_date <= CAST(? AS DATE) GROUP BY customer_id)
        SELECT CASE WHEN {distributor} THEN 'distributor'
                    WHEN o.last_purchase IS NULL THEN 'potential'
                    WHEN o.last_purchase > CAST(? AS DATE) - CAST(? AS INTEGER) THEN 'current'
                    ELSE 'lapsed' END AS kind, count(*)
        FROM c LEFT JOIN o USING (customer_id)
        WHERE c.signup_date IS NULL OR c.signup_date <= CAST(? AS DATE)
        GROUP BY 1""", [str(as_of), str(as_of), int(active_days), str(as_of)]).fetchall()
    counts = dict.fromkeys(TYPES, 0)
    counts.update({kind: int(n) for kind, n in rows})
    return counts


@course.exercise("01.2")
def four_types(answer, con=None, as_of=None, active_days: int = 365, **_) -> course.Verdict:
    """``answer``: customer records per type, {"current": n, "potential": n, "lapsed": n, "distributor": n}."""
    if as_of is None:
        return course.Verdict(False, say("ex2_no_date"))
    given = {str(k): int(v) for k, v in dict(answer).items()}
    # the expectation by the chapter's own code (the model answer writes its SQL; the mistakes below are SQL too)
    found = customers.type_counts(con, as_of, active_days=active_days).groupby("customer_type4").customer_records.sum()
    expected = {kind: int(found.get(kind, 0)) for kind in TYPES}
    if sum(expected.values()) == 0:
        return course.Verdict(False, say("ex2_no_customers"))
    if {k: given.get(k, 0) for k in TYPES} == expected and set(given) <= set(TYPES):
        return course.Verdict(True, say("ex2_right", total=sum(expected.values()), **expected))
    unknown = sorted(set(given) - set(TYPES))
    if unknown:
        return course.Verdict(False, say("ex2_keys", given=", ".join(unknown)))
    for mistake in ("all_versions", "any_sale", "distributor_by_recency"):
        variant = _type_counts(con, as_of, active_days, **{mistake: True})
        if variant != expected and {k: given.get(k, 0) for k in TYPES} == variant:
            return course.Verdict(False, say(f"ex2_{mistake}"))
    wrong = [k for k in TYPES if given.get(k, 0) != expected[k]]
    return course.Verdict(False, say("ex2_wrong", types=", ".join(words.label(k) for k in wrong),
                                     given=", ".join(f"{given.get(k, 0):,}" for k in wrong),
                                     expected=", ".join(f"{expected[k]:,}" for k in wrong)))
