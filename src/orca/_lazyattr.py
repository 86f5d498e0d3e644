"""Package attributes imported on first use (PEP 562), for a package whose names cost imports.

``import orca`` is paid by every traced process and by every ``orca`` command
(the CLI is a submodule of the package), and ``orca.query`` by every query
command; a name imported eagerly costs its whole room even when the caller
never touches it. A package lists its public names by the module that defines
them; the first lookup imports that module and caches the value on the
package, so later lookups are plain attribute reads.
"""

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import Any


def lazy_attrs(
    package: str, rooms: Mapping[str, Sequence[str]], namespace: dict[str, Any]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose ``rooms`` map module → names."""
    where = {name: module for module, names in rooms.items() for name in names}

    def getattr_(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        """``__all__``, the lazy names and the private ones; not typing helpers (``Final``)."""
        own = {name for name in namespace if name.startswith("_")}
        return sorted({*own, *namespace.get("__all__", ()), *where})

    return getattr_, dir_
