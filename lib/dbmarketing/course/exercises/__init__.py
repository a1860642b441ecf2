"""The checks of the exercises, one module per chapter (``ch04.py``: chapter 04's exercises),
each registered with :func:`dbmarketing.course.exercise`. Importing this package imports them all."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
