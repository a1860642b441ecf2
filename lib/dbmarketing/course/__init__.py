"""The course: the notebooks read as chapters of a course, in a trainer and a student edition.

One source: the numbered notebooks (``notebooks/``, ``notebooks/zh/``) hold the course cells
too, tagged ``course`` (learning goals and key terms at the top, the methods by hand, the
self-check and the exercises at the end). A report run leaves them out (:func:`without_course`),
so reports read as before; ``make course`` builds the editions (:mod:`.build`):

- the **trainer edition** is the notebook as it is, model answers shown;
- the **student edition** has every cell tagged ``answer`` blanked: a code cell keeps its
  comment lines and sets each name it assigns to ``None`` (:func:`blank`), a markdown cell
  (a model answer in words) is removed. The checks stay.

An exercise is three cells: the question (markdown), the answer (code, tagged ``course`` and
``answer``, assigning the names the check reads) and the check, a call of :func:`check` with
the exercise's id (``"04.1"``: chapter 04, exercise 1). The check functions live in
:mod:`.exercises`, one module per chapter; each works out the right answer from the data
itself and compares, so a check passes on the model answer and fails on the blank (a test
runs both editions). A check shows its verdict in the reader's language and records it as an
output of its own MIME type (``application/vnd.dbmarketing.check+json``) for the tests.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Callable

from dbmarketing.present import words

MIME = "application/vnd.dbmarketing.check+json"
COURSE, ANSWER = "course", "answer"


@dataclass(frozen=True)
class Verdict:
    """A check's verdict: right or not, and why (in the reader's language)."""

    passed: bool
    why: str


EXERCISES: dict[str, Callable[..., Verdict]] = {}


def exercise(exercise_id: str):
    """Register the check of exercise ``exercise_id`` ("04.1")."""
    def register(function):
        if exercise_id in EXERCISES:
            raise ValueError(f"exercise {exercise_id} is checked twice")
        EXERCISES[exercise_id] = function
        return function
    return register


def verdict(exercise_id: str, answer, **context) -> Verdict:
    """The verdict on ``answer`` to exercise ``exercise_id``; ``context`` is what the check
    needs from the notebook (the connection, the as-of date, a table the chapter made). An
    answer the check cannot read (None, the wrong kind of value) is not right, and says why."""
    from . import exercises  # noqa: F401  (registers the checks)

    if exercise_id not in EXERCISES:
        raise KeyError(f"no exercise {exercise_id!r}; the course has {', '.join(sorted(EXERCISES))}")
    if answer is None:
        return Verdict(False, words.text("course.no_answer"))
    try:
        return EXERCISES[exercise_id](answer, **context)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        # a student's answer of another shape than asked: said, not raised, so the notebook runs on
        return Verdict(False, words.text("course.unreadable", kind=type(answer).__name__, error=str(exc)[:200]))


def check(exercise_id: str, answer, **context) -> None:
    """Check ``answer`` to exercise ``exercise_id`` and show the verdict (returns nothing, so a
    check cell shows the verdict only; :func:`verdict` is the same without showing it)."""
    from IPython.display import display

    result = verdict(exercise_id, answer, **context)
    head = words.text("course.right" if result.passed else "course.not_yet", exercise=exercise_id)
    display({"text/markdown": f"{head} {result.why}",
             MIME: {"exercise": exercise_id, "passed": result.passed}}, raw=True)


def blank(source: str) -> str:
    """A model answer as the student edition shows it: its comment lines, then each name it
    assigns at the top level set to ``None`` (in the order first assigned)."""
    names = []
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id not in names:
                    names.append(name.id)
    if not names:
        raise ValueError("a model answer must assign the name(s) its check reads:\n" + source)
    comments = [line for line in source.splitlines() if line.lstrip().startswith("#")]
    return "\n".join(comments + [f"{name} = None" for name in names])


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def without_course(nb):
    """The notebook ``nb`` (nbformat) without its course cells: what a report runs."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if COURSE not in tags(c)]
    return nb


def student(nb):
    """The student edition of the notebook ``nb``: answers blanked (code) or removed (words),
    outputs cleared."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if ANSWER in tags(cell):
            if cell.cell_type != "code":
                continue
            cell.source = blank(cell.source)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def checks_in(nb) -> dict[str, bool]:
    """The verdicts an executed notebook recorded: exercise id -> passed."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {}).get(MIME)
            if data:
                found[data["exercise"]] = data["passed"]
    return found
