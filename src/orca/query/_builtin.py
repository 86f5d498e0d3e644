"""The built-in checks: one line per check module, in the order ``orca check`` lists them.

Importing a module registers its checks (the :func:`~orca.query.check`
decorator), so adding a module of checks is adding its line here.
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

for _module in BUILTIN_MODULES:
    importlib.import_module(_module)
