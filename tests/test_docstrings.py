"""Every test says what it proves: a docstring whose first line is a sentence, not filler.

A reader scanning a failure (or the suite) learns what broke from that line
without reading the body, so a test without one is a defect this file
catches. Filler that names the function again ("Test foo.") does not count.
"""

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
MIN_WORDS = 4  # "The numbers docs/checks.md promises." is about the shortest that says something
FILLER = re.compile(r"^tests?\b", re.IGNORECASE)  # "Test the parser." says what is run, not proven


def _test_functions(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Test functions pytest collects from a file: ``test*`` at module level or in a class."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _problem(doc: str | None, name: str = "test_x") -> str | None:
    """Why a docstring does not say what its test proves, or None when it does."""
    if not doc:
        return "no docstring"
    first = doc.strip().splitlines()[0].strip()
    if len(first.split()) < MIN_WORDS:
        return f"first line too short to say what it proves: {first!r}"
    if FILLER.match(first) and len(first.split()) < 2 * MIN_WORDS:
        return f"first line is filler: {first!r}"
    if [w for w in _words(first) if w != "test"] == [w for w in _words(name) if w != "test"]:
        return f"first line only repeats the name: {first!r}"
    return None


FILES = sorted(TESTS.rglob("test_*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(TESTS)))
def test_every_test_has_a_docstring_saying_what_it_proves(path: Path) -> None:
    """Each test function in the file opens with a docstring sentence of its own."""
    bad = [
        f"{path.relative_to(TESTS)}:{node.lineno} {node.name}: {problem}"
        for node in _test_functions(path)
        if (problem := _problem(ast.get_docstring(node), node.name)) is not None
    ]
    assert not bad, "add a one-line docstring saying what the test proves:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("doc", "ok"),
    [
        (None, False),
        ("", False),
        ("Test foo.", False),
        ("Tests the parser with input.", False),
        ("Works.", False),
        ("Torn tail reads as EOF.", False),  # the name, said again
        ("A torn tail reads as end-of-file, not an error.", True),
        ("Verifies nothing is lost when the collector is SIGKILLed mid-batch.", True),
        ("Check names are unique across plugins.", True),
        ("The numbers docs/checks.md promises.", True),
    ],
)
def test_the_checker_tells_filler_from_a_claim(doc: str | None, ok: bool) -> None:
    """The rule rejects missing, too-short, "Test foo." and name-echo docstrings, not claims."""
    assert (_problem(doc, "test_torn_tail_reads_as_eof") is None) is ok


def test_the_checker_finds_the_test_files() -> None:
    """The walk sees this suite's files (rooms' folders included), so it cannot pass on none."""
    assert Path(__file__) in FILES
    assert any(p.parent != TESTS for p in FILES)
    assert len(FILES) > 20
