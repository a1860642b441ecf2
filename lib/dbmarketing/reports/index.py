"""The run's ``index.html``: an executive summary in the run's language (``lang``).

What a manager came for, first: the as-of date and the period of the data; the headline
figures the chapters recorded (:func:`dbmarketing.present.headline`) with their change since
the previous successful run of the same parameters file (the runs' manifests are the
history, :func:`previous_run`), each linked to the section that explains it; what to open
first; the lists the run exported with their row counts and the clearance they were written
at; the sections skipped for lack of data, with what they need (Python warnings stay in the
manifest: they are for the analyst). Then the chapters with their
pages, and the parameters and database for the analyst. Every word comes from the catalog
(``words/<lang>/index.yaml``).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import json
import re
from pathlib import Path

from dbmarketing.present import words
from dbmarketing.present.headlines import KEYS, change, written
from dbmarketing.privacy import SCHEDULED_CLEARANCE

HEADING = re.compile(r'<h[1-6] id="(?P<id>[^"]*)"[^>]*>(?P<text>.*?)(?:<a class="anchor-link"|</h[1-6]>)', re.S)
TAG = re.compile(r"<[^>]+>")


def section_anchor(page: str, section: str) -> str | None:
    """The id of the heading whose text is ``section`` in an HTML page written by nbconvert."""
    want = " ".join(section.split())
    for m in HEADING.finditer(page):
        if " ".join(html.unescape(TAG.sub("", m["text"])).split()) == want:
            return m["id"]
    return None


def export_rows(path: Path) -> int | None:
    """The number of records of an exported list (CSV or Excel), header row not counted."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8-sig") as f:
            return max(sum(1 for _ in csv.reader(f)) - 1, 0)
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            return max(sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1, 0)
        finally:
            book.close()
    return None


def previous_run(reports_dir: str | Path, params_file: str | Path, manifest: dict) -> dict | None:
    """The manifest of the newest successful run under ``reports_dir`` made from the same
    parameters file (any run name), finished before ``manifest``'s run started; None if none."""
    same = str(Path(params_file).resolve())
    found = []
    for path in Path(reports_dir).glob("*/manifest.json"):
        if path.parent.name.endswith(".failed"):
            continue
        try:
            other = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (other.get("status") == "ok" and other.get("params_path") == same
                and (other.get("finished") or "") < manifest["started"]):
            found.append(other)
    return max(found, key=lambda m: m["finished"], default=None)


def _figures(manifest: dict) -> list[dict]:
    """The run's headline figures in :data:`KEYS` order, each with its notebook's page."""
    found = {}
    for entry in manifest["notebooks"]:
        for figure in entry.get("headlines") or []:
            title = entry.get("title") or entry["name"]
            found[figure["key"]] = {**figure, "page": entry.get("html"), "notebook": re.split(r"[:：]", title)[0].strip()}
    return [found[key] for key in KEYS if key in found]


def _local(stamp: str | None) -> str:
    if not stamp:
        return ""
    return dt.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")


def _clearance_of(manifest: dict):
    """The clearance the run's notebooks were given (the scheduled one unless the file set it)."""
    given = {e["parameters"].get("clearance") for e in manifest["notebooks"] if "clearance" in e.get("parameters", {})}
    return ", ".join(str(c) for c in sorted(given)) or SCHEDULED_CLEARANCE


def open_first(figures: dict[str, dict], before: dict[str, float]) -> tuple[str, dict] | None:
    """What to open first: (the catalog's reason key, the figure it points at), by the rule:
    more customers at risk than last run; fewer active buyers; a campaign that lost money;
    else the list of customers at risk; else nothing (the chapters in order)."""
    def rose(key):
        return key in figures and key in before and figures[key]["value"] > before[key]

    def fell(key):
        return key in figures and key in before and figures[key]["value"] < before[key]

    if rose("at_risk_customers"):
        return "first_at_risk_rose", figures["at_risk_customers"]
    if fell("active_buyers"):
        return "first_active_fell", figures["active_buyers"]
    if "campaign_incremental_profit" in figures and figures["campaign_incremental_profit"]["value"] < 0:
        return "first_campaign_loss", figures["campaign_incremental_profit"]
    if "at_risk_customers" in figures:
        return "first_at_risk", figures["at_risk_customers"]
    return None


def _link(figure: dict) -> str:
    page = figure.get("page") or ""
    return html.escape(page + (f"#{figure['anchor']}" if figure.get("anchor") else ""))



