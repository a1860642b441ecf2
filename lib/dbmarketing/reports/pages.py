"""A notebook's HTML pages: written without code for business readers or with it for
analysts (:func:`export_html`), and the noise a reader would see in one listed
(:func:`check_report_html`; tests use it)."""

from __future__ import annotations

import copy
import functools
import logging
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbconvert.exporters.html import WidgetsDataTypeFilter
from nbconvert.filters import Highlight2HTML, clean_html

from .executed import WIDGET_VIEW

# nbconvert warns on every chart that has no alternative text; keep the console quiet.
_NBCONVERT_LOG = logging.getLogger("dbmarketing.reports.nbconvert")
_NBCONVERT_LOG.setLevel(logging.ERROR)


def export_html(nb, path: str | Path, with_code: bool, title: str | None = None, lang: str = "en") -> Path:
    """Write a notebook as a standalone HTML page, with or without its code, declared in the
    edition's language (``lang``: browsers pick fonts and hyphenation by it)."""
    resources = {"metadata": {"name": title or Path(path).stem}}
    with _EXPORTING:  # an exporter keeps state while it renders: one page at a time
        body, _ = _exporter(with_code).from_notebook_node(_without_headlines(nb), resources=resources)
    if lang != "en":
        body = re.sub(r'<html lang="en"', f'<html lang="{"zh-CN" if lang == "zh" else lang}"', body, count=1)
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path


# Pages are written in a background thread of the report runner.
_EXPORTING = threading.Lock()


class _PageExporter(HTMLExporter):
    """nbconvert's HTML exporter, quicker where a run's pages repeat themselves. Its own last step
    parses the whole page with BeautifulSoup to give every image without alternative text a
    placeholder and the cell wrappers a ``tabindex`` (61 % of a page's time, 0.19 s a page); the
    same attributes are set here on the template's text, whose tags it writes itself. The code
    cells' highlighting and the markdown's HTML are remembered by their text: a run's notebooks
    show the same cells and sentences again in every run of the process."""

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node (nbconvert 7) up to its BeautifulSoup pass
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = super(HTMLExporter, self).from_notebook_node(nb, resources, **kw)
        html = _FOCUSABLE.sub(r'\1 tabindex="0">', html)
        return _NO_ALT.sub('<img alt="No description has been provided for this image"', html), resources


# the cell wrappers and output areas nbconvert's lab template writes (its exporter makes them focusable)
_FOCUSABLE = re.compile(r'(<div class="jp-Cell-inputWrapper"|<div (?:id="[^"]*" )?class="[^"]*\bjp-OutputArea-output\b[^"]*"'
                        r'(?: data-mime-type="[^"]*")?)>')
_NO_ALT = re.compile(r"<img(?![^>]*\balt=)")


@functools.cache
def _exporter(with_code: bool) -> HTMLExporter:
    """The exporter of one kind of page, made once per process: a new one compiles nbconvert's
    templates again (0.24 s a page)."""
    if with_code:
        exporter = _PageExporter(log=_NBCONVERT_LOG)
    else:
        exporter = _PageExporter(log=_NBCONVERT_LOG, exclude_input=True, exclude_input_prompt=True,
                                 exclude_output_prompt=True)
    exporter.register_filter("clean_html", _clean_html)
    exporter.register_filter("highlight_code", _highlight_code)
    exporter.register_filter("markdown2html", pass_context(functools.partial(_markdown2html, exporter)))
    return exporter


@functools.lru_cache(maxsize=2048)
def _clean_html(html: str) -> str:
    """nbconvert's sanitizing of a highlighted code cell (bleach, 0.04 s each), remembered: the
    report runs of one process show the same code cells again and again."""
    return clean_html(html)


_HIGHLIGHT = Highlight2HTML(pygments_lexer="ipython3")


