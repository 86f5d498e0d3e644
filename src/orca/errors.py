"""ORCA's exceptions: one small tree, every message saying what to do.

    OrcaError                      base of everything ORCA raises on purpose
    ├── RecordError                a line or dict that is not a valid record   (orca.records)
    ├── JournalError               journal trouble (only the durable side raises) (orca.journal)
    │   └── DurableWriteError      an fsync'd append did not reach the disk
    ├── PriceTableError            a prices.toml/.json that is not a price table (orca.integrations)
    ├── InstrumentError            a client instrument() cannot wrap   (orca.integrations)
    ├── StoreError                 the store (file or database) cannot be opened or written
    │   └── SchemaError            the file is from a newer ORCA, or not an ORCA store
    ├── CollectorError             the collector cannot run as asked  (orca.collector)
    │   └── CollectorLocked        another collector holds the home's lock
    ├── BlobError                  the blob store cannot do what was asked   (orca.blobs)
    │   ├── BlobNotFoundError      no blob has that address
    │   ├── BlobKeyError           a key file is missing, group/world-readable or malformed
    │   └── BlobIntegrityError     a blob fails a check; .problem names it (truncated, …)
    ├── LedgerError                ledger trouble                      (orca.ledger)
    │   ├── ActionError            an action that cannot be recorded (also a ValueError)
    │   ├── FormatError            a line that is not a well-formed ledger line (also a ValueError)
    │   ├── LedgerLocked           another process holds the ledger open for appending (its pid)
    │   ├── LedgerCorruptError     damage that opening must not paper over; run `orca verify`
    │   └── ProofError             no inclusion/consistency proof can be given as asked
    ├── OrchestratorError          orchestrator trouble, stable ``code``s (orca.orchestrator)
    │   ├── EnvelopeRejected       submit refused (recorded as ``envelope.rejected``)
    │   │   ├── InvalidEnvelope        a field missing or of the wrong type
    │   │   ├── UnsupportedProtocol    a protocol_version this ORCA cannot read
    │   │   ├── RunNotOpen             unknown run, or one already ended
    │   │   ├── EnvelopeExpired        its TTL passed before it arrived
    │   │   ├── IdempotencyConflict    an id reused with other content
    │   │   ├── PolicyDenied           the policy hook said no
    │   │   └── BudgetExceeded         the budget hook could not reserve
    │   ├── InvalidRequest         an argument that cannot be used as given
    │   ├── RunNotFound            no run has that id
    │   ├── RunNotFinished         no final result yet
    │   ├── TaskNotFound           no task has that id
    │   ├── LeaseLost              the task is no longer leased to the caller
    │   ├── TaskFailed             a handler raises it to fail its task
    │   └── OrchestratorClosed     closed, or stopped after a failed ledger write: reopen
    ├── GovernanceError            policy and budget trouble            (orca.governance)
    │   ├── PolicyFileError        a policy/config file that does not parse or validate (file:line)
    │   ├── BudgetError            a budget that is not one (negative limit, unknown key)
    │   ├── PolicyDenied           the policy in force denied the action      (403 policy-denied)
    │   └── BudgetExceeded         the action does not fit in what is left    (429 budget-exceeded)
    ├── ServerError                the server cannot run or answer as asked   (orca.server)
    │   ├── ServerLocked           another `orca up` serves this home (names its pid)
    │   ├── InvalidField           a request field a route cannot use (HTTP 422, names it)
    │   └── NoOrchestrator         a server started without an orchestrator (HTTP 503)
    ├── ApiError                   an HTTP error answer orca.Client has no local class for
    └── UsageError                 a request that cannot be met (unknown id, missing home)
        ├── ConfigError            <home>/config.toml is not TOML, or a table has a bad value
        └── QueryError             a query that cannot be answered as asked   (orca.query)
            ├── UnknownIdError     no trace/span has that id or prefix
            ├── AmbiguousIdError   more than one id starts with that prefix
            └── CheckError         a check that cannot be registered, loaded or run as asked

Rooms define their own subclasses next to their code and list them here. The
traced process never sees these on the hot path: capture counts and drops.
The CLI turns any ``OrcaError`` into one line on stderr and a non-zero exit.

Names: a room's base and a family of failures end in ``Error``
(``LedgerError``, ``BlobKeyError``); a refusal that reports what it found is
named by that state (``CollectorLocked``, ``ServerLocked``, ``LedgerLocked``,
``RunNotFound``, ``BudgetExceeded``). An error with a stable API code names it
in its class line: ``class RunNotFound(OrchestratorError, code="run-not-found")``.
"""

from typing import Any


class OrcaError(Exception):
    """Base of ORCA's own exceptions."""

    def __init_subclass__(cls, *, code: str | None = None, **kwargs: Any) -> None:
        """``code="..."`` in a class line sets the stable code an interface answers with."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code  # type: ignore[attr-defined]  # declared by the rooms that use codes


class UsageError(OrcaError):
    """The request cannot be met as asked: an unknown id, a missing home, a bad option."""


class ConfigError(UsageError):
    """The home config (``<home>/config.toml``) cannot be used: bad TOML or a bad value."""
