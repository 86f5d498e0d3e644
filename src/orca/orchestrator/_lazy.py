"""A map whose values may stay as read from a snapshot until someone asks for them.

Restart time is what a snapshot is for, and most of a big snapshot is
finished tasks nobody will touch again: building a dataclass (or even the
dicts) for each of a hundred thousand of them would cost more than reading
the file. So a snapshot stores each finished task and idempotency row as its
own JSON text, a value here stays that ``str`` (or a plain ``dict``) until it
is first read, and :func:`as_json` hands the stored text back to ``orjson``
as a ``Fragment``, so serialising gives the same JSON either way.
"""

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

import orjson

V = TypeVar("V")
D = TypeVar("D")


class LazyMap(dict[str, Any], Generic[V]):
    """``dict[str, V]`` where a value may be a raw ``dict`` built into a ``V`` when read."""

    __slots__ = ("_build",)

    def __init__(self, build: Callable[[dict[str, Any]], V]) -> None:
        super().__init__()
        self._build = build

    def __getitem__(self, key: str) -> V:
        value = dict.__getitem__(self, key)
        kind = type(value)
        if kind is str:
            value = self._build(orjson.loads(value))
            dict.__setitem__(self, key, value)
        elif kind is dict:
            value = self._build(value)
            dict.__setitem__(self, key, value)
        return value  # type: ignore[no-any-return]

    @overload
    def get(self, key: str, default: None = None, /) -> V | None: ...

    @overload
    def get(self, key: str, default: D, /) -> V | D: ...

    def get(self, key: str, default: Any = None, /) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def raw(self, key: str) -> Any:
        """The stored value, built or not (for cheap looks at a field)."""
        return dict.__getitem__(self, key)


def as_json(m: "LazyMap[Any]") -> dict[str, Any]:
    """The map for ``orjson.dumps``: stored JSON texts embedded as they are."""
    return {k: orjson.Fragment(v) if type(v) is str else v for k, v in dict.items(m)}
