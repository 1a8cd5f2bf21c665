"""The student edition of the course: the chapters with their solutions taken out.

    python -m ganlab student-edition OUT_DIR [--book book] [--force]

writes a copy of every notebook under ``book/`` into ``OUT_DIR`` in which

- **code solutions** become a stub. Code between the nbgrader markers ::

      ### BEGIN SOLUTION
      my_count = (100 * 512 + 512) + ...
      ### END SOLUTION

  is replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()``, indented
  like the ``BEGIN`` line; what is outside the markers (an import, the call of a
  self-check) stays. A code cell that is a solution as a whole may instead carry the
  cell tag ``solution`` (or nbgrader's ``"nbgrader": {"solution": true}`` metadata):
  without markers, its whole source becomes the stub. A comment line outside the
  markers that starts with ``Solution`` (the course names the exercise a cell solves
  that way: ``# Solution to "Count the parameters" (run it after trying it yourself).``)
  is renamed ``# Your answer to "Count the parameters".``; the stub cell loses its
  ``hide-cell`` / ``hide-input`` / ``hide-output`` tags, so that it is on show;
- **solution prose** goes: every ``{solution}`` directive of sphinx-exercise
  (```` ```{solution} label ```` ... ```` ``` ````, any number of backticks or colons,
  and the gated ``{solution-start}`` ... ``{solution-end}`` form) is removed whole,
  leaving the ``{exercise}``; text between the markers in a markdown cell becomes
  ``YOUR ANSWER HERE``; a markdown cell tagged ``solution`` is removed;
- everything else is kept as it is: the other cells, their ids and tags, the Colab
  install cell, the notebook's metadata and kernelspec. Outputs are emptied.

The input notebooks are only read. A marker without its partner, or a line that
mentions ``BEGIN SOLUTION`` / ``END SOLUTION`` without being a marker, is an error
that names the notebook, the cell and the line, and nothing is written. A code cell
that *looks* like a solution (its first line is a ``# Solution ...`` comment) but
has no markers and no ``solution`` tag is kept, with a warning: it would show its
solution to the students.

The markers are the ones nbgrader understands, so the same notebooks also work as
nbgrader source notebooks (``nbgrader generate_assignment``). nbgrader does not know
the ``{solution}`` blocks or the ``solution`` tag, though: ``--keep-code-solutions``
(``clear_code=False``) removes only those and keeps what is between the markers, a
source for nbgrader, which replaces the marked regions itself.

Python use::

    from ganlab.student import student_notebook, write_student_edition
    reports = write_student_edition("book", "student", force=False)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
from pathlib import Path

__all__ = [
    "CODE_STUB",
    "TEXT_STUB",
    "StudentReport",
    "find_notebooks",
    "student_notebook",
    "write_student_edition",
]

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
SOLUTION_TAG = "solution"
HIDING_TAGS = ("hide-cell", "hide-input", "hide-output")

# A marker is a line holding only the marker, after comment characters:
# "### BEGIN SOLUTION" (code, markdown), "// BEGIN SOLUTION", "<!-- BEGIN SOLUTION -->".
_MARKER = re.compile(r"^(?P<indent>[ \t]*)(?:#+|//|<!--)[ \t]*(?P<kind>BEGIN|END) SOLUTION[ \t]*(?:-->)?[ \t]*$")
_MENTION = re.compile(r"(?:BEGIN|END) SOLUTION")
# A MyST fence opening a directive: ```{name} args, ::::{name} args (indented in lists).
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|:{3,})(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}")
_SOLUTION_HEADER = re.compile(r"^(?P<lead>[ \t]*#+[ \t]*)Solution\b(?P<rest>.*)$")


@dataclasses.dataclass
class StudentReport:
    """What the student edition of one notebook changed."""

    name: str
    code_stubs: int = 0          # code solution regions (or whole cells) replaced by the stub
    text_stubs: int = 0          # markdown solution regions replaced by YOUR ANSWER HERE
    solutions_removed: int = 0   # {solution} directives removed
    cells_removed: int = 0       # markdown cells removed (tagged solution, or empty once cleared)
    warnings: list = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.code_stubs} code stub{'s' * (self.code_stubs != 1)}",
                 f"{self.solutions_removed} solution{'s' * (self.solutions_removed != 1)} removed"]
        if self.text_stubs:
            parts.append(f"{self.text_stubs} text stub{'s' * (self.text_stubs != 1)}")
        if self.cells_removed:
            parts.append(f"{self.cells_removed} cell{'s' * (self.cells_removed != 1)} removed")
        return f"{self.name}: " + ", ".join(parts)


# --------------------------------------------------------------------------- #
# Pieces of text
# --------------------------------------------------------------------------- #
def _replace_marked_regions(source: str, stub: str, where: str) -> tuple[str, int]:
    """Replace every BEGIN/END SOLUTION region (markers included) by ``stub``.

    Returns the new source and the number of regions. ``where`` names the cell in
    error messages.
    """
    out, regions, begin_line = [], 0, None
    for number, line in enumerate(source.split("\n"), start=1):
        marker = _MARKER.match(line)
        if marker is None:
            if _MENTION.search(line):
                raise ValueError(f"{where}, line {number}: {line.strip()!r} mentions a solution marker but is not "
                                 "one; a marker is a line of its own: ### BEGIN SOLUTION or ### END SOLUTION")
            if begin_line is None:
                out.append(line)
            continue
        if marker["kind"] == "BEGIN":
            if begin_line is not None:
                raise ValueError(f"{where}, line {number}: BEGIN SOLUTION inside the region begun on line "
                                 f"{begin_line} (close it with ### END SOLUTION first)")
            begin_line = number
            out.extend(marker["indent"] + stub_line for stub_line in stub.split("\n"))
            regions += 1
        else:
            if begin_line is None:
                raise ValueError(f"{where}, line {number}: END SOLUTION without a BEGIN SOLUTION before it")
            begin_line = None
    if begin_line is not None:
        raise ValueError(f"{where}, line {begin_line}: BEGIN SOLUTION is never closed by ### END SOLUTION")
    return "\n".join(out), regions


def _closes(line: str, char: str, length: int) -> bool:
    stripped = line.strip()
    return len(stripped) >= length and set(stripped) == {char}


def _remove_solution_directives(text: str, where: str) -> tuple[str, int]:
    """Remove every ``{solution}`` directive (and ``{solution-start}`` ... ``{solution-end}``).

    The bodies of other directives (an ``{exercise}``, a ``{dropdown}``) are scanned
    too; literal code blocks (a fence whose info string is not ``{directive}``) are
    copied untouched, so a directive *shown* as an example stays.
    """
    lines = text.split("\n")
    out, removed, open_directives, i = [], 0, [], 0
    while i < len(lines):
        line = lines[i]
        if open_directives and _closes(line, *open_directives[-1]):
            open_directives.pop()
            out.append(line)
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence is None:
            out.append(line)
            i += 1
            continue
        char, length = fence["fence"][0], len(fence["fence"])
        directive = _DIRECTIVE.match(fence["info"].strip())
        name = directive["name"] if directive else None
        end = _fence_end(lines, i, char, length)
        if end is None:
            raise ValueError(f"{where}, line {i + 1}: the fence {line.strip()!r} is never closed")
        if name in ("solution", "solution-start"):
            if name == "solution-start":
                end = _gated_end(lines, end + 1, where, i + 1)
            removed += 1
            i = end + 1
        elif name == "solution-end":
            raise ValueError(f"{where}, line {i + 1}: {{solution-end}} without a {{solution-start}} before it")
        elif name is None:
            out.extend(lines[i:end + 1])  # a literal block: copied untouched
            i = end + 1
        else:
            open_directives.append((char, length))  # another directive: its body is scanned
            out.append(line)
            i += 1
    return "\n".join(out), removed


def _fence_end(lines: list, start: int, char: str, length: int):
    """Index of the line closing the fence opened at ``start``, or None.

    As in CommonMark (and MyST), the closing fence is the first line of the same
    character, at least as long, with nothing else on it: a directive that holds a
    ```` ```python ```` block is opened with four backticks.
    """
    for i in range(start + 1, len(lines)):
        if _closes(lines[i], char, length):
            return i
    return None


def _gated_end(lines: list, start: int, where: str, opened: int) -> int:
    """Index of the last line of the ``{solution-end}`` directive after ``start``."""
    i = start
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence is not None and fence["info"].strip().startswith("{solution-end}"):
            end = _fence_end(lines, i, fence["fence"][0], len(fence["fence"]))
            if end is None:
                raise ValueError(f"{where}, line {i + 1}: the {{solution-end}} fence is never closed")
            return end
        i += 1
    raise ValueError(f"{where}, line {opened}: {{solution-start}} has no {{solution-end}} after it")


def _tidy_markdown(text: str) -> str:
    """No runs of blank lines where something was cut out; no blank ends."""
    text = re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text)
    return text.strip("\n")


def _rename_solution_comment(line: str) -> str:
    """``# Solution to "X" (run it after trying it yourself).`` -> ``# Your answer to "X".``"""
    match = _SOLUTION_HEADER.match(line)
    if match is None:
        return line
    rest = re.sub(r"[ \t]*\([^()]*\)(?=\.?[ \t]*$)", "", match["rest"])
    return match["lead"] + "Your answer" + rest


# --------------------------------------------------------------------------- #
# Notebooks
# --------------------------------------------------------------------------- #
def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: dict) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def _set_tags(cell: dict, tags: list) -> None:
    metadata = cell.setdefault("metadata", {})
    if tags:
        metadata["tags"] = tags
    else:
        metadata.pop("tags", None)


def _is_solution_cell(cell: dict) -> bool:
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    return SOLUTION_TAG in _tags(cell) or bool(isinstance(nbgrader, dict) and nbgrader.get("solution"))


def _student_code_cell(cell: dict, where: str, report: StudentReport, clear_code: bool) -> None:
    source = _source(cell)
    new, regions = _replace_marked_regions(source, CODE_STUB, where)  # also checks the markers
    if regions == 0 and _is_solution_cell(cell):
        new, regions = CODE_STUB, 1
    if regions == 0:
        first = next((line.strip() for line in source.split("\n") if line.strip()), "")
        if _SOLUTION_HEADER.match(first):
            report.warnings.append(
                f"{where} starts with {first[:60]!r} but has no ### BEGIN SOLUTION / ### END SOLUTION markers "
                f"and no {SOLUTION_TAG!r} tag: it is kept whole, solution included")
    if clear_code and regions:
        new = "\n".join(_rename_solution_comment(line) for line in new.split("\n"))
        _set_tags(cell, [t for t in _tags(cell) if t not in HIDING_TAGS + (SOLUTION_TAG,)])
        report.code_stubs += regions
        cell["source"] = new
    cell["outputs"] = []
    cell["execution_count"] = None


def _student_markdown_cell(cell: dict, where: str, report: StudentReport, clear_code: bool) -> bool:
    """Clear the solutions of a markdown cell; False when the cell is to be dropped.

    With ``clear_code=False`` (a source for nbgrader) what nbgrader handles itself
    stays: text between markers, and cells that are nbgrader solution cells.
    """
    if SOLUTION_TAG in _tags(cell) or (clear_code and _is_solution_cell(cell)):
        report.cells_removed += 1
        return False
    source = _source(cell)
    new, regions = _replace_marked_regions(source, TEXT_STUB, where)  # also checks the markers
    if not clear_code:
        new, regions = source, 0
    new, removed = _remove_solution_directives(new, where)
    report.text_stubs += regions
    report.solutions_removed += removed
    if regions or removed:
        new = _tidy_markdown(new)
        if not new.strip():
            report.cells_removed += 1
            return False
        cell["source"] = new
    return True


def student_notebook(nb: dict, name: str = "notebook", clear_code: bool = True) -> tuple[dict, StudentReport]:
    """The student edition of one notebook (a dict as ``json.load`` or nbformat reads it).

    Returns a new notebook and a :class:`StudentReport`; ``nb`` is not modified.
    ``clear_code=False`` keeps the code solutions and their markers (for nbgrader)
    and removes only the solution prose.
    Raises ValueError naming ``name``, the cell and the line for a misplaced marker
    or an unclosed fence.
    """
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be a notebook (a dict with a 'cells' list), got {type(nb).__name__}")
    if not isinstance(clear_code, bool):
        raise TypeError(f"clear_code must be True or False, got {clear_code!r}")
    student = copy.deepcopy(dict(nb))
    student.get("metadata", {}).pop("widgets", None)  # widget state belongs to outputs
    report = StudentReport(name=name)
    cells = []
    for index, cell in enumerate(student["cells"]):
        where = f"{name}, cell {index}"
        if cell.get("cell_type") == "code":
            _student_code_cell(cell, where, report, clear_code)
        elif cell.get("cell_type") == "markdown":
            if not _student_markdown_cell(cell, where, report, clear_code):
                continue
        cells.append(cell)
    student["cells"] = cells
    return student, report


# --------------------------------------------------------------------------- #
# Files
# --------------------------------------------------------------------------- #
def find_notebooks(book_dir) -> list[Path]:
    """The notebooks under ``book_dir`` (recursively), skipping hidden folders and ``_build``."""
    book = Path(book_dir)
    found = []
    for path in sorted(book.rglob("*.ipynb")):
        parts = path.relative_to(book).parts
        if any(part.startswith(".") or part == "_build" for part in parts):
            continue
        found.append(path)
    return found


def _read_notebook(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not a notebook (invalid JSON: {err})") from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} is not a version-4 Jupyter notebook")
    return nb


def _dumps(nb: dict) -> str:
    """Serialise like nbformat.write: one-space indent, sorted keys, sources as lines."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        source = _source(cell)
        cell["source"] = source.splitlines(keepends=True)
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False, separators=(",", ": ")) + "\n"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_paths(book: Path, out: Path, force: bool) -> None:
    if not book.exists():
        raise FileNotFoundError(f"book folder {str(book)!r} not found (run from the course's root folder, or "
                                "pass the folder of the chapter notebooks)")
    if not book.is_dir():
        raise NotADirectoryError(f"book folder {str(book)!r} is not a directory")
    book_real, out_real = book.resolve(), out.resolve()
    if _inside(out_real, book_real):
        raise ValueError(f"the output folder {str(out)!r} is inside the book folder {str(book)!r}: write the "
                         "student edition outside it (e.g. ../student), or it would be mixed with the chapters")
    if _inside(book_real, out_real):
        raise ValueError(f"the output folder {str(out)!r} contains the book folder {str(book)!r}: write the "
                         "student edition to a folder of its own (e.g. ../student)")
    if out.exists() and not out.is_dir():
        raise ValueError(f"the output folder {str(out)!r} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"the output folder {str(out)!r} exists and is not empty; use --force to write into it "
                         "(notebooks of the same name are replaced, other files such as .git are kept)")


def write_student_edition(book_dir="book", out_dir="student", force: bool = False,
                          clear_code: bool = True) -> list[StudentReport]:
    """Write the student edition of every notebook under ``book_dir`` into ``out_dir``.

    Paths under ``book_dir`` are kept (``book/01_x.ipynb`` -> ``out_dir/01_x.ipynb``).
    ``out_dir`` must be outside ``book_dir`` (and not contain it); an existing,
    non-empty ``out_dir`` needs ``force=True``, and then only the notebooks written
    are replaced. Every notebook is converted before any file is written, so an
    error leaves ``out_dir`` as it was. ``clear_code=False``: see :func:`student_notebook`.
    Returns one :class:`StudentReport` per notebook.
    """
    if not isinstance(force, bool):
        raise TypeError(f"force must be True or False, got {force!r}")
    book, out = Path(os.fspath(book_dir)), Path(os.fspath(out_dir))
    _check_paths(book, out, force)
    paths = find_notebooks(book)
    if not paths:
        raise ValueError(f"no notebooks (.ipynb) found under the book folder {str(book)!r}")
    converted = []
    for path in paths:
        relative = path.relative_to(book)
        student, report = student_notebook(_read_notebook(path), name=relative.as_posix(), clear_code=clear_code)
        converted.append((out / relative, _dumps(student), report))
    for target, text, _ in converted:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    return [report for _, _, report in converted]
