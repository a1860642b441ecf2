"""``make course``: the trainer and student notebooks and the slides of every chapter, in every edition.

The classroom run comes first (``make classroom-run``): the report runner with the course cells
(``dbmarketing report --course``) on the classroom sample, one run per language. From it and
from the notebooks this module writes, under ``reports/course/``::

    index.html                      what is where, for the trainer
    vendor/                         reveal.js, RequireJS, jQuery and MathJax from the npm registry
    <lang>/trainer/NN_name.ipynb    the chapter as it is: model answers shown
    <lang>/student/NN_name.ipynb    answers blanked (code) or removed (words), checks kept
    <lang>/slides/NN_name.slides.html   the lecture: prose and results of the classroom run, no code

Both notebooks open on the classroom database (their parameters' defaults say so). The slides
load nothing from the network: nbconvert's reveal.js template points at CDNs, so the scripts
are fetched from the npm registry at build time (each tarball checked against its published
sha512) and the slides point at the local copies.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import tarfile
import urllib.request
from pathlib import Path

import nbformat

from dbmarketing.messages import log

from . import ANSWER, COURSE, checks_in, student, tags

# npm package -> (version, sha512 integrity as the registry publishes it, the files kept)
VENDOR = {
    "reveal.js": ("4.0.2", "sha512-LWZSUenufF1gpD7npxJ7KfoQQFKgc1D6XrLTFgKlwWNP1BQ74hT48KONFWMAw+8R/QUeaScCLCLrBVHDfFIEiw==",
                  ("dist/", "plugin/notes/")),
    "requirejs": ("2.3.7", "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
                  ("require.js",)),
    "jquery": ("3.7.1", "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
               ("dist/jquery.min.js",)),
    # MathJax 2 (the template's configuration is MathJax 2's): the TeX input and the CommonHTML
    # output with their TeX web fonts, not the other outputs and font sets
    "mathjax": ("2.7.9", "sha512-NOGEDTIM9+MrsqnjPEjVGNx4q0GQxqm61yQwSK+/5S59i26wId5IC5gNu9/bu8+CCVl5p9G2IHcAl/wJa+5+BQ==",
                ("MathJax.js", "config/", "extensions/", "jax/input/TeX/", "jax/output/CommonHTML/", "jax/element/",
                 "localization/en/", "fonts/HTML-CSS/TeX/woff/")),
}
REGISTRY = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
CACHE = Path(os.environ.get("DBMARKETING_NPM_CACHE", Path.home() / ".cache" / "dbmarketing" / "npm"))
# where the slides find them, from <lang>/slides/
SCRIPTS = {"reveal_url_prefix": "../../vendor/reveal.js", "require_js_url": "../../vendor/requirejs/require.js",
           "jquery_url": "../../vendor/jquery/dist/jquery.min.js",
           "mathjax_url": "../../vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"}
# nbconvert's template imports mermaid (diagrams, which no chapter draws) from a CDN as a module
MERMAID = re.compile(r'<script type="module">\s*import mermaid from [^<]*</script>', re.S)


class CourseError(RuntimeError):
    """The course cannot be built: a classroom run missing or with a failed check, a package not fetched."""


def tarball(name: str) -> bytes:
    """The npm tarball of ``name`` at its pinned version, from the cache or the registry,
    checked against its sha512."""
    version, integrity, _ = VENDOR[name]
    cached = CACHE / f"{name}-{version}.tgz"
    if cached.exists():
        data = cached.read_bytes()
    else:
        url = f"{REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz"
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                data = response.read()
        except OSError as exc:
            raise CourseError(f"could not fetch {name} {version} from {url}: {exc} (set NPM_REGISTRY to a mirror "
                              "of the npm registry)") from None
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != integrity:
        raise CourseError(f"{name} {version}: the tarball's sha512 is not the one the registry published "
                          f"({digest[:20]}... instead of {integrity[:20]}...)")
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
    return data


def vendor(folder: Path) -> Path:
    """The slides' scripts in ``folder`` (one subfolder per package); kept when already there."""
    for name, (version, _, keep) in VENDOR.items():
        target = folder / name
        stamp = target / ".version"
        if stamp.exists() and stamp.read_text() == version:
            continue
        with tarfile.open(fileobj=io.BytesIO(tarball(name)), mode="r:gz") as tar:
            members = []
            for m in tar.getmembers():
                inner = m.name.split("/", 1)[1] if "/" in m.name else ""
                if m.isfile() and inner.startswith(keep):
                    m.name = inner
                    members.append(m)
            tar.extractall(target, members=members, filter="data")
        stamp.write_text(version)
    return folder


