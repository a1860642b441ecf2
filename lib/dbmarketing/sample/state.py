"""The state of one generation run."""

from __future__ import annotations

import numpy as np

from ._common import end_dates
from .parameters import CURRENCY_SCALE


class Run:
    """The settings, the random state and the tables of one generation run.

    Each step of :func:`~dbmarketing.sample.generate.generate` reads the tables of the steps
    before it and adds its own: ``cities`` and ``products`` (world), ``P`` the persons
    (world), ``R`` the customer records (records, defects), ``season`` (behaviour), ``E`` the
    purchase events (behaviour, campaigns), ``campaigns`` and ``responses`` (campaigns),
    ``O`` and ``L`` orders and lines (behaviour, defects), ``T`` tickets, the CRM delta,
    ``S`` the do-not-contact list, the e-mail test, then what the writers and the truth add.
    Everything random is drawn from ``rng``, in the order the steps run.
    """

    def __init__(self, n: int, years: int, seed: int, locale: str, end_date):
        from faker import Faker

        self.n, self.years, self.seed, self.locale = n, years, seed, locale
        self.zh = locale == "zh_CN"
        self.rng = np.random.default_rng(seed)
        self.fake = Faker(locale)
        self.fake.seed_instance(seed)
        start, end, export = end_dates(end_date, years)
        self.start_date, self.end_date, self.export_date = start, end, export
        self.start = np.datetime64(start, "D")
        self.D = int((np.datetime64(end, "D") - self.start).astype(int)) + 1  # days in history
        self.export_day = int((np.datetime64(export, "D") - self.start).astype(int))
        self.scale = CURRENCY_SCALE[locale]
        self.truth: dict | None = None  # the truth tables, once built
        self.rates: dict[str, float] | None = None  # the measured rates, once measured

    def day_to_date(self, day) -> np.ndarray:
        return self.start + np.asarray(day, dtype="int64").astype("timedelta64[D]")
