"""Every room's public surface is its ``__all__``: names that exist, are public and documented.

One parametrised test per room (each package under ``src/orca`` plus ``orca``
itself, and any public module that declares ``__all__``), discovered from the
source tree so a new room is checked without editing this file. Documented
means: a class, function or module carries its own docstring (not the
``Name(field, ...)`` signature that NamedTuple and dataclass make up); a
constant or type alias has a comment or docstring at its definition, or is
named in the docstring of the room or of the module defining it.
"""

import ast
import importlib
import inspect
import io
import pkgutil
import tokenize
import types
from functools import cache
from pathlib import Path

import pytest

import orca

SRC = Path(orca.__file__).parent
# Names a package namespace holds without exporting them: compile-time helpers.
NOT_EXPORTS = {"annotations", "TYPE_CHECKING"}
# Values of these types are constants a room defines (they carry no ``__module__`` of their own).
CONSTANT_TYPES = (bool, int, float, str, bytes, tuple, frozenset, dict, list)


def _public_modules() -> list[str]:
    """orca, every room package, and every public module that declares ``__all__``."""
    names = ["orca"]
    for info in pkgutil.walk_packages([str(SRC)], prefix="orca."):
        parts = info.name.split(".")[1:]
        if any(p.startswith("_") for p in parts):
            continue
        if info.ispkg:
            names.append(info.name)
            continue
        path = SRC.joinpath(*parts).with_suffix(".py")
        if "__all__" in path.read_text(encoding="utf-8"):
            names.append(info.name)
    return names


MODULES = _public_modules()


@cache
def _definition_notes() -> dict[str, list[tuple[str, bool]]]:
    """For each module-level name assigned anywhere in src/orca: what may document it.

    Each note is (text, whether the text must name it): the comments on or just
    above the assignment and the string just below it (an attribute docstring)
    document it outright; the defining module's docstring only if it names it.
    """
    notes: dict[str, list[tuple[str, bool]]] = {}
    for path in SRC.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        comments: dict[int, str] = {}
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string
        module_doc = ast.get_docstring(tree) or ""
        for i, node in enumerate(tree.body):
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            else:
                continue
            end = node.end_lineno or node.lineno
            text = [comments.get(n, "") for n in range(node.lineno - 1, end + 1)]
            after = tree.body[i + 1] if i + 1 < len(tree.body) else None
            if (
                isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                text.append(after.value.value)
            for name in targets:
                found = [(t, False) for t in text if t.strip("# \n")]
                notes.setdefault(name, []).extend([*found, (module_doc, True)])
    return notes


def _own_doc(obj: object) -> str:
    """The docstring an object defines itself (not inherited, not a generated signature)."""
    doc = vars(obj).get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    name = getattr(obj, "__name__", "")
    if name and doc.startswith(f"{name}("):  # NamedTuple/dataclass signature, not prose
        return ""
    return doc.strip()


def _documented(module: types.ModuleType, name: str) -> bool:
    if name.startswith("__"):  # __version__ and kin: the language documents them
        return True
    obj = getattr(module, name)
    if isinstance(getattr(obj, "help", None), str) and obj.help.strip():  # a click command
        return True
    if isinstance(obj, (type, types.ModuleType)) or inspect.isroutine(obj):
        return bool(_own_doc(obj))
    if name in (module.__doc__ or ""):
        return True
    notes = _definition_notes().get(name, [])
    return any(not must_name or name in text for text, must_name in notes)


def _orca_names(package: types.ModuleType) -> set[str]:
    """Public names in a package's namespace that ORCA defines (typing imports don't count)."""
    names = set()
    for name, value in vars(package).items():
        if name.startswith("_") or name in NOT_EXPORTS or isinstance(value, types.ModuleType):
            continue
        owner = getattr(value, "__module__", None) or ""
        if isinstance(value, CONSTANT_TYPES) or owner.split(".")[0] == "orca":
            names.add(name)
    return names


@pytest.mark.parametrize("module_name", MODULES)
def test_all_is_the_documented_public_surface(module_name: str) -> None:
    """__all__ names exist once each, are public and documented; no public name is left out."""
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{module_name} has no __all__ list"
    assert len(exported) == len(set(exported)), f"{module_name}.__all__ repeats a name"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{module_name}.__all__ names what it does not define: {missing}"
    private = [n for n in exported if n.startswith("_") and n != "__version__"]
    assert not private, f"{module_name}.__all__ exports private names: {private}"
    if hasattr(module, "__path__"):  # a room package: its namespace is its surface
        unlisted = sorted(_orca_names(module) - set(exported))
        assert not unlisted, f"{module_name} has public names missing from __all__: {unlisted}"
    undocumented = sorted(n for n in exported if not _documented(module, n))
    assert not undocumented, (
        f"{module_name}.__all__ names without a docstring or comment: {undocumented}"
    )


def test_every_room_is_checked() -> None:
    """Discovery finds each room directory under src/orca, so none escapes the check above."""
    rooms = {p.parent.name for p in SRC.glob("*/__init__.py") if not p.parent.name.startswith("_")}
    assert rooms, "no room packages found"
    assert {f"orca.{r}" for r in rooms} <= set(MODULES)
