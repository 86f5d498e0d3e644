"""The ledger: the durable, hash-chained, signed causal chain of governed actions.

``Ledger.open(home).append(action)`` returns once the entry is fsync'd;
concurrent appenders share fsyncs (group commit) and each batch is signed
once (Ed25519). Entries are leaves of an RFC 9162 Merkle tree with signed
checkpoints, so one entry can be proven without the whole log. Payloads are
committed by hash, so ``forget`` can erase one while everything verifies.
Sinks see entries after they are durable; working memory
(:mod:`orca.ledger.memory`) is one. ``read_entries`` is the tailing API
(the collector's): whole signed batches from a byte offset; ``erased_ids``
tells a tailing mirror which of them ``forget`` erased since. Verification
reports :class:`Problem` rows whose ``kind`` is one of ``PROBLEM_KINDS``.

Files under ``<home>/ledger/``: ``ledger.ndjson`` (entries, batch signatures,
checkpoints), ``checkpoints.ndjson`` (the checkpoint log), ``keys/``,
``sinks/<name>.cursor``, ``memory.ndjson``, ``lock``.
"""

from orca.ledger import merkle
from orca.ledger._errors import (
    ActionError,
    LedgerCorruptError,
    LedgerError,
    LedgerLocked,
    ProofError,
)
from orca.ledger._forget import erased_ids
from orca.ledger._format import Action, BatchSig, Checkpoint, Entry, FormatError
from orca.ledger._keys import TrustedKeys
from orca.ledger._ledger import DEFAULT_CHECKPOINT_EVERY, AppendTicket, Ledger
from orca.ledger._proofs import (
    ConsistencyProof,
    InclusionProof,
    prove_consistency,
    prove_inclusion,
)
from orca.ledger._read import (
    ReadResult,
    ledger_path,
    read_checkpoints,
    read_entries,
)
from orca.ledger._replay import inspect_line, parse_since, select, to_trace
from orca.ledger._report import KINDS as PROBLEM_KINDS
from orca.ledger._report import Problem, Report
from orca.ledger._sinks import LedgerSink, SinkStats
from orca.ledger._verify import verify


def __getattr__(name: str) -> object:
    """``LedgerLockedError``, the old name of :class:`LedgerLocked`, still resolves (warning)."""
    if name == "LedgerLockedError":
        import warnings

        warnings.warn(
            "orca.ledger.LedgerLockedError is now orca.ledger.LedgerLocked; use the new name",
            DeprecationWarning,
            stacklevel=2,
        )
        return LedgerLocked
    raise AttributeError(f"module 'orca.ledger' has no attribute {name!r}")


__all__ = [
    "DEFAULT_CHECKPOINT_EVERY",
    "PROBLEM_KINDS",
    "Action",
    "ActionError",
    "AppendTicket",
    "BatchSig",
    "Checkpoint",
    "ConsistencyProof",
    "Entry",
    "FormatError",
    "InclusionProof",
    "Ledger",
    "LedgerCorruptError",
    "LedgerError",
    "LedgerLocked",
    "LedgerSink",
    "Problem",
    "ProofError",
    "ReadResult",
    "Report",
    "SinkStats",
    "TrustedKeys",
    "erased_ids",
    "inspect_line",
    "ledger_path",
    "merkle",
    "parse_since",
    "prove_consistency",
    "prove_inclusion",
    "read_checkpoints",
    "read_entries",
    "select",
    "to_trace",
    "verify",
]
