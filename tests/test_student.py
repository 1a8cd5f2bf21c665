"""The student edition (ganlab.student, ``python -m ganlab student-edition``).

What it must do for the real chapters: take out every solution (the code between the
markers, the {solution} blocks), keep every exercise statement and everything else,
leave book/ as it was, and give notebooks that run up to the first exercise left to
the student. And for made-up notebooks: each rule, each error, each bad argument.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import pathlib
import re

import nbformat
import pytest

from ganlab.cli import main
from ganlab.student import CODE_STUB, student_notebook, write_student_edition

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(p.name for p in BOOK.glob("*.ipynb"))
MARKER = re.compile(r"^\s*#+\s*(BEGIN|END) SOLUTION\s*$")


# --------------------------------------------------------------------------- #
# Helpers, independent of the code under test
# --------------------------------------------------------------------------- #
def _fenced_blocks(markdown: str, name: str) -> list[str]:
    """The ```{name} ... ``` blocks of a markdown text (any fence length, backticks or colons)."""
    lines, blocks, i = markdown.split("\n"), [], 0
    while i < len(lines):
        m = re.match(r"^\s*(`{3,}|:{3,})\{" + re.escape(name) + r"\}", lines[i])
        if not m:
            i += 1
            continue
        fence = m.group(1)
        j = i + 1
        while not re.fullmatch(r"\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*", lines[j]):
            j += 1
        blocks.append("\n".join(lines[i:j + 1]))
        i = j + 1
    return blocks


def _marked_regions(code: str) -> list[list[str]]:
    regions, current = [], None
    for line in code.split("\n"):
        m = MARKER.match(line)
        if m and m.group(1) == "BEGIN":
            current = []
        elif m:
            regions.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return regions


def _solution_lines(nb) -> tuple[set, str]:
    """Distinctive lines of the solutions, and the instructor text outside solutions."""
    solution, outside = [], []
    for cell in nb.cells:
        if cell.cell_type == "code":
            regions = _marked_regions(cell.source)
            solution += [line for region in regions for line in region]
            kept, inside = [], False
            for line in cell.source.split("\n"):
                m = MARKER.match(line)
                if m:
                    inside = m.group(1) == "BEGIN"
                elif not inside:
                    kept.append(line)
            outside.append("\n".join(kept))
        else:
            text = cell.source
            for block in _fenced_blocks(text, "solution"):
                solution += block.split("\n")
                text = text.replace(block, "")
            outside.append(text)
    outside_text = "\n".join(outside)
    lines = {line.strip() for line in solution if len(line.strip()) >= 12}
    return {line for line in lines if line not in outside_text}, outside_text


def _digest(folder) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "_build" not in p.parts}


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """The student edition of the real book/, written once; book/ is fingerprinted around it."""
    out = tmp_path_factory.mktemp("student") / "student"
    before = _digest(BOOK)
    reports = write_student_edition(BOOK, out)
    after = _digest(BOOK)
    return out, {r.name: r for r in reports}, before, after


# --------------------------------------------------------------------------- #
# The real chapters
# --------------------------------------------------------------------------- #
def test_the_instructor_edition_is_unchanged(edition):
    _, _, before, after = edition
    assert before == after


def test_every_notebook_has_a_student_edition(edition):
    out, reports, _, _ = edition
    assert sorted(p.name for p in out.glob("*.ipynb")) == NOTEBOOKS
    assert set(reports) == set(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_no_solution_is_left(edition, name):
    out, reports, _, _ = edition
    teacher = nbformat.read(BOOK / name, 4)
    student = nbformat.read(out / name, 4)
    text = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert "{solution" not in text
    secret, _ = _solution_lines(teacher)
    leaked = sorted(line for line in secret if line in text)
    assert not leaked, f"solution text left in the student edition of {name}: {leaked[:3]}"
    # A code cell that presents itself as a solution must be marked (or it leaks).
    assert not reports[name].warnings, reports[name].warnings
    for i, cell in enumerate(student.cells):
        if cell.cell_type == "code":
            assert not cell.source.lstrip().startswith("# Solution"), f"{name} cell {i} is a solution"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_exercises_and_everything_else_are_kept(edition, name):
    out, reports, _, _ = edition
    teacher = nbformat.read(BOOK / name, 4)
    student = nbformat.read(out / name, 4)
    nbformat.validate(student)
    markdown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    exercises = [b for c in teacher.cells if c.cell_type == "markdown" for b in _fenced_blocks(c.source, "exercise")]
    assert exercises, f"{name} has no exercises"
    for exercise in exercises:
        assert exercise in markdown, f"exercise missing from the student edition of {name}:\n{exercise[:200]}"
    assert student.metadata == teacher.metadata and student.metadata.kernelspec.name == "python3"
    first = [c for c in teacher.cells if c.cell_type == "code"][0]
    assert [c for c in student.cells if c.cell_type == "code"][0] == first  # the Colab install cell
    # Code cells: the same cells in the same order, outputs empty; only stubs differ.
    teacher_code = [c for c in teacher.cells if c.cell_type == "code"]
    student_code = [c for c in student.cells if c.cell_type == "code"]
    assert [c.id for c in student_code] == [c.id for c in teacher_code]
    for t, s in zip(teacher_code, student_code):
        assert s.outputs == [] and s.execution_count is None
        if not _marked_regions(t.source):
            assert s == t
        else:
            assert "# YOUR CODE HERE" in s.source and "raise NotImplementedError()" in s.source
            assert "hide-cell" not in s.metadata.get("tags", [])
    assert reports[name].code_stubs == sum(len(_marked_regions(c.source)) for c in teacher_code)


@pytest.mark.parametrize("name", ["01_counterfeiter_and_police.ipynb", "02_generator_and_discriminator.ipynb",
                                  "03_minimax_objective.ipynb", "05_nash_equilibrium.ipynb"])
def test_chapters_mark_every_code_solution(name):
    """Every hidden 'Solution to ...' code cell has markers, and still runs as it is."""
    nb = nbformat.read(BOOK / name, 4)
    solutions = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# Solution")]
    assert len(solutions) >= 1
    for cell in solutions:
        assert _marked_regions(cell.source), cell.source[:80]
        assert "hide-cell" in cell.metadata.get("tags", [])


def _stub_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and CODE_STUB in
            "\n".join(line.strip() for line in c.source.split("\n"))]


def _run_until_first_error(path: str):
    """Execute the notebook's code cells one by one, in a kernel, until one fails.

    Returns (index of the failing cell, its exception name, what it printed, what each
    stub cell that ran without an error printed), with (None, None, "", ...) when every
    cell ran.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, 4)
    stubs, reports = set(_stub_cells(nb)), {}
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(pathlib.Path(path).parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                printed = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
                return index, error.ename, printed, reports
            if index in stubs:
                reports[index] = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return None, None, "", reports


@pytest.fixture(scope="module")
def runs(edition):
    """Each student notebook that has a stub, run up to its first error: two at a time."""
    out = edition[0]
    paths = [str(out / name) for name in NOTEBOOKS if _stub_cells(nbformat.read(out / name, 4))]
    context = multiprocessing.get_context("spawn")  # no fork after torch has started threads
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        results = pool.map(_run_until_first_error, paths)
        return {pathlib.Path(p).name: result for p, result in zip(paths, results)}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_student_notebook_runs_up_to_the_first_stub(edition, runs, name):
    stubs = _stub_cells(nbformat.read(edition[0] / name, 4))
    if not stubs:
        pytest.skip(f"{name} has no code stub: its code is the instructor's, which nbval runs")
    index, ename, printed, reports = runs[name]
    # A stub that does not stop the notebook must be one a self-check caught and reported
    # (the checks never raise on a wrong answer), so the student sees it: it printed so.
    for cell, report in reports.items():
        assert "NotImplementedError" in report, \
            f"{name}: the stub cell {cell} ran without an error and nothing reported the missing answer"
    if index is None:
        assert reports, f"{name} ran to the end: no stub raised"
        return
    assert index in stubs or reports, f"{name}: cell {index}, not a stub, raised {ename} before the first stub"
    if index not in stubs:
        return  # it failed after a stub its self-check reported: past the first stub
    # The stub raises NotImplementedError; or a self-check caught it, said so, and the
    # cell's `assert check_...(answer)` failed.
    assert ename == "NotImplementedError" or (ename == "AssertionError" and "NotImplementedError" in printed), \
        f"{name}: the stub cell {index} raised {ename}"


# --------------------------------------------------------------------------- #
# The rules, on made-up notebooks
# --------------------------------------------------------------------------- #
def _nb(*cells):
    out = []
    for kind, source, *tags in cells:
        cell = {"cell_type": kind, "id": f"c{len(out)}", "metadata": {"tags": tags[0]} if tags else {},
                "source": source}
        if kind == "code":
            cell.update(outputs=[{"output_type": "stream", "name": "stdout", "text": "hi\n"}], execution_count=3)
        out.append(cell)
    return {"cells": out, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                      "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_code_between_markers_becomes_the_stub_indented_like_the_marker():
    code = ("# Solution to \"Add\" (run it after trying it yourself).\nfrom math import pi\n\n"
            "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b  # secret\n    ### END SOLUTION\n\n"
            "### BEGIN SOLUTION\nanswer = add(1, 2)\n### END SOLUTION\nprint(answer)")
    nb = _nb(("code", code, ["hide-cell", "keep-me"]))
    student, report = student_notebook(nb, "x.ipynb")
    assert student["cells"][0]["source"] == (
        "# Your answer to \"Add\".\nfrom math import pi\n\ndef add(a, b):\n    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n\n# YOUR CODE HERE\nraise NotImplementedError()\nprint(answer)")
    assert student["cells"][0]["metadata"] == {"tags": ["keep-me"]}
    assert student["cells"][0]["outputs"] == [] and student["cells"][0]["execution_count"] is None
    assert report.code_stubs == 2 and not report.warnings
    assert nb["cells"][0]["source"] == code and nb["cells"][0]["outputs"]  # the input is untouched


def test_cells_tagged_solution():
    nb = _nb(("code", "x = 42", ["solution", "hide-cell"]), ("markdown", "The answer is 42.", ["solution"]),
             ("markdown", "Keep me."))
    nb["cells"].append({"cell_type": "code", "id": "g", "metadata": {"nbgrader": {"solution": True}},
                        "source": "y = 1", "outputs": [], "execution_count": None})
    student, report = student_notebook(nb)
    assert [c["source"] for c in student["cells"]] == [CODE_STUB, "Keep me.", CODE_STUB]
    assert "tags" not in student["cells"][0]["metadata"]
    assert report.code_stubs == 2 and report.cells_removed == 1


SOLUTIONS_MD = """## Exercises

```{exercise} One
:label: ex-one

Do one thing.
```

```{solution} ex-one
:class: dropdown

The secret one.
```

````{solution} ex-two
:class: dropdown

The secret two, with code:

```python
print("secret two")
```
````

- a list item

  :::{solution} ex-three
  The secret three.
  :::

```{solution-start} ex-four
:class: dropdown
```
The secret four.
```{solution-end}
```

```markdown
```{solution} shown-as-an-example
```

:::{note}
```{solution} ex-five
The secret five.
```
:::

## Further reading"""


def test_solution_directives_are_removed_whole_and_exercises_kept():
    student, report = student_notebook(_nb(("markdown", SOLUTIONS_MD)))
    text = student["cells"][0]["source"]
    assert "secret" not in text and report.solutions_removed == 5
    assert "```{exercise} One\n:label: ex-one\n\nDo one thing.\n```" in text
    assert "```markdown\n```{solution} shown-as-an-example\n```" in text  # a literal block stays
    assert ":::{note}\n:::" in text and "- a list item" in text and text.endswith("## Further reading")
    assert "\n\n\n" not in text


def test_markdown_markers_and_cells_left_empty():
    nb = _nb(("markdown", "Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
             ("markdown", "```{solution} x\nonly this\n```"), ("markdown", "```{exercise}\nAsk.\n```"))
    student, report = student_notebook(nb)
    assert [c["source"] for c in student["cells"]] == ["Why?\n\nYOUR ANSWER HERE", "```{exercise}\nAsk.\n```"]
    assert report.text_stubs == 1 and report.cells_removed == 1


def test_keep_code_solutions_for_nbgrader():
    code = "x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"
    nb = _nb(("markdown", "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION\n\n```{solution} e\nSecret.\n```"),
             ("code", code, ["hide-cell"]), ("markdown", "gone", ["solution"]))
    nb["cells"].append({"cell_type": "markdown", "id": "g", "metadata": {"nbgrader": {"solution": True}},
                        "source": "An nbgrader answer cell."})
    student, report = student_notebook(nb, clear_code=False)
    assert [c["source"] for c in student["cells"]] == [
        "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", code, "An nbgrader answer cell."]
    assert student["cells"][1]["metadata"] == {"tags": ["hide-cell"]} and student["cells"][1]["outputs"] == []
    assert report.code_stubs == 0 and report.solutions_removed == 1 and report.cells_removed == 1
    with pytest.raises(ValueError, match="never closed"):  # markers are still checked
        student_notebook(_nb(("code", "### BEGIN SOLUTION")), clear_code=False)


def test_an_unmarked_solution_cell_gives_a_warning():
    _, report = student_notebook(_nb(("code", "# Solution to \"X\".\nx = 1")), "n.ipynb")
    assert len(report.warnings) == 1 and "n.ipynb, cell 0" in report.warnings[0]


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1", "line 1: BEGIN SOLUTION is never closed"),
    ("x = 1\n### END SOLUTION", "line 2: END SOLUTION without a BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "line 2: BEGIN SOLUTION inside"),
    ("x = 1  ### BEGIN SOLUTION", "mentions a solution marker but is not one"),
])
def test_misplaced_markers_are_errors(source, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        student_notebook(_nb(("markdown", "ok"), ("code", source)), "bad.ipynb")
    assert "bad.ipynb, cell 1" in str(info.value)


@pytest.mark.parametrize("source, message", [
    ("````{solution} x\nnever closed\n```", "is never closed"),
    ("```{solution-start} x\n```\nno end", "has no {solution-end}"),
    ("```{solution-end}\n```", "without a {solution-start}"),
])
def test_broken_solution_fences_are_errors(source, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        student_notebook(_nb(("markdown", source)))


# --------------------------------------------------------------------------- #
# Files and the command line
# --------------------------------------------------------------------------- #
@pytest.fixture
def tiny_book(tmp_path):
    book = tmp_path / "course" / "book"
    book.mkdir(parents=True)
    nb = _nb(("markdown", "# Title\n\n```{exercise} E\n:label: e\nDo it.\n```\n\n```{solution} e\nSecret.\n```"),
             ("code", "x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"))
    (book / "01_a.ipynb").write_text(json.dumps(nb))
    (book / "sub").mkdir()
    (book / "sub" / "02_b.ipynb").write_text(json.dumps(_nb(("code", "z = 3"))))
    (book / ".ipynb_checkpoints").mkdir()
    (book / ".ipynb_checkpoints" / "01_a-checkpoint.ipynb").write_text(json.dumps(nb))
    (book / "intro.md").write_text("# Intro\n")
    return book


def test_cli_end_to_end(tiny_book, tmp_path, capsys):
    out = tmp_path / "student"
    before = _digest(tiny_book)
    assert main(["student-edition", str(out), "--book", str(tiny_book)]) == 0
    captured = capsys.readouterr()
    assert "01_a.ipynb: 1 code stub, 1 solution removed" in captured.out
    assert f"wrote 2 student notebooks to {out}" in captured.out
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["01_a.ipynb", "sub", "sub/02_b.ipynb"]
    student = nbformat.read(out / "01_a.ipynb", 4)
    nbformat.validate(student)
    assert student.cells[1].source == "x = 1\n" + CODE_STUB and "Secret" not in student.cells[0].source
    assert _digest(tiny_book) == before

    # Again: refused without --force; with it, notebooks are replaced and other files kept.
    (out / "README.md").write_text("students' repository\n")
    (out / "01_a.ipynb").write_text("stale")
    assert main(["student-edition", str(out), "--book", str(tiny_book)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["student-edition", str(out), "--book", str(tiny_book), "--force"]) == 0
    assert (out / "README.md").read_text() == "students' repository\n"
    assert nbformat.read(out / "01_a.ipynb", 4).cells[1].source == "x = 1\n" + CODE_STUB

    # For nbgrader: the prose goes, the marked code stays.
    source = tmp_path / "nbgrader_source"
    assert main(["student-edition", str(source), "--book", str(tiny_book), "--keep-code-solutions"]) == 0
    assert "0 code stubs, 1 solution removed" in capsys.readouterr().out
    kept = nbformat.read(source / "01_a.ipynb", 4)
    assert "### BEGIN SOLUTION\ny = 2" in kept.cells[1].source and "Secret" not in kept.cells[0].source


def test_cli_reports_warnings_on_stderr(tiny_book, tmp_path, capsys):
    (tiny_book / "03_c.ipynb").write_text(json.dumps(_nb(("code", "# Solution to \"C\".\nc = 1"))))
    assert main(["student-edition", str(tmp_path / "s"), "--book", str(tiny_book)]) == 0
    assert "ganlab: warning: 03_c.ipynb, cell 0 starts with" in capsys.readouterr().err


BAD = [
    (["student-edition"], "required: OUT_DIR"),
    (["student-edition", "{book}/student", "--book", "{book}"], "is inside the book folder"),
    (["student-edition", "{book}", "--book", "{book}"], "is inside the book folder"),
    (["student-edition", "{tmp}/course", "--book", "{book}"], "contains the book folder"),
    (["student-edition", "{tmp}/s", "--book", "{tmp}/nope"], "--book"),
    (["student-edition", "{tmp}/s", "--book", "{book}/intro.md"], "is not a directory"),
    (["student-edition", "{tmp}/s", "--book", "{tmp}/empty"], "no notebooks"),
    (["student-edition", "{book}/../file.txt", "--book", "{book}"], "is not a directory"),
    (["student-edition", "{tmp}/full", "--book", "{book}"], "use --force"),
    (["student-edition", "{tmp}/s", "--book", "{book}", "--forse"], "unrecognized arguments"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_arguments_exit_2_with_a_message(argv, message, tiny_book, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    (tiny_book.parent / "file.txt").write_text("x")
    before = _digest(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{book}", str(tiny_book)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert _digest(tmp_path) == before  # nothing written anywhere


def test_a_broken_notebook_stops_everything_before_writing(tiny_book, tmp_path, capsys):
    (tiny_book / "00_bad.ipynb").write_text(json.dumps(_nb(("code", "### BEGIN SOLUTION\nx = 1"))))
    out = tmp_path / "s"
    assert main(["student-edition", str(out), "--book", str(tiny_book)]) == 2
    err = capsys.readouterr().err
    assert "00_bad.ipynb, cell 0, line 1: BEGIN SOLUTION is never closed" in err
    assert not out.exists()
    (tiny_book / "00_bad.ipynb").write_text("{not json")
    assert main(["student-edition", str(out), "--book", str(tiny_book)]) == 2
    assert "is not a notebook" in capsys.readouterr().err and not out.exists()


def test_python_api_validates_force():
    with pytest.raises(TypeError, match="force"):
        write_student_edition(BOOK, "/tmp/never", force="yes")
    with pytest.raises(TypeError, match="clear_code"):
        student_notebook(_nb(), clear_code=None)
    with pytest.raises(TypeError, match="nb must be a notebook"):
        student_notebook([])
