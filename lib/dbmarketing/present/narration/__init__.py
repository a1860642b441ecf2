"""The sentences the reports print, one module per chapter (``cleaning``, ``rfm``, ...): each
function takes the figures a notebook computed and returns Markdown, so the wording is tested
library code and a second language can be added beside it (issue 13)."""

from . import campaigns, cleaning, collection, customers, rfm

__all__ = ["campaigns", "cleaning", "collection", "customers", "rfm"]