def _highlight_code(source: str, language: str | None = None, metadata=None) -> str:
    """nbconvert's highlighting of a code cell, remembered by its text (a cell of another language,
    by a magic, is highlighted as it comes)."""
    if metadata and "magics_language" in metadata:
        return _HIGHLIGHT(source, language, metadata)
    return _highlighted(source, language)


@functools.lru_cache(maxsize=4096)
def _highlighted(source: str, language: str | None) -> str:
    return _HIGHLIGHT(source, language)


def _markdown2html(exporter: HTMLExporter, context, source: str) -> str:
    """nbconvert's markdown filter (HTMLExporter.markdown2html), remembered by the text and the
    page's folder: a cell with attachments of its own is rendered as it comes."""
    if context.get("cell", {}).get("attachments"):
        return exporter.markdown2html(context, source)
    key = (id(exporter), source, context.get("resources", {}).get("metadata", {}).get("path", ""))
    if key not in _MARKDOWN:
        if len(_MARKDOWN) >= 8192:
            _MARKDOWN.clear()
        _MARKDOWN[key] = exporter.markdown2html(context, source)
    return _MARKDOWN[key]


_MARKDOWN: dict[tuple, str] = {}


def _without_headlines(nb):
    """A copy of ``nb`` without the outputs that only record a headline figure for the index
    (no page shows them, and nbconvert would warn about each)."""
    from dbmarketing.present.headlines import MIME

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [out for out in cell.get("outputs", []) if set(out.get("data") or {}) != {MIME}]
    return nb


class _ReportHTMLScanner(HTMLParser):
    """Collects the visible text of an nbconvert page, leaving out code and page furniture."""

    SKIP_CLASSES = ("jp-InputArea-editor", "input_area")  # code input (lab, classic)
    STDERR_CLASSES = ("output_stderr", "output_error")  # classic template

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.widget_views = 0
        self.stderr_areas = 0
        self.skip_tag = None
        self.skip_depth = 0
        self.in_script_or_style = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "script" and attrs.get("type") == WIDGET_VIEW:
            self.widget_views += 1
        if tag in ("script", "style"):
            self.in_script_or_style += 1
            return
        if attrs.get("data-mime-type") == "application/vnd.jupyter.stderr" or any(
            c in self.STDERR_CLASSES for c in classes
        ):
            self.stderr_areas += 1
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth += 1
        elif any(c in self.SKIP_CLASSES for c in classes):
            self.skip_tag, self.skip_depth = tag, 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.in_script_or_style = max(0, self.in_script_or_style - 1)
            return
        if self.skip_tag is not None and tag == self.skip_tag:
            self.skip_depth -= 1
            if self.skip_depth == 0:
                self.skip_tag = None

    def handle_data(self, data):
        if self.skip_tag is None and not self.in_script_or_style:
            self.text.append(data)


def check_report_html(path: str | Path) -> list[str]:
    """Problems a reader would see in a report page; an empty list means a clean page.

    Looks, outside the code cells, for a "Traceback", Python warnings ("UserWarning",
    "FutureWarning", "DeprecationWarning", "RuntimeWarning", ...), "Loading widget" and widget
    views (which show "Loading widget..." in a browser), and error or stderr output areas.
    """
    scanner = _ReportHTMLScanner()
    scanner.feed(Path(path).read_text(encoding="utf-8"))
    scanner.close()
    text = "".join(scanner.text)
    problems = []

    def context(match):
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        return text[start:end if end >= 0 else len(text)].strip()[:160]

    for label, pattern in [
        ("Traceback", r"Traceback"),
        ("Warning", r"\b[A-Z]\w*Warning\b"),
        ("Loading widget", r"Loading widget"),
    ]:
        match = re.search(pattern, text)
        if match:
            problems.append(f"{label}: {context(match)!r}")
    if scanner.widget_views:
        problems.append(f"Loading widget: {scanner.widget_views} widget view(s) that need live widget code")
    if scanner.stderr_areas:
        problems.append(f"Error: {scanner.stderr_areas} error or stderr output area(s)")
    return problems
