"""dbmarketing: a Jupyter workbook for database marketing.

Modules, one per stage of the cycle: ``db`` (the customer database), ``sample`` (a
realistic retailer with planted truth), ``collect`` (load sources), ``clean``, ``customers``,
<<<<<<< HEAD
``rfm``, ``clv``, ``campaigns``, ``privacy`` (clearance and masking), ``plots`` (display),
``report`` (papermill runs), ``cli``; ``messages`` (one-line errors: long lists cut with a
count, YAML read with file, line and column) serves them all.
=======
``rfm``, ``clv``, ``campaigns``, ``privacy`` (clearance and masking), ``publish`` (a
de-identified copy for a lower clearance), ``plots`` (display), ``report`` (papermill runs),
``cli``.
>>>>>>> publish
"""

__version__ = "0.1.0"
