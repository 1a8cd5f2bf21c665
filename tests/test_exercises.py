"""The exercises of the book, checked as a set.

Every numbered chapter in ``_toc.yml`` (a notebook ``book/NN_name.ipynb``, including
chapters added later) must have: at least three ``{exercise}`` directives, each with a
stable label ``chN-ex-...`` and exactly one ``{solution}`` (a dropdown) in the same
notebook; check-your-understanding questions with hidden answers (dropdowns). Labels
are unique book-wide, every self-check an exercise names exists in ``ganlab``, and the
six interview questions of the course are each asked, and answered, somewhere.
"""

from __future__ import annotations

import importlib
import pathlib
import pkgutil
import re

import nbformat
import pytest
import yaml

import ganlab

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
OPEN = re.compile(r"^\s*(`{3,}|:{3,})\{(exercise|solution|dropdown)\}\s*(.*?)\s*$")

# The interview questions (issue: "Exercises across the book"), as patterns on the
# titles of check-your-understanding dropdowns.
INTERVIEW_QUESTIONS = {
    "What is the role of the generator?": r"role of the generator",
    "How does the discriminator function?": r"how does the discriminator (function|work)",
    "Why are the two trained simultaneously?": r"why are the two\b.*\btrained\b",
    "What is mode collapse and how do you detect it?": r"what is mode collapse\b.*\bdetect",
    "Why does the non-saturating loss help?": r"why does the non-saturating loss help",
    "What does D = 1/2 everywhere mean?": r"d(\(x\))?\s*=\s*1/2\s+(everywhere|for every x)\b.*\bmean",
}
MIN_ANSWER_WORDS = 30