def with_defaults(nb, params: dict):
    """``nb`` with its parameters cell's defaults set to ``params``' values (the names it declares
    with a quoted default: the classroom database, its sources)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in tags(cell):
            for name, value in params.items():
                if isinstance(value, str) and name != "lang":
                    cell.source = re.sub(rf'^({re.escape(name)}\s*=\s*)"[^"\n]*"', lambda m: f'{m[1]}{json.dumps(value)}',
                                         cell.source, flags=re.M)
    return nb


def _slide_type(cell) -> str:
    """Which slide a cell of the executed trainer notebook goes on: headings start slides, the
    rest of the prose and the results follow them, code and answers stay out."""
    if ANSWER in tags(cell) or "parameters" in tags(cell) or "injected-parameters" in tags(cell):
        return "skip"
    if cell.cell_type == "markdown":
        first = cell.source.lstrip().split("\n", 1)[0]
        return "slide" if re.match(r"#{1,2} ", first) else "subslide" if first.startswith("### ") else "-"
    if cell.cell_type == "code" and COURSE in tags(cell) and "course.check(" in cell.source:
        return "skip"  # a check says right or wrong about an answer the slides do not show
    outputs = [o for o in cell.get("outputs", []) if o.get("output_type") in ("display_data", "execute_result", "stream")]
    if not outputs:
        return "skip"
    return "subslide" if any("image/png" in o.get("data", {}) for o in outputs) else "-"


def slides(executed: Path, out: Path, lang: str) -> Path:
    """The reveal.js slides of the executed notebook ``executed``, written to ``out``."""
    from nbconvert.exporters import SlidesExporter

    nb = nbformat.read(executed, as_version=4)
    nb.metadata.pop("widgets", None)  # no widget manager offline: a widget shows its text form
    for cell in nb.cells:
        if cell.cell_type == "code":  # the workbook's own records (headline figures, checks) are for its tools
            for shown in cell.outputs:
                for kind in [k for k in shown.get("data", {}) if k.startswith("application/vnd.dbmarketing")]:
                    del shown["data"][kind]
            cell.outputs = [o for o in cell.outputs if "data" not in o or o["data"]]
        cell.metadata.setdefault("slideshow", {})["slide_type"] = _slide_type(cell)
    exporter = SlidesExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                              reveal_scroll=True, reveal_theme="simple", **SCRIPTS)
    body, _ = exporter.from_notebook_node(nb, resources={"language_code": "zh-Hans" if lang == "zh" else "en"})
    body = MERMAID.sub("", body)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def remote_resources(page: str) -> list[str]:
    """The scripts, styles, images and modules a page would load from the network."""
    found = re.findall(r'<(?:script|img|iframe)\b[^>]*\bsrc="(https?:[^"]+)"', page)
    found += re.findall(r'<link\b[^>]*\bhref="(https?:[^"]+)"', page)
    found += re.findall(r'\bimport\b[^;\n]*?from\s+[\'"](https?:[^\'"]+)', page)
    found += re.findall(r'@import\s+(?:url\()?[\'"]?(https?:[^\'")]+)', page)
    return found


def classroom_run(run: Path) -> tuple[dict, list[Path]]:
    """The manifest and executed notebooks of a classroom run; refuses a run without the course
    cells or with a check that says an answer is wrong (the trainer's model answers must pass)."""
    manifest_file = run / "manifest.json"
    if not manifest_file.exists():
        raise CourseError(f"{run}: no classroom run here (make classroom-run writes it)")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    if not manifest.get("course"):
        raise CourseError(f"{run}: this run left the course cells out (run the report with --course)")
    executed, wrong = [], []
    for entry in manifest["notebooks"]:
        path = run / entry["executed"]
        executed.append(path)
        wrong += [f"{entry['name']} exercise {k}" for k, ok in checks_in(nbformat.read(path, as_version=4)).items()
                  if not ok]
    if wrong:
        raise CourseError(f"{run}: a model answer fails its check: {', '.join(wrong)}")
    return manifest, executed


def build(out: str | Path, runs: dict[str, str | Path], notebooks_dir: str | Path = "notebooks") -> Path:
    """Write the course to ``out`` from the classroom runs ``runs`` (language -> run folder)."""
    from dbmarketing.reports.editions import edition_dir
    from dbmarketing.reports.parameters import find_notebooks, load_params

    import shutil

    final = Path(out)
    out = final.with_name(f".{final.name}.partial")  # nothing half-written where the trainer looks
    if out.exists():
        shutil.rmtree(out)
    vendor(out / "vendor")
    rows = []
    for lang, run in runs.items():
        manifest, executed = classroom_run(Path(run))
        params = load_params(manifest["params_path"])
        for source, done in zip(find_notebooks(edition_dir(notebooks_dir, lang)), executed):
            if source.name != done.name:
                raise CourseError(f"{run}: ran {done.name} where the notebooks have {source.name}: run it again")
            trainer = with_defaults(nbformat.read(source, as_version=4), params)
            for edition, nb in (("trainer", trainer), ("student", student(trainer))):
                path = out / lang / edition / source.name
                path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, path)
            page = slides(done, out / lang / "slides" / f"{source.stem}.slides.html", lang)
            left = remote_resources(page.read_text(encoding="utf-8"))
            if left:
                raise CourseError(f"{page}: would load {left[0]} from the network")
            exercises = checks_in(nbformat.read(done, as_version=4))
            rows.append((lang, source.stem, len(exercises)))
        log(f"course ({lang}): {len(executed)} chapters from {run}")
    _index(out, rows)
    if final.exists():
        shutil.rmtree(final)
    out.rename(final)
    return final


def _index(out: Path, rows: list[tuple[str, str, int]]) -> None:
    lines = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>dbmarketing course</title>",
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 12px;text-align:left}</style></head><body>",
             "<h1>dbmarketing course / 课程</h1>",
             "<p>Trainer notebooks show the model answers; student notebooks have them blanked, the checks kept. "
             "Both open on the classroom database (make classroom). 教师版含参考答案；学生版答案留空，保留自动检查。</p>",
             "<table><tr><th>lang</th><th>chapter</th><th>exercises</th><th>trainer</th><th>student</th><th>slides</th></tr>"]
    for lang, stem, n in rows:
        lines.append(f"<tr><td>{lang}</td><td>{stem}</td><td>{n}</td>"
                     f"<td><a href='{lang}/trainer/{stem}.ipynb'>notebook</a></td>"
                     f"<td><a href='{lang}/student/{stem}.ipynb'>notebook</a></td>"
                     f"<td><a href='{lang}/slides/{stem}.slides.html'>slides</a></td></tr>")
    lines.append("</table></body></html>")
    (out / "index.html").write_text("\n".join(lines), encoding="utf-8")
