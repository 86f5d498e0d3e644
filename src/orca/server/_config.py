"""What a server is built from: the home, limits, and the values other rooms lend it.

The server may not import the collector room (DESIGN.md), yet ``/readyz``
and ``/metrics`` report on the collector. So whoever builds the app (the
``orca up`` command) passes those figures in as plain callables returning
:class:`HomeGauges` — behaviour handed over as a value, never by import.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

DEFAULT_PORT: Final = 7340  # the port `orca up` listens on unless --port picks another
DEFAULT_HOST: Final = "127.0.0.1"  # loopback: local-first, reachable from outside only by --host
DEFAULT_MAX_BODY: Final = 1 << 20  # 1 MiB: an envelope is small; a bigger body is a mistake
DEFAULT_OTLP_MAX_BODY: Final = 32 << 20  # OTLP batches (512 spans with prompts) are bigger


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """Tokens and cost the store's spans record for one model (all time)."""

    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class HomeGauges:
    """The home's collector, journal and store at one instant (for ``/metrics``, ``/readyz``)."""

    collector_pid: int | None  # None: no collector holds the home's lock
    lag_bytes: int  # journal bytes written but not yet in the store
    lag_seconds: float  # age of the oldest journal bytes not yet in the store (0: none)
    quarantined: int  # lines the collector could not ingest
    writer_drops: int  # records writers reported dropping (full disk, oversize, ...)
    store_bytes: int  # the store file plus its WAL
    traces: int
    spans: int
    ledger_lag_bytes: int = 0
    models: tuple[ModelUsage, ...] = ()


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How to build the app for one home."""

    home: Path
    max_body_bytes: int = DEFAULT_MAX_BODY
    gauges: Callable[[], HomeGauges] | None = None  # None: collector figures are not reported
    orchestrator: Any = None  # an orca.orchestrator.Orchestrator serving this home, or None
    otlp_max_body_bytes: int = DEFAULT_OTLP_MAX_BODY  # POST /v1/traces
    mcp: bool = True  # serve the MCP tools at /mcp
