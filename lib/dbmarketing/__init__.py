"""dbmarketing: a Jupyter workbook for database marketing.

One package per stage of the cycle (the README's "Layout" is the map): ``warehouse`` (the
customer database: connection, catalog, as-of date, marts, named SQL), ``ingest`` (load
sources), ``cleanse``, ``customers``, ``rfm``, ``clv``, ``campaigns``, ``privacy``
(clearance, masks, safe exports, the analyst copy), ``present`` (charts, tables, the
sentences reports print), ``reports`` (papermill runs), ``sample`` (the synthetic retailer);
``messages`` (one-line errors) and ``cli`` serve them all.
"""

__version__ = "0.1.0"
