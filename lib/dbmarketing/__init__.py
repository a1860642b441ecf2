"""dbmarketing: a Jupyter workbook for database marketing.

Modules, one per stage of the cycle: ``db`` (the customer database), ``sample`` (a
realistic retailer with planted truth), ``collect`` (load sources), ``clean``, ``customers``,
``rfm``, ``clv``, ``campaigns``, ``privacy`` (clearance and masking), ``publish`` (a
de-identified copy for a lower clearance), ``plots`` (display), ``report`` (papermill runs),
``cli``.
"""

__version__ = "0.1.0"
