"""The built-in checks: one line per check module, in the order ``orca check`` lists them.

Importing a module registers its checks (the :func:`~orca.query.check`
decorator), so adding a module of checks is adding its line here. They are
imported the first time something reads the catalog (``orca check``, the
server's check list), not when ``orca.query`` is imported: ``orca trace
last`` never runs a check and should not pay for the catalog.
"""

import importlib
from typing import Final

BUILTIN_MODULES: Final = (
    "orca.query._checks",  # crashed … slow-span: the first catalog
    "orca.query._checks_tools",  # tool-loop
    "orca.query._checks_provider",  # truncated-output, context-overflow, rate-limited, …
    "orca.query._checks_conversation",  # context-bloat, model-switch, cost-spike
    "orca.query._checks_orchestrated",  # dead-letter … idempotency-conflict: ledger entries
)


def import_builtins() -> None:
    """Import every built-in check module (each registers its checks as it loads)."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def builtin_rank(module: str) -> int:
    """Where a check defined in ``module`` is listed: built-ins in module order, then the rest."""
    try:
        return BUILTIN_MODULES.index(module)
    except ValueError:
        return len(BUILTIN_MODULES)
