"""Reading a policy file: YAML with line numbers (ruamel.yaml), then pydantic.

A file that fails names ``file:line: field: problem``. The YAML is read in
round-trip mode only to keep each key's line; the tree is then turned into
plain Python values so validation sees exactly what a JSON caller would send.
"""

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from orca.governance._errors import PolicyFileError
from orca.governance._rules import PolicyDoc

# Names pydantic puts in an error's location for union members; they are not keys in the file.
_TYPE_TAGS = frozenset(
    {"int", "float", "str", "bool", "list", "dict", "Predicate", "PayloadPredicate"}
)


class Loaded(NamedTuple):
    """A validated document, where it came from and the sha256 of its exact bytes."""

    doc: PolicyDoc
    source: str
    sha256: str


def read_yaml(data: bytes, source: str) -> Any:
    """The YAML tree (round-trip types, so lines are known); PolicyFileError on bad YAML."""
    yaml = YAML(typ="rt", pure=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyFileError(source, None, None, f"not UTF-8 text ({exc.reason})") from None
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "bad YAML"
        raise PolicyFileError(source, line, None, f"YAML: {problem}") from None
    except YAMLError as exc:
        raise PolicyFileError(source, None, None, f"YAML: {exc}") from None


def plain(node: Any) -> Any:
    """Round-trip YAML nodes as plain dict/list/str/int/float/bool/None."""
    if isinstance(node, Mapping):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def line_of(tree: Any, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node ``loc`` reaches in the round-trip tree."""
    line: int | None = None
    node = tree
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    if line is None and isinstance(tree, CommentedMap | CommentedSeq):
        line = tree.lc.line + 1
    return line


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Pydantic's loc names union members and aliases; keep the parts that are in the file."""
    return tuple(p for p in loc if not (isinstance(p, str) and (p in _TYPE_TAGS or "[" in p)))


def validate_tree(tree: Any, source: str) -> PolicyDoc:
    """A :class:`PolicyDoc` from a YAML tree, or PolicyFileError naming line and field."""
    if tree is None:
        tree = CommentedMap()
    if not isinstance(tree, Mapping):
        raise PolicyFileError(source, line_of(tree, ()), None, "a policy is a mapping of keys")
    rules = tree.get("rules")
    if isinstance(rules, list):
        seen: dict[str, int] = {}
        for i, rule in enumerate(rules):
            name = rule.get("name") if isinstance(rule, Mapping) else None
            if isinstance(name, str) and name in seen:
                raise PolicyFileError(
                    source,
                    line_of(tree, ("rules", i, "name")),
                    f"rules[{i}].name",
                    f"rule name {name!r} is already used by rules[{seen[name]}]; "
                    "names must be unique",
                )
            if isinstance(name, str):
                seen[name] = i
    try:
        return PolicyDoc.model_validate(plain(tree))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = _clean_loc(tuple(err["loc"]))
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check its spelling)"
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise PolicyFileError(source, line_of(tree, loc), _field(loc) or None, message) from None


def parse_policy(data: bytes, source: str = "<policy>") -> Loaded:
    """Parse and validate policy bytes; the sha256 is of the bytes as given."""
    doc = validate_tree(read_yaml(data, source), source)
    return Loaded(doc, source, hashlib.sha256(data).hexdigest())


def load_policy_file(path: str | Path) -> Loaded:
    """Read, parse and validate one policy file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise PolicyFileError(
            str(p), None, None, "no such file; create it or fix the path"
        ) from None
    except OSError as exc:
        raise PolicyFileError(str(p), None, None, f"cannot read: {exc.strerror}") from None
    return parse_policy(data, str(p))
