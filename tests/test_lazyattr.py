"""Packages whose names load on first use: every public name resolves, to what mypy was told."""

import ast
import importlib
import inspect
import subprocess
import sys

import pytest

LAZY_PACKAGES = ("orca", "orca.query", "orca.blobs")


def _type_checking_imports(package: str) -> dict[str, str]:
    """The names the package's ``if TYPE_CHECKING:`` block imports, by module."""
    tree = ast.parse(inspect.getsource(importlib.import_module(package)))
    [block] = [
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    ]
    return {
        alias.name: node.module or ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_table_matches_the_typed_imports(package: str) -> None:
    """The runtime table and the TYPE_CHECKING imports: same names, from the same modules."""
    module = importlib.import_module(package)
    table = {name: room for room, names in module._LAZY.items() for name in names}
    assert table == _type_checking_imports(package)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_and_is_listed(package: str) -> None:
    """Each name in __all__ is reachable, and dir() lists the lazy ones before their first use."""
    module = importlib.import_module(package)
    assert {n for names in module._LAZY.values() for n in names} <= set(dir(module))
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        module.nope  # noqa: B018


def test_import_orca_defers_the_capture_room() -> None:
    """``import orca`` loads no capture module; the first ``orca.Recorder`` does, once."""
    code = (
        "import sys, orca\n"
        "before = 'orca.capture' in sys.modules\n"
        "first = orca.Recorder\n"
        "after = 'orca.capture' in sys.modules\n"
        "print(before, after, orca.Recorder is first, 'Recorder' in dir(orca))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True", "True"]