def _code(text: str) -> str:
    """`names` of a reason (tables, columns, values) as code, as the chapter's page shows them."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)

def write_index(path: str | Path, manifest: dict, previous: dict | None = None) -> Path:
    """Write ``index.html`` for ``manifest`` in its language, comparing with ``previous`` (a manifest)."""
    before = words.lang()
    words.set_lang(manifest.get("lang") or "en")
    try:
        return _write_index(path, manifest, previous)
    finally:
        words.set_lang(before)  # the caller's language (a process may write both editions)


def _write_index(path: str | Path, manifest: dict, previous: dict | None) -> Path:
    t, esc = words.text, html.escape
    figures = _figures(manifest)
    before = {f["key"]: f["value"] for f in _figures(previous)} if previous else {}
    since = t("index.since", run=esc(previous["run_name"]), date=esc(previous.get("as_of") or _local(previous["finished"]))) \
        if previous else ""

    cards = []
    for f in figures:
        if f["key"] in before:
            delta = change(f["value"], before[f["key"]], f["kind"])
            moved = f'<div class="change">{esc(delta)} {since}</div>'
        else:
            moved = f'<div class="change">{t("index.no_previous") if not previous else t("index.new_figure")}</div>'
        note = f'<div class="note">{esc(f["note"])}</div>' if f.get("note") else ""
        cards.append(f'<div class="card"><div class="label">{esc(t("index.figure_" + f["key"]))}</div>'
                     f'<div class="figure" data-key="{esc(f["key"])}">{esc(f["text"])}</div>{moved}{note}'
                     f'<div class="where"><a href="{_link(f)}">{esc(f["notebook"])} &rsaquo; {esc(f["section"])}</a>'
                     f'</div></div>')
    headline_part = (f'<div class="cards">{"".join(cards)}</div>' if cards
                     else f'<p>{t("index.no_figures")}</p>')

    first = open_first({f["key"]: f for f in figures}, before)
    if first:
        key, f = first
        first_part = (f'<p class="first">{t("index." + key, figure=esc(f["text"]))} '
                      f'<a href="{_link(f)}">{esc(f["notebook"])} &rsaquo; {esc(f["section"])}</a></p>')
    else:
        ok = [e for e in manifest["notebooks"] if e.get("status") == "ok"]
        first_part = (f'<p class="first">{t("index.first_chapters")} <a href="{esc(ok[0]["html"])}">'
                      f'{esc(ok[0]["title"] or ok[0]["name"])}</a></p>') if ok else ""

    rows = manifest.get("export_rows") or {}
    about = manifest.get("export_about") or {}
    lists = {}
    for name in manifest.get("exports") or []:
        lists.setdefault(Path(name).with_suffix("").as_posix(), []).append(name)
    list_rows = []
    for stem, names in lists.items():
        count = next((rows[n] for n in names if rows.get(n) is not None), None)
        level = re.search(r"clearance(\d)", stem)
        links = " &middot; ".join(f'<a href="{esc(n)}">{esc(Path(n).suffix.lstrip(".").upper())}</a>' for n in names)
        what = next((about[n] for n in names if about.get(n)), "")
        list_rows.append(f'<tr><td class="text">{esc(what)}</td><td class="text">{esc(Path(stem).name)}</td><td class="num">'
                         f'{"" if count is None else f"{count:,}"}</td><td class="num">'
                         f'{esc(level.group(1) if level else str(_clearance_of(manifest)))}</td><td>{links}</td></tr>')
    lists_part = (f'<p class="meta">{t("index.lists_note", clearance=esc(str(_clearance_of(manifest))))}</p>'
                  f'<table><tr><th>{t("index.list_about")}</th><th>{t("index.list")}</th><th class="num">{t("index.rows")}</th>'
                  f'<th class="num">{t("index.clearance")}</th><th>{t("index.files")}</th></tr>{"".join(list_rows)}</table>'
                  if list_rows else f'<p>{t("index.no_lists")}</p>')

    skipped = [(e, s) for e in manifest["notebooks"] for s in e.get("skipped") or []]
    notes = [f'<li><b>{esc(e.get("title") or e["name"])} &rsaquo; {esc(s["section"])}</b>: {_code(esc(s["reason"]))}</li>'
             for e, s in skipped]
    notes += [f'<li>{esc(e["name"])}: {t("index.not_run")} ({esc(e["reason"])})</li>'
              for e in manifest.get("notebooks_left_out") or []]
    notes_part = f'<ul class="notes">{"".join(notes)}</ul>' if notes else f'<p>{t("index.no_notes")}</p>'

    chapter_rows = []
    for i, entry in enumerate(manifest["notebooks"], 1):
        links = (f'<a href="{esc(entry["html"])}">{t("index.report")}</a> &middot; '
                 f'<a href="{esc(entry["code_html"])}">{t("index.with_code")}</a>') if entry.get("status") == "ok" else ""
        seconds = entry.get("seconds")
        chapter_rows.append(f'<tr><td class="num">{i}</td><td>{esc(entry.get("title") or entry["name"])}</td>'
                            f'<td>{links}</td><td class="num">{"" if seconds is None else f"{seconds:,.1f}"}</td>'
                            f'<td>{t("index.status_" + entry.get("status", "not run").replace(" ", "_"))}</td></tr>')

    params = manifest.get("parameters") or {}
    param_rows = "".join(f"<tr><td><code>{esc(name)}</code></td><td><code>"
                         f"{esc(value if isinstance(value, str) else json.dumps(value, default=str))}</code></td></tr>"
                         for name, value in params.items()) or f'<tr><td colspan="2">{t("index.defaults")}</td></tr>'
    database = manifest.get("database") or {}
    db_line = (f'<p>{t("index.database")} <code>{esc(str(database.get("path")))}</code>'
               + (f' &middot; {t("index.fingerprint")} <code>{esc(database["fingerprint"])}</code>'
                  if database.get("fingerprint") else "") + "</p>") if database else ""

    period = manifest.get("period")
    as_of = manifest.get("as_of") or ""
    meta = [t("index.as_of", date=esc(as_of))] if as_of else []
    if period:
        meta.append(t("index.period", first=esc(period[0]), last=esc(period[1])))
    meta.append(t("index.clearance_meta", clearance=esc(str(_clearance_of(manifest)))))
    meta.append(t("index.finished", time=esc(_local(manifest.get("finished")))))
    body = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if words.lang() == 'zh' else 'en'}">
<head>
<meta charset="utf-8">
<title>{esc(t("index.title", run=manifest["run_name"]))}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       max-width: 68em; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.5; }}
h1 {{ font-size: 1.7em; margin-bottom: 0.2em; }}
h2 {{ font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }}
.meta {{ color: #555; margin-top: 0; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(15em, 1fr)); gap: 0.8em; }}
.card {{ border: 1px solid #dde3ea; border-radius: 6px; padding: 0.7em 0.9em; background: #fafcfe; }}
.card .label {{ color: #444; font-size: 0.92em; }}
.card .figure {{ font-size: 1.8em; font-weight: 600; font-variant-numeric: tabular-nums; margin: 0.1em 0; }}
.card .change, .card .note {{ color: #666; font-size: 0.85em; }}
.card .where {{ font-size: 0.85em; margin-top: 0.4em; }}
p.first {{ font-size: 1.05em; background: #fff8e6; border-left: 4px solid #e0a800; padding: 0.6em 0.9em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }}
th {{ background: #f6f6f6; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
a {{ color: #0b5cad; }}
ul.notes li {{ margin-bottom: 0.3em; }}
details {{ margin-top: 1.8em; color: #444; }}
</style>
</head>
<body>
<h1>{esc(t("index.title", run=manifest["run_name"]))}</h1>
<p class="meta">{" &middot; ".join(meta)}</p>
<h2>{t("index.figures")}</h2>
{headline_part}
<h2>{t("index.open_first")}</h2>
{first_part}
<h2>{t("index.lists")}</h2>
{lists_part}
<h2>{t("index.notes")}</h2>
{notes_part}
<h2>{t("index.chapters")}</h2>
<table>
<tr><th class="num">#</th><th>{t("index.chapter")}</th><th>{t("index.read")}</th><th class="num">{t("index.seconds")}</th><th>{t("index.status")}</th></tr>
{"".join(chapter_rows)}
</table>
<details><summary>{t("index.details")}</summary>
<p>{t("index.params_file")} <code>{esc(str(manifest["params_file"]))}</code> &middot; {t("index.started")} {esc(_local(manifest["started"]))}</p>
<table>
<tr><th>{t("index.parameter")}</th><th>{t("index.value")}</th></tr>
{param_rows}
</table>
{db_line}
<p><a href="manifest.json">manifest.json</a></p>
</details>
</body>
</html>
"""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path