def _numbered_chapters() -> list[pathlib.Path]:
    """The notebooks of _toc.yml whose name starts with a chapter number."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    paths = [ROOT / f"{f}.ipynb" for f in files if re.match(r"book/\d+_", f)]
    return [p for p in paths if p.exists()]


CHAPTERS = _numbered_chapters()


def _directives(markdown: str) -> list[dict]:
    """The {exercise}, {solution} and {dropdown} blocks of a markdown text.

    Each is a dict: kind, argument (the title, or the solution's exercise label), the
    options (``:label:``, ``:class:``) and the body. A block closes at a line of the
    same fence character, at least as long as the opening fence (MyST's rule), so the
    shorter code fences inside an exercise do not close it.
    """
    lines, found, i = markdown.split("\n"), [], 0
    while i < len(lines):
        m = OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, kind, argument = m.groups()
        close = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        assert j < len(lines), f"unclosed {{{kind}}} block: {lines[i]!r}"
        body, options = lines[i + 1:j], {}
        while body and re.match(r"^:\w+:", body[0]):
            key, _, value = body.pop(0)[1:].partition(":")
            options[key] = value.strip()
        found.append({"kind": kind, "argument": argument, "options": options, "body": "\n".join(body)})
        i = j + 1
    return found


def _markdown(path: pathlib.Path) -> str:
    nb = nbformat.read(path, 4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _chapter_number(path: pathlib.Path) -> int:
    return int(re.match(r"(\d+)_", path.name).group(1))


def _all_check_functions() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(ganlab.__path__, "ganlab."):
        if info.name.startswith("ganlab.viz"):
            continue
        module = importlib.import_module(info.name)
        names |= {n for n in dir(module) if n.startswith("check_") and callable(getattr(module, n))}
    return names


def test_the_numbered_chapters_are_found():
    assert len(CHAPTERS) >= 6, CHAPTERS
    assert any(p.name.startswith("01_") for p in CHAPTERS)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_three_labelled_exercises_each_with_a_dropdown_solution(path):
    blocks = _directives(_markdown(path))
    exercises = [b for b in blocks if b["kind"] == "exercise"]
    solutions = [b for b in blocks if b["kind"] == "solution"]
    assert len(exercises) >= 3, f"{path.name} has {len(exercises)} exercises; every chapter needs at least 3"
    prefix = f"ch{_chapter_number(path)}-ex-"
    labels = [e["options"].get("label", "") for e in exercises]
    for exercise, label in zip(exercises, labels):
        assert label, f"{path.name}: the exercise {exercise['argument']!r} has no :label:"
        assert re.fullmatch(re.escape(prefix) + r"[a-z0-9-]+", label), \
            f"{path.name}: label {label!r} should be stable and read {prefix}<name>"
        assert exercise["argument"], f"{path.name}: exercise {label} has no title"
        assert len(exercise["body"].split()) >= 15, f"{path.name}: exercise {label} has almost no statement"
    answered = [s["argument"] for s in solutions]
    for label in labels:
        assert answered.count(label) == 1, \
            f"{path.name}: exercise {label} has {answered.count(label)} {{solution}} blocks, needs exactly 1"
    for solution in solutions:
        assert solution["argument"] in labels, \
            f"{path.name}: {{solution}} {solution['argument']} answers no exercise of this chapter"
        assert solution["options"].get("class") == "dropdown", \
            f"{path.name}: the solution of {solution['argument']} must be a dropdown (:class: dropdown)"
        assert len(solution["body"].split()) >= 15, f"{path.name}: the solution of {solution['argument']} is empty"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_check_your_understanding_has_hidden_answers(path):
    text = _markdown(path)
    assert re.search(r"^##\s+Check your understanding\s*$", text, re.M), \
        f"{path.name} has no '## Check your understanding' section"
    questions = [b for b in _directives(text) if b["kind"] == "dropdown"]
    assert len(questions) >= 3, f"{path.name}: {len(questions)} check-your-understanding questions, want >= 3"
    for q in questions:
        assert q["argument"], f"{path.name}: a dropdown without a question"
        assert len(q["body"].split()) >= 10, f"{path.name}: the answer to {q['argument']!r} is almost empty"


def test_exercise_labels_are_unique_book_wide():
    seen: dict[str, str] = {}
    sources = [(p.name, _markdown(p)) for p in sorted(BOOK.glob("*.ipynb"))]
    sources += [(p.name, p.read_text()) for p in sorted(BOOK.glob("*.md"))]
    for name, text in sources:
        for block in _directives(text):
            label = block["options"].get("label")
            if label:
                assert label not in seen, f"label {label} is used in {seen[label]} and in {name}"
                seen[label] = name
    assert len(seen) >= 3 * len(CHAPTERS)


def test_every_self_check_an_exercise_names_exists():
    known = _all_check_functions()
    named = 0
    for path in CHAPTERS:
        for block in _directives(_markdown(path)):
            if block["kind"] != "exercise":
                continue
            for name in set(re.findall(r"\b(check_\w+)\(", block["body"])):
                named += 1
                assert name in known, f"{path.name}: exercise {block['options'].get('label')} names {name}, " \
                                      "which no ganlab module defines"
    assert named >= len(CHAPTERS)


def test_the_interview_questions_are_asked_and_answered():
    questions = [(p.name, b) for p in CHAPTERS for b in _directives(_markdown(p)) if b["kind"] == "dropdown"]
    for question, pattern in INTERVIEW_QUESTIONS.items():
        hits = [(name, b) for name, b in questions if re.search(pattern, b["argument"], re.I)]
        assert hits, f"no chapter asks {question!r} in its check-your-understanding questions"
        best = max(len(b["body"].split()) for _, b in hits)
        assert best >= MIN_ANSWER_WORDS, f"{question!r} is answered in only {best} words"


def test_the_directive_parser_on_a_made_up_chapter():
    text = "\n".join([
        "````{exercise} Write it", ":label: ch3-ex-write", "", "Do it:", "```python", "x = 1", "```", "````",
        "```{solution} ch3-ex-write", ":class: dropdown", "", "Like so.", "```",
        "```{dropdown} 1. Why?", "Because.", "```",
    ])
    blocks = _directives(text)
    assert [b["kind"] for b in blocks] == ["exercise", "solution", "dropdown"]
    assert blocks[0]["options"] == {"label": "ch3-ex-write"} and "x = 1" in blocks[0]["body"]
    assert blocks[1]["argument"] == "ch3-ex-write" and blocks[1]["options"]["class"] == "dropdown"
    assert blocks[2]["argument"] == "1. Why?" and blocks[2]["body"] == "Because."
    with pytest.raises(AssertionError, match="unclosed"):
        _directives("```{dropdown} Never closed\ntext")
