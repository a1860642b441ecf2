"""The course (issue 16): the student edition's blanks, every check right on the trainer's model
answer and wrong on the student's blank (the whole notebooks run), and make course's slides,
which render in headless Chromium with the network cut off."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dbmarketing import course, reports
from dbmarketing.course import build

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_a_blank_keeps_the_comments_and_sets_each_assigned_name_to_none():
    answer = ("# Exercise 04.2: your answer\n"
              "top = scores.nlargest(5, 'monetary')  # the five biggest spenders\n"
              "answer_04_2, share = len(top), top.monetary.sum() / scores.monetary.sum()\n"
              "answer_04_2 += 0\n")
    assert course.blank(answer) == ("# Exercise 04.2: your answer\n"
                                    "top = None\nanswer_04_2 = None\nshare = None")
    with pytest.raises(ValueError, match="must assign"):
        course.blank("# nothing assigned\nprint(1)")


def _tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def test_the_student_edition_blanks_code_answers_drops_written_ones_and_keeps_the_checks():
    nb = new_notebook(cells=[
        new_markdown_cell("# 99 · A chapter"),
        _tagged(new_code_cell('db_path = "data/crm.duckdb"'), "parameters"),
        _tagged(new_markdown_cell("### Exercise 99.1 — the answer is 42"), "course"),
        _tagged(new_code_cell("# Exercise 99.1: your answer\nanswer_99_1 = 6 * 7", outputs=[], execution_count=3),
                "course", "answer"),
        _tagged(new_code_cell('course.check("99.1", answer_99_1)'), "course"),
        _tagged(new_markdown_cell("#### Model answers\n1. Forty-two."), "course", "answer"),
        new_code_cell("con.close()"),
    ])
    pupil = course.student(nb)
    assert [c.source for c in pupil.cells] == [
        "# 99 · A chapter", 'db_path = "data/crm.duckdb"', "### Exercise 99.1 — the answer is 42",
        "# Exercise 99.1: your answer\nanswer_99_1 = None", 'course.check("99.1", answer_99_1)', "con.close()"]
    assert pupil.cells[3].execution_count is None
    assert nb.cells[3].source.endswith("6 * 7")  # the trainer's notebook is untouched
    assert [c.source for c in course.without_course(nb).cells] == [
        "# 99 · A chapter", 'db_path = "data/crm.duckdb"', "con.close()"]
    classroom = build.with_defaults(nb, {"db_path": "data/classroom.duckdb", "lang": "zh", "as_of": "2026-10-31"})
    assert classroom.cells[1].source == 'db_path = "data/classroom.duckdb"'


def test_a_verdict_on_no_answer_or_an_unreadable_one_is_not_right(monkeypatch):
    monkeypatch.setitem(course.EXERCISES, "99.1", lambda answer: course.Verdict(float(answer) == 42, "forty-two"))
    assert course.verdict("99.1", 42).passed
    assert not course.verdict("99.1", 41).passed
    blank = course.verdict("99.1", None)
    assert not blank.passed and "no answer yet" in blank.why
    unreadable = course.verdict("99.1", "forty-two")
    assert not unreadable.passed and "cannot read" in unreadable.why
    with pytest.raises(KeyError, match="no exercise"):
        course.verdict("98.7", 1)


def test_every_check_in_the_notebooks_is_registered_and_every_chapter_has_exercises():
    from dbmarketing.course import exercises  # noqa: F401

    for lang_dir in (ROOT / "notebooks", ROOT / "notebooks" / "zh"):
        for path in sorted(lang_dir.glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            checked = [c.source.split('"')[1] for c in nb.cells
                       if c.cell_type == "code" and "course.check(" in c.source]
            assert len(checked) >= 2, f"{path}: {len(checked)} exercises"
            assert all(e in course.EXERCISES and e.startswith(path.name[:2] + ".") for e in checked), (path, checked)
            answers = [c for c in nb.cells if "answer" in course.tags(c) and c.cell_type == "code"]
            assert len(answers) == len(checked), path
            assert all("course" in course.tags(c) for c in answers)


@pytest.fixture(scope="module")
def course_runs(small_sample, tmp_path_factory):
    """The trainer edition in Chinese and the student edition in English, each run with its
    course cells on its own copy of the small sample (the same code cells in both editions)."""
    out = tmp_path_factory.mktemp("course")
    student_dir = out / "student_notebooks"
    student_dir.mkdir()
    for path in NOTEBOOKS:
        nbformat.write(course.student(nbformat.read(path, as_version=4)), student_dir / path.name)
    runs = {}
    for name, lang, notebooks in (("trainer", "zh", ROOT / "notebooks"), ("student", "en", student_dir)):
        db = out / f"{name}.duckdb"
        shutil.copy(small_sample["db_path"], db)
        params = yaml.safe_load((ROOT / "params/classroom.yaml").read_text(encoding="utf-8"))
        params.update(db_path=str(db), sources=str(small_sample["sources"]), lang=lang,
                      campaign_file=str(small_sample["campaign_file"]))
        declared = {n for nb in NOTEBOOKS for n in reports.declared_parameters(nb)}
        params.update({n: str(out / name / n) for n in sorted(declared) if n.endswith("_dir") and n != "export_dir"})
        pfile = out / f"{name}.yaml"
        pfile.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
        runs[name] = reports.run_reports(pfile, f"course-{name}", notebooks_dir=notebooks, reports_dir=out,
                                         progress=False, course=True)
    return runs


def _checks(folder: Path) -> dict[str, dict[str, bool]]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {e["name"]: course.checks_in(nbformat.read(folder / e["executed"], as_version=4))
            for e in manifest["notebooks"]}


def test_every_check_passes_on_the_model_answer_and_fails_on_the_students_blank(course_runs):
    trainer, pupil = _checks(course_runs["trainer"]), _checks(course_runs["student"])
    assert list(trainer) == [p.stem for p in NOTEBOOKS]
    for chapter, verdicts in trainer.items():
        assert len(verdicts) >= 2, chapter
        assert all(verdicts.values()), f"{chapter}: a model answer fails its check: {verdicts}"
        assert pupil[chapter] == {k: False for k in verdicts}, chapter


def test_a_report_leaves_the_course_cells_out(course_runs, tmp_path):
    executed = nbformat.read(course_runs["trainer"] / NOTEBOOKS[3].name, as_version=4)
    assert any("course" in course.tags(c) for c in executed.cells)
    assert not any("course" in course.tags(c) for c in course.without_course(executed).cells)
    assert not (course_runs["trainer"] / ".sources").exists()


def test_make_course_writes_both_notebooks_and_slides_that_render_with_the_network_cut_off(course_runs, tmp_path):
    out = build.build(tmp_path / "course", {"zh": course_runs["trainer"]})
    for path in NOTEBOOKS:
        trainer = nbformat.read(out / "zh" / "trainer" / path.name, as_version=4)
        pupil = nbformat.read(out / "zh" / "student" / path.name, as_version=4)
        answers = [c.source for c in trainer.cells if "answer" in course.tags(c) and c.cell_type == "code"]
        assert answers and [course.blank(a) for a in answers] == [
            c.source for c in pupil.cells if "answer" in course.tags(c)]
        ran_on = json.loads((course_runs["trainer"] / "manifest.json").read_text(encoding="utf-8"))["parameters"]
        assert f'db_path = "{ran_on["db_path"]}"' in trainer.cells[1].source  # the classroom run's database
        assert trainer.cells[1].source == pupil.cells[1].source
        page = (out / "zh" / "slides" / f"{path.stem}.slides.html").read_text(encoding="utf-8")
        assert build.remote_resources(page) == [] and 'src="../../vendor/' in page
    assert build.remote_resources('<script src="https://unpkg.com/x.js"></script><link href="http://a/b.css">') == [
        "https://unpkg.com/x.js", "http://a/b.css"]
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine to render the slides in (make course checks the links only)")
    page = out / "zh" / "slides" / f"{NOTEBOOKS[3].stem}.slides.html"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=8000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    reveal = re.search(r'<div class="reveal ([^"]*)"', dom)  # reveal.js marks its slides ready once it ran
    assert reveal and "ready" in reveal.group(1).split(), dom[:300]
    assert dom.count("<section") > 10  # the slides are there, not a blank page
