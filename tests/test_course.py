"""The course (issue 16): the student edition's blanks and the registered checks. The whole runs
(every check right on the trainer's model answer, wrong on the student's blank) and make
course's slides are tested on the sample's two runs in tests/test_notebooks.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dbmarketing import course
from dbmarketing.course import build

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


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
