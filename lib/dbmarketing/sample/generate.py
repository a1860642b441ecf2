"""Sample data: a retailer's raw exports with a known, planted ground truth.

:func:`generate` writes the files a Chinese (or, with ``locale="en_US"``, an American)
retailer would hand over -- CRM and POS member lists, a distributor workbook, products,
orders and order lines, campaigns and contacts, service tickets and a bought city table --
each in its own layout, encoding and column names, as a user's own exports would look.
It can also write what was planted into the ``truth`` schema of the customer database so
that tests and evaluations can compare what the workbook finds with what is really there.
Notebooks never read ``truth``.

The model behind the data, in plain sentences:

1. People are consumers or distributors (businesses, about 1.5%). A consumer has one
   record in the CRM member master or in the legacy store POS member list; about 3% of the
   people were entered a second time (a duplicate record, in the same system or the
   other one) with typos, other formats and legacy 15-digit ID numbers. Once the second
   record exists, each purchase is booked under either record with equal chance.
2. Sign-ups are spread over the history, growing towards the end (the newest months get
   about twice the sign-ups of the first ones). Some members never buy (prospects,
   about 15%: many online registrations, few store sign-ups).
3. While a customer is "alive", purchases follow a Poisson process with rate lambda_i per
   week; lambda_i ~ Gamma(r, alpha) across customers. After every repeat purchase the
   customer drops out for good with probability p_i ~ Beta(a, b); lambda_i and p_i are
   independent. This is the BG/NBD model of Fader, Hardie and Lee (2005). The process
   starts with the first purchase (time zero in the paper) and nobody drops out before
   the first repeat purchase.
4. The purchase rate is modulated by a seasonal factor s(day) with mean 1 over the history
   (Double-11 and November-December, the weeks before the Spring Festival, 618; for
   en_US Black Friday and December). Purchases are drawn by thinning (Lewis and Shedler
   1979), so lambda_i is the customer's average weekly rate.
5. The value of each order is z ~ Gamma(p, nu_i) with nu_i ~ Gamma(q, gamma) across
   customers, independent of the purchase process: the gamma-gamma spend model (Colombo
   and Jiang 1999; Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value curves",
   JMR 42(4)). A customer's mean order value is p / nu_i. Orders are then filled with
   products near that value; whole units make the realised total close to, not exactly,
   z (a few percent above on average for consumers; both are in ``truth.purchases``).
6. Distributors follow the same model with their own parameters: more frequent,
   wholesale-size orders at a wholesale discount, and rarely drop out.
7. After a purchase the customer complains with a small probability. A complaint
   multiplies the dropout probability at that purchase and at every later one by a
   planted factor (capped at 0.95).
8. Returns (about 5% of sales, full or partial, within a month) and cancelled orders
   (about 2% extra orders that were placed and cancelled) do not change the purchase
   process; the analysis has to net and drop them.
9. Campaigns select existing customers with a consent for the channel (mostly: a few
   without one slipped through) favouring recent buyers, and hold out a random control
   group of 10-20%. Each selected customer has a background probability p_bg of buying in
   the response window from the purchase process (0 if she has already dropped out) and,
   if contacted, an extra campaign-induced purchase with probability q_i that depends on
   age, city tier, recency, frequency and channel; it does not change the purchase
   process (a dropped-out customer can be won back for that one purchase). A few customers (most of those who
   complained, and a few others) are "sleeping dogs" (Radcliffe and Surry 2011): contact
   makes them skip their background purchases in the window with probability k, and
   they get no extra purchase. So p_without_contact = p_bg, p_with_contact =
   1 - (1 - p_bg)(1 - q_i), or p_bg (1 - k) for a sleeping dog. A response is any
   completed purchase by the person in the window, as the matchback measures it.
10. A rented third-party prospect list (about 0.4 rows per person; 10% of them people already
    in the database, 2% numbers of the do-not-call registry) and a past acquisition mailing to
    it (ACQ01, 80% test / 20% control, 60-day window) with a planted propensity on city tier,
    age band, gender, channel and income band (:mod:`.prospects`; truth.prospect_propensity).
    No customer or order is created for its responders.
11. Data defects are planted at recorded rates and every one is listed in
    ``truth.defects`` with its file, key and line number.

Resident ID numbers follow GB 11643-1999: a 6-digit region code (of the person's city),
the birth date YYYYMMDD, a 3-digit sequence number (odd for men, even for women) and an
ISO 7064 MOD 11-2 check digit. The legacy 15-digit number is the 18-digit one without the
century of the birth year and without the check digit.

Everything is drawn from one numpy ``Generator`` seeded with ``seed`` (Faker is seeded
with it too and only used once to build name and street pools), so the same parameters
give byte-identical files.

References: P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "Counting your customers" the
easy way: an alternative to the Pareto/NBD model, Marketing Science 24(2) 275-284.
P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), RFM and CLV: using iso-value curves for
customer base analysis, Journal of Marketing Research 42(4) 415-430. R. Colombo,
W. Jiang (1999), A stochastic RFM model, Journal of Interactive Marketing 13(3) 2-12.
P. A. W. Lewis, G. S. Shedler (1979), Simulation of nonhomogeneous Poisson processes by
thinning, Naval Research Logistics Quarterly 26(3) 403-413. N. J. Radcliffe, P. D. Surry (2011), Real-world uplift modelling with significance-based
uplift trees, Stochastic Solutions white paper. GB 11643-1999 Citizen identification
number; ISO 7064:1983 MOD 11-2.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from . import behaviour, campaigns, defects, events, prospects, records, truth, world, writers
from ._common import check_locale
from .state import Run


@dataclass
class SampleSummary:
    """What :func:`generate` wrote and the rates it actually planted."""

    out_dir: str
    db_path: str | None
    locale: str
    seed: int
    start_date: date
    end_date: date
    files: dict[str, int] = field(default_factory=dict)  # file name -> data rows written
    persons: int = 0
    distributors: int = 0
    customer_records: int = 0
    orders: int = 0
    order_lines: int = 0
    campaigns: int = 0
    contacts: int = 0
    service_tickets: int = 0
    rates: dict[str, float] = field(default_factory=dict)  # planted rates, as measured
    top20_revenue_share: float = 0.0
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f"Sample data ({self.locale}, seed {self.seed}, {self.start_date} .. {self.end_date}) "
                 f"in {self.out_dir} ({self.seconds:.1f} s)"]
        for name, rows in self.files.items():
            lines.append(f"  {name:<28} {rows:>9,} rows")
        lines.append(f"  {self.persons:,} people ({self.distributors:,} distributors) in "
                     f"{self.customer_records:,} customer records; {self.orders:,} orders, "
                     f"{self.order_lines:,} lines; {self.campaigns} campaigns, {self.contacts:,} contacts; "
                     f"{self.service_tickets:,} tickets")
        lines.append(f"  top 20% of buyers bring {self.top20_revenue_share:.0%} of net revenue")
        lines.append("  planted: " + ", ".join(f"{k} {v:.2%}" for k, v in self.rates.items()
                                                if k.endswith("_share") or k.endswith("_rate")))
        if self.db_path:
            lines.append(f"  ground truth in schema truth of {self.db_path}")
        return "\n".join(lines)


def generate(out_dir, db_path=None, n_customers: int = 20_000, years: int = 3, seed: int = 42,
             locale: str = "zh_CN", end_date: str | date = "2026-10-31") -> SampleSummary:
    """Write a retailer's raw exports into ``out_dir`` and, optionally, the planted truth.

    Parameters
    ----------
    out_dir : folder for the source files (created if needed); see ``FILES``. A
        ``sources.yaml`` (the column map for these files, base_dir = ``out_dir``) is written too.
    db_path : DuckDB file; if given, schema ``truth`` is dropped and recreated there. Raw and
        main tables are left alone (loading the files is :mod:`dbmarketing.ingest`'s job).
    n_customers : number of people (consumers and distributors); everything scales with it.
    years : length of the order history in years, ending at ``end_date``.
    seed : the random seed; the same arguments give byte-identical files.
    locale : "zh_CN" (Chinese retailer) or "en_US" (American retailer, no resident IDs).
    end_date : last day of the history (the day of the latest exports).

    Returns
    -------
    SampleSummary with the files written, counts and the planted rates as measured.
    """
    check_locale(locale)
    if n_customers < 100:
        raise ValueError("n_customers must be at least 100")
    if years < 1:
        raise ValueError("years must be at least 1")
    t0 = time.perf_counter()
    run = simulated_run(n_customers, years, seed, locale, end_date)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writers.write_files(run, out)
    if db_path is not None:
        writers.write_truth(run, db_path)
    summary = _summary(run, out, db_path)
    summary.seconds = time.perf_counter() - t0
    return summary


def _build(run: Run, through=None) -> None:
    """The steps in the order they draw from the random generator (the order fixes the data);
    ``through``: the last step to take (a function of the list), for checks of a planted effect
    that need the simulation only up to it."""
    steps = [
        world.cities_and_products, world.persons, records.records, behaviour.seasonality, behaviour.simulate,
        behaviour.assign_records_to_events, campaigns.campaign_history,
        campaigns.pilot_campaign,  # from a generator of its own: the campaigns above are drawn as before
        events.trigger_history,  # a generator of its own too; after the pilot, whose purchases it sees
        behaviour.orders, behaviour.tickets, defects.order_defects, records.crm_update, campaigns.suppressions,
        campaigns.email_test,
        prospects.prospect_list,  # a generator of its own: everything above draws what it drew before
    ]
    for step in steps:
        step(run)
        if step is through:
            return


def simulated_run(n_customers: int = 20_000, years: int = 3, seed: int = 42, locale: str = "zh_CN",
                  end_date: str | date = "2026-10-31", through=None) -> Run:
    """The simulation of :func:`generate` in memory, up to the step ``through`` (all steps when
    None), no file written: what the sample planted, before orders and exports hide it."""
    run = Run(int(n_customers), int(years), int(seed), locale, end_date)
    _build(run, through)
    return run


def _summary(run: Run, out: Path, db_path) -> SampleSummary:
    rates = truth.measured_rates(run)
    P = run.P
    real = run.O[~run.O.junk]
    return SampleSummary(
        out_dir=str(out), db_path=None if db_path is None else str(db_path), locale=run.locale,
        seed=run.seed, start_date=run.start_date, end_date=run.end_date, files=dict(run.files),
        persons=run.n, distributors=int((P.customer_type == "distributor").sum()),
        customer_records=len(run.R), orders=len(real), order_lines=int((~run.L.junk).sum()),
        campaigns=len(run.campaigns), contacts=len(run.responses), service_tickets=len(run.T),
        rates=rates, top20_revenue_share=rates["top20_revenue_share"],
    )
