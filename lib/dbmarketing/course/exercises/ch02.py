"""Chapter 02 (data cleaning): the checks of its exercises.

02.1 -- how many customer records the de-duplication merged away (records in minus golden records out);
02.2 -- the completeness of the e-mail column of the clean customers (one score of the scorecard).

Each check works the right answer out itself in SQL on the tables the cleaning wrote
(``main.customers`` with its ``records`` count, ``main.customer_map``, ``main.quality_scores``),
and names the typical mistake when it recognises one.
"""

from __future__ import annotations

import math

from dbmarketing import course
from dbmarketing.present import words

say = words.of("course_02")


def _cleaned(con) -> bool:
    return bool(con.execute("""SELECT count(*) FROM information_schema.tables
                               WHERE table_schema = 'main' AND table_name IN ('customers', 'customer_map')""").fetchone()[0]
                == 2) and bool(con.execute("SELECT count(*) FROM main.customers").fetchone()[0])


def _whole(value) -> int:
    if isinstance(value, bool):
        raise TypeError("a count is a number, not yes/no")
    number = float(value)
    if math.isnan(number) or number != int(number):
        raise ValueError(f"{value} is not a whole number of records")
    return int(number)


@course.exercise("02.1")
def records_merged(answer, con=None, **_) -> course.Verdict:
    """``answer``: the number of customer records merged into another one (records in - golden records out)."""
    if not _cleaned(con):
        return course.Verdict(False, say("ex1_not_cleaned"))
    given = _whole(answer)
    # golden records and the source records each holds (main.customers.records), not the map the model answer reads
    golden, records, merged_customers, in_merged = con.execute(
        """SELECT count(*), sum(records), count(*) FILTER (WHERE records > 1),
                  coalesce(sum(records) FILTER (WHERE records > 1), 0) FROM main.customers""").fetchone()
    records, expected = int(records), int(records) - int(golden)
    if given == expected:
        return course.Verdict(True, say("ex1_right", records=records, golden=golden, merged=expected,
                                        customers=merged_customers))
    versions = con.execute("""SELECT count(*) FROM raw.customers""").fetchone()[0]
    if given == in_merged:
        why = say("ex1_all_in_merged", given=given, expected=expected, customers=merged_customers)
    elif given == merged_customers:
        why = say("ex1_customers", given=given, expected=expected)
    elif given == records or given == golden:
        why = say("ex1_not_difference", given=given, records=records, golden=golden)
    elif versions > records and given == versions - golden:
        why = say("ex1_versions", given=given, versions=versions, records=records, expected=expected)
    else:
        why = say("ex1_wrong", given=given, expected=expected)
    return course.Verdict(False, why)


def _share(value) -> float:
    if isinstance(value, bool):
        raise TypeError("a score is a number, not yes/no")
    number = float(value)
    if math.isnan(number):
        raise ValueError("the score is not a number (NaN)")
    return number


@course.exercise("02.2")
def email_completeness(answer, con=None, column: str = "email", **_) -> course.Verdict:
    """``answer``: the completeness of ``main.customers.<column>`` after cleaning, a share 0-1."""
    if not _cleaned(con):
        return course.Verdict(False, say("ex2_not_cleaned"))
    given = _share(answer)
    filled, total = con.execute(f"""SELECT sum(CASE WHEN "{column}" IS NULL THEN 0 ELSE 1 END), count(*)
                                    FROM main.customers""").fetchone()
    expected = filled / total
    if math.isclose(given, expected, abs_tol=1e-4):
        return course.Verdict(True, say("ex2_right", column=column, expected=expected, filled=int(filled), total=total))
    before = con.execute("""SELECT score FROM main.quality_scores WHERE run_id = (SELECT max(run_id) FROM main.quality_scores)
                            AND stage = 'before' AND table_name = 'customers' AND column_name = ?
                            AND dimension = 'completeness'""", [column]).fetchone()
    if math.isclose(given, 100 * expected, abs_tol=1e-2):
        why = say("ex2_percent", given=given, expected=expected)
    elif math.isclose(given, 1 - expected, abs_tol=1e-4):
        why = say("ex2_missing", given=given, expected=expected)
    elif before is not None and not math.isclose(before[0], expected, abs_tol=1e-4) and math.isclose(given, before[0],
                                                                                                     abs_tol=1e-3):
        why = say("ex2_before", given=given, expected=expected, column=column)
    else:
        why = say("ex2_wrong", given=given, expected=expected, column=column, filled=int(filled), total=total)
    return course.Verdict(False, why)
