"""The run's ``index.html``: its notebooks with links to their pages and the sections they
skipped, the lists it exported and the clearance they were written at, its parameters and
its database."""

from __future__ import annotations

import html
import json
from pathlib import Path

from dbmarketing.privacy import SCHEDULED_CLEARANCE

def _clearance_of(manifest: dict):
    """The clearance the run's notebooks were given (the scheduled one unless the file set it)."""
    given = {e["parameters"].get("clearance") for e in manifest["notebooks"] if "clearance" in e.get("parameters", {})}
    return ", ".join(str(c) for c in sorted(given)) or SCHEDULED_CLEARANCE


def write_index(path: str | Path, manifest: dict) -> Path:
    """Write ``index.html``: run name, date, parameters and one line per notebook."""
    esc = html.escape
    params = manifest.get("parameters") or {}
    param_rows = "\n".join(
        f"<tr><td><code>{esc(name)}</code></td>"
        f"<td>{esc(value if isinstance(value, str) else json.dumps(value, default=str))}</td></tr>"
        for name, value in params.items()
    ) or '<tr><td colspan="2">(none: every notebook used its defaults)</td></tr>'
    nb_rows = []
    for i, entry in enumerate(manifest["notebooks"], 1):
        if entry.get("status") == "ok":
            links = (f'<a href="{esc(entry["html"])}">report</a> &middot; '
                     f'<a href="{esc(entry["code_html"])}">with code</a>')
        else:
            links = ""
        seconds = entry.get("seconds")
        skipped = "".join(f"<li><b>{esc(s['section'])}</b>: {esc(s['reason'].split('.** ', 1)[-1].removeprefix('Skipped: ' + s['section'] + '. '))}</li>"
                          for s in entry.get("skipped") or [])
        skipped = f'<ul class="skipped">{skipped}</ul>' if skipped else ""
        nb_rows.append(
            f"<tr><td>{i}</td><td>{esc(entry.get('title') or entry['name'])}<br>"
            f"<small>{esc(entry['name'])}</small>{skipped}</td><td>{links}</td>"
            f"<td class=\"num\">{'' if seconds is None else f'{seconds:.1f}'}</td>"
            f"<td>{esc(entry.get('status', ''))}</td></tr>"
        )
    for entry in manifest.get("notebooks_left_out") or []:
        nb_rows.append(f"<tr><td></td><td>{esc(entry['name'])}<br><small>{esc(entry['reason'])}</small></td>"
                       "<td></td><td></td><td>not run</td></tr>")
    exported = manifest.get("exports") or []
    exports_part = ""
    if exported:
        items = "".join(f'<li><a href="{esc(name)}">{esc(name.split("/", 1)[-1])}</a></li>' for name in exported)
        exports_part = (f"<h2>Lists</h2>\n<p class=\"meta\">Written by this run at clearance "
                        f"{esc(str(_clearance_of(manifest)))}: only the columns that clearance allows, masked "
                        f"or left out.</p>\n<ul>{items}</ul>")
    database = manifest.get("database") or {}
    db_line = ""
    if database:
        db_line = (f"<p>Database: <code>{esc(str(database.get('path')))}</code>"
                   + (f" &middot; fingerprint <code>{esc(database['fingerprint'])}</code>"
                      if database.get("fingerprint") else "") + "</p>")
    body = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reports: {esc(manifest['run_name'])}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 56em;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
h2 {{ font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }}
.meta {{ color: #666; margin-top: 0; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #eee; vertical-align: top; }}
th {{ background: #f6f6f6; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
small {{ color: #888; }}
a {{ color: #0b5cad; }}
ul.skipped {{ margin: 0.4em 0 0 1.1em; padding: 0; font-size: 0.88em; color: #555; }}
</style>
</head>
<body>
<h1>Reports: {esc(manifest['run_name'])}</h1>
<p class="meta">Started {esc(manifest['started'])} &middot; finished {esc(manifest.get('finished') or '')}
&middot; parameters from <code>{esc(str(manifest['params_file']))}</code></p>
<h2>Notebooks</h2>
<p class="meta">Sections a notebook skipped are listed under it, with what they would need.</p>
<table>
<tr><th>#</th><th>Notebook</th><th>Read</th><th class="num">Seconds</th><th>Status</th></tr>
{chr(10).join(nb_rows)}
</table>
{exports_part}
<h2>Parameters</h2>
<table>
<tr><th>Name</th><th>Value</th></tr>
{param_rows}
</table>
{db_line}
<p><small>Details (parameters per notebook, versions): <a href="manifest.json">manifest.json</a></small></p>
</body>
</html>
"""
    path = Path(path)
    path.write_text(body, encoding="utf-8")
    return path
