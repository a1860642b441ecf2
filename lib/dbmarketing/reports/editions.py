"""The editions of the notebooks: English in ``notebooks/``, Chinese in ``notebooks/zh/``.

One implementation, two texts: an edition has the same notebooks, with the same cells in the
same order; its markdown cells (the prose) are its own, its code cells are the English
edition's, word for word, except the default of ``lang`` in the parameters cell, which
names the edition (so an analyst who opens ``notebooks/zh/`` in JupyterLab reads Chinese
without setting anything). Every word the code prints comes from the language's catalog
(:mod:`dbmarketing.present.words`). :func:`differences` says where an edition departs from
that rule (a test runs it); :func:`sync` copies the English code cells into an edition after
a change to the code (``make editions``).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from dbmarketing.present.words import LANGS

from .errors import ReportError
from .parameters import find_notebooks

LANG_LINE = re.compile(r'^lang = "(?P<lang>[a-z]+)"(?P<rest>.*)$', re.MULTILINE)


def edition_dir(notebooks_dir: str | Path, lang: str) -> Path:
    """The folder of the ``lang`` edition of the notebooks in ``notebooks_dir`` (English: itself)."""
    if lang not in LANGS:
        raise ReportError(f"lang {lang!r} is not one of {', '.join(LANGS)}")
    return Path(notebooks_dir) if lang == "en" else Path(notebooks_dir) / lang


def _code(cell, lang: str) -> str:
    """A code cell's source with the parameters cell's ``lang`` default written as ``lang``'s."""
    if "parameters" in cell.get("metadata", {}).get("tags", []):
        return LANG_LINE.sub(lambda m: f'lang = "{lang}"{m["rest"]}', cell.source)
    return cell.source


def differences(english: Path, edition: Path, lang: str) -> list[str]:
    """Where the ``lang`` edition ``edition`` of the notebook ``english`` departs from it: a cell
    of another kind, a cell more or less, a code cell that differs, a parameters cell whose
    ``lang`` default is not ``lang``. Empty when the edition is faithful."""
    a, b = nbformat.read(english, as_version=4), nbformat.read(edition, as_version=4)
    found = []
    if [c.cell_type for c in a.cells] != [c.cell_type for c in b.cells]:
        found.append(f"{edition.name}: its cells are not those of {english}: "
                     f"{''.join(c.cell_type[0] for c in a.cells)} (en) vs {''.join(c.cell_type[0] for c in b.cells)}")
        return found
    for i, (x, y) in enumerate(zip(a.cells, b.cells)):
        if x.cell_type != "code":
            continue
        if _code(x, lang) != y.source:
            found.append(f"{edition.name}: code cell {i} differs from {english.name}'s (make editions copies it)")
        if "parameters" in x.get("metadata", {}).get("tags", []) and not LANG_LINE.search(x.source):
            found.append(f"{english.name}: the parameters cell declares no lang = \"...\" line")
    return found


def sync(notebooks_dir: str | Path = "notebooks", lang: str = "zh") -> list[Path]:
    """Copy the English code cells into the ``lang`` edition (its prose untouched). Refuses, naming
    the notebook, when an edition's cells are not those of the English one (a cell added to one
    only: add it to both). Returns the notebooks rewritten."""
    changed = []
    for english in find_notebooks(notebooks_dir):
        edition = edition_dir(notebooks_dir, lang) / english.name
        if not edition.exists():
            raise ReportError(f"{edition}: the {lang} edition of {english.name} is missing (every chapter comes in "
                              "every edition)")
        a, b = nbformat.read(english, as_version=4), nbformat.read(edition, as_version=4)
        if [c.cell_type for c in a.cells] != [c.cell_type for c in b.cells]:
            raise ReportError(differences(english, edition, lang)[0])
        before = [c.source for c in b.cells]
        for x, y in zip(a.cells, b.cells):
            if x.cell_type == "code":
                y.source = _code(x, lang)
                y.metadata = x.metadata
        if [c.source for c in b.cells] != before:
            nbformat.write(b, edition)
            changed.append(edition)
    return changed
