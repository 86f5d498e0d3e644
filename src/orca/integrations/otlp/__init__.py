"""OTLP interop: OpenTelemetry trace requests in (to the journal) and out (to any backend).

``decode`` + ``to_records`` turn an OTLP/HTTP or gRPC export request into ORCA
records (the server appends them to a journal segment before acknowledging);
``to_request`` turns stored spans into one OTLP request. The GenAI and
OpenInference conventions map to ORCA's span kinds both ways (``_names``).
Loads the OpenTelemetry protobuf messages: never imported by ``import orca``.
"""

from orca.integrations.otlp._export import to_request
from orca.integrations.otlp._exporter import Cursor, Exporter, ExportError, traces_url
from orca.integrations.otlp._ingest import Mapped, OtlpError, decode, to_records

__all__ = [
    "Cursor",
    "ExportError",
    "Exporter",
    "Mapped",
    "OtlpError",
    "decode",
    "to_records",
    "to_request",
    "traces_url",
]
