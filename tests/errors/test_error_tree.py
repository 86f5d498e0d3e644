"""The exception tree drawn in orca.errors' docstring is the real class hierarchy."""

import importlib

import orca.errors

ROOMS = (
    "orca.errors",
    "orca.records",
    "orca.journal",
    "orca.integrations",
    "orca.integrations.openai",
    "orca.store",
    "orca.blobs",
    "orca.collector",
    "orca.ledger",
    "orca.query",
    "orca.orchestrator",
    "orca.server",
    "orca.governance",
)


def _classes() -> dict[str, set[type]]:
    """Exported error classes by name (a name may exist in two rooms, e.g. BudgetExceeded)."""
    found: dict[str, set[type]] = {}
    for room in ROOMS:
        module = importlib.import_module(room)
        for name in dir(module):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, orca.errors.OrcaError):
                found.setdefault(name, set()).add(value)
    return found


def test_docstring_tree_matches_the_classes() -> None:
    """Every class in the drawing exists, and its drawn parent is its real base."""
    classes = _classes()
    stack: list[tuple[int, str]] = []
    drawn = []
    for line in (orca.errors.__doc__ or "").splitlines():
        stripped = line.lstrip(" │├└─")
        name = stripped.split()[0] if stripped else ""
        if not name.isidentifier() or not (name in classes or name.endswith(("Error", "Locked"))):
            continue
        depth = len(line) - len(stripped)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parent = stack[-1][1]
            assert name in classes, f"{name} is drawn but not exported by any room"
            assert any(issubclass(c, p) for c in classes[name] for p in classes[parent]), (
                f"{name} is not a {parent}"
            )
        stack.append((depth, name))
        drawn.append(name)
    assert drawn[0] == "OrcaError"
    missing = sorted(set(classes) - set(drawn))
    assert missing == [], f"exported but not drawn: {missing}"


def test_orchestrator_codes_drawn_are_the_class_codes() -> None:
    """The code column of the orchestrator's error drawing is each class's real ``code``."""
    import orca.orchestrator._errors as errors

    drawn = {}
    for line in (errors.__doc__ or "").splitlines():
        words = line.lstrip(" │├└─").split()
        if len(words) >= 2 and hasattr(errors, words[0]) and "-" in words[-1]:
            drawn[words[0]] = words[-1]
    assert len(drawn) >= 12
    assert {name: getattr(errors, name).code for name in drawn} == drawn
